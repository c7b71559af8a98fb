#pragma once

// Dates and times for the legacy PAS, which knows only London wall-clock time: the engine hands
// adapters instants in UTC (YYYYMMDDHHMMSS.SSS+0000), the PAS shows whatever digits it is sent.
//
// Europe/London from the rules (libstdc++ 12 has no time-zone database): GMT, and BST (UTC+1)
// from 01:00 UTC on the last Sunday of March until 01:00 UTC on the last Sunday of October.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cpis::adapters::legacy_v23 {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;
using LocalTime = std::chrono::local_time<std::chrono::milliseconds>;
using Date = std::chrono::year_month_day;

// An HL7 DTM as the engine writes it: YYYYMMDD[HH[MM[SS[.S...]]]] with an offset (+0000). A
// value without an offset is read as UTC. nullopt when it does not read.
std::optional<Instant> parseInstant(std::string_view text);
// YYYYMMDD; nullopt when it is not a calendar date.
std::optional<Date> parseDate(std::string_view text);

std::chrono::minutes londonOffset(Instant at);  // +60 during BST, else 0
LocalTime toLondon(Instant at);
Date londonDate(Instant at);

// YYYYMMDDHHMMSS in London time, with "+0100"/"+0000" appended when `withOffset`.
std::string londonTimestamp(Instant at, bool withOffset);
// For people: DD/MM/YYYY.
std::string displayDate(Date date);

}  // namespace cpis::adapters::legacy_v23
