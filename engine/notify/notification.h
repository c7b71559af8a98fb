#pragma once

// What the engine notifies, and the fields a notification sink receives (CPIS.md §7). The
// kinds, the keys and the data levels here are the contract with sink plugins: sinks read the
// fields through the SDK's notification_get(key); docs/notifications.md lists them for plugin
// writers. Keep the three in step.

#include <optional>
#include <string>
#include <string_view>

namespace cpis::notify {

// ---- kinds (OutboxEntry::kind) ---------------------------------------------------------------
// A check found one or more plans (any setting, when local policy asks): safeguarding sinks.
inline constexpr std::string_view kPlanFound = "plan-found";
// A check failed at registration (Spine down, time-out, circuit open): safeguarding sinks.
inline constexpr std::string_view kCheckFailed = "check-failed";
// The background re-query of a failed unscheduled check (built-in sink kRecheckSink).
inline constexpr std::string_view kDeferredCheck = "deferred-check";
// A result that arrives after the ACK (a deferred check that succeeded): to the EPR over the
// feed's return channel (built-in sink returnSinkName(feed)), as an unsolicited message.
inline constexpr std::string_view kLateResult = "late-result";
// An attendance cancelled (A11) after an unscheduled query: local sinks only.
inline constexpr std::string_view kCancelled = "cancelled";
// A deferred check that never succeeded by its deadline: an incident a person must see.
inline constexpr std::string_view kCheckAbandoned = "check-abandoned";

// ---- built-in sinks (not plugins) ------------------------------------------------------------
inline constexpr std::string_view kRecheckSink = "cpis-recheck";
// "epr-return:<feed>": the feed's return channel (an unsolicited ORU^R01 with the alerts).
inline constexpr std::string_view kReturnSinkPrefix = "epr-return:";
inline std::string returnSinkName(std::string_view feed) {
  return std::string(kReturnSinkPrefix) + std::string(feed);
}

// ---- how much patient data a sink may receive (per sink; the default carries the least) -----
enum class DataLevel {
  Minimal,      // kinds, codes, times, ids, the local authority: no patient identifiers
  Identifiers,  // + NHS number (what a safeguarding team needs to find the record)
  Full,         // + name, date of birth, plan details
};
std::optional<DataLevel> parseDataLevel(std::string_view text);  // "minimal" | "identifiers" | "full"
std::string_view toString(DataLevel level);

// ---- field keys (the JSON payload's members; sinks see those their level allows) -------------
// Always (DataLevel::Minimal):
inline constexpr std::string_view kKeyKind = "kind";                       // one of the kinds above
inline constexpr std::string_view kKeyIdempotencyKey = "idempotency_key";  // {kind}:{feed}:{visit}:{seq}
inline constexpr std::string_view kKeyFeed = "feed";
inline constexpr std::string_view kKeyOccurredAt = "occurred_at";  // ISO 8601 UTC, when it happened
inline constexpr std::string_view kKeyCheckId = "check_id";        // the CP-IS check's UUID (ZCP-15)
inline constexpr std::string_view kKeyStatus = "status";           // FOUND | NOT_FOUND | CHECK_FAILED | NOT_CHECKED
inline constexpr std::string_view kKeyReason = "reason";           // the outcome's reason code, if any
inline constexpr std::string_view kKeyCareSetting = "care_setting";  // ED, UTC_WIC, …
inline constexpr std::string_view kKeySiteOds = "site_ods";
inline constexpr std::string_view kKeyPlanCount = "plan_count";
inline constexpr std::string_view kKeyPlanTypes = "plan_types";     // e.g. "CPP,LAC"
inline constexpr std::string_view kKeyLaOds = "la_ods";             // first plan's local authority ODS code
inline constexpr std::string_view kKeyLaName = "la_name";
inline constexpr std::string_view kKeyVisitNumber = "visit_number";  // the EPR's encounter id (not a patient id)
// DataLevel::Identifiers adds:
inline constexpr std::string_view kKeyNhsNumber = "nhs_number";
// DataLevel::Full adds:
inline constexpr std::string_view kKeyFamilyName = "family_name";
inline constexpr std::string_view kKeyGivenName = "given_name";
inline constexpr std::string_view kKeyBirthDate = "birth_date";  // YYYY-MM-DD
inline constexpr std::string_view kKeyPlans = "plans";  // one line per plan: type|start|end|la_ods|la_name|phone

// ---- keys only the built-in sinks read (never given to a plugin sink) ------------------------
// kDeferredCheck: the location key the check's author and access mode were chosen by.
inline constexpr std::string_view kKeyLocationKey = "location_key";
// kDeferredCheck: when the failed check was decided, in milliseconds since 1970 UTC (the
// engine's clock): the merges a re-check follows are those noted after it.
inline constexpr std::string_view kKeyFailedAtMs = "failed_at_ms";
// kDeferredCheck: "true" or "false" when the location's terms say whether an unverified NHS
// number may be queried there (a merge's surviving number is judged by them); absent: the feed's.
inline constexpr std::string_view kKeyAcceptUnverified = "accept_unverified";
inline constexpr std::string_view kKeyAcceptMissingStatus = "accept_missing_status";  // the same, for no status
// kDeferredCheck: "true" when the failed check's query went out whole and got no answer
// (CheckOutcome::requestMayHaveArrived): the re-check's query is a possible duplicate.
inline constexpr std::string_view kKeyMayHaveArrived = "may_have_arrived";
// kLateResult: the unsolicited HL7 v2 message for the EPR, built when the result was queued, so
// that every delivery attempt sends the same bytes with the same MSH-10.
inline constexpr std::string_view kKeyHl7 = "hl7";
// The same, base64, for a message with bytes beyond ASCII: a JSON payload is UTF-8 text, and a
// feed's own character set (MSH-18 8859/1, say) is not (hl7Of() reads either).
inline constexpr std::string_view kKeyHl7Base64 = "hl7_base64";
// Every key above in this section: a plugin sink never sees them.
inline constexpr std::string_view kBuiltinOnlyKeys[] = {
    kKeyLocationKey,    kKeyFailedAtMs, kKeyAcceptUnverified, kKeyAcceptMissingStatus,
    kKeyMayHaveArrived, kKeyHl7,        kKeyHl7Base64};

}  // namespace cpis::notify
