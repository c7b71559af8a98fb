#include "engine/pipeline/alerts.h"

#include <algorithm>
#include <string>

#include "engine/domain/london_time.h"
#include "engine/pipeline/alerts_internal.h"

namespace cpis::pipeline {

namespace alerts {

namespace {

using domain::CheckStatus;
using domain::ReasonCode;

// The clause of ZCP-19 that says why there is no result.
std::string_view reasonClause(ReasonCode reason) {
  switch (reason) {
    case ReasonCode::Timeout: return "no reply from the national service";
    case ReasonCode::SpineUnavailable: return "the national service could not be reached";
    case ReasonCode::SpineRejected: return "the national service refused the query";
    case ReasonCode::UnrecognisedResponse: return "the national service's reply could not be understood";
    case ReasonCode::InternalError: return "an error in the interface engine";
    case ReasonCode::NoNhsNumber: return "no usable NHS number was sent";
    case ReasonCode::NhsNumberInvalid: return "the NHS number sent is not valid";
    case ReasonCode::NhsNumberUnverified: return "the NHS number is not verified (trace status)";
    case ReasonCode::AgeOutOfScope: return "the patient is outside the age range checked here";
    case ReasonCode::SettingOutOfScope: return "this location does not check CP-IS";
    case ReasonCode::LocationUnmapped: return "the location is not configured for CP-IS";
    case ReasonCode::TestNumberInLive: return "a test NHS number was sent to a live system";
    case ReasonCode::NotAnAttendance: return "this message does not start an attendance";
    case ReasonCode::MessageRejected: return "the message was rejected";
    case ReasonCode::Disabled: return "CP-IS checks are switched off here";
  }
  return "unknown reason";
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string accessesSentence(std::size_t count) {
  if (count == 0) return "No earlier unscheduled accesses.";
  if (count == 1) return "1 earlier unscheduled access.";
  // CP-IS keeps the 25 most recent: at 25 there may have been more, and a child who keeps
  // coming back must not read as "25".
  if (count >= kMaxAccesses) {
    return std::to_string(kMaxAccesses) + " or more earlier unscheduled accesses (CP-IS keeps the " +
           std::to_string(kMaxAccesses) + " most recent).";
  }
  return std::to_string(count) + " earlier unscheduled accesses.";
}

}  // namespace

std::string_view statusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::Found: return "Found";
    case CheckStatus::NotFound: return "Not found";
    case CheckStatus::CheckFailed: return "Check failed";
    case CheckStatus::NotChecked: return "Not checked";
  }
  return {};
}

std::string_view reasonLabel(ReasonCode reason) {
  switch (reason) {
    case ReasonCode::Timeout: return "No reply from CP-IS in time";
    case ReasonCode::SpineUnavailable: return "CP-IS unavailable";
    case ReasonCode::SpineRejected: return "Query rejected by CP-IS";
    case ReasonCode::UnrecognisedResponse: return "Unrecognised CP-IS response";
    case ReasonCode::InternalError: return "Interface engine error";
    case ReasonCode::NoNhsNumber: return "No NHS number";
    case ReasonCode::NhsNumberInvalid: return "NHS number not valid";
    case ReasonCode::NhsNumberUnverified: return "NHS number not verified";
    case ReasonCode::AgeOutOfScope: return "Age out of scope";
    case ReasonCode::SettingOutOfScope: return "Setting out of scope";
    case ReasonCode::LocationUnmapped: return "Location not mapped";
    case ReasonCode::TestNumberInLive: return "Test NHS number in LIVE";
    case ReasonCode::NotAnAttendance: return "Not an attendance";
    case ReasonCode::MessageRejected: return "Message rejected";
    case ReasonCode::Disabled: return "CP-IS checks disabled";
  }
  return {};
}

std::string_view snomedTermOf(domain::PlanType type) {
  switch (type) {
    case domain::PlanType::Cppi: return "Subject to child protection plan";
    case domain::PlanType::Laci: return "Looked after child";
    case domain::PlanType::Ucpi: return "Unborn child subject to child protection plan";
  }
  return {};
}

std::string reasonText(const domain::CheckOutcome& outcome) {
  if (!outcome.reasonText.empty()) return outcome.reasonText;
  return outcome.reason ? std::string(reasonLabel(*outcome.reason)) : std::string{};
}

std::string_view planState(const domain::CheckOutcome& outcome, const domain::ProtectionPlan& plan) {
  return plan.end && *plan.end < domain::londonDate(outcome.decidedAt) ? "ENDED" : "ACTIVE";
}

std::string laContactText(const domain::LocalAuthority& la) {
  if (!la.emergencyPhone.empty()) return la.name + ", emergency " + la.emergencyPhone;
  // CP-IS makes the emergency number mandatory; a record without one is still shown (failing
  // the check would hide the plan), saying so rather than showing "emergency" and nothing.
  if (la.workplacePhone)
    return la.name + ", no emergency number in CP-IS, office hours " + *la.workplacePhone;
  return la.name + ", no telephone number in CP-IS";
}

std::string planDisplayText(const domain::CheckOutcome& outcome, const domain::CpisRecord& record,
                            const domain::ProtectionPlan& plan) {
  std::string text = "CP-IS: " + upper(domain::displayNameOf(plan.type));
  if (record.subject == domain::SubjectKind::UnbornChild) {
    text += " (unborn child, on the mother's NHS number)";
  }
  // A start after today (a plan CP-IS holds ahead of its date): "since" would say it runs now.
  const std::string began = plan.start > domain::londonDate(outcome.decidedAt) ? " starting " : " since ";
  if (!plan.end) {
    text += began + domain::displayDate(plan.start) + " (no end date).";
  } else if (planState(outcome, plan) == "ENDED") {
    text +=
        " from " + domain::displayDate(plan.start) + " to " + domain::displayDate(*plan.end) + " (ENDED).";
  } else {
    text += began + domain::displayDate(plan.start) + ", ends " + domain::displayDate(*plan.end) + ".";
  }
  text += " " + laContactText(record.la) + ". ";
  text += accessesSentence(std::min(outcome.accesses.size(), kMaxAccesses));
  if (outcome.mode == domain::AccessMode::Scheduled) {
    text += " Silent read: the local authority is not notified.";
  }
  return text;
}

}  // namespace alerts

std::string_view toString(AlertEncoding encoding) {
  switch (encoding) {
    case AlertEncoding::Zseg: return "ZSEG";
    case AlertEncoding::Obx: return "OBX";
    case AlertEncoding::None: return "NONE";
  }
  return {};
}

std::optional<AlertEncoding> parseAlertEncoding(std::string_view text) {
  if (text == "ZSEG") return AlertEncoding::Zseg;
  if (text == "OBX") return AlertEncoding::Obx;
  if (text == "NONE") return AlertEncoding::None;
  return std::nullopt;
}

std::string displayText(const domain::CheckOutcome& outcome, const AlertOptions& options) {
  using domain::CheckStatus;
  const bool notSent =
      outcome.reason == domain::ReasonCode::Timeout && outcome.reasonText.starts_with(domain::kQueryNotSent);
  const std::string_view clause = notSent          ? std::string_view("the query could not be sent in time")
                                  : outcome.reason ? alerts::reasonClause(*outcome.reason)
                                                   : std::string_view("no reason recorded");
  switch (outcome.status) {
    case CheckStatus::Found: return alertSummary(outcome) + ".";
    case CheckStatus::NotFound:
      return "CP-IS: no child protection plan, looked after child or unborn child plan is recorded for this "
             "NHS "
             "number.";
    case CheckStatus::CheckFailed: {
      std::string text = "CP-IS CHECK FAILED: " + std::string(clause) +
                         ". This is NOT a negative result - check CP-IS in NCRS.";
      if (options.failedChecksRetried && outcome.mode == domain::AccessMode::Unscheduled &&
          !outcome.retryNotAnnounced) {
        text += " Automatic retry in progress.";
      }
      return text;
    }
    case CheckStatus::NotChecked:
      return "CP-IS NOT CHECKED: " + std::string(clause) +
             ". This is NOT a negative result - check CP-IS in NCRS if this patient needs a check.";
  }
  return {};
}

bool anyError(std::span<const core::Issue> issues) {
  return std::any_of(issues.begin(), issues.end(),
                     [](const core::Issue& i) { return i.severity == core::Severity::Error; });
}

std::string alertSummary(const domain::CheckOutcome& outcome) {
  using domain::CheckStatus;
  switch (outcome.status) {
    case CheckStatus::Found: {
      const std::size_t plans = outcome.planCount();
      return "CP-IS: " + std::to_string(plans) + (plans == 1 ? " plan found" : " plans found");
    }
    case CheckStatus::NotFound: return "CP-IS: no plan found";
    case CheckStatus::CheckFailed: return "CP-IS CHECK FAILED - not a negative result";
    case CheckStatus::NotChecked: {
      const std::string reason =
          outcome.reason ? " (" + std::string(domain::codeOf(*outcome.reason)) + ")" : "";
      return "CP-IS NOT CHECKED" + reason + " - not a negative result";
    }
  }
  return {};
}

void encodeAlerts(const domain::CheckOutcome& outcome, const AlertOptions& options,
                  const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& segmentsOut) {
  switch (options.encoding) {
    case AlertEncoding::Zseg: alerts::encodeZseg(outcome, options, delimiters, charset, segmentsOut); break;
    case AlertEncoding::Obx: alerts::encodeObx(outcome, options, delimiters, charset, segmentsOut); break;
    case AlertEncoding::None: break;
  }
}

std::string buildAlertAck(const hl7v2::Message& inbound, hl7v2::AckCode code,
                          std::span<const core::Issue> issues, hl7v2::AckOptions ack,
                          const domain::CheckOutcome& outcome, const AlertOptions& options) {
  if (ack.textMessage.empty() && !anyError(issues)) ack.textMessage = alertSummary(outcome);
  std::string out = hl7v2::buildAck(inbound, code, issues, ack);
  encodeAlerts(outcome, options, inbound.delimiters(), inbound.charset(), out);
  return out;
}

void appendAlerts(std::string& ack, const domain::CheckOutcome& outcome, const AlertOptions& options) {
  hl7v2::Delimiters delimiters;
  hl7v2::Charset charset = hl7v2::Charset::Ascii;
  if (const auto parsed = hl7v2::parse(std::string_view(ack))) {
    delimiters = parsed->delimiters();
    charset = parsed->charset();
  }
  encodeAlerts(outcome, options, delimiters, charset, ack);
}

}  // namespace cpis::pipeline
