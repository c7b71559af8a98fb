#include "engine/hl7v2/message.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <sstream>
#include <vector>

#include "tests/support/hl7_samples.h"

using cpis::hl7v2::Message;
using cpis::hl7v2::Presence;
using cpis::test::visible;

namespace {

// Custom encoding characters: field '!', component '@', repetition '*', escape '$',
// sub-component '%' (as tests/data/hl7v2/custom_delimiters_a04.hl7 uses).
#define MSH_CUSTOM "MSH!@*$%!SNDAPP!SNDFAC!RCVAPP!RCVFAC!20240101120000!!ADT@A04@ADT_A01!CTRL1!P!2.4\r"
// v2.7 with the truncation character '#' as the fifth encoding character.
#define MSH_TRUNC "MSH|^~\\&#|SNDAPP|SNDFAC|RCVAPP|RCVFAC|20240101120000||ADT^A01^ADT_A01|CTRL1|P|2.7\r"

Message parsed(std::string_view hl7) {
  auto result = cpis::hl7v2::parse(hl7);
  if (!result) {
    std::ostringstream os;
    os << result.error();
    BOOST_FAIL("parse failed: " << os.str());
  }
  return std::move(result).value();
}

std::string_view toString(Presence p) {
  switch (p) {
    case Presence::Absent: return "Absent";
    case Presence::Null: return "Null";
    case Presence::Valued: return "Valued";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// get(): one row per quirk

struct FieldCase {
  std::string_view hl7, path, expected;
};
std::ostream& operator<<(std::ostream& os, const FieldCase& c) {
  return os << c.path << " in " << visible(c.hl7);
}

const std::vector<FieldCase> kEncodingCharacters{
    {MSH24, "MSH-1", "|"},                                             // MSH-1 is the separator itself
    {MSH24, "MSH-2", "^~\\&"},                                         // MSH-2 as sent, never decoded
    {MSH24, "MSH-3", "SNDAPP"},                                        // first field after MSH-2
    {MSH24, "MSH-9", "ADT"},                                           // a field path reads component 1
    {MSH24, "MSH-9.2", "A01"},                                         // trigger event
    {MSH24, "MSH-9.3", "ADT_A01"},                                     // message structure
    {MSH24, "MSH-12", "2.4"},                                          // version
    {MSH24, "MSH-2.2", ""},                                            // MSH-2 is never split
    {MSH_CUSTOM, "MSH-1", "!"},                                        // custom field separator
    {MSH_CUSTOM, "MSH-2", "@*$%"},                                     // custom encoding characters
    {MSH_CUSTOM, "MSH-9.2", "A04"},                                    // '@' splits components
    {MSH_CUSTOM "PID!1!!A@B*C@D\r", "PID-3.2", "B"},                   // custom component
    {MSH_CUSTOM "PID!1!!A@B*C@D\r", "PID-3(2).1", "C"},                // custom repetition
    {MSH_CUSTOM "PID!1!!A%X@B\r", "PID-3.1.2", "X"},                   // custom sub-component
    {MSH_CUSTOM "PID!1!!X$F$Y\r", "PID-3", "X!Y"},                     // custom escape, \F\ is '!'
    {MSH_CUSTOM "PID!1!!X$S$Y$T$Z$R$W$E$V\r", "PID-3", "X@Y%Z*W$V"},   // every custom escape
    {MSH_CUSTOM "PID!1!!a|b^c~d&e\\f\r", "PID-3", "a|b^c~d&e\\f"},      // standard chars are plain data
    {MSH_CUSTOM "PID!1!!a\\F\\b\r", "PID-3", "a\\F\\b"},                // '\' is no escape here
    {"MSH|#~\\&|A||||||ADT#A01|1|P|2.4\rPID|||1#2\r", "PID-3.2", "2"},  // '#' as component separator
    {"MSH|~^\\&|A||||||ADT~A01|1|P|2.4\rPID|||a~b^c\r", "PID-3(2)", "c"},  // swapped: '^' repeats
    {"MSH|~^\\&|A||||||ADT~A01|1|P|2.4\rPID|||a~b^c\r", "PID-3.2", "b"},   // swapped: '~' components
    {"MSH*^~\\&*A******ADT^A01*1*P*2.4\rPID***x\r", "PID-3", "x"},     // '*' as field separator
    {"MSH*^~\\&*A******ADT^A01*1*P*2.4\rPID***x\r", "MSH-1", "*"},     // MSH-1 follows the choice
    {MSH_TRUNC "PID|||a#b\r", "PID-3", "a#b"},                         // v2.7 '#' is data, not a split
    {MSH_TRUNC "PID|||a\\P\\b\r", "PID-3", "a#b"},                     // \P\ is the truncation char
    {MSH_TRUNC, "MSH-2", "^~\\&#"},                                    // five encoding characters
    {MSH24 "PID|||a\\P\\b\r", "PID-3", "a\\P\\b"},                     // \P\ without '#' stays verbatim
    {"MSH|^~\\|A||||||ADT^A01|1|P|2.4\rPID|||a&b\r", "PID-3", "a&b"},  // no sub-component char: '&' is data
    {"MSH|^~\\|A||||||ADT^A01|1|P|2.4\rPID|||a&b\r", "PID-3.1.2", ""}, // ... and nothing splits on it
    {"MSH|^~|A||||||ADT^A01|1|P|2.4\rPID|||a\\F\\b\r", "PID-3", "a\\F\\b"},  // no escape char: verbatim
    {"MSH|^|A||||||ADT^A01|1|P|2.4\rPID|||a~b\r", "PID-3", "a~b"},     // no repetition char: '~' is data
    {"MSH|^|A||||||ADT^A01|1|P|2.4\rPID|||a~b\r", "PID-3(2)", ""},     // ... so there is no second rep
};

const std::vector<FieldCase> kSegmentTerminators{
    {MSH24 "PID|||x\r", "PID-3", "x"},                                          // CR, the standard
    {MSH_PREFIX "2.4\nPID|||x\n", "PID-3", "x"},                                // LF
    {MSH_PREFIX "2.4\r\nPID|||x\r\n", "PID-3", "x"},                            // CRLF
    {MSH_PREFIX "2.4\r\nPID|||x\nPV1||E\rZZ1|y\r\n", "ZZ1-1", "y"},             // mixed in one message
    {MSH_PREFIX "2.4\r\nPID|||x\nPV1||E\rZZ1|y\r\n", "PV1-2", "E"},             // ... each split once
    {MSH24 "\r\r\n\nPID|||x\r", "PID-3", "x"},                                  // blank lines skipped
    {MSH24 "  \t \rPID|||x\r", "PID-3", "x"},                                   // white-space-only line
    {"\r\n\r\n" MSH24 "PID|||x\r", "MSH-10", "CTRL1"},                          // blank lines before MSH
    {"\xEF\xBB\xBF" MSH24, "MSH-3", "SNDAPP"},                                  // UTF-8 byte order mark
    {MSH24 "PID|||x", "PID-3", "x"},                                            // last segment unterminated
    {MSH_PREFIX "2.4", "MSH-12", "2.4"},                                        // only an unterminated MSH
    {MSH_PREFIX "2.4\r\n", "MSH-12", "2.4"},                                    // no '\r' left in a value
    {MSH24 "PID|||x\r\r\r", "PID-3", "x"},                                      // trailing blank lines
    {MSH24 "PID|||x\n\r", "PID-3", "x"},                                        // LF then CR: a blank line
};

const std::vector<FieldCase> kFieldStructure{
    {MSH24 "PID|||1^^^X~2^^^Y\r", "PID-3", "1"},                  // field path: first rep, first comp
    {MSH24 "PID|||1^^^X~2^^^Y\r", "PID-3(2)", "2"},               // second repetition
    {MSH24 "PID|||1^^^X~2^^^Y\r", "PID-3(2).4", "Y"},             // component of a repetition
    {MSH24 "PID|||1^^^X~2^^^Y\r", "PID-3(3)", ""},                // beyond the last repetition
    {MSH24 "PID|||1^^^X~2^^^Y\r", "PID-3.5", ""},                 // beyond the last component
    {MSH24 "PID|||1^^^NHS&2.16.840&ISO\r", "PID-3.4", "NHS"},     // component reads sub-component 1
    {MSH24 "PID|||1^^^NHS&2.16.840&ISO\r", "PID-3.4.2", "2.16.840"},  // sub-component
    {MSH24 "PID|||1^^^NHS&2.16.840&ISO\r", "PID-3.4.3", "ISO"},   // last sub-component
    {MSH24 "PID|||1^^^NHS&2.16.840&ISO\r", "PID-3.4.4", ""},      // beyond the last sub-component
    {MSH24 "PID|||~2\r", "PID-3", ""},                            // empty first repetition
    {MSH24 "PID|||~2\r", "PID-3(2)", "2"},                        // ... then a valued one
    {MSH24 "PID|||^B\r", "PID-3.2", "B"},                         // empty first component
    {MSH24 "PID|1\r", "PID-1", "1"},                              // field 1 of a normal segment
    {MSH24 "PID|1\r", "PID-30", ""},                              // beyond the last field
    {MSH24 "PID|1|||\r", "PID-4", ""},                            // trailing empty fields
    {MSH24 "PID\r", "PID-1", ""},                                 // a segment with no fields at all
    {MSH24 "PID|||a b  \r", "PID-3", "a b  "},                    // spaces are kept
    {MSH24 "PID|||\"\"\r", "PID-3", ""},                          // explicit null reads as ""
    {MSH24 "PID|||\"\"^x\r", "PID-3.1", ""},                      // null component
    {MSH24 "PID|||\"x\"\r", "PID-3", "\"x\""},                    // quotes around text: not null
    {MSH24 "PID|||\"\"\"\"\r", "PID-3", "\"\"\"\""},              // four quotes: not null
    {MSH24 "PID|||X\r", "NK1-2", ""},                             // missing segment
    {MSH24 "PID|||X\r", "PID(2)-3", ""},                          // missing second occurrence
    {MSH24, "MSH-21", ""},                                        // beyond the last MSH field
    {MSH24 "PID|||A\\S\\B^C\r", "PID-3.1", "A^B"},                // escaped component mark: no split
    {MSH24 "PID|||A\\R\\B\r", "PID-3(2)", ""},                    // escaped repetition mark: no split
    {MSH24 "PID|||A\\T\\B\r", "PID-3.1.2", ""},                   // escaped sub-component mark
    {MSH24 "PID|||A\\F\\B|C\r", "PID-4", "C"},                    // escaped field mark: no split
};

const std::vector<FieldCase> kSegmentRepetitions{
    {MSH24 "OBX|1||W||21.4\rOBX|2||H||134\rOBX|3||T||37.2\r", "OBX(3)-5", "37.2"},  // third OBX
    {MSH24 "OBX|1||W||21.4\rOBX|2||H||134\rOBX|3||T||37.2\r", "OBX-5", "21.4"},     // first by default
    {MSH24 "OBX|1||W||21.4\rOBX|2||H||134\rOBX|3||T||37.2\r", "OBX(1)-5", "21.4"},  // explicit first
    {MSH24 "OBX|1||W||21.4\rOBX|2||H||134\rOBX|3||T||37.2\r", "OBX(4)-5", ""},      // no fourth OBX
    {MSH24 "OBX|1||8867-4^Heart rate^LN\rOBX|2||9279-1^Resp rate^LN\r", "OBX(2)-3.2", "Resp rate"},
    {MSH24 "OBX|1||A||1\rNTE|1||note\rOBX|2||B||2\r", "OBX(2)-5", "2"},    // counted per id, not position
    {MSH24 "OBX|1||A||1\rNTE|1||note\rOBX|2||B||2\r", "NTE-3", "note"},    // the segment in between
    {MSH24 "ZU1|a\rPID|1\rZU1|b\r", "ZU1(2)-1", "b"},                       // repeated Z-segment
};

const std::vector<FieldCase> kZSegments{
    {MSH24 "ZU3|1|01^EMERGENCY DEPARTMENT^ZLOCTYPE\r", "ZU3-2.2", "EMERGENCY DEPARTMENT"},  // ITK ZU3
    {MSH24 "ZU1" "|||||||||||||||||||||||||||NSTS01\r", "ZU1-27", "NSTS01"},   // legacy trace status
    {MSH24 "Z01|x\r", "Z01-1", "x"},                                          // digits in a Z id
    {MSH24 "ZCP|1|FOUND\rZCA|1\r", "ZCP-2", "FOUND"},                         // our own Z-segments
    {MSH24 "ZZZ\r", "ZZZ-1", ""},                                             // a Z-segment with no fields
    {MSH24 "PID|1\rZPI|a\\F\\b\r", "ZPI-1", "a|b"},                           // Z values decode too
};

const std::vector<FieldCase> kEscapesInFields{
    {MSH24 "PID|||a\\F\\b\r", "PID-3", "a|b"},                        // \F\ field separator
    {MSH24 "PID|||a\\S\\b\r", "PID-3", "a^b"},                        // \S\ component separator
    {MSH24 "PID|||a\\T\\b\r", "PID-3", "a&b"},                        // \T\ sub-component separator
    {MSH24 "PID|||a\\R\\b\r", "PID-3", "a~b"},                        // \R\ repetition separator
    {MSH24 "PID|||a\\E\\b\r", "PID-3", "a\\b"},                       // \E\ escape character
    {MSH24 "PID|||\\E\\F\\E\\\r", "PID-3", "\\F\\"},                  // escaped escape: no double decode
    {MSH24 "PID|||\\X41\\\r", "PID-3", "A"},                          // \Xhh\ hexadecimal
    {MSH24 "PID|||a\\X0D0A\\b\r", "PID-3", "a\r\nb"},                 // \X..\ with two bytes
    {MSH24 "PID|||line1\\.br\\line2\r", "PID-3", "line1\nline2"},     // \.br\ is a line break
    {MSH24 "PID|||\\H\\bold\\N\\\r", "PID-3", "\\H\\bold\\N\\"},      // highlighting kept verbatim
    {MSH24 "PID|||\\Zxx\\\r", "PID-3", "\\Zxx\\"},                    // locally defined: verbatim
    {MSH24 "PID|||\\C2842\\\r", "PID-3", "\\C2842\\"},                // charset switch: verbatim
    {MSH24 "PID|||\\M2442\\\r", "PID-3", "\\M2442\\"},                // multi-byte switch: verbatim
    {MSH24 "PID|||\\.sp\\\r", "PID-3", "\\.sp\\"},                    // other formatting: verbatim
    {MSH24 "PID|||a\\Fb\r", "PID-3", "a\\Fb"},                        // unterminated: verbatim
    {MSH24 "PID|||\\H\\x\\F\\y\r", "PID-3", "\\H\\x|y"},              // unknown then known
    {MSH24 "PID|||\\XZZ\\\r", "PID-3", "\\XZZ\\"},                    // bad hex: get() keeps it
    {MSH24 "PID|||\\XE9\\\r", "PID-3", "\\XE9\\"},                    // not ASCII: get() keeps it
    {MSH24 "PID|||x^a\\F\\b\r", "PID-3.2", "a|b"},                    // decoded in a component
    {MSH24 "PID|||x^y&a\\T\\b\r", "PID-3.2.2", "a&b"},                // decoded in a sub-component
    {"MSH|^~\\&|A||||||ADT^A01|ID\\T\\1|P|2.4\r", "MSH-10", "ID&1"},  // header values are decoded
};

void checkField(const FieldCase& c) {
  const Message m = parsed(c.hl7);
  BOOST_TEST(m.get(c.path) == c.expected);
  const auto path = cpis::hl7v2::parsePath(c.path);
  BOOST_REQUIRE(path.ok());
  BOOST_TEST(m.get(path.value()) == c.expected);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(message)

BOOST_DATA_TEST_CASE(encoding_characters_come_from_msh1_and_msh2,
                     boost::unit_test::data::make(kEncodingCharacters), c) {
  checkField(c);
}
BOOST_DATA_TEST_CASE(segments_end_with_cr_lf_or_crlf, boost::unit_test::data::make(kSegmentTerminators), c) {
  checkField(c);
}
BOOST_DATA_TEST_CASE(fields_split_into_repetitions_components_and_subcomponents,
                     boost::unit_test::data::make(kFieldStructure), c) {
  checkField(c);
}
BOOST_DATA_TEST_CASE(segment_repetitions_are_counted_per_id,
                     boost::unit_test::data::make(kSegmentRepetitions), c) {
  checkField(c);
}
BOOST_DATA_TEST_CASE(z_segments_read_like_any_other, boost::unit_test::data::make(kZSegments), c) {
  checkField(c);
}
BOOST_DATA_TEST_CASE(escape_sequences_decode_on_access, boost::unit_test::data::make(kEscapesInFields), c) {
  checkField(c);
}

// ---------------------------------------------------------------------------------------------
// presence(): empty vs explicit null

namespace {
struct PresenceCase {
  std::string_view hl7, path;
  Presence expected;
};
std::ostream& operator<<(std::ostream& os, const PresenceCase& c) {
  return os << c.path << " in " << visible(c.hl7);
}
const std::vector<PresenceCase> kPresence{
    {MSH24 "PID|||\r", "PID-3", Presence::Absent},              // empty field: not sent
    {MSH24 "PID|1\r", "PID-13", Presence::Absent},              // beyond the last field
    {MSH24 "PID|1\r", "NK1-2", Presence::Absent},               // segment not there
    {MSH24 "PID|||\"\"\r", "PID-3", Presence::Null},            // explicit null: delete the value
    {MSH24 "PID|||x^\"\"\r", "PID-3.2", Presence::Null},        // null component
    {MSH24 "PID|||x^\"\"\r", "PID-3", Presence::Valued},        // the field around it has a value
    {MSH24 "PID|||x\r", "PID-3", Presence::Valued},             // a value
    {MSH24 "PID|||\"x\"\r", "PID-3", Presence::Valued},         // quoted text is a value
    {MSH24 "PID||| \r", "PID-3", Presence::Valued},             // a space is a value
    {MSH24 "PID|||\"\"~x\r", "PID-3", Presence::Null},          // null first repetition
    {MSH24 "PID|||\"\"~x\r", "PID-3(2)", Presence::Valued},     // valued second repetition
    {MSH24 "PID|||~x\r", "PID-3(1)", Presence::Absent},         // empty first repetition
    {MSH24 "PID|||x^^z\r", "PID-3.2", Presence::Absent},        // empty component
    {MSH24, "MSH-1", Presence::Valued},                         // MSH-1 always has a value
    {MSH24, "MSH-13", Presence::Absent},                        // empty MSH field
};
}  // namespace

BOOST_DATA_TEST_CASE(presence_tells_empty_from_explicit_null, boost::unit_test::data::make(kPresence), c) {
  const Message m = parsed(c.hl7);
  const auto path = cpis::hl7v2::parsePath(c.path);
  BOOST_REQUIRE(path.ok());
  BOOST_TEST(toString(m.presence(path.value())) == toString(c.expected));
}

// ---------------------------------------------------------------------------------------------
// Structural errors: HL7 0357 code and location

namespace {
struct ErrorCase {
  std::string_view hl7;
  unsigned code;
  std::string_view segmentId;
  std::uint32_t sequence, field;
  std::size_t byteOffset;
};
std::ostream& operator<<(std::ostream& os, const ErrorCase& c) { return os << visible(c.hl7); }

const std::vector<ErrorCase> kStructuralErrors{
    {"", 100, "", 0, 0, 0},                                      // empty input
    {"\r\n\r\n", 100, "", 0, 0, 0},                              // only blank lines
    {"PID|1\r" MSH24, 100, "", 0, 0, 0},                         // no MSH first
    {"msh|^~\\&|A||||||ADT^A01|1|P|2.4\r", 100, "", 0, 0, 0},    // lower-case MSH
    {"MS", 100, "", 0, 0, 0},                                    // truncated before the id ends
    {"MSH\r", 102, "MSH", 1, 1, 3},                              // no MSH-1 at all
    {"MSH", 102, "MSH", 1, 1, 3},                                // ... and no terminator
    {"MSHA^~\\&A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 1, 3},  // a letter as MSH-1
    {"MSH1^~\\&1||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 1, 3},  // a digit as MSH-1
    {"MSH ^~\\& ||||||ADT^A01 1 P 2.4\r", 102, "MSH", 1, 1, 3},  // a space as MSH-1
    {"MSH\t^~\\&\t\t\t\r", 102, "MSH", 1, 1, 3},                 // a tab as MSH-1
    {"MSH\xA6^~\\&\xA6"
     "A\r",
     102, "MSH", 1, 1, 3},                                          // a non-ASCII MSH-1
    {"MSH||A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 2, 4},         // empty MSH-2
    {"MSH|\r", 102, "MSH", 1, 2, 4},                                // MSH-2 cut off
    {"MSH|^~\\&#!|A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 2, 4},  // six encoding characters
    {"MSH|^^\\&|A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 2, 5},    // a character used twice
    {"MSH|^~\\A|A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 2, 7},    // a letter among them
    {"MSH|^ \\&|A||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 2, 5},    // a space among them
    {"MSH|^~\\&|A\r", 101, "MSH", 1, 9, 10},                        // header stops before MSH-9: its end
    {"MSH|^~\\&|A|||||||1|P|2.4\r", 101, "MSH", 1, 9, 16},          // empty MSH-9, where it starts
    {"MSH|^~\\&|A||||||^A01|1|P|2.4\r", 101, "MSH", 1, 9, 16},      // MSH-9.1 empty
    {"MSH|^~\\&|A||||||ADT^A01||P|2.4\r", 101, "MSH", 1, 10, 24},   // empty MSH-10, where it starts
    {"MSH|^~\\&|A||||||ADT^A01\r", 101, "MSH", 1, 10, 23},          // header stops before MSH-10: its end
    {MSH24 "PI\r", 100, "", 2, 0, 81},                              // truncated segment id
    {MSH24 "P\r", 100, "", 2, 0, 81},                               // one-letter id
    {MSH24 "PID|1\rOB", 100, "", 3, 0, 87},                         // truncated at the end
    {MSH24 "pid|1\r", 100, "", 2, 0, 81},                           // lower-case id
    {MSH24 "1ID|1\r", 100, "", 2, 0, 81},                           // id starting with a digit
    {MSH24 "PIDX|1\r", 100, "", 2, 0, 81},                          // four-letter id
    {MSH24 "PID^1\r", 100, "", 2, 0, 81},                           // id not followed by MSH-1
    {MSH24 " PID|1\r", 100, "", 2, 0, 81},                          // leading space
    {MSH24 "PID|1\r" MSH24, 100, "MSH", 2, 0, 87},                  // a second MSH
    {MSH24 "FHS|^~\\&\r", 100, "FHS", 1, 0, 81},                    // a file header inside
    {MSH24 "BHS|^~\\&\r", 100, "BHS", 1, 0, 81},                    // a batch header inside
    {MSH24 "BTS|1\r", 100, "BTS", 1, 0, 81},                        // a batch trailer inside
    {MSH24 "FTS|1\r", 100, "FTS", 1, 0, 81},                        // a file trailer inside
    {MSH_PREFIX "2.4||||||FOO\r", 103, "MSH", 1, 18, 0},            // unsupported MSH-18
    {MSH_PREFIX "2.4||||||utf-16\r", 103, "MSH", 1, 18, 0},         // UTF-16, in any case: not supported
    {MSH_PREFIX "2.4||||||8859/15\r", 103, "MSH", 1, 18, 0},        // Latin-9 is not supported
    {MSH_PREFIX "2.4||||||UNICODE\r", 103, "MSH", 1, 18, 0},        // UTF-16: not supported
    {MSH24 "PID|||Lef\xE8vre\r", 102, "PID", 1, 3, 90},             // Latin-1 byte, MSH-18 empty
    {MSH_PREFIX "2.4||||||ASCII\rPID|||Lef\xE8vre\r", 102, "PID", 1, 3, 101},  // explicit ASCII
    {"MSH|^~\\&|S\xC9ND||||||ADT^A01|1|P|2.4\r", 102, "MSH", 1, 3, 10},        // bad byte in MSH-3
    {MSH_UTF8 "PID|||a\xC3(\r", 102, "PID", 1, 3, 109},            // UTF-8 lead byte, no continuation
    {MSH_UTF8 "PID|||\xC0\xAF\r", 102, "PID", 1, 3, 108},          // overlong encoding of '/'
    {MSH_UTF8 "PID|||\xED\xA0\x80\r", 102, "PID", 1, 3, 108},      // UTF-16 surrogate
    {MSH_UTF8 "PID|||\xF4\x90\x80\x80\r", 102, "PID", 1, 3, 108},  // beyond U+10FFFF
    {MSH_UTF8 "PID|||ok|\x80\r", 102, "PID", 1, 4, 111},           // lone continuation byte
    {MSH_UTF8 "PID|||ok|\xE2\x82", 102, "PID", 1, 4, 111},         // sequence cut at the end
    {MSH_UTF8 "PID|||Lef\xE8vre\r", 102, "PID", 1, 3, 111},        // Latin-1 text labelled UTF-8
    {MSH_UTF8 "OBX|1\rOBX|2||\xFF\r", 102, "OBX", 2, 3, 115},      // second OBX located
};

}  // namespace

BOOST_DATA_TEST_CASE(structural_errors_have_their_code_and_location,
                     boost::unit_test::data::make(kStructuralErrors), c) {
  const auto result = cpis::hl7v2::parse(c.hl7);
  BOOST_REQUIRE(!result.ok());
  const auto& issue = result.error();
  BOOST_TEST(static_cast<unsigned>(issue.code) == c.code);
  BOOST_TEST((issue.severity == cpis::core::Severity::Error));
  BOOST_TEST(issue.location.segmentId == c.segmentId);
  BOOST_TEST(issue.location.segmentSequence == c.sequence);
  BOOST_TEST(issue.location.field == c.field);
  BOOST_TEST(issue.location.byteOffset == c.byteOffset);
  BOOST_TEST(!issue.text.empty());
}

BOOST_AUTO_TEST_CASE(invalid_byte_text_names_the_declared_charset) {
  const auto implicit = cpis::hl7v2::parse(MSH24 "PID|||\xE8\r");
  const auto explicitAscii = cpis::hl7v2::parse(MSH_PREFIX "2.4||||||ASCII\rPID|||\xE8\r");
  const auto utf8 = cpis::hl7v2::parse(MSH_UTF8 "PID|||\xE8\r");
  BOOST_REQUIRE((!implicit.ok() && !explicitAscii.ok() && !utf8.ok()));
  BOOST_TEST(implicit.error().text == "byte is not valid in the message's character set (ASCII, as MSH-18 is empty)");
  BOOST_TEST(explicitAscii.error().text == "byte is not valid in the message's character set (ASCII)");
  BOOST_TEST(utf8.error().text == "byte is not valid in the message's character set (UTF-8)");
}

// A batch (FHS/BHS ... BTS/FTS) sent where one message is expected (one MLLP frame): said so,
// at the envelope's first segment, with what to do.
BOOST_AUTO_TEST_CASE(a_batch_where_one_message_was_expected_is_named) {
  for (const std::string head : {"FHS", "BHS"}) {
    const auto batch = cpis::hl7v2::parse(head + "|^~\\&|EPR\r" MSH24 "PID|1\rBTS|1\r");
    BOOST_REQUIRE(!batch.ok());
    BOOST_TEST((batch.error().code == cpis::core::ErrorCode::SegmentSequence));
    BOOST_TEST(batch.error().location.segmentId == head);
    BOOST_TEST(batch.error().text.find("a batch (" + head + ")") == 0u, batch.error().text);
    BOOST_TEST(batch.error().text.find("a frame of its own") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(issue_texts_never_quote_the_value) {
  const auto bad = cpis::hl7v2::parse(MSH24 "PID|||SECRETNAME\xE8\r");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().text.find("SECRETNAME") == std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Round trip: serialize() gives the bytes back, segment ends normalised to '\r'

namespace {
struct RoundTripCase {
  std::string_view hl7, expected;
};
std::ostream& operator<<(std::ostream& os, const RoundTripCase& c) { return os << visible(c.hl7); }

const std::vector<RoundTripCase> kRoundTrips{
    {MSH24 "PID|||x\r", MSH24 "PID|||x\r"},                                    // CR: unchanged
    {MSH_PREFIX "2.4\nPID|||x\n", MSH24 "PID|||x\r"},                          // LF -> CR
    {MSH_PREFIX "2.4\r\nPID|||x\r\n", MSH24 "PID|||x\r"},                      // CRLF -> CR
    {MSH_PREFIX "2.4\r\nPID|||x\nPV1\r", MSH24 "PID|||x\rPV1\r"},              // mixed -> CR
    {MSH24 "PID|||x", MSH24 "PID|||x\r"},                                      // last CR added
    {MSH24 "\r\rPID|||x\r\r", MSH24 "PID|||x\r"},                              // blank lines dropped
    {MSH24 " \t\rPID|||x\r", MSH24 "PID|||x\r"},                               // blank line of spaces
    {"\n\r\n" MSH24, MSH24},                                                   // leading blank lines
    {"\xEF\xBB\xBF" MSH24, MSH24},                                             // byte order mark dropped
    {MSH24 "PID|1|||\r", MSH24 "PID|1|||\r"},                                  // trailing empty fields kept
    {MSH24 "PID|||a\\X41\\\\F\\\r", MSH24 "PID|||a\\X41\\\\F\\\r"},            // escapes kept as sent
    {MSH24 "PID|||\"\"\r", MSH24 "PID|||\"\"\r"},                              // explicit null kept
    {MSH24 "PID|1 ||x  \r", MSH24 "PID|1 ||x  \r"},                            // spaces inside kept
    {MSH24 "ZZZ\rZU1|a\r", MSH24 "ZZZ\rZU1|a\r"},                              // Z-segments kept
    {MSH_CUSTOM "PID!1!!A@B*C\n", MSH_CUSTOM "PID!1!!A@B*C\r"},                // custom delimiters
    {MSH_TRUNC "PID|||a#b\r", MSH_TRUNC "PID|||a#b\r"},                        // truncation char
    {MSH_LATIN1 "PID|||Lef\xE8vre\n", MSH_LATIN1 "PID|||Lef\xE8vre\r"},       // Latin-1 bytes unchanged
    {MSH_UTF8 "PID|||Zo\xC3\xAB\r\n", MSH_UTF8 "PID|||Zo\xC3\xAB\r"},          // UTF-8 bytes unchanged
    {MSH24 "PID|||x\r\n\r\nPV1\r\n", MSH24 "PID|||x\rPV1\r"},                  // CRLF with blank lines
};
}  // namespace

BOOST_DATA_TEST_CASE(round_trip_gives_the_same_bytes_with_cr_segment_ends,
                     boost::unit_test::data::make(kRoundTrips), c) {
  const Message m = parsed(c.hl7);
  const std::string once = m.serialize();
  BOOST_TEST(visible(once, 1000) == visible(c.expected, 1000));
  BOOST_TEST(parsed(once).serialize() == once);  // stable
  if (c.hl7 == c.expected) BOOST_TEST(m.raw() == c.hl7);
}

// ---------------------------------------------------------------------------------------------
// set(): writing values

namespace {
struct SetCase {
  std::string_view hl7, path, value, expected;  // expected: the whole message after set()
};
std::ostream& operator<<(std::ostream& os, const SetCase& c) {
  return os << c.path << " = " << visible(c.value) << " in " << visible(c.hl7);
}

const std::vector<SetCase> kSets{
    {MSH24 "PID|1|old\r", "PID-2", "new", MSH24 "PID|1|new\r"},                  // replace a field
    {MSH24 "PID|1\r", "PID-5", "X", MSH24 "PID|1||||X\r"},                       // create empty fields
    {MSH24 "PID|1\r", "NK1-2", "X", MSH24 "PID|1\rNK1||X\r"},                    // create the segment
    {MSH24 "OBX|1||W||1\r", "OBX(3)-5", "X", MSH24 "OBX|1||W||1\rOBX\rOBX|||||X\r"},  // and the missing ones
    {MSH24 "PID|1\rPV1|1\r", "PID(2)-1", "2", MSH24 "PID|1\rPV1|1\rPID|2\r"},   // second PID appended
    {MSH24 "PID|||||A\r", "PID-5.3", "X", MSH24 "PID|||||A^^X\r"},              // create components
    {MSH24 "PID|||1^^^NHS\r", "PID-3.4.2", "X", MSH24 "PID|||1^^^NHS&X\r"},     // create a sub-component
    {MSH24 "PID|||A\r", "PID-3(3)", "X", MSH24 "PID|||A~~X\r"},                 // create repetitions
    {MSH24 "PID|||A\r", "PID-3(2).4.2", "X", MSH24 "PID|||A~^^^&X\r"},          // all levels at once
    {MSH24 "PID|||A^B\r", "PID-3", "X", MSH24 "PID|||X^B\r"},                   // field path: component 1 only
    {MSH24 "PID|||A&Z^B\r", "PID-3.1", "X", MSH24 "PID|||X&Z^B\r"},             // ... and sub-component 1
    {MSH24 "PID|||A~B~C\r", "PID-3(2)", "X", MSH24 "PID|||A~X~C\r"},            // other repetitions kept
    {MSH24 "PID|||a\r", "PID-3", "a|b", MSH24 "PID|||a\\F\\b\r"},               // '|' escaped
    {MSH24 "PID|||a\r", "PID-3", "^~&\\", MSH24 "PID|||\\S\\\\R\\\\T\\\\E\\\r"},  // every delimiter escaped
    {MSH24 "PID|||a\r", "PID-3", "a\rb\nc", MSH24 "PID|||a\\X0D\\b\\X0A\\c\r"},  // CR and LF as hex escapes
    {MSH24 "PID|||a\r", "PID-3", "#", MSH24 "PID|||#\r"},                       // '#' is plain before 2.7
    {MSH_TRUNC "PID|||a\r", "PID-3", "a#b", MSH_TRUNC "PID|||a\\P\\b\r"},       // ... and \P\ with it
    {MSH_CUSTOM "PID!1\r", "PID-3", "a!b@c|d", MSH_CUSTOM "PID!1!!a$F$b$S$c|d\r"},  // custom delimiters
    {MSH_LATIN1 "PID|1\r", "PID-5", "Zo\xC3\xAB", MSH_LATIN1 "PID|1||||Zo\xEB\r"},  // UTF-8 in, Latin-1 out
    {MSH_UTF8 "PID|1\r", "PID-5", "Zo\xC3\xAB", MSH_UTF8 "PID|1||||Zo\xC3\xAB\r"},  // UTF-8 stays UTF-8
    {MSH24 "PID|1\r", "MSH-3", "NEWAPP", "MSH|^~\\&|NEWAPP|SNDFAC|RCVAPP|RCVFAC|20240101120000||ADT^A01^ADT_A01|CTRL1|P|2.4\rPID|1\r"},
    {MSH24, "MSH-9.2", "A04", "MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|20240101120000||ADT^A04^ADT_A01|CTRL1|P|2.4\r"},
    {MSH24, "MSH-21", "CPIS", MSH_PREFIX "2.4|||||||||CPIS\r"},                   // beyond the last MSH field
    {MSH_PREFIX "2.4\nPID|1\n", "PID-2", "X", MSH24 "PID|1|X\r"},               // LF message comes out CR
    {MSH24 "PID|1|old|z\r", "PID-2", "", MSH24 "PID|1||z\r"},                   // empty value clears
    {MSH24 "PID|1\r", "PID-13", "\"\"", MSH24 "PID|1||||||||||||\"\"\r"},       // writing "" is the null
    {MSH24 "PID|1\r", "ZU3-2.2", "ED", MSH24 "PID|1\rZU3||^ED\r"},              // a new Z-segment
    {MSH24 "PID|1\rPV1|1\r", "PID-1", "9", MSH24 "PID|9\rPV1|1\r"},             // middle segment, rest kept
};
}  // namespace

BOOST_DATA_TEST_CASE(set_writes_escaped_values_creating_what_is_missing, boost::unit_test::data::make(kSets),
                     c) {
  Message m = parsed(c.hl7);
  const auto status = m.set(c.path, c.value);
  BOOST_TEST_REQUIRE(status.isOk(), status.message());
  BOOST_TEST(visible(m.serialize(), 1000) == visible(c.expected, 1000));
  if (c.value != "\"\"") BOOST_TEST(m.get(c.path) == c.value);  // reads back decoded
  BOOST_TEST(parsed(m.serialize()).serialize() == m.serialize());
}

namespace {
struct RefusalCase {
  std::string_view hl7, path, value, reason;  // reason: part of the Status message
};
std::ostream& operator<<(std::ostream& os, const RefusalCase& c) {
  return os << c.path << " = " << visible(c.value) << " in " << visible(c.hl7);
}

const std::vector<RefusalCase> kRefusals{
    {MSH24, "MSH-1", "!", "cannot be set"},                                      // separator is fixed
    {MSH24, "MSH-2", "@*$%", "cannot be set"},                                   // so are MSH-2's chars
    {MSH24 "PID|||a~b\r", "PID-3(*)", "x", "'*'"},                               // '*' names many
    {MSH24 "OBX|1\rOBX|2\r", "OBX(*)-5", "x", "'*'"},                            // ... for segments too
    {MSH24, "PID3", "x", "invalid path"},                                        // syntax error
    {MSH24, "", "x", "invalid path"},                                            // empty path
    {MSH_LATIN1 "PID|1\r", "PID-5", "\xE2\x82\xAC", "character set"},            // EUR sign not in Latin-1
    {MSH24 "PID|1\r", "PID-5", "Zo\xC3\xAB", "character set"},                   // no non-ASCII in ASCII
    {MSH_UTF8 "PID|1\r", "PID-5", "\xFF", "character set"},                      // not UTF-8 at all
    {MSH24, "MSH-10", "", "unreadable"},                                         // MSH-10 is required
    {MSH24, "MSH-9", "", "unreadable"},                                          // MSH-9 is required
    {MSH24, "MSH(2)-3", "x", "unreadable"},                                      // a second MSH
    {MSH24, "BHS-3", "x", "unreadable"},                                         // a batch segment
    {MSH24, "MSH-18", "KOI8-R", "unreadable"},                                   // unsupported charset
    {MSH_LATIN1 "PID|||Lef\xE8vre\r", "MSH-18", "UNICODE UTF-8", "unreadable"},  // bytes would be invalid
    {"MSH|^~|A||||||ADT^A01|1|P|2.4\r", "PID-3", "a^b", "character set"},       // no escape char for '^'
    {"MSH|^~\\|A||||||ADT^A01|1|P|2.4\r", "PID-3.1.2", "x", "cannot express"},  // no sub-component char
    {"MSH|^|A||||||ADT^A01|1|P|2.4\r", "PID-3(2)", "x", "cannot express"},      // no repetition char
};
}  // namespace

BOOST_DATA_TEST_CASE(set_refuses_what_it_cannot_write, boost::unit_test::data::make(kRefusals), c) {
  Message m = parsed(c.hl7);
  const std::string before = m.serialize();
  const auto status = m.set(c.path, c.value);
  BOOST_TEST(!status.isOk());
  BOOST_TEST((status.code() == cpis::core::Status::Code::InvalidArgument));
  BOOST_TEST(status.message().find(c.reason) != std::string::npos, status.message());
  BOOST_TEST(m.serialize() == before);  // unchanged
}

BOOST_AUTO_TEST_CASE(set_refuses_a_path_with_a_zero_position) {
  // parsePath never gives 0, but a Path built in code can: it must not rewrite the segment id
  // (field 0) or append a segment (occurrence 0).
  Message m = parsed(MSH24 "PID|1\r");
  const std::string before = m.serialize();
  BOOST_TEST(!m.set(cpis::hl7v2::Path{"PID", 1, 0, 1, 0, 0}, "ZZZ").isOk());
  BOOST_TEST(!m.set(cpis::hl7v2::Path{"PID", 0, 1, 1, 0, 0}, "x").isOk());
  BOOST_TEST(!m.set(cpis::hl7v2::Path{"PID", 1, 1, 0, 0, 0}, "x").isOk());
  BOOST_TEST(m.serialize() == before);
}

BOOST_AUTO_TEST_CASE(set_reindexes_so_later_reads_see_the_change) {
  Message m = parsed(MSH24 "PID|1\r");
  BOOST_REQUIRE(m.set("OBX(2)-5", "x").isOk());
  BOOST_TEST(m.segmentCount() == 4u);
  BOOST_TEST(m.occurrences("OBX") == 2u);
  BOOST_TEST(m.get("OBX(2)-5") == "x");
  BOOST_REQUIRE(m.set("MSH-10", "NEW1").isOk());
  BOOST_TEST(m.controlId() == "NEW1");
}

BOOST_AUTO_TEST_CASE(set_in_latin1_reads_back_as_utf8_and_keeps_the_charset) {
  Message m = parsed(MSH_LATIN1 "PID|1\r");
  BOOST_REQUIRE(m.set("PID-5.1", "Lef\xC3\xA8vre").isOk());
  BOOST_TEST((m.charset() == cpis::hl7v2::Charset::Latin1));
  BOOST_TEST(m.get("PID-5") == "Lef\xC3\xA8vre");
  BOOST_TEST(m.raw().find("Lef\xE8vre") != std::string_view::npos);
}

// ---------------------------------------------------------------------------------------------
// getAll(): '*' repetitions

namespace {
struct AllCase {
  std::string_view hl7, path;
  std::vector<std::string> expected;
};
std::ostream& operator<<(std::ostream& os, const AllCase& c) { return os << c.path << " in " << visible(c.hl7); }

const std::vector<AllCase> kGetAll{
    {MSH24 "OBX|1||A||a\rOBX|2||B||b\rOBX|3||C||c\r", "OBX(*)-5", {"a", "b", "c"}},  // every OBX
    {MSH24 "OBX|1||A||a\rOBX|2||B||b\r", "OBX(2)-5", {"b"}},                         // one occurrence
    {MSH24 "OBX|1||A||a\rOBX|2||B||b\r", "OBX-5", {"a"}},                            // default first
    {MSH24 "PID|||1^^^NHS~2^^^MR\r", "PID-3(*).1", {"1", "2"}},                      // every repetition
    {MSH24 "PID|||1^^^NHS~2^^^MR\r", "PID-3(*).4", {"NHS", "MR"}},                   // their components
    {MSH24 "PID|||1^^^NHS~2^^^MR\r", "PID-3(*)", {"1", "2"}},                        // field: component 1
    {MSH24 "OBX|1|||a~b\rOBX|2|||c\r", "OBX(*)-4(*)", {"a", "b", "c"}},              // both levels
    {MSH24 "PID|1\r", "OBX(*)-5", {}},                                               // no such segment
    {MSH24 "PID|1\r", "PID-3(*)", {""}},                                             // empty field: one ""
    {MSH24 "PID|||a\\R\\b~c\r", "PID-3(*)", {"a~b", "c"}},                           // decoded values
    {MSH24 "PID|||\"\"~x\r", "PID-3(*)", {"", "x"}},                                 // null reads as ""
    {MSH_CUSTOM "PID!1!!a*b\r", "PID-3(*)", {"a", "b"}},                             // custom repetition
    {MSH24, "MSH-2(*)", {"^~\\&"}},                                                  // MSH-2 never split
    {"MSH|^|A||||||ADT^A01|1|P|2.4\rPID|||a~b\r", "PID-3(*)", {"a~b"}},              // no repetition char
};
}  // namespace

BOOST_DATA_TEST_CASE(get_all_lists_every_value_in_order, boost::unit_test::data::make(kGetAll), c) {
  const Message m = parsed(c.hl7);
  const auto path = cpis::hl7v2::parsePath(c.path);
  BOOST_REQUIRE(path.ok());
  const auto values = m.getAll(path.value());
  BOOST_TEST(values == c.expected, boost::test_tools::per_element());
}

// Thousands of repetitions or segments are read in one pass (reading each by number rescanned
// the field or the message every time: a 60 KB PID-3 kept a sender waiting 49 s).
BOOST_AUTO_TEST_CASE(get_all_walks_thousands_of_repetitions_and_segments) {
  std::string hl7 = MSH24 "PID|||";
  for (int i = 0; i < 50'000; ++i) hl7 += "~";
  hl7 += "9990000018^^^NHS^NH\r";
  for (int i = 1; i <= 20'000; ++i) hl7 += "OBX|" + std::to_string(i) + "||C||" + std::to_string(i) + "\r";
  const Message m = parsed(hl7);
  const auto ids = m.getAll(cpis::hl7v2::parsePath("PID-3(*).1").value());
  BOOST_TEST_REQUIRE(ids.size() == 50'001u);
  BOOST_TEST(ids.back() == "9990000018");
  const auto authorities = m.getAll(cpis::hl7v2::parsePath("PID-3(*).4").value());
  BOOST_TEST(authorities.back() == "NHS");
  const auto values = m.getAll(cpis::hl7v2::parsePath("OBX(*)-5").value());
  BOOST_TEST_REQUIRE(values.size() == 20'000u);
  BOOST_TEST(values.front() == "1");
  BOOST_TEST(values.back() == "20000");
}

// ---------------------------------------------------------------------------------------------
// Segments, raw access, header values, strict reads

BOOST_AUTO_TEST_CASE(segments_and_fields_are_indexed) {
  const Message m = parsed(MSH24 "PID|1||a^b~c|||\rOBX|1\rOBX|2\rZZZ\r");
  BOOST_TEST(m.segmentCount() == 5u);
  BOOST_TEST(m.segmentId(0) == "MSH");
  BOOST_TEST(m.segmentId(1) == "PID");
  BOOST_TEST(m.segmentRaw(1) == "PID|1||a^b~c|||");
  BOOST_TEST(m.fieldCount(0) == 12u);  // MSH-1 counts
  BOOST_TEST(m.fieldCount(1) == 6u);   // trailing empty fields count
  BOOST_TEST(m.fieldCount(4) == 0u);
  BOOST_TEST(m.fieldRaw(0, 1) == "|");
  BOOST_TEST(m.fieldRaw(0, 2) == "^~\\&");
  BOOST_TEST(m.fieldRaw(0, 9) == "ADT^A01^ADT_A01");
  BOOST_TEST(m.fieldRaw(1, 3) == "a^b~c");
  BOOST_TEST(m.fieldRaw(1, 0) == "");
  BOOST_TEST(m.fieldRaw(1, 40) == "");
  BOOST_TEST(m.occurrences("OBX") == 2u);
  BOOST_TEST(m.occurrences("NK1") == 0u);
  BOOST_TEST(m.findSegment("OBX") == 2u);
  BOOST_TEST(m.findSegment("OBX", 2) == 3u);
  BOOST_TEST(m.findSegment("OBX", 3) == m.segmentCount());
  BOOST_TEST(m.findSegment("NK1") == m.segmentCount());
}

BOOST_AUTO_TEST_CASE(header_values_are_decoded) {
  const Message m = parsed("MSH|^~\\&|A||||||ADT^A04^ADT_A01|ID\\T\\1|P|2.5.1^GBR\r");
  BOOST_TEST(m.messageCode() == "ADT");
  BOOST_TEST(m.triggerEvent() == "A04");
  BOOST_TEST(m.messageStructure() == "ADT_A01");
  BOOST_TEST(m.controlId() == "ID&1");
  BOOST_TEST(m.version() == "2.5.1");
  BOOST_TEST((m.delimiters() == cpis::hl7v2::Delimiters{}));
  BOOST_TEST((m.charset() == cpis::hl7v2::Charset::Ascii));
}

BOOST_AUTO_TEST_CASE(raw_returns_the_text_undecoded_at_the_level_named) {
  const Message m = parsed(MSH24 "PID|||a\\F\\b^c&d~e\r");
  const auto path = [](std::string_view text) { return cpis::hl7v2::parsePath(text).value(); };
  BOOST_TEST(m.raw(path("PID-3")) == "a\\F\\b^c&d");
  BOOST_TEST(m.raw(path("PID-3(2)")) == "e");
  BOOST_TEST(m.raw(path("PID-3.2")) == "c&d");
  BOOST_TEST(m.raw(path("PID-3.2.2")) == "d");
  BOOST_TEST(m.raw(path("PID-3.1")) == "a\\F\\b");
  BOOST_TEST(m.raw(path("NK1-1")) == "");
}

BOOST_AUTO_TEST_CASE(an_invalid_path_string_reads_as_empty) {
  const Message m = parsed(MSH24 "PID|||x\r");
  BOOST_TEST(m.get("PID3") == "");
  BOOST_TEST(m.get("") == "");
  BOOST_TEST(m.get("pid-3") == "");
}

BOOST_AUTO_TEST_CASE(a_missing_version_is_a_warning_not_an_error) {
  const Message m = parsed("MSH|^~\\&|A||||||ADT^A01|1|P\r");
  BOOST_REQUIRE(m.warnings().size() == 1u);
  const auto& w = m.warnings().front();
  BOOST_TEST(static_cast<unsigned>(w.code) == 101u);
  BOOST_TEST((w.severity == cpis::core::Severity::Warning));
  BOOST_TEST(w.location.segmentId == "MSH");
  BOOST_TEST(w.location.field == 12u);
  BOOST_TEST(parsed(MSH24).warnings().empty());
}

BOOST_AUTO_TEST_CASE(value_refuses_a_hex_escape_that_get_keeps) {
  const Message m = parsed(MSH24 "PID|||ok~x^a\\XE9\\b\r");
  const auto path = cpis::hl7v2::parsePath("PID-3(2).2").value();
  BOOST_TEST(m.get(path) == "a\\XE9\\b");
  const auto strict = m.value(path);
  BOOST_REQUIRE(!strict.ok());
  const auto& issue = strict.error();
  BOOST_TEST(static_cast<unsigned>(issue.code) == 102u);
  BOOST_TEST(issue.location.segmentId == "PID");
  BOOST_TEST(issue.location.segmentSequence == 1u);
  BOOST_TEST(issue.location.field == 3u);
  BOOST_TEST(issue.location.fieldRepetition == 2u);
  BOOST_TEST(issue.location.component == 2u);
  BOOST_TEST(issue.location.byteOffset == 81u + 12u);  // where the hex escape starts
  const auto good = m.value(cpis::hl7v2::parsePath("PID-3").value());
  BOOST_REQUIRE(good.ok());
  BOOST_TEST(good.value() == "ok");
}

BOOST_AUTO_TEST_CASE(check_values_locates_every_bad_hex_escape) {
  const Message m = parsed(MSH24 "PID|||\\XZZ\\\rOBX|1|\\X4\\|\\X41\\\r");
  const auto issues = m.checkValues();
  BOOST_REQUIRE(issues.size() == 2u);
  BOOST_TEST(issues[0].location.segmentId == "PID");
  BOOST_TEST(issues[0].location.field == 3u);
  BOOST_TEST(issues[0].location.byteOffset == 87u);
  BOOST_TEST(issues[1].location.segmentId == "OBX");
  BOOST_TEST(issues[1].location.field == 2u);
  BOOST_TEST(issues[1].location.byteOffset == 99u);
  for (const auto& issue : issues) BOOST_TEST(static_cast<unsigned>(issue.code) == 102u);
  BOOST_TEST(parsed(MSH24 "PID|||\\X41\\\\F\\\\H\\\r").checkValues().empty());
}

BOOST_AUTO_TEST_CASE(locate_maps_offsets_to_segment_and_field) {
  const Message m = parsed(MSH24 "PID|1|ab\rPID|2\r");
  BOOST_TEST(m.locate(0).segmentId == "MSH");
  BOOST_TEST(m.locate(0).field == 0u);
  BOOST_TEST(m.locate(3).field == 1u);   // MSH-1
  BOOST_TEST(m.locate(4).field == 2u);   // MSH-2
  BOOST_TEST(m.locate(9).field == 3u);   // MSH-3
  BOOST_TEST(m.locate(81).segmentId == "PID");
  BOOST_TEST(m.locate(81).field == 0u);  // the segment id
  BOOST_TEST(m.locate(85).field == 1u);  // "1" of PID-1
  BOOST_TEST(m.locate(87).field == 2u);  // "a" of PID-2
  const auto second = m.locate(94);      // "2" of the second PID's PID-1
  BOOST_TEST(second.segmentId == "PID");
  BOOST_TEST(second.segmentSequence == 2u);
  BOOST_TEST(second.field == 1u);
  BOOST_TEST(second.byteOffset == 94u);
}

BOOST_AUTO_TEST_CASE(all_parse_overloads_agree) {
  const std::string text = MSH24 "PID|||x\r";
  const auto a = cpis::hl7v2::parse(std::string_view(text));
  const auto b = cpis::hl7v2::parse(std::string(text));
  const auto c = cpis::hl7v2::parse(text.c_str());
  BOOST_REQUIRE((a.ok() && b.ok() && c.ok()));
  BOOST_TEST(a->serialize() == b->serialize());
  BOOST_TEST(a->serialize() == c->serialize());
}

BOOST_AUTO_TEST_SUITE_END()
