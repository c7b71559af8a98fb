#include "engine/notify/builtin_sinks.h"

#include <memory>
#include <mutex>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_server.h"
#include "tests/support/log_capture.h"
#include "tests/unit/notify/notify_test_support.h"

using namespace cpis;
using namespace std::chrono_literals;
using Kind = plugin::DeliveryResult::Kind;

namespace {

const std::string kAdt =
    "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|ED0001|P|2.4|||||GBR|UNICODE UTF-8|EN\r"
    "EVN|A04|20261125101500\r"
    "PID|1||9990000018^^^NHS^NH||TESTCHILD^ALEX^^^^^L||20150403|M\r"
    "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||V1^^^RZZ^VN\r";

std::string field(const std::string& hl7, const std::string& path) {
  auto message = hl7v2::parse(hl7);
  return message ? message.value().get(path) : "<unreadable>";
}

notify::ComposerSettings settings(notify::DataLevel level = notify::DataLevel::Minimal) {
  notify::ComposerSettings s;
  s.sinks.push_back(notify::SinkRoute{"team", {"plan-found", "check-abandoned"}, level, false});
  s.feedsWithReturn.insert("ed");
  return s;
}

// A feed whose check notes the NHS number it was asked about in `asked` and answers FOUND.
notify::RecheckFeed askingFeed(std::vector<std::string>& asked) {
  notify::RecheckFeed feed;
  feed.check = [&asked](const domain::Attendance& a, std::string_view, bool) {
    asked.emplace_back(a.nhsNumber->reveal());
    return test::found("NEW-CHECK");
  };
  return feed;
}

// The deferred check of test::child()'s failed check, as the intake writes it.
store::OutboxEntry deferredEntry(const notify::Composer& composer, std::optional<store::MessageId> messageId) {
  const auto n = composer.deferredCheck(test::child(), test::failed(), messageId);
  store::OutboxEntry e;
  e.id = 11;
  e.messageId = messageId;
  e.sink = n.sink;
  e.kind = n.kind;
  e.idempotencyKey = n.idempotencyKey;
  e.payload = n.payload;
  return e;
}

void zcp(std::string& message, const domain::CheckOutcome& outcome) {
  message += "ZCP|1|" + std::string(domain::codeOf(outcome.status)) + "\r";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(late_result)

BOOST_AUTO_TEST_CASE(its_control_id_is_short_stable_and_follows_the_idempotency_key) {
  const auto a = notify::lateResultControlId("late-result:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
  BOOST_TEST(a.size() <= 20u);
  BOOST_TEST(a.front() == 'L');
  BOOST_TEST(a == notify::lateResultControlId("late-result:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311"));
  BOOST_TEST(a != notify::lateResultControlId("late-result:ed:V2:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311"));
}

BOOST_AUTO_TEST_CASE(is_an_oru_r01_to_the_sender_with_its_patient_and_the_alerts) {
  const std::string oru = notify::buildLateResult(kAdt, "LABC", "20261125103000+0000",
                                                  [](std::string& m) { m += "ZCP|1|FOUND\r"; });
  BOOST_TEST(field(oru, "MSH-9") == "ORU");
  BOOST_TEST(field(oru, "MSH-9.2") == "R01");
  BOOST_TEST(field(oru, "MSH-10") == "LABC");
  BOOST_TEST(field(oru, "MSH-3") == "CPIS-ENGINE");
  BOOST_TEST(field(oru, "MSH-5") == "EDSYS");
  BOOST_TEST(field(oru, "MSH-6") == "RZZ");
  BOOST_TEST(field(oru, "MSH-12") == "2.4");
  BOOST_TEST(field(oru, "MSH-17") == "GBR");
  BOOST_TEST(field(oru, "MSH-18") == "UNICODE UTF-8");
  BOOST_TEST(field(oru, "MSH-19") == "EN");  // as the ACK echoes it
  BOOST_TEST(oru.find("|GBR|UNICODE UTF-8|EN\r") != std::string::npos, oru);
  BOOST_TEST(field(oru, "PID-3") == "9990000018");
  BOOST_TEST(field(oru, "PV1-19") == "V1");
  BOOST_TEST(field(oru, "ZCP-2") == "FOUND");
  // Without the original (content purged): still a message the EPR can read.
  const std::string bare = notify::buildLateResult("", "LABC", "20261125103000+0000", {});
  BOOST_TEST(field(bare, "MSH-10") == "LABC");
  // An ADT with an empty MSH-18, read in UTF-8 by its feed: the result says UTF-8.
  std::string unstated = kAdt;
  unstated.replace(unstated.find("|UNICODE UTF-8|"), 15, "||");
  unstated.replace(unstated.find("TESTCHILD"), 9, "TESTCH\xC3\x8FLD");
  const std::string read = notify::buildLateResult(unstated, "LABC", "20261125103000+0000", {}, std::nullopt,
                                                   "F-1", hl7v2::Charset::Utf8);
  BOOST_TEST(field(read, "MSH-18") == "UNICODE UTF-8", read);
  BOOST_TEST(field(read, "PID-3") == "9990000018");
  BOOST_TEST(field(bare, "OBR-4") == "CPIS-CHECK");
  const std::string named =
      notify::buildLateResult("", "LABC", "20261125103000+0000", {}, std::nullopt, "F-1");
  BOOST_TEST(field(named, "OBR-3") == "F-1");
  BOOST_TEST(field(named, "OBR-4") == "CPIS-CHECK");
}

BOOST_AUTO_TEST_CASE(escapes_its_own_texts_for_the_feeds_delimiters) {
  // '-' between fields and '_' between components: the engine's texts hold both.
  const std::string adt =
      "MSH-_~\\&-EDSYS-RZZ-CPIS-RZZ-20261125101500--ADT_A04-C1-P-2.4\r"
      "PID-1--9990000018_____NHS_NH--TESTCHILD_ALEX-\r"
      "PV1-1-E-EDMAJ\r";
  const std::string oru = notify::buildLateResult(adt, "LABC", "20261125103000+0000", {}, std::nullopt,
                                                  "7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
  const auto parsed = hl7v2::parse(oru);
  BOOST_REQUIRE(parsed);
  const hl7v2::Message& m = parsed.value();
  BOOST_TEST(m.get("MSH-9") == "ORU");
  BOOST_TEST(m.get("MSH-9.3") == "ORU_R01");
  BOOST_TEST(m.get("MSH-10") == "LABC");
  BOOST_TEST(m.get("MSH-12") == "2.4");
  BOOST_TEST(m.get("PID-3") == "9990000018");
  BOOST_TEST(m.get("OBR-4") == "CPIS-CHECK");
  BOOST_TEST(m.get("OBR-4.2") == "CP-IS check");
  BOOST_TEST(m.get("OBR-7") == "20261125103000+0000");
  BOOST_TEST(m.get("OBR-2") == "C1");
  BOOST_TEST(m.get("OBR-3") == "7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");  // its '-' escaped, read back whole
  BOOST_TEST(m.get("OBR-3.2") == "CPIS-ENGINE");
  BOOST_TEST(m.segmentCount() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(recheck_sink, test::StoreFixture)

// A deferred check replayed after it was abandoned, and abandoned again, is a new incident: its
// check-abandoned gets a new key (the outbox drops one it already holds). The same abandonment
// written twice (a crash between its follow-ups and its mark) keeps the key.
BOOST_AUTO_TEST_CASE(a_replayed_deferred_check_abandoned_again_tells_a_person_again) {
  const notify::Composer composer(settings());
  notify::RecheckSink sink(*store, composer, {});
  store::OutboxEntry entry = deferredEntry(composer, std::nullopt);
  entry.deadline = composer.deferredCheck(test::child(), test::failed(), std::nullopt).deadline;
  const auto first = sink.onDead(entry);
  BOOST_TEST_REQUIRE(first.size() == 1u);
  BOOST_TEST(first[0].idempotencyKey == "check-abandoned:ed:V1:" + test::failed().checkId);
  BOOST_TEST(sink.onDead(entry)[0].idempotencyKey == first[0].idempotencyKey);
  entry.deadline = *entry.deadline + std::chrono::hours(30);  // the replay's new window
  const auto again = sink.onDead(entry);
  BOOST_TEST_REQUIRE(again.size() == 1u);
  BOOST_TEST(again[0].idempotencyKey != first[0].idempotencyKey);
  BOOST_TEST(again[0].idempotencyKey.rfind(first[0].idempotencyKey + "~", 0) == 0u, again[0].idempotencyKey);
}

BOOST_AUTO_TEST_CASE(a_successful_re_run_queues_the_late_result_and_plan_found_keyed_by_the_failed_check) {
  const notify::Composer composer(settings());
  const auto persisted = store->persistInbound(store::InboundMessage{"ed", "ED0001", kAdt});
  BOOST_TEST_REQUIRE(persisted.ok());
  std::vector<domain::Attendance> asked;
  std::vector<std::string> underIds;
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance& a, std::string_view checkId, bool) {
    asked.push_back(a);
    underIds.emplace_back(checkId);
    return test::found("NEW-CHECK");
  };
  feed.appendAlerts = zcp;
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  const auto result = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(result.kind == Kind::Delivered);
  BOOST_TEST_REQUIRE(asked.size() == 1u);
  BOOST_TEST(asked.front().nhsNumber->reveal() == "9990000018");
  BOOST_TEST(asked.front().locationKey == "EDMAJ");
  // The failed check tried again: its query's event id is the failed check's (CPIS.md §7).
  BOOST_TEST(underIds.front() == test::failed().checkId);
  BOOST_TEST_REQUIRE(followUps.size() == 2u);
  const auto& late = followUps[0];
  BOOST_TEST(late.sink == "epr-return:ed");
  BOOST_TEST(late.idempotencyKey == "late-result:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
  BOOST_TEST((late.messageId == persisted.value().id));
  const std::string hl7 = notify::payloadField(late.payload, notify::kKeyHl7).value_or("");
  BOOST_TEST(field(hl7, "MSH-9.2") == "R01");
  BOOST_TEST(field(hl7, "MSH-10") == notify::lateResultControlId(late.idempotencyKey));
  BOOST_TEST(field(hl7, "PID-3") == "9990000018");
  BOOST_TEST(field(hl7, "ZCP-2") == "FOUND");
  // The OBR says which failed check this completes: the ADT's MSH-10 and the failed check's id
  // (its ACK's ZCP-15.1), not only this check's own (ZCP-15).
  BOOST_TEST(field(hl7, "OBR-2") == "ED0001");
  BOOST_TEST(field(hl7, "OBR-3.1") == test::failed().checkId);
  BOOST_TEST(field(hl7, "OBR-3.2") == "CPIS-ENGINE");
  BOOST_TEST(field(hl7, "OBR-4.1") == "CPIS-CHECK");
  BOOST_TEST(followUps[1].sink == "team");
  BOOST_TEST(followUps[1].idempotencyKey == "plan-found:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
}

// A plan found late with neither the EPR's return connection nor a plan-found sink reaches
// nobody but the log: an ops alert (ids only) says so, and that the check by hand matters.
BOOST_AUTO_TEST_CASE(a_plan_found_late_that_nobody_receives_is_an_ops_alert) {
  notify::ComposerSettings lonely;  // no sink, no return connection
  const notify::Composer composer(lonely);
  std::vector<std::string> asked;
  notify::RecheckSink sink(*store, composer, {{"ed", askingFeed(asked)}});
  test::LogCapture log("cpis.notify");
  notify::Notifications followUps;
  BOOST_TEST((sink.deliver(deferredEntry(composer, 42), followUps).kind == Kind::Delivered));
  BOOST_TEST(followUps.empty());
  const std::string logged = log.all();
  BOOST_TEST(logged.find("OPS ALERT: deferred check 11 of message 42 (check " + test::failed().checkId +
                         ") found a CP-IS plan, and nobody receives it: feed ed has no <returnConnection>") !=
                 std::string::npos,
             logged);
  BOOST_TEST(logged.find("9990000018") == std::string::npos);

  // With a sink for plan-found, or a return connection, somebody does: no alert.
  const notify::Composer served(settings());
  notify::RecheckSink servedSink(*store, served, {{"ed", askingFeed(asked)}});
  test::LogCapture quiet("cpis.notify");
  followUps.clear();
  BOOST_TEST((servedSink.deliver(deferredEntry(served, 42), followUps).kind == Kind::Delivered));
  BOOST_TEST(!followUps.empty());
  BOOST_TEST(quiet.all().find("OPS ALERT") == std::string::npos, quiet.all());
}

BOOST_AUTO_TEST_CASE(not_found_tells_the_epr_only_and_a_failure_is_retried) {
  const notify::Composer composer(settings());
  domain::CheckOutcome next = test::found("NEW");
  next.status = domain::CheckStatus::NotFound;
  next.records.clear();
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance&, std::string_view, bool) { return next; };
  feed.appendAlerts = zcp;
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(deferredEntry(composer, std::nullopt), followUps).kind == Kind::Delivered);
  BOOST_TEST_REQUIRE(followUps.size() == 1u);
  BOOST_TEST(followUps[0].kind == "late-result");

  next = test::failed("AGAIN");
  followUps.clear();
  const auto result = sink.deliver(deferredEntry(composer, std::nullopt), followUps);
  BOOST_TEST(result.kind == Kind::Retry);
  BOOST_TEST(result.text.find("SPINE_UNAVAILABLE") != std::string::npos);
  BOOST_TEST(result.text.find("9990000018") == std::string::npos);
  BOOST_TEST(followUps.empty());
}

// CPIS.md §7: a failed check whose query went out whole and got no answer (Spine may have made
// the access) has its re-check's query flagged a possible duplicate; one that never reached
// Spine does not.
BOOST_AUTO_TEST_CASE(a_re_run_after_a_query_that_may_have_arrived_is_a_possible_duplicate) {
  const notify::Composer composer(settings());
  std::vector<bool> flagged;
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance&, std::string_view, bool earlierMayHaveArrived) {
    flagged.push_back(earlierMayHaveArrived);
    return test::found("NEW-CHECK");
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(deferredEntry(composer, std::nullopt), followUps).kind == Kind::Delivered);
  domain::CheckOutcome timedOut = test::failed();
  timedOut.reason = domain::ReasonCode::Timeout;
  timedOut.requestMayHaveArrived = true;
  const auto n = composer.deferredCheck(test::child(), timedOut, std::nullopt);
  BOOST_TEST(notify::payloadField(n.payload, notify::kKeyMayHaveArrived).value_or("") == "true");
  store::OutboxEntry entry = deferredEntry(composer, std::nullopt);
  entry.payload = n.payload;
  BOOST_TEST(sink.deliver(entry, followUps).kind == Kind::Delivered);
  BOOST_TEST(flagged == (std::vector<bool>{false, true}), boost::test_tools::per_element());
}

// A check whose reply Spine sent but the engine could not read (UNRECOGNISED_RESPONSE): Spine
// made the access, so its re-check is a possible duplicate; and a re-check answered unreadably
// again goes to a person at once rather than being retried (each query records an access and
// tells the local authority: one such record was re-queried every few minutes for a day).
BOOST_AUTO_TEST_CASE(a_reply_that_cannot_be_read_is_re_checked_once_and_then_goes_to_a_person) {
  const notify::Composer composer(settings());
  std::vector<bool> flagged;
  domain::CheckOutcome next = test::failed("AGAIN");
  next.reason = domain::ReasonCode::UnrecognisedResponse;
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance&, std::string_view, bool earlierMayHaveArrived) {
    flagged.push_back(earlierMayHaveArrived);
    return next;
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  domain::CheckOutcome unreadable = test::failed();
  unreadable.reason = domain::ReasonCode::UnrecognisedResponse;
  store::OutboxEntry entry = deferredEntry(composer, std::nullopt);
  entry.payload = composer.deferredCheck(test::child(), unreadable, std::nullopt).payload;
  notify::Notifications followUps;
  const auto result = sink.deliver(entry, followUps);
  BOOST_TEST(result.kind == Kind::Failed);  // dead-lettered: onDead tells a person
  BOOST_TEST(result.text.find("check CP-IS by hand") != std::string::npos, result.text);
  BOOST_TEST(result.text.find("9990000018") == std::string::npos);
  BOOST_TEST(followUps.empty());
  BOOST_TEST(flagged == (std::vector<bool>{true}), boost::test_tools::per_element());
  // Spine unavailable instead: retried, as before.
  next.reason = domain::ReasonCode::SpineUnavailable;
  BOOST_TEST(sink.deliver(entry, followUps).kind == Kind::Retry);
  // After a failure that was not an unreadable reply (Spine down), one unreadable reply is
  // retried as any failure is: a proxy's page during an outage abandons nothing.
  next.reason = domain::ReasonCode::UnrecognisedResponse;
  BOOST_TEST(sink.deliver(deferredEntry(composer, std::nullopt), followUps).kind == Kind::Retry);
}

// CPIS.md §4: no query for a cancelled attendance (A11 after the failed check).
BOOST_AUTO_TEST_CASE(a_cancelled_attendance_s_re_run_is_withdrawn_without_a_query) {
  const notify::Composer composer(settings());
  std::size_t asked = 0;
  std::vector<std::string> visits;
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance&, std::string_view, bool) {
    ++asked;
    return test::found("NEW");
  };
  feed.appendAlerts = zcp;
  feed.cancelled = [&](const domain::Attendance& a) {
    visits.push_back(a.visitNumber);
    return true;
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  const auto result = sink.deliver(deferredEntry(composer, std::nullopt), followUps);
  BOOST_TEST(result.kind == Kind::Delivered);
  BOOST_TEST(result.text.find("cancelled") != std::string::npos);
  BOOST_TEST(asked == 0u);
  BOOST_TEST(followUps.empty());
  BOOST_TEST(visits == std::vector<std::string>{"V1"});
}

// CPIS.md §4, hazard H1: a patient merge (A40) retired the number the check failed on. The re-run
// asks about the surviving number, for the child who is there; the late result names that
// number in its PID too (the EPR sent CR LF between segments: the PID is found all the same);
// the intake is told of the answer with the attendance as it failed (so that the answer can
// take the failure's place); an abandoned check names the surviving number.
BOOST_AUTO_TEST_CASE(a_merged_attendance_s_re_run_asks_about_the_surviving_number) {
  notify::ComposerSettings identifiers = settings();
  identifiers.sinks.front().data = notify::DataLevel::Identifiers;
  const notify::Composer composer(identifiers);
  std::string crlf;
  for (const char c : kAdt) crlf += c == '\r' ? std::string("\r\n") : std::string(1, c);
  const auto persisted = store->persistInbound(store::InboundMessage{"ed", "ED0001", crlf});
  BOOST_TEST_REQUIRE(persisted.ok());
  std::vector<std::string> asked, told;
  notify::RecheckFeed feed;
  feed.check = [&](const domain::Attendance& a, std::string_view, bool) {
    asked.emplace_back(a.nhsNumber->reveal());
    auto answer = test::found("NEW-CHECK");
    answer.queried = a.nhsNumber;
    return answer;
  };
  feed.appendAlerts = zcp;
  feed.answered = [&](const domain::Attendance& a, const domain::CheckOutcome& o, std::string_view, domain::Instant) {
    told.emplace_back(std::string(a.nhsNumber->reveal()) + ">" + std::string(o.queried->reveal()));
  };
  std::string refused;
  feed.mergedInto = [&](const domain::Attendance& a, domain::Instant) -> std::optional<domain::MergedNumber> {
    if (a.nhsNumber->reveal() != "9990000018") return std::nullopt;
    return domain::MergedNumber{domain::NhsNumber::parse("9990000026").value(), refused,
                                refused.empty() ? std::nullopt : std::optional(domain::ReasonCode::NhsNumberUnverified)};
  };
  bool checkedSince = false;
  feed.superseded = [&](const domain::Attendance& a, domain::Instant) -> std::optional<std::string> {
    BOOST_TEST(a.nhsNumber->reveal() == "9990000018");  // asked about the attendance as its check failed
    if (!checkedSince) return std::nullopt;
    return std::string("the attendance was checked on another NHS number since");
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(deferredEntry(composer, persisted.value().id), followUps).kind == Kind::Delivered);
  BOOST_TEST(asked == std::vector<std::string>{"9990000026"});
  BOOST_TEST(told == std::vector<std::string>{"9990000018>9990000026"});
  BOOST_TEST_REQUIRE(followUps.size() == 2u);
  const std::string hl7 = notify::payloadField(followUps[0].payload, notify::kKeyHl7).value_or("");
  BOOST_TEST(field(hl7, "PID-3") == "9990000026");
  BOOST_TEST(hl7.find("9990000018") == std::string::npos);
  BOOST_TEST(notify::payloadField(followUps[1].payload, notify::kKeyNhsNumber).value_or("") == "9990000026");
  const auto abandoned = sink.onDead(deferredEntry(composer, persisted.value().id));
  BOOST_TEST_REQUIRE(abandoned.size() == 1u);
  BOOST_TEST(notify::payloadField(abandoned[0].payload, notify::kKeyNhsNumber).value_or("") == "9990000026");

  // The attendance was checked on the surviving number since (an update carrying it): not
  // made again.
  checkedSince = true;
  asked.clear();
  followUps.clear();
  const auto superseded = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(superseded.kind == Kind::Delivered);
  BOOST_TEST(superseded.text.find("superseded") != std::string::npos);
  BOOST_TEST(asked.empty());
  BOOST_TEST(followUps.empty());

  // The feed's rules refuse the surviving number: neither number is queried; a person checks
  // (dead-lettered). The abandoned check names the surviving record, says why, and gives the
  // refusal's reason code, not the outage's.
  checkedSince = false;
  refused = "NHS number trace status NSTS02 is not verified";
  const auto toPerson = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(toPerson.kind == Kind::Failed);
  BOOST_TEST(toPerson.text.find("NSTS02") != std::string::npos);
  BOOST_TEST(toPerson.text.find("999") == std::string::npos);
  BOOST_TEST(asked.empty());
  const auto byHand = sink.onDead(deferredEntry(composer, persisted.value().id));
  BOOST_TEST_REQUIRE(byHand.size() == 1u);
  BOOST_TEST(notify::payloadField(byHand[0].payload, notify::kKeyNhsNumber).value_or("") == "9990000026");
  BOOST_TEST(notify::payloadField(byHand[0].payload, notify::kKeyReason).value_or("") == "NHS_NUMBER_UNVERIFIED");

  // A check already made on the surviving number wins over the A40's trace status for it.
  checkedSince = true;
  BOOST_TEST(sink.deliver(deferredEntry(composer, persisted.value().id), followUps).kind == Kind::Delivered);
}

// The EPR moved the attendance to another number since the check failed, a number that was not
// checked (an unverified one): the failed number is not queried, and a person checks CP-IS by
// hand, told of the record the EPR now uses. A check since still wins (not made, not a person's).
BOOST_AUTO_TEST_CASE(a_re_run_of_an_attendance_the_epr_moved_to_an_unchecked_number_goes_to_a_person) {
  const notify::Composer composer(settings(notify::DataLevel::Identifiers));
  const auto persisted = store->persistInbound(store::InboundMessage{"ed", "ED0001", std::string(kAdt)});
  BOOST_TEST_REQUIRE(persisted.ok());
  std::vector<std::string> asked;
  notify::RecheckFeed feed = askingFeed(asked);
  bool checkedSince = false;
  feed.superseded = [&](const domain::Attendance&, domain::Instant) -> std::optional<std::string> {
    if (!checkedSince) return std::nullopt;
    return std::string("the attendance had an unscheduled check since");
  };
  bool checkPending = false;
  const char* moved = "9990000042";
  feed.movedTo = [&](const domain::Attendance& a, domain::Instant) -> std::optional<domain::MovedNumber> {
    BOOST_TEST(a.nhsNumber->reveal() == "9990000018");  // asked about the attendance as its check failed
    return domain::MovedNumber{domain::NhsNumber::parse(moved).value(), checkPending,
                               domain::ReasonCode::TestNumberInLive};
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  const auto toPerson = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(toPerson.kind == Kind::Failed);
  BOOST_TEST(toPerson.text.find("moved the attendance to another NHS number") != std::string::npos);
  BOOST_TEST(toPerson.text.find("999") == std::string::npos);
  BOOST_TEST(asked.empty());
  BOOST_TEST(followUps.empty());
  const auto byHand = sink.onDead(deferredEntry(composer, persisted.value().id));
  BOOST_TEST_REQUIRE(byHand.size() == 1u);
  BOOST_TEST(notify::payloadField(byHand[0].payload, notify::kKeyNhsNumber).value_or("") == "9990000042");
  // why that number was not checked, not the outage's reason
  BOOST_TEST(notify::payloadField(byHand[0].payload, notify::kKeyReason).value_or("") == "TEST_NUMBER_IN_LIVE");

  // While that number's own check has not ended, the re-check waits for it.
  checkPending = true;
  const auto waiting = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(waiting.kind == Kind::Retry);
  BOOST_TEST(asked.empty());
  // So it does for a check on the failed number itself (the same child); given up meanwhile, it
  // is an ordinary abandoned check, with the failure's own reason.
  moved = "9990000018";
  BOOST_TEST(sink.deliver(deferredEntry(composer, persisted.value().id), followUps).kind == Kind::Retry);
  BOOST_TEST(asked.empty());
  const auto entry = deferredEntry(composer, persisted.value().id);
  const auto ordinary = sink.onDead(entry);
  BOOST_TEST_REQUIRE(ordinary.size() == 1u);
  BOOST_TEST(notify::payloadField(ordinary[0].payload, notify::kKeyNhsNumber).value_or("") == "9990000018");
  BOOST_TEST(notify::payloadField(ordinary[0].payload, notify::kKeyReason).value_or("-") ==
             notify::payloadField(entry.payload, notify::kKeyReason).value_or(""));
  moved = "9990000042";

  checkedSince = true;
  const auto superseded = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(superseded.kind == Kind::Delivered);
  BOOST_TEST(asked.empty());
}

// The EPR corrected the patient since the check failed, and the new number was only read
// silently (a scheduled setting: no access recorded, no local authority told): neither number is
// queried; a person checks CP-IS by hand, told of that number and why, with the failure's own
// reason. The abandoned check carries no name or date of birth: the failed message's, they may
// be another child's.
BOOST_AUTO_TEST_CASE(a_re_run_of_an_attendance_the_epr_corrected_to_a_number_read_silently_goes_to_a_person) {
  const notify::Composer composer(settings(notify::DataLevel::Full));
  const auto persisted = store->persistInbound(store::InboundMessage{"ed", "ED0001", std::string(kAdt)});
  BOOST_TEST_REQUIRE(persisted.ok());
  std::vector<std::string> asked;
  notify::RecheckFeed feed = askingFeed(asked);
  feed.movedTo = [&](const domain::Attendance&, domain::Instant) -> std::optional<domain::MovedNumber> {
    return domain::MovedNumber{domain::NhsNumber::parse("9990000042").value(), false, std::nullopt, true};
  };
  notify::RecheckSink sink(*store, composer, {{"ed", feed}});
  notify::Notifications followUps;
  const auto toPerson = sink.deliver(deferredEntry(composer, persisted.value().id), followUps);
  BOOST_TEST(toPerson.kind == Kind::Failed);
  BOOST_TEST(toPerson.text.find("only read silently") != std::string::npos);
  BOOST_TEST(toPerson.text.find("999") == std::string::npos);
  BOOST_TEST(asked.empty());
  BOOST_TEST(followUps.empty());
  const auto entry = deferredEntry(composer, persisted.value().id);
  BOOST_TEST_REQUIRE(notify::payloadField(entry.payload, notify::kKeyFamilyName).has_value());  // full data
  const auto byHand = sink.onDead(entry);
  BOOST_TEST_REQUIRE(byHand.size() == 1u);
  const std::string& payload = byHand[0].payload;
  BOOST_TEST(notify::payloadField(payload, notify::kKeyNhsNumber).value_or("") == "9990000042");
  BOOST_TEST(notify::payloadField(payload, notify::kKeyReason).value_or("-") ==
             notify::payloadField(entry.payload, notify::kKeyReason).value_or(""));
  BOOST_TEST(notify::payloadField(payload, notify::kKeyFamilyName).value_or("") == "");
  BOOST_TEST(notify::payloadField(payload, notify::kKeyGivenName).value_or("") == "");
  BOOST_TEST(notify::payloadField(payload, notify::kKeyBirthDate).value_or("") == "");
  BOOST_TEST(notify::payloadField(payload, notify::kKeyVisitNumber).value_or("") ==
             notify::payloadField(entry.payload, notify::kKeyVisitNumber).value_or("-"));
}

BOOST_AUTO_TEST_CASE(an_abandoned_check_is_reported_to_the_subscribed_sinks) {
  const notify::Composer composer(settings());
  notify::RecheckSink sink(*store, composer, {});
  const auto abandoned = sink.onDead(deferredEntry(composer, 3));
  BOOST_TEST_REQUIRE(abandoned.size() == 1u);
  BOOST_TEST(abandoned[0].sink == "team");
  BOOST_TEST(abandoned[0].kind == "check-abandoned");
  BOOST_TEST(abandoned[0].idempotencyKey == "check-abandoned:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
  BOOST_TEST(notify::payloadField(abandoned[0].payload, notify::kKeyStatus).value_or("") == "CHECK_FAILED");
  // A feed no longer configured cannot be re-checked: a person must look.
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(deferredEntry(composer, 3), followUps).kind == Kind::Failed);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(return_sink)

namespace {
class Epr final : public mllp::FrameHandler {
 public:
  std::string onFrame(std::string_view payload, const mllp::PeerInfo&) override {
    const std::lock_guard lock(mutex);
    received.emplace_back(payload);
    return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125||ACK|R1|P|2.4\rMSA|" + answer + "|" +
           (acknowledged.empty() ? field(std::string(payload), "MSH-10") : acknowledged) + msaTail + "\r" +
           err;
  }
  std::string onOversized(std::string_view, std::size_t, const mllp::PeerInfo&) override { return {}; }
  std::mutex mutex;
  std::vector<std::string> received;
  std::string answer = "AA";
  std::string acknowledged;  // MSA-2; empty: the message's own MSH-10
  std::string msaTail;       // MSA-3 on, after MSA-2 ("|text||code")
  std::string err;           // segments after the MSA (ERR), each ending in \r
};

store::OutboxEntry lateEntry(const std::string& adt = kAdt) {
  const notify::Composer composer(settings());
  const auto late = composer.lateResult(test::child(), test::found(), "C1",
                                        notify::buildLateResult(adt, "LXYZ", "20261125103000+0000", {}), 1);
  store::OutboxEntry e;
  e.id = 1;
  e.sink = late->sink;
  e.kind = late->kind;
  e.idempotencyKey = late->idempotencyKey;
  e.payload = late->payload;
  return e;
}
// An EPR listening on the feed's return connection, and the sink that sends to it.
struct ToEpr {
  Epr epr;
  mllp::MllpServer server{mllp::ListenerSettings{}, epr};
  std::unique_ptr<notify::ReturnSink> sink;
  ToEpr() {
    server.start();
    notify::ReturnSinkSettings s;
    s.feed = "ed";
    s.host = "127.0.0.1";
    s.port = server.port();
    s.ackTimeout = 5s;
    sink = std::make_unique<notify::ReturnSink>(s);
  }
  ~ToEpr() { server.stop(); }
};
}  // namespace

BOOST_AUTO_TEST_CASE(sends_the_message_and_the_epr_s_answer_decides) {
  ToEpr to;
  auto& epr = to.epr;
  auto& sink = *to.sink;
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(lateEntry(), followUps).kind == Kind::Delivered);
  {
    const std::lock_guard lock(epr.mutex);
    BOOST_TEST_REQUIRE(epr.received.size() == 1u);
    BOOST_TEST(field(epr.received[0], "MSH-10") == "LXYZ");
    BOOST_TEST(field(epr.received[0], "MSH-9") == "ORU");
    epr.answer = "AE";
  }
  BOOST_TEST(sink.deliver(lateEntry(), followUps).kind == Kind::Failed);
  {
    const std::lock_guard lock(epr.mutex);
    epr.answer = "AR";
  }
  BOOST_TEST(sink.deliver(lateEntry(), followUps).kind == Kind::Retry);
  {
    const std::lock_guard lock(epr.mutex);
    epr.err = "ERR|||207^Application internal error^HL70357|E\r";  // "send it again later"
  }
  BOOST_TEST(sink.deliver(lateEntry(), followUps).kind == Kind::Retry);
  // An AR that says the EPR does not take ORU^R01 at all (HL7 table 0357: 200-203) goes to a
  // person: it was retried for ever. v2.5's ERR-3, v2.3's ERR-1.4 (after another error), MSA-6.
  for (const char* refusal : {"ERR|||200^Unsupported message type^HL70357|E\r",
                              "ERR|MSH^1^9^207\rERR|MSH^1^9^201&Unsupported event code&HL70357\r",
                              "|no ORU here|||203^Unsupported version id"}) {
    {
      const std::lock_guard lock(epr.mutex);
      const bool msa = refusal[0] == '|';
      epr.answer = msa ? "CR" : "AR";
      epr.err = msa ? "" : refusal;
      epr.msaTail = msa ? refusal : "";
    }
    const auto refused = sink.deliver(lateEntry(), followUps);
    BOOST_TEST(refused.kind == Kind::Failed, refusal);
    BOOST_TEST(refused.text.find("it does not take this message") != std::string::npos, refused.text);
  }
  {
    const std::lock_guard lock(epr.mutex);
    epr.err.clear();
    epr.msaTail.clear();
  }
  {
    const std::lock_guard lock(epr.mutex);
    epr.answer = "AA";
    epr.acknowledged = "ANOTHER1";  // an ACK of another message delivers nothing
  }
  BOOST_TEST(sink.deliver(lateEntry(), followUps).kind == Kind::Retry);
}

// CPIS.md §4 (MSH-18: the reply in the sender's character set): a Latin-1 feed's late result
// with a name beyond ASCII reaches the EPR byte for byte. (Its bytes in the JSON payload as they
// were made it invalid UTF-8: the payload did not parse, and the result was dead-lettered.)
BOOST_AUTO_TEST_CASE(a_latin_1_message_is_sent_byte_for_byte) {
  ToEpr to;
  auto& epr = to.epr;
  auto& sink = *to.sink;
  std::string latin1 = kAdt;
  latin1.replace(latin1.find("UNICODE UTF-8"), 13, "8859/1");
  latin1.replace(latin1.find("TESTCHILD^ALEX"), 14, "TESTCHILD^ZO\xCB");
  const auto entry = lateEntry(latin1);
  BOOST_TEST(notify::payloadFields(entry.payload).has_value());  // valid JSON, valid UTF-8
  BOOST_TEST(!notify::payloadField(entry.payload, notify::kKeyHl7).has_value());
  const std::string sent = notify::hl7Of(entry.payload).value_or("");
  BOOST_TEST(sent.find("TESTCHILD^ZO\xCB") != std::string::npos);
  notify::Notifications followUps;
  BOOST_TEST(sink.deliver(entry, followUps).kind == Kind::Delivered);
  {
    const std::lock_guard lock(epr.mutex);
    BOOST_TEST_REQUIRE(epr.received.size() == 1u);
    BOOST_TEST(epr.received[0] == sent);
  }
}

BOOST_AUTO_TEST_CASE(an_epr_that_is_not_listening_is_a_retry) {
  std::uint16_t port = 0;
  {
    Epr epr;
    mllp::MllpServer server(mllp::ListenerSettings{}, epr);
    server.start();
    port = server.port();
    server.stop();
  }
  notify::ReturnSinkSettings s;
  s.host = "127.0.0.1";
  s.port = port;
  s.connectTimeout = 2s;
  notify::ReturnSink sink(s);
  notify::Notifications followUps;
  const auto result = sink.deliver(lateEntry(), followUps);
  BOOST_TEST(result.kind == Kind::Retry);
  // where, and what, in words a person reads (it was a mangled C++ class name)
  BOOST_TEST(
      result.text == "return connection to 127.0.0.1:" + std::to_string(port) + " failed: Connection refused",
      result.text);
}

BOOST_AUTO_TEST_SUITE_END()
