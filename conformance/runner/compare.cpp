#include <string>
#include <vector>

#include "conformance/runner/results.h"
#include "engine/hl7v2/message.h"

namespace cpis::conformance {

namespace {

bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
bool endsWith(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Segment `index` of the message read at a relative path ("4.1"): the absolute path for the
// occurrence is built as ID(n)-4.1.
std::string relative(const hl7v2::Message& m, const std::string& id, std::size_t occurrence, const std::string& path) {
  return m.get(id + "(" + std::to_string(occurrence) + ")-" + path);
}

bool whereHolds(const hl7v2::Message& m, const std::string& id, std::size_t occurrence,
                const std::vector<std::pair<std::string, std::string>>& where) {
  for (const auto& [path, value] : where) {
    if (relative(m, id, occurrence, path) != value) return false;
  }
  return true;
}

// The occurrence numbers (1-based, among segments with this id) that satisfy `where`.
std::vector<std::size_t> selected(const hl7v2::Message& m, const std::string& id,
                                  const std::vector<std::pair<std::string, std::string>>& where) {
  std::vector<std::size_t> found;
  const std::size_t n = m.occurrences(id);
  for (std::size_t i = 1; i <= n; ++i) {
    if (whereHolds(m, id, i, where)) found.push_back(i);
  }
  return found;
}

std::string whereText(const std::vector<std::pair<std::string, std::string>>& where) {
  std::string text;
  for (const auto& [path, value] : where) text += (text.empty() ? "" : " ") + path + "=" + value;
  return text;
}

CheckResult check(std::string what, std::string expected, std::string actual, bool passed) {
  return CheckResult{std::move(what), std::move(expected), std::move(actual), passed};
}

}  // namespace

bool StepResult::passed() const {
  if (!error.empty()) return false;
  for (const auto& c : checks) {
    if (!c.passed) return false;
  }
  return true;
}

bool matches(const FieldCheck& c, const std::string& actual) {
  switch (c.match) {
    case Match::Equals: return actual == c.value;
    case Match::Prefix: return startsWith(actual, c.value);
    case Match::Suffix: return endsWith(actual, c.value);
    case Match::Contains: return actual.find(c.value) != std::string::npos;
    case Match::NonEmpty: return !actual.empty();
    case Match::Empty:
    case Match::Absent: return actual.empty();  // in HL7 v2 an absent value reads as empty
  }
  return false;
}

std::string describe(const FieldCheck& c) {
  switch (c.match) {
    case Match::NonEmpty:
    case Match::Empty:
    case Match::Absent: return std::string(toString(c.match));
    default: return std::string(toString(c.match)) + " \"" + c.value + "\"";
  }
}

std::vector<CheckResult> checkReply(const ReplyExpect& expect, const std::string& reply, const std::string& controlId,
                                    const std::vector<std::string>& earlierReplies) {
  std::vector<CheckResult> results;
  if (expect.sameAsStep) {
    const std::size_t index = *expect.sameAsStep - 1;
    const std::string earlier = index < earlierReplies.size() ? earlierReplies[index] : "<no reply>";
    results.push_back(check("reply", "byte for byte the reply of step " + std::to_string(*expect.sameAsStep),
                            reply == earlier ? "the same" : "different", reply == earlier));
  }
  auto parsed = hl7v2::parse(std::string_view(reply));
  if (!parsed) {
    results.push_back(check("reply", "an HL7 v2 message", "unreadable: " + parsed.error().text, false));
    return results;
  }
  const hl7v2::Message& m = parsed.value();
  if (expect.ack) {
    const std::string code = m.get("MSA-1");
    results.push_back(check("MSA-1", "equals \"" + expect.ack->code + "\"", code, code == expect.ack->code));
    if (expect.ack->echoesControlId) {
      const std::string echoed = m.get("MSA-2");
      results.push_back(check("MSA-2", "equals \"" + controlId + "\" (the MSH-10 sent)", echoed, echoed == controlId));
    }
  }
  const bool v25 = [&] {
    const std::string version = m.get("MSH-12");
    return !version.empty() && version >= "2.5";
  }();
  for (const auto& err : expect.errs) {
    // The first ERR that carries the code, in the form the version uses.
    std::string codes;
    bool found = false;
    const std::size_t n = m.occurrences("ERR");
    for (std::size_t i = 1; i <= n && !found; ++i) {
      const std::string base = "ERR(" + std::to_string(i) + ")-";
      const std::string code = v25 ? m.get(base + "3.1") : m.get(base + "1.4.1");
      const std::string segment = v25 ? m.get(base + "2.1") : m.get(base + "1.1");
      const std::string field = v25 ? m.get(base + "2.3") : m.get(base + "1.3");
      codes += (codes.empty() ? "" : ", ") + code + (segment.empty() ? "" : " at " + segment + "-" + field);
      found = code == err.code && (err.segment.empty() || segment == err.segment) &&
              (err.field == 0 || field == std::to_string(err.field));
    }
    std::string expected = "code " + err.code;
    if (!err.segment.empty()) expected += " at " + err.segment + (err.field ? "-" + std::to_string(err.field) : "");
    results.push_back(check(v25 ? "ERR-3 / ERR-2" : "ERR-1", expected, codes.empty() ? "no ERR" : codes, found));
  }
  for (const auto& f : expect.fields) {
    const std::string actual = m.get(f.path);
    results.push_back(check(f.path, describe(f), actual, matches(f, actual)));
  }
  for (const auto& s : expect.segments) {
    const auto chosen = selected(m, s.id, s.where);
    std::string label = s.id;
    if (!s.where.empty()) label += "[" + whereText(s.where) + "]";
    if (s.occurrence > 1 || s.where.empty()) label += "(" + std::to_string(s.occurrence) + ")";
    if (chosen.size() < s.occurrence) {
      results.push_back(check(label, "present", std::to_string(chosen.size()) + " such segment(s)", false));
      continue;
    }
    const std::size_t occurrence = chosen[s.occurrence - 1];
    for (const auto& f : s.fields) {
      const std::string actual = relative(m, s.id, occurrence, f.path);
      results.push_back(check(label + "-" + f.path, describe(f), actual, matches(f, actual)));
    }
  }
  for (const auto& c : expect.counts) {
    const std::size_t n = selected(m, c.segment, c.where).size();
    std::string label = "count of " + c.segment;
    if (!c.where.empty()) label += "[" + whereText(c.where) + "]";
    results.push_back(check(label, "equals " + std::to_string(c.equals), std::to_string(n), n == c.equals));
  }
  return results;
}

}  // namespace cpis::conformance
