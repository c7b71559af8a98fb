// Every way a configuration can be wrong, with where the loader says it is. Line numbers are
// the point: a person fixes the file from them.
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/config/config_loader.h"
#include "engine/config/xerces_platform.h"
#include "tests/unit/config/config_test_support.h"

using namespace cpis::config;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPassphrase = "correct-horse-battery-staple";

// Lines 1-4; a body starts on line 5.
std::string document(std::string_view body) {
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="cpis.db"/></store>
)") + std::string(body) +
         "</cpisEngine>\n";
}

// A feed that is fine, for bodies that need one to be valid otherwise.
const std::string kFeed = "  <feed name=\"ok\"><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n";

// A TLS listener around `inside` (which starts on line 8), on feed "a".
std::string tlsFeed(std::string_view inside) {
  return document(
      "  <feed name=\"a\">\n"                              // 5
      "    <listener address=\"127.0.0.1\" port=\"1\">\n"  // 6
      "      <tls>\n" +                                    // 7
      std::string(inside) +                                // 8...
      "      </tls>\n"
      "    </listener>\n"
      "  </feed>\n");
}

// What the files in the test directory are called.
const std::string kCert = "        <certificateFile>tls/server.pem</certificateFile>\n";
const std::string kKey = "        <privateKeyFile>tls/server.key</privateKeyFile>\n";

struct ErrorCase {
  std::string name;
  std::string xml;
  std::uint64_t line;
  std::uint64_t column;
  std::string message;  // the whole message, or its start when it ends with "..."
};
std::ostream& operator<<(std::ostream& os, const ErrorCase& c) {
  return os << c.name;
}

const std::vector<ErrorCase> kCases{
    // --- wrong, missing or misplaced elements and attributes (the schema) ---
    {"unknown_element", document("  <feed name=\"a\"><listen address=\"127.0.0.1\" port=\"1\"/></feed>\n"), 5,
     56,
     "<listen> is not allowed here: <feed> expects (expectedSender?, listener, acknowledgement?, adapter?, "
     "mapping?, check?)"},
    {"element_out_of_order", document("  <logging/>\n  <limits/>\n" + kFeed), 6, 12,
     "<limits> is not allowed here: <cpisEngine> expects (environment, store, limits?, logging?, cpis?, "
     "notify?, feed+)"},
    {"element_twice",
     document("  <feed name=\"a\">\n"
              "    <listener address=\"127.0.0.1\" port=\"1\"/>\n"
              "    <listener address=\"127.0.0.1\" port=\"2\"/>\n"
              "  </feed>\n"),
     7, 45,
     "<listener> is not allowed here: <feed> expects (expectedSender?, listener, acknowledgement?, adapter?, "
     "mapping?, check?)"},
    {"missing_required_element", document("  <feed name=\"a\">\n  </feed>\n"), 5, 18,
     "<feed> is incomplete: expected (expectedSender?, listener, acknowledgement?, adapter?, mapping?, "
     "check?)"},
    {"no_feed_at_all", document(""), 2, 46,
     "<cpisEngine> is incomplete: expected (environment, store, limits?, logging?, cpis?, notify?, feed+)"},
    {"missing_required_attribute", document("  <feed name=\"a\"><listener address=\"127.0.0.1\"/></feed>\n"),
     5, 49, "<listener> is missing the required attribute 'port'"},
    {"unknown_attribute",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\" tls=\"yes\"/></feed>\n"), 5, 68,
     "<listener> has no attribute 'tls'"},
    {"text_where_elements_belong",
     document("  <feed name=\"a\">hello<listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"), 5, 23,
     "text is not allowed here, only elements"},
    {"tls_without_certificate", tlsFeed(kKey), 8, 25,
     "<privateKeyFile> is not allowed here: <tls> expects (certificateFile, privateKeyFile, ..."},
    {"empty_path",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\"/><mapping file=\"\"/></feed>\n"),
     5, 76, "attribute 'file' of <mapping>: '' does not match the pattern \\S(.*\\S)?"},

    // --- bad values (the schema) ---
    {"bad_enum_attribute", document("  <logging format=\"xml\"/>\n" + kFeed), 5, 26,
     "attribute 'format' of <logging>: 'xml' is not one of: text, json"},
    {"bad_enum_element",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  "
     "<environment>PROD</environment>\n"
     "  <store><sqlite path=\"x.db\"/></store>\n" +
         kFeed + "</cpisEngine>\n",
     3, 34, "<environment>: 'PROD' is not one of: LIVE, TEST"},
    {"bad_ack_mode",
     document("  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\"/>\n"
              "    <acknowledgement mode=\"immediate\"/>\n  </feed>\n"),
     7, 40, "attribute 'mode' of <acknowledgement>: 'immediate' is not one of: original, enhanced"},
    {"tls_without_files", tlsFeed(""), 7, 12,
     "<tls> is incomplete: expected (certificateFile, privateKeyFile, ..."},
    {"tls_version_too_old",
     document("  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\">\n"
              "      <tls minimumVersion=\"TLSv1.1\">\n" +
              kCert + kKey + "      </tls>\n    </listener>\n  </feed>\n"),
     7, 37, "attribute 'minimumVersion' of <tls>: 'TLSv1.1' is not one of: TLSv1.2, TLSv1.3"},
    {"port_out_of_range",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"65536\"/></feed>\n"), 5, 62,
     "attribute 'port' of <listener>: '65536' is greater than 65535"},
    {"port_not_a_number",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"25x\"/></feed>\n"), 5, 60,
     "attribute 'port' of <listener>: '25x' must be a whole number, written with digits only"},
    {"port_negative", document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"-1\"/></feed>\n"),
     5, 59, "attribute 'port' of <listener>: '-1' must be a whole number, written with digits only"},
    {"return_port_zero",
     document("  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\"/>\n"
              "    <acknowledgement mode=\"enhanced\"><returnConnection host=\"epr\" "
              "port=\"0\"/></acknowledgement>\n"
              "  </feed>\n"),
     7, 77, "attribute 'port' of <returnConnection>: '0' is less than 1"},
    {"duration_zero", document("  <limits readTimeoutMs=\"0\"/>\n" + kFeed), 5, 30,
     "attribute 'readTimeoutMs' of <limits>: '0' is less than 1"},
    {"size_with_unit", document("  <limits maxMessageBytes=\"1MiB\"/>\n" + kFeed), 5, 35,
     "attribute 'maxMessageBytes' of <limits>: '1MiB' must be a whole number, written with digits only"},
    {"number_too_big_for_its_type",
     document("  <limits maxConnectionsPerListener=\"99999999999\"/>\n" + kFeed), 5, 52,
     "attribute 'maxConnectionsPerListener' of <limits>: '99999999999' is greater than 100000"},
    {"bad_boolean",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  "
     "<environment>TEST</environment>\n"
     "  <store groupCommit=\"yes\"><sqlite path=\"x.db\"/></store>\n" +
         kFeed + "</cpisEngine>\n",
     4, 28, "attribute 'groupCommit' of <store>: 'yes' is not a boolean: write true or false"},
    {"second_store", document("  <store><sqlite path=\"y.db\"/></store>\n" + kFeed), 5, 10,
     "<store> is not allowed here: <cpisEngine> expects (environment, store, limits?, logging?, cpis?, "
     "notify?, feed+)"},
    {"bad_feed_name",
     document("  <feed name=\"RZZ ED\"><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"), 5, 23,
     "attribute 'name' of <feed>: 'RZZ ED' does not match the pattern [a-z0-9][a-z0-9._\\-]{0,63}"},

    // --- rules the schema cannot express (the loader) ---
    {"duplicate_feed_name",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"
              "  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"2\"/></feed>\n"),
     6, 18, "feed name 'a' is already used by the feed at line 5"},
    {"clashing_listeners",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"2575\"/></feed>\n"
              "  <feed name=\"b\"><listener address=\"127.0.0.1\" port=\"2575\"/></feed>\n"),
     6, 61, "listener 127.0.0.1:2575 clashes with feed 'a' (line 5), which listens on 127.0.0.1:2575"},
    {"a_host_name_clashes_with_its_address",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"2575\"/></feed>\n"
              "  <feed name=\"b\"><listener address=\"localhost\" port=\"2575\"/></feed>\n"),
     6, 61, "listener localhost:2575 clashes with feed 'a' (line 5), which listens on 127.0.0.1:2575"},
    {"wildcard_clashes_with_any_address",
     document("  <feed name=\"a\"><listener address=\"::\" port=\"2575\"/></feed>\n"
              "  <feed name=\"b\"><listener address=\"10.1.2.3\" port=\"2575\"/></feed>\n"),
     6, 60, "listener 10.1.2.3:2575 clashes with feed 'a' (line 5), which listens on [::]:2575"},
    {"missing_tls_file", tlsFeed("        <certificateFile>tls/nope.pem</certificateFile>\n" + kKey), 8, 26,
     "certificateFile: no such file: {dir}/tls/nope.pem"},
    {"tls_file_is_a_directory", tlsFeed(kCert + "        <privateKeyFile>tls</privateKeyFile>\n"), 9, 25,
     "privateKeyFile: not a regular file: {dir}/tls"},
    {"missing_passphrase_file_path_not_echoed",
     tlsFeed(kCert + kKey + "        <privateKeyPassphraseFile>" + std::string(kPassphrase) +
             "</privateKeyPassphraseFile>\n"),
     10, 35,
     "privateKeyPassphraseFile: no such file (relative to {dir}; the name itself is not shown: this element "
     "names the file holding the passphrase, and a passphrase typed here instead must not reach a log)"},
    {"empty_passphrase_file",
     tlsFeed(kCert + kKey + "        <privateKeyPassphraseFile>tls/empty</privateKeyPassphraseFile>\n"), 10,
     35, "privateKeyPassphraseFile: the file is empty: {dir}/tls/empty"},
    {"client_certificate_without_ca", tlsFeed(kCert + kKey + "        <clientCertificate/>\n"), 10, 29,
     "clientCertificate needs caFile: without it no client certificate can be verified"},
    {"ca_without_client_certificate", tlsFeed(kCert + kKey + "        <caFile>tls/ca.pem</caFile>\n"), 10, 17,
     "caFile only verifies client certificates: add clientCertificate, or put the server's intermediate "
     "certificates in certificateFile"},
    {"allow_list_without_required_certificate",
     tlsFeed(kCert + kKey +
             "        <caFile>tls/ca.pem</caFile>\n        <clientCertificate required=\"false\">\n"
             "          <allowedSubject>CN=epr</allowedSubject>\n        </clientCertificate>\n"),
     11, 45, "allowedSubject needs required=\"true\": ..."},
    {"enhanced_without_return_connection",
     document("  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\"/>\n"
              "    <acknowledgement mode=\"enhanced\"/>\n  </feed>\n"),
     7, 39, "mode=\"enhanced\" needs a returnConnection: the application acknowledgements are sent over it"},
    {"unknown_notification_event",
     document("  <notify>\n    <sink name=\"team\" plugin=\"webhook\" events=\"plan-found attendance\"/>\n  "
              "</notify>\n" +
              kFeed),
     6, 72, "sink 'team': unknown event 'attendance' (plan-found, check-failed, cancelled, check-abandoned)"},
    {"unknown_data_level",
     document("  <notify>\n    <sink name=\"team\" plugin=\"webhook\" events=\"plan-found\" "
              "data=\"everything\"/>\n  </notify>\n" +
              kFeed),
     6, 79, "sink 'team': unknown data level 'everything' (minimal, identifiers, full)"},
    {"duplicate_sink_name",
     document("  <notify>\n    <sink name=\"team\" plugin=\"webhook\" events=\"plan-found\"/>\n    <sink "
              "name=\"team\" plugin=\"webhook\" events=\"plan-found\"/>\n  </notify>\n" +
              kFeed),
     7, 61, "sink name 'team' is already used by the sink at line 6"},
    {"reserved_sink_name",
     document("  <notify>\n    <sink name=\"cpis-recheck\" plugin=\"webhook\" events=\"plan-found\"/>\n  "
              "</notify>\n" +
              kFeed),
     6, 69, "sink name 'cpis-recheck' is the engine's own (the deferred check): choose another"},
    {"back_off_minimum_above_maximum",
     document("  <notify backoffMinMs=\"5000\" backoffMaxMs=\"1000\"/>\n" + kFeed), 5, 52,
     "backoffMinMs (5000) is longer than backoffMaxMs (1000)"},
    {"read_timeout_above_idle_timeout",
     document("  <limits readTimeoutMs=\"60000\" idleTimeoutMs=\"30000\"/>\n" + kFeed), 5, 56,
     "readTimeoutMs (60000) must not exceed idleTimeoutMs (30000): a stalled frame would outlive an idle "
     "connection"},
    {"read_timeout_above_default_idle_timeout", document("  <limits readTimeoutMs=\"900000\"/>\n" + kFeed), 5,
     35, "readTimeoutMs (900000) must not exceed idleTimeoutMs (600000): ..."},
    {"duplicate_window_beyond_retention",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  "
     "<environment>TEST</environment>\n"
     "  <store duplicateWindowHours=\"49\" retentionDays=\"2\"><sqlite path=\"x.db\"/></store>\n" +
         kFeed + "</cpisEngine>\n",
     4, 54, "duplicateWindowHours (49) is longer than retentionDays (2 days): ..."},
    {"deferred_checks_beyond_retention",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  "
     "<environment>TEST</environment>\n"
     "  <store retentionDays=\"8\"><sqlite path=\"x.db\"/></store>\n  <notify "
     "deferredCheckHours=\"200\"/>\n" +
         kFeed + "</cpisEngine>\n",
     5, 37, "deferredCheckHours (200) is longer than the store's retentionDays (8 days): ..."},
    {"adapter_setting_twice",
     document(
         "  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\"/>\n    <adapter "
         "name=\"edsys\">\n"
         "      <setting name=\"k\" value=\"1\"/>\n      <setting name=\"k\" value=\"2\"/>\n    </adapter>\n"
         "  </feed>\n"),
     9, 36, "setting 'k' is given twice for adapter 'edsys'"},
    {"missing_mapping_file",
     document("  <feed name=\"a\">\n    <listener address=\"127.0.0.1\" port=\"1\"/>\n"
              "    <mapping file=\"mappings/none.xml\"/>\n  </feed>\n"),
     7, 40, "mapping: no such file: {dir}/mappings/none.xml"},

    // --- not XML, or not ours ---
    {"mismatched_end_tag",
     document("  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\"></feed>\n"), 5, 59,
     "expected end of tag 'listener'"},
    {"unclosed_root",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  <environment>TEST\n", 4, 1,
     "input ended before all started tags were ended; last tag started is 'environment'"},
    {"unquoted_attribute", document("  <feed name=a><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"),
     5, 14, "attribute value expected"},
    {"no_namespace",
     "<?xml version=\"1.0\"?>\n<cpisEngine>\n  <environment>TEST</environment>\n</cpisEngine>\n", 2, 13,
     "the root element must be <cpisEngine xmlns=\"urn:cpis-engine:config:1\">, not <cpisEngine> without a "
     "namespace"},
    {"future_namespace",
     "<?xml version=\"1.0\"?>\n<cpisEngine xmlns=\"urn:cpis-engine:config:2\">\n  "
     "<environment>TEST</environment>\n"
     "</cpisEngine>\n",
     2, 46,
     "the root element must be <cpisEngine xmlns=\"urn:cpis-engine:config:1\">, not <cpisEngine "
     "xmlns=\"urn:cpis-engine:config:2\">"},
    {"another_root", "<?xml version=\"1.0\"?>\n<configuration xmlns=\"urn:cpis-engine:config:1\"/>\n", 2, 50,
     "the root element must be <cpisEngine xmlns=\"urn:cpis-engine:config:1\">, not <configuration "
     "xmlns=\"urn:cpis-engine:config:1\">"},
    {"invalid_utf8",
     document("  <feed name=\"a\">\n    <expectedSender application=\"CAF\xC9\"/>\n"
              "    <listener address=\"127.0.0.1\" port=\"1\"/>\n  </feed>\n"),
     6, 37,
     "byte 0xC9 is not UTF-8: save the file as UTF-8, or name its encoding in the XML declaration ..."},
    {"external_entity_not_read",
     "<?xml version=\"1.0\"?>\n<!DOCTYPE cpisEngine [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>\n"
     "<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n  <environment>&x;</environment>\n</cpisEngine>\n",
     4, 19, "unable to open external entity 'file:///etc/hostname'"},
};

// Each case runs in a directory holding the files the TLS cases expect.
struct CaseDir {
  cpis::test::TempDir dir{"cpis-config-test"};
  XercesPlatform platform;
  ConfigLoader loader{platform};
  CaseDir() {
    cpis::test::writeFile(dir, "tls/server.pem", "certificate");
    cpis::test::writeFile(dir, "tls/server.key", "key");
    cpis::test::writeFile(dir, "tls/ca.pem", "ca");
    cpis::test::writeFile(dir, "tls/passphrase", std::string(kPassphrase) + "\n");
    cpis::test::writeFile(dir, "tls/empty", "");
  }
  std::string expand(std::string text) const {
    for (auto at = text.find("{dir}"); at != std::string::npos; at = text.find("{dir}")) {
      text.replace(at, 5, dir.path().string());
    }
    return text;
  }
};

std::vector<ConfigProblem> problemsOf(const CaseDir& env, const std::string& xml) {
  try {
    (void)env.loader.loadString(xml, "case.xml", env.dir.path());
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find(std::string(kPassphrase)) == std::string::npos);
    return e.problems();
  }
  return {};
}

bool matches(const std::string& message, const std::string& expected) {
  if (expected.ends_with("...")) return message.starts_with(expected.substr(0, expected.size() - 3));
  return message == expected;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_errors)

BOOST_DATA_TEST_CASE(each_problem_is_located_and_explained, boost::unit_test::data::make(kCases), c) {
  const CaseDir env;
  const auto problems = problemsOf(env, c.xml);
  BOOST_REQUIRE_MESSAGE(problems.size() == 1u, "expected one problem, got " << problems.size() << ":\n"
                                                                            << ConfigError(problems).what());
  const ConfigProblem& problem = problems.front();
  BOOST_TEST(problem.file == "case.xml");
  BOOST_TEST(problem.line == c.line);
  BOOST_TEST(problem.column == c.column);
  BOOST_TEST(matches(problem.message, env.expand(c.message)), "message: " << problem.message);
}

BOOST_AUTO_TEST_CASE(every_schema_problem_is_reported_in_file_order) {
  const CaseDir env;
  const auto problems =
      problemsOf(env, document("  <limits readTimeoutMs=\"fast\"/>\n"                    // 5
                               "  <logging level=\"verbose\"/>\n"                        // 6
                               "  <feed name=\"a\">\n"                                   // 7
                               "    <listener address=\"127.0.0.1\" port=\"99999\"/>\n"  // 8
                               "    <colour/>\n"                                         // 9
                               "  </feed>\n"));
  std::vector<std::uint64_t> lines;
  for (const auto& p : problems) lines.push_back(p.line);
  BOOST_TEST(lines == (std::vector<std::uint64_t>{5, 6, 8, 9}), ConfigError(problems).what());
}

BOOST_AUTO_TEST_CASE(every_rule_broken_is_reported_in_file_order) {
  const CaseDir env;
  const auto problems = problemsOf(
      env, document("  <limits readTimeoutMs=\"700000\"/>\n"                 // 5
                    "  <feed name=\"a\">\n"                                  // 6
                    "    <listener address=\"127.0.0.1\" port=\"2575\">\n"   // 7
                    "      <tls>\n"                                          // 8
                    "        <certificateFile>nope.pem</certificateFile>\n"  // 9
                    "        <privateKeyFile>tls/server.key</privateKeyFile>\n"
                    "      </tls>\n"
                    "    </listener>\n"
                    "    <acknowledgement mode=\"enhanced\"/>\n"  // 13
                    "  </feed>\n"
                    "  <feed name=\"a\"><listener address=\"0.0.0.0\" port=\"2575\"/></feed>\n"));  // 15
  std::vector<std::uint64_t> lines;
  for (const auto& p : problems) lines.push_back(p.line);
  // line 15 twice: the name and the listener
  BOOST_TEST(lines == (std::vector<std::uint64_t>{5, 9, 13, 15, 15}), ConfigError(problems).what());
}

// The rules read values the schema guarantees, so they wait until the schema is satisfied.
BOOST_AUTO_TEST_CASE(rules_are_checked_only_once_the_schema_is_satisfied) {
  const CaseDir env;
  const auto problems =
      problemsOf(env, document("  <logging format=\"xml\"/>\n"
                               "  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"
                               "  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"1\"/></feed>\n"));
  BOOST_REQUIRE(problems.size() == 1u);
  BOOST_TEST(problems.front().line == 5u);
}

BOOST_AUTO_TEST_CASE(the_what_text_is_file_line_column_problem) {
  const CaseDir env;
  try {
    (void)env.loader.loadString(document("  <logging format=\"xml\"/>\n" + kFeed), "engine.xml");
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "engine.xml:5:26: attribute 'format' of <logging>: 'xml' is not one of: text, json");
  }
}

BOOST_AUTO_TEST_CASE(empty_or_blank_file_is_refused_at_its_start) {
  const CaseDir env;
  for (const std::string text : {"", " \n\t\r\n"}) {
    const auto problems = problemsOf(env, text);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems.front().line == 1u);
    BOOST_TEST(problems.front().column == 1u);
    BOOST_TEST(problems.front().message == "the file is empty: expected a cpisEngine element");
  }
  const fs::path file = cpis::test::writeFile(env.dir, "empty.xml", "");
  BOOST_CHECK_EXCEPTION((void)env.loader.loadFile(file), ConfigError, [&](const ConfigError& e) {
    return std::string(e.what()) == file.string() + ":1:1: the file is empty: expected a cpisEngine element";
  });
}

BOOST_AUTO_TEST_CASE(file_not_found_names_the_file_without_a_position) {
  const CaseDir env;
  const fs::path file = env.dir.path() / "absent.xml";
  try {
    (void)env.loader.loadFile(file);
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_REQUIRE(e.problems().size() == 1u);
    BOOST_TEST(e.problems().front().line == 0u);
    BOOST_TEST(std::string(e.what()) == file.string() + ": cannot be read: No such file or directory");
  }
  BOOST_CHECK_EXCEPTION((void)env.loader.loadFile(env.dir.path()), ConfigError, [&](const ConfigError& e) {
    return std::string(e.what()) == env.dir.path().string() + ": is a directory, not a file";
  });
}

BOOST_AUTO_TEST_CASE(entity_expansion_is_capped) {
  const CaseDir env;
  std::string entities = "<!ENTITY a0 \"xxxxxxxxxx\">";
  for (int i = 1; i < 6; ++i) {
    const std::string previous = "&a" + std::to_string(i - 1) + ";";
    std::string ten;
    for (int k = 0; k < 10; ++k) ten += previous;
    entities += "<!ENTITY a" + std::to_string(i) + " \"" + ten + "\">";
  }
  const auto problems = problemsOf(env, "<?xml version=\"1.0\"?>\n<!DOCTYPE cpisEngine [" + entities +
                                            "]>\n<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n"
                                            "  <environment>&a5;</environment>\n</cpisEngine>\n");
  BOOST_REQUIRE(!problems.empty());
  BOOST_TEST(problems.front().line == 4u);
  BOOST_TEST(problems.front().message.find("entity expansions") != std::string::npos);
}

// The passphrase file's content reaches only the Secret: not a message, not the printout.
BOOST_AUTO_TEST_CASE(passphrase_never_appears_in_messages_or_printouts) {
  const CaseDir env;
  const std::string tls =
      kCert + kKey + "        <privateKeyPassphraseFile>tls/passphrase</privateKeyPassphraseFile>\n";
  const EngineConfig config = env.loader.loadString(tlsFeed(tls), "case.xml", env.dir.path());
  BOOST_TEST(config.feeds.at(0).listener.tls->privateKeyPassphrase->reveal() == kPassphrase);
  std::ostringstream printed;
  printed << config << *config.feeds.at(0).listener.tls->privateKeyPassphrase;
  BOOST_TEST(printed.str().find(kPassphrase) == std::string::npos);
  BOOST_TEST(printed.str().find("***") != std::string::npos);

  // Loaded, then refused for another reason; the passphrase file given as the configuration
  // itself; the passphrase typed where its file's name belongs, valid path or not.
  const std::string broken = tlsFeed(tls + "        <clientCertificate/>\n");
  for (const auto& xml : {broken, tlsFeed(kCert + kKey + "        <privateKeyPassphraseFile> " +
                                          std::string(kPassphrase) + "</privateKeyPassphraseFile>\n")}) {
    BOOST_TEST(!problemsOf(env, xml).empty());  // problemsOf checks what()
  }
  try {
    (void)env.loader.loadFile(env.dir.path() / "tls/passphrase");
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find(kPassphrase) == std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_SUITE_END()
