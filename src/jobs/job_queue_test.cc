#include "jobs/job_queue.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::jobs {
namespace {

using testing::TestEngine;

class JobQueueTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  FakeClock clock_;
};

#define OPEN_QUEUE(t, q)                                      \
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());                    \
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());          \
  JobQueue q(*t.db, clock_)

const std::vector<std::string> kKinds = {"test.work"};

TEST_P(JobQueueTest, EnqueueWithIdempotencyKeyReturnsTheFirstJob) {
  OPEN_QUEUE(t, q);
  auto a = q.Enqueue({.team = TeamId(1), .kind = "test.work", .idempotency_key = "k1"});
  auto b = q.Enqueue({.team = TeamId(1), .kind = "test.work", .idempotency_key = "k1"});
  auto c = q.Enqueue({.team = TeamId(2), .kind = "test.work", .idempotency_key = "k1"});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok()) << a.status().ToString();
  EXPECT_TRUE(a->created);
  EXPECT_FALSE(b->created);
  EXPECT_EQ(a->id, b->id);
  EXPECT_NE(a->id, c->id);  // keys are per team
}

TEST_P(JobQueueTest, RejectsBadRequests) {
  OPEN_QUEUE(t, q);
  EXPECT_EQ(q.Enqueue({.kind = "Bad Kind"}).status().reason(), "invalid_job_kind");
  EXPECT_EQ(q.Enqueue({.kind = "test.work", .interval_ms = 10}).status().reason(), "invalid_interval");
  EXPECT_EQ(q.Enqueue({.kind = "test.work", .max_attempts = 0}).status().reason(), "invalid_max_attempts");
  EXPECT_EQ(q.List(TeamId(0), 0, 10).status().reason(), "invalid_paging");
}

TEST_P(JobQueueTest, ScheduledJobIsNotLeasedBeforeItIsDue) {
  OPEN_QUEUE(t, q);
  ASSERT_TRUE(q.Enqueue({.kind = "test.work", .run_at_ms = clock_.NowMillis() + 60'000}).ok());
  EXPECT_FALSE(q.Lease("a", kKinds, 1000)->has_value());
  clock_.Advance(60'000);
  EXPECT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
}

TEST_P(JobQueueTest, OnlyRegisteredKindsAreLeased) {
  OPEN_QUEUE(t, q);
  ASSERT_TRUE(q.Enqueue({.kind = "other.kind"}).ok());
  EXPECT_FALSE(q.Lease("a", kKinds, 1000)->has_value());
}

TEST_P(JobQueueTest, ExpiredLeaseIsTakenOverAndTheOldOwnerIsFenced) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work"})->id;
  auto first = q.Lease("a", kKinds, 1000);
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->attempts, 1);
  EXPECT_FALSE(q.Lease("b", kKinds, 1000)->has_value()) << "a live lease must not be taken";
  clock_.Advance(1001);
  auto second = q.Lease("b", kKinds, 1000);
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->id, id);
  EXPECT_EQ((*second)->attempts, 2);
  // "a" woke up after a pause: every write it tries is refused.
  EXPECT_EQ(q.Complete(id, "a").reason(), "lease_lost");
  EXPECT_EQ(q.ReportProgress(id, "a", 1, 2).reason(), "lease_lost");
  Status cp = t.db->Transact([&](storage::Session& tx) { return q.CheckpointIn(tx, id, "a", 1, 2, "x"); });
  EXPECT_EQ(cp.reason(), "lease_lost");
  bool owned = true, cancel = false;
  ASSERT_TRUE(q.Heartbeat(id, "a", 1000, &owned, &cancel).ok());
  EXPECT_FALSE(owned);
  ASSERT_TRUE(q.Complete(id, "b").ok());
  EXPECT_EQ(q.Get(TeamId(0), id)->state, JobState::kSucceeded);
}

TEST_P(JobQueueTest, HeartbeatKeepsTheLease) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work"})->id;
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(600);
    bool owned = false, cancel = true;
    ASSERT_TRUE(q.Heartbeat(id, "a", 1000, &owned, &cancel).ok());
    EXPECT_TRUE(owned);
    EXPECT_FALSE(cancel);
    EXPECT_FALSE(q.Lease("b", kKinds, 1000)->has_value());
  }
}

TEST_P(JobQueueTest, RetryableErrorsBackOffThenPark) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work", .max_attempts = 3})->id;
  Status unavailable = Status::Unavailable("wecom_unavailable", "sandbox down");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto job = q.Lease("a", kKinds, 1000);
    ASSERT_TRUE(job.ok() && job->has_value()) << "attempt " << attempt;
    ASSERT_EQ((*job)->attempts, attempt);
    ASSERT_TRUE(q.Fail(id, "a", unavailable, (*job)->attempts, (*job)->max_attempts).ok());
    auto row = q.Get(TeamId(0), id);
    if (attempt < 3) {
      EXPECT_EQ(row->state, JobState::kQueued);
      EXPECT_EQ(row->run_at_ms, clock_.NowMillis() + JobQueue::BackoffMs(attempt));
      EXPECT_FALSE(q.Lease("a", kKinds, 1000)->has_value()) << "not before the backoff";
      clock_.Advance(JobQueue::BackoffMs(attempt));
    } else {
      EXPECT_EQ(row->state, JobState::kFailed);
      EXPECT_EQ(row->last_error_reason, "wecom_unavailable");
      EXPECT_TRUE(row->finished_at_ms.has_value());
    }
  }
  EXPECT_EQ(JobQueue::BackoffMs(1), 1000);
  EXPECT_EQ(JobQueue::BackoffMs(2), 2000);
  EXPECT_EQ(JobQueue::BackoffMs(30), 600'000);
}

TEST_P(JobQueueTest, PermanentErrorsParkAtOnce) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work"})->id;
  auto job = q.Lease("a", kKinds, 1000);
  ASSERT_TRUE(q.Fail(id, "a", Status::FailedPrecondition("no_permission", "48002"), 1, 8).ok());
  EXPECT_EQ(q.Get(TeamId(0), id)->state, JobState::kFailed);
}

TEST_P(JobQueueTest, CancelQueuedRunningAndFinished) {
  OPEN_QUEUE(t, q);
  auto queued = q.Enqueue({.team = TeamId(1), .kind = "test.work", .run_at_ms = clock_.NowMillis() + 10'000})->id;
  ASSERT_TRUE(q.Cancel(TeamId(1), queued).ok());
  EXPECT_EQ(q.Get(TeamId(1), queued)->state, JobState::kCancelled);

  auto running = q.Enqueue({.team = TeamId(1), .kind = "test.work"})->id;
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  ASSERT_TRUE(q.Cancel(TeamId(1), running).ok());
  bool owned = false, cancel = false;
  ASSERT_TRUE(q.Heartbeat(running, "a", 1000, &owned, &cancel).ok());
  EXPECT_TRUE(cancel);
  ASSERT_TRUE(q.MarkCancelled(running, "a").ok());
  EXPECT_EQ(q.Cancel(TeamId(1), running).reason(), "job_finished");
}

TEST_P(JobQueueTest, TeamsSeeOnlyTheirOwnJobs) {
  OPEN_QUEUE(t, q);
  auto mine = q.Enqueue({.team = TeamId(1), .kind = "test.work"})->id;
  ASSERT_TRUE(q.Enqueue({.team = TeamId(2), .kind = "test.work"}).ok());
  EXPECT_EQ(q.Get(TeamId(2), mine).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(q.Cancel(TeamId(2), mine).code(), StatusCode::kNotFound);
  auto list = q.List(TeamId(1), 1, 50);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, mine);
}

TEST_P(JobQueueTest, ListPagesNewestFirst) {
  OPEN_QUEUE(t, q);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Enqueue({.team = TeamId(1), .kind = "test.work"}).ok());
  ASSERT_TRUE(q.Enqueue({.team = TeamId(2), .kind = "test.work"}).ok());
  EXPECT_EQ(*q.CountForTeam(TeamId(1)), 5);
  auto p1 = q.List(TeamId(1), 1, 2), p3 = q.List(TeamId(1), 3, 2);
  ASSERT_EQ(p1->size(), 2u);
  ASSERT_EQ(p3->size(), 1u);
  EXPECT_GT((*p1)[0].id, (*p1)[1].id);
  EXPECT_LT((*p3)[0].id, (*p1)[1].id);
}

TEST_P(JobQueueTest, RepeatingJobIsRequeuedAfterSuccess) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work", .interval_ms = 60'000})->id;
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  ASSERT_TRUE(q.Complete(id, "a").ok());
  auto job = q.Get(TeamId(0), id);
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->attempts, 0);
  EXPECT_EQ(job->run_at_ms, clock_.NowMillis() + 60'000);
}

TEST_P(JobQueueTest, ReleaseGivesBackTheAttempt) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work"})->id;
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  ASSERT_TRUE(q.Release(id, "a").ok());
  auto job = q.Get(TeamId(0), id);
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->attempts, 0);
}

TEST_P(JobQueueTest, ProgressAndCountsAreReadable) {
  OPEN_QUEUE(t, q);
  auto id = q.Enqueue({.kind = "test.work", .progress_total = 10})->id;
  ASSERT_TRUE(q.Enqueue({.kind = "test.work"}).ok());
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  ASSERT_TRUE(q.ReportProgress(id, "a", 4, 10).ok());
  auto job = q.Get(TeamId(0), id);
  EXPECT_EQ(job->progress_done, 4);
  EXPECT_EQ(job->progress_total, 10);
  auto c = q.Counts();
  EXPECT_EQ(c.running, 1);
  EXPECT_EQ(c.queued, 1);
}

TEST_P(JobQueueTest, PurgeDeletesOnlyOldFinishedJobs) {
  OPEN_QUEUE(t, q);
  auto done = q.Enqueue({.kind = "test.work"})->id;
  ASSERT_TRUE(q.Lease("a", kKinds, 1000)->has_value());
  ASSERT_TRUE(q.Complete(done, "a").ok());
  auto pending = q.Enqueue({.kind = "test.work", .run_at_ms = clock_.NowMillis() + 100'000})->id;
  clock_.Advance(10'000);
  EXPECT_EQ(*q.PurgeFinished(clock_.NowMillis() - 20'000), 0);
  EXPECT_EQ(*q.PurgeFinished(clock_.NowMillis()), 1);
  EXPECT_FALSE(q.Get(TeamId(0), done).ok());
  EXPECT_TRUE(q.Get(TeamId(0), pending).ok());
}

TEST_P(JobQueueTest, ConcurrentWorkersNeverLeaseTheSameJob) {
  OPEN_QUEUE(t, q);
  constexpr int kJobs = 80;
  for (int i = 0; i < kJobs; ++i) ASSERT_TRUE(q.Enqueue({.kind = "test.work"}).ok());
  std::mutex mu;
  std::multiset<int64_t> leased;
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        auto job = q.Lease("w" + std::to_string(w), kKinds, 60'000);
        if (!job.ok()) continue;  // busy: try again
        if (!job->has_value()) return;
        std::lock_guard lock(mu);
        leased.insert((*job)->id.value());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(leased.size(), static_cast<size_t>(kJobs));
  EXPECT_EQ(std::set<int64_t>(leased.begin(), leased.end()).size(), static_cast<size_t>(kJobs));
}

INSTANTIATE_TEST_SUITE_P(Engines, JobQueueTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::jobs
