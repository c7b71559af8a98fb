#include "engine/hl7v2/charset.h"

#include <algorithm>
#include <cstdint>

namespace cpis::hl7v2 {
namespace {

std::string_view trimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Length of the well-formed UTF-8 sequence starting at s[i] (Unicode table 3-7), 0 if ill-formed.
std::size_t utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const unsigned char b1 = byte(i + 1);
  if (b1 < lo || b1 > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

}  // namespace

std::optional<Charset> charsetFromMsh18(std::string_view value) {
  // Table 0211's codes are upper case, but EPRs send "utf-8" as well: the name is read whatever
  // its case (as HAPI and Java's charset names do); the bytes are checked against it all the same.
  const std::string_view v = trimSpaces(value);
  const auto is = [v](std::string_view upper) {
    return v.size() == upper.size() && std::equal(v.begin(), v.end(), upper.begin(), [](char a, char b) {
             return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 'a' + 'A') : a) == b;
           });
  };
  if (v.empty() || is("ASCII")) return Charset::Ascii;
  if (is("8859/1")) return Charset::Latin1;
  if (is("UNICODE UTF-8") || is("UTF-8")) return Charset::Utf8;
  return std::nullopt;
}

std::string_view msh18Name(Charset charset) {
  switch (charset) {
    case Charset::Ascii: return "";
    case Charset::Latin1: return "8859/1";
    case Charset::Utf8: return "UNICODE UTF-8";
  }
  return "";
}

std::optional<std::size_t> firstInvalidByte(std::string_view bytes, Charset charset) {
  switch (charset) {
    case Charset::Latin1: return std::nullopt;
    case Charset::Ascii:
      for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (static_cast<unsigned char>(bytes[i]) >= 0x80) return i;
      }
      return std::nullopt;
    case Charset::Utf8:
      for (std::size_t i = 0; i < bytes.size();) {
        const std::size_t len = utf8SequenceLength(bytes, i);
        if (len == 0) return i;
        i += len;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

void appendAsUtf8(std::string_view bytes, Charset charset, std::string& out) {
  if (charset != Charset::Latin1) {
    out.append(bytes);
    return;
  }
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out.push_back(ch);
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

bool appendFromUtf8(std::string_view utf8, Charset charset, std::string& out) {
  if (firstInvalidByte(utf8, Charset::Utf8)) return false;
  switch (charset) {
    case Charset::Utf8: out.append(utf8); return true;
    case Charset::Ascii:
      if (firstInvalidByte(utf8, Charset::Ascii)) return false;
      out.append(utf8);
      return true;
    case Charset::Latin1:
      for (std::size_t i = 0; i < utf8.size();) {
        const auto b0 = static_cast<unsigned char>(utf8[i]);
        if (b0 < 0x80) {
          out.push_back(static_cast<char>(b0));
          ++i;
        } else if (b0 == 0xC2 || b0 == 0xC3) {  // U+0080..U+00FF
          const auto b1 = static_cast<unsigned char>(utf8[i + 1]);
          out.push_back(static_cast<char>(((b0 & 0x1F) << 6) | (b1 & 0x3F)));
          i += 2;
        } else {
          return false;
        }
      }
      return true;
  }
  return false;
}

}  // namespace cpis::hl7v2
