#include "conformance/analyse/analyse_command.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>

#include "conformance/analyse/readiness.h"
#include "conformance/analyse/readiness_report.h"
#include "engine/config/config_error.h"
#include "engine/config/xerces_platform.h"
#include "engine/mapping/mapping.h"
#include "engine/mapping/mapping_loader.h"
#include "engine/pipeline/adapt.h"
#include "engine/pipeline/decide.h"
#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/plugin_error.h"
#include "engine/plugin/plugin_registry.h"

namespace cpis::conformance {

namespace {

namespace fs = std::filesystem;

constexpr int kOk = 0;
constexpr int kUsage = 2;

constexpr std::string_view kUsageText =
    "usage: cpis-conformance analyse --adapter NAME --mapping FILE [--plugin-dir DIR]\n"
    "                                [--setting KEY=VALUE]... [--environment TEST|LIVE]\n"
    "                                [--html OUT.html] [--json OUT.json] DIR\n"
    "\n"
    "Runs every message captured in DIR (files of one or many messages: plain, MLLP-framed or\n"
    "FHS/BHS batches, any line endings) through the engine's parse, adapt and decide stages,\n"
    "without querying CP-IS, and writes the feed readiness report. No patient identifier\n"
    "appears in the report.\n"
    "\n"
    "  --adapter NAME         the feed's adapter plugin (libcpis-adapter-NAME.so), a path to a\n"
    "                         plugin file, or none (the mapping file alone)\n"
    "  --mapping FILE         the feed's mapping file\n"
    "  --plugin-dir DIR       where to look for the plugin first (repeatable); then beside the\n"
    "                         program (../lib, ../lib/cpis-engine/plugins), /usr/lib/cpis-engine/plugins\n"
    "  --setting KEY=VALUE    an adapter setting, as <adapter><setting> gives it (repeatable)\n"
    "  --environment ENV      TEST (default) or LIVE: LIVE refuses 999 test and placeholder numbers\n"
    "  --accept-unverified    decide as a feed with acceptUnverifiedNhsNumber=\"true\"\n"
    "  --accept-missing-status  decide as a feed with acceptMissingTraceStatus=\"true\"\n"
    "  --html FILE            the HTML report (default readiness-report.html when --json is not given)\n"
    "  --json FILE            the same counts as JSON\n";

struct Options {
  std::string adapter;
  std::optional<fs::path> mapping;
  std::vector<fs::path> pluginDirs;
  plugin::PluginSettings settings;
  pipeline::Environment environment = pipeline::Environment::Test;
  bool acceptUnverified = false;
  bool acceptMissingStatus = false;
  std::optional<fs::path> html;
  std::optional<fs::path> json;
  std::optional<fs::path> folder;
  bool help = false;
};

std::optional<Options> parseOptions(const std::vector<std::string>& args, std::string& error) {
  Options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) {
        error = arg + " needs a value";
        return std::nullopt;
      }
      return args[++i];
    };
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--adapter") {
      auto v = value();
      if (!v) return std::nullopt;
      o.adapter = *v;
    } else if (arg == "--mapping") {
      auto v = value();
      if (!v) return std::nullopt;
      o.mapping = *v;
    } else if (arg == "--plugin-dir") {
      auto v = value();
      if (!v) return std::nullopt;
      o.pluginDirs.emplace_back(*v);
    } else if (arg == "--setting") {
      auto v = value();
      if (!v) return std::nullopt;
      const auto eq = v->find('=');
      if (eq == std::string::npos || eq == 0) {
        error = "--setting takes KEY=VALUE";
        return std::nullopt;
      }
      o.settings[v->substr(0, eq)] = v->substr(eq + 1);
    } else if (arg == "--environment") {
      auto v = value();
      if (!v) return std::nullopt;
      if (*v == "TEST" || *v == "test") {
        o.environment = pipeline::Environment::Test;
      } else if (*v == "LIVE" || *v == "live") {
        o.environment = pipeline::Environment::Live;
      } else {
        error = "--environment takes TEST or LIVE";
        return std::nullopt;
      }
    } else if (arg == "--accept-unverified") {
      o.acceptUnverified = true;
    } else if (arg == "--accept-missing-status") {
      o.acceptMissingStatus = true;
    } else if (arg == "--html") {
      auto v = value();
      if (!v) return std::nullopt;
      o.html = *v;
    } else if (arg == "--json") {
      auto v = value();
      if (!v) return std::nullopt;
      o.json = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      error = "unknown option " + arg;
      return std::nullopt;
    } else if (o.folder) {
      error = "one folder only (" + o.folder->string() + " and " + arg + ")";
      return std::nullopt;
    } else {
      o.folder = arg;
    }
  }
  if (o.help) return o;
  if (o.adapter.empty()) {
    error = "--adapter is required (a plugin name, or none)";
    return std::nullopt;
  }
  if (!o.mapping) {
    error = "--mapping is required";
    return std::nullopt;
  }
  if (!o.folder) {
    error = "the folder of captured messages is missing";
    return std::nullopt;
  }
  if (!o.html && !o.json) o.html = "readiness-report.html";
  return o;
}

// Where adapter plugins are looked for, as the engine does, after --plugin-dir.
std::vector<fs::path> pluginDirectories(const Options& o) {
  std::vector<fs::path> directories = o.pluginDirs;
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    directories.push_back(self.parent_path().parent_path() / "lib");
    directories.push_back(self.parent_path().parent_path() / "lib" / "cpis-engine" / "plugins");
  }
  directories.emplace_back("/usr/lib/cpis-engine/plugins");
  return directories;
}

// Every regular file under the folder, by relative path.
std::vector<fs::path> capturedFiles(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::optional<std::string> readFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return bytes.str();
}

std::string utcNow() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

bool writeTo(const fs::path& file, const std::function<void(std::ostream&)>& write, std::ostream& err) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (out) write(out);
  out.close();
  if (!out) {
    err << "cpis-conformance analyse: " << file.string() << ": cannot write the report\n";
    return false;
  }
  return true;
}

int run(const Options& o, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  if (!fs::is_directory(*o.folder, ec)) {
    err << "cpis-conformance analyse: " << o.folder->string() << ": not a folder\n";
    return kUsage;
  }
  const std::vector<fs::path> files = capturedFiles(*o.folder);
  if (files.empty()) {
    err << "cpis-conformance analyse: " << o.folder->string() << ": no files to analyse\n";
    return kUsage;
  }

  const config::XercesPlatform xerces;
  std::unique_ptr<mapping::Mapping> mapping;
  try {
    const mapping::MappingLoader loader(xerces);
    mapping = std::make_unique<mapping::Mapping>(loader.loadFile(*o.mapping));
  } catch (const config::ConfigError& e) {
    err << "cpis-conformance analyse: the mapping file does not load:\n";
    for (const auto& problem : e.problems()) err << "  " << problem << "\n";
    return kUsage;
  }

  std::unique_ptr<plugin::PluginRegistry> registry;
  std::unique_ptr<plugin::AdapterPlugin> adapterPlugin;
  if (o.adapter != "none") {
    try {
      registry = std::make_unique<plugin::PluginRegistry>(pluginDirectories(o));
      const bool isFile = o.adapter.find('/') != std::string::npos ||
                          (o.adapter.size() > 3 && o.adapter.substr(o.adapter.size() - 3) == ".so");
      const plugin::PluginLibrary& library =
          isFile ? registry->load(o.adapter) : registry->find(plugin::PluginKind::Adapter, o.adapter);
      adapterPlugin = plugin::AdapterPlugin::create(library, o.settings);
    } catch (const plugin::PluginError& e) {
      err << "cpis-conformance analyse: the adapter does not load:\n";
      for (const auto& problem : e.problems()) err << "  " << problem << "\n";
      return kUsage;
    }
  } else if (!o.settings.empty()) {
    err << "cpis-conformance analyse: --setting needs an adapter (--adapter none takes no settings)\n";
    return kUsage;
  }

  const pipeline::Adapter adapter("analyse", mapping.get(), adapterPlugin.get());
  pipeline::DecisionPolicy policy;
  policy.environment = o.environment;
  policy.acceptUnverifiedNhsNumber = o.acceptUnverified;
  policy.acceptMissingTraceStatus = o.acceptMissingStatus;
  const auto clock = [] {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  };
  pipeline::InMemoryCheckMemory memory(clock);
  pipeline::Decider decider(policy, clock, memory);

  ReadinessReport report;
  report.folder = o.folder->string();
  report.adapter = adapterPlugin ? adapterPlugin->name() : std::string("none");
  report.environment = o.environment == pipeline::Environment::Live ? "LIVE" : "TEST";
  report.generatedAt = utcNow();
  ReadinessAnalyser analyser(*mapping, adapter, decider, report);
  for (const fs::path& file : files) {
    const std::string name = fs::relative(file, *o.folder, ec).generic_string();
    const auto bytes = readFile(file);
    if (!bytes) {
      err << "cpis-conformance analyse: " << file.string() << ": cannot be read\n";
      return kUsage;
    }
    analyser.addFile(*bytes, name.empty() ? file.filename().string() : name);
  }

  if (o.html && !writeTo(*o.html, [&](std::ostream& s) { writeHtml(report, s); }, err)) return kUsage;
  if (o.json && !writeTo(*o.json, [&](std::ostream& s) { writeJson(report, s); }, err)) return kUsage;
  out << summaryText(report) << "\n";
  if (o.html) out << "report: " << o.html->string() << "\n";
  if (o.json) out << "json: " << o.json->string() << "\n";
  return kOk;
}

}  // namespace

int analyseCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string error;
  const auto options = parseOptions(args, error);
  if (!options) {
    err << "cpis-conformance analyse: " << error << "\n\n" << kUsageText;
    return kUsage;
  }
  if (options->help) {
    out << kUsageText;
    return kOk;
  }
  try {
    return run(*options, out, err);
  } catch (const std::exception& e) {
    err << "cpis-conformance analyse: " << e.what() << "\n";
    return kUsage;
  }
}

}  // namespace cpis::conformance
