#define BOOST_TEST_MODULE test_cli
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "engine/cli/hl7_tool.h"

BOOST_AUTO_TEST_CASE(no_arguments_is_a_usage_error) {
  std::istringstream in;
  std::ostringstream out, err;
  BOOST_TEST(cpis::cli::runHl7Tool({}, in, out, err) == 2);
}
