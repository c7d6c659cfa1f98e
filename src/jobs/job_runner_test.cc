#include "jobs/job_runner.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::jobs {
namespace {

using testing::TestEngine;
using namespace std::chrono_literals;

// Counts to `total`, committing each step with its checkpoint: the handler shape that makes work exactly-once.
Status CountingHandler(storage::Database& db, JobContext& ctx, int64_t total, std::chrono::milliseconds step_delay) {
  int64_t next = ctx.job().checkpoint.empty() ? 0 : std::stoll(ctx.job().checkpoint);
  while (next < total) {
    if (ctx.ShouldStop()) return Status::Aborted("job_interrupted", "stopping");
    Status s = db.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO ledger (step) VALUES (?)", {next}));
      return ctx.CheckpointIn(tx, next + 1, total, std::to_string(next + 1));
    });
    if (!s.ok()) return s;
    ++next;
    if (step_delay.count() > 0) std::this_thread::sleep_for(step_delay);
  }
  return Status::Ok();
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

class JobRunnerTest : public ::testing::TestWithParam<TestEngine> {};

#define OPEN(t)                                                                      \
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());                                           \
  ASSERT_TRUE(storage::Migrate(*t.db, SystemClock::Instance()).ok());                \
  ASSERT_TRUE(t.db->Exec("CREATE TABLE ledger (step BIGINT NOT NULL)").ok());        \
  JobQueue queue(*t.db, SystemClock::Instance())

TEST_P(JobRunnerTest, RunsAJobToCompletionWithProgress) {
  OPEN(t);
  JobRunner runner(queue, {.workers = 2, .lease_ms = 2000, .poll_ms = 20});
  runner.Register("test.count", [&](JobContext& ctx) { return CountingHandler(*t.db, ctx, 50, 0ms); });
  auto id = queue.Enqueue({.team = TeamId(1), .kind = "test.count", .progress_total = 50})->id;
  runner.Start();
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(1), id)->state == JobState::kSucceeded; }, 20s));
  auto job = queue.Get(TeamId(1), id);
  EXPECT_EQ(job->progress_done, 50);
  EXPECT_EQ(job->progress_total, 50);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM ledger")->rows[0].Int(0), 50);
}

TEST_P(JobRunnerTest, RetriesRetryableErrorsThenSucceeds) {
  OPEN(t);
  std::atomic<int> calls{0};
  JobRunner runner(queue, {.workers = 1, .lease_ms = 2000, .poll_ms = 20});
  runner.Register("test.flaky", [&](JobContext&) -> Status {
    if (++calls == 1) return Status::Unavailable("wecom_unavailable", "first try fails");
    return Status::Ok();
  });
  auto id = queue.Enqueue({.kind = "test.flaky"})->id;
  runner.Start();
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(0), id)->state == JobState::kSucceeded; }, 20s));
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(queue.Get(TeamId(0), id)->attempts, 2);
}

TEST_P(JobRunnerTest, ExceptionsAndPermanentErrorsPark) {
  OPEN(t);
  JobRunner runner(queue, {.workers = 1, .lease_ms = 2000, .poll_ms = 20});
  runner.Register("test.bad", [&](JobContext&) -> Status { return Status::InvalidArgument("bad_payload", "no"); });
  runner.Register("test.throws", [&](JobContext&) -> Status { throw std::runtime_error("boom"); });
  auto bad = queue.Enqueue({.kind = "test.bad"})->id;
  auto throws = queue.Enqueue({.kind = "test.throws", .max_attempts = 1})->id;
  runner.Start();
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(0), bad)->state == JobState::kFailed; }, 20s));
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(0), throws)->state == JobState::kFailed; }, 20s));
  EXPECT_EQ(queue.Get(TeamId(0), bad)->last_error_reason, "bad_payload");
  EXPECT_EQ(queue.Get(TeamId(0), throws)->last_error_reason, "job_exception");
}

TEST_P(JobRunnerTest, CancelStopsARunningJob) {
  OPEN(t);
  JobRunner runner(queue, {.workers = 1, .lease_ms = 300, .poll_ms = 20});
  runner.Register("test.count", [&](JobContext& ctx) { return CountingHandler(*t.db, ctx, 100000, 5ms); });
  auto id = queue.Enqueue({.team = TeamId(3), .kind = "test.count"})->id;
  runner.Start();
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(3), id)->progress_done > 3; }, 20s));
  ASSERT_TRUE(queue.Cancel(TeamId(3), id).ok());
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(3), id)->state == JobState::kCancelled; }, 20s));
  EXPECT_LT(queue.Get(TeamId(3), id)->progress_done, 100000);
}

TEST_P(JobRunnerTest, StopReleasesRunningJobsWithoutUsingAnAttempt) {
  OPEN(t);
  auto id = queue.Enqueue({.kind = "test.count"})->id;
  {
    JobRunner runner(queue, {.workers = 1, .lease_ms = 5000, .poll_ms = 20});
    runner.Register("test.count", [&](JobContext& ctx) { return CountingHandler(*t.db, ctx, 100000, 2ms); });
    runner.Start();
    ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(0), id)->progress_done > 3; }, 20s));
    runner.Stop();
  }
  auto job = queue.Get(TeamId(0), id);
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->attempts, 0);
  int64_t done = job->progress_done;
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM ledger")->rows[0].Int(0), done);
}

// The acceptance test for durability: a worker process is SIGKILLed in the middle of a job; another runner takes
// the job over once the lease expires and finishes it; every step happened exactly once.
TEST_P(JobRunnerTest, KilledWorkerProcessJobFinishesExactlyOnce) {
  OPEN(t);
  constexpr int64_t kTotal = 300;
  auto id = queue.Enqueue({.kind = "test.count", .progress_total = kTotal})->id;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child opens its own connections; it never returns (SIGKILL ends it).
    auto db = storage::Database::Open(t.url, {.pool_size = 2});
    if (!db.ok()) _exit(3);
    JobQueue child_queue(**db, SystemClock::Instance());
    JobRunner runner(child_queue, {.workers = 1, .lease_ms = 700, .poll_ms = 20});
    runner.Register("test.count", [&](JobContext& ctx) { return CountingHandler(**db, ctx, kTotal, 5ms); });
    runner.Start();
    for (;;) pause();
  }
  bool midway = WaitFor([&] { return queue.Get(TeamId(0), id)->progress_done >= kTotal / 4; }, 30s);
  kill(child, SIGKILL);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  ASSERT_TRUE(midway) << "the child never made progress";
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  auto killed = queue.Get(TeamId(0), id);
  ASSERT_EQ(killed->state, JobState::kRunning) << "the job must be caught mid-run";
  ASSERT_LT(killed->progress_done, kTotal);

  JobRunner runner(queue, {.workers = 1, .lease_ms = 700, .poll_ms = 20});
  runner.Register("test.count", [&](JobContext& ctx) { return CountingHandler(*t.db, ctx, kTotal, 0ms); });
  runner.Start();
  ASSERT_TRUE(WaitFor([&] { return queue.Get(TeamId(0), id)->state == JobState::kSucceeded; }, 30s));
  auto counts = t.db->Query("SELECT COUNT(*), COUNT(DISTINCT step), MIN(step), MAX(step) FROM ledger");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->rows[0].Int(0), kTotal) << "every step exactly once";
  EXPECT_EQ(counts->rows[0].Int(1), kTotal);
  EXPECT_EQ(counts->rows[0].Int(2), 0);
  EXPECT_EQ(counts->rows[0].Int(3), kTotal - 1);
  EXPECT_EQ(queue.Get(TeamId(0), id)->attempts, 2);
}

INSTANTIATE_TEST_SUITE_P(Engines, JobRunnerTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::jobs
