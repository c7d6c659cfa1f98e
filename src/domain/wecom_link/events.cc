#include "domain/wecom_link/events.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "domain/wecom_link/mirror.h"

namespace koi::wecom_link {
namespace {

using storage::Value;

constexpr int kBatch = 200;
// Events written in one transaction: a commit per event made the applier hold SQLite's write lock about as often as
// callbacks arrived, and the inbox waited for it; a few hundred rows keep a transaction to milliseconds.
constexpr size_t kEventsPerTransaction = 100;

// WeCom no longer has the object the event names: the event is applied as "gone".
bool Gone(const Status& s) {
  const std::string& r = s.reason();
  return r == "wecom_invalid_external_userid" || r == "wecom_no_relationship" || r == "wecom_userid_not_found" ||
         r == "wecom_invalid_chat_id";
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kAborted ||
         s.code() == StatusCode::kResourceExhausted;
}

}  // namespace

Status EventApplier::Finish(storage::Session& tx, int64_t event_id, const std::string& state,
                            const std::string& error) {
  KOI_ASSIGN_OR_RETURN(auto dequeued, tx.Query("DELETE FROM wecom_event_queue WHERE id = ? RETURNING id", {event_id}));
  if (dequeued.rows.empty() || state != "failed") return Status::Ok();  // applied: the row stays as it came
  return tx.Exec("UPDATE wecom_events SET state = 'failed', attempts = attempts + 1, applied_at = ?, error = ? WHERE "
                 "id = ?",
                 {clock_.NowMillis(), error.substr(0, 500), event_id});
}

Result<ApplyStats> EventApplier::ApplyPending(jobs::JobContext* ctx) {
  ApplyStats stats;
  int64_t after = 0;
  std::set<int64_t> deferred_teams;  // a retryable failure keeps the rest of that team's events in order
  for (;;) {
    if (ctx && ctx->ShouldStop()) break;
    std::map<int64_t, Result<TeamContext>> teams;  // read again per batch: a sync may have started meanwhile
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT q.id, q.team_id, e.payload FROM wecom_event_queue q JOIN "
                                           "wecom_events e ON e.id = q.id WHERE q.id > ? ORDER BY q.id LIMIT ?",
                                           {after, int64_t{kBatch}}));
    if (r.rows.empty()) break;
    std::vector<Ready> ready;
    for (const auto& row : r.rows) {
      const int64_t id = row.Int(0);
      const TeamId team(row.Int(1));
      after = id;
      if (deferred_teams.count(team.value())) {
        ++stats.deferred;
        continue;
      }
      auto context = teams.find(team.value());
      if (context == teams.end()) context = teams.emplace(team.value(), LoadTeam(team)).first;
      auto message = wecom::ParseXmlMessage(row.Text(2));
      Result<Prepared> prepared = !context->second.ok() ? Result<Prepared>(context->second.status())
                                  : message.ok()        ? Prepare(team, *context->second, *message)
                                                        : Result<Prepared>(message.status());
      if (prepared.ok()) {
        ready.push_back({id, team, "done", std::move(*prepared)});
      } else if (Retryable(prepared.status())) {
        spdlog::warn("wecom event {} of team {} deferred: {}", id, team.value(), prepared.status().ToString());
        deferred_teams.insert(team.value());
        ++stats.deferred;
      } else {
        spdlog::warn("wecom event {} of team {} failed: {}", id, team.value(), prepared.status().ToString());
        ready.push_back({id, team, "failed", {nullptr, prepared.status().ToString()}});
      }
      if (ready.size() >= kEventsPerTransaction) {
        KOI_RETURN_IF_ERROR(Commit(ready, deferred_teams, stats));
        ready.clear();
      }
    }
    KOI_RETURN_IF_ERROR(Commit(ready, deferred_teams, stats));
  }
  if (stats.applied + stats.failed > 0)
    spdlog::info("wecom events: {} applied, {} failed, {} deferred", stats.applied, stats.failed, stats.deferred);
  return stats;
}

Status EventApplier::Commit(const std::vector<Ready>& ready, std::set<int64_t>& deferred_teams, ApplyStats& stats) {
  if (ready.empty()) return Status::Ok();
  auto write = [this](storage::Session& tx, const Ready& e) -> Status {
    if (e.prepared.rows) KOI_RETURN_IF_ERROR(e.prepared.rows(tx));
    return Finish(tx, e.id, e.state, e.prepared.note);
  };
  auto count = [&stats](const Ready& e) { ++(e.state == "done" ? stats.applied : stats.failed); };
  Status together = db_.Transact([&](storage::Session& tx) -> Status {
    for (const auto& e : ready) KOI_RETURN_IF_ERROR(write(tx, e));
    return Status::Ok();
  });
  if (together.ok()) {
    for (const auto& e : ready) count(e);
    return Status::Ok();
  }
  // One of them could not be written: write them one by one, so only that one fails (or waits, with the rest of its
  // team's events, when the failure is worth retrying).
  spdlog::warn("{} wecom events could not be written together ({}); writing them one by one", ready.size(),
               together.ToString());
  for (const auto& e : ready) {
    if (deferred_teams.count(e.team.value())) {
      ++stats.deferred;
      continue;
    }
    Status s = db_.Transact([&](storage::Session& tx) { return write(tx, e); });
    if (s.ok()) {
      count(e);
    } else if (Retryable(s)) {
      spdlog::warn("wecom event {} of team {} deferred: {}", e.id, e.team.value(), s.ToString());
      deferred_teams.insert(e.team.value());
      ++stats.deferred;
    } else {
      spdlog::warn("wecom event {} of team {} failed: {}", e.id, e.team.value(), s.ToString());
      KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) { return Finish(tx, e.id, "failed", s.ToString()); }));
      ++stats.failed;
    }
  }
  return Status::Ok();
}

Result<EventApplier::TeamContext> EventApplier::LoadTeam(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto linked, db_.Query("SELECT COALESCE(sync_job_id, 0) FROM wecom_corps WHERE team_id = ?",
                                              {team.value()}));
  if (linked.rows.empty()) return Status::FailedPrecondition("wecom_not_linked", "the team is no longer linked");
  KOI_ASSIGN_OR_RETURN(wecom::CorpCredentials corp, link_.Credentials(team));
  return TeamContext{std::move(corp), linked.rows[0].Int(0)};
}

Result<EventApplier::Prepared> EventApplier::Prepare(TeamId team, const TeamContext& context,
                                                     const wecom::XmlMessage& m) {
  std::string event = m.Get("Event");
  if (event.empty()) event = m.Get("InfoType");
  const std::string change = m.Get("ChangeType");
  const int64_t run = context.run;
  const wecom::CorpCredentials& corp = context.corp;
  const int64_t created = std::atoll(m.Get("CreateTime").c_str());
  const int64_t at_ms = created > 0 ? created * 1000 : clock_.NowMillis();
  // The rows run later, in a transaction with other events' rows: they own what they write.
  auto done = [](std::function<Status(storage::Session&)> rows, std::string note = "") {
    return Prepared{std::move(rows), std::move(note)};
  };
  const std::function<Status(storage::Session&)> nothing = nullptr;

  if (event == "change_external_contact") {
    const std::string userid = m.Get("UserID"), ext = m.Get("ExternalUserID");
    if (change == "add_external_contact" || change == "edit_external_contact" || change == "add_half_external_contact") {
      auto detail = client_.GetExternalContact(corp, ext);
      if (!detail.ok() && Gone(detail.status())) return done(nothing, "gone: " + detail.status().reason());
      if (!detail.ok()) return detail.status();
      return done([team, run, d = std::move(*detail)](storage::Session& tx) -> Status {
        for (const auto& f : d.follows) KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, d.contact, f, run));
        return Status::Ok();
      });
    }
    if (change == "del_external_contact" || change == "del_follow_user") {
      // Checked against WeCom too: if the two were connected again since (a retried delete arriving after the new
      // add), the relationship stays.
      auto detail = client_.GetExternalContact(corp, ext);
      if (!detail.ok() && !Gone(detail.status())) return detail.status();
      std::optional<wecom::ContactDetail> still;
      if (detail.ok()) still = std::move(*detail);
      std::string by = change == "del_follow_user"                 ? "customer"
                       : m.Get("Source") == "DELETE_BY_TRANSFER" ? "transfer"
                                                                 : "employee";
      return done([team, run, userid, ext, by = std::move(by), at_ms, now = clock_.NowMillis(),
                   still = std::move(still)](storage::Session& tx) -> Status {
        if (still)
          for (const auto& f : still->follows)
            if (f.userid == userid) return mirror::UpsertRelation(tx, team, still->contact, f, run);
        return mirror::MarkRelationLost(tx, team, userid, ext, by, at_ms, now);
      });
    }
    return done(nothing, "recorded");  // transfer_fail, msg_audit_approved
  }

  if (event == "change_external_chat") {
    const std::string chat_id = m.Get("ChatId");
    auto remove = [team, chat_id](storage::Session& tx) { return mirror::DeleteGroupChat(tx, team, chat_id); };
    if (change == "dismiss") return done(remove);
    auto chat = client_.GetGroupChat(corp, chat_id);
    if (!chat.ok() && Gone(chat.status())) return done(remove, "gone: " + chat.status().reason());
    if (!chat.ok()) return chat.status();
    return done([team, run, c = std::move(*chat)](storage::Session& tx) {
      return mirror::ReplaceGroupChat(tx, team, c, run);
    });
  }

  if (event == "change_external_tag") {
    KOI_ASSIGN_OR_RETURN(auto groups, client_.GetCorpTags(corp));
    return done([team, run, g = std::move(groups)](storage::Session& tx) {
      return mirror::ReplaceTagLibrary(tx, team, g, run);
    });
  }

  if (event == "change_contact") {
    const std::string userid = m.Get("UserID");
    auto resigned = [team, userid](storage::Session& tx) {
      return tx.Exec("UPDATE wecom_employees SET status = 5 WHERE team_id = ? AND userid = ?", {team.value(), userid});
    };
    if (change == "create_user" || change == "update_user") {
      auto user = client_.GetUser(corp, userid);
      if (!user.ok() && Gone(user.status())) return done(resigned, "gone: " + user.status().reason());
      if (!user.ok()) return user.status();
      KOI_ASSIGN_OR_RETURN(auto follow_users, client_.GetFollowUsers(corp));
      bool contact = std::find(follow_users.begin(), follow_users.end(), userid) != follow_users.end();
      return done([team, run, contact, u = std::move(*user)](storage::Session& tx) {
        return mirror::UpsertEmployee(tx, team, u, contact, run);
      });
    }
    if (change == "delete_user") return done(resigned);
    if (change == "create_party" || change == "update_party" || change == "delete_party") {
      KOI_ASSIGN_OR_RETURN(auto departments, client_.ListDepartments(corp));
      return done([team, run, departments = std::move(departments)](storage::Session& tx) -> Status {
        KOI_RETURN_IF_ERROR(mirror::UpsertDepartments(tx, team, departments, run));
        std::set<int64_t> ids;
        for (const auto& d : departments) ids.insert(d.id);
        KOI_ASSIGN_OR_RETURN(auto have, tx.Query("SELECT dept_id FROM wecom_departments WHERE team_id = ?", {team.value()}));
        for (const auto& d : have.rows)
          if (!ids.count(d.Int(0)))
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_departments WHERE team_id = ? AND dept_id = ?",
                                        {team.value(), d.Int(0)}));
        return Status::Ok();
      });
    }
    return done(nothing, "ignored");
  }
  return done(nothing, "ignored");
}

Result<int64_t> EventApplier::PurgeApplied() {
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM wecom_events WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM "
                                         "wecom_event_queue q WHERE q.id = wecom_events.id)",
                                         {now - 30 * 86'400'000LL}));
  // A retry's nonce matters for as long as its timestamp is accepted (five minutes); a day is plenty.
  KOI_RETURN_IF_ERROR(db_.Exec("DELETE FROM wecom_event_nonces WHERE received_at < ?", {now - 86'400'000LL}));
  return r.affected_rows;
}

Result<EventCounts> EventApplier::Counts(TeamId team) {
  // One statement, so the queue's count and the states' are of the same moment (a queued event is 'received').
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT state, COUNT(*), MAX(received_at), (SELECT COUNT(*) FROM "
                                         "wecom_event_queue WHERE team_id = ?) FROM wecom_events WHERE team_id = ? "
                                         "GROUP BY state",
                                         {team.value(), team.value()}));
  EventCounts out;
  if (!r.rows.empty()) out.pending = r.rows[0].Int(3);
  for (const auto& row : r.rows) {
    const std::string state = row.Text(0);
    if (state == "received" || state == "done" || state == "pending") out.done += row.Int(1);  // less the queued
    else if (state == "failed") out.failed = row.Int(1);
    auto last = row.OptInt(2);
    if (last && (!out.last_received_at_ms || *last > *out.last_received_at_ms)) out.last_received_at_ms = last;
  }
  out.done = std::max<int64_t>(0, out.done - out.pending);
  return out;
}

}  // namespace koi::wecom_link
