#pragma once

// The transactional outbox (ARCHITECTURE.md stage 8, CPIS.md §7): notifications are written in
// the same transaction as the message state that causes them, and a dispatcher
// (engine/notify) delivers them at least once, with back-off, a dead-letter state and replay.
// No SQLite, libpq or POCO in this header.

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/core/status.h"

namespace cpis::store {

using MessageId = std::int64_t;
using NotificationId = std::int64_t;
using TimePoint = std::chrono::system_clock::time_point;

// A notification to write. The views need only stay valid for the call.
struct NewNotification {
  // The configured sink that delivers it (engine/notify names the built-in ones, e.g. the
  // background CP-IS re-check and a feed's return channel).
  std::string_view sink;
  // What happened: "plan-found", "check-failed", "deferred-check", "late-result", "cancelled"
  // (engine/notify/notification.h lists them).
  std::string_view kind;
  // CPIS.md §7: {kind}:{feed}:{visitNumber}:{checkSeq}. Unique per sink: writing the same
  // (sink, idempotencyKey) again writes nothing (not an error), so a replayed attendance cannot
  // queue a second notification.
  std::string_view idempotencyKey;
  // Notifications of one sink with the same non-empty order key are delivered one at a time,
  // oldest first (e.g. per patient); empty: no order promised.
  std::string_view orderKey;
  // The notification's fields, a JSON object (engine/notify builds it). It may hold patient
  // data: like the raw message it belongs to the store, never to a log.
  std::string_view payload;
  std::optional<TimePoint> notBefore;  // first attempt not before this; empty: at once
  std::optional<TimePoint> deadline;   // not delivered by then: dead-lettered; empty: no deadline
  // The message that caused it, if any. Empty in MessageStore::finish or a Completion: that
  // message; in markDelivered's follow-ups: the delivered entry's message.
  std::optional<MessageId> messageId;
};

enum class NotificationState : std::uint8_t { Pending, Delivered, Dead };

constexpr std::string_view toString(NotificationState state) {
  switch (state) {
    case NotificationState::Pending: return "pending";
    case NotificationState::Delivered: return "delivered";
    case NotificationState::Dead: return "dead";
  }
  return "unknown";
}
inline std::ostream& operator<<(std::ostream& os, NotificationState state) { return os << toString(state); }

struct OutboxEntry {
  NotificationId id{};
  std::optional<MessageId> messageId;
  std::string sink, kind, idempotencyKey, orderKey, payload;
  NotificationState state{NotificationState::Pending};
  std::uint32_t attempts{};  // deliveries tried so far
  TimePoint createdAt;
  TimePoint nextAttemptAt;   // pending: not tried again before this
  std::optional<TimePoint> deadline;
  std::optional<TimePoint> finishedAt;  // delivered or dead-lettered
  std::string lastError;  // the sink's last reason (masked: no patient data)
};

struct OutboxFilter {
  std::optional<NotificationState> state;
  std::optional<std::string> sink;
  std::optional<std::string> kind;
  std::size_t limit{100};  // newest first
  std::optional<MessageId> messageId{};  // the entries a message caused
};

struct OutboxCounts {
  std::uint64_t pending{}, delivered{}, dead{};
};

// Who takes the entries a store writes already claimed (Outbox::setClaimReceiver): the
// dispatcher of this instance. An entry due at once (no notBefore) and without an order key,
// for a sink wantsClaimed() accepts, is written claimed for this instance in the transaction
// that writes it (PostgreSQL: a lease, as claimDue's; SQLite: the claimed flag), and handed to
// adopt() once that transaction is durable, as claimDue would have returned it, so that no
// claim query is needed. An entry whose (sink, idempotency key) was written before is neither
// written nor handed over. Entries the receiver does not deliver stay claimed: their lease
// (PostgreSQL) or the next start (SQLite) returns them, as for any claim.
class ClaimReceiver {
 public:
  virtual ~ClaimReceiver() = default;
  // Whether entries of `sink` written now are to be claimed for this instance. Called on the
  // store's writer thread for every such entry: quick, no calls into the store.
  virtual bool wantsClaimed(std::string_view sink) = 0;
  // Entries written claimed, once durable (ids and all fields, as claimDue returns them).
  // Called on the store's writer thread or the caller's: quick, no calls into the store.
  // Returns those it does not take (it is stopping): the store keeps them, still claimed, for
  // the next receiver registered.
  virtual std::vector<OutboxEntry> adopt(std::vector<OutboxEntry> entries) = 0;
};

// The outbox of a store (SQLite or PostgreSQL): rows written by MessageStore::finish /
// Completion::notifications or enqueue() below, worked on by the dispatcher.
//
// Several engine instances may share one store (PostgreSQL): claimDue leases each entry to one
// instance (SELECT … FOR UPDATE SKIP LOCKED), the owner finishes it with markDelivered /
// markRetry / markDead, and an instance that dies has its leases run out so that another
// instance claims the entry again. A finished entry is never claimed again unless replayed.
//
// Threading and errors as MessageStore: any thread, each call durable when it returns, no
// exception leaves a call, Status texts never hold payload content.
class Outbox {
 public:
  virtual ~Outbox() = default;

  // Writes notifications outside a message's transaction (e.g. an attendance cancelled).
  virtual core::Status enqueue(std::span<const NewNotification> notifications) = 0;

  // Claims up to `limit` pending entries of `sink` due at `now` (nextAttemptAt <= now) that
  // no live instance holds, for this instance, the longest due first (earliest nextAttemptAt,
  // then the oldest: a backlog that backs off is not read to find them). Of entries sharing an order key
  // only the oldest pending one is ever claimable, and only while no other of them is held.
  // `now` decides only what is due: leases run on the store's clock (PostgreSQL: the server's
  // unless the store was given one), as the messages' claims do.
  virtual core::Result<std::vector<OutboxEntry>> claimDue(std::string_view sink, std::size_t limit,
                                                          TimePoint now) = 0;
  // The earliest nextAttemptAt of the sink's pending entries; empty when none is pending.
  // Entries that cannot be the next claimed do not count: those queued behind an older entry of
  // their order key, and held ones (PostgreSQL counts those from when their lease runs out;
  // SQLite, where a claim lasts until it is finished or the store reopens, not at all).
  virtual core::Result<std::optional<TimePoint>> nextDue(std::string_view sink) = 0;

  // The three below finish a pending entry and release its claim; each counts the attempt it
  // concludes (attempts + 1). An unknown id is NotFound; an entry finished already, or one
  // another instance holds (PostgreSQL: its lease ran out and was taken over), InvalidArgument.
  //
  // Delivered: finishedAt set. `followUps` are written in the same transaction (a deferred
  // check that succeeded queues the late result for the EPR and the safeguarding alerts).
  virtual core::Status markDelivered(NotificationId id, std::span<const NewNotification> followUps = {}) = 0;
  // Not delivered this time: tried again from `next`; `error` becomes lastError.
  virtual core::Status markRetry(NotificationId id, TimePoint next, std::string_view error) = 0;
  // Given up (refused, attempts or deadline exhausted): kept as dead, with `error` as lastError
  // and finishedAt set, for a person to see. The store does not dead-letter by itself: the
  // dispatcher compares deadline with its clock.
  virtual core::Status markDead(NotificationId id, std::string_view error) = 0;
  // Gives back the claims this instance holds on pending entries it has not tried (a dispatcher
  // stopping with entries still waiting for a worker): nothing else changes, no attempt is
  // counted, and they are claimable again at once, here or by another instance. Ids not pending
  // or not held by this instance are passed over. Returns how many were given back.
  virtual core::Result<std::size_t> release(std::span<const NotificationId> ids) = 0;

  // Dead (or pending) entries back to pending, due now, attempts 0, finishedAt cleared; lastError
  // stays (what went wrong before), a claim on a pending one too. A deadline still ahead stays;
  // one passed becomes now plus the entry's window (deadline - createdAt): an entry that ends
  // at its deadline (a deferred check) still ends, and is not given up at once. An
  // unknown or delivered id is NotFound / InvalidArgument. Returns how many were replayed.
  virtual core::Result<std::size_t> replay(NotificationId id) = 0;
  // Every dead entry (of one sink when given; of every sink but `except` when that is given)
  // back to pending, as replay(), in one statement: an entry of `except` that dies meanwhile is
  // never among them.
  virtual core::Result<std::size_t> replayDead(std::optional<std::string_view> sink,
                                               std::optional<std::string_view> except) = 0;

  virtual core::Result<OutboxEntry> get(NotificationId id) = 0;
  // The entry written to `sink` under `idempotencyKey`, if any (the unique pair of
  // NewNotification): what became of one notification, e.g. a failed check's deferred check.
  virtual core::Result<std::optional<OutboxEntry>> find(std::string_view sink,
                                                        std::string_view idempotencyKey) = 0;
  virtual core::Result<std::vector<OutboxEntry>> list(const OutboxFilter& filter) = 0;
  virtual core::Result<OutboxCounts> counts(std::optional<std::string_view> sink) = 0;

  // Extends the leases this instance holds on `ids`, the entries it is working on (the
  // dispatcher calls it while it delivers); a store only one instance uses does nothing. A claim
  // it holds but is not working on (an entry written claimed by a commit whose answer was lost,
  // so never handed over) is not renewed: it lapses, and the entry is claimed again. How long a
  // lease lasts: claimLease() of the store.
  virtual core::Result<std::size_t> renewClaims(std::span<const NotificationId> /*ids*/) {
    return std::size_t{0};
  }

  // From now on entries written for sinks `receiver` wants are written claimed and handed to
  // it (ClaimReceiver); nullptr: no more (a hand-over under way finishes first, so the
  // receiver may go once this returns). The receiver must outlive its registration.
  // Returns whether the store writes entries claimed; one that cannot (the default) writes
  // every entry unclaimed and returns false.
  virtual bool setClaimReceiver(ClaimReceiver* /*receiver*/) { return false; }
};

}  // namespace cpis::store
