#pragma once

// Everything one Poco logger logs while a LogCapture lives, for tests that check what the engine
// says (and that it says no patient data).

#include <mutex>
#include <string>
#include <vector>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>

namespace cpis::test {

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

}  // namespace cpis::test
