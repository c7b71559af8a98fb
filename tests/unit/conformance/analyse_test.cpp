// `cpis-conformance analyse`, the feed readiness report: counts and reasons over the sample
// capture, each problem class on a file of its own, usage errors, and no patient identifier
// in the HTML or the JSON.
#define BOOST_TEST_MODULE test_conformance_analyse
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "conformance/analyse/analyse_command.h"
#include "tests/support/temp_dir.h"

namespace {

namespace fs = std::filesystem;
using cpis::conformance::analyseCommand;

const fs::path kSource = CPIS_SOURCE_DIR;
const fs::path kSamples = kSource / "conformance" / "samples";
const std::string kPluginDir = CPIS_PLUGIN_DIR;
const std::string kEnglandMapping = (kSource / "mappings" / "england-adt.xml").string();

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void spit(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary);
  out << bytes;
}

struct Run {
  int code = -1;
  std::string out;
  std::string err;
  std::string html;
  std::string jsonText;
  Poco::JSON::Object::Ptr json;

  // The count of `key` in the section, 0 when absent.
  std::size_t count(const std::string& section, const std::string& key) const {
    const auto tallies = json->getObject(section);
    BOOST_REQUIRE(tallies);
    if (!tallies->has(key)) return 0;
    return tallies->getObject(key)->getValue<std::size_t>("count");
  }
  // The count of the section's keys that contain `part`, summed.
  std::size_t countContaining(const std::string& section, const std::string& part) const {
    const auto tallies = json->getObject(section);
    BOOST_REQUIRE(tallies);
    std::size_t n = 0;
    for (const auto& [key, value] : *tallies) {
      if (key.find(part) != std::string::npos) n += tallies->getObject(key)->getValue<std::size_t>("count");
    }
    return n;
  }
  std::size_t number(const std::string& name) const { return json->getValue<std::size_t>(name); }
  Poco::JSON::Object::Ptr field(const std::string& name) const {
    const auto fields = json->getArray("fields");
    for (std::size_t i = 0; i < fields->size(); ++i) {
      auto f = fields->getObject(static_cast<unsigned>(i));
      if (f->getValue<std::string>("name") == name) return f;
    }
    BOOST_FAIL("no field " + name);
    return {};
  }
};

Run analyse(std::vector<std::string> args, const cpis::test::TempDir& out) {
  const std::string html = out.file("report.html");
  const std::string json = out.file("report.json");
  args.insert(args.begin(), {"--html", html, "--json", json});
  Run run;
  std::ostringstream o;
  std::ostringstream e;
  run.code = analyseCommand(args, o, e);
  run.out = o.str();
  run.err = e.str();
  if (run.code == 0) {
    run.html = slurp(html);
    run.jsonText = slurp(json);
    Poco::JSON::Parser parser;
    run.json = parser.parse(run.jsonText).extract<Poco::JSON::Object::Ptr>();
  }
  return run;
}

Run sampleRun(const cpis::test::TempDir& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--adapter", "england_adt", "--plugin-dir", kPluginDir, "--mapping",
                                (kSamples / "feed-capture-mapping.xml").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back((kSamples / "feed-capture").string());
  return analyse(args, out);
}

// One ADT^A04 (ITK v2.4) with the given PID-3, PID-32, PV1-3 and PV1-19; segments end with CR.
std::string a04(const std::string& control, const std::string& pid3 = "9990000018^^^NHS^NH",
                const std::string& status = "NSTS01", const std::string& location = "EDMAJ^^^RZZ01",
                const std::string& visit = "A250612001^^^RZZ^VN", const std::string& name = "TESTCHILD^Alex^^^^^L",
                const std::string& dob = "20150403", const std::string& msh18 = "UNICODE UTF-8") {
  return "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612143005+0100||ADT^A04^ADT_A01|" + control +
         "|P|2.4|||||GBR|" + msh18 + "|EN\r" +
         "EVN|A04|20250612143005+0100||||20250612142900+0100\r"
         "PID|1||" + pid3 + "||" + name + "||" + dob + "|M||||||||||||||||||||||||" + status + "\r" +
         "PV1|1|E|" + location + "|||||||180|||||||||" + visit + "|||||||||||||||||||||||||20250612142900+0100\r";
}

// Runs the england-adt mapping and adapter over a folder holding `files`.
Run analyseFiles(const std::vector<std::pair<std::string, std::string>>& files, const cpis::test::TempDir& out,
                 std::vector<std::string> extra = {}) {
  const fs::path folder = out.path() / "capture";
  fs::create_directories(folder);
  for (const auto& [name, bytes] : files) spit(folder / name, bytes);
  std::vector<std::string> args{"--adapter", "england_adt", "--plugin-dir", kPluginDir, "--mapping", kEnglandMapping};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(folder.string());
  return analyse(args, out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sample_capture)

BOOST_AUTO_TEST_CASE(counts_messages_by_type_and_outcome) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.number("files") == 6u);
  BOOST_TEST(r.number("messages") == 33u);
  BOOST_TEST(r.number("parsed") == 27u);
  BOOST_TEST(r.number("adt") == 26u);
  BOOST_TEST(r.count("byType", "ADT^A04") == 19u);
  BOOST_TEST(r.count("byType", "ORU^R01") == 1u);
  // What the engine would do with each of the 33.
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 11u);
  BOOST_TEST(r.count("outcomes", "REPEATS_EARLIER_CHECK") == 2u);
  BOOST_TEST(r.count("outcomes", "NOT_CHECKED") == 12u);
  BOOST_TEST(r.count("outcomes", "REJECTED") == 1u);
  BOOST_TEST(r.count("outcomes", "NOT_ADT") == 1u);
  BOOST_TEST(r.count("outcomes", "UNREADABLE") == 5u);
  BOOST_TEST(r.count("outcomes", "NOT_PROCESSED") == 1u);
  BOOST_TEST(r.out.find("33 messages in 6 files (26 ADT): 11 would trigger a CP-IS check") != std::string::npos,
             r.out);
}

BOOST_AUTO_TEST_CASE(gives_the_reasons_for_not_checking) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("reasons", "NOT_AN_ATTENDANCE") == 3u);  // A03, A28, A05 at an unscheduled location
  BOOST_TEST(r.count("reasons", "NHS_NUMBER_UNVERIFIED") == 3u);
  BOOST_TEST(r.count("reasons", "AGE_OUT_OF_SCOPE") == 1u);
  BOOST_TEST(r.count("reasons", "NHS_NUMBER_INVALID") == 1u);
  BOOST_TEST(r.count("reasons", "NO_NHS_NUMBER") == 1u);
  BOOST_TEST(r.count("reasons", "LOCATION_UNMAPPED") == 1u);
  BOOST_TEST(r.count("reasons", "SETTING_OUT_OF_SCOPE") == 2u);
  BOOST_TEST(r.count("decisions", "NHS_NUMBER_UNVERIFIED: NHS number trace status NSTS02 is not verified") == 1u);
  BOOST_TEST(r.count("unmappedLocations", "RZZ01/XRAY") == 1u);
  BOOST_TEST(r.count("outOfScopeLocations", "RZZ03/PHLEB") == 2u);
  BOOST_TEST(r.count("settings", "ED") >= 1u);
  BOOST_TEST(r.count("settings", "MATERNITY") == 1u);
}

BOOST_AUTO_TEST_CASE(reports_nhs_numbers_trace_status_and_fields) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("nhsNumbers", "valid (999 test range)") == 22u);
  BOOST_TEST(r.count("nhsNumbers", "valid (placeholder: one digit ten times)") == 1u);
  BOOST_TEST(r.count("nhsNumbers", "missing") == 1u);
  BOOST_TEST(r.countContaining("nhsNumbers", "invalid:") == 1u);
  BOOST_TEST(r.count("traceStatus", "NSTS02") == 1u);
  BOOST_TEST(r.count("traceStatus", "NSTS03") == 1u);  // sent as "03": the mapping reads it
  BOOST_TEST(r.count("traceStatus", "(none)") == 1u);
  BOOST_TEST(r.number("attendanceEvents") == 25u);
  const auto visit = r.field("visitNumber");
  BOOST_TEST(visit->getValue<bool>("required"));
  BOOST_TEST(visit->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(r.field("birthDate")->getValue<std::size_t>("malformed") == 1u);
  BOOST_TEST(r.field("nhsNumber")->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(r.field("nhsNumber")->getValue<std::size_t>("malformed") == 1u);
  BOOST_TEST(r.field("nhsStatus")->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(!r.field("expectedDeliveryDate")->getValue<bool>("required"));
  BOOST_TEST(r.field("expectedDeliveryDate")->getValue<std::size_t>("missing") == 24u);
  BOOST_TEST(r.countContaining("rejections", "101 Required field missing at PV1(1)-19") == 1u);
  // A birth date that is not one is malformed, but not a rejection: taken as absent, the child is
  // checked anyway (a warning in the ACK).
  BOOST_TEST(r.countContaining("rejections", "102 Data type error at PID(1)-7") == 0u);
}

BOOST_AUTO_TEST_CASE(reports_charset_framing_and_parse_problems) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.countContaining("charsetProblems", "byte order mark") == 1u);
  BOOST_TEST(r.countContaining("charsetProblems", "not UTF-8 (Latin-1") == 1u);
  BOOST_TEST(r.countContaining("charsetProblems", "invalid UTF-8") == 1u);
  BOOST_TEST(r.countContaining("charsetProblems", "declares 8859/1 but the bytes read as UTF-8") == 1u);
  BOOST_TEST(r.countContaining("charsetProblems", "UNICODE UTF-16") == 1u);
  BOOST_TEST(r.count("charsetDeclared", "(empty: ASCII)") == 2u);  // one empty, one not sent
  BOOST_TEST(r.count("charsetDeclared", "8859/1") == 1u);
  BOOST_TEST(r.count("framing", "bytes outside MLLP frames (dropped by the engine)") == 1u);
  BOOST_TEST(r.count("framing", "end block (0x1C) not followed by 0x0D") == 1u);
  BOOST_TEST(r.countContaining("framing", "frame without an end block at the end of the file") == 1u);
  BOOST_TEST(r.countContaining("framing", "batch envelope: 100 at BTS(1)-1") == 1u);
  BOOST_TEST(r.count("framing", "mixed segment terminators within one message") == 1u);
  BOOST_TEST(r.count("lineEndings", "LF") == 1u);  // the batch
  BOOST_TEST(r.count("lineEndings", "CR") == 4u);
  BOOST_TEST(r.countContaining("lineEndings", "mixed") == 1u);
  BOOST_TEST(r.countContaining("parseErrors", "101 Required field missing at MSH(1)-10") == 1u);
  BOOST_TEST(r.countContaining("parseErrors", "103 ") == 1u);
  BOOST_TEST(r.number("problems") > 0u);
}

BOOST_AUTO_TEST_CASE(html_is_self_contained_with_summary_and_tables) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.html.rfind("<!DOCTYPE html>", 0) == 0u);
  BOOST_TEST(r.html.find("<script") == std::string::npos);
  BOOST_TEST(r.html.find("http://") == std::string::npos);
  BOOST_TEST(r.html.find("https://") == std::string::npos);
  BOOST_TEST(r.html.find("<style>") != std::string::npos);
  BOOST_TEST(r.html.find("class=\"summary\"") < r.html.find("<table"));
  for (const char* section : {"Messages by type", "What the engine would do", "Why not checked", "NHS numbers",
                              "Trace status", "Mapped fields", "Locations that map to nothing", "Character-set problems",
                              "Framing problems", "Parse errors"}) {
    BOOST_TEST(r.html.find(section) != std::string::npos, section);
  }
  BOOST_TEST(r.html.find("RZZ01/XRAY") != std::string::npos);
  BOOST_TEST(r.html.find("ed-2025-06-12.hl7 #") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_patient_identifier_reaches_the_report) {
  const cpis::test::TempDir out("cpis-analyse");
  Run r = sampleRun(out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  // The temporary folder's name is random (mkdtemp) and the summary names the files written
  // there: a short identifier ("Zo") can turn up in it by chance. Not the report's content.
  for (std::string* text : {&r.out, &r.html, &r.jsonText}) {
    for (auto at = text->find(out.path().string()); at != std::string::npos; at = text->find(out.path().string())) {
      text->erase(at, out.path().string().size());
    }
  }
  std::istringstream identifiers(slurp(kSamples / "feed-capture-identifiers.txt"));
  std::size_t checked = 0;
  for (std::string line; std::getline(identifiers, line);) {
    if (line.empty() || line[0] == '#') continue;
    ++checked;
    BOOST_TEST(r.html.find(line) == std::string::npos, "the HTML holds " << line);
    BOOST_TEST(r.jsonText.find(line) == std::string::npos, "the JSON holds " << line);
    BOOST_TEST(r.out.find(line) == std::string::npos, "the summary holds " << line);
  }
  BOOST_TEST(checked > 100u);
  // Message control ids are not shown either: messages are named by file and position.
  BOOST_TEST(r.html.find("ED0001001") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(live_refuses_test_numbers) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = sampleRun(out, {"--environment", "LIVE"});
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.json->getValue<std::string>("environment") == "LIVE");
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 0u);
  // Every in-scope attendance with a 999 number: the 11 checks, 2 repeats, 3 unverified, the
  // adult and the A05 (the test range is refused before age and scheduling are looked at).
  BOOST_TEST(r.count("reasons", "TEST_NUMBER_IN_LIVE") == 18u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(problem_classes)

BOOST_AUTO_TEST_CASE(identifiers_hidden_where_a_feed_puts_them_in_codes) {
  // An EPR that writes the visit number into the point of care, and the surname into MSH-18:
  // the location key and the declared character set are withheld, not shown.
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = analyseFiles({{"odd.hl7", a04("C1", "9990000018^^^NHS^NH", "NSTS01", "VZX77120955^^^RZZ09",
                                              "VZX77120955^^^RZZ^VN")},
                              {"odder.hl7", a04("C2", "9990000026^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V2",
                                                "WINTERBOTTOMLY^Sam^^^^^L", "20150403", "WINTERBOTTOMLY")},
                              {"oddest.hl7", a04("C3", "9990000034^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V3",
                                                 "TEST^Sam^^^^^L", "20150403", "Sam Test 1 Elm Road")}},
                             out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("unmappedLocations", "(withheld: holds a patient identifier)") == 0u);  // out of scope here
  BOOST_TEST(r.count("outOfScopeLocations", "(withheld: holds a patient identifier)") == 1u);
  BOOST_TEST(r.count("charsetDeclared", "(withheld: holds a patient identifier)") == 1u);
  BOOST_TEST(r.count("charsetDeclared", "(not a character set name)") == 1u);
  BOOST_TEST(r.html.find("Elm Road") == std::string::npos);
  for (const std::string id : {"VZX77120955", "WINTERBOTTOMLY", "9990000018", "20150403"}) {
    BOOST_TEST(r.html.find(id) == std::string::npos, id);
    BOOST_TEST(r.jsonText.find(id) == std::string::npos, id);
  }
  BOOST_TEST(r.html.find("withheld") != std::string::npos);
}

// A trust whose local numbers' assigning authority is its site's ODS code: the location key
// (site / point of care) is shown, not withheld for holding "a patient identifier". Only an
// identifier's own value (CX-1) is one; the local number itself stays out of the report.
BOOST_AUTO_TEST_CASE(an_assigning_authority_is_not_a_patient_identifier) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = analyseFiles({{"site.hl7", a04("S1", "9990000018^^^NHS^NH~K7788990^^^RZZ02^MR", "NSTS01",
                                               "XRAY^^^RZZ02", "A250612001^^^RZZ02^VN")}},
                             out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("outOfScopeLocations", "RZZ02/XRAY") == 1u, r.jsonText);
  BOOST_TEST(r.count("outOfScopeLocations", "(withheld: holds a patient identifier)") == 0u);
  for (const std::string id : {"K7788990", "7788990", "A250612001", "9990000018"}) {
    BOOST_TEST(r.html.find(id) == std::string::npos, id);
    BOOST_TEST(r.jsonText.find(id) == std::string::npos, id);
  }
}

BOOST_AUTO_TEST_CASE(adapter_failures_are_counted_without_their_text) {
  const cpis::test::TempDir out("cpis-analyse");
  const fs::path folder = out.path() / "capture";
  fs::create_directories(folder);
  spit(folder / "one.hl7", a04("C1"));
  const Run r = analyse({"--adapter", "throws", "--plugin-dir", kPluginDir, "--setting", "throw_in=adapt",
                         "--mapping", kEnglandMapping, folder.string()},
                        out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("outcomes", "ADAPTER_FAILED") == 1u);
  BOOST_TEST(r.jsonText.find("999 000 0018") == std::string::npos);  // the plugin's exception text
  BOOST_TEST(r.html.find("999 000 0018") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(mllp_framing) {
  const cpis::test::TempDir out("cpis-analyse");
  const std::string m1 = a04("C1");
  const std::string m2 = a04("C2", "9990000026^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V2");
  const Run r = analyseFiles({{"cap.bin", "junk\x0b" + m1 + "\x1c\r\x0b" + m2 + "\x0b" + m1 + "\x1c"}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("framing", "bytes outside MLLP frames (dropped by the engine)") == 1u);
  BOOST_TEST(r.countContaining("framing", "a new start block came first") == 1u);
  BOOST_TEST(r.count("framing", "end block (0x1C) not followed by 0x0D") == 1u);
  BOOST_TEST(r.number("messages") == 3u);
  BOOST_TEST(r.count("outcomes", "NOT_PROCESSED") == 1u);
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 1u);
  BOOST_TEST(r.count("outcomes", "REPEATS_EARLIER_CHECK") == 1u);  // the same attendance again
}

BOOST_AUTO_TEST_CASE(line_endings) {
  const cpis::test::TempDir out("cpis-analyse");
  std::string lf = a04("C1");
  std::replace(lf.begin(), lf.end(), '\r', '\n');
  std::string mixed = a04("C2", "9990000026^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V2");
  mixed[mixed.find('\r')] = '\n';
  const Run r = analyseFiles({{"a.hl7", lf}, {"b.hl7", mixed}, {"c.hl7", a04("C3")}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("lineEndings", "LF") == 1u);
  BOOST_TEST(r.count("lineEndings", "CR") == 1u);
  BOOST_TEST(r.count("lineEndings", "mixed (CR, LF)") == 1u);
  BOOST_TEST(r.count("framing", "mixed segment terminators within one message") == 1u);
  BOOST_TEST(r.number("parsed") == 3u);
}

BOOST_AUTO_TEST_CASE(character_sets) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = analyseFiles({{"a.hl7", a04("C1", "9990000018^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V1",
                                          "TEST\xc3\x89^Alex", "20150403", "")},
                              {"b.hl7", a04("C2", "9990000026^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V2",
                                          "TEST\xc9^Alex", "20150403", "UNICODE UTF-8")},
                              {"c.hl7", a04("C3", "9990000034^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V3",
                                          "TEST\xc9^Alex", "20150403", "8859/1")}},
                             out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.countContaining("charsetProblems", "read as UTF-8, MSH-18 declaring ASCII") == 1u);
  BOOST_TEST(r.countContaining("charsetProblems", "invalid UTF-8 in a message declaring UNICODE UTF-8") == 1u);
  BOOST_TEST(r.count("charsetSeen", "UTF-8 (multi-byte characters)") == 1u);
  BOOST_TEST(r.count("charsetSeen", "8-bit, not UTF-8") == 2u);
  BOOST_TEST(r.count("outcomes", "UNREADABLE") == 2u);
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 1u);  // the 8859/1 one reads fine
  BOOST_TEST(r.countContaining("parseErrors", "102 ") == 2u);
}

BOOST_AUTO_TEST_CASE(batch_files) {
  const cpis::test::TempDir out("cpis-analyse");
  const std::string batch = "FHS|^~\\&|EDSYS|RZZ01\rBHS|^~\\&|EDSYS|RZZ01\r" + a04("C1") +
                            a04("C2", "9990000026^^^NHS^NH", "NSTS01", "EDMAJ^^^RZZ01", "V2") + "BTS|3\rFTS|1\r";
  const Run r = analyseFiles({{"batch.hl7", batch}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.number("messages") == 2u);
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 2u);
  BOOST_TEST(r.countContaining("framing", "batch envelope: ") == 1u);
  BOOST_TEST(r.count("framing", "(information) files with a batch envelope (FHS/BHS)") == 1u);
}

BOOST_AUTO_TEST_CASE(unmapped_locations_and_missing_fields) {
  const cpis::test::TempDir out("cpis-analyse");
  // england-adt.xml maps every other location OUT_OF_SCOPE; the sample mapping has no such row.
  const fs::path folder = out.path() / "capture";
  fs::create_directories(folder);
  spit(folder / "a.hl7", a04("C1", "9990000018^^^NHS^NH", "NSTS01", "GYM^^^RZZ05", "V1") +
                             a04("C2", "9990000026^^^NHS^NH", "", "GYM^^^RZZ05", "") +
                             a04("C3", "9990000034^^^NHS^NH", "NSTS01", "^^^RZZ05", "V3"));
  const Run r = analyse({"--adapter", "none", "--mapping", (kSamples / "feed-capture-mapping.xml").string(),
                         folder.string()},
                        out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.json->getValue<std::string>("adapter") == "none");
  BOOST_TEST(r.count("unmappedLocations", "RZZ05/GYM") == 1u);
  BOOST_TEST(r.count("reasons", "LOCATION_UNMAPPED") == 2u);
  BOOST_TEST(r.count("unmappedLocations", "RZZ05/") == 1u);
  BOOST_TEST(r.field("visitNumber")->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(r.field("nhsStatus")->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(r.field("department")->getValue<std::size_t>("missing") == 1u);
  BOOST_TEST(r.count("outcomes", "REJECTED") == 1u);
}

// A patient merge (A40) is not an attendance: counted as NOT_CHECKED / NOT_AN_ATTENDANCE, not
// in the attendance events whose fields are tallied, and its prior NHS number is no field an
// attendance lacks.
BOOST_AUTO_TEST_CASE(a_merge_is_not_an_attendance) {
  const cpis::test::TempDir out("cpis-analyse");
  const std::string a40 = slurp(kSource / "tests" / "data" / "adt" / "england-a40-merge.hl7");
  const Run r = analyseFiles({{"a.hl7", a04("C1") + a40}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  const std::vector<std::tuple<std::string, std::string, std::size_t>> tallies{
      {"outcomes", "CHECK_DUE", 1}, {"outcomes", "NOT_CHECKED", 1}, {"reasons", "NOT_AN_ATTENDANCE", 1}};
  for (const auto& [section, key, expected] : tallies) BOOST_TEST(r.count(section, key) == expected, key);
  BOOST_TEST(r.number("adt") == 2u);
  BOOST_TEST(r.number("attendanceEvents") == 1u);
  BOOST_TEST(r.number("attendances") == 1u);
  BOOST_TEST(r.countContaining("decisions", "merges two patients' records") == 1u);
  BOOST_TEST(r.jsonText.find("priorNhsNumber") == std::string::npos);
  BOOST_TEST(r.field("visitNumber")->getValue<std::size_t>("missing") == 0u);
}

// A message the mapping refuses (an attendance without PID: 100; no trigger event anywhere:
// 101) is REJECTED with its ERR, and what it did carry still counts in the NHS number figures.
BOOST_AUTO_TEST_CASE(messages_the_mapping_refuses) {
  const cpis::test::TempDir out("cpis-analyse");
  std::string noPid = a04("C1");
  noPid.erase(noPid.find("PID|"), noPid.find("PV1|") - noPid.find("PID|"));
  std::string noTrigger = a04("C2");
  noTrigger.replace(noTrigger.find("ADT^A04^ADT_A01"), 15, "ADT");
  noTrigger.replace(noTrigger.find("EVN|A04"), 7, "EVN|");
  const Run r = analyseFiles({{"a.hl7", noPid + noTrigger + a04("C3")}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("outcomes", "REJECTED") == 2u);
  BOOST_TEST(r.count("outcomes", "CHECK_DUE") == 1u);
  BOOST_TEST(r.countContaining("rejections", "100") == 1u);
  BOOST_TEST(r.countContaining("rejections", "PID") == 1u);
  BOOST_TEST(r.countContaining("rejections", "101") == 1u);
  BOOST_TEST(r.countContaining("rejections", "MSH-9") == 1u);
  BOOST_TEST(r.number("adt") == 3u);
  BOOST_TEST(r.count("nhsNumbers", "missing") == 1u);                 // no PID
  BOOST_TEST(r.count("nhsNumbers", "valid (999 test range)") == 2u);  // the no-trigger one still read
  BOOST_TEST(r.jsonText.find("9990000018") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(unreadable_trace_status) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = analyseFiles({{"a.hl7", a04("C1", "9990000018^^^NHS^NH", "TRACED")}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("traceStatusUnread", "TRACED") == 1u);
  BOOST_TEST(r.field("nhsStatus")->getValue<std::size_t>("malformed") == 1u);
  BOOST_TEST(r.count("reasons", "NHS_NUMBER_UNVERIFIED") == 1u);
}

BOOST_AUTO_TEST_CASE(empty_files_and_files_without_messages) {
  const cpis::test::TempDir out("cpis-analyse");
  const Run r = analyseFiles({{"empty.hl7", "\r\n"}, {"notes.txt", "exported by the interface team\n"}}, out);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
  BOOST_TEST(r.count("framing", "empty file (no message)") == 1u);
  BOOST_TEST(r.count("framing", "no message found in the file") == 1u);
  BOOST_TEST(r.number("messages") == 0u);
  BOOST_TEST(r.number("files") == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(usage)

int run(const std::vector<std::string>& args, std::string& err, std::string* out = nullptr) {
  std::ostringstream o;
  std::ostringstream e;
  const int code = analyseCommand(args, o, e);
  err = e.str();
  if (out) *out = o.str();
  return code;
}

BOOST_AUTO_TEST_CASE(help) {
  std::string err;
  std::string out;
  BOOST_TEST(run({"--help"}, err, &out) == 0);
  BOOST_TEST(out.find("usage: cpis-conformance analyse") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_and_unknown_arguments) {
  const std::string mapping = kEnglandMapping;
  const std::string folder = (kSamples / "feed-capture").string();
  std::string err;
  BOOST_TEST(run({}, err) == 2);
  BOOST_TEST(err.find("--adapter is required") != std::string::npos, err);
  BOOST_TEST(err.find("usage:") != std::string::npos);
  BOOST_TEST(run({"--adapter", "england_adt", folder}, err) == 2);
  BOOST_TEST(err.find("--mapping is required") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping", mapping}, err) == 2);
  BOOST_TEST(err.find("folder of captured messages is missing") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping", mapping, "--frobnicate", folder}, err) == 2);
  BOOST_TEST(err.find("unknown option --frobnicate") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping", mapping, "--environment", "PROD", folder}, err) == 2);
  BOOST_TEST(err.find("TEST or LIVE") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping", mapping, "--setting", "novalue", folder}, err) == 2);
  BOOST_TEST(err.find("KEY=VALUE") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping", mapping, folder, "other"}, err) == 2);
  BOOST_TEST(err.find("one folder only") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--mapping"}, err) == 2);
  BOOST_TEST(err.find("--mapping needs a value") != std::string::npos, err);
}

BOOST_AUTO_TEST_CASE(bad_inputs) {
  const cpis::test::TempDir dir("cpis-analyse");
  const std::string folder = (kSamples / "feed-capture").string();
  std::string err;
  // No such folder; an empty folder.
  BOOST_TEST(run({"--adapter", "none", "--mapping", kEnglandMapping, dir.file("absent")}, err) == 2);
  BOOST_TEST(err.find("not a folder") != std::string::npos, err);
  fs::create_directories(dir.path() / "empty");
  BOOST_TEST(run({"--adapter", "none", "--mapping", kEnglandMapping, dir.file("empty")}, err) == 2);
  BOOST_TEST(err.find("no files to analyse") != std::string::npos, err);
  // A mapping that does not validate: file:line:column.
  spit(dir.path() / "bad.xml", "<?xml version=\"1.0\"?>\n<mapping xmlns=\"urn:cpis-engine:mapping:1\" name=\"x\">\n"
                               "  <nonsense/>\n</mapping>\n");
  BOOST_TEST(run({"--adapter", "none", "--mapping", dir.file("bad.xml"), folder}, err) == 2);
  BOOST_TEST(err.find("the mapping file does not load") != std::string::npos, err);
  BOOST_TEST(err.find("bad.xml:3:") != std::string::npos, err);
  // An adapter that is nowhere; an adapter setting it does not know.
  BOOST_TEST(run({"--adapter", "nosuch", "--plugin-dir", kPluginDir, "--mapping", kEnglandMapping, folder}, err) == 2);
  BOOST_TEST(err.find("the adapter does not load") != std::string::npos, err);
  BOOST_TEST(err.find("nosuch") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "england_adt", "--plugin-dir", kPluginDir, "--setting", "colour=blue", "--mapping",
                  kEnglandMapping, folder},
                 err) == 2);
  BOOST_TEST(err.find("colour") != std::string::npos, err);
  BOOST_TEST(run({"--adapter", "none", "--setting", "a=b", "--mapping", kEnglandMapping, folder}, err) == 2);
  // A report that cannot be written.
  BOOST_TEST(run({"--adapter", "none", "--mapping", kEnglandMapping, "--html", dir.file("no/such/dir/r.html"),
                  folder},
                 err) == 2);
  BOOST_TEST(err.find("cannot write the report") != std::string::npos, err);
}

BOOST_AUTO_TEST_SUITE_END()
