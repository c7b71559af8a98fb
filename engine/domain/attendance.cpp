#include "engine/domain/attendance.h"

#include <array>
#include <utility>

namespace cpis::domain {
namespace {

// CPIS.md §8: the code, and the default access mode that pre-fills a new configuration.
struct SettingRow {
  CareSetting setting;
  std::string_view code;
  AccessMode mode;
};
constexpr std::array kSettings{
    SettingRow{CareSetting::Ed, "ED", AccessMode::Unscheduled},
    SettingRow{CareSetting::UtcWic, "UTC_WIC", AccessMode::Unscheduled},
    SettingRow{CareSetting::Miu, "MIU", AccessMode::Unscheduled},
    SettingRow{CareSetting::GpOoh, "GP_OOH", AccessMode::Unscheduled},
    SettingRow{CareSetting::Nhs111, "NHS111", AccessMode::Unscheduled},
    SettingRow{CareSetting::Ambulance, "AMBULANCE", AccessMode::Unscheduled},
    SettingRow{CareSetting::Maternity, "MATERNITY", AccessMode::Unscheduled},
    SettingRow{CareSetting::PaedWard, "PAED_WARD", AccessMode::Unscheduled},
    SettingRow{CareSetting::GpInHours, "GP_IN_HOURS", AccessMode::Scheduled},
    SettingRow{CareSetting::Camhs, "CAMHS", AccessMode::Scheduled},
    SettingRow{CareSetting::SexualHealthTop, "SEXUAL_HEALTH_TOP", AccessMode::Scheduled},
    SettingRow{CareSetting::Sarc, "SARC", AccessMode::Scheduled},
    SettingRow{CareSetting::Zero19, "ZERO_19", AccessMode::Scheduled},
    SettingRow{CareSetting::CommunityPaeds, "COMMUNITY_PAEDS", AccessMode::Scheduled},
    SettingRow{CareSetting::DentalAcute, "DENTAL_ACUTE", AccessMode::Scheduled},
    SettingRow{CareSetting::DentalCommunity, "DENTAL_COMMUNITY", AccessMode::Scheduled},
    // No query is made out of scope; the mode only answers "what if".
    SettingRow{CareSetting::OutOfScope, "OUT_OF_SCOPE", AccessMode::Scheduled},
};

constexpr std::array kStatuses{
    std::pair{NhsNumberStatus::Nsts01, std::string_view{"NSTS01"}},
    std::pair{NhsNumberStatus::Nsts02, std::string_view{"NSTS02"}},
    std::pair{NhsNumberStatus::Nsts03, std::string_view{"NSTS03"}},
    std::pair{NhsNumberStatus::Nsts04, std::string_view{"NSTS04"}},
    std::pair{NhsNumberStatus::Nsts05, std::string_view{"NSTS05"}},
    std::pair{NhsNumberStatus::Nsts06, std::string_view{"NSTS06"}},
    std::pair{NhsNumberStatus::Nsts07, std::string_view{"NSTS07"}},
    std::pair{NhsNumberStatus::Nsts08, std::string_view{"NSTS08"}},
};

constexpr std::array kEvents{
    std::pair{AttendanceEvent::Start, std::string_view{"START"}},
    std::pair{AttendanceEvent::Update, std::string_view{"UPDATE"}},
    std::pair{AttendanceEvent::End, std::string_view{"END"}},
    std::pair{AttendanceEvent::Cancel, std::string_view{"CANCEL"}},
    std::pair{AttendanceEvent::NotAnAttendance, std::string_view{"NOT_AN_ATTENDANCE"}},
    std::pair{AttendanceEvent::Reopen, std::string_view{"REOPEN"}},
    std::pair{AttendanceEvent::Merge, std::string_view{"MERGE"}},
};

constexpr std::array kSexes{
    std::pair{Sex::Female, std::string_view{"F"}},
    std::pair{Sex::Male, std::string_view{"M"}},
    std::pair{Sex::Other, std::string_view{"O"}},
    std::pair{Sex::Unknown, std::string_view{"U"}},
};

template <typename Table, typename Enum>
std::string_view codeIn(const Table& table, Enum value) {
  for (const auto& [e, code] : table) {
    if (e == value) return code;
  }
  return {};
}

template <typename Enum, typename Table>
std::optional<Enum> valueIn(const Table& table, std::string_view code) {
  for (const auto& [e, text] : table) {
    if (text == code) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view codeOf(CareSetting setting) {
  for (const auto& row : kSettings) {
    if (row.setting == setting) return row.code;
  }
  return {};
}

std::optional<CareSetting> parseCareSetting(std::string_view code) {
  for (const auto& row : kSettings) {
    if (row.code == code) return row.setting;
  }
  return std::nullopt;
}

AccessMode defaultAccessMode(CareSetting setting) {
  for (const auto& row : kSettings) {
    if (row.setting == setting) return row.mode;
  }
  return AccessMode::Scheduled;
}

std::string_view codeOf(NhsNumberStatus status) {
  return codeIn(kStatuses, status);
}
std::optional<NhsNumberStatus> parseNhsNumberStatus(std::string_view code) {
  return valueIn<NhsNumberStatus>(kStatuses, code);
}
bool isIdentityReliabilityCode(std::string_view code) {
  return code == "AL" || code == "UA" || code == "UD" || code == "US";
}

std::string_view codeOf(AttendanceEvent event) {
  return codeIn(kEvents, event);
}
std::optional<AttendanceEvent> parseAttendanceEvent(std::string_view code) {
  return valueIn<AttendanceEvent>(kEvents, code);
}

std::string_view codeOf(Sex sex) {
  return codeIn(kSexes, sex);
}
std::optional<Sex> parseSex(std::string_view code) {
  if (code == "A") return Sex::Other;
  if (code == "N") return Sex::Unknown;
  return valueIn<Sex>(kSexes, code);
}

int ageInYears(Date birthDate, Date on) {
  int age = static_cast<int>(on.year()) - static_cast<int>(birthDate.year());
  const auto monthDay = [](Date d) {
    return static_cast<unsigned>(d.month()) * 100 + static_cast<unsigned>(d.day());
  };
  // Compared as month and day, 29 February is passed on 1 March in a common year.
  if (monthDay(on) < monthDay(birthDate)) --age;
  return age;
}

}  // namespace cpis::domain
