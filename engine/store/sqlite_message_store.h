#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unistd.h>
#include <vector>

#include "engine/core/result.h"
#include "engine/store/audit_log.h"
#include "engine/store/file_lock.h"
#include "engine/store/message_store.h"

namespace cpis::store {

class MessageAdmission;
class SqliteCheckpointer;
class SqliteOutbox;
class SqliteReader;
class SqliteWriter;
class ClaimHandOver;
struct PersistWrite;
struct WriteReply;
struct WriteRequest;
template <typename Request, typename Reply>
class GroupCommitQueue;

struct SqliteStoreOptions {
  // The same (feed, MSH-10) received again within this time is a duplicate; zero turns
  // duplicate detection off.
  std::chrono::seconds duplicateWindow{std::chrono::hours(24)};
  // At most this many writes share a transaction; 1 turns group commit off (for comparison).
  std::size_t maxBatchSize{512};
  // Messages purged per transaction, so a large purge holds up persists only briefly.
  std::size_t purgeChunkSize{500};
  // Larger messages are refused (InvalidArgument); the listener's own limit is lower.
  std::size_t maxMessageBytes{16 * 1024 * 1024};
  // Cap on the database file; once reached, writes fail with Unavailable. 0: no cap.
  std::uint64_t maxDatabaseBytes{0};
  // WAL length (in pages) past which a background thread copies the WAL back into the
  // database; past ten times this the writer does it itself, so the WAL stays bounded.
  int checkpointFrames{1000};
  // How long audit rows (recordAudit) wait for another write to share a transaction with. A
  // check's rows are followed by its message's finish within milliseconds.
  std::chrono::milliseconds auditLinger{10};
  // How long a certainly new message taken as written before its write (persistInboundEarly)
  // waits for another write to share a transaction with: its finish, when its CP-IS lookup
  // answers within it. Nobody waits for that write: its finish's sync makes it durable.
  std::chrono::milliseconds admittedLinger{20};
  // Sync on a thread of its own (the WAL, after the commit) while the writer writes the next
  // batch; off: each commit syncs before the next batch starts. Either way nothing is
  // answered before its write is synced.
  bool pipelinedSync{true};
  // The system call that makes the WAL durable (pipelinedSync); tests pass one that fails.
  int (*fdatasync)(int){::fdatasync};
  // Stamps received, acked, finished and purged times; called from many threads. Empty:
  // std::chrono::system_clock::now. Tests pass a clock they move.
  std::function<TimePoint()> clock;
  // Administration (cpis-admin) beside a running engine: the engine's `<path>.lock` is not
  // taken, and nothing is created, migrated or reset (the database must exist with this
  // build's schema). Writes share the file through SQLite's own locking. Messages are not
  // received (persistInbound is refused): the running engine gives their ids.
  bool administration{false};
};

struct SqliteStoreStats {
  std::uint64_t transactions{};  // batches committed (or failed): one sync each, unless all were taken as written
  std::uint64_t writes{};        // persists, ACKs, outcomes and purge chunks answered
  std::size_t largestBatch{};
  std::size_t queuedWrites{};   // waiting for the next transaction
  std::uint64_t checkpoints{};  // WAL copied back into the database file
};

// The embedded store: one SQLite file in WAL mode with synchronous=FULL. All writes go
// through one writer thread that commits whatever has queued as one transaction (group
// commit), so concurrent persists share a sync; lookups use a separate query-only connection,
// and a third copies the WAL back into the database in the background.
// One process per database file (a lock file beside it, `<path>.lock`, enforces it): duplicate
// detection relies on there being one writer.
class SqliteMessageStore final : public MessageStore {
  struct OpenKey {
    explicit OpenKey() = default;
  };

 public:
  // Opens or creates the database at `path` and brings its schema up to date. An unusable
  // file (unwritable, corrupt, from a newer build) is a Status, never an exception.
  static core::Result<std::unique_ptr<SqliteMessageStore>> open(const std::string& path,
                                                                SqliteStoreOptions options = {});

  SqliteMessageStore(OpenKey, FileLock lock, SqliteStoreOptions options, std::unique_ptr<SqliteWriter> writer,
                     std::unique_ptr<SqliteReader> reader, std::unique_ptr<SqliteCheckpointer> checkpointer,
                     std::unique_ptr<MessageAdmission> admission);
  SqliteMessageStore(const SqliteMessageStore&) = delete;
  SqliteMessageStore& operator=(const SqliteMessageStore&) = delete;
  ~SqliteMessageStore() override;  // close()

  // MessageStore
  core::Result<PersistOutcome> persistInbound(const InboundMessage& message) override;
  void persistInboundAsync(const InboundMessage& message, PersistCallback done) override;
  void persistInboundEarly(const InboundMessage& message, WrittenCallback written, PersistCallback done) override;
  core::Status recordAck(MessageId id, std::string_view ack) override;
  core::Status markOutcome(MessageId id, MessageState state, std::string_view outcome) override;
  core::Status finish(MessageId id, MessageState state, std::string_view outcome, std::string_view ack,
                      std::span<const NewNotification> notifications = {}) override;
  Outbox& outbox() override;
  core::Result<std::vector<MessageId>> listUnfinished() override;
  core::Result<std::size_t> purgeContent(std::chrono::days olderThan) override;
  core::Result<StoredMessage> fetch(MessageId id) override;
  core::Status saveMemory(std::span<const MemoryRow> rows, std::optional<TimePoint> purgeBefore) override;
  void stageMemory(std::vector<MemoryRow> rows) override;
  core::Result<std::vector<MemoryRow>> loadMemory(TimePoint since) override;
  void close() override;

  SqliteStoreStats stats() const;

  // Writes audit rows (SqliteAuditLog's writeThrough) in the transaction of the writer's next
  // batch, without waking it: they wait up to options.auditLinger for a write of someone
  // else's to ride with, then go alone. `done` is called once, when they are durable or have
  // failed (none written), on the store's thread or, if the store is closed, on this one. Rows
  // that fail (no audit table) fail alone, not the writes they rode with.
  void recordAudit(std::vector<QueryAuditEntry> entries, std::function<void(core::Status)> done);

 private:
  WriteReply write(const WriteRequest& request);
  core::Status checkInbound(const InboundMessage& message) const;
  // The write of a message received now, with the id it will have; `certainlyNew` (may be null)
  // says whether no message of the duplicate window can be its original.
  PersistWrite persistWrite(const InboundMessage& message, bool* certainlyNew);
  struct Admitted;
  // Queues a certainly new message's write lazily, `answer` (taken) answering its caller unless
  // the caller takes it as written; false when the queue is closed (`answer` is left with the
  // caller). Called with admitMutex_ held.
  bool queueAdmitted(const std::shared_ptr<Admitted>& state, PersistWrite persist,
                     std::function<void(WriteReply)>& answer);
  // Asks the caller whether it takes the queued message as written (after admitMutex_).
  void askAdmitted(const std::shared_ptr<Admitted>& state, const WrittenCallback& written);
  // The reply to a message the caller took as written, which nobody waits for: a failure (or a
  // duplicate) reaches the caller as its own next write's (there is no message `id`), and the
  // log says why; what was written claimed is handed over.
  void settleTaken(MessageId id, WriteReply& reply);
  // ClaimHandOver::handOver, which may not throw here (a caller's answer follows it).
  void handOverSafely(WriteReply& reply) noexcept;
  // The store's health from each batch's replies (writer thread) and each failed sync: an ops
  // alert when writes start failing, a notice when they succeed again; writesFailing_ meanwhile.
  void noteWrites(const std::vector<const WriteRequest*>& batch, const std::vector<WriteReply>& replies);
  void noteFailing(const core::Status& status);
  void noteHealthy();

  FileLock lock_;  // first: released last, after every connection has closed
  SqliteStoreOptions options_;
  // Outbox::setClaimReceiver: the writer thread asks it, so it outlives the queue.
  std::unique_ptr<ClaimHandOver> handOver_;
  // Destroyed bottom up: the queue stops the writer thread before the checkpointer lets go of
  // the writer's connection, and that closes last.
  std::unique_ptr<SqliteWriter> writer_;
  std::unique_ptr<SqliteReader> reader_;
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  // Ids and "certainly new" verdicts before the write; null in administration (the running
  // engine gives the ids then).
  std::unique_ptr<MessageAdmission> admission_;
  // Held from a message's admission (its id and verdict) to its write's place in the queue, so
  // that the writer meets messages in the order of their verdicts.
  std::mutex admitMutex_;
  // Writes are failing (noteWrites): the early path (a certainly new message offered as written
  // before its write commits) is off until one succeeds.
  std::atomic<bool> writesFailing_{false};
  // A message was written since the last sync (pipelinedSync): that sync succeeding is healthy.
  std::atomic<bool> persistedSinceSync_{false};
  std::unique_ptr<GroupCommitQueue<WriteRequest, WriteReply>> queue_;  // runs writer_
  std::unique_ptr<SqliteOutbox> outbox_;  // writes through queue_, reads through reader_
};

}  // namespace cpis::store
