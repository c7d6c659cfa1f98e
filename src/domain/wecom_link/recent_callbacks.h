// RecentCallbacks: what the callback inbox remembers of the callbacks it stored in the last few minutes, so it can
// tell a new event from WeCom's retry of one and from a replayed request without an index in the database.
//
// Why in memory: the messages' digests are random, so a unique index over them (even one led by the message's
// CreateTime) takes each stored callback to its own page: 20 of the ~30 pages a group commit wrote were that index's.
// Without it Koi spends about a third less CPU a callback (bench/results/wecom-callbacks.md, 2026-11-28 (11)).
//
// Why a window is enough: a request is refused when its timestamp is more than five minutes from now
// (CallbackInbox::kMaxClockSkewS), so a request can be replayed for at most ten minutes after it was first accepted
// (a timestamp five minutes ahead, replayed until it is five minutes behind); WeCom retries a delivery within
// seconds. What is remembered is kept for kWindowMs: those ten minutes and one more, for the time between a request's
// timestamp check and its batch's commit. A message is kept as long as its latest request (a retry renews it). A
// retry that arrived later still would be stored a second time, and applying it again is harmless: the applier
// reads WeCom's current state.
//
// Kinds of callback, as the database kept them before (wecom_events' digest is the first 128 bits of the message's
// SHA-256, hex; nonce_key is "<timestamp>:<nonce>"):
//   new    — no message with this team and digest was seen;
//   retry  — the message was seen, but not with this nonce_key: WeCom delivering it again;
//   replay — the message was seen with this nonce_key: the same request again.
//
// Memory: one hash entry (about 60 bytes with its share of the hash buckets) a callback, in buckets of one minute
// dropped whole as they age. At most max_entries are kept (about 120 MB at the default): beyond it the oldest minute goes early (counted in evicted();
// the inbox logs a warning), which shortens the window while more than max_entries callbacks arrive within it — at
// the default, a sustained 3,000 a second or more. A replay older than the shortened window is stored again.
//
// Not thread-safe: the inbox's writer thread is its only user.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace koi::wecom_link {

class RecentCallbacks {
 public:
  enum class Seen { kNew, kRetry, kReplay };

  struct Callback {
    int64_t team = 0;
    std::string_view digest;     // hex
    std::string_view nonce_key;  // "<timestamp>:<nonce>"
  };

  // Everything is remembered at least this long (and at most a minute longer: minutes are dropped whole), unless
  // more than max_entries arrive within it.
  static constexpr int64_t kWindowMs = 11 * 60'000;
  static constexpr size_t kDefaultMaxEntries = 2'000'000;

  explicit RecentCallbacks(size_t max_entries = kDefaultMaxEntries) : max_entries_(max_entries) {}

  // What `c` is, remembering it (a new message, or a retry's request) as received at `now_ms`; a retry also renews
  // its message, which then lives as long as the retry. Calls should come in order of time; an earlier time than the
  // last is taken as the last.
  Seen See(const Callback& c, int64_t now_ms);
  // Forgets what See remembered of `c` when it answered `seen`: for a batch whose transaction did not commit.
  void Unsee(const Callback& c, Seen seen);
  // Remembers `c` as `seen` (kNew or kRetry, which renews its message as See does) received at `received_ms`, as the
  // inbox does when it reads back what it stored before a restart (oldest first).
  void Remember(const Callback& c, Seen seen, int64_t received_ms);

  size_t size() const { return entries_; }
  size_t max_entries() const { return max_entries_; }
  uint64_t evicted() const { return evicted_; }

 private:
  struct MessageKey {
    int64_t team;
    uint64_t hi, lo;  // the digest's 128 bits
    bool operator==(const MessageKey&) const = default;
  };
  struct RequestKey {
    MessageKey message;
    uint64_t nonce;  // a hash of nonce_key
    bool operator==(const RequestKey&) const = default;
  };
  struct Hash {
    size_t operator()(const MessageKey& k) const noexcept;
    size_t operator()(const RequestKey& k) const noexcept;
  };
  struct Bucket {
    int64_t minute = 0;
    std::unordered_map<MessageKey, uint64_t, Hash> first_nonce;  // message → the nonce it first came with
    std::unordered_set<RequestKey, Hash> retries;                // the requests of WeCom's retries
  };

  static MessageKey KeyOf(const Callback& c);
  static uint64_t NonceOf(const Callback& c);
  // The bucket for `at_ms`, after dropping the buckets that aged out or no longer fit.
  Bucket& BucketFor(int64_t at_ms);
  // Moves the message `key` into `to` (the bucket of a retry of it) from an older bucket, so it lives as long as the
  // retry.
  void Renew(const MessageKey& key, Bucket& to);

  const size_t max_entries_;
  std::deque<Bucket> buckets_;  // oldest first
  size_t entries_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace koi::wecom_link
