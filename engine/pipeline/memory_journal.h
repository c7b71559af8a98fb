#pragma once

// The attendance memory kept in the message store, so that a restart does not forget which
// attendances were checked (CPIS.md §7: one successful unscheduled query per attendance;
// docs/architecture.md, "The attendance memory").

#include <functional>
#include <optional>
#include <string>
#include <string_view>

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

// Writes what changes in the engine's attendance memories to the message store: the decision's
// memory of each feed (InMemoryCheckMemory), the last outcomes (LastOutcomes), the patient
// merges (MergedNumbers). Each memory tells the journal of an entry it changed, under its own
// lock, so changes of one entry reach the journal in the order they were made; the journal
// encodes the entry and stages it (MessageStore::stageMemory), to be written with the store's
// next transaction: the commit of the message that changed it, or one a few milliseconds later.
// A restart forgets nothing that was acknowledged before the last few milliseconds; an entry a
// memory lets go (its retention, its capacity) is not written, its row staying until the
// store's retention purge, and a load puts it back only while the memory would keep it.
// Thread-safe.
class MemoryJournal {
 public:
  using Clock = std::function<domain::Instant()>;
  // `store` outlives the journal.
  MemoryJournal(Clock clock, store::MessageStore& store);
  MemoryJournal(const MemoryJournal&) = delete;
  MemoryJournal& operator=(const MemoryJournal&) = delete;

  void checkChanged(std::string_view feed, std::string_view visitNumber, const PreviousCheck& check);
  // The attendance had a message that changed nothing: its rows' time moves up (MemoryRow::touch).
  void checkTouched(std::string_view feed, std::string_view visitNumber);
  void outcomeChanged(std::string_view feed, std::string_view visitNumber, const domain::CheckOutcome& outcome);
  // nullopt: the link is gone (a merge back undid it). `at`: when the merge was noted (what
  // MergedNumbers compares a failure's time with), kept as the row's time.
  void mergeChanged(const domain::NhsNumber& retired, const std::optional<MergedNumbers::Survivor>& survivor,
                    domain::Instant at);

 private:
  void stage(std::string_view kind, std::string_view feed, std::string key, std::string body, domain::Instant at,
             bool touch = false);

  Clock clock_;
  store::MessageStore& store_;
};

}  // namespace cpis::pipeline
