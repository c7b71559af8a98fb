#include "engine/store/sqlite_wal.h"

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace cpis::store {

core::Status WalSyncGroup::sync(const std::function<core::Status()>& syncOnce, std::chrono::microseconds patience) {
  std::unique_lock lock(mutex_);
  if (broken_) return *broken_;
  const std::uint64_t needed = begun_ + 1;
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (endedNumber_ < needed) {
    if (broken_) return *broken_;  // broken while this caller waited: no sync would be believed
    if (running_) {
      ++waiting_;
      ended_.wait(lock);
      --waiting_;
      continue;
    }
    if (patience.count() > 0 && std::chrono::steady_clock::now() < deadline) {
      ++waiting_;  // someone else's sync may begin and cover this caller too
      ended_.wait_until(lock, deadline, [&] { return endedNumber_ >= needed; });
      --waiting_;
      continue;
    }
    running_ = true;
    const std::uint64_t number = ++begun_;
    lock.unlock();
    core::Status status = core::Status::ok();
    try {
      status = syncOnce();
    } catch (...) {
      lock.lock();
      running_ = false;
      ended_.notify_all();  // a waiter runs the next one
      throw;
    }
    lock.lock();
    running_ = false;
    endedNumber_ = number;
    if (!status.isOk()) {
      lastFailed_ = number;
      lastFailure_ = status;
    }
    ended_.notify_all();
  }
  if (broken_) return *broken_;  // broken by this very sync, or while it ran
  return lastFailed_ >= needed ? lastFailure_ : core::Status::ok();
}

void WalSyncGroup::markBroken(core::Status failure) {
  const std::lock_guard lock(mutex_);
  if (!broken_) broken_ = std::move(failure);
}

std::size_t WalSyncGroup::waiting() const {
  const std::lock_guard lock(mutex_);
  return waiting_;
}

namespace {

// One T per database file (by device and inode) among the users in this process that hold it;
// a path that cannot be looked at gets a T of its own.
template <typename T>
std::shared_ptr<T> sharedPerFile(const char* file) {
  static std::mutex registryMutex;
  static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<T>> registry;
  struct stat info {};
  if (file == nullptr || *file == '\0' || ::stat(file, &info) != 0) return std::make_shared<T>();
  const std::lock_guard lock(registryMutex);
  for (auto it = registry.begin(); it != registry.end();) {  // files no one has open any more
    it = it->second.expired() ? registry.erase(it) : std::next(it);
  }
  auto& slot = registry[{info.st_dev, info.st_ino}];
  if (auto shared = slot.lock()) return shared;
  auto created = std::make_shared<T>();
  slot = created;
  return created;
}

}  // namespace

WalFile::WalFile(std::string database, std::string who, Fdatasync fdatasync)
    : path_(database + "-wal"),
      who_(std::move(who)),
      fdatasync_(fdatasync),
      group_(sharedPerFile<WalSyncGroup>(database.c_str())) {}

WalFile::~WalFile() {
  if (fd_ >= 0) ::close(fd_);
}

core::Status WalFile::sync(std::chrono::microseconds patience) {
  return group_->sync([this] { return syncNow(); }, patience);
}

core::Status WalFile::syncNow() {
  struct stat byPath {};
  if (::stat(path_.c_str(), &byPath) != 0) {
    return core::Status::unavailable(who_ + ": the write-ahead log is missing (errno " + std::to_string(errno) + ")");
  }
  struct stat byFd {};
  if (fd_ < 0 || ::fstat(fd_, &byFd) != 0 || byFd.st_ino != byPath.st_ino || byFd.st_dev != byPath.st_dev) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return core::Status::unavailable(who_ + ": cannot open the write-ahead log (errno " + std::to_string(errno) +
                                       ")");
    }
  }
  if (fdatasync_(fd_) != 0) {
    const int error = errno;
    group_->markBroken(core::Status::unavailable(
        "the write-ahead log of " + path_.substr(0, path_.size() - 4) + " could not be synced (errno " +
        std::to_string(error) +
        ") and may have lost writes: nothing written since is acknowledged until the engine restarts"));
    return core::Status::unavailable(who_ + ": syncing the write-ahead log failed (errno " + std::to_string(error) +
                                     "); nothing of these writes was acknowledged");
  }
  return core::Status::ok();
}

std::shared_ptr<std::mutex> sqliteWriteLock(sqlite3* db) {
  return sharedPerFile<std::mutex>(db != nullptr ? sqlite3_db_filename(db, "main") : nullptr);
}

}  // namespace cpis::store
