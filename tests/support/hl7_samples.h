#pragma once

// Shared by the unit tests: headers to build HL7 v2 table rows from, and file access to the
// sample corpus. Everything here is fictitious test data.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

// A v2.x MSH with the standard delimiters, up to and including MSH-11, so a row can append the
// version (MSH-12) and anything after it: MSH_PREFIX "2.5\r". MSH-10 is CTRL1, MSH-9
// ADT^A01^ADT_A01, and the sending / receiving application and facility are SNDAPP, SNDFAC,
// RCVAPP, RCVFAC. The prefix is 77 bytes long.
#define MSH_PREFIX "MSH|^~\\&|SNDAPP|SNDFAC|RCVAPP|RCVFAC|20240101120000||ADT^A01^ADT_A01|CTRL1|P|"
// The whole v2.4 header with its '\r': 81 bytes, so the second segment starts at byte 81.
#define MSH24 MSH_PREFIX "2.4\r"
// The same header declaring a character set in MSH-18 (MSH-13 to MSH-17 empty).
#define MSH_LATIN1 MSH_PREFIX "2.4||||||8859/1\r"
#define MSH_UTF8 MSH_PREFIX "2.5.1||||||UNICODE UTF-8\r"

namespace cpis::test {

// A file of the repository, byte for byte (CPIS_SOURCE_DIR is the repository root).
inline std::string readRepoFile(std::string_view relativePath) {
  const std::string path = std::string(CPIS_SOURCE_DIR) + "/" + std::string(relativePath);
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

// `text` with its segment ends made visible, for table rows printed in failure messages.
inline std::string visible(std::string_view text, std::size_t limit = 90) {
  std::string out;
  for (const char c : text.substr(0, limit)) {
    if (c == '\r') {
      out += "<CR>";
    } else if (c == '\n') {
      out += "<LF>";
    } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "<";
      out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
      out.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
      out += ">";
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > limit) out += "...";
  return out;
}

// Every '\r' replaced by "\n" so expected segments can be compared as lines.
inline std::string crToLf(std::string text) {
  for (char& c : text) {
    if (c == '\r') c = '\n';
  }
  return text;
}

}  // namespace cpis::test
