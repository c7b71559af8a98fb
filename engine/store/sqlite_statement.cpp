#include "engine/store/sqlite_statement.h"

#include <sqlite3.h>

namespace cpis::store {

namespace {

void check(int code) {
  if (code != SQLITE_OK) throw SqliteError(code);
}

}  // namespace

SqliteError::SqliteError(int code)
    : std::runtime_error("SQLite " + std::to_string(code) + ": " + sqlite3_errstr(code)), code_(code) {}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  check(sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &statement_, nullptr));
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(statement_);
}

SqliteStatement::Run::~Run() {
  // The result of reset repeats the step's error, which step() has already reported.
  sqlite3_reset(statement_.statement_);
  sqlite3_clear_bindings(statement_.statement_);
}

SqliteStatement::Run& SqliteStatement::Run::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(statement_.statement_, index, value));
  return *this;
}

SqliteStatement::Run& SqliteStatement::Run::bindText(int index, std::string_view text) {
  // A null pointer (an empty view) would bind NULL rather than empty text.
  static constexpr char kEmpty = 0;
  check(sqlite3_bind_text64(statement_.statement_, index, text.empty() ? &kEmpty : text.data(), text.size(),
                            SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

SqliteStatement::Run& SqliteStatement::Run::bindBlob(int index, std::string_view bytes) {
  // A null pointer would bind NULL rather than an empty BLOB.
  static constexpr char kEmpty = 0;
  check(sqlite3_bind_blob64(statement_.statement_, index, bytes.empty() ? &kEmpty : bytes.data(),
                            bytes.size(), SQLITE_STATIC));
  return *this;
}

bool SqliteStatement::Run::step() {
  const int code = sqlite3_step(statement_.statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  throw SqliteError(sqlite3_extended_errcode(statement_.db_));
}

bool SqliteStatement::Run::isNull(int column) const {
  return sqlite3_column_type(statement_.statement_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::Run::int64(int column) const {
  return sqlite3_column_int64(statement_.statement_, column);
}

std::string SqliteStatement::Run::text(int column) const {
  const auto* bytes = sqlite3_column_text(statement_.statement_, column);
  const int size = sqlite3_column_bytes(statement_.statement_, column);
  return bytes == nullptr ? std::string()
                          : std::string(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
}

std::optional<std::string> SqliteStatement::Run::blob(int column) const {
  if (sqlite3_column_type(statement_.statement_, column) == SQLITE_NULL) return std::nullopt;
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_.statement_, column));
  const int size = sqlite3_column_bytes(statement_.statement_, column);
  return bytes == nullptr ? std::string() : std::string(bytes, static_cast<std::size_t>(size));
}

int SqliteStatement::Run::changes() const {
  return sqlite3_changes(statement_.db_);
}

}  // namespace cpis::store
