#pragma once

// The conformance pack's scenarios, as read from conformance/scenarios/*.xml (the format is
// conformance/scenarios/scenario.xsd, described in conformance/README.md).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config_error.h"

namespace cpis::config {
class SchemaValidator;
}

namespace cpis::conformance {

enum class Match { Equals, Prefix, Suffix, Contains, NonEmpty, Empty, Absent };

// One value of the reply at an HL7 path. `value` may hold ${priorAccesses:NHS}: the number of
// accesses the simulator held for that NHS number before the step, at most 25. (engine/hl7v2 path syntax: "MSA-3", "ZCP(2)-4.1"; in a
// <segment> check the path is relative: "4.1").
struct FieldCheck {
  std::string path;
  Match match = Match::Equals;
  std::string value;
};

// Segments with this id, the `occurrence`th of those whose fields satisfy `where`.
struct SegmentCheck {
  std::string id;
  std::uint32_t occurrence = 1;
  std::vector<std::pair<std::string, std::string>> where;  // relative path, value
  std::vector<FieldCheck> fields;
};

struct CountCheck {
  std::string segment;
  std::vector<std::pair<std::string, std::string>> where;
  std::uint32_t equals = 0;
  std::string equalsPriorAccesses;  // NHS number: equals is the simulator's count before the step (<= 25)
};

struct ErrCheck {
  std::string code;     // HL7 table 0357: ERR-3.1 (v2.5+) or ERR-1.4.1 (up to v2.4)
  std::string segment;  // the location, when given
  std::uint32_t field = 0;
};

struct AckCheck {
  std::string code;  // MSA-1
  bool echoesControlId = true;  // MSA-2 is the sent MSH-10
};

struct ReplyExpect {
  std::optional<AckCheck> ack;
  std::vector<ErrCheck> errs;
  std::vector<FieldCheck> fields;
  std::vector<SegmentCheck> segments;
  std::vector<CountCheck> counts;
  std::optional<std::uint32_t> sameAsStep;  // byte for byte the first reply of that step
};

enum class ConnectionOutcome {
  Unspecified,  // no check (the connection stays for the next step)
  Open,         // still open after the replies
  Closed,       // the engine closes it (after any replies)
  NoReply,      // nothing comes back within the quiet period, and it stays open
  Refused,      // the connection or TLS handshake fails, or it is closed before any reply
};

struct AccessExpect {
  std::string nhsNumber;
  std::uint32_t added = 0;
};

struct MailboxExpect {
  std::string la, nhsNumber;
  std::uint32_t added = 0;
};

// Notifications a webhook sink posted about this scenario's attendance (its ${visit}): how many
// distinct ones (by idempotency key) of this kind the sink has received since the scenario
// began, and fields of each (path = the JSON member; match `absent`: the member is missing).
struct NotificationExpect {
  std::string sink;  // the sink's name in the engine configuration (/hooks/<sink>)
  std::string kind;  // empty: any
  std::uint32_t count = 1;
  std::optional<std::chrono::milliseconds> within;
  std::vector<FieldCheck> fields;
};

// A late result (an unsolicited ORU^R01 after a deferred check) for this scenario's visit
// (PV1-19.1), checked like a reply (segments, fields, counts).
struct LateResultExpect {
  ReplyExpect checks;
  std::optional<std::chrono::milliseconds> within;
};

// Rows of the engine's audit trail for one NHS number written since the step began (event
// "query": the audit table, one row per CP-IS lookup); fields by column name.
struct AuditExpect {
  std::string event;
  std::string nhsNumber;
  std::uint32_t count = 1;
  std::optional<std::chrono::milliseconds> within;
  std::vector<FieldCheck> fields;
};

struct StepExpect {
  std::vector<ReplyExpect> replies;  // in order; empty = no reply expected
  ConnectionOutcome connection = ConnectionOutcome::Unspecified;
  std::vector<AccessExpect> accesses;
  std::vector<MailboxExpect> mailboxes;
  std::vector<NotificationExpect> notifications;  // posted to the runner's webhook receiver
  std::vector<LateResultExpect> lateResults;      // sent to the runner's return listener
  std::vector<AuditExpect> audits;  // read from the engine's store (--audit-db)
};

struct Step {
  enum class Kind { Message, Raw, Resend };
  Kind kind = Kind::Message;
  std::string name;
  std::string text;  // Message: the HL7 template, one segment per line
  std::string charset = "auto";  // Message: auto (MSH-18 decides), UTF-8, ISO-8859-1
  std::optional<std::size_t> padTo;
  std::vector<std::string> rawParts;  // Raw: escaped byte templates, written one after another
  std::uint32_t resendOf = 0;         // Resend: 1-based step
  std::optional<std::chrono::milliseconds> untilPass;
  StepExpect expect;
  std::uint64_t line = 0;

  // NHS numbers whose prior access count the expectations use.
  std::set<std::string> priorAccessNumbers() const;
};

struct FaultSetup {
  std::string nhsNumber;  // 10 digits or "*"
  std::string kind;
  std::optional<std::uint64_t> delayMs;
  std::optional<std::uint64_t> times;
};

struct Scenario {
  std::string id, title;
  std::vector<std::string> tags;
  std::string feed;
  std::string file;
  std::uint64_t line = 0;
  bool exclusive = false;
  std::string serialGroup;
  std::string transport = "feed";          // feed, plain, tls
  std::string clientCertificate = "default";  // default, none
  bool connectionPerStep = false;
  std::vector<FaultSetup> faults;
  std::vector<Step> steps;

  // What it must not share with a scenario running at the same time: every NHS number it
  // names (in messages, faults and expectations) and its serial group.
  std::set<std::string> locks() const;
  // Expectations the runner cannot check yet (none today).
  bool usesUnsupported() const;
  bool usesAudit() const;
  bool usesNotifications() const;
  bool usesLateResults() const;
};

// The scenario schema, compiled in.
std::string_view scenarioSchema() noexcept;

// Reads scenario files, validating each against the compiled-in schema with Xerces-C++ (a
// config::XercesPlatform must outlive the reader).
class ScenarioReader {
 public:
  ScenarioReader();
  ~ScenarioReader();
  ScenarioReader(const ScenarioReader&) = delete;
  ScenarioReader& operator=(const ScenarioReader&) = delete;

  // Every scenario in `paths` (files, or folders whose *.xml files are read in name order).
  // Every problem (file:line:col) is collected and thrown together as a config::ConfigError.
  // Scenario ids must be unique across all files.
  std::vector<Scenario> load(const std::vector<std::filesystem::path>& paths) const;
  // One document's scenarios (the name is used in problems and results).
  std::vector<Scenario> parse(std::string_view xml, const std::string& documentName) const;

 private:
  std::unique_ptr<config::SchemaValidator> validator_;
};

std::string_view toString(Match match);

}  // namespace cpis::conformance
