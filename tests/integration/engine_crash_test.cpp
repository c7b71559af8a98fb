// kill -9 at random moments: every message the engine acknowledged must be in the store, and
// processed once the engine has been restarted (recovery finishes what was in flight).
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <Poco/Exception.h>

#include "engine/hl7v2/message.h"
#include "engine/mllp/mllp_client.h"
#include "tests/integration/engine_fixture.h"
#include "tests/support/wait_for.h"

using namespace std::chrono_literals;
using cpis::test::a04;
using cpis::test::EngineFixture;
using cpis::test::EngineProcess;

BOOST_AUTO_TEST_SUITE(engine_crash)

BOOST_AUTO_TEST_CASE(every_acknowledged_message_survives_kill_9_and_is_processed_after_restart) {
  constexpr int kRounds = 20;
  constexpr int kConnections = 4;
  EngineFixture f;
  const std::string config =
      f.writeConfig(R"(<acknowledgement mode="original"/>)", R"(<logging format="text" level="warning"/>)");
  std::mt19937 random(20261125);  // fixed seed: the same kill points every run
  std::set<std::string> acknowledged;

  for (int round = 0; round < kRounds; ++round) {
    EngineProcess engine(CPIS_ENGINE_BINARY, {"--config", config});
    BOOST_TEST_REQUIRE(engine.waitReady(), engine.errors());
    const std::uint16_t port = engine.port("ed");
    const std::size_t killAfter = 5 + random() % 80;  // ACKs seen in this round before the kill
    std::atomic<std::size_t> acks{0};
    std::mutex mutex;
    std::vector<std::string> acked;
    std::vector<std::thread> senders;
    for (int c = 0; c < kConnections; ++c) {
      senders.emplace_back([&, c] {
        try {
          cpis::mllp::MllpClient client("127.0.0.1", port, 5s);
          for (int i = 0;; ++i) {
            const std::string id = "R" + std::to_string(round) + "C" + std::to_string(c) + "N" + std::to_string(i);
            client.send(a04(id));
            const auto ack = client.receive(10s);
            if (!ack) return;  // the engine is gone
            auto parsed = cpis::hl7v2::parse(*ack);
            if (parsed && parsed.value().get("MSA-1") == "AA" && parsed.value().get("MSA-2") == id) {
              std::lock_guard lock(mutex);
              acked.push_back(id);
            }
            acks.fetch_add(1);
          }
        } catch (const Poco::Exception&) {
          // connection reset by the kill
        }
      });
    }
    BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return acks.load() >= killAfter; }, 60s));
    engine.kill();
    for (auto& t : senders) t.join();
    acknowledged.insert(acked.begin(), acked.end());
  }

  EngineProcess last(CPIS_ENGINE_BINARY, {"--config", config});
  BOOST_TEST_REQUIRE(last.waitReady(), last.errors());
  BOOST_TEST(last.terminate() == 0);

  std::map<std::string, std::string> stored;
  for (const auto& [id, state] : f.storedMessages()) stored[id] = state;
  BOOST_TEST(acknowledged.size() >= std::size_t{kRounds * 5});
  std::size_t missing = 0;
  std::size_t unprocessed = 0;
  for (const auto& id : acknowledged) {
    const auto it = stored.find(id);
    if (it == stored.end()) {
      ++missing;
    } else if (it->second != "processed") {
      ++unprocessed;
    }
  }
  BOOST_TEST(missing == 0u);
  BOOST_TEST(unprocessed == 0u);
  for (const auto& [id, state] : stored) BOOST_TEST(state == "processed", id);
  BOOST_TEST_MESSAGE("crash test: " << kRounds << " kills, " << acknowledged.size() << " acknowledged, "
                                    << stored.size() << " stored, all processed");
}

BOOST_AUTO_TEST_SUITE_END()
