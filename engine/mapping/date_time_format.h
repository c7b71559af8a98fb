#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/domain/cpis_record.h"

namespace cpis::mapping {

// How times without a UTC offset are read.
enum class TimeZone { London, Utc };

// How a mapping reads a date or a date and time from a field.
//
// HL7 (the default) reads the DT, DTM and TS forms of every version: YYYYMMDD, then optional
// hh, mm, ss, a fraction of a second, and an offset (+0100, -0500); time parts left out are 0.
// A date field needs at least the day (a birth date to the month cannot say whether a child is
// under 18), and takes the calendar date as written, never shifted through a time zone.
//
// A pattern such as "DD/MM/YYYY" or "YYYY-MM-DD hh:mm:ss" is for feeds that do not send HL7
// forms: YYYY, MM, DD, hh, mm and ss are fixed-width digits, every other character must match
// itself, and the whole value must be used. A final Z reads the UTC offset ISO 8601 writes: "Z",
// "+01:00", "+0100" ("YYYY-MM-DDThh:mm:ssZ"); without it, times are read in the mapping's time
// zone. Immutable.
class DateTimeFormat {
 public:
  static DateTimeFormat hl7();
  // "HL7" or a pattern; the error says what is wrong with it.
  static core::Result<DateTimeFormat, std::string> parse(std::string_view spec);

  const std::string& spec() const noexcept { return spec_; }

  // nullopt when the text is not a valid date (or date and time) in this format.
  std::optional<domain::Date> date(std::string_view text) const;
  std::optional<domain::Instant> instant(std::string_view text, TimeZone zone) const;

 private:
  struct Token {
    char unit;     // 'Y', 'M', 'D', 'h', 'm', 's', 'Z' (an offset), or 0 for a literal
    char literal;  // the character a literal must match
  };
  struct Reading;

  std::optional<Reading> read(std::string_view text) const;

  std::string spec_ = "HL7";
  std::vector<Token> tokens_;  // empty: HL7
};

}  // namespace cpis::mapping
