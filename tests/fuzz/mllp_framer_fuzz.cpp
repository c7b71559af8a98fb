// Fuzzes the MLLP framer: any bytes, read whole and read in pieces whose sizes come from the
// input itself. Both must give the same frames and counters: a frame must never depend on
// how TCP happened to split the stream.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "engine/mllp/framer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpis::mllp;
  if (size < 2) return 0;
  const std::size_t limit = 1 + data[0] % 64 * 16;  // small limits reach the Oversized paths
  const std::uint8_t splitSeed = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  MllpFramer whole(limit);
  std::vector<FrameEvent> expected;
  whole.feed(bytes, expected);

  MllpFramer pieces(limit);
  std::vector<FrameEvent> actual;
  std::size_t pos = 0;
  std::size_t k = 0;
  while (pos < bytes.size()) {
    const std::size_t len = 1 + (splitSeed + k * 7 + bytes[pos]) % 13;
    pieces.feed(bytes.substr(pos, len), actual);
    pos += len;
    ++k;
  }
  if (expected != actual || whole.droppedBytes() != pieces.droppedBytes() ||
      whole.missingCarriageReturns() != pieces.missingCarriageReturns() ||
      whole.insideFrame() != pieces.insideFrame() || whole.pendingBytes() != pieces.pendingBytes()) {
    std::abort();
  }
  for (const auto& event : expected) {
    if (event.payload.size() > limit) std::abort();
    if (event.kind == FrameEvent::Kind::Frame &&
        event.payload.find_first_of(std::string_view("\x0B\x1C", 2)) != std::string_view::npos) {
      std::abort();
    }
  }
  return 0;
}
