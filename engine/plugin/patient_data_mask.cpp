#include "engine/plugin/patient_data_mask.h"

#include <algorithm>

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

// How many characters from `at` (a digit run's start) spell a date, perhaps a birth date: an
// HL7 DT or DTM (YYYYMMDD, with HHMM or HHMMSS after it: 8, 12 or 14 digits alone), or
// YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY; 0 when none. `run`: the digit run's length.
std::size_t dateAt(std::string_view text, std::size_t at, std::size_t run) {
  if ((run == 8 || run == 12 || run == 14) &&
      plausibleDate(number(text.substr(at, 4)), number(text.substr(at + 4, 2)),
                    number(text.substr(at + 6, 2)))) {
    return run;
  }
  const auto shaped = [&](std::size_t length, std::initializer_list<std::size_t> separators, char separator) {
    if (at + length > text.size() || (at + length < text.size() && isDigit(text[at + length]))) return false;
    for (std::size_t k = 0; k < length; ++k) {
      const bool isSeparator = std::find(separators.begin(), separators.end(), k) != separators.end();
      if (isSeparator ? text[at + k] != separator : !isDigit(text[at + k])) return false;
    }
    return true;
  };
  if (run == 4) {
    for (const char s : {'-', '/'}) {
      if (shaped(10, {4, 7}, s) && plausibleDate(number(text.substr(at, 4)), number(text.substr(at + 5, 2)),
                                                 number(text.substr(at + 8, 2)))) {
        return 10;
      }
    }
  }
  if (run == 2) {
    for (const char s : {'/', '-', '.'}) {
      if (shaped(10, {2, 5}, s) &&
          plausibleDate(number(text.substr(at + 6, 4)), number(text.substr(at + 3, 2)),
                        number(text.substr(at, 2)))) {
        return 10;
      }
    }
  }
  return 0;
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
      // 3-3-4 with one kind of separator: "943 476 5919", "943-476-5919".
      if (end - i == 3 && i + 12 <= text.size() && (text[i + 3] == ' ' || text[i + 3] == '-') &&
          text[i + 7] == text[i + 3] && (i + 12 == text.size() || !isDigit(text[i + 12]))) {
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
