#include "engine/plugin/adapter_plugin.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/config/xerces_platform.h"
#include "engine/mapping/mapping_loader.h"
#include "engine/pipeline/adapt.h"
#include "engine/plugin/plugin_error.h"
#include "engine/plugin/plugin_registry.h"
#include "tests/unit/plugin/plugin_test_support.h"

using namespace cpis::plugin;
using cpis::core::ErrorCode;
using cpis::domain::Attendance;
using cpis::plugin::test::edRegistration;
using cpis::plugin::test::LogCapture;
using cpis::plugin::test::message;
using cpis::plugin::test::pluginDir;

namespace {

PluginRegistry& registry() {
  static PluginRegistry instance({pluginDir()});  // plugins stay loaded for the process anyway
  return instance;
}

std::unique_ptr<AdapterPlugin> adapter(const std::string& name, const PluginSettings& settings = {}) {
  return AdapterPlugin::create(registry().find(PluginKind::Adapter, name), settings);
}

std::unique_ptr<AdapterPlugin> good(PluginSettings settings = {}) {
  settings.emplace("site", "RZZ");
  return adapter("good", settings);
}

// A draft attendance as the mapping stage leaves it.
Attendance draft() {
  Attendance a;
  a.feedId = "rzz-ed";
  a.controlId = "ED0000789";
  a.department = "from the mapping file";
  return a;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(adapter_plugin)

BOOST_AUTO_TEST_CASE(a_good_adapter_fills_in_the_attendance) {
  const auto plugin = good();
  Attendance attendance = draft();
  attendance.settingByDefault = true;  // the mapping's default rule, which the adapter overrides
  attendance.nhsStatusUnreadable = true;  // the mapping could not read PID-32; the adapter could
  const auto result = plugin->adapt(message(edRegistration(), {{"PID-32", "NSTS01"}}), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST((result->kind == AdaptOutcome::Kind::Attendance));
  BOOST_TEST_REQUIRE(attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumber->reveal() == "9990000018");  // the NHS repetition, not the MR
  BOOST_TEST((attendance.event == cpis::domain::AttendanceEvent::Start));
  BOOST_TEST((attendance.nhsStatus == cpis::domain::NhsNumberStatus::Nsts01));
  BOOST_TEST(!attendance.nhsStatusUnreadable);
  BOOST_TEST(attendance.visitNumber == "A250612001");
  BOOST_TEST(attendance.siteOdsCode == "RZZ01");
  BOOST_TEST((attendance.setting == cpis::domain::CareSetting::Ed));
  BOOST_TEST(!attendance.settingByDefault);  // the adapter's word now
  BOOST_TEST(attendance.locationKey == "EDMAJ/mrn-8");
  BOOST_TEST((attendance.birthDate ==
              cpis::domain::Date{std::chrono::year{2015}, std::chrono::April, std::chrono::day{3}}));
  // What the adapter does not touch stays as the mapping file made it.
  BOOST_TEST(attendance.feedId == "rzz-ed");
  BOOST_TEST(attendance.department == "from the mapping file");
  BOOST_TEST(plugin->failures() == 0U);
}

// The SDK's findNhsNumber (read by the good adapter) takes only the NHS register's number (hazard
// H1): authority NHS or the NHS number's OID, typed NH or untyped; never another register's
// number typed NH, and none when two NHS repetitions disagree.
BOOST_AUTO_TEST_CASE(the_sdk_finds_the_nhs_number_strictly) {
  const std::string ids = "K4455667^^^RZZ^MR~9990000018^^^NHS^NH";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"K4455667^^^RZZ^MR~9990000018^^^NHS", "9990000018"},                     // untyped, ITK
      {"9990000018^^^NHS&2.16.840.1.113883.2.1.4.1&ISO^NH", "9990000018"},       // the HD form
      {"9990000018^^^&2.16.840.1.113883.2.1.4.1&ISO^NH", "9990000018"},          // the OID alone
      {"9990000018^^^NHS^NH~999 000 0018^^^NHS^NH", "9990000018"},              // the same number twice
      {"9990000026^^^CHI^NH", ""},                                               // another register, typed NH
      {"9990000018^^^NHS&2.16.840.1.113883.2.1.4.99&ISO^NH", ""},                // NHS under another OID
      {"9990000018^^^NHS^MR", ""},                                               // never an MR repetition
      {"9990000018^^^NHS^NH~9990000026^^^NHS^NH", ""},                          // two numbers: a person decides
  };
  const auto plugin = good();
  for (const auto& [pid3, expected] : cases) {
    BOOST_TEST_CONTEXT(pid3) {
      std::string text = edRegistration();
      text.replace(text.find(ids), ids.size(), pid3);
      Attendance attendance = draft();
      const auto result = plugin->adapt(message(text), attendance);
      BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
      BOOST_TEST((attendance.nhsNumber ? std::string(attendance.nhsNumber->reveal()) : std::string()) == expected);
    }
  }
}

// A merge message of several PID/MRG groups through the engine's adapt stage: every group is
// adapted, and a group the adapter refuses makes the whole message an error, located in the
// whole message (the second PID), not in the group read on its own.
BOOST_AUTO_TEST_CASE(each_merge_group_goes_through_the_adapter_located_in_the_whole_message) {
  const auto plugin = good();
  const cpis::pipeline::Adapter stage("rzz-ed", nullptr, plugin.get());
  const std::string head =
      "MSH|^~\\&|PAS|RZZ01|CPIS-ENGINE|RZZ|20250612160000||ADT^A40^ADT_A39|PAS0004023|P|2.4\r"
      "EVN|A40|20250612160000\r";
  const std::string first =
      "PID|1||9990000026^^^NHS^NH||TESTCHILD^ALEX||20150403|M||||||||||||||||||||||||NSTS01\r"
      "MRG|9990000018^^^NHS^NH\r";
  const std::string second = "PID|2||9990000042^^^NHS^NH||TESTCHILD^SAM||20151101|F||||||||||||||||||||||||";
  const auto both = stage.adapt(message(head + first + second + "NSTS02\rMRG|9990000034^^^NHS^NH\r"));
  BOOST_TEST_REQUIRE((both.kind == cpis::pipeline::AdaptResult::Kind::Attendance));
  BOOST_TEST_REQUIRE(both.attendance.priorNhsNumber.has_value());
  BOOST_TEST(both.attendance.priorNhsNumber->reveal() == "9990000018");
  BOOST_TEST_REQUIRE(both.attendance.furtherMerges.size() == 1U);
  BOOST_TEST(both.attendance.furtherMerges[0].surviving->reveal() == "9990000042");
  BOOST_TEST(both.attendance.furtherMerges[0].prior->reveal() == "9990000034");
  BOOST_TEST((both.attendance.furtherMerges[0].status == cpis::domain::NhsNumberStatus::Nsts02));

  const std::string refusedText = head + first + second + "XX\rMRG|9990000034^^^NHS^NH\r";
  const auto refused = stage.adapt(message(refusedText));
  BOOST_TEST_REQUIRE((refused.kind == cpis::pipeline::AdaptResult::Kind::DataError));
  BOOST_TEST_REQUIRE(refused.issues.size() == 1U);
  const auto& where = refused.issues[0].location;
  BOOST_TEST(where.segmentId == "PID");
  BOOST_TEST(where.segmentSequence == 2U);
  BOOST_TEST(where.field == 32U);
}

// CPIS.md §8 and hazard H5: an adapter that moves the attendance to another care setting gets
// that setting's <settings> entry after adapt(), under the row's own terms; an access mode the
// adapter wrote stays even when it wrote back the value it read, and a mode the configuration
// stated is never traded for a built-in default.
BOOST_AUTO_TEST_CASE(an_adapter_that_moves_the_care_setting_gets_that_settings_mode) {
  const cpis::config::XercesPlatform xerces;
  const cpis::mapping::MappingLoader loader(xerces);
  const auto mapping = [&](const std::string& settings) {
    return loader.loadString(R"(<?xml version="1.0"?>
<mapping xmlns="urn:cpis-engine:mapping:1" name="moves">
  <fields/>
  <locations>
    <key><part path="PV1-3.1"/></key>
    <location key="MINORS" setting="MIU"/>
  </locations>
  <settings>)" + settings + R"(</settings>
</mapping>)",
                             "moves.xml");
  };
  const auto plugin = good();
  const auto adapt = [&](const cpis::mapping::Mapping& rules, const std::string& patientClass) {
    const cpis::pipeline::Adapter stage("rzz-ed", &rules, plugin.get());
    const auto result = stage.adapt(message(
        "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612160000||ADT^A04^ADT_A01|ED1|P|2.4\r"
        "PID|1||9990000018^^^NHS^NH||TESTCHILD^ALEX||20150403|M\r"
        "PV1|1|" + patientClass + "|MINORS^^^RZZ01||||||||||||||||V1\r"));
    BOOST_TEST_REQUIRE((result.kind == cpis::pipeline::AdaptResult::Kind::Attendance), result.reason);
    return result.attendance;
  };
  const auto both = mapping(R"(<setting code="MIU" mode="UNSCHEDULED" maxAgeYears="16"/>
    <setting code="UTC_WIC" mode="SCHEDULED" maxAgeYears="17"/>
    <setting code="ED" mode="SCHEDULED"/>)");
  // Not moved: the row's setting's entry.
  const Attendance stays = adapt(both, "O");
  BOOST_TEST((stays.setting == cpis::domain::CareSetting::Miu));
  BOOST_TEST((stays.accessMode == cpis::domain::AccessMode::Unscheduled));
  BOOST_TEST((stays.locationTerms.maxAgeYears == 16));
  // Moved to ED (the adapter writes no mode): ED's entry, mode and terms.
  const Attendance moved = adapt(both, "E");
  BOOST_TEST((moved.setting == cpis::domain::CareSetting::Ed));
  BOOST_TEST((moved.accessMode == cpis::domain::AccessMode::Scheduled));
  BOOST_TEST(!moved.locationTerms.maxAgeYears.has_value());
  // Moved to UTC_WIC with the mode written back as read: the adapter's word stands, the terms
  // are UTC_WIC's.
  const Attendance walkIn = adapt(both, "W");
  BOOST_TEST((walkIn.setting == cpis::domain::CareSetting::UtcWic));
  BOOST_TEST((walkIn.accessMode == cpis::domain::AccessMode::Unscheduled));
  BOOST_TEST((walkIn.locationTerms.maxAgeYears == 17));
  // Moved to a setting without an entry: the mode stated for MIU stays, not a default.
  const Attendance unstated = adapt(mapping(R"(<setting code="MIU" mode="UNSCHEDULED" maxAgeYears="16"/>)"), "E");
  BOOST_TEST((unstated.setting == cpis::domain::CareSetting::Ed));
  BOOST_TEST((unstated.accessMode == cpis::domain::AccessMode::Unscheduled));
  BOOST_TEST(!unstated.locationTerms.maxAgeYears.has_value());
}

// An adapter that writes another location key has the location table read again for it: the
// row it names, its care setting and that setting's entry. (It used to keep the row matched
// for the mapping's key, and the ops alert named a key that was in the table.)
BOOST_AUTO_TEST_CASE(an_adapter_that_writes_the_location_key_gets_that_key_s_row) {
  const cpis::config::XercesPlatform xerces;
  const cpis::mapping::MappingLoader loader(xerces);
  const auto rules = loader.loadString(R"(<?xml version="1.0"?>
<mapping xmlns="urn:cpis-engine:mapping:1" name="rekeys">
  <fields/>
  <locations>
    <key><part path="PV1-3.1"/><part path="PV1-3.2"/></key>
    <location key="MINORS/mrn-5" setting="UTC_WIC"/>
    <location key="MINORS/*" setting="MIU"/>
  </locations>
  <settings>
    <setting code="MIU" mode="UNSCHEDULED" maxAgeYears="16"/>
    <setting code="UTC_WIC" mode="SCHEDULED" maxAgeYears="17"/>
  </settings>
</mapping>)",
                                       "rekeys.xml");
  const auto plugin = good();
  const cpis::pipeline::Adapter stage("rzz-ed", &rules, plugin.get());
  const auto adapt = [&](const std::string& pid3) {
    const auto result = stage.adapt(
        message("MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612160000||ADT^A04^ADT_A01|ED1|P|2.4\r"
                "PID|1||" +
                pid3 +
                "||TESTCHILD^ALEX||20150403|M\r"
                "PV1|1|O|MINORS^^^RZZ01||||||||||||||||V1\r"));
    BOOST_TEST_REQUIRE((result.kind == cpis::pipeline::AdaptResult::Kind::Attendance), result.reason);
    return result.attendance;
  };
  // the adapter writes MINORS/mrn-5 (the local number's length): that row, UTC_WIC's entry
  const Attendance rekeyed = adapt("9990000018^^^NHS^NH~12345^^^RZZ^MR");
  BOOST_TEST(rekeyed.locationKey == "MINORS/mrn-5");
  BOOST_TEST((rekeyed.setting == cpis::domain::CareSetting::UtcWic));
  BOOST_TEST(!rekeyed.settingByDefault);
  BOOST_TEST((rekeyed.accessMode == cpis::domain::AccessMode::Scheduled));
  BOOST_TEST((rekeyed.locationTerms.maxAgeYears == 17));
  // another key, which the wildcard row names
  const Attendance wildcard = adapt("9990000018^^^NHS^NH~1234^^^RZZ^MR");
  BOOST_TEST(wildcard.locationKey == "MINORS/mrn-4");
  BOOST_TEST((wildcard.setting == cpis::domain::CareSetting::Miu));
  // the key left alone: the mapping's row
  const Attendance kept = adapt("9990000018^^^NHS^NH");
  BOOST_TEST(kept.locationKey == "MINORS/");
  BOOST_TEST((kept.setting == cpis::domain::CareSetting::Miu));
  BOOST_TEST((kept.locationTerms.maxAgeYears == 16));
}

BOOST_AUTO_TEST_CASE(configuration_values_reach_the_adapter) {
  const auto plugin = good();
  Attendance attendance = draft();
  const auto result = plugin->adapt(message(edRegistration(), {{"PV1-3.4", ""}}), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST(attendance.siteOdsCode == "RZZ");  // the `site` key, PV1-3.4 being empty
}

BOOST_AUTO_TEST_CASE(not_an_attendance_is_a_valid_answer_with_its_reason) {
  const auto plugin = good();
  Attendance attendance = draft();
  const auto result = plugin->adapt(message(edRegistration("ED1", "A03")), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST((result->kind == AdaptOutcome::Kind::NotAnAttendance));
  BOOST_TEST(result->reason == "trigger event not mapped");
}

BOOST_AUTO_TEST_CASE(a_data_error_becomes_an_issue_located_in_the_message) {
  const auto plugin = good();
  Attendance attendance = draft();
  const auto result = plugin->adapt(message(edRegistration(), {{"PV1-19", ""}}), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST((result->kind == AdaptOutcome::Kind::DataError));
  BOOST_TEST_REQUIRE(result->issue.has_value());
  const cpis::core::Issue& issue = *result->issue;
  BOOST_TEST((issue.code == ErrorCode::RequiredFieldMissing));
  BOOST_TEST((issue.severity == cpis::core::Severity::Error));
  BOOST_TEST(issue.location.segmentId == "PV1");
  BOOST_TEST(issue.location.segmentSequence == 1U);
  BOOST_TEST(issue.location.field == 19U);
  BOOST_TEST(issue.text == "no visit number");
  BOOST_TEST(plugin->failures() == 0U);  // the data's fault, not the plugin's
}

BOOST_AUTO_TEST_CASE(a_value_the_engine_refuses_can_be_answered_as_a_table_value_error) {
  const auto plugin = good();
  Attendance attendance = draft();
  const auto result = plugin->adapt(message(edRegistration(), {{"PID-32", "TRACED"}}), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST_REQUIRE(result->issue.has_value());
  BOOST_TEST((result->issue->code == ErrorCode::TableValueNotFound));
  BOOST_TEST(result->issue->location.segmentId == "PID");
  BOOST_TEST(result->issue->location.field == 32U);
}

BOOST_AUTO_TEST_CASE(a_configured_limit_changes_the_answer) {
  std::string many = edRegistration();
  const std::string ids = "K4455667^^^RZZ^MR~9990000018^^^NHS^NH";
  std::string repeated = ids;
  for (int i = 0; i < 5; ++i) repeated += "~X" + std::to_string(i) + "^^^RZZ^PI";
  many.replace(many.find(ids), ids.size(), repeated);  // 7 repetitions
  Attendance attendance = draft();
  const auto strict = good({{"max_repetitions", "3"}})->adapt(message(many), attendance);
  BOOST_TEST_REQUIRE(strict.ok(), cpis::plugin::test::whyNot(strict));
  BOOST_TEST_REQUIRE(strict->issue.has_value());
  BOOST_TEST((strict->issue->code == ErrorCode::ValueTooLong));
  const auto lenient = good()->adapt(message(many), attendance);  // default 10
  BOOST_TEST_REQUIRE(lenient.ok(), cpis::plugin::test::whyNot(lenient));
  BOOST_TEST((lenient->kind == AdaptOutcome::Kind::Attendance));
}

BOOST_AUTO_TEST_CASE(an_invalid_nhs_number_is_recorded_as_a_problem_not_a_failure) {
  const auto plugin = good();
  Attendance attendance = draft();
  std::string text = edRegistration();
  text.replace(text.find("9990000018"), 10, "9990000019");
  const auto result = plugin->adapt(message(text), attendance);
  BOOST_TEST_REQUIRE(result.ok(), cpis::plugin::test::whyNot(result));
  BOOST_TEST((result->kind == AdaptOutcome::Kind::Attendance));
  BOOST_TEST(!attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumberProblem ==
             std::string(describe(cpis::domain::NhsNumberError::CheckDigitMismatch)));
}

BOOST_AUTO_TEST_CASE(an_exception_in_adapt_fails_that_message_only) {
  const auto plugin = adapter("throws");
  LogCapture log("cpis.plugin.throws");
  Attendance attendance = draft();
  const auto failed = plugin->adapt(message(edRegistration("ED0000800")), attendance);
  BOOST_TEST_REQUIRE(!failed.ok());
  BOOST_TEST((failed.error().code() == cpis::core::Status::Code::Internal));
  const std::string& why = failed.error().message();
  BOOST_TEST(why.find("adapter plugin 'throws'") != std::string::npos, why);
  BOOST_TEST(why.find("adapter exploded on purpose") != std::string::npos, why);
  BOOST_TEST(why.find("ED0000800") != std::string::npos, why);     // MSH-10 says which message
  BOOST_TEST(why.find("999 000 0018") == std::string::npos, why);  // the NHS number does not leak
  BOOST_TEST(log.all().find("ED0000800") != std::string::npos, log.all());
  BOOST_TEST(log.all().find("999 000 0018") == std::string::npos, log.all());
  BOOST_TEST(plugin->failures() == 1U);
  BOOST_TEST((AdapterPlugin::failureIssue().code == ErrorCode::ApplicationInternalError));
  // The engine carries on: the next message is adapted.
  const auto next = plugin->adapt(message(edRegistration("FINE")), attendance);
  BOOST_TEST(next.ok());
}

BOOST_AUTO_TEST_CASE(every_kind_of_plugin_misbehaviour_is_a_failure) {
  struct Case {
    std::string throwIn;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"not_std", "not a std::exception"},
      {"bad_location", "location 'not a path!' refused"},
      {"unknown_field", "'no_such_field': unknown"},
      {"bad_value", "attendance field 'sex': refused by the engine (a value this field does not take"},
  };
  for (const Case& c : cases) {
    const auto plugin = adapter("throws", {{"throw_in", c.throwIn}});
    Attendance attendance = draft();
    const auto result = plugin->adapt(message(edRegistration()), attendance);
    BOOST_TEST_REQUIRE(!result.ok(), c.throwIn);
    BOOST_TEST(result.error().message().find(c.expected) != std::string::npos, result.error().message());
  }
}

BOOST_AUTO_TEST_CASE(a_bad_path_is_the_plugins_bug) {
  const auto plugin = good();
  Attendance attendance = draft();
  const auto result = plugin->adapt(message(edRegistration(), {{"MSH-3", "BADPATH"}}), attendance);
  BOOST_TEST_REQUIRE(!result.ok());
  BOOST_TEST(result.error().message().find("path 'PID-x'") != std::string::npos, result.error().message());
}

BOOST_AUTO_TEST_CASE(an_exception_that_reaches_the_c_boundary_is_caught_by_the_engine) {
  const auto plugin = adapter("unguarded");
  Attendance attendance = draft();
  for (int i = 0; i < 3; ++i) {
    const auto result = plugin->adapt(message(edRegistration()), attendance);
    BOOST_TEST_REQUIRE(!result.ok());
    BOOST_TEST(result.error().message().find("escaped through the C boundary") != std::string::npos);
  }
  BOOST_TEST(plugin->failures() == 3U);
}

BOOST_AUTO_TEST_CASE(an_adapter_in_c_reads_writes_and_reports) {
  const auto plugin = adapter("c_example");
  Attendance attendance = draft();
  // Its adapt() also fails unless the engine refuses writes to the inbound message.
  const auto ok = plugin->adapt(message(edRegistration()), attendance);
  BOOST_TEST_REQUIRE(ok.ok(), cpis::plugin::test::whyNot(ok));
  BOOST_TEST((ok->kind == AdaptOutcome::Kind::Attendance));
  BOOST_TEST(attendance.nhsNumber->reveal() == "9990000018");
  BOOST_TEST(attendance.locationKey == "c-location");

  const auto other = plugin->adapt(message(edRegistration("ED2", "A08")), attendance);
  BOOST_TEST_REQUIRE(other.ok());
  BOOST_TEST((other->kind == AdaptOutcome::Kind::NotAnAttendance));
  BOOST_TEST(other->reason == "only A04 is mapped");

  const auto missing =
      AdapterPlugin::create(registry().find(PluginKind::Adapter, "c_example"), {{"authority", "XYZ"}})
          ->adapt(message(edRegistration()), attendance);
  BOOST_TEST_REQUIRE(missing.ok());
  BOOST_TEST_REQUIRE(missing->issue.has_value());
  BOOST_TEST((missing->issue->code == ErrorCode::RequiredFieldMissing));
  BOOST_TEST(missing->issue->location.segmentId == "PID");
  BOOST_TEST(missing->issue->location.field == 3U);
}

BOOST_AUTO_TEST_CASE(the_plugin_log_masks_nhs_numbers) {
  LogCapture log("cpis.plugin.good");
  const auto plugin = good();
  Attendance attendance = draft();
  BOOST_TEST_REQUIRE(plugin->adapt(message(edRegistration("ED0000901")), attendance).ok());
  const std::string lines = log.all();
  BOOST_TEST(lines.find("good adapter ready") != std::string::npos, lines);
  BOOST_TEST(lines.find("good adapter's own log, from its constructor") != std::string::npos, lines);
  BOOST_TEST(lines.find("adapted ED0000901 for ***") != std::string::npos, lines);
  BOOST_TEST(lines.find("9990000018") == std::string::npos, lines);
}

BOOST_AUTO_TEST_CASE(one_instance_adapts_on_many_threads_at_once) {
  const auto plugin = good();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100;
  const std::vector<std::string> numbers{"9990000018", "9993000000", "9996543218"};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string& number = numbers[static_cast<std::size_t>(t + i) % numbers.size()];
        std::string text = edRegistration("T" + std::to_string(t) + "-" + std::to_string(i));
        text.replace(text.find("9990000018"), 10, number);
        Attendance attendance = draft();
        const auto result = plugin->adapt(message(text), attendance);
        if (!result.ok() || !attendance.nhsNumber || attendance.nhsNumber->reveal() != number) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
