#pragma once

#include <string>
#include <string_view>

namespace cpis::mllp {

// Who is on the other end of a connection: for routing and logs (no patient data here).
struct PeerInfo {
  std::string listener;            // the listener's (feed's) name
  std::string address;             // "192.0.2.7:50412"
  std::string certificateSubject;  // the client certificate's subject under mutual TLS, else ""
};

// What an MLLP listener hands each frame to: the pipeline's entry point.
//
// Threading: called on the connection's own thread, one frame at a time per connection and in
// arrival order, so a sender that pipelines gets its ACKs in order; different connections call
// concurrently. Errors: must not throw; every outcome is a reply (an AR for what it cannot
// take). The reply is the unframed ACK; the listener frames it.
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;

  // A complete frame. Returns the ACK to send; an empty string sends nothing (for a handler
  // that answers later, e.g. over a return connection).
  virtual std::string onFrame(std::string_view payload, const PeerInfo& peer) = 0;

  // A frame over the size limit: its first bytes, so the reply can quote MSH-10. The listener
  // sends the reply (an AR) and closes the connection.
  virtual std::string onOversized(std::string_view prefix, std::size_t limit, const PeerInfo& peer) = 0;
};

}  // namespace cpis::mllp
