#include "engine/store/sqlite_outbox.h"

#include <utility>

#include "engine/store/sqlite_reader.h"

namespace cpis::store {

SqliteOutbox::SqliteOutbox(Write write, SqliteReader& reader, ClaimHandOver& handOver,
                           std::function<TimePoint()> clock)
    : write_(std::move(write)), reader_(reader), handOver_(handOver), clock_(std::move(clock)) {}

core::Status SqliteOutbox::enqueue(std::span<const NewNotification> notifications) {
  if (auto status = checkNotifications(notifications); !status.isOk()) return status;
  if (notifications.empty()) return core::Status::ok();
  return write_(WriteRequest{EnqueueWrite{notifications, clock_()}}).status;
}

core::Result<std::vector<OutboxEntry>> SqliteOutbox::claimDue(std::string_view sink, std::size_t limit,
                                                              TimePoint now) {
  if (limit == 0) return std::vector<OutboxEntry>{};
  auto reply = write_(WriteRequest{ClaimWrite{sink, limit, now}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return std::move(reply.claimed);
}

core::Result<std::optional<TimePoint>> SqliteOutbox::nextDue(std::string_view sink) {
  return reader_.nextDue(sink);
}

core::Status SqliteOutbox::markDelivered(NotificationId id, std::span<const NewNotification> followUps) {
  if (auto status = checkNotifications(followUps); !status.isOk()) return status;
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Delivered, {}, {}, followUps, clock_()}}).status;
}

core::Status SqliteOutbox::markRetry(NotificationId id, TimePoint next, std::string_view error) {
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Retry, next, error, {}, clock_()}}).status;
}

core::Status SqliteOutbox::markDead(NotificationId id, std::string_view error) {
  return write_(WriteRequest{OutboxMarkWrite{id, OutboxEnd::Dead, {}, error, {}, clock_()}}).status;
}

core::Result<std::size_t> SqliteOutbox::release(std::span<const NotificationId> ids) {
  if (ids.empty()) return std::size_t{0};
  auto reply = write_(WriteRequest{ReleaseWrite{ids}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return reply.purged;
}

core::Result<std::size_t> SqliteOutbox::replay(NotificationId id) {
  auto reply = write_(WriteRequest{ReplayWrite{id, std::nullopt, clock_(), std::nullopt}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return reply.purged;
}

core::Result<std::size_t> SqliteOutbox::replayDead(std::optional<std::string_view> sink,
                                                   std::optional<std::string_view> except) {
  auto reply = write_(WriteRequest{ReplayWrite{std::nullopt, sink, clock_(), except}});
  if (!reply.status.isOk()) return std::move(reply.status);
  return reply.purged;
}

core::Result<OutboxEntry> SqliteOutbox::get(NotificationId id) {
  return reader_.outboxEntry(id);
}

core::Result<std::optional<OutboxEntry>> SqliteOutbox::find(std::string_view sink,
                                                            std::string_view idempotencyKey) {
  return reader_.outboxEntry(sink, idempotencyKey);
}

core::Result<std::vector<OutboxEntry>> SqliteOutbox::list(const OutboxFilter& filter) {
  return reader_.listOutbox(filter);
}

core::Result<OutboxCounts> SqliteOutbox::counts(std::optional<std::string_view> sink) {
  return reader_.outboxCounts(sink);
}

}  // namespace cpis::store
