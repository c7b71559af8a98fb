#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/frame_handler.h"
#include "engine/pipeline/ack_stamper.h"
#include "engine/store/message_store.h"

namespace cpis::pipeline {

class ReturnChannel;

// What the intake knows about the feed a listener serves.
struct FeedPolicy {
  std::string feed;                                       // the configured feed name
  std::optional<std::string> expectedSendingApplication;  // MSH-3; nullopt: any
  std::optional<std::string> expectedSendingFacility;     // MSH-4; nullopt: any
  std::string defaultVersion = "2.4";                     // ACK MSH-12 when a message has none
};

// The front of the pipeline for one feed: persist, parse, answer. It is the listener's
// FrameHandler.
//
// Every frame is stored durably before anything is answered: an AA/CA means the message is on
// disk. The same (feed, MSH-10) again within the store's window gets the ACK stored for the
// original, and is not processed twice. A frame that cannot be read is stored too (as
// rejected, with its AR). When the store is down nothing is accepted: the sender gets AR/CR
// with ERR 207 and resends later.
//
// Acknowledgement mode follows MSH-15/MSH-16: original mode answers AA once the message is
// processed and its ACK and outcome are stored; enhanced mode answers CA once the message is
// stored, and the application acknowledgement goes later over the feed's return channel.
//
// Threading: onFrame runs on many connections' threads at once; the intake holds no mutable
// state of its own. Nothing is logged that comes from the message but its MSH-10.
class Intake final : public mllp::FrameHandler {
 public:
  // `returnChannel` may be null: enhanced-mode application ACKs then cannot be delivered and
  // the outcome says so.
  Intake(FeedPolicy policy, store::MessageStore& store, AckStamper& stamper, ReturnChannel* returnChannel);

  // mllp::FrameHandler
  std::string onFrame(std::string_view payload, const mllp::PeerInfo& peer) override;
  // Parses and decides on the listener's thread, then hands the message to the store's group
  // commit without waiting; the ACK goes out from the store's writer thread once the commit
  // that holds the message is durable.
  void onFrameAsync(std::string_view payload, const mllp::PeerInfo& peer, Reply reply) override;
  std::string onOversized(std::string_view prefix, std::size_t limit, const mllp::PeerInfo& peer) override;

  // Finishes a message that was stored but not finished before the engine stopped: processes
  // it again and stores the ACK it gets, so a resend is answered from the store.
  core::Status resume(store::MessageId id);
  // Called by the return channel once the peer has taken an application ACK.
  core::Status applicationAckDelivered(store::MessageId id, std::string_view ack);

 private:
  // What becomes of a message, decided before it is stored so that the message, its ACK and
  // its outcome become durable in one commit. `deferred` (enhanced mode with a return
  // channel): stored with its accept ACK but unfinished until the application ACK has been
  // delivered.
  struct Decision {
    bool deferred = false;
    store::MessageState state = store::MessageState::Processed;
    std::string outcome;  // codes and locations, never field values
    std::string ack;      // stored with the message
    std::string reply;    // sent to the peer (enhanced mode: empty when MSH-15 says so)
    std::string applicationAck;  // deferred only: for the return channel
  };
  // One frame on its way through the store.
  struct Pending {
    std::string controlId;
    Decision decision;
  };

  Pending prepare(std::string_view payload);
  store::InboundMessage inbound(const Pending& pending, std::string_view payload) const;
  // The reply for a frame once the store has answered.
  std::string answer(const Pending& pending, std::string_view payload,
                     const core::Result<store::PersistOutcome>& persisted);

  Decision decide(const core::Result<hl7v2::Message, core::Issue>& parsed, std::string_view payload);
  Decision enhanced(const hl7v2::Message& message);
  Decision rejection(std::string_view payload, const hl7v2::Message* message, const core::Issue& issue);
  std::string storeUnavailable(std::string_view payload, const core::Status& status);
  std::optional<core::Issue> checkSender(const hl7v2::Message& message) const;
  core::Status finish(store::MessageId id, store::MessageState state, std::string_view outcome,
                      std::string_view ack);

  FeedPolicy policy_;
  store::MessageStore& store_;
  AckStamper& stamper_;
  ReturnChannel* returnChannel_;
};

}  // namespace cpis::pipeline
