#include "domain/apps/apps.h"

#include <algorithm>

namespace koi::apps {

const std::vector<std::string>& CatalogueKeys() {
  static const std::vector<std::string> keys = {"scrm", "cloud_store"};
  return keys;
}

Result<std::vector<AppState>> AppService::List(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT t.app_key, t.activated_at, COALESCE(a.name, '') FROM team_apps t "
                                         "LEFT JOIN accounts a ON a.id = t.activated_by WHERE t.team_id = ?",
                                         {team.value()}));
  std::vector<AppState> out;
  for (const auto& key : CatalogueKeys()) {
    AppState s{.key = key};
    for (const auto& row : r.rows) {
      if (row.Text(0) != key) continue;
      s.activated = true;
      s.activated_at_ms = row.Int(1);
      s.activated_by_name = row.Text(2);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<AppState> AppService::Activate(const accounts::Principal& who, std::string_view key, std::string_view ip) {
  const auto& keys = CatalogueKeys();
  if (std::find(keys.begin(), keys.end(), key) == keys.end())
    return Status::NotFound("app_not_found", "there is no app called " + std::string(key));
  if (!who.is_admin())
    return Status::PermissionDenied("admin_only", "only the team's admin account may activate apps");
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("INSERT INTO team_apps (team_id, app_key, activated_at, activated_by) "
                                          "VALUES (?, ?, ?, ?) ON CONFLICT (team_id, app_key) DO NOTHING",
                                          {who.team.value(), std::string(key), clock_.NowMillis(),
                                           who.account.value()}));
    if (r.affected_rows == 0) return Status::Ok();  // already active: nothing to record
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "app.activated", key, ip);
  }));
  KOI_ASSIGN_OR_RETURN(auto all, List(who.team));
  for (auto& s : all)
    if (s.key == key) return s;
  return Status::Internal("app_state_missing", "activated app not listed");
}

Status AppService::RequireActivated(TeamId team, std::string_view key) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT 1 FROM team_apps WHERE team_id = ? AND app_key = ?",
                                         {team.value(), std::string(key)}));
  if (r.rows.empty())
    return Status::PermissionDenied("app_not_activated",
                                    "the team has not activated the " + std::string(key) + " app; activate it first");
  return Status::Ok();
}

}  // namespace koi::apps
