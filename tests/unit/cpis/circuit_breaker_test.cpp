#include "engine/cpis/circuit_breaker.h"

#include <boost/test/unit_test.hpp>

using cpis::cpis::CircuitBreaker;
using namespace std::chrono_literals;

namespace {

// Time moves only when the test says so.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::steady_clock::time_point() + 1h};
  CircuitBreaker::Clock clock() {
    return [this] { return now; };
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(circuit_breaker)

BOOST_AUTO_TEST_CASE(opens_after_the_threshold_of_failures_in_a_row) {
  FakeClock time;
  CircuitBreaker breaker({3, 10s}, time.clock());
  for (int i = 0; i < 2; ++i) {
    BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Allowed));
    breaker.recordFailure();
  }
  BOOST_TEST((breaker.state() == CircuitBreaker::State::Closed));
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Allowed));
  breaker.recordFailure();
  BOOST_TEST((breaker.state() == CircuitBreaker::State::Open));
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Rejected));
  BOOST_TEST(breaker.stats().opened == 1u);
  BOOST_TEST(breaker.stats().rejected == 1u);
}

BOOST_AUTO_TEST_CASE(a_success_resets_the_count) {
  FakeClock time;
  CircuitBreaker breaker({3, 10s}, time.clock());
  breaker.recordFailure();
  breaker.recordFailure();
  breaker.recordSuccess();
  breaker.recordFailure();
  breaker.recordFailure();
  BOOST_TEST((breaker.state() == CircuitBreaker::State::Closed));
}

BOOST_AUTO_TEST_CASE(stays_open_for_its_period_then_lets_one_probe_through) {
  FakeClock time;
  CircuitBreaker breaker({1, 10s}, time.clock());
  breaker.recordFailure();
  time.now += 9999ms;
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Rejected));
  time.now += 1ms;
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Probe));
  BOOST_TEST((breaker.state() == CircuitBreaker::State::HalfOpen));
  // Only one probe at a time.
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Rejected));
  breaker.recordSuccess();
  BOOST_TEST((breaker.state() == CircuitBreaker::State::Closed));
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Allowed));
}

BOOST_AUTO_TEST_CASE(a_failed_probe_opens_it_for_another_full_period) {
  FakeClock time;
  CircuitBreaker breaker({2, 10s}, time.clock());
  breaker.recordFailure();
  breaker.recordFailure();
  time.now += 10s;
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Probe));
  breaker.recordFailure();
  BOOST_TEST((breaker.state() == CircuitBreaker::State::Open));
  time.now += 5s;
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Rejected));
  time.now += 5s;
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Probe));
  BOOST_TEST(breaker.stats().opened == 2u);
}

BOOST_AUTO_TEST_CASE(a_probe_never_sent_hands_its_slot_back) {
  FakeClock time;
  CircuitBreaker breaker({1, 1s}, time.clock());
  breaker.recordFailure();
  time.now += 1s;
  const auto probe = breaker.admit();
  BOOST_TEST((probe == CircuitBreaker::Admission::Probe));
  breaker.release(probe);
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Probe));
}

BOOST_AUTO_TEST_CASE(threshold_zero_never_opens) {
  CircuitBreaker breaker({0, 1s});
  for (int i = 0; i < 100; ++i) breaker.recordFailure();
  BOOST_TEST((breaker.admit() == CircuitBreaker::Admission::Allowed));
}

BOOST_AUTO_TEST_SUITE_END()
