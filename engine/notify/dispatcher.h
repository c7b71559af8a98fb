#pragma once

// The dispatcher (ARCHITECTURE.md stage 8, CPIS.md §7): delivers what the outbox holds, at
// least once, to the sinks configured for it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/notify/composer.h"
#include "engine/plugin/sink_plugin.h"
#include "engine/store/outbox.h"

namespace cpis::notify {

// Where one sink's notifications go. deliver() may run on several threads at once (the sink's
// concurrency); it must not throw (the dispatcher treats an exception as a Retry) and its
// texts carry no patient data.
class Sink {
 public:
  virtual ~Sink() = default;
  // Delivered: done; `followUps` (which it may fill) are written in the same transaction that
  // marks the entry delivered. Retry: tried again with back-off. Failed: dead-lettered.
  virtual plugin::DeliveryResult deliver(const store::OutboxEntry& entry, Notifications& followUps) = 0;
  // The entry is being given up (attempts or deadline exhausted, or Failed): notifications to
  // write before it is marked dead (e.g. the incident of a deferred check that never worked).
  virtual Notifications onDead(const store::OutboxEntry& /*entry*/) { return {}; }
};

// A sink plugin (plugins/sink_*): the payload's JSON members become its notification fields.
// A payload that is not a JSON object is Failed (it would never become deliverable).
class PluginSink final : public Sink {
 public:
  explicit PluginSink(std::unique_ptr<plugin::SinkPlugin> plugin);
  plugin::DeliveryResult deliver(const store::OutboxEntry& entry, Notifications& followUps) override;

 private:
  std::unique_ptr<plugin::SinkPlugin> plugin_;
};

// How hard the dispatcher tries one sink.
struct SinkOptions {
  std::size_t concurrency = 1;    // deliveries in flight at once
  std::uint32_t maxAttempts = 10;  // 0: no limit (the entry's deadline alone ends it)
  // Back-off after the n-th failed attempt: random in [backoffMin, min(backoffMax, backoffMin·2^(n-1))]
  // ("full jitter" above the minimum, so that a sink coming back is not hit by every entry at once).
  std::chrono::milliseconds backoffMin{1'000};
  std::chrono::milliseconds backoffMax{300'000};
  // For an entry written without a deadline (before deliveryHours existed, or replayed from
  // then): retries end this long after it was written, as a deadline would end them, so that
  // without an attempt limit it is not retried for ever. Unset: no such end.
  std::optional<std::chrono::milliseconds> retryWindow;
};

struct DispatcherOptions {
  // How often each sink looks for due entries without being woken: entries replayed by
  // cpis-admin, left by an instance that stopped, or whose back-off ended.
  std::chrono::milliseconds pollInterval{5'000};
  // How often the leases of entries being delivered are renewed (a shared store).
  std::chrono::milliseconds leaseRenewal{20'000};
  // The time that nextAttemptAt, back-off and deadlines are measured in.
  std::function<store::TimePoint()> clock = [] { return std::chrono::system_clock::now(); };
  // A number in [0, 1) for the jitter; default: a random generator.
  std::function<double()> random;
  // While running, the dispatcher takes the entries the store writes for its sinks already
  // claimed (store::ClaimReceiver: due at once, no order key), with no claim query.
  bool preClaim = true;
  // ... unless a sink holds this many entries in memory already (a sink that is down or slow):
  // new ones are then written unclaimed and claimed from the store as slots free.
  std::size_t preClaimBacklog = 1'000;
};

struct DispatcherStats {
  std::uint64_t delivered = 0, retried = 0, dead = 0, storeErrors = 0;
};

// Delivers the outbox's entries to the sinks added before start(): per sink, up to its
// concurrency at once, each entry claimed from the store (a lease when the store is shared),
// delivered, and marked delivered (with its follow-ups), retried after back-off, or dead.
// Entries sharing an order key go one at a time, oldest first (the store's claim rule,
// enforced here too). An entry past its deadline, or out of attempts, is dead-lettered and an
// ops alert is logged (ids, sink, kind, reason: never the payload).
//
// wake() (new work written by this process) makes a sink look at once; otherwise each sink
// looks again when its next entry is due or after pollInterval, whichever comes first.
//
// Entries written while it runs (DispatcherOptions::preClaim) come already claimed from the
// store's writes (Outbox::setClaimReceiver, registered by start() and withdrawn by stop()):
// adopt() queues them like claimed ones, and wakeFor() does not wake their sinks.
//
// stop() claims nothing more, lets the workers finish the deliveries under way (each marked)
// and joins; the entries still waiting for a worker go back to the store untried
// (Outbox::release), claimable again at once by a new dispatcher or another instance; those
// handed over while it stops are not taken (the store keeps them for its next receiver). (Delivering them
// first would make a stop with a sink down wait out a time-out per entry, and a sink holds up to
// preClaimBacklog.) An entry claimed but not yet marked when the process dies stays pending in the store; its
// lease (shared store) or the next start returns it. An outcome the store fails to record (a failed commit, a
// full disk) is written again with back-off until it is, is refused, or stop() comes: dropped, the entry
// stays claimed until the store reopens (SQLite) or its lease runs out (PostgreSQL: leases are renewed only
// for the entries this dispatcher holds).
class Dispatcher final : public store::ClaimReceiver {
 public:
  Dispatcher(store::Outbox& outbox, DispatcherOptions options = {});
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Before start(). `sink` must outlive the dispatcher.
  void addSink(std::string name, Sink& sink, SinkOptions options = {});
  void addSink(std::string name, std::unique_ptr<Sink> sink, SinkOptions options = {});
  bool hasSink(std::string_view name) const;

  void start();
  void stop();  // idempotent
  // New entries for `sink` (all sinks when empty) were written: look now.
  void wake(std::string_view sink = {});
  // New entries were written: the sinks they are for look now (the others sleep on, and so do
  // those that took them written claimed).
  void wakeFor(const Notifications& written);

  // store::ClaimReceiver: a sink of this dispatcher, while it runs and holds fewer than
  // preClaimBacklog entries.
  bool wantsClaimed(std::string_view sink) override;
  // Entries claimed for this instance (written claimed, or claimed elsewhere): queued for their
  // sinks' workers, as claimed ones. An unknown sink's are not taken: they stay claimed until
  // the store reopens (SQLite) or their lease runs out (PostgreSQL); once stop() has begun, none
  // is taken (the store keeps them for the next receiver).
  std::vector<store::OutboxEntry> adopt(std::vector<store::OutboxEntry> entries) override;

  DispatcherStats stats() const;
  // The back-off after `attempts` failed attempts, before jitter is applied: the upper bound.
  static std::chrono::milliseconds backoffCap(const SinkOptions& options, std::uint32_t attempts);

 private:
  struct Runner;
  void claimLoop(Runner& runner);
  void workLoop(Runner& runner);
  void renewLoop();
  // True when the entry is settled (delivered or dead-lettered, and recorded as such).
  bool handle(Runner& runner, const store::OutboxEntry& entry);
  // Dead-letters `entry` (its follow-ups first); false when the store did not record it.
  bool giveUp(Runner& runner, const store::OutboxEntry& entry, const std::string& reason);
  // Logs a failed attempt that is tried again, on its 1st, 10th, 100th... (see the definition).
  void reportRetry(const Runner& runner, const store::OutboxEntry& entry, std::uint32_t attempts,
                   const std::string& reason, std::chrono::milliseconds wait) const;
  void writeFollowUps(const Notifications& followUps);
  // Runs `mark` (an outcome for the store) until the store records it, refuses it for good, or
  // the dispatcher stops: an entry whose outcome is not recorded stays claimed in the store
  // (SQLite: until it reopens; PostgreSQL: until its lease, no longer renewed once the entry
  // leaves this dispatcher, runs out), and no claim of this instance returns it before then.
  core::Status record(const std::function<core::Status()>& mark);
  // record() of a mark that finishes entry `id` (delivered or dead): when an attempt was retried
  // after the store answered "unavailable", the first may have committed with its answer lost
  // (a connection dropped after COMMIT), and the retry is refused as already finished; the entry
  // in `finished` state is then the mark done, not an error.
  core::Status recordFinish(store::NotificationId id, store::NotificationState finished,
                            const std::function<core::Status()>& mark);
  std::chrono::milliseconds backoff(const SinkOptions& options, std::uint32_t attempts);
  // Gives claimed entries nobody tried back to the store (stop()); a failure is logged, and
  // they stay claimed until the store reopens (SQLite) or their lease runs out (PostgreSQL).
  void releaseUntried(std::span<const store::NotificationId> ids);

  store::Outbox& outbox_;
  DispatcherOptions options_;
  std::map<std::string, std::unique_ptr<Runner>, std::less<>> runners_;
  std::vector<std::unique_ptr<Sink>> owned_;
  std::mutex randomMutex_;
  std::uint64_t randomState_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
  std::atomic<bool> accepting_{false};  // running: wantsClaimed may say yes
  bool preClaiming_ = false;            // the outbox writes entries claimed for it
  std::mutex pauseMutex_;  // record()'s pauses, cut short by stop()
  std::condition_variable pauseWake_;
  std::mutex renewMutex_;
  std::condition_variable renewWake_;
  std::thread renewer_;
  std::atomic<std::size_t> inFlight_{0};
  mutable std::mutex statsMutex_;
  DispatcherStats stats_;
};

}  // namespace cpis::notify
