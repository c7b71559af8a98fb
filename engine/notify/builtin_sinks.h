#pragma once

// The sinks the engine has built in (not plugins): the deferred CP-IS check (kRecheckSink) and
// a feed's return channel to its EPR ("epr-return:<feed>").

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/domain/attendance.h"
#include "engine/hl7v2/charset.h"
#include "engine/mllp/mllp_client.h"
#include "engine/notify/composer.h"
#include "engine/notify/dispatcher.h"
#include "engine/store/message_store.h"

namespace cpis::notify {

// What the deferred check needs of a feed (the app wires the pipeline's stages in).
struct RecheckFeed {
  // Runs the CP-IS check for the attendance, unscheduled, under `checkId`: the failed check's,
  // since this is that check tried again (its query's event id, and the audit's check id, link
  // every try: CPIS.md §7). Blocks (the lookup's time-out bounds it); never throws.
  std::function<domain::CheckOutcome(const domain::Attendance&, std::string_view checkId,
                                     bool earlierMayHaveArrived)>
      check;
  // Appends the feed's alert segments to an HL7 v2 message (its delimiters and character set
  // are read from its MSH). Empty: the feed gets no late result.
  std::function<void(std::string& message, const domain::CheckOutcome&)> appendAlerts;
  // The set the feed reads a message with an empty MSH-18 in (its original ADT, for the late result).
  hl7v2::Charset charsetWhenUnstated = hl7v2::Charset::Ascii;
  // Told of an answer (FOUND or NOT_FOUND) and the id of the failed check it retried, before
  // anything else is made of it, so the attendance's later updates repeat it. The attendance is
  // as its check failed: the answer's `queried` is the surviving number when a merge re-keyed
  // it (mergedInto). May be empty.
  std::function<void(const domain::Attendance&, const domain::CheckOutcome&, std::string_view failedCheckId,
                     domain::Instant failedAt)>
      answered;
  // Whether the attendance was cancelled (A11) since its check failed: the re-check is then
  // withdrawn, not made (CPIS.md §4: no query for a cancelled attendance). May be empty.
  std::function<bool(const domain::Attendance&)> cancelled;
  // The surviving record's NHS number when a patient merge (A40) noted after `since` (when the
  // check failed) retired the attendance's own (Decider::mergedInto): the re-check queries that
  // one instead, for the child who is there, or goes to a person when the feed's rules refuse
  // it. May be empty.
  std::function<std::optional<domain::MergedNumber>(const domain::Attendance&, domain::Instant since)> mergedInto;
  // Why a check of the attendance made after `since` (when the check failed) takes the re-check's
  // place (Decider::supersededSince: an unscheduled one); nullopt when none does. The re-check
  // is then not made. May be empty.
  std::function<std::optional<std::string>(const domain::Attendance&, domain::Instant since)> superseded;
  // The number the EPR moved the attendance to since its check failed at `since`
  // (Decider::movedTo: an update corrected the patient to an unverified number, say, or to one
  // then read silently): the failed number is not the child's, and the re-check goes to a person
  // instead of querying it; while that number's own check has not ended, the re-check waits for
  // it. May be empty.
  std::function<std::optional<domain::MovedNumber>(const domain::Attendance&, domain::Instant since)> movedTo;
};

// kRecheckSink: re-runs a failed unscheduled check in the background (the LA is still owed
// the access record that only a successful unscheduled query makes, CPIS.md §7).
//   the attendance cancelled (A11) since: Delivered, with no query and no follow-up;
//   its NHS number retired by a patient merge (A40) since: the surviving number is checked;
//     Delivered with no query when the attendance was checked on it since; Failed (a person
//     checks CP-IS by hand) when the feed's rules refuse it;
//   the EPR moved the attendance to another number since, not checked or only read silently
//     (movedTo): Failed, no query (the failed number is not the child's; a person checks CP-IS
//     by hand, on the number the EPR now uses); Retry while that number's own check has not
//     ended;
//   FOUND / NOT_FOUND: Delivered, with follow-ups written in the same transaction: the late
//     result for the EPR (when the feed has a return connection) and, when plans were found,
//     plan-found to the subscribed sinks.
//   a failure again: Retry (the dispatcher backs off until the entry's deadline).
//   given up: dead, and check-abandoned to the subscribed sinks (an incident a person sees).
// Every follow-up carries the failed check's id in its idempotency key, so a re-run that
// happens twice (a crash before the entry was marked) writes each follow-up once.
class RecheckSink final : public Sink {
 public:
  RecheckSink(store::MessageStore& store, const Composer& composer, std::map<std::string, RecheckFeed, std::less<>> feeds);

  plugin::DeliveryResult deliver(const store::OutboxEntry& entry, Notifications& followUps) override;
  Notifications onDead(const store::OutboxEntry& entry) override;

 private:
  store::MessageStore& store_;
  const Composer& composer_;
  std::map<std::string, RecheckFeed, std::less<>> feeds_;
};

struct ReturnSinkSettings {
  std::string feed;
  std::string host;
  std::uint16_t port = 0;
  std::optional<mllp::ClientTls> tls;
  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds ackTimeout{10'000};  // for the EPR's ACK of our message
};

// "epr-return:<feed>": sends the late result's HL7 v2 message (built when it was queued) over
// MLLP to the feed's return connection. AA or CA back: Delivered. AR/CR (or no answer, or no
// connection): Retry, unless its error code (ERR-3, ERR-1.4, MSA-6) is 200-203, the EPR does not
// take ORU^R01 at all. That and AE/CE: Failed (the EPR will not take it; a person must look).
// One connection per delivery: late results are rare, and a connection kept open would need
// its own liveness checks.
class ReturnSink final : public Sink {
 public:
  explicit ReturnSink(ReturnSinkSettings settings);
  plugin::DeliveryResult deliver(const store::OutboxEntry& entry, Notifications& followUps) override;

 private:
  ReturnSinkSettings settings_;
};

// MSH-10 of a late result: "L" and a 64-bit hash of the idempotency key in base 36 (at most 14
// characters), so every attempt sends the same control id and the EPR can drop a repeat.
std::string lateResultControlId(std::string_view idempotencyKey);

// The unsolicited ORU^R01 for a late result: MSH (the original's sender and receiver swapped,
// its delimiters, version and character set), the original's PID and PV1, an OBR for the
// CP-IS check, then the segments `appendAlerts` adds. `inbound` empty or unreadable (content
// purged): MSH with defaults and no PID/PV1. `renumber` (retired, surviving): the NHS number a
// patient merge retired is replaced in the PID by the surviving one wherever it stands alone
// (no digit either side), so that the result names the record its alerts are for. The OBR names
// the original's MSH-10 (OBR-2) and `failedCheckId`, the check this result completes (OBR-3).
// `whenUnstated`: the set the feed reads an original with an empty MSH-18 in (the result's
// MSH-18 then names it: hl7v2::replyCharsetField).
std::string buildLateResult(
    std::string_view inbound, std::string_view controlId, std::string_view timestamp,
    const std::function<void(std::string&)>& appendAlerts,
    std::optional<std::pair<std::string_view, std::string_view>> renumber = std::nullopt,
    std::string_view failedCheckId = {}, hl7v2::Charset whenUnstated = hl7v2::Charset::Ascii);

}  // namespace cpis::notify
