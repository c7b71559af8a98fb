#include "adapters/ed-arrivals/ed_arrivals_alerts.h"

#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

// Europe/London from the rules, as the legacy PAS adapter reads it (compiled into this plugin too).
#include "adapters/legacy-v23/legacy_v23_time.h"

namespace cpis::adapters::ed_arrivals {
namespace {

// The abbreviations ED staff use on the board.
std::string_view shortName(std::string_view planType) {
  if (planType == "CPPI") return "CPP";
  if (planType == "LACI") return "LAC";
  if (planType == "UCPI") return "UCP";
  return "plan";
}

// The London date of the check (ZCP-7's rule: a plan whose end date is before it has ENDED), or
// nullopt when the engine's time does not read.
std::optional<legacy_v23::Date> checkDate(const sdk::CheckOutcome& outcome) {
  const auto at = legacy_v23::parseInstant(outcome.decidedAt());
  if (!at) return std::nullopt;
  return legacy_v23::londonDate(*at);
}

bool ended(const sdk::CheckOutcome::Plan& plan, const std::optional<legacy_v23::Date>& today) {
  const auto end = plan.endDate();
  if (!end || !today) return false;
  const auto date = legacy_v23::parseDate(*end);
  return date && *date < *today;
}

}  // namespace

std::string boardNote(const sdk::CheckOutcome& outcome, std::uint32_t width) {
  if (outcome.found()) {
    // Plans in force first, ended ones after, marked: CPIS.md §2 (never assume a plan returned is
    // a plan in force). A line longer than the board's width keeps whole labels only, as many as
    // fit, then "...": it loses the ended ones first, and never cuts "(ended)" off a plan.
    const auto today = checkDate(outcome);
    std::vector<std::string> labels;
    for (const bool endedOnes : {false, true}) {
      for (const sdk::CheckOutcome::Plan& plan : outcome.plans()) {
        if (ended(plan, today) != endedOnes) continue;
        std::string label(shortName(plan.typeCode()));
        if (endedOnes) label += " (ended)";
        bool repeated = false;
        for (const std::string& earlier : labels) repeated = repeated || earlier == label;
        if (!repeated) labels.push_back(std::move(label));
      }
    }
    std::string list;
    for (std::size_t i = 0; i < labels.size(); ++i) list += (i == 0 ? "" : ", ") + labels[i];
    std::string note = "CP-IS ALERT: " + list + " - see CP-IS details";
    if (note.size() > width) {
      // Without the pointer to the details when the labels fit whole; else as many whole labels
      // as fit, then "..." (width >= 45: the prefix and two labels always fit).
      note = "CP-IS ALERT: " + list;
      if (note.size() > width) {
        note = "CP-IS ALERT: ";
        for (std::size_t i = 0; i < labels.size(); ++i) {
          const std::string next = (i == 0 ? "" : ", ") + labels[i];
          if (note.size() + next.size() + 3 > width) break;
          note += next;
        }
        note += "...";
      }
    }
    return note;
  }
  // These fit the narrowest board (45) whole.
  if (outcome.notFound()) return "CP-IS: no plan found";
  if (outcome.checkFailed()) return "CP-IS CHECK FAILED - not a negative result";
  return "CP-IS NOT CHECKED - not a negative result";
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
