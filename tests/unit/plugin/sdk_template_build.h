#pragma once

// Installs the plugin SDK from this build into a prefix and builds the template adapter
// (plugins/sdk/template, as installed) out of tree against it with find_package(CpisPluginSdk),
// the way a supplier would. Used by the SDK install test; an integration test of the daemon
// can call the same to drop the result into the engine's plugin directory.

#include <filesystem>
#include <string>
#include <vector>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

namespace cpis::plugin::test {

struct CommandResult {
  int exitCode = -1;
  std::string output;  // standard output and standard error, merged
};

inline CommandResult run(const std::string& command, const std::vector<std::string>& args) {
  Poco::Pipe out;
  Poco::ProcessHandle process = Poco::Process::launch(command, args, nullptr, &out, &out);
  Poco::PipeInputStream stream(out);
  CommandResult result;
  result.output.assign(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
  result.exitCode = process.wait();
  return result;
}

struct TemplateBuild {
  std::filesystem::path prefix;  // where the SDK was installed
  std::filesystem::path plugin;  // the built libcpis-adapter-example.so
  std::string log;               // every command and its output, for a failure message
  bool ok = false;
};

// `work` is an empty folder; everything goes under it.
inline TemplateBuild buildTemplateAdapter(const std::filesystem::path& work) {
  TemplateBuild build;
  build.prefix = work / "sdk";
  const std::filesystem::path binary = work / "build";
  const std::string cmake = CPIS_CMAKE_COMMAND;
  const std::vector<std::vector<std::string>> steps{
      {"--install", CPIS_BINARY_DIR, "--prefix", build.prefix.string(), "--component", "sdk"},
      {"-S", (build.prefix / "share/cpis-engine/plugin-sdk/template").string(), "-B", binary.string(), "-G",
       CPIS_CMAKE_GENERATOR, "-DCMAKE_PREFIX_PATH=" + build.prefix.string(), "-DCMAKE_BUILD_TYPE=Release",
       "-DCMAKE_CXX_COMPILER=" CPIS_CXX_COMPILER, "-DCMAKE_COMPILE_WARNING_AS_ERROR=ON"},
      {"--build", binary.string(), "-j", "2"},
  };
  for (const auto& args : steps) {
    build.log += "$ cmake";
    for (const auto& arg : args) build.log += " " + arg;
    build.log += "\n";
    const CommandResult result = run(cmake, args);
    build.log += result.output;
    if (result.exitCode != 0) return build;
  }
  build.plugin = binary / "libcpis-adapter-example.so";
  build.ok = std::filesystem::exists(build.plugin);
  return build;
}

}  // namespace cpis::plugin::test
