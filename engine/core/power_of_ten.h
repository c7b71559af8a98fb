#pragma once

#include <cstdint>

namespace cpis::core {

// Whether `n` is 1, 10, 100, ...: what is reported on its 1st, 10th, 100th... occurrence, so a
// repeated problem stays in the log without flooding it.
inline bool isPowerOfTen(std::uint64_t n) {
  if (n == 0) return false;
  while (n % 10 == 0) n /= 10;
  return n == 1;
}

}  // namespace cpis::core
