#include "conformance/runner/scenario.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/config/schema_validator.h"
#include "engine/config/xml_element.h"

namespace cpis::conformance {

namespace {

using config::ConfigProblem;
using config::XmlElement;

std::string attr(const XmlElement& e, std::string_view name, std::string fallback = {}) {
  const std::string* value = e.attribute(name);
  return value ? *value : fallback;
}

std::uint64_t number(const XmlElement& e, std::string_view name, std::uint64_t fallback = 0) {
  const std::string* value = e.attribute(name);
  return value ? std::stoull(*value) : fallback;
}

bool flag(const XmlElement& e, std::string_view name) {
  const std::string value = attr(e, name, "false");
  return value == "true" || value == "1";
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

Match parseMatch(const std::string& text) {
  if (text == "prefix") return Match::Prefix;
  if (text == "suffix") return Match::Suffix;
  if (text == "contains") return Match::Contains;
  if (text == "nonEmpty") return Match::NonEmpty;
  if (text == "empty") return Match::Empty;
  if (text == "absent") return Match::Absent;
  return Match::Equals;
}

// "3.1=CPIS-STATUS 4=0": space-separated path=value pairs.
std::vector<std::pair<std::string, std::string>> parseWhere(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      pairs.emplace_back(item, "");
    } else {
      pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  return pairs;
}

FieldCheck fieldCheck(const XmlElement& e) {
  return FieldCheck{attr(e, "path"), parseMatch(attr(e, "match", "equals")), attr(e, "value")};
}

ReplyExpect replyExpect(const XmlElement& parent) {
  ReplyExpect reply;
  for (const auto& c : parent.children) {
    if (c.name == "ack") {
      reply.ack = AckCheck{attr(c, "code"), attr(c, "echoesControlId", "true") == "true"};
    } else if (c.name == "err") {
      reply.errs.push_back(ErrCheck{attr(c, "code"), attr(c, "segment"), static_cast<std::uint32_t>(number(c, "field"))});
    } else if (c.name == "field") {
      reply.fields.push_back(fieldCheck(c));
    } else if (c.name == "segment") {
      SegmentCheck s;
      s.id = attr(c, "id");
      s.occurrence = static_cast<std::uint32_t>(number(c, "occurrence", 1));
      s.where = parseWhere(attr(c, "where"));
      for (const auto* f : c.childrenNamed("field")) s.fields.push_back(fieldCheck(*f));
      reply.segments.push_back(std::move(s));
    } else if (c.name == "count") {
      reply.counts.push_back(CountCheck{attr(c, "segment"), parseWhere(attr(c, "where")),
                                        static_cast<std::uint32_t>(number(c, "equals")),
                                        attr(c, "equalsPriorAccesses")});
    } else if (c.name == "sameAsStep") {
      reply.sameAsStep = static_cast<std::uint32_t>(number(c, "step"));
    }
  }
  return reply;
}

bool hasReplyChecks(const XmlElement& expect) {
  for (const auto& c : expect.children) {
    if (c.name == "ack" || c.name == "err" || c.name == "field" || c.name == "segment" || c.name == "count" ||
        c.name == "sameAsStep") {
      return true;
    }
  }
  return false;
}

StepExpect stepExpect(const XmlElement& e) {
  StepExpect expect;
  if (hasReplyChecks(e)) expect.replies.push_back(replyExpect(e));
  for (const auto* r : e.childrenNamed("reply")) expect.replies.push_back(replyExpect(*r));
  if (const auto* c = e.child("connection")) {
    const std::string outcome = attr(*c, "outcome");
    if (outcome == "open") expect.connection = ConnectionOutcome::Open;
    if (outcome == "closed") expect.connection = ConnectionOutcome::Closed;
    if (outcome == "noReply") expect.connection = ConnectionOutcome::NoReply;
    if (outcome == "refused") expect.connection = ConnectionOutcome::Refused;
  }
  if (const auto* s = e.child("simulator")) {
    for (const auto* a : s->childrenNamed("accesses")) {
      expect.accesses.push_back(AccessExpect{attr(*a, "nhsNumber"), static_cast<std::uint32_t>(number(*a, "added"))});
    }
    for (const auto* m : s->childrenNamed("mailbox")) {
      expect.mailboxes.push_back(
          MailboxExpect{attr(*m, "la"), attr(*m, "nhsNumber"), static_cast<std::uint32_t>(number(*m, "added"))});
    }
  }
  for (const auto* n : e.childrenNamed("notification")) {
    NotificationExpect ne;
    ne.sink = attr(*n, "sink");
    ne.kind = attr(*n, "kind");
    ne.count = static_cast<std::uint32_t>(number(*n, "count", 1));
    if (const auto ms = number(*n, "withinMs", 0); ms > 0) ne.within = std::chrono::milliseconds(ms);
    for (const auto* f : n->childrenNamed("field")) ne.fields.push_back(fieldCheck(*f));
    expect.notifications.push_back(std::move(ne));
  }
  for (const auto* l : e.childrenNamed("lateResult")) {
    LateResultExpect le;
    le.checks = replyExpect(*l);
    if (const auto ms = number(*l, "withinMs", 0); ms > 0) le.within = std::chrono::milliseconds(ms);
    expect.lateResults.push_back(std::move(le));
  }
  for (const auto* a : e.childrenNamed("audit")) {
    AuditExpect ae;
    ae.event = attr(*a, "event");
    ae.nhsNumber = attr(*a, "nhsNumber");
    ae.count = static_cast<std::uint32_t>(number(*a, "count", 1));
    if (const auto ms = number(*a, "withinMs", 0); ms > 0) ae.within = std::chrono::milliseconds(ms);
    for (const auto* f : a->childrenNamed("field")) ae.fields.push_back(fieldCheck(*f));
    expect.audits.push_back(std::move(ae));
  }
  return expect;
}

// A message written in XML: one segment per line, indentation ignored, blank lines dropped.
std::string messageTemplate(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::string segment = trim(line);
    if (segment.empty()) continue;
    out += segment;
    out += '\n';
  }
  return out;
}

void addProblem(std::vector<ConfigProblem>& problems, const std::string& file, const XmlElement& e,
                std::string message) {
  problems.push_back(ConfigProblem{file, e.line, e.column, std::move(message)});
}

// <count> takes exactly one of equals and equalsPriorAccesses.
void checkCounts(const XmlElement& e, const std::string& file, std::vector<ConfigProblem>& problems) {
  for (const auto& c : e.children) {
    if (c.name == "count" && (c.attribute("equals") == nullptr) == (c.attribute("equalsPriorAccesses") == nullptr)) {
      addProblem(problems, file, c, "<count> needs exactly one of equals and equalsPriorAccesses");
    }
    if (c.name == "reply") checkCounts(c, file, problems);
  }
}

Scenario scenario(const XmlElement& e, const std::string& defaultFeed, const std::string& file,
                  std::vector<ConfigProblem>& problems) {
  Scenario s;
  s.id = attr(e, "id");
  s.file = file;
  s.line = e.line;
  s.feed = attr(e, "feed", defaultFeed);
  if (s.feed.empty()) addProblem(problems, file, e, "scenario " + s.id + " names no feed (and the file no default)");
  s.exclusive = flag(e, "exclusive");
  s.serialGroup = attr(e, "serialGroup");
  if (const auto* t = e.child("title")) s.title = trim(t->text);
  if (const auto* t = e.child("tags")) {
    std::istringstream in(t->text);
    std::string tag;
    while (in >> tag) s.tags.push_back(tag);
  }
  if (const auto* c = e.child("connection")) {
    s.transport = attr(*c, "transport", "feed");
    s.clientCertificate = attr(*c, "clientCertificate", "default");
    s.connectionPerStep = flag(*c, "perStep");
  }
  if (const auto* setup = e.child("setup")) {
    for (const auto* f : setup->childrenNamed("fault")) {
      FaultSetup fault{attr(*f, "nhsNumber"), attr(*f, "kind"), std::nullopt, std::nullopt};
      if (f->attribute("delayMs")) fault.delayMs = number(*f, "delayMs");
      if (f->attribute("times")) fault.times = number(*f, "times");
      s.faults.push_back(std::move(fault));
    }
  }
  for (const auto* st : e.childrenNamed("step")) {
    Step step;
    step.line = st->line;
    step.name = attr(*st, "name");
    if (st->attribute("untilPassMs")) step.untilPass = std::chrono::milliseconds(number(*st, "untilPassMs"));
    if (const auto* m = st->child("message")) {
      step.kind = Step::Kind::Message;
      step.text = messageTemplate(m->text);
      step.charset = attr(*m, "charset", "auto");
      if (m->attribute("padTo")) step.padTo = number(*m, "padTo");
      if (step.text.empty()) addProblem(problems, file, *m, "an empty <message>");
    } else if (const auto* r = st->child("raw")) {
      step.kind = Step::Kind::Raw;
      for (const auto* p : r->childrenNamed("part")) step.rawParts.push_back(trim(p->text));
    } else if (const auto* again = st->child("resend")) {
      step.kind = Step::Kind::Resend;
      step.resendOf = static_cast<std::uint32_t>(number(*again, "step"));
      if (step.resendOf > s.steps.size()) {
        addProblem(problems, file, *again, "<resend step=\"" + std::to_string(step.resendOf) + "\"> names a later step");
      }
    }
    if (const auto* ex = st->child("expect")) {
      step.expect = stepExpect(*ex);
      checkCounts(*ex, file, problems);
      for (const auto& reply : step.expect.replies) {
        if (reply.sameAsStep && *reply.sameAsStep > s.steps.size()) {
          addProblem(problems, file, *ex, "<sameAsStep> must name an earlier step");
        }
      }
    }
    s.steps.push_back(std::move(step));
  }
  return s;
}

// Every run of exactly ten digits, also written 3-3-4 with spaces.
void nhsNumbersIn(const std::string& text, std::set<std::string>& out) {
  std::string compact;
  for (std::size_t i = 0; i < text.size(); ++i) {
    // "999 000 0018" counts as 9990000018: drop a space that has digits on both sides.
    if (text[i] == ' ' && i > 0 && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      continue;
    }
    compact += text[i];
  }
  std::size_t i = 0;
  while (i < compact.size()) {
    if (!std::isdigit(static_cast<unsigned char>(compact[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < compact.size() && std::isdigit(static_cast<unsigned char>(compact[j]))) ++j;
    if (j - i == 10) out.insert(compact.substr(i, 10));
    i = j;
  }
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::ConfigError({ConfigProblem{path.string(), 0, 0, "cannot be read"}});
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A check that fails because of a fault the scenario sets (not a child that fails forever) gets
// a deferred re-check: the engine re-queries in the background once the fault is gone, and
// that query records an access after the scenario has ended, unless the scenario waits for
// it (a lateResult). A scenario counting that child's accesses could run into it, so the
// pack may not contain one (conformance/README.md: the engine configuration).
bool expectsFailedCheck(const Scenario& s) {
  auto failed = [](const FieldCheck& f) {
    return f.value.find("CHECK_FAILED") != std::string::npos || f.value.find("CHECK FAILED") != std::string::npos;
  };
  for (const auto& step : s.steps) {
    for (const auto& reply : step.expect.replies) {
      if (std::any_of(reply.fields.begin(), reply.fields.end(), failed)) return true;
      for (const auto& seg : reply.segments) {
        if (std::any_of(seg.fields.begin(), seg.fields.end(), failed)) return true;
      }
    }
  }
  return false;
}

std::set<std::string> numbersWithDeferredRechecks(const Scenario& s) {
  std::set<std::string> numbers;
  if (s.faults.empty() || !expectsFailedCheck(s)) return numbers;
  for (const auto& step : s.steps) {
    if (!step.expect.lateResults.empty()) return {};  // it waits for its re-check
  }
  for (const auto& step : s.steps) nhsNumbersIn(step.text, numbers);
  return numbers;
}

std::set<std::string> numbersWhoseAccessesAreCounted(const Scenario& s) {
  std::set<std::string> numbers;
  for (const auto& step : s.steps) {
    for (const auto& a : step.expect.accesses) numbers.insert(a.nhsNumber);
    for (const auto& m : step.expect.mailboxes) numbers.insert(m.nhsNumber);
    for (const auto& n : step.priorAccessNumbers()) numbers.insert(n);
  }
  return numbers;
}

void checkDeferredRechecks(const std::vector<Scenario>& scenarios, std::vector<ConfigProblem>& problems) {
  std::map<std::string, const Scenario*> leftBehind;  // NHS number -> the scenario whose re-check may come late
  for (const auto& s : scenarios) {
    for (const auto& n : numbersWithDeferredRechecks(s)) leftBehind.emplace(n, &s);
  }
  for (const auto& s : scenarios) {
    for (const auto& n : numbersWhoseAccessesAreCounted(s)) {
      const auto it = leftBehind.find(n);
      if (it == leftBehind.end() || it->second == &s) continue;
      problems.push_back(ConfigProblem{
          s.file, s.line, 0,
          "scenario " + s.id + " counts the accesses of " + n + ", but scenario " + it->second->id + " (" +
              it->second->file + ":" + std::to_string(it->second->line) +
              ") fails a check of that child with a fault it sets, and the engine's deferred re-check of it may "
              "record an access at any later moment: give one of them another child"});
    }
  }
}

}  // namespace

std::set<std::string> Scenario::locks() const {
  std::set<std::string> keys;
  for (const auto& step : steps) {
    nhsNumbersIn(step.text, keys);
    for (const auto& part : step.rawParts) nhsNumbersIn(part, keys);
    for (const auto& a : step.expect.accesses) keys.insert(a.nhsNumber);
    for (const auto& n : step.priorAccessNumbers()) keys.insert(n);
    for (const auto& m : step.expect.mailboxes) keys.insert(m.nhsNumber);
    for (const auto& a : step.expect.audits) keys.insert(a.nhsNumber);
  }
  for (const auto& f : faults) {
    if (f.nhsNumber != "*") keys.insert(f.nhsNumber);
  }
  if (!serialGroup.empty()) keys.insert("group:" + serialGroup);
  return keys;
}

std::set<std::string> Step::priorAccessNumbers() const {
  static constexpr std::string_view kMarker = "${priorAccesses:";
  std::set<std::string> numbers;
  auto scan = [&](const std::string& value) {
    for (auto at = value.find(kMarker); at != std::string::npos; at = value.find(kMarker, at + 1)) {
      const auto end = value.find('}', at);
      if (end != std::string::npos) numbers.insert(value.substr(at + kMarker.size(), end - at - kMarker.size()));
    }
  };
  for (const auto& reply : expect.replies) {
    for (const auto& f : reply.fields) scan(f.value);
    for (const auto& seg : reply.segments) {
      for (const auto& f : seg.fields) scan(f.value);
    }
    for (const auto& c : reply.counts) {
      if (!c.equalsPriorAccesses.empty()) numbers.insert(c.equalsPriorAccesses);
    }
  }
  return numbers;
}

bool Scenario::usesUnsupported() const { return false; }

bool Scenario::usesAudit() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return !s.expect.audits.empty(); });
}

bool Scenario::usesNotifications() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return !s.expect.notifications.empty(); });
}

bool Scenario::usesLateResults() const {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return !s.expect.lateResults.empty(); });
}

ScenarioReader::ScenarioReader()
    : validator_(std::make_unique<config::SchemaValidator>(scenarioSchema(), "conformance/scenarios/scenario.xsd")) {}

ScenarioReader::~ScenarioReader() = default;

std::vector<Scenario> ScenarioReader::parse(std::string_view xml, const std::string& documentName) const {
  std::vector<ConfigProblem> problems;
  const auto root = validator_->parse(xml, documentName, problems);
  if (!root) throw config::ConfigError(std::move(problems));
  std::vector<Scenario> scenarios;
  const std::string defaultFeed = attr(*root, "feed");
  for (const auto* e : root->childrenNamed("scenario")) scenarios.push_back(scenario(*e, defaultFeed, documentName, problems));
  if (!problems.empty()) throw config::ConfigError(std::move(problems));
  return scenarios;
}

std::vector<Scenario> ScenarioReader::load(const std::vector<std::filesystem::path>& paths) const {
  std::vector<std::filesystem::path> files;
  std::vector<ConfigProblem> problems;
  for (const auto& path : paths) {
    if (std::filesystem::is_directory(path)) {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file() && entry.path().extension() == ".xml") found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(path)) {
      files.push_back(path);
    } else {
      problems.push_back(ConfigProblem{path.string(), 0, 0, "no such file or folder"});
    }
  }
  std::vector<Scenario> all;
  std::map<std::string, std::string> seen;  // id -> where
  for (const auto& file : files) {
    try {
      auto scenarios = parse(readFile(file), file.string());
      for (auto& s : scenarios) {
        const std::string where = s.file + ":" + std::to_string(s.line);
        if (const auto [it, inserted] = seen.emplace(s.id, where); !inserted) {
          problems.push_back(ConfigProblem{s.file, s.line, 0, "scenario id " + s.id + " is also used at " + it->second});
          continue;
        }
        all.push_back(std::move(s));
      }
    } catch (const config::ConfigError& e) {
      problems.insert(problems.end(), e.problems().begin(), e.problems().end());
    }
  }
  if (problems.empty()) checkDeferredRechecks(all, problems);
  if (!problems.empty()) throw config::ConfigError(std::move(problems));
  return all;
}

std::string_view toString(Match match) {
  switch (match) {
    case Match::Equals: return "equals";
    case Match::Prefix: return "starts with";
    case Match::Suffix: return "ends with";
    case Match::Contains: return "contains";
    case Match::NonEmpty: return "non-empty";
    case Match::Empty: return "empty";
    case Match::Absent: return "absent";
  }
  return "?";
}

}  // namespace cpis::conformance
