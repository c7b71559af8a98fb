#include "conformance/analyse/readiness_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <iomanip>
#include <sstream>
#include <utility>
#include <vector>

namespace cpis::conformance {

namespace {

std::string html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string json(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (b < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", b);
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string percent(std::size_t part, std::size_t whole) {
  if (whole == 0) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << 100.0 * static_cast<double>(part) / static_cast<double>(whole) << "%";
  return os.str();
}

std::size_t countOf(const Tallies& tallies, const std::string& key) {
  const auto it = tallies.find(key);
  return it == tallies.end() ? 0 : it->second.count;
}

std::size_t total(const Tallies& tallies, bool withInformation = true) {
  std::size_t n = 0;
  for (const auto& [key, tally] : tallies) {
    if (withInformation || key.rfind("(information)", 0) != 0) n += tally.count;
  }
  return n;
}

// Rows by count, largest first (then by key).
std::vector<std::pair<std::string, const Tally*>> byCount(const Tallies& tallies) {
  std::vector<std::pair<std::string, const Tally*>> rows;
  for (const auto& [key, tally] : tallies) rows.emplace_back(key, &tally);
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second->count > b.second->count; });
  return rows;
}

std::string_view describeReason(std::string_view code) {
  static const std::vector<std::pair<std::string_view, std::string_view>> kReasons{
      {"NOT_AN_ATTENDANCE", "the event does not start or update an attendance"},
      {"LOCATION_UNMAPPED", "the location is not in the mapping's location table"},
      {"SETTING_OUT_OF_SCOPE", "the location maps to a setting CP-IS does not cover"},
      {"NO_NHS_NUMBER", "the message carries no NHS number"},
      {"NHS_NUMBER_INVALID", "the NHS number is not valid (modulus 11, length, characters)"},
      {"NHS_NUMBER_UNVERIFIED", "the NHS number's trace status is not verified"},
      {"AGE_OUT_OF_SCOPE", "the patient is at or over the setting's age limit"},
      {"TEST_NUMBER_IN_LIVE", "a 999 test or placeholder NHS number in a LIVE feed"},
      {"DISABLED", "checks are disabled for the feed or location"},
  };
  for (const auto& [c, text] : kReasons) {
    if (c == code) return text;
  }
  return "";
}

const char* kStyle = R"(
body { font-family: "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px;
       color: #1d2a33; padding: 0 16px; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 4px; color: #005eb8; }
h2 { font-size: 1.2em; margin-top: 32px; border-bottom: 2px solid #005eb8; padding-bottom: 4px; }
h3 { font-size: 1.0em; margin-top: 18px; }
p.meta { color: #4c6272; margin-top: 0; }
.summary { background: #eef4fa; border-left: 6px solid #005eb8; padding: 12px 16px; margin: 16px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #d8dde0; border-radius: 6px; padding: 10px 14px; min-width: 140px; background: #fff; }
.card .n { font-size: 1.6em; font-weight: 600; display: block; }
.card.good .n { color: #007f3b; } .card.warn .n { color: #b35900; } .card.bad .n { color: #d5281b; }
table { border-collapse: collapse; margin: 8px 0 16px; width: 100%; font-size: 0.92em; }
th, td { border: 1px solid #d8dde0; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f4f5; }
td.n { text-align: right; white-space: nowrap; width: 6em; }
td.ex { color: #4c6272; font-size: 0.9em; width: 22em; }
tr.problem td:first-child { border-left: 4px solid #d5281b; }
.none { color: #4c6272; font-style: italic; }
.ok { color: #007f3b; }
footer { margin-top: 40px; color: #4c6272; font-size: 0.85em; }
)";

class Page {
 public:
  explicit Page(std::ostream& out) : out_(out) {}

  void table(const Tallies& tallies, std::string_view keyHeading, std::size_t whole, bool problems = false,
             const std::function<std::string(const std::string&)>& describe = {}) {
    if (tallies.empty()) {
      out_ << "<p class=\"none\">None.</p>\n";
      return;
    }
    out_ << "<table><tr><th>" << html(keyHeading) << "</th>";
    if (describe) out_ << "<th>meaning</th>";
    out_ << "<th>count</th><th>share</th><th>examples (file #message)</th></tr>\n";
    for (const auto& [key, tally] : byCount(tallies)) {
      const bool info = key.rfind("(information)", 0) == 0;
      out_ << "<tr" << (problems && !info ? " class=\"problem\"" : "") << "><td>" << html(key) << "</td>";
      if (describe) out_ << "<td>" << html(describe(key)) << "</td>";
      out_ << "<td class=\"n\">" << tally->count << "</td><td class=\"n\">" << percent(tally->count, whole)
           << "</td><td class=\"ex\">";
      for (std::size_t i = 0; i < tally->examples.size(); ++i) out_ << (i ? ", " : "") << html(tally->examples[i]);
      out_ << "</td></tr>\n";
    }
    out_ << "</table>\n";
  }

  void card(std::string_view label, std::size_t n, std::string_view kind) {
    out_ << "<div class=\"card " << kind << "\"><span class=\"n\">" << n << "</span>" << html(label) << "</div>\n";
  }

 private:
  std::ostream& out_;
};

void jsonTallies(std::ostream& out, const Tallies& tallies) {
  out << "{";
  bool first = true;
  for (const auto& [key, tally] : tallies) {
    out << (first ? "" : ",") << "\n    " << json(key) << ": {\"count\": " << tally.count << ", \"examples\": [";
    for (std::size_t i = 0; i < tally.examples.size(); ++i) out << (i ? ", " : "") << json(tally.examples[i]);
    out << "]}";
    first = false;
  }
  out << (first ? "}" : "\n  }");
}

}  // namespace

std::string_view describeOutcome(std::string_view outcome) {
  if (outcome == "CHECK_DUE") return "would query CP-IS (AA with the alerts the answer gives)";
  if (outcome == "REPEATS_EARLIER_CHECK") return "an update of an attendance already checked on the same basis: the earlier answer is repeated, no new query";
  if (outcome == "NOT_CHECKED") return "accepted (AA) with a NOT_CHECKED alert: see the reasons below";
  if (outcome == "REJECTED") return "AE: the message is wrong for this feed (a required field missing, a date that does not read)";
  if (outcome == "ADAPTER_FAILED") return "AE with ERR 207: the adapter plugin failed on the message";
  if (outcome == "NOT_ADT") return "not an ADT message: stored and acknowledged, never checked";
  if (outcome == "NOT_PROCESSED") return "an MLLP frame without its end block (or over 64 MiB): the engine never processes it, the sender resends";
  if (outcome == "UNREADABLE") return "AR: the HL7 v2 parser refuses the message (see Parse errors)";
  return "";
}

std::string summaryText(const ReadinessReport& r) {
  std::ostringstream os;
  os << r.messages << " message" << (r.messages == 1 ? "" : "s") << " in " << r.files << " file"
     << (r.files == 1 ? "" : "s") << " (" << r.adt << " ADT): " << countOf(r.outcomes, "CHECK_DUE")
     << " would trigger a CP-IS check, " << countOf(r.outcomes, "REPEATS_EARLIER_CHECK")
     << " repeat an earlier check, " << countOf(r.outcomes, "NOT_CHECKED") << " not checked, "
     << countOf(r.outcomes, "REJECTED") + countOf(r.outcomes, "ADAPTER_FAILED") << " rejected (AE), "
     << countOf(r.outcomes, "UNREADABLE") << " unreadable (AR); " << r.problemCount() << " problem" << (r.problemCount() == 1 ? "" : "s") << " found.";
  return os.str();
}

void writeHtml(const ReadinessReport& r, std::ostream& out) {
  Page page(out);
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<title>Feed readiness report: " << html(r.mapping) << "</title>\n<style>" << kStyle
      << "</style></head><body>\n";
  out << "<h1>CP-IS feed readiness report</h1>\n<p class=\"meta\">Mapping <b>" << html(r.mapping)
      << "</b> &middot; adapter <b>" << html(r.adapter) << "</b> &middot; environment <b>" << html(r.environment)
      << "</b> &middot; folder <code>" << html(r.folder) << "</code> &middot; " << html(r.generatedAt) << "</p>\n";
  out << "<div class=\"summary\">" << html(summaryText(r))
      << " Each message was run through the engine's own parse, adapt and decide stages; CP-IS was not "
         "queried. No patient identifier appears in this report: messages are named by file and position.</div>\n";

  const std::size_t problems = r.problemCount();
  out << "<div class=\"cards\">\n";
  page.card("messages", r.messages, "");
  page.card("ADT messages", r.adt, "");
  page.card("would trigger a check", countOf(r.outcomes, "CHECK_DUE"), "good");
  page.card("not checked", countOf(r.outcomes, "NOT_CHECKED"), "warn");
  page.card("rejected (AE)", countOf(r.outcomes, "REJECTED") + countOf(r.outcomes, "ADAPTER_FAILED"),
            countOf(r.outcomes, "REJECTED") + countOf(r.outcomes, "ADAPTER_FAILED") ? "bad" : "good");
  page.card("unreadable (AR)", countOf(r.outcomes, "UNREADABLE"), countOf(r.outcomes, "UNREADABLE") ? "bad" : "good");
  page.card("problems found", problems, problems ? "bad" : "good");
  out << "</div>\n";

  out << "<h2>Messages by type</h2>\n";
  page.table(r.byType, "message type", r.parsed);

  out << "<h2>What the engine would do</h2>\n";
  page.table(r.outcomes, "outcome", r.messages, false,
             [](const std::string& key) { return std::string(describeOutcome(key)); });
  out << "<h3>Why not checked (reason codes)</h3>\n";
  page.table(r.reasons, "reason", total(r.reasons), false,
             [](const std::string& key) { return std::string(describeReason(key)); });
  out << "<h3>Decisions in detail</h3>\n";
  page.table(r.reasonTexts, "decision", r.adt);
  out << "<h3>Rejections (the ERR an AE would carry)</h3>\n";
  page.table(r.rejections, "ERR", r.adt, true);

  out << "<h2>NHS numbers</h2>\n<p>Over the ADT messages the feed's mapping reads as attendance events, after the "
         "adapter.</p>\n";
  page.table(r.nhsNumbers, "NHS number", total(r.nhsNumbers));
  out << "<h3>Trace status (PID-32)</h3>\n";
  page.table(r.traceStatus, "status", total(r.traceStatus));
  if (!r.traceStatusUnread.empty()) {
    out << "<h3>Trace status values the mapping file cannot read</h3>\n<p>As the mapping file reads PID-32 (an "
           "adapter may still correct them).</p>\n";
    page.table(r.traceStatusUnread, "value", total(r.traceStatusUnread), true);
  }

  out << "<h2>Mapped fields</h2>\n<p>Over the " << r.attendanceEvents
      << " ADT messages whose event the mapping calls an attendance event. A required field that is missing "
         "makes the message AE; an optional one only weakens the check (a missing birth date: checked "
         "anyway; a missing trace status: NOT_CHECKED unless unverified numbers are accepted).</p>\n";
  if (r.fields.empty()) {
    out << "<p class=\"none\">The mapping reads no fields.</p>\n";
  } else {
    out << "<table><tr><th>field</th><th>read from</th><th>required</th><th>missing</th><th>share</th>"
           "<th>malformed</th><th>examples (file #message)</th></tr>\n";
    for (const FieldStats& f : r.fields) {
      const bool bad = (f.required && f.missing.count > 0) || f.malformed.count > 0;
      out << "<tr" << (bad ? " class=\"problem\"" : "") << "><td>" << html(f.name) << "</td><td><code>"
          << html(f.paths) << "</code></td><td>" << (f.required ? "required" : "optional")
          << "</td><td class=\"n\">" << f.missing.count << "</td><td class=\"n\">"
          << percent(f.missing.count, r.attendanceEvents) << "</td><td class=\"n\">" << f.malformed.count
          << "</td><td class=\"ex\">";
      std::vector<std::string> examples = f.malformed.examples;
      examples.insert(examples.end(), f.missing.examples.begin(), f.missing.examples.end());
      for (std::size_t i = 0; i < examples.size() && i < Tally::kExamples; ++i) {
        out << (i ? ", " : "") << html(examples[i]);
      }
      out << "</td></tr>\n";
    }
    out << "</table>\n";
  }

  out << "<h2>Locations and care settings</h2>\n<h3>Care settings of attendances</h3>\n";
  page.table(r.settings, "care setting", r.attendances);
  out << "<h3>Locations that map to nothing (LOCATION_UNMAPPED)</h3>\n<p>Add these location keys to the "
         "mapping's location table, or an <code>&lt;otherwise&gt;</code> row.</p>\n";
  page.table(r.unmappedLocations, "location key", total(r.unmappedLocations), true);
  out << "<h3>Locations mapped out of scope (SETTING_OUT_OF_SCOPE)</h3>\n";
  page.table(r.outOfScopeLocations, "location key", total(r.outOfScopeLocations));

  out << "<h2>Character sets</h2>\n<h3>MSH-18 declared</h3>\n";
  page.table(r.charsetDeclared, "MSH-18", r.messages);
  out << "<h3>Bytes seen</h3>\n";
  page.table(r.charsetSeen, "bytes", r.messages);
  out << "<h3>Character-set problems</h3>\n";
  page.table(r.charsetProblems, "problem", r.messages, true);

  out << "<h2>Framing and files</h2>\n<h3>Segment terminators, per file</h3>\n";
  page.table(r.lineEndings, "terminators", r.files);
  out << "<h3>Framing problems</h3>\n";
  page.table(r.framing, "problem", r.messages, true);

  out << "<h2>Parse errors</h2>\n<p>What the engine's AR would say in ERR (code, location as ERR-2, "
         "text).</p>\n";
  page.table(r.parseErrors, "error", r.messages, true);
  out << "<h3>Parse warnings</h3>\n";
  page.table(r.parseWarnings, "warning", r.parsed);

  out << "<footer>" << r.files << " files, " << r.bytes
      << " bytes read. Generated by <code>cpis-conformance analyse</code> (cpis-engine).</footer>\n</body></html>\n";
}

void writeJson(const ReadinessReport& r, std::ostream& out) {
  out << "{\n  \"folder\": " << json(r.folder) << ",\n  \"adapter\": " << json(r.adapter)
      << ",\n  \"mapping\": " << json(r.mapping) << ",\n  \"environment\": " << json(r.environment)
      << ",\n  \"generatedAt\": " << json(r.generatedAt) << ",\n  \"summary\": " << json(summaryText(r))
      << ",\n  \"files\": " << r.files << ",\n  \"bytes\": " << r.bytes << ",\n  \"messages\": " << r.messages
      << ",\n  \"parsed\": " << r.parsed << ",\n  \"adt\": " << r.adt
      << ",\n  \"attendanceEvents\": " << r.attendanceEvents << ",\n  \"attendances\": " << r.attendances
      << ",\n  \"problems\": " << r.problemCount();
  const std::vector<std::pair<std::string_view, const Tallies*>> sections{
      {"byType", &r.byType},
      {"outcomes", &r.outcomes},
      {"reasons", &r.reasons},
      {"decisions", &r.reasonTexts},
      {"rejections", &r.rejections},
      {"nhsNumbers", &r.nhsNumbers},
      {"traceStatus", &r.traceStatus},
      {"traceStatusUnread", &r.traceStatusUnread},
      {"settings", &r.settings},
      {"unmappedLocations", &r.unmappedLocations},
      {"outOfScopeLocations", &r.outOfScopeLocations},
      {"charsetDeclared", &r.charsetDeclared},
      {"charsetSeen", &r.charsetSeen},
      {"charsetProblems", &r.charsetProblems},
      {"lineEndings", &r.lineEndings},
      {"framing", &r.framing},
      {"parseErrors", &r.parseErrors},
      {"parseWarnings", &r.parseWarnings},
  };
  for (const auto& [name, tallies] : sections) {
    out << ",\n  " << json(name) << ": ";
    jsonTallies(out, *tallies);
  }
  out << ",\n  \"fields\": [";
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    const FieldStats& f = r.fields[i];
    out << (i ? "," : "") << "\n    {\"name\": " << json(f.name) << ", \"paths\": " << json(f.paths)
        << ", \"required\": " << (f.required ? "true" : "false") << ", \"missing\": " << f.missing.count
        << ", \"malformed\": " << f.malformed.count << "}";
  }
  out << (r.fields.empty() ? "]" : "\n  ]") << "\n}\n";
}

}  // namespace cpis::conformance
