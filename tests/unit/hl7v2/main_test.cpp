#define BOOST_TEST_MODULE test_hl7v2
#include <boost/test/unit_test.hpp>
