#include "engine/config/config.h"

#include <algorithm>

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
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const EngineConfig& config) {
  os << "configuration " << config.source << "\n"
     << "  environment " << toString(config.environment) << "\n"
     << "  store sqlite " << config.store.sqlitePath << ", duplicate window "
     << config.store.duplicateWindow.count() << " h, retention " << config.store.retention.count()
     << " days, group commit " << (config.store.groupCommit ? "on" : "off") << "\n"
     << "  limits maxMessageBytes " << config.limits.maxMessageBytes << ", readTimeout "
     << config.limits.readTimeout.count() << " ms, idleTimeout " << config.limits.idleTimeout.count()
     << " ms, maxConnectionsPerListener " << config.limits.maxConnectionsPerListener << "\n"
     << "  logging " << toString(config.logging.format) << ", " << toString(config.logging.level) << "\n";
  for (const auto& feed : config.feeds) printFeed(os, feed);
  return os;
}

}  // namespace cpis::config
