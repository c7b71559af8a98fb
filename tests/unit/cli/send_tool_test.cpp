#include "engine/cli/send_tool.h"

#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_server.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_pki.h"

using namespace std::chrono_literals;

namespace {

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

// A real MLLP listener answering like an engine: AA (or the code asked for), or nothing.
class AckingHandler final : public cpis::mllp::FrameHandler {
 public:
  explicit AckingHandler(std::string code = "AA") : code_(std::move(code)) {}
  std::string onFrame(std::string_view payload, const cpis::mllp::PeerInfo&) override {
    if (code_.empty()) return {};  // never answers
    auto message = cpis::hl7v2::parse(payload);
    cpis::hl7v2::AckOptions options;
    options.controlId = "ACK1";
    options.timestamp = "20261125120000";
    if (!message) return cpis::hl7v2::buildRejection(payload, message.error(), options);
    std::lock_guard lock(mutex_);
    controlIds_.insert(message.value().controlId());
    return cpis::hl7v2::buildAck(message.value(), *cpis::hl7v2::ackCodeFromString(code_), {}, options);
  }
  std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return "x"; }
  std::size_t distinctControlIds() {
    std::lock_guard lock(mutex_);
    return controlIds_.size();
  }

 private:
  std::string code_;
  std::mutex mutex_;
  std::set<std::string> controlIds_;
};

struct Listener {
  explicit Listener(std::string code = "AA", std::optional<cpis::mllp::TlsSettings> tls = std::nullopt)
      : handler(std::move(code)), server(settings(std::move(tls)), handler) {
    server.start();
  }
  static cpis::mllp::ListenerSettings settings(std::optional<cpis::mllp::TlsSettings> tls) {
    cpis::mllp::ListenerSettings s;
    s.tls = std::move(tls);
    return s;
  }
  std::string target() const { return "127.0.0.1:" + std::to_string(server.port()); }
  AckingHandler handler;
  cpis::mllp::MllpServer server;
};

struct Run {
  int status;
  std::string out, err;
};
Run send(std::vector<std::string> args, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out, err;
  const int status = cpis::cli::runSendTool(args, in, out, err);
  return {status, out.str(), err.str()};
}

const std::string kA01 = "tests/data/hl7v2/adt_a01_v24.hl7";
const std::string kBatch = "tests/data/hl7v2/batch_adt.hl7";

}  // namespace

BOOST_AUTO_TEST_SUITE(send_tool)

BOOST_AUTO_TEST_CASE(a_file_is_sent_and_its_ack_printed) {
  Listener l;
  const Run r = send({l.target(), kA01});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out == kA01 + ": message 1: AA\n");
}

BOOST_AUTO_TEST_CASE(each_message_of_a_batch_gets_its_own_ack) {
  Listener l;
  const Run r = send({l.target(), kBatch});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out ==
             kBatch + ": message 1: AA\n" + kBatch + ": message 2: AA\n" + kBatch + ": message 3: AA\n");
}

BOOST_AUTO_TEST_CASE(a_folder_sends_every_file_in_name_order) {
  Listener l;
  const Run r = send({l.target(), "tests/data/hl7v2"});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out.find("adt_a01_v23.hl7: message 1: AA\n") < r.out.find("adt_a02_v23.hl7: message 1: AA\n"));
}

// A file with no MSH segment used to be skipped in silence, the run ending 0: a folder's is now
// noted (a README beside the messages), and a file named on its own fails the run.
BOOST_AUTO_TEST_CASE(a_file_with_no_message_is_never_skipped_in_silence) {
  Listener l;
  const cpis::test::TempDir dir;
  std::ofstream(dir.file("a.hl7")) << "PID|1||9990000018^^^NHS^NH\r";
  std::ofstream(dir.file("b.hl7")) << "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|X1|P|2.4\rPID|1\r";
  const Run folder = send({l.target(), dir.path().string()});
  BOOST_TEST(folder.status == 0);
  BOOST_TEST(folder.out == dir.file("b.hl7") + ": message 1: AA\n");
  BOOST_TEST(folder.err ==
             "cpis-send: " + dir.file("a.hl7") + ": no HL7 v2 message in it (no MSH segment); not sent\n");
  const Run named = send({l.target(), dir.file("a.hl7"), dir.file("b.hl7")});
  BOOST_TEST(named.status == 1);
  BOOST_TEST(named.out == dir.file("b.hl7") + ": message 1: AA\n");  // the others are still sent
  BOOST_TEST(named.err.find(dir.file("a.hl7") + ": no HL7 v2 message in it") != std::string::npos, named.err);
}

BOOST_AUTO_TEST_CASE(standard_input_is_read_when_no_file_is_named) {
  Listener l;
  const Run r = send({l.target()}, "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|X1|P|2.4\rPID|1\r");
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out == "-: message 1: AA\n");
}

// A capture of MLLP traffic (framing bytes included) is sent message by message.
BOOST_AUTO_TEST_CASE(a_capture_with_mllp_framing_is_sent_message_by_message) {
  Listener l;
  const Run r = send({l.target()}, "\x0bMSH|^~\\&|A|B|C|D|20260101||ADT^A04|X1|P|2.4\rPID|1\r\x1c\r"
                                   "\x0bMSH|^~\\&|A|B|C|D|20260101||ADT^A04|X2|P|2.4\rPID|1\r\x1c\r");
  BOOST_TEST(r.status == 0, r.out + r.err);
  BOOST_TEST(r.out == "-: message 1: AA\n-: message 2: AA\n");
}

BOOST_AUTO_TEST_CASE(an_error_ack_is_printed_with_its_text_and_fails) {
  Listener l("AE");
  const Run r = send({l.target(), kA01});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out == kA01 + ": message 1: AE\n");
}

// An AA for another message (MSA-2 not the MSH-10 sent) acknowledges nothing that was sent.
BOOST_AUTO_TEST_CASE(an_ack_for_another_message_is_a_failure) {
  class OtherId final : public cpis::mllp::FrameHandler {
   public:
    std::string onFrame(std::string_view, const cpis::mllp::PeerInfo&) override {
      return "MSH|^~\\&|E|F|A|B|20261125||ACK|A1|P|2.4\rMSA|AA|SOMEONE-ELSE\r";
    }
    std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return "x"; }
  } handler;
  cpis::mllp::MllpServer server(cpis::mllp::ListenerSettings{}, handler);
  server.start();
  const Run r = send({"127.0.0.1:" + std::to_string(server.port())},
                     "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|X1|P|2.4\rPID|1\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out == "-: message 1: AA\n    MSA-2 is SOMEONE-ELSE, not X1\n");
  // The same control id, escaped (MSA-2 echoes MSH-10 as sent): a match.
  Listener l;
  const Run escaped = send({l.target()}, "MSH|^~\\&|A|B|C|D|20260101||ADT^A04|A\\T\\B|P|2.4\rPID|1\r");
  BOOST_TEST(escaped.status == 0, escaped.out);
}

BOOST_AUTO_TEST_CASE(a_broken_message_is_sent_as_it_stands_and_its_rejection_shown) {
  Listener l;
  const Run r = send({l.target()}, "MSH|^~\\&|A|B|C|D|20260101||ADT^A04||P|2.5\rPID|1\r");
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out ==
             "-: message 1: AR message control id (MSH-10) is missing; ERR 101 message control id (MSH-10) "
             "is missing\n");
}

BOOST_AUTO_TEST_CASE(no_ack_in_time_is_a_failure) {
  Listener l("");
  const Run r = send({"--timeout", "200", l.target(), kA01});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out == kA01 + ": message 1: no ACK within 200 ms\n");
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_one_line_and_a_failure) {
  std::uint16_t port = 0;
  {
    Listener gone;
    port = gone.server.port();
  }
  const Run r = send({"127.0.0.1:" + std::to_string(port), kA01});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.err.find("cpis-send: 127.0.0.1:" + std::to_string(port) + ": ") == 0u);
  BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

BOOST_AUTO_TEST_CASE(load_mode_rewrites_msh10_and_reports_throughput_and_latency) {
  Listener l;
  const Run r = send({"--connections", "4", "--repeat", "25", l.target(), kA01});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(r.out.find("messages 100 (accepted 100, refused 0, failed 0, MSA-2 mismatches 0)") == 0u);
  BOOST_TEST(r.out.find("throughput ") != std::string::npos);
  BOOST_TEST(r.out.find("latency ms p50 ") != std::string::npos);
  BOOST_TEST(l.handler.distinctControlIds() == 100u);
}

BOOST_AUTO_TEST_CASE(load_mode_with_a_connection_per_message) {
  Listener l;
  const Run r = send({"--connections", "2", "--repeat", "5", "--connection-per-message", l.target(), kA01});
  BOOST_TEST(r.status == 0);
  BOOST_TEST(l.server.stats().accepted.load() == 10u);
}

BOOST_AUTO_TEST_CASE(load_mode_counts_refusals) {
  Listener l("AR");
  const Run r = send({"--repeat", "3", l.target(), kA01});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(r.out.find("messages 3 (accepted 0, refused 3, failed 0") == 0u);
}

BOOST_AUTO_TEST_CASE(tls_with_a_client_certificate) {
  const cpis::test::TestPki pki;
  cpis::mllp::TlsSettings tls;
  tls.certificateFile = pki.serverCertificate();
  tls.privateKeyFile = pki.serverKey();
  tls.caFile = pki.caCertificate();
  tls.requireClientCertificate = true;
  Listener l("AA", tls);
  const Run ok = send({"--tls", "--ca", pki.caCertificate(), "--cert", pki.clientCertificate("epr01"),
                       "--key", pki.clientKey("epr01"), l.target(), kA01});
  BOOST_TEST(ok.status == 0);
  BOOST_TEST(ok.out == kA01 + ": message 1: AA\n");
  const Run refused = send({"--tls", "--ca", pki.caCertificate(), l.target(), kA01});
  BOOST_TEST(refused.status == 1);
}

struct UsageCase {
  std::vector<std::string> args;
  std::string problem;
};
std::ostream& operator<<(std::ostream& os, const UsageCase& c) {
  return os << c.problem;
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_2_with_the_problem) {
  const std::vector<UsageCase> cases{
      {{}, "HOST:PORT is missing"},
      {{"localhost"}, "expected HOST:PORT, not 'localhost'"},
      {{"localhost:99999"}, "expected HOST:PORT, not 'localhost:99999'"},
      {{"--connections", "0", "h:1"}, "--connections is a number from 1 to 10000"},
      {{"--timeout"}, "--timeout needs a value"},
      {{"--cert", "c.pem", "--tls", "h:1"}, "--cert and --key go together"},
      {{"--ca", "ca.pem", "h:1"}, "--ca, --cert and --key need --tls"},
      {{"--bogus", "h:1"}, "unknown option '--bogus'"},
  };
  for (const auto& c : cases) {
    const Run r = send(c.args);
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.err.find("cpis-send: " + c.problem + "\n") == 0u, c.problem);
  }
}

BOOST_AUTO_TEST_SUITE_END()
