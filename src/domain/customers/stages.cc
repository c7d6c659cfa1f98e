#include "domain/customers/stages.h"

#include <algorithm>
#include <set>

#include "core/utf8.h"
#include "rules/rule_pack.h"

namespace koi::customers {
namespace {

using storage::Value;

Result<std::string> StageName(std::string_view raw) {
  std::string name = TrimSpace(raw);
  if (name.empty()) return Status::InvalidArgument("stage_name_empty", "a stage needs a name");
  if (!IsValidUtf8(name) || CodePointCount(name) > 30)
    return Status::InvalidArgument("stage_name_too_long", "a stage name has at most 30 characters");
  return name;
}

const Status kStageNotFound = Status::NotFound("stage_not_found", "no such customer stage");

}  // namespace

Result<StageBoard> StageService::Board(const accounts::Principal& who) {
  const TeamId team = who.team;
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  StageBoard board;
  KOI_ASSIGN_OR_RETURN(auto stages, db_.Query("SELECT id, name, sort FROM customer_stages WHERE team_id = ? ORDER BY "
                                              "sort, id", {team.value()}));
  for (const auto& row : stages.rows)
    board.stages.push_back({.id = row.Int(0), .name = row.Text(1), .sort = row.Int(2), .customers = 0});
  if (!scope.all && scope.userids.empty()) return board;  // an unbound member sees no customers

  // Visible customers per stage (NULL: in none).
  std::vector<Value> params{team.value()};
  std::string visible = " FROM wecom_customers c LEFT JOIN customer_profiles p ON p.team_id = c.team_id AND "
                        "p.external_userid = c.external_userid WHERE c.team_id = ?";
  if (!scope.all) {
    const std::string marks = storage::InList(params, scope.userids);
    visible += " AND EXISTS (SELECT 1 FROM wecom_follows f WHERE f.team_id = c.team_id AND f.external_userid = "
               "c.external_userid AND f.userid IN (" + marks + "))";
  }
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT p.stage_id, COUNT(*)" + visible + " GROUP BY p.stage_id", params));
  for (const auto& row : counts.rows) {
    if (row.IsNull(0)) {
      board.unstaged += row.Int(1);
      continue;
    }
    auto it = std::find_if(board.stages.begin(), board.stages.end(), [&](const Stage& s) { return s.id == row.Int(0); });
    if (it != board.stages.end()) it->customers = row.Int(1);
    else board.unstaged += row.Int(1);  // a profile row left by a stage deleted meanwhile
  }
  return board;
}

Result<Stage> StageService::Create(const accounts::Principal& who, std::string_view raw_name) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, StageName(raw_name));
  Stage out{.id = 0, .name = name, .sort = 0, .customers = 0};
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT COUNT(*), COALESCE(MAX(sort), 0) FROM customer_stages WHERE team_id "
                                          "= ?", {who.team.value()}));
    if (r.rows[0].Int(0) >= static_cast<int64_t>(kMaxStages))
      return Status::FailedPrecondition("stage_limit", "a team has at most 20 customer stages");
    KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT 1 FROM customer_stages WHERE team_id = ? AND name = ?",
                                             {who.team.value(), name}));
    if (!same.rows.empty()) return Status::AlreadyExists("stage_exists", "there is already a stage \"" + name + "\"");
    out.sort = r.rows[0].Int(1) + 1;
    KOI_ASSIGN_OR_RETURN(auto id, tx.Query("INSERT INTO customer_stages (team_id, name, sort, created_at) VALUES (?, ?, "
                                           "?, ?) RETURNING id",
                                           {who.team.value(), name, out.sort, clock_.NowMillis()}));
    out.id = id.rows.at(0).Int(0);
    return Status::Ok();
  }));
  return out;
}

Status StageService::Rename(const accounts::Principal& who, int64_t id, std::string_view raw_name) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, StageName(raw_name));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT id FROM customer_stages WHERE team_id = ? AND name = ?",
                                             {who.team.value(), name}));
    if (!same.rows.empty() && same.rows[0].Int(0) != id)
      return Status::AlreadyExists("stage_exists", "there is already a stage \"" + name + "\"");
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE customer_stages SET name = ? WHERE id = ? AND team_id = ?",
                                          {name, id, who.team.value()}));
    return r.affected_rows == 0 ? kStageNotFound : Status::Ok();
  });
}

Status StageService::Delete(const accounts::Principal& who, int64_t id) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM customer_stages WHERE id = ? AND team_id = ?",
                                          {id, who.team.value()}));
    if (r.affected_rows == 0) return kStageNotFound;
    return tx.Exec("UPDATE customer_profiles SET stage_id = NULL, updated_at = ? WHERE team_id = ? AND stage_id = ?",
                   {clock_.NowMillis(), who.team.value(), id});
  });
}

Status StageService::Reorder(const accounts::Principal& who, const std::vector<int64_t>& ids) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT id FROM customer_stages WHERE team_id = ?", {who.team.value()}));
    std::set<int64_t> have, given(ids.begin(), ids.end());
    for (const auto& row : r.rows) have.insert(row.Int(0));
    if (have != given || given.size() != ids.size())
      return Status::InvalidArgument("invalid_stage_order", "list every stage of the team exactly once");
    for (size_t i = 0; i < ids.size(); ++i)
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_stages SET sort = ? WHERE id = ? AND team_id = ?",
                                  {static_cast<int64_t>(i + 1), ids[i], who.team.value()}));
    return Status::Ok();
  });
}

Result<std::optional<Stage>> StageService::SetCustomerStage(const accounts::Principal& who,
                                                            std::string_view external_userid, int64_t id) {
  KOI_ASSIGN_OR_RETURN(Profile profile, customers_.Get(who, external_userid));  // visible to the caller?
  const TeamId team = who.team;
  std::optional<Stage> out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    out.reset();
    if (id != 0) {
      KOI_ASSIGN_OR_RETURN(auto s, tx.Query("SELECT name, sort FROM customer_stages WHERE id = ? AND team_id = ?",
                                            {id, team.value()}));
      if (s.rows.empty()) return kStageNotFound;
      out = Stage{.id = id, .name = s.rows[0].Text(0), .sort = s.rows[0].Int(1), .customers = 0};
    }
    if (profile.stage_id.value_or(0) == id) return Status::Ok();  // unchanged: nothing to record
    const int64_t now = clock_.NowMillis();
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_profiles (team_id, external_userid, stage_id, updated_at) VALUES "
                                "(?, ?, ?, ?) ON CONFLICT (team_id, external_userid) DO UPDATE SET stage_id = "
                                "excluded.stage_id, updated_at = excluded.updated_at",
                                {team.value(), std::string(external_userid),
                                 id == 0 ? Value() : Value(id), now}));
    return tx.Exec("INSERT INTO customer_events (team_id, external_userid, at, kind, userid, actor_name, detail) "
                   "VALUES (?, ?, ?, 'stage_changed', '', ?, ?)",
                   {team.value(), std::string(external_userid), now, who.name,
                    profile.stage_name + " → " + (out ? out->name : std::string())});
  }));
  return out;
}

Result<Capacity> StageService::CapacityOf(TeamId team) {
  const rules::RulePack& pack = rules::DefaultRulePack();
  Capacity out;
  out.rule_pack = pack.name;
  KOI_ASSIGN_OR_RETURN(auto corp, db_.Query("SELECT corp_verified FROM wecom_corps WHERE team_id = ?", {team.value()}));
  out.corp_verified = corp.rows.empty() || corp.rows[0].Int(0) != 0;
  out.limit = out.corp_verified ? pack.capacity.corp_verified : pack.capacity.corp_unverified;
  out.member_limit = pack.capacity.member;
  KOI_ASSIGN_OR_RETURN(auto n, db_.Query("SELECT COUNT(*) FROM wecom_customers WHERE team_id = ? AND active_follows > 0",
                                         {team.value()}));
  out.customers = n.rows.at(0).Int(0);
  // A limit of kUnlimited (no such limit in the pack) never warns.
  const double used = out.limit > 0 ? static_cast<double>(out.customers) / static_cast<double>(out.limit) : 0;
  out.level = used >= 0.95 ? "critical" : used >= 0.8 ? "warning" : "ok";
  if (out.member_limit > 0 && out.member_limit < rules::kUnlimited / 8) {
    KOI_ASSIGN_OR_RETURN(auto busy, db_.Query("SELECT f.userid, COALESCE(e.name, ''), COUNT(*) FROM wecom_follows f LEFT "
                                              "JOIN wecom_employees e ON e.team_id = f.team_id AND e.userid = f.userid "
                                              "WHERE f.team_id = ? AND f.deleted_at IS NULL GROUP BY f.userid, e.name "
                                              "HAVING COUNT(*) * 5 >= ? * 4 ORDER BY 3 DESC, 1 LIMIT 20",
                                              {team.value(), out.member_limit}));
    for (const auto& row : busy.rows)
      out.busy_employees.push_back({.userid = row.Text(0), .name = row.Text(1), .customers = row.Int(2)});
  }
  return out;
}

Status StageService::SetCorpVerified(const accounts::Principal& who, bool verified) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("UPDATE wecom_corps SET corp_verified = ? WHERE team_id = ?",
                                         {int64_t{verified ? 1 : 0}, who.team.value()}));
  if (r.affected_rows == 0) return Status::FailedPrecondition("wecom_not_linked", "the team is not linked to WeCom");
  return Status::Ok();
}

}  // namespace koi::customers
