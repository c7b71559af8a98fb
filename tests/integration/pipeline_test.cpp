// The pipeline end to end: the daemon (a child process) with the england_adt adapter and its
// mapping, checking CP-IS against the simulator (in this process, a real HTTP server on port
// 0). Each case sends an ADT over MLLP and checks the ACK's alert segments, the store and the
// simulator's access histories and local authority mailboxes.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Net/ServerSocket.h>

#include <boost/test/unit_test.hpp>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/simulator_state.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/domain/nhs_number.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/framer.h"
#include "engine/mllp/mllp_client.h"
#include "engine/mllp/mllp_server.h"
#include "engine/store/sqlite_message_store.h"
#include "tests/integration/engine_fixture.h"
#include "tests/support/spine_test_data.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using cpis::mllp::MllpClient;
using cpis::test::EngineFixture;
using cpis::test::EngineProcess;

namespace {

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
  // PV1-10, the NHS treatment function: 180 (emergency medicine) makes any RZZ01 point of care
  // an ED under england-adt.xml; another (812, diagnostic imaging) leaves it to the default
  // rule, out of scope.
  std::string service = "180";
};

std::string adt(const std::string& controlId, const std::string& visit, const Patient& p,
                const std::string& event = "A04") {
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^" + event + "^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|" +
         event +
         "|20261125101500||||20261125101200\r"
         "PID|1||" +
         p.nhsNumber + "^^^NHS^NH~RZ" + controlId + "^^^RZZ^MR||TESTCHILD^ALEX^^^^^L||" + p.birthDate +
         "|M||||||||||||||||||||||||" + p.traceStatus +
         "\r"
         "PV1|1|" +
         p.patientClass + "|" + p.location + "|||||||" + p.service + "|||||||||" + visit +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r";
}

// How often `needle` occurs in `text`.
std::size_t occurrences(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

// The engine's configuration for these cases: one feed "ed" through the england_adt adapter
// and its mapping, checking CP-IS at `endpoint`; each case changes what it needs.
struct EngineConfig {
  std::string endpoint;
  std::string limits = R"(<limits readTimeoutMs="5000" idleTimeoutMs="60000"/>)";
  std::string cpisExtra;  // inside <cpis>, after <identity>
  std::string notify;     // after </cpis>
  std::string listener = R"(<listener address="127.0.0.1" port="0"/>)";
  std::string acknowledgement;
  std::string adapter = R"(<adapter name="england_adt"/>)";
  std::string mapping = std::string(CPIS_SOURCE_DIR) + "/mappings/england-adt.xml";
  std::string check = R"(alerts="ZSEG")";  // the <check> element's attributes
  std::string cpisAttributes = R"(timeoutMs="3000" retries="0")";  // the <cpis> element's, after backend
  std::string feedAttributes;                                      // the <feed> element's, after its name

  std::string xml() const {
    return R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="store.db"/></store>
  )" + limits +
           R"(
  <logging format="json" level="information"/>
  <cpis backend="SIMULATOR" )" +
           cpisAttributes + R"(>
    <endpoint>)" +
           endpoint + R"(</endpoint>
    <schemaFolder>)" +
           cpis::test::spineSchemaFolder().string() + R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
    )" + cpisExtra +
           R"(
  </cpis>
  )" + notify +
           R"(
  <feed name="ed" )" +
           feedAttributes + R"(>
    <expectedSender application="EDSYS" facility="RZZ"/>
    )" + listener +
           R"(
    )" + acknowledgement +
           R"(
    )" + adapter +
           R"(
    <mapping file=")" +
           mapping + R"("/>
    <check )" +
           check + R"(>
      <author odsCode="RZZ01" organisation="Example General Hospital" person="Lee SAFEGUARD"
              jobRoleCode="R8003" jobRoleName="Health Professional Access Role"/>
    </check>
  </feed>
</cpisEngine>
)";
  }
};

// A simulator of a test's own (faults that would disturb the suite's shared one), started.
struct OwnSimulator {
  OwnSimulator() {
    BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                       "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string());
    schemas = std::make_unique<cpis::cpis::SpineSchemas>(cpis::test::spineSchemaFolder());
    simulator = std::make_unique<cpis::sim::SpineSimulator>(cpis::sim::SimulatorSettings{}, *schemas,
                                                            cpis::sim::Dataset::load(cpis::test::simulatorDataset()));
    simulator->start();
  }
  ~OwnSimulator() { simulator->stop(); }
  cpis::sim::SimulatorState& state() { return simulator->state(); }
  // CP-IS answers every query, `delay` late.
  void answerLate(std::chrono::milliseconds delay) {
    cpis::sim::Fault slow;
    slow.kind = cpis::sim::Fault::Kind::Delay;
    slow.delay = delay;
    state().setFault("*", slow);
  }

  cpis::config::XercesPlatform xerces;
  std::unique_ptr<cpis::cpis::SpineSchemas> schemas;
  std::unique_ptr<cpis::sim::SpineSimulator> simulator;
};

// An EPR's own MLLP listener (where the return connection goes): what it received, each
// frame acknowledged.
class EprListener final : public cpis::mllp::FrameHandler {
 public:
  std::string onFrame(std::string_view payload, const cpis::mllp::PeerInfo&) override {
    const std::lock_guard lock(mutex);
    received.emplace_back(payload);
    return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125||ACK|R1|P|2.4\rMSA|AA|" + field(std::string(payload), "MSH-10") +
           "\r";
  }
  std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return {}; }
  std::vector<std::string> all() {
    const std::lock_guard lock(mutex);
    return received;
  }
  std::mutex mutex;
  std::vector<std::string> received;
};

// The engine's store refuses every finish (the commit that records a message's outcome fails,
// as on a full disk) until allowFinishes(); the message's own insert still goes through.
void refuseFinishes(Poco::Data::Session& session) {
  session << "CREATE TRIGGER refuse_finish BEFORE UPDATE OF state ON message WHEN NEW.state <> 'received'"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      Poco::Data::Keywords::now;
}
void allowFinishes(Poco::Data::Session& session) {
  session << "DROP TRIGGER refuse_finish", Poco::Data::Keywords::now;
}

// A port nobody listens on (for now).
std::uint16_t unusedPort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

// An enhanced-mode feed whose EPR return listener is at `port`; `extra`: more attributes of
// <returnConnection>.
EngineConfig enhancedWithReturnAt(const std::string& endpoint, std::uint16_t port, const std::string& extra = {}) {
  EngineConfig settings;
  settings.endpoint = endpoint;
  settings.notify = R"(<notify pollMs="200" backoffMinMs="100" backoffMaxMs="300"/>)";
  settings.acknowledgement = R"(<acknowledgement mode="enhanced"><returnConnection host="127.0.0.1" port=")" +
                             std::to_string(port) + "\" " + extra + R"(/></acknowledgement>)";
  return settings;
}

// An enhanced-mode feed whose EPR return listener is down (a port nobody listens on): the
// application ACKs wait in the outbox.
EngineConfig enhancedWithReturnDown(const std::string& endpoint) {
  return enhancedWithReturnAt(endpoint, unusedPort());
}

// `message` (from adt()) asking for both acknowledgements (MSH-15/16 AL).
std::string askingForEnhancedMode(std::string message) {
  message.replace(message.find("|2.4|||||GBR|"), 13, "|2.4|||AL|AL|GBR|");
  return message;
}

// A resend while its original is being checked (the EPR gave up waiting and sent it again, or
// sent it on a second connection): it waits for that check and gets its ACK, byte for byte, as a
// resend of a finished message does. It used to get AR 207 at once, with NOT_CHECKED
// MESSAGE_REJECTED "check CP-IS by hand", while the check it repeated found a plan. One query.
// `connect` opens a connection to the engine's feed; `log` is what the engine has logged so far.
void resendWhileItsOriginalIsChecked(cpis::sim::SimulatorState& state,
                                     const std::function<std::unique_ptr<MllpClient>()>& connect,
                                     const std::function<std::string()>& log, const std::string& controlId) {
  cpis::sim::Fault slow;  // Spine takes a second: the resend arrives while the check waits for it
  slow.kind = cpis::sim::Fault::Kind::Delay;
  slow.delay = 1s;
  slow.times = 1;
  const auto before = state.stats();
  state.setFault("9990000476", slow);
  const std::string message = adt(controlId, "V" + controlId, {"9990000476"});
  const auto first = connect();
  first->send(message);
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return state.stats().faults == before.faults + 1; }, 10s));
  const auto second = connect();
  second->send(message);
  const std::string resent = second->receive(15s).value_or("<no ACK>");
  const std::string original = first->receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(original, "MSA-1") == "AA");
  BOOST_TEST(field(original, "ZCP-2") == "FOUND");
  BOOST_TEST(resent == original);
  BOOST_TEST(state.stats().queries == before.queries + 1);
  // It waited for the check (not answered from the store once the check had ended).
  BOOST_TEST(
      cpis::test::waitFor(
          [&] { return log().find("which is being checked: it gets that check's ACK") != std::string::npos; },
          10s),
      log());
}

// One simulator and one engine for the whole suite: cases use different children and visits.
struct PipelineFixture {
  PipelineFixture() {
    BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                       "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string()
                                                                    << " (or set CPIS_SPINE_SCHEMAS)");
    schemas = std::make_unique<cpis::cpis::SpineSchemas>(cpis::test::spineSchemaFolder());
    simulator = std::make_unique<cpis::sim::SpineSimulator>(
        cpis::sim::SimulatorSettings{}, *schemas,
        cpis::sim::Dataset::load(cpis::test::simulatorDataset()));
    simulator->start();
    const std::string config = f.dir.file("pipeline.xml");
    EngineConfig settings;
    settings.endpoint = simulator->queryUrl();
    std::ofstream(config) << settings.xml();
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
  BOOST_TEST(field(invalid, "ZCP-13") == "9990000019");  // as sent: the EPR sees the typo
  BOOST_TEST(field(invalid, "ZCP-13.4") == "NHS");
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
  // ZCP-13 still names the number PID-3 held (CPIS.md §5: empty only with NO_NHS_NUMBER), so the
  // EPR can confirm whose message was refused. It used to be empty: the mapping's refusal
  // dropped what it had read.
  BOOST_TEST(field(refused, "ZCP-13.1") == "9990000018");

  BOOST_TEST(engine->terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 11u);
  for (std::size_t i = 0; i < 10; ++i) BOOST_TEST(stored[i].second == "processed", stored[i].first);
  BOOST_TEST(stored[10].second == "failed");
  // Patient data stays out of the log.
  const std::string logs = engine->errors() + engine->output();
  for (const char* phi : {"9990000018", "TESTCHILD", "20150403"}) BOOST_TEST(logs.find(phi) == std::string::npos, phi);
  // A NOT_CHECKED is in the log as a check's outcome is (codes only).
  BOOST_TEST(logs.find("accepted ADT^A04; CP-IS NOT_CHECKED AGE_OUT_OF_SCOPE") != std::string::npos, logs);
  BOOST_TEST(logs.find("accepted ADT^A04; CP-IS NOT_CHECKED NHS_NUMBER_INVALID") != std::string::npos, logs);
  // Deferred checks on, no return connection, no sink: the start said a late result reaches nobody.
  BOOST_TEST(logs.find("feed ed: a deferred check's result reaches nobody: the feed has no <returnConnection>") !=
                 std::string::npos,
             logs);
}

// An attendance's later messages: an update repeats the attendance's real check, even after a
// message in between was not checked (an unverified number for a moment, a discharge).
BOOST_AUTO_TEST_CASE(an_update_repeats_the_real_check_not_a_skipped_one_in_between) {
  auto& state = simulator->state();
  const Patient child{"9990000034"};
  const auto first = send(adt("R1", "VR", child));
  BOOST_TEST_REQUIRE(field(first, "ZCP-2") == "FOUND");
  const auto accesses = state.accesses(nhs("9990000034")).size();

  Patient untraced = child;
  untraced.traceStatus = "NSTS02";
  BOOST_TEST(field(send(adt("R2", "VR", untraced, "A08")), "ZCP-3.1") == "NHS_NUMBER_UNVERIFIED");
  const auto traced = send(adt("R3", "VR", child, "A08"));
  BOOST_TEST(field(traced, "ZCP-2") == "FOUND");
  BOOST_TEST(field(traced, "ZCP-15") == field(first, "ZCP-15"));  // the same check, shown again
  Patient partial = child;  // an A08 that leaves PID-32 out: the plan's alert stays on screen
  partial.traceStatus.clear();
  const auto partialUpdate = send(adt("R3B", "VR", partial, "A08"));
  BOOST_TEST(field(partialUpdate, "ZCP-2") == "FOUND");
  BOOST_TEST(field(partialUpdate, "ZCP-15") == field(first, "ZCP-15"));

  // A discharge shows the attendance's check again (no query): an EPR that shows the latest
  // ACK's status does not turn the plan's FOUND into NOT_CHECKED as the child leaves.
  const auto discharged = send(adt("R4", "VR", child, "A03"));
  BOOST_TEST(field(discharged, "ZCP-2") == "FOUND");
  BOOST_TEST(field(discharged, "ZCP-15") == field(first, "ZCP-15"));
  // A discharge of a visit never checked says what it is.
  BOOST_TEST(field(send(adt("R4B", "VR-OTHER", child, "A03")), "ZCP-3.1") == "NOT_AN_ATTENDANCE");
  const auto updated = send(adt("R5", "VR", child, "A08"));
  BOOST_TEST(field(updated, "ZCP-2") == "FOUND");
  BOOST_TEST(field(updated, "ZCP-15") == field(first, "ZCP-15"));
  BOOST_TEST(state.accesses(nhs("9990000034")).size() == accesses);  // CP-IS was not asked again

  // A discharge of an attendance cancelled since its check (booked in error) shows no plan.
  BOOST_TEST(field(send(adt("R7", "VR-C", child)), "ZCP-2") == "FOUND");
  BOOST_TEST(field(send(adt("R8", "VR-C", child, "A11")), "ZCP-3.1") == "NOT_AN_ATTENDANCE");
  BOOST_TEST(field(send(adt("R9", "VR-C", child, "A03")), "ZCP-2") == "NOT_CHECKED");

  // A message about the person, not an attendance: not checked, and ZCP-13 names the number the
  // EPR sent, so it can confirm the patient (empty only when there is none).
  const auto person = send(adt("R6", "VR", child, "A31"));
  BOOST_TEST(field(person, "ZCP-3.1") == "NOT_AN_ATTENDANCE");
  BOOST_TEST(field(person, "ZCP-13.1") == "9990000034");
  BOOST_TEST(field(person, "ZCP-13.4") == "NHS");
}

// An ADT refused for a missing field (AE), corrected at the EPR and sent again under the same
// MSH-10, as an interface engine reprocesses an error: checked, with its own alerts. It used to
// get AR 205 ("MSH-10 is another message's"), and the child was never checked. The refused
// bytes sent again still get their AE back, with no second refusal stored.
BOOST_AUTO_TEST_CASE(a_corrected_message_sent_again_under_its_msh10_is_checked) {
  const auto refused = send(adt("FIX1", "", {"9990000018"}));
  BOOST_TEST(field(refused, "MSA-1") == "AE");
  BOOST_TEST(send(adt("FIX1", "", {"9990000018"})) == refused);
  const auto accesses = simulator->state().accesses(nhs("9990000018")).size();
  const auto corrected = send(adt("FIX1", "VFIX1", {"9990000018"}));
  BOOST_TEST(field(corrected, "MSA-1") == "AA", corrected);
  BOOST_TEST(field(corrected, "MSA-2") == "FIX1");
  BOOST_TEST(field(corrected, "ZCP-2") == "FOUND");
  BOOST_TEST(simulator->state().accesses(nhs("9990000018")).size() == accesses + 1);
  BOOST_TEST(engine->terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 2u);
  BOOST_TEST(stored[0].second == "failed");
  BOOST_TEST(stored[1].second == "processed");
}

// Two patients in one attendance message (two PID segments: messages run together, an EPR's
// bug): refused with AE at the second PID, not checked, rather than a guess at which child is
// meant (hazard H1). It used to check the first, with nothing said.
BOOST_AUTO_TEST_CASE(an_attendance_message_with_two_patients_is_refused) {
  std::string twoPatients = adt("TWO1", "VTWO1", {"9990000387"});
  const std::string second = adt("TWO1", "VTWO1", {"9990000018"});
  const auto pid = second.find("PID|");
  twoPatients.insert(twoPatients.find("PV1|"), second.substr(pid, second.find('\r', pid) + 1 - pid));
  const auto queries = simulator->state().stats().queries;
  const auto refused = send(twoPatients);
  BOOST_TEST(field(refused, "MSA-1") == "AE", refused);
  BOOST_TEST(field(refused, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(refused, "ZCP-3.1") == "MESSAGE_REJECTED");
  BOOST_TEST(field(refused, "ERR-1.1") == "PID");
  BOOST_TEST(field(refused, "ERR-1.2") == "2");
  BOOST_TEST(field(refused, "MSA-3").find("2 PID segments") != std::string::npos, field(refused, "MSA-3"));
  BOOST_TEST(field(refused, "ZCP-13") == "");  // neither patient's number: which is meant is unknown
  BOOST_TEST(simulator->state().stats().queries == queries);
}

// A checked message whose outcome could not be stored (the commit that finishes it failed): its
// sender is asked to send it again. The resend is a duplicate of an original with no ACK: it
// retries that finish (the check is not made again), and gets the check's alerts. Before, every
// resend was told "not finished, send it again later" until the engine restarted. Spine holds
// the query until the engine's time-out (3 s), so the message's own commit is long done by then
// and only the finishing one fails.
BOOST_AUTO_TEST_CASE(a_resend_finishes_a_message_whose_outcome_was_not_stored) {
  auto& state = simulator->state();
  const Patient child{"9990000034"};
  cpis::sim::Fault held;
  held.kind = cpis::sim::Fault::Kind::Timeout;
  held.delay = 10s;
  held.times = 1;
  state.setFault("9990000034", held);
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", f.storePath());
  refuseFinishes(session);
  const auto refused = send(adt("L1", "VL", child));
  BOOST_TEST(field(refused, "MSA-1") == "AR");
  BOOST_TEST(field(refused, "ERR-1.4.1") == "207");
  BOOST_TEST(field(refused, "ZCP-2") == "NOT_CHECKED");  // never "no information"
  BOOST_TEST(field(refused, "ZCP-3.1") == "MESSAGE_REJECTED");

  BOOST_TEST(field(send(adt("L1", "VL", child)), "MSA-1") == "AR");  // the store still refuses
  allowFinishes(session);
  const auto resent = send(adt("L1", "VL", child));
  BOOST_TEST(field(resent, "MSA-1") == "AA");
  BOOST_TEST(field(resent, "MSA-2") == "L1");
  BOOST_TEST(field(resent, "ZCP-2") == "CHECK_FAILED");  // what the check found, shown at last
  BOOST_TEST(field(resent, "ZCP-3.1") == "TIMEOUT");
  BOOST_TEST(state.stats().queries == 1u);                // and CP-IS was asked once
  BOOST_TEST(send(adt("L1", "VL", child)) == resent);    // finished: answered from the store

  BOOST_TEST(engine->terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].second == "processed");
}

BOOST_AUTO_TEST_CASE(a_resend_while_its_original_is_checked_gets_that_check_s_ack) {
  resendWhileItsOriginalIsChecked(
      simulator->state(), [&] { return std::make_unique<MllpClient>("127.0.0.1", engine->port("ed"), 10s); },
      [&] { return engine->errors(); }, "RW1");
}

// The same on a TLS listener, whose connections each have a thread that waits (not the event loops).
BOOST_AUTO_TEST_CASE(a_resend_while_its_original_is_checked_gets_that_check_s_ack_over_tls) {
  const cpis::test::TestPki pki;
  EngineFixture own;
  const std::string config = own.dir.file("tls.xml");
  EngineConfig settings;
  settings.endpoint = simulator->queryUrl();
  settings.listener = R"(<listener address="127.0.0.1" port="0"><tls><certificateFile>)" +
                      pki.serverCertificate() + "</certificateFile><privateKeyFile>" + pki.serverKey() +
                      "</privateKeyFile></tls></listener>";
  std::ofstream(config) << settings.xml();
  EngineProcess tlsEngine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(tlsEngine.waitReady(), tlsEngine.errors());
  cpis::mllp::ClientTls tls;
  tls.caFile = pki.caCertificate();
  resendWhileItsOriginalIsChecked(
      simulator->state(),
      [&] { return std::make_unique<MllpClient>("127.0.0.1", tlsEngine.port("ed"), 10s, tls); },
      [&] { return tlsEngine.errors(); }, "RW2");
  BOOST_TEST(tlsEngine.terminate() == 0);
}

// Hazard H1: an EPR whose MSH-10 counter was reset sends another child's attendance under a
// control id already stored. It is not a resend: never answered with the first child's ACK
// (their plans, their NHS number), not stored, refused with AR 205 at MSH-10, and the log
// tells operations. The first message's true resend is still answered from the store.
BOOST_AUTO_TEST_CASE(another_message_under_a_stored_msh10_is_refused_not_answered_with_its_ack) {
  const auto first = send(adt("K1", "VK1", {"9990000018"}));
  BOOST_TEST(field(first, "ZCP-2") == "FOUND");
  const auto other = send(adt("K1", "VK2", {"9990000034"}));
  BOOST_TEST(field(other, "MSA-1") == "AR");
  BOOST_TEST(field(other, "MSA-2") == "K1");
  BOOST_TEST(field(other, "ERR-1.4.1") == "205");
  BOOST_TEST(field(other, "ERR-1.3") == "10");
  BOOST_TEST(field(other, "ZCP-2") == "NOT_CHECKED");  // never the other child's FOUND
  BOOST_TEST(other.find("9990000018") == std::string::npos, other);
  BOOST_TEST(send(adt("K1", "VK1", {"9990000018"})) == first);  // the true resend
  BOOST_TEST(engine->terminate() == 0);
  BOOST_TEST(f.storedMessages().size() == 1u);
  BOOST_TEST(engine->errors().find("OPS ALERT: feed ed: MSH-10 K1 is already the control id of a stored message") !=
                 std::string::npos,
             engine->errors());
}

// Hazard H4 behind a default rule: england-adt.xml's `otherwise` puts a location no row maps out
// of scope (SETTING_OUT_OF_SCOPE). That is the trust's choice, but a new ED point of care would
// fall to it unseen: the log warns, naming the location, on its 1st and 10th message (not each),
// and the stored outcome names it.
BOOST_AUTO_TEST_CASE(a_location_the_default_rule_puts_out_of_scope_is_reported) {
  Patient child{"9990000018"};
  child.location = "GYM^^^RZZ09";
  for (int i = 1; i <= 10; ++i) {
    const auto ack = send(adt("G" + std::to_string(i), "VG" + std::to_string(i), child));
    BOOST_TEST(field(ack, "MSA-1") == "AA");
    BOOST_TEST(field(ack, "ZCP-3.1") == "SETTING_OUT_OF_SCOPE");
  }
  // A message naming no point of care (PV1-3 empty; the site falls back to MSH-4) falls to the
  // default rule too, and is reported by the key it has: a feed to mend.
  Patient nowhere{"9990000018"};
  nowhere.location.clear();
  const auto unplaced = send(adt("N1", "VN1", nowhere));
  BOOST_TEST(field(unplaced, "ZCP-3.1") == "SETTING_OUT_OF_SCOPE");
  BOOST_TEST(engine->terminate() == 0);
  const std::string logs = engine->errors();
  const std::string warning = "feed ed: location RZZ09/GYM is not in the mapping's location table, and its default "
                              "rule puts it out of scope";
  BOOST_TEST(occurrences(logs, warning) == 2u, logs);  // the 1st message and the 10th
  BOOST_TEST(logs.find("(10 messages so far)") != std::string::npos, logs);
  BOOST_TEST(occurrences(logs, "feed ed: location RZZ/ is not in the mapping's location table") == 1u, logs);
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", f.storePath());
  for (const auto& [controlId, place] : {std::pair{"G1", " location RZZ09/GYM"}, std::pair{"N1", " location RZZ/"}}) {
    std::string outcome;
    session << "SELECT outcome FROM message WHERE control_id = ?", Poco::Data::Keywords::bind(std::string(controlId)),
        Poco::Data::Keywords::into(outcome), Poco::Data::Keywords::now;
    BOOST_TEST(outcome.find(place) != std::string::npos, outcome);
  }
}

// The mapping's warnings (an unreadable birth date, taken as absent) reach the ACK as an ERR
// whatever the outcome: a NOT_CHECKED attendance's ACK too, not only a checked one's.
BOOST_AUTO_TEST_CASE(a_mapping_warning_reaches_the_ack_of_an_attendance_not_checked) {
  Patient child{"9990000018"};
  child.birthDate = "2015XX03";
  child.location = "GYM^^^RZZ09";  // out of scope: not checked
  const auto ack = send(adt("W1", "VW1", child));
  BOOST_TEST(field(ack, "MSA-1") == "AA");
  BOOST_TEST(field(ack, "ZCP-3.1") == "SETTING_OUT_OF_SCOPE");
  BOOST_TEST(field(ack, "ERR-1.1") == "PID", ack);
  BOOST_TEST(field(ack, "ERR-1.3") == "7", ack);
}

// CPIS.md §8: a child's record with no birth date is checked anyway, and that is noted in the
// stored outcome (the decision knew, and the note went nowhere).
BOOST_AUTO_TEST_CASE(a_message_with_no_birth_date_is_checked_and_noted) {
  Patient child{"9990000018"};
  child.birthDate.clear();
  const auto ack = send(adt("B1", "VB", child));
  BOOST_TEST(field(ack, "MSA-1") == "AA");
  BOOST_TEST(field(ack, "ZCP-2") == "FOUND");
  BOOST_TEST(engine->terminate() == 0);
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", f.storePath());
  std::string outcome;
  session << "SELECT outcome FROM message WHERE control_id = 'B1'", Poco::Data::Keywords::into(outcome),
      Poco::Data::Keywords::now;
  BOOST_TEST(outcome.find("CP-IS FOUND") != std::string::npos, outcome);
  BOOST_TEST(outcome.find(" plans 1 records 1 ") != std::string::npos, outcome);  // plans, as the ACK counts
  BOOST_TEST(outcome.find("no birth date: checked anyway") != std::string::npos, outcome);
}

// CPIS.md §2: a pregnant woman is checked at any age, for her unborn child's plan. An ED whose EPR
// records only the expected delivery date (OBX 11778-8, no pregnancy status, PV1-2 E) has her
// checked; she used to be NOT_CHECKED AGE_OUT_OF_SCOPE, the plan unseen.
BOOST_AUTO_TEST_CASE(an_adult_with_an_expected_delivery_date_is_checked) {
  Patient mother{"9990000018"};
  mother.birthDate = "19950704";
  const auto adult = send(adt("P1", "VP1", mother));
  BOOST_TEST(field(adult, "ZCP-3.1") == "AGE_OUT_OF_SCOPE", adult);
  const auto expecting =
      send(adt("P2", "VP2", mother) + "OBX|1|DT|11778-8^Delivery date Estimated^LN||20270301||||||F\r");
  BOOST_TEST(field(expecting, "MSA-1") == "AA");
  BOOST_TEST(field(expecting, "ZCP-2") == "FOUND", expecting);
}

// This feed is configured for original mode and has no return connection: a message asking for
// enhanced mode (MSH-15/16) is answered in original mode, with its alerts, on the connection.
// Otherwise the CA would be all the EPR ever got, and the check's outcome would go nowhere.
BOOST_AUTO_TEST_CASE(enhanced_mode_asked_of_an_original_mode_feed_gets_the_alerts_at_once) {
  std::string message = adt("E1", "VE", {"9990000018"});
  const std::string header = "|P|2.4|||||GBR||EN||ITKv1.0\r";
  BOOST_TEST_REQUIRE(message.find(header) != std::string::npos);
  message.replace(message.find(header), header.size(), "|P|2.4|||AL|AL|GBR||EN||ITKv1.0\r");
  const auto ack = send(message);
  BOOST_TEST(field(ack, "MSA-1") == "AA");
  BOOST_TEST(field(ack, "ZCP-2") == "FOUND");
}

// A message too large for the feed is not stored: the AR still carries the NOT_CHECKED alert
// every ACK to an ADT carries (CPIS.md §5), so the EPR shows that no check was made.
BOOST_AUTO_TEST_CASE(an_oversized_adt_gets_its_rejection_with_a_not_checked_alert) {
  std::string message = adt("O1", "VO", {"9990000018"});
  message += "NTE|1||" + std::string(1100 * 1024, 'x') + "\r";
  const auto ack = send(message);
  BOOST_TEST(field(ack, "MSA-1") == "AR");
  BOOST_TEST(field(ack, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(ack, "ZCP-3.1") == "MESSAGE_REJECTED");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(attendance_events)

// CPIS.md §4: ED → paediatric ward makes no new query. An EPR that says so with an A01 on the
// ED attendance's visit gets the A04's outcome again; a start on that visit after its A03 is a
// new attendance and is checked. With recheckWindowMinutes="0", so that only the attendance's
// state decides (it used to query again for every start once the window had passed).
BOOST_AUTO_TEST_CASE(an_admission_from_ed_repeats_the_check_and_a_start_after_discharge_queries) {
  OwnSimulator own;
  auto& state = own.simulator->state();
  EngineFixture f;
  const std::string config = f.dir.file("admitted.xml");
  EngineConfig settings;
  settings.endpoint = own.simulator->queryUrl();
  settings.check = R"(alerts="ZSEG" recheckWindowMinutes="0")";
  std::ofstream(config) << settings.xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const auto send = [&](const std::string& message) {
    client.send(message);
    return client.receive(15s).value_or("<no ACK>");
  };

  const std::string arrival = send(adt("W1", "VW1", {"9990000018"}));
  BOOST_TEST(field(arrival, "ZCP-2") == "FOUND");
  const auto queries = state.stats().queries;
  Patient admitted{"9990000018"};
  admitted.location = "WARD7^^^RZZ01";
  admitted.patientClass = "I";
  const std::string ward = send(adt("W2", "VW1", admitted, "A01"));
  BOOST_TEST(field(ward, "ZCP-2") == "FOUND");
  BOOST_TEST(field(ward, "ZCP-15") == field(arrival, "ZCP-15"));  // the same check, shown again
  BOOST_TEST(state.stats().queries == queries);
  // A transfer to a location out of scope (radiology, under the mapping's otherwise rule) and an
  // update naming no location: the same check again, no query (CPIS.md §4). Both used to answer
  // NOT_CHECKED SETTING_OUT_OF_SCOPE, which took the plan's alert off the EPR's screen.
  Patient xray = admitted;
  xray.location = "XRAY^^^RZZ01";
  xray.service = "812";  // diagnostic imaging: out of scope
  const std::string moved = send(adt("W2A", "VW1", xray, "A02"));
  BOOST_TEST(field(moved, "ZCP-2") == "FOUND", moved);
  BOOST_TEST(field(moved, "ZCP-15") == field(arrival, "ZCP-15"));
  Patient nowhere = admitted;
  nowhere.location = "";
  const std::string update = send(adt("W2B", "VW1", nowhere, "A08"));
  BOOST_TEST(field(update, "ZCP-2") == "FOUND", update);
  BOOST_TEST(field(update, "ZCP-15") == field(arrival, "ZCP-15"));
  BOOST_TEST(state.stats().queries == queries);

  BOOST_TEST(field(send(adt("W3", "VW1", admitted, "A03")), "ZCP-15") == field(arrival, "ZCP-15"));
  // The A01 resent (its MSH-10 again): answered from the store, and nothing else. (It used to
  // count as a start all the same, reopening the attendance, and the start below was not checked.)
  BOOST_TEST(send(adt("W2", "VW1", admitted, "A01")) == ward);
  const std::string again = send(adt("W4", "VW1", {"9990000018"}));
  BOOST_TEST(field(again, "ZCP-2") == "FOUND");
  BOOST_TEST(field(again, "ZCP-15") != field(arrival, "ZCP-15"));
  BOOST_TEST(state.stats().queries == queries + 1);
  BOOST_TEST(engine.terminate() == 0);
}

// CPIS.md §7: one successful unscheduled query per attendance, a restart in between or not.
// The decision's memory and the last outcomes are kept in the store (MemoryJournal): after a
// stop, and after a kill once the memory's rows were written (with the next commit), an update of an
// attendance checked before repeats that check and CP-IS is not asked again (before, each
// restart made a second query: a second access record, the local authority told twice).
BOOST_AUTO_TEST_CASE(a_restart_remembers_which_attendances_were_checked) {
  OwnSimulator own;
  auto& state = own.simulator->state();
  EngineFixture f;
  const std::string config = f.dir.file("restart.xml");
  EngineConfig settings;
  settings.endpoint = own.simulator->queryUrl();
  std::ofstream(config) << settings.xml();
  const auto sendTo = [](EngineProcess& engine, const std::string& message) {
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(message);
    return client.receive(15s).value_or("<no ACK>");
  };
  std::string arrival;
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    arrival = sendTo(engine, adt("K1", "VK1", {"9990000018"}));
    BOOST_TEST_REQUIRE(field(arrival, "ZCP-2") == "FOUND");
    BOOST_TEST(engine.terminate() == 0);
  }
  const auto queries = state.stats().queries;
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    // Standard error is read on a thread of its own: "ready" on standard output may come first.
    BOOST_TEST(cpis::test::waitFor([&] {
      return engine.errors().find("restored from the store: 1 attendances' checks, 1 outcomes") != std::string::npos;
    }),
               engine.errors());
    const auto update = sendTo(engine, adt("K2", "VK1", {"9990000018"}, "A08"));
    BOOST_TEST(field(update, "ZCP-2") == "FOUND");
    BOOST_TEST(field(update, "ZCP-15") == field(arrival, "ZCP-15"));  // the same check, shown again
    BOOST_TEST(state.stats().queries == queries);
    // A second attendance, then a kill once its memory is in the store.
    BOOST_TEST_REQUIRE(field(sendTo(engine, adt("K3", "VK2", {"9990001006"})), "ZCP-2") == "NOT_FOUND");
    Poco::Data::SQLite::Connector::registerConnector();
    BOOST_TEST_REQUIRE(cpis::test::waitFor([&] {
      Poco::Data::Session session("SQLite", f.storePath());
      int rows = 0;
      session << "SELECT count(*) FROM attendance_memory WHERE CAST(key AS TEXT) = 'VK2'", Poco::Data::Keywords::into(rows),
          Poco::Data::Keywords::now;
      return rows == 2;
    }));
    engine.kill();
  }
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  BOOST_TEST(field(sendTo(engine, adt("K4", "VK2", {"9990001006"}, "A08")), "ZCP-2") == "NOT_FOUND");
  BOOST_TEST(field(sendTo(engine, adt("K5", "VK1", {"9990000018"}, "A08")), "ZCP-2") == "FOUND");
  BOOST_TEST(state.stats().queries == queries + 1);  // VK2's arrival alone
  BOOST_TEST(engine.terminate() == 0);
  // The log says what was restored in counts: no NHS number in it.
  BOOST_TEST(engine.errors().find("9990000018") == std::string::npos);
  // Start-up names the adapter's build and the library it was loaded from.
  BOOST_TEST(engine.errors().find(", adapter england_adt 1.0.0 (/") != std::string::npos, engine.errors());
  BOOST_TEST(engine.errors().find("libcpis-adapter-england_adt.so), alerts ZSEG") != std::string::npos,
             engine.errors());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(deferred_check)

// CPIS.md §8: the ACK goes back by the feed's ackDeadlineMs, counted from the message's arrival.
// With one query slot and CP-IS slow, the second child's check waits behind the first; once a
// whole query (3 s) no longer fits before its 3.2 s deadline it is not sent, and the ACK says
// CHECK_FAILED / TIMEOUT (deferred) while the sender still waits, instead of coming after it
// gave up.
BOOST_AUTO_TEST_CASE(the_ack_goes_back_by_the_feed_deadline_when_its_check_waited) {
  OwnSimulator own;
  auto& state = own.simulator->state();
  own.answerLate(2500ms);
  EngineFixture f;
  const std::string config = f.dir.file("deadline.xml");
  EngineConfig settings;
  settings.endpoint = own.simulator->queryUrl();
  settings.check = R"(alerts="ZSEG" ackDeadlineMs="3200")";
  settings.cpisAttributes += R"( maxConcurrent="1")";
  std::ofstream(config) << settings.xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient first("127.0.0.1", engine.port("ed"), 10s);
  MllpClient second("127.0.0.1", engine.port("ed"), 10s);
  first.send(adt("T1", "VT1", {"9990000018"}));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return state.stats().queries == 1u; }));  // it holds the slot
  const auto sent = std::chrono::steady_clock::now();
  second.send(adt("T2", "VT2", {"9990000034"}));
  const std::string late = second.receive(15s).value_or("<no ACK>");
  const auto took = std::chrono::steady_clock::now() - sent;
  BOOST_TEST(field(late, "MSA-1") == "AA");
  BOOST_TEST(field(late, "ZCP-2") == "CHECK_FAILED", late);
  BOOST_TEST(field(late, "ZCP-3.1") == "TIMEOUT", field(late, "ZCP-3"));
  // Well before the 3.2 s deadline, not 2.5 s of waiting plus a 2.5 s lookup.
  BOOST_TEST(took < 4800ms, std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  BOOST_TEST(field(first.receive(15s).value_or("<no ACK>"), "ZCP-2") == "FOUND");  // the first was in time
  BOOST_TEST(engine.terminate() == 0);
}

// One visit's checks run one at a time, and a check waiting for its visit's turn holds no
// cpis-check thread: with two threads and CP-IS slow, an update sent while its start is being
// checked is parked, and another child's check runs meanwhile instead of queueing behind both.
BOOST_AUTO_TEST_CASE(a_check_waiting_for_its_visit_leaves_its_thread_to_another_child) {
  OwnSimulator own;
  auto& state = own.simulator->state();
  own.answerLate(1500ms);
  EngineFixture f;
  const std::string config = f.dir.file("turns.xml");
  EngineConfig settings;
  settings.endpoint = own.simulator->queryUrl();
  settings.cpisAttributes += R"( maxConcurrent="2")";
  std::ofstream(config) << settings.xml();
  const auto queries = state.stats().queries;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient start("127.0.0.1", engine.port("ed"), 10s);
  MllpClient update("127.0.0.1", engine.port("ed"), 10s);
  MllpClient other("127.0.0.1", engine.port("ed"), 10s);
  start.send(adt("U1", "VU1", {"9990000018"}));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return state.stats().queries == queries + 1; }));
  update.send(adt("U2", "VU1", {"9990000018"}, "A08"));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] {  // stored, and its check on the second thread, parked
    const auto stored = f.storedMessages();
    return stored.size() == 2u;
  }));
  const auto sent = std::chrono::steady_clock::now();
  other.send(adt("U3", "VU2", {"9990000034"}));
  const std::string otherAck = other.receive(15s).value_or("<no ACK>");
  const auto took = std::chrono::steady_clock::now() - sent;
  BOOST_TEST(field(otherAck, "ZCP-2") == "FOUND", otherAck);
  // Its own 1.5 s lookup, not that plus the rest of the start's (which held the other thread).
  BOOST_TEST(took < 2600ms, std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  const std::string startAck = start.receive(15s).value_or("<no ACK>");
  const std::string updateAck = update.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(startAck, "ZCP-2") == "FOUND");
  BOOST_TEST(field(updateAck, "ZCP-2") == "FOUND");
  BOOST_TEST(field(updateAck, "ZCP-15") == field(startAck, "ZCP-15"));  // the start's check, repeated
  BOOST_TEST(state.stats().queries == queries + 2);  // the start and the other child: the update made none
  BOOST_TEST(engine.terminate() == 0);
}

// Spine failing (HTTP 500) for one child, and the EPR's listener for the feed's return
// connection: an engine configured by settings() retries failed checks in the background
// (deferredCheckHours 1, backing off between `backoffMin` and `backoffMax`) and sends their late
// results back to `epr`.
struct SpineDownWithReturn {
  explicit SpineDownWithReturn(const std::string& failing) {
    cpis::sim::Fault down;
    down.kind = cpis::sim::Fault::Kind::Http500;
    state.setFault(failing, down);
    eprServer.start();
  }
  ~SpineDownWithReturn() { eprServer.stop(); }
  EngineConfig settings(std::chrono::milliseconds backoffMin, std::chrono::milliseconds backoffMax) const {
    EngineConfig settings;
    settings.endpoint = own.simulator->queryUrl();
    settings.cpisExtra = R"(<circuitBreaker failureThreshold="1000" openMs="1000"/>)";
    settings.notify = R"(<notify pollMs="200" backoffMinMs=")" + std::to_string(backoffMin.count()) +
                      R"(" backoffMaxMs=")" + std::to_string(backoffMax.count()) +
                      R"(" deferredCheckHours="1"/>)";
    settings.acknowledgement =
        R"(<acknowledgement mode="original"><returnConnection host="127.0.0.1" port=")" +
        std::to_string(eprServer.port()) + R"("/></acknowledgement>)";
    return settings;
  }
  OwnSimulator own;
  cpis::sim::SimulatorState& state = own.simulator->state();
  EprListener epr;
  cpis::mllp::MllpServer eprServer{cpis::mllp::ListenerSettings{}, epr};
};

// Spine is down when the child arrives: the ACK says CHECK_FAILED (not a negative result,
// retry in progress); once Spine is back the engine's deferred check makes the unscheduled
// query (the local authority is told), and the EPR gets the result unsolicited, as an ORU^R01
// with the alert segments over the feed's return connection.
BOOST_AUTO_TEST_CASE(spine_down_at_arrival_is_checked_later_and_the_epr_gets_the_late_result) {
  SpineDownWithReturn down("9990000018");
  auto& state = down.state;
  EprListener& epr = down.epr;
  EngineFixture f;
  const std::string config = f.dir.file("deferred.xml");
  std::ofstream(config) << down.settings(100ms, 300ms).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t mailboxBefore = state.notifications("XLA01").size();

  client.send(adt("D1", "VD1", {"9990000018"}));
  const std::string ack = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(ack, "MSA-1") == "AA");
  BOOST_TEST(field(ack, "ZCP-2") == "CHECK_FAILED");
  BOOST_TEST(field(ack, "ZCP-19").find("NOT a negative result") != std::string::npos);
  BOOST_TEST(field(ack, "ZCP-19").find("Automatic retry in progress") != std::string::npos, field(ack, "ZCP-19"));
  BOOST_TEST(state.notifications("XLA01").size() == mailboxBefore);  // Spine never saw the query

  // The child sent to X-ray (out of scope) while the re-check waits: the failure is shown again,
  // "check CP-IS by hand", not NOT_CHECKED SETTING_OUT_OF_SCOPE (which reads as nothing to do).
  Patient xray{"9990000018"};
  xray.location = "XRAY^^^RZZ01";
  xray.service = "812";  // diagnostic imaging: out of scope
  client.send(adt("D1X", "VD1", xray, "A02"));
  const std::string moved = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(moved, "ZCP-2") == "CHECK_FAILED", moved);
  BOOST_TEST(field(moved, "ZCP-15") == field(ack, "ZCP-15"));

  // Spine comes back: the deferred check makes the unscheduled query, and the LA is told.
  state.clearFault("9990000018");
  BOOST_TEST(cpis::test::waitFor([&] { return state.notifications("XLA01").size() == mailboxBefore + 1; }, 20s));
  // The EPR gets the result it could not have in the ACK.
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return !epr.all().empty(); }, 20s));
  const std::string oru = epr.all().front();
  BOOST_TEST(field(oru, "MSH-9") == "ORU");
  BOOST_TEST(field(oru, "MSH-9.2") == "R01");
  BOOST_TEST(field(oru, "MSH-5") == "EDSYS");
  BOOST_TEST(field(oru, "MSH-10").rfind("L", 0) == 0u);
  BOOST_TEST(field(oru, "PID-3") == "9990000018");
  BOOST_TEST(field(oru, "PV1-19") == "VD1");
  BOOST_TEST(field(oru, "ZCP-2") == "FOUND");
  BOOST_TEST(field(oru, "ZCP-4.1") == "CPPI");
  BOOST_TEST(field(oru, "ZCP-16") == "UNSCHEDULED");
  BOOST_TEST(field(oru, "ZCP-15.1") == field(ack, "ZCP-15.1"));  // the failed check, tried again
  BOOST_TEST(field(oru, "OBR-2") == "D1");                       // completing D1's failed check
  BOOST_TEST(field(oru, "OBR-3") == field(ack, "ZCP-15.1"));

  // The attendance's next update repeats the deferred check's answer, not the failure (it
  // showed CHECK_FAILED, and once the failure was no longer recent it queried CP-IS again).
  const auto queries = state.stats().queries;
  client.send(adt("D2", "VD1", {"9990000018"}, "A08"));
  const std::string update = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(update, "MSA-1") == "AA");
  BOOST_TEST(field(update, "ZCP-2") == "FOUND");
  BOOST_TEST(field(update, "ZCP-15.1") == field(oru, "ZCP-15.1"));
  BOOST_TEST(state.stats().queries == queries);

  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(epr.all().size() == 1u);  // delivered once: the ACK came back
  const std::string logs = engine.errors() + engine.output();
  BOOST_TEST(logs.find("reaches nobody") == std::string::npos, logs);  // it reached the EPR
  for (const char* phi : {"9990000018", "TESTCHILD", "20150403"})
    BOOST_TEST(logs.find(phi) == std::string::npos, phi);
}

// A failed check shown again once its deferred check was given up (dead at its deadline,
// check-abandoned: a person told) no longer says "Automatic retry in progress": moved out of
// scope and discharged, the child's alert still asks for the check by hand. It used to announce
// the retry for as long as the attendance lasted. (Here the deadline is moved into the past in
// the store while the engine is stopped; restarted, its dispatcher gives the check up.)
BOOST_AUTO_TEST_CASE(a_failure_shown_after_its_deferred_check_was_given_up_announces_no_retry) {
  SpineDownWithReturn down("9990000018");
  EngineFixture f;
  const std::string config = f.dir.file("given-up.xml");
  const auto configure = [&](std::chrono::milliseconds backoff) {
    std::ofstream(config) << down.settings(backoff, backoff).xml();
  };
  const auto sendTo = [](EngineProcess& engine, const std::string& message) {
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(message);
    return client.receive(15s).value_or("<no ACK>");
  };
  Patient xray{"9990000018"};
  xray.location = "XRAY^^^RZZ01";
  xray.service = "812";  // diagnostic imaging: out of scope
  std::string failed;
  configure(60s);  // the deferred check waits
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    failed = sendTo(engine, adt("H1", "VH1", {"9990000018"}));
    BOOST_TEST_REQUIRE(field(failed, "ZCP-2") == "CHECK_FAILED");
    BOOST_TEST(field(failed, "ZCP-19").find("Automatic retry in progress") != std::string::npos, failed);
    // While the deferred check waits, a move out of scope shows the failure with its retry.
    const std::string moved = sendTo(engine, adt("H2", "VH1", xray, "A02"));
    BOOST_TEST(field(moved, "ZCP-2") == "CHECK_FAILED", moved);
    BOOST_TEST(field(moved, "ZCP-19").find("Automatic retry in progress") != std::string::npos, moved);
    BOOST_TEST(engine.terminate() == 0);
  }
  Poco::Data::SQLite::Connector::registerConnector();
  const auto deferredState = [&] {
    Poco::Data::Session session("SQLite", f.storePath());
    std::string now;
    session << "SELECT state FROM outbox WHERE sink = 'cpis-recheck'", Poco::Data::Keywords::into(now),
        Poco::Data::Keywords::now;
    return now;
  };
  BOOST_TEST_REQUIRE(deferredState() == "pending");
  {  // Its deadline passes: due now, and out of time.
    Poco::Data::Session session("SQLite", f.storePath());
    session << "UPDATE outbox SET deadline = 1, next_attempt_at = 0 WHERE sink = 'cpis-recheck'",
        Poco::Data::Keywords::now;
  }
  configure(100ms);
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return deferredState() == "dead"; }, 20s), deferredState());
  xray.location = "XRAY2^^^RZZ01";
  const std::string later = sendTo(engine, adt("H3", "VH1", xray, "A02"));
  BOOST_TEST(field(later, "ZCP-2") == "CHECK_FAILED", later);
  BOOST_TEST(field(later, "ZCP-15") == field(failed, "ZCP-15"));
  BOOST_TEST(field(later, "ZCP-19").find("NOT a negative result - check CP-IS in NCRS") != std::string::npos,
             later);
  BOOST_TEST(field(later, "ZCP-19").find("Automatic retry") == std::string::npos, later);
  const std::string discharged = sendTo(engine, adt("H4", "VH1", xray, "A03"));
  BOOST_TEST(field(discharged, "ZCP-2") == "CHECK_FAILED", discharged);
  BOOST_TEST(field(discharged, "ZCP-19").find("Automatic retry") == std::string::npos, discharged);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(engine.errors().find("abandoned") != std::string::npos, engine.errors());
}

// CPIS.md §4: an A11 cancels the attendance, and a cancelled attendance makes no query. Its
// check had failed with Spine down; when Spine comes back the deferred check is withdrawn:
// no unscheduled query (no access recorded for an attendance that did not happen, the local
// authority not told). It used to be made all the same.
// An engine on a simulator of its own whose queries about `failing` fail (HTTP 500) until the
// case clears the fault, with deferred checks retried every 100-300 ms.
// `times`: the queries that fail before the fault vanishes (none: until cleared); `firstRetry`:
// when the deferred check first tries again (the notify backoff's minimum).
struct DeferredChecks {
  explicit DeferredChecks(const std::string& failing, std::optional<std::uint32_t> times = std::nullopt,
                          std::chrono::milliseconds firstRetry = 100ms,
                          cpis::sim::Fault::Kind how = cpis::sim::Fault::Kind::Http500,
                          const std::string& check = {}) {
    cpis::sim::Fault down;
    down.kind = how;
    down.times = times;
    state.setFault(failing, down);
    const std::string config = f.dir.file("deferred.xml");
    EngineConfig settings;
    settings.endpoint = own.simulator->queryUrl();
    settings.cpisExtra = R"(<circuitBreaker failureThreshold="1000" openMs="1000"/>)";
    if (!check.empty()) settings.check = check;
    const auto backoffMax = std::max(firstRetry, 300ms);
    settings.notify = R"(<notify pollMs="200" backoffMinMs=")" + std::to_string(firstRetry.count()) +
                      R"(" backoffMaxMs=")" + std::to_string(backoffMax.count()) + R"(" deferredCheckHours="1"/>)";
    std::ofstream(config) << settings.xml();
    engine = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
    BOOST_TEST_REQUIRE(engine->waitReady(), engine->errors());
  }
  OwnSimulator own;
  cpis::sim::SimulatorState& state = own.simulator->state();
  EngineFixture f;
  std::unique_ptr<EngineProcess> engine;
};

// The EPR corrects the patient on an attendance whose check failed (an A08 with another NHS
// number, checked on it): the failed number's deferred check is not made. It used to query the
// record of a child who is not there (an access recorded against that child, their local
// authority told of an attendance that was not theirs). Nor when the number corrected to is one
// the feed may not query (an unverified trace status): neither number is then queried, and the
// check goes to a person. Nor when the corrected number was only read silently (the attendance
// moved to a scheduled setting): that read recorded no access and told no local authority, so
// it does not take the deferred check's place either; a person checks, on that number.
BOOST_AUTO_TEST_CASE(a_deferred_check_is_not_made_once_the_attendance_was_checked_on_another_number) {
  DeferredChecks run("9990000018");
  auto& state = run.state;
  EngineProcess& engine = *run.engine;
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t accessesBefore = state.accesses(nhs("9990000018")).size();

  client.send(adt("E1", "VE1", {"9990000018"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  client.send(adt("E2", "VE1", {"9990000034"}, "A08"));
  const std::string corrected = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(corrected, "ZCP-2") == "FOUND");
  BOOST_TEST(field(corrected, "ZCP-13.1") == "9990000034");
  // Another visit, corrected to a number whose trace status is not verified: not checked, and
  // the failed number is not queried either: a person checks CP-IS by hand (dead-lettered).
  client.send(adt("E3", "VE2", {"9990000018"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  Patient unverified{"9990000026"};
  unverified.traceStatus = "NSTS02";
  client.send(adt("E4", "VE2", unverified, "A08"));
  const std::string notChecked = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(notChecked, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(notChecked, "ZCP-3.1") == "NHS_NUMBER_UNVERIFIED");
  // A third, corrected to a number read silently (a scheduled setting): no access recorded then.
  client.send(adt("E5", "VE3", {"9990000018"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  Patient camhs{"9990000034"};
  camhs.location = "CAMHS^^^RZZ01";
  camhs.patientClass = "O";
  const std::size_t correctedBefore = state.accesses(nhs("9990000034")).size();
  client.send(adt("E6", "VE3", camhs, "A02"));
  const std::string silent = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(silent, "ZCP-2") == "FOUND");
  BOOST_TEST(field(silent, "ZCP-16") == "SCHEDULED");
  BOOST_TEST(state.accesses(nhs("9990000034")).size() == correctedBefore);

  state.clearFault("9990000018");
  BOOST_TEST(cpis::test::waitFor(
                 [&] {
                   const std::string logs = engine.errors();
                   return logs.find("check on another NHS number since") != std::string::npos &&
                          logs.find("moved the attendance to another NHS number since the check failed") !=
                              std::string::npos &&
                          logs.find("that number was not checked") != std::string::npos &&
                          logs.find("that number was only read silently") != std::string::npos &&
                          occurrences(logs, "OPS ALERT: deferred check") >= 2;  // VE2's and VE3's
                 },
                 20s),
             engine.errors());
  BOOST_TEST(state.accesses(nhs("9990000034")).size() == correctedBefore);
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accessesBefore);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accessesBefore);
}

// CPIS.md §7, one access an attendance: the check fails in the emergency department, the child
// moves to CAMHS (a silent read: no access, so the deferred check is still owed), the deferred
// check makes the unscheduled query, and then the child is admitted to a paediatric ward. The
// ward repeats the deferred check's answer: before, the silent read stayed the attendance's
// check, the move back to an unscheduled setting queried again, and the local authority was
// told twice.
BOOST_AUTO_TEST_CASE(a_deferred_answer_after_a_silent_read_is_not_repeated_by_a_move_back) {
  DeferredChecks run("9990000018", 1u, 3000ms);  // the first query fails; its re-check after 3 s
  auto& state = run.state;
  EngineProcess& engine = *run.engine;
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t mailboxBefore = state.notifications("XLA01").size();
  const auto queriesBefore = state.stats().queries;

  client.send(adt("S1", "VS1", {"9990000018"}));
  BOOST_TEST_REQUIRE(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  const auto at = [](const char* location, const char* patientClass) {
    Patient p{"9990000018"};
    p.location = location;
    p.patientClass = patientClass;
    return p;
  };
  client.send(adt("S2", "VS1", at("CAMHS^^^RZZ01", "O"), "A02"));
  const std::string read = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(read, "ZCP-2") == "FOUND");
  BOOST_TEST(field(read, "ZCP-16") == "SCHEDULED");
  BOOST_TEST_REQUIRE(state.notifications("XLA01").size() == mailboxBefore);  // read silently; re-check not yet made
  // The deferred check: the unscheduled query, the local authority told.
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return state.notifications("XLA01").size() == mailboxBefore + 1; }, 20s));
  BOOST_TEST_REQUIRE(
      cpis::test::waitFor([&] { return engine.errors().find("): FOUND") != std::string::npos; }, 10s),
      engine.errors());  // the deferred check's answer, recorded
  const auto queriesAfterRecheck = state.stats().queries;
  BOOST_TEST(queriesAfterRecheck > queriesBefore);
  client.send(adt("S3", "VS1", at("WARD7^^^RZZ01", "I"), "A02"));
  const std::string admitted = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(admitted, "ZCP-2") == "FOUND");
  BOOST_TEST(field(admitted, "ZCP-16") == "UNSCHEDULED");
  BOOST_TEST(state.stats().queries == queriesAfterRecheck);  // repeated, not queried again
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(state.notifications("XLA01").size() == mailboxBefore + 1);
}

// A message offered for its check before its own write committed (the store's early path), whose
// write and finish then both fail (a full disk; here a trigger): the sender is asked to send it
// again, and the resend, a new message to the store, repeats the check from the attendance
// memory. It writes what the check causes, which nothing had written: the deferred re-check of
// the failure, so that the local authority still hears of the attendance once Spine answers.
// Before, the resend said "automatic retry in progress" and no retry was ever queued.
BOOST_AUTO_TEST_CASE(a_resend_of_a_message_whose_write_failed_writes_what_its_check_causes) {
  DeferredChecks run("9990000026");
  auto& state = run.state;
  const std::size_t accessesBefore = state.accesses(nhs("9990000026")).size();
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", run.f.storePath());
  using Poco::Data::Keywords::into;
  using Poco::Data::Keywords::now;
  session << "CREATE TRIGGER refuse_insert BEFORE INSERT ON message"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      now;
  // The outbox refuses too (a full disk refuses every write): the notifications cannot be
  // written at once either, so the resend is what writes them.
  session << "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      now;
  MllpClient client("127.0.0.1", run.engine->port("ed"), 10s);
  const auto queriesBefore = state.stats().queries;
  client.send(adt("W1", "VW1", {"9990000026"}));
  const std::string refused = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(refused, "MSA-1") == "AR", refused);
  BOOST_TEST(state.stats().queries == queriesBefore + 1);  // checked (and failed) before it was refused
  int deferred = 0;
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 0);  // the trigger refused the whole transaction: nothing of the check is stored
  session << "DROP TRIGGER refuse_insert", now;
  session << "DROP TRIGGER refuse_outbox", now;
  BOOST_TEST(run.f.storedMessages().empty());  // the message itself was not stored

  client.send(adt("W1", "VW1", {"9990000026"}));
  const std::string resent = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(resent, "MSA-1") == "AA", resent);
  BOOST_TEST(field(resent, "ZCP-2") == "CHECK_FAILED", resent);
  BOOST_TEST(state.stats().queries == queriesBefore + 1);  // repeated from the memory, not asked again
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 1);
  state.clearFault("9990000026");
  BOOST_TEST(cpis::test::waitFor(
      [&] { return state.accesses(nhs("9990000026")).size() == accessesBefore + 1; }, 20s));
  // A later update of the attendance repeats the check and writes nothing more.
  client.send(adt("W2", "VW1", {"9990000026"}, "A08"));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "AA");
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 1);

  // Only the message refused (a lock held too long for its batch): what the check causes is
  // written at once, before any resend.
  state.setFault("9990000034", cpis::sim::Fault{cpis::sim::Fault::Kind::Http500, 0ms, std::nullopt});
  session << "CREATE TRIGGER refuse_insert BEFORE INSERT ON message"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      now;
  client.send(adt("X1", "VX1", {"9990000034"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "AR");
  session << "DROP TRIGGER refuse_insert", now;
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 2);
  BOOST_TEST(run.engine->terminate() == 0);
}

// A check made, then a crash before its finish was stored: the memory, kept across the restart,
// repeats the check at recovery (no second query), and what the check causes is written then,
// as the finish would have: here the deferred re-check of a failed check, so that the local
// authority still gets its access record once Spine answers.
BOOST_AUTO_TEST_CASE(recovery_writes_what_a_check_whose_finish_was_lost_causes) {
  DeferredChecks run("9990000018");
  auto& state = run.state;
  const std::size_t accessesBefore = state.accesses(nhs("9990000018")).size();
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", run.f.storePath());
  using Poco::Data::Keywords::into;
  using Poco::Data::Keywords::now;
  refuseFinishes(session);
  // The outbox refuses too (a full disk refuses every write), so the engine cannot write what the
  // check causes at once, and only recovery can.
  session << "CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      now;
  {
    MllpClient client("127.0.0.1", run.engine->port("ed"), 10s);
    client.send(adt("H1", "VH1", {"9990000018"}));
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "AR");  // send it again
  }
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] {
    int rows = 0;
    session << "SELECT count(*) FROM attendance_memory WHERE CAST(key AS TEXT) = 'VH1'", into(rows), now;
    return rows == 2;
  }));
  run.engine->kill();
  allowFinishes(session);
  session << "DROP TRIGGER refuse_outbox", now;
  int deferred = 0;
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 0);
  const std::string config = run.f.dir.file("deferred.xml");
  run.engine = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
  BOOST_TEST_REQUIRE(run.engine->waitReady(), run.engine->errors());
  const auto stored = run.f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].second == "processed");
  // Exactly one: the check made before the kill, repeated (checked again, it would have failed
  // again, and its own deferred check would be a second).
  session << "SELECT count(*) FROM outbox WHERE kind = 'deferred-check'", into(deferred), now;
  BOOST_TEST(deferred == 1);
  state.clearFault("9990000018");
  BOOST_TEST(cpis::test::waitFor([&] { return state.accesses(nhs("9990000018")).size() == accessesBefore + 1; }, 20s));
  BOOST_TEST(run.engine->terminate() == 0);
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accessesBefore + 1);
}

// kill -9 while a check waits for Spine's reply: Spine recorded the access (and told the LA),
// but no audit row was written. Recovery queries again: a second access, so its audit row says
// possible duplicate (CPIS.md §7), and the audit does not claim a single clean query.
BOOST_AUTO_TEST_CASE(a_check_recovery_repeats_after_a_kill_is_a_possible_duplicate_in_the_audit) {
  OwnSimulator own;
  auto& state = own.state();
  cpis::sim::Fault slow;  // the query is with Spine when the engine dies
  slow.kind = cpis::sim::Fault::Kind::Delay;
  slow.delay = 1500ms;
  slow.times = 1;
  state.setFault("9990000034", slow);
  EngineFixture f;
  const std::string config = f.dir.file("recovery.xml");
  EngineConfig settings;
  settings.endpoint = own.simulator->queryUrl();
  std::ofstream(config) << settings.xml();
  auto engine =
      std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
  BOOST_TEST_REQUIRE(engine->waitReady(), engine->errors());
  const auto accessesBefore = state.accesses(nhs("9990000034")).size();
  {
    MllpClient client("127.0.0.1", engine->port("ed"), 10s);
    client.send(adt("K1", "VK1", {"9990000034"}));
    BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return state.stats().faults == 1u; }, 10s));
    // The check starts once the message is written, before its commit ends: killed before
    // that, the message is lost (never acknowledged: the sender sends it again) and there is
    // nothing to recover. Killed once it is committed, as here, recovery checks it.
    BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return f.storedMessages().size() == 1u; }, 10s));
    engine->kill();
  }
  BOOST_TEST_REQUIRE(
      cpis::test::waitFor([&] { return state.accesses(nhs("9990000034")).size() == accessesBefore + 1; },
                          10s));  // Spine made the access all the same
  engine = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
  BOOST_TEST_REQUIRE(engine->waitReady(), engine->errors());  // recovery checks K1 before ready
  BOOST_TEST(engine->terminate() == 0);
  BOOST_TEST(state.accesses(nhs("9990000034")).size() == accessesBefore + 2);
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", f.storePath());
  int rows = 0;
  int flagged = 0;
  session << "SELECT count(*), coalesce(sum(possible_duplicate), 0) FROM audit",
      Poco::Data::Keywords::into(rows), Poco::Data::Keywords::into(flagged), Poco::Data::Keywords::now;
  BOOST_TEST(rows == 1);
  BOOST_TEST(flagged == 1);
}

// Spine answers with a reply the engine cannot read (here cut off half-way), every time: each
// query records an access and tells the local authority. The check is asked again once, in the
// background, and then goes to a person. It used to be re-queried every few minutes for the
// deferred check's whole day: hundreds of access records, the local authority told each time.
BOOST_AUTO_TEST_CASE(a_reply_that_cannot_be_read_is_asked_again_once_then_goes_to_a_person) {
  // recheckWindowMinutes="0": an update is not covered by the failure's being recent.
  DeferredChecks run("9990000018", std::nullopt, 100ms, cpis::sim::Fault::Kind::MalformedXml,
                     R"(alerts="ZSEG" recheckWindowMinutes="0")");
  auto& state = run.state;
  EngineProcess& engine = *run.engine;
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t accessesBefore = state.accesses(nhs("9990000018")).size();
  client.send(adt("M1", "VM1", {"9990000018"}));
  const std::string failed = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(failed, "ZCP-2") == "CHECK_FAILED");
  BOOST_TEST(field(failed, "ZCP-3.1") == "UNRECOGNISED_RESPONSE");
  // Dead-lettered, with why (logged after the abandonment's ops alert for a person).
  BOOST_TEST(cpis::test::waitFor(
                 [&] { return engine.errors().find("reply that cannot be read") != std::string::npos; }, 20s),
             engine.errors());
  BOOST_TEST(engine.errors().find("abandoned") != std::string::npos, engine.errors());
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accessesBefore + 2);  // the check and one re-check
  BOOST_TEST(state.stats().queries == 2u);
  // The attendance's updates repeat the failure, with no query: each used to query again (an
  // access, the local authority told, the same unreadable reply and another re-check).
  client.send(adt("M2", "VM1", {"9990000018"}, "A08"));
  const std::string update = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(update, "ZCP-2") == "CHECK_FAILED", update);
  BOOST_TEST(field(update, "ZCP-3.1") == "UNRECOGNISED_RESPONSE");
  BOOST_TEST(field(update, "ZCP-15") == field(failed, "ZCP-15"));
  BOOST_TEST(field(update, "ZCP-19").find("check CP-IS") != std::string::npos, field(update, "ZCP-19"));
  BOOST_TEST(field(update, "ZCP-19").find("retry in progress") == std::string::npos, field(update, "ZCP-19"));
  Patient admitted{"9990000018"};  // an A01 on the same visit: the same attendance
  admitted.location = "WARD7^^^RZZ01";
  admitted.patientClass = "I";
  client.send(adt("M2A", "VM1", admitted, "A01"));
  const std::string ward = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(ward, "ZCP-2") == "CHECK_FAILED", ward);
  BOOST_TEST(field(ward, "ZCP-15") == field(failed, "ZCP-15"));
  BOOST_TEST(state.stats().queries == 2u);
  // A new attendance of the child is checked (and, Spine's reply unreadable still, fails).
  client.send(adt("M3", "VM3", {"9990000018"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  BOOST_TEST(state.stats().queries >= 3u);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(engine.errors().find("9990000018") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_cancelled_attendance_s_deferred_check_is_withdrawn) {
  DeferredChecks run("9990000018");
  auto& state = run.state;
  EngineProcess& engine = *run.engine;
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t mailboxBefore = state.notifications("XLA01").size();
  const std::size_t accessesBefore = state.accesses(nhs("9990000018")).size();

  client.send(adt("C1", "VC1", {"9990000018"}));
  const std::string failed = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(failed, "ZCP-2") == "CHECK_FAILED");
  // Retried in the background, but this feed has no return connection for the retry's answer:
  // the clinician is not told to wait for one.
  BOOST_TEST(field(failed, "ZCP-19").find("NOT a negative result") != std::string::npos,
             field(failed, "ZCP-19"));
  BOOST_TEST(field(failed, "ZCP-19").find("Automatic retry") == std::string::npos, field(failed, "ZCP-19"));
  client.send(adt("C2", "VC1", {"9990000018"}, "A11"));
  const std::string cancelled = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(cancelled, "MSA-1") == "AA");
  BOOST_TEST(field(cancelled, "ZCP-3.1") == "NOT_AN_ATTENDANCE");

  state.clearFault("9990000018");
  BOOST_TEST(cpis::test::waitFor([&] { return engine.errors().find("withdrawn") != std::string::npos; }, 20s),
             engine.errors());
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accessesBefore);
  BOOST_TEST(state.notifications("XLA01").size() == mailboxBefore);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(engine.errors().find("9990000018") == std::string::npos);
}

// CPIS.md §4 and hazard H1: an A40 merges a child's record (9990000018) into another
// (9990000034) while the attendance's check, on the retired number, has failed. The A40
// queries nobody; it re-keys the attendance, so the deferred check queries the surviving
// number (the child who is there), not the retired one, and its answer is what the
// attendance's next update, which carries the surviving number, is shown.
BOOST_AUTO_TEST_CASE(a_merge_re_keys_an_open_attendance_and_its_deferred_check) {
  DeferredChecks run("9990000018");  // the retired number's check fails, and keeps failing
  auto& state = run.state;
  EngineProcess& engine = *run.engine;
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::size_t retiredBefore = state.accesses(nhs("9990000018")).size();
  const std::size_t survivingBefore = state.accesses(nhs("9990000034")).size();

  client.send(adt("M1", "VM1", {"9990000018"}));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "ZCP-2") == "CHECK_FAILED");
  const auto queries = state.stats().queries;
  client.send("MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125103000||ADT^A40^ADT_A39|M2|P|2.4|||||GBR||EN||ITKv1.0\r"
              "EVN|A40|20261125103000\r"
              "PID|1||9990000034^^^NHS^NH~RZM1^^^RZZ^MR||TESTCHILD^ALEX^^^^^L||20150403|M||||||||||||||||||||||||NSTS01\r"
              "MRG|9990000018^^^NHS^NH~RZM0^^^RZZ^MR\r"
              "PID|2||9990000050^^^NHS^NH||TESTCHILD^SAM^^^^^L||20160403|F||||||||||||||||||||||||NSTS01\r"
              "MRG|9990000042^^^NHS^NH\r");
  const std::string merged = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(merged, "MSA-1") == "AA", merged);
  BOOST_TEST(field(merged, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(merged, "ZCP-3.1") == "NOT_AN_ATTENDANCE");
  // Both groups of the message are merges, each recorded (only the first was read).
  BOOST_TEST(cpis::test::waitFor(
                 [&] {
                   const std::string logs = engine.errors();
                   return logs.find("patient merge (A40, group 1 of 2) recorded: 1 open attendance of this feed was "
                                    "checked on the retired NHS number") != std::string::npos &&
                          logs.find("patient merge (A40, group 2 of 2) recorded: 0 open attendances") !=
                              std::string::npos;
                 },
                 10s),
             engine.errors());

  // The deferred check (retried while the A40 was on its way) now queries the surviving number,
  // though the retired one would be answered now.
  state.clearFault("9990000018");
  BOOST_TEST(cpis::test::waitFor([&] { return state.accesses(nhs("9990000034")).size() == survivingBefore + 1; }, 20s),
             engine.errors());
  BOOST_TEST(cpis::test::waitFor(  // standard error is read on a thread of its own
      [&] { return engine.errors().find("re-keyed: a patient merge retired the NHS number") != std::string::npos; }));
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == retiredBefore);
  BOOST_TEST(state.stats().queries > queries);
  BOOST_TEST_REQUIRE(
      cpis::test::waitFor([&] { return engine.errors().find("): FOUND") != std::string::npos; }, 10s),
      engine.errors());

  // The attendance's next update carries the surviving number: shown the deferred check's
  // answer on it (FOUND: a looked after child), not the retired record's failure, and no second
  // query (CPIS.md §7: one successful query per attendance).
  const auto answered = state.stats().queries;
  client.send(adt("M3", "VM1", {"9990000034"}, "A08"));
  const std::string update = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(update, "ZCP-2") == "FOUND", update);
  BOOST_TEST(field(update, "ZCP-4.1") == "LACI");
  BOOST_TEST(field(update, "ZCP-13") == "9990000034");
  BOOST_TEST(state.stats().queries == answered);
  BOOST_TEST(state.accesses(nhs("9990000034")).size() == survivingBefore + 1);

  BOOST_TEST(engine.terminate() == 0);
  const std::string logs = engine.errors() + engine.output();
  for (const char* phi : {"9990000018", "9990000034", "9990000042", "9990000050", "TESTCHILD"}) {
    BOOST_TEST(logs.find(phi) == std::string::npos, phi);
  }
}

// An engine whose feed "ed" reads the ed_arrivals adapter's messages (no CP-IS endpoint: no
// check is made).
struct EdArrivalsEngine {
  EdArrivalsEngine() {
    const std::string config = f.dir.file("ed-arrivals.xml");
    EngineConfig settings;
    settings.endpoint = "http://127.0.0.1:1/";
    settings.adapter = R"(<adapter name="ed_arrivals"/>)";
    settings.mapping = std::string(CPIS_SOURCE_DIR) + "/mappings/ed-arrivals.xml";
    std::ofstream(config) << settings.xml();
    engine = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", config});
    BOOST_TEST_REQUIRE(engine->waitReady(), engine->errors());
  }
  EngineFixture f;
  std::unique_ptr<EngineProcess> engine;
};

// One of the ed_arrivals adapter's sample messages, from the feed's expected sender.
std::string edArrivalsSample(const std::string& name) {
  std::ifstream in(std::string(CPIS_SOURCE_DIR) + "/adapters/ed-arrivals/tests/data/" + name, std::ios::binary);
  std::string message((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string sender = "|EDTRACK|RZZ03|";
  BOOST_TEST_REQUIRE(message.find(sender) != std::string::npos, name);
  message.replace(message.find(sender), sender.size(), "|EDSYS|RZZ|");
  return message;
}

// An adapter that refuses a message after the mapping read its NHS number (ed_arrivals: an A04
// without its ZED segment): ZCP-13 still names the number, so the EPR can confirm the patient
// (CPIS.md §5: empty only with NO_NHS_NUMBER). It was left empty.
BOOST_AUTO_TEST_CASE(a_message_the_adapter_refuses_still_names_its_nhs_number) {
  EdArrivalsEngine e;
  MllpClient client("127.0.0.1", e.engine->port("ed"), 10s);
  client.send(edArrivalsSample("a04-no-zed.hl7"));
  const std::string ack = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(ack, "MSA-1") == "AE");
  BOOST_TEST(field(ack, "ZCP-3.1") == "MESSAGE_REJECTED");
  BOOST_TEST(field(ack, "ZCP-13.1") == "9990000018");
  BOOST_TEST(field(ack, "ZCP-13.4") == "NHS");
  BOOST_TEST(e.engine->terminate() == 0);
}

// Hazard H4: a location the mapping does not map (ed_arrivals: department type 07) skips the
// check for every attendance there. The ACK says LOCATION_UNMAPPED; the log raises an ops alert
// naming the location on its first message and its tenth (not on each), and the stored
// outcome names it too.
BOOST_AUTO_TEST_CASE(an_unmapped_location_is_reported_to_operations) {
  EdArrivalsEngine e;
  EngineProcess& engine = *e.engine;
  const std::string sample = edArrivalsSample("a04-ambulance-arrival.hl7");
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  for (int i = 1; i <= 10; ++i) {
    std::string message = sample;
    BOOST_TEST_REQUIRE(message.find("|1|01|PAEDS") != std::string::npos);
    message.replace(message.find("|1|01|PAEDS"), 11, "|1|07|PAEDS");
    const auto control = message.find("|P|2.5");  // MSH-10 ends there: make each message new
    BOOST_TEST_REQUIRE(control != std::string::npos);
    message.insert(control, "-" + std::to_string(i));
    client.send(message);
    const std::string ack = client.receive(15s).value_or("<no ACK>");
    BOOST_TEST(field(ack, "MSA-1") == "AA");
    BOOST_TEST(field(ack, "ZCP-3.1") == "LOCATION_UNMAPPED");
  }
  BOOST_TEST(engine.terminate() == 0);
  const std::string logs = engine.errors();
  const std::string alert = "OPS ALERT: feed ed: location RZZ03/07 is not in the mapping's location table";
  std::size_t alerts = 0;
  for (auto at = logs.find(alert); at != std::string::npos; at = logs.find(alert, at + 1)) ++alerts;
  BOOST_TEST(alerts == 2u, logs);  // the 1st message and the 10th
  BOOST_TEST(logs.find("(10 messages so far)") != std::string::npos, logs);
  auto store = cpis::store::SqliteMessageStore::open(e.f.dir.file("store.db"));
  BOOST_TEST_REQUIRE(store.ok());
  const auto first = store.value()->fetch(1);
  BOOST_TEST_REQUIRE(first.ok());
  BOOST_TEST(first.value().outcome.find("LOCATION_UNMAPPED") != std::string::npos, first.value().outcome);
  BOOST_TEST(first.value().outcome.find(" location RZZ03/07") != std::string::npos, first.value().outcome);
}

// A plugin refuses all its configuration's problems at once: each on its own line, each with the
// file, the line and the feed (the second one had none).
BOOST_AUTO_TEST_CASE(validate_config_gives_each_plugin_problem_its_place) {
  EngineFixture f;
  const std::string config = f.dir.file("keys.xml");
  EngineConfig settings;
  settings.endpoint = "http://127.0.0.1:1/";
  settings.adapter =
      R"(<adapter name="england_adt"><setting name="colour" value="red"/><setting name="flavour" value="x"/></adapter>)";
  std::ofstream(config) << settings.xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--validate-config", config});
  BOOST_TEST(engine.wait() == 78);
  const std::string errors = engine.errors();
  for (const char* key : {"'colour'", "'flavour'"}) {
    const auto at = errors.find(std::string("unknown configuration key ") + key);
    BOOST_TEST_REQUIRE(at != std::string::npos, errors);
    const auto lineStart = errors.rfind('\n', at) + 1;
    BOOST_TEST(errors.substr(lineStart, at - lineStart).find(config + ":") != std::string::npos, errors);
    BOOST_TEST(
        errors.substr(lineStart, at - lineStart).find("feed ed: adapter england_adt: ") != std::string::npos,
        errors);
  }
}

// --validate-config loads what start-up would: a mapping file that does not load, an adapter
// that does not exist and a TLS key that cannot be read are reported (and the exit is 78), not
// "valid" followed by a failed start.
BOOST_AUTO_TEST_CASE(validate_config_reports_mappings_plugins_and_keys_that_do_not_load) {
  EngineFixture f;
  std::ofstream(f.dir.file("broken-mapping.xml")) << "<mapping xmlns=\"urn:cpis-engine:mapping:1\"><nonsense/></mapping>\n";
  std::ofstream(f.dir.file("not-a-key.pem")) << "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n";
  const cpis::test::TestPki pki;  // a real certificate beside the key that is not one
  const std::string config = f.dir.file("validate.xml");
  EngineConfig settings;
  settings.endpoint = "http://127.0.0.1:1/";
  settings.listener = R"(<listener address="127.0.0.1" port="0"><tls><certificateFile>)" + pki.serverCertificate() +
                      "</certificateFile><privateKeyFile>" + f.dir.file("not-a-key.pem") +
                      "</privateKeyFile></tls></listener>";
  settings.adapter = R"(<adapter name="no_such_adapter"/>)";
  settings.mapping = "broken-mapping.xml";
  std::ofstream(config) << settings.xml();
  // Each problem names the line of the element to edit, as the file's own errors do.
  const std::string text = settings.xml();
  const auto lineOf = [&](std::string_view needle) {
    const auto at = text.find(needle);
    BOOST_TEST_REQUIRE(at != std::string::npos, needle);
    return std::to_string(1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  };
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--validate-config", config});
  BOOST_TEST(engine.wait() == 78);  // EX_CONFIG
  const std::string errors = engine.errors();
  BOOST_TEST(errors.find(config + ":" + lineOf("<privateKeyFile>") + ": feed ed: listener TLS key: ") != std::string::npos,
             errors);
  BOOST_TEST(errors.find(config + ":" + lineOf("<mapping ") + ": feed ed: mapping: ") != std::string::npos, errors);
  BOOST_TEST(errors.find(config + ":" + lineOf("<adapter name=\"no_such_adapter\"") +
                         ": feed ed: adapter no_such_adapter: ") != std::string::npos,
             errors);
  BOOST_TEST(errors.find("feed ed: listener TLS key: ") != std::string::npos, errors);
  BOOST_TEST(errors.find("private key " + f.dir.file("not-a-key.pem") + ": cannot be read") != std::string::npos, errors);
  BOOST_TEST(errors.find("feed ed: mapping: ") != std::string::npos, errors);
  BOOST_TEST(errors.find("broken-mapping.xml:1:") != std::string::npos, errors);
  BOOST_TEST(errors.find("feed ed: adapter no_such_adapter: ") != std::string::npos, errors);
  BOOST_TEST(engine.output().find("is valid") == std::string::npos);

  // A plain start refuses the same way, each problem at its line, before anything began: no
  // store opened (before, the store and the dispatcher were up when an unreadable key stopped
  // the start, whose message named no line).
  EngineProcess start(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST(start.wait() == 78);  // EX_CONFIG, as --validate-config
  BOOST_TEST(start.errors().find(config + ":" + lineOf("<privateKeyFile>") +
                                 ": feed ed: listener TLS key: ") != std::string::npos,
             start.errors());
  BOOST_TEST(!std::filesystem::exists(f.storePath()));
}

// A certificate and a key that are each readable but not a pair: --validate-config said the
// file was valid, and the start then failed with exit 69 (as a port in use) and OpenSSL's "key
// values mismatch". Both now refuse it (78), at the key's line, saying the key is another's.
BOOST_AUTO_TEST_CASE(validate_config_refuses_a_key_that_is_not_the_certificate_s) {
  EngineFixture f;
  const cpis::test::TestPki pki;
  const std::string config = f.dir.file("mismatch.xml");
  EngineConfig settings;
  settings.endpoint = "http://127.0.0.1:1/";
  settings.listener = R"(<listener address="127.0.0.1" port="0"><tls><certificateFile>)" +
                      pki.serverCertificate() + "</certificateFile><privateKeyFile>" +
                      pki.clientKey("epr01") + "</privateKeyFile></tls></listener>";
  std::ofstream(config) << settings.xml();
  const std::string text = settings.xml();
  const std::string line = std::to_string(
      1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(text.find("<privateKeyFile>")),
                     '\n'));
  const std::string expected = config + ":" + line +
                               ": feed ed: listener TLS key: " + pki.clientKey("epr01") +
                               " is not the private key of " + pki.serverCertificate();
  EngineProcess validate(CPIS_ENGINE_BINARY, {"--validate-config", config});
  BOOST_TEST(validate.wait() == 78);
  BOOST_TEST(validate.errors().find(expected) != std::string::npos, validate.errors());
  EngineProcess start(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST(start.wait() == 78);
  BOOST_TEST(start.errors().find(expected) != std::string::npos, start.errors());
}

// CPIS.md §8, hazard H5: a LIVE engine refuses to start with a location whose access mode its
// configuration does not state (the built-in defaults only pre-fill a configuration). The
// shipped england-adt mapping leaves its rows' modes to the trust: --validate-config names each
// such row by file and line.
BOOST_AUTO_TEST_CASE(a_live_engine_refuses_locations_without_an_explicit_access_mode) {
  EngineFixture f;
  const cpis::test::TestPki pki;
  EngineConfig settings;
  settings.endpoint = "https://cpis.spine.example:443/syncservice";
  settings.cpisExtra = "<clientTls><certificateFile>" + pki.serverCertificate() + "</certificateFile><privateKeyFile>" +
                       pki.serverKey() + "</privateKeyFile><caFile>" + pki.caCertificate() + "</caFile></clientTls>";
  std::string text = settings.xml();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"<environment>TEST</environment>", "<environment>LIVE</environment>"},
           {R"(backend="SIMULATOR")", R"(backend="SPINE_V3")"}}) {
    BOOST_TEST_REQUIRE(text.find(from) != std::string::npos, from);
    text.replace(text.find(from), from.size(), to);
  }
  const std::string config = f.dir.file("live.xml");
  std::ofstream(config) << text;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--validate-config", config});
  BOOST_TEST(engine.wait() == 78);  // EX_CONFIG
  const std::string errors = engine.errors();
  std::ifstream in(settings.mapping);
  std::string line;
  std::size_t number = 0, edmaj = 0;
  while (std::getline(in, line) && edmaj == 0) {
    ++number;
    if (line.find(R"(<location key="RZZ01/EDMAJ")") != std::string::npos) edmaj = number;
  }
  BOOST_TEST_REQUIRE(edmaj != 0u);
  BOOST_TEST(errors.find("feed ed: mapping: ") != std::string::npos, errors);
  BOOST_TEST(errors.find("england-adt.xml:" + std::to_string(edmaj) + ":") != std::string::npos, errors);
  BOOST_TEST(errors.find("location RZZ01/EDMAJ (ED) has no explicit access mode") != std::string::npos, errors);
  BOOST_TEST(errors.find("(CAMHS)") == std::string::npos, errors);  // the mapping's <settings> states it
  BOOST_TEST(engine.output().find("is valid") == std::string::npos);
}

// Enhanced mode answers CA before the check. With CP-IS holding every query, an EPR that
// pipelines on those CAs used to have every message's check queued in memory (and a shutdown
// waiting for them all): 400 CAs at once. Past 256 checks waiting, a CA now waits for its check
// to begin, so the sender is held back; once CP-IS answers again, every message is acknowledged
// and checked.
BOOST_AUTO_TEST_CASE(enhanced_mode_holds_back_a_sender_while_checks_are_far_behind) {
  OwnSimulator own;
  auto& simulator = *own.simulator;
  cpis::sim::Fault held;  // every query held until the engine's time-out (3 s)
  held.kind = cpis::sim::Fault::Kind::Timeout;
  held.delay = 10s;
  simulator.state().setFault("*", held);
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-backlog.xml");
  std::ofstream(config) << enhancedWithReturnDown(simulator.queryUrl()).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());

  constexpr int kMessages = 400;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) {
    burst += cpis::mllp::frame(askingForEnhancedMode(adt("Q" + std::to_string(i), "VQ" + std::to_string(i), {"9990000018"})));
  }
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  client.sendRaw(burst);
  // The CAs that come at once: 32 checks running (maxConcurrent) and 256 waiting, give or take
  // the one in hand. A pause of 2 s (shorter than the 3 s a held query takes) ends the count.
  int prompt = 0;
  try {
    for (; prompt < kMessages; ++prompt) {
      const auto ack = client.receive(2s);
      BOOST_TEST_REQUIRE(ack.has_value());
      BOOST_TEST_REQUIRE(field(*ack, "MSA-1") == "CA");
    }
  } catch (const Poco::TimeoutException&) {
  }
  BOOST_TEST_MESSAGE("enhanced mode: " << prompt << " CAs before the sender was held back");
  BOOST_TEST(prompt <= 256 + 32 + 8, prompt);
  BOOST_TEST(prompt >= 256);
  simulator.state().clearFaults();  // CP-IS answers again: the rest go through
  for (int i = prompt; i < kMessages; ++i) {
    const auto ack = client.receive(30s);
    BOOST_TEST_REQUIRE(ack.has_value());
    BOOST_TEST_REQUIRE(field(*ack, "MSA-1") == "CA");
  }
  BOOST_TEST(cpis::test::waitFor([&] {
    const auto stored = f.storedMessages();
    return stored.size() == static_cast<std::size_t>(kMessages) &&
           std::all_of(stored.begin(), stored.end(), [](const auto& m) { return m.second == "processed"; });
  }, 60s));
  BOOST_TEST(engine.terminate() == 0);
}

// Enhanced mode, messages that need no check (an adult): their application ACKs wait in
// memory for the return connection. With the EPR's listener down, past maxWaiting of them a new
// message is refused before it is stored (CR, send it again later), rather than held in memory
// without end; once the listener is back the waiting ACKs go, and the resend is accepted (it is
// not a duplicate of the refusal).
BOOST_AUTO_TEST_CASE(enhanced_mode_refuses_new_messages_while_application_acks_pile_up) {
  OwnSimulator own;
  EngineFixture f;
  const std::uint16_t eprPort = unusedPort();
  const std::string config = f.dir.file("enhanced-return-down.xml");
  std::ofstream(config) << enhancedWithReturnAt(own.simulator->queryUrl(), eprPort, R"(maxWaiting="3")").xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  Patient adult{"9990000018"};
  adult.birthDate = "19800101";
  const auto message = [&](int i) { return askingForEnhancedMode(adt("W" + std::to_string(i), "VW" + std::to_string(i), adult)); };
  for (int i = 1; i <= 3; ++i) {
    client.send(message(i));
    BOOST_TEST_REQUIRE(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
  }
  client.send(message(4));
  const std::string refused = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(refused, "MSA-1") == "CR");
  BOOST_TEST(field(refused, "MSA-6.1") == "207");  // v2.4: the error in MSA-6 and ERR-1
  BOOST_TEST(field(refused, "MSA-3").find("send it again later") != std::string::npos, refused);
  BOOST_TEST(f.storedMessages().size() == 3u);  // not stored

  EprListener epr;  // the EPR's listener comes back
  cpis::mllp::ListenerSettings listening;
  listening.port = eprPort;
  cpis::mllp::MllpServer eprServer(listening, epr);
  eprServer.start();
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return epr.all().size() == 3u; }, 60s));
  client.send(message(4));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
  BOOST_TEST(cpis::test::waitFor([&] {
    const auto stored = f.storedMessages();
    return stored.size() == 4u &&
           std::all_of(stored.begin(), stored.end(), [](const auto& m) { return m.second == "processed"; });
  }, 60s));
  const auto delivered = epr.all();
  BOOST_TEST_REQUIRE(delivered.size() == 4u);
  BOOST_TEST(field(delivered[3], "MSA-2") == "W4");
  BOOST_TEST(engine.terminate() == 0);
}

// Enhanced mode: the sender has its CA and sends nothing again, so a check whose finishing
// commit fails is not retried by a resend. The engine keeps trying that finish while the store
// refuses it (a trigger here) and finishes the message once it can, without a restart and
// without asking CP-IS again. Before, the message stayed unfinished until the next start, whose
// recovery checked the child a second time.
BOOST_AUTO_TEST_CASE(an_enhanced_mode_check_whose_finish_fails_is_finished_once_the_store_can) {
  OwnSimulator own;
  auto& state = own.state();
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-finish.xml");
  std::ofstream(config) << enhancedWithReturnDown(own.simulator->queryUrl()).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", f.storePath());
  refuseFinishes(session);
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  client.send(askingForEnhancedMode(adt("F1", "VF1", {"9990000018"})));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return engine.errors().find("checked but not finished") != std::string::npos; },
                                         30s));
  allowFinishes(session);
  BOOST_TEST(cpis::test::waitFor([&] {
    const auto stored = f.storedMessages();
    return stored.size() == 1u && stored[0].second == "processed";
  }, 30s));
  BOOST_TEST(state.stats().queries == 1u);  // checked once
  BOOST_TEST(engine.terminate() == 0);
}

// The same failure found by start-up's recovery: the finish is not waited on there (nothing
// could stop that wait, and the listeners would never open); the engine starts, and the message
// stays for the next recovery. The engine that made the check first dies while retrying.
BOOST_AUTO_TEST_CASE(a_failing_finish_does_not_hold_up_the_start) {
  OwnSimulator own;
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-finish-recovery.xml");
  std::ofstream(config) << enhancedWithReturnDown(own.simulator->queryUrl()).xml();
  Poco::Data::SQLite::Connector::registerConnector();
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    Poco::Data::Session session("SQLite", f.storePath());
    refuseFinishes(session);
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(askingForEnhancedMode(adt("G1", "VG1", {"9990000018"})));
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
    BOOST_TEST_REQUIRE(cpis::test::waitFor(
        [&] { return engine.errors().find("checked but not finished") != std::string::npos; }, 30s));
    engine.kill();
    // As if the kill came before the attendance memory's rows were written: recovery checks
    // the message again (with them, it repeats the check's outcome and asks CP-IS nothing).
    session << "DELETE FROM attendance_memory", Poco::Data::Keywords::now;
  }
  EngineProcess again(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(again.waitReady(), again.errors());  // recovery checked it, failed to finish, went on
  // The finish is not waited on: its failure may be logged after the ready line.
  BOOST_TEST(cpis::test::waitFor([&] { return again.errors().find("the next start finishes it") != std::string::npos; },
                                 30s),
             again.errors());
  BOOST_TEST(again.terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].second == "received");  // for the next start's recovery
}

// Enhanced mode on a checking feed: the message is finished once checked, in the same commit as
// its application ACK queued in the outbox for the return connection. With the EPR's listener
// away, a restart retries the ACK but never checks the child again (before, the message stayed
// unfinished until delivery, and recovery made a second query: a second access, the LA told twice).
// Enhanced mode: a message refused for its content (no visit number, which the mapping requires)
// is stored, so it gets CA (a CE would have the EPR send it again, to the same answer), then the
// AE with its ERR over the return connection. It ends failed, and a resend gets the CA again,
// never the application ACK on the forward connection.
BOOST_AUTO_TEST_CASE(an_enhanced_mode_message_refused_for_its_content_gets_ca_then_ae) {
  OwnSimulator own;
  EprListener epr;
  cpis::mllp::MllpServer eprServer(cpis::mllp::ListenerSettings{}, epr);
  eprServer.start();
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-ae.xml");
  std::ofstream(config) << enhancedWithReturnAt(own.simulator->queryUrl(), eprServer.port()).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::string message = askingForEnhancedMode(adt("E9", "", {"9990000018"}));
  client.send(message);
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
  BOOST_TEST(cpis::test::waitFor([&] { return !epr.all().empty(); }, 20s));
  const std::string application = epr.all().empty() ? std::string() : epr.all().front();
  BOOST_TEST(field(application, "MSA-1") == "AE", application);
  BOOST_TEST(field(application, "MSA-2") == "E9");
  BOOST_TEST(field(application, "ERR-1.4.1") == "101", application);  // required field missing
  BOOST_TEST(field(application, "ZCP-3.1") == "MESSAGE_REJECTED");
  BOOST_TEST(cpis::test::waitFor([&] {
    const auto stored = f.storedMessages();
    return stored.size() == 1u && stored[0].second == "failed";
  }));
  client.send(message);  // a resend: the CA again
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
  BOOST_TEST(engine.terminate() == 0);
}

// Enhanced mode: MSH-16 NE, ER or SU does not keep a CP-IS result from the EPR. The check is made
// (an access recorded, the local authority told) and its application ACK, with the alerts, goes
// over the return connection all the same: it used to go nowhere.
BOOST_AUTO_TEST_CASE(an_enhanced_mode_check_is_answered_whatever_msh_16_asks) {
  OwnSimulator own;
  EprListener epr;
  cpis::mllp::MllpServer eprServer(cpis::mllp::ListenerSettings{}, epr);
  eprServer.start();
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-msh16.xml");
  std::ofstream(config) << enhancedWithReturnAt(own.simulator->queryUrl(), eprServer.port()).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const std::vector<std::string> conditions{"NE", "ER", "SU"};
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    std::string message =
        askingForEnhancedMode(adt("N" + std::to_string(i), "VN" + std::to_string(i), {"9990000018"}));
    message.replace(message.find("|AL|AL|"), 7, "|AL|" + conditions[i] + "|");
    client.send(message);
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA", conditions[i]);
  }
  BOOST_TEST(cpis::test::waitFor([&] { return epr.all().size() == conditions.size(); }, 20s),
             epr.all().size());
  for (const auto& application : epr.all()) {
    BOOST_TEST(field(application, "MSA-1") == "AA", application);
    BOOST_TEST(field(application, "ZCP-2") == "FOUND", application);
  }
  BOOST_TEST(engine.terminate() == 0);
}

// Enhanced mode, MSH-15 NE (never) or SU (successes only): a refused message gets no CR on the
// connection; it is stored as rejected, with the CR it was not sent, the reason says so, and an
// ops alert says nobody at the EPR knows. A resend of it gets nothing either. It used to get the
// CR, unread in the sender's socket or read as its next message's answer.
BOOST_AUTO_TEST_CASE(an_enhanced_mode_sender_that_takes_no_accept_ack_gets_no_cr) {
  OwnSimulator own;
  EprListener epr;
  cpis::mllp::MllpServer eprServer(cpis::mllp::ListenerSettings{}, epr);
  eprServer.start();
  EngineFixture f;
  const std::string config = f.dir.file("enhanced-msh15.xml");
  std::ofstream(config) << enhancedWithReturnAt(own.simulator->queryUrl(), eprServer.port()).xml();
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);
  const auto refusedAsking = [](const std::string& id, const std::string& condition) {
    std::string message = askingForEnhancedMode(adt(id, "V" + id, {"9990000018"}));
    message.replace(message.find("|2.4|||AL|AL|"), 13, "|3.0|||" + condition + "|AL|");  // AR 203
    return message;
  };
  client.send(refusedAsking("R1", "NE"));
  client.send(refusedAsking("R2", "SU"));
  client.send(refusedAsking("R1", "NE"));  // resends: their stored CR is not wanted either
  client.send(refusedAsking("R2", "SU"));
  client.send(refusedAsking("R3", "AL"));
  const std::string answered = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(answered, "MSA-1") == "CR", answered);
  BOOST_TEST(field(answered, "MSA-2") == "R3");  // the first answer on the connection
  // A message accepted: under SU its CA is sent, and a resend gets it again; under ER neither.
  const auto asking = [](const std::string& id, const std::string& condition) {
    std::string message = askingForEnhancedMode(adt(id, "V" + id, {"9990000018"}));
    message.replace(message.find("|2.4|||AL|AL|"), 13, "|2.4|||" + condition + "|AL|");
    return message;
  };
  client.send(asking("R4", "SU"));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-2") == "R4");
  client.send(asking("R4", "SU"));
  const std::string accepted = client.receive(15s).value_or("<no ACK>");
  BOOST_TEST(field(accepted, "MSA-1") == "CA", accepted);
  BOOST_TEST(field(accepted, "MSA-2") == "R4");
  client.send(asking("R5", "ER"));
  client.send(asking("R5", "ER"));
  client.send(asking("R6", "AL"));
  BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-2") == "R6");  // nothing for R5
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 6u);
  BOOST_TEST((stored[0] == std::pair<std::string, std::string>{"R1", "rejected"}));
  BOOST_TEST((stored[1] == std::pair<std::string, std::string>{"R2", "rejected"}));
  Poco::Data::Session session("SQLite", f.storePath());
  std::string outcome;
  session << "SELECT outcome FROM message WHERE control_id = 'R2'", Poco::Data::Keywords::into(outcome),
      Poco::Data::Keywords::now;
  BOOST_TEST(outcome.find("no accept ACK sent (MSH-15 SU)") != std::string::npos, outcome);
  BOOST_TEST(engine.terminate() == 0);
  // Nothing reached the EPR: operations are told, for each.
  BOOST_TEST(occurrences(engine.errors() + engine.output(), "no accept ACK sent (MSH-15 ") == 2u,
             engine.errors());
  BOOST_TEST(occurrences(engine.errors() + engine.output(), "OPS ALERT") == 2u, engine.errors());
}

// CPIS.md §7, hazard H7: one query per attendance. In enhanced mode the EPR sends the update
// (A08) on the start's CA, while the start's check still waits for CP-IS: the update waits for
// that check and repeats it (one access at Spine), and each message gets its own application
// ACK with the one check's outcome.
BOOST_AUTO_TEST_CASE(an_update_sent_while_its_start_is_checked_repeats_that_check) {
  OwnSimulator own;
  auto& simulator = *own.simulator;
  auto& state = simulator.state();
  own.answerLate(1500ms);  // the update arrives while the start's check runs
  EngineFixture f;
  const std::string config = f.dir.file("enhanced.xml");
  std::ofstream(config) << enhancedWithReturnDown(simulator.queryUrl()).xml();
  const auto accesses = state.accesses(nhs("9990000018")).size();
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(askingForEnhancedMode(adt("S1", "VS1", {"9990000018"})));
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
    client.send(askingForEnhancedMode(adt("S2", "VS1", {"9990000018"}, "A08")));
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
    BOOST_TEST(cpis::test::waitFor([&] {
      const auto stored = f.storedMessages();
      return stored.size() == 2u && stored[0].second == "processed" && stored[1].second == "processed";
    }));
    BOOST_TEST(engine.terminate() == 0);
  }
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accesses + 1);  // one query, not two
  Poco::Data::Session session("SQLite", f.storePath());
  std::vector<std::string> payloads;
  session << "SELECT payload FROM outbox WHERE kind = 'late-result' ORDER BY id", Poco::Data::Keywords::into(payloads),
      Poco::Data::Keywords::now;
  BOOST_TEST_REQUIRE(payloads.size() == 2u);  // an application ACK for each message
  const auto checkIdIn = [](const std::string& payload) {
    const auto at = payload.find("^CPIS-ENGINE");
    return at == std::string::npos || at < 36 ? std::string("<none>") : payload.substr(at - 36, 36);
  };
  const bool start = payloads[0].find("MSA|AA|S1") != std::string::npos || payloads[1].find("MSA|AA|S1") != std::string::npos;
  const bool update = payloads[0].find("MSA|AA|S2") != std::string::npos || payloads[1].find("MSA|AA|S2") != std::string::npos;
  BOOST_TEST(start);
  BOOST_TEST(update);
  BOOST_TEST(checkIdIn(payloads[0]) != "<none>");
  BOOST_TEST(checkIdIn(payloads[0]) == checkIdIn(payloads[1]));  // the one check, repeated
  BOOST_TEST(payloads[0].find("FOUND") != std::string::npos);
  BOOST_TEST(payloads[1].find("FOUND") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_enhanced_mode_check_is_made_once_while_its_application_ack_waits) {
  OwnSimulator own;
  auto& simulator = *own.simulator;
  auto& state = simulator.state();
  EngineFixture f;
  const std::string config = f.dir.file("enhanced.xml");
  std::ofstream(config) << enhancedWithReturnDown(simulator.queryUrl()).xml();
  const auto accesses = state.accesses(nhs("9990000018")).size();
  const std::string message = askingForEnhancedMode(adt("N1", "VN1", {"9990000018"}));
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(message);
    BOOST_TEST(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "CA");
    BOOST_TEST(cpis::test::waitFor([&] {
      const auto stored = f.storedMessages();
      return !stored.empty() && stored[0].second == "processed";
    }));
    BOOST_TEST(state.accesses(nhs("9990000018")).size() == accesses + 1);
    BOOST_TEST(engine.terminate() == 0);
  }
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});  // recovery finds nothing to redo
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    BOOST_TEST(engine.terminate() == 0);
  }
  BOOST_TEST(state.accesses(nhs("9990000018")).size() == accesses + 1);  // checked once
  Poco::Data::Session session("SQLite", f.storePath());
  std::vector<std::string> sinks, states, payloads;
  using Poco::Data::Keywords::into;
  using Poco::Data::Keywords::now;
  session << "SELECT sink, state, payload FROM outbox WHERE kind = 'late-result'", into(sinks), into(states),
      into(payloads), now;
  BOOST_TEST_REQUIRE(sinks.size() == 1u);  // the application ACK, waiting for the EPR
  BOOST_TEST(sinks[0] == "epr-return:ed");
  BOOST_TEST(states[0] == "pending");
  BOOST_TEST(payloads[0].find("ACK^A04") != std::string::npos);
  BOOST_TEST(payloads[0].find("MSA|AA|N1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// cpis-engine --dry-run: what a feed's mapping, adapter plugin and decision make of message
// files, for the supplier writing an adapter and the trust engineer mapping a feed, without a
// simulator, a store or a listener. Patient data only when asked.
BOOST_AUTO_TEST_SUITE(dry_run)

BOOST_AUTO_TEST_CASE(each_message_is_adapted_and_decided_and_nothing_is_stored) {
  EngineFixture f;
  const std::string config = f.dir.file("dry.xml");
  EngineConfig settings;
  settings.endpoint = "http://127.0.0.1:1/";  // never asked
  std::ofstream(config) << settings.xml();
  // Two messages in one file (a child at the ED; an adult), and one the mapping refuses (no PV1-19).
  std::string noVisit = adt("D3", "", {"9990000034"});
  std::ofstream(f.dir.file("two.hl7")) << adt("D1", "VD1", {"9990000018"}) << "\n"
                                       << adt("D2", "VD2", {"9990000034", "19700101"}) << "\n";
  std::string otherVersion = adt("D4", "VD4", {"9990000018"});
  otherVersion.replace(otherVersion.find("|2.4|"), 5, "|3.0|");
  std::ofstream(f.dir.file("refused.hl7")) << noVisit << "\n" << otherVersion;

  EngineProcess masked(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "ed", f.dir.file("two.hl7"),
                                            f.dir.file("refused.hl7")});
  BOOST_TEST(masked.wait() == 1);  // one message is refused
  std::string out = masked.output();
  BOOST_TEST(out.find("adapter england_adt 1.0.0 (/") != std::string::npos, out);  // which build, from where
  BOOST_TEST(out.find("message 1 (MSH-10 D1, ADT^A04, v2.4)") != std::string::npos, out);
  BOOST_TEST(out.find("message 2 (MSH-10 D2, ADT^A04, v2.4)") != std::string::npos, out);
  BOOST_TEST(out.find("attendance START (trigger A04)") != std::string::npos, out);
  BOOST_TEST(out.find("trace status NSTS01") != std::string::npos, out);
  // where the mapping took the number, without the number
  BOOST_TEST(out.find("NHS number (present) from PID-3.1, valid") != std::string::npos, out);
  BOOST_TEST(out.find("setting ED") != std::string::npos, out);
  BOOST_TEST(out.find("decision: CHECK DUE: CP-IS is queried, UNSCHEDULED") != std::string::npos, out);
  BOOST_TEST(out.find("decision: NOT_CHECKED AGE_OUT_OF_SCOPE") != std::string::npos, out);
  BOOST_TEST(out.find("refused (AE; stored as failed; NOT_CHECKED MESSAGE_REJECTED)") != std::string::npos,
             out);
  BOOST_TEST(out.find("PV1(1)-19(1)") != std::string::npos, out);
  // What the feed refuses before the mapping reads it: here another HL7 version (AR 203).
  BOOST_TEST(out.find("message 2 (MSH-10 D4, ADT^A04, v3.0)\n  refused (AR; stored as rejected; NOT_CHECKED "
                      "MESSAGE_REJECTED): ") != std::string::npos,
             out);
  BOOST_TEST(out.find("203 Unsupported version id") != std::string::npos, out);
  for (const char* patientData : {"9990000018", "9990000034", "TESTCHILD", "20150403", "19700101"}) {
    BOOST_TEST(out.find(patientData) == std::string::npos, patientData);
  }
  BOOST_TEST(!std::filesystem::exists(f.storePath()));  // nothing stored: no store opened

  EngineProcess shown(CPIS_ENGINE_BINARY,
                      {"--config", config, "--dry-run", "ed", "--show-patient-data", f.dir.file("two.hl7")});
  BOOST_TEST(shown.wait() == 0);
  out = shown.output();
  BOOST_TEST(out.find("NHS number 9990000018 from PID-3.1, valid") != std::string::npos, out);
  BOOST_TEST(out.find("name TESTCHILD, ALEX; born 20150403; sex M") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(an_unknown_feed_or_a_missing_file_is_said_plainly) {
  EngineFixture f;
  const std::string config = f.dir.file("dry.xml");
  EngineConfig settings;
  settings.endpoint = "http://127.0.0.1:1/";
  std::ofstream(config) << settings.xml();
  EngineProcess unknown(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "edx", f.dir.file("none.hl7")});
  BOOST_TEST(unknown.wait() == 78);
  BOOST_TEST(unknown.errors().find("has no feed named 'edx' (it has: ed)") != std::string::npos,
             unknown.errors());
  EngineProcess missing(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "ed", f.dir.file("none.hl7")});
  BOOST_TEST(missing.wait() == 1);
  BOOST_TEST(missing.errors().find(f.dir.file("none.hl7") + ": cannot be read") != std::string::npos,
             missing.errors());
  EngineProcess noFiles(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "ed"});
  BOOST_TEST(noFiles.wait() == 64);  // EX_USAGE

  // A folder stands for its files in name order, as cpis-send takes it; a file in it that holds
  // no message (a README) is noted and does not fail the run.
  const std::filesystem::path folder = f.dir.file("messages");
  std::filesystem::create_directory(folder);
  std::ofstream(folder / "02.hl7") << adt("F2", "VF2", {"9990000018"});
  std::ofstream(folder / "01.hl7") << adt("F1", "VF1", {"9990000018"});
  std::ofstream(folder / "README.txt") << "test messages\n";
  EngineProcess fromFolder(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "ed", folder.string()});
  BOOST_TEST(fromFolder.wait() == 0, fromFolder.errors());
  const std::string out = fromFolder.output();
  const auto first = out.find("01.hl7: message 1 (MSH-10 F1");
  const auto second = out.find("02.hl7: message 1 (MSH-10 F2");
  BOOST_TEST((first != std::string::npos && second != std::string::npos && first < second), out);
  BOOST_TEST(fromFolder.errors().find("README.txt: no HL7 v2 message in it (no MSH segment); skipped") !=
                 std::string::npos,
             fromFolder.errors());
  // An empty folder is not a run that passed.
  const std::filesystem::path empty = f.dir.file("empty");
  std::filesystem::create_directory(empty);
  EngineProcess fromEmpty(CPIS_ENGINE_BINARY, {"--config", config, "--dry-run", "ed", empty.string()});
  BOOST_TEST(fromEmpty.wait() == 1);
  BOOST_TEST(fromEmpty.errors().find(": no files in it") != std::string::npos, fromEmpty.errors());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(character_sets)

// An EPR that sends UTF-8 without saying so in MSH-18 (common): HL7's default, ASCII, refuses an
// accented name with AR 102, and the child is not checked. A feed configured with
// characterSetWhenUnstated="UNICODE UTF-8" reads it as UTF-8, checks the child, and its ACK,
// written in UTF-8, says so in MSH-18.
BOOST_AUTO_TEST_CASE(a_feed_reads_an_unstated_character_set_as_configured) {
  OwnSimulator own;
  EngineFixture f;
  const auto run = [&](const std::string& attributes, const std::string& controlId) {
    std::string message = adt(controlId, "V" + controlId, {"9990000018"});
    message.replace(message.find("TESTCHILD^ALEX"), 14, "TESTCHILD^JOS\xC3\x89");
    BOOST_TEST_REQUIRE(message.find("|GBR||EN|") != std::string::npos);  // MSH-18 empty
    const std::string config = f.dir.file("charset" + std::to_string(attributes.size()) + ".xml");
    EngineConfig settings;
    settings.endpoint = own.simulator->queryUrl();
    settings.feedAttributes = attributes;
    std::ofstream(config) << settings.xml();
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    MllpClient client("127.0.0.1", engine.port("ed"), 10s);
    client.send(message);
    std::string ack = client.receive(15s).value_or("<no ACK>");
    BOOST_TEST(engine.terminate() == 0);
    return ack;
  };
  const std::string strict = run("", "U1");
  BOOST_TEST(field(strict, "MSA-1") == "AR");
  BOOST_TEST(field(strict, "ZCP-2") == "NOT_CHECKED");
  BOOST_TEST(field(strict, "MSA-3").find("ASCII, as MSH-18 is empty") != std::string::npos, strict);

  const std::string read = run(R"(characterSetWhenUnstated="UNICODE UTF-8")", "U2");
  BOOST_TEST(field(read, "MSA-1") == "AA", read);
  BOOST_TEST(field(read, "ZCP-2") == "FOUND", read);
  BOOST_TEST(field(read, "MSH-18") == "UNICODE UTF-8", read);
}

BOOST_AUTO_TEST_SUITE_END()
