#include <cctype>
#include <set>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/pipeline/check.h"

BOOST_AUTO_TEST_SUITE(check_id)

BOOST_AUTO_TEST_CASE(is_a_random_uuid_in_upper_case) {
  const std::string id = cpis::pipeline::newCheckId();
  BOOST_REQUIRE(id.size() == 36U);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      BOOST_TEST(id[i] == '-');
    } else {
      const auto c = static_cast<unsigned char>(id[i]);
      BOOST_TEST((std::isdigit(c) != 0 || (c >= 'A' && c <= 'F')), id);
    }
  }
  BOOST_TEST(id[14] == '4');  // version 4: random
  BOOST_TEST(std::string("89AB").find(id[19]) != std::string::npos);  // the RFC 4122 variant
}

BOOST_AUTO_TEST_CASE(differs_every_time) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(cpis::pipeline::newCheckId());
  BOOST_TEST(ids.size() == 1000U);
}

BOOST_AUTO_TEST_SUITE_END()
