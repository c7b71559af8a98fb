#include "engine/store/postgres_reader.h"

#include <exception>
#include <string_view>
#include <utility>

#include "engine/store/exception_status.h"

namespace cpis::store {

namespace {

constexpr std::string_view kFetch =
    "SELECT m.feed, m.control_id, m.received_at, m.state, m.raw_size, m.ack, m.acked_at, m.outcome,"
    " m.finished_at, m.purged_at, m.duplicates_received::bigint, r.raw"
    " FROM message m LEFT JOIN message_raw r ON r.id = m.id WHERE m.id = $1::bigint";

constexpr std::string_view kListUnfinished = "SELECT id FROM message WHERE state = 'received' ORDER BY id";

TimePoint fromMicros(std::int64_t micros) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

std::optional<TimePoint> optionalTime(const std::optional<std::int64_t>& micros) {
  if (!micros) return std::nullopt;
  return fromMicros(*micros);
}

std::optional<MessageState> parseState(std::string_view text) {
  for (const auto state :
       {MessageState::Received, MessageState::Processed, MessageState::Rejected, MessageState::Failed}) {
    if (toString(state) == text) return state;
  }
  return std::nullopt;
}

}  // namespace

PostgresReader::PostgresReader(std::unique_ptr<PgConnection> connection)
    : connection_(std::move(connection)) {
  connection_->prepare("fetch", kFetch);
  connection_->prepare("list_unfinished", kListUnfinished);
}

template <typename T, typename Work>
core::Result<T> PostgresReader::withConnection(const std::string& doing, bool idempotent, Work&& work) {
  try {
    const std::lock_guard lock(mutex_);
    if (!connection_->healthy()) connection_->reconnect();
    try {
      return work(*connection_);
    } catch (const PgError& e) {
      if (!idempotent || !e.connectionLost()) throw;
      connection_->reconnect();
      return work(*connection_);
    }
  } catch (const std::exception& e) {
    return unavailableFrom(doing, e);
  }
}

core::Result<StoredMessage> PostgresReader::fetch(MessageId id) {
  return withConnection<StoredMessage>(
      "message store: cannot read message " + std::to_string(id), true,
      [&](PgConnection& connection) -> core::Result<StoredMessage> {
        PgParams params;
        params.int64(id);
        const auto row = connection.queryPrepared("fetch", params);
        if (row.rows() == 0) return core::Status::notFound("message store: no message " + std::to_string(id));
        const auto state = parseState(row.bytes(0, 3));
        if (!state) {
          return core::Status::internal("message store: message " + std::to_string(id) +
                                        " has an unknown state");
        }
        StoredMessage message;
        message.id = id;
        message.feed = row.bytes(0, 0);
        message.controlId = row.bytes(0, 1);
        message.receivedAt = fromMicros(row.int64(0, 2));
        message.state = *state;
        message.rawSize = static_cast<std::size_t>(row.int64(0, 4));
        message.ack = row.optionalBytes(0, 5);
        message.ackedAt = optionalTime(row.optionalInt64(0, 6));
        message.outcome = row.bytes(0, 7);
        message.finishedAt = optionalTime(row.optionalInt64(0, 8));
        message.purgedAt = optionalTime(row.optionalInt64(0, 9));
        message.duplicatesReceived = static_cast<std::uint32_t>(row.int64(0, 10));
        message.raw = row.optionalBytes(0, 11);
        return message;
      });
}

core::Result<std::vector<MessageId>> PostgresReader::listUnfinished() {
  return withConnection<std::vector<MessageId>>(
      "message store: cannot list unfinished messages", true,
      [&](PgConnection& connection) -> core::Result<std::vector<MessageId>> {
        const auto rows = connection.queryPrepared("list_unfinished", {});
        std::vector<MessageId> ids;
        ids.reserve(static_cast<std::size_t>(rows.rows()));
        for (int row = 0; row < rows.rows(); ++row) ids.push_back(rows.int64(row, 0));
        return ids;
      });
}

core::Result<std::vector<MessageId>> PostgresReader::claimUnfinished(const std::string& owner,
                                                                     std::optional<std::int64_t> now,
                                                                     std::chrono::microseconds lease,
                                                                     std::size_t limit) {
  return withConnection<std::vector<MessageId>>(
      "message store: cannot claim unfinished messages", false,
      [&](PgConnection& connection) -> core::Result<std::vector<MessageId>> {
        return claims_.claim(connection, owner, now, lease, limit);
      });
}

core::Result<std::size_t> PostgresReader::renewClaims(const std::string& owner,
                                                      std::optional<std::int64_t> now,
                                                      std::chrono::microseconds lease) {
  return withConnection<std::size_t>("message store: cannot renew claims", false,
                                     [&](PgConnection& connection) -> core::Result<std::size_t> {
                                       return claims_.renew(connection, owner, now, lease);
                                     });
}

core::Result<std::size_t> PostgresReader::releaseClaims(const std::string& owner) {
  return withConnection<std::size_t>("message store: cannot release claims", false,
                                     [&](PgConnection& connection) -> core::Result<std::size_t> {
                                       return claims_.release(connection, owner);
                                     });
}

}  // namespace cpis::store
