#pragma once

#include <memory>

#include <cpis/plugin.h>

#include "engine/plugin/host_api.h"
#include "engine/plugin/plugin_config.h"
#include "engine/plugin/plugin_library.h"

namespace Poco {
class Logger;
}

namespace cpis::plugin {

// One instance a plugin created for one configuration, with the host context and the services
// table it was given (both at a fixed address for its lifetime). Internal to engine/plugin.
class PluginInstance {
 public:
  // Checks the settings (PluginConfig::validate) and calls the plugin's create(); a refusal is
  // a PluginError naming the plugin. `kind` is what the caller needs the plugin to be.
  static std::unique_ptr<PluginInstance> create(const PluginLibrary& library, PluginKind kind,
                                                const PluginSettings& settings);
  ~PluginInstance();  // the plugin's destroy()
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const PluginLibrary& library() const noexcept { return *library_; }
  const cpis_plugin_descriptor& descriptor() const noexcept { return library_->descriptor(); }
  const cpis_instance* handle() const noexcept { return instance_; }
  Poco::Logger& logger() const noexcept { return *context_.logger; }

 private:
  explicit PluginInstance(const PluginLibrary& library) : library_(&library) {}

  const PluginLibrary* library_;
  cpis_host_context context_;
  cpis_host_api api_{};
  cpis_instance* instance_ = nullptr;
};

}  // namespace cpis::plugin
