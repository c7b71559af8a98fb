#include "engine/pipeline/decide.h"

#include <algorithm>
#include <utility>

#include "engine/core/assert.h"
#include "engine/core/power_of_ten.h"
#include "engine/domain/london_time.h"
#include "engine/pipeline/memory_journal.h"

namespace cpis::pipeline {

namespace {

using domain::AttendanceEvent;
using domain::CheckStatus;
using domain::ReasonCode;

constexpr int kDefaultMaxAge = 18;

bool contains(const std::vector<domain::NhsNumberStatus>& statuses, domain::NhsNumberStatus status) {
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

// A check that reached CP-IS and got an answer.
bool answered(CheckStatus status) {
  return status == CheckStatus::Found || status == CheckStatus::NotFound;
}

// Whether the attendance is on the number its check was made on, or on the one that check
// moved from (a merge re-keyed it to the surviving number): the same patient either way.
bool onCheckedNumber(const domain::Attendance& a, const PreviousCheck& previous) {
  return previous.nhsNumber == a.nhsNumber || (previous.rekeyedFrom && previous.rekeyedFrom == a.nhsNumber);
}

// Whether a start continues the attendance its visit already has: one neither ended (A03) nor
// cancelled (A11) since, nor a pre-admission (A05/A14) that this start begins. CPIS.md §4: an ED
// attendance admitted to a ward (A04, then A01 on the same visit) is one attendance.
bool continues(const domain::Attendance& a, const std::optional<PreviousCheck>& previous) {
  return a.event == AttendanceEvent::Start && !a.scheduledOnly && previous && !previous->endedAt &&
         !previous->cancelledAt && !previous->scheduledByNature;
}

// Pregnant at arrival by the expected delivery date the EPR sent, when it sent no pregnancy
// status that says so (an ED that records only the due date): the date is not more than two
// weeks past (42 weeks, when labour is induced), nor more than 44 weeks ahead (a pregnancy's
// length, with a margin). An older date is another pregnancy's; a later one, a mistyped year.
bool dueToDeliver(const domain::Attendance& a, domain::Date arrival) {
  constexpr std::chrono::days kPastTerm{14};
  constexpr std::chrono::days kAhead{44 * 7};
  if (!a.expectedDeliveryDate) return false;
  const std::chrono::sys_days due(*a.expectedDeliveryDate);
  const std::chrono::sys_days on(arrival);
  return due + kPastTerm >= on && due <= on + kAhead;
}

// What a message carries on from the attendance's earlier ones (none for a start that begins it
// afresh): whether it began as a pre-admission, and when it began.
bool preAdmission(const domain::Attendance& a, const std::optional<PreviousCheck>& previous) {
  return a.scheduledOnly || (a.event != AttendanceEvent::Start && previous && previous->scheduledByNature);
}
std::optional<domain::Instant> attendanceStart(const domain::Attendance& a,
                                               const std::optional<PreviousCheck>& previous) {
  if ((a.event != AttendanceEvent::Start || continues(a, previous)) && previous && previous->arrivedAt) {
    return previous->arrivedAt;
  }
  return a.arrivedAt;
}

std::string settingText(const domain::Attendance& a) {
  return a.setting ? std::string(domain::codeOf(*a.setting)) : std::string("unmapped");
}

}  // namespace

int DecisionPolicy::maxAgeFor(const domain::Attendance& attendance) {
  if (attendance.locationTerms.maxAgeYears) return *attendance.locationTerms.maxAgeYears;
  return attendance.setting == domain::CareSetting::Maternity ? kNoAgeLimit : kDefaultMaxAge;
}

// InMemoryCheckMemory ----------------------------------------------------------------------

InMemoryCheckMemory::InMemoryCheckMemory(Clock clock, std::chrono::milliseconds retention,
                                         std::size_t capacity)
    : clock_(std::move(clock)), retention_(retention), capacity_(std::max<std::size_t>(capacity, 1)) {}

std::string InMemoryCheckMemory::keyOf(std::string_view feed, std::string_view visitNumber) {
  std::string key(feed);
  key += '\0';  // feed names cannot hold it, so (feed, visit) pairs never collide
  key += visitNumber;
  return key;
}

std::optional<PreviousCheck> InMemoryCheckMemory::previous(std::string_view feed,
                                                           std::string_view visitNumber) const {
  const std::string key = keyOf(feed, visitNumber);
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end() || now - it->second.lastUsed > retention_) return std::nullopt;
  it->second.lastUsed = now;  // a message about the attendance: it is still going on
  order_.splice(order_.end(), order_, it->second.position);
  if (journal_ != nullptr && now - it->second.journaledAt >= kJournalTouch) {
    journal_->checkTouched(feed, visitNumber);
    it->second.journaledAt = now;
  }
  return it->second.check;
}

bool InMemoryCheckMemory::merge(std::string_view feed, std::string_view visitNumber,
                                const std::function<bool(std::optional<PreviousCheck>&)>& change) {
  std::string key = keyOf(feed, visitNumber);
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  std::optional<PreviousCheck> entry;
  if (it != entries_.end() && now - it->second.lastUsed <= retention_) entry = it->second.check;
  if (!change(entry) || !entry) return false;
  if (journal_ != nullptr) journal_->checkChanged(feed, visitNumber, *entry);
  if (it != entries_.end()) {  // kept, or forgotten (retention) and now new
    it->second.check = *entry;
    it->second.lastUsed = now;
    it->second.journaledAt = now;
    order_.splice(order_.end(), order_, it->second.position);
    return true;
  }
  put(std::move(key), *entry, now);
  return true;
}

void InMemoryCheckMemory::put(std::string key, const PreviousCheck& check, domain::Instant at) {
  while (entries_.size() >= capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(std::move(key), Entry{check, std::prev(order_.end()), at, at});
}

void InMemoryCheckMemory::restore(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check,
                                  domain::Instant lastUsed) {
  std::string key = keyOf(feed, visitNumber);
  const std::lock_guard lock(mutex_);
  if (const auto it = entries_.find(key); it != entries_.end()) {
    order_.erase(it->second.position);
    entries_.erase(it);
  }
  put(std::move(key), check, lastUsed);
}

std::size_t InMemoryCheckMemory::count(std::string_view feed,
                                       const std::function<bool(const PreviousCheck&)>& test) const {
  const std::string prefix = keyOf(feed, {});
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  std::size_t held = 0;
  for (const auto& [key, entry] : entries_) {
    if (key.compare(0, prefix.size(), prefix) == 0 && now - entry.lastUsed <= retention_ && test(entry.check)) ++held;
  }
  return held;
}

std::size_t InMemoryCheckMemory::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

// MergedNumbers ----------------------------------------------------------------------------

MergedNumbers::MergedNumbers(Clock clock, std::chrono::milliseconds retention, std::size_t capacity)
    : clock_(std::move(clock)), retention_(retention), capacity_(std::max<std::size_t>(capacity, 1)) {}

void MergedNumbers::erase(std::unordered_map<std::string, Entry>::iterator it) {
  order_.erase(it->second.position);
  entries_.erase(it);
}

bool MergedNumbers::note(const domain::NhsNumber& retired, const domain::NhsNumber& surviving,
                         domain::NhsNumberStatus survivingStatus) {
  CPIS_ASSERT(retired != surviving);
  const std::string key(retired.reveal());
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  const auto fresh = [&](const Entry& e) { return now - e.at <= retention_; };
  if (const auto it = entries_.find(key);
      it != entries_.end() && fresh(it->second) && it->second.surviving == surviving) {
    if (it->second.status != survivingStatus && journal_ != nullptr) {
      journal_->mergeChanged(retired, Survivor{surviving, survivingStatus}, it->second.at);
    }
    it->second.status = survivingStatus;
    return false;
  }
  if (undoLoop(retired, surviving, now) && journal_ != nullptr) journal_->mergeChanged(surviving, std::nullopt, now);
  put(key, Survivor{surviving, survivingStatus}, now);
  if (journal_ != nullptr) journal_->mergeChanged(retired, Survivor{surviving, survivingStatus}, now);
  return true;
}

void MergedNumbers::put(const std::string& key, const Survivor& survivor, domain::Instant at) {
  if (const auto it = entries_.find(key); it != entries_.end()) erase(it);
  while (entries_.size() >= capacity_) erase(entries_.find(order_.front()));
  order_.push_back(key);
  entries_.emplace(key, Entry{survivor.number, survivor.status, at, std::prev(order_.end())});
}

bool MergedNumbers::undoLoop(const domain::NhsNumber& retired, const domain::NhsNumber& surviving,
                             domain::Instant now) {
  // A loop (the surviving record's own chain leads back to the retired one): the merge undoes
  // the link that leaves the surviving record. Any other link of it stays: a stale merge into
  // a record retired since (W into Y, with Y into Z known) still ends at Z.
  std::string at(surviving.reveal());
  for (int step = 0; step < 16; ++step) {
    const auto it = entries_.find(at);
    if (it == entries_.end() || now - it->second.at > retention_) return false;
    if (it->second.surviving == retired) {
      erase(entries_.find(std::string(surviving.reveal())));
      return true;
    }
    at = std::string(it->second.surviving.reveal());
  }
  return false;
}

void MergedNumbers::restore(const domain::NhsNumber& retired, const Survivor& survivor, domain::Instant at) {
  if (retired == survivor.number) return;
  const std::lock_guard lock(mutex_);
  // Restored oldest first: a newer link that closes a loop with an older one undoes it, as when
  // it was noted (the older link's deletion may not have reached the store before a crash).
  undoLoop(retired, survivor.number, at);
  put(std::string(retired.reveal()), survivor, at);
}

std::optional<MergedNumbers::Survivor> MergedNumbers::survivorOf(const domain::NhsNumber& number,
                                                                 domain::Instant since) const {
  const auto now = clock_();
  const std::lock_guard lock(mutex_);
  std::optional<Survivor> survivor;
  // note() keeps the chains free of loops; the bound is for safety alone.
  for (int step = 0; step < 16; ++step) {
    const auto it = entries_.find(std::string((survivor ? survivor->number : number).reveal()));
    if (it == entries_.end() || now - it->second.at > retention_ || (!survivor && it->second.at <= since)) break;
    survivor = Survivor{it->second.surviving, it->second.status};
  }
  if (survivor && survivor->number == number) return std::nullopt;
  return survivor;
}

// Decider --------------------------------------------------------------------------------

Decider::Decider(DecisionPolicy policy, Clock clock, CheckMemory& memory, MergedNumbers* merges)
    : policy_(std::move(policy)), clock_(std::move(clock)), memory_(memory), merges_(merges) {}

std::optional<domain::AccessMode> Decider::accessModeFor(const domain::Attendance& attendance) const {
  if (!attendance.setting) return std::nullopt;
  if (attendance.accessMode) return attendance.accessMode;
  return domain::defaultAccessMode(*attendance.setting);
}

bool Decider::verified(const domain::Attendance& attendance) const {
  return contains(policy_.verifiedStatuses, attendance.nhsStatus);
}

bool Decider::acceptable(const domain::Attendance& attendance) const {
  if (verified(attendance)) return true;
  if (attendance.nhsStatusUnreadable) return false;  // not "no status": it may be NSTS04
  if (attendance.nhsStatus == domain::NhsNumberStatus::Absent) {
    return attendance.locationTerms.acceptMissingTraceStatus.value_or(policy_.acceptMissingTraceStatus);
  }
  const bool acceptUnverified =
      attendance.locationTerms.acceptUnverifiedNhsNumber.value_or(policy_.acceptUnverifiedNhsNumber);
  return acceptUnverified && contains(policy_.acceptableUnverifiedStatuses, attendance.nhsStatus);
}

Decision Decider::decide(const domain::Attendance& a) const {
  const domain::Instant now = clock_();
  Decision d;
  const auto notChecked = [&](ReasonCode reason, std::string text) {
    d.kind = DecisionKind::NotChecked;
    d.reason = reason;
    d.reasonText = std::move(text);
    return d;
  };

  const std::string event = a.triggerEvent.empty() ? std::string("(none)") : a.triggerEvent;
  if (a.event == AttendanceEvent::Merge) {  // about people, whatever the feed's switches
    return notChecked(ReasonCode::NotAnAttendance,
                      "trigger event " + event + " merges two patients' records: no attendance, no query");
  }
  if (!policy_.enabled) return notChecked(ReasonCode::Disabled, "CP-IS checks are disabled for this feed");
  if (!a.locationTerms.enabled.value_or(true)) {
    return notChecked(ReasonCode::Disabled, "CP-IS checks are disabled for this location");
  }

  switch (a.event) {
    case AttendanceEvent::NotAnAttendance:
      return notChecked(ReasonCode::NotAnAttendance,
                        "trigger event " + event + " is not an attendance event");
    case AttendanceEvent::End:
      return notChecked(ReasonCode::NotAnAttendance, "trigger event " + event + " ends the attendance");
    case AttendanceEvent::Cancel:
      return notChecked(ReasonCode::NotAnAttendance, "trigger event " + event + " cancels the attendance");
    case AttendanceEvent::Merge: break;  // above
    case AttendanceEvent::Start:
    case AttendanceEvent::Update:
    case AttendanceEvent::Reopen: break;
  }

  // CPIS.md §4: an update (A08, A02), or an admission on the same visit, re-checks only when the
  // number or the access mode changes. A move to a location out of CP-IS's scope, or to one the
  // mapping does not know (radiology, a ward not yet in the table), is neither a new attendance
  // nor a new query: the attendance's answered check is repeated, so that an EPR showing the
  // latest ACK keeps the plan's alert as the child moves on (an A03 does the same). It used to
  // replace a FOUND with NOT_CHECKED SETTING_OUT_OF_SCOPE, or with no alert at all.
  if (!a.setting || *a.setting == domain::CareSetting::OutOfScope) {
    if (auto kept = repeatedOnMove(a)) return *kept;
    return locationNotChecked(a);
  }
  d.mode = accessModeFor(a);

  if (!a.nhsNumber) {
    // NHS_NUMBER_INVALID is for a value that fails the check; two different numbers (a problem,
    // no value refused) leave none to use: NO_NHS_NUMBER, with where they are.
    if (a.refusedNhsNumber && !a.nhsNumberProblem.empty()) {
      return notChecked(ReasonCode::NhsNumberInvalid, a.nhsNumberProblem);
    }
    if (!a.nhsNumberProblem.empty()) return notChecked(ReasonCode::NoNhsNumber, a.nhsNumberProblem);
    if (!a.nhsNumberPassedOver.empty()) {
      return notChecked(ReasonCode::NoNhsNumber, "the message carries no NHS number the mapping takes (" +
                                                     a.nhsNumberPassedOver + ")");
    }
    return notChecked(ReasonCode::NoNhsNumber, "the message carries no NHS number");
  }
  const std::optional<PreviousCheck> previous =
      a.visitNumber.empty() ? std::nullopt : memory_.previous(a.feedId, a.visitNumber);
  // CPIS.md §4: an update that leaves out PID-32 (a partial A08) carrying the number the
  // attendance was checked on, verified then, says nothing new of it: its check is repeated,
  // rather than a NOT_CHECKED that takes the plan's alert off the EPR's screen. An update that
  // says the number is not verified (NSTS02 to NSTS08), or sends a status nobody can read, is
  // still refused.
  const bool verifiedBefore = previous && a.event != AttendanceEvent::Start &&
                              a.nhsStatus == domain::NhsNumberStatus::Absent && !a.nhsStatusUnreadable &&
                              previous->nhsNumberVerified && previous->nhsNumber == a.nhsNumber &&
                              answered(previous->status);
  // A message continuing an attendance answered on this number, or failed on it and not
  // cancelled, is judged, for repeating that check, by the terms the check was made under
  // (standsAsChecked): a baby checked on NSTS08 at the paediatric ED (that location's switch) and
  // moved to a ward without one, or a partial A08 of it, is the same baby on the same number.
  // Only the repeat is allowed on those terms: a new query keeps this location's own
  // (refusedHere, after the repeat below).
  const bool checkedOnIt = previous && (a.event != AttendanceEvent::Start || continues(a, previous)) &&
                           onCheckedNumber(a, *previous) &&
                           (answered(previous->status) ||
                            (previous->status == CheckStatus::CheckFailed && !previous->cancelledAt));
  std::optional<std::pair<ReasonCode, std::string>> refusedHere;
  if (!verifiedBefore) {
    refusedHere = numberRefused(a);
    if (refusedHere && !(checkedOnIt && standsAsChecked(a, *previous))) {
      return notChecked(refusedHere->first, std::move(refusedHere->second));
    }
  }
  const int maxAge = DecisionPolicy::maxAgeFor(a);
  // The age rule is the attendance's, judged at its start: an update of an attendance checked on
  // this number (answered, or failed and being re-checked) does not age it out of its check. A
  // pregnant woman's A08 without the pregnancy OBX, or a transfer whose PV1-2 is no longer B,
  // would otherwise replace her unborn child's plan on the EPR with AGE_OUT_OF_SCOPE.
  const bool checkedBefore = previous && (a.event != AttendanceEvent::Start || continues(a, previous)) &&
                             previous->nhsNumber == a.nhsNumber &&
                             (answered(previous->status) || previous->status == CheckStatus::CheckFailed);
  if (!a.birthDate) {
    d.birthDateMissing = true;  // CPIS.md §8: check anyway
  } else if (maxAge != kNoAgeLimit && !a.pregnant && !a.pregnancyUnreadable && !checkedBefore) {
    // The age at the attendance's start: an update carries its own time, not the arrival's. An
    // arrival after now (a mistyped year, a clock ahead) never ages a child out of the check.
    const std::optional<domain::Instant> start = attendanceStart(a, previous);
    const domain::Date arrival = domain::londonDate(std::min(start.value_or(now), now));
    if (domain::ageInYears(*a.birthDate, arrival) >= maxAge && !dueToDeliver(a, arrival)) {
      // "Not recorded as pregnant": a mapping that reads no pregnancy says nothing either way.
      return notChecked(
          ReasonCode::AgeOutOfScope,
          "aged " + std::to_string(maxAge) +
              (start ? " or over at arrival" : " or over today (the message gives no arrival time)") +
              " (limit for " + settingText(a) + "), and not recorded as pregnant");
    }
  }

  if (d.mode == domain::AccessMode::Unscheduled && preAdmission(a, previous)) {
    return notChecked(ReasonCode::NotAnAttendance,
                      a.scheduledOnly ? "trigger event " + event +
                                            " is scheduled by nature and the location queries unscheduled"
                                      : "the attendance began scheduled by nature (a pre-admission) and the "
                                        "location queries unscheduled; trigger event " +
                                            event + " does not start it");
  }

  if (previous) {
    // The attendance's check moved to the surviving number of a merge (a deferred check's
    // answer): an update that still carries the number it moved from is the same patient, not a
    // change that queries the retired number again.
    const bool sameNumber = onCheckedNumber(a, *previous);
    // An answered unscheduled check covers a move to a scheduled setting (ED to CAMHS, say): its
    // answer is repeated, no silent read made, so the attendance's check stays the unscheduled
    // one, and a move back (to a paediatric ward) repeats it too rather than query and tell the
    // local authority a second time (CPIS.md §7: one access an attendance).
    const bool coveredByUnscheduled = previous->mode == domain::AccessMode::Unscheduled &&
                                      d.mode == domain::AccessMode::Scheduled && answered(previous->status);
    const bool changed = !sameNumber || (!previous->nhsNumberVerified && verified(a)) ||
                         (previous->mode != d.mode && !coveredByUnscheduled);
    const bool recent = now - previous->decidedAt < policy_.recheckWindow;
    // CPIS.md §4: ED → paediatric ward is still unscheduled, no new query, whether the EPR says
    // so with an A02 or with an A01 on the same visit. A start after an A03 or an A11 begins a
    // new attendance under the same key.
    const bool continuing =
        a.event == AttendanceEvent::Update || a.event == AttendanceEvent::Reopen || continues(a, previous);
    // A failure is repeated while recent: its re-check is queued, unless an A11 withdrew it.
    const bool failedRecently = previous->status == CheckStatus::CheckFailed && recent && !previous->cancelledAt;
    const bool repeat = !changed && ((answered(previous->status) && (continuing || recent)) || failedRecently);
    if (repeat) {
      d.kind = DecisionKind::RepeatPrevious;
      d.previousDecidedAt = previous->decidedAt;
      d.reasonText = "the attendance was checked before on the same NHS number and access mode";
      d.refusedHere = std::move(refusedHere);
      return d;
    }
  }
  if (refusedHere) return notChecked(refusedHere->first, std::move(refusedHere->second));
  if (previous && previous->cancelledAt && a.event != AttendanceEvent::Start) {  // CPIS.md §4: A11
    return notChecked(ReasonCode::NotAnAttendance, "the attendance was cancelled and trigger event " + event +
                                                       " does not start it again: no query");
  }
  if (a.event == AttendanceEvent::Reopen) {  // CPIS.md §4: A13 reopens the attendance; no query
    return notChecked(ReasonCode::NotAnAttendance, "trigger event " + event + " reopens the attendance: no query");
  }

  d.kind = DecisionKind::CheckDue;
  d.reasonText = d.birthDateMissing ? "check due (no birth date: checked anyway)" : "check due";
  return d;
}

Decision Decider::locationNotChecked(const domain::Attendance& a) const {
  Decision d;
  d.kind = DecisionKind::NotChecked;
  if (!a.setting) {
    d.reason = ReasonCode::LocationUnmapped;
    d.reasonText = a.locationKey.empty()
                       ? std::string("the message names no location")
                       : "location " + a.locationKey + " is not in the mapping's location table";
    return d;
  }
  CPIS_ASSERT(*a.setting == domain::CareSetting::OutOfScope);
  d.mode = accessModeFor(a);
  d.emitAlert = a.locationTerms.emitOutOfScope.value_or(policy_.emitOutOfScope);
  d.reason = ReasonCode::SettingOutOfScope;
  d.reasonText = "location " + a.locationKey + " is out of scope for CP-IS";
  return d;
}

std::optional<Decision> Decider::repeatedOnMove(const domain::Attendance& a) const {
  if (a.event != AttendanceEvent::Update && a.event != AttendanceEvent::Start &&
      a.event != AttendanceEvent::Reopen)
    return std::nullopt;
  if (!a.nhsNumber || a.visitNumber.empty()) return std::nullopt;
  const std::optional<PreviousCheck> previous = memory_.previous(a.feedId, a.visitNumber);
  if (!previous || previous->cancelledAt) return std::nullopt;
  // A failed check is repeated too, however old: a move to X-ray must not replace "CP-IS could
  // not be checked: check it by hand" with "not checked: out of scope", which reads as nothing
  // to do (hazard H2). In scope an update after recheckWindow queries again; here nothing would,
  // and the deferred re-check's answer takes the failure's place when it comes.
  if (!answered(previous->status) && previous->status != CheckStatus::CheckFailed) return std::nullopt;
  // An A13 reopens the attendance its A03 ended (decide() repeats its check in scope too).
  if (previous->endedAt && a.event != AttendanceEvent::Reopen) return std::nullopt;
  if (a.event == AttendanceEvent::Start && !continues(a, previous)) return std::nullopt;
  if (!onCheckedNumber(a, *previous)) return std::nullopt;
  // A location nobody mapped (or put out of scope only by the mapping's default rule) may be a
  // ward in scope: a silent read's answer is not shown there for the unscheduled check the
  // attendance may be owed; the location's NOT_CHECKED and its ops alert stand (hazard H4).
  if ((!a.setting || a.settingByDefault) && previous->mode != domain::AccessMode::Unscheduled)
    return std::nullopt;
  // The number as this message states it still stands, judged by the terms it was checked under,
  // not the new location's (standsAsChecked).
  if (!standsAsChecked(a, *previous)) return std::nullopt;
  Decision d;
  d.kind = DecisionKind::RepeatPrevious;
  d.mode = previous->mode;
  d.previousDecidedAt = previous->decidedAt;
  d.reasonText = "the attendance moved to a location CP-IS does not check (" +
                 (a.locationKey.empty() ? std::string("none named") : a.locationKey) +
                 "): its check on the same NHS number is repeated";
  return d;
}

bool Decider::continuesAttendance(const domain::Attendance& a) const {
  return a.event == AttendanceEvent::Update || a.event == AttendanceEvent::Reopen ||
         continues(a, previous(a));
}

bool Decider::standsAsChecked(const domain::Attendance& a, const PreviousCheck& previous) const {
  // A message that leaves PID-32 out says nothing new of the number. A number checked unverified
  // was taken under a switch (the feed's or the location's) for the statuses the feed signed off:
  // it still stands on one of those. A status the feed never accepts (NSTS04: no match), an
  // unreadable one, or a number checked verified now said to be unverified (where the location
  // takes no unverified number) is news.
  domain::Attendance asChecked = a;
  asChecked.locationTerms.acceptMissingTraceStatus = true;
  if (!previous.nhsNumberVerified) asChecked.locationTerms.acceptUnverifiedNhsNumber = true;
  return !numberRefused(asChecked);
}

std::optional<std::pair<ReasonCode, std::string>> Decider::numberRefused(const domain::Attendance& a) const {
  CPIS_ASSERT(a.nhsNumber.has_value());
  if (policy_.environment == Environment::Live) {
    if (a.nhsNumber->isTestRange()) {
      return std::pair{ReasonCode::TestNumberInLive, std::string("an NHS number in the 999 test range in a LIVE feed")};
    }
    if (policy_.refusePlaceholdersInLive && a.nhsNumber->isPlaceholder()) {
      return std::pair{ReasonCode::TestNumberInLive,
                       std::string("a placeholder NHS number (one digit ten times) in a LIVE feed")};
    }
  }
  if (!acceptable(a)) {
    const std::string_view status = domain::codeOf(a.nhsStatus);
    if (a.nhsStatusUnreadable) {
      return std::pair{ReasonCode::NhsNumberUnverified,
                       std::string("the NHS number trace status sent is none of NSTS01 to NSTS08")};
    }
    return std::pair{ReasonCode::NhsNumberUnverified,
                     status.empty() ? std::string("the message gives no NHS number trace status")
                                    : "NHS number trace status " + std::string(status) + " is not verified"};
  }
  return std::nullopt;
}

std::optional<PreviousCheck> Decider::previous(const domain::Attendance& attendance) const {
  if (attendance.visitNumber.empty()) return std::nullopt;
  return memory_.previous(attendance.feedId, attendance.visitNumber);
}

bool Decider::cancelled(const domain::Attendance& attendance) const {
  const auto remembered = previous(attendance);
  return remembered && remembered->cancelledAt.has_value();
}

std::optional<domain::MergedNumber> Decider::mergedInto(const domain::Attendance& attendance,
                                                       domain::Instant since) const {
  if (merges_ == nullptr || !attendance.nhsNumber) return std::nullopt;
  const auto survivor = merges_->survivorOf(*attendance.nhsNumber, since);
  if (!survivor) return std::nullopt;
  // The feed's own rules (its location's too), on the surviving record as the A40 gave it.
  domain::Attendance surviving = attendance;
  surviving.nhsNumber = survivor->number;
  surviving.nhsStatus = survivor->status;
  auto refused = numberRefused(surviving);
  if (!refused) return domain::MergedNumber{survivor->number, {}, std::nullopt};
  return domain::MergedNumber{survivor->number, std::move(refused->second), refused->first};
}

std::optional<std::string> Decider::supersededSince(const domain::Attendance& attendance,
                                                    domain::Instant since) const {
  const auto last = previous(attendance);
  if (!last || last->decidedAt <= since || last->status == CheckStatus::NotChecked || !last->nhsNumber ||
      last->answersFailureAt == since) {  // none since, or this re-check's own answer (a retry)
    return std::nullopt;
  }
  const bool unscheduled = last->mode == domain::AccessMode::Unscheduled;
  if (attendance.nhsNumber == last->nhsNumber) {
    if (unscheduled) return "the attendance had an unscheduled check since";
    return std::nullopt;
  }
  if (unscheduled) return "the attendance had an unscheduled check on another NHS number since";
  // A silent read on another number takes nothing's place: the unscheduled query the attendance
  // is owed is still to be made. On a merge's surviving record the re-check makes it there
  // (mergedInto); on a number the EPR corrected to, a person does (movedTo).
  return std::nullopt;
}

std::optional<domain::MovedNumber> Decider::movedTo(const domain::Attendance& attendance,
                                                    domain::Instant since) const {
  const auto last = previous(attendance);
  if (!last || !last->lastNumber || !attendance.nhsNumber || last->answersFailureAt == since) {
    return std::nullopt;  // no memory of it, or this re-check's own answer
  }
  const domain::NhsNumber& failed = *attendance.nhsNumber;
  // The latest number as the merges left it (whenever they came). Merged into the failed number,
  // or into the survivor a merge since the failure retired the failed number into, it is the
  // same child, and the merge decides (the re-check re-keyed to that survivor, or to a person
  // when the feed may not query it).
  domain::NhsNumber latest = *last->lastNumber;
  if (merges_ != nullptr) {
    if (const auto onward = merges_->survivorOf(latest, domain::Instant{})) latest = onward->number;
  }
  const auto sameChild = [&] {
    if (*last->lastNumber == failed || latest == failed) return true;
    const auto survivor = merges_ != nullptr ? merges_->survivorOf(failed, since) : std::nullopt;
    return survivor && survivor->number == latest;
  };
  // The same child: nothing moved, but a check due on it that has not ended (an update back in an
  // unscheduled setting) is waited for, so that the two do not both query.
  const auto waitForIt = [&]() -> std::optional<domain::MovedNumber> {
    if (!last->lastNumberPending) return std::nullopt;
    return domain::MovedNumber{failed, true, std::nullopt, false};
  };
  if (last->nhsNumber != attendance.nhsNumber) {
    // A check on another number since the failure: decided after it, or on a number a message
    // carried after it (a silent read answered from the cache carries the time of the answer it
    // reuses). An unscheduled one took the re-check's place (supersededSince); a silent read on a
    // merge's surviving record leaves the re-check to the merge (mergedInto re-keys it). A silent
    // read on a number the EPR corrected to, answered or failed, recorded no access and told no
    // local authority: a person checks, on the number the EPR uses now (the one read, unless it
    // moved on since), and the failed number, no longer the child's, is not queried; while a
    // check due on that number has not ended (back in an unscheduled setting, say), the re-check
    // waits for it.
    const bool after = last->decidedAt > since || (last->lastNumberAt && *last->lastNumberAt > since);
    if (!last->nhsNumber || !after || last->status == CheckStatus::NotChecked ||
        last->mode != domain::AccessMode::Scheduled) {
      return std::nullopt;
    }
    if (const auto merged = mergedInto(attendance, since); merged && merged->surviving == *last->nhsNumber) {
      return std::nullopt;
    }
    if (sameChild()) return waitForIt();  // back on the failed number, or merged into it
    // Still on the number read silently, or moved on from it (refused is never set while the
    // latest number is the checked one).
    return domain::MovedNumber{latest, last->lastNumberPending, last->lastNumberRefused,
                               *last->lastNumber == *last->nhsNumber};
  }
  if (sameChild()) return waitForIt();
  // Otherwise a person is sent to the record the latest number lives on now; that includes a
  // failed number retired before its failure (the EPR was still using it).
  return domain::MovedNumber{latest, last->lastNumberPending, last->lastNumberRefused};
}

MergeNoted Decider::noteMerge(const domain::Attendance& attendance) {
  MergeNoted noted;
  const auto& prior = attendance.priorNhsNumber;
  const auto& surviving = attendance.nhsNumber;
  if (merges_ == nullptr) {
    noted.notRecorded = "this engine keeps no merges";
  } else if (!prior || !surviving) {
    noted.notRecorded = "the message does not name both records' valid NHS numbers";
  } else if (*prior == *surviving) {
    // Two local records of one person: nothing CP-IS was asked changes.
    noted.notRecorded = "both records have the same NHS number";
  }
  if (!noted.notRecorded.empty()) return noted;
  noted.recorded = true;
  noted.known = !merges_->note(*prior, *surviving, attendance.nhsStatus);
  // Hazard H1: a check still owed on the retired number must not move to a number the rules
  // refuse; nor stay on the retired one. Each feed applies its own rules when it re-checks.
  // A merge is about people, not a location: the feed's own terms judge it.
  domain::Attendance merge = attendance;
  merge.locationTerms = {};
  if (auto refused = numberRefused(merge)) noted.survivingRefused = refused->second;
  noted.openAttendances = memory_.count(attendance.feedId, [&](const PreviousCheck& entry) {
    return entry.nhsNumber == prior && !entry.endedAt && !entry.cancelledAt;
  });
  return noted;
}

namespace {

// Notes the number a message of the visit carried (PreviousCheck::lastNumber); true when that
// changed the entry. A message without a valid number says nothing of which record the child is,
// nor does a placeholder (one digit ten times: "not known" in some EPRs).
bool noteNumber(PreviousCheck& previous, const domain::Attendance& attendance, domain::Instant at,
                Decider::Taken taken) {
  if (taken == Decider::Taken::Resend || !attendance.nhsNumber || attendance.nhsNumber->isPlaceholder()) return false;
  if (previous.lastNumberAt && at < *previous.lastNumberAt) return false;  // an older message, processed late
  // A check due: until it ends (record()), a deferred check of the attendance waits for it
  // (Decider::movedTo), whichever number it is on: on the failed number, the same child, or on
  // another one (a correction, or the number only read silently, back in an unscheduled setting).
  const bool pending = taken == Decider::Taken::CheckDue;
  if (previous.lastNumber == attendance.nhsNumber) {
    if (!pending || previous.lastNumberPending) return false;
    previous.lastNumberPending = true;  // checked again (the mode changed, say): that check decides
    previous.lastNumberRefused.reset();
    return true;
  }
  previous.lastNumber = attendance.nhsNumber;
  previous.lastNumberAt = at;
  previous.lastNumberPending = pending;
  previous.lastNumberRefused.reset();
  return true;
}

}  // namespace

void Decider::noteEvent(const domain::Attendance& attendance, domain::Instant at, Taken taken) {
  if (attendance.visitNumber.empty()) return;
  const auto& feed = attendance.feedId;
  const auto& visit = attendance.visitNumber;
  switch (attendance.event) {
    case AttendanceEvent::Start:
      // Begun afresh, or continued (continues()): either way neither ended nor cancelled now,
      // unless an end or a cancellation came after this start (noted first: a start processed
      // late, after a restart or by another instance).
      memory_.update(feed, visit, [&](PreviousCheck& previous) {
        if ((previous.endedAt && *previous.endedAt > at) || (previous.cancelledAt && *previous.cancelledAt > at)) {
          return false;  // a later message was noted first: its number is the latest
        }
        noteNumber(previous, attendance, at, taken);
        const std::optional<PreviousCheck> before = previous;
        previous.arrivedAt = attendanceStart(attendance, before);
        previous.scheduledByNature = attendance.scheduledOnly;
        previous.endedAt.reset();
        previous.cancelledAt.reset();
        return true;
      });
      break;
    case AttendanceEvent::End:
    case AttendanceEvent::Cancel: {
      const bool cancel = attendance.event == AttendanceEvent::Cancel;
      memory_.merge(feed, visit, [&](std::optional<PreviousCheck>& entry) {
        if (!entry) {
          // Nothing remembered (a restart, or the start's check still running): remembered now,
          // so that a deferred check is withdrawn and the start's check, when it ends, keeps it.
          entry.emplace();
          entry->decidedAt = at;
          entry->nhsNumber = attendance.nhsNumber;
          entry->nhsNumberVerified = verified(attendance);
          entry->arrivedAt = attendance.arrivedAt;
        }
        noteNumber(*entry, attendance, at, taken);
        auto& when = cancel ? entry->cancelledAt : entry->endedAt;
        if (!when) when = at;
        return true;
      });
      break;
    }
    case AttendanceEvent::Reopen:  // A13: the discharge was an error
      memory_.update(feed, visit, [&](PreviousCheck& previous) {
        noteNumber(previous, attendance, at, taken);
        previous.endedAt.reset();
        return true;
      });
      break;
    case AttendanceEvent::Update:
      memory_.update(feed, visit, [&](PreviousCheck& previous) { return noteNumber(previous, attendance, at, taken); });
      break;
    case AttendanceEvent::NotAnAttendance:
    case AttendanceEvent::Merge: break;  // noteMerge()
  }
}

void Decider::record(const domain::Attendance& attendance, const domain::CheckOutcome& outcome) {
  if (attendance.visitNumber.empty()) return;
  // In one step, so that an event noted meanwhile (an A11 while this check ran) is not lost.
  memory_.merge(attendance.feedId, attendance.visitNumber, [&](std::optional<PreviousCheck>& entry) {
    // A skipped check does not hide an attendance's real one: a later update still compares with it.
    if (outcome.status == CheckStatus::NotChecked && entry && entry->status != CheckStatus::NotChecked) {
      // But the latest number's message, not checked, says why (Decider::movedTo): one that could
      // have been checked on it (a start or an update; an A03, an A13 or an event that is no
      // attendance says nothing of that number).
      const bool couldHaveBeen =
          (attendance.event == AttendanceEvent::Start || attendance.event == AttendanceEvent::Update) &&
          outcome.reason != ReasonCode::NotAnAttendance;
      if (!couldHaveBeen || !attendance.nhsNumber || entry->lastNumber != attendance.nhsNumber ||
          entry->nhsNumber == attendance.nhsNumber) {
        return false;
      }
      entry->lastNumberPending = false;
      entry->lastNumberRefused = outcome.reason;
      return true;
    }
    // A message that left PID-32 out on the number verified before (a partial update) keeps it
    // verified: its check, made on that number, does not make the next update's NSTS01 a change.
    const bool stillVerified = entry && entry->nhsNumberVerified && entry->nhsNumber == attendance.nhsNumber &&
                               attendance.nhsStatus == domain::NhsNumberStatus::Absent &&
                               !attendance.nhsStatusUnreadable;
    PreviousCheck check{outcome.decidedAt, outcome.status, attendance.nhsNumber,
                        verified(attendance) || stillVerified, outcome.mode};
    if (entry) {
      // What the attendance's messages made of it (noteEvent, in the order they came) stays: a
      // check ends after later messages may have been noted.
      check.scheduledByNature = entry->scheduledByNature;
      check.arrivedAt = entry->arrivedAt;
      check.endedAt = entry->endedAt;
      check.cancelledAt = entry->cancelledAt;
      check.lastNumber = entry->lastNumber;
      check.lastNumberAt = entry->lastNumberAt;
      if (entry->lastNumber != attendance.nhsNumber) {  // a later message's number, still to be decided
        check.lastNumberPending = entry->lastNumberPending;
        check.lastNumberRefused = entry->lastNumberRefused;
      }
    } else {
      check.scheduledByNature = preAdmission(attendance, std::nullopt);
      check.arrivedAt = attendance.arrivedAt;
    }
    if (!check.lastNumber) check.lastNumber = attendance.nhsNumber;
    entry = check;
    return true;
  });
}

void Decider::repeatedCheck(const domain::Attendance& attendance) {
  if (attendance.visitNumber.empty()) return;
  memory_.merge(attendance.feedId, attendance.visitNumber, [&](std::optional<PreviousCheck>& entry) {
    if (!entry || !entry->lastNumberPending || entry->lastNumber != attendance.nhsNumber) return false;
    entry->lastNumberPending = false;
    return true;
  });
}

bool Decider::recordDeferred(const domain::Attendance& attendance, const domain::CheckOutcome& outcome,
                             domain::Instant failedAt) {
  if (attendance.visitNumber.empty() || !answered(outcome.status)) return false;
  // In one step: an update checked meanwhile (another number, say) is not overwritten. The
  // failed check was due, so its number counted as verified; the deferred check's attendance
  // (from the notification's payload) carries no trace status to say so again.
  const auto merged = mergedInto(attendance, failedAt);
  const std::optional<domain::NhsNumber> survivor =
      merged && merged->refused.empty() ? std::optional(merged->surviving) : std::nullopt;
  // The number the re-check asked about: the survivor, or one on its way there (a merge of it
  // noted while the query ran: the attendance then moves to it, and its next update, carrying
  // the newest number, is checked on that).
  const auto onTheChain = [&](const std::optional<domain::NhsNumber>& asked) {
    if (!survivor || !asked) return false;
    if (*asked == *survivor) return true;
    const auto onward = merges_ != nullptr ? merges_->survivorOf(*asked, failedAt) : std::nullopt;
    return onward && onward->number == *survivor;
  };
  return memory_.update(attendance.feedId, attendance.visitNumber, [&](PreviousCheck& previous) {
    if (previous.nhsNumber != attendance.nhsNumber) return false;
    const bool theFailure = previous.status == CheckStatus::CheckFailed && previous.decidedAt == failedAt;
    // A silent read made since, on the same number (the child moved to a scheduled setting
    // while the re-check was owed; it does not take the re-check's place: supersededSince):
    // the unscheduled answer becomes the attendance's check, so that a move back to an
    // unscheduled setting repeats it rather than query and tell the local authority again
    // (CPIS.md §7: one access an attendance).
    const bool readSince = previous.mode == domain::AccessMode::Scheduled && answered(previous.status) &&
                           previous.decidedAt > failedAt && outcome.mode == domain::AccessMode::Unscheduled;
    if (!theFailure && !readSince) return false;
    // Asked about the surviving number of a merge that re-keyed the attendance: the attendance
    // is now checked on that number.
    const auto& asked = outcome.queried ? outcome.queried : attendance.nhsNumber;
    if (asked != attendance.nhsNumber && (readSince || !onTheChain(asked))) return false;
    if (asked != previous.nhsNumber) {
      previous.rekeyedFrom = previous.nhsNumber;
      previous.nhsNumber = asked;
    }
    previous.decidedAt = outcome.decidedAt;
    previous.status = outcome.status;
    previous.mode = outcome.mode;
    previous.answersFailureAt = failedAt;
    return true;
  });
}

UnmappedLocations::Seen UnmappedLocations::seen(std::string_view key) {
  const std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (counts_.size() >= kMaxKeys) return Seen{1, true};
    it = counts_.emplace(std::string(key), 0).first;
  }
  const std::uint64_t count = ++it->second;
  return Seen{count, core::isPowerOfTen(count)};
}

std::vector<std::pair<std::string, std::uint64_t>> UnmappedLocations::counts() const {
  const std::lock_guard lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

std::string UnmappedLocations::loggable(std::string_view key) {
  if (key.empty()) return "(none)";  // the message names no location at all
  std::string out;
  for (std::size_t i = 0; i < key.size() && out.size() < 64;) {
    if (key[i] >= '0' && key[i] <= '9') {
      // Digits, with single spaces or dashes between them ("943 476 5919" is one number).
      const auto digit = [&](std::size_t at) { return at < key.size() && key[at] >= '0' && key[at] <= '9'; };
      std::size_t end = i, digits = 0;
      while (digit(end) ||
             (end < key.size() && (key[end] == ' ' || key[end] == '-') && digit(end - 1) && digit(end + 1))) {
        if (digit(end)) ++digits;
        ++end;
      }
      out += digits >= 8 ? std::string("********") : std::string(key.substr(i, end - i));
      i = end;
      continue;
    }
    const auto c = static_cast<unsigned char>(key[i++]);
    out += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
  }
  if (out.size() > 64) out.resize(64);
  return out;
}

Decision noQuery(std::string reasonText, std::optional<domain::AccessMode> mode) {
  Decision d;
  d.kind = DecisionKind::NotChecked;
  d.mode = mode;
  d.reason = ReasonCode::NotAnAttendance;
  d.reasonText = std::move(reasonText);
  return d;
}

void echoNhsNumber(domain::CheckOutcome& outcome, const domain::Attendance& attendance) {
  outcome.queried = attendance.nhsNumber;
  outcome.refusedNhsNumber = attendance.nhsNumber ? std::nullopt : attendance.refusedNhsNumber;
}

domain::CheckOutcome notCheckedOutcome(const Decision& decision, const domain::Attendance& attendance,
                                       domain::Instant decidedAt, std::string checkId,
                                       domain::Source source) {
  CPIS_ASSERT(decision.kind == DecisionKind::NotChecked && decision.reason);
  domain::CheckOutcome outcome;
  outcome.status = CheckStatus::NotChecked;
  outcome.reason = decision.reason;
  outcome.reasonText = decision.reasonText;
  echoNhsNumber(outcome, attendance);
  outcome.decidedAt = decidedAt;
  outcome.checkId = std::move(checkId);
  outcome.source = source;
  return outcome;
}

}  // namespace cpis::pipeline
