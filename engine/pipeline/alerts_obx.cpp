// The OBX form of the alert (CPIS.md §5): the same content as ZCP/ZCA, in a standard segment,
// for EPRs that refuse Z-segments.

#include <algorithm>
#include <initializer_list>
#include <string>

#include "engine/domain/london_time.h"
#include "engine/pipeline/alerts_internal.h"

namespace cpis::pipeline::alerts {

namespace {

// Start and end date codes of the CP-IS ObservationType vocabulary.
struct PlanCodes {
  std::string_view plan, planText, start, startText, end, endText;
};
PlanCodes codesOf(domain::PlanType type) {
  switch (type) {
    case domain::PlanType::Cppi:
      return {"CPPI",  "Child Protection Plan Information", "CPPSD", "Child Protection Plan Start Date",
              "CPPED", "Child Protection Plan End Date"};
    case domain::PlanType::Laci:
      return {"LACI",  "Looked After Child Information", "LACSD", "Looked After Child Start Date",
              "LACED", "Looked After Child End Date"};
    case domain::PlanType::Ucpi:
      return {"UCPI",  "Unborn Child Protection Plan Information",
              "UCPSD", "Unborn Child Protection Plan Start Date",
              "UCPED", "Unborn Child Protection Plan End Date"};
  }
  return {};
}

// Writes OBX rows with consecutive set ids and one result status.
class ObxRows {
 public:
  ObxRows(const AlertOptions& options, const hl7v2::Delimiters& delimiters, hl7v2::Charset charset,
          std::string_view resultStatus, std::string& out)
      : options_(options), delimiters_(delimiters), charset_(charset), status_(resultStatus), out_(out) {}

  // OBX-2 type, OBX-3 code^text^system, OBX-4 group, OBX-5 value components; the writer is
  // returned unfinished so a caller can add OBX-14 or OBX-16.
  SegmentWriter row(std::string_view type, std::string_view code, std::string_view text,
                    std::string_view group, std::initializer_list<std::string_view> value) {
    SegmentWriter obx("OBX", delimiters_, charset_);
    obx.field(1, std::to_string(++setId_)).field(2, type);
    obx.field(3, {code, text, options_.codingSystems.cpis});
    obx.field(4, group).field(5, value).field(11, status_);
    return obx;
  }
  void add(std::string_view type, std::string_view code, std::string_view text, std::string_view group,
           std::initializer_list<std::string_view> value) {
    row(type, code, text, group, value).appendTo(out_);
  }
  void add(const SegmentWriter& obx) { obx.appendTo(out_); }

 private:
  const AlertOptions& options_;
  const hl7v2::Delimiters& delimiters_;
  hl7v2::Charset charset_;
  std::string_view status_;
  std::string& out_;
  int setId_ = 0;
};

}  // namespace

void encodeObx(const domain::CheckOutcome& outcome, const AlertOptions& options,
               const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& out) {
  using domain::CheckStatus;
  const CodingSystems& systems = options.codingSystems;
  const bool noResult =
      outcome.status == CheckStatus::CheckFailed || outcome.status == CheckStatus::NotChecked;
  ObxRows rows(options, delimiters, charset, noResult ? "X" : "F", out);
  const bool found = outcome.status == CheckStatus::Found;
  const std::size_t accesses = std::min(outcome.accesses.size(), kMaxAccesses);

  // The check: status and reason first.
  rows.add("CE", "CPIS-STATUS", "CP-IS check status", "0",
           {domain::codeOf(outcome.status), statusName(outcome.status), systems.cpis});
  if (outcome.reason) {
    rows.add("CE", "CPIS-REASON", "CP-IS check reason", "0",
             {domain::codeOf(*outcome.reason), reasonText(outcome), systems.cpis});
  }

  // One group per plan, numbered across records.
  std::size_t records = 0;
  int plan = 0;
  if (found) {
    for (const domain::CpisRecord& record : outcome.records) {
      ++records;
      for (const domain::ProtectionPlan& p : record.plans) {
        const std::string group = std::to_string(++plan);
        const PlanCodes codes = codesOf(p.type);
        rows.add("CE", codes.plan, codes.planText, group,
                 {domain::snomedCodeOf(p.type), snomedTermOf(p.type), systems.snomed});
        rows.add("DT", codes.start, codes.startText, group, {domain::hl7Date(p.start)});
        if (p.end) rows.add("DT", codes.end, codes.endText, group, {domain::hl7Date(*p.end)});
        rows.add("ST", "CPIS-PLAN-STATE", "Plan state at check time", group, {planState(outcome, p)});
        rows.add("ST", "CPIS-SUBJECT", "Plan subject", group, {domain::codeOf(record.subject)});
        rows.add("ST", "CPIS-LA-ODS", "Local authority ODS code", group, {record.la.odsCode});
        rows.add("ST", "CPIS-LA-NAME", "Local authority name", group, {record.la.name});
        if (!record.la.emergencyPhone.empty()) {
          rows.add("XTN", "CPIS-LA-EC", "Local authority emergency contact", group,
                   {record.la.emergencyPhone, "EMR", "PH"});
        }
        if (record.la.workplacePhone) {
          rows.add("XTN", "CPIS-LA-WP", "Local authority workplace contact", group,
                   {*record.la.workplacePhone, "WPN", "PH"});
        }
        rows.add("TX", "CPIS-TEXT", "CP-IS display text", group, {planDisplayText(outcome, record, p)});
      }
    }
  }

  // The rest of the check.
  if (const auto number = echoedNhsNumber(outcome); !number.empty()) {
    rows.add("CX", "CPIS-NHS-NUMBER", "NHS number checked", "0", {number, "", "", "NHS", "NH"});
  }
  rows.add("TS", "CPIS-CHECK-TIME", "CP-IS check time", "0", {domain::hl7LondonTimestamp(outcome.decidedAt)});
  rows.add("ST", "CPIS-CHECK-ID", "CP-IS check id", "0", {outcome.checkId});
  if (outcome.mode) rows.add("ST", "CPIS-MODE", "CP-IS access mode", "0", {domain::codeOf(*outcome.mode)});
  if (found) {
    rows.add("NM", "TRCR", "CP-IS record count", "0", {std::to_string(records)});
    rows.add("NM", "TRAR", "CP-IS prior access count", "0", {std::to_string(accesses)});
  }
  rows.add("ST", "CPIS-SOURCE", "CP-IS source", "0", {domain::codeOf(outcome.source)});
  rows.add("TX", "CPIS-TEXT", "CP-IS display text", "0", {displayText(outcome, options)});

  // Prior accesses, newest first.
  if (!found) return;
  for (std::size_t i = 0; i < accesses; ++i) {
    const domain::PriorAccess& access = outcome.accesses[i];
    const std::string group = "A" + std::to_string(i + 1);
    SegmentWriter cra =
        rows.row("CE", "CRA", "CP-IS record access", group, {access.orgOdsCode, access.orgName, systems.ods});
    cra.field(14, domain::hl7LondonTimestamp(access.at));
    cra.field(16, {access.asid.value_or(""), access.personName});
    rows.add(cra);
    rows.add("ST", "CPIS-ACC-KIND", "Accessor kind", group, {access.bySystem ? "SYSTEM" : "PERSON"});
    if (!access.jobRoleCode.empty() || !access.jobRoleName.empty()) {
      rows.add("CE", "CPIS-ACC-ROLE", "Accessor job role", group,
               {access.jobRoleCode, access.jobRoleName, systems.jobRole});
    }
  }
}

}  // namespace cpis::pipeline::alerts
