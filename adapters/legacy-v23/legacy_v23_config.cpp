#include "adapters/legacy-v23/legacy_v23_config.h"

#include <stdexcept>
#include <string_view>
#include <vector>

namespace cpis::adapters::legacy_v23 {
namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != ',') ++i;
    if (i > start) out.emplace_back(text.substr(start, i - start));
  }
  return out;
}

[[noreturn]] void refuse(const char* key, const std::string& what) {
  throw std::invalid_argument(std::string("configuration key '") + key + "': " + what);
}

// "HH:MM" -> minutes since midnight.
std::chrono::minutes clockTime(const char* key, std::string_view text) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(text[0]) || !digit(text[1]) || !digit(text[3]) ||
      !digit(text[4])) {
    refuse(key, "a time is HH:MM");
  }
  const int hh = (text[0] - '0') * 10 + (text[1] - '0');
  const int mm = (text[3] - '0') * 10 + (text[4] - '0');
  if (hh > 24 || mm > 59 || (hh == 24 && mm != 0)) refuse(key, "a time is 00:00 to 24:00");
  return std::chrono::minutes(hh * 60 + mm);
}

// A coding-system name goes into a CE component: letters, digits, '-' and '_' only.
std::string codingSystem(const sdk::Config& config, const char* key) {
  std::string name = config.getString(key);
  if (name.empty()) refuse(key, "a coding-system name cannot be empty");
  for (const char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) refuse(key, "a coding-system name is letters, digits, '-' and '_'");
  }
  return name;
}

}  // namespace

LegacyV23Config LegacyV23Config::read(const sdk::Config& config) {
  LegacyV23Config values;

  values.localAuthorities.clear();
  for (std::string& authority : words(config.getString(kLocalAuthorities))) {
    values.localAuthorities.insert(std::move(authority));
  }
  values.untypedPid3 = config.getBool(kUntypedPid3);
  if (values.untypedPid3 && values.localAuthorities.empty()) {
    refuse(kUntypedPid3,
           "needs local_authorities: an untyped NHS number is only recognised next to "
           "the PAS's own labelled number");
  }

  values.outOfHoursTypes.clear();
  for (std::string& type : words(config.getString(kOutOfHoursTypes)))
    values.outOfHoursTypes.insert(std::move(type));
  const std::string hours = config.getString(kCoreHours);
  const std::size_t dash = hours.find('-');
  if (dash == std::string::npos) refuse(kCoreHours, "core hours are HH:MM-HH:MM");
  values.coreStart = clockTime(kCoreHours, std::string_view(hours).substr(0, dash));
  values.coreEnd = clockTime(kCoreHours, std::string_view(hours).substr(dash + 1));
  if (values.coreStart >= values.coreEnd) refuse(kCoreHours, "core hours must start before they end");

  for (const std::string& text : words(config.getString(kBankHolidays))) {
    const auto date = parseDate(text);
    if (!date) refuse(kBankHolidays, "bank holidays are dates YYYYMMDD separated by spaces");
    values.bankHolidays.insert(std::chrono::sys_days{*date});
  }

  values.obx.systems.cpis = codingSystem(config, kCpisCodingSystem);
  values.obx.systems.snomed = codingSystem(config, kSnomedCodingSystem);
  values.obx.systems.ods = codingSystem(config, kOdsCodingSystem);
  values.obx.systems.jobRole = codingSystem(config, kJobRoleCodingSystem);
  const std::int64_t rows = config.getInt(kMaxAccessRows);
  if (rows < 0 || rows > 25) refuse(kMaxAccessRows, "0 to 25");
  values.obx.maxAccessRows = static_cast<std::uint32_t>(rows);
  values.obx.timeOffsets = config.getBool(kTimeOffsets);
  return values;
}

}  // namespace cpis::adapters::legacy_v23
