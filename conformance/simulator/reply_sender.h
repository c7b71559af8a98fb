#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "conformance/simulator/simulator_state.h"
#include "engine/cpis/https_transport.h"

namespace cpis::sim {

// POSTs asynchronous replies to the ReplyTo addresses queries name, from a few worker
// threads, each when it falls due (a "late reply" fault sets a delay). One pool of kept-alive
// connections per ReplyTo URL. stop() abandons replies not yet due.
class ReplySender {
 public:
  ReplySender(std::optional<cpis::ClientTlsSettings> tls, SimulatorState& state, int workers = 4);
  ~ReplySender();  // stop()
  ReplySender(const ReplySender&) = delete;
  ReplySender& operator=(const ReplySender&) = delete;

  void send(std::string url, std::string body, std::chrono::milliseconds delay);
  void stop();

 private:
  struct Job {
    std::string url;
    std::string body;
  };
  void run();
  void deliver(const Job& job);

  const std::optional<cpis::ClientTlsSettings> tls_;
  SimulatorState& state_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Job> jobs_;
  bool stopping_ = false;
  std::mutex transportsMutex_;
  std::map<std::string, std::unique_ptr<cpis::HttpsTransport>> transports_;  // by ReplyTo URL
  std::vector<std::thread> workers_;
};

}  // namespace cpis::sim
