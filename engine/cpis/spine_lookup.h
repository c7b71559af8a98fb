#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/cpis/async_replies.h"
#include "engine/cpis/circuit_breaker.h"
#include "engine/cpis/concurrency_limit.h"
#include "engine/cpis/https_transport.h"
#include "engine/cpis/lookup.h"
#include "engine/cpis/lookup_cache.h"
#include "engine/cpis/spine_message.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/store/audit_log.h"

namespace cpis::cpis {

struct SpineLookupSettings {
  Endpoint endpoint;                     // where QUPC_IN000006GB01 is POSTed
  std::optional<ClientTlsSettings> tls;  // our endpoint certificate and the CAs Spine's chains to
  std::string fromAsid, toAsid;          // ours / the CP-IS service's (12 digits)
  std::string fromPartyKey, toPartyKey;  // the ebXML binding's; unused by the SOAP binding
  domain::Source source = domain::Source::Spine;  // Simulator when the endpoint is the simulator

  // Each HTTP attempt may take this long; a lookup makes at most 1 + retries attempts, so it
  // ends within (1 + retries) x timeout.
  std::chrono::milliseconds timeout{5'000};
  std::uint32_t retries = 1;  // further attempts after a transport failure or a time-out
  CircuitBreaker::Settings breaker;
  std::size_t maxConcurrent = 32;
  std::chrono::milliseconds cacheTtl{0};  // 0: no cache (the default)
  ReplyOptions replyOptions;

  // Asynchronous pattern: the query names this URL as its wsa:ReplyTo and the reply arrives
  // there (AsyncReplyServer), matched by message id. Empty: synchronous replies.
  std::string replyTo;

  // Clocks, injected by tests: the wall clock stamps messages and audit entries; the steady
  // clock drives the breaker and the cache (never the time-outs, which are real).
  std::function<domain::Instant()> wallClock;
  std::function<std::chrono::steady_clock::time_point()> steadyClock;
};

struct SpineLookupStats {
  std::uint64_t lookups = 0;
  std::uint64_t found = 0, notFound = 0, failed = 0;
  std::uint64_t attempts = 0;  // HTTP exchanges started
  std::uint64_t retries = 0;
  std::uint64_t cacheHits = 0;
  std::uint64_t breakerRejected = 0;
};

// The CP-IS client: QUPC_IN000006GB01 over HTTPS with a client certificate (to Spine, or to
// the simulator, which speaks the same), synchronous or asynchronous replies, validated
// against the schemas before they are believed.
//
// Resilience: a time-out on every attempt; bounded retries on transport failures and
// time-outs (each attempt a new message id; a retry after a request that may have arrived is
// flagged possibleDuplicate); a circuit breaker (after N failures in a row checks fail at once
// with "CP-IS unavailable" until a probe succeeds); a limit on lookups in flight; an optional
// short-lived cache that never crosses access modes. Every lookup, cached or failed, is
// written to the audit log (never to the ordinary log).
//
// Threading: lookup() from any number of threads. Never throws.
class SpineLookup final : public CpisLookup {
 public:
  // `schemas` and `audit` (may be null: no audit, for tools and benchmarks) must outlive
  // this; so must `replies` when settings.replyTo is set (it must then be non-null). Throws
  // Poco::Exception when the TLS files cannot be used (a start-up failure).
  SpineLookup(SpineLookupSettings settings, const SpineSchemas& schemas, store::AuditLog* audit = nullptr,
              AsyncReplies* replies = nullptr);
  ~SpineLookup() override;

  // CpisLookup
  LookupResult lookup(const LookupRequest& request) override;

  SpineLookupStats stats() const;
  const CircuitBreaker& breaker() const noexcept { return breaker_; }
  const ConcurrencyLimit& concurrency() const noexcept { return limit_; }
  const HttpsTransport& transport() const noexcept { return *transport_; }
  const SpineLookupSettings& settings() const noexcept { return settings_; }

 private:
  struct Attempt;
  LookupResult query(const LookupRequest& request, CircuitBreaker::Admission admission);
  // Records a failure with the breaker, and says so (an ops alert) when that opens it.
  void breakerFailed();
  Attempt attempt(const LookupRequest& request, std::chrono::steady_clock::time_point deadline);
  LookupResult interpret(const LookupRequest& request, const std::string& messageId, const HttpReply& reply);
  LookupResult fromAsyncReply(const LookupRequest& request, ParsedReply reply);
  std::optional<LookupResult> unaddressed(const ParsedReply& reply) const;
  void audit(const LookupRequest& request, const std::string& checkId, domain::Instant at,
             const LookupResult& result, bool fromCache);
  domain::Instant now() const;

  const SpineLookupSettings settings_;
  const SpineSchemas& schemas_;
  store::AuditLog* const audit_;
  AsyncReplies* const replies_;
  std::unique_ptr<HttpsTransport> transport_;
  CircuitBreaker breaker_;
  ConcurrencyLimit limit_;
  LookupCache cache_;

  struct Counters {
    std::atomic<std::uint64_t> lookups{0}, found{0}, notFound{0}, failed{0}, attempts{0}, retries{0},
        cacheHits{0}, breakerRejected{0};
  };
  Counters counters_;
};

}  // namespace cpis::cpis
