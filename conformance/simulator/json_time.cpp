#include "conformance/simulator/json_time.h"

#include <charconv>
#include <cstdio>

namespace cpis::sim {

namespace {

bool number(std::string_view text, std::size_t at, std::size_t length, int& out) {
  if (at + length > text.size()) return false;
  const char* begin = text.data() + at;
  for (std::size_t i = 0; i < length; ++i) {
    if (begin[i] < '0' || begin[i] > '9') return false;
  }
  std::from_chars(begin, begin + length, out);
  return true;
}

}  // namespace

std::optional<domain::Date> parseDate(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !number(text, 0, 4, y) || !number(text, 5, 2, m) ||
      !number(text, 8, 2, d)) {
    return std::nullopt;
  }
  const domain::Date date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                          std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<domain::Instant> parseInstant(std::string_view text) {
  if (text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto date = parseDate(text.substr(0, 10));
  int h = 0, mi = 0, s = 0, ms = 0;
  if (!date || !number(text, 11, 2, h) || !number(text, 14, 2, mi) || !number(text, 17, 2, s) || h > 23 || mi > 59 ||
      s > 59) {
    return std::nullopt;
  }
  if (text.size() == 24 && text[19] == '.') {
    if (!number(text, 20, 3, ms)) return std::nullopt;
  } else if (text.size() != 20) {
    return std::nullopt;
  }
  return domain::Instant(std::chrono::sys_days(*date).time_since_epoch() + std::chrono::hours(h) +
                         std::chrono::minutes(mi) + std::chrono::seconds(s) + std::chrono::milliseconds(ms));
}

std::string formatDate(domain::Date date) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

std::string formatInstant(domain::Instant instant) {
  const auto days = std::chrono::floor<std::chrono::days>(instant);
  const domain::Date date{days};
  const auto ms = (instant - days).count();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%sT%02lld:%02lld:%02lld.%03lldZ", formatDate(date).c_str(),
                static_cast<long long>(ms / 3'600'000), static_cast<long long>(ms / 60'000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return buffer;
}

}  // namespace cpis::sim
