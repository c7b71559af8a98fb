#include "engine/store/pg_lease_claims.h"

#include <algorithm>
#include <cstdint>

#include "engine/store/pg_connection.h"

namespace cpis::store {
namespace {

// A PostgreSQL array literal of the ids: {1,2,3}.
std::string idArray(std::span<const std::int64_t> ids) {
  std::string array = "{";
  for (const std::int64_t id : ids) {
    if (array.size() > 1) array += ',';
    array += std::to_string(id);
  }
  array += '}';
  return array;
}

}  // namespace

PgLeaseClaims::PgLeaseClaims(std::string_view table, std::string_view claimable) {
  const std::string t(table);
  const std::string condition(claimable);
  const std::string clock =
      "WITH clock AS (SELECT COALESCE($2::bigint, " + std::string(kPgNowMicros) + ") AS now) ";
  // $1 owner, $2 now (NULL: the server's clock), $3 lease, $4 limit
  claimSql_ = clock + "UPDATE " + t +
              " SET claimed_by = $1::text, claimed_until = clock.now + $3::bigint FROM clock" + " WHERE " +
              t + ".id IN (SELECT " + t + ".id FROM " + t + ", clock WHERE (" + condition + ")" + " AND (" +
              t + ".claimed_by IS NULL OR " + t + ".claimed_until < clock.now)" + " ORDER BY " + t +
              ".id LIMIT $4::bigint FOR UPDATE OF " + t + " SKIP LOCKED)" + " RETURNING " + t + ".id";
  const auto renewSql = [&](const std::string& more) {
    return clock + "UPDATE " + t + " SET claimed_until = clock.now + $3::bigint FROM clock" + " WHERE " + t +
           ".id IN (SELECT " + t + ".id FROM " + t + ", clock WHERE (" + condition + ")" + " AND " + t +
           ".claimed_by = $1::text" + more + " FOR UPDATE OF " + t + " SKIP LOCKED)" + " RETURNING " + t +
           ".id";
  };
  renewSql_ = renewSql("");
  renewSomeSql_ = renewSql(" AND " + t + ".id = ANY($4::text::bigint[])");  // the ids as text: {1,2,3}
  // Only claimable rows are ever claimed (finishing one clears its claim): the condition lets
  // the release use the claimable rows' partial index rather than read the whole table.
  releaseSql_ = "UPDATE " + t + " SET claimed_by = NULL, claimed_until = NULL WHERE (" + condition + ") AND " + t +
                ".claimed_by = $1::text";
  releaseSomeSql_ = releaseSql_ + " AND " + t + ".id = ANY($2::text::bigint[])";  // the ids as text: {1,2,3}
}

std::vector<std::int64_t> PgLeaseClaims::claim(PgConnection& connection, std::string_view owner,
                                               std::optional<std::int64_t> now,
                                               std::chrono::microseconds lease, std::size_t limit) const {
  PgParams params;
  params.text(owner)
      .optionalInt64(now)
      .int64(lease.count())
      .int64(static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  const auto result = connection.query(claimSql_, params);
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(result.rows()));
  for (int row = 0; row < result.rows(); ++row) ids.push_back(result.int64(row, 0));
  std::sort(ids.begin(), ids.end());  // RETURNING promises no order
  return ids;
}

std::size_t PgLeaseClaims::renew(PgConnection& connection, std::string_view owner,
                                 std::optional<std::int64_t> now, std::chrono::microseconds lease) const {
  PgParams params;
  params.text(owner).optionalInt64(now).int64(lease.count());
  return static_cast<std::size_t>(connection.query(renewSql_, params).rows());
}

std::size_t PgLeaseClaims::renewSome(PgConnection& connection, std::string_view owner,
                                     std::optional<std::int64_t> now, std::chrono::microseconds lease,
                                     std::span<const std::int64_t> ids) const {
  if (ids.empty()) return 0;
  const std::string array = idArray(ids);
  PgParams params;
  params.text(owner).optionalInt64(now).int64(lease.count()).text(array);
  return static_cast<std::size_t>(connection.query(renewSomeSql_, params).rows());
}

std::size_t PgLeaseClaims::release(PgConnection& connection, std::string_view owner) const {
  PgParams params;
  params.text(owner);
  return connection.query(releaseSql_, params).affected();
}

std::size_t PgLeaseClaims::releaseSome(PgConnection& connection, std::string_view owner,
                                       std::span<const std::int64_t> ids) const {
  if (ids.empty()) return 0;
  const std::string array = idArray(ids);
  PgParams params;
  params.text(owner).text(array);
  return connection.query(releaseSomeSql_, params).affected();
}

}  // namespace cpis::store
