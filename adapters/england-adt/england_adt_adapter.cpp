#include "adapters/england-adt/england_adt_adapter.h"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace cpis::adapters::england_adt {
namespace {

// The OID of the NHS number (HL7 UK): the universal id of the authority in the HD form
// NHS&2.16.840.1.113883.2.1.4.1&ISO.
constexpr std::string_view kNhsNumberOid = "2.16.840.1.113883.2.1.4.1";

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string_view at(const std::vector<std::string_view>& values, std::size_t i) {
  return i < values.size() ? values[i] : std::string_view();
}

// One PID-3 repetition: CX-1 id, CX-4 assigning authority (HD: namespace & universal id & its
// type), CX-5 identifier type.
struct Identifier {
  std::string_view id, authority, universalId, universalIdType, type;
};

std::vector<Identifier> identifiersOf(const sdk::MessageView& message) {
  const auto ids = message.getAll("PID-3(*).1");
  const auto authorities = message.getAll("PID-3(*).4.1");
  const auto universalIds = message.getAll("PID-3(*).4.2");
  const auto universalIdTypes = message.getAll("PID-3(*).4.3");
  const auto types = message.getAll("PID-3(*).5");
  std::vector<Identifier> out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    out.push_back({trim(ids[i]), trim(at(authorities, i)), trim(at(universalIds, i)),
                   trim(at(universalIdTypes, i)), trim(at(types, i))});
  }
  return out;
}

// The authority is the NHS: namespace NHS, or the NHS number OID (as an ISO OID), or both; a
// namespace NHS with any other universal id is some other register (hazard H1).
bool nhsAuthority(const Identifier& identifier) {
  if (!identifier.universalId.empty()) {
    if (identifier.universalId != kNhsNumberOid) return false;
    if (!identifier.universalIdType.empty() && identifier.universalIdType != "ISO") return false;
    return identifier.authority.empty() || identifier.authority == "NHS";
  }
  return identifier.authority == "NHS";
}

// "NSTS01".."NSTS08", or the two digits alone; anything else (v2.5.1 identity reliability codes
// such as AL) is not a trace status.
std::string traceStatus(std::string_view value) {
  value = trim(value);
  if (value.size() == 6 && value.substr(0, 4) == "NSTS") value.remove_prefix(4);
  if (value.size() == 2 && value[0] == '0' && value[1] >= '1' && value[1] <= '8') {
    return "NSTS" + std::string(value);
  }
  return {};
}

}  // namespace

EnglandAdtAdapter::EnglandAdtAdapter(const sdk::Config& config) : config_(EnglandAdtConfig::read(config)) {
  config.log().info(std::string("england_adt adapter ready: A08 ") +
                    (config_.a08Updates ? "updates" : "ignored") + ", A02 " +
                    (config_.a02Updates ? "updates" : "ignored") + ", NHS number type NH " +
                    (config_.requireNhType ? "required" : "or none"));
}

sdk::AdaptResult EnglandAdtAdapter::adapt(const sdk::MessageView& message,
                                          sdk::AttendanceBuilder& out) const {
  // The mapping file has already decided what the trigger event means; the switches only take
  // events out.
  const std::string_view trigger = out.get(sdk::Field::TriggerEvent);
  if (trigger == "A08" && !config_.a08Updates) {
    return sdk::AdaptResult::notAnAttendance("A08 updates are not used on this feed (a08_updates)");
  }
  if (trigger == "A02" && !config_.a02Updates) {
    return sdk::AdaptResult::notAnAttendance("A02 transfers are not used on this feed (a02_updates)");
  }
  if (out.get(sdk::Field::Event) == "NOT_AN_ATTENDANCE") {
    return sdk::AdaptResult::notAnAttendance("the mapping file maps this trigger event to no attendance");
  }

  const std::string controlId(out.get(sdk::Field::ControlId));
  const std::string nhsNumber = nhsNumberOf(message, controlId);
  if (nhsNumber.empty()) {
    // Cleared only when the mapping found one: a mapping that found none keeps its reason (two
    // numbers that disagree: NHS_NUMBER_INVALID with where, not "no NHS number").
    if (!out.get(sdk::Field::NhsNumber).empty()) {
      log().info("message " + controlId +
                 ": the mapping's NHS number is not one by the adapter's rule; none is used");
      out.set(sdk::Field::NhsNumber, "");
    }
  } else {
    // An invalid number is no error: the engine records why and the check says NHS_NUMBER_INVALID.
    out.nhsNumber(nhsNumber);
  }

  if (const std::string status = traceStatusOf(message); !status.empty()) out.nhsStatus(status);
  return sdk::AdaptResult::attendance();
}

namespace {
// An NHS number as its digits alone: EPRs write it with spaces or dashes as well (3-3-4).
std::string digitsOf(std::string_view text) {
  std::string digits;
  for (const char c : text) {
    if (c != ' ' && c != '-') digits.push_back(c);
  }
  return digits;
}
}  // namespace

std::string EnglandAdtAdapter::nhsNumberOf(const sdk::MessageView& message,
                                           std::string_view controlId) const {
  std::string found;
  for (const Identifier& identifier : identifiersOf(message)) {
    if (identifier.id.empty() || !nhsAuthority(identifier)) continue;
    const bool typeAccepted = identifier.type == "NH" || (identifier.type.empty() && !config_.requireNhType);
    if (!typeAccepted) continue;
    if (found.empty()) {
      found = std::string(identifier.id);
    } else if (digitsOf(found) != digitsOf(identifier.id)) {  // "999 000 0018" is 9990000018
      // Two NHS numbers for one patient: the record needs a person, not a guess (hazard H1).
      log().warning("message " + std::string(controlId) +
                    ": PID-3 holds two different NHS numbers; neither is used");
      return {};
    }
  }
  return found;
}

std::string EnglandAdtAdapter::traceStatusOf(const sdk::MessageView& message) {
  for (const std::string_view value : message.getAll("PID-32(*)")) {
    if (std::string status = traceStatus(value); !status.empty()) return status;
  }
  return {};
}

void EnglandAdtAdapter::composeAlerts(const sdk::CheckOutcome& outcome, sdk::AlertWriter& out) const {
  (void)outcome;
  // The feed's encoding: ZCP/ZCA by default (ITK receivers keep Z-segments, and ZCP carries the
  // whole outcome one segment per plan), OBX rows when the feed says so (its EPR refuses
  // Z-segments: sending them anyway would have the ACK refused). Without a standard encoder
  // this fails, and the engine then writes its own alerts in the feed's encoding.
  if (!out.standardAlerts(sdk::AlertEncoding::FeedDefault)) {
    throw std::runtime_error("the engine offers no standard alert encoder here");
  }
}

}  // namespace cpis::adapters::england_adt

#ifndef ENGLAND_ADT_ADAPTER_VERSION
#define ENGLAND_ADT_ADAPTER_VERSION "1.0.0"
#endif

CPIS_EXPORT_ADAPTER(
    cpis::adapters::england_adt::EnglandAdtAdapter, "england_adt", ENGLAND_ADT_ADAPTER_VERSION,
    cpis::sdk::boolKey(cpis::adapters::england_adt::kA08Updates, "true",
                       "A08 updates the attendance; false: A08 is not an attendance on this feed"),
    cpis::sdk::boolKey(cpis::adapters::england_adt::kA02Updates, "true",
                       "A02 transfers update the attendance; false: A02 is not an attendance on this feed"),
    cpis::sdk::boolKey(
        cpis::adapters::england_adt::kRequireNhType, "false",
        "only a PID-3 repetition typed NH is the NHS number; false: ^^^NHS without a type too"))
