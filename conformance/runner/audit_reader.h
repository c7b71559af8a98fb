#pragma once

// The engine's audit trail as the runner reads it: the SQLite store's audit table (one row per
// CP-IS lookup), opened read-only. Rows are written by the engine's audit queue shortly after
// the lookup, so callers wait for them (bounded).

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct sqlite3;

namespace cpis::conformance {

using AuditRecord = std::map<std::string, std::string>;  // column -> value as text

class AuditReader {
 public:
  // Throws std::runtime_error when the file cannot be opened or has no audit table.
  explicit AuditReader(const std::string& path);
  ~AuditReader();
  AuditReader(const AuditReader&) = delete;
  AuditReader& operator=(const AuditReader&) = delete;

  // The audit table's rows for this NHS number whose `at` (microseconds since 1970, UTC) is at
  // least `sinceMicros`, in the order written. Thread-safe.
  std::vector<AuditRecord> queries(const std::string& nhsNumber, std::int64_t sinceMicros) const;

 private:
  mutable std::mutex mutex_;
  sqlite3* db_ = nullptr;
};

}  // namespace cpis::conformance
