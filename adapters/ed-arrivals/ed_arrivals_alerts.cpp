#include "adapters/ed-arrivals/ed_arrivals_alerts.h"

#include <stdexcept>
#include <string_view>
#include <vector>

namespace cpis::adapters::ed_arrivals {
namespace {

// The abbreviations ED staff use on the board.
std::string_view shortName(std::string_view planType) {
  if (planType == "CPPI") return "CPP";
  if (planType == "LACI") return "LAC";
  if (planType == "UCPI") return "UCP";
  return "plan";
}

}  // namespace

std::string boardNote(const sdk::CheckOutcome& outcome, std::uint32_t width) {
  std::string note;
  if (outcome.found()) {
    std::vector<std::string_view> seen;
    note = "CP-IS ALERT: ";
    for (const sdk::CheckOutcome::Plan& plan : outcome.plans()) {
      const std::string_view name = shortName(plan.typeCode());
      bool repeated = false;
      for (const std::string_view earlier : seen) repeated = repeated || earlier == name;
      if (repeated) continue;
      if (!seen.empty()) note += ", ";
      note += name;
      seen.push_back(name);
    }
    note += " - see CP-IS details";
  } else if (outcome.notFound()) {
    note = "CP-IS: no plan found";
  } else if (outcome.checkFailed()) {
    note = "CP-IS CHECK FAILED - not a negative result";
  } else {
    note = "CP-IS NOT CHECKED - not a negative result";
  }
  if (note.size() > width) note = note.substr(0, width - 3) + "...";  // FOUND only: width >= 45
  return note;
}

void writeAlerts(const sdk::CheckOutcome& outcome, const EdArrivalsConfig& config, sdk::AlertWriter& out) {
  if (!out.standardAlerts(sdk::AlertEncoding::FeedDefault)) {
    throw std::runtime_error("the engine offers no standard alert encoder here");
  }
  if (!config.boardNote) return;
  // NTE-2 O: the comment comes from another system; NTE-4 RE: a remark (HL7 table 0364).
  out.segment("NTE")
      .field(1, "1")
      .field(2, "O")
      .field(3, boardNote(outcome, config.boardNoteLength))
      .components(4, {"RE", "Remark", "HL70364"});
}

}  // namespace cpis::adapters::ed_arrivals
