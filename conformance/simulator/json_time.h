#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/domain/cpis_record.h"

namespace cpis::sim {

// The simulator's JSON spells dates YYYY-MM-DD and instants YYYY-MM-DDThh:mm:ss[.mmm]Z (UTC).
std::optional<domain::Date> parseDate(std::string_view text);
std::optional<domain::Instant> parseInstant(std::string_view text);
std::string formatDate(domain::Date date);
std::string formatInstant(domain::Instant instant);

}  // namespace cpis::sim
