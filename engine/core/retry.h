#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "engine/core/status.h"

namespace cpis::core {

// How an operation that failed for the moment (Status::retryable(): a store or peer briefly
// unavailable) is tried again: pauses from `first`, doubling up to `longest`; `tries` in all,
// the first included (0: no limit).
struct RetryPolicy {
  std::chrono::milliseconds first{100};
  std::chrono::milliseconds longest{5'000};
  std::size_t tries = 0;
};

// Runs `attempt` (() -> Status) until it succeeds, fails for good (not retryable), has had
// its tries, or `pause` (milliseconds -> bool: waits, false to give up, say when stopping)
// gives up. `beforePause` (const Status&, milliseconds) is told of each failure tried again,
// before its pause. Returns the last attempt's status.
template <typename Attempt, typename Pause, typename BeforePause>
Status retryWhileUnavailable(const RetryPolicy& policy, Attempt&& attempt, Pause&& pause, BeforePause&& beforePause) {
  Status status = attempt();
  auto wait = policy.first;
  for (std::size_t tried = 1; !status.isOk() && status.retryable() && (policy.tries == 0 || tried < policy.tries);
       ++tried) {
    beforePause(status, wait);
    if (!pause(wait)) break;
    status = attempt();
    wait = std::min(wait * 2, policy.longest);
  }
  return status;
}

}  // namespace cpis::core
