#include "engine/cpis/lookup_cache.h"

#include <algorithm>

namespace cpis::cpis {

LookupCache::LookupCache(std::chrono::milliseconds ttl, std::size_t maxEntries, Clock clock)
    : ttl_(ttl),
      maxEntries_(std::max<std::size_t>(maxEntries, 1)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

std::string LookupCache::requesterOf(const LookupRequest& request) {
  const Author& a = request.author;
  std::string out = request.feedId;
  for (const std::string* part : {&a.asid, &a.sdsUserId, &a.orgOdsCode}) {
    out += '\x1f';
    out += *part;
  }
  out += a.kind == Author::Kind::System ? "\x1fS" : "\x1fP";
  return out;
}

std::optional<LookupResult> LookupCache::get(const domain::NhsNumber& number, domain::AccessMode mode,
                                             std::string_view requester) {
  if (!enabled()) return std::nullopt;
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(Key{std::string(number.reveal()), mode, std::string(requester)});
  if (it == entries_.end()) return std::nullopt;
  if (clock_() >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  ++hits_;
  return it->second.result;
}

void LookupCache::put(const domain::NhsNumber& number, domain::AccessMode mode, const LookupResult& result,
                      std::string_view requester) {
  if (!enabled()) return;
  if (result.status != domain::CheckStatus::Found && result.status != domain::CheckStatus::NotFound) return;
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= maxEntries_) evictExpired(now);
  if (entries_.size() >= maxEntries_) {
    // Still full of live entries: drop the one closest to expiry.
    const auto oldest = std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
      return a.second.expires < b.second.expires;
    });
    entries_.erase(oldest);
  }
  entries_.insert_or_assign(Key{std::string(number.reveal()), mode, std::string(requester)}, Entry{now + ttl_, result});
}

void LookupCache::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
}

std::size_t LookupCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t LookupCache::hits() const {
  const std::lock_guard lock(mutex_);
  return hits_;
}

void LookupCache::evictExpired(std::chrono::steady_clock::time_point now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now >= it->second.expires ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace cpis::cpis
