#include "engine/domain/attendance.h"

#include <ostream>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cpis::domain;
using namespace std::chrono;

namespace {

struct SettingCase {
  CareSetting setting;
  std::string_view code;
  AccessMode mode;  // CPIS.md section 8 default
};
std::ostream& operator<<(std::ostream& os, const SettingCase& c) {
  return os << c.code;
}

const std::vector<SettingCase> kSettings{
    {CareSetting::Ed, "ED", AccessMode::Unscheduled},
    {CareSetting::UtcWic, "UTC_WIC", AccessMode::Unscheduled},
    {CareSetting::Miu, "MIU", AccessMode::Unscheduled},
    {CareSetting::GpOoh, "GP_OOH", AccessMode::Unscheduled},
    {CareSetting::Nhs111, "NHS111", AccessMode::Unscheduled},
    {CareSetting::Ambulance, "AMBULANCE", AccessMode::Unscheduled},
    {CareSetting::Maternity, "MATERNITY", AccessMode::Unscheduled},
    {CareSetting::PaedWard, "PAED_WARD", AccessMode::Unscheduled},
    {CareSetting::GpInHours, "GP_IN_HOURS", AccessMode::Scheduled},
    {CareSetting::Camhs, "CAMHS", AccessMode::Scheduled},
    {CareSetting::SexualHealthTop, "SEXUAL_HEALTH_TOP", AccessMode::Scheduled},
    {CareSetting::Sarc, "SARC", AccessMode::Scheduled},
    {CareSetting::Zero19, "ZERO_19", AccessMode::Scheduled},
    {CareSetting::CommunityPaeds, "COMMUNITY_PAEDS", AccessMode::Scheduled},
    {CareSetting::DentalAcute, "DENTAL_ACUTE", AccessMode::Scheduled},
    {CareSetting::DentalCommunity, "DENTAL_COMMUNITY", AccessMode::Scheduled},
    {CareSetting::OutOfScope, "OUT_OF_SCOPE", AccessMode::Scheduled},
};

struct AgeCase {
  Date birth;
  Date on;
  int age;
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const AgeCase& c) {
  return os << c.why;
}

const std::vector<AgeCase> kAges{
    {2007y / 6 / 12, 2025y / 6 / 12, 18, "18th birthday: 18"},
    {2007y / 6 / 12, 2025y / 6 / 11, 17, "the day before the 18th birthday: 17"},
    {2007y / 6 / 13, 2025y / 6 / 12, 17, "birthday tomorrow"},
    {2007y / 12 / 31, 2025y / 1 / 1, 17, "month before the birthday month"},
    {2008y / 2 / 29, 2026y / 2 / 28, 17, "leap-day birth, common year: not yet on 28 February"},
    {2008y / 2 / 29, 2026y / 3 / 1, 18, "leap-day birth, common year: a year older on 1 March"},
    {2008y / 2 / 29, 2028y / 2 / 29, 20, "leap-day birth, leap year: on the day"},
    {2025y / 6 / 12, 2025y / 6 / 12, 0, "born today"},
    {2025y / 6 / 13, 2025y / 6 / 12, -1, "born after the date asked about"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(attendance)

BOOST_DATA_TEST_CASE(care_setting_codes_round_trip_with_their_default_mode,
                     boost::unit_test::data::make(kSettings), c) {
  BOOST_TEST(codeOf(c.setting) == c.code);
  BOOST_TEST((parseCareSetting(c.code) == c.setting));
  BOOST_TEST((defaultAccessMode(c.setting) == c.mode));
}

BOOST_AUTO_TEST_CASE(unknown_care_setting_codes_are_refused) {
  BOOST_TEST(!parseCareSetting("ed").has_value());  // codes are case-sensitive
  BOOST_TEST(!parseCareSetting("").has_value());
  BOOST_TEST(!parseCareSetting("A&E").has_value());
}

BOOST_AUTO_TEST_CASE(trace_status_codes_round_trip) {
  for (int i = 1; i <= 8; ++i) {
    const auto status = static_cast<NhsNumberStatus>(i);
    const std::string code = "NSTS0" + std::to_string(i);
    BOOST_TEST(codeOf(status) == code);
    BOOST_TEST((parseNhsNumberStatus(code) == status));
  }
  BOOST_TEST(codeOf(NhsNumberStatus::Absent) == "");
  BOOST_TEST(!parseNhsNumberStatus("NSTS09").has_value());
  BOOST_TEST(!parseNhsNumberStatus("01").has_value());  // mapping files translate the bare digits
  BOOST_TEST(!parseNhsNumberStatus("").has_value());
}

BOOST_AUTO_TEST_CASE(attendance_event_codes_round_trip) {
  for (const auto event : {AttendanceEvent::Start, AttendanceEvent::Update, AttendanceEvent::End,
                           AttendanceEvent::Cancel, AttendanceEvent::NotAnAttendance}) {
    BOOST_TEST((parseAttendanceEvent(codeOf(event)) == event));
  }
  BOOST_TEST(codeOf(AttendanceEvent::NotAnAttendance) == "NOT_AN_ATTENDANCE");
  BOOST_TEST(!parseAttendanceEvent("start").has_value());
}

BOOST_AUTO_TEST_CASE(sex_reads_hl7_table_0001) {
  BOOST_TEST((parseSex("F") == Sex::Female));
  BOOST_TEST((parseSex("M") == Sex::Male));
  BOOST_TEST((parseSex("O") == Sex::Other));
  BOOST_TEST((parseSex("U") == Sex::Unknown));
  BOOST_TEST((parseSex("A") == Sex::Other));    // ambiguous
  BOOST_TEST((parseSex("N") == Sex::Unknown));  // not applicable
  BOOST_TEST(!parseSex("X").has_value());
  BOOST_TEST(codeOf(Sex::Female) == "F");
  BOOST_TEST(codeOf(Sex::Unknown) == "U");
}

BOOST_DATA_TEST_CASE(age_in_completed_years, boost::unit_test::data::make(kAges), c) {
  BOOST_TEST(ageInYears(c.birth, c.on) == c.age);
}

BOOST_AUTO_TEST_CASE(a_new_attendance_knows_nothing_yet) {
  const Attendance a;
  BOOST_TEST((a.event == AttendanceEvent::NotAnAttendance));
  BOOST_TEST((a.nhsStatus == NhsNumberStatus::Absent));
  BOOST_TEST(!a.nhsNumber.has_value());
  BOOST_TEST(!a.setting.has_value());  // unmapped until a mapping says otherwise
  BOOST_TEST(!a.accessMode.has_value());
  BOOST_TEST(!a.scheduledOnly);
}

BOOST_AUTO_TEST_SUITE_END()
