// The runner's own pieces: reading scenarios (and refusing bad ones with file:line:col),
// placeholders, comparing replies field by field, and the JUnit report.
#define BOOST_TEST_MODULE test_conformance_runner
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/DOM/DOMParser.h>
#include <Poco/DOM/Document.h>
#include <Poco/DOM/Element.h>
#include <Poco/DOM/NodeList.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <sqlite3.h>

#include "conformance/runner/report.h"
#include "conformance/runner/results.h"
#include "conformance/runner/runner.h"
#include "conformance/runner/audit_reader.h"
#include "conformance/runner/receivers.h"
#include "conformance/runner/scenario.h"
#include "engine/config/config_error.h"
#include "engine/config/xerces_platform.h"
#include "engine/mllp/mllp_client.h"
#include "tests/support/temp_dir.h"

using namespace cpis::conformance;

namespace {

struct Xerces {
  cpis::config::XercesPlatform platform;
  ScenarioReader reader;
};

const std::string kHeader = R"(<?xml version="1.0" encoding="UTF-8"?>
<scenarios xmlns="urn:cpis-engine:conformance:1" feed="adt">
)";

const std::string kGood = kHeader + R"(  <scenario id="found-cpp">
    <title>A child on a CPP</title>
    <tags>plan cpp</tags>
    <step>
      <message>
        MSH|^~\&amp;|EDSYS|RZZ|CPIS-ENGINE|RZZ|${now}||ADT^A04^ADT_A01|${controlId}|P|2.4
        PID|1||9990000018^^^NHS^NH||TESTCHILD^ALEX||${age:10}
      </message>
      <expect>
        <ack code="AA"/>
        <segment id="ZCP"><field path="2" value="FOUND"/><field path="15" match="nonEmpty"/></segment>
        <segment id="OBX" where="3.1=CPIS-STATUS 4=0"><field path="5.1" value="FOUND"/></segment>
        <count segment="ZCA" equals="2"/>
        <simulator><accesses nhsNumber="9990000018" added="1"/></simulator>
      </expect>
    </step>
    <step>
      <resend step="1"/>
      <expect><sameAsStep step="1"/><simulator><accesses nhsNumber="9990000018" added="0"/></simulator></expect>
    </step>
  </scenario>
  <scenario id="framing" feed="legacy" serialGroup="framing">
    <title>Bytes before the start block</title>
    <step>
      <raw><part>junk\vMSH|^~\\&amp;|A|B\r\x1c\r</part></raw>
      <expect><reply><ack code="AA" echoesControlId="false"/></reply><connection outcome="open"/></expect>
    </step>
  </scenario>
</scenarios>
)";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scenarios, Xerces)

BOOST_AUTO_TEST_CASE(a_valid_file_is_read_with_every_expectation) {
  const auto list = reader.parse(kGood, "good.xml");
  BOOST_TEST_REQUIRE(list.size() == 2u);
  const Scenario& s = list[0];
  BOOST_TEST(s.id == "found-cpp");
  BOOST_TEST(s.feed == "adt");
  BOOST_TEST(s.tags.size() == 2u);
  BOOST_TEST_REQUIRE(s.steps.size() == 2u);
  BOOST_TEST(s.steps[0].text.find("MSH|^~\\&|EDSYS") == 0u);  // indentation dropped
  BOOST_TEST(s.steps[0].text.find("\nPID|1||") != std::string::npos);
  const auto& reply = s.steps[0].expect.replies.at(0);
  BOOST_TEST(reply.ack->code == "AA");
  BOOST_TEST_REQUIRE(reply.segments.size() == 2u);
  BOOST_TEST(reply.segments[1].where.size() == 2u);
  BOOST_TEST(reply.segments[1].where[0].first == "3.1");
  BOOST_TEST(reply.segments[1].where[0].second == "CPIS-STATUS");
  BOOST_TEST((reply.segments[0].fields[1].match == Match::NonEmpty));
  BOOST_TEST(reply.counts.at(0).equals == 2u);
  BOOST_TEST((s.steps[1].kind == Step::Kind::Resend));
  BOOST_TEST(*s.steps[1].expect.replies.at(0).sameAsStep == 1u);
  BOOST_TEST(s.locks().count("9990000018") == 1u);
  BOOST_TEST(list[1].feed == "legacy");
  BOOST_TEST(list[1].locks().count("group:framing") == 1u);
  BOOST_TEST((list[1].steps[0].expect.connection == ConnectionOutcome::Open));
}

BOOST_AUTO_TEST_CASE(a_schema_error_names_the_file_line_and_column) {
  const std::string bad = kHeader + R"(  <scenario id="x">
    <title>t</title>
    <step>
      <message>MSH|</message>
      <expect><ack code="OK"/></expect>
    </step>
  </scenario>
</scenarios>
)";
  try {
    reader.parse(bad, "bad.xml");
    BOOST_FAIL("accepted");
  } catch (const cpis::config::ConfigError& e) {
    BOOST_TEST_REQUIRE(!e.problems().empty());
    const auto& p = e.problems().front();
    BOOST_TEST(p.file == "bad.xml");
    BOOST_TEST(p.line == 7u);  // <expect><ack code="OK"/>
    BOOST_TEST(p.column > 0u);
    BOOST_TEST(p.message.find("OK") != std::string::npos, p.message);
  }
}

BOOST_AUTO_TEST_CASE(a_resend_of_a_later_step_and_repeated_ids_are_refused) {
  const std::string bad = kHeader + R"(  <scenario id="x">
    <title>t</title>
    <step><resend step="2"/><expect><ack code="AA"/></expect></step>
  </scenario>
</scenarios>
)";
  BOOST_CHECK_THROW(reader.parse(bad, "bad.xml"), cpis::config::ConfigError);
  cpis::test::TempDir dir("cpis-conformance");
  std::ofstream(dir.file("a.xml")) << kGood;
  std::ofstream(dir.file("b.xml")) << kGood;
  try {
    reader.load({dir.path()});
    BOOST_FAIL("accepted");
  } catch (const cpis::config::ConfigError& e) {
    BOOST_TEST(e.problems().size() == 2u);
    BOOST_TEST(e.problems()[0].message.find("also used at") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(prior_access_counts_are_read_and_lock_their_child) {
  const std::string text = kHeader + R"(  <scenario id="p">
    <title>t</title>
    <step>
      <message>MSH|^~\&amp;|A|B|C|D|1||ADT^A04|${controlId}|P|2.4</message>
      <expect>
        <segment id="ZCP"><field path="17" value="${priorAccesses:9990000026}"/></segment>
        <count segment="ZCA" equalsPriorAccesses="9990000034"/>
      </expect>
    </step>
  </scenario>
</scenarios>
)";
  const auto list = reader.parse(text, "prior.xml");
  const auto numbers = list.at(0).steps.at(0).priorAccessNumbers();
  BOOST_TEST(numbers.size() == 2u);
  BOOST_TEST(list[0].locks().count("9990000026") == 1u);
  BOOST_TEST(list[0].locks().count("9990000034") == 1u);
  const std::string both = kHeader + R"(  <scenario id="p">
    <title>t</title>
    <step><message>MSH|</message><expect><count segment="ZCA" equals="1" equalsPriorAccesses="9990000034"/></expect></step>
  </scenario>
</scenarios>
)";
  try {
    reader.parse(both, "both.xml");
    BOOST_FAIL("accepted");
  } catch (const cpis::config::ConfigError& e) {
    BOOST_TEST(e.problems().at(0).line == 5u);
    BOOST_TEST(e.problems().at(0).message.find("exactly one of equals") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_child_whose_failed_check_is_re_checked_later_may_not_be_counted_by_another_scenario) {
  // The engine re-checks a failed check in the background once the scenario's fault has gone;
  // that re-check records an access at a moment no other scenario can predict.
  const std::string failing = kHeader + R"(  <scenario id="fails">
    <title>t</title>
    <setup><fault nhsNumber="9990000182" kind="http500" times="1"/></setup>
    <step>
      <message>PID|1||9990000182^^^NHS^NH</message>
      <expect><segment id="ZCP"><field path="2" value="CHECK_FAILED"/></segment></expect>
    </step>
  </scenario>
</scenarios>
)";
  const std::string counting = kHeader + R"(  <scenario id="counts">
    <title>t</title>
    <step>
      <message>PID|1||9990000182^^^NHS^NH</message>
      <expect><simulator><accesses nhsNumber="9990000182" added="0"/></simulator></expect>
    </step>
  </scenario>
</scenarios>
)";
  cpis::test::TempDir dir("cpis-conformance");
  std::ofstream(dir.file("a.xml")) << failing;
  std::ofstream(dir.file("b.xml")) << counting;
  try {
    reader.load({dir.path()});
    BOOST_FAIL("accepted");
  } catch (const cpis::config::ConfigError& e) {
    BOOST_TEST_REQUIRE(e.problems().size() == 1u);
    BOOST_TEST(e.problems()[0].file == dir.file("b.xml"));
    BOOST_TEST(e.problems()[0].line == 3u);
    BOOST_TEST(e.problems()[0].message.find("counts the accesses of 9990000182") != std::string::npos);
    BOOST_TEST(e.problems()[0].message.find("scenario fails") != std::string::npos);
  }
  // Waiting for the re-check (its late result) leaves nothing behind.
  std::string waiting = failing;
  const std::string expectEnd = "</segment></expect>";
  waiting.replace(waiting.find(expectEnd), expectEnd.size(),
                  "</segment><lateResult><field path=\"MSH-9.1\" value=\"ORU\"/></lateResult></expect>");
  std::ofstream(dir.file("a.xml"), std::ios::trunc) << waiting;
  BOOST_TEST(reader.load({dir.path()}).size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_pack_itself_is_valid_and_large_enough) {
  const auto all = reader.load({std::filesystem::path(CPIS_SOURCE_DIR) / "conformance/scenarios"});
  BOOST_TEST(all.size() >= 80u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(placeholders)

BOOST_AUTO_TEST_CASE(control_ids_are_unique_short_and_dates_relative_to_today) {
  PlaceholderContext c;
  c.runToken = "AB12Z";
  c.scenarioIndex = 1295;
  c.step = 12;
  c.attempt = 3;
  c.now = std::chrono::sys_days(std::chrono::year(2026) / 11 / 25) + std::chrono::hours(9) + std::chrono::minutes(5);
  const std::string id = fillPlaceholders("${controlId}", c);
  BOOST_TEST(id == "CAB12Z0ZZ-12R3");
  BOOST_TEST(id.size() <= 20u);
  BOOST_TEST(fillPlaceholders("${now}|${today}", c) == "20261125090500|20261125");
  BOOST_TEST(fillPlaceholders("${age:10}", c) == "20161026");
  BOOST_TEST(fillPlaceholders("${ageDays:3}", c) == "20261122");
  BOOST_TEST(fillPlaceholders("${nowDmy}", c) == "25/11/2026 09:05");
  BOOST_TEST(fillPlaceholders("${visit}", c) == "VAB12Z0ZZ");
  BOOST_CHECK_THROW(fillPlaceholders("${nope}", c), std::invalid_argument);
  BOOST_TEST(unescapeBytes("\\vA\\x1c\\r\\\\") == std::string("\x0B" "A\x1C\r\\"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(comparison)

const std::string kAck =
    "MSH|^~\\&|CPIS-ENGINE|RZZ|EDSYS|RZZ|20261125||ACK^A04^ACK|X1|P|2.4\r"
    "MSA|AA|C1|CP-IS: 1 plan found\r"
    "ZCP|1|FOUND||CPPI^Child protection plan^99CPIS|20250301||ACTIVE|CHILD|XLA01|Exampleshire County Council|"
    "01632 960001^EMR^PH||9990000018^^^NHS^NH|20261125|abc^CPIS-ENGINE|UNSCHEDULED|2|SIMULATOR|text\r"
    "ZCA|1|20250528|RZZ02|Unit||EXAMPLE^Sam|PERSON\r"
    "ZCA|2|20250411|RZY|Service||SAFEGUARD^Lee|SYSTEM\r";

BOOST_AUTO_TEST_CASE(alert_fields_are_compared_by_path_with_each_kind_of_match) {
  ReplyExpect e;
  e.ack = AckCheck{"AA", true};
  e.segments.push_back(SegmentCheck{"ZCP", 1, {}, {
      {"2", Match::Equals, "FOUND"},
      {"4.1", Match::Equals, "CPPI"},
      {"6", Match::Empty, ""},
      {"10", Match::Prefix, "Examples"},
      {"15.2", Match::Suffix, "ENGINE"},
      {"19", Match::NonEmpty, ""},
  }});
  e.segments.push_back(SegmentCheck{"ZCA", 1, {{"7", "SYSTEM"}}, {{"3", Match::Equals, "RZY"}}});
  e.counts.push_back(CountCheck{"ZCA", {}, 2, ""});
  e.fields.push_back(FieldCheck{"MSA-3", Match::Contains, "1 plan"});
  const auto results = checkReply(e, kAck, "C1", {});
  for (const auto& r : results) BOOST_TEST(r.passed, r.what << ": expected " << r.expected << ", got " << r.actual);
  BOOST_TEST(results.size() == 11u);  // MSA-1, MSA-2, six ZCP, one ZCA, the count, MSA-3
}

BOOST_AUTO_TEST_CASE(a_difference_is_reported_with_expected_and_actual) {
  ReplyExpect e;
  e.ack = AckCheck{"AE", true};
  e.segments.push_back(SegmentCheck{"ZCP", 1, {}, {{"2", Match::Equals, "NOT_FOUND"}}});
  e.segments.push_back(SegmentCheck{"ZCP", 2, {}, {{"2", Match::Equals, "FOUND"}}});
  e.errs.push_back(ErrCheck{"101", "PID", 3});
  const auto results = checkReply(e, kAck, "OTHER", {});
  BOOST_TEST_REQUIRE(results.size() == 5u);
  BOOST_TEST(!results[0].passed);
  BOOST_TEST(results[0].actual == "AA");
  BOOST_TEST(!results[1].passed);  // MSA-2 is C1, not OTHER
  BOOST_TEST(!results[2].passed);
  BOOST_TEST(results[2].what == "ERR-1");
  BOOST_TEST(results[2].actual == "no ERR");
  BOOST_TEST(results[3].what == "ZCP(1)-2");
  BOOST_TEST(results[3].expected == "equals \"NOT_FOUND\"");
  BOOST_TEST(results[3].actual == "FOUND");
  BOOST_TEST(!results[4].passed);  // no second ZCP
}

BOOST_AUTO_TEST_CASE(err_codes_are_read_in_the_form_of_the_version) {
  ReplyExpect e;
  e.errs.push_back(ErrCheck{"101", "PV1", 19});
  const std::string v24 = "MSH|^~\\&|A|B|C|D|1||ACK|X|P|2.4\rMSA|AE|C1\rERR|PV1^1^19^101&Required field missing&HL70357\r";
  const std::string v25 = "MSH|^~\\&|A|B|C|D|1||ACK|X|P|2.5.1\rMSA|AE|C1\rERR||PV1^1^19|101^Required^HL70357|E\r";
  BOOST_TEST(checkReply(e, v24, "C1", {}).at(0).passed);
  BOOST_TEST(checkReply(e, v25, "C1", {}).at(0).passed);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reports)

BOOST_AUTO_TEST_CASE(junit_and_html_are_well_formed_and_show_the_difference) {
  Scenario ok, bad, skipped;
  ok.id = "ok";
  ok.file = "conformance/scenarios/a.xml";
  bad.id = "bad<&>";
  bad.title = "a \"quoted\" title";
  bad.file = "conformance/scenarios/b.xml";
  skipped.id = "later";
  skipped.file = bad.file;
  std::vector<ScenarioResult> results(3);
  results[0].scenario = &ok;
  results[1].scenario = &bad;
  results[1].verdict = ScenarioResult::Verdict::Failed;
  StepResult step;
  step.name = "step 1";
  step.sent = printable("MSH|^~\\&|A\rPID|1\r");
  step.replies.push_back(std::string("MSH|^~\\&|B\rMSA|AE|\x01\r"));
  step.checks.push_back(CheckResult{"ZCP(1)-2", "equals \"FOUND\"", "NOT_FOUND", false});
  results[1].steps.push_back(step);
  results[2].scenario = &skipped;
  results[2].verdict = ScenarioResult::Verdict::Skipped;
  results[2].skipReason = "not supported yet";

  std::ostringstream junit;
  writeJUnit(junit, results);
  Poco::XML::DOMParser parser;
  Poco::AutoPtr<Poco::XML::Document> doc = parser.parseString(junit.str());
  auto* root = doc->documentElement();
  BOOST_TEST(root->nodeName() == "testsuites");
  BOOST_TEST(root->getAttribute("tests") == "3");
  BOOST_TEST(root->getAttribute("failures") == "1");
  BOOST_TEST(root->getAttribute("skipped") == "1");
  Poco::AutoPtr<Poco::XML::NodeList> cases = doc->getElementsByTagName("testcase");
  BOOST_TEST(cases->length() == 3u);
  Poco::AutoPtr<Poco::XML::NodeList> failures = doc->getElementsByTagName("failure");
  BOOST_TEST_REQUIRE(failures->length() == 1u);
  const auto message = static_cast<Poco::XML::Element*>(failures->item(0))->getAttribute("message");
  BOOST_TEST(message.find("NOT_FOUND") != std::string::npos, message);

  std::ostringstream html;
  writeHtml(html, results);
  const std::string page = html.str();
  BOOST_TEST(page.find("1 passed</span>, <span class=\"fail\">1 failed") != std::string::npos);
  BOOST_TEST(page.find("bad&lt;&amp;&gt;") != std::string::npos);
  BOOST_TEST(page.find("<td>equals &quot;FOUND&quot;</td><td>NOT_FOUND</td>") != std::string::npos);
  BOOST_TEST(page.find("MSA|AE|") != std::string::npos);  // the ACK received
  BOOST_TEST(page.find("<script") == std::string::npos);

  std::ostringstream console;
  writeConsoleSummary(console, results);
  const std::string text = console.str();
  const std::string last = "3 scenarios: 1 passed, 1 failed\n";
  BOOST_TEST(text.substr(text.size() - last.size()) == last);
  BOOST_TEST(text.find("FAILED bad<&>") != std::string::npos);
  BOOST_TEST(text.find("1 skipped: later") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(notification_and_late_result_expectations_are_read) {
  Xerces x;
  const auto scenarios = x.reader.parse(kHeader + R"(  <scenario id="n">
    <title>t</title>
    <step>
      <message>MSH|^~\&amp;|A|B|C|D|${now}||ADT^A04|${controlId}|P|2.4</message>
      <expect>
        <ack code="AA"/>
        <notification sink="safeguarding" kind="plan-found" count="2" withinMs="1500">
          <field path="nhs_number" value="9990000018"/>
          <field path="family_name" match="absent"/>
        </notification>
        <notification sink="minimal" count="0"/>
        <lateResult withinMs="900"><segment id="ZCP"><field path="2" value="FOUND"/></segment></lateResult>
      </expect>
    </step>
  </scenario>
</scenarios>
)", "n.xml");
  BOOST_TEST_REQUIRE(scenarios.size() == 1u);
  const auto& e = scenarios[0].steps[0].expect;
  BOOST_TEST_REQUIRE(e.notifications.size() == 2u);
  BOOST_TEST(e.notifications[0].sink == "safeguarding");
  BOOST_TEST(e.notifications[0].kind == "plan-found");
  BOOST_TEST(e.notifications[0].count == 2u);
  BOOST_TEST(e.notifications[0].within->count() == 1500);
  BOOST_TEST_REQUIRE(e.notifications[0].fields.size() == 2u);
  BOOST_TEST((e.notifications[0].fields[1].match == Match::Absent));
  BOOST_TEST(e.notifications[1].kind.empty());
  BOOST_TEST(e.notifications[1].count == 0u);
  BOOST_TEST(!e.notifications[1].within.has_value());
  BOOST_TEST_REQUIRE(e.lateResults.size() == 1u);
  BOOST_TEST(e.lateResults[0].within->count() == 900);
  BOOST_TEST_REQUIRE(e.lateResults[0].checks.segments.size() == 1u);
  BOOST_TEST(e.lateResults[0].checks.segments[0].id == "ZCP");
  BOOST_TEST(scenarios[0].usesNotifications());
  BOOST_TEST(scenarios[0].usesLateResults());
  BOOST_TEST(!scenarios[0].usesUnsupported());
}

BOOST_AUTO_TEST_CASE(the_webhook_receiver_records_deliveries_and_verifies_signatures) {
  WebhookReceiver receiver(0, "s3cret");
  BOOST_TEST_REQUIRE(receiver.port() != 0);
  auto post = [&](const std::string& path, const std::string& body, const std::string& signature) {
    Poco::Net::HTTPClientSession session("127.0.0.1", receiver.port());
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    request.set("Idempotency-Key", "plan-found:adt:V1:abc");
    request.set("X-Cpis-Timestamp", "1749735006");
    request.set("X-Cpis-Signature", signature);
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    return static_cast<int>(response.getStatus());
  };
  const std::string body = R"({"kind":"plan-found","idempotency_key":"plan-found:adt:V1:abc","visit_number":"V1"})";
  BOOST_TEST(post("/hooks/safeguarding", body, "sha256=" + webhookSignature("s3cret", "1749735006", body)) == 200);
  BOOST_TEST(post("/hooks/minimal", body, "sha256=" + webhookSignature("other", "1749735006", body)) == 401);
  BOOST_TEST_REQUIRE(receiver.deliveries().waitFor([](const auto& all) { return all.size() == 2; }, std::chrono::seconds(5)));
  const auto all = receiver.deliveries().items();
  BOOST_TEST(all[0].sink == "safeguarding");
  BOOST_TEST(all[0].idempotencyKey == "plan-found:adt:V1:abc");
  BOOST_TEST(all[0].fields.at("visit_number") == "V1");
  BOOST_TEST(all[0].signatureValid);
  BOOST_TEST(all[1].sink == "minimal");
  BOOST_TEST(!all[1].signatureValid);
  BOOST_TEST(all[1].problem.find("X-Cpis-Signature") != std::string::npos);
  // HMAC-SHA256 over "timestamp.body" (as `openssl dgst -sha256 -hmac` computes it).
  BOOST_TEST(webhookSignature("s3cret", "1749735006", R"({"kind":"plan-found"})") ==
             "413e313ae8dae08b0354177be946d5bb866d3b2c121a434946b3f80e90472d4e");
}

BOOST_AUTO_TEST_CASE(the_return_listener_answers_aa_and_records_each_message) {
  ReturnListener listener(0);
  cpis::mllp::MllpClient client("127.0.0.1", listener.port(), std::chrono::seconds(5), std::nullopt);
  const std::string oru =
      "MSH|^~\\&|CPIS-ENGINE|RZZ|EDSYS|RZZ|20250612133005||ORU^R01^ORU_R01|L123|P|2.4\r"
      "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||V42^^^RZZ^VN\r";
  client.send(oru);
  const auto ack = client.receive(std::chrono::seconds(5));
  BOOST_TEST_REQUIRE(ack.has_value());
  BOOST_TEST(rawHl7Field(*ack, "MSA", 1, 0) == "AA");
  BOOST_TEST(rawHl7Field(*ack, "MSA", 2, 0) == "L123");
  BOOST_TEST_REQUIRE(listener.messages().waitFor([](const auto& all) { return all.size() == 1; }, std::chrono::seconds(5)));
  BOOST_TEST(listener.messages().items()[0] == oru);
  BOOST_TEST(rawHl7Field(oru, "PV1", 19, 1) == "V42");
  BOOST_TEST(rawHl7Field(oru, "MSH", 9, 0) == "ORU^R01^ORU_R01");
  BOOST_TEST(rawHl7Field(oru, "ZCP", 2, 0).empty());
}

BOOST_AUTO_TEST_CASE(the_audit_reader_reads_one_childs_queries_since_a_time) {
  cpis::test::TempDir dir("cpis-conformance-audit");
  const std::string file = dir.file("store.db");
  {
    sqlite3* db = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    BOOST_TEST_REQUIRE(sqlite3_exec(db,
                                    "CREATE TABLE audit (id INTEGER PRIMARY KEY, at INTEGER, nhs_number TEXT, outcome TEXT);"
                                    "INSERT INTO audit (at, nhs_number, outcome) VALUES (100, '9990000018', 'FOUND'),"
                                    " (200, '9990000018', 'CHECK_FAILED'), (300, '9990000026', 'FOUND');",
                                    nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  AuditReader reader(file);
  const auto rows = reader.queries("9990000018", 150);
  BOOST_TEST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].at("outcome") == "CHECK_FAILED");
  BOOST_TEST(rows[0].at("at") == "200");
  BOOST_TEST(reader.queries("9990000018", 0).size() == 2u);
  BOOST_TEST(reader.queries("9990000034", 0).empty());
  BOOST_CHECK_THROW(AuditReader(dir.file("missing.db")), std::runtime_error);
}
