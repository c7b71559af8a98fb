#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

namespace cpis::test {

// build/bin/cpis-engine as a child process, the way a supervisor runs it: started with
// arguments, ready once it prints "cpis-engine: ready", stopped with SIGTERM or killed with
// SIGKILL. Listener ports come from its "feed NAME listening on ADDR:PORT" lines, so
// configurations can use port 0.
class EngineProcess {
public:
  EngineProcess(const std::string& binary, const std::vector<std::string>& args);
  ~EngineProcess();  // kills it if still running

  // Reads standard output until the ready line (true) or the end of output (false: it exited).
  bool waitReady();
  std::uint16_t port(const std::string& feed) const;
  // The process id (for /proc, cgroups).
  long pid() const;
  // SIGTERM, then the exit status.
  int terminate();
  // SIGKILL, no clean-up, like a power cut for the process; returns once it is gone.
  void kill();
  // The exit status once it has exited; a process still running after `timeout` is killed
  // (SIGKILL), noted in errors(), and -1 returned, so a hung engine fails its test instead of
  // holding up the whole suite.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  // Everything it wrote to standard output / standard error so far.
  const std::string& output() const { return output_; }
  std::string errors();

private:
  std::unique_ptr<Poco::ProcessHandle> handle_;
  Poco::Pipe out_, err_;
  std::unique_ptr<Poco::PipeInputStream> outStream_;
  std::string output_;
  std::map<std::string, std::uint16_t> ports_;
  bool exited_ = false;
  int status_ = -1;
  // Standard error is drained all along, so a chatty engine never blocks on a full pipe.
  std::mutex errorsMutex_;
  std::string errors_;
  std::thread errorReader_;
};

}  // namespace cpis::test
