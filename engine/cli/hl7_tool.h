#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace cpis::cli {

// The clock and id source an ACK is stamped with; tests pass fixed ones.
struct AckStamp {
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
  std::function<std::string()> nextControlId;  // default: time-based
};

// Runs `cpis-hl7 ARGS...` (args exclude the program name). Returns the exit status:
// 0 success, 1 a message failed (check) or could not be read, 2 a usage error.
int runHl7Tool(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
               const AckStamp& stamp = {});

}  // namespace cpis::cli
