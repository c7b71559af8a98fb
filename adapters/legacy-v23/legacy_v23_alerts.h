#pragma once

// The CP-IS outcome as OBX rows for the legacy PAS (CPIS.md section 5, OBX alternative), shaped
// for what this PAS can file:
//   - OBX-2 only takes HL7 v2.3 value types (table 0125 of v2.3 has no ID or EI): codes and ids
//     go as ST;
//   - the first row is the display text, which the PAS shows in its alert banner, then the check
//     (OBX-4 "0"), one group per plan (1..n), one per prior access (A1..A25);
//   - times are London wall-clock time (the PAS ignores UTC offsets);
//   - coding-system names are the trust's (ObxOptions);
//   - OBX-11 is F, or X (result cannot be obtained) for CHECK_FAILED and NOT_CHECKED, whose text
//     says it is not a negative result.

#include <cpis/plugin.hpp>

#include "adapters/legacy-v23/legacy_v23_config.h"

namespace cpis::adapters::legacy_v23 {

void writeObxAlerts(const sdk::CheckOutcome& outcome, const ObxOptions& options, sdk::AlertWriter& out);

}  // namespace cpis::adapters::legacy_v23
