#pragma once

// What the adapter suites share: an adapter plugin loaded as the engine loads it (PluginRegistry
// over PluginLoader: dlopen, ABI and name checks, configuration keys), its mapping file loaded
// with the engine's MappingLoader, and the two pipeline stages that call the plugin: adapt
// (pipeline::Adapter: the mapping's draft attendance through the plugin's adapt()) and respond
// (pipeline::Responder: the check's outcome through compose_alerts() into an acknowledgement,
// compared byte for byte with a golden file).
//
// Golden files hold the acknowledgement with '\r' written as '\n', one segment a line. Run a
// suite with CPIS_UPDATE_GOLDEN=1 to rewrite them after an intended change, then review the diff.
// Everything here is fictitious test data: 999-range NHS numbers, made-up people and councils.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/xerces_platform.h"
#include "engine/core/issue.h"
#include "engine/domain/attendance.h"
#include "engine/hl7v2/message.h"
#include "engine/mapping/mapping.h"
#include "engine/mapping/mapping_loader.h"
#include "engine/pipeline/adapt.h"
#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/alert_segments.h"
#include "engine/plugin/plugin_config.h"
#include "tests/support/log_capture.h"

namespace cpis::adapters::testing {

// What the engine's adapt stage (pipeline::Adapter: the mapping, then the plugin's adapt())
// made of one message.
struct Adapted {
  pipeline::AdaptResult::Kind kind = pipeline::AdaptResult::Kind::NotAnAttendance;
  domain::Attendance attendance;    // as the mapping and the adapter left it
  std::string reason;               // NotAnAttendance, Failed
  std::vector<core::Issue> issues;  // DataError (from the mapping or the adapter), Failed

  bool isAttendance() const { return kind == pipeline::AdaptResult::Kind::Attendance; }
  bool isNotAnAttendance() const { return kind == pipeline::AdaptResult::Kind::NotAnAttendance; }
  bool isDataError() const { return kind == pipeline::AdaptResult::Kind::DataError; }
  std::string nhsNumber() const {
    return attendance.nhsNumber ? std::string(attendance.nhsNumber->reveal()) : std::string();
  }
  // For failure messages: why the message did not become an attendance.
  std::string why() const;
};

class AdapterHarness {
 public:
  // `pluginName` as in libcpis-adapter-<pluginName>.so; `mappingName` as in mappings/<name>.xml;
  // `folder` the adapter's folder under adapters/ (its samples are in <folder>/tests/data).
  AdapterHarness(std::string pluginName, std::string mappingName, std::string folder,
                 plugin::PluginSettings settings = {});
  ~AdapterHarness();

  const plugin::AdapterPlugin& plugin() const { return *plugin_; }
  const mapping::Mapping& mapping() const { return mapping_; }
  // Another instance of the same plugin, with other settings (PluginError when refused).
  std::unique_ptr<plugin::AdapterPlugin> instance(const plugin::PluginSettings& settings) const;

  // A sample message of the adapter, byte for byte.
  std::string sampleText(std::string_view file) const;
  hl7v2::Message sample(std::string_view file) const;

  // The engine's adapt stage for the feed (with `with`, another instance of the plugin).
  Adapted adapt(const hl7v2::Message& message, const plugin::AdapterPlugin* with = nullptr) const;
  Adapted adapt(std::string_view file) const { return adapt(sample(file)); }
  // The same with another mapping, such as the shipped file's text (mappingText()) with a
  // trust's additions, loaded by loadMapping() (ConfigError when refused).
  Adapted adapt(const hl7v2::Message& message, const mapping::Mapping& mapping) const;
  std::string mappingText() const;
  mapping::Mapping loadMapping(std::string_view xml) const;

  // The engine's respond stage (pipeline::Responder): the acknowledgement (AA) to `inbound`, MSA-3
  // the engine's summary of the outcome, then the segments compose_alerts writes, with
  // `feedEncoding` as the feed's standard encoding. Throws when compose_alerts failed (the
  // engine would have sent its standard alerts instead).
  std::string ack(const hl7v2::Message& inbound, const domain::CheckOutcome& outcome,
                  plugin::AlertEncoding feedEncoding = plugin::AlertEncoding::ZSegments,
                  const plugin::AdapterPlugin* with = nullptr) const;
  // The golden file <folder>/tests/golden/<name>.hl7.
  std::filesystem::path golden(std::string_view name) const;

 private:
  Adapted adaptWith(const hl7v2::Message& message, const mapping::Mapping& mapping,
                    const plugin::AdapterPlugin& plugin) const;

  std::string folder_;
  std::string mappingName_;
  config::XercesPlatform xerces_;
  mapping::MappingLoader loader_;
  mapping::Mapping mapping_;
  const plugin::PluginLibrary* library_;
  std::unique_ptr<plugin::AdapterPlugin> plugin_;
};

// Everything logged to one logger (an adapter's is cpis.plugin.<name>) while it lives.
using cpis::test::LogCapture;

// Compares `hl7` (segments ended by '\r') with a golden file; CPIS_UPDATE_GOLDEN=1 rewrites it.
void checkGolden(const std::filesystem::path& file, const std::string& hl7);

// The segment ids of a message, in order ("MSH", "MSA", "ZCP", ...).
std::vector<std::string> segmentIds(const hl7v2::Message& message);

// Check outcomes for the golden files, decided on 12 June 2025 at 14:30:06 London time, for the
// NHS number 9990000018 unless said otherwise.
namespace outcomes {

domain::LocalAuthority exampleshire();  // both phones
domain::LocalAuthority northby();       // "&" in its name, no workplace phone
domain::PriorAccess access(int i);      // the i-th earlier access (0 newest): persons and systems

domain::CheckOutcome found(std::vector<domain::CpisRecord> records, int accesses);
// FOUND, one record, an open child protection plan, two earlier accesses (CPIS.md example 1).
domain::CheckOutcome foundOnePlan();
// FOUND, two records: CPP (open) and LAC (ended) with Exampleshire; an unborn child's plan with
// Northby & Southby; three earlier accesses.
domain::CheckOutcome foundSeveralPlans();
domain::CheckOutcome notFound();
domain::CheckOutcome checkFailed(domain::ReasonCode reason, std::string text = {});
domain::CheckOutcome notChecked(domain::ReasonCode reason, std::string text = {});

}  // namespace outcomes
}  // namespace cpis::adapters::testing
