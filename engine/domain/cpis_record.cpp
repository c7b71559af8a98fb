#include "engine/domain/cpis_record.h"

#include <array>
#include <utility>

namespace cpis::domain {
namespace {

constexpr std::array kPlanCodes{std::pair{PlanType::Cppi, std::string_view{"CPPI"}},
                                std::pair{PlanType::Laci, std::string_view{"LACI"}},
                                std::pair{PlanType::Ucpi, std::string_view{"UCPI"}}};

constexpr std::array kReasonCodes{
    std::pair{ReasonCode::Timeout, std::string_view{"TIMEOUT"}},
    std::pair{ReasonCode::SpineUnavailable, std::string_view{"SPINE_UNAVAILABLE"}},
    std::pair{ReasonCode::SpineRejected, std::string_view{"SPINE_REJECTED"}},
    std::pair{ReasonCode::UnrecognisedResponse, std::string_view{"UNRECOGNISED_RESPONSE"}},
    std::pair{ReasonCode::InternalError, std::string_view{"INTERNAL_ERROR"}},
    std::pair{ReasonCode::NoNhsNumber, std::string_view{"NO_NHS_NUMBER"}},
    std::pair{ReasonCode::NhsNumberInvalid, std::string_view{"NHS_NUMBER_INVALID"}},
    std::pair{ReasonCode::NhsNumberUnverified, std::string_view{"NHS_NUMBER_UNVERIFIED"}},
    std::pair{ReasonCode::AgeOutOfScope, std::string_view{"AGE_OUT_OF_SCOPE"}},
    std::pair{ReasonCode::SettingOutOfScope, std::string_view{"SETTING_OUT_OF_SCOPE"}},
    std::pair{ReasonCode::LocationUnmapped, std::string_view{"LOCATION_UNMAPPED"}},
    std::pair{ReasonCode::TestNumberInLive, std::string_view{"TEST_NUMBER_IN_LIVE"}},
    std::pair{ReasonCode::NotAnAttendance, std::string_view{"NOT_AN_ATTENDANCE"}},
    std::pair{ReasonCode::MessageRejected, std::string_view{"MESSAGE_REJECTED"}},
    std::pair{ReasonCode::Disabled, std::string_view{"DISABLED"}},
};

template <typename Table, typename Enum>
std::string_view lookupCode(const Table& table, Enum value) {
  for (const auto& [e, code] : table) {
    if (e == value) return code;
  }
  return {};
}

template <typename Enum, typename Table>
std::optional<Enum> lookupValue(const Table& table, std::string_view code) {
  for (const auto& [e, text] : table) {
    if (text == code) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view codeOf(PlanType type) { return lookupCode(kPlanCodes, type); }
std::string_view codeOf(ReasonCode reason) { return lookupCode(kReasonCodes, reason); }

std::string_view codeOf(CheckStatus status) {
  switch (status) {
    case CheckStatus::Found: return "FOUND";
    case CheckStatus::NotFound: return "NOT_FOUND";
    case CheckStatus::CheckFailed: return "CHECK_FAILED";
    case CheckStatus::NotChecked: return "NOT_CHECKED";
  }
  return {};
}

std::string_view codeOf(AccessMode mode) {
  return mode == AccessMode::Unscheduled ? "UNSCHEDULED" : "SCHEDULED";
}

std::string_view codeOf(SubjectKind subject) {
  return subject == SubjectKind::Child ? "CHILD" : "UNBORN";
}

std::string_view codeOf(Source source) {
  switch (source) {
    case Source::Spine: return "SPINE";
    case Source::FhirApi: return "FHIR_API";
    case Source::Simulator: return "SIMULATOR";
  }
  return {};
}

std::optional<PlanType> parsePlanType(std::string_view code) {
  return lookupValue<PlanType>(kPlanCodes, code);
}

std::optional<ReasonCode> parseReasonCode(std::string_view code) {
  return lookupValue<ReasonCode>(kReasonCodes, code);
}

std::optional<AccessMode> parseAccessMode(std::string_view code) {
  if (code == "UNSCHEDULED") return AccessMode::Unscheduled;
  if (code == "SCHEDULED") return AccessMode::Scheduled;
  return std::nullopt;
}

std::string_view snomedCodeOf(PlanType type) {
  switch (type) {
    case PlanType::Cppi: return "342191000000101";
    case PlanType::Laci: return "764841000000100";
    case PlanType::Ucpi: return "818901000000100";
  }
  return {};
}

std::string_view displayNameOf(PlanType type) {
  switch (type) {
    case PlanType::Cppi: return "Child protection plan";
    case PlanType::Laci: return "Looked after child";
    case PlanType::Ucpi: return "Unborn child protection plan";
  }
  return {};
}

bool isFailure(ReasonCode reason) {
  switch (reason) {
    case ReasonCode::Timeout:
    case ReasonCode::SpineUnavailable:
    case ReasonCode::SpineRejected:
    case ReasonCode::UnrecognisedResponse:
    case ReasonCode::InternalError: return true;
    default: return false;
  }
}

}  // namespace cpis::domain
