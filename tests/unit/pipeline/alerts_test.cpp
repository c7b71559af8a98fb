// The alert segments of CPIS.md section 5, compared byte for byte with golden files in
// tests/data/alerts/{zseg,obx}/ (segments one per line there: '\r' is written as '\n').
// Run with CPIS_UPDATE_GOLDEN=1 to rewrite the files after an intended change, then review
// the diff.

#include "engine/pipeline/alerts.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/domain/london_time.h"
#include "engine/hl7v2/message.h"
#include "tests/support/hl7_samples.h"

using namespace cpis::pipeline;
using namespace cpis::domain;
using namespace std::chrono;
namespace hl7v2 = cpis::hl7v2;

namespace {

Instant at(sys_days day, hours h, minutes m = 0min, seconds s = 0s) {
  return Instant{day + h + m + s};
}

// CPIS.md example 1, the ADT every ACK below answers.
constexpr std::string_view kInbound =
    "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612143005+0100||ADT^A04^ADT_A01|ED0000789|P|2.4|||||GBR|"
    "UNICODE "
    "UTF-8|EN||ITKv1.0\r"
    "EVN|A04|20250612143005+0100||||20250612142900+0100\r"
    "PID|||K4455667^^^RZZ^MR~9990000018^^^NHS^NH||TESTCHILD^Alex^^^^^L||20150403|M||||||||||||||||||||||||"
    "NSTS01\r"
    "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||A250612001^^^RZZ^VN|||||||||||||||||||||||||20250612142900+"
    "0100\r";

hl7v2::Message inbound() {
  return hl7v2::parse(kInbound).value();
}

hl7v2::AckOptions ackOptions() {
  hl7v2::AckOptions options;
  options.controlId = "CPE000001234";
  options.timestamp = "20250612143007+0100";
  options.profile = "CPIS-ACK-1.0";
  return options;
}

// Fictitious local authorities: one with both phones, one with an ampersand and no office line.
LocalAuthority exampleshire() {
  return {"XLA01", "Exampleshire County Council", "01632 960001", "01632 960000"};
}
LocalAuthority northby() {
  return {"XLA02", "Northby & Southby Council", "01632 960101", std::nullopt};
}

CheckOutcome base(CheckStatus status) {
  CheckOutcome o;
  o.status = status;
  o.queried = NhsNumber::parse("9990000018");
  o.mode = AccessMode::Unscheduled;
  o.decidedAt = at(2025y / 6 / 12, 13h, 30min, 6s);
  o.checkId = "3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44";
  o.source = Source::Spine;
  return o;
}

PriorAccess access(int i) {
  PriorAccess a;
  a.at = at(2025y / 5 / 28, 1h, 15min) - days(i * 3) - hours(i);
  a.bySystem = i % 3 == 2;
  a.personName = a.bySystem ? "Lee Safeguard" : "Sam Example";
  if (i % 4 != 3) {
    a.jobRoleCode = "R8000";
    a.jobRoleName = "Clinical Practitioner Access Role";
  }
  a.orgOdsCode = i % 2 == 0 ? "RZZ02" : "RZY";
  a.orgName = i % 2 == 0 ? "Example Minor Injuries Unit" : "Example Ambulance Service";
  if (a.bySystem) a.asid = "999000000" + std::to_string(100 + i);
  return a;
}

CheckOutcome found(std::vector<CpisRecord> records, int accesses) {
  CheckOutcome o = base(CheckStatus::Found);
  o.records = std::move(records);
  for (int i = 0; i < accesses; ++i) o.accesses.push_back(access(i));
  return o;
}

CheckOutcome notFound() {
  return base(CheckStatus::NotFound);
}

CheckOutcome failed(ReasonCode reason, std::string text = {}) {
  CheckOutcome o = base(CheckStatus::CheckFailed);
  o.reason = reason;
  o.reasonText = std::move(text);
  return o;
}

CheckOutcome notChecked(ReasonCode reason, std::string text = {}) {
  CheckOutcome o = base(CheckStatus::NotChecked);
  o.reason = reason;
  o.reasonText = std::move(text);
  o.mode.reset();
  if (reason == ReasonCode::NoNhsNumber || reason == ReasonCode::NhsNumberInvalid) o.queried.reset();
  // ZCP-13 is empty only with NO_NHS_NUMBER: an invalid number is echoed as it was sent.
  if (reason == ReasonCode::NhsNumberInvalid) o.refusedNhsNumber = RefusedNhsNumber("999 000 0019");
  return o;
}

struct GoldenCase {
  std::string name;
  std::function<CheckOutcome()> outcome;
  bool retried = false;   // AlertOptions::failedChecksRetried
  bool rejected = false;  // the ADT itself was wrong: AE with an ERR
};
std::ostream& operator<<(std::ostream& os, const GoldenCase& c) {
  return os << c.name;
}

const std::vector<GoldenCase> kGolden{
    // Found: each plan type, one or several plans and records, 0 / 1 / 2 / 25 accesses.
    {"found-cppi-open",
     [] {
       return found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 2);
     }},
    {"found-laci-ended-no-workplace-phone",
     [] {
       return found({{northby(), SubjectKind::Child, {{PlanType::Laci, 2023y / 1 / 9, 2025y / 5 / 31}}}}, 0);
     }},
    {"found-ucpi-unborn",
     [] {
       return found(
           {{exampleshire(), SubjectKind::UnbornChild, {{PlanType::Ucpi, 2025y / 2 / 1, 2025y / 10 / 31}}}},
           1);
     }},
    {"found-several-plans-25-accesses",
     [] {
       return found(
           {{exampleshire(),
             SubjectKind::Child,
             {{PlanType::Cppi, 2024y / 11 / 20, {}}, {PlanType::Laci, 2024y / 12 / 2, 2025y / 6 / 12}}},
            {northby(), SubjectKind::UnbornChild, {{PlanType::Ucpi, 2025y / 4 / 14, 2025y / 11 / 30}}}},
           25);
     }},
    {"found-silent-read",
     [] {
       CheckOutcome o =
           found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 1);
       o.mode = AccessMode::Scheduled;
       o.source = Source::Simulator;
       return o;
     }},
    {"not-found", notFound},
    // Every failure reason (CPIS.md example 2 is the first).
    {"check-failed-timeout", [] { return failed(ReasonCode::Timeout, "No reply from CP-IS within 8 s"); },
     true},
    {"check-failed-spine-unavailable", [] { return failed(ReasonCode::SpineUnavailable); }},
    {"check-failed-spine-rejected", [] { return failed(ReasonCode::SpineRejected); }},
    {"check-failed-unrecognised-response", [] { return failed(ReasonCode::UnrecognisedResponse); }},
    {"check-failed-internal-error", [] { return failed(ReasonCode::InternalError); }},
    // Every not-checked reason.
    {"not-checked-no-nhs-number",
     [] { return notChecked(ReasonCode::NoNhsNumber, "the message carries no NHS number"); }},
    {"not-checked-nhs-number-invalid",
     [] {
       return notChecked(ReasonCode::NhsNumberInvalid, "NHS number fails modulus 11 (wrong check digit)");
     }},
    {"not-checked-nhs-number-unverified",
     [] {
       return notChecked(ReasonCode::NhsNumberUnverified, "NHS number trace status NSTS02 is not verified");
     }},
    {"not-checked-age-out-of-scope", [] { return notChecked(ReasonCode::AgeOutOfScope); }},
    {"not-checked-setting-out-of-scope", [] { return notChecked(ReasonCode::SettingOutOfScope); }},
    {"not-checked-location-unmapped",
     [] {
       return notChecked(ReasonCode::LocationUnmapped,
                         "location RZZ01/XRAY is not in the mapping's location table");
     }},
    {"not-checked-test-number-in-live", [] { return notChecked(ReasonCode::TestNumberInLive); }},
    {"not-checked-not-an-attendance", [] { return notChecked(ReasonCode::NotAnAttendance); }},
    {"not-checked-disabled", [] { return notChecked(ReasonCode::Disabled); }},
    {"not-checked-message-rejected", [] { return notChecked(ReasonCode::MessageRejected); }, false, true},
};

std::string ackFor(const GoldenCase& c, AlertEncoding encoding) {
  AlertOptions options;
  options.encoding = encoding;
  options.failedChecksRetried = c.retried;
  const auto message = inbound();
  if (c.rejected) {
    const cpis::core::Issue issue{cpis::core::ErrorCode::RequiredFieldMissing, cpis::core::Severity::Error,
                                  cpis::core::Location{"PV1", 1, 19, 0, 0, 0, 0},
                                  "visitNumber is required: nothing at PV1-19"};
    return buildAlertAck(message, hl7v2::AckCode::AE, std::span(&issue, 1), ackOptions(), c.outcome(),
                         options);
  }
  return buildAlertAck(message, hl7v2::AckCode::AA, {}, ackOptions(), c.outcome(), options);
}

std::string readable(std::string text) {
  for (char& ch : text) {
    if (ch == '\r') ch = '\n';
  }
  return text;
}

std::filesystem::path goldenPath(std::string_view encoding, const std::string& name) {
  return std::filesystem::path(CPIS_SOURCE_DIR) / "tests/data/alerts" / encoding / (name + ".hl7");
}

void compareWithGolden(std::string_view encoding, const GoldenCase& c, const std::string& ack) {
  BOOST_TEST_REQUIRE(ack.find('\n') == std::string::npos);  // so '\r' <-> '\n' is exact
  const auto path = goldenPath(encoding, c.name);
  if (std::getenv("CPIS_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << readable(ack);
  }
  std::ifstream file(path, std::ios::binary);
  BOOST_TEST_REQUIRE(file.good(), "missing golden file " << path << " (CPIS_UPDATE_GOLDEN=1 writes it)");
  const std::string expected{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  BOOST_TEST(readable(ack) == expected);
}

// Every produced ACK reads back cleanly, and answers the ADT.
hl7v2::Message parsedBack(const std::string& ack) {
  auto parsed = hl7v2::parse(std::string_view(ack));
  BOOST_TEST_REQUIRE(parsed.ok(), (parsed.ok() ? "" : parsed.error().text));
  BOOST_TEST(parsed->warnings().empty());
  BOOST_TEST(parsed->checkValues().empty());
  BOOST_TEST(parsed->get("MSA-2") == "ED0000789");
  BOOST_TEST(parsed->get("MSH-21") == "CPIS-ACK-1.0");
  return std::move(parsed).value();
}

// The segment ids of a message, in order.
std::vector<std::string> segmentIds(const hl7v2::Message& m) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < m.segmentCount(); ++i) ids.emplace_back(m.segmentId(i));
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(alerts)

BOOST_DATA_TEST_CASE(zseg_golden, boost::unit_test::data::make(kGolden), c) {
  const std::string ack = ackFor(c, AlertEncoding::Zseg);
  compareWithGolden("zseg", c, ack);
  const auto m = parsedBack(ack);
  const auto outcome = c.outcome();

  // MSH, MSA, [ERR], ZCP{1..n}, ZCA{0..25}
  const auto ids = segmentIds(m);
  std::size_t i = 0;
  BOOST_TEST(ids[i++] == "MSH");
  BOOST_TEST(ids[i++] == "MSA");
  if (c.rejected) BOOST_TEST(ids[i++] == "ERR");
  std::size_t zcp = 0;
  while (i < ids.size() && ids[i] == "ZCP") ++i, ++zcp;
  std::size_t zca = 0;
  while (i < ids.size() && ids[i] == "ZCA") ++i, ++zca;
  BOOST_TEST(i == ids.size());
  BOOST_TEST(zcp >= 1u);
  BOOST_TEST(zca == std::min<std::size_t>(outcome.accesses.size(), 25));

  BOOST_TEST(m.get("MSA-1") == (c.rejected ? "AE" : "AA"));
  BOOST_TEST(m.get("ZCP-2") == codeOf(outcome.status));
  if (outcome.status == CheckStatus::Found) {
    BOOST_TEST(m.get("MSA-3") == alertSummary(outcome));
    BOOST_TEST(m.get("ZCP-17") == std::to_string(zca));
  } else {
    BOOST_TEST(zcp == 1u);
    BOOST_TEST(m.get("ZCP-17") == "");  // never "0" for an unknown
    BOOST_TEST(m.get("ZCP-4") == "");
  }
  if (outcome.reason) BOOST_TEST(m.get("ZCP-3") == codeOf(*outcome.reason));
  const bool noResult =
      outcome.status == CheckStatus::CheckFailed || outcome.status == CheckStatus::NotChecked;
  if (noResult) {
    BOOST_TEST(m.get("ZCP-19").find("NOT a negative result - check CP-IS in NCRS") != std::string::npos);
    if (!c.rejected) BOOST_TEST(m.get("MSA-3").find("not a negative result") != std::string::npos);
  }
  for (std::size_t s = 1; s <= zcp; ++s) {
    const std::string path = "ZCP(" + std::to_string(s) + ")-";
    BOOST_TEST(m.get(path + "1") == std::to_string(s));
    BOOST_TEST(m.get(path + "14") == "20250612143006+0100");
    BOOST_TEST(m.get(path + "15") == outcome.checkId);
    BOOST_TEST(m.get(path + "15.2") == "CPIS-ENGINE");
    BOOST_TEST(m.get(path + "18") == codeOf(outcome.source));
    BOOST_TEST(!m.get(path + "19").empty());
    BOOST_TEST(m.get(path + "16") == (outcome.mode ? codeOf(*outcome.mode) : ""));
    // ZCP-13: the number checked, else the one refused as it was sent; empty only with NO_NHS_NUMBER.
    const std::string echoed = outcome.queried            ? std::string(outcome.queried->reveal())
                               : outcome.refusedNhsNumber ? std::string(outcome.refusedNhsNumber->reveal())
                                                          : std::string();
    BOOST_TEST(m.get(path + "13") == echoed);
    BOOST_TEST(echoed.empty() == (outcome.reason == ReasonCode::NoNhsNumber));
    if (!echoed.empty()) BOOST_TEST(m.get(path + "13.4") == "NHS");
    const auto text = m.get(path + "19");
    BOOST_TEST(text.find("no CP-IS information") == std::string::npos);
  }
}

BOOST_DATA_TEST_CASE(obx_golden, boost::unit_test::data::make(kGolden), c) {
  const std::string ack = ackFor(c, AlertEncoding::Obx);
  compareWithGolden("obx", c, ack);
  const auto m = parsedBack(ack);
  const auto outcome = c.outcome();
  const bool noResult =
      outcome.status == CheckStatus::CheckFailed || outcome.status == CheckStatus::NotChecked;

  BOOST_TEST(m.occurrences("ZCP") == 0u);
  BOOST_TEST(m.get("OBX-3") == "CPIS-STATUS");
  BOOST_TEST(m.get("OBX-4") == "0");
  BOOST_TEST(m.get("OBX-5") == codeOf(outcome.status));
  const auto count = m.occurrences("OBX");
  std::size_t accessGroups = 0;
  std::size_t planRows = 0;
  for (std::uint32_t s = 1; s <= count; ++s) {
    const std::string obx = "OBX(" + std::to_string(s) + ")-";
    BOOST_TEST(m.get(obx + "1") == std::to_string(s));
    BOOST_TEST(m.get(obx + "3.3") == "99CPIS");
    BOOST_TEST(m.get(obx + "11") == (noResult ? "X" : "F"));
    const std::string group = m.get(obx + "4");
    if (m.get(obx + "3") == "CRA") {
      ++accessGroups;
      BOOST_TEST(group == "A" + std::to_string(accessGroups));
      BOOST_TEST(m.get(obx + "5.3") == "99ODS");
      BOOST_TEST(!m.get(obx + "14").empty());
    }
    if (parsePlanType(m.get(obx + "3"))) {
      ++planRows;
      BOOST_TEST(group == std::to_string(planRows));
      BOOST_TEST(m.get(obx + "5.3") == "SCT");
    }
    if (m.get(obx + "3") == "CPIS-TEXT" && group == "0" && noResult) {
      BOOST_TEST(m.get(obx + "5").find("NOT a negative result") != std::string::npos);
    }
  }
  BOOST_TEST(accessGroups == std::min<std::size_t>(outcome.accesses.size(), 25));
}

BOOST_AUTO_TEST_CASE(the_found_zcp_is_cpis_md_example_1) {
  const std::string ack = ackFor(kGolden.front(), AlertEncoding::Zseg);
  BOOST_TEST(ack.find("\rMSA|AA|ED0000789|CP-IS: 1 plan found\r") != std::string::npos);
  BOOST_TEST(
      ack.find(
          "\rZCP|1|FOUND||CPPI^Child protection plan^99CPIS^342191000000101^Subject to child protection "
          "plan^SCT|20250301||ACTIVE|CHILD|XLA01|Exampleshire County Council|01632 960001^EMR^PH|01632 "
          "960000^WPN^PH|9990000018^^^NHS^NH|20250612143006+0100|3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44^CPIS-"
          "ENGINE|UNSCHEDULED|2|SPINE|CP-IS: CHILD PROTECTION PLAN since 01/03/2025 (no end date). "
          "Exampleshire County Council, emergency 01632 960001. 2 earlier unscheduled accesses.\r") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_failed_zcp_is_cpis_md_example_2) {
  const GoldenCase& timeout = kGolden[6];
  BOOST_TEST_REQUIRE(timeout.name == "check-failed-timeout");
  CheckOutcome outcome = timeout.outcome();
  outcome.queried = NhsNumber::parse("9993000000");
  outcome.decidedAt = at(2025y / 6 / 12, 14h, 2min, 29s);
  outcome.checkId = "7d0e4b52-1c3a-4f7e-b6a8-5e2f90c4d311";
  AlertOptions options;
  options.failedChecksRetried = true;
  std::string segments;
  encodeAlerts(outcome, options, hl7v2::Delimiters{}, hl7v2::Charset::Utf8, segments);
  BOOST_TEST(
      segments ==
      "ZCP|1|CHECK_FAILED|TIMEOUT^No reply from CP-IS within 8 s^99CPIS||||||||||9993000000^^^NHS^NH|"
      "20250612150229+0100|7d0e4b52-1c3a-4f7e-b6a8-5e2f90c4d311^CPIS-ENGINE|UNSCHEDULED||SPINE|CP-IS CHECK "
      "FAILED: no reply from the national service. This is NOT a negative result - check CP-IS in NCRS. "
      "Automatic retry in progress.\r");
  BOOST_TEST(alertSummary(outcome) == "CP-IS CHECK FAILED - not a negative result");
}

BOOST_AUTO_TEST_CASE(the_obx_form_starts_as_cpis_md_shows) {
  const std::string ack = ackFor(kGolden.front(), AlertEncoding::Obx);
  BOOST_TEST(
      ack.find("\rOBX|1|CE|CPIS-STATUS^CP-IS check status^99CPIS|0|FOUND^Found^99CPIS||||||F\r"
               "OBX|2|CE|CPPI^Child Protection Plan Information^99CPIS|1|342191000000101^Subject to child "
               "protection plan^SCT||||||F\r"
               "OBX|3|DT|CPPSD^Child Protection Plan Start Date^99CPIS|1|20250301||||||F\r") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(delimiters_in_text_are_escaped_and_read_back) {
  const std::string ack = ackFor(kGolden[1], AlertEncoding::Zseg);  // Northby & Southby
  BOOST_TEST(ack.find("|Northby \\T\\ Southby Council|") != std::string::npos);
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(m.get("ZCP-10") == "Northby & Southby Council");
  BOOST_TEST(m.get("ZCP-12") == "");  // no workplace phone
  BOOST_TEST(m.get("ZCP-6") == "20250531");
  BOOST_TEST(m.get("ZCP-7") == "ENDED");

  // Every delimiter, and a line break, in a local authority's name.
  CheckOutcome outcome = found({{{"XLA03", "A|B^C~D\\E&F\nG", "01632 960201", std::nullopt},
                                 SubjectKind::Child,
                                 {{PlanType::Cppi, 2025y / 3 / 1, {}}}}},
                               0);
  const std::string tricky =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  const auto back = hl7v2::parse(std::string_view(tricky));
  BOOST_TEST_REQUIRE(back.ok());
  BOOST_TEST(back->get("ZCP-10") == "A|B^C~D\\E&F\nG");
  BOOST_TEST(back->occurrences("ZCP") == 1u);
}

BOOST_AUTO_TEST_CASE(plan_state_uses_the_london_date_of_the_check) {
  // A plan that ended on 12 June: at 23:30 UTC on the 12th it is already the 13th in London.
  CheckOutcome outcome =
      found({{exampleshire(), SubjectKind::Child, {{PlanType::Laci, 2023y / 1 / 9, 2025y / 6 / 12}}}}, 0);
  std::string segments;
  encodeAlerts(outcome, AlertOptions{}, hl7v2::Delimiters{}, hl7v2::Charset::Ascii, segments);
  BOOST_TEST(segments.find("|ACTIVE|") != std::string::npos);  // ends today: still active
  outcome.decidedAt = at(2025y / 6 / 12, 23h, 30min);
  segments.clear();
  encodeAlerts(outcome, AlertOptions{}, hl7v2::Delimiters{}, hl7v2::Charset::Ascii, segments);
  BOOST_TEST(segments.find("|ENDED|") != std::string::npos);
  BOOST_TEST(segments.find("|20250613003000+0100|") != std::string::npos);  // ZCP-14 in London time
}

// A plan whose start CP-IS holds after today is not said to run "since" that date.
BOOST_AUTO_TEST_CASE(a_plan_starting_after_today_is_not_said_to_run_since_then) {
  CheckOutcome outcome =
      found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2027y / 1 / 1, {}}}}}, 0);
  const std::string ack =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(
      m.get("ZCP-19").find("CHILD PROTECTION PLAN starting 01/01/2027 (no end date).") != std::string::npos,
      m.get("ZCP-19"));
  outcome.records[0].plans[0].start = 2025y / 3 / 1;
  const std::string past =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  BOOST_TEST(past.find("since 01/03/2025") != std::string::npos, past);
}

BOOST_AUTO_TEST_CASE(at_most_25_accesses_follow) {
  const CheckOutcome outcome =
      found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 30);
  const std::string ack =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(m.occurrences("ZCA") == 25u);
  BOOST_TEST(m.get("ZCP-17") == "25");
  // CP-IS keeps the 25 most recent: there may have been more, and the line says so.
  BOOST_TEST(
      m.get("ZCP-19").find("25 or more earlier unscheduled accesses (CP-IS keeps the 25 most recent)") !=
          std::string::npos,
      m.get("ZCP-19"));
  // 24 is exactly 24.
  const std::string fewer =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(),
                    found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 24),
                    AlertOptions{});
  const auto f = hl7v2::parse(std::string_view(fewer)).value();
  BOOST_TEST(f.get("ZCP-19").find(". 24 earlier unscheduled accesses.") != std::string::npos,
             f.get("ZCP-19"));
}

// CP-IS makes the local authority's emergency number mandatory. A record without one is still
// shown (failing the check would hide the plan), saying so: not "emergency ." and an empty
// "^EMR^PH" that reads as a number.
BOOST_AUTO_TEST_CASE(a_record_without_an_emergency_number_says_so) {
  LocalAuthority la = exampleshire();
  la.emergencyPhone.clear();
  CheckOutcome outcome = found({{la, SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 0);
  for (const auto encoding : {AlertEncoding::Zseg, AlertEncoding::Obx}) {
    AlertOptions options;
    options.encoding = encoding;
    const std::string ack = buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, options);
    BOOST_TEST(ack.find("EMR") == std::string::npos, ack);
    BOOST_TEST(ack.find("emergency .") == std::string::npos, ack);
    BOOST_TEST(ack.find("no emergency number in CP-IS, office hours 01632 960000") != std::string::npos, ack);
  }
  outcome.records[0].la.workplacePhone.reset();
  const std::string ack =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(m.get("ZCP-11").empty());
  BOOST_TEST(m.get("ZCP-12").empty());
  BOOST_TEST(
      m.get("ZCP-19").find("Exampleshire County Council, no telephone number in CP-IS.") != std::string::npos,
      m.get("ZCP-19"));
  BOOST_TEST(m.get("ZCP-2") == "FOUND");  // the plan is shown all the same
}

BOOST_AUTO_TEST_CASE(the_none_encoding_adds_no_segment_but_keeps_the_warning) {
  AlertOptions options;
  options.encoding = AlertEncoding::None;
  const std::string ack =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), failed(ReasonCode::Timeout), options);
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(m.segmentCount() == 2u);
  BOOST_TEST(m.get("MSA-3") == "CP-IS CHECK FAILED - not a negative result");
}

BOOST_AUTO_TEST_CASE(coding_system_names_can_be_remapped) {
  AlertOptions options;
  options.encoding = AlertEncoding::Obx;
  options.codingSystems = {"L", "SNM", "SJR", "ODS"};
  const auto outcome =
      found({{exampleshire(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 1);
  std::string segments;
  encodeAlerts(outcome, options, hl7v2::Delimiters{}, hl7v2::Charset::Ascii, segments);
  BOOST_TEST(segments.find("99CPIS") == std::string::npos);
  BOOST_TEST(segments.find("|CPIS-STATUS^CP-IS check status^L|0|FOUND^Found^L|") != std::string::npos);
  BOOST_TEST(segments.find("^Subject to child protection plan^SNM|") != std::string::npos);
  BOOST_TEST(segments.find("^Example Minor Injuries Unit^ODS|") != std::string::npos);
  BOOST_TEST(segments.find("^Clinical Practitioner Access Role^SJR|") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(text_goes_out_in_the_message_character_set) {
  CheckOutcome outcome = found({{{"XLA04", "Cyngor Sir Enghraifft M\xC3\xB4n", "01632 960301", std::nullopt},
                                 SubjectKind::Child,
                                 {{PlanType::Cppi, 2025y / 3 / 1, {}}}}},
                               0);
  // UTF-8 in, UTF-8 out, read back unchanged.
  const std::string utf8 =
      buildAlertAck(inbound(), hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  BOOST_TEST(hl7v2::parse(std::string_view(utf8))->get("ZCP-10") == "Cyngor Sir Enghraifft M\xC3\xB4n");
  // Latin-1 in: one byte for the o circumflex, and it still reads back as the same text.
  std::string latin(kInbound);
  latin.replace(latin.find("UNICODE UTF-8"), 13, "8859/1");
  const auto latinMessage = hl7v2::parse(std::string_view(latin)).value();
  const std::string ack =
      buildAlertAck(latinMessage, hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  BOOST_TEST(ack.find("M\xF4n|") != std::string::npos);
  BOOST_TEST(hl7v2::parse(std::string_view(ack))->get("ZCP-10") == "Cyngor Sir Enghraifft M\xC3\xB4n");
}

BOOST_AUTO_TEST_CASE(a_rejection_for_unreadable_bytes_carries_message_rejected) {
  // The ADT could not be parsed at all (its MSH-9 is missing): the AR still answers it with a ZCP.
  const std::string bytes =
      "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612143005|||ED0000999|P|2.4\rPID|||x\r";
  const cpis::core::Issue issue{cpis::core::ErrorCode::RequiredFieldMissing, cpis::core::Severity::Error,
                                cpis::core::Location{"MSH", 1, 9, 0, 0, 0, 0}, "MSH-9 is missing"};
  std::string ack = hl7v2::buildRejection(bytes, issue, ackOptions());
  CheckOutcome outcome = notChecked(ReasonCode::MessageRejected);
  outcome.queried.reset();
  appendAlerts(ack, outcome, AlertOptions{});
  const auto m = hl7v2::parse(std::string_view(ack));
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->get("MSA-1") == "AR");
  BOOST_TEST(m->get("MSA-2") == "ED0000999");
  BOOST_TEST(m->get("ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(m->get("ZCP-3") == "MESSAGE_REJECTED");
  BOOST_TEST(m->get("ZCP-19").find("NOT a negative result") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(custom_delimiters_are_honoured) {
  const std::string text = "MSH#*~\\&#EDSYS#RZZ01#CPIS-ENGINE#RZZ#20250612143005##ADT*A04#C9#P#2.4\r";
  const auto message = hl7v2::parse(std::string_view(text)).value();
  const auto outcome = found({{northby(), SubjectKind::Child, {{PlanType::Cppi, 2025y / 3 / 1, {}}}}}, 0);
  const std::string ack =
      buildAlertAck(message, hl7v2::AckCode::AA, {}, ackOptions(), outcome, AlertOptions{});
  BOOST_TEST(ack.find("ZCP#1#FOUND##CPPI*Child protection plan*99CPIS*") != std::string::npos);
  const auto m = hl7v2::parse(std::string_view(ack)).value();
  BOOST_TEST(m.get("ZCP-10") == "Northby & Southby Council");
  BOOST_TEST(m.get("ZCP-11.2") == "EMR");
}

BOOST_AUTO_TEST_CASE(encodings_have_configuration_names) {
  for (const auto encoding : {AlertEncoding::Zseg, AlertEncoding::Obx, AlertEncoding::None}) {
    BOOST_TEST((parseAlertEncoding(toString(encoding)) == encoding));
  }
  BOOST_TEST(!parseAlertEncoding("zseg").has_value());
}

BOOST_AUTO_TEST_CASE(summaries_count_plans_across_records) {
  const auto several = kGolden[3].outcome();
  BOOST_TEST(alertSummary(several) == "CP-IS: 3 plans found");
  BOOST_TEST(alertSummary(notFound()) == "CP-IS: no plan found");
  BOOST_TEST(alertSummary(notChecked(ReasonCode::NoNhsNumber)) ==
             "CP-IS NOT CHECKED (NO_NHS_NUMBER) - not a negative result");
  BOOST_TEST(displayText(notFound(), AlertOptions{}).find("no child protection plan") != std::string::npos);
  // A failed check never claims a retry the feed does not make.
  BOOST_TEST(displayText(failed(ReasonCode::Timeout), AlertOptions{}).find("retry") == std::string::npos);
}

// A TIMEOUT whose query was never sent (no slot, or no time left before the ACK was due) does
// not tell staff that the national service gave no reply: it was never asked.
BOOST_AUTO_TEST_CASE(a_query_never_sent_is_not_called_unanswered) {
  const auto unsent = failed(ReasonCode::Timeout, "query not sent: all 32 query slots stayed busy for 8 s");
  const std::string text = displayText(unsent, AlertOptions{});
  BOOST_TEST(
      text.find("CP-IS CHECK FAILED: the query could not be sent in time. This is NOT a negative result") ==
          0u,
      text);
  BOOST_TEST(
      displayText(failed(ReasonCode::Timeout), AlertOptions{}).find("no reply from the national service") !=
      std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
