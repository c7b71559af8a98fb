#include "engine/store/sqlite_wal.h"

#include <cerrno>
#include <fcntl.h>
#include <map>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace cpis::store {

WalFile::WalFile(std::string database, std::string who) : path_(std::move(database) + "-wal"), who_(std::move(who)) {}

WalFile::~WalFile() {
  if (fd_ >= 0) ::close(fd_);
}

core::Status WalFile::sync() {
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
  if (::fdatasync(fd_) != 0) {
    return core::Status::unavailable(who_ + ": syncing the write-ahead log failed (errno " + std::to_string(errno) +
                                     "); nothing of these writes was acknowledged");
  }
  return core::Status::ok();
}

std::shared_ptr<std::mutex> sqliteWriteLock(sqlite3* db) {
  static std::mutex registryMutex;
  static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<std::mutex>> registry;
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  struct stat info {};
  if (file == nullptr || *file == '\0' || ::stat(file, &info) != 0) return std::make_shared<std::mutex>();
  const std::lock_guard lock(registryMutex);
  for (auto it = registry.begin(); it != registry.end();) {  // files no writer has open any more
    it = it->second.expired() ? registry.erase(it) : std::next(it);
  }
  auto& slot = registry[{info.st_dev, info.st_ino}];
  if (auto shared = slot.lock()) return shared;
  auto created = std::make_shared<std::mutex>();
  slot = created;
  return created;
}

}  // namespace cpis::store
