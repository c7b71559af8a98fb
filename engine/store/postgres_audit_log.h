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

namespace cpis::store {

class PgConnection;
struct PgConnectSettings;

struct PostgresAuditStats {
  std::uint64_t written = 0;  // rows committed
  std::uint64_t failed = 0;   // rows whose transaction failed (reported by flush())
  std::uint64_t commits = 0;  // transactions
  std::size_t queued = 0;     // waiting for the writer
};

// The audit table in the PostgreSQL database the message stores share: SqliteAuditLog's
// table and behaviour on PostgreSQL. Every instance writes its own rows into the one table.
//
// record() queues the entry and returns at once: a lookup never waits for a commit. One writer
// thread commits whatever has queued as one transaction (synchronous_commit on), so a burst of
// lookups costs one WAL flush. flush() waits until everything queued before it is committed.
// When more than `maxQueued` entries wait, record() blocks until the writer catches up:
// back-pressure, never a silently dropped audit entry. A lost connection fails the batch it
// was writing (reported by flush() and the log, without patient data) and is opened again.
class PostgresAuditLog final : public AuditLog {
 public:
  // Connects and creates the audit table when missing. An unreachable server is a Status.
  static core::Result<std::unique_ptr<PostgresAuditLog>> open(const std::string& connection,
                                                              const std::string& password = {},
                                                              std::size_t maxQueued = 100'000);
  ~PostgresAuditLog() override;  // flushes and stops the writer
  PostgresAuditLog(const PostgresAuditLog&) = delete;
  PostgresAuditLog& operator=(const PostgresAuditLog&) = delete;

  // AuditLog
  void record(const QueryAuditEntry& entry) override;

  // Waits until every entry recorded before this call is committed (or has failed). The
  // status of the last failed transaction since the previous flush, or ok.
  core::Status flush() override;
  // Rows for one check id, oldest first (a reader for tests and support; not on a hot path).
  core::Result<std::vector<AuditRow>> findByCheckId(const std::string& checkId);
  core::Result<std::vector<AuditRow>> all();
  PostgresAuditStats stats() const;

  struct OpenKey {
    explicit OpenKey() = default;
  };
  PostgresAuditLog(OpenKey, std::unique_ptr<PgConnection> connection, std::size_t maxQueued);

 private:
  // One transaction for the batch (on the queue's writer thread); its failure, or none.
  std::optional<core::Status> writeBatch(const std::vector<QueryAuditEntry>& batch);
  core::Result<std::vector<AuditRow>> select(const std::string& where,
                                             const std::optional<std::string>& argument);

  std::unique_ptr<PgConnection> connection_;
  std::mutex connectionMutex_;  // the connection: the writer's batches and the readers
  AuditQueue queue_;            // last: its writer thread uses the members above
};

}  // namespace cpis::store
