#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/store/message_store.h"

struct pg_conn;
struct pg_result;

namespace cpis::store {

// A failed libpq call or statement. what() is the SQLSTATE and its condition name ("SQLSTATE
// 40P01 deadlock_detected"), never the server's message text, which can quote data (a
// duplicate key's detail shows the key, a type error the value).
class PgError : public std::runtime_error {
 public:
  explicit PgError(std::string sqlState);
  const std::string& sqlState() const noexcept { return sqlState_; }
  // A deadlock or serialization failure: the whole transaction was rolled back, and running
  // it again may well succeed.
  bool transient() const noexcept;
  // The connection is gone (class 08, or the server shut down): nothing more on it.
  bool connectionLost() const noexcept;

 private:
  std::string sqlState_;
};

// The result of one statement, freed with it. Results are read in binary form: bigint as 8
// bytes big-endian, boolean as one byte, text and bytea as their bytes.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  explicit operator bool() const noexcept { return result_ != nullptr; }
  pg_result* get() const noexcept { return result_; }
  // The SQLSTATE of a failed statement; empty otherwise.
  std::string sqlState() const;
  // Throws PgError unless the statement succeeded (a command, or rows).
  void check() const;

  int rows() const;
  std::size_t affected() const;  // rows an INSERT, UPDATE or DELETE changed
  bool isNull(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  bool boolean(int row, int column) const;
  std::string bytes(int row, int column) const;  // text or bytea; "" for NULL
  std::optional<std::string> optionalBytes(int row, int column) const;
  std::optional<std::int64_t> optionalInt64(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

// Parameters for one statement, in libpq's binary form. Bound views must outlive the call that
// sends them; numbers are copied.
class PgParams {
 public:
  PgParams& int64(std::int64_t value);
  PgParams& optionalInt64(std::optional<std::int64_t> value);
  // Text must be valid UTF-8 without NUL (the database's encoding); see pgText().
  PgParams& text(std::string_view value);
  PgParams& bytes(std::string_view value);  // bytea: any bytes
  PgParams& null();

  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }

 private:
  std::deque<std::array<char, 8>> numbers_;  // a deque: growing it moves no element
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// `text` as PostgreSQL text accepts it: invalid UTF-8 sequences become U+FFFD and NUL bytes
// are dropped. For descriptive columns only (outcomes, names); exact bytes go to bytea.
std::string pgText(std::string_view text);

// Where the store's times come from: its clock option, or (when that is empty) the database
// server's clock, which every instance sharing the database then agrees on. The sentinel
// TimePoint{} asks for the server's clock; pgTime turns it into SQL NULL, and the statements
// read a time parameter as COALESCE($n, <server's clock>).
inline constexpr TimePoint kDatabaseClock{};
std::optional<std::int64_t> pgTime(TimePoint time);  // microseconds since 1970-01-01 UTC
TimePoint fromPgMicros(std::int64_t micros);         // the other way
// The server's clock in the same unit, for SQL text.
inline constexpr std::string_view kPgNowMicros = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint";

struct PgConnectSettings {
  std::string connection;                       // libpq's key=value or URI form, without the password
  std::string password;                         // added to the connection's parameters; empty: none
  std::chrono::seconds connectTimeout{10};      // unless the connection string sets one
  std::string applicationName = "cpis-engine";  // as pg_stat_activity shows it, unless set
};

// One connection through libpq. POCO 1.11's PostgreSQL connector is not used: it prepares and
// describes a statement again on every execute (about 310 µs an insert, against 47 µs for a
// statement libpq prepared once and 16 µs pipelined, measured on the test cluster), and its
// SessionHandle never frees the connection of a failed connect or of a connection the server
// dropped (found by AddressSanitizer), which a store that reconnects cannot afford. Statements
// prepared through prepare() are prepared again after reconnect(). Not thread-safe: one user
// at a time.
class PgConnection {
 public:
  // Connects. Throws PgError (08001 when no connection could be made: pgWhyNoConnection says
  // why in words that quote nothing).
  explicit PgConnection(const PgConnectSettings& settings);
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  pg_conn* get() const noexcept { return conn_; }

  // A statement without parameters (or several, separated by semicolons). Throws PgError.
  void exec(std::string_view sql);
  // One statement with parameters, binary results. Throws PgError.
  PgResult query(std::string_view sql, const PgParams& params = {});
  // Prepares a named statement now and after every reconnect(). Throws PgError.
  void prepare(const std::string& name, std::string_view sql);
  PgResult queryPrepared(const std::string& name, const PgParams& params);

  // Whether the connection is usable; a lost one needs reconnect().
  bool healthy() const;
  // Replaces the connection with a new one to the same server (whatever state the old one was
  // left in, a pipeline half read included) and prepares the statements again. Throws PgError.
  void reconnect();

 private:
  void connect();

  std::string conninfo_;  // holds the password: never logged, never in a message
  pg_conn* conn_ = nullptr;
  std::vector<std::pair<std::string, std::string>> prepared_;  // name, SQL
};

// The connection string with the settings' password, time-out and application name added, in
// key=value form (a URI is converted). Throws PgError("08P01") when libpq cannot parse it; the
// parse error's text is not kept (it can quote the string, password and all).
std::string pgConnectionString(const PgConnectSettings& settings);

// Why a connection could not be opened, in words that quote nothing from the server or the
// connection string: asks the server with libpq's PQping (which returns a code, no text).
std::string pgWhyNoConnection(const PgConnectSettings& settings);

// A 64-bit key for pg_advisory_xact_lock: FNV-1a over the parts, each followed by a NUL. Every
// instance computes the same key for the same parts.
std::int64_t pgAdvisoryKey(std::string_view a, std::string_view b);

}  // namespace cpis::store
