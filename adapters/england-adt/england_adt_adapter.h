#pragma once

// england_adt: the NHS England ADT profile (ITK HL7 v2 Message Specification, HL7 v2.4, and the
// HL7 UK standard for HL7 v2.5.1) as an acute trust's EPR sends it. The feed's mapping file
// (mappings/england-adt.xml) does most of the work; this adapter adds what a mapping file cannot
// say (README.md):
//   - the NHS number rule made strict: a PID-3 repetition under the authority NHS, in the HL7 UK
//     HD form only when its universal id is the NHS number OID (never another OID that happens
//     to sit under the namespace NHS), never a typed local number, and none at all when two NHS
//     repetitions disagree;
//   - PID-32 as v2.5.1 sends it, a repeating field in which the trace status may follow other
//     identity reliability codes (AL~NSTS01);
//   - switches for A08 and A02, for EPRs whose updates are noise.
// Alerts go back as the engine's standard ZCP and ZCA segments (CPIS.md section 5).

#include <string_view>

#include <cpis/plugin.hpp>

#include "adapters/england-adt/england_adt_config.h"

namespace cpis::adapters::england_adt {

// Immutable after construction: adapt() and composeAlerts() run on many threads at once.
class EnglandAdtAdapter final : public sdk::Adapter {
 public:
  explicit EnglandAdtAdapter(const sdk::Config& config);

  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override;
  void composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const override;

 private:
  // The NHS number of PID-3 by the strict rule, or "" when there is none (or two that differ).
  std::string nhsNumberOf(const sdk::MessageView& message, std::string_view controlId) const;
  // The first NHS number trace status among PID-32's repetitions, as NSTSnn, or "".
  static std::string traceStatusOf(const sdk::MessageView& message);

  const EnglandAdtConfig config_;
};

}  // namespace cpis::adapters::england_adt
