#pragma once

// What an attendance's outcome causes (CPIS.md §7): the notifications to write to the outbox,
// one per configured sink that subscribes to the kind, each with the fields its data level
// allows, an idempotency key and, for sinks that need it, an order key.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/attendance.h"
#include "engine/notify/notification.h"
#include "engine/store/outbox.h"

namespace cpis::notify {

// A notification that owns its texts (store::NewNotification only views them).
struct Notification {
  std::string sink, kind, idempotencyKey, orderKey, payload;
  std::optional<store::TimePoint> notBefore;
  std::optional<store::TimePoint> deadline;
  std::optional<store::MessageId> messageId;

  // Valid while this notification lives and is not changed.
  store::NewNotification view() const;
};
using Notifications = std::vector<Notification>;
// Views of each, for MessageStore::finish, Completion::notifications and Outbox calls.
std::vector<store::NewNotification> views(const Notifications& notifications);

// One configured sink as the composer sees it.
struct SinkRoute {
  std::string name;
  std::set<std::string, std::less<>> events;  // the kinds it receives
  DataLevel data = DataLevel::Minimal;
  bool ordered = false;  // notifications of one attendance delivered one at a time, in order
};

struct ComposerSettings {
  std::vector<SinkRoute> sinks;
  // A failed unscheduled check is re-run in the background (kRecheckSink).
  bool deferredChecks = true;
  std::chrono::milliseconds deferredCheckDelay{30'000};  // the first re-run not before this
  std::chrono::hours deferredCheckDeadline{24};          // given up (check-abandoned) after this
  // A sink's notification is retried this long after it is composed, then dead-lettered.
  std::chrono::hours deliveryDeadline{24};
  // Feeds with a return connection: a late result goes to returnSinkName(feed).
  std::set<std::string, std::less<>> feedsWithReturn;
};

// Immutable after construction; thread-safe.
//
// Idempotency key: {kind}:{feed}:{visitNumber}:{checkSeq}, where checkSeq is the check id
// (the UUID of ZCP-15) of the check the notification is about. It tells repeated checks of
// one attendance apart, is known before anything is stored, and is the same whenever the same
// check is written again (a replayed message, a deferred check that ran twice after a crash),
// so the store and the receiver see one notification per check. A deferred check's follow-ups
// (late result, plan found, check abandoned) carry the id of the failed check they complete.
//
// Order key (ordered sinks only): {feed}:{visitNumber}, so one attendance's notifications
// (check failed, then plan found, then cancelled) arrive in order. It names an encounter, not a
// patient: an NHS number, even hashed (ten digits are quickly enumerated without a secret),
// never appears in an order key, which admin tools may show. Without a visit number: none.
class Composer {
 public:
  explicit Composer(ComposerSettings settings);

  // The notifications a finished check causes (the intake writes them with the message):
  //   FOUND, unscheduled:        plan-found to the subscribed sinks;
  //   CHECK_FAILED, unscheduled: deferred-check to kRecheckSink (when deferred checks are on)
  //                              and check-failed to the subscribed sinks;
  //   anything else, and every scheduled (silent) read: nothing.
  Notifications afterCheck(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                           std::optional<store::MessageId> messageId = std::nullopt) const;

  // One `kind` notification per sink that subscribes to it, about `outcome`, keyed by
  // `checkSeq` (empty: the outcome's check id).
  Notifications compose(std::string_view kind, const domain::Attendance& attendance,
                        const domain::CheckOutcome& outcome, std::string_view checkSeq = {},
                        std::optional<store::MessageId> messageId = std::nullopt) const;

  // The deferred check of a failed one: to kRecheckSink, with every field the re-run needs
  // (the payload stays in the store), first tried after deferredCheckDelay, dead after the
  // deadline.
  Notification deferredCheck(const domain::Attendance& attendance, const domain::CheckOutcome& failed,
                             std::optional<store::MessageId> messageId) const;
  // The idempotency key deferredCheck() writes for `failed` (in kRecheckSink): where the outbox
  // keeps what became of that check's retry.
  static std::string deferredCheckKey(const domain::Attendance& attendance,
                                      const domain::CheckOutcome& failed);

  // The late result for the feed's EPR (nullopt when the feed has no return connection):
  // `hl7` is the unsolicited message itself.
  std::optional<Notification> lateResult(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                                         std::string_view checkSeq, std::string hl7,
                                         std::optional<store::MessageId> messageId) const;

  bool subscribed(std::string_view kind) const;
  const ComposerSettings& settings() const noexcept { return settings_; }

  static std::string idempotencyKey(std::string_view kind, std::string_view feed, std::string_view visitNumber,
                                    std::string_view checkSeq);

 private:
  ComposerSettings settings_;
};

// The payload JSON: every field of `level` or below, as strings. `extra` adds built-in keys.
std::string payloadFor(DataLevel level, std::string_view kind, std::string_view idempotencyKey,
                       const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                       const std::vector<std::pair<std::string, std::string>>& extra = {});

// A payload's members as text (nested values as their JSON); empty on a payload that is not a
// JSON object.
std::optional<std::vector<std::pair<std::string, std::string>>> payloadFields(std::string_view payload);
std::optional<std::string> payloadField(std::string_view payload, std::string_view key);
// A late result's or application ACK's HL7 v2 message, byte for byte (kKeyHl7, else
// kKeyHl7Base64 decoded); nullopt when the payload holds neither.
std::optional<std::string> hl7Of(std::string_view payload);

// The attendance a deferred check's payload describes (what the re-run needs).
std::optional<domain::Attendance> attendanceFromPayload(std::string_view payload);

// ISO 8601 UTC, to the second: 2026-11-25T10:15:00Z.
std::string isoTime(domain::Instant at);

}  // namespace cpis::notify
