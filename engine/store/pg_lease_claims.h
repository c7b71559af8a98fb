#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cpis::store {

class PgConnection;

// Work that several engine instances share through one PostgreSQL database, claimed row by row
// with leases. The message store uses it for unfinished messages; the outbox's notifications
// will use it the same way.
//
// The table needs three columns besides its work: `id bigint` (claims go oldest id first),
// `claimed_by text` (the instance working on the row, NULL for none) and `claimed_until bigint`
// (microseconds since 1970-01-01 UTC when the lease runs out). `claimable` is the SQL condition
// that makes a row work at all (for messages: state = 'received'); it may use `clock.now`, the
// current time in the same unit.
//
// claim():   UPDATE t SET claimed_by = me, claimed_until = now + lease WHERE id IN (SELECT id
//            FROM t WHERE <claimable> AND (claimed_by IS NULL OR claimed_until < now) ORDER BY id
//            LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id
// renew():   the same UPDATE of claimed_until for the rows claimed_by = me
// release(): claimed_by = NULL for the claimable rows claimed_by = me (a clean stop: others need not wait)
//
// SKIP LOCKED makes instances that claim at the same moment pass over each other's rows instead
// of waiting; a row whose lease another instance has just taken is rechecked once locked (READ
// COMMITTED re-evaluates the condition on the newest version), so it is never claimed twice.
// The time is the caller's (`now`, for tests with a clock they move) or, when empty, the
// database server's, which all instances share. An instance owns a row until another claims it:
// a lease that ran out but that nobody took over is still its own.
class PgLeaseClaims {
 public:
  PgLeaseClaims(std::string_view table, std::string_view claimable);

  // Claims up to `limit` rows for `owner`; their ids, ascending. Throws PgError.
  std::vector<std::int64_t> claim(PgConnection& connection, std::string_view owner,
                                  std::optional<std::int64_t> now, std::chrono::microseconds lease,
                                  std::size_t limit) const;
  // Extends the lease of every claimable row `owner` holds; how many. Rows another transaction
  // holds locked at the moment (being finished) are passed over. Throws PgError.
  std::size_t renew(PgConnection& connection, std::string_view owner, std::optional<std::int64_t> now,
                    std::chrono::microseconds lease) const;
  // renew() of the rows `ids` names only (none: nothing): those its owner is still working on.
  // A row it holds but forgot (written claimed by a commit whose answer was lost) then lapses.
  std::size_t renewSome(PgConnection& connection, std::string_view owner, std::optional<std::int64_t> now,
                        std::chrono::microseconds lease, std::span<const std::int64_t> ids) const;
  // Gives up every claim `owner` holds; how many. Throws PgError.
  std::size_t release(PgConnection& connection, std::string_view owner) const;
  // Gives up the claims `owner` holds on the rows `ids` names (none: nothing); how many.
  // Throws PgError.
  std::size_t releaseSome(PgConnection& connection, std::string_view owner, std::span<const std::int64_t> ids) const;

 private:
  std::string claimSql_;
  std::string renewSql_;
  std::string renewSomeSql_;
  std::string releaseSql_;
  std::string releaseSomeSql_;
};

}  // namespace cpis::store
