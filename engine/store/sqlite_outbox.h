#pragma once

#include <functional>

#include "engine/store/outbox.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

class SqliteReader;

// SqliteMessageStore's outbox: its writes (claims included: the claimed flag is a column) go
// through the store's group-commit writer, so they share commits with concurrent persists;
// its lookups go through the store's query-only connection. One process per database file:
// a claim is a flag, not a lease, and the store clears every flag when it opens (the
// dispatcher threads that held them are gone).
class SqliteOutbox final : public Outbox {
 public:
  using Write = std::function<WriteReply(const WriteRequest&)>;
  SqliteOutbox(Write write, SqliteReader& reader, ClaimHandOver& handOver, std::function<TimePoint()> clock);

  core::Status enqueue(std::span<const NewNotification> notifications) override;
  core::Result<std::vector<OutboxEntry>> claimDue(std::string_view sink, std::size_t limit,
                                                  TimePoint now) override;
  core::Result<std::optional<TimePoint>> nextDue(std::string_view sink) override;
  core::Status markDelivered(NotificationId id, std::span<const NewNotification> followUps = {}) override;
  core::Status markRetry(NotificationId id, TimePoint next, std::string_view error) override;
  core::Status markDead(NotificationId id, std::string_view error) override;
  core::Result<std::size_t> release(std::span<const NotificationId> ids) override;
  core::Result<std::size_t> replay(NotificationId id) override;
  core::Result<std::size_t> replayDead(std::optional<std::string_view> sink,
                                       std::optional<std::string_view> except) override;
  core::Result<OutboxEntry> get(NotificationId id) override;
  core::Result<std::optional<OutboxEntry>> find(std::string_view sink,
                                                std::string_view idempotencyKey) override;
  core::Result<std::vector<OutboxEntry>> list(const OutboxFilter& filter) override;
  core::Result<OutboxCounts> counts(std::optional<std::string_view> sink) override;
  bool setClaimReceiver(ClaimReceiver* receiver) override {
    handOver_.set(receiver);
    return true;
  }

 private:
  Write write_;
  SqliteReader& reader_;
  ClaimHandOver& handOver_;
  std::function<TimePoint()> clock_;
};

}  // namespace cpis::store
