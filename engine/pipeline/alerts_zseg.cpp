// The ZCP and ZCA segments of CPIS.md §5.

#include <algorithm>
#include <string>

#include "engine/domain/london_time.h"
#include "engine/pipeline/alerts_internal.h"

namespace cpis::pipeline::alerts {

namespace {

// ZCP-13 to ZCP-16 and ZCP-18, the same on every ZCP of an outcome.
void checkFields(SegmentWriter& zcp, const domain::CheckOutcome& outcome, const AlertOptions& options,
                 const std::string& checkTime) {
  if (const auto number = echoedNhsNumber(outcome); !number.empty()) zcp.field(13, {number, "", "", "NHS", "NH"});
  zcp.field(14, checkTime);
  zcp.field(15, {outcome.checkId, options.checkIdAuthority});
  if (outcome.mode) zcp.field(16, domain::codeOf(*outcome.mode));
  zcp.field(18, domain::codeOf(outcome.source));
}

}  // namespace

void encodeZseg(const domain::CheckOutcome& outcome, const AlertOptions& options,
                const hl7v2::Delimiters& delimiters, hl7v2::Charset charset, std::string& out) {
  const CodingSystems& systems = options.codingSystems;
  const std::string checkTime = domain::hl7LondonTimestamp(outcome.decidedAt);
  const std::size_t accesses = std::min(outcome.accesses.size(), kMaxAccesses);

  std::size_t setId = 0;
  if (outcome.status == domain::CheckStatus::Found) {
    for (const domain::CpisRecord& record : outcome.records) {
      for (const domain::ProtectionPlan& plan : record.plans) {
        SegmentWriter zcp("ZCP", delimiters, charset);
        zcp.field(1, std::to_string(++setId)).field(2, domain::codeOf(outcome.status));
        zcp.field(4, {domain::codeOf(plan.type), domain::displayNameOf(plan.type), systems.cpis,
                      domain::snomedCodeOf(plan.type), snomedTermOf(plan.type), systems.snomed});
        zcp.field(5, domain::hl7Date(plan.start));
        if (plan.end) zcp.field(6, domain::hl7Date(*plan.end));
        zcp.field(7, planState(outcome, plan));
        zcp.field(8, domain::codeOf(record.subject));
        zcp.field(9, record.la.odsCode).field(10, record.la.name);
        if (!record.la.emergencyPhone.empty()) zcp.field(11, {record.la.emergencyPhone, "EMR", "PH"});
        if (record.la.workplacePhone) zcp.field(12, {*record.la.workplacePhone, "WPN", "PH"});
        checkFields(zcp, outcome, options, checkTime);
        zcp.field(17, std::to_string(accesses));
        zcp.field(19, planDisplayText(outcome, record, plan));
        zcp.appendTo(out);
      }
    }
  }
  if (setId == 0) {
    // Not FOUND (or, defensively, FOUND without a plan): exactly one ZCP with the plan fields empty.
    SegmentWriter zcp("ZCP", delimiters, charset);
    zcp.field(1, "1").field(2, domain::codeOf(outcome.status));
    if (outcome.reason) zcp.field(3, {domain::codeOf(*outcome.reason), reasonText(outcome), systems.cpis});
    checkFields(zcp, outcome, options, checkTime);
    zcp.field(19, displayText(outcome, options));
    zcp.appendTo(out);
    return;
  }

  for (std::size_t i = 0; i < accesses; ++i) {
    const domain::PriorAccess& access = outcome.accesses[i];
    SegmentWriter zca("ZCA", delimiters, charset);
    zca.field(1, std::to_string(i + 1));
    zca.field(2, domain::hl7LondonTimestamp(access.at));
    zca.field(3, access.orgOdsCode).field(4, access.orgName);
    if (!access.jobRoleCode.empty() || !access.jobRoleName.empty()) {
      zca.field(5, {access.jobRoleCode, access.jobRoleName, systems.jobRole});
    }
    zca.field(6, access.personName);
    zca.field(7, access.bySystem ? "SYSTEM" : "PERSON");
    zca.appendTo(out);
  }
}

}  // namespace cpis::pipeline::alerts
