#include "conformance/runner/receivers.h"

#include <atomic>
#include <cstdio>
#include <istream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/ThreadPool.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnection.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/TCPServerParams.h>
#include <Poco/StreamCopier.h>

#include "engine/mllp/framer.h"

namespace cpis::conformance {

namespace {

bool constantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

class WebhookHandler : public Poco::Net::HTTPRequestHandler {
 public:
  WebhookHandler(Recorder<WebhookDelivery>& deliveries, const std::string& secret)
      : deliveries_(deliveries), secret_(secret) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    std::string body;
    Poco::StreamCopier::copyToString(request.stream(), body);
    WebhookDelivery d;
    const std::string path = request.getURI();
    d.sink = path.substr(path.rfind('/') + 1);
    d.idempotencyKey = request.get("Idempotency-Key", "");
    auto status = Poco::Net::HTTPResponse::HTTP_OK;
    if (!secret_.empty()) {
      d.signatureChecked = true;
      const std::string expected = "sha256=" + webhookSignature(secret_, request.get("X-Cpis-Timestamp", ""), body);
      d.signatureValid = constantTimeEquals(expected, request.get("X-Cpis-Signature", ""));
      if (!d.signatureValid) {
        d.problem = "X-Cpis-Signature does not verify";
        status = Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED;
      }
    }
    try {
      Poco::JSON::Parser parser;
      const auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
      for (const auto& [key, value] : *object) d.fields[key] = value.isString() ? value.extract<std::string>() : value.toString();
    } catch (const Poco::Exception& e) {
      if (d.problem.empty()) d.problem = "the body is not a JSON object: " + e.displayText();
      status = Poco::Net::HTTPResponse::HTTP_BAD_REQUEST;
    }
    deliveries_.add(std::move(d));
    response.setStatus(status);
    response.setContentLength(0);
    response.send();
  }

 private:
  Recorder<WebhookDelivery>& deliveries_;
  const std::string& secret_;
};

class WebhookFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  WebhookFactory(Recorder<WebhookDelivery>& deliveries, const std::string& secret)
      : deliveries_(deliveries), secret_(secret) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new WebhookHandler(deliveries_, secret_);
  }

 private:
  Recorder<WebhookDelivery>& deliveries_;
  const std::string& secret_;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

std::string ackFor(const std::string& message) {
  const std::string controlId = rawHl7Field(message, "MSH", 10, 0);
  return "MSH|^~\\&|CPIS-CONFORMANCE|EPR|CPIS-ENGINE||" + rawHl7Field(message, "MSH", 7, 0) + "||ACK|A" + controlId +
         "|P|" + rawHl7Field(message, "MSH", 12, 0) + "\rMSA|AA|" + controlId + "\r";
}

class ReturnConnection : public Poco::Net::TCPServerConnection {
 public:
  ReturnConnection(const Poco::Net::StreamSocket& socket, Recorder<std::string>& messages,
                   const std::atomic<bool>& stopping)
      : TCPServerConnection(socket), messages_(messages), stopping_(stopping) {}

  void run() override {
    mllp::MllpFramer framer(1 << 20);
    std::vector<mllp::FrameEvent> events;
    char buffer[8192];
    socket().setReceiveTimeout(Poco::Timespan(0, 200'000));
    try {
      while (!stopping_) {
        int n = 0;
        try {
          n = socket().receiveBytes(buffer, sizeof buffer);
        } catch (const Poco::TimeoutException&) {
          continue;
        }
        if (n <= 0) return;
        events.clear();
        framer.feed(std::string_view(buffer, static_cast<std::size_t>(n)), events);
        for (const auto& e : events) {
          if (e.kind != mllp::FrameEvent::Kind::Frame) continue;
          const std::string ack = mllp::frame(ackFor(e.payload));
          messages_.add(e.payload);
          socket().sendBytes(ack.data(), static_cast<int>(ack.size()));
        }
      }
    } catch (const Poco::Exception&) {
      // the engine closed or reset the connection
    }
  }

 private:
  Recorder<std::string>& messages_;
  const std::atomic<bool>& stopping_;
};

class ReturnFactory : public Poco::Net::TCPServerConnectionFactory {
 public:
  ReturnFactory(Recorder<std::string>& messages, const std::atomic<bool>& stopping)
      : messages_(messages), stopping_(stopping) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new ReturnConnection(socket, messages_, stopping_);
  }

 private:
  Recorder<std::string>& messages_;
  const std::atomic<bool>& stopping_;
};

}  // namespace

std::string webhookSignature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  const std::string signed_ = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signed_.data()), signed_.size(), digest, &length) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    char two[3];
    std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(digest[i]));
    hex += two;
  }
  return hex;
}

std::string rawHl7Field(const std::string& message, const std::string& segment, int field, int component) {
  for (const auto& line : split(message, '\r')) {
    if (line.compare(0, segment.size() + 1, segment + "|") != 0) continue;
    const auto fields = split(line, '|');
    const auto index = static_cast<std::size_t>(segment == "MSH" ? field - 1 : field);
    if (index >= fields.size()) return "";
    if (component <= 0) return fields[index];
    const auto components = split(fields[index], '^');
    return static_cast<std::size_t>(component) <= components.size() ? components[static_cast<std::size_t>(component) - 1] : "";
  }
  return "";
}

// ---- WebhookReceiver -----------------------------------------------------------------------------

// Each server has a thread pool of its own, joined in the destructor: a request (or an MLLP
// connection) still being served when the runner ends uses the receiver's recorder.
struct WebhookReceiver::Impl {
  Poco::ThreadPool threads{1, 16};  // destroyed last
  std::string secret;
  Poco::Net::ServerSocket socket;
  std::unique_ptr<Poco::Net::HTTPServer> server;
};

WebhookReceiver::WebhookReceiver(std::uint16_t port, std::string secret) : impl_(std::make_unique<Impl>()) {
  impl_->secret = std::move(secret);
  impl_->socket.bind(Poco::Net::SocketAddress("127.0.0.1", port), true);
  impl_->socket.listen(64);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(8);
  params->setKeepAlive(true);
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(new WebhookFactory(deliveries_, impl_->secret),
                                                          impl_->threads, impl_->socket, params);
  impl_->server->start();
}

WebhookReceiver::~WebhookReceiver() {
  impl_->server->stopAll(true);  // also ends kept-alive connections
  impl_->threads.joinAll();      // every handler has returned
}

std::uint16_t WebhookReceiver::port() const { return impl_->socket.address().port(); }

// ---- ReturnListener ------------------------------------------------------------------------------

struct ReturnListener::Impl {
  Poco::ThreadPool threads{1, 16};  // destroyed last
  std::atomic<bool> stopping{false};
  Poco::Net::ServerSocket socket;
  std::unique_ptr<Poco::Net::TCPServer> server;
};

ReturnListener::ReturnListener(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->socket.bind(Poco::Net::SocketAddress("127.0.0.1", port), true);
  impl_->socket.listen(64);
  Poco::Net::TCPServerParams::Ptr params = new Poco::Net::TCPServerParams;
  params->setMaxThreads(8);
  impl_->server = std::make_unique<Poco::Net::TCPServer>(new ReturnFactory(messages_, impl_->stopping), impl_->threads,
                                                         impl_->socket, params);
  impl_->server->start();
}

ReturnListener::~ReturnListener() {
  impl_->stopping = true;
  impl_->server->stop();
  // Connections see `stopping` within their 200 ms receive time-out; they use this object.
  impl_->threads.joinAll();
}

std::uint16_t ReturnListener::port() const { return impl_->socket.address().port(); }

}  // namespace cpis::conformance
