#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/config/config.h"

namespace cpis::store {
class MessageStore;
class Outbox;
}  // namespace cpis::store
namespace cpis::notify {
class Composer;
class Dispatcher;
}  // namespace cpis::notify
namespace cpis::mllp {
class MllpServer;
}
namespace cpis::pipeline {
class AckStamper;
class Intake;
class ReturnChannel;
}  // namespace cpis::pipeline

namespace cpis::app {

class Checks;

// The running engine: the one place that picks concrete classes and wires them (STYLE.md §2).
// One message store, and per feed an intake, an MLLP listener and, for enhanced mode, a
// return channel. A housekeeping thread purges message content past its retention. The
// notification dispatcher (engine/notify) delivers the store's outbox: the deferred checks, the
// feeds' late results and the configured sink plugins.
class Engine {
 public:
  explicit Engine(config::EngineConfig config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Opens the store, finishes messages a previous run left unfinished, then starts the
  // listeners. Throws std::runtime_error naming what failed (no patient data).
  void start();
  // Stops accepting, lets in-flight messages finish and be answered, stops the return
  // channels and closes the store (every queued write committed). Idempotent.
  void stop();

  struct ListenerInfo {
    std::string feed, address;
    std::uint16_t port;
    bool tls;
  };
  std::vector<ListenerInfo> listeners() const;

  // The store's outbox (pending, delivered and dead notifications; replay), for admin tools.
  // Valid between start() and stop().
  store::Outbox& outbox();

 private:
  struct Feed;
  void housekeeping();
  void openStore();
  // Finishes unfinished messages this instance has claimed (all of them at start), renewing its
  // claims every third of the lease as it goes.
  void resumeClaimed(const std::vector<std::int64_t>& ids);
  void startDispatcher();

  config::EngineConfig config_;
  std::unique_ptr<store::MessageStore> store_;
  std::unique_ptr<pipeline::AckStamper> stamper_;
  std::unique_ptr<notify::Composer> composer_;  // before checks_: their stages use it
  std::unique_ptr<Checks> checks_;  // before feeds_: their intakes use its stages
  std::unique_ptr<notify::Dispatcher> dispatcher_;
  std::atomic<notify::Dispatcher*> running_{nullptr};  // dispatcher_ once started, for wake-ups
  std::vector<std::unique_ptr<Feed>> feeds_;
  std::thread housekeeper_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool started_ = false;
};

}  // namespace cpis::app
