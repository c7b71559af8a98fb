#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

std::string_view toString(PluginKind kind) {
  switch (kind) {
    case PluginKind::Adapter: return "adapter";
    case PluginKind::Sink: return "sink";
  }
  return "plugin";
}

std::string pluginFileName(PluginKind kind, std::string_view name) {
  return "libcpis-" + std::string(toString(kind)) + "-" + std::string(name) + ".so";
}

std::string_view toString(ConfigType type) {
  switch (type) {
    case ConfigType::String: return "string";
    case ConfigType::Integer: return "integer";
    case ConfigType::Boolean: return "boolean";
  }
  return "value";
}

const ConfigKeySpec* PluginLibrary::findKey(std::string_view name) const {
  for (const ConfigKeySpec& key : keys_) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

}  // namespace cpis::plugin
