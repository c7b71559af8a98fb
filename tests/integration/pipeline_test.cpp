// The pipeline end to end: the daemon (a child process) with the england_adt adapter and its
// mapping, checking CP-IS against the simulator (in this process, a real HTTP server on port
// 0). Each case sends an ADT over MLLP and checks the ACK's alert segments, the store and the
// simulator's access histories and local authority mailboxes.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/simulator_state.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/domain/nhs_number.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_client.h"
#include "tests/integration/engine_fixture.h"

using namespace std::chrono_literals;
using cpis::mllp::MllpClient;
using cpis::test::EngineFixture;
using cpis::test::EngineProcess;

namespace {

std::filesystem::path schemaFolder() {
  if (const char* env = std::getenv("CPIS_SPINE_SCHEMAS")) return env;
  return std::filesystem::path(CPIS_SOURCE_DIR) / ".." / "shared" / "reference" / "spine-schema";
}

std::string field(const std::string& hl7, const std::string& path) {
  auto message = cpis::hl7v2::parse(hl7);
  return message ? message.value().get(path) : "<unreadable>";
}

cpis::domain::NhsNumber nhs(const std::string& digits) {
  return cpis::domain::NhsNumber::parse(digits).value();
}

struct Patient {
  std::string nhsNumber;
  std::string birthDate = "20150403";
  std::string traceStatus = "NSTS01";
  std::string location = "EDMAJ^^^RZZ01";
  std::string patientClass = "E";
};

std::string adt(const std::string& controlId, const std::string& visit, const Patient& p,
                const std::string& event = "A04") {
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^" + event + "^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|" + event + "|20261125101500||||20261125101200\r"
         "PID|1||" + p.nhsNumber + "^^^NHS^NH~RZ" + controlId + "^^^RZZ^MR||TESTCHILD^ALEX^^^^^L||" + p.birthDate +
         "|M||||||||||||||||||||||||" + p.traceStatus + "\r"
         "PV1|1|" + p.patientClass + "|" + p.location + "|||||||180|||||||||" + visit +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r";
}

// One simulator and one engine for the whole suite: cases use different children and visits.
struct PipelineFixture {
  PipelineFixture() {
    BOOST_TEST_REQUIRE(std::filesystem::is_directory(schemaFolder() / "CPIS" / "Schemas"),
                       "NHS Digital's CP-IS schemas are needed at " << schemaFolder().string()
                                                                    << " (or set CPIS_SPINE_SCHEMAS)");
    schemas = std::make_unique<cpis::cpis::SpineSchemas>(schemaFolder());
    simulator = std::make_unique<cpis::sim::SpineSimulator>(
        cpis::sim::SimulatorSettings{}, *schemas,
        cpis::sim::Dataset::load(std::filesystem::path(CPIS_SOURCE_DIR) / "conformance/simulator/dataset/children.json"));
    simulator->start();
    const std::string config = f.dir.file("pipeline.xml");
    std::ofstream(config) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="store.db"/></store>
  <limits readTimeoutMs="5000" idleTimeoutMs="60000"/>
  <logging format="json" level="information"/>
  <cpis backend="SIMULATOR" timeoutMs="3000" retries="0">
    <endpoint>)" << simulator->queryUrl() << R"(</endpoint>
    <schemaFolder>)" << schemaFolder().string() << R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
  <feed name="ed">
    <expectedSender application="EDSYS" facility="RZZ"/>
    <listener address="127.0.0.1" port="0"/>
    <adapter name="england_adt"/>
    <mapping file=")" << CPIS_SOURCE_DIR << R"(/mappings/england-adt.xml"/>
    <check alerts="ZSEG">
      <author odsCode="RZZ01" organisation="Example General Hospital" person="Lee SAFEGUARD"
              jobRoleCode="R8003" jobRoleName="Health Professional Access Role"/>
    </check>
  </feed>
</cpisEngine>
)";
    engine = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
    BOOST_TEST_REQUIRE(engine->waitReady(), engine->errors());
    client = std::make_unique<MllpClient>("127.0.0.1", engine->port("ed"), 10s);
  }
  ~PipelineFixture() {
    client.reset();
    if (engine) engine->terminate();
    if (simulator) simulator->stop();
  }

  std::string send(const std::string& message) {
    client->send(message);
    return client->receive(15s).value_or("<no ACK>");
  }

  EngineFixture f;
  cpis::config::XercesPlatform xerces;
  std::unique_ptr<cpis::cpis::SpineSchemas> schemas;
  std::unique_ptr<cpis::sim::SpineSimulator> simulator;
  std::unique_ptr<EngineProcess> engine;
  std::unique_ptr<MllpClient> client;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pipeline_end_to_end, PipelineFixture)

BOOST_AUTO_TEST_CASE(every_outcome_reaches_the_ack_the_store_and_the_mailboxes) {
  auto& state = simulator->state();

  // A child on an open child protection plan at the ED: FOUND, one access recorded, the LA told.
  const auto cpp = send(adt("P1", "V1", {"9990000018"}));
  BOOST_TEST(field(cpp, "MSA-1") == "AA");
  BOOST_TEST(field(cpp, "ZCP-2") == "FOUND");
  BOOST_TEST(field(cpp, "ZCP-4.1") == "CPPI");
  BOOST_TEST(field(cpp, "ZCP-16") == "UNSCHEDULED");
  BOOST_TEST(field(cpp, "ZCP-18") == "SIMULATOR");
  BOOST_TEST(state.notifications("XLA01").size() == 1u);

  // Each plan type, and three at once.
  BOOST_TEST(field(send(adt("P2", "V2", {"9990000034"})), "ZCP-4.1") == "LACI");
  BOOST_TEST(field(send(adt("P3", "V3", {"9990000476"})), "ZCP-4.1") == "UCPI");
  const auto three = send(adt("P4", "V4", {"9990000107"}));
  BOOST_TEST(field(three, "ZCP(3)-4.1") == "UCPI");
  BOOST_TEST(field(three, "MSA-3") == "CP-IS: 3 plans found");

  // No CP-IS record: NOT_FOUND, only from the configured no-records reply.
  const auto none = send(adt("P5", "V5", {"9990001006"}));
  BOOST_TEST(field(none, "ZCP-2") == "NOT_FOUND");

  // An adult, an invalid NHS number, an unverified trace status: NOT_CHECKED with the reason,
  // and CP-IS is not asked (no access recorded).
  Patient adult{"9990000026"};
  adult.birthDate = "19800101";
  const auto adultAccesses = state.accesses(nhs("9990000026")).size();
  const auto grown = send(adt("P6", "V6", adult));
  BOOST_TEST(field(grown, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(grown, "ZCP-3.1") == "AGE_OUT_OF_SCOPE");
  BOOST_TEST(state.accesses(nhs("9990000026")).size() == adultAccesses);
  const auto invalid = send(adt("P7", "V7", {"9990000019"}));
  BOOST_TEST(field(invalid, "MSA-1") == "AA");
  BOOST_TEST(field(invalid, "ZCP-3.1") == "NHS_NUMBER_INVALID");
  Patient unverified{"9990000042"};
  unverified.traceStatus = "NSTS02";
  BOOST_TEST(field(send(adt("P8", "V8", unverified)), "ZCP-3.1") == "NHS_NUMBER_UNVERIFIED");

  // A scheduled setting (CAMHS): a silent read: the plan is shown, nothing is recorded, the LA
  // is not told.
  Patient camhs{"9990000247"};
  camhs.location = "CAMHS^^^RZZ01";
  camhs.patientClass = "O";
  const auto before = state.notifications("XLA01").size();
  const auto camhsAccesses = state.accesses(nhs("9990000247")).size();
  const auto silent = send(adt("P9", "V9", camhs));
  BOOST_TEST(field(silent, "ZCP-2") == "FOUND");
  BOOST_TEST(field(silent, "ZCP-16") == "SCHEDULED");
  BOOST_TEST(state.notifications("XLA01").size() == before);
  BOOST_TEST(state.accesses(nhs("9990000247")).size() == camhsAccesses);

  // Spine fails (HTTP 500): CHECK_FAILED with its reason, never "no information".
  const auto failed = send(adt("P10", "V10", {"9990000530"}));
  BOOST_TEST(field(failed, "MSA-1") == "AA");
  BOOST_TEST(field(failed, "ZCP-2") == "CHECK_FAILED");
  BOOST_TEST(field(failed, "ZCP-3.1") == "SPINE_UNAVAILABLE");
  BOOST_TEST(field(failed, "ZCP-19").find("NOT a negative result") != std::string::npos);

  // A resend gets the stored ACK, byte for byte, and CP-IS is not asked again.
  const auto accesses = state.accesses(nhs("9990000018")).size();
  BOOST_TEST(send(adt("P1", "V1", {"9990000018"})) == cpp);
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accesses);

  // A message the mapping cannot read as an attendance (no visit number, which england-adt
  // requires): AE with the ERR naming the field, stored as failed.
  std::string broken = adt("P11", "", {"9990000018"});
  const auto refused = send(broken);
  BOOST_TEST(field(refused, "MSA-1") == "AE");
  BOOST_TEST(field(refused, "ZCP-3.1") == "MESSAGE_REJECTED");

  BOOST_TEST(engine->terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 11u);
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(stored[i].second == "processed", stored[i].first);
  BOOST_TEST(stored[10].second == "failed");
  // Patient data stays out of the log.
  const std::string logs = engine->errors() + engine->output();
  for (const char* phi : {"9990000018", "TESTCHILD", "20150403"}) BOOST_TEST(logs.find(phi) == std::string::npos, phi);
}

BOOST_AUTO_TEST_SUITE_END()
