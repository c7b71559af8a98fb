#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/domain/attendance.h"
#include "engine/pipeline/decide.h"

namespace cpis::pipeline {

class MemoryJournal;

// The last outcome of each attendance (by visit number) of one feed: an update that changes
// nothing repeats it (DecisionKind::RepeatPrevious). As many attendances as the decider's
// memory, least recently used first out, so that what the decider repeats is here (otherwise
// the attendance is checked again, a second query). Every change is told to the journal, when
// there is one. Thread-safe.
class LastOutcomes {
 public:
  explicit LastOutcomes(std::string feed, MemoryJournal* journal = nullptr,
                        std::size_t capacity = kRememberedAttendances);

  // As the decider's memory (Decider::record): a NOT_CHECKED outcome does not hide the
  // attendance's real check, which a later update repeats.
  void remember(std::string_view visitNumber, const domain::CheckOutcome& outcome);
  std::optional<domain::CheckOutcome> get(std::string_view visitNumber) const;
  // Runs `change` on the attendance's outcome, when there is one, under this object's lock; a
  // change it reports (true) is kept as the attendance's newest use, and journaled.
  bool update(std::string_view visitNumber, const std::function<bool(domain::CheckOutcome&)>& change);
  // An outcome as the store kept it: the newest, not journaled. At start-up.
  void restore(std::string_view visitNumber, const domain::CheckOutcome& outcome);
  std::size_t size() const;

 private:
  struct Entry {
    domain::CheckOutcome outcome;
    std::list<std::string>::iterator position;
  };
  void put(std::string_view visitNumber, const domain::CheckOutcome& outcome);  // mutex_ held, not there yet
  void used(const Entry& entry) const { order_.splice(order_.end(), order_, entry.position); }

  const std::string feed_;
  MemoryJournal* const journal_;
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> byVisit_;
  mutable std::list<std::string> order_;  // least recently used first
};

}  // namespace cpis::pipeline
