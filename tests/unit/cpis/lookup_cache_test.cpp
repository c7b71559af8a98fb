#include "engine/cpis/lookup_cache.h"

#include <boost/test/unit_test.hpp>

using cpis::cpis::LookupCache;
using cpis::cpis::LookupResult;
using cpis::domain::AccessMode;
using cpis::domain::CheckStatus;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::steady_clock::time_point() + 1h};
  LookupCache::Clock clock() {
    return [this] { return now; };
  }
};

cpis::domain::NhsNumber number(const char* digits = "9990000018") { return *cpis::domain::NhsNumber::parse(digits); }

LookupResult found() {
  LookupResult r;
  r.status = CheckStatus::Found;
  cpis::domain::CpisRecord record;
  record.la.odsCode = "XLA01";
  r.records.push_back(record);
  r.transportMessageId = "A";
  return r;
}

LookupResult notFound() {
  LookupResult r;
  r.status = CheckStatus::NotFound;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lookup_cache)

BOOST_AUTO_TEST_CASE(off_by_default_remembers_nothing) {
  LookupCache cache(0ms);
  BOOST_TEST(!cache.enabled());
  cache.put(number(), AccessMode::Unscheduled, found());
  BOOST_TEST(!cache.get(number(), AccessMode::Unscheduled).has_value());
}

BOOST_AUTO_TEST_CASE(answers_the_same_number_and_mode_until_the_ttl_passes) {
  FakeClock time;
  LookupCache cache(5s, 100, time.clock());
  cache.put(number(), AccessMode::Scheduled, found());
  time.now += 4999ms;
  const auto hit = cache.get(number(), AccessMode::Scheduled);
  BOOST_REQUIRE(hit.has_value());
  BOOST_TEST((hit->status == CheckStatus::Found));
  BOOST_TEST(hit->transportMessageId == "A");
  time.now += 1ms;
  BOOST_TEST(!cache.get(number(), AccessMode::Scheduled).has_value());
  BOOST_TEST(cache.hits() == 1u);
}

BOOST_AUTO_TEST_CASE(never_crosses_access_modes) {
  FakeClock time;
  LookupCache cache(60s, 100, time.clock());
  cache.put(number(), AccessMode::Scheduled, found());
  // A silent read must never answer an unscheduled check (the LA would not be told).
  BOOST_TEST(!cache.get(number(), AccessMode::Unscheduled).has_value());
  cache.put(number(), AccessMode::Unscheduled, notFound());
  BOOST_TEST((cache.get(number(), AccessMode::Unscheduled)->status == CheckStatus::NotFound));
  BOOST_TEST((cache.get(number(), AccessMode::Scheduled)->status == CheckStatus::Found));
  BOOST_TEST(!cache.get(number("9993000000"), AccessMode::Scheduled).has_value());
}

BOOST_AUTO_TEST_CASE(failures_are_never_remembered) {
  LookupCache cache(60s);
  cache.put(number(), AccessMode::Scheduled,
            LookupResult::failed(cpis::domain::ReasonCode::Timeout, "no reply", true));
  BOOST_TEST(!cache.get(number(), AccessMode::Scheduled).has_value());
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(stays_within_its_size) {
  FakeClock time;
  LookupCache cache(60s, 2, time.clock());
  cache.put(number("9990000018"), AccessMode::Scheduled, found());
  time.now += 1s;
  cache.put(number("9990000026"), AccessMode::Scheduled, found());
  time.now += 1s;
  cache.put(number("9990000034"), AccessMode::Scheduled, found());
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST(!cache.get(number("9990000018"), AccessMode::Scheduled).has_value());  // the oldest went
  BOOST_TEST(cache.get(number("9990000034"), AccessMode::Scheduled).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
