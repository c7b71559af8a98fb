#pragma once

// Shared by the config tests: files written into a scratch directory (tests/support/temp_dir.h).

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "tests/support/temp_dir.h"

namespace cpis::test {

// Writes `content` to `relative` under `dir` (creating directories) and returns the full path.
inline std::filesystem::path writeFile(const TempDir& dir, std::string_view relative,
                                       std::string_view content) {
  const auto file = dir.path() / relative;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace cpis::test
