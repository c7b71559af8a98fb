#include "engine/hl7v2/escaping.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

#include "tests/support/hl7_samples.h"

using cpis::hl7v2::Charset;
using cpis::hl7v2::Delimiters;
using cpis::test::visible;

namespace {

enum class Set { Standard, Truncation, Custom, NoEscape, QuestionField, DashComponent };

Delimiters delimitersOf(Set set) {
  Delimiters d;  // | ^ ~ \ &
  switch (set) {
    case Set::Standard: break;
    case Set::Truncation: d.truncation = '#'; break;
    case Set::Custom: d = Delimiters{'!', '@', '*', '$', '%', '\0'}; break;
    case Set::NoEscape: d.escape = '\0'; break;
    case Set::DashComponent: d = Delimiters{'|', '-', '~', '\0', '&', '\0'}; break;  // component '-', no escape
    case Set::QuestionField: d = Delimiters{'?', '+', ':', '\0', '\0', '\0'}; break;  // MSH-1 '?', MSH-2 "+:"
  }
  return d;
}

constexpr std::size_t kClean = static_cast<std::size_t>(-1);  // decodeValue returns nullopt

struct DecodeCase {
  std::string_view raw;
  Set set;
  Charset charset;
  std::string_view expected;  // UTF-8
  std::size_t firstBad;       // offset of the first bad \X..\ sequence, or kClean
};
std::ostream& operator<<(std::ostream& os, const DecodeCase& c) { return os << visible(c.raw); }

const std::vector<DecodeCase> kDecode{
    {"plain text", Set::Standard, Charset::Ascii, "plain text", kClean},          // nothing to do
    {"", Set::Standard, Charset::Ascii, "", kClean},                              // empty value
    {"a\\F\\b", Set::Standard, Charset::Ascii, "a|b", kClean},                    // \F\ field separator
    {"a\\S\\b", Set::Standard, Charset::Ascii, "a^b", kClean},                    // \S\ component
    {"a\\T\\b", Set::Standard, Charset::Ascii, "a&b", kClean},                    // \T\ sub-component
    {"a\\R\\b", Set::Standard, Charset::Ascii, "a~b", kClean},                    // \R\ repetition
    {"a\\E\\b", Set::Standard, Charset::Ascii, "a\\b", kClean},                   // \E\ escape itself
    {"\\F\\\\S\\\\T\\\\R\\\\E\\", Set::Standard, Charset::Ascii, "|^&~\\", kClean},  // back to back
    {"\\E\\F\\E\\", Set::Standard, Charset::Ascii, "\\F\\", kClean},              // decoded once only
    {"a\\P\\b", Set::Truncation, Charset::Ascii, "a#b", kClean},                  // \P\ with '#' (v2.7)
    {"a\\P\\b", Set::Standard, Charset::Ascii, "a\\P\\b", kClean},                // \P\ without: verbatim
    {"a$F$b$S$c", Set::Custom, Charset::Ascii, "a!b@c", kClean},                  // custom escape '$'
    {"a$T$b$R$c$E$", Set::Custom, Charset::Ascii, "a%b*c$", kClean},              // the other custom ones
    {"a\\F\\b", Set::Custom, Charset::Ascii, "a\\F\\b", kClean},                  // '\' is data there
    {"a\\F\\b", Set::NoEscape, Charset::Ascii, "a\\F\\b", kClean},                // no escape char at all
    {"\\X41\\", Set::Standard, Charset::Ascii, "A", kClean},                      // one hex byte
    {"\\X414243\\", Set::Standard, Charset::Ascii, "ABC", kClean},                // several bytes
    {"\\X4a\\", Set::Standard, Charset::Ascii, "J", kClean},                      // lower-case hex digits
    {"\\X0D0A\\", Set::Standard, Charset::Ascii, "\r\n", kClean},                 // CR LF
    {"\\x41\\", Set::Standard, Charset::Ascii, "\\x41\\", kClean},                // lower-case x: unknown
    {"\\XE9\\", Set::Standard, Charset::Latin1, "\xC3\xA9", kClean},              // Latin-1 byte to UTF-8
    {"\\XC3A9\\", Set::Standard, Charset::Utf8, "\xC3\xA9", kClean},              // UTF-8 bytes
    {"\\XF09F9982\\", Set::Standard, Charset::Utf8, "\xF0\x9F\x99\x82", kClean},  // four-byte sequence
    {"\\X\\", Set::Standard, Charset::Ascii, "\\X\\", 0},                         // no hex digits
    {"\\X4\\", Set::Standard, Charset::Ascii, "\\X4\\", 0},                       // odd number of digits
    {"\\XZZ\\", Set::Standard, Charset::Ascii, "\\XZZ\\", 0},                     // not hex
    {"ab\\XE9\\", Set::Standard, Charset::Ascii, "ab\\XE9\\", 2},                 // not ASCII
    {"\\XC3\\", Set::Standard, Charset::Utf8, "\\XC3\\", 0},                      // half a UTF-8 sequence
    {"\\XE9\\", Set::Standard, Charset::Utf8, "\\XE9\\", 0},                      // Latin-1 byte in UTF-8
    {"ab\\X41\\cd\\XZZ\\e", Set::Standard, Charset::Ascii, "abAcd\\XZZ\\e", 9},   // offset of the bad one
    {"\\XZZ\\\\XYY\\", Set::Standard, Charset::Ascii, "\\XZZ\\\\XYY\\", 0},       // the first bad only
    {"\\XZZ\\\\F\\", Set::Standard, Charset::Ascii, "\\XZZ\\|", 0},               // bad then good
    {"a\\.br\\b", Set::Standard, Charset::Ascii, "a\nb", kClean},                 // \.br\ line break
    {"a\\.sp\\b", Set::Standard, Charset::Ascii, "a\\.sp\\b", kClean},            // \.sp\ verbatim
    {"a\\.in+4\\b", Set::Standard, Charset::Ascii, "a\\.in+4\\b", kClean},        // \.in\ verbatim
    {"\\H\\x\\N\\", Set::Standard, Charset::Ascii, "\\H\\x\\N\\", kClean},        // highlight verbatim
    {"\\Zlocal\\", Set::Standard, Charset::Ascii, "\\Zlocal\\", kClean},          // \Z..\ verbatim
    {"\\C2842\\", Set::Standard, Charset::Ascii, "\\C2842\\", kClean},            // \Cxxyy\ verbatim
    {"\\M2442\\", Set::Standard, Charset::Ascii, "\\M2442\\", kClean},            // \Mxxyy\ verbatim
    {"\\\\", Set::Standard, Charset::Ascii, "\\\\", kClean},                      // empty sequence verbatim
    {"a\\F", Set::Standard, Charset::Ascii, "a\\F", kClean},                      // unterminated
    {"\\F\\x\\S", Set::Standard, Charset::Ascii, "|x\\S", kClean},                // known, then unterminated
    {"\\", Set::Standard, Charset::Ascii, "\\", kClean},                          // a lone escape
    {"\\H\\a\\F\\b", Set::Standard, Charset::Ascii, "\\H\\a|b", kClean},          // unknown then known
    {"\\FF\\", Set::Standard, Charset::Ascii, "\\FF\\", kClean},                  // two letters: unknown
    {"caf\xE9", Set::Standard, Charset::Latin1, "caf\xC3\xA9", kClean},           // Latin-1 text to UTF-8
    {"\xE9\\F\\\xFF", Set::Standard, Charset::Latin1, "\xC3\xA9|\xC3\xBF", kClean},  // around an escape
    {"caf\xC3\xA9", Set::Standard, Charset::Utf8, "caf\xC3\xA9", kClean},         // UTF-8 unchanged
};

struct EncodeCase {
  std::string_view utf8;
  Set set;
  Charset charset;
  std::optional<std::string_view> expected;  // nullopt: refused
};
std::ostream& operator<<(std::ostream& os, const EncodeCase& c) { return os << visible(c.utf8); }

const std::vector<EncodeCase> kEncode{
    {"plain", Set::Standard, Charset::Ascii, "plain"},                          // nothing to escape
    {"", Set::Standard, Charset::Ascii, ""},                                    // empty
    {"a|b", Set::Standard, Charset::Ascii, "a\\F\\b"},                          // field separator
    {"a^b", Set::Standard, Charset::Ascii, "a\\S\\b"},                          // component
    {"a&b", Set::Standard, Charset::Ascii, "a\\T\\b"},                          // sub-component
    {"a~b", Set::Standard, Charset::Ascii, "a\\R\\b"},                          // repetition
    {"a\\b", Set::Standard, Charset::Ascii, "a\\E\\b"},                         // the escape itself
    {"a#b", Set::Standard, Charset::Ascii, "a#b"},                              // '#' plain before 2.7
    {"a#b", Set::Truncation, Charset::Ascii, "a\\P\\b"},                        // ... escaped with it
    {"a\rb", Set::Standard, Charset::Ascii, "a\\X0D\\b"},                       // CR cannot be sent
    {"a\nb", Set::Standard, Charset::Ascii, "a\\X0A\\b"},                       // nor LF
    {"a\x0B" "b\x1C" "c", Set::Standard, Charset::Ascii, "a\\X0B\\b\\X1C\\c"},  // nor MLLP's blocks
    {"a\tb\x7F", Set::Standard, Charset::Utf8, "a\\X09\\b\\X7F\\"},           // nor any control
    {"a!b@c|d", Set::Custom, Charset::Ascii, "a$F$b$S$c|d"},                    // custom delimiters
    {"$*%", Set::Custom, Charset::Ascii, "$E$$R$$T$"},                          // the other custom ones
    {"Zo\xC3\xAB", Set::Standard, Charset::Latin1, "Zo\xEB"},                   // UTF-8 to Latin-1
    {"\xC3\xBF", Set::Standard, Charset::Latin1, "\xFF"},                       // U+00FF, the last one
    {"Zo\xC3\xAB", Set::Standard, Charset::Utf8, "Zo\xC3\xAB"},                 // stays UTF-8
    {"Zo\xC3\xAB", Set::Standard, Charset::Ascii, std::nullopt},                // not ASCII
    {"\xE2\x82\xAC", Set::Standard, Charset::Latin1, std::nullopt},             // EUR sign not Latin-1
    {"\xC4\x80", Set::Standard, Charset::Latin1, std::nullopt},                 // U+0100 not Latin-1
    {"\xFF", Set::Standard, Charset::Utf8, std::nullopt},                       // input not UTF-8
    {"\xC3", Set::Standard, Charset::Latin1, std::nullopt},                     // truncated UTF-8 input
    {"plain", Set::NoEscape, Charset::Ascii, "plain"},                          // fine without escape
    {"a^b", Set::NoEscape, Charset::Ascii, std::nullopt},                       // cannot be escaped
    {"a\rb", Set::NoEscape, Charset::Ascii, std::nullopt},                      // nor CR
    {"a\x0B" "b", Set::NoEscape, Charset::Ascii, std::nullopt},                   // nor a control
    {"a\\b", Set::NoEscape, Charset::Ascii, "a\\b"},                            // '\' is plain data then
};

struct EscapeTextCase {
  std::string_view utf8;
  Set set;
  Charset charset;
  std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const EscapeTextCase& c) { return os << visible(c.utf8); }

const std::vector<EscapeTextCase> kEscapeText{
    {"MSH-9 is missing", Set::Standard, Charset::Ascii, "MSH-9 is missing"},      // plain
    {"a|b^c", Set::Standard, Charset::Ascii, "a\\F\\b\\S\\c"},                    // delimiters escaped
    {"Zo\xC3\xAB", Set::Standard, Charset::Ascii, "Zoe"},                         // not ASCII: the accent goes
    {"Zo\xC3\xAB", Set::Standard, Charset::Latin1, "Zo\xEB"},                     // Latin-1 holds it
    {"\xE2\x82\xAC 5|x", Set::Standard, Charset::Latin1, "? 5\\F\\x"},            // EUR: '?' and escaped
    {"\xF0\x9F\x99\x82", Set::Standard, Charset::Ascii, "?"},                     // one '?' per character
    {"a^b", Set::NoEscape, Charset::Ascii, "a?b"},                                // no escape char: '?'
    {"x\ry", Set::NoEscape, Charset::Ascii, "x?y"},                               // ... for CR too
    {"x\x0By\x1Cz", Set::NoEscape, Charset::Ascii, "x?y?z"},                     // ... and MLLP's blocks
    {"Cyngor Sir Ynys \xC5\xB4" "en", Set::Standard, Charset::Ascii, "Cyngor Sir Ynys Wen"},  // W with circumflex
    {"Stra\xC3\x9F" "e \xC3\x86", Set::Standard, Charset::Ascii, "Strasse AE"},            // sharp s, AE ligature
    {"\xC5\x81\xC3\xB3" "d\xC5\xBA", Set::Standard, Charset::Latin1, "L\xF3" "dz"},          // Latin-1 keeps o-acute
    {"O\xE2\x80\x99" "Brien \xE2\x80\x93 \xE2\x80\x9C" "A\xE2\x80\x9D\xE2\x80\xA6", Set::Standard, Charset::Ascii,
     "O'Brien - \"A\"..."},                                                         // typographic punctuation
    {"ok\xC3", Set::Standard, Charset::Ascii, "ok?"},                                // ill-formed UTF-8
    {"a+b?\xC3\xAB", Set::QuestionField, Charset::Ascii, "a_b_e"},  // '?' is the field separator: '_' instead
    {"a \xE2\x80\x93 b", Set::DashComponent, Charset::Ascii, "a ? b"},  // the en dash's '-' is a delimiter here
};

}  // namespace

BOOST_AUTO_TEST_SUITE(escaping)

BOOST_DATA_TEST_CASE(decode_value_turns_escapes_into_utf8, boost::unit_test::data::make(kDecode), c) {
  std::string out;
  const auto bad = cpis::hl7v2::decodeValue(c.raw, delimitersOf(c.set), c.charset, out);
  BOOST_TEST(visible(out) == visible(c.expected));
  BOOST_TEST(bad.value_or(kClean) == c.firstBad);
}

BOOST_DATA_TEST_CASE(encode_value_escapes_delimiters_and_converts_the_charset,
                     boost::unit_test::data::make(kEncode), c) {
  std::string out;
  const bool ok = cpis::hl7v2::encodeValue(c.utf8, delimitersOf(c.set), c.charset, out);
  BOOST_TEST(ok == c.expected.has_value());
  if (ok && c.expected) {
    BOOST_TEST(visible(out) == visible(*c.expected));
    // and decoding gives the text back
    std::string back;
    BOOST_TEST(!cpis::hl7v2::decodeValue(out, delimitersOf(c.set), c.charset, back).has_value());
    BOOST_TEST(visible(back) == visible(c.utf8));
  }
}

BOOST_DATA_TEST_CASE(escape_text_never_fails, boost::unit_test::data::make(kEscapeText), c) {
  BOOST_TEST(visible(cpis::hl7v2::escapeText(c.utf8, delimitersOf(c.set), c.charset)) == visible(c.expected));
}

BOOST_AUTO_TEST_CASE(decode_value_appends_to_what_out_holds) {
  std::string out = "prefix:";
  BOOST_TEST(!cpis::hl7v2::decodeValue("a\\F\\b", Delimiters{}, Charset::Ascii, out).has_value());
  BOOST_TEST(out == "prefix:a|b");
}

BOOST_AUTO_TEST_CASE(encode_value_appends_to_what_out_holds) {
  std::string out = "x^";
  BOOST_TEST(cpis::hl7v2::encodeValue("a|b", Delimiters{}, Charset::Ascii, out));
  BOOST_TEST(out == "x^a\\F\\b");
}

BOOST_AUTO_TEST_SUITE_END()
