#pragma once

// What the connections of one process that write the same SQLite file share: the message
// store's writer and the audit log's writer both write in WAL mode with synchronous=NORMAL
// and make their commits durable themselves, outside SQLite's write lock.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>

#include "engine/core/status.h"

struct sqlite3;

namespace cpis::store {

// The syncs of one file, numbered in the order they begin. A caller needs the first sync that
// begins after its call (one already running may have missed its commit): it runs that sync
// itself if none is running, or waits until one has ended, and whoever runs it runs it for
// everyone waiting. A failed sync fails everyone who relied on it, even if a later one succeeds
// (after a failed fdatasync the kernel may have dropped the dirty pages, so a later success
// proves nothing about them).
class WalSyncGroup {
 public:
  // `patience`: how long to wait, when no sync is running, for another caller's sync to begin
  // before running one itself (for callers that nobody waits for, such as the audit log).
  core::Status sync(const std::function<core::Status()>& syncOnce,
                    std::chrono::microseconds patience = std::chrono::microseconds(0));
  std::size_t waiting() const;  // callers waiting for another's sync (for tests)
  // From now on every sync() fails with `failure` without running: the file may have lost
  // writes that a later sync would not bring back (after a failed fdatasync the kernel may drop
  // the dirty pages and report success next time), and SQLite's WAL frames chain their
  // checksums, so every later commit would hang on the lost ones. Only a restart (SQLite's
  // recovery of the WAL) makes the file trustworthy again. The first failure stays.
  void markBroken(core::Status failure);

 private:
  mutable std::mutex mutex_;
  std::condition_variable ended_;
  bool running_ = false;
  std::size_t waiting_ = 0;
  std::uint64_t begun_ = 0;
  std::uint64_t endedNumber_ = 0;
  std::uint64_t lastFailed_ = 0;
  core::Status lastFailure_ = core::Status::ok();
  std::optional<core::Status> broken_;
};

// The WAL file of a database, synced on demand: fdatasync works on the file, whichever
// descriptor names it, so a commit made without a sync (synchronous=NORMAL) is durable once
// sync() returns. A WAL replaced on disk is noticed and reopened. It touches only the file,
// never a connection, so it may run while another thread commits.
//
// The WalFiles of one database file in this process (the message store's writer and the audit
// log's) sync as a group: a sync() that finds another one's fdatasync running waits for it to
// end and then shares the next, which one of the waiters runs for all of them. So the two
// writers pay one fdatasync where they would have paid two, and the store's sync never queues
// behind the audit's in the kernel. One sync() per WalFile at a time.
class WalFile {
 public:
  // `database`: the database file's path (the WAL is beside it, "-wal"); `who` names the
  // user in error texts ("message store", "audit log"). `fdatasync`: the system call (tests
  // pass one that fails). A failed fdatasync breaks the file's group (WalSyncGroup::markBroken):
  // nothing written to it is acknowledged again until the process opens it anew.
  using Fdatasync = int (*)(int);
  WalFile(std::string database, std::string who, Fdatasync fdatasync = ::fdatasync);
  ~WalFile();
  WalFile(const WalFile&) = delete;
  WalFile& operator=(const WalFile&) = delete;

  // Every commit made to the file before the call is durable once this returns ok; a failed
  // fdatasync fails every sync() that relied on it (the failure names the WalFile that ran it).
  // `patience`: see WalSyncGroup::sync.
  core::Status sync(std::chrono::microseconds patience = std::chrono::microseconds(0));

 private:
  core::Status syncNow();  // one fdatasync through this WalFile's own descriptor

  std::string path_;
  std::string who_;
  Fdatasync fdatasync_;
  int fd_ = -1;
  std::shared_ptr<WalSyncGroup> group_;  // shared with the file's other WalFiles in this process
};

// One mutex per database file (by device and inode) for the connections of this process that
// write it. Each writer holds it from BEGIN IMMEDIATE to COMMIT, so a writer that finds the
// file busy waits for the other's commit and goes on at once, instead of sleeping in SQLite's
// busy handler (1 ms and more: the delay a message's finishing commit paid whenever an audit
// batch held the lock). Other processes (cpis-admin) still meet the busy timeout. The path of
// `db`'s main database; a file that cannot be looked at gets a mutex of its own.
std::shared_ptr<std::mutex> sqliteWriteLock(sqlite3* db);

}  // namespace cpis::store
