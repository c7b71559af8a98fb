#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpis::config {

// The engine's configuration as typed values. ConfigLoader fills these from one XML file
// (engine/config/cpis-engine.xsd, docs/configuration.md); the defaults below are the only copy
// of each default: the schema documents them but does not repeat them. Paths are absolute once
// loaded (a relative path in the file is relative to the file's directory).

enum class Environment : std::uint8_t { Live, Test };
enum class AckMode : std::uint8_t { Original, Enhanced };
enum class LogFormat : std::uint8_t { Text, Json };
// POCO's priorities, so the daemon can hand the name to Poco::Logger unchanged.
enum class LogLevel : std::uint8_t { Fatal, Critical, Error, Warning, Notice, Information, Debug, Trace };
enum class TlsVersion : std::uint8_t { Tls12, Tls13 };

std::string_view toString(Environment environment);  // "LIVE", "TEST": the spelling in the file
std::string_view toString(AckMode mode);             // "original", "enhanced"
std::string_view toString(LogFormat format);         // "text", "json"
std::string_view toString(LogLevel level);           // "information", ...
std::string_view toString(TlsVersion version);       // "TLSv1.2", "TLSv1.3"

// A value that must never reach a log, an error message or a terminal: it prints as ***.
// Only the code that hands it to its consumer (OpenSSL's passphrase callback) calls reveal().
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  std::string_view reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  std::string value_;
};
std::ostream& operator<<(std::ostream& os, const Secret& secret);  // always "***"

struct TlsConfig {
  std::filesystem::path certificateFile;  // PEM, the server's chain
  std::filesystem::path privateKeyFile;   // PEM
  std::optional<std::filesystem::path> privateKeyPassphraseFile;
  std::optional<Secret> privateKeyPassphrase;   // that file's content, without trailing line ends
  std::optional<std::filesystem::path> caFile;  // PEM bundle that verifies client certificates
  bool requireClientCertificate = false;        // mutual TLS; needs caFile
  // Exact subject names (OpenSSL's one-line form, e.g. "CN=epr.example.nhs.uk,O=Example,C=GB")
  // a client certificate must have; empty: any certificate caFile verifies.
  std::vector<std::string> allowedClientSubjects;
  TlsVersion minimumVersion = TlsVersion::Tls12;  // never lower: the schema offers nothing older
  // Where certificateFile and privateKeyFile are in the configuration file (0: not from one),
  // for problems found when they are loaded.
  std::uint64_t certificateLine = 0, privateKeyLine = 0;

  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

struct ListenerConfig {
  std::string address;     // an IP address or host name to bind; "0.0.0.0" or "::" for all
  std::uint16_t port = 0;  // 0: the system chooses (tests)
  std::optional<TlsConfig> tls;
  std::uint64_t line = 0;  // of <listener> in the configuration file (0: not from one)

  friend bool operator==(const ListenerConfig&, const ListenerConfig&) = default;
};

// Where enhanced-mode application acknowledgements go: a connection the engine opens to the
// sender's own MLLP listener.
struct ReturnConnectionConfig {
  std::string host;
  std::uint16_t port = 0;
  std::size_t maxWaiting = 10'000;  // application ACKs held in memory before new messages are refused

  friend bool operator==(const ReturnConnectionConfig&, const ReturnConnectionConfig&) = default;
};

struct AdapterConfig {
  std::string name;                             // plugin libcpis-adapter-<name>.so
  std::map<std::string, std::string> settings;  // the plugin's config keys
  std::optional<std::filesystem::path> library;  // the plugin file; nullopt: searched by name
  std::uint64_t line = 0;  // of <adapter> in the configuration file (0: not from one)

  friend bool operator==(const AdapterConfig&, const AdapterConfig&) = default;
};

// Who a feed's CP-IS queries are made for: a system author (CPIS.md §6).
struct CheckAuthorConfig {
  std::string odsCode;       // the site's ODS code
  std::string organisation;  // its name (NHS 111: may carry the patient's location)
  std::string person;        // the person nominated as responsible for CP-IS queries
  std::string jobRoleCode;   // their SDS job role
  std::string jobRoleName;

  friend bool operator==(const CheckAuthorConfig&, const CheckAuthorConfig&) = default;
};

// CP-IS checks for a feed's attendances; the rules are CPIS.md's unless said here.
struct CheckConfig {
  std::string alerts = "ZSEG";  // ZSEG, OBX or NONE: how the EPR takes the outcome
  bool enabled = true;          // false: every attendance is NOT_CHECKED / DISABLED
  bool acceptUnverifiedNhsNumber = false;  // NSTS02, NSTS08: a clinical safety officer's decision
  bool acceptMissingTraceStatus = false;   // no trace status at all: likewise
  std::chrono::minutes recheckWindow{10};
  // Original mode: the ACK goes back within this of the message's arrival, its check made or
  // failed by then (CPIS.md §8: the CP-IS timeoutMs < this < the sender's own ACK timeout).
  std::chrono::milliseconds ackDeadline{15'000};
  CheckAuthorConfig author;

  friend bool operator==(const CheckConfig&, const CheckConfig&) = default;
};

struct FeedConfig {
  std::string name;  // unique; appears in logs, store rows and idempotency keys
  std::optional<std::string> expectedSendingApplication;  // MSH-3; nullopt: not checked
  std::optional<std::string> expectedSendingFacility;     // MSH-4; nullopt: not checked
  ListenerConfig listener;
  AckMode ackMode = AckMode::Original;
  // Enhanced mode: required (application ACKs). Original mode: optional, for late results
  // (the unsolicited result of a deferred check).
  std::optional<ReturnConnectionConfig> returnConnection;
  std::optional<AdapterConfig> adapter;                    // the adapter plugin
  std::optional<std::filesystem::path> mappingFile;        // the mapping file
  std::uint64_t mappingLine = 0;  // of <mapping> in the configuration file (0: not from one)
  std::optional<CheckConfig> check;                        // nullopt: no CP-IS checks
  // The set (MSH-18's table 0211 name) a message with an empty MSH-18 is read in.
  std::string characterSetWhenUnstated = "ASCII";

  friend bool operator==(const FeedConfig&, const FeedConfig&) = default;
};

// A PostgreSQL database that several engine instances share (docs/deployment.md).
struct PostgresqlConfig {
  std::string connection;  // libpq's connection string, without the password
  std::optional<std::filesystem::path> passwordFile;
  std::optional<Secret> password;  // that file's content, without trailing line ends
  std::string instance;            // empty: host/process id/random, new at every start
  std::chrono::seconds claimLease{60};  // an instance's claim on unfinished work, unless renewed

  friend bool operator==(const PostgresqlConfig&, const PostgresqlConfig&) = default;
};

struct StoreConfig {
  std::filesystem::path sqlitePath;  // unused when postgresql is set
  std::optional<PostgresqlConfig> postgresql;  // set: the store is this database, not sqlitePath
  // The same (feed, MSH-10) within this window gets the original ACK again.
  std::chrono::hours duplicateWindow{24 * 7};
  // Processed messages (patient data) are purged after this; their audit records stay.
  std::chrono::days retention{30};
  // Messages arriving together share one transaction and one fsync (ARCHITECTURE.md).
  bool groupCommit = true;

  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

struct Limits {
  std::size_t maxMessageBytes = 1024 * 1024;       // larger frames get an AR and the connection closes
  std::chrono::milliseconds readTimeout{30'000};   // a frame that has started must finish in this
  std::chrono::milliseconds idleTimeout{600'000};  // a connection with no frame open is closed
  std::uint32_t maxConnectionsPerListener = 64;

  friend bool operator==(const Limits&, const Limits&) = default;
};

struct LoggingConfig {
  LogFormat format = LogFormat::Text;
  LogLevel level = LogLevel::Information;

  friend bool operator==(const LoggingConfig&, const LoggingConfig&) = default;
};

// The CP-IS client (engine/cpis). Omitted from the file: the engine makes no CP-IS checks.
enum class CpisBackend : std::uint8_t { SpineV3, Simulator };
std::string_view toString(CpisBackend backend);  // "SPINE_V3", "SIMULATOR": the spelling in the file

// Mutual TLS towards Spine: our endpoint certificate and the CAs Spine's must chain to.
struct CpisClientTlsConfig {
  std::filesystem::path certificateFile;  // PEM
  std::filesystem::path privateKeyFile;   // PEM
  std::optional<std::filesystem::path> privateKeyPassphraseFile;
  std::optional<Secret> privateKeyPassphrase;   // that file's content, without trailing line ends
  std::optional<std::filesystem::path> caFile;  // empty: the system's CAs
  std::uint64_t certificateLine = 0, privateKeyLine = 0;  // as TlsConfig's

  friend bool operator==(const CpisClientTlsConfig&, const CpisClientTlsConfig&) = default;
};

// Asynchronous replies: the engine's endpoint Spine POSTs them to, matched by message id.
struct CpisAsyncRepliesConfig {
  ListenerConfig listener;             // address, port, TLS (mutual TLS: clientCertificate)
  std::string path = "/cpis/replies";  // the path replies are POSTed to
  std::string replyTo;                 // the URL queries name as wsa:ReplyTo

  friend bool operator==(const CpisAsyncRepliesConfig&, const CpisAsyncRepliesConfig&) = default;
};

struct CpisConfig {
  CpisBackend backend = CpisBackend::SpineV3;
  std::string endpoint;                // https URL (http only for the simulator)
  std::filesystem::path schemaFolder;  // NHS Digital's CP-IS schemas (holds CPIS/Schemas)
  std::string fromAsid, toAsid;        // ours / the CP-IS service's: 12 digits
  std::string fromPartyKey, toPartyKey;  // ebXML binding; may be empty
  std::optional<CpisClientTlsConfig> clientTls;
  std::chrono::milliseconds timeout{5'000};  // per attempt
  std::uint32_t retries = 1;                 // attempts after the first, on transport failures and time-outs
  std::uint32_t breakerFailureThreshold = 5;  // failures in a row that open the circuit breaker
  std::chrono::milliseconds breakerOpen{30'000};  // how long it stays open before a probe
  std::uint32_t maxConcurrent = 32;             // queries in flight at once
  std::chrono::milliseconds cacheTtl{0};        // 0: no cache; never across access modes
  // The QUQI_IN010000UK14 code meaning "no records found"; nullopt: the client's default,
  // which no real code equals (so until configured, a no-records reply is a failed check).
  std::optional<std::string> noRecordsCode;
  std::optional<CpisAsyncRepliesConfig> asyncReplies;  // nullopt: synchronous replies

  friend bool operator==(const CpisConfig&, const CpisConfig&) = default;
};

// A notification sink plugin (libcpis-sink-<plugin>.so) and what it receives.
struct NotifySinkConfig {
  std::string name;    // unique; the outbox's sink column
  std::string plugin;  // plugin libcpis-sink-<plugin>.so
  std::optional<std::filesystem::path> library;  // the plugin file; nullopt: searched by name
  std::vector<std::string> events;  // kinds (engine/notify/notification.h): plan-found, ...
  std::string data = "minimal";     // minimal | identifiers | full
  std::uint32_t concurrency = 1;
  bool ordered = false;
  std::optional<std::uint32_t> maxAttempts;  // nullopt: NotifyConfig::maxAttempts
  std::map<std::string, std::string> settings;  // the plugin's config keys
  std::uint64_t line = 0;  // of <sink> in the configuration file (0: not from one)

  friend bool operator==(const NotifySinkConfig&, const NotifySinkConfig&) = default;
};

// The outbox dispatcher and the deferred check (CPIS.md §7).
struct NotifyConfig {
  std::chrono::milliseconds poll{5'000};
  // 0: no limit; the delivery deadline ends a sink's retries (CPIS.md §7: back-off with jitter
  // for a grace period, then dead-letter).
  std::uint32_t maxAttempts = 0;
  std::chrono::hours deliveryDeadline{24};  // a sink notification's, from when it is written
  std::chrono::milliseconds backoffMin{1'000};
  std::chrono::milliseconds backoffMax{300'000};
  bool deferredChecks = true;
  std::chrono::hours deferredCheckDeadline{24};
  std::vector<NotifySinkConfig> sinks;

  friend bool operator==(const NotifyConfig&, const NotifyConfig&) = default;
};

struct EngineConfig {
  std::string source;  // the file (or name) it was loaded from, for messages
  // The file must say which; a hand-built config (tests) gets the harmless one.
  Environment environment = Environment::Test;
  StoreConfig store;
  Limits limits;
  LoggingConfig logging;
  std::vector<FeedConfig> feeds;  // at least one once loaded, in file order
  std::optional<CpisConfig> cpis;  // nullopt: no CP-IS checks
  NotifyConfig notify;             // the defaults when the file has no <notify>

  const FeedConfig* findFeed(std::string_view name) const noexcept;

  friend bool operator==(const EngineConfig&, const EngineConfig&) = default;
};

// The effective configuration as indented text (for --validate-config and the start-up log);
// the passphrase prints as ***.
std::ostream& operator<<(std::ostream& os, const EngineConfig& config);

}  // namespace cpis::config
