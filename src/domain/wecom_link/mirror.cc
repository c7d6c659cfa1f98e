#include "domain/wecom_link/mirror.h"

#include <set>

#include <boost/json.hpp>

#include "core/pinyin.h"

namespace koi::wecom_link::mirror {
namespace {

namespace json = boost::json;
using storage::Value;

// "INSERT … ON CONFLICT (<first pk_count columns>) DO UPDATE SET <the rest> = excluded.<the rest>".
std::string UpsertSql(const std::string& table, const std::vector<std::string>& cols, size_t pk_count,
                      const std::string& extra_set = "") {
  std::string sql = "INSERT INTO " + table + " (";
  std::string marks, pk, set;
  for (size_t i = 0; i < cols.size(); ++i) {
    sql += (i ? ", " : "") + cols[i];
    marks += i ? ", ?" : "?";
    if (i < pk_count) pk += (i ? ", " : "") + cols[i];
    else set += (set.empty() ? "" : ", ") + cols[i] + " = excluded." + cols[i];
  }
  return sql + ") VALUES (" + marks + ") ON CONFLICT (" + pk + ") DO UPDATE SET " + set + extra_set;
}

// Keeps, in lost_tags, the corp tags (id, name, group) of the lost relationships `where` selects (over wecom_follows
// f), before their tags are deleted: churn shows what the customer was tagged with. Only rows that had tags change.
Status KeepLostTags(storage::Session& tx, const std::string& where, const std::vector<Value>& params) {
  KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT f.userid, f.external_userid, t.tag_id, COALESCE(g.name, ''), "
                                        "COALESCE(gg.name, '') FROM wecom_follows f JOIN wecom_follow_tags t ON "
                                        "t.team_id = f.team_id AND t.userid = f.userid AND t.external_userid = "
                                        "f.external_userid LEFT JOIN wecom_tags g ON g.team_id = t.team_id AND "
                                        "g.tag_id = t.tag_id LEFT JOIN wecom_tag_groups gg ON gg.team_id = g.team_id "
                                        "AND gg.group_id = g.group_id WHERE " + where +
                                            " ORDER BY f.userid, f.external_userid, gg.sort DESC, g.sort DESC, t.tag_id",
                                        params));
  for (size_t i = 0; i < r.rows.size();) {
    const std::string userid = r.rows[i].Text(0), ext = r.rows[i].Text(1);
    json::array tags;
    for (; i < r.rows.size() && r.rows[i].Text(0) == userid && r.rows[i].Text(1) == ext; ++i)
      tags.push_back(json::object{{"tag_id", r.rows[i].Text(2)}, {"name", r.rows[i].Text(3)},
                                  {"group_name", r.rows[i].Text(4)}});
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET lost_tags = ? WHERE team_id = ? AND userid = ? AND "
                                "external_userid = ?",
                                {json::serialize(tags), params.at(0), userid, ext}));
  }
  return Status::Ok();
}

}  // namespace

Status KeepTagsOfSyncLosses(storage::Session& tx, TeamId team, int64_t at_ms) {
  return KeepLostTags(tx, "f.team_id = ? AND f.deleted_at = ? AND f.deleted_by = 'sync'", {team.value(), at_ms});
}

Status UpsertDepartments(storage::Session& tx, TeamId team, const std::vector<wecom::Department>& departments,
                         int64_t run) {
  static const std::string sql = UpsertSql("wecom_departments", {"team_id", "dept_id", "name", "parent_id", "sort",
                                                                 "sync_run"}, 2);
  std::string corp_name;
  for (const auto& d : departments) {
    KOI_RETURN_IF_ERROR(tx.Exec(sql, {team.value(), d.id, d.name, d.parent_id, d.order, run}));
    if (d.parent_id == 0) corp_name = d.name;
  }
  if (corp_name.empty()) return Status::Ok();
  return tx.Exec("UPDATE wecom_corps SET corp_name = ? WHERE team_id = ?", {corp_name, team.value()});
}

Status UpsertEmployee(storage::Session& tx, TeamId team, const wecom::User& u, bool customer_contact, int64_t run) {
  static const std::string sql = UpsertSql("wecom_employees", {"team_id", "userid", "name", "position", "gender",
                                                               "mobile", "status", "main_department", "departments",
                                                               "customer_contact", "sync_run"}, 2);
  json::array depts;
  for (auto d : u.departments) depts.push_back(d);
  return tx.Exec(sql, {team.value(), u.userid, u.name, u.position, int64_t{u.gender}, u.mobile, int64_t{u.status},
                       u.main_department, json::serialize(depts), int64_t{customer_contact ? 1 : 0}, run});
}

Status UpsertRelation(storage::Session& tx, TeamId team, const wecom::ExternalContact& c, const wecom::FollowInfo& f,
                      int64_t run) {
  static const std::string csql = UpsertSql("wecom_customers", {"team_id", "external_userid", "name", "type", "gender",
                                                                "unionid", "corp_name", "position", "sync_run",
                                                                "name_py"}, 2);
  static const std::string fsql = UpsertSql("wecom_follows", {"team_id", "userid", "external_userid", "remark",
                                                              "description", "createtime", "add_way", "state",
                                                              "oper_userid", "remark_mobiles", "remark_corp_name",
                                                              "sync_run", "remark_py"}, 3,
                                            ", deleted_at = NULL, deleted_by = '', lost_tags = '', lost_recorded_at = NULL");
  KOI_RETURN_IF_ERROR(tx.Exec(csql, {team.value(), c.external_userid, c.name, int64_t{c.type}, int64_t{c.gender},
                                     c.unionid, c.corp_name, c.position, run, PinyinInitials(c.name)}));
  json::array mobiles;
  for (const auto& m : f.remark_mobiles) mobiles.push_back(json::string(m));
  KOI_RETURN_IF_ERROR(tx.Exec(fsql, {team.value(), f.userid, c.external_userid, f.remark, f.description, f.createtime,
                                     int64_t{f.add_way}, f.state, f.oper_userid, json::serialize(mobiles),
                                     f.remark_corp_name, run, PinyinInitials(f.remark)}));
  // A relationship's corp tags are replaced as a whole: WeCom's list is the truth.
  KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND userid = ? AND external_userid = ?",
                              {team.value(), f.userid, c.external_userid}));
  for (const auto& tag : f.tag_ids)
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_follow_tags (team_id, userid, external_userid, tag_id) VALUES (?, ?, "
                                "?, ?) ON CONFLICT DO NOTHING",
                                {team.value(), f.userid, c.external_userid, tag}));
  return RefreshCustomerSummary(tx, team, c.external_userid);
}

Status MarkRelationLost(storage::Session& tx, TeamId team, const std::string& userid,
                        const std::string& external_userid, const std::string& by, int64_t at_ms,
                        std::optional<int64_t> recorded_ms) {
  KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET deleted_at = ?, deleted_by = ?, lost_recorded_at = ? WHERE "
                              "team_id = ? AND userid = ? AND external_userid = ? AND deleted_at IS NULL",
                              {at_ms, by, recorded_ms.value_or(at_ms), team.value(), userid, external_userid}));
  KOI_RETURN_IF_ERROR(KeepLostTags(tx, "f.team_id = ? AND f.userid = ? AND f.external_userid = ? AND f.deleted_at = ?",
                                   {team.value(), userid, external_userid, at_ms}));
  KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND userid = ? AND external_userid = ?",
                              {team.value(), userid, external_userid}));
  return RefreshCustomerSummary(tx, team, external_userid);
}

const char* const kSummarySet =
    "UPDATE wecom_customers SET last_add_time = COALESCE((SELECT MAX(f.createtime) FROM wecom_follows f WHERE "
    "f.team_id = wecom_customers.team_id AND f.external_userid = wecom_customers.external_userid), 0), "
    "active_follows = (SELECT COUNT(*) FROM wecom_follows f WHERE f.team_id = wecom_customers.team_id AND "
    "f.external_userid = wecom_customers.external_userid AND f.deleted_at IS NULL) WHERE team_id = ?";

Status RefreshCustomerSummary(storage::Session& tx, TeamId team, const std::string& external_userid) {
  return tx.Exec(std::string(kSummarySet) + " AND external_userid = ?", {team.value(), external_userid});
}

Status RefreshSummariesLostAt(storage::Session& tx, TeamId team, int64_t at_ms) {
  return tx.Exec(std::string(kSummarySet) +
                     " AND EXISTS (SELECT 1 FROM wecom_follows g WHERE g.team_id = wecom_customers.team_id AND "
                     "g.external_userid = wecom_customers.external_userid AND g.deleted_at = ?)",
                 {team.value(), at_ms});
}

Status UpsertTagGroups(storage::Session& tx, TeamId team, const std::vector<wecom::TagGroup>& groups, int64_t run) {
  static const std::string gsql = UpsertSql("wecom_tag_groups", {"team_id", "group_id", "name", "create_time", "sort",
                                                                 "sync_run"}, 2);
  static const std::string tsql = UpsertSql("wecom_tags", {"team_id", "tag_id", "group_id", "name", "create_time",
                                                           "sort", "sync_run"}, 2);
  for (const auto& g : groups) {
    KOI_RETURN_IF_ERROR(tx.Exec(gsql, {team.value(), g.group_id, g.name, g.create_time, g.order, run}));
    for (const auto& t : g.tags)
      KOI_RETURN_IF_ERROR(tx.Exec(tsql, {team.value(), t.id, g.group_id, t.name, t.create_time, t.order, run}));
  }
  return Status::Ok();
}

Status ReplaceTagLibrary(storage::Session& tx, TeamId team, const std::vector<wecom::TagGroup>& groups, int64_t run) {
  KOI_RETURN_IF_ERROR(UpsertTagGroups(tx, team, groups, run));
  // Whatever WeCom no longer lists was deleted: drop it and its use on customers.
  std::set<std::string> tag_ids, group_ids;
  for (const auto& g : groups) {
    group_ids.insert(g.group_id);
    for (const auto& t : g.tags) tag_ids.insert(t.id);
  }
  KOI_ASSIGN_OR_RETURN(auto tags, tx.Query("SELECT tag_id FROM wecom_tags WHERE team_id = ?", {team.value()}));
  for (const auto& t : tags.rows) {
    if (tag_ids.count(t.Text(0))) continue;
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND tag_id = ?",
                                {team.value(), t.Text(0)}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_tags WHERE team_id = ? AND tag_id = ?", {team.value(), t.Text(0)}));
  }
  KOI_ASSIGN_OR_RETURN(auto gs, tx.Query("SELECT group_id FROM wecom_tag_groups WHERE team_id = ?", {team.value()}));
  for (const auto& g : gs.rows)
    if (!group_ids.count(g.Text(0)))
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_tag_groups WHERE team_id = ? AND group_id = ?",
                                  {team.value(), g.Text(0)}));
  return Status::Ok();
}

Status ReplaceGroupChat(storage::Session& tx, TeamId team, const wecom::GroupChat& chat, int64_t run) {
  static const std::string sql = UpsertSql("wecom_group_chats", {"team_id", "chat_id", "name", "owner", "notice",
                                                                 "create_time", "status", "member_version",
                                                                 "member_count", "sync_run"}, 2);
  KOI_RETURN_IF_ERROR(tx.Exec(sql, {team.value(), chat.chat_id, chat.name, chat.owner, chat.notice, chat.create_time,
                                    int64_t{chat.status}, chat.member_version,
                                    static_cast<int64_t>(chat.members.size()), run}));
  KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_group_members WHERE team_id = ? AND chat_id = ?",
                              {team.value(), chat.chat_id}));
  for (const auto& m : chat.members)
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_group_members (team_id, chat_id, member_id, type, join_time, "
                                "join_scene, invitor, state, unionid, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                {team.value(), chat.chat_id, m.userid, int64_t{m.type}, m.join_time,
                                 int64_t{m.join_scene}, m.invitor, m.state, m.unionid, m.name}));
  return Status::Ok();
}

Status DeleteGroupChat(storage::Session& tx, TeamId team, const std::string& chat_id) {
  KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_group_members WHERE team_id = ? AND chat_id = ?",
                              {team.value(), chat_id}));
  return tx.Exec("DELETE FROM wecom_group_chats WHERE team_id = ? AND chat_id = ?", {team.value(), chat_id});
}

}  // namespace koi::wecom_link::mirror
