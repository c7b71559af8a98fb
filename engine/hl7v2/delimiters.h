#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/core/issue.h"
#include "engine/core/result.h"

namespace cpis::hl7v2 {

// The encoding characters of one message: MSH-1 and the characters of MSH-2 in order
// (component, repetition, escape, sub-component and, from v2.7, truncation). Any character
// may be chosen; one that MSH-2 does not give is '\0' and plays no part.
struct Delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subComponent = '&';
  char truncation = '\0';

  // Whether c is one of the active delimiters (the escape character included).
  bool isDelimiter(char c) const noexcept {
    return c != '\0' && (c == field || c == component || c == repetition || c == escape ||
                         c == subComponent || c == truncation);
  }
  // MSH-2 as the message would carry it ("^~\&" or "^~\&#").
  std::string encodingCharacters() const;

  friend bool operator==(const Delimiters&, const Delimiters&) = default;
};

// Reads MSH-1 and MSH-2 (or FHS/BHS-1 and -2) from the start of a header segment. `segment`
// begins with the three-letter segment id. An unusable choice (a letter or digit, white space,
// a segment terminator, a character used twice, more than five encoding characters) is an
// Issue 102 located at field 1 or 2.
core::Result<Delimiters, core::Issue> readDelimiters(std::string_view segment);

}  // namespace cpis::hl7v2
