#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace cpis::pipeline {

class WorkQueue;

// The checks of one visit run one at a time (hazard H7: one query an attendance). A check on a
// work-queue thread whose visit is being checked is parked, not waited for: the thread goes on
// to other visits' checks, and the parked one is queued again when the visit's turn reaches it.
// (Waiting there, a burst of one visit's updates behind a slow lookup held every cpis-check
// thread, and with them every other child's check.) A caller off the queue (a connection's own
// thread, recovery at start) waits for the turn, in the same line as the parked checks: the
// turn passes in order of arrival, so a steady stream of one visit's parked checks cannot keep
// a waiting thread (and a recovery's store claims) waiting for ever.
class VisitTurns {
 public:
  // `work`: where parked checks go when their turn comes.
  explicit VisitTurns(WorkQueue& work) : work_(work) {}
  VisitTurns(const VisitTurns&) = delete;
  VisitTurns& operator=(const VisitTurns&) = delete;

  // Ends a turn taken by take() or run(), on any path: the turn passes to the next in the
  // visit's line (a parked check, queued; a waiting thread, woken), or the visit is free.
  class Turn {
   public:
    Turn(VisitTurns* turns, std::string visit) : turns_(turns), visit_(std::move(visit)) {}
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn() {
      if (turns_ != nullptr) turns_->release(visit_);
    }

   private:
    VisitTurns* turns_;
    std::string visit_;
  };

  // Blocks while a check of `visit` runs or others are in line before this caller; then it is
  // this caller's turn until the Turn ends. An empty visit shares a turn with nothing.
  Turn take(const std::string& visit);

  // Runs `job` in the visit's turn: here and now when no check of it runs, else parked (and
  // queued on the work queue when its turn comes; run here if that queue is stopping).
  void run(const std::string& visit, std::function<void()> job);

  // Checks parked behind their visit's running check: back-pressure counts them as queued.
  std::size_t parked() const { return parked_.load(); }
  // Callers blocked in take().
  std::size_t waiting() const { return waiting_.load(); }

 private:
  // One in line behind a visit's running check: a parked job, or a thread waiting in take().
  struct Next {
    std::function<void()> job;
    bool* handedOver;  // a waiting thread's own flag (it waits until set): set under `mutex_`
  };

  void release(const std::string& visit);

  WorkQueue& work_;
  std::atomic<std::size_t> parked_{0};
  std::atomic<std::size_t> waiting_{0};
  std::mutex mutex_;
  std::condition_variable handedOn_;
  // A visit being checked, and those in line behind it, in order of arrival.
  std::map<std::string, std::deque<Next>, std::less<>> running_;
};

}  // namespace cpis::pipeline
