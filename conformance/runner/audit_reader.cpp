#include "conformance/runner/audit_reader.h"

#include <stdexcept>

#include <sqlite3.h>

namespace cpis::conformance {

AuditReader::AuditReader(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open the audit store " + path + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  queries("0000000000", 0);  // the table is there
}

AuditReader::~AuditReader() { sqlite3_close(db_); }

std::vector<AuditRecord> AuditReader::queries(const std::string& nhsNumber, std::int64_t sinceMicros) const {
  std::lock_guard lock(mutex_);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT * FROM audit WHERE nhs_number = ?1 AND at >= ?2 ORDER BY id", -1, &statement,
                         nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("reading the audit table: ") + sqlite3_errmsg(db_));
  }
  sqlite3_bind_text(statement, 1, nhsNumber.data(), static_cast<int>(nhsNumber.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(statement, 2, sinceMicros);
  std::vector<AuditRecord> rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    AuditRecord row;
    for (int i = 0; i < sqlite3_column_count(statement); ++i) {
      const auto* text = sqlite3_column_text(statement, i);
      row[sqlite3_column_name(statement, i)] = text ? reinterpret_cast<const char*>(text) : "";
    }
    rows.push_back(std::move(row));
  }
  const std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
  sqlite3_finalize(statement);
  if (!error.empty()) throw std::runtime_error("reading the audit table: " + error);
  return rows;
}

}  // namespace cpis::conformance
