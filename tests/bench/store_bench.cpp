// cpis-bench-store [SECONDS_PER_CASE] [DATABASE_DIR] [POSTGRESQL_CONNECTION]
//
// Durable persists into the message stores, as the listener will issue them: each thread
// persists a 1.5 KB ADT^A01 (tests/data/hl7v2/adt_a01_bench.hl7, a fresh MSH-10 each time)
// and waits for the commit before sending the next, like a stop-and-wait MLLP connection.
// Cases: 1, 16 and 64 threads, with group commit (the default) and with group commit off (one
// transaction, so one sync, per message). Each case runs on a fresh database for the given
// time (default 3 s): SQLite in DATABASE_DIR (default $TMPDIR or /tmp: put it on the disk
// being measured) and, when a libpq connection string is given (or $CPIS_BENCH_PG holds one),
// PostgreSQL in a fresh schema of that database (created and dropped; the user needs CREATE
// there). Reported: messages/s, p50/p99/max latency of persistInbound, and transactions
// (= syncs) per second with the mean batch, which shows group commit at work.
// Run from the repository root.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <latch>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <functional>
#include <memory>

#include "engine/store/message_store.h"
#include "engine/store/pg_connection.h"
#include "engine/store/postgres_message_store.h"
#include "engine/store/sqlite_message_store.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cpis-bench-store: cannot read %s (run from the repository root)\n", path.c_str());
    std::exit(2);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CaseResult {
  double messagesPerSecond{};
  double p50Micros{};
  double p99Micros{};
  double maxMicros{};
  double transactionsPerSecond{};
  double meanBatch{};
};

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// One store kind: opens a fresh, empty store for a case and reads its transaction count.
struct Backend {
  std::string name;
  std::function<std::unique_ptr<cpis::store::MessageStore>(bool groupCommit)> open;
  std::function<std::uint64_t(cpis::store::MessageStore&)> transactions;
  std::function<void()> cleanUp = [] {};
};

Backend sqliteBackend(const std::string& dir) {
  return {"SQLite",
          [dir](bool groupCommit) -> std::unique_ptr<cpis::store::MessageStore> {
            const std::string path = dir + "/bench.db";
            for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
            cpis::store::SqliteStoreOptions options;
            if (!groupCommit) options.maxBatchSize = 1;
            auto opened = cpis::store::SqliteMessageStore::open(path, options);
            if (!opened.ok()) {
              std::fprintf(stderr, "cpis-bench-store: %s\n", opened.error().message().c_str());
              std::exit(2);
            }
            return std::move(opened).value();
          },
          [](cpis::store::MessageStore& store) {
            return static_cast<cpis::store::SqliteMessageStore&>(store).stats().transactions;
          }};
}

// Each case in a new schema of the database, dropped at the end.
Backend postgresBackend(const std::string& connection) {
  auto admin = std::make_shared<cpis::store::PgConnection>(
      cpis::store::PgConnectSettings{connection, "", std::chrono::seconds(10)});
  const std::string schema = "cpis_bench_" + std::to_string(::getpid());
  return {"PostgreSQL",
          [admin, schema, connection](bool groupCommit) -> std::unique_ptr<cpis::store::MessageStore> {
            admin->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
            admin->exec("CREATE SCHEMA " + schema);
            cpis::store::PostgresStoreOptions options;
            if (!groupCommit) options.maxBatchSize = 1;
            auto opened = cpis::store::PostgresMessageStore::open(
                connection + " options='-csearch_path=" + schema + "'", options);
            if (!opened.ok()) {
              std::fprintf(stderr, "cpis-bench-store: %s\n", opened.error().message().c_str());
              std::exit(2);
            }
            return std::move(opened).value();
          },
          [](cpis::store::MessageStore& store) {
            return static_cast<cpis::store::PostgresMessageStore&>(store).stats().transactions;
          },
          [admin, schema] { admin->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); }};
}

CaseResult runCase(const Backend& backend, const std::string& message, int threads, bool groupCommit,
                   double seconds) {
  auto opened = backend.open(groupCommit);
  auto& store = *opened;

  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(threads));
  std::atomic<bool> failed{false};
  std::latch ready(threads + 1);
  const auto before = backend.transactions(store);
  Clock::time_point start;
  Clock::time_point deadline;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<std::size_t>(t)];
      mine.reserve(200000);
      ready.arrive_and_wait();
      for (long n = 0;; ++n) {
        const std::string controlId = "B" + std::to_string(t) + "-" + std::to_string(n);
        const auto begin = Clock::now();
        if (begin >= deadline) return;
        const auto outcome = store.persistInbound({"bench", controlId, message});
        const auto end = Clock::now();
        if (!outcome.ok() || outcome->duplicate) {
          failed = true;
          return;
        }
        mine.push_back(std::chrono::duration<double, std::micro>(end - begin).count());
      }
    });
  }
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  ready.arrive_and_wait();  // the workers read `deadline` only after this
  for (auto& worker : workers) worker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const auto after = backend.transactions(store);
  if (failed) {
    std::fprintf(stderr, "cpis-bench-store: a persist failed\n");
    std::exit(2);
  }

  std::vector<double> all;
  for (const auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  const auto transactions = static_cast<double>(after - before);
  CaseResult result;
  result.messagesPerSecond = static_cast<double>(all.size()) / elapsed;
  result.p50Micros = percentile(all, 0.50);
  result.p99Micros = percentile(all, 0.99);
  result.maxMicros = all.empty() ? 0 : all.back();
  result.transactionsPerSecond = transactions / elapsed;
  result.meanBatch = transactions > 0 ? static_cast<double>(all.size()) / transactions : 0;
  return result;
}

// What one sync costs on this disk right now (it varies with whatever else writes to it):
// the median of 200 times (write 4 KiB, fdatasync), the floor under a durable commit.
double syncMillis(const std::string& dir) {
  const std::string path = dir + "/sync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 0;
  const std::string page(4096, 'x');
  std::vector<double> times;
  for (int i = 0; i < 200; ++i) {
    const auto begin = Clock::now();
    if (::write(fd, page.data(), page.size()) != static_cast<ssize_t>(page.size()) || ::fdatasync(fd) != 0) {
      break;
    }
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
  }
  ::close(fd);
  std::filesystem::remove(path);
  std::sort(times.begin(), times.end());
  return percentile(times, 0.5);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const char* tmp = std::getenv("TMPDIR");
  const std::string base = argc > 2 ? argv[2] : (tmp && *tmp ? tmp : "/tmp");
  const std::string message = readFile("tests/data/hl7v2/adt_a01_bench.hl7");

  std::string dir = base + "/cpis-bench-store-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    std::fprintf(stderr, "cpis-bench-store: cannot create a directory in %s\n", base.c_str());
    return 2;
  }
  std::printf("cpis-bench-store: %zu-byte message, %.1f s per case, database in %s\n", message.size(),
              seconds, base.c_str());
  std::printf("write 4 KiB + fdatasync there now: %.2f ms (median of 200)\n\n", syncMillis(dir));
  std::vector<Backend> backends{sqliteBackend(dir)};
  const char* pgEnv = std::getenv("CPIS_BENCH_PG");
  const std::string pgConnection = argc > 3 ? argv[3] : (pgEnv != nullptr ? pgEnv : "");
  if (!pgConnection.empty()) {
    try {
      backends.push_back(postgresBackend(pgConnection));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "cpis-bench-store: cannot connect to PostgreSQL (%s)\n", e.what());
      return 2;
    }
  }
  std::printf("| store | commit | threads | msgs/s | p50 ms | p99 ms | max ms | transactions/s |"
              " msgs/transaction |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& backend : backends) {
    for (const bool groupCommit : {true, false}) {
      for (const int threads : {1, 16, 64}) {
        const auto r = runCase(backend, message, threads, groupCommit, seconds);
        std::printf("| %s | %s | %d | %.0f | %.2f | %.2f | %.2f | %.0f | %.1f |\n", backend.name.c_str(),
                    groupCommit ? "group" : "one per message", threads, r.messagesPerSecond,
                    r.p50Micros / 1000, r.p99Micros / 1000, r.maxMicros / 1000, r.transactionsPerSecond,
                    r.meanBatch);
        std::fflush(stdout);
      }
    }
    backend.cleanUp();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
