#pragma once

// The CP-IS data model (CPIS.md §2): what a lookup returns and what a check decides.
// std only; every engine module (cpis client, pipeline, alerts, notify) speaks these types.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/nhs_number.h"

namespace cpis::domain {

using Date = std::chrono::year_month_day;                       // HL7 v2 DT, HL7 v3 YYYYMMDD
using Instant = std::chrono::sys_time<std::chrono::milliseconds>;  // UTC inside the engine

enum class PlanType { Cppi, Laci, Ucpi };          // CP-IS ObservationType codes
enum class SubjectKind { Child, UnbornChild };     // UnbornChild: found on the mother's number
enum class AccessMode { Unscheduled, Scheduled };  // Scheduled = silent read
enum class CheckStatus { Found, NotFound, CheckFailed, NotChecked };
enum class Source { Spine, FhirApi, Simulator };

// ZCP-3 reason codes (CPIS.md §5). The first five mean the check failed; the rest that it was
// not made.
enum class ReasonCode {
  Timeout,
  SpineUnavailable,
  SpineRejected,
  UnrecognisedResponse,
  InternalError,
  NoNhsNumber,
  NhsNumberInvalid,
  NhsNumberUnverified,
  AgeOutOfScope,
  SettingOutOfScope,
  LocationUnmapped,
  TestNumberInLive,
  NotAnAttendance,
  MessageRejected,
  Disabled,
};

struct LocalAuthority {
  std::string odsCode;
  std::string name;
  std::string emergencyPhone;                 // mandatory in CP-IS
  std::optional<std::string> workplacePhone;  // office hours, optional
  friend bool operator==(const LocalAuthority&, const LocalAuthority&) = default;
};

struct ProtectionPlan {
  PlanType type{};
  Date start{};
  std::optional<Date> end;  // absent = open; always present for Ucpi
  friend bool operator==(const ProtectionPlan&, const ProtectionPlan&) = default;
};

// One record per responsible local authority; 1..3 plans.
struct CpisRecord {
  LocalAuthority la;
  SubjectKind subject = SubjectKind::Child;
  std::vector<ProtectionPlan> plans;
  friend bool operator==(const CpisRecord&, const CpisRecord&) = default;
};

// One earlier access from an unscheduled setting. bySystem: a device author (ASID), whose
// personName is the nominated responsible person.
struct PriorAccess {
  Instant at{};
  bool bySystem = false;
  std::string personName;
  std::string jobRoleCode;
  std::string jobRoleName;
  std::string orgOdsCode;
  std::string orgName;
  std::optional<std::string> asid;
  friend bool operator==(const PriorAccess&, const PriorAccess&) = default;
};

// Text forms used on the wire (ZCP, OBX, audit, JSON). Each parse* is the inverse of its
// code*, and returns nullopt for anything else.
std::string_view codeOf(PlanType type);         // "CPPI", "LACI", "UCPI"
std::string_view codeOf(CheckStatus status);    // "FOUND", "NOT_FOUND", "CHECK_FAILED", "NOT_CHECKED"
std::string_view codeOf(ReasonCode reason);     // "TIMEOUT", ..., "DISABLED"
std::string_view codeOf(AccessMode mode);       // "UNSCHEDULED", "SCHEDULED"
std::string_view codeOf(SubjectKind subject);   // "CHILD", "UNBORN"
std::string_view codeOf(Source source);         // "SPINE", "FHIR_API", "SIMULATOR"
std::optional<PlanType> parsePlanType(std::string_view code);
std::optional<ReasonCode> parseReasonCode(std::string_view code);
std::optional<AccessMode> parseAccessMode(std::string_view code);
std::string_view snomedCodeOf(PlanType type);   // 342191000000101, 764841000000100, 818901000000100
std::string_view displayNameOf(PlanType type);  // "Child protection plan", ...
bool isFailure(ReasonCode reason);              // the CHECK_FAILED reasons

}  // namespace cpis::domain
