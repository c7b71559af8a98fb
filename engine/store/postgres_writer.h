#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/store/pg_connection.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

struct PostgresWriterSettings {
  // Zero turns duplicate detection off.
  std::chrono::microseconds duplicateWindow{std::chrono::hours(24)};
  std::string owner;  // this instance: messages it stores unfinished are claimed for it
  std::chrono::microseconds lease{std::chrono::seconds(60)};
};

// The connection that writes. It applies a batch of writes as one transaction, in order, so a
// write sees every earlier write of its batch: of two identical messages in one batch the
// second is a duplicate of the first. The batch goes to the server as one pipeline (libpq's
// pipeline mode: every statement sent before the first result is read), so a batch costs
// about one round trip plus the commit, whose WAL flush (synchronous_commit = on) is the sync.
//
// Duplicates across instances: every persist of the batch first takes a transaction-scoped
// advisory lock on its (feed, MSH-10) key, all of them at the start and in key order (so two
// batches cannot deadlock on them). Another instance persisting the same key waits for this
// commit and then finds the message as its original: exactly one original, whichever instance
// each copy reached.
//
// Used by one thread at a time (the group commit writer).
class PostgresWriter {
 public:
  // Prepares the statements. Throws PgError.
  PostgresWriter(std::unique_ptr<PgConnection> connection, PostgresWriterSettings settings);
  PostgresWriter(const PostgresWriter&) = delete;
  PostgresWriter& operator=(const PostgresWriter&) = delete;
  ~PostgresWriter();

  // One reply per write, in order. A write refused on its own merits (unknown id, wrong state,
  // claimed by another instance) gets its Status and the rest of the batch commits. A deadlock
  // or serialization failure runs the batch again (a few times); a statement that fails on its
  // own data makes each write of the batch run alone, so one bad write cannot fail the others;
  // a lost connection fails the batch with Unavailable (it may or may not have committed: a
  // resend is then answered as a duplicate) and the next batch reconnects. Never throws.
  std::vector<WriteReply> run(const std::vector<const WriteRequest*>& batch);

  // Notifications `handOver` claims are written claimed for settings.owner (a lease of
  // settings.lease) and returned in the reply's preClaimed. Before the first run(); `handOver`
  // outlives the writer.
  void claimWith(ClaimHandOver* handOver) noexcept { handOver_ = handOver; }

  // Batches run again after a deadlock or serialization failure.
  std::uint64_t retries() const noexcept { return retries_.load(std::memory_order_relaxed); }

 private:
  std::vector<WriteReply> runTransaction(const std::vector<const WriteRequest*>& batch);  // throws PgError
  std::vector<WriteReply> failAll(std::size_t size, const core::Status& status) const;
  WriteReply replyFor(const WriteRequest& request, const PgResult& result) const;
  void prepareStatements();

  std::unique_ptr<PgConnection> connection_;
  const PostgresWriterSettings settings_;
  ClaimHandOver* handOver_ = nullptr;
  bool broken_ = false;  // a pipeline was left mid-way: reconnect before the next batch
  std::atomic<std::uint64_t> retries_{0};
};

}  // namespace cpis::store
