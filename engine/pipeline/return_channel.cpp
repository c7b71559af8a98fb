#include "engine/pipeline/return_channel.h"

#include <algorithm>
#include <set>

#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include "engine/hl7v2/ack.h"

namespace cpis::pipeline {
namespace {
Poco::Logger& logger() {
  return Poco::Logger::get("cpis.pipeline");
}
}  // namespace

ReturnChannel::ReturnChannel(ReturnChannelSettings settings, Delivered delivered)
    : settings_(std::move(settings)), onDelivered_(std::move(delivered)), thread_([this] { run(); }) {}

ReturnChannel::~ReturnChannel() {
  stop();
}

void ReturnChannel::submit(ApplicationAck ack) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(ack));
  }
  wake_.notify_all();
}

void ReturnChannel::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t ReturnChannel::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

bool ReturnChannel::full() const {
  std::lock_guard lock(mutex_);
  return queue_.size() >= settings_.maxQueued;
}

std::uint64_t ReturnChannel::delivered() const {
  std::lock_guard lock(mutex_);
  return deliveredCount_;
}

std::optional<std::string> ReturnChannel::deliver(const ApplicationAck& application) {
  const std::string& controlId = application.controlId;
  try {
    if (!client_) {
      client_ = std::make_unique<mllp::MllpClient>(settings_.host, settings_.port, settings_.ackTimeout,
                                                   settings_.tls);
    }
    client_->send(application.ack);
    if (const auto reply = client_->receive(settings_.ackTimeout)) {
      // Only the EPR's acknowledgement of this ACK (MSA-2 its MSH-10) delivers it; an answer it
      // refuses (AE, AR, CE, CR) delivers it too (resending would not change it), and is said.
      std::string answer = hl7v2::acknowledgementOf(*reply, controlId);
      static const std::set<std::string, std::less<>> kCodes{"AA", "AE", "AR", "CA", "CE", "CR"};
      if (kCodes.count(answer) == 0) {
        logger().warning("feed %s: the return connection's answer does not acknowledge application ACK %s", settings_.feed,
                         controlId);
        return std::string();  // answered, but not with an acknowledgement of it
      } else {
        if (answer != "CA" && answer != "AA") {
          logger().warning("OPS ALERT: feed %s: the EPR answered %s to application ACK %s", settings_.feed, answer,
                           controlId);
        }
        return answer;
      }
    } else {
      logger().warning("feed %s: return connection closed before acknowledging", settings_.feed);
    }
  } catch (const Poco::Exception& e) {
    logger().warning("feed %s: return connection to %s:%hu failed (%s)", settings_.feed, settings_.host,
                     settings_.port, std::string(e.name()));
  }
  client_.reset();
  return std::nullopt;
}

void ReturnChannel::run() {
  auto backoff = settings_.retryMin;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const ApplicationAck head = queue_.front();
    const store::MessageId id = head.id;
    lock.unlock();
    // An EPR that answers, but never with an acknowledgement naming this ACK (MSA-2 empty, or
    // its own message's id), would hold the queue for ever: after kMaxUnacknowledged answers the
    // ACK counts as delivered, said in the log and the stored outcome.
    bool ok = false;
    std::string code;
    if (auto answer = deliver(head)) {
      code = std::move(*answer);
      ok = !code.empty() || ++unacknowledged_ >= kMaxUnacknowledged;
    }
    if (ok && code.empty()) {
      logger().warning("OPS ALERT: feed %s: the EPR answered message %s's application ACK %d times without "
                       "acknowledging it (MSA-2 not its MSH-10): taken as delivered",
                       settings_.feed, std::to_string(id), static_cast<int>(kMaxUnacknowledged));
      code = "no acknowledgement naming it";
    }
    if (ok) onDelivered_(head, code);
    lock.lock();
    if (ok) {
      unacknowledged_ = 0;
      queue_.pop_front();
      ++deliveredCount_;
      backoff = settings_.retryMin;
    } else {
      // wait, unless stopping; a new submission does not cut the back-off short
      wake_.wait_for(lock, backoff, [&] { return stopping_; });
      backoff = std::min(backoff * 2, settings_.retryMax);
    }
  }
}

}  // namespace cpis::pipeline
