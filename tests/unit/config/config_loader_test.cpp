#include "engine/config/config_loader.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/config/embedded_schema.h"
#include "engine/config/xerces_platform.h"
#include "tests/unit/config/config_test_support.h"

using namespace cpis::config;
namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = CPIS_SOURCE_DIR;
const fs::path kSamples = kSourceDir / "engine/config/samples";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct LoaderFixture {
  XercesPlatform platform;
  ConfigLoader loader{platform};
};

// The TLS sample expects these beside it; contents do not matter to the loader.
void writeTlsFiles(const cpis::test::TempDir& dir) {
  cpis::test::writeFile(dir, "tls/cpis-engine.crt.pem", "certificate");
  cpis::test::writeFile(dir, "tls/cpis-engine.key.pem", "key");
  cpis::test::writeFile(dir, "tls/cpis-engine.key.passphrase", "correct-horse-battery-staple\n");
  cpis::test::writeFile(dir, "tls/clients-ca.pem", "ca");
}

const char* const kMinimal = R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>LIVE</environment>
  <store><sqlite path="data/cpis.db"/></store>
  <feed name="only"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(config_loader, LoaderFixture)

BOOST_AUTO_TEST_CASE(demo_sample_loads_with_its_values) {
  const EngineConfig config = loader.loadFile(kSamples / "cpis-engine.xml");
  BOOST_TEST(config.source == (kSamples / "cpis-engine.xml").string());
  BOOST_TEST((config.environment == Environment::Test));
  BOOST_TEST(config.store.sqlitePath == kSamples / "var/cpis-engine.db");  // beside the file
  BOOST_TEST(config.store.duplicateWindow.count() == 168);
  BOOST_TEST(config.store.retention.count() == 30);
  BOOST_TEST(config.store.groupCommit);
  BOOST_TEST(config.limits.maxMessageBytes == 1048576u);
  BOOST_TEST(config.limits.readTimeout.count() == 30000);
  BOOST_TEST(config.limits.idleTimeout.count() == 600000);
  BOOST_TEST(config.limits.maxConnectionsPerListener == 64u);
  BOOST_TEST((config.logging.format == LogFormat::Text));
  BOOST_TEST((config.logging.level == LogLevel::Information));
  BOOST_REQUIRE(config.feeds.size() == 1u);
  const FeedConfig& feed = config.feeds[0];
  BOOST_TEST(feed.name == "demo-adt");
  BOOST_TEST(feed.expectedSendingApplication.value_or("") == "DEMO-EPR");
  BOOST_TEST(feed.expectedSendingFacility.value_or("") == "RZZ");
  BOOST_TEST(feed.listener.address == "127.0.0.1");
  BOOST_TEST(feed.listener.port == 2575);
  BOOST_TEST(!feed.listener.tls);
  BOOST_TEST((feed.ackMode == AckMode::Original));
  BOOST_TEST(!feed.returnConnection);
  BOOST_TEST(!feed.adapter);
  BOOST_TEST(!feed.mappingFile);
}

BOOST_AUTO_TEST_CASE(tls_sample_loads_where_its_files_exist) {
  const cpis::test::TempDir dir("cpis-config-test");
  writeTlsFiles(dir);
  const fs::path file =
      cpis::test::writeFile(dir, "cpis-engine.xml", readFile(kSamples / "cpis-engine-tls.xml"));
  const fs::path tls = dir.path() / "tls";

  const EngineConfig config = loader.loadFile(file);
  BOOST_TEST((config.environment == Environment::Live));
  BOOST_TEST(config.store.sqlitePath == "/var/lib/cpis-engine/cpis-engine.db");
  BOOST_TEST(config.store.groupCommit);  // on by default
  BOOST_TEST(config.limits.maxMessageBytes == 1048576u);
  BOOST_TEST(config.limits.idleTimeout.count() == 900000);
  BOOST_TEST(config.limits.maxConnectionsPerListener == 16u);
  BOOST_TEST((config.logging.format == LogFormat::Json));
  BOOST_TEST((config.logging.level == LogLevel::Notice));
  BOOST_REQUIRE(config.feeds.size() == 2u);

  const FeedConfig& ed = config.feeds[0];
  BOOST_TEST(ed.name == "rzz-ed");
  BOOST_TEST(ed.listener.address == "0.0.0.0");
  BOOST_TEST(ed.listener.port == 2576);
  BOOST_REQUIRE(ed.listener.tls);
  const TlsConfig& edTls = *ed.listener.tls;
  BOOST_TEST(edTls.certificateFile == tls / "cpis-engine.crt.pem");
  BOOST_TEST(edTls.privateKeyFile == tls / "cpis-engine.key.pem");
  BOOST_TEST(edTls.privateKeyPassphraseFile.value_or("") == tls / "cpis-engine.key.passphrase");
  BOOST_REQUIRE(edTls.privateKeyPassphrase);
  BOOST_TEST(edTls.privateKeyPassphrase->reveal() == "correct-horse-battery-staple");  // line end dropped
  BOOST_TEST(edTls.caFile.value_or("") == tls / "clients-ca.pem");
  BOOST_TEST(edTls.requireClientCertificate);
  BOOST_TEST(edTls.allowedClientSubjects ==
             std::vector<std::string>{"CN=edsys.rzz.example.nhs.uk,O=Example NHS Trust,C=GB"});
  BOOST_TEST((edTls.minimumVersion == TlsVersion::Tls12));
  BOOST_TEST((ed.ackMode == AckMode::Enhanced));
  BOOST_REQUIRE(ed.returnConnection);
  BOOST_TEST(ed.returnConnection->host == "edsys.rzz.example.nhs.uk");
  BOOST_TEST(ed.returnConnection->port == 2577);
  BOOST_TEST(ed.returnConnection->maxWaiting == 10'000u);  // the default

  const FeedConfig& maternity = config.feeds[1];
  BOOST_TEST(maternity.name == "rzz-maternity");
  BOOST_REQUIRE(maternity.listener.tls);
  BOOST_TEST(!maternity.listener.tls->caFile);
  BOOST_TEST(!maternity.listener.tls->requireClientCertificate);
  BOOST_TEST((maternity.listener.tls->minimumVersion == TlsVersion::Tls13));
  BOOST_TEST((maternity.ackMode == AckMode::Original));
}

BOOST_AUTO_TEST_CASE(tls_sample_in_place_names_each_missing_file_by_line) {
  // The sample's tls/ files exist only on a real installation.
  try {
    (void)loader.loadFile(kSamples / "cpis-engine-tls.xml");
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    std::vector<std::uint64_t> lines;
    for (const auto& problem : e.problems()) {
      lines.push_back(problem.line);
      BOOST_TEST(problem.message.find("no such file") != std::string::npos);
    }
    BOOST_TEST(lines == (std::vector<std::uint64_t>{22, 23, 24, 25, 41, 42, 43}));
  }
}

BOOST_AUTO_TEST_CASE(omitted_settings_take_the_defaults) {
  const cpis::test::TempDir dir("cpis-config-test");
  const EngineConfig config = loader.loadString(kMinimal, "minimal.xml", dir.path());
  EngineConfig expected;
  expected.source = "minimal.xml";
  expected.environment = Environment::Live;
  expected.store.sqlitePath = dir.path() / "data/cpis.db";
  FeedConfig feed;
  feed.name = "only";
  feed.listener = {"127.0.0.1", 0, std::nullopt, 5};  // <listener> is on line 5
  expected.feeds.push_back(feed);
  BOOST_TEST((config == expected), "loaded:\n" << config << "expected:\n" << expected);
}

BOOST_AUTO_TEST_CASE(notifications_are_read_with_their_sinks_and_default_when_left_out) {
  const cpis::test::TempDir dir("cpis-config-test");
  const char* const xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="cpis.db"/></store>
  <notify pollMs="250" maxAttempts="4" backoffMinMs="200" backoffMaxMs="9000" deferredChecks="false"
          deferredCheckHours="6" deliveryHours="48">
    <sink name="safeguarding" plugin="webhook" events="plan-found  check-failed cancelled" data="identifiers"
          concurrency="3" ordered="true" maxAttempts="7">
      <setting name="url" value="https://safeguarding.example.nhs.uk/hook"/>
    </sink>
    <sink name="mail" plugin="smtp" events="check-abandoned"/>
  </notify>
  <feed name="ed">
    <listener address="127.0.0.1" port="0"/>
    <acknowledgement mode="original"><returnConnection host="epr" port="2577" maxWaiting="500"/></acknowledgement>
  </feed>
</cpisEngine>
)";
  const EngineConfig config = loader.loadString(xml, "notify.xml", dir.path());
  BOOST_TEST(config.feeds.at(0).returnConnection->maxWaiting == 500u);
  BOOST_TEST(config.notify.poll.count() == 250);
  BOOST_TEST(config.notify.maxAttempts == 4u);
  BOOST_TEST(config.notify.backoffMin.count() == 200);
  BOOST_TEST(config.notify.backoffMax.count() == 9000);
  BOOST_TEST(!config.notify.deferredChecks);
  BOOST_TEST(config.notify.deferredCheckDeadline.count() == 6);
  BOOST_TEST(config.notify.deliveryDeadline.count() == 48);
  BOOST_REQUIRE(config.notify.sinks.size() == 2u);
  const NotifySinkConfig& hook = config.notify.sinks[0];
  BOOST_TEST(hook.name == "safeguarding");
  BOOST_TEST(hook.plugin == "webhook");
  BOOST_TEST(hook.events == (std::vector<std::string>{"plan-found", "check-failed", "cancelled"}),
             boost::test_tools::per_element());
  BOOST_TEST(hook.data == "identifiers");
  BOOST_TEST(hook.concurrency == 3u);
  BOOST_TEST(hook.ordered);
  BOOST_TEST(hook.maxAttempts.value_or(0) == 7u);
  BOOST_TEST(hook.settings.at("url") == "https://safeguarding.example.nhs.uk/hook");
  const NotifySinkConfig& mail = config.notify.sinks[1];
  BOOST_TEST(mail.data == "minimal");  // the default carries the least
  BOOST_TEST(mail.concurrency == 1u);
  BOOST_TEST(!mail.ordered);
  BOOST_TEST(!mail.maxAttempts.has_value());
  // Original mode may name a return connection: late results go over it.
  BOOST_TEST((config.feeds.at(0).ackMode == AckMode::Original));
  BOOST_TEST(config.feeds.at(0).returnConnection.value_or(ReturnConnectionConfig{}).port == 2577);
  // The printout names the sink settings' keys, never their values.
  std::ostringstream printed;
  printed << config;
  BOOST_TEST(printed.str().find("sink safeguarding plugin webhook") != std::string::npos, printed.str());
  BOOST_TEST(printed.str().find("safeguarding.example.nhs.uk") == std::string::npos, printed.str());

  const EngineConfig defaults = loader.loadString(kMinimal, "minimal.xml", dir.path());
  BOOST_TEST((defaults.notify == NotifyConfig{}));
  BOOST_TEST(defaults.notify.deferredChecks);
  BOOST_TEST(defaults.notify.deferredCheckDeadline.count() == 24);
  // CPIS.md §7: retried with back-off for a grace period (24 h), not a handful of attempts
  BOOST_TEST(defaults.notify.deliveryDeadline.count() == 24);
  BOOST_TEST(defaults.notify.maxAttempts == 0u);
}

BOOST_AUTO_TEST_CASE(a_postgresql_store_is_read_with_its_password_from_its_file) {
  const cpis::test::TempDir dir("cpis-config-test");
  cpis::test::writeFile(dir, "secrets/pg-password", "pg-s3cret\n");
  const char* const xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>LIVE</environment>
  <store>
    <postgresql connection="host=db.example port=5432 dbname=cpis user=cpis_engine"
                passwordFile="secrets/pg-password" instance="engine-a" claimLeaseSeconds="30"/>
  </store>
  <feed name="only"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";
  const EngineConfig config = loader.loadString(xml, "pg.xml", dir.path());
  BOOST_REQUIRE(config.store.postgresql.has_value());
  const auto& pg = *config.store.postgresql;
  BOOST_TEST(pg.connection == "host=db.example port=5432 dbname=cpis user=cpis_engine");
  BOOST_TEST(pg.passwordFile.value() == dir.path() / "secrets/pg-password");
  BOOST_TEST(pg.password.value().reveal() == "pg-s3cret");
  BOOST_TEST(pg.instance == "engine-a");
  BOOST_TEST(pg.claimLease.count() == 30);
  std::ostringstream printed;
  printed << config;
  BOOST_TEST(printed.str().find("postgresql \"host=db.example") != std::string::npos);
  BOOST_TEST(printed.str().find("password ***") != std::string::npos);
  BOOST_TEST(printed.str().find("pg-s3cret") == std::string::npos);
  // defaults
  const char* const minimal = R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><postgresql connection="dbname=cpis"/></store>
  <feed name="only"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";
  const auto defaults = loader.loadString(minimal, "pg-defaults.xml", dir.path()).store.postgresql.value();
  BOOST_TEST(!defaults.password.has_value());
  BOOST_TEST(defaults.instance.empty());
  BOOST_TEST(defaults.claimLease.count() == 60);
}

BOOST_AUTO_TEST_CASE(a_postgresql_password_in_the_wrong_place_is_refused_and_never_quoted) {
  const cpis::test::TempDir dir("cpis-config-test");
  const auto problemsOf = [&](const std::string& attributes) {
    const std::string xml = std::string(R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><postgresql )") + attributes + R"(/></store>
  <feed name="only"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";
    try {
      (void)loader.loadString(xml, "pg.xml", dir.path());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const auto inString = problemsOf(R"(connection="host=db dbname=cpis password=typed-here")");
  BOOST_TEST(inString.find("pg.xml:4:") != std::string::npos);
  BOOST_TEST(inString.find("passwordFile") != std::string::npos);
  BOOST_TEST(inString.find("typed-here") == std::string::npos);
  const auto asFileName = problemsOf(R"(connection="dbname=cpis" passwordFile="typed-here-too")");
  BOOST_TEST(asFileName.find("passwordFile: no such file") != std::string::npos);
  BOOST_TEST(asFileName.find("typed-here-too") == std::string::npos);
  BOOST_TEST(!problemsOf(R"(connection="dbname=cpis" claimLeaseSeconds="1")").empty());  // at least 5
  // A password in a URI's user information is refused too, and neither it nor the string shown.
  const auto inUri = problemsOf(R"(connection="postgresql://cpis_engine:Hunter2Secret@127.0.0.1:5432/cpis")");
  BOOST_TEST(inUri.find("passwordFile") != std::string::npos, inUri);
  BOOST_TEST(inUri.find("Hunter2Secret") == std::string::npos, inUri);
  BOOST_TEST(problemsOf(R"(connection="postgresql://cpis_engine@127.0.0.1:5432/cpis")").empty());
  const auto withQuestionMark = problemsOf(R"(connection="postgresql://cpis:Hunter?2@127.0.0.1:5432/cpis")");
  BOOST_TEST(withQuestionMark.find("passwordFile") != std::string::npos, withQuestionMark);
  // Values the schema refuses are not quoted either when they may hold a secret.
  for (const auto* attributes : {R"(connection=" host=db password=Hunter2Secret")", R"(passwordFile="Hunter2Secret ")"}) {
    const auto refused = problemsOf(attributes);
    BOOST_TEST(!refused.empty(), attributes);
    BOOST_TEST(refused.find("Hunter2Secret") == std::string::npos, refused);
  }
}

BOOST_AUTO_TEST_CASE(every_setting_is_read) {
  const cpis::test::TempDir dir("cpis-config-test");
  cpis::test::writeFile(dir, "keys/server.pem", "certificate");
  cpis::test::writeFile(dir, "keys/server.key", "key");
  cpis::test::writeFile(dir, "keys/passphrase", "s3cret\r\n");
  cpis::test::writeFile(dir, "keys/ca.pem", "ca");
  cpis::test::writeFile(dir, "mappings/edsys.xml", "<mapping/>");
  const char* const xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment> TEST </environment>
  <store duplicateWindowHours="48" retentionDays="14" groupCommit="false">
    <sqlite path="/srv/cpis/engine.db"/>
  </store>
  <limits maxMessageBytes="65536" readTimeoutMs="5000" idleTimeoutMs="5000" maxConnectionsPerListener="3"/>
  <logging format="json" level="trace"/>
  <feed name="rzz-ed.1">
    <expectedSender application="EDSYS" facility="RZZ^1.2.3^ISO"/>
    <listener address="::1" port="65535">
      <tls minimumVersion="TLSv1.3">
        <certificateFile>keys/server.pem</certificateFile>
        <privateKeyFile>./keys/../keys/server.key</privateKeyFile>
        <privateKeyPassphraseFile>keys/passphrase</privateKeyPassphraseFile>
        <caFile>keys/ca.pem</caFile>
        <clientCertificate>
          <allowedSubject>CN=a.example,O=A</allowedSubject>
          <allowedSubject>
            CN=b.example,O=B
          </allowedSubject>
        </clientCertificate>
      </tls>
    </listener>
    <acknowledgement mode="enhanced">
      <returnConnection host="epr.example.nhs.uk" port="1"/>
    </acknowledgement>
    <adapter name="edsys">
      <setting name="mrn_authority" value="RZZ"/>
      <setting name="empty" value=""/>
    </adapter>
    <mapping file="mappings/edsys.xml"/>
  </feed>
  <feed name="b"><listener address="127.0.0.1" port="0"/></feed>
</cpisEngine>
)";
  const EngineConfig config = loader.loadString(xml, "full.xml", dir.path());
  BOOST_TEST((config.environment == Environment::Test));
  BOOST_TEST(config.store.sqlitePath == "/srv/cpis/engine.db");
  BOOST_TEST(config.store.duplicateWindow.count() == 48);
  BOOST_TEST(config.store.retention.count() == 14);
  BOOST_TEST(!config.store.groupCommit);
  BOOST_TEST(config.limits.maxMessageBytes == 65536u);
  BOOST_TEST(config.limits.readTimeout.count() == 5000);
  BOOST_TEST(config.limits.idleTimeout.count() == 5000);  // equal is allowed
  BOOST_TEST(config.limits.maxConnectionsPerListener == 3u);
  BOOST_TEST((config.logging.format == LogFormat::Json));
  BOOST_TEST((config.logging.level == LogLevel::Trace));
  BOOST_REQUIRE(config.feeds.size() == 2u);
  const FeedConfig& feed = config.feeds[0];
  BOOST_TEST(feed.name == "rzz-ed.1");
  BOOST_TEST(feed.expectedSendingApplication.value_or("") == "EDSYS");
  BOOST_TEST(feed.expectedSendingFacility.value_or("") == "RZZ^1.2.3^ISO");
  BOOST_TEST(feed.listener.address == "::1");
  BOOST_TEST(feed.listener.port == 65535);
  BOOST_REQUIRE(feed.listener.tls);
  BOOST_TEST(feed.listener.tls->certificateFile == dir.path() / "keys/server.pem");
  BOOST_TEST(feed.listener.tls->privateKeyFile == dir.path() / "keys/server.key");  // normalised
  BOOST_TEST(feed.listener.tls->privateKeyPassphrase.value_or(Secret()).reveal() == "s3cret");
  BOOST_TEST(feed.listener.tls->requireClientCertificate);  // required defaults to true
  BOOST_TEST(feed.listener.tls->allowedClientSubjects ==
             (std::vector<std::string>{"CN=a.example,O=A", "CN=b.example,O=B"}));
  BOOST_TEST((feed.listener.tls->minimumVersion == TlsVersion::Tls13));
  BOOST_TEST((feed.ackMode == AckMode::Enhanced));
  BOOST_TEST(feed.returnConnection.value_or(ReturnConnectionConfig{}).host == "epr.example.nhs.uk");
  BOOST_TEST(feed.returnConnection.value_or(ReturnConnectionConfig{}).port == 1);
  BOOST_REQUIRE(feed.adapter);
  BOOST_TEST(feed.adapter->name == "edsys");
  BOOST_TEST(feed.adapter->settings.size() == 2u);
  BOOST_TEST(feed.adapter->settings.at("mrn_authority") == "RZZ");
  BOOST_TEST(feed.adapter->settings.at("empty") == "");
  BOOST_TEST(feed.mappingFile.value_or("") == dir.path() / "mappings/edsys.xml");
}

BOOST_AUTO_TEST_CASE(listeners_on_port_zero_never_clash) {
  const cpis::test::TempDir dir("cpis-config-test");
  const char* const xml = R"(<?xml version="1.0"?>
<cpisEngine xmlns="urn:cpis-engine:config:1">
  <environment>TEST</environment>
  <store><sqlite path="x.db"/></store>
  <feed name="a"><listener address="127.0.0.1" port="0"/></feed>
  <feed name="b"><listener address="127.0.0.1" port="0"/></feed>
  <feed name="c"><listener address="0.0.0.0" port="0"/></feed>
  <feed name="d"><listener address="127.0.0.1" port="2575"/></feed>
  <feed name="e"><listener address="127.0.0.2" port="2575"/></feed>
</cpisEngine>
)";
  BOOST_TEST(loader.loadString(xml, "ports.xml", dir.path()).feeds.size() == 5u);
}

BOOST_AUTO_TEST_CASE(xml_niceties_are_accepted) {
  const cpis::test::TempDir dir("cpis-config-test");
  // A byte-order mark, a namespace prefix, comments, a declared Latin-1 encoding, and an
  // xsi:schemaLocation hint (ignored: only the engine's schema counts).
  const std::string xml =
      "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n"
      "<!-- comment -->\n"
      "<c:cpisEngine xmlns:c=\"urn:cpis-engine:config:1\"\n"
      "    xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
      "    xsi:schemaLocation=\"urn:cpis-engine:config:1 http://example.invalid/none.xsd\">\n"
      "  <c:environment>TEST</c:environment>\n"
      "  <c:store><c:sqlite path=\"caf\xC3\xA9.db\"/></c:store>\n"
      "  <c:feed name=\"a\"><c:listener address=\"127.0.0.1\" port=\"0\"/></c:feed>\n"
      "</c:cpisEngine>\n";
  BOOST_TEST(loader.loadString(xml, "prefixed.xml", dir.path()).store.sqlitePath ==
             dir.path() / "caf\xC3\xA9.db");

  const std::string latin1 =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
      "<cpisEngine xmlns=\"urn:cpis-engine:config:1\">\n"
      "  <environment>TEST</environment>\n"
      "  <store><sqlite path=\"caf\xE9.db\"/></store>\n"
      "  <feed name=\"a\"><listener address=\"127.0.0.1\" port=\"0\"/></feed>\n"
      "</cpisEngine>\n";
  BOOST_TEST(loader.loadString(latin1, "latin1.xml", dir.path()).store.sqlitePath ==
             dir.path() / "caf\xC3\xA9.db");
}

BOOST_AUTO_TEST_CASE(loads_may_run_concurrently) {
  const EngineConfig expected = loader.loadFile(kSamples / "cpis-engine.xml");
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (!(loader.loadFile(kSamples / "cpis-engine.xml") == expected)) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_TEST(mismatches == std::vector<int>(4, 0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_schema)

BOOST_AUTO_TEST_CASE(embedded_schema_is_the_file_byte_for_byte) {
  BOOST_TEST(embeddedSchema() == readFile(kSourceDir / "engine/config/cpis-engine.xsd"));
}

BOOST_AUTO_TEST_CASE(schema_from_a_file_validates_like_the_embedded_one) {
  const XercesPlatform platform;
  const ConfigLoader fromFile(platform, kSourceDir / "engine/config/cpis-engine.xsd");
  const ConfigLoader embedded(platform);
  BOOST_TEST(
      (fromFile.loadFile(kSamples / "cpis-engine.xml") == embedded.loadFile(kSamples / "cpis-engine.xml")));
  BOOST_CHECK_THROW((void)fromFile.loadString("<cpisEngine/>", "bad.xml"), ConfigError);
}

BOOST_AUTO_TEST_CASE(missing_schema_file_is_refused_not_replaced) {
  const XercesPlatform platform;
  try {
    const ConfigLoader loader(platform, "/nonexistent/cpis-engine.xsd");
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "/nonexistent/cpis-engine.xsd: cannot be read: No such file or directory");
  }
}

BOOST_AUTO_TEST_CASE(broken_schema_is_refused_with_its_positions) {
  const cpis::test::TempDir dir("cpis-config-test");
  const fs::path schema = cpis::test::writeFile(dir, "broken.xsd", R"(<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="a" type="NoSuchType"/>
</xs:schema>
)");
  const XercesPlatform platform;
  try {
    const ConfigLoader loader(platform, schema);
    BOOST_FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    BOOST_REQUIRE(!e.problems().empty());
    BOOST_TEST(e.problems().front().file == schema.string());
    BOOST_TEST(e.problems().front().line == 3u);
  }
}

BOOST_AUTO_TEST_CASE(platform_guards_nest) {
  const XercesPlatform outer;
  {
    const XercesPlatform inner;
    const ConfigLoader loader(inner);
    BOOST_TEST(loader.loadFile(kSamples / "cpis-engine.xml").feeds.size() == 1u);
  }
  const ConfigLoader loader(outer);  // Xerces is still up: the outer guard holds it
  BOOST_TEST(loader.loadFile(kSamples / "cpis-engine.xml").feeds.size() == 1u);
}

// docs/configuration.md must describe every element (as `<name>`) and attribute (as `name`).
BOOST_AUTO_TEST_CASE(documentation_names_every_element_and_attribute) {
  const std::string schema = readFile(kSourceDir / "engine/config/cpis-engine.xsd");
  const std::string docs = readFile(kSourceDir / "docs/configuration.md");
  // Plain string search: std::regex trips a g++ 12 -Wmaybe-uninitialized false positive at -O1.
  std::set<std::string> missing;
  int declarations = 0;
  for (const std::string kind : {"element", "attribute"}) {
    const std::string opening = "<xs:" + kind + " name=\"";
    for (auto at = schema.find(opening); at != std::string::npos; at = schema.find(opening, at + 1)) {
      const auto begin = at + opening.size();
      const std::string name = schema.substr(begin, schema.find('"', begin) - begin);
      ++declarations;
      const std::string expected = kind == "element" ? "`<" + name : "`" + name + "`";
      if (docs.find(expected) == std::string::npos) missing.insert(expected);
    }
  }
  BOOST_TEST(declarations > 30);
  BOOST_TEST(
      missing.empty(), "not in docs/configuration.md: " << [&] {
        std::string all;
        for (const auto& m : missing) all += m + " ";
        return all;
      }());
}

BOOST_AUTO_TEST_SUITE_END()
