#include <chrono>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/pipeline/respond.h"
#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/alert_segments.h"
#include "engine/plugin/plugin_registry.h"
#include "tests/unit/plugin/plugin_test_support.h"

using namespace cpis::plugin;
using namespace std::chrono;
using cpis::domain::CheckOutcome;
using cpis::domain::CheckStatus;
using cpis::plugin::test::pluginDir;

namespace {

PluginRegistry& registry() {
  static PluginRegistry instance({pluginDir()});
  return instance;
}

std::unique_ptr<AdapterPlugin> adapter(const std::string& name, const PluginSettings& settings = {}) {
  return AdapterPlugin::create(registry().find(PluginKind::Adapter, name), settings);
}

// CPIS.md §5 example 1, with a second plan and an LA name that needs escaping.
CheckOutcome found() {
  CheckOutcome outcome;
  outcome.status = CheckStatus::Found;
  outcome.queried = cpis::domain::NhsNumber::parse("9990000018");
  outcome.mode = cpis::domain::AccessMode::Unscheduled;
  outcome.decidedAt = cpis::domain::Instant(sys_days(2025y / June / 12) + 13h + 30min + 6s);
  outcome.checkId = "3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44";
  cpis::domain::CpisRecord record;
  record.la = {"XLA01", "Brighton & Hove", "01632 960001", std::string("01632 960000")};
  record.plans.push_back({cpis::domain::PlanType::Cppi, 2025y / March / 1, std::nullopt});
  record.plans.push_back({cpis::domain::PlanType::Laci, 2024y / January / 5, 2024y / December / 31});
  outcome.records.push_back(record);
  cpis::domain::PriorAccess person;
  person.at = cpis::domain::Instant(sys_days(2025y / May / 28) + 1h + 15min);
  person.orgOdsCode = "RZZ02";
  person.orgName = "Example Minor Injuries Unit";
  person.jobRoleCode = "R8000";
  person.jobRoleName = "Clinical Practitioner Access Role";
  person.personName = "EXAMPLE^Sam";
  cpis::domain::PriorAccess system = person;
  system.bySystem = true;
  system.orgOdsCode = "RZY";
  system.orgName = "Example Ambulance Service";
  system.asid = "123456789012";
  outcome.accesses = {person, system};
  return outcome;
}

CheckOutcome failedCheck() {
  CheckOutcome outcome;
  outcome.status = CheckStatus::CheckFailed;
  outcome.reason = cpis::domain::ReasonCode::Timeout;
  outcome.reasonText = "No reply from CP-IS within 8 s";
  outcome.checkId = "7d0e4b52-1c3a-4f7e-b6a8-5e2f90c4d311";
  return outcome;
}

// A stand-in for the engine's encoders: one segment naming the encoding and the status.
class RecordingEncoder : public AlertEncoder {
 public:
  cpis::core::Status encode(const CheckOutcome& outcome, AlertEncoding encoding,
                            AlertSegments& out) const override {
    ++calls;
    const auto index = out.add(encoding == AlertEncoding::Obx ? "OBX" : "ZCP");
    if (!index.ok()) return index.error();
    return out.set(index.value(), 2, 1, 1, 1, cpis::domain::codeOf(outcome.status));
  }
  mutable int calls = 0;
};

class FailingEncoder : public AlertEncoder {
 public:
  cpis::core::Status encode(const CheckOutcome&, AlertEncoding, AlertSegments& out) const override {
    (void)out.add("ZCP");
    return cpis::core::Status::internal("encoder failed");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(alert_segments)

BOOST_AUTO_TEST_CASE(values_are_escaped_with_the_messages_delimiters) {
  AlertSegments segments;
  const auto zcp = segments.add("ZCP").value();
  BOOST_TEST(segments.set(zcp, 1, 1, 1, 1, "1").isOk());
  BOOST_TEST(segments.set(zcp, 10, 1, 1, 1, "Brighton & Hove | ^~\\").isOk());
  BOOST_TEST(segments.set(zcp, 4, 1, 3, 1, "99CPIS").isOk());
  BOOST_TEST(segments.set(zcp, 4, 1, 1, 1, "CPPI").isOk());
  BOOST_TEST(segments.set(zcp, 6, 2, 1, 2, "b").isOk());
  BOOST_TEST(segments.set(zcp, 12, 1, 1, 1, "").isOk());  // trailing empties are not sent
  BOOST_TEST(segments.serialize() ==
             "ZCP|1|||CPPI^^99CPIS||~&b||||Brighton \\T\\ Hove \\F\\ \\S\\\\R\\\\E\\\r");
}

BOOST_AUTO_TEST_CASE(other_delimiters_and_character_sets_are_honoured) {
  cpis::hl7v2::Delimiters delimiters;
  delimiters.component = '#';
  AlertSegments segments(delimiters, cpis::hl7v2::Charset::Ascii);
  const auto zcp = segments.add("ZCP").value();
  BOOST_TEST(segments.set(zcp, 2, 1, 2, 1, "a#b^c").isOk());
  BOOST_TEST(segments.set(zcp, 3, 1, 1, 1, "Zo\xc3\xab").isOk());  // ë cannot be ASCII: e
  BOOST_TEST(segments.encode(zcp) == "ZCP||#a\\S\\b^c|Zoe");
}

BOOST_AUTO_TEST_CASE(what_an_alert_may_not_be_is_refused) {
  AlertSegments segments;
  for (const char* id : {"MSH", "MSA", "ERR", "BHS", "zcp", "ZC", "ZCPX", "1CP"}) {
    BOOST_TEST(!segments.add(id).ok(), id);
  }
  const auto zcp = segments.add("ZCP").value();
  BOOST_TEST(!segments.set(zcp, 0, 1, 1, 1, "x").isOk());
  BOOST_TEST(!segments.set(zcp, 257, 1, 1, 1, "x").isOk());
  BOOST_TEST(!segments.set(zcp + 1, 1, 1, 1, 1, "x").isOk());
  BOOST_TEST(!segments.set(zcp, 1, 1, 1, 1, "\xff").isOk());
  BOOST_TEST(!segments.addEncoded("ZCP|1\rMSH|x").isOk());
  BOOST_TEST(!segments.addEncoded("MSA|AA").isOk());
  BOOST_TEST(segments.size() == 1U);
}

BOOST_AUTO_TEST_CASE(encoded_segments_and_truncation) {
  AlertSegments segments;
  BOOST_TEST(segments.addEncoded("ZCP|1|NOT_FOUND").isOk());
  const auto zca = segments.add("ZCA").value();
  BOOST_TEST(segments.set(zca, 1, 1, 1, 1, "1").isOk());
  BOOST_TEST(segments.serialize() == "ZCP|1|NOT_FOUND\rZCA|1\r");
  segments.truncate(1);
  BOOST_TEST(segments.serialize() == "ZCP|1|NOT_FOUND\r");
}

BOOST_AUTO_TEST_CASE(serialized_segments_are_taken_whole_or_not_at_all) {
  AlertSegments segments;
  BOOST_TEST(segments.addSerialized("ZCP|1|FOUND\rZCA|1|RZY\r").isOk());
  BOOST_TEST(segments.size() == 2U);
  BOOST_TEST(segments.segmentId(1) == "ZCA");
  BOOST_TEST(!segments.addSerialized("ZCP|2|FOUND\rMSA|AA\r").isOk());
  BOOST_TEST(segments.serialize() == "ZCP|1|FOUND\rZCA|1|RZY\r");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(compose_alerts)

BOOST_AUTO_TEST_CASE(an_adapter_writes_its_own_segments_for_a_found_outcome) {
  const auto plugin = adapter("good", {{"site", "RZZ"}});
  BOOST_TEST(plugin->composesAlerts());
  AlertSegments segments;
  BOOST_TEST_REQUIRE(plugin->composeAlerts(found(), segments, {}).isOk());
  const std::string expected =
      "ZCP|1|FOUND||CPPI^Child protection plan^99CPIS^342191000000101^Child protection plan^SCT|20250301||"
      "|CHILD|XLA01|Brighton \\T\\ Hove|01632 960001^EMR^PH|01632 960000^WPN^PH|9990000018^^^NHS^NH|||"
      "UNSCHEDULED|2|SPINE\r"
      "ZCP|2|FOUND||LACI^Looked after child^99CPIS^764841000000100^Looked after child^SCT|20240105|20241231|"
      "|CHILD|XLA01|Brighton \\T\\ Hove|01632 960001^EMR^PH|01632 960000^WPN^PH|9990000018^^^NHS^NH|||"
      "UNSCHEDULED|2|SPINE\r"
      "ZCA|1|20250528011500.000+0000|RZZ02|Example Minor Injuries Unit|R8000^Clinical Practitioner Access "
      "Role^99SJR|EXAMPLE\\S\\Sam|PERSON\r"
      "ZCA|2|20250528011500.000+0000|RZY|Example Ambulance Service|R8000^Clinical Practitioner Access "
      "Role^99SJR|EXAMPLE\\S\\Sam|SYSTEM\r";
  BOOST_TEST(segments.serialize() == expected);
}

BOOST_AUTO_TEST_CASE(a_failed_check_is_written_as_failed) {
  const auto plugin = adapter("good", {{"site", "RZZ"}});
  AlertSegments segments;
  BOOST_TEST_REQUIRE(plugin->composeAlerts(failedCheck(), segments, {}).isOk());
  BOOST_TEST(segments.serialize() ==
             "ZCP|1|CHECK_FAILED|TIMEOUT^No reply from CP-IS within 8 s^99CPIS||||||||||||"
             "7d0e4b52-1c3a-4f7e-b6a8-5e2f90c4d311\r");
}

BOOST_AUTO_TEST_CASE(an_adapter_can_ask_for_the_engines_standard_alerts) {
  const auto plugin = adapter("good", {{"site", "RZZ"}});
  RecordingEncoder encoder;
  CheckOutcome notFound;
  notFound.status = CheckStatus::NotFound;
  AlertSegments segments;
  // FeedDefault takes the feed's encoding (here OBX).
  BOOST_TEST_REQUIRE(plugin->composeAlerts(notFound, segments, {&encoder, AlertEncoding::Obx}).isOk());
  BOOST_TEST(encoder.calls == 1);
  BOOST_TEST(segments.serialize() == "OBX||NOT_FOUND\rNTE|1||standard alerts\r");

  AlertSegments without;
  BOOST_TEST_REQUIRE(plugin->composeAlerts(notFound, without, {}).isOk());
  BOOST_TEST(without.serialize() == "NTE|1||no standard encoder\r");
}

BOOST_AUTO_TEST_CASE(a_failing_standard_encoder_leaves_nothing_half_written) {
  const auto plugin = adapter("good", {{"site", "RZZ"}});
  FailingEncoder encoder;
  CheckOutcome notFound;
  notFound.status = CheckStatus::NotFound;
  AlertSegments segments;
  const auto status = plugin->composeAlerts(notFound, segments, {&encoder, AlertEncoding::ZSegments});
  BOOST_TEST(!status.isOk());  // the SDK turns the refusal into a failure of composeAlerts
  BOOST_TEST(segments.empty());
}

BOOST_AUTO_TEST_CASE(a_composer_that_fails_is_rolled_back_and_reported) {
  struct Case {
    std::string adapter, throwIn, expected;
  };
  const std::vector<Case> cases{
      {"throws", "compose", "alerts exploded on purpose"},
      {"throws", "bad_segment", "alert segment 'MSA'"},
      {"unguarded", "", "an exception escaped the plugin"},
  };
  for (const Case& c : cases) {
    const auto plugin =
        c.throwIn.empty() ? adapter(c.adapter) : adapter(c.adapter, {{"throw_in", c.throwIn}});
    AlertSegments segments;
    BOOST_TEST_REQUIRE(segments.addEncoded("ZXX|written before").isOk());
    const auto status = plugin->composeAlerts(failedCheck(), segments, {});
    BOOST_TEST_REQUIRE(!status.isOk(), c.throwIn);
    BOOST_TEST((status.code() == cpis::core::Status::Code::Internal));
    BOOST_TEST(status.message().find(c.expected) != std::string::npos, status.message());
    BOOST_TEST(status.message().find("check 7d0e4b52") != std::string::npos, status.message());
    BOOST_TEST(segments.serialize() == "ZXX|written before\r");  // only the plugin's segments go
    BOOST_TEST(plugin->failures() == 1U);
  }
}

BOOST_AUTO_TEST_CASE(an_adapter_in_c_composes_alerts) {
  const auto plugin = adapter("c_example");
  AlertSegments segments;
  BOOST_TEST_REQUIRE(plugin->composeAlerts(failedCheck(), segments, {}).isOk());
  BOOST_TEST(segments.serialize() == "ZCP|1|CHECK_FAILED|TIMEOUT\r");
  AlertSegments more;
  BOOST_TEST_REQUIRE(plugin->composeAlerts(found(), more, {}).isOk());
  BOOST_TEST(more.serialize() == "ZCP|1|FOUND\rZCA|1|RZZ02\rZCA|2|RZY\r");
}

// Hazard H3's "missing ZCP": an adapter that answers without the check's status (here the good
// adapter, which writes a ZCP per plan, given a record without one: only ZCA rows) has the
// standard alerts sent instead, in their order and numbering, so the EPR still learns what the
// check found.
BOOST_AUTO_TEST_CASE(alerts_an_adapter_composed_without_a_status_are_replaced_by_the_standard_ones) {
  const auto plugin = adapter("good", {{"site", "RZZ01"}});
  CheckOutcome outcome = found();
  outcome.records.front().plans.clear();
  const cpis::pipeline::Responder responder(cpis::pipeline::AlertOptions{}, plugin.get());
  std::string ack = "MSH|^~\\&|CPIS-ENGINE|RZZ|EDSYS|RZZ01|20250612143006||ACK^A04^ACK|A1|P|2.4\rMSA|AA|ED1\r";
  const std::string head = ack;
  cpis::plugin::test::LogCapture log("cpis.pipeline");
  responder.appendTo(ack, outcome);
  // Exactly what the engine sends without an adapter: nothing of the adapter's rows is kept.
  std::string standardAck = head;
  cpis::pipeline::Responder(cpis::pipeline::AlertOptions{}, nullptr).appendTo(standardAck, outcome);
  BOOST_TEST(ack == standardAck);
  BOOST_TEST(ack.find("ZCA|") == std::string::npos, ack);  // the adapter wrote ZCA rows; none is kept
  BOOST_TEST(log.all().find("adapter good composed no status") != std::string::npos, log.all());
  BOOST_TEST(log.all().find("ED1") != std::string::npos, log.all());  // which message: its MSH-10

  // An adapter that wrote its status is left as it is.
  std::string complete = head;
  responder.appendTo(complete, found());
  BOOST_TEST(complete.substr(head.size()).rfind("ZCP|1|FOUND|", 0) == 0U, complete);
  BOOST_TEST(complete.find("CP-IS:") == std::string::npos, complete);  // no standard ZCP-19 text added
}

BOOST_AUTO_TEST_CASE(a_status_is_a_zcp_with_its_status_or_the_obx_status_row) {
  using cpis::pipeline::carriesStatus;
  const cpis::hl7v2::Delimiters standard;
  BOOST_TEST(carriesStatus("ZCP|1|FOUND\rZCA|1|RZZ02\r", standard));
  BOOST_TEST(carriesStatus("NTE|1||note\rOBX|1|CE|CPIS-STATUS^CP-IS check status^99CPIS|0|FOUND^Found^99CPIS\r", standard));
  BOOST_TEST(!carriesStatus("", standard));
  BOOST_TEST(!carriesStatus("NTE|1||CP-IS ALERT\r", standard));
  BOOST_TEST(!carriesStatus("ZCP|1|\r", standard));  // no ZCP-2
  BOOST_TEST(!carriesStatus("ZCA|1|RZZ02\rZCP\r", standard));
  BOOST_TEST(!carriesStatus("OBX|1|ST|CPIS-TEXT^Display^99CPIS|0|see CPIS-STATUS\r", standard));  // the text elsewhere
  BOOST_TEST(!carriesStatus("OBX|1|CE|CPIS-STATUS-NOTE^x^99CPIS|0|FOUND\r", standard));  // another code
  BOOST_TEST(!carriesStatus("OBX|1|CE|CPIS-STATUS^CP-IS check status^99CPIS|0|\r", standard));  // no value
  BOOST_TEST(!carriesStatus("OBX|1|CE|CPIS-STATUS^CP-IS check status^99CPIS|0|^Found^99CPIS\r", standard));  // no code
  BOOST_TEST(!carriesStatus("ZCP|1|~FOUND\r", standard));     // an empty first repetition
  BOOST_TEST(!carriesStatus("ZCP|1|\"\"\r", standard));      // HL7's explicit null
  cpis::hl7v2::Delimiters other;
  other.field = '#';
  other.component = '$';
  BOOST_TEST(carriesStatus("OBX#1#CE#CPIS-STATUS$CP-IS check status$99CPIS#0#FOUND$Found$99CPIS\r", other));
  BOOST_TEST(!carriesStatus("OBX|1|CE|CPIS-STATUS^CP-IS check status^99CPIS|0|FOUND\r", other));
}

BOOST_AUTO_TEST_CASE(an_adapter_without_composeAlerts_leaves_the_alerts_to_the_engine) {
  const auto plugin = adapter("minimal");
  BOOST_TEST(!plugin->composesAlerts());
  AlertSegments segments;
  BOOST_TEST(plugin->composeAlerts(found(), segments, {}).isOk());
  BOOST_TEST(segments.empty());
}

BOOST_AUTO_TEST_SUITE_END()
