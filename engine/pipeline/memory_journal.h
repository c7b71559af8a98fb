#pragma once

// The attendance memory kept in the message store, so that a restart does not forget which
// attendances were checked (CPIS.md §7: one successful unscheduled query per attendance;
// docs/architecture.md, "The attendance memory").

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "engine/core/status.h"
#include "engine/domain/attendance.h"
#include "engine/pipeline/decide.h"
#include "engine/store/message_store.h"

namespace cpis::pipeline {

// The kinds of MemoryRow the engine writes.
inline constexpr std::string_view kCheckRow = "check";      // a feed's PreviousCheck, by visit number
inline constexpr std::string_view kOutcomeRow = "outcome";  // a feed's last CheckOutcome, by visit number
inline constexpr std::string_view kMergeRow = "merge";      // MergedNumbers' link, by retired NHS number

// The rows' bodies (a versioned, length-prefixed encoding: memory_journal.cpp). Each decode is
// the inverse of its encode and returns nullopt for anything it cannot read whole, or of
// another version.
std::string encodeCheck(const PreviousCheck& check);
std::optional<PreviousCheck> decodeCheck(std::string_view body);
std::string encodeOutcome(const domain::CheckOutcome& outcome);
std::optional<domain::CheckOutcome> decodeOutcome(std::string_view body);
std::string encodeMerge(const MergedNumbers::Survivor& survivor);
std::optional<MergedNumbers::Survivor> decodeMerge(std::string_view body);

// What changed in the engine's attendance memories since they were last written: the decision's
// memory of each feed (InMemoryCheckMemory), the last outcomes (LastOutcomes), the patient
// merges (MergedNumbers). Each tells the journal of an entry it changed; flush() writes the
// latest state of every entry changed since the last flush, in one transaction of the store.
// An entry a memory lets go (its retention, its capacity) is not written: its row stays until
// the store's retention purge, and a load puts it back only while the memory would keep it.
//
// A flush runs every `interval` on the journal's own thread (start()) and once more at stop(),
// after the last message: a restart forgets nothing, a crash at most the changes of the last
// interval (an attendance whose next message comes after the restart is then checked again).
// Thread-safe.
class MemoryJournal {
 public:
  using Clock = std::function<domain::Instant()>;
  explicit MemoryJournal(Clock clock);
  ~MemoryJournal();  // stop()
  MemoryJournal(const MemoryJournal&) = delete;
  MemoryJournal& operator=(const MemoryJournal&) = delete;

  void checkChanged(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check);
  // The attendance had a message that changed nothing: its rows' time moves up (MemoryRow::touch),
  // unless a change of its check is waiting to be written anyway.
  void checkTouched(std::string_view feed, std::string_view visitNumber);
  void outcomeChanged(std::string_view feed, std::string_view visitNumber, const domain::CheckOutcome& outcome);
  // nullopt: the link is gone (a merge back undid it). `at`: when the merge was noted (what
  // MergedNumbers compares a failure's time with), kept as the row's time.
  void mergeChanged(const domain::NhsNumber& retired, const std::optional<MergedNumbers::Survivor>& survivor,
                    domain::Instant at);

  // Writes what changed (and, with `purgeBefore`, purges older rows). On failure what it took
  // is kept for the next flush, except where a newer change of the same entry came meanwhile.
  core::Status flush(store::MessageStore& store, std::optional<store::TimePoint> purgeBefore = std::nullopt);
  // Flushes every `interval` until stop(); rows older than `retention` go every ten minutes.
  void start(store::MessageStore& store, std::chrono::milliseconds interval, std::chrono::milliseconds retention);
  // Stops the thread and flushes once more. Idempotent; the store must still be open.
  core::Status stop();
  std::size_t pending() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, feed, key
  struct Touch {};
  using Entry = std::variant<PreviousCheck, domain::CheckOutcome, std::optional<MergedNumbers::Survivor>, Touch>;
  struct Change {
    Entry entry;
    domain::Instant at{};
  };
  void changed(std::string_view kind, std::string_view feed, std::string key, Entry entry, domain::Instant at);
  // flush(): encodes and writes `taken` (flushMutex_ held); puts back what it did not write.
  core::Status write(store::MessageStore& store, std::map<Key, Change>& taken,
                     std::optional<store::TimePoint> purgeBefore);

  Clock clock_;
  mutable std::mutex mutex_;
  std::map<Key, Change> changes_;
  store::MessageStore* store_ = nullptr;
  std::chrono::milliseconds retention_{};
  std::mutex flushMutex_;  // one flush at a time
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cpis::pipeline
