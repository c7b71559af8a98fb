#pragma once

#include <cstdint>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpis::config {

// One thing wrong with a configuration (or schema) file, located. Line and column are 1-based;
// 0 means the problem concerns the whole file (it cannot be read, it is empty). For an element,
// Xerces's own messages and ours both point just past its start tag.
struct ConfigProblem {
  std::string file;
  std::uint64_t line = 0;
  std::uint64_t column = 0;
  std::string message;  // names elements, attributes and files; never a secret's content

  friend bool operator==(const ConfigProblem&, const ConfigProblem&) = default;
};
// "file:line:column: message", or "file: message" when line is 0.
std::ostream& operator<<(std::ostream& os, const ConfigProblem& problem);

// Start-up stops here (STYLE.md §4): what() lists every problem found, one per line, in file
// order, so one run shows everything that needs fixing.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigProblem> problems);

  const std::vector<ConfigProblem>& problems() const noexcept { return problems_; }

 private:
  std::vector<ConfigProblem> problems_;
};

}  // namespace cpis::config
