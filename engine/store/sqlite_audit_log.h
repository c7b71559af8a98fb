#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/core/status.h"
#include "engine/store/audit_log.h"
#include "engine/store/audit_queue.h"
#include "engine/store/sqlite_wal.h"

struct sqlite3;

namespace cpis::store {

class SqliteStatement;

struct SqliteAuditStats {
  std::uint64_t written = 0;   // rows committed
  std::uint64_t failed = 0;    // rows whose transaction failed (reported in lastError)
  std::uint64_t commits = 0;   // transactions
  std::size_t queued = 0;      // waiting for the writer
};

// The audit table in the message store's SQLite file: its own connection in WAL mode, which
// takes the file's in-process write lock (sqliteWriteLock) for each batch's transaction, so that
// it and the message store's writer take turns without SQLite's sleeping busy handler, and
// syncs the WAL after the commit, outside that lock (synchronous NORMAL, then WalFile::sync).
//
// record() queues the entry and returns at once: a lookup never waits for a disk sync. One
// writer thread commits whatever has queued as one transaction, so a burst of lookups costs
// one sync. flush() waits until everything queued before it is committed. A crash can lose
// only the entries of the batch being written (milliseconds' worth). When more than
// `maxQueued` entries wait, record() blocks until the writer catches up: back-pressure, never
// a silently dropped audit entry.
class SqliteAuditLog final : public AuditLog {
 public:
  // Opens (or creates) the database file and the audit table. An unusable file is a Status.
  static core::Result<std::unique_ptr<SqliteAuditLog>> open(const std::string& path,
                                                            std::size_t maxQueued = 100'000);
  ~SqliteAuditLog() override;  // flushes and stops the writer
  SqliteAuditLog(const SqliteAuditLog&) = delete;
  SqliteAuditLog& operator=(const SqliteAuditLog&) = delete;

  // AuditLog
  void record(const QueryAuditEntry& entry) override;

  // Waits until every entry recorded before this call is committed (or has failed). The
  // status of the last failed transaction since the previous flush, or ok.
  core::Status flush();
  // Rows for one check id, oldest first (a reader for tests and support; not on a hot path).
  core::Result<std::vector<AuditRow>> findByCheckId(const std::string& checkId);
  core::Result<std::vector<AuditRow>> all();
  SqliteAuditStats stats() const;

  struct OpenKey {
    explicit OpenKey() = default;
  };
  SqliteAuditLog(OpenKey, sqlite3* db, std::size_t maxQueued);

 private:
  // One transaction for the batch (on the queue's writer thread); its failure, or none.
  std::optional<core::Status> writeBatch(std::vector<QueryAuditEntry>& batch);
  core::Result<std::vector<AuditRow>> select(const std::string& where, const std::string& argument);

  sqlite3* db_;
  std::unique_ptr<SqliteStatement> begin_, commit_, rollback_, insert_;
  std::unique_ptr<WalFile> wal_;                // synced after each batch's commit
  std::shared_ptr<std::mutex> writeLock_;       // shared with the message store's writer
  std::mutex dbMutex_;  // the connection: the writer's batches and the readers
  AuditQueue queue_;    // last: its writer thread uses the members above
};

}  // namespace cpis::store
