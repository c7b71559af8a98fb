#pragma once

#include <string>

#include "engine/core/result.h"

namespace cpis::store {

// An exclusive advisory lock (flock) on a file beside the database, held for the lock's
// lifetime: one engine process per database file, since duplicate detection and recovery
// rely on there being one writer. The kernel drops the lock when the process dies, kill -9
// included, so a crash never leaves a stale lock behind.
class FileLock {
 public:
  // Creates `path` if needed and locks it; Unavailable, naming the file, when another process
  // holds it or it cannot be opened.
  static core::Result<FileLock> acquire(const std::string& path);
  // Holds no lock: for administration beside the process that holds it (cpis-admin).
  static FileLock none() { return FileLock(-1); }

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cpis::store
