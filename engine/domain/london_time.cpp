#include "engine/domain/london_time.h"

#include <cstdio>

namespace cpis::domain {
namespace {

using namespace std::chrono;

// 01:00 UTC on the last Sunday of `month` in `y`.
sys_time<milliseconds> changeover(year y, month m) {
  return sys_days{y / m / Sunday[last]} + hours(1);
}

}  // namespace

std::chrono::minutes londonUtcOffset(Instant at) {
  const year y = year_month_day{floor<days>(at)}.year();
  const bool summer = at >= changeover(y, March) && at < changeover(y, October);
  return summer ? minutes(60) : minutes(0);
}

LocalTime toLondonLocal(Instant at) {
  return LocalTime{at.time_since_epoch() + londonUtcOffset(at)};
}

Date londonDate(Instant at) {
  return year_month_day{floor<days>(toLondonLocal(at))};
}

Instant fromLondonLocal(LocalTime local) {
  // Try the BST reading first: it is right whenever the instant it names is in summer time.
  const Instant summer{local.time_since_epoch() - hours(1)};
  if (londonUtcOffset(summer) == minutes(60)) return summer;
  return Instant{local.time_since_epoch()};
}

std::string hl7LondonTimestamp(Instant at) {
  const LocalTime local = toLondonLocal(at);
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> time{floor<seconds>(local - day)};
  const auto offset = londonUtcOffset(at).count();
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02u%02u%02d%02d%02d+%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(offset / 60),
                static_cast<int>(offset % 60));
  return text;
}

std::string hl7Date(Date date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d%02u%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::string displayDate(Date date) {
  char text[16];
  std::snprintf(text, sizeof text, "%02u/%02u/%04d", static_cast<unsigned>(date.day()),
                static_cast<unsigned>(date.month()), static_cast<int>(date.year()));
  return text;
}

}  // namespace cpis::domain
