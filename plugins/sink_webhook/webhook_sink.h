#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <Poco/Net/Context.h>
#include <Poco/URI.h>

#include <cpis/plugin.hpp>

#include "plugins/common/sink_support.h"

namespace cpis::sinks::webhook {

// Posts each notification as a JSON object of its fields to one URL (http or https), signed
// with HMAC-SHA256 under a shared secret. Immutable after construction: deliver() runs on many
// threads, each with its own connection.
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
};

}  // namespace cpis::sinks::webhook
