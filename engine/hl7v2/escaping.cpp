#include "engine/hl7v2/escaping.h"

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

bool encodeValue(std::string_view utf8, const Delimiters& d, Charset charset, std::string& out) {
  std::string converted;
  if (!appendFromUtf8(utf8, charset, converted)) return false;
  if (d.escape == '\0') {  // nothing can be escaped: only plain text fits
    for (const char c : converted) {
      if (c == '\r' || c == '\n' || d.isDelimiter(c)) return false;
    }
    out.append(converted);
    return true;
  }
  for (const char c : converted) {
    if (c == '\r') {
      out.append({d.escape, 'X', '0', 'D', d.escape});
    } else if (c == '\n') {
      out.append({d.escape, 'X', '0', 'A', d.escape});
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
  std::string ascii;
  for (const char c : utf8) {
    // Without an escape character a delimiter, CR or LF cannot be written either: '?' too,
    // rather than losing the whole text.
    const bool unescapable = d.escape == '\0' && (c == '\r' || c == '\n' || d.isDelimiter(c));
    if (static_cast<unsigned char>(c) < 0x80)
      ascii.push_back(unescapable ? '?' : c);
    else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ascii.push_back('?');
  }
  out.clear();
  encodeValue(ascii, d, Charset::Ascii, out);
  return out;
}

}  // namespace cpis::hl7v2
