#include "adapters/ed-arrivals/ed_arrivals_config.h"

#include <cstddef>
#include <stdexcept>
#include <string_view>

namespace cpis::adapters::ed_arrivals {
namespace {

[[noreturn]] void refuse(const char* key, const std::string& what) {
  throw std::invalid_argument(std::string("configuration key '") + key + "': " + what);
}

bool isDate(std::string_view text) {
  if (text.size() != 8) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

EdArrivalsConfig EdArrivalsConfig::read(const sdk::Config& config) {
  EdArrivalsConfig values;

  const std::string planned = config.getString(kPlannedFollowUps);
  if (planned == "skip") {
    values.plannedFollowUps = PlannedFollowUps::Skip;
  } else if (planned == "silent_read") {
    values.plannedFollowUps = PlannedFollowUps::SilentRead;
  } else {
    refuse(kPlannedFollowUps, "skip or silent_read");
  }

  values.placeholderBirthDates.clear();
  const std::string dates = config.getString(kPlaceholderBirthDates);
  std::size_t i = 0;
  while (i < dates.size()) {
    while (i < dates.size() && dates[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < dates.size() && dates[i] != ' ') ++i;
    if (i == start) break;
    const std::string date = dates.substr(start, i - start);
    if (!isDate(date)) refuse(kPlaceholderBirthDates, "dates YYYYMMDD separated by spaces");
    values.placeholderBirthDates.insert(date);
  }

  values.boardNote = config.getBool(kBoardNote);
  const std::int64_t length = config.getInt(kBoardNoteLength);
  if (length < 45 || length > 200) refuse(kBoardNoteLength, "45 to 200 characters");
  values.boardNoteLength = static_cast<std::uint32_t>(length);
  return values;
}

}  // namespace cpis::adapters::ed_arrivals
