#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/config/xerces_platform.h"
#include "engine/hl7v2/charset.h"
#include "engine/notify/builtin_sinks.h"

namespace cpis::cpis {
class CpisLookup;
class SpineSchemas;
}  // namespace cpis::cpis
namespace cpis::store {
class AuditLog;
class MessageStore;
}
namespace cpis::plugin {
class AdapterPlugin;
class PluginRegistry;
}  // namespace cpis::plugin
namespace cpis::mapping {
class Mapping;
class MappingLoader;
}  // namespace cpis::mapping
namespace cpis::pipeline {
struct CheckStages;
struct DecisionPolicy;
class WorkQueue;
class MergedNumbers;
class MemoryJournal;
}  // namespace cpis::pipeline

namespace cpis::app {

// CP-IS checks for the engine: the CP-IS client (with its schemas and the audit trail), the
// work queue its lookups run on, and per feed with a <check> element the stages after parse:
// its mapping file, adapter plugin, decision rules, checker and responder. Built at start-up;
// anything missing or wrong (a mapping that does not validate, a plugin of another ABI, the
// schema folder absent) throws, naming it, and the engine does not start.
class Checks {
 public:
  // `notifications` (may be null) and `notified` go into every feed's stages (CheckStages).
  // `store` (may be null), when it is the SQLite store, writes the audit trail's rows in its
  // own transactions (SqliteAuditLog); it must outlive this object.
  explicit Checks(const config::EngineConfig& config, store::MessageStore* store = nullptr,
                  const notify::Composer* notifications = nullptr,
                  std::function<void(const notify::Notifications&)> notified = {});
  ~Checks();
  Checks(const Checks&) = delete;
  Checks& operator=(const Checks&) = delete;

  // What start-up would load and cannot, one line each (empty: nothing): every feed's mapping
  // file (its errors carry file and line), adapter and sink plugins (found, loaded, their
  // settings accepted), and the TLS certificates and keys of listeners and of the Spine client.
  // Each starts with the configuration file and the line of the element that names what failed
  // ("cpis-engine.xml:42: feed ed: adapter x: ..."). For --validate-config, which otherwise
  // checks only the configuration file itself.
  static std::vector<std::string> unloadable(const config::EngineConfig& config, const config::XercesPlatform& xerces);

  // cpis-engine --dry-run FEED FILE...: each message in the files through the feed's mapping,
  // adapter plugin and decision, as the running engine would take it, printed to `out` (patient
  // data only with `showPatientData`). Nothing is stored or sent and CP-IS is not asked; each
  // message is decided as its attendance's first. 0: every message became an attendance or
  // "not an attendance"; 1: a file could not be read, or a message does not parse, is refused
  // (AE) or failed its adapter; kExitConfig: no such feed, or its mapping or plugin will not load
  // (said on `err`).
  // The set a feed reads a message with an empty MSH-18 in (<feed characterSetWhenUnstated>).
  static hl7v2::Charset charsetWhenUnstatedOf(const config::FeedConfig& feed);
  static constexpr int kExitConfig = 78;  // EX_CONFIG, as for --validate-config
  static int dryRun(const config::EngineConfig& config, const config::XercesPlatform& xerces,
                    const std::string& feed, const std::vector<std::string>& files, bool showPatientData,
                    std::ostream& out, std::ostream& err);

  // The stages of a feed that checks CP-IS, or nullptr.
  const pipeline::CheckStages* stagesFor(const std::string& feed) const;
  // What the deferred check needs of each feed that checks CP-IS: its checker (unscheduled,
  // under the failed check's id) and its alert segments.
  std::map<std::string, notify::RecheckFeed, std::less<>> recheckFeeds() const;
  bool any() const noexcept { return !feeds_.empty(); }
  // The plugins the engine has loaded (adapters here, sinks by the engine).
  plugin::PluginRegistry& plugins() { return *plugins_; }
  // Runs the lookups already queued, then stops the work queue (after the listeners stopped).
  void stop();
  // Waits until every audit row recorded so far is written: before the store closes.
  void flushAudit();

 private:
  struct Feed;
  config::XercesPlatform xerces_;
  std::unique_ptr<cpis::SpineSchemas> schemas_;
  std::unique_ptr<store::AuditLog> audit_;
  std::unique_ptr<cpis::CpisLookup> lookup_;
  std::unique_ptr<plugin::PluginRegistry> plugins_;
  std::unique_ptr<pipeline::WorkQueue> work_;
  // Patient merges (A40) from every feed: an NHS number is national.
  std::unique_ptr<pipeline::MergedNumbers> merges_;
  // Writes the attendance memories' changes to the store (null without one).
  std::unique_ptr<pipeline::MemoryJournal> journal_;
  std::map<std::string, std::unique_ptr<Feed>> feeds_;
  // Where adapter plugins are looked for: beside the engine (bin/../lib as the build lays them
  // out, bin/../lib/cpis-engine/plugins as `cmake --install` does), then the packaged location.
  static std::vector<std::filesystem::path> pluginDirectories();
  // The feed's adapter plugin, loaded through `plugins` (which must outlive it) with its
  // settings; throws as PluginRegistry::named and AdapterPlugin::create do.
  static std::unique_ptr<plugin::AdapterPlugin> adapterPluginFor(plugin::PluginRegistry& plugins,
                                                                 const config::AdapterConfig& adapter);
  // "england_adt 1.0.0 (/usr/lib/cpis-engine/plugins/libcpis-adapter-england_adt.so)": which
  // build runs, and from where (a library found on the search path rather than the one meant).
  static std::string describe(const plugin::AdapterPlugin& adapter);
  static pipeline::DecisionPolicy decisionPolicyFor(const config::EngineConfig& engine,
                                                    const config::CheckConfig& check);
  // The feed's mapping file; in a LIVE engine every location it maps into scope must state its
  // access mode (CPIS.md §8, hazard H5). Throws config::ConfigError naming each row that does not.
  static mapping::Mapping loadMappingFor(const config::EngineConfig& engine,
                                         const mapping::MappingLoader& loader,
                                         const std::filesystem::path& file);
  // Puts back what the store kept of the memories (at start-up, before any message).
  void restoreMemory(store::MessageStore& store, std::chrono::milliseconds retention);
};

}  // namespace cpis::app
