#include "adapters/legacy-v23/legacy_v23_adapter.h"

#include <chrono>
#include <cstddef>
#include <vector>

#include "adapters/legacy-v23/legacy_v23_alerts.h"

namespace cpis::adapters::legacy_v23 {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string_view at(const std::vector<std::string_view>& values, std::size_t i) {
  return i < values.size() ? values[i] : std::string_view();
}

// The text without the spaces and dashes the PAS writes between digit groups ("999 000 0018").
std::string compact(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c != ' ' && c != '-') out.push_back(c);
  }
  return out;
}

// Ten digits whose tenth is the modulus 11 check digit of the first nine (CPIS.md section 3).
bool nhsNumberShape(std::string_view digits) {
  if (digits.size() != 10) return false;
  int sum = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    if (digits[i] < '0' || digits[i] > '9') return false;
    if (i < 9) sum += (digits[i] - '0') * static_cast<int>(10 - i);
  }
  const int check = 11 - sum % 11;
  if (check == 10) return false;
  return (check == 11 ? 0 : check) == digits[9] - '0';
}

// ZU1-27 as the PAS writes it: "01".."08", "1".."8" (older releases), or "NSTS01".."NSTS08".
std::string traceStatus(std::string_view value) {
  value = trim(value);
  if (value.size() == 6 && value.substr(0, 4) == "NSTS") value.remove_prefix(4);
  if (value.size() == 2 && value[0] == '0') value.remove_prefix(1);
  if (value.size() == 1 && value[0] >= '1' && value[0] <= '8') return "NSTS0" + std::string(value);
  return {};
}

struct Identifier {
  std::string_view id, authority, universalId, type;
};

std::vector<Identifier> identifiersOf(const sdk::MessageView& message) {
  const auto ids = message.getAll("PID-3(*).1");
  const auto authorities = message.getAll("PID-3(*).4.1");
  const auto universalIds = message.getAll("PID-3(*).4.2");
  const auto types = message.getAll("PID-3(*).5");
  std::vector<Identifier> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out.push_back({trim(ids[i]), trim(at(authorities, i)), trim(at(universalIds, i)), trim(at(types, i))});
  }
  return out;
}

}  // namespace

LegacyV23Adapter::LegacyV23Adapter(const sdk::Config& config) : config_(LegacyV23Config::read(config)) {
  config.log().info("legacy_v23 adapter ready: untyped PID-3 NHS numbers " +
                    std::string(config_.untypedPid3 ? "recognised" : "ignored") + ", " +
                    std::to_string(config_.outOfHoursTypes.size()) + " out-of-hours attendance type(s), " +
                    std::to_string(config_.bankHolidays.size()) + " bank holiday(s)");
}

sdk::AdaptResult LegacyV23Adapter::adapt(const sdk::MessageView& message, sdk::AttendanceBuilder& out) const {
  if (out.get(sdk::Field::Event) == "NOT_AN_ATTENDANCE") {
    return sdk::AdaptResult::notAnAttendance("the mapping file maps this trigger event to no attendance");
  }
  const std::string controlId(out.get(sdk::Field::ControlId));
  // ZPV carries the attendance type, arrival and pregnancy: a second one (perhaps another type)
  // would be passed over by the mapping, which reads the first.
  if (message.count("ZPV") > 1) {
    return sdk::AdaptResult::dataError(
        sdk::Hl7Error::SegmentSequence, "ZPV(2)-1",
        "more than one ZPV segment: which attendance it describes is not clear");
  }

  const std::string nhsNumber = nhsNumberOf(message, controlId);
  if (nhsNumber.empty()) {
    if (!out.get(sdk::Field::NhsNumber).empty()) {
      log().info("message " + controlId + ": the mapping's NHS number is not used (its sources disagree)");
    }
    out.set(sdk::Field::NhsNumber, "");
  } else {
    out.nhsNumber(nhsNumber);  // an invalid one is recorded by the engine: NHS_NUMBER_INVALID
  }

  if (const std::string status = traceStatus(message.get("ZU1-27")); !status.empty()) out.nhsStatus(status);

  // The urgent care centre is the GP out-of-hours service outside core hours. Only a mapped,
  // in-scope location changes: an unmapped one stays unmapped, so it is still reported.
  const std::string_view type = trim(message.get("ZPV-2"));
  const std::string_view setting = out.get(sdk::Field::CareSetting);
  if (config_.outOfHoursTypes.count(type) != 0 && !setting.empty() && setting != "OUT_OF_SCOPE") {
    const auto outside = outOfHours(out.get(sdk::Field::ArrivedAt));
    if (!outside) {
      log().warning("message " + controlId +
                    ": no arrival time, so in or out of hours is unknown; "
                    "the mapping's care setting stands");
    } else if (*outside) {
      out.careSetting("GP_OOH");
    }
  }
  return sdk::AdaptResult::attendance();
}

std::string LegacyV23Adapter::nhsNumberOf(const sdk::MessageView& message, std::string_view controlId) const {
  const auto disagree = [&](std::string_view where) {
    log().warning("message " + std::string(controlId) + ": " + std::string(where) +
                  " hold different NHS numbers; none is used");
    return std::string();
  };
  const std::vector<Identifier> identifiers = identifiersOf(message);

  // 1. PID-3 under the authority NHS, typed NH or untyped (newer PAS releases).
  std::string typed;
  for (const Identifier& identifier : identifiers) {
    if (identifier.id.empty() || identifier.authority != "NHS") continue;
    if (!identifier.type.empty() && identifier.type != "NH") continue;
    if (typed.empty()) {
      typed = std::string(identifier.id);
    } else if (compact(typed) != compact(identifier.id)) {
      return disagree("PID-3 repetitions");
    }
  }
  // 2. PID-2, the external patient id, which this PAS fills with the NHS number: unlabelled, or
  //    under the authority NHS; never a number another authority labels (hazard H1).
  const std::string_view externalAuthority = trim(message.get("PID-2.4"));
  const std::string external(externalAuthority.empty() || externalAuthority == "NHS" ? trim(message.get("PID-2.1"))
                                                                                    : std::string_view());
  if (!typed.empty() && !external.empty() && compact(typed) != compact(external)) {
    return disagree("PID-2 and PID-3");
  }
  if (!typed.empty()) return typed;
  if (!external.empty()) return external;

  // 3. An untyped repetition with neither authority nor type, taken by its shape, and only when
  //    the PAS labelled its own number in the same field (so a bare ten-digit value cannot be a
  //    local number of a release that labels nothing).
  if (!config_.untypedPid3) return {};
  bool labelled = false;
  for (const Identifier& identifier : identifiers) {
    if (config_.localAuthorities.count(identifier.authority) != 0) labelled = true;
  }
  if (!labelled) return {};
  std::string shaped;
  for (const Identifier& identifier : identifiers) {
    if (!identifier.authority.empty() || !identifier.universalId.empty() || !identifier.type.empty())
      continue;
    const std::string digits = compact(identifier.id);
    if (!nhsNumberShape(digits)) continue;
    if (shaped.empty()) {
      shaped = digits;
    } else if (shaped != digits) {
      return disagree("untyped PID-3 repetitions");
    }
  }
  return shaped;
}

std::optional<bool> LegacyV23Adapter::outOfHours(std::string_view arrivedAt) const {
  using namespace std::chrono;
  const auto instant = parseInstant(arrivedAt);
  if (!instant) return std::nullopt;
  const LocalTime local = toLondon(*instant);
  const local_days day = floor<days>(local);
  if (config_.bankHolidays.count(sys_days{day.time_since_epoch()}) != 0) return true;
  const weekday weekDay{day};
  if (weekDay == Saturday || weekDay == Sunday) return true;
  const minutes timeOfDay = floor<minutes>(local - day);
  return timeOfDay < config_.coreStart || timeOfDay >= config_.coreEnd;
}

void LegacyV23Adapter::composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const {
  writeObxAlerts(outcome, config_.obx, out);
}

}  // namespace cpis::adapters::legacy_v23

#ifndef LEGACY_V23_ADAPTER_VERSION
#define LEGACY_V23_ADAPTER_VERSION "1.0.0"
#endif

namespace legacy = cpis::adapters::legacy_v23;
CPIS_EXPORT_ADAPTER(
    legacy::LegacyV23Adapter, "legacy_v23", LEGACY_V23_ADAPTER_VERSION,
    cpis::sdk::stringKey(legacy::kLocalAuthorities, "RZZ02",
                         "PID-3 assigning authorities of the PAS's own numbers (space-separated)"),
    cpis::sdk::boolKey(
        legacy::kUntypedPid3, "true",
        "take an untyped PID-3 repetition of NHS number shape, next to a labelled local number"),
    cpis::sdk::stringKey(
        legacy::kOutOfHoursTypes, "UCC",
        "ZPV-2 attendance types run as GP out of hours outside core hours (space-separated)"),
    cpis::sdk::stringKey(legacy::kCoreHours, "08:00-18:30", "core hours, Monday to Friday, London time"),
    cpis::sdk::stringKey(legacy::kBankHolidays, "", "days out of hours all day, YYYYMMDD (space-separated)"),
    cpis::sdk::stringKey(legacy::kCpisCodingSystem, "99CPIS",
                         "coding system of CP-IS codes in OBX-3 and OBX-5"),
    cpis::sdk::stringKey(legacy::kSnomedCodingSystem, "SCT", "coding system of SNOMED CT plan codes"),
    cpis::sdk::stringKey(legacy::kOdsCodingSystem, "99ODS", "coding system of ODS organisation codes"),
    cpis::sdk::stringKey(legacy::kJobRoleCodingSystem, "99SJR", "coding system of SDS job role codes"),
    cpis::sdk::intKey(legacy::kMaxAccessRows, "25", "prior accesses written as OBX rows (0-25)"),
    cpis::sdk::boolKey(legacy::kTimeOffsets, "false", "append UTC offsets to times (the PAS ignores them)"))
