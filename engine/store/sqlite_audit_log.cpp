#include "engine/store/sqlite_audit_log.h"

#include <sqlite3.h>

#include <exception>
#include <utility>

#include <Poco/Logger.h>

#include "engine/store/exception_status.h"
#include "engine/store/sqlite_statement.h"

namespace cpis::store {

namespace {

// The audit table lives beside the message store's tables but is created by this class
// alone, so the message store's schema version does not cover it; IF NOT EXISTS keeps opening
// idempotent. Times are microseconds since 1970-01-01 UTC, as in the message table.
constexpr const char* kCreateAudit[]{
    R"(CREATE TABLE IF NOT EXISTS audit (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         feed TEXT NOT NULL,
         location TEXT NOT NULL,
         nhs_number TEXT NOT NULL,
         access_mode TEXT NOT NULL CHECK (access_mode IN ('UNSCHEDULED', 'SCHEDULED')),
         outcome TEXT NOT NULL CHECK (outcome IN ('FOUND', 'NOT_FOUND', 'CHECK_FAILED')),
         reason TEXT NOT NULL DEFAULT '',
         detail TEXT NOT NULL DEFAULT '',
         latency_us INTEGER NOT NULL,
         check_id TEXT NOT NULL,
         message_id TEXT NOT NULL,
         possible_duplicate INTEGER NOT NULL DEFAULT 0,
         from_cache INTEGER NOT NULL DEFAULT 0,
         source TEXT NOT NULL,
         record_count INTEGER NOT NULL DEFAULT 0))",
    "CREATE INDEX IF NOT EXISTS audit_by_nhs_number ON audit (nhs_number, at)",
    "CREATE INDEX IF NOT EXISTS audit_by_check_id ON audit (check_id)",
};

constexpr const char* kColumns =
    "SELECT id, at, feed, location, nhs_number, access_mode, outcome, reason, detail, latency_us, check_id,"
    " message_id, possible_duplicate, from_cache, source, record_count FROM audit";

// How long a written batch waits for the message store's writer to sync the shared WAL (it
// syncs every few milliseconds while messages flow) before syncing it itself. Nobody waits for
// an audit row to be durable; the store's writer does wait for its syncs.
constexpr std::chrono::microseconds kSyncPatience{3000};

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.store");
}

void exec(sqlite3* db, const char* sql) {
  const int code = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) throw SqliteError(sqlite3_extended_errcode(db));
}

}  // namespace

const char* const kSqliteAuditInsert =
    "INSERT INTO audit (at, feed, location, nhs_number, access_mode, outcome, reason, detail, latency_us,"
    " check_id, message_id, possible_duplicate, from_cache, source, record_count)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

void insertAuditEntries(SqliteStatement& insert, std::span<const QueryAuditEntry> entries) {
  for (const auto& e : entries) {
    const auto at = std::chrono::duration_cast<std::chrono::microseconds>(e.at.time_since_epoch()).count();
    auto run = insert.run();
    run.bind(1, at)
        .bindText(2, e.feed)
        .bindText(3, e.location)
        .bindText(4, e.nhsNumber.reveal())  // the audit trail is where the number belongs
        .bindText(5, domain::codeOf(e.accessMode))
        .bindText(6, domain::codeOf(e.outcome))
        .bindText(7, e.reason ? domain::codeOf(*e.reason) : std::string_view(""))  // never NULL
        .bindText(8, e.detail)
        .bind(9, e.latency.count())
        .bindText(10, e.checkId)
        .bindText(11, e.messageId)
        .bind(12, e.possibleDuplicate ? 1 : 0)
        .bind(13, e.fromCache ? 1 : 0)
        .bindText(14, domain::codeOf(e.source))
        .bind(15, static_cast<std::int64_t>(e.recordCount));
    run.step();
  }
}

core::Result<std::unique_ptr<SqliteAuditLog>> SqliteAuditLog::open(const std::string& path,
                                                                   std::size_t maxQueued,
                                                                   WriteThrough writeThrough) {
  sqlite3* db = nullptr;
  const int code =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr);
  if (code != SQLITE_OK) {
    sqlite3_close(db);
    return core::Status::unavailable("audit log: cannot open " + path + " (" + sqlite3_errstr(code) + ")");
  }
  try {
    // The message store's writer holds the write lock only for one short batch at a time.
    sqlite3_busy_timeout(db, 5000);
    exec(db, "PRAGMA journal_mode = WAL");
    // Commits do not sync inside SQLite's write lock (the message store's writer would wait for
    // the sync); writeBatch() syncs the WAL once the lock is released, before it returns.
    exec(db, "PRAGMA synchronous = NORMAL");
    // No checkpoints from this connection: SQLite's automatic one (past 1,000 WAL frames) would
    // copy the WAL into the database and sync it inside an audit commit, holding the file's
    // write lock for tens of milliseconds while the message store's writer waits. The store's
    // checkpointer copies the WAL back for every connection of the file (SqliteCheckpointer).
    exec(db, "PRAGMA wal_autocheckpoint = 0");
    for (const char* statement : kCreateAudit) exec(db, statement);
    return std::make_unique<SqliteAuditLog>(OpenKey{}, db, maxQueued, std::move(writeThrough));
  } catch (const std::exception& e) {
    sqlite3_close(db);
    return unavailableFrom("audit log: cannot prepare the audit table in " + path, e);
  }
}

SqliteAuditLog::SqliteAuditLog(OpenKey, sqlite3* db, std::size_t maxQueued, WriteThrough writeThrough)
    : db_(db),
      begin_(std::make_unique<SqliteStatement>(db, "BEGIN IMMEDIATE")),
      commit_(std::make_unique<SqliteStatement>(db, "COMMIT")),
      rollback_(std::make_unique<SqliteStatement>(db, "ROLLBACK")),
      insert_(std::make_unique<SqliteStatement>(db, kSqliteAuditInsert)),
      wal_(std::make_unique<WalFile>(sqlite3_db_filename(db, "main"), "audit log")),
      writeLock_(sqliteWriteLock(db)) {
  if (writeThrough) {
    through_ = std::make_unique<AuditThrough>(maxQueued, std::move(writeThrough));
  } else {
    queue_ = std::make_unique<AuditQueue>(maxQueued,
                                          [this](std::vector<QueryAuditEntry>& batch) { return writeBatch(batch); });
  }
}

SqliteAuditLog::~SqliteAuditLog() {
  // What is queued or in flight is written first; then the statements and the connection can go.
  if (through_) through_->close();
  if (queue_) queue_->close();
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  insert_.reset();
  sqlite3_close(db_);
}

void SqliteAuditLog::record(const QueryAuditEntry& entry) {
  if (through_) return through_->record(entry);
  queue_->record(entry);
}

core::Status SqliteAuditLog::flush() {
  return through_ ? through_->flush() : queue_->flush();
}

SqliteAuditStats SqliteAuditLog::stats() const {
  const AuditQueueStats q = through_ ? through_->stats() : queue_->stats();
  SqliteAuditStats s;
  s.written = q.written;
  s.failed = q.failed;
  s.commits = q.commits;
  s.queued = q.queued;
  return s;
}

std::optional<core::Status> SqliteAuditLog::writeBatch(std::vector<QueryAuditEntry>& batch) {
  std::optional<core::Status> failure;
  {
    const std::lock_guard db(dbMutex_);
    std::unique_lock writing(*writeLock_);  // the message store's writer waits for the commit, not a sleep
    try {
      begin_->run().step();
      insertAuditEntries(*insert_, batch);
      commit_->run().step();
      writing.unlock();
      if (auto synced = wal_->sync(kSyncPatience); !synced.isOk()) {
        failure = core::Status::unavailable("audit log: a transaction of " + std::to_string(batch.size()) +
                                            " entries was not made durable: " + synced.message());
        logger().error(failure->message());
      }
    } catch (const std::exception& e) {
      if (sqlite3_get_autocommit(db_) == 0) {
        try {
          rollback_->run().step();
        } catch (const std::exception&) {  // nothing was committed either way
        }
      }
      failure = unavailableFrom(
          "audit log: a transaction of " + std::to_string(batch.size()) + " entries failed, none was written", e);
      logger().error(failure->message());
    }
  }
  return failure;
}

core::Result<std::vector<AuditRow>> SqliteAuditLog::select(const std::string& where,
                                                           const std::string& argument) {
  const std::lock_guard db(dbMutex_);
  try {
    SqliteStatement statement(db_, std::string(kColumns) + where + " ORDER BY id");
    auto run = statement.run();
    if (!where.empty()) run.bindText(1, argument);
    std::vector<AuditRow> rows;
    while (run.step()) {
      AuditRow r;
      r.id = run.int64(0);
      r.atMicros = run.int64(1);
      r.feed = run.text(2);
      r.location = run.text(3);
      r.nhsNumber = run.text(4);
      r.accessMode = run.text(5);
      r.outcome = run.text(6);
      r.reason = run.text(7);
      r.detail = run.text(8);
      r.latencyMicros = run.int64(9);
      r.checkId = run.text(10);
      r.messageId = run.text(11);
      r.possibleDuplicate = run.int64(12) != 0;
      r.fromCache = run.int64(13) != 0;
      r.source = run.text(14);
      r.recordCount = run.int64(15);
      rows.push_back(std::move(r));
    }
    return rows;
  } catch (const std::exception& e) {
    return unavailableFrom("audit log: cannot read the audit table", e);
  }
}

core::Result<std::vector<AuditRow>> SqliteAuditLog::findByCheckId(const std::string& checkId) {
  return select(" WHERE check_id = ?1", checkId);
}

core::Result<std::vector<AuditRow>> SqliteAuditLog::all() {
  return select("", "");
}

}  // namespace cpis::store
