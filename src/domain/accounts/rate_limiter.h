// RateLimiter: fixed-window counters in the database, shared by every node (rate_counters table).
//
// Hit(bucket, window, limit) counts one event in the current window of `bucket` ("login-ip:1.2.3.4") and refuses
// it with kResourceExhausted ("rate_limited" or the caller's reason) and retry_after once the window holds more than
// `limit` events. One upsert per call, so a refused flood costs a single indexed write and no password hashing.
// Once a bucket is over its limit, this node remembers "refused until the window ends" in memory and refuses further
// events of that bucket without touching the database, so a flood costs a hash-map lookup per request after the first
// refusal (measured in bench/results/auth.md). Counting itself stays in the database, shared by every node.
// Old windows are deleted by Purge (the daily accounts housekeeping job). Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"
#include "core/status.h"
#include "storage/database.h"

namespace koi::accounts {

class RateLimiter {
 public:
  RateLimiter(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Status Hit(const std::string& bucket, int64_t window_ms, int64_t limit, const std::string& reason = "rate_limited");
  // Deletes windows that ended before `before_ms`. Returns the number deleted.
  Result<int64_t> Purge(int64_t before_ms);

 private:
  Status Refuse(const std::string& reason, int64_t until_ms, int64_t now_ms) const;

  storage::Database& db_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, int64_t> refused_until_;  // bucket|reason -> window end (ms); guarded by mu_
};

}  // namespace koi::accounts
