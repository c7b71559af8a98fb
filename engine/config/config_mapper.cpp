#include "engine/config/config_mapper.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <iterator>
#include <netdb.h>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

namespace cpis::config {

namespace {

namespace fs = std::filesystem;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

constexpr std::string_view kPassphraseFileElement = "privateKeyPassphraseFile";

// Addresses that bind every interface: they clash with any other address on the same port.
bool isWildcard(std::string_view address) {
  return address == "0.0.0.0" || address == "::";
}

std::string lowerCase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  });
  return lower;
}

class Mapper {
 public:
  Mapper(const MappingContext& context, std::vector<ConfigProblem>& problems)
      : context_(context), problems_(problems) {}

  EngineConfig map(const XmlElement& root) {
    EngineConfig config;
    config.source = context_.fileName;
    if (const auto* environment = root.child("environment")) {
      config.environment = trim(environment->text) == "LIVE" ? Environment::Live : Environment::Test;
    }
    if (const auto* store = root.child("store")) config.store = mapStore(*store);
    if (const auto* limits = root.child("limits")) config.limits = mapLimits(*limits);
    if (const auto* logging = root.child("logging")) config.logging = mapLogging(*logging);
    for (const auto* feed : root.childrenNamed("feed")) config.feeds.push_back(mapFeed(*feed));
    checkFeedsTogether(root, config);
    if (const auto* cpis = root.child("cpis")) config.cpis = mapCpis(*cpis, config);
    if (const auto* notify = root.child("notify")) {
      config.notify = mapNotify(*notify);
      // A deferred check's late result is built from its stored message (PID, PV1): a message
      // purged before its checks give up would leave the EPR an ORU that names no patient. (The
      // defaults, 24 hours and at least a day's retention, always fit.)
      if (config.notify.deferredChecks && config.notify.deferredCheckDeadline > config.store.retention) {
        problem(*notify,
                "deferredCheckHours (" + std::to_string(config.notify.deferredCheckDeadline.count()) +
                    ") is longer than the store's retentionDays (" +
                    std::to_string(config.store.retention.count()) +
                    " days): a deferred check's message could be purged before its late result is sent");
      }
    }
    const auto feeds = root.childrenNamed("feed");
    for (std::size_t i = 0; i < config.feeds.size() && i < feeds.size(); ++i) {
      const auto* check = feeds[i]->child("check");
      if (check == nullptr || !config.feeds[i].check) continue;
      if (!config.cpis) {
        problem(*check, "feed '" + config.feeds[i].name + "' checks CP-IS but the configuration has no cpis element");
        continue;
      }
      // CPIS.md §8: lookupTimeoutMs < ackDeadlineMs (defaults count, as for the limits).
      const auto deadline = config.feeds[i].check->ackDeadline;
      if (deadline <= config.cpis->timeout) {
        problem(*check, "ackDeadlineMs (" + std::to_string(deadline.count()) + ") must exceed the cpis element's timeoutMs (" +
                            std::to_string(config.cpis->timeout.count()) +
                            "): a CP-IS query could never be answered before the ACK is due");
      }
    }
    return config;
  }

 private:
  void problem(const XmlElement& at, std::string message) {
    problems_.push_back({context_.fileName, at.line, at.column, std::move(message)});
  }

  // The schema has checked the digits and the range; this only converts.
  std::uint64_t number(const XmlElement& element, std::string_view attribute, std::uint64_t fallback) {
    const std::string* text = element.attribute(attribute);
    if (text == nullptr) return fallback;
    const std::string_view digits = trim(*text);
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) {
      problem(element,
              std::string(attribute) + ": not a number");  // unreachable while the schema says digits
      return fallback;
    }
    return value;
  }

  bool flag(const XmlElement& element, std::string_view attribute, bool fallback) const {
    const std::string* text = element.attribute(attribute);
    if (text == nullptr) return fallback;
    const std::string_view value = trim(*text);
    return value == "true" || value == "1";
  }

  std::string_view token(const XmlElement& element, std::string_view attribute,
                         std::string_view fallback) const {
    const std::string* text = element.attribute(attribute);
    return text == nullptr ? fallback : trim(*text);
  }

  fs::path resolve(std::string_view written) const {
    const fs::path path(written);
    return (path.is_absolute() ? path : context_.baseDirectory / path).lexically_normal();
  }

  // A file the engine will open later (at start-up, as the same user): refuse now what would
  // fail then, naming the element. Returns the resolved path.
  fs::path readableFile(const XmlElement& element, std::string_view written) {
    const fs::path path = resolve(written);
    // Someone may have typed the passphrase itself where its file belongs: never echo that, but
    // say where a relative name was looked for (the configuration file's folder).
    const std::string shown =
        element.name == kPassphraseFileElement
            ? " (" +
                  (fs::path(written).is_absolute() ? std::string("an absolute path")
                                                   : "relative to " + context_.baseDirectory.string()) +
                  "; the name itself is not shown: this element names the file holding the passphrase, and a "
                  "passphrase typed here instead must not reach a log)"
            : ": " + path.string();
    std::error_code error;
    const auto status = fs::status(path, error);
    if (!fs::exists(status)) {
      problem(element, element.name + ": no such file" + shown);
    } else if (!fs::is_regular_file(status)) {
      problem(element, element.name + ": not a regular file" + shown);
    } else {
      errno = 0;
      if (std::ifstream file(path, std::ios::binary); !file) {
        const std::string reason =
            errno != 0 ? " (" + std::generic_category().message(errno) + ")" : std::string();
        problem(element, element.name + ": cannot be read" + shown + reason);
      }
    }
    return path;
  }

  // Reads the passphrase. Its content goes nowhere but the Secret: no message quotes it.
  std::optional<Secret> readPassphrase(const XmlElement& element, const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;  // readableFile has reported why
    std::string content{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    // `echo secret > file` and editors add a line end that is not part of the passphrase.
    while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) content.pop_back();
    if (content.empty()) {
      problem(element,
              element.name + ": the file is empty: " + path.string());  // a real file: its path is safe
      return std::nullopt;
    }
    return Secret(std::move(content));
  }

  // A URI connection string with a password in its user information:
  // postgresql://user:secret@host/db.
  static bool uriPassword(std::string_view connection) {
    for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
      if (!connection.starts_with(scheme)) continue;
      // As libpq reads it: the user information ends at the first '@' before any '/'.
      const std::string_view rest = connection.substr(scheme.size());
      const auto end = rest.find_first_of("@/");
      return end != std::string_view::npos && rest[end] == '@' && rest.substr(0, end).find(':') != std::string_view::npos;
    }
    return false;
  }

  // The password comes from its own file; neither the connection string nor the password
  // file's name is ever quoted (either may hold the password itself, typed in the wrong place).
  PostgresqlConfig mapPostgresql(const XmlElement& element) {
    PostgresqlConfig pg;
    if (const auto* connection = element.attribute("connection")) {
      pg.connection = std::string(trim(*connection));
    }
    if (lowerCase(pg.connection).find("password") != std::string::npos || uriPassword(pg.connection)) {
      problem(element,
              "postgresql: connection: the password belongs in passwordFile, not in the connection string "
              "(the string is not shown)");
    }
    if (const auto* written = element.attribute("passwordFile")) {
      const fs::path path = resolve(trim(*written));
      constexpr std::string_view kHidden =
          " (path not shown: passwordFile names the file holding the password, not the password)";
      std::error_code error;
      const auto status = fs::status(path, error);
      if (!fs::exists(status)) {
        problem(element, "postgresql: passwordFile: no such file" + std::string(kHidden));
      } else if (!fs::is_regular_file(status) || !std::ifstream(path, std::ios::binary)) {
        problem(element, "postgresql: passwordFile: not a readable file" + std::string(kHidden));
      } else {
        pg.passwordFile = path;
        pg.password = readPassphrase(element, path);
      }
    }
    if (const auto* instance = element.attribute("instance")) pg.instance = std::string(trim(*instance));
    pg.claimLease = std::chrono::seconds(number(element, "claimLeaseSeconds", pg.claimLease.count()));
    return pg;
  }

  StoreConfig mapStore(const XmlElement& element) {
    StoreConfig store;
    if (const auto* sqlite = element.child("sqlite")) {
      if (const auto* path = sqlite->attribute("path")) store.sqlitePath = resolve(trim(*path));
    }
    if (const auto* postgresql = element.child("postgresql")) store.postgresql = mapPostgresql(*postgresql);
    store.duplicateWindow =
        std::chrono::hours(number(element, "duplicateWindowHours", store.duplicateWindow.count()));
    store.retention = std::chrono::days(number(element, "retentionDays", store.retention.count()));
    store.groupCommit = flag(element, "groupCommit", store.groupCommit);
    if (store.duplicateWindow > store.retention) {
      problem(element, "duplicateWindowHours (" + std::to_string(store.duplicateWindow.count()) +
                           ") is longer than retentionDays (" + std::to_string(store.retention.count()) +
                           " days): a resend of a purged message would be processed again");
    }
    return store;
  }

  Limits mapLimits(const XmlElement& element) {
    Limits limits;
    limits.maxMessageBytes = number(element, "maxMessageBytes", limits.maxMessageBytes);
    limits.readTimeout =
        std::chrono::milliseconds(number(element, "readTimeoutMs", limits.readTimeout.count()));
    limits.idleTimeout =
        std::chrono::milliseconds(number(element, "idleTimeoutMs", limits.idleTimeout.count()));
    limits.maxConnectionsPerListener = static_cast<std::uint32_t>(
        number(element, "maxConnectionsPerListener", limits.maxConnectionsPerListener));
    if (limits.readTimeout > limits.idleTimeout) {
      // Defaults count: readTimeoutMs="900000" alone exceeds the default idle timeout.
      problem(element, "readTimeoutMs (" + std::to_string(limits.readTimeout.count()) +
                           ") must not exceed idleTimeoutMs (" + std::to_string(limits.idleTimeout.count()) +
                           "): a stalled frame would outlive an idle connection");
    }
    return limits;
  }

  LoggingConfig mapLogging(const XmlElement& element) const {
    LoggingConfig logging;
    logging.format = token(element, "format", "text") == "json" ? LogFormat::Json : LogFormat::Text;
    const std::string_view level = token(element, "level", toString(logging.level));
    for (const auto candidate : {LogLevel::Fatal, LogLevel::Critical, LogLevel::Error, LogLevel::Warning,
                                 LogLevel::Notice, LogLevel::Information, LogLevel::Debug, LogLevel::Trace}) {
      if (toString(candidate) == level) logging.level = candidate;
    }
    return logging;
  }

  FeedConfig mapFeed(const XmlElement& element) {
    FeedConfig feed;
    feed.name = token(element, "name", "");
    feed.characterSetWhenUnstated = token(element, "characterSetWhenUnstated", "ASCII");
    if (const auto* sender = element.child("expectedSender")) {
      if (const auto* application = sender->attribute("application"))
        feed.expectedSendingApplication = *application;
      if (const auto* facility = sender->attribute("facility")) feed.expectedSendingFacility = *facility;
    }
    if (const auto* listener = element.child("listener")) feed.listener = mapListener(*listener);
    if (const auto* acknowledgement = element.child("acknowledgement"))
      mapAcknowledgement(*acknowledgement, feed);
    if (const auto* adapter = element.child("adapter")) feed.adapter = mapAdapter(*adapter);
    if (const auto* mapping = element.child("mapping")) {
      if (const auto* file = mapping->attribute("file")) {
        feed.mappingFile = readableFile(*mapping, trim(*file));
        feed.mappingLine = mapping->line;
      }
    }
    if (const auto* check = element.child("check")) {
      feed.check = mapCheck(*check);
      if (!feed.mappingFile) problem(*check, "feed '" + feed.name + "' checks CP-IS but has no mapping file");
    }
    return feed;
  }

  CheckConfig mapCheck(const XmlElement& element) {
    CheckConfig check;
    check.alerts = std::string(token(element, "alerts", check.alerts));
    check.enabled = flag(element, "enabled", check.enabled);
    check.acceptUnverifiedNhsNumber = flag(element, "acceptUnverifiedNhsNumber", check.acceptUnverifiedNhsNumber);
    check.acceptMissingTraceStatus = flag(element, "acceptMissingTraceStatus", check.acceptMissingTraceStatus);
    check.recheckWindow = std::chrono::minutes(number(element, "recheckWindowMinutes", check.recheckWindow.count()));
    check.ackDeadline = std::chrono::milliseconds(number(element, "ackDeadlineMs", check.ackDeadline.count()));
    if (const auto* author = element.child("author")) {
      check.author.odsCode = std::string(token(*author, "odsCode", ""));
      check.author.organisation = std::string(token(*author, "organisation", ""));
      check.author.person = std::string(token(*author, "person", ""));
      check.author.jobRoleCode = std::string(token(*author, "jobRoleCode", ""));
      check.author.jobRoleName = std::string(token(*author, "jobRoleName", ""));
    }
    return check;
  }

  ListenerConfig mapListener(const XmlElement& element) {
    ListenerConfig listener;
    listener.address = token(element, "address", "");
    listener.port = static_cast<std::uint16_t>(number(element, "port", 0));
    listener.line = element.line;
    if (const auto* tls = element.child("tls")) listener.tls = mapTls(*tls);
    return listener;
  }

  TlsConfig mapTls(const XmlElement& element) {
    TlsConfig tls;
    if (token(element, "minimumVersion", "TLSv1.2") == "TLSv1.3") tls.minimumVersion = TlsVersion::Tls13;
    if (const auto* file = element.child("certificateFile")) {
      tls.certificateFile = readableFile(*file, trim(file->text));
      tls.certificateLine = file->line;
    }
    if (const auto* file = element.child("privateKeyFile")) {
      tls.privateKeyFile = readableFile(*file, trim(file->text));
      tls.privateKeyLine = file->line;
    }
    if (const auto* file = element.child(kPassphraseFileElement)) {
      const std::size_t before = problems_.size();
      tls.privateKeyPassphraseFile = readableFile(*file, trim(file->text));
      if (problems_.size() == before)
        tls.privateKeyPassphrase = readPassphrase(*file, *tls.privateKeyPassphraseFile);
    }
    const XmlElement* caFile = element.child("caFile");
    if (caFile != nullptr) tls.caFile = readableFile(*caFile, trim(caFile->text));
    const XmlElement* client = element.child("clientCertificate");
    if (client != nullptr) {
      tls.requireClientCertificate = flag(*client, "required", true);
      for (const auto* subject : client->childrenNamed("allowedSubject")) {
        tls.allowedClientSubjects.emplace_back(trim(subject->text));
      }
      if (caFile == nullptr) {
        problem(*client, "clientCertificate needs caFile: without it no client certificate can be verified");
      }
      if (!tls.requireClientCertificate && !tls.allowedClientSubjects.empty()) {
        problem(*client,
                "allowedSubject needs required=\"true\": otherwise a client without a certificate "
                "would pass the allow-list");
      }
    } else if (caFile != nullptr) {
      // The server's own intermediates belong in certificateFile; a lone caFile usually means
      // someone expected it to be sent as the chain.
      problem(*caFile,
              "caFile only verifies client certificates: add clientCertificate, or put the server's "
              "intermediate certificates in certificateFile");
    }
    return tls;
  }

  void mapAcknowledgement(const XmlElement& element, FeedConfig& feed) {
    feed.ackMode = token(element, "mode", "original") == "enhanced" ? AckMode::Enhanced : AckMode::Original;
    const XmlElement* returnConnection = element.child("returnConnection");
    if (returnConnection != nullptr) {
      feed.returnConnection =
          ReturnConnectionConfig{std::string(token(*returnConnection, "host", "")),
                                 static_cast<std::uint16_t>(number(*returnConnection, "port", 0)),
                                 static_cast<std::size_t>(number(*returnConnection, "maxWaiting", 10'000))};
    }
    // Original mode may have one too: late results (a deferred check's outcome) go over it.
    if (feed.ackMode == AckMode::Enhanced && returnConnection == nullptr) {
      problem(element,
              "mode=\"enhanced\" needs a returnConnection: the application acknowledgements are sent "
              "over it");
    }
  }

  AdapterConfig mapAdapter(const XmlElement& element) {
    AdapterConfig adapter;
    adapter.name = token(element, "name", "");
    adapter.line = element.line;
    if (const auto* library = element.attribute("library")) adapter.library = readableFile(element, trim(*library));
    for (const auto* setting : element.childrenNamed("setting")) {
      const std::string name(token(*setting, "name", ""));
      const std::string* value = setting->attribute("value");
      if (!adapter.settings.emplace(name, value == nullptr ? std::string() : *value).second) {
        problem(*setting, "setting '" + name + "' is given twice for adapter '" + adapter.name + "'");
      }
    }
    return adapter;
  }

  NotifyConfig mapNotify(const XmlElement& element) {
    NotifyConfig notify;
    notify.poll = std::chrono::milliseconds(number(element, "pollMs", notify.poll.count()));
    notify.maxAttempts = static_cast<std::uint32_t>(number(element, "maxAttempts", notify.maxAttempts));
    notify.deliveryDeadline =
        std::chrono::hours(number(element, "deliveryHours", notify.deliveryDeadline.count()));
    notify.backoffMin = std::chrono::milliseconds(number(element, "backoffMinMs", notify.backoffMin.count()));
    notify.backoffMax = std::chrono::milliseconds(number(element, "backoffMaxMs", notify.backoffMax.count()));
    notify.deferredChecks = flag(element, "deferredChecks", notify.deferredChecks);
    notify.deferredCheckDeadline =
        std::chrono::hours(number(element, "deferredCheckHours", notify.deferredCheckDeadline.count()));
    if (notify.backoffMin > notify.backoffMax) {
      problem(element, "backoffMinMs (" + std::to_string(notify.backoffMin.count()) + ") is longer than backoffMaxMs (" +
                           std::to_string(notify.backoffMax.count()) + ")");
    }
    std::map<std::string, std::uint64_t> lines;  // sink name -> the line that named it first
    for (const auto* sinkElement : element.childrenNamed("sink")) {
      NotifySinkConfig sink = mapSink(*sinkElement);
      if (const auto [it, fresh] = lines.emplace(sink.name, sinkElement->line); !fresh) {
        problem(*sinkElement, "sink name '" + sink.name + "' is already used by the sink at line " +
                                  std::to_string(it->second));
      }
      notify.sinks.push_back(std::move(sink));
    }
    return notify;
  }

  NotifySinkConfig mapSink(const XmlElement& element) {
    // What a sink plugin may receive; the other kinds go to the engine's built-in sinks.
    static constexpr std::string_view kEvents[] = {"plan-found", "check-failed", "cancelled", "check-abandoned"};
    static constexpr std::string_view kLevels[] = {"minimal", "identifiers", "full"};
    NotifySinkConfig sink;
    sink.name = token(element, "name", "");
    sink.line = element.line;
    if (sink.name == "cpis-recheck") {
      problem(element, "sink name 'cpis-recheck' is the engine's own (the deferred check): choose another");
    }
    sink.plugin = token(element, "plugin", "");
    if (const auto* library = element.attribute("library")) sink.library = readableFile(element, trim(*library));
    std::string_view events = token(element, "events", "");
    while (!events.empty()) {
      const auto end = events.find_first_of(" \t\r\n");
      const std::string_view event = events.substr(0, end);
      events = end == std::string_view::npos ? std::string_view{} : trim(events.substr(end));
      if (std::find(std::begin(kEvents), std::end(kEvents), event) == std::end(kEvents)) {
        problem(element, "sink '" + sink.name + "': unknown event '" + std::string(event) +
                             "' (plan-found, check-failed, cancelled, check-abandoned)");
      } else if (std::find(sink.events.begin(), sink.events.end(), event) == sink.events.end()) {
        sink.events.emplace_back(event);
      }
    }
    sink.data = std::string(token(element, "data", sink.data));
    if (std::find(std::begin(kLevels), std::end(kLevels), sink.data) == std::end(kLevels)) {
      problem(element, "sink '" + sink.name + "': unknown data level '" + sink.data + "' (minimal, identifiers, full)");
    }
    sink.concurrency = static_cast<std::uint32_t>(number(element, "concurrency", sink.concurrency));
    sink.ordered = flag(element, "ordered", sink.ordered);
    if (element.attribute("maxAttempts") != nullptr) {
      sink.maxAttempts = static_cast<std::uint32_t>(number(element, "maxAttempts", 1));
    }
    for (const auto* setting : element.childrenNamed("setting")) {
      const std::string name(token(*setting, "name", ""));
      const std::string* value = setting->attribute("value");
      if (!sink.settings.emplace(name, value == nullptr ? std::string() : *value).second) {
        problem(*setting, "setting '" + name + "' is given twice for sink '" + sink.name + "'");
      }
    }
    return sink;
  }

  CpisConfig mapCpis(const XmlElement& element, const EngineConfig& config) {
    CpisConfig cpis;
    cpis.backend = token(element, "backend", "SPINE_V3") == "SIMULATOR" ? CpisBackend::Simulator : CpisBackend::SpineV3;
    const bool simulator = cpis.backend == CpisBackend::Simulator;
    if (simulator && config.environment == Environment::Live) {
      problem(element,
              "backend=\"SIMULATOR\" is refused when environment is LIVE: a live engine must query the "
              "national service (hazard H9)");
    }
    cpis.timeout = std::chrono::milliseconds(number(element, "timeoutMs", cpis.timeout.count()));
    cpis.retries = static_cast<std::uint32_t>(number(element, "retries", cpis.retries));
    cpis.maxConcurrent = static_cast<std::uint32_t>(number(element, "maxConcurrent", cpis.maxConcurrent));
    cpis.cacheTtl = std::chrono::milliseconds(number(element, "cacheTtlMs", cpis.cacheTtl.count()));
    if (const auto* code = element.attribute("noRecordsCode")) cpis.noRecordsCode = std::string(trim(*code));

    if (const auto* endpoint = element.child("endpoint")) {
      cpis.endpoint = std::string(trim(endpoint->text));
      if (!simulator && cpis.endpoint.rfind("https://", 0) != 0) {
        problem(*endpoint, "endpoint: the national service is reached over https only");
      }
    }
    if (const auto* folder = element.child("schemaFolder")) {
      cpis.schemaFolder = resolve(trim(folder->text));
      std::error_code error;
      if (!fs::is_directory(cpis.schemaFolder / "CPIS" / "Schemas", error)) {
        problem(*folder, "schemaFolder: no CPIS/Schemas folder in " + cpis.schemaFolder.string() +
                             " (it names the folder of NHS Digital's CP-IS schemas)");
      }
    }
    if (const auto* identity = element.child("identity")) {
      cpis.fromAsid = token(*identity, "fromAsid", "");
      cpis.toAsid = token(*identity, "toAsid", "");
      cpis.fromPartyKey = token(*identity, "fromPartyKey", "");
      cpis.toPartyKey = token(*identity, "toPartyKey", "");
    }
    if (const auto* tls = element.child("clientTls")) {
      CpisClientTlsConfig client;
      if (const auto* file = tls->child("certificateFile")) {
        client.certificateFile = readableFile(*file, trim(file->text));
        client.certificateLine = file->line;
      }
      if (const auto* file = tls->child("privateKeyFile")) {
        client.privateKeyFile = readableFile(*file, trim(file->text));
        client.privateKeyLine = file->line;
      }
      if (const auto* file = tls->child(kPassphraseFileElement)) {
        const std::size_t before = problems_.size();
        client.privateKeyPassphraseFile = readableFile(*file, trim(file->text));
        if (problems_.size() == before)
          client.privateKeyPassphrase = readPassphrase(*file, *client.privateKeyPassphraseFile);
      }
      if (const auto* file = tls->child("caFile")) client.caFile = readableFile(*file, trim(file->text));
      if (cpis.endpoint.rfind("https://", 0) != 0) {
        problem(*tls, "clientTls needs an https endpoint");
      }
      cpis.clientTls = std::move(client);
    } else if (!simulator) {
      problem(element,
              "backend=\"SPINE_V3\" needs clientTls: Spine accepts only mutual TLS with the endpoint "
              "certificate issued for the engine's ASID");
    }
    if (const auto* breaker = element.child("circuitBreaker")) {
      cpis.breakerFailureThreshold =
          static_cast<std::uint32_t>(number(*breaker, "failureThreshold", cpis.breakerFailureThreshold));
      cpis.breakerOpen = std::chrono::milliseconds(number(*breaker, "openMs", cpis.breakerOpen.count()));
    }
    if (const auto* async = element.child("asyncReplies")) {
      CpisAsyncRepliesConfig replies;
      replies.path = token(*async, "path", replies.path);
      replies.replyTo = token(*async, "replyTo", "");
      if (const auto* listener = async->child("listener")) {
        replies.listener = mapListener(*listener);
        for (const auto& feed : config.feeds) {
          if (clash(replies.listener, feed.listener)) {
            problem(*listener, "listener " + endpoint(replies.listener) + " clashes with feed '" + feed.name +
                                   "', which listens on " + endpoint(feed.listener));
          }
        }
      }
      if (!simulator && replies.replyTo.rfind("https://", 0) != 0) {
        problem(*async, "replyTo: the national service delivers replies over https only");
      }
      cpis.asyncReplies = std::move(replies);
    }
    return cpis;
  }

  // Rules across feeds. `config.feeds[i]` was read from the i-th feed element.
  void checkFeedsTogether(const XmlElement& root, const EngineConfig& config) {
    const auto elements = root.childrenNamed("feed");
    for (std::size_t i = 0; i < config.feeds.size(); ++i) {
      const FeedConfig& feed = config.feeds[i];
      for (std::size_t j = 0; j < i; ++j) {
        const FeedConfig& earlier = config.feeds[j];
        if (feed.name == earlier.name) {
          problem(*elements[i], "feed name '" + feed.name + "' is already used by the feed at line " +
                                    std::to_string(elements[j]->line));
        }
        if (clash(feed.listener, earlier.listener)) {
          const XmlElement* listener = elements[i]->child("listener");
          problem(listener != nullptr ? *listener : *elements[i],
                  "listener " + endpoint(feed.listener) + " clashes with feed '" + earlier.name + "' (line " +
                      std::to_string(elements[j]->line) + "), which listens on " +
                      endpoint(earlier.listener));
        }
      }
    }
  }

  // Port 0 asks the system for a free port, so two of them never collide. A host name is
  // compared by the addresses it resolves to ("localhost" is 127.0.0.1).
  static bool clash(const ListenerConfig& a, const ListenerConfig& b) {
    if (a.port == 0 || a.port != b.port) return false;
    if (isWildcard(a.address) || isWildcard(b.address) || lowerCase(a.address) == lowerCase(b.address)) return true;
    const auto mine = addressesOf(a.address);
    const auto theirs = addressesOf(b.address);
    return std::any_of(mine.begin(), mine.end(), [&](const std::string& ip) { return theirs.count(ip) != 0; });
  }

  // The numeric addresses a listener's address stands for; itself when it does not resolve.
  static std::set<std::string> addressesOf(const std::string& host) {
    std::set<std::string> out;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) == 0) {
      for (const addrinfo* p = found; p != nullptr; p = p->ai_next) {
        char text[NI_MAXHOST];
        if (getnameinfo(p->ai_addr, p->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0) {
          out.insert(text);
        }
      }
      freeaddrinfo(found);
    }
    if (out.empty()) out.insert(lowerCase(host));
    return out;
  }

  static std::string endpoint(const ListenerConfig& listener) {
    const bool ipv6 = listener.address.find(':') != std::string::npos;
    return (ipv6 ? "[" + listener.address + "]" : listener.address) + ":" + std::to_string(listener.port);
  }

  const MappingContext& context_;
  std::vector<ConfigProblem>& problems_;
};

}  // namespace

EngineConfig mapConfig(const XmlElement& root, const MappingContext& context,
                       std::vector<ConfigProblem>& problems) {
  return Mapper(context, problems).map(root);
}

}  // namespace cpis::config
