#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <Poco/Net/Context.h>

#include <cpis/plugin.hpp>

#include "plugins/common/sink_support.h"
#include "plugins/sink_mllp/hl7_notification.h"

namespace cpis::sinks::mllp {

// Sends each notification as an HL7 v2 ORU^R01 over MLLP (plain or TLS) to another system and
// waits for its ACK: AA/CA delivered, AE/CE retried, AR/CR refused, no ACK in time retried.
// One connection per notification. Immutable after construction: deliver() runs on many
// threads.
class MllpSink final : public sdk::Sink {
 public:
  explicit MllpSink(const sdk::Config& config);

  // sdk::Sink
  sdk::DeliveryResult deliver(const sdk::Notification& notification) const override;

  // What an ACK means for the notification whose MSH-10 was controlId.
  static sdk::DeliveryResult classify(const std::optional<Ack>& ack, const std::string& controlId);

 private:
  // Sends the framed message and returns the unframed reply; throws Poco::Exception.
  std::string exchange(const std::string& message) const;

  SslLibrary ssl_;
  std::string host_;
  std::uint16_t port_;
  bool tls_;
  MessageHeader header_;
  std::size_t controlIdMaxLength_;
  std::chrono::milliseconds timeout_;
  Poco::Net::Context::Ptr context_;  // TLS only
};

}  // namespace cpis::sinks::mllp
