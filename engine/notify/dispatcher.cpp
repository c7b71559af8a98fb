#include "engine/notify/dispatcher.h"

#include <algorithm>
#include <deque>
#include <exception>
#include <iterator>
#include <random>
#include <set>

#include <Poco/Logger.h>

#include "engine/core/assert.h"
#include "engine/core/power_of_ten.h"
#include "engine/core/retry.h"

namespace cpis::notify {
namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.notify");
}

constexpr std::chrono::milliseconds kMinimumWait{1};

}  // namespace

// ---- PluginSink --------------------------------------------------------------------------------

PluginSink::PluginSink(std::unique_ptr<plugin::SinkPlugin> plugin) : plugin_(std::move(plugin)) {}

plugin::DeliveryResult PluginSink::deliver(const store::OutboxEntry& entry, Notifications& /*followUps*/) {
  const auto fields = payloadFields(entry.payload);
  if (!fields) {
    return plugin::DeliveryResult{plugin::DeliveryResult::Kind::Failed, "the payload is not a JSON object"};
  }
  plugin::NotificationFields notification;
  for (const auto& [key, value] : *fields) {
    if (std::find(std::begin(kBuiltinOnlyKeys), std::end(kBuiltinOnlyKeys), key) !=
        std::end(kBuiltinOnlyKeys)) {
      continue;  // the built-in sinks' own
    }
    notification.insert_or_assign(key, value);
  }
  // The entry's own values win: the key the store de-duplicates on is the one the receiver sees.
  notification.insert_or_assign(std::string(kKeyKind), entry.kind);
  notification.insert_or_assign(std::string(kKeyIdempotencyKey), entry.idempotencyKey);
  return plugin_->deliver(notification);
}

// ---- Dispatcher ----------------------------------------------------------------------------------

struct Dispatcher::Runner {
  std::string name;
  Sink* sink = nullptr;
  SinkOptions options;
  std::mutex mutex;
  std::condition_variable claimWake;  // the claimer: new work, a slot freed, stop
  std::condition_variable workWake;   // the workers: an entry is ready, stop
  bool woken = false;
  bool lastClaimFull = false;  // the last claim took as many as there were free slots
  bool claimerDone = false;
  // wantsClaimed said no (too many held): entries went to the store unclaimed, unwoken; a
  // finished delivery makes the claimer look.
  bool preClaimRefused = false;
  std::deque<store::OutboxEntry> ready;
  // Claimed again while this runner was still finishing the entry itself (marked for a retry)
  // or one of its order key (already marked in the store): delivered once that is done.
  std::deque<store::OutboxEntry> blocked;
  std::set<store::NotificationId> held;  // in ready or being delivered
  std::set<std::string> heldKeys;        // their order keys
  std::thread claimer;
  std::vector<std::thread> workers;

  // (mutex held) Whether the entry, or another of its order key, is held already.
  bool busyWith(const store::OutboxEntry& entry) const {
    return held.count(entry.id) != 0 || (!entry.orderKey.empty() && heldKeys.count(entry.orderKey) != 0);
  }
  // (mutex held) Held and ready for a worker.
  void hold(store::OutboxEntry entry) {
    held.insert(entry.id);
    if (!entry.orderKey.empty()) heldKeys.insert(entry.orderKey);
    ready.push_back(std::move(entry));
  }
  // (mutex held) A claimed or adopted entry: ready, or blocked while it (or its order key) is
  // held. Never one entry twice at once, nor two of one order key: it waits its turn.
  void place(store::OutboxEntry entry) {
    if (busyWith(entry)) {
      blocked.push_back(std::move(entry));
    } else {
      hold(std::move(entry));
    }
  }
};

Dispatcher::Dispatcher(store::Outbox& outbox, DispatcherOptions options)
    : outbox_(outbox), options_(std::move(options)), randomState_(std::random_device{}()) {
  randomState_ = (randomState_ << 32) ^ std::random_device{}();
}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::addSink(std::string name, Sink& sink, SinkOptions options) {
  CPIS_ASSERT(!started_);
  auto runner = std::make_unique<Runner>();
  runner->name = name;
  runner->sink = &sink;
  options.concurrency = std::max<std::size_t>(options.concurrency, 1);
  options.backoffMax = std::max(options.backoffMax, options.backoffMin);
  runner->options = options;
  runners_.insert_or_assign(std::move(name), std::move(runner));
}

void Dispatcher::addSink(std::string name, std::unique_ptr<Sink> sink, SinkOptions options) {
  addSink(std::move(name), *sink, options);
  owned_.push_back(std::move(sink));
}

bool Dispatcher::hasSink(std::string_view name) const {
  return runners_.find(name) != runners_.end();
}

void Dispatcher::start() {
  if (started_) return;
  started_ = true;
  for (auto& [name, runner] : runners_) {
    Runner& r = *runner;
    for (std::size_t i = 0; i < r.options.concurrency; ++i) r.workers.emplace_back([this, &r] { workLoop(r); });
    r.claimer = std::thread([this, &r] { claimLoop(r); });
  }
  renewer_ = std::thread([this] { renewLoop(); });
  accepting_ = true;
  if (options_.preClaim && options_.preClaimBacklog > 0) preClaiming_ = outbox_.setClaimReceiver(this);
  logger().information("dispatcher started: %z sinks", runners_.size());
}

void Dispatcher::stop() {
  if (!started_ || stopping_.exchange(true)) return;
  accepting_ = false;
  {
    const std::lock_guard lock(pauseMutex_);
  }
  pauseWake_.notify_all();
  // Entries written claimed from now on are not handed over (a hand-over under way finishes).
  if (preClaiming_) outbox_.setClaimReceiver(nullptr);
  for (auto& [name, runner] : runners_) {
    {
      const std::lock_guard lock(runner->mutex);
      runner->woken = true;
    }
    runner->claimWake.notify_all();
  }
  // The workers finish the deliveries under way and take no more: the entries still waiting
  // for one are given back to the store, unattempted, rather than delivered now. With a sink
  // down, each would wait out its time-out, and a sink holds up to preClaimBacklog of them.
  std::vector<store::NotificationId> waiting;
  for (auto& [name, runner] : runners_) {
    if (runner->claimer.joinable()) runner->claimer.join();
    {
      const std::lock_guard lock(runner->mutex);
      runner->claimerDone = true;
      for (auto* queue : {&runner->ready, &runner->blocked}) {
        for (const auto& entry : *queue) waiting.push_back(entry.id);
        inFlight_ -= queue->size();
        queue->clear();
      }
    }
    runner->workWake.notify_all();
  }
  for (auto& [name, runner] : runners_) {
    for (auto& worker : runner->workers) {
      if (worker.joinable()) worker.join();
    }
  }
  releaseUntried(waiting);
  {
    const std::lock_guard lock(renewMutex_);
  }
  renewWake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  const auto s = stats();
  logger().information("dispatcher stopped: %s delivered, %s retried, %s dead-lettered", std::to_string(s.delivered),
                       std::to_string(s.retried), std::to_string(s.dead));
}

void Dispatcher::wake(std::string_view sink) {
  for (auto& [name, runner] : runners_) {
    if (!sink.empty() && name != sink) continue;
    {
      const std::lock_guard lock(runner->mutex);
      runner->woken = true;
    }
    runner->claimWake.notify_all();
  }
}

DispatcherStats Dispatcher::stats() const {
  const std::lock_guard lock(statsMutex_);
  return stats_;
}

std::chrono::milliseconds Dispatcher::backoffCap(const SinkOptions& options, std::uint32_t attempts) {
  const auto min = options.backoffMin;
  const auto max = std::max(options.backoffMax, min);
  if (attempts <= 1) return min;
  if (attempts > 40) return max;
  const double cap = static_cast<double>(min.count()) * static_cast<double>(std::uint64_t{1} << (attempts - 1));
  return cap >= static_cast<double>(max.count()) ? max : std::chrono::milliseconds(static_cast<std::int64_t>(cap));
}

std::chrono::milliseconds Dispatcher::backoff(const SinkOptions& options, std::uint32_t attempts) {
  const auto cap = backoffCap(options, attempts);
  const auto min = options.backoffMin;
  if (cap <= min) return min;
  double r = 0;
  if (options_.random) {
    r = std::clamp(options_.random(), 0.0, 1.0);
  } else {
    const std::lock_guard lock(randomMutex_);
    // splitmix64: enough for jitter, and no shared std::random state between threads
    std::uint64_t z = (randomState_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    r = static_cast<double>(z >> 11) / static_cast<double>(std::uint64_t{1} << 53);
  }
  return min + std::chrono::milliseconds(static_cast<std::int64_t>(r * static_cast<double>((cap - min).count())));
}

void Dispatcher::claimLoop(Runner& r) {
  pthread_setname_np(pthread_self(), ("notify-" + r.name).substr(0, 15).c_str());
  std::unique_lock lock(r.mutex);
  // When the next entry becomes due, from the last claim that found nothing due (max: none).
  store::TimePoint nextDueAt = store::TimePoint::max();
  while (!stopping_) {
    r.woken = false;
    const std::size_t busy = r.held.size() + r.blocked.size();
    const std::size_t free = r.options.concurrency - std::min(r.options.concurrency, busy);
    if (free > 0) r.preClaimRefused = false;  // this claim takes what was refused (or the next one)
    // Every slot busy: no claim now, but one is owed (we were woken for something, or started):
    // as after a full batch, the delivery that frees a slot wakes us (lastClaimFull) and we
    // claim then, rather than sleeping to the next poll with the wake-up spent.
    if (free == 0) r.lastClaimFull = true;
    lock.unlock();
    bool more = free == 0;  // a full batch, or no room for one: more may be due as soon as a slot frees
    bool claimedSome = false;
    std::chrono::milliseconds wait = options_.pollInterval;
    if (free > 0) {
      auto claimed = outbox_.claimDue(r.name, free, options_.clock());
      if (!claimed) {
        logger().error("sink %s: cannot claim notifications: %s", r.name, claimed.error().message());
        const std::lock_guard statsLock(statsMutex_);
        ++stats_.storeErrors;
      } else {
        more = claimed.value().size() >= free;
        claimedSome = !claimed.value().empty();
        std::size_t added = 0;
        {
          const std::lock_guard claimLock(r.mutex);
          r.lastClaimFull = more;
          for (auto& entry : claimed.value()) {
            ++added;
            r.place(std::move(entry));
          }
        }
        inFlight_ += added;
        if (added > 0) r.workWake.notify_all();
      }
    }
    if (!more) {
      // Sleep until the next entry is due, or the poll interval (a replay, another instance).
      // An entry due already is held (here or elsewhere): a finished delivery wakes us. When
      // this claim took something, nothing else was due: what becomes due later is what was
      // known at the last empty claim (a retry, a new entry not due yet, each wakes us and
      // claims nothing), so the outbox is not asked again on every notification.
      if (!claimedSome) {
        nextDueAt = store::TimePoint::max();
        if (auto next = outbox_.nextDue(r.name); next && next.value()) nextDueAt = *next.value();
      }
      if (nextDueAt != store::TimePoint::max()) {
        const auto until = std::chrono::duration_cast<std::chrono::milliseconds>(nextDueAt - options_.clock());
        if (until > std::chrono::milliseconds::zero()) wait = std::min(wait, until);
      }
    }
    lock.lock();
    if (stopping_) break;
    if (more) {
      // Claim again once a slot frees (a worker wakes us); wait no longer than a poll.
      r.claimWake.wait_for(lock, options_.pollInterval, [&] {
        return r.woken || stopping_ || r.held.size() + r.blocked.size() < r.options.concurrency;
      });
    } else {
      r.claimWake.wait_for(lock, std::max(wait, kMinimumWait), [&] { return r.woken || stopping_.load(); });
    }
  }
}

void Dispatcher::workLoop(Runner& r) {
  pthread_setname_np(pthread_self(), ("deliver-" + r.name).substr(0, 15).c_str());
  std::unique_lock lock(r.mutex);
  for (;;) {
    // Once stop() has begun, no entry is started: stop() gives those still waiting back.
    r.workWake.wait(lock, [&] { return r.claimerDone || (!r.ready.empty() && !stopping_); });
    if (r.claimerDone) return;
    store::OutboxEntry entry = std::move(r.ready.front());
    r.ready.pop_front();
    lock.unlock();
    bool settled = false;  // delivered or dead-lettered, and recorded
    try {
      settled = handle(r, entry);
    } catch (const std::exception& e) {  // a thread's top: the entry stays claimed, the store returns it
      logger().error("sink %s: notification %s not handled: %s", r.name, std::to_string(entry.id),
                     std::string(e.what()));
    } catch (...) {
      logger().error("sink %s: notification %s not handled", r.name, std::to_string(entry.id));
    }
    lock.lock();
    r.held.erase(entry.id);
    if (!entry.orderKey.empty()) r.heldKeys.erase(entry.orderKey);
    if (settled) {
      // A copy of this entry claimed while it was being delivered (a lease that lapsed while the
      // store could not renew it) is stale now that it is finished: delivered again, the
      // receiver would get it twice, and only the mark after would be refused.
      const auto stale =
          std::erase_if(r.blocked, [&](const store::OutboxEntry& e) { return e.id == entry.id; });
      inFlight_ -= stale;
    }
    for (auto it = r.blocked.begin(); it != r.blocked.end();) {
      if (r.busyWith(*it)) {
        ++it;
        continue;
      }
      r.hold(std::move(*it));
      it = r.blocked.erase(it);
      r.workWake.notify_one();
    }
    --inFlight_;
    // The claim loop looks again only when this may have made something claimable or due
    // sooner: a slot freed while due entries were left unclaimed, a successor of the same order
    // key, a retry's new time (or an entry whose state could not be recorded). Otherwise every
    // delivery would cost a claim and a next-due query that find nothing.
    if (!settled || !entry.orderKey.empty() || r.lastClaimFull || r.preClaimRefused) {
      r.woken = true;
      r.claimWake.notify_all();
    }
  }
}

bool Dispatcher::handle(Runner& r, const store::OutboxEntry& entry) {
  if (entry.deadline && options_.clock() >= *entry.deadline) {
    // Why its last attempt failed stays readable (SPINE_UNAVAILABLE, say): what the engineer
    // needs before a replay, which the dead letter's own text would otherwise replace.
    return giveUp(
        r, entry,
        "deadline passed before it could be delivered" +
            (entry.lastError.empty() ? std::string() : " (its last attempt: " + entry.lastError + ")"));
  }
  Notifications followUps;
  plugin::DeliveryResult result;
  try {
    result = r.sink->deliver(entry, followUps);
  } catch (...) {  // the Sink contract says never; it may work next time
    result = plugin::DeliveryResult{plugin::DeliveryResult::Kind::Retry, "an exception escaped the sink"};
    followUps.clear();
  }
  switch (result.kind) {
    case plugin::DeliveryResult::Kind::Delivered: {
      const auto written = views(followUps);
      if (auto status = recordFinish(entry.id, store::NotificationState::Delivered,
                                     [&] { return outbox_.markDelivered(entry.id, written); });
          !status.isOk()) {
        // Delivered but not recorded: it will be delivered again (at least once; the receiver
        // de-duplicates on the idempotency key).
        logger().error("sink %s: notification %s delivered but not marked: %s", r.name, std::to_string(entry.id),
                       status.message());
        const std::lock_guard lock(statsMutex_);
        ++stats_.storeErrors;
        return false;
      }
      {
        const std::lock_guard lock(statsMutex_);
        ++stats_.delivered;
      }
      wakeFor(followUps);
      return true;
    }
    case plugin::DeliveryResult::Kind::Failed: return giveUp(r, entry, "refused by the sink: " + result.text);
    case plugin::DeliveryResult::Kind::Retry: break;
  }
  const std::uint32_t attempts = entry.attempts + 1;
  if (r.options.maxAttempts != 0 && attempts >= r.options.maxAttempts) {
    return giveUp(r, entry, "no attempts left (" + std::to_string(attempts) + "): " + result.text);
  }
  const auto wait = backoff(r.options, attempts);
  const store::TimePoint next = options_.clock() + wait;
  std::optional<store::TimePoint> deadline = entry.deadline;
  if (!deadline && r.options.retryWindow) deadline = entry.createdAt + *r.options.retryWindow;
  if (deadline && next >= *deadline) {
    return giveUp(r, entry,
                  "deadline passed after " + std::to_string(attempts) + " attempts: " + result.text);
  }
  if (auto status = record([&] { return outbox_.markRetry(entry.id, next, result.text); }); !status.isOk()) {
    logger().error("sink %s: notification %s not rescheduled: %s", r.name, std::to_string(entry.id), status.message());
    const std::lock_guard lock(statsMutex_);
    ++stats_.storeErrors;
    return false;
  }
  reportRetry(r, entry, attempts, result.text, wait);
  const std::lock_guard lock(statsMutex_);
  ++stats_.retried;
  return false;
}

void Dispatcher::reportRetry(const Runner& r, const store::OutboxEntry& entry, std::uint32_t attempts,
                             const std::string& reason, std::chrono::milliseconds wait) const {
  // On a notification's 1st, 10th, 100th... failed attempt (ids and the sink's reason only, as
  // the dead-letter alert): a sink or EPR that is down shows in the log at once, not only when
  // something is dead-lettered. A CP-IS result the EPR has not taken is an ops alert from its
  // 10th: it is tried until the EPR takes it (no deadline ends it), while the ward may still
  // show CHECK_FAILED for a child with a plan.
  if (!core::isPowerOfTen(attempts)) return;
  const bool alert = entry.kind == kLateResult && attempts >= 10;
  logger().warning(
      "%ssink %s: notification %s (kind %s, message %s) not delivered after %s attempt%s: %s; next "
      "attempt in %s s (cpis-admin notifications show %s)",
      std::string(alert ? "OPS ALERT: " : ""), r.name, std::to_string(entry.id), entry.kind,
      entry.messageId ? std::to_string(*entry.messageId) : std::string("-"), std::to_string(attempts),
      std::string(attempts == 1 ? "" : "s"), reason,
      std::to_string(std::chrono::ceil<std::chrono::seconds>(wait).count()), std::to_string(entry.id));
}

bool Dispatcher::giveUp(Runner& r, const store::OutboxEntry& entry, const std::string& reason) {
  Notifications followUps;
  try {
    followUps = r.sink->onDead(entry);
  } catch (...) {
    logger().error("sink %s: notification %s: the sink failed to say what its end causes", r.name,
                   std::to_string(entry.id));
  }
  // The follow-ups first: written again after a crash, they are idempotent; lost, they are not.
  if (!followUps.empty()) {
    const auto written = views(followUps);
    if (auto status = record([&] { return outbox_.enqueue(written); }); !status.isOk()) {
      logger().error("sink %s: notification %s not dead-lettered: its follow-ups were not written: %s", r.name,
                     std::to_string(entry.id), status.message());
      const std::lock_guard lock(statsMutex_);
      ++stats_.storeErrors;
      return false;
    }
  }
  if (auto status = recordFinish(entry.id, store::NotificationState::Dead,
                                 [&] { return outbox_.markDead(entry.id, reason); });
      !status.isOk()) {
    logger().error("sink %s: notification %s not dead-lettered: %s", r.name, std::to_string(entry.id),
                   status.message());
    const std::lock_guard lock(statsMutex_);
    ++stats_.storeErrors;
    return false;
  }
  {
    const std::lock_guard lock(statsMutex_);
    ++stats_.dead;
  }
  // The ops alert (CPIS.md §7): ids and codes only, never the payload.
  logger().critical("OPS ALERT: notification %s dead-lettered: sink %s, kind %s, message %s, attempts %s: %s; "
                    "replay it with cpis-admin once the cause is fixed",
                    std::to_string(entry.id), r.name, entry.kind,
                    entry.messageId ? std::to_string(*entry.messageId) : std::string("-"),
                    std::to_string(entry.attempts + 1), reason);
  wakeFor(followUps);
  return true;
}

core::Status Dispatcher::record(const std::function<core::Status()>& mark) {
  return core::retryWhileUnavailable(
      core::RetryPolicy{}, mark,
      [this](std::chrono::milliseconds pause) {
        std::unique_lock lock(pauseMutex_);
        return !pauseWake_.wait_for(lock, pause, [&] { return stopping_.load(); });
      },
      [](const core::Status& status, std::chrono::milliseconds pause) {
        logger().warning("notification outcome not recorded, trying again in %s ms: %s",
                         std::to_string(pause.count()), status.message());
      });
}

core::Status Dispatcher::recordFinish(store::NotificationId id, store::NotificationState finished,
                                      const std::function<core::Status()>& mark) {
  bool retried = false;
  auto status = record([&] {
    auto attempt = mark();
    if (attempt.retryable()) retried = true;
    return attempt;
  });
  if (status.isOk() || !retried || status.code() != core::Status::Code::InvalidArgument) return status;
  if (const auto now = outbox_.get(id); now && now.value().state == finished) return core::Status::ok();
  return status;
}

void Dispatcher::wakeFor(const Notifications& written) {
  for (const auto& n : written) {
    // Written claimed and handed over already (or, refused for a backlog, claimed when a
    // delivery of the sink ends): nothing to look for.
    if (preClaiming_ && n.orderKey.empty() && !n.notBefore && hasSink(n.sink)) continue;
    wake(n.sink);
  }
}

bool Dispatcher::wantsClaimed(std::string_view sink) {
  if (!accepting_) return false;
  const auto it = runners_.find(sink);
  if (it == runners_.end()) return false;
  Runner& r = *it->second;
  const std::lock_guard lock(r.mutex);
  if (r.held.size() + r.blocked.size() >= options_.preClaimBacklog) {
    r.preClaimRefused = true;
    return false;
  }
  return true;
}

std::vector<store::OutboxEntry> Dispatcher::adopt(std::vector<store::OutboxEntry> entries) {
  std::vector<store::OutboxEntry> notTaken;
  for (auto& entry : entries) {
    const auto it = runners_.find(entry.sink);
    if (it == runners_.end()) {
      logger().warning("notification %s: handed over for sink %s, which this dispatcher does not serve",
                       std::to_string(entry.id), entry.sink);
      continue;
    }
    Runner& r = *it->second;
    {
      const std::lock_guard lock(r.mutex);
      if (!stopping_ && started_) {
        r.place(std::move(entry));
        ++inFlight_;
        r.workWake.notify_one();
        continue;
      }
    }
    notTaken.push_back(std::move(entry));  // stopping: its workers may be gone
  }
  return notTaken;
}

void Dispatcher::releaseUntried(std::span<const store::NotificationId> ids) {
  if (ids.empty()) return;
  if (auto released = outbox_.release(ids); !released) {
    // They stay claimed: on SQLite until the store opens again, on PostgreSQL until the lease
    // runs out. Nothing is lost either way.
    logger().error("%z notifications not given back to the store: %s", ids.size(), released.error().message());
  } else {
    logger().information("%z notifications given back to the store, untried", released.value());
  }
}

void Dispatcher::renewLoop() {
  std::unique_lock lock(renewMutex_);
  while (!stopping_) {
    renewWake_.wait_for(lock, options_.leaseRenewal, [&] { return stopping_.load(); });
    if (stopping_) break;
    if (inFlight_ == 0) continue;
    lock.unlock();
    // Only what this dispatcher holds: a claim it holds but does not know of (written claimed
    // by a commit whose answer was lost) lapses, and a claim returns the entry.
    std::vector<store::NotificationId> held;
    for (auto& [name, runner] : runners_) {
      const std::lock_guard runnerLock(runner->mutex);
      held.insert(held.end(), runner->held.begin(), runner->held.end());
      for (const auto& entry : runner->blocked) held.push_back(entry.id);
    }
    if (auto renewed = outbox_.renewClaims(held); !renewed) {
      logger().error("notification claims not renewed: %s", renewed.error().message());
    }
    lock.lock();
  }
}

}  // namespace cpis::notify
