#pragma once

// The legacy_v23 adapter's configuration keys (the feed's <adapter> settings) and their values.

#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include <cpis/plugin.hpp>

#include "adapters/legacy-v23/legacy_v23_time.h"

namespace cpis::adapters::legacy_v23 {

// Key names, shared by the key table (legacy_v23_adapter.cpp) and read().
inline constexpr const char* kLocalAuthorities = "local_authorities";
inline constexpr const char* kUntypedPid3 = "untyped_pid3";
inline constexpr const char* kOutOfHoursTypes = "out_of_hours_types";
inline constexpr const char* kCoreHours = "core_hours";
inline constexpr const char* kBankHolidays = "bank_holidays";
inline constexpr const char* kCpisCodingSystem = "cpis_coding_system";
inline constexpr const char* kSnomedCodingSystem = "snomed_coding_system";
inline constexpr const char* kOdsCodingSystem = "ods_coding_system";
inline constexpr const char* kJobRoleCodingSystem = "job_role_coding_system";
inline constexpr const char* kMaxAccessRows = "max_access_rows";
inline constexpr const char* kTimeOffsets = "time_offsets";

// Coding-system names written in the OBX rows' CE components (CPIS.md section 5 allows an
// adapter to rename them).
struct CodingSystems {
  std::string cpis = "99CPIS";
  std::string snomed = "SCT";
  std::string ods = "99ODS";
  std::string jobRole = "99SJR";
};

// How the OBX alert rows are written for this PAS.
struct ObxOptions {
  CodingSystems systems;
  std::uint32_t maxAccessRows = 25;  // prior accesses written as rows; TRAR still counts them all
  bool timeOffsets = false;          // the PAS ignores offsets: London wall-clock times by default
};

// Immutable once read.
struct LegacyV23Config {
  // PID-3 assigning authorities of the PAS's own numbers. An untyped PID-3 repetition is only
  // recognised as the NHS number next to a repetition labelled with one of these.
  std::set<std::string, std::less<>> localAuthorities{"RZZ02"};
  // Recognise the NHS number in an untyped PID-3 repetition (no authority, no type) by its
  // shape: ten digits that pass modulus 11.
  bool untypedPid3 = true;
  // ZPV-2 attendance types that are run as the GP out-of-hours service outside core hours.
  std::set<std::string, std::less<>> outOfHoursTypes{"UCC"};
  // Core hours, Monday to Friday, London time: [start, end).
  std::chrono::minutes coreStart{8 * 60};
  std::chrono::minutes coreEnd{18 * 60 + 30};
  // Days that are out of hours all day (bank holidays), as London calendar dates.
  std::set<std::chrono::sys_days> bankHolidays;
  ObxOptions obx;

  // Reads and checks the values; throws std::invalid_argument naming the key for a value that
  // is not usable (the engine then refuses to start).
  static LegacyV23Config read(const sdk::Config& config);
};

}  // namespace cpis::adapters::legacy_v23
