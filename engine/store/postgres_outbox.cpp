#include "engine/store/postgres_outbox.h"

#include <utility>

#include "engine/store/pg_connection.h"
#include "engine/store/postgres_reader.h"

namespace cpis::store {

PostgresOutbox::PostgresOutbox(Write write, PostgresReader& reader, ClaimHandOver& handOver,
                               std::string instance, std::chrono::seconds lease, std::function<TimePoint()> now)
    : write_(std::move(write)),
      reader_(reader),
      handOver_(handOver),
      instance_(std::move(instance)),
      lease_(lease),
      now_(std::move(now)) {}

core::Status PostgresOutbox::enqueue(std::span<const NewNotification> notifications) {
  if (auto status = checkNotifications(notifications); !status.isOk()) return status;
  if (notifications.empty()) return core::Status::ok();
  return write_(WriteRequest{EnqueueWrite{notifications, now_()}}).status;
}

core::Result<std::vector<OutboxEntry>> PostgresOutbox::claimDue(std::string_view sink, std::size_t limit,
                                                                TimePoint now) {
  if (limit == 0) return std::vector<OutboxEntry>{};
  // Due by the caller's clock (it chose the entries' back-off); leased by the store's, as messages.
  return reader_.claimDue(sink, instance_, pgTime(now), pgTime(now_()), lease_, limit);
}

core::Result<std::optional<TimePoint>> PostgresOutbox::nextDue(std::string_view sink) {
  return reader_.nextDue(sink);
}

core::Status PostgresOutbox::markDelivered(NotificationId id, std::span<const NewNotification> followUps) {
  if (auto status = checkNotifications(followUps); !status.isOk()) return status;
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Delivered, {}, {}, followUps, now_()}}).status;
}

core::Status PostgresOutbox::markRetry(NotificationId id, TimePoint next, std::string_view error) {
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Retry, next, error, {}, now_()}}).status;
}

core::Status PostgresOutbox::markDead(NotificationId id, std::string_view error) {
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Dead, {}, error, {}, now_()}}).status;
}

core::Result<std::size_t> PostgresOutbox::release(std::span<const NotificationId> ids) {
  return reader_.releaseOutboxClaims(instance_, ids);
}

core::Result<std::size_t> PostgresOutbox::replay(NotificationId id) {
  auto reply = write_(WriteRequest{ReplayWrite{id, std::nullopt, now_(), std::nullopt}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return reply.purged;
}

core::Result<std::size_t> PostgresOutbox::replayDead(std::optional<std::string_view> sink,
                                                     std::optional<std::string_view> except) {
  auto reply = write_(WriteRequest{ReplayWrite{std::nullopt, sink, now_(), except}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return reply.purged;
}

core::Result<OutboxEntry> PostgresOutbox::get(NotificationId id) {
  return reader_.outboxEntry(id);
}

core::Result<std::optional<OutboxEntry>> PostgresOutbox::find(std::string_view sink,
                                                              std::string_view idempotencyKey) {
  return reader_.outboxEntry(sink, idempotencyKey);
}

core::Result<std::vector<OutboxEntry>> PostgresOutbox::list(const OutboxFilter& filter) {
  return reader_.listOutbox(filter);
}

core::Result<OutboxCounts> PostgresOutbox::counts(std::optional<std::string_view> sink) {
  return reader_.outboxCounts(sink);
}

core::Result<std::size_t> PostgresOutbox::renewClaims(std::span<const NotificationId> ids) {
  return reader_.renewOutboxClaims(instance_, pgTime(now_()), lease_, ids);
}

core::Result<std::size_t> PostgresOutbox::releaseClaims() {
  return reader_.releaseOutboxClaims(instance_);
}

}  // namespace cpis::store
