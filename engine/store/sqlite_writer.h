#pragma once

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <Poco/Data/Session.h>

#include "engine/core/status.h"
#include "engine/store/message_store.h"
#include "engine/store/recent_control_ids.h"
#include "engine/store/sqlite_statement.h"
#include "engine/store/sqlite_wal.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

// The only connection that writes. It applies a batch of writes in one transaction, in order,
// so a write sees every earlier write of its batch: of two identical messages in one batch the
// second is a duplicate of the first. Used by one thread at a time (the group commit writer).
class SqliteWriter {
 public:
  // `session` is open, configured as the writer, and migrated; the writer owns it from now on.
  // Throws SqliteError or Poco::Exception.
  SqliteWriter(Poco::Data::Session session, std::chrono::microseconds duplicateWindow);
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // One reply per write, in order. A write refused on its own merits (unknown id, wrong state)
  // gets its Status and the rest of the batch commits. If the transaction fails on what a
  // write holds (a constraint, a value too big, the database's size cap), the writes are run
  // again one transaction each, so only the one at fault fails, as on PostgreSQL. If it fails
  // otherwise (I/O, a broken file), every write of the batch gets the same Unavailable status
  // and none of them happened. A failed write's reply is rolledBack: nothing of it is stored.
  // Never throws.
  std::vector<WriteReply> run(const std::vector<const WriteRequest*>& batch);

  // Notifications `handOver` claims are written claimed (the flag) and returned in the reply's
  // preClaimed. Before the first run(); `handOver` outlives the writer.
  void claimWith(ClaimHandOver* handOver) noexcept { handOver_ = handOver; }

  // From now on commits do not sync; syncWal() must, before their writes are acknowledged.
  void deferSyncs(WalFile::Fdatasync fdatasync = ::fdatasync);
  // Makes every commit so far durable (fdatasync of the WAL). Safe to call from another thread
  // while run() runs: it touches only the file, not the connection. One caller at a time.
  core::Status syncWal();
  ~SqliteWriter();

 private:
  WriteReply apply(const PersistWrite& write);
  WriteReply apply(const AckWrite& write);
  WriteReply apply(const OutcomeWrite& write);
  WriteReply apply(const PurgeWrite& write);
  WriteReply apply(const FinishWrite& write);
  WriteReply apply(const EnqueueWrite& write);
  WriteReply apply(const OutboxMarkWrite& write);
  WriteReply apply(const ReplayWrite& write);
  WriteReply apply(const ClaimWrite& write);
  WriteReply apply(const ReleaseWrite& write);
  WriteReply apply(const AuditWrite& write);
  WriteReply apply(const MemoryWrite& write);
  // Runs `write` (audit rows, memory rows) in a savepoint of its own within the batch's
  // transaction: a failure of its rows (their table missing, SQLite's refusal, no memory) undoes
  // them alone, answered "`what` not written"; one the transaction does not survive (the
  // rollback throws) fails the batch, as any write's would.
  WriteReply alone(std::string_view what, const std::function<void()>& write);
  // Inserts the notifications (a key already written for the sink is passed over), for
  // `message` unless one names its own; those written claimed are added to `claimed`.
  void insertNotifications(std::span<const NewNotification> notifications, std::optional<MessageId> message,
                           std::int64_t at, std::vector<OutboxEntry>& claimed);
  // Why an outbox entry cannot be finished or replayed: NotFound, or InvalidArgument naming
  // its state.
  core::Status refuseEntry(NotificationId id, std::optional<std::string_view> state,
                           std::string_view refusal);
  // Why an update by id changed nothing: no such message, or it is in the wrong state.
  core::Status explainUnchanged(MessageId id, std::string_view refusal);
  // One transaction for `writes`: their replies, committed; or, rolled back, nothing (and
  // `failure` set to what every one of them is answered, `onData` to whether the failure may
  // be one write's own).
  std::optional<std::vector<WriteReply>> transact(std::span<const WriteRequest* const> writes,
                                                  WriteReply& failure, bool& onData);
  void rollbackAfterFailure() noexcept;
  // Before a batch: fills recent_ from the table the first time a persist comes (throws as a
  // statement does), and lets old entries go.
  void prepareRecent(std::span<const WriteRequest* const> batch);

  Poco::Data::Session session_;  // owns the connection; declared first so it closes last
  sqlite3* db_;
  const std::int64_t duplicateWindowMicros_;
  std::unique_ptr<WalFile> wal_;  // deferSyncs(): the WAL file syncWal() syncs
  // Held from BEGIN to COMMIT: the audit log's connection writes the same file.
  std::shared_ptr<std::mutex> writeLock_;
  // The duplicate check (no index on the table does it): filled before the first persist.
  RecentControlIds recent_;
  bool recentLoaded_ = false;
  std::int64_t newestReceived_ = INT64_MIN;
  std::vector<MessageId> candidates_;
  ClaimHandOver* handOver_ = nullptr;

  SqliteStatement begin_;
  SqliteStatement commit_;
  SqliteStatement rollback_;
  SqliteStatement findDuplicate_;
  SqliteStatement loadRecent_;
  SqliteStatement countDuplicate_;
  SqliteStatement insertMessage_;
  SqliteStatement insertFinished_;
  SqliteStatement insertRaw_;
  SqliteStatement recordAck_;
  SqliteStatement markOutcome_;
  SqliteStatement findState_;
  SqliteStatement findPurgeable_;
  SqliteStatement deleteRaw_;
  SqliteStatement markPurged_;
  SqliteStatement finish_;
  SqliteStatement insertNotification_;
  SqliteStatement findEntry_;
  SqliteStatement markDelivered_;
  SqliteStatement markRetry_;
  SqliteStatement raiseQueued_;
  SqliteStatement release_;
  SqliteStatement markDead_;
  SqliteStatement replayOne_;
  SqliteStatement replayDead_;
  SqliteStatement clearPayloads_;
  SqliteStatement findClaimable_;
  SqliteStatement markClaimed_;
  std::unique_ptr<SqliteStatement> insertAudit_;  // prepared at the first audit rows
  // The memory rows' statements (schema version 8): prepared at the first MemoryWrite.
  std::unique_ptr<SqliteStatement> upsertMemory_, redateMemory_, deleteMemory_, purgeMemory_;
  // alone(): rows that share the batch's transaction and, failing, undo only themselves.
  SqliteStatement ownRowsSavepoint_;
  SqliteStatement ownRowsRelease_;
  SqliteStatement ownRowsRollback_;
};

}  // namespace cpis::store
