#include "engine/plugin/patient_data_mask.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "engine/hl7v2/charset.h"

namespace cpis::plugin {
namespace {

constexpr std::size_t kMaxLogText = 1000;

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

int number(std::string_view digits) {
  int n = 0;
  for (const char c : digits) n = n * 10 + (c - '0');
  return n;
}

bool plausibleDate(int year, int month, int day) {
  return year >= 1900 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::size_t digitsAt(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size() && isDigit(text[end])) ++end;
  return end - at;
}

// A month's name (three letters or in full, any case) at `at`: its length, else 0.
std::size_t monthAt(std::string_view text, std::size_t at) {
  static constexpr std::array<std::string_view, 12> kMonths{"january",   "february", "march",    "april",
                                                            "may",       "june",     "july",     "august",
                                                            "september", "october",  "november", "december"};
  const auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); };
  for (const std::string_view month : kMonths) {
    for (const std::size_t length : {month.size(), std::size_t{3}}) {
      if (at + length > text.size()) continue;
      bool same = true;
      for (std::size_t k = 0; k < length && same; ++k) same = lower(text[at + k]) == month[k];
      const bool ends =
          at + length == text.size() || !std::isalpha(static_cast<unsigned char>(text[at + length]));
      if (same && ends) return length;
    }
  }
  return 0;
}

// How many characters from `at` (a digit run's start; `run` its length) spell a date, perhaps a
// birth date; 0 when none. Dates are told by shape, and over-masking is the safe side:
//   - digits alone: YYYYMMDD or DDMMYYYY (8), or YYYYMMDD with HHMM or HHMMSS (12, 14: HL7 DTM);
//   - three groups with one separator ('/', '-' or '.'): YYYY-M-D, D/M/YYYY or M/D/YYYY, and
//     D/M/YY (1 or 2 digits for day and month);
//   - D Month YYYY, D-Mon-YY and the like (a month's name between separators '-', ' ' or '/').
std::size_t dateAt(std::string_view text, std::size_t at, std::size_t run) {
  const auto year2or4 = [](std::size_t digits) { return digits == 2 || digits == 4; };
  if (run == 8 || run == 12 || run == 14) {
    const int y = number(text.substr(at, 4)), m = number(text.substr(at + 4, 2)),
              d = number(text.substr(at + 6, 2));
    if (plausibleDate(y, m, d)) return run;
    if (run == 8 && plausibleDate(number(text.substr(at + 4, 4)), number(text.substr(at + 2, 2)),
                                  number(text.substr(at, 2)))) {
      return run;
    }
  }
  if (run > 4 || at + run >= text.size()) return 0;
  const char separator = text[at + run];
  if (separator != '/' && separator != '-' && separator != '.' && separator != ' ') return 0;
  const std::size_t second = at + run + 1;
  // A month's name in the middle: D Mon YYYY, D-Mon-YY.
  if (run <= 2 && separator != '.') {
    if (const std::size_t month = monthAt(text, second); month != 0) {
      const std::size_t third = second + month;
      if (third < text.size() && text[third] == separator) {
        const std::size_t year = digitsAt(text, third + 1);
        if (year2or4(year) && number(text.substr(at, run)) >= 1 && number(text.substr(at, run)) <= 31) {
          return third + 1 + year - at;
        }
      }
    }
  }
  if (separator == ' ') return 0;
  const std::size_t middle = digitsAt(text, second);
  if (middle < 1 || middle > 2 || second + middle >= text.size() || text[second + middle] != separator)
    return 0;
  const std::size_t third = second + middle + 1;
  const std::size_t last = digitsAt(text, third);
  const int first = number(text.substr(at, run)), mid = number(text.substr(second, middle));
  if (run == 4 && (last == 1 || last == 2)) {  // YYYY-M-D
    return plausibleDate(first, mid, number(text.substr(third, last))) ? third + last - at : 0;
  }
  if (run <= 2 && year2or4(last)) {  // D/M/Y or M/D/Y
    const int year = last == 4 ? number(text.substr(third, 4)) : 2000;
    if (plausibleDate(year, mid, first) || plausibleDate(year, first, mid)) return third + last - at;
  }
  return 0;
}

// An HL7 v2 segment's start at `at`: a segment id (a capital letter, then two capitals or
// digits) at a word's start, followed by the field separator '|'.
bool segmentAt(std::string_view text, std::size_t at) {
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto alnum = [&](char c) { return upper(c) || isDigit(c) || (c >= 'a' && c <= 'z'); };
  if (at + 4 > text.size() || (at > 0 && alnum(text[at - 1]))) return false;
  return upper(text[at]) && (upper(text[at + 1]) || isDigit(text[at + 1])) &&
         (upper(text[at + 2]) || isDigit(text[at + 2])) && text[at + 3] == '|';
}

}  // namespace

std::string maskPatientData(std::string_view text) {
  // Bytes that are not UTF-8 would make a JSON log line invalid: they become '?'.
  const bool validUtf8 = !hl7v2::firstInvalidByte(text, hl7v2::Charset::Utf8);
  std::string out;
  out.reserve(std::min(text.size(), kMaxLogText) + 3);
  std::size_t i = 0;
  while (i < text.size() && out.size() < kMaxLogText) {
    const char c = text[i];
    if (segmentAt(text, i)) {
      // An HL7 v2 segment, logged raw (`message_raw("PID")`): its names, addresses and numbers
      // cannot be told apart, so all of it goes, to the segment's end.
      out.append(text.substr(i, 4)).append("***");
      i += 4;
      while (i < text.size() && text[i] != '\r' && text[i] != '\n') ++i;
      continue;
    }
    if (isDigit(c) && (i == 0 || !isDigit(text[i - 1]))) {
      std::size_t end = i;
      while (end < text.size() && isDigit(text[end])) ++end;
      if (end - i == 10) {  // valid or not: a mistyped NHS number is patient data all the same
        out += "***";
        i = end;
        continue;
      }
      if (const std::size_t date = dateAt(text, i, end - i); date != 0) {  // a birth date, perhaps
        out += "***";
        i += date;
        continue;
      }
      // 3-3-4 with one kind of separator: "943 476 5919", "943-476-5919", "943.476.5919".
      const auto separator = [](char s) { return s == ' ' || s == '-' || s == '.' || s == '/'; };
      if (end - i == 3 && i + 12 <= text.size() && separator(text[i + 3]) && text[i + 7] == text[i + 3] &&
          (i + 12 == text.size() || !isDigit(text[i + 12]))) {
        const std::string_view candidate = text.substr(i, 12);
        bool shape = true;
        for (std::size_t k = 0; k < 12; ++k) {
          if (k != 3 && k != 7 && !isDigit(candidate[k])) shape = false;
        }
        if (shape) {
          out += "***";
          i += 12;
          continue;
        }
      }
      out.append(text.substr(i, end - i));
      i = end;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += ' ';
    } else if (byte >= 0x80 && !validUtf8) {
      out += '?';
    } else {
      out += c;
    }
    ++i;
  }
  if (i < text.size()) {
    // Cut back to a character boundary before marking the cut.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

}  // namespace cpis::plugin
