#include "engine/cli/admin_tool.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include "engine/config/config_error.h"
#include "engine/config/config_loader.h"
#include "engine/config/xerces_platform.h"
#include "engine/notify/notification.h"
#include "engine/store/message_store.h"
#include "engine/store/outbox.h"
#include "engine/store/pg_connection.h"
#include "engine/store/postgres_message_store.h"
#include "engine/store/sqlite_message_store.h"

namespace cpis::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: cpis-admin --config FILE [--json] COMMAND\n"
    "  notifications list [--state pending|delivered|dead] [--sink S] [--kind K] [--limit N]\n"
    "  notifications show ID [--show-payload]       why it failed: attempts, last error, next attempt, "
    "deadline\n"
    "  notifications replay ID | --all-dead [--sink S]   back to pending, due now, attempts 0\n"
    "                                               (--all-dead alone leaves dead deferred checks dead:\n"
    "                                               replay those by ID or with --sink cpis-recheck)\n"
    "  deferred list [--state pending|delivered|dead] [--limit N]   deferred CP-IS checks\n"
    "  messages list --state received|failed|rejected|processed [--limit N]\n"
    "  messages find CONTROL_ID [--limit N]         the messages stored under an MSH-10\n"
    "  messages show ID [--show-content]            the raw message and ACK only when asked\n"
    "  summary                                      counts\n"
    "Exit status: 0 done, 1 the command failed (store, unknown id or sink), 2 usage or configuration.\n";

struct Usage {
  std::string problem;
};
struct Failure {
  std::string problem;
};

// ---- arguments -------------------------------------------------------------------------------

struct Options {
  std::string configFile;
  bool json = false;
  bool showPayload = false;
  bool showContent = false;
  bool allDead = false;
  std::optional<std::string> state, sink, kind;
  std::size_t limit = 100;
  std::vector<std::string> words;  // the command and its operands
};

std::size_t parseCount(const std::string& option, const std::string& text) {
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    throw Usage{option + " needs a positive number"};
  }
  return value;
}

std::int64_t parseId(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0)
    throw Usage{"not an id: " + text + " (ids are the numbers cpis-admin lists)"};
  return value;
}

Options parseOptions(const std::vector<std::string>& args) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw Usage{a + " needs a value"};
      return args[++i];
    };
    if (a == "--config") {
      o.configFile = value();
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--show-payload") {
      o.showPayload = true;
    } else if (a == "--show-content") {
      o.showContent = true;
    } else if (a == "--all-dead") {
      o.allDead = true;
    } else if (a == "--state") {
      o.state = value();
    } else if (a == "--sink") {
      o.sink = value();
    } else if (a == "--kind") {
      o.kind = value();
    } else if (a == "--limit") {
      o.limit = parseCount(a, value());
    } else if (a.size() > 1 && a[0] == '-') {
      throw Usage{"unknown option " + a};
    } else {
      o.words.push_back(a);
    }
  }
  if (o.configFile.empty()) throw Usage{"--config FILE is required"};
  if (o.words.empty()) throw Usage{"no command"};
  return o;
}

std::optional<store::NotificationState> notificationState(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  for (auto s : {store::NotificationState::Pending, store::NotificationState::Delivered, store::NotificationState::Dead}) {
    if (*text == store::toString(s)) return s;
  }
  throw Usage{"--state must be pending, delivered or dead"};
}

store::MessageState messageState(const std::optional<std::string>& text) {
  if (!text) throw Usage{"messages list needs --state received|failed|rejected|processed"};
  for (auto s : {store::MessageState::Received, store::MessageState::Failed, store::MessageState::Rejected,
                 store::MessageState::Processed}) {
    if (*text == store::toString(s)) return s;
  }
  throw Usage{"--state must be received, failed, rejected or processed"};
}

// ---- the store -------------------------------------------------------------------------------

std::string iso(store::TimePoint time) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}
std::string iso(const std::optional<store::TimePoint>& time) { return time ? iso(*time) : std::string(); }

// What the MessageStore interface does not offer: the ids of the messages in one state, and
// the counts per state. Read-only queries on the store's own tables.
class MessageIndex {
 public:
  virtual ~MessageIndex() = default;
  virtual std::vector<store::MessageId> ids(store::MessageState state, std::size_t limit) = 0;  // newest first
  // The messages stored under an MSH-10 (any feed), newest first. A scan on SQLite (the engine
  // keeps no index on it: its duplicate check is in memory), a second or so per million rows.
  virtual std::vector<store::MessageId> withControlId(std::string_view controlId, std::size_t limit) = 0;
  virtual std::map<std::string, std::uint64_t> countsByState() = 0;
};

class SqliteIndex final : public MessageIndex {
 public:
  explicit SqliteIndex(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw Failure{"cannot read the message store " + path};
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~SqliteIndex() override { sqlite3_close(db_); }
  SqliteIndex(const SqliteIndex&) = delete;
  SqliteIndex& operator=(const SqliteIndex&) = delete;

  std::vector<store::MessageId> ids(store::MessageState state, std::size_t limit) override {
    Statement s(db_, "SELECT id FROM message WHERE state = ? ORDER BY id DESC LIMIT ?");
    const auto text = store::toString(state);
    sqlite3_bind_text(s.get(), 1, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(limit));
    std::vector<store::MessageId> out;
    while (s.step()) out.push_back(sqlite3_column_int64(s.get(), 0));
    return out;
  }
  std::vector<store::MessageId> withControlId(std::string_view controlId, std::size_t limit) override {
    Statement s(db_, "SELECT id FROM message WHERE CAST(control_id AS BLOB) = ? ORDER BY id DESC LIMIT ?");
    sqlite3_bind_blob(s.get(), 1, controlId.data(), static_cast<int>(controlId.size()), SQLITE_STATIC);
    sqlite3_bind_int64(s.get(), 2, static_cast<sqlite3_int64>(limit));
    std::vector<store::MessageId> out;
    while (s.step()) out.push_back(sqlite3_column_int64(s.get(), 0));
    return out;
  }
  std::map<std::string, std::uint64_t> countsByState() override {
    Statement s(db_, "SELECT state, count(*) FROM message GROUP BY state");
    std::map<std::string, std::uint64_t> out;
    while (s.step()) {
      out[reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0))] =
          static_cast<std::uint64_t>(sqlite3_column_int64(s.get(), 1));
    }
    return out;
  }

 private:
  class Statement {
   public:
    Statement(sqlite3* db, const char* sql) {
      if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
        throw Failure{std::string("cannot read the message store: ") + sqlite3_errstr(sqlite3_errcode(db))};
      }
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    sqlite3_stmt* get() const { return stmt_; }
    bool step() {
      const int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      throw Failure{std::string("cannot read the message store: ") + sqlite3_errstr(rc)};
    }

   private:
    sqlite3_stmt* stmt_ = nullptr;
  };
  sqlite3* db_ = nullptr;
};

class PostgresIndex final : public MessageIndex {
 public:
  PostgresIndex(const std::string& connection, const std::string& password)
      : db_(store::PgConnectSettings{connection, password, std::chrono::seconds(10), "cpis-admin"}) {}

  std::vector<store::MessageId> ids(store::MessageState state, std::size_t limit) override {
    store::PgParams params;
    params.text(store::toString(state)).int64(static_cast<std::int64_t>(limit));
    auto result = db_.query("SELECT id FROM message WHERE state = $1 ORDER BY id DESC LIMIT $2", params);
    std::vector<store::MessageId> out;
    for (int r = 0; r < result.rows(); ++r) out.push_back(result.int64(r, 0));
    return out;
  }
  std::vector<store::MessageId> withControlId(std::string_view controlId, std::size_t limit) override {
    store::PgParams params;
    params.bytes(controlId).int64(static_cast<std::int64_t>(limit));
    auto result = db_.query("SELECT id FROM message WHERE control_id = $1 ORDER BY id DESC LIMIT $2", params);
    std::vector<store::MessageId> out;
    for (int r = 0; r < result.rows(); ++r) out.push_back(result.int64(r, 0));
    return out;
  }
  std::map<std::string, std::uint64_t> countsByState() override {
    auto result = db_.query("SELECT state, count(*) FROM message GROUP BY state");
    std::map<std::string, std::uint64_t> out;
    for (int r = 0; r < result.rows(); ++r) out[result.bytes(r, 0)] = static_cast<std::uint64_t>(result.int64(r, 1));
    return out;
  }

 private:
  store::PgConnection db_;
};

struct OpenStore {
  std::unique_ptr<store::MessageStore> store;
  std::unique_ptr<MessageIndex> index;
};

OpenStore openStore(const config::StoreConfig& config) {
  OpenStore out;
  if (const auto& pg = config.postgresql) {
    store::PostgresStoreOptions options;
    if (pg->password) options.password = std::string(pg->password->reveal());
    // An instance of its own: opening under the engine's name would release that engine's
    // claims. It claims nothing; closing it gives nothing back.
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    options.instance = std::string("cpis-admin/") + host + "/" + std::to_string(::getpid());
    options.claimLease = pg->claimLease;
    options.duplicateWindow = config.duplicateWindow;
    auto opened = store::PostgresMessageStore::open(pg->connection, options);
    if (!opened) throw Failure{opened.error().message()};
    out.store = std::move(opened).value();
    try {
      out.index = std::make_unique<PostgresIndex>(pg->connection, options.password);
    } catch (const store::PgError& e) {
      throw Failure{std::string("cannot read the message store: ") + e.what()};
    }
    return out;
  }
  store::SqliteStoreOptions options;
  options.duplicateWindow = config.duplicateWindow;
  options.administration = true;
  auto opened = store::SqliteMessageStore::open(config.sqlitePath.string(), options);
  if (!opened) throw Failure{opened.error().message()};
  out.store = std::move(opened).value();
  out.index = std::make_unique<SqliteIndex>(config.sqlitePath.string());
  return out;
}

template <typename T>
T valueOr(core::Result<T> result) {
  if (!result) throw Failure{result.error().message()};
  return std::move(result).value();
}

// ---- output ----------------------------------------------------------------------------------

void printTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = header[c].size();
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(widths[c] - cells[c].size() + 2, ' ');
    }
    out << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
}

void printJson(std::ostream& out, const Poco::Dynamic::Var& value) {
  Poco::JSON::Stringifier::stringify(value, out, 2);
  out << '\n';
}

Poco::JSON::Object::Ptr entryJson(const store::OutboxEntry& e, bool payload) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", e.id);
  o->set("sink", e.sink);
  o->set("kind", e.kind);
  o->set("state", std::string(store::toString(e.state)));
  o->set("attempts", e.attempts);
  o->set("created_at", iso(e.createdAt));
  o->set("next_attempt_at", iso(e.nextAttemptAt));
  o->set("deadline", iso(e.deadline));
  o->set("finished_at", iso(e.finishedAt));
  o->set("last_error", e.lastError);
  o->set("idempotency_key", e.idempotencyKey);
  o->set("order_key", e.orderKey);
  if (e.messageId) o->set("message_id", *e.messageId);
  if (payload) o->set("payload", e.payload);
  return o;
}

void listEntries(std::ostream& out, const std::vector<store::OutboxEntry>& entries, bool json) {
  if (json) {
    Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
    for (const auto& e : entries) array->add(entryJson(e, false));
    return printJson(out, array);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : entries) {
    rows.push_back({std::to_string(e.id), e.sink, e.kind, std::string(store::toString(e.state)),
                    std::to_string(e.attempts),
                    e.state == store::NotificationState::Pending ? iso(e.nextAttemptAt) : iso(e.finishedAt),
                    iso(e.deadline), e.lastError});
  }
  printTable(out, {"ID", "SINK", "KIND", "STATE", "ATTEMPTS", "NEXT/FINISHED", "DEADLINE", "LAST ERROR"}, rows);
}

// ---- commands --------------------------------------------------------------------------------

// The sink names `config` gives notifications to: its <sink>s, the deferred check's, and each
// checking feed's return channel.
std::vector<std::string> sinkNames(const config::EngineConfig& config) {
  std::vector<std::string> names;
  for (const auto& sink : config.notify.sinks) names.push_back(sink.name);
  names.emplace_back(notify::kRecheckSink);
  for (const auto& feed : config.feeds) {
    if (feed.returnConnection && feed.check) names.push_back(notify::returnSinkName(feed.name));
  }
  return names;
}

// --sink names a sink this configuration has, or one the store holds notifications of (a sink
// since removed): a typo is an error, not "0 replayed".
void checkSinkName(const std::string& sink, const config::EngineConfig& config, store::Outbox& outbox) {
  const auto names = sinkNames(config);
  if (std::find(names.begin(), names.end(), sink) != names.end()) return;
  const store::OutboxCounts held = valueOr(outbox.counts(std::string_view(sink)));
  if (held.pending + held.delivered + held.dead != 0) return;
  std::string known;
  for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
  throw Failure{"no sink is named " + sink + " in " + config.source +
                " or in the store (its sinks: " + known + ")"};
}

int notifications(const Options& o, OpenStore& s, const config::EngineConfig& config, std::ostream& out) {
  store::Outbox& outbox = s.store->outbox();
  if (o.sink) checkSinkName(*o.sink, config, outbox);
  if (o.kind) {
    // A misspelt kind would list nothing, as if all were well.
    static constexpr std::string_view kKinds[] = {notify::kPlanFound,     notify::kCheckFailed,
                                                  notify::kDeferredCheck, notify::kLateResult,
                                                  notify::kCancelled,     notify::kCheckAbandoned};
    if (std::find(std::begin(kKinds), std::end(kKinds), *o.kind) == std::end(kKinds)) {
      std::string known;
      for (const std::string_view kind : kKinds) known += (known.empty() ? "" : ", ") + std::string(kind);
      throw Usage{"no notification kind is named " + *o.kind + " (" + known + ")"};
    }
  }
  const std::string verb = o.words.size() > 1 ? o.words[1] : "";
  if (verb == "list") {
    if (o.words.size() != 2) throw Usage{"notifications list takes no operand"};
    store::OutboxFilter filter;
    filter.state = notificationState(o.state);
    filter.sink = o.sink;
    filter.kind = o.kind;
    filter.limit = o.limit;
    listEntries(out, valueOr(outbox.list(filter)), o.json);
    return kAdminOk;
  }
  if (verb == "show") {
    if (o.words.size() != 3) throw Usage{"notifications show ID"};
    const auto e = valueOr(outbox.get(parseId(o.words[2])));
    if (o.json) {
      printJson(out, entryJson(e, o.showPayload));
      return kAdminOk;
    }
    out << "notification " << e.id << '\n'
        << "  sink             " << e.sink << '\n'
        << "  kind             " << e.kind << '\n'
        << "  state            " << store::toString(e.state) << '\n'
        << "  attempts         " << e.attempts << '\n'
        << "  last error       " << (e.lastError.empty() ? "-" : e.lastError) << '\n'
        << "  created          " << iso(e.createdAt) << '\n'
        << "  next attempt     "
        << (e.state == store::NotificationState::Pending ? iso(e.nextAttemptAt) : std::string("-")) << '\n'
        << "  deadline         " << (e.deadline ? iso(e.deadline) : std::string("none")) << '\n'
        << "  finished         " << (e.finishedAt ? iso(e.finishedAt) : std::string("-")) << '\n'
        << "  idempotency key  " << e.idempotencyKey << '\n'
        << "  order key        " << (e.orderKey.empty() ? "-" : e.orderKey) << '\n'
        << "  message          " << (e.messageId ? std::to_string(*e.messageId) : std::string("-")) << '\n';
    if (o.showPayload) {
      out << "  payload          " << e.payload << '\n';
    } else {
      out << "  payload          (" << e.payload.size() << " bytes; --show-payload prints it: it may hold patient data)\n";
    }
    return kAdminOk;
  }
  if (verb == "replay") {
    std::size_t replayed = 0;
    std::optional<std::size_t> leftDead;  // --all-dead alone: the deferred checks it left dead
    if (o.allDead) {
      if (o.words.size() != 2) throw Usage{"notifications replay takes an ID or --all-dead, not both"};
      const std::optional<std::string_view> sink = o.sink ? std::optional<std::string_view>(*o.sink) : std::nullopt;
      // A dead deferred check was abandoned: a person was told to check CP-IS by hand. Replayed,
      // it queries CP-IS again, hours or days after the attendance (an access recorded, the
      // local authority told): never as a side effect of replaying the other sinks' backlog.
      // They stay dead unless named (--sink cpis-recheck, or by ID), in the same statement.
      const std::optional<std::string_view> except =
          sink ? std::nullopt : std::optional<std::string_view>(notify::kRecheckSink);
      replayed = valueOr(outbox.replayDead(sink, except));
      if (except) leftDead = valueOr(outbox.counts(notify::kRecheckSink)).dead;
    } else {
      if (o.words.size() != 3) throw Usage{"notifications replay ID | --all-dead [--sink S]"};
      replayed = valueOr(outbox.replay(parseId(o.words[2])));
    }
    if (o.json) {
      Poco::JSON::Object::Ptr result = new Poco::JSON::Object;
      result->set("replayed", replayed);
      if (leftDead) result->set("deferred_checks_left_dead", *leftDead);
      printJson(out, result);
    } else {
      out << replayed << (replayed == 1 ? " notification" : " notifications") << " back to pending, due now\n";
      if (leftDead && *leftDead != 0) {
        out << *leftDead << " dead deferred CP-IS check" << (*leftDead == 1 ? " was" : "s were")
            << " left dead: each was handed to a person to check by hand, and replayed it queries CP-IS "
               "again. "
               "Replay one by ID, or all with --sink "
            << notify::kRecheckSink << ", only once nobody has checked those children by hand\n";
      }
    }
    return kAdminOk;
  }
  throw Usage{"notifications list | show ID | replay ID | replay --all-dead"};
}

int deferred(const Options& o, OpenStore& s, std::ostream& out) {
  if (o.words.size() != 2 || o.words[1] != "list") throw Usage{"deferred list"};
  store::OutboxFilter filter;
  filter.state = notificationState(o.state);
  filter.sink = std::string(notify::kRecheckSink);
  filter.limit = o.limit;
  listEntries(out, valueOr(s.store->outbox().list(filter)), o.json);
  return kAdminOk;
}

Poco::JSON::Object::Ptr messageJson(const store::StoredMessage& m, bool content) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("id", m.id);
  o->set("feed", m.feed);
  o->set("control_id", m.controlId);
  o->set("state", std::string(store::toString(m.state)));
  o->set("received_at", iso(m.receivedAt));
  o->set("acked_at", iso(m.ackedAt));
  o->set("finished_at", iso(m.finishedAt));
  o->set("purged_at", iso(m.purgedAt));
  o->set("outcome", m.outcome);
  o->set("raw_size", m.rawSize);
  o->set("duplicates_received", m.duplicatesReceived);
  if (content) {
    o->set("raw", m.raw ? Poco::Dynamic::Var(*m.raw) : Poco::Dynamic::Var());
    o->set("ack", m.ack ? Poco::Dynamic::Var(*m.ack) : Poco::Dynamic::Var());
  }
  return o;
}

// HL7 v2 segments end in CR: one segment a line for a terminal.
std::string segmentLines(std::string text) {
  std::replace(text.begin(), text.end(), '\r', '\n');
  return text;
}

int messages(const Options& o, OpenStore& s, std::ostream& out) {
  const std::string verb = o.words.size() > 1 ? o.words[1] : "";
  if (verb == "list" || verb == "find") {
    if (verb == "list" && o.words.size() != 2) throw Usage{"messages list takes no operand"};
    if (verb == "find" && o.words.size() != 3) throw Usage{"messages find CONTROL_ID"};
    const auto ids = verb == "find" ? s.index->withControlId(o.words[2], o.limit)
                                    : s.index->ids(messageState(o.state), o.limit);
    std::vector<store::StoredMessage> found;
    for (const auto id : ids) {
      auto m = s.store->fetch(id);
      if (m) found.push_back(std::move(m).value());
    }
    if (o.json) {
      Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
      for (const auto& m : found) array->add(messageJson(m, false));
      printJson(out, array);
      return kAdminOk;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : found) {
      rows.push_back({std::to_string(m.id), m.feed, m.controlId, std::string(store::toString(m.state)),
                      iso(m.receivedAt), m.outcome});
    }
    printTable(out, {"ID", "FEED", "CONTROL ID", "STATE", "RECEIVED", "OUTCOME"}, rows);
    return kAdminOk;
  }
  if (verb == "show") {
    if (o.words.size() != 3) throw Usage{"messages show ID"};
    const auto id = [&] {
      try {
        return parseId(o.words[2]);
      } catch (const Usage& usage) {
        throw Usage{usage.problem + "; a message by its MSH-10: messages find " + o.words[2]};
      }
    }();
    const auto m = valueOr(s.store->fetch(id));
    // What it caused since: a deferred check and its late result, a plan-found sent, ... (its
    // own outcome and ACK stay as they were when it was answered).
    store::OutboxFilter caused;
    caused.messageId = m.id;
    caused.limit = 50;
    auto notifications = valueOr(s.store->outbox().list(caused));
    std::reverse(notifications.begin(), notifications.end());  // oldest first
    if (o.json) {
      auto object = messageJson(m, o.showContent);
      Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
      for (const auto& e : notifications) array->add(entryJson(e, false));
      object->set("notifications", array);
      printJson(out, object);
      return kAdminOk;
    }
    out << "message " << m.id << '\n'
        << "  feed        " << m.feed << '\n'
        << "  control id  " << m.controlId << '\n'
        << "  state       " << store::toString(m.state) << '\n'
        << "  outcome     " << (m.outcome.empty() ? "-" : m.outcome) << '\n'
        << "  received    " << iso(m.receivedAt) << '\n'
        << "  acked       " << (m.ackedAt ? iso(m.ackedAt) : std::string("-")) << '\n'
        << "  finished    " << (m.finishedAt ? iso(m.finishedAt) : std::string("-")) << '\n'
        << "  purged      " << (m.purgedAt ? iso(m.purgedAt) : std::string("-")) << '\n'
        << "  size        " << m.rawSize << " bytes\n"
        << "  duplicates  " << m.duplicatesReceived << '\n';
    for (const auto& e : notifications) {
      out << "  caused      notification " << e.id << ": " << e.kind << " to " << e.sink << ", "
          << store::toString(e.state) << (e.lastError.empty() ? "" : " (last error: " + e.lastError + ")")
          << '\n';
    }
    if (o.showContent) {
      out << "--- message\n" << (m.raw ? segmentLines(*m.raw) : std::string("(purged)\n"));
      out << "--- ack\n" << (m.ack ? segmentLines(*m.ack) : std::string("(none)\n"));
    } else {
      out << "  (--show-content prints the message and its ACK: they may hold patient data)\n";
    }
    return kAdminOk;
  }
  throw Usage{"messages list --state S | find CONTROL_ID | show ID"};
}

int summary(const Options& o, OpenStore& s, std::ostream& out) {
  if (o.words.size() != 1) throw Usage{"summary takes no operand"};
  auto states = s.index->countsByState();
  const auto all = valueOr(s.store->outbox().counts(std::nullopt));
  const auto recheck = valueOr(s.store->outbox().counts(notify::kRecheckSink));
  const char* kStates[] = {"received", "processed", "rejected", "failed"};
  if (o.json) {
    Poco::JSON::Object::Ptr result = new Poco::JSON::Object;
    Poco::JSON::Object::Ptr messages = new Poco::JSON::Object;
    for (const char* state : kStates) messages->set(state, states[state]);
    auto counts = [](const store::OutboxCounts& c) {
      Poco::JSON::Object::Ptr o2 = new Poco::JSON::Object;
      o2->set("pending", c.pending);
      o2->set("delivered", c.delivered);
      o2->set("dead", c.dead);
      return o2;
    };
    result->set("messages", messages);
    result->set("notifications", counts(all));
    result->set("deferred_checks", counts(recheck));
    printJson(out, result);
    return kAdminOk;
  }
  out << "messages        ";
  for (const char* state : kStates) out << ' ' << state << ' ' << states[state];
  out << "\nnotifications    pending " << all.pending << " delivered " << all.delivered << " dead "
      << all.dead << "\n  of which deferred checks  pending " << recheck.pending << " delivered "
      << recheck.delivered << " dead " << recheck.dead << '\n';
  return kAdminOk;
}

}  // namespace

int runAdminTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    out << kUsage;
    return kAdminOk;
  }
  try {
    const Options o = parseOptions(args);
    const std::string& command = o.words[0];
    if (command != "notifications" && command != "deferred" && command != "messages" && command != "summary") {
      throw Usage{"unknown command " + command};
    }
    config::EngineConfig config;
    try {
      const config::XercesPlatform xerces;
      const config::ConfigLoader loader(xerces);
      config = loader.loadFile(o.configFile);
    } catch (const config::ConfigError& e) {
      err << "cpis-admin: " << e.what() << '\n';
      return kAdminUsage;
    }
    OpenStore s = openStore(config.store);
    int status = kAdminOk;
    if (command == "notifications") status = notifications(o, s, config, out);
    if (command == "deferred") status = deferred(o, s, out);
    if (command == "messages") status = messages(o, s, out);
    if (command == "summary") status = summary(o, s, out);
    s.store->close();
    return status;
  } catch (const Usage& u) {
    err << "cpis-admin: " << u.problem << '\n' << kUsage;
    return kAdminUsage;
  } catch (const Failure& f) {
    err << "cpis-admin: " << f.problem << '\n';
    return kAdminFailed;
  } catch (const store::PgError& e) {
    err << "cpis-admin: the message store failed (" << e.what() << ")\n";
    return kAdminFailed;
  } catch (const std::exception& e) {
    err << "cpis-admin: " << e.what() << '\n';
    return kAdminFailed;
  }
}

}  // namespace cpis::cli
