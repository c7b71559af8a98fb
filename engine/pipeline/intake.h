#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/domain/attendance.h"
#include "engine/notify/composer.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/frame_handler.h"
#include "engine/pipeline/ack_stamper.h"
#include "engine/pipeline/decide.h"
#include "engine/pipeline/return_channel.h"
#include "engine/store/message_store.h"

namespace cpis::pipeline {

class Adapter;
class Checker;
struct CheckRequest;
class Decider;
class LastOutcomes;
class Responder;
class ReturnChannel;
class UnmappedLocations;
class VisitTurns;
class WorkQueue;

// What the intake knows about the feed a listener serves.
struct FeedPolicy {
  std::string feed;                                       // the configured feed name
  std::optional<std::string> expectedSendingApplication;  // MSH-3; nullopt: any
  std::optional<std::string> expectedSendingFacility;     // MSH-4; nullopt: any
  std::string defaultVersion = "2.4";                     // ACK MSH-12 when a message has none
  // The feed is configured for enhanced mode (it has a return connection): a message that asks
  // for it in MSH-15/16 gets CA and its application ACK later. On a feed configured for
  // original mode every message is answered in original mode (AA/AE/AR with its alerts, on the
  // same connection), whatever MSH-15/16 say: the feed has nowhere to send a later answer.
  bool enhancedMode = false;
  // Original mode: a check is made or failed within this of the message's arrival, so that its
  // ACK goes back before the sender gives up (CPIS.md §8); nullopt: bounded by the lookup alone.
  std::optional<std::chrono::milliseconds> ackDeadline;
  // The set a message with an empty MSH-18 is read in (<feed characterSetWhenUnstated>).
  hl7v2::Charset charsetWhenUnstated = hl7v2::Charset::Ascii;
};

// What a feed that checks CP-IS adds to the intake: the stages after parse. Each outlives
// the intake; all are thread-safe.
struct CheckStages {
  const Adapter& adapter;      // adapt: mapping file + plugin -> attendance
  Decider& decider;            // decide: is a check due?
  const Checker& checker;      // look up: CP-IS (blocks: runs on `work`)
  const Responder& responder;  // respond: ACK with alert segments
  WorkQueue& work;             // where lookups run, off the listener's threads
  // What outcomes notify (CPIS.md §7); null: nothing. Engine-wide, immutable.
  const notify::Composer* notifications = nullptr;
  // Called with what was written after notifications were (the dispatcher's sinks they are
  // for look at once); may be empty.
  std::function<void(const notify::Notifications&)> notified{};
  // The feed's last outcome per attendance, kept where a restart finds it again (MemoryJournal);
  // null: the intake keeps its own, in memory.
  LastOutcomes* outcomes = nullptr;
};

// The front of the pipeline for one feed: persist, parse, adapt, decide, look up, answer. It
// is the listener's FrameHandler.
//
// Every frame is stored durably before anything is answered: an AA/CA means the message is on
// disk. The same (feed, MSH-10) again within the store's window gets the ACK stored for the
// original, and is not processed (nor checked) twice. A frame that cannot be read is stored
// too (as rejected, with its AR). When the store is down nothing is accepted: the sender gets
// AR/CR with ERR 207 and resends later.
//
// An ADT on a feed with check stages: the attendance is adapted and the decision made on the
// listener's thread; when no check is due the ACK (with a NOT_CHECKED alert and its reason) is
// stored with the message in one commit. When a check is due the message is stored first
// (unfinished), the lookup runs on the work queue, and the ACK with the alerts is stored as the
// message is finished, then sent; after a crash in between, recovery runs the check again.
//
// Acknowledgement mode follows MSH-15/MSH-16 on a feed configured for enhanced mode (only
// there: FeedPolicy::enhancedMode): original mode answers AA once the message is processed and
// its ACK and outcome are stored; enhanced mode answers CA once the message is stored, and the
// application acknowledgement (with the alerts) goes later over the feed's return channel.
//
// Notifications (CPIS.md §7) are written in the same transaction as the message's outcome:
// with the Completion for a message that needs no check (an A11 cancelling an attendance that
// had an unscheduled check: cancelled), with the finish of a checked one (FOUND: plan-found;
// CHECK_FAILED: the deferred check and check-failed); scheduled settings notify nobody.
//
// Threading: frames of many connections are handled at once; the mutable state (the last
// outcome per attendance, the left-over messages, the checks in progress with the resends
// waiting for them) is each behind its own lock. Nothing is logged that comes from the message
// but its MSH-10.
class Intake final : public mllp::FrameHandler {
 public:
  // `returnChannel` may be null: enhanced-mode application ACKs then cannot be delivered and
  // the outcome says so. `checks` null: the feed only stores and acknowledges.
  Intake(FeedPolicy policy, store::MessageStore& store, AckStamper& stamper, ReturnChannel* returnChannel,
         const CheckStages* checks = nullptr);
  ~Intake();

  // mllp::FrameHandler
  std::string onFrame(std::string_view payload, const mllp::PeerInfo& peer) override;
  // Parses and decides on the listener's thread, then hands the message to the store's group
  // commit without waiting; the ACK goes out from the store's writer thread once the commit
  // that holds the message is durable.
  void onFrameAsync(std::string_view payload, const mllp::PeerInfo& peer, Reply reply) override;
  std::string onOversized(std::string_view prefix, std::size_t limit, const mllp::PeerInfo& peer) override;

  // Finishes a message that was stored but not finished before the engine stopped: processes
  // it again and stores the ACK it gets, so a resend is answered from the store.
  core::Status resume(store::MessageId id) { return resume(id, std::nullopt); }
  // Called by the return channel once the peer has taken an application ACK.
  // `answer`: the EPR's MSA-1 for it (CA; AE, AR, CE or CR: it took the ACK and refused it).
  core::Status applicationAckDelivered(const ApplicationAck& ack, std::string_view answer = {});
  // Called with a deferred check's answer (the notification sink that re-checks after a failed
  // check, `failedCheckId`): the attendance's later updates repeat it (Decider::recordDeferred),
  // where they would have shown the failure, or queried CP-IS a second time once it was not
  // recent. Only while that failure (decided at `failedAt`) is still the attendance's last
  // outcome, or a silent read on the same number made since it is (the answer then takes the
  // read's place: a move back to an unscheduled setting repeats it).
  void deferredCheckAnswered(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                             std::string_view failedCheckId, domain::Instant failedAt);

 private:
  // What becomes of a message, decided before it is stored so that the message, its ACK and
  // its outcome become durable in one commit. `deferred` (enhanced mode with a return
  // channel): stored with its accept ACK but unfinished until the application ACK has been
  // delivered. A message that needs a CP-IS check is stored unfinished first, then checked.
  struct Disposition {
    bool deferred = false;
    // Deferred, while the return channel is full: the reply that refuses it, unstored (a new
    // frame's; recovery ignores it).
    std::string refusal;
    store::MessageState state = store::MessageState::Processed;
    std::string outcome;  // codes and locations, never field values
    std::string ack;      // stored with the message; empty: stored without (a check follows)
    std::string reply;    // sent to the peer (enhanced mode: empty when MSH-15 says so)
    ApplicationAck applicationAck;  // deferred only: for the return channel (its id set once stored)
  };
  // One frame on its way through the store.
  struct Pending;

  Pending prepare(std::string_view payload);
  // AR 202 for a training or debugging message (MSH-11 T or D) on a LIVE feed.
  std::optional<core::Issue> checkProcessingId(const hl7v2::Message& message) const;
  // AR 205 for a message whose MSH-10 a stored message with other content already has
  // (PersistOutcome::conflicting): never that message's ACK.
  std::string reusedControlId(std::string_view payload);
  // An application ACK's options: stamped, and asking the EPR for its accept ACK (MSH-15/16).
  hl7v2::AckOptions applicationAckOptions();
  // onFrameAsync for a message that needs a CP-IS check, original mode: its lookup starts as
  // soon as the store has written the message (not a duplicate), and that commit is not synced
  // on its own (MessageStore::persistInboundEarly): the ACK goes once the lookup's finishing
  // commit is durable, and its sync covers the message's commit too.
  void checkWhileStoring(std::shared_ptr<const Pending> pending, const store::InboundMessage& message,
                         std::string_view payload, Reply reply);
  // onFrame's checkWhileStoring (a connection's own thread, TLS): the check starts once the store
  // has written the message, and is made on this thread; its ACK is returned.
  std::string checkOnThisThread(const std::shared_ptr<const Pending>& pending, std::string_view payload);
  store::InboundMessage inbound(const Pending& pending, std::string_view payload) const;
  // The reply for a frame that needs no check, once the store has answered.
  std::string answer(const Pending& pending, std::string_view payload,
                     const core::Result<store::PersistOutcome>& persisted);
  // runCheck(), or (when it throws) the AR that asks for the message again. In the visit's turn
  // (VisitTurns), which the caller holds.
  std::string checkOrRefuse(store::MessageId id, const Pending& pending, std::string_view payload);
  // The visit a pending check is of ("" when none: it shares a turn with nothing).
  static const std::string& visitOf(const Pending& pending);
  // Queues `job` on the check stages' work queue, to run in its visit's turn (parked behind a
  // running check of the same visit). False: the queue is stopping, and `job` will not run.
  bool submitInTurn(const std::shared_ptr<const Pending>& pending, std::function<void()> job);
  // Enhanced mode's back-pressure: this many checks wait (queued or parked) that the accept ACK
  // should wait for its check to begin.
  bool checksBehind() const;
  // Messages this intake stored but could not finish: their senders were asked to send them
  // again, and such a resend is a duplicate of an original with no ACK. Each is kept with the
  // finish whose commit failed (its outcome, ACK and notifications: a check made is not made
  // again, and nothing it causes is lost), or without one when its check threw. A resend takes
  // it (once: takeLeftOver), and finishLeftOver() retries that finish, or checks the original as
  // recovery would; the reply answers the resend. Blocks: answerLeftOver() runs it on the work
  // queue, never on the store's thread. Kept in memory only: a restart's recovery finishes
  // whatever is still unfinished.
  struct LeftOverFinish {
    std::string outcome;
    std::string ack;
    notify::Notifications notifications;
    std::string checkId;  // the check whose finish this is
  };
  struct LeftOverEntry {
    store::MessageId id{};
    std::optional<LeftOverFinish> finish;
  };
  void leaveOver(store::MessageId id, std::optional<LeftOverFinish> finish);
  // A check whose finish was not stored (`unstored`), or whose notifications a later message
  // has now written (not `unstored`); unstored(): whether a repeat of it must write them.
  void noteUnstored(const std::string& checkId, bool unstored);
  bool unstored(const std::string& checkId) const;
  std::optional<LeftOverEntry> takeLeftOver(const core::Result<store::PersistOutcome>& persisted);
  // The answer to a frame with nothing in it: an AR, unstored.
  std::string emptyFrame();
  // `heldVisit`: the visit whose turn (VisitTurns) the caller holds; a check of it is then made
  // without taking the turn again.
  // takeLeftOver registered it as being checked (beginCheck): a second resend waits for this
  // one's answer, which ends that (endCheck).
  std::string finishLeftOver(LeftOverEntry entry, std::string_view payload,
                             std::optional<std::string_view> heldVisit = std::nullopt);
  std::string redoLeftOver(LeftOverEntry entry, std::string_view payload,
                           std::optional<std::string_view> heldVisit);
  // On the work queue; a check's left-over in its visit's turn (parked, as any check: a work-queue
  // thread that waited there for the turn could be one the parked checks ahead of it need).
  void answerLeftOver(LeftOverEntry entry, std::string_view payload, Reply reply,
                      const std::shared_ptr<const Pending>& resend);
  core::Status resume(store::MessageId id, std::optional<std::string_view> heldVisit);
  // Runs the CP-IS check of a stored message and finishes it; the reply in original mode
  // (enhanced mode: "", the application ACK goes to the return channel). Blocks.
  std::string runCheck(store::MessageId id, const Pending& pending, std::string_view payload);

  Disposition dispose(const core::Result<hl7v2::Message, core::Issue>& parsed, std::string_view payload,
                      Pending& pending);
  Disposition attend(const hl7v2::Message& message, Pending& pending);
  // `warnings`: the mapping's (an unreadable birth date, say), each an ERR with severity W in
  // the ACK that answers for the application.
  Disposition accept(const hl7v2::Message& message, const domain::CheckOutcome* outcome, bool alerts,
                     std::span<const core::Issue> warnings = {});
  // Enhanced mode: the CA now, the application ACK (`code`, with `issues` as its ERRs) over the
  // return connection; `failed` (a message refused for its content, code AE): the stored
  // outcome's text, and the message ends failed.
  Disposition enhanced(const hl7v2::Message& message, const domain::CheckOutcome* outcome, bool alerts,
                       std::span<const core::Issue> issues = {}, hl7v2::AckCode code = hl7v2::AckCode::AA,
                       std::string_view failed = {});
  Disposition rejection(std::string_view payload, const hl7v2::Message* message, const core::Issue& issue);
  std::string storeUnavailable(std::string_view payload, const core::Status& status);
  // AR/CR with ERR 207 and `text`, asking for the message again (with the NOT_CHECKED alert).
  std::string sendAgainLater(std::string_view payload, std::string text);
  std::string sendAgainLater(const hl7v2::Message& message, std::string text);
  // A frame refused before it was stored (Disposition::refusal): logged, and its reply.
  std::string refused(const Pending& pending);
  // On a feed that checks: appends NOT_CHECKED / MESSAGE_REJECTED with `text` to an AR/AE
  // answering `message` when it is an ADT, or a message that could not be read (null).
  void appendRejectedAlert(std::string& ack, const hl7v2::Message* message, std::string text) const;
  // The AR (CR in enhanced mode) with `problem` in its ERR and a NOT_CHECKED alert saying
  // `alert`: built on `message` when it parsed, else on what can be read of `payload`.
  std::string refusalAck(std::string_view payload, const hl7v2::Message* message, const core::Issue& problem,
                         std::string alert);
  std::optional<core::Issue> checkSender(const hl7v2::Message& message) const;
  // finish() as Processed, tried again with back-off while the store is unavailable (enhanced
  // mode, after the check: nobody would resend it), on the check queue's threads only, for
  // about half a minute at most, until it succeeds, is refused, or the engine stops.
  core::Status finishOrKeepTrying(store::MessageId id, std::string_view outcome,
                                  const notify::Notifications& notifications, std::string_view ack = {});
  core::Status finish(store::MessageId id, store::MessageState state, std::string_view outcome,
                      std::string_view ack, const notify::Notifications& notifications = {});
  // The notifications an attendance's outcome causes (none without a composer).
  notify::Notifications notificationsFor(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                                         std::optional<store::MessageId> id) const;
  void notified(const notify::Notifications& written) const;
  void rememberOutcome(const domain::Attendance& attendance, const domain::CheckOutcome& outcome);
  // The acknowledgement mode a message is answered in: MSH-15/16's on a feed configured for
  // enhanced mode, original mode on any other.
  hl7v2::AckMode modeOf(const hl7v2::Message& message) const;
  std::optional<domain::CheckOutcome> rememberedOutcome(const domain::Attendance& attendance) const;
  // A remembered outcome of `attendance` as shown again to the EPR: a failure whose automatic
  // retry is over (its deferred check dead or past its deadline), or that has none worth waiting
  // for, no longer announces it (CheckOutcome::retryNotAnnounced). Reads the outbox.
  domain::CheckOutcome shownAgain(const domain::Attendance& attendance, domain::CheckOutcome previous) const;
  // The attendance's check, when it failed unscheduled on this number with a reply that could not
  // be read (UNRECOGNISED_RESPONSE) and a message continuing the attendance (A08, A02, an A01 on
  // the same visit) would query again: it is repeated instead.
  std::optional<domain::CheckOutcome> unreadableBefore(const domain::Attendance& attendance,
                                                       const Decision& decision) const;

  FeedPolicy policy_;
  store::MessageStore& store_;
  AckStamper& stamper_;
  ReturnChannel* returnChannel_;
  const CheckStages* checks_;
  // The last outcome per attendance (visit number), for updates that repeat it: the stages'
  // (CheckStages::outcomes), else the intake's own.
  std::unique_ptr<LastOutcomes> ownOutcomes_;
  LastOutcomes* outcomes_ = nullptr;
  std::unique_ptr<UnmappedLocations> unmapped_;  // hazard H4: counted, and an ops alert in the log
  std::unique_ptr<UnmappedLocations> defaulted_;  // out of scope by the default rule: counted, a warning
  std::unique_ptr<UnmappedLocations> defaultModes_;  // LIVE, a care setting's mode by default: an ops alert
  void reportUnmapped(std::string_view locationKey);
  void reportOutOfScopeByDefault(std::string_view locationKey);
  // Counts the location in `counter` and, on its 1st, 10th, 100th... message, logs `text` as a
  // warning (a format taking the feed, the location as loggable() shows it, the count and a
  // plural "s").
  void reportLocation(UnmappedLocations& counter, std::string_view locationKey, const std::string& text);
  // Records a merge (A40) that the store has taken (Decider::noteMerge) and logs what it did;
  // `label` names it in the log (the trigger event, and which group of a message of several).
  void noteMerge(const domain::Attendance& attendance, const std::string& label) const;
  // What a message the store has taken does to the attendance memories (Pending::Remember).
  // `duplicate`: a resend answered from the store (only an end or a cancellation is noted).
  void noteStored(const Pending& pending, bool duplicate = false);
  // What an A03 acknowledges (CPIS.md §4: no query): the attendance's check, as an update shows
  // it, so that an EPR showing the latest ACK's CP-IS status does not turn a FOUND into
  // NOT_CHECKED as the child leaves; nullopt (NOT_AN_ATTENDANCE) when it is not an A03, or the
  // attendance has no query of its own on this NHS number (never checked, cancelled since).
  std::optional<domain::CheckOutcome> checkShownAtDischarge(const domain::Attendance& attendance) const;
  // The NOT_CHECKED outcome of a check the attendance's cancellation overtook.
  domain::CheckOutcome cancelledOutcome(const CheckRequest& request) const;
  struct LeftOver;
  std::unique_ptr<LeftOver> leftOver_;
  // Original mode: the messages whose check is being made, and the resends that arrived
  // meanwhile (a duplicate with no ACK stored yet: the sender gave up waiting, or sent it on a
  // second connection). Each such resend waits for its original's ACK and gets it, byte for
  // byte, as a resend of a finished message does, rather than an AR asking it to try again
  // (whose NOT_CHECKED alert would show while the check was being made).
  struct InCheck;
  std::unique_ptr<InCheck> inCheck_;
  // Registers `id` as being checked (before its check is queued, so that a resend the store
  // finds after it waits for it).
  void beginCheck(store::MessageId id);
  // Ends `id`'s check with `ack`, which is handed to every resend that waited for it.
  void endCheck(store::MessageId id, const std::string& ack);
  // A resend of `persisted`'s original: true when that original is being checked, and `reply`
  // gets its ACK once made, or when its check has just ended (one of the last kept), and `reply`
  // has had that ACK; false (reply not taken) otherwise.
  bool awaitOriginal(const core::Result<store::PersistOutcome>& persisted, Reply& reply);
  // CPIS.md §7, hazard H7: one query per attendance. The checks of one visit run one at a time:
  // a message whose check was due while its visit's check ran (an update sent on the start's CA,
  // enhanced mode; or on a second connection) waits for it, then is decided again, and repeats
  // that check's outcome when the number and access mode are the same (VisitTurns).
  std::unique_ptr<VisitTurns> visitTurns_;
  // After waiting for the visit's check before it: that check's outcome, when the decider now
  // repeats it for this message (none: this message is checked itself).
  std::optional<domain::CheckOutcome> outcomeToRepeat(const domain::Attendance& attendance) const;
};

// AR 103's issue for a message from another sender than the feed's <expectedSender> (MSH-3,
// MSH-4; an unset one is not checked), naming the value sent and the one configured. None when
// it is the one.
std::optional<core::Issue> refusedSender(const hl7v2::Message& message,
                                         const std::optional<std::string>& expectedApplication,
                                         const std::optional<std::string>& expectedFacility);

// AR 202's issue for a message a feed in `environment` does not take: in LIVE, a training (T) or
// debugging (D) processing id (MSH-11.1). None otherwise.
std::optional<core::Issue> refusedProcessingId(const hl7v2::Message& message, Environment environment);

// AR 203's issue for a message whose version id (MSH-12.1) is not an HL7 version 2 release
// (2.0 to 2.9, HL7 table 0104; spaces around it aside): "3.0", "V2", "2.4b". None for an empty
// MSH-12 (the parse warns).
std::optional<core::Issue> refusedVersionId(const hl7v2::Message& message);

}  // namespace cpis::pipeline
