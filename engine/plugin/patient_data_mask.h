#pragma once

#include <string>
#include <string_view>

namespace cpis::plugin {

// Log text from a plugin, made safe for ordinary logs: control characters become spaces, the
// length is capped, and anything shaped like an NHS number (ten digits, or 3-3-4 with spaces or
// dashes, whether or not it passes modulus 11: a mistyped number, as the ACK's ZCP-13 echoes it,
// is patient data too) becomes "***", and so does anything shaped like a date (perhaps a birth
// date: YYYYMMDD, alone or with a time, YYYY-MM-DD, DD/MM/YYYY...). Names cannot be told from
// other words: a last line of defence, not a licence.
std::string maskPatientData(std::string_view text);

}  // namespace cpis::plugin
