// Fuzzes the path accessor: the first line of the input is a path, the rest a message. Checks
// that reads never fail on any path, and that a value set at a path reads back unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/hl7v2/message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpis::hl7v2;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    (void)parsePath(input);
    return 0;
  }
  auto path = parsePath(input.substr(0, newline));
  auto message = parse(input.substr(newline + 1));
  if (!path.ok() || !message.ok()) return 0;
  Message& m = message.value();
  const Path& p = path.value();
  (void)m.raw(p);
  (void)m.presence(p);
  (void)m.get(p);
  (void)m.value(p);
  (void)m.getAll(p);
  // Bound the positions set() may create: padding to field 999999 is legal but slow to fuzz.
  const auto small = [](std::uint32_t n) { return n == Path::kAll || n <= 200; };
  if (!small(p.segmentRepetition) || !small(p.field) || !small(p.fieldRepetition) || p.component > 200 ||
      p.subComponent > 200) {
    return 0;
  }
  const std::string value = "a^b&c\\d|e~f#\r\nz";
  if (m.set(p, value).isOk()) {
    if (m.get(p) != value) std::abort();
    auto reparsed = parse(m.serialize());
    if (!reparsed.ok() || reparsed.value().get(p) != value) std::abort();
  }
  return 0;
}
