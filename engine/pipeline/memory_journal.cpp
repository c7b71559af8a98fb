#include "engine/pipeline/memory_journal.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <span>
#include <type_traits>
#include <utility>

#include <Poco/Logger.h>

namespace cpis::pipeline {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.memory");
}

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

// Rows per saveMemory (one transaction each).
constexpr std::size_t kRowsPerWrite = 32;

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
    return check;
  });
}

std::string encodeOutcome(const domain::CheckOutcome& outcome) {
  Writer w(kOutcomeVersion);
  w.text(domain::codeOf(outcome.status));
  w.optional(outcome.reason, [](Writer& o, domain::ReasonCode reason) { o.text(domain::codeOf(reason)); });
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
    outcome.reason = r.optional([](Reader& o) { return Reader::need(domain::parseReasonCode(o.text())); });
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

MemoryJournal::MemoryJournal(Clock clock) : clock_(std::move(clock)) {}

MemoryJournal::~MemoryJournal() {
  (void)stop();
}

void MemoryJournal::changed(std::string_view kind, std::string_view feed, std::string key, Entry entry,
                            domain::Instant at) {
  const std::lock_guard lock(mutex_);
  Change& change = changes_[Key{std::string(kind), std::string(feed), std::move(key)}];
  change.entry = std::move(entry);
  change.at = at;
}

void MemoryJournal::checkChanged(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check) {
  changed(kCheckRow, feed, std::string(visitNumber), check, clock_());
}

void MemoryJournal::checkTouched(std::string_view feed, std::string_view visitNumber) {
  const domain::Instant at = clock_();
  const std::lock_guard lock(mutex_);
  auto [it, added] = changes_.try_emplace(Key{std::string(kCheckRow), std::string(feed), std::string(visitNumber)});
  if (added) {
    it->second.entry = Touch{};
    it->second.at = at;
  } else {
    it->second.at = std::max(it->second.at, at);
  }
}

void MemoryJournal::outcomeChanged(std::string_view feed, std::string_view visitNumber,
                                   const domain::CheckOutcome& outcome) {
  changed(kOutcomeRow, feed, std::string(visitNumber), outcome, clock_());
}

void MemoryJournal::mergeChanged(const domain::NhsNumber& retired,
                                 const std::optional<MergedNumbers::Survivor>& survivor, domain::Instant at) {
  changed(kMergeRow, {}, std::string(retired.reveal()), survivor, at);
}

std::size_t MemoryJournal::pending() const {
  const std::lock_guard lock(mutex_);
  return changes_.size();
}

core::Status MemoryJournal::flush(store::MessageStore& store, std::optional<store::TimePoint> purgeBefore) {
  const std::lock_guard flushing(flushMutex_);
  std::map<Key, Change> taken;
  {
    const std::lock_guard lock(mutex_);
    taken.swap(changes_);
  }
  if (taken.empty() && !purgeBefore) return core::Status::ok();
  try {
    return write(store, taken, purgeBefore);
  } catch (const std::exception& e) {  // no memory to encode a row: kept, as after a failed write
    const std::lock_guard lock(mutex_);
    for (auto& [key, change] : taken) changes_.try_emplace(key, std::move(change));
    return core::Status::internal(std::string("attendance memory not encoded: ") + e.what());
  }
}

core::Status MemoryJournal::write(store::MessageStore& store, std::map<Key, Change>& taken,
                                  std::optional<store::TimePoint> purgeBefore) {
  // Encoded here, off the threads that answer messages.
  std::vector<store::MemoryRow> rows;
  rows.reserve(taken.size());
  for (const auto& [key, change] : taken) {
    store::MemoryRow row;
    row.kind = std::get<0>(key);
    row.feed = std::get<1>(key);
    row.key = std::get<2>(key);
    row.at = store::TimePoint(change.at);
    std::visit(
        [&](const auto& entry) {
          using T = std::decay_t<decltype(entry)>;
          if constexpr (std::is_same_v<T, PreviousCheck>) {
            row.body = encodeCheck(entry);
          } else if constexpr (std::is_same_v<T, domain::CheckOutcome>) {
            row.body = encodeOutcome(entry);
          } else if constexpr (std::is_same_v<T, Touch>) {
            row.touch = true;
          } else if (entry) {
            row.body = encodeMerge(*entry);
          }  // else: empty, the row is deleted
        },
        change.entry);
    rows.push_back(std::move(row));
  }
  // A few rows a transaction: the store's writer commits messages in the same transactions
  // (SQLite's group commit), and a large one would hold their acknowledgements up.
  std::size_t written = 0;
  core::Status status = core::Status::ok();
  while (status.isOk() && (written < rows.size() || (written == 0 && purgeBefore))) {
    const std::size_t n = std::min(kRowsPerWrite, rows.size() - written);
    const bool last = written + n == rows.size();
    status = store.saveMemory(std::span(rows).subspan(written, n), last ? purgeBefore : std::nullopt);
    if (status.isOk()) written += n;
    if (last) break;
  }
  if (!status.isOk()) {
    // What was not written is kept for the next flush, unless changed again meanwhile (the
    // newer change is the one to write).
    const std::lock_guard lock(mutex_);
    std::size_t index = 0;
    for (auto& [key, change] : taken) {
      if (index++ >= written) changes_.try_emplace(key, std::move(change));
    }
  }
  return status;
}

void MemoryJournal::start(store::MessageStore& store, std::chrono::milliseconds interval,
                          std::chrono::milliseconds retention) {
  {
    const std::lock_guard lock(mutex_);
    store_ = &store;
    retention_ = retention;
  }
  thread_ = std::thread([this, &store, interval] {
    std::unique_lock lock(mutex_);
    bool failing = false;
    // Rows past the memory's retention go every ten minutes (a flush with nothing to write and
    // nothing to purge costs nothing).
    constexpr auto kPurgeEvery = std::chrono::minutes(10);
    auto nextPurge = std::chrono::steady_clock::now();
    while (!stopping_) {
      wake_.wait_for(lock, interval, [&] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      std::optional<store::TimePoint> purgeBefore;
      if (std::chrono::steady_clock::now() >= nextPurge) {
        nextPurge = std::chrono::steady_clock::now() + kPurgeEvery;
        purgeBefore = store::TimePoint(clock_() - retention_);
      }
      const core::Status status = flush(store, purgeBefore);
      // Once per spell of failures: the store's own errors are logged where they happen.
      if (!status.isOk() && !failing) {
        logger().error("attendance memory not written (kept, tried again): %s", status.message());
      } else if (status.isOk() && failing) {
        logger().notice("attendance memory written again");
      }
      failing = !status.isOk();
      lock.lock();
    }
  });
}

core::Status MemoryJournal::stop() {
  store::MessageStore* store = nullptr;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    store = store_;
    store_ = nullptr;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (store == nullptr) return core::Status::ok();
  core::Status status = flush(*store);
  if (!status.isOk()) {
    logger().error("attendance memory not written at stop: %s (a restart checks those attendances again)",
                   status.message());
  }
  return status;
}

}  // namespace cpis::pipeline
