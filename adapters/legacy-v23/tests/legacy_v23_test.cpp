// The legacy_v23 adapter as the engine runs it: libcpis-adapter-legacy_v23.so loaded with the
// engine's plugin loader, mappings/legacy-v23.xml applied to the samples in tests/data/, then
// adapt(); compose_alerts() (OBX rows of its own) for each kind of outcome, compared with
// tests/golden/.

#define BOOST_TEST_MODULE test_adapter_legacy_v23
#include <chrono>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "adapters/testing/adapter_harness.h"
#include "engine/hl7v2/ack.h"
#include "engine/pipeline/respond.h"
#include "engine/plugin/plugin_error.h"

using namespace cpis::adapters::testing;
namespace domain = cpis::domain;
using cpis::plugin::AlertEncoding;
using cpis::plugin::PluginError;

namespace {

struct LegacyV23 : AdapterHarness {
  LegacyV23() : AdapterHarness("legacy_v23", "legacy-v23", "legacy-v23") {}

  // A sample with one text replaced (the arrival time in ZPV-3, say).
  cpis::hl7v2::Message variant(std::string_view file, std::string_view from, std::string_view to) const {
    std::string text = sampleText(file);
    const auto at = text.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, file << " has no " << from);
    text.replace(at, from.size(), to);
    auto parsed = cpis::hl7v2::parse(std::move(text));
    BOOST_TEST_REQUIRE(parsed.ok());
    return std::move(parsed).value();
  }
};

std::string code(const std::optional<domain::CareSetting>& setting) {
  return setting ? std::string(domain::codeOf(*setting)) : std::string();
}

struct Case {
  std::string_view file;
  std::string_view event;
  std::string_view nhsNumber;
  std::string_view nhsStatus;
  std::string_view visit;
  std::string_view locationKey;
  std::string_view setting;
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.file;
}

const std::vector<Case> kCases{
    {"a04-pid2-spaces.hl7", "START", "9990000018", "NSTS01", "V0098765", "RZZ02/MIU", "MIU",
     "PID-2 with spaces"},
    {"a01-untyped-pid3-maternity.hl7", "START", "9990000026", "NSTS01", "V0098766", "RZZ02/MAT", "MATERNITY",
     "untyped PID-3 beside the labelled local number; one-digit trace status"},
    {"a04-bare-number-unlabelled.hl7", "START", "", "NSTS01", "V0098767", "RZZ02/MIU", "MIU",
     "a bare ten-digit value with nothing labelled beside it is not taken"},
    {"a04-local-number-nhs-shaped.hl7", "START", "", "NSTS01", "V0098768", "RZZ02/AE", "ED",
     "a typed local number is never the NHS number, whatever its shape"},
    {"a04-pid2-pid3-disagree.hl7", "START", "", "NSTS01", "V0098769", "RZZ02/MIU", "MIU",
     "PID-2 and PID-3 disagree: neither"},
    {"a04-ucc-weekday-evening.hl7", "START", "9990000018", "NSTS01", "V0098780", "RZZ02/UCC", "GP_OOH",
     "UCC on a Thursday at 21:40"},
    {"a04-ucc-weekday-daytime.hl7", "START", "9990000018", "NSTS01", "V0098781", "RZZ02/UCC", "UTC_WIC",
     "UCC on a Thursday at 10:05"},
    {"a04-ucc-saturday.hl7", "START", "9990000018", "NSTS01", "V0098782", "RZZ02/UCC", "GP_OOH",
     "UCC on a Saturday at 11:00"},
    {"a04-ucc-bank-holiday.hl7", "START", "9990000018", "NSTS01", "V0098783", "RZZ02/UCC", "UTC_WIC",
     "a Monday at 11:00, no bank holidays configured"},
    {"a08-resend-event-in-evn.hl7", "UPDATE", "9990000018", "NSTS01", "V0098765", "RZZ02/MIU", "MIU",
     "MSH-9.2 empty: EVN-1"},
    {"a04-outpatient.hl7", "START", "9990000018", "NSTS01", "V0098790", "RZZ02/OP", "OUT_OF_SCOPE",
     "outpatient clinic"},
};

// Arrival times around the core hours (08:00-18:30 London time, Monday to Friday), in summer
// (BST: a rule applied in UTC would be an hour out) and in winter.
struct HoursCase {
  std::string_view arrival;  // ZPV-3, DD/MM/YYYY hh:mm
  std::string_view setting;
};
std::ostream& operator<<(std::ostream& os, const HoursCase& c) {
  return os << c.arrival;
}
const std::vector<HoursCase> kHours{
    {"12/06/2025 07:59", "GP_OOH"},  {"12/06/2025 08:00", "UTC_WIC"}, {"12/06/2025 18:29", "UTC_WIC"},
    {"12/06/2025 18:30", "GP_OOH"},  {"13/06/2025 23:59", "GP_OOH"},  {"15/01/2025 18:29", "UTC_WIC"},
    {"15/01/2025 18:30", "GP_OOH"},  {"19/01/2025 12:00", "GP_OOH"},  {"30/03/2025 12:00", "GP_OOH"},
    {"31/03/2025 08:00", "UTC_WIC"}, {"27/10/2025 07:59", "GP_OOH"},  {"27/10/2025 08:00", "UTC_WIC"},
};

struct AlertCase {
  std::string_view name;
  domain::CheckOutcome (*outcome)();
};
std::ostream& operator<<(std::ostream& os, const AlertCase& c) {
  return os << c.name;
}
const std::vector<AlertCase> kAlertCases{
    {"found-one-plan", outcomes::foundOnePlan},
    {"found-several-plans", outcomes::foundSeveralPlans},
    {"not-found", outcomes::notFound},
    {"check-failed-timeout",
     [] { return outcomes::checkFailed(domain::ReasonCode::Timeout, "No reply from CP-IS within 8 s"); }},
    {"check-failed-spine-unavailable",
     [] { return outcomes::checkFailed(domain::ReasonCode::SpineUnavailable); }},
    {"not-checked-nhs-number-unverified",
     [] {
       return outcomes::notChecked(domain::ReasonCode::NhsNumberUnverified,
                                   "NHS number trace status NSTS02 is not verified");
     }},
    {"not-checked-no-nhs-number",
     [] {
       return outcomes::notChecked(domain::ReasonCode::NoNhsNumber, "the message carries no NHS number");
     }},
};

// OBX-2 value types of HL7 v2.3 (table 0125) that the adapter uses.
const std::set<std::string> kV23Types{"CE", "CX", "DT", "NM", "ST", "TS", "TX", "XTN"};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(legacy_v23, LegacyV23)

BOOST_DATA_TEST_CASE_F(LegacyV23, samples_become_attendances, boost::unit_test::data::make(kCases), c) {
  const Adapted a = adapt(c.file);
  BOOST_TEST_REQUIRE(a.isAttendance(), c.file << ": " << a.why());
  BOOST_TEST(domain::codeOf(a.attendance.event) == c.event);
  BOOST_TEST(a.nhsNumber() == c.nhsNumber, c.why);
  BOOST_TEST(domain::codeOf(a.attendance.nhsStatus) == c.nhsStatus, c.why);
  BOOST_TEST(a.attendance.visitNumber == c.visit);
  BOOST_TEST(a.attendance.locationKey == c.locationKey);
  BOOST_TEST(code(a.attendance.setting) == c.setting, c.why);
  BOOST_TEST(a.attendance.siteOdsCode == "RZZ02");
}

BOOST_AUTO_TEST_CASE(what_the_mapping_alone_cannot_say) {
  // An untyped PID-3 number and a one-digit trace status mean nothing to the mapping.
  const auto message = sample("a01-untyped-pid3-maternity.hl7");
  const auto draft = mapping().apply(message, "feed-1");
  BOOST_TEST_REQUIRE(draft.ok());
  BOOST_TEST(!draft->nhsNumber.has_value());
  BOOST_TEST((draft->nhsStatus == domain::NhsNumberStatus::Absent));
  // A PID-2 and a PID-3 that disagree: neither, in the mapping as in the adapter (hazard H1).
  const auto disagree = mapping().apply(sample("a04-pid2-pid3-disagree.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(disagree.ok());
  BOOST_TEST(!disagree->nhsNumber.has_value());
  BOOST_TEST(disagree->nhsNumberProblem ==
             "the message carries two different NHS numbers in PID-3 and PID-2");
  // The out-of-hours service is the same ZPV-2 code to the mapping.
  const auto evening = mapping().apply(sample("a04-ucc-weekday-evening.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(evening.ok());
  BOOST_TEST(code(evening->setting) == "UTC_WIC");
}

// A40 (merge patient): PID-2 the surviving record's NHS number, MRG-4 the retired one's (this
// PAS keeps no MRG-1 NHS repetition), the trace status in ZU1-27. Not an attendance, nothing
// required of it (no PV1-19), and the adapter lets it through as a merge.
BOOST_AUTO_TEST_CASE(a_merge_names_the_retired_and_the_surviving_nhs_number) {
  const Adapted a = adapt("a40-merge.hl7");
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST((a.attendance.event == domain::AttendanceEvent::Merge));
  BOOST_TEST(a.nhsNumber() == "9990000026");
  BOOST_TEST_REQUIRE(a.attendance.priorNhsNumber.has_value());
  BOOST_TEST(a.attendance.priorNhsNumber->reveal() == "9990000018");
  BOOST_TEST(domain::codeOf(a.attendance.nhsStatus) == "NSTS01");
  BOOST_TEST(a.attendance.visitNumber.empty());
}

BOOST_AUTO_TEST_CASE(maternity_details_come_through_from_the_mapping) {
  const Adapted a = adapt("a01-untyped-pid3-maternity.hl7");
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(a.attendance.pregnant);
  using namespace std::chrono;
  BOOST_TEST((a.attendance.expectedDeliveryDate == domain::Date{2025y / May / 2}));
  BOOST_TEST((a.attendance.arrivedAt == domain::Instant{sys_days{2025y / January / 20} + 10h}));  // GMT
}

BOOST_DATA_TEST_CASE_F(LegacyV23, core_hours_are_london_time, boost::unit_test::data::make(kHours), c) {
  const Adapted a = adapt(variant("a04-ucc-weekday-daytime.hl7", "12/06/2025 10:05", c.arrival));
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(code(a.attendance.setting) == c.setting);
}

BOOST_AUTO_TEST_CASE(configured_bank_holidays_and_hours) {
  const auto configured = instance({{"bank_holidays", "20251225 20250825"}, {"core_hours", "09:00-17:00"}});
  BOOST_TEST(code(adapt(sample("a04-ucc-bank-holiday.hl7"), configured.get()).attendance.setting) ==
             "GP_OOH");
  const auto early = variant("a04-ucc-weekday-daytime.hl7", "10:05", "08:30");
  BOOST_TEST(code(adapt(early, configured.get()).attendance.setting) == "GP_OOH");
  BOOST_TEST(code(adapt(early).attendance.setting) == "UTC_WIC");
  // Other attendance types never change.
  const auto miu = variant("a04-pid2-spaces.hl7", "14:25", "23:15");
  BOOST_TEST(code(adapt(miu).attendance.setting) == "MIU");
}

// CPIS.md §8: a location's terms are its row's, then its care setting's <settings> entry. When
// the adapter moves an urgent care attendance out of hours (GP_OOH), that setting's entry
// applies, not the one for UTC_WIC the row matched; the row's own terms stand.
BOOST_AUTO_TEST_CASE(an_attendance_moved_out_of_hours_takes_that_settings_terms) {
  std::string xml = mappingText();
  const auto end = xml.rfind("</mapping>");
  BOOST_TEST_REQUIRE(end != std::string::npos);
  xml.insert(end, R"(<settings>
    <setting code="UTC_WIC" mode="UNSCHEDULED" maxAgeYears="16" acceptMissingTraceStatus="true"/>
    <setting code="GP_OOH" mode="SCHEDULED" maxAgeYears="none"/>
  </settings>
)");
  const auto withSettings = loadMapping(xml);
  const Adapted day = adapt(sample("a04-ucc-weekday-daytime.hl7"), withSettings);
  BOOST_TEST_REQUIRE(day.isAttendance(), day.why());
  BOOST_TEST(code(day.attendance.setting) == "UTC_WIC");
  BOOST_TEST((day.attendance.accessMode == domain::AccessMode::Unscheduled));
  BOOST_TEST((day.attendance.locationTerms.maxAgeYears == 16));
  BOOST_TEST((day.attendance.locationTerms.acceptMissingTraceStatus == true));
  const Adapted evening = adapt(sample("a04-ucc-weekday-evening.hl7"), withSettings);
  BOOST_TEST_REQUIRE(evening.isAttendance(), evening.why());
  BOOST_TEST(code(evening.attendance.setting) == "GP_OOH");
  BOOST_TEST((evening.attendance.accessMode == domain::AccessMode::Scheduled));
  BOOST_TEST((evening.attendance.locationTerms.maxAgeYears == 0));  // none: no age limit
  BOOST_TEST(!evening.attendance.locationTerms.acceptMissingTraceStatus.has_value());  // the feed's rule
  // A row's own terms stand when the adapter moves it.
  std::string rowTerms = xml;
  const std::string row = R"(<location key="RZZ02/UCC" setting="UTC_WIC"/>)";
  const auto at = rowTerms.find(row);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  rowTerms.replace(at, row.size(), R"(<location key="RZZ02/UCC" setting="UTC_WIC" maxAgeYears="17"/>)");
  const Adapted own = adapt(sample("a04-ucc-weekday-evening.hl7"), loadMapping(rowTerms));
  BOOST_TEST(code(own.attendance.setting) == "GP_OOH");
  BOOST_TEST((own.attendance.locationTerms.maxAgeYears == 17));
  BOOST_TEST((own.attendance.accessMode == domain::AccessMode::Scheduled));
}

// A second ZPV (perhaps another attendance type) is refused, never passed over: the mapping
// reads the first, and which one describes the attendance is the PAS's to say.
BOOST_AUTO_TEST_CASE(a_second_zpv_is_a_data_error) {
  const Adapted a = adapt(variant("a04-ucc-weekday-evening.hl7", "ZPV|1|UCC", "ZPV|1|OP\rZPV|2|UCC"));
  BOOST_TEST_REQUIRE(a.isDataError(), a.why());
  BOOST_TEST_REQUIRE(a.issues.size() == 1u);
  BOOST_TEST((a.issues.front().code == cpis::core::ErrorCode::SegmentSequence));
  BOOST_TEST(a.issues.front().location.segmentId == "ZPV");
  BOOST_TEST(a.issues.front().location.segmentSequence == 2u);
}

BOOST_AUTO_TEST_CASE(an_unmapped_attendance_type_stays_unmapped) {
  const auto configured = instance({{"out_of_hours_types", "UCC XRAY"}});
  const Adapted a =
      adapt(variant("a04-ucc-weekday-evening.hl7", "ZPV|1|UCC", "ZPV|1|XRAY"), configured.get());
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(!a.attendance.setting.has_value());  // LOCATION_UNMAPPED, reported
}

BOOST_AUTO_TEST_CASE(untyped_numbers_can_be_switched_off) {
  const auto off = instance({{"untyped_pid3", "false"}});
  BOOST_TEST(adapt(sample("a01-untyped-pid3-maternity.hl7"), off.get()).nhsNumber().empty());
  BOOST_TEST(adapt(sample("a04-pid2-spaces.hl7"), off.get()).nhsNumber() == "9990000018");
  // With the PAS's own authority named otherwise, nothing is labelled beside the bare number.
  const auto otherLocal = instance({{"local_authorities", "RZZ09"}});
  BOOST_TEST(adapt(sample("a01-untyped-pid3-maternity.hl7"), otherLocal.get()).nhsNumber().empty());
}

// Hazard H1: PID-2 is this PAS's NHS number unlabelled or under the authority NHS, never a
// number another authority labels (a local number there passes modulus 11 one time in eleven).
BOOST_AUTO_TEST_CASE(pid2_under_another_authority_is_not_the_nhs_number) {
  BOOST_TEST(adapt(variant("a04-pid2-spaces.hl7", "999 000 0018|", "999 000 0018^^^RZZ02|")).nhsNumber().empty());
  BOOST_TEST(adapt(variant("a04-pid2-spaces.hl7", "999 000 0018|", "999 000 0018^^^NHS|")).nhsNumber() ==
             "9990000018");
}

BOOST_AUTO_TEST_CASE(an_invalid_pid2_is_recorded_not_refused) {
  const Adapted a = adapt(variant("a04-pid2-spaces.hl7", "999 000 0018", "999 000 0019"));
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(a.nhsNumber().empty());
  BOOST_TEST(a.attendance.nhsNumberProblem == "NHS number fails modulus 11 (wrong check digit)");
}

BOOST_AUTO_TEST_CASE(disagreeing_numbers_are_logged_without_either_value) {
  LogCapture log("cpis.plugin.legacy_v23");
  BOOST_TEST(adapt("a04-pid2-pid3-disagree.hl7").nhsNumber().empty());
  const std::string text = log.all();
  BOOST_TEST(text.find("000127") != std::string::npos);
  BOOST_TEST(text.find("PID-2 and PID-3 hold different NHS numbers") != std::string::npos);
  BOOST_TEST(text.find("9990000018") == std::string::npos);
  BOOST_TEST(text.find("9993000000") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unusable_configuration_stops_the_start) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"core_hours", "18:30-08:00"},
           {"core_hours", "8am-6pm"},
           {"bank_holidays", "2025-08-25"},
           {"max_access_rows", "26"},
           {"cpis_coding_system", ""},
           {"snomed_coding_system", "SNOMED CT"},
           {"local_authorities", ""},
       }) {
    BOOST_CHECK_THROW(instance({{key, value}}), PluginError);
  }
  BOOST_CHECK_NO_THROW(instance({{"local_authorities", ""}, {"untyped_pid3", "false"}}));
}

BOOST_DATA_TEST_CASE_F(LegacyV23, alerts_are_obx_rows_this_pas_files,
                       boost::unit_test::data::make(kAlertCases), c) {
  const auto inbound = sample("a04-pid2-spaces.hl7");
  const domain::CheckOutcome outcome = c.outcome();
  const std::string ackText = ack(inbound, outcome);
  checkGolden(golden(c.name), ackText);
  BOOST_TEST(ack(inbound, outcome, AlertEncoding::Obx) == ackText);  // the feed's default does not matter

  const auto parsed = cpis::hl7v2::parse(std::string_view(ackText));
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->version() == "2.3");
  BOOST_TEST(parsed->get("MSA-2") == "000123");
  const auto ids = segmentIds(*parsed);
  BOOST_TEST_REQUIRE(ids.size() > 2u);
  const bool noResult =
      outcome.status == domain::CheckStatus::CheckFailed || outcome.status == domain::CheckStatus::NotChecked;
  for (std::size_t i = 2; i < ids.size(); ++i) {
    BOOST_TEST_REQUIRE(ids[i] == "OBX");  // no Z-segment reaches this PAS
    const std::string obx = "OBX(" + std::to_string(i - 1) + ")-";
    BOOST_TEST(parsed->get(obx + "1") == std::to_string(i - 1));
    BOOST_TEST(kV23Types.count(parsed->get(obx + "2")) == 1u, parsed->get(obx + "2"));
    BOOST_TEST(parsed->get(obx + "3.3") == "99CPIS");
    BOOST_TEST(parsed->get(obx + "11") == (noResult ? "X" : "F"));
    BOOST_TEST(parsed->get(obx + "14").find('+') == std::string::npos);  // London time, no offset
  }
  // The banner row first.
  BOOST_TEST(parsed->get("OBX(1)-3") == "CPIS-TEXT");
  if (noResult) BOOST_TEST(parsed->get("OBX(1)-5").find("NOT a negative result") != std::string::npos);
  BOOST_TEST(parsed->get("OBX(2)-5") == domain::codeOf(outcome.status));
}

BOOST_AUTO_TEST_CASE(coding_systems_access_rows_and_offsets_are_the_trusts) {
  const auto configured = instance({{"cpis_coding_system", "L"},
                                    {"snomed_coding_system", "SNM"},
                                    {"ods_coding_system", "ODS"},
                                    {"job_role_coding_system", "SJR"},
                                    {"max_access_rows", "1"},
                                    {"time_offsets", "true"}});
  const std::string ackText = ack(sample("a04-pid2-spaces.hl7"), outcomes::foundSeveralPlans(),
                                  AlertEncoding::ZSegments, configured.get());
  checkGolden(golden("found-several-plans-configured"), ackText);
  BOOST_TEST(ackText.find("^99CPIS") == std::string::npos);
  BOOST_TEST(ackText.find("^SNM|") != std::string::npos);
  BOOST_TEST(ackText.find("|CPIS-ACC-NOT-SENT^Prior accesses not sent as rows^L|0|2|") != std::string::npos);
  BOOST_TEST(ackText.find("|A2|") == std::string::npos);
}

// CP-IS makes the local authority's emergency number mandatory; a record without one is still
// shown, and its texts say so instead of "emergency" and nothing.
BOOST_FIXTURE_TEST_CASE(a_record_without_an_emergency_number_says_so, LegacyV23) {
  domain::CheckOutcome outcome = outcomes::foundOnePlan();
  BOOST_TEST_REQUIRE(outcome.records.size() == 1u);
  outcome.records[0].la.emergencyPhone.clear();
  outcome.records[0].la.workplacePhone = "01632 960000";
  std::string ackText = ack(sample("a04-pid2-spaces.hl7"), outcome);
  BOOST_TEST(ackText.find("CPIS-LA-EC") == std::string::npos, ackText);
  BOOST_TEST(ackText.find("emergency)") == std::string::npos, ackText);
  BOOST_TEST(ackText.find("emergency .") == std::string::npos, ackText);
  BOOST_TEST(ackText.find("no emergency number in CP-IS, office hours 01632 960000") != std::string::npos,
             ackText);
  outcome.records[0].la.workplacePhone.reset();
  ackText = ack(sample("a04-pid2-spaces.hl7"), outcome);
  BOOST_TEST(ackText.find("no telephone number in CP-IS") != std::string::npos, ackText);
}

// A number refused as invalid is echoed as the PAS sent it (ABI 1.2), as the engine's own
// encodings do in ZCP-13: the clerk sees which number was refused.
BOOST_FIXTURE_TEST_CASE(a_refused_nhs_number_is_echoed_as_sent, LegacyV23) {
  domain::CheckOutcome outcome =
      outcomes::notChecked(domain::ReasonCode::NhsNumberInvalid, "NHS number fails its check digit");
  outcome.refusedNhsNumber.emplace("999 000 0019");
  const std::string ackText = ack(sample("a04-pid2-spaces.hl7"), outcome);
  const auto parsed = cpis::hl7v2::parse(std::string_view(ackText));
  BOOST_TEST_REQUIRE(parsed.ok());
  bool echoed = false;
  for (std::size_t i = 1; i <= parsed->occurrences("OBX"); ++i) {
    const std::string obx = "OBX(" + std::to_string(i) + ")-";
    if (parsed->get(obx + "3") != "CPIS-NHS-NUMBER") continue;
    echoed = true;
    BOOST_TEST(parsed->get(obx + "5") == "999 000 0019");
    BOOST_TEST(parsed->get(obx + "11") == "X");
  }
  BOOST_TEST(echoed, ackText);
}

// The engine appends alerts to ACKs it builds itself (a rejected or "send again" AR, the late
// result after a re-check) through Responder::appendTo. This PAS refuses Z-segments, so those
// must be the adapter's OBX rows too, not ZCP, whatever the feed's standard encoding.
BOOST_FIXTURE_TEST_CASE(alerts_appended_to_an_engine_built_ack_are_the_adapters, LegacyV23) {
  const cpis::pipeline::Responder respond(cpis::pipeline::AlertOptions{}, &plugin());  // feed: ZSEG (default)
  const cpis::hl7v2::Message inbound = sample("a04-pid2-spaces.hl7");
  cpis::hl7v2::AckOptions options;
  options.controlId = "CPE000001235";
  options.timestamp = "20250612143007+0100";
  const cpis::core::Issue issue{cpis::core::ErrorCode::TableValueNotFound, cpis::core::Severity::Error,
                                cpis::core::Location{"MSH", 1, 3, 0, 0, 0, 0},
                                "sending application (MSH-3) is not the one configured for this feed"};
  std::string ack = cpis::hl7v2::buildAck(inbound, cpis::hl7v2::AckCode::AR, std::span(&issue, 1), options);
  respond.appendTo(ack, outcomes::notChecked(domain::ReasonCode::MessageRejected, "the message was rejected"));
  const auto parsed = cpis::hl7v2::parse(std::string_view(ack));
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->occurrences("ZCP") == 0u, ack);
  BOOST_TEST(parsed->get("OBX(1)-3") == "CPIS-TEXT");
  BOOST_TEST(parsed->get("OBX(1)-5").find("NOT a negative result") != std::string::npos);
  BOOST_TEST(parsed->get("OBX(1)-11") == "X");
}

BOOST_AUTO_TEST_SUITE_END()
