// Scale-out on PostgreSQL (docs/deployment.md): two cpis-engine processes with the same
// configuration apart from `instance` and their listener ports share one database and check
// CP-IS through the simulator. Senders spread attendances over both; one engine is killed
// (SIGKILL) mid-load and its senders move to the survivor, as they would behind a TCP load
// balancer, resending what was not acknowledged.
//
// What is asserted:
//  - every acknowledged message is stored once and finished (processed), with the ACK its
//    sender saw; the survivor finished the dead engine's unfinished messages within the lease;
//  - lookups, counted per NHS number where CP-IS receives them (each message has a child of its
//    own): a message acknowledged before the kill, or sent to the survivor, was looked up
//    exactly once. A message in flight at the killed engine (sent, not acknowledged) was looked
//    up once or twice: twice only when the killed engine had asked CP-IS but died before the
//    message was finished, so the survivor took it over and asked again. A finished message is
//    never asked about again. Not-checked attendances (adults) are never looked up;
//  - resends of acknowledged messages to the other instance are duplicates: answered with the
//    stored ACK byte for byte, without a lookup.
//
// The PostgreSQL cluster is ctest's pg_cluster fixture (tests/support/pg-cluster): CPIS_TEST_PG
// names its connection file. Each run uses a schema of its own.
#define BOOST_TEST_MODULE test_two_instances
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_client.h"
#include "engine/store/pg_connection.h"
#include "engine/store/postgres_message_store.h"
#include "tests/support/engine_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"
#include "tests/support/spine_test_data.h"

using namespace std::chrono_literals;
using cpis::mllp::MllpClient;
using cpis::test::EngineProcess;
using cpis::test::TempDir;

namespace {

std::string pgConninfo() {
  const char* file = std::getenv("CPIS_TEST_PG");
  if (file == nullptr) return {};
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

// Test NHS numbers (999 range) with a valid modulus 11 check digit, from `start` upwards.
std::vector<std::string> nhsNumbers(int start, std::size_t count) {
  std::vector<std::string> out;
  for (int n = start; out.size() < count; ++n) {
    const std::string stem = "999" + std::string(6 - std::to_string(n).size(), '0') + std::to_string(n);
    int sum = 0;
    for (int i = 0; i < 9; ++i) sum += (stem[static_cast<std::size_t>(i)] - '0') * (10 - i);
    const int check = 11 - sum % 11;
    if (check == 10) continue;
    out.push_back(stem + std::to_string(check == 11 ? 0 : check));
  }
  return out;
}

// A dataset in which each of `numbers` is a child on a child protection plan.
std::string datasetJson(const std::vector<std::string>& numbers) {
  std::ostringstream json;
  json << R"({"localAuthorities": [{"odsCode": "XLA01", "name": "Exampleshire County Council",
             "emergencyPhone": "01632960001", "workplacePhone": "01632960000"}], "children": [)";
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    json << (i ? "," : "") << R"({"nhsNumber": ")" << numbers[i] << R"(", "label": "scale-out )" << i
         << R"(", "givenName": "Alex", "familyName": "TESTCHILD", "birthDate": "2015-04-03",
               "records": [{"la": "XLA01", "subject": "CHILD", "plans": [{"type": "CPPI", "start": "2025-03-01"}]}],
               "accesses": []})";
  }
  json << "]}";
  return json.str();
}

// CP-IS as the engines see it: forwards each query to the simulator and counts the queries per
// NHS number on the way (the simulator records accesses only for children it has records of).
class CountingProxy {
 public:
  explicit CountingProxy(std::uint16_t simulatorPort) : simulatorPort_(simulatorPort) {
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(32);
    params->setMaxQueued(256);
    // A pool of its own, whose threads end with the proxy.
    pool_ = std::make_unique<Poco::ThreadPool>(2, 34);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), *pool_,
                                                      Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)),
                                                      params);
    server_->start();
  }
  ~CountingProxy() {
    server_->stopAll(true);
    server_.reset();
    pool_->joinAll();
    pool_.reset();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->socket().address().port()) +
           std::string(cpis::sim::SpineSimulator::kQueryPath);
  }
  std::size_t lookups(const std::string& nhsNumber) const {
    std::lock_guard lock(mutex_);
    const auto it = counts_.find(nhsNumber);
    return it == counts_.end() ? 0 : it->second;
  }
  std::size_t total() const {
    std::lock_guard lock(mutex_);
    std::size_t sum = 0;
    for (const auto& [number, count] : counts_) sum += count;
    return sum;
  }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(CountingProxy& proxy) : proxy_(proxy) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      // The number queried: <person.NHSnumber><value extension="..."/> (the simulator
      // validates the query itself; the proxy only reads it).
      const auto element = body.find("person.NHSnumber>");
      const auto attribute = body.find("extension=\"", element == std::string::npos ? body.size() : element);
      if (attribute != std::string::npos && attribute + 21 <= body.size()) {
        std::lock_guard lock(proxy_.mutex_);
        ++proxy_.counts_[body.substr(attribute + 11, 10)];
      }
      try {
        Poco::Net::HTTPClientSession session("127.0.0.1", proxy_.simulatorPort_);
        session.setTimeout(Poco::Timespan(30, 0));
        Poco::Net::HTTPRequest forward(request.getMethod(), request.getURI(), Poco::Net::HTTPMessage::HTTP_1_1);
        for (const auto& [name, value] : request) {
          if (Poco::icompare(name, "Host") != 0 && Poco::icompare(name, "Content-Length") != 0 &&
              Poco::icompare(name, "Connection") != 0 && Poco::icompare(name, "Transfer-Encoding") != 0) {
            forward.set(name, value);
          }
        }
        forward.setContentLength(static_cast<std::streamsize>(body.size()));
        session.sendRequest(forward) << body;
        Poco::Net::HTTPResponse answer;
        std::string reply;
        Poco::StreamCopier::copyToString(session.receiveResponse(answer), reply);
        response.setStatusAndReason(answer.getStatus(), answer.getReason());
        for (const auto& [name, value] : answer) {
          if (Poco::icompare(name, "Content-Length") != 0 && Poco::icompare(name, "Connection") != 0 &&
              Poco::icompare(name, "Transfer-Encoding") != 0) {
            response.set(name, value);
          }
        }
        response.setContentLength(static_cast<std::streamsize>(reply.size()));
        response.send() << reply;
      } catch (const Poco::Exception&) {
        // The simulator dropped the connection: so does CP-IS as the engine sees it.
        if (!response.sent()) {
          response.setStatus(Poco::Net::HTTPResponse::HTTP_BAD_GATEWAY);
          response.send();
        }
      }
    }

   private:
    CountingProxy& proxy_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(CountingProxy& proxy) : proxy_(proxy) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(proxy_);
    }

   private:
    CountingProxy& proxy_;
  };

  const std::uint16_t simulatorPort_;
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> counts_;
  std::unique_ptr<Poco::ThreadPool> pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// An ED attendance (A04) of a child (or, with `adult`, a grown-up: not checked).
std::string attendance(const std::string& controlId, const std::string& nhsNumber, bool adult) {
  const std::string birthDate = adult ? "19800101" : "20150403";
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|A04|20261125101500||||20261125101200\r"
         "PID|1||" + nhsNumber + "^^^NHS^NH~RZ" + controlId + "^^^RZZ^MR||TESTCHILD^ALEX^^^^^L||" + birthDate +
         "|M||||||||||||||||||||||||NSTS01\r"
         "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||V" + controlId +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r";
}

std::string field(const std::string& hl7, const std::string& path) {
  auto message = cpis::hl7v2::parse(hl7);
  return message ? message.value().get(path) : std::string();
}

struct Planned {
  std::string controlId;
  std::string nhsNumber;
  bool withRecords = false;
  bool adult = false;
};

// What happened to one planned message, as its sender saw it.
struct Sent {
  std::string ack;              // the AA finally received
  char ackedBy = 0;             // which engine answered the AA
  bool inFlightAtKill = false;  // sent to the killed engine and not acknowledged by it
};

// A database schema of its own in the test cluster, dropped afterwards.
class PgSchema {
 public:
  explicit PgSchema(const std::string& conninfo)
      : conninfo_(conninfo),
        name_("scaleout_" + std::to_string(::getpid())),
        admin_(std::make_unique<cpis::store::PgConnection>(cpis::store::PgConnectSettings{conninfo, "", 10s})) {
    admin_->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    admin_->exec("CREATE SCHEMA " + name_);
    admin_->exec("SET search_path = " + name_);
  }
  ~PgSchema() {
    try {
      admin_->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (const std::exception&) {  // the cluster is gone already
    }
  }
  std::string connection() const { return conninfo_ + " options='-csearch_path=" + name_ + "'"; }
  cpis::store::PgConnection& db() { return *admin_; }

 private:
  std::string conninfo_;
  std::string name_;
  std::unique_ptr<cpis::store::PgConnection> admin_;
};

std::string engineConfig(const std::string& connection, const std::string& instance, const std::string& cpisUrl,
                         int leaseSeconds = 5) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30">
    <postgresql connection=")" + connection + R"(" instance=")" + instance + R"(" claimLeaseSeconds=")" +
         std::to_string(leaseSeconds) + R"("/>
  </store>
  <limits readTimeoutMs="10000" idleTimeoutMs="60000"/>
  <logging format="text" level="warning"/>
  <cpis backend="SIMULATOR" timeoutMs="10000" retries="0">
    <endpoint>)" + cpisUrl + R"(</endpoint>
    <schemaFolder>)" + cpis::test::spineSchemaFolder().string() + R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
  <feed name="ed">
    <expectedSender application="EDSYS" facility="RZZ"/>
    <listener address="127.0.0.1" port="0"/>
    <adapter name="england_adt"/>
    <mapping file=")" + std::string(CPIS_SOURCE_DIR) + R"(/mappings/england-adt.xml"/>
    <check alerts="ZSEG">
      <author odsCode="RZZ01" organisation="Example General Hospital" person="Lee SAFEGUARD"
              jobRoleCode="R8003" jobRoleName="Health Professional Access Role"/>
    </check>
  </feed>
</cpisEngine>
)";
}

// Sends `message` over `client` until it is acknowledged with AA. An AR/CR with ERR 207 says
// "the original is still being worked on, send it again later" (the dead instance's unfinished
// message, until the survivor takes it over and finishes it): the sender resends, backing off
// from 20 ms to 500 ms, for up to a minute, as an EPR would. Returns the AA, or empty when the
// connection is lost or the minute passes.
std::optional<std::string> sendUntilAccepted(MllpClient& client, const std::string& message,
                                             const std::string& /*controlId*/, const std::string& /*connection*/) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto pause = 20ms;
  for (;;) {
    client.send(message);
    auto ack = client.receive(15s);
    if (!ack) return std::nullopt;
    if (field(*ack, "MSA-1") == "AA") return ack;
    if (std::chrono::steady_clock::now() + pause >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);  // a resend interval, not a synchronisation: the AA decides
    pause = std::min<std::chrono::milliseconds>(pause * 2, 500ms);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(two_instances)

BOOST_AUTO_TEST_CASE(one_instance_killed_under_load_nothing_lost_nothing_done_twice) {
  const std::string conninfo = pgConninfo();
  if (conninfo.empty()) {
    BOOST_TEST_MESSAGE("CPIS_TEST_PG is not set: run through ctest, which starts the pg_cluster fixture");
    BOOST_TEST(false, "no PostgreSQL cluster");
    return;
  }
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                     "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string());

  // The plan: kSenders connections per engine, each with its own messages; every fourth child
  // has records, every fifth message is an adult (not checked).
  constexpr int kSendersPerEngine = 3;
  constexpr int kPerSender = 40;
  constexpr std::size_t kKillAfter = 45;  // AAs from engine A before it is killed
  const int total = 2 * kSendersPerEngine * kPerSender;
  const auto numbers = nhsNumbers(700000, static_cast<std::size_t>(total));
  std::vector<Planned> plan;
  std::vector<std::string> withRecords;
  for (int i = 0; i < total; ++i) {
    Planned p{"S" + std::to_string(i), numbers[static_cast<std::size_t>(i)], i % 4 == 1, i % 5 == 4};
    if (p.withRecords && !p.adult) withRecords.push_back(p.nhsNumber);
    plan.push_back(p);
  }

  cpis::config::XercesPlatform xerces;
  cpis::cpis::SpineSchemas schemas(cpis::test::spineSchemaFolder());
  cpis::sim::SpineSimulator simulator(cpis::sim::SimulatorSettings{}, schemas,
                                      cpis::sim::Dataset::parse(datasetJson(withRecords), "scale-out dataset"));
  simulator.start();
  CountingProxy cpis(simulator.port());

  PgSchema schema(conninfo);
  TempDir dir("cpis-two-instances");
  const std::string configA = dir.file("engine-a.xml");
  const std::string configB = dir.file("engine-b.xml");
  std::ofstream(configA) << engineConfig(schema.connection(), "engine-a", cpis.url());
  std::ofstream(configB) << engineConfig(schema.connection(), "engine-b", cpis.url());

  auto engineA = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", configA});
  BOOST_TEST_REQUIRE(engineA->waitReady(), engineA->errors());
  auto engineB = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", configB});
  BOOST_TEST_REQUIRE(engineB->waitReady(), engineB->errors());
  const std::uint16_t portA = engineA->port("ed");
  const std::uint16_t portB = engineB->port("ed");

  std::mutex mutex;
  std::map<std::string, Sent> sent;  // by control id
  std::atomic<std::size_t> ackedByA{0};
  std::atomic<int> failures{0};
  const auto started = std::chrono::steady_clock::now();

  std::vector<std::thread> senders;
  for (int s = 0; s < 2 * kSendersPerEngine; ++s) {
    senders.emplace_back([&, s] {
      const char home = s < kSendersPerEngine ? 'a' : 'b';
      char current = home;
      std::unique_ptr<MllpClient> client;
      try {
        client = std::make_unique<MllpClient>("127.0.0.1", home == 'a' ? portA : portB, 10s);
      } catch (const Poco::Exception&) {
        client.reset();
      }
      for (int i = 0; i < kPerSender; ++i) {
        const Planned& p = plan[static_cast<std::size_t>(s * kPerSender + i)];
        const std::string message = attendance(p.controlId, p.nhsNumber, p.adult);
        std::optional<std::string> ack;
        if (client) {
          try {
            ack = sendUntilAccepted(*client, message, p.controlId, schema.connection());
          } catch (const Poco::Exception&) {
            ack.reset();
          }
        }
        if (!ack) {
          // The engine is gone (only A is ever killed): move to the survivor and resend.
          if (current != 'a') {
            ++failures;
            return;
          }
          {
            std::lock_guard lock(mutex);
            sent[p.controlId].inFlightAtKill = true;
          }
          current = 'b';
          try {
            client = std::make_unique<MllpClient>("127.0.0.1", portB, 10s);
            ack = sendUntilAccepted(*client, message, p.controlId, schema.connection());
          } catch (const Poco::Exception&) {
            ack.reset();
          }
          if (!ack) {
            ++failures;
            return;
          }
        }
        std::lock_guard lock(mutex);
        Sent& record = sent[p.controlId];
        record.ack = *ack;
        record.ackedBy = current;
        if (current == 'a') ackedByA.fetch_add(1);
      }
    });
  }

  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return ackedByA.load() >= kKillAfter; }, 60s));
  engineA->kill();
  const auto killedAt = std::chrono::steady_clock::now();
  for (auto& t : senders) t.join();
  BOOST_TEST_REQUIRE(failures.load() == 0);

  // Nothing is left unfinished: the survivor took over whatever the dead engine had claimed.
  auto unfinished = [&] {
    return schema.db().query("SELECT count(*) FROM message WHERE state = 'received'").int64(0, 0);
  };
  BOOST_TEST(cpis::test::waitFor([&] { return unfinished() == 0; }, 30s));
  const auto drained = std::chrono::steady_clock::now();

  // Resends of acknowledged messages to the other instance are duplicates: the stored ACK
  // byte for byte, and no lookup. A's to B now; B's to A once A is back under its name.
  const auto lookupsBeforeResends = cpis.total();
  std::vector<std::string> ackedOnA, ackedOnB;
  for (const auto& [id, record] : sent) (record.ackedBy == 'a' ? ackedOnA : ackedOnB).push_back(id);
  BOOST_TEST_REQUIRE(ackedOnA.size() >= kKillAfter);
  {
    MllpClient client("127.0.0.1", portB, 10s);
    for (std::size_t i = 0; i < ackedOnA.size(); i += 3) {
      const auto& p = *std::find_if(plan.begin(), plan.end(), [&](const Planned& q) { return q.controlId == ackedOnA[i]; });
      client.send(attendance(p.controlId, p.nhsNumber, p.adult));
      BOOST_TEST(client.receive(15s).value_or("<no ACK>") == sent[p.controlId].ack, p.controlId);
    }
  }
  engineA = std::make_unique<EngineProcess>(CPIS_ENGINE_BINARY, std::vector<std::string>{"--config", configA});
  BOOST_TEST_REQUIRE(engineA->waitReady(), engineA->errors());
  {
    MllpClient client("127.0.0.1", engineA->port("ed"), 10s);
    for (std::size_t i = 0; i < ackedOnB.size(); i += 3) {
      const auto& p = *std::find_if(plan.begin(), plan.end(), [&](const Planned& q) { return q.controlId == ackedOnB[i]; });
      client.send(attendance(p.controlId, p.nhsNumber, p.adult));
      BOOST_TEST(client.receive(15s).value_or("<no ACK>") == sent[p.controlId].ack, p.controlId);
    }
  }
  BOOST_TEST(cpis.total() == lookupsBeforeResends);
  BOOST_TEST(engineA->terminate() == 0, engineA->errors());
  BOOST_TEST(engineB->terminate() == 0, engineB->errors());

  // Every message: one row, processed, finished, its stored ACK the one its sender got.
  std::map<std::string, int> rows;
  std::map<std::string, std::string> states, acks;
  {
    auto result = schema.db().query("SELECT control_id, state, ack, finished_at IS NOT NULL FROM message");
    for (int r = 0; r < result.rows(); ++r) {
      const std::string id = result.bytes(r, 0);
      ++rows[id];
      states[id] = result.bytes(r, 1);
      acks[id] = result.bytes(r, 2);
      BOOST_TEST(result.boolean(r, 3), id << " has no finish time");
    }
  }
  BOOST_TEST(rows.size() == plan.size());
  std::size_t inFlight = 0, recheckedAfterTakeOver = 0;
  for (const auto& p : plan) {
    const Sent& record = sent[p.controlId];
    BOOST_TEST(rows[p.controlId] == 1, p.controlId << " stored " << rows[p.controlId] << " times");
    BOOST_TEST(states[p.controlId] == "processed", p.controlId);
    BOOST_TEST(acks[p.controlId] == record.ack, p.controlId << ": stored ACK differs from the one sent");
    BOOST_TEST(field(record.ack, "MSA-2") == p.controlId);
    const std::string status = field(record.ack, "ZCP-2");
    BOOST_TEST(status == (p.adult ? "NOT_CHECKED" : p.withRecords ? "FOUND" : "NOT_FOUND"), p.controlId);

    // The lookup rule (see the top of the file).
    const std::size_t lookups = cpis.lookups(p.nhsNumber);
    if (p.adult) {
      BOOST_TEST(lookups == 0u, p.controlId);
    } else if (record.inFlightAtKill) {
      ++inFlight;
      BOOST_TEST((lookups == 1u || lookups == 2u), p.controlId << ": " << lookups << " lookups");
      if (lookups == 2) ++recheckedAfterTakeOver;
    } else {
      BOOST_TEST(lookups == 1u, p.controlId << ": " << lookups << " lookups");
    }
    // The simulator's own record of unscheduled accesses agrees for children with records.
    if (p.withRecords && !p.adult) {
      auto number = cpis::domain::NhsNumber::parse(p.nhsNumber);
      BOOST_TEST(simulator.state().accesses(*number).size() == lookups, p.controlId);
    }
  }
  // Whether the kill caught the killed engine's senders mid-message is the machine's timing, not
  // the engine's doing (a slow ASan run missed it once): said, not failed. Every check above
  // holds either way.
  BOOST_WARN(inFlight >= 1u);

  // Taken over within the lease (5 s) and a renewal round, with room for a loaded machine.
  const auto takeOver = std::chrono::duration_cast<std::chrono::milliseconds>(drained - killedAt);
  BOOST_TEST(takeOver < 20s);
  simulator.stop();
  BOOST_TEST_MESSAGE("two instances: " << plan.size() << " messages, " << ackedOnA.size() << " acknowledged by the killed engine, "
                                       << inFlight << " in flight at the kill (" << recheckedAfterTakeOver
                                       << " checked again after the take-over), drained "
                                       << takeOver.count() << " ms after the kill, whole run "
                                       << std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - started)
                                              .count()
                                       << " ms");
}

// A recovery that outlasts the lease: the recovering instance renews its claims as it goes, so
// the other instance never takes its messages over and no child is looked up twice. Before,
// claims were renewed only between housekeeping rounds: six checks of 2 s each against a 5 s
// lease had the other instance check the last ones again.
BOOST_AUTO_TEST_CASE(a_recovery_longer_than_the_lease_keeps_its_claims) {
  const std::string conninfo = pgConninfo();
  BOOST_TEST_REQUIRE(!conninfo.empty(), "CPIS_TEST_PG is not set: run through ctest (pg_cluster fixture)");
  BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                     "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string());
  constexpr std::size_t kMessages = 6;
  const auto numbers = nhsNumbers(710000, kMessages);

  cpis::config::XercesPlatform xerces;
  cpis::cpis::SpineSchemas schemas(cpis::test::spineSchemaFolder());
  cpis::sim::SpineSimulator simulator(cpis::sim::SimulatorSettings{}, schemas,
                                      cpis::sim::Dataset::parse(datasetJson(numbers), "recovery dataset"));
  simulator.start();
  cpis::sim::Fault slow;
  slow.kind = cpis::sim::Fault::Kind::Delay;
  slow.delay = 2000ms;
  simulator.state().setFault("*", slow);
  CountingProxy cpis(simulator.port());
  PgSchema schema(conninfo);

  // What a run of engine "a" left unfinished (stored, not checked), as a crash leaves it.
  {
    cpis::store::PostgresStoreOptions options;
    options.instance = "engine-a";
    auto store = cpis::store::PostgresMessageStore::open(schema.connection(), options);
    BOOST_TEST_REQUIRE(store.ok(), (store.ok() ? "" : store.error().message()));
    for (std::size_t i = 0; i < kMessages; ++i) {
      const std::string controlId = "R" + std::to_string(i);
      const std::string raw = attendance(controlId, numbers[i], false);
      BOOST_TEST_REQUIRE(store.value()->persistInbound({"ed", controlId, raw}).ok());
    }
    store.value()->close();
  }

  TempDir dir("cpis-two-instances");
  const std::string configA = dir.file("engine-a.xml");
  const std::string configB = dir.file("engine-b.xml");
  std::ofstream(configA) << engineConfig(schema.connection(), "engine-a", cpis.url(), 5);
  std::ofstream(configB) << engineConfig(schema.connection(), "engine-b", cpis.url(), 5);
  // A claims them all as it starts and checks them one by one before it is ready (about 12 s:
  // the shortest lease, 5 s, more than twice); B starts once A holds them, and takes over
  // whatever A's leases let go.
  EngineProcess engineA(CPIS_ENGINE_BINARY, {"--config", configA});
  const auto claimedByA = [&] {
    return schema.db()
        .query("SELECT count(*) FROM message WHERE state = 'received' AND claimed_by = 'engine-a'")
        .int64(0, 0);
  };
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return claimedByA() == static_cast<std::int64_t>(kMessages); }, 60s),
                     engineA.errors());
  EngineProcess engineB(CPIS_ENGINE_BINARY, {"--config", configB});
  BOOST_TEST_REQUIRE(engineB.waitReady(), engineB.errors());
  BOOST_TEST_REQUIRE(engineA.waitReady(), engineA.errors());
  BOOST_TEST(cpis::test::waitFor(
      [&] { return schema.db().query("SELECT count(*) FROM message WHERE state = 'received'").int64(0, 0) == 0; },
      60s));
  BOOST_TEST(engineA.terminate() == 0, engineA.errors());
  BOOST_TEST(engineB.terminate() == 0, engineB.errors());
  for (std::size_t i = 0; i < kMessages; ++i) {
    BOOST_TEST(cpis.lookups(numbers[i]) == 1u, "R" << i << ": " << cpis.lookups(numbers[i]) << " lookups");
  }
  simulator.stop();
}

BOOST_AUTO_TEST_SUITE_END()
