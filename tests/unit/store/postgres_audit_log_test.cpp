// The audit log on PostgreSQL: SqliteAuditLog's cases against the test cluster.
#include "engine/store/postgres_audit_log.h"

#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/store/pg_connection.h"
#include "tests/unit/store/store_backends.h"

namespace domain = cpis::domain;
namespace store = cpis::store;
namespace test = cpis::test;
using namespace std::chrono_literals;

namespace {

store::QueryAuditEntry entry(const std::string& checkId, domain::CheckStatus outcome) {
  const bool failed = outcome == domain::CheckStatus::CheckFailed;
  return store::QueryAuditEntry{
      .at = domain::Instant(std::chrono::milliseconds(1'749'738'606'123)),
      .feed = "rzz-ed",
      .location = "RZZ01/EDMAJ",
      .nhsNumber = *domain::NhsNumber::parse("9990000018"),
      .accessMode = domain::AccessMode::Unscheduled,
      .outcome = outcome,
      .reason = failed ? std::optional(domain::ReasonCode::Timeout) : std::nullopt,
      .detail = failed ? "no reply from CP-IS within 5 s" : "",
      .latency = 1234us,
      .checkId = checkId,
      .messageId = "MSG-" + checkId,
      .possibleDuplicate = failed,
      .fromCache = false,
      .source = domain::Source::Spine,
      .recordCount = outcome == domain::CheckStatus::Found ? 2u : 0u,
  };
}

std::unique_ptr<store::PostgresAuditLog> openLog(const test::PgTestSchema& schema) {
  auto opened = store::PostgresAuditLog::open(schema.connection());
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  return std::move(opened).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_audit_log)

BOOST_AUTO_TEST_CASE(writes_every_field) {
  test::PgTestSchema schema;
  auto log = openLog(schema);
  log->record(entry("A", domain::CheckStatus::Found));
  log->record(entry("B", domain::CheckStatus::CheckFailed));
  BOOST_REQUIRE(log->flush().isOk());
  const auto rows = log->all().value();
  BOOST_REQUIRE(rows.size() == 2u);
  const auto& a = rows[0];
  BOOST_TEST(a.atMicros == 1'749'738'606'123'000);
  BOOST_TEST(a.feed == "rzz-ed");
  BOOST_TEST(a.location == "RZZ01/EDMAJ");
  BOOST_TEST(a.nhsNumber == "9990000018");
  BOOST_TEST(a.accessMode == "UNSCHEDULED");
  BOOST_TEST(a.outcome == "FOUND");
  BOOST_TEST(a.reason == "");
  BOOST_TEST(a.latencyMicros == 1234);
  BOOST_TEST(a.checkId == "A");
  BOOST_TEST(a.messageId == "MSG-A");
  BOOST_TEST(!a.possibleDuplicate);
  BOOST_TEST(!a.fromCache);
  BOOST_TEST(a.source == "SPINE");
  BOOST_TEST(a.recordCount == 2);
  const auto& b = rows[1];
  BOOST_TEST(b.outcome == "CHECK_FAILED");
  BOOST_TEST(b.reason == "TIMEOUT");
  BOOST_TEST(b.detail == "no reply from CP-IS within 5 s");
  BOOST_TEST(b.possibleDuplicate);
  BOOST_TEST(log->findByCheckId("B").value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(two_instances_write_into_one_table_in_few_commits) {
  test::PgTestSchema schema;
  auto first = openLog(schema);
  auto second = openLog(schema);  // another engine instance: the table exists already
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto& log = t % 2 == 0 ? *first : *second;
      for (int i = 0; i < 100; ++i) {
        log.record(entry(std::to_string(t) + "-" + std::to_string(i), domain::CheckStatus::NotFound));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(first->flush().isOk());
  BOOST_REQUIRE(second->flush().isOk());
  BOOST_TEST(first->all().value().size() == 800u);
  const auto stats = first->stats();
  BOOST_TEST(stats.written == 400u);
  BOOST_TEST(stats.commits < 400u);  // batched
}

BOOST_AUTO_TEST_CASE(a_dropped_connection_fails_one_batch_and_the_next_is_written) {
  test::PgTestSchema schema;
  auto log = openLog(schema);
  log->record(entry("before", domain::CheckStatus::NotFound));
  BOOST_REQUIRE(log->flush().isOk());
  schema.admin().exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
      " WHERE application_name = 'cpis-engine' AND pid <> pg_backend_pid()");
  log->record(entry("lost", domain::CheckStatus::NotFound));
  const auto first = log->flush();
  if (!first.isOk()) {
    BOOST_TEST(first.retryable());
    BOOST_TEST(first.message().find("9990000018") == std::string::npos);  // no patient data in the status
  }
  log->record(entry("after", domain::CheckStatus::NotFound));
  BOOST_TEST(log->flush().isOk());
  BOOST_TEST(log->findByCheckId("after").value().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
