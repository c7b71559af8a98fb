#include "engine/mllp/socket_watchdog.h"

#include <algorithm>
#include <utility>

#include <sys/socket.h>

namespace cpis::mllp {

SocketWatchdog::SocketWatchdog() : thread_([this] { run(); }) {}

SocketWatchdog::~SocketWatchdog() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::uint64_t SocketWatchdog::watch(const Poco::Net::StreamSocket& socket, Clock::time_point deadline) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t id = next_++;
  watched_.emplace(id, Watched{deadline, socket});
  if (deadline < sleepsUntil_) {
    sleepsUntil_ = deadline;  // so that watches until then do not wake it again
    wake_.notify_all();
  }
  return id;
}

bool SocketWatchdog::unwatch(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  if (watched_.erase(id) != 0) return false;
  return fired_.erase(id) != 0;
}

void SocketWatchdog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto earliest = Clock::time_point::max();
    const auto now = Clock::now();
    for (auto it = watched_.begin(); it != watched_.end();) {
      if (it->second.deadline <= now) {
        if (const int fd = it->second.socket.impl()->sockfd(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
        fired_.emplace(it->first, true);
        it = watched_.erase(it);
      } else {
        earliest = std::min(earliest, it->second.deadline);
        ++it;
      }
    }
    sleepsUntil_ = earliest;
    if (earliest == Clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, earliest);
    }
  }
}

}  // namespace cpis::mllp
