#pragma once

// legacy_v23: an HL7 v2.3 patient administration system of the kind still feeding some minor
// injuries units, urgent care centres and maternity units. Its mapping file
// (mappings/legacy-v23.xml) reads the Z-segments; this adapter adds what a mapping file cannot
// say (README.md):
//   - the NHS number: PID-3 under the authority NHS, else PID-2 (written with spaces), else an
//     untyped PID-3 repetition recognised by its shape (ten digits passing modulus 11) and only
//     next to the PAS's own labelled number; never a typed or local repetition, and none at all
//     when two sources disagree;
//   - the trace status in ZU1-27, which older releases write as one digit;
//   - the urgent care centre that the GP out-of-hours service runs outside core hours: the same
//     ZPV-2 code means UTC_WIC or GP_OOH depending on the London time of arrival;
//   - alerts as OBX rows this PAS can file (it refuses Z-segments), in v2.3 value types, with
//     London wall-clock times and the coding-system names the trust configures.

#include <optional>
#include <string>
#include <string_view>

#include <cpis/plugin.hpp>

#include "adapters/legacy-v23/legacy_v23_config.h"

namespace cpis::adapters::legacy_v23 {

// Immutable after construction: adapt() and composeAlerts() run on many threads at once.
class LegacyV23Adapter final : public sdk::Adapter {
 public:
  explicit LegacyV23Adapter(const sdk::Config& config);

  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override;
  void composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const override;

 private:
  // The NHS number by the PAS's rules (digits, spaces allowed), or "" when there is none or the
  // sources disagree.
  std::string nhsNumberOf(const sdk::MessageView& message, std::string_view controlId) const;
  // Whether an attendance that arrived at `arrivedAt` (the engine's UTC text) is out of hours.
  std::optional<bool> outOfHours(std::string_view arrivedAt) const;

  const LegacyV23Config config_;
};

}  // namespace cpis::adapters::legacy_v23
