#include "engine/store/postgres_reader.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string_view>
#include <utility>

#include "engine/store/exception_status.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

namespace {

constexpr std::string_view kFetch =
    "SELECT m.feed, m.control_id, m.received_at, m.state, m.raw_size, m.ack, m.acked_at, m.outcome,"
    " m.finished_at, m.purged_at, m.duplicates_received::bigint, r.raw"
    " FROM message m LEFT JOIN message_raw r ON r.id = m.id WHERE m.id = $1::bigint";

constexpr std::string_view kListUnfinished = "SELECT id FROM message WHERE state = 'received' ORDER BY id";

// The outbox columns of a whole entry, in the order outboxEntry() reads them.
std::string outboxColumns(std::string_view table) {
  const std::string t = std::string(table) + ".";
  return t + "id, " + t + "message_id, " + t + "sink, " + t + "kind, " + t + "idempotency_key, " + t +
         "order_key, " + t + "payload, " + t + "state, " + t + "attempts::bigint, " + t + "created_at, " + t +
         "next_attempt_at, " + t + "deadline, " + t + "finished_at, " + t + "last_error";
}

}  // namespace

// Due at $2 (the caller's time; NULL: the server's clock), held by no live instance, and for an
// order key the oldest pending entry while no other of the key is held; claimed for $3 until
// now + $4, at most $5, passing over rows another instance is claiming or finishing at this
// moment. Leases run on the store's clock, $6 (NULL: the server's), as the messages' do.
// A claim is a lease: committed without waiting for the WAL flush (synchronous_commit off for
// this statement's own transaction, through set_config in the clock), since a claim the
// database loses in a crash only makes the entry claimable again, and a second delivery is
// within the at-least-once promise (the receiver has the idempotency key). It spares a WAL
// flush per claim. The longest due first, in outbox_waiting's order (version 6): the walk stops
// after $5 rows and never reads the entries not yet due (a backlog backing off while its sink
// is down).
const std::string kPostgresClaimDue =
    "WITH clock AS (SELECT COALESCE($2::bigint, " + std::string(kPgNowMicros) +
    ") AS due, COALESCE($6::bigint, " + std::string(kPgNowMicros) +
    ") AS now, set_config('synchronous_commit', 'off', true) AS lease),"
    " picked AS (SELECT o.id FROM outbox o, clock"
    "   WHERE o.sink = $1::text AND o.state = 'pending' AND o.next_attempt_at <= clock.due"
    "     AND (o.claimed_by IS NULL OR o.claimed_until < clock.now)"
    "     AND (o.order_key = ''::bytea OR NOT EXISTS (SELECT 1 FROM outbox p"
    "       WHERE p.sink = o.sink AND p.order_key = o.order_key AND p.order_key <> ''::bytea"
    "         AND p.state = 'pending' AND p.id <> o.id"
    "         AND (p.id < o.id OR (p.claimed_by IS NOT NULL AND p.claimed_until >= clock.now))))"
    "   ORDER BY o.next_attempt_at, o.id LIMIT $5::bigint FOR UPDATE OF o SKIP LOCKED)"
    " UPDATE outbox SET claimed_by = $3::text, claimed_until = clock.now + $4::bigint FROM clock"
    " WHERE outbox.id IN (SELECT id FROM picked) RETURNING " +
    outboxColumns("outbox");

// When the next entry may become claimable: a held entry counts from when its lease runs out,
// an entry queued behind an older one of its order key not at all. A held entry's time is at
// least its next_attempt_at, so none later than the first unheld entry's can be the earliest:
// the walk through outbox_waiting stops there instead of reading every pending entry (a backlog
// backing off while its sink is down: about half a second a call with 200,000 entries).
const std::string kPostgresNextDue = [] {
  const std::string candidates =
      " FROM outbox o WHERE o.sink = $1::text AND o.state = 'pending'"
      "   AND (o.order_key = ''::bytea OR NOT EXISTS (SELECT 1 FROM outbox p"
      "     WHERE p.sink = o.sink AND p.order_key = o.order_key AND p.order_key <> ''::bytea"
      "       AND p.state = 'pending' AND p.id < o.id))";
  return "WITH first AS (SELECT o.next_attempt_at AS at" + candidates +
         "   AND o.claimed_by IS NULL ORDER BY o.next_attempt_at, o.id LIMIT 1)"
         " SELECT MIN(GREATEST(o.next_attempt_at, COALESCE(o.claimed_until, o.next_attempt_at)))" +
         candidates + "   AND o.next_attempt_at <= COALESCE((SELECT at FROM first), 9223372036854775807)";
}();

namespace {

const std::string kOutboxEntry = "SELECT " + outboxColumns("outbox") + " FROM outbox WHERE id = $1::bigint";

const std::string kOutboxEntryByKey =
    "SELECT " + outboxColumns("outbox") + " FROM outbox WHERE sink = $1::text AND idempotency_key = $2::bytea";

const std::string kListOutbox =
    "SELECT " + outboxColumns("outbox") +
    " FROM outbox WHERE ($1::text IS NULL OR state = $1::text)"
    " AND ($2::text IS NULL OR sink = $2::text) AND ($3::text IS NULL OR kind = $3::text)"
    " AND ($5::bigint IS NULL OR message_id = $5::bigint) ORDER BY id DESC LIMIT $4::bigint";

constexpr std::string_view kOutboxCounts =
    "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'delivered'),"
    " count(*) FILTER (WHERE state = 'dead') FROM outbox WHERE $1::text IS NULL OR sink = $1::text";

std::optional<TimePoint> optionalTime(const std::optional<std::int64_t>& micros) {
  if (!micros) return std::nullopt;
  return fromPgMicros(*micros);
}

OutboxEntry outboxEntryAt(const PgResult& rows, int row) {
  OutboxEntry entry;
  entry.id = rows.int64(row, 0);
  entry.messageId = rows.optionalInt64(row, 1);
  entry.sink = rows.bytes(row, 2);
  entry.kind = rows.bytes(row, 3);
  entry.idempotencyKey = rows.bytes(row, 4);
  entry.orderKey = rows.bytes(row, 5);
  entry.payload = rows.bytes(row, 6);
  const auto state = parseNotificationState(rows.bytes(row, 7));
  if (!state) throw PgError("XX001");  // data_corrupted
  entry.state = *state;
  entry.attempts = static_cast<std::uint32_t>(rows.int64(row, 8));
  entry.createdAt = fromPgMicros(rows.int64(row, 9));
  entry.nextAttemptAt = fromPgMicros(rows.int64(row, 10));
  entry.deadline = optionalTime(rows.optionalInt64(row, 11));
  entry.finishedAt = optionalTime(rows.optionalInt64(row, 12));
  entry.lastError = rows.bytes(row, 13);
  return entry;
}

std::vector<OutboxEntry> outboxEntries(const PgResult& rows) {
  std::vector<OutboxEntry> entries;
  entries.reserve(static_cast<std::size_t>(rows.rows()));
  for (int row = 0; row < rows.rows(); ++row) entries.push_back(outboxEntryAt(rows, row));
  return entries;
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
  connection_->prepare("claim_due", kPostgresClaimDue);
  connection_->prepare("next_due", kPostgresNextDue);
  connection_->prepare("outbox_entry", kOutboxEntry);
  connection_->prepare("list_outbox", kListOutbox);
  connection_->prepare("outbox_by_key", kOutboxEntryByKey);
  connection_->prepare("outbox_counts", kOutboxCounts);
  // The attendance memory (schema version 7); the writer writes it.
  connection_->prepare("memory_load",
                       "SELECT kind, feed, key, body, updated_at FROM attendance_memory"
                       " WHERE updated_at >= COALESCE($1::bigint, 0) ORDER BY updated_at");
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
        message.receivedAt = fromPgMicros(row.int64(0, 2));
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

core::Result<std::vector<MemoryRow>> PostgresReader::loadMemory(TimePoint since) {
  return withConnection<std::vector<MemoryRow>>(
      "message store: cannot read the attendance memory", true,
      [&](PgConnection& connection) -> core::Result<std::vector<MemoryRow>> {
        PgParams params;
        params.optionalInt64(pgTime(since));
        const auto found = connection.queryPrepared("memory_load", params);
        std::vector<MemoryRow> rows;
        rows.reserve(static_cast<std::size_t>(found.rows()));
        for (int row = 0; row < found.rows(); ++row) {
          rows.push_back(MemoryRow{found.bytes(row, 0), found.bytes(row, 1), found.bytes(row, 2),
                                   found.bytes(row, 3), fromPgMicros(found.int64(row, 4))});
        }
        return rows;
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

core::Result<std::vector<OutboxEntry>> PostgresReader::claimDue(
    std::string_view sink, const std::string& owner, std::optional<std::int64_t> due,
    std::optional<std::int64_t> now, std::chrono::microseconds lease, std::size_t limit) {
  return withConnection<std::vector<OutboxEntry>>(
      "message store: cannot claim notifications", false,
      [&](PgConnection& connection) -> core::Result<std::vector<OutboxEntry>> {
        const std::string sinkText = pgText(sink);
        PgParams params;
        params.text(sinkText)
            .optionalInt64(due)
            .text(owner)
            .int64(lease.count())
            .int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)))
            .optionalInt64(now);
        auto entries = outboxEntries(connection.queryPrepared("claim_due", params));
        // RETURNING promises no order: the claim's own, the longest due first
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
          return a.nextAttemptAt != b.nextAttemptAt ? a.nextAttemptAt < b.nextAttemptAt : a.id < b.id;
        });
        return entries;
      });
}

core::Result<std::size_t> PostgresReader::renewOutboxClaims(const std::string& owner,
                                                            std::optional<std::int64_t> now,
                                                            std::chrono::microseconds lease,
                                                            std::span<const std::int64_t> ids) {
  return withConnection<std::size_t>("message store: cannot renew the claims of notifications", false,
                                     [&](PgConnection& connection) -> core::Result<std::size_t> {
                                       return outboxClaims_.renewSome(connection, owner, now, lease, ids);
                                     });
}

core::Result<std::size_t> PostgresReader::releaseOutboxClaims(const std::string& owner) {
  return withConnection<std::size_t>("message store: cannot release the claims of notifications", false,
                                     [&](PgConnection& connection) -> core::Result<std::size_t> {
                                       return outboxClaims_.release(connection, owner);
                                     });
}

core::Result<std::size_t> PostgresReader::releaseOutboxClaims(const std::string& owner,
                                                              std::span<const std::int64_t> ids) {
  return withConnection<std::size_t>("message store: cannot release the claims of notifications", false,
                                     [&](PgConnection& connection) -> core::Result<std::size_t> {
                                       return outboxClaims_.releaseSome(connection, owner, ids);
                                     });
}

core::Result<std::optional<TimePoint>> PostgresReader::nextDue(std::string_view sink) {
  return withConnection<std::optional<TimePoint>>(
      "message store: cannot read when notifications are due", true,
      [&](PgConnection& connection) -> core::Result<std::optional<TimePoint>> {
        const std::string sinkText = pgText(sink);
        PgParams params;
        params.text(sinkText);
        return optionalTime(connection.queryPrepared("next_due", params).optionalInt64(0, 0));
      });
}

core::Result<OutboxEntry> PostgresReader::outboxEntry(NotificationId id) {
  return withConnection<OutboxEntry>(
      "message store: cannot read notification " + std::to_string(id), true,
      [&](PgConnection& connection) -> core::Result<OutboxEntry> {
        PgParams params;
        params.int64(id);
        const auto rows = connection.queryPrepared("outbox_entry", params);
        if (rows.rows() == 0) {
          return core::Status::notFound("message store: no notification " + std::to_string(id));
        }
        return outboxEntryAt(rows, 0);
      });
}

core::Result<std::optional<OutboxEntry>> PostgresReader::outboxEntry(std::string_view sink,
                                                                     std::string_view idempotencyKey) {
  return withConnection<std::optional<OutboxEntry>>(
      "message store: cannot read a notification of sink " + std::string(sink), true,
      [&](PgConnection& connection) -> core::Result<std::optional<OutboxEntry>> {
        const std::string sinkText = pgText(sink);
        PgParams params;
        params.text(sinkText);
        params.bytes(idempotencyKey);  // exact bytes, as the writer stores it
        const auto rows = connection.queryPrepared("outbox_by_key", params);
        if (rows.rows() == 0) return std::optional<OutboxEntry>();
        return std::optional<OutboxEntry>(outboxEntryAt(rows, 0));
      });
}

core::Result<std::vector<OutboxEntry>> PostgresReader::listOutbox(const OutboxFilter& filter) {
  return withConnection<std::vector<OutboxEntry>>(
      "message store: cannot list notifications", true,
      [&](PgConnection& connection) -> core::Result<std::vector<OutboxEntry>> {
        const std::string sink = filter.sink ? pgText(*filter.sink) : std::string();
        const std::string kind = filter.kind ? pgText(*filter.kind) : std::string();
        PgParams params;
        if (filter.state) {
          params.text(toString(*filter.state));
        } else {
          params.null();
        }
        if (filter.sink) {
          params.text(sink);
        } else {
          params.null();
        }
        if (filter.kind) {
          params.text(kind);
        } else {
          params.null();
        }
        params.int64(static_cast<std::int64_t>(std::min<std::size_t>(filter.limit, INT64_MAX)));
        params.optionalInt64(filter.messageId ? std::optional<std::int64_t>(*filter.messageId)
                                              : std::nullopt);
        return outboxEntries(connection.queryPrepared("list_outbox", params));
      });
}

core::Result<OutboxCounts> PostgresReader::outboxCounts(std::optional<std::string_view> sink) {
  return withConnection<OutboxCounts>(
      "message store: cannot count notifications", true,
      [&](PgConnection& connection) -> core::Result<OutboxCounts> {
        const std::string sinkText = sink ? pgText(*sink) : std::string();
        PgParams params;
        if (sink) {
          params.text(sinkText);
        } else {
          params.null();
        }
        const auto row = connection.queryPrepared("outbox_counts", params);
        return OutboxCounts{static_cast<std::uint64_t>(row.int64(0, 0)),
                            static_cast<std::uint64_t>(row.int64(0, 1)),
                            static_cast<std::uint64_t>(row.int64(0, 2))};
      });
}

}  // namespace cpis::store
