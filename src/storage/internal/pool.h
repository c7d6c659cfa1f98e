// ConnectionPool<C>: a fixed set of connections checked out one at a time. Shared by the SQLite and PostgreSQL
// drivers. Checkout blocks until a connection is free. Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

namespace koi::storage::internal {

template <typename C>
class ConnectionPool {
 public:
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<C> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    C* operator->() { return conn_.get(); }
    C& operator*() { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<C> conn_;
  };

  void Add(std::unique_ptr<C> conn) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(conn));
    cv_.notify_one();
  }

  Lease Checkout() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    auto conn = std::move(free_.back());
    free_.pop_back();
    return Lease(this, std::move(conn));
  }

 private:
  void Return(std::unique_ptr<C> conn) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(conn));
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<C>> free_;  // GUARDED_BY(mu_)
};

}  // namespace koi::storage::internal

#include "storage/database.h"

namespace koi::storage::internal {

// The part of a Database that is the same for every driver: run work on a pooled connection, and the
// transaction loop with retry on kAborted. A driver supplies its connection type and its BEGIN statement.
template <typename C>
class PooledDatabase : public Database {
 public:
  Status Transact(const std::function<Status(Session&)>& fn, const TxOptions& options) override {
    Status last;
    for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
      if (attempt > 1) SleepBeforeRetry(attempt);
      auto conn = pool_.Checkout();
      last = conn->ExecScript(BeginStatement(options));
      if (last.ok()) {
        try {
          last = fn(*conn);
        } catch (...) {  // the connection goes back to the pool: never with the transaction still open
          (void)conn->ExecScript("ROLLBACK");
          throw;
        }
        if (last.ok()) last = conn->ExecScript("COMMIT");
        if (!last.ok()) (void)conn->ExecScript("ROLLBACK");
      }
      if (last.code() != StatusCode::kAborted) return last;
    }
    return last;
  }

  Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params) override {
    auto conn = pool_.Checkout();
    return conn->Query(sql, params);
  }

  Status QueryEach(std::string_view sql, const std::vector<Value>& params, const RowFn& each) override {
    auto conn = pool_.Checkout();
    return conn->QueryEach(sql, params, each);
  }

  Status Ping() override { return Query("SELECT 1", {}).status(); }

  ConnectionPool<C>& pool() { return pool_; }

 protected:
  virtual std::string_view BeginStatement(const TxOptions& options) const = 0;

 private:
  ConnectionPool<C> pool_;
};

}  // namespace koi::storage::internal
