// cpis-admin against real stores: an SQLite file that an "engine" (a store object opened the
// engine's way, holding the file's lock) keeps open the whole time, and a PostgreSQL schema in
// the pg_cluster fixture's cluster. Entries are written through the Outbox, failed the way the
// dispatcher fails them, then listed, shown and replayed with the tool.
#include "engine/cli/admin_tool.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "engine/store/pg_connection.h"
#include "engine/store/postgres_message_store.h"
#include "engine/store/sqlite_message_store.h"
#include "tests/support/temp_dir.h"

using cpis::store::MessageState;
using cpis::store::NewNotification;
using cpis::store::NotificationState;

namespace {

struct Run {
  int status;
  std::string out, err;
};

Run admin(const std::string& config, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", config});
  std::ostringstream out, err;
  const int status = cpis::cli::runAdminTool(args, out, err);
  return {status, out.str(), err.str()};
}

Poco::Dynamic::Var json(const std::string& text) {
  return Poco::JSON::Parser().parse(text);
}

constexpr const char* kPayload = R"({"kind":"plan-found","nhs_number":"9990000018"})";

std::string config(const std::string& dir, const std::string& storeElement) {
  const std::string path = dir + "/cpis-engine.xml";
  std::ofstream(path) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store>)" << storeElement << R"(</store>
  <feed name="ed">
    <listener address="127.0.0.1" port="0"/>
  </feed>
</cpisEngine>
)";
  return path;
}

NewNotification note(std::string_view sink, std::string_view kind, std::string_view key,
                     std::optional<cpis::store::TimePoint> deadline = std::nullopt) {
  NewNotification n;
  n.sink = sink;
  n.kind = kind;
  n.idempotencyKey = key;
  n.orderKey = "";  // not a default string_view: the SQLite store binds a null pointer as NULL
  n.payload = kPayload;
  n.deadline = deadline;
  return n;
}

// What the engine's pipeline and dispatcher leave behind: a processed message with two
// notifications (a webhook one, then dead after a refusal; a deferred check, pending), a
// failed message, and a second webhook notification retried once.
struct Written {
  cpis::store::MessageId processed{}, failed{};
  cpis::store::NotificationId dead{}, recheck{}, retried{};
};

Written writeEntries(cpis::store::MessageStore& store) {
  Written w;
  auto persisted = store.persistInbound({"ed", "M1", "MSH|^~\\&|EDSYS|RZZ|||20261125||ADT^A04|M1|P|2.4\r"});
  BOOST_TEST_REQUIRE(persisted.ok());
  w.processed = persisted.value().id;
  const NewNotification notifications[] = {
      note("webhook", "plan-found", "plan-found:ed:V1:1"),
      note("cpis-recheck", "deferred-check", "deferred-check:ed:V1:1",
           std::chrono::system_clock::now() + std::chrono::hours(4))};
  const auto finished = store.finish(w.processed, MessageState::Processed, "checked", "ACK", notifications);
  BOOST_TEST_REQUIRE(finished.isOk(), finished.message());
  const NewNotification later[] = {note("webhook", "cancelled", "cancelled:ed:V1:1")};
  BOOST_TEST_REQUIRE(store.outbox().enqueue(later).isOk());

  auto failed = store.persistInbound({"ed", "M2", "MSH|^~\\&|EDSYS|RZZ|||20261125||ADT^A04|M2|P|2.4\rPID|1||9990000018\r"});
  BOOST_TEST_REQUIRE(failed.ok());
  w.failed = failed.value().id;
  BOOST_TEST_REQUIRE(store.markOutcome(w.failed, MessageState::Failed, "adapt: PV1-19 missing").isOk());

  // The dispatcher's view: both webhook entries claimed; the first refused for good, the
  // second to be tried again later.
  auto claimed = store.outbox().claimDue("webhook", 10, std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(claimed.ok());
  BOOST_TEST_REQUIRE(claimed.value().size() == 2u);
  w.dead = claimed.value()[0].id;
  w.retried = claimed.value()[1].id;
  BOOST_TEST_REQUIRE(store.outbox().markDead(w.dead, "HTTP 410 from the receiver").isOk());
  BOOST_TEST_REQUIRE(store.outbox()
                         .markRetry(w.retried, std::chrono::system_clock::now() + std::chrono::hours(1),
                                    "connection refused")
                         .isOk());
  cpis::store::OutboxFilter filter;
  filter.sink = "cpis-recheck";
  auto rechecks = store.outbox().list(filter);
  BOOST_TEST_REQUIRE(rechecks.ok());
  BOOST_TEST_REQUIRE(rechecks.value().size() == 1u);
  w.recheck = rechecks.value()[0].id;
  return w;
}

// The checks both back-ends share: the tool on `configFile` while `engine` has the store open.
void exerciseTool(const std::string& configFile, cpis::store::MessageStore& engine, const Written& w) {
  // summary
  auto summary = admin(configFile, {"--json", "summary"});
  BOOST_TEST_REQUIRE(summary.status == cpis::cli::kAdminOk, summary.err);
  auto counts = json(summary.out).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(counts->getObject("messages")->getValue<int>("processed") == 1);
  BOOST_TEST(counts->getObject("messages")->getValue<int>("failed") == 1);
  BOOST_TEST(counts->getObject("notifications")->getValue<int>("pending") == 2);
  BOOST_TEST(counts->getObject("notifications")->getValue<int>("dead") == 1);
  BOOST_TEST(counts->getObject("deferred_checks")->getValue<int>("pending") == 1);
  BOOST_TEST(admin(configFile, {"summary"}).out.find("dead 1") != std::string::npos);

  // list: by state, sink, kind; never the payload
  auto dead = admin(configFile, {"notifications", "list", "--state", "dead"});
  BOOST_TEST_REQUIRE(dead.status == cpis::cli::kAdminOk, dead.err);
  BOOST_TEST(dead.out.find("HTTP 410 from the receiver") != std::string::npos);
  BOOST_TEST(dead.out.find("9990000018") == std::string::npos);
  auto webhook = json(admin(configFile, {"--json", "notifications", "list", "--sink", "webhook"}).out)
                     .extract<Poco::JSON::Array::Ptr>();
  BOOST_TEST(webhook->size() == 2u);
  auto cancelled = json(admin(configFile, {"--json", "notifications", "list", "--kind", "cancelled"}).out)
                       .extract<Poco::JSON::Array::Ptr>();
  BOOST_TEST_REQUIRE(cancelled->size() == 1u);
  BOOST_TEST(cancelled->getObject(0)->getValue<std::int64_t>("id") == w.retried);
  BOOST_TEST(cancelled->getObject(0)->getValue<std::string>("last_error") == "connection refused");
  BOOST_TEST(cancelled->getObject(0)->getValue<int>("attempts") == 1);
  BOOST_TEST(!cancelled->getObject(0)->has("payload"));
  // A misspelt kind is refused, not an empty list that reads as all being well.
  const auto misspelt = admin(configFile, {"notifications", "list", "--kind", "plan-fond"});
  BOOST_TEST(misspelt.status == cpis::cli::kAdminUsage);
  BOOST_TEST(misspelt.err.find("no notification kind is named plan-fond") != std::string::npos, misspelt.err);

  // show: why it failed; the payload only when asked
  auto shown = admin(configFile, {"notifications", "show", std::to_string(w.dead)});
  BOOST_TEST_REQUIRE(shown.status == cpis::cli::kAdminOk, shown.err);
  for (const char* expected : {"dead", "attempts         1", "HTTP 410 from the receiver", "plan-found:ed:V1:1"}) {
    BOOST_TEST(shown.out.find(expected) != std::string::npos, expected);
  }
  BOOST_TEST(shown.out.find("9990000018") == std::string::npos);
  BOOST_TEST(admin(configFile, {"notifications", "show", std::to_string(w.dead), "--show-payload"})
                 .out.find("9990000018") != std::string::npos);
  auto recheck = json(admin(configFile, {"--json", "notifications", "show", std::to_string(w.recheck)}).out)
                     .extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(!recheck->getValue<std::string>("deadline").empty());
  BOOST_TEST(!recheck->has("payload"));

  // deferred checks: the cpis-recheck entries only
  auto deferred = json(admin(configFile, {"--json", "deferred", "list"}).out).extract<Poco::JSON::Array::Ptr>();
  BOOST_TEST_REQUIRE(deferred->size() == 1u);
  BOOST_TEST(deferred->getObject(0)->getValue<std::int64_t>("id") == w.recheck);

  // messages: by state, the content only when asked
  auto failed = admin(configFile, {"messages", "list", "--state", "failed"});
  BOOST_TEST_REQUIRE(failed.status == cpis::cli::kAdminOk, failed.err);
  BOOST_TEST(failed.out.find("M2") != std::string::npos);
  BOOST_TEST(failed.out.find("adapt: PV1-19 missing") != std::string::npos);
  BOOST_TEST(failed.out.find("M1") == std::string::npos);
  auto message = admin(configFile, {"messages", "show", std::to_string(w.failed)});
  BOOST_TEST(message.out.find("failed") != std::string::npos);
  BOOST_TEST(message.out.find("9990000018") == std::string::npos);
  BOOST_TEST(admin(configFile, {"messages", "show", std::to_string(w.failed), "--show-content"})
                 .out.find("PID|1||9990000018") != std::string::npos);
  // what a message caused since it was answered: its notifications and their state
  auto causes = admin(configFile, {"messages", "show", std::to_string(w.processed)});
  BOOST_TEST_REQUIRE(causes.status == cpis::cli::kAdminOk, causes.err);
  BOOST_TEST(causes.out.find("caused      notification " + std::to_string(w.dead) +
                             ": plan-found to webhook, dead (last error: HTTP 410 from the receiver)") !=
                 std::string::npos,
             causes.out);
  BOOST_TEST(causes.out.find("caused      notification " + std::to_string(w.recheck) +
                             ": deferred-check to cpis-recheck, pending") != std::string::npos,
             causes.out);
  // by the MSH-10 the EPR's error queue shows: the id `show` takes
  auto byControlId = admin(configFile, {"messages", "find", "M2"});
  BOOST_TEST_REQUIRE(byControlId.status == cpis::cli::kAdminOk, byControlId.err);
  BOOST_TEST(byControlId.out.find(std::to_string(w.failed) + "  ") != std::string::npos, byControlId.out);
  BOOST_TEST(byControlId.out.find("M1") == std::string::npos);
  const auto notAnId = admin(configFile, {"messages", "show", "M2"});
  BOOST_TEST(notAnId.status == cpis::cli::kAdminUsage);
  BOOST_TEST(notAnId.err.find("messages find M2") != std::string::npos, notAnId.err);

  // replay one, while the engine's store object is open; the engine's dispatcher then sees it
  auto replayed = admin(configFile, {"notifications", "replay", std::to_string(w.dead)});
  BOOST_TEST_REQUIRE(replayed.status == cpis::cli::kAdminOk, replayed.err);
  BOOST_TEST(replayed.out.find("1 notification back to pending") != std::string::npos);
  auto entry = engine.outbox().get(w.dead);
  BOOST_TEST_REQUIRE(entry.ok());
  BOOST_TEST(entry.value().state == NotificationState::Pending);
  BOOST_TEST(entry.value().attempts == 0u);
  auto due = engine.outbox().claimDue("webhook", 10, std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(due.ok());
  BOOST_TEST_REQUIRE(due.value().size() == 1u);
  BOOST_TEST(due.value()[0].id == w.dead);
  BOOST_TEST_REQUIRE(engine.outbox().markDead(w.dead, "HTTP 410 again").isOk());

  // replay every dead one of a sink; a sink nobody has (a typo) is an error, not "0 replayed"
  auto typo = admin(configFile, {"notifications", "replay", "--all-dead", "--sink", "webhok"});
  BOOST_TEST(typo.status == cpis::cli::kAdminFailed);
  BOOST_TEST(typo.err.find("no sink is named webhok") != std::string::npos, typo.err);
  BOOST_TEST(typo.err.find("cpis-recheck") != std::string::npos, typo.err);  // the ones there are
  BOOST_TEST(admin(configFile, {"notifications", "list", "--sink", "webhok"}).status ==
             cpis::cli::kAdminFailed);
  BOOST_TEST(
      json(admin(configFile, {"--json", "notifications", "replay", "--all-dead", "--sink", "cpis-recheck"})
               .out)
          .extract<Poco::JSON::Object::Ptr>()
          ->getValue<int>("replayed") == 0);  // configured (built in), nothing dead
  auto all = admin(configFile, {"--json", "notifications", "replay", "--all-dead", "--sink", "webhook"});
  BOOST_TEST_REQUIRE(all.status == cpis::cli::kAdminOk, all.err);
  BOOST_TEST(json(all.out).extract<Poco::JSON::Object::Ptr>()->getValue<int>("replayed") == 1);

  // A dead deferred check (abandoned: a person was told) is not replayed by --all-dead alone:
  // it would query CP-IS again, days late. The other sinks' dead entries are, and the engineer is
  // told what was left. Named, it is replayed, and it keeps its end.
  auto rechecks =
      engine.outbox().claimDue("cpis-recheck", 10, std::chrono::system_clock::now() + std::chrono::hours(1));
  BOOST_TEST_REQUIRE(rechecks.ok());
  BOOST_TEST_REQUIRE(rechecks.value().size() == 1u);
  const auto deadline = rechecks.value()[0].deadline;
  BOOST_TEST_REQUIRE(engine.outbox().markDead(w.recheck, "deadline passed: SPINE_UNAVAILABLE").isOk());
  auto webhookAgain = engine.outbox().claimDue("webhook", 10, std::chrono::system_clock::now());
  BOOST_TEST_REQUIRE(webhookAgain.ok());
  BOOST_TEST_REQUIRE(webhookAgain.value().size() == 1u);
  BOOST_TEST_REQUIRE(engine.outbox().markDead(w.dead, "HTTP 410 once more").isOk());
  auto others = admin(configFile, {"notifications", "replay", "--all-dead"});
  BOOST_TEST_REQUIRE(others.status == cpis::cli::kAdminOk, others.err);
  BOOST_TEST(others.out.find("1 notification back to pending") != std::string::npos, others.out);
  BOOST_TEST(others.out.find("1 dead deferred CP-IS check was left dead") != std::string::npos, others.out);
  BOOST_TEST(engine.outbox().get(w.recheck).value().state == NotificationState::Dead);
  BOOST_TEST(engine.outbox().get(w.dead).value().state == NotificationState::Pending);
  auto othersJson = json(admin(configFile, {"--json", "notifications", "replay", "--all-dead"}).out)
                        .extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(othersJson->getValue<int>("replayed") == 0);
  BOOST_TEST(othersJson->getValue<int>("deferred_checks_left_dead") == 1);
  BOOST_TEST(engine.outbox().get(w.recheck).value().state == NotificationState::Dead);
  auto named =
      admin(configFile, {"--json", "notifications", "replay", "--all-dead", "--sink", "cpis-recheck"});
  BOOST_TEST_REQUIRE(named.status == cpis::cli::kAdminOk, named.err);
  BOOST_TEST(json(named.out).extract<Poco::JSON::Object::Ptr>()->getValue<int>("replayed") == 1);
  BOOST_TEST(engine.outbox().get(w.recheck).value().state == NotificationState::Pending);
  BOOST_TEST((engine.outbox().get(w.recheck).value().deadline == deadline));

  // failures and usage
  BOOST_TEST(admin(configFile, {"notifications", "show", "999999"}).status == cpis::cli::kAdminFailed);
  BOOST_TEST(admin(configFile, {"messages", "show", "999999"}).status == cpis::cli::kAdminFailed);
  BOOST_TEST(admin(configFile, {"notifications", "replay", std::to_string(w.processed + 1000)}).status ==
             cpis::cli::kAdminFailed);
  BOOST_TEST(admin(configFile, {"notifications", "frobnicate"}).status == cpis::cli::kAdminUsage);
  BOOST_TEST(admin(configFile, {"messages", "list"}).status == cpis::cli::kAdminUsage);
  BOOST_TEST(admin(configFile, {"notifications", "list", "--state", "lost"}).status == cpis::cli::kAdminUsage);
  BOOST_TEST(admin(configFile, {"notifications", "list", "--limit", "0"}).status == cpis::cli::kAdminUsage);
}

std::string pgConninfo() {
  const char* file = std::getenv("CPIS_TEST_PG");
  if (file == nullptr) return {};
  std::string line;
  std::getline(std::ifstream(file) >> std::ws, line);
  return line;
}

struct PgAvailable {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
    boost::test_tools::assertion_result available(!pgConninfo().empty());
    available.message() << "CPIS_TEST_PG is not set (ctest's pg_cluster fixture sets it)";
    return available;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(admin_tool)

BOOST_AUTO_TEST_CASE(sqlite_store_beside_a_running_engine) {
  cpis::test::TempDir dir("cpis-admin-test");
  const std::string configFile = config(dir.path().string(), R"(<sqlite path="store.db"/>)");
  // The engine's store: it holds store.db.lock for as long as it is open.
  auto opened = cpis::store::SqliteMessageStore::open(dir.file("store.db"));
  BOOST_TEST_REQUIRE(opened.ok());
  auto engine = std::move(opened).value();
  BOOST_TEST(!cpis::store::SqliteMessageStore::open(dir.file("store.db")).ok());  // the lock holds
  const Written w = writeEntries(*engine);
  exerciseTool(configFile, *engine, w);
  auto received = json(admin(configFile, {"--json", "messages", "list", "--state", "received"}).out)
                      .extract<Poco::JSON::Array::Ptr>();
  BOOST_TEST(received->size() == 0u);
  engine->close();
}

BOOST_AUTO_TEST_CASE(sqlite_store_missing_or_unreadable) {
  cpis::test::TempDir dir("cpis-admin-test");
  const std::string configFile = config(dir.path().string(), R"(<sqlite path="store.db"/>)");
  auto missing = admin(configFile, {"summary"});
  BOOST_TEST(missing.status == cpis::cli::kAdminFailed);
  BOOST_TEST(missing.err.find("no database") != std::string::npos, missing.err);
  BOOST_TEST(!std::filesystem::exists(dir.file("store.db")));  // nothing created
  BOOST_TEST(admin(dir.file("absent.xml"), {"summary"}).status == cpis::cli::kAdminUsage);
  std::ostringstream out, err;
  BOOST_TEST(cpis::cli::runAdminTool({"summary"}, out, err) == cpis::cli::kAdminUsage);
  BOOST_TEST(err.str().find("--config FILE is required") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(postgres_store_beside_a_running_engine, *boost::unit_test::precondition(PgAvailable())) {
  const std::string base = pgConninfo();
  const std::string schema = "admin_" + std::to_string(::getpid());
  cpis::store::PgConnection db(cpis::store::PgConnectSettings{base, "", std::chrono::seconds(10)});
  db.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  db.exec("CREATE SCHEMA " + schema);
  const std::string connection = base + " options='-csearch_path=" + schema + "'";
  {
    cpis::test::TempDir dir("cpis-admin-test");
    const std::string configFile =
        config(dir.path().string(), "<postgresql connection=\"" + connection + "\" instance=\"engine-a\"/>");
    cpis::store::PostgresStoreOptions options;
    options.instance = "engine-a";
    auto opened = cpis::store::PostgresMessageStore::open(connection, options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    auto engine = std::move(opened).value();
    // A message the engine is still working on: its claim must survive the tool.
    auto unfinished = engine->persistInbound({"ed", "M9", "MSH|^~\\&|EDSYS|RZZ|||20261125||ADT^A04|M9|P|2.4\r"});
    BOOST_TEST_REQUIRE(unfinished.ok());
    const Written w = writeEntries(*engine);
    exerciseTool(configFile, *engine, w);
    cpis::store::PgParams params;
    params.int64(unfinished.value().id);
    auto owner = db.query("SELECT claimed_by FROM " + schema + ".message WHERE id = $1", params);
    BOOST_TEST(owner.bytes(0, 0) == "engine-a");
    auto received = admin(configFile, {"messages", "list", "--state", "received"});
    BOOST_TEST(received.out.find("M9") != std::string::npos);
    engine->close();
  }
  db.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
}

BOOST_AUTO_TEST_SUITE_END()
