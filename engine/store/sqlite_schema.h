#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <Poco/Data/Session.h>
#include <Poco/Types.h>

#include "engine/core/status.h"
#include "engine/store/message_store.h"
#include "engine/store/sqlite_statement.h"

namespace cpis::store {

// The schema this build reads and writes; each step of sqlite_schema.cpp's migration list
// raises it by one.
inline constexpr int kSqliteSchemaVersion = 8;

// Times are stored as microseconds since 1970-01-01 UTC.
inline Poco::Int64 toDbTime(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
}
inline TimePoint fromDbTime(Poco::Int64 micros) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

enum class SqliteRole : std::uint8_t { Writer, Reader, Checkpointer };

// Per-connection settings. The writer puts the database in WAL mode with synchronous=FULL, so
// a commit is on disk when it returns; the checkpointer syncs what it copies back before the
// WAL is reused; the reader is made query-only. maxDatabaseBytes caps
// the file (0: no cap). Throws Poco::Exception when the database fails; returns a Status for a
// database that cannot give those guarantees.
core::Status configureSqliteConnection(Poco::Data::Session& session, SqliteRole role,
                                       std::uint64_t maxDatabaseBytes);

// Creates the schema in a new database or upgrades an older one, in one transaction; a
// database written by a newer build is refused (InvalidArgument). `toVersion` below the
// current one builds an older schema (for the tests of the migration). Throws Poco::Exception.
core::Status migrateSqliteSchema(Poco::Data::Session& session, int toVersion = kSqliteSchemaVersion);

// The messages received since ?1 (database time), in the order they were stored: what the
// duplicate checks (the writer's, MessageAdmission) start from.
inline constexpr const char* kSqliteRecentMessages =
    "SELECT id, feed, control_id, received_at FROM message WHERE received_at >= ?1 ORDER BY id";

// The outbox columns every query that returns whole entries selects, in this order, and the
// entry a row of them makes.
inline constexpr std::string_view kSqliteOutboxColumns =
    "id, message_id, sink, kind, idempotency_key, order_key, payload, state, attempts, created_at,"
    " next_attempt_at, deadline, finished_at, last_error";
// Throws SqliteError for a state it does not know (SQLITE_CORRUPT).
OutboxEntry sqliteOutboxEntry(const SqliteStatement::Run& row);

// The outbox's claim (claimDue: up to ?3 entries of sink ?1 due at ?2) and its next-due time
// (nextDue: of sink ?1). Both walk outbox_waiting in its order, earliest next attempt first,
// and stop at the first entries that can be claimed: they never read those not yet due.
extern const std::string kSqliteClaimDue;
extern const std::string kSqliteNextDue;

}  // namespace cpis::store
