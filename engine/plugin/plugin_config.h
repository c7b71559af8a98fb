#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

// Key/value settings for one plugin instance, as the engine's configuration gives them.
using PluginSettings = std::map<std::string, std::string, std::less<>>;

// The forms the plugin ABI gives each type: a signed 64-bit decimal integer; true or false.
std::optional<std::int64_t> parseInteger(std::string_view text);
std::optional<bool> parseBoolean(std::string_view text);
bool valueFits(ConfigType type, std::string_view text);

// The configuration one instance gets: every key the plugin declares, with the value the
// settings give or its default. Immutable.
class PluginConfig {
 public:
  // Checks settings against the plugin's key table. A PluginError lists every unknown key,
  // value of the wrong type and missing required key, naming the plugin and the key (never the
  // value: values may be secrets).
  static PluginConfig validate(const PluginLibrary& library, const PluginSettings& settings);

  // The value of a declared key, or nullptr for a key the plugin does not declare.
  const std::string* find(std::string_view key) const;
  const ConfigKeySpec* spec(std::string_view key) const { return library_->findKey(key); }

 private:
  explicit PluginConfig(const PluginLibrary& library) : library_(&library) {}
  const PluginLibrary* library_;
  PluginSettings values_;
};

}  // namespace cpis::plugin
