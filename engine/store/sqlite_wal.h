#pragma once

// What the connections of one process that write the same SQLite file share: the message
// store's writer and the audit log's writer both write in WAL mode with synchronous=NORMAL
// and make their commits durable themselves, outside SQLite's write lock.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/core/status.h"

struct sqlite3;

namespace cpis::store {

// The WAL file of a database, synced on demand: fdatasync works on the file, whichever
// descriptor names it, so a commit made without a sync (synchronous=NORMAL) is durable once
// sync() returns. A WAL replaced on disk is noticed and reopened. One caller at a time; it
// touches only the file, never a connection, so it may run while another thread commits.
class WalFile {
 public:
  // `database`: the database file's path (the WAL is beside it, "-wal"); `who` names the
  // user in error texts ("message store", "audit log").
  WalFile(std::string database, std::string who);
  ~WalFile();
  WalFile(const WalFile&) = delete;
  WalFile& operator=(const WalFile&) = delete;

  core::Status sync();

 private:
  std::string path_;
  std::string who_;
  int fd_ = -1;
};

// One mutex per database file (by device and inode) for the connections of this process that
// write it. Each writer holds it from BEGIN IMMEDIATE to COMMIT, so a writer that finds the
// file busy waits for the other's commit and goes on at once, instead of sleeping in SQLite's
// busy handler (1 ms and more: the delay a message's finishing commit paid whenever an audit
// batch held the lock). Other processes (cpis-admin) still meet the busy timeout. The path of
// `db`'s main database; a file that cannot be looked at gets a mutex of its own.
std::shared_ptr<std::mutex> sqliteWriteLock(sqlite3* db);

}  // namespace cpis::store
