// cpis-bench-cpis-lookup [SECONDS_PER_CASE] [--no-tls]
//
// The CP-IS client (SpineLookup) against the CP-IS simulator in the same process, over
// loopback: lookups per second and p50/p99 latency at 1 and 32 lookups in flight, with plain
// HTTP and with mutual TLS (certificates made with the openssl command), and at 32 with the
// SQLite audit log on. Every lookup is a scheduled (silent-read) query for a child with one
// plan and two earlier accesses: the query is built, validated by the simulator against the
// schemas, answered, and the reply validated again by the client, as in production.
//
// The simulator reports its own time for each query (X-Cpis-Sim-Time-Us, from reading the
// request to writing the reply); the benchmark pairs it with the client's latency by message
// id, so "client added" is latency minus the simulator's time, per lookup: the client's
// building, parsing and validating, HTTP, and the wait for a CPU on a 2-core machine.
// "CPU µs/lookup" is the whole process's CPU time (client and simulator together) per lookup:
// on N idle cores the pair cannot exceed N x 10^6 / that figure lookups per second.
//
// Schemas: $CPIS_SPINE_SCHEMAS, else ../shared/reference/spine-schema beside the source tree.
// Run from anywhere; the dataset is the shipped one.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/SSLManager.h>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_lookup.h"
#include "engine/store/sqlite_audit_log.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"
#include "tests/support/spine_test_data.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace client = cpis::cpis;

// CPU time of the whole process (client, simulator, audit writer), in microseconds.
double processCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto micros = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec); };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

struct Case {
  std::string name;
  int concurrency = 1;
  bool tls = false;
  bool audit = false;
};

struct Sample {
  std::string messageId;
  double latencyMicros = 0;
};

class ServerTimes {
 public:
  void add(const std::string& id, std::chrono::microseconds took) {
    const std::lock_guard lock(mutex_);
    times_[id] = static_cast<double>(took.count());
  }
  std::map<std::string, double> take() {
    const std::lock_guard lock(mutex_);
    return std::move(times_);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, double> times_;
};

client::Author author() {
  client::Author a;
  a.kind = client::Author::Kind::System;
  a.asid = "200000000101";
  a.jobRoleCode = "R0260";
  a.jobRoleName = "General Medical Practitioner";
  a.personName = "Lee Safeguard";
  a.orgOdsCode = "RZZ01";
  a.orgName = "Example Hospital Emergency Department";
  return a;
}

void runCase(const Case& c, double seconds, const client::SpineSchemas& schemas, const cpis::sim::Dataset& dataset,
             const cpis::test::TestPki* pki) {
  ServerTimes serverTimes;
  cpis::sim::SimulatorSettings simSettings;
  simSettings.serviceAsid = "990000000001";
  simSettings.onQueryAnswered = [&](const std::string& id, std::chrono::microseconds took) {
    serverTimes.add(id, took);
  };
  if (c.tls) {
    simSettings.tls = client::ServerTlsSettings{pki->serverCertificate(), pki->serverKey(), "", pki->caCertificate(), true};
  }
  cpis::sim::SpineSimulator simulator(simSettings, schemas, dataset);
  simulator.start();

  client::SpineLookupSettings settings;
  settings.endpoint = client::Endpoint::parse(simulator.queryUrl()).value();
  if (c.tls) {
    settings.tls = client::ClientTlsSettings{pki->clientCertificate("epr01"), pki->clientKey("epr01"), "",
                                             pki->caCertificate()};
  }
  settings.fromAsid = "200000000101";
  settings.toAsid = "990000000001";
  settings.source = cpis::domain::Source::Simulator;
  settings.maxConcurrent = static_cast<std::size_t>(c.concurrency);
  settings.retries = 0;
  cpis::test::TempDir dir("cpis-bench-audit");
  std::unique_ptr<cpis::store::SqliteAuditLog> audit;
  if (c.audit) audit = cpis::store::SqliteAuditLog::open(dir.file("engine.db")).value();
  client::SpineLookup lookup(settings, schemas, audit.get());

  const auto number = *cpis::domain::NhsNumber::parse("9990000018");
  const auto makeRequest = [&] {
    return client::LookupRequest{.nhsNumber = number,
                                 .mode = cpis::domain::AccessMode::Scheduled,
                                 .author = author(),
                                 .checkId = client::newMessageId(),
                                 .feedId = "bench",
                                 .locationKey = "RZZ01/ED",
                                 .answerBy = std::nullopt,
                                 .earlierMayHaveArrived = false};
  };
  // Warm-up: connections, TLS sessions, parser pools.
  for (int i = 0; i < 50; ++i) lookup.lookup(makeRequest());
  serverTimes.take();

  std::atomic<bool> stop{false};
  std::atomic<long> failed{0};
  std::vector<std::vector<Sample>> samples(static_cast<std::size_t>(c.concurrency));
  std::vector<std::thread> threads;
  const auto started = Clock::now();
  const double cpuBefore = processCpuMicros();
  for (int t = 0; t < c.concurrency; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = samples[static_cast<std::size_t>(t)];
      while (!stop.load(std::memory_order_relaxed)) {
        const auto before = Clock::now();
        const auto result = lookup.lookup(makeRequest());
        const auto took = std::chrono::duration<double, std::micro>(Clock::now() - before).count();
        if (result.status != cpis::domain::CheckStatus::Found) {
          ++failed;
          continue;
        }
        mine.push_back({result.transportMessageId, took});
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double cpu = processCpuMicros() - cpuBefore;
  if (audit) static_cast<void>(audit->flush());
  simulator.stop();

  const auto server = serverTimes.take();
  std::vector<double> latency, serverTime, added;
  for (const auto& perThread : samples) {
    for (const auto& s : perThread) {
      latency.push_back(s.latencyMicros);
      const auto it = server.find(s.messageId);
      if (it == server.end()) continue;
      serverTime.push_back(it->second);
      added.push_back(s.latencyMicros - it->second);
    }
  }
  std::printf("| %s | %d | %s | %s | %ld | %.0f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %ld |\n",
              c.name.c_str(), c.concurrency, c.tls ? "mutual TLS" : "HTTP", c.audit ? "on" : "off",
              static_cast<long>(latency.size()), static_cast<double>(latency.size()) / elapsed,
              percentile(latency, 0.5) / 1000, percentile(latency, 0.99) / 1000,
              percentile(serverTime, 0.5) / 1000, percentile(serverTime, 0.99) / 1000,
              percentile(added, 0.5) / 1000, percentile(added, 0.99) / 1000,
              latency.empty() ? 0.0 : cpu / static_cast<double>(latency.size()), failed.load());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  bool tls = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-tls") {
      tls = false;
    } else {
      seconds = std::atof(argv[i]);
      if (seconds <= 0) {
        std::fprintf(stderr, "usage: cpis-bench-cpis-lookup [SECONDS_PER_CASE] [--no-tls]\n");
        return 2;
      }
    }
  }
  const std::filesystem::path schemaFolder = cpis::test::spineSchemaFolder();
  Poco::Net::initializeSSL();
  {
    const cpis::config::XercesPlatform xerces;
    const client::SpineSchemas schemas(schemaFolder);
    const auto dataset =
        cpis::sim::Dataset::load(cpis::test::simulatorDataset());
    std::unique_ptr<cpis::test::TestPki> pki;
    if (tls) pki = std::make_unique<cpis::test::TestPki>();

    std::printf("%.1f s per case after 50 warm-up lookups; client and simulator in one process on %u cores\n\n",
                seconds, std::thread::hardware_concurrency());
    std::printf("| case | in flight | transport | audit | lookups | lookups/s | p50 ms | p99 ms | simulator p50 ms "
                "| simulator p99 ms | client added p50 ms | client added p99 ms | CPU µs/lookup | failed |\n");
    std::printf("|---|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    std::vector<Case> cases{{"sequential", 1, false, false}, {"concurrent", 32, false, false}};
    if (tls) {
      cases.push_back({"sequential", 1, true, false});
      cases.push_back({"concurrent", 32, true, false});
    }
    cases.push_back({"concurrent, audited", 32, false, true});
    for (const auto& c : cases) runCase(c, seconds, schemas, dataset, pki.get());
  }
  Poco::Net::uninitializeSSL();
  return 0;
}
