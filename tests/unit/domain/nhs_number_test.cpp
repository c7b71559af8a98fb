#define BOOST_TEST_MODULE test_domain
#include "engine/domain/nhs_number.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <sstream>
#include <vector>

using cpis::domain::NhsNumber;
using cpis::domain::NhsNumberError;
using cpis::domain::RefusedNhsNumber;

namespace {

struct ValidCase {
  std::string_view text;
  std::string_view digits;   // reveal()
  std::string_view display;  // 3-3-4 with spaces
  bool testRange;
  bool placeholder;
};
std::ostream& operator<<(std::ostream& os, const ValidCase& c) { return os << '"' << c.text << '"'; }

// CPIS.md section 3 and its worked examples.
const std::vector<ValidCase> kValid{
    {"9990000018", "9990000018", "999 000 0018", true, false},  // worked example: 245 mod 11 = 3, check 8
    {"9993000000", "9993000000", "999 300 0000", true, false},  // remainder 0: 11 means check digit 0
    {"9996543218", "9996543218", "999 654 3218", true, false},  // sum 355, remainder 3, check 8
    {"9434765919", "9434765919", "943 476 5919", false, false},  // outside the test range
    {"943 476 5919", "9434765919", "943 476 5919", false, false},  // display form with spaces
    {"943-476-5919", "9434765919", "943 476 5919", false, false},  // dashes
    {" 9434765919 ", "9434765919", "943 476 5919", false, false},  // spaces around
    {"94 34-76 59-19", "9434765919", "943 476 5919", false, false},  // spaces and dashes anywhere
    {"9449306753", "9449306753", "944 930 6753", false, false},  // NHS England FHIR example: not 999
    {"0000000000", "0000000000", "000 000 0000", false, true},   // all zeros: valid checksum, placeholder
    {"3333333333", "3333333333", "333 333 3333", false, true},   // ITK samples' placeholder
    {"9999999999", "9999999999", "999 999 9999", true, true},    // both test range and placeholder
};

struct InvalidCase {
  std::string_view text;
  NhsNumberError reason;
};
std::ostream& operator<<(std::ostream& os, const InvalidCase& c) { return os << '"' << c.text << '"'; }

const std::vector<InvalidCase> kInvalid{
    {"9990000019", NhsNumberError::CheckDigitMismatch},  // check digit should be 8
    {"9991234560", NhsNumberError::CheckDigitTen},       // sum 320, remainder 1: check 10, never issued
    {"99900000018", NhsNumberError::WrongLength},        // eleven digits
    {"999000001", NhsNumberError::WrongLength},          // nine digits
    {"", NhsNumberError::Empty},                          // nothing
    {"   ", NhsNumberError::Empty},                       // only spaces
    {"- -", NhsNumberError::Empty},                       // only separators
    {"999000001A", NhsNumberError::InvalidCharacter},    // a letter
    {"ABCDEFGHIJ", NhsNumberError::InvalidCharacter},    // letters only
    {"999.000.0018", NhsNumberError::InvalidCharacter},  // dots are not accepted separators
    {"999\t000\t0018", NhsNumberError::InvalidCharacter},  // tabs are not spaces
    {"999_000_0018", NhsNumberError::InvalidCharacter},  // underscores
    {"+449990000018", NhsNumberError::InvalidCharacter},  // a sign
    {"９９９0000018", NhsNumberError::InvalidCharacter},  // full-width digits (UTF-8)
    {"9990000000", NhsNumberError::CheckDigitTen},       // first number of the range: sum 243, check 10
    {"9434765918", NhsNumberError::CheckDigitMismatch},  // off by one in the check digit
    {"9434765991", NhsNumberError::CheckDigitMismatch},  // last two digits swapped
};

}  // namespace

BOOST_AUTO_TEST_SUITE(nhs_number)

BOOST_DATA_TEST_CASE(valid_numbers_parse_and_display, boost::unit_test::data::make(kValid), c) {
  const auto number = NhsNumber::parse(c.text);
  BOOST_REQUIRE(number.has_value());
  BOOST_TEST(!NhsNumber::check(c.text).has_value());
  BOOST_TEST(number->reveal() == c.digits);
  BOOST_TEST(number->display() == c.display);
  BOOST_TEST(number->isTestRange() == c.testRange);
  BOOST_TEST(number->isPlaceholder() == c.placeholder);
}

BOOST_DATA_TEST_CASE(invalid_numbers_are_refused_with_their_reason,
                     boost::unit_test::data::make(kInvalid), c) {
  BOOST_TEST(!NhsNumber::parse(c.text).has_value());
  const auto reason = NhsNumber::check(c.text);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(static_cast<int>(*reason) == static_cast<int>(c.reason));
}

BOOST_AUTO_TEST_CASE(printing_never_shows_the_digits) {
  const auto number = NhsNumber::parse("9434765919");
  BOOST_REQUIRE(number.has_value());
  std::ostringstream os;
  os << *number;
  BOOST_TEST(os.str() == "NhsNumber(***)");
  BOOST_TEST(os.str().find("943") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_number_prints_masked_and_keeps_a_bounded_prefix) {
  const RefusedNhsNumber typo("943 476 5918");
  BOOST_TEST(typo.reveal() == "943 476 5918");
  std::ostringstream os;
  os << typo;
  BOOST_TEST(os.str() == "RefusedNhsNumber(***)");
  // Longer than kMaxLength: cut, never inside a character (the 20th byte starts a 2-byte one).
  const RefusedNhsNumber junk(std::string(19, '9') + "\xC3\xA9" + "123");
  BOOST_TEST(junk.reveal() == std::string(19, '9'));
  BOOST_TEST(RefusedNhsNumber(std::string(25, '1')).reveal().size() == RefusedNhsNumber::kMaxLength);
}

BOOST_AUTO_TEST_CASE(normalised_forms_compare_equal) {
  const auto bare = NhsNumber::parse("9434765919");
  const auto spaced = NhsNumber::parse("943 476 5919");
  const auto dashed = NhsNumber::parse("943-476-5919");
  const auto other = NhsNumber::parse("9990000018");
  BOOST_REQUIRE((bare && spaced && dashed && other));
  BOOST_TEST((*bare == *spaced));
  BOOST_TEST((*bare == *dashed));
  BOOST_TEST(!(*bare == *other));
}

BOOST_AUTO_TEST_CASE(test_range_is_999_000_0000_to_999_999_9999) {
  // The lowest and highest valid numbers in the reserved range, and one just below it.
  BOOST_TEST(NhsNumber::parse("9990000018")->isTestRange());
  BOOST_TEST(NhsNumber::parse("9999999999")->isTestRange());
  const auto below = NhsNumber::parse("9989999996");  // 998 999 999: sum 478, check digit 6
  BOOST_REQUIRE(below.has_value());
  BOOST_TEST(!below->isTestRange());
}

BOOST_AUTO_TEST_CASE(every_reason_has_its_own_description) {
  const std::vector<NhsNumberError> reasons{NhsNumberError::Empty, NhsNumberError::InvalidCharacter,
                                            NhsNumberError::WrongLength, NhsNumberError::CheckDigitTen,
                                            NhsNumberError::CheckDigitMismatch};
  std::vector<std::string_view> texts;
  for (const auto reason : reasons) texts.push_back(cpis::domain::describe(reason));
  for (std::size_t i = 0; i < texts.size(); ++i) {
    BOOST_TEST(!texts[i].empty());
    for (std::size_t j = i + 1; j < texts.size(); ++j) BOOST_TEST(texts[i] != texts[j]);
  }
  BOOST_TEST(cpis::domain::describe(static_cast<NhsNumberError>(99)) == "invalid NHS number");
}

BOOST_AUTO_TEST_CASE(all_same_digit_numbers_are_placeholders_when_valid) {
  int valid = 0;
  for (char d = '0'; d <= '9'; ++d) {
    const std::string text(10, d);
    if (const auto number = NhsNumber::parse(text)) {
      ++valid;
      BOOST_TEST(number->isPlaceholder(), text);
    }
  }
  // 0000000000 ... 9999999999: the weighted sum is 54 * d, so every one is valid (check = d).
  BOOST_TEST(valid == 10);
}

BOOST_AUTO_TEST_SUITE_END()
