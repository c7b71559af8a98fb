#pragma once

#include <string_view>

namespace cpis::config {

// engine/config/cpis-engine.xsd as it was at build time, byte for byte: compiled in (by
// cmake/CpisEmbed.cmake) so the daemon validates its configuration without installed files.
std::string_view embeddedSchema() noexcept;

}  // namespace cpis::config
