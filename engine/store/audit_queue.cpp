#include "engine/store/audit_queue.h"

#include <iterator>
#include <string>
#include <utility>

#include <Poco/Logger.h>

namespace cpis::store {

namespace {

Poco::Logger& logger() {
  return Poco::Logger::get("cpis.store");
}

}  // namespace

AuditQueue::AuditQueue(std::size_t maxQueued, BatchWriter writeBatch)
    : maxQueued_(maxQueued == 0 ? 1 : maxQueued),
      writeBatch_(std::move(writeBatch)),
      writer_([this] { runWriter(); }) {}

AuditQueue::~AuditQueue() {
  close();
}

void AuditQueue::close() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void AuditQueue::record(const QueryAuditEntry& entry) {
  std::unique_lock lock(mutex_);
  progress_.wait(lock, [&] { return queue_.size() < maxQueued_ || closing_; });
  if (closing_) {
    ++stats_.failed;  // only a caller racing close() gets here
    logger().error("audit log: an entry arrived after the audit log was closed; it was not written");
    return;
  }
  queue_.push_back(entry);
  ++enqueued_;
  lock.unlock();
  wake_.notify_one();
}

core::Status AuditQueue::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = enqueued_;
  progress_.wait(lock, [&] { return done_ >= target; });
  auto failure = std::exchange(lastFailure_, std::nullopt);
  return failure ? std::move(*failure) : core::Status::ok();
}

AuditQueueStats AuditQueue::stats() const {
  const std::lock_guard lock(mutex_);
  AuditQueueStats s = stats_;
  s.queued = queue_.size();
  return s;
}

void AuditQueue::runWriter() {
  std::vector<QueryAuditEntry> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;  // closing, and everything written
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    progress_.notify_all();  // room in the queue again
    auto failure = writeBatch_(batch);
    {
      const std::lock_guard lock(mutex_);
      done_ += batch.size();
      ++stats_.commits;
      if (failure) {
        stats_.failed += batch.size();
        lastFailure_ = std::move(failure);
      } else {
        stats_.written += batch.size();
      }
    }
    progress_.notify_all();
    batch.clear();
  }
}

AuditThrough::AuditThrough(std::size_t maxQueued, Writer writer)
    : maxQueued_(maxQueued == 0 ? 1 : maxQueued), writer_(std::move(writer)) {}

AuditThrough::~AuditThrough() {
  close();
}

void AuditThrough::close() {
  std::unique_lock lock(mutex_);
  closing_ = true;
  progress_.wait(lock, [&] { return inFlight_.empty(); });
}

void AuditThrough::record(const QueryAuditEntry& entry) {
  std::uint64_t number = 0;
  {
    std::unique_lock lock(mutex_);
    progress_.wait(lock, [&] { return inFlight_.size() < maxQueued_ || closing_; });
    if (closing_) {
      ++stats_.failed;  // only a caller racing close() gets here
      logger().error("audit log: an entry arrived after the audit log was closed; it was not written");
      return;
    }
    try {
      inFlight_.insert(number = enqueued_ + 1);
    } catch (const std::exception&) {  // no memory to track it: not written, and said so (record never throws)
      ++stats_.failed;
      lastFailure_ = core::Status::unavailable("audit log: an entry could not be queued (no memory)");
      return;
    }
    enqueued_ = number;
  }
  try {
    writer_({entry}, [this, number](core::Status status) { finished(number, std::move(status)); });
  } catch (const std::exception& e) {  // the writer could not take it (no memory): not written
    finished(number, core::Status::unavailable(std::string("audit log: an entry could not be queued: ") + e.what()));
  }
}

void AuditThrough::finished(std::uint64_t number, core::Status status) noexcept {
  bool failed = false;
  {
    const std::lock_guard lock(mutex_);
    if (inFlight_.erase(number) == 0) return;  // answered already: a writer that called twice
    ++stats_.commits;
    if (status.isOk()) {
      ++stats_.written;
    } else {
      ++stats_.failed;
      failed = true;
    }
    // Under the lock: close() may return, and this object go, as soon as the lock is free.
    progress_.notify_all();
    if (failed) {
      try {
        logger().error("audit log: an entry was not written: " + status.message());
      } catch (...) {  // no memory for the text: the count above still says so
      }
      lastFailure_ = std::move(status);
    }
  }
}

core::Status AuditThrough::flush() {
  std::unique_lock lock(mutex_);
  // Every row handed over before this call: numbered up to `target`, answered in any order.
  const std::uint64_t target = enqueued_;
  progress_.wait(lock, [&] { return inFlight_.empty() || *inFlight_.begin() > target; });
  auto failure = std::exchange(lastFailure_, std::nullopt);
  return failure ? std::move(*failure) : core::Status::ok();
}

AuditQueueStats AuditThrough::stats() const {
  const std::lock_guard lock(mutex_);
  AuditQueueStats s = stats_;
  s.queued = inFlight_.size();
  return s;
}

}  // namespace cpis::store
