// JobRunner: worker threads that lease jobs from a JobQueue and run the registered handler for each kind.
//
// A handler is `Status(JobContext&)`. It should do its work in steps, and for work that must happen exactly once,
// commit each step in one transaction together with ctx.CheckpointIn(tx, …): if the node dies, the next run
// starts from the last committed checkpoint and the fence on the lease guarantees that a worker that lost its
// lease cannot commit a step twice. Handlers check ctx.ShouldStop() between steps and return
// Status::Aborted("job_interrupted", …) when it is true.
//
// Outcomes: OK -> succeeded (or re-queued, for repeating jobs); an error while a cancel was requested ->
// cancelled; an error while the runner is stopping -> released to the queue without using up an attempt;
// otherwise JobQueue::Fail (retry with backoff, or park). A thrown exception counts as kInternal.
//
// Thread safety: Register before Start; Start/Stop from one thread; Wake from any.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_queue.h"

namespace koi::jobs {

class JobContext {
 public:
  JobContext(JobQueue& queue, Job job, std::string owner, const std::atomic<bool>& runner_stopping)
      : queue_(queue), job_(std::move(job)), owner_(std::move(owner)), runner_stopping_(runner_stopping) {}

  const Job& job() const { return job_; }
  // True once the job should wind down: cancel requested, lease lost, or the node shutting down.
  bool ShouldStop() const { return cancel_requested_ || lease_lost_ || runner_stopping_.load(); }
  bool cancel_requested() const { return cancel_requested_; }
  bool lease_lost() const { return lease_lost_; }

  Status ReportProgress(int64_t done, int64_t total);
  // See JobQueue::CheckpointIn. Also updates job().checkpoint for the handler's own bookkeeping.
  Status CheckpointIn(storage::Session& tx, int64_t done, int64_t total, const std::string& checkpoint);

 private:
  friend class JobRunner;
  JobQueue& queue_;
  Job job_;
  std::string owner_;
  const std::atomic<bool>& runner_stopping_;
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> lease_lost_{false};
};

using JobHandler = std::function<Status(JobContext&)>;

struct RunnerOptions {
  int workers = 2;
  int64_t lease_ms = 30'000;
  int64_t poll_ms = 500;
  std::string owner_prefix = "koi";
};

class JobRunner {
 public:
  JobRunner(JobQueue& queue, RunnerOptions options);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void Register(const std::string& kind, JobHandler handler);
  void Start();
  // Stops leasing, tells running handlers to stop (ShouldStop) and waits for them. Idempotent.
  void Stop();
  // Wakes idle workers (after an enqueue on this node) so they do not wait for the next poll.
  void Wake();

  const std::string& owner() const { return owner_; }
  int active_jobs() const;

 private:
  void WorkerLoop();
  void HeartbeatLoop();
  void RunOne(Job job);

  JobQueue& queue_;
  RunnerOptions options_;
  std::string owner_;
  std::map<std::string, JobHandler> handlers_;
  std::vector<std::string> kinds_;

  std::atomic<bool> stopping_{false};
  bool started_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::shared_ptr<JobContext>> active_;  // GUARDED_BY(mu_)
  uint64_t wake_seq_ = 0;                          // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace koi::jobs
