// The attendance memory kept in the store (MemoryJournal): its rows' encoding, and the memories
// written through a real SQLite store and put back from it as a restart does.
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include "engine/domain/attendance.h"
#include "engine/pipeline/decide.h"
#include "engine/pipeline/last_outcomes.h"
#include "engine/pipeline/memory_journal.h"
#include "engine/store/sqlite_message_store.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using cpis::domain::AccessMode;
using cpis::domain::CheckOutcome;
using cpis::domain::CheckStatus;
using cpis::domain::Instant;
using cpis::domain::NhsNumber;
using cpis::domain::NhsNumberStatus;
using namespace cpis::pipeline;

namespace {

NhsNumber number(const char* digits) {
  return NhsNumber::parse(digits).value();
}

struct Clock {
  Instant now = Instant(std::chrono::milliseconds(1'790'000'000'123));
  std::function<Instant()> function() {
    return [this] { return now; };
  }
};

PreviousCheck everyField() {
  PreviousCheck check;
  check.decidedAt = Instant(std::chrono::milliseconds(1'790'000'000'456));
  check.status = CheckStatus::CheckFailed;
  check.nhsNumber = number("9434765919");
  check.nhsNumberVerified = true;
  check.mode = AccessMode::Unscheduled;
  check.scheduledByNature = true;
  check.arrivedAt = Instant(std::chrono::milliseconds(1'789'999'000'001));
  check.cancelledAt = Instant(std::chrono::milliseconds(1'790'000'100'002));
  check.endedAt = Instant(std::chrono::milliseconds(1'790'000'200'003));
  check.rekeyedFrom = number("9434765870");
  check.answersFailureAt = Instant(std::chrono::milliseconds(1'790'000'000'400));
  check.lastNumber = number("9434765927");
  check.lastNumberAt = Instant(std::chrono::milliseconds(1'790'000'300'004));
  check.lastNumberPending = true;
  check.lastNumberRefused = cpis::domain::ReasonCode::NhsNumberUnverified;
  return check;
}

void checkSame(const PreviousCheck& a, const PreviousCheck& b) {
  BOOST_TEST((a.decidedAt == b.decidedAt));
  BOOST_TEST((a.status == b.status));
  BOOST_TEST((a.nhsNumber == b.nhsNumber));
  BOOST_TEST(a.nhsNumberVerified == b.nhsNumberVerified);
  BOOST_TEST((a.mode == b.mode));
  BOOST_TEST(a.scheduledByNature == b.scheduledByNature);
  BOOST_TEST((a.arrivedAt == b.arrivedAt));
  BOOST_TEST((a.cancelledAt == b.cancelledAt));
  BOOST_TEST((a.endedAt == b.endedAt));
  BOOST_TEST((a.rekeyedFrom == b.rekeyedFrom));
  BOOST_TEST((a.answersFailureAt == b.answersFailureAt));
  BOOST_TEST((a.lastNumber == b.lastNumber));
  BOOST_TEST((a.lastNumberAt == b.lastNumberAt));
  BOOST_TEST(a.lastNumberPending == b.lastNumberPending);
  BOOST_TEST((a.lastNumberRefused == b.lastNumberRefused));
}

CheckOutcome found() {
  using namespace cpis::domain;
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  CheckOutcome outcome;
  outcome.status = CheckStatus::Found;
  outcome.reasonText = "found \"quoted\" \\ text";
  outcome.queried = number("9434765919");
  outcome.mode = AccessMode::Unscheduled;
  CpisRecord child;
  child.la = {"E10000001", "Exampleshire County Council", "01234 567890", std::string("01234 000000")};
  child.subject = SubjectKind::Child;
  child.plans.push_back({PlanType::Cppi, Date{year(2026), month(3), day(1)}, std::nullopt});
  child.plans.push_back({PlanType::Ucpi, Date{year(2025), month(12), day(31)}, Date{year(2026), month(2), day(28)}});
  CpisRecord unborn;
  unborn.la = {"E10000002", "Sample Borough \u00e9", "0800 000 000", std::nullopt};
  unborn.subject = SubjectKind::UnbornChild;
  unborn.plans.push_back({PlanType::Laci, Date{year(2024), month(2), day(29)}, std::nullopt});
  outcome.records = {child, unborn};
  PriorAccess byPerson{Instant(std::chrono::milliseconds(1'780'000'000'000)), false, "Dr A Person", "R8000",
                       "Clinical Practitioner", "RXX01", "Example Hospital", std::nullopt};
  PriorAccess bySystem{Instant(std::chrono::milliseconds(1'770'000'000'000)), true, "Ms Nominated", "", "",
                       "RXX02", "Example ED", std::string("123456789012")};
  outcome.accesses = {byPerson, bySystem};
  outcome.decidedAt = Instant(std::chrono::milliseconds(1'790'000'000'789));
  outcome.checkId = "6f1c1f5e-0c39-4a43-9d2c-0d5a4b5b7e11";
  outcome.source = Source::Simulator;
  return outcome;
}

void outcomeSame(const CheckOutcome& a, const CheckOutcome& b) {
  BOOST_TEST((a.status == b.status));
  BOOST_TEST((a.reason == b.reason));
  BOOST_TEST(a.reasonText == b.reasonText);
  BOOST_TEST((a.queried == b.queried));
  BOOST_TEST((a.refusedNhsNumber == b.refusedNhsNumber));
  BOOST_TEST((a.mode == b.mode));
  BOOST_TEST((a.records == b.records));
  BOOST_TEST((a.accesses == b.accesses));
  BOOST_TEST((a.decidedAt == b.decidedAt));
  BOOST_TEST(a.checkId == b.checkId);
  BOOST_TEST((a.source == b.source));
}

std::unique_ptr<cpis::store::SqliteMessageStore> openStore(const cpis::test::TempDir& dir) {
  auto opened = cpis::store::SqliteMessageStore::open((dir.path() / "store.db").string(), {});
  BOOST_TEST_REQUIRE(opened.ok());
  return std::move(opened).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memory_journal)

BOOST_AUTO_TEST_CASE(a_previous_check_comes_back_as_it_was) {
  const PreviousCheck check = everyField();
  const auto decoded = decodeCheck(encodeCheck(check));
  BOOST_TEST_REQUIRE(decoded.has_value());
  checkSame(*decoded, check);

  const PreviousCheck bare;  // nothing optional set
  const auto decodedBare = decodeCheck(encodeCheck(bare));
  BOOST_TEST_REQUIRE(decodedBare.has_value());
  checkSame(*decodedBare, bare);

  // The latest message's number is written only when it is another than the one checked: a row
  // without it reads as written before it was kept (the checked number), and older engines read
  // such rows as ever; one cut anywhere else does not read.
  PreviousCheck same = check;
  same.lastNumber = same.nhsNumber;
  same.lastNumberAt.reset();
  same.lastNumberPending = false;
  same.lastNumberRefused.reset();
  const std::string plain = encodeCheck(same);
  const std::string current = encodeCheck(check);
  BOOST_TEST(current.substr(0, plain.size()) == plain);
  BOOST_TEST(current.size() - plain.size() == std::string("1:1,10:9434765927,1:1,13:1790000300004,1:1,1:1,21:NHS_NUMBER_UNVERIFIED,").size());
  const auto decodedPlain = decodeCheck(plain);
  BOOST_TEST_REQUIRE(decodedPlain.has_value());
  BOOST_TEST((decodedPlain->lastNumber == check.nhsNumber));
  BOOST_TEST(!decodeCheck(current.substr(0, current.size() - std::string("1:1,21:NHS_NUMBER_UNVERIFIED,").size())).has_value());
}

BOOST_AUTO_TEST_CASE(an_outcome_comes_back_with_its_plans_contacts_and_accesses) {
  const CheckOutcome outcome = found();
  const auto decoded = decodeOutcome(encodeOutcome(outcome));
  BOOST_TEST_REQUIRE(decoded.has_value());
  outcomeSame(*decoded, outcome);

  CheckOutcome refused;
  refused.status = CheckStatus::NotChecked;
  refused.reason = cpis::domain::ReasonCode::NhsNumberInvalid;
  refused.refusedNhsNumber.emplace("943 476 591X");
  refused.checkId = "x";
  const auto decodedRefused = decodeOutcome(encodeOutcome(refused));
  BOOST_TEST_REQUIRE(decodedRefused.has_value());
  outcomeSame(*decodedRefused, refused);
}

BOOST_AUTO_TEST_CASE(a_merge_comes_back_with_its_trace_status) {
  const MergedNumbers::Survivor survivor{number("9434765919"), NhsNumberStatus::Nsts02};
  const auto decoded = decodeMerge(encodeMerge(survivor));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST((decoded->number == survivor.number));
  BOOST_TEST((decoded->status == NhsNumberStatus::Nsts02));
}

BOOST_AUTO_TEST_CASE(a_body_that_cannot_be_read_whole_is_refused) {
  for (const std::string body : {"", "{}", "7:check/1", "7:check/1,", "x:check/1,", "99:check/1,",
                                 "9:outcome/1,", "7:merge/1,10:9434765919,"}) {
    BOOST_TEST(!decodeCheck(body).has_value(), body);
    BOOST_TEST(!decodeOutcome(body).has_value(), body);
    BOOST_TEST(!decodeMerge(body).has_value(), body);
  }
  // another kind's body, another version, a body cut short, more after its end
  const std::string check = encodeCheck(everyField());
  BOOST_TEST(!decodeOutcome(check).has_value());
  std::string other = check;
  other.replace(0, 10, "7:check/2,");
  BOOST_TEST(!decodeCheck(other).has_value());
  // (cut where a row without the latest message's number ends, it reads as one of those)
  const std::size_t olderRow = check.size() - std::string("1:1,10:9434765927,1:1,13:1790000300004,1:1,1:1,21:NHS_NUMBER_UNVERIFIED,").size();
  for (std::size_t length = 0; length < check.size(); ++length) {
    if (length != olderRow) BOOST_TEST(!decodeCheck(check.substr(0, length)).has_value(), length);
  }
  BOOST_TEST(!decodeCheck(check + "0:,").has_value());
  // a value that is there but wrong: a bad check digit, an unknown code, a date that is none,
  // a flag that is neither 0 nor 1
  std::string wrong = check;
  wrong.replace(wrong.find("9434765919"), 10, "9434765918");
  BOOST_TEST(!decodeCheck(wrong).has_value());
  std::string outcome = encodeOutcome(found());
  outcome.replace(outcome.find("5:FOUND,"), 8, "6:FOUNDX,");
  BOOST_TEST(!decodeOutcome(outcome).has_value());
  outcome = encodeOutcome(found());
  outcome.replace(outcome.find("8:20260228,"), 11, "8:20260230,");
  BOOST_TEST(!decodeOutcome(outcome).has_value());
  BOOST_TEST(decodeMerge("7:merge/1,10:9434765919,1:2,").has_value());
  BOOST_TEST(!decodeMerge("7:merge/1,10:9434765919,1:0,").has_value());
  BOOST_TEST(!decodeMerge("7:merge/1,10:9434765919,2:10,").has_value());
  BOOST_TEST(!decodeMerge("7:merge/1,10:9434765919,2:+1,").has_value());
}

// The store writes staged rows with its next transaction: a blocking write queued after them
// returns once they are written too.
void written(cpis::store::MessageStore& store) {
  BOOST_TEST_REQUIRE(store.saveMemory({}, std::nullopt).isOk());
}

// What a run's memories wrote, a restart's memories put back: the same decisions follow.
BOOST_AUTO_TEST_CASE(the_memories_written_through_the_store_come_back_after_a_restart) {
  cpis::test::TempDir dir;
  Clock clock;
  const PreviousCheck check = everyField();
  {
    auto store = openStore(dir);
    MemoryJournal journal(clock.function(), *store);
    InMemoryCheckMemory memory(clock.function());
    memory.journalTo(&journal);
    LastOutcomes outcomes("ed", &journal);
    MergedNumbers merges(clock.function());
    merges.journalTo(&journal);

    memory.remember("ed", "V1", check);
    memory.remember("ed", "V2", PreviousCheck{});
    outcomes.remember("V1", found());
    clock.now += 1s;
    BOOST_TEST(merges.note(number("9434765919"), number("9434765870"), NhsNumberStatus::Nsts01));
    clock.now += 1s;
    // a merge back undoes the link: its row goes
    BOOST_TEST(merges.note(number("9434765870"), number("9434765919"), NhsNumberStatus::Nsts01));
    BOOST_TEST(merges.note(number("9434765919"), number("9434765870"), NhsNumberStatus::Nsts02));
    written(*store);
    const auto rows = store->loadMemory(cpis::store::TimePoint{});
    BOOST_TEST_REQUIRE(rows.ok());
    BOOST_TEST(rows->size() == 4U);  // two checks, an outcome, one merge (the other deleted)
  }
  clock.now += 1h;
  auto store = openStore(dir);
  const auto rows = store->loadMemory(cpis::store::TimePoint{});
  BOOST_TEST_REQUIRE(rows.ok());
  InMemoryCheckMemory memory(clock.function());
  LastOutcomes outcomes("ed");
  MergedNumbers merges(clock.function());
  for (const auto& row : *rows) {
    const auto at = std::chrono::floor<std::chrono::milliseconds>(row.at);
    if (row.kind == kCheckRow) memory.restore(row.feed, row.key, decodeCheck(row.body).value(), at);
    if (row.kind == kOutcomeRow) outcomes.restore(row.key, decodeOutcome(row.body).value());
    if (row.kind == kMergeRow) merges.restore(NhsNumber::parse(row.key).value(), decodeMerge(row.body).value(), at);
  }
  BOOST_TEST(memory.size() == 2U);
  const auto previous = memory.previous("ed", "V1");
  BOOST_TEST_REQUIRE(previous.has_value());
  checkSame(*previous, check);
  const auto outcome = outcomes.get("V1");
  BOOST_TEST_REQUIRE(outcome.has_value());
  outcomeSame(*outcome, found());
  // the last merge stands, with its status and its time (a failure before it is re-keyed,
  // one after it is not)
  const auto survivor = merges.survivorOf(number("9434765919"), clock.now - 2h);
  BOOST_TEST_REQUIRE(survivor.has_value());
  BOOST_TEST((survivor->number == number("9434765870")));
  BOOST_TEST((survivor->status == NhsNumberStatus::Nsts02));
  BOOST_TEST(!merges.survivorOf(number("9434765919"), clock.now - 1min).has_value());
  BOOST_TEST(!merges.survivorOf(number("9434765870")).has_value());
}

// Staged rows share the transaction of what the store writes next, and never fail it: rows the
// database refuses are lost alone (and logged), the message written with them is stored.
BOOST_AUTO_TEST_CASE(memory_rows_the_store_refuses_fail_alone) {
  cpis::test::TempDir dir;
  Clock clock;
  auto store = openStore(dir);
  MemoryJournal journal(clock.function(), *store);
  InMemoryCheckMemory memory(clock.function());
  memory.journalTo(&journal);
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", (dir.path() / "store.db").string());
  using Poco::Data::Keywords::now;
  session << "CREATE TRIGGER refuse_v2 BEFORE INSERT ON attendance_memory WHEN CAST(NEW.key AS TEXT) = 'V2'"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      now;
  memory.remember("ed", "V1", PreviousCheck{});
  memory.remember("ed", "V2", PreviousCheck{});
  memory.remember("ed", "V3", PreviousCheck{});
  const std::string raw = "MSH|^~\\&|EDSYS|RZZ|CPIS|RZZ|20261127||ADT^A04|M1|P|2.4\r";
  const auto persisted = store->persistInbound({"ed", "M1", raw});
  BOOST_TEST_REQUIRE(persisted.ok());
  BOOST_TEST(store->fetch(persisted->id).ok());
  written(*store);
  const auto rows = store->loadMemory(cpis::store::TimePoint{});
  BOOST_TEST_REQUIRE(rows.ok());
  BOOST_TEST_REQUIRE(rows->size() == 2U);
  BOOST_TEST(rows->at(0).key != "V2");
  BOOST_TEST(rows->at(1).key != "V2");
}

// A long stay's messages that change nothing still keep its rows young: the memory keeps an
// attendance 30 days from its last message, and so must the store (and a restart's load). The
// touch moves the rows' time and rewrites nothing: a newer row another instance wrote stays.
BOOST_AUTO_TEST_CASE(a_message_that_changes_nothing_touches_the_rows_after_an_hour) {
  cpis::test::TempDir dir;
  Clock clock;
  auto store = openStore(dir);
  MemoryJournal journal(clock.function(), *store);
  InMemoryCheckMemory memory(clock.function());
  memory.journalTo(&journal);
  LastOutcomes outcomes("ed", &journal);
  memory.remember("ed", "V1", everyField());
  outcomes.remember("V1", found());
  const auto checkedAt = cpis::store::TimePoint(clock.now);
  const auto times = [&] {
    written(*store);
    const auto rows = store->loadMemory(cpis::store::TimePoint{});
    BOOST_TEST_REQUIRE(rows.ok());
    BOOST_TEST_REQUIRE(rows->size() == 2U);
    BOOST_TEST((rows->at(0).at == rows->at(1).at));
    return rows->at(0).at;
  };
  BOOST_TEST((times() == checkedAt));
  clock.now += 59min;
  BOOST_TEST(memory.previous("ed", "V1").has_value());
  BOOST_TEST((times() == checkedAt));  // not yet
  // another instance (sharing the store) rewrites the check meanwhile
  PreviousCheck newer = everyField();
  newer.status = CheckStatus::Found;
  const std::vector<cpis::store::MemoryRow> theirs{
      {std::string(kCheckRow), "ed", "V1", encodeCheck(newer), cpis::store::TimePoint(clock.now - 1s)}};
  BOOST_TEST_REQUIRE(store->saveMemory(theirs, std::nullopt).isOk());
  clock.now += 1min;
  BOOST_TEST(memory.previous("ed", "V1").has_value());
  BOOST_TEST((times() == cpis::store::TimePoint(clock.now)));  // both rows, the outcome's too
  const auto rows = store->loadMemory(cpis::store::TimePoint{});
  BOOST_TEST_REQUIRE(rows.ok());
  for (const auto& row : *rows) {
    if (row.kind == kCheckRow) BOOST_TEST((decodeCheck(row.body).value().status == CheckStatus::Found));
  }
  // restored, it is last used when its row says, and kept 30 days from then
  InMemoryCheckMemory restored(clock.function());
  for (const auto& row : *rows) {
    if (row.kind != kCheckRow) continue;
    restored.restore("ed", "V1", decodeCheck(row.body).value(), std::chrono::floor<std::chrono::milliseconds>(row.at));
  }
  clock.now += std::chrono::hours(24 * 30) - 1min;
  BOOST_TEST(restored.previous("ed", "V1").has_value());
}

// Rows restored oldest first: a merge back whose undoing of the older link never reached the
// store (a crash between two transactions) still wins, as it did when it was noted.
BOOST_AUTO_TEST_CASE(a_merge_back_restored_after_the_merge_it_undid_undoes_it_again) {
  Clock clock;
  MergedNumbers merges(clock.function());
  merges.restore(number("9434765919"), {number("9434765870"), NhsNumberStatus::Nsts01}, clock.now - 2s);
  merges.restore(number("9434765870"), {number("9434765919"), NhsNumberStatus::Nsts01}, clock.now - 1s);
  const auto survivor = merges.survivorOf(number("9434765870"));
  BOOST_TEST_REQUIRE(survivor.has_value());
  BOOST_TEST((survivor->number == number("9434765919")));
  BOOST_TEST(!merges.survivorOf(number("9434765919")).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
