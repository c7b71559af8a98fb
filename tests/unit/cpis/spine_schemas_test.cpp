#include "engine/cpis/spine_schemas.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_wire.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cpis/cpis_test_support.h"
#include "tests/unit/cpis/spine_samples.h"

using cpis::cpis::SpineSchemas;
namespace samples = cpis::test::samples;

namespace {

std::string validQuery() {
  return cpis::test::interactionOf(
      cpis::cpis::buildQuery(samples::request(samples::systemAuthor(), cpis::domain::AccessMode::Unscheduled),
                             samples::queryHeader()),
      "QUPC_IN000006GB01");
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "no " << from << " in the message");
  return text.replace(at, from.size(), to);
}

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_.empty()) ::unsetenv(name_);
    else ::setenv(name_, old_.c_str(), 1);
  }

 private:
  const char* name_;
  std::string old_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(spine_schemas)

BOOST_AUTO_TEST_CASE(loads_the_four_interactions_reporting_only_the_known_quirk) {
  const SpineSchemas& schemas = cpis::test::spineSchemas();
  // Xerces 3.2.4 reports 21 of them; the exact number is Xerces's business.
  BOOST_TEST(schemas.loadWarnings().size() >= 10u);
  BOOST_TEST(schemas.loadWarnings().size() <= 40u);
  for (const auto& warning : schemas.loadWarnings()) {
    BOOST_TEST_CONTEXT(warning) {
      BOOST_TEST(warning.find("must be derived by restriction") != std::string::npos);
      BOOST_TEST(warning.find(".xsd, line ") != std::string::npos);  // names the schema file and line
    }
  }
  BOOST_TEST(SpineSchemas::interactions().size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_folder_without_the_schemas_is_refused_naming_folder_and_file) {
  const cpis::test::TempDir dir("cpis-schemas");
  try {
    const SpineSchemas schemas(dir.path());
    BOOST_FAIL("an empty folder was accepted");
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find(dir.path().string()) != std::string::npos);
    BOOST_TEST(message.find("QUPC_IN000006GB01.xsd") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_real_load_error_is_refused_with_its_reason) {
  // A copy of the interaction schema whose include is missing: not the known quirk.
  const cpis::test::TempDir dir("cpis-schemas");
  const auto schemasDir = dir.path() / "CPIS" / "Schemas";
  std::filesystem::create_directories(schemasDir);
  for (const auto name : SpineSchemas::interactions()) {
    std::filesystem::copy_file(cpis::test::spineSchemaFolder() / "CPIS" / "Schemas" / (std::string(name) + ".xsd"),
                               schemasDir / (std::string(name) + ".xsd"));
  }
  try {
    const SpineSchemas schemas(dir.path());
    BOOST_FAIL("schemas without their includes were accepted");
  } catch (const std::runtime_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    BOOST_TEST(std::string(e.what()).find(dir.path().string()) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_environment_variable_overrides_the_default_folder) {
  const cpis::test::TempDir dir("cpis-schemas");
  std::filesystem::create_directories(dir.path() / "CPIS" / "Schemas");
  const ScopedEnv env("CPIS_SPINE_SCHEMAS", dir.path().string());
  BOOST_TEST(cpis::test::spineSchemaFolder() == dir.path().lexically_normal());
}

BOOST_AUTO_TEST_CASE(a_built_query_validates) {
  const auto problems = cpis::test::spineSchemas().validate(validQuery());
  BOOST_TEST(problems.empty(), "first problem: " << (problems.empty() ? "" : problems.front()));
}

// What the parsers validate: the interaction cut from the message as received (wire::cut), not
// a copy serialised from the tree. Both must give the same verdict, for every message the
// engine and the simulator build and for broken ones, and the cut must carry the namespaces
// its ancestors declare.
BOOST_AUTO_TEST_CASE(an_interaction_cut_from_its_envelope_validates_as_its_serialised_copy_does) {
  namespace cc = cpis::cpis;
  namespace wire = cpis::cpis::wire;
  const SpineSchemas& schemas = cpis::test::spineSchemas();
  const auto header = samples::replyHeader();
  const std::vector<std::pair<std::string, std::string>> messages{
      {cc::buildQuery(samples::request(samples::systemAuthor(), cpis::domain::AccessMode::Unscheduled),
                      samples::queryHeader()),
       "QUPC_IN000006GB01"},
      {cc::buildQuery(samples::request(samples::personAuthor(), cpis::domain::AccessMode::Scheduled),
                      samples::queryHeader()),
       "QUPC_IN000006GB01"},
      {cc::buildFoundReply(header, samples::subject(),
                           {samples::record({{cpis::domain::PlanType::Cppi, samples::date(2025, 3, 1), std::nullopt}})},
                           {samples::personAccess(samples::utc(2025, 6, 1, 10, 0, 0)),
                            samples::systemAccess(samples::utc(2025, 5, 1, 10, 0, 0))}),
       "REPC_IN000007GB01"},  // inside Spine's CP-ISNHSQueryResponse wrapper
      {cc::buildNotFoundReply(header, cc::ReplyOptions{}), "QUQI_IN010000UK14"},
      {cc::buildApplicationError(header, "SOME_CODE", "text"), "MCCI_IN010000UK13"},
  };
  // The interaction: the Body's child, or inside Spine's wrapper.
  const auto find = [](wire::Node root, const std::string& name, const auto&) -> wire::Node {
    const wire::Node body = wire::child(root, "Body", wire::kSoapNs);
    if (const wire::Node direct = wire::child(body, name)) return direct;
    return wire::child(wire::child(body, "CP-ISNHSQueryResponse"), name);
  };
  const auto verdicts = [&](const std::string& soap, const std::string& interaction) {
    std::string error;
    const auto document = wire::XmlDocument::parse(soap, error);
    BOOST_TEST_REQUIRE(document.has_value(), error);
    const wire::Node element = find(document->root(), interaction, find);
    BOOST_TEST_REQUIRE(element != nullptr);
    const auto cut = wire::cut(soap, *document, element);
    BOOST_TEST_REQUIRE(cut.has_value());
    return std::make_pair(schemas.validate(*cut).empty(), schemas.validate(wire::serialise(element)).empty());
  };
  for (const auto& [soap, interaction] : messages) {
    BOOST_TEST_CONTEXT(interaction) {
      BOOST_TEST((verdicts(soap, interaction) == std::make_pair(true, true)));
      const std::string missing = replaced(soap, "<processingCode code=\"P\"/>", "");
      BOOST_TEST((verdicts(missing, interaction) == std::make_pair(false, false)));
      const std::string extra = replaced(soap, "<processingCode code=\"P\"/>", "<processingCode code=\"P\"/><surprise/>");
      BOOST_TEST((verdicts(extra, interaction) == std::make_pair(false, false)));
      const std::string badValue = replaced(soap, "<processingCode code=\"P\"/>", "<processingCode code=\"P P\"/>");
      BOOST_TEST((verdicts(badValue, interaction) == std::make_pair(false, false)));
    }
  }

  // The interaction with a prefix declared only on the envelope: the cut carries the declaration.
  std::string prefixed = messages.front().first;
  prefixed = replaced(prefixed, "<QUPC_IN000006GB01 xmlns=\"urn:hl7-org:v3\"", "<hl7:QUPC_IN000006GB01 xmlns=\"urn:hl7-org:v3\"");
  prefixed = replaced(prefixed, "</QUPC_IN000006GB01>", "</hl7:QUPC_IN000006GB01 >");
  std::string error;
  const auto document = wire::XmlDocument::parse(prefixed, error);
  BOOST_TEST_REQUIRE(document.has_value(), error);
  const wire::Node element = find(document->root(), "QUPC_IN000006GB01", find);
  const auto cut = wire::cut(prefixed, *document, element);
  BOOST_TEST_REQUIRE(cut.has_value());
  BOOST_TEST(cut->rfind("<hl7:QUPC_IN000006GB01 xmlns:SOAP=", 0) == 0u, cut->substr(0, 80));
  BOOST_TEST(schemas.validate(*cut).empty());
  const auto parsed = cc::parseQuery(prefixed, schemas);
  BOOST_TEST(parsed.ok());

  // A document in another encoding is not cut (its bytes would be read as UTF-8).
  std::string latin1 = messages.front().first;
  latin1 = replaced(latin1, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
  const auto latinDocument = wire::XmlDocument::parse(latin1, error);
  BOOST_TEST_REQUIRE(latinDocument.has_value(), error);
  BOOST_TEST(!wire::cut(latin1, *latinDocument, find(latinDocument->root(), "QUPC_IN000006GB01", find)).has_value());
  BOOST_TEST(cc::parseQuery(latin1, schemas).ok());
}

struct BrokenCase {
  const char* name;
  std::string from, to;
};
std::ostream& operator<<(std::ostream& os, const BrokenCase& c) { return os << c.name; }

BOOST_AUTO_TEST_CASE(broken_instances_are_caught_with_line_and_column) {
  const std::vector<BrokenCase> cases{
      {"missing mandatory element", "<processingCode code=\"P\"/>", ""},
      {"value against a pattern", "<creationTime value=\"20250612133005\"/>", "<creationTime value=\"2025-06-12\"/>"},
      {"lower-case UUID", "root=\"3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44\"", "root=\"3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44\""},
      {"undeclared element", "<processingCode code=\"P\"/>", "<processingCode code=\"P\"/><surprise/>"},
      {"undeclared root", "QUPC_IN000006GB01", "QUPC_IN000099GB01"},
      {"not well-formed", "</ControlActEvent>", "</ControlAct>"},
      {"undeclared attribute", "<processingCode code=\"P\"/>", "<processingCode code=\"P\" surprise=\"1\"/>"},
      {"value outside an enumeration", "<processingCode code=\"P\"/>", "<processingCode code=\"Q\"/>"},
      {"text in element-only content", "<processingCode code=\"P\"/>", "<processingCode code=\"P\"/>stray"},
      {"another element where one belongs", "<versionCode code=\"V3NPfIT3.0\"/>", "<acceptAckCode code=\"NE\"/>"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c) {
      std::string document = validQuery();
      if (std::string(c.name) == "undeclared root") {
        while (document.find(c.from) != std::string::npos) document = replaced(document, c.from, c.to);
      } else {
        document = replaced(document, c.from, c.to);
      }
      const auto problems = cpis::test::spineSchemas().validate(document);
      BOOST_TEST(!problems.empty());
      if (!problems.empty()) BOOST_TEST(problems.front().rfind("line ", 0) == 0u, problems.front());
    }
  }
}

// Union types (union_validation.h) decide as Xerces-C++ does: the first member that takes a
// value takes it, a value no member takes is refused with Xerces' own words, and a value that a
// member's pattern or enumeration rules out is tried against the others.
BOOST_AUTO_TEST_CASE(union_typed_attributes_take_what_a_member_takes_and_refuse_the_rest) {
  const SpineSchemas& schemas = cpis::test::spineSchemas();
  const std::string query = validQuery();
  const std::string uuid = "root=\"3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44\"";
  // Refused by every member of `uid` (an OID, a UUID, an RUID): lower case is none of them.
  for (const std::string& bad : {std::string("root=\"3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44\""),
                                 std::string("root=\"not an identifier\""), std::string("root=\".1.2\"")}) {
    BOOST_TEST_CONTEXT(bad) {
      const auto problems = schemas.validate(replaced(query, uuid, bad));
      BOOST_REQUIRE(!problems.empty());
      BOOST_TEST(problems.front().find("does not match any member types of the union") != std::string::npos,
                 problems.front());
    }
  }
  // Taken by a member other than the first: the UUID itself (`uid` tries OID first), again and
  // again on one parser.
  for (int i = 0; i < 3; ++i) {
    const auto problems = schemas.validate(query);
    BOOST_TEST(problems.empty(), "first problem: " << (problems.empty() ? "" : problems.front()));
  }
  // A value taken once is remembered, a refused one never is: more distinct values than are
  // remembered at once all validate, and the refused ones are refused again after them.
  for (int i = 0; i < 600; ++i) {
    char other[64];
    std::snprintf(other, sizeof other, "root=\"%08X-8B4D-4E21-9A57-0C9D2E7B1F44\"", static_cast<unsigned>(i));
    const auto problems = schemas.validate(replaced(query, uuid, other));
    BOOST_TEST_REQUIRE(problems.empty(), other << ": " << (problems.empty() ? "" : problems.front()));
  }
  for (const std::string& bad : {std::string("root=\"3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44\""), std::string("root=\".1.2\"")}) {
    const auto problems = schemas.validate(replaced(query, uuid, bad));
    BOOST_TEST_REQUIRE(!problems.empty(), bad);
    BOOST_TEST(problems.front().find("does not match any member types of the union") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(validation_is_thread_safe) {
  const SpineSchemas& schemas = cpis::test::spineSchemas();
  const std::string good = validQuery();
  const std::string bad = replaced(good, "<processingCode code=\"P\"/>", "");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        const bool expectValid = (i + t) % 2 == 0;
        if (schemas.validate(expectValid ? good : bad).empty() != expectValid) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(wrong.load() == 0);
}

// Xerces-C++ completes a compiled grammar lazily (pattern facets' regular expressions among
// it) without a lock: threads that validate at once against a fresh shared pool could see a
// valid value refused. Each parser has a pool of its own, so the first documents are safe too.
BOOST_AUTO_TEST_CASE(a_fresh_instance_validates_correctly_from_its_first_concurrent_documents) {
  const std::string good = validQuery();
  for (int round = 0; round < 4; ++round) {
    const SpineSchemas schemas(cpis::test::spineSchemas().folder());
    std::atomic<int> ready{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        ++ready;
        while (ready.load() < 4) std::this_thread::yield();  // start together: the race is at the start
        for (int i = 0; i < 5; ++i) {
          if (!schemas.validate(good).empty()) ++wrong;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    BOOST_TEST(wrong.load() == 0, "round " << round);
  }
}

BOOST_AUTO_TEST_CASE(redaction_hides_every_quoted_value) {
  BOOST_TEST(cpis::cpis::redactQuoted("value '9990000018' does not match facet '[0-9]{12}'") ==
             "value '...' does not match facet '...'");
  BOOST_TEST(cpis::cpis::redactQuoted("element \"given\" is not allowed") ==
             "element \"...\" is not allowed");
  BOOST_TEST(cpis::cpis::redactQuoted("unterminated 'Smith") == "unterminated '...");
  // A quote inside the value does not end it (a name such as O'Neil).
  BOOST_TEST(cpis::cpis::redactQuoted("value 'O'Neil' is not valid") == "value '...' is not valid");
  BOOST_TEST(cpis::cpis::redactQuoted("'a'b', 'c'.") == "'...', '...'.");
  // Nor a quote followed by anything but what Xerces-C++'s templates put after a value: the end,
  // ", '", "; " or one of their next words ("does", "is", "must" ...).
  BOOST_TEST(cpis::cpis::redactQuoted("Value 'D' Souza, Anne' is not valid") == "Value '...' is not valid");
  BOOST_TEST(cpis::cpis::redactQuoted("Value 'Flat 3' 12 Hill Road' must match '[A-Z]+'; digits") ==
             "Value '...' must match '...'; digits");
  BOOST_TEST(cpis::cpis::redactQuoted("Value 'de' la Cruz' does not match facet") ==
             "Value '...' does not match facet");
  BOOST_TEST(cpis::cpis::redactQuoted("Value 'Flat 3', rear' is not valid") == "Value '...' is not valid");
  BOOST_TEST(cpis::cpis::redactQuoted("invalid class index 'a', 'b'") == "invalid class index '...', '...'");
  BOOST_TEST(cpis::cpis::redactQuoted("nothing quoted") == "nothing quoted");
}

BOOST_AUTO_TEST_SUITE_END()
