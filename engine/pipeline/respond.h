#pragma once

// respond: the acknowledgement to an ADT with the CP-IS outcome in alert segments
// (ARCHITECTURE.md stage 7, CPIS.md §5), written by the feed's adapter plugin when it composes
// its own, else by the engine's standard encoders.

#include <span>
#include <string>
#include <string_view>

#include "engine/core/issue.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/message.h"
#include "engine/pipeline/alerts.h"

namespace cpis::plugin {
class AdapterPlugin;
}

namespace cpis::pipeline {

// Whether alert segments (serialised, each ended by '\r', written with `delimiters`) carry the
// check's status: a ZCP with ZCP-2, or an OBX row whose OBX-3 is CPIS-STATUS with an OBX-5
// (CPIS.md §5: every ACK with an outcome carries one; a missing one is hazard H3's "missing ZCP").
bool carriesStatus(std::string_view segments, const hl7v2::Delimiters& delimiters);

class Responder {
 public:
  // `plugin` may be null (standard alerts only).
  Responder(AlertOptions options, const plugin::AdapterPlugin* plugin) : options_(std::move(options)), plugin_(plugin) {}

  // The ACK to `inbound` with `code` and `issues`, then the outcome's alert segments. A plugin
  // that fails to compose its alerts, or composes them without the status (carriesStatus), is
  // logged, and the standard alerts go out instead, so the ACK still says what the check found.
  std::string acknowledge(const hl7v2::Message& inbound, hl7v2::AckCode code, std::span<const core::Issue> issues,
                          hl7v2::AckOptions ack, const domain::CheckOutcome& outcome) const;
  // For an ACK (or late result) the engine built itself, a rejection included: the alerts
  // appended in its own delimiters and character set, composed as acknowledge() composes them.
  void appendTo(std::string& ack, const domain::CheckOutcome& outcome) const;

  const AlertOptions& options() const noexcept { return options_; }

 private:
  // The plugin's alert segments (the standard ones when it fails), serialised.
  std::string composed(const domain::CheckOutcome& outcome, const hl7v2::Delimiters& delimiters,
                       hl7v2::Charset charset, std::string_view controlId) const;

  AlertOptions options_;
  const plugin::AdapterPlugin* plugin_;
};

}  // namespace cpis::pipeline
