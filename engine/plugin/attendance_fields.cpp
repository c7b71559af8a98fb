#include "engine/plugin/attendance_fields.h"

#include <array>
#include <chrono>

#include "engine/domain/london_time.h"
#include "engine/domain/nhs_number.h"
#include "engine/hl7v2/ack.h"
#include "engine/hl7v2/charset.h"

namespace cpis::plugin {
namespace {

using namespace std::chrono;

struct FieldRow {
  cpis_attendance_field id;
  std::string_view name;
  bool readOnly;
};
constexpr std::array kFields{
    FieldRow{CPIS_FIELD_FEED_ID, "feed_id", true},
    FieldRow{CPIS_FIELD_CONTROL_ID, "control_id", true},
    FieldRow{CPIS_FIELD_TRIGGER_EVENT, "trigger_event", false},
    FieldRow{CPIS_FIELD_EVENT, "event", false},
    FieldRow{CPIS_FIELD_NHS_NUMBER, "nhs_number", false},
    FieldRow{CPIS_FIELD_NHS_NUMBER_PROBLEM, "nhs_number_problem", true},
    FieldRow{CPIS_FIELD_NHS_STATUS, "nhs_status", false},
    FieldRow{CPIS_FIELD_FAMILY_NAME, "family_name", false},
    FieldRow{CPIS_FIELD_GIVEN_NAME, "given_name", false},
    FieldRow{CPIS_FIELD_BIRTH_DATE, "birth_date", false},
    FieldRow{CPIS_FIELD_SEX, "sex", false},
    FieldRow{CPIS_FIELD_PREGNANT, "pregnant", false},
    FieldRow{CPIS_FIELD_EXPECTED_DELIVERY_DATE, "expected_delivery_date", false},
    FieldRow{CPIS_FIELD_VISIT_NUMBER, "visit_number", false},
    FieldRow{CPIS_FIELD_ARRIVED_AT, "arrived_at", false},
    FieldRow{CPIS_FIELD_LOCATION_KEY, "location_key", false},
    FieldRow{CPIS_FIELD_CARE_SETTING, "care_setting", false},
    FieldRow{CPIS_FIELD_SITE_ODS_CODE, "site_ods_code", false},
    FieldRow{CPIS_FIELD_DEPARTMENT, "department", false},
    FieldRow{CPIS_FIELD_PATIENT_CLASS, "patient_class", false},
    FieldRow{CPIS_FIELD_ACCESS_MODE, "access_mode", false},
    FieldRow{CPIS_FIELD_SCHEDULED_ONLY, "scheduled_only", false},
    FieldRow{CPIS_FIELD_PRIOR_NHS_NUMBER, "prior_nhs_number", false},
};

const FieldRow* rowOf(cpis_attendance_field field) {
  for (const FieldRow& row : kFields) {
    if (row.id == field) return &row;
  }
  return nullptr;
}

bool allDigits(std::string_view text) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

unsigned number(std::string_view digits) {
  unsigned n = 0;
  for (const char c : digits) n = n * 10 + static_cast<unsigned>(c - '0');
  return n;
}

std::string dateText(const std::optional<domain::Date>& date) {
  return date ? domain::hl7Date(*date) : std::string();
}
std::string yesNo(bool value) {
  return value ? "Y" : "N";
}

std::optional<bool> parseYesNo(std::string_view text) {
  if (text == "Y") return true;
  if (text == "N" || text.empty()) return false;
  return std::nullopt;
}

// Sets an optional from text: "" clears it, otherwise `parse` must accept it.
template <typename T, typename Parse>
cpis_host_result setOptional(std::optional<T>& target, std::string_view text, Parse parse) {
  if (text.empty()) {
    target.reset();
    return CPIS_HOST_OK;
  }
  auto parsed = parse(text);
  if (!parsed) return CPIS_HOST_BAD_ARGUMENT;
  target = *parsed;
  return CPIS_HOST_OK;
}

cpis_host_result setText(std::string& target, std::string_view text) {
  if (hl7v2::firstInvalidByte(text, hl7v2::Charset::Utf8)) return CPIS_HOST_BAD_ARGUMENT;
  target = std::string(text);
  return CPIS_HOST_OK;
}

cpis_host_result setNhsNumber(domain::Attendance& a, std::string_view text) {
  a.refusedNhsNumber.reset();
  if (text.empty()) {
    a.nhsNumber.reset();
    a.nhsNumberFrom.clear();
    a.nhsNumberProblem.clear();
    return CPIS_HOST_OK;
  }
  if (auto number = domain::NhsNumber::parse(text)) {
    if (a.nhsNumber != number) a.nhsNumberFrom = "the adapter";  // the same number again keeps its place
    a.nhsNumber = *number;
    a.nhsNumberProblem.clear();
    return CPIS_HOST_OK;
  }
  a.nhsNumber.reset();
  a.nhsNumberFrom.clear();
  const auto error = domain::NhsNumber::check(text);
  a.nhsNumberProblem = error ? std::string(domain::describe(*error)) : std::string("not an NHS number");
  a.refusedNhsNumber = domain::RefusedNhsNumber(text);
  return CPIS_HOST_BAD_ARGUMENT;
}

cpis_host_result give(std::string& out, std::string_view text) {
  out = std::string(text);
  return CPIS_HOST_OK;
}

template <typename T, typename Format>
cpis_host_result giveOptional(std::string& out, const std::optional<T>& value, Format format) {
  if (!value) {
    out.clear();
    return CPIS_HOST_ABSENT;
  }
  out = std::string(format(*value));
  return CPIS_HOST_OK;
}

}  // namespace

cpis_attendance_field attendanceFieldId(std::string_view name) {
  for (const FieldRow& row : kFields) {
    if (row.name == name) return row.id;
  }
  return CPIS_FIELD_UNKNOWN;
}

std::string_view attendanceFieldName(cpis_attendance_field field) {
  const FieldRow* row = rowOf(field);
  return row != nullptr ? row->name : std::string_view();
}

std::optional<std::string> readAttendanceField(const domain::Attendance& a, cpis_attendance_field field) {
  switch (field) {
    case CPIS_FIELD_FEED_ID: return a.feedId;
    case CPIS_FIELD_CONTROL_ID: return a.controlId;
    case CPIS_FIELD_TRIGGER_EVENT: return a.triggerEvent;
    case CPIS_FIELD_EVENT: return std::string(domain::codeOf(a.event));
    case CPIS_FIELD_NHS_NUMBER: return a.nhsNumber ? std::string(a.nhsNumber->reveal()) : std::string();
    case CPIS_FIELD_NHS_NUMBER_PROBLEM: return a.nhsNumberProblem;
    case CPIS_FIELD_NHS_STATUS: return std::string(domain::codeOf(a.nhsStatus));
    case CPIS_FIELD_FAMILY_NAME: return a.name.family;
    case CPIS_FIELD_GIVEN_NAME: return a.name.given;
    case CPIS_FIELD_BIRTH_DATE: return dateText(a.birthDate);
    case CPIS_FIELD_SEX: return std::string(domain::codeOf(a.sex));
    // Empty: the message's value could not be read as Y or N (checked as if pregnant).
    case CPIS_FIELD_PREGNANT: return a.pregnancyUnreadable ? std::string() : yesNo(a.pregnant);
    case CPIS_FIELD_EXPECTED_DELIVERY_DATE: return dateText(a.expectedDeliveryDate);
    case CPIS_FIELD_VISIT_NUMBER: return a.visitNumber;
    case CPIS_FIELD_ARRIVED_AT: return a.arrivedAt ? formatInstant(*a.arrivedAt) : std::string();
    case CPIS_FIELD_LOCATION_KEY: return a.locationKey;
    case CPIS_FIELD_CARE_SETTING: return a.setting ? std::string(domain::codeOf(*a.setting)) : std::string();
    case CPIS_FIELD_SITE_ODS_CODE: return a.siteOdsCode;
    case CPIS_FIELD_DEPARTMENT: return a.department;
    case CPIS_FIELD_PATIENT_CLASS: return a.patientClass;
    case CPIS_FIELD_ACCESS_MODE:
      return a.accessMode ? std::string(domain::codeOf(*a.accessMode)) : std::string();
    case CPIS_FIELD_SCHEDULED_ONLY: return yesNo(a.scheduledOnly);
    case CPIS_FIELD_PRIOR_NHS_NUMBER:
      return a.priorNhsNumber ? std::string(a.priorNhsNumber->reveal()) : std::string();
    default: return std::nullopt;
  }
}

cpis_host_result writeAttendanceField(domain::Attendance& a, cpis_attendance_field field,
                                      std::string_view text) {
  const FieldRow* row = rowOf(field);
  if (row == nullptr) return CPIS_HOST_BAD_ARGUMENT;
  if (row->readOnly) return CPIS_HOST_READ_ONLY;
  switch (field) {
    case CPIS_FIELD_TRIGGER_EVENT: return setText(a.triggerEvent, text);
    case CPIS_FIELD_EVENT: {
      const auto event = domain::parseAttendanceEvent(text);
      if (!event) return CPIS_HOST_BAD_ARGUMENT;
      a.event = *event;
      return CPIS_HOST_OK;
    }
    case CPIS_FIELD_NHS_NUMBER: return setNhsNumber(a, text);
    case CPIS_FIELD_NHS_STATUS: {
      // The adapter's word replaces the mapping's, an unreadable value's flag with it.
      if (text.empty()) {
        a.nhsStatus = domain::NhsNumberStatus::Absent;
        a.nhsStatusUnreadable = false;
        return CPIS_HOST_OK;
      }
      const auto status = domain::parseNhsNumberStatus(text);
      if (!status) return CPIS_HOST_BAD_ARGUMENT;
      a.nhsStatus = *status;
      a.nhsStatusUnreadable = false;
      return CPIS_HOST_OK;
    }
    case CPIS_FIELD_FAMILY_NAME: return setText(a.name.family, text);
    case CPIS_FIELD_GIVEN_NAME: return setText(a.name.given, text);
    case CPIS_FIELD_BIRTH_DATE: return setOptional(a.birthDate, text, parseHl7Date);
    case CPIS_FIELD_SEX: {
      const auto sex = text.empty() ? std::optional(domain::Sex::Unknown) : domain::parseSex(text);
      if (!sex) return CPIS_HOST_BAD_ARGUMENT;
      a.sex = *sex;
      return CPIS_HOST_OK;
    }
    case CPIS_FIELD_PREGNANT: {
      const auto pregnant = parseYesNo(text);
      if (!pregnant) return CPIS_HOST_BAD_ARGUMENT;
      // Y or N is the adapter's word on it; empty says nothing, so an unreadable value (read back
      // as empty) written back stays unreadable rather than becoming "not pregnant".
      if (text.empty() && a.pregnancyUnreadable) return CPIS_HOST_OK;
      a.pregnant = *pregnant;
      a.pregnancyUnreadable = false;
      return CPIS_HOST_OK;
    }
    case CPIS_FIELD_EXPECTED_DELIVERY_DATE: return setOptional(a.expectedDeliveryDate, text, parseHl7Date);
    case CPIS_FIELD_VISIT_NUMBER: return setText(a.visitNumber, text);
    case CPIS_FIELD_ARRIVED_AT: return setOptional(a.arrivedAt, text, parseHl7Instant);
    case CPIS_FIELD_LOCATION_KEY: return setText(a.locationKey, text);
    case CPIS_FIELD_CARE_SETTING: {
      const cpis_host_result result = setOptional(a.setting, text, domain::parseCareSetting);
      if (result == CPIS_HOST_OK) a.settingByDefault = false;  // the adapter's word, not the default rule
      return result;
    }
    case CPIS_FIELD_SITE_ODS_CODE: return setText(a.siteOdsCode, text);
    case CPIS_FIELD_DEPARTMENT: return setText(a.department, text);
    case CPIS_FIELD_PATIENT_CLASS: return setText(a.patientClass, text);
    case CPIS_FIELD_ACCESS_MODE: {
      const cpis_host_result result = setOptional(a.accessMode, text, domain::parseAccessMode);
      if (result == CPIS_HOST_OK) a.accessModeByAdapter = true;
      return result;
    }
    case CPIS_FIELD_SCHEDULED_ONLY: {
      const auto scheduled = parseYesNo(text);
      if (!scheduled) return CPIS_HOST_BAD_ARGUMENT;
      a.scheduledOnly = *scheduled;
      return CPIS_HOST_OK;
    }
    case CPIS_FIELD_PRIOR_NHS_NUMBER:
      a.priorNhsNumber = domain::NhsNumber::parse(text);
      return text.empty() || a.priorNhsNumber ? CPIS_HOST_OK : CPIS_HOST_BAD_ARGUMENT;
    default: return CPIS_HOST_BAD_ARGUMENT;
  }
}

std::uint32_t outcomeCount(const domain::CheckOutcome& outcome, cpis_outcome_list list,
                           std::uint32_t record) {
  switch (list) {
    case CPIS_LIST_RECORDS: return static_cast<std::uint32_t>(outcome.records.size());
    case CPIS_LIST_PLANS:
      return record < outcome.records.size()
                 ? static_cast<std::uint32_t>(outcome.records[record].plans.size())
                 : 0;
    case CPIS_LIST_ACCESSES: return static_cast<std::uint32_t>(outcome.accesses.size());
    default: return 0;
  }
}

cpis_host_result readOutcomeField(const domain::CheckOutcome& o, cpis_outcome_field field,
                                  std::uint32_t index, std::uint32_t subIndex, std::string& text) {
  text.clear();
  const auto fieldNumber = static_cast<std::uint32_t>(field);
  if (fieldNumber < 20) {
    switch (field) {
      case CPIS_OUTCOME_STATUS: return give(text, domain::codeOf(o.status));
      case CPIS_OUTCOME_REASON:
        return giveOptional(text, o.reason, [](domain::ReasonCode r) { return domain::codeOf(r); });
      case CPIS_OUTCOME_REASON_TEXT: return give(text, o.reasonText);
      case CPIS_OUTCOME_NHS_NUMBER:
        return giveOptional(text, o.queried, [](const domain::NhsNumber& n) { return n.reveal(); });
      case CPIS_OUTCOME_ACCESS_MODE:
        return giveOptional(text, o.mode, [](domain::AccessMode m) { return domain::codeOf(m); });
      case CPIS_OUTCOME_DECIDED_AT: return give(text, formatInstant(o.decidedAt));
      case CPIS_OUTCOME_CHECK_ID: return give(text, o.checkId);
      case CPIS_OUTCOME_SOURCE: return give(text, domain::codeOf(o.source));
      case CPIS_OUTCOME_REFUSED_NHS_NUMBER:
        return giveOptional(text, o.refusedNhsNumber,
                            [](const domain::RefusedNhsNumber& n) { return n.reveal(); });
      default: return CPIS_HOST_BAD_ARGUMENT;
    }
  }
  if (fieldNumber < 60) {
    if (index >= o.records.size()) return CPIS_HOST_BAD_ARGUMENT;
    const domain::CpisRecord& record = o.records[index];
    if (fieldNumber < 40) {
      switch (field) {
        case CPIS_RECORD_SUBJECT: return give(text, domain::codeOf(record.subject));
        case CPIS_RECORD_LA_ODS_CODE: return give(text, record.la.odsCode);
        case CPIS_RECORD_LA_NAME: return give(text, record.la.name);
        case CPIS_RECORD_LA_EMERGENCY_PHONE: return give(text, record.la.emergencyPhone);
        case CPIS_RECORD_LA_WORKPLACE_PHONE:
          return giveOptional(text, record.la.workplacePhone, [](const std::string& s) { return s; });
        default: return CPIS_HOST_BAD_ARGUMENT;
      }
    }
    if (subIndex >= record.plans.size()) return CPIS_HOST_BAD_ARGUMENT;
    const domain::ProtectionPlan& plan = record.plans[subIndex];
    switch (field) {
      case CPIS_PLAN_TYPE: return give(text, domain::codeOf(plan.type));
      case CPIS_PLAN_START: return give(text, domain::hl7Date(plan.start));
      case CPIS_PLAN_END:
        return giveOptional(text, plan.end, [](domain::Date d) { return domain::hl7Date(d); });
      case CPIS_PLAN_SNOMED_CODE: return give(text, domain::snomedCodeOf(plan.type));
      case CPIS_PLAN_DISPLAY_NAME: return give(text, domain::displayNameOf(plan.type));
      default: return CPIS_HOST_BAD_ARGUMENT;
    }
  }
  if (index >= o.accesses.size()) return CPIS_HOST_BAD_ARGUMENT;
  const domain::PriorAccess& access = o.accesses[index];
  switch (field) {
    case CPIS_ACCESS_AT: return give(text, formatInstant(access.at));
    case CPIS_ACCESS_BY_SYSTEM: return give(text, yesNo(access.bySystem));
    case CPIS_ACCESS_PERSON_NAME: return give(text, access.personName);
    case CPIS_ACCESS_JOB_ROLE_CODE: return give(text, access.jobRoleCode);
    case CPIS_ACCESS_JOB_ROLE_NAME: return give(text, access.jobRoleName);
    case CPIS_ACCESS_ORG_ODS_CODE: return give(text, access.orgOdsCode);
    case CPIS_ACCESS_ORG_NAME: return give(text, access.orgName);
    case CPIS_ACCESS_ASID: return giveOptional(text, access.asid, [](const std::string& s) { return s; });
    default: return CPIS_HOST_BAD_ARGUMENT;
  }
}

std::optional<domain::Date> parseHl7Date(std::string_view text) {
  if (text.size() != 8 || !allDigits(text)) return std::nullopt;
  const domain::Date date{year{static_cast<int>(number(text.substr(0, 4)))}, month{number(text.substr(4, 2))},
                          day{number(text.substr(6, 2))}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::optional<domain::Instant> parseHl7Instant(std::string_view text) {
  std::optional<minutes> offset;
  const std::size_t sign = text.find_first_of("+-");
  if (sign != std::string_view::npos) {
    const std::string_view zone = text.substr(sign + 1);
    if (zone.size() != 4 || !allDigits(zone)) return std::nullopt;
    const unsigned hh = number(zone.substr(0, 2));
    const unsigned mm = number(zone.substr(2, 2));
    if (hh > 23 || mm > 59) return std::nullopt;
    offset = minutes((text[sign] == '-' ? -1 : 1) * static_cast<int>(hh * 60 + mm));
  }
  const std::string_view body = text.substr(0, sign);
  const std::size_t dot = body.find('.');
  const std::string_view main = body.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view() : body.substr(dot + 1);
  if (!allDigits(main) || (main.size() != 8 && main.size() != 10 && main.size() != 12 && main.size() != 14)) {
    return std::nullopt;
  }
  if (dot != std::string_view::npos &&
      (main.size() != 14 || fraction.empty() || fraction.size() > 4 || !allDigits(fraction))) {
    return std::nullopt;
  }
  const auto date = parseHl7Date(main.substr(0, 8));
  if (!date) return std::nullopt;
  const unsigned hh = main.size() >= 10 ? number(main.substr(8, 2)) : 0;
  const unsigned mi = main.size() >= 12 ? number(main.substr(10, 2)) : 0;
  const unsigned ss = main.size() >= 14 ? number(main.substr(12, 2)) : 0;
  if (hh > 23 || mi > 59 || ss > 59) return std::nullopt;
  std::string millis(fraction.substr(0, 3));
  millis.resize(3, '0');
  const milliseconds timeOfDay = hours(hh) + minutes(mi) + seconds(ss) + milliseconds(number(millis));
  if (offset) return domain::Instant(sys_days(*date).time_since_epoch() + timeOfDay - *offset);
  return domain::fromLondonLocal(domain::LocalTime(local_days(*date).time_since_epoch() + timeOfDay));
}

std::string formatInstant(domain::Instant at) {
  return hl7v2::hl7Timestamp(system_clock::time_point(at));
}

}  // namespace cpis::plugin
