#include "scenario.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>

#include "http/envelope.h"
#include "http/target.h"
#include "rules/mass_quota.h"
#include "suite.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "world.h"

namespace koi::sandbox {
namespace {

namespace json = boost::json;
using storage::Value;

Status NothingToActOn(const std::string& what) {
  return Status::NotFound("nothing_to_act_on", "the world has no " + what + " for this action");
}

std::string Digits(std::mt19937_64& rng, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>('0' + rng() % 10);
  return out;
}

// A member as the number MassQuota compares: FNV-1a of the userid, the same in every run and build.
uint32_t MemberNumber(const std::string& userid) {
  uint32_t h = 2166136261u;
  for (unsigned char c : userid) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

const std::set<std::string>& NumericFields() {
  static const std::set<std::string> s{"JoinScene", "QuitScene", "MemChangeCnt"};
  return s;
}

}  // namespace

const std::vector<std::string>& Scenario::Actions() {
  static const std::vector<std::string> a{
      "add-customer",  "add-existing",   "edit-customer", "employee-deletes", "customer-deletes", "join-group",
      "leave-group",   "rename-group",   "create-group",  "dismiss-group",    "create-tag",       "rename-tag",
      "delete-tag",    "shuffle-tags",   "hire",          "update-employee",  "resign",
      // Mass messages: kept out of Script()'s mix, so the scripts of existing seeds stay what they were.
      "send-mass-message", "personal-mass-message"};
  return a;
}

std::string Scenario::Arg(const std::map<std::string, std::string>& args, const std::string& key) const {
  auto it = args.find(key);
  return it == args.end() ? std::string() : it->second;
}

Result<std::vector<std::string>> Scenario::PickRow(storage::Session& tx, const std::string& from_where,
                                                   const std::string& columns,
                                                   const std::vector<Value>& params) {
  KOI_ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*) FROM " + from_where, params));
  const int64_t n = count.rows.at(0).Int(0);
  if (n == 0) return std::vector<std::string>();
  const size_t ncols = static_cast<size_t>(std::count(columns.begin(), columns.end(), ',')) + 1;
  std::string order;
  for (size_t i = 1; i <= ncols; ++i) order += (i > 1 ? ", " : "") + std::to_string(i);
  // The offset is spliced in as a number (not a parameter): GCC 12 misreads a pushed-back variant here.
  const int64_t offset = static_cast<int64_t>(rng_() % static_cast<uint64_t>(n));
  KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT " + columns + " FROM " + from_where + " ORDER BY " + order +
                                            " LIMIT 1 OFFSET " + std::to_string(offset),
                                        params));
  std::vector<std::string> out;
  for (size_t i = 0; i < r.rows.at(0).size(); ++i) out.push_back(r.rows[0].Text(i));
  return out;
}

Result<int64_t> Scenario::Queue(storage::Session& tx, const std::string& event, const std::string& change_type,
                                std::vector<std::pair<std::string, std::string>> fields,
                                const std::vector<std::pair<std::string, std::vector<std::string>>>& lists) {
  KOI_ASSIGN_OR_RETURN(auto corp, tx.Query("SELECT callback_url FROM corps WHERE corp_id = ?", {corp_}));
  if (corp.rows.empty()) return Status::NotFound("corp_not_found", "no corp " + corp_ + " in this world");
  if (corp.rows[0].Text(0).empty()) return int64_t{0};  // no callback URL configured: WeCom sends nothing
  // An app installed with a visible range hears only about its members and the groups they own.
  KOI_ASSIGN_OR_RETURN(auto scope, InstallScope(tx, corp_));
  if (!scope.all) {
    for (const auto& [name, value] : fields) {
      if (name == "UserID" && !scope.SeesUser(value)) return int64_t{0};
      if (name == "ChatId") {
        KOI_ASSIGN_OR_RETURN(auto owner, tx.Query("SELECT owner FROM group_chats WHERE corp_id = ? AND chat_id = ?",
                                                  {corp_, value}));
        if (!owner.rows.empty() && !scope.SeesUser(owner.rows[0].Text(0))) return int64_t{0};
      }
    }
  }
  std::vector<wecom::XmlField> xml{{"ToUserName", corp_},
                                   {"FromUserName", "sys"},
                                   {"CreateTime", std::to_string(clock_.NowSeconds()), true},
                                   {"MsgType", "event"},
                                   {"Event", event},
                                   {"ChangeType", change_type}};
  for (auto& [name, value] : fields) xml.push_back({name, value, NumericFields().count(name) > 0});
  KOI_ASSIGN_OR_RETURN(auto ins, tx.Query("INSERT INTO callback_outbox (corp_id, message, created_at) VALUES (?, ?, ?) "
                                          "RETURNING id",
                                          {corp_, wecom::BuildXmlMessage(xml, lists), clock_.NowMillis()}));
  return ins.rows.at(0).Int(0);
}

Result<ScenarioEvent> Scenario::Run(const std::string& action, const std::map<std::string, std::string>& args) {
  if (std::find(Actions().begin(), Actions().end(), action) == Actions().end())
    return Status::InvalidArgument("unknown_action", "unknown scenario action \"" + action + "\"");
  ScenarioEvent ev{.action = action};
  const int64_t now = clock_.NowSeconds();
  const std::string active_employee = "employees WHERE corp_id = ? AND status = 1 AND customer_contact = 1";
  const std::string active_follow = "follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE "
                                    "f.corp_id = ? AND e.status = 1";
  // Each action is one transaction: the change and its callback commit together.
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    ev.ids.clear();
    auto pick_or = [&](const std::string& key, const std::string& from, const std::string& col,
                       const std::string& what) -> Result<std::string> {
      std::string v = Arg(args, key);
      if (!v.empty()) return v;
      KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, from, col, {corp_}));
      if (row.empty()) return NothingToActOn(what);
      return row[0];
    };
    auto queue = [&](const std::string& event, const std::string& change,
                     std::vector<std::pair<std::string, std::string>> fields,
                     const std::vector<std::pair<std::string, std::vector<std::string>>>& lists = {}) -> Status {
      ev.event = event;
      ev.change_type = change;
      KOI_ASSIGN_OR_RETURN(ev.outbox_id, Queue(tx, event, change, std::move(fields), lists));
      return Status::Ok();
    };
    auto new_version = [&](const std::string& chat) -> Result<std::pair<std::string, std::string>> {
      KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT member_version FROM group_chats WHERE corp_id = ? AND chat_id = ?",
                                            {corp_, chat}));
      if (r.rows.empty()) return NothingToActOn("group " + chat);
      std::string next = RandomId(rng_, "", 32);
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE group_chats SET member_version = ? WHERE corp_id = ? AND chat_id = ?",
                                  {next, corp_, chat}));
      return std::pair{r.rows[0].Text(0), next};
    };

    if (action == "add-customer" || action == "add-existing") {
      KOI_ASSIGN_OR_RETURN(std::string userid, pick_or("userid", active_employee, "userid", "active employee"));
      std::string ext = Arg(args, "external_userid");
      if (action == "add-customer") {
        Person p = RandomPerson(rng_);
        ext = RandomId(rng_, "wm", 26);
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customers (corp_id, external_userid, name, type, gender, unionid, "
                                    "corp_name, position) VALUES (?, ?, ?, 1, ?, ?, '', '')",
                                    {corp_, ext, p.name, int64_t{p.gender}, RandomId(rng_, "o", 27)}));
      } else if (ext.empty()) {
        KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, "customers WHERE corp_id = ?", "external_userid", {corp_}));
        if (row.empty()) return NothingToActOn("customer");
        ext = row[0];
      }
      KOI_ASSIGN_OR_RETURN(auto have, tx.Query("SELECT 1 FROM follows WHERE corp_id = ? AND userid = ? AND "
                                               "external_userid = ?",
                                               {corp_, userid, ext}));
      if (!have.rows.empty()) return NothingToActOn("customer who does not follow " + userid + " yet");
      // Capacity (rule pack §3): the member's customers, and the corp's for a customer new to the corp.
      KOI_ASSIGN_OR_RETURN(auto mine, tx.Query("SELECT COUNT(*) FROM follows WHERE corp_id = ? AND userid = ?",
                                               {corp_, userid}));
      if (mine.rows[0].Int(0) >= pack_.capacity.member)
        return Status::FailedPrecondition("member_capacity_reached",
                                          userid + " already has " + std::to_string(pack_.capacity.member) +
                                              " customers, the most the rule pack allows");
      KOI_ASSIGN_OR_RETURN(auto known, tx.Query("SELECT 1 FROM follows WHERE corp_id = ? AND external_userid = ? LIMIT 1",
                                                {corp_, ext}));
      if (known.rows.empty()) {
        KOI_ASSIGN_OR_RETURN(auto corp, tx.Query("SELECT verified, (SELECT COUNT(DISTINCT external_userid) FROM follows "
                                                 "WHERE corp_id = ?) FROM corps WHERE corp_id = ?",
                                                 {corp_, corp_}));
        const int64_t cap = corp.rows.at(0).Int(0) ? pack_.capacity.corp_verified : pack_.capacity.corp_unverified;
        if (corp.rows[0].Int(1) >= cap)
          return Status::FailedPrecondition("corp_capacity_reached",
                                            "the corp already has " + std::to_string(cap) +
                                                " customers, the most the rule pack allows");
      }
      std::string state = Arg(args, "state");
      if (state.empty() && rng_() % 100 < 70) state = RandomState(rng_);
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO follows (corp_id, userid, external_userid, remark, description, "
                                  "createtime, add_way, state, oper_userid, remark_mobiles, remark_corp_name) VALUES "
                                  "(?, ?, ?, '', '', ?, 1, ?, ?, '[]', '')",
                                  {corp_, userid, ext, now, state, ext}));
      // A channel live code tags whoever scans it.
      if (!state.empty()) {
        KOI_ASSIGN_OR_RETURN(auto tag, PickRow(tx, "tags WHERE corp_id = ?", "tag_id", {corp_}));
        if (!tag.empty())
          KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO follow_tags (corp_id, userid, external_userid, tag_id) VALUES (?, "
                                      "?, ?, ?)",
                                      {corp_, userid, ext, tag[0]}));
      }
      ev.ids = {{"userid", userid}, {"external_userid", ext}};
      return queue("change_external_contact", "add_external_contact",
                   {{"UserID", userid}, {"ExternalUserID", ext}, {"State", state},
                    {"WelcomeCode", RandomId(rng_, "", 43)}});
    }

    if (action == "edit-customer" || action == "employee-deletes" || action == "customer-deletes") {
      std::string userid = Arg(args, "userid"), ext = Arg(args, "external_userid");
      if (userid.empty() || ext.empty()) {
        KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, active_follow, "f.userid, f.external_userid", {corp_}));
        if (row.empty()) return NothingToActOn("customer relationship");
        userid = row[0];
        ext = row[1];
      }
      ev.ids = {{"userid", userid}, {"external_userid", ext}};
      if (action == "edit-customer") {
        static const char* kRemarks[] = {"老客户", "意向强", "已到店", "VIP会员", "待回访", "价格敏感"};
        KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE follows SET remark = ?, description = ? WHERE corp_id = ? AND "
                                              "userid = ? AND external_userid = ?",
                                              {std::string(kRemarks[rng_() % 6]) + Digits(rng_, 2),
                                               std::string("跟进于") + std::to_string(now), corp_, userid, ext}));
        if (r.affected_rows == 0) return NothingToActOn("relationship " + userid + "/" + ext);
        // And a corp tag is toggled, as an employee does from the sidebar.
        KOI_ASSIGN_OR_RETURN(auto tag, PickRow(tx, "tags WHERE corp_id = ?", "tag_id", {corp_}));
        if (!tag.empty()) {
          KOI_ASSIGN_OR_RETURN(auto del, tx.Query("DELETE FROM follow_tags WHERE corp_id = ? AND userid = ? AND "
                                                  "external_userid = ? AND tag_id = ?",
                                                  {corp_, userid, ext, tag[0]}));
          if (del.affected_rows == 0)
            KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO follow_tags (corp_id, userid, external_userid, tag_id) VALUES "
                                        "(?, ?, ?, ?)",
                                        {corp_, userid, ext, tag[0]}));
        }
        return queue("change_external_contact", "edit_external_contact", {{"UserID", userid}, {"ExternalUserID", ext}});
      }
      KOI_ASSIGN_OR_RETURN(auto del, tx.Query("DELETE FROM follows WHERE corp_id = ? AND userid = ? AND "
                                              "external_userid = ?",
                                              {corp_, userid, ext}));
      if (del.affected_rows == 0) return NothingToActOn("relationship " + userid + "/" + ext);
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM follow_tags WHERE corp_id = ? AND userid = ? AND external_userid = ?",
                                  {corp_, userid, ext}));
      return queue("change_external_contact",
                   action == "employee-deletes" ? "del_external_contact" : "del_follow_user",
                   {{"UserID", userid}, {"ExternalUserID", ext}});
    }

    if (action == "join-group") {
      KOI_ASSIGN_OR_RETURN(std::string chat, pick_or("chat_id", "group_chats WHERE corp_id = ?", "chat_id", "group"));
      KOI_ASSIGN_OR_RETURN(auto size, tx.Query("SELECT COUNT(*) FROM group_members WHERE corp_id = ? AND chat_id = ?",
                                               {corp_, chat}));
      // Joining by QR code (scene 3) stops earlier than the group's size where the rule pack says so.
      if (size.rows[0].Int(0) >= pack_.capacity.group_size)
        return Status::FailedPrecondition("group_full", "the group already has " +
                                                            std::to_string(pack_.capacity.group_size) + " members");
      if (size.rows[0].Int(0) >= pack_.capacity.group_qr_join_max)
        return Status::FailedPrecondition("group_qr_join_full",
                                          "the group has " + std::to_string(pack_.capacity.group_qr_join_max) +
                                              " members: joining by QR code has stopped");
      std::string ext = Arg(args, "external_userid");
      std::string name;
      if (ext.empty()) {
        KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, "customers WHERE corp_id = ?", "external_userid, name", {corp_}));
        if (row.empty()) return NothingToActOn("customer");
        ext = row[0];
        name = row[1];
      }
      KOI_ASSIGN_OR_RETURN(auto in, tx.Query("SELECT 1 FROM group_members WHERE corp_id = ? AND chat_id = ? AND "
                                             "member_id = ?",
                                             {corp_, chat, ext}));
      if (!in.rows.empty()) return NothingToActOn("customer outside group " + chat);
      KOI_ASSIGN_OR_RETURN(auto ver, new_version(chat));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO group_members (corp_id, chat_id, member_id, type, join_time, join_scene, "
                                  "invitor, state, unionid, name) VALUES (?, ?, ?, 2, ?, 3, '', ?, '', ?)",
                                  {corp_, chat, ext, now, RandomState(rng_), name}));
      ev.ids = {{"chat_id", chat}, {"external_userid", ext}};
      return queue("change_external_chat", "update",
                   {{"ChatId", chat}, {"UpdateDetail", "add_member"}, {"JoinScene", "3"}, {"MemChangeCnt", "1"},
                    {"LastMemVer", ver.first}, {"CurMemVer", ver.second}},
                   {{"MemChangeList", {ext}}});
    }

    if (action == "leave-group") {
      KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, "group_members WHERE corp_id = ? AND type = 2", "chat_id, member_id",
                                             {corp_}));
      if (row.empty()) return NothingToActOn("customer in a group");
      KOI_ASSIGN_OR_RETURN(auto ver, new_version(row[0]));
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM group_members WHERE corp_id = ? AND chat_id = ? AND member_id = ?",
                                  {corp_, row[0], row[1]}));
      ev.ids = {{"chat_id", row[0]}, {"external_userid", row[1]}};
      return queue("change_external_chat", "update",
                   {{"ChatId", row[0]}, {"UpdateDetail", "del_member"}, {"QuitScene", "0"}, {"MemChangeCnt", "1"},
                    {"LastMemVer", ver.first}, {"CurMemVer", ver.second}},
                   {{"MemChangeList", {row[1]}}});
    }

    if (action == "rename-group" || action == "dismiss-group") {
      KOI_ASSIGN_OR_RETURN(std::string chat, pick_or("chat_id", "group_chats WHERE corp_id = ?", "chat_id", "group"));
      ev.ids = {{"chat_id", chat}};
      if (action == "rename-group") {
        std::string name = Arg(args, "name");
        if (name.empty()) name = "锦鲤会员群·" + Digits(rng_, 3);
        KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE group_chats SET name = ? WHERE corp_id = ? AND chat_id = ?",
                                              {name, corp_, chat}));
        if (r.affected_rows == 0) return NothingToActOn("group " + chat);
        return queue("change_external_chat", "update", {{"ChatId", chat}, {"UpdateDetail", "change_name"}});
      }
      KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM group_chats WHERE corp_id = ? AND chat_id = ?", {corp_, chat}));
      if (r.affected_rows == 0) return NothingToActOn("group " + chat);
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM group_members WHERE corp_id = ? AND chat_id = ?", {corp_, chat}));
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM group_admins WHERE corp_id = ? AND chat_id = ?", {corp_, chat}));
      return queue("change_external_chat", "dismiss", {{"ChatId", chat}});
    }

    if (action == "create-group") {
      KOI_ASSIGN_OR_RETURN(std::string owner, pick_or("userid", active_employee, "userid", "active employee"));
      std::string chat = RandomId(rng_, "wr", 26);
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO group_chats (corp_id, chat_id, name, owner, create_time, notice, status, "
                                  "member_version) VALUES (?, ?, ?, ?, ?, '', 0, ?)",
                                  {corp_, chat, "新建客户群" + Digits(rng_, 3), owner, now, RandomId(rng_, "", 32)}));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO group_members (corp_id, chat_id, member_id, type, join_time, join_scene, "
                                  "invitor, state, unionid, name) VALUES (?, ?, ?, 1, ?, 1, '', '', '', '')",
                                  {corp_, chat, owner, now}));
      std::set<std::string> in{owner};
      for (int i = 0; i < 3; ++i) {
        KOI_ASSIGN_OR_RETURN(auto row, PickRow(tx, "customers WHERE corp_id = ?", "external_userid, name", {corp_}));
        if (row.empty() || !in.insert(row[0]).second) continue;
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO group_members (corp_id, chat_id, member_id, type, join_time, "
                                    "join_scene, invitor, state, unionid, name) VALUES (?, ?, ?, 2, ?, 1, ?, '', '', ?)",
                                    {corp_, chat, row[0], now, owner, row[1]}));
      }
      ev.ids = {{"chat_id", chat}, {"userid", owner}};
      return queue("change_external_chat", "create", {{"ChatId", chat}});
    }

    if (action == "create-tag" || action == "shuffle-tags") {
      KOI_ASSIGN_OR_RETURN(std::string group, pick_or("group_id", "tag_groups WHERE corp_id = ?", "group_id",
                                                      "tag group"));
      ev.ids = {{"group_id", group}};
      if (action == "create-tag") {
        std::string tag = RandomId(rng_, "et", 20);
        std::string name = Arg(args, "name");
        if (name.empty()) name = "新标签" + Digits(rng_, 4);
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO tags (corp_id, tag_id, group_id, name, create_time, sort) VALUES (?, "
                                    "?, ?, ?, ?, 0)",
                                    {corp_, tag, group, name, now}));
        ev.ids["tag_id"] = tag;
        return queue("change_external_tag", "create", {{"Id", tag}, {"TagType", "tag"}});
      }
      KOI_ASSIGN_OR_RETURN(auto tags, tx.Query("SELECT tag_id FROM tags WHERE corp_id = ? AND group_id = ? ORDER BY "
                                               "tag_id",
                                               {corp_, group}));
      std::vector<std::string> ids;
      for (const auto& t : tags.rows) ids.push_back(t.Text(0));
      std::shuffle(ids.begin(), ids.end(), rng_);
      for (size_t i = 0; i < ids.size(); ++i)
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE tags SET sort = ? WHERE corp_id = ? AND tag_id = ?",
                                    {static_cast<int64_t>(ids.size() - i), corp_, ids[i]}));
      return queue("change_external_tag", "shuffle", {{"Id", group}, {"TagType", "tag_group"}});
    }

    if (action == "rename-tag" || action == "delete-tag") {
      KOI_ASSIGN_OR_RETURN(std::string tag, pick_or("tag_id", "tags WHERE corp_id = ?", "tag_id", "corp tag"));
      ev.ids = {{"tag_id", tag}};
      if (action == "rename-tag") {
        KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE tags SET name = ? WHERE corp_id = ? AND tag_id = ?",
                                              {"改名标签" + Digits(rng_, 4), corp_, tag}));
        if (r.affected_rows == 0) return NothingToActOn("tag " + tag);
        return queue("change_external_tag", "update", {{"Id", tag}, {"TagType", "tag"}});
      }
      KOI_ASSIGN_OR_RETURN(auto g, tx.Query("SELECT group_id FROM tags WHERE corp_id = ? AND tag_id = ?", {corp_, tag}));
      if (g.rows.empty()) return NothingToActOn("tag " + tag);
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM tags WHERE corp_id = ? AND tag_id = ?", {corp_, tag}));
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM follow_tags WHERE corp_id = ? AND tag_id = ?", {corp_, tag}));
      // WeCom has no empty tag groups: deleting a group's last tag deletes the group.
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM tag_groups WHERE corp_id = ? AND group_id = ? AND NOT EXISTS (SELECT 1 "
                                  "FROM tags WHERE corp_id = ? AND group_id = ?)",
                                  {corp_, g.rows[0].Text(0), corp_, g.rows[0].Text(0)}));
      return queue("change_external_tag", "delete", {{"Id", tag}, {"TagType", "tag"}});
    }

    if (action == "send-mass-message") {
      // The member confirms in the WeCom client: one task (userid and msgid), every pending task of a message
      // (msgid) or every pending task of a member (userid). Tasks of cancelled messages can no longer be sent.
      const std::string msgid = Arg(args, "msgid"), userid = Arg(args, "userid");
      if (msgid.empty() && userid.empty())
        return Status::InvalidArgument("missing_argument", "send-mass-message needs a userid or a msgid");
      std::string sql = "SELECT k.msgid, k.userid FROM msg_tasks k JOIN msg_templates t ON t.msgid = k.msgid JOIN "
                        "employees e ON e.corp_id = k.corp_id AND e.userid = k.userid WHERE k.corp_id = ? AND "
                        "k.status = 0 AND t.cancelled = 0 AND e.status = 1";
      std::vector<Value> params{corp_};
      if (!msgid.empty()) {
        sql += " AND k.msgid = ?";
        params.emplace_back(Value(msgid));
      }
      if (!userid.empty()) {
        sql += " AND k.userid = ?";
        params.emplace_back(Value(userid));
      }
      KOI_ASSIGN_OR_RETURN(auto pending, tx.Query(sql + " ORDER BY t.create_time, k.msgid, k.userid", params));
      // Nothing pending (all sent, or the message was cancelled) is a member with nothing to confirm, not an error:
      // the event says so with zero tasks.
      std::vector<std::pair<std::string, std::string>> tasks;
      std::vector<std::string> msgids, userids;
      if (pending.rows.empty()) {
        if (!msgid.empty()) msgids.push_back(msgid);
        if (!userid.empty()) userids.push_back(userid);
      }
      for (const auto& row : pending.rows) {
        tasks.emplace_back(row.Text(0), row.Text(1));
        if (std::find(msgids.begin(), msgids.end(), row.Text(0)) == msgids.end()) msgids.push_back(row.Text(0));
        if (std::find(userids.begin(), userids.end(), row.Text(1)) == userids.end()) userids.push_back(row.Text(1));
      }
      auto joined = [](const std::vector<std::string>& v) {
        std::string out;
        for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
        return out;
      };
      ev.ids = {{"msgid", joined(msgids)}, {"userid", joined(userids)}, {"tasks", std::to_string(tasks.size())}};
      return SendMassTasks(tx, tasks, ev);
    }

    if (action == "personal-mass-message") {
      // An employee's own mass message (create_type 1) sent from the WeCom client at once, to some of their
      // customers or (chat_type "group") of the groups they own; it counts against the same receive limits as the
      // enterprise's. With create_type=0 it is instead an enterprise message an admin created in the WeCom admin
      // console (not through the API: Koi never saw it), assigned to that employee, who confirms it at once.
      const std::string chat_type = Arg(args, "chat_type").empty() ? "single" : Arg(args, "chat_type");
      if (chat_type != "single" && chat_type != "group")
        return Status::InvalidArgument("bad_argument", "chat_type must be single or group");
      const bool group = chat_type == "group";
      const std::string create_type_arg = Arg(args, "create_type");
      if (!create_type_arg.empty() && create_type_arg != "0" && create_type_arg != "1")
        return Status::InvalidArgument("bad_argument", "create_type must be 0 (admin console) or 1 (the employee)");
      const int64_t create_type = create_type_arg == "0" ? 0 : 1;
      KOI_ASSIGN_OR_RETURN(
          std::string userid,
          group ? pick_or("userid", "(SELECT DISTINCT g.owner AS userid FROM group_chats g JOIN employees e ON "
                                    "e.corp_id = g.corp_id AND e.userid = g.owner WHERE g.corp_id = ? AND "
                                    "e.status = 1) m",
                          "userid", "active employee who owns a group")
                : pick_or("userid", "(SELECT DISTINCT f.userid FROM " + active_follow + ") m", "userid",
                          "active employee with customers"));
      int64_t count = 20;
      if (std::string c = Arg(args, "count"); !c.empty()) {
        auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), count);
        if (ec != std::errc() || p != c.data() + c.size() || count < 1)
          return Status::InvalidArgument("bad_argument", "count must be a positive number");
      }
      KOI_ASSIGN_OR_RETURN(auto active, tx.Query("SELECT 1 FROM " + active_employee + " AND userid = ?",
                                                 {corp_, userid}));
      if (active.rows.empty()) return NothingToActOn("active employee " + userid);
      KOI_ASSIGN_OR_RETURN(auto mine, tx.Query(group ? "SELECT chat_id FROM group_chats WHERE corp_id = ? AND "
                                                       "owner = ? ORDER BY chat_id"
                                                     : "SELECT external_userid FROM follows WHERE corp_id = ? AND "
                                                       "userid = ? ORDER BY external_userid",
                                               {corp_, userid}));
      if (mine.rows.empty()) return NothingToActOn((group ? "group owned by " : "customer of ") + userid);
      std::vector<std::string> to;
      for (const auto& row : mine.rows) to.push_back(row.Text(0));
      std::shuffle(to.begin(), to.end(), rng_);
      to.resize(std::min(to.size(), static_cast<size_t>(count)));
      std::sort(to.begin(), to.end());
      std::string text = Arg(args, "text");
      if (text.empty()) text = "本周会员日，到店享新品试用，回复1预约。";
      // Deterministic, yet unique when the same seed runs twice over one world.
      std::string msgid;
      for (;;) {
        msgid = RandomId(rng_, "msg", 27);
        KOI_ASSIGN_OR_RETURN(auto taken, tx.Query("SELECT 1 FROM msg_templates WHERE msgid = ?", {msgid}));
        if (taken.rows.empty()) break;
      }
      // Only an employee's own message has a creator.
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO msg_templates (corp_id, msgid, chat_type, sender, create_type, text, "
                                  "attachments, create_time, cancelled) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, 0)",
                                  {corp_, msgid, chat_type, create_type == 1 ? userid : std::string(), create_type,
                                   text, now}));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO msg_tasks (corp_id, msgid, userid, status, send_time) VALUES (?, ?, ?, "
                                  "0, 0)",
                                  {corp_, msgid, userid}));
      std::vector<std::vector<Value>> results;
      for (const auto& id : to) results.push_back({corp_, msgid, userid, id, int64_t{0}, int64_t{0}});
      KOI_RETURN_IF_ERROR(
          tx.CopyIn("msg_results", {"corp_id", "msgid", "userid", "external_userid", "status", "send_time"}, results));
      ev.ids = {{"msgid", msgid}, {"userid", userid}, {"tasks", "1"}};
      return SendMassTasks(tx, {{msgid, userid}}, ev);
    }

    if (action == "hire") {
      Person p = RandomPerson(rng_);
      std::string userid = p.pinyin;
      for (int n = 2;; ++n) {
        KOI_ASSIGN_OR_RETURN(auto taken, tx.Query("SELECT 1 FROM employees WHERE corp_id = ? AND userid = ?",
                                                  {corp_, userid}));
        if (taken.rows.empty()) break;
        userid = p.pinyin + std::to_string(n);
      }
      KOI_ASSIGN_OR_RETURN(auto dept, PickRow(tx, "departments WHERE corp_id = ?", "id", {corp_}));
      std::string d = dept.empty() ? "1" : dept[0];
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO employees (corp_id, userid, name, departments, main_department, position, "
                                  "gender, mobile, status, customer_contact) VALUES (?, ?, ?, ?, ?, '导购', ?, ?, 1, 1)",
                                  {corp_, userid, p.name, "[" + d + "]", std::stoll(d), int64_t{p.gender},
                                   "139" + Digits(rng_, 8)}));
      ev.ids = {{"userid", userid}};
      return queue("change_contact", "create_user", {{"UserID", userid}});
    }

    // update-employee, resign
    KOI_ASSIGN_OR_RETURN(std::string userid, pick_or("userid", active_employee, "userid", "active employee"));
    ev.ids = {{"userid", userid}};
    if (action == "update-employee") {
      static const char* kPositions[] = {"店长", "高级导购", "客户经理", "区域经理"};
      KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE employees SET position = ?, name = name WHERE corp_id = ? AND "
                                            "userid = ? AND status = 1",
                                            {std::string(kPositions[rng_() % 4]), corp_, userid}));
      if (r.affected_rows == 0) return NothingToActOn("active employee " + userid);
      return queue("change_contact", "update_user", {{"UserID", userid}});
    }
    KOI_ASSIGN_OR_RETURN(auto left, tx.Query("SELECT COUNT(*) FROM " + active_employee, {corp_}));
    if (left.rows[0].Int(0) <= 1) return NothingToActOn("second active employee (the last one cannot resign)");
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE employees SET status = 5 WHERE corp_id = ? AND userid = ? AND "
                                          "status = 1",
                                          {corp_, userid}));
    if (r.affected_rows == 0) return NothingToActOn("active employee " + userid);
    return queue("change_contact", "delete_user", {{"UserID", userid}});
  });
  KOI_RETURN_IF_ERROR(s);
  return ev;
}

Status Scenario::SendMassTasks(storage::Session& tx, const std::vector<std::pair<std::string, std::string>>& tasks,
                               ScenarioEvent& ev) {
  const int64_t now_ms = clock_.NowMillis(), now = now_ms / 1000;
  const rules::MassQuota quota(pack_.mass, now_ms);
  int64_t sent = 0, not_friend = 0, over_limit = 0;
  std::vector<rules::Receipt> prior;
  for (const auto& [msgid, userid] : tasks) {
    KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT create_type, chat_type FROM msg_templates WHERE corp_id = ? AND "
                                          "msgid = ?",
                                          {corp_, msgid}));
    if (t.rows.empty()) return NothingToActOn("mass message " + msgid);
    const rules::MassKind kind = t.rows[0].Int(0) == 0 ? rules::MassKind::kEnterprise : rules::MassKind::kPersonal;
    const std::string chat_type = t.rows[0].Text(1);
    const bool group = chat_type == "group";
    const uint32_t sender = MemberNumber(userid);
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE msg_tasks SET status = 2, send_time = ? WHERE msgid = ? AND userid = ?",
                                {now, msgid, userid}));
    // In recipient order (external_userid, or chat_id for a group message), one at a time, so the outcome is
    // deterministic and a customer or group reached twice in one batch already counts the first message against the
    // second. The second column is null when the member can no longer reach the recipient: the follow relationship,
    // or the group under that owner.
    KOI_ASSIGN_OR_RETURN(auto recipients,
                         tx.Query(group ? "SELECT r.external_userid, g.owner FROM msg_results r LEFT JOIN "
                                          "group_chats g ON g.corp_id = r.corp_id AND g.owner = r.userid AND "
                                          "g.chat_id = r.external_userid WHERE r.msgid = ? AND r.userid = ? AND "
                                          "r.status = 0 ORDER BY r.external_userid"
                                        : "SELECT r.external_userid, f.userid FROM msg_results r LEFT JOIN follows f "
                                          "ON f.corp_id = r.corp_id AND f.userid = r.userid AND f.external_userid = "
                                          "r.external_userid WHERE r.msgid = ? AND r.userid = ? AND r.status = 0 "
                                          "ORDER BY r.external_userid",
                                  {msgid, userid}));
    for (const auto& row : recipients.rows) {
      const std::string to = row.Text(0);
      int64_t status = 1;
      if (row.IsNull(1)) {
        // Since the message was created the customer deleted the member (or the member them), or the group was
        // dismissed or passed to another owner.
        status = 2;
      } else {
        // Customers and groups have separate quotas: only messages of the same chat type count.
        KOI_ASSIGN_OR_RETURN(auto got, tx.Query("SELECT r.send_time, t.create_type, r.userid FROM msg_results r JOIN "
                                                "msg_templates t ON t.msgid = r.msgid WHERE r.corp_id = ? AND "
                                                "r.external_userid = ? AND t.chat_type = ? AND r.status = 1 AND "
                                                "r.send_time >= ?",
                                                {corp_, to, chat_type, quota.horizon_ms() / 1000}));
        prior.clear();
        for (const auto& g : got.rows)
          prior.push_back({.at_ms = g.Int(0) * 1000,
                           .kind = g.Int(1) == 0 ? rules::MassKind::kEnterprise : rules::MassKind::kPersonal,
                           .sender = MemberNumber(g.Text(2))});
        const rules::QuotaVerdict verdict = group ? quota.CheckGroup(prior) : quota.Check(kind, sender, prior);
        if (verdict != rules::QuotaVerdict::kAllowed) status = 3;
      }
      (status == 1 ? sent : status == 2 ? not_friend : over_limit) += 1;
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE msg_results SET status = ?, send_time = ? WHERE msgid = ? AND userid = ? AND "
                                  "external_userid = ?",
                                  {status, status == 1 ? now : int64_t{0}, msgid, userid, to}));
    }
  }
  ev.ids["sent"] = std::to_string(sent);
  ev.ids["not_friend"] = std::to_string(not_friend);
  ev.ids["over_limit"] = std::to_string(over_limit);
  return Status::Ok();  // no callback: WeCom sends none for mass messages
}

Result<std::vector<ScenarioEvent>> Scenario::Script(int count) {
  // A retail corp's day: mostly new customers and edits, some churn, group traffic, the odd tag or staff change.
  static const std::vector<std::pair<std::string, int>> kMix{
      {"add-customer", 24}, {"add-existing", 5},   {"edit-customer", 16}, {"employee-deletes", 7},
      {"customer-deletes", 9}, {"join-group", 12}, {"leave-group", 8},    {"rename-group", 3},
      {"create-group", 2},  {"dismiss-group", 1},  {"create-tag", 2},     {"rename-tag", 2},
      {"delete-tag", 1},    {"shuffle-tags", 1},   {"hire", 2},           {"update-employee", 3},
      {"resign", 2}};
  int total = 0;
  for (const auto& [a, w] : kMix) total += w;
  std::vector<ScenarioEvent> out;
  int misses = 0;
  while (static_cast<int>(out.size()) < count) {
    int r = static_cast<int>(rng_() % total);
    std::string action;
    for (const auto& [a, w] : kMix) {
      if (r < w) {
        action = a;
        break;
      }
      r -= w;
    }
    auto ev = Run(action);
    if (ev.ok()) {
      out.push_back(std::move(*ev));
      misses = 0;
      continue;
    }
    const std::string& reason = ev.status().reason();
    if (reason != "nothing_to_act_on" && reason != "group_full" && reason != "group_qr_join_full" &&
        reason != "member_capacity_reached" && reason != "corp_capacity_reached")
      return ev.status();
    if (++misses > 1000) return ev.status();  // the world is empty
  }
  return out;
}

Result<std::vector<ScenarioEvent>> Scenario::Perform(const std::string& action,
                                                     const std::map<std::string, std::string>& args, int count) {
  if (action == "script") return Script(count);
  KOI_ASSIGN_OR_RETURN(auto ev, Run(action, args));
  return std::vector<ScenarioEvent>{std::move(ev)};
}

Status ConfigureCallback(storage::Database& db, const std::string& corp_id, const std::string& url,
                         const std::string& token, const std::string& encoding_aes_key) {
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("bad_callback_url", "the callback URL must start with http:// or https://");
  KOI_RETURN_IF_ERROR(wecom::MakeCallbackKeys(token, encoding_aes_key, corp_id).status());
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("UPDATE corps SET callback_url = ?, callback_token = ?, callback_aes_key = ? "
                                        "WHERE corp_id = ?",
                                        {url, token, encoding_aes_key, corp_id}));
  if (r.affected_rows == 0) return Status::NotFound("corp_not_found", "no corp " + corp_id + " in this world");
  return Status::Ok();
}

Result<DeliveryStats> CallbackDeliverer::DeliverDue(int limit) {
  DeliveryStats stats;
  // The corps' data callbacks (receiveid: the corp id), then the suites' instruction callbacks (the suite id).
  KOI_RETURN_IF_ERROR(DeliverFrom("SELECT o.id, o.corp_id, o.message, o.attempts, c.callback_url, c.callback_token, "
                                  "c.callback_aes_key FROM callback_outbox o JOIN corps c ON c.corp_id = o.corp_id "
                                  "WHERE o.state = 'pending' AND o.next_at <= ? ORDER BY o.id LIMIT ?",
                                  "callback_outbox", limit, stats));
  KOI_RETURN_IF_ERROR(DeliverFrom("SELECT o.id, o.suite_id, o.message, o.attempts, s.instruction_url, s.token, "
                                  "s.aes_key FROM suite_outbox o JOIN suites s ON s.suite_id = o.suite_id WHERE "
                                  "o.state = 'pending' AND o.next_at <= ? ORDER BY o.id LIMIT ?",
                                  "suite_outbox", limit, stats));
  return stats;
}

Status CallbackDeliverer::DeliverFrom(const std::string& due_sql, const std::string& table, int limit,
                                      DeliveryStats& stats) {
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto due, db_.Query(due_sql, {now, int64_t{limit}}));
  for (const auto& row : due.rows) {
    const int64_t id = row.Int(0), attempts = row.Int(3) + 1;
    const std::string receiver = row.Text(1), url = row.Text(4);
    int status = 0;
    std::string error;
    auto keys = wecom::MakeCallbackKeys(row.Text(5), row.Text(6), receiver);
    if (!keys.ok()) {
      error = keys.status().message();
    } else {
      auto cipher = wecom::EncryptCallback(*keys, row.Text(2));
      if (!cipher.ok()) {
        error = cipher.status().message();
      } else {
        const std::string ts = std::to_string(clock_.NowSeconds()), nonce = Digits(rng_, 10);
        const std::string sig = wecom::CallbackSignature(keys->token, ts, nonce, *cipher);
        const std::string target = url + (url.find('?') == std::string::npos ? "?" : "&") + "msg_signature=" + sig +
                                   "&timestamp=" + ts + "&nonce=" + nonce;
        auto posted = post_(target, wecom::BuildEncryptedEnvelope({receiver, *cipher, ""}));
        if (posted.ok()) status = *posted;
        else error = posted.status().message();
      }
    }
    std::string state = "pending";
    if (status == 200) {
      state = "delivered";
      ++stats.delivered;
    } else if (attempts >= kMaxTries) {
      state = "failed";
      ++stats.failed;
    } else {
      ++stats.retrying;
    }
    if (error.empty() && status != 200) error = "HTTP " + std::to_string(status);
    KOI_RETURN_IF_ERROR(db_.Exec("UPDATE " + table + " SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
                                 "last_error = ? WHERE id = ?",
                                 {state, attempts, now + kRetryAfterMs, int64_t{status}, error.substr(0, 300), id}));
  }
  return Status::Ok();
}

void AddScenarioRoutes(http::Router& router, storage::Database& db, const Clock& clock, const rules::RulePack& pack) {
  using http::JsonError;
  using http::JsonOk;
  router.Add("POST", "/sandbox/scenario/:action", [&db, &clock, pack](http::Request& r) {
    auto body = http::ParseJsonBody(r);
    if (!body.ok()) return JsonError(body.status());
    if (!body->is_object()) return JsonError(Status::InvalidArgument("invalid_argument", "send a JSON object"));
    std::map<std::string, std::string> args;
    int64_t seed = static_cast<int64_t>(std::random_device{}()), count = 1;
    std::string corp = "wwkoidemo0000001", pack_name;
    for (const auto& [k, v] : body->as_object()) {
      if (k == "seed" && v.is_int64()) seed = v.as_int64();
      else if (k == "count" && v.is_int64()) count = v.as_int64();
      else if (k == "corp" && v.is_string()) corp = std::string(v.as_string());
      else if (k == "rule_pack" && v.is_string()) pack_name = std::string(v.as_string());
      else if (v.is_string()) args[std::string(k)] = std::string(v.as_string());
    }
    if (count < 1 || count > 100000)
      return JsonError(Status::InvalidArgument("invalid_argument", "count must be 1..100000"));
    // personal-mass-message reads its number of recipients from the args.
    if (const auto* c = body->as_object().if_contains("count"); c != nullptr && c->is_int64())
      args["count"] = std::to_string(count);
    // The pack the sandbox serves, unless the request names another.
    rules::RulePack use = pack;
    if (!pack_name.empty()) {
      auto found = rules::FindRulePack(pack_name);
      if (!found.ok()) return JsonError(found.status());
      use = std::move(*found);
    }
    Scenario scenario(db, clock, corp, static_cast<uint64_t>(seed));
    scenario.UseRulePack(use);
    auto events = scenario.Perform(r.path_params.at("action"), args, static_cast<int>(count));
    if (!events.ok()) return JsonError(events.status());
    json::array items;
    for (const auto& e : *events) {
      json::object ids;
      for (const auto& [k, v] : e.ids) ids[k] = v;
      items.push_back(json::object{{"action", e.action}, {"event", e.event}, {"change_type", e.change_type},
                                   {"ids", std::move(ids)}, {"callback_id", e.outbox_id}});
    }
    return JsonOk(json::object{{"events", std::move(items)}});
  });
  router.Add("POST", "/sandbox/callback-config", [&db](http::Request& r) {
    auto body = http::ParseJsonBody(r);
    if (!body.ok()) return JsonError(body.status());
    if (!body->is_object()) return JsonError(Status::InvalidArgument("invalid_argument", "send a JSON object"));
    auto str = [&](const char* k) {
      auto* v = body->as_object().if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    Status s = ConfigureCallback(db, str("corp"), str("url"), str("token"), str("aes_key"));
    return s.ok() ? JsonOk(json::object{{"corp", str("corp")}, {"url", str("url")}}) : JsonError(s);
  });
  router.Add("GET", "/sandbox/callbacks", [&db](http::Request& r) {
    auto counts = db.Query("SELECT state, COUNT(*) FROM callback_outbox WHERE corp_id = ? GROUP BY state",
                           {r.Query("corp", "wwkoidemo0000001")});
    auto recent = db.Query("SELECT id, state, attempts, last_status, last_error, created_at FROM callback_outbox WHERE "
                           "corp_id = ? ORDER BY id DESC LIMIT 50",
                           {r.Query("corp", "wwkoidemo0000001")});
    if (!counts.ok()) return JsonError(counts.status());
    if (!recent.ok()) return JsonError(recent.status());
    json::object by_state{{"pending", 0}, {"delivered", 0}, {"failed", 0}};
    for (const auto& row : counts->rows) by_state[row.Text(0)] = row.Int(1);
    json::array items;
    for (const auto& row : recent->rows)
      items.push_back(json::object{{"id", row.Int(0)}, {"state", row.Text(1)}, {"attempts", row.Int(2)},
                                   {"last_status", row.Int(3)}, {"last_error", row.Text(4)},
                                   {"created_at", row.Int(5)}});
    return JsonOk(json::object{{"counts", std::move(by_state)}, {"recent", std::move(items)}});
  });
}

}  // namespace koi::sandbox
