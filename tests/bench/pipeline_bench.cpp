// cpis-bench-pipeline [--seconds S] [--connections N] [--cases LIST] [--engine PATH] [--rounds R]
//                     [--rate R] [--samples CSV]
//
// The pipeline end to end, as an EPR and Spine see it: the cpis-engine daemon (a child process,
// a generated configuration: the england_adt adapter and mapping, a durable SQLite store in a
// temporary folder, logging at warning, <check recheckWindowMinutes="0"> so that every message
// is a new check) and the CP-IS simulator in this process (a real HTTP server on loopback).
// N connections (default 16) each send 1.5 KB ADT^A01 messages of one child of their own over
// MLLP, stop-and-wait, for S seconds (default 5) after a warm-up of 30 messages a connection
// (which also fills each FOUND child's access history to the 25 a reply carries).
//
// Cases (--cases, comma-separated; default all three):
//   notfound  every connection's child has no CP-IS record (valid NHS numbers, modulus 11, that
//             the dataset does not hold): QUQI "no records" replies, ACK ZCP-2 NOT_FOUND
//   found     every connection's child is on a plan (the shipped dataset's children without a
//             fault): REPC replies with 25 prior accesses, ACK ZCP-2 FOUND
//   mixed     half the connections each
// Each case runs against a fresh engine and store, --rounds times (default 1).
//
// --rate R: paced instead of flat out: the connections together offer R messages/s, each
// sending on its own schedule (every N/R seconds, staggered). A message held up by the engine
// (its connection's previous ACK came after the message was due) counts from when it was due,
// not when it went, so falling behind shows in the latencies rather than hiding in a lower rate
// (no coordinated omission). A message whose sending thread merely woke late counts from when
// it went: that lateness is the load generator's, not the engine's. The "sender lag p99" column
// says how late messages went, for either reason. Without --rate each connection sends its
// next message as soon as the last is answered: the rate is the most the machine does, and the
// latencies are mostly queueing for the CPUs (Little's law: N connections / rate).
//
// --samples CSV: appends every measured message to CSV (case, connection, ms into the phase,
// round trip µs, simulator µs, sender lag µs), to see whether the slow ones come together.
//
// The engine's own time per message is its round trip at the sender minus the simulator's time
// for that message's lookup (its onQueryAnsweredFor hook, the X-Cpis-Sim-Time-Us value: from
// reading the query to writing the reply). Each connection has its own child and one message
// in flight, so the simulator's answer for that child is the one for that message.
// CPU: the engine process's (utime + stime from /proc), the simulator's (this process's minus
// the sending threads'), per message. On a 2-core machine all three share the cores: the
// figures include waiting for a CPU.
//
// Schemas: $CPIS_SPINE_SCHEMAS, else ../shared/reference/spine-schema beside the source tree.
// The engine: --engine, else cpis-engine beside this program.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/spine_simulator.h"
#include "engine/config/xerces_platform.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/domain/nhs_number.h"
#include "engine/mllp/mllp_client.h"
#include "tests/support/engine_process.h"
#include "tests/support/process_cpu.h"
#include "tests/support/temp_dir.h"
#include "tests/support/spine_test_data.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kWarmUpPerConnection = 30;

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

double ownCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto micros = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
  };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

double threadCpuMicros() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) * 1e-3;
}

// NHS numbers (999 range, valid modulus 11) that the dataset does not hold.
std::vector<std::string> numbersWithoutRecord(const cpis::sim::Dataset& dataset, std::size_t count) {
  std::vector<std::string> numbers;
  for (long n = 999200000; numbers.size() < count && n < 999300000; ++n) {
    for (int check = 0; check <= 9; ++check) {
      const std::string text = std::to_string(n) + static_cast<char>('0' + check);
      const auto number = cpis::domain::NhsNumber::parse(text);
      if (!number) continue;
      if (dataset.find(*number) == nullptr) numbers.push_back(text);
      break;
    }
  }
  return numbers;
}

// Children the dataset holds records for and answers normally (no fault), one per connection.
std::vector<std::string> numbersWithPlans(const cpis::sim::Dataset& dataset, std::size_t count) {
  std::vector<std::string> numbers;
  for (const auto& child : dataset.children()) {
    if (numbers.size() == count) break;
    if (child.fault) continue;
    numbers.emplace_back(child.nhsNumber.reveal());
  }
  return numbers;
}

// A 1.5 KB ADT^A01 in the NHS England profile: an ED arrival of a child, with the segments a
// real feed sends around it (PD1, NK1, PV2, AL1, OBX, DG1).
std::string adt(const std::string& controlId, const std::string& nhsNumber, const std::string& visit) {
  return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A01^ADT_A01|" + controlId +
         "|P|2.4|||||GBR||EN||ITKv1.0\r"
         "EVN|A01|20261125101500||||20261125101200|RZZ01\r"
         "PID|1||" + nhsNumber + "^^^NHS^NH~RZ" + visit +
         "^^^RZZ^MR||BENCHTEST^RILEY^MORGAN^^MSTR^^L||20150403|M|||27 TEST AVENUE^FLAT 2^TESTTOWN^TESTSHIRE^TE2 "
         "9ST^GBR^H||01632 960112^PRN^PH~07700 900112^PRN^CP||en^English^ISO639|||||||A^White - "
         "British^NHSETH||||||||||NSTS01\r"
         "PD1|||TEST MEDICAL PRACTICE 2^^Z99902|G9999982^TESTGP^ROBIN^^^DR\r"
         "NK1|1|BENCHTEST^CHARLIE^^^MRS|MTH^Mother^HL70063|27 TEST AVENUE^FLAT 2^TESTTOWN^TESTSHIRE^TE2 "
         "9ST^GBR^H|07700 900113^PRN^CP||N^Next-of-Kin^HL70131\r"
         "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||" + visit +
         "^^^RZZ^VN|||||||||||||||||||||||||20261125101200\r"
         "PV2|||J459^ACUTE EXACERBATION OF ASTHMA^I10|||||20261125|20261128|3\r"
         "AL1|1|DA|DPEN^Penicillin^L|MO|RASH|20210611\r"
         "AL1|2|FA|FPEANUT^Peanut^L|SV|ANAPHYLAXIS|20200302\r"
         "OBX|1|NM|29463-7^Body weight^LN||22.6|kg^kilogram^UCUM|||||F|||20261125100000\r"
         "OBX|2|NM|59408-5^Oxygen saturation by Pulse oximetry^LN||91|%^percent^UCUM|95-100|L|||F|||20261125100000"
         "||||MON-ED-C5^RZZ01\r"
         "OBX|3|NM|8867-4^Heart rate^LN||134|/min^per minute^UCUM|70-120|H|||F|||20261125100000||||MON-ED-C5^RZZ01\r"
         "DG1|1||J459^Asthma, unspecified^I10|Asthma, unspecified|20261125101200|A\r"
         "DG1|2||Z880^Personal history of allergy to penicillin^I10||20261125101200|W\r";
}

// The value of segment `segment`'s field `index` in an ACK ("" if absent).
std::string fieldOf(const std::string& message, const std::string& segment, std::size_t index) {
  std::size_t at = 0;
  while (at < message.size()) {
    const auto end = std::min(message.find('\r', at), message.size());
    const std::string line = message.substr(at, end - at);
    if (line.rfind(segment + "|", 0) == 0) {
      std::size_t start = 0;
      for (std::size_t i = 0; i < index; ++i) {
        start = line.find('|', start);
        if (start == std::string::npos) return {};
        ++start;
      }
      return line.substr(start, line.find('|', start) - start);
    }
    at = end + 1;
  }
  return {};
}

// The simulator's time for each child's latest lookup, and how many it has answered.
class SimulatorTimes {
 public:
  void add(const std::string& nhsNumber, std::chrono::microseconds took) {
    {
      const std::lock_guard lock(mutex_);
      auto& slot = slots_[nhsNumber];
      ++slot.answered;
      slot.lastMicros = static_cast<double>(took.count());
    }
    changed_.notify_all();
  }
  // Waits until `nhsNumber` has had `answered` lookups answered; the time of the last one, or
  // a negative value if that did not happen within the time-out.
  double waitFor(const std::string& nhsNumber, long answered, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const bool ok = changed_.wait_for(lock, timeout, [&] { return slots_[nhsNumber].answered >= answered; });
    return ok ? slots_[nhsNumber].lastMicros : -1;
  }
  long answered(const std::string& nhsNumber) {
    const std::lock_guard lock(mutex_);
    return slots_[nhsNumber].answered;
  }

 private:
  struct Slot {
    long answered = 0;
    double lastMicros = 0;
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Slot> slots_;
};

struct Options {
  double seconds = 5;
  int connections = 16;
  int rounds = 1;
  std::vector<std::string> cases{"notfound", "found", "mixed"};
  std::string engine;
  std::string samplesPath;  // --samples: every measured message as a CSV line, for looking at the tail
  double rate = 0;  // messages/s offered by all connections together; 0: flat out
};

struct Sample {
  double totalMicros;
  double simulatorMicros;
  double lagMicros;  // paced: how late the sender sent it (woken late, or held up by the previous ACK)
  Clock::time_point sent;
};

std::string writeConfig(const cpis::test::TempDir& dir, const std::string& simulatorUrl, int connections) {
  const std::string path = dir.file("cpis-engine-bench.xml");
  std::ofstream(path) << R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store duplicateWindowHours="168" retentionDays="30" groupCommit="true"><sqlite path="store.db"/></store>
  <limits maxMessageBytes="1048576" readTimeoutMs="30000" idleTimeoutMs="600000" maxConnectionsPerListener=")"
                      << connections + 16 << R"("/>
  <logging format="text" level="warning"/>
  <cpis backend="SIMULATOR" timeoutMs="5000" retries="0" maxConcurrent="64">
    <endpoint>)" << simulatorUrl << R"(</endpoint>
    <schemaFolder>)" << cpis::test::spineSchemaFolder().string() << R"(</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
  <feed name="bench">
    <expectedSender application="EDSYS" facility="RZZ"/>
    <listener address="127.0.0.1" port="0"/>
    <acknowledgement mode="original"/>
    <adapter name="england_adt"/>
    <mapping file=")" << CPIS_SOURCE_DIR << R"(/mappings/england-adt.xml"/>
    <check alerts="ZSEG" recheckWindowMinutes="0">
      <author odsCode="RZZ01" organisation="Example General Hospital" person="Lee SAFEGUARD"
              jobRoleCode="R8003" jobRoleName="Health Professional Access Role"/>
    </check>
  </feed>
</cpisEngine>
)";
  return path;
}

void runCase(const std::string& name, const Options& options, const cpis::cpis::SpineSchemas& schemas,
             const cpis::sim::Dataset& dataset) {
  const auto n = static_cast<std::size_t>(options.connections);
  std::vector<std::string> numbers, expected;
  const auto withPlans = numbersWithPlans(dataset, n);
  const auto without = numbersWithoutRecord(dataset, n);
  for (std::size_t i = 0; i < n; ++i) {
    const bool found = name == "found" || (name == "mixed" && i % 2 == 0);
    const std::size_t index = name == "mixed" ? i / 2 : i;
    if ((found ? withPlans.size() : without.size()) <= index) {
      std::fprintf(stderr, "not enough children for %zu connections\n", n);
      return;
    }
    numbers.push_back(found ? withPlans[index] : without[index]);
    expected.push_back(found ? "FOUND" : "NOT_FOUND");
  }

  SimulatorTimes times;
  cpis::sim::SimulatorSettings simSettings;
  simSettings.serviceAsid = "990000000001";
  simSettings.maxThreads = options.connections * 2 + 8;
  simSettings.onQueryAnsweredFor = [&](const std::string&, const std::string& nhsNumber,
                                       std::chrono::microseconds took) { times.add(nhsNumber, took); };
  cpis::sim::SpineSimulator simulator(simSettings, schemas, dataset);
  simulator.start();

  cpis::test::TempDir dir("cpis-bench-pipeline");
  const std::string config = writeConfig(dir, simulator.queryUrl(), options.connections);
  cpis::test::EngineProcess engine(options.engine, {"--config", config});
  if (!engine.waitReady()) {
    std::fprintf(stderr, "the engine did not start: %s\n", engine.errors().c_str());
    simulator.stop();
    return;
  }
  const long enginePid = engine.pid();
  const std::uint16_t port = engine.port("bench");

  std::atomic<int> phase{0};  // 0 warm-up, 1 measuring, 2 stop
  std::atomic<int> warmedUp{0};
  std::atomic<long> errors{0};
  std::vector<std::vector<Sample>> samples(n);
  std::vector<double> senderCpu(n, 0);
  std::vector<std::thread> threads;
  std::mutex firstErrorMutex;
  std::string firstError;
  for (std::size_t c = 0; c < n; ++c) {
    threads.emplace_back([&, c] {
      const std::string& number = numbers[c];
      double cpuMeasured = 0;
      try {
        cpis::mllp::MllpClient client("127.0.0.1", port, 10s);
        long sent = 0;
        long answeredBefore = times.answered(number);
        bool counted = false;
        const auto interval = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(options.rate > 0 ? static_cast<double>(n) / options.rate : 0.0));
        auto due = Clock::now() + interval * static_cast<long>(c) / static_cast<long>(n);  // staggered
        auto lastAnswer = Clock::time_point::min();  // when this connection's previous ACK came
        for (;;) {
          const int now = phase.load();
          if (now == 2) break;
          if (sent == kWarmUpPerConnection && !counted) {
            counted = true;
            ++warmedUp;
          }
          const bool measuring = now == 1 && counted;
          const double cpuStart = threadCpuMicros();
          const std::string controlId = "B" + std::to_string(c) + "-" + std::to_string(sent);
          const std::string message = adt(controlId, number, "V" + std::to_string(c) + "-" + std::to_string(sent));
          if (options.rate > 0) {
            // Pacing the load, not synchronising: wait for this message's turn.
            if (Clock::now() < due) std::this_thread::sleep_until(due);
          }
          const auto sending = Clock::now();
          const double lag =
              options.rate > 0 ? std::chrono::duration<double, std::micro>(sending - due).count() : 0.0;
          // Held up by the engine's previous answer: from when it was due; else from when it went.
          const auto before = options.rate > 0 && lastAnswer > due ? due : sending;
          due += interval;
          client.send(message);
          const auto ack = client.receive(30s);
          lastAnswer = Clock::now();
          const double total = std::chrono::duration<double, std::micro>(lastAnswer - before).count();
          ++sent;
          const double cpuSend = threadCpuMicros() - cpuStart;
          const std::string status = ack ? fieldOf(*ack, "ZCP", 2) : std::string();
          if (!ack || fieldOf(*ack, "MSA", 1) != "AA" || status != expected[c]) {
            ++errors;
            const std::lock_guard lock(firstErrorMutex);
            if (firstError.empty()) firstError = ack ? "unexpected ACK: " + *ack : std::string("no ACK");
            continue;
          }
          const double simulatorMicros = times.waitFor(number, ++answeredBefore, 5s);
          if (simulatorMicros < 0) {
            ++errors;
            answeredBefore = times.answered(number);
            continue;
          }
          if (measuring) {
            samples[c].push_back({total, simulatorMicros, lag, sending});
            cpuMeasured += cpuSend;
          }
        }
      } catch (const std::exception& e) {
        ++errors;
        const std::lock_guard lock(firstErrorMutex);
        if (firstError.empty()) firstError = e.what();
      }
      senderCpu[c] = cpuMeasured;
    });
  }
  const auto warmUpDeadline = Clock::now() + 120s;
  while (warmedUp.load() < options.connections && Clock::now() < warmUpDeadline && errors.load() < 100) {
    std::this_thread::sleep_for(10ms);
  }
  const double engineCpuBefore = cpis::test::processCpuMicros(enginePid);
  const double ownCpuBefore = ownCpuMicros();
  const auto started = Clock::now();
  phase = 1;
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  phase = 2;
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  const double engineCpu = cpis::test::processCpuMicros(enginePid) - engineCpuBefore;
  const double ownCpu = ownCpuMicros() - ownCpuBefore;
  for (auto& thread : threads) thread.join();
  engine.terminate();
  simulator.stop();

  std::vector<double> total, simulatorTime, own, lag;
  double sendersCpu = 0;
  for (std::size_t c = 0; c < n; ++c) {
    sendersCpu += senderCpu[c];
    for (const auto& s : samples[c]) {
      total.push_back(s.totalMicros);
      simulatorTime.push_back(s.simulatorMicros);
      own.push_back(s.totalMicros - s.simulatorMicros);
      lag.push_back(s.lagMicros);
    }
  }
  if (!options.samplesPath.empty()) {
    // Appended, one line per measured message: case, connection, when it went (ms after the
    // measured phase began), its round trip, the simulator's time and the sender's lag (µs).
    std::ofstream out(options.samplesPath, std::ios::app);
    for (std::size_t c = 0; c < n; ++c) {
      for (const auto& s : samples[c]) {
        out << name << ',' << c << ',' << std::chrono::duration<double, std::milli>(s.sent - started).count() << ','
            << s.totalMicros << ',' << s.simulatorMicros << ',' << s.lagMicros << '\n';
      }
    }
  }
  const double count = static_cast<double>(total.size());
  const auto perMessage = [&](double micros) { return count > 0 ? micros / count : 0.0; };
  std::printf(
      "| %s | %d | %zu | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %ld |\n",
      name.c_str(), options.connections, total.size(), count / elapsed, percentile(total, 0.5) / 1000,
      percentile(total, 0.99) / 1000, percentile(simulatorTime, 0.5) / 1000, percentile(simulatorTime, 0.99) / 1000,
      percentile(own, 0.5) / 1000, percentile(own, 0.99) / 1000,
      total.empty() ? 0.0 : *std::max_element(own.begin(), own.end()) / 1000, percentile(lag, 0.99) / 1000,
      perMessage(engineCpu), perMessage(ownCpu - sendersCpu), perMessage(sendersCpu), errors.load());
  std::fflush(stdout);
  if (!firstError.empty()) std::fprintf(stderr, "  first error: %s\n", firstError.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  options.engine = (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "cpis-engine").string();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") {
      options.seconds = std::atof(value().c_str());
    } else if (a == "--connections") {
      options.connections = std::atoi(value().c_str());
    } else if (a == "--rounds") {
      options.rounds = std::atoi(value().c_str());
    } else if (a == "--engine") {
      options.engine = value();
    } else if (a == "--rate") {
      options.rate = std::atof(value().c_str());
    } else if (a == "--samples") {
      options.samplesPath = value();
    } else if (a == "--cases") {
      options.cases.clear();
      std::stringstream list(value());
      for (std::string item; std::getline(list, item, ',');) options.cases.push_back(item);
    } else {
      std::fprintf(stderr,
                   "usage: cpis-bench-pipeline [--seconds S] [--connections N] [--cases notfound,found,mixed] "
                   "[--engine PATH] [--rounds R] [--rate R] [--samples CSV]\n");
      return 2;
    }
  }
  if (options.seconds <= 0 || options.connections <= 0 || options.rounds <= 0) {
    std::fprintf(stderr, "--seconds, --connections and --rounds must be positive\n");
    return 2;
  }
  for (const auto& c : options.cases) {
    if (c != "notfound" && c != "found" && c != "mixed") {
      std::fprintf(stderr, "unknown case %s (notfound, found, mixed)\n", c.c_str());
      return 2;
    }
  }
  try {
    const cpis::config::XercesPlatform xerces;
    const cpis::cpis::SpineSchemas schemas(cpis::test::spineSchemaFolder());
    const auto dataset =
        cpis::sim::Dataset::load(cpis::test::simulatorDataset());
    std::printf("%.1f s per case after %d warm-up messages a connection; engine %s; %u cores; %s\n\n",
                options.seconds, kWarmUpPerConnection, options.engine.c_str(), std::thread::hardware_concurrency(),
                options.rate > 0 ? ("paced: " + std::to_string(static_cast<long>(options.rate)) + " messages/s offered")
                                       .c_str()
                                 : "flat out");
    std::printf("| case | connections | messages | messages/s | total p50 ms | total p99 ms | simulator p50 ms | "
                "simulator p99 ms | engine own p50 ms | engine own p99 ms | engine own max ms | sender lag p99 ms | "
                "engine CPU µs/msg | simulator CPU µs/msg | sender CPU µs/msg | errors |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int round = 0; round < options.rounds; ++round) {
      for (const auto& c : options.cases) runCase(c, options, schemas, dataset);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpis-bench-pipeline: %s\n", e.what());
    return 1;
  }
  return 0;
}
