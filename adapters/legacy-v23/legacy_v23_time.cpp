#include "adapters/legacy-v23/legacy_v23_time.h"

#include <cstdio>

namespace cpis::adapters::legacy_v23 {
namespace {

using namespace std::chrono;

bool allDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

int number(std::string_view digits) {
  int n = 0;
  for (const char c : digits) n = n * 10 + (c - '0');
  return n;
}

// 01:00 UTC on the last Sunday of the month.
sys_time<milliseconds> changeover(year y, month m) {
  return sys_days{y / m / Sunday[last]} + hours(1);
}

}  // namespace

std::optional<Date> parseDate(std::string_view text) {
  if (text.size() != 8 || !allDigits(text)) return std::nullopt;
  const Date date{year{number(text.substr(0, 4))}, month{static_cast<unsigned>(number(text.substr(4, 2)))},
                  day{static_cast<unsigned>(number(text.substr(6, 2)))}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<Instant> parseInstant(std::string_view text) {
  minutes offset{0};
  const std::size_t sign = text.find_first_of("+-");
  if (sign != std::string_view::npos) {
    const std::string_view zone = text.substr(sign + 1);
    if (zone.size() != 4 || !allDigits(zone)) return std::nullopt;
    offset =
        minutes((text[sign] == '-' ? -1 : 1) * (number(zone.substr(0, 2)) * 60 + number(zone.substr(2, 2))));
    text = text.substr(0, sign);
  }
  if (const std::size_t dot = text.find('.'); dot != std::string_view::npos) text = text.substr(0, dot);
  if (!allDigits(text) || text.size() < 8 || text.size() > 14 || text.size() % 2 != 0) return std::nullopt;
  const auto date = parseDate(text.substr(0, 8));
  if (!date) return std::nullopt;
  const int hh = text.size() >= 10 ? number(text.substr(8, 2)) : 0;
  const int mi = text.size() >= 12 ? number(text.substr(10, 2)) : 0;
  const int ss = text.size() >= 14 ? number(text.substr(12, 2)) : 0;
  if (hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  return Instant{sys_days{*date} + hours(hh) + minutes(mi) + seconds(ss) - offset};
}

minutes londonOffset(Instant at) {
  const year y = year_month_day{floor<days>(at)}.year();
  return at >= changeover(y, March) && at < changeover(y, October) ? minutes(60) : minutes(0);
}

LocalTime toLondon(Instant at) {
  return LocalTime{at.time_since_epoch() + londonOffset(at)};
}

Date londonDate(Instant at) {
  return year_month_day{floor<days>(toLondon(at))};
}

std::string londonTimestamp(Instant at, bool withOffset) {
  const LocalTime local = toLondon(at);
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{floor<seconds>(local - day)};
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02u%02d%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  std::string out = text;
  if (withOffset) out += londonOffset(at).count() == 60 ? "+0100" : "+0000";
  return out;
}

std::string displayDate(Date date) {
  char text[16];
  std::snprintf(text, sizeof text, "%02u/%02u/%04d", static_cast<unsigned>(date.day()),
                static_cast<unsigned>(date.month()), static_cast<int>(date.year()));
  return text;
}

}  // namespace cpis::adapters::legacy_v23
