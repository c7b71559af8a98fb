#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "engine/core/issue.h"
#include "engine/hl7v2/message.h"

namespace cpis::hl7v2 {

// Original mode: one ACK (AA/AE/AR). Enhanced mode (MSH-15 or MSH-16 valued): an accept ACK
// (CA/CE/CR) on receipt, then an application ACK (AA/AE/AR).
enum class AckMode { Original, Enhanced };
enum class AckCode { AA, AE, AR, CA, CE, CR };
// What happened to the message, independent of the mode: stored and fine, a data error, or
// refused (unreadable, or an environment failure: resend).
enum class Outcome { Accept, Error, Reject };

AckMode ackModeOf(const Message& message);
AckCode ackCodeFor(Outcome outcome, AckMode mode);  // the accept-level code in enhanced mode
std::string_view toString(AckCode code);
std::optional<AckCode> ackCodeFromString(std::string_view text);
// The same outcome in the other mode (AA <-> CA and so on), for tools that force a mode.
AckCode inMode(AckCode code, AckMode mode);

struct AckOptions {
  std::string controlId;               // MSH-10 of the ACK itself
  std::string timestamp;               // MSH-7 (HL7 DTM); see hl7Timestamp()
  std::string defaultVersion = "2.4";  // MSH-12 when the message carries none (ITK's version)
  std::string textMessage;             // MSA-3, plain text; default: the first issue's text
  std::string profile;                 // MSH-21, e.g. "CPIS-ACK-1.0"; empty = none
  // MSH-15 AL and MSH-16 NE: an application ACK sent over a return connection asks the EPR for
  // its accept ACK (an ACK in original mode is never acknowledged, and the engine waits for one).
  bool askForAccept = false;
};

// What a reply to a message we sent says of it: its MSA-1 ("CA", "AA", "AE"...) when the reply
// is an ACK whose MSA-2 names `controlId`; empty for anything else (not HL7, another message's
// ACK), which acknowledges nothing.
std::string acknowledgementOf(std::string_view reply, std::string_view controlId);

// The ACK for a parsed message: MSH with sending and receiving application and facility
// swapped, the message's own delimiters, version (MSH-12) and character set (MSH-18); MSA-2
// is the message's MSH-10 as sent. `issues` become ERR segments in the form the version
// expects: ERR-1 (ELD, repeating) up to 2.4 plus MSA-6 for the first; from 2.5 one ERR per
// issue with ERR-2 location, ERR-3 the 0357 code, ERR-4 severity and ERR-8 the text.
// Segments end with '\r'.
std::string buildAck(const Message& inbound, AckCode code, std::span<const core::Issue> issues,
                     const AckOptions& options);

// The rejection for bytes that did not parse: whatever a damaged MSH still offers (delimiters,
// MSH-3 to MSH-6, MSH-10, MSH-11, MSH-12, MSH-9.2) is salvaged so the sender can pair the ACK
// with its message; fields that cannot be trusted are left empty. The code is AR, or CR when
// the damaged header asked for enhanced mode and the feed takes it (`enhancedFeed`; false: the
// feed answers every message in original mode, whatever its MSH-15/16 say).
std::string buildRejection(std::string_view bytes, const core::Issue& issue, const AckOptions& options,
                           bool enhancedFeed = true);

// MSH-10 as a damaged message still gives it (raw, and only when it is plain printable text),
// or "" when it cannot be found (or the bytes are a batch, FHS/BHS): the key a rejected message
// is stored and de-duplicated under.
std::string salvageControlId(std::string_view bytes);

// An HL7 DTM in UTC with its offset: YYYYMMDDHHMMSS.SSS+0000.
std::string hl7Timestamp(std::chrono::system_clock::time_point at);

}  // namespace cpis::hl7v2
