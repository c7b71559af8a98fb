#include "engine/mllp/mllp_reactor.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Logger.h>

#include "engine/mllp/framer.h"

namespace cpis::mllp {
namespace {

using Clock = std::chrono::steady_clock;

// How long a connection over the limit waits for a slot before it is refused: long enough
// for a sender that closes one connection and opens the next to find the old one gone.
constexpr auto kAdmissionWait = std::chrono::milliseconds(500);
// While a connection waits for a slot, the loop looks for one this often.
constexpr auto kAdmissionPoll = std::chrono::milliseconds(10);
constexpr std::size_t kReadBuffer = 64 * 1024;
// After accept() fails for want of a resource, the listening socket rests this long.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);
// At most this many connections wait for a slot, per event loop; more are closed at once.
constexpr std::size_t kMostWaiting = 256;
// A connection stops being read while this many frames wait behind the one being handled, or
// this many bytes of them: counting frames alone let a sender pipelining large messages park
// 64 of them (64 MiB at the default size limit) per connection while the handler was slow.
// With the bytes a read may add and a frame half read, a connection holds at most about
// kMaxWaitingBytes + 64 KiB + maxMessageBytes.
constexpr std::size_t kMaxWaitingFrames = 64;
constexpr std::size_t kMaxWaitingBytes = 1024 * 1024;
// ... and while this many bytes of its ACKs wait for the peer to take them: a sender that
// pipelines and reads slowly (or not at all) would otherwise have every frame it sends handled
// and its ACK held in memory. What it sends meanwhile waits in the kernel (TCP's own flow
// control); a peer that takes nothing for readTimeout is closed ("unread ACKs").
constexpr std::size_t kMaxUnsentBytes = 256 * 1024;
constexpr std::uint64_t kListenKey = 0;  // epoll keys: 0 the listening socket, 1 the wake-up
constexpr std::uint64_t kWakeKey = 1;
// Each loop watches the listening socket; one of them is woken per connection.
constexpr std::uint32_t kListenEvents = EPOLLIN | EPOLLEXCLUSIVE;

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.mllp");
}

std::string peerAddress(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in.sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6.sin6_port));
  }
  return "?";
}

// Where answers for a loop's connections are posted, from any thread. Shared with every
// pending Reply, so an answer that comes after the loop has gone finds a closed mailbox rather
// than freed memory; it owns the eventfd for the same reason.
class Mailbox {
 public:
  Mailbox() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~Mailbox() { ::close(fd_); }
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  int fd() const { return fd_; }

  void post(std::uint64_t connection, std::string ack) {
    bool wake = false;
    {
      const std::lock_guard lock(mutex_);
      if (closed_) return;
      wake = answers_.empty();  // otherwise the loop has been woken already and not yet drained
      answers_.emplace_back(connection, std::move(ack));
    }
    if (wake) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const auto n = ::write(fd_, &one, sizeof one);
    }
  }

  void take(std::vector<std::pair<std::uint64_t, std::string>>& out) {
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(fd_, &count, sizeof count);
    const std::lock_guard lock(mutex_);
    out.swap(answers_);
  }

  void close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    answers_.clear();
  }

 private:
  const int fd_;
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, std::string>> answers_;
  bool closed_ = false;
};

// Connections being served across all of a listener's loops.
bool tryAdmit(ListenerStats& stats, int limit) {
  int current = stats.active.load();
  while (current < limit) {
    if (stats.active.compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

}  // namespace

RefusalDrain refusalDrain(const ListenerSettings& settings) {
  return {std::min<std::chrono::milliseconds>(settings.readTimeout, std::chrono::milliseconds(10'000)),
          std::max<std::size_t>(settings.maxFrameBytes, 1 << 20) * 16};
}

class MllpReactor::Loop {
 public:
  Loop(const ListenerSettings& settings, FrameHandler& handler, ListenerStats& stats, int listenFd)
      : settings_(settings),
        handler_(handler),
        stats_(stats),
        listenFd_(listenFd),
        epoll_(epoll_create1(EPOLL_CLOEXEC)),
        mailbox_(std::make_shared<Mailbox>()) {
    if (epoll_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    // EPOLLEXCLUSIVE: a new connection wakes one loop, not all of them.
    watch(listenFd_, kListenKey, kListenEvents, EPOLL_CTL_ADD);
    watch(mailbox_->fd(), kWakeKey, EPOLLIN, EPOLL_CTL_ADD);
  }

  ~Loop() {
    join();
    for (auto& [id, c] : connections_) closeSocket(*c);
    for (const auto& waiting : waiting_) ::close(waiting.fd);
    mailbox_->close();
    ::close(epoll_);
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  void requestStop(Clock::time_point deadline) {
    stopDeadline_.store(deadline.time_since_epoch().count());
    stopping_.store(true);
    mailbox_->post(0, {});  // wakes the loop; connection 0 does not exist
  }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct Frame {
    std::string payload;
    bool oversized = false;
  };
  // Frames behind the one with the handler, in arrival order, and their payloads' bytes.
  class WaitingFrames {
   public:
    void push(Frame frame) {
      bytes_ += frame.payload.size();
      frames_.push_back(std::move(frame));
    }
    Frame pop() {
      Frame frame = std::move(frames_.front());
      frames_.pop_front();
      bytes_ -= frame.payload.size();
      return frame;
    }
    void clear() {
      frames_.clear();
      bytes_ = 0;
    }
    bool empty() const { return frames_.empty(); }
    std::size_t size() const { return frames_.size(); }
    std::size_t bytes() const { return bytes_; }

   private:
    std::deque<Frame> frames_;
    std::size_t bytes_ = 0;
  };
  struct Connection {
    std::uint64_t id = 0;
    int fd = -1;
    std::shared_ptr<const PeerInfo> peer;
    MllpFramer framer;
    WaitingFrames waiting;
    bool busy = false;          // a frame is with the handler
    bool readEnded = false;     // end of input (or stopping): read no more
    bool closeAfterWrite = false;
    // After an oversized frame's AR: our side shut, what the peer still sends read and
    // discarded until it closes, for at most drainUntil and drainBudget bytes.
    bool draining = false;
    Clock::time_point drainUntil;
    std::size_t drainBudget = 0;
    bool socketClosed = false;  // gone; the object stays until the handler has answered
    bool abandonSaid = false;   // an abandoned frame has been logged
    bool straySaid = false;     // bytes outside a frame have been logged
    std::string out;            // framed ACKs the socket has not taken yet
    std::uint32_t interest = 0;
    Clock::time_point lastActivity;    // connected, a frame read, or an ACK answered
    Clock::time_point frameStartedAt;  // the start block of the frame being read
    Clock::time_point writeBlockedSince;
    std::uint64_t dropped = 0;
    std::uint64_t missingCr = 0;

    explicit Connection(std::size_t maxFrameBytes) : framer(maxFrameBytes) {}
  };
  struct Waiting {
    int fd;
    std::string address;
    Clock::time_point until;
  };

  // False (errno set) when epoll_ctl fails.
  bool tryWatch(int fd, std::uint64_t key, std::uint32_t events, int op) {
    epoll_event e{};
    e.events = events;
    e.data.u64 = key;
    return epoll_ctl(epoll_, op, fd, &e) == 0;
  }

  void watch(int fd, std::uint64_t key, std::uint32_t events, int op) {
    if (!tryWatch(fd, key, events, op) && op != EPOLL_CTL_DEL) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }

  void run() {
    pthread_setname_np(pthread_self(), "cpis-mllp-io");  // as `top -H` and perf show it
    std::vector<epoll_event> events(256);
    const auto buffer = std::make_unique_for_overwrite<char[]>(kReadBuffer);
    std::vector<std::pair<std::uint64_t, std::string>> answers;
    bool listening = true;
    for (;;) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), timeoutMs());
      if (n < 0 && errno != EINTR) {
        logger().error("listener %s: epoll_wait failed (errno %d)", settings_.name, errno);
        break;
      }
      for (int i = 0; i < n; ++i) {
        const epoll_event& e = events[static_cast<std::size_t>(i)];
        if (e.data.u64 == kListenKey) {
          if (listening && !acceptPaused_) accept();
        } else if (e.data.u64 == kWakeKey) {
          mailbox_->take(answers);
          for (auto& [id, ack] : answers) answered(id, std::move(ack));
          answers.clear();
        } else if (const auto it = connections_.find(e.data.u64); it != connections_.end()) {
          Connection& c = *it->second;
          if ((e.events & EPOLLOUT) != 0U) write(c);
          if ((e.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0U && !c.socketClosed) read(c, buffer.get());
          if ((e.events & (EPOLLHUP | EPOLLERR)) != 0U && c.readEnded && !c.draining && !c.socketClosed) {
            // Reset, or shut both ways, after its end was read: nothing more can be written to
            // it, and epoll reports this whatever the interest, so it is closed now (a frame
            // with the handler is still answered, to nobody, and counted then, as for any peer
            // that left). A draining connection reads on to the end: drain() closes it.
            if (!stopping_.load() && !c.busy) stats_.peerGone.fetch_add(1);
            closeSocket(c);
          }
          settle(c);
        }
      }
      const auto now = Clock::now();
      if (acceptPaused_ && listening && now >= acceptResumes_) {
        if (tryWatch(listenFd_, kListenKey, kListenEvents, EPOLL_CTL_ADD)) {
          acceptPaused_ = false;
        } else {
          pauseAccepting("watching the listening socket again", errno);  // still short: rest again
        }
      }
      admitWaiting(now);
      if (now >= nextScan_) scan(now);
      if (stopping_.load()) {
        if (listening) {
          listening = false;
          acceptPaused_ = false;
          epoll_ctl(epoll_, EPOLL_CTL_DEL, listenFd_, nullptr);
          beginStop();
        }
        if (connections_.empty() || now.time_since_epoch().count() >= stopDeadline_.load()) break;
      }
    }
    for (auto& [id, c] : connections_) closeSocket(*c);
  }

  int timeoutMs() const {
    auto next = nextScan_;
    if (!waiting_.empty()) next = std::min(next, Clock::now() + kAdmissionPoll);
    if (acceptPaused_) next = std::min(next, acceptResumes_);
    if (stopping_.load()) next = std::min(next, Clock::now() + std::chrono::milliseconds(20));
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(wait, 0, 1000));
  }

  void accept() {
    for (;;) {
      sockaddr_storage address{};
      socklen_t length = sizeof address;
      const int fd = accept4(listenFd_, reinterpret_cast<sockaddr*>(&address), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // EINVAL: the listening socket is shut (MllpServer::stopAccepting); the loop is stopping.
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINVAL || stopping_.load()) return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          pauseAccepting("accept", errno);
          return;
        }
        // That connection's own trouble (aborted, a protocol or network error): the next.
        logger().debug("listener %s: accept failed (errno %d)", settings_.name, errno);
        continue;
      }
      const auto now = Clock::now();
      if (tryAdmit(stats_, settings_.maxConnections)) {
        adopt(fd, peerAddress(address), now);
      } else if (waiting_.size() < kMostWaiting) {
        waiting_.push_back(Waiting{fd, peerAddress(address), now + kAdmissionWait});
      } else {
        stats_.refused.fetch_add(1);
        ::close(fd);
      }
    }
  }

  // The listening socket stays readable while accept() fails (out of file descriptors, say):
  // accepting again at once would spin, and log each time. It rests instead, and the failure
  // is logged once a second at most.
  void pauseAccepting(const char* what, int error) {
    stats_.acceptFailures.fetch_add(1);
    const auto now = Clock::now();
    if (now >= nextAcceptLog_) {
      logger().error("listener %s: %s failed (errno %d); not accepting for %d ms", settings_.name, std::string(what),
                     error, static_cast<int>(kAcceptPause.count()));
      nextAcceptLog_ = now + std::chrono::seconds(1);
    }
    acceptPaused_ = true;
    acceptResumes_ = now + kAcceptPause;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, listenFd_, nullptr);
  }

  // Connections waiting for a slot: admitted as slots free, refused once their wait is over.
  void admitWaiting(Clock::time_point now) {
    while (!waiting_.empty()) {
      Waiting& w = waiting_.front();
      if (!stopping_.load() && tryAdmit(stats_, settings_.maxConnections)) {
        adopt(w.fd, std::move(w.address), now);
      } else if (now >= w.until || stopping_.load()) {
        stats_.refused.fetch_add(1);  // counted before the peer can see the close
        ::close(w.fd);
        logger().warning("listener %s: connection refused, %d connections is the limit", settings_.name,
                         settings_.maxConnections);
      } else {
        return;
      }
      waiting_.pop_front();
    }
  }

  void adopt(int fd, std::string address, Clock::time_point now) {
    const int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto c = std::make_unique<Connection>(settings_.maxFrameBytes);
    c->id = nextId_++;
    c->fd = fd;
    c->peer = std::make_shared<const PeerInfo>(PeerInfo{settings_.name, std::move(address), ""});
    c->lastActivity = now;
    c->interest = EPOLLIN;
    nextScan_ = std::min(nextScan_, now + std::min(settings_.readTimeout, settings_.idleTimeout));
    watch(fd, c->id, c->interest, EPOLL_CTL_ADD);
    stats_.accepted.fetch_add(1);
    logger().debug("listener %s: connection from %s", settings_.name, c->peer->address);
    connections_.emplace(c->id, std::move(c));
  }

  void read(Connection& c, char* buffer) {
    if (c.draining) {
      drain(c, buffer);
      return;
    }
    if (c.readEnded) return;
    const ssize_t n = ::recv(c.fd, buffer, kReadBuffer, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (!stopping_.load() && !c.busy) stats_.peerGone.fetch_add(1);  // busy: counted when answered
      closeSocket(c);
      return;
    }
    const Clock::time_point now = Clock::now();
    nextScan_ = std::min(nextScan_, now + std::min(settings_.readTimeout, settings_.idleTimeout));
    if (n == 0) {
      if (c.framer.insideFrame() && !stopping_.load()) {
        logger().notice("listener %s: %s closed the connection inside a frame (%z bytes never acknowledged)",
                        settings_.name, c.peer->address, c.framer.pendingBytes());
      }
      c.readEnded = true;  // a half-closed peer still gets the ACKs it is owed
      return;
    }
    events_.clear();
    const bool wasInside = c.framer.insideFrame();
    c.framer.feed(std::string_view(buffer, static_cast<std::size_t>(n)), events_);
    // Time-outs against slowloris: a frame's read time-out runs from its start block, not from
    // its last byte, and the idle time-out from the last frame: bytes that trickle in, inside a
    // frame or outside one (dropped), do not keep a connection open; nor do start blocks that
    // abandon a frame (the time-out runs on from the first unfinished frame's start).
    const bool ended = endsAFrame(events_);
    if (ended) c.lastActivity = now;
    if (c.framer.insideFrame() && (!wasInside || ended)) c.frameStartedAt = now;
    stats_.droppedBytes.fetch_add(c.framer.droppedBytes() - c.dropped);
    stats_.missingCarriageReturns.fetch_add(c.framer.missingCarriageReturns() - c.missingCr);
    c.dropped = c.framer.droppedBytes();
    c.missingCr = c.framer.missingCarriageReturns();
    if (!c.straySaid && c.framer.strayBytes() != 0) {
      c.straySaid = true;
      logger().warning(kStrayBytes, settings_.name, c.peer->address,
                       static_cast<std::size_t>(c.framer.strayBytes()));
    }
    for (auto& event : events_) {
      switch (event.kind) {
        case FrameEvent::Kind::Frame:
          stats_.frames.fetch_add(1);
          c.waiting.push(Frame{std::move(event.payload), false});
          break;
        case FrameEvent::Kind::Oversized:
          stats_.oversized.fetch_add(1);
          logger().warning("listener %s: frame from %s over the %z byte limit; refused, closing",
                           settings_.name, c.peer->address, settings_.maxFrameBytes);
          c.waiting.push(Frame{std::move(event.payload), true});
          c.readEnded = true;  // nothing after it is read: the connection closes once it is answered
          break;
        case FrameEvent::Kind::Abandoned:
          stats_.abandoned.fetch_add(1);
          // Said once a connection (the count is in the statistics): a peer sending nothing
          // but start blocks would otherwise write a log line for each byte.
          if (!c.abandonSaid) {
            c.abandonSaid = true;
            logger().warning(
                "listener %s: %s started a new frame inside one; %z bytes dropped, not acknowledged (said once "
                "a connection)",
                settings_.name, c.peer->address, event.payload.size());
          }
          break;
      }
      if (c.readEnded) break;
    }
  }

  // Closing a socket with input unread makes the kernel reset the connection: a sender still
  // writing the rest of an oversized message would see its write fail, not read the AR (and a
  // stack that drops what it received on a reset would lose the AR itself). So our side is
  // shut after the AR, and the rest is read and thrown away until the peer closes.
  void beginDrain(Connection& c) {
    ::shutdown(c.fd, SHUT_WR);
    const RefusalDrain limits = refusalDrain(settings_);
    c.draining = true;
    c.drainUntil = Clock::now() + limits.time;
    c.drainBudget = limits.bytes;
    nextScan_ = std::min(nextScan_, c.drainUntil);
  }

  void drain(Connection& c, char* buffer) {
    const ssize_t n = ::recv(c.fd, buffer, kReadBuffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0 || static_cast<std::size_t>(n) >= c.drainBudget) {
      closeSocket(c);  // the peer closed (or left, or sent far too much)
      return;
    }
    c.drainBudget -= static_cast<std::size_t>(n);
    stats_.droppedBytes.fetch_add(static_cast<std::uint64_t>(n));
  }

  // Hands the next waiting frame to the handler when none is there.
  void dispatch(Connection& c) {
    while (!c.busy && !c.waiting.empty() && !c.socketClosed && !c.closeAfterWrite) {
      Frame next = c.waiting.pop();
      if (next.oversized) {
        queueAck(c, handler_.onOversized(next.payload, settings_.maxFrameBytes, *c.peer));
        c.closeAfterWrite = true;
        c.waiting.clear();
        return;
      }
      c.busy = true;
      auto payload = std::make_shared<const std::string>(std::move(next.payload));
      // The payload and the peer live in the reply until the handler has answered, whatever
      // becomes of the connection meanwhile.
      FrameHandler::Reply reply = [mailbox = mailbox_, id = c.id, payload, peer = c.peer](std::string ack) {
        mailbox->post(id, std::move(ack));
      };
      handler_.onFrameAsync(*payload, *c.peer, std::move(reply));
    }
  }

  void answered(std::uint64_t id, std::string ack) {
    const auto it = connections_.find(id);
    if (it == connections_.end()) return;
    Connection& c = *it->second;
    c.busy = false;
    c.lastActivity = Clock::now();
    // A frame begun while the handler worked (or the connection went unread for back-pressure)
    // is not charged for that time.
    if (c.framer.insideFrame()) c.frameStartedAt = std::max(c.frameStartedAt, c.lastActivity);
    if (c.socketClosed) {
      // The message is stored; the peer will resend and get the stored ACK as a duplicate.
      stats_.peerGone.fetch_add(1);
      logger().notice("listener %s: peer left before its ACK was sent", settings_.name);
    } else {
      queueAck(c, ack);
    }
    settle(c);
  }

  void queueAck(Connection& c, std::string_view ack) {
    if (ack.empty()) return;
    if (c.out.empty()) c.writeBlockedSince = Clock::now();
    c.out.push_back(kStartBlock);
    c.out.append(ack);
    c.out.push_back(kEndBlock);
    c.out.push_back(kCarriageReturn);
    write(c);
  }

  void write(Connection& c) {
    while (!c.out.empty() && !c.socketClosed) {
      const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (!c.busy) {  // busy: counted (and logged) once, when the frame with the handler is answered
          stats_.peerGone.fetch_add(1);
          logger().notice("listener %s: peer left before its ACK was sent", settings_.name);
        }
        closeSocket(c);
        return;
      }
      c.out.erase(0, static_cast<std::size_t>(n));
      c.writeBlockedSince = Clock::now();
    }
  }

  // After anything happened to a connection: the next frame, the epoll interest, or the end.
  void settle(Connection& c) {
    dispatch(c);
    const bool idle = !c.busy && c.waiting.empty() && c.out.empty();
    if (!c.socketClosed && idle && c.closeAfterWrite && !c.draining && !stopping_.load()) beginDrain(c);
    if (!c.socketClosed && idle && !c.draining && (c.readEnded || c.closeAfterWrite)) closeSocket(c);
    if (c.socketClosed) {
      if (!c.busy) connections_.erase(c.id);  // `c` is gone from here on
      return;
    }
    std::uint32_t interest = 0;
    if (c.draining || (!c.readEnded && !c.closeAfterWrite && c.waiting.size() < kMaxWaitingFrames &&
                       c.waiting.bytes() < kMaxWaitingBytes && c.out.size() < kMaxUnsentBytes)) {
      interest |= EPOLLIN;
    }
    if (!c.out.empty()) interest |= EPOLLOUT;
    if (interest != c.interest) {
      c.interest = interest;
      watch(c.fd, c.id, interest, EPOLL_CTL_MOD);
    }
  }

  void closeSocket(Connection& c) {
    if (c.socketClosed) return;
    c.socketClosed = true;
    c.waiting.clear();
    c.out.clear();
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    stats_.active.fetch_sub(1);
  }

  // Time-outs. Deadlines move with activity, so the scan runs at the earliest one and
  // re-checks; a connection waiting on the handler has no deadline of its own.
  void scan(Clock::time_point now) {
    auto next = now + std::chrono::seconds(1);
    std::vector<std::uint64_t> expired;
    for (auto& [id, c] : connections_) {
      if (c->socketClosed) continue;
      Clock::time_point deadline = Clock::time_point::max();
      const char* why = nullptr;
      if (c->draining) {
        if (now >= c->drainUntil) {
          expired.push_back(id);  // counted as oversized already
        } else {
          next = std::min(next, c->drainUntil);
        }
        continue;
      }
      if (!c->out.empty()) {
        deadline = c->writeBlockedSince + settings_.readTimeout;
        why = "unread ACKs";
      } else if (c->busy || !c->waiting.empty()) {
        continue;
      } else if (c->framer.insideFrame()) {
        deadline = c->frameStartedAt + settings_.readTimeout;
        why = "stalled";
      } else if (!c->readEnded) {
        deadline = c->lastActivity + settings_.idleTimeout;
        why = "idle";
      } else {
        continue;
      }
      if (now >= deadline) {
        if (!stopping_.load()) {
          (c->framer.insideFrame() ? stats_.stalled : stats_.idleClosed).fetch_add(1);
          logger().notice("listener %s: closing %s connection from %s", settings_.name, std::string(why),
                          c->peer->address);
        }
        expired.push_back(id);
      } else {
        next = std::min(next, deadline);
      }
    }
    for (const std::uint64_t id : expired) {
      Connection& c = *connections_.at(id);
      closeSocket(c);
      settle(c);
    }
    nextScan_ = next;
  }

  void beginStop() {
    std::vector<std::uint64_t> ids;
    for (auto& [id, c] : connections_) ids.push_back(id);
    for (const std::uint64_t id : ids) {
      Connection& c = *connections_.at(id);
      c.readEnded = true;
      c.waiting.clear();  // never handed over: not stored, not acknowledged; the sender resends
      if (c.draining) closeSocket(c);  // its AR went out; the rest of it is not waited for
      settle(c);
    }
  }

  const ListenerSettings& settings_;
  FrameHandler& handler_;
  ListenerStats& stats_;
  const int listenFd_;
  const int epoll_;
  const std::shared_ptr<Mailbox> mailbox_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::deque<Waiting> waiting_;
  bool acceptPaused_ = false;
  Clock::time_point acceptResumes_;
  Clock::time_point nextAcceptLog_;
  std::vector<FrameEvent> events_;
  std::uint64_t nextId_ = 2;  // after kListenKey and kWakeKey
  Clock::time_point nextScan_ = Clock::now();
  std::atomic<bool> stopping_{false};
  std::atomic<Clock::rep> stopDeadline_{0};
  std::thread thread_;
};

MllpReactor::MllpReactor(const ListenerSettings& settings, FrameHandler& handler, ListenerStats& stats,
                         int listenFd, int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    loops_.push_back(std::make_unique<Loop>(settings, handler, stats, listenFd));
  }
}

MllpReactor::~MllpReactor() {
  stop(std::chrono::milliseconds(2'000));
}

void MllpReactor::start() {
  for (auto& loop : loops_) loop->start();
}

void MllpReactor::stop(std::chrono::milliseconds grace) {
  requestStop(Clock::now() + grace);
  join();
}

void MllpReactor::requestStop(std::chrono::steady_clock::time_point deadline) {
  for (auto& loop : loops_) loop->requestStop(deadline);
}

void MllpReactor::join() {
  for (auto& loop : loops_) loop->join();
}

}  // namespace cpis::mllp
