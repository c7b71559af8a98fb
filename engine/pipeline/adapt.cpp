#include "engine/pipeline/adapt.h"

#include "engine/mapping/mapping.h"
#include "engine/plugin/adapter_plugin.h"

namespace cpis::pipeline {

namespace {

// One PID/MRG group of a merge message (ADT_A39 repeats it: PID, [PD1], MRG, [PV1]) as a
// message of its own: the segments before the first PID (MSH, EVN), then the group's. Keeps
// which segment of the whole message each of its segments is, to relocate what is said of it.
struct Group {
  std::string text;
  std::vector<std::size_t> original;  // the whole message's segment index of each segment
};

Group groupOf(const hl7v2::Message& message, std::size_t firstPid, std::size_t begin, std::size_t end) {
  Group group;
  const auto add = [&](std::size_t i) {
    group.text.append(message.segmentRaw(i)).append(1, '\r');
    group.original.push_back(i);
  };
  for (std::size_t i = 0; i < firstPid; ++i) add(i);
  for (std::size_t i = begin; i < end; ++i) add(i);
  return group;
}

std::size_t offsetOf(const hl7v2::Message& message, std::size_t segment) {
  return static_cast<std::size_t>(message.segmentRaw(segment).data() - message.raw().data());
}

// A location in a group's message, as a location in the whole message.
core::Location relocated(core::Location at, const hl7v2::Message& part, const Group& group,
                         const hl7v2::Message& whole) {
  if (at.segmentId.empty() || at.segmentSequence == 0) return at;
  const std::size_t index = part.findSegment(at.segmentId, at.segmentSequence);
  if (index >= group.original.size()) return at;
  const std::size_t original = group.original[index];
  std::uint32_t sequence = 0;
  for (std::size_t i = 0; i <= original; ++i) {
    if (whole.segmentId(i) == at.segmentId) ++sequence;
  }
  const std::size_t partBegin = offsetOf(part, index);
  at.segmentSequence = sequence;
  if (at.byteOffset >= partBegin) at.byteOffset = offsetOf(whole, original) + (at.byteOffset - partBegin);
  return at;
}

}  // namespace

AdaptResult Adapter::adapt(const hl7v2::Message& message) const {
  AdaptResult result = adaptOne(message);
  if (result.kind != AdaptResult::Kind::Attendance) return result;
  const std::vector<std::size_t> pids = message.segmentsNamed("PID");
  if (result.attendance.event != domain::AttendanceEvent::Merge) {
    // An attendance is one patient's: a second PID (two messages run together, an EPR's bug) in a
    // message that would be checked is refused rather than a guess at which patient is meant
    // (hazard H1). It used to check the first, with nothing said. A discharge or cancellation
    // is taken as before (its visit is PV1's, and a cancellation must withdraw what it cancels).
    const bool checks = result.attendance.event == domain::AttendanceEvent::Start ||
                        result.attendance.event == domain::AttendanceEvent::Update;
    if (pids.size() > 1 && checks) {
      result.kind = AdaptResult::Kind::DataError;
      result.attendance.nhsNumber.reset();  // ZCP-13 names neither: which patient is meant is unknown
      result.attendance.refusedNhsNumber.reset();
      result.issues = {core::Issue{core::ErrorCode::SegmentSequence, core::Severity::Error,
                                   core::Location{"PID", 2, 0, 0, 0, 0, offsetOf(message, pids[1])},
                                   "the message carries " + std::to_string(pids.size()) +
                                       " PID segments where an attendance has one patient: not checked"}};
    }
    return result;
  }
  // A merge of several records in one message: every group is read, none dropped, and each from
  // its own segments (read whole, the first group's MRG or PV1 paths would find the next
  // group's when its own are missing).
  if (pids.size() < 2) return result;
  for (std::size_t g = 0; g < pids.size(); ++g) {
    const std::size_t end = g + 1 < pids.size() ? pids[g + 1] : message.segmentCount();
    const Group group = groupOf(message, pids.front(), pids[g], end);
    const std::string name = "merge group " + std::to_string(g + 1);
    auto part = hl7v2::parse(group.text, message.charset());  // the same MSH: the same set
    if (!part) {  // the segments parsed as the whole message's did; a group of them should too
      result.kind = AdaptResult::Kind::DataError;
      core::Issue issue = part.error();
      issue.text = name + " cannot be read on its own: " + issue.text;
      result.issues = {std::move(issue)};
      return result;
    }
    AdaptResult merge = adaptOne(part.value());
    const auto relocate = [&](std::vector<core::Issue>& issues) {
      for (auto& issue : issues) issue.location = relocated(issue.location, part.value(), group, message);
    };
    relocate(merge.issues);
    relocate(merge.attendance.warnings);
    if (merge.kind == AdaptResult::Kind::DataError || merge.kind == AdaptResult::Kind::Failed) {
      merge.attendance = std::move(result.attendance);
      return merge;
    }
    if (merge.kind != AdaptResult::Kind::Attendance || merge.attendance.event != domain::AttendanceEvent::Merge) {
      if (g == 0) {  // nothing of the first group is recorded, nor read from the others' segments
        result.attendance.nhsNumber.reset();
        result.attendance.priorNhsNumber.reset();
        result.attendance.warnings.clear();
      }
      // The adapter made something else of this group: said, not dropped.
      result.attendance.warnings.push_back(
          {core::ErrorCode::SegmentSequence, core::Severity::Warning,
           relocated({"PID", 1, 0, 0, 0, 0, offsetOf(part.value(), pids.front())}, part.value(), group, message),
           name + " is not a merge for this feed's adapter: not recorded"});
      continue;
    }
    if (g == 0) {
      result = std::move(merge);
      continue;
    }
    result.attendance.warnings.insert(result.attendance.warnings.end(), merge.attendance.warnings.begin(),
                                      merge.attendance.warnings.end());
    result.attendance.furtherMerges.push_back(
        {merge.attendance.nhsNumber, merge.attendance.priorNhsNumber, merge.attendance.nhsStatus});
  }
  return result;
}

AdaptResult Adapter::adaptOne(const hl7v2::Message& message) const {
  AdaptResult result;
  mapping::Mapping::RowTerms row;
  if (mapping_ != nullptr) {
    auto mapped = mapping_->apply(message, feed_, &row, &result.attendance);
    if (!mapped) {  // result.attendance: what was read, as for a plugin's refusal below (ZCP-13)
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
    const auto settledSetting = result.attendance.setting;
    const auto settledMode = result.attendance.accessMode;
    const std::string settledKey = result.attendance.locationKey;
    result.attendance.accessModeByAdapter = false;
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
    // The plugin wrote another location key: the location table is read again for it (its
    // care setting, its row's terms), unless the plugin set the care setting itself too.
    const bool rekeyed = mapping_ != nullptr && result.attendance.locationKey != settledKey;
    if (rekeyed) {
      const auto own = result.attendance.setting;
      row = mapping_->relocate(message, result.attendance);
      if (own != settledSetting) {
        result.attendance.setting = own;
        result.attendance.settingByDefault = false;
      }
    }
    // The plugin moved the attendance to another care setting (legacy-v23's GP out-of-hours
    // clinics), or to another row: the row's own terms stand, and the new setting's <settings>
    // entry fills the rest, not the old one's. An access mode the plugin wrote itself stays; one
    // the configuration stated for the old setting stays too when the new one's entry names none
    // (hazard H5: a stated mode is never traded for a built-in default).
    if (rekeyed || (mapping_ != nullptr && result.attendance.setting != settledSetting)) {
      const auto mode = result.attendance.accessMode;
      mapping_->settle(result.attendance, row);
      if (result.attendance.accessModeByAdapter) {
        result.attendance.accessMode = mode;
      } else if (!result.attendance.accessMode) {
        result.attendance.accessMode = settledMode;
      }
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
