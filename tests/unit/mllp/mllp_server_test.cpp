#include "engine/mllp/mllp_server.h"

#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <openssl/ssl.h>

#include <boost/test/unit_test.hpp>

#include "engine/mllp/framer.h"
#include "engine/mllp/mllp_client.h"
#include "tests/support/ssl_guard.h"
#include "tests/support/test_pki.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using cpis::mllp::ClientTls;
using cpis::mllp::ListenerSettings;
using cpis::mllp::MllpClient;
using cpis::mllp::MllpServer;
using cpis::mllp::PeerInfo;
using cpis::test::waitFor;

namespace {

using cpis::test::SslGuard;
BOOST_TEST_GLOBAL_FIXTURE(SslGuard);

// Answers "ACK:<payload>" and remembers what it saw.
class RecordingHandler final : public cpis::mllp::FrameHandler {
 public:
  std::string onFrame(std::string_view payload, const PeerInfo& peer) override {
    std::lock_guard lock(mutex_);
    frames_.emplace_back(payload);
    subjects_.push_back(peer.certificateSubject);
    return "ACK:" + std::string(payload);
  }
  std::string onOversized(std::string_view prefix, std::size_t limit, const PeerInfo&) override {
    std::lock_guard lock(mutex_);
    oversized_.emplace_back(prefix);
    return "AR:too large, limit " + std::to_string(limit);
  }
  std::size_t frameCount() {
    std::lock_guard lock(mutex_);
    return frames_.size();
  }
  std::vector<std::string> frames() {
    std::lock_guard lock(mutex_);
    return frames_;
  }
  std::vector<std::string> subjects() {
    std::lock_guard lock(mutex_);
    return subjects_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> frames_, subjects_, oversized_;
};

ClientTls clientTls(const std::string& ca, const std::string& certificate = "", const std::string& key = "") {
  ClientTls tls;
  tls.caFile = ca;
  tls.certificateFile = certificate;
  tls.privateKeyFile = key;
  return tls;
}

ListenerSettings plain() {
  ListenerSettings s;
  s.name = "test-feed";
  s.readTimeout = 10s;
  s.idleTimeout = 30s;
  return s;
}

// A plain blocking socket connected to the listener on `port` (one descriptor, nothing else:
// POCO's connect with a time-out takes a second one for its poll), or -1. `receiveBuffer`
// (bytes, 0: the system's) is set before connecting, so the window never grows beyond it.
int connectRaw(std::uint16_t port, int receiveBuffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (receiveBuffer > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Slowloris: sends `prefix`, then `body` a byte at a time, one every 100 ms (each well inside
// any read time-out the tests set), until the listener closes the connection. Returns the
// bytes of `body` sent by then, or body.size() + 1 if it never closed.
std::size_t trickleUntilClosed(std::uint16_t port, std::string_view prefix, std::string_view body) {
  const int fd = connectRaw(port);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST_REQUIRE(::send(fd, prefix.data(), prefix.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(prefix.size()));
  std::size_t sent = 0;
  bool closed = false;
  while (!closed && sent < body.size()) {
    if (::send(fd, body.data() + sent, 1, MSG_NOSIGNAL) != 1) break;
    ++sent;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {  // the pace; readable: what it says, or its end
      char buffer[4096];
      closed = ::recv(fd, buffer, sizeof buffer, 0) <= 0;
    }
  }
  if (!closed && sent < body.size()) closed = true;  // the send failed: closed
  ::close(fd);
  return closed ? sent : body.size() + 1;
}

// Counts the log messages that contain a text (the listener logs from its own threads).
class CountingChannel : public Poco::Channel {
 public:
  void log(const Poco::Message& message) override {
    const std::lock_guard lock(mutex_);
    texts_.push_back(message.getText());
  }
  std::size_t count(std::string_view text) const {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& t : texts_) n += t.find(text) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> texts_;
};

struct Running {
  explicit Running(ListenerSettings s) : server(std::move(s), handler) { server.start(); }
  RecordingHandler handler;
  MllpServer server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mllp_server)

BOOST_AUTO_TEST_CASE(one_message_gets_its_ack) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.send("MSH|1");
  BOOST_TEST(client.receive(10s).value() == "ACK:MSH|1");
  BOOST_TEST(r.server.stats().frames.load() == 1u);
}

BOOST_AUTO_TEST_CASE(pipelined_burst_gets_every_ack_in_order) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += cpis::mllp::frame("MSG" + std::to_string(i));
  client.sendRaw(burst);
  for (int i = 0; i < 200; ++i)
    BOOST_TEST_REQUIRE(client.receive(10s).value() == "ACK:MSG" + std::to_string(i));
}

BOOST_AUTO_TEST_CASE(message_split_over_many_writes_is_one_message) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  const std::string framed = cpis::mllp::frame("MSH|^~\\&|SPLIT");
  for (const char c : framed) client.sendRaw(std::string(1, c));
  BOOST_TEST(client.receive(10s).value() == "ACK:MSH|^~\\&|SPLIT");
}

BOOST_AUTO_TEST_CASE(bytes_before_the_start_block_are_dropped_and_counted) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.sendRaw("noise" + cpis::mllp::frame("A"));
  BOOST_TEST(client.receive(10s).value() == "ACK:A");
  BOOST_TEST(r.server.stats().droppedBytes.load() == 5u);
}

// A peer that sends a message without MLLP's start block (or not MLLP at all) gets nothing back:
// the listener says so in its log, once a connection, with the count and never the bytes (they
// may be a message with patient data). It used to be counted only.
BOOST_AUTO_TEST_CASE(bytes_outside_a_frame_are_logged_once_a_connection_without_their_content) {
  Running r(plain());
  const Poco::AutoPtr<CountingChannel> counted(new CountingChannel);
  Poco::Logger& mllp = Poco::Logger::get("cpis.mllp");
  const Poco::AutoPtr<Poco::Channel> before(mllp.getChannel(), true);
  mllp.setChannel(counted);
  {
    MllpClient client("127.0.0.1", r.server.port(), 10s);
    client.sendRaw("MSH|^~\\&|9990000018\r");  // unframed
    client.sendRaw("PID|more\r" + cpis::mllp::frame("A"));
    BOOST_TEST(client.receive(10s).value() == "ACK:A");  // answered after both reads
  }
  mllp.setChannel(before);
  BOOST_TEST(counted->count("bytes outside a frame (no start block 0x0B before them)") == 1u);
  BOOST_TEST(counted->count("9990000018") == 0u);
}

BOOST_AUTO_TEST_CASE(missing_carriage_return_after_end_block_is_tolerated) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.sendRaw(
      "\x0B"
      "A"
      "\x1C");
  BOOST_TEST(client.receive(10s).value() == "ACK:A");
  client.sendRaw(
      "\x0B"
      "B"
      "\x1C\x0D");
  BOOST_TEST(client.receive(10s).value() == "ACK:B");
  BOOST_TEST(r.server.stats().missingCarriageReturns.load() == 1u);
}

BOOST_AUTO_TEST_CASE(new_start_block_before_end_block_abandons_the_partial_message) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.sendRaw(
      "\x0B"
      "PARTIAL" +
      cpis::mllp::frame("WHOLE"));
  BOOST_TEST(client.receive(10s).value() == "ACK:WHOLE");
  BOOST_TEST(r.server.stats().abandoned.load() == 1u);
  BOOST_TEST(r.handler.frames() == std::vector<std::string>{"WHOLE"});
}

BOOST_AUTO_TEST_CASE(oversized_message_gets_a_rejection_then_the_connection_closes) {
  auto settings = plain();
  settings.maxFrameBytes = 1024;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.send(std::string(4096, 'x'));
  BOOST_TEST(client.receive(10s).value() == "AR:too large, limit 1024");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(r.server.stats().oversized.load() == 1u);
  BOOST_TEST(r.handler.frameCount() == 0u);
}

// A sender that writes all of a message far over the limit before it reads: the listener reads
// (and drops) the rest after the AR, so the write completes, the AR is read, and the close that
// follows is an orderly one. Closing with the rest unread would reset the connection, and the
// sender would see its write fail instead of the AR.
BOOST_AUTO_TEST_CASE(a_sender_still_writing_an_oversized_message_gets_its_rejection_not_a_reset) {
  auto settings = plain();
  settings.maxFrameBytes = 64 * 1024;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  BOOST_CHECK_NO_THROW(client.send(std::string(8 << 20, 'x')));
  BOOST_TEST(client.receive(10s).value() == "AR:too large, limit 65536");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(r.server.stats().oversized.load() == 1u);
  BOOST_TEST(waitFor([&] { return r.server.stats().active.load() == 0; }, 10s));
}

BOOST_AUTO_TEST_CASE(partial_frame_that_stalls_is_closed_after_the_read_timeout) {
  auto settings = plain();
  settings.readTimeout = 300ms;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.sendRaw(
      "\x0B"
      "MSH|never finished");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(r.server.stats().stalled.load() == 1u);
  BOOST_TEST(r.handler.frameCount() == 0u);
}

// Against slowloris: the read time-out runs from the frame's start block, not from the last
// byte, so a frame trickled a byte at a time is closed once the time-out has passed since it
// began (it used to be kept open as long as each byte came within the time-out).
BOOST_AUTO_TEST_CASE(a_frame_trickled_a_byte_at_a_time_is_closed_at_the_read_timeout_from_its_start) {
  auto settings = plain();
  settings.readTimeout = 1s;
  Running r(settings);
  const std::string body(100, 'x');  // 10 s at 100 ms a byte
  const std::size_t sent = trickleUntilClosed(r.server.port(), "\x0BMSH|", body);
  BOOST_TEST(sent < 60u, sent);  // about 10 bytes (1 s) in; 60 leaves room for a slow machine
  BOOST_TEST(r.server.stats().stalled.load() == 1u);
  BOOST_TEST(r.handler.frameCount() == 0u);
}

// Bytes outside frames are dropped; trickled, they do not keep an idle connection open.
BOOST_AUTO_TEST_CASE(bytes_trickled_outside_frames_do_not_hold_off_the_idle_timeout) {
  auto settings = plain();
  settings.idleTimeout = 1s;
  Running r(settings);
  const std::size_t sent = trickleUntilClosed(r.server.port(), "", std::string(100, 'x'));
  BOOST_TEST(sent < 60u, sent);
  BOOST_TEST(r.server.stats().idleClosed.load() == 1u);
}

// Start blocks alone, trickled: each abandons the frame the one before began. They restart
// neither time-out (they did, and such a peer held its connection open for ever), and the
// abandoned frames are logged once for the connection, not once a byte.
BOOST_AUTO_TEST_CASE(start_blocks_trickled_one_at_a_time_are_closed_at_the_read_timeout_and_logged_once) {
  auto settings = plain();
  settings.readTimeout = 1s;
  Running r(settings);
  const Poco::AutoPtr<CountingChannel> counted(new CountingChannel);
  Poco::Logger& mllp = Poco::Logger::get("cpis.mllp");
  const Poco::AutoPtr<Poco::Channel> before(mllp.getChannel(), true);
  mllp.setChannel(counted);
  const std::size_t sent = trickleUntilClosed(r.server.port(), "", std::string(100, '\x0B'));
  mllp.setChannel(before);
  BOOST_TEST(sent < 60u, sent);
  BOOST_TEST(r.server.stats().stalled.load() == 1u);
  BOOST_TEST(r.server.stats().abandoned.load() >= 5u);
  BOOST_TEST(counted->count("started a new frame inside one") == 1u);
}

BOOST_AUTO_TEST_CASE(idle_connection_is_closed_after_the_idle_timeout) {
  auto settings = plain();
  settings.idleTimeout = 300ms;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.send("A");
  BOOST_TEST(client.receive(10s).value() == "ACK:A");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(r.server.stats().idleClosed.load() == 1u);
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_refused_at_once) {
  auto settings = plain();
  settings.maxConnections = 2;
  Running r(settings);
  MllpClient first("127.0.0.1", r.server.port(), 10s);
  MllpClient second("127.0.0.1", r.server.port(), 10s);
  first.send("1");
  second.send("2");
  BOOST_TEST(first.receive(10s).value() == "ACK:1");
  BOOST_TEST(second.receive(10s).value() == "ACK:2");
  MllpClient third("127.0.0.1", r.server.port(), 10s);
  BOOST_TEST(third.closedByPeer(10s));
  BOOST_TEST(r.server.stats().refused.load() == 1u);
  first.close();
  BOOST_TEST(waitFor([&] { return r.server.stats().active.load() == 1; }));
  MllpClient fourth("127.0.0.1", r.server.port(), 10s);  // room again
  fourth.send("4");
  BOOST_TEST(fourth.receive(10s).value() == "ACK:4");
}

// Out of file descriptors: accept() fails while the listening socket stays readable. The
// listener rests (100 ms) between tries instead of spinning and logging each failure, and
// takes the waiting connection once descriptors are free again.
#if defined(__SANITIZE_ADDRESS__)
// The sanitizers' runtime opens descriptors of its own (to check a dynamic type, to report),
// and none is left for it in this case: it runs in the release build only.
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
BOOST_AUTO_TEST_CASE(a_listener_out_of_file_descriptors_rests_and_then_accepts_again,
                     *boost::unit_test::enable_if<!kSanitized>()) {
  Running r(plain());
  MllpClient first("127.0.0.1", r.server.port(), 10s);
  first.send("FIRST");
  BOOST_TEST_REQUIRE(first.receive(10s).value() == "ACK:FIRST");

  rlimit before{};
  BOOST_TEST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
  struct Restore {
    rlimit limit;
    ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{before};
  // New descriptors take the lowest free number: with the limit just above it, the client's
  // socket gets it and the listener's accept() has none left.
  const int lowestFree = ::dup(0);
  BOOST_TEST_REQUIRE(lowestFree >= 0);
  ::close(lowestFree);
  rlimit tight = before;
  tight.rlim_cur = static_cast<rlim_t>(lowestFree) + 1;
  BOOST_TEST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  // Nothing is asserted while the limit is low: a failed assertion's report (and the
  // sanitizers' own checks) may need a descriptor of their own.
  const int second = connectRaw(r.server.port());  // in the backlog: the kernel completes it
  const std::string framed = cpis::mllp::frame("SECOND");
  const bool sent =
      second >= 0 && ::send(second, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size());
  const bool failedOnce = sent && waitFor([&] { return r.server.stats().acceptFailures.load() >= 1; }, 10s);
  const auto firstFailure = std::chrono::steady_clock::now();
  const bool failedThrice = failedOnce && waitFor([&] { return r.server.stats().acceptFailures.load() >= 3; }, 10s);
  const auto rested = std::chrono::steady_clock::now() - firstFailure;
  const auto failures = r.server.stats().acceptFailures.load();
  ::setrlimit(RLIMIT_NOFILE, &before);
  BOOST_TEST_REQUIRE(sent);
  BOOST_TEST_REQUIRE(failedOnce);
  BOOST_TEST_REQUIRE(failedThrice);
  // Each failure is followed by a rest: not thousands of tries, a few per 100 ms per event loop.
  BOOST_TEST(failures <= 4 * (static_cast<std::uint64_t>(rested / 100ms) + 2), failures << " failures");
  const timeval wait{10, 0};
  ::setsockopt(second, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string received;
  char buffer[256];
  while (received.find('\x1c') == std::string::npos) {
    const ssize_t n = ::recv(second, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(second);
  BOOST_TEST(received == cpis::mllp::frame("ACK:SECOND"));
}

BOOST_AUTO_TEST_CASE(peer_that_leaves_before_reading_its_ack_still_had_its_message_handled) {
  Running r(plain());
  {
    MllpClient client("127.0.0.1", r.server.port(), 10s);
    client.send("LEAVING");
  }
  BOOST_TEST(waitFor([&] { return r.handler.frameCount() == 1; }));
  BOOST_TEST(waitFor([&] { return r.server.stats().active.load() == 0; }));
}

// A sender that pipelines and never reads its ACKs: the listener stops reading it once a
// bounded amount of ACKs waits (TCP holds back the rest of what it sends) and closes it after
// the read time-out. It used to handle every frame sent and keep all their ACKs in memory.
BOOST_AUTO_TEST_CASE(a_pipelining_peer_that_never_reads_its_acks_is_not_read_without_bound) {
  ListenerSettings settings = plain();
  settings.readTimeout = 2s;
  Running r(settings);
  const int fd = connectRaw(r.server.port(), 16 * 1024);
  BOOST_TEST_REQUIRE(fd >= 0);
  // 40,000 frames (40 MB) whose ACKs are as large: far beyond what the kernel's buffers hold.
  constexpr std::size_t kFrames = 40'000;
  const std::string one = cpis::mllp::frame(std::string(1000, 'x'));
  std::string burst;
  burst.reserve(one.size() * kFrames);
  for (std::size_t i = 0; i < kFrames; ++i) burst += one;
  std::size_t sent = 0;
  std::thread sender([&] {  // blocks once the listener stops reading; ends when it closes
    while (sent < burst.size()) {
      const ssize_t n = ::send(fd, burst.data() + sent, burst.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
  });
  sender.join();  // the listener closed the connection: no ACK was read for the read time-out
  ::close(fd);
  BOOST_TEST(sent < burst.size());
  // Handled: what its unsent ACKs, the kernel's send buffer (up to 4 MB) and our 16 KB receive
  // buffer hold, and the frames already read: about 4,400 frames, not all 40,000.
  BOOST_TEST(r.handler.frameCount() < kFrames / 2, r.handler.frameCount());
  BOOST_TEST(waitFor([&] { return r.server.stats().active.load() == 0; }));
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_connections_and_returns) {
  Running r(plain());
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.send("A");
  BOOST_TEST(client.receive(10s).value() == "ACK:A");
  const auto before = std::chrono::steady_clock::now();
  r.server.stop(5s);
  BOOST_TEST((std::chrono::steady_clock::now() - before < 5s));
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(r.server.stats().active.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mllp_server_tls)

namespace {
const cpis::test::TestPki& pki() {
  static const cpis::test::TestPki instance;
  return instance;
}
ListenerSettings tls(bool requireClient, std::vector<std::string> allowed = {}) {
  auto s = plain();
  cpis::mllp::TlsSettings t;
  t.certificateFile = pki().serverCertificate();
  t.privateKeyFile = pki().serverKey();
  t.caFile = pki().caCertificate();
  t.requireClientCertificate = requireClient;
  t.allowedSubjects = std::move(allowed);
  s.tls = t;
  return s;
}
// Sends one message; the ACK, or nullopt when the server refused the client.
std::optional<std::string> exchange(std::uint16_t port, const ClientTls& context) {
  try {
    MllpClient client("127.0.0.1", port, 10s, context);
    client.send("MSH|TLS");
    return client.receive(10s);
  } catch (const Poco::Net::SSLException&) {
    return std::nullopt;
  } catch (const Poco::Net::NetException&) {
    return std::nullopt;
  }
}

// The TLS version a client that offers at most `maxVersion` gets from the listener on `port`;
// 0 when the handshake fails.
int negotiatedVersion(std::uint16_t port, int maxVersion) {
  const int fd = connectRaw(port);
  if (fd < 0) return -1;
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(context, maxVersion);
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, fd);
  const int version = SSL_connect(ssl) == 1 ? SSL_version(ssl) : 0;
  SSL_free(ssl);
  SSL_CTX_free(context);
  ::close(fd);
  return version;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_listener_for_tls_1_3_refuses_a_client_that_offers_at_most_tls_1_2) {
  auto settings = tls(false);
  BOOST_TEST(!settings.tls->tls13Only);
  {
    Running r(settings);
    BOOST_TEST(negotiatedVersion(r.server.port(), TLS1_2_VERSION) == TLS1_2_VERSION);
  }
  settings.tls->tls13Only = true;
  Running r(settings);
  BOOST_TEST(negotiatedVersion(r.server.port(), TLS1_2_VERSION) == 0);
  BOOST_TEST(negotiatedVersion(r.server.port(), TLS1_3_VERSION) == TLS1_3_VERSION);
  BOOST_TEST(exchange(r.server.port(), clientTls(pki().caCertificate())).value() == "ACK:MSH|TLS");
}

BOOST_AUTO_TEST_CASE(a_tls_sender_still_writing_an_oversized_message_gets_its_rejection) {
  auto settings = tls(false);
  settings.maxFrameBytes = 64 * 1024;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s, clientTls(pki().caCertificate()));
  BOOST_CHECK_NO_THROW(client.send(std::string(8 << 20, 'x')));
  BOOST_TEST(client.receive(10s).value() == "AR:too large, limit 65536");
  // The listener ends its side (close_notify, FIN) at once: not when its drain gives up (10 s).
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
  BOOST_TEST(r.server.stats().oversized.load() == 1u);
}

// The time-outs of a TLS connection are the configured ones, as for plain TCP (POCO's secure
// sockets wait twice the socket's time-out: the listener gives them half).
BOOST_AUTO_TEST_CASE(an_idle_tls_connection_is_closed_after_the_idle_timeout_not_twice_that) {
  auto settings = tls(false);
  settings.idleTimeout = 1s;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s, clientTls(pki().caCertificate()));
  client.send("A");
  BOOST_TEST_REQUIRE(client.receive(10s).value() == "ACK:A");
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(client.closedByPeer(10s));
  const auto waited = std::chrono::steady_clock::now() - start;
  BOOST_TEST(waited >= 900ms);
  BOOST_TEST(waited < 1700ms, std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");
  BOOST_TEST(waitFor([&] { return r.server.stats().idleClosed.load() == 1; }));
}

// Slowloris over TLS, in the handshake: a ClientHello trickled a byte at a time is cut off once
// the read time-out has passed since the connection came (POCO's handshake waits the time-out
// afresh for every read), and so is a frame trickled once the session is up.
BOOST_AUTO_TEST_CASE(a_tls_handshake_trickled_a_byte_at_a_time_is_closed_at_the_read_timeout) {
  auto settings = tls(false);
  settings.readTimeout = 1s;
  Running r(settings);
  // A TLS handshake record announcing 512 bytes, then its body a byte at a time.
  const std::size_t sent = trickleUntilClosed(r.server.port(), std::string("\x16\x03\x01\x02\x00", 5),
                                              std::string(100, '\x01'));
  BOOST_TEST(sent < 60u, sent);
  BOOST_TEST(waitFor([&] { return r.server.stats().active.load() == 0; }));
  BOOST_TEST(r.server.stats().tlsRefused.load() == 1u);
}

BOOST_AUTO_TEST_CASE(a_tls_frame_trickled_a_byte_at_a_time_is_closed_at_the_read_timeout_from_its_start) {
  auto settings = tls(false);
  settings.readTimeout = 1s;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s, clientTls(pki().caCertificate()));
  client.sendRaw("\x0BMSH|");
  std::size_t sent = 0;
  try {
    for (; sent < 100; ++sent) {
      if (client.closedByPeer(100ms)) break;  // the pace
      client.sendRaw("x");
    }
  } catch (const Poco::Exception&) {  // writing to a connection the listener closed
  }
  BOOST_TEST(sent < 60u, sent);
  BOOST_TEST(waitFor([&] { return r.server.stats().stalled.load() == 1u; }));
  BOOST_TEST(r.handler.frameCount() == 0u);
}

BOOST_AUTO_TEST_CASE(tls_start_blocks_trickled_one_at_a_time_are_closed_at_the_read_timeout) {
  auto settings = tls(false);
  settings.readTimeout = 1s;
  Running r(settings);
  MllpClient client("127.0.0.1", r.server.port(), 10s, clientTls(pki().caCertificate()));
  std::size_t sent = 0;
  try {
    for (; sent < 100; ++sent) {
      client.sendRaw("\x0B");
      if (client.closedByPeer(100ms)) break;  // the pace
    }
  } catch (const Poco::Exception&) {  // writing to a connection the listener closed
  }
  BOOST_TEST(sent < 60u, sent);
  BOOST_TEST(waitFor([&] { return r.server.stats().stalled.load() == 1u; }));
}

BOOST_AUTO_TEST_CASE(a_stopped_tls_listener_refuses_new_connections) {
  Running r(tls(false));
  BOOST_TEST_REQUIRE(exchange(r.server.port(), clientTls(pki().caCertificate())).value() == "ACK:MSH|TLS");
  r.server.stop(5s);
  const int fd = connectRaw(r.server.port());
  BOOST_TEST(fd < 0);
  if (fd >= 0) ::close(fd);
}

BOOST_AUTO_TEST_CASE(bytes_outside_a_tls_frame_are_logged_once_a_connection) {
  Running r(tls(false));
  const Poco::AutoPtr<CountingChannel> counted(new CountingChannel);
  Poco::Logger& mllp = Poco::Logger::get("cpis.mllp");
  const Poco::AutoPtr<Poco::Channel> before(mllp.getChannel(), true);
  mllp.setChannel(counted);
  {
    ClientTls context;
    context.caFile = pki().caCertificate();
    MllpClient client("127.0.0.1", r.server.port(), 10s, context);
    client.sendRaw("noise");
    client.send("A");  // the frame after it: answered once the noise has been read
    BOOST_TEST(client.receive(10s).value() == "ACK:A");
    client.sendRaw("more noise");
    client.send("B");
    BOOST_TEST(client.receive(10s).value() == "ACK:B");
  }
  mllp.setChannel(before);
  BOOST_TEST(counted->count("sent 5 bytes outside a frame") == 1u);
  BOOST_TEST(counted->count("outside a frame") == 1u);
}

BOOST_AUTO_TEST_CASE(tls_client_gets_its_ack) {
  Running r(tls(false));
  BOOST_TEST(exchange(r.server.port(), clientTls(pki().caCertificate())).value() == "ACK:MSH|TLS");
}

BOOST_AUTO_TEST_CASE(encrypted_server_key_is_opened_with_its_passphrase) {
  auto settings = tls(false);
  settings.tls->privateKeyFile = pki().serverKeyEncrypted();
  settings.tls->privateKeyPassphrase = cpis::test::TestPki::kServerKeyPassphrase;
  Running r(settings);
  BOOST_TEST(exchange(r.server.port(), clientTls(pki().caCertificate())).value() == "ACK:MSH|TLS");
}

// A key that cannot be used is a start-up error that names the file and OpenSSL's own reason,
// never a prompt for a passphrase on the terminal (which blocked the engine's start for ever)
// nor an unrelated error left in OpenSSL's queue.
BOOST_AUTO_TEST_CASE(an_unusable_server_key_is_refused_with_its_reason_never_a_prompt) {
  const auto refusal = [](const std::string& key, const std::string& passphrase) {
    auto settings = tls(false);
    settings.tls->privateKeyFile = key;
    settings.tls->privateKeyPassphrase = passphrase;
    try {
      Running r(settings);
    } catch (const Poco::Exception& e) {
      return e.displayText();
    }
    return std::string("started");
  };
  const std::string encrypted = pki().serverKeyEncrypted();
  const std::string none = refusal(encrypted, "");
  BOOST_TEST(none.find("private key " + encrypted + ": cannot be read") != std::string::npos, none);
  BOOST_TEST(none.find("name its passphrase file") != std::string::npos, none);
  const std::string wrong = refusal(encrypted, "not-the-passphrase");
  BOOST_TEST(wrong.find("cannot be read") != std::string::npos, wrong);
  BOOST_TEST(wrong.find("not-the-passphrase") == std::string::npos, wrong);
  const std::string garbage = refusal(pki().caCertificate(), "");  // a certificate, not a key
  BOOST_TEST(garbage.find("cannot be read") != std::string::npos, garbage);
  BOOST_TEST(garbage.find("dh key too small") == std::string::npos, garbage);
}

BOOST_AUTO_TEST_CASE(plain_client_on_a_tls_listener_is_refused) {
  Running r(tls(false));
  MllpClient client("127.0.0.1", r.server.port(), 10s);
  client.send("MSH|PLAIN");
  BOOST_TEST(client.closedByPeer(10s));
  BOOST_TEST(waitFor([&] { return r.server.stats().tlsRefused.load() == 1; }));
  BOOST_TEST(r.handler.frameCount() == 0u);
}

BOOST_AUTO_TEST_CASE(mutual_tls_accepts_a_client_certificate_from_the_ca) {
  Running r(tls(true));
  const auto context =
      clientTls(pki().caCertificate(), pki().clientCertificate("epr01"), pki().clientKey("epr01"));
  BOOST_TEST(exchange(r.server.port(), context).value() == "ACK:MSH|TLS");
  BOOST_TEST(r.handler.subjects().at(0).find("CN=epr01") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_client_without_a_certificate) {
  Running r(tls(true));
  BOOST_TEST(!exchange(r.server.port(), clientTls(pki().caCertificate())).has_value());
  BOOST_TEST(waitFor([&] { return r.server.stats().tlsRefused.load() == 1; }));
  BOOST_TEST(r.handler.frameCount() == 0u);
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_certificate_from_another_ca) {
  Running r(tls(true));
  const auto context =
      clientTls(pki().caCertificate(), pki().clientCertificate("rogue"), pki().clientKey("rogue"));
  BOOST_TEST(!exchange(r.server.port(), context).has_value());
  BOOST_TEST(waitFor([&] { return r.server.stats().tlsRefused.load() == 1; }));
  BOOST_TEST(r.handler.frameCount() == 0u);
}

BOOST_AUTO_TEST_CASE(mutual_tls_refuses_a_subject_not_on_the_allow_list) {
  Running r(tls(true, {"epr01", "CN=nobody,O=Example Trust,C=GB"}));
  const auto allowed =
      clientTls(pki().caCertificate(), pki().clientCertificate("epr01"), pki().clientKey("epr01"));
  const auto other =
      clientTls(pki().caCertificate(), pki().clientCertificate("epr02"), pki().clientKey("epr02"));
  BOOST_TEST(exchange(r.server.port(), allowed).value() == "ACK:MSH|TLS");
  BOOST_TEST(!exchange(r.server.port(), other).has_value());
  BOOST_TEST(waitFor([&] { return r.server.stats().tlsRefused.load() == 1; }));
  BOOST_TEST(r.handler.frameCount() == 1u);
}

BOOST_AUTO_TEST_CASE(mutual_tls_allow_list_takes_either_distinguished_name_form) {
  for (const std::string allowed : {"/C=GB/O=Example Trust/CN=epr02", "CN=epr02, O=Example Trust, C=GB"}) {
    Running r(tls(true, {allowed}));
    const auto context =
        clientTls(pki().caCertificate(), pki().clientCertificate("epr02"), pki().clientKey("epr02"));
    BOOST_TEST(exchange(r.server.port(), context).value() == "ACK:MSH|TLS", allowed);
  }
}

// The allow-list compares the certificate's attributes, not a text made of them. A certificate
// from the trusted CA whose only attribute is a CN reading "CN=epr01,O=Example Trust,C=GB" was
// let in by that entry: every entry was also compared with the certificate's CN alone. A
// bare entry ("epr01") still names a CN.
BOOST_AUTO_TEST_CASE(mutual_tls_allow_list_is_not_fooled_by_a_subject_written_into_a_common_name) {
  const auto dn = clientTls(pki().caCertificate(), pki().clientCertificate("crafted-dn"), pki().clientKey("crafted-dn"));
  const auto crafted =
      clientTls(pki().caCertificate(), pki().clientCertificate("crafted"), pki().clientKey("crafted"));
  for (const std::string allowed : {"/C=GB/O=Example Trust/CN=epr01", "CN=epr01,O=Example Trust,C=GB", "epr01"}) {
    Running r(tls(true, {allowed}));
    BOOST_TEST(!exchange(r.server.port(), dn).has_value(), allowed);
    BOOST_TEST(!exchange(r.server.port(), crafted).has_value(), allowed);
    BOOST_TEST(waitFor([&] { return r.server.stats().tlsRefused.load() == 2; }));
  }
  // Named as what it is, one CN holding slashes, it is on the list.
  Running r(tls(true, {"CN=epr01/C=GB/O=Example Trust"}));
  BOOST_TEST(exchange(r.server.port(), crafted).value_or("<refused>") == "ACK:MSH|TLS");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mllp_server_deferred_answers)

// The store's writer answers from its own thread, after the commit: a handler that answers
// later, from elsewhere, in whatever order its work finishes.
class DeferredHandler final : public cpis::mllp::FrameHandler {
 public:
  std::string onFrame(std::string_view payload, const PeerInfo&) override { return "ACK:" + std::string(payload); }
  void onFrameAsync(std::string_view payload, const PeerInfo&, Reply reply) override {
    std::lock_guard lock(mutex_);
    pending_.emplace_back(std::string(payload), std::move(reply));
  }
  std::string onOversized(std::string_view, std::size_t, const PeerInfo&) override { return "AR"; }

  // Answers every frame handed over so far, from a thread of its own, newest first.
  void answerAllFromAnotherThread() {
    std::vector<std::pair<std::string, Reply>> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(pending_);
    }
    std::thread([batch = std::move(batch)]() mutable {
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) it->second("ACK:" + it->first);
    }).join();
  }
  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::string, Reply>> pending_;
};

// After a connection that went wrong, the listener serves the next one as ever.
void nextConnectionIsServed(MllpServer& server, DeferredHandler& handler) {
  MllpClient next("127.0.0.1", server.port(), 10s);
  next.send("NEXT");
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  handler.answerAllFromAnotherThread();
  BOOST_TEST(next.receive(10s).value() == "ACK:NEXT");
}

// Bound at construction (a port in use is found before the engine does anything), listening
// only from start(): until the engine is ready (recovery done) no connection completes, so a
// load balancer's TCP check fails and no sender waits through recovery. A server never started
// stops quietly.
BOOST_AUTO_TEST_CASE(a_server_listens_only_once_started) {
  DeferredHandler handler;
  {
    MllpServer unstarted(plain(), handler);
    BOOST_TEST(unstarted.port() != 0);
    BOOST_TEST(connectRaw(unstarted.port()) == -1);  // refused: bound, not listening
  }
  MllpServer server(plain(), handler);
  BOOST_TEST(connectRaw(server.port()) == -1);
  server.start();
  const int fd = connectRaw(server.port());
  BOOST_TEST(fd >= 0);
  if (fd >= 0) ::close(fd);
}

BOOST_AUTO_TEST_CASE(answers_from_another_thread_go_out_in_frame_order_one_frame_at_a_time) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  MllpClient a("127.0.0.1", server.port(), 10s);
  MllpClient b("127.0.0.1", server.port(), 10s);
  a.sendRaw(cpis::mllp::frame("A1") + cpis::mllp::frame("A2") + cpis::mllp::frame("A3"));
  b.send("B1");
  // One frame per connection is with the handler; the rest wait their turn.
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 2; }, 10s));
  for (const std::string expected : {"A1", "A2", "A3"}) {
    BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() >= 1; }, 10s));
    handler.answerAllFromAnotherThread();
    BOOST_TEST(a.receive(10s).value() == "ACK:" + expected);
  }
  BOOST_TEST(b.receive(10s).value() == "ACK:B1");
}

// While its frame is with a slow handler, a connection pipelining large frames is read only
// until about a megabyte waits behind it; the rest stays in the kernel (TCP's flow control), so
// the sender blocks. Counted in frames alone, 64 such frames (16 MiB here, 64 MiB at the default
// size limit) were read into memory per connection.
BOOST_AUTO_TEST_CASE(a_pipelining_sender_of_large_frames_is_read_only_to_a_megabyte_ahead) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  const int fd = connectRaw(server.port());
  BOOST_TEST_REQUIRE(fd >= 0);
  const timeval wait{1, 0};  // a send blocked this long: the listener has stopped reading
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
  const std::string framed = cpis::mllp::frame(std::string(256 * 1024, 'x'));
  bool blocked = false;
  for (int i = 0; i < 64 && !blocked; ++i) {
    std::size_t sent = 0;
    while (sent < framed.size()) {
      const ssize_t n = ::send(fd, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        blocked = true;
        break;
      }
      sent += static_cast<std::size_t>(n);
    }
  }
  // 16 MiB is more than the kernel's buffers hold by default, so the sender blocks; on a host
  // whose buffers hold it all it does not, and the count below says the same either way.
  BOOST_TEST_MESSAGE("the sender " << (blocked ? "blocked" : "sent it all"));
  BOOST_TEST(server.stats().frames.load() <= 8u, server.stats().frames.load());
  BOOST_TEST(handler.pending() == 1u);
  ::close(fd);
  handler.answerAllFromAnotherThread();
  server.stop(0ms);  // the frames still waiting are dropped: never acknowledged
}

BOOST_AUTO_TEST_CASE(a_peer_that_leaves_while_its_frame_is_with_the_handler_is_closed_once_answered) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  {
    MllpClient client("127.0.0.1", server.port(), 10s);
    client.send("GONE1");
    BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  }  // closed before its ACK: a half-closed peer may still read, so the connection waits
  BOOST_TEST(server.stats().active.load() == 1);
  handler.answerAllFromAnotherThread();  // the ACK is written (or the peer is found gone), then it closes
  BOOST_TEST_REQUIRE(waitFor([&] { return server.stats().active.load() == 0; }, 10s));
  nextConnectionIsServed(server, handler);
}

// A peer that ends its side and then resets the connection while its frame is with the
// handler: epoll reports the reset whatever the interest, so the connection is closed at once
// (it used to be reported again and again, a busy I/O thread, until the handler answered).
BOOST_AUTO_TEST_CASE(a_peer_that_ends_then_resets_while_its_frame_is_with_the_handler_is_closed_at_once) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  const int fd = connectRaw(server.port());
  BOOST_TEST_REQUIRE(fd >= 0);
  const std::string framed = cpis::mllp::frame("RESET1");
  BOOST_TEST_REQUIRE(::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(framed.size()));
  ::shutdown(fd, SHUT_WR);
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  const linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
  BOOST_TEST(waitFor([&] { return server.stats().active.load() == 0; }, 10s));
  handler.answerAllFromAnotherThread();  // to nobody: the peer is counted gone then, once
  BOOST_TEST(waitFor([&] { return server.stats().peerGone.load() == 1u; }, 10s));
  nextConnectionIsServed(server, handler);
}

// A sender that writes a frame, an oversized one behind it and more besides, and ends its side,
// all while its first frame is with the handler: once the AR is out both ends are shut, which
// epoll reports at once with the rest still unread. The listener reads the rest to the end
// before it closes: the sender gets both answers and an orderly end, never a reset.
BOOST_AUTO_TEST_CASE(the_rest_behind_an_oversized_frame_is_read_to_the_end_before_the_close) {
  DeferredHandler handler;
  auto settings = plain();
  settings.maxFrameBytes = 64 * 1024;
  MllpServer server(settings, handler);
  server.start();
  const int fd = connectRaw(server.port());
  BOOST_TEST_REQUIRE(fd >= 0);
  const std::string first = cpis::mllp::frame("FIRST");
  BOOST_TEST_REQUIRE(::send(fd, first.data(), first.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(first.size()));
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  // The oversized frame and what follows: as much as the buffers take without waiting.
  const std::string rest = cpis::mllp::frame(std::string(100 * 1024, 'x')) + std::string(4 << 20, 'y');
  std::size_t sent = 0;
  for (;;) {
    const ssize_t n = ::send(fd, rest.data() + sent, rest.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  BOOST_TEST_REQUIRE(sent > 256u * 1024);
  ::shutdown(fd, SHUT_WR);
  const auto droppedBefore = server.stats().droppedBytes.load();
  handler.answerAllFromAnotherThread();
  const timeval wait{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string received;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) received.append(buffer, static_cast<std::size_t>(n));
  const int error = n < 0 ? errno : 0;
  ::close(fd);
  BOOST_TEST(received == cpis::mllp::frame("ACK:FIRST") + cpis::mllp::frame("AR"));
  BOOST_TEST(n == 0, "the connection ended with errno " << error);
  BOOST_TEST(waitFor([&] { return server.stats().active.load() == 0; }, 10s));
  // The rest was read and dropped: all but the oversized frame and at most one read's worth
  // (64 KiB) taken with it.
  BOOST_TEST(server.stats().droppedBytes.load() - droppedBefore >= sent - 200u * 1024);
}

// Once it stops accepting, the listener's port refuses connections at once: before, the
// socket stayed open until the server object went, and the kernel completed connections (a
// load balancer's check passed, senders waited for ACKs) while the engine drained and closed
// its store.
BOOST_AUTO_TEST_CASE(a_stopping_listener_refuses_new_connections_while_it_drains) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  MllpClient client("127.0.0.1", server.port(), 10s);
  client.send("LAST");
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  server.stopAccepting(10s);
  const int fd = connectRaw(server.port());
  BOOST_TEST(fd < 0);
  if (fd >= 0) ::close(fd);
  handler.answerAllFromAnotherThread();  // the frame in hand is still answered
  BOOST_TEST(client.receive(10s).value() == "ACK:LAST");
  server.stop(10s);
  BOOST_TEST(client.closedByPeer(10s));
}

BOOST_AUTO_TEST_CASE(stop_waits_for_the_frame_with_the_handler_and_sends_its_ack) {
  DeferredHandler handler;
  MllpServer server(plain(), handler);
  server.start();
  MllpClient client("127.0.0.1", server.port(), 10s);
  client.send("LAST");
  BOOST_TEST_REQUIRE(waitFor([&] { return handler.pending() == 1; }, 10s));
  std::thread stopper([&] { server.stop(10s); });
  handler.answerAllFromAnotherThread();
  stopper.join();
  BOOST_TEST(client.receive(10s).value() == "ACK:LAST");
  BOOST_TEST(client.closedByPeer(10s));
}

BOOST_AUTO_TEST_SUITE_END()
