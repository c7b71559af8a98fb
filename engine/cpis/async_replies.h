#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/cpis/spine_message.h"

namespace cpis::cpis {

// Pending asynchronous CP-IS queries, matched to their replies by message id (the reply's
// wsa:RelatesTo). A reply is taken once, by the lookup still waiting for it; every other
// reply is discarded and counted, never applied to some other check (CPIS.md H2):
//   - unknown:   no query of ours had that id
//   - late:      the query had already given up waiting (timed out)
//   - duplicate: the query had already been answered
//
// Threading: any thread. Ids compare without a "uuid:" prefix and without regard to case.
class AsyncReplies {
 public:
  enum class Delivery { Matched, Unknown, Late, Duplicate };

  struct Stats {
    std::uint64_t matched = 0, unknown = 0, late = 0, duplicate = 0;
    std::size_t pending = 0;
  };

  // `remember`: how many finished ids are kept to tell late and duplicate replies from unknown.
  explicit AsyncReplies(std::size_t remember = 10'000);

  // Registers a query's message id before the query is sent, so a fast reply is never missed.
  void expect(std::string_view messageId);
  // Waits for the reply to a registered id until `deadline`. Either way the id is finished:
  // anything that arrives for it afterwards is late or a duplicate.
  std::optional<ParsedReply> wait(std::string_view messageId, std::chrono::steady_clock::time_point deadline);
  // The query failed before its reply could come: forget it; a reply that still comes is late.
  void cancel(std::string_view messageId);
  // A reply arrived (from the reply endpoint's handler); reply.relatesTo says for which query.
  Delivery deliver(ParsedReply reply);

  Stats stats() const;

  static std::string normalise(std::string_view messageId);

 private:
  enum class Finished { Expired, Answered };
  struct Pending {
    std::optional<ParsedReply> reply;
  };
  void finish(const std::string& id, Finished how);  // with mutex_ held

  const std::size_t remember_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, Pending> pending_;
  std::map<std::string, Finished> finished_;
  std::deque<std::string> finishedOrder_;  // oldest first, to bound finished_
  Stats stats_;
};

std::string_view toString(AsyncReplies::Delivery delivery);  // "matched", "unknown", "late", "duplicate"

}  // namespace cpis::cpis
