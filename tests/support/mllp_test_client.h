#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/StreamSocket.h>

#include "engine/mllp/framer.h"

namespace cpis::test {

// A blocking MLLP client for tests: plain or TLS, raw bytes out, frames in.
class MllpTestClient {
public:
  // Plain TCP to 127.0.0.1:port.
  explicit MllpTestClient(std::uint16_t port);
  // TLS to 127.0.0.1:port with the given client context (certificate optional).
  MllpTestClient(std::uint16_t port, Poco::Net::Context::Ptr context);

  void sendRaw(const std::string& bytes);
  void sendMessage(const std::string& payload) { sendRaw(mllp::frame(payload)); }
  // The next frame's payload; nullopt when the server closed the connection first. Throws
  // Poco::TimeoutException after `timeout` (a broken test, not a synchronisation device).
  std::optional<std::string> readFrame(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Whether the server closes the connection (reads until end of stream, dropping frames).
  bool closedByServer(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void close();
  Poco::Net::StreamSocket& socket() { return socket_; }

  // A client TLS context trusting `caFile`, presenting a certificate when given.
  static Poco::Net::Context::Ptr tlsContext(const std::string& caFile, const std::string& certificateFile = "",
                                            const std::string& keyFile = "");

private:
  Poco::Net::StreamSocket socket_;
  mllp::MllpFramer framer_{64 * 1024 * 1024};
  std::vector<mllp::FrameEvent> pending_;
};

}  // namespace cpis::test
