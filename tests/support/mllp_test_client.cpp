#include "tests/support/mllp_test_client.h"

#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>

namespace cpis::test {
namespace {
Poco::Timespan span(std::chrono::milliseconds ms) { return Poco::Timespan(ms.count() * 1000); }
}  // namespace

MllpTestClient::MllpTestClient(std::uint16_t port)
    : socket_(Poco::Net::SocketAddress("127.0.0.1", port)) {}

MllpTestClient::MllpTestClient(std::uint16_t port, Poco::Net::Context::Ptr context)
    : socket_(Poco::Net::SecureStreamSocket(Poco::Net::SocketAddress("127.0.0.1", port), context)) {}

Poco::Net::Context::Ptr MllpTestClient::tlsContext(const std::string& caFile, const std::string& certificateFile,
                                                   const std::string& keyFile) {
  Poco::Net::Context::Params params;
  params.caLocation = caFile;
  params.certificateFile = certificateFile;
  params.privateKeyFile = keyFile;
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
  params.loadDefaultCAs = false;
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  return context;
}

void MllpTestClient::sendRaw(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const int n = socket_.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
    if (n <= 0) throw Poco::Net::ConnectionResetException("send");
    sent += static_cast<std::size_t>(n);
  }
}

std::optional<std::string> MllpTestClient::readFrame(std::chrono::milliseconds timeout) {
  socket_.setReceiveTimeout(span(timeout));
  char buffer[65536];
  for (;;) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->kind == mllp::FrameEvent::Kind::Frame) {
        std::string payload = std::move(it->payload);
        pending_.erase(pending_.begin(), it + 1);
        return payload;
      }
    }
    pending_.clear();
    int n = 0;
    try {
      n = socket_.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Net::ConnectionResetException&) {
      return std::nullopt;
    } catch (const Poco::Net::SSLException&) {
      return std::nullopt;  // the server ended the TLS session (a refused handshake)
    }
    if (n <= 0) return std::nullopt;
    framer_.feed(std::string_view(buffer, static_cast<std::size_t>(n)), pending_);
  }
}

bool MllpTestClient::closedByServer(std::chrono::milliseconds timeout) {
  try {
    while (readFrame(timeout)) {
    }
    return true;
  } catch (const Poco::TimeoutException&) {
    return false;
  }
}

void MllpTestClient::close() { socket_.close(); }

}  // namespace cpis::test
