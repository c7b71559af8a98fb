#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>

#include <cpis/plugin.hpp>

#include "plugins/common/sink_support.h"

namespace cpis::sinks::smtp {

// What the mail says: built from the fields the engine passed (patient fields only when the
// sink's data level let them through).
struct MailText {
  std::string subject;
  std::string body;  // plain text, lines ending in CRLF
};

// Mails each notification to fixed recipients through one relay, over STARTTLS (required by
// default) with optional AUTH LOGIN. Immutable after construction: deliver() runs on many
// threads, each with its own connection.
class SmtpSink final : public sdk::Sink {
 public:
  explicit SmtpSink(const sdk::Config& config);

  // sdk::Sink
  sdk::DeliveryResult deliver(const sdk::Notification& notification) const override;

  static MailText compose(const Fields& fields, const std::string& subjectPrefix);
  // "<" + first 32 hex digits of SHA-256(key) + "@" + domain + ">": the same notification
  // always gets the same Message-ID, so a mail system can drop a redelivery.
  static std::string messageId(const std::string& idempotencyKey, const std::string& domain);
  // 4xx retried, 5xx (and anything else) refused.
  static sdk::DeliveryResult classify(int replyCode, const std::string& what);

 private:
  SslLibrary ssl_;
  std::string host_;
  std::uint16_t port_;
  bool startTls_;
  std::string from_;
  std::vector<std::string> to_;
  std::string username_;
  std::string password_;  // never logged, never in a result text
  std::string heloName_;
  std::string subjectPrefix_;
  std::chrono::milliseconds timeout_;
  Poco::Net::Context::Ptr context_;  // STARTTLS only
};

}  // namespace cpis::sinks::smtp
