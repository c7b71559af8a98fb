// kill -9 at an arbitrary moment: every persist that returned to its caller must be in the
// database afterwards, with its bytes. Run against each store (store_backends.h): for SQLite the
// engine's own process holds the commit, for PostgreSQL the server does, and either way nothing
// may be acknowledged before its commit is durable.
//
// A child process opens the store and persists from several threads; after each persist
// returns it writes the id to a pipe (one record per write(), under PIPE_BUF, so atomic).
// The parent reads a pseudo-random number of those acknowledgements (seeded: the same run
// every time), SIGKILLs the child while it is in full flow, drains what else was acknowledged
// before the kill, reopens the database and checks every acknowledged message.
#include <array>
#include <cerrno>
#include <cstdint>
#include <random>
#include <signal.h>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/unit/store/store_backends.h"

using cpis::store::MessageState;
using cpis::store::MessageStore;
using cpis::test::StoreBackends;

namespace {

// Where the child and the parent open the store: a file in a temporary folder, or a schema in
// the test cluster. Each open is a new store object, as a restarted engine's would be.
template <typename Backend>
struct CrashTarget;

template <>
struct CrashTarget<cpis::test::SqliteBackend> {
  static constexpr int kIterations = 24;
  cpis::test::TempDir dir;
  cpis::core::Result<std::unique_ptr<MessageStore>> open() {
    auto opened = cpis::store::SqliteMessageStore::open(dir.file("crash.db"));
    if (!opened) return opened.error();
    return std::unique_ptr<MessageStore>(std::move(opened).value());
  }
};

template <>
struct CrashTarget<cpis::test::PostgresBackend> {
  static constexpr int kIterations = 8;  // each kill costs a server round of commits
  cpis::test::PgTestSchema schema;
  cpis::core::Result<std::unique_ptr<MessageStore>> open() {
    auto opened = cpis::store::PostgresMessageStore::open(schema.connection());
    if (!opened) return opened.error();
    return std::unique_ptr<MessageStore>(std::move(opened).value());
  }
};

constexpr int kWriterThreads = 4;
constexpr int kMaxAcksBeforeKill = 240;

// What the child acknowledged: the id the store returned and what it was given.
struct AckRecord {
  std::int64_t id;
  std::int32_t iteration;
  std::int32_t thread;
  std::int64_t sequence;
};
static_assert(sizeof(AckRecord) <= PIPE_BUF);

std::string controlIdFor(const AckRecord& r) {
  return "K" + std::to_string(r.iteration) + "-" + std::to_string(r.thread) + "-" +
         std::to_string(r.sequence);
}

// About 1.5 KB, different for every message, with bytes a text column would mangle.
std::string rawFor(const AckRecord& r) {
  std::string raw = "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|" + controlIdFor(r) + "|P|2.4\r";
  raw += std::string_view("PID|||\x0B\x1C\xE9\x00|\r", 12);
  while (raw.size() < 1500) {
    raw += "OBX|" + std::to_string(raw.size() * 31 + static_cast<std::size_t>(r.sequence)) + "\r";
  }
  return raw;
}

// The child: never returns, never runs the test framework's exit handlers.
template <typename Target>
[[noreturn]] void runChild(Target& target, int iteration, int ackPipe) {
  auto opened = target.open();
  if (!opened.ok()) ::_exit(3);
  auto store = std::move(opened).value();
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriterThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t sequence = 0;; ++sequence) {
        AckRecord record{0, iteration, t, sequence};
        const std::string controlId = controlIdFor(record);
        const std::string raw = rawFor(record);
        const auto outcome = store->persistInbound({"crash", controlId, raw});
        if (!outcome.ok() || outcome->duplicate) ::_exit(4);
        record.id = outcome->id;
        if (::write(ackPipe, &record, sizeof record) != static_cast<ssize_t>(sizeof record)) ::_exit(6);
        // Finish some, so the kill also lands in updates.
        if (sequence % 3 == 0 && !store->markOutcome(record.id, MessageState::Processed, "AA").isOk()) {
          ::_exit(5);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ::_exit(7);
}

// Reads one record; false at end of file (every writer has gone).
bool readRecord(int fd, AckRecord& record) {
  auto* bytes = reinterpret_cast<char*>(&record);
  std::size_t got = 0;
  while (got < sizeof record) {
    const ssize_t n = ::read(fd, bytes + got, sizeof record - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crash)

BOOST_AUTO_TEST_CASE_TEMPLATE(every_acknowledged_message_survives_kill_minus_nine, Backend, StoreBackends) {
  CrashTarget<Backend> target;
  constexpr int kIterations = CrashTarget<Backend>::kIterations;
  std::mt19937 random(20260101);  // fixed seed: the same kill points on every run
  std::uniform_int_distribution<int> acksBeforeKill(0, kMaxAcksBeforeKill);
  std::vector<AckRecord> acknowledged;

  for (int iteration = 0; iteration < kIterations; ++iteration) {
    std::array<int, 2> fds{};
    BOOST_REQUIRE(::pipe(fds.data()) == 0);
    const pid_t child = ::fork();
    BOOST_REQUIRE(child >= 0);
    if (child == 0) {
      ::close(fds[0]);
      runChild(target, iteration, fds[1]);
    }
    ::close(fds[1]);
    const int killAfter = acksBeforeKill(random);
    int acks = 0;
    AckRecord record{};
    bool childAlive = true;
    while (acks < killAfter && (childAlive = readRecord(fds[0], record))) {
      acknowledged.push_back(record);
      ++acks;
    }
    ::kill(child, SIGKILL);
    while (readRecord(fds[0], record)) acknowledged.push_back(record);  // acked before the kill
    ::close(fds[0]);
    int status = 0;
    BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_REQUIRE_MESSAGE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                          "iteration " << iteration << ": the child ended by itself (exit "
                                       << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")");
    BOOST_REQUIRE(childAlive);

    // Reopen, as the engine does on start, and look for every acknowledged message so far.
    auto reopened = target.open();
    BOOST_REQUIRE_MESSAGE(reopened.ok(), "iteration "
                                             << iteration << ": "
                                             << (reopened.ok() ? cpis::core::Status() : reopened.error()));
    auto& store = *reopened.value();
    int missing = 0;
    for (const AckRecord& ack : acknowledged) {
      const auto message = store.fetch(ack.id);
      if (!message.ok() || message->controlId != controlIdFor(ack) || message->raw != rawFor(ack)) ++missing;
    }
    BOOST_TEST_REQUIRE(missing == 0, "iteration " << iteration << ": " << missing << " of "
                                                  << acknowledged.size() << " acknowledged messages lost");
    BOOST_TEST_REQUIRE(store.listUnfinished().ok());
  }
  BOOST_TEST_MESSAGE("crash test: " << kIterations << " kills, " << acknowledged.size()
                                    << " acknowledged messages all present");
}

BOOST_AUTO_TEST_SUITE_END()
