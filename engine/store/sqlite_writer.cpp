#include "engine/store/sqlite_writer.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <climits>
#include <optional>
#include <sqlite3.h>
#include <utility>

#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Logger.h>

#include "engine/store/exception_status.h"
#include "engine/store/sqlite_audit_log.h"
#include "engine/store/sqlite_schema.h"

namespace cpis::store {
namespace {

// A replayed entry's deadline (?2: now): one still ahead stays; one passed gives the entry its
// window again, from now. A deferred check's sink makes unlimited attempts: it must still end
// (check-abandoned reaches a person), as it would have without the replay.
const std::string kReplayDeadline =
    "deadline = CASE WHEN deadline IS NULL OR deadline > ?2 THEN deadline ELSE ?2 + (deadline - created_at) "
    "END,";

}  // namespace

SqliteWriter::SqliteWriter(Poco::Data::Session session, std::chrono::microseconds duplicateWindow)
    : session_(std::move(session)),
      db_(Poco::Data::SQLite::Utility::dbHandle(session_)),
      duplicateWindowMicros_(duplicateWindow.count()),
      // IMMEDIATE: take the write lock when the batch starts, not half-way through it.
      begin_(db_, "BEGIN IMMEDIATE"),
      commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK"),
      // A candidate of recent_ confirmed: the row is this (feed, MSH-10) (recent_ holds hashes).
      findDuplicate_(
          db_,
          "SELECT m.ack, r.raw, m.state IN ('rejected', 'failed') FROM message m"
          " LEFT JOIN message_raw r ON r.id = m.id WHERE m.id = ?1 AND m.feed = ?2 AND m.control_id = ?3"),
      // What recent_ starts from: the messages of the window, in the order they were stored.
      loadRecent_(db_, kSqliteRecentMessages),
      countDuplicate_(db_, "UPDATE message SET duplicates_received = duplicates_received + 1 WHERE id = ?1"),
      // ?8 (and ?5): the id the store gave the message, or NULL for SQLite's next rowid.
      insertMessage_(
          db_,
          "INSERT INTO message (id, feed, control_id, received_at, raw_size) VALUES (?5, ?1, ?2, ?3, ?4)"),
      // Processed before it was stored: the message, its ACK and its outcome in one row write.
      insertFinished_(
          db_,
          "INSERT INTO message (id, feed, control_id, received_at, raw_size, ack, acked_at, state,"
          " outcome, finished_at) VALUES (?8, ?1, ?2, ?3, ?4, ?5, ?3, ?6, ?7,"
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
      markPurged_(db_, "UPDATE message SET ack = NULL, purged_at = ?1 WHERE id = ?2"),
      // ACK (?1 NULL: the recorded one stays), outcome and state in one row write.
      finish_(db_,
              "UPDATE message SET ack = COALESCE(?1, ack),"
              " acked_at = CASE WHEN ?1 IS NULL THEN acked_at ELSE ?4 END, state = ?2, outcome = ?3,"
              " finished_at = ?4 WHERE id = ?5 AND state = 'received'"),
      // An entry queued behind older pending ones of its order key waits at least as long as
      // they do (see raiseQueued_).
      insertNotification_(
          db_,
          "INSERT INTO outbox (message_id, sink, kind, idempotency_key, order_key, payload,"
          " created_at, next_attempt_at, deadline, claimed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
          " CASE WHEN ?5 = '' THEN COALESCE(?8, ?7) ELSE max(COALESCE(?8, ?7), COALESCE(("
          "SELECT max(p.next_attempt_at) FROM outbox p WHERE p.sink = ?2 AND p.order_key = ?5"
          " AND p.order_key <> '' AND p.state = 'pending'), 0)) END,"
          " ?9, ?10) ON CONFLICT (sink, idempotency_key) DO NOTHING"),
      findEntry_(db_, "SELECT state, message_id FROM outbox WHERE id = ?1"),
      markDelivered_(db_,
                     "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, finished_at = ?2,"
                     " claimed = 0 WHERE id = ?1"),
      markRetry_(db_,
                 "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3,"
                 " claimed = 0 WHERE id = ?1"),
      // A retried entry's successors of its order key cannot be claimed before it is finished,
      // which is never before its next attempt: they wait until then as well, so that claims
      // and next-due reads, walking outbox_waiting in time order, do not read them while it
      // backs off (?1 the entry, ?2 its next attempt).
      raiseQueued_(
          db_,
          "UPDATE outbox SET next_attempt_at = ?2 WHERE id IN (SELECT q.id FROM outbox h JOIN outbox q"
          " ON q.sink = h.sink AND q.order_key = h.order_key WHERE h.id = ?1 AND h.order_key <> ''"
          " AND q.order_key <> '' AND q.state = 'pending' AND q.id > h.id AND q.next_attempt_at < ?2)"),
      release_(db_, "UPDATE outbox SET claimed = 0 WHERE id = ?1 AND state = 'pending' AND claimed <> 0"),
      markDead_(db_,
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, finished_at = ?2,"
                " last_error = ?3, claimed = 0 WHERE id = ?1"),
      replayOne_(db_, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, " +
                          kReplayDeadline + " finished_at = NULL WHERE id = ?1 AND length(payload) > 0"),
      replayDead_(db_, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, " +
                           kReplayDeadline +
                           " finished_at = NULL WHERE state = 'dead' AND (?1 IS NULL OR sink = ?1) AND "
                           "(?3 IS NULL OR sink <> ?3) AND length(payload) > 0"),
      // Finished notifications hold patient data too: their payloads go after the retention.
      clearPayloads_(db_,
                     "UPDATE outbox SET payload = X'' WHERE id IN (SELECT id FROM outbox"
                     " WHERE state IN ('delivered', 'dead') AND finished_at < ?1 AND length(payload) > 0"
                     " ORDER BY finished_at LIMIT ?2)"),
      findClaimable_(db_, kSqliteClaimDue),
      markClaimed_(db_, "UPDATE outbox SET claimed = 1 WHERE id = ?1"),
      ownRowsSavepoint_(db_, "SAVEPOINT own_rows"),
      ownRowsRelease_(db_, "RELEASE own_rows"),
      ownRowsRollback_(db_, "ROLLBACK TO own_rows") {
  writeLock_ = sqliteWriteLock(db_);
}

void SqliteWriter::deferSyncs(WalFile::Fdatasync fdatasync) {
  // WAL mode with synchronous=NORMAL: a commit writes its frames to the WAL without syncing
  // them, and checkpoints still sync the WAL before copying it; syncWal() then makes commits
  // durable, on another thread, before anyone is told.
  SqliteStatement(db_, "PRAGMA synchronous = NORMAL").run().step();
  wal_ = std::make_unique<WalFile>(sqlite3_db_filename(db_, "main"), "message store", fdatasync);
}

core::Status SqliteWriter::syncWal() {
  return wal_ ? wal_->sync() : core::Status::ok();
}

SqliteWriter::~SqliteWriter() = default;

void SqliteWriter::prepareRecent(std::span<const WriteRequest* const> batch) {
  if (duplicateWindowMicros_ <= 0) return;
  if (!recentLoaded_) {
    const auto first = std::find_if(batch.begin(), batch.end(), [](const WriteRequest* request) {
      return std::holds_alternative<PersistWrite>(request->write);
    });
    if (first == batch.end()) return;  // nothing to check yet (e.g. administration)
    const std::int64_t now = toDbTime(std::get<PersistWrite>((*first)->write).receivedAt);
    try {
      auto load = loadRecent_.run();
      load.bind(1, now - duplicateWindowMicros_ - RecentControlIds::kMarginMicros);
      while (load.step()) {
        const std::int64_t receivedAt = load.int64(3);
        recent_.add(RecentControlIds::keyOf(load.text(1), load.text(2)), load.int64(0), receivedAt);
        newestReceived_ = std::max(newestReceived_, receivedAt);
      }
    } catch (...) {
      recent_.clear();  // tried again with the next batch; this one fails
      throw;
    }
    recentLoaded_ = true;
  }
  // Entries leave once they are older than the window, measured from the newest message.
  recent_.expireOutside(newestReceived_, duplicateWindowMicros_);
}

std::vector<WriteReply> SqliteWriter::run(const std::vector<const WriteRequest*>& batch) {
  WriteReply failure;
  bool onData = false;
  if (auto replies = transact(batch, failure, onData)) return std::move(*replies);
  if (!onData || batch.size() == 1) {
    Poco::Logger::get("cpis.store").error(failure.status.message());
    return std::vector<WriteReply>(batch.size(), failure);
  }
  // One write's data (a trigger's or constraint's refusal, a value too big, the size cap
  // reached by a large message) must not cost the others of the batch their answer, nor, with
  // callers that retry, keep failing every batch it joins: each goes alone, in order, so a
  // write still sees those before it. Their commits are synced together, as the batch's would be.
  Poco::Logger::get("cpis.store")
      .warning("message store: a transaction of %z writes failed (%s); writing them one by one", batch.size(),
               failure.status.message());
  std::vector<WriteReply> replies;
  replies.reserve(batch.size());
  std::size_t failed = 0;
  std::string first;
  for (const WriteRequest* request : batch) {
    WriteReply alone;
    auto reply = transact({&request, 1}, alone, onData);
    if (!reply) {
      if (failed++ == 0) first = alone.status.message();
    }
    replies.push_back(reply ? std::move(reply->front()) : std::move(alone));
  }
  // Once a batch, not once a write: with the disk itself full, every one of them fails.
  if (failed > 0) {
    Poco::Logger::get("cpis.store")
        .error("message store: %z of %z writes failed on their own (the first: %s)", failed, batch.size(), first);
  }
  return replies;
}

std::optional<std::vector<WriteReply>> SqliteWriter::transact(std::span<const WriteRequest* const> writes,
                                                              WriteReply& failure, bool& onData) {
  std::size_t recentMark = recent_.mark();
  std::unique_lock writing(*writeLock_, std::defer_lock);  // until committed or rolled back
  try {
    std::vector<WriteReply> replies;
    replies.reserve(writes.size());
    prepareRecent(writes);
    recentMark = recent_.mark();
    writing.lock();
    begin_.run().step();
    for (const WriteRequest* request : writes) {
      replies.push_back(std::visit([this](const auto& write) { return apply(write); }, request->write));
    }
    commit_.run().step();  // the sync (or, deferred, syncWal()): only then is anyone answered
    return replies;
  } catch (const std::exception& e) {
    rollbackAfterFailure();
    recent_.rollback(recentMark);  // what the rolled-back transaction stored is not there
    const auto* sqlite = dynamic_cast<const SqliteError*>(&e);
    const int code = sqlite != nullptr ? sqlite->code() & 0xff : SQLITE_OK;
    // Still Unavailable, as on PostgreSQL: what refuses a write may be put right (a trigger an
    // operator drops, space freed), and a caller that retries (the enhanced-mode finish, for
    // half a minute) costs each batch it joins a rerun, not a failure.
    onData = code == SQLITE_CONSTRAINT || code == SQLITE_TOOBIG || code == SQLITE_MISMATCH || code == SQLITE_RANGE ||
             code == SQLITE_FULL;
    failure = WriteReply{unavailableFrom("message store: a transaction of " + std::to_string(writes.size()) +
                                             " writes failed, none was stored",
                                         e),
                         {}, 0};
    failure.rolledBack = true;
    return std::nullopt;
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
  const RecentControlIds::Key key = RecentControlIds::keyOf(message.feed, message.controlId);
  if (duplicateWindowMicros_ > 0) {
    // The newest message with this (feed, MSH-10) received since the window began. A refused
    // message (AR, AE) is the original only of its own bytes, byte for byte: one corrected and
    // sent again under the same MSH-10 (as an interface engine reprocesses an error) is a message
    // of its own; and those bytes sent again are its duplicate, whatever was stored after it
    // under that MSH-10. As on PostgreSQL (kPersist).
    std::optional<PersistOutcome> original;
    recent_.candidates(key, receivedAt - duplicateWindowMicros_, candidates_);
    for (const MessageId candidate : candidates_) {  // newest first
      auto find = findDuplicate_.run();
      find.bind(1, candidate).bindText(2, message.feed).bindText(3, message.controlId);
      if (!find.step()) continue;
      const auto raw = find.blob(1);
      const bool refused = find.int64(2) != 0;
      const bool refusedSame = refused && raw && *raw == message.raw;
      if (refused && raw && !refusedSame) continue;
      if (original && !refusedSame) continue;
      original = PersistOutcome{candidate, true, find.blob(0)};
      if (raw && !refused) original->conflicting = !sameMessageSentAgain(*raw, message.raw);
      if (refusedSame) break;
    }
    if (original) {
      if (original->conflicting) original->originalAck.reset();  // about another message: never handed out
      countDuplicate_.run().bind(1, original->id).step();         // received again under its MSH-10
      return {core::Status::ok(), std::move(*original), 0};
    }
  }
  if (const auto& done = message.completion) {  // processed already: stored with its ACK and outcome
    auto insert = insertFinished_.run();
    insert.bindText(1, message.feed)
        .bindText(2, message.controlId)
        .bind(3, receivedAt)
        .bind(4, static_cast<std::int64_t>(message.raw.size()))
        .bindBlob(5, done->ack)
        .bindText(6, toString(done->state))
        .bindText(7, done->outcome);
    if (write.id != 0) insert.bind(8, write.id);
    insert.step();
  } else {
    auto insert = insertMessage_.run();
    insert.bindText(1, message.feed)
        .bindText(2, message.controlId)
        .bind(3, receivedAt)
        .bind(4, static_cast<std::int64_t>(message.raw.size()));
    if (write.id != 0) insert.bind(5, write.id);
    insert.step();
  }
  const MessageId id = sqlite3_last_insert_rowid(db_);
  insertRaw_.run().bind(1, id).bindBlob(2, message.raw).step();
  if (duplicateWindowMicros_ > 0) {
    recent_.add(key, id, receivedAt);
    newestReceived_ = std::max(newestReceived_, receivedAt);
  }
  WriteReply reply{core::Status::ok(), PersistOutcome{id, false, std::nullopt}, 0};
  if (message.completion && !message.completion->notifications.empty()) {
    insertNotifications(message.completion->notifications, id, receivedAt, reply.preClaimed);
  }
  return reply;
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
  auto clear = clearPayloads_.run();
  clear.bind(1, toDbTime(write.receivedBefore)).bind(2, static_cast<std::int64_t>(write.limit)).step();
  return {core::Status::ok(), {}, ids.size() + static_cast<std::size_t>(clear.changes())};
}

WriteReply SqliteWriter::apply(const FinishWrite& write) {
  auto update = finish_.run();
  if (!write.ack.empty()) update.bindBlob(1, write.ack);  // unbound: NULL
  update.bindText(2, toString(write.state))
      .bindText(3, write.outcome)
      .bind(4, toDbTime(write.at))
      .bind(5, write.id);
  update.step();
  if (update.changes() != 1) return {explainUnchanged(write.id, "it is already finished"), {}, 0};
  WriteReply reply;
  insertNotifications(write.notifications, write.id, toDbTime(write.at), reply.preClaimed);
  return reply;
}

WriteReply SqliteWriter::apply(const EnqueueWrite& write) {
  WriteReply reply;
  insertNotifications(write.notifications, std::nullopt, toDbTime(write.at), reply.preClaimed);
  return reply;
}

void SqliteWriter::insertNotifications(std::span<const NewNotification> notifications,
                                       std::optional<MessageId> message, std::int64_t at,
                                       std::vector<OutboxEntry>& claimed) {
  for (const NewNotification& notification : notifications) {
    const bool claim = handOver_ != nullptr && handOver_->claims(notification);
    const auto from = notification.messageId ? notification.messageId : message;
    auto insert = insertNotification_.run();
    if (from) insert.bind(1, *from);
    insert.bindText(2, notification.sink)
        .bindText(3, notification.kind)
        .bindText(4, notification.idempotencyKey)
        .bindText(5, notification.orderKey)
        .bindBlob(6, notification.payload)
        .bind(7, at);
    if (notification.notBefore) insert.bind(8, toDbTime(*notification.notBefore));
    if (notification.deadline) insert.bind(9, toDbTime(*notification.deadline));
    insert.bind(10, std::int64_t{claim ? 1 : 0});
    insert.step();
    if (!claim || insert.changes() != 1) continue;  // a key written before: nothing to hand over
    std::optional<TimePoint> deadline;
    if (notification.deadline) deadline = fromDbTime(toDbTime(*notification.deadline));  // as stored
    claimed.push_back(claimedEntry(notification, sqlite3_last_insert_rowid(db_), from, fromDbTime(at), deadline));
  }
}

WriteReply SqliteWriter::apply(const OutboxMarkWrite& write) {
  std::optional<std::string> state;
  std::optional<MessageId> message;
  {
    auto find = findEntry_.run();
    if (find.bind(1, write.id).step()) {
      state = find.text(0);
      if (!find.isNull(1)) message = find.int64(1);
    }
  }
  if (state != toString(NotificationState::Pending)) {
    return {refuseEntry(write.id, state, "it is already finished"), {}, 0};
  }
  const std::int64_t at = toDbTime(write.at);
  WriteReply reply;
  switch (write.end) {
    case OutboxEnd::Delivered:
      markDelivered_.run().bind(1, write.id).bind(2, at).step();
      insertNotifications(write.followUps, message, at, reply.preClaimed);
      break;
    case OutboxEnd::Retry:
      markRetry_.run().bind(1, write.id).bind(2, toDbTime(write.next)).bindText(3, write.error).step();
      raiseQueued_.run().bind(1, write.id).bind(2, toDbTime(write.next)).step();
      break;
    case OutboxEnd::Dead:
      markDead_.run().bind(1, write.id).bind(2, at).bindText(3, write.error).step();
      break;
  }
  return reply;
}

WriteReply SqliteWriter::apply(const ReplayWrite& write) {
  const std::int64_t at = toDbTime(write.at);
  if (write.id) {
    std::optional<std::string> state;
    {
      auto find = findEntry_.run();
      if (find.bind(1, *write.id).step()) state = find.text(0);
    }
    if (state != toString(NotificationState::Pending) && state != toString(NotificationState::Dead)) {
      return {refuseEntry(*write.id, state, "only dead or pending entries are replayed"), {}, 0};
    }
    auto replay = replayOne_.run();
    replay.bind(1, *write.id).bind(2, at).step();
    if (replay.changes() == 0) {
      return {core::Status::invalidArgument("message store: notification " + std::to_string(*write.id) +
                                            " refused: its content was purged (retention)"),
              {},
              0};
    }
    return {core::Status::ok(), {}, 1};
  }
  auto update = replayDead_.run();
  if (write.sink) update.bindText(1, *write.sink);
  if (write.except) update.bindText(3, *write.except);
  update.bind(2, at).step();
  return {core::Status::ok(), {}, static_cast<std::size_t>(update.changes())};
}

WriteReply SqliteWriter::apply(const ClaimWrite& write) {
  WriteReply reply;
  {
    auto find = findClaimable_.run();
    find.bindText(1, write.sink)
        .bind(2, toDbTime(write.now))
        .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(write.limit, INT64_MAX)));
    while (find.step()) reply.claimed.push_back(sqliteOutboxEntry(find));
  }
  for (const OutboxEntry& entry : reply.claimed) markClaimed_.run().bind(1, entry.id).step();
  return reply;
}

WriteReply SqliteWriter::apply(const ReleaseWrite& write) {
  WriteReply reply;
  for (const NotificationId id : write.ids) {
    auto update = release_.run();
    update.bind(1, id).step();
    reply.purged += static_cast<std::size_t>(update.changes());
  }
  return reply;
}

WriteReply SqliteWriter::alone(std::string_view what, const std::function<void()>& write) {
  ownRowsSavepoint_.run().step();
  try {
    write();
  } catch (const std::exception& e) {  // SQLite's refusal, or no memory for a row: the rows alone
    ownRowsRollback_.run().step();
    ownRowsRelease_.run().step();
    return {unavailableFrom("message store: " + std::string(what) + " not written", e), {}, 0};
  }
  ownRowsRelease_.run().step();
  return {};
}

WriteReply SqliteWriter::apply(const AuditWrite& write) {
  return alone("audit rows", [&] {
    // The audit table is the audit log's (SqliteAuditLog creates it): prepared at the first rows.
    if (!insertAudit_) insertAudit_ = std::make_unique<SqliteStatement>(db_, kSqliteAuditInsert);
    insertAuditEntries(*insertAudit_, write.entries);
  });
}

WriteReply SqliteWriter::apply(const MemoryWrite& write) {
  return alone("attendance memory", [&] {
    if (!upsertMemory_) {  // schema version 8: prepared at the first rows
      upsertMemory_ = std::make_unique<SqliteStatement>(
          db_,
          "INSERT INTO attendance_memory (kind, feed, key, body, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)"
          " ON CONFLICT (feed, key, kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at");
      redateMemory_ = std::make_unique<SqliteStatement>(
          db_, "UPDATE attendance_memory SET updated_at = ?3 WHERE feed = ?1 AND key = ?2 AND updated_at < ?3");
      deleteMemory_ = std::make_unique<SqliteStatement>(
          db_, "DELETE FROM attendance_memory WHERE kind = ?1 AND feed = ?2 AND key = ?3");
      purgeMemory_ = std::make_unique<SqliteStatement>(db_, "DELETE FROM attendance_memory WHERE updated_at < ?1");
    }
    for (const MemoryRow& row : write.rows) {
      if (!row.touch && row.body.empty()) {
        deleteMemory_->run().bindText(1, row.kind).bindText(2, row.feed).bindBlob(3, row.key).step();
        continue;
      }
      if (!row.touch) {
        upsertMemory_->run()
            .bindText(1, row.kind)
            .bindText(2, row.feed)
            .bindBlob(3, row.key)
            .bindBlob(4, row.body)
            .bind(5, toDbTime(row.at))
            .step();
      }
      redateMemory_->run().bindText(1, row.feed).bindBlob(2, row.key).bind(3, toDbTime(row.at)).step();
    }
    if (write.purgeBefore) purgeMemory_->run().bind(1, toDbTime(*write.purgeBefore)).step();
  });
}

core::Status SqliteWriter::refuseEntry(NotificationId id, std::optional<std::string_view> state,
                                       std::string_view refusal) {
  if (!state) return core::Status::notFound("message store: no notification " + std::to_string(id));
  return core::Status::invalidArgument("message store: notification " + std::to_string(id) + " (" +
                                       std::string(*state) + ") refused: " + std::string(refusal));
}

core::Status SqliteWriter::explainUnchanged(MessageId id, std::string_view refusal) {
  auto find = findState_.run();
  if (!find.bind(1, id).step())
    return core::Status::notFound("message store: no message " + std::to_string(id));
  return core::Status::invalidArgument("message store: message " + std::to_string(id) + " (" + find.text(0) +
                                       ") refused: " + std::string(refusal));
}

}  // namespace cpis::store
