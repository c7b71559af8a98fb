#pragma once

#include <string>
#include <string_view>

namespace cpis::plugin {

// Log text from a plugin, made safe for ordinary logs: control characters become spaces, the
// length is capped, and anything shaped like an NHS number (ten digits, or 3-3-4 with spaces,
// dashes, dots or slashes, whether or not it passes modulus 11: a mistyped number, as the ACK's
// ZCP-13 echoes it, is patient data too) becomes "***", and so does anything shaped like a date
// (perhaps a birth date: YYYYMMDD, alone or with a time, YYYY-MM-DD, DD/MM/YYYY...) and the
// content of a raw HL7 v2 segment ("PID|1||..." becomes "PID|***", to the segment's end). Names
// in free text cannot be told from other words: a last line of defence, not a licence.
std::string maskPatientData(std::string_view text);

}  // namespace cpis::plugin
