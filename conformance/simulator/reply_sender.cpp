#include "conformance/simulator/reply_sender.h"

#include <exception>

#include <Poco/Logger.h>

#include "engine/cpis/spine_message.h"

namespace cpis::sim {

namespace {

constexpr auto kPostTimeout = std::chrono::milliseconds(5'000);

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.sim");
}

}  // namespace

ReplySender::ReplySender(std::optional<cpis::ClientTlsSettings> tls, SimulatorState& state, int workers)
    : tls_(std::move(tls)), state_(state) {
  for (int i = 0; i < std::max(workers, 1); ++i) workers_.emplace_back([this] { run(); });
}

ReplySender::~ReplySender() {
  stop();
}

void ReplySender::send(std::string url, std::string body, std::chrono::milliseconds delay) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    jobs_.emplace(std::chrono::steady_clock::now() + delay, Job{std::move(url), std::move(body)});
  }
  wake_.notify_all();
}

void ReplySender::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

void ReplySender::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (stopping_) return;
        if (jobs_.empty()) {
          wake_.wait(lock);
          continue;
        }
        const auto due = jobs_.begin()->first;
        if (std::chrono::steady_clock::now() >= due) break;
        wake_.wait_until(lock, due);
      }
      job = std::move(jobs_.begin()->second);
      jobs_.erase(jobs_.begin());
    }
    deliver(job);
  }
}

void ReplySender::deliver(const Job& job) {
  state_.count(&SimulatorStats::asyncReplies);
  try {
    const auto endpoint = cpis::Endpoint::parse(job.url);
    if (!endpoint.ok()) {
      state_.count(&SimulatorStats::asyncFailures);
      logger().warning("asynchronous reply not sent: ReplyTo is not an http(s) URL");
      return;
    }
    cpis::HttpsTransport* transport = nullptr;
    {
      const std::lock_guard lock(transportsMutex_);
      auto& slot = transports_[job.url];
      if (!slot) {
        cpis::HttpsTransport::Settings settings;
        settings.endpoint = *endpoint;
        settings.tls = tls_;
        settings.userAgent = "cpis-spine-sim";
        slot = std::make_unique<cpis::HttpsTransport>(settings);
      }
      transport = slot.get();
    }
    const auto reply = transport->post(cpis::kReplyAction, job.body, kPostTimeout);
    if (!reply.ok() || reply->status >= 300) {
      state_.count(&SimulatorStats::asyncFailures);
      logger().warning("asynchronous reply to %s not accepted (%s)", endpoint->url(),
                       reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.error().detail);
    }
  } catch (const std::exception&) {
    state_.count(&SimulatorStats::asyncFailures);
    logger().warning("asynchronous reply not sent: the TLS settings for ReplyTo cannot be used");
  }
}

}  // namespace cpis::sim
