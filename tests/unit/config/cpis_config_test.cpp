// The <cpis> section: the CP-IS client's settings, their defaults, and the rules the loader
// adds to the schema (no simulator in LIVE, mutual TLS for Spine, files that exist).
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/config/config_error.h"
#include "engine/config/config_loader.h"
#include "engine/config/xerces_platform.h"
#include "tests/unit/config/config_test_support.h"

using namespace cpis::config;
namespace fs = std::filesystem;

namespace {

std::string document(std::string_view environment, std::string_view cpis) {
  return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>)") +
         std::string(environment) + R"(</environment>
  <store><sqlite path="cpis.db"/></store>
)" + std::string(cpis) +
         R"(  <feed name="ed"><listener address="127.0.0.1" port="2575"/></feed>
</cpisEngine>
)";
}

struct Fixture {
  XercesPlatform platform;
  ConfigLoader loader{platform};
  cpis::test::TempDir dir{"cpis-config"};

  Fixture() {
    fs::create_directories(dir.path() / "schemas/CPIS/Schemas");
    cpis::test::writeFile(dir, "tls/engine.pem", "certificate");
    cpis::test::writeFile(dir, "tls/engine.key", "key");
    cpis::test::writeFile(dir, "tls/engine.key.passphrase", "correct-horse-battery-staple\n");
    cpis::test::writeFile(dir, "tls/spine-ca.pem", "ca");
  }

  EngineConfig load(std::string_view environment, std::string_view cpis) {
    return loader.loadString(document(environment, cpis), "cpis-test.xml", dir.path());
  }

  // The loader's message when the document is refused ("" when it loads).
  std::string problems(std::string_view environment, std::string_view cpis) {
    try {
      load(environment, cpis);
      return "";
    } catch (const ConfigError& e) {
      return e.what();
    }
  }
};

const std::string kSpine = R"(  <cpis backend="SPINE_V3">
    <endpoint>https://cpis.spine.example:443/syncservice</endpoint>
    <schemaFolder>schemas</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001" fromPartyKey="X26-823849" toPartyKey="YES-0000806"/>
    <clientTls>
      <certificateFile>tls/engine.pem</certificateFile>
      <privateKeyFile>tls/engine.key</privateKeyFile>
      <privateKeyPassphraseFile>tls/engine.key.passphrase</privateKeyPassphraseFile>
      <caFile>tls/spine-ca.pem</caFile>
    </clientTls>
  </cpis>
)";

const std::string kSimulator = R"(  <cpis backend="SIMULATOR">
    <endpoint>http://127.0.0.1:8443/syncservice</endpoint>
    <schemaFolder>schemas</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
)";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cpis_config, Fixture)

BOOST_AUTO_TEST_CASE(no_cpis_section_means_no_checks) {
  const auto config = load("TEST", "");
  BOOST_TEST(!config.cpis.has_value());
}

BOOST_AUTO_TEST_CASE(spine_section_loads_with_defaults) {
  const auto config = load("LIVE", kSpine);
  BOOST_REQUIRE(config.cpis.has_value());
  const CpisConfig& c = *config.cpis;
  BOOST_TEST((c.backend == CpisBackend::SpineV3));
  BOOST_TEST(c.endpoint == "https://cpis.spine.example:443/syncservice");
  BOOST_TEST(c.schemaFolder == dir.path() / "schemas");  // relative to the file
  BOOST_TEST(c.fromAsid == "200000000001");
  BOOST_TEST(c.toAsid == "990000000001");
  BOOST_TEST(c.fromPartyKey == "X26-823849");
  BOOST_TEST(c.toPartyKey == "YES-0000806");
  BOOST_REQUIRE(c.clientTls.has_value());
  BOOST_TEST(c.clientTls->certificateFile == dir.path() / "tls/engine.pem");
  BOOST_TEST(c.clientTls->privateKeyFile == dir.path() / "tls/engine.key");
  BOOST_REQUIRE(c.clientTls->privateKeyPassphrase.has_value());
  BOOST_TEST(c.clientTls->privateKeyPassphrase->reveal() == "correct-horse-battery-staple");
  BOOST_TEST(c.clientTls->caFile.value_or("") == dir.path() / "tls/spine-ca.pem");
  // The defaults (config.h)
  BOOST_TEST(c.timeout.count() == 5000);
  BOOST_TEST(c.retries == 1u);
  BOOST_TEST(c.breakerFailureThreshold == 5u);
  BOOST_TEST(c.breakerOpen.count() == 30000);
  BOOST_TEST(c.maxConcurrent == 32u);
  BOOST_TEST(c.cacheTtl.count() == 0);  // no cache unless asked for
  BOOST_TEST(!c.noRecordsCode.has_value());
  BOOST_TEST(!c.asyncReplies.has_value());
}

BOOST_AUTO_TEST_CASE(every_setting_is_read) {
  const auto config = load("TEST", R"(  <cpis backend="SIMULATOR" timeoutMs="1500" retries="3" maxConcurrent="8"
        cacheTtlMs="2000" noRecordsCode="NRF01">
    <endpoint>http://127.0.0.1:8443/syncservice</endpoint>
    <schemaFolder>schemas</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
    <circuitBreaker failureThreshold="3" openMs="10000"/>
    <asyncReplies path="/replies" replyTo="http://127.0.0.1:8444/replies">
      <listener address="127.0.0.1" port="8444"/>
    </asyncReplies>
  </cpis>
)");
  const CpisConfig& c = config.cpis.value();
  BOOST_TEST((c.backend == CpisBackend::Simulator));
  BOOST_TEST(c.timeout.count() == 1500);
  BOOST_TEST(c.retries == 3u);
  BOOST_TEST(c.maxConcurrent == 8u);
  BOOST_TEST(c.cacheTtl.count() == 2000);
  BOOST_TEST(c.noRecordsCode.value_or("") == "NRF01");
  BOOST_TEST(c.breakerFailureThreshold == 3u);
  BOOST_TEST(c.breakerOpen.count() == 10000);
  BOOST_REQUIRE(c.asyncReplies.has_value());
  BOOST_TEST(c.asyncReplies->path == "/replies");
  BOOST_TEST(c.asyncReplies->replyTo == "http://127.0.0.1:8444/replies");
  BOOST_TEST(c.asyncReplies->listener.port == 8444);
  BOOST_TEST(!c.clientTls.has_value());
}

BOOST_AUTO_TEST_CASE(simulator_is_refused_in_live) {
  const std::string message = problems("LIVE", kSimulator);
  BOOST_TEST(message.find("cpis-test.xml:5:") != std::string::npos, message);
  BOOST_TEST(message.find("SIMULATOR\" is refused when environment is LIVE") != std::string::npos, message);
  BOOST_TEST(problems("TEST", kSimulator).empty());
}

// CPIS.md §8: lookupTimeoutMs < ackDeadlineMs, checked as the file loads, defaults counted.
BOOST_AUTO_TEST_CASE(the_ack_deadline_must_exceed_the_lookup_time_out) {
  cpis::test::writeFile(dir, "ed.xml", "<mapping/>");
  const auto withCheck = [&](std::string_view cpisAttributes, std::string_view checkAttributes) {
    std::string cpis = kSimulator;
    cpis.replace(cpis.find("backend"), 0, std::string(cpisAttributes) + " ");
    return std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="cpis.db"/></store>
)") + cpis + R"(  <feed name="ed">
    <listener address="127.0.0.1" port="2575"/>
    <mapping file="ed.xml"/>
    <check )" + std::string(checkAttributes) + R"(>
      <author odsCode="RZZ01" organisation="Trust" person="Lead" jobRoleCode="R0260" jobRoleName="Nurse"/>
    </check>
  </feed>
</cpisEngine>
)";
  };
  const auto refusal = [&](const std::string& text) {
    try {
      (void)loader.loadString(text, "cpis-test.xml", dir.path());
      return std::string();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
  };
  const EngineConfig defaults = loader.loadString(withCheck("", ""), "cpis-test.xml", dir.path());
  BOOST_TEST_REQUIRE(defaults.feeds.front().check.has_value());
  BOOST_TEST(defaults.feeds.front().check->ackDeadline.count() == 15000);
  const EngineConfig set = loader.loadString(withCheck("timeoutMs=\"2000\"", "ackDeadlineMs=\"2500\""), "cpis-test.xml", dir.path());
  BOOST_TEST(set.feeds.front().check->ackDeadline.count() == 2500);

  const std::string equal = refusal(withCheck("timeoutMs=\"5000\"", "ackDeadlineMs=\"5000\""));
  BOOST_TEST(equal.find("cpis-test.xml:13:") != std::string::npos, equal);  // the <check> element
  BOOST_TEST(equal.find("ackDeadlineMs (5000) must exceed the cpis element's timeoutMs (5000)") != std::string::npos, equal);
  const std::string byDefault = refusal(withCheck("timeoutMs=\"20000\"", ""));
  BOOST_TEST(byDefault.find("ackDeadlineMs (15000) must exceed the cpis element's timeoutMs (20000)") != std::string::npos,
             byDefault);
}

BOOST_AUTO_TEST_CASE(spine_needs_mutual_tls_and_https) {
  const std::string noTls = R"(  <cpis backend="SPINE_V3">
    <endpoint>http://cpis.spine.example/syncservice</endpoint>
    <schemaFolder>schemas</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
  </cpis>
)";
  const std::string message = problems("LIVE", noTls);
  BOOST_TEST(message.find("over https only") != std::string::npos, message);
  BOOST_TEST(message.find("needs clientTls") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(missing_files_and_schema_folder_are_named) {
  std::string broken = kSpine;
  broken.replace(broken.find("<schemaFolder>schemas"), 21, "<schemaFolder>nowhere");
  broken.replace(broken.find("tls/engine.pem"), 14, "tls/absent.pem");
  const std::string message = problems("LIVE", broken);
  BOOST_TEST(message.find("schemaFolder: no CPIS/Schemas folder in") != std::string::npos, message);
  BOOST_TEST(message.find("certificateFile: no such file") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(schema_checks_asids_and_ranges) {
  std::string badAsid = kSimulator;
  badAsid.replace(badAsid.find("200000000001"), 12, "12345");
  BOOST_TEST(problems("TEST", badAsid).find("fromAsid") != std::string::npos);
  std::string longCache = kSimulator;
  longCache.replace(longCache.find("backend="), 8, "cacheTtlMs=\"600000\" backend=");
  BOOST_TEST(problems("TEST", longCache).find("cacheTtlMs") != std::string::npos);
  std::string tooManyRetries = kSimulator;
  tooManyRetries.replace(tooManyRetries.find("backend="), 8, "retries=\"9\" backend=");
  BOOST_TEST(problems("TEST", tooManyRetries).find("retries") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reply_listener_may_not_clash_with_a_feed) {
  const std::string clash = R"(  <cpis backend="SIMULATOR">
    <endpoint>http://127.0.0.1:8443/syncservice</endpoint>
    <schemaFolder>schemas</schemaFolder>
    <identity fromAsid="200000000001" toAsid="990000000001"/>
    <asyncReplies replyTo="http://127.0.0.1:2575/cpis/replies">
      <listener address="0.0.0.0" port="2575"/>
    </asyncReplies>
  </cpis>
)";
  const std::string message = problems("TEST", clash);
  BOOST_TEST(message.find("clashes with feed 'ed'") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(effective_configuration_hides_the_passphrase) {
  std::ostringstream out;
  out << load("LIVE", kSpine);
  const std::string text = out.str();
  BOOST_TEST(text.find("cpis SPINE_V3 https://cpis.spine.example:443/syncservice") != std::string::npos, text);
  BOOST_TEST(text.find("correct-horse") == std::string::npos);
  BOOST_TEST(text.find("(passphrase ***)") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
