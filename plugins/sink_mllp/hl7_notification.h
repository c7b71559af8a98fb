#pragma once

// The HL7 v2 side of sink_mllp, std only: the ORU^R01 a notification becomes, the control id
// (MSH-10) derived from its idempotency key, and reading the receiver's ACK.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "plugins/common/notification_fields.h"

namespace cpis::sinks::mllp {

struct MessageHeader {
  std::string sendingApplication = "CPIS-ENGINE";  // MSH-3
  std::string sendingFacility;                     // MSH-4
  std::string receivingApplication;                // MSH-5
  std::string receivingFacility;                   // MSH-6
  std::string processingId = "P";                  // MSH-11
  std::string version = "2.5";                     // MSH-12
};

// MSH-10 for an idempotency key: the key itself when it fits in maxLength characters and holds
// only printable ASCII other than the HL7 delimiters |^~\&; otherwise SHA-256 of the whole key
// in base32 (A-Z, 2-7), maxLength characters (at most 51). Stable: a redelivery carries the same
// MSH-10; the key itself travels in an OBX either way.
std::string controlIdFor(std::string_view idempotencyKey, std::size_t maxLength);

// Escapes a value for a field (HL7 v2 2.7: \F\ \S\ \T\ \R\ \E\, line ends as \X0D\ \X0A\).
std::string escape(std::string_view value);

// The message (segments ending in CR, unframed):
//   MSH  the header, MSH-9 ORU^R01^ORU_R01, MSH-10 controlId
//   PID  only when the engine passed an NHS number: PID-3 <nhs>^^^NHS^NH, PID-5 family^given,
//        PID-7 birth date (YYYYMMDD)
//   OBR  OBR-4 <kind>^<description>^CPISN, OBR-7 occurred_at (HL7 DTM), OBR-25 F
//   OBX  one per field, in kFieldKeys order: OBX-2 ST, OBX-3 <key>^^CPISN, OBX-5 the value,
//        OBX-11 F; the `plans` field gives one OBX per plan line, numbered in OBX-4.
// `now` is MSH-7 (YYYYMMDDHHMMSS+0000).
std::string composeMessage(const Fields& fields, const MessageHeader& header, const std::string& controlId,
                           const std::string& now);

// An ISO 8601 UTC time (2025-06-12T13:30:05Z, fractions dropped) as HL7 DTM
// (20250612133005+0000); "" when it is not one.
std::string toHl7Time(std::string_view iso);

// What a receiver answered.
struct Ack {
  std::string code;       // MSA-1: AA, AE, AR, CA, CE, CR
  std::string controlId;  // MSA-2: the MSH-10 it acknowledges
};
// The MSA of an acknowledgement, or nullopt when it has none or no MSH.
std::optional<Ack> parseAck(std::string_view message);

}  // namespace cpis::sinks::mllp
