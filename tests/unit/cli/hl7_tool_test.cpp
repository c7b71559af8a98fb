#define BOOST_TEST_MODULE test_cli
#include "engine/cli/hl7_tool.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "engine/hl7v2/batch.h"
#include "engine/hl7v2/message.h"
#include "tests/support/hl7_samples.h"

using cpis::test::visible;

namespace {

// Paths are relative to the repository root, where ctest runs the tests.
const std::string kA01 = "tests/data/hl7v2/adt_a01_v24.hl7";
const std::string kBatch = "tests/data/hl7v2/batch_adt.hl7";
const std::string kMulti = "tests/data/hl7v2/multi_message.hl7";
const std::string kLatin1 = "tests/data/hl7v2/latin1_a01.hl7";
const std::string kCrlf = "tests/data/hl7v2/crlf_terminated_a04.hl7";
const std::string kBench = "tests/data/hl7v2/adt_a01_bench.hl7";
const std::string kEnhanced = "tests/data/hl7v2/adt_a31_v251.hl7";
const std::string kCustom = "tests/data/hl7v2/custom_delimiters_a04.hl7";

#define SMALL "MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|20240101||ADT^A04^ADT_A01|C1|P|2.4\rPID|1||111^^^NHS~222^^^MR||DOE^JO||||||||\"\"\r"

struct Run {
  int status = -1;
  std::string out, err;
};

Run run(const std::vector<std::string>& args, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  unsigned next = 0;
  cpis::cli::AckStamp stamp;
  stamp.now = [] { return std::chrono::system_clock::time_point{std::chrono::milliseconds(1710513012345)}; };
  stamp.nextControlId = [&next] { return "ACK" + std::to_string(++next); };
  Run r;
  r.status = cpis::cli::runHl7Tool(args, in, out, err, stamp);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::size_t countLines(const std::string& text) { return lines(text).size(); }

Poco::Dynamic::Var parseJson(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text);  // throws on invalid JSON
}

// ---------------------------------------------------------------------------------------------
// Usage errors: exit 2, a line naming the problem, then the usage text, on standard error

struct UsageCase {
  std::vector<std::string> args;
  std::string_view problem;  // first line of standard error
};
std::ostream& operator<<(std::ostream& os, const UsageCase& c) {
  for (const auto& a : c.args) os << a << ' ';
  return os;
}

const std::vector<UsageCase> kUsageErrors{
    {{"frob"}, "cpis-hl7: unknown command 'frob'"},                                       // unknown command
    {{"check"}, "cpis-hl7: check needs at least one FILE"},                               // no file
    {{"roundtrip"}, "cpis-hl7: expected exactly one FILE"},                               // no file
    {{"roundtrip", "a", "b"}, "cpis-hl7: expected exactly one FILE"},                     // two files
    {{"json"}, "cpis-hl7: expected exactly one FILE"},                                    // no file
    {{"get", "PID-3"}, "cpis-hl7: get needs a PATH and one FILE"},                        // no file
    {{"get", "PID-3", "a", "b"}, "cpis-hl7: get needs a PATH and one FILE"},              // two files
    {{"get", "PID3", "-"}, "cpis-hl7: invalid path 'PID3': expected '-' and a field number after the segment id"},
    {{"ack"}, "cpis-hl7: ack needs exactly one FILE"},                                    // no file
    {{"ack", "a", "b"}, "cpis-hl7: ack needs exactly one FILE"},                          // two files
    {{"ack", "--mode"}, "cpis-hl7: --mode needs a value"},                                // missing value
    {{"ack", "-", "--code"}, "cpis-hl7: --code needs a value"},                           // missing value
    {{"ack", "--mode", "fast", "-"}, "cpis-hl7: --mode is original or enhanced, not 'fast'"},
    {{"ack", "--code", "XX", "-"}, "cpis-hl7: --code is one of AA AE AR CA CE CR, not 'XX'"},
    {{"ack", "--code", "aa", "-"}, "cpis-hl7: --code is one of AA AE AR CA CE CR, not 'aa'"},  // case
    {{"ack", "--verbose", "-"}, "cpis-hl7: unknown option '--verbose'"},                  // unknown option
};

}  // namespace

BOOST_AUTO_TEST_SUITE(hl7_tool)

BOOST_AUTO_TEST_CASE(no_arguments_is_a_usage_error) {
  const Run r = run({});
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err.find("usage: cpis-hl7 COMMAND") == 0u);
}

BOOST_AUTO_TEST_CASE(help_prints_usage_and_succeeds) {
  for (const std::string flag : {"--help", "-h", "help"}) {
    const Run r = run({flag});
    BOOST_TEST(r.status == 0, flag);
    BOOST_TEST(r.out.find("usage: cpis-hl7 COMMAND") == 0u, flag);
    BOOST_TEST(r.err.empty(), flag);
  }
}

BOOST_DATA_TEST_CASE(usage_errors_exit_2_with_the_problem_first, boost::unit_test::data::make(kUsageErrors), c) {
  const Run r = run(c.args, SMALL);
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.out.empty());
  const auto errLines = lines(r.err);
  BOOST_REQUIRE(!errLines.empty());
  BOOST_TEST(errLines.front() == c.problem);
  BOOST_TEST(r.err.find("usage: cpis-hl7") != std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Files that cannot be read: one line, exit 1

BOOST_AUTO_TEST_CASE(a_missing_file_gives_one_clear_line_and_exit_1) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"check", "no/such.hl7"},
                                             {"roundtrip", "no/such.hl7"},
                                             {"get", "PID-3", "no/such.hl7"},
                                             {"ack", "no/such.hl7"},
                                             {"json", "no/such.hl7"}}) {
    const Run r = run(args);
    BOOST_TEST(r.status == 1, args[0]);
    BOOST_TEST(r.out.empty(), args[0]);
    BOOST_TEST(r.err == "cpis-hl7: cannot read no/such.hl7: no such file or not readable\n", args[0]);
  }
}

BOOST_AUTO_TEST_CASE(a_directory_is_not_a_readable_file) {
  const Run r = run({"roundtrip", "tests/data"});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(countLines(r.err) == 1u);
  BOOST_TEST(r.err == "cpis-hl7: cannot read tests/data: is a directory\n");
}

BOOST_AUTO_TEST_CASE(check_goes_on_after_a_missing_file) {
  const Run r = run({"check", "no/such.hl7", kA01});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.err == "cpis-hl7: cannot read no/such.hl7: no such file or not readable\n");
  BOOST_TEST(r.out == kA01 + ": message 1 (MSH-10 PAS2403050002): OK\n");
}

// ---------------------------------------------------------------------------------------------
// check

BOOST_AUTO_TEST_CASE(check_prints_ok_per_message) {
  const Run r = run({"check", kA01, kBatch});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(r.out == kA01 + ": message 1 (MSH-10 PAS2403050002): OK\n" +
                          kBatch + ": message 1 (MSH-10 PAS2403280001): OK\n" +
                          kBatch + ": message 2 (MSH-10 PAS2403280002): OK\n" +
                          kBatch + ": message 3 (MSH-10 PAS2403280003): OK\n");
}

BOOST_AUTO_TEST_CASE(check_reports_a_structural_error_with_code_and_position) {
  const Run r = run({"check", "-"}, MSH_PREFIX "2.4\rPID|1\rPI\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out ==
             "-: message 1: error: message at byte 87: 100 Segment sequence error: segment 3 does not start with "
             "a three-character segment id and a field separator (truncated or malformed segment)\n");
}

BOOST_AUTO_TEST_CASE(check_offsets_count_from_the_start_of_the_input) {
  // the second message starts at byte 81 + 6 = 87; its bad byte is 9 bytes into its PID
  const Run r = run({"check", "-"}, MSH24 "PID|1\r" MSH24 "PID|||Lef\xE8vre\r");
  BOOST_TEST(r.status == 1);
  const auto out = lines(r.out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0] == "-: message 1 (MSH-10 CTRL1): OK");
  BOOST_TEST(out[1].find("-: message 2: error: PID(1)-3 at byte 177: 102 Data type error") == 0u, out[1]);
}

BOOST_AUTO_TEST_CASE(check_reports_a_bad_hex_escape_and_fails) {
  const Run r = run({"check", "-"}, MSH24 "PID|||\\XZZ\\\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.find("-: message 1 (MSH-10 CTRL1): error: PID(1)-3 at byte 87: 102 Data type error") == 0u,
             r.out);
  BOOST_TEST(r.out.find("OK") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(check_prints_warnings_but_still_passes) {
  const Run r = run({"check", "-"}, "MSH|^~\\&|A||||||ADT^A01|W1|P\r");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out ==
             "-: message 1 (MSH-10 W1): warning: MSH(1)-12 at byte 28: 101 Required field missing: version id "
             "(MSH-12) is missing\n-: message 1 (MSH-10 W1): OK\n");
}

BOOST_AUTO_TEST_CASE(check_reports_envelope_count_mismatches) {
  const Run r = run({"check", "-"}, "BHS|^~\\&|A\r" MSH24 "BTS|2\r");
  BOOST_TEST(r.status == 1);
  const auto out = lines(r.out);
  BOOST_REQUIRE(out.size() == 2u);
  BOOST_TEST(out[0].find("-: error: BTS(1)-1 at byte 92: 100 Segment sequence error: batch message count is 2") ==
                 0u,
             out[0]);
  BOOST_TEST(out[1] == "-: message 1 (MSH-10 CTRL1): OK");
}

BOOST_AUTO_TEST_CASE(check_of_empty_input_finds_no_message) {
  const Run r = run({"check", "-"}, "");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out == "-: error: no HL7 v2 message found\n");
}

// ---------------------------------------------------------------------------------------------
// roundtrip

BOOST_AUTO_TEST_CASE(roundtrip_writes_the_message_with_cr_segment_ends) {
  const std::string crlf = cpis::test::readRepoFile(kCrlf);
  std::string expected;
  for (const char c : crlf) {
    if (c != '\n') expected.push_back(c);
  }
  const Run r = run({"roundtrip", kCrlf});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST((r.out == expected));
  BOOST_TEST(r.out.find('\n') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(roundtrip_reads_standard_input_from_dash) {
  const Run r = run({"roundtrip", "-"}, MSH_PREFIX "2.4\nPID|1\n");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out == MSH24 "PID|1\r");
}

BOOST_AUTO_TEST_CASE(roundtrip_of_a_batch_gives_back_the_file_with_its_envelope) {
  const Run r = run({"roundtrip", kBatch});
  BOOST_TEST(r.status == 0);
  std::ifstream in(kBatch, std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  BOOST_TEST(r.out == original);  // the sample ends every segment with CR
}

BOOST_AUTO_TEST_CASE(roundtrip_of_a_broken_message_fails_with_one_line) {
  const Run r = run({"roundtrip", "-"}, "MSH|^~\\&|A||||||ADT^A01||P|2.4\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err ==
             "cpis-hl7: -: message 1: error: MSH(1)-10 at byte 24: 101 Required field missing: message control id "
             "(MSH-10) is missing\n");
}

BOOST_AUTO_TEST_CASE(roundtrip_of_input_without_a_message_fails) {
  const Run r = run({"roundtrip", "-"}, "\r\n");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.err == "cpis-hl7: -: no HL7 v2 message found\n");
}

// ---------------------------------------------------------------------------------------------
// get

namespace {
struct GetCase {
  std::string_view path;
  std::string input;  // a file name, or "-" with stdin
  std::string_view stdinText;
  std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const GetCase& c) { return os << c.path << ' ' << c.input; }

const std::vector<GetCase> kGets{
    {"PID-3(*).1", "-", SMALL, "111\n222\n"},                                 // every repetition
    {"PID-3(*).4", "-", SMALL, "NHS\nMR\n"},                                  // their authorities
    {"PID-3(2).1", "-", SMALL, "222\n"},                                      // one repetition
    {"PID-5.2", "-", SMALL, "JO\n"},                                          // a component
    {"PID-13", "-", SMALL, "\n"},                                             // explicit null: empty line
    {"NK1-2", "-", SMALL, ""},                                                // missing segment: no line
    {"OBX(*)-5", "-", SMALL, ""},                                             // no OBX: nothing
    {"OBX(*)-5", kBench, "", "22.6\n91\n134\n"},                              // every OBX
    {"MSH-10", kMulti, "", "EDSYS2403270001\nEDSYS2403270002\nEDSYS2403270003\n"},  // one per message
    {"PID-5", kLatin1, "", "Lef\xC3\xA8vre-Testpatient\n"},                   // Latin-1 printed as UTF-8
    {"PV2-3.2", kCustom, "", "FELL OFF TRAMPOLINE!\n"},                       // decoded custom escape
    {"PID-3(*).1", kBatch, "", "RZ6667774\n9996667774\nRZ8889995\n9998889995\nRZ2345675\n9992345675\n"},
};
}  // namespace

BOOST_DATA_TEST_CASE(get_prints_one_line_per_value, boost::unit_test::data::make(kGets), c) {
  const Run r = run({"get", std::string(c.path), c.input}, std::string(c.stdinText));
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(visible(r.out, 500) == visible(c.expected, 500));
}

BOOST_AUTO_TEST_CASE(get_on_a_broken_message_fails) {
  const Run r = run({"get", "PID-3", "-"}, MSH24 "PI\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(countLines(r.err) == 1u);
  BOOST_TEST(r.err.find("cpis-hl7: -: message 1: error:") == 0u);
}

// ---------------------------------------------------------------------------------------------
// ack

BOOST_AUTO_TEST_CASE(ack_prints_the_ack_one_segment_a_line) {
  const Run r = run({"ack", "-"}, SMALL);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.err.empty());
  BOOST_TEST(r.out ==
             "MSH|^~\\&|RCVAPP|RCVFAC|SNDAPP|SNDFAC|20240315143012.345+0000||ACK^A04^ACK|ACK1|P|2.4\n"
             "MSA|AA|C1\n");
}

BOOST_AUTO_TEST_CASE(ack_raw_keeps_the_cr_segment_ends) {
  const Run r = run({"ack", "--raw", "-"}, SMALL);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out ==
             "MSH|^~\\&|RCVAPP|RCVFAC|SNDAPP|SNDFAC|20240315143012.345+0000||ACK^A04^ACK|ACK1|P|2.4\r"
             "MSA|AA|C1\r");
  BOOST_TEST(cpis::hl7v2::parse(r.out).ok());
}

namespace {
struct AckCase {
  std::vector<std::string> options;
  std::string input;
  std::string_view msa1;
};
std::ostream& operator<<(std::ostream& os, const AckCase& c) {
  for (const auto& o : c.options) os << o << ' ';
  return os << c.input;
}
const std::vector<AckCase> kAckCodes{
    {{}, kA01, "AA"},                                                  // original mode by MSH-15/16
    {{}, kEnhanced, "CA"},                                             // enhanced mode by MSH-15/16
    {{"--mode", "enhanced"}, kA01, "CA"},                              // mode forced
    {{"--mode", "original"}, kEnhanced, "AA"},                         // forced the other way
    {{"--code", "AE"}, kA01, "AE"},                                    // code chosen
    {{"--code", "AR"}, kA01, "AR"},
    {{"--code", "AE", "--mode", "enhanced"}, kA01, "CE"},              // code mapped into the mode
    {{"--code", "CR"}, kA01, "AR"},                                    // ... and back
    {{"--code", "CA"}, kEnhanced, "CA"},
    {{"--mode", "enhanced", "--code", "AR"}, kA01, "CR"},              // options in any order
};
}  // namespace

BOOST_DATA_TEST_CASE(ack_code_follows_mode_and_options, boost::unit_test::data::make(kAckCodes), c) {
  std::vector<std::string> args{"ack", "--raw"};
  args.insert(args.end(), c.options.begin(), c.options.end());
  args.push_back(c.input);
  const Run r = run(args);
  BOOST_TEST(r.status == 0);
  const auto ack = cpis::hl7v2::parse(r.out);
  BOOST_REQUIRE(ack.ok());
  BOOST_TEST(ack->get("MSA-1") == c.msa1);
}

BOOST_AUTO_TEST_CASE(ack_answers_every_message_with_its_own_control_id) {
  const Run r = run({"ack", "--raw", kMulti});
  BOOST_TEST(r.status == 0);
  const auto stream = cpis::hl7v2::parseStream(r.out);
  BOOST_REQUIRE(stream.messages.size() == 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& ack = stream.messages[i].message;
    BOOST_REQUIRE(ack.ok());
    BOOST_TEST(ack->controlId() == "ACK" + std::to_string(i + 1));
    BOOST_TEST(ack->get("MSA-2") == "EDSYS240327000" + std::to_string(i + 1));
  }
}

BOOST_AUTO_TEST_CASE(ack_rejects_a_broken_message_pairing_it_by_msh10) {
  const Run r = run({"ack", "--raw", "-"}, MSH_PREFIX "2.5\rPID|1\rPI\r");
  BOOST_TEST(r.status == 0);  // the rejection was built: the command did its job
  const auto ack = cpis::hl7v2::parse(r.out);
  BOOST_REQUIRE(ack.ok());
  BOOST_TEST(ack->get("MSA-1") == "AR");
  BOOST_TEST(ack->get("MSA-2") == "CTRL1");
  BOOST_TEST(ack->get("ERR-3") == "100");
  BOOST_TEST(ack->get("MSH-5") == "SNDAPP");
}

BOOST_AUTO_TEST_CASE(ack_for_a_bad_hex_escape_is_ae_with_err) {
  const Run r = run({"ack", "--raw", "-"}, MSH_PREFIX "2.5\rPID|||\\XZZ\\\r");
  const auto ack = cpis::hl7v2::parse(r.out);
  BOOST_REQUIRE(ack.ok());
  BOOST_TEST(ack->get("MSA-1") == "AE");
  BOOST_TEST(ack->get("ERR-2") == "PID");
  BOOST_TEST(ack->get("ERR-2.3") == "3");
  BOOST_TEST(ack->get("ERR-3") == "102");
  // an explicit code wins over the value check
  const Run forced = run({"ack", "--raw", "--code", "AA", "-"}, MSH_PREFIX "2.5\rPID|||\\XZZ\\\r");
  BOOST_TEST(cpis::hl7v2::parse(forced.out)->get("MSA-1") == "AA");
}

BOOST_AUTO_TEST_CASE(ack_of_input_without_a_message_fails) {
  const Run r = run({"ack", "-"}, "");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.err == "cpis-hl7: -: no HL7 v2 message found\n");
}

BOOST_AUTO_TEST_CASE(ack_keeps_custom_delimiters) {
  const Run r = run({"ack", kCustom});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out.find("MSH!@*$%!CPISENG!RXX!EDSYS!RXX01!") == 0u, r.out);
  BOOST_TEST(r.out.find("\nMSA!AA!EDSYS2403300001\n") != std::string::npos, r.out);
}

// ---------------------------------------------------------------------------------------------
// json

BOOST_AUTO_TEST_CASE(json_is_valid_and_describes_the_message) {
  const Run r = run({"json", "-"}, SMALL);
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.err.empty());
  Poco::Dynamic::Var parsedJson;
  BOOST_REQUIRE_NO_THROW(parsedJson = parseJson(r.out));
  const auto root = parsedJson.extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(root->getValue<std::string>("version") == "2.4");
  BOOST_TEST(root->getValue<std::string>("type") == "ADT^A04");
  BOOST_TEST(root->getValue<std::string>("charset") == "ASCII");
  const auto segments = root->getArray("segments");
  BOOST_REQUIRE(segments->size() == 2u);
  const auto msh = segments->getObject(0);
  BOOST_TEST(msh->getValue<std::string>("segment") == "MSH");
  const auto mshFields = msh->getObject("fields");
  BOOST_TEST(mshFields->getValue<std::string>("MSH-1") == "|");
  BOOST_TEST(mshFields->getValue<std::string>("MSH-2") == "^~\\&");
  BOOST_TEST(mshFields->getValue<std::string>("MSH-10") == "C1");
  BOOST_TEST(!mshFields->has("MSH-8"));  // empty fields are left out
  const auto msh9 = mshFields->getObject("MSH-9");  // a composite: its components by number
  BOOST_REQUIRE(msh9);
  BOOST_TEST(msh9->getValue<std::string>("1") == "ADT");
  BOOST_TEST(msh9->getValue<std::string>("3") == "ADT_A01");
  const auto pid = segments->getObject(1)->getObject("fields");
  const auto pid3 = pid->getArray("PID-3");  // a repeating field: an array
  BOOST_REQUIRE(pid3);
  BOOST_REQUIRE(pid3->size() == 2u);
  BOOST_TEST(pid3->getObject(1)->getValue<std::string>("1") == "222");
  BOOST_TEST(pid3->getObject(1)->getValue<std::string>("4") == "MR");
  BOOST_TEST(!pid3->getObject(1)->has("2"));  // empty components left out
  BOOST_TEST(pid->has("PID-13"));
  BOOST_TEST(pid->isNull("PID-13"));  // the explicit null
  BOOST_TEST(pid->getValue<std::string>("PID-1") == "1");
}

BOOST_AUTO_TEST_CASE(json_keeps_sub_components_under_their_component) {
  // "NHS&2.16&ISO" is component 1 with three sub-components, not three components
  const Run r = run({"json", "-"}, MSH24 "PID|||NHS&2.16&ISO|x^a&b\r");
  BOOST_TEST(r.status == 0);
  const auto pid = parseJson(r.out).extract<Poco::JSON::Object::Ptr>()->getArray("segments")->getObject(1);
  const auto fields = pid->getObject("fields");
  const auto pid3 = fields->getObject("PID-3");
  BOOST_REQUIRE(pid3);
  BOOST_TEST(!pid3->has("2"));
  const auto component1 = pid3->getObject("1");
  BOOST_REQUIRE(component1);
  BOOST_TEST(component1->getValue<std::string>("1") == "NHS");
  BOOST_TEST(component1->getValue<std::string>("3") == "ISO");
  const auto pid4 = fields->getObject("PID-4");
  BOOST_TEST(pid4->getValue<std::string>("1") == "x");
  BOOST_TEST(pid4->getObject("2")->getValue<std::string>("2") == "b");
}

BOOST_AUTO_TEST_CASE(json_decodes_latin1_to_utf8) {
  const Run r = run({"json", kLatin1});
  BOOST_TEST(r.status == 0);
  const auto root = parseJson(r.out).extract<Poco::JSON::Object::Ptr>();
  BOOST_TEST(root->getValue<std::string>("charset") == "8859/1");
  const auto pid = root->getArray("segments")->getObject(2)->getObject("fields");
  BOOST_TEST(pid->getObject("PID-5")->getValue<std::string>("1") == "Lef\xC3\xA8vre-Testpatient");
}

BOOST_AUTO_TEST_CASE(json_of_several_messages_is_an_array) {
  const Run r = run({"json", kMulti});
  BOOST_TEST(r.status == 0);
  Poco::Dynamic::Var parsedJson;
  BOOST_REQUIRE_NO_THROW(parsedJson = parseJson(r.out));
  const auto all = parsedJson.extract<Poco::JSON::Array::Ptr>();
  BOOST_REQUIRE(all->size() == 3u);
  BOOST_TEST(all->getObject(2)->getValue<std::string>("type") == "ADT^A03");
}

BOOST_AUTO_TEST_CASE(json_escapes_what_json_needs_escaped) {
  const Run r = run({"json", "-"}, MSH24 "NTE|1||say \"hi\"\\.br\\C:\\E\\x\r");
  BOOST_TEST(r.status == 0);
  Poco::Dynamic::Var parsedJson;
  BOOST_REQUIRE_NO_THROW(parsedJson = parseJson(r.out));
  const auto nte = parsedJson.extract<Poco::JSON::Object::Ptr>()->getArray("segments")->getObject(1);
  BOOST_TEST(nte->getObject("fields")->getValue<std::string>("NTE-3") == "say \"hi\"\nC:\\x");
}

BOOST_AUTO_TEST_CASE(json_of_a_broken_message_fails) {
  const Run r = run({"json", "-"}, MSH24 "PI\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(countLines(r.err) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
