#pragma once

#include <functional>
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
// Threading: one frame at a time per connection and in arrival order (the next frame of a
// connection is handed over only once the previous one has been answered), so a sender that
// pipelines gets its ACKs in order; different connections are handled concurrently. Errors:
// must not throw; every outcome is a reply (an AR for what it cannot take). The reply is the
// unframed ACK; the listener frames it.
class FrameHandler {
 public:
  // Answers one frame: call it exactly once, from any thread. An empty string sends nothing.
  using Reply = std::function<void(std::string ack)>;

  virtual ~FrameHandler() = default;

  // The listener's entry point. It runs on a listener thread that serves many connections, so
  // it must not block: slow work (a commit, a CP-IS lookup) goes elsewhere and calls `reply`
  // when done. `payload` and `peer` stay valid until `reply` has been called. The default
  // answers at once with onFrame().
  virtual void onFrameAsync(std::string_view payload, const PeerInfo& peer, Reply reply) {
    reply(onFrame(payload, peer));
  }

  // A complete frame. Returns the ACK to send; an empty string sends nothing (for a handler
  // that answers later, e.g. over a return connection).
  virtual std::string onFrame(std::string_view payload, const PeerInfo& peer) = 0;

  // A frame over the size limit: its first bytes, so the reply can quote MSH-10. The listener
  // sends the reply (an AR) and closes the connection.
  virtual std::string onOversized(std::string_view prefix, std::size_t limit, const PeerInfo& peer) = 0;
};

}  // namespace cpis::mllp
