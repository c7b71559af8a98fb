#include "engine/hl7v2/ack.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "engine/hl7v2/escaping.h"
#include "engine/hl7v2/version.h"

namespace cpis::hl7v2 {
namespace {

// What an ACK needs from the message it answers, as raw field text in that message's encoding.
struct AckHeader {
  Delimiters delimiters;
  std::string_view encodingCharacters = "^~\\&";
  Charset charset = Charset::Ascii;
  std::string_view sendingApplication, sendingFacility, receivingApplication, receivingFacility;
  std::string_view triggerEvent, controlId, processingId, version, charsetField;
  std::string_view country, language;  // MSH-17, MSH-19: echoed (England: GBR, EN)
};

// MSH-12 as an ACK echoes it: the message's own when its version id (MSH-12.1) is an HL7 v2
// release; else none, and the ACK states the feed's default (an AR 203 is no v3 message).
std::string_view echoedVersion(std::string_view field, char component) {
  const auto version = Version::parse(field.substr(0, field.find(component)));
  return version && version->isV2Release() ? field : std::string_view{};
}

AckHeader headerOf(const Message& m) {
  AckHeader h;
  h.delimiters = m.delimiters();
  h.encodingCharacters = m.fieldRaw(0, 2);
  h.charset = m.charset();
  h.sendingApplication = m.fieldRaw(0, 3);
  h.sendingFacility = m.fieldRaw(0, 4);
  h.receivingApplication = m.fieldRaw(0, 5);
  h.receivingFacility = m.fieldRaw(0, 6);
  h.triggerEvent = m.raw(Path{"MSH", 1, 9, 1, 2, 0});
  h.controlId = m.fieldRaw(0, 10);
  h.processingId = m.fieldRaw(0, 11);
  h.version = echoedVersion(m.fieldRaw(0, 12), h.delimiters.component);
  h.charsetField = replyCharsetField(m);
  h.country = m.fieldRaw(0, 17);
  h.language = m.fieldRaw(0, 19);
  return h;
}

// Only printable ASCII without the delimiters' structure breaking: anything else is dropped
// rather than echoed, since it came from a message we could not read.
bool trustworthy(std::string_view field) {
  for (const char c : field) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F) return false;
  }
  return true;
}

// `bytes` from their first segment: without what parse() skips before the MSH (a UTF-8 byte
// order mark, blank lines).
std::string_view fromFirstSegment(std::string_view bytes) {
  std::size_t start = bytes.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (start < bytes.size() &&
         (bytes[start] == '\r' || bytes[start] == '\n' || bytes[start] == ' ' || bytes[start] == '\t'))
    ++start;
  return bytes.substr(start);
}

bool isBatch(std::string_view bytes) {
  return bytes.substr(0, 3) == "FHS" || bytes.substr(0, 3) == "BHS";
}

AckHeader salvageHeader(std::string_view bytes, std::array<std::string_view, 22>& fields) {
  AckHeader h;
  bytes = fromFirstSegment(bytes);
  if (isBatch(bytes)) {
    // A batch sent as one message: the reply pairs with its first message's MSH-10.
    const std::size_t msh = std::min(bytes.find("\rMSH"), bytes.find("\nMSH"));
    if (msh == std::string_view::npos) return h;
    bytes.remove_prefix(msh + 1);
  }
  if (bytes.substr(0, 3) != "MSH") return h;
  const std::string_view line = bytes.substr(0, bytes.find_first_of("\r\n"));
  auto delimiters = readDelimiters(line);
  if (delimiters) {
    h.delimiters = delimiters.value();
  } else {
    // MSH-2 is broken (a character twice, too long) but MSH-1 still splits the fields: MSH-10
    // and the rest are echoed so the sender can pair the AR with its message, and the reply is
    // written with the standard encoding characters, if MSH-1 is usable beside them.
    if (line.size() < 4) return h;
    const auto standard = readDelimiters(std::string("MSH") + line[3] + "^~\\&");
    if (!standard) return h;
    h.delimiters = standard.value();
  }
  // fields[n] = MSH-n for n >= 2
  std::size_t pos = 4;
  for (std::size_t n = 2; n < fields.size() && pos <= line.size(); ++n) {
    const std::size_t end = std::min(line.find(h.delimiters.field, pos), line.size());
    fields[n] = line.substr(pos, end - pos);
    pos = end + 1;
  }
  if (delimiters) h.encodingCharacters = fields[2];
  const auto pick = [&](std::size_t n) { return trustworthy(fields[n]) ? fields[n] : std::string_view{}; };
  h.sendingApplication = pick(3);
  h.sendingFacility = pick(4);
  h.receivingApplication = pick(5);
  h.receivingFacility = pick(6);
  const std::string_view type = pick(9);
  const std::size_t comp = type.find(h.delimiters.component);
  if (comp != std::string_view::npos) {
    h.triggerEvent = type.substr(comp + 1, type.find(h.delimiters.component, comp + 1) - comp - 1);
  }
  h.controlId = pick(10);
  h.processingId = pick(11);
  h.version = echoedVersion(pick(12), h.delimiters.component);
  // The reply is written in ASCII: MSH-18 is not echoed since the bytes could not be trusted.
  h.country = pick(17);
  h.language = pick(19);
  return h;
}

std::string composeAck(const AckHeader& h, AckCode code, std::span<const core::Issue> issues,
                       const AckOptions& options) {
  const Delimiters& d = h.delimiters;
  const std::string_view versionText =
      h.version.empty() ? std::string_view(options.defaultVersion) : h.version;
  const Version version =
      Version::parse(versionText.substr(0, versionText.find(d.component))).value_or(Version{});
  const auto esc = [&](std::string_view text) { return escapeText(text, d, h.charset); };
  const char f = d.field;

  std::string out;
  out.reserve(256 + issues.size() * 96);
  // MSH
  out.append("MSH").push_back(f);
  out.append(h.encodingCharacters).push_back(f);
  out.append(h.receivingApplication).push_back(f);
  out.append(h.receivingFacility).push_back(f);
  out.append(h.sendingApplication).push_back(f);
  out.append(h.sendingFacility).push_back(f);
  out.append(esc(options.timestamp)).push_back(f);
  out.push_back(f);  // MSH-8 security
  out.append("ACK");
  if (version.atLeast(2, 3)) {
    out.push_back(d.component);
    out.append(h.triggerEvent);
    if (version.atLeast(2, 3, 1)) out.append({d.component, 'A', 'C', 'K'});
  }
  out.push_back(f);
  out.append(esc(options.controlId)).push_back(f);
  out.append(h.processingId).push_back(f);
  out.append(versionText);
  std::size_t lastField = 12;
  const auto putField = [&](std::size_t n, std::string_view value) {
    if (value.empty()) return;
    out.append(n - lastField, f);
    out.append(value);
    lastField = n;
  };
  if (options.askForAccept) {
    putField(15, "AL");
    putField(16, "NE");
  }
  putField(17, h.country);
  putField(18, h.charsetField);
  putField(19, h.language);
  // MSH-21: the message profile (2.4 on; the conformance statement id in 2.3.1). v2.3's MSH
  // ends at MSH-19.
  if (!options.profile.empty() && version.atLeast(2, 3, 1)) putField(21, esc(options.profile));
  out.push_back('\r');

  // MSA
  std::string_view text = options.textMessage;
  if (text.empty() && !issues.empty()) text = issues.front().text;
  out.append("MSA").push_back(f);
  out.append(toString(code)).push_back(f);
  out.append(h.controlId);
  const bool legacyErr = !version.atLeast(2, 5);
  if (!text.empty() || (legacyErr && !issues.empty())) {
    out.push_back(f);
    out.append(esc(text));
  }
  const auto firstError = std::find_if(issues.begin(), issues.end(),
                                       [](const core::Issue& i) { return i.severity == core::Severity::Error; });
  if (legacyErr && firstError != issues.end()) {  // MSA-6 error condition (CE): the first error's
    const auto& first = *firstError;
    out.append(3, f);
    out.append(std::to_string(static_cast<unsigned>(first.code))).push_back(d.component);
    out.append(esc(describe(first.code))).push_back(d.component);
    out.append("HL70357");
  }
  out.push_back('\r');

  // ERR
  const auto number = [](std::uint32_t n) { return n == 0 ? std::string() : std::to_string(n); };
  if (legacyErr) {
    if (!issues.empty()) {
      out.append("ERR").push_back(f);
      bool firstIssue = true;
      for (const auto& issue : issues) {
        if (!firstIssue) {
          if (d.repetition == '\0') break;  // ERR-1 cannot repeat without '~': first issue only
          out.push_back(d.repetition);
        }
        firstIssue = false;
        const auto& l = issue.location;
        out.append(l.segmentId).push_back(d.component);
        out.append(number(l.segmentSequence)).push_back(d.component);
        out.append(number(l.field)).push_back(d.component);
        const char sub = d.subComponent != '\0' ? d.subComponent : d.component;
        out.append(std::to_string(static_cast<unsigned>(issue.code))).push_back(sub);
        out.append(esc(describe(issue.code))).push_back(sub);
        out.append("HL70357");
      }
      out.push_back('\r');
    }
  } else {
    for (const auto& issue : issues) {
      const auto& l = issue.location;
      out.append("ERR").push_back(f);
      out.push_back(f);  // ERR-1 is kept for versions before 2.5
      if (!l.segmentId.empty()) {  // ERR-2 (ERL), without trailing empty components
        out.append(l.segmentId);
        const std::uint32_t parts[] = {l.segmentSequence, l.field, l.fieldRepetition, l.component,
                                       l.subComponent};
        std::size_t valued = std::size(parts);
        while (valued > 0 && parts[valued - 1] == 0) --valued;
        for (std::size_t i = 0; i < valued; ++i) out.append(1, d.component).append(number(parts[i]));
      }
      out.push_back(f);
      out.append(std::to_string(static_cast<unsigned>(issue.code))).push_back(d.component);
      out.append(esc(describe(issue.code))).push_back(d.component);
      out.append("HL70357").push_back(f);
      out.append(toString(issue.severity));
      out.append(4, f);  // ERR-5 application error code .. ERR-8 user message
      out.append(esc(issue.text));
      out.push_back('\r');
    }
  }
  return out;
}

}  // namespace

AckMode ackModeOf(const Message& message) {
  // Empty and the explicit null "" both mean "not valued": original mode.
  const auto valued = [&](std::uint32_t field) {
    return message.presence(Path{"MSH", 1, field, 1, 0, 0}) == Presence::Valued;
  };
  return valued(15) || valued(16) ? AckMode::Enhanced : AckMode::Original;
}

AckCode ackCodeFor(Outcome outcome, AckMode mode) {
  const bool enhanced = mode == AckMode::Enhanced;
  switch (outcome) {
    case Outcome::Accept: return enhanced ? AckCode::CA : AckCode::AA;
    case Outcome::Error: return enhanced ? AckCode::CE : AckCode::AE;
    case Outcome::Reject: return enhanced ? AckCode::CR : AckCode::AR;
  }
  return AckCode::AR;
}

AckCode inMode(AckCode code, AckMode mode) {
  switch (code) {
    case AckCode::AA:
    case AckCode::CA: return ackCodeFor(Outcome::Accept, mode);
    case AckCode::AE:
    case AckCode::CE: return ackCodeFor(Outcome::Error, mode);
    case AckCode::AR:
    case AckCode::CR: return ackCodeFor(Outcome::Reject, mode);
  }
  return code;
}

std::string_view toString(AckCode code) {
  switch (code) {
    case AckCode::AA: return "AA";
    case AckCode::AE: return "AE";
    case AckCode::AR: return "AR";
    case AckCode::CA: return "CA";
    case AckCode::CE: return "CE";
    case AckCode::CR: return "CR";
  }
  return "AR";
}

std::optional<AckCode> ackCodeFromString(std::string_view text) {
  for (const AckCode c : {AckCode::AA, AckCode::AE, AckCode::AR, AckCode::CA, AckCode::CE, AckCode::CR}) {
    if (toString(c) == text) return c;
  }
  return std::nullopt;
}

std::string buildAck(const Message& inbound, AckCode code, std::span<const core::Issue> issues,
                     const AckOptions& options) {
  return composeAck(headerOf(inbound), code, issues, options);
}

std::string buildRejection(std::string_view bytes, const core::Issue& issue, const AckOptions& options,
                           bool enhancedFeed) {
  std::array<std::string_view, 22> fields{};
  const AckHeader header = salvageHeader(bytes, fields);
  const auto valued = [&](std::size_t n) { return !fields[n].empty() && fields[n] != "\"\""; };
  const bool enhanced = enhancedFeed && (valued(15) || valued(16));
  return composeAck(header, enhanced ? AckCode::CR : AckCode::AR, std::span(&issue, 1), options);
}

std::string salvageControlId(std::string_view bytes) {
  // A batch sent as one message is not its first message: its AR pairs with that MSH-10, but it
  // is stored under a key of its own, never as a resend of that message or another's.
  if (isBatch(fromFirstSegment(bytes))) return {};
  std::array<std::string_view, 22> fields{};
  return std::string(salvageHeader(bytes, fields).controlId);
}

std::string hl7Timestamp(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d%02d%02d%02d%02d%02d.%03d+0000", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
  return text;
}

std::string acknowledgementOf(std::string_view reply, std::string_view controlId) {
  // An EPR's acknowledgement with 8-bit bytes (a name in MSA-3's text, an ERR) and no MSH-18
  // (an EPR that sends UTF-8 without saying so) is still an acknowledgement: read as Latin-1,
  // which takes every byte, since only MSA-1 and MSA-2 (ASCII codes and ids) are read.
  const auto parsed = parse(std::string(reply), Charset::Latin1);
  if (!parsed || parsed.value().get("MSA-2") != controlId) return {};
  return std::string(parsed.value().get("MSA-1"));
}

}  // namespace cpis::hl7v2
