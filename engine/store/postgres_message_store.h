#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/core/result.h"
#include "engine/store/message_store.h"

namespace cpis::store {

class PostgresOutbox;
class PostgresReader;
class PostgresWriter;
class ClaimHandOver;
struct WriteReply;
struct WriteRequest;
template <typename Request, typename Reply>
class GroupCommitQueue;

struct PostgresStoreOptions {
  // The password, from the configuration's passwordFile (never in the connection string, never
  // logged). Empty: none, or whatever libpq finds itself (~/.pgpass, PGPASSWORD).
  std::string password;
  // This engine instance's name: it owns the unfinished messages it stores or claims. Two
  // running instances must never share one. Empty: "<host>/<pid>/<random>", new at every
  // start. A configured name's claims are released when a store opens under it, since they can
  // only be left from its previous run.
  std::string instance;
  // How long a claim lasts unless renewed (MessageStore::renewClaims).
  std::chrono::seconds claimLease{60};
  // The same (feed, MSH-10) received again within this time is a duplicate; zero turns
  // duplicate detection off.
  std::chrono::seconds duplicateWindow{std::chrono::hours(24)};
  // At most this many writes share a transaction; 1 turns group commit off (for comparison).
  std::size_t maxBatchSize{512};
  // Messages purged per transaction, so a large purge holds up persists only briefly.
  std::size_t purgeChunkSize{500};
  // Larger messages are refused (InvalidArgument); the listener's own limit is lower.
  std::size_t maxMessageBytes{16 * 1024 * 1024};
  // Unless the connection string sets connect_timeout.
  std::chrono::seconds connectTimeout{10};
  // Stamps received, acked, finished and purged times and runs leases. Empty: the database
  // server's clock, which every instance sharing the database agrees on. Tests pass a clock
  // they move (it is then passed into the statements as a parameter).
  std::function<TimePoint()> clock;
};

struct PostgresStoreStats {
  std::uint64_t transactions{};  // batches committed (or failed): one WAL flush each
  std::uint64_t writes{};        // persists, ACKs, outcomes and purge chunks answered
  std::size_t largestBatch{};
  std::size_t queuedWrites{};  // waiting for the next transaction
  std::uint64_t retries{};     // batches run again after a deadlock or serialization failure
};

// The store for several engine instances sharing one PostgreSQL database (ARCHITECTURE.md's
// scale-out): the same schema and behaviour as SqliteMessageStore, with duplicates detected
// across instances and unfinished work claimed with leases (MessageStore's claims).
//
// Writes go through one writer connection and thread that commits whatever has queued as one
// transaction, sent as one pipeline (group commit; the commit's WAL flush is the sync, with
// synchronous_commit on); lookups and claims use a second connection. libpq directly
// (PgConnection says why not POCO's connector).
class PostgresMessageStore final : public MessageStore {
  struct OpenKey {
    explicit OpenKey() = default;
  };

 public:
  // Connects (`connection`: libpq's key=value or URI form, without the password) and brings
  // the schema up to date. An unreachable server, a refused login, a database from a newer
  // build: a Status, never an exception, and never the server's text or the password.
  static core::Result<std::unique_ptr<PostgresMessageStore>> open(const std::string& connection,
                                                                  PostgresStoreOptions options = {});

  PostgresMessageStore(OpenKey, PostgresStoreOptions options, std::unique_ptr<PostgresWriter> writer,
                       std::unique_ptr<PostgresReader> reader);
  PostgresMessageStore(const PostgresMessageStore&) = delete;
  PostgresMessageStore& operator=(const PostgresMessageStore&) = delete;
  ~PostgresMessageStore() override;  // close()

  // MessageStore
  core::Result<PersistOutcome> persistInbound(const InboundMessage& message) override;
  void persistInboundAsync(const InboundMessage& message, PersistCallback done) override;
  core::Status recordAck(MessageId id, std::string_view ack) override;
  core::Status markOutcome(MessageId id, MessageState state, std::string_view outcome) override;
  core::Status finish(MessageId id, MessageState state, std::string_view outcome, std::string_view ack,
                      std::span<const NewNotification> notifications = {}) override;
  // Its entries are claimed with the same instance name and lease as the messages.
  Outbox& outbox() override;
  core::Result<std::vector<MessageId>> listUnfinished() override;
  core::Result<std::size_t> purgeContent(std::chrono::days olderThan) override;
  core::Status saveMemory(std::span<const MemoryRow> rows, std::optional<TimePoint> purgeBefore) override;
  void stageMemory(std::vector<MemoryRow> rows) override;
  core::Result<std::vector<MemoryRow>> loadMemory(TimePoint since) override;
  core::Result<StoredMessage> fetch(MessageId id) override;
  // Also gives up this instance's claims (messages and notifications), so other instances take
  // its work over at once rather than when the leases run out.
  void close() override;
  std::optional<std::chrono::seconds> claimLease() const override { return options_.claimLease; }
  core::Result<std::vector<MessageId>> claimUnfinished(std::size_t limit) override;
  core::Result<std::size_t> renewClaims() override;

  const std::string& instance() const noexcept { return options_.instance; }
  PostgresStoreStats stats() const;

 private:
  WriteReply write(const WriteRequest& request);
  TimePoint now() const;

  PostgresStoreOptions options_;
  // Outbox::setClaimReceiver: the writer thread asks it, so it outlives the queue.
  std::unique_ptr<ClaimHandOver> handOver_;
  std::unique_ptr<PostgresWriter> writer_;
  std::unique_ptr<PostgresReader> reader_;
  std::unique_ptr<GroupCommitQueue<WriteRequest, WriteReply>> queue_;  // runs writer_; stops first
  std::unique_ptr<PostgresOutbox> outbox_;  // writes through queue_, claims and reads through reader_
  std::once_flag closed_;
};

}  // namespace cpis::store
