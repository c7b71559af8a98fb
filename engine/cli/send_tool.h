#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace cpis::cli {

// Runs `cpis-send ARGS...` (args exclude the program name): sends HL7 v2 messages over MLLP
// (or MLLP/TLS) and reads each ACK; with --connections/--repeat, a load generator.
// Returns 0 when every message got AA/CA, 1 otherwise (AE/AR/CE/CR, a time-out, a refused
// connection), 2 for a usage error.
int runSendTool(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace cpis::cli
