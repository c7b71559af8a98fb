#include "engine/plugin/plugin_config.h"

#include <charconv>
#include <string>
#include <vector>

#include "engine/plugin/plugin_error.h"

namespace cpis::plugin {

std::optional<std::int64_t> parseInteger(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char* first = text.data();
  if (*first == '+') ++first;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<bool> parseBoolean(std::string_view text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

bool valueFits(ConfigType type, std::string_view text) {
  switch (type) {
    case ConfigType::String: return true;
    case ConfigType::Integer: return parseInteger(text).has_value();
    case ConfigType::Boolean: return parseBoolean(text).has_value();
  }
  return false;
}

PluginConfig PluginConfig::validate(const PluginLibrary& library, const PluginSettings& settings) {
  const std::string prefix = std::string(toString(library.kind())) + " plugin '" + library.name() + "': ";
  std::vector<std::string> problems;
  PluginConfig config(library);
  for (const auto& [key, value] : settings) {
    const ConfigKeySpec* spec = library.findKey(key);
    if (spec == nullptr) {
      std::string known;
      for (const ConfigKeySpec& k : library.configKeys()) known += (known.empty() ? "" : ", ") + k.name;
      problems.push_back(prefix + "unknown configuration key '" + key + "' (it knows " +
                         (known.empty() ? std::string("none") : known) + ")");
      continue;
    }
    if (!valueFits(spec->type, value)) {
      problems.push_back(prefix + "configuration key '" + key + "' must be " +
                         (spec->type == ConfigType::Integer ? "an integer" : "true or false"));
      continue;
    }
    config.values_.emplace(key, value);
  }
  for (const ConfigKeySpec& spec : library.configKeys()) {
    if (config.values_.count(spec.name) != 0 || settings.count(spec.name) != 0) continue;
    if (spec.defaultValue) {
      config.values_.emplace(spec.name, *spec.defaultValue);
    } else {
      problems.push_back(prefix + "configuration key '" + spec.name + "' is required" +
                         (spec.description.empty() ? std::string() : " (" + spec.description + ")"));
    }
  }
  if (!problems.empty()) throw PluginError(std::move(problems));
  return config;
}

const std::string* PluginConfig::find(std::string_view key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

}  // namespace cpis::plugin
