#include "engine/plugin/plugin_loader.h"

#include <dlfcn.h>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/plugin/plugin_error.h"
#include "engine/plugin/plugin_registry.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/plugin/plugin_test_support.h"

using namespace cpis::plugin;
using cpis::plugin::test::adapterFile;
using cpis::plugin::test::pluginDir;

namespace {

// The text of the PluginError that loading `file` throws ("" when it loads).
std::string refusal(const std::filesystem::path& file) {
  try {
    (void)PluginLoader::load(file);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "";
}

const std::string kEngineAbi =
    std::to_string(CPIS_PLUGIN_ABI_MAJOR) + "." + std::to_string(CPIS_PLUGIN_ABI_MINOR);

}  // namespace

BOOST_AUTO_TEST_SUITE(plugin_loader)

BOOST_AUTO_TEST_CASE(a_good_adapter_loads_and_describes_itself) {
  const auto library = PluginLoader::load(adapterFile("good"));
  BOOST_TEST(library->name() == "good");
  BOOST_TEST(library->version() == "1.2.3");
  BOOST_TEST(library->fileName() == "libcpis-adapter-good.so");
  BOOST_TEST((library->kind() == PluginKind::Adapter));
  BOOST_TEST(library->abiMajor() == static_cast<std::uint32_t>(CPIS_PLUGIN_ABI_MAJOR));
  BOOST_TEST(library->abiMinor() == static_cast<std::uint32_t>(CPIS_PLUGIN_ABI_MINOR));
  BOOST_TEST_REQUIRE(library->configKeys().size() == 4U);
  const ConfigKeySpec* site = library->findKey("site");
  BOOST_TEST_REQUIRE(site != nullptr);
  BOOST_TEST(!site->defaultValue.has_value());  // required
  const ConfigKeySpec* limit = library->findKey("max_repetitions");
  BOOST_TEST_REQUIRE(limit != nullptr);
  BOOST_TEST((limit->type == ConfigType::Integer));
  BOOST_TEST(limit->defaultValue.value() == "10");
  BOOST_TEST(library->descriptor().compose_alerts != nullptr);
}

BOOST_AUTO_TEST_CASE(an_adapter_in_c_loads) {
  const auto library = PluginLoader::load(adapterFile("c_example"));
  BOOST_TEST(library->name() == "c_example");
  BOOST_TEST(library->version() == "0.1.0");
}

BOOST_AUTO_TEST_CASE(an_adapter_without_compose_alerts_and_keys_leaves_both_empty) {
  const auto library = PluginLoader::load(adapterFile("minimal"));
  BOOST_TEST(library->configKeys().empty());
  BOOST_TEST(library->descriptor().config_keys == nullptr);
  BOOST_TEST(library->descriptor().compose_alerts == nullptr);
}

BOOST_AUTO_TEST_CASE(another_abi_major_is_refused_naming_the_file_and_both_versions) {
  BOOST_TEST(refusal(adapterFile("wrongabi")) ==
             "cannot load libcpis-adapter-wrongabi.so: built for plugin ABI 2.0, this engine provides " +
                 kEngineAbi + "; rebuild it with this engine's SDK");
}

BOOST_AUTO_TEST_CASE(a_newer_abi_minor_is_refused) {
  const std::string newer =
      std::to_string(CPIS_PLUGIN_ABI_MAJOR) + "." + std::to_string(CPIS_PLUGIN_ABI_MINOR + 1);
  BOOST_TEST(refusal(adapterFile("newerminor")) ==
             "cannot load libcpis-adapter-newerminor.so: built for plugin ABI " + newer +
                 ", this engine provides " + kEngineAbi + "; rebuild it with this engine's SDK");
}

BOOST_AUTO_TEST_CASE(a_library_without_the_entry_point_is_refused) {
  const std::string why = refusal(adapterFile("noentry"));
  BOOST_TEST(why.rfind("cannot load libcpis-adapter-noentry.so: it has no cpis_plugin_entry", 0) == 0, why);
}

BOOST_AUTO_TEST_CASE(a_name_that_does_not_match_the_file_is_refused) {
  BOOST_TEST(refusal(adapterFile("misnamed")) ==
             "cannot load libcpis-adapter-misnamed.so: it calls itself adapter 'good', whose file is "
             "libcpis-adapter-good.so");
}

BOOST_AUTO_TEST_CASE(every_problem_with_the_key_table_is_listed) {
  try {
    (void)PluginLoader::load(adapterFile("badkeys"));
    BOOST_FAIL("badkeys loaded");
  } catch (const PluginError& e) {
    BOOST_TEST_REQUIRE(e.problems().size() == 3U, e.what());
    BOOST_TEST(e.problems()[0].find("configuration key 1 'Bad-Name': a key name is") != std::string::npos);
    BOOST_TEST(e.problems()[1].find("'limit': its default is not a valid integer") != std::string::npos);
    BOOST_TEST(e.problems()[2].find("configuration key 4 'site': declared twice") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_shared_library_is_refused_with_the_loaders_reason) {
  cpis::test::TempDir dir;
  const auto junk = dir.path() / "libcpis-adapter-junk.so";
  std::ofstream(junk) << "not an ELF file\n";
  const std::string why = refusal(junk);
  BOOST_TEST(why.rfind("cannot load libcpis-adapter-junk.so: ", 0) == 0, why);
  BOOST_TEST(why.find(junk.string()) != std::string::npos, why);  // dlerror names the path
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_refused) {
  const std::string why = refusal(pluginDir() / "libcpis-adapter-nothere.so");
  BOOST_TEST(why.rfind("cannot load libcpis-adapter-nothere.so: ", 0) == 0, why);
}

BOOST_AUTO_TEST_CASE(plugin_symbols_stay_local) {
  const auto library = PluginLoader::load(adapterFile("good"));
  // RTLD_LOCAL: the entry point does not become a global symbol another plugin could bind to.
  BOOST_TEST(dlsym(RTLD_DEFAULT, CPIS_PLUGIN_ENTRY_SYMBOL) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(plugin_registry)

BOOST_AUTO_TEST_CASE(each_plugin_is_loaded_once) {
  PluginRegistry registry({pluginDir()});
  const PluginLibrary& first = registry.find(PluginKind::Adapter, "good");
  const PluginLibrary& again = registry.find(PluginKind::Adapter, "good");
  const PluginLibrary& byPath = registry.load(pluginDir() / "." / "libcpis-adapter-good.so");
  BOOST_TEST(&first == &again);
  BOOST_TEST(&first == &byPath);
  BOOST_TEST(registry.loaded().size() == 1U);
}

BOOST_AUTO_TEST_CASE(plugins_are_found_in_the_first_directory_that_has_them) {
  cpis::test::TempDir empty;
  PluginRegistry registry({empty.path(), pluginDir()});
  const PluginLibrary& sink = registry.find(PluginKind::Sink, "echo");
  BOOST_TEST(sink.fileName() == "libcpis-sink-echo.so");
  BOOST_TEST((sink.kind() == PluginKind::Sink));
}

BOOST_AUTO_TEST_CASE(a_plugin_in_no_directory_is_reported_with_the_directories_searched) {
  cpis::test::TempDir empty;
  PluginRegistry registry({empty.path()});
  try {
    (void)registry.find(PluginKind::Adapter, "good");
    BOOST_FAIL("found a plugin in an empty directory");
  } catch (const PluginError& e) {
    BOOST_TEST(std::string(e.what()) == "cannot find libcpis-adapter-good.so for adapter 'good' (searched " +
                                            empty.path().string() + ")");
  }
}

BOOST_AUTO_TEST_CASE(a_name_that_is_not_a_plugin_name_is_refused_before_any_file_is_touched) {
  PluginRegistry registry({pluginDir()});
  for (const char* name : {"../lib/libcpis-adapter-good", "Good", "", "good.so"}) {
    BOOST_CHECK_EXCEPTION((void)registry.find(PluginKind::Adapter, name), PluginError, [](const PluginError& e) {
      return std::string(e.what()).find("plugin names are lower-case letters, digits and '_'") != std::string::npos;
    });
  }
}

BOOST_AUTO_TEST_CASE(a_refused_plugin_stops_the_lookup_with_its_reason) {
  PluginRegistry registry({pluginDir()});
  BOOST_CHECK_EXCEPTION(
      (void)registry.find(PluginKind::Adapter, "wrongabi"), PluginError,
      [](const PluginError& e) { return std::string(e.what()).find("ABI 2.0") != std::string::npos; });
  BOOST_TEST(registry.loaded().empty());
}

BOOST_AUTO_TEST_SUITE_END()
