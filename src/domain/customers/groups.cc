#include "domain/customers/groups.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/utf8.h"

namespace koi::customers {
namespace {

using storage::Row;
using storage::Value;

constexpr std::string_view kEscape = " ESCAPE '\\'";
// A team's tags with the number of (still mirrored) groups carrying each.
constexpr char kTagSelect[] =
    "SELECT t.id, t.name, (SELECT COUNT(*) FROM group_chat_tags c JOIN wecom_group_chats g ON g.team_id = c.team_id "
    "AND g.chat_id = c.chat_id WHERE c.team_id = t.team_id AND c.tag_id = t.id) FROM group_tags t WHERE t.team_id = ?";

Result<std::string> GroupTagName(std::string_view raw) {
  std::string name = TrimSpace(raw);
  if (name.empty() || !IsValidUtf8(name) || static_cast<int64_t>(CodePointCount(name)) > kMaxGroupTagChars)
    return Status::InvalidArgument("group_tag_name_invalid",
                                   "name: 1 to " + std::to_string(kMaxGroupTagChars) + " characters");
  return name;
}

Status NameTaken(const Status& s, const std::string& name) {
  if (s.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("group_tag_exists", "a group tag named \"" + name + "\" already exists");
  return s;
}

}  // namespace

Result<GroupPage> GroupService::List(TeamId team, const GroupQuery& query) {
  const int page = std::max(query.page, 1);
  const int page_size = std::clamp(query.page_size, 1, 100);
  std::vector<Value> params{team.value()};
  std::string where = " WHERE g.team_id = ?";
  if (!query.q.empty()) {
    where += " AND g.name LIKE ?" + std::string(kEscape);
    params.emplace_back(std::in_place_type<std::string>, storage::LikeContains(query.q));
  }
  if (!query.owner.empty()) {
    where += " AND g.owner = ?";
    params.emplace_back(std::in_place_type<std::string>, query.owner);
  }
  if (!query.chat_ids.empty()) {
    if (query.chat_ids.size() > kMaxGroupsListed)
      return Status::InvalidArgument("invalid_filter",
                                     "chat_ids: at most " + std::to_string(kMaxGroupsListed) + " groups at a time");
    where += " AND g.chat_id IN (" + storage::InList(params, query.chat_ids) + ")";
  }
  if (query.tag_id != 0) {
    where += " AND EXISTS (SELECT 1 FROM group_chat_tags t WHERE t.team_id = g.team_id AND t.chat_id = g.chat_id AND "
             "t.tag_id = ?)";
    params.emplace_back(std::in_place_type<int64_t>, query.tag_id);
  }
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query("SELECT COUNT(*) FROM wecom_group_chats g" + where, params));
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, static_cast<int64_t>(page - 1) * page_size);
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(
      "SELECT g.chat_id, g.name, g.owner, COALESCE(e.name, g.owner), g.member_count, g.status, g.create_time FROM "
      "wecom_group_chats g LEFT JOIN wecom_employees e ON e.team_id = g.team_id AND e.userid = g.owner" + where +
      " ORDER BY g.name, g.chat_id LIMIT ? OFFSET ?", params));
  GroupPage out;
  out.total = total.rows.at(0).Int(0);
  std::vector<std::string> ids;
  for (const auto& r : rows.rows) {
    out.items.push_back({.chat_id = r.Text(0), .name = r.Text(1), .owner = r.Text(2), .owner_name = r.Text(3),
                         .member_count = r.Int(4), .status = static_cast<int>(r.Int(5)),
                         .create_time_ms = r.Int(6) * 1000, .tags = {}});
    ids.push_back(r.Text(0));
  }
  if (ids.empty()) return out;
  std::vector<Value> tp{team.value()};
  const std::string in = storage::InList(tp, ids);
  KOI_ASSIGN_OR_RETURN(auto tags, db_.Query("SELECT c.chat_id, t.id, t.name FROM group_chat_tags c JOIN group_tags t "
                                            "ON t.id = c.tag_id WHERE c.team_id = ? AND c.chat_id IN (" + in +
                                            ") ORDER BY t.name", tp));
  std::map<std::string, std::vector<GroupTag>> by_chat;
  for (const auto& r : tags.rows) by_chat[r.Text(0)].push_back({.id = r.Int(1), .name = r.Text(2), .groups = 0});
  for (auto& g : out.items)
    if (auto it = by_chat.find(g.chat_id); it != by_chat.end()) g.tags = std::move(it->second);
  return out;
}

Result<GroupProfile> GroupService::Profile(TeamId team, const std::string& chat_id, const std::string& viewer,
                                           int page, int page_size) {
  GroupProfile out;
  out.page = std::max(page, 1);
  out.page_size = std::clamp(page_size, 1, 100);
  // One answer for "no such group" and "not yours to see", so the page cannot probe other groups.
  const Status not_found = Status::NotFound("group_not_found", "Koi has no such group, or you are not in it");
  KOI_ASSIGN_OR_RETURN(auto g, db_.Query(
      "SELECT g.name, g.owner, COALESCE(e.name, g.owner), g.member_count, g.status, g.create_time, g.notice, "
      "(SELECT COUNT(*) FROM wecom_group_members m WHERE m.team_id = g.team_id AND m.chat_id = g.chat_id AND "
      "m.member_id = ? AND m.type = 1) FROM wecom_group_chats g LEFT JOIN wecom_employees e ON e.team_id = g.team_id "
      "AND e.userid = g.owner WHERE g.team_id = ? AND g.chat_id = ?",
      {viewer, team.value(), chat_id}));
  if (g.rows.empty()) return not_found;
  const Row& r = g.rows[0];
  if (r.Text(1) != viewer && r.Int(7) == 0) return not_found;
  out.group = {.chat_id = chat_id, .name = r.Text(0), .owner = r.Text(1), .owner_name = r.Text(2),
               .member_count = r.Int(3), .status = static_cast<int>(r.Int(4)), .create_time_ms = r.Int(5) * 1000,
               .tags = {}};
  out.notice = r.Text(6);

  // Whether a member is the viewer's customer: a relationship of theirs that is not lost.
  constexpr char kMine[] = "EXISTS (SELECT 1 FROM wecom_follows f WHERE f.team_id = m.team_id AND f.userid = ? AND "
                           "f.external_userid = m.member_id AND f.deleted_at IS NULL)";
  const int64_t week_ago_s = clock_.NowSeconds() - 7 * 86'400;
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query(
      std::string("SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.type = 2 THEN 1 ELSE 0 END), 0), "
                  "COALESCE(SUM(CASE WHEN m.type = 1 THEN 1 ELSE 0 END), 0), "
                  "COALESCE(SUM(CASE WHEN m.join_time >= ? THEN 1 ELSE 0 END), 0), "
                  "COALESCE(SUM(CASE WHEN m.type = 2 AND ") + kMine + " THEN 1 ELSE 0 END), 0) "
                  "FROM wecom_group_members m WHERE m.team_id = ? AND m.chat_id = ?",
      {week_ago_s, viewer, team.value(), chat_id}));
  const Row& c = counts.rows.at(0);
  out.members_total = c.Int(0);
  out.customers = c.Int(1);
  out.employees = c.Int(2);
  out.joined_7d = c.Int(3);
  out.my_customers = c.Int(4);

  KOI_ASSIGN_OR_RETURN(auto members, db_.Query(
      std::string("SELECT m.member_id, COALESCE(NULLIF(m.name, ''), e.name, k.name, m.member_id), m.type, "
                  "m.join_time, m.join_scene, CASE WHEN m.type = 2 AND ") + kMine + " THEN 1 ELSE 0 END "
                  "FROM wecom_group_members m LEFT JOIN wecom_employees e ON m.type = 1 AND e.team_id = m.team_id AND "
                  "e.userid = m.member_id LEFT JOIN wecom_customers k ON m.type = 2 AND k.team_id = m.team_id AND "
                  "k.external_userid = m.member_id WHERE m.team_id = ? AND m.chat_id = ? "
                  "ORDER BY m.join_time DESC, m.member_id LIMIT ? OFFSET ?",
      {viewer, team.value(), chat_id, int64_t{out.page_size}, static_cast<int64_t>(out.page - 1) * out.page_size}));
  for (const auto& m : members.rows)
    out.members.push_back({.member_id = m.Text(0), .name = m.Text(1), .type = static_cast<int>(m.Int(2)),
                           .join_time_ms = m.Int(3) * 1000, .join_scene = static_cast<int>(m.Int(4)),
                           .my_customer = m.Int(5) != 0});

  KOI_ASSIGN_OR_RETURN(auto tags, db_.Query("SELECT t.id, t.name FROM group_chat_tags c JOIN group_tags t ON t.team_id = "
                                            "c.team_id AND t.id = c.tag_id WHERE c.team_id = ? AND c.chat_id = ? "
                                            "ORDER BY t.name, t.id",
                                            {team.value(), chat_id}));
  for (const auto& t : tags.rows) out.group.tags.push_back({.id = t.Int(0), .name = t.Text(1), .groups = 0});
  return out;
}

Result<std::vector<GroupTag>> GroupService::Tags(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(
      std::string(kTagSelect) + " ORDER BY t.name, t.id", {team.value()}));
  std::vector<GroupTag> out;
  for (const auto& r : rows.rows) out.push_back({.id = r.Int(0), .name = r.Text(1), .groups = r.Int(2)});
  return out;
}

Result<GroupTag> GroupService::TagById(TeamId team, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(
      std::string(kTagSelect) + " AND t.id = ?", {team.value(), id}));
  if (rows.rows.empty()) return Status::NotFound("group_tag_not_found", "no such group tag");
  return GroupTag{.id = rows.rows[0].Int(0), .name = rows.rows[0].Text(1), .groups = rows.rows[0].Int(2)};
}

Result<GroupTag> GroupService::CreateTag(const accounts::Principal& who, std::string_view raw,
                                         const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, GroupTagName(raw));
  int64_t id = 0;
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto n, tx.Query("SELECT COUNT(*) FROM group_tags WHERE team_id = ?", {who.team.value()}));
    if (n.rows.at(0).Int(0) >= kMaxGroupTagsPerTeam)
      return Status::FailedPrecondition("group_tag_limit",
                                        "at most " + std::to_string(kMaxGroupTagsPerTeam) + " group tags per team");
    KOI_ASSIGN_OR_RETURN(auto ins, tx.Query("INSERT INTO group_tags (team_id, name, created_by, created_at) VALUES "
                                            "(?, ?, ?, ?) RETURNING id",
                                            {who.team.value(), name, who.account.value(), clock_.NowMillis()}));
    id = ins.rows.at(0).Int(0);
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "group_tag.created",
                                                 std::to_string(id), client.ip, name);
  });
  if (!s.ok()) return NameTaken(s, name);
  return GroupTag{.id = id, .name = name, .groups = 0};
}

Result<GroupTag> GroupService::RenameTag(const accounts::Principal& who, int64_t id, std::string_view raw,
                                         const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, GroupTagName(raw));
  KOI_ASSIGN_OR_RETURN(auto was, TagById(who.team, id));
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE group_tags SET name = ? WHERE team_id = ? AND id = ?",
                                {name, who.team.value(), id}));
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "group_tag.renamed", std::to_string(id),
                                                 client.ip, was.name + " → " + name);
  });
  if (!s.ok()) return NameTaken(s, name);
  was.name = name;
  return was;
}

Status GroupService::DeleteTag(const accounts::Principal& who, int64_t id, const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(auto was, TagById(who.team, id));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM group_chat_tags WHERE team_id = ? AND tag_id = ?", {who.team.value(), id}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM group_tags WHERE team_id = ? AND id = ?", {who.team.value(), id}));
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "group_tag.deleted", std::to_string(id),
                                                 client.ip, was.name + " (" + std::to_string(was.groups) + " groups)");
  });
}

Result<int64_t> GroupService::TagGroups(const accounts::Principal& who, const std::vector<std::string>& chat_ids,
                                        const std::vector<int64_t>& add, const std::vector<int64_t>& remove) {
  if (chat_ids.empty() || chat_ids.size() > kMaxGroupsPerTagging)
    return Status::InvalidArgument("group_tags_invalid",
                                   "chat_ids: 1 to " + std::to_string(kMaxGroupsPerTagging) + " groups");
  if (add.empty() && remove.empty())
    return Status::InvalidArgument("group_tags_invalid", "add or remove at least one tag");
  for (int64_t t : add)
    if (std::find(remove.begin(), remove.end(), t) != remove.end())
      return Status::InvalidArgument("group_tags_invalid", "a tag cannot be added and removed at once");
  std::set<int64_t> tags(add.begin(), add.end());
  tags.insert(remove.begin(), remove.end());
  for (int64_t t : tags) KOI_RETURN_IF_ERROR(TagById(who.team, t).status());
  std::set<std::string> unique(chat_ids.begin(), chat_ids.end());
  const std::vector<std::string> chats(unique.begin(), unique.end());
  std::vector<Value> params{who.team.value()};
  const std::string in = storage::InList(params, chats);
  KOI_ASSIGN_OR_RETURN(auto known, db_.Query("SELECT chat_id FROM wecom_group_chats WHERE team_id = ? AND chat_id IN (" +
                                             in + ")", params));
  if (known.rows.size() != chats.size()) {
    std::set<std::string> found;
    for (const auto& r : known.rows) found.insert(r.Text(0));
    for (const auto& c : chats)
      if (!found.count(c)) return Status::NotFound("group_not_found", "no such customer group: " + c);
  }
  int64_t changed = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    changed = 0;
    for (const auto& chat : chats) {
      int64_t n = 0;
      for (int64_t t : add) {
        KOI_ASSIGN_OR_RETURN(auto r, tx.Query("INSERT INTO group_chat_tags (team_id, chat_id, tag_id) VALUES (?, ?, ?) "
                                              "ON CONFLICT DO NOTHING", {who.team.value(), chat, t}));
        n += r.affected_rows;
      }
      for (int64_t t : remove) {
        KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM group_chat_tags WHERE team_id = ? AND chat_id = ? AND "
                                              "tag_id = ?", {who.team.value(), chat, t}));
        n += r.affected_rows;
      }
      changed += n > 0;
    }
    return Status::Ok();
  }));
  return changed;
}

}  // namespace koi::customers
