#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/core/status.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/charset.h"
#include "engine/hl7v2/delimiters.h"

namespace cpis::plugin {

// The alert segments an acknowledgement carries after MSH, MSA and ERR (CPIS.md §5), built
// value by value and encoded at the end with the inbound message's delimiters and character
// set, so values are escaped ("Brighton & Hove" -> "Brighton \T\ Hove") and never break the
// segment. Not thread-safe: one per acknowledgement.
class AlertSegments {
 public:
  // Limits that stop a runaway composer, far above what CPIS.md §5 needs (26 + 3 segments).
  static constexpr std::size_t kMaxSegments = 500;
  static constexpr std::uint32_t kMaxField = 256;
  static constexpr std::uint32_t kMaxPart = 100;  // repetition, component, sub-component

  explicit AlertSegments(hl7v2::Delimiters delimiters = {}, hl7v2::Charset charset = hl7v2::Charset::Utf8)
      : delimiters_(delimiters), charset_(charset) {}

  const hl7v2::Delimiters& delimiters() const noexcept { return delimiters_; }
  hl7v2::Charset charset() const noexcept { return charset_; }

  // Appends an empty segment and gives its index. The id is three upper-case letters or digits
  // starting with a letter; the ACK's own segments (MSH, MSA, ERR) and batch envelopes are
  // refused.
  core::Result<std::size_t> add(std::string_view segmentId);
  // Sets one value (UTF-8) of a segment added with add(). Numbers are 1-based; field >= 1.
  core::Status set(std::size_t segment, std::uint32_t field, std::uint32_t repetition,
                   std::uint32_t component, std::uint32_t subComponent, std::string_view utf8);
  // Appends a segment already encoded with these delimiters and character set, without its
  // terminator (for encoders that write whole segments).
  core::Status addEncoded(std::string segment);
  // Appends encoded segments each ended by '\r' (what the engine's alert encoders write): all
  // of them, or none when one is refused.
  core::Status addSerialized(std::string_view segments);

  std::size_t size() const noexcept { return segments_.size(); }
  bool empty() const noexcept { return segments_.empty(); }
  std::string_view segmentId(std::size_t index) const;
  // One segment as it goes on the wire, without its terminator.
  std::string encode(std::size_t index) const;
  // Every segment, each ended by '\r': appended to the ACK as it stands.
  std::string serialize() const;
  // Drops every segment from `count` on: undoes a composer that failed half-way.
  void truncate(std::size_t count);

 private:
  // fields[f - 1][repetition - 1][component - 1][subComponent - 1], UTF-8
  using Components = std::vector<std::vector<std::string>>;
  struct Segment {
    std::string id;
    std::vector<std::vector<Components>> fields;
    std::string encoded;  // set for addEncoded() segments, which have no fields
    bool preEncoded = false;
  };

  std::string encodeValue(std::string_view utf8) const;

  hl7v2::Delimiters delimiters_;
  hl7v2::Charset charset_;
  std::vector<Segment> segments_;
};

// The engine's standard alert encodings (CPIS.md §5).
enum class AlertEncoding { ZSegments, Obx };

// Writes the engine's standard alert segments for an outcome. Implemented by the alert
// encoders; adapters reach it through the write_standard_alerts host service. Thread-safe.
class AlertEncoder {
 public:
  virtual ~AlertEncoder() = default;
  virtual core::Status encode(const domain::CheckOutcome& outcome, AlertEncoding encoding,
                              AlertSegments& out) const = 0;
};

// What the engine offers an adapter's composeAlerts() as its "standard alerts": the encoder
// (none: the service answers UNSUPPORTED) and the feed's configured encoding.
struct StandardAlerts {
  const AlertEncoder* encoder = nullptr;
  AlertEncoding feedEncoding = AlertEncoding::ZSegments;
};

}  // namespace cpis::plugin
