#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cpis::cli {

// Runs `cpis-admin ARGS...` (args exclude the program name): looks into the store a
// configuration names (SQLite or PostgreSQL) beside running engines, through the MessageStore
// and Outbox interfaces:
//
//   cpis-admin --config FILE [--json] COMMAND
//     notifications list [--state pending|delivered|dead] [--sink S] [--kind K] [--limit N]
//     notifications show ID [--show-payload]
//     notifications replay ID | --all-dead [--sink S]
//     deferred list [--state pending|delivered|dead] [--limit N]
//     messages list --state received|failed|rejected|processed [--limit N]
//     messages show ID [--show-content]
//     summary
//
// Payloads, raw messages and ACKs can hold patient data: they are printed only when asked for
// (--show-payload, --show-content). Output is a table for a person, or JSON with --json.
//
// An SQLite store is opened for administration (SqliteStoreOptions::administration): without
// the engine's lock file and without creating or migrating anything, so it works while the
// engine runs. A PostgreSQL store is opened as an instance of its own (never the configured
// instance name, whose claims would be released).
int runAdminTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

inline constexpr int kAdminOk = 0;
// The command ran and failed: the store could not be opened or read, an unknown id, a replay
// the store refused.
inline constexpr int kAdminFailed = 1;
// The command could not run as given: bad arguments, an unreadable or invalid configuration.
inline constexpr int kAdminUsage = 2;

}  // namespace cpis::cli
