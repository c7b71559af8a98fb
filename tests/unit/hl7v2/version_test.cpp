#include "engine/hl7v2/version.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

using cpis::hl7v2::Version;

namespace {

struct ParseCase {
  std::string_view text;
  bool valid;
  int major, minor, patch;
};
std::ostream& operator<<(std::ostream& os, const ParseCase& c) { return os << '"' << c.text << '"'; }

const std::vector<ParseCase> kParse{
    {"2.3", true, 2, 3, 0},       // two parts
    {"2.3.1", true, 2, 3, 1},     // three parts
    {"2.5.1", true, 2, 5, 1},     // ITK's successor
    {"2.7", true, 2, 7, 0},       // truncation character era
    {"2.10", true, 2, 10, 0},     // two-digit minor
    {"3.0", true, 3, 0, 0},       // a future major
    {"", false, 0, 0, 0},         // empty
    {"2", false, 0, 0, 0},        // one part
    {"2.", false, 0, 0, 0},       // trailing dot
    {".4", false, 0, 0, 0},       // leading dot
    {"2.4.", false, 0, 0, 0},     // trailing dot after two parts
    {"2.3.1.1", false, 0, 0, 0},  // four parts
    {"v2.4", false, 0, 0, 0},     // prefix
    {"2.4 ", false, 0, 0, 0},     // trailing space
    {"2.4^GBR", false, 0, 0, 0},  // a whole MSH-12 with components
    {"2..4", false, 0, 0, 0},     // empty part
    {"2.99999", false, 0, 0, 0},  // absurdly long part
};

struct AtLeastCase {
  std::string_view version;
  int major, minor, patch;
  bool expected;
};
std::ostream& operator<<(std::ostream& os, const AtLeastCase& c) {
  return os << c.version << " >= " << c.major << '.' << c.minor << '.' << c.patch;
}

const std::vector<AtLeastCase> kAtLeast{
    {"2.3", 2, 3, 0, true},     // equal
    {"2.3", 2, 3, 1, false},    // 2.3 is before 2.3.1
    {"2.3.1", 2, 3, 1, true},   // equal with patch
    {"2.4", 2, 3, 1, true},     // later minor
    {"2.4", 2, 5, 0, false},    // earlier minor
    {"2.5", 2, 5, 0, true},     // ERR-2.. from 2.5
    {"2.5.1", 2, 5, 0, true},   // later patch
    {"2.2", 2, 3, 0, false},    // ACK without trigger
    {"2.10", 2, 9, 0, true},    // numeric, not text, order
    {"3.0", 2, 9, 9, true},     // later major
    {"1.9", 2, 0, 0, false},    // earlier major
};

}  // namespace

BOOST_AUTO_TEST_SUITE(version)

BOOST_DATA_TEST_CASE(version_ids_parse, boost::unit_test::data::make(kParse), c) {
  const auto v = Version::parse(c.text);
  BOOST_TEST(v.has_value() == c.valid);
  if (v && c.valid) {
    BOOST_TEST(v->major == c.major);
    BOOST_TEST(v->minor == c.minor);
    BOOST_TEST(v->patch == c.patch);
  }
}

BOOST_DATA_TEST_CASE(at_least_orders_versions, boost::unit_test::data::make(kAtLeast), c) {
  const auto v = Version::parse(c.version);
  BOOST_REQUIRE(v.has_value());
  BOOST_TEST(v->atLeast(c.major, c.minor, c.patch) == c.expected);
}

BOOST_AUTO_TEST_CASE(versions_compare_in_order) {
  BOOST_TEST((*Version::parse("2.3") < *Version::parse("2.3.1")));
  BOOST_TEST((*Version::parse("2.3.1") < *Version::parse("2.4")));
  BOOST_TEST((*Version::parse("2.9") < *Version::parse("2.10")));
  BOOST_TEST((*Version::parse("2.4") == Version{}));  // the default is ITK's 2.4
}

BOOST_AUTO_TEST_SUITE_END()
