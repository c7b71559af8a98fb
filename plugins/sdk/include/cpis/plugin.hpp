// cpis/plugin.hpp: a header-only C++ layer over cpis/plugin.h (C++17 and later). It is compiled
// into the plugin, never into the engine: only the C ABI crosses. An adapter is one class:
//
//   class MyAdapter final : public cpis::sdk::Adapter {
//    public:
//     explicit MyAdapter(const cpis::sdk::Config& config);
//     cpis::sdk::AdaptResult adapt(const cpis::sdk::MessageView& message,
//                                  cpis::sdk::AttendanceBuilder& out) const override;
//     void composeAlerts(const cpis::sdk::CheckOutcome& outcome,           // optional
//                        cpis::sdk::AlertWriter& out) const override;
//   };
//   CPIS_EXPORT_ADAPTER(MyAdapter, "mine", "1.0.0",
//                       cpis::sdk::stringKey("mrn_authority", "", "PID-3.4 of the local MRN"))
//
// CPIS_EXPORT_ADAPTER writes the entry point and noexcept trampolines: every exception stops
// there and becomes CPIS_FAILED with its what() text (never put patient data in exception
// texts). Misuse the engine reports (a bad path, an unknown field, a refused write) throws
// sdk::UsageError, so it surfaces the same way, as the plugin's bug.
//
// Texts returned as std::string_view point into the engine's memory and stay valid until the
// call (adapt, composeAlerts, deliver) returns: copy what you keep.
#ifndef CPIS_PLUGIN_HPP
#define CPIS_PLUGIN_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <cpis/plugin.h>

namespace cpis {
namespace sdk {

inline std::string_view toView(cpis_str text) noexcept {
  return text.size == 0 ? std::string_view() : std::string_view(text.data, text.size);
}
inline cpis_str toStr(std::string_view text) noexcept {
  return cpis_str{text.data(), text.size()};
}

// A misuse the engine refused: a bad path, an unknown field or key, a refused write. The
// trampolines turn it into CPIS_FAILED (ERR 207) with this text.
class UsageError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {
struct Glue;
// The host a plugin is being constructed for on this thread (Glue::create), else null.
inline thread_local const cpis_host_api* constructingFor = nullptr;

inline std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  out += text;
  out += '\'';
  return out;
}

// Throws UsageError unless the engine answered OK (or ABSENT where `absentIsFine`).
inline void require(cpis_host_result result, const char* operation, std::string_view subject,
                    bool absentIsFine = true) {
  if (result == CPIS_HOST_OK || (absentIsFine && result == CPIS_HOST_ABSENT)) return;
  std::string what = operation;
  what += ' ';
  what += quoted(subject);
  switch (result) {
    case CPIS_HOST_BAD_ARGUMENT: {
      // What the engine refused, by what was asked of it.
      const std::string_view asked = operation;
      if (asked == "attendance field") {
        what += ": refused by the engine (a value this field does not take, or a field it has not)";
      } else if (asked == "setting path") {
        what +=
            ": refused by the engine (not an HL7 path with explicit repetitions, or a value it cannot hold)";
      } else if (asked.find("path") != std::string_view::npos) {
        what += ": refused by the engine (not an HL7 path it reads, e.g. PID-3(2).4.1)";
      } else if (asked == "configuration key") {
        what += ": refused by the engine (not one of this plugin's keys, or not of this type)";
      } else {
        what += ": refused by the engine (bad name or value)";
      }
      break;
    }
    case CPIS_HOST_READ_ONLY: what += ": read only here"; break;
    case CPIS_HOST_UNSUPPORTED: what += ": not supported by this engine here"; break;
    case CPIS_HOST_ABSENT: what += ": absent"; break;
    default: what += ": the engine failed"; break;
  }
  throw UsageError(what);
}
}  // namespace detail

// ---- logging ------------------------------------------------------------------------------

enum class LogLevel : std::uint32_t {
  Debug = CPIS_LOG_DEBUG,
  Info = CPIS_LOG_INFO,
  Warning = CPIS_LOG_WARNING,
  Error = CPIS_LOG_ERROR,
};

// The engine's log (logger cpis.plugin.<name>). Ids, codes and paths only: never NHS numbers,
// names, birth dates or message contents.
class Log {
 public:
  Log() = default;
  explicit Log(const cpis_host_api* host) noexcept : host_(host) {}

  void debug(std::string_view text) const noexcept { write(LogLevel::Debug, text); }
  void info(std::string_view text) const noexcept { write(LogLevel::Info, text); }
  void warning(std::string_view text) const noexcept { write(LogLevel::Warning, text); }
  void error(std::string_view text) const noexcept { write(LogLevel::Error, text); }
  bool enabled(LogLevel level) const noexcept {
    return host_ != nullptr && host_->log_enabled(host_->context, static_cast<cpis_log_level>(level)) != 0;
  }
  void write(LogLevel level, std::string_view text) const noexcept {
    if (host_ != nullptr) host_->log(host_->context, static_cast<cpis_log_level>(level), toStr(text));
  }

 private:
  const cpis_host_api* host_ = nullptr;
};

// ---- configuration ------------------------------------------------------------------------

// The plugin's configuration keys, for CPIS_EXPORT_ADAPTER / CPIS_EXPORT_SINK. A default of
// nullptr (requiredKey) makes the key required; the engine checks types and refuses unknown
// keys before create().
constexpr cpis_config_key stringKey(const char* name, const char* defaultValue, const char* description) {
  return cpis_config_key{name, CPIS_CONFIG_STRING, defaultValue, description};
}
constexpr cpis_config_key intKey(const char* name, const char* defaultValue, const char* description) {
  return cpis_config_key{name, CPIS_CONFIG_INT, defaultValue, description};
}
constexpr cpis_config_key boolKey(const char* name, const char* defaultValue, const char* description) {
  return cpis_config_key{name, CPIS_CONFIG_BOOL, defaultValue, description};
}
constexpr cpis_config_key requiredKey(const char* name, cpis_config_type type, const char* description) {
  return cpis_config_key{name, type, nullptr, description};
}

// The values of the declared keys, defaults filled in: read them in the constructor (the
// engine's configuration handle is gone after it).
class Config {
 public:
  Config(const cpis_host_api* host, const cpis_config* config) noexcept : host_(host), config_(config) {}

  std::string getString(std::string_view key) const {
    cpis_str value{};
    detail::require(host_->config_get(config_, toStr(key), &value), "configuration key", key);
    return std::string(toView(value));
  }
  std::int64_t getInt(std::string_view key) const {
    std::int64_t value = 0;
    detail::require(host_->config_get_int(config_, toStr(key), &value), "configuration key", key, false);
    return value;
  }
  bool getBool(std::string_view key) const {
    std::int32_t value = 0;
    detail::require(host_->config_get_bool(config_, toStr(key), &value), "configuration key", key, false);
    return value != 0;
  }
  Log log() const noexcept { return Log(host_); }

 private:
  const cpis_host_api* host_;
  const cpis_config* config_;
};

// ---- the message --------------------------------------------------------------------------

enum class Presence { Absent, Null, Valued };

// One HL7 v2 message, read by path (PID-3(2).1, PV1-3.4, PID-3(*).1) with the engine's
// semantics: values decoded to UTF-8; a path that stops at a field or component reads its first
// component or sub-component.
class MessageView {
 public:
  MessageView(const cpis_host_api* host, const cpis_message* message) noexcept
      : host_(host), message_(message) {}

  // The value, "" when absent or null.
  std::string_view get(std::string_view path) const {
    cpis_str value{};
    detail::require(host_->message_get(message_, toStr(path), &value), "path", path);
    return toView(value);
  }
  // One value per occurrence of a path with `(*)` repetitions, empty ones included.
  std::vector<std::string_view> getAll(std::string_view path) const {
    cpis_str_list values{};
    detail::require(host_->message_get_all(message_, toStr(path), &values), "path", path);
    std::vector<std::string_view> out;
    out.reserve(values.count);
    for (std::size_t i = 0; i < values.count; ++i) out.push_back(toView(values.items[i]));
    return out;
  }
  // The text as sent (undecoded), at exactly the level the path names.
  std::string_view raw(std::string_view path) const {
    cpis_str value{};
    detail::require(host_->message_raw(message_, toStr(path), &value), "path", path);
    return toView(value);
  }
  Presence presence(std::string_view path) const {
    switch (host_->message_presence(message_, toStr(path))) {
      case CPIS_PRESENCE_VALUED: return Presence::Valued;
      case CPIS_PRESENCE_NULL: return Presence::Null;
      case CPIS_PRESENCE_ABSENT: return Presence::Absent;
      default: throw UsageError("path " + detail::quoted(path) + ": not a valid HL7 path");
    }
  }
  bool has(std::string_view path) const { return presence(path) == Presence::Valued; }
  // How many segments with this id the message holds.
  std::uint32_t count(std::string_view segmentId) const {
    return host_->message_count(message_, toStr(segmentId));
  }

  // CX-1 of the first repetition of `field` (a field path such as "PID-3") whose identifier
  // type code (CX-5) is `typeCode`.
  std::optional<std::string_view> findIdentifier(std::string_view field, std::string_view typeCode) const {
    return findWhere(field, ".5", typeCode);
  }
  // CX-1 of the first repetition whose assigning authority (CX-4.1) is `authority`.
  std::optional<std::string_view> findIdentifierByAuthority(std::string_view field,
                                                            std::string_view authority) const {
    return findWhere(field, ".4.1", authority);
  }
  // The NHS number as the England profile carries it (CPIS.md §4, hazard H1): CX-1 of the
  // repetitions of `field` whose assigning authority is NHS (CX-4.1), or the NHS number's OID
  // 2.16.840.1.113883.2.1.4.1 (CX-4.2, with CX-4.3 ISO or empty and CX-4.1 NHS or empty: the HD
  // form), typed NH or untyped (ITK samples). Never a local MR number, nor another register's
  // number typed NH (a namespace NHS under another OID is another register). When two such
  // repetitions carry different numbers (spaces and dashes aside), none: the record needs a
  // person, not a guess.
  std::optional<std::string_view> findNhsNumber(std::string_view field = "PID-3") const {
    static constexpr std::string_view kNhsNumberOid = "2.16.840.1.113883.2.1.4.1";
    const std::string base(field);
    const auto ids = getAll(base + "(*).1");
    const auto namespaces = getAll(base + "(*).4.1");
    const auto oids = getAll(base + "(*).4.2");
    const auto oidTypes = getAll(base + "(*).4.3");
    const auto types = getAll(base + "(*).5");
    const auto at = [](const std::vector<std::string_view>& values, std::size_t i) {
      return i < values.size() ? values[i] : std::string_view();
    };
    const auto digits = [](std::string_view text) {
      std::string out;
      for (const char c : text) {
        if (c != ' ' && c != '-') out.push_back(c);
      }
      return out;
    };
    std::optional<std::string_view> found;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string_view type = at(types, i);
      if (ids[i].empty() || (!type.empty() && type != "NH")) continue;
      const std::string_view space = at(namespaces, i);
      const std::string_view oid = at(oids, i);
      const std::string_view oidType = at(oidTypes, i);
      const bool nhs = oid.empty() ? space == "NHS"
                                   : oid == kNhsNumberOid && (oidType.empty() || oidType == "ISO") &&
                                         (space.empty() || space == "NHS");
      if (!nhs) continue;
      if (!found) {
        found = ids[i];
      } else if (digits(*found) != digits(ids[i])) {
        return std::nullopt;
      }
    }
    return found;
  }

  // Whether the engine opened this message for writing (never in adapt()).
  bool writable() const noexcept { return host_->message_writable(message_) != 0; }
  // Writes a UTF-8 value at a path (explicit repetitions), escaped by the engine.
  void set(std::string_view path, std::string_view value) {
    detail::require(host_->message_set(const_cast<cpis_message*>(message_), toStr(path), toStr(value)),
                    "setting path", path, false);
  }

 private:
  std::optional<std::string_view> findWhere(std::string_view field, const char* keyPath,
                                            std::string_view key) const {
    const auto ids = getAll(std::string(field) + "(*).1");
    const auto keys = getAll(std::string(field) + "(*)" + keyPath);
    for (std::size_t i = 0; i < ids.size() && i < keys.size(); ++i) {
      if (keys[i] == key && !ids[i].empty()) return ids[i];
    }
    return std::nullopt;
  }

  const cpis_host_api* host_;
  const cpis_message* message_;
};

// ---- the attendance -----------------------------------------------------------------------

enum class Field : std::uint32_t {
  FeedId = CPIS_FIELD_FEED_ID,
  ControlId = CPIS_FIELD_CONTROL_ID,
  TriggerEvent = CPIS_FIELD_TRIGGER_EVENT,
  Event = CPIS_FIELD_EVENT,
  NhsNumber = CPIS_FIELD_NHS_NUMBER,
  NhsNumberProblem = CPIS_FIELD_NHS_NUMBER_PROBLEM,
  NhsStatus = CPIS_FIELD_NHS_STATUS,
  FamilyName = CPIS_FIELD_FAMILY_NAME,
  GivenName = CPIS_FIELD_GIVEN_NAME,
  BirthDate = CPIS_FIELD_BIRTH_DATE,
  Sex = CPIS_FIELD_SEX,
  Pregnant = CPIS_FIELD_PREGNANT,
  ExpectedDeliveryDate = CPIS_FIELD_EXPECTED_DELIVERY_DATE,
  VisitNumber = CPIS_FIELD_VISIT_NUMBER,
  ArrivedAt = CPIS_FIELD_ARRIVED_AT,
  LocationKey = CPIS_FIELD_LOCATION_KEY,
  CareSetting = CPIS_FIELD_CARE_SETTING,
  SiteOdsCode = CPIS_FIELD_SITE_ODS_CODE,
  Department = CPIS_FIELD_DEPARTMENT,
  PatientClass = CPIS_FIELD_PATIENT_CLASS,
  AccessMode = CPIS_FIELD_ACCESS_MODE,
  ScheduledOnly = CPIS_FIELD_SCHEDULED_ONLY,
  PriorNhsNumber = CPIS_FIELD_PRIOR_NHS_NUMBER,
};

enum class Event { Start, Update, End, Cancel, NotAnAttendance, Reopen, Merge };

// The draft attendance the feed's mapping file made: read it, overwrite what the adapter knows
// better. set() throws UsageError when the engine refuses a value (fine for values the adapter
// composes); for values copied from the message use trySet() and answer a data error when it
// is refused. Text forms are listed with cpis_attendance_field in cpis/plugin.h.
class AttendanceBuilder {
 public:
  AttendanceBuilder(const cpis_host_api* host, cpis_attendance* attendance) noexcept
      : host_(host), attendance_(attendance) {}

  std::string_view get(Field field) const {
    cpis_str value{};
    detail::require(host_->attendance_get(attendance_, static_cast<cpis_attendance_field>(field), &value),
                    "attendance field", fieldName(field));
    return toView(value);
  }
  std::string_view get(std::string_view name) const { return get(fieldId(name)); }

  AttendanceBuilder& set(Field field, std::string_view value) {
    detail::require(
        host_->attendance_set(attendance_, static_cast<cpis_attendance_field>(field), toStr(value)),
        "attendance field", fieldName(field), false);
    return *this;
  }
  AttendanceBuilder& set(std::string_view name, std::string_view value) { return set(fieldId(name), value); }
  // False when the engine refuses the value (not a date, not a code it knows...).
  bool trySet(Field field, std::string_view value) {
    const cpis_host_result result =
        host_->attendance_set(attendance_, static_cast<cpis_attendance_field>(field), toStr(value));
    if (result == CPIS_HOST_OK) return true;
    if (result == CPIS_HOST_BAD_ARGUMENT) return false;
    detail::require(result, "attendance field", fieldName(field), false);
    return false;
  }

  AttendanceBuilder& event(Event event) {
    static constexpr std::array<const char*, 7> kCodes{"START",  "UPDATE", "END",  "CANCEL",
                                                       "NOT_AN_ATTENDANCE", "REOPEN", "MERGE"};
    return set(Field::Event, kCodes[static_cast<std::size_t>(event)]);
  }
  // An invalid number is not an exception: the engine clears the number and records why (the
  // check then says NHS_NUMBER_INVALID). nhsNumberAccepted() tells which happened.
  AttendanceBuilder& nhsNumber(std::string_view digits) {
    trySet(Field::NhsNumber, digits);
    return *this;
  }
  bool nhsNumberAccepted() const { return !get(Field::NhsNumber).empty(); }
  AttendanceBuilder& nhsStatus(std::string_view code) { return set(Field::NhsStatus, code); }
  AttendanceBuilder& birthDate(std::string_view yyyymmdd) { return set(Field::BirthDate, yyyymmdd); }
  AttendanceBuilder& visitNumber(std::string_view value) { return set(Field::VisitNumber, value); }
  AttendanceBuilder& locationKey(std::string_view value) { return set(Field::LocationKey, value); }
  AttendanceBuilder& careSetting(std::string_view code) { return set(Field::CareSetting, code); }
  AttendanceBuilder& pregnant(bool value) { return set(Field::Pregnant, value ? "Y" : "N"); }

  // A field's text name (as cpis/plugin.h lists it), for error texts; its number when this
  // header does not know it (a newer engine's field).
  static std::string fieldName(Field field) {
    static constexpr std::array<const char*, 23> kNames{"feed_id",
                                                        "control_id",
                                                        "trigger_event",
                                                        "event",
                                                        "nhs_number",
                                                        "nhs_number_problem",
                                                        "nhs_status",
                                                        "family_name",
                                                        "given_name",
                                                        "birth_date",
                                                        "sex",
                                                        "pregnant",
                                                        "expected_delivery_date",
                                                        "visit_number",
                                                        "arrived_at",
                                                        "location_key",
                                                        "care_setting",
                                                        "site_ods_code",
                                                        "department",
                                                        "patient_class",
                                                        "access_mode",
                                                        "scheduled_only",
                                                        "prior_nhs_number"};
    const auto id = static_cast<std::uint32_t>(field);
    return id >= 1 && id <= kNames.size() ? std::string(kNames[id - 1]) : std::to_string(id);
  }

  Field fieldId(std::string_view name) const {
    const cpis_attendance_field id = host_->attendance_field_id(toStr(name));
    if (id == CPIS_FIELD_UNKNOWN) throw UsageError("attendance field " + detail::quoted(name) + ": unknown");
    return static_cast<Field>(id);
  }

 private:
  const cpis_host_api* host_;
  cpis_attendance* attendance_;
};

// ---- the outcome of the check -------------------------------------------------------------

// Valid during the composeAlerts() call it is given to, as the texts it returns are. Its Plan,
// Record and Access views read through the CheckOutcome they came from: keep that object (not a
// copy that goes first) alive while you use them.
class CheckOutcome {
 public:
  CheckOutcome(const cpis_host_api* host, const cpis_outcome* outcome) noexcept
      : host_(host), outcome_(outcome) {}

  std::string_view status() const { return get(CPIS_OUTCOME_STATUS); }  // FOUND, NOT_FOUND, ...
  bool found() const { return status() == "FOUND"; }
  bool notFound() const { return status() == "NOT_FOUND"; }
  bool checkFailed() const { return status() == "CHECK_FAILED"; }
  bool notChecked() const { return status() == "NOT_CHECKED"; }
  std::string_view reasonCode() const { return get(CPIS_OUTCOME_REASON); }  // "" for FOUND/NOT_FOUND
  std::string_view reasonText() const { return get(CPIS_OUTCOME_REASON_TEXT); }
  std::optional<std::string_view> nhsNumber() const { return find(CPIS_OUTCOME_NHS_NUMBER, 0, 0); }
  // Not checked because the NHS number was refused: the value as sent (ABI 1.2); never log it.
  std::optional<std::string_view> refusedNhsNumber() const {
    return find(CPIS_OUTCOME_REFUSED_NHS_NUMBER, 0, 0);
  }
  std::string_view accessMode() const { return get(CPIS_OUTCOME_ACCESS_MODE); }
  std::string_view decidedAt() const { return get(CPIS_OUTCOME_DECIDED_AT); }
  std::string_view checkId() const { return get(CPIS_OUTCOME_CHECK_ID); }
  std::string_view source() const { return get(CPIS_OUTCOME_SOURCE); }

  class Plan {
   public:
    std::string_view typeCode() const { return o_->get(CPIS_PLAN_TYPE, record_, plan_); }
    std::string_view startDate() const { return o_->get(CPIS_PLAN_START, record_, plan_); }
    std::optional<std::string_view> endDate() const { return o_->find(CPIS_PLAN_END, record_, plan_); }
    std::string_view snomedCode() const { return o_->get(CPIS_PLAN_SNOMED_CODE, record_, plan_); }
    std::string_view displayName() const { return o_->get(CPIS_PLAN_DISPLAY_NAME, record_, plan_); }
    std::uint32_t recordIndex() const noexcept { return record_; }

   private:
    friend class CheckOutcome;
    Plan(const CheckOutcome* o, std::uint32_t record, std::uint32_t plan)
        : o_(o), record_(record), plan_(plan) {}
    const CheckOutcome* o_;
    std::uint32_t record_, plan_;
  };

  class Record {
   public:
    std::string_view subject() const { return o_->get(CPIS_RECORD_SUBJECT, index_, 0); }  // CHILD, UNBORN
    std::string_view laOdsCode() const { return o_->get(CPIS_RECORD_LA_ODS_CODE, index_, 0); }
    std::string_view laName() const { return o_->get(CPIS_RECORD_LA_NAME, index_, 0); }
    std::string_view emergencyPhone() const { return o_->get(CPIS_RECORD_LA_EMERGENCY_PHONE, index_, 0); }
    std::optional<std::string_view> workplacePhone() const {
      return o_->find(CPIS_RECORD_LA_WORKPLACE_PHONE, index_, 0);
    }
    std::vector<Plan> plans() const {
      std::vector<Plan> out;
      const std::uint32_t n = o_->host_->outcome_count(o_->outcome_, CPIS_LIST_PLANS, index_);
      for (std::uint32_t p = 0; p < n; ++p) out.push_back(Plan(o_, index_, p));
      return out;
    }

   private:
    friend class CheckOutcome;
    Record(const CheckOutcome* o, std::uint32_t index) : o_(o), index_(index) {}
    const CheckOutcome* o_;
    std::uint32_t index_;
  };

  class Access {
   public:
    std::string_view at() const { return o_->get(CPIS_ACCESS_AT, index_, 0); }
    bool bySystem() const { return o_->get(CPIS_ACCESS_BY_SYSTEM, index_, 0) == "Y"; }
    std::string_view personName() const { return o_->get(CPIS_ACCESS_PERSON_NAME, index_, 0); }
    std::string_view jobRoleCode() const { return o_->get(CPIS_ACCESS_JOB_ROLE_CODE, index_, 0); }
    std::string_view jobRoleName() const { return o_->get(CPIS_ACCESS_JOB_ROLE_NAME, index_, 0); }
    std::string_view orgOdsCode() const { return o_->get(CPIS_ACCESS_ORG_ODS_CODE, index_, 0); }
    std::string_view orgName() const { return o_->get(CPIS_ACCESS_ORG_NAME, index_, 0); }
    std::optional<std::string_view> asid() const { return o_->find(CPIS_ACCESS_ASID, index_, 0); }

   private:
    friend class CheckOutcome;
    Access(const CheckOutcome* o, std::uint32_t index) : o_(o), index_(index) {}
    const CheckOutcome* o_;
    std::uint32_t index_;
  };

  // One record per responsible local authority (FOUND only).
  std::vector<Record> records() const {
    std::vector<Record> out;
    const std::uint32_t n = host_->outcome_count(outcome_, CPIS_LIST_RECORDS, 0);
    for (std::uint32_t r = 0; r < n; ++r) out.push_back(Record(this, r));
    return out;
  }
  // Every plan of every record, in order.
  std::vector<Plan> plans() const {
    std::vector<Plan> out;
    for (const Record& record : records()) {
      for (const Plan& plan : record.plans()) out.push_back(plan);
    }
    return out;
  }
  Record recordOf(const Plan& plan) const { return Record(this, plan.recordIndex()); }
  // Earlier unscheduled accesses, newest first (at most 25).
  std::vector<Access> accesses() const {
    std::vector<Access> out;
    const std::uint32_t n = host_->outcome_count(outcome_, CPIS_LIST_ACCESSES, 0);
    for (std::uint32_t a = 0; a < n; ++a) out.push_back(Access(this, a));
    return out;
  }

 private:
  std::string_view get(cpis_outcome_field field, std::uint32_t index = 0, std::uint32_t sub = 0) const {
    return find(field, index, sub).value_or(std::string_view());
  }
  std::optional<std::string_view> find(cpis_outcome_field field, std::uint32_t index,
                                       std::uint32_t sub) const {
    cpis_str value{};
    const cpis_host_result result = host_->outcome_get(outcome_, field, index, sub, &value);
    if (result == CPIS_HOST_ABSENT) return std::nullopt;
    detail::require(result, "outcome field", std::to_string(static_cast<std::uint32_t>(field)), false);
    return toView(value);
  }

  const cpis_host_api* host_;
  const cpis_outcome* outcome_;
};

// ---- alerts -------------------------------------------------------------------------------

enum class AlertEncoding : std::uint32_t {
  FeedDefault = CPIS_ALERTS_FEED_DEFAULT,
  ZSegments = CPIS_ALERTS_ZSEGMENTS,
  Obx = CPIS_ALERTS_OBX,
};

// One segment being written. Values are UTF-8 text: the engine escapes delimiters and writes
// the message's character set, so "Brighton & Hove" arrives as "Brighton \T\ Hove".
class SegmentWriter {
 public:
  SegmentWriter& field(std::uint32_t field, std::string_view value) { return set(field, 1, 1, 1, value); }
  SegmentWriter& component(std::uint32_t field, std::uint32_t component, std::string_view value) {
    return set(field, 1, component, 1, value);
  }
  // Components 1, 2, ... of a field: components(4, {"CPPI", "Child protection plan", "99CPIS"}).
  SegmentWriter& components(std::uint32_t field, std::initializer_list<std::string_view> values) {
    std::uint32_t component = 0;
    for (std::string_view value : values) set(field, 1, ++component, 1, value);
    return *this;
  }
  SegmentWriter& set(std::uint32_t field, std::uint32_t repetition, std::uint32_t component,
                     std::uint32_t subComponent, std::string_view value) {
    detail::require(
        host_->alert_field(writer_, index_, field, repetition, component, subComponent, toStr(value)),
        "alert field", std::to_string(field), false);
    return *this;
  }

 private:
  friend class AlertWriter;
  SegmentWriter(const cpis_host_api* host, cpis_alert_writer* writer, std::uint32_t index)
      : host_(host), writer_(writer), index_(index) {}
  const cpis_host_api* host_;
  cpis_alert_writer* writer_;
  std::uint32_t index_;
};

// The alert segments of the acknowledgement, in the order written.
class AlertWriter {
 public:
  AlertWriter(const cpis_host_api* host, cpis_alert_writer* writer) noexcept : host_(host), writer_(writer) {}

  SegmentWriter segment(std::string_view segmentId) {
    std::uint32_t index = 0;
    detail::require(host_->alert_segment(writer_, toStr(segmentId), &index), "alert segment", segmentId,
                    false);
    return SegmentWriter(host_, writer_, index);
  }
  // Appends the engine's own encoding of the outcome; false when the engine has none here.
  bool standardAlerts(AlertEncoding encoding = AlertEncoding::FeedDefault) {
    const cpis_host_result result =
        host_->write_standard_alerts(writer_, static_cast<cpis_alert_encoding>(encoding));
    if (result == CPIS_HOST_UNSUPPORTED) return false;
    detail::require(result, "standard alerts", "", false);
    return true;
  }

 private:
  const cpis_host_api* host_;
  cpis_alert_writer* writer_;
};

// ---- what an adapter answers --------------------------------------------------------------

// HL7 table 0357 codes for data errors (the sender gets AE with an ERR segment).
enum class Hl7Error : std::uint32_t {
  SegmentSequence = CPIS_HL7_SEGMENT_SEQUENCE,
  RequiredFieldMissing = CPIS_HL7_REQUIRED_FIELD_MISSING,
  DataType = CPIS_HL7_DATA_TYPE,
  TableValue = CPIS_HL7_TABLE_VALUE,
  ValueTooLong = CPIS_HL7_VALUE_TOO_LONG,
};

class AdaptResult {
 public:
  // The attendance is filled in: the engine decides whether to check CP-IS.
  static AdaptResult attendance() { return AdaptResult(CPIS_OK, CPIS_HL7_NONE, {}, {}); }
  // Nothing to check (an event or a message type the adapter does not map): a valid answer.
  static AdaptResult notAnAttendance(std::string reason = {}) {
    return AdaptResult(CPIS_NOT_AN_ATTENDANCE, CPIS_HL7_NONE, {}, std::move(reason));
  }
  // The message is wrong: AE, with an ERR segment carrying the code, the location (an HL7 path
  // such as "PID-3") and the text. The text says what is wrong, never the value.
  static AdaptResult dataError(Hl7Error code, std::string location, std::string text) {
    return AdaptResult(CPIS_DATA_ERROR, static_cast<std::uint32_t>(code), std::move(location),
                       std::move(text));
  }

  cpis_status status() const noexcept { return status_; }
  std::uint32_t code() const noexcept { return code_; }
  const std::string& location() const noexcept { return location_; }
  const std::string& text() const noexcept { return text_; }

 private:
  AdaptResult(cpis_status status, std::uint32_t code, std::string location, std::string text)
      : status_(status), code_(code), location_(std::move(location)), text_(std::move(text)) {}
  cpis_status status_;
  std::uint32_t code_;
  std::string location_;
  std::string text_;
};

// ---- notifications (sinks) ----------------------------------------------------------------

class Notification {
 public:
  Notification(const cpis_host_api* host, const cpis_notification* notification) noexcept
      : host_(host), notification_(notification) {}
  std::optional<std::string_view> find(std::string_view key) const {
    cpis_str value{};
    const cpis_host_result result = host_->notification_get(notification_, toStr(key), &value);
    if (result == CPIS_HOST_ABSENT) return std::nullopt;
    detail::require(result, "notification key", key, false);
    return toView(value);
  }
  std::string_view get(std::string_view key) const { return find(key).value_or(std::string_view()); }

 private:
  const cpis_host_api* host_;
  const cpis_notification* notification_;
};

class DeliveryResult {
 public:
  static DeliveryResult ok() { return DeliveryResult(CPIS_DELIVERY_OK, {}); }
  // Not now: the dispatcher tries again with back-off.
  static DeliveryResult retry(std::string why) { return DeliveryResult(CPIS_DELIVERY_RETRY, std::move(why)); }
  // Never: the notification is dead-lettered for a person to see.
  static DeliveryResult error(std::string why) { return DeliveryResult(CPIS_DELIVERY_ERROR, std::move(why)); }

  cpis_delivery code() const noexcept { return code_; }
  const std::string& text() const noexcept { return text_; }

 private:
  DeliveryResult(cpis_delivery code, std::string text) : code_(code), text_(std::move(text)) {}
  cpis_delivery code_;
  std::string text_;
};

// ---- the base classes ---------------------------------------------------------------------

// Shared by adapters and sinks: the log, set before the first call.
class PluginBase {
 public:
  // The log of the host constructing this plugin (detail::Glue::create, on this thread), so that
  // log() works in the plugin's own constructor too.
  PluginBase() noexcept : log_(detail::constructingFor) {}
  PluginBase(const PluginBase&) = default;
  PluginBase& operator=(const PluginBase&) = default;
  virtual ~PluginBase() = default;

 protected:
  const Log& log() const noexcept { return log_; }

 private:
  friend struct detail::Glue;
  Log log_;
};

// Maps one EPR's messages to attendances and, optionally, composes its alert segments.
// Immutable after construction: adapt() and composeAlerts() run on many threads at once.
class Adapter : public PluginBase {
 public:
  virtual AdaptResult adapt(const MessageView& message, AttendanceBuilder& out) const = 0;
  // Not overriding this leaves the alerts to the engine (its standard encoding, the feed's
  // choice). An override may call out.standardAlerts() and add its own segments.
  virtual void composeAlerts(const CheckOutcome& outcome, AlertWriter& out) const {
    (void)outcome;
    out.standardAlerts();
  }
};

// Delivers notifications. Immutable after construction: deliver() runs on many threads.
class Sink : public PluginBase {
 public:
  virtual DeliveryResult deliver(const Notification& notification) const = 0;
};

// ---- the glue CPIS_EXPORT_ADAPTER / CPIS_EXPORT_SINK write --------------------------------

namespace detail {

template <class Plugin>
struct Instance {
  const cpis_host_api* host;
  std::unique_ptr<Plugin> plugin;
};

template <class Plugin>
const Instance<Plugin>* instanceOf(const cpis_instance* instance) noexcept {
  return reinterpret_cast<const Instance<Plugin>*>(instance);
}

inline void report(const cpis_host_api* host, cpis_error* error, std::uint32_t code,
                   std::string_view location, std::string_view text) noexcept {
  if (host != nullptr && error != nullptr) host->error_set(error, code, toStr(location), toStr(text));
}

inline cpis_status failed(const cpis_host_api* host, cpis_error* error, const char* what) noexcept {
  report(host, error, CPIS_HL7_INTERNAL_ERROR, {}, what != nullptr ? what : "");
  return CPIS_FAILED;
}

// Whether Plugin declares its own composeAlerts (the type of &T::f names the class that
// declares f), so an adapter that does not leaves compose_alerts NULL.
template <class Plugin>
constexpr bool kComposesAlerts = !std::is_same_v<decltype(&Plugin::composeAlerts),
                                                 void (Adapter::*)(const CheckOutcome&, AlertWriter&) const>;

struct Glue {
  template <class Plugin>
  static cpis_instance* create(const cpis_host_api* host, const cpis_config* config,
                               cpis_error* error) noexcept {
    struct Constructing {  // the plugin's constructor logs through `host`
      explicit Constructing(const cpis_host_api* h) noexcept { constructingFor = h; }
      ~Constructing() { constructingFor = nullptr; }
      Constructing(const Constructing&) = delete;
      Constructing& operator=(const Constructing&) = delete;
    };
    try {
      const Constructing constructing(host);
      const Config values(host, config);
      std::unique_ptr<Plugin> plugin;
      if constexpr (std::is_constructible_v<Plugin, const Config&>) {
        plugin = std::make_unique<Plugin>(values);
      } else {
        plugin = std::make_unique<Plugin>();
      }
      static_cast<PluginBase&>(*plugin).log_ = Log(host);
      auto instance = std::make_unique<Instance<Plugin>>(Instance<Plugin>{host, std::move(plugin)});
      return reinterpret_cast<cpis_instance*>(instance.release());
    } catch (const std::exception& e) {
      failed(host, error, e.what());
    } catch (...) {
      failed(host, error, "create threw something that is not a std::exception");
    }
    return nullptr;
  }

  template <class Plugin>
  static void destroy(cpis_instance* instance) noexcept {
    std::unique_ptr<Instance<Plugin>> owned(reinterpret_cast<Instance<Plugin>*>(instance));
    try {
      owned.reset();
    } catch (...) {  // a destructor that throws: nothing to report to, and nothing crosses
    }
  }

  template <class Plugin>
  static cpis_status adapt(const cpis_instance* instance, const cpis_message* message,
                           cpis_attendance* attendance, cpis_error* error) noexcept {
    const Instance<Plugin>* self = instanceOf<Plugin>(instance);
    try {
      const MessageView view(self->host, message);
      AttendanceBuilder builder(self->host, attendance);
      const AdaptResult result = self->plugin->adapt(view, builder);
      if (result.status() == CPIS_OK) return CPIS_OK;
      const cpis_host_result reported =
          self->host->error_set(error, result.code(), toStr(result.location()), toStr(result.text()));
      if (reported != CPIS_HOST_OK && result.status() == CPIS_DATA_ERROR) {
        const bool codeOk = result.code() >= 100 && result.code() <= 104;
        const std::string why =
            codeOk ? "dataError(): location " + detail::quoted(result.location()) +
                         " refused: not an HL7 path the engine reads (e.g. PID-7 or PID-3(2).4)"
                   : "dataError(): code " + std::to_string(result.code()) +
                         " refused: not 100-104 (segment sequence, required field missing, data type, table "
                         "value, too long)";
        return failed(self->host, error, why.c_str());
      }
      return result.status();
    } catch (const std::exception& e) {
      return failed(self->host, error, e.what());
    } catch (...) {
      return failed(self->host, error, "adapt threw something that is not a std::exception");
    }
  }

  template <class Plugin>
  static cpis_status composeAlerts(const cpis_instance* instance, const cpis_outcome* outcome,
                                   cpis_alert_writer* writer, cpis_error* error) noexcept {
    const Instance<Plugin>* self = instanceOf<Plugin>(instance);
    try {
      const CheckOutcome view(self->host, outcome);
      AlertWriter out(self->host, writer);
      self->plugin->composeAlerts(view, out);
      return CPIS_OK;
    } catch (const std::exception& e) {
      return failed(self->host, error, e.what());
    } catch (...) {
      return failed(self->host, error, "composeAlerts threw something that is not a std::exception");
    }
  }

  template <class Plugin>
  static cpis_delivery deliver(const cpis_instance* instance, const cpis_notification* notification,
                               cpis_error* error) noexcept {
    const Instance<Plugin>* self = instanceOf<Plugin>(instance);
    try {
      const Notification view(self->host, notification);
      const DeliveryResult result = self->plugin->deliver(view);
      if (result.code() != CPIS_DELIVERY_OK) report(self->host, error, CPIS_HL7_NONE, {}, result.text());
      return result.code();
    } catch (const std::exception& e) {
      report(self->host, error, CPIS_HL7_NONE, {}, e.what());
    } catch (...) {
      report(self->host, error, CPIS_HL7_NONE, {}, "deliver threw something that is not a std::exception");
    }
    return CPIS_DELIVERY_RETRY;  // a throwing sink may work next time; the dispatcher bounds retries
  }
};

template <std::size_t N>
const cpis_config_key* keyTable(const std::array<cpis_config_key, N>& table) noexcept {
  return N == 0 ? nullptr : table.data();
}

template <class Plugin, class... Keys>
const cpis_plugin_descriptor* adapterDescriptor(const char* name, const char* version,
                                                Keys... keys) noexcept {
  static_assert(std::is_base_of_v<Adapter, Plugin>,
                "CPIS_EXPORT_ADAPTER needs a class derived from cpis::sdk::Adapter");
  static_assert((std::is_same_v<Keys, cpis_config_key> && ...),
                "configuration keys are made with stringKey(), intKey(), boolKey() or requiredKey()");
  static const std::array<cpis_config_key, sizeof...(Keys)> table{{keys...}};
  static const cpis_plugin_descriptor descriptor{
      CPIS_PLUGIN_ABI_MAJOR,
      CPIS_PLUGIN_ABI_MINOR,
      static_cast<std::uint32_t>(sizeof(cpis_plugin_descriptor)),
      CPIS_KIND_ADAPTER,
      name,
      version,
      keyTable(table),
      static_cast<std::uint32_t>(table.size()),
      &Glue::create<Plugin>,
      &Glue::destroy<Plugin>,
      &Glue::adapt<Plugin>,
      kComposesAlerts<Plugin> ? &Glue::composeAlerts<Plugin> : nullptr,
      nullptr,
  };
  return &descriptor;
}

template <class Plugin, class... Keys>
const cpis_plugin_descriptor* sinkDescriptor(const char* name, const char* version, Keys... keys) noexcept {
  static_assert(std::is_base_of_v<Sink, Plugin>,
                "CPIS_EXPORT_SINK needs a class derived from cpis::sdk::Sink");
  static_assert((std::is_same_v<Keys, cpis_config_key> && ...),
                "configuration keys are made with stringKey(), intKey(), boolKey() or requiredKey()");
  static const std::array<cpis_config_key, sizeof...(Keys)> table{{keys...}};
  static const cpis_plugin_descriptor descriptor{
      CPIS_PLUGIN_ABI_MAJOR,
      CPIS_PLUGIN_ABI_MINOR,
      static_cast<std::uint32_t>(sizeof(cpis_plugin_descriptor)),
      CPIS_KIND_SINK,
      name,
      version,
      keyTable(table),
      static_cast<std::uint32_t>(table.size()),
      &Glue::create<Plugin>,
      &Glue::destroy<Plugin>,
      nullptr,
      nullptr,
      &Glue::deliver<Plugin>,
  };
  return &descriptor;
}

}  // namespace detail
}  // namespace sdk
}  // namespace cpis

// The plugin's entry point for an adapter class: CPIS_EXPORT_ADAPTER(Class, "name", "version",
// key...). "name" must match the file: "edsys" is libcpis-adapter-edsys.so (cpis_add_plugin).
#define CPIS_EXPORT_ADAPTER(AdapterClass, ...)                                          \
  extern "C" CPIS_PLUGIN_EXPORT const cpis_plugin_descriptor* cpis_plugin_entry(void) { \
    return ::cpis::sdk::detail::adapterDescriptor<AdapterClass>(__VA_ARGS__);           \
  }

// The same for a notification sink: libcpis-sink-<name>.so.
#define CPIS_EXPORT_SINK(SinkClass, ...)                                                \
  extern "C" CPIS_PLUGIN_EXPORT const cpis_plugin_descriptor* cpis_plugin_entry(void) { \
    return ::cpis::sdk::detail::sinkDescriptor<SinkClass>(__VA_ARGS__);                 \
  }

#endif  // CPIS_PLUGIN_HPP
