#include "engine/pipeline/check.h"

#include <cctype>

#include <Poco/UUIDGenerator.h>

namespace cpis::pipeline {

std::string newCheckId() {
  // Upper case: the form Spine uses for HL7 v3 ids, and the query's event id is this id.
  std::string id = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
  for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

domain::CheckOutcome Checker::check(const CheckRequest& request) const {
  domain::CheckOutcome outcome;
  outcome.queried = request.attendance.nhsNumber;
  outcome.mode = request.mode;
  outcome.checkId = request.checkId;
  outcome.source = source_;
  if (!request.attendance.nhsNumber) {  // the decision never lets this through
    outcome.status = domain::CheckStatus::CheckFailed;
    outcome.reason = domain::ReasonCode::InternalError;
    outcome.reasonText = "no NHS number to query";
    outcome.decidedAt = clock_();
    return outcome;
  }
  cpis::LookupRequest query{*request.attendance.nhsNumber, request.mode, author_, request.checkId,
                            request.attendance.feedId, request.attendance.locationKey};
  cpis::LookupResult result;
  try {
    result = lookup_.lookup(query);
  } catch (...) {  // the contract says never; a bug must still not read as "no information"
    result = cpis::LookupResult::failed(domain::ReasonCode::InternalError, "the CP-IS client failed", false);
  }
  outcome.decidedAt = clock_();
  outcome.source = result.source;
  outcome.status = result.status;
  switch (result.status) {
    case domain::CheckStatus::Found:
      if (result.records.empty()) {  // FOUND without a record is not a result we can show
        outcome.status = domain::CheckStatus::CheckFailed;
        outcome.reason = domain::ReasonCode::UnrecognisedResponse;
        outcome.reasonText = "CP-IS said found but sent no record";
        break;
      }
      outcome.records = std::move(result.records);
      outcome.accesses = std::move(result.accesses);
      if (outcome.accesses.size() > 25) outcome.accesses.resize(25);
      break;
    case domain::CheckStatus::NotFound: break;
    case domain::CheckStatus::CheckFailed:
    case domain::CheckStatus::NotChecked:  // not a lookup's answer: treat as a failure
      outcome.status = domain::CheckStatus::CheckFailed;
      outcome.reason = result.failure ? result.failure->reason : domain::ReasonCode::InternalError;
      outcome.reasonText = result.failure ? result.failure->detail : "the CP-IS client gave no reason";
      break;
  }
  return outcome;
}

}  // namespace cpis::pipeline
