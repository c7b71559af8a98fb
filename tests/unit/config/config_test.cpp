#include "engine/config/config.h"

#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/config/config_error.h"

using namespace cpis::config;

namespace {

template <typename T>
std::string print(const T& value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_values)

BOOST_AUTO_TEST_CASE(secret_prints_as_stars_and_reveals_its_value) {
  const Secret secret("correct-horse-battery-staple");
  BOOST_TEST(print(secret) == "***");
  BOOST_TEST(secret.reveal() == "correct-horse-battery-staple");
  BOOST_TEST(!secret.empty());
  BOOST_TEST(Secret().empty());
  BOOST_TEST(print(Secret()) == "***");  // not even whether there is one
}

BOOST_AUTO_TEST_CASE(defaults_are_the_documented_ones) {
  const EngineConfig config;
  BOOST_TEST((config.environment == Environment::Test));
  BOOST_TEST(config.limits.maxMessageBytes == 1048576u);
  BOOST_TEST(config.limits.readTimeout.count() == 30000);
  BOOST_TEST(config.limits.idleTimeout.count() == 600000);
  BOOST_TEST(config.limits.maxConnectionsPerListener == 64u);
  BOOST_TEST(config.store.duplicateWindow.count() == 168);
  BOOST_TEST(config.store.retention.count() == 30);
  BOOST_TEST(config.store.groupCommit);
  BOOST_TEST((config.logging.format == LogFormat::Text));
  BOOST_TEST((config.logging.level == LogLevel::Information));
  BOOST_TEST((TlsConfig().minimumVersion == TlsVersion::Tls12));
  BOOST_TEST((FeedConfig().ackMode == AckMode::Original));
}

BOOST_AUTO_TEST_CASE(enumerations_print_as_the_file_spells_them) {
  BOOST_TEST(toString(Environment::Live) == "LIVE");
  BOOST_TEST(toString(Environment::Test) == "TEST");
  BOOST_TEST(toString(AckMode::Enhanced) == "enhanced");
  BOOST_TEST(toString(LogFormat::Json) == "json");
  BOOST_TEST(toString(LogLevel::Information) == "information");
  BOOST_TEST(toString(LogLevel::Trace) == "trace");
  BOOST_TEST(toString(TlsVersion::Tls13) == "TLSv1.3");
}

BOOST_AUTO_TEST_CASE(effective_configuration_prints_without_the_passphrase) {
  EngineConfig config;
  config.source = "engine.xml";
  FeedConfig feed;
  feed.name = "rzz-ed";
  feed.listener = {"0.0.0.0", 2576, TlsConfig{}};
  feed.listener.tls->privateKeyPassphraseFile = "/etc/cpis-engine/tls/key.passphrase";
  feed.listener.tls->privateKeyPassphrase = Secret("correct-horse-battery-staple");
  config.feeds.push_back(feed);

  const std::string text = print(config);
  BOOST_TEST(text.find("correct-horse") == std::string::npos);
  BOOST_TEST(text.find("(passphrase ***)") != std::string::npos);
  BOOST_TEST(text.find("feed rzz-ed") != std::string::npos);
  BOOST_TEST(text.find("listener 0.0.0.0:2576 (MLLP/TLS)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(find_feed_by_name) {
  EngineConfig config;
  config.feeds.resize(2);
  config.feeds[0].name = "a";
  config.feeds[1].name = "b";
  BOOST_TEST(config.findFeed("b") == &config.feeds[1]);
  BOOST_TEST(config.findFeed("c") == nullptr);
}

BOOST_AUTO_TEST_CASE(config_error_lists_every_problem_one_per_line) {
  const ConfigError error(
      {{"a.xml", 3, 7, "first"}, {"a.xml", 9, 1, "second"}, {"b.xml", 0, 0, "cannot be read"}});
  BOOST_TEST(std::string(error.what()) == "a.xml:3:7: first\na.xml:9:1: second\nb.xml: cannot be read");
  BOOST_TEST(error.problems().size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
