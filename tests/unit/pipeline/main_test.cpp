#define BOOST_TEST_MODULE test_pipeline
#include <boost/test/unit_test.hpp>
