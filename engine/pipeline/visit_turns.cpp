#include "engine/pipeline/visit_turns.h"

#include <Poco/Logger.h>

#include <utility>

#include "engine/pipeline/work_queue.h"

namespace cpis::pipeline {

VisitTurns::Turn VisitTurns::take(const std::string& visit) {
  if (visit.empty()) return Turn(nullptr, {});
  std::unique_lock lock(mutex_);
  const auto [it, free] = running_.try_emplace(visit);
  if (!free) {
    bool handedOver = false;  // outlives its entry: the entry is taken before the flag is set
    it->second.push_back(Next{nullptr, &handedOver});
    ++waiting_;
    handedOn_.wait(lock, [&] { return handedOver; });
    --waiting_;
  }
  return Turn(this, visit);
}

void VisitTurns::run(const std::string& visit, std::function<void()> job) {
  if (!visit.empty()) {
    const std::lock_guard lock(mutex_);
    const auto [it, free] = running_.try_emplace(visit);
    if (!free) {
      it->second.push_back(Next{std::move(job), nullptr});
      ++parked_;
      return;
    }
  }
  const Turn turn(visit.empty() ? nullptr : this, visit);
  job();
}

void VisitTurns::release(const std::string& visit) {
  for (;;) {
    std::function<void()> next;
    {
      const std::lock_guard lock(mutex_);
      const auto it = running_.find(visit);
      if (it == running_.end()) return;
      if (it->second.empty()) {
        running_.erase(it);
        return;
      }
      Next first = std::move(it->second.front());
      it->second.pop_front();
      if (first.handedOver != nullptr) {
        *first.handedOver = true;  // the turn is the waiting thread's; its Turn ends it
        handedOn_.notify_all();
        return;
      }
      next = std::move(first.job);
      --parked_;
    }
    if (work_.submit([this, visit, next] {
          const Turn turn(this, visit);
          next();
        })) {
      return;
    }
    // The queue is stopping: run here, still in the visit's turn. A destructor calls this, so
    // nothing may escape (the intake's checks catch; the rest should not throw).
    try {
      next();
    } catch (...) {
      Poco::Logger::get("cpis.pipeline")
          .error("a parked check of a visit failed unexpectedly as the engine stopped; recovery checks it");
    }
  }
}

}  // namespace cpis::pipeline
