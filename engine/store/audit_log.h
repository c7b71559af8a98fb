#pragma once

// The audit trail of CP-IS queries: the one place that records which NHS number was checked,
// when, for which feed and location, and what came of it. Ordinary logs never hold any of
// this (CPIS.md H8); the audit table is patient data under the store's access control.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/status.h"
#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::store {

// One CP-IS query as it ended (retries included: one entry per lookup, not per HTTP attempt).
struct QueryAuditEntry {
  domain::Instant at{};          // when the lookup started (UTC)
  std::string feed;              // the feed whose message asked; empty for a tool (cpis-query)
  std::string location;          // the location key the check was made for
  domain::NhsNumber nhsNumber;   // the number queried
  domain::AccessMode accessMode = domain::AccessMode::Unscheduled;
  domain::CheckStatus outcome = domain::CheckStatus::CheckFailed;  // Found, NotFound, CheckFailed
  std::optional<domain::ReasonCode> reason;  // CheckFailed only
  std::string detail;                        // the failure's detail (codes, never patient data)
  std::chrono::microseconds latency{0};      // retries included
  std::string checkId;                       // the check's UUID (the query's event id)
  std::string messageId;                     // the last transport message id sent ("" if none)
  bool possibleDuplicate = false;  // a retry followed a time-out after the request had gone out
  bool fromCache = false;          // answered from the short-lived cache, no query sent
  domain::Source source = domain::Source::Spine;
  std::uint32_t recordCount = 0;  // CP-IS records returned (Found only)
};

// A row of the audit table as read back (for tests, support and the retention tools).
struct AuditRow {
  std::int64_t id = 0;
  std::int64_t atMicros = 0;  // microseconds since 1970-01-01 UTC
  std::string feed, location, nhsNumber, accessMode, outcome, reason, detail;
  std::int64_t latencyMicros = 0;
  std::string checkId, messageId;
  bool possibleDuplicate = false;
  bool fromCache = false;
  std::string source;
  std::int64_t recordCount = 0;
};

// Where audit entries go. Threading: record() is called from many lookup threads at once.
// Errors: record() never throws and never fails the lookup; an entry that cannot be written
// is reported through the implementation's own status (and its log, without patient data).
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  virtual void record(const QueryAuditEntry& entry) = 0;
  // Waits until every entry recorded before this call is committed (or has failed). The
  // status of the last failed transaction since the previous flush, or ok.
  virtual core::Status flush() = 0;
};

}  // namespace cpis::store
