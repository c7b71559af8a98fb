#pragma once

#include <chrono>
#include <thread>

namespace cpis::test {

// Waits until `condition` holds, polling; the timeout only ends a broken test. Tests never
// sleep to synchronise: they wait for what they expect to see.
template <typename Condition>
bool waitFor(Condition&& condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace cpis::test
