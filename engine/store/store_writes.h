#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/core/status.h"
#include "engine/store/audit_log.h"
#include "engine/store/group_commit_queue.h"
#include "engine/store/message_store.h"

namespace cpis::store {

// The writes a store's writer thread applies, whatever the database: the group commit queue
// carries them to SqliteWriter or PostgresWriter. The views point into the arguments of a
// caller that waits for the reply (or, asynchronously, keeps them until its callback), so they
// stay valid while the write is applied.
struct PersistWrite {
  InboundMessage message;
  TimePoint receivedAt;
  MessageId id{};  // given by the store before the write (SQLite: MessageAdmission); 0: the database's
};
struct AckWrite {
  MessageId id{};
  std::string_view ack;
  TimePoint at;
};
struct OutcomeWrite {
  MessageId id{};
  MessageState state{};
  std::string_view outcome;
  TimePoint at;
};
struct PurgeWrite {
  TimePoint receivedBefore;
  std::size_t limit{};
  TimePoint at;
};
// MessageStore::finish: the ACK (empty: the recorded one stays), the outcome and the
// notifications in one transaction.
struct FinishWrite {
  MessageId id{};
  MessageState state{};
  std::string_view outcome;
  std::string_view ack;
  std::span<const NewNotification> notifications;
  TimePoint at;
};
// Outbox::enqueue.
struct EnqueueWrite {
  std::span<const NewNotification> notifications;
  TimePoint at;
};
// Outbox::markDelivered / markRetry / markDead of a pending entry.
enum class OutboxEnd : std::uint8_t { Delivered, Retry, Dead };
struct OutboxMarkWrite {
  NotificationId id{};
  OutboxEnd end{};
  TimePoint next;                                // Retry: tried again from then
  std::string_view error;                        // Retry, Dead: the sink's reason
  std::span<const NewNotification> followUps{};  // Delivered: written with it
  TimePoint at;
};
// Outbox::replay (one id) or replayDead (every dead entry, of one sink when `sink` is set, of
// every sink but `except` when that is set).
struct ReplayWrite {
  std::optional<NotificationId> id;
  std::optional<std::string_view> sink;
  TimePoint at;
  std::optional<std::string_view> except;
};
// Outbox::claimDue, where the claim is a write (SQLite: the writer is the only connection that
// writes, and the claimed flag lives in the database).
struct ClaimWrite {
  std::string_view sink;
  std::size_t limit{};
  TimePoint now;
};
// Outbox::release, where the claim is a write (SQLite).
struct ReleaseWrite {
  std::span<const NotificationId> ids;
};
// Audit rows written by the store's own writer (SqliteMessageStore::recordAudit), in the
// transaction of whatever it writes next.
struct AuditWrite {
  std::span<const QueryAuditEntry> entries;
};
// MessageStore::saveMemory and stageMemory.
struct MemoryWrite {
  std::span<const MemoryRow> rows;
  std::optional<TimePoint> purgeBefore;
};
struct WriteRequest {
  std::variant<PersistWrite, AckWrite, OutcomeWrite, PurgeWrite, FinishWrite, EnqueueWrite, OutboxMarkWrite,
               ReplayWrite, ClaimWrite, ReleaseWrite, AuditWrite, MemoryWrite>
      write;
};

struct WriteReply {
  core::Status status;
  PersistOutcome persisted;  // PersistWrite
  std::size_t purged{};      // PurgeWrite: messages purged; ReplayWrite: entries replayed; ReleaseWrite: released
  std::vector<OutboxEntry> claimed{};  // ClaimWrite
  // Writes that add notifications: those written claimed (ClaimHandOver), to hand over once
  // the write is durable.
  std::vector<OutboxEntry> preClaimed{};
  // A failure that left nothing of the write stored (its transaction was rolled back), as
  // opposed to one after the commit (its sync failed): only then may it be written again.
  bool rolledBack{};
};

// The entry a notification written claimed became, as claimDue would return it, without
// reading it back: `id`, `message`, `createdAt` and `deadline` as the store wrote them; due at
// once (that is what is written claimed).
OutboxEntry claimedEntry(const NewNotification& notification, NotificationId id, std::optional<MessageId> message,
                         TimePoint createdAt, std::optional<TimePoint> deadline);

// A store's side of Outbox::setClaimReceiver: its writer asks claims() which notifications to
// write claimed for this instance, and the store hands what was written so to the receiver
// once it is durable. Any thread.
class ClaimHandOver {
 public:
  void set(ClaimReceiver* receiver);
  // Due at once, without an order key, for a sink the receiver wants.
  bool claims(const NewNotification& notification);
  // To the receiver. Those it does not take (it is stopping), or all with none (it withdrew
  // after the write claimed them), are kept for the next receiver set(), which adopts them
  // first: they are still claimed for this instance (until the store reopens, SQLite; until its
  // close or their lease, PostgreSQL).
  void handOver(std::vector<OutboxEntry> entries);
  // handOver(reply.preClaimed) when the reply has any.
  void handOver(WriteReply& reply);

 private:
  std::mutex mutex_;
  ClaimReceiver* receiver_ = nullptr;
  std::vector<OutboxEntry> orphans_;  // handed over to no receiver that took them
};

// What every store refuses before queueing a persist (InvalidArgument): no feed, control id or
// bytes, more than `maxMessageBytes`, a completion without its ACK.
// Also refuses a completion's notifications as checkNotifications does.
core::Status checkInboundMessage(const InboundMessage& message, std::size_t maxMessageBytes);

// What every store refuses before queueing notifications (InvalidArgument): no sink, kind or
// idempotency key. The text names the position in the list, never a field's content.
core::Status checkNotifications(std::span<const NewNotification> notifications);

std::optional<NotificationState> parseNotificationState(std::string_view text);

// Whether a message received under a stored message's (feed, MSH-10) is that message sent
// again: the same bytes, but for MSH-7 (the time of the message, which some senders stamp
// afresh on a resend), segment ends (CR, LF, CR LF) and what HL7 reads as nothing (empty fields
// at a segment's end, empty components and subcomponents at a field's end, which an interface
// engine on the way may add or drop). False when the stored bytes are gone (purged): then
// nothing tells.
bool sameMessageSentAgain(std::string_view stored, std::string_view received);

// MessageStore::stageMemory on a store whose writer runs `queue`: the rows as one MemoryWrite,
// lingering up to `linger` for a transaction to share. A failure is logged, once per spell of
// failures (without the rows: they are patient data). Never throws.
void stageMemoryRows(GroupCommitQueue<WriteRequest, WriteReply>& queue, std::vector<MemoryRow> rows,
                     std::chrono::milliseconds linger);

}  // namespace cpis::store
