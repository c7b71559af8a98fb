#pragma once

// The text forms in which plugins read and write an attendance (cpis_attendance_field) and read
// a check outcome (cpis_outcome_field): one place that defines them, used by the host services.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <cpis/plugin.h>

#include "engine/domain/attendance.h"

namespace cpis::plugin {

// attendance_field_id(): "nhs_number" -> CPIS_FIELD_NHS_NUMBER; CPIS_FIELD_UNKNOWN otherwise.
cpis_attendance_field attendanceFieldId(std::string_view name);
std::string_view attendanceFieldName(cpis_attendance_field field);  // "" when unknown

// The field as text ("" when empty); nullopt for an unknown field.
std::optional<std::string> readAttendanceField(const domain::Attendance& attendance,
                                               cpis_attendance_field field);
// OK; READ_ONLY (feed_id, control_id, nhs_number_problem); BAD_ARGUMENT for an unknown field or
// a value the field cannot take (the field is then left as it was, except nhs_number: an
// invalid number clears it and records why in nhsNumberProblem, as the mapping stage does).
cpis_host_result writeAttendanceField(domain::Attendance& attendance, cpis_attendance_field field,
                                      std::string_view text);

std::uint32_t outcomeCount(const domain::CheckOutcome& outcome, cpis_outcome_list list, std::uint32_t record);
// OK with `text` set; ABSENT for a missing optional value; BAD_ARGUMENT for an unknown field or
// an index out of range.
cpis_host_result readOutcomeField(const domain::CheckOutcome& outcome, cpis_outcome_field field,
                                  std::uint32_t index, std::uint32_t subIndex, std::string& text);

// HL7 DT (YYYYMMDD) and DTM (YYYYMMDD[HH[MM[SS[.S[S[S[S]]]]]]][+/-ZZZZ]; London time when there
// is no offset). nullopt when the text is not one.
std::optional<domain::Date> parseHl7Date(std::string_view text);
std::optional<domain::Instant> parseHl7Instant(std::string_view text);
// YYYYMMDDHHMMSS.SSS+0000
std::string formatInstant(domain::Instant at);

}  // namespace cpis::plugin
