#define BOOST_TEST_MODULE test_core
#include "engine/core/result.h"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>

#include "engine/core/issue.h"

using cpis::core::Issue;
using cpis::core::Result;
using cpis::core::Status;

BOOST_AUTO_TEST_SUITE(result)

BOOST_AUTO_TEST_CASE(a_value_is_ok_and_readable) {
  Result<int> good(3);
  BOOST_TEST(good.ok());
  BOOST_TEST(static_cast<bool>(good));
  BOOST_TEST(good.value() == 3);
  BOOST_TEST(*good == 3);
}

BOOST_AUTO_TEST_CASE(an_error_is_not_ok_and_keeps_its_status) {
  Result<int> bad(Status::unavailable("database down"));
  BOOST_TEST(!bad.ok());
  BOOST_TEST(!static_cast<bool>(bad));
  BOOST_TEST(bad.error().retryable());
  BOOST_TEST(bad.error().message() == "database down");
  BOOST_TEST((bad.error().code() == Status::Code::Unavailable));
}

BOOST_AUTO_TEST_CASE(value_or_gives_the_fallback_only_on_error) {
  const Result<std::string> good(std::string("value"));
  const Result<std::string> bad(Status::notFound("row 7"));
  BOOST_TEST(good.valueOr("fallback") == "value");
  BOOST_TEST(bad.valueOr("fallback") == "fallback");
}

BOOST_AUTO_TEST_CASE(arrow_reaches_members_of_the_value) {
  Result<std::string> good(std::string("abc"));
  BOOST_TEST(good->size() == 3u);
  good->append("d");
  BOOST_TEST(good.value() == "abcd");
}

BOOST_AUTO_TEST_CASE(value_can_be_moved_out_of_an_rvalue) {
  Result<std::unique_ptr<int>> holder(std::make_unique<int>(42));
  std::unique_ptr<int> taken = std::move(holder).value();
  BOOST_REQUIRE(taken != nullptr);
  BOOST_TEST(*taken == 42);
}

BOOST_AUTO_TEST_CASE(error_can_be_moved_out_of_an_rvalue) {
  Result<int, Issue> bad(Issue{cpis::core::ErrorCode::DataType, cpis::core::Severity::Error, {}, "bad byte"});
  const Issue issue = std::move(bad).error();
  BOOST_TEST(issue.text == "bad byte");
  BOOST_TEST(static_cast<unsigned>(issue.code) == 102u);
}

BOOST_AUTO_TEST_CASE(a_custom_error_type_is_allowed) {
  Result<int, std::string> bad(std::string("syntax"));
  BOOST_TEST(!bad.ok());
  BOOST_TEST(bad.error() == "syntax");
  Result<int, std::string> good(5);
  BOOST_TEST(good.valueOr(0) == 5);
}

BOOST_AUTO_TEST_CASE(value_is_mutable_through_a_reference) {
  Result<int> good(1);
  good.value() = 7;
  BOOST_TEST(*good == 7);
}

BOOST_AUTO_TEST_SUITE_END()
