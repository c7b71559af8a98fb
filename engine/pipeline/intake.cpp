#include "engine/pipeline/intake.h"

#include <Poco/Logger.h>

#include "engine/hl7v2/ack.h"
#include "engine/pipeline/return_channel.h"

namespace cpis::pipeline {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.pipeline");
}

core::Issue issue(core::ErrorCode code, std::string text, std::string_view segment = {},
                  std::uint32_t field = 0) {
  core::Issue i;
  i.code = code;
  i.text = std::move(text);
  if (!segment.empty()) {
    i.location.segmentId = std::string(segment);
    i.location.segmentSequence = 1;
    i.location.field = field;
  }
  return i;
}

// "ADT^A04": what kind of message, for outcomes and logs (never a value from the body).
std::string messageType(const hl7v2::Message& message) {
  const std::string event = message.triggerEvent();
  return message.messageCode() + (event.empty() ? "" : "^" + event);
}

std::string describeIssue(const core::Issue& i) {
  return std::to_string(static_cast<unsigned>(i.code)) + " " + std::string(core::describe(i.code)) + " at " +
         core::locationText(i.location);
}

// MSH-15 / MSH-16 (HL7 table 0155): whether an acknowledgement of that kind is wanted for
// this outcome. Empty means always (AL).
bool wanted(std::string_view condition, bool success) {
  if (condition == "NE") return false;
  if (condition == "ER") return !success;
  if (condition == "SU") return success;
  return true;
}

}  // namespace

Intake::Intake(FeedPolicy policy, store::MessageStore& store, AckStamper& stamper,
               ReturnChannel* returnChannel)
    : policy_(std::move(policy)), store_(store), stamper_(stamper), returnChannel_(returnChannel) {}

Intake::Pending Intake::prepare(std::string_view payload) {
  const auto parsed = hl7v2::parse(payload);
  Pending pending;
  pending.controlId = parsed ? parsed.value().controlId() : hl7v2::salvageControlId(payload);
  if (pending.controlId.empty()) {
    // Unreadable and without an MSH-10 of its own: stored under a key of ours, never a duplicate.
    pending.controlId = "~" + stamper_.next().controlId;
  }
  // Decide first (it is quick and needs nothing stored), so that the message, its ACK and its
  // outcome become durable in one commit; only then is the ACK sent.
  pending.decision = decide(parsed, payload);
  return pending;
}

store::InboundMessage Intake::inbound(const Pending& pending, std::string_view payload) const {
  const Decision& d = pending.decision;
  return store::InboundMessage{policy_.feed, pending.controlId, payload,
                               store::Completion{d.state, d.outcome, d.ack}};
}

std::string Intake::onFrame(std::string_view payload, const mllp::PeerInfo& /*peer*/) {
  const Pending pending = prepare(payload);
  return answer(pending, payload, store_.persistInbound(inbound(pending, payload)));
}

void Intake::onFrameAsync(std::string_view payload, const mllp::PeerInfo& /*peer*/, Reply reply) {
  auto pending = std::make_shared<const Pending>(prepare(payload));
  const store::InboundMessage message = inbound(*pending, payload);
  // `payload` stays valid until `reply` is called (the FrameHandler contract), and `pending`
  // lives in the callback: the store's views hold until the commit has answered.
  store_.persistInboundAsync(message, [this, pending, payload, reply = std::move(reply)](
                                          core::Result<store::PersistOutcome> persisted) {
    reply(answer(*pending, payload, persisted));
  });
}

std::string Intake::answer(const Pending& pending, std::string_view payload,
                           const core::Result<store::PersistOutcome>& persisted) {
  if (!persisted) return storeUnavailable(payload, persisted.error());
  const store::PersistOutcome& stored = persisted.value();
  const Decision& decision = pending.decision;
  if (stored.duplicate) {
    logger().information("feed %s: MSH-10 %s is a duplicate of message %s; answered from the store",
                         policy_.feed, pending.controlId, std::to_string(stored.id));
    if (stored.originalAck && !stored.originalAck->empty()) return *stored.originalAck;
    // No ACK is held for the original: its content was purged (or it came from an older build).
    return storeUnavailable(
        payload, core::Status::unavailable("no ACK is held for the original of this message"));
  }
  if (decision.state == store::MessageState::Rejected) {
    logger().notice("feed %s: message %s %s", policy_.feed, std::to_string(stored.id), decision.outcome);
  }
  if (decision.deferred) returnChannel_->submit(stored.id, decision.applicationAck);
  return decision.reply;
}

Intake::Decision Intake::decide(const core::Result<hl7v2::Message, core::Issue>& parsed,
                                std::string_view payload) {
  if (!parsed) return rejection(payload, nullptr, parsed.error());
  const hl7v2::Message& message = parsed.value();
  if (auto problem = checkSender(message)) return rejection(payload, &message, *problem);
  if (hl7v2::ackModeOf(message) == hl7v2::AckMode::Enhanced) return enhanced(message);
  Decision d;
  d.state = store::MessageState::Processed;
  d.outcome = "accepted " + messageType(message);
  d.ack = hl7v2::buildAck(message, hl7v2::AckCode::AA, {}, stamper_.next(policy_.defaultVersion));
  d.reply = d.ack;
  return d;
}

Intake::Decision Intake::enhanced(const hl7v2::Message& message) {
  // Enhanced mode: accept now (CA, once stored), answer for the application later over the
  // return channel.
  const std::string type = messageType(message);
  Decision d;
  d.ack = hl7v2::buildAck(message, hl7v2::AckCode::CA, {}, stamper_.next(policy_.defaultVersion));
  d.reply = wanted(message.get("MSH-15"), true) ? d.ack : std::string();
  if (!wanted(message.get("MSH-16"), true)) {
    d.outcome = "accepted " + type + "; no application ACK asked for";
  } else if (returnChannel_ == nullptr) {
    d.outcome = "accepted " + type + "; application ACK not sent: the feed has no return connection";
    logger().warning("feed %s: MSH-10 %s asked for an application ACK but the feed has no return connection",
                     policy_.feed, message.controlId());
  } else {
    d.deferred = true;
    d.state = store::MessageState::Received;
    d.applicationAck =
        hl7v2::buildAck(message, hl7v2::AckCode::AA, {}, stamper_.next(policy_.defaultVersion));
  }
  return d;
}

Intake::Decision Intake::rejection(std::string_view payload, const hl7v2::Message* message,
                                   const core::Issue& problem) {
  const auto options = stamper_.next(policy_.defaultVersion);
  Decision d;
  d.state = store::MessageState::Rejected;
  d.outcome = "rejected: " + describeIssue(problem);
  d.ack =
      message != nullptr
          ? hl7v2::buildAck(*message, hl7v2::ackCodeFor(hl7v2::Outcome::Reject, hl7v2::ackModeOf(*message)),
                            std::span(&problem, 1), options)
          : hl7v2::buildRejection(payload, problem, options);
  d.reply = d.ack;
  return d;
}

std::string Intake::onOversized(std::string_view prefix, std::size_t limit, const mllp::PeerInfo& peer) {
  // Not stored: only its first bytes arrived. The sender is told, and must split or shorten it.
  const auto problem = issue(core::ErrorCode::ValueTooLong, "message is larger than this feed's limit of " +
                                                                std::to_string(limit) + " bytes");
  logger().warning("feed %s: message from %s over %z bytes refused (MSH-10 %s)", policy_.feed, peer.address,
                   limit, hl7v2::salvageControlId(prefix));
  return hl7v2::buildRejection(prefix, problem, stamper_.next(policy_.defaultVersion));
}

core::Status Intake::resume(store::MessageId id) {
  auto stored = store_.fetch(id);
  if (!stored) return stored.error();
  if (!stored.value().raw) return core::Status::notFound("message " + std::to_string(id) + " has no content");
  const std::string& raw = *stored.value().raw;
  const Decision decision = decide(hl7v2::parse(raw), raw);
  if (!decision.deferred) return finish(id, decision.state, decision.outcome, decision.ack);
  if (auto status = store_.recordAck(id, decision.ack); !status.isOk()) return status;
  returnChannel_->submit(id, decision.applicationAck);
  return core::Status::ok();
}

core::Status Intake::applicationAckDelivered(store::MessageId id, std::string_view ack) {
  return finish(id, store::MessageState::Processed, "accepted; application ACK delivered", ack);
}

std::string Intake::storeUnavailable(std::string_view payload, const core::Status& status) {
  logger().error("feed %s: message not accepted: %s", policy_.feed, status.message());
  const auto problem = issue(core::ErrorCode::ApplicationInternalError,
                             "message not stored (" + status.message() + "); send it again later");
  const auto options = stamper_.next(policy_.defaultVersion);
  if (auto parsed = hl7v2::parse(payload)) {
    const auto& message = parsed.value();
    return hl7v2::buildAck(message, hl7v2::ackCodeFor(hl7v2::Outcome::Reject, hl7v2::ackModeOf(message)),
                           std::span(&problem, 1), options);
  }
  return hl7v2::buildRejection(payload, problem, options);
}

std::optional<core::Issue> Intake::checkSender(const hl7v2::Message& message) const {
  const auto mismatch = [&](const std::optional<std::string>& expected, std::uint32_t field) {
    return expected && message.get(hl7v2::Path{"MSH", 1, field, 1, 1, 0}) != *expected;
  };
  if (mismatch(policy_.expectedSendingApplication, 3)) {
    return issue(core::ErrorCode::TableValueNotFound,
                 "sending application (MSH-3) is not the one configured for this feed", "MSH", 3);
  }
  if (mismatch(policy_.expectedSendingFacility, 4)) {
    return issue(core::ErrorCode::TableValueNotFound,
                 "sending facility (MSH-4) is not the one configured for this feed", "MSH", 4);
  }
  return std::nullopt;
}

core::Status Intake::finish(store::MessageId id, store::MessageState state, std::string_view outcome,
                            std::string_view ack) {
  if (auto status = store_.recordAck(id, ack); !status.isOk()) return status;
  return store_.markOutcome(id, state, outcome);
}

}  // namespace cpis::pipeline
