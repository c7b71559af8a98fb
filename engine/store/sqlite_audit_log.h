#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
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

// The SQL that inserts one audit row, and the loop that binds and runs it for each entry
// (throws SqliteError): shared by this class and the message store's writer.
extern const char* const kSqliteAuditInsert;
void insertAuditEntries(SqliteStatement& insert, std::span<const QueryAuditEntry> entries);

// The audit table in the message store's SQLite file, created (if need be) by open() on the
// class's own connection, which also reads it.
//
// Who writes the rows:
// - In the engine, the message store's own writer (`writeThrough`, SqliteMessageStore::
//   recordAudit), handed each row on the recording thread (AuditThrough): the row joins the
//   transaction of the store's next write, which for a check is the message's finish, queued a
//   moment later. The rows cost no commit, lock or sync of their own, and they are durable no
//   later than the ACK that shows the check's result.
// - Otherwise (a tool, a test) this class's connection in WAL mode, which takes the file's
//   in-process write lock (sqliteWriteLock) for each batch's transaction, so that it and a
//   message store's writer take turns without SQLite's sleeping busy handler, and syncs the
//   WAL after the commit, outside that lock (synchronous NORMAL, then WalFile::sync).
//
// record() queues the entry and returns at once: a lookup never waits for a disk sync. On its
// own, one writer thread writes whatever has queued as one batch. flush() waits until everything queued
// before it is committed. A crash can lose only the entries of the batch being written
// (milliseconds' worth). When more than `maxQueued` entries wait, record() blocks until the
// writer catches up: back-pressure, never a silently dropped audit entry.
class SqliteAuditLog final : public AuditLog {
 public:
  // Writes rows durably (or fails, writing none) and then says so, once (AuditThrough::Writer).
  using WriteThrough = AuditThrough::Writer;

  // Opens (or creates) the database file and the audit table. An unusable file is a Status.
  static core::Result<std::unique_ptr<SqliteAuditLog>> open(const std::string& path,
                                                            std::size_t maxQueued = 100'000,
                                                            WriteThrough writeThrough = {});
  ~SqliteAuditLog() override;  // flushes and stops the writer
  SqliteAuditLog(const SqliteAuditLog&) = delete;
  SqliteAuditLog& operator=(const SqliteAuditLog&) = delete;

  // AuditLog
  void record(const QueryAuditEntry& entry) override;

  // Waits until every entry recorded before this call is committed (or has failed). The
  // status of the last failed transaction since the previous flush, or ok.
  core::Status flush() override;
  // Rows for one check id, oldest first (a reader for tests and support; not on a hot path).
  core::Result<std::vector<AuditRow>> findByCheckId(const std::string& checkId);
  core::Result<std::vector<AuditRow>> all();
  SqliteAuditStats stats() const;

  struct OpenKey {
    explicit OpenKey() = default;
  };
  SqliteAuditLog(OpenKey, sqlite3* db, std::size_t maxQueued, WriteThrough writeThrough);

 private:
  // One transaction for the batch (on the queue's writer thread); its failure, or none.
  std::optional<core::Status> writeBatch(std::vector<QueryAuditEntry>& batch);
  core::Result<std::vector<AuditRow>> select(const std::string& where, const std::string& argument);

  sqlite3* db_;
  std::unique_ptr<SqliteStatement> begin_, commit_, rollback_, insert_;
  std::unique_ptr<WalFile> wal_;                // synced after each batch's commit
  std::shared_ptr<std::mutex> writeLock_;       // shared with the message store's writer
  std::mutex dbMutex_;  // the connection: the writer's batches and the readers
  // One of the two: rows through the message store's writer, or this class's own writer thread
  // (which uses the members above).
  std::unique_ptr<AuditThrough> through_;
  std::unique_ptr<AuditQueue> queue_;
};

}  // namespace cpis::store
