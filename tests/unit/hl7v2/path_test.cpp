#include "engine/hl7v2/path.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

using cpis::hl7v2::Path;

namespace {

constexpr auto kAll = Path::kAll;

struct PathCase {
  std::string_view text;
  Path expected;
  std::string_view canonical;  // toString()
};
std::ostream& operator<<(std::ostream& os, const PathCase& c) { return os << c.text; }

const std::vector<PathCase> kValid{
    {"PID-3", {"PID", 1, 3, 1, 0, 0}, "PID-3"},                       // field
    {"PID-3.4", {"PID", 1, 3, 1, 4, 0}, "PID-3.4"},                   // component
    {"PID-3.4.1", {"PID", 1, 3, 1, 4, 1}, "PID-3.4.1"},               // sub-component
    {"PID-3(2).4.1", {"PID", 1, 3, 2, 4, 1}, "PID-3(2).4.1"},         // field repetition
    {"OBX(3)-5", {"OBX", 3, 5, 1, 0, 0}, "OBX(3)-5"},                 // segment repetition
    {"MSH-9.2", {"MSH", 1, 9, 1, 2, 0}, "MSH-9.2"},                   // header field
    {"MSH-1", {"MSH", 1, 1, 1, 0, 0}, "MSH-1"},                       // the separator field
    {"PID-3(*).1", {"PID", 1, 3, kAll, 1, 0}, "PID-3(*).1"},          // every repetition
    {"OBX(*)-5", {"OBX", kAll, 5, 1, 0, 0}, "OBX(*)-5"},              // every segment
    {"OBX(*)-5(*)", {"OBX", kAll, 5, kAll, 0, 0}, "OBX(*)-5(*)"},     // both
    {"ZU3-2.2", {"ZU3", 1, 2, 1, 2, 0}, "ZU3-2.2"},                   // Z-segment
    {"Z01-1", {"Z01", 1, 1, 1, 0, 0}, "Z01-1"},                       // digits in the id
    {"PID(1)-3(1)", {"PID", 1, 3, 1, 0, 0}, "PID-3"},                 // explicit 1s are the default
    {"PID-03", {"PID", 1, 3, 1, 0, 0}, "PID-3"},                      // leading zero
    {"PID-999999", {"PID", 1, 999999, 1, 0, 0}, "PID-999999"},        // six digits: the most
    {"OBX(12)-5(10).3.2", {"OBX", 12, 5, 10, 3, 2}, "OBX(12)-5(10).3.2"},  // every part, two digits
};

struct ErrorCase {
  std::string_view text, error;
};
std::ostream& operator<<(std::ostream& os, const ErrorCase& c) { return os << '"' << c.text << '"'; }

constexpr std::string_view kBadId = "a path starts with a three-character segment id such as PID";
constexpr std::string_view kNoDash = "expected '-' and a field number after the segment id";
constexpr std::string_view kBadField = "the field number must be a number from 1";

const std::vector<ErrorCase> kErrors{
    {"", kBadId},                                                               // empty
    {"PI", kBadId},                                                             // too short
    {"pid-3", kBadId},                                                          // lower case
    {"1ID-3", kBadId},                                                          // digit first
    {"P-D-3", kBadId},                                                          // punctuation
    {" PID-3", kBadId},                                                         // leading space
    {"PID", kNoDash},                                                           // no field
    {"PID3", kNoDash},                                                          // no dash
    {"PIDX-3", kNoDash},                                                        // four-letter id
    {"PID.3", kNoDash},                                                         // wrong separator
    {"PID-", kBadField},                                                        // dash, no number
    {"PID-0", kBadField},                                                       // 0 is not a field
    {"PID-x", kBadField},                                                       // not a number
    {"PID-1234567", kBadField},                                                 // seven digits
    {"PID--3", kBadField},                                                      // negative-looking
    {"PID(0)-3", "segment repetition must be a number from 1 or '*'"},          // 0th segment
    {"PID()-3", "segment repetition must be a number from 1 or '*'"},           // empty repetition
    {"PID(2-3", "expected ')' after the segment repetition"},                   // unclosed
    {"PID-3(0)", "field repetition must be a number from 1 or '*'"},            // 0th repetition
    {"PID-3(x)", "field repetition must be a number from 1 or '*'"},            // not a number
    {"PID-3(2", "expected ')' after the field repetition"},                     // unclosed
    {"PID-3(**)", "expected ')' after the field repetition"},                   // two stars
    {"PID-3.", "the component number must be a number from 1"},                 // dot, no number
    {"PID-3.0", "the component number must be a number from 1"},                // 0th component
    {"PID-3.1.", "the sub-component number must be a number from 1"},           // dot, no number
    {"PID-3.1.0", "the sub-component number must be a number from 1"},          // 0th sub-component
    {"PID-3.1.1.1", "unexpected text after the path"},                          // too deep
    {"PID-3 ", "unexpected text after the path"},                               // trailing space
    {"PID-3(1)(2)", "unexpected text after the path"},                          // two repetitions
    {"PID-3.1(2)", "unexpected text after the path"},                           // repetition on a component
};

}  // namespace

BOOST_AUTO_TEST_SUITE(path)

BOOST_DATA_TEST_CASE(valid_paths_parse, boost::unit_test::data::make(kValid), c) {
  const auto parsed = cpis::hl7v2::parsePath(c.text);
  BOOST_REQUIRE(parsed.ok());
  const Path& p = parsed.value();
  BOOST_TEST(p.segmentId == c.expected.segmentId);
  BOOST_TEST(p.segmentRepetition == c.expected.segmentRepetition);
  BOOST_TEST(p.field == c.expected.field);
  BOOST_TEST(p.fieldRepetition == c.expected.fieldRepetition);
  BOOST_TEST(p.component == c.expected.component);
  BOOST_TEST(p.subComponent == c.expected.subComponent);
  BOOST_TEST(p.toString() == c.canonical);
  // the canonical text parses to the same path
  const auto again = cpis::hl7v2::parsePath(p.toString());
  BOOST_REQUIRE(again.ok());
  BOOST_TEST((again.value() == p));
}

BOOST_DATA_TEST_CASE(syntax_errors_are_one_line_naming_the_problem, boost::unit_test::data::make(kErrors), c) {
  const auto parsed = cpis::hl7v2::parsePath(c.text);
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(parsed.error() == c.error);
  BOOST_TEST(parsed.error().find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(paths_compare_member_by_member) {
  BOOST_TEST((Path{"PID", 1, 3, 1, 0, 0} == Path{"PID", 1, 3, 1, 0, 0}));
  BOOST_TEST(!(Path{"PID", 1, 3, 1, 0, 0} == Path{"PID", 1, 3, 1, 1, 0}));
}

BOOST_AUTO_TEST_SUITE_END()
