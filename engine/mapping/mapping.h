#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/config_error.h"
#include "engine/core/issue.h"
#include "engine/core/result.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/message.h"
#include "engine/mapping/mapping_rules.h"

namespace cpis::mapping {

// One feed's mapping from HL7 v2 ADT messages to attendances: the rules of a mapping file
// (MappingLoader reads them), applied to a parsed message.
//
// apply() gives an Attendance, or the data problems that make the message an AE:
//   - a field the mapping marks required has no value: Issue 101, located at the field's first
//     path and naming the mapping field ("visitNumber is required: nothing at PV1-19");
//   - a date or time that does not read in the field's format: Issue 102, located where the
//     value was found.
// Neither is reported for an event the mapping calls NOT_AN_ATTENDANCE: such a message is
// accepted without a check whatever it holds. An NHS number is never a message error: a value
// that is not a valid NHS number leaves Attendance::nhsNumber empty and says why in
// nhsNumberProblem (without the value), and the check is then NOT_CHECKED (CPIS.md §5).
// Issue texts name fields and paths, never values.
//
// Immutable once built; apply() may run on many threads at once.
class Mapping {
 public:
  explicit Mapping(MappingRules rules);

  const std::string& name() const noexcept { return rules_.name; }
  const MappingRules& rules() const noexcept { return rules_; }

  // What the location table's matched row (or its `otherwise`) says itself, before its care
  // setting's <settings> entry fills the rest.
  struct RowTerms {
    std::optional<domain::AccessMode> mode;
    domain::LocationTerms terms;
  };

  // `row`, when given, receives the matched row's own terms: an adapter plugin that moves the
  // attendance to another care setting then has them settled again for that setting (settle()).
  // `refused`, when given, receives what was read of a message refused with issues: its NHS
  // number still goes back in the AE's ZCP-13, so the EPR can confirm the patient.
  core::Result<domain::Attendance, std::vector<core::Issue>> apply(
      const hl7v2::Message& message, std::string_view feedId, RowTerms* row = nullptr,
      domain::Attendance* refused = nullptr) const;

  // CPIS.md §8's precedence for `a`'s care setting as it is now: the row's mode and terms, then
  // what that setting's <settings> entry adds (the feed's rules and the defaults come later, in
  // the decision). Sets a.accessMode and a.locationTerms.
  void settle(domain::Attendance& a, const RowTerms& row) const;

  // The location table again for a.locationKey as an adapter plugin wrote it (its parts split
  // at the table's separator; the rows' conditions read in `message`): sets a.setting and
  // a.settingByDefault as apply() does; the matched row's own terms, for settle().
  RowTerms relocate(const hl7v2::Message& message, domain::Attendance& a) const;

 private:
  MappingRules rules_;
};

// CPIS.md §8, hazard H5: a LIVE engine queries with the access modes its configuration states;
// the built-in defaults only pre-fill a new configuration (sources differ on CAMHS, SARCs,
// hospital dentistry, community paediatrics). The rows of the location table, and its
// `otherwise` rule, that map into scope with neither a `mode` of their own nor a `<settings>`
// entry for their care setting: one problem each, at its line of `file`.
std::vector<config::ConfigProblem> implicitAccessModes(const MappingRules& rules, const std::string& file);

}  // namespace cpis::mapping
