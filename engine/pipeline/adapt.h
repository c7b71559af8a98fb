#pragma once

// adapt: what a message means for an attendance (ARCHITECTURE.md stage 4). The feed's mapping
// file makes a draft attendance; the feed's adapter plugin, when it has one, may correct it or
// say the message is not an attendance.

#include <optional>
#include <string>
#include <vector>

#include "engine/core/issue.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/message.h"

namespace cpis::mapping {
class Mapping;
}
namespace cpis::plugin {
class AdapterPlugin;
}

namespace cpis::pipeline {

struct AdaptResult {
  enum class Kind {
    Attendance,       // decide and, maybe, check
    NotAnAttendance,  // nothing to check: NOT_CHECKED / NOT_AN_ATTENDANCE
    DataError,        // the message is wrong for this feed: AE with `issues`, stored as failed
    Failed,           // the adapter failed (a plugin bug): AE with ERR 207, stored as failed
  };
  Kind kind = Kind::NotAnAttendance;
  domain::Attendance attendance;  // Attendance (and, partly, the others)
  std::string reason;             // NotAnAttendance, Failed: codes and rules, never values
  std::vector<core::Issue> issues;
};

// A feed's adapter: its mapping and its plugin (either may be absent; with neither, every
// message is NotAnAttendance). Immutable and thread-safe.
class Adapter {
 public:
  Adapter(std::string feed, const mapping::Mapping* mapping, const plugin::AdapterPlugin* plugin)
      : feed_(std::move(feed)), mapping_(mapping), plugin_(plugin) {}

  // A merge message (MERGE) with several PID/MRG groups (ADT_A39 repeats the group) has each
  // group read as a message of its own (the segments before the first PID, then the group's),
  // by the same mapping and plugin: the first into the attendance, the others into
  // Attendance::furtherMerges; what is said of a group (issues, warnings) is located in the
  // whole message. A group that is an error makes the whole message one: every merge or none.
  AdaptResult adapt(const hl7v2::Message& message) const;

  const plugin::AdapterPlugin* plugin() const noexcept { return plugin_; }

 private:
  AdaptResult adaptOne(const hl7v2::Message& message) const;

  std::string feed_;
  const mapping::Mapping* mapping_;
  const plugin::AdapterPlugin* plugin_;
};

}  // namespace cpis::pipeline
