#include "engine/pipeline/memory_journal.h"

#include <array>
#include <cstdio>
#include <exception>
#include <sstream>
#include <type_traits>
#include <utility>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Logger.h>

namespace cpis::pipeline {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.memory");
}

// Instants as milliseconds since 1970 (what the engine compares them at: a check repeated is
// matched by its decidedAt), dates as YYYY-MM-DD, enumerations as their wire codes.
Poco::Int64 millis(domain::Instant at) {
  return at.time_since_epoch().count();
}
domain::Instant instantOf(Poco::Int64 ms) {
  return domain::Instant(std::chrono::milliseconds(ms));
}

std::string dateText(domain::Date date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}
std::optional<domain::Date> dateOf(const std::string& text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  char dash1 = 0;
  char dash2 = 0;
  std::istringstream in(text);
  if (!(in >> y >> dash1 >> m >> dash2 >> d) || dash1 != '-' || dash2 != '-') return std::nullopt;
  const domain::Date date{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!date.ok()) return std::nullopt;
  return date;
}

// The enumeration value whose code is `code`, of those listed.
template <typename E, std::size_t N>
std::optional<E> byCode(const std::array<E, N>& values, std::string_view code) {
  for (const E value : values) {
    if (domain::codeOf(value) == code) return value;
  }
  return std::nullopt;
}
constexpr std::array kStatuses{domain::CheckStatus::Found, domain::CheckStatus::NotFound,
                               domain::CheckStatus::CheckFailed, domain::CheckStatus::NotChecked};
constexpr std::array kSubjects{domain::SubjectKind::Child, domain::SubjectKind::UnbornChild};
constexpr std::array kSources{domain::Source::Spine, domain::Source::FhirApi, domain::Source::Simulator};

// Thrown by the readers below for a value that is there but wrong; Poco's own exceptions cover
// a value that is missing or of the wrong type.
struct Unreadable : std::exception {};

template <typename T>
T need(std::optional<T> value) {
  if (!value) throw Unreadable();
  return std::move(*value);
}

domain::NhsNumber nhsNumberOf(const Object& object, const std::string& name) {
  return need(domain::NhsNumber::parse(object.getValue<std::string>(name)));
}
std::optional<domain::NhsNumber> optionalNhsNumber(const Object& object, const std::string& name) {
  if (!object.has(name)) return std::nullopt;
  return nhsNumberOf(object, name);
}
std::optional<domain::Instant> optionalInstant(const Object& object, const std::string& name) {
  if (!object.has(name)) return std::nullopt;
  return instantOf(object.getValue<Poco::Int64>(name));
}
std::optional<domain::AccessMode> optionalMode(const Object& object) {
  if (!object.has("mode")) return std::nullopt;
  return need(domain::parseAccessMode(object.getValue<std::string>("mode")));
}
std::optional<std::string> optionalText(const Object& object, const std::string& name) {
  if (!object.has(name)) return std::nullopt;
  return object.getValue<std::string>(name);
}

std::string text(const Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

Object::Ptr parsed(std::string_view body) {
  Poco::JSON::Parser parser;
  return parser.parse(std::string(body)).extract<Object::Ptr>();
}

// Runs `read` on the body's object; nullopt when anything in it cannot be read.
template <typename Read>
auto decoded(std::string_view body, Read&& read) -> std::optional<decltype(read(std::declval<const Object&>()))> {
  try {
    const Object::Ptr object = parsed(body);
    if (!object) return std::nullopt;
    return read(*object);
  } catch (const std::exception&) {  // Poco::Exception, Unreadable, a bad_cast of a wrong type
    return std::nullopt;
  }
}

}  // namespace

std::string encodeCheck(const PreviousCheck& check) {
  Object object;
  object.set("decidedAt", millis(check.decidedAt));
  object.set("status", std::string(domain::codeOf(check.status)));
  if (check.nhsNumber) object.set("nhsNumber", std::string(check.nhsNumber->reveal()));
  object.set("verified", check.nhsNumberVerified);
  if (check.mode) object.set("mode", std::string(domain::codeOf(*check.mode)));
  object.set("scheduledByNature", check.scheduledByNature);
  if (check.arrivedAt) object.set("arrivedAt", millis(*check.arrivedAt));
  if (check.cancelledAt) object.set("cancelledAt", millis(*check.cancelledAt));
  if (check.endedAt) object.set("endedAt", millis(*check.endedAt));
  if (check.rekeyedFrom) object.set("rekeyedFrom", std::string(check.rekeyedFrom->reveal()));
  return text(object);
}

std::optional<PreviousCheck> decodeCheck(std::string_view body) {
  return decoded(body, [](const Object& object) {
    PreviousCheck check;
    check.decidedAt = instantOf(object.getValue<Poco::Int64>("decidedAt"));
    check.status = need(byCode(kStatuses, object.getValue<std::string>("status")));
    check.nhsNumber = optionalNhsNumber(object, "nhsNumber");
    check.nhsNumberVerified = object.getValue<bool>("verified");
    check.mode = optionalMode(object);
    check.scheduledByNature = object.getValue<bool>("scheduledByNature");
    check.arrivedAt = optionalInstant(object, "arrivedAt");
    check.cancelledAt = optionalInstant(object, "cancelledAt");
    check.endedAt = optionalInstant(object, "endedAt");
    check.rekeyedFrom = optionalNhsNumber(object, "rekeyedFrom");
    return check;
  });
}

std::string encodeOutcome(const domain::CheckOutcome& outcome) {
  Object object;
  object.set("status", std::string(domain::codeOf(outcome.status)));
  if (outcome.reason) object.set("reason", std::string(domain::codeOf(*outcome.reason)));
  object.set("reasonText", outcome.reasonText);
  if (outcome.queried) object.set("queried", std::string(outcome.queried->reveal()));
  if (outcome.refusedNhsNumber) object.set("refused", std::string(outcome.refusedNhsNumber->reveal()));
  if (outcome.mode) object.set("mode", std::string(domain::codeOf(*outcome.mode)));
  Array records;
  for (const domain::CpisRecord& record : outcome.records) {
    Object la;
    la.set("ods", record.la.odsCode);
    la.set("name", record.la.name);
    la.set("emergencyPhone", record.la.emergencyPhone);
    if (record.la.workplacePhone) la.set("workplacePhone", *record.la.workplacePhone);
    Array plans;
    for (const domain::ProtectionPlan& plan : record.plans) {
      Object p;
      p.set("type", std::string(domain::codeOf(plan.type)));
      p.set("start", dateText(plan.start));
      if (plan.end) p.set("end", dateText(*plan.end));
      plans.add(p);
    }
    Object r;
    r.set("la", la);
    r.set("subject", std::string(domain::codeOf(record.subject)));
    r.set("plans", plans);
    records.add(r);
  }
  object.set("records", records);
  Array accesses;
  for (const domain::PriorAccess& access : outcome.accesses) {
    Object a;
    a.set("at", millis(access.at));
    a.set("bySystem", access.bySystem);
    a.set("person", access.personName);
    a.set("roleCode", access.jobRoleCode);
    a.set("roleName", access.jobRoleName);
    a.set("ods", access.orgOdsCode);
    a.set("org", access.orgName);
    if (access.asid) a.set("asid", *access.asid);
    accesses.add(a);
  }
  object.set("accesses", accesses);
  object.set("decidedAt", millis(outcome.decidedAt));
  object.set("checkId", outcome.checkId);
  object.set("source", std::string(domain::codeOf(outcome.source)));
  return text(object);
}

std::optional<domain::CheckOutcome> decodeOutcome(std::string_view body) {
  return decoded(body, [](const Object& object) {
    domain::CheckOutcome outcome;
    outcome.status = need(byCode(kStatuses, object.getValue<std::string>("status")));
    if (object.has("reason")) outcome.reason = need(domain::parseReasonCode(object.getValue<std::string>("reason")));
    outcome.reasonText = object.getValue<std::string>("reasonText");
    outcome.queried = optionalNhsNumber(object, "queried");
    if (const auto refused = optionalText(object, "refused")) outcome.refusedNhsNumber.emplace(*refused);
    outcome.mode = optionalMode(object);
    const Array::Ptr records = object.getArray("records");
    if (!records) throw Unreadable();
    for (std::size_t i = 0; i < records->size(); ++i) {
      const Object::Ptr r = records->getObject(static_cast<unsigned>(i));
      if (!r) throw Unreadable();
      const Object::Ptr la = r->getObject("la");
      const Array::Ptr plans = r->getArray("plans");
      if (!la || !plans) throw Unreadable();
      domain::CpisRecord record;
      record.la.odsCode = la->getValue<std::string>("ods");
      record.la.name = la->getValue<std::string>("name");
      record.la.emergencyPhone = la->getValue<std::string>("emergencyPhone");
      record.la.workplacePhone = optionalText(*la, "workplacePhone");
      record.subject = need(byCode(kSubjects, r->getValue<std::string>("subject")));
      for (std::size_t j = 0; j < plans->size(); ++j) {
        const Object::Ptr p = plans->getObject(static_cast<unsigned>(j));
        if (!p) throw Unreadable();
        domain::ProtectionPlan plan;
        plan.type = need(domain::parsePlanType(p->getValue<std::string>("type")));
        plan.start = need(dateOf(p->getValue<std::string>("start")));
        if (p->has("end")) plan.end = need(dateOf(p->getValue<std::string>("end")));
        record.plans.push_back(plan);
      }
      outcome.records.push_back(std::move(record));
    }
    const Array::Ptr accesses = object.getArray("accesses");
    if (!accesses) throw Unreadable();
    for (std::size_t i = 0; i < accesses->size(); ++i) {
      const Object::Ptr a = accesses->getObject(static_cast<unsigned>(i));
      if (!a) throw Unreadable();
      domain::PriorAccess access;
      access.at = instantOf(a->getValue<Poco::Int64>("at"));
      access.bySystem = a->getValue<bool>("bySystem");
      access.personName = a->getValue<std::string>("person");
      access.jobRoleCode = a->getValue<std::string>("roleCode");
      access.jobRoleName = a->getValue<std::string>("roleName");
      access.orgOdsCode = a->getValue<std::string>("ods");
      access.orgName = a->getValue<std::string>("org");
      access.asid = optionalText(*a, "asid");
      outcome.accesses.push_back(std::move(access));
    }
    outcome.decidedAt = instantOf(object.getValue<Poco::Int64>("decidedAt"));
    outcome.checkId = object.getValue<std::string>("checkId");
    outcome.source = need(byCode(kSources, object.getValue<std::string>("source")));
    return outcome;
  });
}

std::string encodeMerge(const MergedNumbers::Survivor& survivor) {
  Object object;
  object.set("surviving", std::string(survivor.number.reveal()));
  object.set("status", static_cast<int>(survivor.status));
  return text(object);
}

std::optional<MergedNumbers::Survivor> decodeMerge(std::string_view body) {
  return decoded(body, [](const Object& object) {
    const int status = object.getValue<int>("status");
    if (status < static_cast<int>(domain::NhsNumberStatus::Nsts01) ||
        status > static_cast<int>(domain::NhsNumberStatus::Absent)) {
      throw Unreadable();
    }
    return MergedNumbers::Survivor{nhsNumberOf(object, "surviving"), static_cast<domain::NhsNumberStatus>(status)};
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
  change.sequence = ++sequence_;
}

void MemoryJournal::checkChanged(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check) {
  changed(kCheckRow, feed, std::string(visitNumber), check, clock_());
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
          } else if (entry) {
            row.body = encodeMerge(*entry);
          }  // else: empty, the row is deleted
        },
        change.entry);
    rows.push_back(std::move(row));
  }
  core::Status status = store.saveMemory(rows, purgeBefore);
  if (!status.isOk()) {
    // Kept for the next flush, unless changed again meanwhile (the newer change is the one to write).
    const std::lock_guard lock(mutex_);
    for (auto& [key, change] : taken) changes_.try_emplace(key, std::move(change));
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
