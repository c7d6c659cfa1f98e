// EventApplier: applies the callbacks CallbackInbox stored (queued in wecom_event_queue) to the mirror, in the
// order they arrived per team. It runs as the repeating system job "wecom.apply_events" (every second, and woken
// at once when a callback is stored).
//
// WeCom's events carry ids, not data, so most are applied by asking WeCom for the object's current state and
// writing that through mirror.h — the same rows a full sync writes. Applying an event twice therefore gives the
// same result, and a late event cannot roll the mirror back to old data. Each event's rows are written and it is
// taken off the queue in one transaction (with up to 100 events after it: what WeCom answered is gathered first, outside
// any transaction), so a crash in between applies it again, harmlessly.
//
//   change_external_contact  add/edit/add_half → externalcontact/get; del_external_contact → relationship lost
//                            (by the employee, or by a transfer); del_follow_user → lost (by the customer) — both
//                            unless externalcontact/get shows the two connected again since;
//                            transfer_fail, msg_audit_approved → recorded only.
//   change_external_chat     create/update → groupchat/get; dismiss → the group is removed.
//   change_external_tag      any change (create/update/delete/shuffle) → the corp tag library is read again.
//   change_contact           create/update_user → user/get; delete_user → resigned (status 5);
//                            create/update/delete_party → department/list.
//   anything else            stored and taken off the queue (ignored).
//
// Failures: WeCom errors that are worth retrying (busy, rate limits, outages) leave the team's remaining events
// pending for the next run, keeping their order; an object WeCom no longer has (40096, 84061, 60111, 40050) is
// applied as gone; any other error marks that event "failed" with the error (its row's state; an applied event's
// row stays as it was received), and the nightly full sync repairs the mirror.
// Thread safety: thread-safe; the job queue runs one apply at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/wecom_link/link.h"
#include "jobs/job_runner.h"
#include "storage/database.h"
#include "wecom/client/client.h"
#include "wecom/protocol/xml.h"

namespace koi::wecom_link {

inline constexpr const char* kApplyEventsJob = "wecom.apply_events";

struct ApplyStats {
  int64_t applied = 0, failed = 0, deferred = 0;
};

struct EventCounts {
  int64_t pending = 0, done = 0, failed = 0;
  std::optional<int64_t> last_received_at_ms;
};

class EventApplier {
 public:
  EventApplier(storage::Database& db, const Clock& clock, wecom::WecomClient& client, WecomLink& link)
      : db_(db), clock_(clock), client_(client), link_(link) {}

  // Applies pending events until none are left (or `ctx` says stop). ctx may be null (tests).
  Result<ApplyStats> ApplyPending(jobs::JobContext* ctx);
  Status RunJob(jobs::JobContext& ctx) { return ApplyPending(&ctx).status(); }

  Result<EventCounts> Counts(TeamId team);
  // Deletes applied and failed events received more than 30 days ago, and retries' nonces older than a day (the
  // nightly reconcile calls it).
  Result<int64_t> PurgeApplied();

 private:
  // What applying a team's events needs, read once per team per pass.
  struct TeamContext {
    wecom::CorpCredentials corp;
    int64_t run = 0;  // the corp's latest sync job: rows written count as seen by it
  };
  Result<TeamContext> LoadTeam(TeamId team);
  // What applying one event writes, read from WeCom first; `rows` owns its data (null: nothing to write).
  struct Prepared {
    std::function<Status(storage::Session&)> rows;
    std::string note;
  };
  Result<Prepared> Prepare(TeamId team, const TeamContext& context, const wecom::XmlMessage& message);
  struct Ready {
    int64_t id = 0;
    TeamId team;
    std::string state;  // "done" or "failed"
    Prepared prepared;
  };
  // Writes the events and their states in one transaction; if that fails, one by one.
  Status Commit(const std::vector<Ready>& ready, std::set<int64_t>& deferred_teams, ApplyStats& stats);
  Status Finish(storage::Session& tx, int64_t event_id, const std::string& state, const std::string& error);

  storage::Database& db_;
  const Clock& clock_;
  wecom::WecomClient& client_;
  WecomLink& link_;
};

}  // namespace koi::wecom_link
