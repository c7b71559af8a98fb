#include "engine/store/message_admission.h"

#include <algorithm>
#include <climits>

namespace cpis::store {

namespace {

// As the writer's: entries are forgotten an hour after they leave the window, so a clock that
// steps back a little does not make the set smaller than the writer's.
constexpr std::int64_t kMarginMicros = 3'600'000'000;

}  // namespace

MessageAdmission::MessageAdmission(std::chrono::microseconds window, MessageId nextId)
    : windowMicros_(window.count()), next_(nextId) {}

void MessageAdmission::load(std::string_view feed, std::string_view controlId, std::int64_t receivedAt,
                            MessageId id) {
  if (windowMicros_ <= 0) return;
  const std::lock_guard lock(mutex_);
  recent_.add(RecentControlIds::keyOf(feed, controlId), id, receivedAt);
  newest_ = std::max(newest_, receivedAt);
}

MessageAdmission::Verdict MessageAdmission::admit(std::string_view feed, std::string_view controlId,
                                                  std::int64_t receivedAt) {
  const std::lock_guard lock(mutex_);
  Verdict verdict{next_++, true};
  if (windowMicros_ <= 0) return verdict;
  const RecentControlIds::Key key = RecentControlIds::keyOf(feed, controlId);
  recent_.candidates(key, receivedAt - windowMicros_, candidates_);
  verdict.certainlyNew = candidates_.empty();
  recent_.add(key, verdict.id, receivedAt);
  newest_ = std::max(newest_, receivedAt);
  if (newest_ > INT64_MIN + windowMicros_ + kMarginMicros) recent_.expire(newest_ - windowMicros_ - kMarginMicros);
  return verdict;
}

}  // namespace cpis::store
