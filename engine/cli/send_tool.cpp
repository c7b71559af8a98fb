#include "engine/cli/send_tool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <Poco/Exception.h>

#include "engine/core/base36.h"
#include "engine/hl7v2/batch.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_client.h"

namespace cpis::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: cpis-send [OPTIONS] HOST:PORT [FILE|DIR|-]...   (no input: standard input)\n"
    "  Sends each HL7 v2 message (files, folders, batch files) over MLLP and waits for its ACK.\n"
    "  --tls                  MLLP over TLS 1.2+\n"
    "  --ca FILE              CA bundle the server certificate must chain to (with --tls)\n"
    "  --cert FILE --key FILE client certificate and key for mutual TLS\n"
    "  --timeout MS           time to wait for each ACK (default 10000)\n"
    "  --show-acks            print each ACK in full, a segment a line\n"
    "  --connections N        load: N connections in parallel, stop-and-wait on each\n"
    "  --repeat M             load: send the messages M times over each connection\n"
    "  --connection-per-message  load: a new connection for every message\n"
    "  In load mode MSH-10 is rewritten to stay unique, and the summary gives messages/s and\n"
    "  p50/p99/max latency. Exit status: 0 all AA/CA, 1 otherwise, 2 usage.\n";

struct Outgoing {
  std::string name;     // "file: message 2"
  std::string bytes;    // the message, segments ended by '\r'
  bool parsed = false;  // broken messages are sent as they stand and never rewritten
  std::size_t controlIdBegin = 0, controlIdEnd = 0;  // MSH-10 within bytes, for load mode
  std::string controlId;  // MSH-10 decoded (its first component), as an ACK's MSA-2 is read
};

struct Options {
  std::string host;
  std::uint16_t port = 0;
  std::optional<mllp::ClientTls> tls;
  std::chrono::milliseconds timeout{10'000};
  int connections = 1;
  int repeat = 1;
  bool connectionPerMessage = false;
  bool showAcks = false;
  std::vector<std::string> inputs;
  bool load() const { return connections > 1 || repeat > 1 || connectionPerMessage; }
};

// What an ACK said: MSA-1, MSA-2, and the text (MSA-3, or each ERR's code and ERR-8).
struct AckSummary {
  std::string code, controlId, text;
  bool accepted() const { return code == "AA" || code == "CA"; }
};

AckSummary summarise(const std::string& ack) {
  AckSummary s;
  auto parsed = hl7v2::parse(ack);
  if (!parsed) {
    s.code = "??";
    s.text = "unreadable ACK: " + parsed.error().text;
    return s;
  }
  const auto& m = parsed.value();
  s.code = m.get("MSA-1");
  s.controlId = m.get("MSA-2");
  s.text = m.get("MSA-3");
  for (std::uint32_t i = 1; i <= m.occurrences("ERR"); ++i) {
    const std::string prefix = "ERR(" + std::to_string(i) + ")";
    std::string code = m.get(prefix + "-3.1");
    std::string text = m.get(prefix + "-8");
    if (code.empty()) code = m.get(prefix + "-1.4.1");  // v2.3/2.4 ELD
    if (!s.text.empty()) s.text += "; ";
    s.text += "ERR " + code + (text.empty() ? "" : " " + text);
  }
  return s;
}

bool parseNumber(const std::string& text, long min, long max, long& value) {
  try {
    std::size_t used = 0;
    value = std::stol(text, &used);
    return used == text.size() && value >= min && value <= max;
  } catch (const std::exception&) {
    return false;
  }
}

class SendTool {
 public:
  SendTool(std::istream& in, std::ostream& out, std::ostream& err) : in_(in), out_(out), err_(err) {}

  int run(const std::vector<std::string>& args) {
    Options o;
    if (const auto problem = parseArgs(args, o)) {
      if (problem->empty()) {
        out_ << kUsage;
        return 0;
      }
      err_ << "cpis-send: " << *problem << "\n" << kUsage;
      return 2;
    }
    std::vector<Outgoing> messages;
    if (!load(o, messages)) return 1;
    if (messages.empty()) {
      err_ << "cpis-send: no HL7 v2 message to send\n";
      return 1;
    }
    const int status = o.load() ? loadTest(o, messages) : sendEach(o, messages);
    return emptyNamed_ && status == 0 ? 1 : status;
  }

 private:
  // nullopt: fine; "": help asked for; otherwise the problem.
  std::optional<std::string> parseArgs(const std::vector<std::string>& args, Options& o) {
    std::vector<std::string> positional;
    bool tls = false;
    mllp::ClientTls settings;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      const auto next = [&]() -> std::optional<std::string> {
        if (i + 1 >= args.size()) return std::nullopt;
        return args[++i];
      };
      long n = 0;
      if (a == "--help" || a == "-h") return std::string();
      if (a == "--tls") {
        tls = true;
      } else if (a == "--ca" || a == "--cert" || a == "--key" || a == "--timeout" || a == "--connections" ||
                 a == "--repeat") {
        const auto v = next();
        if (!v) return a + " needs a value";
        if (a == "--ca") settings.caFile = *v;
        if (a == "--cert") settings.certificateFile = *v;
        if (a == "--key") settings.privateKeyFile = *v;
        if (a == "--timeout") {
          if (!parseNumber(*v, 1, 3'600'000, n)) return "--timeout is milliseconds from 1";
          o.timeout = std::chrono::milliseconds(n);
        }
        if (a == "--connections") {
          if (!parseNumber(*v, 1, 10'000, n)) return "--connections is a number from 1 to 10000";
          o.connections = static_cast<int>(n);
        }
        if (a == "--repeat") {
          if (!parseNumber(*v, 1, 100'000'000, n)) return "--repeat is a number from 1";
          o.repeat = static_cast<int>(n);
        }
      } else if (a == "--show-acks") {
        o.showAcks = true;
      } else if (a == "--connection-per-message") {
        o.connectionPerMessage = true;
      } else if (a.size() > 1 && a[0] == '-' && a != "-") {
        return "unknown option '" + a + "'";
      } else {
        positional.push_back(a);
      }
    }
    if (positional.empty()) return std::string("HOST:PORT is missing");
    const std::string& target = positional.front();
    const auto colon = target.rfind(':');
    long port = 0;
    if (colon == std::string::npos || colon == 0 || !parseNumber(target.substr(colon + 1), 1, 65535, port)) {
      return "expected HOST:PORT, not '" + target + "'";
    }
    o.host = target.substr(0, colon);
    o.port = static_cast<std::uint16_t>(port);
    o.inputs.assign(positional.begin() + 1, positional.end());
    if (o.inputs.empty()) o.inputs.push_back("-");
    if ((!settings.certificateFile.empty()) != (!settings.privateKeyFile.empty())) {
      return "--cert and --key go together";
    }
    if (!tls && (!settings.caFile.empty() || !settings.certificateFile.empty())) {
      return "--ca, --cert and --key need --tls";
    }
    if (tls) o.tls = settings;
    return std::nullopt;
  }

  bool readFile(const std::string& name, std::string& bytes) {
    if (name == "-") {
      bytes.assign(std::istreambuf_iterator<char>(in_), std::istreambuf_iterator<char>());
      return true;
    }
    std::ifstream file(name, std::ios::binary);
    if (!file) {
      err_ << "cpis-send: cannot read " << name << "\n";
      return false;
    }
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    return true;
  }

  // A capture of MLLP traffic (each message between 0x0B and 0x1C 0x0D) as the messages alone:
  // cpis-send frames them itself. Anything else is returned as it is.
  static std::string unframed(std::string bytes) {
    if (bytes.find('\x0b') == std::string::npos) return bytes;
    std::string out;
    for (std::size_t at = bytes.find('\x0b'); at != std::string::npos; at = bytes.find('\x0b', at)) {
      const std::size_t end = bytes.find('\x1c', at + 1);
      std::string payload = bytes.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
      if (!payload.empty() && payload.back() != '\r' && payload.back() != '\n') payload.push_back('\r');
      out += payload;
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return out;
  }

  // Messages that parse are sent as the codec serialises them; broken ones as they stand, so
  // cpis-send can also show what an engine answers to bad input.
  void split(const std::string& name, const std::string& bytes, std::vector<Outgoing>& out) {
    const hl7v2::Stream stream = hl7v2::parseStream(bytes);
    for (std::size_t i = 0; i < stream.messages.size(); ++i) {
      const auto& item = stream.messages[i];
      Outgoing o;
      o.name = name + ": message " + std::to_string(i + 1);
      if (item.message.ok()) {
        o.bytes = item.message.value().serialize();
        const auto reparsed = hl7v2::parse(o.bytes);
        const std::string_view id = reparsed.value().fieldRaw(0, 10);
        o.controlIdBegin = static_cast<std::size_t>(id.data() - reparsed.value().raw().data());
        o.controlIdEnd = o.controlIdBegin + id.size();
        o.controlId = item.message.value().get("MSH-10");
        o.parsed = true;
      } else {
        std::size_t end = i + 1 < stream.messages.size() ? stream.messages[i + 1].offset : bytes.size();
        for (const auto& e : stream.envelope) {
          if (e.offset > item.offset && e.offset < end) end = e.offset;
        }
        o.bytes = bytes.substr(item.offset, end - item.offset);
      }
      out.push_back(std::move(o));
    }
  }

  bool load(const Options& o, std::vector<Outgoing>& messages) {
    for (const auto& input : o.inputs) {
      std::vector<std::string> files;
      std::error_code ec;
      if (input != "-" && std::filesystem::is_directory(input, ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(input)) {
          if (entry.is_regular_file()) files.push_back(entry.path().string());
        }
        std::sort(files.begin(), files.end());
      } else {
        files.push_back(input);
      }
      const bool named = files.size() == 1 && files.front() == input;
      for (const auto& file : files) {
        std::string bytes;
        if (!readFile(file, bytes)) return false;
        const std::size_t before = messages.size();
        split(file, unframed(std::move(bytes)), messages);
        // Never skipped in silence: a file named on its own with nothing to send fails the run
        // (once the others are sent); one of a folder's (a README beside the messages) is noted.
        if (messages.size() == before) {
          err_ << "cpis-send: " << file << ": no HL7 v2 message in it (no MSH segment); not sent\n";
          if (named) emptyNamed_ = true;
        }
      }
    }
    return true;
  }

  int sendEach(const Options& o, const std::vector<Outgoing>& messages) {
    std::unique_ptr<mllp::MllpClient> client;
    int failures = 0;
    for (const auto& m : messages) {
      try {
        if (!client) client = std::make_unique<mllp::MllpClient>(o.host, o.port, o.timeout, o.tls);
        client->send(m.bytes);
        const auto ack = client->receive(o.timeout);
        if (!ack) {
          out_ << m.name << ": no ACK: the connection was closed\n";
          ++failures;
          client.reset();
          continue;
        }
        const AckSummary s = summarise(*ack);
        out_ << m.name << ": " << s.code << (s.text.empty() ? "" : " " + s.text) << "\n";
        // An ACK for another message (MSA-2 not our MSH-10) acknowledges nothing we sent.
        const std::string& sent = m.controlId;
        const bool other = !sent.empty() && s.controlId != sent;
        if (other) out_ << "    MSA-2 is " << (s.controlId.empty() ? "empty" : s.controlId) << ", not " << sent << "\n";
        if (o.showAcks) {
          std::string segments = *ack;
          for (std::size_t at = 0; (at = segments.find('\r', at)) != std::string::npos;) segments.replace(at, 1, "\n    ");
          out_ << "    " << segments.substr(0, segments.find_last_not_of(" \n") + 1) << "\n";
        }
        if (!s.accepted() || other) ++failures;
      } catch (const Poco::TimeoutException&) {
        out_ << m.name << ": no ACK within " << o.timeout.count() << " ms\n";
        ++failures;
        client.reset();
      } catch (const Poco::Exception& e) {
        err_ << "cpis-send: " << o.host << ":" << o.port << ": " << e.displayText() << "\n";
        return 1;
      }
    }
    return failures == 0 ? 0 : 1;
  }

  int loadTest(const Options& o, const std::vector<Outgoing>& messages) {
    // MSH-10 = run prefix + connection + sequence, base 36, at most 20 characters.
    using core::base36;
    const std::string run =
        base36(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()));
    std::atomic<std::uint64_t> accepted{0}, refused{0}, failed{0}, mismatched{0};
    std::mutex mutex;
    std::vector<double> latencies;  // microseconds
    std::string firstError;

    const auto worker = [&](int connection) {
      std::vector<double> mine;
      mine.reserve(static_cast<std::size_t>(o.repeat) * messages.size());
      std::unique_ptr<mllp::MllpClient> client;
      std::uint64_t sequence = 0;
      for (int r = 0; r < o.repeat; ++r) {
        for (const auto& m : messages) {
          std::string bytes = m.bytes;
          std::string id;
          if (m.parsed) {
            id = run + base36(static_cast<std::uint64_t>(connection)) + "-" + base36(sequence++);
            bytes.replace(m.controlIdBegin, m.controlIdEnd - m.controlIdBegin, id);
          }
          const auto start = Clock::now();
          try {
            if (!client) client = std::make_unique<mllp::MllpClient>(o.host, o.port, o.timeout, o.tls);
            client->send(bytes);
            const auto ack = client->receive(o.timeout);
            if (!ack) throw Poco::Exception("connection closed before the ACK");
            const AckSummary s = summarise(*ack);
            mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
            (s.accepted() ? accepted : refused).fetch_add(1);
            if (!id.empty() && s.controlId != id) mismatched.fetch_add(1);
          } catch (const Poco::Exception& e) {
            failed.fetch_add(1);
            client.reset();
            std::lock_guard lock(mutex);
            if (firstError.empty()) firstError = e.displayText();
          }
          if (o.connectionPerMessage) client.reset();
        }
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    };

    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < o.connections; ++c) threads.emplace_back(worker, c);
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

    std::sort(latencies.begin(), latencies.end());
    const auto percentile = [&](double p) {
      if (latencies.empty()) return 0.0;
      const auto index = static_cast<std::size_t>(p * static_cast<double>(latencies.size() - 1) + 0.5);
      return latencies[std::min(index, latencies.size() - 1)] / 1000.0;
    };
    const std::uint64_t total = accepted + refused + failed;
    out_ << std::fixed << std::setprecision(2);
    out_ << "messages " << total << " (accepted " << accepted << ", refused " << refused << ", failed "
         << failed << ", MSA-2 mismatches " << mismatched << ")\n";
    out_ << "connections " << o.connections << (o.connectionPerMessage ? " (new connection per message)" : "")
         << ", elapsed " << seconds << " s\n";
    out_ << "throughput " << std::setprecision(0) << static_cast<double>(accepted + refused) / seconds
         << " messages/s\n";
    out_ << std::setprecision(3) << "latency ms p50 " << percentile(0.50) << " p99 " << percentile(0.99)
         << " max " << (latencies.empty() ? 0.0 : latencies.back() / 1000.0) << "\n";
    if (!firstError.empty()) err_ << "cpis-send: first failure: " << firstError << "\n";
    return refused == 0 && failed == 0 && mismatched == 0 ? 0 : 1;
  }

  bool emptyNamed_ = false;  // a file named on its own held no message
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace

int runSendTool(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                std::ostream& err) {
  return SendTool(in, out, err).run(args);
}

}  // namespace cpis::cli
