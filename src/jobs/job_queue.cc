#include "jobs/job_queue.h"

#include <algorithm>

namespace koi::jobs {
namespace {

using storage::Row;
using storage::Value;

constexpr std::string_view kColumns =
    "id, team_id, kind, payload, checkpoint, state, attempts, max_attempts, run_at, interval_ms, cancel_requested, "
    "progress_done, progress_total, last_error_reason, last_error, created_at, updated_at, finished_at";

Job FromRow(const Row& r) {
  Job j;
  j.id = JobId(r.Int(0));
  j.team = TeamId(r.Int(1));
  j.kind = r.Text(2);
  j.payload = r.Text(3);
  j.checkpoint = r.Text(4);
  j.state = ParseJobState(r.Text(5)).value_or(JobState::kFailed);
  j.attempts = static_cast<int>(r.Int(6));
  j.max_attempts = static_cast<int>(r.Int(7));
  j.run_at_ms = r.Int(8);
  j.interval_ms = r.Int(9);
  j.cancel_requested = r.Int(10) != 0;
  j.progress_done = r.Int(11);
  j.progress_total = r.Int(12);
  j.last_error_reason = r.Text(13);
  j.last_error = r.Text(14);
  j.created_at_ms = r.Int(15);
  j.updated_at_ms = r.Int(16);
  j.finished_at_ms = r.OptInt(17);
  return j;
}

bool ValidKind(const std::string& kind) {
  if (kind.empty() || kind.size() > 64) return false;
  return std::all_of(kind.begin(), kind.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'; });
}

}  // namespace

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "failed";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (auto s : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded, JobState::kFailed, JobState::kCancelled})
    if (JobStateName(s) == name) return s;
  return std::nullopt;
}

int64_t JobQueue::BackoffMs(int attempts) {
  int64_t ms = int64_t{1000} << std::clamp(attempts - 1, 0, 20);
  return std::min<int64_t>(ms, 10 * 60 * 1000);
}

Result<EnqueueResult> JobQueue::Enqueue(const EnqueueRequest& request) {
  Result<EnqueueResult> out = Status::Internal("job_enqueue", "not run");
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    out = EnqueueIn(tx, request);
    return out.status();
  });
  if (!s.ok()) return s;
  return out;
}

Result<EnqueueResult> JobQueue::EnqueueIn(storage::Session& tx, const EnqueueRequest& r) {
  if (!ValidKind(r.kind))
    return Status::InvalidArgument("invalid_job_kind", "job kind must be 1-64 characters of a-z, 0-9, '_' and '.'");
  if (r.payload.size() > (1u << 20)) return Status::InvalidArgument("payload_too_large", "job payload over 1 MiB");
  if (r.interval_ms != 0 && r.interval_ms < 1000)
    return Status::InvalidArgument("invalid_interval", "a repeating job must repeat at most once a second");
  if (r.max_attempts < 1 || r.max_attempts > 100)
    return Status::InvalidArgument("invalid_max_attempts", "max_attempts must be 1-100");
  int64_t now = clock_.NowMillis();
  int64_t run_at = r.run_at_ms > 0 ? r.run_at_ms : now;
  Value key = r.idempotency_key.empty() ? storage::kNull : Value(r.idempotency_key);
  // ON CONFLICT DO NOTHING (not a SELECT first) so two concurrent enqueues with one key cannot both insert.
  KOI_ASSIGN_OR_RETURN(
      auto res,
      tx.Query("INSERT INTO jobs (team_id, kind, idempotency_key, payload, state, max_attempts, run_at, interval_ms, "
               "progress_total, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (team_id, kind, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING "
               "RETURNING id",
               {r.team.value(), r.kind, key, r.payload, int64_t{r.max_attempts}, run_at, r.interval_ms,
                r.progress_total, now, now}));
  if (res.rows.empty()) {
    KOI_ASSIGN_OR_RETURN(auto existing,
                         tx.Query("SELECT id FROM jobs WHERE team_id = ? AND kind = ? AND idempotency_key = ?",
                                  {r.team.value(), r.kind, r.idempotency_key}));
    if (existing.rows.empty()) return Status::Aborted("database_busy", "idempotency key raced; retry");
    return EnqueueResult{JobId(existing.rows[0].Int(0)), false};
  }
  return EnqueueResult{JobId(res.rows.at(0).Int(0)), true};
}

Result<Job> JobQueue::Get(TeamId team, JobId id) {
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("SELECT " + std::string(kColumns) + " FROM jobs WHERE id = ? AND team_id = ?",
                                           {id.value(), team.value()}));
  if (res.rows.empty()) return Status::NotFound("job_not_found", "job " + std::to_string(id.value()) + " not found");
  return FromRow(res.rows[0]);
}

Result<std::vector<Job>> JobQueue::List(TeamId team, int page, int page_size) {
  if (page < 1 || page_size < 1 || page_size > 200)
    return Status::InvalidArgument("invalid_paging", "page must be >= 1 and page_size 1-200");
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("SELECT " + std::string(kColumns) +
                                               " FROM jobs WHERE team_id = ? ORDER BY id DESC LIMIT ? OFFSET ?",
                                           {team.value(), int64_t{page_size}, int64_t{(page - 1) * page_size}}));
  std::vector<Job> out;
  for (const auto& row : res.rows) out.push_back(FromRow(row));
  return out;
}

Result<int64_t> JobQueue::CountForTeam(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("SELECT COUNT(*) FROM jobs WHERE team_id = ?", {team.value()}));
  return res.rows.at(0).Int(0);
}

Status JobQueue::Cancel(TeamId team, JobId id) {
  int64_t now = clock_.NowMillis();
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto res,
                         tx.Query("SELECT state FROM jobs WHERE id = ? AND team_id = ?", {id.value(), team.value()}));
    if (res.rows.empty()) return Status::NotFound("job_not_found", "job " + std::to_string(id.value()) + " not found");
    auto state = ParseJobState(res.rows[0].Text(0));
    if (state == JobState::kQueued)
      return tx.Exec("UPDATE jobs SET state = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ?",
                     {now, now, id.value()});
    if (state == JobState::kRunning)
      return tx.Exec("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?", {now, id.value()});
    return Status::FailedPrecondition("job_finished", "job " + std::to_string(id.value()) + " has already finished");
  });
}

Result<JobCounts> JobQueue::CountsOrError() {
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
  JobCounts c;
  for (const auto& row : res.rows) {
    auto state = ParseJobState(row.Text(0));
    int64_t n = row.Int(1);
    if (!state) continue;
    switch (*state) {
      case JobState::kQueued: c.queued = n; break;
      case JobState::kRunning: c.running = n; break;
      case JobState::kSucceeded: c.succeeded = n; break;
      case JobState::kFailed: c.failed = n; break;
      case JobState::kCancelled: c.cancelled = n; break;
    }
  }
  return c;
}

JobCounts JobQueue::Counts() { return CountsOrError().value_or(JobCounts{}); }

Result<std::optional<Job>> JobQueue::Lease(const std::string& owner, const std::vector<std::string>& kinds,
                                           int64_t lease_ms) {
  if (kinds.empty()) return std::optional<Job>();
  int64_t now = clock_.NowMillis();
  std::string in;
  std::vector<Value> params = {owner, now + lease_ms, now, now, now};
  for (const auto& k : kinds) {
    in += in.empty() ? "?" : ",?";
    params.emplace_back(k);
  }
  // A job found running with an expired lease was abandoned by a dead worker: it is simply leased again. Its
  // attempts counter still grows, so a job that kills its node every time ends up parked.
  std::string sql =
      "UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ? "
      "WHERE id = (SELECT id FROM jobs WHERE ((state = 'queued' AND run_at <= ?) OR "
      "(state = 'running' AND lease_until < ?)) AND kind IN (" +
      in + ") ORDER BY run_at, id LIMIT 1" + std::string(db_.LockSkipLocked()) + ") RETURNING " +
      std::string(kColumns);
  std::optional<Job> out;
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto res, tx.Query(sql, params));
    out.reset();
    if (!res.rows.empty()) out = FromRow(res.rows[0]);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Status JobQueue::Heartbeat(JobId id, const std::string& owner, int64_t lease_ms, bool* still_owned,
                           bool* cancel_requested) {
  int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND "
                                           "lease_owner = ? AND state = 'running' RETURNING cancel_requested",
                                           {now + lease_ms, now, id.value(), owner}));
  *still_owned = !res.rows.empty();
  *cancel_requested = *still_owned && res.rows[0].Int(0) != 0;
  return Status::Ok();
}

Status JobQueue::FencedUpdate(storage::Session* tx, std::string_view sql, const std::vector<Value>& params) {
  auto res = tx ? tx->Query(sql, params) : db_.Query(sql, params);
  if (!res.ok()) return res.status();
  if (res->affected_rows == 0)
    return Status::Aborted("lease_lost", "this worker no longer holds the lease on the job");
  return Status::Ok();
}

Status JobQueue::ReportProgress(JobId id, const std::string& owner, int64_t done, int64_t total) {
  return FencedUpdate(nullptr,
                      "UPDATE jobs SET progress_done = ?, progress_total = ?, updated_at = ? WHERE id = ? AND "
                      "lease_owner = ? AND state = 'running'",
                      {done, total, clock_.NowMillis(), id.value(), owner});
}

Status JobQueue::CheckpointIn(storage::Session& tx, JobId id, const std::string& owner, int64_t done, int64_t total,
                              const std::string& checkpoint) {
  return FencedUpdate(&tx,
                      "UPDATE jobs SET progress_done = ?, progress_total = ?, checkpoint = ?, updated_at = ? WHERE "
                      "id = ? AND lease_owner = ? AND state = 'running'",
                      {done, total, checkpoint, clock_.NowMillis(), id.value(), owner});
}

Status JobQueue::Complete(JobId id, const std::string& owner) {
  int64_t now = clock_.NowMillis();
  // A repeating job goes back to the queue with a fresh attempt budget and checkpoint. The casts let PostgreSQL
  // type the parameters inside CASE (it would otherwise guess text).
  return FencedUpdate(nullptr,
                      "UPDATE jobs SET "
                      "state = CASE WHEN interval_ms > 0 THEN 'queued' ELSE 'succeeded' END, "
                      "run_at = CASE WHEN interval_ms > 0 THEN CAST(? AS BIGINT) + interval_ms ELSE run_at END, "
                      "attempts = CASE WHEN interval_ms > 0 THEN 0 ELSE attempts END, "
                      "checkpoint = CASE WHEN interval_ms > 0 THEN '' ELSE checkpoint END, "
                      "finished_at = CASE WHEN interval_ms > 0 THEN NULL ELSE CAST(? AS BIGINT) END, "
                      "lease_owner = NULL, lease_until = NULL, last_error_reason = '', last_error = '', "
                      "updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
                      {now, now, now, id.value(), owner});
}

Status JobQueue::Fail(JobId id, const std::string& owner, const Status& error, int attempts, int max_attempts) {
  int64_t now = clock_.NowMillis();
  bool retry = error.IsRetryable() && attempts < max_attempts;
  std::string message = error.message().substr(0, 2000);
  if (retry) {
    return FencedUpdate(nullptr,
                        "UPDATE jobs SET state = 'queued', run_at = ?, lease_owner = NULL, lease_until = NULL, "
                        "last_error_reason = ?, last_error = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND "
                        "state = 'running'",
                        {now + BackoffMs(attempts), error.reason(), message, now, id.value(), owner});
  }
  return FencedUpdate(nullptr,
                      "UPDATE jobs SET state = 'failed', finished_at = ?, lease_owner = NULL, lease_until = NULL, "
                      "last_error_reason = ?, last_error = ?, updated_at = ? WHERE id = ? AND lease_owner = ? AND "
                      "state = 'running'",
                      {now, error.reason(), message, now, id.value(), owner});
}

Status JobQueue::MarkCancelled(JobId id, const std::string& owner) {
  int64_t now = clock_.NowMillis();
  return FencedUpdate(nullptr,
                      "UPDATE jobs SET state = 'cancelled', finished_at = ?, lease_owner = NULL, lease_until = NULL, "
                      "updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'",
                      {now, now, id.value(), owner});
}

Status JobQueue::Release(JobId id, const std::string& owner) {
  int64_t now = clock_.NowMillis();
  return FencedUpdate(nullptr,
                      "UPDATE jobs SET state = 'queued', run_at = ?, attempts = CASE WHEN attempts > 0 THEN "
                      "attempts - 1 ELSE 0 END, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? "
                      "AND lease_owner = ? AND state = 'running'",
                      {now, now, id.value(), owner});
}

Result<int64_t> JobQueue::PurgeFinished(int64_t before_ms) {
  KOI_ASSIGN_OR_RETURN(auto res, db_.Query("DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') AND "
                                           "finished_at < ?",
                                           {before_ms}));
  return res.affected_rows;
}

}  // namespace koi::jobs
