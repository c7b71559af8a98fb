#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/store/message_store.h"
#include "engine/store/pg_connection.h"
#include "engine/store/pg_lease_claims.h"

namespace cpis::store {

// The outbox's claim (claimDue) and next-due time (nextDue), prepared on the reader's
// connection; for the tests of their plans.
extern const std::string kPostgresClaimDue;
extern const std::string kPostgresNextDue;

// The PostgreSQL store's second connection: lookups, and the claim statements (short, single
// statements that pass over locked rows rather than wait, so they never hold up a lookup for
// long). Reads see every committed write, the writer's and other instances'. A connection that
// was lost is opened again on the next call. Thread-safe: one statement at a time.
class PostgresReader {
 public:
  // Prepares the statements. Throws PgError.
  explicit PostgresReader(std::unique_ptr<PgConnection> connection);

  core::Result<StoredMessage> fetch(MessageId id);
  core::Result<std::vector<MessageId>> listUnfinished();

  // MessageStore's claims for `owner` (PgLeaseClaims on the message table). `now` empty: the
  // server's clock.
  core::Result<std::vector<MessageId>> claimUnfinished(const std::string& owner,
                                                       std::optional<std::int64_t> now,
                                                       std::chrono::microseconds lease, std::size_t limit);
  core::Result<std::size_t> renewClaims(const std::string& owner, std::optional<std::int64_t> now,
                                        std::chrono::microseconds lease);
  core::Result<std::size_t> releaseClaims(const std::string& owner);

  // The outbox's claims (leases, as for messages) and lookups: entries due at `due`, leased
  // from `now`. Either empty: the server's clock.
  core::Result<std::vector<OutboxEntry>> claimDue(std::string_view sink, const std::string& owner,
                                                  std::optional<std::int64_t> due,
                                                  std::optional<std::int64_t> now,
                                                  std::chrono::microseconds lease, std::size_t limit);
  // The claims `owner` holds on the notifications `ids` (none: nothing).
  core::Result<std::size_t> renewOutboxClaims(const std::string& owner, std::optional<std::int64_t> now,
                                              std::chrono::microseconds lease,
                                              std::span<const std::int64_t> ids);
  // Every claim `owner` holds on notifications.
  core::Result<std::size_t> releaseOutboxClaims(const std::string& owner);
  // The claims `owner` holds on the notifications `ids` (none: nothing).
  core::Result<std::size_t> releaseOutboxClaims(const std::string& owner, std::span<const std::int64_t> ids);
  core::Result<std::optional<TimePoint>> nextDue(std::string_view sink);
  core::Result<OutboxEntry> outboxEntry(NotificationId id);
  core::Result<std::optional<OutboxEntry>> outboxEntry(std::string_view sink,
                                                       std::string_view idempotencyKey);
  core::Result<std::vector<OutboxEntry>> listOutbox(const OutboxFilter& filter);
  core::Result<OutboxCounts> outboxCounts(std::optional<std::string_view> sink);

  // MessageStore::loadMemory.
  core::Result<std::vector<MemoryRow>> loadMemory(TimePoint since);

 private:
  // Runs `work` on a usable connection; a failure becomes an Unavailable status `doing` names.
  // `idempotent` work (a lookup) runs once more on a new connection when the old one turns out
  // to be lost; a claim does not (it may have committed).
  template <typename T, typename Work>
  core::Result<T> withConnection(const std::string& doing, bool idempotent, Work&& work);

  std::mutex mutex_;  // guards connection_
  std::unique_ptr<PgConnection> connection_;
  const PgLeaseClaims claims_{"message", "message.state = 'received'"};
  const PgLeaseClaims outboxClaims_{"outbox", "outbox.state = 'pending'"};
};

}  // namespace cpis::store
