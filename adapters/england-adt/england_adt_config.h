#pragma once

// The england_adt adapter's configuration keys (the feed's <adapter> settings) and their values.

#include <cpis/plugin.hpp>

namespace cpis::adapters::england_adt {

// Key names, shared by the key table (england_adt_adapter.cpp) and read().
inline constexpr const char* kA08Updates = "a08_updates";
inline constexpr const char* kA02Updates = "a02_updates";
inline constexpr const char* kRequireNhType = "require_nh_type";

// What the trust's integration team may change without editing the mapping file. Immutable
// once read.
struct EnglandAdtConfig {
  // A08 updates the attendance. Off: A08 is "not an attendance" on this feed, for EPRs that send
  // an A08 for every demographic edit (the engine then never re-checks on an A08).
  bool a08Updates = true;
  // A02 transfers update the attendance (a re-check only when the access mode changes). Off: A02
  // is not an attendance on this feed.
  bool a02Updates = true;
  // Only a PID-3 repetition typed NH is the NHS number (HL7 UK v2.5.1 feeds that always type
  // it). Off: an NHS-authority repetition without a type is taken too, as ITK v2.4 samples send.
  bool requireNhType = false;

  // Reads the values the engine checked against the key table; throws sdk::UsageError (which
  // refuses the configuration) only for a key the table does not declare.
  static EnglandAdtConfig read(const sdk::Config& config);
};

}  // namespace cpis::adapters::england_adt
