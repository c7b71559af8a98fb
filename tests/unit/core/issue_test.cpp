#include "engine/core/issue.h"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <vector>

using cpis::core::ErrorCode;
using cpis::core::Location;

namespace {

struct LocationCase {
  Location location;
  std::string_view expected;
};
std::ostream& operator<<(std::ostream& os, const LocationCase& c) { return os << c.expected; }

const std::vector<LocationCase> kLocations{
    {{"PID", 1, 3, 2, 4, 0, 112}, "PID(1)-3(2).4 at byte 112"},    // repetition and component
    {{"PID", 1, 3, 1, 4, 2, 112}, "PID(1)-3(1).4.2 at byte 112"},  // down to the sub-component
    {{"PID", 1, 3, 0, 0, 0, 90}, "PID(1)-3 at byte 90"},           // field only
    {{"OBX", 3, 5, 0, 0, 0, 400}, "OBX(3)-5 at byte 400"},         // third OBX
    {{"MSH", 1, 0, 0, 0, 0, 0}, "MSH(1)"},                         // whole segment: field 0
    {{"PID", 0, 3, 0, 0, 0, 7}, "PID-3 at byte 7"},                // sequence unknown
    {{"PID", 1, 3, 0, 4, 0, 9}, "PID(1)-3.4 at byte 9"},           // component without repetition
    {{"PID", 1, 3, 2, 0, 5, 9}, "PID(1)-3(2) at byte 9"},          // sub-component needs a component
    {{"PID", 1, 0, 2, 4, 1, 9}, "PID(1) at byte 9"},               // no field: nothing below shown
    {{"", 2, 3, 0, 0, 0, 32}, "message at byte 32"},               // no segment id: the message
    {{}, "message"},                                               // empty location
    {{"ZED", 1, 2, 1, 0, 0, 0}, "ZED(1)-2(1)"},                    // no offset known: none shown
};

struct CodeCase {
  ErrorCode code;
  unsigned number;
  std::string_view text;
};
std::ostream& operator<<(std::ostream& os, const CodeCase& c) { return os << c.number; }

const std::vector<CodeCase> kCodes{
    {ErrorCode::Accepted, 0, "Message accepted"},
    {ErrorCode::SegmentSequence, 100, "Segment sequence error"},
    {ErrorCode::RequiredFieldMissing, 101, "Required field missing"},
    {ErrorCode::DataType, 102, "Data type error"},
    {ErrorCode::TableValueNotFound, 103, "Table value not found"},
    {ErrorCode::ValueTooLong, 104, "Value too long"},
    {ErrorCode::UnsupportedMessageType, 200, "Unsupported message type"},
    {ErrorCode::UnsupportedEventCode, 201, "Unsupported event code"},
    {ErrorCode::UnsupportedProcessingId, 202, "Unsupported processing id"},
    {ErrorCode::UnsupportedVersionId, 203, "Unsupported version id"},
    {ErrorCode::UnknownKeyIdentifier, 204, "Unknown key identifier"},
    {ErrorCode::DuplicateKeyIdentifier, 205, "Duplicate key identifier"},
    {ErrorCode::ApplicationRecordLocked, 206, "Application record locked"},
    {ErrorCode::ApplicationInternalError, 207, "Application internal error"},
    {static_cast<ErrorCode>(999), 999, "Unknown error"},  // not in table 0357
};

}  // namespace

BOOST_AUTO_TEST_SUITE(issue)

BOOST_DATA_TEST_CASE(location_text_names_segment_field_and_offset,
                     boost::unit_test::data::make(kLocations), c) {
  BOOST_TEST(cpis::core::locationText(c.location) == c.expected);
}

BOOST_DATA_TEST_CASE(error_codes_have_their_hl7_0357_numbers_and_texts,
                     boost::unit_test::data::make(kCodes), c) {
  BOOST_TEST(static_cast<unsigned>(c.code) == c.number);
  BOOST_TEST(cpis::core::describe(c.code) == c.text);
}

BOOST_AUTO_TEST_CASE(severity_prints_as_hl7_table_0516) {
  BOOST_TEST(cpis::core::toString(cpis::core::Severity::Error) == "E");
  BOOST_TEST(cpis::core::toString(cpis::core::Severity::Warning) == "W");
  BOOST_TEST(cpis::core::toString(cpis::core::Severity::Information) == "I");
}

BOOST_AUTO_TEST_CASE(an_issue_prints_location_code_description_and_text) {
  cpis::core::Issue issue;
  issue.code = ErrorCode::RequiredFieldMissing;
  issue.location.segmentId = "MSH";
  issue.location.segmentSequence = 1;
  issue.location.field = 10;
  issue.text = "message control id (MSH-10) is missing";
  std::ostringstream os;
  os << issue;
  BOOST_TEST(os.str() == "MSH(1)-10: 101 Required field missing: message control id (MSH-10) is missing");
}

BOOST_AUTO_TEST_CASE(a_default_issue_is_an_internal_error) {
  const cpis::core::Issue issue;
  BOOST_TEST(static_cast<unsigned>(issue.code) == 207u);
  BOOST_TEST((issue.severity == cpis::core::Severity::Error));
  BOOST_TEST(issue.location.segmentId.empty());
}

BOOST_AUTO_TEST_CASE(issues_and_locations_compare_member_by_member) {
  const Location a{"PID", 1, 3, 0, 0, 0, 10};
  Location b = a;
  BOOST_TEST((a == b));
  b.byteOffset = 11;
  BOOST_TEST(!(a == b));
  const cpis::core::Issue x{ErrorCode::DataType, cpis::core::Severity::Error, a, "t"};
  cpis::core::Issue y = x;
  BOOST_TEST((x == y));
  y.severity = cpis::core::Severity::Warning;
  BOOST_TEST(!(x == y));
}

BOOST_AUTO_TEST_SUITE_END()
