#include "engine/cpis/concurrency_limit.h"

#include <atomic>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/wait_for.h"

using cpis::cpis::ConcurrencyLimit;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(concurrency_limit)

BOOST_AUTO_TEST_CASE(gives_out_at_most_its_limit) {
  ConcurrencyLimit limit(2);
  const auto now = std::chrono::steady_clock::now();
  auto a = limit.acquire(now);
  auto b = limit.acquire(now);
  BOOST_TEST(a.has_value());
  BOOST_TEST(b.has_value());
  BOOST_TEST(limit.inUse() == 2u);
  // A deadline already passed: no waiting, refused.
  BOOST_TEST(!limit.acquire(now).has_value());
  BOOST_TEST(limit.refused() == 1u);
  a.reset();
  BOOST_TEST(limit.inUse() == 1u);
  BOOST_TEST(limit.acquire(now).has_value());
}

BOOST_AUTO_TEST_CASE(a_waiter_gets_the_slot_that_frees) {
  ConcurrencyLimit limit(1);
  auto held = limit.acquire(std::chrono::steady_clock::now());
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto permit = limit.acquire(std::chrono::steady_clock::now() + 10s);
    got = permit.has_value();
  });
  BOOST_TEST(cpis::test::waitFor([&] { return limit.inUse() == 1u; }));
  held.reset();  // frees the slot: the waiter takes it
  waiter.join();
  BOOST_TEST(got.load());
  BOOST_TEST(limit.highWater() == 1u);
  BOOST_TEST(limit.inUse() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
