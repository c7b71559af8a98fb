#pragma once

// ed_arrivals: an emergency department tracking system that reports arrivals (ADT^A04) with the
// attendance details in PV2 and its own ZED segment, and no PV1-19. Its mapping file
// (mappings/ed-arrivals.xml) reads the fields; this adapter adds what a mapping file cannot say
// (README.md):
//   - the visit number, built from the site, the arrival date and the day's attendance sequence
//     number in ZED-2 (the tracking system numbers attendances per site and day);
//   - unscheduled care only: every in-scope arrival queries UNSCHEDULED, and a planned follow-up
//     (ZED-4 category 4) is not an attendance for CP-IS (or, configured so, a silent read);
//   - placeholder birth dates of unknown patients cleared, so they are checked once traced;
//   - alerts: the engine's standard alerts in the feed's encoding, then an NTE with one short
//     line for the tracking board.

#include <string_view>

#include <cpis/plugin.hpp>

#include "adapters/ed-arrivals/ed_arrivals_config.h"

namespace cpis::adapters::ed_arrivals {

// Immutable after construction: adapt() and composeAlerts() run on many threads at once.
class EdArrivalsAdapter final : public sdk::Adapter {
 public:
  explicit EdArrivalsAdapter(const sdk::Config& config);

  sdk::AdaptResult adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const override;
  void composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const override;

 private:
  const EdArrivalsConfig config_;
};

}  // namespace cpis::adapters::ed_arrivals
