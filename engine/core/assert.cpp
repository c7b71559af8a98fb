#include "engine/core/assert.h"

#include <cstdio>
#include <cstdlib>

namespace cpis::core {

void assertionFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "cpis: assertion failed: %s at %s:%d\n", condition, file, line);
  std::abort();
}

}  // namespace cpis::core
