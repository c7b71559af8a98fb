#pragma once

// Where the tests and benchmarks that start the CP-IS simulator find what it needs: NHS
// Digital's CP-IS schemas (third-party reference material, outside the repository) and the
// simulator's shipped dataset. Header-only: CPIS_SOURCE_DIR is the including target's.
#include <cstdlib>
#include <filesystem>

namespace cpis::test {

// $CPIS_SPINE_SCHEMAS when set (and not empty), else ../shared/reference/spine-schema beside
// the source tree.
inline std::filesystem::path spineSchemaFolder() {
  if (const char* env = std::getenv("CPIS_SPINE_SCHEMAS"); env != nullptr && *env != 0) return env;
  return std::filesystem::path(CPIS_SOURCE_DIR) / ".." / "shared" / "reference" / "spine-schema";
}

// conformance/simulator/dataset/children.json
inline std::filesystem::path simulatorDataset() {
  return std::filesystem::path(CPIS_SOURCE_DIR) / "conformance" / "simulator" / "dataset" / "children.json";
}

}  // namespace cpis::test
