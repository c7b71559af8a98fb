// cpis-bench-hl7v2 [DATA_DIR] [SECONDS_PER_CASE]
//
// Measures, on one thread, the codec work the engine does for every inbound message:
//   parse+ack  a 1.5 KB ADT^A01: parse (copy, index, check) and build the original-mode ACK
//   index      a 64 KB ORU^R01 with ~1,000 OBX segments: parse alone, in MB/s
//   parse+ack  the same 64 KB message
//   get        three Terser paths read from the parsed 1.5 KB message
// Each case runs repeatedly for the given time (default 2 s) in five rounds; the median round
// is reported. Inputs are the corpus files tests/data/hl7v2/adt_a01_bench.hl7 and
// oru_r01_large.hl7.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/message.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cpis-bench-hl7v2: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

volatile std::size_t gSink;  // keeps the optimiser from dropping the work

// Runs `op` in batches for `seconds`, five rounds; returns the median operations per second.
template <typename Op>
double measure(double seconds, Op&& op) {
  std::vector<double> rates;
  for (int round = 0; round < 5; ++round) {
    std::size_t ops = 0;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration<double>(seconds / 5);
    auto now = start;
    do {
      for (int i = 0; i < 256; ++i) gSink = gSink + op();
      ops += 256;
      now = Clock::now();
    } while (now < deadline);
    rates.push_back(static_cast<double>(ops) / std::chrono::duration<double>(now - start).count());
  }
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cpis::hl7v2;
  const std::string dir = argc > 1 ? argv[1] : "tests/data/hl7v2";
  const double seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
  const std::string adt = readFile(dir + "/adt_a01_bench.hl7");
  const std::string oru = readFile(dir + "/oru_r01_large.hl7");
  if (!parse(adt).ok() || !parse(oru).ok()) {
    std::fprintf(stderr, "cpis-bench-hl7v2: benchmark inputs do not parse\n");
    return 2;
  }
  AckOptions options;
  options.controlId = "ACK0000000001";
  options.timestamp = "20261125120000.000+0000";

  const auto parseAck = [&](const std::string& bytes) {
    return [&] {
      auto message = parse(std::string_view(bytes));
      return buildAck(message.value(), AckCode::AA, {}, options).size();
    };
  };
  const double adtRate = measure(seconds, parseAck(adt));
  const double oruIndex =
      measure(seconds, [&] { return parse(std::string_view(oru)).value().segmentCount(); });
  const double oruRate = measure(seconds, parseAck(oru));
  const auto parsedAdt = parse(adt);
  const Path nhs = parsePath("PID-3(2).1").value();
  const Path event = parsePath("MSH-9.2").value();
  const Path location = parsePath("PV1-3.4").value();
  const double getRate = measure(seconds, [&] {
    const Message& m = parsedAdt.value();
    return m.get(nhs).size() + m.get(event).size() + m.get(location).size();
  });

  const double mb = 1024.0 * 1024.0;
  std::printf("case                               size      ops/s        MB/s\n");
  std::printf("parse+ack ADT^A01               %7zu B %10.0f %11.1f\n", adt.size(), adtRate,
              adtRate * adt.size() / mb);
  std::printf("index (parse) ORU^R01           %7zu B %10.0f %11.1f\n", oru.size(), oruIndex,
              oruIndex * oru.size() / mb);
  std::printf("parse+ack ORU^R01               %7zu B %10.0f %11.1f\n", oru.size(), oruRate,
              oruRate * oru.size() / mb);
  std::printf("get x3 (PID-3(2).1 MSH-9.2 PV1-3.4)         %10.0f\n", getRate);
  return 0;
}
