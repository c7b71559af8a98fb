#pragma once

// A clock for the store tests: it starts at a fixed instant and moves only when told to, so
// duplicate windows and retention are tested without sleeping.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "engine/store/message_store.h"

namespace cpis::test {

class FakeClock {
 public:
  std::function<store::TimePoint()> function() {
    return [this] { return now(); };
  }
  store::TimePoint now() const { return store::TimePoint(std::chrono::microseconds(micros_.load())); }
  void advance(std::chrono::microseconds by) { micros_ += by.count(); }

 private:
  std::atomic<std::int64_t> micros_{1'767'225'600'000'000};  // 2026-01-01T00:00:00Z
};

}  // namespace cpis::test
