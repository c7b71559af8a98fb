#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "engine/mllp/frame_handler.h"
#include "engine/mllp/mllp_server.h"

namespace cpis::mllp {

// The event-driven side of a plain-TCP MLLP listener: a few threads, each with its own epoll
// set, serve every connection with non-blocking sockets. A thread reads what has arrived on
// all its ready connections, frames it, and hands each frame to the FrameHandler without
// waiting for the answer; the answer (from whichever thread produces it, typically the store's
// group-commit writer once the message is durable) is posted back to the connection's thread,
// which writes it. So a connection costs memory, not a thread, and a message costs no context
// switch of its own: the commits' wake-ups are shared by every message of a batch.
//
// Per connection, one frame is with the handler at a time; frames that arrive meanwhile
// (pipelining) wait, in order, so ACKs go out in the order the frames came. While too much is
// waiting (frames behind the handler, or ACKs the peer has not taken) the connection is not
// read (back-pressure through TCP).
//
// Time-outs: a frame not complete within readTimeout of its start block, no frame within
// idleTimeout of the last (bytes trickled a few at a time, inside a frame or outside one, keep
// no connection open: slowloris), a peer that does not take its ACK (readTimeout). A connection over
// maxConnections waits up to half a second for a slot, then is closed.
// After an oversized frame's AR, how long and how many bytes of what the sender still writes
// are read and dropped before the connection closes (both listeners: see MllpReactor and the
// TLS connections in mllp_server.cpp).
struct RefusalDrain {
  std::chrono::milliseconds time;
  std::size_t bytes;
};
RefusalDrain refusalDrain(const ListenerSettings& settings);

class MllpReactor {
 public:
  // `listenFd` is a bound, listening socket the caller keeps open until stop() has returned.
  MllpReactor(const ListenerSettings& settings, FrameHandler& handler, ListenerStats& stats, int listenFd,
              int threads);
  ~MllpReactor();
  MllpReactor(const MllpReactor&) = delete;
  MllpReactor& operator=(const MllpReactor&) = delete;

  void start();
  // Stops accepting and reading; each connection finishes the frame the handler has (its ACK
  // is written), frames still waiting are dropped unacknowledged (the sender resends them),
  // then it closes. Returns once every connection is closed or `grace` has passed.
  void stop(std::chrono::milliseconds grace);
  // stop() in two halves: the loops are told at once (they stop accepting, and close what is
  // left by `deadline`); join() waits for them. stop() is both.
  void requestStop(std::chrono::steady_clock::time_point deadline);
  void join();

  class Loop;  // one thread's epoll loop

 private:
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace cpis::mllp
