#include "adapters/legacy-v23/legacy_v23_alerts.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/legacy-v23/legacy_v23_time.h"

namespace cpis::adapters::legacy_v23 {
namespace {

constexpr std::size_t kMaxAccesses = 25;  // CP-IS returns at most 25; never write more

std::string_view statusName(std::string_view status) {
  if (status == "FOUND") return "Found";
  if (status == "NOT_FOUND") return "Not found";
  if (status == "CHECK_FAILED") return "Check failed";
  return "Not checked";
}

// Short labels for the reason codes (ZCP-3 / CPIS.md section 5), used when the engine gives no
// reason text of its own.
std::string_view reasonLabel(std::string_view reason) {
  struct Row {
    std::string_view code, label;
  };
  static constexpr Row kRows[] = {
      {"TIMEOUT", "No reply from CP-IS in time"},
      {"SPINE_UNAVAILABLE", "CP-IS unavailable"},
      {"SPINE_REJECTED", "Query rejected by CP-IS"},
      {"UNRECOGNISED_RESPONSE", "Unrecognised CP-IS response"},
      {"INTERNAL_ERROR", "Interface engine error"},
      {"NO_NHS_NUMBER", "No NHS number"},
      {"NHS_NUMBER_INVALID", "NHS number not valid"},
      {"NHS_NUMBER_UNVERIFIED", "NHS number not verified"},
      {"AGE_OUT_OF_SCOPE", "Age out of scope"},
      {"SETTING_OUT_OF_SCOPE", "Setting out of scope"},
      {"LOCATION_UNMAPPED", "Location not mapped"},
      {"TEST_NUMBER_IN_LIVE", "Test NHS number in LIVE"},
      {"NOT_AN_ATTENDANCE", "Not an attendance"},
      {"MESSAGE_REJECTED", "Message rejected"},
      {"DISABLED", "CP-IS checks disabled"},
  };
  for (const Row& row : kRows) {
    if (row.code == reason) return row.label;
  }
  return "Reason not recorded";
}

// The CP-IS ObservationType codes of a plan type and its SNOMED CT term.
struct PlanCodes {
  std::string_view plan, planText, start, startText, end, endText, term, name;
};
PlanCodes codesOf(std::string_view type) {
  if (type == "LACI") {
    return {"LACI",
            "Looked After Child Information",
            "LACSD",
            "Looked After Child Start Date",
            "LACED",
            "Looked After Child End Date",
            "Looked after child",
            "LOOKED AFTER CHILD"};
  }
  if (type == "UCPI") {
    return {"UCPI",
            "Unborn Child Protection Plan Information",
            "UCPSD",
            "Unborn Child Protection Plan Start Date",
            "UCPED",
            "Unborn Child Protection Plan End Date",
            "Unborn child subject to child protection plan",
            "UNBORN CHILD PROTECTION PLAN"};
  }
  return {"CPPI",
          "Child Protection Plan Information",
          "CPPSD",
          "Child Protection Plan Start Date",
          "CPPED",
          "Child Protection Plan End Date",
          "Subject to child protection plan",
          "CHILD PROTECTION PLAN"};
}

Date dateOf(std::string_view yyyymmdd) {
  const auto date = parseDate(yyyymmdd);
  if (!date) throw std::runtime_error("the engine gave a plan date that is not YYYYMMDD");
  return *date;
}

Instant instantOf(std::string_view text) {
  const auto instant = parseInstant(text);
  if (!instant) throw std::runtime_error("the engine gave a time that is not an HL7 DTM");
  return *instant;
}

// ENDED when the plan's end date is before the London date of the check.
bool ended(const sdk::CheckOutcome::Plan& plan, Date today) {
  const auto end = plan.endDate();
  return end && dateOf(*end) < today;
}

// The local authority and how to reach it: "Name, emergency NUMBER", or what CP-IS left out
// (its emergency number is mandatory there; a record without one is still shown).
std::string laContact(const sdk::CheckOutcome::Record& record) {
  std::string text(record.laName());
  if (!record.emergencyPhone().empty()) return text + ", emergency " + std::string(record.emergencyPhone());
  if (const auto workplace = record.workplacePhone()) {
    return text + ", no emergency number in CP-IS, office hours " + std::string(*workplace);
  }
  return text + ", no telephone number in CP-IS";
}

std::string accessesSentence(std::size_t count) {
  if (count == 0) return "No earlier unscheduled accesses.";
  if (count == 1) return "1 earlier unscheduled access.";
  return std::to_string(count) + " earlier unscheduled accesses.";
}

std::string reasonText(const sdk::CheckOutcome& outcome) {
  const std::string_view text = outcome.reasonText();
  return std::string(text.empty() ? reasonLabel(outcome.reasonCode()) : text);
}

// One line for the PAS's alert banner.
std::string bannerText(const sdk::CheckOutcome& outcome, Date today, std::size_t accesses) {
  if (outcome.found()) {
    std::string text = "CP-IS ALERT: ";
    bool firstRecord = true;
    for (const sdk::CheckOutcome::Record& record : outcome.records()) {
      if (!firstRecord) text += "; ";
      firstRecord = false;
      bool firstPlan = true;
      for (const sdk::CheckOutcome::Plan& plan : record.plans()) {
        if (!firstPlan) text += " and ";
        firstPlan = false;
        text += codesOf(plan.typeCode()).name;
        if (ended(plan, today)) text += " (ENDED)";
      }
      text += " (" + laContact(record) + ")";
    }
    text += ". " + accessesSentence(accesses);
    if (outcome.accessMode() == "SCHEDULED") text += " Silent read: the local authority is not notified.";
    return text;
  }
  if (outcome.notFound()) {
    return "CP-IS: no child protection plan, looked after child or unborn child plan is recorded for this "
           "NHS "
           "number.";
  }
  if (outcome.checkFailed()) {
    return "CP-IS CHECK FAILED (" + reasonText(outcome) +
           "). This is NOT a negative result - check CP-IS in NCRS.";
  }
  return "CP-IS NOT CHECKED (" + reasonText(outcome) +
         "). This is NOT a negative result - check CP-IS in NCRS if this patient needs a check.";
}

std::string planText(const sdk::CheckOutcome::Record& record, const sdk::CheckOutcome::Plan& plan, Date today,
                     bool silentRead) {
  std::string text = "CP-IS: " + std::string(codesOf(plan.typeCode()).name);
  if (record.subject() == "UNBORN") text += " (unborn child, on the mother's NHS number)";
  const std::string start = displayDate(dateOf(plan.startDate()));
  if (const auto end = plan.endDate()) {
    const std::string until = displayDate(dateOf(*end));
    text += ended(plan, today) ? " from " + start + " to " + until + " (ENDED)."
                               : " since " + start + ", ends " + until + ".";
  } else {
    text += " since " + start + " (no end date).";
  }
  text += " " + laContact(record) + ".";
  if (silentRead) text += " Silent read: the local authority is not notified.";
  return text;
}

// OBX rows with consecutive set ids, one result status and the trust's coding systems.
class ObxRows {
 public:
  ObxRows(sdk::AlertWriter& out, const CodingSystems& systems, std::string_view resultStatus)
      : out_(out), systems_(systems), status_(resultStatus) {}

  // OBX-1, OBX-2 value type, OBX-3 code^text^system, OBX-4 group, OBX-11; the caller adds OBX-5
  // and anything else.
  sdk::SegmentWriter row(std::string_view type, std::string_view code, std::string_view text,
                         std::string_view group) {
    sdk::SegmentWriter obx = out_.segment("OBX");
    obx.field(1, std::to_string(++setId_)).field(2, type).components(3, {code, text, systems_.cpis});
    obx.field(4, group).field(11, status_);
    return obx;
  }
  void value(std::string_view type, std::string_view code, std::string_view text, std::string_view group,
             std::string_view value) {
    row(type, code, text, group).field(5, value);
  }

 private:
  sdk::AlertWriter& out_;
  const CodingSystems& systems_;
  std::string_view status_;
  int setId_ = 0;
};

}  // namespace

void writeObxAlerts(const sdk::CheckOutcome& outcome, const ObxOptions& options, sdk::AlertWriter& out) {
  const CodingSystems& systems = options.systems;
  const Instant decidedAt = instantOf(outcome.decidedAt());
  const Date today = londonDate(decidedAt);
  const bool found = outcome.found();
  const bool noResult = outcome.checkFailed() || outcome.notChecked();
  const std::vector<sdk::CheckOutcome::Access> accesses =
      found ? outcome.accesses() : std::vector<sdk::CheckOutcome::Access>{};
  const std::size_t accessCount = std::min(accesses.size(), kMaxAccesses);
  const std::size_t accessRows = std::min<std::size_t>(accessCount, options.maxAccessRows);
  ObxRows rows(out, systems, noResult ? "X" : "F");

  // The check, banner text first.
  rows.value("TX", "CPIS-TEXT", "CP-IS display text", "0", bannerText(outcome, today, accessCount));
  const std::string_view status = outcome.status();
  rows.row("CE", "CPIS-STATUS", "CP-IS check status", "0")
      .components(5, {status, statusName(status), systems.cpis});
  if (const std::string_view reason = outcome.reasonCode(); !reason.empty()) {
    rows.row("CE", "CPIS-REASON", "CP-IS check reason", "0")
        .components(5, {reason, reasonText(outcome), systems.cpis});
  }
  // The number checked, else a refused one as the PAS sent it (so the clerk sees which).
  if (const auto nhsNumber = outcome.nhsNumber() ? outcome.nhsNumber() : outcome.refusedNhsNumber()) {
    rows.row("CX", "CPIS-NHS-NUMBER", "NHS number checked", "0")
        .components(5, {*nhsNumber, "", "", "NHS", "NH"});
  }
  rows.value("TS", "CPIS-CHECK-TIME", "CP-IS check time", "0",
             londonTimestamp(decidedAt, options.timeOffsets));
  rows.value("ST", "CPIS-CHECK-ID", "CP-IS check id", "0", outcome.checkId());
  if (const std::string_view mode = outcome.accessMode(); !mode.empty()) {
    rows.value("ST", "CPIS-MODE", "CP-IS access mode", "0", mode);
  }
  rows.value("ST", "CPIS-SOURCE", "CP-IS source", "0", outcome.source());
  if (!found) return;

  const std::vector<sdk::CheckOutcome::Record> records = outcome.records();
  rows.value("NM", "TRCR", "CP-IS record count", "0", std::to_string(records.size()));
  rows.value("NM", "TRAR", "CP-IS prior access count", "0", std::to_string(accessCount));
  if (accessRows < accessCount) {
    rows.value("NM", "CPIS-ACC-NOT-SENT", "Prior accesses not sent as rows", "0",
               std::to_string(accessCount - accessRows));
  }

  // One group per plan, numbered across records.
  const bool silentRead = outcome.accessMode() == "SCHEDULED";
  int group = 0;
  for (const sdk::CheckOutcome::Record& record : records) {
    for (const sdk::CheckOutcome::Plan& plan : record.plans()) {
      const std::string g = std::to_string(++group);
      const PlanCodes codes = codesOf(plan.typeCode());
      rows.row("CE", codes.plan, codes.planText, g)
          .components(5, {plan.snomedCode(), codes.term, systems.snomed});
      rows.value("DT", codes.start, codes.startText, g, plan.startDate());
      if (const auto end = plan.endDate()) rows.value("DT", codes.end, codes.endText, g, *end);
      rows.value("ST", "CPIS-PLAN-STATE", "Plan state at check time", g,
                 ended(plan, today) ? "ENDED" : "ACTIVE");
      rows.value("ST", "CPIS-SUBJECT", "Plan subject", g, record.subject());
      rows.value("ST", "CPIS-LA-ODS", "Local authority ODS code", g, record.laOdsCode());
      rows.value("ST", "CPIS-LA-NAME", "Local authority name", g, record.laName());
      if (!record.emergencyPhone().empty()) {
        rows.row("XTN", "CPIS-LA-EC", "Local authority emergency contact", g)
            .components(5, {record.emergencyPhone(), "EMR", "PH"});
      }
      if (const auto workplace = record.workplacePhone()) {
        rows.row("XTN", "CPIS-LA-WP", "Local authority workplace contact", g)
            .components(5, {*workplace, "WPN", "PH"});
      }
      rows.value("TX", "CPIS-TEXT", "CP-IS display text", g, planText(record, plan, today, silentRead));
    }
  }

  // Prior unscheduled accesses, newest first.
  for (std::size_t i = 0; i < accessRows; ++i) {
    const sdk::CheckOutcome::Access& access = accesses[i];
    const std::string g = "A" + std::to_string(i + 1);
    const std::optional<std::string_view> asid = access.asid();
    rows.row("CE", "CRA", "CP-IS record access", g)
        .components(5, {access.orgOdsCode(), access.orgName(), systems.ods})
        .field(14, londonTimestamp(instantOf(access.at()), options.timeOffsets))
        .components(16, {asid.value_or(""), access.personName()});
    rows.value("ST", "CPIS-ACC-KIND", "Accessor kind", g, access.bySystem() ? "SYSTEM" : "PERSON");
    if (!access.jobRoleCode().empty() || !access.jobRoleName().empty()) {
      rows.row("CE", "CPIS-ACC-ROLE", "Accessor job role", g)
          .components(5, {access.jobRoleCode(), access.jobRoleName(), systems.jobRole});
    }
  }
}

}  // namespace cpis::adapters::legacy_v23
