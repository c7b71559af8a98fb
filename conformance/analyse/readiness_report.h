#pragma once

// Writes a ReadinessReport: a self-contained HTML page (inline CSS, no script, no external
// resource) and a JSON document with the same counts. Neither holds more than the report does:
// codes, counts, field and location names, file names with message ordinals.

#include <ostream>
#include <string>
#include <string_view>

#include "conformance/analyse/readiness.h"

namespace cpis::conformance {

void writeHtml(const ReadinessReport& report, std::ostream& out);
void writeJson(const ReadinessReport& report, std::ostream& out);

// The one-paragraph summary the command prints (and the HTML page opens with).
std::string summaryText(const ReadinessReport& report);

// What an outcome key of ReadinessReport::outcomes means, for people.
std::string_view describeOutcome(std::string_view outcome);

}  // namespace cpis::conformance
