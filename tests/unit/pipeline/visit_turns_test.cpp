#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "engine/pipeline/visit_turns.h"
#include "engine/pipeline/work_queue.h"
#include "tests/support/wait_for.h"

namespace {

using cpis::pipeline::VisitTurns;
using cpis::pipeline::WorkQueue;

// What ran, in order, from any thread.
struct Log {
  std::mutex mutex;
  std::vector<std::string> entries;
  void add(std::string entry) {
    const std::lock_guard lock(mutex);
    entries.push_back(std::move(entry));
  }
  std::vector<std::string> taken() {
    const std::lock_guard lock(mutex);
    return entries;
  }
};

// A check of V1 running on the queue's one thread, held until release(). The queue is the
// last member, so it is stopped (its jobs, and the turns they end, finished) before the rest go.
struct RunningCheck {
  Log log;
  std::promise<void> began;
  std::promise<void> released;
  WorkQueue work{1, "test-turns"};
  VisitTurns turns{work};

  explicit RunningCheck(std::string name) {
    std::shared_future<void> go = released.get_future().share();
    BOOST_TEST_REQUIRE(work.submit([this, go, name] {
      turns.run("V1", [go, this, name] {
        began.set_value();
        go.wait();
        log.add(name);
      });
    }));
    began.get_future().wait();
  }
  ~RunningCheck() { work.stop(); }
  void release() { released.set_value(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(visit_turns)

// A check whose visit is being checked is parked, and its thread is free: another visit's check
// runs meanwhile; the parked one runs when the first ends.
BOOST_AUTO_TEST_CASE(a_check_of_a_busy_visit_is_parked_and_runs_when_the_turn_comes) {
  RunningCheck v1("V1 first");
  auto& turns = v1.turns;
  auto& log = v1.log;
  turns.run("V1", [&] { log.add("V1 second"); });  // parked: returns at once
  BOOST_TEST(turns.parked() == 1u);
  turns.run("V2", [&] { log.add("V2"); });  // another visit: runs here and now
  BOOST_TEST(log.taken() == std::vector<std::string>{"V2"});
  v1.release();
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return log.taken().size() == 3u; }));
  BOOST_TEST(log.taken() == (std::vector<std::string>{"V2", "V1 first", "V1 second"}));
  BOOST_TEST(turns.parked() == 0u);
}

// A thread waiting in take() (a connection's own thread, recovery) is in the same line as the
// parked checks: the turn passes in order of arrival, so checks parked after it do not go
// first (before, each parked check was queued ahead of it, and a steady stream of them could
// keep it waiting for ever).
BOOST_AUTO_TEST_CASE(a_waiting_thread_takes_its_turn_before_checks_parked_after_it) {
  RunningCheck v1("running");
  auto& turns = v1.turns;
  auto& log = v1.log;
  turns.run("V1", [&] { log.add("parked before"); });
  std::thread waiter([&] {
    const auto turn = turns.take("V1");
    log.add("waiter");
  });
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return turns.waiting() == 1u; }));
  turns.run("V1", [&] { log.add("parked after"); });
  v1.release();
  waiter.join();
  BOOST_TEST_REQUIRE(cpis::test::waitFor([&] { return log.taken().size() == 4u; }));
  BOOST_TEST(log.taken() == (std::vector<std::string>{"running", "parked before", "waiter", "parked after"}));
  // The visit is free again: a take() returns at once.
  const auto turn = turns.take("V1");
  BOOST_TEST(turns.waiting() == 0u);
}

// A waiting thread blocks only its own visit; no visit shares a turn with nothing.
BOOST_AUTO_TEST_CASE(an_empty_visit_never_waits) {
  WorkQueue work(1, "test-turns");
  VisitTurns turns(work);
  const auto held = turns.take("V1");
  const auto none = turns.take("");
  const auto other = turns.take("V2");
  bool ran = false;
  turns.run("", [&] { ran = true; });
  BOOST_TEST(ran);
  BOOST_TEST(turns.waiting() == 0u);
}

// As the queue stops, a check whose turn comes runs on the thread that ends the turn before it,
// still in its visit's turn: it is never dropped.
BOOST_AUTO_TEST_CASE(a_parked_check_runs_when_the_queue_has_stopped) {
  WorkQueue work(1, "test-turns");
  VisitTurns turns(work);
  Log log;
  {
    const auto held = turns.take("V1");
    turns.run("V1", [&] { log.add("parked"); });
    work.stop();
  }
  BOOST_TEST(log.taken() == std::vector<std::string>{"parked"});
  BOOST_TEST(turns.parked() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
