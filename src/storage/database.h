// Database: Koi's one storage interface, with an embedded SQLite driver and a PostgreSQL (libpq) driver.
//
// SQL is written once with `?` placeholders; the PostgreSQL driver rewrites them to $1…$n. Both engines accept
// the subset Koi uses (INSERT … ON CONFLICT, RETURNING, partial indexes, CTEs). Where they differ the driver
// hides it: Engine() tells callers, and LockSkipLocked() gives the row-locking clause (empty on SQLite, whose
// writers are serialised by BEGIN IMMEDIATE anyway).
//
// Values are NULL, int64, double or text (Value). Times are int64 Unix milliseconds; booleans are 0/1 integers.
//
// Errors are mapped at the driver: unique violations -> kAlreadyExists (reason "already_exists"); lock
// contention, serialization failures and deadlocks -> kAborted ("database_busy", retried by Transact); a lost
// or refused connection -> kUnavailable ("database_unavailable"); anything else -> kInternal ("database_error").
//
// Thread safety: Database is thread-safe (it owns a connection pool). A Session is one checked-out connection and
// belongs to the thread that got it, for the duration of the callback only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace koi::storage {

using Value = std::variant<std::monostate, int64_t, double, std::string>;
inline const Value kNull{};

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // Integer value; text that holds a number is converted, NULL gives 0.
  int64_t Int(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;
  double Double(size_t i) const;
  // Text value; numbers are formatted, NULL gives "".
  std::string Text(size_t i) const;
  const Value& at(size_t i) const { return values_.at(i); }

 private:
  std::vector<Value> values_;
};

// One row of a result as it is read (QueryEach), without copying it: valid inside the callback only.
class RowView {
 public:
  // Integer value; text that holds a number is converted, NULL gives 0.
  virtual int64_t Int(size_t i) const = 0;
  // A text column's value ("" for NULL and for numbers: read those with Int), as a view into the driver's buffer.
  virtual std::string_view Text(size_t i) const = 0;

 protected:
  ~RowView() = default;
};
using RowFn = std::function<Status(const RowView&)>;

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t affected_rows = 0;  // for INSERT/UPDATE/DELETE
};

enum class Engine { kSqlite, kPostgres };
std::string_view EngineName(Engine engine);

// A LIKE pattern matching values that contain `text` literally: %, _ and \ are escaped for "LIKE ? ESCAPE '\'".
std::string LikeContains(std::string_view text);

// "?, ?, ?" for an IN list of `values`, which are appended to `params`. Callers must not pass an empty list
// (PostgreSQL refuses "IN ()").
std::string InList(std::vector<Value>& params, const std::vector<std::string>& values);
std::string InList(std::vector<Value>& params, const std::vector<int64_t>& values);
// "<column> is one of `ids`" with the whole list as one parameter, so the statement's text (and its prepared
// statement) is the same for any number of ids, and thousands of ids cost one bind: SQLite reads a JSON array
// (json_each), PostgreSQL an array literal. An empty list matches nothing.
std::string IdsIn(Engine engine, std::string_view column, std::vector<Value>& params, const std::vector<int64_t>& ids);

class Session {
 public:
  virtual ~Session() = default;
  virtual Engine engine() const = 0;
  // Runs one statement (prepared and cached per connection).
  virtual Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  Status Exec(std::string_view sql, const std::vector<Value>& params = {}) { return Query(sql, params).status(); }
  // Runs one SELECT and gives each row to `each` as it is read (stopping at the first error it returns), for reading
  // many rows without holding them all (SQLite). `each` must not use this session.
  virtual Status QueryEach(std::string_view sql, const std::vector<Value>& params, const RowFn& each);
  // Runs several statements separated by ';' without parameters (migrations).
  virtual Status ExecScript(std::string_view sql) = 0;
  // Bulk insert: COPY on PostgreSQL, a prepared INSERT loop on SQLite. Each row has columns.size() values.
  virtual Status CopyIn(std::string_view table, const std::vector<std::string>& columns,
                        const std::vector<std::vector<Value>>& rows) = 0;
};

struct DatabaseOptions {
  int pool_size = 4;
  int busy_timeout_ms = 5000;
  // SQLite: the log's size in pages at which the checkpoint thread copies it back into the file. SQLite's default is
  // 1,000; at 8,000 (32 MB) pages written again and again (an index's last leaf, a table's newest page) are copied
  // once per 8,000 instead of once per 1,000, and callback ingestion went from ~11,500/s to ~13,800/s.
  int checkpoint_pages = 8000;
  // SQLite: each connection's page cache (allocated as pages are read), and how much of the file is read through a
  // memory map instead. A map saves copying pages into each connection's cache, but on the 2-core VMs here a process
  // with 2 GB of a 1M-customer database mapped stalled every few hundred requests for 5-30 ms (even /healthz, which
  // reads nothing: p99 0.15 ms unmapped vs 2-33 ms mapped), so the default reads through 256 MB caches instead:
  // bench/results/customers.md, 2026-11-27 (5).
  int sqlite_cache_mb = 256;
  int sqlite_mmap_mb = 0;
};

struct TxOptions {
  int max_attempts = 5;      // attempts for kAborted errors (busy, serialization, deadlock)
  bool serializable = false;  // PostgreSQL SERIALIZABLE isolation; SQLite is always serializable
};

class Database {
 public:
  virtual ~Database() = default;

  // Opens "sqlite:<path>" (creates the file and its folder), "sqlite::memory:" (pool of one), or a
  // "postgresql://" URL. Fails with kUnavailable if the server cannot be reached, kInvalidArgument for a bad URL.
  static Result<std::unique_ptr<Database>> Open(const std::string& url, const DatabaseOptions& options);

  virtual Engine engine() const = 0;

  // Runs `fn` in one transaction on one connection: commits if it returns OK, rolls back otherwise. If the
  // transaction fails with kAborted (from fn or from COMMIT) the whole of `fn` runs again, up to
  // options.max_attempts times with a short randomised backoff; `fn` must therefore have no effects outside the
  // session. SQLite transactions start with BEGIN IMMEDIATE (they take the write lock up front).
  virtual Status Transact(const std::function<Status(Session&)>& fn, const TxOptions& options = {}) = 0;

  // One statement in autocommit mode on a pooled connection.
  virtual Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  Status Exec(std::string_view sql, const std::vector<Value>& params = {}) { return Query(sql, params).status(); }
  // Session::QueryEach on a pooled connection. `each` may use the database, on another connection, when the pool has
  // one free: not with "sqlite::memory:" (a pool of one), where it would wait for the connection it runs on.
  virtual Status QueryEach(std::string_view sql, const std::vector<Value>& params, const RowFn& each) = 0;

  // Cheap round trip (SELECT 1) for /readyz.
  virtual Status Ping() = 0;

  // " FOR UPDATE SKIP LOCKED" on PostgreSQL, "" on SQLite.
  std::string_view LockSkipLocked() const { return engine() == Engine::kPostgres ? " FOR UPDATE SKIP LOCKED" : ""; }
};

namespace internal {
// Shared by the drivers: the backoff before retry `attempt` (1-based) of an aborted transaction.
void SleepBeforeRetry(int attempt);
}  // namespace internal

}  // namespace koi::storage
