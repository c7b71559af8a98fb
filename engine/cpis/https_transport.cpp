#include "engine/cpis/https_transport.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/URI.h>

#include "engine/cpis/tls_context.h"
#include "engine/mllp/socket_watchdog.h"

namespace cpis::cpis {

namespace {

using SteadyClock = std::chrono::steady_clock;

// What is left of `deadline`, as a socket time-out: POCO 1.11 waits twice a secure socket's
// time-out (OpenSSL's read, then a poll as long again), so TLS gets half. At least 1 ms: a
// zero time-out would mean none.
Poco::Timespan socketTimeout(SteadyClock::time_point deadline, bool tls) {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - SteadyClock::now()).count();
  if (tls) left /= 2;
  return Poco::Timespan(std::max<Poco::Timespan::TimeDiff>(left, 1000));
}

// The failure's class and what we were doing; never displayText(), which can quote the peer's
// bytes.
TransportFailure failure(TransportFailure::Kind kind, bool sent, const std::string& doing,
                         const Poco::Exception& e) {
  return TransportFailure{kind, sent, doing + " (" + e.name() + ")"};
}

// A kept-alive connection the server has closed (or said anything on) while it was idle: its
// FIN, a reset or a TLS close_notify is waiting to be read. Found before a request is written on
// it, it costs nothing; found after, the request may have reached the server.
bool closedWhileIdle(Poco::Net::HTTPClientSession& session) {
  try {
    return session.socket().poll(Poco::Timespan(0),
                                 Poco::Net::Socket::SELECT_READ | Poco::Net::Socket::SELECT_ERROR);
  } catch (const Poco::Exception&) {
    return true;
  }
}

// Told when a session's TCP connection is up, before anything else is said on it.
struct ConnectHook {
  std::function<void()> connected;
};

// A session whose every connection is watched from the moment it exists. POCO connects inside
// sendRequest(), and over TLS shakes hands there too, each socket wait of the handshake given
// the whole connect time-out: a peer trickling its handshake would hold the exchange for as
// long as it liked, before the watchdog had the socket. Here the handshake is deferred (lazy)
// past the TCP connect, the hook starts the watch, and the handshake and the peer certificate's
// check (which POCO makes only for a handshake it makes itself) follow under it.
template <class Session>
class WatchedSession final : public Session, public ConnectHook {
 public:
  using Session::Session;

 protected:
  void connect(const Poco::Net::SocketAddress& address) override {
    if constexpr (std::is_same_v<Session, Poco::Net::HTTPSClientSession>) {
      Poco::Net::SecureStreamSocket secure(this->socket());
      secure.setLazyHandshake(true);
      Session::connect(address);
      if (connected) connected();
      if (secure.completeHandshake() != 1) {  // a blocking socket throws on failure; never left half-done
        throw Poco::Net::SSLConnectionUnexpectedlyClosedException("TLS handshake not completed");
      }
      secure.verifyPeerCertificate();
    } else {
      Session::connect(address);
      if (connected) connected();
    }
  }
};

}  // namespace

core::Result<Endpoint> Endpoint::parse(std::string_view url) {
  try {
    const Poco::URI uri{std::string(url)};
    Endpoint e;
    if (uri.getScheme() == "https") {
      e.tls = true;
    } else if (uri.getScheme() == "http") {
      e.tls = false;
    } else {
      return core::Status::invalidArgument("endpoint: the URL must start with https:// or http://");
    }
    if (uri.getHost().empty()) return core::Status::invalidArgument("endpoint: the URL has no host");
    e.host = uri.getHost();
    e.port = uri.getPort();
    e.path = uri.getPathAndQuery();
    if (e.path.empty()) e.path = "/";
    return e;
  } catch (const Poco::SyntaxException&) {
    return core::Status::invalidArgument("endpoint: not a URL");
  }
}

std::string Endpoint::url() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port) + path;
}

std::string_view toString(TransportFailure::Kind kind) {
  switch (kind) {
    case TransportFailure::Kind::Connect: return "connect";
    case TransportFailure::Kind::Tls: return "tls";
    case TransportFailure::Kind::Timeout: return "timeout";
    case TransportFailure::Kind::Dropped: return "dropped";
    case TransportFailure::Kind::Protocol: return "protocol";
  }
  return "?";
}

struct HttpsTransport::Pool {
  struct Idle {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    SteadyClock::time_point since;
  };

  Poco::Net::Context::Ptr context;  // null for plain http
  std::mutex mutex;
  std::vector<Idle> idle;  // most recently used last
  TransportStats stats;
  // Ends exchanges that outlive their deadline: every socket wait is bounded by what is left of
  // it, but POCO reads a reply's status line, headers and chunk sizes through its own buffer, a
  // socket read at a time each given that same wait, so a peer trickling them a byte at a time
  // would hold an exchange for as long as it liked.
  mllp::SocketWatchdog watchdog;
};

HttpsTransport::HttpsTransport(Settings settings)
    : settings_(std::move(settings)), pool_(std::make_unique<Pool>()) {
  if (settings_.endpoint.tls) pool_->context = makeClientContext(settings_.tls.value_or(ClientTlsSettings{}));
}

HttpsTransport::~HttpsTransport() = default;

TransportStats HttpsTransport::stats() const {
  const std::lock_guard lock(pool_->mutex);
  TransportStats s = pool_->stats;
  s.idle = pool_->idle.size();
  return s;
}

core::Result<HttpReply, TransportFailure> HttpsTransport::post(std::string_view soapAction,
                                                               std::string_view body,
                                                               std::chrono::milliseconds timeout,
                                                               std::string_view contentType) {
  using Kind = TransportFailure::Kind;
  const Endpoint& endpoint = settings_.endpoint;

  // A kept-alive connection if a fresh one is waiting, else a new one.
  const auto take = [&]() -> std::pair<std::unique_ptr<Poco::Net::HTTPClientSession>, bool> {
    {
      const std::lock_guard lock(pool_->mutex);
      ++pool_->stats.requests;
      const auto now = SteadyClock::now();
      while (!pool_->idle.empty()) {
        Pool::Idle candidate = std::move(pool_->idle.back());
        pool_->idle.pop_back();
        if (now - candidate.since >= settings_.maxIdle) continue;
        if (closedWhileIdle(*candidate.session)) {
          ++pool_->stats.stale;
          continue;
        }
        ++pool_->stats.reused;
        return {std::move(candidate.session), true};
      }
      ++pool_->stats.connectionsOpened;
    }
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (endpoint.tls) {
      session = std::make_unique<WatchedSession<Poco::Net::HTTPSClientSession>>(endpoint.host, endpoint.port,
                                                                                pool_->context);
    } else {
      session = std::make_unique<WatchedSession<Poco::Net::HTTPClientSession>>(endpoint.host, endpoint.port);
    }
    session->setKeepAlive(true);
    return {std::move(session), false};
  };

  const auto giveBack = [&](std::unique_ptr<Poco::Net::HTTPClientSession> session) {
    const std::lock_guard lock(pool_->mutex);
    if (pool_->idle.size() < settings_.maxIdleConnections) {
      pool_->idle.push_back(Pool::Idle{std::move(session), SteadyClock::now()});
    }
  };

  // One deadline for the whole exchange, both rounds: every socket wait gets what is left of it,
  // and the reply is read a socket read at a time, so a peer that trickles its reply is cut off.
  const auto deadline = SteadyClock::now() + timeout;
  const auto waitAtMost = [&](Poco::Net::HTTPClientSession& session) {
    const Poco::Timespan left = socketTimeout(deadline, endpoint.tls);
    session.setTimeout(left, left, left);
    if (session.connected()) {
      session.socket().setReceiveTimeout(left);
      session.socket().setSendTimeout(left);
    }
  };
  for (int round = 0; round < 2; ++round) {
    if (SteadyClock::now() >= deadline)
      return TransportFailure{Kind::Timeout, false, "no connection in time"};
    auto [session, reused] = take();
    waitAtMost(*session);
    enum class Phase { Connecting, Sending, Waiting } phase = Phase::Connecting;
    // From the connection's first moment to the reply's last byte, the watchdog ends the
    // exchange at the deadline: a kept-alive connection from now, a new one (or one POCO
    // reopens) as soon as its TCP connection is up, before the TLS handshake.
    struct Watch {
      mllp::SocketWatchdog& watchdog;
      SteadyClock::time_point deadline;
      std::uint64_t id = 0;
      void start(const Poco::Net::StreamSocket& socket) {
        end();
        id = watchdog.watch(socket, deadline);
      }
      void end() {
        if (id != 0) watchdog.unwatch(std::exchange(id, 0));
      }
      ~Watch() { end(); }
    } watch{pool_->watchdog, deadline};
    Poco::Net::HTTPClientSession* const raw = session.get();
    auto* const hook = dynamic_cast<ConnectHook*>(raw);
    struct Unhook {  // the hook refers to this exchange's watch: gone before the session is pooled
      ConnectHook* hook;
      void now() {
        if (hook != nullptr) std::exchange(hook, nullptr)->connected = nullptr;
      }
      ~Unhook() { now(); }
    } unhook{hook};
    if (hook != nullptr) hook->connected = [&watch, raw] { watch.start(raw->socket()); };
    if (raw->connected()) watch.start(raw->socket());
    try {
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, endpoint.path,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setKeepAlive(true);
      request.setContentType(std::string(contentType));
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      request.set("User-Agent", settings_.userAgent);
      if (!soapAction.empty()) request.set("SOAPAction", "\"" + std::string(soapAction) + "\"");
      std::ostream& out = session->sendRequest(request);
      phase = Phase::Sending;
      waitAtMost(*session);
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
      out.flush();
      if (!out.good()) {
        if (const Poco::Exception* e = session->networkException()) e->rethrow();
        throw Poco::Net::ConnectionResetException("request body not written");
      }
      phase = Phase::Waiting;
      waitAtMost(*session);
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      HttpReply reply;
      reply.status = static_cast<int>(response.getStatus());
      reply.contentType = response.getContentType();
      for (const auto& [name, value] : response) reply.headers.emplace(name, value);
      if (response.hasContentLength() && response.getContentLength() > 0 &&
          static_cast<std::size_t>(response.getContentLength()) <= settings_.maxReplyBytes) {
        reply.body.reserve(static_cast<std::size_t>(response.getContentLength()));
      }
      char buffer[16 * 1024];
      for (;;) {
        if (SteadyClock::now() >= deadline) {
          return TransportFailure{Kind::Timeout, true, "reply not complete in time"};
        }
        waitAtMost(*session);
        if (in.peek() == std::char_traits<char>::eof()) break;  // the end, or a failure (bad())
        const std::streamsize n = in.readsome(buffer, sizeof buffer);
        reply.body.append(buffer, static_cast<std::size_t>(n));
        if (reply.body.size() > settings_.maxReplyBytes) {
          return TransportFailure{Kind::Protocol, true,
                                  "reply larger than " + std::to_string(settings_.maxReplyBytes) + " bytes"};
        }
      }
      if (in.bad()) {
        if (const Poco::Exception* e = session->networkException()) e->rethrow();
        throw Poco::Net::ConnectionResetException("reply body cut short");
      }
      if (response.hasContentLength() &&
          static_cast<std::streamsize>(reply.body.size()) != response.getContentLength()) {
        throw Poco::Net::ConnectionResetException("reply body cut short");
      }
      watch.end();  // before the connection is pooled: a shutdown from here would be the next request's
      unhook.now();
      if (response.getKeepAlive() && SteadyClock::now() < deadline) giveBack(std::move(session));
      return reply;
    } catch (const Poco::TimeoutException& e) {
      return failure(Kind::Timeout, phase == Phase::Waiting,
                     phase == Phase::Waiting ? "no reply in time" : "no connection in time", e);
    } catch (const Poco::Exception& e) {
      if (SteadyClock::now() >= deadline) {  // the watchdog ended it (or it failed as time ran out)
        return failure(Kind::Timeout, phase == Phase::Waiting,
                       phase == Phase::Waiting ? "no reply in time" : "no connection in time", e);
      }
      // A kept-alive connection that fails before the request has gone out whole (the server
      // closed it as the request was being written): once more on a new connection, since the
      // server cannot have acted on part of a request. One that fails after is not sent again
      // here: the server may have acted on it (an access recorded, the local authority told),
      // and whether to ask again is the lookup's decision, within its `retries` (hazard H7).
      if (reused && round == 0 && phase != Phase::Waiting) continue;
      const bool sent = phase == Phase::Waiting;
      if (dynamic_cast<const Poco::Net::SSLException*>(&e) != nullptr) {
        // Also a server refusing our certificate: that surfaces when we first read.
        return failure(Kind::Tls, sent, "TLS with " + endpoint.host + " failed", e);
      }
      if (dynamic_cast<const Poco::Net::ConnectionRefusedException*>(&e) != nullptr) {
        return failure(Kind::Connect, sent, "connection to " + endpoint.host + " refused", e);
      }
      if (dynamic_cast<const Poco::Net::DNSException*>(&e) != nullptr) {
        return failure(Kind::Connect, sent, "host " + endpoint.host + " not found", e);
      }
      if (dynamic_cast<const Poco::Net::MessageException*>(&e) != nullptr) {
        return failure(Kind::Protocol, sent, "the reply is not HTTP", e);
      }
      if (phase == Phase::Connecting) {
        return failure(Kind::Connect, sent, "cannot connect to " + endpoint.host, e);
      }
      return failure(Kind::Dropped, sent, "connection closed before a complete reply", e);
    }
  }
  return TransportFailure{Kind::Dropped, false, "connection closed before the request went out"};
}

}  // namespace cpis::cpis
