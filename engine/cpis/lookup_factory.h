#pragma once

#include <memory>

#include "engine/config/config.h"
#include "engine/cpis/lookup.h"
#include "engine/cpis/spine_lookup.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/store/audit_log.h"

namespace cpis::cpis {

// The SpineLookup settings a <cpis> configuration describes (endpoint, identity, TLS,
// time-out, retries, breaker, concurrency, cache, no-records code, ReplyTo).
SpineLookupSettings lookupSettings(const config::CpisConfig& config);

// The CP-IS client the configuration describes: a SpineLookup to Spine or to the simulator
// (the same protocol; results say which source answered), and for asynchronous replies the
// engine's reply endpoint, started here and stopped when the lookup is destroyed.
// `schemas` and `audit` (may be null) must outlive the lookup. Throws (Poco::Exception,
// std::exception) when the TLS files cannot be used or the reply listener cannot bind: a
// start-up failure.
std::unique_ptr<CpisLookup> makeLookup(const config::CpisConfig& config, const SpineSchemas& schemas,
                                       store::AuditLog* audit);

}  // namespace cpis::cpis
