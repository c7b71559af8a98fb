#pragma once

// `cpis-conformance analyse`: the feed readiness report (issue 8). The cpis-conformance
// program's main dispatches its `analyse` sub-command here.

#include <ostream>
#include <string>
#include <vector>

namespace cpis::conformance {

// `args`: what follows "analyse" on the command line. Writes the report where the arguments
// say; progress and the summary to `out`, errors (file, what is wrong) to `err`. Returns the
// process exit code: 0 written, 2 usage or input error.
int analyseCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace cpis::conformance
