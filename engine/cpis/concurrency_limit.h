#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

namespace cpis::cpis {

// At most `limit` CP-IS requests in flight at once, so a burst of attendances cannot open
// hundreds of connections to Spine (or exhaust the pool of sessions). A caller over the limit
// waits for a slot until its own deadline, then gives up.
//
// Threading: any thread. A Permit must not outlive its ConcurrencyLimit.
class ConcurrencyLimit {
 public:
  class Permit {
   public:
    Permit(Permit&& other) noexcept : limit_(other.limit_) { other.limit_ = nullptr; }
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() {
      if (limit_ != nullptr) limit_->release();
    }

   private:
    friend class ConcurrencyLimit;
    explicit Permit(ConcurrencyLimit* limit) : limit_(limit) {}
    ConcurrencyLimit* limit_;
  };

  explicit ConcurrencyLimit(std::size_t limit);  // 0 is taken as 1

  // A slot, waiting for one until `deadline`; nullopt when none freed in time.
  std::optional<Permit> acquire(std::chrono::steady_clock::time_point deadline);

  std::size_t limit() const noexcept { return limit_; }
  std::size_t inUse() const;
  std::size_t highWater() const;     // the most slots ever in use at once
  std::uint64_t refused() const;     // callers that gave up waiting

 private:
  void release();

  const std::size_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::size_t inUse_ = 0;
  std::size_t highWater_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace cpis::cpis
