#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/core/status.h"
#include "engine/store/outbox.h"

namespace cpis::store {


// received -> processed | rejected | failed; the three final states are never left.
enum class MessageState : std::uint8_t { Received, Processed, Rejected, Failed };

constexpr std::string_view toString(MessageState state) {
  switch (state) {
    case MessageState::Received: return "received";
    case MessageState::Processed: return "processed";
    case MessageState::Rejected: return "rejected";
    case MessageState::Failed: return "failed";
  }
  return "unknown";
}
inline std::ostream& operator<<(std::ostream& os, MessageState state) {
  return os << toString(state);
}

// How a message that was processed before it was stored ends: stored already finished, with
// its ACK, in the same transaction as the message itself, so one commit (one sync) makes both
// durable. For processing that is quick; slow processing persists first and finishes later.
//
// A completion in state `received` records the ACK with the message but leaves it unfinished:
// an enhanced-mode accept ACK whose application ACK is still to be delivered.
struct Completion {
  MessageState state{MessageState::Processed};  // a final state, or received (see above)
  std::string_view outcome;  // codes and locations, never field values
  std::string_view ack;      // the ACK that will be sent once persistInbound returns
  // Written to the outbox in the same transaction (not for a duplicate).
  std::span<const NewNotification> notifications{};
};

// One inbound message as the listener hands it over. The views need only stay valid for the
// call: the store copies what it keeps.
struct InboundMessage {
  std::string_view feed;       // the configured feed it arrived on
  std::string_view controlId;  // MSH-10 Message Control ID
  std::string_view raw;        // the bytes as received, MLLP framing removed; any byte value
  std::optional<Completion> completion{};  // stored finished at once when set (not for a duplicate)
};

struct PersistOutcome {
  MessageId id{};  // the new message; for a duplicate, the original it repeats
  bool duplicate{};
  // Duplicate only: the ACK last recorded for the original, empty if none has been recorded
  // yet (the original is still being processed) or its content was purged.
  std::optional<std::string> originalAck;
  // Duplicate only: the original's bytes differ from this message's (beyond MSH-7, which a
  // sender may stamp afresh on a resend). Not a resend but another message under a reused
  // MSH-10 (a counter reset, a fail-over): never answered with the original's ACK, which is
  // about another attendance, perhaps another child (hazard H1). Nothing is stored.
  bool conflicting{};
};

// One entry of what the engine remembers about attendances, kept in the store so that a restart
// does not forget it (docs/architecture.md, "The attendance memory"): the decision's memory of
// an attendance's last check, its last outcome, a patient merge. Patient data (NHS numbers,
// CP-IS outcomes), under the store's access control and purged with the content
// (purgeContent). The store keeps one row per (kind, feed, key) and does not read `body`.
struct MemoryRow {
  std::string kind;  // what the body is ("check", "outcome", "merge": the engine's names)
  std::string feed;  // the feed it belongs to; empty for what is engine-wide (merges)
  std::string key;   // the attendance's visit number; a merge's retired NHS number
  std::string body;  // the entry, encoded by the engine; empty: the row is deleted
  TimePoint at;      // when the entry was last used (changed, or its attendance had a message)
  // Only moves the time of the rows of (feed, key) up to `at`, whatever their kind; writes no
  // body (an entry in use but unchanged: its row must not age out, nor be rewritten from a copy
  // that may be older than the row).
  bool touch = false;
};

struct StoredMessage {
  MessageId id{};
  std::string feed;
  std::string controlId;  // MSH-10 Message Control ID
  TimePoint receivedAt;   // stamped by the store's clock when persistInbound was called
  MessageState state{MessageState::Received};
  std::optional<std::string> raw;  // empty once purged
  std::size_t rawSize{};           // kept after the purge: part of the audit record
  std::optional<std::string> ack;  // the last ACK recorded; empty before one is and after purge
  std::optional<TimePoint> ackedAt;
  std::string outcome;  // processing outcome text: codes and locations, never field values
  std::optional<TimePoint> finishedAt;
  std::optional<TimePoint> purgedAt;
  std::uint32_t duplicatesReceived{};  // how often the same (feed, MSH-10) came again in the window
                                       // (resends, and other messages refused for reusing it)
};

// The durable record of every inbound message: what arrived, what was answered, what became
// of it. Nothing may be acknowledged to a sender before persistInbound has returned its id.
//
// Threading: every member may be called from any number of threads at once. Each call blocks
// until its effect is durable (committed and synced); implementations are free to commit the
// writes of concurrent callers together.
//
// Errors: the environment failing (disk, database) is a Status in the Result, retryable()
// when trying again later may help; a call that breaks the contract below is
// InvalidArgument; an unknown id is NotFound. No exception leaves a call. Status texts name
// ids, feeds, codes and classes of error, never message content.
class MessageStore {
 public:
  virtual ~MessageStore() = default;

  // Stores the message in state `received` (or finished, with its ACK, when it carries a
  // completion), or, when the same (feed, controlId) was stored within the store's duplicate
  // window, stores nothing new and returns the original's id and ACK with duplicate = true. Of
  // concurrent identical calls exactly one is the original. Feed and control id must not be
  // empty; a completion's state must be final.
  virtual core::Result<PersistOutcome> persistInbound(const InboundMessage& message) = 0;
  // persistInbound without blocking: returns at once and calls `done` exactly once, from any
  // thread (the store's writer thread, or this one when the message is refused at once), once
  // the outcome is durable. The views in `message` must stay valid until `done` is called.
  // `done` must be quick and must not call back into the store. The default implementation
  // calls persistInbound and then `done`.
  using PersistCallback = std::function<void(core::Result<PersistOutcome>)>;
  virtual void persistInboundAsync(const InboundMessage& message, PersistCallback done) {
    done(persistInbound(message));
  }
  // persistInboundAsync, and before `done`, `written` with the same outcome as soon as the
  // message is committed but not yet durable, on a store that makes its commits durable after
  // writing them (SQLite with its sync thread; the default never calls `written`). Its id and
  // duplicate verdict are final then, so work that promises the sender nothing may start (the
  // engine starts a message's CP-IS lookup while the commit is still to be synced). `written`
  // is called at most once, never with a failure, on the store's writer thread, and must be as
  // quick as `done`. Its answer:
  // - false: `done` follows as usual, once the commit is durable (or with the sync's failure);
  // - true: the caller takes the message as written. `done` is never called, and the store
  //   does not sync for this message: the caller acknowledges nothing before a later commit of
  //   its own on this store is durable (the message's finish), whose sync makes every commit
  //   before it durable too. A crash before then may lose the message, which no one was told
  //   was stored. The store answers false for it itself (`written` is not asked) when the
  //   commit wrote something that must be handed on once durable (notifications written
  //   claimed).
  // A store that knows the verdict before the write may ask `written` then, on the calling
  // thread, before this returns (SQLite: no message of the duplicate window has the message's
  // (feed, MSH-10), see MessageAdmission), once the write is queued, so that whatever the
  // caller writes about the message afterwards is queued after it. If the caller takes it and
  // the write then fails, nobody is told but the log: the caller's own next write about the
  // message (its finish) fails, finding no message of that id, and it acknowledges nothing.
  // The views in `message` must stay valid until `done` is called or `written` has taken it
  // (a store that asks before the write keeps a copy).
  using WrittenCallback = std::function<bool(const PersistOutcome&)>;
  virtual void persistInboundEarly(const InboundMessage& message, WrittenCallback written, PersistCallback done) {
    (void)written;
    persistInboundAsync(message, std::move(done));
  }

  // Records the ACK sent for a message (replacing an earlier one: in enhanced mode the
  // application ACK follows the accept ACK). Refused once the message's content was purged.
  virtual core::Status recordAck(MessageId id, std::string_view ack) = 0;

  // Moves a `received` message to a final state with the outcome text (no patient data: it is
  // kept after the purge). `state` must be final and the message still `received`.
  virtual core::Status markOutcome(MessageId id, MessageState state, std::string_view outcome) = 0;

  // recordAck, markOutcome and Outbox::enqueue of `notifications` in one transaction (one
  // commit, one sync): how a message whose processing took a while (a CP-IS check) ends. Same
  // preconditions as markOutcome; `ack` empty: the ACK already recorded stays.
  virtual core::Status finish(MessageId id, MessageState state, std::string_view outcome, std::string_view ack,
                              std::span<const NewNotification> notifications = {}) = 0;

  // The store's outbox (same database, same transactions).
  virtual Outbox& outbox() = 0;

  // Ids of the messages still `received`, oldest first: the work to redo after a restart.
  virtual core::Result<std::vector<MessageId>> listUnfinished() = 0;

  // Drops the raw bytes and the ACK (both can hold patient data) of finished messages
  // received more than `olderThan` ago; the rest of the row stays as the audit record. Drops
  // too the payload of outbox entries delivered or dead more than `olderThan` ago (a dead one
  // is then no longer replayed), and the memory rows (MemoryRow) last used more than
  // `olderThan` ago. Returns how many messages and entries were purged (rows not counted).
  virtual core::Result<std::size_t> purgeContent(std::chrono::days olderThan) = 0;

  virtual core::Result<StoredMessage> fetch(MessageId id) = 0;

  // Writes the rows (replacing any of the same kind, feed and key; an empty body deletes it)
  // and, with `purgeBefore`, deletes every row whose `at` is older, in one transaction; blocks
  // until that is durable. The rows of one feed and key share their time: a row written moves
  // the others' `at` up to its own (an attendance's entries age together). The whole call
  // fails or succeeds.
  virtual core::Status saveMemory(std::span<const MemoryRow> rows, std::optional<TimePoint> purgeBefore) = 0;
  // Queues the rows to be written with the store's next transaction (a message's, within a few
  // milliseconds at most) and returns at once: what the engine remembers is written as it
  // changes, in the order of the calls, sharing the commits (and syncs) of the messages that
  // changed it. The rows of one call are written or not together, and their failure never
  // fails what they share a transaction with; it is logged, and those rows are lost (their
  // attendances are checked again after a restart). Never throws.
  virtual void stageMemory(std::vector<MemoryRow> rows) = 0;
  // Every row whose `at` is `since` or later, oldest first.
  virtual core::Result<std::vector<MemoryRow>> loadMemory(TimePoint since) = 0;

  // Commits every write already queued, then refuses further writes with Unavailable (reads
  // still work). Idempotent; call it once the callers have stopped, e.g. on SIGTERM.
  virtual void close() {}

  // --- Work shared by several engine instances (a store they all use, e.g. PostgreSQL) ---
  //
  // Each message still `received` is worked on by one instance at a time: the one that stored
  // it, or one that claimed it later. A claim is a lease: its owner renews it (renewClaims)
  // well within claimLease() while it works; when an instance dies its leases run out, and
  // another instance's claimUnfinished takes those messages over. recordAck and markOutcome
  // refuse (InvalidArgument) a `received` message that another instance has claimed, so a
  // message is finished once. The owner is the store object's instance (one per engine).
  //
  // A store that only one instance ever uses (SQLite: one process per file) owns every message:
  // claimLease() is empty, claimUnfinished returns listUnfinished() (at most `limit`, the same
  // ids on every call) and renewClaims does nothing. Call claimUnfinished once at start there.

  // How long a claim lasts unless renewed; empty when the store is not shared.
  virtual std::optional<std::chrono::seconds> claimLease() const { return std::nullopt; }

  // Claims up to `limit` `received` messages that no live instance owns (never claimed, or
  // their lease ran out) for this instance, and returns their ids, oldest first. Of instances
  // claiming at the same moment, each message goes to exactly one.
  virtual core::Result<std::vector<MessageId>> claimUnfinished(std::size_t limit) {
    auto unfinished = listUnfinished();
    if (unfinished && unfinished.value().size() > limit) unfinished.value().resize(limit);
    return unfinished;
  }

  // Extends the lease of every `received` message this instance owns; returns how many.
  virtual core::Result<std::size_t> renewClaims() { return std::size_t{0}; }
};

}  // namespace cpis::store
