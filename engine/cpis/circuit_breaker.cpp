#include "engine/cpis/circuit_breaker.h"

#include <utility>

namespace cpis::cpis {

CircuitBreaker::CircuitBreaker(Settings settings, Clock clock)
    : settings_(settings),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

CircuitBreaker::Admission CircuitBreaker::admit() {
  const std::lock_guard lock(mutex_);
  switch (state_) {
    case State::Closed: return Admission::Allowed;
    case State::Open:
      if (clock_() - openedAt_ < settings_.openDuration) break;
      state_ = State::HalfOpen;
      [[fallthrough]];
    case State::HalfOpen:
      if (probeInFlight_) break;
      probeInFlight_ = true;
      ++stats_.probes;
      return Admission::Probe;
  }
  ++stats_.rejected;
  return Admission::Rejected;
}

CircuitBreaker::Admission CircuitBreaker::admitBackground() {
  const std::lock_guard lock(mutex_);
  // Once the open period has passed, background requests go too (not as the probe: their
  // failure decides nothing): an engine with no clinician's check to probe the breaker, a unit
  // closed overnight, would otherwise fail every deferred check until it was abandoned.
  if (state_ == State::Closed || clock_() - openedAt_ >= settings_.openDuration) return Admission::Allowed;
  return Admission::Rejected;
}

bool CircuitBreaker::recordSuccess() {
  const std::lock_guard lock(mutex_);
  const bool closed = state_ != State::Closed;
  consecutiveFailures_ = 0;
  probeInFlight_ = false;
  state_ = State::Closed;
  return closed;
}

bool CircuitBreaker::recordFailure() {
  const std::lock_guard lock(mutex_);
  if (state_ == State::HalfOpen) {
    // The probe failed (or a request admitted before the breaker opened finished late): open
    // again for a full period.
    probeInFlight_ = false;
    state_ = State::Open;
    openedAt_ = clock_();
    ++stats_.opened;
    return true;
  }
  if (state_ == State::Open) return false;  // a request admitted before it opened, ending now
  ++consecutiveFailures_;
  if (settings_.failureThreshold > 0 && consecutiveFailures_ >= settings_.failureThreshold) {
    state_ = State::Open;
    openedAt_ = clock_();
    ++stats_.opened;
    return true;
  }
  return false;
}

void CircuitBreaker::release(Admission admission) {
  if (admission != Admission::Probe) return;
  const std::lock_guard lock(mutex_);
  probeInFlight_ = false;
}

CircuitBreaker::State CircuitBreaker::state() const {
  const std::lock_guard lock(mutex_);
  // An open breaker whose period has passed is still reported open until a probe is admitted.
  return state_;
}

CircuitBreaker::Stats CircuitBreaker::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

std::string_view toString(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::Closed: return "closed";
    case CircuitBreaker::State::Open: return "open";
    case CircuitBreaker::State::HalfOpen: return "half-open";
  }
  return "?";
}

}  // namespace cpis::cpis
