#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <thread>
#include <utility>
#include <vector>

namespace cpis::store {

// Group commit: requests from many threads go to one writer thread, which hands everything
// queued so far to the runner as one batch (one transaction, one sync) and then wakes each
// caller with its own reply.
//
// There is no timer. An idle writer starts on the first request at once, so a lone caller
// pays no added latency; requests that arrive while a batch is being committed form the next
// batch, so batches grow exactly as fast as the disk is the bottleneck.
//
// Threading: submit(), submitAsync() and submitLazy() from any thread; close() from any thread
// but the writer's. The runner must not call back into the queue; a callback may queue another
// request with submitAsync() or submitLazy() (they run with no lock of the queue held), never
// with submit() or close(), which would wait for the thread it runs on. submit() passes
// its request by pointer: the caller blocks until its reply is set, so the request outlives
// every use the runner makes of it. submitAsync() hands the request over and returns at once;
// its callback runs on the writer thread right after the batch, so it must be quick.
template <typename Request, typename Reply>
class GroupCommitQueue {
 public:
  // Called on the writer thread with a batch in submission order; returns one reply per
  // request, in the same order. It should not throw; if it does, every request of the batch
  // gets `failureReply`.
  using Runner = std::function<std::vector<Reply>(const std::vector<const Request*>&)>;

  struct Stats {
    std::uint64_t batches{};   // runner calls: commits, when each batch is one transaction
    std::uint64_t requests{};  // requests answered
    std::size_t largestBatch{};
    std::size_t queued{};  // waiting for the next batch
  };

  // Makes every batch the runner has finished so far durable (one sync for all of them);
  // returns nothing on success, or the reply every request of those batches gets instead.
  using Syncer = std::function<std::optional<Reply>()>;

  // maxBatch caps the requests per batch (so one transaction stays short); 1 turns group
  // commit off, which only makes sense for comparison.
  //
  // With a syncer, the runner only writes (its commits are not yet durable) and a second
  // thread syncs: replies go out only after a sync that began after their batch was written,
  // while the writer already writes the next batch. The time a batch takes is then the longer
  // of writing and syncing rather than their sum.
  //
  // Commits are not made more often than syncs need them: while a sync runs and a written batch
  // already waits for the next one, new requests wait in the queue (the next sync would cover
  // them either way), and when the sync ends, the sync thread first lets the writer commit
  // what has queued, then syncs it all at once. So each sync covers about one commit made
  // during it and one made right after it, however the requests trickle in; every commit
  // costs the database its fixed pages (a WAL frame each) and locks. A lone request still goes
  // at once: nobody holds it when no sync is running.
  GroupCommitQueue(std::size_t maxBatch, Runner runner, Reply failureReply, Syncer syncer = {})
      : maxBatch_(std::max<std::size_t>(maxBatch, 1)),
        runner_(std::move(runner)),
        failureReply_(std::move(failureReply)),
        syncer_(std::move(syncer)),
        syncThread_(syncer_ ? std::thread([this] { runSyncer(); }) : std::thread()),
        writer_([this] { runWriter(); }) {}

  GroupCommitQueue(const GroupCommitQueue&) = delete;
  GroupCommitQueue& operator=(const GroupCommitQueue&) = delete;
  ~GroupCommitQueue() { close(); }

  // Blocks until the batch holding the request has run; empty once close() has begun.
  std::optional<Reply> submit(const Request& request) {
    std::promise<Reply> promise;
    auto reply = promise.get_future();
    bool wake = false;
    {
      const std::lock_guard lock(mutex_);
      if (closing_) return std::nullopt;
      queue_.push_back(Pending{&request, std::move(promise), nullptr, nullptr, nullptr});
      wake = !holdForSync();  // a writer holding the queue is woken when the sync ends
    }
    if (wake) wake_.notify_one();
    return reply.get();
  }

  // Queues the request and returns at once; `done` gets the reply on the writer thread once the
  // batch holding the request has run. False (and `done` is not called) once close() has begun.
  // `done` is taken (moved from) only when the request is queued: after false, or an exception
  // (no memory), the caller still holds it and answers its own caller.
  //
  // `written` (optional, only with a syncer) is called on the writer thread with the reply as
  // soon as the batch is written, before its sync begins: for work that may start early but
  // promises nothing to anyone. If it returns false, `done` follows once the sync has ended (with
  // the sync's failure instead, if it failed). If it returns true, the request is settled as
  // written: it waits for no sync and `done` is never called; for a caller that makes its write
  // durable with a later request of its own, whose sync covers every commit before it. A batch
  // whose requests are all settled is not synced.
  bool submitAsync(Request request, std::function<void(Reply)>&& done,
                   std::function<bool(const Reply&)> written = {}) {
    bool wake = false;
    {
      const std::lock_guard lock(mutex_);
      if (closing_) return false;
      enqueue(queue_, std::move(request), done, written);
      wake = !holdForSync();  // a writer holding the queue is woken when the sync ends
    }
    if (wake) wake_.notify_one();
    return true;
  }

  // Queues a request nobody is waiting on soon (an audit row, a message whose lookup is already
  // running): it wakes no writer but joins the next batch written for another request, at its
  // front, so it costs no commit, lock or sync of its own while others write. Once it has
  // waited `linger` it is written anyway. `done` and `written` as with submitAsync. No request
  // queued after it is written before it. False (and `done` is not called) once close() has
  // begun; close() still writes what is lingering.
  bool submitLazy(Request request, std::function<void(Reply)>&& done, std::chrono::milliseconds linger,
                  std::function<bool(const Reply&)> written = {}) {
    bool wake = false;
    {
      const std::lock_guard lock(mutex_);
      if (closing_) return false;
      const auto due = Clock::now() + linger;
      enqueue(lazy_, std::move(request), done, written);
      // The writer learns of a sooner deadline; otherwise it wakes for the next request anyway.
      wake = lazy_.size() == 1 || due < lazyDue_;
      if (wake) lazyDue_ = due;
    }
    if (wake) wake_.notify_one();
    return true;
  }

  // Refuses new requests, lets the writer answer everything already queued, and joins it.
  // Idempotent.
  void close() {
    {
      const std::lock_guard lock(mutex_);
      closing_ = true;
    }
    wake_.notify_one();
    const std::lock_guard joinLock(joinMutex_);
    if (writer_.joinable()) writer_.join();
    {
      const std::lock_guard lock(mutex_);
      syncClosing_ = true;
    }
    syncWake_.notify_one();
    if (syncThread_.joinable()) syncThread_.join();
  }

  // Whether close() has begun: submit() now refuses.
  bool closing() const {
    const std::lock_guard lock(mutex_);
    return closing_;
  }

  Stats stats() const {
    std::size_t queued = 0;
    {
      const std::lock_guard lock(mutex_);
      queued = queue_.size() + lazy_.size();
    }
    return {batches_.load(std::memory_order_relaxed), requests_.load(std::memory_order_relaxed),
            largestBatch_.load(std::memory_order_relaxed), queued};
  }

 private:
  struct Pending {
    const Request* request;
    // Owned by the queue, not by the waiting caller: the caller may return (and unwind its
    // stack) the moment the value is visible, while set_value() is still finishing.
    std::promise<Reply> reply;
    std::unique_ptr<Request> owned;     // submitAsync: the request, kept until it has run
    std::function<void(Reply)> done;    // submitAsync: called instead of setting `reply`
    std::function<bool(const Reply&)> written;  // submitAsync: called once written, before the sync
  };

  void runWriter() {
    pthread_setname_np(pthread_self(), "cpis-commit");  // as `top -H` and perf show it
    std::vector<Pending> batch;
    std::vector<const Request*> requests;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        while (!readyToWrite()) {
          if (lazy_.empty() || holdForSync()) {
            wake_.wait(lock);
          } else {
            wake_.wait_until(lock, lazyDue_);
          }
        }
        if (queue_.empty() && lazy_.empty()) {
          writerDone_ = true;  // closing, and everything queued has been answered
          syncWake_.notify_one();
          return;
        }
        writing_ = true;
        take(lazy_, batch);  // first: they were queued before anything in queue_
        take(queue_, batch);
        if (!lazy_.empty()) lazyDue_ = Clock::now();  // a full batch left some: due at once
      }
      requests.clear();
      for (const auto& pending : batch) requests.push_back(pending.request);
      std::vector<Reply> replies;
      try {
        replies = runner_(requests);
      } catch (...) {  // the writer thread's top: a throwing runner must not strand its callers
        replies.clear();
      }
      // A runner bug (a throw, a reply missing) fails the batch rather than the process: the
      // callers answer their senders with a retryable error, nothing is acknowledged.
      if (replies.size() != batch.size()) replies.assign(batch.size(), failureReply_);
      batches_.fetch_add(1, std::memory_order_relaxed);
      requests_.fetch_add(batch.size(), std::memory_order_relaxed);
      if (batch.size() > largestBatch_.load(std::memory_order_relaxed)) {
        largestBatch_.store(batch.size(), std::memory_order_relaxed);
      }
      if (syncer_) {
        settleWritten(batch, replies);
        {
          const std::lock_guard lock(mutex_);
          if (!batch.empty()) unsynced_.push_back(Written{std::move(batch), std::move(replies)});
          writing_ = false;
          ++written_;  // counted either way: the sync thread's catch-up waits for the count
        }
        syncWake_.notify_one();
        batch.clear();  // moved from: empty again, ready for the next batch
      } else {
        {
          const std::lock_guard lock(mutex_);
          writing_ = false;
        }
        deliver(batch, replies);
        batch.clear();
      }
    }
  }

  // The sync thread: one sync for every batch written since the last one, then their replies.
  void runSyncer() {
    pthread_setname_np(pthread_self(), "cpis-sync");
    std::vector<Written> written;
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        syncWake_.wait(lock, [this] { return !unsynced_.empty() || syncClosing_; });
        if (unsynced_.empty()) return;  // closing, and every written batch has been answered
        // First the batch being written and the requests queued meanwhile (held while the last
        // sync ran): one commit more, and this sync covers them too. Bounded: at most the two
        // batches there are now, not whatever arrives while they are written, and not for long
        // (a batch that is slow, e.g. one waiting for a lock, does not hold up the others' sync).
        const std::uint64_t target = written_ + (writing_ ? 1 : 0) + (queue_.empty() ? 0 : 1);
        syncWake_.wait_for(lock, kCatchUpLimit, [this, target] { return written_ >= target || writerDone_; });
        written.swap(unsynced_);
        syncing_ = true;
      }
      std::optional<Reply> failed;
      try {
        failed = syncer_();
      } catch (...) {
        failed = failureReply_;
      }
      for (auto& w : written) {
        if (failed) w.replies.assign(w.batch.size(), *failed);
        deliver(w.batch, w.replies);
      }
      written.clear();
      {
        const std::lock_guard lock(mutex_);
        syncing_ = false;
      }
      wake_.notify_one();  // what the writer held for this sync may go now
    }
  }

  // Tells those who asked that their requests are written, and takes out of the batch the ones
  // that are settled with that (see submitAsync): what is left waits for the sync.
  static void settleWritten(std::vector<Pending>& batch, std::vector<Reply>& replies) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      bool settled = false;
      if (batch[i].written) {
        try {
          settled = batch[i].written(replies[i]);
        } catch (...) {  // as deliver(): a callback's bug must not stop the queue; it waits for the sync
        }
      }
      if (settled) continue;
      if (kept != i) {
        batch[kept] = std::move(batch[i]);
        replies[kept] = std::move(replies[i]);
      }
      ++kept;
    }
    batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(kept), batch.end());
    replies.erase(replies.begin() + static_cast<std::ptrdiff_t>(kept), replies.end());
  }

  // Adds a request to `into` (mutex_ held). The vector grows before anything is moved out of
  // `done`: a throw (no memory) leaves it with the caller, who answers its own caller.
  void enqueue(std::vector<Pending>& into, Request&& request, std::function<void(Reply)>& done,
               std::function<bool(const Reply&)>& written) {
    auto owned = std::make_unique<Request>(std::move(request));
    const Request* pointer = owned.get();
    if (into.size() == into.capacity()) into.reserve(std::max<std::size_t>(16, into.capacity() * 2));
    into.push_back(Pending{pointer, {}, std::move(owned), std::move(done), syncer_ ? std::move(written) : nullptr});
  }

  // Whether the writer has a batch to write now (mutex_ held).
  bool readyToWrite() const {
    if (closing_) return true;
    if (holdForSync()) return false;
    return !queue_.empty() || (!lazy_.empty() && Clock::now() >= lazyDue_);
  }

  // Moves into `batch` as many of `from`'s requests, oldest first, as it has room for.
  void take(std::vector<Pending>& from, std::vector<Pending>& batch) const {
    const std::size_t room = maxBatch_ - batch.size();
    if (from.size() <= room && batch.empty()) {
      batch.swap(from);  // both vectors keep their capacity: no allocation per batch
      return;
    }
    const auto end = from.begin() + static_cast<std::ptrdiff_t>(std::min(room, from.size()));
    batch.insert(batch.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(end));
    from.erase(from.begin(), end);
  }

  // Whether the writer leaves the queue for a moment (mutex_ held): a sync is running and a
  // written batch already waits for the next one, which would cover these requests too.
  bool holdForSync() const {
    return syncer_ && syncing_ && !unsynced_.empty() && queue_.size() < maxBatch_;
  }

  static void deliver(std::vector<Pending>& batch, std::vector<Reply>& replies) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].done) {
        try {
          batch[i].done(std::move(replies[i]));
        } catch (...) {  // a callback's bug must not stop the queue: its caller hears nothing
        }
      } else {
        batch[i].reply.set_value(std::move(replies[i]));
      }
    }
  }

  // How long a sync waits for the writer to catch up (see runSyncer).
  static constexpr std::chrono::milliseconds kCatchUpLimit{2};

  using Clock = std::chrono::steady_clock;

  const std::size_t maxBatch_;
  const Runner runner_;
  const Reply failureReply_;

  // Guards queue_, closing_ and the writer's and the sync thread's state below.
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the writer's
  std::vector<Pending> queue_;
  std::vector<Pending> lazy_;  // submitLazy's, for the next batch
  Clock::time_point lazyDue_;  // when the oldest of lazy_ is written even alone
  bool closing_ = false;
  bool writing_ = false;          // the writer is running a batch
  bool writerDone_ = false;       // the writer has returned (closing)

  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::size_t> largestBatch_{0};

  struct Written {
    std::vector<Pending> batch;
    std::vector<Reply> replies;
  };
  const Syncer syncer_;
  std::condition_variable syncWake_;  // the sync thread's
  std::vector<Written> unsynced_;  // written, not yet synced: nobody is answered before the sync
  std::uint64_t written_ = 0;      // batches handed to unsynced_ so far
  bool syncing_ = false;           // the sync thread is syncing (or answering) what it took
  bool syncClosing_ = false;

  std::mutex joinMutex_;  // two threads calling close() must not both join
  std::thread syncThread_;
  std::thread writer_;    // last: starts once every member above is initialised
};

}  // namespace cpis::store
