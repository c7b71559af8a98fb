#include "engine/mllp/mllp_server.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <sys/socket.h>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/ThreadPool.h>

#include "engine/mllp/certificate_subject.h"
#include "engine/mllp/framer.h"
#include "engine/mllp/mllp_reactor.h"
#include "engine/mllp/private_key.h"
#include "engine/mllp/socket_watchdog.h"

namespace cpis::mllp {
namespace {

// How long a connection over the limit waits for a slot before it is refused: long enough
// for a sender that closes one connection and opens the next to find the old one gone.
constexpr auto kAdmissionWait = std::chrono::milliseconds(500);
// Threads beyond maxConnections that only turn surplus connections away, so a full listener
// refuses at once instead of queueing a connection nobody will serve.
constexpr int kRefusalThreads = 4;
constexpr std::size_t kReadBuffer = 16 * 1024;  // allocated, not touched, until data comes

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.mllp");
}

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

Poco::Net::Context::Ptr makeServerContext(const TlsSettings& tls) {
  Poco::Net::Context::Params params;
  params.caLocation = tls.caFile;
  params.verificationMode = tls.requireClientCertificate ? Poco::Net::Context::VERIFY_STRICT
                            : tls.caFile.empty()         ? Poco::Net::Context::VERIFY_NONE
                                                         : Poco::Net::Context::VERIFY_RELAXED;
  params.loadDefaultCAs = false;
  params.cipherList = "HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES";
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
  context->requireMinimumProtocol(tls.tls13Only ? Poco::Net::Context::PROTO_TLSV1_3 : Poco::Net::Context::PROTO_TLSV1_2);
  context->enableExtendedCertificateVerification(false);  // no host names to match on a server
  context->useCertificate(Poco::Crypto::X509Certificate(tls.certificateFile));
  context->usePrivateKey(mllp::loadPrivateKey(tls.privateKeyFile, tls.privateKeyPassphrase));
  return context;
}

}  // namespace

struct MllpServer::Impl {
  Impl(ListenerSettings s, FrameHandler& h) : settings(std::move(s)), handler(h) {}

  ListenerSettings settings;
  FrameHandler& handler;
  ListenerStats stats;
  Poco::Net::Context::Ptr context;
  Poco::Net::ServerSocket socket;
  std::unique_ptr<SocketWatchdog> watchdog;          // TLS: the connections' deadlines (outlives them)
  std::unique_ptr<Poco::ThreadPool> pool;            // TLS
  std::unique_ptr<Poco::Net::TCPServer> server;      // TLS
  std::unique_ptr<MllpReactor> reactor;              // plain TCP
  std::atomic<bool> stopping{false};  // stopAccepting() has begun
  std::atomic<bool> started{false};   // start() has listened and started serving
  std::atomic<bool> joined{false};    // stop() has begun waiting
  std::chrono::steady_clock::time_point stopDeadline;  // set by stopAccepting(), before stop() reads it
  std::mutex mutex;                 // guards admitted and open
  std::condition_variable changed;  // a connection ended
  int admitted = 0;                 // connections being served (not those turned away)
  std::set<poco_socket_t> open;     // their sockets, so stop() can end their reads

  // Takes a slot for a new connection, waiting a little for one to free; false: refuse it.
  bool admit(poco_socket_t fd) {
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, kAdmissionWait,
                          [&] { return admitted < settings.maxConnections || stopping; }) ||
        stopping) {
      return false;
    }
    ++admitted;
    open.insert(fd);
    stats.active.store(admitted);
    return true;
  }
  void release(poco_socket_t fd) {
    std::lock_guard lock(mutex);
    --admitted;
    open.erase(fd);
    stats.active.store(admitted);
    changed.notify_all();
  }
  // Ends every blocked read (the read side only: an ACK being written still goes out). TLS
  // has no half-close of its own, so this works at the TCP level, which is safe from any thread.
  void endReads() {
    std::lock_guard lock(mutex);
    for (const poco_socket_t fd : open) ::shutdown(fd, SHUT_RD);
    changed.notify_all();
  }
};

namespace {

// What a TLS connection's blocking reads may last in all, whatever the peer trickles: the
// handshake and a frame each within the read time-out from their start, the wait for the next
// frame within the idle time-out from the last one. A socket read's own time-out restarts with
// every byte (and OpenSSL waits for a whole record), so the SocketWatchdog shuts the socket at
// the deadline; the watch covers the reads only, never the handler's work or the ACK's write.
class ReadDeadline {
 public:
  ReadDeadline(SocketWatchdog& watchdog, const Poco::Net::StreamSocket& socket) : watchdog_(watchdog), socket_(socket) {}
  ~ReadDeadline() { end(); }
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

  void start(SocketWatchdog::Clock::time_point at) {
    end();
    id_ = watchdog_.watch(socket_, at);
  }
  void end() {
    if (id_ != 0 && watchdog_.unwatch(std::exchange(id_, 0))) passed_ = true;
  }
  // The watch fired: the socket was shut at the deadline (ends the watch first).
  bool passed() {
    end();
    return passed_;
  }

 private:
  SocketWatchdog& watchdog_;
  const Poco::Net::StreamSocket& socket_;
  std::uint64_t id_ = 0;
  bool passed_ = false;
};

// One connection: TLS handshake and subject check, then frames in, ACKs out, until the peer
// leaves, a time-out, an oversized frame, or the listener stops.
class MllpConnection final : public Poco::Net::TCPServerConnection {
 public:
  MllpConnection(const Poco::Net::StreamSocket& socket, MllpServer::Impl& server)
      : Poco::Net::TCPServerConnection(socket), server_(server) {}

  void run() override {
    const poco_socket_t fd = socket().impl()->sockfd();
    try {
      if (!server_.admit(fd)) {
        server_.stats.refused.fetch_add(1);
        logger().warning("listener %s: connection refused, %d connections is the limit",
                         server_.settings.name, server_.settings.maxConnections);
        return;
      }
    } catch (const std::exception&) {
      return;
    }
    try {
      serve();
    } catch (const Poco::Exception& e) {
      logger().error("listener %s: connection ended by %s", server_.settings.name, std::string(e.name()));
    } catch (const std::exception&) {
      logger().error("listener %s: connection ended by an unexpected error", server_.settings.name);
    }
    server_.release(fd);
  }

 private:
  // The socket time-out that makes a wait on this connection last `wait`. POCO 1.11's secure
  // sockets wait twice: OpenSSL's read blocks for the socket's time-out, and then POCO polls
  // for the same time again before it gives up, so a TLS connection gets half (measured: a 2 s
  // idle time-out closed TLS connections after 4 s, plain ones after 2 s).
  Poco::Timespan socketTimeout(std::chrono::milliseconds wait) const {
    if (!server_.context) return toTimespan(wait);
    return toTimespan(std::max(std::chrono::milliseconds(1), wait / 2));
  }

  void serve() {
    Poco::Net::StreamSocket& s = socket();
    const ListenerSettings& settings = server_.settings;
    ListenerStats& stats = server_.stats;
    PeerInfo peer{settings.name, s.peerAddress().toString(), ""};
    stats.accepted.fetch_add(1);
    s.setReceiveTimeout(socketTimeout(settings.readTimeout));
    s.setSendTimeout(socketTimeout(settings.readTimeout));
    using Clock = SocketWatchdog::Clock;
    ReadDeadline deadline(*server_.watchdog, s);
    if (server_.context) {
      Poco::Net::SecureStreamSocket secure(s);
      try {
        deadline.start(Clock::now() + settings.readTimeout);
        secure.completeHandshake();
        deadline.end();
      } catch (const Poco::Exception& e) {
        stats.tlsRefused.fetch_add(1);
        if (deadline.passed()) {
          logger().warning("listener %s: %s did not complete its TLS handshake within the read time-out; closed",
                           settings.name, peer.address);
        } else {
          logger().warning("listener %s: TLS handshake with %s failed (%s)", settings.name, peer.address,
                           std::string(e.name()));
        }
        return;
      }
      const TlsSettings& tls = *settings.tls;
      if (secure.havePeerCertificate()) {
        const auto certificate = secure.peerCertificate();
        peer.certificateSubject = certificate.subjectName();
        if (!subjectAllowed(tls.allowedSubjects, certificate)) {
          stats.tlsRefused.fetch_add(1);
          logger().warning("listener %s: client certificate subject %s is not on the allow-list",
                           settings.name, peer.certificateSubject);
          return;
        }
      } else if (tls.requireClientCertificate || !tls.allowedSubjects.empty()) {
        stats.tlsRefused.fetch_add(1);
        logger().warning("listener %s: %s sent no client certificate", settings.name, peer.address);
        return;
      }
    }
    s.setNoDelay(true);
    logger().debug("listener %s: connection from %s", settings.name, peer.address);

    MllpFramer framer(settings.maxFrameBytes);
    const auto buffer = std::make_unique_for_overwrite<char[]>(kReadBuffer);
    std::vector<FrameEvent> events;
    std::uint64_t dropped = 0;
    std::uint64_t missingCr = 0;
    // The read time-out runs from a frame's start block, the idle time-out from the last frame
    // (bytes outside frames are dropped, and do not keep a connection open either).
    Clock::time_point frameStart{};
    Clock::time_point lastFrame = Clock::now();
    bool abandonSaid = false;  // an abandoned frame has been logged
    bool straySaid = false;    // bytes outside a frame have been logged
    const auto timedOut = [&] {
      if (server_.stopping.load()) return;
      (framer.insideFrame() ? stats.stalled : stats.idleClosed).fetch_add(1);
      logger().notice("listener %s: closing %s connection from %s", settings.name,
                      std::string(framer.insideFrame() ? "stalled" : "idle"), peer.address);
    };
    for (;;) {
      // A blocking read bounded by the deadline that applies now; stop() ends it early.
      const Clock::time_point until =
          framer.insideFrame() ? frameStart + settings.readTimeout : lastFrame + settings.idleTimeout;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return timedOut();
      s.setReceiveTimeout(socketTimeout(left));
      deadline.start(until);
      int n = 0;
      try {
        n = s.receiveBytes(buffer.get(), static_cast<int>(kReadBuffer));
      } catch (const Poco::TimeoutException&) {
        return timedOut();
      } catch (const Poco::Exception&) {
        if (deadline.passed()) return timedOut();
        if (!server_.stopping.load()) stats.peerGone.fetch_add(1);
        return;
      }
      if (deadline.passed()) return timedOut();  // the watchdog shut it as the read returned
      if (n <= 0) {
        if (framer.insideFrame() && !server_.stopping.load()) {
          logger().notice(
              "listener %s: %s closed the connection inside a frame (%z bytes never acknowledged)",
              settings.name, peer.address, framer.pendingBytes());
        }
        return;
      }
      events.clear();
      const bool wasInside = framer.insideFrame();
      framer.feed(std::string_view(buffer.get(), static_cast<std::size_t>(n)), events);
      // A frame that began in this read (after any that ended in it) starts its time-out once
      // those are answered: the handler's time is not the sender's. A start block abandoning a
      // frame restarts neither time-out (as in MllpReactor).
      const bool ended = endsAFrame(events);
      const bool frameBegan = framer.insideFrame() && (!wasInside || ended);
      stats.droppedBytes.fetch_add(framer.droppedBytes() - dropped);
      stats.missingCarriageReturns.fetch_add(framer.missingCarriageReturns() - missingCr);
      dropped = framer.droppedBytes();
      missingCr = framer.missingCarriageReturns();
      if (!straySaid && framer.strayBytes() != 0) {
        straySaid = true;
        logger().warning(kStrayBytes, settings.name, peer.address,
                         static_cast<std::size_t>(framer.strayBytes()));
      }
      for (const auto& event : events) {
        switch (event.kind) {
          case FrameEvent::Kind::Frame: {
            stats.frames.fetch_add(1);
            const std::string reply = server_.handler.onFrame(event.payload, peer);
            if (!reply.empty() && !send(s, frame(reply))) return;
            break;
          }
          case FrameEvent::Kind::Oversized: {
            stats.oversized.fetch_add(1);
            logger().warning("listener %s: frame from %s over the %z byte limit; refused, closing",
                             settings.name, peer.address, settings.maxFrameBytes);
            if (send(s, frame(server_.handler.onOversized(event.payload, settings.maxFrameBytes, peer)))) {
              drainAfterRefusal(s, buffer.get(), deadline);
            }
            return;
          }
          case FrameEvent::Kind::Abandoned:
            stats.abandoned.fetch_add(1);
            if (!abandonSaid) {  // once a connection, as in MllpReactor
              abandonSaid = true;
              logger().warning(
                  "listener %s: %s started a new frame inside one; %z bytes dropped, not acknowledged (said once "
                  "a connection)",
                  settings.name, peer.address, event.payload.size());
            }
            break;
        }
      }
      const auto now = Clock::now();
      if (ended) lastFrame = now;
      if (frameBegan) frameStart = now;
    }
  }

  // As the event loops do (MllpReactor): closing with the rest of an oversized message unread
  // would reset the connection, and a sender still writing would see its write fail instead of
  // reading the AR. So our side is shut (a FIN) and what the peer still sends is read and
  // dropped until it closes, for a bounded time and number of bytes.
  void drainAfterRefusal(Poco::Net::StreamSocket& s, char* buffer, ReadDeadline& deadline) {
    const RefusalDrain limits = refusalDrain(server_.settings);
    const auto until = std::chrono::steady_clock::now() + limits.time;
    std::size_t budget = limits.bytes;
    deadline.start(until);  // a record trickled to us would hold a read beyond `until`
    try {
      // TLS: POCO 1.11 has no half close for its secure sockets (shutdownSend() does nothing;
      // shutdown() shuts TCP both ways, and the sender's next write is reset), nor a way to
      // OpenSSL's own handle: our side ends with a FIN alone, after the AR, without a
      // close_notify (the peer may call that an unexpected end, having read the AR).
      ::shutdown(s.impl()->sockfd(), SHUT_WR);
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
        if (left.count() <= 0 || server_.stopping.load()) return;
        s.setReceiveTimeout(socketTimeout(left));
        const int n = s.receiveBytes(buffer, static_cast<int>(kReadBuffer));
        if (n <= 0 || static_cast<std::size_t>(n) >= budget) return;
        budget -= static_cast<std::size_t>(n);
        server_.stats.droppedBytes.fetch_add(static_cast<std::uint64_t>(n));
      }
    } catch (const Poco::Exception&) {
      // Gone, or silent for the time left: closed either way.
    }
  }

  bool send(Poco::Net::StreamSocket& s, const std::string& bytes) {
    try {
      std::size_t sent = 0;
      while (sent < bytes.size()) {
        const int n = s.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
        if (n <= 0) throw Poco::Net::ConnectionResetException();
        sent += static_cast<std::size_t>(n);
      }
      return true;
    } catch (const Poco::Exception&) {
      // The message is stored; the peer will resend and get the stored ACK as a duplicate.
      server_.stats.peerGone.fetch_add(1);
      logger().notice("listener %s: peer left before its ACK was sent", server_.settings.name);
      return false;
    }
  }

  MllpServer::Impl& server_;
};

class MllpConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  explicit MllpConnectionFactory(MllpServer::Impl& server) : server_(server) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new MllpConnection(socket, server_);  // owned by the TCPServer's dispatcher
  }

 private:
  MllpServer::Impl& server_;
};

}  // namespace

MllpServer::MllpServer(ListenerSettings settings, FrameHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(settings), handler)) {
  const ListenerSettings& s = impl_->settings;
  const Poco::Net::SocketAddress address(s.address, s.port);
  // SO_REUSEADDR (a restart binds at once) but never SO_REUSEPORT, which POCO sets by default:
  // with it a second engine on the same port would silently take half the connections.
  if (s.tls) {
    impl_->context = makeServerContext(*s.tls);
    Poco::Net::SecureServerSocket secure(impl_->context);
    secure.bind(address, true, false);
    impl_->socket = secure;
  } else {
    Poco::Net::ServerSocket plain;
    plain.bind(address, true, false);
    impl_->socket = plain;
  }
  if (!s.tls) {
    impl_->socket.setBlocking(false);  // the event loops accept without waiting
    const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    const int loops = s.ioThreads > 0 ? s.ioThreads : std::min(cores, 4);
    impl_->reactor = std::make_unique<MllpReactor>(impl_->settings, impl_->handler, impl_->stats,
                                                   impl_->socket.impl()->sockfd(), loops);
    return;
  }
  const int threads = std::max(1, s.maxConnections) + kRefusalThreads;
  impl_->watchdog = std::make_unique<SocketWatchdog>();
  impl_->pool = std::make_unique<Poco::ThreadPool>(2, threads, 60);
  Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(threads);
  impl_->server = std::make_unique<Poco::Net::TCPServer>(new MllpConnectionFactory(*impl_), *impl_->pool,
                                                         impl_->socket, params);
}

MllpServer::~MllpServer() {
  stop(std::chrono::milliseconds(2'000));
}

void MllpServer::start() {
  // Listening only now: bound (so a port clash stops the start at once) but not listening, no
  // connection completes before the engine is ready (a load balancer's TCP check fails until
  // then, and a sender is not left waiting through recovery).
  impl_->socket.listen(128);
  impl_->started = true;
  if (impl_->reactor) {
    impl_->reactor->start();
  } else {
    impl_->server->start();
  }
}

void MllpServer::stopAccepting(std::chrono::milliseconds grace) {
  if (impl_->stopping.exchange(true)) return;
  impl_->stopDeadline = std::chrono::steady_clock::now() + grace;
  if (!impl_->started) return;  // bound, never listening: nothing to stop; the socket closes with us
  if (impl_->reactor) {
    impl_->reactor->requestStop(impl_->stopDeadline);
  } else {
    impl_->server->stop();  // its accepting thread has ended
    impl_->endReads();      // connections finish the frame in hand, then see the end of input
  }
  // Shut, not closed (the descriptor stays ours until the destructor, so no loop can meet a
  // number reused meanwhile): connections in the backlog are reset and new ones refused.
  // Without it the kernel went on completing connections nobody would serve until the process
  // ended, and their senders waited for ACKs that never came.
  if (::shutdown(impl_->socket.impl()->sockfd(), SHUT_RD) != 0) {
    logger().warning("listener %s: the listening socket could not be shut (errno %d)", impl_->settings.name,
                     errno);
  }
}

void MllpServer::stop(std::chrono::milliseconds grace) {
  stopAccepting(grace);
  if (!impl_->started || impl_->joined.exchange(true)) return;
  if (impl_->reactor) {
    impl_->reactor->join();
    return;
  }
  std::unique_lock lock(impl_->mutex);
  if (!impl_->changed.wait_until(lock, impl_->stopDeadline, [&] { return impl_->admitted == 0; })) {
    logger().warning("listener %s: %d connections still open after the grace period", impl_->settings.name,
                     impl_->admitted);
  }
  lock.unlock();
  impl_->pool->joinAll();
}

std::uint16_t MllpServer::port() const {
  return impl_->socket.address().port();
}
const ListenerStats& MllpServer::stats() const {
  return impl_->stats;
}
const ListenerSettings& MllpServer::settings() const {
  return impl_->settings;
}

}  // namespace cpis::mllp
