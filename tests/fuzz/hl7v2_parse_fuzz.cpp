// Fuzzes the HL7 v2 parser: any bytes, as a stream of messages. Beyond "no crash, no hang, no
// out-of-bounds read" it checks that what parsed serialises to bytes that parse to the same
// serialisation, that every field decodes, and that an ACK or a rejection can always be built.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cpis::hl7v2;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const Stream stream = parseStream(bytes);
  AckOptions options;
  options.controlId = "FUZZ1";
  options.timestamp = "20260101000000";
  for (const auto& item : stream.messages) {
    if (!item.message.ok()) {
      const std::string nak = buildRejection(bytes.substr(item.offset), item.message.error(), options);
      if (nak.compare(0, 3, "MSH") != 0) std::abort();
      continue;
    }
    const Message& message = item.message.value();
    const std::string once = message.serialize();
    auto again = parse(once);
    if (!again.ok() || again.value().serialize() != once) std::abort();
    (void)message.checkValues();
    for (std::size_t s = 0; s < message.segmentCount(); ++s) {
      for (std::uint32_t f = 1; f <= message.fieldCount(s); ++f) (void)message.fieldRaw(s, f);
    }
    const std::string ack = buildAck(message, AckCode::AA, message.warnings(), options);
    auto parsedAck = parse(ack);
    if (!parsedAck.ok() || parsedAck.value().get("MSA-2") != message.get("MSH-10")) std::abort();
  }
  return 0;
}
