#pragma once

#include <chrono>
#include <climits>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "engine/store/message_store.h"
#include "engine/store/recent_control_ids.h"

namespace cpis::store {

// What the SQLite store knows of a message before its writer has seen it: the id it will have
// (every message gets its id here, in the order the writes are queued, so none is taken twice),
// and whether it is certainly not a duplicate: no message of the duplicate window has its
// (feed, MSH-10) hash. Such a message's CP-IS lookup can start while the message is still being
// written (SqliteMessageStore::persistInboundEarly).
//
// The set of hashes is a superset of the writer's own duplicate check (RecentControlIds): it is
// loaded from the same table when the store opens, from further back than the writer loads,
// every message queued for writing is added before the writer sees it, and nothing is taken
// out when a transaction fails. So "certainly new" here means the writer finds no original
// either; a hash that is present only means the writer decides, as it always did.
//
// Threading: any thread (one mutex; each call is a hash lookup and an insert).
class MessageAdmission {
 public:
  struct Verdict {
    MessageId id{};
    bool certainlyNew{};
  };

  // `nextId`: the first id to give (one more than the table's largest). A `window` of zero:
  // no duplicate detection, every message is new.
  MessageAdmission(std::chrono::microseconds window, MessageId nextId);

  // A message already stored (when the store opens).
  void load(std::string_view feed, std::string_view controlId, std::int64_t receivedAt, MessageId id);
  // A message about to be queued for writing, received at `receivedAt` (database time).
  Verdict admit(std::string_view feed, std::string_view controlId, std::int64_t receivedAt);

 private:
  const std::int64_t windowMicros_;
  std::mutex mutex_;
  RecentControlIds recent_;
  std::vector<MessageId> candidates_;
  MessageId next_;
  std::int64_t newest_ = INT64_MIN;
};

}  // namespace cpis::store
