#pragma once

// What the notify tests share: a real SQLite store in a temporary folder, a clock that moves
// only when told, and attendances and outcomes of test patients (999 numbers).

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "engine/domain/attendance.h"
#include "engine/plugin/sink_plugin.h"
#include "engine/store/sqlite_message_store.h"
#include "tests/support/temp_dir.h"

namespace cpis::plugin {
inline std::ostream& operator<<(std::ostream& os, DeliveryResult::Kind kind) {
  switch (kind) {
    case DeliveryResult::Kind::Delivered: return os << "Delivered";
    case DeliveryResult::Kind::Retry: return os << "Retry";
    case DeliveryResult::Kind::Failed: return os << "Failed";
  }
  return os << "?";
}
}  // namespace cpis::plugin

namespace cpis::test {

class NotifyClock {
 public:
  std::function<store::TimePoint()> function() {
    return [this] { return now(); };
  }
  store::TimePoint now() const { return store::TimePoint(std::chrono::microseconds(micros_.load())); }
  void advance(std::chrono::microseconds by) { micros_ += by.count(); }

 private:
  std::atomic<std::int64_t> micros_{1'767'225'600'000'000};  // 2026-01-01T00:00:00Z
};

// A real SQLite store whose clock is `clock` (the dispatcher's, in the tests that move it).
struct StoreFixture {
  TempDir dir{"cpis-notify-test"};
  NotifyClock clock;
  std::unique_ptr<store::SqliteMessageStore> store = open(dir.file("store.db"), clock.function());

  static std::unique_ptr<store::SqliteMessageStore> open(const std::string& path,
                                                         std::function<store::TimePoint()> clock) {
    store::SqliteStoreOptions options;
    options.clock = std::move(clock);
    auto opened = store::SqliteMessageStore::open(path, options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? std::string() : opened.error().message()));
    return std::move(opened).value();
  }
  store::Outbox& outbox() { return store->outbox(); }
};

inline domain::Attendance child(std::string visit = "V1", std::string digits = "9990000018") {
  domain::Attendance a;
  a.feedId = "ed";
  a.controlId = "M1";
  a.triggerEvent = "A04";
  a.event = domain::AttendanceEvent::Start;
  a.nhsNumber = domain::NhsNumber::parse(digits);
  a.nhsStatus = domain::NhsNumberStatus::Nsts01;
  a.name = {"TESTCHILD", "ALEX"};
  a.birthDate = domain::Date{std::chrono::year(2015), std::chrono::month(4), std::chrono::day(3)};
  a.visitNumber = std::move(visit);
  a.locationKey = "EDMAJ";
  a.setting = domain::CareSetting::Ed;
  a.siteOdsCode = "RZZ01";
  return a;
}

inline domain::CheckOutcome found(std::string checkId = "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44") {
  domain::CheckOutcome o;
  o.status = domain::CheckStatus::Found;
  o.queried = domain::NhsNumber::parse("9990000018");
  o.mode = domain::AccessMode::Unscheduled;
  domain::CpisRecord record;
  record.la = {"XLA01", "Exampleshire County Council", "01632 960001", std::nullopt};
  record.plans.push_back({domain::PlanType::Cppi,
                          domain::Date{std::chrono::year(2025), std::chrono::month(3), std::chrono::day(1)},
                          std::nullopt});
  o.records.push_back(record);
  o.decidedAt = domain::Instant(std::chrono::milliseconds(1'767'225'600'000));
  o.checkId = std::move(checkId);
  o.source = domain::Source::Simulator;
  return o;
}

inline domain::CheckOutcome failed(std::string checkId = "7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311") {
  domain::CheckOutcome o;
  o.status = domain::CheckStatus::CheckFailed;
  o.reason = domain::ReasonCode::SpineUnavailable;
  o.reasonText = "HTTP 500";
  o.queried = domain::NhsNumber::parse("9990000018");
  o.mode = domain::AccessMode::Unscheduled;
  o.decidedAt = domain::Instant(std::chrono::milliseconds(1'767'225'600'000));
  o.checkId = std::move(checkId);
  o.source = domain::Source::Simulator;
  return o;
}

}  // namespace cpis::test
