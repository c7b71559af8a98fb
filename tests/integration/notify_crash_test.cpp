// The outbox under stress (docs/notifications.md, "Delivery semantics"): the engine (a child
// process, with the webhook sink from build/lib) delivers plan-found notifications to a webhook
// receiver in this process while children are checked against the simulator.
//   - kill -9 while deliveries are in flight, restart on the same store: every notification is
//     delivered at least once, one idempotency key per FOUND check, and a key arrives twice
//     only when its first delivery was cut off by a kill;
//   - a receiver that refuses for a while: the backlog drains once it is back, and an ordered
//     sink gets one attendance's notifications (plan-found, then cancelled) in order.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>
#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
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
#include "tests/integration/engine_fixture.h"
#include "tests/support/wait_for.h"
#include "tests/support/spine_test_data.h"

using namespace std::chrono_literals;
using cpis::mllp::MllpClient;
using cpis::test::EngineFixture;
using cpis::test::EngineProcess;

namespace {

std::string field(const std::string& hl7, const std::string& path) {
  auto message = cpis::hl7v2::parse(hl7);
  return message ? message.value().get(path) : "<unreadable>";
}

// Children the simulator's dataset holds on a plan: every unscheduled check of them is FOUND.
constexpr const char* kChildrenOnPlans[] = {"9990000018", "9990000034", "9990000476", "9990000107"};

// An ED attendance (A04) or its cancellation (A11) for `visit`.
std::string adt(const std::string& controlId, const std::string& visit, const std::string& nhsNumber,
                const std::string& event = "A04") {
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^" + event + "^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|" + event + "|20261125101500||||20261125101200\r"
         "PID|1||" + nhsNumber + "^^^NHS^NH~RZ" + controlId + "^^^RZZ^MR||TESTCHILD^ALEX^^^^^L||20150403"
         "|M||||||||||||||||||||||||NSTS01\r"
         "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||" + visit +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r";
}

// One request the receiver saw.
struct Delivery {
  std::string key;     // Idempotency-Key
  int status = 0;      // what the receiver answered
  int generation = 0;  // the engine process (round) that sent it: the URL's ?round=
};

// A webhook receiver on 127.0.0.1, port 0, that records every request and answers as `decide`
// says (a status, after an optional delay that keeps deliveries in flight).
class Receiver {
 public:
  struct Answer {
    int status = 200;
    std::chrono::milliseconds delay{0};
  };
  using Policy = std::function<Answer(std::size_t requestNumber)>;

  explicit Receiver(Policy policy) : state_(std::make_shared<State>()) {
    state_->policy = std::move(policy);
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setKeepAlive(false);
    params->setMaxThreads(16);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(state_), *pool_, socket, params);
    server_->start();
  }
  ~Receiver() {
    server_->stopAll(true);
    server_.reset();
    pool_->joinAll();
  }

  // Each engine process is configured with its own round in the URL, so a request is told
  // apart by the process that sent it (also one that the receiver reads after a kill).
  std::string url(int round = 0) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hooks/cpis?round=" + std::to_string(round);
  }
  std::vector<Delivery> all() const {
    const std::lock_guard lock(state_->mutex);
    return state_->deliveries;
  }
  // Requests answered 2xx that the engine process of `generation` sent.
  std::size_t acceptedIn(int generation) const {
    const std::lock_guard lock(state_->mutex);
    std::size_t n = 0;
    for (const auto& d : state_->deliveries) n += d.status == 200 && d.generation == generation;
    return n;
  }

 private:
  struct State {
    std::mutex mutex;
    std::vector<Delivery> deliveries;
    Policy policy;
  };
  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(std::shared_ptr<State> state) : state_(std::move(state)) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      Delivery seen;
      seen.key = request.get("Idempotency-Key", "");
      const std::string uri = request.getURI();
      const auto round = uri.find("round=");
      seen.generation = round == std::string::npos ? -1 : std::atoi(uri.c_str() + round + 6);
      Answer answer;
      {
        const std::lock_guard lock(state_->mutex);
        answer = state_->policy(state_->deliveries.size());
        seen.status = answer.status;
        state_->deliveries.push_back(seen);
      }
      // A slow receiver: the delivery stays in flight (a property of the peer, not a wait).
      if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
      response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
      response.setContentLength(2);
      response.send() << "{}";
    }

   private:
    std::shared_ptr<State> state_;
  };
  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(std::shared_ptr<State> state) : state_(std::move(state)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(state_);
    }

   private:
    std::shared_ptr<State> state_;
  };

  std::shared_ptr<State> state_;
  std::unique_ptr<Poco::ThreadPool> pool_ = std::make_unique<Poco::ThreadPool>(2, 16);
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

struct OutboxRow {
  std::string sink, kind, key, state;
};

// The outbox, read straight from the database file (also while the engine runs: a busy
// database gives nullopt, and the caller looks again).
std::optional<std::vector<OutboxRow>> readOutbox(const std::string& path) {
  try {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session("SQLite", path);
    std::vector<std::string> sinks, kinds, keys, states;
    using Poco::Data::Keywords::into;
    using Poco::Data::Keywords::now;
    session << "SELECT sink, kind, idempotency_key, state FROM outbox ORDER BY id", into(sinks), into(kinds),
        into(keys), into(states), now;
    std::vector<OutboxRow> rows;
    for (std::size_t i = 0; i < keys.size(); ++i) rows.push_back({sinks[i], kinds[i], keys[i], states[i]});
    return rows;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

// (control id, outcome) of every stored message.
std::vector<std::pair<std::string, std::string>> outcomes(const std::string& path) {
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session("SQLite", path);
  std::vector<std::string> ids, texts;
  using Poco::Data::Keywords::into;
  using Poco::Data::Keywords::now;
  session << "SELECT control_id, outcome FROM message ORDER BY id", into(ids), into(texts), now;
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out.emplace_back(ids[i], texts[i]);
  return out;
}

// Waits until the outbox holds no pending entry (looking every 50 ms).
bool outboxDrained(const std::string& path, std::chrono::milliseconds timeout) {
  auto last = std::chrono::steady_clock::now() - 1s;
  return cpis::test::waitFor(
      [&] {
        if (std::chrono::steady_clock::now() - last < 50ms) return false;
        last = std::chrono::steady_clock::now();
        const auto rows = readOutbox(path);
        if (!rows) return false;
        for (const auto& row : *rows) {
          if (row.state == "pending") return false;
        }
        return true;
      },
      timeout);
}

// The simulator (in this process) and an engine configuration with one webhook sink.
struct NotifyFixture {
  NotifyFixture() {
    BOOST_TEST_REQUIRE(std::filesystem::is_directory(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas"),
                       "NHS Digital's CP-IS schemas are needed at " << cpis::test::spineSchemaFolder().string()
                                                                    << " (or set CPIS_SPINE_SCHEMAS)");
    schemas = std::make_unique<cpis::cpis::SpineSchemas>(cpis::test::spineSchemaFolder());
    simulator = std::make_unique<cpis::sim::SpineSimulator>(
        cpis::sim::SimulatorSettings{}, *schemas,
        cpis::sim::Dataset::load(cpis::test::simulatorDataset()));
    simulator->start();
    std::ofstream(f.dir.file("hook-secret")) << "a-test-signing-secret\n";
  }
  ~NotifyFixture() {
    if (simulator) simulator->stop();
  }

  // `sinkAttributes` go on the <sink> (events, concurrency, ordered).
  std::string writeConfig(const std::string& url, const std::string& sinkAttributes) const {
    const std::string path = f.dir.file("notify.xml");
    std::ofstream(path) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="store.db"/></store>
  <limits readTimeoutMs="5000" idleTimeoutMs="60000"/>
  <logging format="text" level="warning"/>
  <cpis backend="SIMULATOR" timeoutMs="3000" retries="0">
    <endpoint>)" << simulator->queryUrl() << R"(</endpoint>
    <schemaFolder>)" << cpis::test::spineSchemaFolder().string() << R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
  <notify pollMs="100" backoffMinMs="20" backoffMaxMs="150" maxAttempts="200" deferredChecks="false">
    <sink name="hook" plugin="webhook" )" << sinkAttributes << R"(>
      <setting name="url" value=")" << url << R"("/>
      <setting name="secret_file" value=")" << f.dir.file("hook-secret") << R"("/>
      <setting name="timeout_ms" value="5000"/>
    </sink>
  </notify>
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
    return path;
  }

  EngineFixture f;
  cpis::config::XercesPlatform xerces;
  std::unique_ptr<cpis::cpis::SpineSchemas> schemas;
  std::unique_ptr<cpis::sim::SpineSimulator> simulator;
};

// The idempotency key of the plan-found a FOUND, unscheduled ACK announces, or empty.
std::string planFoundKey(const std::string& ack, const std::string& visit) {
  if (field(ack, "MSA-1") != "AA" || field(ack, "ZCP-2") != "FOUND" || field(ack, "ZCP-16") != "UNSCHEDULED") return {};
  return "plan-found:ed:" + visit + ":" + field(ack, "ZCP-15.1");
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(notify_crash, NotifyFixture)

BOOST_AUTO_TEST_CASE(kill_9_mid_delivery_loses_no_notification_and_repeats_only_those_in_flight) {
  constexpr int kRounds = 4;
  constexpr int kConnections = 3;
  constexpr int kPerConnection = 25;  // messages a connection sends per round at most
  constexpr std::size_t kConcurrency = 4;
  std::mt19937 random(20261125);  // fixed seed: the same kill points every run
  std::mutex randomMutex;
  // Every fifth request refused (503, retried after back-off), the others answered after
  // 2-20 ms, so that several deliveries are in flight when the kill comes.
  Receiver receiver([&](std::size_t n) {
    if (n % 5 == 4) return Receiver::Answer{503, 1ms};
    const std::lock_guard lock(randomMutex);
    return Receiver::Answer{200, std::chrono::milliseconds(2 + random() % 19)};
  });
  std::set<std::string> acknowledged;  // keys of the plan-found that acknowledged FOUND checks announce
  std::string config;
  for (int round = 0; round < kRounds; ++round) {
    config = writeConfig(receiver.url(round), R"(events="plan-found" concurrency="4")");
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    const std::uint16_t port = engine.port("ed");
    std::size_t killAfter = 0;
    {
      const std::lock_guard lock(randomMutex);
      killAfter = 5 + random() % 25;  // deliveries accepted in this round before the kill
    }
    std::mutex mutex;
    std::set<std::string> acked;
    std::vector<std::thread> senders;
    for (int c = 0; c < kConnections; ++c) {
      senders.emplace_back([&, c] {
        try {
          MllpClient client("127.0.0.1", port, 5s);
          for (int i = 0; i < kPerConnection; ++i) {
            const std::string visit = "K" + std::to_string(round) + "C" + std::to_string(c) + "N" + std::to_string(i);
            client.send(adt(visit, visit, kChildrenOnPlans[(c + i) % 4]));
            const auto ack = client.receive(10s);
            if (!ack) return;  // the engine is gone
            if (const std::string key = planFoundKey(*ack, visit); !key.empty()) {
              const std::lock_guard lock(mutex);
              acked.insert(key);
            }
          }
        } catch (const Poco::Exception&) {
          // connection reset by the kill
        }
      });
    }
    BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return receiver.acceptedIn(round) >= killAfter; }, 15s));
    engine.kill();
    for (auto& t : senders) t.join();
    acknowledged.insert(acked.begin(), acked.end());
  }

  // The last start: recovery finishes the messages, the dispatcher the outbox.
  config = writeConfig(receiver.url(kRounds), R"(events="plan-found" concurrency="4")");
  EngineProcess last(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(last.waitReady(), last.errors());
  BOOST_TEST(outboxDrained(f.storePath(), 15s));
  BOOST_TEST(last.terminate() == 0);

  // Every stored message processed, and one plan-found per message (each checks a child on a plan).
  const auto stored = f.storedMessages();
  for (const auto& [id, state] : stored) BOOST_TEST(state == "processed", id);
  const auto rows = readOutbox(f.storePath());
  BOOST_TEST_REQUIRE(rows.has_value());
  std::set<std::string> expected;
  for (const auto& row : *rows) {
    BOOST_TEST(row.sink == "hook");
    BOOST_TEST(row.kind == "plan-found");
    BOOST_TEST(row.state == "delivered", row.key);
    expected.insert(row.key);
  }
  BOOST_TEST(expected.size() == rows->size());
  BOOST_TEST(expected.size() == stored.size());
  for (const auto& [id, outcome] : outcomes(f.storePath())) {
    bool found = false;
    for (const auto& key : expected) found = found || key.find(":" + id + ":") != std::string::npos;
    BOOST_TEST(found, "message " << id << " (" << outcome << ") has no plan-found");
  }
  BOOST_TEST(acknowledged.size() >= std::size_t{kRounds * 5});
  for (const auto& key : acknowledged) BOOST_TEST(expected.count(key) == 1u, "acknowledged but not in the outbox: " << key);

  // At the receiver: every key delivered, no other key, and a key twice only when its first
  // acceptance came from a process that was killed (in flight: accepted, not yet marked).
  std::map<std::string, std::vector<int>> acceptedBy;  // key -> generations that got a 2xx
  for (const auto& d : receiver.all()) {
    if (d.status == 200) acceptedBy[d.key].push_back(d.generation);
  }
  std::set<std::string> delivered;
  for (const auto& [key, generations] : acceptedBy) delivered.insert(key);
  BOOST_TEST(delivered == expected);
  std::map<int, std::size_t> repeatsAfterKill;  // killed generation -> keys it left to be repeated
  std::size_t repeats = 0;
  for (auto& [key, generations] : acceptedBy) {
    std::sort(generations.begin(), generations.end());  // a killed process's request may be read late
    for (std::size_t i = 0; i + 1 < generations.size(); ++i) {
      BOOST_TEST(generations[i] < generations[i + 1], key << " accepted twice by one process");
      BOOST_TEST(generations[i] < kRounds, key << " repeated after the last, clean, start");
      ++repeatsAfterKill[generations[i]];
      ++repeats;
    }
  }
  for (const auto& [generation, n] : repeatsAfterKill) {
    BOOST_TEST(n <= kConcurrency, "round " << generation << " left " << n << " deliveries in flight");
  }
  const std::string logs = last.errors() + last.output();
  for (const char* phi : {"9990000018", "TESTCHILD", "20150403"}) BOOST_TEST(logs.find(phi) == std::string::npos, phi);
  BOOST_TEST_MESSAGE("notify crash: " << kRounds << " kills, " << stored.size() << " messages, " << expected.size()
                                      << " notifications, " << repeats << " delivered again after a kill");
}

BOOST_AUTO_TEST_CASE(a_receiver_down_for_a_while_gets_the_backlog_in_order_once_back) {
  constexpr std::size_t kRefused = 30;  // the receiver is down for its first 30 requests
  constexpr int kVisits = 6;
  Receiver receiver([&](std::size_t n) { return Receiver::Answer{n < kRefused ? 503 : 200, 0ms}; });
  const std::string config =
      writeConfig(receiver.url(), R"(events="plan-found cancelled" concurrency="4" ordered="true")");
  EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
  MllpClient client("127.0.0.1", engine.port("ed"), 10s);

  // Each attendance: checked (FOUND: plan-found), then cancelled by an A11 (cancelled), both
  // written while the receiver refuses.
  std::set<std::string> expected;
  for (int v = 0; v < kVisits; ++v) {
    const std::string visit = "OV" + std::to_string(v);
    client.send(adt(visit + "A", visit, kChildrenOnPlans[v % 4]));
    const auto ack = client.receive(15s).value_or("<no ACK>");
    const std::string key = planFoundKey(ack, visit);
    BOOST_TEST_REQUIRE(!key.empty(), ack);
    expected.insert(key);
    client.send(adt(visit + "X", visit, kChildrenOnPlans[v % 4], "A11"));
    BOOST_TEST_REQUIRE(field(client.receive(15s).value_or("<no ACK>"), "MSA-1") == "AA");
    expected.insert("cancelled:ed:" + visit + ":" + visit + "X");
  }

  BOOST_TEST(outboxDrained(f.storePath(), 15s));
  const auto all = receiver.all();
  BOOST_TEST(all.size() > kRefused);  // it was down, then the backlog came
  std::set<std::string> delivered;
  for (const auto& d : all) {
    if (d.status == 200) delivered.insert(d.key);
  }
  BOOST_TEST(delivered == expected);

  // Ordered: nothing of an attendance is tried before its earlier notification was accepted.
  std::map<std::string, bool> planFoundAccepted;  // visit -> its plan-found accepted
  std::size_t planFoundRefused = 0;
  for (const auto& d : all) {
    const auto firstColon = d.key.find(':');
    const std::string kind = d.key.substr(0, firstColon);
    const auto visitStart = d.key.find(':', firstColon + 1) + 1;
    const std::string visit = d.key.substr(visitStart, d.key.find(':', visitStart) - visitStart);
    if (kind == "plan-found") {
      if (d.status == 200) planFoundAccepted[visit] = true;
      planFoundRefused += d.status != 200;
    } else {
      BOOST_TEST(kind == "cancelled");
      BOOST_TEST(planFoundAccepted[visit], d.key << " tried before its attendance's plan-found was delivered");
    }
  }
  BOOST_TEST(planFoundRefused > 0u);  // the cancellations were written while their plan-found waited
  const auto rows = readOutbox(f.storePath());
  BOOST_TEST_REQUIRE(rows.has_value());
  BOOST_TEST(rows->size() == expected.size());
  for (const auto& row : *rows) BOOST_TEST(row.state == "delivered", row.key);
  BOOST_TEST(engine.terminate() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
