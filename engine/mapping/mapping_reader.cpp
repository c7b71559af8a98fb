#include "engine/mapping/mapping_reader.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <sstream>
#include <utility>

namespace cpis::mapping {

namespace {

using config::ConfigProblem;
using config::XmlElement;

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

bool isTrue(const std::string* value) {
  return value && (*value == "true" || *value == "1");
}

std::string knownSettings() {
  std::string out;
  for (int i = 0; i <= static_cast<int>(domain::CareSetting::OutOfScope); ++i) {
    if (!out.empty()) out += ", ";
    out += domain::codeOf(static_cast<domain::CareSetting>(i));
  }
  return out;
}

class TreeReader {
 public:
  TreeReader(const std::string& fileName, std::vector<ConfigProblem>& problems)
      : fileName_(fileName), problems_(problems) {}

  MappingRules read(const XmlElement& root) {
    MappingRules rules = MappingRules::withDefaults(*root.attribute("name"));
    if (const auto* zone = root.attribute("timeZone"); zone && *zone == "UTC") rules.timeZone = TimeZone::Utc;
    if (const auto* events = root.child("events")) readEvents(*events, rules);
    if (const auto* fields = root.child("fields")) readFields(*fields, rules);
    if (const auto* locations = root.child("locations")) readLocations(*locations, rules);
    if (const auto* settings = root.child("settings")) readSettings(*settings, rules);
    return rules;
  }

 private:
  void problem(const XmlElement& at, std::string message) {
    problems_.push_back(ConfigProblem{fileName_, at.line, at.column, std::move(message)});
  }

  // Whether `key` was seen before in this table; if so, a problem says where.
  bool duplicate(std::map<std::string, std::uint64_t>& seen, const std::string& key, const XmlElement& at,
                 std::string_view what) {
    const auto [it, inserted] = seen.emplace(key, at.line);
    if (!inserted) {
      problem(at, std::string(what) + " appears twice (first at line " + std::to_string(it->second) + ")");
    }
    return !inserted;
  }

  std::optional<hl7v2::Path> path(const XmlElement& at, const std::string& text) {
    auto parsed = hl7v2::parsePath(text);
    if (!parsed) {
      problem(at, "path '" + text + "': " + parsed.error());
      return std::nullopt;
    }
    return std::move(parsed).value();
  }

  // A <location>, <otherwise> or <setting> element's terms of checks there (CPIS.md §8); the
  // schema has checked each attribute's form.
  domain::LocationTerms terms(const XmlElement& at, const std::optional<domain::CareSetting>& setting) {
    domain::LocationTerms t;
    const auto flag = [&](const char* name) -> std::optional<bool> {
      const auto* value = at.attribute(name);
      return value ? std::optional<bool>(isTrue(value)) : std::nullopt;
    };
    if (const auto* age = at.attribute("maxAgeYears")) t.maxAgeYears = maxAge(at, *age);
    t.acceptUnverifiedNhsNumber = flag("acceptUnverifiedNhsNumber");
    t.acceptMissingTraceStatus = flag("acceptMissingTraceStatus");
    t.emitOutOfScope = flag("emitOutOfScope");
    t.enabled = flag("enabled");
    if (t.emitOutOfScope && setting && *setting != domain::CareSetting::OutOfScope) {
      problem(at, "emitOutOfScope applies to OUT_OF_SCOPE only; " + std::string(domain::codeOf(*setting)) +
                      " is checked or read, and its ACK always carries its status");
    }
    if (setting == domain::CareSetting::OutOfScope) {
      // Terms of a check on a setting that is never queried: a mistake (meant for another row?).
      for (const auto& [name, given] : {std::pair<const char*, bool>{"maxAgeYears", t.maxAgeYears.has_value()},
                                        {"acceptUnverifiedNhsNumber", t.acceptUnverifiedNhsNumber.has_value()},
                                        {"acceptMissingTraceStatus", t.acceptMissingTraceStatus.has_value()},
                                        {"enabled", t.enabled.has_value()}}) {
        if (given) problem(at, std::string(name) + " has no meaning for OUT_OF_SCOPE, which is never queried");
      }
    }
    return t;
  }

  // maxAgeYears: "none" (0: any age) or 1 to 150. The schema says so (and Xerces-C++ hands over
  // the value with its white space collapsed); this never throws, whatever the value.
  std::optional<int> maxAge(const XmlElement& at, std::string_view text) {
    if (text == "none") return 0;
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // xs:positiveInteger allows it
    int years = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), years);
    if (error != std::errc{} || end != text.data() + text.size() || years < 1 || years > 150) {
      problem(at, "maxAgeYears must be whole years from 1 to 150, or none");
      return std::nullopt;
    }
    return years;
  }

  std::optional<domain::CareSetting> setting(const XmlElement& at, const std::string& code) {
    const auto parsed = domain::parseCareSetting(code);
    if (!parsed) problem(at, "unknown care setting '" + code + "': known settings are " + knownSettings());
    return parsed;
  }

  void readEvents(const XmlElement& events, MappingRules& rules) {
    std::map<std::string, std::uint64_t> seen;
    for (const XmlElement* event : events.childrenNamed("event")) {
      EventRule rule;
      rule.code = *event->attribute("code");
      rule.means = domain::parseAttendanceEvent(*event->attribute("means")).value();
      rule.scheduledOnly = isTrue(event->attribute("scheduledOnly"));
      if (rule.scheduledOnly && rule.means != domain::AttendanceEvent::Start) {
        problem(*event, "scheduledOnly applies to START events only");
      }
      if (!duplicate(seen, rule.code, *event, "event code '" + rule.code + "'")) rules.events.push_back(rule);
    }
    if (const auto* otherwise = events.child("otherwise")) {
      rules.otherEvents = domain::parseAttendanceEvent(*otherwise->attribute("means")).value();
    }
  }

  // A value a field of this kind may hold after mapping (the empty value always may).
  bool allowed(FieldKind kind, const std::string& value) {
    if (value.empty()) return true;
    switch (kind) {
      case FieldKind::NhsStatus: return domain::parseNhsNumberStatus(value).has_value();
      case FieldKind::Sex: return domain::parseSex(value).has_value();
      case FieldKind::YesNo: return value == "Y" || value == "N";
      default: return true;
    }
  }
  std::string_view allowedText(FieldKind kind) {
    switch (kind) {
      case FieldKind::NhsStatus: return "NSTS01 to NSTS08";
      case FieldKind::Sex: return "F, M, O, U, A or N (HL7 table 0001)";
      case FieldKind::YesNo: return "Y or N";
      default: return "";
    }
  }

  void readFields(const XmlElement& fields, MappingRules& rules) {
    std::map<std::string, std::uint64_t> seen;
    for (const XmlElement* element : fields.childrenNamed("field")) {
      const std::string& name = *element->attribute("name");
      const auto id = parseFieldId(name);
      if (!id) {
        problem(*element, "unknown field '" + name + "': known fields are " + knownFieldNames());
        continue;
      }
      if (duplicate(seen, name, *element, "field '" + name + "'")) continue;
      FieldRule& rule = rules.fields[static_cast<std::size_t>(*id)];
      rule = FieldRule{};
      rule.field = *id;
      readField(*element, rule);
    }
  }

  void readField(const XmlElement& element, FieldRule& rule) {
    const std::string name(nameOf(rule.field));
    const FieldKind kind = kindOf(rule.field);
    rule.required = isTrue(element.attribute("required"));
    if (rule.required && (kind == FieldKind::NhsNumber || kind == FieldKind::NhsStatus)) {
      problem(element,
              name +
                  " cannot be required: a message without a usable NHS number is accepted and answered "
                  "NOT_CHECKED (CPIS.md section 5)");
    }
    if (const auto* format = element.attribute("format")) {
      if (kind != FieldKind::Date && kind != FieldKind::DateTime) {
        problem(element, "format applies to date and time fields only, not " + name);
      } else if (auto parsed = DateTimeFormat::parse(*format)) {
        rule.format = std::move(parsed).value();
      } else {
        problem(element, "format '" + *format + "': " + parsed.error());
      }
    }
    const auto checkValue = [&](const XmlElement& at, const std::string& value) {
      if (!allowed(kind, value)) {
        problem(at, "'" + value + "' is not a value " + name + " can hold: expected " +
                        std::string(allowedText(kind)));
      }
    };
    // The maps first: a constant is checked as what it maps to.
    std::map<std::string, std::uint64_t> seen;
    for (const XmlElement* map : element.childrenNamed("map")) {
      const std::string& from = *map->attribute("from");
      const std::string& to = *map->attribute("to");
      checkValue(*map, to);
      if (!duplicate(seen, from, *map, "map from '" + from + "'")) rule.map.emplace_back(from, to);
    }
    if (const auto* mapDefault = element.child("mapDefault")) {
      rule.mapDefault = *mapDefault->attribute("to");
      checkValue(*mapDefault, *rule.mapDefault);
    }
    for (const XmlElement& child : element.children) {
      if (child.name == "source") {
        Source source;
        source.path = path(child, *child.attribute("path"));
        if (const auto* format = child.attribute("format")) {
          if (kind != FieldKind::Date && kind != FieldKind::DateTime) {
            problem(child, "format applies to date and time fields only, not " + name);
          } else if (auto parsed = DateTimeFormat::parse(*format)) {
            source.format = std::move(parsed).value();
          } else {
            problem(child, "format '" + *format + "': " + parsed.error());
          }
        }
        for (const XmlElement* where : child.childrenNamed("where")) {
          if (auto condition = readCondition(*where, /*relativeAllowed=*/true)) {
            source.where.push_back(*condition);
          }
        }
        rule.sources.push_back(std::move(source));
      } else if (child.name == "constant") {
        Source source;
        source.constant = *child.attribute("value");
        if (kind == FieldKind::NhsNumber) {
          problem(child, name + " cannot be a constant: it identifies the patient (hazard H1)");
        } else if (kind == FieldKind::Date && !rule.format.date(source.constant)) {
          problem(child, "constant is not a date in the format " + rule.format.spec());
        } else if (kind == FieldKind::DateTime && !rule.format.instant(source.constant, TimeZone::Utc)) {
          problem(child, "constant is not a date and time in the format " + rule.format.spec());
        } else {
          if (const std::string mapped = rule.mapped(source.constant); !mapped.empty()) checkValue(child, mapped);
        }
        rule.sources.push_back(std::move(source));
      }
    }
  }

  std::optional<Condition> readCondition(const XmlElement& where, bool relativeAllowed) {
    Condition condition;
    const auto number = [&](std::string_view attribute) -> std::uint32_t {
      const auto* value = where.attribute(attribute);
      if (!value) return 0;
      // The schema guarantees a positive integer; one past 32 bits is no real position.
      std::uint32_t n = 0;
      const auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), n);
      if (error != std::errc{} || end != value->data() + value->size()) {
        problem(where, std::string(attribute) + " is too large");
        return 0;
      }
      return n;
    };
    const std::uint32_t field = number("field");
    const std::uint32_t repetition = number("repetition");
    const std::uint32_t component = number("component");
    const std::uint32_t subComponent = number("subComponent");
    const auto* pathText = where.attribute("path");
    bool ok = true;
    if (pathText) {
      if (field || repetition || component || subComponent) {
        problem(where, "a condition with a path takes no field, repetition, component or subComponent");
        ok = false;
      }
      auto parsed = path(where, *pathText);
      if (!parsed) return std::nullopt;
      if (parsed->segmentRepetition == hl7v2::Path::kAll || parsed->fieldRepetition == hl7v2::Path::kAll) {
        problem(where, "a condition's path names one value: '*' repetitions are not allowed");
        ok = false;
      }
      condition.scope = Condition::Scope::Absolute;
      condition.path = *parsed;
    } else if (!relativeAllowed) {
      problem(where, "a location condition needs a path (field and component conditions belong to sources)");
      return std::nullopt;
    } else if (field) {
      condition.scope = Condition::Scope::Field;
      condition.path.field = field;
      condition.path.fieldRepetition = repetition ? repetition : 1;
      condition.path.component = component;
      condition.path.subComponent = subComponent;
    } else if (component) {
      if (repetition) {
        problem(where, "a component condition reads the repetition being read: it takes no repetition");
        ok = false;
      }
      condition.scope = Condition::Scope::Component;
      condition.path.component = component;
      condition.path.subComponent = subComponent;
    } else {
      problem(where, "a condition needs a path, a field or a component");
      return std::nullopt;
    }
    if (subComponent && !component) {
      problem(where, "subComponent needs a component");
      ok = false;
    }
    if (const auto* in = where.attribute("in")) condition.in = words(*in);
    if (const auto* notIn = where.attribute("notIn")) condition.notIn = words(*notIn);
    condition.orEmpty = isTrue(where.attribute("orEmpty"));
    // in="NH,NHSNBR" is one value, "NH,NHSNBR", which no message holds: every NHS number would
    // be passed over. No HL7 code holds a comma, so a list written with commas is refused.
    for (const auto* list : {&condition.in, &condition.notIn}) {
      const auto comma = std::find_if(list->begin(), list->end(),
                                      [](const std::string& v) { return v.find(',') != std::string::npos; });
      if (comma != list->end()) {
        problem(where, "'" + *comma + "': values are separated by spaces, not commas (in=\"NH NHSNBR\")");
        ok = false;
      }
    }
    if (condition.in.empty() && condition.notIn.empty() && !condition.orEmpty) {
      problem(where, "a condition needs in, notIn or orEmpty=\"true\"");
      ok = false;
    }
    if (!ok) return std::nullopt;
    return condition;
  }

  static std::string signature(const std::vector<std::string>& key, const std::vector<Condition>& where,
                               const std::string& separator) {
    std::string out;
    for (const auto& part : key) out += part + separator;
    for (const Condition& c : where) {
      out += "|" + c.path.toString() + " in";
      for (const auto& v : c.in) out += " " + v;
      out += " notIn";
      for (const auto& v : c.notIn) out += " " + v;
      out += c.orEmpty ? " orEmpty" : "";
    }
    return out;
  }

  void readLocations(const XmlElement& locations, MappingRules& rules) {
    LocationTable& table = rules.locations;
    const XmlElement& key = *locations.child("key");
    table.separator = key.attribute("separator") ? *key.attribute("separator") : "/";
    if (table.separator.empty()) problem(key, "the key separator cannot be empty");
    for (const XmlElement* part : key.childrenNamed("part")) {
      const auto* pathText = part->attribute("path");
      const auto* fieldName = part->attribute("field");
      if ((pathText == nullptr) == (fieldName == nullptr)) {
        problem(*part, "a key part needs either a path or a field");
        continue;
      }
      KeyPart keyPart;
      if (fieldName) {
        keyPart.field = parseFieldId(*fieldName);
        if (!keyPart.field) {
          problem(*part, "unknown field '" + *fieldName + "': known fields are " + knownFieldNames());
          continue;
        }
      } else {
        auto parsed = path(*part, *pathText);
        if (!parsed) continue;
        if (parsed->segmentRepetition == hl7v2::Path::kAll || parsed->fieldRepetition == hl7v2::Path::kAll) {
          problem(*part, "a key part names one value: '*' repetitions are not allowed");
          continue;
        }
        keyPart.path = *parsed;
      }
      table.key.push_back(std::move(keyPart));
    }
    const std::size_t partCount = key.childrenNamed("part").size();

    std::map<std::string, std::uint64_t> seen;
    for (const XmlElement* location : locations.childrenNamed("location")) {
      LocationRule row;
      const std::string& keyText = *location->attribute("key");
      if (!table.separator.empty()) {
        for (std::size_t from = 0;;) {
          const std::size_t at = keyText.find(table.separator, from);
          row.key.push_back(keyText.substr(from, at == std::string::npos ? std::string::npos : at - from));
          if (at == std::string::npos) break;
          from = at + table.separator.size();
        }
      }
      if (row.key.size() != partCount) {
        problem(*location, "key '" + keyText + "' has " + std::to_string(row.key.size()) +
                               " part(s); the location key has " + std::to_string(partCount) +
                               " (separated by '" + table.separator + "')");
      }
      bool ok = row.key.size() == partCount;
      for (const XmlElement* where : location->childrenNamed("where")) {
        if (auto condition = readCondition(*where, /*relativeAllowed=*/false)) {
          row.where.push_back(*condition);
        } else {
          ok = false;
        }
      }
      const auto settingCode = setting(*location, *location->attribute("setting"));
      if (!settingCode) ok = false;
      if (const auto* mode = location->attribute("mode")) row.mode = domain::parseAccessMode(*mode);
      row.terms = terms(*location, settingCode);
      row.line = location->line;
      row.column = location->column;
      if (duplicate(
              seen, signature(row.key, row.where, table.separator), *location,
              "location key '" + keyText + "'" + (row.where.empty() ? "" : " with the same conditions"))) {
        ok = false;
      }
      if (!ok) continue;
      row.setting = *settingCode;
      table.rows.push_back(std::move(row));
    }
    if (const auto* otherwise = locations.child("otherwise")) {
      table.otherwise = setting(*otherwise, *otherwise->attribute("setting"));
      table.otherwiseLine = otherwise->line;
      table.otherwiseColumn = otherwise->column;
      if (const auto* mode = otherwise->attribute("mode")) {
        table.otherwiseMode = domain::parseAccessMode(*mode);
      }
      table.otherwiseTerms = terms(*otherwise, table.otherwise);
    }
  }

  void readSettings(const XmlElement& settings, MappingRules& rules) {
    std::map<std::string, std::uint64_t> seen;
    for (const XmlElement* element : settings.childrenNamed("setting")) {
      const std::string& code = *element->attribute("code");
      const auto parsed = setting(*element, code);
      const domain::LocationTerms settingTerms = terms(*element, parsed);
      if (duplicate(seen, code, *element, "setting '" + code + "'") || !parsed) continue;
      if (const auto* mode = element->attribute("mode")) {
        rules.settingModes[*parsed] = domain::parseAccessMode(*mode).value();
      } else if (settingTerms == domain::LocationTerms{}) {
        problem(*element, "setting '" + code + "' says nothing: give it a mode or a term " +
                              "(maxAgeYears, acceptUnverifiedNhsNumber, acceptMissingTraceStatus, emitOutOfScope, enabled)");
      }
      if (settingTerms != domain::LocationTerms{}) rules.settingTerms[*parsed] = settingTerms;
    }
  }

  const std::string& fileName_;
  std::vector<ConfigProblem>& problems_;
};

}  // namespace

MappingRules readMapping(const XmlElement& root, const std::string& fileName,
                         std::vector<ConfigProblem>& problems) {
  return TreeReader(fileName, problems).read(root);
}

}  // namespace cpis::mapping
