#include "engine/hl7v2/delimiters.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

#include "tests/support/hl7_samples.h"

using cpis::hl7v2::Delimiters;
using cpis::test::visible;

namespace {

struct ReadCase {
  std::string_view segment;
  Delimiters expected;
  std::string_view encodingCharacters;
};
std::ostream& operator<<(std::ostream& os, const ReadCase& c) { return os << visible(c.segment); }

const std::vector<ReadCase> kReadable{
    {"MSH|^~\\&|SND", {'|', '^', '~', '\\', '&', '\0'}, "^~\\&"},       // the standard choice
    {"MSH|^~\\&#|SND", {'|', '^', '~', '\\', '&', '#'}, "^~\\&#"},      // v2.7 truncation character
    {"MSH!@*$%!SND", {'!', '@', '*', '$', '%', '\0'}, "@*$%"},          // custom, as in the corpus
    {"MSH|^~\\&", {'|', '^', '~', '\\', '&', '\0'}, "^~\\&"},           // segment ends after MSH-2
    {"MSH|^~\\|SND", {'|', '^', '~', '\\', '\0', '\0'}, "^~\\"},        // no sub-component character
    {"MSH|^~|SND", {'|', '^', '~', '\0', '\0', '\0'}, "^~"},            // no escape character
    {"MSH|^|SND", {'|', '^', '\0', '\0', '\0', '\0'}, "^"},             // components only
    {"MSH|~^&\\|SND", {'|', '~', '^', '&', '\\', '\0'}, "~^&\\"},       // any order of the same set
    {"MSH#^~\\&#SND", {'#', '^', '~', '\\', '&', '\0'}, "^~\\&"},       // '#' as field separator
    {"FHS|^~\\&|SND", {'|', '^', '~', '\\', '&', '\0'}, "^~\\&"},       // file header
    {"BHS|^~\\&|SND", {'|', '^', '~', '\\', '&', '\0'}, "^~\\&"},       // batch header
    {"MSH|{}[]<|SND", {'|', '{', '}', '[', ']', '<'}, "{}[]<"},         // brackets are usable
};

struct RefusedCase {
  std::string_view segment;
  std::uint32_t field;
  std::size_t offset;
  std::string_view text;  // part of the issue text
};
std::ostream& operator<<(std::ostream& os, const RefusedCase& c) { return os << visible(c.segment); }

const std::vector<RefusedCase> kRefused{
    {"MSH", 1, 3, "ends before the field separator"},            // nothing after the id
    {"MSHA^~\\&", 1, 3, "not a usable character"},               // letter
    {"MSHa^~\\&", 1, 3, "not a usable character"},               // lower-case letter
    {"MSH5^~\\&", 1, 3, "not a usable character"},               // digit
    {"MSH ^~\\&", 1, 3, "not a usable character"},               // space
    {"MSH\t^~\\&", 1, 3, "not a usable character"},              // tab
    {"MSH\x7F^~\\&", 1, 3, "not a usable character"},            // DEL
    {"MSH\xA6^~\\&", 1, 3, "not a usable character"},            // non-ASCII
    {"MSH||SND", 2, 4, "missing"},                               // MSH-2 empty
    {"MSH|", 2, 4, "missing"},                                   // MSH-2 cut off
    {"MSH|^~\\&#!|", 2, 4, "longer than five"},                  // six characters
    {"MSH|^^\\&|", 2, 5, "used twice"},                          // repeated
    {"MSH|^~\\^|", 2, 7, "used twice"},                          // repeated later
    {"MSH|^~\\A|", 2, 7, "not a usable character"},              // letter
    {"MSH|^ \\&|", 2, 5, "not a usable character"},              // space
    {"MSH|^~\\&\x80|", 2, 8, "not a usable character"},          // non-ASCII
    {"MSH|^~\\&\x01|", 2, 8, "not a usable character"},          // control character
};

}  // namespace

BOOST_AUTO_TEST_SUITE(delimiters)

BOOST_DATA_TEST_CASE(msh1_and_msh2_give_the_encoding_characters, boost::unit_test::data::make(kReadable), c) {
  const auto read = cpis::hl7v2::readDelimiters(c.segment);
  BOOST_REQUIRE(read.ok());
  const Delimiters& d = read.value();
  BOOST_TEST(d.field == c.expected.field);
  BOOST_TEST(d.component == c.expected.component);
  BOOST_TEST(d.repetition == c.expected.repetition);
  BOOST_TEST(d.escape == c.expected.escape);
  BOOST_TEST(d.subComponent == c.expected.subComponent);
  BOOST_TEST(d.truncation == c.expected.truncation);
  BOOST_TEST(d.encodingCharacters() == c.encodingCharacters);
}

BOOST_DATA_TEST_CASE(unusable_encoding_characters_are_a_102_at_msh1_or_msh2,
                     boost::unit_test::data::make(kRefused), c) {
  const auto read = cpis::hl7v2::readDelimiters(c.segment);
  BOOST_REQUIRE(!read.ok());
  const auto& issue = read.error();
  BOOST_TEST(static_cast<unsigned>(issue.code) == 102u);
  BOOST_TEST(issue.location.segmentId == c.segment.substr(0, 3));
  BOOST_TEST(issue.location.segmentSequence == 1u);
  BOOST_TEST(issue.location.field == c.field);
  BOOST_TEST(issue.location.byteOffset == c.offset);
  BOOST_TEST(issue.text.find(c.text) != std::string::npos, issue.text);
}

BOOST_AUTO_TEST_CASE(is_delimiter_knows_the_active_characters) {
  Delimiters d;
  for (const char c : {'|', '^', '~', '\\', '&'}) BOOST_TEST(d.isDelimiter(c), c);
  BOOST_TEST(!d.isDelimiter('#'));  // no truncation character before v2.7
  BOOST_TEST(!d.isDelimiter('a'));
  BOOST_TEST(!d.isDelimiter('\0'));  // an unused slot matches nothing
  d.truncation = '#';
  BOOST_TEST(d.isDelimiter('#'));
  d.subComponent = '\0';
  BOOST_TEST(!d.isDelimiter('&'));
  BOOST_TEST(!d.isDelimiter('\0'));
}

BOOST_AUTO_TEST_CASE(encoding_characters_stop_at_the_first_unused_slot) {
  BOOST_TEST(Delimiters{}.encodingCharacters() == "^~\\&");
  BOOST_TEST((Delimiters{'|', '^', '~', '\0', '&', '#'}.encodingCharacters() == "^~"));
}

BOOST_AUTO_TEST_SUITE_END()
