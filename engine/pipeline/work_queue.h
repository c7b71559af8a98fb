#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cpis::pipeline {

// A fixed set of threads running queued jobs in order of arrival: where the pipeline does work
// that blocks (a CP-IS lookup over the network, a commit it must wait for) so that the
// listener's event loops never do. Jobs must not throw; one that does is dropped (and the
// thread carries on). stop() runs what is queued, then joins.
class WorkQueue {
 public:
  WorkQueue(std::size_t threads, std::string name) : name_(std::move(name)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;
  ~WorkQueue() { stop(); }

  // False once stop() has begun (the job is not run).
  bool submit(std::function<void()> job) {
    {
      const std::lock_guard lock(mutex_);
      if (stopping_) return false;
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
  }

  void stop() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    stopWake_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Whether the caller is one of this queue's threads (running one of its jobs).
  bool onOwnThread() const noexcept { return current() == this; }

  // For a job that waits before trying again: waits `pause`, or less once stop() has begun.
  // False when stopping.
  bool pause(std::chrono::milliseconds pause) {
    std::unique_lock lock(mutex_);
    return !stopWake_.wait_for(lock, pause, [this] { return stopping_; });
  }

  std::size_t queued() const {
    const std::lock_guard lock(mutex_);
    return jobs_.size();
  }

 private:
  static const WorkQueue*& current() noexcept {
    thread_local const WorkQueue* queue = nullptr;
    return queue;
  }

  void run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());  // as `top -H` shows it
    current() = this;
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      try {
        job();
      } catch (...) {  // a thread's top: a job's bug must not end the thread
      }
    }
  }

  const std::string name_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable stopWake_;  // pause(): its own, so that a job's notify never wakes it
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cpis::pipeline
