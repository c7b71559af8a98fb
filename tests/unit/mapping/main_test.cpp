#define BOOST_TEST_MODULE test_mapping
#include <boost/test/unit_test.hpp>
