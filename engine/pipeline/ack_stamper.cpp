#include "engine/pipeline/ack_stamper.h"

#include "engine/core/base36.h"

namespace cpis::pipeline {

AckStamper::AckStamper(Clock clock) : clock_(std::move(clock)) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  prefix_ = "C" + core::base36(static_cast<std::uint64_t>(ms)) + "-";  // 10 characters until 2059
}

hl7v2::AckOptions AckStamper::next(std::string defaultVersion) {
  hl7v2::AckOptions options;
  options.controlId = prefix_ + core::base36(counter_.fetch_add(1) + 1);
  options.timestamp = hl7v2::hl7Timestamp(clock_());
  options.defaultVersion = std::move(defaultVersion);
  options.profile = "CPIS-ACK-1.0";  // CPIS.md §4: the ACK profile the alert segments belong to
  return options;
}

}  // namespace cpis::pipeline
