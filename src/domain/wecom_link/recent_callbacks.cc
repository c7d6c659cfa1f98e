#include "domain/wecom_link/recent_callbacks.h"

#include <functional>

namespace koi::wecom_link {
namespace {

constexpr int64_t kMinuteMs = 60'000;

// 16 hex digits from `hex` at `at` → their value; false if any is not a hex digit.
bool ParseHex64(std::string_view hex, size_t at, uint64_t& out) {
  out = 0;
  for (size_t i = at; i < at + 16; ++i) {
    const char c = hex[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return false;
    out = out << 4 | static_cast<uint64_t>(v);
  }
  return true;
}

}  // namespace

size_t RecentCallbacks::Hash::operator()(const MessageKey& k) const noexcept {
  // The digest is a hash already; the team is mixed in so two teams' equal messages land apart.
  return static_cast<size_t>(k.hi ^ static_cast<uint64_t>(k.team) * 0x9E3779B97F4A7C15ULL);
}

size_t RecentCallbacks::Hash::operator()(const RequestKey& k) const noexcept {
  return (*this)(k.message) ^ static_cast<size_t>(k.nonce * 0xC2B2AE3D27D4EB4FULL);
}

RecentCallbacks::MessageKey RecentCallbacks::KeyOf(const Callback& c) {
  MessageKey key{c.team, 0, 0};
  if (c.digest.size() == 32 && ParseHex64(c.digest, 0, key.hi) && ParseHex64(c.digest, 16, key.lo)) return key;
  // Not the inbox's 32 hex digits (a row stored by an older version): still one key per distinct text.
  key.hi = std::hash<std::string_view>{}(c.digest);
  key.lo = c.digest.size();
  return key;
}

uint64_t RecentCallbacks::NonceOf(const Callback& c) { return std::hash<std::string_view>{}(c.nonce_key); }

RecentCallbacks::Bucket& RecentCallbacks::BucketFor(int64_t at_ms) {
  auto drop_oldest = [this] {
    entries_ -= buckets_.front().first_nonce.size() + buckets_.front().retries.size();
    buckets_.pop_front();
  };
  // A bucket goes when everything in it is older than the window.
  while (!buckets_.empty() && (buckets_.front().minute + 1) * kMinuteMs <= at_ms - kWindowMs) drop_oldest();
  const int64_t minute = at_ms / kMinuteMs;
  if (buckets_.empty() || buckets_.back().minute < minute) buckets_.push_back(Bucket{.minute = minute});
  // Over the limit: older minutes go early; the one being filled stays.
  while (entries_ >= max_entries_ && buckets_.size() > 1) {
    evicted_ += buckets_.front().first_nonce.size() + buckets_.front().retries.size();
    drop_oldest();
  }
  return buckets_.back();
}

RecentCallbacks::Seen RecentCallbacks::See(const Callback& c, int64_t now_ms) {
  Bucket& current = BucketFor(now_ms);
  const MessageKey key = KeyOf(c);
  const uint64_t nonce = NonceOf(c);
  for (Bucket& b : buckets_) {
    auto it = b.first_nonce.find(key);
    if (it == b.first_nonce.end()) continue;
    const uint64_t first = it->second;
    if (first == nonce) return Seen::kReplay;
    const RequestKey request{key, nonce};
    for (const Bucket& r : buckets_)
      if (r.retries.count(request)) return Seen::kReplay;
    current.retries.insert(request);
    ++entries_;
    Renew(key, current);
    return Seen::kRetry;
  }
  current.first_nonce.emplace(key, nonce);
  ++entries_;
  return Seen::kNew;
}

void RecentCallbacks::Renew(const MessageKey& key, Bucket& to) {
  for (Bucket& b : buckets_) {
    if (&b == &to) return;  // there already, or newer
    auto it = b.first_nonce.find(key);
    if (it == b.first_nonce.end()) continue;
    to.first_nonce.emplace(key, it->second);
    b.first_nonce.erase(it);
    return;
  }
}

void RecentCallbacks::Unsee(const Callback& c, Seen seen) {
  const MessageKey key = KeyOf(c);
  const uint64_t nonce = NonceOf(c);
  for (auto b = buckets_.rbegin(); b != buckets_.rend(); ++b) {
    if (seen == Seen::kNew) {
      auto it = b->first_nonce.find(key);
      if (it == b->first_nonce.end() || it->second != nonce) continue;
      b->first_nonce.erase(it);
    } else if (seen != Seen::kRetry || b->retries.erase(RequestKey{key, nonce}) == 0) {
      continue;
    }
    --entries_;
    return;
  }
}

void RecentCallbacks::Remember(const Callback& c, Seen seen, int64_t received_ms) {
  Bucket& b = BucketFor(received_ms);
  const MessageKey key = KeyOf(c);
  const uint64_t nonce = NonceOf(c);
  const bool added = seen == Seen::kNew     ? b.first_nonce.emplace(key, nonce).second
                     : seen == Seen::kRetry ? b.retries.insert(RequestKey{key, nonce}).second
                                            : false;
  if (added) ++entries_;
  if (seen == Seen::kRetry) Renew(key, b);
}

}  // namespace koi::wecom_link
