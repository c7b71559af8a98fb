#include "plugins/sink_webhook/webhook_sink.h"

#include <ctime>
#include <istream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/Timespan.h>
#include <Poco/NullStream.h>

namespace cpis::sinks::webhook {
namespace {

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

Poco::URI parseUrl(const std::string& text) {
  Poco::URI url;
  try {
    url = Poco::URI(text);
  } catch (const Poco::SyntaxException&) {
    throw std::runtime_error("url: not a valid URL");
  }
  if (url.getScheme() != "http" && url.getScheme() != "https") {
    throw std::runtime_error("url: the scheme must be http or https");
  }
  if (url.getHost().empty()) throw std::runtime_error("url: no host");
  return url;
}

}  // namespace

WebhookSink::WebhookSink(const sdk::Config& config)
    : url_(parseUrl(config.getString("url"))),
      https_(url_.getScheme() == "https"),
      secret_(readSecretFile(config.getString("secret_file"), "secret_file")),
      timeout_(config.getInt("timeout_ms")) {
  if (timeout_.count() <= 0) throw std::runtime_error("timeout_ms: must be positive");
  const std::string caFile = config.getString("ca_file");
  const std::string certFile = config.getString("cert_file");
  const std::string keyFile = config.getString("key_file");
  if (https_) {
    context_ = makeClientContext(caFile, certFile, keyFile);
  } else if (!caFile.empty() || !certFile.empty() || !keyFile.empty()) {
    throw std::runtime_error("ca_file, cert_file and key_file need an https url");
  }
}

std::string WebhookSink::body(const Fields& fields) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const auto& [key, value] : fields) object.set(key, value);
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

std::string WebhookSink::signature(const std::string& secret, const std::string& timestamp,
                                   const std::string& body) {
  const std::string signed_ = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(signed_.data()), signed_.size(), digest, &size) == nullptr) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  return "sha256=" + toHex(digest, size);
}

sdk::DeliveryResult WebhookSink::classify(int status, const std::string& reason) {
  const std::string what = "HTTP " + std::to_string(status) + (reason.empty() ? "" : " " + reason);
  if (status >= 200 && status < 300) return sdk::DeliveryResult::ok();
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    return sdk::DeliveryResult::retry("webhook answered " + what);
  }
  return sdk::DeliveryResult::error("webhook refused the notification: " + what);
}

sdk::DeliveryResult WebhookSink::deliver(const sdk::Notification& notification) const {
  const Fields fields = readFields(notification);
  const std::string payload = body(fields);
  const std::string timestamp = std::to_string(static_cast<long long>(std::time(nullptr)));

  std::string target = url_.getPathEtc();
  if (target.empty()) target = "/";
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, target, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setContentType("application/json; charset=utf-8");
  request.setContentLength(static_cast<std::streamsize>(payload.size()));
  request.set("Idempotency-Key", std::string(fieldValue(fields, "idempotency_key")));
  request.set("X-Cpis-Timestamp", timestamp);
  request.set("X-Cpis-Signature", signature(secret_, timestamp, payload));
  request.set("User-Agent", "cpis-engine sink_webhook");

  try {
    Session session = takeSession();
    const bool reused = session->connected();
    Poco::Net::HTTPResponse response;
    std::istream* in = nullptr;
    try {
      session->sendRequest(request) << payload;
      in = &session->receiveResponse(response);
    } catch (const Poco::TimeoutException&) {
      throw;  // the receiver is slow, not gone: no second request now
    } catch (const Poco::Exception&) {
      if (!reused) throw;
      // The receiver closed the kept-alive connection while it was idle: once more, on a new one.
      session = takeSession();
      session->reset();
      session->sendRequest(request) << payload;
      in = &session->receiveResponse(response);
    }
    Poco::NullOutputStream discard;
    Poco::StreamCopier::copyStream(*in, discard);
    const auto result = classify(static_cast<int>(response.getStatus()), response.getReason());
    if (response.getKeepAlive() && in->eof() && !in->bad()) giveBack(std::move(session));
    return result;
  } catch (const Poco::TimeoutException&) {
    return sdk::DeliveryResult::retry("webhook did not answer within " + std::to_string(timeout_.count()) + " ms");
  } catch (const Poco::Exception& e) {
    // connection refused or reset, TLS handshake, name resolution: the peer may be back later
    return sdk::DeliveryResult::retry("webhook unreachable: " + e.displayText());
  }
}

WebhookSink::Session WebhookSink::takeSession() const {
  {
    const std::lock_guard lock(idleMutex_);
    if (!idle_.empty()) {
      Session session = std::move(idle_.back());
      idle_.pop_back();
      return session;
    }
  }
  Session session;
  if (https_) {
    session = std::make_unique<Poco::Net::HTTPSClientSession>(url_.getHost(), url_.getPort(), context_);
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(url_.getHost(), url_.getPort());
  }
  session->setTimeout(span(timeout_));
  session->setKeepAlive(true);
  // Poco reconnects by itself when a connection has been idle this long: shorter than the
  // usual servers' keep-alive time-outs (POCO 10 s, nginx 75 s, Apache 5 s).
  session->setKeepAliveTimeout(Poco::Timespan(4, 0));
  return session;
}

void WebhookSink::giveBack(Session session) const {
  const std::lock_guard lock(idleMutex_);
  if (idle_.size() < kMaxIdleSessions) idle_.push_back(std::move(session));
}

}  // namespace cpis::sinks::webhook

CPIS_EXPORT_SINK(cpis::sinks::webhook::WebhookSink, "webhook", "1.0.0",
                 cpis::sdk::requiredKey("url", CPIS_CONFIG_STRING, "where to POST: http://... or https://..."),
                 cpis::sdk::requiredKey("secret_file", CPIS_CONFIG_STRING,
                                        "file holding the HMAC-SHA256 signing secret (one line)"),
                 cpis::sdk::stringKey("ca_file", "", "CA bundle the server's certificate must chain to "
                                                     "(https; empty: the system's CAs)"),
                 cpis::sdk::stringKey("cert_file", "", "client certificate (PEM) for mutual TLS"),
                 cpis::sdk::stringKey("key_file", "", "the client certificate's private key (PEM, unencrypted)"),
                 cpis::sdk::intKey("timeout_ms", "10000", "connect, send and answer time-out, in milliseconds"))
