#include "engine/cpis/async_reply_server.h"

#include <utility>

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

#include "engine/cpis/spine_wire.h"
#include "engine/mllp/certificate_subject.h"

namespace cpis::cpis {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.cpis");
}

}  // namespace

struct AsyncReplyServer::Impl {
  AsyncReplyServerSettings settings;
  AsyncReplies& replies;
  const SpineSchemas& schemas;
  ReplyOptions options;
  std::atomic<std::uint64_t> received{0};
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
  bool started = false;

  Impl(AsyncReplyServerSettings s, AsyncReplies& r, const SpineSchemas& sc, ReplyOptions o)
      : settings(std::move(s)), replies(r), schemas(sc), options(std::move(o)) {}

  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Impl& impl) : impl_(impl) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
      const auto answer = [&](Poco::Net::HTTPResponse::HTTPStatus status) {
        response.setStatusAndReason(status);
        response.setContentLength(0);
        response.send();
      };
      if (!allowed(request)) {
        response.setKeepAlive(false);
        return answer(Poco::Net::HTTPResponse::HTTP_FORBIDDEN);
      }
      if (request.getURI() != impl_.settings.path) return answer(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
      if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_POST) {
        return answer(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED);
      }
      std::string body;
      char buffer[16 * 1024];
      std::istream& in = request.stream();
      while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        body.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (body.size() > impl_.settings.maxBodyBytes) {
          response.setKeepAlive(false);
          return answer(Poco::Net::HTTPResponse::HTTP_REQUESTENTITYTOOLARGE);
        }
      }
      ++impl_.received;
      ParsedReply reply = parseReply(body, impl_.schemas, impl_.options);
      if (reply.relatesTo.empty()) {
        // Nothing says which query it answers: it can be matched to none.
        logger().warning("CP-IS asynchronous reply without a message reference discarded (%s)",
                         reply.interaction.empty() ? std::string("not recognised") : reply.interaction);
        return answer(Poco::Net::HTTPResponse::HTTP_BAD_REQUEST);
      }
      const std::string relatesTo = reply.relatesTo;
      const auto delivery = impl_.replies.deliver(std::move(reply));
      if (delivery != AsyncReplies::Delivery::Matched) {
        // Message ids are not patient data; the reply's content is never logged.
        logger().warning("CP-IS asynchronous reply for message %s discarded: %s", wire::logSafe(relatesTo, 80),
                         std::string(toString(delivery)));
      }
      answer(Poco::Net::HTTPResponse::HTTP_ACCEPTED);
    }

   private:
    // Mutual TLS with an allow-list: the client certificate's subject must be on it (the CA
    // alone is not enough when the list says who). Read from the connection for each request.
    bool allowed(Poco::Net::HTTPServerRequest& request) const {
      const auto& tls = impl_.settings.tls;
      if (!tls || tls->allowedSubjects.empty()) return true;
      try {
        Poco::Net::SecureStreamSocket socket(static_cast<Poco::Net::HTTPServerRequestImpl&>(request).socket());
        if (!socket.havePeerCertificate()) {
          logger().warning("CP-IS asynchronous reply from %s refused: no client certificate",
                           request.clientAddress().toString());
          return false;
        }
        const Poco::Net::X509Certificate certificate = socket.peerCertificate();
        if (mllp::subjectAllowed(tls->allowedSubjects, certificate)) return true;
        logger().warning("CP-IS asynchronous reply from %s refused: client certificate subject %s is not on the "
                         "allow-list",
                         request.clientAddress().toString(), certificate.subjectName());
      } catch (const Poco::Exception& e) {
        logger().warning(
            "CP-IS asynchronous reply from %s refused: its client certificate cannot be read (%s)",
            request.clientAddress().toString(), std::string(e.name()));
      }
      return false;
    }

    Impl& impl_;
  };

  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Impl& impl) : impl_(impl) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
      return new Handler(impl_);
    }

   private:
    Impl& impl_;
  };
};

AsyncReplyServer::AsyncReplyServer(AsyncReplyServerSettings settings, AsyncReplies& replies,
                                   const SpineSchemas& schemas, ReplyOptions options)
    : impl_(std::make_unique<Impl>(std::move(settings), replies, schemas, std::move(options))) {
  const auto& s = impl_->settings;
  const Poco::Net::SocketAddress address(s.address, s.port);
  Poco::Net::ServerSocket socket = listenOn(address, 64, s.tls ? makeServerContext(*s.tls) : nullptr);
  impl_->port = socket.address().port();
  impl_->pool = std::make_unique<Poco::ThreadPool>(2, std::max(s.maxThreads, 2) + 2);
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(std::max(s.maxThreads, 2));
  params->setKeepAlive(true);
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(new Impl::Factory(*impl_), *impl_->pool, socket, params);
}

AsyncReplyServer::~AsyncReplyServer() {
  stop();
}

void AsyncReplyServer::start() {
  if (impl_->started) return;
  impl_->server->start();
  impl_->started = true;
}

void AsyncReplyServer::stop() {
  if (!impl_->started) return;
  impl_->server->stopAll(true);
  impl_->pool->joinAll();
  impl_->started = false;
}

std::uint16_t AsyncReplyServer::port() const {
  return impl_->port;
}

std::string AsyncReplyServer::url() const {
  const auto& s = impl_->settings;
  const bool ipv6 = s.address.find(':') != std::string::npos;
  return std::string(s.tls ? "https://" : "http://") + (ipv6 ? "[" + s.address + "]" : s.address) + ":" +
         std::to_string(impl_->port) + s.path;
}

std::uint64_t AsyncReplyServer::received() const {
  return impl_->received.load();
}

}  // namespace cpis::cpis
