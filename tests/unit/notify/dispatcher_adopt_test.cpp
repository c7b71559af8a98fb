// The dispatcher as the store's ClaimReceiver: entries written while it runs reach it from the
// write itself, claimed, and are delivered without a claim query; adopt() keeps the order-key
// rule; a sink with a backlog takes no more and claims them later; an entry adopted after stop
// stays claimed and the next start delivers it. Against a real SQLite store, through an outbox
// that only counts the dispatcher's calls on their way to it.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <boost/test/unit_test.hpp>

#include "engine/notify/dispatcher.h"
#include "tests/support/wait_for.h"
#include "tests/unit/notify/notify_test_support.h"

using namespace cpis;
using namespace std::chrono_literals;
using notify::Dispatcher;
using notify::DispatcherOptions;
using notify::SinkOptions;
using test::waitFor;

namespace {

// The store's outbox, with the dispatcher's claim and next-due queries counted.
class CountingOutbox final : public store::Outbox {
 public:
  explicit CountingOutbox(store::Outbox& outbox) : outbox_(outbox) {}

  core::Status enqueue(std::span<const store::NewNotification> n) override { return outbox_.enqueue(n); }
  core::Result<std::vector<store::OutboxEntry>> claimDue(std::string_view sink, std::size_t limit,
                                                         store::TimePoint now) override {
    auto claimed = outbox_.claimDue(sink, limit, now);
    ++claims;  // counted once done: a test that saw it knows what the claim could see
    return claimed;
  }
  core::Result<std::optional<store::TimePoint>> nextDue(std::string_view sink) override {
    auto next = outbox_.nextDue(sink);
    ++nextDues;  // as claims
    return next;
  }
  core::Status markDelivered(store::NotificationId id, std::span<const store::NewNotification> f) override {
    return outbox_.markDelivered(id, f);
  }
  core::Status markRetry(store::NotificationId id, store::TimePoint next, std::string_view error) override {
    if (failRetries > 0) {
      --failRetries;  // e.g. the group commit this write shared failed: nothing was stored
      return core::Status::unavailable("message store: a transaction of 2 writes failed, none was stored");
    }
    return outbox_.markRetry(id, next, error);
  }
  core::Status markDead(store::NotificationId id, std::string_view error) override {
    auto status = outbox_.markDead(id, error);
    if (status.isOk() && loseDeadAnswers > 0) {
      --loseDeadAnswers;  // committed, and the answer lost (a connection dropped after COMMIT)
      return core::Status::unavailable("message store: the connection was lost");
    }
    return status;
  }
  core::Result<std::size_t> release(std::span<const store::NotificationId> ids) override {
    return outbox_.release(ids);
  }
  core::Result<std::size_t> replay(store::NotificationId id) override { return outbox_.replay(id); }
  core::Result<std::size_t> replayDead(std::optional<std::string_view> sink,
                                       std::optional<std::string_view> except) override {
    return outbox_.replayDead(sink, except);
  }
  core::Result<store::OutboxEntry> get(store::NotificationId id) override { return outbox_.get(id); }
  core::Result<std::optional<store::OutboxEntry>> find(std::string_view sink, std::string_view key) override {
    return outbox_.find(sink, key);
  }
  core::Result<std::vector<store::OutboxEntry>> list(const store::OutboxFilter& filter) override {
    return outbox_.list(filter);
  }
  core::Result<store::OutboxCounts> counts(std::optional<std::string_view> sink) override {
    return outbox_.counts(sink);
  }
  core::Result<std::size_t> renewClaims(std::span<const store::NotificationId> ids) override {
    {
      const std::lock_guard lock(renewMutex);
      renewed.emplace_back(ids.begin(), ids.end());
    }
    return outbox_.renewClaims(ids);
  }
  std::vector<std::vector<store::NotificationId>> renewals() const {
    const std::lock_guard lock(renewMutex);
    return renewed;
  }
  bool setClaimReceiver(store::ClaimReceiver* receiver) override {
    const bool claimed = outbox_.setClaimReceiver(receiver);
    if (receiver == nullptr) receiverWithdrawn = true;  // the dispatcher's stop() has begun
    return claimed;
  }

  std::atomic<int> claims{0}, nextDues{0};
  std::atomic<int> failRetries{0};  // markRetry fails this many more times (the store was busy)
  std::atomic<int> loseDeadAnswers{0};  // markDead commits, then answers "unavailable", this many times
  std::atomic<bool> receiverWithdrawn{false};

 private:
  store::Outbox& outbox_;
  mutable std::mutex renewMutex;
  std::vector<std::vector<store::NotificationId>> renewed;
};

// Delivers, optionally held at a gate, and records the order it saw.
class GateSink final : public notify::Sink {
 public:
  plugin::DeliveryResult deliver(const store::OutboxEntry& entry, notify::Notifications&) override {
    std::unique_lock lock(mutex_);
    seen_.push_back(entry.idempotencyKey);
    ++inFlight_;
    if (!entry.orderKey.empty() && ++keyInFlight_[entry.orderKey] > 1) orderViolated_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --inFlight_;
    if (!entry.orderKey.empty()) --keyInFlight_[entry.orderKey];
    return {};
  }
  void close() {
    const std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  std::vector<std::string> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  int inFlight() const {
    const std::lock_guard lock(mutex_);
    return inFlight_;
  }
  bool orderViolated() const {
    const std::lock_guard lock(mutex_);
    return orderViolated_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  std::vector<std::string> seen_;
  int inFlight_ = 0;
  std::map<std::string, int> keyInFlight_;
  bool orderViolated_ = false;
};

struct AdoptFixture : test::StoreFixture {
  CountingOutbox counting{outbox()};

  DispatcherOptions options() {
    DispatcherOptions o;
    o.clock = clock.function();
    o.random = [] { return 0.5; };
    o.pollInterval = 1h;  // nothing is found by polling here
    return o;
  }

  store::NewNotification note(const std::string& key, const std::string& orderKey = {}) {
    keys_.push_back(key);
    orderKeys_.push_back(orderKey);
    store::NewNotification n;
    n.sink = "team";
    n.kind = "plan-found";
    n.idempotencyKey = keys_.back();
    n.orderKey = orderKeys_.back();
    n.payload = "{}";
    return n;
  }
  void enqueue(const std::string& key, const std::string& orderKey = {}) {
    const auto n = note(key, orderKey);
    BOOST_TEST_REQUIRE(outbox().enqueue(std::span(&n, 1)).isOk());
  }
  // Starts `d` with `sink` as "team" on two slots, and waits for its first look at the outbox
  // (one claim, one next-due query).
  void startTwoSlots(Dispatcher& d, notify::Sink& sink) {
    SinkOptions o;
    o.concurrency = 2;
    d.addSink("team", sink, o);
    d.start();
    BOOST_TEST_REQUIRE(waitFor([&] { return counting.claims == 1 && counting.nextDues == 1; }));
  }
  std::uint64_t delivered() {
    const auto counts = outbox().counts(std::nullopt);
    return counts.ok() ? counts.value().delivered : 0;
  }
  store::OutboxEntry entry(const std::string& key) {
    store::OutboxFilter filter;
    filter.limit = 1000;
    auto listed = outbox().list(filter);
    BOOST_TEST_REQUIRE(listed.ok());
    for (auto& e : listed.value()) {
      if (e.idempotencyKey == key) return e;
    }
    BOOST_FAIL("no entry " << key);
    return {};
  }

 private:
  std::deque<std::string> keys_, orderKeys_;  // the views of note() point into these
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dispatcher_adopt, AdoptFixture)

BOOST_AUTO_TEST_CASE(entries_written_while_it_runs_are_delivered_without_a_claim_query) {
  GateSink sink;
  Dispatcher d(counting, options());
  startTwoSlots(d, sink);
  constexpr int kEntries = 20;
  for (int i = 0; i < kEntries; ++i) enqueue("k" + std::to_string(i));
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == kEntries; }));
  BOOST_TEST(counting.claims == 1);
  BOOST_TEST(counting.nextDues == 1);
  // wakeFor passes over the sinks that took their entries claimed, not the order-keyed ones
  notify::Notifications written(1);
  written[0].sink = "team";
  d.wakeFor(written);
  written[0].orderKey = "ed:V1";
  d.wakeFor(written);
  // At least one claim more: a delivery that ended a full batch may have woken the claimer once
  // already (seen under ASan: 3 claims, and waiting for exactly 2 timed out).
  BOOST_TEST(waitFor([&] { return counting.claims >= 2; }));
  d.stop();
  BOOST_TEST(d.stats().delivered == static_cast<std::uint64_t>(kEntries));  // stop() joined the workers
  BOOST_TEST(sink.seen().size() == static_cast<std::size_t>(kEntries));
}

BOOST_AUTO_TEST_CASE(a_wake_while_every_slot_is_busy_is_kept_until_a_slot_frees) {
  GateSink sink;
  sink.close();
  Dispatcher d(counting, options());
  startTwoSlots(d, sink);
  enqueue("a");  // written claimed, handed over: both slots busy
  enqueue("b");
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 2; }));
  // An ordered entry is not written claimed: the dispatcher is woken to claim it, with no room.
  enqueue("c", "ed:V9");
  notify::Notifications written(1);
  written[0].sink = "team";
  written[0].orderKey = "ed:V9";
  d.wakeFor(written);
  sink.open();
  // No poll (an hour away): the delivery that frees a slot makes it claim what it was woken for.
  BOOST_TEST(waitFor([&] { return delivered() == 3; }));
  d.stop();
  BOOST_TEST(sink.seen().size() == 3U);
}

BOOST_AUTO_TEST_CASE(an_adopted_entry_waits_for_the_one_of_its_order_key_being_delivered) {
  GateSink sink;
  sink.close();
  SinkOptions o;
  o.concurrency = 2;
  enqueue("first", "ed:V1");
  enqueue("second", "ed:V1");
  Dispatcher d(counting, options());
  d.addSink("team", sink, o);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 1; }));
  // the second, claimed as the store does when it writes an entry claimed (the flag, set here
  // behind the store's back), handed over while the first is being delivered
  {
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, dir.file("store.db"));
    session << "PRAGMA busy_timeout = 5000", Poco::Data::Keywords::now;
    session << "UPDATE outbox SET claimed = 1 WHERE idempotency_key = 'second'", Poco::Data::Keywords::now;
  }
  d.adopt({entry("second")});
  BOOST_TEST(sink.inFlight() == 1);
  sink.open();
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == 2; }));
  BOOST_TEST(d.stats().storeErrors == 0U);
  BOOST_TEST(!sink.orderViolated());
  BOOST_TEST(sink.seen() == (std::vector<std::string>{"first", "second"}), boost::test_tools::per_element());
}

// PostgreSQL: a lease that lapsed while the store could not renew it lets this instance claim an
// entry again while it is still delivering it. The copy waits behind the entry; once that is
// delivered the copy is stale and dropped, not delivered a second time.
BOOST_AUTO_TEST_CASE(a_copy_claimed_while_the_entry_is_delivered_is_dropped_once_it_is_delivered) {
  GateSink sink;
  sink.close();
  enqueue("only");
  Dispatcher d(counting, options());
  d.addSink("team", sink);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 1; }));
  d.adopt({entry("only")});  // the same entry, handed over again
  sink.open();
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == 1; }));
  enqueue("next");  // delivered after: the copy, had it gone, would have gone before it
  d.wake("team");
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == 2; }));
  BOOST_TEST(sink.seen() == (std::vector<std::string>{"only", "next"}), boost::test_tools::per_element());
  BOOST_TEST(d.stats().storeErrors == 0U);
}

// A dead-letter whose commit's answer was lost: the retry is refused (already dead), which is
// the mark done. Before, it was logged "not dead-lettered" and the OPS ALERT never came.
BOOST_AUTO_TEST_CASE(a_dead_letter_whose_answer_was_lost_is_counted_and_alerted) {
  class RefusingSink final : public notify::Sink {
   public:
    plugin::DeliveryResult deliver(const store::OutboxEntry&, notify::Notifications&) override {
      return {plugin::DeliveryResult::Kind::Failed, "HTTP 410"};
    }
  } sink;
  counting.loseDeadAnswers = 1;
  Dispatcher d(counting, options());
  d.addSink("team", sink);
  enqueue("k1");
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return d.stats().dead == 1U; }, 10s));
  BOOST_TEST(d.stats().storeErrors == 0U);
  BOOST_TEST(entry("k1").state == store::NotificationState::Dead);
}

BOOST_AUTO_TEST_CASE(a_sink_with_a_backlog_takes_no_more_and_claims_them_when_it_has_room) {
  GateSink sink;
  sink.close();
  auto opts = options();
  opts.preClaimBacklog = 2;
  Dispatcher d(counting, opts);
  d.addSink("team", sink);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return counting.claims == 1 && counting.nextDues == 1; }));
  for (int i = 0; i < 5; ++i) enqueue("k" + std::to_string(i));
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 1; }));
  // two taken claimed (one being delivered, one waiting), three written unclaimed: the store
  // says when the first of those is due (SQLite counts no claimed entry there)
  BOOST_TEST(outbox().counts("team")->pending == 5U);
  BOOST_TEST((outbox().nextDue("team").value() == std::optional<store::TimePoint>(clock.now())));
  sink.open();
  // no wake, no poll: finished deliveries make it claim the rest
  BOOST_TEST(waitFor([&] { return delivered() == 5; }));
  BOOST_TEST(counting.claims >= 2);
  BOOST_TEST(sink.seen().size() == 5U);
}

BOOST_AUTO_TEST_CASE(an_entry_adopted_after_stop_stays_claimed_and_the_next_start_delivers_it) {
  GateSink sink;
  {
    Dispatcher d(counting, options());
    d.addSink("team", sink);
    d.start();
    d.stop();
    // written after stop: not claimed for it
    enqueue("k1");
    auto claimed = outbox().claimDue("team", 10, clock.now());
    BOOST_TEST_REQUIRE(claimed.value().size() == 1U);
    d.adopt(std::move(claimed).value());  // too late: it stays claimed in the store
    BOOST_TEST(sink.seen().empty());
    BOOST_TEST(outbox().claimDue("team", 10, clock.now()).value().empty());
  }
  store->close();
  store.reset();
  store = open(dir.file("store.db"), clock.function());  // the next start
  CountingOutbox again(outbox());
  Dispatcher d(again, options());
  d.addSink("team", sink);
  d.start();
  BOOST_TEST(waitFor([&] { return delivered() == 1; }));
  BOOST_TEST(sink.seen() == (std::vector<std::string>{"k1"}), boost::test_tools::per_element());
}

// A sink that hangs (an endpoint down, each delivery waiting out its time-out) holds up to
// preClaimBacklog entries. stop() waits only for the delivery under way: the entries waiting
// for a worker go back to the store untried, claimable at once by the next dispatcher on the
// same store (no reopen needed). Before, stop() delivered every one of them first.
BOOST_AUTO_TEST_CASE(stop_gives_back_the_entries_waiting_for_a_worker_untried) {
  GateSink sink;
  sink.close();
  constexpr int kEntries = 20;
  {
    Dispatcher d(counting, options());
    d.addSink("team", sink);  // one slot
    d.start();
    BOOST_TEST_REQUIRE(waitFor([&] { return counting.claims == 1 && counting.nextDues == 1; }));
    for (int i = 0; i < kEntries; ++i) enqueue("k" + std::to_string(i));  // handed over claimed
    BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 1; }));
    BOOST_TEST(outbox().claimDue("team", 100, clock.now()).value().empty());  // all held
    std::thread stopper([&] { d.stop(); });
    BOOST_TEST_REQUIRE(waitFor([&] { return counting.receiverWithdrawn.load(); }));
    sink.open();  // the delivery under way ends; stop() starts no other
    stopper.join();
  }
  BOOST_TEST(sink.seen() == (std::vector<std::string>{"k0"}), boost::test_tools::per_element());
  BOOST_TEST(entry("k0").state == store::NotificationState::Delivered);
  for (int i = 1; i < kEntries; ++i) {
    const auto e = entry("k" + std::to_string(i));
    BOOST_TEST((e.state == store::NotificationState::Pending && e.attempts == 0U), "k" << i);
  }
  CountingOutbox again(outbox());
  Dispatcher d(again, options());
  d.addSink("team", sink);
  d.start();
  BOOST_TEST(waitFor([&] { return delivered() == kEntries; }));
  BOOST_TEST(sink.seen().size() == static_cast<std::size_t>(kEntries));  // each tried once in all
}

BOOST_AUTO_TEST_CASE(without_pre_claims_new_entries_wait_for_a_wake) {
  GateSink sink;
  auto opts = options();
  opts.preClaim = false;
  Dispatcher d(counting, opts);
  d.addSink("team", sink);
  d.start();
  // the first claim and next-due query done: the claimer sleeps until woken or polled
  BOOST_TEST_REQUIRE(waitFor([&] { return counting.claims == 1 && counting.nextDues == 1; }));
  enqueue("k1");
  // written unclaimed (SQLite's next-due time counts no claimed entry)
  BOOST_TEST((outbox().nextDue("team").value() == std::optional<store::TimePoint>(clock.now())));
  notify::Notifications written(1);
  written[0].sink = "team";
  d.wakeFor(written);
  BOOST_TEST(waitFor([&] { return delivered() == 1; }));
  BOOST_TEST(counting.claims >= 2);
}

// A retry whose mark the store could not record (a failed batch, a full disk for a moment)
// leaves the entry claimed in the store: SQLite's flag stays until the store reopens and no
// claim returns it, so it must not simply be dropped by the worker.
BOOST_AUTO_TEST_CASE(an_entry_whose_retry_could_not_be_recorded_is_not_stuck_until_a_restart) {
  std::atomic<int> calls{0};
  class FlakySink final : public notify::Sink {
   public:
    explicit FlakySink(std::atomic<int>& calls) : calls_(calls) {}
    plugin::DeliveryResult deliver(const store::OutboxEntry&, notify::Notifications&) override {
      if (++calls_ == 1) return {plugin::DeliveryResult::Kind::Retry, "receiver busy"};
      return {};
    }

   private:
    std::atomic<int>& calls_;
  } sink(calls);
  counting.failRetries = 1;
  auto opts = options();
  opts.pollInterval = 50ms;
  Dispatcher d(counting, opts);
  SinkOptions o;
  o.backoffMin = 1000ms;
  o.backoffMax = 1000ms;
  d.addSink("team", sink, o);
  enqueue("k1");
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return calls == 1 && counting.failRetries == 0; }));
  clock.advance(60s);  // well past any back-off
  d.wake("team");
  BOOST_TEST(waitFor([&] { return delivered() == 1; }, 3s), "k1 is " << entry("k1").state << " after "
                                                                   << entry("k1").attempts << " recorded attempts");
}

// The leases renewed are those of the entries the dispatcher holds (being delivered, or waiting
// for a slot or their order key), by id: a claim the store holds for this instance but nobody
// here works on (written claimed by a commit whose answer was lost) is left to lapse.
BOOST_AUTO_TEST_CASE(only_the_entries_it_holds_have_their_leases_renewed) {
  GateSink sink;
  sink.close();
  auto o = options();
  o.leaseRenewal = 10ms;
  Dispatcher d(counting, o);
  startTwoSlots(d, sink);
  enqueue("a");
  enqueue("b", "ed:V1");
  enqueue("c", "ed:V1");  // waits for b
  notify::Notifications written(1);
  written[0].sink = "team";
  written[0].orderKey = "ed:V1";
  d.wakeFor(written);
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 2; }));
  std::vector<store::NotificationId> expected{entry("a").id, entry("b").id};
  std::sort(expected.begin(), expected.end());
  BOOST_TEST_REQUIRE(waitFor([&] {
    const auto all = counting.renewals();
    if (all.empty()) return false;
    auto last = all.back();
    std::sort(last.begin(), last.end());
    return last == expected;
  }));
  sink.open();
  BOOST_TEST(waitFor([&] { return delivered() == 3; }));
  d.stop();
}

BOOST_AUTO_TEST_SUITE_END()
