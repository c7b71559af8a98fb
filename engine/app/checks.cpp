#include "engine/app/checks.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <optional>
#include <stdexcept>
#include <unistd.h>

#include <Poco/Crypto/EVPPKey.h>
#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Exception.h>
#include <Poco/Logger.h>

#include "engine/cpis/lookup.h"
#include "engine/cpis/lookup_factory.h"
#include "engine/cpis/spine_schemas.h"
#include "engine/hl7v2/charset.h"
#include "engine/mapping/mapping.h"
#include "engine/mapping/mapping_loader.h"
#include "engine/mllp/private_key.h"
#include "engine/pipeline/adapt.h"
#include "engine/pipeline/check.h"
#include "engine/pipeline/decide.h"
#include "engine/pipeline/intake.h"
#include "engine/pipeline/last_outcomes.h"
#include "engine/pipeline/memory_journal.h"
#include "engine/pipeline/respond.h"
#include "engine/pipeline/work_queue.h"
#include "engine/plugin/adapter_plugin.h"
#include "engine/plugin/plugin_library.h"
#include "engine/plugin/plugin_registry.h"
#include "engine/plugin/sink_plugin.h"
#include "engine/store/postgres_audit_log.h"
#include "engine/store/sqlite_audit_log.h"
#include "engine/store/sqlite_message_store.h"

namespace cpis::app {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.engine");
}

domain::Instant now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

cpis::Author authorFor(const config::EngineConfig& engine, const config::CheckConfig& check) {
  cpis::Author author;
  author.kind = cpis::Author::Kind::System;
  author.asid = engine.cpis ? engine.cpis->fromAsid : std::string();
  author.orgOdsCode = check.author.odsCode;
  author.orgName = check.author.organisation;
  author.personName = check.author.person;
  author.jobRoleCode = check.author.jobRoleCode;
  author.jobRoleName = check.author.jobRoleName;
  return author;
}

}  // namespace

hl7v2::Charset Checks::charsetWhenUnstatedOf(const config::FeedConfig& feed) {
  // The configuration's schema allows only the names charsetFromMsh18 knows.
  return hl7v2::charsetFromMsh18(feed.characterSetWhenUnstated).value_or(hl7v2::Charset::Ascii);
}

std::unique_ptr<plugin::AdapterPlugin> Checks::adapterPluginFor(plugin::PluginRegistry& plugins,
                                                                const config::AdapterConfig& adapter) {
  const plugin::PluginLibrary& library =
      plugins.named(plugin::PluginKind::Adapter, adapter.name, adapter.library);
  return plugin::AdapterPlugin::create(
      library, plugin::PluginSettings(adapter.settings.begin(), adapter.settings.end()));
}

std::string Checks::describe(const plugin::AdapterPlugin& adapter) {
  return adapter.name() + " " + adapter.library().version() + " (" + adapter.library().path().string() + ")";
}

std::vector<std::filesystem::path> Checks::pluginDirectories() {
  std::vector<std::filesystem::path> directories;
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    directories.push_back(self.parent_path().parent_path() / "lib");
    directories.push_back(self.parent_path().parent_path() / "lib" / "cpis-engine" / "plugins");
  }
  directories.emplace_back("/usr/lib/cpis-engine/plugins");
  return directories;
}

pipeline::DecisionPolicy Checks::decisionPolicyFor(const config::EngineConfig& engine,
                                                   const config::CheckConfig& check) {
  pipeline::DecisionPolicy policy;
  policy.environment =
      engine.environment == config::Environment::Live ? pipeline::Environment::Live : pipeline::Environment::Test;
  policy.enabled = check.enabled;
  policy.acceptUnverifiedNhsNumber = check.acceptUnverifiedNhsNumber;
  policy.acceptMissingTraceStatus = check.acceptMissingTraceStatus;
  policy.recheckWindow = check.recheckWindow;
  return policy;
}

mapping::Mapping Checks::loadMappingFor(const config::EngineConfig& engine,
                                        const mapping::MappingLoader& loader,
                                        const std::filesystem::path& file) {
  mapping::Mapping loaded = loader.loadFile(file);
  if (engine.environment == config::Environment::Live) {
    if (auto problems = mapping::implicitAccessModes(loaded.rules(), file.string()); !problems.empty()) {
      throw config::ConfigError(std::move(problems));
    }
  }
  return loaded;
}

struct Checks::Feed {
  hl7v2::Charset charsetWhenUnstated = hl7v2::Charset::Ascii;  // <feed characterSetWhenUnstated>
  std::unique_ptr<mapping::Mapping> mapping;
  std::unique_ptr<plugin::AdapterPlugin> plugin;
  std::unique_ptr<pipeline::Adapter> adapter;
  std::unique_ptr<pipeline::InMemoryCheckMemory> memory;
  std::unique_ptr<pipeline::LastOutcomes> outcomes;
  std::unique_ptr<pipeline::Decider> decider;
  std::unique_ptr<pipeline::Checker> checker;
  std::unique_ptr<pipeline::Responder> responder;
  std::unique_ptr<pipeline::CheckStages> stages;
};

Checks::Checks(const config::EngineConfig& config, store::MessageStore* store,
               const notify::Composer* notifications, std::function<void(const notify::Notifications&)> notified) {
  plugins_ = std::make_unique<plugin::PluginRegistry>(pluginDirectories());
  bool any = false;
  for (const auto& feed : config.feeds) any = any || feed.check.has_value();
  if (!any || !config.cpis) return;
  const config::CpisConfig& cpisConfig = *config.cpis;

  schemas_ = std::make_unique<cpis::SpineSchemas>(cpisConfig.schemaFolder);
  logger().information("CP-IS schemas loaded from %s (%z known quirks of the published schemas)",
                       cpisConfig.schemaFolder.string(), schemas_->loadWarnings().size());
  if (const auto& pg = config.store.postgresql) {
    auto opened = store::PostgresAuditLog::open(pg->connection, pg->password ? std::string(pg->password->reveal()) : "");
    if (!opened) throw std::runtime_error("audit trail: " + opened.error().message());
    audit_ = std::move(opened).value();
  } else {
    store::SqliteAuditLog::WriteThrough writeThrough;
    if (auto* sqlite = dynamic_cast<store::SqliteMessageStore*>(store)) {
      writeThrough = [sqlite](std::vector<store::QueryAuditEntry> entries, store::AuditThrough::Done done) {
        sqlite->recordAudit(std::move(entries), std::move(done));
      };
    }
    auto opened = store::SqliteAuditLog::open(config.store.sqlitePath.string(), 100'000, std::move(writeThrough));
    if (!opened) throw std::runtime_error("audit trail: " + opened.error().message());
    audit_ = std::move(opened).value();
  }
  lookup_ = cpis::makeLookup(cpisConfig, *schemas_, audit_.get());
  work_ = std::make_unique<pipeline::WorkQueue>(std::max<std::uint32_t>(cpisConfig.maxConcurrent, 1), "cpis-check");
  const mapping::MappingLoader loader(xerces_);
  const domain::Source source =
      cpisConfig.backend == config::CpisBackend::Simulator ? domain::Source::Simulator : domain::Source::Spine;

  merges_ = std::make_unique<pipeline::MergedNumbers>(now);
  if (store != nullptr) {
    journal_ = std::make_unique<pipeline::MemoryJournal>(now, *store);
    merges_->journalTo(journal_.get());
  }
  for (const auto& feedConfig : config.feeds) {
    if (!feedConfig.check) continue;
    const config::CheckConfig& check = *feedConfig.check;
    auto feed = std::make_unique<Feed>();
    feed->charsetWhenUnstated = charsetWhenUnstatedOf(feedConfig);
    feed->mapping =
        std::make_unique<mapping::Mapping>(loadMappingFor(config, loader, *feedConfig.mappingFile));
    if (const auto& adapter = feedConfig.adapter) {
      feed->plugin = adapterPluginFor(*plugins_, *adapter);
    }
    feed->adapter = std::make_unique<pipeline::Adapter>(feedConfig.name, feed->mapping.get(), feed->plugin.get());
    feed->memory = std::make_unique<pipeline::InMemoryCheckMemory>(now);
    feed->memory->journalTo(journal_.get());
    feed->outcomes = std::make_unique<pipeline::LastOutcomes>(feedConfig.name, journal_.get());
    feed->decider = std::make_unique<pipeline::Decider>(decisionPolicyFor(config, check), now, *feed->memory,
                                                        merges_.get());
    feed->checker = std::make_unique<pipeline::Checker>(*lookup_, authorFor(config, check), source, now);
    pipeline::AlertOptions alerts;
    alerts.encoding = pipeline::parseAlertEncoding(check.alerts).value_or(pipeline::AlertEncoding::Zseg);
    // Promised only where the retry's answer comes back to the EPR (a late result over the
    // feed's return connection): elsewhere staff would wait for an update that never comes.
    alerts.failedChecksRetried = notifications != nullptr && notifications->settings().deferredChecks &&
                                 feedConfig.returnConnection.has_value();
    feed->responder = std::make_unique<pipeline::Responder>(alerts, feed->plugin.get());
    feed->stages = std::make_unique<pipeline::CheckStages>(
        pipeline::CheckStages{*feed->adapter, *feed->decider, *feed->checker, *feed->responder, *work_,
                              notifications, notified, feed->outcomes.get()});
    const std::string adapter = feed->plugin ? ", adapter " + describe(*feed->plugin) : std::string();
    logger().information("feed %s: CP-IS checks with mapping %s%s, alerts %s", feedConfig.name,
                         feedConfig.mappingFile->string(), adapter, check.alerts);
    feeds_.emplace(feedConfig.name, std::move(feed));
  }
  if (journal_) {
    // As long as the memories keep an attendance, and no longer than the store keeps content.
    const auto retention = std::min<std::chrono::milliseconds>(pipeline::kMemoryRetention, config.store.retention);
    restoreMemory(*store, retention);
  }
}

void Checks::restoreMemory(store::MessageStore& store, std::chrono::milliseconds retention) {
  const auto started = std::chrono::steady_clock::now();
  const auto since = store::TimePoint(now() - retention);
  // Rows past the memory's own retention (shorter than the store's) go now; the store's
  // retention purge takes the rest as they age.
  if (auto purged = store.saveMemory({}, since); !purged.isOk()) {
    throw std::runtime_error("attendance memory: " + purged.message());
  }
  auto rows = store.loadMemory(since);
  if (!rows) throw std::runtime_error("attendance memory: " + rows.error().message());
  std::size_t checks = 0;
  std::size_t outcomes = 0;
  std::size_t merges = 0;
  std::size_t unreadable = 0;
  std::size_t elsewhere = 0;  // feeds this configuration does not check
  for (const store::MemoryRow& row : rows.value()) {  // oldest first: the newest end up most recent
    const auto at = std::chrono::floor<std::chrono::milliseconds>(row.at);
    if (row.kind == pipeline::kMergeRow) {
      const auto retired = domain::NhsNumber::parse(row.key);
      const auto survivor = pipeline::decodeMerge(row.body);
      if (!retired || !survivor) {
        ++unreadable;
        continue;
      }
      merges_->restore(*retired, *survivor, at);
      ++merges;
      continue;
    }
    const auto feed = feeds_.find(row.feed);
    if (feed == feeds_.end()) {
      ++elsewhere;
      continue;
    }
    if (row.kind == pipeline::kCheckRow) {
      if (const auto check = pipeline::decodeCheck(row.body)) {
        feed->second->memory->restore(row.feed, row.key, *check, at);
        ++checks;
        continue;
      }
    } else if (row.kind == pipeline::kOutcomeRow) {
      if (const auto outcome = pipeline::decodeOutcome(row.body)) {
        feed->second->outcomes->restore(row.key, *outcome);
        ++outcomes;
        continue;
      }
    }
    ++unreadable;
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  logger().information("attendance memory restored from the store: %z attendances' checks, %z outcomes, %z patient "
                       "merges (%z rows of feeds that do not check here, %z unreadable) in %Ld ms",
                       checks, outcomes, merges, elsewhere, unreadable, static_cast<Poco::Int64>(took.count()));
  if (unreadable > 0) {
    logger().warning("attendance memory: %z rows could not be read and were left out: those attendances are checked "
                     "again at their next message",
                     unreadable);
  }
}

Checks::~Checks() {
  stop();
}

std::vector<std::string> Checks::unloadable(const config::EngineConfig& config, const config::XercesPlatform& xerces) {
  std::vector<std::string> problems;
  // Each problem where the configuration names what failed ("file:line: ..."), as the file's
  // own errors are: the line to edit at 3 a.m.
  const auto attempt = [&](std::uint64_t line, const std::string& what, const auto& load) {
    const std::string at = line == 0 ? std::string() : config.source + ":" + std::to_string(line) + ": ";
    // One problem a line, each with where it is (a plugin lists all its configuration's at once).
    const auto add = [&](const std::string& text) {
      std::size_t from = 0;
      while (from <= text.size()) {
        const std::size_t end = std::min(text.find('\n', from), text.size());
        if (end > from || text.empty()) problems.push_back(at + what + ": " + text.substr(from, end - from));
        from = end + 1;
      }
    };
    try {
      load();
    } catch (const Poco::Exception& e) {
      add(e.displayText());
    } catch (const std::exception& e) {
      add(e.what());
    }
  };
  const auto tlsFiles = [&](const std::string& what, const auto& tls) {
    std::optional<Poco::Crypto::X509Certificate> certificate;
    std::optional<Poco::Crypto::EVPPKey> key;
    attempt(tls.certificateLine, what + " certificate",
            [&] { certificate.emplace(tls.certificateFile.string()); });
    attempt(tls.privateKeyLine, what + " key", [&] {
      key.emplace(mllp::loadPrivateKey(
          tls.privateKeyFile.string(),
          tls.privateKeyPassphrase ? std::string(tls.privateKeyPassphrase->reveal()) : std::string()));
    });
    // Each readable, and still no pair: the start would fail ("key values mismatch").
    if (certificate && key) {
      attempt(tls.privateKeyLine, what + " key", [&] {
        if (X509_check_private_key(certificate->certificate(), static_cast<const EVP_PKEY*>(*key)) != 1) {
          ERR_clear_error();
          throw std::runtime_error(tls.privateKeyFile.string() + " is not the private key of " +
                                   tls.certificateFile.string() +
                                   " (the certificate's public key is another)");
        }
      });
    }
  };
  plugin::PluginRegistry plugins(pluginDirectories());
  const mapping::MappingLoader loader(xerces);
  for (const auto& feed : config.feeds) {
    const std::string name = "feed " + feed.name;
    if (feed.listener.tls) tlsFiles(name + ": listener TLS", *feed.listener.tls);
    if (!feed.check) continue;
    if (feed.mappingFile) {
      attempt(feed.mappingLine, name + ": mapping",
              [&] { (void)loadMappingFor(config, loader, *feed.mappingFile); });
    }
    if (const auto& adapter = feed.adapter) {
      attempt(adapter->line, name + ": adapter " + adapter->name,
              [&] { (void)adapterPluginFor(plugins, *adapter); });
    }
  }
  for (const auto& sink : config.notify.sinks) {
    attempt(sink.line, "notification sink " + sink.name, [&] {
      const plugin::PluginLibrary& library =
          plugins.named(plugin::PluginKind::Sink, sink.plugin, sink.library);
      (void)plugin::SinkPlugin::create(library, plugin::PluginSettings(sink.settings.begin(), sink.settings.end()));
    });
  }
  if (config.cpis && config.cpis->clientTls) tlsFiles("cpis: client TLS", *config.cpis->clientTls);
  return problems;
}

const pipeline::CheckStages* Checks::stagesFor(const std::string& feed) const {
  const auto it = feeds_.find(feed);
  return it == feeds_.end() ? nullptr : it->second->stages.get();
}

std::map<std::string, notify::RecheckFeed, std::less<>> Checks::recheckFeeds() const {
  std::map<std::string, notify::RecheckFeed, std::less<>> out;
  for (const auto& [name, feed] : feeds_) {
    const pipeline::Checker* checker = feed->checker.get();
    const pipeline::Responder* responder = feed->responder.get();
    const pipeline::Decider* decider = feed->decider.get();
    notify::RecheckFeed recheck;
    recheck.check = [checker](const domain::Attendance& attendance, std::string_view checkId,
                              bool earlierMayHaveArrived) {
      return checker->check(
          pipeline::CheckRequest{attendance,
                                 domain::AccessMode::Unscheduled,
                                 checkId.empty() ? pipeline::newCheckId() : std::string(checkId),
                                 {},
                                 std::nullopt,
                                 earlierMayHaveArrived,
                                 true});
    };
    recheck.charsetWhenUnstated = feed->charsetWhenUnstated;
    recheck.appendAlerts = [responder](std::string& message, const domain::CheckOutcome& outcome) {
      responder->appendTo(message, outcome);
    };
    recheck.cancelled = [decider](const domain::Attendance& attendance) { return decider->cancelled(attendance); };
    recheck.mergedInto = [decider](const domain::Attendance& attendance, domain::Instant since) {
      return decider->mergedInto(attendance, since);
    };
    recheck.superseded = [decider](const domain::Attendance& attendance, domain::Instant since) {
      return decider->supersededSince(attendance, since);
    };
    recheck.movedTo = [decider](const domain::Attendance& attendance, domain::Instant since) {
      return decider->movedTo(attendance, since);
    };
    out.emplace(name, std::move(recheck));
  }
  return out;
}

void Checks::stop() {
  if (work_) work_->stop();
}

void Checks::flushAudit() {
  if (!audit_) return;
  if (auto status = audit_->flush(); !status.isOk()) logger().error(status.message());
}

}  // namespace cpis::app
