#include "engine/pipeline/check.h"

#include <array>
#include <cctype>
#include <sys/random.h>
#include <sys/types.h>

#include <Poco/Logger.h>
#include <Poco/UUIDGenerator.h>

namespace cpis::pipeline {

std::string newCheckId() {
  // A random (version 4) UUID in upper case: the form Spine uses for HL7 v3 ids, and the
  // query's event id is this id. The bytes come from getrandom(2), one system call; POCO's
  // generator opens, reads and closes /dev/urandom for each one.
  std::array<unsigned char, 16> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    std::string id = Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
    for (char& c : id) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return id;
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  constexpr char kHex[] = "0123456789ABCDEF";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[bytes[i] >> 4]);
    id.push_back(kHex[bytes[i] & 0x0F]);
  }
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
  cpis::LookupRequest query{*request.attendance.nhsNumber,
                            request.mode,
                            author_,
                            request.checkId,
                            request.attendance.feedId,
                            request.attendance.locationKey,
                            request.answerBy,
                            request.earlierMayHaveArrived,
                            request.background};
  cpis::LookupResult result;
  try {
    result = lookup_.lookup(query);
  } catch (...) {  // the contract says never; a bug must still not read as "no information"
    result = cpis::LookupResult::failed(domain::ReasonCode::InternalError, "the CP-IS client failed", false);
  }
  outcome.decidedAt = result.answeredAt.value_or(clock_());  // a cached answer is as old as it is
  outcome.source = result.source;
  outcome.status = result.status;
  switch (result.status) {
    case domain::CheckStatus::Found:
      // A record holding no plan has nothing to show (Spine's schema requires a plan in every
      // record; another back end might not): left out, so that the plans of the others are
      // shown. FOUND with nothing left to show is not a result we can show: "0 plans found"
      // would read as no information (hazard H3).
      if (const auto dropped =
              std::erase_if(result.records, [](const domain::CpisRecord& record) { return record.plans.empty(); });
          dropped > 0) {
        Poco::Logger::get("cpis.pipeline")
            .warning("check %s: CP-IS said found with %s record%s holding no plan: left out of the outcome",
                     request.checkId, std::to_string(dropped), std::string(dropped == 1 ? "" : "s"));
      }
      if (result.records.empty()) {
        outcome.status = domain::CheckStatus::CheckFailed;
        outcome.reason = domain::ReasonCode::UnrecognisedResponse;
        outcome.reasonText = "CP-IS said found but sent no plan";
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
      outcome.requestMayHaveArrived = result.requestMayHaveArrived;
      break;
  }
  return outcome;
}

}  // namespace cpis::pipeline
