// The transactional outbox (outbox.h) and MessageStore::finish, run against every store
// (store_backends.h): notifications written with the message state that causes them, claimed,
// delivered, retried, dead-lettered and replayed. What only one store has (PostgreSQL's
// instances and leases, SQLite's migration from the schema before the outbox) follows below.
#include <algorithm>
#include <array>
#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Tuple.h>

#include <boost/test/unit_test.hpp>

#include "engine/store/pg_connection.h"
#include "engine/store/postgres_reader.h"
#include "engine/store/postgres_schema.h"
#include "engine/store/sqlite_schema.h"
#include "tests/unit/store/outbox_test_data.h"
#include "tests/unit/store/store_backends.h"

using namespace std::chrono_literals;
using cpis::core::Status;
using cpis::store::Completion;
using cpis::store::MessageId;
using cpis::store::MessageState;
using cpis::store::NewNotification;
using cpis::store::NotificationId;
using cpis::store::NotificationState;
using cpis::store::Outbox;
using cpis::store::OutboxEntry;
using cpis::store::OutboxFilter;
using cpis::store::TimePoint;
using cpis::test::FakeClock;
using cpis::test::PgTestSchema;
using cpis::test::StoreBackends;
using cpis::test::StoreFixture;

namespace {

constexpr std::string_view kSink = cpis::test::kOutboxSink;
const std::string& kAck = cpis::test::kOutboxAck;
using cpis::test::notification;

std::vector<OutboxEntry> listAll(Outbox& outbox, OutboxFilter filter = {}) {
  auto entries = outbox.list(filter);
  BOOST_TEST_REQUIRE(entries.ok(), (entries.ok() ? "" : entries.error().message()));
  return entries.value();
}

std::vector<NotificationId> ids(const std::vector<OutboxEntry>& entries) {
  std::vector<NotificationId> result;
  for (const auto& entry : entries) result.push_back(entry.id);
  return result;
}

std::vector<NotificationId> claim(Outbox& outbox, TimePoint now, std::size_t limit = 100,
                                  std::string_view sink = kSink) {
  auto claimed = outbox.claimDue(sink, limit, now);
  BOOST_TEST_REQUIRE(claimed.ok(), (claimed.ok() ? "" : claimed.error().message()));
  return ids(claimed.value());
}

// Enqueues one notification and returns its id (the newest entry).
NotificationId enqueue(Outbox& outbox, const NewNotification& n) {
  const auto status = outbox.enqueue({&n, 1});
  BOOST_TEST_REQUIRE(status.isOk(), status.message());
  const auto newest = listAll(outbox, OutboxFilter{std::nullopt, std::string(n.sink), std::nullopt, 1});
  BOOST_TEST_REQUIRE(newest.size() == 1U);
  return newest.front().id;
}

std::uint64_t total(Outbox& outbox) {
  const auto counts = outbox.counts(std::nullopt).value();
  return counts.pending + counts.delivered + counts.dead;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox)

BOOST_AUTO_TEST_CASE_TEMPLATE(finish_records_ack_state_and_notifications_in_one_write, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("M1");
  const std::array notifications{
      notification("plan-found:edsys:V1:1"),
      notification("late-result:edsys:V1:1", {}, "epr-return:edsys", "late-result")};
  const auto before = fixture.stats();
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Processed, "AA found", kAck, notifications).isOk());
  const auto after = fixture.stats();
  BOOST_TEST(after.writes == before.writes + 1);  // one write request: one transaction, one sync
  BOOST_TEST(after.transactions == before.transactions + 1);
  const auto message = fixture.store().fetch(id).value();
  BOOST_TEST((message.state == MessageState::Processed));
  BOOST_TEST(message.outcome == "AA found");
  BOOST_TEST(message.ack.value() == kAck);
  BOOST_TEST((message.ackedAt == fixture.clock.now()));
  BOOST_TEST((message.finishedAt == fixture.clock.now()));
  const auto entries = listAll(fixture.store().outbox());
  BOOST_REQUIRE(entries.size() == 2U);
  const OutboxEntry& first = entries[1];  // newest first
  BOOST_TEST(first.messageId.value() == id);
  BOOST_TEST(first.sink == kSink);
  BOOST_TEST(first.kind == "plan-found");
  BOOST_TEST(first.idempotencyKey == "plan-found:edsys:V1:1");
  BOOST_TEST(first.payload == notifications[0].payload);
  BOOST_TEST((first.state == NotificationState::Pending));
  BOOST_TEST(first.attempts == 0U);
  BOOST_TEST((first.createdAt == fixture.clock.now()));
  BOOST_TEST((first.nextAttemptAt == fixture.clock.now()));
  BOOST_TEST(!first.deadline.has_value());
  BOOST_TEST(!first.finishedAt.has_value());
  BOOST_TEST(entries[0].sink == "epr-return:edsys");
  BOOST_TEST(entries[0].messageId.value() == id);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finish_without_an_ack_keeps_the_recorded_one, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("M1");
  BOOST_REQUIRE(fixture.store().recordAck(id, "ACCEPT ACK").isOk());
  const auto ackedAt = fixture.clock.now();
  fixture.clock.advance(5s);
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Failed, "CHECK_FAILED", "").isOk());
  const auto message = fixture.store().fetch(id).value();
  BOOST_TEST((message.state == MessageState::Failed));
  BOOST_TEST(message.ack.value() == "ACCEPT ACK");
  BOOST_TEST((message.ackedAt == ackedAt));
  BOOST_TEST((message.finishedAt == fixture.clock.now()));
  BOOST_TEST(total(fixture.store().outbox()) == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_refused_finish_changes_nothing, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId id = fixture.persist("M1");
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Processed, "AA", kAck).isOk());
  const std::array notifications{notification("plan-found:edsys:V1:2")};
  // already finished: neither the ACK, nor the outcome, nor the notification
  const auto again = fixture.store().finish(id, MessageState::Rejected, "AR", "OTHER ACK", notifications);
  BOOST_TEST((again.code() == Status::Code::InvalidArgument));
  const auto message = fixture.store().fetch(id).value();
  BOOST_TEST(message.ack.value() == kAck);
  BOOST_TEST((message.state == MessageState::Processed));
  BOOST_TEST(message.outcome == "AA");
  BOOST_TEST((fixture.store().finish(9999, MessageState::Processed, "AA", kAck, notifications).code() ==
              Status::Code::NotFound));
  BOOST_TEST((fixture.store().finish(id, MessageState::Received, "", kAck, notifications).code() ==
              Status::Code::InvalidArgument));
  BOOST_TEST(total(fixture.store().outbox()) == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(finishes_in_one_batch_write_only_their_own_notifications, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const MessageId done = fixture.persist("M1");
  BOOST_REQUIRE(fixture.store().markOutcome(done, MessageState::Processed, "AA").isOk());
  constexpr int kMessages = 16;
  std::vector<MessageId> open;
  for (int i = 0; i < kMessages; ++i) open.push_back(fixture.persist("N" + std::to_string(i)));
  std::vector<std::string> keys;
  for (int i = 0; i <= kMessages; ++i) keys.push_back("plan-found:edsys:V" + std::to_string(i) + ":1");
  std::latch start(kMessages + 1);
  std::vector<std::thread> threads;
  std::atomic<int> unexpected{0};
  for (int i = 0; i <= kMessages; ++i) {
    threads.emplace_back([&, i] {
      const std::array n{notification(keys[static_cast<std::size_t>(i)])};
      start.arrive_and_wait();
      // the first is refused (finished already); the others finish, concurrently
      const MessageId id = i == 0 ? done : open[static_cast<std::size_t>(i - 1)];
      const auto status = fixture.store().finish(id, MessageState::Processed, "AA", kAck, n);
      if (status.isOk() != (i != 0)) ++unexpected;
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(unexpected == 0);
  const auto entries = listAll(fixture.store().outbox());
  BOOST_REQUIRE(entries.size() == static_cast<std::size_t>(kMessages));
  for (const auto& entry : entries) {
    BOOST_TEST(entry.idempotencyKey != keys[0]);
    const auto index = std::stoi(entry.idempotencyKey.substr(std::string("plan-found:edsys:V").size()));
    BOOST_TEST(entry.messageId.value() == open[static_cast<std::size_t>(index - 1)]);
  }
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_completion_writes_its_notifications_and_a_duplicate_none, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::string raw = StoreFixture<Backend>::messageBytes("C1");
  const std::array notifications{notification("plan-found:edsys:V1:1")};
  Completion completion{MessageState::Processed, "AA found", kAck, notifications};
  const auto before = fixture.stats();
  const auto persisted = fixture.store().persistInbound({"edsys", "C1", raw, completion});
  BOOST_REQUIRE(persisted.ok());
  BOOST_TEST(fixture.stats().writes == before.writes + 1);
  auto entries = listAll(fixture.store().outbox());
  BOOST_REQUIRE(entries.size() == 1U);
  BOOST_TEST(entries[0].messageId.value() == persisted->id);
  BOOST_TEST((entries[0].createdAt == fixture.clock.now()));
  // the same message again, with a notification of another key: a duplicate writes nothing
  const std::array other{notification("plan-found:edsys:V1:2")};
  completion.notifications = other;
  const auto again = fixture.store().persistInbound({"edsys", "C1", raw, completion});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(total(fixture.store().outbox()) == 1U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(an_idempotency_key_is_written_once_per_sink, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const std::array batch{notification("plan-found:edsys:V1:1"), notification("plan-found:edsys:V1:1"),
                         notification("plan-found:edsys:V1:1", {}, "other-sink")};
  BOOST_REQUIRE(outbox.enqueue(batch).isOk());
  BOOST_TEST(total(outbox) == 2U);
  // a replayed attendance: the same key again, not an error, nothing new
  const MessageId id = fixture.persist("M1");
  const std::array again{notification("plan-found:edsys:V1:1")};
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Processed, "AA", kAck, again).isOk());
  BOOST_TEST(outbox.counts(std::string_view(kSink)).value().pending == 1U);
  BOOST_TEST(outbox.counts(std::string_view("other-sink")).value().pending == 1U);
  // even once the first was delivered
  const auto claimed = claim(outbox, fixture.clock.now());
  BOOST_REQUIRE(claimed.size() == 1U);
  BOOST_REQUIRE(outbox.markDelivered(claimed[0]).isOk());
  BOOST_REQUIRE(outbox.enqueue(again).isOk());
  BOOST_TEST(total(outbox) == 2U);
  // Found by its pair, as it is now (delivered); another sink's entry under the same key is its own.
  const auto found = outbox.find(kSink, "plan-found:edsys:V1:1");
  BOOST_TEST_REQUIRE(found.ok());
  BOOST_TEST_REQUIRE(found.value().has_value());
  BOOST_TEST(found.value()->id == claimed[0]);
  BOOST_TEST((found.value()->state == NotificationState::Delivered));
  const auto other = outbox.find("other-sink", "plan-found:edsys:V1:1");
  BOOST_TEST_REQUIRE(other.ok());
  BOOST_TEST_REQUIRE(other.value().has_value());
  BOOST_TEST((other.value()->state == NotificationState::Pending));
  const auto none = outbox.find(kSink, "plan-found:edsys:V1:2");
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(!none.value().has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(notifications_without_sink_kind_or_key_are_refused, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  for (const auto& bad : {notification(""), notification("k", {}, ""), notification("k", {}, kSink, "")}) {
    const std::array batch{notification("fine"), bad};
    const auto status = outbox.enqueue(batch);
    BOOST_TEST((status.code() == Status::Code::InvalidArgument));
    BOOST_TEST(status.message().find("notification 2 of 2") != std::string::npos);
  }
  const MessageId id = fixture.persist("M1");
  const std::array bad{notification("")};
  BOOST_TEST((fixture.store().finish(id, MessageState::Processed, "AA", kAck, bad).code() ==
              Status::Code::InvalidArgument));
  BOOST_TEST((fixture.store().fetch(id)->state == MessageState::Received));
  BOOST_TEST(total(outbox) == 0U);
  BOOST_TEST(outbox.enqueue({}).isOk());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(claim_deliver_retry_dead_and_replay, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const NotificationId a = enqueue(outbox, notification("k1"));
  const NotificationId b = enqueue(outbox, notification("k2"));
  NewNotification withDeadline = notification("k3");
  withDeadline.deadline = fixture.clock.now() + 24h;
  const NotificationId c = enqueue(outbox, withDeadline);
  (void)enqueue(outbox, notification("k4", {}, "other-sink"));

  auto claimed = outbox.claimDue(kSink, 10, fixture.clock.now());
  BOOST_REQUIRE(claimed.ok());
  BOOST_TEST(ids(claimed.value()) == (std::vector<NotificationId>{a, b, c}));  // oldest first, one sink
  BOOST_TEST((claimed.value()[2].deadline.value() == fixture.clock.now() + 24h));
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());  // claimed once

  fixture.clock.advance(1s);
  BOOST_REQUIRE(outbox.markDelivered(a).isOk());
  auto entry = outbox.get(a).value();
  BOOST_TEST((entry.state == NotificationState::Delivered));
  BOOST_TEST(entry.attempts == 1U);
  BOOST_TEST((entry.finishedAt.value() == fixture.clock.now()));

  const TimePoint retryAt = fixture.clock.now() + 30s;
  BOOST_REQUIRE(outbox.markRetry(b, retryAt, "HTTP 503").isOk());
  entry = outbox.get(b).value();
  BOOST_TEST((entry.state == NotificationState::Pending));
  BOOST_TEST(entry.attempts == 1U);
  BOOST_TEST((entry.nextAttemptAt == retryAt));
  BOOST_TEST(entry.lastError == "HTTP 503");
  BOOST_TEST(!entry.finishedAt.has_value());

  BOOST_REQUIRE(outbox.markDead(c, "HTTP 400 refused").isOk());
  entry = outbox.get(c).value();
  BOOST_TEST((entry.state == NotificationState::Dead));
  BOOST_TEST(entry.lastError == "HTTP 400 refused");
  BOOST_TEST((entry.finishedAt.value() == fixture.clock.now()));

  // finished entries are finished once; unknown ids are not found
  BOOST_TEST((outbox.markDelivered(a).code() == Status::Code::InvalidArgument));
  BOOST_TEST((outbox.markRetry(c, retryAt, "x").code() == Status::Code::InvalidArgument));
  BOOST_TEST((outbox.markDead(a, "x").code() == Status::Code::InvalidArgument));
  BOOST_TEST((outbox.markDelivered(9999).code() == Status::Code::NotFound));
  BOOST_TEST((outbox.get(9999).error().code() == Status::Code::NotFound));

  // b is due again once its back-off has passed
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  BOOST_TEST((outbox.nextDue(kSink).value().value() == retryAt));
  fixture.clock.advance(30s);
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{b});

  // the dead one is replayed: pending, due now, attempts cleared, its deadline (still ahead) and
  // the error kept
  const TimePoint deadline = outbox.get(c).value().deadline.value();
  fixture.clock.advance(1min);
  BOOST_TEST(outbox.replay(c).value() == 1U);
  entry = outbox.get(c).value();
  BOOST_TEST((entry.state == NotificationState::Pending));
  BOOST_TEST(entry.attempts == 0U);
  BOOST_TEST((entry.nextAttemptAt == fixture.clock.now()));
  BOOST_TEST((entry.deadline == deadline));
  BOOST_TEST(!entry.finishedAt.has_value());
  BOOST_TEST(entry.lastError == "HTTP 400 refused");
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{c});
  BOOST_TEST((outbox.replay(a).error().code() == Status::Code::InvalidArgument));  // delivered
  BOOST_TEST((outbox.replay(9999).error().code() == Status::Code::NotFound));
}

// A replay keeps an entry's end. A deferred check's sink makes unlimited attempts and stops at
// its deadline (then check-abandoned tells a person): a replay that cleared the deadline left it
// retrying for ever, and nobody was told. A deadline still ahead stays (a pending entry replayed
// to try it now); one passed gives the entry its window again, counted from the replay.
BOOST_AUTO_TEST_CASE_TEMPLATE(a_replay_keeps_the_entrys_deadline_or_gives_its_window_again, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const TimePoint created = fixture.clock.now();
  NewNotification deferred = notification("k1");
  deferred.deadline = created + 24h;
  const NotificationId pending = enqueue(outbox, deferred);
  deferred.idempotencyKey = "k2";
  const NotificationId late = enqueue(outbox, deferred);
  const NotificationId none = enqueue(outbox, notification("k3"));
  BOOST_TEST(claim(outbox, fixture.clock.now()).size() == 3U);
  BOOST_REQUIRE(outbox.markRetry(pending, created + 1h, "SPINE_UNAVAILABLE").isOk());
  BOOST_REQUIRE(outbox.markDead(none, "refused").isOk());
  fixture.clock.advance(10min);
  BOOST_TEST(outbox.replay(pending).value() == 1U);  // try it now: the same end
  BOOST_TEST((outbox.get(pending)->deadline == created + 24h));
  BOOST_TEST((outbox.get(pending)->nextAttemptAt == fixture.clock.now()));

  fixture.clock.advance(25h);  // past its deadline: the dispatcher marks it dead
  BOOST_REQUIRE(outbox.markDead(late, "deadline passed").isOk());
  fixture.clock.advance(2h);
  BOOST_TEST(outbox.replayDead(std::nullopt, std::nullopt).value() == 2U);
  BOOST_TEST((outbox.get(late)->deadline == fixture.clock.now() + 24h));  // its 24 hours again
  BOOST_TEST(!outbox.get(none)->deadline.has_value());                    // none: still none
}

// A dispatcher that stops gives back what it claimed and did not try: claimable again at once,
// no attempt counted, nothing else changed; entries not held, or finished, are passed over.
BOOST_AUTO_TEST_CASE_TEMPLATE(release_gives_claims_back_untried, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const NotificationId a = enqueue(outbox, notification("k1"));
  const NotificationId b = enqueue(outbox, notification("k2"));
  const NotificationId c = enqueue(outbox, notification("k3"));
  BOOST_TEST(claim(outbox, fixture.clock.now()) == (std::vector<NotificationId>{a, b, c}));
  BOOST_REQUIRE(outbox.markDelivered(c).isOk());
  const std::vector<NotificationId> back{a, b, c, 9999};
  BOOST_TEST(outbox.release(back).value() == 2U);  // c is finished, 9999 unknown
  for (const NotificationId id : {a, b}) {
    const auto entry = outbox.get(id).value();
    BOOST_TEST((entry.state == NotificationState::Pending));
    BOOST_TEST(entry.attempts == 0U);
    BOOST_TEST((entry.nextAttemptAt == entry.createdAt));
  }
  BOOST_TEST((outbox.get(c)->state == NotificationState::Delivered));
  BOOST_TEST(claim(outbox, fixture.clock.now()) == (std::vector<NotificationId>{a, b}));
  BOOST_TEST(outbox.release(std::vector<NotificationId>{}).value() == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(replay_dead_replays_every_dead_entry_of_a_sink, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const std::array batch{notification("k1"), notification("k2"), notification("k3"),
                         notification("k4", {}, "other-sink")};
  BOOST_REQUIRE(outbox.enqueue(batch).isOk());
  for (const auto sink : {kSink, std::string_view("other-sink")}) {
    for (const NotificationId id : claim(outbox, fixture.clock.now(), 100, sink)) {
      BOOST_REQUIRE(outbox.markDead(id, "refused").isOk());
    }
  }
  BOOST_TEST(outbox.counts(std::nullopt).value().dead == 4U);
  BOOST_TEST(outbox.replayDead(std::string_view(kSink), std::nullopt).value() == 3U);
  BOOST_TEST(outbox.counts(std::string_view(kSink)).value().pending == 3U);
  BOOST_TEST(outbox.counts(std::string_view("other-sink")).value().dead == 1U);
  BOOST_TEST(outbox.replayDead(std::nullopt, std::nullopt).value() == 1U);
  BOOST_TEST(outbox.counts(std::nullopt).value().dead == 0U);
  BOOST_TEST(claim(outbox, fixture.clock.now()).size() == 3U);
}

// Every sink's dead entries but one sink's (cpis-admin's --all-dead leaves deferred checks dead),
// in one statement.
BOOST_AUTO_TEST_CASE_TEMPLATE(replay_dead_leaves_the_excepted_sink_dead, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const std::array batch{notification("k1"), notification("k2", {}, "other-sink"),
                         notification("k3", {}, "third-sink")};
  BOOST_REQUIRE(outbox.enqueue(batch).isOk());
  for (const auto sink : {kSink, std::string_view("other-sink"), std::string_view("third-sink")}) {
    for (const NotificationId id : claim(outbox, fixture.clock.now(), 100, sink)) {
      BOOST_REQUIRE(outbox.markDead(id, "refused").isOk());
    }
  }
  BOOST_TEST(outbox.replayDead(std::nullopt, std::string_view("other-sink")).value() == 2U);
  BOOST_TEST(outbox.counts(std::string_view("other-sink")).value().dead == 1U);
  BOOST_TEST(outbox.counts(std::string_view(kSink)).value().pending == 1U);
  BOOST_TEST(outbox.counts(std::string_view("third-sink")).value().pending == 1U);
  BOOST_TEST(outbox.replayDead(std::nullopt, std::string_view("other-sink")).value() == 0U);
}

// The retention purge drops the payload (names, NHS numbers) of notifications finished longer
// ago than the retention, as it drops messages' content; pending ones keep theirs, and a dead
// one whose payload is gone can no longer be replayed.
BOOST_AUTO_TEST_CASE_TEMPLATE(the_purge_drops_old_finished_payloads, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const NotificationId delivered = enqueue(outbox, notification("k1"));
  const NotificationId dead = enqueue(outbox, notification("k2"));
  const NotificationId pending = enqueue(outbox, notification("k3"));
  (void)claim(outbox, fixture.clock.now());
  BOOST_REQUIRE(outbox.markDelivered(delivered).isOk());
  BOOST_REQUIRE(outbox.markDead(dead, "refused").isOk());
  BOOST_REQUIRE(outbox.markRetry(pending, fixture.clock.now() + 1h, "HTTP 503").isOk());
  fixture.clock.advance(std::chrono::days(20));
  const NotificationId recent = enqueue(outbox, notification("k4"));
  (void)claim(outbox, fixture.clock.now());
  BOOST_REQUIRE(outbox.markDelivered(recent).isOk());
  fixture.clock.advance(std::chrono::days(11));

  const auto purged = fixture.store().purgeContent(std::chrono::days(30));
  BOOST_REQUIRE(purged.ok());
  BOOST_TEST(purged.value() == 2U);
  BOOST_TEST(outbox.get(delivered).value().payload.empty());
  BOOST_TEST(outbox.get(dead).value().payload.empty());
  BOOST_TEST(!outbox.get(pending).value().payload.empty());
  BOOST_TEST(!outbox.get(recent).value().payload.empty());
  BOOST_TEST((outbox.replay(dead).error().code() == Status::Code::InvalidArgument));
  BOOST_TEST(outbox.replayDead(std::nullopt, std::nullopt).value() == 0U);
  BOOST_TEST(fixture.store().purgeContent(std::chrono::days(30)).value() == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(delivery_writes_its_follow_ups_in_the_same_transaction, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const MessageId message = fixture.persist("M1");
  const std::array recheck{notification("deferred-check:edsys:V1:1", {}, "cpis-recheck", "deferred-check")};
  BOOST_REQUIRE(fixture.store().finish(message, MessageState::Processed, "AA failed", kAck, recheck).isOk());
  const auto claimed = claim(outbox, fixture.clock.now(), 10, "cpis-recheck");
  BOOST_REQUIRE(claimed.size() == 1U);
  const std::array followUps{notification("late-result:edsys:V1:1", {}, "epr-return:edsys", "late-result"),
                             notification("plan-found:edsys:V1:1")};
  BOOST_REQUIRE(outbox.markDelivered(claimed[0], followUps).isOk());
  const auto late =
      listAll(outbox, OutboxFilter{std::nullopt, std::string("epr-return:edsys"), std::nullopt, 10});
  BOOST_REQUIRE(late.size() == 1U);
  BOOST_TEST(late[0].messageId.value() == message);  // the follow-ups belong to the same message
  BOOST_TEST(late[0].kind == "late-result");
  // a refused delivery writes no follow-up
  const std::array more{notification("plan-found:edsys:V1:9")};
  BOOST_TEST((outbox.markDelivered(claimed[0], more).code() == Status::Code::InvalidArgument));
  BOOST_TEST(total(outbox) == 3U);
}

// Entries queued behind a retried one of their order key cannot go before it is finished, so
// they wait as long as it does: their next attempt moves with it (and a new one of the key
// starts there), and claims walking the waiting entries in time order pass none of them while
// it backs off. Once it is delivered they are due at once.
BOOST_AUTO_TEST_CASE_TEMPLATE(entries_queued_behind_a_retried_one_wait_as_long, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const NotificationId first = enqueue(outbox, notification("k1", "visit-1"));
  const NotificationId second = enqueue(outbox, notification("k2", "visit-1"));
  const NotificationId other = enqueue(outbox, notification("k3", "visit-2"));
  BOOST_TEST(claim(outbox, fixture.clock.now()) == (std::vector<NotificationId>{first, other}));
  const TimePoint retryAt = fixture.clock.now() + 30s;
  BOOST_REQUIRE(outbox.markRetry(first, retryAt, "HTTP 503").isOk());
  BOOST_TEST((outbox.get(second)->nextAttemptAt == retryAt));
  BOOST_TEST((outbox.get(other)->nextAttemptAt == outbox.get(other)->createdAt));  // another key
  BOOST_TEST(outbox.get(second)->attempts == 0U);
  fixture.clock.advance(1s);
  const NotificationId third = enqueue(outbox, notification("k4", "visit-1"));
  const NotificationId unordered = enqueue(outbox, notification("k5"));
  BOOST_TEST((outbox.get(third)->nextAttemptAt == retryAt));
  BOOST_TEST((outbox.get(unordered)->nextAttemptAt == fixture.clock.now()));
  BOOST_REQUIRE(outbox.markDelivered(other).isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{unordered});
  BOOST_TEST((outbox.nextDue(kSink).value().value() == retryAt));
  fixture.clock.advance(30s);
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{first});
  BOOST_REQUIRE(outbox.markDelivered(first).isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{second});  // due at once
  BOOST_REQUIRE(outbox.markDelivered(second).isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{third});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(entries_of_one_order_key_are_claimed_one_at_a_time_oldest_first, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const NotificationId p1First = enqueue(outbox, notification("k1", "patient-1"));
  const NotificationId p1Second = enqueue(outbox, notification("k2", "patient-1"));
  const NotificationId p2 = enqueue(outbox, notification("k3", "patient-2"));
  const NotificationId unordered = enqueue(outbox, notification("k4"));
  const NotificationId p1Third = enqueue(outbox, notification("k5", "patient-1"));
  // the same order key on another sink is another queue
  const NotificationId elsewhere = enqueue(outbox, notification("k6", "patient-1", "other-sink"));

  BOOST_TEST(claim(outbox, fixture.clock.now()) == (std::vector<NotificationId>{p1First, p2, unordered}));
  BOOST_TEST(claim(outbox, fixture.clock.now(), 10, "other-sink") == std::vector<NotificationId>{elsewhere});
  // not delivered: the next of patient-1 waits behind it, even while it is not due
  BOOST_REQUIRE(outbox.markRetry(p1First, fixture.clock.now() + 10s, "timeout").isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  BOOST_TEST((outbox.nextDue(kSink).value().value() == fixture.clock.now() + 10s));
  fixture.clock.advance(10s);
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{p1First});
  BOOST_REQUIRE(outbox.markDelivered(p1First).isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{p1Second});
  // dead-lettered: the next one goes
  BOOST_REQUIRE(outbox.markDead(p1Second, "refused").isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{p1Third});
  // replayed while a later one of its key is held: it waits until that one is finished
  BOOST_TEST(outbox.replay(p1Second).value() == 1U);
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  BOOST_REQUIRE(outbox.markDelivered(p1Third).isOk());
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{p1Second});
}

BOOST_AUTO_TEST_CASE_TEMPLATE(not_before_delays_the_first_attempt_and_next_due_says_when, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  BOOST_TEST(!outbox.nextDue(kSink).value().has_value());  // nothing pending
  NewNotification later = notification("k1");
  later.notBefore = fixture.clock.now() + 5min;
  const NotificationId id = enqueue(outbox, later);
  BOOST_TEST((outbox.get(id)->nextAttemptAt == fixture.clock.now() + 5min));
  BOOST_TEST((outbox.nextDue(kSink).value().value() == fixture.clock.now() + 5min));
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  fixture.clock.advance(5min - 1us);
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  fixture.clock.advance(1us);
  BOOST_TEST(claim(outbox, fixture.clock.now()) == std::vector<NotificationId>{id});
  BOOST_TEST(!outbox.nextDue("other-sink").value().has_value());
  BOOST_REQUIRE(outbox.markDelivered(id).isOk());
  BOOST_TEST(!outbox.nextDue(kSink).value().has_value());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_filters_newest_first_and_counts, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const std::array batch{notification("k1"), notification("k2", {}, kSink, "check-failed"),
                         notification("k3"), notification("k4", {}, "other-sink")};
  BOOST_REQUIRE(outbox.enqueue(batch).isOk());
  const auto all = listAll(outbox);
  BOOST_REQUIRE(all.size() == 4U);
  BOOST_TEST(
      std::is_sorted(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.id > y.id; }));
  const auto claimed = claim(outbox, fixture.clock.now());
  BOOST_REQUIRE(claimed.size() == 3U);
  BOOST_REQUIRE(outbox.markDelivered(claimed[0]).isOk());
  BOOST_REQUIRE(outbox.markDead(claimed[1], "refused").isOk());

  BOOST_TEST(ids(listAll(outbox, {NotificationState::Dead, std::nullopt, std::nullopt, 100})) ==
             std::vector<NotificationId>{claimed[1]});
  BOOST_TEST(listAll(outbox, {std::nullopt, std::string(kSink), std::nullopt, 100}).size() == 3U);
  BOOST_TEST(ids(listAll(outbox, {std::nullopt, std::nullopt, std::string("check-failed"), 100})) ==
             std::vector<NotificationId>{claimed[1]});
  BOOST_TEST(listAll(outbox, {NotificationState::Pending, std::string(kSink), std::string("plan-found"), 100})
                 .size() == 1U);
  BOOST_TEST(ids(listAll(outbox, {std::nullopt, std::nullopt, std::nullopt, 2})) ==
             (std::vector<NotificationId>{all[0].id, all[1].id}));

  const auto counts = outbox.counts(std::nullopt).value();
  BOOST_TEST(counts.pending == 2U);
  BOOST_TEST(counts.delivered == 1U);
  BOOST_TEST(counts.dead == 1U);
  const auto ofSink = outbox.counts(std::string_view(kSink)).value();
  BOOST_TEST(ofSink.pending == 1U);
  BOOST_TEST(outbox.counts(std::string_view("nobody")).value().pending == 0U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(keys_and_payload_come_back_byte_for_byte, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  const std::string key = "plan-found:edsys:V\xE9\xFF:1";  // a visit number in Latin-1
  const std::string orderKey("P\0\xE9", 3);
  std::string payload = "{\"x\":\"";
  for (int value = 0; value < 256; ++value) payload.push_back(static_cast<char>(value));
  payload += "\"}";
  NewNotification n = notification(key, orderKey);
  n.payload = payload;
  const NotificationId id = enqueue(outbox, n);
  const auto entry = outbox.get(id).value();
  BOOST_TEST(entry.idempotencyKey == key);
  BOOST_TEST(entry.orderKey == orderKey);
  BOOST_TEST(entry.payload == payload);
  BOOST_REQUIRE(outbox.enqueue({&n, 1}).isOk());  // the same bytes: the same key
  BOOST_TEST(total(outbox) == 1U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(reopening_keeps_pending_entries_and_frees_their_claims, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const std::array batch{notification("k1"), notification("k2")};
  BOOST_REQUIRE(fixture.store().outbox().enqueue(batch).isOk());
  const auto claimed = claim(fixture.store().outbox(), fixture.clock.now(), 1);
  BOOST_REQUIRE(claimed.size() == 1U);
  fixture.reopen();  // the run that held the claim has ended
  auto& outbox = fixture.store().outbox();
  BOOST_TEST(outbox.counts(std::nullopt).value().pending == 2U);
  BOOST_TEST(claim(outbox, fixture.clock.now()).size() == 2U);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(threads_claiming_at_once_never_get_the_same_entry, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  constexpr int kEntries = 150;
  std::vector<std::string> keys;
  for (int i = 0; i < kEntries; ++i) keys.push_back("k" + std::to_string(i));
  std::vector<NewNotification> batch;
  for (const auto& key : keys) batch.push_back(notification(key));
  BOOST_REQUIRE(outbox.enqueue(batch).isOk());
  std::mutex mutex;
  std::vector<NotificationId> taken;
  std::atomic<int> failures{0};
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (;;) {
        auto claimed = outbox.claimDue(kSink, 7, fixture.clock.now());
        if (!claimed.ok()) {
          ++failures;
          return;
        }
        if (claimed.value().empty()) return;
        for (const auto& entry : claimed.value()) {
          if (!outbox.markDelivered(entry.id).isOk()) ++failures;
        }
        const std::lock_guard lock(mutex);
        for (const auto& entry : claimed.value()) taken.push_back(entry.id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  std::sort(taken.begin(), taken.end());
  BOOST_TEST((std::adjacent_find(taken.begin(), taken.end()) == taken.end()));
  BOOST_TEST(taken.size() == static_cast<std::size_t>(kEntries));
  BOOST_TEST(outbox.counts(std::nullopt).value().delivered == static_cast<std::uint64_t>(kEntries));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(after_close_outbox_writes_are_refused_and_reads_still_work, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  const NotificationId id = enqueue(fixture.store().outbox(), notification("k1"));
  fixture.store().close();
  auto& outbox = fixture.store().outbox();
  BOOST_TEST((outbox.enqueue(std::array{notification("k2")}).code() == Status::Code::Unavailable));
  BOOST_TEST((outbox.markDead(id, "x").code() == Status::Code::Unavailable));
  BOOST_TEST(outbox.get(id).ok());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- PostgreSQL: instances sharing the outbox ------------------------------------------------

namespace {

using cpis::store::PostgresMessageStore;
using cpis::store::PostgresStoreOptions;

class Instances {
 public:
  explicit Instances(std::chrono::seconds lease = 30s) : lease_(lease) {}

  PostgresMessageStore& open(const std::string& name) {
    PostgresStoreOptions options;
    options.instance = name;
    options.claimLease = lease_;
    options.clock = clock.function();
    auto opened = PostgresMessageStore::open(schema.connection(), options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    stores_.push_back(std::move(opened).value());
    return *stores_.back();
  }

  FakeClock clock;
  PgTestSchema schema;  // before the stores: dropped after they have closed

 private:
  std::chrono::seconds lease_;
  std::vector<std::unique_ptr<PostgresMessageStore>> stores_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_outbox)

BOOST_AUTO_TEST_CASE(instances_claiming_at_once_never_get_the_same_entry) {
  Instances instances;
  auto& producer = instances.open("producer");
  constexpr int kEntries = 120;
  std::vector<std::string> keys;
  std::vector<std::string> orderKeys;
  for (int i = 0; i < kEntries; ++i) {
    keys.push_back("k" + std::to_string(i));
    // some of them in order-key queues, which must still go one at a time
    orderKeys.push_back(i % 4 == 0 ? "patient-" + std::to_string(i % 3) : "");
  }
  std::vector<NewNotification> batch;
  for (std::size_t i = 0; i < keys.size(); ++i) batch.push_back(notification(keys[i], orderKeys[i]));
  BOOST_REQUIRE(producer.outbox().enqueue(batch).isOk());
  std::array<PostgresMessageStore*, 3> engines{&instances.open("engine-a"), &instances.open("engine-b"),
                                               &instances.open("engine-c")};
  std::mutex mutex;
  std::vector<NotificationId> taken;
  std::atomic<int> failures{0};
  constexpr int kThreads = 6;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& outbox = engines[static_cast<std::size_t>(t % 3)]->outbox();
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      start.arrive_and_wait();
      for (;;) {
        auto claimed = outbox.claimDue(kSink, 9, instances.clock.now());
        if (!claimed.ok()) {
          ++failures;
          return;
        }
        {
          const std::lock_guard lock(mutex);
          for (const auto& entry : claimed.value()) taken.push_back(entry.id);
        }
        for (const auto& entry : claimed.value()) {
          if (!outbox.markDelivered(entry.id).isOk()) ++failures;
        }
        if (!claimed.value().empty()) continue;
        // nothing claimable: done, or the rest waits behind entries of their order keys that
        // other threads hold
        if (outbox.counts(std::nullopt).value().pending == 0) return;
        if (std::chrono::steady_clock::now() > deadline) {
          ++failures;
          return;
        }
        std::this_thread::yield();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  std::sort(taken.begin(), taken.end());
  BOOST_TEST((std::adjacent_find(taken.begin(), taken.end()) == taken.end()));  // none twice
  BOOST_TEST(taken.size() == static_cast<std::size_t>(kEntries));               // none left
  BOOST_TEST(producer.outbox().counts(std::nullopt).value().delivered ==
             static_cast<std::uint64_t>(kEntries));
}

BOOST_AUTO_TEST_CASE(an_entry_whose_lease_ran_out_is_claimed_by_another_instance) {
  Instances instances(30s);
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const NotificationId id = enqueue(a.outbox(), notification("k1"));
  BOOST_TEST(claim(a.outbox(), instances.clock.now()) == std::vector<NotificationId>{id});
  BOOST_TEST(claim(b.outbox(), instances.clock.now()).empty());
  // while engine-a holds it, nextDue points at the end of its lease
  BOOST_TEST((b.outbox().nextDue(kSink).value().value() == instances.clock.now() + 30s));
  instances.clock.advance(20s);
  BOOST_TEST(a.outbox().renewClaims(std::vector<NotificationId>{id}).value() == 1U);
  instances.clock.advance(30s);  // 50 s after the claim, 30 s after the renewal: the lease's last instant
  BOOST_TEST(claim(b.outbox(), instances.clock.now()).empty());
  instances.clock.advance(1s);  // engine-a stopped renewing (it died)
  BOOST_TEST(claim(b.outbox(), instances.clock.now()) == std::vector<NotificationId>{id});
  // the old owner can no longer finish it nor renew it
  const auto refused = a.outbox().markDelivered(id);
  BOOST_TEST((refused.code() == Status::Code::InvalidArgument));
  BOOST_TEST(refused.message().find("engine-b") != std::string::npos);
  BOOST_TEST((a.outbox().markRetry(id, instances.clock.now(), "x").code() == Status::Code::InvalidArgument));
  BOOST_TEST(a.outbox().renewClaims(std::vector<NotificationId>{id}).value() == 0U);
  BOOST_TEST(b.outbox().markDelivered(id).isOk());
  BOOST_TEST((a.outbox().get(id)->state == NotificationState::Delivered));
}

BOOST_AUTO_TEST_CASE(an_instance_gives_back_only_its_own_claims) {
  Instances instances;
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const NotificationId first = enqueue(a.outbox(), notification("k1"));
  const NotificationId second = enqueue(a.outbox(), notification("k2"));
  BOOST_TEST(claim(a.outbox(), instances.clock.now(), 1) == std::vector<NotificationId>{first});
  BOOST_TEST(claim(b.outbox(), instances.clock.now(), 1) == std::vector<NotificationId>{second});
  const auto released = a.outbox().release(std::vector<NotificationId>{first, second});
  BOOST_REQUIRE_MESSAGE(released.ok(), (released.ok() ? "" : released.error().message()));
  BOOST_TEST(released.value() == 1U);
  BOOST_TEST(claim(b.outbox(), instances.clock.now()) == std::vector<NotificationId>{first});
  BOOST_TEST(b.outbox().markDelivered(second).isOk());  // still engine-b's
}

BOOST_AUTO_TEST_CASE(a_clean_close_hands_the_entries_over_at_once) {
  Instances instances;
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const NotificationId id = enqueue(a.outbox(), notification("k1"));
  BOOST_TEST(claim(a.outbox(), instances.clock.now()) == std::vector<NotificationId>{id});
  a.close();
  BOOST_TEST(claim(b.outbox(), instances.clock.now()) == std::vector<NotificationId>{id});
}

BOOST_AUTO_TEST_CASE(finish_is_refused_for_a_message_another_instance_holds) {
  Instances instances;
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const std::string raw = "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|M1|P|2.4\r";
  const MessageId id = a.persistInbound({"edsys", "M1", raw}).value().id;
  const std::array n{notification("k1")};
  BOOST_TEST((b.finish(id, MessageState::Processed, "AA", kAck, n).code() == Status::Code::InvalidArgument));
  BOOST_TEST(total(a.outbox()) == 0U);
  BOOST_TEST(a.finish(id, MessageState::Processed, "AA", kAck, n).isOk());
  BOOST_TEST(total(a.outbox()) == 1U);
}

BOOST_AUTO_TEST_CASE(without_a_clock_the_outbox_runs_on_the_servers_clock) {
  PgTestSchema schema;
  PostgresStoreOptions options;
  options.instance = "engine-a";
  auto opened = PostgresMessageStore::open(schema.connection(), options);
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  auto& store = *opened.value();
  auto& outbox = store.outbox();
  const auto before = std::chrono::system_clock::now();
  const std::string raw = "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|M1|P|2.4\r";
  const MessageId message = store.persistInbound({"edsys", "M1", raw}).value().id;
  BOOST_REQUIRE(
      store.finish(message, MessageState::Processed, "AA", kAck, std::array{notification("k1")}).isOk());
  const NotificationId id = listAll(outbox).at(0).id;
  const auto entry = outbox.get(id).value();
  // stamped by the server (the test cluster runs on this host): within a minute of ours
  BOOST_TEST((entry.createdAt > before - 1min && entry.createdAt < before + 1min));
  BOOST_TEST((entry.nextAttemptAt == entry.createdAt));
  const auto claimed = outbox.claimDue(kSink, 10, std::chrono::system_clock::now() + 1min);
  BOOST_REQUIRE(claimed.ok());
  BOOST_TEST(ids(claimed.value()) == std::vector<NotificationId>{id});
  BOOST_TEST(outbox.renewClaims(std::vector<NotificationId>{id}).value() == 1U);
  BOOST_TEST(outbox.renewClaims(std::vector<NotificationId>{}).value() == 0U);
  const auto retryAt = std::chrono::system_clock::now() + 1h;
  BOOST_REQUIRE(outbox.markRetry(id, retryAt, "timeout").isOk());
  BOOST_TEST((outbox.nextDue(kSink).value().value() ==
              std::chrono::time_point_cast<std::chrono::microseconds>(retryAt)));
  BOOST_REQUIRE(outbox.markDead(id, "refused").isOk());
  BOOST_TEST(outbox.replay(id).value() == 1U);
  BOOST_TEST((outbox.get(id)->nextAttemptAt > entry.createdAt - 1us));
  BOOST_TEST(outbox.claimDue(kSink, 10, std::chrono::system_clock::now() + 1min).value().size() == 1U);
}

BOOST_AUTO_TEST_CASE(a_database_of_the_schema_before_the_outbox_is_migrated) {
  PgTestSchema schema;
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(schema.admin(), 1).isOk());
  schema.admin().exec(
      "INSERT INTO message (feed, control_id, received_at, raw_size) VALUES ('edsys', 'OLD1'::bytea, 1, 3)");
  auto opened = PostgresMessageStore::open(schema.connection());
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  auto& store = *opened.value();
  const auto ids = store.listUnfinished().value();
  BOOST_REQUIRE(ids.size() == 1U);
  BOOST_TEST(store.fetch(ids[0])->controlId == "OLD1");
  BOOST_TEST(
      store.finish(ids[0], MessageState::Processed, "AA", kAck, std::array{notification("k1")}).isOk());
  BOOST_TEST(total(store.outbox()) == 1U);
  BOOST_TEST(schema.admin().query("SELECT max(version)::bigint FROM schema_version").int64(0, 0) ==
             cpis::store::kPostgresSchemaVersion);
  // Claims read the pending entries of a sink in next-attempt order through this index
  // (version 6), which replaced outbox_pending (version 3, id order).
  BOOST_TEST(schema.admin().query("SELECT to_regclass('outbox_waiting') IS NOT NULL").boolean(0, 0));
  BOOST_TEST(!schema.admin().query("SELECT to_regclass('outbox_pending') IS NOT NULL").boolean(0, 0));
}

// The retention purge's chunks of finished payloads come from an index of only those entries
// (version 5), not from a read of the whole outbox every chunk.
BOOST_AUTO_TEST_CASE(the_purge_finds_finished_payloads_through_their_index) {
  PgTestSchema schema;
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(schema.admin()).isOk());
  auto& admin = schema.admin();
  admin.exec("SET enable_seqscan = off");  // an empty table would be scanned whatever the indexes
  const auto plan = admin.query(
      "EXPLAIN SELECT outbox.id FROM outbox WHERE outbox.state IN ('delivered', 'dead')"
      " AND outbox.finished_at < 1000 AND length(outbox.payload) > 0 ORDER BY outbox.finished_at LIMIT 500");
  std::string text;
  for (int row = 0; row < plan.rows(); ++row) text += plan.bytes(row, 0) + "\n";
  BOOST_TEST(text.find("outbox_retained") != std::string::npos, text);
  admin.exec("RESET enable_seqscan");
}

// A claim walks the pending entries of a sink in next-attempt order (version 6) and stops after
// its limit: with a sink down and its whole backlog backing off, it reads none of the backlog
// (through outbox_pending, in id order, it read all of it whenever none was due).
BOOST_AUTO_TEST_CASE(claims_walk_the_waiting_entries_in_time_order) {
  PgTestSchema schema;
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(schema.admin()).isOk());
  auto& admin = schema.admin();
  admin.exec("SET enable_seqscan = off");
  const auto explain = [&admin](const std::string& query, const std::string& arguments) {
    admin.exec("PREPARE plan_of AS " + query);
    const auto plan = admin.query("EXPLAIN EXECUTE plan_of(" + arguments + ")");
    admin.exec("DEALLOCATE plan_of");
    std::string text;
    for (int row = 0; row < plan.rows(); ++row) text += plan.bytes(row, 0) + "\n";
    return text;
  };
  const std::string claim = explain(cpis::store::kPostgresClaimDue, "'la', NULL, 'me', 1000, 10, NULL");
  BOOST_TEST(claim.find("outbox_waiting") != std::string::npos, claim);
  BOOST_TEST(claim.find("Sort") == std::string::npos, claim);  // the index is in order
  // The next-due time: both of its walks (the first unheld entry, then the entries up to its
  // time) go through the index, the second bounded by the first's time.
  const std::string nextDue = explain(cpis::store::kPostgresNextDue, "'la'");
  BOOST_TEST(nextDue.find("Index Cond: ((sink = 'la'::text) AND (next_attempt_at <= COALESCE(") != std::string::npos,
             nextDue);
  admin.exec("RESET enable_seqscan");
}

BOOST_AUTO_TEST_SUITE_END()

// ---- SQLite ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(sqlite_outbox)

BOOST_AUTO_TEST_CASE(a_database_of_the_schema_before_the_outbox_is_migrated) {
  cpis::test::TempDir dir;
  const std::string path = dir.file("messages.db");
  {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session, 1).isOk());
    session << "INSERT INTO message (feed, control_id, received_at, raw_size) VALUES ('edsys', 'OLD1', 1, 3)",
        Poco::Data::Keywords::now;
    session << "INSERT INTO message_raw (id, raw) VALUES (1, X'616263')", Poco::Data::Keywords::now;
    int tables = -1;
    session << "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'", Poco::Data::Keywords::into(tables),
        Poco::Data::Keywords::now;
    BOOST_REQUIRE(tables == 0);
  }
  auto opened = cpis::store::SqliteMessageStore::open(path);
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  auto& store = *opened.value();
  BOOST_TEST(store.listUnfinished().value() == std::vector<MessageId>{1});
  BOOST_TEST(store.fetch(1)->raw.value() == "abc");
  BOOST_TEST(store.finish(1, MessageState::Processed, "AA", kAck, std::array{notification("k1")}).isOk());
  BOOST_TEST(claim(store.outbox(), std::chrono::system_clock::now()).size() == 1U);
  store.close();
  opened.value().reset();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
  int version = 0, pendingIndex = 0;
  session << "SELECT max(version) FROM schema_version", Poco::Data::Keywords::into(version),
      Poco::Data::Keywords::now;
  BOOST_TEST(version == cpis::store::kSqliteSchemaVersion);
  // Claims read the unclaimed pending entries of a sink in next-attempt order through this
  // index (version 7).
  session << "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_waiting'", Poco::Data::Keywords::into(pendingIndex),
      Poco::Data::Keywords::now;
  BOOST_TEST(pendingIndex == 1);
}

// The retention purge's chunks of finished payloads come from an index of only those entries
// (version 6), not from a read of the whole outbox every chunk.
BOOST_AUTO_TEST_CASE(the_purge_finds_finished_payloads_through_their_index) {
  cpis::test::TempDir dir;
  const std::string path = dir.file("messages.db");
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
  BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session).isOk());
  std::vector<Poco::Tuple<int, int, int, std::string>> plan;  // id, parent, notused, detail
  session << "EXPLAIN QUERY PLAN SELECT id FROM outbox WHERE state IN ('delivered', 'dead') AND finished_at < 1000"
             " AND length(payload) > 0 ORDER BY finished_at LIMIT 500",
      Poco::Data::Keywords::into(plan), Poco::Data::Keywords::now;
  std::string text;
  for (const auto& line : plan) text += line.get<3>() + "\n";
  BOOST_TEST(text.find("USING INDEX outbox_retained") != std::string::npos, text);
  BOOST_TEST(text.find("TEMP B-TREE") == std::string::npos, text);  // no sort: the index is in order
}

// A claim and the next-due time walk the entries waiting for their time in that order
// (version 7) and stop at the first that qualify: with a sink down and its whole backlog
// backing off, neither reads the backlog (through outbox_pending, in id order, both did).
BOOST_AUTO_TEST_CASE(claims_and_next_due_walk_the_waiting_entries_in_time_order) {
  cpis::test::TempDir dir;
  const std::string path = dir.file("messages.db");
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
  BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session).isOk());
  for (const std::string& query : {cpis::store::kSqliteClaimDue, cpis::store::kSqliteNextDue}) {
    // Through the store's own statement class: Poco would want the parameters bound.
    cpis::store::SqliteStatement explain(Poco::Data::SQLite::Utility::dbHandle(session), "EXPLAIN QUERY PLAN " + query);
    auto plan = explain.run();
    std::string text;
    while (plan.step()) text += plan.text(3) + "\n";  // id, parent, notused, detail
    BOOST_TEST(text.find("USING INDEX outbox_waiting") != std::string::npos, query + "\n" + text);
    BOOST_TEST(text.find("TEMP B-TREE") == std::string::npos, text);  // no sort: the index is in order
  }
}

BOOST_AUTO_TEST_SUITE_END()
