#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace cpis::store {

// A failed SQLite call. what() is SQLite's text for the result code ("database or disk is
// full"), which never holds data, unlike sqlite3_errmsg().
class SqliteError : public std::runtime_error {
 public:
  explicit SqliteError(int code);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// A statement compiled once and run many times. The writer's hot path uses these rather than
// Poco::Data statements because POCO 1.11's SQLite connector finalizes and compiles a
// statement again on every execute(), which more than doubled the writer's CPU per persist.
// Not thread-safe: it belongs to the connection's one user.
class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);  // throws SqliteError
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // One run: bind, step, read columns. Views bound must stay valid until the run ends, when
  // the statement is reset (so no read stays open across a commit).
  class Run {
   public:
    explicit Run(SqliteStatement& statement) : statement_(statement) {}
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    ~Run();

    Run& bind(int index, std::int64_t value);
    Run& bindText(int index, std::string_view text);
    Run& bindBlob(int index, std::string_view bytes);
    // True when a row is ready, false when the statement is done. Throws SqliteError.
    bool step();
    bool isNull(int column) const;
    std::int64_t int64(int column) const;
    std::string text(int column) const;
    std::optional<std::string> blob(int column) const;  // empty for NULL
    // Rows inserted, updated or deleted by this run (after the last step).
    int changes() const;

   private:
    SqliteStatement& statement_;
  };

  Run run() { return Run(*this); }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace cpis::store
