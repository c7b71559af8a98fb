#include "engine/pipeline/decide.h"

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cpis::pipeline;
using namespace cpis::domain;
using namespace std::chrono;

namespace {

Instant at(sys_days day, hours h, minutes m = 0min) {
  return Instant{day + h + m};
}

// 12 June 2025, 13:29 UTC (14:29 in London).
const Instant kArrival = at(2025y / 6 / 12, 13h, 29min);

NhsNumber nhs(std::string_view digits) {
  return NhsNumber::parse(digits).value();
}

// A child's ED registration that passes every rule: the base the cases below change.
Attendance child() {
  Attendance a;
  a.feedId = "rzz-ed";
  a.controlId = "ED0000789";
  a.triggerEvent = "A04";
  a.event = AttendanceEvent::Start;
  a.nhsNumber = nhs("9990000018");
  a.nhsStatus = NhsNumberStatus::Nsts01;
  a.birthDate = 2015y / 4 / 3;
  a.visitNumber = "A250612001";
  a.arrivedAt = kArrival;
  a.locationKey = "RZZ01/EDMAJ";
  a.setting = CareSetting::Ed;
  return a;
}

struct FakeClock {
  Instant now = kArrival + 1min;
  std::function<Instant()> clock() {
    return [this] { return now; };
  }
};

struct DecideFixture {
  FakeClock time;
  InMemoryCheckMemory memory{time.clock()};
  DecisionPolicy policy;

  Decision decide(const Attendance& a) { return Decider(policy, time.clock(), memory).decide(a); }
};

struct ReasonCase {
  std::function<void(Attendance&, DecisionPolicy&)> change;
  std::optional<ReasonCode> reason;  // nullopt: check due
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const ReasonCase& c) {
  return os << c.why;
}

const std::vector<ReasonCase> kReasons{
    {[](Attendance&, DecisionPolicy&) {}, std::nullopt, "a child at an ED: check due"},
    {[](Attendance&, DecisionPolicy& p) { p.enabled = false; }, ReasonCode::Disabled, "feed disabled"},
    {[](Attendance& a, DecisionPolicy&) { a.locationTerms.enabled = false; }, ReasonCode::Disabled,
     "location disabled"},
    {[](Attendance& a, DecisionPolicy&) { a.event = AttendanceEvent::NotAnAttendance; },
     ReasonCode::NotAnAttendance, "A28: not an attendance"},
    {[](Attendance& a, DecisionPolicy&) { a.event = AttendanceEvent::End; }, ReasonCode::NotAnAttendance,
     "A03 ends the attendance"},
    {[](Attendance& a, DecisionPolicy&) { a.event = AttendanceEvent::Cancel; }, ReasonCode::NotAnAttendance,
     "A11 cancels it"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.event = AttendanceEvent::Merge;
       p.enabled = false;
     },
     ReasonCode::NotAnAttendance, "A40 merges two records: not an attendance, whatever the feed's switch"},
    {[](Attendance& a, DecisionPolicy&) { a.setting.reset(); }, ReasonCode::LocationUnmapped,
     "unmapped location"},
    {[](Attendance& a, DecisionPolicy&) { a.setting = CareSetting::OutOfScope; },
     ReasonCode::SettingOutOfScope, "out of scope"},
    {[](Attendance& a, DecisionPolicy&) { a.nhsNumber.reset(); }, ReasonCode::NoNhsNumber, "no NHS number"},
    {[](Attendance& a, DecisionPolicy&) {
       a.nhsNumber.reset();
       a.nhsNumberProblem = "NHS number fails modulus 11 (wrong check digit)";
       a.refusedNhsNumber = RefusedNhsNumber("9990000019");
     },
     ReasonCode::NhsNumberInvalid, "invalid NHS number"},
    {[](Attendance& a, DecisionPolicy&) {
       a.nhsNumber.reset();
       a.nhsNumberProblem = "the message carries two different NHS numbers in PID-3";
     },
     ReasonCode::NoNhsNumber, "two different valid numbers: none to use, though neither is invalid"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.pregnancyUnreadable = true;
     },
     std::nullopt, "an adult whose pregnancy value could not be read: checked as if pregnant"},
    {[](Attendance& a, DecisionPolicy&) { a.nhsStatus = NhsNumberStatus::Nsts02; },
     ReasonCode::NhsNumberUnverified, "NSTS02: not traced"},
    {[](Attendance& a, DecisionPolicy&) { a.nhsStatus = NhsNumberStatus::Absent; },
     ReasonCode::NhsNumberUnverified, "no trace status"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Nsts02;
       p.acceptUnverifiedNhsNumber = true;
     },
     std::nullopt, "NSTS02 accepted by the feed's switch"},
    {[](Attendance& a, DecisionPolicy&) {
       a.nhsStatus = NhsNumberStatus::Nsts08;
       a.locationTerms.acceptUnverifiedNhsNumber = true;
     },
     std::nullopt, "NSTS08 accepted by the location's switch"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Nsts02;
       p.acceptUnverifiedNhsNumber = true;
       a.locationTerms.acceptUnverifiedNhsNumber = false;
     },
     ReasonCode::NhsNumberUnverified, "the location's switch off beats the feed's on"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Nsts04;
       p.acceptUnverifiedNhsNumber = true;
     },
     ReasonCode::NhsNumberUnverified, "NSTS04 (no match) never accepted"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Absent;
       p.acceptUnverifiedNhsNumber = true;
     },
     ReasonCode::NhsNumberUnverified,
     "no status at all is not NSTS02 or NSTS08: that switch does not admit it"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Absent;
       p.acceptMissingTraceStatus = true;
     },
     std::nullopt, "no status at all accepted by the feed's own switch for it"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Nsts02;
       p.acceptMissingTraceStatus = true;
     },
     ReasonCode::NhsNumberUnverified, "the switch for no status admits no NSTS02"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Absent;
       p.acceptMissingTraceStatus = true;
       a.locationTerms.acceptMissingTraceStatus = false;
     },
     ReasonCode::NhsNumberUnverified, "the location's switch for no status, off, beats the feed's"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Absent;
       a.nhsStatusUnreadable = true;  // "4", say: perhaps NSTS04
       p.acceptUnverifiedNhsNumber = true;
       p.acceptMissingTraceStatus = true;
       a.locationTerms.acceptUnverifiedNhsNumber = true;
     },
     ReasonCode::NhsNumberUnverified, "an unreadable status is not 'no status': never accepted"},
    {[](Attendance& a, DecisionPolicy& p) {
       a.nhsStatus = NhsNumberStatus::Nsts02;
       p.verifiedStatuses = {NhsNumberStatus::Nsts01, NhsNumberStatus::Nsts02};
     },
     std::nullopt, "verified statuses are configurable"},
    {[](Attendance&, DecisionPolicy& p) { p.environment = Environment::Live; }, ReasonCode::TestNumberInLive,
     "999 number in LIVE"},
    {[](Attendance& a, DecisionPolicy& p) {
       p.environment = Environment::Live;
       a.nhsNumber = nhs("3333333333");
     },
     ReasonCode::TestNumberInLive, "placeholder in LIVE"},
    {[](Attendance& a, DecisionPolicy& p) {
       p.environment = Environment::Live;
       p.refusePlaceholdersInLive = false;
       a.nhsNumber = nhs("3333333333");
     },
     std::nullopt, "placeholders allowed by switch"},
    {[](Attendance& a, DecisionPolicy&) { a.nhsNumber = nhs("3333333333"); }, std::nullopt,
     "placeholder in TEST"},
    {[](Attendance& a, DecisionPolicy&) { a.birthDate = 2007y / 6 / 12; }, ReasonCode::AgeOutOfScope,
     "18th birthday on the day of arrival"},
    {[](Attendance& a, DecisionPolicy&) { a.birthDate = 2007y / 6 / 13; }, std::nullopt, "17 until tomorrow"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 2007y / 6 / 12;
       a.arrivedAt = at(2025y / 6 / 11, 23h, 30min);  // 00:30 on the 12th in London
     },
     ReasonCode::AgeOutOfScope, "late-night arrival: the London date is the birthday"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 2015y / 4 / 3;
       a.arrivedAt = at(2035y / 6 / 12, 13h, 29min);  // a mistyped year: the child would be 20
     },
     std::nullopt, "an arrival after now never ages a child out: the age now counts"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 2007y / 1 / 13;
       a.arrivedAt = at(2025y / 1 / 12, 23h, 30min);  // GMT: still the 12th
     },
     std::nullopt, "winter late-night arrival: still 17"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.pregnant = true;
     },
     std::nullopt, "a pregnant adult: unborn child plans"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.expectedDeliveryDate = 2025y / 9 / 2;
     },
     std::nullopt, "an adult with an expected delivery date and no pregnancy status: pregnant"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.expectedDeliveryDate = 2025y / 5 / 29;  // arrival 12 June: two weeks past
     },
     std::nullopt, "a delivery date two weeks past (42 weeks): still pregnant"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.expectedDeliveryDate = 2025y / 5 / 28;
     },
     ReasonCode::AgeOutOfScope, "a delivery date over two weeks past: another pregnancy's"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.expectedDeliveryDate = 2026y / 4 / 16;  // 44 weeks after 12 June 2025
     },
     std::nullopt, "a delivery date 44 weeks ahead: pregnant"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.expectedDeliveryDate = 2062y / 3 / 1;
     },
     ReasonCode::AgeOutOfScope, "a delivery date years ahead: a mistyped year, not a pregnancy"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.setting = CareSetting::Maternity;
     },
     std::nullopt, "maternity has no age limit"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 2009y / 1 / 1;
       a.locationTerms.maxAgeYears = 16;
     },
     ReasonCode::AgeOutOfScope, "a lower age limit at the location"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 2005y / 1 / 1;
       a.locationTerms.maxAgeYears = 25;
     },
     std::nullopt, "age limit per location (leaving care services)"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.locationTerms.maxAgeYears = kNoAgeLimit;
     },
     std::nullopt, "no age limit at the location"},
    {[](Attendance& a, DecisionPolicy&) {
       a.birthDate = 1990y / 1 / 1;
       a.setting = CareSetting::Maternity;
       a.locationTerms.maxAgeYears = 18;
     },
     ReasonCode::AgeOutOfScope, "a maternity location given an age limit keeps it"},
    {[](Attendance& a, DecisionPolicy&) { a.birthDate.reset(); }, std::nullopt,
     "no birth date: checked anyway"},
    {[](Attendance& a, DecisionPolicy&) { a.scheduledOnly = true; }, ReasonCode::NotAnAttendance,
     "A05 at an unscheduled location"},
    {[](Attendance& a, DecisionPolicy&) {
       a.scheduledOnly = true;
       a.setting = CareSetting::Camhs;
     },
     std::nullopt, "A05 at a scheduled location: silent read"},
    // Precedence: the first rule that fails names the reason.
    {[](Attendance& a, DecisionPolicy&) {
       a.setting.reset();
       a.nhsNumber.reset();
     },
     ReasonCode::LocationUnmapped, "unmapped before no NHS number"},
    {[](Attendance& a, DecisionPolicy&) {
       a.nhsStatus = NhsNumberStatus::Nsts03;
       a.birthDate = 1990y / 1 / 1;
     },
     ReasonCode::NhsNumberUnverified, "unverified before age"},
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(decide, DecideFixture)

BOOST_DATA_TEST_CASE_F(DecideFixture, each_rule_and_its_reason, boost::unit_test::data::make(kReasons), c) {
  Attendance a = child();
  c.change(a, policy);
  const Decision d = decide(a);
  if (c.reason) {
    BOOST_TEST((d.kind == DecisionKind::NotChecked));
    BOOST_TEST((d.reason == c.reason), codeOf(d.reason.value_or(ReasonCode::InternalError)));
    BOOST_TEST(!d.reasonText.empty());
    BOOST_TEST(d.reasonText.find("9990000018") == std::string::npos);  // never the number
  } else {
    BOOST_TEST((d.kind == DecisionKind::CheckDue), d.reasonText);
    BOOST_TEST(d.mode.has_value());
    BOOST_TEST(!d.reason.has_value());
  }
}

BOOST_AUTO_TEST_CASE(a_missing_birth_date_is_noted) {
  Attendance a = child();
  a.birthDate.reset();
  const Decision d = decide(a);
  BOOST_TEST((d.kind == DecisionKind::CheckDue));
  BOOST_TEST(d.birthDateMissing);
  BOOST_TEST(!decide(child()).birthDateMissing);
}

BOOST_AUTO_TEST_CASE(the_age_rule_uses_the_clock_without_an_arrival_time) {
  Attendance a = child();
  a.arrivedAt.reset();
  a.birthDate = 2007y / 6 / 13;
  BOOST_TEST((decide(a).kind == DecisionKind::CheckDue));
  time.now = at(2025y / 6 / 13, 9h);
  const Decision d = decide(a);
  BOOST_TEST((d.reason == ReasonCode::AgeOutOfScope));
  // The text does not claim an arrival the message did not give.
  BOOST_TEST(d.reasonText ==
             "aged 18 or over today (the message gives no arrival time) (limit for ED), and not recorded as "
             "pregnant");
  a.arrivedAt = at(2025y / 6 / 13, 8h);
  BOOST_TEST(decide(a).reasonText ==
             "aged 18 or over at arrival (limit for ED), and not recorded as pregnant");
}

BOOST_AUTO_TEST_CASE(access_mode_precedence) {
  Attendance a = child();
  a.setting = CareSetting::Camhs;
  a.locationKey = "RZZ01/CAMHS";
  BOOST_TEST((decide(a).mode == AccessMode::Scheduled));  // CPIS.md section 8 default
  a.accessMode = AccessMode::Unscheduled;
  BOOST_TEST((decide(a).mode == AccessMode::Unscheduled));  // the mapping's mode beats it
  BOOST_TEST((decide(a).kind == DecisionKind::CheckDue));
}

// Hazard H5: in LIVE, a mode that comes from the built-in default (an adapter plugin set a care
// setting the configuration states no mode for) is reported; a stated one, a TEST engine and an
// out-of-scope setting are not.
BOOST_AUTO_TEST_CASE(a_live_mode_from_the_default_is_told_apart) {
  Attendance a = child();
  a.setting = CareSetting::Camhs;
  policy.environment = Environment::Live;
  const auto byDefault = [&] { return Decider(policy, time.clock(), memory).liveModeByDefault(a); };
  BOOST_TEST(byDefault());
  a.accessMode = AccessMode::Scheduled;
  BOOST_TEST(!byDefault());
  a.accessMode.reset();
  a.setting = CareSetting::OutOfScope;
  BOOST_TEST(!byDefault());
  a.setting = CareSetting::Camhs;
  policy.environment = Environment::Test;
  BOOST_TEST(!byDefault());
}

BOOST_AUTO_TEST_CASE(out_of_scope_alerts_can_be_silenced) {
  Attendance a = child();
  a.setting = CareSetting::OutOfScope;
  BOOST_TEST(decide(a).emitAlert);
  policy.emitOutOfScope = false;
  BOOST_TEST(!decide(a).emitAlert);
  a.locationTerms.emitOutOfScope = true;
  BOOST_TEST(decide(a).emitAlert);
  policy.emitOutOfScope = true;
  a.locationTerms.emitOutOfScope = false;
  BOOST_TEST(!decide(a).emitAlert);
  // Every other reason always gets its alert.
  a.setting = CareSetting::Ed;
  a.nhsNumber.reset();
  BOOST_TEST(decide(a).emitAlert);
}

// The update rules of CPIS.md section 4 --------------------------------------------------

namespace {

CheckOutcome outcome(CheckStatus status, Instant decidedAt,
                     std::optional<AccessMode> mode = AccessMode::Unscheduled) {
  CheckOutcome o;
  o.status = status;
  o.decidedAt = decidedAt;
  o.mode = mode;
  o.checkId = "00000000-0000-4000-8000-000000000001";
  if (status == CheckStatus::CheckFailed) o.reason = ReasonCode::Timeout;
  return o;
}

struct UpdateCase {
  CheckStatus previous;
  std::function<void(Attendance&)> change;  // the update compared with the checked start
  minutes after;                            // how long after the first check
  AttendanceEvent event;
  DecisionKind expected;
  std::string_view why;
};
std::ostream& operator<<(std::ostream& os, const UpdateCase& c) {
  return os << c.why;
}

const auto kSame = [](Attendance&) {};
const auto kToWard7 = [](Attendance& a) {
  a.setting = CareSetting::PaedWard;
  a.locationKey = "RZZ01/WARD7";
};
const std::vector<UpdateCase> kUpdates{
    {CheckStatus::Found, kSame, 30min, AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "A08, nothing changed"},
    {CheckStatus::Found, [](Attendance& a) { a.nhsStatus = NhsNumberStatus::Absent; }, 30min,
     AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "a partial A08 without PID-32, on the number verified and checked: its check repeated"},
    {CheckStatus::Found, [](Attendance& a) { a.nhsStatus = NhsNumberStatus::Nsts02; }, 30min,
     AttendanceEvent::Update, DecisionKind::NotChecked, "an A08 that says the number is not verified now"},
    {CheckStatus::Found,
     [](Attendance& a) {
       a.nhsStatus = NhsNumberStatus::Absent;
       a.nhsStatusUnreadable = true;
     },
     30min, AttendanceEvent::Update, DecisionKind::NotChecked, "an A08 whose PID-32 nobody can read"},
    {CheckStatus::NotFound, kSame, 600min, AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "A08 hours later, nothing changed"},
    {CheckStatus::Found, [](Attendance& a) { a.nhsNumber = NhsNumber::parse("9990000026"); }, 30min,
     AttendanceEvent::Update, DecisionKind::CheckDue, "A08: the NHS number changed"},
    {CheckStatus::Found, [](Attendance& a) { a.department = "EDPAED"; }, 30min, AttendanceEvent::Update,
     DecisionKind::RepeatPrevious, "A02 ED to paediatric ED: same mode"},
    {CheckStatus::Found, kToWard7, 30min, AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "A02 ED to paediatric ward: still unscheduled"},
    {CheckStatus::Found,
     [](Attendance& a) {
       a.setting = CareSetting::Camhs;
       a.locationKey = "RZZ01/CAMHS";
     },
     30min, AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "A02 into a scheduled setting: the unscheduled check's answer covers it, no silent read"},
    {CheckStatus::CheckFailed, kSame, 2min, AttendanceEvent::Update, DecisionKind::RepeatPrevious,
     "A08 moments after a failed check"},
    {CheckStatus::CheckFailed, kSame, 30min, AttendanceEvent::Update, DecisionKind::CheckDue,
     "A08 well after a failed check: try again"},
    {CheckStatus::Found, kSame, 2min, AttendanceEvent::Start, DecisionKind::RepeatPrevious,
     "the same start again moments later"},
    {CheckStatus::Found, kSame, 600min, AttendanceEvent::Start, DecisionKind::RepeatPrevious,
     "an A01 hours after the A04, not ended: admitted from ED, the same attendance (CPIS.md §4)"},
    {CheckStatus::Found, kToWard7, 600min, AttendanceEvent::Start, DecisionKind::RepeatPrevious,
     "an A01 to a paediatric ward after the A04: still unscheduled, no new query"},
    {CheckStatus::CheckFailed, kSame, 30min, AttendanceEvent::Start, DecisionKind::CheckDue,
     "an A01 well after a failed check: try again"},
    {CheckStatus::Found, kSame, 600min, AttendanceEvent::Reopen, DecisionKind::RepeatPrevious,
     "A13 (cancel discharge) hours later: the stored outcome again"},
    {CheckStatus::Found, [](Attendance& a) { a.nhsNumber = NhsNumber::parse("9990000026"); }, 30min,
     AttendanceEvent::Reopen, DecisionKind::NotChecked, "A13 on another NHS number: still no query"},
    {CheckStatus::CheckFailed, kSame, 30min, AttendanceEvent::Reopen, DecisionKind::NotChecked,
     "A13 well after a failed check: no query (CPIS.md §4)"},
};

}  // namespace

BOOST_DATA_TEST_CASE_F(DecideFixture, updates_recheck_only_on_a_change_that_matters,
                       boost::unit_test::data::make(kUpdates), c) {
  Decider decider(policy, time.clock(), memory);
  const Attendance start = child();
  BOOST_TEST_REQUIRE((decider.decide(start).kind == DecisionKind::CheckDue));
  decider.record(start, outcome(c.previous, time.now, decider.accessModeFor(start)));

  time.now += c.after;
  Attendance update = child();
  update.event = c.event;
  update.triggerEvent = c.event == AttendanceEvent::Update ? "A08" : c.event == AttendanceEvent::Reopen ? "A13" : "A04";
  c.change(update);
  const Decision d = decider.decide(update);
  BOOST_TEST((d.kind == c.expected), d.reasonText);
  if (d.kind == DecisionKind::RepeatPrevious) BOOST_TEST((d.previousDecidedAt == kArrival + 1min));
}

BOOST_AUTO_TEST_CASE(an_update_checks_when_the_number_appears_or_becomes_verified) {
  Decider decider(policy, time.clock(), memory);
  // Registration without a number: not checked, and remembered as such.
  Attendance start = child();
  start.nhsNumber.reset();
  const Decision first = decider.decide(start);
  BOOST_TEST_REQUIRE((first.kind == DecisionKind::NotChecked));
  decider.record(start, notCheckedOutcome(first, start, time.now, "id-1"));

  // A08 brings the number, untraced: still not checked.
  time.now += 10min;
  Attendance traced = child();
  traced.event = AttendanceEvent::Update;
  traced.nhsStatus = NhsNumberStatus::Nsts02;
  BOOST_TEST((decider.decide(traced).reason == ReasonCode::NhsNumberUnverified));

  // Then verified: check due.
  traced.nhsStatus = NhsNumberStatus::Nsts01;
  BOOST_TEST((decider.decide(traced).kind == DecisionKind::CheckDue));
}

BOOST_AUTO_TEST_CASE(becoming_verified_rechecks_a_number_accepted_unverified) {
  policy.acceptUnverifiedNhsNumber = true;
  Decider decider(policy, time.clock(), memory);
  Attendance start = child();
  start.nhsStatus = NhsNumberStatus::Nsts02;
  BOOST_TEST_REQUIRE((decider.decide(start).kind == DecisionKind::CheckDue));
  decider.record(start, outcome(CheckStatus::NotFound, time.now));
  time.now += 30min;
  Attendance update = start;
  update.event = AttendanceEvent::Update;
  BOOST_TEST((decider.decide(update).kind == DecisionKind::RepeatPrevious));
  update.nhsStatus = NhsNumberStatus::Nsts01;
  BOOST_TEST((decider.decide(update).kind == DecisionKind::CheckDue));
}

BOOST_AUTO_TEST_CASE(a_skipped_check_does_not_hide_a_real_one) {
  Decider decider(policy, time.clock(), memory);
  const Attendance start = child();
  decider.record(start, outcome(CheckStatus::Found, time.now));
  // A transfer out of scope, of a child never checked on this visit, is not checked ...
  Attendance out = child();
  out.visitNumber = "A250612099";
  out.event = AttendanceEvent::Update;
  out.setting = CareSetting::OutOfScope;
  const Decision skipped = decider.decide(out);
  BOOST_TEST((skipped.kind == DecisionKind::NotChecked));
  BOOST_TEST((skipped.reason == ReasonCode::SettingOutOfScope));
  decider.record(out, notCheckedOutcome(skipped, out, time.now, "id-2"));
  // ... and the transfer back compares with the real check: nothing changed, no second query.
  time.now += 60min;
  Attendance back = child();
  back.event = AttendanceEvent::Update;
  BOOST_TEST((decider.decide(back).kind == DecisionKind::RepeatPrevious));
}

// CPIS.md §4: an A02/A08 re-checks only on a change of number or mode. A move of a child found on
// a plan to a location out of scope, or to one the mapping does not know, repeats the check: the
// EPR showing the latest ACK keeps the plan's alert. It used to be NOT_CHECKED (or no alert).
BOOST_AUTO_TEST_CASE(a_move_out_of_scope_repeats_the_attendance_s_answered_check) {
  Decider decider(policy, time.clock(), memory);
  const Attendance start = child();
  decider.record(start, outcome(CheckStatus::Found, time.now));
  time.now += 60min;
  Attendance out = child();
  out.event = AttendanceEvent::Update;
  out.setting = CareSetting::OutOfScope;
  out.locationTerms.emitOutOfScope = false;
  const Decision moved = decider.decide(out);
  BOOST_TEST((moved.kind == DecisionKind::RepeatPrevious));
  BOOST_TEST(moved.emitAlert);
  BOOST_TEST(moved.mode.has_value());  // the check's own
  Attendance unmapped = out;
  unmapped.setting.reset();
  BOOST_TEST((decider.decide(unmapped).kind == DecisionKind::RepeatPrevious));
  // Not on another number, nor on one this message says is not verified.
  Attendance other = out;
  other.nhsNumber = NhsNumber::parse("9990000034");
  BOOST_TEST((decider.decide(other).reason == ReasonCode::SettingOutOfScope));
  Attendance unverified = out;
  unverified.nhsStatus = NhsNumberStatus::Nsts02;
  BOOST_TEST((decider.decide(unverified).reason == ReasonCode::SettingOutOfScope));
  // Nor for a visit never checked.
  Attendance fresh = out;
  fresh.visitNumber = "A250612098";
  BOOST_TEST((decider.decide(fresh).reason == ReasonCode::SettingOutOfScope));
}

// A baby at the paediatric ED on an NHS number whose trace is postponed (NSTS08), taken there by
// the location's signed-off switch.
Attendance babyOnNsts08() {
  Attendance baby = child();
  baby.nhsStatus = NhsNumberStatus::Nsts08;
  baby.locationTerms.acceptUnverifiedNhsNumber = true;
  return baby;
}

// `a`'s update (A08/A02) to a location of `setting` with no switches of its own.
Attendance movedTo(Attendance a, CareSetting setting) {
  a.event = AttendanceEvent::Update;
  a.setting = setting;
  a.locationTerms = {};
  return a;
}

// The number is judged by the terms it was checked under: a baby checked at the paediatric ED on
// NSTS08 (that location's signed-off switch) and sent to X-ray, which has no such switch, keeps
// the plan's alert. A status the feed never accepts (NSTS04), or an unreadable one, is news.
BOOST_AUTO_TEST_CASE(a_move_out_of_scope_judges_the_number_by_the_check_s_terms) {
  Decider decider(policy, time.clock(), memory);
  const Attendance baby = babyOnNsts08();
  BOOST_TEST_REQUIRE((decider.decide(baby).kind == DecisionKind::CheckDue));
  decider.record(baby, outcome(CheckStatus::Found, time.now));
  time.now += 30min;
  Attendance xray = movedTo(baby, CareSetting::OutOfScope);
  BOOST_TEST((decider.decide(xray).kind == DecisionKind::RepeatPrevious));
  xray.nhsStatus = NhsNumberStatus::Absent;  // a partial A08: nothing new of the number
  BOOST_TEST((decider.decide(xray).kind == DecisionKind::RepeatPrevious));
  xray.nhsStatus = NhsNumberStatus::Nsts04;  // traced: no match
  BOOST_TEST((decider.decide(xray).reason == ReasonCode::SettingOutOfScope));
  xray.nhsStatus = NhsNumberStatus::Absent;
  xray.nhsStatusUnreadable = true;
  BOOST_TEST((decider.decide(xray).reason == ReasonCode::SettingOutOfScope));
}

// In scope as well: a message continuing an attendance answered on a number taken unverified (the
// paediatric ED's switch for NSTS08) repeats that check at a ward without the switch, and so does
// its partial A08 without PID-32. Only the repeat: a change of access mode that would query again
// keeps the ward's own terms.
BOOST_AUTO_TEST_CASE(a_move_in_scope_judges_the_number_by_the_check_s_terms_for_its_repeat) {
  Decider decider(policy, time.clock(), memory);
  const Attendance baby = babyOnNsts08();
  decider.record(baby, outcome(CheckStatus::Found, time.now));
  time.now += 30min;
  const Attendance ward = movedTo(baby, CareSetting::PaedWard);
  BOOST_TEST((decider.decide(ward).kind == DecisionKind::RepeatPrevious));
  Attendance admitted = ward;  // an A01 on the same visit
  admitted.event = AttendanceEvent::Start;
  BOOST_TEST((decider.decide(admitted).kind == DecisionKind::RepeatPrevious));
  Attendance partial = baby;
  partial.event = AttendanceEvent::Update;
  partial.nhsStatus = NhsNumberStatus::Absent;
  BOOST_TEST((decider.decide(partial).kind == DecisionKind::RepeatPrevious));
  Attendance noMatch = ward;
  noMatch.nhsStatus = NhsNumberStatus::Nsts04;
  BOOST_TEST((decider.decide(noMatch).reason == ReasonCode::NhsNumberUnverified));
  Attendance camhs = ward;  // unscheduled to scheduled is covered: repeated
  camhs.setting = CareSetting::Camhs;
  BOOST_TEST((decider.decide(camhs).kind == DecisionKind::RepeatPrevious));
  // A silent read on NSTS08, then an unscheduled setting without the switch: a new query, which
  // the location's terms refuse.
  Attendance read = child();
  read.visitNumber = "A250612060";
  read.nhsStatus = NhsNumberStatus::Nsts08;
  read.setting = CareSetting::Camhs;
  read.locationTerms.acceptUnverifiedNhsNumber = true;
  decider.record(read, outcome(CheckStatus::Found, time.now, AccessMode::Scheduled));
  Attendance toEd = read;
  toEd.event = AttendanceEvent::Update;
  toEd.setting = CareSetting::Ed;
  toEd.locationTerms = {};
  BOOST_TEST((decider.decide(toEd).reason == ReasonCode::NhsNumberUnverified));
  // A new attendance on the visit (a start after its A03) is judged afresh, on the ward's terms.
  Attendance discharge = baby;
  discharge.event = AttendanceEvent::End;
  decider.noteEvent(discharge, time.now);
  Attendance again = ward;
  again.event = AttendanceEvent::Start;
  BOOST_TEST((decider.decide(again).reason == ReasonCode::NhsNumberUnverified));
}

// The same for a failure: repeated while recent (its re-check queued), whatever the ward's terms,
// and a partial A08 after a failure on a verified number repeats it too. A pregnant woman's
// check on the ED visit is not aged out by its A01 (the same attendance) without the pregnancy.
BOOST_AUTO_TEST_CASE(a_failed_check_and_an_admission_keep_the_check_s_terms) {
  Decider decider(policy, time.clock(), memory);
  const Attendance baby = babyOnNsts08();
  decider.record(baby, outcome(CheckStatus::CheckFailed, time.now));
  time.now += 2min;
  const Attendance ward = movedTo(baby, CareSetting::PaedWard);
  BOOST_TEST((decider.decide(ward).kind == DecisionKind::RepeatPrevious));
  BOOST_TEST(decider.decide(ward).refusedHere.has_value());  // if not held: NOT_CHECKED, no query
  time.now += policy.recheckWindow;
  BOOST_TEST((decider.decide(ward).reason == ReasonCode::NhsNumberUnverified));  // a query: the ward's terms

  Attendance verified = child();
  verified.visitNumber = "A250612070";
  decider.record(verified, outcome(CheckStatus::CheckFailed, time.now));
  time.now += 2min;
  Attendance partial = verified;
  partial.event = AttendanceEvent::Update;
  partial.nhsStatus = NhsNumberStatus::Absent;
  BOOST_TEST((decider.decide(partial).kind == DecisionKind::RepeatPrevious));

  Attendance mother = child();
  mother.visitNumber = "A250612071";
  mother.birthDate = 1995y / 7 / 4;
  mother.pregnant = true;
  decider.record(mother, outcome(CheckStatus::Found, time.now));
  Attendance admitted = mother;
  admitted.event = AttendanceEvent::Start;  // A01 on the same visit
  admitted.pregnant = false;
  admitted.setting = CareSetting::PaedWard;
  BOOST_TEST((decider.decide(admitted).kind == DecisionKind::RepeatPrevious));
}

// A failed check moved out of scope says so again ("check CP-IS by hand"), not NOT_CHECKED, which
// reads as nothing to do, however old: nothing there queries again (in scope, an update after
// recheckWindow does). An A13 reopening the attendance at such a location repeats its check too.
BOOST_AUTO_TEST_CASE(a_failed_check_and_a_reopened_attendance_moved_out_of_scope_repeat_the_check) {
  Decider decider(policy, time.clock(), memory);
  const Attendance start = child();
  decider.record(start, outcome(CheckStatus::CheckFailed, time.now));
  time.now += 5min;
  Attendance out = child();
  out.event = AttendanceEvent::Update;
  out.setting = CareSetting::OutOfScope;
  BOOST_TEST((decider.decide(out).kind == DecisionKind::RepeatPrevious));
  time.now += 3h;
  BOOST_TEST((decider.decide(out).kind == DecisionKind::RepeatPrevious));

  Attendance found = child();
  found.visitNumber = "A250612050";
  decider.record(found, outcome(CheckStatus::Found, time.now));
  Attendance discharge = found;
  discharge.event = AttendanceEvent::End;
  decider.noteEvent(discharge, time.now);
  time.now += 60min;
  Attendance reopened = found;
  reopened.event = AttendanceEvent::Reopen;
  reopened.setting = CareSetting::OutOfScope;
  BOOST_TEST((decider.decide(reopened).kind == DecisionKind::RepeatPrevious));
  Attendance update = reopened;  // an A08 after the A03 (not reopened) is not repeated
  update.event = AttendanceEvent::Update;
  BOOST_TEST((decider.decide(update).reason == ReasonCode::SettingOutOfScope));
}

// A silent read's answer (CAMHS) is not shown at a location nobody mapped, or put out of scope
// only by the mapping's default rule: it may be a ward in scope that owes the attendance its
// unscheduled check. Its NOT_CHECKED (and the ops alert for the location) stand. At a location
// the mapping itself puts out of scope, the read's answer is repeated.
BOOST_AUTO_TEST_CASE(a_silent_read_is_not_repeated_at_a_location_nobody_mapped) {
  Decider decider(policy, time.clock(), memory);
  Attendance camhs = child();
  camhs.setting = CareSetting::Camhs;
  decider.record(camhs, outcome(CheckStatus::Found, time.now, AccessMode::Scheduled));
  time.now += 30min;
  Attendance moved = child();
  moved.event = AttendanceEvent::Update;
  moved.setting.reset();
  BOOST_TEST((decider.decide(moved).reason == ReasonCode::LocationUnmapped));
  moved.setting = CareSetting::OutOfScope;
  moved.settingByDefault = true;
  BOOST_TEST((decider.decide(moved).reason == ReasonCode::SettingOutOfScope));
  moved.settingByDefault = false;
  BOOST_TEST((decider.decide(moved).kind == DecisionKind::RepeatPrevious));
}

BOOST_AUTO_TEST_CASE(attendances_are_kept_apart_by_feed_and_visit) {
  Decider decider(policy, time.clock(), memory);
  const Attendance start = child();
  decider.record(start, outcome(CheckStatus::Found, time.now));
  Attendance other = child();
  other.event = AttendanceEvent::Update;
  other.visitNumber = "A250612002";
  BOOST_TEST((decider.decide(other).kind == DecisionKind::CheckDue));
  other.visitNumber = start.visitNumber;
  other.feedId = "rzz-miu";
  BOOST_TEST((decider.decide(other).kind == DecisionKind::CheckDue));
  other.feedId = start.feedId;
  BOOST_TEST((decider.decide(other).kind == DecisionKind::RepeatPrevious));
  // Without a visit number nothing is remembered or compared.
  other.visitNumber.clear();
  BOOST_TEST((decider.decide(other).kind == DecisionKind::CheckDue));
}

BOOST_AUTO_TEST_CASE(not_checked_outcomes_keep_the_valid_number_for_zcp_13) {
  Attendance a = child();
  a.nhsStatus = NhsNumberStatus::Nsts02;
  const Decision d = decide(a);
  const CheckOutcome o = notCheckedOutcome(d, a, time.now, "check-1", Source::Simulator);
  BOOST_TEST((o.status == CheckStatus::NotChecked));
  BOOST_TEST((o.reason == ReasonCode::NhsNumberUnverified));
  BOOST_TEST(o.reasonText == d.reasonText);
  BOOST_TEST_REQUIRE(o.queried.has_value());
  BOOST_TEST(o.queried->reveal() == "9990000018");
  BOOST_TEST(!o.mode.has_value());  // ZCP-16 is empty for NOT_CHECKED
  BOOST_TEST(o.checkId == "check-1");
  BOOST_TEST((o.source == Source::Simulator));
  BOOST_TEST((o.decidedAt == time.now));
  BOOST_TEST(o.records.empty());
  BOOST_TEST(!o.refusedNhsNumber.has_value());
}

// CPIS.md §5: ZCP-13 is empty only with NO_NHS_NUMBER, so an invalid number is echoed as sent.
BOOST_AUTO_TEST_CASE(not_checked_outcomes_echo_a_refused_number_for_zcp_13) {
  Attendance a = child();
  a.nhsNumber.reset();
  a.nhsNumberProblem = "NHS number fails modulus 11 (wrong check digit)";
  a.refusedNhsNumber = RefusedNhsNumber("9990000019");
  const CheckOutcome o = notCheckedOutcome(decide(a), a, time.now, "check-1");
  BOOST_TEST((o.reason == ReasonCode::NhsNumberInvalid));
  BOOST_TEST(!o.queried.has_value());
  BOOST_TEST_REQUIRE(o.refusedNhsNumber.has_value());
  BOOST_TEST(o.refusedNhsNumber->reveal() == "9990000019");
  BOOST_TEST(o.reasonText.find("9990000019") == std::string::npos);
}

// No NHS number taken, with one the mapping's conditions passed over: still NO_NHS_NUMBER (the
// mapping decides which repetition is the NHS number, hazard H1), and the reason says where the
// passed-over one is.
BOOST_AUTO_TEST_CASE(no_nhs_number_names_the_one_the_mapping_passed_over) {
  Attendance a = child();
  a.nhsNumber.reset();
  BOOST_TEST(decide(a).reasonText == "the message carries no NHS number");
  a.nhsNumberPassedOver =
      "PID-3(2).1 passes the NHS number check but the mapping passed it over: PID-3(2).5 is 'NHSNBR'";
  const Decision d = decide(a);
  BOOST_TEST((d.kind == DecisionKind::NotChecked));
  BOOST_TEST((d.reason == ReasonCode::NoNhsNumber));
  BOOST_TEST(
      d.reasonText ==
      "the message carries no NHS number the mapping takes (PID-3(2).1 passes the NHS number check but the "
      "mapping passed it over: PID-3(2).5 is 'NHSNBR')");
}

// What the intake does with each message: decide, note what the message does to the
// attendance, and record the outcome (`status` for a check made, NOT_CHECKED as decided; a
// repeat records nothing). Returns the decision.
struct Messages {
  Decider& decider;
  FakeClock& time;

  Decision send(AttendanceEvent event, std::string trigger, CheckStatus status = CheckStatus::Found,
                std::function<void(Attendance&)> change = {}) {
    Attendance a = child();
    a.event = event;
    a.triggerEvent = std::move(trigger);
    if (change) change(a);
    const Decision d = decider.decide(a);
    decider.noteEvent(a, time.now, d.kind == DecisionKind::CheckDue ? Decider::Taken::CheckDue : Decider::Taken::Message);
    if (d.kind == DecisionKind::CheckDue) decider.record(a, outcome(status, time.now, d.mode));
    if (d.kind == DecisionKind::NotChecked) decider.record(a, notCheckedOutcome(d, a, time.now, "check-n"));
    return d;
  }
};

// A deferred re-check of a failed unscheduled check is not made once a later check took its
// place: an unscheduled one on the same number (it made the access record, or has its own
// re-check), or any on another number (the child there is another record). A silent read since
// does not: the local authority is still owed the unscheduled query.
BOOST_AUTO_TEST_CASE(a_later_check_supersedes_a_deferred_re_check) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed).kind == DecisionKind::CheckDue));
  const Instant failedAt = decider.previous(child())->decidedAt;
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());
  BOOST_TEST(decider.supersededSince(child(), failedAt - 1ms).has_value());  // it takes the place of an earlier failure

  // An update that is not checked (an unverified trace status) takes nothing's place.
  time.now += 11min;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [](Attendance& a) { a.nhsStatus = NhsNumberStatus::Nsts02; });
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());

  // A silent read on the same number (the attendance moved to a scheduled setting) does not.
  m.send(AttendanceEvent::Update, "A02", CheckStatus::Found,
         [](Attendance& a) { a.accessMode = AccessMode::Scheduled; });
  BOOST_TEST_REQUIRE((decider.previous(child())->mode == AccessMode::Scheduled));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());

  // An unscheduled check on the same number does (failed again: it has its own re-check).
  time.now += 1min;
  m.send(AttendanceEvent::Update, "A02", CheckStatus::CheckFailed);
  BOOST_TEST_REQUIRE((decider.previous(child())->mode == AccessMode::Unscheduled));
  const auto again = decider.supersededSince(child(), failedAt);
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST(again->find("unscheduled check") != std::string::npos);
  // and that newer failure's own re-check is not superseded by itself
  BOOST_TEST(!decider.supersededSince(child(), decider.previous(child())->decidedAt).has_value());

  // Nor does a silent read on a number the EPR corrected to (no merge): the unscheduled query is
  // still owed, and a person makes it on that number (movedTo), not the re-check on the failed one.
  time.now += 1min;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [](Attendance& a) {
    a.nhsNumber = nhs("9990000026");
    a.accessMode = AccessMode::Scheduled;
  });
  BOOST_TEST_REQUIRE((decider.previous(child())->nhsNumber == nhs("9990000026")));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());
  const auto toPerson = decider.movedTo(child(), failedAt);
  BOOST_TEST_REQUIRE(toPerson.has_value());
  BOOST_TEST((toPerson->number == nhs("9990000026")));
  BOOST_TEST(toPerson->readSilently);
  time.now += 1min;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [](Attendance& a) { a.nhsNumber = nhs("9990000026"); });
  BOOST_TEST_REQUIRE((decider.previous(child())->mode == AccessMode::Unscheduled));
  const auto other = decider.supersededSince(child(), failedAt);
  BOOST_TEST_REQUIRE(other.has_value());
  BOOST_TEST(other->find("another NHS number") != std::string::npos);
  BOOST_TEST(other->find("999") == std::string::npos);  // never a number
}

// CPIS.md §2, §4: a pregnant woman is checked at any age, and an update on the same number
// repeats the attendance's check. Her A08 without the pregnancy OBX (or a transfer whose PV1-2
// is no longer B) does not age the attendance out: the unborn child's plan stays on the EPR,
// whether the check was answered or failed (its re-check owed). Her next attendance is judged
// afresh.
BOOST_AUTO_TEST_CASE(an_update_without_the_pregnancy_flag_repeats_a_pregnant_adults_check) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  const auto adult = [](bool pregnant) {
    return [pregnant](Attendance& a) {
      a.birthDate = 1990y / 1 / 1;
      a.pregnant = pregnant;
    };
  };
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, adult(true)).kind == DecisionKind::CheckDue));
  time.now += 20min;
  const Decision update = m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, adult(false));
  BOOST_TEST((update.kind == DecisionKind::RepeatPrevious), update.reasonText);
  const Decision transfer = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [&](Attendance& a) {
    adult(false)(a);
    a.setting = CareSetting::PaedWard;
  });
  BOOST_TEST((transfer.kind == DecisionKind::RepeatPrevious), transfer.reasonText);
  // Failed and owed a re-check: the update says so again, not AGE_OUT_OF_SCOPE.
  Attendance failedVisit = child();
  failedVisit.visitNumber = "V-FAILED";
  const auto onFailedVisit = [&](bool pregnant) {
    return [&, pregnant](Attendance& a) {
      adult(pregnant)(a);
      a.visitNumber = "V-FAILED";
    };
  };
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed, onFailedVisit(true));
  time.now += 1min;
  const Decision afterFailure = m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, onFailedVisit(false));
  BOOST_TEST((afterFailure.kind == DecisionKind::RepeatPrevious), afterFailure.reasonText);
  // A new attendance without the flag is an adult's: not checked.
  const Decision next = m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, [&](Attendance& a) {
    adult(false)(a);
    a.visitNumber = "V-NEXT";
  });
  BOOST_TEST((next.reason == ReasonCode::AgeOutOfScope));
}

// CPIS.md §7, one access an attendance: the check fails in the emergency department, the child
// moves to CAMHS (a silent read, which does not take the owed re-check's place), the re-check's
// unscheduled answer comes, then a move to a paediatric ward. The answer took the silent read's
// place, so the ward repeats it: no second unscheduled query, no second notification.
BOOST_AUTO_TEST_CASE(a_deferred_answer_after_a_silent_read_covers_a_move_back) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  const Instant failedAt = decider.previous(child())->decidedAt;
  time.now += 2min;
  const Decision read = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [](Attendance& a) {
    a.setting = CareSetting::Camhs;
    a.accessMode = AccessMode::Scheduled;
  });
  BOOST_TEST_REQUIRE((read.kind == DecisionKind::CheckDue));
  BOOST_TEST_REQUIRE((read.mode == AccessMode::Scheduled));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());  // the re-check is still owed
  time.now += 1min;
  // An answer about another number, or a scheduled one, takes nothing's place.
  CheckOutcome wrong = outcome(CheckStatus::Found, time.now, AccessMode::Scheduled);
  BOOST_TEST(!decider.recordDeferred(child(), wrong, failedAt));
  const CheckOutcome answer = outcome(CheckStatus::Found, time.now, AccessMode::Unscheduled);
  BOOST_TEST_REQUIRE(decider.recordDeferred(child(), answer, failedAt));
  BOOST_TEST((decider.previous(child())->mode == AccessMode::Unscheduled));
  BOOST_TEST((decider.previous(child())->answersFailureAt == failedAt));
  time.now += 1min;
  const Decision ward = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [](Attendance& a) {
    a.setting = CareSetting::PaedWard;
    a.accessMode = AccessMode::Unscheduled;
  });
  BOOST_TEST((ward.kind == DecisionKind::RepeatPrevious), ward.reasonText);
  // A read made before the failure is not one "since": an answer does not take its place.
  Attendance earlier = child();
  earlier.visitNumber = "V-EARLIER";
  m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, [](Attendance& a) {
    a.visitNumber = "V-EARLIER";
    a.setting = CareSetting::Camhs;
    a.accessMode = AccessMode::Scheduled;
  });
  BOOST_TEST(!decider.recordDeferred(earlier, answer, time.now + 1min));
}

// The EPR corrects the patient to a number the feed may not query (an unverified trace status):
// that update is not checked, and the deferred re-check of the failure before it does not query
// the failed number, which is not the child's (movedTo: a person checks instead). Back on the
// failed number, it is made again; an update without a valid number says nothing of which record
// it is; a resend is not noted; a number on the failed one's chain of merges is the merge's.
BOOST_AUTO_TEST_CASE(a_correction_to_a_number_that_is_not_checked_moves_the_re_check_to_a_person) {
  MergedNumbers merges(time.clock());
  Decider decider(policy, time.clock(), memory, &merges);
  Messages m{decider, time};
  const auto unverified = [](const char* number) {
    return [number](Attendance& a) {
      a.nhsNumber = nhs(number);
      a.nhsStatus = NhsNumberStatus::Nsts02;
    };
  };
  // A visit of its own whose first check failed: the attendance as it failed, and when.
  const auto failedVisit = [&](const std::function<void(Attendance&)>& visit) {
    Attendance a = child();
    visit(a);
    m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed, visit);
    return std::pair{a, decider.previous(a)->decidedAt};
  };
  // An update of that visit carrying `number`, unverified: not checked.
  const auto correctTo = [&](const std::function<void(Attendance&)>& visit, const char* number) {
    m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [&](Attendance& a) {
      visit(a);
      unverified(number)(a);
    });
  };
  // An update of that visit carrying `number`, read silently (a scheduled setting) and answered.
  const auto readSilently = [&](const std::function<void(Attendance&)>& visit, const char* number) {
    m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [&](Attendance& a) {
      visit(a);
      a.nhsNumber = nhs(number);
      a.accessMode = AccessMode::Scheduled;
    });
  };
  // An update of `base`'s visit carrying `number` (and `change`), taken with a check due that has
  // not ended (its outcome not recorded yet): the update and the decision.
  const auto dueOn = [&](const Attendance& base, const char* trigger, const char* number,
                         const std::function<void(Attendance&)>& change = {}) {
    Attendance a = base;
    a.event = AttendanceEvent::Update;
    a.triggerEvent = trigger;
    a.nhsNumber = nhs(number);
    if (change) change(a);
    const Decision d = decider.decide(a);
    BOOST_TEST_REQUIRE((d.kind == DecisionKind::CheckDue));
    decider.noteEvent(a, time.now, Decider::Taken::CheckDue);
    return std::pair{a, d};
  };
  // That check, made (unscheduled) a second later, takes the place of the re-check of `failed`'s
  // failure at `failedAt`, which no longer waits for it.
  const auto madeInItsPlace = [&](const Attendance& due, const Decision& d, const Attendance& failed,
                                  Instant failedAt) {
    time.now += 1s;
    decider.record(due, outcome(CheckStatus::Found, time.now, d.mode));
    BOOST_TEST(!decider.movedTo(failed, failedAt).has_value());
    BOOST_TEST(decider.supersededSince(failed, failedAt).has_value());
  };
  const auto movedTo = [&](const Attendance& a, Instant since) -> std::optional<NhsNumber> {
    const auto moved = decider.movedTo(a, since);
    return moved ? std::optional(moved->number) : std::nullopt;
  };
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  const Instant failedAt = decider.previous(child())->decidedAt;
  BOOST_TEST(!decider.movedTo(child(), failedAt).has_value());

  time.now += 1min;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [](Attendance& a) { a.nhsNumber.reset(); });
  BOOST_TEST(!decider.movedTo(child(), failedAt).has_value());
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, unverified("9999999999"));  // "not known"
  BOOST_TEST(!decider.movedTo(child(), failedAt).has_value());

  time.now += 1min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, unverified("9990000026")).kind ==
                      DecisionKind::NotChecked));
  BOOST_TEST_REQUIRE((decider.previous(child())->nhsNumber == nhs("9990000018")));  // still the failed check
  BOOST_TEST((movedTo(child(), failedAt) == nhs("9990000026")));
  BOOST_TEST(!decider.movedTo(child(), failedAt)->checkPending);
  BOOST_TEST((decider.movedTo(child(), failedAt)->notCheckedReason == ReasonCode::NhsNumberUnverified));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());  // a person's, not withdrawn

  // A resend (answered from the store) of an older A03 carrying the failed number notes nothing.
  Attendance resent = child();
  resent.event = AttendanceEvent::End;
  resent.triggerEvent = "A03";
  decider.noteEvent(resent, time.now, Decider::Taken::Resend);
  BOOST_TEST((movedTo(child(), failedAt) == nhs("9990000026")));
  // Nor does an older message that recovery processes late (stored before the restart, before
  // the correction was).
  Attendance late = child();
  late.event = AttendanceEvent::Update;
  late.triggerEvent = "A08";
  decider.noteEvent(late, time.now - 2min);
  BOOST_TEST((movedTo(child(), failedAt) == nhs("9990000026")));

  // The number written back: the failed one is the child's after all.
  time.now += 1min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Update, "A08").kind == DecisionKind::RepeatPrevious));
  BOOST_TEST(!decider.movedTo(child(), failedAt).has_value());

  // Noted while a re-check ran, which then failed: that failure's re-check is moved too.
  time.now += 11min;
  const auto [recheck, due] = dueOn(child(), "A08", "9990000018");
  time.now += 1s;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, unverified("9990000034"));
  time.now += 30s;  // the lookup times out
  decider.record(recheck, outcome(CheckStatus::CheckFailed, time.now, due.mode));
  BOOST_TEST((movedTo(child(), time.now) == nhs("9990000034")));

  // A check on B in flight, then C (unverified): B's failure is not queried either.
  const auto visit = [](Attendance& a) { a.visitNumber = "V-BC"; };
  Attendance onA = child();
  visit(onA);
  m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, visit);
  time.now += 1min;
  const auto [onB, onBDue] = dueOn(onA, "A08", "9990000042");
  time.now += 1s;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [&](Attendance& a) {
    visit(a);
    unverified("9990000050")(a);
  });
  time.now += 30s;
  decider.record(onB, outcome(CheckStatus::CheckFailed, time.now, onBDue.mode));
  BOOST_TEST((movedTo(onB, time.now) == nhs("9990000050")));

  // A chain of merges: the failed number merged into S1, an update carries S1 (unverified),
  // then S1 merged into S2. The merge decides (re-keyed to S2), not the correction rule.
  const auto merged = [](Attendance& a) { a.visitNumber = "V-CHAIN"; };
  const auto [failed, chainFailedAt] = failedVisit(merged);
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000018"), nhs("9990000034"), NhsNumberStatus::Nsts02));
  time.now += 1min;
  correctTo(merged, "9990000034");
  BOOST_TEST(!decider.movedTo(failed, chainFailedAt).has_value());
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000034"), nhs("9990000042"), NhsNumberStatus::Nsts01));
  BOOST_TEST(!decider.movedTo(failed, chainFailedAt).has_value());
  const auto survivor = decider.mergedInto(failed, chainFailedAt);
  BOOST_TEST_REQUIRE(survivor.has_value());
  BOOST_TEST((survivor->surviving == nhs("9990000042")));
  BOOST_TEST(survivor->refused.empty());

  // The number corrected to is a duplicate record, merged into the failed one since: the same
  // child, queried on the failed number. Merged into another record instead, the person is sent
  // to the record it lives on now.
  const auto duplicate = [](Attendance& a) {
    a.visitNumber = "V-DUP";
    a.nhsNumber = nhs("9990000107");
  };
  const auto [onX, dupFailedAt] = failedVisit(duplicate);
  time.now += 1min;
  correctTo(duplicate, "9990000077");
  BOOST_TEST((movedTo(onX, dupFailedAt) == nhs("9990000077")));
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000077"), nhs("9990000093"), NhsNumberStatus::Nsts01));
  BOOST_TEST((movedTo(onX, dupFailedAt) == nhs("9990000093")));
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000093"), nhs("9990000107"), NhsNumberStatus::Nsts01));
  BOOST_TEST(!decider.movedTo(onX, dupFailedAt).has_value());

  // The failed number was retired into the corrected one before it failed (the EPR still used
  // it): no merge since re-keys the re-check, so the person is sent to the record the EPR now uses
  // rather than the retired number queried.
  const auto old = [](Attendance& a) {
    a.visitNumber = "V-OLD";
    a.nhsNumber = nhs("9990000115");
  };
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000115"), nhs("9990000123"), NhsNumberStatus::Nsts01));
  time.now += 1min;
  const auto [retired, oldFailedAt] = failedVisit(old);
  time.now += 1min;
  correctTo(old, "9990000123");
  BOOST_TEST(!decider.mergedInto(retired, oldFailedAt).has_value());
  BOOST_TEST((movedTo(retired, oldFailedAt) == nhs("9990000123")));

  // A correction to a verified number whose check has not ended: the re-check waits for it, and
  // once it is made (unscheduled) it takes the re-check's place.
  const auto pending = [](Attendance& a) { a.visitNumber = "V-PENDING"; };
  const auto [onFailed, pendingFailedAt] = failedVisit(pending);
  time.now += 1min;
  const auto [corrected, correctedDue] = dueOn(onFailed, "A08", "9990000131");
  const auto waiting = decider.movedTo(onFailed, pendingFailedAt);
  BOOST_TEST_REQUIRE(waiting.has_value());
  BOOST_TEST(waiting->checkPending);
  // An A03 carrying that number meanwhile (not checked: it is no start) says nothing of it.
  time.now += 1s;
  m.send(AttendanceEvent::End, "A03", CheckStatus::Found, [&](Attendance& a) {
    pending(a);
    a.nhsNumber = nhs("9990000131");
  });
  BOOST_TEST(decider.movedTo(onFailed, pendingFailedAt)->checkPending);
  BOOST_TEST(!decider.movedTo(onFailed, pendingFailedAt)->notCheckedReason.has_value());
  madeInItsPlace(corrected, correctedDue, onFailed, pendingFailedAt);

  // The corrected number's check is a silent read (a scheduled location), failed or answered:
  // it takes nothing's place (no access recorded, no local authority told), and a person checks,
  // on that number (readSilently, the failure's own reason), also when the silent read was
  // answered from the cache (dated by the answer it reused, before the failure). Moved on from it
  // to an unverified number, the person is sent to that one; back on the failed number, the
  // failed number is queried.
  const auto silent = [](Attendance& a) { a.visitNumber = "V-SILENT"; };
  const auto [onSilent, silentFailedAt] = failedVisit(silent);
  const auto silentRead = [&](CheckStatus status, const char* number, Instant decided) {
    const auto [a, d] = dueOn(onSilent, "A02", number, [](Attendance& s) { s.accessMode = AccessMode::Scheduled; });
    decider.record(a, outcome(status, decided, d.mode));
  };
  time.now += 1min;
  silentRead(CheckStatus::NotFound, "9990000131", silentFailedAt - 2min);  // from the cache
  BOOST_TEST_REQUIRE((decider.previous(onSilent)->mode == AccessMode::Scheduled));
  for (const auto& [status, number] : {std::pair{CheckStatus::NotFound, "9990000131"},
                                       std::pair{CheckStatus::CheckFailed, "9990000166"},
                                       std::pair{CheckStatus::Found, "9990000174"}}) {
    if (status != CheckStatus::NotFound) {
      time.now += 1min;
      silentRead(status, number, time.now);
    }
    BOOST_TEST_REQUIRE((decider.previous(onSilent)->status == status));
    BOOST_TEST(!decider.supersededSince(onSilent, silentFailedAt).has_value());
    const auto toPerson = decider.movedTo(onSilent, silentFailedAt);
    BOOST_TEST_REQUIRE(toPerson.has_value());
    BOOST_TEST((toPerson->number == nhs(number)));
    BOOST_TEST(toPerson->readSilently);
    BOOST_TEST(!toPerson->checkPending);
    BOOST_TEST(!toPerson->notCheckedReason.has_value());
  }
  time.now += 1min;
  correctTo(silent, "9990000158");
  const auto movedOn = decider.movedTo(onSilent, silentFailedAt);
  BOOST_TEST_REQUIRE(movedOn.has_value());
  BOOST_TEST((movedOn->number == nhs("9990000158")));
  BOOST_TEST(!movedOn->readSilently);
  BOOST_TEST((movedOn->notCheckedReason == ReasonCode::NhsNumberUnverified));
  time.now += 1min;
  m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [&](Attendance& a) {
    silent(a);
    a.nhsStatus = NhsNumberStatus::Nsts02;  // the failed number again, not checked
  });
  BOOST_TEST(!decider.movedTo(onSilent, silentFailedAt).has_value());
  // The number read silently, back in an unscheduled setting: its check is due, and the re-check
  // waits for it; made, it takes the re-check's place.
  time.now += 1min;
  const auto [back, backDue] = dueOn(onSilent, "A02", "9990000174");
  const auto waitsForIt = decider.movedTo(onSilent, silentFailedAt);
  BOOST_TEST_REQUIRE(waitsForIt.has_value());
  BOOST_TEST(waitsForIt->checkPending);
  BOOST_TEST(waitsForIt->readSilently);
  madeInItsPlace(back, backDue, onSilent, silentFailedAt);

  // The number read silently merged since into the failed one: the same child, queried on it.
  const auto intoFailed = [](Attendance& a) {
    a.visitNumber = "V-SILENT-MERGED";
    a.nhsNumber = nhs("9990000190");
  };
  const auto [onMerged, mergedFailedAt] = failedVisit(intoFailed);
  time.now += 1min;
  readSilently(intoFailed, "9990000182");
  BOOST_TEST_REQUIRE(decider.movedTo(onMerged, mergedFailedAt).has_value());
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000182"), nhs("9990000190"), NhsNumberStatus::Nsts01));
  BOOST_TEST(!decider.movedTo(onMerged, mergedFailedAt).has_value());

  // Back on the failed number after a silent read on another, in an unscheduled setting: the same
  // child, whose check is due; the re-check waits for it (the two must not both query), and
  // once it is made it takes the re-check's place.
  const auto returning = [](Attendance& a) {
    a.visitNumber = "V-RETURN";
    a.nhsNumber = nhs("9990000204");
  };
  const auto [onReturn, returnFailedAt] = failedVisit(returning);
  time.now += 1min;
  readSilently(returning, "9990000212");
  time.now += 1min;
  const auto [returned, returnedDue] = dueOn(onReturn, "A02", "9990000204");
  const auto sameChild = decider.movedTo(onReturn, returnFailedAt);
  BOOST_TEST_REQUIRE(sameChild.has_value());
  BOOST_TEST(sameChild->checkPending);
  BOOST_TEST((sameChild->number == nhs("9990000204")));
  madeInItsPlace(returned, returnedDue, onReturn, returnFailedAt);

  // The same, with no silent read between: an update on the failed number checked again once
  // the failure is no longer recent. The re-check waits for it; that check failing too, the new
  // failure's own re-check does not wait on itself, and the first is superseded.
  const auto twice = [](Attendance& a) {
    a.visitNumber = "V-TWICE";
    a.nhsNumber = nhs("9990000239");
  };
  const auto [onTwice, twiceFailedAt] = failedVisit(twice);
  time.now += 11min;
  const auto [retried, retriedDue] = dueOn(onTwice, "A08", "9990000239");
  const auto waitsOnItself = decider.movedTo(onTwice, twiceFailedAt);
  BOOST_TEST_REQUIRE(waitsOnItself.has_value());
  BOOST_TEST(waitsOnItself->checkPending);
  BOOST_TEST((waitsOnItself->number == nhs("9990000239")));
  time.now += 1s;
  decider.record(retried, outcome(CheckStatus::CheckFailed, time.now, retriedDue.mode));
  BOOST_TEST(!decider.movedTo(onTwice, time.now).has_value());
  BOOST_TEST(!decider.movedTo(onTwice, twiceFailedAt).has_value());
  BOOST_TEST(decider.supersededSince(onTwice, twiceFailedAt).has_value());
}

// A silent read on a merge's surviving record leaves the re-check owed (it is re-keyed to that
// record and makes the unscheduled query); a re-check's own answer, recorded in the memory,
// does not take the place of that re-check when it is tried again.
BOOST_AUTO_TEST_CASE(a_silent_read_after_a_merge_and_a_re_check_s_own_answer_supersede_nothing) {
  MergedNumbers merges(time.clock());
  Decider decider(policy, time.clock(), memory, &merges);
  Messages m{decider, time};
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  const Instant failedAt = decider.previous(child())->decidedAt;
  time.now += 1min;
  BOOST_TEST_REQUIRE(merges.note(nhs("9990000018"), nhs("9990000026"), NhsNumberStatus::Nsts01));
  time.now += 1min;
  m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [](Attendance& a) {
    a.nhsNumber = nhs("9990000026");
    a.accessMode = AccessMode::Scheduled;
  });
  BOOST_TEST_REQUIRE((decider.previous(child())->mode == AccessMode::Scheduled));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());
  BOOST_TEST(!decider.movedTo(child(), failedAt).has_value());  // the merge's: re-keyed to the survivor

  // The re-check's answer (on the surviving number) recorded, and the same re-check tried again.
  Decider plain(policy, time.clock(), memory);
  Messages n{plain, time};
  const auto other = [](Attendance& a) { a.visitNumber = "V-RETRY"; };
  n.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed, other);
  Attendance retried = child();
  other(retried);
  const Instant failed = plain.previous(retried)->decidedAt;
  time.now += 1min;
  CheckOutcome answer = outcome(CheckStatus::Found, time.now, AccessMode::Unscheduled);
  answer.queried = retried.nhsNumber;
  BOOST_TEST_REQUIRE(plain.recordDeferred(retried, answer, failed));
  BOOST_TEST(!plain.supersededSince(retried, failed).has_value());
  // A silent read since does not (the answered unscheduled check covers a scheduled setting, so
  // none is made); an unscheduled check since (an update on another number) does.
  time.now += 11min;
  m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [&](Attendance& a) {
    other(a);
    a.accessMode = AccessMode::Scheduled;
  });
  BOOST_TEST(!plain.supersededSince(retried, failed).has_value());
  time.now += 1min;
  n.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [&](Attendance& a) {
    other(a);
    a.nhsNumber = nhs("9990000026");
  });
  BOOST_TEST(plain.supersededSince(retried, failed).has_value());
}

// A start after an A03 begins a new attendance under the same key: checked again once the last
// check is no longer recent (recheckWindow), repeated while it is (the same start resent).
BOOST_AUTO_TEST_CASE(a_start_after_the_attendance_ended_is_a_new_attendance) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04").kind == DecisionKind::CheckDue));
  time.now += 2min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::End, "A03").kind == DecisionKind::NotChecked));
  BOOST_TEST_REQUIRE(decider.previous(child()).has_value());
  BOOST_TEST((decider.previous(child())->status == CheckStatus::Found));  // still what it was checked as
  BOOST_TEST((decider.decide(child()).kind == DecisionKind::RepeatPrevious));  // within the window
  BOOST_TEST((m.send(AttendanceEvent::Update, "A08").kind == DecisionKind::RepeatPrevious));  // not a start

  time.now += 600min;
  BOOST_TEST((m.send(AttendanceEvent::Start, "A04").kind == DecisionKind::CheckDue));
  time.now += 600min;
  BOOST_TEST((m.send(AttendanceEvent::Start, "A01").kind == DecisionKind::RepeatPrevious));  // begun afresh: open
}

// Sequences on one visit whose last start must not query CP-IS again (CPIS.md §4: one
// attendance, one access): each message after the first, how long after the one before, and
// what it must decide.
struct Step {
  minutes after;
  AttendanceEvent event;
  const char* trigger;
  DecisionKind expected;
};
struct Sequence {
  std::string_view why;
  std::vector<Step> steps;
};
std::ostream& operator<<(std::ostream& os, const Sequence& s) {
  return os << s.why;
}
const std::vector<Sequence> kOneAttendance{
    {"the same start resent within the window after an A03 repeats, and begins the attendance afresh all "
     "the same: its admission to a ward hours later makes no second query",
     {{2min, AttendanceEvent::End, "A03", DecisionKind::NotChecked},
      {2min, AttendanceEvent::Start, "A04", DecisionKind::RepeatPrevious},
      {600min, AttendanceEvent::Start, "A01", DecisionKind::RepeatPrevious}}},
    {"an A13 cancels the discharge: the attendance is open again, and an A01 to the ward hours later is "
     "still the same attendance",
     {{30min, AttendanceEvent::End, "A03", DecisionKind::NotChecked},
      {5min, AttendanceEvent::Reopen, "A13", DecisionKind::RepeatPrevious},
      {600min, AttendanceEvent::Start, "A01", DecisionKind::RepeatPrevious}}},
};

BOOST_DATA_TEST_CASE_F(DecideFixture, one_attendance_is_queried_once, boost::unit_test::data::make(kOneAttendance),
                       c) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04").kind == DecisionKind::CheckDue));
  for (const Step& step : c.steps) {
    time.now += step.after;
    const Decision d = m.send(step.event, step.trigger);
    BOOST_TEST((d.kind == step.expected), step.trigger << ": " << d.reasonText);
  }
}

// A pre-admission (A05) at a scheduled location had its silent read; the A01 that admits the
// patient begins the attendance, so a later A02 to an unscheduled ward is not taken for a
// pre-admission's update.
BOOST_AUTO_TEST_CASE(a_start_after_a_pre_admission_begins_the_attendance) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  const auto camhs = [](Attendance& a) {
    a.setting = CareSetting::Camhs;
    a.locationKey = "RZZ01/CAMHS";
  };
  const auto preAdmit = [&](Attendance& a) {
    camhs(a);
    a.scheduledOnly = true;
  };
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A05", CheckStatus::Found, preAdmit).mode ==
                      AccessMode::Scheduled));
  time.now += 600min;
  m.send(AttendanceEvent::Start, "A01", CheckStatus::Found, camhs);
  time.now += 60min;
  const Decision d = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, kToWard7);
  BOOST_TEST((d.kind == DecisionKind::CheckDue), d.reasonText);  // unscheduled now: the access is recorded
  BOOST_TEST((d.mode == AccessMode::Unscheduled));
}

// CPIS.md §7, one access an attendance: ED (checked, unscheduled), then CAMHS (scheduled), then
// back to a paediatric ward (unscheduled). The ED check's answer covers both moves: no silent
// read, and no second unscheduled query telling the local authority again.
BOOST_AUTO_TEST_CASE(a_move_to_a_scheduled_setting_and_back_repeats_the_unscheduled_check) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  const Decision ed = m.send(AttendanceEvent::Start, "A04", CheckStatus::Found);
  BOOST_TEST_REQUIRE((ed.kind == DecisionKind::CheckDue));
  time.now += 60min;
  const Decision camhs = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, [](Attendance& a) {
    a.setting = CareSetting::Camhs;
    a.locationKey = "RZZ01/CAMHS";
  });
  BOOST_TEST((camhs.kind == DecisionKind::RepeatPrevious), camhs.reasonText);
  time.now += 60min;
  const Decision ward = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found, kToWard7);
  BOOST_TEST((ward.kind == DecisionKind::RepeatPrevious), ward.reasonText);
}

// A partial update (no PID-32) on the number verified before that is checked (it moved to an
// unscheduled setting) keeps the number verified: the next update's NSTS01 is no change, and
// makes no second unscheduled query.
BOOST_AUTO_TEST_CASE(a_check_made_for_a_partial_update_keeps_the_number_verified) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  const auto camhs = [](Attendance& a) {
    a.setting = CareSetting::Camhs;
    a.locationKey = "RZZ01/CAMHS";
  };
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, camhs).mode == AccessMode::Scheduled));
  time.now += 30min;
  const Decision toEd = m.send(AttendanceEvent::Update, "A02", CheckStatus::Found,
                               [](Attendance& a) { a.nhsStatus = NhsNumberStatus::Absent; });
  BOOST_TEST_REQUIRE((toEd.kind == DecisionKind::CheckDue), toEd.reasonText);  // unscheduled now
  time.now += 30min;
  const Decision traced = m.send(AttendanceEvent::Update, "A08", CheckStatus::Found);
  BOOST_TEST((traced.kind == DecisionKind::RepeatPrevious), traced.reasonText);
}

// CPIS.md §4: an A11 cancels the attendance; a cancelled attendance makes no query. The failed
// check stays remembered (an update's resend repeats it), the deferred re-check asks
// cancelled() and is withdrawn, and an update that would query makes none, until a start.
BOOST_AUTO_TEST_CASE(a_cancelled_attendance_is_not_queried_until_it_starts_again) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  BOOST_TEST(!decider.cancelled(child()));

  time.now += 5min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Cancel, "A11").kind == DecisionKind::NotChecked));
  BOOST_TEST(decider.cancelled(child()));
  BOOST_TEST_REQUIRE(decider.previous(child()).has_value());
  BOOST_TEST((decider.previous(child())->status == CheckStatus::CheckFailed));  // still the check made

  time.now += 60min;  // the failure is long past: an update would have tried again
  const Decision u = m.send(AttendanceEvent::Update, "A08");
  BOOST_TEST((u.kind == DecisionKind::NotChecked), u.reasonText);
  BOOST_TEST((u.reason == ReasonCode::NotAnAttendance));
  BOOST_TEST(decider.cancelled(child()));

  // Registered again: a new attendance under the same key, checked, and no longer cancelled.
  BOOST_TEST((m.send(AttendanceEvent::Start, "A04").kind == DecisionKind::CheckDue));
  BOOST_TEST(!decider.cancelled(child()));
}

// Registered again after the cancellation: a start, whatever is decided for it, lifts the
// cancellation. After a failed check (whose deferred re-check the A11 withdrew) it queries
// again even moments later, or nobody would; not checked (an untraced number), its update
// queries once traced; after an answer, within the window, it repeats the answer.
BOOST_AUTO_TEST_CASE(a_start_after_a_cancellation_ends_it_whatever_is_decided) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  time.now += 1min;
  m.send(AttendanceEvent::Cancel, "A11");
  time.now += 1min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed).kind == DecisionKind::CheckDue));
  BOOST_TEST(!decider.cancelled(child()));

  m.send(AttendanceEvent::Cancel, "A11");
  const auto untraced = [](Attendance& a) { a.nhsStatus = NhsNumberStatus::Nsts03; };
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, untraced).kind ==
                      DecisionKind::NotChecked));
  BOOST_TEST(!decider.cancelled(child()));
  time.now += 30min;
  BOOST_TEST((m.send(AttendanceEvent::Update, "A08").kind == DecisionKind::CheckDue));  // recorded FOUND

  m.send(AttendanceEvent::Cancel, "A11");
  BOOST_TEST(decider.cancelled(child()));
  time.now += 1min;
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Start, "A04").kind == DecisionKind::RepeatPrevious));
  BOOST_TEST(!decider.cancelled(child()));
}

// A start processed late (recovery, a left-over's resend, a take-over from another instance) is
// noted as of when it arrived: an A11 noted since, that came after it, still holds.
BOOST_AUTO_TEST_CASE(a_start_noted_late_does_not_undo_a_later_cancellation) {
  Decider decider(policy, time.clock(), memory);
  Messages m{decider, time};
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  const Instant arrived = time.now + 1min;  // an A01 stored then, processed later
  time.now += 2min;
  m.send(AttendanceEvent::Cancel, "A11");
  Attendance late = child();
  late.triggerEvent = "A01";
  decider.noteEvent(late, arrived);
  BOOST_TEST(decider.cancelled(child()));
  decider.noteEvent(late, time.now + 1min);  // a start after the cancellation lifts it
  BOOST_TEST(!decider.cancelled(child()));
}

// An A11 with nothing remembered (the engine restarted; or enhanced mode, the start's check
// still running when the A11 is decided) is remembered, and the start's check, recorded after
// it, keeps it: the deferred check is withdrawn either way.
BOOST_AUTO_TEST_CASE(a_cancellation_nothing_was_remembered_of_is_kept) {
  Decider decider(policy, time.clock(), memory);
  Attendance start = child();
  const Decision d = decider.decide(start);
  decider.noteEvent(start, time.now);  // its check is running
  time.now += 1s;
  Messages m{decider, time};
  BOOST_TEST_REQUIRE((m.send(AttendanceEvent::Cancel, "A11").kind == DecisionKind::NotChecked));
  BOOST_TEST(decider.cancelled(child()));
  time.now += 5s;
  decider.record(start, outcome(CheckStatus::CheckFailed, time.now, d.mode));  // the check ends
  BOOST_TEST(decider.cancelled(child()));
  BOOST_TEST((decider.previous(child())->status == CheckStatus::CheckFailed));
}

// CPIS.md §4: A13 reopens an attendance; never a query, even with nothing remembered of it (a
// restart, or an attendance from before go-live). It was mapped as an update, which queried.
BOOST_AUTO_TEST_CASE(a_reopened_attendance_nobody_remembers_is_not_checked) {
  Attendance reopened = child();
  reopened.event = AttendanceEvent::Reopen;
  reopened.triggerEvent = "A13";
  const Decision d = decide(reopened);
  BOOST_TEST((d.kind == DecisionKind::NotChecked));
  BOOST_TEST((d.reason == ReasonCode::NotAnAttendance));
}

// CPIS.md §4: A05/A14 are scheduled by nature. The pre-admission's updates (A08) are too: they
// made an unscheduled query, an access recorded and the LA told before the patient came. The
// admission itself (A01, a start) is checked as any.
BOOST_AUTO_TEST_CASE(a_pre_admission_s_updates_make_no_unscheduled_query_until_it_starts) {
  Decider decider(policy, time.clock(), memory);
  Attendance preAdmit = child();
  preAdmit.triggerEvent = "A05";
  preAdmit.scheduledOnly = true;
  const Decision first = decider.decide(preAdmit);
  BOOST_TEST_REQUIRE((first.kind == DecisionKind::NotChecked));
  decider.record(preAdmit, notCheckedOutcome(first, preAdmit, time.now, "c1", Source::Simulator));
  for (int i = 0; i < 2; ++i) {  // and again: a skipped update does not end the pre-admission
    time.now += 30min;
    Attendance update = child();
    update.event = AttendanceEvent::Update;
    update.triggerEvent = "A08";
    const Decision d = decider.decide(update);
    BOOST_TEST((d.kind == DecisionKind::NotChecked), d.reasonText);
    BOOST_TEST((d.reason == ReasonCode::NotAnAttendance));
    if (d.kind == DecisionKind::NotChecked) {
      decider.record(update, notCheckedOutcome(d, update, time.now, "c2", Source::Simulator));
    }
  }
  // An update moving it to a scheduled location reads silently; the pre-admission stays one.
  time.now += 30min;
  Attendance moved = child();
  moved.event = AttendanceEvent::Update;
  moved.triggerEvent = "A08";
  moved.setting = CareSetting::Camhs;
  moved.locationKey = "RZZ01/CAMHS";
  const Decision silent = decider.decide(moved);
  BOOST_TEST_REQUIRE((silent.kind == DecisionKind::CheckDue));
  BOOST_TEST((silent.mode == AccessMode::Scheduled));
  decider.record(moved, outcome(CheckStatus::NotFound, time.now, AccessMode::Scheduled));
  time.now += 30min;
  Attendance back = child();
  back.event = AttendanceEvent::Update;
  back.triggerEvent = "A08";
  BOOST_TEST((decider.decide(back).reason == ReasonCode::NotAnAttendance));
  time.now += 30min;
  Attendance admit = child();
  admit.triggerEvent = "A01";
  BOOST_TEST((decider.decide(admit).kind == DecisionKind::CheckDue));
}

// CPIS.md §8: the age at the attendance's start. A child who arrives the evening before their
// 18th birthday with an untraced number, traced after midnight: the update (its own time the
// 13th) is still a child's attendance. It was taken at the update's time: AGE_OUT_OF_SCOPE.
BOOST_AUTO_TEST_CASE(an_update_takes_the_age_at_the_attendance_s_start) {
  Decider decider(policy, time.clock(), memory);
  Attendance start = child();
  start.birthDate = 2007y / 6 / 13;
  start.arrivedAt = at(2025y / 6 / 12, 21h, 0min);  // 22:00 in London
  start.nhsStatus = NhsNumberStatus::Nsts03;
  time.now = *start.arrivedAt + 5min;
  const Decision first = decider.decide(start);
  BOOST_TEST_REQUIRE((first.reason == ReasonCode::NhsNumberUnverified));
  decider.record(start, notCheckedOutcome(first, start, time.now, "c1", Source::Simulator));
  time.now = at(2025y / 6 / 12, 23h, 35min);  // 00:35 on the 13th in London
  Attendance traced = start;
  traced.event = AttendanceEvent::Update;
  traced.triggerEvent = "A08";
  traced.nhsStatus = NhsNumberStatus::Nsts01;
  traced.arrivedAt = at(2025y / 6 / 12, 23h, 30min);  // the A08's own EVN time
  const Decision d = decider.decide(traced);
  BOOST_TEST((d.kind == DecisionKind::CheckDue), d.reasonText);
  // A new attendance that starts after midnight is an adult's.
  Attendance later = traced;
  later.event = AttendanceEvent::Start;
  later.triggerEvent = "A04";
  later.visitNumber = "A250613001";
  BOOST_TEST((decider.decide(later).reason == ReasonCode::AgeOutOfScope));
}

// CPIS.md §4 and hazard H1: an A40 merges the record of 9990000018 into 9990000026's. It queries
// nobody; the merge is recorded, so a check still owed on the retired number (an open
// attendance's or a discharged one's) moves to the surviving one, and its answer becomes the
// attendance's check on that number. A check made on the retired number after the merge (an
// EPR that still uses it) is not moved.
BOOST_AUTO_TEST_CASE(a_merge_re_keys_checks_owed_on_the_retired_number) {
  MergedNumbers merges(time.clock());
  Decider decider(policy, time.clock(), memory, &merges);
  Messages m{decider, time};
  const auto visit = [](std::string number) {
    return [number](Attendance& a) { a.visitNumber = std::move(number); };
  };
  const auto onVisit = [](std::string number) {
    Attendance a = child();
    a.visitNumber = std::move(number);
    return a;
  };
  const NhsNumber retired = nhs("9990000018"), surviving = nhs("9990000026");
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);               // open, on the retired number
  m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, visit("V-SECOND"));   // open too
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed, visit("V-ENDED"));
  m.send(AttendanceEvent::End, "A03", CheckStatus::Found, visit("V-ENDED"));      // discharged, check owed
  m.send(AttendanceEvent::Start, "A04", CheckStatus::Found, [](Attendance& a) {  // another child
    a.visitNumber = "V-OTHER";
    a.nhsNumber = nhs("9990000034");
  });
  const Instant failedAt = decider.previous(child())->decidedAt;

  time.now += 5min;
  Attendance a40 = child();
  a40.event = AttendanceEvent::Merge;
  a40.triggerEvent = "A40";
  a40.visitNumber.clear();  // an A40 names no visit
  a40.nhsNumber = surviving;
  a40.priorNhsNumber = retired;
  const Decision d = decider.decide(a40);
  BOOST_TEST((d.kind == DecisionKind::NotChecked));
  BOOST_TEST((d.reason == ReasonCode::NotAnAttendance));
  BOOST_TEST(d.reasonText.find("merges") != std::string::npos, d.reasonText);
  const MergeNoted noted = decider.noteMerge(a40);
  BOOST_TEST(noted.recorded);
  BOOST_TEST(!noted.known);
  BOOST_TEST(noted.survivingRefused.empty());
  BOOST_TEST(noted.openAttendances == 2u);  // not the discharged one, not the other child's
  BOOST_TEST(decider.noteMerge(a40).known);  // a resend

  const auto moved = decider.mergedInto(child(), failedAt);
  BOOST_TEST_REQUIRE(moved.has_value());
  BOOST_TEST((moved->surviving == surviving));
  BOOST_TEST(moved->refused.empty());
  BOOST_TEST((decider.mergedInto(onVisit("V-ENDED"), failedAt)->surviving == surviving));
  BOOST_TEST(!decider.mergedInto(child(), time.now).has_value());  // failed after the merge: stays
  Attendance other = onVisit("V-OTHER");
  other.nhsNumber = nhs("9990000034");
  BOOST_TEST(!decider.mergedInto(other, failedAt).has_value());
  Attendance onSurviving = child();
  onSurviving.nhsNumber = surviving;
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());  // the failure is still its last check

  // The deferred re-check asks about the surviving number: its answer takes the failure's
  // place, on that number. An answer about any other number does not.
  CheckOutcome wrong = outcome(CheckStatus::Found, time.now, AccessMode::Unscheduled);
  wrong.queried = nhs("9990000034");
  BOOST_TEST(!decider.recordDeferred(child(), wrong, failedAt));
  CheckOutcome answer = outcome(CheckStatus::NotFound, time.now, AccessMode::Unscheduled);
  answer.queried = surviving;
  BOOST_TEST_REQUIRE(decider.recordDeferred(child(), answer, failedAt));
  BOOST_TEST((decider.previous(child())->status == CheckStatus::NotFound));
  BOOST_TEST(!decider.supersededSince(child(), failedAt).has_value());  // its own answer: a retry is not superseded by it
  BOOST_TEST((decider.previous(child())->rekeyedFrom == retired));

  // The attendance's next updates repeat it, whether they carry the surviving number or still
  // the retired one: no second query for one attendance (CPIS.md §7).
  time.now += 1min;
  const auto carrying = [](NhsNumber number) { return [number](Attendance& a) { a.nhsNumber = number; }; };
  BOOST_TEST((m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, carrying(surviving)).kind ==
              DecisionKind::RepeatPrevious));
  BOOST_TEST((m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, carrying(retired)).kind ==
              DecisionKind::RepeatPrevious));
  // The other open attendance was checked on the retired number: an update carrying the
  // surviving one is checked on it.
  const Decision second = m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [&](Attendance& a) {
    a.nhsNumber = surviving;
    a.visitNumber = "V-SECOND";
  });
  BOOST_TEST((second.kind == DecisionKind::CheckDue), second.reasonText);
}

// The surviving record was merged on while the deferred check's query about it ran (X into Y,
// the query on Y, then Y into Z): the answer still takes the failure's place, on Y, and the
// attendance's next update, carrying Z, is checked on Z.
BOOST_AUTO_TEST_CASE(a_deferred_answer_on_a_number_merged_on_meanwhile_still_counts) {
  MergedNumbers merges(time.clock());
  Decider decider(policy, time.clock(), memory, &merges);
  Messages m{decider, time};
  const NhsNumber x = nhs("9990000018"), y = nhs("9990000026"), z = nhs("9990000034");
  m.send(AttendanceEvent::Start, "A04", CheckStatus::CheckFailed);
  const Instant failedAt = decider.previous(child())->decidedAt;
  time.now += 1min;
  merges.note(x, y, NhsNumberStatus::Nsts01);
  BOOST_TEST((decider.mergedInto(child(), failedAt)->surviving == y));  // the query goes to y
  time.now += 1min;
  merges.note(y, z, NhsNumberStatus::Nsts01);  // while it runs
  CheckOutcome answer = outcome(CheckStatus::Found, time.now, AccessMode::Unscheduled);
  answer.queried = y;
  BOOST_TEST_REQUIRE(decider.recordDeferred(child(), answer, failedAt));
  BOOST_TEST((decider.previous(child())->nhsNumber == y));
  const Decision next = m.send(AttendanceEvent::Update, "A08", CheckStatus::Found, [&](Attendance& a) { a.nhsNumber = z; });
  BOOST_TEST((next.kind == DecisionKind::CheckDue), next.reasonText);
}

// A merge is recorded whenever it names two valid, different NHS numbers. Whether a check owed
// on the retired number may move to the surviving one is each feed's own rule, applied to the
// surviving record as the A40 gave it (its PID-32): a feed that queries only verified numbers
// sends such a check to a person rather than query an unverified number (hazard H1), or the
// retired one.
BOOST_AUTO_TEST_CASE(a_merge_s_surviving_number_meets_each_feed_s_own_rules) {
  MergedNumbers merges(time.clock());
  Attendance a40 = child();
  a40.event = AttendanceEvent::Merge;
  a40.triggerEvent = "A40";
  a40.visitNumber.clear();
  a40.nhsNumber = nhs("9990000026");
  a40.priorNhsNumber = nhs("9990000018");
  a40.nhsStatus = NhsNumberStatus::Nsts02;
  DecisionPolicy lenient = policy;
  lenient.acceptUnverifiedNhsNumber = true;
  Decider sender(lenient, time.clock(), memory, &merges);
  const MergeNoted noted = sender.noteMerge(a40);
  BOOST_TEST(noted.recorded);
  BOOST_TEST(noted.survivingRefused.empty());
  const Instant before = time.now - 1min;
  BOOST_TEST(sender.mergedInto(child(), before)->refused.empty());

  Decider strict(policy, time.clock(), memory, &merges);
  BOOST_TEST(strict.mergedInto(child(), before)->refused == "NHS number trace status NSTS02 is not verified");
  DecisionPolicy live = policy;
  live.environment = Environment::Live;
  Decider inLive(live, time.clock(), memory, &merges);
  BOOST_TEST(inLive.mergedInto(child(), before)->refused == "an NHS number in the 999 test range in a LIVE feed");
  BOOST_TEST(strict.noteMerge(a40).survivingRefused == "NHS number trace status NSTS02 is not verified");

  const auto notRecorded = [&](const std::function<void(Attendance&)>& change) {
    Attendance a = a40;
    change(a);
    return sender.noteMerge(a).notRecorded;
  };
  BOOST_TEST(notRecorded([](Attendance& a) { a.priorNhsNumber = a.nhsNumber; }) ==
             "both records have the same NHS number");
  BOOST_TEST(notRecorded([](Attendance& a) { a.priorNhsNumber.reset(); }) ==
             "the message does not name both records' valid NHS numbers");
  Decider without(policy, time.clock(), memory);
  BOOST_TEST(!without.noteMerge(a40).recorded);
  BOOST_TEST(!without.mergedInto(child(), before).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(unmapped_locations)

BOOST_AUTO_TEST_CASE(reports_a_key_on_its_first_tenth_and_hundredth_message) {
  UnmappedLocations unmapped;
  std::vector<std::uint64_t> reported;
  for (int i = 0; i < 150; ++i) {
    const auto seen = unmapped.seen("RZZ01/NEWWARD");
    if (seen.report) reported.push_back(seen.count);
  }
  BOOST_TEST(reported == (std::vector<std::uint64_t>{1, 10, 100}));
  BOOST_TEST(unmapped.seen("RZZ01/OTHER").report);  // each key on its own
  const auto counts = unmapped.counts();
  BOOST_TEST_REQUIRE(counts.size() == 2u);
  BOOST_TEST(counts[0].first == "RZZ01/NEWWARD");
  BOOST_TEST(counts[0].second == 150u);
}

BOOST_AUTO_TEST_CASE(keys_beyond_the_bound_are_reported_each_time_and_not_kept) {
  UnmappedLocations unmapped;
  for (std::size_t i = 0; i < UnmappedLocations::kMaxKeys; ++i) unmapped.seen("K" + std::to_string(i));
  BOOST_TEST(unmapped.seen("BEYOND").report);
  BOOST_TEST(unmapped.seen("BEYOND").report);
  BOOST_TEST(unmapped.counts().size() == UnmappedLocations::kMaxKeys);
}

BOOST_AUTO_TEST_CASE(keys_are_made_loggable) {
  BOOST_TEST(UnmappedLocations::loggable("RZZ01/EDMAJ") == "RZZ01/EDMAJ");
  BOOST_TEST(UnmappedLocations::loggable("BED/9990000018") == "BED/********");  // never a number
  BOOST_TEST(UnmappedLocations::loggable("BED 999 000 0018") == "BED ********");
  BOOST_TEST(UnmappedLocations::loggable("W-12 3-4") == "W-12 3-4");
  BOOST_TEST(UnmappedLocations::loggable("W\x01\xC3\xA9") == "W???");
  BOOST_TEST(UnmappedLocations::loggable(std::string(100, 'A')).size() == 64u);
  BOOST_TEST(UnmappedLocations::loggable("") == "(none)");  // a message that names no location
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(check_memory)

// Retention runs from the last message about the attendance, not from its check: a long stay
// with an update now and then stays remembered (it used to be forgotten 48 hours after the
// check, and the next update queried CP-IS again).
BOOST_AUTO_TEST_CASE(forgets_after_its_retention_without_news_of_the_attendance) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock(), 48h);
  memory.remember("feed", "V1",
                  PreviousCheck{time.now, CheckStatus::Found, std::nullopt, true, AccessMode::Unscheduled});
  time.now += 47h;
  BOOST_TEST(memory.previous("feed", "V1").has_value());
  time.now += 47h;
  BOOST_TEST(memory.previous("feed", "V1").has_value());
  time.now += 49h;
  BOOST_TEST(!memory.previous("feed", "V1").has_value());
}

BOOST_AUTO_TEST_CASE(a_stay_of_weeks_is_remembered_by_default) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock());
  memory.remember("feed", "V1",
                  PreviousCheck{time.now, CheckStatus::Found, std::nullopt, true, AccessMode::Unscheduled});
  time.now += 24h * 20;
  BOOST_TEST(memory.previous("feed", "V1").has_value());
  time.now += 24h * 29;
  BOOST_TEST(memory.previous("feed", "V1").has_value());
}

BOOST_AUTO_TEST_CASE(an_attendance_asked_about_is_kept_over_ones_only_remembered) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock(), 48h, 2);
  const PreviousCheck check{time.now, CheckStatus::NotFound, std::nullopt, true, AccessMode::Unscheduled};
  memory.remember("feed", "V1", check);
  memory.remember("feed", "V2", check);
  BOOST_TEST(memory.previous("feed", "V1").has_value());  // V1 is now the most recently used
  memory.remember("feed", "V3", check);                   // V2 goes
  BOOST_TEST(memory.previous("feed", "V1").has_value());
  BOOST_TEST(!memory.previous("feed", "V2").has_value());
}

// A deferred check's answer replaces the failure it retried: a later update repeats it.
BOOST_AUTO_TEST_CASE(a_deferred_answer_replaces_the_failed_check_it_retried) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock());
  Decider decider(DecisionPolicy{}, time.clock(), memory);
  Attendance a = child();
  a.event = AttendanceEvent::Start;
  BOOST_TEST_REQUIRE((decider.decide(a).kind == DecisionKind::CheckDue));
  CheckOutcome failed = decide::outcome(CheckStatus::CheckFailed, time.now);
  decider.record(a, failed);
  time.now += 2min;
  const CheckOutcome found = decide::outcome(CheckStatus::Found, time.now);
  Attendance fromPayload;  // as the deferred check has it: no trace status
  fromPayload.feedId = a.feedId;
  fromPayload.visitNumber = a.visitNumber;
  fromPayload.nhsNumber = a.nhsNumber;
  BOOST_TEST(!decider.recordDeferred(fromPayload, found, failed.decidedAt - 1min));  // another failure's answer
  BOOST_TEST(decider.recordDeferred(fromPayload, found, failed.decidedAt));
  time.now += 3h;  // long after the failure, which an update would have tried again
  a.event = AttendanceEvent::Update;
  a.triggerEvent = "A08";
  const Decision update = decider.decide(a);
  BOOST_TEST((update.kind == DecisionKind::RepeatPrevious));
  BOOST_TEST((update.previousDecidedAt == found.decidedAt));
  // A failure on the visit again, then its answer for another number: the visit has moved on.
  failed.decidedAt = time.now;
  decider.record(a, failed);
  Attendance other = fromPayload;
  other.nhsNumber = nhs("9990000034");
  BOOST_TEST(!decider.recordDeferred(other, found, failed.decidedAt));
  BOOST_TEST(decider.recordDeferred(fromPayload, found, failed.decidedAt));
}

BOOST_AUTO_TEST_CASE(keeps_the_most_recent_within_its_capacity) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock(), 48h, 3);
  const PreviousCheck check{time.now, CheckStatus::NotFound, std::nullopt, true, AccessMode::Unscheduled};
  for (const char* visit : {"V1", "V2", "V3"}) memory.remember("feed", visit, check);
  memory.remember("feed", "V1", check);  // V1 is now the most recent
  memory.remember("feed", "V4", check);  // V2 goes
  BOOST_TEST(memory.size() == 3u);
  BOOST_TEST(memory.previous("feed", "V1").has_value());
  BOOST_TEST(!memory.previous("feed", "V2").has_value());
  BOOST_TEST(memory.previous("feed", "V3").has_value());
  BOOST_TEST(memory.previous("feed", "V4").has_value());
}

BOOST_AUTO_TEST_CASE(feed_and_visit_do_not_run_together) {
  FakeClock time;
  InMemoryCheckMemory memory(time.clock());
  memory.remember("ab", "c", PreviousCheck{time.now, CheckStatus::Found, std::nullopt, true, std::nullopt});
  BOOST_TEST(!memory.previous("a", "bc").has_value());
  BOOST_TEST(memory.previous("ab", "c").has_value());
}

// Merges chain (X into Y, then Y into Z: Z); a merge that closes a loop undoes the link that
// leaves its surviving record, and only that one; a stale merge into a record retired since
// still ends at the newest; each is kept for its retention and within its capacity; only the
// merges after `since` count.
BOOST_AUTO_TEST_CASE(merged_numbers_follow_chains_and_forget) {
  FakeClock time;
  const auto x = nhs("9990000018"), y = nhs("9990000026"), z = nhs("9990000034"), w = nhs("9990000042");
  const auto v = nhs("9990000050");
  const auto survivor = [](const MergedNumbers& merges, const NhsNumber& n, Instant since = Instant::min()) {
    const auto s = merges.survivorOf(n, since);
    return s ? std::string(s->number.reveal()) : std::string("-");
  };
  {
    MergedNumbers merges(time.clock());
    BOOST_TEST(merges.note(x, y, NhsNumberStatus::Nsts02));
    BOOST_TEST(!merges.note(x, y, NhsNumberStatus::Nsts01));  // known; the status is the newest
    BOOST_TEST((merges.survivorOf(x)->status == NhsNumberStatus::Nsts01));
    const Instant first = time.now;
    time.now += 1min;
    BOOST_TEST(merges.note(y, z, NhsNumberStatus::Nsts01));
    BOOST_TEST(survivor(merges, x) == "9990000034");
    BOOST_TEST(survivor(merges, y) == "9990000034");
    BOOST_TEST(survivor(merges, z) == "-");
    BOOST_TEST(survivor(merges, x, first) == "-");  // x's own merge came before: not moved
    BOOST_TEST(survivor(merges, y, first) == "9990000034");
    const Instant beforeStale = time.now;
    time.now += 1min;
    BOOST_TEST(merges.note(w, y, NhsNumberStatus::Nsts01));  // stale: y was retired since
    BOOST_TEST(survivor(merges, w) == "9990000034");
    BOOST_TEST(survivor(merges, w, beforeStale) == "9990000034");  // the first link decides; the rest follow
    BOOST_TEST(survivor(merges, y) == "9990000034");
    BOOST_TEST(merges.note(z, x, NhsNumberStatus::Nsts01));  // a loop: x is the live record again
    BOOST_TEST(survivor(merges, x) == "-");
    BOOST_TEST(survivor(merges, y) == "9990000018");
    BOOST_TEST(survivor(merges, z) == "9990000018");
    BOOST_TEST(merges.note(y, x, NhsNumberStatus::Nsts01));  // y straight into x now
    BOOST_TEST(survivor(merges, y) == "9990000018");
    time.now += hours(24 * 31);
    BOOST_TEST(survivor(merges, y) == "-");  // forgotten
  }
  MergedNumbers small(time.clock(), hours(24), 2);
  small.note(x, y, NhsNumberStatus::Nsts01);
  small.note(z, w, NhsNumberStatus::Nsts01);
  small.note(v, w, NhsNumberStatus::Nsts01);  // a third: the oldest goes
  BOOST_TEST(survivor(small, x) == "-");
  BOOST_TEST(survivor(small, z) == "9990000042");
  BOOST_TEST(survivor(small, v) == "9990000042");
}

BOOST_AUTO_TEST_SUITE_END()
