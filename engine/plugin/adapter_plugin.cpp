#include "engine/plugin/adapter_plugin.h"

#include <exception>
#include <utility>

#include <Poco/Logger.h>

#include "engine/hl7v2/path.h"
#include "engine/plugin/host_api.h"
#include "engine/plugin/plugin_instance.h"

namespace cpis::plugin {
namespace {

core::Location locationOf(const std::string& path) {
  core::Location location;
  auto parsed = hl7v2::parsePath(path);
  if (!parsed.ok()) return location;  // error_set() accepted only paths: cannot happen
  location.segmentId = parsed->segmentId;
  location.segmentSequence = parsed->segmentRepetition;
  location.field = parsed->field;
  location.fieldRepetition = parsed->fieldRepetition;
  location.component = parsed->component;
  location.subComponent = parsed->subComponent;
  return location;
}

}  // namespace

std::unique_ptr<AdapterPlugin> AdapterPlugin::create(const PluginLibrary& library,
                                                     const PluginSettings& settings) {
  return std::unique_ptr<AdapterPlugin>(
      new AdapterPlugin(PluginInstance::create(library, PluginKind::Adapter, settings)));
}

AdapterPlugin::AdapterPlugin(std::unique_ptr<PluginInstance> instance)
    : library_(&instance->library()), instance_(std::move(instance)) {}

AdapterPlugin::~AdapterPlugin() = default;

core::Status AdapterPlugin::failed(std::string_view operation, std::string_view subject,
                                   std::string_view why) const {
  failures_.fetch_add(1, std::memory_order_relaxed);
  const std::string text =
      std::string(operation) + " failed for " + std::string(subject) + ": " + maskPatientData(why);
  instance_->logger().error(text);
  return core::Status::internal("adapter plugin '" + name() + "': " + text);
}

core::Result<AdaptOutcome> AdapterPlugin::adapt(const hl7v2::Message& message,
                                                domain::Attendance& attendance) const {
  CallArena arena;
  const cpis_message messageHandle{&message, nullptr, &arena};
  cpis_attendance attendanceHandle{&attendance, &arena};
  cpis_error error;
  cpis_status status = CPIS_FAILED;
  const std::string subject = "message " + message.controlId();  // MSH-10: an id, not patient data
  try {
    status = instance_->descriptor().adapt(instance_->handle(), &messageHandle, &attendanceHandle, &error);
  } catch (const std::exception& e) {
    return failed("adapt", subject, std::string("an exception escaped the plugin: ") + e.what());
  } catch (...) {
    return failed("adapt", subject, "an exception escaped the plugin");
  }
  switch (status) {
    case CPIS_OK: return AdaptOutcome{};
    case CPIS_NOT_AN_ATTENDANCE:
      return AdaptOutcome{AdaptOutcome::Kind::NotAnAttendance, error.set ? error.text : std::string(),
                          std::nullopt};
    case CPIS_DATA_ERROR: {
      if (!error.set || error.code < CPIS_HL7_SEGMENT_SEQUENCE || error.code > CPIS_HL7_VALUE_TOO_LONG) {
        return failed("adapt", subject, "answered DATA_ERROR without a data error code (100-104)");
      }
      core::Issue issue;
      issue.code = static_cast<core::ErrorCode>(error.code);
      issue.severity = core::Severity::Error;
      issue.location = locationOf(error.location);
      issue.text = error.text.empty() ? std::string(core::describe(issue.code)) : error.text;
      if (instance_->logger().debug()) {
        instance_->logger().debug(subject + ": data error " + std::to_string(error.code) + " at " +
                                  (error.location.empty() ? std::string("(no location)") : error.location));
      }
      return AdaptOutcome{AdaptOutcome::Kind::DataError, std::string(), std::move(issue)};
    }
    case CPIS_FAILED:
      return failed("adapt", subject, error.set && !error.text.empty() ? error.text : "no reason given");
    default:
      return failed("adapt", subject,
                    "answered an unknown status " + std::to_string(static_cast<std::int64_t>(status)));
  }
}

bool AdapterPlugin::composesAlerts() const noexcept {
  return instance_->descriptor().compose_alerts != nullptr;
}

core::Status AdapterPlugin::composeAlerts(const domain::CheckOutcome& outcome, AlertSegments& out,
                                          const StandardAlerts& standard) const {
  const auto compose = instance_->descriptor().compose_alerts;
  if (compose == nullptr) return core::Status::ok();
  CallArena arena;
  const cpis_outcome outcomeHandle{&outcome, &arena};
  cpis_alert_writer writer{&out, &outcome, &standard};
  cpis_error error;
  const std::size_t before = out.size();
  cpis_status status = CPIS_FAILED;
  std::string why;
  try {
    status = compose(instance_->handle(), &outcomeHandle, &writer, &error);
  } catch (const std::exception& e) {
    why = std::string("an exception escaped the plugin: ") + e.what();
  } catch (...) {
    why = "an exception escaped the plugin";
  }
  if (why.empty() && status == CPIS_OK) return core::Status::ok();
  out.truncate(before);
  if (why.empty()) why = error.set && !error.text.empty() ? error.text : "no reason given";
  return failed("composeAlerts", "check " + outcome.checkId, why);
}

core::Issue AdapterPlugin::failureIssue() {
  core::Issue issue;
  issue.code = core::ErrorCode::ApplicationInternalError;
  issue.severity = core::Severity::Error;
  issue.text = "the feed's adapter failed on this message";
  return issue;
}

}  // namespace cpis::plugin
