#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/issue.h"
#include "engine/core/result.h"
#include "engine/core/status.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/message.h"
#include "engine/plugin/alert_segments.h"
#include "engine/plugin/plugin_config.h"
#include "engine/plugin/plugin_library.h"

namespace cpis::plugin {

class PluginInstance;

// What an adapter made of one message, when it did not fail.
struct AdaptOutcome {
  enum class Kind {
    Attendance,       // the attendance is filled in: decide and check
    NotAnAttendance,  // nothing to check; `reason` says why
    DataError,        // the message is wrong: AE with `issue` as its ERR
  };
  Kind kind = Kind::Attendance;
  std::string reason;                // NotAnAttendance: the adapter's reason (no patient data)
  std::optional<core::Issue> issue;  // DataError: code 100-104, location, text
};

// One configured instance of an adapter plugin: what the pipeline calls for each message of a
// feed. adapt() and composeAlerts() may run on many threads at once (the plugin's contract is
// the same). Exceptions never cross: the C++ SDK's trampolines catch them, and this class
// catches whatever a plugin written without them lets out.
class AdapterPlugin {
 public:
  // Creates an instance for one feed. The settings are checked against the plugin's key table
  // (unknown key, wrong type, missing required key) and the plugin may refuse them in create():
  // either is a PluginError naming the plugin and the key, and start-up stops.
  static std::unique_ptr<AdapterPlugin> create(const PluginLibrary& library, const PluginSettings& settings);
  ~AdapterPlugin();  // the plugin's destroy(); the library itself stays loaded
  AdapterPlugin(const AdapterPlugin&) = delete;
  AdapterPlugin& operator=(const AdapterPlugin&) = delete;

  const PluginLibrary& library() const noexcept { return *library_; }
  const std::string& name() const noexcept { return library_->name(); }

  // Calls the plugin's adapt() on the message and the draft attendance the mapping file made
  // (which the plugin may overwrite). A plugin that fails (CPIS_FAILED, an exception, a
  // DATA_ERROR without a valid code) gives Status::internal: logged and counted here; the
  // pipeline answers that message AE with ERR 207 (failureIssue()) and records it, and carries
  // on with the next message.
  core::Result<AdaptOutcome> adapt(const hl7v2::Message& message, domain::Attendance& attendance) const;

  // Whether the plugin composes its own alerts; when not, the pipeline writes the standard ones.
  bool composesAlerts() const noexcept;
  // Calls the plugin's compose_alerts(), which appends segments to `out` (and may ask for the
  // standard ones through `standard`). On failure whatever it wrote is removed from `out` and
  // the status is Status::internal: the pipeline then writes the standard alerts, so the ACK
  // still says what the check found. Status::ok() without writing anything when the plugin
  // does not compose alerts.
  core::Status composeAlerts(const domain::CheckOutcome& outcome, AlertSegments& out,
                             const StandardAlerts& standard) const;

  // How many calls failed since start-up (for metrics).
  std::uint64_t failures() const noexcept { return failures_.load(std::memory_order_relaxed); }

  // The ERR of an AE for a message whose adapter failed: 207, no detail (that is in the log).
  static core::Issue failureIssue();

 private:
  explicit AdapterPlugin(std::unique_ptr<PluginInstance> instance);
  core::Status failed(std::string_view operation, std::string_view subject, std::string_view why) const;

  const PluginLibrary* library_;
  std::unique_ptr<PluginInstance> instance_;
  mutable std::atomic<std::uint64_t> failures_{0};
};

}  // namespace cpis::plugin
