// The england_adt adapter as the engine runs it: libcpis-adapter-england_adt.so loaded with the
// engine's plugin loader, mappings/england-adt.xml applied to the samples in tests/data/, then
// adapt(); compose_alerts() for each kind of outcome, compared with tests/golden/.

#define BOOST_TEST_MODULE test_adapter_england_adt
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
using cpis::plugin::AlertEncoding;
using cpis::plugin::PluginError;

namespace {

struct EnglandAdt : AdapterHarness {
  EnglandAdt() : AdapterHarness("england_adt", "england-adt", "england-adt") {}
};

std::string code(const std::optional<domain::CareSetting>& setting) {
  return setting ? std::string(domain::codeOf(*setting)) : std::string();
}

// One sample: what the attendance holds after the mapping and the adapter.
struct Case {
  std::string_view file;
  std::string_view event;  // AttendanceEvent code
  std::string_view nhsNumber;
  std::string_view nhsStatus;
  std::string_view visit;
  std::string_view locationKey;
  std::string_view setting;
  std::string_view why;  // what the row shows
};
std::ostream& operator<<(std::ostream& os, const Case& c) {
  return os << c.file;
}

const std::vector<Case> kCases{
    {"a04-ed-child-v24.hl7", "START", "9990000018", "NSTS01", "A250612001", "RZZ01/EDMAJ", "ED",
     "ITK v2.4 registration, NHS^NH"},
    {"a01-paed-ward-v251-hd.hl7", "START", "9996543218", "NSTS01", "I250301003", "RZZ01/WARD7", "PAED_WARD",
     "v2.5.1 HD authority; PID-32 AL~NSTS01"},
    {"a04-oid-authority-v251.hl7", "START", "9993000000", "NSTS01", "A250115007", "RZZ01/UTC", "UTC_WIC",
     "the NHS OID without the namespace; trace status as two digits"},
    {"a04-nhs-namespace-other-oid.hl7", "START", "", "NSTS01", "A250612014", "RZZ01/EDPAED", "ED",
     "namespace NHS with another register's OID is not the NHS number"},
    {"a04-two-nhs-numbers.hl7", "START", "", "NSTS01", "A250612015", "RZZ01/EDMAJ", "ED",
     "two different NHS numbers: neither"},
    {"a04-same-nhs-number-twice.hl7", "START", "9990000018", "NSTS01", "A250612017", "RZZ01/EDMAJ", "ED",
     "one NHS number written twice, once with spaces: the number"},
    {"a04-untyped-itk.hl7", "START", "9993000000", "NSTS01", "A250612016", "RZZ01/EDMAJ", "ED",
     "ITK sample form ^^^NHS without a type"},
    {"a08-update.hl7", "UPDATE", "9990000018", "NSTS01", "A250612001", "RZZ01/EDMAJ", "ED", "A08"},
    {"a02-transfer-to-ward.hl7", "UPDATE", "9990000018", "NSTS01", "A250612001", "RZZ01/WARD7", "PAED_WARD",
     "A02 to the paediatric ward"},
    {"a03-discharge.hl7", "END", "9990000018", "NSTS01", "A250612001", "RZZ01/EDMAJ", "ED", "A03"},
    {"a01-maternity.hl7", "START", "9990000026", "NSTS01", "M250620002", "RZZ01/MATADM", "MATERNITY",
     "maternity admission"},
};

// The golden acknowledgements: one per kind of outcome.
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

}  // namespace

BOOST_FIXTURE_TEST_SUITE(england_adt, EnglandAdt)

BOOST_DATA_TEST_CASE_F(EnglandAdt, samples_become_attendances, boost::unit_test::data::make(kCases), c) {
  const Adapted a = adapt(c.file);
  BOOST_TEST_REQUIRE(a.isAttendance(), c.file << ": " << a.why());
  BOOST_TEST(domain::codeOf(a.attendance.event) == c.event);
  BOOST_TEST(a.nhsNumber() == c.nhsNumber, c.why);
  BOOST_TEST(domain::codeOf(a.attendance.nhsStatus) == c.nhsStatus, c.why);
  BOOST_TEST(a.attendance.visitNumber == c.visit);
  BOOST_TEST(a.attendance.locationKey == c.locationKey);
  BOOST_TEST(code(a.attendance.setting) == c.setting);
  BOOST_TEST(a.attendance.feedId == "feed-1");
  BOOST_TEST(a.attendance.controlId == sample(c.file).controlId());
}

// A feed may run the mapping without the adapter: both read the v2.5.1 forms alike.
BOOST_AUTO_TEST_CASE(the_mapping_alone_reads_repeated_trace_statuses_and_the_nhs_oid) {
  // PID-32 AL~NSTS01: the first repetition that is a trace status (AL is an alias name).
  const auto hd = sample("a01-paed-ward-v251-hd.hl7");
  const auto draft = mapping().apply(hd, "feed-1");
  BOOST_TEST_REQUIRE(draft.ok());
  BOOST_TEST((draft->nhsStatus == domain::NhsNumberStatus::Nsts01));
  BOOST_TEST(domain::codeOf(adapt(hd).attendance.nhsStatus) == "NSTS01");

  // The namespace NHS under another register's OID is not the NHS number (hazard H1).
  const auto other = sample("a04-nhs-namespace-other-oid.hl7");
  const auto otherDraft = mapping().apply(other, "feed-1");
  BOOST_TEST_REQUIRE(otherDraft.ok());
  BOOST_TEST(!otherDraft->nhsNumber.has_value());
  const Adapted a = adapt(other);
  BOOST_TEST(!a.attendance.nhsNumber.has_value());
  BOOST_TEST(a.attendance.nhsNumberProblem.empty());  // no number, rather than an invalid one
}

BOOST_AUTO_TEST_CASE(demographics_and_pregnancy_come_through_from_the_mapping) {
  const Adapted a = adapt("a01-maternity.hl7");
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST(a.attendance.pregnant);
  BOOST_TEST((a.attendance.expectedDeliveryDate ==
              domain::Date{std::chrono::year{2025}, std::chrono::September, std::chrono::day{2}}));
  BOOST_TEST((a.attendance.sex == domain::Sex::Female));
  BOOST_TEST(a.attendance.name.family == "TESTMOTHER");
}

// An A40 that merges two pairs of records (ADT_A39 repeats the PID/MRG group): both merges are
// read, the second by the same mapping and adapter as the first. Only the first was read.
BOOST_AUTO_TEST_CASE(every_group_of_a_merge_message_is_read) {
  const Adapted a = adapt("a40-two-merges.hl7");
  BOOST_TEST_REQUIRE(a.isAttendance(), a.why());
  BOOST_TEST((a.attendance.event == domain::AttendanceEvent::Merge));
  BOOST_TEST(a.nhsNumber() == "9990000026");
  BOOST_TEST_REQUIRE(a.attendance.priorNhsNumber.has_value());
  BOOST_TEST(a.attendance.priorNhsNumber->reveal() == "9990000018");
  BOOST_TEST(domain::codeOf(a.attendance.nhsStatus) == "NSTS01");
  BOOST_TEST_REQUIRE(a.attendance.furtherMerges.size() == 1u);
  const auto& second = a.attendance.furtherMerges.front();
  BOOST_TEST_REQUIRE((second.surviving.has_value() && second.prior.has_value()));
  BOOST_TEST(second.surviving->reveal() == "9990000042");
  BOOST_TEST(second.prior->reveal() == "9990000034");
  BOOST_TEST(domain::codeOf(second.status) == "NSTS02");
  BOOST_TEST(a.attendance.warnings.empty());  // a merge's birth date is not read as an attendance's
  const std::string text = sampleText("a40-two-merges.hl7");

  // One group: nothing further.
  auto one = cpis::hl7v2::parse(text.substr(0, text.find("PID|2|")));
  BOOST_TEST_REQUIRE(one.ok());
  const Adapted single = adapt(one.value());
  BOOST_TEST_REQUIRE(single.isAttendance(), single.why());
  BOOST_TEST(single.attendance.furtherMerges.empty());
  BOOST_TEST(single.attendance.warnings.empty());

  // Each group from its own segments: a first group without its MRG (or PV1) does not borrow
  // the next group's, which would record the second group's retired record as merged into the
  // first group's surviving one (another child).
  const std::string head = text.substr(0, text.find("PID|1|"));
  const std::string firstPid = text.substr(text.find("PID|1|"), text.find("MRG|") - text.find("PID|1|"));
  auto borrowed = cpis::hl7v2::parse(head + firstPid + "PID|2||K4455670^^^RZZ^MR||TESTCHILD^Sam\r" +
                                     "MRG|K4455671^^^RZZ^MR~9990000034^^^NHS^NH\rPV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||V2^^^RZZ^VN\r");
  BOOST_TEST_REQUIRE(borrowed.ok());
  const Adapted apart = adapt(borrowed.value());
  BOOST_TEST_REQUIRE(apart.isAttendance(), apart.why());
  BOOST_TEST(apart.nhsNumber() == "9990000026");
  BOOST_TEST(!apart.attendance.priorNhsNumber.has_value());
  BOOST_TEST(apart.attendance.visitNumber.empty());
  BOOST_TEST_REQUIRE(apart.attendance.furtherMerges.size() == 1u);
  BOOST_TEST(!apart.attendance.furtherMerges[0].surviving.has_value());
  BOOST_TEST_REQUIRE(apart.attendance.furtherMerges[0].prior.has_value());
  BOOST_TEST(apart.attendance.furtherMerges[0].prior->reveal() == "9990000034");
}

BOOST_AUTO_TEST_CASE(a_person_level_message_is_not_an_attendance) {
  const Adapted a = adapt("a28-person.hl7");
  BOOST_TEST_REQUIRE(a.isNotAnAttendance(), a.why());
  BOOST_TEST(!a.reason.empty());
}

BOOST_AUTO_TEST_CASE(a08_and_a02_can_be_switched_off) {
  const auto quiet = instance({{"a08_updates", "false"}, {"a02_updates", "false"}});
  for (const char* file : {"a08-update.hl7", "a02-transfer-to-ward.hl7"}) {
    const Adapted a = adapt(sample(file), quiet.get());
    BOOST_TEST_REQUIRE(a.isNotAnAttendance(), file << ": " << a.why());
    BOOST_TEST(a.reason.find(std::string(file).substr(0, 3) == "a08" ? "a08_updates" : "a02_updates") !=
               std::string::npos);
  }
  // A start is still a start.
  BOOST_TEST(adapt(sample("a04-ed-child-v24.hl7"), quiet.get()).isAttendance());
}

BOOST_AUTO_TEST_CASE(require_nh_type_refuses_the_untyped_itk_form) {
  const auto strict = instance({{"require_nh_type", "true"}});
  BOOST_TEST(adapt(sample("a04-untyped-itk.hl7"), strict.get()).nhsNumber().empty());
  BOOST_TEST(adapt(sample("a04-ed-child-v24.hl7"), strict.get()).nhsNumber() == "9990000018");
}

BOOST_AUTO_TEST_CASE(two_nhs_numbers_are_logged_without_either_value) {
  LogCapture log("cpis.plugin.england_adt");
  const Adapted a = adapt("a04-two-nhs-numbers.hl7");
  BOOST_TEST(a.nhsNumber().empty());
  // the mapping's reason stands (NOT_CHECKED NHS_NUMBER_INVALID, saying where), not "no number"
  BOOST_TEST(a.attendance.nhsNumberProblem == "the message carries two different NHS numbers in PID-3");
  const std::string text = log.all();
  BOOST_TEST(text.find("ED0000796") != std::string::npos);  // MSH-10: an id, not patient data
  BOOST_TEST(text.find("two different NHS numbers") != std::string::npos);
  BOOST_TEST(text.find("9990000018") == std::string::npos);
  BOOST_TEST(text.find("9993000000") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(configuration_is_checked_before_the_adapter_starts) {
  BOOST_CHECK_THROW(instance({{"colour", "blue"}}), PluginError);
  BOOST_CHECK_THROW(instance({{"a08_updates", "sometimes"}}), PluginError);
  BOOST_TEST(plugin().library().version() == "1.0.0");
  BOOST_TEST(plugin().composesAlerts());
}

BOOST_DATA_TEST_CASE_F(EnglandAdt, alerts_are_zcp_and_zca, boost::unit_test::data::make(kAlertCases), c) {
  const auto inbound = sample("a04-ed-child-v24.hl7");
  const domain::CheckOutcome outcome = c.outcome();
  const std::string ackText = ack(inbound, outcome);
  checkGolden(golden(c.name), ackText);

  // The feed's encoding: an EPR that refuses Z-segments gets OBX rows, never a ZCP (the harness
  // fails the case if the adapter's compose fails).
  const std::string obx = ack(inbound, outcome, AlertEncoding::Obx);
  BOOST_TEST(obx.find("\rZCP|") == std::string::npos, obx);
  BOOST_TEST(obx.find("|CPIS-STATUS^") != std::string::npos, obx);

  const auto parsed = cpis::hl7v2::parse(std::string_view(ackText));
  BOOST_TEST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->get("MSA-1") == "AA");
  BOOST_TEST(parsed->get("MSA-2") == "ED0000789");
  const auto ids = segmentIds(*parsed);
  std::size_t zcp = 0;
  std::size_t zca = 0;
  for (const std::string& id : ids) {
    zcp += id == "ZCP" ? 1 : 0;
    zca += id == "ZCA" ? 1 : 0;
  }
  std::size_t plans = 0;
  for (const auto& record : outcome.records) plans += record.plans.size();
  BOOST_TEST(zcp == std::max<std::size_t>(plans, 1));
  BOOST_TEST(zca == outcome.accesses.size());
  BOOST_TEST(parsed->get("ZCP-2") == domain::codeOf(outcome.status));
  if (outcome.status == domain::CheckStatus::CheckFailed ||
      outcome.status == domain::CheckStatus::NotChecked) {
    BOOST_TEST(parsed->get("ZCP-19").find("NOT a negative result") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
