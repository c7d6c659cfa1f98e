#include "domain/customers/tags.h"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "core/pinyin.h"
#include "core/utf8.h"
#include "domain/wecom_link/mirror.h"
#include "rules/rule_pack.h"

namespace koi::customers {
namespace {

using storage::Value;
namespace json = boost::json;

// A tag or group name: trimmed, 1 to the rule pack's maximum characters.
Result<std::string> TagName(std::string_view raw) {
  const int64_t max = rules::DefaultRulePack().api.tag_name_max_chars;
  std::string name = TrimSpace(raw);
  if (name.empty()) return Status::InvalidArgument("tag_name_empty", "a tag needs a name");
  if (!IsValidUtf8(name) || static_cast<int64_t>(CodePointCount(name)) > max)
    return Status::InvalidArgument("tag_name_too_long", "a tag name has at most " + std::to_string(max) + " characters");
  return name;
}

// The names of `ids` among the team's corp tags, in the order given; NotFound tag_not_found for an unknown id.
Result<std::vector<std::string>> CorpTagNames(storage::Database& db, TeamId team, const std::vector<std::string>& ids) {
  std::vector<std::string> names;
  if (ids.empty()) return names;
  std::vector<Value> params{team.value()};
  std::string in = storage::InList(params, ids);
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("SELECT tag_id, name FROM wecom_tags WHERE team_id = ? AND tag_id IN (" + in +
                                        ")", params));
  for (const auto& id : ids) {
    auto it = std::find_if(r.rows.begin(), r.rows.end(), [&id](const storage::Row& row) { return row.Text(0) == id; });
    if (it == r.rows.end()) return Status::NotFound("tag_not_found", "no such enterprise tag: " + id);
    names.push_back(it->Text(1));
  }
  return names;
}

// Tags to add and to remove: each at most once, none in both.
Status CheckTagChange(const std::vector<std::string>& add, const std::vector<std::string>& remove) {
  if (add.empty() && remove.empty()) return Status::InvalidArgument("invalid_argument", "add or remove some tags");
  if (add.size() + remove.size() > kMaxTagsPerCall)
    return Status::InvalidArgument("too_many_tags", "at most 100 tags at a time");
  std::set<std::string> seen;
  for (const auto& t : add)
    if (!seen.insert(t).second) return Status::InvalidArgument("invalid_argument", "tag " + t + " is given twice");
  for (const auto& t : remove)
    if (!seen.insert(t).second)
      return Status::InvalidArgument("invalid_argument", "tag " + t + " is both added and removed, or given twice");
  return Status::Ok();
}

// The profile's active relationship with employee `userid`, or NotFound relationship_not_found.
Result<const Follow*> ActiveRelationship(const Profile& profile, std::string_view userid) {
  for (const auto& f : profile.customer.follows)
    if (f.userid == userid && f.active) return &f;
  return Status::NotFound("relationship_not_found", "this employee does not (or no longer) follow the customer");
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "、") + n;
  return out;
}

json::array JsonStrings(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& x : v) out.push_back(json::string(x));
  return out;
}

std::vector<std::string> StringsOf(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (v && v->is_array())
    for (const auto& x : v->as_array())
      if (x.is_string()) out.emplace_back(x.as_string());
  return out;
}

// Writes what one relationship's tagging changed: the mirror's tags and the customer's timeline.
Status RecordMarked(storage::Session& tx, TeamId team, const std::string& userid, const std::string& ext,
                    const std::vector<std::string>& add, const std::vector<std::string>& remove,
                    const std::string& added_names, const std::string& removed_names, const std::string& actor,
                    int64_t now) {
  // Only onto a relationship still active (one lost meanwhile keeps no tags: the list's tag filter relies on it).
  for (const auto& t : add)
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_follow_tags (team_id, userid, external_userid, tag_id) SELECT ?, ?, "
                                "?, ? WHERE EXISTS (SELECT 1 FROM wecom_follows f WHERE f.team_id = ? AND f.userid = ? "
                                "AND f.external_userid = ? AND f.deleted_at IS NULL) ON CONFLICT DO NOTHING",
                                {team.value(), userid, ext, t, team.value(), userid, ext}));
  for (const auto& t : remove)
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND userid = ? AND external_userid = ? "
                                "AND tag_id = ?", {team.value(), userid, ext, t}));
  for (const auto& [kind, names] : {std::pair{"tagged", &added_names}, std::pair{"untagged", &removed_names}}) {
    if (names->empty()) continue;
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_events (team_id, external_userid, at, kind, userid, actor_name, "
                                "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                {team.value(), ext, now, std::string(kind), userid, actor, *names}));
  }
  return Status::Ok();
}

}  // namespace

Status TagService::RefreshLibrary(TeamId team, const wecom::CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto groups, client_.GetCorpTags(corp));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto run, tx.Query("SELECT COALESCE(sync_job_id, 0) FROM wecom_corps WHERE team_id = ?",
                                            {team.value()}));
    if (run.rows.empty()) return Status::FailedPrecondition("wecom_not_linked", "the team is not linked to WeCom");
    return wecom_link::mirror::ReplaceTagLibrary(tx, team, groups, run.rows[0].Int(0));
  });
}

// ----- enterprise tags -----------------------------------------------------------------------------------------

Result<TagGroup> TagService::CreateCorpTags(const accounts::Principal& who, std::string_view group_id,
                                            std::string_view group_name, const std::vector<std::string>& raw_names,
                                            const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  const TeamId team = who.team;
  if (raw_names.empty()) return Status::InvalidArgument("tag_name_empty", "give at least one tag name");
  if (raw_names.size() > kMaxTagsPerCall)
    return Status::InvalidArgument("too_many_tags", "at most 100 tags at a time");
  std::vector<std::string> names;
  for (const auto& raw : raw_names) {
    KOI_ASSIGN_OR_RETURN(std::string name, TagName(raw));
    if (std::find(names.begin(), names.end(), name) != names.end())
      return Status::InvalidArgument("tag_name_duplicate", "the tag \"" + name + "\" is given twice");
    names.push_back(std::move(name));
  }
  std::string group_label;
  if (!group_id.empty()) {
    KOI_ASSIGN_OR_RETURN(auto g, db_.Query("SELECT name FROM wecom_tag_groups WHERE team_id = ? AND group_id = ?",
                                           {team.value(), std::string(group_id)}));
    if (g.rows.empty()) return Status::NotFound("tag_group_not_found", "no such tag group");
    group_label = g.rows[0].Text(0);
  } else {
    KOI_ASSIGN_OR_RETURN(group_label, TagName(group_name));
  }
  // New names only count against the corp's limit (WeCom reuses an existing name in the group).
  std::vector<Value> params{team.value(), std::string(group_id), group_label};
  std::string in = storage::InList(params, names);
  KOI_ASSIGN_OR_RETURN(auto existing, db_.Query("SELECT COUNT(*) FROM wecom_tags t, wecom_tag_groups g WHERE t.team_id "
                                                "= ? AND g.team_id = t.team_id AND g.group_id = t.group_id AND "
                                                "(g.group_id = ? OR g.name = ?) AND t.name IN (" + in + ")",
                                                params));
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM wecom_tags WHERE team_id = ?", {team.value()}));
  const int64_t max = rules::DefaultRulePack().api.corp_tags_max;
  const int64_t fresh = static_cast<int64_t>(names.size()) - existing.rows[0].Int(0);
  if (count.rows[0].Int(0) + fresh > max)
    return Status::FailedPrecondition("corp_tag_limit", "the corp has " + std::to_string(count.rows[0].Int(0)) +
                                                            " enterprise tags; WeCom allows at most " +
                                                            std::to_string(max));

  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_ASSIGN_OR_RETURN(auto made, client_.AddCorpTags(corp, std::string(group_id), group_label, names));
  KOI_RETURN_IF_ERROR(RefreshLibrary(team, corp));
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) {
    return accounts::AccountService::RecordAudit(tx, clock_, team, &who, "tag.created", made.group_id, client.ip,
                                                 made.name + ": " + JoinNames(names));
  }));
  TagGroup out{.group_id = made.group_id, .name = made.name, .tags = {}};
  for (const auto& t : made.tags) out.tags.push_back({.tag_id = t.id, .name = t.name, .group_name = made.name});
  return out;
}

Status TagService::RenameCorpTag(const accounts::Principal& who, std::string_view id, std::string_view raw_name,
                                 const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, TagName(raw_name));
  const TeamId team = who.team;
  KOI_ASSIGN_OR_RETURN(auto known, db_.Query("SELECT name FROM wecom_tags WHERE team_id = ? AND tag_id = ? UNION ALL "
                                             "SELECT name FROM wecom_tag_groups WHERE team_id = ? AND group_id = ?",
                                             {team.value(), std::string(id), team.value(), std::string(id)}));
  if (known.rows.empty()) return Status::NotFound("tag_not_found", "no such enterprise tag or tag group");
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_RETURN_IF_ERROR(client_.EditCorpTag(corp, std::string(id), name));
  KOI_RETURN_IF_ERROR(RefreshLibrary(team, corp));
  return db_.Transact([&](storage::Session& tx) {
    return accounts::AccountService::RecordAudit(tx, clock_, team, &who, "tag.renamed", id, client.ip,
                                                 known.rows[0].Text(0) + " → " + name);
  });
}

Status TagService::DeleteCorpTags(const accounts::Principal& who, const std::vector<std::string>& tag_ids,
                                  const std::vector<std::string>& group_ids, const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  if (tag_ids.empty() && group_ids.empty())
    return Status::InvalidArgument("invalid_argument", "name the tags or groups to delete");
  if (tag_ids.size() + group_ids.size() > kMaxTagsPerCall)
    return Status::InvalidArgument("too_many_tags", "at most 100 tags at a time");
  const TeamId team = who.team;
  KOI_ASSIGN_OR_RETURN(auto names, CorpTagNames(db_, team, tag_ids));
  for (const auto& g : group_ids) {
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT name FROM wecom_tag_groups WHERE team_id = ? AND group_id = ?",
                                           {team.value(), g}));
    if (r.rows.empty()) return Status::NotFound("tag_group_not_found", "no such tag group");
    names.push_back(r.rows[0].Text(0));
  }
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  Status s = client_.DeleteCorpTags(corp, tag_ids, group_ids);
  // Already gone in WeCom (deleted there meanwhile) is what was asked for.
  if (!s.ok() && s.reason() != "wecom_invalid_tag_id") return s;
  KOI_RETURN_IF_ERROR(RefreshLibrary(team, corp));
  return db_.Transact([&](storage::Session& tx) {
    return accounts::AccountService::RecordAudit(tx, clock_, team, &who, "tag.deleted", "", client.ip,
                                                 JoinNames(names));
  });
}

Result<std::vector<TagRef>> TagService::MarkCorpTags(const accounts::Principal& who, std::string_view external_userid,
                                                     std::string_view userid, const std::vector<std::string>& add,
                                                     const std::vector<std::string>& remove) {
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  return MarkCorpTags(who.team, scope, who.name, external_userid, userid, add, remove);
}

Result<std::vector<TagRef>> TagService::MarkCorpTags(TeamId team, const Scope& scope, const std::string& actor,
                                                     std::string_view external_userid, std::string_view userid,
                                                     const std::vector<std::string>& add,
                                                     const std::vector<std::string>& remove) {
  KOI_RETURN_IF_ERROR(CheckTagChange(add, remove));
  KOI_ASSIGN_OR_RETURN(Profile profile, customers_.Get(team, scope, external_userid));  // visible to the caller?
  KOI_RETURN_IF_ERROR(ActiveRelationship(profile, userid).status());
  KOI_ASSIGN_OR_RETURN(auto added, CorpTagNames(db_, team, add));
  KOI_ASSIGN_OR_RETURN(auto removed, CorpTagNames(db_, team, remove));

  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_RETURN_IF_ERROR(client_.MarkTags(corp, std::string(userid), std::string(external_userid), add, remove));
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) {
    return RecordMarked(tx, team, std::string(userid), std::string(external_userid), add, remove, JoinNames(added),
                        JoinNames(removed), actor, now);
  }));
  KOI_ASSIGN_OR_RETURN(Profile after, customers_.Get(team, scope, external_userid));
  for (const auto& f : after.customer.follows)
    if (f.userid == userid) return f.tags;
  return std::vector<TagRef>{};
}

// ----- bulk tagging --------------------------------------------------------------------------------------------


Result<BulkTagState> TagService::StartBulkTag(const accounts::Principal& who, const BulkTagRequest& req) {
  KOI_RETURN_IF_ERROR(CheckTagChange(req.add, req.remove));
  if (req.external_userids.size() > kMaxBulkSelection)
    return Status::InvalidArgument("bulk_too_many_targets",
                                   "select at most 1,000 customers by hand, or tag everyone matching the filter");
  const TeamId team = who.team;
  KOI_ASSIGN_OR_RETURN(auto added, CorpTagNames(db_, team, req.add));
  KOI_ASSIGN_OR_RETURN(auto removed, CorpTagNames(db_, team, req.remove));
  KOI_RETURN_IF_ERROR(link_.Credentials(team).status());
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  const Status empty = Status::InvalidArgument("bulk_target_empty", "no active relationship matches: nothing to tag");

  std::string from, where;
  std::vector<Value> params;
  if (req.target) {
    from = req.target->from;
    where = req.target->where;
    params = req.target->params;
  } else if (!req.external_userids.empty()) {
    if (!scope.all && scope.userids.empty()) return empty;
    params.emplace_back(Value(team.value()));
    from = " FROM wecom_follows f";
    where = " WHERE f.team_id = ? AND f.deleted_at IS NULL AND f.external_userid IN (" +
            storage::InList(params, req.external_userids) + ")";
    if (!scope.all) where += " AND f.userid IN (" + storage::InList(params, scope.userids) + ")";
  } else {
    CustomerFilter f = req.filter;
    f.mode = ListMode::kRelationship;
    if (!f.status.empty() && f.status != "active") return empty;  // lost relationships cannot be tagged
    f.status = "active";
    KOI_ASSIGN_OR_RETURN(auto q, customers_.BuildQuery(team, scope, f));
    if (!q) return empty;
    from = q->from;
    where = q->where;
    params = q->params;
  }
  const std::string payload = json::serialize(json::object{
      {"account_id", who.account.value()}, {"actor_name", who.name}, {"add", JsonStrings(req.add)},
      {"remove", JsonStrings(req.remove)}, {"add_names", JoinNames(added)}, {"remove_names", JoinNames(removed)}});
  int64_t job_id = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*)" + from + where, params));
    const int64_t total = count.rows.at(0).Int(0);
    if (total == 0) return empty;
    if (total > kMaxBulkTargets)
      return Status::InvalidArgument("bulk_too_many_targets", "at most 1,000,000 relationships in one bulk tagging");
    KOI_ASSIGN_OR_RETURN(auto job, queue_.EnqueueIn(tx, {.team = team, .kind = kBulkTagJob, .payload = payload,
                                                         .max_attempts = 20, .progress_total = total}));
    job_id = job.id.value();
    std::vector<Value> insert{job_id, team.value()};
    insert.insert(insert.end(), params.begin(), params.end());
    return tx.Exec("INSERT INTO bulk_tag_items (job_id, seq, team_id, external_userid, userid) SELECT ?, ROW_NUMBER() "
                   "OVER (ORDER BY f.external_userid, f.userid), ?, f.external_userid, f.userid" + from + where,
                   insert);
  }));
  return BulkTagStatus(who, job_id, 1, 20);
}

Result<int64_t> TagService::PurgeBulkItems() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM bulk_tag_items WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = "
                                         "bulk_tag_items.job_id)"));
  return r.affected_rows;
}

Result<BulkTagState> TagService::BulkTagStatus(const accounts::Principal& who, int64_t job_id, int page,
                                               int page_size) {
  const Status not_found = Status::NotFound("bulk_job_not_found", "no such bulk tagging of yours");
  auto job = queue_.Get(who.team, JobId(job_id));
  if (!job.ok()) return job.status().code() == StatusCode::kNotFound ? not_found : job.status();
  if (job->kind != kBulkTagJob) return not_found;
  boost::system::error_code ec;
  json::value payload = json::parse(job->payload, ec);
  if (ec || !payload.is_object()) return Status::Internal("bad_payload", "the bulk tagging job has a bad payload");
  const auto* owner = payload.as_object().if_contains("account_id");
  if (!who.is_admin() && (!owner || !owner->is_int64() || owner->as_int64() != who.account.value())) return not_found;

  BulkTagState out{.job_id = job_id, .state = std::string(jobs::JobStateName(job->state)),
                   .total = job->progress_total, .succeeded = 0, .failed = 0,
                   .last_error_reason = job->last_error_reason, .created_at_ms = job->created_at_ms,
                   .finished_at_ms = job->finished_at_ms, .failures = {}, .failures_total = 0};
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT state, COUNT(*) FROM bulk_tag_items WHERE job_id = ? AND team_id "
                                              "= ? GROUP BY state", {job_id, who.team.value()}));
  for (const auto& row : counts.rows) {
    if (row.Text(0) == "done") out.succeeded = row.Int(1);
    if (row.Text(0) == "failed") out.failed = row.Int(1);
  }
  out.failures_total = out.failed;
  KOI_ASSIGN_OR_RETURN(auto f, db_.Query("SELECT i.external_userid, COALESCE(c.name, ''), i.userid, COALESCE(e.name, "
                                         "''), i.error FROM bulk_tag_items i LEFT JOIN wecom_customers c ON c.team_id = "
                                         "i.team_id AND c.external_userid = i.external_userid LEFT JOIN wecom_employees "
                                         "e ON e.team_id = i.team_id AND e.userid = i.userid WHERE i.job_id = ? AND "
                                         "i.team_id = ? AND i.state = 'failed' ORDER BY i.seq LIMIT ? OFFSET ?",
                                         {job_id, who.team.value(), int64_t{page_size}, int64_t{page - 1} * page_size}));
  for (const auto& row : f.rows)
    out.failures.push_back({.external_userid = row.Text(0), .customer_name = row.Text(1), .userid = row.Text(2),
                            .employee_name = row.Text(3), .reason = row.Text(4)});
  return out;
}

Result<BulkTagState> TagService::CancelBulkTag(const accounts::Principal& who, int64_t job_id) {
  KOI_ASSIGN_OR_RETURN(auto state, BulkTagStatus(who, job_id, 1, 1));  // the caller's own, or an admin
  if (state.state == "queued" || state.state == "running")
    KOI_RETURN_IF_ERROR(queue_.Cancel(who.team, JobId(job_id)));
  return BulkTagStatus(who, job_id, 1, 20);
}

Status TagService::RunBulkTag(jobs::JobContext& ctx) {
  const TeamId team = ctx.job().team;
  const int64_t job = ctx.job().id.value();
  boost::system::error_code ec;
  json::value pv = json::parse(ctx.job().payload, ec);
  if (ec || !pv.is_object()) return Status::Internal("bad_payload", "the bulk tagging job has a bad payload");
  const auto& payload = pv.as_object();
  const std::vector<std::string> add = StringsOf(payload, "add"), remove = StringsOf(payload, "remove");
  auto text = [&payload](const char* key) {
    auto* v = payload.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  const std::string actor = text("actor_name"), added_names = text("add_names"), removed_names = text("remove_names");
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT COUNT(*), SUM(CASE WHEN state <> 'pending' THEN 1 ELSE 0 END) "
                                              "FROM bulk_tag_items WHERE job_id = ?", {job}));
  const int64_t total = counts.rows.at(0).Int(0);
  int64_t done = counts.rows.at(0).IsNull(1) ? 0 : counts.rows.at(0).Int(1);

  for (;;) {
    if (ctx.ShouldStop()) return Status::Aborted("job_interrupted", "the bulk tagging stops here and resumes later");
    KOI_ASSIGN_OR_RETURN(auto batch, db_.Query("SELECT seq, external_userid, userid FROM bulk_tag_items WHERE job_id = "
                                               "? AND state = 'pending' ORDER BY seq LIMIT 50", {job}));
    if (batch.rows.empty()) return Status::Ok();
    struct Outcome {
      int64_t seq;
      std::string ext, userid, error;
    };
    std::vector<Outcome> outcomes;
    Status stop = Status::Ok();
    for (const auto& row : batch.rows) {
      Outcome o{row.Int(0), row.Text(1), row.Text(2), ""};
      Status s = client_.MarkTags(corp, o.userid, o.ext, add, remove);
      // What WeCom refuses for this one relationship (84061 no relationship, 40096 unknown customer, a bad
      // parameter) is its own failure. Anything about the whole job stops it with the items left pending: outages and rate limits, and a
      // revoked secret, a missing permission or an untrusted IP, which an admin can fix, are retried later (as
      // unavailable, so the runner backs off instead of giving up); a tag deleted in WeCom meanwhile ends the job.
      const auto code = s.code();
      const bool item_failure =
          code == StatusCode::kNotFound || (code == StatusCode::kInvalidArgument && s.reason() != "wecom_invalid_tag_id");
      if (!s.ok() && !item_failure) {
        if (s.reason() == "wecom_invalid_tag_id") stop = s;
        else if (code == StatusCode::kUnavailable || code == StatusCode::kAborted) stop = s;
        else stop = Status::Unavailable(s.reason(), s.message());
        break;
      }
      o.error = s.ok() ? "" : s.reason();
      outcomes.push_back(std::move(o));
      if (ctx.ShouldStop()) break;
    }
    if (!outcomes.empty()) {
      const int64_t now = clock_.NowMillis();
      KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
        for (const auto& o : outcomes) {
          KOI_RETURN_IF_ERROR(tx.Exec("UPDATE bulk_tag_items SET state = ?, error = ? WHERE job_id = ? AND seq = ?",
                                      {std::string(o.error.empty() ? "done" : "failed"), o.error, job, o.seq}));
          if (o.error.empty())
            KOI_RETURN_IF_ERROR(RecordMarked(tx, team, o.userid, o.ext, add, remove, added_names, removed_names,
                                             actor, now));
        }
        return ctx.CheckpointIn(tx, done + static_cast<int64_t>(outcomes.size()), total,
                                std::to_string(outcomes.back().seq));
      }));
    }
    done += static_cast<int64_t>(outcomes.size());
    if (!stop.ok()) return stop;
  }
}

// ----- relationship remarks ----------------------------------------------------------------------------------

Result<Follow> TagService::EditRelationship(const accounts::Principal& who, std::string_view external_userid,
                                            std::string_view userid, const wecom::WecomClient::RemarkEdit& raw) {
  wecom::WecomClient::RemarkEdit edit;
  auto text = [](const std::optional<std::string>& v, size_t max, const char* reason,
                 const char* what) -> Result<std::optional<std::string>> {
    if (!v) return std::optional<std::string>();
    std::string t = TrimSpace(*v);
    if (!IsValidUtf8(t) || CodePointCount(t) > max)
      return Status::InvalidArgument(reason, std::string(what) + " has at most " + std::to_string(max) + " characters");
    return std::optional<std::string>(std::move(t));
  };
  KOI_ASSIGN_OR_RETURN(edit.remark, text(raw.remark, 20, "remark_too_long", "a remark"));
  KOI_ASSIGN_OR_RETURN(edit.description, text(raw.description, 150, "description_too_long", "a description"));
  KOI_ASSIGN_OR_RETURN(edit.remark_company, text(raw.remark_company, 20, "remark_company_too_long", "a company"));
  if (raw.remark_mobiles) {
    if (raw.remark_mobiles->size() > 5)
      return Status::InvalidArgument("invalid_remark_mobile", "at most 5 remark mobile numbers");
    std::vector<std::string> mobiles;
    for (const auto& m : *raw.remark_mobiles) {
      std::string t = TrimSpace(m);
      if (t.empty()) continue;
      if (t.size() > 20 || t.find_first_not_of("0123456789+- ") != std::string::npos)
        return Status::InvalidArgument("invalid_remark_mobile", "a remark mobile has digits, +, - and spaces only");
      mobiles.push_back(std::move(t));
    }
    edit.remark_mobiles = std::move(mobiles);
  }
  if (!edit.remark && !edit.description && !edit.remark_company && !edit.remark_mobiles)
    return Status::InvalidArgument("invalid_argument", "nothing to change");

  const TeamId team = who.team;
  KOI_ASSIGN_OR_RETURN(Profile profile, customers_.Get(who, external_userid));  // visible to the caller?
  KOI_ASSIGN_OR_RETURN(const Follow* rel, ActiveRelationship(profile, userid));
  if (edit.remark_company && !edit.remark_company->empty() && profile.customer.type != 1)
    return Status::InvalidArgument("remark_company_wechat_only", "a remark company is for WeChat customers only");

  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_RETURN_IF_ERROR(client_.EditRemark(corp, std::string(userid), std::string(external_userid), edit));
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    std::string sets;
    std::vector<Value> params;
    if (edit.remark) {
      sets += ", remark = ?, remark_py = ?";
      params.emplace_back(Value(*edit.remark));
      params.emplace_back(Value(PinyinInitials(*edit.remark)));
    }
    if (edit.description) sets += ", description = ?", params.emplace_back(Value(*edit.description));
    if (edit.remark_company) sets += ", remark_corp_name = ?", params.emplace_back(Value(*edit.remark_company));
    if (edit.remark_mobiles) sets += ", remark_mobiles = ?", params.emplace_back(Value(json::serialize(JsonStrings(*edit.remark_mobiles))));
    params.emplace_back(std::in_place_type<int64_t>, team.value());
    params.emplace_back(std::in_place_type<std::string>, userid);
    params.emplace_back(std::in_place_type<std::string>, external_userid);
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET " + sets.substr(2) + " WHERE team_id = ? AND userid = ? AND "
                                "external_userid = ?", params));
    if (!edit.remark || *edit.remark == rel->remark) return Status::Ok();
    return tx.Exec("INSERT INTO customer_events (team_id, external_userid, at, kind, userid, actor_name, detail) "
                   "VALUES (?, ?, ?, 'remark_changed', ?, ?, ?)",
                   {team.value(), std::string(external_userid), now, std::string(userid), who.name,
                    rel->remark + " → " + *edit.remark});
  }));
  KOI_ASSIGN_OR_RETURN(Profile after, customers_.Get(who, external_userid));
  for (const auto& f : after.customer.follows)
    if (f.userid == userid) return f;
  return Status::NotFound("relationship_not_found", "this employee no longer follows the customer");
}

// ----- personal tags -------------------------------------------------------------------------------------------

Result<std::vector<PersonalTag>> TagService::PersonalTags(const accounts::Principal& who, bool whole_team) {
  if (whole_team) KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  std::string sql = "SELECT t.id, t.name, t.created_at, (SELECT COUNT(*) FROM personal_tag_customers c WHERE c.tag_id = "
                    "t.id), t.account_id, COALESCE(a.name, '') FROM personal_tags t LEFT JOIN accounts a ON a.id = "
                    "t.account_id AND a.team_id = t.team_id WHERE t.team_id = ?";
  std::vector<Value> params{who.team.value()};
  if (whole_team) {
    sql += " ORDER BY COALESCE(a.name, ''), t.account_id, t.name, t.id";
  } else {
    sql += " AND t.account_id = ? ORDER BY t.name, t.id";
    params.emplace_back(std::in_place_type<int64_t>, who.account.value());
  }
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  std::vector<PersonalTag> out;
  for (const auto& row : r.rows)
    out.push_back({.id = row.Int(0), .name = row.Text(1), .account_id = row.Int(4), .owner_name = row.Text(5),
                   .customers = row.Int(3), .created_at_ms = row.Int(2)});
  return out;
}

Result<PersonalTag> TagService::CreatePersonalTag(const accounts::Principal& who, std::string_view raw_name) {
  KOI_ASSIGN_OR_RETURN(std::string name, TagName(raw_name));
  PersonalTag out{.id = 0, .name = name, .account_id = who.account.value(), .owner_name = who.name, .customers = 0,
                  .created_at_ms = clock_.NowMillis()};
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*) FROM personal_tags WHERE team_id = ? AND account_id = ?",
                                              {who.team.value(), who.account.value()}));
    if (count.rows[0].Int(0) >= kMaxPersonalTagsPerAccount)
      return Status::FailedPrecondition("personal_tag_limit", "an account has at most 500 personal tags");
    KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT 1 FROM personal_tags WHERE team_id = ? AND account_id = ? AND "
                                             "name = ?", {who.team.value(), who.account.value(), name}));
    if (!same.rows.empty()) return Status::AlreadyExists("personal_tag_exists", "you already have a tag \"" + name + "\"");
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("INSERT INTO personal_tags (team_id, account_id, name, created_at) VALUES (?, "
                                          "?, ?, ?) RETURNING id",
                                          {who.team.value(), who.account.value(), name, out.created_at_ms}));
    out.id = r.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return out;
}

Status TagService::DeletePersonalTag(const accounts::Principal& who, int64_t id) {
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT account_id FROM personal_tags WHERE id = ? AND team_id = ?",
                                          {id, who.team.value()}));
    if (t.rows.empty() || (!who.is_admin() && t.rows[0].Int(0) != who.account.value()))
      return Status::NotFound("personal_tag_not_found", "no such personal tag of yours");
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM personal_tag_customers WHERE tag_id = ? AND team_id = ?",
                                {id, who.team.value()}));
    return tx.Exec("DELETE FROM personal_tags WHERE id = ? AND team_id = ?", {id, who.team.value()});
  });
}

Status TagService::MarkPersonalTags(const accounts::Principal& who, std::string_view external_userid,
                                    const std::vector<int64_t>& add, const std::vector<int64_t>& remove) {
  if (add.empty() && remove.empty()) return Status::InvalidArgument("invalid_argument", "add or remove some tags");
  if (add.size() + remove.size() > kMaxTagsPerCall)
    return Status::InvalidArgument("too_many_tags", "at most 100 tags at a time");
  KOI_RETURN_IF_ERROR(customers_.Get(who, external_userid).status());  // visible to the caller?
  const int64_t now = clock_.NowMillis();
  return db_.Transact([&](storage::Session& tx) -> Status {
    for (int64_t id : add) {
      KOI_ASSIGN_OR_RETURN(auto own, tx.Query("SELECT 1 FROM personal_tags WHERE id = ? AND team_id = ? AND "
                                              "account_id = ?", {id, who.team.value(), who.account.value()}));
      if (own.rows.empty()) return Status::NotFound("personal_tag_not_found", "no such personal tag of yours");
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO personal_tag_customers (tag_id, team_id, external_userid, created_at) "
                                  "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                  {id, who.team.value(), std::string(external_userid), now}));
    }
    for (int64_t id : remove)
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM personal_tag_customers WHERE tag_id = ? AND external_userid = ? AND "
                                  "tag_id IN (SELECT id FROM personal_tags WHERE team_id = ? AND account_id = ?)",
                                  {id, std::string(external_userid), who.team.value(), who.account.value()}));
    return Status::Ok();
  });
}

}  // namespace koi::customers
