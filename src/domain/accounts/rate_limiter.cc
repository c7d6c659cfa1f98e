#include "domain/accounts/rate_limiter.h"

namespace koi::accounts {

Status RateLimiter::Refuse(const std::string& reason, int64_t until_ms, int64_t now_ms) const {
  int64_t retry_s = (until_ms - now_ms + 999) / 1000;
  return Status::ResourceExhausted(reason, "too many attempts; try again in " + std::to_string(retry_s) + " s")
      .WithRetryAfter(retry_s);
}

Status RateLimiter::Hit(const std::string& bucket, int64_t window_ms, int64_t limit, const std::string& reason) {
  int64_t now = clock_.NowMillis();
  int64_t start = now - now % window_ms;
  const std::string key = bucket + "|" + std::to_string(window_ms);
  {
    std::lock_guard lock(mu_);
    if (auto it = refused_until_.find(key); it != refused_until_.end()) {
      if (it->second > now) return Refuse(reason, it->second, now);
      refused_until_.erase(it);
    }
  }
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("INSERT INTO rate_counters (bucket, window_start, hits) VALUES (?, ?, 1) "
                                         "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_counters.hits + 1 "
                                         "RETURNING hits",
                                         {bucket, start}));
  if (r.rows.at(0).Int(0) <= limit) return Status::Ok();
  {
    std::lock_guard lock(mu_);
    if (refused_until_.size() >= 100000) {  // bounded: drop what has expired, or everything if nothing has
      std::erase_if(refused_until_, [now](const auto& kv) { return kv.second <= now; });
      if (refused_until_.size() >= 100000) refused_until_.clear();
    }
    refused_until_[key] = start + window_ms;
  }
  return Refuse(reason, start + window_ms, now);
}

Result<int64_t> RateLimiter::Purge(int64_t before_ms) {
  // A window starting a day before `before_ms` has certainly ended (no window is longer than a day).
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM rate_counters WHERE window_start < ?", {before_ms - 86400000}));
  return r.affected_rows;
}

}  // namespace koi::accounts
