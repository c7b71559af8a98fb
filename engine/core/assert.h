#pragma once

namespace cpis::core {

// Prints the failed condition and where it failed, then aborts. Used for our own bugs,
// never for bad input: bad input is an Issue or a Status. (Not std::source_location:
// clang 14, which builds the fuzz targets, lacks it with libstdc++ 12.)
[[noreturn]] void assertionFailed(const char* condition, const char* file, int line);

}  // namespace cpis::core

#define CPIS_ASSERT(condition)                                       \
  do {                                                               \
    if (!(condition)) [[unlikely]] {                                 \
      ::cpis::core::assertionFailed(#condition, __FILE__, __LINE__); \
    }                                                                \
  } while (false)
