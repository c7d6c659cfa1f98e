// JobQueue: durable background work stored in the `jobs` table.
//
// A job is a row: kind, payload (JSON text), state, attempts, a due time, an optional repeat interval, progress
// (done/total), a checkpoint the handler writes as it goes, and a lease. Workers lease due jobs (one at a time,
// `FOR UPDATE SKIP LOCKED` on PostgreSQL); a lease expires unless heartbeated, so a job whose node died (kill -9)
// is leased again by whoever looks next. Every write a worker makes is fenced on its lease (`lease_owner = ?`), so
// a node that lost its lease cannot complete, checkpoint or fail the job behind the new owner's back. Handlers
// make their work exactly-once by committing it in the same transaction as the checkpoint (CheckpointIn).
//
// States: queued -> running -> succeeded | failed (parked) | cancelled; running -> queued again for a retry, a
// released lease (graceful shutdown) or the next run of a repeating job.
//
// Team scope: every job has a team_id (0 = system jobs). Get/List/Cancel take the team and never show another
// team's job (NotFound). Thread-safe: all state is in the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/strong_id.h"
#include "storage/database.h"

namespace koi::jobs {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);

struct EnqueueRequest {
  TeamId team;                   // TeamId(0) for system jobs
  std::string kind;              // "wecom.full_sync"; [a-z0-9_.]+, at most 64 characters
  std::string payload = "{}";    // JSON text, at most 1 MiB
  std::string idempotency_key;   // optional; a second enqueue with the same (team, kind, key) returns the first job
  int64_t run_at_ms = 0;         // 0 = now
  int64_t interval_ms = 0;       // > 0: repeat this often after each success (min 1000)
  int max_attempts = 8;
  int64_t progress_total = 0;
};

struct Job {
  JobId id;
  TeamId team;
  std::string kind;
  std::string payload;
  std::string checkpoint;
  JobState state = JobState::kQueued;
  int attempts = 0;
  int max_attempts = 0;
  int64_t run_at_ms = 0;
  int64_t interval_ms = 0;
  bool cancel_requested = false;
  int64_t progress_done = 0;
  int64_t progress_total = 0;
  std::string last_error_reason;
  std::string last_error;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
};

struct EnqueueResult {
  JobId id;
  bool created;  // false when an existing job with the same idempotency key was returned
};

struct JobCounts {
  int64_t queued = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
};

class JobQueue {
 public:
  JobQueue(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Result<EnqueueResult> Enqueue(const EnqueueRequest& request);
  // Same, inside the caller's transaction, so a job is created atomically with the data that asks for it.
  Result<EnqueueResult> EnqueueIn(storage::Session& tx, const EnqueueRequest& request);

  Result<Job> Get(TeamId team, JobId id);
  // Newest first. `page` is 1-based; page_size 1..200.
  Result<std::vector<Job>> List(TeamId team, int page, int page_size);

  // Number of jobs of the team (for paging).
  Result<int64_t> CountForTeam(TeamId team);

  // Queued jobs are cancelled at once; a running job is asked to stop (its handler sees ShouldStop()).
  // Finished jobs: FailedPrecondition "job_finished".
  Status Cancel(TeamId team, JobId id);

  JobCounts Counts();  // all teams; for /metrics and the system status
  Result<JobCounts> CountsOrError();

  // ---- worker side (used by JobRunner) ----

  // Leases the next due job of one of `kinds` (queued and due, or running with an expired lease) for `lease_ms`.
  Result<std::optional<Job>> Lease(const std::string& owner, const std::vector<std::string>& kinds, int64_t lease_ms);
  // Extends the lease. Returns false in `*still_owned` if another worker took the job or it was finished; sets
  // `*cancel_requested` from the row.
  Status Heartbeat(JobId id, const std::string& owner, int64_t lease_ms, bool* still_owned, bool* cancel_requested);
  // Progress without a checkpoint, in its own transaction (fenced on the lease).
  Status ReportProgress(JobId id, const std::string& owner, int64_t done, int64_t total);
  // Progress and checkpoint inside the handler's transaction; fails with Aborted "lease_lost" (rolling back the
  // handler's work) if this worker no longer holds the lease.
  Status CheckpointIn(storage::Session& tx, JobId id, const std::string& owner, int64_t done, int64_t total,
                      const std::string& checkpoint);
  Status Complete(JobId id, const std::string& owner);
  // Retryable errors go back to queued after an exponential backoff until max_attempts; others park as failed.
  Status Fail(JobId id, const std::string& owner, const Status& error, int attempts, int max_attempts);
  Status MarkCancelled(JobId id, const std::string& owner);
  // Gives the job back without counting the attempt (graceful shutdown).
  Status Release(JobId id, const std::string& owner);

  // Deletes finished (succeeded/failed/cancelled) jobs that finished before `before_ms`. Returns the count.
  Result<int64_t> PurgeFinished(int64_t before_ms);

  // Backoff before attempt `attempts + 1`: 1 s doubled per attempt, at most 10 min.
  static int64_t BackoffMs(int attempts);

 private:
  Status FencedUpdate(storage::Session* tx, std::string_view sql, const std::vector<storage::Value>& params);

  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace koi::jobs
