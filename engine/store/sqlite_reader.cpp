#include "engine/store/sqlite_reader.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <Poco/Data/LOB.h>
#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Data/Statement.h>
#include <Poco/Nullable.h>
#include <Poco/Types.h>

#include "engine/store/exception_status.h"
#include "engine/store/sqlite_schema.h"

namespace cpis::store {

using namespace Poco::Data::Keywords;

namespace {

std::optional<std::string> optionalBytes(const Poco::Nullable<Poco::Data::BLOB>& blob) {
  if (blob.isNull()) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(blob.value().rawContent()), blob.value().size());
}

std::optional<TimePoint> optionalTime(const Poco::Nullable<Poco::Int64>& micros) {
  if (micros.isNull()) return std::nullopt;
  return fromDbTime(micros.value());
}

std::optional<MessageState> parseState(std::string_view text) {
  for (const auto state :
       {MessageState::Received, MessageState::Processed, MessageState::Rejected, MessageState::Failed}) {
    if (toString(state) == text) return state;
  }
  return std::nullopt;
}

}  // namespace

SqliteReader::SqliteReader(Poco::Data::Session session)
    : session_(std::move(session)),
      outboxEntry_(Poco::Data::SQLite::Utility::dbHandle(session_),
                   "SELECT " + std::string(kSqliteOutboxColumns) + " FROM outbox WHERE id = ?1"),
      outboxEntryByKey_(Poco::Data::SQLite::Utility::dbHandle(session_),
                        "SELECT " + std::string(kSqliteOutboxColumns) +
                            " FROM outbox WHERE sink = ?1 AND idempotency_key = ?2"),
      listOutbox_(
          Poco::Data::SQLite::Utility::dbHandle(session_),
          "SELECT " + std::string(kSqliteOutboxColumns) +
              " FROM outbox WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR sink = ?2)"
              " AND (?3 IS NULL OR kind = ?3) AND (?5 IS NULL OR message_id = ?5) ORDER BY id DESC LIMIT ?4"),
      outboxCounts_(Poco::Data::SQLite::Utility::dbHandle(session_),
                    "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'delivered'), 0),"
                    " COALESCE(SUM(state = 'dead'), 0) FROM outbox WHERE ?1 IS NULL OR sink = ?1"),
      // Entries held by a dispatcher thread, and those queued behind an older entry of their
      // order key, do not count: they are not the next to become claimable.
      nextDue_(Poco::Data::SQLite::Utility::dbHandle(session_), kSqliteNextDue) {}

core::Result<StoredMessage> SqliteReader::fetch(MessageId id) {
  try {
    const std::lock_guard lock(mutex_);
    Poco::Int64 key = id;
    StoredMessage message;
    Poco::Int64 receivedAt = 0;
    std::string state;
    Poco::Int64 rawSize = 0;
    Poco::Nullable<Poco::Data::BLOB> ack;
    Poco::Nullable<Poco::Int64> ackedAt;
    Poco::Nullable<Poco::Int64> finishedAt;
    Poco::Nullable<Poco::Int64> purgedAt;
    Poco::Int64 duplicates = 0;
    Poco::Nullable<Poco::Data::BLOB> raw;
    // MSH-10 as bytes: as text POCO would cut it at a NUL.
    Poco::Nullable<Poco::Data::BLOB> controlId;
    Poco::Data::Statement query =
        (session_ << "SELECT m.feed, CAST(m.control_id AS BLOB), m.received_at, m.state, m.raw_size, m.ack,"
                     " m.acked_at, m.outcome, m.finished_at, m.purged_at, m.duplicates_received, r.raw"
                     " FROM message m LEFT JOIN message_raw r ON r.id = m.id WHERE m.id = ?",
         use(key), into(message.feed), into(controlId), into(receivedAt), into(state), into(rawSize),
         into(ack), into(ackedAt), into(message.outcome), into(finishedAt), into(purgedAt), into(duplicates),
         into(raw));
    if (query.execute() == 0) {
      return core::Status::notFound("message store: no message " + std::to_string(id));
    }
    const auto parsed = parseState(state);
    if (!parsed) {
      return core::Status::internal("message store: message " + std::to_string(id) + " has an unknown state");
    }
    message.id = id;
    message.controlId = optionalBytes(controlId).value_or(std::string());
    message.receivedAt = fromDbTime(receivedAt);
    message.state = *parsed;
    message.raw = optionalBytes(raw);
    message.rawSize = static_cast<std::size_t>(rawSize);
    message.ack = optionalBytes(ack);
    message.ackedAt = optionalTime(ackedAt);
    message.finishedAt = optionalTime(finishedAt);
    message.purgedAt = optionalTime(purgedAt);
    message.duplicatesReceived = static_cast<std::uint32_t>(duplicates);
    return message;
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot read message " + std::to_string(id), e);
  }
}

core::Result<std::vector<MessageId>> SqliteReader::listUnfinished() {
  try {
    const std::lock_guard lock(mutex_);
    std::vector<Poco::Int64> ids;
    session_ << "SELECT id FROM message WHERE state = 'received' ORDER BY id", into(ids), now;
    return std::vector<MessageId>(ids.begin(), ids.end());
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot list unfinished messages", e);
  }
}

core::Result<std::vector<MemoryRow>> SqliteReader::loadMemory(TimePoint since) {
  try {
    const std::lock_guard lock(mutex_);
    SqliteStatement load(Poco::Data::SQLite::Utility::dbHandle(session_),
                         "SELECT kind, feed, key, body, updated_at FROM attendance_memory WHERE updated_at >= ?1"
                         " ORDER BY updated_at");
    auto find = load.run();
    find.bind(1, toDbTime(since));
    std::vector<MemoryRow> rows;
    while (find.step()) {
      rows.push_back(MemoryRow{find.text(0), find.text(1), find.blob(2).value_or(std::string()),
                               find.blob(3).value_or(std::string()), fromDbTime(find.int64(4))});
    }
    return rows;
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot read the attendance memory", e);
  }
}

core::Result<OutboxEntry> SqliteReader::outboxEntry(NotificationId id) {
  try {
    const std::lock_guard lock(mutex_);
    auto find = outboxEntry_.run();
    if (!find.bind(1, id).step()) {
      return core::Status::notFound("message store: no notification " + std::to_string(id));
    }
    return sqliteOutboxEntry(find);
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot read notification " + std::to_string(id), e);
  }
}

core::Result<std::optional<OutboxEntry>> SqliteReader::outboxEntry(std::string_view sink,
                                                                   std::string_view idempotencyKey) {
  try {
    const std::lock_guard lock(mutex_);
    auto find = outboxEntryByKey_.run();
    find.bindText(1, sink);
    find.bindText(2, idempotencyKey);
    if (!find.step()) return std::optional<OutboxEntry>();
    return std::optional<OutboxEntry>(sqliteOutboxEntry(find));
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot read a notification of sink " + std::string(sink), e);
  }
}

core::Result<std::vector<OutboxEntry>> SqliteReader::listOutbox(const OutboxFilter& filter) {
  try {
    const std::lock_guard lock(mutex_);
    auto find = listOutbox_.run();
    if (filter.state) find.bindText(1, toString(*filter.state));
    if (filter.sink) find.bindText(2, *filter.sink);
    if (filter.kind) find.bindText(3, *filter.kind);
    find.bind(4, static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX)));
    if (filter.messageId) find.bind(5, static_cast<std::int64_t>(*filter.messageId));
    std::vector<OutboxEntry> entries;
    while (find.step()) entries.push_back(sqliteOutboxEntry(find));
    return entries;
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot list notifications", e);
  }
}

core::Result<OutboxCounts> SqliteReader::outboxCounts(std::optional<std::string_view> sink) {
  try {
    const std::lock_guard lock(mutex_);
    auto count = outboxCounts_.run();
    if (sink) count.bindText(1, *sink);
    OutboxCounts counts;
    if (count.step()) {
      counts.pending = static_cast<std::uint64_t>(count.int64(0));
      counts.delivered = static_cast<std::uint64_t>(count.int64(1));
      counts.dead = static_cast<std::uint64_t>(count.int64(2));
    }
    return counts;
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot count notifications", e);
  }
}

core::Result<std::optional<TimePoint>> SqliteReader::nextDue(std::string_view sink) {
  try {
    const std::lock_guard lock(mutex_);
    auto find = nextDue_.run();
    find.bindText(1, sink);
    std::optional<TimePoint> due;
    if (find.step() && !find.isNull(0)) due = fromDbTime(find.int64(0));
    return due;
  } catch (const std::exception& e) {
    return unavailableFrom("message store: cannot read when notifications are due", e);
  }
}

}  // namespace cpis::store
