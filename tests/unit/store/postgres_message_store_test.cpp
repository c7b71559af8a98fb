// What only the PostgreSQL store has: several engine instances on one database (duplicates
// across them, claims and leases), its connections, and its writer's pipeline. Two store
// objects on one schema stand for two engines; a FakeClock they share moves their leases on
// without sleeping, and one case runs the leases on the server's clock.
#include "engine/store/postgres_message_store.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <latch>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <set>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/store/pg_connection.h"
#include "engine/store/postgres_schema.h"
#include "engine/store/postgres_writer.h"
#include "tests/support/wait_for.h"
#include "tests/unit/store/store_backends.h"

using namespace std::chrono_literals;
using cpis::core::Status;
using cpis::store::Completion;
using cpis::store::MessageId;
using cpis::store::MessageState;
using cpis::store::PersistOutcome;
using cpis::store::PostgresMessageStore;
using cpis::store::PostgresStoreOptions;
using cpis::test::FakeClock;
using cpis::test::PgTestSchema;

namespace {

std::string messageBytes(const std::string& controlId) {
  return "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|" + controlId + "|P|2.4\rPID|||1\r";
}

// Engine instances on one schema, all stamping times from one clock.
class Instances {
 public:
  explicit Instances(std::chrono::seconds lease = 30s) : lease_(lease) {}

  PostgresMessageStore& open(const std::string& name, bool withClock = true) {
    PostgresStoreOptions options;
    options.instance = name;
    options.claimLease = lease_;
    if (withClock) options.clock = clock.function();
    auto opened = PostgresMessageStore::open(schema.connection(), options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    stores_.push_back(std::move(opened).value());
    return *stores_.back();
  }

  MessageId persist(PostgresMessageStore& store, const std::string& controlId) {
    const auto raw = messageBytes(controlId);
    auto outcome = store.persistInbound({"edsys", controlId, raw});
    BOOST_TEST_REQUIRE(outcome.ok(), (outcome.ok() ? "" : outcome.error().message()));
    BOOST_TEST_REQUIRE(!outcome->duplicate);
    return outcome->id;
  }

  FakeClock clock;
  PgTestSchema schema;  // before the stores: dropped after they have closed

 private:
  std::chrono::seconds lease_;
  std::vector<std::unique_ptr<PostgresMessageStore>> stores_;
};

std::vector<MessageId> claimed(PostgresMessageStore& store, std::size_t limit = 1000) {
  auto ids = store.claimUnfinished(limit);
  BOOST_TEST_REQUIRE(ids.ok(), (ids.ok() ? "" : ids.error().message()));
  return ids.value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_message_store)

BOOST_AUTO_TEST_CASE(two_instances_persisting_the_same_control_ids_at_once_store_one_original_each) {
  Instances instances;
  std::array<PostgresMessageStore*, 2> engines{&instances.open("engine-a"), &instances.open("engine-b")};
  constexpr int kThreadsPerEngine = 6;
  constexpr int kControlIds = 30;
  constexpr int kThreads = 2 * kThreadsPerEngine;
  std::vector<std::vector<PersistOutcome>> outcomes(kThreads, std::vector<PersistOutcome>(kControlIds));
  std::atomic<int> failures{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      PostgresMessageStore& engine = *engines[static_cast<std::size_t>(t % 2)];
      start.arrive_and_wait();
      for (int k = 0; k < kControlIds; ++k) {
        // every thread in its own order: rotated, and backwards on every other thread
        const int rotated = (k + t * 7) % kControlIds;
        const int n = t % 4 < 2 ? rotated : kControlIds - 1 - rotated;
        const std::string controlId = "RACE" + std::to_string(n);
        const std::string raw = messageBytes(controlId);
        auto outcome = engine.persistInbound({"edsys", controlId, raw});
        if (!outcome.ok()) {
          ++failures;
          continue;
        }
        outcomes[static_cast<std::size_t>(t)][static_cast<std::size_t>(n)] = std::move(outcome).value();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  std::set<MessageId> everyOriginal;
  for (std::size_t n = 0; n < kControlIds; ++n) {
    std::vector<MessageId> originals;
    std::set<MessageId> ids;
    for (std::size_t t = 0; t < kThreads; ++t) {
      const auto& outcome = outcomes[t][n];
      if (!outcome.duplicate) originals.push_back(outcome.id);
      ids.insert(outcome.id);
    }
    BOOST_TEST_REQUIRE(originals.size() == 1U, "control id RACE" << n);
    BOOST_TEST(ids.size() == 1U);  // every duplicate, on either engine, names that original
    everyOriginal.insert(originals[0]);
    BOOST_TEST(engines[0]->fetch(originals[0])->duplicatesReceived == kThreads - 1U);
  }
  BOOST_TEST(engines[1]->listUnfinished().value().size() == static_cast<std::size_t>(kControlIds));
  BOOST_TEST(everyOriginal.size() == static_cast<std::size_t>(kControlIds));
}

BOOST_AUTO_TEST_CASE(a_message_stored_unfinished_belongs_to_the_instance_that_stored_it) {
  Instances instances;
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const MessageId id = instances.persist(a, "MSG1");
  BOOST_TEST(claimed(b).empty());
  BOOST_TEST(claimed(a).empty());  // its own already
  const Status refused = b.markOutcome(id, MessageState::Processed, "AA");
  BOOST_TEST((refused.code() == Status::Code::InvalidArgument));
  BOOST_TEST(refused.message().find("engine-a has claimed it") != std::string::npos);
  BOOST_TEST((b.recordAck(id, "MSH|ACK").code() == Status::Code::InvalidArgument));
  BOOST_TEST(a.recordAck(id, "MSH|ACK").isOk());
  BOOST_TEST(a.markOutcome(id, MessageState::Processed, "AA").isOk());
  // finished messages belong to nobody: any instance may record a later ACK
  BOOST_TEST(b.recordAck(id, "MSH|ACK2").isOk());
}

BOOST_AUTO_TEST_CASE(claims_pass_to_another_instance_when_the_lease_runs_out) {
  Instances instances(30s);
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const MessageId first = instances.persist(a, "M1");
  const MessageId second = instances.persist(a, "M2");
  const MessageId done = a.persistInbound({"edsys", "M3", messageBytes("M3"),
                                           Completion{MessageState::Processed, "AA", "MSH|ACK"}})
                             ->id;
  instances.clock.advance(30s);  // the lease's last instant: still engine-a's
  BOOST_TEST(claimed(b).empty());
  instances.clock.advance(1s);  // engine-a stopped renewing (it died)
  BOOST_TEST(claimed(b) == (std::vector<MessageId>{first, second}));
  BOOST_TEST(claimed(b).empty());  // claimed once
  // the old owner can no longer finish them, nor renew them
  BOOST_TEST((a.markOutcome(first, MessageState::Processed, "AA").code() == Status::Code::InvalidArgument));
  BOOST_TEST(a.renewClaims().value() == 0U);
  BOOST_TEST(b.markOutcome(first, MessageState::Processed, "AA").isOk());
  BOOST_TEST(b.renewClaims().value() == 1U);
  BOOST_TEST((a.fetch(done)->state == MessageState::Processed));  // finished ones are nobody's work
}

BOOST_AUTO_TEST_CASE(a_lease_that_ran_out_is_still_its_owners_until_someone_claims_it) {
  Instances instances(30s);
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const MessageId id = instances.persist(a, "M1");
  instances.clock.advance(45s);  // a slow engine-a, not a dead one
  BOOST_TEST(a.markOutcome(id, MessageState::Processed, "AA").isOk());
  BOOST_TEST(claimed(b).empty());
}

BOOST_AUTO_TEST_CASE(renewed_claims_are_not_taken_over) {
  Instances instances(30s);
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const MessageId id = instances.persist(a, "M1");
  instances.clock.advance(20s);
  BOOST_TEST(a.renewClaims().value() == 1U);
  instances.clock.advance(20s);  // 40 s after the store, 20 s after the renewal
  BOOST_TEST(claimed(b).empty());
  instances.clock.advance(11s);
  BOOST_TEST(claimed(b) == std::vector<MessageId>{id});
}

BOOST_AUTO_TEST_CASE(a_clean_close_hands_the_claims_over_at_once) {
  Instances instances;
  auto& a = instances.open("engine-a");
  auto& b = instances.open("engine-b");
  const MessageId first = instances.persist(a, "M1");
  const MessageId second = instances.persist(a, "M2");
  a.close();
  BOOST_TEST(claimed(b) == (std::vector<MessageId>{first, second}));
}

BOOST_AUTO_TEST_CASE(an_instance_restarted_under_its_name_takes_its_own_work_back) {
  Instances instances;
  auto& before = instances.open("engine-a");
  const MessageId id = instances.persist(before, "M1");
  // a crash leaves the claim behind, its lease far from over
  instances.schema.admin().exec("UPDATE message SET claimed_until = claimed_until + 3600000000");
  auto& b = instances.open("engine-b");
  BOOST_TEST(claimed(b).empty());
  auto& after = instances.open("engine-a");  // the same name, a new run
  BOOST_TEST(claimed(after) == std::vector<MessageId>{id});
}

BOOST_AUTO_TEST_CASE(racing_instances_never_claim_a_message_twice) {
  Instances instances(30s);
  auto& producer = instances.open("producer");
  constexpr int kMessages = 200;
  std::vector<MessageId> all;
  for (int i = 0; i < kMessages; ++i) all.push_back(instances.persist(producer, "M" + std::to_string(i)));
  producer.close();  // its claims go back to the pool
  std::array<PostgresMessageStore*, 4> engines{&instances.open("engine-a"), &instances.open("engine-b"),
                                               &instances.open("engine-c"), &instances.open("engine-d")};
  std::mutex mutex;
  std::vector<MessageId> taken;
  std::atomic<int> failures{0};
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& engine = *engines[static_cast<std::size_t>(t % 4)];
      start.arrive_and_wait();
      for (;;) {
        auto ids = engine.claimUnfinished(7);
        if (!ids.ok()) {
          ++failures;
          return;
        }
        if (ids.value().empty()) return;
        const std::lock_guard lock(mutex);
        taken.insert(taken.end(), ids.value().begin(), ids.value().end());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  std::sort(taken.begin(), taken.end());
  BOOST_TEST((std::adjacent_find(taken.begin(), taken.end()) == taken.end()));  // none twice
  BOOST_TEST(taken == all);                                                     // none left
}

BOOST_AUTO_TEST_CASE(leases_run_on_the_servers_clock_when_no_clock_is_given) {
  Instances instances(1s);
  auto& a = instances.open("engine-a", false);
  auto& b = instances.open("engine-b", false);
  const auto stored = a.persistInbound({"edsys", "M1", messageBytes("M1")});
  BOOST_REQUIRE(stored.ok());
  const auto message = a.fetch(stored->id);
  BOOST_REQUIRE(message.ok());
  const auto skew = std::chrono::abs(message->receivedAt - std::chrono::system_clock::now());
  BOOST_TEST(skew < std::chrono::minutes(1));  // the server's clock, in the same unit
  BOOST_TEST(claimed(b).empty());
  // polls for the lease to run out (one second), never sleeping longer than the lease
  std::vector<MessageId> takenOver;
  BOOST_TEST(cpis::test::waitFor([&] { return !(takenOver = claimed(b)).empty(); }, 5000ms));
  BOOST_TEST(takenOver == std::vector<MessageId>{stored->id});
}

BOOST_AUTO_TEST_CASE(instances_opening_a_new_database_together_migrate_it_once) {
  PgTestSchema schema;
  constexpr int kInstances = 4;
  std::vector<std::unique_ptr<PostgresMessageStore>> stores(kInstances);
  std::vector<Status> failures(kInstances);
  std::latch start(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto opened = PostgresMessageStore::open(schema.connection());
      if (opened.ok()) {
        stores[static_cast<std::size_t>(i)] = std::move(opened).value();
      } else {
        failures[static_cast<std::size_t>(i)] = opened.error();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kInstances; ++i) BOOST_TEST(failures[static_cast<std::size_t>(i)].isOk());
  const auto versions = schema.admin().query("SELECT count(*) FROM schema_version");
  BOOST_TEST(versions.int64(0, 0) == 1);
}

BOOST_AUTO_TEST_CASE(the_writer_commits_a_batch_as_one_transaction_that_sees_its_own_writes) {
  PgTestSchema schema;
  auto connection = std::make_unique<cpis::store::PgConnection>(
      cpis::store::PgConnectSettings{schema.connection(), "", 10s});
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(*connection).isOk());
  cpis::store::PostgresWriter writer(std::move(connection), {1h, "writer-test", 30s});
  const std::string raw = messageBytes("MSG1");
  const auto at = FakeClock().now();
  const cpis::store::WriteRequest first{cpis::store::PersistWrite{{"edsys", "MSG1", raw}, at}};
  const cpis::store::WriteRequest second{cpis::store::PersistWrite{{"edsys", "MSG1", raw}, at}};
  const cpis::store::WriteRequest other{cpis::store::PersistWrite{{"edsys", "MSG2", raw}, at}};
  const cpis::store::WriteRequest unknown{
      cpis::store::OutcomeWrite{999999, MessageState::Processed, "AA", at}};
  const auto replies = writer.run({&first, &second, &other, &unknown});
  BOOST_REQUIRE(replies.size() == 4U);
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(replies[i].status.isOk());
  BOOST_TEST(!replies[0].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.id == replies[0].persisted.id);
  BOOST_TEST(!replies[2].persisted.duplicate);
  // a write refused on its own merits does not undo its batch
  BOOST_TEST((replies[3].status.code() == Status::Code::NotFound));
  BOOST_TEST(schema.admin().query("SELECT count(*) FROM message").int64(0, 0) == 2);
}

BOOST_AUTO_TEST_CASE(a_batch_larger_than_one_pipeline_chunk_is_answered_in_order) {
  PgTestSchema schema;
  auto connection = std::make_unique<cpis::store::PgConnection>(
      cpis::store::PgConnectSettings{schema.connection(), "", 10s});
  BOOST_REQUIRE(cpis::store::migratePostgresSchema(*connection).isOk());
  cpis::store::PostgresWriter writer(std::move(connection), {1h, "writer-test", 30s});
  const auto at = FakeClock().now();
  constexpr int kWrites = 300;
  std::vector<std::string> ids(kWrites);
  std::vector<std::string> raws(kWrites);
  std::vector<cpis::store::WriteRequest> requests;
  requests.reserve(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    ids[static_cast<std::size_t>(i)] = "B" + std::to_string(i % 200);  // the last 100 repeat the first
    raws[static_cast<std::size_t>(i)] = messageBytes(ids[static_cast<std::size_t>(i)]);
    requests.push_back({cpis::store::PersistWrite{
        {"edsys", ids[static_cast<std::size_t>(i)], raws[static_cast<std::size_t>(i)]}, at}});
  }
  std::vector<const cpis::store::WriteRequest*> batch;
  for (const auto& request : requests) batch.push_back(&request);
  const auto replies = writer.run(batch);
  BOOST_REQUIRE(replies.size() == static_cast<std::size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) {
    const auto& reply = replies[static_cast<std::size_t>(i)];
    BOOST_TEST_REQUIRE(reply.status.isOk());
    BOOST_TEST(reply.persisted.duplicate == (i >= 200));
    if (i >= 200) BOOST_TEST(reply.persisted.id == replies[static_cast<std::size_t>(i - 200)].persisted.id);
  }
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_fails_one_batch_and_the_next_reconnects) {
  Instances instances;
  auto& a = instances.open("engine-a");
  const MessageId before = instances.persist(a, "M0");
  // the server ends every connection of the store (as a restart or a failover would)
  instances.schema.admin().exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE application_name = 'cpis-engine' AND pid <> pg_backend_pid()");
  std::vector<Status> failures;
  std::optional<PersistOutcome> stored;
  for (int attempt = 0; attempt < 3 && !stored; ++attempt) {
    const std::string raw = messageBytes("M1");
    auto outcome = a.persistInbound({"edsys", "M1", raw});
    if (outcome.ok()) {
      stored = outcome.value();
    } else {
      failures.push_back(outcome.error());
    }
  }
  BOOST_REQUIRE(stored.has_value());
  BOOST_TEST(failures.size() <= 1U);
  for (const auto& failure : failures) {
    BOOST_TEST(failure.retryable());
    BOOST_TEST(failure.message().find("SQLSTATE") != std::string::npos);
    BOOST_TEST_MESSAGE("after the server dropped the connection: " << failure);
  }
  // lookups reconnect by themselves (a lookup is safe to run again)
  BOOST_TEST(a.fetch(before).ok());
  BOOST_TEST(a.fetch(stored->id)->controlId == "M1");
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_a_retryable_status_that_quotes_no_secret) {
  PostgresStoreOptions options;
  options.password = "pw-that-must-not-show";
  options.connectTimeout = 2s;
  // a port nothing listens on: bind one, note it, close it
  int port = 0;
  {
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    BOOST_REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    BOOST_REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port = ntohs(address.sin_port);
    ::close(probe);
  }
  const auto opened = PostgresMessageStore::open(
      "host=127.0.0.1 port=" + std::to_string(port) + " dbname=cpis user=cpis", options);
  BOOST_REQUIRE(!opened.ok());
  BOOST_TEST((opened.error().code() == Status::Code::Unavailable));
  BOOST_TEST(opened.error().message().find("no server answers") != std::string::npos);
  BOOST_TEST(opened.error().message().find("pw-that-must-not-show") == std::string::npos);
  BOOST_TEST_MESSAGE(opened.error());
}

BOOST_AUTO_TEST_CASE(a_connection_string_that_cannot_be_parsed_is_a_status) {
  const auto opened = PostgresMessageStore::open("host='unterminated password=secret-in-string");
  BOOST_REQUIRE(!opened.ok());
  BOOST_TEST((opened.error().code() == Status::Code::Unavailable));
  BOOST_TEST(opened.error().message().find("cannot be parsed") != std::string::npos);
  BOOST_TEST(opened.error().message().find("secret-in-string") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_password_goes_to_the_server_and_nowhere_else) {
  PgTestSchema schema;
  const std::string conninfo = schema.withSchema(cpis::test::pgClusterFile("password-conninfo"));
  const std::string password = cpis::test::pgClusterFile("password");
  PostgresStoreOptions options;
  options.password = password;
  const auto opened = PostgresMessageStore::open(conninfo, options);
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  BOOST_TEST(opened.value()->persistInbound({"edsys", "PW1", messageBytes("PW1")}).ok());

  options.password = "not-" + password;
  const auto refused = PostgresMessageStore::open(conninfo, options);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().code() == Status::Code::Unavailable));
  BOOST_TEST(refused.error().message().find("refused this connection") != std::string::npos);
  BOOST_TEST(refused.error().message().find(password) == std::string::npos);
  BOOST_TEST_MESSAGE(refused.error());
}

BOOST_AUTO_TEST_CASE(a_database_from_a_newer_build_is_refused) {
  PgTestSchema schema;
  BOOST_REQUIRE(PostgresMessageStore::open(schema.connection()).ok());
  schema.admin().exec("UPDATE schema_version SET version = 99");
  const auto opened = PostgresMessageStore::open(schema.connection());
  BOOST_REQUIRE(!opened.ok());
  BOOST_TEST((opened.error().code() == Status::Code::InvalidArgument));
}

BOOST_AUTO_TEST_CASE(text_the_database_would_refuse_is_made_valid_and_exact_bytes_stay_exact) {
  BOOST_TEST(cpis::store::pgText("plain ASCII") == "plain ASCII");
  BOOST_TEST(cpis::store::pgText("caf\xC3\xA9") == "caf\xC3\xA9");            // valid UTF-8 stays
  BOOST_TEST(cpis::store::pgText("caf\xE9") == "caf\xEF\xBF\xBD");            // Latin-1 é
  BOOST_TEST(cpis::store::pgText(std::string("a\0b", 3)) == "ab");            // NUL dropped
  BOOST_TEST(cpis::store::pgText("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  BOOST_TEST(cpis::store::pgText("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  BOOST_TEST(cpis::store::pgText("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");                  // four bytes
}

BOOST_AUTO_TEST_SUITE_END()
