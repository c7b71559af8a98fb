#include "engine/pipeline/last_outcomes.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "engine/pipeline/memory_journal.h"

namespace cpis::pipeline {

LastOutcomes::LastOutcomes(std::string feed, MemoryJournal* journal, std::size_t capacity)
    : feed_(std::move(feed)), journal_(journal), capacity_(std::max<std::size_t>(capacity, 1)) {}

void LastOutcomes::remember(std::string_view visitNumber, const domain::CheckOutcome& outcome) {
  if (visitNumber.empty()) return;
  const std::lock_guard lock(mutex_);
  if (const auto it = byVisit_.find(std::string(visitNumber)); it != byVisit_.end()) {
    used(it->second);
    if (outcome.status == domain::CheckStatus::NotChecked &&
        it->second.outcome.status != domain::CheckStatus::NotChecked) {
      return;
    }
    it->second.outcome = outcome;
  } else {
    put(visitNumber, outcome);
  }
  if (journal_ != nullptr) journal_->outcomeChanged(feed_, visitNumber, outcome);
}

std::optional<domain::CheckOutcome> LastOutcomes::get(std::string_view visitNumber) const {
  const std::lock_guard lock(mutex_);
  const auto it = byVisit_.find(std::string(visitNumber));
  if (it == byVisit_.end()) return std::nullopt;
  used(it->second);
  return it->second.outcome;
}

bool LastOutcomes::update(std::string_view visitNumber, const std::function<bool(domain::CheckOutcome&)>& change) {
  const std::lock_guard lock(mutex_);
  const auto it = byVisit_.find(std::string(visitNumber));
  if (it == byVisit_.end() || !change(it->second.outcome)) return false;
  used(it->second);
  if (journal_ != nullptr) journal_->outcomeChanged(feed_, visitNumber, it->second.outcome);
  return true;
}

void LastOutcomes::restore(std::string_view visitNumber, const domain::CheckOutcome& outcome) {
  if (visitNumber.empty()) return;
  const std::lock_guard lock(mutex_);
  if (const auto it = byVisit_.find(std::string(visitNumber)); it != byVisit_.end()) {
    order_.erase(it->second.position);
    byVisit_.erase(it);
  }
  put(visitNumber, outcome);
}

void LastOutcomes::put(std::string_view visitNumber, const domain::CheckOutcome& outcome) {
  while (byVisit_.size() >= capacity_) {
    byVisit_.erase(order_.front());
    order_.pop_front();
  }
  order_.emplace_back(visitNumber);
  byVisit_.emplace(std::string(visitNumber), Entry{outcome, std::prev(order_.end())});
}

std::size_t LastOutcomes::size() const {
  const std::lock_guard lock(mutex_);
  return byVisit_.size();
}

}  // namespace cpis::pipeline
