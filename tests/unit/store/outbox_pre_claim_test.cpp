// Entries written claimed (outbox.h, ClaimReceiver): against every store, the entries a
// receiver wants come out of the write that stores them already claimed, with every field
// claimDue would have returned, and no claim query finds them; conflicts hand nothing over; a
// run that ends with such entries undelivered leaves them to the next one (SQLite: on reopen;
// PostgreSQL: another instance once the lease runs out). And the schema versions that dropped
// the outbox indexes no query needs any more.
#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <boost/test/unit_test.hpp>

#include "engine/store/pg_connection.h"
#include "engine/store/postgres_schema.h"
#include "engine/store/sqlite_schema.h"
#include "engine/store/store_writes.h"
#include "tests/support/wait_for.h"
#include "tests/unit/store/outbox_test_data.h"
#include "tests/unit/store/store_backends.h"

using namespace std::chrono_literals;
using cpis::store::ClaimReceiver;
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
using cpis::test::PgTestSchema;
using cpis::test::StoreBackends;
using cpis::test::StoreFixture;

namespace {

constexpr std::string_view kSink = cpis::test::kOutboxSink;
const std::string& kAck = cpis::test::kOutboxAck;
using cpis::test::notification;

// Takes what the store hands over, for the sinks it was told.
class Receiver final : public ClaimReceiver {
 public:
  explicit Receiver(std::vector<std::string> sinks = {std::string(kSink)}) : sinks_(std::move(sinks)) {}

  bool wantsClaimed(std::string_view sink) override {
    const std::lock_guard lock(mutex_);
    ++asked_;
    return std::find(sinks_.begin(), sinks_.end(), sink) != sinks_.end();
  }
  std::vector<OutboxEntry> adopt(std::vector<OutboxEntry> entries) override {
    {
      const std::lock_guard lock(mutex_);
      ++handOvers_;
      for (auto& entry : entries) adopted_.push_back(std::move(entry));
    }
    changed_.notify_all();
    return {};
  }
  std::vector<OutboxEntry> adopted() const {
    const std::lock_guard lock(mutex_);
    return adopted_;
  }
  std::vector<OutboxEntry> take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(adopted_, {});
  }
  int handOvers() const {
    const std::lock_guard lock(mutex_);
    return handOvers_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> sinks_;
  std::vector<OutboxEntry> adopted_;
  int asked_ = 0, handOvers_ = 0;
};

std::vector<NotificationId> claim(Outbox& outbox, TimePoint now, std::string_view sink = kSink) {
  auto claimed = outbox.claimDue(sink, 100, now);
  BOOST_TEST_REQUIRE(claimed.ok(), (claimed.ok() ? "" : claimed.error().message()));
  std::vector<NotificationId> ids;
  for (const auto& entry : claimed.value()) ids.push_back(entry.id);
  return ids;
}

std::vector<OutboxEntry> listAll(Outbox& outbox) {
  OutboxFilter filter;
  filter.limit = 1000;
  auto entries = outbox.list(filter);
  BOOST_TEST_REQUIRE(entries.ok(), (entries.ok() ? "" : entries.error().message()));
  auto all = entries.value();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return all;
}

// Every field claimDue returns.
void requireSame(const OutboxEntry& handed, const OutboxEntry& stored) {
  BOOST_TEST(handed.id == stored.id);
  BOOST_TEST((handed.messageId == stored.messageId));
  BOOST_TEST(handed.sink == stored.sink);
  BOOST_TEST(handed.kind == stored.kind);
  BOOST_TEST(handed.idempotencyKey == stored.idempotencyKey);
  BOOST_TEST(handed.orderKey == stored.orderKey);
  BOOST_TEST(handed.payload == stored.payload);
  BOOST_TEST((handed.state == stored.state));
  BOOST_TEST(handed.attempts == stored.attempts);
  BOOST_TEST((handed.createdAt == stored.createdAt));
  BOOST_TEST((handed.nextAttemptAt == stored.nextAttemptAt));
  BOOST_TEST((handed.deadline == stored.deadline));
  BOOST_TEST((handed.finishedAt == stored.finishedAt));
  BOOST_TEST(handed.lastError == stored.lastError);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(outbox_pre_claim)

// A write that claimed entries for a receiver that withdrew before they were durable (a
// dispatcher stopping): they are still claimed, so no claim finds them; the next receiver
// registered adopts them first. Before, they stayed claimed and nobody held them until the
// store reopened.
BOOST_AUTO_TEST_CASE(entries_handed_over_with_no_receiver_go_to_the_next_one) {
  cpis::store::ClaimHandOver handOver;
  Receiver first, second;
  handOver.set(&first);
  BOOST_TEST(handOver.claims(notification("k1")));
  handOver.set(nullptr);  // withdrawn before the write was durable
  OutboxEntry entry;
  entry.id = 7;
  entry.sink = std::string(kSink);
  handOver.handOver(std::vector<OutboxEntry>{entry});
  BOOST_TEST(first.adopted().empty());
  handOver.set(&second);
  BOOST_REQUIRE(second.adopted().size() == 1U);
  BOOST_TEST(second.adopted()[0].id == 7);
  handOver.set(nullptr);
  handOver.set(&first);
  BOOST_TEST(first.adopted().empty());  // handed over once
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_finish_hands_over_what_it_wrote_claimed_and_no_claim_finds_it, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  Receiver receiver;
  BOOST_REQUIRE(outbox.setClaimReceiver(&receiver));
  const MessageId id = fixture.persist("M1");
  NewNotification withDeadline = notification("plan-found:edsys:V1:1");
  withDeadline.deadline = fixture.clock.now() + 1h;
  NewNotification later = notification("later");
  later.notBefore = fixture.clock.now() + 1min;
  const std::array notifications{
      withDeadline, notification("ordered", "patient-1"),  // order-keyed: the claim rule decides
      later,                                               // not due at once
      notification("other", {}, "epr-return:edsys"),       // a sink the receiver does not want
  };
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Processed, "AA found", kAck, notifications).isOk());
  // handed over by the time finish returned: only the one due at once without an order key
  const auto adopted = receiver.adopted();
  BOOST_REQUIRE(adopted.size() == 1U);
  const auto stored = listAll(outbox);
  BOOST_REQUIRE(stored.size() == 4U);
  requireSame(adopted[0], stored[0]);
  BOOST_TEST(adopted[0].messageId.value() == id);
  BOOST_TEST((adopted[0].createdAt == fixture.clock.now()));
  BOOST_TEST((adopted[0].deadline.value() == fixture.clock.now() + 1h));
  BOOST_TEST(adopted[0].idempotencyKey == "plan-found:edsys:V1:1");
  // claimed already: a claim finds only the order-keyed one (and later the delayed one)
  BOOST_TEST(claim(outbox, fixture.clock.now() + 2min) ==
             (std::vector<NotificationId>{stored[1].id, stored[2].id}));
  BOOST_TEST(claim(outbox, fixture.clock.now(), "epr-return:edsys") ==
             std::vector<NotificationId>{stored[3].id});
  // the owner finishes it as any claimed entry
  BOOST_TEST(outbox.markDelivered(adopted[0].id).isOk());
  BOOST_TEST((outbox.get(adopted[0].id)->state == NotificationState::Delivered));
  BOOST_TEST(outbox.setClaimReceiver(nullptr));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(enqueue_completions_and_follow_ups_hand_over_theirs, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  Receiver receiver;
  outbox.setClaimReceiver(&receiver);
  // enqueue
  const std::array queued{notification("k1"), notification("k2")};
  BOOST_REQUIRE(outbox.enqueue(queued).isOk());
  auto adopted = receiver.take();
  BOOST_REQUIRE(adopted.size() == 2U);
  BOOST_TEST(!adopted[0].messageId.has_value());
  // a completion stored with its message (persistInbound)
  const std::array fromCompletion{notification("k3")};
  const std::string raw = StoreFixture<Backend>::messageBytes("M1");
  Completion done;
  done.ack = kAck;
  done.outcome = "AA";
  done.notifications = fromCompletion;
  const auto stored = fixture.store().persistInbound({"edsys", "M1", raw, done});
  BOOST_REQUIRE(stored.ok());
  auto fromPersist = receiver.take();
  BOOST_REQUIRE(fromPersist.size() == 1U);
  BOOST_TEST(fromPersist[0].messageId.value() == stored->id);
  // ... and its duplicate writes and hands over nothing
  BOOST_REQUIRE(fixture.store().persistInbound({"edsys", "M1", raw, done})->duplicate);
  BOOST_TEST(receiver.take().empty());
  // persistInboundAsync: handed over before its callback runs
  const std::array fromAsync{notification("k4")};
  const std::string raw2 = StoreFixture<Backend>::messageBytes("M2");
  Completion done2 = done;
  done2.notifications = fromAsync;
  std::mutex mutex;
  std::optional<std::size_t> seenInCallback;
  fixture.store().persistInboundAsync({"edsys", "M2", raw2, done2}, [&](auto outcome) {
    BOOST_CHECK(outcome.ok());
    const std::lock_guard lock(mutex);
    seenInCallback = receiver.adopted().size();
  });
  BOOST_REQUIRE(cpis::test::waitFor([&] {
    const std::lock_guard lock(mutex);
    return seenInCallback.has_value();
  }));
  BOOST_TEST(*seenInCallback == 1U);
  BOOST_REQUIRE(receiver.take().size() == 1U);
  // follow-ups of a delivery: for the delivered entry's message
  const std::array followUps{notification("k5")};
  BOOST_REQUIRE(outbox.markDelivered(fromPersist[0].id, followUps).isOk());
  const auto followed = receiver.take();
  BOOST_REQUIRE(followed.size() == 1U);
  BOOST_TEST(followed[0].messageId.value() == stored->id);
  BOOST_TEST(followed[0].idempotencyKey == "k5");
  // nothing of it is left to claim
  BOOST_TEST(claim(outbox, fixture.clock.now()).empty());
  BOOST_TEST(outbox.counts(std::nullopt)->pending == 4U);
  outbox.setClaimReceiver(nullptr);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(a_conflict_or_a_refused_finish_writes_and_hands_over_nothing, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  Receiver receiver;
  outbox.setClaimReceiver(&receiver);
  const std::array first{notification("k1")};
  BOOST_REQUIRE(outbox.enqueue(first).isOk());
  BOOST_REQUIRE(receiver.take().size() == 1U);
  // the same (sink, key) again, alone and beside a new one
  BOOST_REQUIRE(outbox.enqueue(first).isOk());
  BOOST_TEST(receiver.take().empty());
  const std::array mixed{notification("k1"), notification("k2")};
  BOOST_REQUIRE(outbox.enqueue(mixed).isOk());
  const auto adopted = receiver.take();
  BOOST_REQUIRE(adopted.size() == 1U);
  BOOST_TEST(adopted[0].idempotencyKey == "k2");
  // a finish that is refused writes none of its notifications
  const MessageId id = fixture.persist("M1");
  BOOST_REQUIRE(fixture.store().finish(id, MessageState::Processed, "AA", kAck).isOk());
  const std::array late{notification("k3")};
  BOOST_TEST(!fixture.store().finish(id, MessageState::Processed, "AA", kAck, late).isOk());
  BOOST_TEST(receiver.take().empty());
  BOOST_TEST(outbox.counts(std::nullopt)->pending == 2U);
  outbox.setClaimReceiver(nullptr);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(without_a_receiver_entries_are_written_unclaimed, Backend, StoreBackends) {
  StoreFixture<Backend> fixture;
  auto& outbox = fixture.store().outbox();
  Receiver receiver;
  outbox.setClaimReceiver(&receiver);
  outbox.setClaimReceiver(nullptr);
  const std::array queued{notification("k1")};
  BOOST_REQUIRE(outbox.enqueue(queued).isOk());
  BOOST_TEST(receiver.adopted().empty());
  BOOST_TEST(claim(outbox, fixture.clock.now()).size() == 1U);
}

// The run that held them ended without delivering them: the next one claims them (SQLite
// clears its claims when it opens, PostgreSQL releases those of the instance's name).
BOOST_AUTO_TEST_CASE_TEMPLATE(entries_written_claimed_are_claimable_again_after_a_reopen, Backend,
                              StoreBackends) {
  StoreFixture<Backend> fixture;
  Receiver receiver;
  fixture.store().outbox().setClaimReceiver(&receiver);
  const std::array queued{notification("k1"), notification("k2")};
  BOOST_REQUIRE(fixture.store().outbox().enqueue(queued).isOk());
  BOOST_REQUIRE(receiver.adopted().size() == 2U);
  BOOST_TEST(claim(fixture.store().outbox(), fixture.clock.now()).empty());
  fixture.reopen();  // (the receiver was the old store's)
  auto& outbox = fixture.store().outbox();
  const auto claimed = claim(outbox, fixture.clock.now());
  BOOST_TEST(claimed.size() == 2U);
  for (const auto id : claimed) BOOST_TEST(outbox.markDelivered(id).isOk());
}

BOOST_AUTO_TEST_SUITE_END()

// ---- PostgreSQL: an instance that dies with entries written claimed ----------------------------

namespace {

using cpis::store::PostgresMessageStore;
using cpis::store::PostgresStoreOptions;

std::unique_ptr<PostgresMessageStore> openInstance(const PgTestSchema& schema, const std::string& name,
                                                   cpis::test::FakeClock& clock) {
  PostgresStoreOptions options;
  options.instance = name;
  options.claimLease = 30s;
  options.clock = clock.function();
  auto opened = PostgresMessageStore::open(schema.connection(), options);
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  return std::move(opened).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_outbox_pre_claim)

BOOST_AUTO_TEST_CASE(an_instance_that_dies_leaves_its_entries_to_another_once_the_lease_runs_out) {
  cpis::test::FakeClock clock;
  PgTestSchema schema;
  auto a = openInstance(schema, "engine-a", clock);
  auto b = openInstance(schema, "engine-b", clock);
  Receiver receiver;
  a->outbox().setClaimReceiver(&receiver);
  const std::string raw = StoreFixture<cpis::test::PostgresBackend>::messageBytes("M1");
  const MessageId id = a->persistInbound({"edsys", "M1", raw}).value().id;
  const std::array written{notification("k1"), notification("k2")};
  BOOST_REQUIRE(a->finish(id, MessageState::Processed, "AA", kAck, written).isOk());
  const auto adopted = receiver.adopted();
  BOOST_REQUIRE(adopted.size() == 2U);
  // a lease like claimDue's: engine-b finds nothing, and when it may next is the lease's end
  BOOST_TEST(claim(b->outbox(), clock.now()).empty());
  BOOST_TEST((b->outbox().nextDue(kSink).value().value() == clock.now() + 30s));
  // engine-a renews it while it works on them
  clock.advance(20s);
  BOOST_TEST(a->outbox().renewClaims(std::vector<NotificationId>{adopted[0].id, adopted[1].id}).value() ==
             2U);
  clock.advance(30s);
  BOOST_TEST(claim(b->outbox(), clock.now()).empty());
  // only those it names: one it holds but no longer works on (its hand-over lost with a
  // commit's answer) is not renewed, and lapses
  BOOST_TEST(a->outbox().renewClaims(std::vector<NotificationId>{adopted[0].id}).value() == 1U);
  clock.advance(1s);
  BOOST_TEST(claim(b->outbox(), clock.now()) == std::vector<NotificationId>{adopted[1].id});
  clock.advance(29s);
  // engine-a dies (no close: its claims are not released, they run out)
  a->outbox().setClaimReceiver(nullptr);
  clock.advance(1s);
  const auto taken = claim(b->outbox(), clock.now());
  BOOST_TEST(taken == (std::vector<NotificationId>{adopted[0].id}));
  // the old owner can no longer finish them
  BOOST_TEST(!a->outbox().markDelivered(adopted[0].id).isOk());
  for (const auto entry : {adopted[0].id, adopted[1].id}) BOOST_TEST(b->outbox().markDelivered(entry).isOk());
  BOOST_TEST(b->outbox().counts(std::nullopt)->delivered == 2U);
}

BOOST_AUTO_TEST_CASE(version_4_drops_the_outbox_indexes_no_query_needs) {
  PgTestSchema schema;
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(schema.admin(), 3).isOk());
  schema.admin().exec(
      "INSERT INTO outbox (sink, kind, idempotency_key, payload, created_at, next_attempt_at, state)"
      " VALUES ('safeguarding', 'plan-found', 'old-1'::bytea, '{}'::bytea, 1, 1, 'pending'),"
      " ('safeguarding', 'plan-found', 'old-2'::bytea, '{}'::bytea, 1, 1, 'dead')");
  BOOST_TEST(schema.admin().query("SELECT to_regclass('outbox_due') IS NOT NULL").boolean(0, 0));
  cpis::test::FakeClock clock;
  auto store = openInstance(schema, "engine-a", clock);
  BOOST_TEST(schema.admin().query("SELECT max(version)::bigint FROM schema_version").int64(0, 0) ==
             cpis::store::kPostgresSchemaVersion);
  BOOST_TEST(!schema.admin().query("SELECT to_regclass('outbox_due') IS NOT NULL").boolean(0, 0));
  BOOST_TEST(!schema.admin().query("SELECT to_regclass('outbox_claimed') IS NOT NULL").boolean(0, 0));
  BOOST_TEST(schema.admin().query("SELECT to_regclass('outbox_dead') IS NOT NULL").boolean(0, 0));
  BOOST_TEST(schema.admin().query("SELECT to_regclass('outbox_waiting') IS NOT NULL").boolean(0, 0));
  // the entries of before are still claimed, renewed, released, listed and replayed
  auto& outbox = store->outbox();
  const auto old = claim(outbox, clock.now());
  BOOST_TEST(old.size() == 1U);
  BOOST_TEST(outbox.renewClaims(old).value() == 1U);
  BOOST_TEST(store->outbox().replayDead(std::string_view(kSink), std::nullopt).value() == 1U);
  store->close();
  auto again = openInstance(schema, "engine-b", clock);
  BOOST_TEST(claim(again->outbox(), clock.now()).size() == 2U);
}

BOOST_AUTO_TEST_SUITE_END()

// ---- SQLite: version 5 ---------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(sqlite_outbox_pre_claim)

BOOST_AUTO_TEST_CASE(version_5_drops_the_outbox_index_no_query_needs) {
  cpis::test::TempDir dir;
  const std::string path = dir.file("messages.db");
  const auto indexes = [&path](const std::string& name) {
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    int count = -1;
    session << "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?",
        Poco::Data::Keywords::useRef(name), Poco::Data::Keywords::into(count), Poco::Data::Keywords::now;
    return count;
  };
  {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session, 4).isOk());
    session << "INSERT INTO outbox (sink, kind, idempotency_key, payload, created_at, next_attempt_at, state)"
               " VALUES ('safeguarding', 'plan-found', 'old-1', X'7B7D', 1, 1, 'pending'),"
               " ('safeguarding', 'plan-found', 'old-2', X'7B7D', 1, 1, 'dead')",
        Poco::Data::Keywords::now;
  }
  BOOST_TEST(indexes("outbox_due") == 1);
  {
    auto opened = cpis::store::SqliteMessageStore::open(path);
    BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    auto& outbox = opened.value()->outbox();
    BOOST_TEST(claim(outbox, std::chrono::system_clock::now()).size() == 1U);
    BOOST_TEST(outbox.replayDead(std::string_view(kSink), std::nullopt).value() == 1U);
    BOOST_TEST(claim(outbox, std::chrono::system_clock::now()).size() == 1U);
  }
  BOOST_TEST(indexes("outbox_due") == 0);
  BOOST_TEST(indexes("outbox_dead") == 1);
  BOOST_TEST(indexes("outbox_pending") == 0);  // version 7: outbox_waiting instead
  BOOST_TEST(indexes("outbox_waiting") == 1);
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
  int version = 0;
  session << "SELECT max(version) FROM schema_version", Poco::Data::Keywords::into(version),
      Poco::Data::Keywords::now;
  BOOST_TEST(version == cpis::store::kSqliteSchemaVersion);
}

BOOST_AUTO_TEST_SUITE_END()
