#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/message.h"
#include "engine/pipeline/intake.h"

namespace {

cpis::hl7v2::Message message(const std::string& processingId) {
  auto parsed = cpis::hl7v2::parse("MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|P1|" +
                                   processingId + "|2.4\rPID|1||9990000018^^^NHS^NH\r");
  BOOST_REQUIRE(parsed);
  return std::move(parsed).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(intake)

// A training or debugging system pointed at a LIVE feed: AR 202 at MSH-11, so its made-up
// attendances record no access at CP-IS and tell no local authority. TEST feeds take them all.
BOOST_AUTO_TEST_CASE(a_live_feed_refuses_training_and_debugging_messages) {
  using cpis::pipeline::Environment;
  using cpis::pipeline::refusedProcessingId;
  for (const std::string id : {"T", "D", "T^A", "D^R", "t", "X", "PROD"}) {
    const auto problem = refusedProcessingId(message(id), Environment::Live);
    BOOST_TEST_REQUIRE(problem.has_value(), id);
    BOOST_TEST((problem->code == cpis::core::ErrorCode::UnsupportedProcessingId));
    BOOST_TEST(problem->location.field == 11u);
    BOOST_TEST(problem->text.find("LIVE") != std::string::npos, problem->text);
    BOOST_TEST(!refusedProcessingId(message(id), Environment::Test).has_value(), id);
  }
  for (const std::string id : {"P", "", "P^T"}) {
    BOOST_TEST(!refusedProcessingId(message(id), Environment::Live).has_value(), id);
  }
}

BOOST_AUTO_TEST_SUITE_END()
