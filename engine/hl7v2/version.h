#pragma once

#include <optional>
#include <string_view>

namespace cpis::hl7v2 {

// An HL7 v2 version id (MSH-12.1): "2.3", "2.3.1", "2.5.1". Ordered, so ACK and ERR rules can
// say "from 2.5".
struct Version {
  int major = 2;
  int minor = 4;
  int patch = 0;

  static std::optional<Version> parse(std::string_view text);
  bool atLeast(int maj, int min, int pat = 0) const noexcept {
    if (major != maj) return major > maj;
    if (minor != min) return minor > min;
    return patch >= pat;
  }
  // An HL7 version 2 release, 2.0 to 2.9 (table 0104): what the engine reads.
  bool isV2Release() const noexcept { return major == 2 && minor <= 9; }
  friend auto operator<=>(const Version&, const Version&) = default;
};

}  // namespace cpis::hl7v2
