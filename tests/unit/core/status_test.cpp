#include "engine/core/status.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <vector>

using cpis::core::Status;

namespace {

struct StatusCase {
  Status status;
  Status::Code code;
  std::string_view name;  // toString(code)
  bool retryable;
  std::string_view printed;
};
std::ostream& operator<<(std::ostream& os, const StatusCase& c) { return os << c.printed; }

const std::vector<StatusCase> kStatuses{
    {Status::ok(), Status::Code::Ok, "ok", false, "ok"},                                    // default
    {Status::invalidArgument("bad path"), Status::Code::InvalidArgument, "invalid argument", false,
     "invalid argument: bad path"},                                                          // caller's fault
    {Status::notFound("row 7"), Status::Code::NotFound, "not found", false, "not found: row 7"},
    {Status::unavailable("spine"), Status::Code::Unavailable, "unavailable", true,
     "unavailable: spine"},                                                                  // retry may help
    {Status::timeout("after 5s"), Status::Code::Timeout, "timeout", true, "timeout: after 5s"},  // retry
    {Status::internal("bug"), Status::Code::Internal, "internal error", false,
     "internal error: bug"},                                                                 // our bug
    {Status::unavailable(""), Status::Code::Unavailable, "unavailable", true, "unavailable"},  // no ": "
};

}  // namespace

BOOST_AUTO_TEST_SUITE(status)

BOOST_DATA_TEST_CASE(each_code_names_itself_and_says_whether_to_retry,
                     boost::unit_test::data::make(kStatuses), c) {
  BOOST_TEST((c.status.code() == c.code));
  BOOST_TEST(c.status.isOk() == (c.code == Status::Code::Ok));
  BOOST_TEST(c.status.retryable() == c.retryable);
  BOOST_TEST(cpis::core::toString(c.code) == c.name);
  std::ostringstream os;
  os << c.status;
  BOOST_TEST(os.str() == c.printed);
}

BOOST_AUTO_TEST_CASE(default_status_is_ok_with_no_message) {
  const Status s;
  BOOST_TEST(s.isOk());
  BOOST_TEST(s.message().empty());
  BOOST_TEST((s == Status::ok()));
}

BOOST_AUTO_TEST_CASE(statuses_compare_by_code_and_message) {
  BOOST_TEST((Status::timeout("a") == Status::timeout("a")));
  BOOST_TEST(!(Status::timeout("a") == Status::timeout("b")));
  BOOST_TEST(!(Status::timeout("a") == Status::unavailable("a")));
}

BOOST_AUTO_TEST_CASE(an_unknown_code_prints_as_unknown) {
  BOOST_TEST(cpis::core::toString(static_cast<Status::Code>(200)) == "unknown");
}

BOOST_AUTO_TEST_SUITE_END()
