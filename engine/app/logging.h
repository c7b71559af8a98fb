#pragma once

#include "engine/config/config.h"

namespace cpis::app {

// Points POCO's root logger at standard error, as text lines or JSON lines, at the configured
// level. Our log lines carry ids, feeds, sizes, codes and timings only: never message bodies,
// NHS numbers, names or dates of birth (STYLE.md §4).
void configureLogging(const config::LoggingConfig& logging);

}  // namespace cpis::app
