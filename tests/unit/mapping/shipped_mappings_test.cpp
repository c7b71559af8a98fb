// The shipped mappings (mappings/england-adt.xml, mappings/legacy-v23.xml) on realistic
// messages (tests/data/adt/).

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/config/xerces_platform.h"
#include "engine/domain/london_time.h"
#include "engine/hl7v2/message.h"
#include "engine/mapping/mapping_loader.h"
#include "tests/support/hl7_samples.h"

using namespace cpis::mapping;
using namespace cpis::domain;
using namespace std::chrono;

namespace {

struct ShippedFixture {
  cpis::config::XercesPlatform platform;
  MappingLoader loader{platform};

  Mapping mapping(std::string_view name) const {
    return loader.loadFile(std::filesystem::path(CPIS_SOURCE_DIR) / "mappings" /
                           (std::string(name) + ".xml"));
  }
};

cpis::hl7v2::Message sample(std::string_view file) {
  auto parsed = cpis::hl7v2::parse(cpis::test::readRepoFile("tests/data/adt/" + std::string(file)));
  BOOST_REQUIRE_MESSAGE(parsed.ok(), file << " does not parse");
  return std::move(parsed).value();
}

// A sample with the first `from` replaced by `to`.
cpis::hl7v2::Message edited(std::string_view file, std::string_view from, std::string_view to) {
  auto text = cpis::test::readRepoFile("tests/data/adt/" + std::string(file));
  const auto at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, file << " has no " << from);
  text.replace(at, from.size(), to);
  auto parsed = cpis::hl7v2::parse(std::move(text));
  BOOST_REQUIRE_MESSAGE(parsed.ok(), file << " edited does not parse");
  return std::move(parsed).value();
}

Instant utc(sys_days day, hours h, minutes m = 0min) {
  return Instant{day + h + m};
}

struct Expected {
  std::string_view mapping;
  std::string_view file;
  AttendanceEvent event;
  std::string_view trigger;
  std::string_view nhsNumber;  // "" = none
  std::string_view nhsProblem;
  NhsNumberStatus status;
  std::string_view family, given;
  std::optional<Date> birthDate;
  Sex sex;
  bool pregnant;
  std::optional<Date> edd;
  std::string_view visit;
  std::optional<Instant> arrived;
  std::string_view locationKey;
  std::optional<CareSetting> setting;
  std::optional<AccessMode> mode;
  std::string_view site, department, patientClass;
};
std::ostream& operator<<(std::ostream& os, const Expected& e) {
  return os << e.mapping << " " << e.file;
}

// clang-format off: one attendance a row, fields in struct order
const std::vector<Expected> kCases{
    {"england-adt",
     "england-a04-ed-child.hl7",
     AttendanceEvent::Start,
     "A04",
     "9990000018",
     "",
     NhsNumberStatus::Nsts01,
     "TESTCHILD",
     "Alex",
     2015y / 4 / 3,
     Sex::Male,
     false,
     std::nullopt,
     "A250612001",
     utc(2025y / 6 / 12, 13h, 29min),
     "RZZ01/EDMAJ",
     CareSetting::Ed,
     std::nullopt,
     "RZZ01",
     "EDMAJ",
     "E"},
    {"england-adt",
     "england-a04-untyped-nhs.hl7",
     AttendanceEvent::Start,
     "A04",
     "9993000000",
     "",
     NhsNumberStatus::Nsts02,
     "TESTCHILD",
     "Sam",
     2012y / 2 / 29,
     Sex::Female,
     false,
     std::nullopt,
     "A250115007",
     utc(2025y / 1 / 15, 9h, 25min),
     "RZZ01/UTC",
     CareSetting::UtcWic,
     std::nullopt,
     "RZZ01",
     "UTC",
     "E"},
    {"england-adt",
     "england-a01-hd-form-v251.hl7",
     AttendanceEvent::Start,
     "A01",
     "9996543218",
     "",
     NhsNumberStatus::Nsts01,
     "TESTCHILD",
     "Robin",
     2020y / 8 / 15,
     Sex::Unknown,
     false,
     std::nullopt,
     "I250301003",
     utc(2025y / 3 / 1, 10h, 10min),
     "RZZ01/WARD7",
     CareSetting::PaedWard,
     std::nullopt,
     "RZZ01",
     "WARD7",
     "I"},
    {"england-adt",
     "england-a01-maternity.hl7",
     AttendanceEvent::Start,
     "A01",
     "9990000026",
     "",
     NhsNumberStatus::Nsts01,
     "TESTMOTHER",
     "Jo",
     1999y / 7 / 4,
     Sex::Female,
     true,
     2025y / 9 / 2,
     "M250620002",
     utc(2025y / 6 / 20, 7h),
     "RZZ01/MATADM",
     CareSetting::Maternity,
     std::nullopt,
     "RZZ01",
     "MATADM",
     "B"},
    {"england-adt",
     "england-a08-update.hl7",
     AttendanceEvent::Update,
     "A08",
     "9990000018",
     "",
     NhsNumberStatus::Nsts01,
     "TESTCHILD",
     "Alex",
     2015y / 4 / 3,
     Sex::Male,
     false,
     std::nullopt,
     "A250612001",
     utc(2025y / 6 / 12, 13h, 29min),
     "RZZ01/EDMAJ",
     CareSetting::Ed,
     std::nullopt,
     "RZZ01",
     "EDMAJ",
     "E"},
    {"england-adt",
     "england-a03-discharge.hl7",
     AttendanceEvent::End,
     "A03",
     "9990000018",
     "",
     NhsNumberStatus::Nsts01,
     "TESTCHILD",
     "Alex",
     2015y / 4 / 3,
     Sex::Male,
     false,
     std::nullopt,
     "A250612001",
     utc(2025y / 6 / 12, 13h, 29min),
     "RZZ01/EDMAJ",
     CareSetting::Ed,
     std::nullopt,
     "RZZ01",
     "EDMAJ",
     "E"},
    // A28: a person, not an attendance; its ISO birth date is no error because nothing is checked.
    {"england-adt",
     "england-a28-person.hl7",
     AttendanceEvent::NotAnAttendance,
     "A28",
     "",
     "",
     NhsNumberStatus::Absent,
     "TESTCHILD",
     "Alex",
     std::nullopt,
     Sex::Male,
     false,
     std::nullopt,
     "",
     utc(2025y / 6 / 12, 11h),
     "RZZ/",
     CareSetting::OutOfScope,
     std::nullopt,
     "RZZ",
     "",
     "N"},
    {"legacy-v23",
     "legacy-a04-pid2.hl7",
     AttendanceEvent::Start,
     "A04",
     "9990000018",
     "",
     NhsNumberStatus::Nsts01,
     "TESTCHILD",
     "Alex",
     2015y / 4 / 3,
     Sex::Male,
     false,
     std::nullopt,
     "V0098765",
     utc(2025y / 6 / 12, 13h, 25min),
     "RZZ02/MIU",
     CareSetting::Miu,
     std::nullopt,
     "RZZ02",
     "MIU1",
     "O"},
    {"legacy-v23",
     "legacy-a01-untyped-pid3.hl7",
     AttendanceEvent::Start,
     "A01",
     "9990000026",
     "",
     NhsNumberStatus::Nsts02,
     "TESTMOTHER",
     "Jo",
     2008y / 7 / 4,
     Sex::Female,
     true,
     2025y / 5 / 2,
     "V0098766",
     utc(2025y / 1 / 20, 10h),
     "RZZ02/MAT",
     CareSetting::Maternity,
     std::nullopt,
     "RZZ02",
     "MAT",
     "I"},
};
// clang-format on

}  // namespace

BOOST_FIXTURE_TEST_SUITE(shipped_mappings, ShippedFixture)

BOOST_DATA_TEST_CASE_F(ShippedFixture, realistic_messages_become_attendances,
                       boost::unit_test::data::make(kCases), e) {
  const Mapping m = mapping(e.mapping);
  const auto result = m.apply(sample(e.file), "feed-1");
  BOOST_TEST_REQUIRE(result.ok(), (result.ok() ? "" : result.error().front().text));
  const Attendance& a = *result;
  BOOST_TEST((a.event == e.event));
  BOOST_TEST(a.triggerEvent == e.trigger);
  BOOST_TEST(a.feedId == "feed-1");
  BOOST_TEST(a.controlId == sample(e.file).controlId());
  BOOST_TEST((a.nhsNumber ? a.nhsNumber->reveal() : std::string_view{}) == e.nhsNumber);
  BOOST_TEST(a.nhsNumberProblem == e.nhsProblem);
  BOOST_TEST((a.nhsStatus == e.status));
  BOOST_TEST(a.name.family == e.family);
  BOOST_TEST(a.name.given == e.given);
  BOOST_TEST((a.birthDate == e.birthDate));
  BOOST_TEST((a.sex == e.sex));
  BOOST_TEST(a.pregnant == e.pregnant);
  BOOST_TEST((a.expectedDeliveryDate == e.edd));
  BOOST_TEST(a.visitNumber == e.visit);
  BOOST_TEST((a.arrivedAt == e.arrived), (a.arrivedAt ? hl7LondonTimestamp(*a.arrivedAt) : "none"));
  BOOST_TEST(a.locationKey == e.locationKey);
  BOOST_TEST((a.setting == e.setting));
  BOOST_TEST((a.accessMode == e.mode));
  BOOST_TEST(a.siteOdsCode == e.site);
  BOOST_TEST(a.department == e.department);
  BOOST_TEST(a.patientClass == e.patientClass);
}

BOOST_AUTO_TEST_CASE(england_a_missing_visit_number_is_an_ae_naming_the_field) {
  const auto message = sample("england-a04-no-visit-number.hl7");
  const auto result = mapping("england-adt").apply(message, "feed-1");
  BOOST_TEST_REQUIRE(!result.ok());
  BOOST_TEST_REQUIRE(result.error().size() == 1u);
  const auto& issue = result.error().front();
  BOOST_TEST((issue.code == cpis::core::ErrorCode::RequiredFieldMissing));
  BOOST_TEST(issue.text == "visitNumber is required: nothing at PV1-19");
  BOOST_TEST(issue.location.segmentId == "PV1");
  BOOST_TEST(issue.location.field == 19u);
}

BOOST_AUTO_TEST_CASE(england_bad_values_are_not_message_errors) {
  // An invalid NHS number (NOT_CHECKED later) and a birth date that is not one (taken as absent,
  // with a warning: the child is checked anyway).
  const auto result = mapping("england-adt").apply(sample("england-a04-bad-values.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(!result.value().nhsNumber.has_value());
  BOOST_TEST(!result.value().birthDate.has_value());
  const auto& warnings = result.value().warnings;
  BOOST_TEST_REQUIRE(warnings.size() == 1u);  // the birth date only
  BOOST_TEST((warnings.front().code == cpis::core::ErrorCode::DataType));
  BOOST_TEST(warnings.front().text == "birthDate is not a date in the format HL7; taken as absent");
  BOOST_TEST(warnings.front().location.segmentId == "PID");
  BOOST_TEST(warnings.front().location.field == 7u);
}

BOOST_AUTO_TEST_CASE(england_an_invalid_nhs_number_alone_leaves_the_adt_accepted) {
  const auto result = mapping("england-adt").apply(edited("england-a04-bad-values.hl7", "20151332", "20150403"),
                                                   "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(!result->nhsNumber.has_value());
  BOOST_TEST(result->nhsNumberProblem == "NHS number fails modulus 11 (wrong check digit)");
}

// A valid NHS number the mapping's conditions pass over (typed NHSNBR, where england-adt takes
// NH or none) is not taken, and the reason says where it is and which condition refused it, by
// path and code, never the number: the engineer reading "no NHS number" otherwise looks for a
// number that is plainly in the message.
BOOST_AUTO_TEST_CASE(england_a_number_the_conditions_pass_over_is_named_by_path_and_code) {
  const auto typed =
      mapping("england-adt")
          .apply(edited("england-a04-ed-child.hl7", "9990000018^^^NHS^NH", "9990000018^^^NHS^NHSNBR"),
                 "feed-1");
  BOOST_TEST_REQUIRE(typed.ok());
  BOOST_TEST(!typed->nhsNumber.has_value());
  BOOST_TEST(typed->nhsNumberProblem.empty());
  BOOST_TEST(typed->nhsNumberPassedOver ==
             "PID-3(2).1 passes the NHS number check but the mapping passed it over: PID-3(2).5 is 'NHSNBR'");
  // Under another assigning authority: the first condition it fails is named.
  const auto other =
      mapping("england-adt")
          .apply(edited("england-a04-ed-child.hl7", "9990000018^^^NHS^NH", "9990000018^^^RZZ^NH"), "feed-1");
  BOOST_TEST_REQUIRE(other.ok());
  BOOST_TEST(other->nhsNumberPassedOver ==
             "PID-3(2).1 passes the NHS number check but the mapping passed it over: PID-3(2).4 is 'RZZ'");
  // A hospital number that is not a valid NHS number is not one passed over.
  const auto none =
      mapping("england-adt").apply(edited("england-a04-ed-child.hl7", "~9990000018^^^NHS^NH", ""), "feed-1");
  BOOST_TEST_REQUIRE(none.ok());
  BOOST_TEST(none->nhsNumberPassedOver.empty());
  // Taken: nothing passed over.
  const auto taken = mapping("england-adt").apply(sample("england-a04-ed-child.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(taken.ok());
  BOOST_TEST(taken->nhsNumberPassedOver.empty());
  for (const auto* a : {&*typed, &*other})
    BOOST_TEST(a->nhsNumberPassedOver.find("9990000018") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(england_pre_admission_is_scheduled_only) {
  auto text = cpis::test::readRepoFile("tests/data/adt/england-a04-ed-child.hl7");
  for (std::string_view from : {"ADT^A04", "EVN|A04"}) {
    const std::string to = std::string(from.substr(0, from.size() - 3)) + "A05";
    text.replace(text.find(from), from.size(), to);
  }
  auto message = cpis::hl7v2::parse(std::move(text));
  BOOST_TEST_REQUIRE(message.ok());
  const auto result = mapping("england-adt").apply(*message, "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST((result->event == AttendanceEvent::Start));
  BOOST_TEST(result->scheduledOnly);
}

// CPIS.md §4: an A40 is a merge, not an attendance. PID is the surviving record, MRG-1 the
// record merged away; the NHS number of each is read by the same rule (never an MR number).
BOOST_AUTO_TEST_CASE(england_merge_names_the_retired_and_the_surviving_nhs_number) {
  const auto mapped = mapping("england-adt").apply(sample("england-a40-merge.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(mapped.ok());
  BOOST_TEST((mapped->event == AttendanceEvent::Merge));
  BOOST_TEST(mapped->triggerEvent == "A40");
  BOOST_TEST_REQUIRE(mapped->nhsNumber.has_value());
  BOOST_TEST(mapped->nhsNumber->reveal() == "9990000026");
  BOOST_TEST_REQUIRE(mapped->priorNhsNumber.has_value());
  BOOST_TEST(mapped->priorNhsNumber->reveal() == "9990000018");
  BOOST_TEST(mapped->visitNumber.empty());

  // MRG-1 with only a local number: no prior NHS number (nothing to re-key by).
  const auto localOnly =
      mapping("england-adt").apply(edited("england-a40-merge.hl7", "~9990000018^^^NHS^NH", ""), "feed-1");
  BOOST_TEST_REQUIRE(localOnly.ok());
  BOOST_TEST(!localOnly->priorNhsNumber.has_value());
  // An attendance message has no MRG: no prior number.
  const auto a04 = mapping("england-adt").apply(sample("england-a04-ed-child.hl7"), "feed-1");
  BOOST_TEST_REQUIRE(a04.ok());
  BOOST_TEST(!a04->priorNhsNumber.has_value());
}

BOOST_AUTO_TEST_CASE(england_settings_table_sets_modes) {
  const auto result = mapping("england-adt").apply(edited("england-a04-ed-child.hl7", "EDMAJ^^^RZZ01", "DENTAL^^^RZZ01"),
                                                   "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST((result->setting == CareSetting::DentalAcute));
  BOOST_TEST((result->accessMode == AccessMode::Unscheduled));  // the trust's choice over the default
}

// The wildcard rows by treatment function take attendances, not clinics: an antenatal clinic
// (PV1-2 O, PV1-10 501) at an unlisted point of care is not MATERNITY, nor an ED review clinic ED.
BOOST_AUTO_TEST_CASE(england_wildcard_rows_leave_clinics_out) {
  const auto clinic = [&](const std::string& pv1Head, const std::string& function) {
    const auto message = edited("england-a04-ed-child.hl7", "PV1|1|E|EDMAJ^^^RZZ01|||||||180", pv1Head + "|||||||" + function);
    const auto result = mapping("england-adt").apply(message, "feed-1");
    BOOST_TEST_REQUIRE(result.ok());
    return result->setting;
  };
  BOOST_TEST((clinic("PV1|1|E|ANC^^^RZZ01", "501") == CareSetting::Maternity));
  BOOST_TEST((clinic("PV1|1|O|ANC^^^RZZ01", "501") == CareSetting::OutOfScope));
  BOOST_TEST((clinic("PV1|1|I|LABOUR^^^RZZ01", "560") == CareSetting::Maternity));
  BOOST_TEST((clinic("PV1|1|E|RESUS2^^^RZZ01", "180") == CareSetting::Ed));
  BOOST_TEST((clinic("PV1|1|O|EDREVIEW^^^RZZ01", "180") == CareSetting::OutOfScope));
  BOOST_TEST((clinic("PV1|1|R|EDREVIEW^^^RZZ01", "180") == CareSetting::OutOfScope));
}

// Hazard H1: the namespace NHS under another register's OID is not the NHS number, in PID-3
// as in MRG-1; a repeated PID-32 gives its first trace status.
BOOST_AUTO_TEST_CASE(england_the_nhs_authority_and_a_repeated_trace_status) {
  const auto apply = [&](const std::string& from, const std::string& to) {
    auto result = mapping("england-adt").apply(edited("england-a04-ed-child.hl7", from, to), "feed-1");
    BOOST_TEST_REQUIRE(result.ok());
    return std::move(result).value();
  };
  BOOST_TEST(!apply("9990000018^^^NHS^NH", "9990000018^^^NHS&1.2.3.4&ISO^NH").nhsNumber.has_value());
  BOOST_TEST(apply("9990000018^^^NHS^NH", "9990000018^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH").nhsNumber.has_value());
  BOOST_TEST((apply("|NSTS01", "|AL~NSTS04").nhsStatus == NhsNumberStatus::Nsts04));
  BOOST_TEST((apply("|NSTS01", "|US~02").nhsStatus == NhsNumberStatus::Nsts02));
  BOOST_TEST((apply("|NSTS01", "|AL").nhsStatus == NhsNumberStatus::Absent));
}

// Hazard H1: two PID-3 repetitions in the NHS number's form that carry different numbers give
// none (the mapping's first match would be a guess), whatever an adapter does after; the same
// number twice (spaced once) is that number. The problem names where, never either number.
BOOST_AUTO_TEST_CASE(england_two_different_nhs_numbers_give_none) {
  const auto apply = [&](const std::string& to) {
    auto result =
        mapping("england-adt").apply(edited("england-a04-ed-child.hl7", "9990000018^^^NHS^NH", to), "feed-1");
    BOOST_TEST_REQUIRE(result.ok());
    return std::move(result).value();
  };
  const auto two = apply("9990000018^^^NHS^NH~9990000026^^^NHS^NH");
  BOOST_TEST(!two.nhsNumber.has_value());
  BOOST_TEST(two.nhsNumberProblem == "the message carries two different NHS numbers in PID-3");
  BOOST_TEST(!two.refusedNhsNumber.has_value());
  // the same number twice, spaced once: that number
  const auto again = apply("9990000018^^^NHS^NH~999 000 0018^^^NHS");
  BOOST_TEST_REQUIRE(again.nhsNumber.has_value());
  BOOST_TEST(again.nhsNumber->reveal() == "9990000018");
  BOOST_TEST(again.nhsNumberProblem.empty());
  // a local number beside it is no NHS number: no disagreement
  BOOST_TEST(apply("9990000018^^^NHS^NH~12345^^^RZZ^MR").nhsNumber.has_value());
  // across the mapping's sources too: the NHS authority's form and the OID's alone
  const auto forms = apply("9990000018^^^NHS^NH~9990000026^^^&2.16.840.1.113883.2.1.4.1&ISO^NH");
  BOOST_TEST(!forms.nhsNumber.has_value());
  BOOST_TEST(forms.nhsNumberProblem == "the message carries two different NHS numbers in PID-3");
  // and the same number in both forms is that number
  BOOST_TEST(
      apply("9990000018^^^NHS^NH~9990000018^^^&2.16.840.1.113883.2.1.4.1&ISO^NH").nhsNumber.has_value());
}

// The legacy PAS's PID-2 and MRG-4 are the NHS number only without another authority.
BOOST_AUTO_TEST_CASE(legacy_pid2_under_another_authority_is_not_the_nhs_number) {
  const auto apply = [&](const std::string& pid2) {
    auto text = cpis::test::readRepoFile("tests/data/adt/legacy-a04-pid2.hl7");
    text.replace(text.find("PID|1|9990000018|"), 17, "PID|1|" + pid2 + "|");
    auto message = cpis::hl7v2::parse(std::move(text));
    BOOST_TEST_REQUIRE(message.ok());
    auto result = mapping("legacy-v23").apply(*message, "feed-1");
    BOOST_TEST_REQUIRE(result.ok());
    return std::move(result).value();
  };
  BOOST_TEST(apply("9990000018").nhsNumber.has_value());
  BOOST_TEST(apply("9990000018^^^NHS").nhsNumber.has_value());
  BOOST_TEST(!apply("9990000018^^^RZZ02").nhsNumber.has_value());
}

// Pregnancy in each shipped mapping: the codes each EPR sends are read as Y or N; any other is a
// warning and counts as pregnant (decide checks her), never silently as "not pregnant".
BOOST_AUTO_TEST_CASE(each_shipped_mapping_reads_pregnancy_and_never_takes_an_unknown_code_as_no) {
  const auto withObx = [](const std::string& file, std::string_view status) {
    std::string text = cpis::test::readRepoFile(file);
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.pop_back();
    text += "\rOBX|1|CE|82810-3^Pregnancy status^LN||" + std::string(status) + "^^SCT||||||F\r";
    auto parsed = cpis::hl7v2::parse(std::move(text));
    BOOST_REQUIRE(parsed.ok());
    return std::move(parsed).value();
  };
  for (const std::string_view name : {"england-adt", "ed-arrivals"}) {
    BOOST_TEST_CONTEXT(name) {
      const std::string file = name == "england-adt" ? "tests/data/adt/england-a04-ed-child.hl7"
                                                     : "adapters/ed-arrivals/tests/data/a04-utc-walk-in.hl7";
      const Mapping m = mapping(name);
      const auto read = [&](std::string_view status) {
        auto result = m.apply(withObx(file, status), "feed-1");
        BOOST_REQUIRE(result.ok());
        return std::move(result).value();
      };
      for (const std::string_view yes : {"77386006", "102874004", "261665006", "LA15173-0", "LA4489-6"}) {
        BOOST_TEST(read(yes).pregnant, yes);  // pregnant, possible, unknown: checked
        BOOST_TEST(read(yes).warnings.empty(), yes);
      }
      for (const std::string_view notPregnant : {"60001007", "LA26683-5"}) {
        const Attendance no = read(notPregnant);
        BOOST_TEST(!no.pregnant, notPregnant);
        BOOST_TEST(!no.pregnancyUnreadable, notPregnant);
        BOOST_TEST(no.warnings.empty(), notPregnant);
      }
      const Attendance unknown = read("12345");  // a code no map names
      BOOST_TEST(!unknown.pregnant);
      BOOST_TEST(unknown.pregnancyUnreadable);
      BOOST_TEST_REQUIRE(!unknown.warnings.empty());
      BOOST_TEST(unknown.warnings.back().location.segmentId == "OBX");
    }
  }
  const auto zpv4 = [&](std::string_view value) {
    auto result = mapping("legacy-v23")
                      .apply(edited("legacy-a04-pid2.hl7", "ZPV|1|MIU|12/06/2025 14:25",
                                    "ZPV|1|MIU|12/06/2025 14:25|" + std::string(value)),
                             "feed-1");
    BOOST_REQUIRE(result.ok());
    return std::move(result).value();
  };
  BOOST_TEST(zpv4("1").pregnant);
  BOOST_TEST(!zpv4("0").pregnant);
  BOOST_TEST(!zpv4("0").pregnancyUnreadable);
  BOOST_TEST(zpv4("Y").pregnant);             // Y and N pass through the maps as they are
  BOOST_TEST(zpv4("U").pregnancyUnreadable);  // not the PAS's code: not taken as "no"
}

BOOST_AUTO_TEST_CASE(legacy_an_unknown_attendance_type_is_unmapped) {
  auto text = cpis::test::readRepoFile("tests/data/adt/legacy-a04-pid2.hl7");
  text.replace(text.find("ZPV|1|MIU"), 9, "ZPV|1|XRAY");
  auto message = cpis::hl7v2::parse(std::move(text));
  BOOST_TEST_REQUIRE(message.ok());
  const auto result = mapping("legacy-v23").apply(*message, "feed-1");
  BOOST_TEST_REQUIRE(result.ok());
  BOOST_TEST(result->locationKey == "RZZ02/XRAY");
  BOOST_TEST(!result->setting.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
