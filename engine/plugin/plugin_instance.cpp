#include "engine/plugin/plugin_instance.h"

#include <exception>
#include <string>

#include <Poco/Logger.h>

#include "engine/plugin/plugin_error.h"

namespace cpis::plugin {

std::unique_ptr<PluginInstance> PluginInstance::create(const PluginLibrary& library, PluginKind kind,
                                                       const PluginSettings& settings) {
  const std::string plugin = std::string(toString(library.kind())) + " plugin '" + library.name() + "'";
  if (library.kind() != kind) {
    throw PluginError(library.fileName() + ": " + plugin + " is not " +
                      (kind == PluginKind::Adapter ? "an adapter" : "a sink"));
  }
  const PluginConfig config = PluginConfig::validate(library, settings);

  // Private constructor: the instance's address must not change once the plugin holds it.
  std::unique_ptr<PluginInstance> instance(new PluginInstance(library));
  instance->context_.pluginName = library.name();
  instance->context_.logger = &Poco::Logger::get("cpis.plugin." + library.name());
  instance->api_ = makeHostApi(&instance->context_);

  const cpis_config handle{&config};
  cpis_error error;
  std::string why;
  try {
    instance->instance_ = library.descriptor().create(&instance->api_, &handle, &error);
  } catch (const std::exception& e) {
    why = "create() let an exception out: " + maskPatientData(e.what());
  } catch (...) {
    why = "create() let an exception out";
  }
  if (instance->instance_ == nullptr) {
    if (why.empty()) why = error.set && !error.text.empty() ? error.text : "create() gave no instance";
    throw PluginError(plugin + " refused its configuration: " + why);
  }
  return instance;
}

PluginInstance::~PluginInstance() {
  if (instance_ == nullptr) return;
  try {
    library_->descriptor().destroy(instance_);
  } catch (...) {  // shutting down: nothing to hand it to, and it must not escape a destructor
  }
}

}  // namespace cpis::plugin
