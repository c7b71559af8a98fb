#include "engine/pipeline/return_channel.h"

#include <mutex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_server.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;

namespace {

// The EPR's listener: answers each application ACK with MSA-1 `code` and MSA-2 `names` (empty:
// the ACK's own MSH-10).
class Epr final : public cpis::mllp::FrameHandler {
 public:
  std::string onFrame(std::string_view payload, const cpis::mllp::PeerInfo&) override {
    const std::lock_guard lock(mutex);
    ++answers;
    const auto sent = cpis::hl7v2::parse(payload);
    const std::string id = names.empty() && sent ? std::string(sent.value().controlId()) : names;
    return "MSH|^~\\&|EDSYS|RZZ|CPIS-ENGINE|RZZ|20261125||ACK|R1|P|2.4\rMSA|" + code + "|" + id + "\r";
  }
  std::string onOversized(std::string_view, std::size_t, const cpis::mllp::PeerInfo&) override { return {}; }
  std::mutex mutex;
  std::string code = "CA";
  std::string names;
  int answers = 0;
};

struct Delivered {
  std::mutex mutex;
  std::vector<std::pair<cpis::store::MessageId, std::string>> answers;  // (message, the EPR's answer)
  std::size_t size() {
    const std::lock_guard lock(mutex);
    return answers.size();
  }
};

const std::string kAck = "MSH|^~\\&|CPIS-ENGINE|RZZ|EDSYS|RZZ|20261125||ACK^A04^ACK|C1|P|2.4|||AL|NE\rMSA|AA|E1\r";

}  // namespace

BOOST_AUTO_TEST_SUITE(return_channel)

// An application ACK is delivered once the EPR acknowledges it by name (MSA-2 its MSH-10); an
// answer it refuses (AR) delivers it too, said to the caller; answers naming another message
// are tried again, and after five the ACK counts as delivered rather than hold the queue.
BOOST_AUTO_TEST_CASE(only_an_acknowledgement_naming_the_ack_delivers_it) {
  Epr epr;
  cpis::mllp::MllpServer server(cpis::mllp::ListenerSettings{}, epr);
  server.start();
  Delivered delivered;
  cpis::pipeline::ReturnChannelSettings settings;
  settings.feed = "ed";
  settings.host = "127.0.0.1";
  settings.port = server.port();
  settings.ackTimeout = 5s;
  settings.retryMin = 1ms;
  settings.retryMax = 2ms;
  cpis::pipeline::ReturnChannel channel(settings, [&](const cpis::pipeline::ApplicationAck& ack,
                                                      const std::string& answer) {
    const std::lock_guard lock(delivered.mutex);
    delivered.answers.emplace_back(ack.id, answer);
  });
  const auto application = [](cpis::store::MessageId id) {
    return cpis::pipeline::ApplicationAck{id, kAck, "C1", "AA", {}};
  };
  channel.submit(application(1));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return delivered.size() == 1u; }));
  {
    const std::lock_guard lock(epr.mutex);
    epr.code = "AR";
  }
  channel.submit(application(2));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return delivered.size() == 2u; }));
  int before = 0;
  {
    const std::lock_guard lock(epr.mutex);
    epr.code = "CA";
    epr.names = "SOMETHINGELSE";
    before = epr.answers;
  }
  channel.submit(application(3));
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return delivered.size() == 3u; }));
  channel.stop();
  server.stop();
  const std::lock_guard lock(delivered.mutex);
  BOOST_TEST(delivered.answers[0].second == "CA");
  BOOST_TEST(delivered.answers[1].second == "AR");
  BOOST_TEST(delivered.answers[2].first == 3);
  BOOST_TEST(delivered.answers[2].second == "no acknowledgement naming it");
  const std::lock_guard eprLock(epr.mutex);
  BOOST_TEST(epr.answers - before == 5);  // tried five times first
}

BOOST_AUTO_TEST_SUITE_END()
