#include "engine/store/postgres_writer.h"

#include <algorithm>
#include <exception>
#include <libpq-fe.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <Poco/Logger.h>

#include "engine/store/exception_status.h"

namespace cpis::store {

namespace {

// Statements sent before their results are read: the server is then asked to flush, and the
// results read, so neither side's socket buffer fills while the other waits on it.
constexpr std::size_t kPipelineChunk = 64;
// A batch that meets a deadlock or serialization failure runs again up to this many times.
constexpr int kTransientRetries = 3;

std::string clockSql(std::string_view parameter) {
  return "COALESCE(" + std::string(parameter) + "::bigint, " + std::string(kPgNowMicros) + ")";
}

// The newest message with this (feed, MSH-10) received within the window ($4 micros, NULL:
// detection off) is the original: it counts the duplicate and the caller gets its id and ACK.
// A refused message (AR, AE) is the original only of its own bytes, byte for byte: one corrected
// and sent again under the same MSH-10 (as an interface engine reprocesses an error) is a message
// of its own; and those bytes sent again are its duplicate, whatever was stored after it under
// that MSH-10. As in SqliteWriter::apply.
// Otherwise the message is inserted, finished at once when it carries a completion ($7 not
// 'received'), claimed for this instance ($9, lease $10) when it stays unfinished. One
// statement, so that a pipeline can carry a whole batch.
const std::string kPersist =
    "WITH clock AS (SELECT " + clockSql("$3") +
    " AS now),"
    " original AS (SELECT m.id, m.ack FROM message m CROSS JOIN clock LEFT JOIN message_raw r ON r.id = m.id"
    "   WHERE $4::bigint IS NOT NULL AND m.feed = $1::text AND m.control_id = $2::bytea"
    "     AND m.received_at >= clock.now - $4::bigint"
    "     AND NOT (m.state IN ('rejected', 'failed') AND r.raw IS NOT NULL AND r.raw <> $11::bytea)"
    "   ORDER BY COALESCE(m.state IN ('rejected', 'failed') AND r.raw = $11::bytea, false) DESC,"
    "     m.received_at DESC, m.id DESC LIMIT 1),"
    " counted AS (UPDATE message SET duplicates_received = duplicates_received + 1"
    "   WHERE id = (SELECT id FROM original)),"
    " inserted AS (INSERT INTO message (feed, control_id, received_at, raw_size, ack, acked_at, state, "
    "outcome,"
    "     finished_at, claimed_by, claimed_until)"
    "   SELECT $1::text, $2::bytea, clock.now, $5::bigint, $6::bytea,"
    "     CASE WHEN $6::bytea IS NULL THEN NULL ELSE clock.now END, $7::text, $8::text,"
    "     CASE WHEN $7::text = 'received' THEN NULL ELSE clock.now END,"
    "     CASE WHEN $7::text = 'received' THEN $9::text END,"
    "     CASE WHEN $7::text = 'received' THEN clock.now + $10::bigint END"
    "   FROM clock WHERE NOT EXISTS (SELECT 1 FROM original) RETURNING id),"
    " stored AS (INSERT INTO message_raw (id, raw) SELECT id, $11::bytea FROM inserted)"
    " SELECT COALESCE((SELECT id FROM inserted), (SELECT id FROM original)),"
    "   NOT EXISTS (SELECT 1 FROM inserted), (SELECT ack FROM original),"
    "   (SELECT r.raw FROM message_raw r WHERE r.id = (SELECT id FROM original))";

// The row as it was before the update (a data-modifying CTE's change is not visible to the
// rest of its statement), which says why nothing changed: no such row, purged, finished, or
// claimed by another instance.
constexpr std::string_view kExplain =
    " SELECT (SELECT count(*) FROM changed), m.state, m.purged_at IS NOT NULL, m.claimed_by"
    " FROM (SELECT 1) AS one LEFT JOIN message m ON m.id = $1::bigint";

const std::string kRecordAck =
    "WITH changed AS (UPDATE message SET ack = $2::bytea, acked_at = " + clockSql("$3") +
    "   WHERE id = $1::bigint AND purged_at IS NULL"
    "     AND (state <> 'received' OR claimed_by IS NULL OR claimed_by = $4::text) RETURNING id)" +
    std::string(kExplain);

const std::string kMarkOutcome =
    "WITH changed AS (UPDATE message SET state = $2::text, outcome = $3::text, finished_at = " +
    clockSql("$4") +
    ", claimed_by = NULL, claimed_until = NULL"
    "   WHERE id = $1::bigint AND state = 'received' AND (claimed_by IS NULL OR claimed_by = $5::text)"
    "   RETURNING id)" +
    std::string(kExplain);

// Finished messages received more than $1 micros ago, oldest first, at most $2; rows another
// instance's purge holds are skipped rather than waited for.
const std::string kPurge =
    "WITH clock AS (SELECT " + clockSql("$3") +
    " AS now),"
    " victims AS (SELECT message.id FROM message, clock"
    "   WHERE message.purged_at IS NULL AND message.state <> 'received'"
    "     AND message.received_at < clock.now - $1::bigint"
    "   ORDER BY message.received_at LIMIT $2::bigint FOR UPDATE OF message SKIP LOCKED),"
    " dropped AS (DELETE FROM message_raw WHERE id IN (SELECT id FROM victims)),"
    " purged AS (UPDATE message SET ack = NULL, purged_at = (SELECT now FROM clock)"
    "   WHERE id IN (SELECT id FROM victims) RETURNING id),"
    // Finished notifications hold patient data too (names, NHS numbers): their payloads go
    // after the same retention, counted from when they finished.
    " notes AS (SELECT outbox.id FROM outbox, clock"
    "   WHERE outbox.state IN ('delivered', 'dead') AND outbox.finished_at < clock.now - $1::bigint"
    "     AND length(outbox.payload) > 0"
    "   ORDER BY outbox.finished_at LIMIT $2::bigint FOR UPDATE OF outbox SKIP LOCKED),"
    " cleared AS (UPDATE outbox SET payload = ''::bytea WHERE id IN (SELECT id FROM notes) RETURNING id)"
    " SELECT (SELECT count(*) FROM purged) + (SELECT count(*) FROM cleared)";

constexpr std::string_view kLock = "SELECT pg_advisory_xact_lock($1::bigint)";

// ---- the outbox ----
// Notifications written with a message state go in the same transaction, after the statement
// that changes the state. Whether that statement changed anything is known only on the server
// (the batch is one pipeline), so it leaves a transaction-local setting, the gate: '' when it
// was refused (its notifications are not written), else the message id the notifications
// belong to ('-' for none). kEnqueue writes only through an open gate.
constexpr std::string_view kGate = "cpis.outbox_gate";

// kPersist that also sets the gate: open (the new id) unless the message is a duplicate.
const std::string kPersistGated = kPersist + ", set_config('" + std::string(kGate) +
                                  "', COALESCE((SELECT id FROM inserted)::text, ''), true)";

// MessageStore::finish: ACK ($2 NULL: the recorded one stays), state and outcome in one row
// write; kExplain's columns, and the gate.
const std::string kFinish =
    "WITH clock AS (SELECT " + clockSql("$5") +
    " AS now),"
    " changed AS (UPDATE message SET ack = COALESCE($2::bytea, message.ack),"
    "   acked_at = CASE WHEN $2::bytea IS NULL THEN message.acked_at ELSE clock.now END,"
    "   state = $3::text, outcome = $4::text, finished_at = clock.now,"
    "   claimed_by = NULL, claimed_until = NULL"
    "   FROM clock WHERE message.id = $1::bigint AND message.state = 'received'"
    "     AND (message.claimed_by IS NULL OR message.claimed_by = $6::text) RETURNING message.id)"
    " SELECT (SELECT count(*) FROM changed), m.state, m.purged_at IS NOT NULL, m.claimed_by,"
    "   set_config('" +
    std::string(kGate) +
    "', COALESCE((SELECT id FROM changed)::text, ''), true)"
    " FROM (SELECT 1) AS one LEFT JOIN message m ON m.id = $1::bigint";

const std::string kGateOpen = "SELECT set_config('" + std::string(kGate) + "', '-', true)";

// One notification, through an open gate; a (sink, idempotency key) written before is passed
// over. Claimed: written claimed for this instance ($10, a lease of $11 micros on the store's
// clock, as claimDue's), returning the new row's id, message and creation time (nothing on a
// conflict).
std::string enqueueSql(bool claimed) {
  return "WITH clock AS (SELECT " + clockSql("$7") +
         " AS now),"
         " gate AS (SELECT current_setting('" +
         std::string(kGate) +
         "', true) AS value)"
         " INSERT INTO outbox (message_id, sink, kind, idempotency_key, order_key, payload, created_at,"
         "   next_attempt_at, deadline" +
         std::string(claimed ? ", claimed_by, claimed_until" : "") +
         ")"
         " SELECT COALESCE($1::bigint, NULLIF(gate.value, '-')::bigint), $2::text, $3::text, $4::bytea, $5::bytea,"
         "   $6::bytea, clock.now, CASE WHEN $5::bytea = ''::bytea THEN COALESCE($8::bigint, clock.now)"
         "   ELSE GREATEST(COALESCE($8::bigint, clock.now), (SELECT max(p.next_attempt_at) FROM outbox p"
         "     WHERE p.sink = $2::text AND p.order_key = $5::bytea AND p.order_key <> ''::bytea"
         "       AND p.state = 'pending')) END, $9::bigint" +
         std::string(claimed ? ", $10::text, clock.now + $11::bigint" : "") +
         " FROM clock, gate WHERE gate.value <> ''"
         " ON CONFLICT (sink, idempotency_key) DO NOTHING" +
         std::string(claimed ? " RETURNING id, message_id, created_at" : "");
}
const std::string kEnqueue = enqueueSql(false);
const std::string kEnqueueClaimed = enqueueSql(true);

// markDelivered ($2 'delivered'), markRetry ($2 'pending', tried again from $3) and markDead
// ($2 'dead') of a pending entry no other instance holds; $4 the error (NULL: the last one
// stays). The row as it was, and the gate for follow-ups (the entry's message id).
const std::string kOutboxMark =
    "WITH clock AS (SELECT " + clockSql("$5") +
    " AS now),"
    " changed AS (UPDATE outbox SET state = $2::text, attempts = outbox.attempts + 1,"
    "   next_attempt_at = COALESCE($3::bigint, outbox.next_attempt_at),"
    "   finished_at = CASE WHEN $2::text = 'pending' THEN NULL ELSE clock.now END,"
    "   last_error = COALESCE($4::text, outbox.last_error), claimed_by = NULL, claimed_until = NULL"
    "   FROM clock WHERE outbox.id = $1::bigint AND outbox.state = 'pending'"
    "     AND (outbox.claimed_by IS NULL OR outbox.claimed_by = $6::text) RETURNING outbox.message_id),"
    // A retried entry's successors of its order key wait until its next attempt too (they
    // cannot be claimed before it is finished): claims, walking outbox_waiting in time order,
    // then do not read them while it backs off.
    " queued AS (UPDATE outbox q SET next_attempt_at = $3::bigint FROM outbox h"
    "   WHERE $2::text = 'pending' AND $3::bigint IS NOT NULL AND EXISTS (SELECT 1 FROM changed)"
    "     AND h.id = $1::bigint AND h.order_key <> ''::bytea AND q.sink = h.sink AND q.order_key = h.order_key"
    "     AND q.order_key <> ''::bytea AND q.state = 'pending' AND q.id > h.id AND q.next_attempt_at < $3::bigint"
    "   RETURNING q.id)"
    " SELECT (SELECT count(*) FROM changed), o.state, o.claimed_by,"
    "   set_config('" +
    std::string(kGate) +
    "', COALESCE((SELECT COALESCE(message_id::text, '-') FROM changed), ''), true)"
    " FROM (SELECT 1) AS one LEFT JOIN outbox o ON o.id = $1::bigint";

constexpr std::string_view kReplaySet =
    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = clock.now,"
    // A deadline still ahead stays; one passed gives the entry its window again, from now (a
    // deferred check, whose sink makes unlimited attempts, must still end: check-abandoned).
    " deadline = CASE WHEN outbox.deadline IS NULL OR outbox.deadline > clock.now THEN outbox.deadline"
    "   ELSE clock.now + (outbox.deadline - outbox.created_at) END,"
    " finished_at = NULL FROM clock";

const std::string kReplayOne = "WITH clock AS (SELECT " + clockSql("$2") + " AS now), changed AS (" +
                               std::string(kReplaySet) +
                               " WHERE outbox.id = $1::bigint AND outbox.state IN ('pending', 'dead')"
                               " AND length(outbox.payload) > 0 RETURNING outbox.id)"
                               " SELECT (SELECT count(*) FROM changed), o.state"
                               " FROM (SELECT 1) AS one LEFT JOIN outbox o ON o.id = $1::bigint";

const std::string kReplayDead =
    "WITH clock AS (SELECT " + clockSql("$2") + " AS now), changed AS (" + std::string(kReplaySet) +
    " WHERE outbox.state = 'dead' AND ($1::text IS NULL OR outbox.sink = $1::text)"
    " AND ($3::text IS NULL OR outbox.sink <> $3::text) AND length(outbox.payload) > 0 RETURNING outbox.id)"
    " SELECT count(*) FROM changed";

std::string_view markedState(OutboxEnd end) {
  switch (end) {
    case OutboxEnd::Delivered: return toString(NotificationState::Delivered);
    case OutboxEnd::Retry: return toString(NotificationState::Pending);
    case OutboxEnd::Dead: return toString(NotificationState::Dead);
  }
  return toString(NotificationState::Pending);
}

std::int64_t micros(std::chrono::microseconds duration) {
  return duration.count();
}

// One pipeline on a connection in blocking mode: statements go out as they are sent, their
// results are collected every kPipelineChunk statements and at the end. A statement that fails
// makes the server skip the rest up to the sync; its SQLSTATE is kept (the first one).
class Pipeline {
 public:
  explicit Pipeline(pg_conn* conn) : conn_(conn) {
    if (PQenterPipelineMode(conn_) != 1) throw PgError("08006");
  }

  void sendPrepared(const char* name, const PgParams& params) {
    if (PQsendQueryPrepared(conn_, name, params.count(), params.values(), params.lengths(), params.formats(),
                            1) != 1) {
      throw lost();
    }
    afterSend();
  }

  std::size_t sent() const noexcept { return sent_; }

  void sendSql(const char* sql) {
    if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 1) != 1) throw lost();
    afterSend();
  }

  // Syncs, reads every result, and leaves pipeline mode.
  void finish() {
    if (PQpipelineSync(conn_) != 1) throw lost();
    collect();
    const PgResult sync(PQgetResult(conn_));
    if (!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) throw lost();
    if (PQexitPipelineMode(conn_) != 1) throw lost();
  }

  const std::vector<PgResult>& results() const noexcept { return results_; }
  const std::string& firstError() const noexcept { return firstError_; }

 private:
  PgError lost() const { return PgError(PQstatus(conn_) == CONNECTION_OK ? "08P01" : "08006"); }

  void afterSend() {
    if (++sent_ - results_.size() < kPipelineChunk) return;
    if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0) throw lost();
    collect();
  }

  // Reads the results of every statement sent so far: each is one result and then NULL.
  void collect() {
    while (results_.size() < sent_) {
      PgResult result(PQgetResult(conn_));
      if (!result) throw lost();
      const auto status = PQresultStatus(result.get());
      if (status == PGRES_FATAL_ERROR) {
        if (PQstatus(conn_) != CONNECTION_OK) throw PgError("08006");
        if (firstError_.empty()) firstError_ = result.sqlState().empty() ? "XX000" : result.sqlState();
      }
      if (const PgResult extra(PQgetResult(conn_)); extra) throw PgError("08P01");  // not one of ours
      results_.push_back(std::move(result));
    }
  }

  pg_conn* conn_;
  std::size_t sent_ = 0;
  std::vector<PgResult> results_;
  std::string firstError_;
};

// A notification sent to be written claimed: which result of the pipeline answers it.
struct SentClaimed {
  std::size_t request{};  // the write of the batch it belongs to
  std::size_t result{};
  const NewNotification* notification{};
};

// Who the writer claims for, and how long.
struct ClaimSettings {
  ClaimHandOver* handOver{};
  const std::string& owner;
  std::int64_t leaseMicros{};
  std::size_t request{};
  std::vector<SentClaimed>& sent;
};

// The notifications, each one statement through the gate (those the hand-over claims, written
// claimed).
void sendNotifications(Pipeline& pipeline, std::span<const NewNotification> notifications, TimePoint at,
                       const ClaimSettings& claims) {
  const auto time = pgTime(at);
  for (const NewNotification& notification : notifications) {
    const bool claim = claims.handOver != nullptr && claims.handOver->claims(notification);
    const std::string sink = pgText(notification.sink);
    const std::string kind = pgText(notification.kind);
    PgParams params;
    params.optionalInt64(notification.messageId)
        .text(sink)
        .text(kind)
        .bytes(notification.idempotencyKey)
        .bytes(notification.orderKey)
        .bytes(notification.payload)
        .optionalInt64(time)
        .optionalInt64(notification.notBefore ? pgTime(*notification.notBefore) : std::nullopt)
        .optionalInt64(notification.deadline ? pgTime(*notification.deadline) : std::nullopt);
    if (!claim) {
      pipeline.sendPrepared("enqueue", params);
      continue;
    }
    params.text(claims.owner).int64(claims.leaseMicros);
    claims.sent.push_back({claims.request, pipeline.sent(), &notification});
    pipeline.sendPrepared("enqueue_claimed", params);
  }
}

// A MemoryWrite's statements (none for no rows and no purge).
void sendMemoryRows(Pipeline& pipeline, const MemoryWrite& write) {
  for (const MemoryRow& row : write.rows) {
    // PgParams keeps views: the texts must outlive the statement's sending.
    const std::string kind = pgText(row.kind);
    const std::string feed = pgText(row.feed);
    const auto at = pgTime(row.at);
    if (!row.touch && row.body.empty()) {
      PgParams params;
      params.text(kind).text(feed).bytes(row.key);
      pipeline.sendPrepared("memory_delete", params);
      continue;
    }
    if (!row.touch) {
      PgParams params;
      params.text(kind).text(feed).bytes(row.key).bytes(row.body).optionalInt64(at);
      pipeline.sendPrepared("memory_upsert", params);
    }
    PgParams redate;
    redate.text(feed).bytes(row.key).optionalInt64(at);
    pipeline.sendPrepared("memory_redate", redate);
  }
  if (write.purgeBefore) {
    PgParams params;
    params.optionalInt64(pgTime(*write.purgeBefore));
    pipeline.sendPrepared("memory_purge", params);
  }
}

// The entry a claimed insert wrote, from its RETURNING row and what was sent.
OutboxEntry writtenClaimed(const PgResult& row, const NewNotification& notification) {
  std::optional<TimePoint> deadline;
  if (notification.deadline) deadline = fromPgMicros(pgTime(*notification.deadline).value_or(0));  // as stored
  OutboxEntry entry =
      claimedEntry(notification, row.int64(0, 0), row.optionalInt64(0, 1), fromPgMicros(row.int64(0, 2)), deadline);
  entry.sink = pgText(notification.sink);  // as stored (text columns)
  entry.kind = pgText(notification.kind);
  return entry;
}

}  // namespace

PostgresWriter::PostgresWriter(std::unique_ptr<PgConnection> connection, PostgresWriterSettings settings)
    : connection_(std::move(connection)), settings_(std::move(settings)) {
  // The commit is the sync: with synchronous_commit on it returns once the WAL is flushed
  // (whatever the server's default is).
  connection_->exec("SET synchronous_commit = on");
  prepareStatements();
}

PostgresWriter::~PostgresWriter() = default;

void PostgresWriter::prepareStatements() {
  connection_->prepare("persist", kPersist);
  connection_->prepare("record_ack", kRecordAck);
  connection_->prepare("mark_outcome", kMarkOutcome);
  connection_->prepare("purge", kPurge);
  connection_->prepare("lock", kLock);
  connection_->prepare("persist_gated", kPersistGated);
  connection_->prepare("finish", kFinish);
  connection_->prepare("gate_open", kGateOpen);
  connection_->prepare("enqueue", kEnqueue);
  connection_->prepare("enqueue_claimed", kEnqueueClaimed);
  connection_->prepare("outbox_mark", kOutboxMark);
  connection_->prepare("replay_one", kReplayOne);
  connection_->prepare("replay_dead", kReplayDead);
  // The attendance memory (schema version 7). Times are the engine's, as the rows carry them
  // (NULL, the store's sentinel for the server's clock: the server's).
  const std::string at = "COALESCE($5::bigint, " + std::string(kPgNowMicros) + ")";
  connection_->prepare("memory_upsert",
                       "INSERT INTO attendance_memory (kind, feed, key, body, updated_at)"
                       " VALUES ($1::text, $2::text, $3::bytea, $4::bytea, " + at +
                           ") ON CONFLICT (feed, key, kind) DO UPDATE SET body = excluded.body,"
                           " updated_at = excluded.updated_at");
  // The other rows of the same feed and key share the row's time (MessageStore::saveMemory).
  const std::string redateAt = "COALESCE($3::bigint, " + std::string(kPgNowMicros) + ")";
  connection_->prepare("memory_redate", "UPDATE attendance_memory SET updated_at = " + redateAt +
                                            " WHERE feed = $1::text AND key = $2::bytea AND updated_at < " +
                                            redateAt);
  connection_->prepare("memory_delete",
                       "DELETE FROM attendance_memory WHERE kind = $1::text AND feed = $2::text AND key = $3::bytea");
  connection_->prepare("memory_purge", "DELETE FROM attendance_memory WHERE updated_at < COALESCE($1::bigint, " +
                                           std::string(kPgNowMicros) + ")");
}

std::vector<WriteReply> PostgresWriter::failAll(std::size_t size, const core::Status& status) const {
  return std::vector<WriteReply>(size, WriteReply{status, {}, 0});
}

std::vector<WriteReply> PostgresWriter::run(const std::vector<const WriteRequest*>& batch) {
  const std::string what =
      "message store: a transaction of " + std::to_string(batch.size()) + " writes failed, none was stored";
  try {
    for (int attempt = 0;; ++attempt) {
      try {
        return runTransaction(batch);
      } catch (const PgError& e) {
        if (e.transient() && attempt < kTransientRetries) {
          retries_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (!e.transient() && !e.connectionLost() && !broken_ && batch.size() > 1) {
          // A statement failed on its own data: run each write alone, so only it fails.
          Poco::Logger::get("cpis.store")
              .warning("message store: a transaction of %z writes failed (%s); running them one by one",
                       batch.size(), std::string(e.what()));
          std::vector<WriteReply> replies;
          replies.reserve(batch.size());
          for (const WriteRequest* request : batch) replies.push_back(std::move(run({request}).front()));
          return replies;
        }
        auto status = unavailableFrom(what, e);
        Poco::Logger::get("cpis.store").error(status.message());
        return failAll(batch.size(), status);
      }
    }
  } catch (const std::exception& e) {  // a reconnect that failed, no memory, ...
    broken_ = true;
    auto status = unavailableFrom(what, e);
    Poco::Logger::get("cpis.store").error(status.message());
    return failAll(batch.size(), status);
  }
}

std::vector<WriteReply> PostgresWriter::runTransaction(const std::vector<const WriteRequest*>& batch) {
  if (broken_ || !connection_->healthy()) {
    connection_->reconnect();
    connection_->exec("SET synchronous_commit = on");
    broken_ = false;
  }
  std::vector<std::int64_t> keys;
  if (settings_.duplicateWindow.count() > 0) {
    for (const WriteRequest* request : batch) {
      if (const auto* persist = std::get_if<PersistWrite>(&request->write)) {
        keys.push_back(pgAdvisoryKey(persist->message.feed, persist->message.controlId));
      }
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  }

  broken_ = true;  // until the pipeline has been read to its end
  Pipeline pipeline(connection_->get());
  pipeline.sendSql("BEGIN");
  for (const std::int64_t key : keys) {
    PgParams params;
    params.int64(key);
    pipeline.sendPrepared("lock", params);
  }
  // Where each write's results begin (a write sends one statement, and one more for each
  // notification it writes); kNone: nothing was sent for it.
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> firstResult;
  firstResult.reserve(batch.size());
  std::vector<SentClaimed> sentClaimed;
  for (const WriteRequest* request : batch) {
    const ClaimSettings claims{handOver_, settings_.owner, micros(settings_.lease), firstResult.size(),
                               sentClaimed};
    firstResult.push_back(pipeline.sent());
    std::visit(
        [&](const auto& write) {
          using Write = std::decay_t<decltype(write)>;
          PgParams params;
          if constexpr (std::is_same_v<Write, PersistWrite>) {
            const InboundMessage& message = write.message;
            const auto& done = message.completion;
            const std::string feed = pgText(message.feed);
            const std::string outcome = done ? pgText(done->outcome) : std::string();
            params.text(feed).bytes(message.controlId).optionalInt64(pgTime(write.receivedAt));
            if (settings_.duplicateWindow.count() > 0) {
              params.int64(micros(settings_.duplicateWindow));
            } else {
              params.null();
            }
            params.int64(static_cast<std::int64_t>(message.raw.size()));
            if (done) {
              params.bytes(done->ack);
            } else {
              params.null();
            }
            params.text(toString(done ? done->state : MessageState::Received))
                .text(outcome)
                .text(settings_.owner)
                .int64(micros(settings_.lease))
                .bytes(message.raw);
            const bool notifies = done && !done->notifications.empty();
            pipeline.sendPrepared(notifies ? "persist_gated" : "persist", params);
            if (notifies) sendNotifications(pipeline, done->notifications, write.receivedAt, claims);
          } else if constexpr (std::is_same_v<Write, AckWrite>) {
            params.int64(write.id).bytes(write.ack).optionalInt64(pgTime(write.at)).text(settings_.owner);
            pipeline.sendPrepared("record_ack", params);
          } else if constexpr (std::is_same_v<Write, OutcomeWrite>) {
            const std::string outcome = pgText(write.outcome);
            params.int64(write.id)
                .text(toString(write.state))
                .text(outcome)
                .optionalInt64(pgTime(write.at))
                .text(settings_.owner);
            pipeline.sendPrepared("mark_outcome", params);
          } else if constexpr (std::is_same_v<Write, PurgeWrite>) {
            // The writes carry times; with the database's clock `at` is the sentinel, and the
            // retention is what matters: at - receivedBefore.
            params
                .int64(micros(
                    std::chrono::duration_cast<std::chrono::microseconds>(write.at - write.receivedBefore)))
                .int64(static_cast<std::int64_t>(write.limit))
                .optionalInt64(pgTime(write.at));
            pipeline.sendPrepared("purge", params);
          } else if constexpr (std::is_same_v<Write, FinishWrite>) {
            const std::string outcome = pgText(write.outcome);
            params.int64(write.id);
            if (write.ack.empty()) {
              params.null();
            } else {
              params.bytes(write.ack);
            }
            params.text(toString(write.state))
                .text(outcome)
                .optionalInt64(pgTime(write.at))
                .text(settings_.owner);
            pipeline.sendPrepared("finish", params);
            sendNotifications(pipeline, write.notifications, write.at, claims);
          } else if constexpr (std::is_same_v<Write, EnqueueWrite>) {
            pipeline.sendPrepared("gate_open", params);
            sendNotifications(pipeline, write.notifications, write.at, claims);
          } else if constexpr (std::is_same_v<Write, OutboxMarkWrite>) {
            const std::string error = pgText(write.error);
            params.int64(write.id).text(markedState(write.end));
            if (write.end == OutboxEnd::Retry) {
              params.optionalInt64(pgTime(write.next));
            } else {
              params.null();
            }
            if (write.end == OutboxEnd::Delivered) {
              params.null();
            } else {
              params.text(error);
            }
            params.optionalInt64(pgTime(write.at)).text(settings_.owner);
            pipeline.sendPrepared("outbox_mark", params);
            if (write.end == OutboxEnd::Delivered) sendNotifications(pipeline, write.followUps, write.at, claims);
          } else if constexpr (std::is_same_v<Write, ReplayWrite>) {
            if (write.id) {
              params.int64(*write.id).optionalInt64(pgTime(write.at));
              pipeline.sendPrepared("replay_one", params);
            } else {
              const std::string sink = write.sink ? pgText(*write.sink) : std::string();
              if (write.sink) {
                params.text(sink);
              } else {
                params.null();
              }
              params.optionalInt64(pgTime(write.at));
              const std::string except = write.except ? pgText(*write.except) : std::string();
              if (write.except) {
                params.text(except);
              } else {
                params.null();
              }
              pipeline.sendPrepared("replay_dead", params);
            }
          } else if constexpr (std::is_same_v<Write, MemoryWrite>) {
            sendMemoryRows(pipeline, write);
            if (pipeline.sent() == firstResult.back()) firstResult.back() = kNone;  // nothing to write
          } else {
            // Claims go through the reader's connection here, audit rows through the audit
            // log's own (PostgresAuditLog).
            static_assert(std::is_same_v<Write, ClaimWrite> || std::is_same_v<Write, ReleaseWrite> ||
                          std::is_same_v<Write, AuditWrite>);
            firstResult.back() = kNone;
          }
        },
        request->write);
  }
  pipeline.sendSql("COMMIT");
  pipeline.finish();
  broken_ = false;

  if (!pipeline.firstError().empty()) {
    if (PQtransactionStatus(connection_->get()) != PQTRANS_IDLE) connection_->exec("ROLLBACK");
    throw PgError(pipeline.firstError());
  }
  const auto& results = pipeline.results();
  std::vector<WriteReply> replies;
  replies.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (firstResult[i] == kNone && std::holds_alternative<MemoryWrite>(batch[i]->write)) {
      replies.push_back({});  // no rows: nothing written
    } else if (firstResult[i] == kNone) {
      replies.push_back(
          {core::Status::internal("message store: claims and audit rows are not writes of this store"), {}, 0});
    } else {
      replies.push_back(replyFor(*batch[i], results[firstResult[i]]));
    }
  }
  // Written claimed: a row each (none on a conflict, or when the gate was shut).
  for (const SentClaimed& sent : sentClaimed) {
    const PgResult& row = results[sent.result];
    if (row.rows() == 1 && replies[sent.request].status.isOk()) {
      replies[sent.request].preClaimed.push_back(writtenClaimed(row, *sent.notification));
    }
  }
  return replies;
}

WriteReply PostgresWriter::replyFor(const WriteRequest& request, const PgResult& result) const {
  return std::visit(
      [&](const auto& write) -> WriteReply {
        using Write = std::decay_t<decltype(write)>;
        if constexpr (std::is_same_v<Write, PersistWrite>) {
          const bool duplicate = result.boolean(0, 1);
          PersistOutcome outcome{result.int64(0, 0), duplicate, duplicate ? result.optionalBytes(0, 2) : std::nullopt};
          if (duplicate) {
            if (const auto raw = result.optionalBytes(0, 3)) {
              outcome.conflicting = !sameMessageSentAgain(*raw, write.message.raw);
            }
            if (outcome.conflicting) outcome.originalAck.reset();  // about another message
          }
          return {core::Status::ok(), std::move(outcome), 0};
        } else if constexpr (std::is_same_v<Write, PurgeWrite>) {
          return {core::Status::ok(), {}, static_cast<std::size_t>(result.int64(0, 0))};
        } else if constexpr (std::is_same_v<Write, EnqueueWrite> || std::is_same_v<Write, ClaimWrite>) {
          return {};
        } else if constexpr (std::is_same_v<Write, OutboxMarkWrite>) {
          if (result.int64(0, 0) == 1) return {};
          const std::string id = std::to_string(write.id);
          if (result.isNull(0, 1)) {
            return {core::Status::notFound("message store: no notification " + id), {}, 0};
          }
          const std::string state = result.bytes(0, 1);
          const auto owner = result.optionalBytes(0, 2);
          const std::string refusal = state == "pending" && owner && *owner != settings_.owner
                                          ? "instance " + *owner + " has claimed it"
                                          : "it is already finished";
          return {core::Status::invalidArgument("message store: notification " + id + " (" + state +
                                                ") refused: " + refusal),
                  {},
                  0};
        } else if constexpr (std::is_same_v<Write, ReplayWrite>) {
          if (!write.id) return {core::Status::ok(), {}, static_cast<std::size_t>(result.int64(0, 0))};
          if (result.int64(0, 0) == 1) return {core::Status::ok(), {}, 1};
          const std::string id = std::to_string(*write.id);
          if (result.isNull(0, 1)) {
            return {core::Status::notFound("message store: no notification " + id), {}, 0};
          }
          const std::string state = result.bytes(0, 1);
          return {core::Status::invalidArgument("message store: notification " + id + " (" + state +
                                                ") refused: only dead or pending entries are replayed, "
                                                "and only while their content is kept"),
                  {},
                  0};
        } else if constexpr (std::is_same_v<Write, MemoryWrite>) {
          return {};
        } else if constexpr (std::is_same_v<Write, AuditWrite> || std::is_same_v<Write, ReleaseWrite>) {
          // Audit rows go through the audit log's connection, releases through the reader's.
          return {core::Status::internal("message store: not a write of this store's writer"), {}, 0};
        } else {
          if (result.int64(0, 0) == 1) return {};
          const std::string id = std::to_string(write.id);
          if (result.isNull(0, 1)) return {core::Status::notFound("message store: no message " + id), {}, 0};
          const std::string state = result.bytes(0, 1);
          const auto owner = result.optionalBytes(0, 3);
          std::string refusal;
          if (std::is_same_v<Write, AckWrite> && result.boolean(0, 2)) {
            refusal = "its content was purged";
          } else if (state == "received" && owner && *owner != settings_.owner) {
            refusal = "instance " + *owner + " has claimed it";
          } else {
            refusal = "it is already finished";
          }
          return {core::Status::invalidArgument("message store: message " + id + " (" + state +
                                                ") refused: " + refusal),
                  {},
                  0};
        }
      },
      request.write);
}

}  // namespace cpis::store
