#include "engine/hl7v2/charset.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

#include "engine/hl7v2/message.h"
#include "tests/support/hl7_samples.h"

using cpis::hl7v2::Charset;
using cpis::test::visible;

namespace {

std::string_view nameOf(std::optional<Charset> c) {
  if (!c) return "unsupported";
  switch (*c) {
    case Charset::Ascii: return "ASCII";
    case Charset::Latin1: return "Latin-1";
    case Charset::Utf8: return "UTF-8";
  }
  return "?";
}

struct Msh18Case {
  std::string_view msh18;
  std::optional<Charset> expected;
};
std::ostream& operator<<(std::ostream& os, const Msh18Case& c) { return os << '"' << c.msh18 << '"'; }

const std::vector<Msh18Case> kMsh18{
    {"", Charset::Ascii},               // empty: HL7's default
    {"ASCII", Charset::Ascii},          // explicit
    {"  ASCII ", Charset::Ascii},       // spaces around are ignored
    {"8859/1", Charset::Latin1},        // Latin-1
    {"UNICODE UTF-8", Charset::Utf8},   // table 0211 spelling
    {"UTF-8", Charset::Utf8},           // common non-table spelling
    {" UNICODE UTF-8", Charset::Utf8},  // leading space
    {"utf-8", Charset::Utf8},           // any case: EPRs send it in lower case too
    {"Unicode UTF-8", Charset::Utf8},   // mixed case
    {"ascii", Charset::Ascii},          // lower case
    {"utf-16", std::nullopt},           // still not one the engine reads
    {"8859/15", std::nullopt},          // Latin-9
    {"8859/2", std::nullopt},           // Latin-2
    {"UNICODE", std::nullopt},          // UTF-16
    {"UNICODE UTF-16", std::nullopt},   // UTF-16 spelled out
    {"ISO IR192", std::nullopt},        // DICOM-style name
    {"UNICODE  UTF-8", std::nullopt},   // two spaces inside
};

struct InvalidByteCase {
  std::string_view bytes;
  Charset charset;
  std::optional<std::size_t> expected;
};
std::ostream& operator<<(std::ostream& os, const InvalidByteCase& c) {
  return os << nameOf(c.charset) << ' ' << visible(c.bytes);
}

const std::vector<InvalidByteCase> kInvalidBytes{
    {"plain ASCII", Charset::Ascii, std::nullopt},                 // all below 0x80
    {"ab\x80", Charset::Ascii, 2},                                 // first byte from 0x80
    {"\x7F", Charset::Ascii, std::nullopt},                        // DEL is ASCII
    {"\x80\xA0\xFF", Charset::Latin1, std::nullopt},               // Latin-1 takes every byte
    {"Zo\xC3\xAB", Charset::Utf8, std::nullopt},                   // two-byte sequence
    {"\xE2\x82\xAC", Charset::Utf8, std::nullopt},                 // three bytes: EUR
    {"\xF0\x9F\x99\x82", Charset::Utf8, std::nullopt},             // four bytes
    {"\xF4\x8F\xBF\xBF", Charset::Utf8, std::nullopt},             // U+10FFFF, the last
    {"\xEF\xBB\xBF", Charset::Utf8, std::nullopt},                 // BOM is a valid character
    {"ab\xC0\xAF", Charset::Utf8, 2},                              // overlong two-byte
    {"\xC1\xBF", Charset::Utf8, 0},                                // overlong two-byte (C1)
    {"\xE0\x80\xAF", Charset::Utf8, 0},                            // overlong three-byte
    {"\xF0\x80\x80\xAF", Charset::Utf8, 0},                        // overlong four-byte
    {"\xED\xA0\x80", Charset::Utf8, 0},                            // high surrogate
    {"\xED\xBF\xBF", Charset::Utf8, 0},                            // low surrogate
    {"\xF4\x90\x80\x80", Charset::Utf8, 0},                        // beyond U+10FFFF
    {"\xF5\x80\x80\x80", Charset::Utf8, 0},                        // F5 never appears
    {"\xFF", Charset::Utf8, 0},                                    // FF never appears
    {"a\x80", Charset::Utf8, 1},                                   // lone continuation byte
    {"ab\xE2\x82", Charset::Utf8, 2},                              // cut short at the end
    {"\xC3(", Charset::Utf8, 0},                                   // continuation missing
    {"ok\xC3\xA9\xE9", Charset::Utf8, 4},                          // Latin-1 after valid UTF-8
};

struct ToUtf8Case {
  std::string_view bytes;
  Charset charset;
  std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const ToUtf8Case& c) {
  return os << nameOf(c.charset) << ' ' << visible(c.bytes);
}

const std::vector<ToUtf8Case> kToUtf8{
    {"abc", Charset::Ascii, "abc"},                          // ASCII unchanged
    {"caf\xE9", Charset::Latin1, "caf\xC3\xA9"},             // e acute
    {"\xA0\xFF", Charset::Latin1, "\xC2\xA0\xC3\xBF"},       // NBSP and y diaeresis
    {"\x80", Charset::Latin1, "\xC2\x80"},                   // C1 control range
    {"Zo\xC3\xAB", Charset::Utf8, "Zo\xC3\xAB"},             // UTF-8 unchanged
};

struct FromUtf8Case {
  std::string_view utf8;
  Charset charset;
  std::optional<std::string_view> expected;  // nullopt: refused
};
std::ostream& operator<<(std::ostream& os, const FromUtf8Case& c) {
  return os << nameOf(c.charset) << ' ' << visible(c.utf8);
}

const std::vector<FromUtf8Case> kFromUtf8{
    {"abc", Charset::Ascii, "abc"},                          // ASCII fits ASCII
    {"caf\xC3\xA9", Charset::Ascii, std::nullopt},           // e acute does not
    {"caf\xC3\xA9", Charset::Latin1, "caf\xE9"},             // but fits Latin-1
    {"\xC2\xA0\xC3\xBF", Charset::Latin1, "\xA0\xFF"},       // U+00A0 and U+00FF
    {"\xC5\x93", Charset::Latin1, std::nullopt},             // oe ligature: Latin-9 only
    {"\xE2\x82\xAC", Charset::Latin1, std::nullopt},         // EUR
    {"\xF0\x9F\x99\x82", Charset::Utf8, "\xF0\x9F\x99\x82"},  // UTF-8 takes everything
    {"\xC3", Charset::Utf8, std::nullopt},                   // not valid UTF-8 input
    {"\xE9", Charset::Latin1, std::nullopt},                 // Latin-1 bytes are not UTF-8 input
};

// Whole messages: values come out as UTF-8 whatever MSH-18 says.
struct MessageCase {
  std::string_view hl7, path, expected;
};
std::ostream& operator<<(std::ostream& os, const MessageCase& c) {
  return os << c.path << " in " << visible(c.hl7);
}

const std::vector<MessageCase> kMessages{
    {MSH24 "PID|||||TESTPATIENT\r", "PID-5", "TESTPATIENT"},                               // ASCII
    {MSH_LATIN1 "PID|||||Lef\xE8vre^Zo\xEB\r", "PID-5", "Lef\xC3\xA8vre"},                 // Latin-1 text
    {MSH_LATIN1 "PID|||||Lef\xE8vre^Zo\xEB\r", "PID-5.2", "Zo\xC3\xAB"},                   // in a component
    {MSH_LATIN1 "PID|||||\\XE9\\\r", "PID-5", "\xC3\xA9"},                                 // \X..\ in Latin-1
    {MSH_LATIN1 "PID|||||\xE9\\F\\\xE9\r", "PID-5", "\xC3\xA9|\xC3\xA9"},                  // around an escape
    {MSH_UTF8 "PID|||||\xC3\x93'BRIEN^ZO\xC3\x8B\r", "PID-5", "\xC3\x93'BRIEN"},           // UTF-8 text
    {MSH_UTF8 "PID|||||T\xC5\xB6 GWYN\r", "PID-5", "T\xC5\xB6 GWYN"},                      // Welsh w circumflex
    {MSH_UTF8 "PID|||||\xF0\x9F\x99\x82\r", "PID-5", "\xF0\x9F\x99\x82"},                  // outside the BMP
    {MSH_UTF8 "PID|||||\\XC3\\XA9\\\r", "PID-5", "\\XC3\\XA9\\"},                          // split: each half bad
    {MSH_UTF8 "PID|||||\\XC3A9\\\r", "PID-5", "\xC3\xA9"},                                 // whole sequence
    {MSH_PREFIX "2.4||||||UTF-8\rPID|||||Zo\xC3\xAB\r", "PID-5", "Zo\xC3\xAB"},            // "UTF-8" spelling
    {MSH_PREFIX "2.4|||||| 8859/1 \rPID|||||\xE9\r", "PID-5", "\xC3\xA9"},                 // spaces around
    {MSH_PREFIX "2.4||||||8859/1~UNICODE UTF-8\rPID|||||\xE9\r", "PID-5", "\xC3\xA9"},     // first repetition
    {MSH_PREFIX "2.4||||||8859/1^x\rPID|||||\xE9\r", "PID-5", "\xC3\xA9"},                 // first component
    {MSH_PREFIX "2.4||||||ASCII\rPID|||||plain\r", "PID-5", "plain"},                      // explicit ASCII
};

}  // namespace

BOOST_AUTO_TEST_SUITE(charset)

BOOST_DATA_TEST_CASE(msh18_names_the_character_set, boost::unit_test::data::make(kMsh18), c) {
  BOOST_TEST(nameOf(cpis::hl7v2::charsetFromMsh18(c.msh18)) == nameOf(c.expected));
}

BOOST_DATA_TEST_CASE(first_invalid_byte_is_located, boost::unit_test::data::make(kInvalidBytes), c) {
  const auto bad = cpis::hl7v2::firstInvalidByte(c.bytes, c.charset);
  BOOST_TEST(bad.has_value() == c.expected.has_value());
  if (bad && c.expected) BOOST_TEST(*bad == *c.expected);
}

BOOST_DATA_TEST_CASE(bytes_are_exposed_as_utf8, boost::unit_test::data::make(kToUtf8), c) {
  std::string out = ">";
  cpis::hl7v2::appendAsUtf8(c.bytes, c.charset, out);
  BOOST_TEST(visible(out) == visible(std::string(">") + std::string(c.expected)));
}

BOOST_DATA_TEST_CASE(utf8_is_written_in_the_message_charset, boost::unit_test::data::make(kFromUtf8), c) {
  std::string out;
  const bool ok = cpis::hl7v2::appendFromUtf8(c.utf8, c.charset, out);
  BOOST_TEST(ok == c.expected.has_value());
  if (ok && c.expected) BOOST_TEST(visible(out) == visible(*c.expected));
}

BOOST_DATA_TEST_CASE(message_values_come_out_as_utf8, boost::unit_test::data::make(kMessages), c) {
  const auto m = cpis::hl7v2::parse(c.hl7);
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(visible(m->get(c.path)) == visible(c.expected));
}

BOOST_AUTO_TEST_CASE(msh18_names_round_trip) {
  for (const Charset c : {Charset::Ascii, Charset::Latin1, Charset::Utf8}) {
    BOOST_TEST(nameOf(cpis::hl7v2::charsetFromMsh18(cpis::hl7v2::msh18Name(c))) == nameOf(c));
  }
  BOOST_TEST(cpis::hl7v2::msh18Name(Charset::Ascii) == "");
  BOOST_TEST(cpis::hl7v2::msh18Name(Charset::Latin1) == "8859/1");
  BOOST_TEST(cpis::hl7v2::msh18Name(Charset::Utf8) == "UNICODE UTF-8");
}

BOOST_AUTO_TEST_CASE(the_parsed_message_knows_its_charset) {
  BOOST_TEST(nameOf(cpis::hl7v2::parse(MSH24)->charset()) == "ASCII");
  BOOST_TEST(nameOf(cpis::hl7v2::parse(MSH_LATIN1)->charset()) == "Latin-1");
  BOOST_TEST(nameOf(cpis::hl7v2::parse(MSH_UTF8)->charset()) == "UTF-8");
}

// A feed whose EPR sends UTF-8 without saying so (parse's `whenUnstated`): read in that set, and
// a reply names it in MSH-18. A stated MSH-18 is still the message's word; ASCII stays strict.
BOOST_AUTO_TEST_CASE(an_empty_msh18_is_read_in_the_set_the_feed_names) {
  const std::string utf8 = "MSH|^~\\&|A|B|C|D|20250101||ADT^A01|X1|P|2.4\rPID|1||||TESTCHILD^JOS\xC3\x89\r";
  const auto strict = cpis::hl7v2::parse(utf8);
  BOOST_TEST_REQUIRE(!strict.ok());
  BOOST_TEST(strict.error().text.find("ASCII, as MSH-18 is empty") != std::string::npos, strict.error().text);

  const auto read = cpis::hl7v2::parse(utf8, Charset::Utf8);
  BOOST_TEST_REQUIRE(read.ok());
  BOOST_TEST(nameOf(read->charset()) == "UTF-8");
  BOOST_TEST(read->get("PID-5.2") == "JOS\xC3\x89");
  BOOST_TEST(cpis::hl7v2::replyCharsetField(*read) == "UNICODE UTF-8");

  // Not valid UTF-8 either: refused, saying which set was assumed.
  const auto bad =
      cpis::hl7v2::parse(std::string_view("MSH|^~\\&|A|B|C|D|20250101||ADT^A01|X1|P|2.4\rPID|1||||A\xC9"
                                          "B\r"),
                         Charset::Utf8);
  BOOST_TEST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().text.find("the feed's set when MSH-18 is empty") != std::string::npos,
             bad.error().text);

  // A stated MSH-18 wins, and is echoed as sent; an ASCII message's reply leaves it empty.
  const auto stated = cpis::hl7v2::parse(MSH_LATIN1, Charset::Utf8);
  BOOST_TEST_REQUIRE(stated.ok());
  BOOST_TEST(nameOf(stated->charset()) == "Latin-1");
  BOOST_TEST(cpis::hl7v2::replyCharsetField(*stated) == "8859/1");
  BOOST_TEST(cpis::hl7v2::replyCharsetField(*cpis::hl7v2::parse(MSH24)) == "");
}

BOOST_AUTO_TEST_CASE(every_latin1_byte_survives_a_round_trip_through_utf8) {
  std::string all;
  for (int b = 1; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string utf8;
  cpis::hl7v2::appendAsUtf8(all, Charset::Latin1, utf8);
  BOOST_TEST(!cpis::hl7v2::firstInvalidByte(utf8, Charset::Utf8).has_value());
  std::string back;
  BOOST_REQUIRE(cpis::hl7v2::appendFromUtf8(utf8, Charset::Latin1, back));
  BOOST_TEST((back == all));
}

BOOST_AUTO_TEST_SUITE_END()
