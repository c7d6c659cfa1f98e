#include "jobs/job_runner.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"

namespace koi::jobs {

Status JobContext::ReportProgress(int64_t done, int64_t total) {
  Status s = queue_.ReportProgress(job_.id, owner_, done, total);
  if (s.code() == StatusCode::kAborted && s.reason() == "lease_lost") lease_lost_ = true;
  if (s.ok()) {
    job_.progress_done = done;
    job_.progress_total = total;
  }
  return s;
}

Status JobContext::CheckpointIn(storage::Session& tx, int64_t done, int64_t total, const std::string& checkpoint) {
  Status s = queue_.CheckpointIn(tx, job_.id, owner_, done, total, checkpoint);
  if (s.code() == StatusCode::kAborted && s.reason() == "lease_lost") lease_lost_ = true;
  if (s.ok()) {
    job_.progress_done = done;
    job_.progress_total = total;
    job_.checkpoint = checkpoint;
  }
  return s;
}

JobRunner::JobRunner(JobQueue& queue, RunnerOptions options) : queue_(queue), options_(std::move(options)) {
  char host[128] = {0};
  gethostname(host, sizeof(host) - 1);
  owner_ = options_.owner_prefix + "@" + host + ":" + std::to_string(getpid()) + ":" + NewRequestId().substr(0, 8);
}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Register(const std::string& kind, JobHandler handler) {
  handlers_[kind] = std::move(handler);
  kinds_.push_back(kind);
}

void JobRunner::Start() {
  if (started_) return;
  started_ = true;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { HeartbeatLoop(); });
}

void JobRunner::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void JobRunner::Wake() {
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
}

int JobRunner::active_jobs() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(active_.size());
}

void JobRunner::WorkerLoop() {
  while (!stopping_) {
    uint64_t seq;
    {
      std::lock_guard lock(mu_);
      seq = wake_seq_;
    }
    auto leased = queue_.Lease(owner_, kinds_, options_.lease_ms);
    if (leased.ok() && leased->has_value()) {
      RunOne(std::move(**leased));
      continue;
    }
    if (!leased.ok()) spdlog::warn("job lease failed: {}", leased.status().ToString());
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [&] { return stopping_ || wake_seq_ != seq; });
  }
}

void JobRunner::HeartbeatLoop() {
  const auto period = std::chrono::milliseconds(std::max<int64_t>(options_.lease_ms / 3, 10));
  while (!stopping_ || active_jobs() > 0) {
    std::vector<std::shared_ptr<JobContext>> active;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, period, [&] { return stopping_ && active_.empty(); });
      active.assign(active_.begin(), active_.end());
    }
    for (auto& ctx : active) {
      bool owned = true, cancel = false;
      Status s = queue_.Heartbeat(ctx->job().id, owner_, options_.lease_ms, &owned, &cancel);
      if (!s.ok()) {
        spdlog::warn("heartbeat for job {} failed: {}", ctx->job().id.value(), s.ToString());
        continue;  // the lease may still hold; try again next period
      }
      if (!owned) ctx->lease_lost_ = true;
      if (cancel) ctx->cancel_requested_ = true;
    }
  }
}

void JobRunner::RunOne(Job job) {
  RequestIdScope request_id("job-" + std::to_string(job.id.value()));
  auto handler = handlers_.find(job.kind);
  auto ctx = std::make_shared<JobContext>(queue_, job, owner_, stopping_);
  if (job.cancel_requested) ctx->cancel_requested_ = true;
  {
    std::lock_guard lock(mu_);
    active_.insert(ctx);
  }
  auto started = std::chrono::steady_clock::now();
  Status result;
  try {
    // Only registered kinds are leased, so a miss means the registry changed under us: park, don't crash.
    result = handler == handlers_.end()
                 ? Status::FailedPrecondition("job_kind_unknown", "no handler registered for " + job.kind)
                 : handler->second(*ctx);
  } catch (const std::exception& e) {
    result = Status::Internal("job_exception", std::string("handler threw: ") + e.what());
  }
  {
    std::lock_guard lock(mu_);
    active_.erase(ctx);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string outcome;
  Status write;
  if (ctx->lease_lost()) {
    outcome = "lease_lost";
    spdlog::warn("job {} ({}) lost its lease; another worker owns it now", job.id.value(), job.kind);
  } else if (result.ok()) {
    outcome = "succeeded";
    write = queue_.Complete(job.id, owner_);
  } else if (ctx->cancel_requested()) {
    outcome = "cancelled";
    write = queue_.MarkCancelled(job.id, owner_);
  } else if (stopping_) {
    outcome = "released";
    write = queue_.Release(job.id, owner_);
  } else {
    outcome = result.IsRetryable() && job.attempts < job.max_attempts ? "retry" : "failed";
    spdlog::warn("job {} ({}) attempt {}/{} failed: {}", job.id.value(), job.kind, job.attempts, job.max_attempts,
                 result.ToString());
    write = queue_.Fail(job.id, owner_, result, job.attempts, job.max_attempts);
  }
  if (!write.ok()) spdlog::warn("job {} ({}): recording outcome {} failed: {}", job.id.value(), job.kind, outcome,
                                write.ToString());
  auto& registry = MetricsRegistry::Default();
  registry.GetCounter("koi_jobs_finished_total", "Job runs by kind and outcome", {{"kind", job.kind}, {"outcome", outcome}})
      .Inc();
  registry
      .GetHistogram("koi_job_run_seconds", "Time spent in job handlers", {{"kind", job.kind}},
                    MetricsRegistry::LatencyBuckets())
      .Observe(seconds);
}

}  // namespace koi::jobs
