#include "engine/core/issue.h"

#include <sstream>

namespace cpis::core {

std::string_view describe(ErrorCode code) {
  switch (code) {
    case ErrorCode::Accepted: return "Message accepted";
    case ErrorCode::SegmentSequence: return "Segment sequence error";
    case ErrorCode::RequiredFieldMissing: return "Required field missing";
    case ErrorCode::DataType: return "Data type error";
    case ErrorCode::TableValueNotFound: return "Table value not found";
    case ErrorCode::ValueTooLong: return "Value too long";
    case ErrorCode::UnsupportedMessageType: return "Unsupported message type";
    case ErrorCode::UnsupportedEventCode: return "Unsupported event code";
    case ErrorCode::UnsupportedProcessingId: return "Unsupported processing id";
    case ErrorCode::UnsupportedVersionId: return "Unsupported version id";
    case ErrorCode::UnknownKeyIdentifier: return "Unknown key identifier";
    case ErrorCode::DuplicateKeyIdentifier: return "Duplicate key identifier";
    case ErrorCode::ApplicationRecordLocked: return "Application record locked";
    case ErrorCode::ApplicationInternalError: return "Application internal error";
  }
  return "Unknown error";
}

std::string_view toString(Severity severity) {
  switch (severity) {
    case Severity::Error: return "E";
    case Severity::Warning: return "W";
    case Severity::Information: return "I";
  }
  return "E";
}

std::string locationText(const Location& location) {
  std::ostringstream os;
  if (location.segmentId.empty()) {
    os << "message";
  } else {
    os << location.segmentId;
    if (location.segmentSequence > 0) os << '(' << location.segmentSequence << ')';
    if (location.field > 0) {
      os << '-' << location.field;
      if (location.fieldRepetition > 0) os << '(' << location.fieldRepetition << ')';
      if (location.component > 0) {
        os << '.' << location.component;
        if (location.subComponent > 0) os << '.' << location.subComponent;
      }
    }
  }
  // 0 is where the message starts, and what an issue found after parsing (a mapping's, a feed
  // rule's) carries when no offset is known: "MSH(1)-3 at byte 0" would point at the wrong place.
  if (location.byteOffset > 0) os << " at byte " << location.byteOffset;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Issue& issue) {
  return os << locationText(issue.location) << ": " << static_cast<unsigned>(issue.code) << ' '
            << describe(issue.code) << ": " << issue.text;
}

}  // namespace cpis::core
