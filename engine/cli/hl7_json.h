#pragma once

#include <ostream>

#include "engine/hl7v2/message.h"

namespace cpis::cli {

// Writes a message as indented JSON for people reading it: the encoding, character set and
// version, then each segment with its valued fields by number; a repeating field becomes an
// array, a composite value an object of its valued components (and sub-components), the
// explicit null "" is null. Values are decoded to UTF-8.
void writeJson(const hl7v2::Message& message, std::ostream& out);

}  // namespace cpis::cli
