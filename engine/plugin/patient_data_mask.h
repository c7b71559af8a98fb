#pragma once

#include <string>
#include <string_view>

namespace cpis::plugin {

// Log text from a plugin, made safe for ordinary logs: control characters become spaces, the
// length is capped, and anything that looks like an NHS number (ten digits, or 3-3-4 with spaces
// or dashes, passing modulus 11) becomes "***". A last line of defence, not a licence.
std::string maskPatientData(std::string_view text);

}  // namespace cpis::plugin
