#include "engine/mapping/date_time_format.h"

#include <chrono>

#include "engine/domain/london_time.h"

namespace cpis::mapping {

namespace {

using namespace std::chrono;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// `count` digits at `pos` as a number, or -1.
int digitsAt(std::string_view text, std::size_t pos, std::size_t count) {
  if (pos + count > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!isDigit(text[i])) return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// The fraction of a second at `pos` (the '.'): 1 to `maxDigits` digits, kept to milliseconds.
// Moves `pos` past it; false when it has no digits or too many.
bool readFraction(std::string_view text, std::size_t& pos, std::size_t maxDigits, int& millisecond) {
  std::size_t end = pos + 1;
  while (end < text.size() && isDigit(text[end])) ++end;
  const std::size_t count = end - pos - 1;
  if (count == 0 || count > maxDigits) return false;
  int ms = 0;
  for (std::size_t k = 0; k < 3; ++k) ms = ms * 10 + (k < count ? text[pos + 1 + k] - '0' : 0);
  millisecond = ms;
  pos = end;
  return true;
}

}  // namespace

struct DateTimeFormat::Reading {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millisecond = 0;
  std::optional<minutes> offset;  // as written: local = UTC + offset

  std::optional<domain::Date> date() const {
    const domain::Date d{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                         std::chrono::day(static_cast<unsigned>(day))};
    if (!d.ok()) return std::nullopt;
    return d;
  }
  bool timeOk() const { return hour <= 23 && minute <= 59 && second <= 59; }
};

DateTimeFormat DateTimeFormat::hl7() {
  return DateTimeFormat{};
}

core::Result<DateTimeFormat, std::string> DateTimeFormat::parse(std::string_view spec) {
  DateTimeFormat format;
  if (spec == "HL7") return format;
  format.spec_ = std::string(spec);
  std::string seen;  // the units used so far
  const auto has = [&](char unit) { return seen.find(unit) != std::string::npos; };
  for (std::size_t i = 0; i < spec.size();) {
    const std::string_view rest = spec.substr(i);
    char unit = 0;
    std::size_t width = 2;
    if (rest.starts_with("YYYY")) {
      unit = 'Y';
      width = 4;
    } else if (rest.starts_with("MM")) {
      unit = 'M';
    } else if (rest.starts_with("DD")) {
      unit = 'D';
    } else if (rest.starts_with("hh")) {
      unit = 'h';
    } else if (rest.starts_with("mm")) {
      unit = 'm';
    } else if (rest.starts_with("ss")) {
      unit = 's';
    } else if (rest.starts_with("Z")) {
      unit = 'Z';
      width = 1;
    }
    if (unit == 0) {
      if (isDigit(spec[i])) return std::string("a pattern cannot hold digits as literal characters");
      format.tokens_.push_back({0, spec[i]});
      ++i;
      continue;
    }
    if (has(unit)) {
      return "'" + std::string(rest.substr(0, width)) + "' appears twice in the pattern";
    }
    seen += unit;
    // One token per character so reading is a single walk.
    for (std::size_t k = 0; k < width; ++k) format.tokens_.push_back({unit, 0});
    i += width;
  }
  if (!has('Y') || !has('M') || !has('D')) {
    return std::string("a pattern needs YYYY, MM and DD (or HL7 for the HL7 forms)");
  }
  if ((has('m') || has('s')) && !has('h')) return std::string("minutes or seconds without hh");
  if (has('Z') && format.tokens_.back().unit != 'Z')
    return std::string("Z (the UTC offset) must end the pattern");
  if (has('Z') && !has('h')) return std::string("a UTC offset (Z) without hh");
  if (has('s') && !has('m')) return std::string("seconds without mm");
  return format;
}

std::optional<DateTimeFormat::Reading> DateTimeFormat::read(std::string_view text) const {
  Reading r;
  if (!tokens_.empty()) {
    // Fixed width, then a fraction of a second after ss (".5", ".000": ISO 8601 writes any number
    // of digits; milliseconds are kept), then, with a final Z, the offset: Z, or +hh:mm, +hhmm,
    // -hh:mm, -hhmm.
    const bool offset = tokens_.back().unit == 'Z';
    const std::size_t fixed = offset ? tokens_.size() - 1 : tokens_.size();
    if (text.size() < fixed) return std::nullopt;
    for (std::size_t i = 0; i < fixed; ++i) {
      const Token& t = tokens_[i];
      if (t.unit == 0) {
        if (text[i] != t.literal) return std::nullopt;
        continue;
      }
      if (!isDigit(text[i])) return std::nullopt;
      const int digit = text[i] - '0';
      switch (t.unit) {
        case 'Y': r.year = r.year * 10 + digit; break;
        case 'M': r.month = r.month * 10 + digit; break;
        case 'D': r.day = r.day * 10 + digit; break;
        case 'h': r.hour = r.hour * 10 + digit; break;
        case 'm': r.minute = r.minute * 10 + digit; break;
        case 's': r.second = r.second * 10 + digit; break;
        default: return std::nullopt;
      }
    }
    std::size_t pos = fixed;
    if (fixed > 0 && tokens_[fixed - 1].unit == 's' && pos < text.size() && text[pos] == '.') {
      if (!readFraction(text, pos, 9, r.millisecond)) return std::nullopt;
    }
    const std::string_view zone = text.substr(pos);
    if (!offset) return zone.empty() ? std::optional<Reading>(r) : std::nullopt;
    if (zone == "Z") {
      r.offset = minutes{0};
      return r;
    }
    if ((zone.size() != 5 && zone.size() != 6) || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
    if (zone.size() == 6 && zone[3] != ':') return std::nullopt;
    const int hh = digitsAt(zone, 1, 2);
    const int mm = digitsAt(zone, zone.size() - 2, 2);
    if (hh < 0 || mm < 0 || hh > 14 || mm > 59) return std::nullopt;
    r.offset = zone[0] == '-' ? -minutes{hh * 60 + mm} : minutes{hh * 60 + mm};
    return r;
  }

  // HL7 DT / DTM / TS: YYYYMMDD[hh[mm[ss[.s[s[s[s]]]]]]][+/-hhmm]
  std::size_t digits = 0;
  while (digits < text.size() && isDigit(text[digits])) ++digits;
  if (digits != 8 && digits != 10 && digits != 12 && digits != 14) return std::nullopt;
  r.year = digitsAt(text, 0, 4);
  r.month = digitsAt(text, 4, 2);
  r.day = digitsAt(text, 6, 2);
  if (digits >= 10) r.hour = digitsAt(text, 8, 2);
  if (digits >= 12) r.minute = digitsAt(text, 10, 2);
  if (digits >= 14) r.second = digitsAt(text, 12, 2);
  std::size_t pos = digits;
  if (pos < text.size() && text[pos] == '.') {
    if (digits != 14) return std::nullopt;  // a fraction only follows seconds
    if (!readFraction(text, pos, 4, r.millisecond)) return std::nullopt;
  }
  if (pos < text.size()) {
    if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
    if (text.size() != pos + 5) return std::nullopt;
    const int hh = digitsAt(text, pos + 1, 2);
    const int mm = digitsAt(text, pos + 3, 2);
    if (hh < 0 || mm < 0 || hh > 14 || mm > 59) return std::nullopt;
    const minutes offset{hh * 60 + mm};
    r.offset = text[pos] == '-' ? -offset : offset;
  }
  return r;
}

std::optional<domain::Date> DateTimeFormat::date(std::string_view text) const {
  const auto r = read(text);
  if (!r || !r->timeOk()) return std::nullopt;
  return r->date();
}

std::optional<domain::Instant> DateTimeFormat::instant(std::string_view text, TimeZone zone) const {
  const auto r = read(text);
  if (!r || !r->timeOk()) return std::nullopt;
  const auto d = r->date();
  if (!d) return std::nullopt;
  const auto sinceMidnight =
      hours(r->hour) + minutes(r->minute) + seconds(r->second) + milliseconds(r->millisecond);
  const milliseconds wall = sys_days{*d}.time_since_epoch() + sinceMidnight;
  if (r->offset) return domain::Instant{wall - *r->offset};
  if (zone == TimeZone::Utc) return domain::Instant{wall};
  return domain::fromLondonLocal(domain::LocalTime{wall});
}

}  // namespace cpis::mapping
