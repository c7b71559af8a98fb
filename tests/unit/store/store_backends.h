#pragma once

// The store suite runs its behavioural cases against every MessageStore implementation: a test
// written as BOOST_AUTO_TEST_CASE_TEMPLATE(name, Backend, cpis::test::StoreBackends) gets a
// StoreFixture<Backend> on a fresh database of each kind. PostgreSQL's comes from the cluster
// that ctest starts (tests/support/pg-cluster): $CPIS_TEST_PG names its conninfo file, and
// every fixture gets a schema of its own in that database, dropped afterwards.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>
#include <utility>

#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include "engine/store/message_store.h"
#include "engine/store/pg_connection.h"
#include "engine/store/postgres_message_store.h"
#include "engine/store/sqlite_message_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/store/fake_clock.h"

namespace cpis::test {

// Options every backend has, as the behavioural cases set them.
struct CommonStoreOptions {
  std::chrono::seconds duplicateWindow{std::chrono::hours(24)};
  std::size_t maxBatchSize{512};
  std::size_t purgeChunkSize{500};
  std::size_t maxMessageBytes{16 * 1024 * 1024};
};

struct CommonStoreStats {
  std::uint64_t transactions{};
  std::uint64_t writes{};
  std::size_t largestBatch{};
};

inline std::string readTextFile(const std::string& path) {
  std::ifstream in(path);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The test cluster's connection string (the file $CPIS_TEST_PG names), and files beside it.
inline std::string pgClusterFile(const std::string& name = "conninfo") {
  const char* conninfo = std::getenv("CPIS_TEST_PG");
  BOOST_TEST_REQUIRE(
      (conninfo != nullptr && *conninfo != '\0'),
      "CPIS_TEST_PG is not set: run test_store through ctest, which starts a PostgreSQL cluster "
      "(tests/support/pg-cluster), or start one and point CPIS_TEST_PG at its conninfo file");
  std::string path(conninfo);
  if (name != "conninfo") path = path.substr(0, path.find_last_of('/') + 1) + name;
  const std::string text = readTextFile(path);
  BOOST_TEST_REQUIRE(!text.empty(), "cannot read " << path);
  return text;
}

// A schema of its own in the test cluster's database, dropped with everything in it.
class PgTestSchema {
 public:
  PgTestSchema() : base_(pgClusterFile()) {
    static std::atomic<int> counter{0};
    name_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_ =
        std::make_unique<store::PgConnection>(store::PgConnectSettings{base_, "", std::chrono::seconds(10)});
    admin_->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    admin_->exec("CREATE SCHEMA " + name_);
    admin_->exec("GRANT ALL ON SCHEMA " + name_ + " TO PUBLIC");
  }
  ~PgTestSchema() {
    try {
      admin_->exec("DROP SCHEMA IF EXISTS " + name_ + " CASCADE");
    } catch (const std::exception&) {  // a cluster gone already goes with its schemas
    }
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  // The cluster's connection string, with this schema first on the search path.
  std::string connection() const { return withSchema(base_); }
  std::string withSchema(const std::string& conninfo) const {
    return conninfo + " options='-csearch_path=" + name_ + "'";
  }
  const std::string& name() const noexcept { return name_; }
  // A connection for looking behind the store's back (search path set to the schema).
  store::PgConnection& admin() {
    admin_->exec("SET search_path = " + name_);
    return *admin_;
  }

 private:
  std::string base_;
  std::string name_;
  std::unique_ptr<store::PgConnection> admin_;
};

struct SqliteBackend {
  using Store = store::SqliteMessageStore;
  static constexpr const char* kName = "sqlite";

  std::unique_ptr<Store> open(const CommonStoreOptions& common, std::function<store::TimePoint()> clock) {
    store::SqliteStoreOptions options;
    options.duplicateWindow = common.duplicateWindow;
    options.maxBatchSize = common.maxBatchSize;
    options.purgeChunkSize = common.purgeChunkSize;
    options.maxMessageBytes = common.maxMessageBytes;
    options.clock = std::move(clock);
    auto opened = Store::open(dir.file("messages.db"), options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    return std::move(opened).value();
  }
  static CommonStoreStats stats(const Store& store) {
    const auto s = store.stats();
    return {s.transactions, s.writes, s.largestBatch};
  }

  TempDir dir;
};

struct PostgresBackend {
  using Store = store::PostgresMessageStore;
  static constexpr const char* kName = "postgresql";

  std::unique_ptr<Store> open(const CommonStoreOptions& common, std::function<store::TimePoint()> clock) {
    store::PostgresStoreOptions options;
    options.instance = "test-instance";
    options.duplicateWindow = common.duplicateWindow;
    options.maxBatchSize = common.maxBatchSize;
    options.purgeChunkSize = common.purgeChunkSize;
    options.maxMessageBytes = common.maxMessageBytes;
    options.clock = std::move(clock);
    auto opened = Store::open(schema.connection(), options);
    BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message()));
    return std::move(opened).value();
  }
  static CommonStoreStats stats(const Store& store) {
    const auto s = store.stats();
    return {s.transactions, s.writes, s.largestBatch};
  }

  PgTestSchema schema;
};

using StoreBackends = boost::mpl::list<SqliteBackend, PostgresBackend>;

// A store on a fresh database of the backend's kind, stamping times from `clock`.
template <typename Backend>
class StoreFixture {
 public:
  explicit StoreFixture(CommonStoreOptions options = {}) : options_(options) { reopen(); }

  void reopen() {
    store_.reset();
    store_ = backend.open(options_, clock.function());
  }
  typename Backend::Store& store() { return *store_; }
  CommonStoreStats stats() const { return Backend::stats(*store_); }

  // Persists a new message and returns its id.
  store::MessageId persist(const std::string& controlId, const std::string& feed = "edsys") {
    const auto raw = messageBytes(controlId);
    auto outcome = store_->persistInbound({feed, controlId, raw});
    BOOST_TEST_REQUIRE(outcome.ok(), (outcome.ok() ? "" : outcome.error().message()));
    BOOST_TEST_REQUIRE(!outcome->duplicate);
    return outcome->id;
  }

  static std::string messageBytes(const std::string& controlId) {
    return "MSH|^~\\&|SND|FAC|RCV|FAC|20260101||ADT^A01|" + controlId + "|P|2.4\rPID|||1\r";
  }

  FakeClock clock;
  Backend backend;

 private:
  CommonStoreOptions options_;
  std::unique_ptr<typename Backend::Store> store_;
};

}  // namespace cpis::test
