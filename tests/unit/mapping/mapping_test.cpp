// Each kind of rule in the mapping language, on small mappings and messages.

#include "engine/mapping/mapping.h"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/config/xerces_platform.h"
#include "engine/hl7v2/message.h"
#include "engine/mapping/mapping_loader.h"

using namespace cpis::mapping;
using namespace cpis::domain;
using namespace std::chrono;
using cpis::core::ErrorCode;
using cpis::core::Issue;

namespace {

struct MappingFixture {
  cpis::config::XercesPlatform platform;
  MappingLoader loader{platform};

  Mapping load(std::string_view body) const {
    return loader.loadString(
        "<mapping xmlns=\"urn:cpis-engine:mapping:1\" name=\"t\">" + std::string(body) + "</mapping>",
        "t.xml");
  }
};

// An ADT with `segments` after MSH; a bare PID first when they hold none (every attendance
// message names its patient: one without PID is refused, below).
cpis::hl7v2::Message message(std::string_view segments, std::string_view event = "A04") {
  const bool pid = segments.starts_with("PID|") || segments.find("\rPID|") != std::string_view::npos;
  std::string text = "MSH|^~\\&|EPR|RZZ01|CPIS-ENGINE|RZZ|20250612143005+0100||ADT^" + std::string(event) +
                     "^ADT_A01|C1|P|2.4\r" + (pid ? "" : "PID|1\r") + std::string(segments);
  auto parsed = cpis::hl7v2::parse(std::move(text));
  BOOST_REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

Attendance attendanceOf(const Mapping& mapping, const cpis::hl7v2::Message& m) {
  auto result = mapping.apply(m, "feed-1");
  BOOST_REQUIRE_MESSAGE(result.ok(),
                        "mapping gave issues: " << (result.ok() ? "" : result.error().front().text));
  return std::move(result).value();
}

// The England rule for the NHS number, kept here so these cases do not depend on the shipped file.
constexpr std::string_view kNhsRule = R"(
  <field name="nhsNumber">
    <source path="PID-3(*).1"><where component="4" in="NHS"/><where component="5" in="NH" orEmpty="true"/></source>
    <source path="PID-3(*).1"><where component="4" subComponent="2" in="2.16.840.1.113883.2.1.4.1"/></source>
  </field>)";

struct NhsCase {
  std::string_view pid3;
  std::string_view expected;  // "" = none found
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const NhsCase& c) {
  return os << c.why;
}

const std::vector<NhsCase> kNhsCases{
    {"9990000018^^^NHS^NH", "9990000018", "HL7 UK form"},
    {"9990000018^^^NHS", "9990000018", "ITK sample form: no type"},
    {"K123^^^RZZ^MR~9990000018^^^NHS^NH", "9990000018", "second repetition"},
    {"9990000018^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH", "9990000018", "HD form: namespace id NHS"},
    {"9990000018^^^&2.16.840.1.113883.2.1.4.1&ISO^NH", "9990000018", "HD form: the OID alone"},
    {"9990000018^^^RZZ^MR", "", "a local MR number is never taken"},
    {"9990000018^^^NHS^MR", "", "authority NHS but type MR"},
    {"9990000018^^^nhs^NH", "", "authority codes are case-sensitive"},
    {"^^^NHS^NH~9990000026^^^NHS^NH", "9990000026", "an empty NHS repetition is skipped"},
    {"999 000 0018^^^NHS^NH", "9990000018", "spaces in the number"},
    {"", "", "no PID-3"},
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mapping_rules, MappingFixture)

BOOST_DATA_TEST_CASE_F(MappingFixture, repetition_conditions_pick_the_nhs_number,
                       boost::unit_test::data::make(kNhsCases), c) {
  const Mapping mapping = load("<fields>" + std::string(kNhsRule) + "</fields>");
  const Attendance a = attendanceOf(mapping, message("PID|1||" + std::string(c.pid3) + "\r"));
  if (c.expected.empty()) {
    BOOST_TEST(!a.nhsNumber.has_value());
  } else {
    BOOST_TEST_REQUIRE(a.nhsNumber.has_value());
    BOOST_TEST(a.nhsNumber->reveal() == c.expected);
  }
  BOOST_TEST(a.nhsNumberProblem.empty());
}

// A number a condition passed over is named by place; the condition's value is quoted only when
// it is the identifier's own code (a component of the same repetition), never a patient's field:
// otherwise the mapping's own values are named.
BOOST_AUTO_TEST_CASE(a_number_passed_over_is_named_without_patient_data) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="nhsNumber">
        <source path="PID-3(*).1"><where field="8" in="F"/><where component="4" in="NHS"/></source>
      </field></fields>)");
  const auto byField =
      mapping.apply(message("PID|1||9990000018^^^NHS^NH||SMITH^ALEX||20150403|M\r"), "feed-1");
  BOOST_TEST_REQUIRE(byField.ok());
  BOOST_TEST(!byField->nhsNumber.has_value());
  BOOST_TEST(
      byField->nhsNumberPassedOver ==
      "PID-3.1 passes the NHS number check but the mapping passed it over: PID-8 is not one the mapping "
      "takes ('F')");
  const auto byComponent = mapping.apply(
      message("PID|1||9990000018^^^2.16.840.1.113883.2.1.4.1^NH||SMITH^ALEX||20150403|F\r"), "feed-1");
  BOOST_TEST_REQUIRE(byComponent.ok());
  BOOST_TEST(byComponent->nhsNumberPassedOver ==
             "PID-3.1 passes the NHS number check but the mapping passed it over: PID-3.4 is "
             "'2.16.840.1.113883.2.1.4.1'");
  // A component that reads like a person's data is not quoted.
  const auto spaced = mapping.apply(message("PID|1||9990000018^^^ALEX SMITH^NH||SMITH^ALEX|||F\r"), "feed-1");
  BOOST_TEST_REQUIRE(spaced.ok());
  BOOST_TEST(
      spaced->nhsNumberPassedOver ==
      "PID-3.1 passes the NHS number check but the mapping passed it over: PID-3.4 is not one the mapping "
      "takes ('NHS')");
  for (const auto* a : {&*byField, &*byComponent, &*spaced}) {
    for (const char* phi : {"9990000018", "SMITH", "ALEX", "20150403"}) {
      BOOST_TEST(a->nhsNumberPassedOver.find(phi) == std::string::npos, phi);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_invalid_nhs_number_is_a_problem_not_an_error) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>)" +
                               std::string(kNhsRule) + "</fields>");
  const auto result = mapping.apply(message("PID|1||9990000019^^^NHS^NH\r"), "feed-1");
  BOOST_TEST_REQUIRE(result.ok());  // accepted: the check is NOT_CHECKED, the message is fine
  BOOST_TEST(!result->nhsNumber.has_value());
  BOOST_TEST(result->nhsNumberProblem == "NHS number fails modulus 11 (wrong check digit)");
  BOOST_TEST(result->nhsNumberProblem.find("9990000019") == std::string::npos);  // never the value
  // The value itself is kept apart, for ZCP-13 only.
  BOOST_TEST_REQUIRE(result->refusedNhsNumber.has_value());
  BOOST_TEST(result->refusedNhsNumber->reveal() == "9990000019");
}

// CPIS.md §8, hazard H5: in LIVE every location mapped into scope states its access mode, on
// its row or through the mapping's <settings> entry for its setting.
BOOST_AUTO_TEST_CASE(locations_relying_on_a_default_access_mode_are_named_by_line) {
  const Mapping mapping = load(R"(<fields><field name="visitNumber"><source path="PV1-19"/></field></fields>
<locations>
  <key><part path="PV1-3.1"/></key>
  <location key="EDMAJ" setting="ED"/>
  <location key="CAMHS" setting="CAMHS" mode="UNSCHEDULED"/>
  <location key="DENTAL" setting="DENTAL_ACUTE"/>
  <location key="XRAY" setting="OUT_OF_SCOPE"/>
  <otherwise setting="MIU"/>
</locations>
<settings><setting code="DENTAL_ACUTE" mode="SCHEDULED"/></settings>)");
  const auto problems = cpis::mapping::implicitAccessModes(mapping.rules(), "t.xml");
  BOOST_TEST_REQUIRE(problems.size() == 2u);
  BOOST_TEST(problems[0].file == "t.xml");
  BOOST_TEST(problems[0].line == 4u);
  BOOST_TEST(problems[0].message.find("location EDMAJ (ED) has no explicit access mode") == 0u, problems[0].message);
  BOOST_TEST(problems[0].message.find("mode=\"UNSCHEDULED\"") != std::string::npos);
  BOOST_TEST(problems[1].line == 8u);
  BOOST_TEST(problems[1].message.find("the otherwise rule (MIU)") == 0u, problems[1].message);

  const Mapping stated = load(R"(<fields><field name="visitNumber"><source path="PV1-19"/></field></fields>
<locations>
  <key><part path="PV1-3.1"/></key>
  <location key="EDMAJ" setting="ED" mode="UNSCHEDULED"/>
  <otherwise setting="MIU" mode="UNSCHEDULED"/>
</locations>)");
  BOOST_TEST(cpis::mapping::implicitAccessModes(stated.rules(), "t.xml").empty());
}

BOOST_AUTO_TEST_CASE(sources_fall_back_in_order_and_constants_fill_the_rest) {
  const Mapping mapping = load(R"(<fields>
    <field name="arrivedAt"><source path="PV1-44"/><source path="EVN-6"/><source path="EVN-2"/></field>
    <field name="siteOdsCode"><source path="PV1-3.4"/><constant value="RZZ99"/></field>
    <field name="department"><source path="PV1-3.1"/><constant value="MAIN"/></field>
  </fields>)");
  const Attendance a = attendanceOf(mapping, message("EVN|A04|20250612143005+0100||||20250612142900+0100\r"
                                                     "PV1|1|E|EDMAJ\r"));
  BOOST_TEST((a.arrivedAt == Instant{sys_days{2025y / 6 / 12} + 13h + 29min}));  // EVN-6: PV1-44 is empty
  BOOST_TEST(a.siteOdsCode == "RZZ99");  // PV1-3.4 empty: the constant
  BOOST_TEST(a.department == "EDMAJ");
}

BOOST_AUTO_TEST_CASE(field_conditions_read_the_same_segment_occurrence) {
  const Mapping mapping = load(R"(<fields>
    <field name="pregnant">
      <source path="OBX(*)-5.1"><where field="3" component="1" in="82810-3"/></source>
      <map from="77386006" to="Y"/><mapDefault to="N"/>
    </field>
    <field name="expectedDeliveryDate"><source path="OBX(*)-5"><where field="3" in="11778-8"/></source></field>
  </fields>)");
  const Attendance a =
      attendanceOf(mapping, message("OBX|1|ST|8302-2^Height^LN||120\r"
                                    "OBX|2|DT|11778-8^Delivery date Estimated^LN||20250902\r"
                                    "OBX|3|CE|82810-3^Pregnancy status^LN||77386006^Pregnant^SCT\r"));
  BOOST_TEST(a.pregnant);
  BOOST_TEST((a.expectedDeliveryDate == 2025y / 9 / 2));

  // Another pregnancy status value maps to N through the default.
  const Attendance b =
      attendanceOf(mapping, message("OBX|1|CE|82810-3^Pregnancy status^LN||60001007^Not pregnant^SCT\r"));
  BOOST_TEST(!b.pregnant);
  BOOST_TEST(!b.expectedDeliveryDate.has_value());
}

BOOST_AUTO_TEST_CASE(absolute_conditions_and_not_in) {
  const Mapping mapping = load(R"(<fields>
    <field name="pregnant"><source path="PV1-2"><where path="PV1-2" in="B"/></source><map from="B" to="Y"/></field>
    <field name="familyName"><source path="PID-5(*).1"><where component="7" notIn="A M"/></source></field>
  </fields>)");
  const Attendance a =
      attendanceOf(mapping, message("PID|1||||ALIAS^Al^^^^^A~TESTCHILD^Alex^^^^^L\rPV1|1|B\r"));
  BOOST_TEST(a.pregnant);
  BOOST_TEST(a.name.family == "TESTCHILD");
  const Attendance b = attendanceOf(mapping, message("PV1|1|E\r"));
  BOOST_TEST(!b.pregnant);
}

// A value behind thousands of repetitions is found, each repetition's conditions read in the
// same pass (see Reader: no rescans from the start).
BOOST_AUTO_TEST_CASE(a_value_behind_thousands_of_repetitions_is_found) {
  const Mapping mapping = load(R"(<fields>
    <field name="nhsNumber"><source path="PID-3(*).1"><where component="4" in="NHS"/></source></field>
  </fields>)");
  std::string pid = "PID|1||";
  for (int i = 0; i < 50'000; ++i) pid += "X^^^MR~";
  pid += "9990000018^^^NHS^NH\r";
  const Attendance a = attendanceOf(mapping, message(pid));
  BOOST_TEST_REQUIRE(a.nhsNumber.has_value());
  BOOST_TEST(a.nhsNumber->reveal() == "9990000018");
}

BOOST_AUTO_TEST_CASE(maps_translate_local_codes_and_leave_others) {
  const Mapping mapping = load(R"(<fields>
    <field name="sex"><source path="PID-8"/><map from="1" to="M"/><map from="2" to="F"/></field>
    <field name="nhsStatus"><source path="PID-32"/><map from="01" to="NSTS01"/></field>
  </fields>)");
  const auto pid = [](std::string_view sex, std::string_view status) {
    return "PID|1|||||||" + std::string(sex) + "||||||||||||||||||||||||" + std::string(status) + "\r";
  };
  BOOST_TEST((attendanceOf(mapping, message(pid("2", "01"))).sex == Sex::Female));
  BOOST_TEST((attendanceOf(mapping, message(pid("2", "01"))).nhsStatus == NhsNumberStatus::Nsts01));
  BOOST_TEST((attendanceOf(mapping, message(pid("M", "NSTS02"))).sex == Sex::Male));  // unmapped: as sent
  BOOST_TEST((attendanceOf(mapping, message(pid("M", "NSTS02"))).nhsStatus == NhsNumberStatus::Nsts02));
  BOOST_TEST((attendanceOf(mapping, message(pid("Z", "TRACED"))).sex == Sex::Unknown));  // not table 0001
  BOOST_TEST((attendanceOf(mapping, message(pid("Z", "TRACED"))).nhsStatus == NhsNumberStatus::Absent));
  // A status sent that is none is unreadable, not absent (it may stand for NSTS04); no PID-32, or
  // an identity reliability code (table 0445) alone, is no status.
  BOOST_TEST(attendanceOf(mapping, message(pid("Z", "TRACED"))).nhsStatusUnreadable);
  BOOST_TEST(attendanceOf(mapping, message(pid("Z", "4"))).nhsStatusUnreadable);
  BOOST_TEST(!attendanceOf(mapping, message(pid("Z", ""))).nhsStatusUnreadable);
  BOOST_TEST(!attendanceOf(mapping, message(pid("Z", "AL"))).nhsStatusUnreadable);
  BOOST_TEST(!attendanceOf(mapping, message(pid("Z", "01"))).nhsStatusUnreadable);
}

// A value mapped to nothing counts as absent, so the next source is read; and a constant is
// checked at load as what it maps to.
BOOST_AUTO_TEST_CASE(a_value_mapped_to_nothing_falls_back_to_the_next_source_and_constants_map) {
  const Mapping mapping = load(R"(<fields>
    <field name="nhsStatus"><source path="PID-32"/><source path="ZU1-27"/>
      <map from="AL" to=""/><map from="01" to="NSTS01"/></field>
    <field name="sex"><constant value="1"/><map from="1" to="M"/></field>
  </fields>)");
  const auto m = message("PID|1|||||||||||||||||||||||||||||||AL\rZU1|1||||||||||||||||||||||||||01\r");
  const Attendance a = attendanceOf(mapping, m);
  BOOST_TEST((a.nhsStatus == NhsNumberStatus::Nsts01));
  BOOST_TEST((a.sex == Sex::Male));
}

BOOST_AUTO_TEST_CASE(date_formats_per_field_and_per_source) {
  const Mapping mapping = load(R"(<fields>
    <field name="birthDate" format="DD/MM/YYYY"><source path="ZPV-6"/><source path="PID-7" format="HL7"/></field>
    <field name="arrivedAt" format="DD/MM/YYYY hh:mm"><source path="ZPV-3"/></field>
  </fields>)");
  const Attendance a =
      attendanceOf(mapping, message("PID|1||||||20150403\rZPV|1||12/06/2025 14:25|||03/04/2016\r"));
  BOOST_TEST((a.birthDate == 2016y / 4 / 3));  // ZPV-6 first, in its pattern
  BOOST_TEST((a.arrivedAt == Instant{sys_days{2025y / 6 / 12} + 13h + 25min}));  // London summer time
  const Attendance b = attendanceOf(mapping, message("PID|1||||||20150403\r"));
  BOOST_TEST((b.birthDate == 2015y / 4 / 3));  // the HL7 fallback
}

// A value that does not read in its format is no value: the next source is tried, and the ACK
// warns (102 W) where the unreadable one was, never quoting it.
BOOST_AUTO_TEST_CASE(an_unreadable_date_falls_back_to_the_next_source_with_a_warning) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="arrivedAt" required="true"><source path="PV1-44"/><source path="EVN-2"/></field>
      <field name="birthDate"><source path="PID-7"/><source path="ZPV-6" format="DD/MM/YYYY"/></field>
    </fields>)");
  const auto m = message("EVN|A04|20250610193000+0100\rPID|1||||||2015-04-03\rPV1|1" + std::string(43, '|') +
                         "20250610183000 +01:00\rZPV|1|||||03/04/2015\r");
  const auto result = mapping.apply(m, "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  const Attendance& a = result.value();
  BOOST_TEST((a.arrivedAt == Instant{sys_days{2025y / 6 / 10} + 18h + 30min}));  // EVN-2
  BOOST_TEST((a.birthDate == 2015y / 4 / 3));                                    // ZPV-6
  BOOST_TEST_REQUIRE(a.warnings.size() == 2u);
  BOOST_TEST(a.warnings[0].text == "birthDate at PID-7 is not a date in the format HL7; ZPV-6 taken instead");
  BOOST_TEST(a.warnings[0].location.field == 7u);
  BOOST_TEST(a.warnings[1].text ==
             "arrivedAt at PV1-44 is not a date and time in the format HL7; EVN-2 taken instead");
  BOOST_TEST(a.warnings[1].location.segmentId == "PV1");
  BOOST_TEST(a.warnings[1].location.field == 44u);
  for (const Issue& issue : a.warnings) BOOST_TEST((issue.severity == cpis::core::Severity::Warning));
  // None reads: the first unreadable one is reported, and a required field is refused at it.
  const auto none =
      mapping.apply(message("EVN|A04|soon\rPV1|1" + std::string(43, '|') + "later\r"), "feed-1");
  BOOST_TEST_REQUIRE(!none.ok());
  BOOST_TEST_REQUIRE(none.error().size() == 1u);
  BOOST_TEST(none.error()[0].text == "arrivedAt is not a date and time in the format HL7");
  BOOST_TEST(none.error()[0].location.segmentId == "PV1");
}

// A pregnancy value that is neither Y nor N once mapped is not "not pregnant": it is warned
// about and the patient is checked as if pregnant (decide reads pregnancyUnreadable).
BOOST_AUTO_TEST_CASE(a_pregnancy_neither_y_nor_n_is_unreadable_not_no) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="pregnant"><source path="ZUC-3"/><map from="1" to="Y"/><map from="0" to="N"/></field>
    </fields>)");
  const Attendance yes = attendanceOf(mapping, message("ZUC|1||1\r"));
  BOOST_TEST(yes.pregnant);
  BOOST_TEST(!yes.pregnancyUnreadable);
  const Attendance no = attendanceOf(mapping, message("ZUC|1||0\r"));
  BOOST_TEST(!no.pregnant);
  BOOST_TEST(!no.pregnancyUnreadable);
  BOOST_TEST(no.warnings.empty());
  const Attendance absent = attendanceOf(mapping, message("ZUC|1\r"));
  BOOST_TEST(!absent.pregnancyUnreadable);
  const Attendance unread = attendanceOf(mapping, message("ZUC|1||YES\r"));
  BOOST_TEST(!unread.pregnant);
  BOOST_TEST(unread.pregnancyUnreadable);
  BOOST_TEST_REQUIRE(unread.warnings.size() == 1u);
  BOOST_TEST(unread.warnings[0].text == "pregnant is neither Y nor N once mapped; checked as if pregnant");
  BOOST_TEST(unread.warnings[0].location.segmentId == "ZUC");
  BOOST_TEST(unread.warnings[0].location.field == 3u);
}

// A birth date after the arrival (a mistyped year) is warned about at its field; the date itself
// is kept, and the age rule reads it as under any limit.
BOOST_AUTO_TEST_CASE(a_birth_date_after_the_arrival_is_warned_about) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="birthDate"><source path="PID-7"/></field>
      <field name="arrivedAt"><source path="PV1-44"/></field>
    </fields>)");
  const auto at = [&](std::string_view birth) {
    return attendanceOf(mapping, message("PID|1||||||" + std::string(birth) + "\rPV1|1" +
                                         std::string(43, '|') + "202506121425\r"));
  };
  const Attendance later = at("21170403");
  BOOST_TEST((later.birthDate == 2117y / 4 / 3));
  BOOST_TEST_REQUIRE(later.warnings.size() == 1u);
  BOOST_TEST(later.warnings[0].text == "birthDate is after the arrival; checked as a child");
  BOOST_TEST(later.warnings[0].location.segmentId == "PID");
  BOOST_TEST(later.warnings[0].location.field == 7u);
  BOOST_TEST(at("20250613").warnings.size() == 1u);  // the next day, London
  BOOST_TEST(at("20250612").warnings.empty());       // born on the day of the attendance
  BOOST_TEST(at("20170403").warnings.empty());
}

BOOST_AUTO_TEST_CASE(a_utc_mapping_reads_times_without_offset_as_utc) {
  const Mapping mapping =
      loader.loadString(R"(<mapping xmlns="urn:cpis-engine:mapping:1" name="t" timeZone="UTC">
    <fields><field name="arrivedAt"><source path="PV1-44"/></field></fields></mapping>)",
                        "t.xml");
  const Attendance a = attendanceOf(mapping, message("PV1|1" + std::string(43, '|') + "20250612142900\r"));
  BOOST_TEST((a.arrivedAt == Instant{sys_days{2025y / 6 / 12} + 14h + 29min}));
}

BOOST_AUTO_TEST_CASE(trigger_events_come_from_the_table) {
  const Mapping mapping = load(R"(<events>
      <event code="A04" means="START"/><event code="A08" means="UPDATE"/><event code="A03" means="END"/>
      <event code="A11" means="CANCEL"/><event code="A05" means="START" scheduledOnly="true"/>
    </events><fields/>)");
  const auto eventOf = [&](std::string_view code) { return attendanceOf(mapping, message("", code)); };
  BOOST_TEST((eventOf("A04").event == AttendanceEvent::Start));
  BOOST_TEST(!eventOf("A04").scheduledOnly);
  BOOST_TEST((eventOf("A08").event == AttendanceEvent::Update));
  BOOST_TEST((eventOf("A03").event == AttendanceEvent::End));
  BOOST_TEST((eventOf("A11").event == AttendanceEvent::Cancel));
  BOOST_TEST((eventOf("A05").event == AttendanceEvent::Start));
  BOOST_TEST(eventOf("A05").scheduledOnly);
  BOOST_TEST((eventOf("A28").event == AttendanceEvent::NotAnAttendance));  // not listed
  BOOST_TEST(eventOf("A28").triggerEvent == "A28");
  BOOST_TEST(eventOf("A28").controlId == "C1");
  BOOST_TEST(eventOf("A28").feedId == "feed-1");
}

BOOST_AUTO_TEST_CASE(the_trigger_event_falls_back_to_evn_1) {
  const Mapping mapping = load(R"(<events><otherwise means="UPDATE"/></events><fields/>)");
  auto parsed = cpis::hl7v2::parse("MSH|^~\\&|EPR|RZZ01|||20250612||ADT|C2|P|2.3\rEVN|A01|20250612\rPID|1\r");
  BOOST_TEST_REQUIRE(parsed.ok());
  const Attendance a = attendanceOf(mapping, *parsed);
  BOOST_TEST(a.triggerEvent == "A01");
  BOOST_TEST((a.event == AttendanceEvent::Update));  // the table's otherwise
}

// A message with no trigger event anywhere, or an attendance without PID, is refused (AE) at
// what is missing: never taken quietly as "not an attendance" or "no NHS number".
BOOST_AUTO_TEST_CASE(no_trigger_event_or_no_pid_is_a_message_error) {
  const Mapping mapping =
      load(R"(<events><event code="A04" means="START"/><otherwise means="NOT_AN_ATTENDANCE"/></events>
      <fields><field name="visitNumber" required="true"><source path="PV1-19"/></field></fields>)");
  auto untriggered =
      cpis::hl7v2::parse("MSH|^~\\&|EPR|RZZ01|||20250612||ADT|C3|P|2.4\rEVN||20250612\rPID|1\r");
  BOOST_TEST_REQUIRE(untriggered.ok());
  const auto refused = mapping.apply(*untriggered, "feed-1");
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST_REQUIRE(refused.error().size() == 1u);
  BOOST_TEST((refused.error()[0].code == ErrorCode::RequiredFieldMissing));
  BOOST_TEST(refused.error()[0].text == "triggerEvent is required: nothing at MSH-9.2 or EVN-1");
  BOOST_TEST(refused.error()[0].location.segmentId == "MSH");
  BOOST_TEST(refused.error()[0].location.field == 9u);

  auto noPid = cpis::hl7v2::parse("MSH|^~\\&|EPR|RZZ01|||20250612||ADT^A04|C4|P|2.4\rEVN|A04|20250612\r");
  BOOST_TEST_REQUIRE(noPid.ok());
  const auto patientless = mapping.apply(*noPid, "feed-1");
  BOOST_TEST_REQUIRE(!patientless.ok());
  BOOST_TEST_REQUIRE(patientless.error().size() == 2u);
  BOOST_TEST((patientless.error()[0].code == ErrorCode::SegmentSequence));
  BOOST_TEST(patientless.error()[0].text == "no PID segment: the message names no patient");
  BOOST_TEST(patientless.error()[0].location.segmentId == "PID");
  BOOST_TEST(patientless.error()[0].location.field == 0u);
  // and the required field whose segment is not there at all names the segment
  BOOST_TEST((patientless.error()[1].code == ErrorCode::SegmentSequence));
  BOOST_TEST(patientless.error()[1].text ==
             "visitNumber is required: the message has no PV1 segment (nothing at PV1-19)");
  BOOST_TEST(patientless.error()[1].location.segmentId == "PV1");
  BOOST_TEST(patientless.error()[1].location.field == 0u);

  // A person-level message (not an attendance) needs no PID of the mapping.
  auto person = cpis::hl7v2::parse("MSH|^~\\&|EPR|RZZ01|||20250612||ADT^A31|C5|P|2.4\rEVN|A31|20250612\r");
  BOOST_TEST_REQUIRE(person.ok());
  BOOST_TEST(mapping.apply(*person, "feed-1").ok());
}

namespace {
constexpr std::string_view kLocations = R"(<fields>
    <field name="siteOdsCode"><source path="PV1-3.4"/><source path="MSH-4"/></field>
    <field name="department"><source path="PV1-3.1"/></field>
  </fields>
  <locations>
    <key separator="/"><part field="siteOdsCode"/><part field="department"/></key>
    <location key="RZZ01/EDMAJ" setting="ED"/>
    <location key="RZZ01/WARD7" setting="PAED_WARD"><where path="PV1-2" in="I E"/></location>
    <location key="RZZ01/CAMHS" setting="CAMHS" mode="UNSCHEDULED"/>
    <location key="RZZ01/DENTAL" setting="DENTAL_ACUTE"/>
    <location key="RZZ01/*" setting="MATERNITY"><where path="PV1-10" in="501 560"/></location>
    <location key="RZZ02/*" setting="MIU"/>
  </locations>
  <settings><setting code="DENTAL_ACUTE" mode="UNSCHEDULED"/><setting code="CAMHS" mode="SCHEDULED"/></settings>)";

struct LocationCase {
  std::string_view pv1;
  std::string_view key;
  std::optional<CareSetting> setting;
  std::optional<AccessMode> mode;  // the mapping's, when it says one
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const LocationCase& c) {
  return os << c.why;
}

const std::vector<LocationCase> kLocationCases{
    {"PV1|1|E|EDMAJ^^^RZZ01", "RZZ01/EDMAJ", CareSetting::Ed, std::nullopt, "exact key"},
    {"PV1|1|I|WARD7^B2^3^RZZ01", "RZZ01/WARD7", CareSetting::PaedWard, std::nullopt, "key and condition"},
    {"PV1|1|O|WARD7^B2^3^RZZ01", "RZZ01/WARD7", std::nullopt, std::nullopt, "condition fails: unmapped"},
    {"PV1|1|I|CAMHS^^^RZZ01", "RZZ01/CAMHS", CareSetting::Camhs, AccessMode::Unscheduled,
     "a location's mode beats its setting's"},
    {"PV1|1|E|DENTAL^^^RZZ01", "RZZ01/DENTAL", CareSetting::DentalAcute, AccessMode::Unscheduled,
     "the setting's mode"},
    {"PV1|1|I|LAB4^^^RZZ01|||||||501", "RZZ01/LAB4", CareSetting::Maternity, std::nullopt,
     "wildcard part, condition"},
    {"PV1|1|E|ANY", "RZZ01/ANY", std::nullopt, std::nullopt, "site from MSH-4; no row"},
    {"PV1|1|E|XRAY^^^RZZ02", "RZZ02/XRAY", CareSetting::Miu, std::nullopt, "wildcard"},
    {"PV1|1|E", "RZZ01/", std::nullopt, std::nullopt, "no point of care"},
};
}  // namespace

BOOST_DATA_TEST_CASE_F(MappingFixture, locations_become_care_settings,
                       boost::unit_test::data::make(kLocationCases), c) {
  const Mapping mapping = load(kLocations);
  const Attendance a = attendanceOf(mapping, message(std::string(c.pv1) + "\r"));
  BOOST_TEST(a.locationKey == c.key);
  BOOST_TEST((a.setting == c.setting));
  BOOST_TEST((a.accessMode == c.mode));
}

BOOST_AUTO_TEST_CASE(the_default_location_rule) {
  const Mapping mapping = load(R"(<fields/><locations>
      <key><part path="PV1-3.4"/><part path="PV1-3.1"/></key>
      <location key="RZZ01/EDMAJ" setting="ED"/>
      <location key="RZZ01/WARD7" setting="PAED_WARD"><where path="PV1-2" in="I E"/></location>
      <location key="RZZ01/*" setting="ED"><where path="PV1-10" in="180"/></location>
      <otherwise setting="OUT_OF_SCOPE"/>
    </locations>)");
  const Attendance byDefault = attendanceOf(mapping, message("PV1|1|O|OPD4^^^RZZ01\r"));
  BOOST_TEST((byDefault.setting == CareSetting::OutOfScope));
  BOOST_TEST(byDefault.settingByDefault);  // no row mapped it (hazard H4: the intake reports it)
  const Attendance mapped = attendanceOf(mapping, message("PV1|1|E|EDMAJ^^^RZZ01\r"));
  BOOST_TEST((mapped.setting == CareSetting::Ed));
  BOOST_TEST(!mapped.settingByDefault);
  // A row names the location, and its conditions leave this message out: the table's own word.
  const Attendance excluded = attendanceOf(mapping, message("PV1|1|O|WARD7^^^RZZ01\r"));
  BOOST_TEST((excluded.setting == CareSetting::OutOfScope));
  BOOST_TEST(!excluded.settingByDefault);
  // `*` is any part, an empty one too: an ED child whose message names no point of care is
  // still taken by the site-wide row for emergency medicine (PV1-10 180), not put out of scope.
  const Attendance noPoint = attendanceOf(mapping, message("PV1|1|E|^^^RZZ01|||||||180\r"));
  BOOST_TEST(noPoint.locationKey == "RZZ01/");
  BOOST_TEST((noPoint.setting == CareSetting::Ed));
  BOOST_TEST(!noPoint.settingByDefault);
  BOOST_TEST((attendanceOf(mapping, message("PV1|1|E|XRAY^^^RZZ01|||||||180\r")).setting == CareSetting::Ed));
  // A message without any location has no key, and gets the default too.
  const Attendance none = attendanceOf(mapping, message(""));
  BOOST_TEST(none.locationKey.empty());
  BOOST_TEST((none.setting == CareSetting::OutOfScope));
}

// CPIS.md §8: a location's terms of checks (maximum age, unverified numbers, out-of-scope
// alerts, checks off) on its row, else on its setting's entry; unset terms stay unset (the feed's).
BOOST_AUTO_TEST_CASE(location_terms_come_from_the_row_then_the_setting) {
  const Mapping mapping = load(R"(<fields/><locations>
      <key><part path="PV1-3.4"/><part path="PV1-3.1"/></key>
      <location key="RZZ01/LEAVING" setting="ED" mode="UNSCHEDULED" maxAgeYears=" 25
        " acceptUnverifiedNhsNumber="true"/>
      <location key="RZZ01/EDMAJ" setting="ED" mode="UNSCHEDULED"/>
      <location key="RZZ01/BIRTH" setting="MATERNITY" mode="UNSCHEDULED" enabled="false"/>
      <location key="RZZ01/XRAY" setting="OUT_OF_SCOPE" emitOutOfScope="true"/>
      <otherwise setting="OUT_OF_SCOPE"/>
    </locations>
    <settings>
      <setting code="ED" maxAgeYears="+16" acceptUnverifiedNhsNumber="false"/>
      <setting code="MATERNITY" mode="UNSCHEDULED" maxAgeYears=" none "/>
      <setting code="OUT_OF_SCOPE" emitOutOfScope="false"/>
    </settings>)");
  const Attendance leaving = attendanceOf(mapping, message("PV1|1|E|LEAVING^^^RZZ01\r"));
  BOOST_TEST((leaving.locationTerms.maxAgeYears == 25));  // the row's, over its setting's 16
  BOOST_TEST((leaving.locationTerms.acceptUnverifiedNhsNumber == true));
  BOOST_TEST(!leaving.locationTerms.enabled.has_value());
  const Attendance ed = attendanceOf(mapping, message("PV1|1|E|EDMAJ^^^RZZ01\r"));
  BOOST_TEST((ed.locationTerms.maxAgeYears == 16));  // its setting's
  BOOST_TEST((ed.locationTerms.acceptUnverifiedNhsNumber == false));
  BOOST_TEST((ed.accessMode == AccessMode::Unscheduled));
  const Attendance birth = attendanceOf(mapping, message("PV1|1|I|BIRTH^^^RZZ01\r"));
  BOOST_TEST((birth.locationTerms.enabled == false));
  BOOST_TEST((birth.locationTerms.maxAgeYears == 0));  // none
  const Attendance xray = attendanceOf(mapping, message("PV1|1|O|XRAY^^^RZZ01\r"));
  BOOST_TEST((xray.locationTerms.emitOutOfScope == true));  // the row's, over its setting's false
  const Attendance other = attendanceOf(mapping, message("PV1|1|O|OPD4^^^RZZ01\r"));
  BOOST_TEST((other.locationTerms.emitOutOfScope == false));  // the otherwise rule's setting entry
  // A mapping that says nothing leaves every term to the feed.
  const Mapping plain = load(R"(<fields/><locations>
      <key><part path="PV1-3.1"/></key>
      <location key="EDMAJ" setting="ED" mode="UNSCHEDULED"/>
    </locations>)");
  BOOST_TEST((attendanceOf(plain, message("PV1|1|E|EDMAJ\r")).locationTerms == LocationTerms{}));
}

BOOST_AUTO_TEST_CASE(a_missing_required_field_is_issue_101_naming_the_field) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="visitNumber" required="true"><source path="PV1-19"/><source path="PV2-1"/></field>
      <field name="birthDate" required="true"><source path="PID-7"/></field>
    </fields>)");
  const auto m = message("PID|1||||||20150403\rPV1|1|E|EDMAJ^^^RZZ01\r");
  const auto result = mapping.apply(m, "feed-1");
  BOOST_TEST_REQUIRE(!result.ok());
  BOOST_TEST_REQUIRE(result.error().size() == 1u);
  const Issue& issue = result.error().front();
  BOOST_TEST((issue.code == ErrorCode::RequiredFieldMissing));
  BOOST_TEST(issue.text == "visitNumber is required: nothing at PV1-19 or PV2-1");
  BOOST_TEST(issue.location.segmentId == "PV1");
  BOOST_TEST(issue.location.segmentSequence == 1u);
  BOOST_TEST(issue.location.field == 19u);
  BOOST_TEST(issue.location.byteOffset == m.raw().find("PV1|"));
}

// A date that is not one: taken as absent with a warning (102, where it was found), so the
// attendance is still checked (an unreadable birth date is a missing one: CPIS.md §8, check
// anyway); in a field the mapping requires, it refuses the message.
BOOST_AUTO_TEST_CASE(a_bad_date_is_a_warning_102_where_it_was_found_and_an_error_when_required) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="birthDate"><source path="PID-7"/></field>
      <field name="arrivedAt"><source path="PV1-44"/><source path="EVN-2"/></field>
    </fields>)");
  const auto m = message("EVN|A04|2025-06-12\rPID|1||||||20151332\r");
  const auto result = mapping.apply(m, "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  const auto& warnings = result.value().warnings;
  BOOST_TEST(!result.value().birthDate.has_value());
  BOOST_TEST(!result.value().arrivedAt.has_value());
  BOOST_TEST_REQUIRE(warnings.size() == 2u);
  BOOST_TEST((warnings[0].code == ErrorCode::DataType));
  BOOST_TEST((warnings[0].severity == cpis::core::Severity::Warning));
  BOOST_TEST(warnings[0].text == "birthDate is not a date in the format HL7; taken as absent");
  BOOST_TEST(warnings[0].location.segmentId == "PID");
  BOOST_TEST(warnings[0].location.field == 7u);
  BOOST_TEST(warnings[1].text == "arrivedAt is not a date and time in the format HL7; taken as absent");
  BOOST_TEST(warnings[1].location.segmentId == "EVN");  // where the value came from
  BOOST_TEST(warnings[1].location.field == 2u);
  for (const Issue& issue : warnings) BOOST_TEST(issue.text.find("1332") == std::string::npos);

  const Mapping strict = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="birthDate" required="true"><source path="PID-7"/></field>
    </fields>)");
  const auto refused = strict.apply(m, "feed-1");
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST_REQUIRE(refused.error().size() == 1u);
  BOOST_TEST((refused.error()[0].severity == cpis::core::Severity::Error));
  BOOST_TEST(refused.error()[0].text == "birthDate is not a date in the format HL7");
}

BOOST_AUTO_TEST_CASE(not_an_attendance_is_never_a_message_error) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="visitNumber" required="true"><source path="PV1-19"/></field>
      <field name="birthDate"><source path="PID-7"/></field>
    </fields>)");
  const auto result = mapping.apply(message("PID|1||||||2015-04-03\r", "A28"), "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST((result->event == AttendanceEvent::NotAnAttendance));
  BOOST_TEST(!result->birthDate.has_value());
}

BOOST_AUTO_TEST_CASE(mapping_to_the_empty_value_means_absent) {
  const Mapping mapping = load(R"(<events><event code="A04" means="START"/></events><fields>
      <field name="visitNumber" required="true"><source path="PV1-19"/><map from="UNKNOWN" to=""/></field>
    </fields>)");
  const auto result = mapping.apply(message("PV1|1|E" + std::string(17, '|') + "UNKNOWN\r"), "feed-1");
  BOOST_TEST_REQUIRE(!result.ok());
  BOOST_TEST((result.error().front().code == ErrorCode::RequiredFieldMissing));
}

BOOST_AUTO_TEST_CASE(values_are_trimmed_and_escapes_decoded) {
  const Mapping mapping = load(R"(<fields>
      <field name="familyName"><source path="PID-5.1"/></field>
      <field name="visitNumber"><source path="PV1-19"/></field>
    </fields>)");
  const Attendance a =
      attendanceOf(mapping, message("PID|1||||O\\T\\BRIEN  ^Pat\rPV1|1|E" + std::string(17, '|') + " A1 \r"));
  BOOST_TEST(a.name.family == "O&BRIEN");
  BOOST_TEST(a.visitNumber == "A1");
}

BOOST_AUTO_TEST_SUITE_END()
