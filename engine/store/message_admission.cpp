#include "engine/store/message_admission.h"

#include <algorithm>

namespace cpis::store {

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
  recent_.expireOutside(newest_, windowMicros_);  // as the writer's set: never smaller than it
  return verdict;
}

}  // namespace cpis::store
