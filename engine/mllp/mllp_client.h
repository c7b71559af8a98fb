#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cpis::mllp {

struct ClientTls {
  std::string caFile;           // CA bundle the server certificate must chain to
  std::string certificateFile;  // client certificate for mutual TLS ("" = none)
  std::string privateKeyFile;
  std::string privateKeyPassphrase;  // secret; never logged
};

// A blocking MLLP client (plain or TLS 1.2+): frames out, frames in. Used by cpis-send, the
// return connection for enhanced-mode ACKs, and the tests. Not thread-safe: one per thread.
// Connection and TLS failures throw Poco::Exception (the caller reports them).
class MllpClient {
 public:
  MllpClient(const std::string& host, std::uint16_t port, std::chrono::milliseconds connectTimeout,
             const std::optional<ClientTls>& tls = std::nullopt);
  ~MllpClient();
  MllpClient(const MllpClient&) = delete;
  MllpClient& operator=(const MllpClient&) = delete;

  void send(std::string_view payload);   // framed
  void sendRaw(std::string_view bytes);  // as given, for framing tests
  // The next frame's payload; nullopt when the peer closed the connection (or ended the TLS
  // session) first. Throws Poco::TimeoutException when nothing complete arrives in time.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // Reads until the peer closes, dropping frames; false if it is still open after `timeout`.
  bool closedByPeer(std::chrono::milliseconds timeout);
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cpis::mllp
