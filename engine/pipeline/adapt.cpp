#include "engine/pipeline/adapt.h"

#include "engine/mapping/mapping.h"
#include "engine/plugin/adapter_plugin.h"

namespace cpis::pipeline {

AdaptResult Adapter::adapt(const hl7v2::Message& message) const {
  AdaptResult result;
  if (mapping_ != nullptr) {
    auto mapped = mapping_->apply(message, feed_);
    if (!mapped) {
      result.kind = AdaptResult::Kind::DataError;
      result.issues = std::move(mapped.error());
      return result;
    }
    result.attendance = std::move(mapped.value());
  } else {
    result.attendance.feedId = feed_;
    result.attendance.controlId = message.controlId();
    result.attendance.triggerEvent = message.triggerEvent();
  }
  if (plugin_ != nullptr) {
    auto adapted = plugin_->adapt(message, result.attendance);
    if (!adapted) {
      result.kind = AdaptResult::Kind::Failed;
      result.reason = "adapter " + plugin_->name() + " failed";
      result.issues = {plugin::AdapterPlugin::failureIssue()};
      return result;
    }
    switch (adapted.value().kind) {
      case plugin::AdaptOutcome::Kind::Attendance: break;
      case plugin::AdaptOutcome::Kind::NotAnAttendance:
        result.kind = AdaptResult::Kind::NotAnAttendance;
        result.reason = adapted.value().reason;
        return result;
      case plugin::AdaptOutcome::Kind::DataError:
        result.kind = AdaptResult::Kind::DataError;
        if (adapted.value().issue) result.issues = {*adapted.value().issue};
        return result;
    }
  }
  if (result.attendance.event == domain::AttendanceEvent::NotAnAttendance) {
    result.kind = AdaptResult::Kind::NotAnAttendance;
    if (result.reason.empty()) result.reason = "trigger event " + result.attendance.triggerEvent + " is not an attendance";
    return result;
  }
  result.kind = AdaptResult::Kind::Attendance;
  return result;
}

}  // namespace cpis::pipeline
