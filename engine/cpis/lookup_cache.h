#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "engine/cpis/lookup.h"
#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::cpis {

// A short-lived memory of CP-IS answers, off unless a time-to-live is configured (CPIS.md:
// "no caching, fail visibly"). Keyed by NHS number AND access mode: a silent read must never
// answer an unscheduled check (the LA would not be told of the attendance), nor the reverse;
// SpineLookup keeps and asks it for silent reads only (an unscheduled check always reaches
// Spine). And by who asks (`requester`: the feed and the author, requesterOf()): an answer had
// for one site is never shown at another, as if that site had asked (hazard H2).
// Only definite answers (Found, NotFound) are kept; a failure is never remembered.
//
// Threading: any thread. The clock is injected so tests move time instead of sleeping.
class LookupCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  LookupCache(std::chrono::milliseconds ttl, std::size_t maxEntries = 10'000, Clock clock = {});

  bool enabled() const noexcept { return ttl_.count() > 0; }
  std::optional<LookupResult> get(const domain::NhsNumber& number, domain::AccessMode mode,
                                  std::string_view requester = {});
  void put(const domain::NhsNumber& number, domain::AccessMode mode, const LookupResult& result,
           std::string_view requester = {});
  // Who asks, as the cache keys it: the feed, and the author's kind, system or user, and organisation.
  static std::string requesterOf(const LookupRequest& request);
  void clear();

  std::size_t size() const;
  std::uint64_t hits() const;

 private:
  using Key = std::tuple<std::string, domain::AccessMode, std::string>;
  struct Entry {
    std::chrono::steady_clock::time_point expires;
    LookupResult result;
  };
  void evictExpired(std::chrono::steady_clock::time_point now);

  const std::chrono::milliseconds ttl_;
  const std::size_t maxEntries_;
  const Clock clock_;
  mutable std::mutex mutex_;
  std::map<Key, Entry> entries_;
  std::uint64_t hits_ = 0;
};

}  // namespace cpis::cpis
