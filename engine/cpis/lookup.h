#pragma once

// The CP-IS lookup seen from the pipeline: one question (an NHS number, an access mode, who is
// asking) and one of three answers. A failure is never turned into "not found" (CPIS.md H3).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "engine/domain/cpis_record.h"
#include "engine/domain/nhs_number.h"

namespace cpis::cpis {

// Who the query is made for: the author of QUPC_IN000006GB01. For unattended ADT-driven
// checks a system (COCT_TP145104GB01: our ASID, the organisation, and the nominated person
// responsible for CP-IS queries); for a clinician's own check a person (COCT_TP145102GB01).
struct Author {
  enum class Kind { System, Person };
  Kind kind = Kind::System;
  std::string asid;              // System: the ASID of the querying system
  std::string sdsUserId;         // Person: SDS user id (Smartcard)
  std::string sdsRoleProfileId;  // Person, optional
  std::string jobRoleCode;       // SDS job role of the person (or the nominated person)
  std::string jobRoleName;
  std::string personName;        // the person, or the nominated responsible person
  std::string orgOdsCode;        // ODS code of the organisation (site)
  std::string orgName;           // NHS 111: may carry the patient's physical location
};

struct LookupRequest {
  domain::NhsNumber nhsNumber;
  domain::AccessMode mode = domain::AccessMode::Unscheduled;  // Scheduled = silent read
  Author author;
  std::string checkId;  // UUID of the check: the query's event id; stays the same over retries
  // For the audit trail only (never sent): which feed and location the check is made for.
  std::string feedId;
  std::string locationKey;
  // When the answer is due (the ACK's deadline, CPIS.md §8); nullopt: the lookup's own time-outs
  // alone bound it. An attempt ends by then; a retry is made only when a whole attempt still
  // fits before it; a query not sent by then is not sent. Failing for it is TIMEOUT (retryable:
  // the deferred check tries again).
  std::optional<std::chrono::steady_clock::time_point> answerBy;
  // An earlier query for the same attendance (the failed check a deferred check retries) went
  // out whole and got no answer: Spine may have recorded its access and told the LA. This
  // lookup's query is then a possible duplicate in the audit (CPIS.md §7).
  bool earlierMayHaveArrived = false;
  // A deferred check, made in the background (nobody waits for it): it never probes an open
  // circuit breaker and its failure does not count towards opening one (CircuitBreaker::
  // admitBackground); while the breaker is open it fails at once and is tried again later.
  bool background = false;
};

// Why a lookup failed, and whether trying again may help (time-outs and transport errors yes;
// a response that does not validate or a query Spine rejected, no).
struct LookupFailure {
  domain::ReasonCode reason = domain::ReasonCode::InternalError;  // one of the failure reasons
  std::string detail;  // for logs and ZCP-3 text: never patient data (codes, never Spine's words)
  bool retryable = false;
  // What Spine said in words (a fault string, an error description, a code's display name):
  // it may name the patient, so it goes to the audit trail only, never to logs or the ACK.
  std::string peerText;
};

struct LookupResult {
  domain::CheckStatus status = domain::CheckStatus::CheckFailed;  // Found, NotFound or CheckFailed
  std::vector<domain::CpisRecord> records;    // non-empty if and only if Found
  std::vector<domain::PriorAccess> accesses;  // Found only: newest first, at most 25
  std::optional<LookupFailure> failure;       // present if and only if CheckFailed
  domain::Source source = domain::Source::Spine;
  std::string transportMessageId;             // the id of the last request sent (audit link)
  std::chrono::microseconds latency{0};       // time spent in the lookup, retries included
  bool possibleDuplicate = false;  // a retry followed a time-out after the request was sent
  // A failed lookup: a request went out whole and no answer came (Spine may have acted on it).
  bool requestMayHaveArrived = false;
  // When the answer was had, if earlier than this lookup: a silent read answered from the cache.
  std::optional<domain::Instant> answeredAt;

  static LookupResult failed(domain::ReasonCode reason, std::string detail, bool retryable) {
    LookupResult r;
    r.failure = LookupFailure{reason, std::move(detail), retryable, {}};
    return r;
  }
};

// Thread-safe: the pipeline calls lookup() from many threads at once. Never throws; every
// problem is a CheckFailed result with a reason.
class CpisLookup {
 public:
  virtual ~CpisLookup() = default;
  virtual LookupResult lookup(const LookupRequest& request) = 0;
};

}  // namespace cpis::cpis
