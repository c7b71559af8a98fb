#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/store/outbox.h"

namespace cpis::store {

// The SQLite writer's duplicate check: the messages received within the duplicate window, by a
// 64-bit hash of their (feed, MSH-10), in memory. It takes the place of an index on
// (feed, control_id): with many senders each counting up its own MSH-10, every new message
// lands on another page of such an index, and each of those pages is written to the WAL again
// (and synced, and checkpointed) by every commit, more than the message's own bytes.
//
// A hash is only a candidate: the writer confirms it against the row (feed and control id
// byte for byte), so two keys sharing a hash are told apart. The set is filled from the table
// before the writer's first persist, so duplicates are found across restarts; it holds
// everything the writer added since (and forgets what a failed transaction added).
//
// One writer per database file (the store's lock file) is what makes it complete. Used by the
// writer's thread only; not thread-safe.
class RecentControlIds {
 public:
  using Key = std::uint64_t;
  static Key keyOf(std::string_view feed, std::string_view controlId);

  // Messages of `key` received at or after `since` (database time), newest first.
  void candidates(Key key, std::int64_t since, std::vector<MessageId>& out) const;
  void add(Key key, MessageId id, std::int64_t receivedAt);
  // Forgets the entries received before `before`, oldest added first (an entry behind one
  // that is still kept stays a while longer: the check confirms times against the row anyway).
  void expire(std::int64_t before);
  // Entries are kept this much longer than the duplicate window, for a clock that steps back a
  // little; what a store loads when it opens reaches back as far.
  static constexpr std::int64_t kMarginMicros = 3'600'000'000;
  // Forgets the entries older than the window (and the margin), measured from `newest`.
  void expireOutside(std::int64_t newest, std::int64_t windowMicros);

  // What has been added so far; rollback(mark) forgets everything added after it. Nothing
  // may expire in between.
  std::size_t mark() const { return order_.size(); }
  void rollback(std::size_t mark);

  std::size_t size() const { return order_.size(); }
  void clear();

 private:
  struct Entry {
    MessageId id;
    std::int64_t receivedAt;
  };
  struct Added {
    Key key;
    MessageId id;
    std::int64_t receivedAt;
  };
  void forget(const Added& added);

  std::unordered_multimap<Key, Entry> byKey_;
  std::deque<Added> order_;  // as added: oldest first
};

}  // namespace cpis::store
