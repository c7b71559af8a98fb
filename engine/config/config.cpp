#include "engine/config/config.h"

#include <algorithm>
#include <sstream>

namespace cpis::config {

std::string_view toString(Environment environment) {
  switch (environment) {
    case Environment::Live: return "LIVE";
    case Environment::Test: return "TEST";
  }
  return "?";
}

std::string_view toString(AckMode mode) {
  switch (mode) {
    case AckMode::Original: return "original";
    case AckMode::Enhanced: return "enhanced";
  }
  return "?";
}

std::string_view toString(LogFormat format) {
  switch (format) {
    case LogFormat::Text: return "text";
    case LogFormat::Json: return "json";
  }
  return "?";
}

std::string_view toString(LogLevel level) {
  switch (level) {
    case LogLevel::Fatal: return "fatal";
    case LogLevel::Critical: return "critical";
    case LogLevel::Error: return "error";
    case LogLevel::Warning: return "warning";
    case LogLevel::Notice: return "notice";
    case LogLevel::Information: return "information";
    case LogLevel::Debug: return "debug";
    case LogLevel::Trace: return "trace";
  }
  return "?";
}

std::string_view toString(TlsVersion version) {
  switch (version) {
    case TlsVersion::Tls12: return "TLSv1.2";
    case TlsVersion::Tls13: return "TLSv1.3";
  }
  return "?";
}

std::string_view toString(CpisBackend backend) {
  switch (backend) {
    case CpisBackend::SpineV3: return "SPINE_V3";
    case CpisBackend::Simulator: return "SIMULATOR";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, const Secret& /*secret*/) {
  return os << "***";
}

const FeedConfig* EngineConfig::findFeed(std::string_view name) const noexcept {
  const auto it =
      std::find_if(feeds.begin(), feeds.end(), [&](const FeedConfig& f) { return f.name == name; });
  return it == feeds.end() ? nullptr : &*it;
}

namespace {

// Paths print as written by std::filesystem (quoted), so spaces in them stay visible.
void printTls(std::ostream& os, const TlsConfig& tls) {
  os << "    tls: minimumVersion " << toString(tls.minimumVersion) << "\n"
     << "      certificateFile " << tls.certificateFile << "\n"
     << "      privateKeyFile " << tls.privateKeyFile << "\n";
  if (tls.privateKeyPassphraseFile) {
    os << "      privateKeyPassphraseFile " << *tls.privateKeyPassphraseFile;
    if (tls.privateKeyPassphrase) os << " (passphrase " << *tls.privateKeyPassphrase << ")";
    os << "\n";
  }
  if (tls.caFile) os << "      caFile " << *tls.caFile << "\n";
  os << "      clientCertificate " << (tls.requireClientCertificate ? "required" : "not required") << "\n";
  for (const auto& subject : tls.allowedClientSubjects) os << "      allowedSubject \"" << subject << "\"\n";
}

void printFeed(std::ostream& os, const FeedConfig& feed) {
  os << "  feed " << feed.name << "\n"
     << "    expectedSender application " << feed.expectedSendingApplication.value_or("(any)") << " facility "
     << feed.expectedSendingFacility.value_or("(any)") << "\n"
     << "    characterSetWhenUnstated " << feed.characterSetWhenUnstated << "\n"
     << "    listener " << feed.listener.address << ":" << feed.listener.port
     << (feed.listener.tls ? " (MLLP/TLS)" : " (MLLP)") << "\n";
  if (feed.listener.tls) printTls(os, *feed.listener.tls);
  os << "    acknowledgement " << toString(feed.ackMode);
  if (feed.returnConnection) {
    os << ", return connection " << feed.returnConnection->host << ":" << feed.returnConnection->port;
  }
  os << "\n";
  if (feed.adapter) {
    os << "    adapter " << feed.adapter->name << "\n";
    // Setting values are printed: they are configuration, not secrets (secrets live in files).
    for (const auto& [key, value] : feed.adapter->settings)
      os << "      " << key << " = \"" << value << "\"\n";
  }
  if (feed.mappingFile) os << "    mapping " << *feed.mappingFile << "\n";
  if (feed.check) {
    os << "    check alerts " << feed.check->alerts << (feed.check->enabled ? "" : ", disabled")
       << (feed.check->acceptUnverifiedNhsNumber ? ", unverified NHS numbers accepted" : "")
       << (feed.check->acceptMissingTraceStatus ? ", NHS numbers without a trace status accepted" : "") << ", recheck window "
       << feed.check->recheckWindow.count() << " min, author " << feed.check->author.odsCode << "\n";
  }
}

void printCpis(std::ostream& os, const CpisConfig& cpis) {
  os << "  cpis " << toString(cpis.backend) << " " << cpis.endpoint << "\n"
     << "    schemaFolder " << cpis.schemaFolder << "\n"
     << "    identity fromAsid " << cpis.fromAsid << " toAsid " << cpis.toAsid;
  if (!cpis.fromPartyKey.empty()) os << " fromPartyKey " << cpis.fromPartyKey;
  if (!cpis.toPartyKey.empty()) os << " toPartyKey " << cpis.toPartyKey;
  os << "\n    timeout " << cpis.timeout.count() << " ms, retries " << cpis.retries << ", maxConcurrent "
     << cpis.maxConcurrent << ", cache " << (cpis.cacheTtl.count() > 0 ? std::to_string(cpis.cacheTtl.count()) + " ms" : "off")
     << ", circuit breaker after " << cpis.breakerFailureThreshold << " failures for " << cpis.breakerOpen.count()
     << " ms\n"
     << "    noRecordsCode " << cpis.noRecordsCode.value_or("(default)") << "\n";
  if (cpis.clientTls) {
    os << "    clientTls certificateFile " << cpis.clientTls->certificateFile << "\n"
       << "      privateKeyFile " << cpis.clientTls->privateKeyFile << "\n";
    if (cpis.clientTls->privateKeyPassphraseFile) {
      os << "      privateKeyPassphraseFile " << *cpis.clientTls->privateKeyPassphraseFile;
      if (cpis.clientTls->privateKeyPassphrase) os << " (passphrase " << *cpis.clientTls->privateKeyPassphrase << ")";
      os << "\n";
    }
    if (cpis.clientTls->caFile) os << "      caFile " << *cpis.clientTls->caFile << "\n";
  }
  if (cpis.asyncReplies) {
    const auto& a = *cpis.asyncReplies;
    os << "    asyncReplies " << a.listener.address << ":" << a.listener.port << a.path
       << (a.listener.tls ? " (HTTPS)" : " (HTTP)") << ", replyTo " << a.replyTo << "\n";
    if (a.listener.tls) printTls(os, *a.listener.tls);
  }
}

void printNotify(std::ostream& os, const NotifyConfig& notify) {
  os << "  notify poll " << notify.poll.count() << " ms, delivery tried for "
     << notify.deliveryDeadline.count() << " h, maxAttempts "
     << (notify.maxAttempts == 0 ? std::string("none") : std::to_string(notify.maxAttempts)) << ", back-off "
     << notify.backoffMin.count() << ".." << notify.backoffMax.count() << " ms, deferred checks "
     << (notify.deferredChecks ? "on for " + std::to_string(notify.deferredCheckDeadline.count()) + " h"
                               : std::string("off"))
     << "\n";
  for (const auto& sink : notify.sinks) {
    os << "    sink " << sink.name << " plugin " << sink.plugin << ", events";
    for (const auto& event : sink.events) os << " " << event;
    os << ", data " << sink.data << ", concurrency " << sink.concurrency << (sink.ordered ? ", ordered" : "");
    if (sink.maxAttempts) os << ", maxAttempts " << *sink.maxAttempts;
    os << "\n";
    // Only the keys: a sink's settings may name credentials.
    for (const auto& [key, value] : sink.settings) os << "      " << key << " = (set)\n";
  }
}

// "sqlite <path>" or "postgresql <connection string> ..."; the password only as ***.
std::string describeStoreBackend(const StoreConfig& store) {
  std::ostringstream out;
  if (const auto& pg = store.postgresql) {
    out << "postgresql \"" << pg->connection << "\"" << (pg->password ? " password ***" : "") << " instance "
        << (pg->instance.empty() ? std::string("(generated)") : pg->instance) << ", claim lease "
        << pg->claimLease.count() << " s";
  } else {
    out << "sqlite " << store.sqlitePath;
  }
  return out.str();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const EngineConfig& config) {
  os << "configuration " << config.source << "\n"
     << "  environment " << toString(config.environment) << "\n"
     << "  store " << describeStoreBackend(config.store) << ", duplicate window "
     << config.store.duplicateWindow.count() << " h, retention " << config.store.retention.count()
     << " days, group commit " << (config.store.groupCommit ? "on" : "off") << "\n"
     << "  limits maxMessageBytes " << config.limits.maxMessageBytes << ", readTimeout "
     << config.limits.readTimeout.count() << " ms, idleTimeout " << config.limits.idleTimeout.count()
     << " ms, maxConnectionsPerListener " << config.limits.maxConnectionsPerListener << "\n"
     << "  logging " << toString(config.logging.format) << ", " << toString(config.logging.level) << "\n";
  if (config.cpis) printCpis(os, *config.cpis);
  printNotify(os, config.notify);
  for (const auto& feed : config.feeds) printFeed(os, feed);
  return os;
}

}  // namespace cpis::config
