#include "engine/hl7v2/delimiters.h"

#include <array>

namespace cpis::hl7v2 {
namespace {

bool unusable(unsigned char c) {
  const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return alnum || c <= ' ' || c >= 0x7F;
}

core::Issue delimiterIssue(std::string_view segmentId, std::uint32_t field, std::size_t offset,
                           std::string text) {
  core::Issue issue;
  issue.code = core::ErrorCode::DataType;
  issue.location.segmentId = std::string(segmentId);
  issue.location.segmentSequence = 1;
  issue.location.field = field;
  issue.location.byteOffset = offset;
  issue.text = std::move(text);
  return issue;
}

}  // namespace

std::string Delimiters::encodingCharacters() const {
  std::string out;
  for (const char c : {component, repetition, escape, subComponent, truncation}) {
    if (c == '\0') break;
    out.push_back(c);
  }
  return out;
}

core::Result<Delimiters, core::Issue> readDelimiters(std::string_view segment) {
  const std::string_view id = segment.substr(0, 3);
  if (segment.size() < 4) {
    return delimiterIssue(id, 1, 3, "header segment ends before the field separator (MSH-1)");
  }
  Delimiters d;
  d.field = segment[3];
  if (unusable(static_cast<unsigned char>(d.field))) {
    return delimiterIssue(id, 1, 3, "field separator (MSH-1) is not a usable character");
  }
  std::size_t end = 4;
  while (end < segment.size() && segment[end] != d.field) ++end;
  const std::string_view chars = segment.substr(4, end - 4);
  if (chars.empty()) {
    return delimiterIssue(id, 2, 4, "encoding characters (MSH-2) are missing");
  }
  if (chars.size() > 5) {
    return delimiterIssue(id, 2, 4, "encoding characters (MSH-2) are longer than five characters");
  }
  std::array<char*, 5> slots{&d.component, &d.repetition, &d.escape, &d.subComponent, &d.truncation};
  for (char* slot : slots) *slot = '\0';
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const char c = chars[i];
    if (unusable(static_cast<unsigned char>(c))) {
      return delimiterIssue(
          id, 2, 4 + i,
          "encoding character " + std::to_string(i + 1) + " of MSH-2 is not a usable character");
    }
    if (c == d.field || chars.find(c) != i) {
      return delimiterIssue(id, 2, 4 + i,
                            "encoding character " + std::to_string(i + 1) + " of MSH-2 is used twice");
    }
    *slots[i] = c;
  }
  return d;
}

}  // namespace cpis::hl7v2
