#define BOOST_TEST_MODULE test_integration
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include <Poco/Net/ServerSocket.h>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_client.h"
#include "engine/mllp/mllp_server.h"
#include "tests/integration/engine_fixture.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using cpis::mllp::MllpClient;
using cpis::test::a04;
using cpis::test::EngineFixture;
using cpis::test::EngineProcess;

namespace {

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

std::string field(const std::string& hl7, const std::string& path) {
  auto message = cpis::hl7v2::parse(hl7);
  return message ? message.value().get(path) : "<unreadable>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_daemon)

BOOST_AUTO_TEST_CASE(validate_config_accepts_the_demo_sample) {
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--validate-config", "engine/config/samples/cpis-engine.xml"});
  BOOST_TEST(engine.wait() == 0);
  BOOST_TEST(engine.output().find("cpis-engine.xml is valid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_config_is_refused_with_file_line_and_problem) {
  EngineFixture f;
  const std::string path = f.writeConfig(R"(<acknowledgement mode="sometimes"/>)");
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", path});
  BOOST_TEST(engine.wait() == 78);  // EX_CONFIG
  const std::string errors = engine.errors();
  BOOST_TEST(errors.find(path + ":12:") != std::string::npos, errors);  // the <acknowledgement> line
  BOOST_TEST(errors.find("sometimes") != std::string::npos, errors);
}

// The message names the feed, the address and the <listener> line; every listener binds before
// anything acts, so the dispatcher (and recovery's checks) never started.
BOOST_AUTO_TEST_CASE(a_port_already_in_use_stops_the_start_with_a_clear_message) {
  Poco::Net::ServerSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0));
  EngineFixture f;
  std::string config = f.writeConfig();
  std::string xml;
  {
    std::ifstream in(config);
    xml.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    xml.replace(xml.find(R"(port="0")"), 8, "port=\"" + std::to_string(taken.address().port()) + "\"");
    std::ofstream(config) << xml;
  }
  const auto line =
      1 + std::count(xml.begin(), xml.begin() + static_cast<std::ptrdiff_t>(xml.find("<listener")), '\n');
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST(engine.wait() == 69);  // EX_UNAVAILABLE
  const std::string errors = engine.errors();
  BOOST_TEST(errors.find("cpis-engine: cannot start: feed ed: listener 127.0.0.1:" +
                         std::to_string(taken.address().port()) + " (" + config + ":" + std::to_string(line) +
                         "): ") != std::string::npos,
             errors);
  BOOST_TEST(errors.find("in use") != std::string::npos, errors);
  BOOST_TEST(errors.find("dispatcher") == std::string::npos, errors);
}

BOOST_AUTO_TEST_CASE(a_second_engine_on_the_same_database_is_refused_and_the_first_carries_on) {
  EngineFixture f;
  const std::string config = f.writeConfig();
  EngineProcess first(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(first.waitReady(), first.errors());
  EngineProcess second(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST(second.wait() == 69);  // EX_UNAVAILABLE
  const std::string errors = second.errors();
  BOOST_TEST(errors.find("in use by another process") != std::string::npos, errors);
  MllpClient client("127.0.0.1", first.port("ed"), 5s);
  client.send(a04("LOCK1"));
  BOOST_TEST(field(client.receive(10s).value(), "MSA-1") == "AA");
  BOOST_TEST(first.terminate() == 0);
}

BOOST_AUTO_TEST_CASE(message_is_acknowledged_once_stored_and_processed) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig()});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 5s);
  client.send(a04("M0001"));
  const auto ack = client.receive(10s);
  BOOST_TEST_REQUIRE(ack.has_value());
  BOOST_TEST(field(*ack, "MSA-1") == "AA");
  BOOST_TEST(field(*ack, "MSA-2") == "M0001");
  BOOST_TEST(field(*ack, "MSH-3") == "CPIS");
  BOOST_TEST(field(*ack, "MSH-5") == "EDSYS");
  BOOST_TEST(engine.terminate() == 0);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 1u);
  BOOST_TEST(stored[0].first == "M0001");
  BOOST_TEST(stored[0].second == "processed");
  // A feed without <check> says at start that it checks nothing (a copied sample is no surprise).
  BOOST_TEST(engine.errors().find("no <check>: messages are stored and acknowledged without a CP-IS check") !=
                 std::string::npos,
             engine.errors());
  // The log says why it stopped, not only the end of it.
  BOOST_TEST(engine.errors().find("stopping: asked to (SIGTERM") != std::string::npos, engine.errors());
}

// The store holds patient data: it was created world-readable (0644 under the usual umask).
// A new one, and its WAL, are its owner's only; an old one readable by others gets a warning.
BOOST_AUTO_TEST_CASE(the_store_is_created_for_its_owner_only_and_a_readable_one_is_reported) {
  using std::filesystem::perms;
  EngineFixture f;
  const std::string config = f.writeConfig();
  {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    MllpClient client("127.0.0.1", engine.port("ed"), 5s);
    client.send(a04("P0001"));
    BOOST_TEST_REQUIRE(client.receive(10s).has_value());
    const auto others = perms::group_all | perms::others_all;
    BOOST_TEST(((std::filesystem::status(f.storePath()).permissions() & others) == perms::none));
    BOOST_TEST(((std::filesystem::status(f.storePath() + "-wal").permissions() & others) == perms::none));
    BOOST_TEST(engine.terminate() == 0);
    BOOST_TEST(engine.errors().find("can be read or written by other users") == std::string::npos,
               engine.errors());
  }
  std::filesystem::permissions(f.storePath(), perms::group_read | perms::others_read,
                               std::filesystem::perm_options::add);
  EngineProcess again(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(again.waitReady(), again.errors());
  BOOST_TEST(again.terminate() == 0);
  BOOST_TEST(again.errors().find("message store " + f.storePath() +
                                 " can be read or written by other users") != std::string::npos,
             again.errors());
}

BOOST_AUTO_TEST_CASE(a_resend_gets_the_stored_ack_byte_for_byte_and_is_not_stored_again) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig()});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient first("127.0.0.1", engine.port("ed"), 5s);
  first.send(a04("DUP1"));
  const auto original = first.receive(10s);
  first.close();
  MllpClient second("127.0.0.1", engine.port("ed"), 5s);
  second.send(a04("DUP1"));
  const auto resend = second.receive(10s);
  BOOST_TEST_REQUIRE((original && resend));
  BOOST_TEST(*resend == *original);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(f.storedMessages().size() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_sender_and_unreadable_message_are_refused_and_stored_as_rejected) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig()});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 5s);
  std::string stranger = a04("S1");
  stranger.replace(stranger.find("EDSYS"), 5, "OTHER");
  client.send(stranger);
  const auto refused = client.receive(10s);
  BOOST_TEST(field(*refused, "MSA-1") == "AR");
  BOOST_TEST(field(*refused, "MSA-2") == "S1");
  BOOST_TEST(field(*refused, "ERR-1.4.1") == "103");  // v2.4 ERR-1
  // What was sent and what the feed expects: system names, never patient data.
  BOOST_TEST(
      field(*refused, "MSA-3").find("sending application (MSH-3) is 'OTHER', not 'EDSYS' as configured") !=
          std::string::npos,
      *refused);
  client.send("MSH|^~\\&|EDSYS|RXX01|CPIS|RXX|20261125||ADT^A04|BROKEN1|P|2.4\rP!D|1\r");
  const auto broken = client.receive(10s);
  BOOST_TEST(field(*broken, "MSA-1") == "AR");
  BOOST_TEST(field(*broken, "MSA-2") == "BROKEN1");
  BOOST_TEST(field(*broken, "ERR-1.4.1") == "100");
  // Another HL7 version's message (MSH-12 3.0): AR 203, and the ACK does not claim to be v3.
  std::string v3 = a04("V3");
  v3.replace(v3.find("|P|2.4"), 6, "|P|3.0");
  client.send(v3);
  const auto otherVersion = client.receive(10s);
  BOOST_TEST_REQUIRE(otherVersion.has_value());
  BOOST_TEST(field(*otherVersion, "MSA-1") == "AR", *otherVersion);
  BOOST_TEST(field(*otherVersion, "MSA-2") == "V3");
  BOOST_TEST(field(*otherVersion, "MSH-12").rfind("2.", 0) == 0u, *otherVersion);
  BOOST_TEST(otherVersion->find("203") != std::string::npos, *otherVersion);
  // An empty frame (0B 1C 0D): an AR for the peer, not a store failure ("send it again later",
  // ERR 207), and nothing to store.
  client.send("");
  const auto empty = client.receive(10s);
  BOOST_TEST_REQUIRE(empty.has_value());
  BOOST_TEST(field(*empty, "MSA-1") == "AR", *empty);
  BOOST_TEST(field(*empty, "ERR-1.4.1") != "207", *empty);
  BOOST_TEST(empty->find("not stored") == std::string::npos, *empty);
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(engine.errors().find("an empty frame") != std::string::npos);
  const auto stored = f.storedMessages();
  BOOST_TEST_REQUIRE(stored.size() == 3u);
  for (const auto& message : stored) BOOST_TEST(message.second == "rejected");
}

BOOST_AUTO_TEST_CASE(oversized_message_gets_an_ar_and_the_connection_closes) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig()});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 5s);
  client.send(a04("BIG1") + "OBX|1|TX|||" + std::string(70000, 'x') + "\r");
  const auto ack = client.receive(10s);
  BOOST_TEST_REQUIRE(ack.has_value());
  BOOST_TEST(field(*ack, "MSA-1") == "AR");
  BOOST_TEST(field(*ack, "MSA-2") == "BIG1");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(engine.terminate() == 0);
}

BOOST_AUTO_TEST_CASE(patient_data_never_reaches_the_log) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY,
                       {"--config", f.writeConfig(R"(<acknowledgement mode="original"/>)",
                                                  R"(<logging format="json" level="trace"/>)")});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 5s);
  client.send(a04("PHI1"));
  BOOST_TEST(client.receive(10s).has_value());
  client.send(a04("PHI1"));  // a duplicate is logged
  BOOST_TEST(client.receive(10s).has_value());
  std::string stranger = a04("PHI2");
  stranger.replace(stranger.find("EDSYS"), 5, "OTHER");  // a rejection is logged
  client.send(stranger);
  BOOST_TEST(client.receive(10s).has_value());
  BOOST_TEST(engine.terminate() == 0);
  const std::string logs = engine.errors() + engine.output();
  BOOST_TEST(logs.find("PHI1") != std::string::npos);  // the log is there, and speaks of ids
  for (const char* phi : {"9990000018", "999 000 0018", "TESTPATIENT", "ALEX", "20150304"}) {
    BOOST_TEST(logs.find(phi) == std::string::npos, phi);
  }
}

BOOST_AUTO_TEST_CASE(enhanced_mode_accepts_at_once_and_sends_the_application_ack_over_the_return_connection) {
  // The EPR's own listener, taking application ACKs.
  class EprListener final : public cpis::mllp::FrameHandler {
  public:
    std::string onFrame(std::string_view payload, const cpis::mllp::PeerInfo&) override {
      std::lock_guard lock(mutex);
      received.emplace_back(payload);
      // The EPR's accept ACK of the application ACK: MSA-2 names its MSH-10.
      const auto sent = cpis::hl7v2::parse(payload);
      const std::string id = sent ? std::string(sent.value().controlId()) : std::string("?");
      return "MSH|^~\\&|EDSYS|RXX01|CPIS|RXX|20261125||ACK|R1|P|2.4\rMSA|CA|" + id + "\r";
    }
    std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return {}; }
    std::mutex mutex;
    std::vector<std::string> received;
  } epr;
  cpis::mllp::MllpServer eprServer(cpis::mllp::ListenerSettings{}, epr);
  eprServer.start();

  EngineFixture f;
  const std::string ack = R"(<acknowledgement mode="enhanced"><returnConnection host="127.0.0.1" port=")" +
                          std::to_string(eprServer.port()) + R"("/></acknowledgement>)";
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig(ack)});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 5s);
  client.send(a04("ENH1", "|||AL|AL"));
  const auto accept = client.receive(10s);
  BOOST_TEST_REQUIRE(accept.has_value());
  BOOST_TEST(field(*accept, "MSA-1") == "CA");
  BOOST_TEST(cpis::test::waitFor([&] {
    std::lock_guard lock(epr.mutex);
    return !epr.received.empty();
  }));
  {
    std::lock_guard lock(epr.mutex);
    BOOST_TEST(field(epr.received.front(), "MSA-1") == "AA");
    BOOST_TEST(field(epr.received.front(), "MSA-2") == "ENH1");
    BOOST_TEST(field(epr.received.front(), "MSH-15") == "AL");  // it asks for the EPR's accept ACK
    BOOST_TEST(field(epr.received.front(), "MSH-16") == "NE");
  }
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST(f.storedMessages().at(0).second == "processed");
}

BOOST_AUTO_TEST_CASE(sigterm_stops_the_engine_cleanly_with_connections_open) {
  EngineFixture f;
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", f.writeConfig()});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient idle("127.0.0.1", engine.port("ed"), 5s);
  MllpClient busy("127.0.0.1", engine.port("ed"), 5s);
  busy.send(a04("T1"));
  BOOST_TEST(busy.receive(10s).has_value());
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(engine.terminate() == 0);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
  BOOST_TEST(engine.output().find("cpis-engine: stopped") != std::string::npos);
  BOOST_TEST(idle.closedByPeer(5s));
}

BOOST_AUTO_TEST_SUITE_END()
