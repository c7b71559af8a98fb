#pragma once

// An attendance: what an adapter (mapping file plus plugin code) makes of one ADT message, and
// the outcome of the CP-IS check made for it (CPIS.md §2, §4, §8). std only.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/issue.h"
#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::domain {

// What the trigger event means for the attendance (CPIS.md §4; the mapping file decides).
// Reopen: A13 (cancel discharge); the attendance goes on, and is not checked again (CPIS.md §4).
// Merge: A40 (merge patient); no attendance and no query. The engine records that the NHS number
// Attendance::priorNhsNumber was merged into nhsNumber: checks still owed on it move to the
// surviving number (docs/architecture.md).
enum class AttendanceEvent { Start, Update, End, Cancel, NotAnAttendance, Reopen, Merge };
// Whether the event is about an attendance (the mapping's required fields apply to it), not a
// person-level message: everything but NOT_AN_ATTENDANCE and MERGE.
constexpr bool aboutAnAttendance(AttendanceEvent event) {
  return event != AttendanceEvent::NotAnAttendance && event != AttendanceEvent::Merge;
}

// PID-32 NHS number trace status; only Nsts01 counts as verified by default.
enum class NhsNumberStatus { Nsts01 = 1, Nsts02, Nsts03, Nsts04, Nsts05, Nsts06, Nsts07, Nsts08, Absent };

// Internal care-setting codes (CPIS.md §8): CP-IS itself has none.
enum class CareSetting {
  Ed, UtcWic, Miu, GpOoh, Nhs111, Ambulance, Maternity, PaedWard,
  GpInHours, Camhs, SexualHealthTop, Sarc, Zero19, CommunityPaeds, DentalAcute, DentalCommunity,
  OutOfScope,
};

enum class Sex { Unknown, Female, Male, Other };

struct PatientName {
  std::string family;
  std::string given;
  friend bool operator==(const PatientName&, const PatientName&) = default;
};

// What the mapping's location table says of checks at one location beyond its setting and
// access mode (CPIS.md §8): the matching <location> row's attributes, else those of its setting's
// <setting> entry. Unset: the feed's rule.
struct LocationTerms {
  std::optional<int> maxAgeYears;                 // 0: no age limit
  std::optional<bool> acceptUnverifiedNhsNumber;  // NSTS02, NSTS08: a clinical safety officer's decision
  std::optional<bool> acceptMissingTraceStatus;   // no PID-32 at all: likewise
  std::optional<bool> emitOutOfScope;             // OUT_OF_SCOPE only: a NOT_CHECKED alert or none
  std::optional<bool> enabled;                    // false: not checked here (DISABLED)

  // These terms, with what they leave unset taken from `fallback`.
  LocationTerms over(const LocationTerms& fallback) const {
    return LocationTerms{maxAgeYears ? maxAgeYears : fallback.maxAgeYears,
                         acceptUnverifiedNhsNumber ? acceptUnverifiedNhsNumber : fallback.acceptUnverifiedNhsNumber,
                         acceptMissingTraceStatus ? acceptMissingTraceStatus : fallback.acceptMissingTraceStatus,
                         emitOutOfScope ? emitOutOfScope : fallback.emitOutOfScope,
                         enabled ? enabled : fallback.enabled};
  }
  friend bool operator==(const LocationTerms&, const LocationTerms&) = default;
};

struct Attendance {
  // source
  std::string feedId;
  std::string controlId;    // MSH-10
  std::string triggerEvent; // MSH-9.2 / EVN-1, e.g. "A04"
  AttendanceEvent event = AttendanceEvent::NotAnAttendance;
  // The event is scheduled by nature (A05 pre-admit, A14 pending): a silent read at most.
  bool scheduledOnly = false;

  // patient
  std::optional<NhsNumber> nhsNumber;      // valid (modulus 11) or absent
  std::string nhsNumberProblem;            // why a present value was refused, never the value
  // No NHS number taken, but a value that passes the NHS number check at a path the mapping reads,
  // which one of its conditions passed over: where, and why ("PID-3(2).1 passes the NHS number
  // check but the mapping passed it over: PID-3(2).5 is 'NHSNBR'"), never the number nor a
  // patient's field (mapping.cpp). For the reason text only.
  std::string nhsNumberPassedOver;
  std::optional<RefusedNhsNumber> refusedNhsNumber;  // that value, for ZCP-13 only
  // Where nhsNumber was read ("PID-3(2).1"), or "the adapter" when an adapter plugin set another:
  // for --dry-run, so that an engineer sees which repetition the mapping took without the number.
  std::string nhsNumberFrom;
  // A merge (A40): the NHS number of the record merged away (MRG-1), when valid. nhsNumber is
  // the surviving record's.
  std::optional<NhsNumber> priorNhsNumber;
  // A merge message whose structure (ADT_A39) repeats the PID/MRG group, one merge a group: the
  // first group's is in nhsNumber, priorNhsNumber and nhsStatus; the others', each read by the
  // same mapping and adapter as a message of its own, here in message order.
  struct FurtherMerge {
    std::optional<NhsNumber> surviving;
    std::optional<NhsNumber> prior;
    NhsNumberStatus status = NhsNumberStatus::Absent;
    friend bool operator==(const FurtherMerge&, const FurtherMerge&) = default;
  };
  std::vector<FurtherMerge> furtherMerges;
  NhsNumberStatus nhsStatus = NhsNumberStatus::Absent;
  // The message carried a trace status nobody could read ("4", "NSTS4", a local code): nhsStatus
  // is then Absent, but this is not a feed that sends no status. It may stand for NSTS04 (traced,
  // no match: perhaps another person's number), so no switch admits it (CPIS.md §4, hazard H1).
  bool nhsStatusUnreadable = false;
  PatientName name;
  std::optional<Date> birthDate;
  Sex sex = Sex::Unknown;
  bool pregnant = false;
  // The message's pregnancy value was neither Y nor N (once mapped): the age rule treats her as
  // pregnant (a needless access is the lesser harm than an unborn child's plan unseen).
  bool pregnancyUnreadable = false;
  std::optional<Date> expectedDeliveryDate;

  // encounter
  std::string visitNumber;                 // PV1-19: the attendance key with the feed
  std::optional<Instant> arrivedAt;        // PV1-44, else EVN-6, else EVN-2
  std::string locationKey;                 // the key the location table matched
  std::optional<CareSetting> setting;      // absent = location unmapped
  // The setting came from the mapping's default location rule (`otherwise`), and no row of its
  // table names this location (a row that names it and whose conditions left the message out is
  // the table's word on it): a location nobody mapped (hazard H4), reported when that rule puts
  // it out of scope. An adapter that sets the care setting clears it.
  bool settingByDefault = false;
  std::string siteOdsCode;                 // PV1-3.4
  std::string department;                  // PV1-3.1
  std::string patientClass;                // PV1-2
  // The mapping file's access mode for this location or setting; absent = it says none and the
  // feed's policy (or the CPIS.md §8 default) decides.
  std::optional<AccessMode> accessMode;
  // An adapter plugin wrote accessMode itself: it stays when the plugin moves the attendance to
  // another care setting (pipeline::Adapter), whatever that setting's <settings> entry says.
  bool accessModeByAdapter = false;
  // The mapping file's other terms for this location or setting (maximum age, unverified
  // numbers, out-of-scope alerts, checks off).
  LocationTerms locationTerms;

  // Values the mapping could not read in fields it does not require (a date that is not one):
  // taken as absent, so the check still runs (CPIS.md §8: no birth date, check anyway). Severity
  // W; they reach the ACK's ERR segments and the log, and never quote the value.
  std::vector<core::Issue> warnings;
};

// The number a patient merge (A40) says a retired NHS number lives on as, for a check still owed
// on the retired one (CPIS.md §4, hazard H1), and why the feed may not query it, if it may not
// (the rules and codes, never a number; empty when it may).
struct MergedNumber {
  NhsNumber surviving;
  std::string refused;
  std::optional<ReasonCode> refusedReason;  // with `refused`: NHS_NUMBER_UNVERIFIED, TEST_NUMBER_IN_LIVE
};

// The number the EPR moved an attendance to since a check of it failed (a later message carried
// another valid NHS number that was not checked, or only read silently): the failed number is
// then not the child's. While the check of that message has not ended, `checkPending`; once it
// was not checked, why. `readSilently`: it was read silently since (a scheduled setting, answered
// or failed), which recorded no access and told no local authority.
struct MovedNumber {
  NhsNumber number;
  bool checkPending = false;
  std::optional<ReasonCode> notCheckedReason;
  bool readSilently = false;
};

// The outcome of one attendance check: drives the ACK's alert segments, the audit and the outbox.
struct CheckOutcome {
  CheckStatus status = CheckStatus::NotChecked;
  std::optional<ReasonCode> reason;        // required for CheckFailed and NotChecked
  std::string reasonText;                  // human text for ZCP-3.2, never patient data
  std::optional<NhsNumber> queried;
  // Not checked because the NHS number was refused (NHS_NUMBER_INVALID, or a refused message
  // that held one): the value as sent, echoed in ZCP-13 instead of `queried`.
  std::optional<RefusedNhsNumber> refusedNhsNumber;
  std::optional<AccessMode> mode;          // empty only for NotChecked
  std::vector<CpisRecord> records;         // non-empty if and only if Found
  // Plans over every record, as the ACK counts them ("CP-IS: 3 plans found").
  std::size_t planCount() const noexcept {
    std::size_t count = 0;
    for (const auto& record : records) count += record.plans.size();
    return count;
  }
  std::vector<PriorAccess> accesses;       // 0..25, newest first
  Instant decidedAt{};
  std::string checkId;                     // UUID, also the HL7 v3 query's event id
  Source source = Source::Spine;
  // CheckFailed: a query went out whole and no answer came; Spine may have recorded the access
  // and told the LA. Its deferred check's query is then a possible duplicate (CPIS.md §7).
  bool requestMayHaveArrived = false;
  // CheckFailed shown again once its deferred re-check may be over (an unreadable reply repeated
  // for a later update; any failure whose deferred check is dead or past its deadline): the alert
  // asks for the check by hand and announces no automatic retry.
  bool retryNotAnnounced = false;
};

// How the reason text of a TIMEOUT begins when the query was never sent (no query slot, or its
// visit's earlier check, before the ACK's deadline left room for it): the display text then
// says the query could not be sent in time, not that the national service did not reply.
inline constexpr std::string_view kQueryNotSent = "query not sent";

std::string_view codeOf(CareSetting setting);                    // "ED", "UTC_WIC", ...
std::optional<CareSetting> parseCareSetting(std::string_view code);
AccessMode defaultAccessMode(CareSetting setting);               // CPIS.md §8 defaults
std::string_view codeOf(NhsNumberStatus status);                 // "NSTS01".."NSTS08", ""
std::optional<NhsNumberStatus> parseNhsNumberStatus(std::string_view code);
// HL7 table 0445 (identity reliability: AL, UA, UD, US), which v2.5.1 carries in PID-32 too:
// codes that say nothing of the NHS number's trace, so a PID-32 of these alone has no status.
bool isIdentityReliabilityCode(std::string_view code);
std::string_view codeOf(AttendanceEvent event);                  // "START", ..., "NOT_AN_ATTENDANCE"
std::optional<AttendanceEvent> parseAttendanceEvent(std::string_view code);
std::string_view codeOf(Sex sex);                                // HL7 table 0001: "F", "M", "O", "U"
// HL7 table 0001: F, M, O, U, plus A (ambiguous: Other) and N (not applicable: Unknown).
std::optional<Sex> parseSex(std::string_view code);

// Completed years of age on `on` (both calendar dates, no time zone). Someone born on 29
// February becomes a year older on 1 March in other years, as UK law counts it. Negative when
// `on` is before the birth date.
int ageInYears(Date birthDate, Date on);

}  // namespace cpis::domain
