#include "engine/hl7v2/message.h"

#include <algorithm>
#include <limits>

#include "engine/hl7v2/escaping.h"

namespace cpis::hl7v2 {
namespace {

bool isTerminator(char c) {
  return c == '\r' || c == '\n';
}
bool isBlank(char c) {
  return c == ' ' || c == '\t';
}

bool isHeaderId(std::string_view id) {
  return id == "MSH" || id == "FHS" || id == "BHS";
}
bool isEnvelopeId(std::string_view id) {
  return id == "FHS" || id == "BHS" || id == "BTS" || id == "FTS";
}

bool validSegmentId(std::string_view id) {
  if (id.size() != 3 || id[0] < 'A' || id[0] > 'Z') return false;
  return std::all_of(id.begin() + 1, id.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

// The nth (1-based) part of `text` split on `delim`; "" past the last part. A missing
// delimiter ('\0') means the text is one part.
std::string_view nthPart(std::string_view text, char delim, std::uint32_t n) {
  if (n == 0) return {};
  if (delim == '\0') return n == 1 ? text : std::string_view{};
  std::size_t start = 0;
  for (std::uint32_t i = 1; i < n; ++i) {
    const std::size_t next = text.find(delim, start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  const std::size_t end = text.find(delim, start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

// `text` with its nth (1-based) part (split on `delim`) replaced, adding empty parts as needed.
std::string replacePart(std::string_view text, char delim, std::uint32_t n, std::string_view replacement) {
  if (delim == '\0') return std::string(replacement);  // no such delimiter: n is 1 (checked by set)
  std::string out;
  std::size_t start = 0;
  std::uint32_t part = 1;
  while (part < n) {
    const std::size_t next = text.find(delim, start);
    if (next == std::string_view::npos) {
      out.append(text);
      out.append(n - part, delim);
      out.append(replacement);
      return out;
    }
    start = next + 1;
    ++part;
  }
  const std::size_t end = text.find(delim, start);
  out.append(text.substr(0, start));
  out.append(replacement);
  if (end != std::string_view::npos) out.append(text.substr(end));
  return out;
}

core::Issue structuralIssue(core::ErrorCode code, core::Location location, std::string text) {
  core::Issue issue;
  issue.code = code;
  issue.location = std::move(location);
  issue.text = std::move(text);
  return issue;
}

core::Location segmentLocation(std::string_view id, std::uint32_t sequence, std::uint32_t field,
                               std::size_t offset) {
  core::Location location;
  location.segmentId = std::string(id);
  location.segmentSequence = sequence;
  location.field = field;
  location.byteOffset = offset;
  return location;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parsing and indexing

core::Result<Message, core::Issue> parse(std::string_view bytes, Charset whenUnstated) {
  return parse(std::string(bytes), whenUnstated);
}

core::Result<Message, core::Issue> parse(std::string&& bytes, Charset whenUnstated) {
  Message message;
  message.buffer_ = std::move(bytes);
  std::string& buf = message.buffer_;
  if (buf.size() >= std::numeric_limits<std::uint32_t>::max()) {
    return structuralIssue(core::ErrorCode::ValueTooLong, {}, "message is larger than 4 GiB");
  }
  std::size_t skip = 0;
  if (buf.compare(0, 3, "\xEF\xBB\xBF") == 0) skip = 3;  // a UTF-8 byte order mark
  while (skip < buf.size() && (isTerminator(buf[skip]) || isBlank(buf[skip]))) ++skip;
  if (skip > 0) buf.erase(0, skip);
  if (buf.compare(0, 3, "MSH") != 0) {
    if (buf.compare(0, 3, "FHS") == 0 || buf.compare(0, 3, "BHS") == 0) {
      return structuralIssue(core::ErrorCode::SegmentSequence, segmentLocation(buf.substr(0, 3), 1, 0, 0),
                             "a batch (" + buf.substr(0, 3) +
                                 ") where one message was expected: send each message in a frame of its own");
    }
    return structuralIssue(core::ErrorCode::SegmentSequence, {},
                           buf.empty() ? "message is empty" : "message does not start with an MSH segment");
  }
  auto delimiters = readDelimiters(buf.substr(0, buf.find_first_of("\r\n")));
  if (!delimiters) return std::move(delimiters).error();
  message.delimiters_ = delimiters.value();
  auto indexed = message.index(whenUnstated);
  if (!indexed) return std::move(indexed).error();
  return message;
}

std::string_view replyCharsetField(const Message& message) {
  const std::string_view sent = message.fieldRaw(0, 18);
  if (sent.find_first_not_of(' ') != std::string_view::npos || message.charset() == Charset::Ascii)
    return sent;
  const std::string_view name = msh18Name(message.charset());
  const Delimiters& d = message.delimiters();
  if (std::any_of(name.begin(), name.end(), [&](char c) { return d.isDelimiter(c); })) return sent;
  return name;
}

core::Result<bool, core::Issue> Message::index(Charset whenUnstated) {
  segments_.clear();
  fieldStarts_.clear();
  warnings_.clear();
  const std::string& buf = buffer_;
  const char fs = delimiters_.field;
  const std::size_t n = buf.size();
  segments_.reserve(16);
  fieldStarts_.reserve(n / 8 + 16);
  normalised_ = true;
  unsigned char highBits = 0;

  std::size_t pos = 0;
  while (pos < n) {
    const std::size_t begin = pos;
    const auto firstField = static_cast<std::uint32_t>(fieldStarts_.size());
    while (pos < n) {
      const char c = buf[pos];
      highBits |= static_cast<unsigned char>(c);
      if (c == fs) {
        fieldStarts_.push_back(static_cast<std::uint32_t>(pos + 1));
      } else if (isTerminator(c)) {
        break;
      }
      ++pos;
    }
    const std::size_t end = pos;
    // one terminator ('\r', '\n' or "\r\n"); anything more is blank lines, skipped
    if (pos < n && buf[pos] == '\r') {
      ++pos;
      if (pos < n && buf[pos] == '\n') {
        ++pos;
        normalised_ = false;
      }
    } else if (pos < n) {
      ++pos;
      normalised_ = false;
    } else {
      normalised_ = false;  // the last segment has no terminator
    }
    const std::string_view text(buf.data() + begin, end - begin);
    if (std::all_of(text.begin(), text.end(), isBlank)) {  // a blank line
      normalised_ = false;
      fieldStarts_.resize(firstField);
      continue;
    }
    const std::string_view id = text.substr(0, 3);
    if (!validSegmentId(id) || (text.size() > 3 && text[3] != fs)) {
      const auto sequence = static_cast<std::uint32_t>(segments_.size() + 1);
      return structuralIssue(core::ErrorCode::SegmentSequence, segmentLocation("", sequence, 0, begin),
                             "segment " + std::to_string(segments_.size() + 1) +
                                 " does not start with a three-character segment id and a field "
                                 "separator (truncated or malformed segment)");
    }
    if (!segments_.empty() && (id == "MSH" || isEnvelopeId(id))) {
      const auto sequence = static_cast<std::uint32_t>(occurrences(id) + 1);
      return structuralIssue(core::ErrorCode::SegmentSequence, segmentLocation(id, sequence, 0, begin),
                             "a second message or a batch segment follows the first message; "
                             "read files and batches as a stream");
    }
    segments_.push_back({static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end), firstField,
                         static_cast<std::uint32_t>(fieldStarts_.size()) - firstField, isHeaderId(id)});
  }

  // MSH-18 says how to read every byte.
  const Path msh18{"MSH", 1, 18, 1, 0, 0};
  const std::string_view charsetName = nthPart(rawAt(0, msh18, 1), delimiters_.component, 1);
  const bool unstated = charsetName.find_first_not_of(' ') == std::string_view::npos;
  const auto charset = unstated ? std::optional<Charset>(whenUnstated) : charsetFromMsh18(charsetName);
  if (!charset) {
    return structuralIssue(core::ErrorCode::TableValueNotFound, segmentLocation("MSH", 1, 18, 0),
                           "character set in MSH-18 is not supported (ASCII, 8859/1 or UNICODE UTF-8)");
  }
  charset_ = *charset;
  if ((highBits & 0x80) != 0) {
    if (const auto bad = firstInvalidByte(buf, charset_)) {
      auto location = locate(*bad);
      location.byteOffset = *bad;
      const char* declared = charset_ == Charset::Utf8
                                 ? (unstated ? "UTF-8, the feed's set when MSH-18 is empty" : "UTF-8")
                             : unstated ? "ASCII, as MSH-18 is empty"
                                        : "ASCII";
      return structuralIssue(core::ErrorCode::DataType, std::move(location),
                             std::string("byte is not valid in the message's character set (") + declared + ")");
    }
  }

  // Where MSH field n starts, or where it would start (the end of the MSH) when it is absent.
  const auto headerOffset = [&](std::uint32_t field) -> std::size_t {
    const SegmentEntry& msh = segments_.front();
    return field - 2 < msh.storedFields ? fieldStarts_[msh.firstField + field - 2] : msh.end;
  };
  // Required header fields: without them no ACK can be paired or routed.
  const auto requireField = [&](std::uint32_t field, const char* what) -> std::optional<core::Issue> {
    if (!fieldRaw(0, field).empty()) return std::nullopt;
    return structuralIssue(core::ErrorCode::RequiredFieldMissing, segmentLocation("MSH", 1, field, headerOffset(field)),
                           std::string(what) + " (MSH-" + std::to_string(field) + ") is missing");
  };
  if (auto issue = requireField(9, "message type")) return std::move(*issue);
  if (auto issue = requireField(10, "message control id")) return std::move(*issue);
  if (nthPart(fieldRaw(0, 9), delimiters_.component, 1).empty()) {
    return structuralIssue(core::ErrorCode::RequiredFieldMissing, segmentLocation("MSH", 1, 9, headerOffset(9)),
                           "message code (MSH-9.1) is missing");
  }
  if (fieldRaw(0, 12).empty()) {
    auto issue = structuralIssue(core::ErrorCode::RequiredFieldMissing, segmentLocation("MSH", 1, 12, headerOffset(12)),
                                 "version id (MSH-12) is missing");
    issue.severity = core::Severity::Warning;
    warnings_.push_back(std::move(issue));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Segments and fields

std::string_view Message::segmentId(std::size_t index) const {
  return std::string_view(buffer_).substr(segments_.at(index).begin, 3);
}

std::string_view Message::segmentRaw(std::size_t index) const {
  const auto& s = segments_.at(index);
  return std::string_view(buffer_).substr(s.begin, s.end - s.begin);
}

std::uint32_t Message::fieldCount(std::size_t index) const {
  const auto& s = segments_.at(index);
  return s.storedFields + (s.header ? 1 : 0);
}

std::string_view Message::storedField(const SegmentEntry& s, std::uint32_t k) const {
  if (k >= s.storedFields) return {};
  const std::uint32_t start = fieldStarts_[s.firstField + k];
  const std::uint32_t end = k + 1 < s.storedFields ? fieldStarts_[s.firstField + k + 1] - 1 : s.end;
  return std::string_view(buffer_).substr(start, end - start);
}

std::string_view Message::fieldRaw(std::size_t index, std::uint32_t field) const {
  const auto& s = segments_.at(index);
  if (field == 0) return {};
  if (s.header) {
    if (field == 1) return std::string_view(buffer_).substr(s.begin + 3, 1);
    return storedField(s, field - 2);
  }
  return storedField(s, field - 1);
}

std::size_t Message::occurrences(std::string_view segmentId) const {
  std::size_t count = 0;
  for (const auto& s : segments_) {
    if (std::string_view(buffer_).substr(s.begin, 3) == segmentId) ++count;
  }
  return count;
}

std::size_t Message::findSegment(std::string_view segmentId, std::uint32_t occurrence) const {
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (std::string_view(buffer_).substr(segments_[i].begin, 3) == segmentId && ++seen == occurrence) {
      return i;
    }
  }
  return segments_.size();
}

std::vector<std::size_t> Message::segmentsNamed(std::string_view segmentId) const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (std::string_view(buffer_).substr(segments_[i].begin, 3) == segmentId) out.push_back(i);
  }
  return out;
}

std::vector<std::string_view> Message::repetitions(std::size_t index, std::uint32_t field) const {
  const std::string_view raw = fieldRaw(index, field);
  const char mark = delimiters_.repetition;
  if ((segments_[index].header && field <= 2) || mark == '\0') return {raw};
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = raw.find(mark, start);
    out.push_back(raw.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

core::Location Message::locate(std::size_t byteOffset) const {
  core::Location location;
  location.byteOffset = byteOffset;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), byteOffset,
                             [](std::size_t off, const SegmentEntry& s) { return off < s.begin; });
  if (it == segments_.begin()) return location;
  --it;
  const auto index = static_cast<std::size_t>(it - segments_.begin());
  const std::string_view id = segmentId(index);
  location.segmentId = std::string(id);
  std::uint32_t sequence = 0;
  for (std::size_t i = 0; i <= index; ++i) {
    if (segmentId(i) == id) ++sequence;
  }
  location.segmentSequence = sequence;
  std::uint32_t k = 0;
  while (k < it->storedFields && fieldStarts_[it->firstField + k] <= byteOffset) ++k;
  // k stored fields start at or before the offset: field k (k+1 in a header segment)
  location.field = k == 0 ? (it->header && byteOffset == it->begin + 3 ? 1 : 0) : k + (it->header ? 1 : 0);
  return location;
}

// ---------------------------------------------------------------------------------------------
// Paths

std::string_view Message::rawAt(std::size_t segment, const Path& path, std::uint32_t fieldRepetition) const {
  const std::string_view field = fieldRaw(segment, path.field);
  if (segments_[segment].header && path.field <= 2) {  // MSH-1, MSH-2: never split
    const bool whole = fieldRepetition == 1 && path.component <= 1 && path.subComponent <= 1;
    return whole ? field : std::string_view{};
  }
  std::string_view text = nthPart(field, delimiters_.repetition, fieldRepetition);
  if (path.component > 0) {
    text = nthPart(text, delimiters_.component, path.component);
    if (path.subComponent > 0) text = nthPart(text, delimiters_.subComponent, path.subComponent);
  }
  return text;
}

std::string_view Message::raw(const Path& path) const {
  const std::uint32_t occurrence = path.segmentRepetition == Path::kAll ? 1 : path.segmentRepetition;
  const std::size_t segment = findSegment(path.segmentId, occurrence);
  if (segment == segments_.size()) return {};
  return rawAt(segment, path, path.fieldRepetition == Path::kAll ? 1 : path.fieldRepetition);
}

Presence Message::presence(const Path& path) const {
  const std::string_view text = raw(path);
  if (text.empty()) return Presence::Absent;
  return text == "\"\"" ? Presence::Null : Presence::Valued;
}

namespace {
// Terser semantics: a path that stops at a field or component reads the first part below it.
Path primitivePath(const Path& path) {
  Path p = path;
  if (p.component == 0) p.component = 1;
  if (p.subComponent == 0) p.subComponent = 1;
  return p;
}
}  // namespace

std::string Message::get(const Path& path) const {
  const std::string_view text = raw(primitivePath(path));
  if (text == "\"\"") return {};
  if (segments_.empty() || (path.field <= 2 && isHeaderId(path.segmentId))) return std::string(text);
  std::string out;
  out.reserve(text.size());
  (void)decodeValue(text, delimiters_, charset_, out);  // lenient: bad \X..\ kept as sent
  return out;
}

std::string Message::valueIn(std::string_view repetition, std::size_t index, const Path& path) const {
  const Path p = primitivePath(path);
  if (segments_[index].header && p.field <= 2) {  // MSH-1, MSH-2: as get(), never split or decoded
    return p.component <= 1 && p.subComponent <= 1 ? std::string(repetition) : std::string();
  }
  std::string_view text = nthPart(repetition, delimiters_.component, p.component);
  text = nthPart(text, delimiters_.subComponent, p.subComponent);
  if (text == "\"\"") return {};
  std::string out;
  out.reserve(text.size());
  (void)decodeValue(text, delimiters_, charset_, out);  // lenient, as get()
  return out;
}

std::string Message::get(std::string_view path) const {
  auto parsed = parsePath(path);
  return parsed ? get(parsed.value()) : std::string{};
}

core::Result<std::string, core::Issue> Message::value(const Path& path) const {
  const Path p = primitivePath(path);
  const std::string_view text = raw(p);
  if (text == "\"\"") return std::string{};
  if (path.field <= 2 && isHeaderId(path.segmentId)) return std::string(text);
  std::string out;
  if (const auto bad = decodeValue(text, delimiters_, charset_, out)) {
    auto location = locate(static_cast<std::size_t>(text.data() - buffer_.data()) + *bad);
    location.fieldRepetition = p.fieldRepetition;
    location.component = p.component;
    location.subComponent = p.subComponent;
    return structuralIssue(core::ErrorCode::DataType, std::move(location),
                           "hexadecimal escape sequence does not decode in the message's character set");
  }
  return out;
}

void Message::collect(const Path& path, std::vector<std::string>& out) const {
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (segmentId(i) != path.segmentId) continue;
    ++seen;
    if (path.segmentRepetition != Path::kAll && seen != path.segmentRepetition) continue;
    // One pass over the segment's field: get() per repetition would rescan it every time.
    const std::vector<std::string_view> reps = repetitions(i, path.field);
    if (path.fieldRepetition == Path::kAll) {
      for (const std::string_view rep : reps) out.push_back(valueIn(rep, i, path));
    } else {
      const std::uint32_t r = path.fieldRepetition;
      out.push_back(r >= 1 && r <= reps.size() ? valueIn(reps[r - 1], i, path) : std::string());
    }
  }
}

std::vector<std::string> Message::getAll(const Path& path) const {
  std::vector<std::string> out;
  collect(path, out);
  return out;
}

core::Status Message::set(std::string_view path, std::string_view utf8Value) {
  auto parsed = parsePath(path);
  if (!parsed) return core::Status::invalidArgument("invalid path: " + parsed.error());
  return set(parsed.value(), utf8Value);
}

core::Status Message::set(const Path& path, std::string_view utf8Value) {
  if (path.segmentRepetition == Path::kAll || path.fieldRepetition == Path::kAll) {
    return core::Status::invalidArgument("set needs a path without '*' repetitions");
  }
  // A Path built in code can hold 0; field 0 would overwrite the segment id.
  if (path.segmentRepetition == 0 || path.field == 0 || path.fieldRepetition == 0) {
    return core::Status::invalidArgument("set needs 1-based segment, field and repetition numbers");
  }
  const bool header = isHeaderId(path.segmentId);
  if (header && path.field <= 2) {
    return core::Status::invalidArgument("MSH-1 and MSH-2 (the encoding characters) cannot be set");
  }
  if ((path.component > 1 && delimiters_.component == '\0') ||
      (path.subComponent > 1 && delimiters_.subComponent == '\0') ||
      (path.fieldRepetition > 1 && delimiters_.repetition == '\0')) {
    return core::Status::invalidArgument("the message's encoding characters cannot express that path");
  }
  std::string encoded;
  if (!encodeValue(utf8Value, delimiters_, charset_, encoded)) {
    return core::Status::invalidArgument(
        "value cannot be written: a character the message's character set or encoding characters cannot express");
  }
  // Rebuild the addressed segment from the inside out, then splice it into the message.
  std::size_t index = findSegment(path.segmentId, path.segmentRepetition);
  std::string prefix;
  if (index == segments_.size()) {  // append the missing occurrences
    const std::size_t have = occurrences(path.segmentId);
    std::string added;
    for (std::size_t k = have + 1; k < path.segmentRepetition; ++k) added += path.segmentId + "\r";
    prefix = serialize() + added;
  }
  const std::string_view segment =
      index == segments_.size() ? std::string_view(path.segmentId) : segmentRaw(index);
  const std::uint32_t fieldPart = header ? path.field : path.field + 1;  // part 1 is the id
  const std::string_view field = nthPart(segment, delimiters_.field, fieldPart);
  const std::string_view repetition = nthPart(field, delimiters_.repetition, path.fieldRepetition);
  const std::uint32_t component = std::max<std::uint32_t>(path.component, 1);
  const std::string_view comp = nthPart(repetition, delimiters_.component, component);
  const std::string newComp =
      replacePart(comp, delimiters_.subComponent, std::max<std::uint32_t>(path.subComponent, 1), encoded);
  const std::string newRep = replacePart(repetition, delimiters_.component, component, newComp);
  const std::string newField = replacePart(field, delimiters_.repetition, path.fieldRepetition, newRep);
  const std::string newSegment = replacePart(segment, delimiters_.field, fieldPart, newField);

  std::string rebuilt;
  if (index == segments_.size()) {
    rebuilt = prefix + newSegment + "\r";
  } else {
    const std::string whole = serialize();
    // serialize() keeps segment order; find the segment's offset in the normalised text
    std::size_t offset = 0;
    for (std::size_t i = 0; i < index; ++i) offset += segments_[i].end - segments_[i].begin + 1;
    rebuilt = whole.substr(0, offset) + newSegment + whole.substr(offset + segment.size());
  }
  auto reparsed = parse(std::move(rebuilt));
  if (!reparsed) {
    return core::Status::invalidArgument("the change would make the message unreadable: " +
                                         reparsed.error().text);
  }
  *this = std::move(reparsed).value();
  return core::Status::ok();
}

std::string Message::serialize() const {
  if (normalised_) return buffer_;
  std::string out;
  out.reserve(buffer_.size() + 1);
  for (const auto& s : segments_) {
    out.append(buffer_, s.begin, s.end - s.begin);
    out.push_back('\r');
  }
  return out;
}

std::vector<core::Issue> Message::checkValues() const {
  std::vector<core::Issue> issues;
  std::string scratch;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const auto& s = segments_[i];
    for (std::uint32_t k = s.header ? 1 : 0; k < s.storedFields; ++k) {  // MSH-2 is not a value
      const std::string_view text = storedField(s, k);
      scratch.clear();
      if (const auto bad = decodeValue(text, delimiters_, charset_, scratch)) {
        issues.push_back(structuralIssue(
            core::ErrorCode::DataType, locate(static_cast<std::size_t>(text.data() - buffer_.data()) + *bad),
            "hexadecimal escape sequence does not decode in the message's character set"));
      }
    }
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Header values

std::string Message::controlId() const {
  return get(Path{"MSH", 1, 10, 1, 0, 0});
}
std::string Message::messageCode() const {
  return get(Path{"MSH", 1, 9, 1, 1, 0});
}
std::string Message::triggerEvent() const {
  return get(Path{"MSH", 1, 9, 1, 2, 0});
}
std::string Message::messageStructure() const {
  return get(Path{"MSH", 1, 9, 1, 3, 0});
}
std::string Message::version() const {
  return get(Path{"MSH", 1, 12, 1, 1, 0});
}

}  // namespace cpis::hl7v2
