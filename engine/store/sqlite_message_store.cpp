#include "engine/store/sqlite_message_store.h"

#include <algorithm>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Session.h>
#include <Poco/Data/Statement.h>
#include <Poco/Logger.h>

#include "engine/store/exception_status.h"
#include "engine/store/group_commit_queue.h"
#include "engine/store/message_admission.h"
#include "engine/store/sqlite_checkpointer.h"
#include "engine/store/sqlite_outbox.h"
#include "engine/store/sqlite_reader.h"
#include "engine/store/sqlite_schema.h"
#include "engine/store/sqlite_statement.h"
#include "engine/store/sqlite_writer.h"

namespace cpis::store {

namespace {

// POCO 1.11 retries a failed sqlite3_open_v2 until this many seconds have passed (60 by
// default). A file that cannot be opened now will not open in a minute either: fail at once
// and let start-up say so.
constexpr std::size_t kOpenRetrySeconds = 0;

// Administration beside a running engine: the database must have this build's schema.
core::Status requireCurrentSchema(Poco::Data::Session& session, const std::string& path) {
  int version = 0;
  session << "SELECT COALESCE(MAX(version), 0) FROM schema_version", Poco::Data::Keywords::into(version),
      Poco::Data::Keywords::now;
  if (version == kSqliteSchemaVersion) return core::Status::ok();
  return core::Status::invalidArgument("message store: " + path + " has schema version " + std::to_string(version) +
                                       ", this build reads " + std::to_string(kSqliteSchemaVersion) +
                                       " (the engine migrates it when it starts)");
}

// The admission's state from the table: the next id, and the messages of the duplicate window
// (and the margin before it, as the writer's own check loads them).
std::unique_ptr<MessageAdmission> loadAdmission(sqlite3* db, const SqliteStoreOptions& options) {
  SqliteStatement maxId(db, "SELECT COALESCE(MAX(id), 0) FROM message");
  MessageId next = 1;
  {
    auto run = maxId.run();
    if (run.step()) next = run.int64(0) + 1;
  }
  const auto window = std::chrono::duration_cast<std::chrono::microseconds>(options.duplicateWindow);
  auto admission = std::make_unique<MessageAdmission>(window, next);
  if (window.count() > 0) {
    SqliteStatement recent(db, kSqliteRecentMessages);
    auto run = recent.run();
    run.bind(1, toDbTime(options.clock()) - window.count() - RecentControlIds::kMarginMicros);
    while (run.step()) admission->load(run.text(1), run.text(2), run.int64(3), run.int64(0));
  }
  return admission;
}

}  // namespace

// A message whose verdict (new, its id) was known before its write: the caller is asked
// whether it takes the message as written once the write is queued (so that anything the
// caller writes about it afterwards is queued after it), while the writer may already be at it.
struct SqliteMessageStore::Admitted {
  enum class Phase : std::uint8_t { Unasked, Asking, Taken, Declined, Answered };
  // The message's bytes, owned: a caller that takes the message as written may let its own go
  // before the writer has seen them.
  std::string feed;
  std::string controlId;
  std::string raw;
  MessageId id{};
  std::mutex mutex;  // guards the rest
  Phase phase = Phase::Unasked;
  std::optional<WriteReply> early;  // the reply, when it came while the caller was being asked
  std::function<void(WriteReply)> answer;  // answers the caller's `done`
};

core::Result<std::unique_ptr<SqliteMessageStore>> SqliteMessageStore::open(const std::string& path,
                                                                           SqliteStoreOptions options) {
  const std::string opening = "message store: cannot open " + path;
  if (options.administration && !std::filesystem::exists(path)) {
    return core::Status::notFound("message store: no database at " + path);
  }
  // Locked by the file's real name: a symbolic link (or a path through one) to a database
  // another engine has open names the same lock, so the second engine is refused.
  std::error_code resolving;
  const std::filesystem::path real = std::filesystem::weakly_canonical(path, resolving);
  const std::string lockPath = (resolving ? std::filesystem::path(path) : real).string() + ".lock";
  auto lock = options.administration ? core::Result<FileLock>(FileLock::none()) : FileLock::acquire(lockPath);
  if (!lock) return lock.error();
  // The file holds patient data: a new one is readable by its owner only (an empty file is an
  // empty database to SQLite, which gives the -wal and -shm files the database's own mode).
  // Whatever the umask: with the usual 022 it was created world-readable.
  if (!options.administration) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  try {
    // POCO's own registry, not state of ours; registering again is a no-op.
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session writerSession(Poco::Data::SQLite::Connector::KEY, path, kOpenRetrySeconds);
    if (auto status = configureSqliteConnection(writerSession, SqliteRole::Writer, options.maxDatabaseBytes);
        !status.isOk()) {
      return status;
    }
    if (options.administration) {
      if (auto status = requireCurrentSchema(writerSession, path); !status.isOk()) return status;
    } else {
      if (auto status = migrateSqliteSchema(writerSession); !status.isOk()) return status;
      // Claims of the outbox are held by dispatcher threads of this process: any left in the
      // file are from a run that has ended. (Not in administration: the running engine's stay.)
      writerSession << "UPDATE outbox SET claimed = 0 WHERE claimed <> 0", Poco::Data::Keywords::now;
    }
    Poco::Data::Session readerSession(Poco::Data::SQLite::Connector::KEY, path, kOpenRetrySeconds);
    if (auto status = configureSqliteConnection(readerSession, SqliteRole::Reader, 0); !status.isOk()) {
      return status;
    }
    Poco::Data::Session checkpointSession(Poco::Data::SQLite::Connector::KEY, path, kOpenRetrySeconds);
    if (auto status = configureSqliteConnection(checkpointSession, SqliteRole::Checkpointer, 0);
        !status.isOk()) {
      return status;
    }
    sqlite3* const writerDb = Poco::Data::SQLite::Utility::dbHandle(writerSession);
    if (!options.clock) options.clock = [] { return std::chrono::system_clock::now(); };
    std::unique_ptr<MessageAdmission> admission;
    if (!options.administration) admission = loadAdmission(writerDb, options);
    auto writer = std::make_unique<SqliteWriter>(std::move(writerSession), options.duplicateWindow);
    auto reader = std::make_unique<SqliteReader>(std::move(readerSession));
    const int frames = std::max(options.checkpointFrames, 1);
    auto checkpointer =
        std::make_unique<SqliteCheckpointer>(std::move(checkpointSession), writerDb, frames, frames * 10);
    return std::make_unique<SqliteMessageStore>(OpenKey{}, std::move(lock.value()), std::move(options), std::move(writer),
                                                std::move(reader), std::move(checkpointer), std::move(admission));
  } catch (const std::exception& e) {
    return unavailableFrom(opening, e);
  }
}

SqliteMessageStore::SqliteMessageStore(OpenKey, FileLock lock, SqliteStoreOptions options,
                                       std::unique_ptr<SqliteWriter> writer,
                                       std::unique_ptr<SqliteReader> reader,
                                       std::unique_ptr<SqliteCheckpointer> checkpointer,
                                       std::unique_ptr<MessageAdmission> admission)
    : lock_(std::move(lock)),
      options_(std::move(options)),
      writer_(std::move(writer)),
      reader_(std::move(reader)),
      checkpointer_(std::move(checkpointer)),
      admission_(std::move(admission)) {
  handOver_ = std::make_unique<ClaimHandOver>();
  writer_->claimWith(handOver_.get());
  using Queue = GroupCommitQueue<WriteRequest, WriteReply>;
  Queue::Syncer syncer;
  if (options_.pipelinedSync) {
    writer_->deferSyncs(options_.fdatasync);
    syncer = [this, lastLogged = std::string()]() mutable -> std::optional<WriteReply> {
      auto status = writer_->syncWal();
      if (status.isOk()) {
        // A message written and now durable: the store takes messages again.
        if (persistedSinceSync_.exchange(false)) noteHealthy();
        return std::nullopt;
      }
      noteFailing(status);
      // Once the file is broken every sync fails alike: said once, not for every batch.
      if (status.message() != lastLogged) {
        lastLogged = status.message();
        Poco::Logger::get("cpis.store").error(status.message());
      }
      return WriteReply{std::move(status), {}, 0};
    };
  }
  queue_ = std::make_unique<Queue>(
      options_.maxBatchSize,
      [this](const std::vector<const WriteRequest*>& batch) {
        auto replies = writer_->run(batch);
        noteWrites(batch, replies);
        return replies;
      },
      WriteReply{
          core::Status::internal("message store: the writer failed; nothing of its batch was stored"), {}, 0},
      std::move(syncer));
  outbox_ = std::make_unique<SqliteOutbox>([this](const WriteRequest& request) { return write(request); },
                                           *reader_, *handOver_, options_.clock);
}

void SqliteMessageStore::noteWrites(const std::vector<const WriteRequest*>& batch,
                                    const std::vector<WriteReply>& replies) {
  // Failing: no write of the batch stored (a full disk, a lock held too long, a file gone). One
  // write refused on its own data while others went through is that write's problem. Healthy
  // again only once a message itself is written and durable: an outbox update that needs no new
  // page succeeds on a full disk, and a commit into a WAL whose sync then fails is not stored.
  bool anyStored = false;
  bool messageStored = false;
  for (std::size_t i = 0; i < replies.size() && i < batch.size(); ++i) {
    if (!replies[i].status.isOk()) continue;
    anyStored = true;
    messageStored = messageStored || std::holds_alternative<PersistWrite>(batch[i]->write);
  }
  if (!anyStored && !replies.empty()) return noteFailing(replies.front().status);
  if (!messageStored) return;
  if (options_.pipelinedSync) {
    persistedSinceSync_ = true;  // the syncer says (noteHealthy) once it is durable
  } else {
    noteHealthy();  // synced in its commit
  }
}

void SqliteMessageStore::noteHealthy() {
  if (writesFailing_.exchange(false)) {
    Poco::Logger::get("cpis.store")
        .notice("message store: writes succeed again; new messages are checked as before");
  }
}

void SqliteMessageStore::noteFailing(const core::Status& status) {
  if (writesFailing_.exchange(true)) return;  // said once an outage
  Poco::Logger::get("cpis.store")
      .critical(
          "OPS ALERT: message store: writes are failing (%s): messages are refused (send again) while this "
          "lasts, and a new message waits for its own write before any CP-IS check",
          status.message());
}

SqliteMessageStore::~SqliteMessageStore() {
  close();
}

void SqliteMessageStore::close() {
  if (queue_) queue_->close();
}

SqliteStoreStats SqliteMessageStore::stats() const {
  const auto queueStats = queue_->stats();
  return {queueStats.batches, queueStats.requests, queueStats.largestBatch, queueStats.queued,
          checkpointer_->checkpoints()};
}

WriteReply SqliteMessageStore::write(const WriteRequest& request) {
  try {
    auto reply = queue_->submit(request);
    if (!reply) return {core::Status::unavailable("message store: closed"), {}, 0};
    handOver_->handOver(*reply);  // durable now: what was written claimed goes to the dispatcher
    return std::move(*reply);
  } catch (const std::exception& e) {  // e.g. no memory left to queue the write
    return {unavailableFrom("message store: cannot queue a write", e), {}, 0};
  }
}

core::Status SqliteMessageStore::checkInbound(const InboundMessage& message) const {
  if (options_.administration) {
    // The running engine gives message ids before its writes (MessageAdmission): a second
    // process inserting messages could take one of them.
    return core::Status::invalidArgument("message store: opened for administration, it does not receive messages");
  }
  return checkInboundMessage(message, options_.maxMessageBytes);
}

core::Result<PersistOutcome> SqliteMessageStore::persistInbound(const InboundMessage& message) {
  if (auto status = checkInbound(message); !status.isOk()) return status;
  // Held by the callback as well as here: the caller may return the moment the value is
  // visible, while set_value() is still finishing.
  auto promise = std::make_shared<std::promise<WriteReply>>();
  auto reply = promise->get_future();
  try {
    std::function<void(WriteReply)> answered = [promise](WriteReply r) { promise->set_value(std::move(r)); };
    const std::lock_guard admitting(admitMutex_);  // see persistInboundEarly
    if (!queue_->submitAsync(WriteRequest{persistWrite(message, nullptr)}, std::move(answered))) {
      return core::Status::unavailable("message store: closed");
    }
  } catch (const std::exception& e) {  // e.g. no memory left to queue the write
    return unavailableFrom("message store: cannot queue a write", e);
  }
  WriteReply written = reply.get();
  if (!written.status.isOk()) return std::move(written.status);
  handOverSafely(written);
  return std::move(written.persisted);
}

void SqliteMessageStore::recordAudit(std::vector<QueryAuditEntry> entries, std::function<void(core::Status)> done) {
  // The request's views point into the rows, which the callbacks keep until the write is answered.
  auto rows = std::make_shared<const std::vector<QueryAuditEntry>>(std::move(entries));
  // A batch that fails other than on one write's data (SqliteWriter::run) fails every write in
  // it, so rows that rode in a transaction another write broke (rolled back: nothing of it
  // stored) are queued again, once; only that second answer is final. Not after a failed
  // sync: the rows were committed then, and a second copy would be an audit record of a query
  // that was made once.
  std::function<void(WriteReply)> firstAnswer = [this, rows, done](WriteReply reply) {
    if (reply.status.isOk() || !reply.rolledBack) return done(std::move(reply.status));
    core::Status status = std::move(reply.status);
    try {
      if (queue_->submitAsync(WriteRequest{AuditWrite{*rows}},
                              [rows, done](WriteReply again) { done(std::move(again.status)); })) {
        return;
      }
    } catch (const std::exception&) {  // no memory to queue it again: the first failure stands
    }
    done(std::move(status));
  };
  core::Status refused = core::Status::ok();
  try {
    if (queue_->submitLazy(WriteRequest{AuditWrite{*rows}}, std::move(firstAnswer), options_.auditLinger)) return;
    refused = core::Status::unavailable("message store: closed");
  } catch (const std::exception& e) {  // e.g. no memory left to queue the write
    refused = unavailableFrom("message store: cannot queue a write", e);
  }
  done(std::move(refused));  // exactly once: outside the try, so a throwing `done` is not called again
}

void SqliteMessageStore::persistInboundAsync(const InboundMessage& message, PersistCallback done) {
  persistInboundEarly(message, nullptr, std::move(done));
}

PersistWrite SqliteMessageStore::persistWrite(const InboundMessage& message, bool* certainlyNew) {
  PersistWrite write{message, options_.clock()};
  if (admission_) {
    const auto verdict = admission_->admit(message.feed, message.controlId, toDbTime(write.receivedAt));
    write.id = verdict.id;
    if (certainlyNew != nullptr) *certainlyNew = verdict.certainlyNew;
  } else if (certainlyNew != nullptr) {
    *certainlyNew = false;
  }
  return write;
}

void SqliteMessageStore::persistInboundEarly(const InboundMessage& message, WrittenCallback written,
                                             PersistCallback done) {
  if (auto status = checkInbound(message); !status.isOk()) return done(std::move(status));
  // `done` in a holder first (if even that fails, `done` is still here to answer), so that an
  // allocation failing below never loses it; answered with the failure then.
  std::shared_ptr<PersistCallback> caller;
  try {
    caller = std::make_shared<PersistCallback>(std::move(done));
  } catch (const std::exception& e) {
    return done(unavailableFrom("message store: cannot queue a write", e));
  }
  std::function<void(WriteReply)> onReply;
  std::shared_ptr<Admitted> admitted;
  bool queued = false;
  bool asking = false;
  try {
    // What a message needs if it turns out certainly new, made before the admission lock: the
    // copy of its bytes is the one large allocation here.
    if (written && !message.completion) {
      admitted = std::make_shared<Admitted>();
      admitted->feed.assign(message.feed);
      admitted->controlId.assign(message.controlId);
      admitted->raw.assign(message.raw);
    }
    std::function<bool(const WriteReply&)> onWritten;
    if (written) {
      onWritten = [written](const WriteReply& reply) {
        // What was written claimed goes to the dispatcher only once durable: in onReply.
        return reply.status.isOk() && reply.preClaimed.empty() && written(reply.persisted);
      };
    }
    // The holder, not a copy of `done`: it carries the caller's whole context (the frame, its reply).
    onReply = [this, caller](WriteReply reply) {
      if (!reply.status.isOk()) return (*caller)(std::move(reply.status));
      handOverSafely(reply);
      (*caller)(std::move(reply.persisted));
    };
    // The id and the "certainly new" verdict, and the write's place in the queue, in one step:
    // the writer then meets messages in the order their verdicts were given, so a message judged
    // certainly new is written before any other with its (feed, MSH-10) is checked against the
    // table. (In two steps, a resend that came a moment later on another connection could be
    // written first, as the original, while the first went on to its lookup.)
    const std::lock_guard admitting(admitMutex_);
    bool certainlyNew = false;
    PersistWrite persist = persistWrite(
        admitted ? InboundMessage{admitted->feed, admitted->controlId, admitted->raw, std::nullopt} : message,
        &certainlyNew);
    // While writes fail, no message is offered as written before its write has committed: the
    // check (a query at Spine: an access recorded, the local authority told) waits for it, and
    // a message the store cannot take is refused without one.
    if (admitted && certainlyNew && !writesFailing_.load()) {
      queued = asking = queueAdmitted(admitted, std::move(persist), onReply);
    } else {
      // The caller's own views, which stay valid until `done`; the copies go with `admitted`.
      persist.message = message;
      // Nor, while writes fail, before the write is durable (a commit whose sync then fails).
      if (writesFailing_.load()) onWritten = nullptr;
      queued = queue_->submitAsync(WriteRequest{std::move(persist)}, std::move(onReply), std::move(onWritten));
    }
  } catch (const std::exception& e) {  // no memory: not queued, so the caller is answered here
    return (*caller)(unavailableFrom("message store: cannot queue a write", e));
  }
  // Refused (closing): `onReply` was not taken. Answered here, after the lock.
  if (!queued) return onReply(WriteReply{core::Status::unavailable("message store: closed"), {}, 0});
  if (asking) askAdmitted(admitted, written);  // queued, after the lock: ask the caller
}

bool SqliteMessageStore::queueAdmitted(const std::shared_ptr<Admitted>& state, PersistWrite persist,
                                       std::function<void(WriteReply)>& answer) {
  using Phase = Admitted::Phase;
  state->id = persist.id;
  std::function<bool(const WriteReply&)> onWritten = [state](const WriteReply& reply) {
    const std::lock_guard lock(state->mutex);
    // Not settled here when something must be said or handed over: onReply does that.
    return state->phase == Phase::Taken && reply.status.isOk() && reply.preClaimed.empty() &&
           !reply.persisted.duplicate;
  };
  std::function<void(WriteReply)> onReply = [this, state](WriteReply reply) {
    std::function<void(WriteReply)> callback;
    {
      const std::lock_guard lock(state->mutex);
      if (state->phase == Phase::Taken) return settleTaken(state->id, reply);
      if (state->phase == Phase::Asking) {
        state->early = std::move(reply);
        return;
      }
      state->phase = Phase::Answered;
      callback = std::move(state->answer);
    }
    callback(std::move(reply));
  };
  // Lazily: the caller's next write about the message (its finish, once the lookup is done)
  // usually comes within the linger, and the two share a transaction.
  state->answer = std::move(answer);
  try {
    if (queue_->submitLazy(WriteRequest{std::move(persist)}, std::move(onReply), options_.admittedLinger,
                           std::move(onWritten))) {
      return true;
    }
  } catch (...) {
    answer = std::move(state->answer);  // not queued: the caller answers
    throw;
  }
  answer = std::move(state->answer);
  return false;
}

void SqliteMessageStore::askAdmitted(const std::shared_ptr<Admitted>& state, const WrittenCallback& written) {
  using Phase = Admitted::Phase;
  {
    const std::lock_guard lock(state->mutex);
    if (state->phase != Phase::Unasked) return;  // written, synced and answered already
    state->phase = Phase::Asking;
  }
  bool took = false;
  try {
    took = written(PersistOutcome{state->id, false, std::nullopt});
  } catch (...) {  // as on the writer's thread: a callback's bug means it did not take it
  }
  std::optional<WriteReply> early;
  std::function<void(WriteReply)> callback;
  {
    const std::lock_guard lock(state->mutex);
    early = std::exchange(state->early, std::nullopt);
    if (took) {
      state->phase = Phase::Taken;
    } else if (early) {
      state->phase = Phase::Answered;
      callback = std::move(state->answer);
    } else {
      state->phase = Phase::Declined;
    }
  }
  if (!early) return;
  if (took) return settleTaken(state->id, *early);
  callback(std::move(*early));
}

void SqliteMessageStore::settleTaken(MessageId id, WriteReply& reply) {
  if (!reply.status.isOk()) {
    Poco::Logger::get("cpis.store")
        .error("message store: message " + std::to_string(id) + " was not stored: " + reply.status.message());
    return;
  }
  if (reply.persisted.duplicate) {  // cannot happen while verdicts and queue order agree; said if it does
    Poco::Logger::get("cpis.store")
        .error("message store: message " + std::to_string(id) + ", taken as new, was found a duplicate of message " +
               std::to_string(reply.persisted.id) + " and not stored");
    return;
  }
  handOverSafely(reply);
}

void SqliteMessageStore::handOverSafely(WriteReply& reply) noexcept {
  try {
    handOver_->handOver(reply);  // durable now: what was written claimed goes to the dispatcher
  } catch (const std::exception& e) {  // no memory: they stay claimed in the table until the next start
    try {
      Poco::Logger::get("cpis.store").error(std::string("message store: notifications not handed over: ") + e.what());
    } catch (...) {
    }
  }
}

core::Status SqliteMessageStore::recordAck(MessageId id, std::string_view ack) {
  if (ack.empty()) return core::Status::invalidArgument("message store: an empty ACK cannot be recorded");
  return write(WriteRequest{AckWrite{id, ack, options_.clock()}}).status;
}

core::Status SqliteMessageStore::markOutcome(MessageId id, MessageState state, std::string_view outcome) {
  if (state == MessageState::Received) {
    return core::Status::invalidArgument("message store: an outcome must be a final state");
  }
  return write(WriteRequest{OutcomeWrite{id, state, outcome, options_.clock()}}).status;
}

core::Status SqliteMessageStore::finish(MessageId id, MessageState state, std::string_view outcome,
                                        std::string_view ack,
                                        std::span<const NewNotification> notifications) {
  if (state == MessageState::Received) {
    return core::Status::invalidArgument("message store: an outcome must be a final state");
  }
  if (auto status = checkNotifications(notifications); !status.isOk()) return status;
  return write(WriteRequest{FinishWrite{id, state, outcome, ack, notifications, options_.clock()}}).status;
}

Outbox& SqliteMessageStore::outbox() {
  return *outbox_;
}

core::Result<std::vector<MessageId>> SqliteMessageStore::listUnfinished() {
  return reader_->listUnfinished();
}

core::Result<std::size_t> SqliteMessageStore::purgeContent(std::chrono::days olderThan) {
  if (olderThan.count() < 0) return core::Status::invalidArgument("message store: negative retention");
  const TimePoint now = options_.clock();
  const std::size_t chunk = std::max<std::size_t>(options_.purgeChunkSize, 1);
  std::size_t purged = 0;
  // Chunk by chunk, each its own transaction in the writer's queue, so persists waiting
  // behind a large purge wait for one chunk at most.
  for (;;) {
    const auto reply = write(WriteRequest{PurgeWrite{now - olderThan, chunk, now}});
    if (!reply.status.isOk()) return reply.status;
    purged += reply.purged;
    if (reply.purged < chunk) break;
  }
  if (auto status = saveMemory({}, now - olderThan); !status.isOk()) return status;
  return purged;
}

core::Result<StoredMessage> SqliteMessageStore::fetch(MessageId id) {
  return reader_->fetch(id);
}

core::Status SqliteMessageStore::saveMemory(std::span<const MemoryRow> rows, std::optional<TimePoint> purgeBefore) {
  return write(WriteRequest{MemoryWrite{rows, purgeBefore}}).status;
}

void SqliteMessageStore::stageMemory(std::vector<MemoryRow> rows) {
  stageMemoryRows(*queue_, std::move(rows), options_.auditLinger);
}

core::Result<std::vector<MemoryRow>> SqliteMessageStore::loadMemory(TimePoint since) {
  return reader_->loadMemory(since);
}

}  // namespace cpis::store
