#include "engine/mapping/mapping_loader.h"

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/config/xerces_platform.h"
#include "engine/mapping/embedded_schema.h"
#include "tests/support/hl7_samples.h"

using namespace cpis::mapping;
using cpis::config::ConfigError;
using cpis::config::ConfigProblem;

namespace {

struct LoaderFixture {
  cpis::config::XercesPlatform platform;
  MappingLoader loader{platform};
};

// A mapping whose body starts on line 3.
std::string document(std::string_view body) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<mapping xmlns=\"urn:cpis-engine:mapping:1\" name=\"test\">\n" +
         std::string(body) + "</mapping>\n";
}

// The problems a document gives, or none.
std::vector<ConfigProblem> problemsOf(const MappingLoader& loader, std::string_view xml) {
  try {
    (void)loader.loadString(xml, "feed.xml");
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

struct ErrorCase {
  std::string body;  // owned: some rows are built by concatenation
  std::uint64_t line;
  std::string_view message;  // a part of the problem's text
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
  return os << c.why;
}

constexpr std::string_view kVisit = "  <field name=\"visitNumber\"><source path=\"PV1-19\"/></field>\n";
constexpr std::string_view kKey = "  <key><part path=\"PV1-3.4\"/><part path=\"PV1-3.1\"/></key>\n";

const std::vector<ErrorCase> kErrors{
    {"<fields>\n  <field name=\"nhsnumber\"><source path=\"PID-3\"/></field>\n</fields>\n", 4,
     "unknown field 'nhsnumber': known fields are controlId, triggerEvent, nhsNumber",
     "field names are checked"},
    {"<fields>\n  <field name=\"visitNumber\"><source path=\"PV1-19(\"/></field>\n</fields>\n", 4,
     "path 'PV1-19('", "paths are parsed"},
    {"<fields>\n  <field name=\"visitNumber\">\n    <source path=\"PV1\"/>\n  </field>\n</fields>\n", 5,
     "path 'PV1'", "a path names a field"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"RZZ01/EDMAJ\" setting=\"A_AND_E\"/>\n</locations>\n",
     6, "unknown care setting 'A_AND_E': known settings are ED, UTC_WIC", "care-setting codes are checked"},
    {"<fields/>\n<locations>\n" + std::string(kKey) + "  <otherwise setting=\"EMERGENCY\"/>\n</locations>\n",
     6, "unknown care setting 'EMERGENCY'", "the default location rule's setting too"},
    {"<fields/>\n<settings>\n  <setting code=\"DENTAL\" mode=\"SCHEDULED\"/>\n</settings>\n", 5,
     "unknown care setting 'DENTAL'", "the settings table's codes too"},
    {"<events>\n  <event code=\"A04\" means=\"START\"/>\n  <event code=\"A04\" "
     "means=\"UPDATE\"/>\n</events>\n<fields/>\n",
     5, "event code 'A04' appears twice (first at line 4)", "duplicate trigger events"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"RZZ01/EDMAJ\" setting=\"ED\"/>\n  <location key=\"RZZ01/EDMAJ\" "
         "setting=\"MIU\"/>\n</locations>\n",
     7, "location key 'RZZ01/EDMAJ' appears twice (first at line 6)", "duplicate location keys"},
    {"<fields>\n  <field name=\"sex\"><source path=\"PID-8\"/>\n    <map from=\"1\" to=\"M\"/>\n    <map "
     "from=\"1\" to=\"F\"/>\n"
     "  </field>\n</fields>\n",
     6, "map from '1' appears twice (first at line 5)", "duplicate map rows"},
    {"<fields>\n" + std::string(kVisit) + std::string(kVisit) + "</fields>\n", 5,
     "field 'visitNumber' appears twice", "a field is mapped once"},
    {"<fields/>\n<settings>\n  <setting code=\"ED\" mode=\"SCHEDULED\"/>\n  <setting code=\"ED\" "
     "mode=\"UNSCHEDULED\"/>\n"
     "</settings>\n",
     6, "setting 'ED' appears twice", "duplicate setting modes"},
    {"<fields>\n  <field name=\"nhsNumber\" required=\"true\"><source "
     "path=\"PID-3.1\"/></field>\n</fields>\n",
     4, "nhsNumber cannot be required", "a missing NHS number is never a message error"},
    {"<fields>\n  <field name=\"nhsStatus\" required=\"true\"><source path=\"PID-32\"/></field>\n</fields>\n",
     4, "nhsStatus cannot be required", "nor is its trace status"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <constant value=\"9990000018\"/>\n  </field>\n</fields>\n",
     5, "nhsNumber cannot be a constant", "the NHS number always comes from the message"},
    {"<fields>\n  <field name=\"visitNumber\" format=\"HL7\"><source path=\"PV1-19\"/></field>\n</fields>\n",
     4, "format applies to date and time fields only, not visitNumber", "formats on text fields"},
    {"<fields>\n  <field name=\"birthDate\" format=\"DD/MM\"><source path=\"PID-7\"/></field>\n</fields>\n",
     4, "format 'DD/MM': a pattern needs YYYY, MM and DD", "bad date patterns"},
    {"<fields>\n  <field name=\"birthDate\">\n    <source path=\"PID-7\" format=\"YYYY-YYYY\"/>\n  "
     "</field>\n</fields>\n",
     5, "format 'YYYY-YYYY': 'YYYY' appears twice", "bad per-source date patterns"},
    {"<fields>\n  <field name=\"birthDate\"><constant value=\"2015-04-03\"/></field>\n</fields>\n", 4,
     "constant is not a date in the format HL7", "date constants are read at load"},
    {"<fields>\n  <field name=\"nhsStatus\"><source path=\"PID-32\"/>\n    <map from=\"01\" to=\"NSTS1\"/>\n "
     " </field>\n"
     "</fields>\n",
     5, "'NSTS1' is not a value nhsStatus can hold: expected NSTS01 to NSTS08", "map targets fit the field"},
    {"<fields>\n  <field name=\"pregnant\"><source path=\"ZPV-4\"/>\n    <mapDefault to=\"no\"/>\n  "
     "</field>\n</fields>\n",
     5, "'no' is not a value pregnant can hold: expected Y or N", "map defaults fit the field"},
    {"<fields>\n  <field name=\"sex\"><constant value=\"female\"/></field>\n</fields>\n", 4,
     "'female' is not a value sex can hold", "constants fit the field"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"EDMAJ\" setting=\"ED\"/>\n</locations>\n",
     6, "key 'EDMAJ' has 1 part(s); the location key has 2 (separated by '/')", "key shapes"},
    {"<fields/>\n<locations>\n  <key><part path=\"PV1-3.4\" field=\"siteOdsCode\"/></key>\n</locations>\n", 5,
     "a key part needs either a path or a field", "key parts name one thing"},
    {"<fields/>\n<locations>\n  <key><part field=\"site\"/></key>\n</locations>\n", 5, "unknown field 'site'",
     "key part fields are checked"},
    {"<fields/>\n<locations>\n  <key><part path=\"PV1-3(*).1\"/></key>\n</locations>\n", 5,
     "a key part names one value", "key parts have no wildcards"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <source path=\"PID-3(*).1\">\n      <where "
     "component=\"4\"/>\n"
     "    </source>\n  </field>\n</fields>\n",
     6, "a condition needs in, notIn or orEmpty", "conditions test something"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <source path=\"PID-3(*).1\">\n      <where "
     "component=\"5\" in=\"NH,NHSNBR\"/>\n"
     "    </source>\n  </field>\n</fields>\n",
     6, "'NH,NHSNBR': values are separated by spaces, not commas", "a list written with commas is one value"},
    {"<fields>\n  <field name=\"arrivedAt\" format=\"YYYY-MM-DDZhh:mm\"><source "
     "path=\"PV1-44\"/></field>\n</fields>\n",
     4, "Z (the UTC offset) must end the pattern", "the offset ends a pattern"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <source path=\"PID-3(*).1\">\n      <where "
     "path=\"PID-3.4\" component=\"4\" "
     "in=\"NHS\"/>\n    </source>\n  </field>\n</fields>\n",
     6, "a condition with a path takes no field", "a condition reads one place"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <source path=\"PID-3(*).1\">\n      <where in=\"NHS\"/>\n  "
     "  </source>\n"
     "  </field>\n</fields>\n",
     6, "a condition needs a path, a field or a component", "a condition says where to look"},
    {"<fields>\n  <field name=\"nhsNumber\">\n    <source path=\"PID-3(*).1\">\n      <where field=\"3\" "
     "subComponent=\"2\" "
     "in=\"x\"/>\n    </source>\n  </field>\n</fields>\n",
     6, "subComponent needs a component", "sub-components sit in components"},
    {"<fields>\n  <field name=\"pregnant\">\n    <source path=\"PV1-2\"><where path=\"OBX(*)-3\" "
     "in=\"x\"/></source>\n"
     "  </field>\n</fields>\n",
     5, "'*' repetitions are not allowed", "a condition's path names one value"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"RZZ01/WARD7\" setting=\"PAED_WARD\">\n    <where component=\"2\" in=\"I\"/>\n  "
         "</location>\n"
         "</locations>\n",
     7, "a location condition needs a path", "location conditions are absolute"},
    {"<events>\n  <event code=\"A08\" means=\"UPDATE\" scheduledOnly=\"true\"/>\n</events>\n<fields/>\n", 4,
     "scheduledOnly applies to START events only", "scheduledOnly on updates"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"RZZ01/EDMAJ\" setting=\"ED\" emitOutOfScope=\"false\"/>\n</locations>\n",
     6, "emitOutOfScope applies to OUT_OF_SCOPE only; ED is checked", "emitOutOfScope on a checked setting"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <otherwise setting=\"OUT_OF_SCOPE\" maxAgeYears=\"16\"/>\n</locations>\n",
     6, "maxAgeYears has no meaning for OUT_OF_SCOPE", "an age limit where nothing is queried"},
    {"<fields/>\n<locations>\n" + std::string(kKey) +
         "  <location key=\"RZZ01/XRAY\" setting=\"OUT_OF_SCOPE\" "
         "acceptUnverifiedNhsNumber=\"true\"/>\n</locations>\n",
     6, "acceptUnverifiedNhsNumber has no meaning for OUT_OF_SCOPE",
     "a switch of queries where nothing is queried"},
    {"<fields/>\n<settings>\n  <setting code=\"OUT_OF_SCOPE\" enabled=\"false\"/>\n</settings>\n", 5,
     "enabled has no meaning for OUT_OF_SCOPE", "checks off where nothing is checked"},
    {"<fields/>\n<settings>\n  <setting code=\"ED\"/>\n</settings>\n", 5,
     "setting 'ED' says nothing: give it a mode or a term", "an empty setting entry"},
    // What the schema itself refuses, located by Xerces.
    {"<fieldz/>\n", 3, "fieldz", "unknown elements"},
    {"<events>\n  <event code=\"A04\" means=\"BEGIN\"/>\n</events>\n<fields/>\n", 4, "BEGIN",
     "event meanings"},
    {"<fields/>\n<settings>\n  <setting code=\"ED\" mode=\"SILENT\"/>\n</settings>\n", 5, "SILENT",
     "access modes"},
    {"<fields/>\n<settings>\n  <setting code=\"ED\" maxAgeYears=\"0\"/>\n</settings>\n", 5, "maxAgeYears",
     "an age limit of 0 years (none is spelt none)"},
    {"<fields/>\n<settings>\n  <setting code=\"ED\" maxAgeYears=\"ten\"/>\n</settings>\n", 5, "maxAgeYears",
     "an age limit that is not a number (refused, never thrown)"},
    {"<fields>\n  <field name=\"visitNumber\" required=\"maybe\"><source "
     "path=\"PV1-19\"/></field>\n</fields>\n",
     4, "maybe", "booleans"},
    {"<fields>\n  <field name=\"visitNumber\"/>\n</fields>\n", 4, "", "a field needs a source"},
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mapping_loader, LoaderFixture)

BOOST_DATA_TEST_CASE_F(LoaderFixture, problems_are_located_and_named, boost::unit_test::data::make(kErrors),
                       c) {
  const auto problems = problemsOf(loader, document(c.body));
  BOOST_TEST_REQUIRE(problems.size() >= 1u, "no problem reported");
  const ConfigProblem& first = problems.front();
  BOOST_TEST(first.file == "feed.xml");
  BOOST_TEST(first.line == c.line);
  BOOST_TEST(first.column > 0u);
  BOOST_TEST(first.message.find(c.message) != std::string::npos, first.message);
}

BOOST_AUTO_TEST_CASE(every_semantic_problem_is_reported_at_once_in_file_order) {
  const auto problems =
      problemsOf(loader, document("<fields>\n"
                                  "  <field name=\"nhsnumber\"><source path=\"PID-3\"/></field>\n"
                                  "  <field name=\"visitNumber\"><source path=\"PV1-\"/></field>\n"
                                  "</fields>\n"
                                  "<settings><setting code=\"XX\" mode=\"SCHEDULED\"/></settings>\n"));
  BOOST_TEST_REQUIRE(problems.size() == 3u);
  BOOST_TEST(problems[0].line == 4u);
  BOOST_TEST(problems[1].line == 5u);
  BOOST_TEST(problems[2].line == 7u);
}

BOOST_AUTO_TEST_CASE(the_error_text_names_file_line_and_column) {
  try {
    (void)loader.loadString(
        document("<fields>\n  <field name=\"x\"><source path=\"PID-3\"/></field>\n</fields>\n"),
        "mappings/feed.xml");
    BOOST_FAIL("loaded a broken mapping");
  } catch (const ConfigError& error) {
    const std::string what = error.what();
    BOOST_TEST(what.find("mappings/feed.xml:4:") == 0u, what);
    BOOST_TEST(what.find("unknown field 'x'") != std::string::npos, what);
  }
}

BOOST_AUTO_TEST_CASE(unreadable_empty_and_foreign_files_are_refused) {
  const auto missing = [&] { (void)loader.loadFile("/nonexistent/mapping.xml"); };
  BOOST_CHECK_EXCEPTION(missing(), ConfigError, [](const ConfigError& e) {
    return e.problems().size() == 1 && e.problems()[0].line == 0 &&
           e.problems()[0].message.find("cannot be read") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION((void)loader.loadString("  \n", "blank.xml"), ConfigError, [](const ConfigError& e) {
    return e.problems()[0].message.find("empty") != std::string::npos;
  });
  // A configuration file is not a mapping file: another namespace is refused, not ignored.
  BOOST_CHECK_THROW((void)loader.loadString("<cpisEngine xmlns=\"urn:cpis-engine:config:1\"/>", "config.xml"),
                    ConfigError);
  BOOST_CHECK_THROW((void)loader.loadString("<mapping name=\"x\"><fields/></mapping>", "no-namespace.xml"),
                    ConfigError);
  BOOST_CHECK_THROW((void)loader.loadString(
                        "<mapping xmlns=\"urn:cpis-engine:mapping:1\" name=\"x\"><fields>", "truncated.xml"),
                    ConfigError);
}

BOOST_AUTO_TEST_CASE(a_minimal_mapping_has_the_header_defaults) {
  const Mapping mapping = loader.loadString(document("<fields/>\n"), "minimal.xml");
  BOOST_TEST(mapping.name() == "test");
  BOOST_TEST(mapping.rules().rule(FieldId::ControlId).sources.size() == 1u);
  BOOST_TEST(mapping.rules().rule(FieldId::TriggerEvent).sources.size() == 2u);
  BOOST_TEST(mapping.rules().events.empty());
  BOOST_TEST((mapping.rules().otherEvents == cpis::domain::AttendanceEvent::NotAnAttendance));
  BOOST_TEST((mapping.rules().timeZone == TimeZone::London));
}

BOOST_AUTO_TEST_CASE(the_shipped_mappings_load) {
  for (const char* file : {"mappings/england-adt.xml", "mappings/legacy-v23.xml"}) {
    const Mapping mapping = loader.loadFile(std::filesystem::path(CPIS_SOURCE_DIR) / file);
    BOOST_TEST(!mapping.rules().events.empty(), file);
    BOOST_TEST(mapping.rules().rule(FieldId::VisitNumber).required, file);
  }
}

BOOST_AUTO_TEST_CASE(the_built_in_schema_is_the_shipped_one) {
  BOOST_TEST(embeddedMappingSchema() == cpis::test::readRepoFile("mappings/mapping.xsd"));
}

BOOST_AUTO_TEST_SUITE_END()
