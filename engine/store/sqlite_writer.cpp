#include "engine/store/sqlite_writer.h"

#include <cerrno>
#include <exception>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <optional>
#include <sqlite3.h>
#include <utility>

#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Logger.h>

#include "engine/store/exception_status.h"
#include "engine/store/sqlite_schema.h"

namespace cpis::store {

SqliteWriter::SqliteWriter(Poco::Data::Session session, std::chrono::microseconds duplicateWindow)
    : session_(std::move(session)),
      db_(Poco::Data::SQLite::Utility::dbHandle(session_)),
      duplicateWindowMicros_(duplicateWindow.count()),
      // IMMEDIATE: take the write lock when the batch starts, not half-way through it.
      begin_(db_, "BEGIN IMMEDIATE"),
      commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK"),
      // The newest message with this (feed, MSH-10) received since the window began.
      findDuplicate_(db_,
                     "SELECT id, ack FROM message WHERE feed = ?1 AND control_id = ?2 AND received_at >= ?3"
                     " ORDER BY received_at DESC, id DESC LIMIT 1"),
      countDuplicate_(db_, "UPDATE message SET duplicates_received = duplicates_received + 1 WHERE id = ?1"),
      insertMessage_(db_,
                     "INSERT INTO message (feed, control_id, received_at, raw_size) VALUES (?1, ?2, ?3, ?4)"),
      // Processed before it was stored: the message, its ACK and its outcome in one row write.
      insertFinished_(db_,
                      "INSERT INTO message (feed, control_id, received_at, raw_size, ack, acked_at, state,"
                      " outcome, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7,"
                      " CASE WHEN ?6 = 'received' THEN NULL ELSE ?3 END)"),
      insertRaw_(db_, "INSERT INTO message_raw (id, raw) VALUES (?1, ?2)"),
      recordAck_(db_, "UPDATE message SET ack = ?1, acked_at = ?2 WHERE id = ?3 AND purged_at IS NULL"),
      markOutcome_(db_,
                   "UPDATE message SET state = ?1, outcome = ?2, finished_at = ?3"
                   " WHERE id = ?4 AND state = 'received'"),
      findState_(db_, "SELECT state FROM message WHERE id = ?1"),
      findPurgeable_(
          db_,
          "SELECT id FROM message WHERE purged_at IS NULL AND state <> 'received' AND received_at < ?1"
          " ORDER BY received_at LIMIT ?2"),
      deleteRaw_(db_, "DELETE FROM message_raw WHERE id = ?1"),
      markPurged_(db_, "UPDATE message SET ack = NULL, purged_at = ?1 WHERE id = ?2") {}

void SqliteWriter::deferSyncs() {
  // WAL mode with synchronous=NORMAL: a commit writes its frames to the WAL without syncing
  // them, and checkpoints still sync the WAL before copying it; syncWal() then makes commits
  // durable, on another thread, before anyone is told.
  SqliteStatement(db_, "PRAGMA synchronous = NORMAL").run().step();
  walPath_ = std::string(sqlite3_db_filename(db_, "main")) + "-wal";
}

core::Status SqliteWriter::syncWal() {
  // fdatasync works on the file, whichever descriptor names it; the WAL stays the same file
  // while the store's connections are open, and a replaced one is noticed and reopened.
  struct stat byPath {};
  if (::stat(walPath_.c_str(), &byPath) != 0) {
    return core::Status::unavailable("message store: the write-ahead log is missing (errno " +
                                     std::to_string(errno) + ")");
  }
  struct stat byFd {};
  if (walFd_ < 0 || ::fstat(walFd_, &byFd) != 0 || byFd.st_ino != byPath.st_ino || byFd.st_dev != byPath.st_dev) {
    if (walFd_ >= 0) ::close(walFd_);
    walFd_ = ::open(walPath_.c_str(), O_RDONLY | O_CLOEXEC);
    if (walFd_ < 0) {
      return core::Status::unavailable("message store: cannot open the write-ahead log (errno " +
                                       std::to_string(errno) + ")");
    }
  }
  if (::fdatasync(walFd_) != 0) {
    return core::Status::unavailable("message store: syncing the write-ahead log failed (errno " +
                                     std::to_string(errno) + "); nothing of these writes was acknowledged");
  }
  return core::Status::ok();
}

SqliteWriter::~SqliteWriter() {
  if (walFd_ >= 0) ::close(walFd_);
}

std::vector<WriteReply> SqliteWriter::run(const std::vector<const WriteRequest*>& batch) {
  std::vector<WriteReply> replies;
  try {
    replies.reserve(batch.size());
    begin_.run().step();
    for (const WriteRequest* request : batch) {
      replies.push_back(std::visit([this](const auto& write) { return apply(write); }, request->write));
    }
    commit_.run().step();  // the sync (or, deferred, syncWal()): only then is anyone answered
    return replies;
  } catch (const std::exception& e) {
    rollbackAfterFailure();
    auto status = unavailableFrom(
        "message store: a transaction of " + std::to_string(batch.size()) + " writes failed, none was stored",
        e);
    Poco::Logger::get("cpis.store").error(status.message());
    return std::vector<WriteReply>(batch.size(), WriteReply{std::move(status), {}, 0});
  }
}

void SqliteWriter::rollbackAfterFailure() noexcept {
  if (sqlite3_get_autocommit(db_) != 0) return;  // SQLite has rolled back already (or never began)
  try {
    rollback_.run().step();
  } catch (const SqliteError& e) {
    // Nothing was committed either way; the next BEGIN will report a connection that is stuck.
    Poco::Logger::get("cpis.store").error(std::string("message store: rollback failed (") + e.what() + ")");
  }
}

WriteReply SqliteWriter::apply(const PersistWrite& write) {
  const InboundMessage& message = write.message;
  const std::int64_t receivedAt = toDbTime(write.receivedAt);
  if (duplicateWindowMicros_ > 0) {
    std::optional<PersistOutcome> original;
    {
      auto find = findDuplicate_.run();
      find.bindText(1, message.feed)
          .bindText(2, message.controlId)
          .bind(3, receivedAt - duplicateWindowMicros_);
      if (find.step()) original = PersistOutcome{find.int64(0), true, find.blob(1)};
    }
    if (original) {
      countDuplicate_.run().bind(1, original->id).step();
      return {core::Status::ok(), std::move(*original), 0};
    }
  }
  if (const auto& done = message.completion) {  // processed already: stored with its ACK and outcome
    insertFinished_.run()
        .bindText(1, message.feed)
        .bindText(2, message.controlId)
        .bind(3, receivedAt)
        .bind(4, static_cast<std::int64_t>(message.raw.size()))
        .bindBlob(5, done->ack)
        .bindText(6, toString(done->state))
        .bindText(7, done->outcome)
        .step();
  } else {
    insertMessage_.run()
        .bindText(1, message.feed)
        .bindText(2, message.controlId)
        .bind(3, receivedAt)
        .bind(4, static_cast<std::int64_t>(message.raw.size()))
        .step();
  }
  const MessageId id = sqlite3_last_insert_rowid(db_);
  insertRaw_.run().bind(1, id).bindBlob(2, message.raw).step();
  return {core::Status::ok(), PersistOutcome{id, false, std::nullopt}, 0};
}

WriteReply SqliteWriter::apply(const AckWrite& write) {
  auto update = recordAck_.run();
  update.bindBlob(1, write.ack).bind(2, toDbTime(write.at)).bind(3, write.id).step();
  if (update.changes() == 1) return {};
  return {explainUnchanged(write.id, "its content was purged"), {}, 0};
}

WriteReply SqliteWriter::apply(const OutcomeWrite& write) {
  auto update = markOutcome_.run();
  update.bindText(1, toString(write.state))
      .bindText(2, write.outcome)
      .bind(3, toDbTime(write.at))
      .bind(4, write.id);
  update.step();
  if (update.changes() == 1) return {};
  return {explainUnchanged(write.id, "it is already finished"), {}, 0};
}

WriteReply SqliteWriter::apply(const PurgeWrite& write) {
  std::vector<MessageId> ids;
  {
    auto find = findPurgeable_.run();
    find.bind(1, toDbTime(write.receivedBefore)).bind(2, static_cast<std::int64_t>(write.limit));
    while (find.step()) ids.push_back(find.int64(0));
  }
  const std::int64_t purgedAt = toDbTime(write.at);
  for (const MessageId id : ids) {
    deleteRaw_.run().bind(1, id).step();
    markPurged_.run().bind(1, purgedAt).bind(2, id).step();
  }
  return {core::Status::ok(), {}, ids.size()};
}

core::Status SqliteWriter::explainUnchanged(MessageId id, std::string_view refusal) {
  auto find = findState_.run();
  if (!find.bind(1, id).step())
    return core::Status::notFound("message store: no message " + std::to_string(id));
  return core::Status::invalidArgument("message store: message " + std::to_string(id) + " (" + find.text(0) +
                                       ") refused: " + std::string(refusal));
}

}  // namespace cpis::store
