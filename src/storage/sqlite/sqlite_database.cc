#include "storage/sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "storage/internal/pool.h"

namespace koi::storage::sqlite {
namespace {

Status MapError(sqlite3* db, int rc, std::string_view what) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return Status::AlreadyExists("already_exists", msg);
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Aborted("database_busy", msg);
  if (primary == SQLITE_CONSTRAINT) return Status::FailedPrecondition("constraint_violation", msg);
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_IOERR || primary == SQLITE_FULL)
    return Status::Unavailable("database_unavailable", msg);
  return Status::Internal("database_error", msg);
}

class Connection final : public Session {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  ~Connection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Engine engine() const override { return Engine::kSqlite; }

  Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params) override {
    KOI_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    Resetter resetter{stmt};
    KOI_RETURN_IF_ERROR(Bind(stmt, sql, params));
    QueryResult result;
    int ncols = sqlite3_column_count(stmt);
    for (int c = 0; c < ncols; ++c) result.columns.emplace_back(sqlite3_column_name(stmt, c));
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return MapError(db_, rc, "query");
      std::vector<Value> row;
      row.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_INTEGER: row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c))); break;
          case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(stmt, c)); break;
          case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, c));
            row.emplace_back(std::string(text ? text : "", sqlite3_column_bytes(stmt, c)));
          }
        }
      }
      result.rows.emplace_back(std::move(row));
    }
    result.affected_rows = sqlite3_changes64(db_);
    return result;
  }

  Status QueryEach(std::string_view sql, const std::vector<Value>& params, const RowFn& each) override {
    KOI_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    Resetter resetter{stmt};
    KOI_RETURN_IF_ERROR(Bind(stmt, sql, params));
    StatementRow row(stmt);
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return Status::Ok();
      if (rc != SQLITE_ROW) return MapError(db_, rc, "query");
      row.Stepped();
      KOI_RETURN_IF_ERROR(each(row));
    }
  }

  Status ExecScript(std::string_view sql) override {
    char* err = nullptr;
    std::string owned(sql);
    int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return MapError(db_, rc, "script").WithContext(msg);
    }
    return Status::Ok();
  }

  Status CopyIn(std::string_view table, const std::vector<std::string>& columns,
                const std::vector<std::vector<Value>>& rows) override {
    std::string sql = "INSERT INTO " + std::string(table) + " (";
    std::string marks;
    for (size_t i = 0; i < columns.size(); ++i) {
      sql += (i ? "," : "") + columns[i];
      marks += i ? ",?" : "?";
    }
    sql += ") VALUES (" + marks + ")";
    for (const auto& row : rows) KOI_RETURN_IF_ERROR(Exec(sql, row));
    return Status::Ok();
  }

  sqlite3* handle() { return db_; }

 private:
  // Resets a statement on every exit path, so that it releases its read lock.
  struct Resetter {
    sqlite3_stmt* s;
    ~Resetter() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  // The current row of a stepping statement. Each column's type is read once a row, before any value: SQLite leaves
  // the type undefined once a value has been converted (Int on a text column).
  class StatementRow final : public RowView {
   public:
    explicit StatementRow(sqlite3_stmt* stmt) : stmt_(stmt), types_(sqlite3_column_count(stmt)) {}
    void Stepped() {
      for (size_t c = 0; c < types_.size(); ++c) types_[c] = sqlite3_column_type(stmt_, static_cast<int>(c));
    }
    int64_t Int(size_t i) const override { return sqlite3_column_int64(stmt_, static_cast<int>(i)); }
    std::string_view Text(size_t i) const override {
      const int c = static_cast<int>(i), type = types_.at(i);
      if (type != SQLITE_TEXT && type != SQLITE_BLOB) return {};
      const auto* text = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
      return text ? std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : std::string_view();
    }

   private:
    sqlite3_stmt* stmt_;
    std::vector<int> types_;
  };

  Status Bind(sqlite3_stmt* stmt, std::string_view sql, const std::vector<Value>& params) {
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt))
      return Status::Internal("database_error", "parameter count mismatch for: " + std::string(sql));
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) rc = sqlite3_bind_null(stmt, idx);
      else if (auto p = std::get_if<int64_t>(&v)) rc = sqlite3_bind_int64(stmt, idx, *p);
      else if (auto p = std::get_if<double>(&v)) rc = sqlite3_bind_double(stmt, idx, *p);
      else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text(stmt, idx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return MapError(db_, rc, "bind");
    }
    return Status::Ok();
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                nullptr);
    if (rc != SQLITE_OK) return MapError(db_, rc, "prepare");
    cache_.emplace(std::string(sql), stmt);
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Copies the write-ahead log back into the database file on a thread of its own. SQLite's default does it inside
// whichever commit finds the log past 1,000 pages: that commit then copies every page and waits for fdatasync, and
// with the callback inbox committing hundreds of times a second, that commit's callers (and all queued behind it)
// waited milliseconds for their acknowledgement (bench/results/wecom-callbacks.md). Every connection's commit hook
// reports the log's size; past DatabaseOptions::checkpoint_pages this thread runs a PASSIVE checkpoint (it never
// blocks writers or readers) on a connection of its own.
class Checkpointer {
 public:
  Checkpointer(const std::string& path, int pages) : path_(path), pages_(pages) {}
  ~Checkpointer() { Stop(); }

  // Replaces the connection's autocheckpoint with a report to this thread.
  void Watch(sqlite3* handle) {
    sqlite3_wal_hook(handle, &Checkpointer::OnCommit, this);
    watched_.push_back(handle);
  }

  Status Start() {
    int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      Status s = MapError(db_, rc, "open " + path_ + " for checkpoints");
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return Status::Unavailable("database_unavailable", s.message());
    }
    sqlite3_busy_timeout(db_, 1000);
    // A connection learns the file is in WAL mode when it first reads it; until then a checkpoint does nothing.
    rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Status s = MapError(db_, rc, "checkpoint connection");
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return s;
    }
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (sqlite3* handle : watched_) sqlite3_wal_hook(handle, nullptr, nullptr);  // they close after this is gone
    watched_.clear();
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

 private:
  static int OnCommit(void* self, sqlite3*, const char*, int pages) {
    auto* checkpointer = static_cast<Checkpointer*>(self);
    if (pages >= checkpointer->pages_) checkpointer->Request();
    return SQLITE_OK;
  }

  void Request() {
    {
      std::lock_guard lock(mu_);
      if (requested_) return;
      requested_ = true;
    }
    wake_.notify_one();
  }

  void Loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      // PASSIVE: copies what no reader still needs; a busy result (another checkpoint running) is simply retried at
      // the next report.
      (void)sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  const std::string path_;
  const int pages_;
  std::vector<sqlite3*> watched_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::thread thread_;
};

class SqliteDb final : public internal::PooledDatabase<Connection> {
 public:
  SqliteDb(std::unique_ptr<Checkpointer> checkpointer, int busy_timeout_ms)
      : busy_timeout_ms_(std::max(0, busy_timeout_ms)), checkpointer_(std::move(checkpointer)) {}
  // The checkpointer stops before the pool's connections close (members are destroyed after this body).
  ~SqliteDb() override {
    if (checkpointer_) checkpointer_->Stop();
  }

  Engine engine() const override { return Engine::kSqlite; }

  // One writer at a time in this process. SQLite allows one anyway, and a writer that finds the lock taken waits in
  // its busy handler, which sleeps 1, 2, 5 … ms between tries: with the callback inbox and the event applier both
  // writing, most commits waited a millisecond or more for a lock freed microseconds after. Queueing on a mutex
  // hands the lock over at once. Transactions and statements outside one that may write (anything but SELECT)
  // queue; a statement that did not would find the lock free only in the gaps between queued writers. The wait is
  // bounded by the busy timeout, as SQLite's is (database_busy, which Transact's callers retry). Other processes
  // (a CLI command) still meet the busy handler. A write begun inside a transaction on the same thread does not
  // queue (it would wait for itself); it meets the busy handler as before.
  Status Transact(const std::function<Status(Session&)>& fn, const TxOptions& options) override {
    return AsWriter([&] { return PooledDatabase::Transact(fn, options); });
  }

  Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params) override {
    if (ReadOnly(sql)) return PooledDatabase::Query(sql, params);
    return AsWriter([&] { return PooledDatabase::Query(sql, params); });
  }

 private:
  // A statement that begins with SELECT, WITH or EXPLAIN (a WITH … INSERT meets the busy handler, as before).
  static bool ReadOnly(std::string_view sql) {
    size_t i = 0;
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    auto starts = [&](std::string_view word) {
      if (sql.size() - i < word.size()) return false;
      for (size_t k = 0; k < word.size(); ++k)
        if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
      return true;
    };
    return starts("SELECT") || starts("WITH") || starts("EXPLAIN");
  }

  template <typename F>
  auto AsWriter(F&& write) -> decltype(write()) {
    thread_local bool writing = false;
    if (writing) return write();
    std::unique_lock lock(writer_mu_, std::defer_lock);
    if (!lock.try_lock_for(std::chrono::milliseconds(busy_timeout_ms_)))
      return Status::Aborted("database_busy", "another writer held the database for longer than the busy timeout");
    struct Mark {
      bool& flag;
      explicit Mark(bool& f) : flag(f) { flag = true; }
      ~Mark() { flag = false; }
    } mark(writing);
    return write();
  }

  int busy_timeout_ms_;
  std::timed_mutex writer_mu_;
  std::unique_ptr<Checkpointer> checkpointer_;

 protected:
  std::string_view BeginStatement(const TxOptions&) const override { return "BEGIN IMMEDIATE"; }
};

}  // namespace

Result<std::unique_ptr<Database>> SqliteDatabase::Open(const std::string& path, const DatabaseOptions& options) {
  bool memory = path == ":memory:";
  if (!memory) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::Unavailable("database_unavailable", "cannot create folder " + parent.string() + ": " + ec.message());
  }
  // An in-memory database has no log to copy back.
  auto checkpointer = memory ? nullptr : std::make_unique<Checkpointer>(path, std::max(1, options.checkpoint_pages));
  Checkpointer* watcher = checkpointer.get();
  auto db = std::make_unique<SqliteDb>(std::move(checkpointer), options.busy_timeout_ms);
  int n = memory ? 1 : std::max(1, options.pool_size);
  for (int i = 0; i < n; ++i) {
    sqlite3* handle = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      Status s = MapError(handle, rc, "open " + path);
      sqlite3_close_v2(handle);
      return Status::Unavailable("database_unavailable", s.message());
    }
    auto conn = std::make_unique<Connection>(handle);
    sqlite3_busy_timeout(handle, options.busy_timeout_ms);
    // The page cache and memory map: see DatabaseOptions (a small cache made copying pages the largest cost of a
    // list page at 1M customers; a map stalls the process on the machines here).
    KOI_RETURN_IF_ERROR(conn->ExecScript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
        "PRAGMA mmap_size=" + std::to_string(int64_t{std::max(0, options.sqlite_mmap_mb)} << 20) +
        "; PRAGMA cache_size=-" + std::to_string(int64_t{std::max(2, options.sqlite_cache_mb)} * 1024) + ";"));
    if (watcher != nullptr) watcher->Watch(handle);
    db->pool().Add(std::move(conn));
  }
  // Started once the first connection has made the file a WAL database.
  if (watcher != nullptr) KOI_RETURN_IF_ERROR(watcher->Start());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace koi::storage::sqlite
