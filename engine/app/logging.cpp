#include "engine/app/logging.h"

#include <sstream>

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Formatter.h>
#include <Poco/FormattingChannel.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>

namespace cpis::app {
namespace {

std::string_view priorityName(Poco::Message::Priority priority) {
  switch (priority) {
    case Poco::Message::PRIO_FATAL: return "fatal";
    case Poco::Message::PRIO_CRITICAL: return "critical";
    case Poco::Message::PRIO_ERROR: return "error";
    case Poco::Message::PRIO_WARNING: return "warning";
    case Poco::Message::PRIO_NOTICE: return "notice";
    case Poco::Message::PRIO_INFORMATION: return "information";
    case Poco::Message::PRIO_DEBUG: return "debug";
    case Poco::Message::PRIO_TRACE: return "trace";
  }
  return "information";
}

// One JSON object a line: {"time":…,"level":…,"logger":…,"message":…,"thread":…}.
class JsonLineFormatter final : public Poco::Formatter {
 public:
  void format(const Poco::Message& msg, std::string& text) override {
    Poco::JSON::Object line(Poco::JSON_PRESERVE_KEY_ORDER);
    line.set("time", Poco::DateTimeFormatter::format(msg.getTime(), "%Y-%m-%dT%H:%M:%S.%iZ"));
    line.set("level", std::string(priorityName(msg.getPriority())));
    line.set("logger", msg.getSource());
    line.set("message", msg.getText());
    line.set("thread", static_cast<Poco::Int64>(msg.getTid()));
    std::ostringstream out;
    line.stringify(out);
    text = out.str();
  }
};

}  // namespace

void configureLogging(const config::LoggingConfig& logging) {
  Poco::AutoPtr<Poco::Formatter> formatter;
  if (logging.format == config::LogFormat::Json) {
    formatter = new JsonLineFormatter;
  } else {
    formatter = new Poco::PatternFormatter("%Y-%m-%dT%H:%M:%S.%iZ %p %s: %t");
  }
  Poco::AutoPtr<Poco::Channel> console(new Poco::ConsoleChannel);
  Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
  Poco::Logger::root().setChannel(channel);
  Poco::Logger::root().setLevel(std::string(config::toString(logging.level)));
  // Loggers created before this (none of ours) keep their own channel: reset them all.
  Poco::Logger::setChannel("", channel);
  Poco::Logger::setLevel("", Poco::Logger::parseLevel(std::string(config::toString(logging.level))));
}

}  // namespace cpis::app
