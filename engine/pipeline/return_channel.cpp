#include "engine/pipeline/return_channel.h"

#include <algorithm>

#include <Poco/Exception.h>
#include <Poco/Logger.h>

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

void ReturnChannel::submit(store::MessageId id, std::string ack) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(id, std::move(ack));
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

bool ReturnChannel::deliver(const std::string& ack) {
  try {
    if (!client_) {
      client_ = std::make_unique<mllp::MllpClient>(settings_.host, settings_.port, settings_.ackTimeout,
                                                   settings_.tls);
    }
    client_->send(ack);
    if (client_->receive(settings_.ackTimeout)) return true;
    logger().warning("feed %s: return connection closed before acknowledging", settings_.feed);
  } catch (const Poco::Exception& e) {
    logger().warning("feed %s: return connection to %s:%hu failed (%s)", settings_.feed, settings_.host,
                     settings_.port, std::string(e.className()));
  }
  client_.reset();
  return false;
}

void ReturnChannel::run() {
  auto backoff = settings_.retryMin;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    const auto [id, ack] = queue_.front();
    lock.unlock();
    const bool ok = deliver(ack);
    if (ok) onDelivered_(id, ack);
    lock.lock();
    if (ok) {
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
