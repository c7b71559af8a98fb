#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cpis::cli {

// Runs `cpis-query ARGS...` (args exclude the program name): queries CP-IS (Spine, or the
// simulator) for one NHS number with the given access mode through the engine's own client,
// and prints the result for a person to read, or as JSON with --json.
// Exit status: 0 found, 1 not found, 2 the check failed (never "not found"), 64 usage.
// Needs Poco::Net::initializeSSL() for https endpoints (the program's main does it).
int runQueryTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

inline constexpr int kQueryFound = 0;
inline constexpr int kQueryNotFound = 1;
inline constexpr int kQueryFailed = 2;
inline constexpr int kQueryUsage = 64;

}  // namespace cpis::cli
