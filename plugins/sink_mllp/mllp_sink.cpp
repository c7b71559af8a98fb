#include "plugins/sink_mllp/mllp_sink.h"

#include <stdexcept>

#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>
#include <Poco/Timestamp.h>

namespace cpis::sinks::mllp {
namespace {

constexpr char kStartBlock = 0x0b;
constexpr char kEndBlock = 0x1c;
constexpr char kCarriageReturn = 0x0d;
constexpr std::size_t kMaxAckBytes = 1 << 20;

Poco::Timespan span(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

void sendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const int n = socket.sendBytes(bytes.data() + sent, static_cast<int>(bytes.size() - sent));
    if (n <= 0) throw Poco::Net::ConnectionResetException("the receiver closed the connection");
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

MllpSink::MllpSink(const sdk::Config& config)
    : host_(config.getString("host")),
      port_(0),
      tls_(config.getBool("tls")),
      controlIdMaxLength_(0),
      timeout_(config.getInt("timeout_ms")) {
  if (host_.empty()) throw std::runtime_error("host: empty");
  const std::int64_t port = config.getInt("port");
  if (port < 1 || port > 65535) throw std::runtime_error("port: not a TCP port");
  port_ = static_cast<std::uint16_t>(port);
  if (timeout_.count() <= 0) throw std::runtime_error("timeout_ms: must be positive");
  const std::int64_t maxLength = config.getInt("control_id_max_length");
  if (maxLength < 16 || maxLength > 199) throw std::runtime_error("control_id_max_length: 16 to 199");
  controlIdMaxLength_ = static_cast<std::size_t>(maxLength);
  header_.sendingApplication = config.getString("sending_application");
  header_.sendingFacility = config.getString("sending_facility");
  header_.receivingApplication = config.getString("receiving_application");
  header_.receivingFacility = config.getString("receiving_facility");
  header_.processingId = config.getString("processing_id");
  header_.version = config.getString("hl7_version");
  const std::string caFile = config.getString("ca_file");
  const std::string certFile = config.getString("cert_file");
  const std::string keyFile = config.getString("key_file");
  if (tls_) {
    context_ = makeClientContext(caFile, certFile, keyFile);
  } else if (!caFile.empty() || !certFile.empty() || !keyFile.empty()) {
    throw std::runtime_error("ca_file, cert_file and key_file need tls=true");
  }
}

std::string MllpSink::exchange(const std::string& message) const {
  const Poco::Timespan timeout = span(timeout_);
  const Poco::Net::SocketAddress address(host_, port_);
  Poco::Net::StreamSocket socket;
  if (tls_) {
    Poco::Net::SecureStreamSocket secure(context_);
    secure.setPeerHostName(host_);
    secure.connect(address, timeout);
    secure.setReceiveTimeout(timeout);
    secure.setSendTimeout(timeout);
    secure.completeHandshake();
    socket = secure;
  } else {
    socket.connect(address, timeout);
  }
  socket.setReceiveTimeout(timeout);
  socket.setSendTimeout(timeout);
  socket.setNoDelay(true);
  sendAll(socket, std::string(1, kStartBlock) + message + kEndBlock + kCarriageReturn);

  // The reply: bytes before the start block are dropped, the frame ends at 0x1C 0x0D. The whole
  // wait is bounded by the time-out, however slowly the bytes trickle in.
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  std::string reply;
  bool inFrame = false;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw Poco::TimeoutException("no ACK in time");
    socket.setReceiveTimeout(span(left));
    const int n = socket.receiveBytes(buffer, sizeof buffer);
    if (n <= 0) throw Poco::Net::ConnectionResetException("the receiver closed the connection before its ACK");
    for (int i = 0; i < n; ++i) {
      const char c = buffer[i];
      if (!inFrame) {
        inFrame = c == kStartBlock;
        continue;
      }
      if (c == kCarriageReturn && !reply.empty() && reply.back() == kEndBlock) {
        reply.pop_back();
        return reply;
      }
      reply += c;
      if (reply.size() > kMaxAckBytes) throw Poco::DataFormatException("ACK larger than 1 MiB");
    }
  }
}

sdk::DeliveryResult MllpSink::classify(const std::optional<Ack>& ack, const std::string& controlId) {
  if (!ack) return sdk::DeliveryResult::retry("the receiver's reply has no MSA segment");
  if (ack->controlId != controlId) {
    return sdk::DeliveryResult::retry("the receiver acknowledged another message (MSA-2 is not our MSH-10 " +
                                      controlId + ")");
  }
  if (ack->code == "AA" || ack->code == "CA") return sdk::DeliveryResult::ok();
  if (ack->code == "AE" || ack->code == "CE") {
    return sdk::DeliveryResult::retry("the receiver answered " + ack->code + " for MSH-10 " + controlId);
  }
  if (ack->code == "AR" || ack->code == "CR") {
    return sdk::DeliveryResult::error("the receiver rejected MSH-10 " + controlId + " (" + ack->code + ")");
  }
  return sdk::DeliveryResult::retry("the receiver answered an unknown MSA-1 for MSH-10 " + controlId);
}

sdk::DeliveryResult MllpSink::deliver(const sdk::Notification& notification) const {
  const Fields fields = readFields(notification);
  const std::string controlId = controlIdFor(fieldValue(fields, "idempotency_key"), controlIdMaxLength_);
  const std::string now = Poco::DateTimeFormatter::format(Poco::Timestamp(), "%Y%m%d%H%M%S") + "+0000";
  const std::string message = composeMessage(fields, header_, controlId, now);
  try {
    return classify(parseAck(exchange(message)), controlId);
  } catch (const Poco::TimeoutException&) {
    return sdk::DeliveryResult::retry("no ACK for MSH-10 " + controlId + " within " +
                                      std::to_string(timeout_.count()) + " ms");
  } catch (const Poco::Exception& e) {
    return sdk::DeliveryResult::retry("MLLP receiver unreachable: " + e.displayText());
  }
}

}  // namespace cpis::sinks::mllp

CPIS_EXPORT_SINK(cpis::sinks::mllp::MllpSink, "mllp", "1.0.0",
                 cpis::sdk::requiredKey("host", CPIS_CONFIG_STRING, "the receiving system's host name or address"),
                 cpis::sdk::requiredKey("port", CPIS_CONFIG_INT, "the receiving system's MLLP port"),
                 cpis::sdk::boolKey("tls", "false", "MLLP over TLS 1.2 or later"),
                 cpis::sdk::stringKey("ca_file", "", "CA bundle the receiver's certificate must chain to "
                                                     "(tls; empty: the system's CAs)"),
                 cpis::sdk::stringKey("cert_file", "", "client certificate (PEM) for mutual TLS"),
                 cpis::sdk::stringKey("key_file", "", "the client certificate's private key (PEM, unencrypted)"),
                 cpis::sdk::intKey("timeout_ms", "10000", "connect time-out, and how long to wait for the ACK"),
                 cpis::sdk::stringKey("sending_application", "CPIS-ENGINE", "MSH-3"),
                 cpis::sdk::stringKey("sending_facility", "", "MSH-4"),
                 cpis::sdk::stringKey("receiving_application", "", "MSH-5"),
                 cpis::sdk::stringKey("receiving_facility", "", "MSH-6"),
                 cpis::sdk::stringKey("processing_id", "P", "MSH-11 (P, T or D)"),
                 cpis::sdk::stringKey("hl7_version", "2.5", "MSH-12"),
                 cpis::sdk::intKey("control_id_max_length", "20",
                                   "longest MSH-10 the receiver takes (HL7 v2.5: 20); longer idempotency "
                                   "keys are shortened with a hash"))
