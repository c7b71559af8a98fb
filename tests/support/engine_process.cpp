#include "tests/support/engine_process.h"

#include <condition_variable>
#include <iterator>
#include <stdexcept>

#include <Poco/Exception.h>

namespace cpis::test {

EngineProcess::EngineProcess(const std::string& binary, const std::vector<std::string>& args) {
  handle_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(binary, args, nullptr, &out_, &err_));
  outStream_ = std::make_unique<Poco::PipeInputStream>(out_);
  errorReader_ = std::thread([this] {
    char buffer[4096];
    int n = 0;
    while ((n = err_.readBytes(buffer, sizeof buffer)) > 0) {
      std::lock_guard lock(errorsMutex_);
      errors_.append(buffer, static_cast<std::size_t>(n));
    }
  });
}

long EngineProcess::pid() const { return static_cast<long>(handle_->id()); }

EngineProcess::~EngineProcess() {
  if (!exited_) {
    try {
      kill();
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing left to do in a destructor
    }
  }
  if (errorReader_.joinable()) errorReader_.join();
}

bool EngineProcess::waitReady() {
  // "cpis-engine: feed NAME listening on ADDRESS:PORT (MLLP)"
  static constexpr std::string_view kFeed = "cpis-engine: feed ";
  static constexpr std::string_view kListening = " listening on ";
  std::string line;
  while (std::getline(*outStream_, line)) {
    output_ += line + "\n";
    const auto listening = line.find(kListening);
    if (line.starts_with(kFeed) && listening != std::string::npos) {
      const std::string feed = line.substr(kFeed.size(), listening - kFeed.size());
      const std::string endpoint = line.substr(listening + kListening.size(), line.find(' ', listening + kListening.size()) -
                                                                                 listening - kListening.size());
      ports_[feed] = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    }
    if (line == "cpis-engine: ready") return true;
  }
  return false;
}

std::uint16_t EngineProcess::port(const std::string& feed) const {
  const auto it = ports_.find(feed);
  if (it == ports_.end()) throw std::runtime_error("feed " + feed + " did not report a port");
  return it->second;
}

int EngineProcess::wait(std::chrono::milliseconds timeout) {
  if (!exited_) {
    std::mutex mutex;
    std::condition_variable gone;
    bool done = false;
    bool timedOut = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mutex);
      if (!gone.wait_for(lock, timeout, [&] { return done; })) {
        timedOut = true;
        try {
          Poco::Process::kill(handle_->id());
        } catch (const Poco::Exception&) {  // it exited meanwhile
        }
      }
    });
    status_ = handle_->wait();
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    gone.notify_all();
    watchdog.join();
    if (timedOut) {
      status_ = -1;
      std::lock_guard lock(errorsMutex_);
      errors_ += "[test] the engine was still running after " + std::to_string(timeout.count()) +
                 " ms and was killed\n";
    }
    exited_ = true;
    output_.append(std::istreambuf_iterator<char>(*outStream_), std::istreambuf_iterator<char>());
    if (errorReader_.joinable()) errorReader_.join();  // the pipe is at its end now
  }
  return status_;
}

int EngineProcess::terminate() {
  if (!exited_) Poco::Process::requestTermination(handle_->id());
  return wait();
}

void EngineProcess::kill() {
  if (!exited_) Poco::Process::kill(*handle_);
  wait();
}

std::string EngineProcess::errors() {
  std::lock_guard lock(errorsMutex_);
  return errors_;
}

}  // namespace cpis::test
