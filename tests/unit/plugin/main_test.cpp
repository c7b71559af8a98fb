#define BOOST_TEST_MODULE test_plugin
#include <boost/test/unit_test.hpp>
