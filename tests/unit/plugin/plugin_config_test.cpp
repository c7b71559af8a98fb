#include "engine/plugin/plugin_config.h"

#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/plugin_error.h"
#include "engine/plugin/plugin_registry.h"
#include "engine/plugin/sink_plugin.h"
#include "tests/unit/plugin/plugin_test_support.h"

using namespace cpis::plugin;
using cpis::plugin::test::pluginDir;

namespace {

PluginRegistry& registry() {
  static PluginRegistry instance({pluginDir()});
  return instance;
}

const PluginLibrary& good() {
  return registry().find(PluginKind::Adapter, "good");
}

// The problems a PluginError lists for creating `library` with `settings` (none: it was created).
std::vector<std::string> problems(const PluginLibrary& library, const PluginSettings& settings) {
  try {
    (void)AdapterPlugin::create(library, settings);
  } catch (const PluginError& e) {
    return e.problems();
  }
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_config)

BOOST_AUTO_TEST_CASE(declared_keys_get_their_values_or_defaults) {
  const PluginConfig config = PluginConfig::validate(good(), {{"site", "RZZ"}, {"require_visit", "false"}});
  BOOST_TEST(*config.find("site") == "RZZ");
  BOOST_TEST(*config.find("require_visit") == "false");
  BOOST_TEST(*config.find("mrn_authority") == "RZZ");   // default
  BOOST_TEST(*config.find("max_repetitions") == "10");  // default
  BOOST_TEST(config.find("colour") == nullptr);
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_refused_by_name) {
  const auto found = problems(good(), {{"site", "RZZ"}, {"colour", "blue"}});
  BOOST_TEST_REQUIRE(found.size() == 1U);
  BOOST_TEST(found[0] ==
             "adapter plugin 'good': unknown configuration key 'colour' (it knows site, mrn_authority, "
             "require_visit, max_repetitions)");
}

BOOST_AUTO_TEST_CASE(a_value_of_the_wrong_type_is_refused_without_echoing_it) {
  const auto found =
      problems(good(), {{"site", "RZZ"}, {"require_visit", "yes"}, {"max_repetitions", "s3cret"}});
  BOOST_TEST_REQUIRE(found.size() == 2U);
  BOOST_TEST(found[0] == "adapter plugin 'good': configuration key 'max_repetitions' must be an integer");
  BOOST_TEST(found[1] == "adapter plugin 'good': configuration key 'require_visit' must be true or false");
}

BOOST_AUTO_TEST_CASE(a_missing_required_key_is_refused) {
  const auto found = problems(good(), {});
  BOOST_TEST_REQUIRE(found.size() == 1U);
  BOOST_TEST(
      found[0] ==
      "adapter plugin 'good': configuration key 'site' is required (ODS site code when PV1-3.4 is empty)");
}

BOOST_AUTO_TEST_CASE(every_problem_is_listed_at_once) {
  BOOST_TEST(problems(good(), {{"colour", "blue"}, {"max_repetitions", "x"}}).size() == 3U);
}

BOOST_AUTO_TEST_CASE(typed_values_follow_the_abi_forms) {
  BOOST_TEST(parseInteger("-42").value() == -42);
  BOOST_TEST(parseInteger("+7").value() == 7);
  BOOST_TEST(!parseInteger("7.5").has_value());
  BOOST_TEST(!parseInteger("").has_value());
  BOOST_TEST(!parseInteger("99999999999999999999").has_value());
  BOOST_TEST(parseBoolean("true").value());
  BOOST_TEST(!parseBoolean("false").value());
  BOOST_TEST(!parseBoolean("TRUE").has_value());
}

BOOST_AUTO_TEST_CASE(a_plugin_may_refuse_its_configuration) {
  const PluginLibrary& throws = registry().find(PluginKind::Adapter, "throws");
  const auto found = problems(throws, {{"throw_in", "create"}});
  BOOST_TEST_REQUIRE(found.size() == 1U);
  BOOST_TEST(found[0] == "adapter plugin 'throws' refused its configuration: refusing to start on purpose");
  const PluginLibrary& c = registry().find(PluginKind::Adapter, "c_example");
  const auto tooLong = problems(c, {{"authority", std::string(40, 'A')}});
  BOOST_TEST_REQUIRE(tooLong.size() == 1U);
  BOOST_TEST(tooLong[0] ==
             "adapter plugin 'c_example' refused its configuration: authority must be under 32 bytes");
}

BOOST_AUTO_TEST_CASE(a_plugin_of_the_other_kind_is_refused) {
  const PluginLibrary& echo = registry().find(PluginKind::Sink, "echo");
  BOOST_CHECK_EXCEPTION((void)AdapterPlugin::create(echo, {}), PluginError, [](const PluginError& e) {
    return std::string(e.what()) == "libcpis-sink-echo.so: sink plugin 'echo' is not an adapter";
  });
  BOOST_CHECK_EXCEPTION(
      (void)SinkPlugin::create(good(), {{"site", "RZZ"}}), PluginError, [](const PluginError& e) {
        return std::string(e.what()) == "libcpis-adapter-good.so: adapter plugin 'good' is not a sink";
      });
}

// <adapter name="edsys" library=".../libcpis-adapter-good.so">: the library of another plugin is
// refused by name, not run under the name the configuration gives it.
BOOST_AUTO_TEST_CASE(a_library_must_be_the_plugin_the_configuration_names) {
  const std::filesystem::path file = std::filesystem::path(pluginDir()) / "libcpis-adapter-good.so";
  BOOST_TEST(registry().named(PluginKind::Adapter, "good", file).name() == "good");
  BOOST_TEST(registry().named(PluginKind::Adapter, "good", std::nullopt).name() == "good");
  BOOST_CHECK_EXCEPTION(
      (void)registry().named(PluginKind::Adapter, "edsys", file), PluginError, [](const PluginError& e) {
        return std::string(e.what()) ==
               "plugin libcpis-adapter-good.so is the adapter 'good', not the adapter 'edsys' the "
               "configuration names: correct the name or the library";
      });
  BOOST_CHECK_THROW((void)registry().named(PluginKind::Sink, "good", file), PluginError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sink_plugin)

BOOST_AUTO_TEST_CASE(a_sink_answers_delivered_retry_or_failed) {
  const auto sink = SinkPlugin::create(registry().find(PluginKind::Sink, "echo"), {{"peer", "the hub"}});
  BOOST_TEST(sink->name() == "echo");
  BOOST_TEST((sink->deliver({{"answer", "ok"}}).kind == DeliveryResult::Kind::Delivered));
  const DeliveryResult retry = sink->deliver({{"answer", "retry"}});
  BOOST_TEST((retry.kind == DeliveryResult::Kind::Retry));
  BOOST_TEST(retry.text == "the hub is down");
  const DeliveryResult failed =
      sink->deliver({{"answer", "no"}, {"idempotency_key", "la-access:rzz-ed:A1:1"}});
  BOOST_TEST((failed.kind == DeliveryResult::Kind::Failed));
  BOOST_TEST(failed.text == "the hub refused la-access:rzz-ed:A1:1");
  const DeliveryResult thrown = sink->deliver({{"answer", "throw"}});
  BOOST_TEST((thrown.kind == DeliveryResult::Kind::Retry));
  BOOST_TEST(thrown.text == "sink exploded on purpose");
}

BOOST_AUTO_TEST_SUITE_END()
