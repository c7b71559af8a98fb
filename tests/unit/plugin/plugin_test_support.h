#pragma once

// Shared by the plugin tests: where the test plugins are, sample messages, a log capture.

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

#include "engine/hl7v2/message.h"

namespace cpis::plugin::test {

// build/lib, where tests/plugins puts libcpis-adapter-good.so and the others.
inline std::filesystem::path pluginDir() {
  return CPIS_TEST_PLUGIN_DIR;
}
inline std::filesystem::path adapterFile(const std::string& name) {
  return pluginDir() / ("libcpis-adapter-" + name + ".so");
}

// An ED registration (CPIS.md §5 example 1, fictitious): MR and NHS repetitions in PID-3,
// verified number (PID-32), visit number in PV1-19.
inline std::string edRegistration(std::string_view controlId = "ED0000789", std::string_view event = "A04") {
  std::string text = "MSH|^~\\&|EDSYS|RZZ01|CPIS-ENGINE|RZZ|20250612143005+0100||ADT^" + std::string(event) +
                     "^ADT_A01|" + std::string(controlId) + "|P|2.4\r";
  text += "EVN|" + std::string(event) + "|20250612143005+0100\r";
  text += "PID|||K4455667^^^RZZ^MR~9990000018^^^NHS^NH||TESTCHILD^Alex||20150403|M\r";
  text += "PV1|1|E|EDMAJ^^^RZZ01|||||||180|||||||||A250612001^^^RZZ^VN\r";
  return text;
}

// Parses a sample, optionally setting paths first (PID-32 and friends live far along a segment).
inline hl7v2::Message message(const std::string& text,
                              const std::vector<std::pair<std::string, std::string>>& sets = {}) {
  auto parsed = hl7v2::parse(text);
  if (!parsed.ok()) throw std::runtime_error("sample does not parse: " + parsed.error().text);
  hl7v2::Message m = std::move(parsed).value();
  for (const auto& [path, value] : sets) {
    if (!m.set(path, value).isOk()) throw std::runtime_error("cannot set " + path);
  }
  return m;
}

// The reason a Result failed, or "" (Boost.Test evaluates a check's message even when it passes).
template <typename R>
std::string whyNot(const R& result) {
  return result.ok() ? std::string() : result.error().message();
}

// Everything logged to one logger while it lives (at debug level); restores the logger after.
class LogCapture {
 public:
  explicit LogCapture(const std::string& loggerName)
      : logger_(Poco::Logger::get(loggerName)),
        previousChannel_(logger_.getChannel()),
        previousLevel_(logger_.getLevel()),
        channel_(new Channel) {
    logger_.setChannel(channel_);
    logger_.setLevel(Poco::Message::PRIO_DEBUG);
  }
  ~LogCapture() {
    logger_.setChannel(previousChannel_);
    logger_.setLevel(previousLevel_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> lines() const { return channel_->lines(); }
  std::string all() const {
    std::string out;
    for (const std::string& line : lines()) out += line + "\n";
    return out;
  }

 private:
  class Channel : public Poco::Channel {
   public:
    void log(const Poco::Message& message) override {
      const std::lock_guard lock(mutex_);
      lines_.push_back(message.getText());
    }
    std::vector<std::string> lines() const {
      const std::lock_guard lock(mutex_);
      return lines_;
    }

   private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
  };

  Poco::Logger& logger_;
  Poco::Channel::Ptr previousChannel_;
  int previousLevel_;
  Poco::AutoPtr<Channel> channel_;
};

}  // namespace cpis::plugin::test
