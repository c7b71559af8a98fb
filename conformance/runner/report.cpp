#include "conformance/runner/report.h"

#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>

#include "conformance/runner/runner.h"

namespace cpis::conformance {

namespace {

std::string seconds(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << s;
  return out.str();
}

// The first failing check of a scenario, in one line.
std::string firstFailure(const ScenarioResult& r) {
  if (!r.error.empty()) return r.error;
  for (const auto& step : r.steps) {
    if (!step.error.empty()) return step.name + ": " + step.error;
    for (const auto& c : step.checks) {
      if (!c.passed) return step.name + ": " + c.what + ": expected " + c.expected + ", got \"" + c.actual + "\"";
    }
  }
  return "failed";
}

std::string failureDetail(const ScenarioResult& r) {
  std::string text;
  if (!r.error.empty()) text += r.error + "\n";
  for (const auto& step : r.steps) {
    if (step.passed()) continue;
    text += step.name + (step.attempts > 1 ? " (" + std::to_string(step.attempts) + " attempts)" : "") + ":\n";
    if (!step.error.empty()) text += "  " + step.error + "\n";
    for (const auto& c : step.checks) {
      if (!c.passed) text += "  " + c.what + ": expected " + c.expected + ", got \"" + c.actual + "\"\n";
    }
    text += "sent:\n" + step.sent + "\n";
    for (const auto& reply : step.replies) text += "received:\n" + printable(reply) + "\n";
  }
  return text;
}

std::string suiteName(const ScenarioResult& r) {
  const std::string& file = r.scenario->file;
  const auto slash = file.find_last_of('/');
  return slash == std::string::npos ? file : file.substr(slash + 1);
}

}  // namespace

std::string xmlEscape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\n':
      case '\t': out += ch; break;
      case '\r': out += "&#13;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char hex[12];
          std::snprintf(hex, sizeof hex, "&lt;%02X&gt;", static_cast<unsigned>(static_cast<unsigned char>(ch)));
          out += hex;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

Totals totals(const std::vector<ScenarioResult>& results) {
  Totals t;
  for (const auto& r : results) {
    switch (r.verdict) {
      case ScenarioResult::Verdict::Passed: ++t.passed; break;
      case ScenarioResult::Verdict::Failed: ++t.failed; break;
      case ScenarioResult::Verdict::Skipped: ++t.skipped; break;
    }
  }
  return t;
}

void writeConsoleSummary(std::ostream& out, const std::vector<ScenarioResult>& results) {
  for (const auto& r : results) {
    if (r.verdict == ScenarioResult::Verdict::Failed) {
      out << "FAILED " << r.scenario->id << " (" << r.scenario->file << ":" << r.scenario->line << ")\n"
          << failureDetail(r);
    }
  }
  const Totals t = totals(results);
  if (t.skipped > 0) {
    out << t.skipped << " skipped:";
    for (const auto& r : results) {
      if (r.verdict == ScenarioResult::Verdict::Skipped) out << " " << r.scenario->id;
    }
    out << "\n";
  }
  out << results.size() << " scenarios: " << t.passed << " passed, " << t.failed << " failed" << std::endl;
}

void writeJUnit(std::ostream& out, const std::vector<ScenarioResult>& results) {
  std::map<std::string, std::vector<const ScenarioResult*>> suites;
  for (const auto& r : results) suites[suiteName(r)].push_back(&r);
  const Totals all = totals(results);
  double total = 0;
  for (const auto& r : results) total += r.seconds;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"cpis-conformance\" tests=\"" << results.size() << "\" failures=\"" << all.failed
      << "\" skipped=\"" << all.skipped << "\" time=\"" << seconds(total) << "\">\n";
  for (const auto& [name, members] : suites) {
    Totals t;
    double time = 0;
    for (const auto* r : members) {
      time += r->seconds;
      if (r->verdict == ScenarioResult::Verdict::Failed) ++t.failed;
      if (r->verdict == ScenarioResult::Verdict::Skipped) ++t.skipped;
    }
    out << "  <testsuite name=\"" << xmlEscape(name) << "\" tests=\"" << members.size() << "\" failures=\"" << t.failed
        << "\" errors=\"0\" skipped=\"" << t.skipped << "\" time=\"" << seconds(time) << "\">\n";
    for (const auto* r : members) {
      out << "    <testcase classname=\"" << xmlEscape(name) << "\" name=\"" << xmlEscape(r->scenario->id)
          << "\" time=\"" << seconds(r->seconds) << "\"";
      if (r->verdict == ScenarioResult::Verdict::Passed) {
        out << "/>\n";
        continue;
      }
      out << ">\n";
      if (r->verdict == ScenarioResult::Verdict::Skipped) {
        out << "      <skipped message=\"" << xmlEscape(r->skipReason) << "\"/>\n";
      } else {
        out << "      <failure message=\"" << xmlEscape(firstFailure(*r)) << "\">" << xmlEscape(failureDetail(*r))
            << "</failure>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

void writeHtml(std::ostream& out, const std::vector<ScenarioResult>& results) {
  const Totals t = totals(results);
  out << R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cpis-engine conformance report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em} .sum{font-size:1.2em;margin-bottom:1em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.pass{color:#176d2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}.skip{color:#8a6d00;font-weight:bold}
tr.bad td{background:#fff0f0}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.5em;overflow-x:auto;white-space:pre-wrap;word-break:break-all;font-size:.85em}
details{margin:.5em 0 1.5em 0} .cols{display:flex;gap:1em} .cols>div{flex:1;min-width:0}
</style></head><body>
<h1>cpis-engine conformance report</h1>
)";
  out << "<p class=\"sum\"><span class=\"pass\">" << t.passed << " passed</span>, <span class=\"fail\">" << t.failed
      << " failed</span>";
  if (t.skipped) out << ", <span class=\"skip\">" << t.skipped << " skipped</span>";
  out << " of " << results.size() << " scenarios.</p>\n";
  out << "<table><tr><th>scenario</th><th>title</th><th>feed</th><th>tags</th><th>result</th><th>time (s)</th></tr>\n";
  for (const auto& r : results) {
    const auto& s = *r.scenario;
    std::string tags;
    for (const auto& tag : s.tags) tags += (tags.empty() ? "" : " ") + tag;
    const char* cls = r.verdict == ScenarioResult::Verdict::Passed   ? "pass"
                      : r.verdict == ScenarioResult::Verdict::Failed ? "fail"
                                                                      : "skip";
    const char* word = r.verdict == ScenarioResult::Verdict::Passed   ? "passed"
                       : r.verdict == ScenarioResult::Verdict::Failed ? "FAILED"
                                                                       : "skipped";
    out << "<tr" << (r.verdict == ScenarioResult::Verdict::Failed ? " class=\"bad\"" : "") << "><td>";
    if (r.verdict == ScenarioResult::Verdict::Failed) {
      out << "<a href=\"#" << xmlEscape(s.id) << "\">" << xmlEscape(s.id) << "</a>";
    } else {
      out << xmlEscape(s.id);
    }
    out << "</td><td>" << xmlEscape(s.title) << "</td><td>" << xmlEscape(s.feed) << "</td><td>" << xmlEscape(tags)
        << "</td><td class=\"" << cls << "\">" << word
        << (r.verdict == ScenarioResult::Verdict::Skipped ? ": " + xmlEscape(r.skipReason) : "") << "</td><td>"
        << seconds(r.seconds) << "</td></tr>\n";
  }
  out << "</table>\n";
  if (t.failed) out << "<h2>Failures</h2>\n";
  for (const auto& r : results) {
    if (r.verdict != ScenarioResult::Verdict::Failed) continue;
    const auto& s = *r.scenario;
    out << "<h3 id=\"" << xmlEscape(s.id) << "\">" << xmlEscape(s.id) << ": " << xmlEscape(s.title) << "</h3>\n"
        << "<p>" << xmlEscape(s.file) << ":" << s.line << ", feed " << xmlEscape(s.feed) << "</p>\n";
    if (!r.error.empty()) out << "<p class=\"fail\">" << xmlEscape(r.error) << "</p>\n";
    for (const auto& step : r.steps) {
      out << "<h4>" << xmlEscape(step.name) << (step.passed() ? " (passed)" : "")
          << (step.attempts > 1 ? " after " + std::to_string(step.attempts) + " attempts" : "") << "</h4>\n";
      if (!step.error.empty()) out << "<p class=\"fail\">" << xmlEscape(step.error) << "</p>\n";
      out << "<table><tr><th>check</th><th>expected</th><th>actual</th><th></th></tr>\n";
      for (const auto& c : step.checks) {
        out << "<tr" << (c.passed ? "" : " class=\"bad\"") << "><td>" << xmlEscape(c.what) << "</td><td>"
            << xmlEscape(c.expected) << "</td><td>" << xmlEscape(c.actual) << "</td><td class=\""
            << (c.passed ? "pass\">ok" : "fail\">differs") << "</td></tr>\n";
      }
      out << "</table>\n<details" << (step.passed() ? "" : " open") << "><summary>message sent and ACK received</summary>"
          << "<div class=\"cols\"><div><b>sent</b><pre>" << xmlEscape(step.sent) << "</pre></div><div><b>received</b>";
      if (step.replies.empty()) out << "<pre>(nothing)</pre>";
      for (const auto& reply : step.replies) out << "<pre>" << xmlEscape(printable(reply)) << "</pre>";
      out << "</div></div></details>\n";
    }
  }
  out << "</body></html>\n";
}

}  // namespace cpis::conformance
