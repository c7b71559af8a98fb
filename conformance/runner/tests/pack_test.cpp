// ctest conformance_pack: the whole pack, as a supplier would run it. The CP-IS simulator runs
// in this process (a real HTTP server on port 0), the engine as a child process with
// conformance/engine/cpis-engine-conformance.xml (ports 0, a throw-away PKI for the TLS feeds),
// and build/bin/cpis-conformance as another child process, driving the engine over MLLP; the
// runner also receives the engine's webhook notifications and late results (on ports picked
// here and written into the configuration) and reads the audit table of the engine's store.
#define BOOST_TEST_MODULE test_conformance_pack
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "tests/support/engine_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/spine_test_data.h"

namespace {

const std::filesystem::path kSource = CPIS_SOURCE_DIR;

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void replaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

const char* const kFeeds[] = {"adt", "adt-obx", "adt-disabled", "legacy", "ed",
                              "ed-obx", "ed-none", "map-obx", "map-none", "adt-tls", "adt-mtls"};

// A port free now, for a listener the runner opens after the engine has read its configuration
// (the engine connects to it only when it has something to deliver, and retries).
std::uint16_t freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

// Runs build/bin/cpis-conformance to the end: its exit status and everything it wrote.
std::pair<int, std::string> run(const std::vector<std::string>& args) {
  Poco::Pipe out;
  Poco::ProcessHandle runner = Poco::Process::launch(CPIS_CONFORMANCE_BINARY, args, nullptr, &out, &out);
  Poco::PipeInputStream stream(out);
  std::string output((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  return {runner.wait(), std::move(output)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_whole_pack_passes_against_the_engine_and_the_simulator) {
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                     "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string()
                                                                  << " (or set CPIS_SPINE_SCHEMAS)");
  cpis::config::XercesPlatform xerces;
  cpis::cpis::SpineSchemas schemas(cpis::test::spineSchemaFolder());
  cpis::sim::SpineSimulator simulator(cpis::sim::SimulatorSettings{}, schemas,
                                      cpis::sim::Dataset::load(cpis::test::simulatorDataset()));
  simulator.start();

  cpis::test::TempDir dir("cpis-conformance-pack");
  cpis::test::TestPki pki;
  std::string config = read(kSource / "conformance/engine/cpis-engine-conformance.xml");
  replaceAll(config, "@STORE@", dir.file("store.db"));
  replaceAll(config, "@SIMULATOR_URL@", simulator.baseUrl());
  replaceAll(config, "@SCHEMA_FOLDER@", cpis::test::spineSchemaFolder().string());
  replaceAll(config, "@MAPPINGS@", (kSource / "mappings").string());
  replaceAll(config, "@PKI@", std::filesystem::path(pki.caCertificate()).parent_path().string());
  const std::string webhookPort = std::to_string(freePort()), returnPort = std::to_string(freePort());
  const std::string secretFile = dir.file("webhook.secret");
  std::ofstream(secretFile) << "conformance-pack-webhook-secret\n";
  replaceAll(config, "@WEBHOOK_URL@", "http://127.0.0.1:" + webhookPort);
  replaceAll(config, "@WEBHOOK_SECRET@", secretFile);
  replaceAll(config, "@RETURN_PORT@", returnPort);
  const std::string configFile = dir.file("cpis-engine-conformance.xml");
  std::ofstream(configFile) << config;

  cpis::test::EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", configFile});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());

  std::vector<std::string> args{"run", "--engine", "127.0.0.1:" + std::to_string(engine.port("adt"))};
  for (const char* feed : kFeeds) {
    const bool tls = std::string(feed).find("tls") != std::string::npos;
    args.push_back("--feed");
    args.push_back(std::string(feed) + "=127.0.0.1:" + std::to_string(engine.port(feed)) + (tls ? ":tls" : ""));
  }
  const char* jobsEnv = std::getenv("CPIS_CONFORMANCE_JOBS");  // default 4
  const std::string jobs = jobsEnv ? jobsEnv : "4";
  const std::string junit = dir.file("junit.xml"), html = dir.file("report.html");
  for (const std::string& a : {std::string("--tls-ca"), pki.caCertificate(), std::string("--tls-cert"),
                               pki.clientCertificate("epr01"), std::string("--tls-key"), pki.clientKey("epr01"),
                               std::string("--simulator"), simulator.baseUrl(), std::string("--webhook-port"),
                               webhookPort, std::string("--webhook-secret"), secretFile, std::string("--return-port"),
                               returnPort, std::string("--audit-db"), dir.file("store.db"), std::string("--jobs"), jobs,
                               std::string("--junit"), junit, std::string("--html"), html, std::string("--quiet"),
                               (kSource / "conformance/scenarios").string()}) {
    args.push_back(a);
  }
  const auto [status, output] = run(args);
  BOOST_TEST(status == 0, output);
  BOOST_TEST_MESSAGE(output.substr(output.rfind('\n', output.size() - 2) + 1));
  BOOST_TEST(output.find(" passed, 0 failed\n") != std::string::npos, output);
  BOOST_TEST(output.find("skipped") == std::string::npos, output);
  BOOST_TEST(read(junit).find("failures=\"0\"") != std::string::npos);
  BOOST_TEST(read(html).find("0 failed") != std::string::npos);
  if (const char* keep = std::getenv("CPIS_CONFORMANCE_REPORT")) std::filesystem::copy_file(html, keep, std::filesystem::copy_options::overwrite_existing);

  // A scenario that expects the wrong thing: exit 1, and the report shows both sides.
  std::ofstream(dir.file("wrong.xml")) << R"(<?xml version="1.0" encoding="UTF-8"?>
<scenarios xmlns="urn:cpis-engine:conformance:1" feed="adt">
  <scenario id="expects-not-found">
    <title>Expects NOT_FOUND for a child with a plan</title>
    <step>
      <message>
        MSH|^~\&amp;|EDSYS|RZZ|CPIS-ENGINE|RZZ|${now}||ADT^A04^ADT_A01|${controlId}|P|2.4
        PID|1||9990000018^^^NHS^NH||TESTCHILD^ALEX||${age:10}|||||||||||||||||||||||||NSTS01
        PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||${visit}
      </message>
      <expect><ack code="AA"/><segment id="ZCP"><field path="2" value="NOT_FOUND"/></segment></expect>
    </step>
  </scenario>
</scenarios>
)";
  const std::string wrongHtml = dir.file("wrong.html");
  const auto [wrongStatus, wrongOutput] =
      run({"run", "--engine", "127.0.0.1:" + std::to_string(engine.port("adt")), "--simulator", simulator.baseUrl(),
           "--html", wrongHtml, dir.file("wrong.xml")});
  BOOST_TEST(wrongStatus == 1, wrongOutput);
  BOOST_TEST(wrongOutput.find("1 scenarios: 0 passed, 1 failed\n") != std::string::npos, wrongOutput);
  BOOST_TEST(wrongOutput.find("ZCP(1)-2: expected equals \"NOT_FOUND\", got \"FOUND\"") != std::string::npos, wrongOutput);
  const std::string page = read(wrongHtml);
  BOOST_TEST(page.find("<td>equals &quot;NOT_FOUND&quot;</td><td>FOUND</td>") != std::string::npos);
  BOOST_TEST(page.find("MSA|AA|") != std::string::npos);  // the ACK received

  // A scenario file that is not valid: exit 2, the problem located.
  std::ofstream(dir.file("invalid.xml")) << R"(<?xml version="1.0" encoding="UTF-8"?>
<scenarios xmlns="urn:cpis-engine:conformance:1" feed="adt">
  <scenario id="x"><title>t</title><step><resend step="1"/><expect><ack code="XX"/></expect></step></scenario>
</scenarios>
)";
  const auto [invalidStatus, invalidOutput] = run({"run", "--engine", "127.0.0.1:1", dir.file("invalid.xml")});
  BOOST_TEST(invalidStatus == 2, invalidOutput);
  BOOST_TEST(invalidOutput.find(dir.file("invalid.xml") + ":3:") != std::string::npos, invalidOutput);
  const auto [usageStatus, usageOutput] = run({"run", dir.file("invalid.xml")});
  BOOST_TEST(usageStatus == 2, usageOutput);
  BOOST_TEST(usageOutput.find("--engine HOST:PORT is required") != std::string::npos, usageOutput);

  BOOST_TEST(engine.terminate() == 0, engine.errors());
  simulator.stop();
}
