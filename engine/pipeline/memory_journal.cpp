#include "engine/pipeline/memory_journal.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <utility>
#include <vector>

namespace cpis::pipeline {

namespace {

// The rows' bodies: a version tag, then each field in a fixed order as a netstring ("5:hello,"),
// numbers in decimal, absent optionals as "0:," after a presence flag. Byte-exact for any value
// (names and texts from Spine or the EPR are written as they are), and quick both ways: a FOUND
// outcome with 25 prior accesses is written for every check. A body of another version, or one
// that does not read whole and to its end, is refused (its attendance is then checked again).
constexpr std::string_view kCheckVersion = "check/1";
constexpr std::string_view kOutcomeVersion = "outcome/1";
constexpr std::string_view kMergeVersion = "merge/1";

class Writer {
 public:
  explicit Writer(std::string_view version) { text(version); }
  Writer& text(std::string_view value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value.size()).ptr;
    out_.append(digits, end).append(1, ':').append(value).append(1, ',');
    return *this;
  }
  Writer& number(std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    return text(std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  Writer& flag(bool value) { return text(value ? "1" : "0"); }
  Writer& instant(domain::Instant at) { return number(at.time_since_epoch().count()); }
  Writer& date(domain::Date date) {
    return number(static_cast<int>(date.year()) * 10000 + static_cast<int>(static_cast<unsigned>(date.month())) * 100 +
                  static_cast<int>(static_cast<unsigned>(date.day())));
  }
  template <typename T, typename Put>
  Writer& optional(const std::optional<T>& value, Put&& put) {
    flag(value.has_value());
    if (value) put(*this, *value);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Thrown by Reader for a body that does not read; caught by decoded().
struct Unreadable : std::exception {};

class Reader {
 public:
  Reader(std::string_view body, std::string_view version) : rest_(body) {
    if (text() != version) throw Unreadable();
  }
  std::string_view text() {
    std::size_t length = 0;
    const auto [end, error] = std::from_chars(rest_.data(), rest_.data() + rest_.size(), length);
    if (error != std::errc() || end == rest_.data()) throw Unreadable();
    const std::size_t digits = static_cast<std::size_t>(end - rest_.data());
    if (digits >= rest_.size() || rest_[digits] != ':' || rest_.size() - digits - 1 < length + 1 ||
        rest_[digits + 1 + length] != ',') {
      throw Unreadable();
    }
    const std::string_view value = rest_.substr(digits + 1, length);
    rest_.remove_prefix(digits + 2 + length);
    return value;
  }
  std::int64_t number() {
    const std::string_view digits = text();
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) throw Unreadable();
    return value;
  }
  bool flag() {
    const std::string_view value = text();
    if (value != "0" && value != "1") throw Unreadable();
    return value == "1";
  }
  domain::Instant instant() { return domain::Instant(std::chrono::milliseconds(number())); }
  domain::Date date() {
    const std::int64_t value = number();
    const domain::Date date{std::chrono::year(static_cast<int>(value / 10000)),
                            std::chrono::month(static_cast<unsigned>(value / 100 % 100)),
                            std::chrono::day(static_cast<unsigned>(value % 100))};
    if (value < 0 || !date.ok()) throw Unreadable();
    return date;
  }
  std::size_t count(std::size_t most) {
    const std::int64_t value = number();
    if (value < 0 || static_cast<std::uint64_t>(value) > most) throw Unreadable();
    return static_cast<std::size_t>(value);
  }
  template <typename Take>
  auto optional(Take&& take) -> std::optional<decltype(take(*this))> {
    if (!flag()) return std::nullopt;
    return take(*this);
  }
  domain::NhsNumber nhsNumber() { return need(domain::NhsNumber::parse(text())); }
  template <typename T>
  static T need(std::optional<T> value) {
    if (!value) throw Unreadable();
    return std::move(*value);
  }
  bool atEnd() const noexcept { return rest_.empty(); }
  void end() const {
    if (!rest_.empty()) throw Unreadable();
  }

 private:
  std::string_view rest_;
};

// The enumeration value whose code is `code`, of those listed.
template <typename E, std::size_t N>
E byCode(const std::array<E, N>& values, std::string_view code) {
  for (const E value : values) {
    if (domain::codeOf(value) == code) return value;
  }
  throw Unreadable();
}
constexpr std::array kStatuses{domain::CheckStatus::Found, domain::CheckStatus::NotFound,
                               domain::CheckStatus::CheckFailed, domain::CheckStatus::NotChecked};
constexpr std::array kSubjects{domain::SubjectKind::Child, domain::SubjectKind::UnbornChild};
constexpr std::array kSources{domain::Source::Spine, domain::Source::FhirApi, domain::Source::Simulator};
constexpr std::array kModes{domain::AccessMode::Unscheduled, domain::AccessMode::Scheduled};
constexpr std::array kPlanTypes{domain::PlanType::Cppi, domain::PlanType::Laci, domain::PlanType::Ucpi};

// Runs `read` on a Reader of the body; nullopt when the body does not read whole.
template <typename Read>
auto decoded(std::string_view body, std::string_view version, Read&& read)
    -> std::optional<decltype(read(std::declval<Reader&>()))> {
  try {
    Reader reader(body, version);
    auto value = read(reader);
    reader.end();
    return value;
  } catch (const Unreadable&) {
    return std::nullopt;
  }
}

const auto putNumber = [](Writer& w, const domain::NhsNumber& number) { w.text(number.reveal()); };
const auto putInstant = [](Writer& w, domain::Instant at) { w.instant(at); };
const auto putMode = [](Writer& w, domain::AccessMode mode) { w.text(domain::codeOf(mode)); };
const auto putText = [](Writer& w, const std::string& text) { w.text(text); };
const auto takeNumber = [](Reader& r) { return r.nhsNumber(); };
const auto takeInstant = [](Reader& r) { return r.instant(); };
const auto takeMode = [](Reader& r) { return byCode(kModes, r.text()); };
const auto takeText = [](Reader& r) { return std::string(r.text()); };
const auto putReason = [](Writer& w, domain::ReasonCode reason) { w.text(domain::codeOf(reason)); };
const auto takeReason = [](Reader& r) { return Reader::need(domain::parseReasonCode(r.text())); };

// Bounds on what a body may hold (CPIS.md: 1..3 plans a record, 25 accesses; generous).
constexpr std::size_t kMostRecords = 64;
constexpr std::size_t kMostPlans = 64;
constexpr std::size_t kMostAccesses = 1024;

}  // namespace

std::string encodeCheck(const PreviousCheck& check) {
  Writer w(kCheckVersion);
  w.instant(check.decidedAt).text(domain::codeOf(check.status));
  w.optional(check.nhsNumber, putNumber).flag(check.nhsNumberVerified).optional(check.mode, putMode);
  w.flag(check.scheduledByNature).optional(check.arrivedAt, putInstant).optional(check.cancelledAt, putInstant);
  w.optional(check.endedAt, putInstant).optional(check.rekeyedFrom, putNumber);
  w.optional(check.answersFailureAt, putInstant);
  // Only when it is another number than the one checked: the row is then as a row written
  // before the field was kept, which engines of that time still read.
  if (check.lastNumber && check.lastNumber != check.nhsNumber) {
    w.optional(check.lastNumber, putNumber).optional(check.lastNumberAt, putInstant).flag(check.lastNumberPending);
    w.optional(check.lastNumberRefused, putReason);
  }
  return w.take();
}

std::optional<PreviousCheck> decodeCheck(std::string_view body) {
  return decoded(body, kCheckVersion, [](Reader& r) {
    PreviousCheck check;
    check.decidedAt = r.instant();
    check.status = byCode(kStatuses, r.text());
    check.nhsNumber = r.optional(takeNumber);
    check.nhsNumberVerified = r.flag();
    check.mode = r.optional(takeMode);
    check.scheduledByNature = r.flag();
    check.arrivedAt = r.optional(takeInstant);
    check.cancelledAt = r.optional(takeInstant);
    check.endedAt = r.optional(takeInstant);
    check.rekeyedFrom = r.optional(takeNumber);
    check.answersFailureAt = r.optional(takeInstant);
    // The latest message's number, written only when it is another than the one checked.
    if (r.atEnd()) {
      check.lastNumber = check.nhsNumber;
    } else {
      check.lastNumber = r.optional(takeNumber);
      check.lastNumberAt = r.optional(takeInstant);
      check.lastNumberPending = r.flag();
      check.lastNumberRefused = r.optional(takeReason);
    }
    return check;
  });
}

std::string encodeOutcome(const domain::CheckOutcome& outcome) {
  Writer w(kOutcomeVersion);
  w.text(domain::codeOf(outcome.status));
  w.optional(outcome.reason, putReason);
  w.text(outcome.reasonText).optional(outcome.queried, putNumber);
  w.optional(outcome.refusedNhsNumber, [](Writer& o, const domain::RefusedNhsNumber& n) { o.text(n.reveal()); });
  w.optional(outcome.mode, putMode);
  w.number(static_cast<std::int64_t>(outcome.records.size()));
  for (const domain::CpisRecord& record : outcome.records) {
    w.text(record.la.odsCode).text(record.la.name).text(record.la.emergencyPhone);
    w.optional(record.la.workplacePhone, putText).text(domain::codeOf(record.subject));
    w.number(static_cast<std::int64_t>(record.plans.size()));
    for (const domain::ProtectionPlan& plan : record.plans) {
      w.text(domain::codeOf(plan.type)).date(plan.start);
      w.optional(plan.end, [](Writer& o, domain::Date end) { o.date(end); });
    }
  }
  w.number(static_cast<std::int64_t>(outcome.accesses.size()));
  for (const domain::PriorAccess& access : outcome.accesses) {
    w.instant(access.at).flag(access.bySystem).text(access.personName).text(access.jobRoleCode);
    w.text(access.jobRoleName).text(access.orgOdsCode).text(access.orgName).optional(access.asid, putText);
  }
  w.instant(outcome.decidedAt).text(outcome.checkId).text(domain::codeOf(outcome.source));
  return w.take();
}

std::optional<domain::CheckOutcome> decodeOutcome(std::string_view body) {
  return decoded(body, kOutcomeVersion, [](Reader& r) {
    domain::CheckOutcome outcome;
    outcome.status = byCode(kStatuses, r.text());
    outcome.reason = r.optional(takeReason);
    outcome.reasonText = std::string(r.text());
    outcome.queried = r.optional(takeNumber);
    if (const auto refused = r.optional(takeText)) outcome.refusedNhsNumber.emplace(*refused);
    outcome.mode = r.optional(takeMode);
    outcome.records.resize(r.count(kMostRecords));
    for (domain::CpisRecord& record : outcome.records) {
      record.la.odsCode = std::string(r.text());
      record.la.name = std::string(r.text());
      record.la.emergencyPhone = std::string(r.text());
      record.la.workplacePhone = r.optional(takeText);
      record.subject = byCode(kSubjects, r.text());
      record.plans.resize(r.count(kMostPlans));
      for (domain::ProtectionPlan& plan : record.plans) {
        plan.type = byCode(kPlanTypes, r.text());
        plan.start = r.date();
        plan.end = r.optional([](Reader& o) { return o.date(); });
      }
    }
    outcome.accesses.resize(r.count(kMostAccesses));
    for (domain::PriorAccess& access : outcome.accesses) {
      access.at = r.instant();
      access.bySystem = r.flag();
      access.personName = std::string(r.text());
      access.jobRoleCode = std::string(r.text());
      access.jobRoleName = std::string(r.text());
      access.orgOdsCode = std::string(r.text());
      access.orgName = std::string(r.text());
      access.asid = r.optional(takeText);
    }
    outcome.decidedAt = r.instant();
    outcome.checkId = std::string(r.text());
    outcome.source = byCode(kSources, r.text());
    return outcome;
  });
}

std::string encodeMerge(const MergedNumbers::Survivor& survivor) {
  Writer w(kMergeVersion);
  w.text(survivor.number.reveal()).number(static_cast<int>(survivor.status));
  return w.take();
}

std::optional<MergedNumbers::Survivor> decodeMerge(std::string_view body) {
  return decoded(body, kMergeVersion, [](Reader& r) {
    const domain::NhsNumber number = r.nhsNumber();
    const std::int64_t status = r.number();
    if (status < static_cast<int>(domain::NhsNumberStatus::Nsts01) ||
        status > static_cast<int>(domain::NhsNumberStatus::Absent)) {
      throw Unreadable();
    }
    return MergedNumbers::Survivor{number, static_cast<domain::NhsNumberStatus>(status)};
  });
}

MemoryJournal::MemoryJournal(Clock clock, store::MessageStore& store) : clock_(std::move(clock)), store_(store) {}

void MemoryJournal::stage(std::string_view kind, std::string_view feed, std::string key, std::string body,
                          domain::Instant at, bool touch) {
  std::vector<store::MemoryRow> rows(1);
  store::MemoryRow& row = rows.front();
  row.kind = kind;
  row.feed = feed;
  row.key = std::move(key);
  row.body = std::move(body);
  row.at = store::TimePoint(at);
  row.touch = touch;
  store_.stageMemory(std::move(rows));
}

void MemoryJournal::checkChanged(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check) {
  stage(kCheckRow, feed, std::string(visitNumber), encodeCheck(check), clock_());
}

void MemoryJournal::checkTouched(std::string_view feed, std::string_view visitNumber) {
  stage(kCheckRow, feed, std::string(visitNumber), {}, clock_(), true);
}

void MemoryJournal::outcomeChanged(std::string_view feed, std::string_view visitNumber,
                                   const domain::CheckOutcome& outcome) {
  stage(kOutcomeRow, feed, std::string(visitNumber), encodeOutcome(outcome), clock_());
}

void MemoryJournal::mergeChanged(const domain::NhsNumber& retired,
                                 const std::optional<MergedNumbers::Survivor>& survivor, domain::Instant at) {
  stage(kMergeRow, {}, std::string(retired.reveal()), survivor ? encodeMerge(*survivor) : std::string(), at);
}

}  // namespace cpis::pipeline
