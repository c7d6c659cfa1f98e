#include "core/status.h"

#include <gtest/gtest.h>

#include "core/strong_id.h"

namespace koi {
namespace {

Result<int> Half(int v) {
  if (v % 2) return Status::InvalidArgument("odd", "value is odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  KOI_ASSIGN_OR_RETURN(int h, Half(v));
  KOI_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  KOI_RETURN_IF_ERROR(Half(v).status());
  return Status::Ok();
}

TEST(Status, OkByDefaultAndCarriesCodeReasonMessage) {
  EXPECT_TRUE(Status().ok());
  Status s = Status::NotFound("job_not_found", "job 7 not found");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.reason(), "job_not_found");
  EXPECT_EQ(s.ToString(), "NotFound(job_not_found): job 7 not found");
}

TEST(Status, RetryRuleFollowsAbseil) {
  EXPECT_TRUE(Status::Unavailable("x", "").IsRetryable());
  EXPECT_TRUE(Status::Aborted("x", "").IsRetryable());
  EXPECT_FALSE(Status::FailedPrecondition("x", "").IsRetryable());
  EXPECT_FALSE(Status::InvalidArgument("x", "").IsRetryable());
  EXPECT_FALSE(Status::NotFound("x", "").IsRetryable());
}

TEST(Status, WithContextKeepsCodeAndReason) {
  Status s = Status::Unavailable("database_unavailable", "refused").WithContext("opening db");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.reason(), "database_unavailable");
  EXPECT_EQ(s.message(), "opening db: refused");
}

TEST(Result, PropagatesThroughMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6/2 = 3 is odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(5).value_or(-1), -1);
}

TEST(StrongId, ComparesAndHashesByValue) {
  TeamId a(1), b(2);
  EXPECT_LT(a, b);
  EXPECT_EQ(TeamId(3), TeamId(3));
  EXPECT_FALSE(TeamId().valid());
  EXPECT_EQ(std::hash<TeamId>{}(TeamId(5)), std::hash<int64_t>{}(5));
  static_assert(!std::is_convertible_v<JobId, TeamId>, "ids of different kinds must not mix");
}

}  // namespace
}  // namespace koi

#include "core/utf8.h"

namespace koi {
namespace {

TEST(Utf8, ValidatesAndRepairs) {
  EXPECT_TRUE(IsValidUtf8("锦鲤 koi"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe9\x94"));          // truncated
  EXPECT_EQ(ToValidUtf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(ToValidUtf8("锦\n"), "锦\xEF\xBF\xBD");
  EXPECT_EQ(ToValidUtf8("tab\tok"), "tab\tok");
}

}  // namespace
}  // namespace koi
