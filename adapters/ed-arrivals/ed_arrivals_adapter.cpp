#include "adapters/ed-arrivals/ed_arrivals_adapter.h"

#include <string>

#include "adapters/ed-arrivals/ed_arrivals_alerts.h"

namespace cpis::adapters::ed_arrivals {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

bool digits(std::string_view text, std::size_t min, std::size_t max) {
  if (text.size() < min || text.size() > max) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The day's sequence number in one form, so that `457` and `0457` (tracking systems and their
// interfaces pad it differently, sometimes between one message and the next) name one
// attendance: leading zeros dropped, then padded to four digits as the tracking system shows it.
std::string canonicalSequence(std::string_view sequence) {
  while (sequence.size() > 1 && sequence.front() == '0') sequence.remove_prefix(1);
  std::string out(sequence.size() < 4 ? 4 - sequence.size() : 0, '0');
  out += sequence;
  return out;
}

using sdk::AdaptResult;
using sdk::Hl7Error;

}  // namespace

EdArrivalsAdapter::EdArrivalsAdapter(const sdk::Config& config) : config_(EdArrivalsConfig::read(config)) {
  config.log().info(std::string("ed_arrivals adapter ready: planned follow-ups ") +
                    (config_.plannedFollowUps == PlannedFollowUps::Skip ? "skipped" : "silent reads") +
                    ", board note " + (config_.boardNote ? "on" : "off"));
}

AdaptResult EdArrivalsAdapter::adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const {
  const std::string_view event = out.get(sdk::Field::Event);
  if (event == "NOT_AN_ATTENDANCE") {
    return AdaptResult::notAnAttendance("the mapping file maps this trigger event to no attendance");
  }
  const std::string controlId(out.get(sdk::Field::ControlId));

  // Every attendance message of this system carries ZED: without it the attendance cannot be
  // identified (texts name fields, never values).
  if (message.count("ZED") == 0) {
    return AdaptResult::dataError(Hl7Error::SegmentSequence, "ZED-2",
                                  "no ZED segment: the attendance cannot be identified");
  }
  // One arrival a message: a second ZED (its category perhaps another) is not passed over.
  if (message.count("ZED") > 1) {
    return AdaptResult::dataError(Hl7Error::SegmentSequence, "ZED(2)-1",
                                  "more than one ZED segment: which attendance it is, is not clear");
  }

  // The visit number: site, arrival date as the tracking system wrote it, and the day's sequence
  // number at that site, e.g. RZZ03-20250612-0457. A later release that fills PV1-19 wins.
  if (out.get(sdk::Field::VisitNumber).empty()) {
    const std::string_view sequence = trim(message.get("ZED-2"));
    const std::string_view arrival = trim(message.get("ZED-3"));
    const std::string_view site = out.get(sdk::Field::SiteOdsCode);
    if (sequence.empty()) {
      return AdaptResult::dataError(Hl7Error::RequiredFieldMissing, "ZED-2", "no attendance sequence number");
    }
    if (!digits(sequence, 1, 6)) {
      return AdaptResult::dataError(Hl7Error::DataType, "ZED-2",
                                    "attendance sequence number is not 1 to 6 digits");
    }
    if (arrival.empty()) {
      return AdaptResult::dataError(Hl7Error::RequiredFieldMissing, "ZED-3", "no arrival date and time");
    }
    if (!digits(arrival.substr(0, 8), 8, 8)) {
      return AdaptResult::dataError(Hl7Error::DataType, "ZED-3",
                                    "arrival does not start with a date YYYYMMDD");
    }
    if (site.empty()) {
      return AdaptResult::dataError(Hl7Error::RequiredFieldMissing, "PV1-3.4",
                                    "no site code in PV1-3.4 or MSH-4");
    }
    out.visitNumber(std::string(site) + "-" + std::string(arrival.substr(0, 8)) + "-" +
                    canonicalSequence(sequence));
  }

  // An unknown patient is booked in with a placeholder birth date; a real one comes with the
  // PDS trace. Cleared, the engine checks without it rather than skipping on age.
  const std::string_view birth = trim(message.get("PID-7"));
  if (birth.size() >= 8 && config_.placeholderBirthDates.count(birth.substr(0, 8)) != 0) {
    out.birthDate("");
    log().debug("message " + controlId + ": placeholder birth date cleared");
  }

  // Unscheduled care only. The category matters when the attendance starts or changes.
  if (event == "START" || event == "UPDATE") {
    std::string_view category = trim(message.get("ZED-4"));
    if (category == "\"\"") category = {};
    // An arrival without it may be a planned follow-up: never queried as unscheduled on a guess.
    // An update without it keeps what its arrival said: refusing the A08 that brings a traced
    // NHS number would leave the child unchecked, and take a FOUND off the EPR's screen.
    if (category.empty() && event == "START") {
      return AdaptResult::dataError(Hl7Error::RequiredFieldMissing, "ZED-4", "no attendance category");
    }
    if (!category.empty() && category != "1" && category != "2" && category != "3" && category != "4") {
      return AdaptResult::dataError(Hl7Error::TableValue, "ZED-4", "attendance category is not 1 to 4");
    }
    const std::string_view setting = out.get(sdk::Field::CareSetting);
    const bool inScope = !setting.empty() && setting != "OUT_OF_SCOPE";
    if (category == "4") {
      if (config_.plannedFollowUps == PlannedFollowUps::Skip) {
        return AdaptResult::notAnAttendance("planned follow-up (ZED-4 category 4): not unscheduled care");
      }
      if (inScope) out.set(sdk::Field::AccessMode, "SCHEDULED");
    } else if (inScope && !category.empty()) {
      out.set(sdk::Field::AccessMode, "UNSCHEDULED");
    }
  }
  return AdaptResult::attendance();
}

void EdArrivalsAdapter::composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const {
  writeAlerts(outcome, config_, out);
}

}  // namespace cpis::adapters::ed_arrivals

#ifndef ED_ARRIVALS_ADAPTER_VERSION
#define ED_ARRIVALS_ADAPTER_VERSION "1.0.0"
#endif

namespace ed = cpis::adapters::ed_arrivals;
CPIS_EXPORT_ADAPTER(
    ed::EdArrivalsAdapter, "ed_arrivals", ED_ARRIVALS_ADAPTER_VERSION,
    cpis::sdk::stringKey(ed::kPlannedFollowUps, "skip",
                         "planned follow-ups (ZED-4 category 4): skip (no query) or silent_read"),
    cpis::sdk::stringKey(ed::kPlaceholderBirthDates, "19000101",
                         "birth dates meaning 'not known yet', cleared (YYYYMMDD, space-separated)"),
    cpis::sdk::boolKey(ed::kBoardNote, "true", "add an NTE with one line for the tracking board"),
    cpis::sdk::intKey(ed::kBoardNoteLength, "60", "the tracking board's note width (45-200 characters)"))
