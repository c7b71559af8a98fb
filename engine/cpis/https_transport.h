#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/result.h"

namespace cpis::cpis {

// Where HTTP requests go: "https://host:port/path" (or http:// for a simulator on a laptop).
struct Endpoint {
  bool tls = true;
  std::string host;
  std::uint16_t port = 443;
  std::string path = "/";  // with the query string, if any

  // InvalidArgument for anything but an absolute http(s) URL with a host.
  static core::Result<Endpoint> parse(std::string_view url);
  std::string url() const;
};

// The client side of mutual TLS: our endpoint certificate (bound to our ASID and party key on
// Spine) and the trust anchors the server certificate must chain to.
struct ClientTlsSettings {
  std::string certificateFile;       // PEM; empty: no client certificate
  std::string privateKeyFile;        // PEM
  std::string privateKeyPassphrase;  // secret: never logged
  std::string caFile;                // PEM bundle; empty: the system's CAs
};

struct HttpReply {
  int status = 0;
  std::string contentType;
  std::string body;
  std::map<std::string, std::string> headers;  // names as the server wrote them
};

// Why an exchange failed, and whether the server may have received the request.
struct TransportFailure {
  enum class Kind {
    Connect,   // no connection (refused, unreachable, host unknown)
    Tls,       // the TLS handshake failed (certificate not trusted, ours refused)
    Timeout,   // no connection or no (complete) reply in time
    Dropped,   // the connection was closed or reset before a complete reply
    Protocol,  // the reply was not HTTP, or too large
  };
  Kind kind = Kind::Connect;
  bool requestSent = false;  // the whole request went out: the server may have acted on it
  std::string detail;        // exception class and peer, never the body
};

std::string_view toString(TransportFailure::Kind kind);

struct TransportStats {
  std::uint64_t requests = 0;
  std::uint64_t connectionsOpened = 0;  // new TCP (and TLS) connections
  std::uint64_t reused = 0;             // requests on a kept-alive connection
  std::uint64_t stale = 0;              // kept-alive connections found closed by the server, not used
  std::size_t idle = 0;                 // kept-alive connections waiting in the pool
};

// HTTP/1.1 POSTs to one endpoint over a pool of kept-alive connections (POCO
// HTTPClientSession / HTTPSClientSession), so that thousands of lookups a second do not each
// pay a TCP and TLS handshake. TLS 1.2 or later; the server certificate is verified against
// caFile and its name against the endpoint's host.
//
// Threading: post() from any number of threads at once; each call uses a connection of its
// own. Needs Poco::Net::initializeSSL() for https (done once by the process).
class HttpsTransport {
 public:
  struct Settings {
    Endpoint endpoint;
    std::optional<ClientTlsSettings> tls;  // used when endpoint.tls
    std::size_t maxIdleConnections = 64;
    // A kept-alive connection idle for longer is closed rather than reused: servers close idle
    // connections (POCO's HTTPServer after 10 s by default), and a request on a connection the
    // server is closing is a request that may be lost.
    std::chrono::milliseconds maxIdle{5'000};
    std::size_t maxReplyBytes = 16 * 1024 * 1024;
    std::string userAgent = "cpis-engine";
  };

  // Throws Poco::Exception when the TLS files cannot be read or used: a start-up failure.
  explicit HttpsTransport(Settings settings);
  ~HttpsTransport();
  HttpsTransport(const HttpsTransport&) = delete;
  HttpsTransport& operator=(const HttpsTransport&) = delete;

  // POSTs `body` (text/xml) with the SOAPAction header when `soapAction` is not empty, and
  // returns whatever HTTP reply comes back (any status). `timeout` bounds the whole exchange:
  // connecting (and the TLS handshake), sending, and the reply to its last byte, however
  // slowly a peer sends it (a watchdog shuts the socket at the deadline).
  core::Result<HttpReply, TransportFailure> post(std::string_view soapAction, std::string_view body,
                                                 std::chrono::milliseconds timeout,
                                                 std::string_view contentType = "text/xml; charset=utf-8");

  const Settings& settings() const noexcept { return settings_; }
  TransportStats stats() const;

 private:
  struct Pool;
  Settings settings_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace cpis::cpis
