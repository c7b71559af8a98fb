#include "engine/hl7v2/version.h"

namespace cpis::hl7v2 {

std::optional<Version> Version::parse(std::string_view text) {
  int parts[3] = {0, 0, 0};
  int count = 0;
  std::size_t i = 0;
  while (count < 3) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    int value = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && value < 1000) {
      value = value * 10 + (text[i] - '0');
      ++i;
    }
    parts[count++] = value;
    if (i == text.size()) break;
    if (text[i] != '.') return std::nullopt;
    ++i;
  }
  if (i != text.size() || count < 2) return std::nullopt;
  return Version{parts[0], parts[1], parts[2]};
}

}  // namespace cpis::hl7v2
