#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "engine/core/result.h"

namespace cpis::hl7v2 {

// A Terser-style field path, the one syntax used by code and by mapping files:
//   SEG[(n)]-F[(r)][.C[.S]]      e.g. PID-3(2).4.1, OBX(3)-5, MSH-9.2, PID-3(*).1
// Every number is 1-based. A segment or field repetition may be `*` (every occurrence) where
// the caller asks for all values. As in HAPI's Terser, a path that stops at a field or a
// component reads its first component / sub-component.
struct Path {
  static constexpr std::uint32_t kAll = std::numeric_limits<std::uint32_t>::max();

  std::string segmentId;                // three characters: "PID", "ZU3"
  std::uint32_t segmentRepetition = 1;  // which occurrence of the segment in the message
  std::uint32_t field = 1;
  std::uint32_t fieldRepetition = 1;
  std::uint32_t component = 0;     // 0 = not given
  std::uint32_t subComponent = 0;  // 0 = not given

  std::string toString() const;
  friend bool operator==(const Path&, const Path&) = default;
};

// A syntax error is one line naming the path's problem ("expected '-' after the segment id").
core::Result<Path, std::string> parsePath(std::string_view text);

}  // namespace cpis::hl7v2
