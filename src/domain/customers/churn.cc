#include "domain/customers/churn.h"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

namespace koi::customers {
namespace {

using storage::Value;
namespace json = boost::json;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

constexpr std::string_view kChurnColumns =
    "SELECT f.external_userid, COALESCE(c.name, ''), COALESCE(c.type, 1), COALESCE(c.gender, 0), "
    "COALESCE(c.corp_name, ''), f.userid, COALESCE(e.name, ''), f.remark, f.createtime, f.deleted_at, f.deleted_by, "
    "f.lost_tags FROM wecom_follows f LEFT JOIN wecom_customers c ON c.team_id = f.team_id AND c.external_userid = "
    "f.external_userid LEFT JOIN wecom_employees e ON e.team_id = f.team_id AND e.userid = f.userid";

std::vector<TagRef> ParseTags(const std::string& text) {
  std::vector<TagRef> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& t : v.as_array()) {
    if (!t.is_object()) continue;
    auto str = [&t](const char* key) {
      const auto* x = t.as_object().if_contains(key);
      return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    out.push_back({.tag_id = str("tag_id"), .name = str("name"), .group_name = str("group_name")});
  }
  return out;
}

// Losses in the caller's scope: " WHERE …" over wecom_follows f with its params, or nullopt when the caller sees none.
std::optional<std::string> ScopeWhere(TeamId team, const Scope& scope, std::vector<Value>& params) {
  if (!scope.all && scope.userids.empty()) return std::nullopt;
  params.emplace_back(std::in_place_type<int64_t>, team.value());
  std::string where = " WHERE f.team_id = ? AND f.deleted_at IS NOT NULL AND f.deleted_by IN ('customer', 'employee', "
                      "'sync')";
  if (!scope.all) where += " AND f.userid IN (" + storage::InList(params, scope.userids) + ")";
  return where;
}

}  // namespace

Result<std::vector<ChurnItem>> ChurnService::Items(TeamId team, const std::string& sql,
                                                   const std::vector<Value>& params) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  std::vector<ChurnItem> items;
  std::vector<std::string> ids;
  for (const auto& row : r.rows) {
    items.push_back({.external_userid = row.Text(0), .name = row.Text(1), .type = static_cast<int>(row.Int(2)),
                     .gender = static_cast<int>(row.Int(3)), .corp_name = row.Text(4), .userid = row.Text(5),
                     .employee_name = row.Text(6), .remark = row.Text(7), .add_time_ms = row.Int(8) * 1000,
                     .lost_at_ms = row.Int(9), .deleted_by = row.Text(10), .tags = ParseTags(row.Text(11)),
                     .still_followed = false});
    ids.push_back(row.Text(0));
  }
  if (ids.empty()) return items;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<Value> fp{team.value()};
  const std::string in = storage::InList(fp, ids);
  KOI_ASSIGN_OR_RETURN(auto followed, db_.Query("SELECT DISTINCT external_userid FROM wecom_follows WHERE team_id = ? "
                                                "AND external_userid IN (" + in + ") AND deleted_at IS NULL",
                                                fp));
  std::set<std::string> still;
  for (const auto& row : followed.rows) still.insert(row.Text(0));
  for (auto& item : items) item.still_followed = still.count(item.external_userid) > 0;
  return items;
}

Result<ChurnPage> ChurnService::List(const accounts::Principal& who, const ChurnQuery& q, int page, int page_size) {
  if (!q.deleted_by.empty() && q.deleted_by != "customer" && q.deleted_by != "employee" && q.deleted_by != "sync")
    return Status::InvalidArgument("invalid_filter", "deleted_by must be customer, employee or sync");
  if (q.lost_from_ms && q.lost_to_ms && *q.lost_from_ms >= *q.lost_to_ms)
    return Status::InvalidArgument("invalid_time_range", "the start of the time range must be before its end");
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  ChurnPage out;
  std::vector<Value> params;
  auto base = ScopeWhere(who.team, scope, params);
  if (!base) return out;

  // The two counts: the scope only.
  const int64_t week = clock_.NowMillis() - 7 * kDayMs, month = clock_.NowMillis() - 30 * kDayMs;
  std::vector<Value> cp;
  cp.emplace_back(std::in_place_type<int64_t>, week);
  cp.emplace_back(std::in_place_type<int64_t>, month);
  cp.insert(cp.end(), params.begin(), params.end());
  cp.emplace_back(std::in_place_type<int64_t>, month);
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT SUM(CASE WHEN f.deleted_at >= ? THEN 1 ELSE 0 END), "
                                              "SUM(CASE WHEN f.deleted_at >= ? THEN 1 ELSE 0 END) FROM wecom_follows f" +
                                                  *base + " AND f.deleted_at >= ?",
                                              cp));
  out.last_7_days = counts.rows.at(0).IsNull(0) ? 0 : counts.rows.at(0).Int(0);
  out.last_30_days = counts.rows.at(0).IsNull(1) ? 0 : counts.rows.at(0).Int(1);

  std::string where = *base;
  if (!q.userids.empty()) where += " AND f.userid IN (" + storage::InList(params, q.userids) + ")";
  if (!q.deleted_by.empty()) {
    where += " AND f.deleted_by = ?";
    params.emplace_back(std::in_place_type<std::string>, q.deleted_by);
  }
  if (q.lost_from_ms) {
    where += " AND f.deleted_at >= ?";
    params.emplace_back(std::in_place_type<int64_t>, *q.lost_from_ms);
  }
  if (q.lost_to_ms) {
    where += " AND f.deleted_at < ?";
    params.emplace_back(std::in_place_type<int64_t>, *q.lost_to_ms);
  }
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query("SELECT COUNT(*) FROM wecom_follows f" + where, params));
  out.total = total.rows.at(0).Int(0);
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(out.items, Items(who.team, std::string(kChurnColumns) + where +
                                                      " ORDER BY f.deleted_at DESC, f.external_userid, f.userid "
                                                      "LIMIT ? OFFSET ?",
                                        params));
  return out;
}

Result<int64_t> ChurnService::SeenAt(const accounts::Principal& who) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT seen_at FROM churn_seen WHERE account_id = ? AND team_id = ?",
                                         {who.account.value(), who.team.value()}));
  return r.rows.empty() ? clock_.NowMillis() - kUnseenWindowMs : r.rows[0].Int(0);
}

Result<ChurnUnread> ChurnService::Unread(const accounts::Principal& who) {
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  ChurnUnread out;
  KOI_ASSIGN_OR_RETURN(out.seen_at_ms, SeenAt(who));
  std::vector<Value> params;
  auto base = ScopeWhere(who.team, scope, params);
  if (!base) return out;
  // Against when Koi learnt of each loss, not when WeCom says it happened: an event applied late is still new.
  const std::string where = *base + " AND COALESCE(f.lost_recorded_at, f.deleted_at) > ?";
  params.emplace_back(std::in_place_type<int64_t>, out.seen_at_ms);
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM wecom_follows f" + where, params));
  out.count = count.rows.at(0).Int(0);
  if (out.count == 0) return out;
  params.emplace_back(std::in_place_type<int64_t>, kUnreadShown);
  KOI_ASSIGN_OR_RETURN(out.items, Items(who.team, std::string(kChurnColumns) + where +
                                                      " ORDER BY f.deleted_at DESC, f.external_userid, f.userid LIMIT ?",
                                        params));
  return out;
}

Result<int64_t> ChurnService::MarkSeen(const accounts::Principal& who) {
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Exec("INSERT INTO churn_seen (account_id, team_id, seen_at) VALUES (?, ?, ?) ON CONFLICT "
                               "(account_id) DO UPDATE SET seen_at = excluded.seen_at",
                               {who.account.value(), who.team.value(), now}));
  return now;
}

}  // namespace koi::customers
