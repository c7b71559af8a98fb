#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cpis::mllp {

// MLLP framing (HL7 v2 over TCP): 0x0B, the message, 0x1C, 0x0D.
inline constexpr char kStartBlock = '\x0B';
inline constexpr char kEndBlock = '\x1C';
inline constexpr char kCarriageReturn = '\x0D';

// Wraps a payload in MLLP framing.
std::string frame(std::string_view payload);

// What the framer found in the byte stream, in order.
struct FrameEvent {
  enum class Kind : std::uint8_t {
    // A complete frame; `payload` is the message between the blocks.
    Frame,
    // A frame grew past the size limit. `payload` holds its first bytes (up to the limit), so
    // the connection can salvage MSH-10 for an AR; the rest, up to the end block, is dropped.
    Oversized,
    // A start block arrived inside a frame: the unfinished frame is given up (its bytes are in
    // `payload`, never acknowledged, so the sender will resend) and a new frame begins.
    Abandoned,
  };
  Kind kind;
  std::string payload;

  friend bool operator==(const FrameEvent&, const FrameEvent&) = default;
};

// Whether `events` end a frame (a Frame or an Oversized one): what counts as a sender's progress
// for the listeners' time-outs. An abandoned frame does not: a peer that sends a start block now
// and then would otherwise restart the read and idle time-outs for ever (slowloris).
inline bool endsAFrame(const std::vector<FrameEvent>& events) {
  for (const FrameEvent& event : events) {
    if (event.kind != FrameEvent::Kind::Abandoned) return true;
  }
  return false;
}

// The listeners' warning, once a connection, when a peer sends bytes outside a frame (the
// listener's name, the peer's address, how many so far). Only the count: the bytes may be a
// message framed wrongly, with patient data in it.
inline constexpr const char* kStrayBytes =
    "listener %s: %s sent %z bytes outside a frame (no start block 0x0B before them): dropped, not "
    "acknowledged; is the peer framing its messages with MLLP? (said once a connection)";

// Turns reads from a socket into frames, whatever the reads' boundaries: several frames in
// one read, one frame over many reads, bytes before a start block (dropped and counted), a
// missing 0x0D after the end block (the frame still completes at 0x1C, so a sender that omits
// it still gets its ACK; counted), a new start block before the end block (Abandoned), and a
// frame over the size limit (Oversized). One framer per connection; not thread-safe.
class MllpFramer {
 public:
  explicit MllpFramer(std::size_t maxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}

  // Consumes `bytes` and appends what they complete to `events`.
  void feed(std::string_view bytes, std::vector<FrameEvent>& events);

  // Bytes dropped outside any frame (before a start block, or after an oversized frame).
  std::uint64_t droppedBytes() const noexcept { return droppedBytes_; }
  // Of those, the bytes between frames (no start block before them) other than CR and LF: a
  // peer that does not speak MLLP, or frames it without the start block.
  std::uint64_t strayBytes() const noexcept { return strayBytes_; }
  // End blocks not followed by 0x0D.
  std::uint64_t missingCarriageReturns() const noexcept { return missingCarriageReturns_; }
  // Whether a frame has started and not ended: a peer that stops here has stalled.
  bool insideFrame() const noexcept { return state_ == State::InFrame || state_ == State::Discarding; }
  // Bytes of the unfinished frame held so far.
  std::size_t pendingBytes() const noexcept { return current_.size(); }

 private:
  enum class State : std::uint8_t { Between, InFrame, Discarding, AfterEnd };

  std::size_t maxFrameBytes_;
  State state_ = State::Between;
  std::string current_;
  std::size_t lastFrameBytes_ = 0;  // the size of the last complete frame
  std::uint64_t droppedBytes_ = 0;
  std::uint64_t strayBytes_ = 0;
  std::uint64_t missingCarriageReturns_ = 0;
};

}  // namespace cpis::mllp
