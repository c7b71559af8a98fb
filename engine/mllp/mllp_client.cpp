#include "engine/mllp/mllp_client.h"

#include <vector>

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

#include "engine/mllp/framer.h"
#include "engine/mllp/private_key.h"

namespace cpis::mllp {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

Poco::Net::Context::Ptr clientContext(const ClientTls& tls) {
  Poco::Net::Context::Params params;
  params.caLocation = tls.caFile;
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;
  params.loadDefaultCAs = tls.caFile.empty();
  Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
  context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
  if (!tls.certificateFile.empty()) {
    context->useCertificate(Poco::Crypto::X509Certificate(tls.certificateFile));
    context->usePrivateKey(mllp::loadPrivateKey(tls.privateKeyFile, tls.privateKeyPassphrase));
  }
  return context;
}

}  // namespace

struct MllpClient::Impl {
  Poco::Net::StreamSocket socket;
  MllpFramer framer{256 * 1024 * 1024};
  std::vector<FrameEvent> pending;
};

MllpClient::MllpClient(const std::string& host, std::uint16_t port, std::chrono::milliseconds connectTimeout,
                       const std::optional<ClientTls>& tls)
    : impl_(std::make_unique<Impl>()) {
  const Poco::Net::SocketAddress address(host, port);
  if (tls) {
    Poco::Net::SecureStreamSocket secure(clientContext(*tls));
    secure.setPeerHostName(host);
    secure.connect(address, span(connectTimeout));
    secure.setReceiveTimeout(span(connectTimeout));
    secure.completeHandshake();
    impl_->socket = secure;
  } else {
    impl_->socket.connect(address, span(connectTimeout));
  }
  impl_->socket.setNoDelay(true);
}

MllpClient::~MllpClient() = default;

void MllpClient::sendRaw(std::string_view bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const int n = impl_->socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
    if (n <= 0) throw Poco::Net::ConnectionResetException("MLLP peer closed the connection");
    sent += static_cast<std::size_t>(n);
  }
}

void MllpClient::send(std::string_view payload) {
  sendRaw(frame(payload));
}

std::optional<std::string> MllpClient::receive(std::chrono::milliseconds timeout) {
  impl_->socket.setReceiveTimeout(span(timeout));
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    auto& pending = impl_->pending;
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (it->kind == FrameEvent::Kind::Frame) {
        std::string payload = std::move(it->payload);
        pending.erase(pending.begin(), it + 1);
        return payload;
      }
    }
    pending.clear();
    int n = 0;
    try {
      n = impl_->socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
    } catch (const Poco::Net::ConnectionResetException&) {
      return std::nullopt;
    } catch (const Poco::Net::SSLException&) {
      return std::nullopt;  // the server ended the TLS session, e.g. refusing our certificate
    }
    if (n <= 0) return std::nullopt;
    impl_->framer.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), pending);
  }
}

bool MllpClient::closedByPeer(std::chrono::milliseconds timeout) {
  try {
    while (receive(timeout)) {
    }
    return true;
  } catch (const Poco::TimeoutException&) {
    return false;
  }
}

void MllpClient::close() {
  impl_->socket.close();
}

}  // namespace cpis::mllp
