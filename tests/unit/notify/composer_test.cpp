#include "engine/notify/composer.h"

#include <boost/test/unit_test.hpp>

#include "tests/unit/notify/notify_test_support.h"

using namespace cpis;
using namespace std::chrono_literals;
using notify::Composer;
using notify::ComposerSettings;
using notify::DataLevel;
using notify::SinkRoute;

namespace {

ComposerSettings threeSinks() {
  ComposerSettings s;
  s.sinks.push_back(SinkRoute{"team-minimal", {"plan-found", "check-failed"}, DataLevel::Minimal, false});
  s.sinks.push_back(SinkRoute{"team-ids", {"plan-found"}, DataLevel::Identifiers, true});
  s.sinks.push_back(SinkRoute{"team-full", {"plan-found", "cancelled"}, DataLevel::Full, false});
  s.feedsWithReturn.insert("ed");
  return s;
}

const notify::Notification& bySink(const notify::Notifications& all, std::string_view sink) {
  for (const auto& n : all) {
    if (n.sink == sink) return n;
  }
  BOOST_FAIL("no notification for sink " << sink);
  return all.front();
}

bool has(const std::string& payload, std::string_view text) {
  return payload.find(text) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(composer)

BOOST_AUTO_TEST_CASE(data_levels_parse_and_print) {
  for (const auto level : {DataLevel::Minimal, DataLevel::Identifiers, DataLevel::Full}) {
    BOOST_TEST((notify::parseDataLevel(notify::toString(level)) == level));
  }
  BOOST_TEST(!notify::parseDataLevel("everything").has_value());
  BOOST_TEST(!notify::parseDataLevel("Minimal").has_value());
}

BOOST_AUTO_TEST_CASE(minimal_carries_no_patient_identifiers_identifiers_adds_the_nhs_number_full_the_rest) {
  const Composer composer(threeSinks());
  const auto all = composer.compose(notify::kPlanFound, test::child(), test::found());
  BOOST_TEST_REQUIRE(all.size() == 3u);

  const std::string& minimal = bySink(all, "team-minimal").payload;
  for (const char* phi : {"9990000018", "TESTCHILD", "ALEX", "2015-04-03", "20150403"}) {
    BOOST_TEST(!has(minimal, phi), phi);
  }
  const auto fields = notify::payloadFields(minimal).value();
  const auto value = [&](std::string_view key) {
    for (const auto& [k, v] : fields) {
      if (k == key) return v;
    }
    return std::string("<absent>");
  };
  BOOST_TEST(value(notify::kKeyKind) == "plan-found");
  BOOST_TEST(value(notify::kKeyStatus) == "FOUND");
  BOOST_TEST(value(notify::kKeyFeed) == "ed");
  BOOST_TEST(value(notify::kKeyVisitNumber) == "V1");
  BOOST_TEST(value(notify::kKeyCheckId) == "3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44");
  BOOST_TEST(value(notify::kKeyOccurredAt) == "2026-01-01T00:00:00Z");
  BOOST_TEST(value(notify::kKeyPlanCount) == "1");
  BOOST_TEST(value(notify::kKeyPlanTypes) == "CPP");
  BOOST_TEST(value(notify::kKeyLaOds) == "XLA01");
  BOOST_TEST(value(notify::kKeyLaName) == "Exampleshire County Council");
  BOOST_TEST(value(notify::kKeyCareSetting) == "ED");
  BOOST_TEST(value(notify::kKeyNhsNumber) == "<absent>");
  BOOST_TEST(value(notify::kKeyPlans) == "<absent>");

  const std::string& identifiers = bySink(all, "team-ids").payload;
  BOOST_TEST(notify::payloadField(identifiers, notify::kKeyNhsNumber).value_or("") == "9990000018");
  for (const char* phi : {"TESTCHILD", "ALEX", "2015-04-03"}) BOOST_TEST(!has(identifiers, phi), phi);

  const std::string& full = bySink(all, "team-full").payload;
  BOOST_TEST(notify::payloadField(full, notify::kKeyNhsNumber).value_or("") == "9990000018");
  BOOST_TEST(notify::payloadField(full, notify::kKeyFamilyName).value_or("") == "TESTCHILD");
  BOOST_TEST(notify::payloadField(full, notify::kKeyGivenName).value_or("") == "ALEX");
  BOOST_TEST(notify::payloadField(full, notify::kKeyBirthDate).value_or("") == "2015-04-03");
  BOOST_TEST(notify::payloadField(full, notify::kKeyPlans).value_or("") ==
             "CPP|2025-03-01||XLA01|Exampleshire County Council|01632 960001");
}

BOOST_AUTO_TEST_CASE(only_subscribed_sinks_get_a_kind) {
  const Composer composer(threeSinks());
  const auto cancelled = composer.compose(notify::kCancelled, test::child(), test::found(), "A11-MSG");
  BOOST_TEST_REQUIRE(cancelled.size() == 1u);
  BOOST_TEST(cancelled.front().sink == "team-full");
  BOOST_TEST(cancelled.front().idempotencyKey == "cancelled:ed:V1:A11-MSG");
  BOOST_TEST(composer.compose(notify::kCheckAbandoned, test::child(), test::failed()).empty());
  BOOST_TEST(composer.subscribed(notify::kPlanFound));
  BOOST_TEST(!composer.subscribed(notify::kCheckAbandoned));
}

BOOST_AUTO_TEST_CASE(keys_name_kind_feed_visit_and_check_and_order_keys_never_the_nhs_number) {
  const Composer composer(threeSinks());
  const auto all = composer.compose(notify::kPlanFound, test::child(), test::found());
  for (const auto& n : all) {
    BOOST_TEST(n.idempotencyKey == "plan-found:ed:V1:3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44");
    BOOST_TEST(n.kind == "plan-found");
    BOOST_TEST(n.orderKey.find("9990000018") == std::string::npos);
  }
  BOOST_TEST(bySink(all, "team-ids").orderKey == "ed:V1");  // the ordered sink
  BOOST_TEST(bySink(all, "team-minimal").orderKey.empty());
  // A second check of the same attendance is a different notification.
  const auto again = composer.compose(notify::kPlanFound, test::child(), test::found("SECOND-CHECK"));
  BOOST_TEST(again.front().idempotencyKey == "plan-found:ed:V1:SECOND-CHECK");
}

BOOST_AUTO_TEST_CASE(after_a_check_found_unscheduled_plan_found_scheduled_nothing) {
  const Composer composer(threeSinks());
  const auto unscheduled = composer.afterCheck(test::child(), test::found(), store::MessageId{42});
  BOOST_TEST(unscheduled.size() == 3u);
  for (const auto& n : unscheduled) {
    BOOST_TEST(n.kind == "plan-found");
    BOOST_TEST(n.messageId.value_or(0) == 42);
  }
  auto silent = test::found();
  silent.mode = domain::AccessMode::Scheduled;
  BOOST_TEST(composer.afterCheck(test::child(), silent).empty());
  auto silentFailure = test::failed();
  silentFailure.mode = domain::AccessMode::Scheduled;
  BOOST_TEST(composer.afterCheck(test::child(), silentFailure).empty());
  auto none = test::found();
  none.status = domain::CheckStatus::NotFound;
  none.records.clear();
  BOOST_TEST(composer.afterCheck(test::child(), none).empty());
}

BOOST_AUTO_TEST_CASE(a_failed_unscheduled_check_is_deferred_and_reported) {
  auto settings = threeSinks();
  settings.deferredCheckDelay = 30s;
  settings.deferredCheckDeadline = std::chrono::hours(24);
  const Composer composer(settings);
  const auto all = composer.afterCheck(test::child(), test::failed(), store::MessageId{7});
  BOOST_TEST_REQUIRE(all.size() == 2u);
  const auto& deferred = bySink(all, notify::kRecheckSink);
  BOOST_TEST(deferred.kind == "deferred-check");
  BOOST_TEST(deferred.idempotencyKey == "deferred-check:ed:V1:7D0E4B52-1C3A-4F7E-B6A8-5E2F90C4D311");
  const store::TimePoint failedAt = test::failed().decidedAt;
  BOOST_TEST((deferred.notBefore == failedAt + 30s));
  BOOST_TEST((deferred.deadline == failedAt + std::chrono::hours(24)));
  // The re-run needs the attendance: the payload (which stays in the store) holds it.
  const auto attendance = notify::attendanceFromPayload(deferred.payload);
  BOOST_TEST_REQUIRE(attendance.has_value());
  BOOST_TEST(attendance->feedId == "ed");
  BOOST_TEST(attendance->visitNumber == "V1");
  BOOST_TEST(attendance->nhsNumber->reveal() == "9990000018");
  BOOST_TEST(attendance->locationKey == "EDMAJ");
  BOOST_TEST((attendance->birthDate == test::child().birthDate));
  BOOST_TEST(bySink(all, "team-minimal").kind == "check-failed");
  BOOST_TEST(!attendance->locationTerms.acceptUnverifiedNhsNumber.has_value());  // the feed's
  // The location's word on unverified numbers travels with it (a merge's surviving number is
  // judged by it when the check is made again).
  for (const bool accept : {true, false}) {
    auto atLocation = test::child();
    atLocation.locationTerms.acceptUnverifiedNhsNumber = accept;
    const auto again = notify::attendanceFromPayload(composer.deferredCheck(atLocation, test::failed(), std::nullopt).payload);
    BOOST_TEST_REQUIRE(again.has_value());
    BOOST_TEST((again->locationTerms.acceptUnverifiedNhsNumber == accept));
  }

  settings.deferredChecks = false;
  const auto withoutRecheck = Composer(settings).afterCheck(test::child(), test::failed());
  BOOST_TEST_REQUIRE(withoutRecheck.size() == 1u);
  BOOST_TEST(withoutRecheck.front().kind == "check-failed");
}

// CPIS.md §7: a sink's notification is retried with back-off for a grace period, then
// dead-lettered with an ops alert; counted from when it is written (a check-abandoned composed
// a day after its failed check gets the whole window too).
BOOST_AUTO_TEST_CASE(a_sinks_notification_is_tried_for_the_delivery_window_from_when_it_is_written) {
  auto settings = threeSinks();
  settings.deliveryDeadline = std::chrono::hours(36);
  const Composer composer(settings);
  const auto before = std::chrono::system_clock::now();
  const auto all = composer.compose(notify::kPlanFound, test::child(), test::found());
  const auto after = std::chrono::system_clock::now();
  BOOST_TEST_REQUIRE(!all.empty());
  for (const auto& n : all) {
    BOOST_TEST_REQUIRE(n.deadline.has_value());
    BOOST_TEST((*n.deadline >=
                std::chrono::time_point_cast<std::chrono::milliseconds>(before) + std::chrono::hours(36)));
    BOOST_TEST((*n.deadline <= after + std::chrono::hours(36)));
  }
}

BOOST_AUTO_TEST_CASE(a_late_result_only_for_feeds_with_a_return_connection) {
  const Composer composer(threeSinks());
  const auto late = composer.lateResult(test::child(), test::found(), "FAILED-CHECK", "MSH|^~\\&|X\r", 5);
  BOOST_TEST_REQUIRE(late.has_value());
  BOOST_TEST(late->sink == "epr-return:ed");
  BOOST_TEST(late->idempotencyKey == "late-result:ed:V1:FAILED-CHECK");
  BOOST_TEST(notify::payloadField(late->payload, notify::kKeyHl7).value_or("") == "MSH|^~\\&|X\r");
  auto elsewhere = test::child();
  elsewhere.feedId = "ward";
  BOOST_TEST(!composer.lateResult(elsewhere, test::found(), "C", "MSH", 5).has_value());
}

BOOST_FIXTURE_TEST_CASE(the_same_notification_written_twice_is_stored_once, test::StoreFixture) {
  const Composer composer(threeSinks());
  const auto all = composer.afterCheck(test::child(), test::found());
  const auto written = notify::views(all);
  BOOST_TEST_REQUIRE(outbox().enqueue(written).isOk());
  BOOST_TEST_REQUIRE(outbox().enqueue(written).isOk());  // a replayed attendance
  const auto counts = outbox().counts(std::nullopt);
  BOOST_TEST_REQUIRE(counts.ok());
  BOOST_TEST(counts.value().pending == 3u);
  const auto listed = outbox().list(store::OutboxFilter{});
  BOOST_TEST_REQUIRE(listed.ok());
  for (const auto& entry : listed.value()) {
    BOOST_TEST(entry.kind == "plan-found");
    BOOST_TEST(entry.idempotencyKey == "plan-found:ed:V1:3F2A6C1E-8B4D-4E21-9A57-0C9D2E7B1F44");
  }
}

BOOST_AUTO_TEST_SUITE_END()
