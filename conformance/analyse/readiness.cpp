#include "conformance/analyse/readiness.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <utility>

#include "engine/core/issue.h"
#include "engine/domain/attendance.h"
#include "engine/domain/nhs_number.h"
#include "engine/hl7v2/batch.h"
#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/message.h"
#include "engine/mapping/mapping.h"
#include "engine/mllp/framer.h"
#include "engine/pipeline/adapt.h"
#include "engine/pipeline/decide.h"

namespace cpis::conformance {

namespace {

using mapping::FieldId;

constexpr std::size_t kMaxFrameBytes = std::size_t{64} * 1024 * 1024;
constexpr std::size_t kMinIdentifierLength = 4;
constexpr std::string_view kWithheld = "(withheld: holds a patient identifier)";

domain::Instant now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

// Problems only: "(information)" rows say what a feed looks like, not what is wrong with it.
std::size_t sum(const Tallies& tallies) {
  std::size_t total = 0;
  for (const auto& [key, tally] : tallies) {
    if (key.rfind("(information)", 0) != 0) total += tally.count;
  }
  return total;
}

// "PID(1)-3(1).4": the ERR-2 form of a location, without the byte offset (which differs from
// message to message and would split one problem into many rows).
std::string erl(const core::Location& location) {
  std::string text = core::locationText(location);
  if (const auto at = text.find(" at byte "); at != std::string::npos) text.erase(at);
  return text;
}

std::string issueKey(const core::Issue& issue, const std::vector<std::string>& identifiers) {
  return std::to_string(static_cast<unsigned>(issue.code)) + " " + std::string(core::describe(issue.code)) +
         " at " + erl(issue.location) + ": " + withoutIdentifiers(issue.text, identifiers);
}

// Segment terminators in a piece of input.
struct Endings {
  std::size_t cr = 0;
  std::size_t lf = 0;
  std::size_t crlf = 0;
  int kinds() const { return (cr > 0) + (lf > 0) + (crlf > 0); }
};

Endings countEndings(std::string_view bytes) {
  Endings e;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r') {
      if (i + 1 < bytes.size() && bytes[i + 1] == '\n') {
        ++e.crlf;
        ++i;
      } else {
        ++e.cr;
      }
    } else if (bytes[i] == '\n') {
      ++e.lf;
    }
  }
  return e;
}

std::string endingsName(const Endings& e) {
  if (e.kinds() == 0) return "none (one segment)";
  std::string names;
  const auto add = [&](std::size_t n, std::string_view name) {
    if (n == 0) return;
    if (!names.empty()) names += ", ";
    names += name;
  };
  add(e.cr, "CR");
  add(e.lf, "LF");
  add(e.crlf, "CRLF");
  return e.kinds() == 1 ? names : "mixed (" + names + ")";
}

// MSH-18's first repetition as written, read from the text (also for messages that do not parse).
std::optional<std::string> declaredCharset(std::string_view chunk) {
  if (chunk.size() < 8 || chunk.substr(0, 3) != "MSH") return std::nullopt;
  const char fs = chunk[3];
  const char rep = chunk.size() > 5 ? chunk[5] : '~';
  const std::string_view line = chunk.substr(0, chunk.find_first_of("\r\n"));
  std::size_t start = 4;  // MSH-2
  for (int field = 2; field < 18; ++field) {
    const auto next = line.find(fs, start);
    if (next == std::string_view::npos) return std::string();
    start = next + 1;
  }
  std::string_view value = line.substr(start);
  value = value.substr(0, value.find(fs));
  value = value.substr(0, value.find(rep));
  return std::string(value);
}

// Table 0211 names are short upper-case codes ("UNICODE UTF-8", "8859/1", "ISO IR87").
bool looksLikeCharsetName(std::string_view value) {
  if (value.size() > 24) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return std::isupper(b) || std::isdigit(b) || c == ' ' || c == '-' || c == '/' || c == '_' || c == '.';
  });
}

bool isWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string pathsOf(const mapping::FieldRule& rule) {
  std::string out;
  for (const auto& source : rule.sources) {
    if (!out.empty()) out += " or ";
    out += source.path ? source.path->toString() : std::string("(constant)");
  }
  return out;
}

std::optional<FieldId> fieldNamedIn(std::string_view text) {
  for (std::size_t i = 0; i < mapping::kFieldCount; ++i) {
    const auto field = static_cast<FieldId>(i);
    // "birthDate is not a date ...", "arrivedAt at PV1-44 is not ..."
    for (const char* after : {" is ", " at "}) {
      const std::string prefix = std::string(mapping::nameOf(field)) + after;
      if (text.substr(0, prefix.size()) == prefix) return field;
    }
  }
  return std::nullopt;
}

// The mapping with every field that has a source required: apply() then names each field
// that is absent (101) or does not read in its format (102).
mapping::MappingRules allRequired(const mapping::MappingRules& rules) {
  mapping::MappingRules probe = rules;
  for (auto& rule : probe.fields) {
    const bool fromMessage = std::any_of(rule.sources.begin(), rule.sources.end(),
                                         [](const mapping::Source& s) { return s.path.has_value(); });
    // priorNhsNumber is a merge's (A40), which requires nothing: never missing from an attendance.
    rule.required = fromMessage && rule.field != FieldId::PriorNhsNumber;
  }
  return probe;
}

// The mapping that refuses a message only for what every mapping does (no trigger event, an
// attendance without PID) and gives, in text fields, what the trace status and sex rules read
// (after their maps): familyName holds the status, givenName the sex.
mapping::MappingRules rawCodes(const mapping::MappingRules& rules) {
  mapping::MappingRules probe = rules;
  for (auto& rule : probe.fields) {
    rule.required = false;
    const auto kind = mapping::kindOf(rule.field);
    if (kind == mapping::FieldKind::Date || kind == mapping::FieldKind::DateTime) rule.sources.clear();
  }
  auto& family = probe.fields[static_cast<std::size_t>(FieldId::FamilyName)];
  family = rules.rule(FieldId::NhsStatus);
  family.field = FieldId::FamilyName;
  family.required = false;
  auto& given = probe.fields[static_cast<std::size_t>(FieldId::GivenName)];
  given = rules.rule(FieldId::Sex);
  given.field = FieldId::GivenName;
  given.required = false;
  return probe;
}

std::string nhsNumberClass(const domain::Attendance& a) {
  if (a.nhsNumber) {
    if (a.nhsNumber->isTestRange()) return "valid (999 test range)";
    if (a.nhsNumber->isPlaceholder()) return "valid (placeholder: one digit ten times)";
    return "valid";
  }
  if (!a.nhsNumberProblem.empty()) return "invalid: " + a.nhsNumberProblem;
  return "missing";
}

}  // namespace

void Tally::add(const std::string& where) {
  ++count;
  if (examples.size() < kExamples) examples.push_back(where);
}

std::size_t ReadinessReport::problemCount() const {
  return sum(charsetProblems) + sum(framing) + sum(parseErrors) + sum(rejections);
}

namespace {

struct IdentifyingFields {
  std::string_view segment;
  std::vector<std::uint32_t> fields;
  // Of these (CX: an identifier, then its check digit, authority, type, facility), only each
  // repetition's first component identifies the patient: an assigning authority that is the
  // trust's ODS code, or a type such as NHSNBR, is not, and withholding every text that holds
  // one would hide the unmapped locations the report is for (a location key holds the site).
  std::vector<std::uint32_t> identifierFields;
};

const std::array<IdentifyingFields, 6>& identifyingFields() {
  static const std::array<IdentifyingFields, 6> kIdentifying{{
      {"PID", {2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 18, 19, 20, 21, 29}, {2, 3, 4, 18, 21}},
      {"PV1", {19, 50}, {19, 50}},
      {"NK1", {2, 4, 5, 6, 30, 31, 32, 33}, {33}},
      {"MRG", {1, 2, 3, 4, 5, 6, 7}, {1, 2, 3, 4, 5, 6}},
      {"GT1", {2, 3, 5, 6, 7, 8, 12}, {2}},
      {"IN1", {16, 18, 19, 36, 49}, {49}},
  }};
  return kIdentifying;
}

// An identifier field's values: each repetition's first component (and its digits).
std::string identifiersOnly(std::string_view raw, char repetition, char component) {
  std::string out;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == repetition) {
      const std::string_view one = raw.substr(start, i - start);
      if (!out.empty()) out += repetition;
      out += one.substr(0, one.find(component));
      start = i + 1;
    }
  }
  return out;
}

bool isIdentifierField(const IdentifyingFields& spec, std::uint32_t field) {
  return std::find(spec.identifierFields.begin(), spec.identifierFields.end(), field) !=
         spec.identifierFields.end();
}

// Adds a field's value, and each of its repetitions, components and sub-components, to `values`.
void addIdentifying(std::string_view raw, std::string_view separators, std::vector<std::string>& values) {
  const auto keep = [&](std::string_view atom) {
    const auto first = atom.find_first_not_of(' ');
    if (first == std::string_view::npos) return;
    atom = atom.substr(first, atom.find_last_not_of(' ') - first + 1);
    if (atom.size() >= kMinIdentifierLength) values.emplace_back(atom);
    std::string digits;
    for (const char c : atom) {
      if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    }
    if (digits.size() >= 6 && digits.size() != atom.size()) values.push_back(std::move(digits));
  };
  keep(raw);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || separators.find(raw[i]) != std::string_view::npos) {
      keep(raw.substr(start, i - start));
      start = i + 1;
    }
  }
}

void finish(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

std::vector<std::string> identifyingValues(const hl7v2::Message& message) {
  const hl7v2::Delimiters& d = message.delimiters();
  const std::string separators{d.repetition, d.component, d.subComponent};
  std::vector<std::string> values;
  for (std::size_t index = 0; index < message.segmentCount(); ++index) {
    const std::string_view id = message.segmentId(index);
    for (const auto& spec : identifyingFields()) {
      if (spec.segment != id) continue;
      for (const std::uint32_t field : spec.fields) {
        const std::string_view raw = message.fieldRaw(index, field);
        if (isIdentifierField(spec, field)) {
          addIdentifying(identifiersOnly(raw, d.repetition, d.component), separators, values);
        } else {
          addIdentifying(raw, separators, values);
        }
      }
    }
  }
  finish(values);
  return values;
}

std::vector<std::string> identifyingValuesInText(std::string_view text) {
  std::vector<std::string> values;
  if (text.size() < 8 || text.substr(0, 3) != "MSH") return values;
  const char fs = text[3];
  const std::string separators{text[4], text[5], text[7]};  // component, repetition, sub-component
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (line.size() < 4 || line[3] != fs) continue;
    for (const auto& spec : identifyingFields()) {
      if (spec.segment != line.substr(0, 3)) continue;
      std::vector<std::string_view> fields;
      std::size_t at = 0;
      while (at <= line.size()) {
        const std::size_t next = std::min(line.find(fs, at), line.size());
        fields.push_back(line.substr(at, next - at));
        at = next + 1;
      }
      for (const std::uint32_t field : spec.fields) {
        if (field >= fields.size()) continue;
        if (isIdentifierField(spec, field)) {
          addIdentifying(identifiersOnly(fields[field], text[5], text[4]), separators, values);
        } else {
          addIdentifying(fields[field], separators, values);
        }
      }
    }
  }
  finish(values);
  return values;
}

std::string withoutIdentifiers(std::string text, const std::vector<std::string>& identifiers) {
  for (const std::string& id : identifiers) {
    if (id.size() >= kMinIdentifierLength && text.find(id) != std::string::npos) return std::string(kWithheld);
  }
  return text;
}

struct ReadinessAnalyser::Probes {
  explicit Probes(const mapping::MappingRules& rules) : required(allRequired(rules)), raw(rawCodes(rules)) {}
  mapping::Mapping required;
  mapping::Mapping raw;
};

ReadinessAnalyser::ReadinessAnalyser(const mapping::Mapping& mapping, const pipeline::Adapter& adapter,
                                     pipeline::Decider& decider, ReadinessReport& report)
    : adapter_(adapter), decider_(decider), report_(report),
      probes_(std::make_unique<Probes>(mapping.rules())) {
  report_.mapping = mapping.name();
  report_.fields.clear();
  for (const auto& rule : mapping.rules().fields) {
    if (rule.field == FieldId::ControlId || rule.field == FieldId::TriggerEvent ||
        rule.field == FieldId::PriorNhsNumber || rule.sources.empty()) {
      continue;  // the message's own, or a merge's (A40): not an attendance's fields
    }
    FieldStats stats;
    stats.name = std::string(mapping::nameOf(rule.field));
    stats.paths = pathsOf(rule);
    stats.required = rule.required;
    report_.fields.push_back(std::move(stats));
  }
}

ReadinessAnalyser::~ReadinessAnalyser() = default;

void ReadinessAnalyser::addFile(std::string_view bytes, const std::string& name) {
  ++report_.files;
  report_.bytes += bytes.size();
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    report_.framing["empty file (no message)"].add(name);
    return;
  }
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") {
    report_.charsetProblems["UTF-8 byte order mark at the start of the file (skipped here; a message that starts "
                                  "with one gets AR)"]
        .add(name);
    bytes.remove_prefix(3);
  }
  std::size_t ordinal = 0;
  std::map<std::string, std::size_t> endings;

  if (bytes.find(mllp::kStartBlock) != std::string_view::npos) {
    report_.framing["(information) files framed with MLLP"].add(name);
    // Bytes outside frames: whitespace between frames is harmless in a capture; anything else
    // would be dropped by the engine's framer.
    bool inside = false;
    bool inJunk = false;
    for (const char c : bytes) {
      if (c == mllp::kStartBlock) {
        inside = true;
        inJunk = false;
      } else if (c == mllp::kEndBlock && inside) {
        inside = false;
      } else if (!inside && !isWhitespace(c)) {
        if (!inJunk) report_.framing["bytes outside MLLP frames (dropped by the engine)"].add(name);
        inJunk = true;
      } else if (!inside && c != mllp::kCarriageReturn) {
        inJunk = false;
      }
    }
    mllp::MllpFramer framer(kMaxFrameBytes);
    std::vector<mllp::FrameEvent> events;
    framer.feed(bytes, events);
    for (const auto& event : events) {
      switch (event.kind) {
        case mllp::FrameEvent::Kind::Frame:
          addPayload(event.payload, name, ordinal, endings);
          break;
        case mllp::FrameEvent::Kind::Abandoned:
          ++ordinal;
          ++report_.messages;
          report_.framing["frame without an end block (a new start block came first): never processed"].add(
              name + " #" + std::to_string(ordinal));
          report_.outcomes["NOT_PROCESSED"].add(name + " #" + std::to_string(ordinal));
          break;
        case mllp::FrameEvent::Kind::Oversized:
          ++ordinal;
          ++report_.messages;
          report_.framing["frame over 64 MiB"].add(name + " #" + std::to_string(ordinal));
          report_.outcomes["NOT_PROCESSED"].add(name + " #" + std::to_string(ordinal));
          break;
      }
    }
    if (framer.insideFrame()) {
      ++ordinal;
      ++report_.messages;
      report_.framing["frame without an end block at the end of the file: never processed"].add(
          name + " #" + std::to_string(ordinal));
      report_.outcomes["NOT_PROCESSED"].add(name + " #" + std::to_string(ordinal));
    }
    std::uint64_t missing = framer.missingCarriageReturns();
    if (bytes.back() == mllp::kEndBlock) ++missing;  // the capture stops right after an end block
    for (std::uint64_t i = 0; i < missing; ++i) {
      report_.framing["end block (0x1C) not followed by 0x0D"].add(name);
    }
  } else {
    if (bytes.find(mllp::kEndBlock) != std::string_view::npos) {
      report_.framing["MLLP end block (0x1C) without a start block"].add(name);
    }
    addPayload(bytes, name, ordinal, endings);
  }
  if (ordinal == 0) report_.framing["no message found in the file"].add(name);

  // The file's segment terminators, over all its messages.
  Endings all;
  for (const auto& [kind, n] : endings) {
    if (kind == "CR") all.cr += n;
    if (kind == "LF") all.lf += n;
    if (kind == "CRLF") all.crlf += n;
  }
  report_.lineEndings[endingsName(all)].add(name);
}

void ReadinessAnalyser::addPayload(std::string_view payload, const std::string& file, std::size_t& ordinal,
                                   std::map<std::string, std::size_t>& endings) {
  const hl7v2::Stream stream = hl7v2::parseStream(payload);
  if (stream.fileEnvelope || stream.batches > 0) {
    report_.framing["(information) files with a batch envelope (FHS/BHS)"].add(file);
  }
  for (const auto& issue : stream.issues) {
    report_.framing["batch envelope: " + std::to_string(static_cast<unsigned>(issue.code)) + " at " +
                    erl(issue.location) + ": " + issue.text]
        .add(file);
  }
  std::vector<std::size_t> starts;
  for (const auto& m : stream.messages) starts.push_back(m.offset);
  for (const auto& e : stream.envelope) starts.push_back(e.offset);
  std::sort(starts.begin(), starts.end());

  for (const auto& streamMessage : stream.messages) {
    ++ordinal;
    ++report_.messages;
    const std::string where = file + " #" + std::to_string(ordinal);
    const auto next = std::upper_bound(starts.begin(), starts.end(), streamMessage.offset);
    const std::size_t end = next == starts.end() ? payload.size() : *next;
    const std::string_view chunk = payload.substr(streamMessage.offset, end - streamMessage.offset);

    const Endings e = countEndings(chunk);
    endings["CR"] += e.cr;
    endings["LF"] += e.lf;
    endings["CRLF"] += e.crlf;
    if (e.kinds() > 1) report_.framing["mixed segment terminators within one message"].add(where);
    if (e.lf > 0 || e.crlf > 0) {
      report_.framing["(information) segments ended by LF or CRLF (HL7 says CR; the engine reads both)"].add(where);
    }

    // Character set: what MSH-18 declares against the bytes.
    std::vector<std::string> identifiers = identifyingValuesInText(chunk);
    if (streamMessage.message) {
      const auto parsed = identifyingValues(streamMessage.message.value());
      identifiers.insert(identifiers.end(), parsed.begin(), parsed.end());
    }
    const auto declared = declaredCharset(chunk);
    const bool highBytes =
        std::any_of(chunk.begin(), chunk.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    const bool utf8 = !hl7v2::firstInvalidByte(chunk, hl7v2::Charset::Utf8).has_value();
    const bool c1 = std::any_of(chunk.begin(), chunk.end(), [](char c) {
      const auto b = static_cast<unsigned char>(c);
      return b >= 0x80 && b <= 0x9F;
    });
    report_.charsetSeen[!highBytes ? "ASCII only" : utf8 ? "UTF-8 (multi-byte characters)" : "8-bit, not UTF-8"].add(
        where);
    if (declared) {
      const auto charset = hl7v2::charsetFromMsh18(*declared);
      const std::string shown = declared->empty()        ? std::string("(empty: ASCII)")
                                : looksLikeCharsetName(*declared) ? withoutIdentifiers(*declared, identifiers)
                                                                  : std::string("(not a character set name)");
      report_.charsetDeclared[shown].add(where);
      if (!charset) {
        report_.charsetProblems["MSH-18 \"" + shown + "\" is not a character set the engine reads (AR 103)"].add(where);
      } else if (*charset == hl7v2::Charset::Ascii && highBytes) {
        report_.charsetProblems[utf8 ? "bytes outside ASCII that read as UTF-8, MSH-18 declaring ASCII: declare "
                                       "UNICODE UTF-8 (AR 102)"
                                     : "bytes outside ASCII that are not UTF-8 (Latin-1 or Windows-1252?), MSH-18 "
                                       "declaring ASCII: declare 8859/1 (AR 102)"]
            .add(where);
      } else if (*charset == hl7v2::Charset::Utf8 && !utf8) {
        report_.charsetProblems["invalid UTF-8 in a message declaring UNICODE UTF-8 (AR 102)"].add(where);
      } else if (*charset == hl7v2::Charset::Latin1 && highBytes && utf8) {
        report_.charsetProblems["MSH-18 declares 8859/1 but the bytes read as UTF-8: accented names would be "
                                "garbled"]
            .add(where);
      } else if (*charset == hl7v2::Charset::Latin1 && c1) {
        report_.charsetProblems["bytes 0x80-0x9F (Windows-1252 punctuation?) in a message declaring 8859/1"].add(
            where);
      }
    } else {
      report_.charsetDeclared["(no MSH: unknown)"].add(where);
    }

    if (!streamMessage.message) {
      const core::Issue& issue = streamMessage.message.error();
      report_.parseErrors[issueKey(issue, {})].add(where);
      report_.outcomes["UNREADABLE"].add(where);
      continue;
    }
    const hl7v2::Message& message = streamMessage.message.value();
    ++report_.parsed;
    for (const auto& warning : message.warnings()) report_.parseWarnings[issueKey(warning, identifiers)].add(where);
    for (const auto& issue : message.checkValues()) {
      report_.charsetProblems["escape sequence that does not decode: " + issueKey(issue, identifiers)].add(where);
    }
    addMessage(message, where);
  }
}

void ReadinessAnalyser::addMessage(const hl7v2::Message& message, const std::string& where) {
  const std::vector<std::string> ids = identifyingValues(message);
  const std::string event = message.triggerEvent();
  const std::string type = message.messageCode() + (event.empty() ? "" : "^" + event);
  report_.byType[withoutIdentifiers(type, ids)].add(where);
  if (message.messageCode() != "ADT") {
    report_.outcomes["NOT_ADT"].add(where);
    return;
  }
  ++report_.adt;

  // The mapping's view, field by field (only attendance events are checked by the mapping).
  // The raw probe refuses only a message with no trigger event or no PID; what it read is kept
  // either way, so that such a message still counts in the field and NHS number figures.
  domain::Attendance rawRefused;
  const auto raw = probes_->raw.apply(message, "analyse", nullptr, &rawRefused);
  const domain::Attendance& rawRead = raw ? raw.value() : rawRefused;
  const bool attendanceEvent = domain::aboutAnAttendance(rawRead.event);
  const auto stats = [&](FieldId field) -> FieldStats* {
    const std::string_view name = mapping::nameOf(field);
    for (auto& s : report_.fields) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  if (attendanceEvent) {
    ++report_.attendanceEvents;
    const auto probed = probes_->required.apply(message, "analyse");
    if (!probed) {
      for (const auto& issue : probed.error()) {
        const auto field = fieldNamedIn(issue.text);
        FieldStats* s = field ? stats(*field) : nullptr;
        if (s == nullptr) continue;
        // 100: not even the field's segment is there (no OBX for the expected delivery date).
        if (issue.code == core::ErrorCode::RequiredFieldMissing ||
            issue.code == core::ErrorCode::SegmentSequence)
          s->missing.add(where);
        if (issue.code == core::ErrorCode::DataType) s->malformed.add(where);
      }
    } else {
      // A date that did not read where another source did: still a malformed value of the feed.
      for (const auto& warning : probed.value().warnings) {
        const auto field = fieldNamedIn(warning.text);
        FieldStats* s = field ? stats(*field) : nullptr;
        if (s != nullptr && warning.code == core::ErrorCode::DataType) s->malformed.add(where);
      }
    }
    const domain::Attendance& r = rawRead;
    if (!r.nhsNumberProblem.empty()) {
      if (FieldStats* s = stats(FieldId::NhsNumber)) s->malformed.add(where);
    }
    if (!r.name.family.empty() && !domain::parseNhsNumberStatus(r.name.family)) {
      if (FieldStats* s = stats(FieldId::NhsStatus)) s->malformed.add(where);
      report_.traceStatusUnread[withoutIdentifiers(r.name.family, ids)].add(where);
    }
    if (!r.name.given.empty() && !domain::parseSex(r.name.given)) {
      if (FieldStats* s = stats(FieldId::Sex)) s->malformed.add(where);
    }
  }

  const pipeline::AdaptResult adapted = adapter_.adapt(message);
  const auto patientStats = [&](const domain::Attendance& a) {
    report_.nhsNumbers[nhsNumberClass(a)].add(where);
    const std::string_view status = domain::codeOf(a.nhsStatus);
    report_.traceStatus[status.empty() ? std::string("(none)") : std::string(status)].add(where);
  };
  switch (adapted.kind) {
    case pipeline::AdaptResult::Kind::DataError:
      report_.outcomes["REJECTED"].add(where);
      patientStats(rawRead);
      if (adapted.issues.empty()) report_.rejections["the adapter refused the message (no ERR given)"].add(where);
      for (const auto& issue : adapted.issues) report_.rejections[issueKey(issue, ids)].add(where);
      return;
    case pipeline::AdaptResult::Kind::Failed:
      report_.outcomes["ADAPTER_FAILED"].add(where);
      patientStats(rawRead);
      report_.rejections["207 Application internal error: " + withoutIdentifiers(adapted.reason, ids)].add(where);
      return;
    case pipeline::AdaptResult::Kind::NotAnAttendance:
      report_.outcomes["NOT_CHECKED"].add(where);
      report_.reasons["NOT_AN_ATTENDANCE"].add(where);
      report_.reasonTexts["NOT_AN_ATTENDANCE: " + withoutIdentifiers(adapted.reason, ids)].add(where);
      return;
    case pipeline::AdaptResult::Kind::Attendance: break;
  }

  const domain::Attendance& a = adapted.attendance;
  if (a.event == domain::AttendanceEvent::Merge) {  // a patient merge (A40): no attendance, no query
    const pipeline::Decision merge = decider_.decide(a);
    report_.outcomes["NOT_CHECKED"].add(where);
    report_.reasons["NOT_AN_ATTENDANCE"].add(where);
    report_.reasonTexts["NOT_AN_ATTENDANCE: " + merge.reasonText].add(where);
    return;
  }
  ++report_.attendances;
  patientStats(a);
  report_.settings[a.setting ? std::string(domain::codeOf(*a.setting)) : std::string("(unmapped)")].add(where);
  const pipeline::Decision decision = decider_.decide(a);
  decider_.noteEvent(a, now());  // what the message does to the attendance, as the engine's intake
  switch (decision.kind) {
    case pipeline::DecisionKind::CheckDue: {
      report_.outcomes["CHECK_DUE"].add(where);
      report_.reasonTexts["CHECK_DUE (" +
                          std::string(decision.mode ? domain::codeOf(*decision.mode) : std::string_view("?")) +
                          "): " + decision.reasonText]
          .add(where);
      // As if CP-IS answered: a later update on the same basis repeats this check, as in the engine.
      domain::CheckOutcome outcome;
      outcome.status = domain::CheckStatus::NotFound;
      outcome.mode = decision.mode;
      outcome.decidedAt = now();
      decider_.record(a, outcome);
      break;
    }
    case pipeline::DecisionKind::RepeatPrevious:
      report_.outcomes["REPEATS_EARLIER_CHECK"].add(where);
      break;
    case pipeline::DecisionKind::NotChecked: {
      const std::string code(domain::codeOf(*decision.reason));
      report_.outcomes["NOT_CHECKED"].add(where);
      report_.reasons[code].add(where);
      report_.reasonTexts[code + ": " + withoutIdentifiers(decision.reasonText, ids)].add(where);
      const std::string key = a.locationKey.empty() ? std::string("(no location)") : withoutIdentifiers(a.locationKey, ids);
      if (*decision.reason == domain::ReasonCode::LocationUnmapped) report_.unmappedLocations[key].add(where);
      if (*decision.reason == domain::ReasonCode::SettingOutOfScope) report_.outOfScopeLocations[key].add(where);
      decider_.record(a, pipeline::notCheckedOutcome(decision, a, now(), "analyse"));
      break;
    }
  }
}

}  // namespace cpis::conformance
