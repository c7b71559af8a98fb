#include "engine/mapping/date_time_format.h"

#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cpis::mapping;
using cpis::domain::Date;
using cpis::domain::Instant;
using namespace std::chrono;

namespace {

Instant utc(sys_days day, hours h = 0h, minutes m = 0min, seconds s = 0s, milliseconds ms = 0ms) {
  return Instant{day + h + m + s + ms};
}

struct InstantCase {
  std::string_view format;
  std::string_view text;
  std::optional<Instant> expected;  // read as London time when the text has no offset
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const InstantCase& c) {
  return os << c.why;
}

const std::vector<InstantCase> kInstants{
    {"HL7", "20250612142900+0100", utc(2025y / 6 / 12, 13h, 29min), "DTM with offset"},
    {"HL7", "20250612142900-0500", utc(2025y / 6 / 12, 19h, 29min), "negative offset"},
    {"HL7", "20250612142900", utc(2025y / 6 / 12, 13h, 29min), "no offset: London summer time"},
    {"HL7", "20250115092500", utc(2025y / 1 / 15, 9h, 25min), "no offset: London winter time"},
    {"HL7", "202506121429", utc(2025y / 6 / 12, 13h, 29min), "to the minute (v2.3 TS)"},
    {"HL7", "2025061214", utc(2025y / 6 / 12, 13h), "to the hour"},
    {"HL7", "20250612", utc(2025y / 6 / 11, 23h), "a date: local midnight"},
    {"HL7", "20250612142900.1234+0000", utc(2025y / 6 / 12, 14h, 29min, 0s, 123ms), "fraction of a second"},
    {"HL7", "20250612142900.5", utc(2025y / 6 / 12, 13h, 29min, 0s, 500ms), "one fractional digit"},
    {"HL7", "2025061214290+0100", std::nullopt, "odd number of digits"},
    {"HL7", "202506", std::nullopt, "a month is not enough"},
    {"HL7", "20251332", std::nullopt, "month 13"},
    {"HL7", "20250230", std::nullopt, "30 February"},
    {"HL7", "20250612246000", std::nullopt, "hour 24"},
    {"HL7", "20250612142960", std::nullopt, "second 60"},
    {"HL7", "20250612142900+01", std::nullopt, "short offset"},
    {"HL7", "20250612142900+1500", std::nullopt, "offset past 14 hours"},
    {"HL7", "202506121429.5", std::nullopt, "a fraction needs seconds"},
    {"HL7", "2025-06-12", std::nullopt, "ISO form is not HL7"},
    {"HL7", "", std::nullopt, "empty"},
    {"DD/MM/YYYY hh:mm", "12/06/2025 14:25", utc(2025y / 6 / 12, 13h, 25min), "pattern, London time"},
    {"DD/MM/YYYY hh:mm", "12/06/2025 14-25", std::nullopt, "pattern literal mismatch"},
    {"DD/MM/YYYY hh:mm", "12/06/2025 14:25 ", std::nullopt, "pattern: the whole value"},
    {"DD/MM/YYYY hh:mm", "1/06/2025 14:25", std::nullopt, "pattern widths are fixed"},
    {"YYYY-MM-DDThh:mm:ss", "2025-01-15T09:25:30", utc(2025y / 1 / 15, 9h, 25min, 30s), "ISO-like pattern"},
    {"DD/MM/YYYY", "31/12/2024", utc(2024y / 12 / 31), "date-only pattern: midnight"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00Z", utc(2025y / 6 / 10, 23h, 30min), "Z: UTC, not London"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00+01:00", utc(2025y / 6 / 10, 22h, 30min),
     "offset with colon"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00-0500", utc(2025y / 6 / 11, 4h, 30min), "offset without"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00", std::nullopt, "the pattern's offset is not optional"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00+01", std::nullopt, "short offset"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00+01:0", std::nullopt, "offset minutes cut short"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00+0100x", std::nullopt, "something after the offset"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00+15:00", std::nullopt, "offset past 14 hours"},
    {"YYYY-MM-DDThh:mm:ss", "2025-06-10T23:30:00+01:00", std::nullopt, "an offset the pattern does not read"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00.000Z", utc(2025y / 6 / 10, 23h, 30min), "fraction, then Z"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00.25+01:00", utc(2025y / 6 / 10, 22h, 30min, 0s, 250ms),
     "fraction, then an offset"},
    {"YYYY-MM-DDThh:mm:ss", "2025-01-15T09:25:30.1234567", utc(2025y / 1 / 15, 9h, 25min, 30s, 123ms),
     "a fraction of seven digits, milliseconds kept"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00.Z", std::nullopt, "a point without digits"},
    {"YYYY-MM-DDThh:mm:ssZ", "2025-06-10T23:30:00.0000000000Z", std::nullopt, "a fraction of ten digits"},
    {"YYYY-MM-DDThh:mmZ", "2025-06-10T23:30.5Z", std::nullopt, "a fraction only follows ss"},
};

struct DateCase {
  std::string_view format;
  std::string_view text;
  std::optional<Date> expected;
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const DateCase& c) {
  return os << c.why;
}

const std::vector<DateCase> kDates{
    {"HL7", "20150403", 2015y / 4 / 3, "DT"},
    {"HL7", "201504030000", 2015y / 4 / 3, "TS to the minute: the date as written"},
    {"HL7", "20150403233000-0500", 2015y / 4 / 3, "never shifted through a time zone"},
    {"HL7", "20120229", 2012y / 2 / 29, "leap day"},
    {"HL7", "20130229", std::nullopt, "no leap day in 2013"},
    {"HL7", "201504", std::nullopt, "a month is not a birth date"},
    {"HL7", "2015-04-03", std::nullopt, "not HL7"},
    {"DD/MM/YYYY", "02/05/2025", 2025y / 5 / 2, "day first"},
    {"MM/DD/YYYY", "05/02/2025", 2025y / 5 / 2, "month first"},
    {"YYYYMMDD", "20250502", 2025y / 5 / 2, "digits only"},
    {"DD/MM/YYYY", "32/05/2025", std::nullopt, "day 32"},
};

struct PatternCase {
  std::string_view spec;
  bool valid;
};
std::ostream& operator<<(std::ostream& os, const PatternCase& c) {
  return os << c.spec;
}

const std::vector<PatternCase> kPatterns{
    {"HL7", true},
    {"DD/MM/YYYY", true},
    {"YYYY-MM-DD hh:mm:ss", true},
    {"DD/MM", false},
    {"DD/MM/YYYY/YYYY", false},
    {"DD.MM.YYYY mm", false},
    {"DD.MM.YYYY hh:ss", false},
    {"DD/MM/20YY", false},
    {"hl7", false},
    {"YYYY-MM-DDThh:mm:ssZ", true},
    {"YYYY-MM-DDZhh:mm", false},  // the offset ends the pattern
    {"YYYY-MM-DDZ", false},       // an offset needs a time
};

}  // namespace

BOOST_AUTO_TEST_SUITE(date_time_format)

BOOST_DATA_TEST_CASE(instants, boost::unit_test::data::make(kInstants), c) {
  const auto format = DateTimeFormat::parse(c.format);
  BOOST_TEST_REQUIRE(format.ok());
  BOOST_TEST((format->instant(c.text, TimeZone::London) == c.expected));
}

BOOST_DATA_TEST_CASE(dates, boost::unit_test::data::make(kDates), c) {
  const auto format = DateTimeFormat::parse(c.format);
  BOOST_TEST_REQUIRE(format.ok());
  BOOST_TEST((format->date(c.text) == c.expected));
}

BOOST_DATA_TEST_CASE(patterns, boost::unit_test::data::make(kPatterns), c) {
  BOOST_TEST(DateTimeFormat::parse(c.spec).ok() == c.valid);
}

BOOST_AUTO_TEST_CASE(utc_zone_reads_times_without_offset_as_utc) {
  BOOST_TEST(
      (DateTimeFormat::hl7().instant("20250612142900", TimeZone::Utc) == utc(2025y / 6 / 12, 14h, 29min)));
  // An offset always wins over the zone.
  BOOST_TEST((DateTimeFormat::hl7().instant("20250612142900+0100", TimeZone::Utc) ==
              utc(2025y / 6 / 12, 13h, 29min)));
}

BOOST_AUTO_TEST_SUITE_END()
