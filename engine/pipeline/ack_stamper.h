#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/hl7v2/ack.h"

namespace cpis::pipeline {

// Stamps each ACK the engine builds: MSH-7 from the clock, MSH-10 unique across the engine's
// runs ("C" + the start time and a counter, in base 36: at most 20 characters, HL7's limit),
// MSH-21 the engine's ACK profile, CPIS-ACK-1.0 (CPIS.md §4; from v2.3.1).
// Thread-safe.
class AckStamper {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  explicit AckStamper(Clock clock = [] { return std::chrono::system_clock::now(); });

  hl7v2::AckOptions next(std::string defaultVersion = "2.4");

 private:
  Clock clock_;
  std::string prefix_;
  std::atomic<std::uint64_t> counter_{0};
};

}  // namespace cpis::pipeline
