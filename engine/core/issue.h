#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace cpis::core {

// HL7 table 0357 (message error condition codes): what an ERR segment reports.
enum class ErrorCode : std::uint16_t {
  Accepted = 0,
  SegmentSequence = 100,
  RequiredFieldMissing = 101,
  DataType = 102,
  TableValueNotFound = 103,
  ValueTooLong = 104,
  UnsupportedMessageType = 200,
  UnsupportedEventCode = 201,
  UnsupportedProcessingId = 202,
  UnsupportedVersionId = 203,
  UnknownKeyIdentifier = 204,
  DuplicateKeyIdentifier = 205,
  ApplicationRecordLocked = 206,
  ApplicationInternalError = 207,
};

// HL7 table 0516 (error severity): ERR-4 from v2.5.
enum class Severity : std::uint8_t { Error, Warning, Information };

// Where in a message a problem is: HL7's ERL data type (ERR-2) plus the byte offset in the
// received message, for people reading `cpis-hl7 check`. Positions are 1-based; 0 = not
// applicable (a problem with a whole segment has field 0).
struct Location {
  std::string segmentId;            // "PID"; empty when no segment could be identified
  std::uint32_t segmentSequence{};  // 1 = first occurrence of that segment id
  std::uint32_t field{};
  std::uint32_t fieldRepetition{};
  std::uint32_t component{};
  std::uint32_t subComponent{};
  std::size_t byteOffset{};  // offset of the segment or field in the raw message

  friend bool operator==(const Location&, const Location&) = default;
};

// Something wrong with the data, located. The text says what is wrong and never quotes the
// value: it reaches ERR segments and logs, and values are patient data.
struct [[nodiscard]] Issue {
  ErrorCode code{ErrorCode::ApplicationInternalError};
  Severity severity{Severity::Error};
  Location location;
  std::string text;

  friend bool operator==(const Issue&, const Issue&) = default;
};

std::string_view describe(ErrorCode code);           // HL7 0357 display text, e.g. "Required field missing"
std::string_view toString(Severity severity);        // "E", "W", "I" (HL7 table 0516)
std::string locationText(const Location& location);  // "PID(1)-3(1).4 at byte 112"
std::ostream& operator<<(std::ostream& os, const Issue& issue);

}  // namespace cpis::core
