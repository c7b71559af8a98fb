#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/cpis/spine_message.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cpis/cpis_test_support.h"
#include "tests/unit/cpis/spine_samples.h"

namespace cc = cpis::cpis;
namespace samples = cpis::test::samples;
using cpis::domain::AccessMode;

namespace {

const std::filesystem::path kGoldenDir = std::filesystem::path(CPIS_SOURCE_DIR) / "tests/data/cpis";

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void writeFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no " << from << " in the message");
  return text.replace(at, from.size(), to);
}

bool contains(const std::vector<std::string>& problems, const std::string& part) {
  for (const auto& problem : problems) {
    if (problem.find(part) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& problems) {
  std::string all;
  for (const auto& problem : problems) all += problem + "\n";
  return all;
}

// Runs Spine's own checks (spine2_xslt/CPIS_Query.xsl, XSLT 1.0 schematron) with xsltproc.
// On success it prints only "***report|...***" lines; each failed check a "***fault|...***".
std::string runSpineChecks(const std::string& soap) {
  const cpis::test::TempDir dir("cpis-xslt");
  const auto input = dir.path() / "query.xml";
  const auto output = dir.path() / "checks.txt";
  writeFile(input, soap);
  const auto stylesheet = cpis::test::spineSchemaFolder() / "spine2_xslt" / "CPIS_Query.xsl";
  const std::string command = "xsltproc --nonet '" + stylesheet.string() + "' '" + input.string() + "' > '" +
                              output.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  BOOST_REQUIRE_MESSAGE(status == 0, "xsltproc failed (" << status << "); is it installed? "
                                                         << "scripts/install-deps --test installs it\n"
                                                         << readFile(output));
  return readFile(output);
}

cc::LookupRequest systemUnscheduled() { return samples::request(samples::systemAuthor(), AccessMode::Unscheduled); }
cc::LookupRequest personScheduled() { return samples::request(samples::personAuthor(), AccessMode::Scheduled); }

cc::MessageHeader asyncHeader() {
  auto header = samples::queryHeader();
  header.replyTo = "https://cpis-engine.example.invalid/cpis/replies";
  return header;
}

// Golden files are compared byte for byte; CPIS_UPDATE_GOLDEN=1 rewrites them (review the diff).
void checkGolden(const std::string& name, const std::string& built) {
  const auto path = kGoldenDir / name;
  if (const char* update = std::getenv("CPIS_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    writeFile(path, built);
  }
  BOOST_TEST(built == readFile(path), "differs from " << path << "; CPIS_UPDATE_GOLDEN=1 rewrites it");
}

void checkSameRequest(const cc::LookupRequest& got, const cc::LookupRequest& want) {
  BOOST_TEST(got.nhsNumber == want.nhsNumber);
  BOOST_TEST((got.mode == want.mode));
  BOOST_TEST(got.checkId == want.checkId);
  BOOST_TEST((got.author.kind == want.author.kind));
  BOOST_TEST(got.author.asid == want.author.asid);
  BOOST_TEST(got.author.sdsUserId == want.author.sdsUserId);
  BOOST_TEST(got.author.sdsRoleProfileId == want.author.sdsRoleProfileId);
  BOOST_TEST(got.author.jobRoleCode == want.author.jobRoleCode);
  BOOST_TEST(got.author.jobRoleName == want.author.jobRoleName);
  BOOST_TEST(got.author.personName == want.author.personName);
  BOOST_TEST(got.author.orgOdsCode == want.author.orgOdsCode);
  BOOST_TEST(got.author.orgName == want.author.orgName);
}

void checkSameHeader(const cc::MessageHeader& got, const cc::MessageHeader& want) {
  BOOST_TEST(got.messageId == want.messageId);
  BOOST_TEST((got.creationTime == want.creationTime));
  BOOST_TEST(got.fromAsid == want.fromAsid);
  BOOST_TEST(got.toAsid == want.toAsid);
  BOOST_TEST(got.endpoint == want.endpoint);
  BOOST_TEST(got.replyTo == want.replyTo);
  BOOST_TEST(got.fromAddress == want.fromAddress);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(spine_query)

BOOST_AUTO_TEST_CASE(system_author_unscheduled_matches_its_golden_file) {
  checkGolden("query_system_unscheduled.xml", cc::buildQuery(systemUnscheduled(), samples::queryHeader()));
}

BOOST_AUTO_TEST_CASE(person_author_scheduled_async_matches_its_golden_file) {
  checkGolden("query_person_scheduled.xml", cc::buildQuery(personScheduled(), asyncHeader()));
}

BOOST_AUTO_TEST_CASE(built_queries_validate_against_the_schema) {
  for (const auto& request : {systemUnscheduled(), personScheduled()}) {
    const auto problems =
        cpis::test::spineSchemas().validate(cpis::test::interactionOf(cc::buildQuery(request, asyncHeader()), "QUPC_IN000006GB01"));
    BOOST_TEST(problems.empty(), joined(problems));
  }
}

BOOST_AUTO_TEST_CASE(built_queries_pass_spines_own_checks) {
  const std::string device = runSpineChecks(cc::buildQuery(systemUnscheduled(), samples::queryHeader()));
  BOOST_TEST(device.find("***fault") == std::string::npos, device);
  BOOST_TEST(device.find("***report|interactionID|QUPC_IN000006GB01***") != std::string::npos, device);
  BOOST_TEST(device.find("***report|eventId|3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44***") != std::string::npos);
  BOOST_TEST(device.find("***BEGIN-BLOCK|report|authorDevice***") != std::string::npos);
  BOOST_TEST(device.find("***BEGIN-BLOCK|report|indirectAuthority***") != std::string::npos);
  BOOST_TEST(device.find("+++familyName|Safeguard+++") != std::string::npos);
  BOOST_TEST(device.find("***report|extractedActionName|urn:nhs:names:services:cpisquery/QUPC_IN000006GB01***") !=
             std::string::npos);

  const std::string person = runSpineChecks(cc::buildQuery(personScheduled(), asyncHeader()));
  BOOST_TEST(person.find("***fault") == std::string::npos, person);
  BOOST_TEST(person.find("***BEGIN-BLOCK|report|authorPerson***") != std::string::npos, person);
  BOOST_TEST(person.find("+++id|555000000001+++") != std::string::npos);
  BOOST_TEST(person.find("+++profileId|555000000002+++") != std::string::npos);
  BOOST_TEST(person.find("+++orgCode|RZZ02+++") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(spines_checks_do_report_a_fault_the_harness_would_see) {
  // The harness itself: a query without its NHS number must come back with a fault line.
  const std::string soap =
      replaced(cc::buildQuery(systemUnscheduled(), samples::queryHeader()), "extension=\"9990000018\"", "extension=\"\"");
  const std::string checks = runSpineChecks(soap);
  BOOST_TEST(checks.find("***fault|ErrorBase1712.MANDATORY_DATA_MISSING|NHS Number***") != std::string::npos, checks);
}

BOOST_AUTO_TEST_CASE(the_access_mode_travels_in_the_soap_header) {
  const std::string unscheduled = cc::buildQuery(systemUnscheduled(), samples::queryHeader());
  BOOST_TEST(unscheduled.find("<hl7:accessEventType value=\"true\"/>") != std::string::npos, unscheduled);
  const std::string scheduled = cc::buildQuery(personScheduled(), samples::queryHeader());
  BOOST_TEST(scheduled.find("<hl7:accessEventType SOAP:mustUnderstand=\"1\" value=\"false\"/>") != std::string::npos,
             scheduled);
}

BOOST_AUTO_TEST_CASE(parse_query_gives_back_the_request_and_header) {
  for (const auto& request : {systemUnscheduled(), personScheduled()}) {
    for (const auto& header : {samples::queryHeader(), asyncHeader()}) {
      const auto parsed = cc::parseQuery(cc::buildQuery(request, header), cpis::test::spineSchemas());
      BOOST_REQUIRE_MESSAGE(parsed.ok(), joined(parsed.ok() ? std::vector<std::string>{} : parsed.error()));
      checkSameRequest(parsed->request, request);
      checkSameHeader(parsed->header, header);
    }
  }
}

BOOST_AUTO_TEST_CASE(text_is_escaped_and_comes_back_unchanged) {
  auto request = systemUnscheduled();
  request.author.orgName = "Brighton & Hove <Urgent> \"Care\" 'Centre' \xC3\x85lesund";
  request.author.personName = "Zo\xC3\xAB O'Brien-Sm\xC3\xADth";
  const std::string soap = cc::buildQuery(request, samples::queryHeader());
  BOOST_TEST(soap.find("Brighton &amp; Hove &lt;Urgent&gt;") != std::string::npos, soap);
  const auto parsed = cc::parseQuery(soap, cpis::test::spineSchemas());
  BOOST_REQUIRE_MESSAGE(parsed.ok(), joined(parsed.ok() ? std::vector<std::string>{} : parsed.error()));
  BOOST_TEST(parsed->request.author.orgName == request.author.orgName);
  BOOST_TEST(parsed->request.author.personName == request.author.personName);
}

BOOST_AUTO_TEST_CASE(characters_xml_cannot_carry_are_dropped_not_sent) {
  auto request = systemUnscheduled();
  request.author.orgName = std::string("Bell\x07 Ward \xFF end");
  const std::string soap = cc::buildQuery(request, samples::queryHeader());
  const auto parsed = cc::parseQuery(soap, cpis::test::spineSchemas());
  BOOST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->request.author.orgName == "Bell Ward \xEF\xBF\xBD end");
}

BOOST_AUTO_TEST_CASE(parse_query_refuses_a_bad_nhs_number_without_quoting_it) {
  const std::string soap =
      replaced(cc::buildQuery(systemUnscheduled(), samples::queryHeader()), "extension=\"9990000018\"", "extension=\"9990000019\"");
  const auto parsed = cc::parseQuery(soap, cpis::test::spineSchemas());
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(contains(parsed.error(), "INVALID_NHS_NUMBER"), joined(parsed.error()));
  BOOST_TEST(joined(parsed.error()).find("9990000019") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(parse_query_refuses_missing_author_fields) {
  auto device = systemUnscheduled();
  device.author.orgName.clear();
  device.author.jobRoleCode.clear();
  device.author.personName.clear();
  device.author.jobRoleName.clear();
  auto parsed = cc::parseQuery(cc::buildQuery(device, samples::queryHeader()), cpis::test::spineSchemas());
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(contains(parsed.error(), "MANDATORY_DATA_MISSING: authorDevice.orgName"), joined(parsed.error()));
  BOOST_TEST(contains(parsed.error(), "MANDATORY_DATA_MISSING: authorDevice.assignedPersonName"));

  auto person = personScheduled();
  person.author.sdsUserId.clear();
  person.author.orgOdsCode.clear();
  parsed = cc::parseQuery(cc::buildQuery(person, samples::queryHeader()), cpis::test::spineSchemas());
  BOOST_REQUIRE(!parsed.ok());
  BOOST_TEST(contains(parsed.error(), "MANDATORY_DATA_MISSING: authorID"), joined(parsed.error()));
  BOOST_TEST(contains(parsed.error(), "MANDATORY_DATA_MISSING: Organisation Code"));
}

BOOST_AUTO_TEST_CASE(parse_query_refuses_what_is_not_a_cpis_query) {
  const auto& schemas = cpis::test::spineSchemas();
  const std::string good = cc::buildQuery(systemUnscheduled(), samples::queryHeader());
  BOOST_TEST(!cc::parseQuery("not xml <", schemas).ok());
  BOOST_TEST(!cc::parseQuery("<Envelope/>", schemas).ok());
  const auto wrongAction = cc::parseQuery(replaced(good, "cpisquery/QUPC_IN000006GB01", "cpisquery/OTHER"), schemas);
  BOOST_REQUIRE(!wrongAction.ok());
  BOOST_TEST(contains(wrongAction.error(), "wsa:Action"));
  const auto twoAuthor1 = cc::parseQuery(
      replaced(good, "<subject>", "<author1><AgentSystemSDS><agentSystemSDS><id root=\"1.2.826.0.1285.0.2.0.107\" "
                                  "extension=\"200000000101\"/></agentSystemSDS></AgentSystemSDS></author1><subject>"),
      schemas);
  BOOST_REQUIRE(!twoAuthor1.ok());  // the schema allows two; Spine's stylesheet does not
  BOOST_TEST(contains(twoAuthor1.error(), "MANDATORY_DATA_MISSING: author1"), joined(twoAuthor1.error()));
  const auto noEventId =
      cc::parseQuery(replaced(good, "<id root=\"3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44\"/>", ""), schemas);
  BOOST_REQUIRE(!noEventId.ok());
  BOOST_TEST(contains(noEventId.error(), "schema:"), joined(noEventId.error()));
  BOOST_TEST(contains(noEventId.error(), "Event ID"));
}

BOOST_AUTO_TEST_CASE(check_request_lists_what_spine_would_refuse) {
  BOOST_TEST(cc::checkRequest(systemUnscheduled()).empty());
  BOOST_TEST(cc::checkRequest(personScheduled()).empty());
  auto request = systemUnscheduled();
  request.author.asid = "12345";
  request.checkId = "not-a-uuid";
  const auto problems = cc::checkRequest(request);
  BOOST_TEST(contains(problems, "authorDevice.systemID is not an ASID"), joined(problems));
  BOOST_TEST(contains(problems, "Event ID is not an upper-case UUID"));
}

BOOST_AUTO_TEST_CASE(new_message_ids_are_distinct_upper_case_uuids) {
  const std::string a = cc::newMessageId();
  const std::string b = cc::newMessageId();
  BOOST_TEST(a != b);
  BOOST_TEST(a.size() == 36u);
  BOOST_TEST(a[14] == '4');  // version 4
  BOOST_TEST(a.find_first_of("abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
