#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cpis::hl7v2 {

// Character sets of HL7 table 0211 that the engine reads (MSH-18). Values are exposed as UTF-8
// whatever the message's set; replies go out in the set the message came in.
enum class Charset { Ascii, Latin1, Utf8 };

// MSH-18 (its first repetition) to a Charset: empty or "ASCII" = ASCII, "8859/1" = Latin-1,
// "UNICODE UTF-8" (and the common non-table spelling "UTF-8") = UTF-8. nullopt = unsupported.
std::optional<Charset> charsetFromMsh18(std::string_view value);
std::string_view msh18Name(Charset charset);  // "" for ASCII (HL7's default when empty)

// Offset of the first byte that is not valid in `charset` (nullopt = all valid). For ASCII a
// byte >= 0x80; for UTF-8 the first byte of an ill-formed sequence (overlongs, surrogates and
// code points past U+10FFFF are ill-formed); Latin-1 accepts every byte.
std::optional<std::size_t> firstInvalidByte(std::string_view bytes, Charset charset);

// Bytes in `charset` (already valid) appended to `out` as UTF-8.
void appendAsUtf8(std::string_view bytes, Charset charset, std::string& out);

// UTF-8 text appended to `out` in `charset`. False (and `out` partly written) when the text is
// not valid UTF-8 or holds a character the set cannot represent.
bool appendFromUtf8(std::string_view utf8, Charset charset, std::string& out);

}  // namespace cpis::hl7v2
