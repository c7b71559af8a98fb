#pragma once

// The engine's side of the plugin ABI: the handles cpis/plugin.h declares opaque, and the table
// of host services (cpis_host_api) every plugin instance receives. Internal to engine/plugin
// (and its tests): the pipeline uses AdapterPlugin and SinkPlugin.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <cpis/plugin.h>

#include "engine/domain/attendance.h"
#include "engine/hl7v2/message.h"
#include "engine/plugin/alert_segments.h"
#include "engine/plugin/patient_data_mask.h"

namespace Poco {
class Logger;
}

namespace cpis::plugin {

class PluginConfig;

// Texts handed to a plugin during one call: kept here so their addresses stay valid until the
// call returns. One per call, never shared between threads.
class CallArena {
 public:
  cpis_str keep(std::string text);
  cpis_str_list keep(std::vector<std::string> texts);

 private:
  std::deque<std::string> texts_;  // a deque never moves its elements
  std::deque<std::vector<cpis_str>> lists_;
};

// Values of a notification, by key (issue 7 defines the kinds and their keys).
using NotificationFields = std::map<std::string, std::string, std::less<>>;

// The table of host services, bound to one plugin instance's context.
cpis_host_api makeHostApi(const cpis_host_context* context);

}  // namespace cpis::plugin

// The opaque handles of cpis/plugin.h, completed on the engine's side (global namespace, as
// the C header declares them).
struct cpis_host_context {
  std::string pluginName;
  Poco::Logger* logger = nullptr;  // cpis.plugin.<name>
};

struct cpis_config {
  const cpis::plugin::PluginConfig* config = nullptr;
};

struct cpis_message {
  const cpis::hl7v2::Message* message = nullptr;
  cpis::hl7v2::Message* writable = nullptr;  // set only where the engine allows writing
  cpis::plugin::CallArena* arena = nullptr;
};

struct cpis_attendance {
  cpis::domain::Attendance* attendance = nullptr;
  cpis::plugin::CallArena* arena = nullptr;
};

struct cpis_outcome {
  const cpis::domain::CheckOutcome* outcome = nullptr;
  cpis::plugin::CallArena* arena = nullptr;
};

struct cpis_alert_writer {
  cpis::plugin::AlertSegments* out = nullptr;
  const cpis::domain::CheckOutcome* outcome = nullptr;
  const cpis::plugin::StandardAlerts* standard = nullptr;
};

struct cpis_notification {
  const cpis::plugin::NotificationFields* fields = nullptr;
};

// What a plugin reported through error_set(). `set` stays false until a valid report.
struct cpis_error {
  bool set = false;
  std::uint32_t code = 0;
  std::string location;
  std::string text;  // masked (maskPatientData)
};
