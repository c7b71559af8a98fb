#pragma once

#include <string_view>

namespace cpis::mapping {

// mappings/mapping.xsd as it was at build time, byte for byte: compiled in (by
// cmake/CpisEmbed.cmake) so the engine validates mapping files without installed files.
std::string_view embeddedMappingSchema() noexcept;

}  // namespace cpis::mapping
