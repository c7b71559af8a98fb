#pragma once

// What the runner listens for besides the replies: notifications the engine's webhook sinks
// post (a POCO HTTPServer; the sink is the last part of the URL path, /hooks/<sink>), and the
// late results a deferred check sends over a feed's return connection (an MLLP listener that
// answers AA). Both record what arrived and let a scenario wait, bounded, for a condition.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cpis::conformance {

struct WebhookDelivery {
  std::string sink;            // from the path: /hooks/<sink>
  std::string idempotencyKey;  // the Idempotency-Key header
  std::map<std::string, std::string> fields;  // the JSON body's members
  bool signatureChecked = false;
  bool signatureValid = false;
  std::string problem;  // not JSON, a bad signature, ...
};

// Records items and wakes those waiting for a condition over them. Thread-safe.
template <typename T>
class Recorder {
 public:
  void add(T item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    changed_.notify_all();
  }
  std::vector<T> items() const {
    std::lock_guard lock(mutex_);
    return items_;
  }
  // Waits until `done(items)` holds or `timeout` passes; true when it held.
  bool waitFor(const std::function<bool(const std::vector<T>&)>& done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(items_); });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<T> items_;
};

class WebhookReceiver {
 public:
  // `port` 0: any free port. `secret` empty: signatures are not verified.
  WebhookReceiver(std::uint16_t port, std::string secret);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const;
  const Recorder<WebhookDelivery>& deliveries() const { return deliveries_; }

 private:
  struct Impl;
  Recorder<WebhookDelivery> deliveries_;
  std::unique_ptr<Impl> impl_;
};

// An EPR's MLLP listener for late results: answers each frame with an AA and records it.
class ReturnListener {
 public:
  explicit ReturnListener(std::uint16_t port);  // 0: any free port
  ~ReturnListener();
  ReturnListener(const ReturnListener&) = delete;
  ReturnListener& operator=(const ReturnListener&) = delete;

  std::uint16_t port() const;
  const Recorder<std::string>& messages() const { return messages_; }

 private:
  struct Impl;
  Recorder<std::string> messages_;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA256(secret, timestamp + "." + body) in lower-case hex, as X-Cpis-Signature carries it
// after "sha256=".
std::string webhookSignature(const std::string& secret, const std::string& timestamp, const std::string& body);
// One field of an HL7 v2 message (segment id, field number, component; 1-based; the first
// occurrence of the segment), undecoded; empty when absent.
std::string rawHl7Field(const std::string& message, const std::string& segment, int field, int component);

}  // namespace cpis::conformance
