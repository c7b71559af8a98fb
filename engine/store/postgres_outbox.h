#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "engine/store/outbox.h"
#include "engine/store/store_writes.h"

namespace cpis::store {

class PostgresReader;

// PostgresMessageStore's outbox: writes go through the store's group-commit writer (one
// transaction with the persists and finishes they share a batch with); claims, renewals and
// lookups through the store's second connection. Entries are claimed for the store's instance
// with leases (PgLeaseClaims' columns): an instance that dies has its entries taken over once
// their leases run out, and markDelivered / markRetry / markDead refuse an entry another
// instance holds (InvalidArgument).
class PostgresOutbox final : public Outbox {
 public:
  using Write = std::function<WriteReply(const WriteRequest&)>;
  // `now`: the store's clock (kDatabaseClock: the server's).
  PostgresOutbox(Write write, PostgresReader& reader, ClaimHandOver& handOver, std::string instance,
                 std::chrono::seconds lease, std::function<TimePoint()> now);

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
  core::Result<std::size_t> renewClaims(std::span<const NotificationId> ids) override;

  // Gives up every entry this instance holds (on close, and when a store opens under a
  // configured name: claims left under it are from its previous run).
  core::Result<std::size_t> releaseClaims();

 private:
  Write write_;
  PostgresReader& reader_;
  ClaimHandOver& handOver_;
  const std::string instance_;
  const std::chrono::seconds lease_;
  std::function<TimePoint()> now_;
};

}  // namespace cpis::store
