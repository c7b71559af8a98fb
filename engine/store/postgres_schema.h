#pragma once

#include "engine/core/status.h"

namespace cpis::store {

class PgConnection;

// The schema this build reads and writes; each step of postgres_schema.cpp's migration list
// raises it by one. Kept apart from SQLite's version: the two databases migrate on their own.
inline constexpr int kPostgresSchemaVersion = 7;

// Creates the schema in the connection's first search_path schema, or upgrades an older one,
// in one transaction under an advisory lock, so instances starting together migrate once. A
// database at the current version is only read (the user needs no CREATE privilege then); one
// written by a newer build is refused (InvalidArgument). `toVersion` below the current one
// builds an older schema (for the tests of the migration). Throws PgError.
core::Status migratePostgresSchema(PgConnection& connection, int toVersion = kPostgresSchemaVersion);

}  // namespace cpis::store
