#pragma once

// Runs scenarios against a running engine as a black box: MLLP (plain or TLS) to its feeds,
// HTTP to the CP-IS simulator's admin API for faults and for the accesses and mailboxes it
// recorded. Independent scenarios run in parallel; scenarios sharing an NHS number or a serial
// group never overlap; exclusive scenarios run alone, before the others.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conformance/runner/audit_reader.h"
#include "conformance/runner/receivers.h"
#include "conformance/runner/results.h"
#include "conformance/runner/scenario.h"

namespace cpis::conformance {

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
};

struct RunnerSettings {
  Endpoint engine;                          // every feed not listed in `feeds`
  std::map<std::string, Endpoint> feeds;    // by feed name
  std::string tlsCa, tlsCertificate, tlsKey;  // for TLS feeds
  std::string simulatorUrl;                 // "http://127.0.0.1:8970"; empty: no simulator checks
  int jobs = 4;
  std::chrono::milliseconds replyTimeout{15'000};
  std::chrono::milliseconds quietPeriod{1'000};  // how long "no reply" waits
  std::function<void(const ScenarioResult&)> onFinished;  // progress; called under a lock
  // Where notifications and late results arrive (owned by the caller); null: scenarios that
  // expect them are skipped.
  const WebhookReceiver* webhooks = nullptr;
  const ReturnListener* returns = nullptr;
  const AuditReader* audit = nullptr;  // the engine's store; null: audit expectations skipped
  std::chrono::milliseconds notificationWait{10'000};  // default withinMs
};

// Values the placeholders in messages take for one scenario; `runToken` makes control ids and
// visit numbers unique to this run of the pack.
struct PlaceholderContext {
  std::string runToken;  // a few base-36 characters
  std::size_t scenarioIndex = 0;
  std::uint32_t step = 1;
  std::uint32_t attempt = 0;
  std::chrono::system_clock::time_point now;
};
// Replaces ${controlId}, ${visit}, ${seq}, ${now}, ${nowDmy}, ${today}, ${age:N} (a birth date
// N years ago), ${ageDays:N}, ${run}. Throws std::invalid_argument for an unknown one.
std::string fillPlaceholders(const std::string& text, const PlaceholderContext& context);
// The control id ${controlId} gives (at most 20 characters, as MSH-10 allows).
std::string controlIdFor(const PlaceholderContext& context);
// A raw part's escapes (\v \r \n \x1c \xHH \\) to bytes.
std::string unescapeBytes(const std::string& text);
// Bytes for a report: control characters as <VT>, <FS>, <CR>.
std::string printable(const std::string& bytes);

std::vector<ScenarioResult> runScenarios(const std::vector<Scenario>& scenarios, const RunnerSettings& settings);

}  // namespace cpis::conformance
