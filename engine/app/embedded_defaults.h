#pragma once

#include <string_view>

namespace cpis::app {

// engine/config/samples/cpis-engine.xml as it was at build time: the configuration the engine
// runs on when started without --config (SQLite store under ./var, one plain MLLP feed on
// 127.0.0.1:2575). Compiled in by cmake/CpisEmbed.cmake.
std::string_view embeddedDefaults() noexcept;

}  // namespace cpis::app
