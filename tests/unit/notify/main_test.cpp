#define BOOST_TEST_MODULE test_notify
#include <boost/test/unit_test.hpp>
