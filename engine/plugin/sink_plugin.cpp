#include "engine/plugin/sink_plugin.h"

#include <exception>
#include <utility>

#include <Poco/Logger.h>

#include "engine/plugin/plugin_instance.h"

namespace cpis::plugin {

std::unique_ptr<SinkPlugin> SinkPlugin::create(const PluginLibrary& library, const PluginSettings& settings) {
  return std::unique_ptr<SinkPlugin>(
      new SinkPlugin(PluginInstance::create(library, PluginKind::Sink, settings)));
}

SinkPlugin::SinkPlugin(std::unique_ptr<PluginInstance> instance)
    : library_(&instance->library()), instance_(std::move(instance)) {}

SinkPlugin::~SinkPlugin() = default;

DeliveryResult SinkPlugin::deliver(const NotificationFields& notification) const {
  const cpis_notification handle{&notification};
  cpis_error error;
  cpis_delivery answer = CPIS_DELIVERY_RETRY;
  try {
    answer = instance_->descriptor().deliver(instance_->handle(), &handle, &error);
  } catch (const std::exception& e) {
    error.set = true;
    error.text = "an exception escaped the plugin: " + maskPatientData(e.what());
  } catch (...) {
    error.set = true;
    error.text = "an exception escaped the plugin";
  }
  switch (answer) {
    case CPIS_DELIVERY_OK: return DeliveryResult{};
    case CPIS_DELIVERY_ERROR: return DeliveryResult{DeliveryResult::Kind::Failed, error.text};
    case CPIS_DELIVERY_RETRY: return DeliveryResult{DeliveryResult::Kind::Retry, error.text};
    default:
      instance_->logger().error("deliver answered an unknown value " +
                                std::to_string(static_cast<std::int64_t>(answer)));
      return DeliveryResult{DeliveryResult::Kind::Retry, "unknown answer from the sink"};
  }
}

}  // namespace cpis::plugin
