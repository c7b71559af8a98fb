#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "engine/mllp/mllp_client.h"
#include "engine/store/message_store.h"

namespace cpis::pipeline {

struct ReturnChannelSettings {
  std::string feed;
  std::string host;
  std::uint16_t port = 0;
  std::optional<mllp::ClientTls> tls;
  std::chrono::milliseconds ackTimeout{10'000};  // for the peer's ACK of our application ACK
  std::chrono::milliseconds retryMin{500};       // back-off after a failed delivery, doubling
  std::chrono::milliseconds retryMax{30'000};
  // How many application ACKs may wait in memory (about 300-500 bytes each) before the feed
  // refuses new messages that would add one (full()).
  std::size_t maxQueued = 10'000;
};

// An enhanced-mode application ACK on its way to the EPR: what the channel sends, and what its
// delivery means for the message it answers. Known when the ACK is built, so that neither the
// channel nor the caller reads the ACK again.
struct ApplicationAck {
  store::MessageId id = 0;  // the message it answers
  std::string ack;          // the HL7 ACK, as sent
  std::string controlId;    // its MSH-10: the EPR's acknowledgement names it in MSA-2
  std::string code;         // its MSA-1: AA, AE or AR
  // The message's outcome, to which the delivery is added; empty: the one stored with it.
  std::string outcome;
};

// Delivers enhanced-mode application ACKs over a connection the engine opens to the sender's
// own MLLP listener, one at a time and in order, each sent until the peer acknowledges it
// (any frame back counts), reconnecting with back-off. `delivered` is called on the channel's
// thread after each. What is still queued at stop() stays unfinished in the store, and
// recovery sends it after the next start. With settings.maxQueued waiting (the sender's return
// listener down or not reading), full() says so and the intake refuses, unstored, the messages
// that would add more (CR: send it again later), rather than holding them in memory without end.
class ReturnChannel {
 public:
  // `answer`: the EPR's MSA-1 for the ACK (CA, AA; or AE, AR, CE, CR: taken, and refused).
  using Delivered = std::function<void(const ApplicationAck& ack, const std::string& answer)>;

  ReturnChannel(ReturnChannelSettings settings, Delivered delivered);
  ~ReturnChannel();
  ReturnChannel(const ReturnChannel&) = delete;
  ReturnChannel& operator=(const ReturnChannel&) = delete;

  void submit(ApplicationAck ack);
  // Stops after the delivery in progress (if any); idempotent.
  void stop();
  std::size_t pending() const;
  bool full() const;
  std::uint64_t delivered() const;

 private:
  void run();
  // The EPR's MSA-1 once it has acknowledged this ACK (MSA-2 its MSH-10); "" when it answered
  // with something else; nullopt: no answer (not delivered).
  std::optional<std::string> deliver(const ApplicationAck& ack);
  static constexpr unsigned kMaxUnacknowledged = 5;
  unsigned unacknowledged_ = 0;  // answers to the queue's head that acknowledge it not (run's thread)

  ReturnChannelSettings settings_;
  Delivered onDelivered_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ApplicationAck> queue_;
  bool stopping_ = false;
  std::uint64_t deliveredCount_ = 0;
  std::unique_ptr<mllp::MllpClient> client_;  // only the channel's thread touches it
  std::thread thread_;
};

}  // namespace cpis::pipeline
