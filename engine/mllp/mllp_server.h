#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/mllp/frame_handler.h"

namespace cpis::mllp {

struct TlsSettings {
  std::string certificateFile;       // PEM
  std::string privateKeyFile;        // PEM
  std::string privateKeyPassphrase;  // secret: read from a file by the configuration; never logged
  std::string caFile;                // CA bundle that client certificates must chain to
  bool requireClientCertificate = false;
  bool tls13Only = false;  // TLS 1.3 at least; otherwise TLS 1.2 at least (never anything older)
  // Client certificates accepted (when non-empty): each entry is a full subject, in OpenSSL's
  // one-line form ("/C=GB/O=Example Trust/CN=epr01") or RFC 2253's ("CN=epr01,O=Example
  // Trust,C=GB"), or a common name alone ("epr01").
  std::vector<std::string> allowedSubjects;
};

struct ListenerSettings {
  std::string name = "mllp";  // the feed's name, in logs and PeerInfo
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;                          // 0: an ephemeral port (tests); see MllpServer::port()
  std::size_t maxFrameBytes = 1 << 20;             // larger frames get an AR, then the connection closes
  std::chrono::milliseconds readTimeout{30'000};   // a started frame that stalls this long
  std::chrono::milliseconds idleTimeout{300'000};  // a connection silent between frames
  int maxConnections = 64;                         // further connections wait 0.5 s for a slot, then close
  int ioThreads = 0;                               // plain TCP: event loops; 0: one per core, at most 4
  std::optional<TlsSettings> tls;                  // TLS 1.2 or later when set
};

// What a listener has seen; read at any time from any thread.
struct ListenerStats {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};  // over maxConnections
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> oversized{0};
  std::atomic<std::uint64_t> abandoned{0};     // start block inside a frame
  std::atomic<std::uint64_t> droppedBytes{0};  // outside frames, and the rest of an oversized one
  std::atomic<std::uint64_t> missingCarriageReturns{0};
  std::atomic<std::uint64_t> stalled{0};     // read timeout inside a frame
  std::atomic<std::uint64_t> idleClosed{0};  // idle timeout between frames
  std::atomic<std::uint64_t> tlsRefused{0};  // handshake failed or subject not allowed
  std::atomic<std::uint64_t> peerGone{0};    // the peer vanished before its ACK was sent
  // accept() failed for want of a resource (file descriptors, memory): the listener then
  // stops accepting for a moment instead of trying again at once.
  std::atomic<std::uint64_t> acceptFailures{0};
  std::atomic<int> active{0};
};

// One MLLP listener (plain, TLS or mutual TLS). Plain TCP is served by a few epoll event loops
// (MllpReactor) that never wait for the handler; TLS by POCO's TCPServer, a thread per
// connection from the listener's own pool sized to maxConnections, with blocking reads and
// writes (POCO's secure sockets). Either way, frames go to the FrameHandler in order and each
// connection's ACKs go out in the order its frames came.
class MllpServer {
 public:
  // Binds at once (so port() is known, and a port in use is found); throws Poco::Exception
  // (address in use, TLS files unreadable): that is a start-up failure. Listens from start():
  // until then no connection completes.
  MllpServer(ListenerSettings settings, FrameHandler& handler);
  ~MllpServer();
  MllpServer(const MllpServer&) = delete;
  MllpServer& operator=(const MllpServer&) = delete;

  void start();
  // Stops accepting, lets every connection finish the frame it is handling (its ACK is sent),
  // closes the connections, and returns when all are gone or `grace` has passed.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10'000));
  // The first half of stop(), which returns at once: no connection is accepted any more (the
  // listening socket is shut, so the kernel completes none either: a sender or a load
  // balancer's check is refused, not left waiting), and reads end; `grace` counts from now.
  // An engine with several listeners stops them all this way first, then waits for each.
  void stopAccepting(std::chrono::milliseconds grace);

  std::uint16_t port() const;
  const ListenerStats& stats() const;
  const ListenerSettings& settings() const;

  struct Impl;  // the POCO side, kept out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpis::mllp
