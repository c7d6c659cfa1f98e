#include "domain/wecom_link/recent_callbacks.h"

#include <gtest/gtest.h>

#include <string>

namespace koi::wecom_link {
namespace {

using Seen = RecentCallbacks::Seen;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kT0 = 1'800'000'000'000;  // on a minute's start

const std::string kDigestA = "0123456789abcdef0123456789abcdef";
const std::string kDigestB = "0123456789abcdef0123456789abcdee";  // differs in the last bit only

RecentCallbacks::Callback C(int64_t team, const std::string& digest, const std::string& nonce_key) {
  return {.team = team, .digest = digest, .nonce_key = nonce_key};
}

TEST(RecentCallbacksTest, TellsNewRetryAndReplayApart) {
  RecentCallbacks recent;
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kNew);
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kReplay);  // the same request
  EXPECT_EQ(recent.See(C(1, kDigestA, "105:b"), kT0), Seen::kRetry);   // the same message, a new request
  EXPECT_EQ(recent.See(C(1, kDigestA, "105:b"), kT0), Seen::kReplay);  // that request again
  EXPECT_EQ(recent.See(C(1, kDigestA, "110:c"), kT0), Seen::kRetry);
  EXPECT_EQ(recent.See(C(1, kDigestB, "100:a"), kT0), Seen::kNew);  // another message with the same nonce
  EXPECT_EQ(recent.See(C(2, kDigestA, "100:a"), kT0), Seen::kNew);  // another team's
  EXPECT_EQ(recent.size(), 5u);
  // A digest in another form (not 32 hex digits) is still told apart by its text.
  EXPECT_EQ(recent.See(C(1, "xyz", "100:a"), kT0), Seen::kNew);
  EXPECT_EQ(recent.See(C(1, "xyw", "100:a"), kT0), Seen::kNew);
  EXPECT_EQ(recent.See(C(1, "xyz", "100:a"), kT0), Seen::kReplay);
}

TEST(RecentCallbacksTest, RemembersForTheWholeWindowThenForgets) {
  RecentCallbacks recent;
  const int64_t seen_at = kT0 + kMinute - 1;  // the last moment of its minute
  ASSERT_EQ(recent.See(C(1, kDigestA, "100:a"), seen_at), Seen::kNew);
  ASSERT_EQ(recent.See(C(1, kDigestA, "101:b"), seen_at), Seen::kRetry);
  // Still a replay at the end of the window, across minutes with other traffic.
  for (int64_t at = seen_at; at <= seen_at + RecentCallbacks::kWindowMs; at += kMinute / 2)
    ASSERT_EQ(recent.See(C(1, kDigestB, std::to_string(at)), at), at == seen_at ? Seen::kNew : Seen::kRetry);
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), seen_at + RecentCallbacks::kWindowMs), Seen::kReplay);
  EXPECT_EQ(recent.See(C(1, kDigestA, "101:b"), seen_at + RecentCallbacks::kWindowMs), Seen::kReplay);
  // A minute later its bucket has gone: the message is new again, and what it held no longer counts.
  const size_t before = recent.size();
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), seen_at + RecentCallbacks::kWindowMs + kMinute), Seen::kNew);
  EXPECT_LT(recent.size(), before);
  EXPECT_EQ(recent.evicted(), 0u);
  // A clock that steps back files into the newest minute and forgets nothing.
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kReplay);
}

TEST(RecentCallbacksTest, ARetryKeepsItsMessageAsLongAsItself) {
  RecentCallbacks recent;
  ASSERT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kNew);
  const int64_t retried = kT0 + 8 * kMinute;  // WeCom retrying late: the first request's minute goes first
  ASSERT_EQ(recent.See(C(1, kDigestA, "580:b"), retried), Seen::kRetry);
  const int64_t later = retried + RecentCallbacks::kWindowMs;
  EXPECT_EQ(recent.See(C(1, kDigestA, "580:b"), later), Seen::kReplay);  // not taken for a new message
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), later), Seen::kReplay);
  EXPECT_EQ(recent.size(), 2u);  // moved, not copied
  EXPECT_EQ(recent.See(C(1, kDigestA, "580:b"), later + kMinute), Seen::kNew);  // and then both go
}

TEST(RecentCallbacksTest, UnseeUndoesOnlyWhatSeeRemembered) {
  RecentCallbacks recent;
  ASSERT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kNew);
  ASSERT_EQ(recent.See(C(1, kDigestB, "100:a"), kT0), Seen::kNew);
  recent.Unsee(C(1, kDigestB, "100:a"), Seen::kNew);  // its batch did not commit
  EXPECT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent.See(C(1, kDigestB, "100:a"), kT0), Seen::kNew);
  ASSERT_EQ(recent.See(C(1, kDigestA, "105:b"), kT0), Seen::kRetry);
  recent.Unsee(C(1, kDigestA, "105:b"), Seen::kRetry);
  EXPECT_EQ(recent.See(C(1, kDigestA, "105:b"), kT0), Seen::kRetry);  // not a replay: the first was not stored
  // Undoing a new message seen with another nonce leaves the stored one alone.
  recent.Unsee(C(1, kDigestA, "999:z"), Seen::kNew);
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), kT0), Seen::kReplay);
  EXPECT_EQ(recent.size(), 3u);
}

TEST(RecentCallbacksTest, BeyondItsLimitTheOldestMinutesGoFirst) {
  RecentCallbacks recent(/*max_entries=*/3);
  ASSERT_EQ(recent.See(C(1, kDigestA, "1:a"), kT0), Seen::kNew);
  ASSERT_EQ(recent.See(C(1, kDigestB, "2:b"), kT0 + kMinute), Seen::kNew);
  ASSERT_EQ(recent.See(C(2, kDigestA, "3:c"), kT0 + kMinute), Seen::kNew);
  EXPECT_EQ(recent.size(), 3u);
  // The fourth: the first minute goes, early.
  ASSERT_EQ(recent.See(C(2, kDigestB, "4:d"), kT0 + 2 * kMinute), Seen::kNew);
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.evicted(), 1u);
  EXPECT_EQ(recent.See(C(1, kDigestA, "1:a"), kT0 + 2 * kMinute), Seen::kNew);  // forgotten
  EXPECT_EQ(recent.evicted(), 3u);  // ... and the second minute went to make room for it
  // The minute being filled is never emptied: every callback of it is still known.
  for (int i = 0; i < 10; ++i) recent.See(C(3, kDigestA, "n" + std::to_string(i)), kT0 + 2 * kMinute);
  EXPECT_EQ(recent.See(C(2, kDigestB, "4:d"), kT0 + 2 * kMinute), Seen::kReplay);
}

TEST(RecentCallbacksTest, RememberedCallbacksAreKnownAfterARestart) {
  RecentCallbacks recent;
  recent.Remember(C(1, kDigestA, "100:a"), Seen::kNew, kT0);
  recent.Remember(C(1, kDigestA, "105:b"), Seen::kRetry, kT0 + 5'000);
  recent.Remember(C(1, kDigestA, "105:b"), Seen::kRetry, kT0 + 5'000);  // read twice: kept once
  recent.Remember(C(1, kDigestB, "100:a"), Seen::kReplay, kT0);        // not a kind that is stored
  EXPECT_EQ(recent.size(), 2u);
  const int64_t now = kT0 + 3 * kMinute;
  EXPECT_EQ(recent.See(C(1, kDigestA, "100:a"), now), Seen::kReplay);
  EXPECT_EQ(recent.See(C(1, kDigestA, "105:b"), now), Seen::kReplay);
  EXPECT_EQ(recent.See(C(1, kDigestA, "120:c"), now), Seen::kRetry);
  EXPECT_EQ(recent.See(C(1, kDigestB, "100:a"), now), Seen::kNew);
}

}  // namespace
}  // namespace koi::wecom_link
