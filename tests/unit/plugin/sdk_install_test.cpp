// The installed SDK works for someone outside the engine's tree: `cmake --install` of this
// build into a temporary prefix, the template adapter configured and built against it with
// find_package(CpisPluginSdk), and the result loaded and run by the engine's loader. Runs as its
// own ctest (test_plugin_sdk_install); disabled in the plain test_plugin run.
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/plugin_loader.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/plugin/plugin_test_support.h"
#include "tests/unit/plugin/sdk_template_build.h"

using namespace cpis::plugin;

BOOST_AUTO_TEST_SUITE(sdk_install, *boost::unit_test::disabled())

BOOST_AUTO_TEST_CASE(the_template_builds_against_the_installed_sdk_and_runs) {
  cpis::test::TempDir work("cpis-sdk");
  const test::TemplateBuild build = test::buildTemplateAdapter(work.path());
  BOOST_TEST_REQUIRE(build.ok, build.log);

  // What was installed: the two headers, the CMake package, the template, the guide.
  for (const char* file : {"include/cpis/plugin.h", "include/cpis/plugin.hpp",
                           "share/cmake/CpisPluginSdk/CpisPluginSdkConfig.cmake",
                           "share/cmake/CpisPluginSdk/CpisPluginSdkConfigVersion.cmake",
                           "share/cmake/CpisPluginSdk/CpisPluginSdkTargets.cmake",
                           "share/cmake/CpisPluginSdk/CpisPluginSdkFunctions.cmake",
                           "share/cpis-engine/plugin-sdk/writing-an-adapter.md"}) {
    BOOST_TEST(std::filesystem::exists(build.prefix / file), file);
  }
  BOOST_TEST(!std::filesystem::exists(build.prefix / "bin"));  // only the SDK, nothing of the engine

  const auto exported = test::run("nm", {"-D", "--defined-only", build.plugin.string()});
  BOOST_TEST(exported.exitCode == 0);
  BOOST_TEST(exported.output.find("cpis_plugin_entry") != std::string::npos, exported.output);
  BOOST_TEST(exported.output.find("Example") == std::string::npos, exported.output);  // nothing else leaks

  const auto library = PluginLoader::load(build.plugin);
  BOOST_TEST(library->name() == "example");
  BOOST_TEST(library->version() == "1.0.0");
  BOOST_TEST(library->configKeys().size() == 3U);

  const auto adapter = AdapterPlugin::create(*library, {{"mrn_authority", "RZZ"}});
  // The draft the feed's mapping file makes first: the event is the mapping's to say.
  const auto draft = [](cpis::domain::AttendanceEvent event) {
    cpis::domain::Attendance a;
    a.event = event;
    return a;
  };
  cpis::domain::Attendance attendance = draft(cpis::domain::AttendanceEvent::Start);
  const auto adapted =
      adapter->adapt(test::message(test::edRegistration(), {{"PID-32", "NSTS01"}}), attendance);
  BOOST_TEST_REQUIRE(adapted.ok(), cpis::plugin::test::whyNot(adapted));
  BOOST_TEST((adapted->kind == AdaptOutcome::Kind::Attendance));
  BOOST_TEST_REQUIRE(attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumber->reveal() == "9990000018");
  BOOST_TEST((attendance.nhsStatus == cpis::domain::NhsNumberStatus::Nsts01));
  BOOST_TEST(attendance.visitNumber == "A250612001");

  // The NHS number is the mapping's (hazard H1): the one it found stands, and where it refused
  // the message's numbers (two that disagree) the template sets none of its own.
  attendance = draft(cpis::domain::AttendanceEvent::Start);
  attendance.nhsNumber = cpis::domain::NhsNumber::parse("9993000000");
  BOOST_TEST_REQUIRE(
      adapter->adapt(test::message(test::edRegistration(), {{"PID-32", "NSTS01"}}), attendance).ok());
  BOOST_TEST_REQUIRE(attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumber->reveal() == "9993000000");
  attendance = draft(cpis::domain::AttendanceEvent::Start);
  attendance.nhsNumberProblem = "the message carries two different NHS numbers in PID-3";
  BOOST_TEST_REQUIRE(
      adapter->adapt(test::message(test::edRegistration(), {{"PID-32", "NSTS01"}}), attendance).ok());
  BOOST_TEST(!attendance.nhsNumber.has_value());

  // v2.5.1's repeating PID-32 (an identity reliability code first) and the two digits alone.
  using Sets = std::vector<std::pair<std::string, std::string>>;
  for (const Sets& sent : {Sets{{"PID-32(1)", "AL"}, {"PID-32(2)", "NSTS01"}}, Sets{{"PID-32", "01"}}}) {
    attendance = draft(cpis::domain::AttendanceEvent::Start);
    const auto read = adapter->adapt(test::message(test::edRegistration(), sent), attendance);
    BOOST_TEST_REQUIRE(read.ok(), cpis::plugin::test::whyNot(read));
    BOOST_TEST(!read->issue.has_value(), sent.front().second);
    BOOST_TEST((attendance.nhsStatus == cpis::domain::NhsNumberStatus::Nsts01), sent.front().second);
  }

  // A merge (A40: no visit number) and a reopen (A13) stay as the mapping read them.
  for (const auto event : {cpis::domain::AttendanceEvent::Merge, cpis::domain::AttendanceEvent::Reopen}) {
    attendance = draft(event);
    std::string text = test::edRegistration("ED0000790", event == cpis::domain::AttendanceEvent::Merge ? "A40" : "A13");
    if (event == cpis::domain::AttendanceEvent::Merge) text.replace(text.find("A250612001^^^RZZ^VN"), 19, "");
    const auto kept = adapter->adapt(test::message(text), attendance);
    BOOST_TEST_REQUIRE(kept.ok(), cpis::plugin::test::whyNot(kept));
    BOOST_TEST((kept->kind == AdaptOutcome::Kind::Attendance));
    BOOST_TEST(!kept->issue.has_value());
    BOOST_TEST((attendance.event == event));
  }
  // A merge's two numbers, each by the NHS rule: MRG-1 names the retired record.
  attendance = draft(cpis::domain::AttendanceEvent::Merge);
  std::string merge = test::edRegistration("ED0000793", "A40");
  // The MR number first, valid by modulus 11 (never taken), and a PID-32 that is no status (a
  // merge is not refused for it).
  merge.replace(merge.find("PV1|"), std::string::npos, "MRG|9990000034^^^RZZ^MR~9990000026^^^NHS^NH\r");
  const auto merged = adapter->adapt(test::message(merge, {{"PID-32", "TRACED"}}), attendance);
  BOOST_TEST_REQUIRE(merged.ok(), cpis::plugin::test::whyNot(merged));
  BOOST_TEST(!merged->issue.has_value());
  BOOST_TEST_REQUIRE(attendance.nhsNumber.has_value());
  BOOST_TEST(attendance.nhsNumber->reveal() == "9990000018");
  BOOST_TEST_REQUIRE(attendance.priorNhsNumber.has_value());
  BOOST_TEST(attendance.priorNhsNumber->reveal() == "9990000026");
  // The retired number the mapping read stands (hazard H1).
  attendance = draft(cpis::domain::AttendanceEvent::Merge);
  attendance.priorNhsNumber = cpis::domain::NhsNumber::parse("9993000000");
  BOOST_TEST_REQUIRE(adapter->adapt(test::message(merge, {{"PID-32", "TRACED"}}), attendance).ok());
  BOOST_TEST_REQUIRE(attendance.priorNhsNumber.has_value());
  BOOST_TEST(attendance.priorNhsNumber->reveal() == "9993000000");
  // What the mapping says is no attendance stays none.
  attendance = draft(cpis::domain::AttendanceEvent::NotAnAttendance);
  const auto none = adapter->adapt(test::message(test::edRegistration("ED0000791", "A31")), attendance);
  BOOST_TEST_REQUIRE(none.ok(), cpis::plugin::test::whyNot(none));
  BOOST_TEST((none->kind == AdaptOutcome::Kind::NotAnAttendance));

  // Without PV1-19 and without the trust's label on PID-18, no visit number: an error, not an
  // account number taken as the key.
  attendance = draft(cpis::domain::AttendanceEvent::Start);
  std::string noVisit = test::edRegistration("ED0000792");
  noVisit.replace(noVisit.find("A250612001^^^RZZ^VN"), 19, "");
  const auto unkeyed = adapter->adapt(test::message(noVisit, {{"PID-18.1", "ACC123"}, {"PID-18.4", "OTHER"}}), attendance);
  BOOST_TEST_REQUIRE(unkeyed.ok(), cpis::plugin::test::whyNot(unkeyed));
  BOOST_TEST_REQUIRE(unkeyed->issue.has_value());
  BOOST_TEST(unkeyed->issue->location.field == 19U);
  attendance = draft(cpis::domain::AttendanceEvent::Start);
  const auto keyed = adapter->adapt(test::message(noVisit, {{"PID-18.1", "ACC123"}, {"PID-18.4", "RZZ"}}), attendance);
  BOOST_TEST_REQUIRE(keyed.ok(), cpis::plugin::test::whyNot(keyed));
  BOOST_TEST(!keyed->issue.has_value());
  BOOST_TEST(attendance.visitNumber == "ACC123");
  // With the default configuration (no mrn_authority) an unlabelled PID-18 is no visit number.
  const auto defaults = AdapterPlugin::create(*library, {});
  attendance = draft(cpis::domain::AttendanceEvent::Start);
  const auto unlabelled = defaults->adapt(test::message(noVisit, {{"PID-18.1", "ACC123"}}), attendance);
  BOOST_TEST_REQUIRE(unlabelled.ok(), cpis::plugin::test::whyNot(unlabelled));
  BOOST_TEST_REQUIRE(unlabelled->issue.has_value());
  BOOST_TEST(unlabelled->issue->location.field == 19U);
  BOOST_TEST(attendance.visitNumber.empty());
  attendance = draft(cpis::domain::AttendanceEvent::Start);

  const auto refused =
      adapter->adapt(test::message(test::edRegistration(), {{"PID-32", "TRACED"}}), attendance);
  BOOST_TEST_REQUIRE(refused.ok());
  BOOST_TEST_REQUIRE(refused->issue.has_value());
  BOOST_TEST(refused->issue->location.field == 32U);

  cpis::domain::CheckOutcome failed;
  failed.status = cpis::domain::CheckStatus::CheckFailed;
  AlertSegments segments;
  BOOST_TEST_REQUIRE(adapter->composeAlerts(failed, segments, {}).isOk());
  BOOST_TEST(segments.serialize() == "NTE|1|L|CP-IS: not a negative result\r");
}

// The rename the guide describes, and nothing more: ADAPTER_NAME in CMakeLists.txt and the name
// in CPIS_EXPORT_ADAPTER. The result builds as libcpis-adapter-<name>.so and loads under it.
BOOST_AUTO_TEST_CASE(the_template_renamed_as_the_guide_says_builds_and_loads) {
  cpis::test::TempDir work("cpis-sdk-rename");
  const test::TemplateBuild installed = test::buildTemplateAdapter(work.path());
  BOOST_TEST_REQUIRE(installed.ok, installed.log);
  const std::filesystem::path source = work.path() / "riverside";
  std::filesystem::copy(installed.prefix / "share/cpis-engine/plugin-sdk/template", source,
                        std::filesystem::copy_options::recursive);
  const auto edit = [](const std::filesystem::path& file, const std::string& from, const std::string& to) {
    std::string text;
    if (std::FILE* in = std::fopen(file.c_str(), "rb")) {
      char buffer[4096];
      for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, in)) > 0;) text.append(buffer, n);
      std::fclose(in);
    }
    const auto at = text.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, file.string() + ": " + from);
    text.replace(at, from.size(), to);
    std::FILE* out = std::fopen(file.c_str(), "wb");
    BOOST_TEST_REQUIRE(out != nullptr, file.string());
    std::fwrite(text.data(), 1, text.size(), out);
    std::fclose(out);
  };
  edit(source / "CMakeLists.txt", "set(ADAPTER_NAME example)", "set(ADAPTER_NAME riverside_ed)");
  edit(source / "src/example_adapter.cpp", "CPIS_EXPORT_ADAPTER(example::ExampleAdapter, \"example\"",
       "CPIS_EXPORT_ADAPTER(example::ExampleAdapter, \"riverside_ed\"");
  const std::filesystem::path binary = work.path() / "riverside-build";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-S", source.string(), "-B", binary.string(), "-G", CPIS_CMAKE_GENERATOR,
                                 "-DCMAKE_PREFIX_PATH=" + installed.prefix.string(),
                                 "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_CXX_COMPILER=" CPIS_CXX_COMPILER},
        std::vector<std::string>{"--build", binary.string(), "-j", "2"}}) {
    const auto result = test::run(CPIS_CMAKE_COMMAND, args);
    BOOST_TEST_REQUIRE(result.exitCode == 0, result.output);
  }
  const auto library = PluginLoader::load(binary / "libcpis-adapter-riverside_ed.so");
  BOOST_TEST(library->name() == "riverside_ed");
}

BOOST_AUTO_TEST_SUITE_END()

// The whole engine as a trust installs it (`cmake --install` with no component): the example
// configurations validate with the installed engine, which finds the installed adapters and
// mappings, and the documentation the systemd unit of docs/deployment.md names is there.
BOOST_AUTO_TEST_SUITE(engine_install, *boost::unit_test::disabled())

BOOST_AUTO_TEST_CASE(the_installed_engine_validates_its_examples_with_its_adapters) {
  cpis::test::TempDir work("cpis-install");
  const std::filesystem::path prefix = work.path() / "prefix";
  const auto installed =
      test::run(CPIS_CMAKE_COMMAND, {"--install", CPIS_BINARY_DIR, "--prefix", prefix.string()});
  BOOST_TEST_REQUIRE(installed.exitCode == 0, installed.output);
  for (const char* file :
       {"bin/cpis-engine", "bin/cpis-admin", "bin/cpis-send", "share/cpis-engine/cpis-engine.xsd",
        "share/cpis-engine/examples/cpis-engine.xml", "share/cpis-engine/examples/cpis-engine-tls.xml",
        "share/cpis-engine/mappings/england-adt.xml", "share/doc/cpis-engine/deployment.md",
        "share/doc/cpis-engine/configuration.md", "lib/cpis-engine/plugins/libcpis-adapter-england_adt.so"}) {
    BOOST_TEST(std::filesystem::exists(prefix / file), file);
  }
  const std::string engine = (prefix / "bin/cpis-engine").string();
  const std::filesystem::path example = prefix / "share/cpis-engine/examples/cpis-engine.xml";
  const auto plain = test::run(engine, {"--validate-config", example.string()});
  BOOST_TEST(plain.exitCode == 0, plain.output);

  // The example copied to the trust's folder with a feed that adapts: the adapter is found in
  // the installed plugin folder beside bin/, the mapping where it was installed.
  const std::filesystem::path etc = work.path() / "etc";
  std::filesystem::create_directories(etc);
  std::string text;
  {
    std::FILE* in = std::fopen(example.c_str(), "rb");
    BOOST_TEST_REQUIRE(in != nullptr);
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, in)) > 0;) text.append(buffer, n);
    std::fclose(in);
  }
  const std::string ack = "<acknowledgement mode=\"original\"/>";
  const auto at = text.find(ack);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  text.insert(at + ack.size(), "<adapter name=\"england_adt\"/><mapping file=\"" +
                                   (prefix / "share/cpis-engine/mappings/england-adt.xml").string() + "\"/>");
  const std::filesystem::path copied = etc / "cpis-engine.xml";
  std::FILE* out = std::fopen(copied.c_str(), "wb");
  BOOST_TEST_REQUIRE(out != nullptr);
  std::fwrite(text.data(), 1, text.size(), out);
  std::fclose(out);
  const auto adapting = test::run(engine, {"--validate-config", copied.string()});
  BOOST_TEST(adapting.exitCode == 0, adapting.output);
  BOOST_TEST(adapting.output.find("adapter england_adt") != std::string::npos, adapting.output);
}

BOOST_AUTO_TEST_SUITE_END()
