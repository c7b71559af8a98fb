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

std::string Intake::onFrame(std::string_view payload, const mllp::PeerInfo& /*peer*/) {
  auto parsed = hl7v2::parse(payload);
  std::string controlId = parsed ? parsed.value().controlId() : hl7v2::salvageControlId(payload);
  if (controlId.empty()) {
    // Unreadable and without an MSH-10 of its own: stored under a key of ours, never a duplicate.
    controlId = "~" + stamper_.next().controlId;
  }
  // Decide first (it is quick and needs nothing stored), so that the message, its ACK and its
  // outcome become durable in one commit; only then is the ACK sent. Enhanced mode stays
  // unfinished until its application ACK has been delivered.
  const Decision decision = decide(parsed, payload);
  store::InboundMessage inbound{policy_.feed, controlId, payload};
  if (!decision.deferred)
    inbound.completion = store::Completion{decision.state, decision.outcome, decision.ack};
  auto persisted = store_.persistInbound(inbound);
  if (!persisted) return storeUnavailable(payload, persisted.error());
  const store::PersistOutcome& stored = persisted.value();
  if (stored.duplicate) {
    logger().information("feed %s: MSH-10 %s is a duplicate of message %s; answered from the store",
                         policy_.feed, controlId, std::to_string(stored.id));
    if (stored.originalAck && !stored.originalAck->empty()) return *stored.originalAck;
    // The original is still being processed (on another connection, or awaiting recovery).
    return storeUnavailable(
        payload, core::Status::unavailable("the original of this message is still being processed"));
  }
  if (decision.state == store::MessageState::Rejected) {
    logger().notice("feed %s: message %s %s", policy_.feed, std::to_string(stored.id), decision.outcome);
  }
  if (decision.deferred) return acceptForLater(stored.id, parsed.value());
  return decision.ack;
}

Intake::Decision Intake::decide(const core::Result<hl7v2::Message, core::Issue>& parsed,
                                std::string_view payload) {
  if (!parsed) return rejection(payload, nullptr, parsed.error());
  const hl7v2::Message& message = parsed.value();
  if (auto problem = checkSender(message)) return rejection(payload, &message, *problem);
  Decision d;
  if (hl7v2::ackModeOf(message) == hl7v2::AckMode::Enhanced) {
    d.deferred = true;
    return d;
  }
  d.state = store::MessageState::Processed;
  d.outcome = "accepted " + messageType(message);
  d.ack = hl7v2::buildAck(message, hl7v2::AckCode::AA, {}, stamper_.next(policy_.defaultVersion));
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
  const auto parsed = hl7v2::parse(raw);
  const Decision decision = decide(parsed, raw);
  if (decision.deferred) {
    acceptForLater(id, parsed.value());
    return core::Status::ok();
  }
  return finish(id, decision.state, decision.outcome, decision.ack);
}

std::string Intake::acceptForLater(store::MessageId id, const hl7v2::Message& message) {
  const std::string type = messageType(message);
  // Enhanced mode: accept now, answer for the application later over the return channel.
  const std::string accept =
      hl7v2::buildAck(message, hl7v2::AckCode::CA, {}, stamper_.next(policy_.defaultVersion));
  const std::string application =
      hl7v2::buildAck(message, hl7v2::AckCode::AA, {}, stamper_.next(policy_.defaultVersion));
  if (!wanted(message.get("MSH-16"), true)) {
    (void)finish(id, store::MessageState::Processed, "accepted " + type + "; no application ACK asked for",
                 accept);
  } else if (returnChannel_ == nullptr) {
    (void)finish(id, store::MessageState::Processed,
                 "accepted " + type + "; application ACK not sent: the feed has no return connection",
                 accept);
    logger().warning("feed %s: message %s asked for an application ACK but the feed has no return connection",
                     policy_.feed, std::to_string(id));
  } else {
    if (const auto status = store_.recordAck(id, accept); !status.isOk()) {
      logger().error("feed %s: accept ACK of message %s not stored (%s)", policy_.feed, std::to_string(id),
                     status.message());
    }
    returnChannel_->submit(id, application);
  }
  return wanted(message.get("MSH-15"), true) ? accept : std::string();
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
