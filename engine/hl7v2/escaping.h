#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/delimiters.h"

namespace cpis::hl7v2 {

// Decodes one primitive value (no unescaped delimiters left in it) to UTF-8, appending to
// `out`: \F\ \S\ \T\ \R\ \E\ (and \P\ when a truncation character is set) become the
// delimiter, \Xhh..\ the bytes it names (read in the message's character set), \.br\ a line
// feed. Every other sequence (\H\, \N\, \Cxxyy\, \Mxxyyzz\, \Zxx\, .sp, an unterminated one)
// is kept verbatim. A \X..\ sequence that is not valid hex, or names bytes invalid in
// `charset`, is kept verbatim too, and the offset of the first such sequence in `raw` is
// returned, so a strict caller can refuse it (nullopt = the value decoded cleanly).
// `raw` must already be valid in `charset` (the parser checks the whole message once).
std::optional<std::size_t> decodeValue(std::string_view raw, const Delimiters& delimiters, Charset charset,
                                       std::string& out);

// The inverse: UTF-8 text to what a field holds, in `charset`, with every delimiter escaped
// and CR/LF written as \X0D\ / \X0A\. False when the text is not valid UTF-8 or holds a
// character `charset` cannot represent.
bool encodeValue(std::string_view utf8, const Delimiters& delimiters, Charset charset, std::string& out);

// encodeValue into a new string that always succeeds: a character `charset` cannot hold loses
// its accent when it is a Latin letter (Ŵ -> W, ß -> ss; typographic quotes and dashes become
// ASCII ones) and becomes '?' otherwise, as does ill-formed UTF-8. For texts we compose or
// relay (ERR, MSA-3, alert segments: a Welsh local authority's name in an ASCII reply).
std::string escapeText(std::string_view utf8, const Delimiters& delimiters, Charset charset);

}  // namespace cpis::hl7v2
