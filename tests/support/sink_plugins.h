#pragma once

// For the sink plugins' own tests: the plugin as the engine loads it (dlopen through the
// engine's plugin registry), and the test PKI their TLS cases share. Header-only:
// CPIS_SINK_PLUGIN_DIR is the including test's, the folder its plugin is built in.
#include <memory>
#include <string>

#include "engine/plugin/plugin_registry.h"
#include "engine/plugin/sink_plugin.h"
#include "tests/support/test_pki.h"

namespace cpis::test {

// Sink plugin `name` (its descriptor's name), created with `settings`: throws as the engine's
// start-up would on a bad setting.
inline std::unique_ptr<plugin::SinkPlugin> loadSinkPlugin(const std::string& name,
                                                          const plugin::PluginSettings& settings) {
  static plugin::PluginRegistry registry({CPIS_SINK_PLUGIN_DIR});
  return plugin::SinkPlugin::create(registry.find(plugin::PluginKind::Sink, name), settings);
}

// One test PKI (CA, server and client certificates) for the whole test program.
inline const TestPki& sharedPki() {
  static const TestPki instance;
  return instance;
}

}  // namespace cpis::test
