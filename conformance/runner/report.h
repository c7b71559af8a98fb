#pragma once

// The reports of a run: the console summary (ending "N passed, N failed"), JUnit XML for CI,
// and one self-contained HTML page that shows, for each failure, what was expected beside
// what came back, with the message sent and the acknowledgement received.

#include <ostream>
#include <vector>

#include "conformance/runner/results.h"

namespace cpis::conformance {

struct Totals {
  std::size_t passed = 0, failed = 0, skipped = 0;
};
Totals totals(const std::vector<ScenarioResult>& results);

void writeConsoleSummary(std::ostream& out, const std::vector<ScenarioResult>& results);
void writeJUnit(std::ostream& out, const std::vector<ScenarioResult>& results);
void writeHtml(std::ostream& out, const std::vector<ScenarioResult>& results);

// Text made safe for XML and HTML content and attributes (control characters shown as <XX>).
std::string xmlEscape(const std::string& text);

}  // namespace cpis::conformance
