#include "engine/cpis/lookup_factory.h"

#include <stdexcept>
#include <utility>

#include "engine/cpis/async_reply_server.h"

namespace cpis::cpis {

namespace {

std::string secret(const std::optional<config::Secret>& s) {
  return s ? std::string(s->reveal()) : std::string();
}

// Owns what an asynchronous client needs besides the lookup: the registry of pending queries
// and the endpoint replies arrive at. Members are destroyed bottom up: the lookup first, then
// the server (no more deliveries), then the registry.
class ConfiguredLookup final : public CpisLookup {
 public:
  ConfiguredLookup(const config::CpisConfig& config, const SpineSchemas& schemas, store::AuditLog* audit) {
    SpineLookupSettings settings = lookupSettings(config);
    if (config.asyncReplies) {
      const auto& a = *config.asyncReplies;
      AsyncReplyServerSettings server;
      server.address = a.listener.address;
      server.port = a.listener.port;
      server.path = a.path;
      if (a.listener.tls) {
        const auto& t = *a.listener.tls;
        server.tls = ServerTlsSettings{t.certificateFile.string(), t.privateKeyFile.string(),
                                       secret(t.privateKeyPassphrase), t.caFile ? t.caFile->string() : std::string(),
                                       t.requireClientCertificate, t.allowedClientSubjects};
      }
      server_ = std::make_unique<AsyncReplyServer>(std::move(server), replies_, schemas, settings.replyOptions);
      server_->start();
    }
    lookup_ = std::make_unique<SpineLookup>(std::move(settings), schemas, audit,
                                            config.asyncReplies ? &replies_ : nullptr);
  }

  LookupResult lookup(const LookupRequest& request) override { return lookup_->lookup(request); }

 private:
  AsyncReplies replies_;
  std::unique_ptr<AsyncReplyServer> server_;
  std::unique_ptr<SpineLookup> lookup_;
};

}  // namespace

SpineLookupSettings lookupSettings(const config::CpisConfig& config) {
  SpineLookupSettings s;
  auto endpoint = Endpoint::parse(config.endpoint);
  if (!endpoint.ok()) throw std::invalid_argument("CP-IS endpoint: " + endpoint.error().message());
  s.endpoint = std::move(endpoint.value());
  if (config.clientTls) {
    const auto& t = *config.clientTls;
    s.tls = ClientTlsSettings{t.certificateFile.string(), t.privateKeyFile.string(), secret(t.privateKeyPassphrase),
                              t.caFile ? t.caFile->string() : std::string()};
  }
  s.fromAsid = config.fromAsid;
  s.toAsid = config.toAsid;
  s.fromPartyKey = config.fromPartyKey;
  s.toPartyKey = config.toPartyKey;
  s.source = config.backend == config::CpisBackend::Simulator ? domain::Source::Simulator : domain::Source::Spine;
  s.timeout = config.timeout;
  s.retries = config.retries;
  s.breaker.failureThreshold = config.breakerFailureThreshold;
  s.breaker.openDuration = config.breakerOpen;
  s.maxConcurrent = config.maxConcurrent;
  s.cacheTtl = config.cacheTtl;
  if (config.noRecordsCode) s.replyOptions.noRecordsCode = *config.noRecordsCode;
  if (config.asyncReplies) s.replyTo = config.asyncReplies->replyTo;
  return s;
}

std::unique_ptr<CpisLookup> makeLookup(const config::CpisConfig& config, const SpineSchemas& schemas,
                                       store::AuditLog* audit) {
  return std::make_unique<ConfiguredLookup>(config, schemas, audit);
}

}  // namespace cpis::cpis
