#include "engine/hl7v2/escaping.h"

#include <optional>
#include <string>

namespace cpis::hl7v2 {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The bytes of a \X...\ sequence's hex text, or nullopt when it is not an even run of hex.
std::optional<std::string> hexBytes(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexDigit(hex[i]);
    const int lo = hexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return bytes;
}

// The single character a one-letter escape stands for, or '\0' when it is not one.
char delimiterFor(std::string_view seq, const Delimiters& d) {
  if (seq.size() != 1) return '\0';
  switch (seq[0]) {
    case 'F': return d.field;
    case 'S': return d.component;
    case 'T': return d.subComponent;
    case 'R': return d.repetition;
    case 'E': return d.escape;
    case 'P': return d.truncation;
    default: return '\0';
  }
}

// ASCII stand-ins for U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A): the
// letter without its accent, as names are written where the accent cannot be (Ŵ -> W).
constexpr const char* kLatinToAscii[] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",  // U+00C0
    "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",  // U+00D0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",  // U+00E0
    "d", "n", "o", "o", "o", "o", "o", "/", "o", "u", "u", "u", "u", "y", "th", "y",  // U+00F0
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",  // U+0100
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",  // U+0110
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",  // U+0120
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "q", "L", "l", "L", "l", "L", "l", "L",  // U+0130
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "'n", "N", "n", "O", "o", "O", "o",  // U+0140
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",  // U+0150
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",  // U+0160
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",  // U+0170
};

// An ASCII stand-in for a code point, or nullptr when there is none worth giving.
const char* asciiFor(char32_t cp) {
  if (cp >= 0xC0 && cp <= 0x17F) return kLatinToAscii[cp - 0xC0];
  switch (cp) {
    case 0xA0: return " ";  // no-break space
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2212: return "-";
    case 0x2018: case 0x2019: case 0x201A: case 0x2032: return "'";
    case 0x201C: case 0x201D: case 0x201E: case 0x2033: return "\"";
    case 0x2026: return "...";
    default: return nullptr;
  }
}

// The next code point of well-formed UTF-8 at `i` (advancing it), or nullopt (advancing one
// byte) at a byte that does not start a well-formed sequence.
std::optional<char32_t> nextCodePoint(std::string_view utf8, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(utf8[i]);
  const std::size_t length = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (length == 0 || i + length > utf8.size() || firstInvalidByte(utf8.substr(i, length), Charset::Utf8)) {
    ++i;
    return std::nullopt;
  }
  char32_t cp = length == 1 ? b0 : b0 & (0xFF >> (length + 1));
  for (std::size_t k = 1; k < length; ++k) cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
  i += length;
  return cp;
}

}  // namespace

std::optional<std::size_t> decodeValue(std::string_view raw, const Delimiters& d, Charset charset,
                                       std::string& out) {
  const char esc = d.escape;
  std::size_t start = 0;  // first byte not yet copied
  std::optional<std::size_t> firstBad;
  if (esc == '\0') {
    appendAsUtf8(raw, charset, out);
    return firstBad;
  }
  for (std::size_t i = raw.find(esc); i != std::string_view::npos; i = raw.find(esc, i)) {
    const std::size_t close = raw.find(esc, i + 1);
    if (close == std::string_view::npos) break;  // unterminated: the rest stays verbatim
    const std::string_view seq = raw.substr(i + 1, close - i - 1);
    std::string replacement;
    bool known = true;
    if (const char c = delimiterFor(seq, d); c != '\0') {
      replacement.push_back(c);
    } else if (seq == ".br") {
      replacement = "\n";
    } else if (!seq.empty() && seq[0] == 'X') {
      auto bytes = hexBytes(seq.substr(1));
      if (bytes && !firstInvalidByte(*bytes, charset)) {
        replacement = std::move(*bytes);
      } else {
        known = false;
        if (!firstBad) firstBad = i;
      }
    } else {
      known = false;  // formatting (\H\ \N\), charset switches, Z escapes: kept as sent
    }
    if (known) {
      appendAsUtf8(raw.substr(start, i - start), charset, out);
      appendAsUtf8(replacement, charset, out);
      start = close + 1;
      i = close + 1;
    } else {
      i = close + 1;  // kept verbatim; the copy happens with the next known sequence
    }
  }
  appendAsUtf8(raw.substr(start), charset, out);
  return firstBad;
}

namespace {
// A control character (CR, LF; MLLP's start block 0x0B and end block 0x1C among them) written as
// it is would cut the segment or the frame the message travels in: never written raw.
bool control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7F;
}
}  // namespace

bool encodeValue(std::string_view utf8, const Delimiters& d, Charset charset, std::string& out) {
  std::string converted;
  if (!appendFromUtf8(utf8, charset, converted)) return false;
  if (d.escape == '\0') {  // nothing can be escaped: only plain text fits
    for (const char c : converted) {
      if (control(c) || d.isDelimiter(c)) return false;
    }
    out.append(converted);
    return true;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : converted) {
    if (control(c)) {  // \X0D\ for CR, \X0A\ for LF, and so on
      const auto byte = static_cast<unsigned char>(c);
      out.append({d.escape, 'X', kHex[byte >> 4], kHex[byte & 0x0F], d.escape});
    } else if (!d.isDelimiter(c)) {
      out.push_back(c);
    } else {
      char letter = 'E';
      if (c == d.field)
        letter = 'F';
      else if (c == d.component)
        letter = 'S';
      else if (c == d.subComponent)
        letter = 'T';
      else if (c == d.repetition)
        letter = 'R';
      else if (c == d.truncation)
        letter = 'P';
      out.append({d.escape, letter, d.escape});
    }
  }
  return true;
}

std::string escapeText(std::string_view utf8, const Delimiters& d, Charset charset) {
  std::string out;
  if (encodeValue(utf8, d, charset, out)) return out;
  // Character by character: what the set holds stays, a letter it lacks loses its accent
  // (Ŵ -> W in an ASCII reply), anything else becomes '?', rather than losing the whole text.
  // A message whose delimiters include '?' and that has no escape character could not take
  // '?' either: then '_' (or a space) stands in.
  char stand = '?';
  for (const char candidate : {'?', '_', ' '}) {
    stand = candidate;
    if (d.escape != '\0' || !d.isDelimiter(candidate)) break;
  }
  std::string fallback;
  // Without an escape character a delimiter or a control character cannot be written either,
  // whether it was in the text or in what stands in for a character (the "..." of an ellipsis).
  const auto put = [&](char c) {
    const bool unescapable = d.escape == '\0' && (control(c) || d.isDelimiter(c));
    fallback.push_back(unescapable ? stand : c);
  };
  for (std::size_t i = 0; i < utf8.size();) {
    const std::size_t start = i;
    const auto cp = nextCodePoint(utf8, i);
    if (!cp) {
      fallback.push_back(stand);
      continue;
    }
    const std::string_view character = utf8.substr(start, i - start);
    if (*cp < 0x80) {
      put(character[0]);
    } else if (std::string probe; appendFromUtf8(character, charset, probe)) {
      fallback.append(character);
    } else if (const char* ascii = asciiFor(*cp)) {
      for (const char* c = ascii; *c != '\0'; ++c) put(*c);
    } else {
      fallback.push_back(stand);
    }
  }
  out.clear();
  encodeValue(fallback, d, charset, out);
  return out;
}

}  // namespace cpis::hl7v2
