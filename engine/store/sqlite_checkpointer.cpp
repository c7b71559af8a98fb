#include "engine/store/sqlite_checkpointer.h"

#include <sqlite3.h>
#include <string>
#include <utility>

#include <Poco/Data/SQLite/Utility.h>
#include <Poco/Logger.h>

namespace cpis::store {

SqliteCheckpointer::SqliteCheckpointer(Poco::Data::Session session, sqlite3* writerDb, int thresholdFrames,
                                       int inlineFrames)
    : session_(std::move(session)),
      db_(Poco::Data::SQLite::Utility::dbHandle(session_)),
      writerDb_(writerDb),
      thresholdFrames_(thresholdFrames),
      inlineFrames_(inlineFrames),
      wakeAtFrames_(thresholdFrames),
      thread_([this] { runCheckpoints(); }) {
  sqlite3_wal_hook(writerDb_, &SqliteCheckpointer::afterCommit, this);
}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite3_wal_hook(writerDb_, nullptr, nullptr);
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int SqliteCheckpointer::afterCommit(void* self, sqlite3* db, const char* /*schema*/, int frames) {
  auto& checkpointer = *static_cast<SqliteCheckpointer*>(self);
  if (frames < checkpointer.lastFrames_) {  // the WAL has restarted
    checkpointer.wakeAtFrames_ = checkpointer.thresholdFrames_;
    checkpointer.backfilledFrames_.store(0, std::memory_order_relaxed);
  }
  checkpointer.lastFrames_ = frames;
  const int notCopied = frames - checkpointer.backfilledFrames_.load(std::memory_order_relaxed);
  if (frames >= checkpointer.thresholdFrames_ &&
      (notCopied <= checkpointer.thresholdFrames_ / 4 || frames >= checkpointer.inlineFrames_)) {
    // Finish here, between two transactions, what the background has nearly done: the next
    // transaction then restarts the WAL. Busy (the background holds the lock) is fine: the
    // next commit tries again.
    if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) == SQLITE_OK) {
      checkpointer.checkpoints_.fetch_add(1, std::memory_order_relaxed);
    }
  } else if (frames >= checkpointer.wakeAtFrames_) {
    // Once per thresholdFrames of growth, not after every commit: each checkpoint syncs the
    // database file, and that competes with the writer's syncs.
    checkpointer.wakeAtFrames_ = frames + checkpointer.thresholdFrames_;
    {
      const std::lock_guard lock(checkpointer.mutex_);
      checkpointer.wanted_ = true;
    }
    checkpointer.wake_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteCheckpointer::runCheckpoints() {
  pthread_setname_np(pthread_self(), "cpis-checkpoint");  // as `top -H` and perf show it
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return wanted_ || stopping_; });
      if (stopping_) return;
      wanted_ = false;
    }
    // PASSIVE: copies what it can without waiting for, or blocking, the writer or readers.
    int copied = 0;
    const int code = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
    if (code == SQLITE_OK) {
      backfilledFrames_.store(copied, std::memory_order_relaxed);
      checkpoints_.fetch_add(1, std::memory_order_relaxed);
    } else if (code != SQLITE_BUSY) {
      // Not fatal: the WAL keeps every commit; the writer checkpoints inline if it grows on.
      Poco::Logger::get("cpis.store")
          .warning("message store: background checkpoint failed (SQLite " + std::to_string(code) + ": " +
                   sqlite3_errstr(code) + ")");
    }
  }
}

}  // namespace cpis::store
