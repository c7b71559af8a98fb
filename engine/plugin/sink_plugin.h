#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/plugin/host_api.h"
#include "engine/plugin/plugin_config.h"
#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

class PluginInstance;

// What a sink answered for one notification (Fluent Bit's OK / RETRY / ERROR).
struct DeliveryResult {
  enum class Kind {
    Delivered,  // done
    Retry,      // not now: the dispatcher tries again with back-off
    Failed,     // never: dead-lettered for a person to see and replay
  };
  Kind kind = Kind::Delivered;
  std::string text;  // the sink's reason (masked), for the log and the dead-letter row
};

// One configured instance of a notification sink plugin. deliver() may run on many threads at
// once. (Issue 7 wires it to the outbox dispatcher; the ABI slot and this wrapper exist now.)
class SinkPlugin {
 public:
  // As AdapterPlugin::create, for a plugin of kind sink.
  static std::unique_ptr<SinkPlugin> create(const PluginLibrary& library, const PluginSettings& settings);
  ~SinkPlugin();
  SinkPlugin(const SinkPlugin&) = delete;
  SinkPlugin& operator=(const SinkPlugin&) = delete;

  const PluginLibrary& library() const noexcept { return *library_; }
  const std::string& name() const noexcept { return library_->name(); }

  // An exception that escapes the plugin, or an unknown answer, is a Retry (it may work next
  // time; the dispatcher bounds retries), logged.
  DeliveryResult deliver(const NotificationFields& notification) const;

 private:
  explicit SinkPlugin(std::unique_ptr<PluginInstance> instance);

  const PluginLibrary* library_;
  std::unique_ptr<PluginInstance> instance_;
};

}  // namespace cpis::plugin
