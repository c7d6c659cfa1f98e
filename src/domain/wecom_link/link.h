// WecomLink: a team's link to its WeCom corp (企业授权) and the full sync that mirrors the corp's departments,
// employees, corp tags, customers with their follow relationships, and customer groups into Koi (issue 4).
//
// Linking, self-built app mode: the admin enters the corp id, the app secret, the callback token and the
// EncodingAESKey; Koi checks them (the key's shape, and a real gettoken call), stores the three secrets sealed by
// SecretBox, and starts a full sync. One corp belongs to one team.
//
// The full sync is the durable job "wecom.full_sync". It walks five phases — departments, employees, corp tags,
// customers (follow users in chunks of 100, batch/get_by_user pages), groups — and commits every page together
// with its checkpoint ({"phase", "chunk", "cursor", …}), so a node killed mid-sync resumes from the last page on
// restart and never applies a page twice. Rows are upserts keyed by WeCom's ids, and each carries the sync run
// (job id) that last saw it; the final phase deletes what this run did not see, so the mirror ends equal to WeCom.
// WeCom failures that are worth retrying (busy, rate limits, outages) fail the job with a retryable status: the
// queue backs off and the sync resumes from its checkpoint on its own.
//
// Team scope: every query filters on team_id. Thread safety: thread-safe; state is in the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/secret_box.h"
#include "jobs/job_queue.h"
#include "jobs/job_runner.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::wecom_link {

inline constexpr const char* kFullSyncJob = "wecom.full_sync";
// The nightly reconcile: a full sync of every linked team that has not had one in the last 20 hours, which
// repairs whatever callbacks were missed (a full sync ends with exactly WeCom's rows).
inline constexpr const char* kReconcileJob = "wecom.reconcile";
// The next 03:00 in UTC+8 after `now_ms`.
int64_t NextReconcileAt(int64_t now_ms);

struct LinkInput {
  std::string corp_id, secret, callback_token, encoding_aes_key, agent_id;
};

struct SyncState {
  int64_t job_id = 0;
  std::string state;  // queued, running, succeeded, failed, cancelled
  std::string phase;  // departments, employees, tags, customers, groups, done
  int64_t progress_done = 0, progress_total = 0;
  int attempts = 0;
  std::string last_error_reason, last_error;
  // A retry waiting for its time: after an attempt failed retryably (WeCom's rate limit 45009, busy, unreachable),
  // the sync resumes by itself then.
  std::optional<int64_t> next_attempt_at_ms;
  int64_t created_at_ms = 0;
  std::optional<int64_t> finished_at_ms;
};

struct Counts {
  int64_t departments = 0, employees = 0, customers = 0, follows = 0, tags = 0, groups = 0;
};

struct LinkState {
  bool linked = false;
  std::string corp_id, corp_name, mode, agent_id;
  int64_t linked_at_ms = 0;
  std::optional<int64_t> last_synced_at_ms;
  // The corp's admin uninstalled the third-party app (cancel_auth): nothing syncs until it is installed again.
  std::optional<int64_t> auth_cancelled_at_ms;
  std::optional<SyncState> sync;
  Counts counts;
};

struct Employee {
  std::string userid, name, position, mobile;
  int gender = 0, status = 0;
  int64_t main_department = 0;
  std::string main_department_name;
  int64_t customers = 0;
};

class WecomLink {
 public:
  WecomLink(storage::Database& db, const Clock& clock, jobs::JobQueue& queue, wecom::WecomClient& client,
            const SecretBox& box)
      : db_(db), clock_(clock), queue_(queue), client_(client), box_(box) {}

  Result<LinkState> State(TeamId team);
  // Admin only. Errors: callback_bad_aes_key, invalid_argument (empty fields), wecom_invalid_corpid,
  // wecom_invalid_credential (secret), corp_linked_elsewhere (409), team_already_linked (409: another corp).
  // Linking the same corp again updates its secrets.
  Result<LinkState> LinkSelfBuilt(const accounts::Principal& who, const LinkInput& input, const accounts::Client& client);
  // Links `team` to the corp that installed Koi's third-party app (SuiteInstall::Complete, on behalf of the admin
  // `account` who started it): the permanent code is the corp's credential and the suite's token and key decrypt
  // its callbacks. Same conflicts as LinkSelfBuilt; linking the same corp again (a reinstall) replaces them.
  Result<LinkState> LinkThirdParty(TeamId team, AccountId account, const wecom::PermanentCode& code,
                                   const std::string& callback_token, const std::string& encoding_aes_key,
                                   const accounts::Client& client);
  // WeCom says `corp_id` uninstalled the third-party app at `cancelled_at_ms` (cancel_auth): marks its link
  // (audited) unless it was (re)linked after that; returns whether a third-party link was marked.
  Result<bool> MarkAuthCancelled(const std::string& corp_id, int64_t cancelled_at_ms);
  // Admin only. Starts a full sync unless one is queued or running (then returns that one).
  Result<SyncState> StartFullSync(const accounts::Principal& who);
  // Same without a principal: `koi seed-demo` and the nightly reconcile.
  Result<SyncState> StartFullSync(TeamId team);
  // The nightly reconcile: starts a full sync for each linked team not synced in the last 20 hours. Returns how
  // many it started.
  Result<int> ReconcileAll();

  Result<accounts::Paged<Employee>> ListEmployees(TeamId team, std::string_view query, int page, int page_size);

  // The job handler of kFullSync.
  Status RunFullSync(jobs::JobContext& ctx);

  // The corp credentials of a linked team (decrypted), or FailedPrecondition "wecom_not_linked".
  Result<wecom::CorpCredentials> Credentials(TeamId team);

 private:
  struct StoredLink {
    std::string corp_id, corp_name, mode, secret, callback_token, encoding_aes_key, agent_id;
  };
  // Stores a team's link (both modes) with its audit entry; refuses a team linked to another corp and a corp
  // linked to another team.
  Status Store(const accounts::Principal& who, const StoredLink& link, const accounts::Client& client);
  Result<std::optional<SyncState>> LatestSync(TeamId team);

  storage::Database& db_;
  const Clock& clock_;
  jobs::JobQueue& queue_;
  wecom::WecomClient& client_;
  const SecretBox& box_;
};

}  // namespace koi::wecom_link
