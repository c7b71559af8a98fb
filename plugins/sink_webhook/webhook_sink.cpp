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
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (https_) {
      session = std::make_unique<Poco::Net::HTTPSClientSession>(url_.getHost(), url_.getPort(), context_);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(url_.getHost(), url_.getPort());
    }
    session->setTimeout(span(timeout_));
    session->setKeepAlive(false);
    session->sendRequest(request) << payload;
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    Poco::NullOutputStream discard;
    Poco::StreamCopier::copyStream(in, discard);
    return classify(static_cast<int>(response.getStatus()), response.getReason());
  } catch (const Poco::TimeoutException&) {
    return sdk::DeliveryResult::retry("webhook did not answer within " + std::to_string(timeout_.count()) + " ms");
  } catch (const Poco::Exception& e) {
    // connection refused or reset, TLS handshake, name resolution: the peer may be back later
    return sdk::DeliveryResult::retry("webhook unreachable: " + e.displayText());
  }
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
