#include "engine/hl7v2/message.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

namespace {
struct FieldCase {
  std::string_view hl7, path, expected;
};
std::ostream& operator<<(std::ostream& os, const FieldCase& c) { return os << c.path; }
const std::vector<FieldCase> kCases{
    {"MSH|^~\\&|SENDER||||||ADT^A01|1|P|2.4\r", "MSH-3", "SENDER"},
    {"MSH|^~\\&|A||||||ADT^A01|1|P|2.4\rPID|||1^^^X~2^^^Y\r", "PID-3(2).1", "2"},
};
}  // namespace

BOOST_DATA_TEST_CASE(field_by_path, boost::unit_test::data::make(kCases), c) {
  BOOST_TEST(cpis::hl7v2::parse(c.hl7).value().get(c.path) == c.expected);
}
