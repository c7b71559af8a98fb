#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>

#include <Poco/Net/StreamSocket.h>

namespace cpis::mllp {

// Ends blocking socket work that outlives its deadline. A blocking read or write is bounded by
// the socket's time-out, but that wait starts afresh with every byte: a peer trickling a byte
// at a time (slowloris; a TLS record, a POCO-buffered HTTP header or an MLLP frame sent that
// way) holds the thread for as long as it likes. At the deadline the socket is shut down (the
// system call on its descriptor: never through OpenSSL, which is not to be used from two
// threads at once), which ends any read or write blocked on it; the owner sees the end of the
// connection and asks unwatch() whether this was why.
//
// Each watch fires at most once and is gone once unwatch() has returned, so a descriptor the
// owner closes afterwards (and the system reuses) is never shut down by a stale watch. The
// thread is woken only for a deadline earlier than the one it sleeps until: with watches
// running it sleeps until the earliest, and a later watch (the usual case: one time-out for
// all) or an unwatch costs no wake-up. Thread-safe.
class SocketWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  SocketWatchdog();
  ~SocketWatchdog();
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  // Shuts `socket` down at `deadline` unless unwatched first. The socket (a reference to it)
  // is held meanwhile, so its descriptor stays open.
  std::uint64_t watch(const Poco::Net::StreamSocket& socket, Clock::time_point deadline);
  // Ends the watch; true if it had fired (the socket was shut down at its deadline).
  bool unwatch(std::uint64_t id);

 private:
  struct Watched {
    Clock::time_point deadline;
    Poco::Net::StreamSocket socket;
  };
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::uint64_t next_ = 1;
  std::map<std::uint64_t, Watched> watched_;
  // Ids that fired and were not unwatched yet (their owners learn it from unwatch()).
  std::map<std::uint64_t, bool> fired_;
  // When the thread will look again (max: not until woken). Guarded by mutex_.
  Clock::time_point sleepsUntil_ = Clock::time_point::max();
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace cpis::mllp
