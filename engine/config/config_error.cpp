#include "engine/config/config_error.h"

#include <sstream>
#include <utility>

namespace cpis::config {

std::ostream& operator<<(std::ostream& os, const ConfigProblem& problem) {
  os << problem.file;
  if (problem.line != 0) os << ':' << problem.line << ':' << problem.column;
  return os << ": " << problem.message;
}

namespace {

std::string listProblems(const std::vector<ConfigProblem>& problems) {
  std::ostringstream text;
  for (std::size_t i = 0; i < problems.size(); ++i) text << (i == 0 ? "" : "\n") << problems[i];
  return text.str();
}

}  // namespace

ConfigError::ConfigError(std::vector<ConfigProblem> problems)
    : std::runtime_error(listProblems(problems)), problems_(std::move(problems)) {}

}  // namespace cpis::config
