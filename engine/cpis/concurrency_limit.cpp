#include "engine/cpis/concurrency_limit.h"

#include <algorithm>

namespace cpis::cpis {

ConcurrencyLimit::ConcurrencyLimit(std::size_t limit) : limit_(std::max<std::size_t>(limit, 1)) {}

std::optional<ConcurrencyLimit::Permit> ConcurrencyLimit::acquire(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (!freed_.wait_until(lock, deadline, [&] { return inUse_ < limit_; })) {
    ++refused_;
    return std::nullopt;
  }
  ++inUse_;
  highWater_ = std::max(highWater_, inUse_);
  return Permit(this);
}

void ConcurrencyLimit::release() {
  {
    const std::lock_guard lock(mutex_);
    --inUse_;
  }
  freed_.notify_one();
}

std::size_t ConcurrencyLimit::inUse() const {
  const std::lock_guard lock(mutex_);
  return inUse_;
}

std::size_t ConcurrencyLimit::highWater() const {
  const std::lock_guard lock(mutex_);
  return highWater_;
}

std::uint64_t ConcurrencyLimit::refused() const {
  const std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace cpis::cpis
