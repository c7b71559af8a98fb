#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>

#include <Poco/Net/Context.h>
#include <Poco/URI.h>

#include <cpis/plugin.hpp>

#include "plugins/common/sink_support.h"

namespace cpis::sinks::webhook {

// Posts each notification as a JSON object of its fields to one URL (http or https), signed
// with HMAC-SHA256 under a shared secret. deliver() runs on many threads at once; each takes a
// kept-alive connection from a small pool (or opens one) and gives it back after a complete
// answer, so a busy sink does not pay a TCP (and TLS) handshake per notification. A request on
// a reused connection that the receiver had closed meanwhile is sent again once on a new one
// (the Idempotency-Key makes that safe).
class WebhookSink final : public sdk::Sink {
 public:
  explicit WebhookSink(const sdk::Config& config);

  // sdk::Sink
  sdk::DeliveryResult deliver(const sdk::Notification& notification) const override;

  // The request body: a JSON object, one string member per field, in kFieldKeys order.
  static std::string body(const Fields& fields);
  // "sha256=" + hex HMAC-SHA256(secret, "<timestamp>.<body>").
  static std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body);
  // 2xx delivered; 408, 429 and 5xx retried; anything else refused.
  static sdk::DeliveryResult classify(int status, const std::string& reason);

 private:
  SslLibrary ssl_;
  Poco::URI url_;
  bool https_;
  std::string secret_;  // never logged, never in a result text
  std::chrono::milliseconds timeout_;
  Poco::Net::Context::Ptr context_;  // https only

  using Session = std::unique_ptr<Poco::Net::HTTPClientSession>;
  Session takeSession() const;
  void giveBack(Session session) const;
  static constexpr std::size_t kMaxIdleSessions = 16;
  mutable std::mutex idleMutex_;
  mutable std::vector<Session> idle_;  // connected, kept alive, not in use
};

}  // namespace cpis::sinks::webhook
