#define BOOST_TEST_MODULE test_store
#include "engine/store/group_commit_queue.h"

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/wait_for.h"

using cpis::test::waitFor;

namespace {

using Queue = cpis::store::GroupCommitQueue<int, int>;

// A runner that doubles each request and records every batch; it can be held inside a batch
// (as if that commit were slow) until the test lets it go.
class RecordingRunner {
 public:
  Queue::Runner runner() {
    return [this](const std::vector<const int*>& batch) {
      std::vector<int> replies;
      std::vector<int> contents;
      for (const int* request : batch) {
        if (*request < 0) throw std::runtime_error("refused");
        replies.push_back(*request * 2);
        contents.push_back(*request);
      }
      {
        const std::lock_guard lock(mutex_);
        sizes_.push_back(batch.size());
        batches_.push_back(std::move(contents));
      }
      if (holdNext_.exchange(false)) {
        entered_.set_value();
        release_.get_future().wait();
      }
      return replies;
    };
  }
  // The next batch waits inside the runner until release().
  void holdNextBatch() { holdNext_ = true; }
  void waitUntilHeld() { entered_.get_future().wait(); }
  void release() { release_.set_value(); }
  std::vector<std::size_t> sizes() {
    const std::lock_guard lock(mutex_);
    return sizes_;
  }
  std::vector<std::vector<int>> batches() {
    const std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  std::atomic<bool> holdNext_{false};
  std::promise<void> entered_;
  std::promise<void> release_;
  std::mutex mutex_;
  std::vector<std::size_t> sizes_;
  std::vector<std::vector<int>> batches_;
};

// Submits from its own thread and keeps the reply for the test thread to check (Boost.Test
// assertions are not thread-safe).
class Caller {
 public:
  Caller(Queue& queue, int request) : thread_([&queue, request, this] { reply_ = queue.submit(request); }) {}
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;
  ~Caller() {
    if (thread_.joinable()) thread_.join();
  }
  std::optional<int> reply() {
    thread_.join();
    return reply_;
  }

 private:
  std::optional<int> reply_;
  std::thread thread_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(group_commit_queue)

BOOST_AUTO_TEST_CASE(lone_request_is_run_at_once_in_a_batch_of_its_own) {
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  BOOST_TEST(queue.submit(21).value() == 42);
  BOOST_TEST(queue.submit(1).value() == 2);
  BOOST_TEST(recorder.sizes() == (std::vector<std::size_t>{1, 1}));
  BOOST_TEST(queue.stats().batches == 2U);
}

BOOST_AUTO_TEST_CASE(requests_arriving_during_a_commit_form_the_next_batch) {
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  recorder.holdNextBatch();
  Caller first(queue, 0);
  recorder.waitUntilHeld();
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 1; i <= 10; ++i) callers.push_back(std::make_unique<Caller>(queue, i));
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 10; }));
  recorder.release();
  BOOST_TEST(first.reply().value() == 0);
  for (int i = 1; i <= 10; ++i) {
    BOOST_TEST(callers[static_cast<std::size_t>(i - 1)]->reply().value() == 2 * i);
  }
  BOOST_TEST(recorder.sizes() == (std::vector<std::size_t>{1, 10}));
  BOOST_TEST(queue.stats().largestBatch == 10U);
}

BOOST_AUTO_TEST_CASE(max_batch_size_splits_a_long_queue) {
  RecordingRunner recorder;
  Queue queue(4, recorder.runner(), -1);
  recorder.holdNextBatch();
  Caller first(queue, 0);
  recorder.waitUntilHeld();
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 1; i <= 10; ++i) callers.push_back(std::make_unique<Caller>(queue, i));
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 10; }));
  recorder.release();
  BOOST_TEST(first.reply().value() == 0);
  for (int i = 1; i <= 10; ++i) {
    BOOST_TEST(callers[static_cast<std::size_t>(i - 1)]->reply().value() == 2 * i);
  }
  BOOST_TEST(recorder.sizes() == (std::vector<std::size_t>{1, 4, 4, 2}));
}

BOOST_AUTO_TEST_CASE(batch_size_one_commits_each_request_alone) {
  RecordingRunner recorder;
  Queue queue(1, recorder.runner(), -1);
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (queue.submit(i) != 2 * i) ++wrong;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  BOOST_TEST(wrong == 0);
  BOOST_TEST(queue.stats().batches == 400U);
  BOOST_TEST(queue.stats().largestBatch == 1U);
}

BOOST_AUTO_TEST_CASE(close_answers_what_is_queued_then_refuses) {
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  recorder.holdNextBatch();
  Caller first(queue, 0);
  recorder.waitUntilHeld();
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 1; i <= 5; ++i) callers.push_back(std::make_unique<Caller>(queue, i));
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 5; }));
  std::thread closer([&] { queue.close(); });
  BOOST_REQUIRE(waitFor([&] { return queue.closing(); }));
  BOOST_TEST(!queue.submit(100).has_value());  // refused at once, not queued
  recorder.release();
  closer.join();
  BOOST_TEST(first.reply().value() == 0);
  for (int i = 1; i <= 5; ++i) BOOST_TEST(callers[static_cast<std::size_t>(i - 1)]->reply().value() == 2 * i);
  BOOST_TEST(queue.stats().requests == 6U);
  queue.close();  // idempotent
}

BOOST_AUTO_TEST_CASE(a_throwing_runner_fails_its_batch_and_the_queue_goes_on) {
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  BOOST_TEST(queue.submit(-5).value() == -1);  // the failure reply
  BOOST_TEST(queue.submit(5).value() == 10);
}

// 16 threads submit 500 requests each; how many got a reply other than their own doubled.
int wrongRepliesFrom16CallersOf500(Queue& queue) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 16; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const int request = t * 1000 + i;
        if (queue.submit(request) != 2 * request) ++wrong;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  return wrong.load();
}

BOOST_AUTO_TEST_CASE(every_caller_gets_its_own_reply_under_load) {
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  BOOST_TEST(wrongRepliesFrom16CallersOf500(queue) == 0);
  const auto stats = queue.stats();
  BOOST_TEST(stats.requests == 8000U);
  BOOST_TEST(stats.batches <= stats.requests);
}

// A syncer that counts its syncs; the first can be held (as if the disk were slow).
class HeldSyncer {
 public:
  Queue::Syncer syncer() {
    return [this]() -> std::optional<int> {
      syncs_.fetch_add(1);
      if (holdNext_.exchange(false)) {
        entered_.set_value();
        release_.get_future().wait();
      }
      return std::nullopt;
    };
  }
  void holdNextSync() { holdNext_ = true; }
  void waitUntilHeld() { entered_.get_future().wait(); }
  void release() { release_.set_value(); }
  int syncs() const { return syncs_.load(); }

 private:
  std::atomic<bool> holdNext_{false};
  std::atomic<int> syncs_{0};
  std::promise<void> entered_;
  std::promise<void> release_;
};

BOOST_AUTO_TEST_CASE(with_a_syncer_a_lone_request_is_written_and_synced_at_once) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  BOOST_TEST(queue.submit(21).value() == 42);
  BOOST_TEST(queue.submit(1).value() == 2);
  BOOST_TEST(recorder.sizes() == (std::vector<std::size_t>{1, 1}));
  BOOST_TEST(syncer.syncs() == 2);
}

BOOST_AUTO_TEST_CASE(requests_arriving_while_a_sync_runs_are_committed_together_and_share_the_next_sync) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  syncer.holdNextSync();
  Caller first(queue, 0);
  syncer.waitUntilHeld();  // batch [0] is written and being synced
  Caller second(queue, 1);
  BOOST_REQUIRE(waitFor([&] { return recorder.sizes().size() == 2; }));  // [1] written, waits for a sync
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 2; i <= 5; ++i) callers.push_back(std::make_unique<Caller>(queue, i));
  // the next sync covers them either way: they stay queued rather than make commits of their own
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 4; }));
  BOOST_TEST(recorder.sizes().size() == 2U);
  syncer.release();
  BOOST_TEST(first.reply().value() == 0);
  BOOST_TEST(second.reply().value() == 2);
  for (int i = 2; i <= 5; ++i) BOOST_TEST(callers[static_cast<std::size_t>(i - 2)]->reply().value() == 2 * i);
  BOOST_TEST(recorder.sizes() == (std::vector<std::size_t>{1, 1, 4}));
  BOOST_TEST(syncer.syncs() == 2);  // [1] and [2..5] in one sync, after the one commit of [2..5]
}

BOOST_AUTO_TEST_CASE(with_a_syncer_close_answers_what_is_held_for_a_sync) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  syncer.holdNextSync();
  Caller first(queue, 0);
  syncer.waitUntilHeld();
  Caller second(queue, 1);
  BOOST_REQUIRE(waitFor([&] { return recorder.sizes().size() == 2; }));
  Caller third(queue, 2);
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 1; }));
  std::thread closer([&] { queue.close(); });
  BOOST_REQUIRE(waitFor([&] { return queue.closing(); }));
  syncer.release();
  closer.join();
  BOOST_TEST(first.reply().value() == 0);
  BOOST_TEST(second.reply().value() == 2);
  BOOST_TEST(third.reply().value() == 4);
  BOOST_TEST(queue.stats().requests == 3U);
}

BOOST_AUTO_TEST_CASE(written_is_called_once_the_batch_is_written_before_its_sync_ends) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  syncer.holdNextSync();
  std::promise<int> written;
  std::promise<int> done;
  BOOST_REQUIRE(queue.submitAsync(
      21, [&](int reply) { done.set_value(reply); },
      [&](const int& reply) {
        written.set_value(reply);
        return false;  // waits for the sync
      }));
  syncer.waitUntilHeld();  // written, being synced: nothing durable yet
  auto writtenReply = written.get_future();
  BOOST_TEST(writtenReply.get() == 42);  // told while the sync is still held
  auto doneReply = done.get_future();
  BOOST_TEST((doneReply.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout));
  syncer.release();
  BOOST_TEST(doneReply.get() == 42);
}

BOOST_AUTO_TEST_CASE(a_request_settled_as_written_waits_for_no_sync_and_hears_nothing_more) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  std::promise<int> written;
  std::atomic<int> doneCalls{0};
  BOOST_REQUIRE(queue.submitAsync(
      3, [&](int) { ++doneCalls; },
      [&](const int& reply) {
        written.set_value(reply);
        return true;  // its caller makes it durable later
      }));
  BOOST_TEST(written.get_future().get() == 6);
  BOOST_TEST(queue.submit(1).value() == 2);  // queued once the first was written: a batch of its own
  BOOST_TEST(syncer.syncs() == 1);           // for the second request alone
  queue.close();
  BOOST_TEST(doneCalls.load() == 0);
}

BOOST_AUTO_TEST_CASE(a_lazy_request_rides_at_the_front_of_the_next_batch_and_its_sync) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  std::promise<int> lazy;
  BOOST_REQUIRE(queue.submitLazy(5, [&](int reply) { lazy.set_value(reply); }, std::chrono::hours(1)));
  BOOST_TEST(queue.stats().queued == 1U);
  BOOST_TEST(queue.submit(1).value() == 2);
  BOOST_TEST(lazy.get_future().get() == 10);
  BOOST_TEST(recorder.batches() == (std::vector<std::vector<int>>{{5, 1}}));
  BOOST_TEST(syncer.syncs() == 1);
}

BOOST_AUTO_TEST_CASE(a_lazy_request_goes_alone_once_it_has_lingered) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  std::promise<int> first;
  std::promise<int> second;
  const auto start = std::chrono::steady_clock::now();
  BOOST_REQUIRE(queue.submitLazy(5, [&](int reply) { first.set_value(reply); }, std::chrono::hours(1)));
  // A sooner deadline wakes the writer's wait: both go then, together.
  BOOST_REQUIRE(queue.submitLazy(6, [&](int reply) { second.set_value(reply); }, std::chrono::milliseconds(20)));
  BOOST_TEST(second.get_future().get() == 12);
  BOOST_TEST(first.get_future().get() == 10);
  BOOST_TEST((std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(20)));
  BOOST_TEST(recorder.batches() == (std::vector<std::vector<int>>{{5, 6}}));
  BOOST_TEST(syncer.syncs() == 1);
}

BOOST_AUTO_TEST_CASE(close_writes_the_lazy_requests_then_refuses_them) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  std::promise<int> lazy;
  BOOST_REQUIRE(queue.submitLazy(5, [&](int reply) { lazy.set_value(reply); }, std::chrono::hours(1)));
  queue.close();
  BOOST_TEST(lazy.get_future().get() == 10);
  BOOST_TEST(!queue.submitLazy(6, [](int) {}, std::chrono::milliseconds(1)));
  BOOST_TEST(recorder.batches() == (std::vector<std::vector<int>>{{5}}));
}

BOOST_AUTO_TEST_CASE(lazy_requests_past_the_batch_limit_go_in_the_next_batch) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(2, recorder.runner(), -1, syncer.syncer());
  std::atomic<int> answered{0};
  for (int i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(queue.submitLazy(i, [&](int) { ++answered; }, std::chrono::hours(1)));
  }
  BOOST_TEST(queue.submit(10).value() == 20);
  BOOST_REQUIRE(waitFor([&] { return answered.load() == 3; }));
  BOOST_TEST(recorder.batches() == (std::vector<std::vector<int>>{{1, 2}, {3, 10}}));
}

BOOST_AUTO_TEST_CASE(written_is_not_called_without_a_syncer) {
  // Without a syncer each commit is durable when written: `done` alone says so.
  RecordingRunner recorder;
  Queue queue(64, recorder.runner(), -1);
  std::atomic<int> writtenCalls{0};
  std::promise<int> done;
  BOOST_REQUIRE(queue.submitAsync(
      5, [&](int reply) { done.set_value(reply); },
      [&](const int&) {
        ++writtenCalls;
        return true;
      }));
  BOOST_TEST(done.get_future().get() == 10);
  BOOST_TEST(writtenCalls.load() == 0);
}

BOOST_AUTO_TEST_CASE(with_a_syncer_every_caller_gets_its_own_reply_under_load) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  BOOST_TEST(wrongRepliesFrom16CallersOf500(queue) == 0);
  const auto stats = queue.stats();
  BOOST_TEST(stats.requests == 8000U);
  BOOST_TEST(stats.batches <= stats.requests);
  BOOST_TEST(static_cast<std::uint64_t>(syncer.syncs()) <= stats.batches);
}

BOOST_AUTO_TEST_CASE(a_slow_batch_does_not_hold_up_the_sync_of_the_batches_written_before_it) {
  RecordingRunner recorder;
  HeldSyncer syncer;
  Queue queue(64, recorder.runner(), -1, syncer.syncer());
  syncer.holdNextSync();
  Caller first(queue, 0);
  syncer.waitUntilHeld();
  Caller second(queue, 1);
  BOOST_REQUIRE(waitFor([&] { return recorder.sizes().size() == 2; }));  // [1] waits for a sync
  recorder.holdNextBatch();
  Caller third(queue, 2);
  BOOST_REQUIRE(waitFor([&] { return queue.stats().queued == 1; }));
  syncer.release();
  recorder.waitUntilHeld();  // [2] is being written, slowly
  // [1] is synced and answered all the same, after a short wait for the writer at most
  BOOST_TEST(first.reply().value() == 0);
  BOOST_TEST(second.reply().value() == 2);
  recorder.release();
  BOOST_TEST(third.reply().value() == 4);
  BOOST_TEST(syncer.syncs() == 3);
}

BOOST_AUTO_TEST_SUITE_END()
