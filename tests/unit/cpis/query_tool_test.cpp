// cpis-query: one lookup from the command line, its output and its exit status.
#include "engine/cli/query_tool.h"

#include <fstream>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.h"
#include "tests/unit/cpis/simulator_fixture.h"

using namespace std::chrono_literals;
using cpis::cli::runQueryTool;
using cpis::test::numberOf;

namespace {

struct Run {
  int status = 0;
  std::string out, err;
};

struct QueryFixture {
  cpis::test::Simulator s;

  Run run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--endpoint", s.server->queryUrl(), "--schemas",
                               cpis::test::spineSchemaFolder().string(), "--simulator", "--from-asid",
                               cpis::test::kOurAsid, "--to-asid", cpis::test::kServiceAsid});
    std::ostringstream out, err;
    Run r;
    r.status = runQueryTool(args, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(query_tool, QueryFixture)

BOOST_AUTO_TEST_CASE(found_prints_the_plans_and_exits_0) {
  const auto& child = cpis::test::childLabelled("LA name with an ampersand");
  const auto r = run({"--access", "scheduled", std::string(child.nhsNumber.display())});
  BOOST_TEST(r.status == cpis::cli::kQueryFound, r.err);
  BOOST_TEST(r.out.find("CP-IS: FOUND, 1 record") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("Exampleton & District Council (XLA04)") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("CPPI Child protection plan") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("source SIMULATOR") != std::string::npos, r.out);
  BOOST_TEST(s.state().accesses(child.nhsNumber).size() == child.accesses.size());  // scheduled: silent
}

BOOST_AUTO_TEST_CASE(unscheduled_records_an_access) {
  const auto& child = cpis::test::childLabelled("LAC open");
  const auto r = run({"--access", "unscheduled", std::string(child.nhsNumber.reveal())});
  BOOST_TEST(r.status == cpis::cli::kQueryFound, r.err);
  BOOST_TEST(s.state().accesses(child.nhsNumber).size() == child.accesses.size() + 1);
}

BOOST_AUTO_TEST_CASE(not_found_exits_1) {
  const auto r = run({"--access", "scheduled", "9993000000"});
  BOOST_TEST(r.status == cpis::cli::kQueryNotFound, r.out + r.err);
  BOOST_TEST(r.out.find("CP-IS: NOT FOUND") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(failed_exits_2_and_says_it_is_not_a_negative_result) {
  const auto number = numberOf("fault: http500");
  const auto r = run({"--access", "scheduled", std::string(number.reveal())});
  BOOST_TEST(r.status == cpis::cli::kQueryFailed, r.out + r.err);
  BOOST_TEST(r.out.find("CP-IS CHECK FAILED: SPINE_UNAVAILABLE") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("NOT a negative result") != std::string::npos, r.out);
  const auto timeout = run({"--access", "scheduled", "--timeout", "200", std::string(numberOf("fault: timeout").reveal())});
  BOOST_TEST(timeout.status == cpis::cli::kQueryFailed);
  BOOST_TEST(timeout.out.find("TIMEOUT") != std::string::npos, timeout.out);
}

BOOST_AUTO_TEST_CASE(json_output_parses) {
  const auto& child = cpis::test::childLabelled("UCP on the mother's number");
  const auto r = run({"--json", "--access", "scheduled", std::string(child.nhsNumber.reveal())});
  BOOST_TEST(r.status == cpis::cli::kQueryFound, r.err);
  Poco::JSON::Parser parser;
  const auto o = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(o->getValue<std::string>("status") == "FOUND");
  BOOST_TEST(o->getValue<std::string>("accessMode") == "SCHEDULED");
  const auto record = o->getArray("records")->getObject(0);
  BOOST_TEST(record->getValue<std::string>("subject") == "UNBORN");
  BOOST_TEST(record->getArray("plans")->getObject(0)->getValue<std::string>("type") == "UCPI");
  BOOST_TEST(record->getArray("plans")->getObject(0)->getValue<std::string>("end") == "2025-09-30");
  BOOST_TEST(o->isNull("failure"));

  const auto failed = run({"--json", "--access", "scheduled", std::string(numberOf("fault: soapFault").reveal())});
  BOOST_TEST(failed.status == cpis::cli::kQueryFailed);
  const auto f = parser.parse(failed.out).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(f->getValue<std::string>("status") == "CHECK_FAILED");
  BOOST_TEST(f->getObject("failure")->getValue<std::string>("reason") == "SPINE_REJECTED");
}

BOOST_AUTO_TEST_CASE(settings_can_come_from_the_engine_configuration) {
  cpis::test::TempDir dir("cpis-query-config");
  std::ofstream(dir.file("engine.xml")) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="engine.db"/></store>
  <cpis backend="SIMULATOR" timeoutMs="2000">
    <endpoint>)" << s.server->queryUrl() << R"(</endpoint>
    <schemaFolder>)" << cpis::test::spineSchemaFolder().string() << R"(</schemaFolder>
    <identity fromAsid=")" << cpis::test::kOurAsid << R"(" toAsid=")" << cpis::test::kServiceAsid << R"("/>
  </cpis>
  <feed name="ed"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";
  std::ostringstream out, err;
  const int status =
      runQueryTool({"--config", dir.file("engine.xml"), "--access", "scheduled", "9990000018"}, out, err);
  BOOST_TEST(status == cpis::cli::kQueryFound, err.str());
  BOOST_TEST(out.str().find("source SIMULATOR") != std::string::npos, out.str());
  std::ostringstream out2, err2;
  BOOST_TEST(runQueryTool({"--config", dir.file("absent.xml"), "--access", "scheduled", "9990000018"}, out2, err2) ==
             cpis::cli::kQueryUsage);
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_64) {
  BOOST_TEST(run({"9990000018"}).status == cpis::cli::kQueryUsage);                        // no --access
  BOOST_TEST(run({"--access", "sometimes", "9990000018"}).status == cpis::cli::kQueryUsage);
  BOOST_TEST(run({"--access", "scheduled", "9990000019"}).status == cpis::cli::kQueryUsage);  // modulus 11
  BOOST_TEST(run({"--access", "scheduled"}).status == cpis::cli::kQueryUsage);
  BOOST_TEST(run({"--access", "scheduled", "--bogus", "x", "9990000018"}).status == cpis::cli::kQueryUsage);
  std::ostringstream out, err;
  BOOST_TEST(runQueryTool({"--access", "scheduled", "9990000018"}, out, err) == cpis::cli::kQueryUsage);
  BOOST_TEST(err.str().find("--endpoint") != std::string::npos);
  BOOST_TEST(s.state().stats().queries == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
