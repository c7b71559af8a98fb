#include "engine/store/postgres_message_store.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <random>
#include <unistd.h>
#include <utility>

#include <Poco/Logger.h>

#include "engine/store/exception_status.h"
#include "engine/store/group_commit_queue.h"
#include "engine/store/pg_connection.h"
#include "engine/store/postgres_outbox.h"
#include "engine/store/postgres_reader.h"
#include "engine/store/postgres_schema.h"
#include "engine/store/postgres_writer.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

namespace {

constexpr std::string_view kOpening = "message store: cannot open the PostgreSQL database";

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.store");
}

// "<host>/<pid>/<random>": unique among running instances, new at every start.
std::string defaultInstanceName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  const unsigned suffix = random() & 0xFFFFFFu;
  char tail[16];
  std::snprintf(tail, sizeof tail, "%06x", suffix);
  return std::string(host[0] != '\0' ? host : "engine") + "/" + std::to_string(::getpid()) + "/" + tail;
}

// PgError's text is its SQLSTATE: safe to show, unlike the server's own message.
core::Status connectionFailed(const PgConnectSettings& settings, const PgError& e) {
  return core::Status::unavailable(std::string(kOpening) + " (" + e.what() +
                                   "): " + pgWhyNoConnection(settings));
}

}  // namespace

core::Result<std::unique_ptr<PostgresMessageStore>> PostgresMessageStore::open(const std::string& connection,
                                                                               PostgresStoreOptions options) {
  PgConnectSettings settings;
  settings.connection = connection;
  settings.password = options.password;
  settings.connectTimeout = options.connectTimeout;
  if (options.instance.empty()) options.instance = defaultInstanceName();
  if (options.claimLease.count() <= 0) {
    return core::Status::invalidArgument("message store: the claim lease must be at least one second");
  }
  try {
    auto writerConnection = std::make_unique<PgConnection>(settings);
    if (auto status = migratePostgresSchema(*writerConnection); !status.isOk()) return status;
    auto reader = std::make_unique<PostgresReader>(std::make_unique<PgConnection>(settings));
    // Claims held under this name can only be left from its previous run (a name belongs to one
    // running instance): give them up, so that this run's claimUnfinished takes them again.
    if (auto released = reader->releaseClaims(options.instance); !released) return released.error();
    if (auto released = reader->releaseOutboxClaims(options.instance); !released) return released.error();
    PostgresWriterSettings writerSettings;
    writerSettings.duplicateWindow = options.duplicateWindow;
    writerSettings.owner = options.instance;
    writerSettings.lease = options.claimLease;
    auto writer = std::make_unique<PostgresWriter>(std::move(writerConnection), std::move(writerSettings));
    return std::make_unique<PostgresMessageStore>(OpenKey{}, std::move(options), std::move(writer),
                                                  std::move(reader));
  } catch (const PgError& e) {
    if (e.connectionLost() || e.sqlState() == "08P01") return connectionFailed(settings, e);
    return unavailableFrom(kOpening, e);
  } catch (const std::exception& e) {
    return unavailableFrom(kOpening, e);
  }
}

PostgresMessageStore::PostgresMessageStore(OpenKey, PostgresStoreOptions options,
                                           std::unique_ptr<PostgresWriter> writer,
                                           std::unique_ptr<PostgresReader> reader)
    : options_(std::move(options)),
      handOver_(std::make_unique<ClaimHandOver>()),
      writer_(std::move(writer)),
      reader_(std::move(reader)) {
  writer_->claimWith(handOver_.get());
  queue_ = std::make_unique<GroupCommitQueue<WriteRequest, WriteReply>>(
      options_.maxBatchSize,
      [this](const std::vector<const WriteRequest*>& batch) { return writer_->run(batch); },
      WriteReply{core::Status::internal("message store: the writer failed; nothing of its batch was stored"),
                 {},
                 0});
  outbox_ = std::make_unique<PostgresOutbox>([this](const WriteRequest& request) { return write(request); },
                                             *reader_, *handOver_, options_.instance, options_.claimLease,
                                             [this] { return now(); });
}

PostgresMessageStore::~PostgresMessageStore() {
  close();
}

void PostgresMessageStore::close() {
  std::call_once(closed_, [this] {
    queue_->close();
    auto released = reader_->releaseClaims(options_.instance);
    auto releasedNotifications = outbox_->releaseClaims();
    if (!released || !releasedNotifications) {
      logger().warning(
          "message store: claims not given up on close (%s); they pass to other instances when "
          "their leases run out",
          (!released ? released.error() : releasedNotifications.error()).message());
    }
  });
}

PostgresStoreStats PostgresMessageStore::stats() const {
  const auto queueStats = queue_->stats();
  return {queueStats.batches, queueStats.requests, queueStats.largestBatch, queueStats.queued,
          writer_->retries()};
}

TimePoint PostgresMessageStore::now() const {
  return options_.clock ? options_.clock() : kDatabaseClock;
}

WriteReply PostgresMessageStore::write(const WriteRequest& request) {
  try {
    auto reply = queue_->submit(request);
    if (!reply) return {core::Status::unavailable("message store: closed"), {}, 0};
    handOver_->handOver(*reply);  // durable now: what was written claimed goes to the dispatcher
    return std::move(*reply);
  } catch (const std::exception& e) {  // e.g. no memory left to queue the write
    return {unavailableFrom("message store: cannot queue a write", e), {}, 0};
  }
}

core::Result<PersistOutcome> PostgresMessageStore::persistInbound(const InboundMessage& message) {
  if (auto status = checkInboundMessage(message, options_.maxMessageBytes); !status.isOk()) return status;
  auto reply = write(WriteRequest{PersistWrite{message, now()}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return std::move(reply.persisted);
}

void PostgresMessageStore::persistInboundAsync(const InboundMessage& message, PersistCallback done) {
  if (auto status = checkInboundMessage(message, options_.maxMessageBytes); !status.isOk()) {
    return done(std::move(status));
  }
  // `done` is moved, not copied: it carries the caller's whole context (the frame, its reply).
  std::function<void(WriteReply)> onReply = [this, done = std::move(done)](WriteReply reply) {
    if (!reply.status.isOk()) return done(std::move(reply.status));
    handOver_->handOver(reply);
    done(std::move(reply.persisted));
  };
  bool queued = false;
  try {
    queued = queue_->submitAsync(WriteRequest{PersistWrite{message, now()}}, std::move(onReply));
  } catch (const std::exception& e) {  // e.g. no memory left to queue the write; onReply is still ours
    return onReply(WriteReply{unavailableFrom("message store: cannot queue a write", e), {}, 0});
  }
  if (!queued) onReply(WriteReply{core::Status::unavailable("message store: closed"), {}, 0});
}

core::Status PostgresMessageStore::recordAck(MessageId id, std::string_view ack) {
  if (ack.empty()) return core::Status::invalidArgument("message store: an empty ACK cannot be recorded");
  return write(WriteRequest{AckWrite{id, ack, now()}}).status;
}

core::Status PostgresMessageStore::markOutcome(MessageId id, MessageState state, std::string_view outcome) {
  if (state == MessageState::Received) {
    return core::Status::invalidArgument("message store: an outcome must be a final state");
  }
  return write(WriteRequest{OutcomeWrite{id, state, outcome, now()}}).status;
}

core::Status PostgresMessageStore::finish(MessageId id, MessageState state, std::string_view outcome,
                                          std::string_view ack,
                                          std::span<const NewNotification> notifications) {
  if (state == MessageState::Received) {
    return core::Status::invalidArgument("message store: an outcome must be a final state");
  }
  if (auto status = checkNotifications(notifications); !status.isOk()) return status;
  return write(WriteRequest{FinishWrite{id, state, outcome, ack, notifications, now()}}).status;
}

Outbox& PostgresMessageStore::outbox() {
  return *outbox_;
}

core::Result<std::vector<MessageId>> PostgresMessageStore::listUnfinished() {
  return reader_->listUnfinished();
}

core::Result<std::size_t> PostgresMessageStore::purgeContent(std::chrono::days olderThan) {
  if (olderThan.count() < 0) return core::Status::invalidArgument("message store: negative retention");
  const TimePoint at = now();
  const std::size_t chunk = std::max<std::size_t>(options_.purgeChunkSize, 1);
  std::size_t purged = 0;
  // Chunk by chunk, each its own transaction in the writer's queue, so persists waiting
  // behind a large purge wait for one chunk at most. With the server's clock `at` is the
  // sentinel and the writer works from the retention itself (at - receivedBefore).
  for (;;) {
    const auto reply = write(WriteRequest{PurgeWrite{at - olderThan, chunk, at}});
    if (!reply.status.isOk()) return reply.status;
    purged += reply.purged;
    if (reply.purged < chunk) break;
  }
  // The memory rows carry the engine's times: purged by the engine's clock.
  const TimePoint engineNow = options_.clock ? options_.clock() : std::chrono::system_clock::now();
  if (auto status = saveMemory({}, engineNow - olderThan); !status.isOk()) return status;
  return purged;
}

core::Status PostgresMessageStore::saveMemory(std::span<const MemoryRow> rows, std::optional<TimePoint> purgeBefore) {
  return write(WriteRequest{MemoryWrite{rows, purgeBefore}}).status;
}

void PostgresMessageStore::stageMemory(std::vector<MemoryRow> rows) {
  // As long as SQLite's audit rows linger for a transaction to share.
  stageMemoryRows(*queue_, std::move(rows), std::chrono::milliseconds(10));
}

core::Result<std::vector<MemoryRow>> PostgresMessageStore::loadMemory(TimePoint since) {
  return reader_->loadMemory(since);
}

core::Result<StoredMessage> PostgresMessageStore::fetch(MessageId id) {
  return reader_->fetch(id);
}

core::Result<std::vector<MessageId>> PostgresMessageStore::claimUnfinished(std::size_t limit) {
  return reader_->claimUnfinished(options_.instance, pgTime(now()), options_.claimLease, limit);
}

core::Result<std::size_t> PostgresMessageStore::renewClaims() {
  return reader_->renewClaims(options_.instance, pgTime(now()), options_.claimLease);
}

}  // namespace cpis::store
