#include "engine/mapping/mapping.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <utility>

#include "engine/domain/london_time.h"
#include "engine/domain/nhs_number.h"

namespace cpis::mapping {

namespace {

using hl7v2::Path;

struct FieldInfo {
  FieldId id;
  std::string_view name;
  FieldKind kind;
};
constexpr std::array<FieldInfo, kFieldCount> kFields{{
    {FieldId::ControlId, "controlId", FieldKind::Text},
    {FieldId::TriggerEvent, "triggerEvent", FieldKind::Text},
    {FieldId::NhsNumber, "nhsNumber", FieldKind::NhsNumber},
    {FieldId::NhsStatus, "nhsStatus", FieldKind::NhsStatus},
    {FieldId::FamilyName, "familyName", FieldKind::Text},
    {FieldId::GivenName, "givenName", FieldKind::Text},
    {FieldId::BirthDate, "birthDate", FieldKind::Date},
    {FieldId::Sex, "sex", FieldKind::Sex},
    {FieldId::Pregnant, "pregnant", FieldKind::YesNo},
    {FieldId::ExpectedDeliveryDate, "expectedDeliveryDate", FieldKind::Date},
    {FieldId::VisitNumber, "visitNumber", FieldKind::Text},
    {FieldId::ArrivedAt, "arrivedAt", FieldKind::DateTime},
    {FieldId::SiteOdsCode, "siteOdsCode", FieldKind::Text},
    {FieldId::Department, "department", FieldKind::Text},
    {FieldId::PatientClass, "patientClass", FieldKind::Text},
    {FieldId::PriorNhsNumber, "priorNhsNumber", FieldKind::NhsNumber},
}};

const FieldInfo& infoOf(FieldId field) {
  return kFields[static_cast<std::size_t>(field)];
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// What a source gave, and where (nullopt for a constant).
struct Found {
  std::string value;
  std::optional<Path> at;
  const DateTimeFormat* format = nullptr;  // the source's own, if it has one
  // An NHS number field whose source matched several repetitions (or segments) carrying
  // different numbers: none is taken (hazard H1: the record needs a person, not a guess).
  bool disagreeing = false;
  std::optional<Path> otherAt;  // disagreeing: where the other number is, when another source's
  std::size_t source = 0;       // which of the rule's sources gave it
};

// A value a text may quote: an OID (2.16.840.1.113883.2.1.4.1) or a short code that begins with a
// letter (NHS, NH, NHSNBR, RZZ). Quoted only from a condition on the identifier's own components
// (its assigning authority, its type), never from a field of the patient's.
bool quotableCode(std::string_view value) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (value.empty() || value.size() > 64) return false;
  if (value.front() >= '0' && value.front() <= '2' && value.find('.') != std::string_view::npos) {
    char previous = value.front();
    for (std::size_t i = 1; i < value.size(); ++i) {
      const char c = value[i];
      if (!(digit(c) || (c == '.' && previous != '.'))) return false;
      previous = c;
    }
    return value[1] == '.' && previous != '.';
  }
  if (value.size() > 16 || !letter(value.front())) return false;
  return std::all_of(value.begin(), value.end(),
                     [&](char c) { return letter(c) || digit(c) || c == '_' || c == '-'; });
}

// What a condition asks, in the mapping's own words (configuration, never message data).
std::string asked(const Condition& condition) {
  const auto joined = [](const std::vector<std::string>& values) {
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "" : ", ") + ("'" + v + "'");
    return out;
  };
  if (!condition.in.empty()) {
    return "is not one the mapping takes (" + joined(condition.in) + (condition.orEmpty ? ", or empty" : "") +
           ")";
  }
  if (condition.orEmpty && condition.notIn.empty()) return "is not empty, as the mapping asks";
  return "is one the mapping refuses (" + joined(condition.notIn) + ")";
}

// An NHS number's digits, as two repetitions are compared: spaces and dashes aside.
std::string digitsOf(std::string_view number) {
  std::string out;
  for (const char c : number) {
    if (c != ' ' && c != '-') out.push_back(c);
  }
  return out;
}

// The rules read against one message. Segments and repetitions are found through memos kept
// for this one reading: reading each of thousands of repetitions (or segments) by number
// would rescan the field (or the message) from the start every time.
class Reader {
 public:
  explicit Reader(const hl7v2::Message& message) : message_(message) {}

  std::string valueAt(const Path& path) const {
    if (path.field == 0) return std::string(trim(message_.get(path)));
    const auto& segments = segmentsNamed(path.segmentId);
    const std::uint32_t occurrence = path.segmentRepetition == Path::kAll ? 1 : path.segmentRepetition;
    if (occurrence == 0 || occurrence > segments.size()) return {};
    const std::size_t index = segments[occurrence - 1];
    const auto& reps = repetitionsOf(index, path.field);
    const std::uint32_t r = path.fieldRepetition == Path::kAll ? 1 : path.fieldRepetition;
    if (r == 0 || r > reps.size()) return {};
    return std::string(trim(message_.valueIn(reps[r - 1], index, path)));
  }

  // Where `condition` reads when `candidate` is the value being read.
  static Path conditionAt(const Condition& condition, const Path& candidate) {
    Path at = condition.path;
    if (condition.scope == Condition::Scope::Component) {
      at = candidate;
      at.component = condition.path.component;
      at.subComponent = condition.path.subComponent;
    } else if (condition.scope == Condition::Scope::Field) {
      at.segmentId = candidate.segmentId;
      at.segmentRepetition = candidate.segmentRepetition;
    }
    return at;
  }

  bool holds(const Condition& condition, const Path& candidate) const {
    const std::string value = valueAt(conditionAt(condition, candidate));
    bool ok = true;
    if (!condition.in.empty()) {
      ok = contains(condition.in, value) || (value.empty() && condition.orEmpty);
    } else if (condition.orEmpty && condition.notIn.empty()) {
      ok = value.empty();
    }
    return ok && !contains(condition.notIn, value);
  }

  // The first match of `source`; `every` (an NHS number): the first, marked disagreeing when a
  // later match carries another number.
  std::optional<Found> read(const Source& source, bool every = false) const {
    std::optional<Found> first;
    forEachMatch(source, [&](std::string value, const Path& at) {
      if (!first) {
        first = Found{std::move(value), at, nullptr, false, std::nullopt};
        return every;
      }
      if (digitsOf(value) == digitsOf(first->value)) return true;
      first->disagreeing = true;
      return false;
    });
    if (!source.path && !first) return Found{source.constant, std::nullopt, nullptr, false, std::nullopt};
    return first;
  }

  // Calls `match(value, at)` for each non-empty value `source` names whose conditions hold, in
  // message order, while it returns true. A constant source has none.
  template <typename Match>
  void forEachMatch(const Source& source, Match&& match) const {
    if (!source.path) return;
    const Path& path = *source.path;
    const bool everySegment = path.segmentRepetition == Path::kAll;
    const std::uint32_t segments = everySegment ? static_cast<std::uint32_t>(segmentsNamed(path.segmentId).size()) : 1;
    for (std::uint32_t s = 1; s <= segments; ++s) {
      Path candidate = path;
      if (everySegment) candidate.segmentRepetition = s;
      const std::uint32_t repetitions = path.fieldRepetition == Path::kAll ? repetitionsAt(candidate) : 1;
      for (std::uint32_t r = 1; r <= repetitions; ++r) {
        if (path.fieldRepetition == Path::kAll) candidate.fieldRepetition = r;
        std::string value = valueAt(candidate);
        if (value.empty()) continue;
        const bool all = std::all_of(source.where.begin(), source.where.end(),
                                     [&](const Condition& c) { return holds(c, candidate); });
        if (all && !match(std::move(value), candidate)) return;
      }
    }
  }

  // For a message in which `rule` (an NHS number) found nothing: the first value at one of its
  // paths that passes the NHS number check but a condition passed over (say PID-3(2), typed
  // NHSNBR where the mapping takes NH), and why, so that the engineer reading "no NHS number"
  // sees where one may be. It may be another register's (a CHI number passes the same check).
  // Paths, the identifier's own codes and the mapping's values only, never the number nor a
  // patient's field; empty when there is none.
  std::string passedOver(const FieldRule& rule) const {
    std::string said;
    for (const Source& source : rule.sources) {
      if (!source.path || source.where.empty()) continue;
      Source unconditional = source;
      unconditional.where.clear();
      forEachMatch(unconditional, [&](const std::string& value, const Path& at) {
        if (!domain::NhsNumber::parse(rule.mapped(value))) return true;
        const auto failed = std::find_if(source.where.begin(), source.where.end(),
                                         [&](const Condition& c) { return !holds(c, at); });
        if (failed == source.where.end()) return true;
        const Path conditionPath = conditionAt(*failed, at);
        const std::string reads = valueAt(conditionPath);
        said = at.toString() +
               " passes the NHS number check but the mapping passed it over: " + conditionPath.toString();
        if (reads.empty()) {
          said += " is empty";
        } else if (failed->scope == Condition::Scope::Component && quotableCode(reads)) {
          said += " is '" + reads + "'";
        } else {
          said += " " + asked(*failed);
        }
        return false;
      });
      if (!said.empty()) break;
    }
    return said;
  }

  // The rule's value: the first of its sources, from `from` on, that gives one.
  std::optional<Found> read(const FieldRule& rule, std::size_t from = 0) const {
    const bool oneNumber = infoOf(rule.field).kind == FieldKind::NhsNumber;
    std::optional<Found> first;
    for (std::size_t i = from; i < rule.sources.size(); ++i) {
      const Source& source = rule.sources[i];
      auto found = read(source, oneNumber);
      if (found) found->source = i;
      if (found && found->disagreeing) return found;  // not the next source: it is not a gap
      if (!found) continue;
      if (source.format) found->format = &*source.format;
      found->value = rule.mapped(found->value);
      if (found->value.empty()) continue;  // mapped to nothing: as if absent, so the next source
      if (!oneNumber) return found;
      // An NHS number: every source is a rule for where the number is, so a later source that
      // names another number (PID-2 beside PID-3, the OID form beside the NHS authority's)
      // disagrees with the first as two repetitions do (hazard H1).
      if (!first) {
        first = std::move(found);
      } else if (digitsOf(found->value) != digitsOf(first->value)) {
        first->disagreeing = true;
        first->otherAt = found->at;
        return first;
      }
    }
    return first;
  }

  // Where a path is, for an Issue: `*` repetitions become the first (segment) or none (field).
  core::Location locationOf(const Path& path) const {
    core::Location location;
    location.segmentId = path.segmentId;
    location.segmentSequence = path.segmentRepetition == Path::kAll ? 1 : path.segmentRepetition;
    location.field = path.field;
    location.fieldRepetition = path.fieldRepetition == Path::kAll ? 0 : path.fieldRepetition;
    location.component = path.component;
    location.subComponent = path.subComponent;
    const std::size_t index = message_.findSegment(path.segmentId, location.segmentSequence);
    if (index < message_.segmentCount()) {
      location.byteOffset =
          static_cast<std::size_t>(message_.segmentRaw(index).data() - message_.raw().data());
    }
    return location;
  }

 private:
  std::uint32_t repetitionsAt(const Path& path) const {
    const auto& segments = segmentsNamed(path.segmentId);
    if (path.segmentRepetition == 0 || path.segmentRepetition > segments.size()) return 0;
    const std::size_t index = segments[path.segmentRepetition - 1];
    if (message_.fieldRaw(index, path.field).empty()) return 0;
    return static_cast<std::uint32_t>(repetitionsOf(index, path.field).size());
  }

  const std::vector<std::size_t>& segmentsNamed(const std::string& id) const {
    auto it = segments_.find(id);
    if (it == segments_.end()) it = segments_.emplace(id, message_.segmentsNamed(id)).first;
    return it->second;
  }

  const std::vector<std::string_view>& repetitionsOf(std::size_t index, std::uint32_t field) const {
    const auto key = std::make_pair(index, field);
    auto it = repetitions_.find(key);
    if (it == repetitions_.end()) it = repetitions_.emplace(key, message_.repetitions(index, field)).first;
    return it->second;
  }

  const hl7v2::Message& message_;
  mutable std::map<std::string, std::vector<std::size_t>> segments_;
  mutable std::map<std::pair<std::size_t, std::uint32_t>, std::vector<std::string_view>> repetitions_;
};

std::string pathsOf(const FieldRule& rule) {
  std::string out;
  for (const Source& source : rule.sources) {
    if (!source.path) continue;
    if (!out.empty()) out += " or ";
    out += source.path->toString();
  }
  return out;
}

core::Issue dataIssue(core::ErrorCode code, core::Location location, std::string text) {
  return core::Issue{code, core::Severity::Error, std::move(location), std::move(text)};
}

// The issue for a field the message must have and does not: 101 at its first path, or, when none
// of its paths' segments is in the message at all (no PV1), 100 at that segment, once a segment.
void reportMissing(const FieldRule& rule, const Reader& reader, const hl7v2::Message& message,
                   std::vector<core::Issue>& issues) {
  const std::string name(nameOf(rule.field));
  const auto first = std::find_if(rule.sources.begin(), rule.sources.end(),
                                  [](const Source& s) { return s.path.has_value(); });
  core::Location location = first != rule.sources.end() ? reader.locationOf(*first->path) : core::Location{};
  const bool noSegment = first != rule.sources.end() &&
                         std::none_of(rule.sources.begin(), rule.sources.end(), [&](const Source& s) {
                           return s.path && message.findSegment(s.path->segmentId) < message.segmentCount();
                         });
  if (!noSegment) {
    issues.push_back(dataIssue(core::ErrorCode::RequiredFieldMissing, std::move(location),
                               name + " is required: nothing at " + pathsOf(rule)));
    return;
  }
  const bool said = std::any_of(issues.begin(), issues.end(), [&](const core::Issue& issue) {
    return issue.code == core::ErrorCode::SegmentSequence && issue.location.segmentId == location.segmentId;
  });
  if (said) return;  // "no PID segment" once
  location.field = 0;
  location.fieldRepetition = 0;
  location.component = 0;
  location.subComponent = 0;
  issues.push_back(dataIssue(core::ErrorCode::SegmentSequence, std::move(location),
                             name + " is required: the message has no " + first->path->segmentId +
                                 " segment (nothing at " + pathsOf(rule) + ")"));
}

// The first row of the location table that matches the key's `parts` and whose conditions hold
// in the message, else the table's `otherwise`: sets a.setting (none when neither) and
// a.settingByDefault; the row's own terms.
Mapping::RowTerms matchLocation(const LocationTable& table, const std::vector<std::string>& parts,
                                const Reader& reader, domain::Attendance& a) {
  a.setting.reset();
  a.settingByDefault = false;
  if (table.key.empty()) return {};
  const auto matches = [&](const LocationRule& rule) {
    for (std::size_t i = 0; i < parts.size() && i < rule.key.size(); ++i) {
      // `*` is any part, an empty one too: a site-wide row (RZZ01/* for PV1-10 180) takes a
      // message that names no point of care. Leaving it out would turn that child's check into
      // OUT_OF_SCOPE under an `otherwise`; a needless check is the lesser harm.
      if (rule.key[i] != "*" && rule.key[i] != parts[i]) return false;
    }
    return std::all_of(rule.where.begin(), rule.where.end(),
                       [&](const Condition& c) { return reader.holds(c, c.path); });
  };
  const auto hit = std::find_if(table.rows.begin(), table.rows.end(), matches);
  if (hit != table.rows.end()) {
    a.setting = hit->setting;
    return Mapping::RowTerms{hit->mode, hit->terms};
  }
  if (!table.otherwise) return {};
  a.setting = table.otherwise;
  // Not in the table: no row names this key itself (a row that names it, and whose conditions
  // left this message out, is the table's own word on it).
  a.settingByDefault = std::none_of(table.rows.begin(), table.rows.end(), [&](const LocationRule& named) {
    for (std::size_t i = 0; i < parts.size() && i < named.key.size(); ++i) {
      if (named.key[i] == "*" || named.key[i] != parts[i]) return false;
    }
    return true;
  });
  return Mapping::RowTerms{table.otherwiseMode, table.otherwiseTerms};
}

}  // namespace

std::string_view nameOf(FieldId field) {
  return infoOf(field).name;
}

std::optional<FieldId> parseFieldId(std::string_view name) {
  for (const FieldInfo& info : kFields) {
    if (info.name == name) return info.id;
  }
  return std::nullopt;
}

FieldKind kindOf(FieldId field) {
  return infoOf(field).kind;
}

std::string knownFieldNames() {
  std::string out;
  for (const FieldInfo& info : kFields) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

MappingRules MappingRules::withDefaults(std::string name) {
  MappingRules rules;
  rules.name = std::move(name);
  for (const FieldInfo& info : kFields) {
    FieldRule rule;
    rule.field = info.id;
    rules.fields.push_back(std::move(rule));
  }
  const auto at = [](std::string_view text) {
    Source source;
    source.path = hl7v2::parsePath(text).value();
    return source;
  };
  rules.fields[static_cast<std::size_t>(FieldId::ControlId)].sources = {at("MSH-10")};
  rules.fields[static_cast<std::size_t>(FieldId::TriggerEvent)].sources = {at("MSH-9.2"), at("EVN-1")};
  return rules;
}

Mapping::Mapping(MappingRules rules) : rules_(std::move(rules)) {
  CPIS_ASSERT(rules_.fields.size() == kFieldCount);
}

core::Result<domain::Attendance, std::vector<core::Issue>> Mapping::apply(const hl7v2::Message& message,
                                                                          std::string_view feedId,
                                                                          RowTerms* row,
                                                                          domain::Attendance* refused) const {
  const Reader reader(message);
  domain::Attendance a;
  a.feedId = std::string(feedId);

  std::array<std::optional<Found>, kFieldCount> found;
  for (const FieldRule& rule : rules_.fields) found[static_cast<std::size_t>(rule.field)] = reader.read(rule);
  const auto text = [&](FieldId field) {
    const auto& f = found[static_cast<std::size_t>(field)];
    return f ? f->value : std::string{};
  };

  a.controlId = text(FieldId::ControlId);
  a.triggerEvent = text(FieldId::TriggerEvent);
  const auto event = std::find_if(rules_.events.begin(), rules_.events.end(),
                                  [&](const EventRule& rule) { return rule.code == a.triggerEvent; });
  a.event = event != rules_.events.end() ? event->means : rules_.otherEvents;
  a.scheduledOnly = event != rules_.events.end() && event->scheduledOnly;
  const bool attendance = domain::aboutAnAttendance(a.event);  // else nothing is required of it

  // A date or a time that does not read in its format gives no value: the field's next source
  // is tried (EVN-2 after an unreadable PV1-44), as for a source with nothing in it. The first
  // that did not read is kept: reported when another was taken, refused or taken as absent when
  // none reads.
  std::array<std::optional<Found>, kFieldCount> unreadable;
  for (const FieldRule& rule : rules_.fields) {
    const FieldKind kind = kindOf(rule.field);
    if (kind != FieldKind::Date && kind != FieldKind::DateTime) continue;
    const auto reads = [&](const Found& f) {
      const DateTimeFormat& format = f.format ? *f.format : rule.format;
      return kind == FieldKind::Date ? format.date(f.value).has_value()
                                     : format.instant(f.value, rules_.timeZone).has_value();
    };
    auto& f = found[static_cast<std::size_t>(rule.field)];
    auto& first = unreadable[static_cast<std::size_t>(rule.field)];
    while (f && !reads(*f)) {
      if (!first) first = f;
      f = reader.read(rule, f->source + 1);
    }
    if (!f) f = first;
  }

  std::vector<core::Issue> issues;
  // A message whose event nobody can name is not "not an attendance": a registration that lost
  // its trigger would go unchecked without a word to the sender.
  if (a.triggerEvent.empty()) {
    reportMissing(rules_.fields[static_cast<std::size_t>(FieldId::TriggerEvent)], reader, message, issues);
  }
  // Every ADT structure of an attendance or a merge carries the patient in PID.
  if ((attendance || a.event == domain::AttendanceEvent::Merge) &&
      message.findSegment("PID") >= message.segmentCount()) {
    core::Location pid;
    pid.segmentId = "PID";
    pid.segmentSequence = 1;
    issues.push_back(dataIssue(core::ErrorCode::SegmentSequence, std::move(pid),
                               "no PID segment: the message names no patient"));
  }
  for (const FieldRule& rule : rules_.fields) {
    const auto& f = found[static_cast<std::size_t>(rule.field)];
    const std::string_view name = nameOf(rule.field);
    if (!f) {
      if (rule.field == FieldId::NhsNumber && attendance) a.nhsNumberPassedOver = reader.passedOver(rule);
      if (rule.required && attendance) reportMissing(rule, reader, message, issues);
      continue;
    }
    if (f->disagreeing) {
      // Never a guess between two numbers; never either number in the text (it reaches logs).
      if (rule.field == FieldId::NhsNumber) {
        const auto field = [](const Path& at) { return at.segmentId + "-" + std::to_string(at.field); };
        a.nhsNumberProblem = "the message carries two different NHS numbers in " + field(*f->at);
        if (f->otherAt && field(*f->otherAt) != field(*f->at))
          a.nhsNumberProblem += " and " + field(*f->otherAt);
      }
      continue;  // priorNhsNumber: none (the merge is not recorded, and logged so)
    }
    const std::string& value = f->value;
    const DateTimeFormat& format = f->format ? *f->format : rule.format;
    // A required field's bad value refuses the message (AE); any other is taken as absent and
    // noted, so the attendance is still checked (an unreadable birth date is a missing one).
    const auto badDate = [&](std::string_view what) {
      if (!attendance) return;
      core::Issue issue =
          dataIssue(core::ErrorCode::DataType, f->at ? reader.locationOf(*f->at) : core::Location{},
                    std::string(name) + " is not " + std::string(what) + " in the format " + format.spec());
      if (rule.required) return issues.push_back(std::move(issue));
      issue.severity = core::Severity::Warning;
      issue.text += "; taken as absent";
      a.warnings.push_back(std::move(issue));
    };
    switch (rule.field) {
      case FieldId::ControlId:
      case FieldId::TriggerEvent: break;  // read above
      case FieldId::NhsNumber:
        if (auto number = domain::NhsNumber::parse(value)) {
          a.nhsNumber = *number;
          if (f->at) a.nhsNumberFrom = f->at->toString();
        } else if (auto error = domain::NhsNumber::check(value)) {
          a.nhsNumberProblem = std::string(domain::describe(*error));
          if (!value.empty()) a.refusedNhsNumber = domain::RefusedNhsNumber(value);
        }
        break;
      case FieldId::NhsStatus:
        if (const auto status = domain::parseNhsNumberStatus(value)) {
          a.nhsStatus = *status;
        } else {
          a.nhsStatus = domain::NhsNumberStatus::Absent;
          a.nhsStatusUnreadable = !value.empty() && !domain::isIdentityReliabilityCode(value);
        }
        break;
      case FieldId::FamilyName: a.name.family = value; break;
      case FieldId::GivenName: a.name.given = value; break;
      case FieldId::BirthDate:
        if (auto date = format.date(value)) {
          a.birthDate = *date;
        } else {
          badDate("a date");
        }
        break;
      case FieldId::Sex: a.sex = domain::parseSex(value).value_or(domain::Sex::Unknown); break;
      case FieldId::Pregnant:
        a.pregnant = value == "Y";
        // Neither Y nor N once the maps have run ("YES", a local code no map names): not read as
        // "not pregnant", which would age an expectant mother out of her unborn child's check.
        if (value != "Y" && value != "N" && attendance) {
          a.pregnancyUnreadable = true;
          a.warnings.push_back(
              core::Issue{core::ErrorCode::DataType, core::Severity::Warning,
                          f->at ? reader.locationOf(*f->at) : core::Location{},
                          "pregnant is neither Y nor N once mapped; checked as if pregnant"});
        }
        break;
      case FieldId::ExpectedDeliveryDate:
        if (auto date = format.date(value)) {
          a.expectedDeliveryDate = *date;
        } else {
          badDate("a date");
        }
        break;
      case FieldId::VisitNumber: a.visitNumber = value; break;
      case FieldId::ArrivedAt:
        if (auto at = format.instant(value, rules_.timeZone)) {
          a.arrivedAt = *at;
        } else {
          badDate("a date and time");
        }
        break;
      case FieldId::SiteOdsCode: a.siteOdsCode = value; break;
      case FieldId::Department: a.department = value; break;
      case FieldId::PatientClass: a.patientClass = value; break;
      // Only a merge re-keys by it, and only a valid number: anything else leaves it absent.
      case FieldId::PriorNhsNumber: a.priorNhsNumber = domain::NhsNumber::parse(value); break;
    }
    const auto& skipped = unreadable[static_cast<std::size_t>(rule.field)];
    if (attendance && skipped && skipped->source != f->source && skipped->at) {
      a.warnings.push_back(core::Issue{
          core::ErrorCode::DataType, core::Severity::Warning, reader.locationOf(*skipped->at),
          std::string(name) + " at " + skipped->at->toString() + " is not " +
              (kindOf(rule.field) == FieldKind::Date ? "a date" : "a date and time") + " in the format " +
              (skipped->format ? *skipped->format : rule.format).spec() + "; " +
              (f->at ? f->at->toString() : std::string("the mapping's constant")) + " taken instead"});
    }
  }

  // A birth date after the arrival is a mistyped year or a swapped field. The age rule cannot take
  // a child out of the check on it (decide counts the age as under any limit), and the EPR is
  // told, without the date, that its record needs a look.
  const auto& birth = found[static_cast<std::size_t>(FieldId::BirthDate)];
  if (attendance && a.birthDate && a.arrivedAt && *a.birthDate > domain::londonDate(*a.arrivedAt)) {
    a.warnings.push_back(core::Issue{core::ErrorCode::DataType, core::Severity::Warning,
                                     birth && birth->at ? reader.locationOf(*birth->at) : core::Location{},
                                     "birthDate is after the arrival; checked as a child"});
  }

  // The location key and the first row that matches it.
  const LocationTable& table = rules_.locations;
  std::vector<std::string> parts;
  bool anyPart = false;
  for (const KeyPart& part : table.key) {
    parts.push_back(part.field ? text(*part.field) : reader.valueAt(part.path));
    anyPart = anyPart || !parts.back().empty();
  }
  if (anyPart) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) a.locationKey += table.separator;
      a.locationKey += parts[i];
    }
  }
  const RowTerms matched = matchLocation(table, parts, reader, a);
  settle(a, matched);
  if (row != nullptr) *row = matched;

  if (!issues.empty()) {
    if (refused != nullptr) *refused = std::move(a);
    return issues;
  }
  return a;
}

Mapping::RowTerms Mapping::relocate(const hl7v2::Message& message, domain::Attendance& a) const {
  const LocationTable& table = rules_.locations;
  std::vector<std::string> parts;
  if (table.key.size() <= 1 || table.separator.empty()) {
    parts.push_back(a.locationKey);
  } else {
    std::string_view rest = a.locationKey;
    while (parts.size() + 1 < table.key.size()) {
      const auto at = rest.find(table.separator);
      if (at == std::string_view::npos) break;
      parts.emplace_back(rest.substr(0, at));
      rest.remove_prefix(at + table.separator.size());
    }
    parts.emplace_back(rest);
  }
  parts.resize(table.key.size());  // a key with fewer parts: the missing ones empty
  const Reader reader(message);
  return matchLocation(table, parts, reader, a);
}

void Mapping::settle(domain::Attendance& a, const RowTerms& row) const {
  a.accessMode = row.mode;
  a.locationTerms = row.terms;
  if (!a.setting) return;
  if (!a.accessMode) {
    if (const auto it = rules_.settingModes.find(*a.setting); it != rules_.settingModes.end()) a.accessMode = it->second;
  }
  if (const auto it = rules_.settingTerms.find(*a.setting); it != rules_.settingTerms.end()) {
    a.locationTerms = row.terms.over(it->second);
  }
}

std::vector<config::ConfigProblem> implicitAccessModes(const MappingRules& rules, const std::string& file) {
  std::vector<config::ConfigProblem> problems;
  const auto require = [&](std::uint64_t line, std::uint64_t column, std::string what, domain::CareSetting setting,
                           const std::optional<domain::AccessMode>& mode) {
    if (setting == domain::CareSetting::OutOfScope || mode || rules.settingModes.count(setting) != 0) return;
    const std::string code(domain::codeOf(setting));
    problems.push_back(config::ConfigProblem{
        file, line, column,
        what + " (" + code + ") has no explicit access mode, which a LIVE engine requires (CPIS.md §8): give it " +
            "mode=\"UNSCHEDULED\" or mode=\"SCHEDULED\", or the mapping a <setting code=\"" + code +
            "\" mode=...> entry"});
  };
  const LocationTable& table = rules.locations;
  for (const LocationRule& row : table.rows) {
    std::string key;
    for (const std::string& part : row.key) key += (key.empty() ? "" : table.separator) + part;
    require(row.line, row.column, "location " + key, row.setting, row.mode);
  }
  if (table.otherwise) {
    require(table.otherwiseLine, table.otherwiseColumn, "the otherwise rule", *table.otherwise, table.otherwiseMode);
  }
  return problems;
}

}  // namespace cpis::mapping
