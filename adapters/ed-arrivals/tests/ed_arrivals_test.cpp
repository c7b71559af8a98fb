// The ed_arrivals adapter as the engine runs it: libcpis-adapter-ed_arrivals.so loaded with the
// engine's plugin loader, mappings/ed-arrivals.xml applied to the samples in tests/data/, then
// adapt(); compose_alerts() (the engine's standard alerts in the feed's encoding, plus the
// tracking board's NTE) for each kind of outcome, compared with tests/golden/.

#define BOOST_TEST_MODULE test_adapter_ed_arrivals
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "adapters/testing/adapter_harness.h"
#include "engine/plugin/plugin_error.h"

using namespace cpis::adapters::testing;
namespace domain = cpis::domain;
using cpis::core::ErrorCode;
using cpis::plugin::AlertEncoding;
using cpis::plugin::PluginError;

namespace {

struct EdArrivals : AdapterHarness {
  EdArrivals() : AdapterHarness("ed_arrivals", "ed-arrivals", "ed-arrivals") {}

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
std::string code(const std::optional<domain::AccessMode>& mode) {
  return mode ? std::string(domain::codeOf(*mode)) : std::string();
}

struct Case {
  std::string_view file;
  std::string_view event;
  std::string_view nhsNumber;
  std::string_view nhsStatus;
  std::string_view visit;
  std::string_view locationKey;
  std::string_view setting;
  std::string_view mode;
  std::string_view department;
};
std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.file;
}

const std::vector<Case> kCases{
    {"a04-ambulance-arrival.hl7", "START", "9990000018", "NSTS01", "RZZ03-20250612-0457", "RZZ03/01", "ED",
     "UNSCHEDULED", "PAEDS"},
    {"a04-unknown-patient.hl7", "START", "", "NSTS03", "RZZ03-20250612-0458", "RZZ03/01", "ED", "UNSCHEDULED",
     "RESUS"},
    {"a08-traced.hl7", "UPDATE", "9993000000", "NSTS01", "RZZ03-20250612-0458", "RZZ03/01", "ED",
     "UNSCHEDULED", "RESUS"},
    {"a04-utc-walk-in.hl7", "START", "9990000026", "NSTS01", "RZZ03-20250612-0503", "RZZ03/03", "UTC_WIC",
     "UNSCHEDULED", "UTC"},
    {"a04-miu-other-site.hl7", "START", "9990000018", "NSTS01", "RZZ04-20250612-0031", "RZZ04/03", "MIU",
     "UNSCHEDULED", "MINORS"},
    {"a03-departure.hl7", "END", "9990000018", "NSTS01", "RZZ03-20250612-0457", "RZZ03/01", "ED", "",
     "PAEDS"},
};

struct AlertCase {
  std::string_view name;
  domain::CheckOutcome (*outcome)();
  AlertEncoding feedEncoding;
};
std::ostream& operator<<(std::ostream& os, const AlertCase& c) {
  return os << c.name;
}
const std::vector<AlertCase> kAlertCases{
    {"found-one-plan", outcomes::foundOnePlan, AlertEncoding::ZSegments},
    {"found-several-plans", outcomes::foundSeveralPlans, AlertEncoding::ZSegments},
    {"found-several-plans-obx-feed", outcomes::foundSeveralPlans, AlertEncoding::Obx},
    {"found-silent-read",
     [] {
       domain::CheckOutcome o = outcomes::foundOnePlan();
       o.mode = domain::AccessMode::Scheduled;
       return o;
     },
     AlertEncoding::ZSegments},
    {"not-found", outcomes::notFound, AlertEncoding::ZSegments},
    {"check-failed-timeout",
     [] { return outcomes::checkFailed(domain::ReasonCode::Timeout, "No reply from CP-IS within 8 s"); },
     AlertEncoding::ZSegments},
    {"check-failed-spine-rejected-obx-feed",
     [] { return outcomes::checkFailed(domain::ReasonCode::SpineRejected); }, AlertEncoding::Obx},
    {"not-checked-nhs-number-unverified",
     [] {
       return outcomes::notChecked(domain::ReasonCode::NhsNumberUnverified,
                                   "NHS number trace status NSTS03 is not verified");
     },
     AlertEncoding::ZSegments},
    {"not-checked-no-nhs-number",
     [] {
       return outcomes::notChecked(domain::ReasonCode::NoNhsNumber, "the message carries no NHS number");
     },
     AlertEncoding::ZSegments},
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ed_arrivals, EdArrivals)

BOOST_DATA_TEST_CASE_F(EdArrivals, samples_become_attendances, boost::unit_test::data::make(kCases), c) {
  const Adapted a = adapt(c.file);
  BOOST_TEST_REQUIRE(a.isAttendance(), c.file << ": " << a.why());
  BOOST_TEST(domain::codeOf(a.attendance.event) == c.event);
  BOOST_TEST(a.nhsNumber() == c.nhsNumber);
  BOOST_TEST(domain::codeOf(a.attendance.nhsStatus) == c.nhsStatus);
  BOOST_TEST(a.attendance.visitNumber == c.visit);
  BOOST_TEST(a.attendance.locationKey == c.locationKey);
  BOOST_TEST(code(a.attendance.setting) == c.setting);
  BOOST_TEST(code(a.attendance.accessMode) == c.mode);
  BOOST_TEST(a.attendance.department == c.department);
  BOOST_TEST(a.attendance.patientClass == "E");
}

BOOST_AUTO_TEST_CASE(the_mapping_alone_has_no_visit_number) {
  const auto draft = mapping().apply(sample("a04-ambulance-arrival.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(draft.ok());
  BOOST_TEST(draft->visitNumber.empty());
  BOOST_TEST(!draft->accessMode.has_value());
}

BOOST_AUTO_TEST_CASE(arrival_start_and_update_share_one_attendance) {
  using namespace std::chrono;
  const Adapted arrival = adapt("a04-ambulance-arrival.hl7");
  const Adapted departure = adapt("a03-departure.hl7");
  BOOST_TEST(arrival.attendance.visitNumber == departure.attendance.visitNumber);
  // ZED-3 is London time: 14:25 BST is 13:25 UTC.
  BOOST_TEST((arrival.attendance.arrivedAt == domain::Instant{sys_days{2025y / June / 12} + 13h + 25min}));
}

BOOST_AUTO_TEST_CASE(an_unknown_patient_is_checked_once_traced) {
  using namespace std::chrono;
  const Adapted unknown = adapt("a04-unknown-patient.hl7");
  BOOST_TEST_REQUIRE(unknown.isAttendance(), unknown.why());
  BOOST_TEST(!unknown.attendance.birthDate.has_value());  // the placeholder 19000101 is cleared
  const Adapted traced = adapt("a08-traced.hl7");
  BOOST_TEST((traced.attendance.birthDate == domain::Date{2017y / September / 10}));
  BOOST_TEST(traced.attendance.visitNumber == unknown.attendance.visitNumber);
  // Without the placeholder setting the 1900 date stays (and the age rule would skip the check).
  const auto keep = instance({{"placeholder_birth_dates", ""}});
  BOOST_TEST(adapt(sample("a04-unknown-patient.hl7"), keep.get()).attendance.birthDate.has_value());
}

BOOST_AUTO_TEST_CASE(planned_follow_ups_are_skipped_or_silent_reads) {
  const Adapted skipped = adapt("a04-planned-follow-up.hl7");
  BOOST_TEST_REQUIRE(skipped.isNotAnAttendance(), skipped.why());
  BOOST_TEST(skipped.reason.find("planned follow-up") != std::string::npos);

  const auto silent = instance({{"planned_follow_ups", "silent_read"}});
  const Adapted read = adapt(sample("a04-planned-follow-up.hl7"), silent.get());
  BOOST_TEST_REQUIRE(read.isAttendance(), read.why());
  BOOST_TEST(code(read.attendance.accessMode) == "SCHEDULED");
  BOOST_TEST(read.attendance.visitNumber == "RZZ03-20250612-0212");
}

BOOST_AUTO_TEST_CASE(a_visit_number_in_pv1_19_wins) {
  const Adapted a = adapt(variant("a04-ambulance-arrival.hl7", "|180\r", "|180|||||||||E25-77001\r"));
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(a.attendance.visitNumber == "E25-77001");
}

BOOST_AUTO_TEST_CASE(a_sequence_number_padded_differently_is_the_same_attendance) {
  for (const std::string_view written : {"457", "0457", "000457"}) {
    const Adapted a =
        adapt(variant("a04-ambulance-arrival.hl7", "ZED|1|0457|", "ZED|1|" + std::string(written) + "|"));
    BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
    BOOST_TEST(a.attendance.visitNumber == "RZZ03-20250612-0457", written);
  }
  const Adapted wide = adapt(variant("a04-ambulance-arrival.hl7", "ZED|1|0457|", "ZED|1|012345|"));
  BOOST_TEST(wide.attendance.visitNumber == "RZZ03-20250612-12345");
  const Adapted zero = adapt(variant("a04-ambulance-arrival.hl7", "ZED|1|0457|", "ZED|1|0|"));
  BOOST_TEST(zero.attendance.visitNumber == "RZZ03-20250612-0000");
}

BOOST_AUTO_TEST_CASE(an_unknown_department_type_is_unmapped_and_gets_no_mode) {
  const Adapted a = adapt(variant("a04-ambulance-arrival.hl7", "|1|01|PAEDS", "|1|07|PAEDS"));
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(a.attendance.locationKey == "RZZ03/07");
  BOOST_TEST(!a.attendance.setting.has_value());  // LOCATION_UNMAPPED
  BOOST_TEST(!a.attendance.accessMode.has_value());
}

struct ErrorCase {
  std::string_view from, to;
  ErrorCode code;
  std::uint32_t field;
};
std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
  return os << c.to;
}
const std::vector<ErrorCase> kErrors{
    {"ZED|1|0457|", "ZED|1||", ErrorCode::RequiredFieldMissing, 2},
    {"ZED|1|0457|", "ZED|1|04A7|", ErrorCode::DataType, 2},
    {"|1|01|PAEDS", "|7|01|PAEDS", ErrorCode::TableValueNotFound, 4},
    // No category: a planned follow-up is not queried as unscheduled on a guess.
    {"|1|01|PAEDS", "||01|PAEDS", ErrorCode::RequiredFieldMissing, 4},
    {"|1|01|PAEDS", "|\"\"|01|PAEDS", ErrorCode::RequiredFieldMissing, 4},
};

BOOST_DATA_TEST_CASE_F(EdArrivals, broken_zed_segments_are_data_errors, boost::unit_test::data::make(kErrors),
                       c) {
  const Adapted a = adapt(variant("a04-ambulance-arrival.hl7", c.from, c.to));
  BOOST_TEST_REQUIRE(a.isDataError(), a.why());
  BOOST_TEST_REQUIRE(a.issues.size() == 1u);
  BOOST_TEST((a.issues.front().code == c.code));
  BOOST_TEST(a.issues.front().location.segmentId == "ZED");
  BOOST_TEST(a.issues.front().location.field == c.field);
}

// A second ZED (its category perhaps a planned follow-up) is refused, never passed over.
BOOST_AUTO_TEST_CASE(a_second_zed_is_a_data_error) {
  const Adapted a = adapt(
      variant("a04-ambulance-arrival.hl7", "|1|01|PAEDS", "|1|01|PAEDS\rZED|2|0457|202506121425|4|01|PAEDS"));
  BOOST_TEST_REQUIRE(a.isDataError(), a.why());
  BOOST_TEST_REQUIRE(a.issues.size() == 1u);
  BOOST_TEST((a.issues.front().code == ErrorCode::SegmentSequence));
  BOOST_TEST(a.issues.front().location.segmentId == "ZED");
  BOOST_TEST(a.issues.front().location.segmentSequence == 2u);
}

// An update without a category is not refused: the A08 that brings a traced NHS number must go
// through, and the arrival's category stands (no access mode of the adapter's: the feed decides).
BOOST_AUTO_TEST_CASE(an_update_without_a_category_goes_through) {
  const Adapted a = adapt(variant("a08-traced.hl7", "|202506121433|1|01|RESUS", "|202506121433||01|RESUS"));
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(!a.attendance.accessMode.has_value());
  BOOST_TEST(a.nhsNumber() != "");
}

BOOST_AUTO_TEST_CASE(an_arrival_without_zed_cannot_be_identified) {
  const Adapted a = adapt("a04-no-zed.hl7");
  BOOST_TEST_REQUIRE(a.isDataError(), a.why());
  BOOST_TEST_REQUIRE(a.issues.size() == 1u);
  BOOST_TEST((a.issues.front().code == ErrorCode::SegmentSequence));
  BOOST_TEST(a.issues.front().text == "no ZED segment: the attendance cannot be identified");
}

BOOST_AUTO_TEST_CASE(unusable_configuration_stops_the_start) {
  BOOST_CHECK_THROW(instance({{"planned_follow_ups", "sometimes"}}), PluginError);
  BOOST_CHECK_THROW(instance({{"board_note_length", "30"}}), PluginError);
  BOOST_CHECK_THROW(instance({{"placeholder_birth_dates", "1900-01-01"}}), PluginError);
  BOOST_CHECK_THROW(instance({{"board_note", "yes"}}), PluginError);
}

BOOST_DATA_TEST_CASE_F(EdArrivals, alerts_are_the_standard_ones_and_a_board_note,
                       boost::unit_test::data::make(kAlertCases), c) {
  const auto inbound = sample("a04-ambulance-arrival.hl7");
  const domain::CheckOutcome outcome = c.outcome();
  const std::string ackText = ack(inbound, outcome, c.feedEncoding);
  checkGolden(golden(c.name), ackText);

  const auto parsed = cpis::hl7v2::parse(std::string_view(ackText));
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->get("MSA-2") == "ET250612142731");
  const auto ids = segmentIds(*parsed);
  BOOST_TEST(ids[2] == (c.feedEncoding == AlertEncoding::Obx ? "OBX" : "ZCP"));
  BOOST_TEST(ids.back() == "NTE");
  const std::string note = parsed->get("NTE-3");
  BOOST_TEST(note.size() <= 60u);
  if (outcome.status == domain::CheckStatus::CheckFailed ||
      outcome.status == domain::CheckStatus::NotChecked) {
    BOOST_TEST(note.find("not a negative result") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_board_note_fits_the_board_or_is_left_out) {
  const auto narrow = instance({{"board_note_length", "45"}});
  const auto inbound = sample("a04-ambulance-arrival.hl7");
  const auto parsed =
      cpis::hl7v2::parse(ack(inbound, outcomes::foundSeveralPlans(), AlertEncoding::ZSegments, narrow.get()));
  BOOST_TEST_REQUIRE(parsed.ok());
  // Plans in force first, whole labels only: a line cut short loses the ended ones first and
  // never cuts "(ended)" off a plan.
  BOOST_TEST(parsed->get("NTE-3") == "CP-IS ALERT: CPP, UCP, LAC (ended)");  // every plan, without the pointer
  domain::CheckOutcome allEnded = outcomes::foundSeveralPlans();
  for (auto& record : allEnded.records) {
    for (auto& plan : record.plans) plan.end = domain::Date{std::chrono::year{2025}, std::chrono::May, std::chrono::day{1}};
  }
  const auto ended = cpis::hl7v2::parse(ack(inbound, allEnded, AlertEncoding::ZSegments, narrow.get()));
  BOOST_TEST_REQUIRE(ended.ok());
  BOOST_TEST(ended->get("NTE-3") == "CP-IS ALERT: CPP (ended), LAC (ended)...");
  const auto failed = cpis::hl7v2::parse(ack(inbound, outcomes::checkFailed(domain::ReasonCode::Timeout),
                                             AlertEncoding::ZSegments, narrow.get()));
  BOOST_TEST_REQUIRE(failed.ok());
  BOOST_TEST(failed->get("NTE-3") == "CP-IS CHECK FAILED - not a negative result");  // whole

  const auto off = instance({{"board_note", "false"}});
  const auto plain =
      cpis::hl7v2::parse(ack(inbound, outcomes::notFound(), AlertEncoding::ZSegments, off.get()));
  BOOST_TEST_REQUIRE(plain.ok());
  BOOST_TEST(segmentIds(*plain).back() == "ZCP");
}

BOOST_AUTO_TEST_SUITE_END()
