#include "engine/hl7v2/ack.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <vector>

#include "tests/support/hl7_samples.h"

using cpis::core::ErrorCode;
using cpis::core::Issue;
using cpis::core::Severity;
using cpis::hl7v2::AckCode;
using cpis::hl7v2::AckMode;
using cpis::hl7v2::Outcome;
using cpis::test::visible;

namespace {

#define MSH_CUSTOM "MSH!@*$%!SNDAPP!SNDFAC!RCVAPP!RCVFAC!20240101120000!!ADT@A04@ADT_A01!CTRL1!P!2.4\r"

cpis::hl7v2::AckOptions fixedOptions() {
  cpis::hl7v2::AckOptions o;
  o.controlId = "ACK00001";
  o.timestamp = "20240101120500.000+0000";
  return o;
}

cpis::hl7v2::Message parsed(std::string_view hl7) {
  auto result = cpis::hl7v2::parse(hl7);
  if (!result) BOOST_FAIL("parse failed: " << result.error().text);
  return std::move(result).value();
}

// The ACK's segments, each without its '\r'; checks that every segment ends with '\r' only.
std::vector<std::string> segmentsOf(const std::string& ack) {
  BOOST_TEST(ack.find('\n') == std::string::npos);
  BOOST_TEST((!ack.empty() && ack.back() == '\r'));
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end = ack.find('\r'); end != std::string::npos; end = ack.find('\r', start)) {
    out.push_back(ack.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Issue issue(ErrorCode code, cpis::core::Location location, std::string text, Severity severity = Severity::Error) {
  Issue i;
  i.code = code;
  i.severity = severity;
  i.location = std::move(location);
  i.text = std::move(text);
  return i;
}

const Issue kMissingPid3 = issue(ErrorCode::RequiredFieldMissing, {"PID", 1, 3, 0, 0, 0, 90},
                                 "patient identifier list (PID-3) is missing");
const Issue kBadName = issue(ErrorCode::DataType, {"PID", 1, 5, 2, 1, 0, 120}, "name is not valid");
const Issue kLateArrival = issue(ErrorCode::DataType, {"PV1", 1, 44, 0, 0, 0, 300}, "arrival time in the future",
                                 Severity::Warning);
const Issue kNoMsh = issue(ErrorCode::SegmentSequence, {}, "message does not start with an MSH segment");

// ---------------------------------------------------------------------------------------------
// MSH-9 and MSH-12 by version

struct VersionCase {
  std::string_view inbound;
  std::string_view msh9;   // of the ACK, as sent
  std::string_view msh12;  // of the ACK
};
std::ostream& operator<<(std::ostream& os, const VersionCase& c) { return os << visible(c.inbound); }

const std::vector<VersionCase> kVersions{
    {MSH_PREFIX "2.2\r", "ACK", "2.2"},                           // 2.2: no trigger
    {MSH_PREFIX "2.3\r", "ACK^A01", "2.3"},                       // 2.3: ACK^event
    {MSH_PREFIX "2.3.1\r", "ACK^A01^ACK", "2.3.1"},               // 2.3.1: with structure
    {MSH24, "ACK^A01^ACK", "2.4"},                                // ITK's version
    {MSH_PREFIX "2.5\r", "ACK^A01^ACK", "2.5"},                   // 2.5
    {MSH_PREFIX "2.5.1\r", "ACK^A01^ACK", "2.5.1"},               // 2.5.1
    {MSH_PREFIX "2.7\r", "ACK^A01^ACK", "2.7"},                   // 2.7
    {MSH_PREFIX "\r", "ACK^A01^ACK", "2.4"},                      // no MSH-12: 2.4
    {MSH_PREFIX "2.4^GBR\r", "ACK^A01^ACK", "2.4^GBR"},           // MSH-12 as sent
    {"MSH|^~\\&|A|B|C|D|||ADT^A04|X|P|2.3\r", "ACK^A04", "2.3"},  // the message's event
    {"MSH|^~\\&|A|B|C|D|||ADT|X|P|2.4\r", "ACK^^ACK", "2.4"},     // no event sent
    {MSH_CUSTOM, "ACK@A04@ACK", "2.4"},                           // custom delimiters
    {"MSH|^~\\&|A|B|C|D|||ADT^A01|X|P|garbage\r", "ACK^A01^ACK",
     "2.4"},  // unreadable: the version the ACK is written in
};

// ---------------------------------------------------------------------------------------------
// Original vs enhanced mode

struct ModeCase {
  std::string_view inbound;
  AckMode mode;
};
std::ostream& operator<<(std::ostream& os, const ModeCase& c) { return os << visible(c.inbound); }

const std::vector<ModeCase> kModes{
    {MSH24, AckMode::Original},                             // MSH-15/16 absent: original (ITK)
    {MSH_PREFIX "2.4|||AL\r", AckMode::Enhanced},           // MSH-15 accept ack type
    {MSH_PREFIX "2.4||||AL\r", AckMode::Enhanced},          // MSH-16 application ack type
    {MSH_PREFIX "2.4|||AL|NE\r", AckMode::Enhanced},        // both
    {MSH_PREFIX "2.4|||NE|NE\r", AckMode::Enhanced},        // NE is still enhanced mode
    {MSH_PREFIX "2.4|||||\r", AckMode::Original},           // present but empty
    {MSH_PREFIX "2.4||||||8859/1\r", AckMode::Original},    // later fields only
    {MSH_PREFIX "2.4|||\"\"|\"\"\r", AckMode::Original},   // explicit null is not a value
    {MSH_PREFIX "2.4|||\"\"|AL\r", AckMode::Enhanced},       // null MSH-15, valued MSH-16
};

// ---------------------------------------------------------------------------------------------
// MSA and ERR by version

struct ErrCase {
  std::string_view version;
  AckCode code;
  std::vector<Issue> issues;
  std::vector<std::string_view> expected;  // segments after MSH
};
std::ostream& operator<<(std::ostream& os, const ErrCase& c) {
  return os << c.version << " with " << c.issues.size() << " issue(s)";
}

const std::vector<ErrCase> kErrForms{
    {"2.4", AckCode::AA, {}, {"MSA|AA|CTRL1"}},  // no issue: no ERR
    {"2.5", AckCode::AA, {}, {"MSA|AA|CTRL1"}},  // same from 2.5
    {"2.3",
     AckCode::AE,
     {kMissingPid3},  // ERR-1 and MSA-6
     {"MSA|AE|CTRL1|patient identifier list (PID-3) is missing|||101^Required field missing^HL70357",
      "ERR|PID^1^3^101&Required field missing&HL70357"}},
    {"2.2",
     AckCode::AE,
     {kMissingPid3},  // 2.2 likewise
     {"MSA|AE|CTRL1|patient identifier list (PID-3) is missing|||101^Required field missing^HL70357",
      "ERR|PID^1^3^101&Required field missing&HL70357"}},
    {"2.4",
     AckCode::AE,
     {kMissingPid3, kBadName},  // ERR-1 repeats
     {"MSA|AE|CTRL1|patient identifier list (PID-3) is missing|||101^Required field missing^HL70357",
      "ERR|PID^1^3^101&Required field missing&HL70357~PID^1^5^102&Data type error&HL70357"}},
    {"2.4",
     AckCode::AR,
     {kNoMsh},  // no segment to name
     {"MSA|AR|CTRL1|message does not start with an MSH segment|||100^Segment sequence error^HL70357",
      "ERR|^^^100&Segment sequence error&HL70357"}},
    {"2.5",
     AckCode::AE,
     {kMissingPid3},  // ERR-2/3/4/8
     {"MSA|AE|CTRL1|patient identifier list (PID-3) is missing",
      "ERR||PID^1^3|101^Required field missing^HL70357|E||||patient identifier list (PID-3) is missing"}},
    {"2.5.1",
     AckCode::AE,
     {kBadName},  // repetition, component
     {"MSA|AE|CTRL1|name is not valid",
      "ERR||PID^1^5^2^1|102^Data type error^HL70357|E||||name is not valid"}},
    {"2.5",
     AckCode::AA,
     {kLateArrival},  // a warning: W
     {"MSA|AA|CTRL1|arrival time in the future",
      "ERR||PV1^1^44|102^Data type error^HL70357|W||||arrival time in the future"}},
    {"2.5",
     AckCode::AR,
     {kNoMsh},  // ERR-2 empty
     {"MSA|AR|CTRL1|message does not start with an MSH segment",
      "ERR|||100^Segment sequence error^HL70357|E||||message does not start with an MSH segment"}},
    {"2.7",
     AckCode::AE,
     {kMissingPid3, kBadName},  // one ERR per issue
     {"MSA|AE|CTRL1|patient identifier list (PID-3) is missing",
      "ERR||PID^1^3|101^Required field missing^HL70357|E||||patient identifier list (PID-3) is missing",
      "ERR||PID^1^5^2^1|102^Data type error^HL70357|E||||name is not valid"}},
};

// ---------------------------------------------------------------------------------------------
// buildRejection: what a damaged header still offers

struct RejectionCase {
  std::string_view bytes;
  std::string_view msa1, msa2;
  std::string_view msh3, msh4, msh5, msh6;  // of the ACK: the inbound 5, 6, 3, 4
  std::string_view msh9, msh12;
};
std::ostream& operator<<(std::ostream& os, const RejectionCase& c) { return os << visible(c.bytes); }

const std::vector<RejectionCase> kRejections{
    {MSH24 "PI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // bad body
    {MSH_PREFIX "2.4|||AL\rPI\r", "CR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK",
     "2.4"},  // enhanced: CR
    {MSH_PREFIX "2.4||||ER\rPI\r", "CR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK",
     "2.4"},  // MSH-16 only
    {MSH_PREFIX "2.3\rPI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01", "2.3"},  // 2.3
    {"MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|||ADT^A01|CT\xE9L1|P|2.4\r", "AR", "", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // MSH-10 dropped
    {"MSH|^~\\&|S\x01ND|SNDFAC|RCVAPP|RCVFAC|||ADT^A01|CTRL1|P|2.4\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "",
     "SNDFAC", "ACK^A01^ACK", "2.4"},  // MSH-3 dropped
    {"MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|||ADT^A01|CTRL1|P|XYZ\rPI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // bad version
    {"MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|||^A04|CTRL1|P|2.4\r", "AR", "CTRL1", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A04^ACK", "2.4"},  // MSH-9.1 empty
    {"MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|||ADT^A01||P|2.4\r", "AR", "", "RCVAPP", "RCVFAC", "SNDAPP",
     "SNDFAC", "ACK^A01^ACK", "2.4"},  // no MSH-10
    {"MSH|^^\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|||ADT^A01|CTRL1|P|2.4\r", "AR", "CTRL1", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // bad MSH-2: MSH-1 still splits the fields, so MSA-2 pairs
    {"MSH^^~\\&^SNDAPP^SNDFAC^RCVAPP^RCVFAC^^^ADT^CTRL1^P^2.4\r", "AR", "", "", "", "", "", "ACK^^ACK",
     "2.4"},  // MSH-1 an encoding character: nothing
    {"MSH#^^\\&#SNDAPP#SNDFAC#RCVAPP#RCVFAC###ADT^A01#CTRL1#P#2.4\r", "AR", "CTRL1", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // bad MSH-2 under another field separator: the same
    {"PID|1\r" MSH24, "AR", "", "", "", "", "", "ACK^^ACK", "2.4"},  // no MSH first
    {"FHS|^~\\&|SNDAPP\rBHS|^~\\&|SNDAPP\r" MSH24 "PI\rBTS|1\rFTS|1\r", "AR", "CTRL1", "RCVAPP", "RCVFAC",
     "SNDAPP", "SNDFAC", "ACK^A01^ACK", "2.4"},  // a batch in one frame: paired with its first message
    {"BHS|^~\\&|SNDAPP\nBTS|0\n", "AR", "", "", "", "", "", "ACK^^ACK", "2.4"},  // an empty batch
    {"", "AR", "", "", "", "", "", "ACK^^ACK", "2.4"},                           // nothing
    {"\r\n \r" MSH24 "PI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK",
     "2.4"},  // leading blanks
    {"\xEF\xBB\xBF" MSH_UTF8 "PID|||\xC3(\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC",
     "ACK^A01^ACK", "2.5.1"},  // after a BOM
    {MSH_PREFIX "2.4\nPI\n", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK",
     "2.4"},  // LF ends
    {MSH_CUSTOM "PI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK@A04@ACK",
     "2.4"},  // custom
    {MSH_PREFIX "2.4|||\"\"|\"\"\rPI\r", "AR", "CTRL1", "RCVAPP", "RCVFAC", "SNDAPP", "SNDFAC", "ACK^A01^ACK",
     "2.4"},  // null: original
};

struct TimestampCase {
  std::int64_t millisSinceEpoch;
  std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const TimestampCase& c) { return os << c.expected; }

const std::vector<TimestampCase> kTimestamps{
    {0, "19700101000000.000+0000"},                  // the epoch
    {1710513012345, "20240315143012.345+0000"},      // milliseconds kept
    {1709251199999, "20240229235959.999+0000"},      // leap day, last millisecond
    {1711846800000, "20240331010000.000+0000"},      // BST starts: still UTC
    {4102444800000, "21000101000000.000+0000"},      // 2100
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ack)

BOOST_DATA_TEST_CASE(msh9_takes_the_form_the_version_expects, boost::unit_test::data::make(kVersions), c) {
  const std::string ack = cpis::hl7v2::buildAck(parsed(c.inbound), AckCode::AA, {}, fixedOptions());
  const auto segments = segmentsOf(ack);
  BOOST_REQUIRE(segments.size() == 2u);
  const auto reply = parsed(ack);
  BOOST_TEST(reply.fieldRaw(0, 9) == c.msh9);
  BOOST_TEST(reply.fieldRaw(0, 12) == c.msh12);
  BOOST_TEST((reply.delimiters() == parsed(c.inbound).delimiters()));
}

BOOST_DATA_TEST_CASE(ack_mode_follows_msh15_and_msh16, boost::unit_test::data::make(kModes), c) {
  BOOST_TEST((cpis::hl7v2::ackModeOf(parsed(c.inbound)) == c.mode));
}

BOOST_DATA_TEST_CASE(msa_and_err_take_the_form_the_version_expects, boost::unit_test::data::make(kErrForms), c) {
  const std::string inbound = MSH_PREFIX + std::string(c.version) + "\r";
  const std::string ack = cpis::hl7v2::buildAck(parsed(inbound), c.code, c.issues, fixedOptions());
  const auto segments = segmentsOf(ack);
  BOOST_REQUIRE(segments.size() == c.expected.size() + 1);
  for (std::size_t i = 0; i < c.expected.size(); ++i) BOOST_TEST(segments[i + 1] == c.expected[i]);
  BOOST_TEST(parsed(ack).get("MSA-1") == cpis::hl7v2::toString(c.code));
}

BOOST_DATA_TEST_CASE(rejection_salvages_what_the_damaged_header_offers, boost::unit_test::data::make(kRejections),
                     c) {
  const std::string ack = cpis::hl7v2::buildRejection(c.bytes, kNoMsh, fixedOptions());
  segmentsOf(ack);
  const auto reply = parsed(ack);  // the reply itself is always readable
  BOOST_TEST(reply.get("MSA-1") == c.msa1);
  BOOST_TEST(reply.get("MSA-2") == c.msa2);
  BOOST_TEST(reply.fieldRaw(0, 3) == c.msh3);
  BOOST_TEST(reply.fieldRaw(0, 4) == c.msh4);
  BOOST_TEST(reply.fieldRaw(0, 5) == c.msh5);
  BOOST_TEST(reply.fieldRaw(0, 6) == c.msh6);
  BOOST_TEST(reply.fieldRaw(0, 9) == c.msh9);
  BOOST_TEST(reply.fieldRaw(0, 12) == c.msh12);
  BOOST_TEST(reply.fieldRaw(0, 10) == "ACK00001");
  BOOST_TEST(reply.fieldRaw(0, 18) == "");  // untrusted bytes: the reply is plain ASCII
  BOOST_TEST((reply.charset() == cpis::hl7v2::Charset::Ascii));
  BOOST_TEST(reply.occurrences("ERR") == 1u);
  BOOST_TEST(std::string(ack).find("100") != std::string::npos);
}

// The key a refused message is stored under: its MSH-10, but never a batch's first message's
// (the batch is not that message: its AR pairs with it, above, but it is stored under a key of
// its own, so the message sent alone later is not taken for its resend or refused as another).
BOOST_AUTO_TEST_CASE(a_batch_is_never_stored_under_its_first_message_s_msh10) {
  BOOST_TEST(cpis::hl7v2::salvageControlId(MSH24 "PI\r") == "CTRL1");
  BOOST_TEST(cpis::hl7v2::salvageControlId("\r\n" MSH24 "PI\r") == "CTRL1");
  BOOST_TEST(cpis::hl7v2::salvageControlId("FHS|^~\\&|SNDAPP\rBHS|^~\\&|SNDAPP\r" MSH24 "PI\rBTS|1\r") == "");
  BOOST_TEST(cpis::hl7v2::salvageControlId("\xEF\xBB\xBF"
                                           "BHS|^~\\&|SNDAPP\r" MSH24 "BTS|1\r") == "");
}

BOOST_DATA_TEST_CASE(timestamps_are_utc_dtm_with_milliseconds, boost::unit_test::data::make(kTimestamps), c) {
  const std::chrono::system_clock::time_point at{std::chrono::milliseconds(c.millisSinceEpoch)};
  BOOST_TEST(cpis::hl7v2::hl7Timestamp(at) == c.expected);
}

BOOST_AUTO_TEST_CASE(header_swaps_sender_and_receiver_and_echoes_the_message) {
  const auto inbound = parsed(MSH_PREFIX "2.4\rPID|1\r");
  const std::string ack = cpis::hl7v2::buildAck(inbound, AckCode::AA, {}, fixedOptions());
  BOOST_TEST(visible(ack, 500) ==
             visible("MSH|^~\\&|RCVAPP|RCVFAC|SNDAPP|SNDFAC|20240101120500.000+0000||ACK^A01^ACK|ACK00001|P|2.4\r"
                     "MSA|AA|CTRL1\r",
                     500));
  const auto reply = parsed(ack);
  BOOST_TEST(reply.get("MSH-3") == inbound.get("MSH-5"));
  BOOST_TEST(reply.get("MSH-4") == inbound.get("MSH-6"));
  BOOST_TEST(reply.get("MSH-5") == inbound.get("MSH-3"));
  BOOST_TEST(reply.get("MSH-6") == inbound.get("MSH-4"));
  BOOST_TEST(reply.get("MSA-2") == inbound.controlId());
  BOOST_TEST(reply.version() == inbound.version());
}

// ITK feeds send MSH-17 GBR and MSH-19 EN; the ACK says the same back (CPIS.md §4 and its
// examples), also when it rejects a message whose header it could only salvage.
BOOST_AUTO_TEST_CASE(country_and_language_are_echoed) {
  const std::string itk = "MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|20240101120000||ADT^A04^ADT_A01|CTRL1|P|2.4|||||GBR|"
                          "UNICODE UTF-8|EN||ITKv1.0\r";
  const std::string ack = cpis::hl7v2::buildAck(parsed(itk + "PID|1\r"), AckCode::AA, {}, fixedOptions());
  BOOST_TEST(segmentsOf(ack)[0] ==
             "MSH|^~\\&|RCVAPP|RCVFAC|SNDAPP|SNDFAC|20240101120500.000+0000||ACK^A04^ACK|ACK00001|P|2.4|||||GBR|"
             "UNICODE UTF-8|EN");
  const Issue bad = issue(ErrorCode::SegmentSequence, {"", 2, 0, 0, 0, 0, 81}, "segment 2 is not a segment");
  const auto rejected = parsed(cpis::hl7v2::buildRejection(itk + "P|\r", bad, fixedOptions()));
  BOOST_TEST(rejected.get("MSH-17") == "GBR");
  BOOST_TEST(rejected.get("MSH-18") == "");  // written in ASCII: the bytes could not be trusted
  BOOST_TEST(rejected.get("MSH-19") == "EN");
}

// A feed set to original mode answers in original mode whatever the message's MSH-15/16 ask:
// a damaged message asking for enhanced mode gets AR there, CR only on an enhanced-mode feed.
BOOST_AUTO_TEST_CASE(a_rejection_follows_the_feeds_mode) {
  const std::string asking = "MSH|^~\\&|A|B|C|D|20240101120000||ADT^A04|C9|P|2.4|||AL|NE\rP|\r";
  const Issue bad = issue(ErrorCode::SegmentSequence, {"", 2, 0, 0, 0, 0, 81}, "segment 2 is not a segment");
  BOOST_TEST(parsed(cpis::hl7v2::buildRejection(asking, bad, fixedOptions())).get("MSA-1") == "CR");
  BOOST_TEST(parsed(cpis::hl7v2::buildRejection(asking, bad, fixedOptions(), false)).get("MSA-1") == "AR");
}

// The EPR's answer to a message the engine sent counts only as an ACK of that message; an
// application ACK sent over a return connection asks for it (MSH-15 AL, MSH-16 NE).
BOOST_AUTO_TEST_CASE(an_answer_acknowledges_only_the_message_it_names) {
  using cpis::hl7v2::acknowledgementOf;
  const std::string ack = "MSH|^~\\&|E|R|C|R|20261125||ACK|R1|P|2.4\rMSA|CA|C123\r";
  BOOST_TEST(acknowledgementOf(ack, "C123") == "CA");
  BOOST_TEST(acknowledgementOf(ack, "C124").empty());
  BOOST_TEST(acknowledgementOf("not HL7", "C123").empty());
  // 8-bit bytes in its text and no MSH-18 (an EPR that sends UTF-8 without saying so): still
  // the acknowledgement it is.
  BOOST_TEST(acknowledgementOf("MSH|^~\\&|E|R|C|R|20261125||ACK|R1|P|2.4\rMSA|AE|C123|Jos\xC3\xA9 unknown\r",
                               "C123") == "AE");
  auto options = fixedOptions();
  options.askForAccept = true;
  const auto asking = parsed(cpis::hl7v2::buildAck(parsed("MSH|^~\\&|A|B|C|D|||ADT^A01|ID1|P|2.4\r"),
                                                    AckCode::AA, {}, options));
  BOOST_TEST(asking.get("MSH-15") == "AL");
  BOOST_TEST(asking.get("MSH-16") == "NE");
}

BOOST_AUTO_TEST_CASE(msa2_is_msh10_exactly_as_sent) {
  const auto inbound = parsed("MSH|^~\\&|A|B|C|D|||ADT^A01|ID\\T\\7|P|2.4\r");
  const std::string ack = cpis::hl7v2::buildAck(inbound, AckCode::AA, {}, fixedOptions());
  BOOST_TEST(segmentsOf(ack)[1] == "MSA|AA|ID\\T\\7");
  BOOST_TEST(parsed(ack).get("MSA-2") == "ID&7");
}

BOOST_AUTO_TEST_CASE(the_ack_uses_the_message_delimiters_and_charset) {
  const auto custom = parsed(MSH_CUSTOM);
  const std::string a = cpis::hl7v2::buildAck(custom, AckCode::AE, std::vector<Issue>{kMissingPid3}, fixedOptions());
  BOOST_TEST(segmentsOf(a)[0] ==
             "MSH!@*$%!RCVAPP!RCVFAC!SNDAPP!SNDFAC!20240101120500.000+0000!!ACK@A04@ACK!ACK00001!P!2.4");
  BOOST_TEST(segmentsOf(a)[2] == "ERR!PID@1@3@101%Required field missing%HL70357");

  const auto latin1 = parsed(MSH_LATIN1 "PID|1\r");
  auto options = fixedOptions();
  options.textMessage = "Zo\xC3\xAB";  // UTF-8 in
  const std::string b = cpis::hl7v2::buildAck(latin1, AckCode::AA, {}, options);
  BOOST_TEST(segmentsOf(b)[0] ==
             "MSH|^~\\&|RCVAPP|RCVFAC|SNDAPP|SNDFAC|20240101120500.000+0000||ACK^A01^ACK|ACK00001|P|2.4||||||8859/1");
  BOOST_TEST(visible(segmentsOf(b)[1]) == visible("MSA|AA|CTRL1|Zo\xEB"));  // Latin-1 out
  BOOST_TEST(parsed(b).get("MSA-3") == "Zo\xC3\xAB");
}

BOOST_AUTO_TEST_CASE(texts_are_escaped_in_msa3_and_err8) {
  const auto inbound = parsed(MSH_PREFIX "2.5\r");
  const Issue tricky = issue(ErrorCode::DataType, {"PID", 1, 3, 0, 0, 0, 0}, "a|b^c~d&e\\f");
  const std::string ack = cpis::hl7v2::buildAck(inbound, AckCode::AE, std::vector<Issue>{tricky}, fixedOptions());
  const auto segments = segmentsOf(ack);
  BOOST_REQUIRE(segments.size() == 3u);
  BOOST_TEST(segments[1] == "MSA|AE|CTRL1|a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f");
  BOOST_TEST(segments[2] == "ERR||PID^1^3|102^Data type error^HL70357|E||||a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f");
  const auto reply = parsed(ack);
  BOOST_TEST(reply.get("MSA-3") == "a|b^c~d&e\\f");
  BOOST_TEST(reply.get("ERR-8") == "a|b^c~d&e\\f");
}

BOOST_AUTO_TEST_CASE(non_ascii_text_loses_accents_or_becomes_question_marks_in_an_ascii_reply) {
  auto options = fixedOptions();
  options.textMessage = "Zo\xC3\xAB \xE2\x82\xAC";  // e with diaeresis, the euro sign
  const std::string ack = cpis::hl7v2::buildAck(parsed(MSH24), AckCode::AA, {}, options);
  BOOST_TEST(segmentsOf(ack)[1] == "MSA|AA|CTRL1|Zoe ?");
}

BOOST_AUTO_TEST_CASE(options_fill_msh10_msh21_and_msa3) {
  auto options = fixedOptions();
  options.controlId = "A|1";
  options.profile = "CPIS-ACK-1.0";
  options.textMessage = "stored";
  const std::string ack =
      cpis::hl7v2::buildAck(parsed(MSH24), AckCode::AE, std::vector<Issue>{kMissingPid3}, options);
  const auto reply = parsed(ack);
  BOOST_TEST(reply.fieldRaw(0, 10) == "A\\F\\1");
  BOOST_TEST(reply.get("MSH-10") == "A|1");
  BOOST_TEST(reply.get("MSH-21") == "CPIS-ACK-1.0");
  BOOST_TEST(reply.get("MSA-3") == "stored");  // overrides the first issue's text
  BOOST_TEST(reply.get("MSH-7") == "20240101120500.000+0000");
}

BOOST_AUTO_TEST_CASE(the_default_version_applies_when_msh12_is_empty) {
  auto options = fixedOptions();
  options.defaultVersion = "2.3";
  const auto reply = parsed(cpis::hl7v2::buildAck(parsed(MSH_PREFIX "\r"), AckCode::AE,
                                                  std::vector<Issue>{kMissingPid3}, options));
  BOOST_TEST(reply.fieldRaw(0, 9) == "ACK^A01");
  BOOST_TEST(reply.version() == "2.3");
  BOOST_TEST(reply.get("MSA-6") == "101");  // 2.3 form
}

BOOST_AUTO_TEST_CASE(enhanced_mode_rejection_is_cr_with_the_error) {
  const auto inbound = parsed(MSH_PREFIX "2.5|||AL|AL\r");
  const AckMode mode = cpis::hl7v2::ackModeOf(inbound);
  const AckCode code = cpis::hl7v2::ackCodeFor(Outcome::Reject, mode);
  BOOST_TEST(cpis::hl7v2::toString(code) == "CR");
  const Issue internal = issue(ErrorCode::ApplicationInternalError, {}, "store unavailable");
  const auto reply = parsed(cpis::hl7v2::buildAck(inbound, code, std::vector<Issue>{internal}, fixedOptions()));
  BOOST_TEST(reply.get("MSA-1") == "CR");
  BOOST_TEST(reply.get("ERR-3") == "207");
  BOOST_TEST(reply.get("ERR-8") == "store unavailable");
  BOOST_TEST(reply.get("MSH-15") == "");  // the ACK asks for no ACK
}

BOOST_AUTO_TEST_CASE(rejection_of_bytes_with_a_damaged_header_escapes_the_issue_text) {
  const Issue bad = issue(ErrorCode::SegmentSequence, {"", 2, 0, 0, 0, 0, 81}, "segment 2 is not a|segment");
  const auto reply = parsed(cpis::hl7v2::buildRejection(MSH_PREFIX "2.5\rP|\r", bad, fixedOptions()));
  BOOST_TEST(reply.get("ERR-8") == "segment 2 is not a|segment");
  BOOST_TEST(reply.get("ERR-3") == "100");
  BOOST_TEST(reply.get("MSA-2") == "CTRL1");
}

BOOST_AUTO_TEST_CASE(legacy_err_without_a_repetition_character_reports_the_first_issue) {
  // MSH-2 "^": ERR-1 cannot repeat, and no stray byte may take the place of '~'
  const auto inbound = parsed("MSH|^|A||||||ADT^A01|1|P|2.4\r");
  const std::string ack =
      cpis::hl7v2::buildAck(inbound, AckCode::AE, std::vector<Issue>{kMissingPid3, kBadName}, fixedOptions());
  BOOST_TEST(ack.find('\0') == std::string::npos);
  const auto segments = segmentsOf(ack);
  BOOST_REQUIRE(segments.size() == 3u);
  BOOST_TEST(segments[2] == "ERR|PID^1^3^101^Required field missing^HL70357");
  BOOST_TEST(cpis::hl7v2::parse(ack).ok());
}

BOOST_AUTO_TEST_CASE(ack_codes_per_outcome_and_mode) {
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Accept, AckMode::Original)) == "AA");
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Error, AckMode::Original)) == "AE");
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Reject, AckMode::Original)) == "AR");
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Accept, AckMode::Enhanced)) == "CA");
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Error, AckMode::Enhanced)) == "CE");
  BOOST_TEST(cpis::hl7v2::toString(cpis::hl7v2::ackCodeFor(Outcome::Reject, AckMode::Enhanced)) == "CR");
}

BOOST_AUTO_TEST_CASE(in_mode_maps_the_same_outcome_across_modes) {
  const std::vector<std::pair<AckCode, AckCode>> pairs{
      {AckCode::AA, AckCode::CA}, {AckCode::AE, AckCode::CE}, {AckCode::AR, AckCode::CR}};
  for (const auto& [original, enhanced] : pairs) {
    BOOST_TEST((cpis::hl7v2::inMode(original, AckMode::Enhanced) == enhanced));
    BOOST_TEST((cpis::hl7v2::inMode(enhanced, AckMode::Original) == original));
    BOOST_TEST((cpis::hl7v2::inMode(original, AckMode::Original) == original));
    BOOST_TEST((cpis::hl7v2::inMode(enhanced, AckMode::Enhanced) == enhanced));
  }
}

BOOST_AUTO_TEST_CASE(ack_codes_round_trip_through_text) {
  for (const AckCode c : {AckCode::AA, AckCode::AE, AckCode::AR, AckCode::CA, AckCode::CE, AckCode::CR}) {
    const auto back = cpis::hl7v2::ackCodeFromString(cpis::hl7v2::toString(c));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST((*back == c));
  }
  for (const std::string_view bad : {"", "aa", "AAX", "NE", "A"}) {
    BOOST_TEST(!cpis::hl7v2::ackCodeFromString(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
