#include "engine/pipeline/ack_stamper.h"

namespace cpis::pipeline {
namespace {
std::string base36(std::uint64_t value) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[value % 36]);
    value /= 36;
  } while (value > 0);
  return out;
}
}  // namespace

AckStamper::AckStamper(Clock clock) : clock_(std::move(clock)) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
  prefix_ = "C" + base36(static_cast<std::uint64_t>(ms)) + "-";  // 10 characters until 2059
}

hl7v2::AckOptions AckStamper::next(std::string defaultVersion) {
  hl7v2::AckOptions options;
  options.controlId = prefix_ + base36(counter_.fetch_add(1) + 1);
  options.timestamp = hl7v2::hl7Timestamp(clock_());
  options.defaultVersion = std::move(defaultVersion);
  return options;
}

}  // namespace cpis::pipeline
