#pragma once

// look up: one CP-IS check for an attendance the decision found due (ARCHITECTURE.md stage 6),
// and its outcome. A lookup that failed is CHECK_FAILED with its reason, never NOT_FOUND.

#include <functional>
#include <string>

#include "engine/cpis/lookup.h"
#include "engine/domain/attendance.h"

namespace cpis::pipeline {

struct CheckRequest {
  domain::Attendance attendance;  // with a valid NHS number (the decision saw to it)
  domain::AccessMode mode = domain::AccessMode::Unscheduled;
  std::string checkId;            // UUID: the query's event id and ZCP-15
  // When the intake decided the check was due: a check of the same visit recorded since (its
  // message was in flight then) may answer this one (Intake::runCheck).
  domain::Instant decidedAt{};
  // When its ACK is due (original mode): the lookup gives up by then (LookupRequest::answerBy).
  std::optional<std::chrono::steady_clock::time_point> answerBy;
  // A deferred check whose failed check's query may have reached Spine
  // (LookupRequest::earlierMayHaveArrived): its query is a possible duplicate in the audit.
  bool earlierMayHaveArrived = false;
  // A deferred check (LookupRequest::background).
  bool background = false;
};

class Checker {
 public:
  using Clock = std::function<domain::Instant()>;
  // `author`: who the feed's queries are made for (CPIS.md §6). `source`: ZCP-18.
  Checker(cpis::CpisLookup& lookup, cpis::Author author, domain::Source source, Clock clock)
      : lookup_(lookup), author_(std::move(author)), source_(source), clock_(std::move(clock)) {}

  // Blocks for the lookup (its time-out bounds it). Never throws.
  domain::CheckOutcome check(const CheckRequest& request) const;

  domain::Source source() const noexcept { return source_; }

 private:
  cpis::CpisLookup& lookup_;
  cpis::Author author_;
  domain::Source source_;
  Clock clock_;
};

// A new check id: a random (version 4) UUID, upper case.
std::string newCheckId();

}  // namespace cpis::pipeline
