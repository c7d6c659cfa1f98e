#include "domain/wecom_link/link.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "domain/accounts/secrets.h"
#include "domain/wecom_link/mirror.h"
#include "wecom/protocol/crypto.h"

namespace koi::wecom_link {
namespace {

namespace json = boost::json;
using storage::Value;

constexpr const char* kPhases[] = {"departments", "employees", "tags", "customers", "groups", "done"};
constexpr int64_t kPhaseUnits = 1000;  // progress: each phase is worth 1000 units of 5000
constexpr int kUsersPerChunk = 100;

int PhaseIndex(const std::string& phase) {
  for (int i = 0; i < 6; ++i)
    if (phase == kPhases[i]) return i;
  return 0;
}

struct Checkpoint {
  std::string phase = "departments";
  int64_t chunk = 0;
  std::string cursor;

  static Checkpoint Parse(const std::string& text) {
    Checkpoint c;
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return c;
    const auto& o = v.as_object();
    if (auto it = o.find("phase"); it != o.end() && it->value().is_string()) c.phase = it->value().as_string();
    if (auto it = o.find("chunk"); it != o.end() && it->value().is_int64()) c.chunk = it->value().as_int64();
    if (auto it = o.find("cursor"); it != o.end() && it->value().is_string()) c.cursor = it->value().as_string();
    return c;
  }
  std::string Text() const { return json::serialize(json::object{{"phase", phase}, {"chunk", chunk}, {"cursor", cursor}}); }
};

}  // namespace

int64_t NextReconcileAt(int64_t now_ms) {
  constexpr int64_t kDay = 86'400'000, kUtc8 = 8 * 3'600'000, kThreeAm = 3 * 3'600'000;
  int64_t local = now_ms + kUtc8;
  int64_t next = local - local % kDay + kThreeAm;
  if (next <= local) next += kDay;
  return next - kUtc8;
}

Result<int> WecomLink::ReconcileAll() {
  const int64_t cutoff = clock_.NowMillis() - 20 * 3'600'000LL;
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT team_id FROM wecom_corps WHERE auth_cancelled_at IS NULL AND "
                                         "(last_synced_at IS NULL OR last_synced_at < ?) ORDER BY team_id",
                                         {cutoff}));
  int started = 0;
  for (const auto& row : r.rows) {
    auto s = StartFullSync(TeamId(row.Int(0)));
    if (s.ok()) ++started;
    else spdlog::warn("reconcile of team {} not started: {}", row.Int(0), s.status().ToString());
  }
  if (started > 0) spdlog::info("nightly reconcile: started {} full syncs", started);
  return started;
}

Result<wecom::CorpCredentials> WecomLink::Credentials(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT corp_id, secret_enc, mode FROM wecom_corps WHERE team_id = ?",
                                         {team.value()}));
  if (r.rows.empty())
    return Status::FailedPrecondition("wecom_not_linked", "the team has not linked its WeCom corp yet");
  KOI_ASSIGN_OR_RETURN(std::string secret, box_.Open(r.rows[0].Text(1)));
  return wecom::CorpCredentials{r.rows[0].Text(0), secret, r.rows[0].Text(2) == "third_party"};
}

Result<std::optional<SyncState>> WecomLink::LatestSync(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT sync_job_id FROM wecom_corps WHERE team_id = ?", {team.value()}));
  if (r.rows.empty() || r.rows[0].IsNull(0)) return std::optional<SyncState>();
  auto job = queue_.Get(team, JobId(r.rows[0].Int(0)));
  if (!job.ok()) return std::optional<SyncState>();
  SyncState s{.job_id = job->id.value(),
              .state = std::string(jobs::JobStateName(job->state)),
              .phase = Checkpoint::Parse(job->checkpoint).phase,
              .progress_done = job->progress_done,
              .progress_total = job->progress_total,
              .attempts = job->attempts,
              .last_error_reason = job->last_error_reason,
              .last_error = job->last_error,
              .created_at_ms = job->created_at_ms,
              .finished_at_ms = job->finished_at_ms};
  if (job->state == jobs::JobState::kSucceeded) s.phase = "done";
  if (job->state == jobs::JobState::kQueued && job->attempts > 0) s.next_attempt_at_ms = job->run_at_ms;
  return std::optional<SyncState>(s);
}

Result<LinkState> WecomLink::State(TeamId team) {
  LinkState out;
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT corp_id, corp_name, mode, agent_id, linked_at, last_synced_at, "
                                         "auth_cancelled_at FROM wecom_corps WHERE team_id = ?",
                                         {team.value()}));
  if (r.rows.empty()) return out;
  out.linked = true;
  out.corp_id = r.rows[0].Text(0);
  out.corp_name = r.rows[0].Text(1);
  out.mode = r.rows[0].Text(2);
  out.agent_id = r.rows[0].Text(3);
  out.linked_at_ms = r.rows[0].Int(4);
  out.last_synced_at_ms = r.rows[0].OptInt(5);
  out.auth_cancelled_at_ms = r.rows[0].OptInt(6);
  KOI_ASSIGN_OR_RETURN(out.sync, LatestSync(team));
  KOI_ASSIGN_OR_RETURN(auto c, db_.Query("SELECT (SELECT COUNT(*) FROM wecom_departments WHERE team_id = ?), "
                                         "(SELECT COUNT(*) FROM wecom_employees WHERE team_id = ?), "
                                         "(SELECT COUNT(*) FROM wecom_customers WHERE team_id = ?), "
                                         "(SELECT COUNT(*) FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL), "
                                         "(SELECT COUNT(*) FROM wecom_tags WHERE team_id = ?), "
                                         "(SELECT COUNT(*) FROM wecom_group_chats WHERE team_id = ?)",
                                         std::vector<Value>(6, team.value())));
  const auto& row = c.rows.at(0);
  out.counts = {row.Int(0), row.Int(1), row.Int(2), row.Int(3), row.Int(4), row.Int(5)};
  return out;
}

Result<LinkState> WecomLink::LinkSelfBuilt(const accounts::Principal& who, const LinkInput& in,
                                           const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  for (const auto& [name, value] : {std::pair{"corp_id", &in.corp_id}, {"secret", &in.secret},
                                    {"callback_token", &in.callback_token}})
    if (value->empty() || value->size() > 256)
      return Status::InvalidArgument("invalid_argument", std::string(name) + " is required (at most 256 characters)");
  // The EncodingAESKey must be usable before anything is stored: a bad one would reject every callback.
  KOI_RETURN_IF_ERROR(wecom::MakeCallbackKeys(in.callback_token, in.encoding_aes_key, in.corp_id).status());
  // And the secret must work: one real gettoken (and a department list, which also proves the contacts scope).
  wecom::CorpCredentials creds{in.corp_id, in.secret};
  client_.ForgetToken(creds);
  KOI_ASSIGN_OR_RETURN(auto departments, client_.ListDepartments(creds));
  std::string corp_name;
  for (const auto& d : departments)
    if (d.parent_id == 0) corp_name = d.name;
  KOI_RETURN_IF_ERROR(Store(who, {.corp_id = in.corp_id, .corp_name = corp_name, .mode = "self_built",
                                   .secret = in.secret, .callback_token = in.callback_token,
                                   .encoding_aes_key = in.encoding_aes_key, .agent_id = in.agent_id},
                             client));
  KOI_RETURN_IF_ERROR(StartFullSync(who.team).status());
  return State(who.team);
}

Result<LinkState> WecomLink::LinkThirdParty(TeamId team, AccountId account, const wecom::PermanentCode& code,
                                            const std::string& callback_token, const std::string& encoding_aes_key,
                                            const accounts::Client& client) {
  const accounts::Principal who{.team = team, .account = account, .role = accounts::Role::kAdmin};
  wecom::CorpCredentials creds{code.corp_id, code.permanent_code, true};
  client_.ForgetToken(creds);
  KOI_RETURN_IF_ERROR(Store(who, {.corp_id = code.corp_id, .corp_name = code.corp_name, .mode = "third_party",
                                  .secret = code.permanent_code, .callback_token = callback_token,
                                  .encoding_aes_key = encoding_aes_key, .agent_id = code.agent_id},
                            client));
  KOI_RETURN_IF_ERROR(StartFullSync(team).status());
  return State(team);
}

Status WecomLink::Store(const accounts::Principal& who, const StoredLink& in, const accounts::Client& client) {
  const int64_t now = clock_.NowMillis();
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto mine, tx.Query("SELECT corp_id FROM wecom_corps WHERE team_id = ?", {who.team.value()}));
    if (!mine.rows.empty() && mine.rows[0].Text(0) != in.corp_id)
      return Status::AlreadyExists("team_already_linked", "this team is already linked to another WeCom corp");
    auto r = tx.Exec("INSERT INTO wecom_corps (team_id, corp_id, corp_name, mode, secret_enc, callback_token_enc, "
                     "callback_aes_key_enc, agent_id, linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (team_id) DO UPDATE SET corp_name = excluded.corp_name, mode = excluded.mode, "
                     "secret_enc = excluded.secret_enc, callback_token_enc = excluded.callback_token_enc, "
                     "callback_aes_key_enc = excluded.callback_aes_key_enc, agent_id = excluded.agent_id, "
                     "auth_cancelled_at = NULL, linked_at = excluded.linked_at",
                     {who.team.value(), in.corp_id, in.corp_name, in.mode, box_.Seal(in.secret),
                      box_.Seal(in.callback_token), box_.Seal(in.encoding_aes_key), in.agent_id, now,
                      who.account.value()});
    if (r.code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists("corp_linked_elsewhere", "this WeCom corp is already linked to another team");
    KOI_RETURN_IF_ERROR(r);
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "wecom.linked", in.corp_id, client.ip,
                                                 "mode=" + in.mode);
  });
}

Result<bool> WecomLink::MarkAuthCancelled(const std::string& corp_id, int64_t cancelled_at_ms) {
  bool marked = false;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    // An instruction older than the current link (WeCom retrying a cancel from before a reinstall) changes nothing.
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE wecom_corps SET auth_cancelled_at = ? WHERE corp_id = ? AND mode = "
                                          "'third_party' AND auth_cancelled_at IS NULL AND linked_at <= ? RETURNING "
                                          "team_id",
                                          {clock_.NowMillis(), corp_id, cancelled_at_ms}));
    if (r.rows.empty()) return Status::Ok();
    marked = true;
    return accounts::AccountService::RecordAudit(tx, clock_, TeamId(r.rows[0].Int(0)), nullptr,
                                                 "wecom.auth_cancelled", corp_id, "wecom");
  }));
  return marked;
}

Result<SyncState> WecomLink::StartFullSync(const accounts::Principal& who) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return StartFullSync(who.team);
}

Result<SyncState> WecomLink::StartFullSync(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto current, LatestSync(team));
  if (current && (current->state == "queued" || current->state == "running")) return *current;
  KOI_ASSIGN_OR_RETURN(auto linked, db_.Query("SELECT 1 FROM wecom_corps WHERE team_id = ?", {team.value()}));
  if (linked.rows.empty())
    return Status::FailedPrecondition("wecom_not_linked", "the team has not linked its WeCom corp yet");
  // The job and the pointer to it commit together; the key makes a repeated start (a double click) one job.
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto job, queue_.EnqueueIn(tx, {.team = team,
                                                         .kind = kFullSyncJob,
                                                         .idempotency_key = "full-" + std::to_string(clock_.NowMillis()),
                                                         .max_attempts = 20,
                                                         .progress_total = 5 * kPhaseUnits}));
    return tx.Exec("UPDATE wecom_corps SET sync_job_id = ? WHERE team_id = ?", {job.id.value(), team.value()});
  }));
  KOI_ASSIGN_OR_RETURN(auto started, LatestSync(team));
  if (!started) return Status::Internal("sync_missing", "the sync job was not recorded");
  return *started;
}

Result<accounts::Paged<Employee>> WecomLink::ListEmployees(TeamId team, std::string_view query, int page,
                                                            int page_size) {
  std::string where = " WHERE e.team_id = ?";
  std::vector<Value> params{team.value()};
  if (!query.empty()) {
    const std::string like = storage::LikeContains(query);
    where += " AND (e.name LIKE ? ESCAPE '\\' OR e.userid LIKE ? ESCAPE '\\')";
    params.push_back(like);
    params.push_back(like);
  }
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM wecom_employees e" + where, params));
  params.push_back(int64_t{page_size});
  params.push_back(int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT e.userid, e.name, e.position, e.mobile, e.gender, e.status, "
                                         "e.main_department, COALESCE(d.name, ''), (SELECT COUNT(*) FROM wecom_follows "
                                         "f WHERE f.team_id = e.team_id AND f.userid = e.userid AND f.deleted_at IS "
                                         "NULL) FROM wecom_employees e "
                                         "LEFT JOIN wecom_departments d ON d.team_id = e.team_id AND d.dept_id = "
                                         "e.main_department" + where + " ORDER BY e.name, e.userid LIMIT ? OFFSET ?",
                                         params));
  accounts::Paged<Employee> out;
  out.total = count.rows[0].Int(0);
  for (const auto& row : r.rows)
    out.items.push_back({.userid = row.Text(0), .name = row.Text(1), .position = row.Text(2), .mobile = row.Text(3),
                         .gender = static_cast<int>(row.Int(4)), .status = static_cast<int>(row.Int(5)),
                         .main_department = row.Int(6), .main_department_name = row.Text(7), .customers = row.Int(8)});
  return out;
}

// ----- the full sync -------------------------------------------------------------------------------------------

Status WecomLink::RunFullSync(jobs::JobContext& ctx) {
  const TeamId team = ctx.job().team;
  const int64_t run = ctx.job().id.value();
  KOI_ASSIGN_OR_RETURN(wecom::CorpCredentials corp, Credentials(team));
  Checkpoint cp = Checkpoint::Parse(ctx.job().checkpoint);
  const Status interrupted = Status::Aborted("job_interrupted", "the full sync stops here and resumes later");
  // Commits one step's rows together with the next checkpoint.
  auto commit = [&](const std::function<Status(storage::Session&)>& rows, const Checkpoint& next, double within) {
    return db_.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(rows(tx));
      Checkpoint saved = next;
      // Progress: each of the five phases is worth kPhaseUnits; "done" is all of it.
      int64_t done = saved.phase == "done" ? 5 * kPhaseUnits
                                           : PhaseIndex(saved.phase) * kPhaseUnits +
                                                 static_cast<int64_t>(std::clamp(within, 0.0, 1.0) * (kPhaseUnits - 1));
      return ctx.CheckpointIn(tx, done, 5 * kPhaseUnits, saved.Text());
    });
  };

  if (cp.phase == "departments") {
    KOI_ASSIGN_OR_RETURN(auto departments, client_.ListDepartments(corp));
    KOI_RETURN_IF_ERROR(commit([&](storage::Session& tx) {
      return mirror::UpsertDepartments(tx, team, departments, run);
    }, {.phase = "employees"}, 0));
    cp = {.phase = "employees"};
  }

  if (cp.phase == "employees") {
    KOI_ASSIGN_OR_RETURN(auto follow_users, client_.GetFollowUsers(corp));
    std::set<std::string> contact(follow_users.begin(), follow_users.end());
    int pages = 0;
    for (;;) {
      if (ctx.ShouldStop()) return interrupted;
      KOI_ASSIGN_OR_RETURN(auto page, client_.ListUserIds(corp, cp.cursor, 100));
      std::vector<wecom::User> users;
      std::set<std::string> seen;
      for (const auto& du : page.items) {
        if (!seen.insert(du.userid).second) continue;
        KOI_ASSIGN_OR_RETURN(auto user, client_.GetUser(corp, du.userid));
        users.push_back(std::move(user));
      }
      Checkpoint next = page.next_cursor.empty() ? Checkpoint{.phase = "tags"}
                                                 : Checkpoint{.phase = "employees", .cursor = page.next_cursor};
      ++pages;
      KOI_RETURN_IF_ERROR(commit([&](storage::Session& tx) -> Status {
        for (const auto& u : users)
          KOI_RETURN_IF_ERROR(mirror::UpsertEmployee(tx, team, u, contact.count(u.userid) > 0, run));
        return Status::Ok();
      }, next, next.phase == "done" ? 1.0 : 1.0 - 1.0 / (pages + 1)));
      cp = next;
      if (cp.phase != "employees") break;
    }
  }

  if (cp.phase == "tags") {
    KOI_ASSIGN_OR_RETURN(auto groups, client_.GetCorpTags(corp));
    KOI_RETURN_IF_ERROR(commit([&](storage::Session& tx) { return mirror::UpsertTagGroups(tx, team, groups, run); },
                               {.phase = "customers"}, 0));
    cp = {.phase = "customers"};
  }

  if (cp.phase == "customers") {
    KOI_ASSIGN_OR_RETURN(auto follow_users, client_.GetFollowUsers(corp));
    std::sort(follow_users.begin(), follow_users.end());
    const int64_t chunks = (static_cast<int64_t>(follow_users.size()) + kUsersPerChunk - 1) / kUsersPerChunk;
    while (cp.phase == "customers" && cp.chunk < chunks) {
      if (ctx.ShouldStop()) return interrupted;
      std::vector<std::string> users(follow_users.begin() + cp.chunk * kUsersPerChunk,
                                     follow_users.begin() + std::min<int64_t>((cp.chunk + 1) * kUsersPerChunk,
                                                                              follow_users.size()));
      KOI_ASSIGN_OR_RETURN(auto page, client_.BatchGetByUser(corp, users, cp.cursor, 100));
      Checkpoint next = page.next_cursor.empty()
                            ? (cp.chunk + 1 < chunks ? Checkpoint{.phase = "customers", .chunk = cp.chunk + 1}
                                                     : Checkpoint{.phase = "groups"})
                            : Checkpoint{.phase = "customers", .chunk = cp.chunk, .cursor = page.next_cursor};
      double within = chunks == 0 ? 1.0 : static_cast<double>(next.phase == "groups" ? chunks : next.chunk) / chunks;
      KOI_RETURN_IF_ERROR(commit([&](storage::Session& tx) -> Status {
        for (const auto& rel : page.items)
          KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, rel.contact, rel.follow, run));
        return Status::Ok();
      }, next, within));
      cp = next;
    }
    if (cp.phase == "customers") cp = {.phase = "groups"};  // no follow users at all
  }

  if (cp.phase == "groups") {
    // All groups at once; a large corp (WeCom answers 81017 "too much data") by owner, 100 employees a call:
    // chunk 0 is the unfiltered listing, chunk k the k-th hundred of the employees Koi knows — this run's and
    // those who left: a resigned owner's groups stay his in WeCom until they are handed over (离职继承).
    std::vector<std::string> owners;
    KOI_ASSIGN_OR_RETURN(auto employees, db_.Query("SELECT userid FROM wecom_employees WHERE team_id = ? ORDER BY userid",
                                                   {team.value()}));
    for (const auto& r : employees.rows) owners.push_back(r.Text(0));
    const int64_t owner_chunks = (static_cast<int64_t>(owners.size()) + kUsersPerChunk - 1) / kUsersPerChunk;
    int pages = 0;
    for (;;) {
      if (ctx.ShouldStop()) return interrupted;
      std::vector<std::string> filter;
      if (cp.chunk > 0)
        filter.assign(owners.begin() + std::min<int64_t>((cp.chunk - 1) * kUsersPerChunk, owners.size()),
                      owners.begin() + std::min<int64_t>(cp.chunk * kUsersPerChunk, owners.size()));
      auto listed = cp.chunk > 0 && filter.empty() ? Result<wecom::Page<wecom::GroupChat>>(wecom::Page<wecom::GroupChat>{})
                                                    : client_.ListGroupChats(corp, cp.cursor, 100, filter);
      if (!listed.ok() && listed.status().reason() == "wecom_too_much_data" && cp.chunk == 0 && owner_chunks > 0) {
        spdlog::info("team {}: WeCom wants an owner filter for its groups; listing them by owner", team.value());
        cp = Checkpoint{.phase = "groups", .chunk = 1};
        continue;
      }
      KOI_ASSIGN_OR_RETURN(auto page, std::move(listed));
      std::vector<wecom::GroupChat> chats;
      for (const auto& c : page.items) {
        KOI_ASSIGN_OR_RETURN(auto chat, client_.GetGroupChat(corp, c.chat_id));
        chat.status = c.status;
        chats.push_back(std::move(chat));
      }
      ++pages;
      Checkpoint next = !page.next_cursor.empty()
                            ? Checkpoint{.phase = "groups", .chunk = cp.chunk, .cursor = page.next_cursor}
                        : cp.chunk > 0 && cp.chunk < owner_chunks ? Checkpoint{.phase = "groups", .chunk = cp.chunk + 1}
                                                                  : Checkpoint{.phase = "done"};
      KOI_RETURN_IF_ERROR(commit([&](storage::Session& tx) -> Status {
        for (const auto& chat : chats) KOI_RETURN_IF_ERROR(mirror::ReplaceGroupChat(tx, team, chat, run));
        return Status::Ok();
      }, next, next.phase == "done" ? 1.0 : 1.0 - 1.0 / (pages + 1)));
      cp = next;
      if (cp.phase != "groups") break;
    }
  }

  // Done: drop what WeCom no longer has (rows this run did not see), in one transaction with the last checkpoint.
  // Employees who left are kept as resigned (status 5) and their relationships stay until they are transferred;
  // other relationships the run did not see are marked lost, not deleted, so churn history survives.
  return commit([&](storage::Session& tx) -> Status {
    const std::vector<Value> p{team.value(), run};
    const int64_t now = clock_.NowMillis();
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_employees SET status = 5 WHERE team_id = ? AND sync_run <> ?", p));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET deleted_at = ?, deleted_by = 'sync', lost_recorded_at = ? "
                                "WHERE team_id = ? AND sync_run <> ? AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 "
                                "FROM wecom_employees e WHERE e.team_id = wecom_follows.team_id AND e.userid = "
                                "wecom_follows.userid AND e.status = 5)",
                                {now, now, team.value(), run}));
    KOI_RETURN_IF_ERROR(mirror::RefreshSummariesLostAt(tx, team, now));
    KOI_RETURN_IF_ERROR(mirror::KeepTagsOfSyncLosses(tx, team, now));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND NOT EXISTS (SELECT 1 FROM "
                                "wecom_follows f WHERE f.team_id = wecom_follow_tags.team_id AND f.userid = "
                                "wecom_follow_tags.userid AND f.external_userid = wecom_follow_tags.external_userid AND "
                                "f.deleted_at IS NULL)",
                                {team.value()}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_group_members WHERE team_id = ? AND NOT EXISTS (SELECT 1 FROM "
                                "wecom_group_chats g WHERE g.team_id = wecom_group_members.team_id AND g.chat_id = "
                                "wecom_group_members.chat_id AND g.sync_run = ?)",
                                p));
    // A customer stays while any relationship row (active or lost) refers to them.
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_customers WHERE team_id = ? AND sync_run <> ? AND NOT EXISTS (SELECT "
                                "1 FROM wecom_follows f WHERE f.team_id = wecom_customers.team_id AND "
                                "f.external_userid = wecom_customers.external_userid)",
                                p));
    for (const char* table : {"wecom_departments", "wecom_tags", "wecom_tag_groups", "wecom_group_chats"})
      KOI_RETURN_IF_ERROR(tx.Exec(std::string("DELETE FROM ") + table + " WHERE team_id = ? AND sync_run <> ?", p));
    return tx.Exec("UPDATE wecom_corps SET last_synced_at = ? WHERE team_id = ?", {now, team.value()});
  }, {.phase = "done"}, 1.0);
}

}  // namespace koi::wecom_link
