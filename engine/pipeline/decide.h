#pragma once

// decide: is a CP-IS check due for this attendance? (CPIS.md §3, §4, §8; ARCHITECTURE.md stage 5)

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/domain/attendance.h"

namespace cpis::pipeline {

class MemoryJournal;

enum class Environment { Live, Test };

// An age limit in whole years: a patient this age or older at arrival is out of scope.
// kNoAgeLimit: any age (maternity: a woman is checked on her own number for an unborn child's plan).
inline constexpr int kNoAgeLimit = 0;

// The rules of one feed. Defaults are CPIS.md's.
struct DecisionPolicy {
  Environment environment = Environment::Test;
  bool enabled = true;  // false: every attendance is NOT_CHECKED / DISABLED
  // Trace statuses that count as verified (PID-32).
  std::vector<domain::NhsNumberStatus> verifiedStatuses{domain::NhsNumberStatus::Nsts01};
  // Querying an unverified number is a switch the clinical safety officer signs off (default off).
  // When on, it admits these statuses too (CPIS.md §4): not traced, trace postponed (a baby under
  // six weeks).
  bool acceptUnverifiedNhsNumber = false;
  std::vector<domain::NhsNumberStatus> acceptableUnverifiedStatuses{domain::NhsNumberStatus::Nsts02,
                                                                    domain::NhsNumberStatus::Nsts08};
  // A message with no trace status at all (a feed whose EPR sends none, a v2.3 PAS): its own
  // switch, signed off the same way (default off). A status nobody can read is never "none".
  bool acceptMissingTraceStatus = false;
  // In LIVE, all-same-digit numbers (valid checksums used as placeholders) are refused like 999
  // test numbers. Configurable: public ITK samples use 3333333333.
  bool refusePlaceholdersInLive = true;
  // Per location and per setting, the mapping's location table says more (the attendance's
  // accessMode and locationTerms); what it leaves unset, these and CPIS.md's defaults decide:
  // an age limit of 18 (none for MATERNITY), the setting's default access mode, and whether an
  // out-of-scope setting still gets a NOT_CHECKED alert segment (default yes).
  bool emitOutOfScope = true;
  // A start for an attendance whose unchanged check is younger than this repeats that check's
  // outcome; so does an update after a failed check (an older failure is tried again).
  std::chrono::milliseconds recheckWindow = std::chrono::minutes(10);

  // The age from which a patient is not checked at the attendance's location (kNoAgeLimit: none).
  static int maxAgeFor(const domain::Attendance& attendance);
};

// What the decision knows of an attendance's last check: its basis, and how it ended.
struct PreviousCheck {
  domain::Instant decidedAt{};
  domain::CheckStatus status = domain::CheckStatus::NotChecked;
  std::optional<domain::NhsNumber> nhsNumber;
  bool nhsNumberVerified = false;
  std::optional<domain::AccessMode> mode;  // empty when it was not checked
  // The attendance began scheduled by nature (A05/A14 pre-admission): its updates make no
  // unscheduled query either, until an event starts it (A01).
  bool scheduledByNature = false;
  // When the attendance began, as its first message about it said: CPIS.md §8 takes the age at
  // the attendance's start, and an update's own times (EVN-2) are the update's.
  std::optional<domain::Instant> arrivedAt{};
  // When an A11 cancelled the attendance (CPIS.md §4): what it was checked as stays remembered,
  // its updates make no query, and a deferred re-check of its failed check is withdrawn. Until
  // a start (A04/A01) on the visit, whatever is decided for that start.
  std::optional<domain::Instant> cancelledAt{};
  // When an A03 ended it (until a start, or an A13 that reopens it): a start after that is a
  // new attendance under the same key, checked again unless the last check is recent
  // (recheckWindow). Before it, a start continues the attendance (an ED attendance admitted to a
  // ward: A04, then A01), as an update does.
  std::optional<domain::Instant> endedAt{};
  // The number the attendance was checked on before a deferred check's answer moved it to the
  // surviving record of a patient merge (recordDeferred): an update that still carries it is
  // the same patient. A check since clears it.
  std::optional<domain::NhsNumber> rekeyedFrom{};
  // Set by recordDeferred: this check is the deferred re-check's answer to the failure decided
  // then (it takes no deferred re-check's place: the re-check is that one). A check since clears it.
  std::optional<domain::Instant> answersFailureAt{};
  // The valid NHS number the visit's latest message carried, in the order the store took them
  // (noteEvent; a resend's is not noted), whether or not that message was checked: the record
  // the EPR now says the child is. When it is not the number a failed check was for, the
  // deferred re-check of that failure does not query the failed number (movedTo).
  std::optional<domain::NhsNumber> lastNumber{};
  // When the message that carried it arrived: a message recovery processes late (stored before
  // the restart, after others were noted) does not take the place of a later one's number.
  std::optional<domain::Instant> lastNumberAt{};
  // Whether a check of the visit's latest message is due and has not ended (that check then
  // decides: a deferred re-check waits for it, on whichever number; record() ends it), and, while
  // the latest number is not the checked one, why its message was not checked (record()). The
  // memory row keeps both only while the numbers differ.
  bool lastNumberPending = false;
  std::optional<domain::ReasonCode> lastNumberRefused{};
};

// How many attendances a feed's memories keep (the decision's, and the intake's of outcomes),
// least recently used first out.
inline constexpr std::size_t kRememberedAttendances = 100'000;
// How long they keep an attendance after its last message (and the merges a merge).
inline constexpr std::chrono::milliseconds kMemoryRetention = std::chrono::hours(24 * 30);

// The decision's memory of attendances, keyed by (feed, visit number). InMemoryCheckMemory keeps
// it in memory, and with a MemoryJournal writes it to the message store so that it survives a
// restart.
// Implementations are thread-safe.
class CheckMemory {
 public:
  virtual ~CheckMemory() = default;
  virtual std::optional<PreviousCheck> previous(std::string_view feed,
                                                std::string_view visitNumber) const = 0;
  // Changes the attendance's entry in one step (no other thread's change in between): `change`
  // is given the entry, or nullopt when there is none, and may fill it in. Stored when `change`
  // returns true and leaves an entry; true when it did.
  virtual bool merge(std::string_view feed, std::string_view visitNumber,
                     const std::function<bool(std::optional<PreviousCheck>&)>& change) = 0;

  // merge(), for an attendance that has an entry.
  bool update(std::string_view feed, std::string_view visitNumber, const std::function<bool(PreviousCheck&)>& change) {
    return merge(feed, visitNumber, [&](std::optional<PreviousCheck>& entry) { return entry && change(*entry); });
  }
  // How many of the feed's entries `test` holds for. Not a use of them (least recently used
  // order and retention stay as they were). It may read every entry under the memory's lock (a
  // millisecond or so for 100,000): for rare events (a merge), not for every message.
  virtual std::size_t count(std::string_view feed, const std::function<bool(const PreviousCheck&)>& test) const = 0;

  // merge(), replacing whatever the attendance had.
  void remember(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check) {
    merge(feed, visitNumber, [&](std::optional<PreviousCheck>& entry) {
      entry = check;
      return true;
    });
  }
};

// The most recent `capacity` attendances (least recently used ones go first), each until
// `retention` has passed with no message about it (no previous() or remember()). Measured from
// the last message, not the check: an attendance is one attendance however long the stay, and
// a ward's update after two quiet days must not query CP-IS again (CPIS.md §7: one successful
// unscheduled query per attendance). What a restart must not forget is written
// to the store through a MemoryJournal (journalTo) and put back (restore) at start.
class InMemoryCheckMemory final : public CheckMemory {
 public:
  using Clock = std::function<domain::Instant()>;
  InMemoryCheckMemory(Clock clock, std::chrono::milliseconds retention = kMemoryRetention,
                      std::size_t capacity = kRememberedAttendances);

  std::optional<PreviousCheck> previous(std::string_view feed, std::string_view visitNumber) const override;
  bool merge(std::string_view feed, std::string_view visitNumber,
             const std::function<bool(std::optional<PreviousCheck>&)>& change) override;
  std::size_t count(std::string_view feed, const std::function<bool(const PreviousCheck&)>& test) const override;
  std::size_t size() const;

  // Every entry stored from now on is told to `journal` (null: none), which outlives this.
  void journalTo(MemoryJournal* journal) noexcept { journal_ = journal; }
  // An entry as the store kept it (MemoryJournal), last used at `lastUsed`: the newest entry
  // of the memory, and not told to the journal. Before the memory is used (at start-up).
  void restore(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check,
               domain::Instant lastUsed);

 private:
  static std::string keyOf(std::string_view feed, std::string_view visitNumber);
  // Stores `check` under `key` (mutex_ held) as its newest entry, last used at `at`.
  void put(std::string key, const PreviousCheck& check, domain::Instant at);

  MemoryJournal* journal_ = nullptr;
  Clock clock_;
  std::chrono::milliseconds retention_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  mutable std::list<std::string> order_;  // least recently used first
  struct Entry {
    PreviousCheck check;
    std::list<std::string>::iterator position;
    domain::Instant lastUsed{};
    // When the journal was last told of the entry: a message that changes nothing still tells
    // it again once kJournalTouch has passed, so that the row's time (which its retention and
    // the load go by) keeps up with lastUsed.
    domain::Instant journaledAt{};
  };
  static constexpr std::chrono::hours kJournalTouch{1};
  mutable std::unordered_map<std::string, Entry> entries_;
};

// Patient merges (A40) the engine has been told of, on any feed (an NHS number is national):
// the number each retired NHS number was merged into, with the surviving record's trace status
// as the A40 gave it (CPIS.md §4: A40 re-keys open attendances; hazard H1). At most `capacity`
// (oldest out), each for `retention`. Thread-safe.
class MergedNumbers {
 public:
  using Clock = std::function<domain::Instant()>;
  explicit MergedNumbers(Clock clock, std::chrono::milliseconds retention = kMemoryRetention,
                         std::size_t capacity = kRememberedAttendances);

  struct Survivor {
    domain::NhsNumber number;
    domain::NhsNumberStatus status = domain::NhsNumberStatus::Absent;  // the last merge's PID-32
  };
  // `retired` now lives on as `surviving`. A merge that closes a loop (Y into X after X into Y,
  // or after X into Y into Z, Z into X) undoes the link that leaves `surviving`: it is the live
  // record again. False when this merge was known already (a resend).
  bool note(const domain::NhsNumber& retired, const domain::NhsNumber& surviving,
            domain::NhsNumberStatus survivingStatus);
  // The number `number` lives on as when a merge noted after `since` retired it, following
  // every merge of the surviving records since (X into Y, then Y into Z: Z, whenever Y's merge
  // was noted); nullopt when none retired `number` after `since`. A check made on X after X's
  // merge was on the number its EPR still uses, and is not moved.
  std::optional<Survivor> survivorOf(const domain::NhsNumber& number,
                                     domain::Instant since = domain::Instant::min()) const;

  // Every link noted or undone from now on is told to `journal` (null: none), which outlives this.
  void journalTo(MemoryJournal* journal) noexcept { journal_ = journal; }
  // A link as the store kept it (MemoryJournal), noted at `at`: the newest, and not told to the
  // journal. Before the merges are used (at start-up).
  void restore(const domain::NhsNumber& retired, const Survivor& survivor, domain::Instant at);

 private:
  struct Entry {
    domain::NhsNumber surviving;
    domain::NhsNumberStatus status = domain::NhsNumberStatus::Absent;
    domain::Instant at{};
    std::list<std::string>::iterator position;
  };
  void erase(std::unordered_map<std::string, Entry>::iterator it);  // mutex_ held
  void put(const std::string& key, const Survivor& survivor, domain::Instant at);  // mutex_ held
  // Erases the link that leaves `surviving` when its chain (as of `now`) leads back to
  // `retired`; true when it did. mutex_ held.
  bool undoLoop(const domain::NhsNumber& retired, const domain::NhsNumber& surviving, domain::Instant now);

  MemoryJournal* journal_ = nullptr;
  Clock clock_;
  std::chrono::milliseconds retention_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::string> order_;  // oldest first
  std::unordered_map<std::string, Entry> entries_;  // by the retired number's digits
};

// What a merge (Decider::noteMerge) did.
struct MergeNoted {
  bool recorded = false;     // the merge is known now (it may have been already)
  bool known = false;        // it was known already (a resend): nothing new
  std::string notRecorded;   // why not, when not: rules and codes, never a number
  // The feed's own rules refuse the surviving number (unverified, test data in LIVE): checks
  // still owed on the retired number go to a person (abandoned), never to either number.
  std::string survivingRefused;
  std::size_t openAttendances = 0;  // the feed's open attendances last checked on the retired number
};

enum class DecisionKind {
  CheckDue,        // query CP-IS in `mode`
  NotChecked,      // answer NOT_CHECKED with `reason`
  RepeatPrevious,  // nothing that matters changed: answer with the attendance's stored outcome
};

struct Decision {
  DecisionKind kind = DecisionKind::NotChecked;
  std::optional<domain::AccessMode> mode;    // CheckDue: always; otherwise when known
  std::optional<domain::ReasonCode> reason;  // NotChecked
  std::string reasonText;                    // for people and ZCP-3.2: codes and rules, never values
  bool emitAlert = true;                     // false: the ACK carries no alert segment (emitOutOfScope)
  bool birthDateMissing = false;             // CheckDue without a birth date: checked anyway, noted
  std::optional<domain::Instant> previousDecidedAt;  // RepeatPrevious: the check being repeated
  // RepeatPrevious allowed on the terms the check was made under (Decider::standsAsChecked) for a
  // number this location's own terms refuse: if that check cannot be shown (not held), this is
  // the answer, never a query.
  std::optional<std::pair<domain::ReasonCode, std::string>> refusedHere;
};

// Decides whether a check is due. A check is due when the attendance event starts or updates
// an attendance; the location is mapped to an in-scope setting; the NHS number is valid
// (modulus 11), not test data in LIVE, and verified (or the policy accepts it unverified);
// the patient is under the setting's age limit at arrival (on the Europe/London calendar date),
// or pregnant, or has no birth date (checked anyway); a scheduled-only event (A05) meets a
// scheduled location; and the attendance was not already checked on the same basis (CPIS.md
// §4: an update re-checks only when the NHS number appeared, changed or became verified, or the
// access mode changed). Otherwise the reason says why not, in that order of precedence.
//
// decide() reads the memory. noteEvent() writes what the message does to the attendance (it
// starts, ends, is cancelled or reopened) right after its decision, whatever the decision, in
// the order messages come; record() writes the check once the outcome of a CheckDue or
// NotChecked decision is known (not for RepeatPrevious), keeping what noteEvent() wrote.
// Thread-safe when the memory is.
class Decider {
 public:
  using Clock = std::function<domain::Instant()>;
  Decider(DecisionPolicy policy, Clock clock, CheckMemory& memory, MergedNumbers* merges = nullptr);

  Decision decide(const domain::Attendance& attendance) const;
  // How the message was taken: one whose check is due (its number's fate waits for that check),
  // or a resend the store answered from its original (its end or cancellation is all that is
  // noted of it).
  enum class Taken { Message, CheckDue, Resend };
  void noteEvent(const domain::Attendance& attendance, domain::Instant at, Taken taken = Taken::Message);
  // A merge (A40: attendance.priorNhsNumber merged into attendance.nhsNumber) is recorded in
  // `merges` when both numbers are valid and differ, with the surviving record's trace status.
  // Does nothing without `merges`.
  MergeNoted noteMerge(const domain::Attendance& attendance);
  void record(const domain::Attendance& attendance, const domain::CheckOutcome& outcome);
  // A message whose check was due repeats the visit's check made meanwhile (Intake::runCheck):
  // the memory keeps that check as it is; only the message's due check ends (lastNumberPending,
  // when it carried the latest number).
  void repeatedCheck(const domain::Attendance& attendance);
  // A deferred check's answer (FOUND or NOT_FOUND) takes the place of the failed check it
  // retried (decided at `failedAt`), while that failure is still the attendance's last check on
  // the same NHS number: a later update then repeats the answer instead of showing the failure
  // or querying again (CPIS.md §7, one successful query per attendance). `attendance` is as the
  // check failed; the answer may be for the surviving number of a merge that re-keyed it
  // (outcome.queried == mergedInto(attendance, failedAt)), and the attendance is then checked
  // on that number. False when it did not (nothing done).
  bool recordDeferred(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                      domain::Instant failedAt);

  // The access mode the attendance's location queries with, by precedence: the policy's
  // location entry, the mapping's (Attendance::accessMode), the policy's setting entry, the
  // CPIS.md §8 default. nullopt when the location is unmapped.
  std::optional<domain::AccessMode> accessModeFor(const domain::Attendance& attendance) const;
  // Hazard H5: whether accessModeFor() falls back on the built-in default in a LIVE engine (a
  // care setting an adapter plugin set, for which the configuration states no mode; the start-up
  // check covers the mapping's own rows). The check is made with it, and the intake reports it.
  bool liveModeByDefault(const domain::Attendance& attendance) const {
    return policy_.environment == Environment::Live && attendance.setting &&
           *attendance.setting != domain::CareSetting::OutOfScope && !attendance.accessMode;
  }
  bool verified(const domain::Attendance& attendance) const;
  // What the memory holds of the attendance's last check (nullopt without a visit number).
  std::optional<PreviousCheck> previous(const domain::Attendance& attendance) const;
  // The attendance was cancelled (A11) and not started again since: a deferred re-check of its
  // failed check must not query CP-IS (CPIS.md §4: no query for a cancelled attendance).
  bool cancelled(const domain::Attendance& attendance) const;
  // The surviving NHS number, when a merge (A40) noted after `since` retired the attendance's
  // number: what a deferred re-check of a check that failed at `since` queries, for the child
  // who is there; with why this feed's rules refuse it (the A40's trace status, test data in
  // LIVE), if they do.
  std::optional<domain::MergedNumber> mergedInto(const domain::Attendance& attendance, domain::Instant since) const;
  // Why a check of the attendance made after `since` takes the place of the deferred re-check of
  // a check that failed at `since`, or nullopt when none does (nor does that re-check's own
  // answer, recordDeferred, on a retry):
  // - an unscheduled one on the same number: its success made the access record, and its
  //   failure has a deferred re-check of its own (one successful unscheduled query per
  //   attendance, CPIS.md §7); a silent read does not (the unscheduled query is still owed);
  // - an unscheduled one on another number (a merge's surviving record, the EPR's correction):
  //   the child who is there was asked about.
  // A silent read since does not, on any number: the unscheduled query is still owed. On a
  // merge's surviving record the re-check is re-keyed to it (mergedInto) and makes that query
  // there; on a number the EPR corrected to, a person makes it (movedTo).
  std::optional<std::string> supersededSince(const domain::Attendance& attendance, domain::Instant since) const;
  // The number the EPR moved the attendance to, when its latest message carries another valid
  // NHS number than the one a check that failed at `since` was for (PreviousCheck::lastNumber)
  // and no check took that failure's place (supersededSince): the EPR corrected the patient to a
  // number that was not checked (an unverified one, say: notCheckedReason says why), or only read
  // silently since (readSilently: a scheduled setting, answered or failed; no access recorded, no
  // local authority told), or whose check has not ended (checkPending: wait for it). The failed
  // number is then not the child's, and the deferred re-check goes to a person instead of
  // querying it. When the EPR still uses the failed number, or the latest number, followed
  // through the merges, is the failed number or the survivor a merge since the failure retired
  // it into (the same child: the merge decides): nullopt, or, while a check of the latest
  // message has not ended, the failed number with checkPending (wait for it, so that the two do
  // not both query). Otherwise the number given is the one the latest lives on now.
  std::optional<domain::MovedNumber> movedTo(const domain::Attendance& attendance, domain::Instant since) const;

  // Whether the message continues the attendance its visit already has: an update (A08, A02),
  // an A13, or a start on a visit neither ended nor cancelled (an ED attendance admitted: A01).
  bool continuesAttendance(const domain::Attendance& attendance) const;

  const DecisionPolicy& policy() const noexcept { return policy_; }

  // NOT_CHECKED for an attendance whose location is not in the mapping (LOCATION_UNMAPPED) or
  // out of CP-IS's scope (SETTING_OUT_OF_SCOPE, its alert as emitOutOfScope says).
  Decision locationNotChecked(const domain::Attendance& attendance) const;

 private:
  bool acceptable(const domain::Attendance& attendance) const;
  // Why the attendance's valid NHS number may not be queried (test data in LIVE, unverified),
  // or nullopt when it may.
  std::optional<std::pair<domain::ReasonCode, std::string>> numberRefused(const domain::Attendance& attendance) const;
  // Whether the attendance's valid NHS number, as this message states it, still stands by the
  // terms `previous` was checked under on it (for repeating that check, never for a new query).
  bool standsAsChecked(const domain::Attendance& attendance, const PreviousCheck& previous) const;
  // RepeatPrevious for an update (an admission on the same visit, an A13 reopening it) that
  // moves an attendance answered or failed on this NHS number to a location out of scope or not
  // in the mapping; the number judged by the terms it was checked under. Else nullopt.
  std::optional<Decision> repeatedOnMove(const domain::Attendance& attendance) const;

  DecisionPolicy policy_;
  Clock clock_;
  CheckMemory& memory_;
  MergedNumbers* merges_;
};

// Hazard H4: a location the mapping does not map is a check skipped (LOCATION_UNMAPPED) for
// every attendance there until someone hears of it, a new ward say. The intake counts each
// location key and raises an ops alert in the log on its 1st, 10th, 100th, ... message.
// Keys are locations (not patient data), shown as loggable(). At most kMaxKeys keys are
// counted; a key beyond them is reported every time. Thread-safe.
class UnmappedLocations {
 public:
  static constexpr std::size_t kMaxKeys = 1000;
  struct Seen {
    std::uint64_t count = 0;  // this key's messages so far, this one included
    bool report = false;      // raise the alert now
  };
  Seen seen(std::string_view key);
  // Each key with its count, in key order.
  std::vector<std::pair<std::string, std::uint64_t>> counts() const;

  // A key as the log may carry it: printable ASCII (anything else '?'), runs of eight or more
  // digits masked (also with single spaces or dashes between them), at most 64 characters;
  // the empty key (a message that names no location) is "(none)".
  static std::string loggable(std::string_view key);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::uint64_t, std::less<>> counts_;
};

// NOT_CHECKED / NOT_AN_ATTENDANCE with `reasonText`: a message that must not query CP-IS
// (CPIS.md §4), decided after decide() (the intake's own rules on a repeat or a late check).
Decision noQuery(std::string reasonText, std::optional<domain::AccessMode> mode = std::nullopt);

// The NHS number the outcome echoes in ZCP-13 so that the EPR can confirm the patient: the
// attendance's valid one, else the value it refused (CPIS.md §5: empty only with NO_NHS_NUMBER).
void echoNhsNumber(domain::CheckOutcome& outcome, const domain::Attendance& attendance);

// The NOT_CHECKED outcome of a decision (for the ACK, the audit and the store), with the NHS
// number echoed (echoNhsNumber).
// `source` is the feed's CP-IS back-end (ZCP-18 is required even when nothing was asked).
domain::CheckOutcome notCheckedOutcome(const Decision& decision, const domain::Attendance& attendance,
                                       domain::Instant decidedAt, std::string checkId,
                                       domain::Source source = domain::Source::Spine);

}  // namespace cpis::pipeline
