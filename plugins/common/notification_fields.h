#pragma once

// The fields of a notification as the sinks in plugins/sink_<name>/ see them. Std only, so the
// sinks' tests can use it too.

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpis::sinks {

// Every key a notification may carry, in the order sinks present them (the engine's
// engine/notify/notification.h and docs/notifications.md; a test keeps the three in step). A
// sink asks for each one: the engine answers only those the sink's data level allows and the
// notification has.
inline constexpr std::array<std::string_view, 19> kFieldKeys{
    // always (data level minimal)
    "kind", "idempotency_key", "feed", "occurred_at", "check_id", "status", "reason", "care_setting",
    "site_ods", "plan_count", "plan_types", "la_ods", "la_name", "visit_number",
    // data level identifiers
    "nhs_number",
    // data level full
    "family_name", "given_name", "birth_date", "plans"};

using Fields = std::vector<std::pair<std::string, std::string>>;

inline std::string_view fieldValue(const Fields& fields, std::string_view key) {
  for (const auto& [name, value] : fields) {
    if (name == key) return value;
  }
  return {};
}

}  // namespace cpis::sinks
