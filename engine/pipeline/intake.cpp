#include "engine/pipeline/intake.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <Poco/Logger.h>
#include <Poco/String.h>

#include "engine/core/retry.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/version.h"
#include "engine/notify/notification.h"
#include "engine/pipeline/adapt.h"
#include "engine/pipeline/check.h"
#include "engine/pipeline/decide.h"
#include "engine/pipeline/last_outcomes.h"
#include "engine/pipeline/respond.h"
#include "engine/pipeline/return_channel.h"
#include "engine/pipeline/visit_turns.h"
#include "engine/pipeline/work_queue.h"

namespace cpis::pipeline {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.pipeline");
}

// Enhanced mode answers CA before the check: past this many checks waiting for a worker, a
// message's CA waits for its check to begin (back-pressure on the sender).
constexpr std::size_t kMaxQueuedChecks = 256;

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

// The outcome text stored for a checked attendance: codes only.
std::string checkedText(const hl7v2::Message& message, const domain::CheckOutcome& outcome) {
  std::string text = "accepted " + messageType(message) + "; CP-IS " + std::string(domain::codeOf(outcome.status));
  if (outcome.reason) text += " " + std::string(domain::codeOf(*outcome.reason));
  if (outcome.mode) text += " " + std::string(domain::codeOf(*outcome.mode));
  if (outcome.status == domain::CheckStatus::Found) {
    // Plans as the ACK counts them, and the local authorities' records they are in.
    text += " plans " + std::to_string(outcome.planCount()) + " records " +
            std::to_string(outcome.records.size());
  }
  if (!outcome.checkId.empty()) text += " check " + outcome.checkId;
  return text;
}

domain::Instant now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// NOT_CHECKED for a message the engine would not take (AE/AR): CPIS.md §5.
domain::CheckOutcome rejectedOutcome(domain::ReasonCode reason, std::string text, domain::Source source) {
  domain::CheckOutcome outcome;
  outcome.status = domain::CheckStatus::NotChecked;
  outcome.reason = reason;
  outcome.reasonText = std::move(text);
  outcome.decidedAt = now();
  outcome.checkId = newCheckId();
  outcome.source = source;
  return outcome;
}

}  // namespace

// One frame on its way through the store.
struct Intake::Pending {
  std::string controlId;
  Disposition disposition;
  std::optional<CheckRequest> check;  // a CP-IS check is due: stored first, checked after
  // The attendance's remembered check, repeated instead of a new one (DecisionKind::RepeatPrevious).
  std::optional<std::pair<domain::Attendance, domain::CheckOutcome>> repeated;
  bool enhanced = false;              // enhanced acknowledgement mode (MSH-15/16 valued)
  // Enhanced mode: MSH-15 (table 0155; empty: always), which accept acknowledgements the sender
  // takes, a resend's stored one included. Empty in original mode.
  std::string acceptAck;
  notify::Notifications notifications;  // stored with the completion (no check due)
  // Views of `notifications` for the store, made once the Pending has its final place.
  mutable std::vector<store::NewNotification> notificationViews;
  // What the message does to the attendance memories, applied by noteStored() once the store has
  // taken it as a new message (not a duplicate, not refused): a resend, or a try the store
  // refused, changes nothing there.
  struct Remember {
    domain::Attendance attendance;
    domain::Instant at{};
    std::optional<domain::CheckOutcome> notChecked;  // recorded as the attendance's check
    bool unmapped = false;                           // counted, and alerted (hazard H4)
    bool outOfScopeByDefault = false;                // counted, and reported (hazard H4)
    bool liveModeByDefault = false;                  // counted, and alerted (hazard H5)
  };
  std::optional<Remember> remember;
};

struct Intake::LeftOver {
  static constexpr std::size_t kCapacity = 10'000;  // beyond it, recovery at the next start
  std::mutex mutex;
  std::unordered_map<store::MessageId, std::optional<LeftOverFinish>> byId;
  // Checks whose finish was not stored (a full disk, a lock held too long): what they cause
  // (plan-found, check-failed, the deferred re-check) may never have been written, while the
  // attendance memory repeats them. A message that repeats one writes it (noteUnstored). The
  // oldest goes first when full.
  std::unordered_set<std::string> unstoredChecks;
  std::deque<std::string> unstoredOrder;  // oldest first; may name checks erased since
};

struct Intake::InCheck {
  static constexpr std::size_t kMaxWaiting = 1'000;  // resends waiting at once, beyond: the AR
  // The last checks ended, with their ACKs: a resend the store found before its original's
  // finish was stored (no ACK to repeat) may reach awaitOriginal() just after that check ended.
  static constexpr std::size_t kEndedKept = 64;
  std::mutex mutex;
  std::unordered_map<store::MessageId, std::vector<Reply>> waiting;  // every message in check
  std::size_t waitingCount = 0;
  std::deque<std::pair<store::MessageId, std::string>> ended;  // oldest first
};

void Intake::beginCheck(store::MessageId id) {
  const std::lock_guard lock(inCheck_->mutex);
  inCheck_->waiting.try_emplace(id);
}

void Intake::endCheck(store::MessageId id, const std::string& ack) {
  std::vector<Reply> waiting;
  {
    const std::lock_guard lock(inCheck_->mutex);
    const auto found = inCheck_->waiting.find(id);
    if (found == inCheck_->waiting.end()) return;
    waiting = std::move(found->second);
    inCheck_->waitingCount -= waiting.size();
    inCheck_->waiting.erase(found);
    if (inCheck_->ended.size() >= InCheck::kEndedKept) inCheck_->ended.pop_front();
    inCheck_->ended.emplace_back(id, ack);
  }
  for (Reply& reply : waiting) reply(ack);
}

bool Intake::awaitOriginal(const core::Result<store::PersistOutcome>& persisted, Reply& reply) {
  if (!persisted || !persisted.value().duplicate || persisted.value().conflicting) return false;
  const store::PersistOutcome& stored = persisted.value();
  if (stored.originalAck && !stored.originalAck->empty()) return false;  // answered from the store
  std::string endedAck;
  {
    const std::lock_guard lock(inCheck_->mutex);
    const auto found = inCheck_->waiting.find(stored.id);
    if (found != inCheck_->waiting.end()) {
      if (inCheck_->waitingCount >= InCheck::kMaxWaiting) return false;
      found->second.push_back(std::move(reply));
      ++inCheck_->waitingCount;
      logger().information(
          "feed %s: a resend of message %s, which is being checked: it gets that check's ACK", policy_.feed,
          std::to_string(stored.id));
      return true;
    }
    const auto ended = std::find_if(inCheck_->ended.rbegin(), inCheck_->ended.rend(),
                                    [&](const auto& entry) { return entry.first == stored.id; });
    if (ended == inCheck_->ended.rend()) return false;
    endedAck = ended->second;
  }
  logger().information(
      "feed %s: a resend of message %s, whose check has just ended: it gets that check's ACK", policy_.feed,
      std::to_string(stored.id));
  reply(std::move(endedAck));
  return true;
}

Intake::Intake(FeedPolicy policy, store::MessageStore& store, AckStamper& stamper,
               ReturnChannel* returnChannel, const CheckStages* checks)
    : policy_(std::move(policy)),
      store_(store),
      stamper_(stamper),
      returnChannel_(returnChannel),
      checks_(checks),
      ownOutcomes_(checks != nullptr && checks->outcomes != nullptr
                       ? nullptr
                       : std::make_unique<LastOutcomes>(policy_.feed)),
      outcomes_(ownOutcomes_ ? ownOutcomes_.get() : checks->outcomes),
      unmapped_(std::make_unique<UnmappedLocations>()),
      defaulted_(std::make_unique<UnmappedLocations>()),
      defaultModes_(std::make_unique<UnmappedLocations>()),
      leftOver_(std::make_unique<LeftOver>()),
      inCheck_(std::make_unique<InCheck>()),
      visitTurns_(checks != nullptr ? std::make_unique<VisitTurns>(checks->work) : nullptr) {}

Intake::~Intake() = default;

Intake::Pending Intake::prepare(std::string_view payload) {
  const auto parsed = hl7v2::parse(payload, policy_.charsetWhenUnstated);
  Pending pending;
  pending.controlId = parsed ? parsed.value().controlId() : hl7v2::salvageControlId(payload);
  if (pending.controlId.empty()) {
    // Unreadable and without an MSH-10 of its own: stored under a key of ours, never a duplicate.
    pending.controlId = "~" + stamper_.next().controlId;
  }
  // Decide first (it is quick and needs nothing stored), so that the message, its ACK and its
  // outcome become durable in one commit; only then is the ACK sent.
  pending.disposition = dispose(parsed, payload, pending);
  return pending;
}

store::InboundMessage Intake::inbound(const Pending& pending, std::string_view payload) const {
  const Disposition& d = pending.disposition;
  store::InboundMessage message{policy_.feed, pending.controlId, payload};
  if (!d.ack.empty()) {
    pending.notificationViews = notify::views(pending.notifications);
    message.completion = store::Completion{d.state, d.outcome, d.ack, pending.notificationViews};
  }
  return message;
}

std::string Intake::emptyFrame() {
  // Nothing to store, and nothing lost: the peer's problem, not the store's (the store refuses
  // empty content, which read as "message not stored, send it again later").
  logger().warning("feed %s: an empty frame (no MSH segment): answered AR, nothing stored", policy_.feed);
  return prepare({}).disposition.reply;
}

std::string Intake::onFrame(std::string_view payload, const mllp::PeerInfo& /*peer*/) {
  if (payload.empty()) return emptyFrame();
  const auto pending = std::make_shared<const Pending>(prepare(payload));
  if (!pending->disposition.refusal.empty()) return refused(*pending);
  if (pending->check && !pending->enhanced) return checkOnThisThread(pending, payload);
  const auto persisted = store_.persistInbound(inbound(*pending, payload));
  if (auto left = takeLeftOver(persisted)) return finishLeftOver(std::move(*left), payload);
  if (persisted && !persisted.value().conflicting) noteStored(*pending, persisted.value().duplicate);
  if (!pending->check || !persisted || persisted.value().duplicate) return answer(*pending, payload, persisted);
  const store::MessageId id = persisted.value().id;
  // Enhanced mode (original mode went through checkOnThisThread): the accept ACK now; the
  // check and the application ACK follow. Back-pressure
  // (see onFrameAsync): with checks this far behind, the accept ACK waits until this message's
  // check begins, as on the event loops. (It used to wait until the check was made, here on the
  // connection's thread: the CA came after the lookup, and could reach the EPR after its AA.)
  const bool holdBack = checksBehind();
  auto began = std::make_shared<std::promise<void>>();
  std::future<void> beginning = began->get_future();
  auto raw = std::make_shared<const std::string>(payload);
  if (!submitInTurn(pending, [this, pending, raw, id, began] {
        began->set_value();  // begun: not when parked
        (void)checkOrRefuse(id, *pending, *raw);
      })) {
    logger().warning("feed %s: message %s stays unfinished: the engine is stopping; recovery checks it",
                     policy_.feed, std::to_string(id));
  } else if (holdBack) {
    beginning.wait();  // the queue runs every job it took, even as it stops
  }
  return pending->disposition.reply;
}

std::string Intake::checkOnThisThread(const std::shared_ptr<const Pending>& pending,
                                      std::string_view payload) {
  // As on the event loops (checkWhileStoring): registered as being checked the moment the store
  // has given it its id as new (a resend's answer comes after its own write and sync, so it
  // almost always finds it: only one written and synced in that moment still gets the AR), and
  // checked without waiting for the message's own sync (its finish's sync covers it). Held by
  // the callbacks as well as here.
  struct Stored {
    std::promise<core::Result<store::PersistOutcome>> result;
    bool taken = false;  // written, and taken as written: checked here, `done` never called
  };
  auto stored = std::make_shared<Stored>();
  auto future = stored->result.get_future();
  store_.persistInboundEarly(
      inbound(*pending, payload),
      [this, pending, stored](const store::PersistOutcome& written) {
        if (written.duplicate) return false;
        noteStored(*pending);
        beginCheck(written.id);
        stored->taken = true;
        stored->result.set_value(written);
        return true;
      },
      [stored](core::Result<store::PersistOutcome> persisted) {
        stored->result.set_value(std::move(persisted));
      });
  const core::Result<store::PersistOutcome> persisted = future.get();
  if (!stored->taken) {
    // Not taken as written: refused, failed, a duplicate, or a store that only says when a
    // message is durable.
    if (auto left = takeLeftOver(persisted)) return finishLeftOver(std::move(*left), payload);
    if (persisted && !persisted.value().conflicting) noteStored(*pending, persisted.value().duplicate);
    // A resend of a message being checked: this connection's thread waits for that check's ACK.
    auto original = std::make_shared<std::promise<std::string>>();
    Reply toOriginal = [original](std::string ack) { original->set_value(std::move(ack)); };
    if (awaitOriginal(persisted, toOriginal)) return original->get_future().get();
    if (!persisted || persisted.value().duplicate) return answer(*pending, payload, persisted);
    beginCheck(persisted.value().id);
  }
  const store::MessageId id = persisted.value().id;
  std::string ack;
  {
    const auto turn = visitTurns_->take(visitOf(*pending));  // this connection's own thread waits
    ack = checkOrRefuse(id, *pending, payload);
  }
  endCheck(id, ack);
  return ack;
}

void Intake::checkWhileStoring(std::shared_ptr<const Pending> pending, const store::InboundMessage& message,
                               std::string_view payload, Reply reply) {
  auto shared = std::make_shared<Reply>(std::move(reply));
  // The check on the work queue; its reply is the ACK, made once the finishing commit is
  // durable, whose sync covers the message's own commit too (never run on the store's thread).
  const auto check = [this, pending, payload, shared](store::MessageId id) {
    beginCheck(id);
    if (!submitInTurn(pending, [this, pending, payload, shared, id] {
          std::string ack = checkOrRefuse(id, *pending, payload);
          endCheck(id, ack);
          (*shared)(std::move(ack));
        })) {
      std::string ack = storeUnavailable(payload, core::Status::unavailable("the engine is stopping"));
      endCheck(id, ack);
      (*shared)(std::move(ack));
    }
  };
  store_.persistInboundEarly(
      message,
      [this, pending, check](const store::PersistOutcome& written) {
        if (written.duplicate) return false;  // answered once durable, as any duplicate (its original's ACK)
        noteStored(*pending);
        check(written.id);                    // taken as written: not synced on its own
        return true;
      },
      [this, pending, payload, shared, check](core::Result<store::PersistOutcome> persisted) {
        // Not taken as written: refused, failed, a duplicate, or a store that only says when a
        // message is durable (the check starts then).
        if (auto left = takeLeftOver(persisted)) {
          return answerLeftOver(std::move(*left), payload, std::move(*shared), pending);
        }
        if (persisted && !persisted.value().conflicting) noteStored(*pending, persisted.value().duplicate);
        if (awaitOriginal(persisted, *shared)) return;
        if (!persisted || persisted.value().duplicate) return (*shared)(answer(*pending, payload, persisted));
        check(persisted.value().id);
      });
}

void Intake::onFrameAsync(std::string_view payload, const mllp::PeerInfo& /*peer*/, Reply reply) {
  if (payload.empty()) return reply(emptyFrame());
  auto pending = std::make_shared<const Pending>(prepare(payload));
  if (!pending->disposition.refusal.empty()) return reply(refused(*pending));
  const store::InboundMessage message = inbound(*pending, payload);
  if (pending->check && !pending->enhanced) return checkWhileStoring(std::move(pending), message, payload, std::move(reply));
  // `payload` stays valid until `reply` is called (the FrameHandler contract), and `pending`
  // lives in the callback: the store's views hold until the commit has answered. The callback
  // runs on the store's thread: a check goes on to the work queue, never runs there.
  store_.persistInboundAsync(message, [this, pending, payload, reply = std::move(reply)](
                                          core::Result<store::PersistOutcome> persisted) mutable {
    if (auto left = takeLeftOver(persisted))
      return answerLeftOver(std::move(*left), payload, std::move(reply), pending);
    if (persisted && !persisted.value().conflicting) noteStored(*pending, persisted.value().duplicate);
    if (!pending->check || !persisted || persisted.value().duplicate) {
      reply(answer(*pending, payload, persisted));
      return;
    }
    // Enhanced mode (original mode went through checkWhileStoring): the accept ACK now; the
    // check follows, with the payload copied, since the reply ends its life.
    const store::MessageId id = persisted.value().id;
    auto raw = std::make_shared<const std::string>(payload);
    // Back-pressure: with checks this far behind (CP-IS slow or down), the accept ACK waits
    // until this message's check begins. The connection has one frame with us at a time, so
    // it sends no more meanwhile; otherwise an EPR pipelining on the CAs would queue checks
    // (and their messages, in memory) without bound, and a shutdown would wait for them all.
    // Parked checks (VisitTurns) count: they wait as queued ones do.
    const bool holdBack = checksBehind();
    auto shared = std::make_shared<Reply>(std::move(reply));
    const bool submitted = submitInTurn(pending, [this, pending, raw, id, shared, holdBack] {
      if (holdBack) (*shared)(pending->disposition.reply);  // when the check begins, not when parked
      (void)checkOrRefuse(id, *pending, *raw);
    });
    if (!submitted) {
      logger().warning("feed %s: message %s stays unfinished: the engine is stopping; recovery checks it",
                       policy_.feed, std::to_string(id));
    }
    if (!holdBack || !submitted) (*shared)(pending->disposition.reply);
  });
}

std::string Intake::answer(const Pending& pending, std::string_view payload,
                           const core::Result<store::PersistOutcome>& persisted) {
  if (!persisted) return storeUnavailable(payload, persisted.error());
  const store::PersistOutcome& stored = persisted.value();
  const Disposition& disposition = pending.disposition;
  if (stored.duplicate && stored.conflicting) return reusedControlId(payload);
  if (stored.duplicate) {
    logger().information("feed %s: MSH-10 %s is a duplicate of message %s; answered from the store",
                         policy_.feed, pending.controlId, std::to_string(stored.id));
    if (stored.originalAck && !stored.originalAck->empty()) {
      // Enhanced mode: the stored answer only if MSH-15 takes its kind (NE none, SU a CA, ER a
      // CR or CE). The message is stored: nothing is lost by the silence it asked for.
      if (!pending.acceptAck.empty()) {
        const std::string code = hl7v2::acknowledgementOf(*stored.originalAck, pending.controlId);
        if (!wanted(pending.acceptAck, code == "AA" || code == "CA")) return {};
      }
      return *stored.originalAck;
    }
    if (!pending.acceptAck.empty() && !wanted(pending.acceptAck, false)) return {};
    // No ACK is held for the original: it is still being checked, or its content was purged.
    // It is stored: the AR says so (not "not stored"), and asks for the message again later.
    return sendAgainLater(payload, "the original of this message is stored, with no ACK to repeat yet (still being "
                                   "checked); send it again later");
  }
  if (disposition.state == store::MessageState::Rejected && disposition.reply.empty()) {
    // Refused, and not answered (MSH-15 NE or SU): nothing reaches the EPR. An ADT refused so is
    // a child not checked that nobody there hears of (a sender's MSH-4 changed by an upgrade
    // refuses them all): operations must.
    logger().warning("OPS ALERT: feed %s: message %s %s: the sender is not told", policy_.feed,
                     std::to_string(stored.id), disposition.outcome);
  } else if (disposition.state == store::MessageState::Rejected ||
             disposition.state == store::MessageState::Failed) {
    logger().notice("feed %s: message %s %s", policy_.feed, std::to_string(stored.id), disposition.outcome);
  } else if (disposition.outcome.find("; CP-IS ") != std::string::npos) {
    // Answered with alerts but no query (NOT_CHECKED and its reason, or a repeated outcome), as
    // a check's own line says what it found: codes only.
    logger().information("feed %s: message %s %s", policy_.feed, std::to_string(stored.id), disposition.outcome);
  }
  if (!pending.notifications.empty()) notified(pending.notifications);
  if (pending.repeated && !pending.notifications.empty())
    noteUnstored(pending.repeated->second.checkId, false);
  if (disposition.deferred) {
    ApplicationAck application = disposition.applicationAck;
    application.id = stored.id;
    returnChannel_->submit(std::move(application));
  }
  return disposition.reply;
}

const std::string& Intake::visitOf(const Pending& pending) {
  static const std::string kNone;
  return pending.check ? pending.check->attendance.visitNumber : kNone;
}

bool Intake::submitInTurn(const std::shared_ptr<const Pending>& pending, std::function<void()> job) {
  return checks_->work.submit(
      [this, pending, job = std::move(job)]() mutable { visitTurns_->run(visitOf(*pending), std::move(job)); });
}

bool Intake::checksBehind() const { return checks_->work.queued() + visitTurns_->parked() >= kMaxQueuedChecks; }

std::string Intake::checkOrRefuse(store::MessageId id, const Pending& pending, std::string_view payload) {
  // The work queue drops a job that throws: the sender would wait for its ACK for ever. The
  // message stays unfinished (stored, not checked): the sender is told to send it again, and
  // recovery checks it at the next start.
  try {
    return runCheck(id, pending, payload);
  } catch (const std::exception& e) {  // what() is not logged: it may quote the message
    logger().error("feed %s: the check of message %s failed unexpectedly (%s); left for its resend or recovery",
                   policy_.feed, std::to_string(id), std::string(typeid(e).name()));
  } catch (...) {
    logger().error("feed %s: the check of message %s failed unexpectedly; left for its resend or recovery",
                   policy_.feed, std::to_string(id));
  }
  leaveOver(id, std::nullopt);
  return sendAgainLater(payload, "message stored, but its CP-IS check failed unexpectedly; send it again later");
}

domain::CheckOutcome Intake::cancelledOutcome(const CheckRequest& request) const {
  return notCheckedOutcome(noQuery("the attendance was cancelled before its check was made: no query"),
                           request.attendance, now(), request.checkId, checks_->checker.source());
}

std::string Intake::runCheck(store::MessageId id, const Pending& pending, std::string_view payload) {
  const auto parsed = hl7v2::parse(payload, policy_.charsetWhenUnstated);
  if (!parsed) return storeUnavailable(payload, core::Status::internal("a stored message no longer parses"));
  const hl7v2::Message& message = parsed.value();
  const CheckRequest& request = *pending.check;
  // A check of the visit recorded since this message was decided (whether or not this one had
  // to wait for it: a long queue ahead of it does too): decided again, in its turn.
  const auto previous = checks_->decider.previous(request.attendance);
  std::optional<domain::CheckOutcome> repeated = previous && previous->decidedAt >= request.decidedAt
                                                     ? outcomeToRepeat(request.attendance)
                                                     : std::nullopt;
  if (repeated) repeated = shownAgain(request.attendance, *repeated);
  // CPIS.md §4: cancelled (an A11 stored) while this message waited for its check: no query.
  const domain::CheckOutcome outcome =
      repeated                                        ? *repeated
      : checks_->decider.cancelled(request.attendance) ? cancelledOutcome(request)
                                                       : checks_->checker.check(request);
  if (repeated) {
    checks_->decider.repeatedCheck(request.attendance);  // the memories keep the check as it was
  } else {
    checks_->decider.record(request.attendance, outcome);
    rememberOutcome(request.attendance, outcome);
  }
  logger().information("feed %s: message %s %s: %s", policy_.feed, std::to_string(id),
                       std::string(repeated ? "repeats its visit's check made meanwhile" : "checked"),
                       std::string(domain::codeOf(outcome.status)) +
                           (outcome.reason ? " " + std::string(domain::codeOf(*outcome.reason)) : std::string()));
  std::string text = checkedText(message, outcome);
  if (repeated) text += "; the check its visit's earlier message was making, repeated (one query an attendance)";
  // CPIS.md §8: with no birth date the check is made anyway, and noted (the outcome is what
  // `cpis-admin messages` and the audit's readers see).
  if (!request.attendance.birthDate && outcome.status != domain::CheckStatus::NotChecked) {
    text += "; no birth date: checked anyway";
  }
  // A repeated check told whom it tells once, with its own message; unless that message's finish
  // was not stored, when this one writes it (under the check's keys: never twice).
  const notify::Notifications notifications = !repeated || unstored(outcome.checkId)
                                                  ? notificationsFor(request.attendance, outcome, id)
                                                  : notify::Notifications{};
  if (pending.enhanced) {
    const auto options = applicationAckOptions();
    const std::string application =
        checks_->responder.acknowledge(message, hl7v2::AckCode::AA, request.attendance.warnings, options, outcome);
    // The check is made: the message is finished now, in the same commit as its application ACK
    // queued in the outbox for the feed's return connection (retried, dead-lettered, replayable).
    // Leaving it unfinished until delivery would make a restart check it again: a second access
    // recorded, the LA told twice.
    // Whatever MSH-16 asks (NE, ER, SU): the application ACK carries the CP-IS result of a check
    // made (an access recorded, the local authority told), which the EPR must show.
    const bool applicationAckWanted = returnChannel_ != nullptr;
    std::optional<notify::Notification> queued;
    if (applicationAckWanted && checks_->notifications != nullptr) {
      // A repeated check's id is its earlier message's: this message's own ACK is keyed apart.
      const std::string key = "application-ack:" + outcome.checkId + (repeated ? ":" + std::to_string(id) : "");
      queued = checks_->notifications->lateResult(request.attendance, outcome, key, application, id);
    }
    if (queued) {
      notify::Notifications all = notifications;
      all.push_back(std::move(*queued));
      if (auto status = finishOrKeepTrying(id, text + "; application ACK queued", all); !status.isOk()) {
        logger().error("feed %s: message %s not finished (%s); the next start finishes it", policy_.feed,
                       std::to_string(id), status.message());
      }
    } else if (applicationAckWanted) {
      // No outbox entry for it (no return sink): the message is finished once the application ACK
      // is delivered; what the outcome causes is written now (a crash before it: recovery checks again).
      if (!notifications.empty()) {
        const auto written = notify::views(notifications);
        if (auto status = store_.outbox().enqueue(written); !status.isOk()) {
          logger().error("feed %s: notifications of message %s not written (%s)", policy_.feed, std::to_string(id),
                         status.message());
        } else {
          notified(notifications);
        }
      }
      // The check's outcome goes with it: stored once delivered, with the delivery added.
      returnChannel_->submit(ApplicationAck{id, application, options.controlId, "AA", text});
    } else if (auto status = finishOrKeepTrying(id, text, notifications, pending.disposition.ack); !status.isOk()) {
      logger().error("feed %s: message %s not finished (%s); the next start finishes it", policy_.feed,
                     std::to_string(id), status.message());
    }
    return {};
  }
  const std::string ack = checks_->responder.acknowledge(message, hl7v2::AckCode::AA, request.attendance.warnings,
                                                         stamper_.next(policy_.defaultVersion), outcome);
  if (auto status = finish(id, store::MessageState::Processed, text, ack, notifications); !status.isOk()) {
    // Not acknowledged: the message stays unfinished, and its resend (or recovery) finishes it.
    logger().error("feed %s: message %s checked, but its outcome was not stored (%s); left for its resend or recovery",
                   policy_.feed, std::to_string(id), status.message());
    leaveOver(id, LeftOverFinish{text, ack, notifications, outcome.checkId});
    // Its message may not be stored either (written early, in the batch that failed): its resend
    // is then a new message, repeated from the attendance memory, which survives a restart. What
    // the check causes is written now where the store takes it (under the check's keys: the
    // finish's retry does not write it twice), else by the message that repeats it.
    if (!notifications.empty()) {
      if (store_.outbox().enqueue(notify::views(notifications)).isOk()) {
        notified(notifications);
      } else {
        noteUnstored(outcome.checkId, true);
      }
    }
    return sendAgainLater(payload, "message checked, but its outcome was not stored (" + status.message() +
                                       "); send it again");
  }
  if (repeated && !notifications.empty()) noteUnstored(outcome.checkId, false);
  return ack;
}

void Intake::noteUnstored(const std::string& checkId, bool unstored) {
  const std::lock_guard lock(leftOver_->mutex);
  auto& checks = leftOver_->unstoredChecks;
  auto& order = leftOver_->unstoredOrder;
  if (!unstored) {
    checks.erase(checkId);
    return;
  }
  if (!checks.insert(checkId).second) return;
  order.push_back(checkId);
  while (checks.size() > LeftOver::kCapacity && !order.empty()) {
    checks.erase(order.front());
    order.pop_front();
  }
  if (order.size() > 2 * LeftOver::kCapacity) {  // names of checks erased since: dropped
    std::erase_if(order, [&](const std::string& id) { return checks.count(id) == 0; });
  }
}

bool Intake::unstored(const std::string& checkId) const {
  const std::lock_guard lock(leftOver_->mutex);
  return leftOver_->unstoredChecks.count(checkId) != 0;
}

void Intake::leaveOver(store::MessageId id, std::optional<LeftOverFinish> finish) {
  const std::lock_guard lock(leftOver_->mutex);
  if (leftOver_->byId.size() >= LeftOver::kCapacity) return;
  leftOver_->byId.insert_or_assign(id, std::move(finish));
}

std::optional<Intake::LeftOverEntry> Intake::takeLeftOver(const core::Result<store::PersistOutcome>& persisted) {
  if (!persisted || !persisted.value().duplicate || persisted.value().conflicting) return std::nullopt;
  const store::PersistOutcome& stored = persisted.value();
  if (stored.originalAck && !stored.originalAck->empty()) return std::nullopt;  // finished: its ACK answers
  const std::lock_guard lock(leftOver_->mutex);
  auto found = leftOver_->byId.find(stored.id);
  if (found == leftOver_->byId.end()) return std::nullopt;
  beginCheck(stored.id);  // a second resend meanwhile waits for this one's finish (finishLeftOver)
  LeftOverEntry entry{stored.id, std::move(found->second)};
  leftOver_->byId.erase(found);
  return entry;
}

std::string Intake::finishLeftOver(LeftOverEntry entry, std::string_view payload,
                                   std::optional<std::string_view> heldVisit) {
  const store::MessageId id = entry.id;
  std::string ack = redoLeftOver(std::move(entry), payload, heldVisit);
  endCheck(id, ack);
  return ack;
}

std::string Intake::redoLeftOver(LeftOverEntry entry, std::string_view payload,
                                 std::optional<std::string_view> heldVisit) {
  const store::MessageId id = entry.id;
  logger().notice("feed %s: a resend of message %s, which was left unfinished: finishing it now", policy_.feed,
                  std::to_string(id));
  if (entry.finish) {  // checked already: the finish whose commit failed, again
    const LeftOverFinish& f = *entry.finish;
    if (auto status = finish(id, store::MessageState::Processed, f.outcome, f.ack, f.notifications); !status.isOk()) {
      leaveOver(id, std::move(entry.finish));
      return sendAgainLater(payload, "message checked, but its outcome was not stored (" + status.message() +
                                         "); send it again");
    }
    if (!f.notifications.empty()) noteUnstored(f.checkId, false);  // written with the finish
    return f.ack;
  }
  // Its check threw: finished as recovery would (resume), and answered with the ACK stored then.
  // Checked and failed again: resume left it over again, and the sender is asked once more.
  if (auto status = resume(id, heldVisit); !status.isOk()) {
    logger().error("feed %s: message %s not finished: %s", policy_.feed, std::to_string(id), status.message());
    leaveOver(id, std::nullopt);
    return sendAgainLater(payload, "the original of this message could not be finished (" + status.message() +
                                       "); send it again later");
  }
  if (auto stored = store_.fetch(id); stored && stored.value().state != store::MessageState::Received &&
                                      stored.value().ack && !stored.value().ack->empty()) {
    return *stored.value().ack;
  }
  return sendAgainLater(payload, "the original of this message is not finished; send it again later");
}

void Intake::answerLeftOver(LeftOverEntry entry, std::string_view payload, Reply reply,
                            const std::shared_ptr<const Pending>& resend) {
  // `payload` stays valid until `reply` is called (the FrameHandler contract).
  auto shared = std::make_shared<Reply>(std::move(reply));
  auto job = std::make_shared<LeftOverEntry>(std::move(entry));
  bool submitted = false;
  if (checks_ != nullptr && job->finish) {  // its finish again: a commit, no check
    submitted = checks_->work.submit(
        [this, job, payload, shared] { (*shared)(finishLeftOver(std::move(*job), payload)); });
  } else if (checks_ != nullptr) {
    // Its check again, in the visit's turn. The resend is the original's content: its
    // attendance's visit, also when the resend's own decision needs no check (a repeat, made
    // since) where the original's did: a visit of "" would let resume() wait for the turn.
    std::string visit = visitOf(*resend);
    if (visit.empty() && resend->remember) visit = resend->remember->attendance.visitNumber;
    submitted = checks_->work.submit([this, job, payload, shared, visit] {
      visitTurns_->run(visit, [this, job, payload, shared, visit] {
        (*shared)(finishLeftOver(std::move(*job), payload, visit));
      });
    });
  }
  if (!submitted) {
    leaveOver(job->id, std::move(job->finish));
    std::string ack = sendAgainLater(payload, "the engine is stopping; send it again later");
    endCheck(job->id, ack);
    (*shared)(std::move(ack));
  }
}

Intake::Disposition Intake::dispose(const core::Result<hl7v2::Message, core::Issue>& parsed,
                                    std::string_view payload, Pending& pending) {
  if (!parsed) return rejection(payload, nullptr, parsed.error());
  const hl7v2::Message& message = parsed.value();
  if (modeOf(message) == hl7v2::AckMode::Enhanced) pending.acceptAck = message.get("MSH-15");
  if (auto problem = checkSender(message)) return rejection(payload, &message, *problem);
  if (auto problem = checkProcessingId(message)) return rejection(payload, &message, *problem);
  if (auto problem = refusedVersionId(message)) return rejection(payload, &message, *problem);
  pending.enhanced = modeOf(message) == hl7v2::AckMode::Enhanced;
  if (checks_ != nullptr && message.messageCode() == "ADT") return attend(message, pending);
  return pending.enhanced ? enhanced(message, nullptr, false) : accept(message, nullptr, false);
}

Intake::Disposition Intake::attend(const hl7v2::Message& message, Pending& pending) {
  const AdaptResult adapted = checks_->adapter.adapt(message);
  const domain::Source source = checks_->checker.source();
  switch (adapted.kind) {
    case AdaptResult::Kind::DataError:
    case AdaptResult::Kind::Failed: {
      // The message is wrong for this feed (or its adapter failed): AE, stored as failed and
      // visible, with NOT_CHECKED / MESSAGE_REJECTED (CPIS.md §5).
      auto outcome = rejectedOutcome(domain::ReasonCode::MessageRejected,
                                     "the message could not be read as an attendance", source);
      // ZCP-13, when the number was read before the message was refused (CPIS.md §5: empty only
      // with NO_NHS_NUMBER): the EPR can still confirm the patient.
      echoNhsNumber(outcome, adapted.attendance);
      const std::string failed = "failed: " + (adapted.kind == AdaptResult::Kind::Failed || adapted.issues.empty()
                                                   ? adapted.reason
                                                   : describeIssue(adapted.issues.front()));
      // Enhanced mode: stored, so CA (a CE would have the EPR send it again, to the same answer),
      // then the AE with its ERRs as the application ACK.
      if (pending.enhanced) return enhanced(message, &outcome, true, adapted.issues, hl7v2::AckCode::AE, failed);
      Disposition d;
      d.state = store::MessageState::Failed;
      d.outcome = failed;
      d.ack = checks_->responder.acknowledge(
          message, hl7v2::ackCodeFor(hl7v2::Outcome::Error, modeOf(message)), adapted.issues,
          stamper_.next(policy_.defaultVersion), outcome);
      d.reply = d.ack;
      return d;
    }
    case AdaptResult::Kind::NotAnAttendance: {
      auto outcome = rejectedOutcome(domain::ReasonCode::NotAnAttendance, adapted.reason, source);
      echoNhsNumber(outcome, adapted.attendance);  // ZCP-13: the EPR can confirm the patient
      return pending.enhanced ? enhanced(message, &outcome, true, adapted.attendance.warnings)
                              : accept(message, &outcome, true, adapted.attendance.warnings);
    }
    case AdaptResult::Kind::Attendance: break;
  }
  const domain::Attendance& attendance = adapted.attendance;
  for (const core::Issue& warning : attendance.warnings) {
    logger().notice("feed %s: MSH-10 %s: %s at %s", policy_.feed, message.controlId(), warning.text,
                    core::locationText(warning.location));
  }
  Decision decision = checks_->decider.decide(attendance);
  if (decision.kind == DecisionKind::CheckDue) {
    if (const auto unreadable = unreadableBefore(attendance, decision)) {
      // An update of an attendance whose check Spine answered with a reply nobody could read
      // (the record itself malformed, most often): another query would record another access,
      // tell the local authority again and, almost surely, fail the same way; the deferred
      // re-check has its one try, and a person is asked after it. The failure, "check CP-IS by
      // hand", is repeated instead (it used to query again for every update after
      // recheckWindow: two accesses each, with the re-check).
      decision.kind = DecisionKind::RepeatPrevious;
      decision.previousDecidedAt = unreadable->decidedAt;
      decision.reasonText =
          "the attendance's check was answered with a reply that could not be read: repeated";
    }
  }
  const bool unchecked = !attendance.setting || *attendance.setting == domain::CareSetting::OutOfScope;
  if (decision.kind == DecisionKind::RepeatPrevious && unchecked) {
    // A move out of scope repeats the attendance's check (Decider::repeatedOnMove) only when
    // that check is here to be shown: never a query for a location CP-IS does not check.
    const auto previous = rememberedOutcome(attendance);
    if (!previous || previous->decidedAt != decision.previousDecidedAt) {
      decision = checks_->decider.locationNotChecked(attendance);
    }
  }
  // What the message does to the attendance (Decider::noteEvent), once it is stored.
  pending.remember = Pending::Remember{attendance, now(), std::nullopt, false};
  std::optional<domain::AccessMode> mode = decision.mode;
  if (decision.kind == DecisionKind::NotChecked) {
    const auto outcome = notCheckedOutcome(decision, attendance, now(), newCheckId(), source);
    if (attendance.event == domain::AttendanceEvent::Cancel && checks_->notifications != nullptr) {
      // CPIS.md §7: local sinks learn of a cancelled attendance that had an unscheduled query
      // (the national access record stays). Keyed by the A11's MSH-10: a resend or a recovery
      // writes the same notification. A second A11 (another MSH-10) writes another: telling a
      // sink twice is safer than not at all.
      const auto before = checks_->decider.previous(attendance);
      if (before && before->mode == domain::AccessMode::Unscheduled &&
          before->status != domain::CheckStatus::NotChecked) {
        pending.notifications =
            checks_->notifications->compose(notify::kCancelled, attendance, outcome, message.controlId());
      }
    }
    // A discharge shows the attendance's check again (nothing recorded for it: the attendance's
    // check stays the one made).
    if (const auto previous = checkShownAtDischarge(attendance)) {
      const domain::CheckOutcome shown = shownAgain(attendance, *previous);
      return pending.enhanced ? enhanced(message, &shown, true, attendance.warnings)
                              : accept(message, &shown, true, attendance.warnings);
    }
    pending.remember->notChecked = outcome;
    Disposition d = pending.enhanced ? enhanced(message, &outcome, decision.emitAlert, attendance.warnings)
                                     : accept(message, &outcome, decision.emitAlert, attendance.warnings);
    // Hazard H4: a location nobody mapped, unmapped or put out of scope by the mapping's default
    // rule, is reported once stored (noteStored).
    const bool unmapped = decision.reason == domain::ReasonCode::LocationUnmapped;
    const bool byDefault = decision.reason == domain::ReasonCode::SettingOutOfScope && attendance.settingByDefault;
    if (unmapped || byDefault) {  // a message naming no location too: "(none)", a feed to mend
      pending.remember->unmapped = unmapped;
      pending.remember->outOfScopeByDefault = byDefault;
      // A place, kept for the audit (enhanced mode stores its outcome once the application ACK
      // is delivered, without it).
      if (!d.outcome.empty()) d.outcome += " location " + UnmappedLocations::loggable(attendance.locationKey);
    }
    return d;
  }
  if (decision.kind == DecisionKind::RepeatPrevious) {
    // Only the check the decider repeats: anything else remembered here is not shown for it.
    if (const auto previous = rememberedOutcome(attendance);
        previous && previous->decidedAt == decision.previousDecidedAt) {
      // Hazard H4: a location nobody mapped is reported all the same, the check repeated or not.
      pending.remember->unmapped = !attendance.setting;
      pending.remember->outOfScopeByDefault = unchecked && attendance.setting && attendance.settingByDefault;
      pending.repeated.emplace(attendance, *previous);
      // The check's own message was answered "not stored, send again" (its finish failed): this
      // one writes what the check causes, with itself (idempotent under the check's keys).
      if (unstored(previous->checkId))
        pending.notifications = notificationsFor(attendance, *previous, std::nullopt);
      const domain::CheckOutcome shown = shownAgain(attendance, *previous);
      return pending.enhanced ? enhanced(message, &shown, true, attendance.warnings)
                              : accept(message, &shown, true, attendance.warnings);
    }
    // CPIS.md §4: an A13 never queries, nor does an update of a cancelled attendance.
    const bool reopen = attendance.event == domain::AttendanceEvent::Reopen;
    if (reopen || (attendance.event != domain::AttendanceEvent::Start && checks_->decider.cancelled(attendance))) {
      const Decision none =
          noQuery(reopen ? "trigger event " + attendance.triggerEvent + " reopens the attendance: no query"
                         : "the attendance was cancelled and trigger event " + attendance.triggerEvent +
                               " does not start it again: no query",
                  decision.mode);
      const auto outcome = notCheckedOutcome(none, attendance, now(), newCheckId(), source);
      return pending.enhanced ? enhanced(message, &outcome, true, attendance.warnings)
                              : accept(message, &outcome, true, attendance.warnings);
    }
    if (decision.refusedHere) {
      // The repeat was allowed on the terms of a check not held here any more: a query would be
      // made on a number this location refuses (NSTS08 at a ward without the switch). Its
      // NOT_CHECKED instead.
      Decision refused;
      refused.kind = DecisionKind::NotChecked;
      refused.mode = decision.mode;
      refused.reason = decision.refusedHere->first;
      refused.reasonText = decision.refusedHere->second;
      const auto outcome = notCheckedOutcome(refused, attendance, now(), newCheckId(), source);
      return pending.enhanced ? enhanced(message, &outcome, true, attendance.warnings)
                              : accept(message, &outcome, true, attendance.warnings);
    }
    mode = checks_->decider.accessModeFor(attendance);  // not remembered here (a restart): check again
  }
  pending.check = CheckRequest{
      attendance, mode.value_or(domain::AccessMode::Unscheduled), newCheckId(), now(), std::nullopt, false,
      false};
  // Hazard H5: checked all the same (a child not checked is worse), and reported once stored.
  pending.remember->liveModeByDefault = checks_->decider.liveModeByDefault(attendance);
  // Original mode: the sender waits for the ACK, counted from the frame's arrival (now). In
  // enhanced mode it has its CA; the application ACK follows whenever the check ends.
  if (!pending.enhanced && policy_.ackDeadline) {
    pending.check->answerBy = std::chrono::steady_clock::now() + *policy_.ackDeadline;
  }
  Disposition d;
  d.state = store::MessageState::Received;
  if (pending.enhanced) {  // the accept ACK is stored with the message; the check follows
    d.ack = hl7v2::buildAck(message, hl7v2::AckCode::CA, {}, stamper_.next(policy_.defaultVersion));
    d.reply = wanted(message.get("MSH-15"), true) ? d.ack : std::string();
  }
  return d;
}

Intake::Disposition Intake::accept(const hl7v2::Message& message, const domain::CheckOutcome* outcome,
                                   bool alerts, std::span<const core::Issue> warnings) {
  Disposition d;
  d.state = store::MessageState::Processed;
  d.outcome = outcome ? checkedText(message, *outcome) : "accepted " + messageType(message);
  d.ack = outcome && alerts
              ? checks_->responder.acknowledge(message, hl7v2::AckCode::AA, warnings,
                                               stamper_.next(policy_.defaultVersion), *outcome)
              : hl7v2::buildAck(message, hl7v2::AckCode::AA, warnings, stamper_.next(policy_.defaultVersion));
  d.reply = d.ack;
  return d;
}

Intake::Disposition Intake::enhanced(const hl7v2::Message& message, const domain::CheckOutcome* outcome,
                                     bool alerts, std::span<const core::Issue> issues, hl7v2::AckCode code,
                                     std::string_view failed) {
  // Enhanced mode: accept now (CA, once stored), answer for the application later over the
  // return channel.
  const std::string type = !failed.empty() ? std::string(failed)
                           : outcome      ? checkedText(message, *outcome)
                                          : "accepted " + messageType(message);
  Disposition d;
  if (!failed.empty()) d.state = store::MessageState::Failed;
  d.ack = hl7v2::buildAck(message, hl7v2::AckCode::CA, {}, stamper_.next(policy_.defaultVersion));
  d.reply = wanted(message.get("MSH-15"), true) ? d.ack : std::string();
  // ER: errors only; SU: successes only; NE: never. Not for an outcome with alerts: what CP-IS
  // said (or why no check was made) is for the EPR to show, whatever it asked.
  if (!(outcome != nullptr && alerts) && !wanted(message.get("MSH-16"), code == hl7v2::AckCode::AA)) {
    d.outcome = type + "; no application ACK asked for";
  } else if (returnChannel_ == nullptr) {
    d.outcome = type + "; application ACK not sent: the feed has no return connection";
    logger().warning("feed %s: MSH-10 %s asked for an application ACK but the feed has no return connection",
                     policy_.feed, message.controlId());
  } else {
    d.deferred = true;
    d.state = store::MessageState::Received;
    d.outcome = type;  // stored with the CA; the delivery is added to it
    if (returnChannel_->full() && wanted(message.get("MSH-15"), false)) {
      // Back-pressure: the return connection is that far behind (the sender's listener down or
      // not reading). A new message is refused before it is stored (refused(), so that its
      // resend is not a duplicate of a refusal); one recovery finds stored is queued anyway. A
      // sender that takes no CR (MSH-15 NE, SU) is never refused: it would not know.
      d.refusal = sendAgainLater(message, "refused for now: application ACKs for this feed wait for its return "
                                          "connection; send it again later");
    }
    const auto options = applicationAckOptions();
    d.applicationAck.ack = outcome && alerts ? checks_->responder.acknowledge(message, code, issues, options, *outcome)
                                             : hl7v2::buildAck(message, code, issues, options);
    d.applicationAck.controlId = options.controlId;
    d.applicationAck.code = std::string(hl7v2::toString(code));
  }
  return d;
}

void Intake::rememberOutcome(const domain::Attendance& attendance, const domain::CheckOutcome& outcome) {
  outcomes_->remember(attendance.visitNumber, outcome);
}

void Intake::deferredCheckAnswered(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                                   std::string_view failedCheckId, domain::Instant failedAt) {
  if (checks_ == nullptr || attendance.visitNumber.empty()) return;
  if (outcome.status != domain::CheckStatus::Found && outcome.status != domain::CheckStatus::NotFound) return;
  // Both memories or neither, in one step under the outcomes' lock (the intake records a
  // message's outcome in both, this one last): the decider repeats a check only when this
  // remembers the same one (decidedAt), so the two never disagree into a second query.
  outcomes_->update(attendance.visitNumber, [&](domain::CheckOutcome& last) {
    if (last.queried != attendance.nhsNumber) return false;  // the attendance has moved on since that failure
    const bool theFailure = last.status == domain::CheckStatus::CheckFailed && last.checkId == failedCheckId;
    // A silent read on the same number since (a scheduled setting meanwhile): the unscheduled
    // answer takes its place too (Decider::recordDeferred says when).
    const bool readSince = last.mode == domain::AccessMode::Scheduled &&
                           (last.status == domain::CheckStatus::Found || last.status == domain::CheckStatus::NotFound) &&
                           last.decidedAt > failedAt;
    if (!theFailure && !readSince) return false;
    if (!checks_->decider.recordDeferred(attendance, outcome, theFailure ? last.decidedAt : failedAt)) return false;
    last = outcome;
    return true;
  });
}

void Intake::noteStored(const Pending& pending, bool duplicate) {
  if (checks_ == nullptr || !pending.remember) return;
  const Pending::Remember& r = *pending.remember;
  if (duplicate) {
    // The original may have been stored by another instance, or before a restart: its end or
    // cancellation is noted (which only sets a time not yet set); nothing else of a resend is
    // (a merge resent after a later merge back would undo that).
    const auto event = r.attendance.event;
    if (event == domain::AttendanceEvent::End || event == domain::AttendanceEvent::Cancel) {
      checks_->decider.noteEvent(r.attendance, r.at, Decider::Taken::Resend);
    }
    return;
  }
  checks_->decider.noteEvent(r.attendance, r.at,
                             pending.check ? Decider::Taken::CheckDue : Decider::Taken::Message);
  if (r.attendance.event == domain::AttendanceEvent::Merge) {
    const std::size_t groups = 1 + r.attendance.furtherMerges.size();
    const auto label = [&](std::size_t group) {
      return groups == 1 ? r.attendance.triggerEvent
                         : r.attendance.triggerEvent + ", group " + std::to_string(group) + " of " +
                               std::to_string(groups);
    };
    noteMerge(r.attendance, label(1));
    for (std::size_t i = 0; i < r.attendance.furtherMerges.size(); ++i) {
      domain::Attendance further = r.attendance;
      further.nhsNumber = r.attendance.furtherMerges[i].surviving;
      further.priorNhsNumber = r.attendance.furtherMerges[i].prior;
      further.nhsStatus = r.attendance.furtherMerges[i].status;
      further.furtherMerges.clear();
      noteMerge(further, label(i + 2));
    }
  }
  if (r.notChecked) {
    checks_->decider.record(r.attendance, *r.notChecked);
    rememberOutcome(r.attendance, *r.notChecked);
  }
  if (r.unmapped) reportUnmapped(r.attendance.locationKey);
  if (r.outOfScopeByDefault) reportOutOfScopeByDefault(r.attendance.locationKey);
  if (r.liveModeByDefault && r.attendance.setting) {
    reportLocation(
        *defaultModes_, domain::codeOf(*r.attendance.setting),
        "OPS ALERT: feed %s: care setting %s, which the adapter plugin set, has no access mode stated in "
        "the configuration: checked with the built-in default, which a LIVE engine must not rely on "
        "(hazard H5); give the mapping a <setting> entry with a mode for it (%Lu message%s so far)");
  }
}

void Intake::noteMerge(const domain::Attendance& attendance, const std::string& label) const {
  // CPIS.md §4 and hazard H1: a merge is logged, with what it did (counts and rules, never
  // numbers: the message itself, stored, holds both records' identifiers).
  const MergeNoted noted = checks_->decider.noteMerge(attendance);
  if (noted.known) return;
  if (!noted.recorded) {
    logger().notice("feed %s: MSH-10 %s: patient merge (%s) not recorded: %s", policy_.feed, attendance.controlId,
                    label, noted.notRecorded);
    return;
  }
  const std::string open = std::to_string(noted.openAttendances) + " open attendance" +
                           (noted.openAttendances == 1 ? " of this feed was" : "s of this feed were");
  if (!noted.survivingRefused.empty()) {
    logger().warning("OPS ALERT: feed %s: MSH-10 %s: patient merge (%s) recorded, but by this feed's rules the "
                     "surviving record's NHS number may not be queried (%s): its deferred checks owed on the retired "
                     "number go to a person to check CP-IS by hand; %s checked on the retired number",
                     policy_.feed, attendance.controlId, label, noted.survivingRefused, open);
    return;
  }
  logger().notice("feed %s: MSH-10 %s: patient merge (%s) recorded: %s checked on the retired NHS number; deferred "
                  "checks owed on it query the surviving number, and an update carrying that number is checked on it",
                  policy_.feed, attendance.controlId, label, open);
}

namespace {
// A message naming no location at all (a demographic update, a feed that leaves PV1-3 out): a
// warning, which no row of the mapping's table can mend.
constexpr const char* kNoLocationText =
    "feed %s: location %s: messages that name no location are not checked; if they are attendances, the feed "
    "should send one (%Lu message%s so far)";
}  // namespace

void Intake::reportUnmapped(std::string_view locationKey) {
  if (locationKey.empty()) return reportLocation(*unmapped_, locationKey, kNoLocationText);
  reportLocation(*unmapped_, locationKey,
                 "OPS ALERT: feed %s: location %s is not in the mapping's location table: its attendances are not "
                 "checked (LOCATION_UNMAPPED) until the mapping maps it (%Lu message%s so far)");
}

void Intake::reportOutOfScopeByDefault(std::string_view locationKey) {
  if (locationKey.empty()) return reportLocation(*defaulted_, locationKey, kNoLocationText);
  // Hazard H4 behind a default rule: a location no row maps (a new ED point of care, say) that
  // the mapping's `otherwise` puts out of scope is not checked either. The rule is the trust's
  // own, so this is a warning rather than an ops alert, on the same 1st, 10th, 100th... message.
  reportLocation(*defaulted_, locationKey,
                 "feed %s: location %s is not in the mapping's location table, and its default rule puts it out of "
                 "scope: its attendances are not checked (SETTING_OUT_OF_SCOPE); map it if it is a care setting "
                 "CP-IS covers (%Lu message%s so far)");
}

void Intake::reportLocation(UnmappedLocations& counter, std::string_view locationKey, const std::string& text) {
  const auto seen = counter.seen(locationKey);
  if (!seen.report) return;
  logger().warning(text, policy_.feed, UnmappedLocations::loggable(locationKey), static_cast<Poco::UInt64>(seen.count),
                   std::string(seen.count == 1 ? "" : "s"));
}

hl7v2::AckMode Intake::modeOf(const hl7v2::Message& message) const {
  return policy_.enhancedMode ? hl7v2::ackModeOf(message) : hl7v2::AckMode::Original;
}

std::optional<domain::CheckOutcome> Intake::rememberedOutcome(const domain::Attendance& attendance) const {
  return outcomes_->get(attendance.visitNumber);
}

domain::CheckOutcome Intake::shownAgain(const domain::Attendance& attendance,
                                        domain::CheckOutcome previous) const {
  if (previous.status != domain::CheckStatus::CheckFailed) return previous;
  // A failure on a reply nobody could read has one re-try, soon made, then goes to a person:
  // shown again, "retry in progress" would most likely be stale (the alert still asks for the
  // check by hand).
  // Nor is one announced where no deferred check runs: a silent read, or deferred checks off.
  const bool retried = checks_->notifications != nullptr &&
                       checks_->notifications->settings().deferredChecks &&
                       previous.mode == domain::AccessMode::Unscheduled;
  if (previous.reason == domain::ReasonCode::UnrecognisedResponse || !retried) {
    previous.retryNotAnnounced = true;
    return previous;
  }
  // Any other failure: announced while its deferred check is still to run. Given up (dead at its
  // deadline, or sooner: the attendance moved to another number, a merge the feed refuses), a
  // person was told, and the retry is over; replayed by an administrator, it runs again.
  const domain::Instant at = now();
  const auto entry =
      store_.outbox().find(notify::kRecheckSink, notify::Composer::deferredCheckKey(attendance, previous));
  bool running = false;
  if (entry.ok() && entry.value()) {
    const store::OutboxEntry& deferred = *entry.value();
    running = deferred.state == store::NotificationState::Pending &&
              (!deferred.deadline || at < *deferred.deadline);
  } else {
    // Not written yet (the failed check's own commit still under way), purged, or the store
    // unreadable: by the deadline the deferred check was given, counted from the failure.
    if (!entry.ok()) {
      logger().warning(
          "feed %s: a deferred check's state could not be read (%s): the failure's retry is "
          "announced by its deadline alone",
          policy_.feed, entry.error().message());
    }
    running = at < previous.decidedAt + checks_->notifications->settings().deferredCheckDeadline;
  }
  previous.retryNotAnnounced = !running;
  return previous;
}

std::optional<domain::CheckOutcome> Intake::unreadableBefore(const domain::Attendance& attendance,
                                                             const Decision& decision) const {
  // Unscheduled only: a silent read records no access and tells nobody, and is made again.
  if (!attendance.nhsNumber || decision.mode != domain::AccessMode::Unscheduled ||
      !checks_->decider.continuesAttendance(attendance)) {
    return std::nullopt;
  }
  const auto remembered = checks_->decider.previous(attendance);
  if (!remembered || remembered->cancelledAt || remembered->endedAt || remembered->mode != decision.mode ||
      remembered->nhsNumber != attendance.nhsNumber) {
    return std::nullopt;
  }
  auto previous = rememberedOutcome(attendance);
  if (!previous || previous->decidedAt != remembered->decidedAt ||
      previous->status != domain::CheckStatus::CheckFailed ||
      previous->reason != domain::ReasonCode::UnrecognisedResponse ||
      previous->queried != attendance.nhsNumber) {
    return std::nullopt;
  }
  return previous;
}

std::optional<domain::CheckOutcome> Intake::checkShownAtDischarge(
    const domain::Attendance& attendance) const {
  if (attendance.event != domain::AttendanceEvent::End || !attendance.nhsNumber) return std::nullopt;
  // The check the decider still holds as the attendance's own: not one of an attendance
  // cancelled since, nor one it no longer remembers; a query made, on this NHS number.
  const auto remembered = checks_->decider.previous(attendance);
  if (!remembered || remembered->cancelledAt) return std::nullopt;
  auto previous = rememberedOutcome(attendance);
  if (!previous || previous->decidedAt != remembered->decidedAt ||
      previous->status == domain::CheckStatus::NotChecked || previous->queried != attendance.nhsNumber) {
    return std::nullopt;
  }
  return previous;
}

std::optional<domain::CheckOutcome> Intake::outcomeToRepeat(const domain::Attendance& attendance) const {
  // The visit's check that ran meanwhile is recorded now: decided again, this message repeats it
  // as an update arriving after it would (same number, same access mode), or is checked itself.
  const Decision again = checks_->decider.decide(attendance);
  if (again.kind != DecisionKind::RepeatPrevious) return std::nullopt;
  auto previous = rememberedOutcome(attendance);
  if (!previous || previous->decidedAt != again.previousDecidedAt) return std::nullopt;
  return previous;
}

Intake::Disposition Intake::rejection(std::string_view payload, const hl7v2::Message* message,
                                   const core::Issue& problem) {
  Disposition d;
  d.state = store::MessageState::Rejected;
  d.outcome = "rejected: " + describeIssue(problem);
  d.ack = refusalAck(payload, message, problem, "the message was rejected");
  d.reply = d.ack;
  // Enhanced mode, MSH-15 NE or SU: the sender takes no CR, and one it does not read would sit
  // in its socket (or be read as another message's answer). The refusal is stored, its CR
  // with it, for `messages` to show; the stored-refusal's log line says why none was sent.
  if (message != nullptr && modeOf(*message) == hl7v2::AckMode::Enhanced &&
      !wanted(message->get("MSH-15"), false)) {
    d.outcome += "; no accept ACK sent (MSH-15 " + message->get("MSH-15") + ")";
    d.reply.clear();  // and operations are told, once it is stored (answer())
  }
  return d;
}

std::string Intake::refusalAck(std::string_view payload, const hl7v2::Message* message, const core::Issue& problem,
                               std::string alert) {
  const auto options = stamper_.next(policy_.defaultVersion);
  std::string ack = message != nullptr
                        ? hl7v2::buildAck(*message, hl7v2::ackCodeFor(hl7v2::Outcome::Reject, modeOf(*message)),
                                          std::span(&problem, 1), options)
                        : hl7v2::buildRejection(payload, problem, options, policy_.enhancedMode);
  appendRejectedAlert(ack, message, std::move(alert));
  return ack;
}

void Intake::appendRejectedAlert(std::string& ack, const hl7v2::Message* message, std::string text) const {
  // Every ACK to an ADT carries an alert, and one to a message that cannot be read may be
  // answering an ADT: NOT_CHECKED / MESSAGE_REJECTED (CPIS.md §5).
  if (checks_ == nullptr || (message != nullptr && message->messageCode() != "ADT")) return;
  checks_->responder.appendTo(
      ack, rejectedOutcome(domain::ReasonCode::MessageRejected, std::move(text), checks_->checker.source()));
}

std::string Intake::onOversized(std::string_view prefix, std::size_t limit, const mllp::PeerInfo& peer) {
  // Not stored: only its first bytes arrived. The sender is told, and must split or shorten it.
  const auto problem = issue(core::ErrorCode::ValueTooLong, "message is larger than this feed's limit of " +
                                                                std::to_string(limit) + " bytes");
  logger().warning("feed %s: message from %s over %z bytes refused (MSH-10 %s)", policy_.feed, peer.address,
                   limit, hl7v2::salvageControlId(prefix));
  std::string ack = hl7v2::buildRejection(prefix, problem, stamper_.next(policy_.defaultVersion), policy_.enhancedMode);
  appendRejectedAlert(ack, nullptr, "the message is larger than this feed takes");
  return ack;
}

core::Status Intake::resume(store::MessageId id, std::optional<std::string_view> heldVisit) {
  auto stored = store_.fetch(id);
  if (!stored) return stored.error();
  if (!stored.value().raw) return core::Status::notFound("message " + std::to_string(id) + " has no content");
  const std::string& raw = *stored.value().raw;
  Pending pending = prepare(raw);
  // Recovery or a take-over: its sender stopped waiting long ago; no ACK deadline cuts its check.
  // And the run that stored it may have sent its query before it stopped (a crash between the
  // query and the finish: Spine recorded the access, the audit has no row): this query is a
  // possible duplicate in the audit (CPIS.md §7), as a retry after a time-out is.
  if (pending.check) {
    pending.check->answerBy.reset();
    pending.check->earlierMayHaveArrived = true;
  }
  // Its effect on the memories, as of when it arrived: an end or a cancellation noted since (a
  // left-over's resend, a take-over from another instance) is not undone by this start.
  if (pending.remember) {
    pending.remember->at = std::chrono::time_point_cast<std::chrono::milliseconds>(stored.value().receivedAt);
  }
  noteStored(pending);
  const Disposition& d = pending.disposition;
  if (pending.check) {
    // Stored, not yet checked when the engine stopped: check now (this thread may block).
    if (pending.enhanced && !d.ack.empty()) {
      if (auto status = store_.recordAck(id, d.ack); !status.isOk()) return status;
    }
    // Finishes the message (or leaves it for the next start), in its visit's turn. A resend
    // meanwhile (original mode) waits for this check's ACK, as it would for the first.
    if (!pending.enhanced) beginCheck(id);
    std::string ack;
    if (heldVisit && *heldVisit == visitOf(pending)) {
      ack = checkOrRefuse(id, pending, raw);
    } else {
      const auto turn = visitTurns_->take(visitOf(pending));
      ack = checkOrRefuse(id, pending, raw);
    }
    if (!pending.enhanced) endCheck(id, ack);
    return core::Status::ok();
  }
  // A check made for this message (or another) before the engine stopped, whose finish may not
  // have been stored: the memory, kept across the restart, repeats it rather than asking CP-IS
  // a second time, and what the check causes (plan-found; the deferred re-check of a failure)
  // is written now, as its finish would have. Each has the check's idempotency key, so what its
  // own message's finish wrote is not written twice. Not for a deferred re-check's answer: the
  // re-check wrote what it causes (under the failed check's key).
  notify::Notifications notifications = pending.notifications;
  if (pending.repeated) {
    const auto& [attendance, outcome] = *pending.repeated;
    if (const auto previous = checks_->decider.previous(attendance); previous && !previous->answersFailureAt) {
      const auto caused = notificationsFor(attendance, outcome, id);
      notifications.insert(notifications.end(), caused.begin(), caused.end());
    }
  }
  if (!d.deferred) return finish(id, d.state, d.outcome, d.ack, notifications);
  if (!notifications.empty()) {
    const auto written = notify::views(notifications);
    if (auto status = store_.outbox().enqueue(written); !status.isOk()) return status;
    notified(notifications);
  }
  if (auto status = store_.recordAck(id, d.ack); !status.isOk()) return status;
  ApplicationAck application = d.applicationAck;
  application.id = id;
  returnChannel_->submit(std::move(application));
  return core::Status::ok();
}

hl7v2::AckOptions Intake::applicationAckOptions() {
  hl7v2::AckOptions options = stamper_.next(policy_.defaultVersion);
  options.askForAccept = true;  // the return connection waits for the EPR's CA
  return options;
}

core::Status Intake::applicationAckDelivered(const ApplicationAck& application, std::string_view answer) {
  // The message keeps the CA as the ACK a resend gets (on the forward connection the EPR expects
  // the accept ACK, and it has had the application ACK) and its outcome (the check's, or the one
  // stored with it), which the delivery is added to; it ends as the application ACK says (AE:
  // failed).
  std::string outcome = application.outcome;
  if (outcome.empty()) {
    const auto stored = store_.fetch(application.id);
    outcome = stored && !stored.value().outcome.empty() ? stored.value().outcome : std::string("accepted");
  }
  outcome += "; application ACK delivered";
  if (!answer.empty() && answer != "CA" && answer != "AA") outcome += " (the EPR answered " + std::string(answer) + ")";
  store::MessageState state = store::MessageState::Processed;
  if (application.code == "AE") state = store::MessageState::Failed;
  if (application.code == "AR") state = store::MessageState::Rejected;
  return finish(application.id, state, outcome, {});
}

std::string Intake::storeUnavailable(std::string_view payload, const core::Status& status) {
  logger().error("feed %s: message not accepted: %s", policy_.feed, status.message());
  return sendAgainLater(payload, "message not stored (" + status.message() + "); send it again later");
}

std::string Intake::refused(const Pending& pending) {
  logger().warning("feed %s: a message refused for now: %s application ACKs wait for the return connection",
                   policy_.feed, std::to_string(returnChannel_->pending()));
  return pending.disposition.refusal;
}

namespace {
constexpr const char* kSendAgainText = "the message was not checked: the sender should send it again";
}  // namespace

std::string Intake::sendAgainLater(std::string_view payload, std::string text) {
  const auto parsed = hl7v2::parse(payload, policy_.charsetWhenUnstated);
  return refusalAck(payload, parsed ? &parsed.value() : nullptr,
                    issue(core::ErrorCode::ApplicationInternalError, std::move(text)), kSendAgainText);
}

std::string Intake::reusedControlId(std::string_view payload) {
  // Hazard H1: another message under a stored message's MSH-10 (an EPR's counter reset, a
  // fail-over) is not a resend: the original's ACK is about another attendance, perhaps another
  // child, and this message would go unchecked behind it. Refused, not stored; the sender's
  // error queue shows why, and the log tells operations.
  const auto parsed = hl7v2::parse(payload, policy_.charsetWhenUnstated);
  const std::string controlId = parsed ? std::string(parsed.value().controlId()) : std::string("?");
  logger().warning("OPS ALERT: feed %s: MSH-10 %s is already the control id of a stored message with other content "
                   "(received within the duplicate window): refused with AR 205, not stored; the sender must give "
                   "each message an MSH-10 of its own",
                   policy_.feed, controlId);
  const auto problem =
      issue(core::ErrorCode::DuplicateKeyIdentifier,
            "MSH-10 is already the control id of another message received within the duplicate window (other "
            "content): not stored; send this message with an MSH-10 of its own",
            "MSH", 10);
  return refusalAck(payload, parsed ? &parsed.value() : nullptr, problem,
                    "the message was not checked: its MSH-10 is another message's");
}

std::string Intake::sendAgainLater(const hl7v2::Message& message, std::string text) {
  return refusalAck({}, &message, issue(core::ErrorCode::ApplicationInternalError, std::move(text)), kSendAgainText);
}

std::optional<core::Issue> Intake::checkSender(const hl7v2::Message& message) const {
  return refusedSender(message, policy_.expectedSendingApplication, policy_.expectedSendingFacility);
}

std::optional<core::Issue> refusedSender(const hl7v2::Message& message,
                                         const std::optional<std::string>& expectedApplication,
                                         const std::optional<std::string>& expectedFacility) {
  // Both values name systems and organisations, never a patient: the text says what was sent and
  // what the feed expects, which is what the engineer on either side needs to put it right.
  const auto mismatch = [&](const std::optional<std::string>& expected, std::uint32_t field,
                            std::string_view what) -> std::optional<core::Issue> {
    if (!expected) return std::nullopt;
    const std::string sent = message.get(hl7v2::Path{"MSH", 1, field, 1, 1, 0});
    if (sent == *expected) return std::nullopt;
    const std::string place = std::string(what) + " (MSH-" + std::to_string(field) + ")";
    std::string shown;  // printable ASCII only, and short: it reaches the log as well as the ERR
    for (const char c : std::string_view(sent).substr(0, 40)) shown.push_back(c >= ' ' && c < 0x7F ? c : '?');
    if (sent.size() > 40) shown += "...";
    return issue(core::ErrorCode::TableValueNotFound,
                 place + " is " + (sent.empty() ? std::string("empty") : "'" + shown + "'") + ", not '" +
                     *expected + "' as configured for this feed",
                 "MSH", field);
  };
  if (auto problem = mismatch(expectedApplication, 3, "sending application")) return problem;
  return mismatch(expectedFacility, 4, "sending facility");
}

std::optional<core::Issue> Intake::checkProcessingId(const hl7v2::Message& message) const {
  if (checks_ == nullptr) return std::nullopt;
  return refusedProcessingId(message, checks_->decider.policy().environment);
}

std::optional<core::Issue> refusedProcessingId(const hl7v2::Message& message, Environment environment) {
  // A training (T) or debugging (D) message, an EPR's training system pointed at a LIVE engine:
  // its query would record an unscheduled access, and tell a local authority, of a made-up
  // attendance. HL7's answer: AR 202, stored as rejected. Only P, or no MSH-11, goes on: any
  // other value (t, X: not in HL7 table 0103) is no production message either.
  if (environment != Environment::Live) return std::nullopt;
  const std::string id = message.get(hl7v2::Path{"MSH", 1, 11, 1, 1, 0});
  if (id.empty() || id == "P") return std::nullopt;
  const std::string what = id == "T"   ? std::string("T (training)")
                           : id == "D" ? std::string("D (debugging)")
                                       : "a value that is not P, T or D (HL7 table 0103)";
  return issue(core::ErrorCode::UnsupportedProcessingId,
               "processing id (MSH-11) " + what +
                   " sent to a LIVE feed: not checked; only P (production) messages are",
               "MSH", 11);
}

std::optional<core::Issue> refusedVersionId(const hl7v2::Message& message) {
  // Another version's message (a v3 system's header, a typing slip) is read by v2's rules only
  // by luck: its fields may mean something else. HL7's answer: AR 203, stored as rejected.
  const std::string id = Poco::trim(message.get(hl7v2::Path{"MSH", 1, 12, 1, 1, 0}));  // "2.4 " is 2.4
  if (id.empty()) return std::nullopt;
  if (const auto version = hl7v2::Version::parse(id); version && version->isV2Release()) return std::nullopt;
  return issue(core::ErrorCode::UnsupportedVersionId,
               "version id (MSH-12) is not an HL7 version 2 release (2.0 to 2.9): not read", "MSH", 12);
}

core::Status Intake::finishOrKeepTrying(store::MessageId id, std::string_view outcome,
                                        const notify::Notifications& notifications, std::string_view ack) {
  // Enhanced mode: the sender has its CA and sends nothing again, so no resend would retry this
  // finish (as in original mode), and recovery would check the child again at the next start.
  // A store briefly unavailable (a failed commit, a disk being cleared) is waited out, for
  // about half a minute at most (11 tries, pauses of 0.1 s doubling to 5 s), and only on the
  // check queue's own threads: never on a connection's thread (its listener's stop would wait)
  // nor during start-up's recovery (no stop could end the wait). A failure that persists is
  // left for recovery, as before.
  const core::RetryPolicy policy{std::chrono::milliseconds(100), std::chrono::milliseconds(5'000),
                                 checks_->work.onOwnThread() ? std::size_t{11} : std::size_t{1}};
  bool retried = false;
  return core::retryWhileUnavailable(
      policy,
      [&] {
        auto status = finish(id, store::MessageState::Processed, outcome, ack, notifications);
        if (retried && !status.isOk() && !status.retryable()) {
          // Refused as finished already: an attempt reported as failed was stored after all (a
          // commit whose answer was lost). What it wrote is there; its notifications were not
          // announced.
          if (const auto stored = store_.fetch(id); stored && stored.value().state != store::MessageState::Received) {
            notified(notifications);
            return core::Status::ok();
          }
        }
        retried = true;
        return status;
      },
      [this](std::chrono::milliseconds pause) { return checks_->work.pause(pause); },
      [&](const core::Status& status, std::chrono::milliseconds pause) {
        logger().warning("feed %s: message %s checked but not finished (%s); trying again in %s ms", policy_.feed,
                         std::to_string(id), status.message(), std::to_string(pause.count()));
      });
}

core::Status Intake::finish(store::MessageId id, store::MessageState state, std::string_view outcome,
                            std::string_view ack, const notify::Notifications& notifications) {
  // One transaction, one commit: the ACK, the outcome and what it causes.
  const auto written = notify::views(notifications);
  auto status = store_.finish(id, state, outcome, ack, written);
  if (status.isOk()) notified(notifications);
  return status;
}

notify::Notifications Intake::notificationsFor(const domain::Attendance& attendance,
                                               const domain::CheckOutcome& outcome,
                                               std::optional<store::MessageId> id) const {
  if (checks_ == nullptr || checks_->notifications == nullptr) return {};
  return checks_->notifications->afterCheck(attendance, outcome, id);
}

void Intake::notified(const notify::Notifications& written) const {
  if (!written.empty() && checks_ != nullptr && checks_->notified) checks_->notified(written);
}

}  // namespace cpis::pipeline
