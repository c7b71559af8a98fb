#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

// The plugins the engine has loaded: each file is opened once (PluginLoader) and kept, loaded,
// until the process exits. Plugins are found by kind and name in the configured directories.
// Thread-safe (though only start-up uses it).
class PluginRegistry {
 public:
  explicit PluginRegistry(std::vector<std::filesystem::path> directories);

  // The plugin libcpis-<kind>-<name>.so from the first directory that has it. PluginError when
  // none has it (naming the directories searched) or when it does not load.
  const PluginLibrary& find(PluginKind kind, std::string_view name);
  // The plugin at this file (for configurations that name the file itself).
  const PluginLibrary& load(const std::filesystem::path& file);
  // What a configuration names: the plugin `name` of `kind`, found (find()) or, when `file` is
  // given, loaded from it. PluginError when that file holds another plugin, or one of another
  // kind: a library of another adapter is a mistake, never a rename.
  const PluginLibrary& named(PluginKind kind, std::string_view name,
                             const std::optional<std::filesystem::path>& file);

  const std::vector<std::filesystem::path>& directories() const noexcept { return directories_; }
  std::vector<const PluginLibrary*> loaded() const;

 private:
  const std::vector<std::filesystem::path> directories_;
  mutable std::mutex mutex_;
  std::map<std::filesystem::path, std::unique_ptr<const PluginLibrary>> byPath_;
};

}  // namespace cpis::plugin
