#include "conformance/simulator/simulator_state.h"

#include <algorithm>

namespace cpis::sim {

SimulatorState::SimulatorState(const Dataset& dataset, std::function<domain::Instant()> clock)
    : dataset_(dataset), clock_(std::move(clock)) {
  reset();
}

std::optional<Fault> SimulatorState::takeFault(const domain::NhsNumber* number) {
  const std::lock_guard lock(mutex_);
  const auto take = [&](const std::string& key) -> std::optional<Fault> {
    const auto it = faults_.find(key);
    if (it == faults_.end()) return std::nullopt;
    Fault fault = it->second;
    if (it->second.times && --*it->second.times == 0) faults_.erase(it);
    return fault;
  };
  if (number != nullptr) {
    if (auto fault = take(std::string(number->reveal()))) return fault;
    if (const Child* child = dataset_.find(*number); child != nullptr && child->fault) return child->fault;
  }
  return take("*");
}

void SimulatorState::setFault(const std::string& key, const Fault& fault) {
  const std::lock_guard lock(mutex_);
  faults_.insert_or_assign(key, fault);
}

bool SimulatorState::clearFault(const std::string& key) {
  const std::lock_guard lock(mutex_);
  return faults_.erase(key) > 0;
}

void SimulatorState::clearFaults() {
  const std::lock_guard lock(mutex_);
  faults_.clear();
}

std::map<std::string, Fault> SimulatorState::faults() const {
  const std::lock_guard lock(mutex_);
  return faults_;
}

std::vector<domain::PriorAccess> SimulatorState::recentAccesses(const domain::NhsNumber& number) const {
  const std::lock_guard lock(mutex_);
  const auto it = histories_.find(std::string(number.reveal()));
  if (it == histories_.end()) return {};
  const auto n = std::min(it->second.size(), kRepliedAccesses);
  return {it->second.begin(), it->second.begin() + static_cast<std::ptrdiff_t>(n)};
}

void SimulatorState::recordAccess(const Child& child, const cpis::LookupRequest& request,
                                  const std::string& messageId) {
  domain::PriorAccess access;
  access.at = clock_();
  const auto& author = request.author;
  access.bySystem = author.kind == cpis::Author::Kind::System;
  access.personName = author.personName;
  access.jobRoleCode = author.jobRoleCode;
  access.jobRoleName = author.jobRoleName;
  access.orgOdsCode = author.orgOdsCode;
  access.orgName = author.orgName;
  if (access.bySystem) access.asid = author.asid;

  const std::lock_guard lock(mutex_);
  auto& history = histories_[std::string(child.nhsNumber.reveal())];
  history.insert(history.begin(), access);
  for (const auto& record : child.records) {
    LaNotification n;
    n.id = nextNotification_++;
    n.at = access.at;
    n.laOdsCode = record.la.odsCode;
    n.nhsNumber = std::string(child.nhsNumber.reveal());
    n.subject = record.subject;
    n.access = access;
    n.eventId = request.checkId;
    n.messageId = messageId;
    mailboxes_[record.la.odsCode].push_back(std::move(n));
  }
}

std::vector<domain::PriorAccess> SimulatorState::accesses(const domain::NhsNumber& number) const {
  const std::lock_guard lock(mutex_);
  const auto it = histories_.find(std::string(number.reveal()));
  return it == histories_.end() ? std::vector<domain::PriorAccess>{} : it->second;
}

std::vector<LaNotification> SimulatorState::notifications(const std::string& laOdsCode) const {
  const std::lock_guard lock(mutex_);
  const auto it = mailboxes_.find(laOdsCode);
  return it == mailboxes_.end() ? std::vector<LaNotification>{} : it->second;
}

void SimulatorState::reset() {
  const std::lock_guard lock(mutex_);
  histories_.clear();
  for (const auto& child : dataset_.children()) histories_[std::string(child.nhsNumber.reveal())] = child.accesses;
  mailboxes_.clear();
  faults_.clear();
  nextNotification_ = 1;
  stats_ = {};
}

SimulatorStats SimulatorState::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

void SimulatorState::count(std::uint64_t SimulatorStats::*counter) {
  const std::lock_guard lock(mutex_);
  ++(stats_.*counter);
}

}  // namespace cpis::sim
