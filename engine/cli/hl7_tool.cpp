#include "engine/cli/hl7_tool.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>

#include "engine/cli/hl7_json.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/batch.h"

namespace cpis::cli {
namespace {

constexpr const char* kUsage =
    "usage: cpis-hl7 COMMAND [OPTIONS] FILE...   (FILE '-' reads standard input)\n"
    "  check FILE...                      parse each message; print OK or each problem with\n"
    "                                     its position and HL7 0357 code; exit 1 if any fails\n"
    "  roundtrip FILE                     parse and serialise to standard output\n"
    "  get PATH FILE                      print the decoded value(s) at PATH, e.g. PID-3(2).1,\n"
    "                                     OBX(*)-5, PID-3(*).1 (one line per value)\n"
    "  ack [--mode original|enhanced] [--code AA|AE|AR|CA|CE|CR] [--raw] FILE\n"
    "                                     print the ACK the engine would build (segments one a\n"
    "                                     line; --raw keeps the '\\r' segment ends)\n"
    "  json FILE                          the message(s) as JSON\n";

struct Input {
  std::string name;
  std::string bytes;
};

std::optional<Input> readInput(const std::string& name, std::istream& in, std::ostream& err) {
  if (name == "-") {
    return Input{"-", std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())};
  }
  // A directory opens as a stream that reads nothing; say what it is instead of "no message".
  std::error_code ec;
  if (std::filesystem::is_directory(name, ec)) {
    err << "cpis-hl7: cannot read " << name << ": is a directory\n";
    return std::nullopt;
  }
  std::ifstream file(name, std::ios::binary);
  if (!file) {
    err << "cpis-hl7: cannot read " << name << ": no such file or not readable\n";
    return std::nullopt;
  }
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) {
    err << "cpis-hl7: cannot read " << name << ": read error\n";
    return std::nullopt;
  }
  return Input{name, content.str()};
}

// "file: message 2 (MSH-10 ABC123)": how a message is named in output. MSH-10 is a
// message id, not patient data.
std::string messageName(const Input& input, std::size_t number, const hl7v2::StreamMessage& m) {
  std::string name = input.name + ": message " + std::to_string(number);
  if (m.message.ok()) name += " (MSH-10 " + m.message.value().controlId() + ")";
  return name;
}

void printIssue(std::ostream& out, const std::string& where, const core::Issue& issue, std::size_t base) {
  core::Issue shifted = issue;
  shifted.location.byteOffset += base;
  out << where << ": " << (issue.severity == core::Severity::Warning ? "warning: " : "error: ") << shifted
      << '\n';
}

class Tool {
 public:
  Tool(std::istream& in, std::ostream& out, std::ostream& err, const AckStamp& stamp)
      : in_(in), out_(out), err_(err), stamp_(stamp) {}

  int run(const std::vector<std::string>& args) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      (args.empty() ? err_ : out_) << kUsage;
      return args.empty() ? 2 : 0;
    }
    const std::string& command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "check") return check(rest);
    if (command == "roundtrip") return oneFile(rest, [&](const auto& in) { return roundtrip(in); });
    if (command == "get") return get(rest);
    if (command == "ack") return ack(rest);
    if (command == "json") return oneFile(rest, [&](const auto& in) { return json(in); });
    return usage("unknown command '" + command + "'");
  }

 private:
  int usage(const std::string& problem) {
    err_ << "cpis-hl7: " << problem << "\n" << kUsage;
    return 2;
  }

  template <typename Fn>
  int oneFile(const std::vector<std::string>& args, Fn&& fn) {
    if (args.size() != 1) return usage("expected exactly one FILE");
    auto input = readInput(args[0], in_, err_);
    if (!input) return 1;
    return fn(*input);
  }

  // Every message must parse for commands that print messages; the first failure is reported.
  std::optional<hl7v2::Stream> readable(const Input& input) {
    hl7v2::Stream stream = hl7v2::parseStream(input.bytes);
    if (stream.messages.empty()) {
      err_ << "cpis-hl7: " << input.name << ": no HL7 v2 message found\n";
      return std::nullopt;
    }
    for (std::size_t i = 0; i < stream.messages.size(); ++i) {
      const auto& m = stream.messages[i];
      if (!m.message.ok()) {
        std::ostringstream line;
        printIssue(line, messageName(input, i + 1, m), m.message.error(), m.offset);
        err_ << "cpis-hl7: " << line.str();
        return std::nullopt;
      }
    }
    return stream;
  }

  int check(const std::vector<std::string>& files) {
    if (files.empty()) return usage("check needs at least one FILE");
    int status = 0;
    for (const auto& name : files) {
      auto input = readInput(name, in_, err_);
      if (!input) {
        status = 1;
        continue;
      }
      const hl7v2::Stream stream = hl7v2::parseStream(input->bytes);
      for (const auto& issue : stream.issues) {
        printIssue(out_, input->name, issue, 0);
        if (issue.severity == core::Severity::Error) status = 1;
      }
      if (stream.messages.empty()) {
        out_ << input->name << ": error: no HL7 v2 message found\n";
        status = 1;
      }
      for (std::size_t i = 0; i < stream.messages.size(); ++i) {
        const auto& m = stream.messages[i];
        const std::string where = messageName(*input, i + 1, m);
        if (!m.message.ok()) {
          printIssue(out_, where, m.message.error(), m.offset);
          status = 1;
          continue;
        }
        auto issues = m.message.value().warnings();
        const auto valueIssues = m.message.value().checkValues();
        issues.insert(issues.end(), valueIssues.begin(), valueIssues.end());
        bool failed = false;
        for (const auto& issue : issues) {
          printIssue(out_, where, issue, m.offset);
          failed = failed || issue.severity == core::Severity::Error;
        }
        if (failed) {
          status = 1;
        } else {
          out_ << where << ": OK\n";
        }
      }
    }
    return status;
  }

  int roundtrip(const Input& input) {
    auto stream = readable(input);
    if (!stream) return 1;
    // messages and batch envelope segments, back in the order they came
    auto envelope = stream->envelope.begin();
    for (const auto& m : stream->messages) {
      for (; envelope != stream->envelope.end() && envelope->offset < m.offset; ++envelope) {
        out_ << envelope->text << '\r';
      }
      out_ << m.message.value().serialize();
    }
    for (; envelope != stream->envelope.end(); ++envelope) out_ << envelope->text << '\r';
    return 0;
  }

  int get(const std::vector<std::string>& args) {
    if (args.size() != 2) return usage("get needs a PATH and one FILE");
    auto path = hl7v2::parsePath(args[0]);
    if (!path) return usage("invalid path '" + args[0] + "': " + path.error());
    auto input = readInput(args[1], in_, err_);
    if (!input) return 1;
    auto stream = readable(*input);
    if (!stream) return 1;
    for (const auto& m : stream->messages) {
      for (const auto& value : m.message.value().getAll(path.value())) out_ << value << '\n';
    }
    return 0;
  }

  int json(const Input& input) {
    auto stream = readable(input);
    if (!stream) return 1;
    const bool many = stream->messages.size() > 1;
    if (many) out_ << "[\n";
    for (std::size_t i = 0; i < stream->messages.size(); ++i) {
      if (i > 0) out_ << ",\n";
      writeJson(stream->messages[i].message.value(), out_);
    }
    if (many) out_ << "]\n";
    return 0;
  }

  int ack(const std::vector<std::string>& args) {
    std::optional<hl7v2::AckMode> mode;
    std::optional<hl7v2::AckCode> code;
    bool raw = false;
    std::vector<std::string> files;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if ((a == "--mode" || a == "--code") && i + 1 == args.size()) return usage(a + " needs a value");
      if (a == "--mode") {
        const std::string& v = args[++i];
        if (v == "original")
          mode = hl7v2::AckMode::Original;
        else if (v == "enhanced")
          mode = hl7v2::AckMode::Enhanced;
        else
          return usage("--mode is original or enhanced, not '" + v + "'");
      } else if (a == "--code") {
        code = hl7v2::ackCodeFromString(args[++i]);
        if (!code) return usage("--code is one of AA AE AR CA CE CR, not '" + args[i] + "'");
      } else if (a == "--raw") {
        raw = true;
      } else if (a.size() > 1 && a.starts_with("--")) {
        return usage("unknown option '" + a + "'");
      } else {
        files.push_back(a);
      }
    }
    if (files.size() != 1) return usage("ack needs exactly one FILE");
    auto input = readInput(files[0], in_, err_);
    if (!input) return 1;
    const hl7v2::Stream stream = hl7v2::parseStream(input->bytes);
    if (stream.messages.empty()) {
      err_ << "cpis-hl7: " << input->name << ": no HL7 v2 message found\n";
      return 1;
    }
    for (const auto& m : stream.messages) {
      hl7v2::AckOptions options;
      options.timestamp = hl7v2::hl7Timestamp(stamp_.now());
      options.controlId = stamp_.nextControlId ? stamp_.nextControlId() : defaultControlId();
      std::string ack;
      if (!m.message.ok()) {
        ack = hl7v2::buildRejection(std::string_view(input->bytes).substr(m.offset), m.message.error(),
                                    options);
      } else {
        const auto& message = m.message.value();
        const hl7v2::AckMode ackMode = mode.value_or(hl7v2::ackModeOf(message));
        hl7v2::AckCode ackCode = hl7v2::inMode(code.value_or(hl7v2::AckCode::AA), ackMode);
        const auto issues = message.checkValues();
        if (!code && !issues.empty()) ackCode = hl7v2::ackCodeFor(hl7v2::Outcome::Error, ackMode);
        ack = hl7v2::buildAck(message, ackCode, issues, options);
      }
      if (!raw) {
        for (char& c : ack) {
          if (c == '\r') c = '\n';
        }
      }
      out_ << ack;
    }
    return 0;
  }

  std::string defaultControlId() {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(stamp_.now().time_since_epoch()).count();
    return "ACK" + std::to_string(ms) + std::to_string(sequence_++);
  }

  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  const AckStamp& stamp_;
  unsigned sequence_ = 0;
};

}  // namespace

int runHl7Tool(const std::vector<std::string>& args, std::istream& in, std::ostream& out, std::ostream& err,
               const AckStamp& stamp) {
  return Tool(in, out, err, stamp).run(args);
}

}  // namespace cpis::cli
