#include "engine/hl7v2/batch.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

#include "tests/support/hl7_samples.h"

using cpis::test::visible;

namespace {

// Three small messages (MSH-10 M1, M2, M3) and one without MSH-10.
#define M1 "MSH|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||ADT^A04^ADT_A01|M1|P|2.4\rPID|1\r"
#define M2 "MSH|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||ADT^A08^ADT_A01|M2|P|2.4\rPID|2\rPV1|1\r"
#define M3 "MSH|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||ADT^A03^ADT_A03|M3|P|2.4\rPID|3\r"
#define BROKEN "MSH|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||ADT^A04^ADT_A01||P|2.4\rPID|1\r"
#define FHS "FHS|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||f.hl7\r"
#define BHS "BHS|^~\\&|PAS|RZZ|CPIS|RZZ|20240328||ADT\r"

struct EnvelopeIssue {
  unsigned code;
  std::string_view segmentId;
  std::uint32_t sequence;
};

struct StreamCase {
  std::string_view bytes;
  std::vector<std::string_view> controlIds;  // per message; "" = the message did not parse
  std::size_t batches;
  bool fileEnvelope;
  std::vector<EnvelopeIssue> issues;
};
std::ostream& operator<<(std::ostream& os, const StreamCase& c) { return os << visible(c.bytes, 120); }

const std::vector<StreamCase> kStreams{
    {M1, {"M1"}, 0, false, {}},                                                   // one bare message
    {M1 M2 M3, {"M1", "M2", "M3"}, 0, false, {}},                                 // several, back to back
    {"MSH|^~\\&|A||||||ADT^A01|X1|P|2.4\nPID|1\nMSH|^~\\&|A||||||ADT^A01|X2|P|2.4\nPID|2\n",
     {"X1", "X2"}, 0, false, {}},                                                 // LF segment ends
    {"MSH|^~\\&|A||||||ADT^A01|X1|P|2.4\r\nMSH|^~\\&|A||||||ADT^A01|X2|P|2.4\r\n",
     {"X1", "X2"}, 0, false, {}},                                                 // CRLF segment ends
    {M1 "\r\n\n" M2 "\n\n", {"M1", "M2"}, 0, false, {}},                          // blank lines between
    {"\xEF\xBB\xBF" M1 M2, {"M1", "M2"}, 0, false, {}},                           // byte order mark
    {"", {}, 0, false, {}},                                                       // empty input
    {"\r\n\r\n  \r", {}, 0, false, {}},                                           // only blank lines
    {FHS BHS M1 M2 "BTS|2\rFTS|1\r", {"M1", "M2"}, 1, true, {}},                  // full envelope
    {BHS M1 "BTS|1\r", {"M1"}, 1, false, {}},                                     // batch without FHS
    {FHS BHS M1 "BTS|2\rFTS|1\r", {"M1"}, 1, true, {{100, "BTS", 1}}},            // BTS-1 too high
    {FHS BHS M1 M2 M3 "BTS|2\rFTS|1\r", {"M1", "M2", "M3"}, 1, true, {{100, "BTS", 1}}},  // too low
    {FHS BHS M1 "BTS|1\rFTS|2\r", {"M1"}, 1, true, {{100, "FTS", 1}}},            // FTS-1 wrong
    {FHS BHS M1 "BTS|one\rFTS|1\r", {"M1"}, 1, true, {{102, "BTS", 1}}},          // not a number
    {FHS BHS M1 "BTS|-1\rFTS|1\r", {"M1"}, 1, true, {{102, "BTS", 1}}},           // negative
    {FHS BHS M1 "BTS|\rFTS|\r", {"M1"}, 1, true, {}},                             // counts are optional
    {FHS BHS M1 "BTS\rFTS\r", {"M1"}, 1, true, {}},                               // trailers with no fields
    {FHS BHS M1 "BTS|1|comment\rFTS|1|comment\r", {"M1"}, 1, true, {}},           // comments ignored
    {FHS BHS M1 "BTS|1\r" BHS M2 M3 "BTS|2\rFTS|2\r", {"M1", "M2", "M3"}, 2, true, {}},  // two batches
    {FHS BHS M1 "BTS|1\r" BHS M2 M3 "BTS|3\rFTS|2\r", {"M1", "M2", "M3"}, 2, true,
     {{100, "BTS", 2}}},                                                          // second BTS located
    {FHS BHS M1 "BTS|5\r" BHS M2 "BTS|1\rFTS|3\r", {"M1", "M2"}, 2, true,
     {{100, "BTS", 1}, {100, "FTS", 1}}},                                         // two problems
    {FHS M1 "FTS|0\r", {"M1"}, 0, true, {}},                                      // no batch: FTS-1 is 0
    {"PID|1\rEVN|x\r" M1, {"M1"}, 0, false, {{100, "", 1}}},                      // stray segments, once
    {FHS BHS M1 "BTS|1\rPID|9\rFTS|1\r", {"M1"}, 1, true, {{100, "", 1}}},        // stray after a BTS
    {M1 BROKEN M3, {"M1", "", "M3"}, 0, false, {}},                               // one broken, others read
    {M1 "MSH|^~\\&\r" M3, {"M1", "", "M3"}, 0, false, {}},                        // truncated header
    {"FHS!@*$%!PAS\rBHS!@*$%!PAS\r"
     "MSH!@*$%!PAS!!!!!!ADT@A04!C1!P!2.4\rPID!1\rBTS!1\rFTS!1\r", {"C1"}, 1, true, {}},  // custom MSH-1
    {"FHS!@*$%!PAS\rBHS!@*$%!PAS\r"
     "MSH!@*$%!PAS!!!!!!ADT@A04!C1!P!2.4\rBTS!2\rFTS!1\r", {"C1"}, 1, true, {{100, "BTS", 1}}},  // ... checked
};

}  // namespace

BOOST_AUTO_TEST_SUITE(batch)

BOOST_DATA_TEST_CASE(streams_split_into_messages_and_check_the_envelope, boost::unit_test::data::make(kStreams),
                     c) {
  const auto stream = cpis::hl7v2::parseStream(c.bytes);
  BOOST_REQUIRE(stream.messages.size() == c.controlIds.size());
  for (std::size_t i = 0; i < c.controlIds.size(); ++i) {
    const auto& m = stream.messages[i];
    BOOST_TEST(c.bytes.substr(m.offset, 3) == "MSH", "message " << i + 1);
    BOOST_TEST(m.message.ok() == !c.controlIds[i].empty(), "message " << i + 1);
    if (m.message.ok()) BOOST_TEST(m.message->controlId() == c.controlIds[i]);
  }
  BOOST_TEST(stream.batches == c.batches);
  BOOST_TEST(stream.fileEnvelope == c.fileEnvelope);
  BOOST_REQUIRE(stream.issues.size() == c.issues.size());
  for (std::size_t i = 0; i < c.issues.size(); ++i) {
    BOOST_TEST(static_cast<unsigned>(stream.issues[i].code) == c.issues[i].code);
    BOOST_TEST(stream.issues[i].location.segmentId == c.issues[i].segmentId);
    BOOST_TEST(stream.issues[i].location.segmentSequence == c.issues[i].sequence);
    BOOST_TEST(!stream.issues[i].text.empty());
  }
}

BOOST_AUTO_TEST_CASE(offsets_point_into_the_input) {
  const std::string bytes = FHS BHS M1 BROKEN "BTS|2\rFTS|1\r";
  const auto stream = cpis::hl7v2::parseStream(bytes);
  BOOST_REQUIRE(stream.messages.size() == 2u);
  const std::size_t first = std::string_view(FHS BHS).size();
  BOOST_TEST(stream.messages[0].offset == first);
  BOOST_TEST(stream.messages[1].offset == first + std::string_view(M1).size());
  // the broken message's issue is relative to its own start, not the input's
  const auto& broken = stream.messages[1].message;
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.error().location.segmentId == "MSH");
  BOOST_TEST(broken.error().location.field == 10u);
  BOOST_TEST(broken.error().location.byteOffset < std::string_view(BROKEN).size());
  // a broken message still counts towards BTS-1
  BOOST_TEST(stream.issues.empty());
}

BOOST_AUTO_TEST_CASE(envelope_issue_offsets_are_in_the_whole_input) {
  const std::string bytes = FHS BHS M1 "BTS|3\rFTS|1\r";
  const auto stream = cpis::hl7v2::parseStream(bytes);
  BOOST_REQUIRE(stream.issues.size() == 1u);
  BOOST_TEST(stream.issues[0].location.byteOffset == bytes.find("BTS"));
  BOOST_TEST(stream.issues[0].location.field == 1u);
  BOOST_TEST(stream.issues[0].text == "batch message count is 3 but 1 were found");
}

BOOST_AUTO_TEST_CASE(each_message_keeps_only_its_own_segments) {
  const auto stream = cpis::hl7v2::parseStream(FHS BHS M1 M2 "BTS|2\rFTS|1\r");
  BOOST_REQUIRE(stream.messages.size() == 2u);
  BOOST_TEST(stream.messages[0].message->serialize() == M1);
  BOOST_TEST(stream.messages[1].message->serialize() == M2);
}

BOOST_AUTO_TEST_SUITE_END()
