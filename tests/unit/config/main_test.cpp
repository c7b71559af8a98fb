#define BOOST_TEST_MODULE test_config
#include <boost/test/unit_test.hpp>
