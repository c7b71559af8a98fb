#include "engine/plugin/plugin_loader.h"

#include <cstddef>
#include <cstdint>
#include <dlfcn.h>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/plugin/plugin_config.h"
#include "engine/plugin/plugin_error.h"

namespace cpis::plugin {
namespace {

// What ABI 1.0's descriptor holds: a plugin built for 1.0 has at least this much. Fields
// appended in later minors lie beyond it and are read only when struct_size covers them.
constexpr std::size_t kDescriptorSizeV1_0 =
    offsetof(cpis_plugin_descriptor, deliver) + sizeof(cpis_plugin_descriptor::deliver);
static_assert(offsetof(cpis_plugin_descriptor, abi_major) == 0 &&
                  offsetof(cpis_plugin_descriptor, abi_minor) == 4 &&
                  offsetof(cpis_plugin_descriptor, struct_size) == 8,
              "the version fields lead the descriptor and never move");
static_assert(sizeof(cpis_plugin_kind) == 4 && sizeof(cpis_status) == 4 && sizeof(cpis_config_type) == 4,
              "ABI enums are 32 bits wide");

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string version(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<ConfigKeySpec> readKeys(const cpis_plugin_descriptor& d, const std::string& prefix,
                                    std::vector<std::string>& problems) {
  std::vector<ConfigKeySpec> keys;
  if (d.config_key_count > 0 && d.config_keys == nullptr) {
    problems.push_back(prefix + "it declares " + std::to_string(d.config_key_count) +
                       " configuration keys but no key table");
    return keys;
  }
  if (d.config_key_count > 1000) {
    problems.push_back(prefix + "it declares more than 1000 configuration keys");
    return keys;
  }
  std::set<std::string, std::less<>> seen;
  for (std::uint32_t i = 0; i < d.config_key_count; ++i) {
    const cpis_config_key& key = d.config_keys[i];
    const std::string name = key.name != nullptr ? key.name : "";
    const std::string where = prefix + "configuration key " + std::to_string(i + 1) +
                              (name.empty() ? std::string() : " '" + name + "'") + ": ";
    if (name.empty() || !validName(name) || name[0] < 'a' || name[0] > 'z') {
      problems.push_back(where + "a key name is a lower-case letter, then letters, digits and '_'");
      continue;
    }
    if (!seen.insert(name).second) {
      problems.push_back(where + "declared twice");
      continue;
    }
    ConfigKeySpec spec;
    spec.name = name;
    switch (key.type) {
      case CPIS_CONFIG_STRING: spec.type = ConfigType::String; break;
      case CPIS_CONFIG_INT: spec.type = ConfigType::Integer; break;
      case CPIS_CONFIG_BOOL: spec.type = ConfigType::Boolean; break;
      default:
        problems.push_back(where + "unknown type " + std::to_string(static_cast<std::int64_t>(key.type)));
        continue;
    }
    if (key.default_value != nullptr) {
      spec.defaultValue = std::string(key.default_value);
      if (!valueFits(spec.type, *spec.defaultValue)) {
        problems.push_back(where + "its default is not a valid " + std::string(toString(spec.type)));
        continue;
      }
    }
    if (key.description != nullptr) spec.description = key.description;
    keys.push_back(std::move(spec));
  }
  return keys;
}

}  // namespace

std::unique_ptr<const PluginLibrary> PluginLoader::load(const std::filesystem::path& file) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(file, ec).lexically_normal();
  const std::string fileName = file.filename().string();
  const std::string prefix = "cannot load " + fileName + ": ";

  // dlopen's own message names the file and the missing symbol or library.
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw PluginError(prefix + (why != nullptr ? why : "dlopen failed"));
  }
  // From here on the library stays loaded even when refused: its static constructors have run
  // and unloading code that may have registered anything is how crashes at exit happen.
  dlerror();
  void* symbol = dlsym(handle, CPIS_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    throw PluginError(prefix + "it has no " CPIS_PLUGIN_ENTRY_SYMBOL
                               " (not a cpis-engine plugin, or built without the SDK's cpis_add_plugin())");
  }
  using Entry = const cpis_plugin_descriptor* (*)();
  const auto entry = reinterpret_cast<Entry>(symbol);
  const cpis_plugin_descriptor* d = entry();
  if (d == nullptr) throw PluginError(prefix + CPIS_PLUGIN_ENTRY_SYMBOL "() gave no descriptor");

  if (d->abi_major != CPIS_PLUGIN_ABI_MAJOR || d->abi_minor > CPIS_PLUGIN_ABI_MINOR) {
    throw PluginError(prefix + "built for plugin ABI " + version(d->abi_major, d->abi_minor) +
                      ", this engine provides " + version(CPIS_PLUGIN_ABI_MAJOR, CPIS_PLUGIN_ABI_MINOR) +
                      "; rebuild it with this engine's SDK");
  }
  if (d->struct_size < kDescriptorSizeV1_0) {
    throw PluginError(prefix + "its descriptor is " + std::to_string(d->struct_size) + " bytes, plugin ABI " +
                      version(d->abi_major, d->abi_minor) + " needs at least " +
                      std::to_string(kDescriptorSizeV1_0) + "; rebuild it with this engine's SDK");
  }

  std::vector<std::string> problems;
  PluginKind kind = PluginKind::Adapter;
  if (d->kind == CPIS_KIND_ADAPTER) {
    kind = PluginKind::Adapter;
  } else if (d->kind == CPIS_KIND_SINK) {
    kind = PluginKind::Sink;
  } else {
    throw PluginError(prefix + "unknown plugin kind " + std::to_string(static_cast<std::int64_t>(d->kind)));
  }
  const std::string name = d->name != nullptr ? d->name : "";
  if (!validName(name)) {
    problems.push_back(prefix + "its name is not 1 to 64 lower-case letters, digits and '_'");
  } else if (pluginFileName(kind, name) != fileName) {
    problems.push_back(prefix + "it calls itself " + std::string(toString(kind)) + " '" + name +
                       "', whose file is " + pluginFileName(kind, name));
  }
  if (d->version == nullptr || d->version[0] == '\0') problems.push_back(prefix + "it gives no version");
  if (d->create == nullptr || d->destroy == nullptr)
    problems.push_back(prefix + "it has no create or destroy function");
  if (kind == PluginKind::Adapter && d->adapt == nullptr)
    problems.push_back(prefix + "an adapter without adapt()");
  if (kind == PluginKind::Sink && d->deliver == nullptr)
    problems.push_back(prefix + "a sink without deliver()");
  std::vector<ConfigKeySpec> keys = readKeys(*d, prefix, problems);
  if (!problems.empty()) throw PluginError(std::move(problems));

  std::unique_ptr<PluginLibrary> library(new PluginLibrary());
  library->path_ = path;
  library->handle_ = handle;
  library->descriptor_ = d;
  library->name_ = name;
  library->version_ = d->version;
  library->kind_ = kind;
  library->keys_ = std::move(keys);
  return library;
}

}  // namespace cpis::plugin
