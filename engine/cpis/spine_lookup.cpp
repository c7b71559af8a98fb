#include "engine/cpis/spine_lookup.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <utility>

#include <Poco/Logger.h>

#include "engine/core/assert.h"
#include "engine/domain/attendance.h"

namespace cpis::cpis {

namespace {

using SteadyClock = std::chrono::steady_clock;
using domain::CheckStatus;
using domain::ReasonCode;

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.cpis");
}

bool looksLikeXml(std::string_view body) {
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return false;
  // A UTF-8 byte-order mark may precede the markup.
  if (body.substr(first, 3) == "\xEF\xBB\xBF") return body.size() > first + 3 && body[first + 3] == '<';
  return body[first] == '<';
}

std::string seconds(std::chrono::milliseconds ms) {
  const auto tenths = (ms.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "") + " s";
}

// The failures that say the service is down or unreachable; a query Spine answered and
// rejected says the service is up, unless it was a fault of Spine's own (a SOAP Server fault,
// the one rejection that is retried): a Spine faulting every query is a Spine down.
bool countsAgainstService(const LookupResult& result) {
  return result.status == CheckStatus::CheckFailed && result.failure &&
         (result.failure->reason != ReasonCode::SpineRejected || result.failure->retryable);
}

}  // namespace

// One HTTP exchange (and, asynchronously, the wait for its reply).
struct SpineLookup::Attempt {
  LookupResult result;
  std::string messageId;
  bool requestMayHaveArrived = false;  // the server may have acted on it even if we saw no reply
};

SpineLookup::SpineLookup(SpineLookupSettings settings, const SpineSchemas& schemas, store::AuditLog* audit,
                         AsyncReplies* replies)
    : settings_(std::move(settings)),
      schemas_(schemas),
      audit_(audit),
      replies_(replies),
      transport_(std::make_unique<HttpsTransport>(HttpsTransport::Settings{
          settings_.endpoint, settings_.tls, std::max<std::size_t>(settings_.maxConcurrent, 1)})),
      breaker_(settings_.breaker, settings_.steadyClock),
      limit_(settings_.maxConcurrent),
      cache_(settings_.cacheTtl, 10'000, settings_.steadyClock) {
  CPIS_ASSERT(settings_.replyTo.empty() || replies_ != nullptr);
}

SpineLookup::~SpineLookup() = default;

domain::Instant SpineLookup::now() const {
  if (settings_.wallClock) return settings_.wallClock();
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

SpineLookupStats SpineLookup::stats() const {
  SpineLookupStats s;
  s.lookups = counters_.lookups.load();
  s.found = counters_.found.load();
  s.notFound = counters_.notFound.load();
  s.failed = counters_.failed.load();
  s.attempts = counters_.attempts.load();
  s.retries = counters_.retries.load();
  s.cacheHits = counters_.cacheHits.load();
  s.breakerRejected = counters_.breakerRejected.load();
  return s;
}

LookupResult SpineLookup::lookup(const LookupRequest& request) {
  const auto started = SteadyClock::now();
  const domain::Instant at = now();
  ++counters_.lookups;
  LookupResult result;
  bool fromCache = false;
  const bool cacheable = cache_.enabled() && request.mode == domain::AccessMode::Scheduled;
  try {
    // Only silent reads are answered from the cache: an unscheduled check must reach Spine, which
    // records the access (for the next site's history) and tells the LA (CPIS.md §7).
    if (auto cached = cacheable ? cache_.get(request.nhsNumber, request.mode, LookupCache::requesterOf(request)) : std::nullopt) {
      result = std::move(*cached);
      result.possibleDuplicate = false;
      fromCache = true;
      ++counters_.cacheHits;
    } else if (const auto problems = checkRequest(request); !problems.empty()) {
      // Our configuration (or the caller) left out what Spine requires: no point sending it.
      std::string detail = "the query is incomplete:";
      for (const auto& p : problems) detail += " " + p + ";";
      detail.pop_back();
      result = LookupResult::failed(ReasonCode::InternalError, std::move(detail), false);
    } else {
      const auto admission = request.background ? breaker_.admitBackground() : breaker_.admit();
      if (admission == CircuitBreaker::Admission::Rejected) {
        ++counters_.breakerRejected;
        result = LookupResult::failed(ReasonCode::SpineUnavailable,
                                      "CP-IS unavailable: circuit breaker open after " +
                                          std::to_string(settings_.breaker.failureThreshold) +
                                          " failures in a row",
                                      true);
      } else {
        result = query(request, admission);
      }
    }
  } catch (const std::exception&) {
    // Our bug, or no memory: still a failed check, never "not found".
    result = LookupResult::failed(ReasonCode::InternalError, std::string("internal error in the CP-IS client"),
                                  false);
    logger().error("CP-IS lookup failed inside the client (std::exception)");
  }
  result.source = settings_.source;
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
  if (cacheable && !fromCache) {
    LookupResult kept = result;
    kept.answeredAt = at;
    cache_.put(request.nhsNumber, request.mode, kept, LookupCache::requesterOf(request));
  }
  switch (result.status) {
    case CheckStatus::Found: ++counters_.found; break;
    case CheckStatus::NotFound: ++counters_.notFound; break;
    default: {
      ++counters_.failed;
      // Ids, codes and the detail (which never holds patient data); never the NHS number.
      const auto reason = result.failure ? result.failure->reason : ReasonCode::InternalError;
      // The feed, and "Spine message" for the query's own id: "message N" elsewhere in the log
      // is the store's.
      logger().warning("CP-IS check %s%s failed: %s (%s), Spine message %s", request.checkId,
                       request.feedId.empty() ? std::string() : " for feed " + request.feedId,
                       std::string(domain::codeOf(reason)), result.failure ? result.failure->detail : std::string(),
                       result.transportMessageId.empty() ? std::string("not sent") : result.transportMessageId);
      break;
    }
  }
  audit(request, request.checkId, at, result, fromCache);
  return result;
}

void SpineLookup::breakerFailed() {
  if (breaker_.recordFailure()) {
    logger().warning(
        "OPS ALERT: CP-IS circuit breaker open after %u failures in a row: checks fail at once "
        "(CHECK_FAILED, SPINE_UNAVAILABLE) for %s, then one is let through to test CP-IS",
        settings_.breaker.failureThreshold, seconds(settings_.breaker.openDuration));
  }
}

LookupResult SpineLookup::query(const LookupRequest& request, CircuitBreaker::Admission admission) {
  // A lookup holds its slot for all its attempts, and waits at most `timeout` for one. Each
  // attempt then has the whole `timeout`: a first attempt sent with only what a long wait left
  // would time out on a reply Spine is still making, and its retry would make a second access
  // record. So a lookup ends within timeout (the wait) + (1 + retries) x timeout, and by the
  // request's answerBy when it has one (the ACK's deadline): every attempt, the first too, is
  // made only with a whole timeout before it (a query cut short would time out on a reply Spine
  // is still making, its access recorded and the LA told, and the deferred check would query
  // again), so the slot is awaited until a whole attempt no longer fits.
  const auto lastStart = request.answerBy ? std::optional(*request.answerBy - settings_.timeout) : std::nullopt;
  const auto waitUntil = std::min(SteadyClock::now() + settings_.timeout, lastStart.value_or(SteadyClock::time_point::max()));
  const auto permit = limit_.acquire(waitUntil);
  if (!permit) {
    breaker_.release(admission);
    return LookupResult::failed(
        ReasonCode::Timeout,
        std::string(domain::kQueryNotSent) + ": all " + std::to_string(limit_.limit()) +
            " query slots stayed busy " +
            (waitUntil == lastStart
                 ? std::string("until a query could no longer be answered before its ACK was due")
                 : "for " + seconds(settings_.timeout)),
        true);
  }
  if (lastStart && SteadyClock::now() > *lastStart) {
    breaker_.release(admission);
    return LookupResult::failed(ReasonCode::Timeout,
                                std::string(domain::kQueryNotSent) + ": it could no longer be answered (" +
                                    seconds(settings_.timeout) + ") before its ACK was due",
                                true);
  }
  // Whatever happens below, the breaker hears of this request once (a probe left unreported
  // would keep it open for good).
  struct Outcome {
    SpineLookup& lookup;
    bool counts;  // a background request's failure does not count
    bool recorded = false;
    ~Outcome() {
      if (!recorded && counts) lookup.breakerFailed();
    }
  } outcome{*this, !request.background};
  LookupResult result;
  std::string lastMessageId;
  bool earlierMayHaveArrived = request.earlierMayHaveArrived;
  bool mayHaveArrived = false;
  const std::uint32_t attempts = settings_.retries + 1;
  for (std::uint32_t n = 0; n < attempts; ++n) {
    const auto until = SteadyClock::now() + settings_.timeout;
    if (n > 0 && request.answerBy && until > *request.answerBy) {  // a retry cut short would time out on a reply in the making
      result.failure->detail += "; not tried again: the ACK is due first";
      break;
    }
    if (n > 0) ++counters_.retries;
    Attempt a = attempt(request, until);
    if (!a.messageId.empty()) lastMessageId = a.messageId;
    const bool retry = a.result.status == CheckStatus::CheckFailed && a.result.failure &&
                       a.result.failure->retryable && n + 1 < attempts;
    // A retry after a request that may have arrived can make a second access record and a
    // second LA notification: safer than none, and flagged (CPIS.md §7).
    mayHaveArrived = mayHaveArrived || a.requestMayHaveArrived;
    result = std::move(a.result);
    result.possibleDuplicate = earlierMayHaveArrived;
    result.requestMayHaveArrived = result.status == CheckStatus::CheckFailed && mayHaveArrived;
    if (!retry) break;
    earlierMayHaveArrived = earlierMayHaveArrived || a.requestMayHaveArrived;
  }
  if (!countsAgainstService(result)) {
    if (breaker_.recordSuccess()) {
      logger().notice("CP-IS circuit breaker closed: check %s was answered; checks go to CP-IS again",
                      request.checkId);
    }
  } else if (!request.background) {
    breakerFailed();
  }
  outcome.recorded = true;
  result.transportMessageId = lastMessageId;
  return result;
}

SpineLookup::Attempt SpineLookup::attempt(const LookupRequest& request, SteadyClock::time_point deadline) {
  Attempt a;
  MessageHeader header;
  header.messageId = newMessageId();  // a new one for every attempt; the checkId stays
  header.creationTime = now();
  header.fromAsid = settings_.fromAsid;
  header.toAsid = settings_.toAsid;
  header.fromPartyKey = settings_.fromPartyKey;
  header.toPartyKey = settings_.toPartyKey;
  header.endpoint = settings_.endpoint.url();
  header.replyTo = settings_.replyTo;
  a.messageId = header.messageId;
  const std::string soap = buildQuery(request, header);
  const bool async = !settings_.replyTo.empty();
  if (async) replies_->expect(header.messageId);  // before sending: a fast reply is not missed
  ++counters_.attempts;

  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  auto posted = transport_->post(kQueryAction, soap, std::max(budget, std::chrono::milliseconds(1)));  // the whole exchange
  if (!posted.ok()) {
    const TransportFailure& f = posted.error();
    a.requestMayHaveArrived = f.requestSent;
    if (async && f.requestSent) {
      // Spine may have taken the query although its 202 was lost (a reset, a stall): its reply,
      // come or coming before the attempt's deadline, is the answer. Sending the query again
      // would record a second access (hazard H7); giving up would show a failure for an answer.
      if (auto parsed = replies_->wait(header.messageId, deadline)) {
        a.result = fromAsyncReply(request, std::move(*parsed));
        return a;
      }
    } else if (async) {
      replies_->cancel(header.messageId);
    }
    using Kind = TransportFailure::Kind;
    switch (f.kind) {
      case Kind::Timeout:
        a.result = LookupResult::failed(ReasonCode::Timeout, "no reply from CP-IS within " + seconds(budget), true);
        break;
      case Kind::Connect:
        a.result = LookupResult::failed(ReasonCode::SpineUnavailable, "CP-IS unreachable: " + f.detail, true);
        break;
      case Kind::Tls:
        // Certificates, trust or protocol: trying again at once will not change them.
        a.result = LookupResult::failed(ReasonCode::SpineUnavailable, "CP-IS unreachable: " + f.detail, false);
        break;
      case Kind::Dropped:
        a.result = LookupResult::failed(ReasonCode::SpineUnavailable,
                                        "CP-IS closed the connection without a reply: " + f.detail, true);
        break;
      case Kind::Protocol:
        a.result = LookupResult::failed(ReasonCode::UnrecognisedResponse, "CP-IS reply unusable: " + f.detail,
                                        false);
        break;
    }
    return a;
  }
  const HttpReply& reply = posted.value();
  a.requestMayHaveArrived = true;
  const bool accepted = reply.status == 202 || (reply.status == 200 && !looksLikeXml(reply.body));
  if (async && accepted) {
    auto parsed = replies_->wait(header.messageId, deadline);
    if (!parsed) {
      a.result = LookupResult::failed(ReasonCode::Timeout, "no asynchronous reply from CP-IS within " + seconds(budget), true);
    } else {
      a.result = fromAsyncReply(request, std::move(*parsed));
    }
  } else {
    if (async) replies_->cancel(header.messageId);  // answered (or refused) on the spot
    a.result = interpret(request, header.messageId, reply);
  }
  return a;
}

LookupResult SpineLookup::interpret(const LookupRequest& request, const std::string& messageId,
                                    const HttpReply& reply) {
  const std::string status = "HTTP " + std::to_string(reply.status);
  // A SOAP fault comes with 500; replies and application errors with 200. Anything else with a
  // 500 is Spine failing, whatever the body holds: it is not read as an answer.
  if ((reply.status == 200 || reply.status == 500) && looksLikeXml(reply.body)) {
    ParsedReply parsed = parseReply(reply.body, schemas_, settings_.replyOptions, request.nhsNumber);
    if (reply.status == 500 && parsed.interaction != kSoapFault) {
      return LookupResult::failed(
          ReasonCode::SpineUnavailable,
          "CP-IS answered " + status + " with " +
              (parsed.interaction.empty() ? std::string("no SOAP fault") : parsed.interaction),
          true);
    }
    if (!parsed.relatesTo.empty() &&
        AsyncReplies::normalise(parsed.relatesTo) != AsyncReplies::normalise(messageId)) {
      return LookupResult::failed(ReasonCode::UnrecognisedResponse, "the reply answers another query", false);
    }
    if (auto refused = unaddressed(parsed)) return std::move(*refused);
    return std::move(parsed.result);
  }
  // Too many requests (429) and a request timed out at the server (408) say Spine is busy, not
  // that the query is wrong: tried again like Spine down.
  if (reply.status >= 500 || reply.status == 429 || reply.status == 408) {
    return LookupResult::failed(ReasonCode::SpineUnavailable, "CP-IS answered " + status, true);
  }
  if (reply.status >= 400) {
    return LookupResult::failed(ReasonCode::SpineRejected, "CP-IS refused the query: " + status, false);
  }
  return LookupResult::failed(ReasonCode::UnrecognisedResponse,
                              "CP-IS answered " + status + (reply.body.empty() ? " without a body" : " with no SOAP reply"),
                              false);
}

// An answer (records, or none) is believed only from a reply that says which query it answers
// and is addressed to this engine's ASID: "no records" names no NHS number, so nothing else ties
// it to the child (hazards H2, H3). A failure stays the failure it reports.
std::optional<LookupResult> SpineLookup::unaddressed(const ParsedReply& reply) const {
  const auto status = reply.result.status;
  if (status != CheckStatus::Found && status != CheckStatus::NotFound) return std::nullopt;
  if (reply.relatesTo.empty()) {
    return LookupResult::failed(ReasonCode::UnrecognisedResponse,
                                "reply " + reply.interaction + " does not say which query it answers", false);
  }
  if (reply.receiverAsid != settings_.fromAsid) {
    return LookupResult::failed(
        ReasonCode::UnrecognisedResponse,
        "reply " + reply.interaction + " is addressed to another ASID than this engine's", false);
  }
  return std::nullopt;
}

LookupResult SpineLookup::fromAsyncReply(const LookupRequest& request, ParsedReply reply) {
  if (auto refused = unaddressed(reply)) return std::move(*refused);
  // The reply endpoint parsed it without knowing which NHS number was asked about: check now
  // that a Found reply is about the patient queried (CPIS.md H1).
  if (reply.result.status == CheckStatus::Found) {
    const std::string_view queried = request.nhsNumber.reveal();
    const bool otherPatient = reply.subjectNhsNumbers.empty() ||
                              std::any_of(reply.subjectNhsNumbers.begin(), reply.subjectNhsNumbers.end(),
                                          [&](const std::string& n) { return n != queried; });
    if (otherPatient) {
      return LookupResult::failed(ReasonCode::UnrecognisedResponse, "reply is about another NHS number", false);
    }
  }
  return std::move(reply.result);
}

void SpineLookup::audit(const LookupRequest& request, const std::string& checkId, domain::Instant at,
                        const LookupResult& result, bool fromCache) {
  if (audit_ == nullptr) return;
  store::QueryAuditEntry entry{
      .at = at,
      .feed = request.feedId,
      .location = request.locationKey,
      .nhsNumber = request.nhsNumber,
      .accessMode = request.mode,
      .outcome = result.status,
      .reason = result.failure ? std::optional(result.failure->reason) : std::nullopt,
      .detail = !result.failure                    ? std::string()
                : result.failure->peerText.empty() ? result.failure->detail
                                                   : result.failure->detail + "; Spine said: " + result.failure->peerText,
      .latency = result.latency,
      .checkId = checkId,
      .messageId = result.transportMessageId,
      .possibleDuplicate = result.possibleDuplicate,
      .fromCache = fromCache,
      .source = result.source,
      .recordCount = static_cast<std::uint32_t>(result.records.size()),
  };
  audit_->record(entry);
}

}  // namespace cpis::cpis
