#include "engine/store/recent_control_ids.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <tuple>

namespace cpis::store {

RecentControlIds::Key RecentControlIds::keyOf(std::string_view feed, std::string_view controlId) {
  const std::hash<std::string_view> hash;
  const Key f = hash(feed);
  // Mixed so that (feed, id) and (id, feed) differ; equal keys are confirmed against the row.
  return hash(controlId) ^ (f + 0x9e3779b97f4a7c15ULL + (f << 6) + (f >> 2));
}

void RecentControlIds::candidates(Key key, std::int64_t since, std::vector<MessageId>& out) const {
  out.clear();
  const auto [first, last] = byKey_.equal_range(key);
  if (first == last) return;
  std::vector<Entry> found;
  for (auto it = first; it != last; ++it) {
    if (it->second.receivedAt >= since) found.push_back(it->second);
  }
  std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.receivedAt, a.id) > std::tie(b.receivedAt, b.id);
  });
  for (const Entry& entry : found) out.push_back(entry.id);
}

void RecentControlIds::add(Key key, MessageId id, std::int64_t receivedAt) {
  order_.push_back(Added{key, id, receivedAt});
  try {
    byKey_.emplace(key, Entry{id, receivedAt});
  } catch (...) {
    order_.pop_back();
    throw;
  }
}

void RecentControlIds::forget(const Added& added) {
  const auto [first, last] = byKey_.equal_range(added.key);
  for (auto it = first; it != last; ++it) {
    if (it->second.id == added.id) {
      byKey_.erase(it);
      return;
    }
  }
}

void RecentControlIds::expire(std::int64_t before) {
  while (!order_.empty() && order_.front().receivedAt < before) {
    forget(order_.front());
    order_.pop_front();
  }
}

void RecentControlIds::expireOutside(std::int64_t newest, std::int64_t windowMicros) {
  if (newest > INT64_MIN + windowMicros + kMarginMicros) expire(newest - windowMicros - kMarginMicros);
}

void RecentControlIds::rollback(std::size_t mark) {
  while (order_.size() > mark) {
    forget(order_.back());
    order_.pop_back();
  }
}

void RecentControlIds::clear() {
  byKey_.clear();
  order_.clear();
}

}  // namespace cpis::store
