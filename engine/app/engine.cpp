#include "engine/app/engine.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include <Poco/Logger.h>

#include "engine/mllp/mllp_server.h"
#include "engine/app/checks.h"
#include "engine/notify/builtin_sinks.h"
#include "engine/notify/composer.h"
#include "engine/notify/dispatcher.h"
#include "engine/plugin/plugin_registry.h"
#include "engine/plugin/sink_plugin.h"
#include "engine/pipeline/ack_stamper.h"
#include "engine/pipeline/intake.h"
#include "engine/pipeline/return_channel.h"
#include "engine/store/postgres_message_store.h"
#include "engine/store/sqlite_message_store.h"

namespace cpis::app {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.engine");
}

// How often housekeeping looks for message content past its retention.
constexpr auto kPurgeInterval = std::chrono::hours(1);
// Unfinished messages of stopped instances taken over per round (a shared store).
constexpr std::size_t kTakeOverBatch = 100;

mllp::ListenerSettings listenerSettings(const config::FeedConfig& feed, const config::Limits& limits) {
  mllp::ListenerSettings s;
  s.name = feed.name;
  s.address = feed.listener.address;
  s.port = feed.listener.port;
  s.maxFrameBytes = limits.maxMessageBytes;
  s.readTimeout = limits.readTimeout;
  s.idleTimeout = limits.idleTimeout;
  s.maxConnections = static_cast<int>(limits.maxConnectionsPerListener);
  if (const auto& tls = feed.listener.tls) {
    mllp::TlsSettings t;
    t.certificateFile = tls->certificateFile.string();
    t.privateKeyFile = tls->privateKeyFile.string();
    if (tls->privateKeyPassphrase) t.privateKeyPassphrase = std::string(tls->privateKeyPassphrase->reveal());
    if (tls->caFile) t.caFile = tls->caFile->string();
    t.requireClientCertificate = tls->requireClientCertificate;
    t.tls13Only = tls->minimumVersion == config::TlsVersion::Tls13;
    t.allowedSubjects = tls->allowedClientSubjects;
    s.tls = std::move(t);
  }
  return s;
}

notify::ComposerSettings composerSettings(const config::EngineConfig& config) {
  notify::ComposerSettings settings;
  for (const auto& sink : config.notify.sinks) {
    notify::SinkRoute route;
    route.name = sink.name;
    route.events.insert(sink.events.begin(), sink.events.end());
    route.data = notify::parseDataLevel(sink.data).value_or(notify::DataLevel::Minimal);
    route.ordered = sink.ordered;
    settings.sinks.push_back(std::move(route));
  }
  settings.deferredChecks = config.notify.deferredChecks && config.cpis.has_value();
  settings.deferredCheckDelay = config.notify.backoffMin;
  settings.deferredCheckDeadline = config.notify.deferredCheckDeadline;
  settings.deliveryDeadline = config.notify.deliveryDeadline;
  for (const auto& feed : config.feeds) {
    if (feed.returnConnection && feed.check) settings.feedsWithReturn.insert(feed.name);
  }
  return settings;
}

}  // namespace

struct Engine::Feed {
  config::FeedConfig config;
  std::unique_ptr<pipeline::ReturnChannel> returnChannel;
  std::unique_ptr<pipeline::Intake> intake;
  std::unique_ptr<mllp::MllpServer> server;
};

Engine::Engine(config::EngineConfig config) : config_(std::move(config)) {}

Engine::~Engine() {
  stop();
}

void Engine::openStore() {
  if (const auto& pg = config_.store.postgresql) {
    store::PostgresStoreOptions options;
    options.duplicateWindow = config_.store.duplicateWindow;
    options.maxBatchSize = config_.store.groupCommit ? options.maxBatchSize : 1;
    if (pg->password) options.password = std::string(pg->password->reveal());
    options.instance = pg->instance;
    options.claimLease = pg->claimLease;
    auto opened = store::PostgresMessageStore::open(pg->connection, options);
    if (!opened) throw std::runtime_error(opened.error().message());
    logger().information("message store: PostgreSQL, instance %s", opened.value()->instance());
    store_ = std::move(opened).value();
    return;
  }
  store::SqliteStoreOptions options;
  options.duplicateWindow = config_.store.duplicateWindow;
  options.maxBatchSize = config_.store.groupCommit ? options.maxBatchSize : 1;
  // The store's folder is created on first start (the demo keeps it in ./var).
  std::error_code ec;
  std::filesystem::create_directories(config_.store.sqlitePath.parent_path(), ec);
  auto opened = store::SqliteMessageStore::open(config_.store.sqlitePath.string(), options);
  if (!opened) throw std::runtime_error(opened.error().message());
  store_ = std::move(opened).value();
  // A new store is created for its owner only; one from before (or copied in) may not be.
  const auto permissions = std::filesystem::status(config_.store.sqlitePath, ec).permissions();
  using std::filesystem::perms;
  if (!ec && (permissions & (perms::group_all | perms::others_all)) != perms::none) {
    logger().warning(
        "message store %s can be read or written by other users: it holds patient data; "
        "chmod 600 it, and its -wal and -shm files",
        config_.store.sqlitePath.string());
  }
}

void Engine::start() {
  openStore();
  stamper_ = std::make_unique<pipeline::AckStamper>();
  composer_ = std::make_unique<notify::Composer>(composerSettings(config_));
  checks_ = std::make_unique<Checks>(config_, store_.get(), composer_.get(), [this](const notify::Notifications& written) {
    // Only the sinks written to, and of those only the ones whose entries were not written
    // claimed for the dispatcher (it registers with the store's outbox when it starts: entries
    // due at once without an order key reach it from the write itself, with no claim query).
    if (auto* dispatcher = running_.load()) dispatcher->wakeFor(written);
  });

  for (const auto& feedConfig : config_.feeds) {
    auto feed = std::make_unique<Feed>();
    feed->config = feedConfig;
    Feed* raw = feed.get();
    if (const auto& back = feedConfig.returnConnection) {
      pipeline::ReturnChannelSettings settings;
      settings.feed = feedConfig.name;
      settings.host = back->host;
      settings.port = back->port;
      settings.ackTimeout = config_.limits.readTimeout;
      settings.maxQueued = back->maxWaiting;
      feed->returnChannel = std::make_unique<pipeline::ReturnChannel>(
          settings, [raw](const pipeline::ApplicationAck& ack, const std::string& answer) {
            if (auto status = raw->intake->applicationAckDelivered(ack, answer); !status.isOk()) {
              logger().error("feed %s: application ACK of message %s delivered but not recorded (%s)",
                             raw->config.name, std::to_string(ack.id), status.message());
            }
          });
    }
    pipeline::FeedPolicy policy;
    policy.feed = feedConfig.name;
    policy.expectedSendingApplication = feedConfig.expectedSendingApplication;
    policy.expectedSendingFacility = feedConfig.expectedSendingFacility;
    policy.enhancedMode = feedConfig.ackMode == config::AckMode::Enhanced;
    if (feedConfig.check) policy.ackDeadline = feedConfig.check->ackDeadline;
    policy.charsetWhenUnstated = Checks::charsetWhenUnstatedOf(feedConfig);
    feed->intake = std::make_unique<pipeline::Intake>(policy, *store_, *stamper_, feed->returnChannel.get(),
                                                      checks_->stagesFor(feedConfig.name));
    feeds_.push_back(std::move(feed));
  }

  // Every listener binds before anything acts (recovery's CP-IS checks, the dispatcher's
  // deliveries): a port in use stops the start with nothing done, rather than after queries
  // and notifications that a supervisor's restarts would repeat. Connections wait in the
  // backlog until the listeners start, after recovery.
  for (auto& feed : feeds_) {
    const config::ListenerConfig& listener = feed->config.listener;
    try {
      feed->server =
          std::make_unique<mllp::MllpServer>(listenerSettings(feed->config, config_.limits), *feed->intake);
    } catch (const Poco::Exception& e) {
      throw std::runtime_error("feed " + feed->config.name + ": listener " + listener.address + ":" +
                               std::to_string(listener.port) +
                               (listener.line != 0
                                    ? " (" + config_.source + ":" + std::to_string(listener.line) + ")"
                                    : std::string()) +
                               ": " + e.displayText());
    }
  }

  // Recovery: what was stored but not finished (and no other running instance owns) is
  // finished before anything new comes in.
  auto unfinished = store_->claimUnfinished(std::numeric_limits<std::size_t>::max());
  if (!unfinished)
    throw std::runtime_error("cannot list unfinished messages: " + unfinished.error().message());
  resumeClaimed(unfinished.value());
  startDispatcher();

  for (auto& feed : feeds_) {
    feed->server->start();
    logger().information(
        "feed %s: listening on %s:%hu%s%s", feed->config.name, feed->config.listener.address,
        feed->server->port(), std::string(feed->config.listener.tls ? " (TLS)" : ""),
        std::string(feed->config.check ? ""
                                       : "; no <check>: messages are stored and acknowledged "
                                         "without a CP-IS check or alerts"));
    if (feed->config.check && composer_->settings().deferredChecks && !feed->config.returnConnection &&
        !composer_->subscribed(notify::kPlanFound)) {
      logger().warning("feed %s: a deferred check's result reaches nobody: the feed has no <returnConnection> and "
                       "no <sink> takes plan-found, so a plan CP-IS finds after a failed check is only logged "
                       "(an ops alert); the failed check's ACK asks staff to check CP-IS by hand",
                       feed->config.name);
    }
  }
  started_ = true;
  housekeeper_ = std::thread([this] { housekeeping(); });
}

void Engine::startDispatcher() {
  const config::NotifyConfig& notifyConfig = config_.notify;
  notify::DispatcherOptions options;
  options.pollInterval = notifyConfig.poll;
  if (const auto lease = store_->claimLease()) {
    options.leaseRenewal = std::chrono::duration_cast<std::chrono::milliseconds>(*lease) / 3;
  }
  dispatcher_ = std::make_unique<notify::Dispatcher>(store_->outbox(), options);
  notify::SinkOptions standard;
  standard.maxAttempts = notifyConfig.maxAttempts;
  standard.backoffMin = notifyConfig.backoffMin;
  standard.backoffMax = notifyConfig.backoffMax;

  if (composer_->settings().deferredChecks && checks_->any()) {
    notify::SinkOptions recheck = standard;
    recheck.maxAttempts = 0;  // the deadline (deferredCheckHours) ends it
    recheck.concurrency = 2;
    auto feeds = checks_->recheckFeeds();
    for (auto& [name, recheckFeed] : feeds) {
      const auto feed = std::find_if(feeds_.begin(), feeds_.end(),
                                     [&feedName = name](const auto& f) { return f->config.name == feedName; });
      if (feed == feeds_.end() || !(*feed)->intake) continue;
      // The answer is remembered for the attendance, as the intake's own checks are. (The
      // dispatcher stops before the intakes go.)
      recheckFeed.answered = [intake = (*feed)->intake.get()](const domain::Attendance& attendance,
                                                              const domain::CheckOutcome& outcome,
                                                              std::string_view failedCheckId,
                                                              domain::Instant failedAt) {
        intake->deferredCheckAnswered(attendance, outcome, failedCheckId, failedAt);
      };
    }
    dispatcher_->addSink(std::string(notify::kRecheckSink),
                         std::make_unique<notify::RecheckSink>(*store_, *composer_, std::move(feeds)), recheck);
  }
  for (const auto& feed : config_.feeds) {
    if (!feed.returnConnection || !feed.check) continue;
    notify::ReturnSinkSettings settings;
    settings.feed = feed.name;
    settings.host = feed.returnConnection->host;
    settings.port = feed.returnConnection->port;
    settings.ackTimeout = config_.limits.readTimeout;
    // Application ACKs and late results carry the CP-IS alerts: tried until the EPR takes them
    // (or refuses one: dead-lettered for a person), however long its listener is away.
    notify::SinkOptions untiring = standard;
    untiring.maxAttempts = 0;
    dispatcher_->addSink(notify::returnSinkName(feed.name), std::make_unique<notify::ReturnSink>(settings), untiring);
  }
  for (const auto& sink : notifyConfig.sinks) {
    const plugin::PluginLibrary& library =
        checks_->plugins().named(plugin::PluginKind::Sink, sink.plugin, sink.library);
    plugin::PluginSettings settings(sink.settings.begin(), sink.settings.end());
    notify::SinkOptions sinkOptions = standard;
    sinkOptions.concurrency = sink.concurrency;
    if (sink.maxAttempts) sinkOptions.maxAttempts = *sink.maxAttempts;
    sinkOptions.retryWindow = notifyConfig.deliveryDeadline;  // entries written without a deadline
    dispatcher_->addSink(sink.name, std::make_unique<notify::PluginSink>(plugin::SinkPlugin::create(library, settings)),
                         sinkOptions);
    logger().information("notification sink %s: plugin %s, %s data", sink.name, library.name(), sink.data);
  }
  dispatcher_->start();
  running_.store(dispatcher_.get());
}

store::Outbox& Engine::outbox() {
  return store_->outbox();
}

void Engine::resumeClaimed(const std::vector<std::int64_t>& ids) {
  std::size_t resumed = 0;
  // A shared store: each resume may be a CP-IS check of up to the lookup's whole time-out, and
  // a recovery or take-over of many messages outlasts the lease. This instance's claims (these
  // messages and those its listeners are checking) are renewed every third of the lease as it
  // goes: a claim left to run out would let another instance take the message over and check
  // the child again (a second access recorded, the LA told twice).
  const auto lease = store_->claimLease();
  auto renewed = std::chrono::steady_clock::now();
  for (const auto id : ids) {
    if (lease && std::chrono::steady_clock::now() - renewed >= *lease / 3) {
      if (auto status = store_->renewClaims(); !status) {
        logger().error("claims not renewed: %s; the rest of the unfinished messages are left for a later round",
                       status.error().message());
        return;
      }
      renewed = std::chrono::steady_clock::now();
    }
    auto message = store_->fetch(id);
    if (!message) {
      logger().warning("message %s left unfinished: it cannot be read (%s)", std::to_string(id),
                       message.error().message());
      continue;
    }
    const auto feed = std::find_if(feeds_.begin(), feeds_.end(),
                                   [&](const auto& f) { return f->config.name == message.value().feed; });
    if (feed == feeds_.end()) {
      logger().warning("message %s belongs to feed %s, which is no longer configured; left unfinished",
                       std::to_string(id), message.value().feed);
      continue;
    }
    if (const auto status = (*feed)->intake->resume(id); status.isOk()) {
      ++resumed;
    } else {
      logger().warning("message %s left unfinished: %s", std::to_string(id), status.message());
    }
  }
  if (resumed > 0) {
    logger().notice("finished %z unfinished messages left by a previous run or a stopped instance", resumed);
  }
}

void Engine::housekeeping() {
  // A store shared with other instances (PostgreSQL): every third of the lease, renew this
  // instance's claims and take over the unfinished work of instances whose leases ran out.
  const auto lease = store_->claimLease();
  const auto tick = lease ? std::chrono::duration_cast<std::chrono::milliseconds>(*lease) / 3
                          : std::chrono::duration_cast<std::chrono::milliseconds>(kPurgeInterval);
  auto nextPurge = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    if (lease) {
      if (auto renewed = store_->renewClaims(); !renewed) {
        logger().error("claims not renewed: %s", renewed.error().message());
      }
      if (auto taken = store_->claimUnfinished(kTakeOverBatch); !taken) {
        logger().error("cannot take over unfinished messages: %s", taken.error().message());
      } else {
        resumeClaimed(taken.value());
      }
    }
    if (std::chrono::steady_clock::now() >= nextPurge) {
      nextPurge = std::chrono::steady_clock::now() + kPurgeInterval;
      if (auto purged = store_->purgeContent(config_.store.retention); !purged) {
        logger().error("retention purge failed: %s", purged.error().message());
      } else if (purged.value() > 0) {
        logger().information("retention: content of %z messages and notifications purged; their records stay",
                             purged.value());
      }
    }
    lock.lock();
    wake_.wait_for(lock, tick, [&] { return stopping_; });
  }
}

void Engine::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  // Every listener stops accepting first, then each is waited for: one at a time, the later
  // ones took new messages (and started checks) while an earlier one drained, and the stop
  // took a read time-out per feed.
  for (auto& feed : feeds_) {
    if (feed->server) feed->server->stopAccepting(config_.limits.readTimeout);
  }
  for (auto& feed : feeds_) {
    if (feed->server) feed->server->stop(config_.limits.readTimeout);
  }
  if (checks_) checks_->stop();  // lookups in progress finish their messages (their ACKs queued)
  for (auto& feed : feeds_) {
    if (feed->returnChannel) feed->returnChannel->stop();
  }
  running_.store(nullptr);
  if (dispatcher_) dispatcher_->stop();  // deliveries in flight finish and are marked
  if (housekeeper_.joinable()) housekeeper_.join();
  if (checks_) checks_->flushAudit();  // written through the store, when it is SQLite
  if (store_) store_->close();
  if (started_) logger().information("stopped; every acknowledged message is stored");
}

std::vector<Engine::ListenerInfo> Engine::listeners() const {
  std::vector<ListenerInfo> out;
  for (const auto& feed : feeds_) {
    if (feed->server) {
      out.push_back({feed->config.name, feed->config.listener.address, feed->server->port(),
                     feed->config.listener.tls.has_value()});
    }
  }
  return out;
}

}  // namespace cpis::app
