#include "engine/pipeline/intake.h"

#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/message.h"

namespace {

cpis::hl7v2::Message message(const std::string& processingId, const std::string& version = "2.4") {
  auto parsed = cpis::hl7v2::parse("MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|P1|" +
                                   processingId + "|" + version + "\rPID|1||9990000018^^^NHS^NH\r");
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

// Another version's message is read by v2's rules only by luck: AR 203 at MSH-12. Every v2
// release, with or without MSH-12's other components, goes on; so does an empty MSH-12.
BOOST_AUTO_TEST_CASE(a_message_of_another_hl7_version_is_refused) {
  using cpis::pipeline::refusedVersionId;
  for (const std::string version : {"3.0", "3", "V2.4", "2.4b", "2.10", "1.0", "2.4.1.1", "2,4", "2. 4"}) {
    const auto problem = refusedVersionId(message("P", version));
    BOOST_TEST_REQUIRE(problem.has_value(), version);
    BOOST_TEST((problem->code == cpis::core::ErrorCode::UnsupportedVersionId));
    BOOST_TEST(problem->location.segmentId == "MSH");
    BOOST_TEST(problem->location.field == 12u);
  }
  for (const std::string version :
       {"2.0", "2.1", "2.3", "2.3.1", "2.4", "2.5.1", "2.5.1^GBR", "2.9", "", " 2.4 "}) {
    BOOST_TEST(!refusedVersionId(message("P", version)).has_value(), version);
  }
}

// AR 103 names what was sent and what the feed expects; a value that is no printable ASCII, or
// is long, is shown cut short and with '?' in place of what it cannot show (it reaches the log).
BOOST_AUTO_TEST_CASE(another_sender_is_named_with_the_value_configured) {
  using cpis::pipeline::refusedSender;
  const auto sentBy = [](const std::string& facility) {
    auto parsed = cpis::hl7v2::parse("MSH|^~\\&|EDSYS|" + facility +
                                     "|CPIS-ENGINE|RZZ|20261125101500||ADT^A04^ADT_A01|P1|P|2.4\r");
    BOOST_REQUIRE(parsed);
    return std::move(parsed).value();
  };
  BOOST_TEST(!refusedSender(sentBy("RZZ"), std::string("EDSYS"), std::string("RZZ")).has_value());
  BOOST_TEST(!refusedSender(sentBy("OTHER"), std::string("EDSYS"), std::nullopt).has_value());  // not checked
  const auto other = refusedSender(sentBy("RXY"), std::string("EDSYS"), std::string("RZZ"));
  BOOST_TEST_REQUIRE(other.has_value());
  BOOST_TEST((other->code == cpis::core::ErrorCode::TableValueNotFound));
  BOOST_TEST(other->location.field == 4u);
  BOOST_TEST(other->text == "sending facility (MSH-4) is 'RXY', not 'RZZ' as configured for this feed");
  const auto empty = refusedSender(sentBy(""), std::nullopt, std::string("RZZ"));
  BOOST_TEST_REQUIRE(empty.has_value());
  BOOST_TEST(empty->text == "sending facility (MSH-4) is empty, not 'RZZ' as configured for this feed");
  const auto odd =
      refusedSender(sentBy("R\\X09\\Z" + std::string(50, 'A')), std::nullopt, std::string("RZZ"));
  BOOST_TEST_REQUIRE(odd.has_value());
  BOOST_TEST(odd->text == "sending facility (MSH-4) is 'R?Z" + std::string(37, 'A') +
                              "...', not 'RZZ' as configured for this feed");
}

BOOST_AUTO_TEST_SUITE_END()
