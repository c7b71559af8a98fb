#include "engine/store/sqlite_audit_log.h"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include <filesystem>
#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/store/sqlite_message_store.h"
#include "engine/store/sqlite_wal.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

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

// fdatasync(2) failing on its first call (EIO, as a failing disk), the real one after; tests
// reset the count.
std::atomic<int> fdatasyncCalls{0};
int fdatasyncFailingOnce(int fd) {
  if (fdatasyncCalls++ == 0) {
    errno = EIO;
    return -1;
  }
  return ::fdatasync(fd);
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

BOOST_AUTO_TEST_CASE(takes_turns_with_the_message_store_writer_on_one_file) {
  // Both write the same file at once; each waits for the other's commit on the file's
  // in-process write lock, and nothing fails or is lost.
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  auto messages = store::SqliteMessageStore::open(path).value();
  auto log = store::SqliteAuditLog::open(path).value();
  std::vector<std::thread> threads;
  std::atomic<int> stored{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        log->record(entry(id, domain::CheckStatus::NotFound));
        if (messages->persistInbound({"rzz-ed", "MSG" + id, "MSH|^~\\&|A\r", std::nullopt}).ok()) ++stored;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(log->flush().isOk());
  BOOST_TEST(stored.load() == 400);
  BOOST_TEST(log->all().value().size() == 400u);
  BOOST_TEST(log->stats().failed == 0u);
}

// The audit log of the engine: rows written by the message store's writer (AuditThrough).
store::SqliteAuditLog::WriteThrough through(store::SqliteMessageStore& messages) {
  return [&messages](std::vector<store::QueryAuditEntry> entries, store::AuditThrough::Done done) {
    messages.recordAudit(std::move(entries), std::move(done));
  };
}

// A message store and its audit rows written through it, whose rows only another write takes.
struct ThroughStore {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  std::unique_ptr<store::SqliteMessageStore> messages = [this] {
    store::SqliteStoreOptions options;
    options.auditLinger = std::chrono::hours(1);
    return store::SqliteMessageStore::open(path, options).value();
  }();
  std::unique_ptr<store::SqliteAuditLog> log = store::SqliteAuditLog::open(path, 1000, through(*messages)).value();
};

BOOST_AUTO_TEST_CASE(written_through_the_message_store_a_row_rides_in_the_callers_next_write) {
  ThroughStore t;
  auto& messages = t.messages;
  auto& log = t.log;
  const auto before = messages->stats().transactions;
  // As a check does: the lookup's rows, then the message's write, from one thread.
  log->record(entry("R", domain::CheckStatus::NotFound));
  log->record(entry("S", domain::CheckStatus::Found));
  BOOST_TEST(messages->stats().queuedWrites == 2u);  // queued already, written by no one yet
  BOOST_TEST(messages->persistInbound({"rzz-ed", "MSG1", "MSH|^~\\&|A\r", std::nullopt}).ok());
  BOOST_TEST(messages->stats().transactions == before + 1);  // one transaction for the rows and the message
  BOOST_REQUIRE(log->flush().isOk());
  BOOST_TEST(log->stats().written == 2u);
  const auto all = log->all().value();
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].checkId == "R");
  BOOST_TEST(all[1].checkId == "S");
  BOOST_TEST(all[1].recordCount == 2);
}

BOOST_AUTO_TEST_CASE(audit_rows_the_store_cannot_write_fail_alone) {
  test::TempDir dir;
  store::SqliteStoreOptions options;
  options.auditLinger = std::chrono::hours(1);
  auto messages = store::SqliteMessageStore::open(dir.file("messages.db"), options).value();  // no audit table
  std::promise<cpis::core::Status> audit;
  messages->recordAudit({entry("T", domain::CheckStatus::NotFound)},
                        [&](cpis::core::Status status) { audit.set_value(std::move(status)); });
  BOOST_TEST(messages->stats().queuedWrites == 1u);
  const auto before = messages->stats().transactions;
  const auto persisted = messages->persistInbound({"rzz-ed", "MSG1", "MSH|^~\\&|A\r", std::nullopt});
  BOOST_TEST(persisted.ok());
  const auto status = audit.get_future().get();
  BOOST_TEST(!status.isOk());
  BOOST_TEST(status.message().find("audit rows not written") != std::string::npos);
  BOOST_TEST(messages->stats().transactions == before + 1);  // the same transaction, committed; no second try
  BOOST_TEST(messages->fetch(persisted.value().id).ok());
}

BOOST_AUTO_TEST_CASE(audit_rows_in_a_transaction_another_write_broke_are_written_again_alone) {
  ThroughStore t;
  auto& messages = t.messages;
  auto& log = t.log;
  const std::string& path = t.path;
  {
    // The message's write will fail, and its transaction with it: its table is gone.
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    BOOST_REQUIRE(sqlite3_exec(db, "DROP TABLE message_raw", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  log->record(entry("X", domain::CheckStatus::NotFound));
  BOOST_TEST(messages->stats().queuedWrites == 1u);
  BOOST_TEST(!messages->persistInbound({"rzz-ed", "MSG1", "MSH|^~\\&|A\r", std::nullopt}).ok());
  BOOST_REQUIRE(log->flush().isOk());
  BOOST_TEST(log->stats().written == 1u);
  BOOST_TEST(log->stats().failed == 0u);
  BOOST_TEST(log->findByCheckId("X").value().size() == 1u);
}


BOOST_AUTO_TEST_CASE(after_a_failed_sync_nothing_more_is_acknowledged_and_audit_rows_are_not_written_twice) {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  fdatasyncCalls = 0;
  {
    store::SqliteStoreOptions options;
    options.auditLinger = std::chrono::hours(1);
    options.fdatasync = &fdatasyncFailingOnce;
    auto messages = store::SqliteMessageStore::open(path, options).value();
    auto log = store::SqliteAuditLog::open(path, 1000, through(*messages)).value();
    log->record(entry("Y", domain::CheckStatus::NotFound));
    // Committed with the rows, then the sync fails: not acknowledged.
    BOOST_TEST(!messages->persistInbound({"rzz-ed", "MSG1", "MSH|^~\\&|A\r", std::nullopt}).ok());
    BOOST_TEST(!log->flush().isOk());  // the rows' answer is that failure: committed, so not queued again
    const auto next = messages->persistInbound({"rzz-ed", "MSG2", "MSH|^~\\&|B\r", std::nullopt});
    BOOST_TEST(!next.ok());
    BOOST_TEST(next.error().message().find("may have lost writes") != std::string::npos);
    BOOST_TEST(fdatasyncCalls.load() == 1);  // the file is not synced again, so not believed again
  }
  auto reopened = store::SqliteAuditLog::open(path).value();
  BOOST_TEST(reopened->findByCheckId("Y").value().size() == 1u);  // once
}

BOOST_AUTO_TEST_CASE(written_through_flush_waits_for_every_row_before_it_in_whatever_order_answered) {
  test::TempDir dir;
  std::mutex mutex;
  std::vector<store::AuditThrough::Done> held;
  auto log = store::SqliteAuditLog::open(dir.file("engine.db"), 10,
                                         [&](std::vector<store::QueryAuditEntry>, store::AuditThrough::Done done) {
                                           const std::lock_guard lock(mutex);
                                           held.push_back(std::move(done));
                                         })
                 .value();
  log->record(entry("F1", domain::CheckStatus::NotFound));
  log->record(entry("F2", domain::CheckStatus::NotFound));
  {
    const std::lock_guard lock(mutex);
    held[1](cpis::core::Status::ok());  // the later row first
  }
  std::atomic<bool> firstAnswered{false};
  std::atomic<bool> flushedAfterFirst{false};
  std::thread flusher([&] {
    BOOST_TEST(log->flush().isOk());
    flushedAfterFirst = firstAnswered.load();
  });
  firstAnswered = true;
  {
    const std::lock_guard lock(mutex);
    held[0](cpis::core::Status::ok());
  }
  flusher.join();
  BOOST_TEST(flushedAfterFirst.load());
  BOOST_TEST(log->stats().written == 2u);
}

BOOST_AUTO_TEST_CASE(written_through_a_row_answered_twice_counts_once) {
  test::TempDir dir;
  auto log = store::SqliteAuditLog::open(dir.file("engine.db"), 1,
                                         [](std::vector<store::QueryAuditEntry>, store::AuditThrough::Done done) {
                                           done(cpis::core::Status::ok());
                                           done(cpis::core::Status::unavailable("a writer's bug"));
                                         })
                 .value();
  log->record(entry("D1", domain::CheckStatus::NotFound));
  log->record(entry("D2", domain::CheckStatus::NotFound));  // would block if the first still counted
  BOOST_TEST(log->flush().isOk());
  BOOST_TEST(log->stats().written == 2u);
  BOOST_TEST(log->stats().failed == 0u);
  BOOST_TEST(log->stats().queued == 0u);
}

BOOST_AUTO_TEST_CASE(written_through_the_message_store_rows_go_alone_after_the_linger) {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  auto messages = store::SqliteMessageStore::open(path).value();  // the default linger
  auto log = store::SqliteAuditLog::open(path, 1000, through(*messages)).value();
  log->record(entry("U", domain::CheckStatus::NotFound));
  BOOST_REQUIRE(log->flush().isOk());
  BOOST_TEST(log->findByCheckId("U").value().size() == 1u);
  BOOST_TEST(log->stats().written == 1u);
}

BOOST_AUTO_TEST_CASE(written_through_a_closed_message_store_a_row_fails_and_says_so) {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  auto messages = store::SqliteMessageStore::open(path).value();
  auto log = store::SqliteAuditLog::open(path, 1000, through(*messages)).value();
  messages->close();
  log->record(entry("V", domain::CheckStatus::NotFound));  // answered at once: never blocks
  const auto status = log->flush();
  BOOST_TEST(!status.isOk());
  BOOST_TEST(status.message().find("closed") != std::string::npos);
  BOOST_TEST(log->stats().failed == 1u);
  BOOST_TEST(log->findByCheckId("V").value().empty());
}

BOOST_AUTO_TEST_CASE(written_through_at_most_max_queued_rows_are_in_flight) {
  test::TempDir dir;
  const std::string path = dir.file("engine.db");
  std::mutex mutex;
  std::vector<store::AuditThrough::Done> held;  // rows the writer has not answered yet
  auto log = store::SqliteAuditLog::open(path, 2, [&](std::vector<store::QueryAuditEntry>, store::AuditThrough::Done done) {
               const std::lock_guard lock(mutex);
               held.push_back(std::move(done));
             }).value();
  log->record(entry("W1", domain::CheckStatus::NotFound));
  log->record(entry("W2", domain::CheckStatus::NotFound));
  std::atomic<bool> third{false};
  std::thread blocked([&] {
    log->record(entry("W3", domain::CheckStatus::NotFound));  // waits: two in flight
    third = true;
  });
  BOOST_TEST(!third.load());
  BOOST_TEST(log->stats().queued == 2u);
  {
    const std::lock_guard lock(mutex);
    held.front()(cpis::core::Status::ok());
  }
  blocked.join();
  BOOST_TEST(third.load());
  {
    const std::lock_guard lock(mutex);
    for (std::size_t i = 1; i < held.size(); ++i) held[i](cpis::core::Status::ok());
  }
  BOOST_TEST(log->flush().isOk());
  BOOST_TEST(log->stats().written == 3u);
}

BOOST_AUTO_TEST_CASE(one_write_lock_per_database_file) {
  test::TempDir dir;
  const auto open = [](const std::string& file) {
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS t (x)", nullptr, nullptr, nullptr);
    return std::unique_ptr<sqlite3, int (*)(sqlite3*)>(db, sqlite3_close);
  };
  auto a1 = open(dir.file("a.db"));
  auto a2 = open(dir.file("a.db"));
  auto b = open(dir.file("b.db"));
  const auto lockA1 = store::sqliteWriteLock(a1.get());
  const auto lockA2 = store::sqliteWriteLock(a2.get());
  const auto lockB = store::sqliteWriteLock(b.get());
  BOOST_TEST(lockA1.get() == lockA2.get());  // two connections, one file: one lock
  BOOST_TEST(lockA1.get() != lockB.get());
  BOOST_TEST(store::sqliteWriteLock(nullptr).get() != lockA1.get());  // nothing to name: a lock of its own
}

BOOST_AUTO_TEST_CASE(a_missing_write_ahead_log_is_a_status_naming_its_user) {
  test::TempDir dir;
  store::WalFile wal(dir.file("none.db"), "audit log");
  const auto missing = wal.sync();
  BOOST_TEST(!missing.isOk());
  BOOST_TEST(missing.message().find("audit log: the write-ahead log is missing") != std::string::npos);
  std::ofstream(dir.file("none.db") + "-wal") << "x";
  BOOST_TEST(wal.sync().isOk());
}

BOOST_AUTO_TEST_CASE(after_a_failed_fdatasync_no_sync_of_that_file_succeeds_again_in_this_process) {
  test::TempDir dir;
  const std::string path = dir.file("broken.db");
  std::ofstream(path) << "x";  // the group is the database file's
  std::ofstream(path + "-wal") << "x";
  fdatasyncCalls = 0;
  store::WalFile failing(path, "message store", &fdatasyncFailingOnce);
  const auto first = failing.sync();
  BOOST_TEST(!first.isOk());
  BOOST_TEST(first.message().find("errno 5") != std::string::npos);
  // The kernel would now report success for pages it may have dropped: not believed.
  const auto second = failing.sync();
  BOOST_TEST(!second.isOk());
  BOOST_TEST(second.message().find("may have lost writes") != std::string::npos);
  BOOST_TEST(fdatasyncCalls.load() == 1);  // not even tried again
  store::WalFile other(path, "audit log");  // the file's other users are refused too
  BOOST_TEST(!other.sync().isOk());
  std::ofstream(dir.file("fine.db")) << "x";
  std::ofstream(dir.file("fine.db") + "-wal") << "x";
  store::WalFile elsewhere(dir.file("fine.db"), "audit log");
  BOOST_TEST(elsewhere.sync().isOk());  // another file is not affected
}

// Runs a sync that stays running until `release` is set, then waits until `count` other
// callers wait for it: what the tests below need to have happened before they go on.
struct HeldSync {
  store::WalSyncGroup& group;
  std::promise<void> running, release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> runs{0};
  std::thread thread;

  explicit HeldSync(store::WalSyncGroup& g) : group(g) {
    thread = std::thread([this] {
      const auto status = group.sync([this] {
        ++runs;
        running.set_value();
        released.wait();
        return cpis::core::Status::ok();
      });
      BOOST_TEST(status.isOk());
    });
    running.get_future().wait();
  }
  void releaseOnceWaiting(std::size_t count) {
    while (group.waiting() < count) std::this_thread::yield();  // they block on the group's condition
    release.set_value();
    thread.join();
  }
};

BOOST_AUTO_TEST_CASE(callers_that_arrive_during_a_sync_share_the_next_one) {
  store::WalSyncGroup group;
  HeldSync first(group);
  std::atomic<int> runs{0};
  auto caller = [&] {
    return std::async(std::launch::async, [&] {
      return group.sync([&] {
        ++runs;
        return cpis::core::Status::ok();
      });
    });
  };
  auto b = caller();
  auto c = caller();
  first.releaseOnceWaiting(2);
  BOOST_TEST(b.get().isOk());
  BOOST_TEST(c.get().isOk());
  BOOST_TEST(first.runs == 1);
  BOOST_TEST(runs == 1);  // the running sync may have missed their commits; one more covers both
  BOOST_TEST(group.sync([&] { return ++runs, cpis::core::Status::ok(); }).isOk());
  BOOST_TEST(runs == 2);  // nothing running: a caller syncs at once
}

BOOST_AUTO_TEST_CASE(a_failed_sync_fails_everyone_who_relied_on_it_and_no_one_after) {
  store::WalSyncGroup group;
  HeldSync first(group);
  auto caller = [&] {
    return std::async(std::launch::async, [&] {
      return group.sync([] { return cpis::core::Status::unavailable("message store: syncing failed (errno 5)"); });
    });
  };
  auto b = caller();
  auto c = caller();
  first.releaseOnceWaiting(2);
  for (auto* waiter : {&b, &c}) {
    const auto status = waiter->get();
    BOOST_TEST(!status.isOk());
    BOOST_TEST(status.message() == "message store: syncing failed (errno 5)");  // whoever ran it, both hear
  }
  BOOST_TEST(group.sync([] { return cpis::core::Status::ok(); }).isOk());
}

BOOST_AUTO_TEST_CASE(a_patient_caller_is_covered_by_a_sync_someone_else_begins) {
  store::WalSyncGroup group;
  std::atomic<int> ownRuns{0};
  auto patient = std::async(std::launch::async, [&] {
    return group.sync([&] { return ++ownRuns, cpis::core::Status::ok(); }, std::chrono::hours(1));
  });
  while (group.waiting() < 1) std::this_thread::yield();  // it waits for another's sync to begin
  int runs = 0;
  BOOST_TEST(group.sync([&] { return ++runs, cpis::core::Status::ok(); }).isOk());
  BOOST_TEST(patient.get().isOk());
  BOOST_TEST(runs == 1);
  BOOST_TEST(ownRuns == 0);
  // With no one else about, patience runs out and the caller syncs itself.
  BOOST_TEST(group.sync([&] { return ++ownRuns, cpis::core::Status::ok(); }, 1ms).isOk());
  BOOST_TEST(ownRuns == 1);
}

BOOST_AUTO_TEST_SUITE_END()
