#include "adapters/testing/adapter_harness.h"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <boost/test/unit_test.hpp>

#include "engine/hl7v2/ack.h"
#include "engine/pipeline/alerts.h"
#include "engine/pipeline/respond.h"
#include "engine/plugin/plugin_registry.h"

namespace cpis::adapters::testing {
namespace {

using namespace std::chrono;

std::filesystem::path sourceDir() {
  return CPIS_SOURCE_DIR;
}

// The plugins stay loaded for the process (the engine never unloads one), so one registry.
plugin::PluginRegistry& registry() {
  static plugin::PluginRegistry instance({std::filesystem::path(CPIS_ADAPTER_PLUGIN_DIR)});
  return instance;
}

std::string readFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

domain::Instant at(sys_days day, hours h, minutes m = 0min, seconds s = 0s) {
  return domain::Instant{day + h + m + s};
}

}  // namespace

std::string Adapted::why() const {
  if (!issues.empty()) return "data error or failure: " + issues.front().text;
  return reason;
}

AdapterHarness::AdapterHarness(std::string pluginName, std::string mappingName, std::string folder,
                               plugin::PluginSettings settings)
    : folder_(std::move(folder)),
      mappingName_(std::move(mappingName)),
      loader_(xerces_),
      mapping_(loader_.loadFile(sourceDir() / "mappings" / (mappingName_ + ".xml"))),
      library_(&registry().find(plugin::PluginKind::Adapter, pluginName)),
      plugin_(plugin::AdapterPlugin::create(*library_, settings)) {}

AdapterHarness::~AdapterHarness() = default;

std::unique_ptr<plugin::AdapterPlugin> AdapterHarness::instance(
    const plugin::PluginSettings& settings) const {
  return plugin::AdapterPlugin::create(*library_, settings);
}

std::string AdapterHarness::sampleText(std::string_view file) const {
  return readFile(sourceDir() / "adapters" / folder_ / "tests" / "data" / file);
}

hl7v2::Message AdapterHarness::sample(std::string_view file) const {
  auto parsed = hl7v2::parse(sampleText(file));
  if (!parsed.ok()) throw std::runtime_error(std::string(file) + " does not parse: " + parsed.error().text);
  return std::move(parsed).value();
}

std::string AdapterHarness::mappingText() const {
  return readFile(sourceDir() / "mappings" / (mappingName_ + ".xml"));
}

mapping::Mapping AdapterHarness::loadMapping(std::string_view xml) const {
  return loader_.loadString(xml, mappingName_ + " (test variant)");
}

Adapted AdapterHarness::adapt(const hl7v2::Message& message, const mapping::Mapping& mapping) const {
  return adaptWith(message, mapping, *plugin_);
}

Adapted AdapterHarness::adapt(const hl7v2::Message& message, const plugin::AdapterPlugin* with) const {
  return adaptWith(message, mapping_, with != nullptr ? *with : *plugin_);
}

Adapted AdapterHarness::adaptWith(const hl7v2::Message& message, const mapping::Mapping& mapping,
                                  const plugin::AdapterPlugin& plugin) const {
  const pipeline::Adapter stage("feed-1", &mapping, &plugin);
  pipeline::AdaptResult result = stage.adapt(message);
  Adapted out;
  out.kind = result.kind;
  out.attendance = std::move(result.attendance);
  out.reason = std::move(result.reason);
  out.issues = std::move(result.issues);
  return out;
}

std::string AdapterHarness::ack(const hl7v2::Message& inbound, const domain::CheckOutcome& outcome,
                                plugin::AlertEncoding feedEncoding, const plugin::AdapterPlugin* with) const {
  const plugin::AdapterPlugin& adapter = with != nullptr ? *with : *plugin_;
  pipeline::AlertOptions alerts;
  alerts.encoding = feedEncoding == plugin::AlertEncoding::Obx ? pipeline::AlertEncoding::Obx
                                                               : pipeline::AlertEncoding::Zseg;
  const pipeline::Responder respond(alerts, &adapter);
  hl7v2::AckOptions options;
  options.controlId = "CPE000001234";
  options.timestamp = "20250612143007+0100";
  options.profile = "CPIS-ACK-1.0";
  const std::uint64_t failuresBefore = adapter.failures();
  std::string reply = respond.acknowledge(inbound, hl7v2::AckCode::AA, {}, options, outcome);
  if (adapter.failures() != failuresBefore) {
    throw std::runtime_error("compose_alerts failed: the engine sent its standard alerts instead");
  }
  return reply;
}

std::filesystem::path AdapterHarness::golden(std::string_view name) const {
  return sourceDir() / "adapters" / folder_ / "tests" / "golden" / (std::string(name) + ".hl7");
}

void checkGolden(const std::filesystem::path& file, const std::string& hl7) {
  BOOST_TEST_REQUIRE(hl7.find('\n') == std::string::npos);  // so '\r' <-> '\n' is exact
  std::string readable = hl7;
  for (char& c : readable) {
    if (c == '\r') c = '\n';
  }
  if (std::getenv("CPIS_UPDATE_GOLDEN") != nullptr) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << readable;
  }
  std::ifstream in(file, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "missing golden file " << file << " (CPIS_UPDATE_GOLDEN=1 writes it)");
  const std::string expected{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  BOOST_TEST(readable == expected, "differs from " << file);
}

std::vector<std::string> segmentIds(const hl7v2::Message& message) {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < message.segmentCount(); ++i) ids.emplace_back(message.segmentId(i));
  return ids;
}

namespace outcomes {

domain::LocalAuthority exampleshire() {
  return {"XLA01", "Exampleshire County Council", "01632 960001", std::string("01632 960000")};
}

domain::LocalAuthority northby() {
  return {"XLA02", "Northby & Southby Council", "01632 960101", std::nullopt};
}

domain::PriorAccess access(int i) {
  domain::PriorAccess a;
  a.at = at(2025y / 5 / 28, 1h, 15min) - days(i * 9) - hours(i * 5);
  a.bySystem = i % 2 == 1;
  a.personName = a.bySystem ? "Lee Safeguard" : "Sam Example";
  if (i != 2) {
    a.jobRoleCode = "R8000";
    a.jobRoleName = "Clinical Practitioner Access Role";
  }
  a.orgOdsCode = i % 2 == 0 ? "RZZ02" : "RZY";
  a.orgName = i % 2 == 0 ? "Example Minor Injuries Unit" : "Example Ambulance Service";
  if (a.bySystem) a.asid = "999000000" + std::to_string(101 + i);
  return a;
}

namespace {
domain::CheckOutcome base(domain::CheckStatus status) {
  domain::CheckOutcome o;
  o.status = status;
  o.queried = domain::NhsNumber::parse("9990000018");
  o.mode = domain::AccessMode::Unscheduled;
  o.decidedAt = at(2025y / 6 / 12, 13h, 30min, 6s);
  o.checkId = "3f2a6c1e-8b4d-4e21-9a57-0c9d2e7b1f44";
  o.source = domain::Source::Spine;
  return o;
}
}  // namespace

domain::CheckOutcome found(std::vector<domain::CpisRecord> records, int accesses) {
  domain::CheckOutcome o = base(domain::CheckStatus::Found);
  o.records = std::move(records);
  for (int i = 0; i < accesses; ++i) o.accesses.push_back(access(i));
  return o;
}

domain::CheckOutcome foundOnePlan() {
  return found({{exampleshire(), domain::SubjectKind::Child, {{domain::PlanType::Cppi, 2025y / 3 / 1, {}}}}},
               2);
}

domain::CheckOutcome foundSeveralPlans() {
  return found({{exampleshire(),
                 domain::SubjectKind::Child,
                 {{domain::PlanType::Cppi, 2024y / 11 / 20, {}},
                  {domain::PlanType::Laci, 2023y / 1 / 9, 2025y / 5 / 31}}},
                {northby(),
                 domain::SubjectKind::UnbornChild,
                 {{domain::PlanType::Ucpi, 2025y / 4 / 14, 2025y / 11 / 30}}}},
               3);
}

domain::CheckOutcome notFound() {
  return base(domain::CheckStatus::NotFound);
}

domain::CheckOutcome checkFailed(domain::ReasonCode reason, std::string text) {
  domain::CheckOutcome o = base(domain::CheckStatus::CheckFailed);
  o.reason = reason;
  o.reasonText = std::move(text);
  return o;
}

domain::CheckOutcome notChecked(domain::ReasonCode reason, std::string text) {
  domain::CheckOutcome o = base(domain::CheckStatus::NotChecked);
  o.reason = reason;
  o.reasonText = std::move(text);
  o.mode.reset();
  if (reason == domain::ReasonCode::NoNhsNumber || reason == domain::ReasonCode::NhsNumberInvalid)
    o.queried.reset();
  return o;
}

}  // namespace outcomes
}  // namespace cpis::adapters::testing
