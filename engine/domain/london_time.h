#pragma once

// Europe/London civil time, computed from the rules rather than a time-zone database (libstdc++
// 12 has no std::chrono::zoned_time, and the domain module stays std only): GMT, and BST
// (UTC+1) from 01:00 UTC on the last Sunday of March until 01:00 UTC on the last Sunday of
// October. Those are the rules since 1996; earlier instants are given them too (the engine only
// converts times of attendances and checks, never birth dates, which are calendar dates).

#include <chrono>
#include <string>

#include "engine/domain/cpis_record.h"

namespace cpis::domain {

using LocalTime = std::chrono::local_time<std::chrono::milliseconds>;

// +60 min during BST, 0 otherwise.
std::chrono::minutes londonUtcOffset(Instant at);
LocalTime toLondonLocal(Instant at);
// The calendar date in London at that instant: what "today" and "age at arrival" mean.
Date londonDate(Instant at);
// A London wall-clock reading as UTC. In October's repeated hour the first (BST) reading is
// taken; a reading in March's skipped hour (01:00 to 02:00) does not exist and is read as GMT,
// so it lands an hour later on the clock than it says.
Instant fromLondonLocal(LocalTime local);

// HL7 TS in London time with its offset, to the second: "20250612143006+0100".
std::string hl7LondonTimestamp(Instant at);
// HL7 DT: "20250301".
std::string hl7Date(Date date);
// For people: "01/03/2025".
std::string displayDate(Date date);

}  // namespace cpis::domain
