#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conformance/simulator/dataset.h"
#include "conformance/simulator/fault.h"
#include "engine/cpis/lookup.h"

namespace cpis::sim {

// An access notification for a local authority, as CP-IS sends one (over MESH today) when a
// child it is responsible for is seen in an unscheduled setting.
struct LaNotification {
  std::uint64_t id = 0;  // 1, 2, ... in arrival order across all mailboxes
  domain::Instant at{};
  std::string laOdsCode;
  std::string nhsNumber;  // the number queried (the mother's for an unborn child)
  domain::SubjectKind subject = domain::SubjectKind::Child;
  domain::PriorAccess access;  // who looked, from where
  std::string eventId;         // the query's event id (the engine's check id)
  std::string messageId;       // the query's message id
};

struct SimulatorStats {
  std::uint64_t queries = 0;   // POSTs to the query path
  std::uint64_t found = 0, notFound = 0;
  std::uint64_t rejected = 0;  // failed validation (answered with an application error)
  std::uint64_t faults = 0;    // queries a fault struck
  std::uint64_t asyncReplies = 0;  // replies POSTed to a ReplyTo (duplicates counted)
  std::uint64_t asyncFailures = 0; // of which the POST failed
};

// What the simulated Spine remembers, shared by every request thread: the access history of
// each child (the dataset's, then each unscheduled query's), the LA mailboxes, and the faults.
class SimulatorState {
 public:
  SimulatorState(const Dataset& dataset, std::function<domain::Instant()> clock);

  domain::Instant now() const { return clock_(); }

  // The fault to apply to a query about `number` (nullptr: an unparseable query), taking one
  // of its `times`: a run-time fault for that number, else the dataset's, else a run-time "*".
  std::optional<Fault> takeFault(const domain::NhsNumber* number);
  void setFault(const std::string& key, const Fault& fault);  // key: 10 digits or "*"
  bool clearFault(const std::string& key);
  void clearFaults();
  std::map<std::string, Fault> faults() const;

  // The 25 most recent accesses, newest first, as a reply carries them; and, for an
  // unscheduled query, the access it records and the notification each LA gets.
  std::vector<domain::PriorAccess> recentAccesses(const domain::NhsNumber& number) const;
  void recordAccess(const Child& child, const cpis::LookupRequest& request, const std::string& messageId);

  std::vector<domain::PriorAccess> accesses(const domain::NhsNumber& number) const;  // all, newest first
  std::vector<LaNotification> notifications(const std::string& laOdsCode) const;     // oldest first

  void reset();  // histories back to the dataset's, empty mailboxes, no run-time faults, zero stats

  SimulatorStats stats() const;
  void count(std::uint64_t SimulatorStats::*counter);

  static constexpr std::size_t kRepliedAccesses = 25;

 private:
  const Dataset& dataset_;
  const std::function<domain::Instant()> clock_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<domain::PriorAccess>> histories_;  // newest first
  std::map<std::string, std::vector<LaNotification>> mailboxes_;
  std::map<std::string, Fault> faults_;
  std::uint64_t nextNotification_ = 1;
  SimulatorStats stats_;
};

}  // namespace cpis::sim
