#include "engine/store/sqlite_audit_log.h"

#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/store/sqlite_message_store.h"
#include "tests/support/temp_dir.h"

namespace domain = cpis::domain;
namespace store = cpis::store;
namespace test = cpis::test;
using namespace std::chrono_literals;

namespace {

store::QueryAuditEntry entry(const std::string& checkId, domain::CheckStatus outcome) {
  return store::QueryAuditEntry{
      .at = domain::Instant(std::chrono::milliseconds(1'749'738'606'123)),
      .feed = "rzz-ed",
      .location = "RZZ01/EDMAJ",
      .nhsNumber = *domain::NhsNumber::parse("9990000018"),
      .accessMode = domain::AccessMode::Unscheduled,
      .outcome = outcome,
      .reason = outcome == domain::CheckStatus::CheckFailed ? std::optional(domain::ReasonCode::Timeout)
                                                           : std::nullopt,
      .detail = outcome == domain::CheckStatus::CheckFailed ? "no reply from CP-IS within 5 s" : "",
      .latency = 1234us,
      .checkId = checkId,
      .messageId = "MSG-" + checkId,
      .possibleDuplicate = outcome == domain::CheckStatus::CheckFailed,
      .fromCache = false,
      .source = domain::Source::Spine,
      .recordCount = outcome == domain::CheckStatus::Found ? 2u : 0u,
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_audit_log)

BOOST_AUTO_TEST_CASE(writes_every_field) {
  test::TempDir dir;
  auto log = store::SqliteAuditLog::open(dir.file("engine.db")).value();
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
  BOOST_TEST(a.source == "SPINE");
  BOOST_TEST(a.recordCount == 2);
  const auto& b = rows[1];
  BOOST_TEST(b.outcome == "CHECK_FAILED");
  BOOST_TEST(b.reason == "TIMEOUT");
  BOOST_TEST(b.detail == "no reply from CP-IS within 5 s");
  BOOST_TEST(b.possibleDuplicate);
  BOOST_TEST(log->findByCheckId("B").value().size() == 1u);
}

BOOST_AUTO_TEST_CASE(many_threads_many_rows_few_commits) {
  test::TempDir dir;
  auto log = store::SqliteAuditLog::open(dir.file("engine.db")).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) log->record(entry(std::to_string(t) + "-" + std::to_string(i), domain::CheckStatus::NotFound));
    });
  }
  for (auto& t : threads) t.join();
  BOOST_REQUIRE(log->flush().isOk());
  const auto stats = log->stats();
  BOOST_TEST(stats.written == 2000u);
  BOOST_TEST(stats.commits < 2000u);  // batched: a burst shares its syncs
  BOOST_TEST(log->all().value().size() == 2000u);
}

BOOST_AUTO_TEST_CASE(shares_the_message_store_file_and_survives_reopening) {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  {
    auto messages = store::SqliteMessageStore::open(path).value();
    auto log = store::SqliteAuditLog::open(path).value();
    const auto persisted = messages->persistInbound({"rzz-ed", "MSG1", "MSH|^~\\&|A\r", std::nullopt});
    BOOST_TEST(persisted.ok());
    log->record(entry("C", domain::CheckStatus::NotFound));
    BOOST_REQUIRE(log->flush().isOk());
  }
  auto log = store::SqliteAuditLog::open(path).value();
  BOOST_TEST(log->findByCheckId("C").value().size() == 1u);
  auto messages = store::SqliteMessageStore::open(path);
  BOOST_TEST(messages.ok());
}

BOOST_AUTO_TEST_CASE(an_unusable_file_is_a_status) {
  const auto log = store::SqliteAuditLog::open("/nonexistent-dir/engine.db");
  BOOST_TEST(!log.ok());
  BOOST_TEST(log.error().message().find("audit log: cannot open") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
