#pragma once

// Alerts for the ED tracking system: the engine's standard encoding in the feed's configured
// form (ZCP/ZCA, or OBX where a site's release cannot take Z-segments), then one NTE with a short
// line for the tracking board's notes column (NTE-3), whose width the trust configures.

#include <cstdint>
#include <string>

#include <cpis/plugin.hpp>

#include "adapters/ed-arrivals/ed_arrivals_config.h"

namespace cpis::adapters::ed_arrivals {

// The board's line: "CP-IS ALERT: CPP, LAC - see CP-IS details", "CP-IS: no plan found",
// "CP-IS CHECK FAILED - not a negative result", "CP-IS NOT CHECKED - not a negative result";
// at most `width` characters (a FOUND line is shortened with "...", the others always fit).
std::string boardNote(const sdk::CheckOutcome& outcome, std::uint32_t width);

// Writes the standard alerts and, when configured, the NTE. Throws when the engine offers no
// standard encoder (the engine then writes its own alerts).
void writeAlerts(const sdk::CheckOutcome& outcome, const EdArrivalsConfig& config, sdk::AlertWriter& out);

}  // namespace cpis::adapters::ed_arrivals
