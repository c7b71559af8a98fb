// What only the SQLite store has: its file (lock, WAL, checkpoints, size cap) and its writer.
// The behaviour every store shares is tested in message_store_test.cpp, against each backend.
#include "engine/store/sqlite_message_store.h"

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <Poco/Data/SQLite/Connector.h>
#include <Poco/Data/Session.h>

#include <boost/test/unit_test.hpp>

#include "engine/store/sqlite_schema.h"
#include "engine/store/sqlite_writer.h"
#include "tests/support/log_capture.h"
#include "tests/support/temp_dir.h"
#include "tests/support/wait_for.h"
#include "tests/unit/store/fake_clock.h"

using namespace std::chrono_literals;
using cpis::core::Status;
using cpis::store::MessageId;
using cpis::store::MessageState;
using cpis::store::SqliteMessageStore;
using cpis::store::SqliteStoreOptions;
using cpis::test::FakeClock;
using cpis::test::TempDir;

namespace {

std::string messageBytes(const std::string& controlId) {
  return "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|" + controlId + "|P|2.4\rPID|||1\r";
}

// A store on a fresh database in `dir`, stamping times from `clock`.
class StoreFixture {
 public:
  explicit StoreFixture(SqliteStoreOptions options = {}) : options_(std::move(options)) {
    options_.clock = clock.function();
    reopen();
  }
  void reopen() {
    store_.reset();
    auto opened = SqliteMessageStore::open(path(), options_);
    BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    store_ = std::move(opened).value();
  }
  SqliteMessageStore& store() { return *store_; }
  std::string path() const { return dir.file("messages.db"); }

  // Persists a new message and returns its id.
  MessageId persist(const std::string& controlId, const std::string& feed = "edsys") {
    const auto raw = messageBytes(controlId);
    auto outcome = store_->persistInbound({feed, controlId, raw});
    BOOST_REQUIRE_MESSAGE(outcome.ok(), (outcome.ok() ? "" : outcome.error().message()));
    BOOST_REQUIRE(!outcome->duplicate);
    return outcome->id;
  }

  TempDir dir;
  FakeClock clock;

 private:
  SqliteStoreOptions options_;
  std::unique_ptr<SqliteMessageStore> store_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sqlite_message_store)

BOOST_AUTO_TEST_CASE(a_second_store_on_the_same_file_is_refused_until_the_first_closes) {
  auto fixture = std::make_unique<StoreFixture>();
  const std::string path = fixture->path();
  const auto second = SqliteMessageStore::open(path);
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST(second.error().message().find("in use by another process") != std::string::npos);
  BOOST_TEST(second.error().message().find(path + ".lock") != std::string::npos);
  fixture->reopen();  // the same fixture closes its store first, so the lock is free again
  BOOST_TEST(fixture->store().listUnfinished().ok());
}

// The lock is the database's real name's: a path through a symbolic link to a file another
// engine has open is refused too (two engines on one file query Spine twice for its messages).
BOOST_AUTO_TEST_CASE(a_second_store_through_a_symbolic_link_is_refused) {
  StoreFixture fixture;
  const std::string link = fixture.dir.file("link.db");
  std::filesystem::create_symlink(fixture.path(), link);
  const auto second = SqliteMessageStore::open(link);
  BOOST_REQUIRE(!second.ok());
  BOOST_TEST(second.error().message().find("in use by another process") != std::string::npos,
             second.error().message());
  BOOST_TEST(second.error().message().find(fixture.path() + ".lock") != std::string::npos,
             second.error().message());
}

BOOST_AUTO_TEST_CASE(an_early_persist_says_when_the_message_is_written_then_when_it_is_durable) {
  StoreFixture fixture;
  const std::string raw = messageBytes("EARLY1");
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> events;  // in the order they came
  std::vector<cpis::store::PersistOutcome> outcomes;
  const auto record = [&](const char* what, const cpis::core::Result<cpis::store::PersistOutcome>& r) {
    const std::lock_guard lock(mutex);
    events.emplace_back(r.ok() ? what : "failed");
    if (r.ok()) outcomes.push_back(r.value());
    changed.notify_all();
  };
  const std::string controlId = "EARLY1";  // the store's views of it hold until `durable`
  const auto send = [&] {
    fixture.store().persistInboundEarly(
        {"edsys", controlId, raw},
        [&](const cpis::store::PersistOutcome& r) {
          record("written", r);
          return false;  // waits for `durable`
        },
        [&](auto r) { record("durable", r); });
  };
  send();
  {
    std::unique_lock lock(mutex);
    BOOST_REQUIRE(changed.wait_for(lock, 10s, [&] { return events.size() == 2; }));
    BOOST_TEST(events == (std::vector<std::string>{"written", "durable"}));
    BOOST_TEST(outcomes[0].id == outcomes[1].id);
    BOOST_TEST(!outcomes[0].duplicate);
  }
  send();  // the resend: its written verdict is already "duplicate" (nothing may start)
  std::unique_lock lock(mutex);
  BOOST_REQUIRE(changed.wait_for(lock, 10s, [&] { return events.size() == 4; }));
  BOOST_TEST(events[2] == "written");
  BOOST_TEST(outcomes[2].duplicate);
  BOOST_TEST(outcomes[2].id == outcomes[0].id);
  BOOST_TEST(outcomes[3].duplicate);
}

BOOST_AUTO_TEST_CASE(a_message_taken_as_written_is_made_durable_by_its_finish) {
  StoreFixture fixture;
  const std::string raw = messageBytes("TAKEN1");
  const std::string controlId = "TAKEN1";
  std::promise<cpis::store::PersistOutcome> written;
  std::atomic<int> doneCalls{0};
  fixture.store().persistInboundEarly(
      {"edsys", controlId, raw},
      [&](const cpis::store::PersistOutcome& r) {
        written.set_value(r);
        return true;  // the finish below makes it durable
      },
      [&](auto) { ++doneCalls; });
  const auto outcome = written.get_future().get();
  BOOST_TEST(!outcome.duplicate);
  // Committed soon (a new message is taken before its write), though not synced on its own.
  BOOST_REQUIRE(cpis::test::waitFor([&] { return fixture.store().fetch(outcome.id).ok(); }));
  BOOST_TEST((fixture.store().fetch(outcome.id)->state == cpis::store::MessageState::Received));
  BOOST_REQUIRE(fixture.store().finish(outcome.id, cpis::store::MessageState::Processed, "checked", "MSH|ACK").isOk());
  fixture.reopen();  // everything answered, the writer closed
  const auto finished = fixture.store().fetch(outcome.id);
  BOOST_REQUIRE(finished.ok());
  BOOST_TEST((finished->state == cpis::store::MessageState::Processed));
  BOOST_TEST(doneCalls.load() == 0);  // taken as written: `done` is never called
}

BOOST_AUTO_TEST_CASE(a_certainly_new_message_is_offered_before_its_write_and_a_possible_duplicate_after) {
  StoreFixture fixture;
  const std::string raw = messageBytes("EARLY1");
  const auto caller = std::this_thread::get_id();
  std::promise<std::pair<cpis::store::PersistOutcome, bool>> first;
  fixture.store().persistInboundEarly(
      {"edsys", "EARLY1", raw},
      [&](const cpis::store::PersistOutcome& r) {
        first.set_value({r, std::this_thread::get_id() == caller});
        return true;
      },
      [](auto) {});
  const auto [outcome, onCaller] = first.get_future().get();
  BOOST_TEST(!outcome.duplicate);
  BOOST_TEST(onCaller);  // no message of the window has its (feed, MSH-10): known before the write
  BOOST_REQUIRE(fixture.store().finish(outcome.id, cpis::store::MessageState::Processed, "checked", "MSH|ACK").isOk());
  BOOST_TEST(fixture.store().fetch(outcome.id)->raw.value() == raw);  // stored under the id it was given

  // The resend: a possible duplicate, so the writer decides, and says so once it has written.
  std::promise<std::pair<cpis::store::PersistOutcome, bool>> second;
  std::promise<cpis::core::Result<cpis::store::PersistOutcome>> done;
  fixture.store().persistInboundEarly(
      {"edsys", "EARLY1", raw},
      [&](const cpis::store::PersistOutcome& r) {
        second.set_value({r, std::this_thread::get_id() == caller});
        return false;
      },
      [&](auto r) { done.set_value(std::move(r)); });
  const auto [again, againOnCaller] = second.get_future().get();
  BOOST_TEST(again.duplicate);
  BOOST_TEST(again.id == outcome.id);
  BOOST_TEST(!againOnCaller);
  BOOST_TEST(done.get_future().get().value().originalAck.value() == "MSH|ACK");
}

BOOST_AUTO_TEST_CASE(of_one_message_sent_twice_at_once_on_two_connections_exactly_one_is_new) {
  // Two senders with the same (feed, MSH-10) at the same moment, key after key: whichever is
  // judged first, the other is its duplicate. Neither may be told "new" while the other is
  // written as the original (two lookups for one message, and a finish without its message).
  TempDir dir;
  const std::string path = dir.file("race.db");
  constexpr int kKeys = 2'000;
  std::vector<std::atomic<int>> toldNew(kKeys);
  std::atomic<int> failures{0};
  {
    auto store = SqliteMessageStore::open(path).value();
    const std::string raw = messageBytes("RACE");
    std::vector<std::string> keys;  // the views a persist is given must outlive its answer
    for (int i = 0; i < kKeys; ++i) keys.push_back("RACE-" + std::to_string(i));
    std::barrier together(2);
    const auto sender = [&] {
      for (int i = 0; i < kKeys; ++i) {
        together.arrive_and_wait();
        store->persistInboundEarly(
            {"edsys", keys[static_cast<std::size_t>(i)], raw},
            [&, i](const cpis::store::PersistOutcome& r) {
              if (r.duplicate) return false;
              ++toldNew[i];
              return true;  // taken as written, as the engine's intake does
            },
            [&, i](cpis::core::Result<cpis::store::PersistOutcome> r) {
              if (!r) ++failures;
              else if (!r.value().duplicate) ++toldNew[i];
            });
      }
    };
    std::thread a(sender);
    std::thread b(sender);
    a.join();
    b.join();
    store->close();  // writes what lingers, answers everything
  }
  BOOST_TEST(failures.load() == 0);
  int wrong = 0;
  for (const auto& n : toldNew) wrong += n.load() != 1 ? 1 : 0;
  BOOST_TEST(wrong == 0);
  auto reopened = SqliteMessageStore::open(path).value();
  BOOST_TEST(reopened->listUnfinished().value().size() == static_cast<std::size_t>(kKeys));  // one stored per key
}

BOOST_AUTO_TEST_CASE(a_message_taken_before_its_write_shares_a_transaction_with_its_finish) {
  SqliteStoreOptions options;
  options.admittedLinger = 1h;  // only another write takes it
  StoreFixture fixture(options);
  const std::string raw = messageBytes("SHARED1");
  std::optional<cpis::store::PersistOutcome> taken;
  const auto before = fixture.store().stats().transactions;
  fixture.store().persistInboundEarly(
      {"edsys", "SHARED1", raw},
      [&](const cpis::store::PersistOutcome& r) {
        taken = r;  // asked on this thread: no message of the window has its key
        return true;
      },
      [](auto) {});
  BOOST_REQUIRE(taken.has_value());
  BOOST_TEST(fixture.store().stats().queuedWrites == 1U);  // lingering, not written
  BOOST_REQUIRE(fixture.store().finish(taken->id, cpis::store::MessageState::Processed, "checked", "MSH|ACK").isOk());
  BOOST_TEST(fixture.store().stats().transactions == before + 1);  // the message and its finish in one
  const auto stored = fixture.store().fetch(taken->id);
  BOOST_REQUIRE(stored.ok());
  BOOST_TEST((stored->state == cpis::store::MessageState::Processed));
  BOOST_TEST(stored->raw.value() == raw);
}

BOOST_AUTO_TEST_CASE(a_message_taken_before_its_write_is_written_when_the_store_closes) {
  SqliteStoreOptions options;
  options.admittedLinger = 1h;
  StoreFixture fixture(options);
  const std::string raw = messageBytes("CLOSING1");
  std::optional<cpis::store::PersistOutcome> taken;
  fixture.store().persistInboundEarly(
      {"edsys", "CLOSING1", raw},
      [&](const cpis::store::PersistOutcome& r) {
        taken = r;
        return true;
      },
      [](auto) {});
  BOOST_REQUIRE(taken.has_value());
  fixture.reopen();  // close() writes what lingers
  const auto stored = fixture.store().fetch(taken->id);
  BOOST_REQUIRE(stored.ok());
  BOOST_TEST((stored->state == cpis::store::MessageState::Received));  // recovery checks it
  BOOST_TEST(fixture.store().listUnfinished().value() == std::vector<MessageId>{taken->id});
}

BOOST_AUTO_TEST_CASE(a_new_message_not_taken_before_its_write_is_answered_once_durable) {
  StoreFixture fixture;
  const std::string raw = messageBytes("DECLINED1");
  std::atomic<int> writtenCalls{0};
  std::promise<cpis::core::Result<cpis::store::PersistOutcome>> done;
  fixture.store().persistInboundEarly(
      {"edsys", "DECLINED1", raw},
      [&](const cpis::store::PersistOutcome&) {
        ++writtenCalls;
        return false;
      },
      [&](auto r) { done.set_value(std::move(r)); });
  const auto persisted = done.get_future().get();
  BOOST_REQUIRE(persisted.ok());
  BOOST_TEST(!persisted->duplicate);
  BOOST_TEST(writtenCalls.load() <= 1);  // asked at most once (not at all if it was answered first)
  BOOST_TEST(fixture.store().fetch(persisted->id).ok());
}

BOOST_AUTO_TEST_CASE(ids_go_on_from_the_largest_stored_after_a_restart) {
  StoreFixture fixture;
  const MessageId first = fixture.persist("RESTART1");
  const MessageId second = fixture.persist("RESTART2");
  BOOST_TEST(second > first);
  fixture.reopen();
  const MessageId third = fixture.persist("RESTART3");
  BOOST_TEST(third == second + 1);
  BOOST_TEST(fixture.store().fetch(third)->controlId == "RESTART3");
}

BOOST_AUTO_TEST_CASE(of_two_identical_messages_in_one_batch_the_second_is_a_duplicate) {
  // The writer directly, so both are certainly in one transaction.
  TempDir dir;
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, dir.file("batch.db"));
  BOOST_REQUIRE(cpis::store::configureSqliteConnection(session, cpis::store::SqliteRole::Writer, 0).isOk());
  BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session).isOk());
  cpis::store::SqliteWriter writer(session, 1h);
  const std::string raw = messageBytes("MSG1");
  const auto at = FakeClock().now();
  const cpis::store::WriteRequest first{cpis::store::PersistWrite{{"edsys", "MSG1", raw}, at}};
  const cpis::store::WriteRequest second{cpis::store::PersistWrite{{"edsys", "MSG1", raw}, at}};
  const cpis::store::WriteRequest other{cpis::store::PersistWrite{{"edsys", "MSG2", raw}, at}};
  const auto replies = writer.run({&first, &second, &other});
  BOOST_REQUIRE(replies.size() == 3U);
  for (const auto& reply : replies) BOOST_TEST(reply.status.isOk());
  BOOST_TEST(!replies[0].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.id == replies[0].persisted.id);
  BOOST_TEST(!replies[2].persisted.duplicate);
}

BOOST_AUTO_TEST_CASE(the_database_is_in_wal_mode) {
  StoreFixture fixture;
  (void)fixture.persist("MSG1");
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, fixture.path());
  std::string mode;
  session << "PRAGMA journal_mode", Poco::Data::Keywords::into(mode), Poco::Data::Keywords::now;
  BOOST_TEST(mode == "wal");
}

BOOST_AUTO_TEST_CASE(the_wal_is_copied_back_and_stays_bounded) {
  SqliteStoreOptions options;
  options.checkpointFrames = 20;  // the writer checkpoints itself past 200 frames
  StoreFixture fixture(options);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        const std::string controlId = "W" + std::to_string(t) + "-" + std::to_string(i);
        const std::string raw = messageBytes(controlId) + std::string(1500, 'x');
        if (!fixture.store().persistInbound({"edsys", controlId, raw}).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  BOOST_REQUIRE(failures == 0);
  BOOST_TEST(fixture.store().stats().checkpoints > 0U);
  // 1,000 messages of 1.5 KB are some 2,500 pages: unbounded, the WAL would hold them all
  BOOST_TEST(std::filesystem::file_size(fixture.path() + "-wal") < 4U * 1024 * 1024);
  fixture.reopen();
  BOOST_TEST(fixture.store().listUnfinished().value().size() == 1000U);
}

BOOST_AUTO_TEST_CASE(a_corrupt_database_file_is_a_status) {
  TempDir dir;
  const std::string path = dir.file("corrupt.db");
  {
    std::ofstream file(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) file << "PID|||9434765919^^^NHS||DOE^JANE\r";
  }
  const auto opened = SqliteMessageStore::open(path);
  BOOST_REQUIRE(!opened.ok());
  BOOST_TEST((opened.error().code() == Status::Code::Unavailable));
  BOOST_TEST(opened.error().message().find(path) != std::string::npos);
  BOOST_TEST(opened.error().message().find("DOE") == std::string::npos);  // no content echoed
  BOOST_TEST_MESSAGE(opened.error());
}

BOOST_AUTO_TEST_CASE(a_database_that_cannot_be_created_is_a_status) {
  TempDir dir;
  const std::string file = dir.file("plain-file");
  std::ofstream(file) << "x";
  for (const std::string& path :
       {file + "/messages.db", dir.path().string(), dir.file("missing/messages.db")}) {
    const auto opened = SqliteMessageStore::open(path);
    BOOST_TEST_REQUIRE(!opened.ok(), path);
    BOOST_TEST((opened.error().code() == Status::Code::Unavailable));
  }
}

BOOST_AUTO_TEST_CASE(a_read_only_database_is_a_status) {
  if (::geteuid() == 0) {
    BOOST_TEST_MESSAGE("skipped: root may write to a read-only file");
    return;
  }
  TempDir dir;
  const std::string path = dir.file("messages.db");
  BOOST_REQUIRE(SqliteMessageStore::open(path).ok());
  BOOST_REQUIRE(::chmod(path.c_str(), 0444) == 0);
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0555) == 0);
  const auto opened = SqliteMessageStore::open(path);
  BOOST_REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  BOOST_TEST(!opened.ok());
}

BOOST_AUTO_TEST_CASE(a_store_opened_for_administration_receives_no_messages) {
  StoreFixture fixture;  // the engine's, running
  const MessageId stored = fixture.persist("RUNNING1");
  SqliteStoreOptions options;
  options.administration = true;
  auto admin = SqliteMessageStore::open(fixture.path(), options).value();
  const std::string raw = messageBytes("ADMIN1");
  const auto refused = admin->persistInbound({"edsys", "ADMIN1", raw});
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message().find("opened for administration") != std::string::npos);
  BOOST_TEST(admin->fetch(stored).ok());  // it reads what the engine stored
  BOOST_TEST(fixture.persist("RUNNING2") == stored + 1);
}

BOOST_AUTO_TEST_CASE(a_database_from_a_newer_build_is_refused) {
  TempDir dir;
  const std::string path = dir.file("messages.db");
  BOOST_REQUIRE(SqliteMessageStore::open(path).ok());
  {
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    session << "UPDATE schema_version SET version = 99", Poco::Data::Keywords::now;
  }
  const auto opened = SqliteMessageStore::open(path);
  BOOST_REQUIRE(!opened.ok());
  BOOST_TEST((opened.error().code() == Status::Code::InvalidArgument));
}

BOOST_AUTO_TEST_CASE(a_full_database_refuses_writes_with_a_retryable_status) {
  SqliteStoreOptions options;
  options.maxDatabaseBytes = std::uint64_t{256} * 1024;
  StoreFixture fixture(options);
  const std::string marker = "SECRET-PATIENT-NAME";
  std::string raw = marker;
  raw.resize(std::size_t{20} * 1024, 'x');
  std::vector<MessageId> stored;
  std::optional<Status> refusal;
  for (int i = 0; i < 100 && !refusal; ++i) {
    const std::string controlId = "BIG" + std::to_string(i);
    auto outcome = fixture.store().persistInbound({"edsys", controlId, raw});
    if (outcome.ok()) {
      stored.push_back(outcome->id);
    } else {
      refusal = outcome.error();
    }
  }
  BOOST_REQUIRE(refusal.has_value());
  BOOST_TEST(!stored.empty());
  BOOST_TEST(refusal->retryable());
  BOOST_TEST(refusal->message().find(marker) == std::string::npos);
  BOOST_TEST_MESSAGE(*refusal);
  // what was stored before is intact and readable
  for (const MessageId id : stored) BOOST_TEST(fixture.store().fetch(id)->raw.value() == raw);
}

// Once writes fail, a certainly new message is no longer offered as written before its write has
// committed (its CP-IS check would query Spine for a message the store may not take); an ops
// alert says so once, and a write that succeeds again turns the early offer back on.
BOOST_AUTO_TEST_CASE(while_writes_fail_no_message_is_offered_before_its_write) {
  cpis::test::LogCapture log("cpis.store");
  SqliteStoreOptions options;
  options.maxDatabaseBytes = std::uint64_t{256} * 1024;
  StoreFixture fixture(options);
  std::string big(std::size_t{20} * 1024, 'x');
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = !fixture.store().persistInbound({"edsys", "BIG" + std::to_string(i), big}).ok();
  }
  BOOST_REQUIRE(refused);
  BOOST_TEST(log.all().find("OPS ALERT: message store: writes are failing") != std::string::npos, log.all());

  // The next certainly new message, small enough to fit: answered once written, not before.
  const auto early = [&](const std::string& controlId) {
    const auto caller = std::this_thread::get_id();
    auto offered = std::make_shared<std::atomic<bool>>(false);
    std::promise<cpis::core::Result<cpis::store::PersistOutcome>> done;
    auto answered = done.get_future();
    const std::string raw = messageBytes(controlId);
    fixture.store().persistInboundEarly(
        {"edsys", controlId, raw},
        [offered, caller](const cpis::store::PersistOutcome&) {
          *offered = std::this_thread::get_id() == caller;
          return true;
        },
        [&](auto r) { done.set_value(std::move(r)); });
    if (*offered) return true;  // taken as written before its write: `done` is never called
    BOOST_TEST(answered.get().ok());
    return false;
  };
  BOOST_TEST(!early("SMALL1"));  // writes were failing: it waited for its own
  BOOST_TEST(log.all().find("message store: writes succeed again") != std::string::npos, log.all());
  BOOST_TEST(early("SMALL2"));  // and now it is offered at once again
  BOOST_TEST(log.all().find("SMALL") == std::string::npos);
}

// The duplicate check keeps the window's (feed, MSH-10) in memory (recent_control_ids.h)
// rather than in an index: what it holds must match the table whatever happens.

BOOST_AUTO_TEST_CASE(a_transaction_that_failed_leaves_nothing_behind_in_the_duplicate_check) {
  TempDir dir;
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, dir.file("rollback.db"));
  BOOST_REQUIRE(cpis::store::configureSqliteConnection(session, cpis::store::SqliteRole::Writer, 0).isOk());
  BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session).isOk());
  cpis::store::SqliteWriter writer(session, 1h);  // the same connection as `session`
  const auto at = FakeClock().now();
  const std::string small = messageBytes("KEPT");
  const cpis::store::WriteRequest kept{cpis::store::PersistWrite{{"edsys", "KEPT", small}, at}};
  BOOST_REQUIRE(writer.run({&kept}).front().status.isOk());
  // the database is full before the batch's second message fits: that message fails, and the
  // first, written again on its own, is stored
  Poco::Int64 pages = 0;
  session << "PRAGMA page_count", Poco::Data::Keywords::into(pages), Poco::Data::Keywords::now;
  session << "PRAGMA max_page_count = " + std::to_string(pages + 2), Poco::Data::Keywords::now;
  const std::string big = messageBytes("BIG") + std::string(64 * 1024, 'x');
  const std::string raw = messageBytes("SMALL");
  const cpis::store::WriteRequest small2{cpis::store::PersistWrite{{"edsys", "SMALL", raw}, at}};
  const cpis::store::WriteRequest tooBig{cpis::store::PersistWrite{{"edsys", "BIG", big}, at}};
  const auto first = writer.run({&small2, &tooBig});
  BOOST_REQUIRE(first.size() == 2U);
  BOOST_TEST(first[0].status.isOk());
  BOOST_TEST(!first[0].persisted.duplicate);
  BOOST_TEST(!first[1].status.isOk());
  BOOST_TEST(first[1].status.retryable());
  BOOST_TEST(first[1].rolledBack);
  session << "PRAGMA max_page_count = 1000000", Poco::Data::Keywords::now;
  // sent again, the one that failed is a new message (nothing of it was stored), and the ones
  // stored before are duplicates
  const cpis::store::WriteRequest bigAgain{cpis::store::PersistWrite{{"edsys", "BIG", big}, at}};
  const cpis::store::WriteRequest smallAgain{cpis::store::PersistWrite{{"edsys", "SMALL", raw}, at}};
  const cpis::store::WriteRequest keptAgain{cpis::store::PersistWrite{{"edsys", "KEPT", small}, at}};
  const auto replies = writer.run({&bigAgain, &smallAgain, &keptAgain});
  BOOST_REQUIRE(replies.size() == 3U);
  BOOST_TEST(replies[0].status.isOk());
  BOOST_TEST(!replies[0].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.duplicate);
  BOOST_TEST(replies[1].persisted.id == first[0].persisted.id);
  BOOST_TEST(replies[2].persisted.duplicate);
  int rows = 0;
  session << "SELECT count(*) FROM message WHERE control_id IN ('BIG', 'SMALL')", Poco::Data::Keywords::into(rows),
      Poco::Data::Keywords::now;
  BOOST_TEST(rows == 2);
}

BOOST_AUTO_TEST_CASE(a_write_refused_on_its_own_data_fails_alone_and_the_rest_of_its_batch_is_stored) {
  TempDir dir;
  Poco::Data::SQLite::Connector::registerConnector();
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, dir.file("alone.db"));
  BOOST_REQUIRE(cpis::store::configureSqliteConnection(session, cpis::store::SqliteRole::Writer, 0).isOk());
  BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session).isOk());
  session << "CREATE TRIGGER refuse_bad BEFORE INSERT ON message WHEN NEW.control_id = 'BAD'"
             " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
      Poco::Data::Keywords::now;
  cpis::store::SqliteWriter writer(session, 1h);
  const auto at = FakeClock().now();
  const std::string a = messageBytes("A"), bad = messageBytes("BAD"), c = messageBytes("C");
  const cpis::store::WriteRequest first{cpis::store::PersistWrite{{"edsys", "A", a}, at}};
  const cpis::store::WriteRequest refused{cpis::store::PersistWrite{{"edsys", "BAD", bad}, at}};
  const cpis::store::WriteRequest resent{cpis::store::PersistWrite{{"edsys", "A", a}, at}};
  const cpis::store::WriteRequest last{cpis::store::PersistWrite{{"edsys", "C", c}, at}};
  const auto replies = writer.run({&first, &refused, &resent, &last});
  BOOST_REQUIRE(replies.size() == 4U);
  BOOST_TEST(replies[0].status.isOk());
  BOOST_TEST(!replies[0].persisted.duplicate);
  BOOST_TEST(!replies[1].status.isOk());
  BOOST_TEST(replies[1].rolledBack);
  BOOST_TEST(replies[1].status.message().find("BAD") == std::string::npos);  // no message content
  // still in order: the resend in the same batch is a duplicate of the first
  BOOST_TEST(replies[2].status.isOk());
  BOOST_TEST(replies[2].persisted.duplicate);
  BOOST_TEST(replies[2].persisted.id == replies[0].persisted.id);
  BOOST_TEST(replies[3].status.isOk());
  BOOST_TEST(!replies[3].persisted.duplicate);
  int rows = 0;
  session << "SELECT count(*) FROM message", Poco::Data::Keywords::into(rows), Poco::Data::Keywords::now;
  BOOST_TEST(rows == 2);
  // once the data is accepted, the refused message is new: nothing of it was kept
  session << "DROP TRIGGER refuse_bad", Poco::Data::Keywords::now;
  const cpis::store::WriteRequest again{cpis::store::PersistWrite{{"edsys", "BAD", bad}, at}};
  const auto later = writer.run({&again});
  BOOST_REQUIRE(later.size() == 1U);
  BOOST_TEST(later[0].status.isOk());
  BOOST_TEST(!later[0].persisted.duplicate);
}

BOOST_AUTO_TEST_CASE(a_version_2_database_loses_its_control_id_index_and_keeps_finding_duplicates) {
  TempDir dir;
  const std::string path = dir.file("messages.db");
  FakeClock clock;
  const auto at = [&clock](std::chrono::microseconds ago) {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch() - ago).count();
  };
  {
    Poco::Data::SQLite::Connector::registerConnector();
    Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
    BOOST_REQUIRE(cpis::store::migrateSqliteSchema(session, 2).isOk());
    // stored by a build of schema version 2: one an hour ago, one two days ago (outside the window)
    const Poco::Int64 recent = at(1h), old = at(48h);
    session << "INSERT INTO message (feed, control_id, received_at, raw_size, ack, state) VALUES"
               " ('edsys', 'RECENT', ?, 3, X'414141', 'processed'), ('edsys', 'OLD', ?, 3, NULL, 'processed')",
        Poco::Data::Keywords::bind(recent), Poco::Data::Keywords::bind(old), Poco::Data::Keywords::now;
    const std::string raw = messageBytes("RECENT");  // a resend is told by its bytes
    session << "INSERT INTO message_raw (id, raw) VALUES (1, ?), (2, X'616263')", Poco::Data::Keywords::bind(raw),
        Poco::Data::Keywords::now;
  }
  SqliteStoreOptions options;
  options.duplicateWindow = 24h;
  options.clock = clock.function();
  auto opened = SqliteMessageStore::open(path, options);
  BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
  auto& store = *opened.value();
  const auto recent = store.persistInbound({"edsys", "RECENT", messageBytes("RECENT")});
  BOOST_REQUIRE(recent.ok());
  BOOST_TEST(recent->duplicate);
  BOOST_TEST(recent->id == 1);
  BOOST_TEST(recent->originalAck.value_or("") == "AAA");
  const auto old = store.persistInbound({"edsys", "OLD", messageBytes("OLD")});
  BOOST_REQUIRE(old.ok());
  BOOST_TEST(!old->duplicate);
  const auto otherFeed = store.persistInbound({"lab", "RECENT", messageBytes("RECENT")});
  BOOST_REQUIRE(otherFeed.ok());
  BOOST_TEST(!otherFeed->duplicate);
  Poco::Data::Session session(Poco::Data::SQLite::Connector::KEY, path);
  int indexes = -1, version = 0;
  session << "SELECT count(*) FROM sqlite_master WHERE name = 'message_by_control_id'",
      Poco::Data::Keywords::into(indexes), Poco::Data::Keywords::now;
  session << "SELECT max(version) FROM schema_version", Poco::Data::Keywords::into(version), Poco::Data::Keywords::now;
  BOOST_TEST(indexes == 0);
  BOOST_TEST(version == cpis::store::kSqliteSchemaVersion);
}

BOOST_AUTO_TEST_CASE(duplicates_of_many_senders_are_found_before_and_after_a_restart) {
  SqliteStoreOptions options;
  options.duplicateWindow = 1h;
  StoreFixture fixture(options);
  std::vector<MessageId> originals;
  for (int i = 0; i < 300; ++i) originals.push_back(fixture.persist("S" + std::to_string(i % 7) + "-" + std::to_string(i)));
  const auto checkAll = [&] {
    for (int i = 0; i < 300; ++i) {
      const std::string controlId = "S" + std::to_string(i % 7) + "-" + std::to_string(i);
      const auto again = fixture.store().persistInbound({"edsys", controlId, messageBytes(controlId)});
      BOOST_REQUIRE(again.ok());
      BOOST_TEST_REQUIRE(again->duplicate, controlId);
      BOOST_TEST(again->id == originals[static_cast<std::size_t>(i)]);
    }
  };
  checkAll();
  fixture.reopen();
  checkAll();
  // past the window (after a restart too) each is new again, and the new one is the original
  fixture.clock.advance(1h + 1us);
  fixture.reopen();
  const MessageId renewed = fixture.persist("S0-0");
  BOOST_TEST(renewed > originals.back());
  const auto again = fixture.store().persistInbound({"edsys", "S0-0", messageBytes("S0-0")});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate);
  BOOST_TEST(again->id == renewed);
}

BOOST_AUTO_TEST_SUITE_END()
