#pragma once

// The rules of one mapping file as the loader compiled them (mappings/README.md describes the
// language). Plain values: a Mapping owns them and never changes them.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/attendance.h"
#include "engine/hl7v2/path.h"
#include "engine/mapping/date_time_format.h"

namespace cpis::mapping {

// The attendance fields a mapping can fill, in the order they are read.
enum class FieldId : std::uint8_t {
  ControlId,     // MSH-10 unless the mapping says otherwise
  TriggerEvent,  // MSH-9.2, else EVN-1, unless the mapping says otherwise
  NhsNumber,
  NhsStatus,  // NSTS01..NSTS08
  FamilyName,
  GivenName,
  BirthDate,
  Sex,       // HL7 table 0001
  Pregnant,  // Y or N
  ExpectedDeliveryDate,
  VisitNumber,
  ArrivedAt,
  SiteOdsCode,
  Department,
  PatientClass,
  PriorNhsNumber,  // a merge (A40): the record merged away, MRG-1
};
inline constexpr std::size_t kFieldCount = static_cast<std::size_t>(FieldId::PriorNhsNumber) + 1;

// What a field's text becomes.
enum class FieldKind { Text, NhsNumber, NhsStatus, Sex, YesNo, Date, DateTime };

std::string_view nameOf(FieldId field);  // "nhsNumber", as the mapping file spells it
std::optional<FieldId> parseFieldId(std::string_view name);
FieldKind kindOf(FieldId field);
std::string knownFieldNames();  // for error messages: "controlId, triggerEvent, ..."

// A test on a value next to the one being read. It holds when the value is one of `in` (or is
// empty and orEmpty), and none of `notIn`; with only orEmpty, when the value is empty.
struct Condition {
  enum class Scope {
    Component,  // component (and sub-component) of the repetition being read
    Field,      // a field of the segment occurrence being read
    Absolute,   // any path in the message
  };
  Scope scope = Scope::Absolute;
  // Absolute: the whole path. Field: field, fieldRepetition, component, subComponent.
  // Component: component and subComponent.
  hl7v2::Path path;
  std::vector<std::string> in;
  std::vector<std::string> notIn;
  bool orEmpty = false;
};

// Where a value may come from: an HL7 path (the first candidate, in message order, whose value
// is not empty and meets every condition) or a constant.
struct Source {
  std::optional<hl7v2::Path> path;  // nullopt: the constant
  std::string constant;
  std::vector<Condition> where;
  std::optional<DateTimeFormat> format;  // this source's own date format; else the field's
};

struct FieldRule {
  FieldId field{};
  bool required = false;
  std::vector<Source> sources;  // tried in order; empty: the field is never filled
  DateTimeFormat format = DateTimeFormat::hl7();
  std::vector<std::pair<std::string, std::string>> map;  // from -> to, in file order
  std::optional<std::string> mapDefault;

  // What a source's value becomes through the map rows: its row's `to`, else mapDefault, else
  // the value itself.
  std::string mapped(const std::string& value) const {
    for (const auto& [from, to] : map) {
      if (from == value) return to;
    }
    return mapDefault.value_or(value);
  }
};

struct EventRule {
  std::string code;
  domain::AttendanceEvent means = domain::AttendanceEvent::NotAnAttendance;
  bool scheduledOnly = false;
};

// One part of the location key: an attendance field's value or the value at a path.
struct KeyPart {
  std::optional<FieldId> field;
  hl7v2::Path path;  // when field is nullopt
};

struct LocationRule {
  std::vector<std::string> key;  // one entry per KeyPart; "*" matches anything
  std::vector<Condition> where;
  domain::CareSetting setting{};
  std::optional<domain::AccessMode> mode;
  domain::LocationTerms terms;
  std::uint64_t line = 0, column = 0;  // of its <location> in the mapping file
};

struct LocationTable {
  std::vector<KeyPart> key;
  std::string separator = "/";
  std::vector<LocationRule> rows;
  std::optional<domain::CareSetting> otherwise;  // nullopt: unmatched = unmapped
  std::optional<domain::AccessMode> otherwiseMode;
  domain::LocationTerms otherwiseTerms;
  std::uint64_t otherwiseLine = 0, otherwiseColumn = 0;
};

struct MappingRules {
  std::string name;
  TimeZone timeZone = TimeZone::London;
  std::vector<FieldRule> fields;  // kFieldCount entries, indexed by FieldId
  std::vector<EventRule> events;
  domain::AttendanceEvent otherEvents = domain::AttendanceEvent::NotAnAttendance;
  LocationTable locations;
  std::map<domain::CareSetting, domain::AccessMode> settingModes;  // <setting> entries with a mode
  std::map<domain::CareSetting, domain::LocationTerms> settingTerms;

  const FieldRule& rule(FieldId field) const { return fields[static_cast<std::size_t>(field)]; }
  // A rule for every field: controlId and triggerEvent with their HL7 defaults, the rest empty.
  static MappingRules withDefaults(std::string name);
};

}  // namespace cpis::mapping
