#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string_view>

namespace cpis::cpis {

// Stops hammering a national service that is down, and stops making every clinician wait a
// full time-out for it. After `failureThreshold` failures in a row the breaker opens: checks
// fail at once ("CP-IS unavailable") for `openDuration`; then one request is let through as a
// probe. The probe's success closes the breaker; its failure opens it for another period.
//
// Threading: every member may be called from any thread. The clock is injected so tests move
// time instead of sleeping.
class CircuitBreaker {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  struct Settings {
    std::uint32_t failureThreshold = 5;  // consecutive failures that open the breaker; 0 = never opens
    std::chrono::milliseconds openDuration{30'000};
  };

  enum class State { Closed, Open, HalfOpen };
  enum class Admission {
    Allowed,   // closed: go ahead
    Probe,     // the one request that tests an open breaker; report its outcome
    Rejected,  // open (or a probe is in flight): fail at once
  };

  struct Stats {
    std::uint64_t opened = 0;    // times the breaker opened
    std::uint64_t rejected = 0;  // requests refused while open
    std::uint64_t probes = 0;
  };

  explicit CircuitBreaker(Settings settings, Clock clock = {});

  // Asks to send a request. Every Allowed or Probe admission must be followed by exactly one
  // recordSuccess() or recordFailure() (or release(), for a request that was never sent).
  Admission admit();
  // A background request (a deferred check: nobody waits for it, and it repeats one patient's
  // query): Allowed while the breaker is closed or its open period has passed, never the probe. Its failure
  // is not recorded (one record Spine cannot answer, retried all night, must not open the breaker for every
  // other child, nor fail every probe); its success is.
  Admission admitBackground();
  // True when it closed an open or half-open breaker.
  bool recordSuccess();
  // True when it opened the breaker (the threshold reached, or a probe failed).
  bool recordFailure();
  // The admitted request was not sent after all (e.g. no concurrency slot): a probe slot is
  // handed back without deciding anything.
  void release(Admission admission);

  State state() const;
  Stats stats() const;
  const Settings& settings() const noexcept { return settings_; }

 private:
  const Settings settings_;
  const Clock clock_;
  mutable std::mutex mutex_;
  State state_ = State::Closed;
  std::uint32_t consecutiveFailures_ = 0;
  std::chrono::steady_clock::time_point openedAt_{};
  bool probeInFlight_ = false;
  Stats stats_;
};

std::string_view toString(CircuitBreaker::State state);  // "closed", "open", "half-open"

}  // namespace cpis::cpis
