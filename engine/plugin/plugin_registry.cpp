#include "engine/plugin/plugin_registry.h"

#include <string>
#include <system_error>
#include <utility>

#include "engine/plugin/plugin_error.h"
#include "engine/plugin/plugin_loader.h"

namespace cpis::plugin {

PluginRegistry::PluginRegistry(std::vector<std::filesystem::path> directories)
    : directories_(std::move(directories)) {}

const PluginLibrary& PluginRegistry::find(PluginKind kind, std::string_view name) {
  // The name comes from configuration and becomes part of a path: nothing but the ABI's name
  // characters, so it can never climb out of a plugin directory.
  const bool valid =
      !name.empty() && name.size() <= 64 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
  if (!valid) {
    throw PluginError(std::string(toString(kind)) + " name '" + std::string(name) +
                      "': plugin names are lower-case letters, digits and '_'");
  }
  const std::string fileName = pluginFileName(kind, name);
  std::string searched;
  for (const std::filesystem::path& directory : directories_) {
    const std::filesystem::path candidate = directory / fileName;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return load(candidate);
    searched += (searched.empty() ? "" : ", ") + directory.string();
  }
  throw PluginError("cannot find " + fileName + " for " + std::string(toString(kind)) + " '" +
                    std::string(name) + "' (searched " +
                    (searched.empty() ? std::string("no plugin directories") : searched) + ")");
}

const PluginLibrary& PluginRegistry::load(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::path key = std::filesystem::weakly_canonical(file, ec);
  if (ec) key = std::filesystem::absolute(file).lexically_normal();
  const std::lock_guard lock(mutex_);
  const auto it = byPath_.find(key);
  if (it != byPath_.end()) return *it->second;
  std::unique_ptr<const PluginLibrary> library = PluginLoader::load(key);
  const PluginLibrary& loaded = *library;
  byPath_.emplace(std::move(key), std::move(library));
  return loaded;
}

const PluginLibrary& PluginRegistry::named(PluginKind kind, std::string_view name,
                                           const std::optional<std::filesystem::path>& file) {
  if (!file) return find(kind, name);
  const PluginLibrary& library = load(*file);
  if (library.kind() != kind || library.name() != name) {
    throw PluginError("plugin " + file->filename().string() + " is the " +
                      std::string(toString(library.kind())) + " '" + library.name() + "', not the " +
                      std::string(toString(kind)) + " '" + std::string(name) +
                      "' the configuration names: correct the name or the library");
  }
  return library;
}

std::vector<const PluginLibrary*> PluginRegistry::loaded() const {
  const std::lock_guard lock(mutex_);
  std::vector<const PluginLibrary*> out;
  for (const auto& entry : byPath_) out.push_back(entry.second.get());
  return out;
}

}  // namespace cpis::plugin
