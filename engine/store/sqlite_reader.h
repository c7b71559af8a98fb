#pragma once

#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include <Poco/Data/Session.h>

#include "engine/core/result.h"
#include "engine/store/message_store.h"
#include "engine/store/sqlite_statement.h"

namespace cpis::store {

// A query-only connection for lookups. In WAL mode it reads the last committed state without
// blocking the writer or being blocked by it. Thread-safe: one query at a time.
class SqliteReader {
 public:
  // `session` is open and configured as a reader.
  explicit SqliteReader(Poco::Data::Session session);

  core::Result<StoredMessage> fetch(MessageId id);
  core::Result<std::vector<MessageId>> listUnfinished();

  // The outbox's lookups (Outbox::get, list, counts, nextDue).
  core::Result<OutboxEntry> outboxEntry(NotificationId id);
  core::Result<std::optional<OutboxEntry>> outboxEntry(std::string_view sink,
                                                       std::string_view idempotencyKey);
  core::Result<std::vector<OutboxEntry>> listOutbox(const OutboxFilter& filter);
  core::Result<OutboxCounts> outboxCounts(std::optional<std::string_view> sink);
  core::Result<std::optional<TimePoint>> nextDue(std::string_view sink);

  // MessageStore::loadMemory.
  core::Result<std::vector<MemoryRow>> loadMemory(TimePoint since);

 private:
  std::mutex mutex_;  // a Poco session is not for concurrent use
  Poco::Data::Session session_;
  // The outbox's lookups, compiled once on the same connection (SQLite's C API, as the writer).
  SqliteStatement outboxEntry_;
  SqliteStatement outboxEntryByKey_;
  SqliteStatement listOutbox_;
  SqliteStatement outboxCounts_;
  SqliteStatement nextDue_;
};

}  // namespace cpis::store
