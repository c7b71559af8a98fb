#pragma once

#include <cstdint>
#include <string>

namespace cpis::core {

// A number in base 36 (digits and capital letters): short, printable ids such as the MSH-10
// the engine gives its ACKs, which HL7 limits to 20 characters.
inline std::string base36(std::uint64_t value) {
  std::string out;
  do {
    out.insert(out.begin(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[value % 36]);
    value /= 36;
  } while (value > 0);
  return out;
}

}  // namespace cpis::core
