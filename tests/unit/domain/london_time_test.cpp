#include "engine/domain/london_time.h"

#include <ostream>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cpis::domain;
using namespace std::chrono;

namespace {

Instant utc(sys_days day, hours h, minutes m = minutes(0), seconds s = seconds(0)) {
  return Instant{day + h + m + s};
}

struct OffsetCase {
  Instant at;
  int offsetMinutes;
  std::string_view timestamp;  // hl7LondonTimestamp
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const OffsetCase& c) {
  return os << c.why;
}

// BST runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.
const std::vector<OffsetCase> kOffsets{
    {utc(2025y / 1 / 15, 12h), 0, "20250115120000+0000", "winter"},
    {utc(2025y / 6 / 12, 13h, 30min, 6s), 60, "20250612143006+0100", "summer (CPIS.md example 1)"},
    {utc(2025y / 3 / 30, 0h, 59min, 59s), 0, "20250330005959+0000", "2025: the second before BST starts"},
    {utc(2025y / 3 / 30, 1h), 60, "20250330020000+0100", "2025: BST starts at 01:00 UTC, clocks show 02:00"},
    {utc(2025y / 10 / 26, 0h, 59min, 59s), 60, "20251026015959+0100", "2025: the second before BST ends"},
    {utc(2025y / 10 / 26, 1h), 0, "20251026010000+0000",
     "2025: BST ends at 01:00 UTC, clocks show 01:00 again"},
    {utc(2024y / 3 / 31, 1h), 60, "20240331020000+0100", "2024: last Sunday of March is the 31st"},
    {utc(2024y / 3 / 24, 12h), 0, "20240324120000+0000", "2024: a week earlier is still GMT"},
    {utc(2024y / 10 / 27, 0h, 30min), 60, "20241027013000+0100", "2024: last Sunday of October is the 27th"},
    {utc(2026y / 3 / 29, 1h), 60, "20260329020000+0100", "2026: last Sunday of March is the 29th"},
    {utc(2025y / 12 / 31, 23h, 59min, 59s), 0, "20251231235959+0000", "new year's eve"},
};

struct LocalCase {
  sys_days day;  // read as a local date
  hours h;
  minutes m;
  Instant expected;
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const LocalCase& c) {
  return os << c.why;
}

const std::vector<LocalCase> kLocals{
    {2025y / 1 / 15, 12h, 0min, utc(2025y / 1 / 15, 12h), "winter: local is UTC"},
    {2025y / 6 / 12, 14h, 29min, utc(2025y / 6 / 12, 13h, 29min), "summer: an hour behind"},
    {2025y / 3 / 30, 0h, 59min, utc(2025y / 3 / 30, 0h, 59min), "just before the spring gap"},
    {2025y / 3 / 30, 1h, 30min, utc(2025y / 3 / 30, 1h, 30min), "inside the spring gap: read as GMT"},
    {2025y / 3 / 30, 2h, 0min, utc(2025y / 3 / 30, 1h), "02:00 BST, the end of the gap"},
    {2025y / 10 / 26, 1h, 30min, utc(2025y / 10 / 26, 0h, 30min),
     "the repeated hour: the first (BST) reading"},
    {2025y / 10 / 26, 2h, 0min, utc(2025y / 10 / 26, 2h), "after the repeated hour: GMT"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(london_time)

BOOST_DATA_TEST_CASE(offset_and_timestamp_follow_the_bst_rules, boost::unit_test::data::make(kOffsets), c) {
  BOOST_TEST(londonUtcOffset(c.at).count() == c.offsetMinutes);
  BOOST_TEST(hl7LondonTimestamp(c.at) == c.timestamp);
}

BOOST_DATA_TEST_CASE(local_readings_become_utc, boost::unit_test::data::make(kLocals), c) {
  const LocalTime local{(c.day + c.h + c.m).time_since_epoch()};
  BOOST_TEST((fromLondonLocal(local) == c.expected));
}

BOOST_AUTO_TEST_CASE(the_london_date_changes_at_local_midnight) {
  // 23:30 UTC in June is 00:30 the next day in London; in January it is the same day.
  BOOST_TEST((londonDate(utc(2025y / 6 / 12, 23h, 30min)) == 2025y / 6 / 13));
  BOOST_TEST((londonDate(utc(2025y / 6 / 12, 22h, 59min)) == 2025y / 6 / 12));
  BOOST_TEST((londonDate(utc(2025y / 1 / 12, 23h, 30min)) == 2025y / 1 / 12));
}

BOOST_AUTO_TEST_CASE(every_instant_round_trips_through_local_time_but_the_repeated_hour) {
  // Every quarter hour of 2025: local and back gives the same instant, except the hour that
  // happens twice in October (its second occurrence reads back as the first).
  const Instant start = utc(2025y / 1 / 1, 0h);
  const Instant repeatedFrom = utc(2025y / 10 / 26, 1h);
  const Instant repeatedTo = utc(2025y / 10 / 26, 2h);
  int mismatches = 0;
  for (Instant at = start; at < utc(2026y / 1 / 1, 0h); at += minutes(15)) {
    const bool repeated = at >= repeatedFrom && at < repeatedTo;
    const Instant back = fromLondonLocal(toLondonLocal(at));
    if (repeated ? back != at - hours(1) : back != at) ++mismatches;
  }
  BOOST_TEST(mismatches == 0);
}

BOOST_AUTO_TEST_CASE(dates_print_for_hl7_and_for_people) {
  BOOST_TEST(hl7Date(2025y / 3 / 1) == "20250301");
  BOOST_TEST(displayDate(2025y / 3 / 1) == "01/03/2025");
  BOOST_TEST(hl7Date(2008y / 12 / 31) == "20081231");
}

BOOST_AUTO_TEST_SUITE_END()
