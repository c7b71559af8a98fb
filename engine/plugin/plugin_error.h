#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace cpis::plugin {

// A plugin that cannot be used: it does not load, was built for another ABI, describes itself
// wrongly, or refuses its configuration. Start-up stops here (STYLE.md §4). Each problem is one
// line naming the file or the plugin (never a configuration value: values may be secrets), and
// what() lists them all, so one run shows everything to fix.
class PluginError : public std::runtime_error {
 public:
  explicit PluginError(std::vector<std::string> problems);
  explicit PluginError(std::string problem) : PluginError(std::vector<std::string>{std::move(problem)}) {}

  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

}  // namespace cpis::plugin
