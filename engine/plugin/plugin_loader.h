#pragma once

#include <filesystem>
#include <memory>

#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

// Opens one plugin file and checks it, at start-up:
//   - dlopen(RTLD_NOW | RTLD_LOCAL): a missing symbol fails now, not on the first message, and
//     plugins' symbols stay apart from each other's and the engine's;
//   - the single entry point cpis_plugin_entry and its descriptor;
//   - the ABI: the same major version as this engine and a minor version no newer ("cannot
//     load libcpis-adapter-edsys.so: built for plugin ABI 2.0, this engine provides 1.0;
//     rebuild it with this engine's SDK"), and a descriptor no smaller than that minor's;
//   - the kind, a name that matches the file name, the functions the kind needs, and the
//     configuration key table.
// Every refusal is a PluginError naming the file. The library is never unloaded (dlclose is
// never called): a new plugin version means a restart.
class PluginLoader {
 public:
  static std::unique_ptr<const PluginLibrary> load(const std::filesystem::path& file);
};

}  // namespace cpis::plugin
