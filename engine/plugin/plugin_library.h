#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cpis/plugin.h>

namespace cpis::plugin {

enum class PluginKind : std::uint32_t { Adapter = CPIS_KIND_ADAPTER, Sink = CPIS_KIND_SINK };
std::string_view toString(PluginKind kind);  // "adapter", "sink"
// The file a plugin lives in: libcpis-adapter-<name>.so, libcpis-sink-<name>.so.
std::string pluginFileName(PluginKind kind, std::string_view name);

enum class ConfigType { String, Integer, Boolean };
std::string_view toString(ConfigType type);  // "string", "integer", "boolean"

// One configuration key a plugin declares.
struct ConfigKeySpec {
  std::string name;
  ConfigType type = ConfigType::String;
  std::optional<std::string> defaultValue;  // nullopt = required
  std::string description;
};

// A plugin library that loaded and passed every check (PluginLoader). The library stays in the
// process until it exits: it is never unloaded, so nothing here is ever dangling. Immutable.
class PluginLibrary {
 public:
  const std::filesystem::path& path() const noexcept { return path_; }
  std::string fileName() const { return path_.filename().string(); }
  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  PluginKind kind() const noexcept { return kind_; }
  std::uint32_t abiMajor() const noexcept { return descriptor_->abi_major; }
  std::uint32_t abiMinor() const noexcept { return descriptor_->abi_minor; }
  const std::vector<ConfigKeySpec>& configKeys() const noexcept { return keys_; }
  const ConfigKeySpec* findKey(std::string_view name) const;
  // The plugin's own descriptor. Fields appended after ABI 1.0 may only be read when
  // hasField() says the plugin's struct_size covers them.
  const cpis_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
  bool hasField(std::size_t offset, std::size_t size) const noexcept {
    return descriptor_->struct_size >= offset + size;
  }

 private:
  friend class PluginLoader;
  PluginLibrary() = default;

  std::filesystem::path path_;
  void* handle_ = nullptr;  // dlopen's; never closed
  const cpis_plugin_descriptor* descriptor_ = nullptr;
  std::string name_;
  std::string version_;
  PluginKind kind_ = PluginKind::Adapter;
  std::vector<ConfigKeySpec> keys_;
};

}  // namespace cpis::plugin
