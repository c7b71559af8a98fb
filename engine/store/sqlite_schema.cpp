#include "engine/store/sqlite_schema.h"

#include <algorithm>
#include <iterator>
#include <span>
#include <string>
#include <string_view>

#include <Poco/Data/Statement.h>
#include <Poco/Data/Transaction.h>
#include <Poco/Logger.h>
#include <sqlite3.h>

#include "engine/store/store_writes.h"

namespace cpis::store {

using namespace Poco::Data::Keywords;

namespace {

// Version 1. Times are microseconds since 1970-01-01 UTC. Raw bytes live in their own table
// so that the purge deletes whole rows and state updates rewrite only the small metadata row,
// never a large message.
constexpr std::string_view kVersion1[]{
    R"(CREATE TABLE message (
             id INTEGER PRIMARY KEY,
             feed TEXT NOT NULL,
             control_id TEXT NOT NULL,
             received_at INTEGER NOT NULL,
             state TEXT NOT NULL DEFAULT 'received'
               CHECK (state IN ('received', 'processed', 'rejected', 'failed')),
             raw_size INTEGER NOT NULL,
             ack BLOB,
             acked_at INTEGER,
             outcome TEXT NOT NULL DEFAULT '',
             finished_at INTEGER,
             purged_at INTEGER,
             duplicates_received INTEGER NOT NULL DEFAULT 0))",
    R"(CREATE TABLE message_raw (
             id INTEGER PRIMARY KEY REFERENCES message (id),
             raw BLOB NOT NULL))",
    // duplicate detection: (feed, MSH-10) within the window (dropped in version 3)
    "CREATE INDEX message_by_control_id ON message (feed, control_id, received_at)",
    // recovery on start; partial, so it holds only the messages in flight
    "CREATE INDEX message_unfinished ON message (id) WHERE state = 'received'",
    // retention; partial, so purged rows leave it
    "CREATE INDEX message_purgeable ON message (received_at) WHERE purged_at IS NULL",
};

// Version 2: the transactional outbox (outbox.h). Notifications are written by the same
// transactions as the message states that cause them. (sink, idempotency_key) is unique: a
// second write of a key is ignored. `claimed` marks the entries a dispatcher thread works on
// (one process per database file, so a flag; cleared when the store opens).
constexpr std::string_view kVersion2[]{
    R"(CREATE TABLE outbox (
             id INTEGER PRIMARY KEY,
             message_id INTEGER,
             sink TEXT NOT NULL,
             kind TEXT NOT NULL,
             idempotency_key TEXT NOT NULL,
             order_key TEXT NOT NULL DEFAULT '',
             payload BLOB NOT NULL,
             state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
             attempts INTEGER NOT NULL DEFAULT 0,
             created_at INTEGER NOT NULL,
             next_attempt_at INTEGER NOT NULL,
             deadline INTEGER,
             finished_at INTEGER,
             last_error TEXT NOT NULL DEFAULT '',
             claimed INTEGER NOT NULL DEFAULT 0,
             UNIQUE (sink, idempotency_key)))",
    // claimDue and nextDue
    "CREATE INDEX outbox_due ON outbox (sink, state, next_attempt_at)",
    // order keys: the oldest pending entry of a key; partial, so delivered entries leave it
    "CREATE INDEX outbox_order ON outbox (sink, order_key, id) WHERE state = 'pending' AND order_key <> ''",
};

// Version 3: duplicates are found by the writer's in-memory set of the window's messages
// (recent_control_ids.h), filled from the table when the writer starts; the index on
// (feed, control_id) cost a WAL page per message at every commit.
constexpr std::string_view kVersion3[]{
    "DROP INDEX message_by_control_id",
};

// Version 4: a claim takes the oldest due entries of a sink (ORDER BY id LIMIT n). Through
// outbox_due it read and sorted every pending entry of the sink first, so a backlog made each
// claim slower; this index holds only pending entries, in id order, and the claim stops after n.
constexpr std::string_view kVersion4[]{
    "CREATE INDEX outbox_pending ON outbox (sink, id) WHERE state = 'pending'",
};

// Version 5: outbox_due served claims and the next-due time until outbox_pending did (version
// 4), and was rewritten at every state change and retry. Dead entries, which cpis-admin lists
// and replays, get a partial index of their own: entries enter it only when dead-lettered.
constexpr std::string_view kVersion5[]{
    "DROP INDEX outbox_due",
    "CREATE INDEX outbox_dead ON outbox (sink, id) WHERE state = 'dead'",
};

// Version 6: the retention purge clears the payloads of finished notifications oldest first
// (ORDER BY finished_at LIMIT n, a chunk at a time). Without an index each chunk read every
// entry of the outbox; this one holds only finished entries that still have a payload, so an
// entry enters it when delivered or dead-lettered and leaves it when its payload is cleared.
constexpr std::string_view kVersion6[]{
    "CREATE INDEX outbox_retained ON outbox (finished_at)"
    " WHERE state IN ('delivered', 'dead') AND length(payload) > 0",
};

// Version 7: claims and the next-due time walk the entries that wait for their time, earliest
// first, and stop at the first one (or n) they can take. Through outbox_pending (id order) they
// read every pending entry of the sink whenever none was due, as when a sink is down and its
// whole backlog backs off: 59 ms a claim with 200,000 entries, on the writer's thread.
// Entries handed to the dispatcher as they are written are written claimed and never enter it.
// It takes outbox_pending's place: no query reads that one any more, and every notification
// wrote an entry of it.
constexpr std::string_view kVersion7[]{
    "CREATE INDEX outbox_waiting ON outbox (sink, next_attempt_at) WHERE state = 'pending' AND claimed = 0",
    "DROP INDEX outbox_pending",
};

// Version 8: what the engine remembers about attendances (MemoryRow), so that a restart does not
// forget which attendances were checked: one row per (feed, key, kind), replaced as the entry
// changes, found by key (the rows of one attendance share their time); updated_at orders the
// load and serves the purge.
constexpr std::string_view kVersion8[]{
    R"(CREATE TABLE attendance_memory (
             kind TEXT NOT NULL,
             feed TEXT NOT NULL,
             key BLOB NOT NULL,
             body BLOB NOT NULL,
             updated_at INTEGER NOT NULL
           ))",
    // A rowid table with the key in an index: an outcome's body (a few KB with 25 prior
    // accesses) stays on its table page, where WITHOUT ROWID spilled it to overflow pages.
    "CREATE UNIQUE INDEX attendance_memory_by_key ON attendance_memory (feed, key, kind)",
    "CREATE INDEX attendance_memory_by_time ON attendance_memory (updated_at)",
};

// kMigrations[n] takes a database from schema version n to n + 1.
constexpr std::span<const std::string_view> kMigrations[]{kVersion1, kVersion2, kVersion3, kVersion4,
                                                          kVersion5, kVersion6, kVersion7, kVersion8};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

}  // namespace

namespace {
// Entries that can be the next claimed: pending, not held, and for an order key the oldest
// pending entry while no other of the key is held.
constexpr std::string_view kClaimable =
    " FROM outbox o WHERE o.sink = ?1 AND o.state = 'pending' AND o.claimed = 0"
    " AND (o.order_key = '' OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.sink = o.sink"
    " AND p.order_key = o.order_key AND p.order_key <> '' AND p.state = 'pending' AND p.id <> o.id"
    " AND (p.id < o.id OR p.claimed <> 0)))";
}  // namespace

const std::string kSqliteClaimDue = "SELECT " + std::string(kSqliteOutboxColumns) + std::string(kClaimable) +
                                    " AND o.next_attempt_at <= ?2 ORDER BY o.next_attempt_at, o.id LIMIT ?3";
// The first in that order: MIN() would read them all.
const std::string kSqliteNextDue =
    "SELECT o.next_attempt_at" + std::string(kClaimable) + " ORDER BY o.next_attempt_at LIMIT 1";

OutboxEntry sqliteOutboxEntry(const SqliteStatement::Run& row) {
  const auto optionalTime = [&row](int column) -> std::optional<TimePoint> {
    if (row.isNull(column)) return std::nullopt;
    return fromDbTime(row.int64(column));
  };
  OutboxEntry entry;
  entry.id = row.int64(0);
  if (!row.isNull(1)) entry.messageId = row.int64(1);
  entry.sink = row.text(2);
  entry.kind = row.text(3);
  entry.idempotencyKey = row.text(4);
  entry.orderKey = row.text(5);
  entry.payload = row.blob(6).value_or(std::string());
  const auto state = parseNotificationState(row.text(7));
  if (!state) throw SqliteError(SQLITE_CORRUPT);
  entry.state = *state;
  entry.attempts = static_cast<std::uint32_t>(row.int64(8));
  entry.createdAt = fromDbTime(row.int64(9));
  entry.nextAttemptAt = fromDbTime(row.int64(10));
  entry.deadline = optionalTime(11);
  entry.finishedAt = optionalTime(12);
  entry.lastError = row.text(13);
  return entry;
}

core::Status configureSqliteConnection(Poco::Data::Session& session, SqliteRole role,
                                       std::uint64_t maxDatabaseBytes) {
  // Only another process can hold the write lock (one writer connection per store here):
  // wait a while for it rather than fail at once.
  session << "PRAGMA busy_timeout = 5000", now;
  if (role == SqliteRole::Reader) {
    session << "PRAGMA query_only = ON", now;
    return core::Status::ok();
  }
  if (role == SqliteRole::Checkpointer) {
    // A checkpoint syncs the database file before the WAL frames it copied may be overwritten.
    session << "PRAGMA synchronous = FULL", now;
    return core::Status::ok();
  }
  std::string journalMode;
  session << "PRAGMA journal_mode = WAL", into(journalMode), now;
  if (journalMode != "wal") {
    return core::Status::unavailable("message store: the database cannot use WAL mode (journal mode " +
                                     journalMode + ")");
  }
  // WAL + FULL syncs the log at every commit: a returned commit survives power loss.
  session << "PRAGMA synchronous = FULL", now;
  // Purged content is overwritten, not left readable in free pages: it is patient data.
  session << "PRAGMA secure_delete = ON", now;
  if (maxDatabaseBytes > 0) {
    // A full store refuses writes (the sender retries later) rather than filling the disk
    // that the rest of the system logs to.
    Poco::Int64 pageSize = 0;
    session << "PRAGMA page_size", into(pageSize), now;
    const auto pages = std::max<std::uint64_t>(maxDatabaseBytes / static_cast<std::uint64_t>(pageSize), 1);
    session << "PRAGMA max_page_count = " + std::to_string(pages), now;
  }
  return core::Status::ok();
}

core::Status migrateSqliteSchema(Poco::Data::Session& session, int toVersion) {
  if (toVersion < 1 || toVersion > kSqliteSchemaVersion) {
    return core::Status::invalidArgument("message store: no schema version " + std::to_string(toVersion));
  }
  Poco::Data::Transaction transaction(session);
  session << "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", now;
  int version = 0;
  session << "SELECT COALESCE(MAX(version), 0) FROM schema_version", into(version), now;
  if (version > kSqliteSchemaVersion) {
    return core::Status::invalidArgument("message store: database schema version " + std::to_string(version) +
                                         " is newer than this build's (" +
                                         std::to_string(kSqliteSchemaVersion) + ")");
  }
  if (version >= toVersion) return core::Status::ok();
  for (int step = version; step < toVersion; ++step) {
    for (const auto statement : kMigrations[static_cast<std::size_t>(step)]) {
      session << std::string(statement), now;
    }
  }
  session << "DELETE FROM schema_version", now;
  session << "INSERT INTO schema_version (version) VALUES (?)", bind(toVersion), now;
  transaction.commit();
  Poco::Logger::get("cpis.store")
      .information("message store schema migrated from version %d to %d", version, toVersion);
  return core::Status::ok();
}

}  // namespace cpis::store
