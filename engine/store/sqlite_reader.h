#pragma once

#include <mutex>
#include <vector>

#include <Poco/Data/Session.h>

#include "engine/core/result.h"
#include "engine/store/message_store.h"

namespace cpis::store {

// A query-only connection for lookups. In WAL mode it reads the last committed state without
// blocking the writer or being blocked by it. Thread-safe: one query at a time.
class SqliteReader {
 public:
  // `session` is open and configured as a reader.
  explicit SqliteReader(Poco::Data::Session session);

  core::Result<StoredMessage> fetch(MessageId id);
  core::Result<std::vector<MessageId>> listUnfinished();

 private:
  std::mutex mutex_;  // a Poco session is not for concurrent use
  Poco::Data::Session session_;
};

}  // namespace cpis::store
