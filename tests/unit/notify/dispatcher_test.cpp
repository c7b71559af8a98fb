#include "engine/notify/dispatcher.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "engine/plugin/plugin_registry.h"
#include "tests/support/log_capture.h"
#include "tests/support/wait_for.h"
#include "tests/unit/notify/notify_test_support.h"

using namespace cpis;
using namespace std::chrono_literals;
using notify::Dispatcher;
using notify::DispatcherOptions;
using notify::SinkOptions;
using Kind = plugin::DeliveryResult::Kind;
using test::waitFor;

namespace {

// A sink the test steers: what it answers (behaviour), whether deliveries wait for the test
// (the gate), and what it saw.
class TestSink final : public notify::Sink {
 public:
  using Behaviour = std::function<plugin::DeliveryResult(const store::OutboxEntry&, notify::Notifications&)>;

  plugin::DeliveryResult deliver(const store::OutboxEntry& entry, notify::Notifications& followUps) override {
    {
      std::unique_lock lock(mutex_);
      seen_.push_back(entry);
      ++inFlight_;
      maxInFlight_ = std::max(maxInFlight_, inFlight_);
      if (!entry.orderKey.empty() && ++keyInFlight_[entry.orderKey] > 1) orderViolated_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
    }
    const auto result = behaviour_ ? behaviour_(entry, followUps) : plugin::DeliveryResult{};
    const std::lock_guard lock(mutex_);
    --inFlight_;
    if (!entry.orderKey.empty()) --keyInFlight_[entry.orderKey];
    ++finished_;
    return result;
  }
  notify::Notifications onDead(const store::OutboxEntry& entry) override {
    return onDead_ ? onDead_(entry) : notify::Notifications{};
  }

  void behave(Behaviour behaviour) { behaviour_ = std::move(behaviour); }
  void onDeadWrite(std::function<notify::Notifications(const store::OutboxEntry&)> f) { onDead_ = std::move(f); }
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
  std::size_t seen() const {
    const std::lock_guard lock(mutex_);
    return seen_.size();
  }
  std::vector<store::OutboxEntry> entries() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  int inFlight() const {
    const std::lock_guard lock(mutex_);
    return inFlight_;
  }
  int maxInFlight() const {
    const std::lock_guard lock(mutex_);
    return maxInFlight_;
  }
  int finished() const {
    const std::lock_guard lock(mutex_);
    return finished_;
  }
  bool orderViolated() const {
    const std::lock_guard lock(mutex_);
    return orderViolated_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  std::vector<store::OutboxEntry> seen_;
  int inFlight_ = 0, maxInFlight_ = 0, finished_ = 0;
  std::map<std::string, int> keyInFlight_;
  bool orderViolated_ = false;
  Behaviour behaviour_;
  std::function<notify::Notifications(const store::OutboxEntry&)> onDead_;
};

struct DispatcherFixture : test::StoreFixture {
  DispatcherOptions options() {
    DispatcherOptions o;
    o.clock = clock.function();
    o.random = [] { return 0.5; };
    o.pollInterval = 10s;  // the tests wake the dispatcher, except the one about polling
    return o;
  }

  void enqueue(const std::string& sink, const std::string& key, const std::string& orderKey = {},
               std::optional<store::TimePoint> deadline = std::nullopt, const std::string& payload = "{}") {
    store::NewNotification n;
    n.sink = sink;
    n.kind = "plan-found";
    n.idempotencyKey = key;
    n.orderKey = orderKey;
    n.payload = payload;
    n.deadline = deadline;
    BOOST_TEST_REQUIRE(outbox().enqueue(std::span(&n, 1)).isOk());
  }

  std::vector<store::OutboxEntry> all(std::optional<std::string> sink = std::nullopt) {
    store::OutboxFilter filter;
    filter.sink = std::move(sink);
    filter.limit = 1000;
    auto listed = outbox().list(filter);
    BOOST_TEST_REQUIRE(listed.ok());
    auto entries = std::move(listed).value();
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return entries;
  }

  store::OutboxEntry entry(const std::string& key) {
    for (auto& e : all()) {
      if (e.idempotencyKey == key) return e;
    }
    BOOST_FAIL("no entry " << key);
    return {};
  }

  std::uint64_t delivered(std::optional<std::string_view> sink = std::nullopt) {
    const auto counts = outbox().counts(sink);
    return counts.ok() ? counts.value().delivered : 0;
  }
};

plugin::DeliveryResult retry(std::string text = "receiver busy") {
  return {Kind::Retry, std::move(text)};
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(dispatcher, DispatcherFixture)

BOOST_AUTO_TEST_CASE(delivers_every_entry_once_and_marks_it_delivered) {
  TestSink sink;
  Dispatcher d(outbox(), options());
  d.addSink("team", sink);
  d.start();
  for (int i = 0; i < 5; ++i) enqueue("team", "k" + std::to_string(i));
  d.wake("team");
  BOOST_TEST(waitFor([&] { return delivered("team") == 5; }));
  d.stop();
  BOOST_TEST(sink.seen() == 5u);
  BOOST_TEST(d.stats().delivered == 5u);  // stop() joined every worker
  for (const auto& e : all()) {
    BOOST_TEST(e.state == store::NotificationState::Delivered);
    BOOST_TEST(e.finishedAt.has_value());
  }
}

BOOST_AUTO_TEST_CASE(back_off_is_exponential_with_jitter_between_min_and_max) {
  SinkOptions o;
  o.backoffMin = 1000ms;
  o.backoffMax = 60'000ms;
  BOOST_TEST(Dispatcher::backoffCap(o, 1).count() == 1000);
  BOOST_TEST(Dispatcher::backoffCap(o, 2).count() == 2000);
  BOOST_TEST(Dispatcher::backoffCap(o, 3).count() == 4000);
  BOOST_TEST(Dispatcher::backoffCap(o, 7).count() == 60'000);
  BOOST_TEST(Dispatcher::backoffCap(o, 1000).count() == 60'000);
}

BOOST_AUTO_TEST_CASE(a_retry_waits_its_back_off_on_the_clock_then_delivers) {
  TestSink sink;
  int calls = 0;
  sink.behave([&](const store::OutboxEntry&, notify::Notifications&) {
    return ++calls <= 2 ? retry() : plugin::DeliveryResult{};
  });
  SinkOptions o;
  o.backoffMin = 1000ms;
  o.backoffMax = 60'000ms;
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  enqueue("team", "k1");
  d.start();

  BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").attempts == 1; }));
  auto e = entry("k1");
  BOOST_TEST(e.state == store::NotificationState::Pending);
  BOOST_TEST(e.lastError == "receiver busy");
  BOOST_TEST((e.nextAttemptAt == clock.now() + 1000ms));  // the first back-off is the minimum

  clock.advance(1000ms);
  d.wake("team");
  BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").attempts == 2; }));
  // Second failure: between 1 s and 2 s; the test's jitter (0.5) puts it half-way.
  BOOST_TEST((entry("k1").nextAttemptAt == clock.now() + 1500ms));
  BOOST_TEST(sink.seen() == 2u);

  clock.advance(1500ms);
  d.wake("team");
  BOOST_TEST(waitFor([&] { return delivered() == 1; }));
  BOOST_TEST(sink.seen() == 3u);
  BOOST_TEST(waitFor([&] { return d.stats().retried == 2u; }));
}

// A sink down was silent in the log until something was dead-lettered, and the EPR's late
// results (no deadline) never were. A failed attempt is logged on its 1st, 10th, 100th...; a
// late result the EPR has not taken after 10 is an ops alert.
BOOST_AUTO_TEST_CASE(failed_attempts_are_logged_on_the_first_the_tenth_and_the_hundredth) {
  TestSink sink;
  sink.behave([](const store::OutboxEntry&, notify::Notifications&) { return retry("connection refused"); });
  SinkOptions o;
  o.maxAttempts = 0;  // as the return connection's: tried until the EPR takes it
  o.backoffMin = 1000ms;
  o.backoffMax = 1000ms;
  Dispatcher d(outbox(), options());
  d.addSink("epr-return:ed", sink, o);
  store::NewNotification n;
  n.sink = "epr-return:ed";
  n.kind = "late-result";
  n.idempotencyKey = "late-1";
  n.payload = "{}";
  BOOST_TEST_REQUIRE(outbox().enqueue(std::span(&n, 1)).isOk());
  test::LogCapture log("cpis.notify");
  d.start();
  for (std::uint32_t attempt = 1; attempt <= 12; ++attempt) {
    BOOST_TEST_REQUIRE(waitFor([&] { return entry("late-1").attempts == attempt; }));
    clock.advance(1000ms);
    d.wake("epr-return:ed");
  }
  d.stop();
  const std::string logged = log.all();
  const auto count = [&](const std::string& text) {
    std::size_t times = 0;
    for (std::size_t at = logged.find(text); at != std::string::npos; at = logged.find(text, at + 1)) ++times;
    return times;
  };
  BOOST_TEST(count("not delivered after") == 2u,
             logged);  // the 1st and the 10th, not the 2nd-9th, 11th, 12th
  BOOST_TEST(
      count("sink epr-return:ed: notification 1 (kind late-result, message -) not delivered after 1 attempt: "
            "connection refused; next attempt in 1 s") == 1u,
      logged);
  BOOST_TEST(
      count("OPS ALERT: sink epr-return:ed: notification 1 (kind late-result, message -) not delivered after "
            "10 attempts: connection refused") == 1u,
      logged);
}

BOOST_AUTO_TEST_CASE(an_entry_out_of_attempts_is_dead_lettered_with_its_reason) {
  TestSink sink;
  sink.behave([](const store::OutboxEntry&, notify::Notifications&) { return retry("connection refused"); });
  SinkOptions o;
  o.maxAttempts = 3;
  o.backoffMin = 1000ms;
  o.backoffMax = 1000ms;
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  enqueue("team", "k1");
  d.start();
  for (std::uint32_t attempt = 1; attempt < 3; ++attempt) {
    BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").attempts == attempt; }));
    clock.advance(1000ms);
    d.wake("team");
  }
  BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").state == store::NotificationState::Dead; }));
  const auto e = entry("k1");
  BOOST_TEST(e.lastError.find("no attempts left (3)") != std::string::npos, e.lastError);
  BOOST_TEST(e.lastError.find("connection refused") != std::string::npos, e.lastError);
  BOOST_TEST(sink.seen() == 3u);
  BOOST_TEST(waitFor([&] { return d.stats().dead == 1u; }));
}

// Past its deadline: dead-lettered without an attempt. One tried before (the engine was down
// across a deferred check's deadline) still says why it last failed, which the engineer needs
// before replaying it.
BOOST_AUTO_TEST_CASE(an_entry_past_its_deadline_is_dead_lettered_without_an_attempt) {
  TestSink sink;
  enqueue("team", "tried", {}, clock.now() + 10s);
  const auto claimed = outbox().claimDue("team", 10, clock.now());
  BOOST_TEST_REQUIRE(claimed.ok());
  BOOST_TEST_REQUIRE(claimed.value().size() == 1u);
  BOOST_TEST_REQUIRE(
      outbox()
          .markRetry(claimed.value()[0].id, clock.now() + 5s, "CP-IS check failed again: SPINE_UNAVAILABLE")
          .isOk());
  enqueue("team", "late", {}, clock.now() + 10s);
  clock.advance(20s);
  Dispatcher d(outbox(), options());
  d.addSink("team", sink);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] {
    return entry("late").state == store::NotificationState::Dead &&
           entry("tried").state == store::NotificationState::Dead;
  }));
  BOOST_TEST(sink.seen() == 0u);
  BOOST_TEST(entry("late").lastError == "deadline passed before it could be delivered");
  BOOST_TEST(entry("tried").lastError ==
             "deadline passed before it could be delivered (its last attempt: CP-IS check failed again: "
             "SPINE_UNAVAILABLE)");
}

BOOST_AUTO_TEST_CASE(a_retry_that_would_pass_the_deadline_ends_the_entry) {
  TestSink sink;
  sink.behave([](const store::OutboxEntry&, notify::Notifications&) { return retry(); });
  SinkOptions o;
  o.maxAttempts = 0;  // the deadline alone ends it
  o.backoffMin = 1000ms;
  o.backoffMax = 1000ms;
  // k2 was written without a deadline (before deliveryHours): the sink's window ends it alike
  o.retryWindow = 1500ms;
  enqueue("team", "k1", {}, clock.now() + 1500ms);
  enqueue("team", "k2");
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").attempts == 1 && entry("k2").attempts == 1; }));
  for (const char* key : {"k1", "k2"}) {
    BOOST_TEST(entry(key).state == store::NotificationState::Pending);  // 1 s < 1.5 s: tried again
  }
  clock.advance(1000ms);
  d.wake("team");
  BOOST_TEST_REQUIRE(waitFor([&] {
    return entry("k1").state == store::NotificationState::Dead &&
           entry("k2").state == store::NotificationState::Dead;
  }));
  for (const char* key : {"k1", "k2"}) {
    BOOST_TEST(entry(key).lastError.find("deadline passed after 2 attempts") != std::string::npos, key);
  }
}

BOOST_AUTO_TEST_CASE(a_refusal_is_dead_at_once_and_what_the_sink_says_its_end_causes_is_written) {
  TestSink sink, incidents;
  sink.behave([](const store::OutboxEntry&, notify::Notifications&) {
    return plugin::DeliveryResult{Kind::Failed, "HTTP 400"};
  });
  sink.onDeadWrite([](const store::OutboxEntry& e) {
    notify::Notification n;
    n.sink = "incidents";
    n.kind = "check-abandoned";
    n.idempotencyKey = "abandoned-" + e.idempotencyKey;
    n.payload = "{}";
    return notify::Notifications{n};
  });
  Dispatcher d(outbox(), options());
  d.addSink("team", sink);
  d.addSink("incidents", incidents);
  enqueue("team", "k1");
  d.start();
  // The incident is written (and, claimed as it is written, may be delivered) before k1 is
  // marked dead: wait for both.
  BOOST_TEST_REQUIRE(waitFor([&] {
    return delivered("incidents") == 1 && entry("k1").state == store::NotificationState::Dead;
  }));
  BOOST_TEST(entry("k1").lastError == "refused by the sink: HTTP 400");
  BOOST_TEST(entry("abandoned-k1").kind == "check-abandoned");
  BOOST_TEST(sink.seen() == 1u);
}

BOOST_AUTO_TEST_CASE(follow_ups_of_a_delivery_are_written_with_it_and_delivered) {
  TestSink first, second;
  first.behave([](const store::OutboxEntry& e, notify::Notifications& followUps) {
    notify::Notification n;
    n.sink = "second";
    n.kind = "late-result";
    n.idempotencyKey = "after-" + e.idempotencyKey;
    n.payload = "{}";
    n.messageId = e.messageId;
    followUps.push_back(n);
    return plugin::DeliveryResult{};
  });
  Dispatcher d(outbox(), options());
  d.addSink("first", first);
  d.addSink("second", second);
  enqueue("first", "k1");
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered("second") == 1; }));
  BOOST_TEST(entry("k1").state == store::NotificationState::Delivered);
  BOOST_TEST(second.entries().front().idempotencyKey == "after-k1");
}

BOOST_AUTO_TEST_CASE(entries_of_one_order_key_go_one_at_a_time_oldest_first) {
  TestSink sink;
  SinkOptions o;
  o.concurrency = 4;
  for (int i = 0; i < 5; ++i) enqueue("team", "a" + std::to_string(i), "ed:V1");
  for (int i = 0; i < 3; ++i) enqueue("team", "b" + std::to_string(i), "ed:V2");
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == 8; }));
  BOOST_TEST(!sink.orderViolated());
  std::vector<std::string> a, b;
  for (const auto& e : sink.entries()) (e.orderKey == "ed:V1" ? a : b).push_back(e.idempotencyKey);
  BOOST_TEST(a == (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"}), boost::test_tools::per_element());
  BOOST_TEST(b == (std::vector<std::string>{"b0", "b1", "b2"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_failing_entry_holds_back_the_later_ones_of_its_order_key) {
  TestSink sink;
  sink.behave([](const store::OutboxEntry& e, notify::Notifications&) {
    return e.idempotencyKey == "first" && e.attempts == 0 ? retry() : plugin::DeliveryResult{};
  });
  SinkOptions o;
  o.concurrency = 2;
  o.backoffMin = o.backoffMax = 1000ms;
  enqueue("team", "first", "ed:V1");
  enqueue("team", "second", "ed:V1");
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return entry("first").attempts == 1; }));
  d.wake("team");  // the second is not due before the first is delivered
  clock.advance(1000ms);
  d.wake("team");
  BOOST_TEST_REQUIRE(waitFor([&] { return delivered() == 2; }));
  const auto seen = sink.entries();
  BOOST_TEST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(seen[0].idempotencyKey == "first");
  BOOST_TEST(seen[1].idempotencyKey == "first");
  BOOST_TEST(seen[2].idempotencyKey == "second");
}

BOOST_AUTO_TEST_CASE(a_sink_has_at_most_its_concurrency_in_flight) {
  TestSink sink;
  sink.close();
  SinkOptions o;
  o.concurrency = 3;
  for (int i = 0; i < 7; ++i) enqueue("team", "k" + std::to_string(i));
  Dispatcher d(outbox(), options());
  d.addSink("team", sink, o);
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 3; }));
  d.wake("team");
  sink.open();
  BOOST_TEST(waitFor([&] { return delivered() == 7; }));
  BOOST_TEST(sink.maxInFlight() == 3);
}

BOOST_AUTO_TEST_CASE(a_replayed_entry_is_found_by_polling) {
  TestSink sink;
  bool refuse = true;
  std::mutex m;
  sink.behave([&](const store::OutboxEntry&, notify::Notifications&) {
    const std::lock_guard lock(m);
    return refuse ? plugin::DeliveryResult{Kind::Failed, "not yet"} : plugin::DeliveryResult{};
  });
  auto o = options();
  o.pollInterval = 50ms;
  Dispatcher d(outbox(), o);
  d.addSink("team", sink);
  enqueue("team", "k1");
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] { return entry("k1").state == store::NotificationState::Dead; }));
  {
    const std::lock_guard lock(m);
    refuse = false;
  }
  // As cpis-admin does it: in the store only, without telling the dispatcher.
  BOOST_TEST_REQUIRE(outbox().replay(entry("k1").id).ok());
  BOOST_TEST(waitFor([&] { return entry("k1").state == store::NotificationState::Delivered; }));
  BOOST_TEST(sink.seen() == 2u);
}

BOOST_AUTO_TEST_CASE(stop_lets_the_delivery_in_flight_finish_and_loses_nothing) {
  TestSink sink;
  sink.close();
  enqueue("team", "k1");
  enqueue("team", "k2");
  {
    Dispatcher d(outbox(), options());
    d.addSink("team", sink);
    d.start();
    BOOST_TEST_REQUIRE(waitFor([&] { return sink.inFlight() == 1; }));
    std::thread stopper([&] { d.stop(); });
    sink.open();
    stopper.join();
    BOOST_TEST(sink.finished() >= 1);
    BOOST_TEST(entry("k1").state == store::NotificationState::Delivered);  // finished and marked
  }
  // What was not delivered is still pending and unclaimed: a new dispatcher delivers it.
  TestSink after;
  Dispatcher d(outbox(), options());
  d.addSink("team", after);
  d.start();
  BOOST_TEST(waitFor([&] { return delivered() == 2; }));
  BOOST_TEST(sink.seen() + after.seen() == 2u);
}

BOOST_AUTO_TEST_CASE(claimed_entries_of_a_process_that_died_return_when_the_store_opens_again) {
  enqueue("team", "k1");
  const auto claimed = outbox().claimDue("team", 10, clock.now());
  BOOST_TEST_REQUIRE(claimed.ok());
  BOOST_TEST_REQUIRE(claimed.value().size() == 1u);  // claimed, never marked: the process "died"
  store->close();
  store.reset();
  store = open(dir.file("store.db"), clock.function());
  TestSink sink;
  Dispatcher d(outbox(), options());
  d.addSink("team", sink);
  d.start();
  BOOST_TEST(waitFor([&] { return delivered() == 1; }));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(plugin_sink, DispatcherFixture)

BOOST_AUTO_TEST_CASE(a_sink_plugin_gets_the_payload_fields_and_its_answer_decides) {
  plugin::PluginRegistry registry({CPIS_TEST_PLUGIN_DIR});
  const auto& library = registry.find(plugin::PluginKind::Sink, "echo");
  notify::PluginSink sink(plugin::SinkPlugin::create(library, {{"peer", "the team"}}));
  Dispatcher d(outbox(), options());
  SinkOptions o;
  o.backoffMin = o.backoffMax = 1000ms;
  d.addSink("echo", sink, o);
  enqueue("echo", "ok-1", {}, std::nullopt, R"({"answer":"ok"})");
  enqueue("echo", "retry-1", {}, std::nullopt, R"({"answer":"retry"})");
  enqueue("echo", "error-1", {}, std::nullopt, R"({"answer":"error"})");
  enqueue("echo", "broken-1", {}, std::nullopt, "not json");
  d.start();
  BOOST_TEST_REQUIRE(waitFor([&] {
    return entry("ok-1").state == store::NotificationState::Delivered && entry("retry-1").attempts == 1 &&
           entry("error-1").state == store::NotificationState::Dead &&
           entry("broken-1").state == store::NotificationState::Dead;
  }));
  BOOST_TEST(entry("retry-1").lastError == "the team is down");
  // The plugin sees the entry's idempotency key.
  BOOST_TEST(entry("error-1").lastError == "refused by the sink: the team refused error-1");
  BOOST_TEST(entry("broken-1").lastError.find("not a JSON object") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
