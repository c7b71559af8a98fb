// cpis-bench-scaleout --pg CONNINFO [--instances 1,2] [--cases notfound,found,adult]
//                     [--connections N] [--seconds S] [--rounds R] [--engine PATH] [--extra-config FILE]
//                     [--webhook] [--cpu-limit CORES]
//
// End-to-end messages/s with one and with several cpis-engine instances sharing one PostgreSQL
// database (docs/deployment.md): K engine processes, the same generated configuration apart
// from `instance` (the england_adt adapter and mapping, <check recheckWindowMinutes="0"> so that
// every message is a new check, logging at warning), the CP-IS simulator in this process (a real
// HTTP server on loopback), and N MLLP connections (default 16) spread round robin over the
// engines, each sending ADT^A04 attendances stop-and-wait for S seconds (default 5) after a
// warm-up of 20 messages a connection. Each (case, K) run gets a fresh schema in the database.
//
// Cases: notfound  a child without a CP-IS record per connection (a lookup, "no records")
//        found     a child on a plan per connection (a lookup, a REPC reply, an access recorded)
//        adult     not checked (age out of scope): stored finished in one commit, no lookup
//
// --extra-config FILE: XML inserted into every engine's <cpisEngine> before the feed (e.g. a
// <notify> element), for comparing the cost of what it adds.
//
// --webhook: a webhook sink (sink_webhook, events plan-found and check-failed, concurrency 4)
// posting to a receiver in this process that answers 200; prints the notifications received
// per second while the load ran and, for `found` (one plan-found per message), how long the
// backlog took to drain after it. Compare with a run without --webhook for the outbox's cost.
//
// --cpu-limit CORES: each engine process runs in a control group of its own with that CPU quota
// (e.g. 0.5), standing for a host of that size: on a machine too small to give each instance
// its own cores, this is how one and two instances can be compared without the second simply
// sharing the first one's CPUs. PostgreSQL, the simulator, the senders and the receiver are not
// limited; they need the rest of the machine (watch the load average). Needs root and a cgroup
// cpu controller.
//
// Each line also gives the engines' CPU per message (utime + stime of every instance over the
// measured seconds, divided by the messages acknowledged in them) and the database's (every
// process named postgres on this machine: run it on a machine with no other PostgreSQL busy).
//
// --pg: libpq's connection string of a database this benchmark may create schemas in (e.g.
// the one tests/support/pg-cluster writes to DIR/conninfo); default: the file $CPIS_TEST_PG.
// Schemas: $CPIS_SPINE_SCHEMAS, else ../shared/reference/spine-schema beside the source tree.
// The engine: --engine, else cpis-engine beside this program. Prints one line per run and the
// load average before and after it (the machine may be shared).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/domain/nhs_number.h"
#include "engine/mllp/mllp_client.h"
#include "engine/store/pg_connection.h"
#include "tests/support/engine_process.h"
#include "tests/support/process_cpu.h"
#include "tests/support/temp_dir.h"
#include "tests/support/spine_test_data.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kWarmUpPerConnection = 20;

struct Options {
  std::string pg;
  std::vector<int> instances{1, 2};
  std::vector<std::string> cases{"notfound", "found", "adult"};
  int connections = 16;
  int seconds = 5;
  int rounds = 1;
  std::string engine;
  std::string extraConfig;
  bool webhook = false;
  double cpuLimit = 0;  // cores per engine process; 0: no limit
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  double one = 0, five = 0, fifteen = 0;
  in >> one >> five >> fifteen;
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %.2f %.2f", one, five, fifteen);
  return text;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

// Valid test NHS numbers (999 range, modulus 11) from 999<start> upwards.
// `count` valid NHS numbers from the nine digits `start` on (each with its check digit).
std::vector<std::string> nhsNumbers(long start, std::size_t count) {
  if (std::to_string(start).size() != 9) throw std::invalid_argument("nhsNumbers: start must have nine digits");
  std::vector<std::string> out;
  for (long n = start; out.size() < count; ++n) {
    for (int check = 0; check <= 9; ++check) {
      const std::string text = std::to_string(n) + static_cast<char>('0' + check);
      if (cpis::domain::NhsNumber::parse(text)) {
        out.push_back(text);
        break;
      }
    }
  }
  return out;
}

std::string datasetJson(const std::vector<std::string>& numbers) {
  std::ostringstream json;
  json << R"({"localAuthorities": [{"odsCode": "XLA01", "name": "Exampleshire County Council",
             "emergencyPhone": "01632960001", "workplacePhone": "01632960000"}], "children": [)";
  for (std::size_t i = 0; i < numbers.size(); ++i) {
    json << (i ? "," : "") << R"({"nhsNumber": ")" << numbers[i] << R"(", "label": "bench )" << i
         << R"(", "givenName": "Riley", "familyName": "BENCHTEST", "birthDate": "2015-04-03",
               "records": [{"la": "XLA01", "subject": "CHILD", "plans": [{"type": "CPPI", "start": "2025-03-01"}]}],
               "accesses": []})";
  }
  json << "]}";
  return json.str();
}

std::string attendance(const std::string& controlId, const std::string& nhsNumber, bool adult) {
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|A04|20261125101500||||20261125101200\r"
         "PID|1||" + nhsNumber + "^^^NHS^NH~RZ" + controlId + "^^^RZZ^MR||BENCHTEST^RILEY^^^^^L||" +
         (adult ? "19800101" : "20150403") + "|M||||||||||||||||||||||||NSTS01\r"
         "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||V" + controlId +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r";
}

std::string engineConfig(const std::string& connection, const std::string& instance, const std::string& cpisUrl,
                         const std::string& extra) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30">
    <postgresql connection=")" + connection + R"(" instance=")" + instance + R"("/>
  </store>
  <limits readTimeoutMs="30000" idleTimeoutMs="600000"/>
  <logging format="text" level="warning"/>
  <cpis backend="SIMULATOR" timeoutMs="10000" retries="0">
    <endpoint>)" + cpisUrl + R"(</endpoint>
    <schemaFolder>)" + cpis::test::spineSchemaFolder().string() + R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
)" + extra + R"(
  <feed name="ed">
    <expectedSender application="EDSYS" facility="RZZ"/>
    <listener address="127.0.0.1" port="0"/>
    <adapter name="england_adt"/>
    <mapping file=")" + std::string(CPIS_SOURCE_DIR) + R"(/mappings/england-adt.xml"/>
    <check alerts="ZSEG" recheckWindowMinutes="0">
      <author odsCode="RZZ01" organisation="Example General Hospital" person="Lee SAFEGUARD"
              jobRoleCode="R8003" jobRoleName="Health Professional Access Role"/>
    </check>
  </feed>
</cpisEngine>
)";
}

// A local webhook receiver: answers 200 to every POST and counts them.
class WebhookReceiver {
 public:
  WebhookReceiver() {
    auto params = Poco::AutoPtr<Poco::Net::HTTPServerParams>(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(16);
    params->setKeepAlive(true);  // the sink keeps its connections alive
    server_ = std::make_unique<Poco::Net::HTTPServer>(
        new Factory(received_), Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0)), params);
    server_->start();
  }
  ~WebhookReceiver() { server_->stopAll(true); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->socket().address().port()) + "/hook"; }
  std::size_t received() const { return received_.load(); }

 private:
  class Handler : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(std::atomic<std::size_t>& received) : received_(received) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      std::string body;
      Poco::StreamCopier::copyToString(request.stream(), body);
      received_.fetch_add(1);
      response.setContentLength(0);
      response.send();
    }

   private:
    std::atomic<std::size_t>& received_;
  };
  class Factory : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(std::atomic<std::size_t>& received) : received_(received) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(received_);
    }

   private:
    std::atomic<std::size_t>& received_;
  };
  std::atomic<std::size_t> received_{0};
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

struct RunResult {
  double perSecond = 0, p50 = 0, p99 = 0;
  std::size_t messages = 0, errors = 0;
  double notificationsPerSecond = 0;  // received by the webhook while the load ran
  double drainSeconds = 0;            // after the load, until every notification had arrived
  double engineCpuPerMessage = 0;     // µs, all instances together
  double databaseCpuPerMessage = 0;   // µs, every postgres process on this machine
};

// utime + stime of every process named "postgres" on this machine (the server and its
// backends): the database's share of a message, when it runs here.
double postgresCpuMicros() {
  double micros = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string comm;
    std::getline(std::ifstream(entry.path() / "comm"), comm);
    if (comm == "postgres") micros += cpis::test::processCpuMicros(std::stol(name));
  }
  return micros;
}

RunResult runOnce(const Options& o, const std::string& kase, int instances, int round,
                  cpis::sim::SpineSimulator& simulator, const std::vector<std::string>& withRecords,
                  const std::vector<std::string>& withoutRecords) {
  const std::string schema = "bench_" + std::to_string(::getpid()) + "_" + kase + "_" + std::to_string(instances) +
                             "_" + std::to_string(round);
  cpis::store::PgConnection db(cpis::store::PgConnectSettings{o.pg, "", 10s});
  db.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
  db.exec("CREATE SCHEMA " + schema);
  const std::string connection = o.pg + " options='-csearch_path=" + schema + "'";

  cpis::test::TempDir dir("cpis-bench-scaleout");
  std::unique_ptr<WebhookReceiver> receiver;
  std::string extra = o.extraConfig;
  if (o.webhook) {
    receiver = std::make_unique<WebhookReceiver>();
    std::ofstream(dir.file("webhook-secret")) << "bench-webhook-secret-0123456789abcdef\n";
    extra += R"(<notify pollMs="1000">
    <sink name="safeguarding" plugin="webhook" events="plan-found check-failed" concurrency="4">
      <setting name="url" value=")" + receiver->url() + R"("/>
      <setting name="secret_file" value=")" + dir.file("webhook-secret") + R"("/>
    </sink>
  </notify>)";
  }
  std::vector<std::unique_ptr<cpis::test::CpuLimit>> limits;  // outlive the engines (declared first)
  std::vector<std::unique_ptr<cpis::test::EngineProcess>> engines;
  std::vector<std::uint16_t> ports;
  for (int i = 0; i < instances; ++i) {
    const std::string file = dir.file("engine-" + std::to_string(i) + ".xml");
    std::ofstream(file) << engineConfig(connection, "engine-" + std::to_string(i + 1), simulator.queryUrl(), extra);
    engines.push_back(std::make_unique<cpis::test::EngineProcess>(o.engine, std::vector<std::string>{"--config", file}));
    if (o.cpuLimit > 0) {
      limits.push_back(std::make_unique<cpis::test::CpuLimit>(
          "cpis-bench-" + std::to_string(::getpid()) + "-" + std::to_string(i), o.cpuLimit));
      limits.back()->add(engines.back()->pid());
    }
    if (!engines.back()->waitReady()) throw std::runtime_error("the engine did not start: " + engines.back()->errors());
    ports.push_back(engines.back()->port("ed"));
  }

  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<int> warmedUp{0};
  std::atomic<std::size_t> errors{0};
  std::mutex mutex;
  std::vector<double> latencies;
  std::string firstUnexpected;  // the first ACK that was not what the case expects
  std::size_t measured = 0;
  std::atomic<std::size_t> acknowledged{0};
  std::vector<std::thread> senders;
  for (int c = 0; c < o.connections; ++c) {
    senders.emplace_back([&, c] {
      const bool adult = kase == "adult";
      const std::string expectedStatus = kase == "found" ? "\rZCP|1|FOUND|" : adult ? "\rZCP|1|NOT_CHECKED|" : "\rZCP|1|NOT_FOUND|";
      const std::string& number = kase == "found" ? withRecords[static_cast<std::size_t>(c)]
                                                  : withoutRecords[static_cast<std::size_t>(c)];
      std::vector<double> mine;
      std::size_t count = 0;
      try {
        cpis::mllp::MllpClient client("127.0.0.1", ports[static_cast<std::size_t>(c % instances)], 10s);
        for (int i = 0; !stop.load(); ++i) {
          if (i == kWarmUpPerConnection) warmedUp.fetch_add(1);
          const std::string id = "B" + std::to_string(round) + "C" + std::to_string(c) + "N" + std::to_string(i);
          const auto sent = Clock::now();
          client.send(attendance(id, number, adult));
          const auto ack = client.receive(30s);
          // An AA is not enough: a failed check is acknowledged AA too (ZCP-2 CHECK_FAILED).
          if (!ack || ack->find("MSA|AA|") == std::string::npos || ack->find(expectedStatus) == std::string::npos) {
            if (ack && firstUnexpected.empty()) {
              const std::lock_guard lock(mutex);
              if (firstUnexpected.empty()) firstUnexpected = *ack;
            }
            errors.fetch_add(1);
            if (!ack) return;
          } else {
            acknowledged.fetch_add(1);
          }
          if (measuring.load()) {
            mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
            ++count;
          }
        }
      } catch (const std::exception&) {
        errors.fetch_add(1);
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
      measured += count;
    });
  }
  while (warmedUp.load() < o.connections && errors.load() == 0) std::this_thread::sleep_for(10ms);
  measuring = true;
  const std::size_t notifiedBefore = receiver ? receiver->received() : 0;
  auto enginesCpu = [&] {
    double micros = 0;
    for (const auto& e : engines) micros += cpis::test::processCpuMicros(e->pid());
    return micros;
  };
  const double cpuBefore = enginesCpu();
  const double databaseBefore = postgresCpuMicros();
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  measuring = false;
  const double cpuDuring = enginesCpu() - cpuBefore;
  const double databaseDuring = postgresCpuMicros() - databaseBefore;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const std::size_t notifiedDuring = receiver ? receiver->received() - notifiedBefore : 0;
  stop = true;
  for (auto& t : senders) t.join();
  double drain = 0;
  if (receiver && kase == "found") {
    // Every FOUND attendance queues one plan-found notification: wait for the backlog.
    const auto loadEnded = Clock::now();
    while (receiver->received() < acknowledged.load() && Clock::now() - loadEnded < 120s) {
      std::this_thread::sleep_for(5ms);
    }
    drain = std::chrono::duration<double>(Clock::now() - loadEnded).count();
  }
  for (auto& e : engines) e->terminate();
  if (!firstUnexpected.empty()) {
    // Test data only (the benchmark's generated children): safe to show.
    std::string shown = firstUnexpected;
    std::replace(shown.begin(), shown.end(), '\r', '\n');
    std::fprintf(stderr, "cpis-bench-scaleout: %s: an unexpected acknowledgement:\n%s\n", kase.c_str(), shown.c_str());
  }
  db.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");

  RunResult r;
  r.messages = measured;
  r.perSecond = static_cast<double>(measured) / elapsed;
  r.p50 = percentile(latencies, 0.50);
  r.p99 = percentile(latencies, 0.99);
  r.errors = errors.load();
  r.notificationsPerSecond = static_cast<double>(notifiedDuring) / elapsed;
  r.drainSeconds = drain;
  r.engineCpuPerMessage = measured == 0 ? 0 : cpuDuring / static_cast<double>(measured);
  r.databaseCpuPerMessage = measured == 0 ? 0 : databaseDuring / static_cast<double>(measured);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) {
        std::cerr << a << " needs a value\n";
        std::exit(64);
      }
      return args[++i];
    };
    if (a == "--pg") o.pg = value();
    else if (a == "--instances") {
      o.instances.clear();
      for (const auto& k : split(value())) o.instances.push_back(std::stoi(k));
    } else if (a == "--cases") o.cases = split(value());
    else if (a == "--connections") o.connections = std::stoi(value());
    else if (a == "--seconds") o.seconds = std::stoi(value());
    else if (a == "--rounds") o.rounds = std::stoi(value());
    else if (a == "--engine") o.engine = value();
    else if (a == "--extra-config") o.extraConfig = readFile(value());
    else if (a == "--webhook") o.webhook = true;
    else if (a == "--cpu-limit") o.cpuLimit = std::stod(value());
    else {
      std::cerr << "usage: cpis-bench-scaleout --pg CONNINFO [--instances 1,2] [--cases notfound,found,adult] "
                   "[--connections N] [--seconds S] [--rounds R] [--engine PATH] [--extra-config FILE] [--webhook] "
                   "[--cpu-limit CORES]\n";
      return 64;
    }
  }
  if (o.pg.empty()) {
    if (const char* file = std::getenv("CPIS_TEST_PG")) std::getline(std::ifstream(file), o.pg);
  }
  if (o.pg.empty()) {
    std::cerr << "cpis-bench-scaleout: --pg CONNINFO (or $CPIS_TEST_PG naming a file with it) is required\n";
    return 64;
  }
  if (o.engine.empty()) {
    o.engine = (std::filesystem::canonical("/proc/self/exe").parent_path() / "cpis-engine").string();
  }

  cpis::config::XercesPlatform xerces;
  cpis::cpis::SpineSchemas schemas(cpis::test::spineSchemaFolder());
  const auto withRecords = nhsNumbers(999600000, static_cast<std::size_t>(o.connections));
  const auto withoutRecords = nhsNumbers(999700000, static_cast<std::size_t>(o.connections));
  cpis::sim::SimulatorSettings settings;
  settings.maxThreads = 64;
  cpis::sim::SpineSimulator simulator(settings, schemas, cpis::sim::Dataset::parse(datasetJson(withRecords), "bench"));
  simulator.start();

  if (o.cpuLimit > 0) std::printf("each engine process limited to %.2f cores (cgroup)\n", o.cpuLimit);
  std::printf("%-9s %9s %5s %12s %8s %8s %12s %12s %7s %9s %7s  %s\n", "case", "instances", "round", "messages/s",
              "p50 ms", "p99 ms", "engine µs/msg", "db µs/msg", "errors", "notify/s", "drain s",
              "load average before -> after");
  for (const auto& kase : o.cases) {
    for (int round = 0; round < o.rounds; ++round) {
      for (const int k : o.instances) {
        const std::string before = loadAverage();
        const auto r = runOnce(o, kase, k, round, simulator, withRecords, withoutRecords);
        std::printf("%-9s %9d %5d %12.0f %8.2f %8.2f %12.0f %12.0f %7zu %9.0f %7.2f  %s -> %s\n", kase.c_str(),
                    k, round + 1, r.perSecond, r.p50, r.p99, r.engineCpuPerMessage, r.databaseCpuPerMessage,
                    r.errors, r.notificationsPerSecond, r.drainSeconds, before.c_str(), loadAverage().c_str());
        std::fflush(stdout);
      }
    }
  }
  simulator.stop();
  return 0;
}
