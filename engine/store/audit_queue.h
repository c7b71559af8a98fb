#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "engine/core/status.h"
#include "engine/store/audit_log.h"

namespace cpis::store {

struct AuditQueueStats {
  std::uint64_t written = 0;  // entries committed
  std::uint64_t failed = 0;   // entries whose batch failed (reported by flush())
  std::uint64_t commits = 0;  // batches handed to the writer
  std::size_t queued = 0;     // waiting for the writer
};

// The queue behind the audit logs: record() queues an entry and returns at once; one writer
// thread hands whatever has queued to the batch writer as one batch, so a burst of lookups
// costs one transaction. When `maxQueued` entries wait, record() blocks until the writer
// catches up: back-pressure, never a silently dropped audit entry.
//
// Threading: record(), flush() and stats() from any thread; close() (and the destructor) from
// any thread but the writer's. The batch writer runs on the writer thread; it must not call
// back into the queue, and it reports a failed batch by returning its Status (none was
// written) rather than by throwing.
class AuditQueue {
 public:
  using BatchWriter = std::function<std::optional<core::Status>(std::vector<QueryAuditEntry>&)>;

  // Starts the writer thread. A `maxQueued` of 0 is taken as 1.
  AuditQueue(std::size_t maxQueued, BatchWriter writeBatch);
  ~AuditQueue();  // close()
  AuditQueue(const AuditQueue&) = delete;
  AuditQueue& operator=(const AuditQueue&) = delete;

  // Queues the entry, blocking while the queue is full. After close() the entry is counted as
  // failed and logged (without patient data), not written.
  void record(const QueryAuditEntry& entry);
  // Waits until every entry recorded before this call is written (or has failed). The status
  // of the last failed batch since the previous flush, or ok.
  core::Status flush();
  AuditQueueStats stats() const;
  // Writes what is queued and stops the writer thread. Idempotent.
  void close();

 private:
  void runWriter();

  const std::size_t maxQueued_;
  const BatchWriter writeBatch_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the writer: something queued, or closing
  std::condition_variable progress_;  // producers and flush(): a batch finished
  std::deque<QueryAuditEntry> queue_;
  std::uint64_t enqueued_ = 0;  // entries ever queued
  std::uint64_t done_ = 0;      // entries ever finished (written or failed)
  bool closing_ = false;
  std::optional<core::Status> lastFailure_;
  AuditQueueStats stats_;
  std::thread writer_;
};

// The audit rows handed straight to an asynchronous writer from the recording thread (the
// SQLite message store's writer, SqliteMessageStore::recordAudit): no thread of its own, so a
// lookup's row is queued before its caller's next write (the check's finish) and rides in that
// write's transaction. At most `maxQueued` rows are in flight; record() blocks beyond that
// (back-pressure, never a dropped row). Same contract as AuditQueue otherwise.
//
// Threading: record(), flush() and stats() from any thread; the writer calls `done` exactly
// once per call, from any thread (the caller's own included), and must not throw.
class AuditThrough {
 public:
  using Done = std::function<void(core::Status)>;
  using Writer = std::function<void(std::vector<QueryAuditEntry> entries, Done done)>;

  AuditThrough(std::size_t maxQueued, Writer writer);
  ~AuditThrough();  // close()
  AuditThrough(const AuditThrough&) = delete;
  AuditThrough& operator=(const AuditThrough&) = delete;

  void record(const QueryAuditEntry& entry);
  core::Status flush();
  AuditQueueStats stats() const;
  // Waits for every row in flight to be answered; later ones fail (logged). Idempotent.
  void close();

 private:
  void finished(std::uint64_t number, core::Status status) noexcept;

  const std::size_t maxQueued_;
  const Writer writer_;
  mutable std::mutex mutex_;
  std::condition_variable progress_;  // a row answered
  std::uint64_t enqueued_ = 0;        // rows ever handed to the writer, numbered 1, 2, ...
  std::set<std::uint64_t> inFlight_;  // their numbers, until answered (not always in order)
  bool closing_ = false;
  std::optional<core::Status> lastFailure_;
  AuditQueueStats stats_;
};

}  // namespace cpis::store
