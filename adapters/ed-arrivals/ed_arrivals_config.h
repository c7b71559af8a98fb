#pragma once

// The ed_arrivals adapter's configuration keys (the feed's <adapter> settings) and their values.

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include <cpis/plugin.hpp>

namespace cpis::adapters::ed_arrivals {

// Key names, shared by the key table (ed_arrivals_adapter.cpp) and read().
inline constexpr const char* kPlannedFollowUps = "planned_follow_ups";
inline constexpr const char* kPlaceholderBirthDates = "placeholder_birth_dates";
inline constexpr const char* kBoardNote = "board_note";
inline constexpr const char* kBoardNoteLength = "board_note_length";

// What a planned follow-up (ZED-4 category 4) gets: it is booked, so not unscheduled care.
enum class PlannedFollowUps {
  Skip,        // not an attendance for CP-IS: no query (the default)
  SilentRead,  // a scheduled query: the clinician sees the result, the local authority is not told
};

// Immutable once read.
struct EdArrivalsConfig {
  PlannedFollowUps plannedFollowUps = PlannedFollowUps::Skip;
  // Birth dates the tracking system writes for a patient whose date is not known yet; they are
  // cleared so the age rule does not skip the check (CPIS.md section 8: no birth date, check).
  std::set<std::string, std::less<>> placeholderBirthDates{"19000101"};
  // An NTE after the alert segments, for the tracking board's notes column.
  bool boardNote = true;
  std::uint32_t boardNoteLength = 60;  // the column's width; at least 45, so failures fit whole

  // Reads and checks the values; throws std::invalid_argument naming the key for a value that
  // is not usable (the engine then refuses to start).
  static EdArrivalsConfig read(const sdk::Config& config);
};

}  // namespace cpis::adapters::ed_arrivals
