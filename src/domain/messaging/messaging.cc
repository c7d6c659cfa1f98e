#include "domain/messaging/messaging.h"

#include <boost/json.hpp>
#include <roaring/roaring.hh>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include "core/utf8.h"
#include "domain/messaging/content.h"
#include "domain/messaging/planner.h"

namespace koi::messaging {
namespace {

namespace json = boost::json;
using storage::Row;
using storage::Value;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kDayMs = 86'400'000;
constexpr size_t kInChunk = 500;       // ids per IN list
constexpr size_t kScanAbove = 20'000;  // a larger target reads the team's relationships in one scan

// The kind of a message made outside Koi, by WeCom's create_type (0 an admin in the WeCom admin console, 1 an
// employee's own).
rules::MassKind OutsideKind(int64_t create_type) {
  return create_type == 0 ? rules::MassKind::kEnterprise : rules::MassKind::kPersonal;
}

constexpr char kColumns[] =
    "m.id, m.kind, m.title, m.content, m.target, m.state, m.rule_pack, m.send_at, m.targeted, m.created_by, "
    "m.created_at, m.updated_at, m.submitted_at, m.settled_at, m.cancelled_at, m.reminders, m.error, m.sender_userid, "
    "m.plan, m.team_id, COALESCE(a.name, ''), m.audience";
constexpr char kFrom[] = " FROM mass_messages m LEFT JOIN accounts a ON a.id = m.created_by";
enum Col { kId, kKind, kTitle, kContent, kTarget, kState, kPack, kSendAt, kTargeted, kCreatedBy, kCreatedAt,
           kUpdatedAt, kSubmittedAt, kSettledAt, kCancelledAt, kReminders, kError, kSender, kPlan, kTeam,
           kCreatorName, kAudience };

size_t CharCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool Retryable(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kInternal ||
         s.code() == StatusCode::kDeadlineExceeded || s.code() == StatusCode::kResourceExhausted ||
         s.code() == StatusCode::kAborted;
}

std::vector<int64_t> ParseTimes(const std::string& text) {
  std::vector<int64_t> out;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& x : v.as_array())
    if (x.is_int64()) out.push_back(x.as_int64());
  return out;
}

// The rows of `sql` + " AND <column> IN (…)" for every slice of `values`.
template <typename T>
Status ForEachSlice(storage::Database& db, const std::string& sql, const std::vector<Value>& base,
                    const std::vector<T>& values, const std::string& column, const std::string& tail,
                    const std::function<void(const Row&)>& fn) {
  for (size_t i = 0; i < values.size(); i += kInChunk) {
    std::vector<T> part(values.begin() + i, values.begin() + std::min(values.size(), i + kInChunk));
    std::vector<Value> params = base;
    std::string q = sql + " AND " + column + " IN (" + storage::InList(params, part) + ")" + tail;
    KOI_ASSIGN_OR_RETURN(auto rows, db.Query(q, params));
    for (const auto& r : rows.rows) fn(r);
  }
  return Status::Ok();
}

std::vector<int64_t> Widen(const std::vector<uint32_t>& v) { return std::vector<int64_t>(v.begin(), v.end()); }

}  // namespace

struct MessagingService::Loaded {
  Row row;
  TeamId team;
};

// ----- settings --------------------------------------------------------------------------------------------------

Result<RulePackSetting> MessagingService::RulePackOf(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT pack, overrides FROM team_rule_packs WHERE team_id = ?",
                                            {team.value()}));
  RulePackSetting out;
  out.pack = rows.rows.empty() ? rules::DefaultRulePack().name : rows.rows[0].Text(0);
  if (!rows.rows.empty()) {
    boost::system::error_code ec;
    auto v = json::parse(rows.rows[0].Text(1), ec);
    if (!ec && v.is_object())
      for (const auto& [k, x] : v.as_object())
        if (x.is_int64()) out.overrides[std::string(k)] = x.as_int64();
  }
  KOI_ASSIGN_OR_RETURN(auto base, rules::FindRulePack(out.pack));
  KOI_ASSIGN_OR_RETURN(out.effective, rules::ApplyOverrides(base, out.overrides));
  return out;
}

Result<RulePackSetting> MessagingService::SetRulePack(const accounts::Principal& who, std::string_view pack,
                                                      const std::map<std::string, int64_t>& overrides) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(auto base, rules::FindRulePack(pack));
  KOI_RETURN_IF_ERROR(rules::ApplyOverrides(base, overrides).status());
  json::object o;
  for (const auto& [k, v] : overrides) o[k] = v;
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Exec(
      "INSERT INTO team_rule_packs (team_id, pack, overrides, updated_by, updated_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (team_id) DO UPDATE SET pack = excluded.pack, overrides = excluded.overrides, "
      "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
      {who.team.value(), std::string(pack), json::serialize(o), who.account.value(), now}));
  return RulePackOf(who.team);
}

// ----- planning ----------------------------------------------------------------------------------------------------

namespace {

struct Facts {
  PlanInput input;
  std::vector<std::string> names;  // employee index -> name
  std::unordered_map<std::string, uint32_t> employee_index;
};

// Employees of the team; `only` restricts who may send (a personal message's employee).
Status LoadEmployees(storage::Database& db, TeamId team, const std::string& only, Facts& f) {
  KOI_ASSIGN_OR_RETURN(auto rows, db.Query("SELECT userid, name, status FROM wecom_employees WHERE team_id = ? "
                                           "ORDER BY userid", {team.value()}));
  for (const auto& r : rows.rows) {
    f.employee_index[r.Text(0)] = static_cast<uint32_t>(f.input.employees.size());
    f.input.employees.push_back(r.Text(0));
    f.names.push_back(r.Text(1));
    // Only an active employee can confirm a message in WeCom.
    f.input.may_send.push_back(r.Int(2) == 1 && (only.empty() || only == r.Text(0)));
  }
  return Status::Ok();
}

Status LoadFollows(storage::Database& db, TeamId team, Facts& f) {
  const auto& target = f.input.customers;
  auto add = [&f, &target](const Row& r) {
    const auto customer = static_cast<uint32_t>(r.Int(0));
    if (!std::binary_search(target.begin(), target.end(), customer)) return;
    auto it = f.employee_index.find(r.Text(1));
    if (it == f.employee_index.end()) return;
    f.input.follows.push_back({.customer = customer, .employee = it->second, .createtime = r.Int(2),
                               .active = r.IsNull(3), .deleted_by_customer = r.Text(4) == "customer",
                               .deleted_at = r.Int(3)});
  };
  const std::string sql =
      "SELECT k.id, f.userid, f.createtime, f.deleted_at, f.deleted_by FROM wecom_follows f JOIN customer_keys k ON "
      "k.team_id = f.team_id AND k.external_userid = f.external_userid WHERE f.team_id = ?";
  if (target.size() > kScanAbove) {
    KOI_ASSIGN_OR_RETURN(auto rows, db.Query(sql, {team.value()}));
    for (const auto& r : rows.rows) add(r);
    return Status::Ok();
  }
  return ForEachSlice(db, sql, {team.value()}, Widen(target), "k.id", "", add);
}

// The relationship facts of a large target from the segment index: per customer, its active relationships with
// employees who may send (the newest one marked, so the planner picks it), or for customers with none, whether the
// customer ended the last one. Only customers whose newest relationship is with an employee who may not send (a
// resigned one) are read from the database, with their real add times.
Status FactsFromIndex(segments::SegmentIndex& index, storage::Database& db, TeamId team, Facts& f) {
  const Roaring target(f.input.customers.size(), f.input.customers.data());
  Roaring fallback;
  std::vector<std::pair<uint32_t, Roaring>> senders;  // employee index, its active target customers
  std::vector<std::pair<uint32_t, Roaring>> newest;
  KOI_RETURN_IF_ERROR(index.SenderFacts(
      team, target,
      [&](const std::string& userid, const Roaring& active, const Roaring& latest) {
        auto it = f.employee_index.find(userid);
        if (it == f.employee_index.end() || !f.input.may_send[it->second]) {
          fallback |= latest;
          return;
        }
        senders.emplace_back(it->second, active);
        newest.emplace_back(it->second, latest);
      },
      [&](const Roaring& none, const Roaring& ended_by_customer) {
        for (uint32_t c : none)
          f.input.follows.push_back({.customer = c, .employee = 0, .createtime = 0, .active = false,
                                     .deleted_by_customer = ended_by_customer.contains(c), .deleted_at = 1});
      }));
  for (size_t i = 0; i < senders.size(); ++i) {
    const auto& [e, active] = senders[i];
    const Roaring& latest = newest[i].second;
    for (uint32_t c : active) {
      if (fallback.contains(c)) continue;
      f.input.follows.push_back({.customer = c, .employee = e, .createtime = latest.contains(c) ? 2 : 1});
    }
  }
  if (fallback.isEmpty()) return Status::Ok();
  Facts rest;
  rest.employee_index = f.employee_index;
  rest.input.customers.resize(fallback.cardinality());
  fallback.toUint32Array(rest.input.customers.data());
  KOI_RETURN_IF_ERROR(LoadFollows(db, team, rest));
  f.input.follows.insert(f.input.follows.end(), rest.input.follows.begin(), rest.input.follows.end());
  return Status::Ok();
}

// What counts against the quotas from `horizon_ms` on (other messages' recipients marked `counts`).
Status LoadReceipts(storage::Database& db, TeamId team, int64_t horizon_ms, int64_t except_message, Facts& f) {
  KOI_ASSIGN_OR_RETURN(auto rows, db.Query(
      "SELECT customer_id, counted_at FROM mass_message_recipients WHERE team_id = ? AND counts = 1 AND counted_at >= "
      "? AND customer_id >= 0 AND message_id <> ?", {team.value(), horizon_ms, except_message}));
  const auto& target = f.input.customers;
  for (const auto& r : rows.rows) {
    const auto customer = static_cast<uint32_t>(r.Int(0));
    if (!std::binary_search(target.begin(), target.end(), customer)) continue;
    // Everything Koi submits goes through add_msg_template: WeCom counts it as an enterprise message.
    f.input.receipts.push_back({customer, rules::Receipt{r.Int(1), rules::MassKind::kEnterprise, 0}});
  }
  // Messages made outside Koi (synced by SyncOutside): employees' own, and admins' in the WeCom admin console.
  KOI_ASSIGN_OR_RETURN(auto personal, db.Query("SELECT customer_id, sent_at, userid, create_type FROM "
                                               "personal_mass_receipts WHERE team_id = ? AND sent_at >= ? AND "
                                               "customer_id >= 0", {team.value(), horizon_ms}));
  for (const auto& r : personal.rows) {
    const auto customer = static_cast<uint32_t>(r.Int(0));
    if (!std::binary_search(target.begin(), target.end(), customer)) continue;
    auto e = f.employee_index.find(r.Text(2));
    const uint32_t sender = e == f.employee_index.end() ? kNoSender : e->second;
    f.input.receipts.push_back({customer, rules::Receipt{r.Int(1), OutsideKind(r.Int(3)), sender}});
  }
  return Status::Ok();
}

// What counts against the group quota of the `chats` (ascending) from `horizon_ms` on: other messages' group
// recipients and the group messages made outside Koi. Aligned with `chats`.
Result<std::vector<std::vector<rules::Receipt>>> LoadGroupReceipts(storage::Database& db, TeamId team,
                                                                   int64_t horizon_ms, int64_t except_message,
                                                                   const std::vector<std::string>& chats) {
  std::vector<std::vector<rules::Receipt>> out(chats.size());
  auto add = [&](const std::string& chat, rules::Receipt r) {
    auto it = std::lower_bound(chats.begin(), chats.end(), chat);
    if (it != chats.end() && *it == chat) out[it - chats.begin()].push_back(r);
  };
  KOI_ASSIGN_OR_RETURN(auto rows, db.Query(
      "SELECT external_userid, counted_at FROM mass_message_recipients WHERE team_id = ? AND counts = 1 AND counted_at "
      ">= ? AND customer_id = -1 AND message_id <> ?", {team.value(), horizon_ms, except_message}));
  for (const auto& r : rows.rows) add(r.Text(0), {r.Int(1), rules::MassKind::kEnterprise, 0});
  KOI_ASSIGN_OR_RETURN(auto personal, db.Query("SELECT external_userid, sent_at, create_type FROM personal_mass_receipts "
                                               "WHERE team_id = ? AND sent_at >= ? AND customer_id = -1",
                                               {team.value(), horizon_ms}));
  for (const auto& r : personal.rows) add(r.Text(0), {r.Int(1), OutsideKind(r.Int(2)), kNoSender});
  return out;
}

// external_userid of each customer key, aligned with `keys`.
Result<std::vector<std::string>> ExternalIds(storage::Database& db, TeamId team, const std::vector<uint32_t>& keys) {
  std::unordered_map<uint32_t, std::string> by_key;
  auto add = [&by_key](const Row& r) { by_key[static_cast<uint32_t>(r.Int(0))] = r.Text(1); };
  const std::string sql = "SELECT id, external_userid FROM customer_keys WHERE team_id = ?";
  if (keys.size() > kScanAbove) {
    KOI_ASSIGN_OR_RETURN(auto rows, db.Query(sql, {team.value()}));
    for (const auto& r : rows.rows) add(r);
  } else {
    KOI_RETURN_IF_ERROR(ForEachSlice(db, sql, {team.value()}, Widen(keys), "id", "", add));
  }
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (uint32_t k : keys) out.push_back(by_key[k]);
  return out;
}

}  // namespace

Result<std::vector<uint32_t>> MessagingService::Expand(const accounts::Principal& who, const Target& target,
                                                       std::string& canonical) {
  const int given = (target.segment_id ? 1 : 0) + (!target.rule.empty() ? 1 : 0) + (!target.customer_ids.empty() ? 1 : 0);
  if (given != 1 || !target.group_owners.empty() || !target.group_tag_ids.empty() || !target.chat_ids.empty())
    return Status::InvalidArgument("message_target_invalid",
                                   "target: give exactly one of segment_id, rule and customer_ids");
  if (target.segment_id) {
    KOI_ASSIGN_OR_RETURN(auto rule, segments_.RuleOf(who, *target.segment_id));
    canonical = json::serialize(json::object{{"segment_id", *target.segment_id}});
    return segments_.Members(who, rule);
  }
  if (!target.rule.empty()) {
    KOI_ASSIGN_OR_RETURN(auto members, segments_.Members(who, target.rule));
    boost::system::error_code ec;
    canonical = json::serialize(json::object{{"rule", json::parse(target.rule, ec)}});
    return members;
  }
  if (target.customer_ids.size() > kMaxSelectedCustomers)
    return Status::InvalidArgument("message_too_many_selected",
                                   "target.customer_ids: at most " + std::to_string(kMaxSelectedCustomers));
  std::vector<std::string> ids = target.customer_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unordered_map<std::string, uint32_t> keys;
  KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT id, external_userid FROM customer_keys WHERE team_id = ?",
                                   {who.team.value()}, ids, "external_userid", "",
                                   [&keys](const Row& r) { keys[r.Text(1)] = static_cast<uint32_t>(r.Int(0)); }));
  std::vector<uint32_t> out;
  json::array list;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = keys.find(ids[i]);
    if (it == keys.end())
      return Status::InvalidArgument("message_target_invalid", "target.customer_ids: no such customer " + ids[i]);
    out.push_back(it->second);
    list.push_back(json::string(ids[i]));
  }
  std::sort(out.begin(), out.end());
  canonical = json::serialize(json::object{{"customer_ids", std::move(list)}});
  return out;
}

struct MessagingService::GroupTarget {
  std::vector<std::string> chat_ids;  // ascending, no repeats
  std::vector<std::string> owners;    // aligned
};

Result<MessagingService::GroupTarget> MessagingService::ExpandGroups(const accounts::Principal& who,
                                                                     const Target& target,
                                                                     const std::string& only_owner,
                                                                     std::string& canonical_text) {
  const int given = (!target.group_owners.empty() ? 1 : 0) + (!target.group_tag_ids.empty() ? 1 : 0) +
                    (!target.chat_ids.empty() ? 1 : 0);
  if (given != 1 || target.segment_id || !target.rule.empty() || !target.customer_ids.empty())
    return Status::InvalidArgument("message_target_invalid",
                                   "target: for groups give exactly one of group_owners, group_tag_ids and chat_ids");
  const std::vector<Value> team{who.team.value()};
  std::map<std::string, std::string> owner_of;  // chat_id -> owner
  auto collect = [&owner_of](const Row& r) { owner_of[r.Text(0)] = r.Text(1); };
  json::object canonical;
  if (!target.chat_ids.empty()) {
    if (target.chat_ids.size() > kMaxSelectedGroups)
      return Status::InvalidArgument("message_too_many_groups", "target.chat_ids: at most " +
                                                                    std::to_string(kMaxSelectedGroups) + " groups");
    std::set<std::string> ids(target.chat_ids.begin(), target.chat_ids.end());
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT chat_id, owner FROM wecom_group_chats WHERE team_id = ?", team,
                                     std::vector<std::string>(ids.begin(), ids.end()), "chat_id", "", collect));
    json::array list;
    for (const auto& id : ids) {
      if (!owner_of.count(id))
        return Status::InvalidArgument("message_target_invalid", "target.chat_ids: no such customer group " + id);
      list.push_back(json::string(id));
    }
    canonical["chat_ids"] = std::move(list);
  } else if (!target.group_owners.empty()) {
    if (target.group_owners.size() > kMaxGroupOwners)
      return Status::InvalidArgument("message_target_invalid", "target.group_owners: at most " +
                                                                   std::to_string(kMaxGroupOwners) + " employees");
    std::set<std::string> owners(target.group_owners.begin(), target.group_owners.end());
    const std::vector<std::string> list(owners.begin(), owners.end());
    std::set<std::string> known;
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT userid FROM wecom_employees WHERE team_id = ?", team, list,
                                     "userid", "", [&known](const Row& r) { known.insert(r.Text(0)); }));
    json::array out;
    for (const auto& o : list) {
      if (!known.count(o))
        return Status::InvalidArgument("message_target_invalid", "target.group_owners: no such employee " + o);
      out.push_back(json::string(o));
    }
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT chat_id, owner FROM wecom_group_chats WHERE team_id = ?", team, list,
                                     "owner", "", collect));
    canonical["group_owners"] = std::move(out);
  } else {
    std::set<int64_t> tags(target.group_tag_ids.begin(), target.group_tag_ids.end());
    const std::vector<int64_t> list(tags.begin(), tags.end());
    std::set<int64_t> known;
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT id FROM group_tags WHERE team_id = ?", team, list, "id", "",
                                     [&known](const Row& r) { known.insert(r.Int(0)); }));
    if (known.size() != list.size()) return Status::NotFound("group_tag_not_found", "target.group_tag_ids: no such group tag");
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT g.chat_id, g.owner FROM wecom_group_chats g JOIN group_chat_tags t ON "
                                     "t.team_id = g.team_id AND t.chat_id = g.chat_id WHERE g.team_id = ?", team, list,
                                     "t.tag_id", "", collect));
    json::array out;
    for (int64_t t : list) out.push_back(t);
    canonical["group_tag_ids"] = std::move(out);
  }
  GroupTarget out;
  for (const auto& [chat, owner] : owner_of) {
    // A personal message goes only to the groups its employee owns.
    if (!only_owner.empty() && owner != only_owner) {
      if (target.group_tag_ids.empty())
        return Status::InvalidArgument("message_target_invalid", "target: only groups your own WeCom employee owns");
      continue;
    }
    out.chat_ids.push_back(chat);
    out.owners.push_back(owner);
  }
  canonical_text = json::serialize(canonical);
  return out;
}

struct MessagingService::Computed {
  RulePackSetting setting;
  std::string content;  // canonical
  std::string sender;   // a personal message's employee
  std::string target;   // canonical
  std::vector<std::string> media_ids;  // the content's uploaded files
  std::vector<std::string> employees, names;
  Plan plan;
  std::vector<uint32_t> customers;
  std::vector<std::string> chat_ids;  // groups: the target, aligned with the plan
  int64_t expand_us = 0, load_us = 0, plan_us = 0;
};

Result<MessagingService::Computed> MessagingService::Compute(const accounts::Principal& who, const Draft& draft,
                                                             int64_t except_message) {
  using SteadyClock = std::chrono::steady_clock;
  auto us = [](SteadyClock::time_point from) {
    return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - from).count();
  };
  Computed out;
  KOI_ASSIGN_OR_RETURN(out.setting, RulePackOf(who.team));
  const auto& pack = out.setting.effective;
  const size_t title_chars = CharCount(draft.title);
  if (!IsValidUtf8(draft.title) || title_chars == 0 || title_chars > kMaxTitleChars)
    return Status::InvalidArgument("message_title_invalid",
                                   "title: 1 to " + std::to_string(kMaxTitleChars) + " characters");
  KOI_ASSIGN_OR_RETURN(auto content, ParseContent(draft.content, pack.mass));
  for (const auto& a : content.attachments)
    for (const std::string* id : {&a.media_id, &a.cover_media_id})
      if (!id->empty()) out.media_ids.push_back(*id);
  out.content = SerializeContent(content);
  if (draft.kind == "enterprise") {
    KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  } else if (draft.kind == "personal") {
    KOI_ASSIGN_OR_RETURN(auto b, db_.Query("SELECT userid FROM employee_bindings WHERE account_id = ? AND team_id = ?",
                                           {who.account.value(), who.team.value()}));
    if (b.rows.empty())
      return Status::FailedPrecondition("message_no_sender",
                                        "a personal message is sent by your WeCom employee: ask the admin to bind one");
    out.sender = b.rows[0].Text(0);
  } else {
    return Status::InvalidArgument("message_kind_invalid", "kind: enterprise or personal");
  }
  if (draft.audience == "groups") {
    if (content.personalised())
      return Status::InvalidArgument("message_variable_groups",
                                     "content.text: the customer's name cannot be used in a message to groups");
    auto started = SteadyClock::now();
    KOI_ASSIGN_OR_RETURN(auto groups, ExpandGroups(who, draft.target, out.sender, out.target));
    out.expand_us = us(started);
    if (groups.chat_ids.empty())
      return Status::InvalidArgument("message_target_empty", "target: matches no customer group");
    started = SteadyClock::now();
    const int64_t now = clock_.NowMillis();
    Facts f;
    KOI_RETURN_IF_ERROR(LoadEmployees(db_, who.team, out.sender, f));
    GroupPlanInput in{.owners = {}, .prior = {}, .may_send = f.input.may_send, .rules = pack.mass, .send_at_ms = now};
    for (const auto& owner : groups.owners) {
      auto it = f.employee_index.find(owner);
      in.owners.push_back(it == f.employee_index.end() ? kNoSender : it->second);
    }
    KOI_ASSIGN_OR_RETURN(in.prior, LoadGroupReceipts(db_, who.team, rules::MassQuota(pack.mass, now).horizon_ms(),
                                                     except_message, groups.chat_ids));
    out.load_us = us(started);
    started = SteadyClock::now();
    out.plan = MakeGroupPlan(in);
    out.plan_us = us(started);
    out.employees = std::move(f.input.employees);
    out.names = std::move(f.names);
    out.chat_ids = std::move(groups.chat_ids);
    return out;
  }
  if (draft.audience != "customers")
    return Status::InvalidArgument("message_audience_invalid", "audience: customers or groups");
  auto started = SteadyClock::now();
  KOI_ASSIGN_OR_RETURN(auto customers, Expand(who, draft.target, out.target));
  out.expand_us = us(started);
  if (customers.empty())
    return Status::InvalidArgument("message_target_empty", "target: matches no customer");
  if (content.personalised() && static_cast<int64_t>(customers.size()) > kMaxPersonalisedRecipients)
    return Status::InvalidArgument(
        "message_personalised_too_many",
        "a text with the customer's name makes one WeCom message per customer, each confirmed by the employee: at "
        "most " + std::to_string(kMaxPersonalisedRecipients) + " customers; remove the name or narrow the target");

  // Planned as of now: a draft is planned again when it is sent, and the job checks the quotas once more.
  const int64_t now = clock_.NowMillis();
  started = SteadyClock::now();
  Facts f;
  f.input.customers = std::move(customers);
  f.input.rules = pack.mass;
  f.input.kind = rules::MassKind::kEnterprise;
  f.input.send_at_ms = now;
  KOI_RETURN_IF_ERROR(LoadEmployees(db_, who.team, out.sender, f));
  if (out.sender.empty() && f.input.customers.size() > options_.index_above)
    KOI_RETURN_IF_ERROR(FactsFromIndex(index_, db_, who.team, f));
  else
    KOI_RETURN_IF_ERROR(LoadFollows(db_, who.team, f));
  if (!draft.target.customer_ids.empty() && !who.is_admin()) {
    // A member may pick only customers of their own employee.
    std::set<uint32_t> reachable;
    for (const auto& x : f.input.follows)
      if (f.input.may_send[x.employee]) reachable.insert(x.customer);
    if (reachable.size() != f.input.customers.size())
      return Status::InvalidArgument("message_target_invalid",
                                     "target.customer_ids: only customers of your own WeCom employee");
  }
  KOI_RETURN_IF_ERROR(LoadReceipts(db_, who.team, rules::MassQuota(pack.mass, now).horizon_ms(), except_message, f));
  out.load_us = us(started);
  started = SteadyClock::now();
  out.customers = f.input.customers;
  out.employees = f.input.employees;
  out.names = std::move(f.names);
  out.plan = MakePlan(std::move(f.input));
  out.plan_us = us(started);
  return out;
}

Result<PlanPreview> MessagingService::Preview(const accounts::Principal& who, const Draft& draft) {
  KOI_ASSIGN_OR_RETURN(auto c, Compute(who, draft, 0));
  PlanPreview out{.targeted = static_cast<int64_t>(c.plan.recipients.size()),
                  .recipients = c.plan.skipped[0],
                  .skipped = {},
                  .senders = {},
                  .expand_us = c.expand_us,
                  .load_us = c.load_us,
                  .plan_us = c.plan_us};
  for (int i = 1; i < kSkipKinds; ++i)
    if (c.plan.skipped[i] > 0) out.skipped[std::string(SkipName(static_cast<Skip>(i)))] = c.plan.skipped[i];
  for (size_t e = 0; e < c.plan.senders.size(); ++e) {
    const auto& t = c.plan.senders[e];
    if (t.recipients == 0 && t.skipped == 0 && t.duplicates == 0) continue;
    out.senders.push_back({.userid = c.employees[e], .name = c.names[e], .recipients = t.recipients,
                           .skipped = t.skipped, .duplicates = t.duplicates});
  }
  std::sort(out.senders.begin(), out.senders.end(), [](const SenderSummary& a, const SenderSummary& b) {
    return a.recipients != b.recipients ? a.recipients > b.recipients : a.userid < b.userid;
  });
  return out;
}

Result<Message> MessagingService::Persist(const accounts::Principal& who, std::optional<int64_t> id,
                                          const Draft& draft) {
  KOI_ASSIGN_OR_RETURN(auto c, Compute(who, draft, id.value_or(0)));
  const bool groups = draft.audience == "groups";
  std::vector<std::string> external_ids = c.chat_ids;
  if (!groups) {
    KOI_ASSIGN_OR_RETURN(external_ids, ExternalIds(db_, who.team, c.customers));
  }
  const Plan& plan = c.plan;
  const int64_t now = clock_.NowMillis();
  json::object duplicates;
  for (size_t e = 0; e < plan.senders.size(); ++e)
    if (plan.senders[e].duplicates > 0) duplicates[c.employees[e]] = plan.senders[e].duplicates;
  const std::string plan_json = json::serialize(json::object{{"duplicates", std::move(duplicates)}});
  int64_t message_id = id.value_or(0);
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    // A file deleted from the library while the composer showed it is not saved (checked in this transaction).
    if (options_.media) KOI_RETURN_IF_ERROR(options_.media->NotDeleted(tx, who.team, c.media_ids));
    if (id) {
      KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE mass_messages SET kind = ?, audience = ?, title = ?, content = ?, "
                                            "target = ?, sender_userid = ?, rule_pack = ?, send_at = ?, targeted = ?, "
                                            "plan = ?, updated_at = ? WHERE id = ? AND team_id = ? AND state = 'draft'",
                                            {draft.kind, draft.audience, draft.title, c.content, c.target, c.sender,
                                             c.setting.pack, now, static_cast<int64_t>(plan.recipients.size()),
                                             plan_json, now, *id, who.team.value()}));
      if (u.affected_rows == 0)
        return Status::FailedPrecondition("message_state", "only a draft can be edited");
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM mass_message_recipients WHERE message_id = ?", {*id}));
    } else {
      KOI_ASSIGN_OR_RETURN(auto ins, tx.Query(
          "INSERT INTO mass_messages (team_id, kind, audience, title, content, target, sender_userid, state, rule_pack, "
          "send_at, targeted, plan, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?, "
          "?, ?, ?, ?) RETURNING id",
          {who.team.value(), draft.kind, draft.audience, draft.title, c.content, c.target, c.sender, c.setting.pack,
           now, static_cast<int64_t>(plan.recipients.size()), plan_json, who.account.value(), now, now}));
      message_id = ins.rows.at(0).Int(0);
    }
    std::vector<std::vector<Value>> rows;
    rows.reserve(plan.recipients.size());
    for (size_t i = 0; i < plan.recipients.size(); ++i) {
      const auto& p = plan.recipients[i];
      rows.push_back({Value(message_id), Value(who.team.value()), Value(external_ids[i]),
                      Value(groups ? int64_t{-1} : static_cast<int64_t>(p.customer)),
                      Value(p.sender == kNoSender ? std::string() : c.employees[p.sender]),
                      Value(std::string(SkipName(p.skip)))});
    }
    return tx.CopyIn("mass_message_recipients",
                     {"message_id", "team_id", "external_userid", "customer_id", "userid", "skip"}, rows);
  }));
  return Get(who, message_id);
}

Result<Message> MessagingService::Create(const accounts::Principal& who, const Draft& draft) {
  return Persist(who, std::nullopt, draft);
}

Result<Message> MessagingService::Update(const accounts::Principal& who, int64_t id, const Draft& draft) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  if (m.row.Text(kState) != "draft") return Status::FailedPrecondition("message_state", "only a draft can be edited");
  return Persist(who, id, draft);
}

// ----- reading ---------------------------------------------------------------------------------------------------

Result<MessagingService::Loaded> MessagingService::Load(const accounts::Principal& who, int64_t id) {
  std::string sql = std::string("SELECT ") + kColumns + kFrom + " WHERE m.id = ? AND m.team_id = ?";
  std::vector<Value> params{id, who.team.value()};
  if (!who.is_admin()) {
    sql += " AND m.created_by = ?";
    params.emplace_back(std::in_place_type<int64_t>, who.account.value());
  }
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
  if (rows.rows.empty()) return Status::NotFound("message_not_found", "no such message");
  return Loaded{rows.rows[0], who.team};
}

Result<Message> MessagingService::Summarise(TeamId team, const RulePackSetting& setting, const Row& row,
                                            bool detail) {
  Message m;
  m.id = row.Int(kId);
  m.kind = row.Text(kKind);
  m.audience = row.Text(kAudience);
  m.title = row.Text(kTitle);
  m.content = row.Text(kContent);
  m.target = row.Text(kTarget);
  m.state = row.Text(kState);
  m.rule_pack = row.Text(kPack);
  m.send_at_ms = row.Int(kSendAt);
  m.targeted = row.Int(kTargeted);
  m.created_by = row.Int(kCreatedBy);
  m.created_by_name = row.Text(kCreatorName);
  m.created_at_ms = row.Int(kCreatedAt);
  m.updated_at_ms = row.Int(kUpdatedAt);
  m.submitted_at_ms = row.OptInt(kSubmittedAt);
  m.settled_at_ms = row.OptInt(kSettledAt);
  m.cancelled_at_ms = row.OptInt(kCancelledAt);
  m.error = row.Text(kError);
  // The stored content is canonical JSON, which keeps the variable's characters as they are.
  m.personalised = m.content.find(kNameVariable) != std::string::npos;
  const int64_t now = clock_.NowMillis();
  int64_t recent = 0;
  for (int64_t t : ParseTimes(row.Text(kReminders)))
    if (t > now - setting.effective.mass.reminder_window_seconds * 1000) ++recent;
  m.reminders_left = std::max<int64_t>(0, setting.effective.mass.max_reminders - recent);

  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT skip, status, COUNT(*) FROM mass_message_recipients WHERE "
                                              "message_id = ? GROUP BY skip, status", {m.id}));
  for (const auto& r : counts.rows) {
    const std::string skip = r.Text(0);
    const int64_t n = r.Int(2);
    if (!skip.empty()) {
      m.skipped[skip] += n;
      continue;
    }
    m.recipients += n;
    switch (r.Int(1)) {
      case 1: m.sent += n; break;
      case 2: m.not_friend += n; break;
      case 3: m.over_limit += n; break;
      case 4: m.failed += n; break;
      case 5: break;  // cancelled before it went
      default: m.pending += n; break;
    }
  }
  KOI_ASSIGN_OR_RETURN(auto chunks, db_.Query("SELECT state, COUNT(*) FROM mass_message_chunks WHERE message_id = ? "
                                              "GROUP BY state", {m.id}));
  for (const auto& r : chunks.rows) {
    m.templates += r.Int(1);
    if (r.Text(0) == "submitted") m.chunks_submitted += r.Int(1);
    if (r.Text(0) == "failed") m.chunks_failed += r.Int(1);
  }
  if (!detail) return m;

  // Per sender: planned recipients and their results, the chunks and how many the employee confirmed.
  std::map<std::string, SenderSummary> by_sender;
  KOI_ASSIGN_OR_RETURN(auto per, db_.Query("SELECT userid, skip, status, COUNT(*) FROM mass_message_recipients WHERE "
                                           "message_id = ? AND userid <> '' GROUP BY userid, skip, status", {m.id}));
  for (const auto& r : per.rows) {
    auto& s = by_sender[r.Text(0)];
    const int64_t n = r.Int(3);
    if (!r.Text(1).empty()) {
      s.skipped += n;
      continue;
    }
    s.recipients += n;
    switch (r.Int(2)) {
      case 1: s.sent += n; break;
      case 2: s.not_friend += n; break;
      case 3: s.over_limit += n; break;
      case 4: s.failed += n; break;
      default: break;
    }
  }
  KOI_ASSIGN_OR_RETURN(auto per_chunk, db_.Query("SELECT userid, COUNT(*), SUM(CASE WHEN task_status = 2 THEN 1 ELSE 0 "
                                                 "END) FROM mass_message_chunks WHERE message_id = ? GROUP BY userid",
                                                 {m.id}));
  for (const auto& r : per_chunk.rows) {
    by_sender[r.Text(0)].templates = r.Int(1);
    by_sender[r.Text(0)].confirmed_templates = r.Int(2);
  }
  {
    boost::system::error_code ec;
    auto plan = json::parse(row.Text(kPlan), ec);
    if (!ec && plan.is_object())
      if (auto* d = plan.as_object().if_contains("duplicates"); d && d->is_object())
        for (const auto& [u, n] : d->as_object())
          if (n.is_int64()) by_sender[std::string(u)].duplicates = n.as_int64();
  }
  if (!by_sender.empty()) {
    std::vector<std::string> ids;
    for (const auto& [u, s] : by_sender) ids.push_back(u);
    KOI_RETURN_IF_ERROR(ForEachSlice(db_, "SELECT userid, name FROM wecom_employees WHERE team_id = ?",
                                     {team.value()}, ids, "userid", "", [&by_sender](const Row& r) {
                                       by_sender[r.Text(0)].name = r.Text(1);
                                     }));
  }
  for (auto& [u, s] : by_sender) {
    s.userid = u;
    m.senders.push_back(std::move(s));
  }
  std::sort(m.senders.begin(), m.senders.end(), [](const SenderSummary& a, const SenderSummary& b) {
    return a.recipients != b.recipients ? a.recipients > b.recipients : a.userid < b.userid;
  });
  KOI_ASSIGN_OR_RETURN(auto hours, db_.Query("SELECT (send_time / 3600000) * 3600000 AS h, COUNT(*) FROM "
                                             "mass_message_recipients WHERE message_id = ? AND status = 1 AND "
                                             "send_time IS NOT NULL GROUP BY h ORDER BY h", {m.id}));
  for (const auto& r : hours.rows) m.delivery.emplace_back(r.Int(0), r.Int(1));
  return m;
}

Result<Message> MessagingService::Get(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  KOI_ASSIGN_OR_RETURN(auto setting, RulePackOf(who.team));
  return Summarise(who.team, setting, m.row, true);
}

Result<MessagePage> MessagingService::List(const accounts::Principal& who, std::string_view state, int page,
                                           int page_size) {
  page = std::max(page, 1);
  page_size = std::clamp(page_size, 1, 100);
  std::string where = " WHERE m.team_id = ?";
  std::vector<Value> params{who.team.value()};
  if (!state.empty()) {
    where += " AND m.state = ?";
    params.emplace_back(std::in_place_type<std::string>, state);
  }
  if (!who.is_admin()) {
    where += " AND m.created_by = ?";
    params.emplace_back(std::in_place_type<int64_t>, who.account.value());
  }
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query(std::string("SELECT COUNT(*)") + kFrom + where, params));
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, static_cast<int64_t>(page - 1) * page_size);
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string("SELECT ") + kColumns + kFrom + where +
                                            " ORDER BY m.id DESC LIMIT ? OFFSET ?", params));
  MessagePage out;
  out.total = total.rows.at(0).Int(0);
  KOI_ASSIGN_OR_RETURN(auto setting, RulePackOf(who.team));
  for (const auto& r : rows.rows) {
    KOI_ASSIGN_OR_RETURN(auto m, Summarise(who.team, setting, r, false));
    out.items.push_back(std::move(m));
  }
  return out;
}

Result<RecipientPage> MessagingService::Recipients(const accounts::Principal& who, int64_t id,
                                                   const RecipientQuery& q) {
  KOI_RETURN_IF_ERROR(Load(who, id).status());
  const int page = std::max(q.page, 1);
  const int page_size = std::clamp(q.page_size, 1, 100);
  std::string where = " WHERE r.message_id = ?";
  std::vector<Value> params{id};
  if (q.skip == "any") {
    where += " AND r.skip <> ''";
  } else if (q.skip == "none") {
    where += " AND r.skip = ''";
  } else if (!q.skip.empty()) {
    Skip s;
    if (!ParseSkip(q.skip, s))
      return Status::InvalidArgument("invalid_query", "skip: any, none, lost, not_friend, over_day_limit, "
                                                      "over_week_limit, over_month_limit or owner_unavailable");
    where += " AND r.skip = ?";
    params.emplace_back(std::in_place_type<std::string>, q.skip);
  }
  if (q.status) {
    where += " AND r.status = ? AND r.skip = ''";
    params.emplace_back(std::in_place_type<int64_t>, *q.status);
  }
  if (!q.userid.empty()) {
    where += " AND r.userid = ?";
    params.emplace_back(std::in_place_type<std::string>, q.userid);
  }
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query("SELECT COUNT(*) FROM mass_message_recipients r" + where, params));
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, static_cast<int64_t>(page - 1) * page_size);
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(
      "SELECT r.external_userid, COALESCE(c.name, g.name, ''), r.userid, COALESCE(e.name, ''), r.skip, r.status, "
      "r.send_time FROM mass_message_recipients r LEFT JOIN wecom_customers c ON c.team_id = r.team_id AND "
      "c.external_userid = r.external_userid LEFT JOIN wecom_group_chats g ON g.team_id = r.team_id AND g.chat_id = "
      "r.external_userid LEFT JOIN wecom_employees e ON e.team_id = r.team_id AND e.userid = r.userid" + where +
      " ORDER BY r.external_userid LIMIT ? OFFSET ?", params));
  RecipientPage out;
  out.total = total.rows.at(0).Int(0);
  for (const auto& r : rows.rows)
    out.items.push_back({.external_userid = r.Text(0), .name = r.Text(1), .userid = r.Text(2),
                         .employee_name = r.Text(3), .skip = r.Text(4), .status = static_cast<int>(r.Int(5)),
                         .send_time_ms = r.OptInt(6)});
  return out;
}

Result<std::vector<CustomerMessage>> MessagingService::OfCustomer(const accounts::Principal& who,
                                                                  std::string_view external_userid) {
  std::string sql =
      "SELECT m.id, m.title, r.userid, r.status, COALESCE(r.send_time, m.send_at) FROM mass_message_recipients r "
      "JOIN mass_messages m ON m.id = r.message_id WHERE r.team_id = ? AND r.external_userid = ? AND r.skip = '' "
      "AND m.state <> 'draft'";
  std::vector<Value> params{who.team.value(), std::string(external_userid)};
  if (!who.is_admin()) {  // a member sees the messages they sent
    sql += " AND m.created_by = ?";
    params.emplace_back(std::in_place_type<int64_t>, who.account.value());
  }
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(sql + " ORDER BY m.id DESC LIMIT 50", params));
  std::vector<CustomerMessage> out;
  for (const auto& r : rows.rows)
    out.push_back({.message_id = r.Int(0), .title = r.Text(1), .userid = r.Text(2),
                   .status = static_cast<int>(r.Int(3)), .at_ms = r.Int(4)});
  return out;
}

// ----- sending -----------------------------------------------------------------------------------------------------

Result<Message> MessagingService::Send(const accounts::Principal& who, int64_t id, int64_t send_at_ms) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  if (m.row.Text(kState) != "draft")
    return Status::FailedPrecondition("message_state", "this message has already been sent or scheduled");
  const int64_t now = clock_.NowMillis();
  if (send_at_ms != 0 && send_at_ms < now + kMinuteMs)
    return Status::InvalidArgument("message_schedule_past", "send_at: at least one minute from now");
  if (send_at_ms > now + 30 * kDayMs)
    return Status::InvalidArgument("message_schedule_too_far", "send_at: at most 30 days from now");
  const int64_t at = send_at_ms == 0 ? now : send_at_ms;
  // Plan again: quotas may have been used since the draft was planned.
  Draft draft{.kind = m.row.Text(kKind), .audience = m.row.Text(kAudience), .title = m.row.Text(kTitle),
              .content = m.row.Text(kContent), .target = {}};
  {
    boost::system::error_code ec;
    auto t = json::parse(m.row.Text(kTarget), ec);
    if (ec || !t.is_object()) return Status::Internal("message_corrupt", "stored target is not JSON");
    const auto& o = t.as_object();
    if (auto* s = o.if_contains("segment_id")) draft.target.segment_id = s->to_number<int64_t>();
    if (auto* r = o.if_contains("rule")) draft.target.rule = json::serialize(*r);
    auto strings = [&o](const char* key, std::vector<std::string>& into) {
      if (auto* c = o.if_contains(key); c && c->is_array())
        for (const auto& x : c->as_array()) into.emplace_back(x.as_string());
    };
    strings("customer_ids", draft.target.customer_ids);
    strings("group_owners", draft.target.group_owners);
    strings("chat_ids", draft.target.chat_ids);
    if (auto* c = o.if_contains("group_tag_ids"); c && c->is_array())
      for (const auto& x : c->as_array()) draft.target.group_tag_ids.push_back(x.to_number<int64_t>());
  }
  // The draft's creator sends it (a member's personal message keeps its employee).
  accounts::Principal creator = who;
  creator.account = AccountId(m.row.Int(kCreatedBy));
  KOI_RETURN_IF_ERROR(Persist(creator, id, draft).status());
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT COUNT(*) FROM mass_message_recipients WHERE message_id = ? AND "
                                              "skip = ''", {id}));
  if (counts.rows.at(0).Int(0) == 0)
    return Status::FailedPrecondition("message_all_skipped",
                                      "everyone in the target is skipped (see the reasons): nothing to send");
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE mass_messages SET state = 'scheduled', send_at = ?, updated_at = ? "
                                          "WHERE id = ? AND team_id = ? AND state = 'draft'",
                                          {at, now, id, who.team.value()}));
    if (u.affected_rows == 0)
      return Status::FailedPrecondition("message_state", "this message has already been sent or scheduled");
    // From now on these recipients use their quota: a message planned meanwhile sees them.
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET counts = 1, counted_at = ? WHERE message_id = ? "
                                "AND skip = ''", {at, id}));
    KOI_ASSIGN_OR_RETURN(auto job, queue_.EnqueueIn(tx, {.team = who.team, .kind = kDispatchJob,
                                                         .payload = json::serialize(json::object{{"message_id", id}}),
                                                         .idempotency_key = "message-" + std::to_string(id),
                                                         .run_at_ms = at, .max_attempts = 20}));
    return tx.Exec("UPDATE mass_messages SET job_id = ? WHERE id = ?", {job.id.value(), id});
  }));
  return Get(who, id);
}

Status MessagingService::RunDispatch(jobs::JobContext& ctx) {
  boost::system::error_code ec;
  auto p = json::parse(ctx.job().payload, ec);
  if (ec || !p.is_object() || !p.as_object().contains("message_id"))
    return Status::InvalidArgument("invalid_payload", "messaging.dispatch needs message_id");
  return Dispatch(ctx.job().team, p.as_object().at("message_id").to_number<int64_t>(), &ctx);
}

// Quotas again as of the moment of sending, then the chunks: one transaction, serialised per team so two messages
// dispatched at once cannot both take the last unit of a customer's quota.
Status MessagingService::Recheck(TeamId team, int64_t id, const rules::RulePack& pack) {
  const int64_t now = clock_.NowMillis();
  return db_.Transact([&](storage::Session& tx) -> Status {
    if (tx.engine() == storage::Engine::kPostgres)
      KOI_RETURN_IF_ERROR(tx.Exec("SELECT id FROM teams WHERE id = ? FOR UPDATE", {team.value()}));
    KOI_ASSIGN_OR_RETURN(auto state, tx.Query("SELECT state, content, audience FROM mass_messages WHERE id = ?", {id}));
    if (state.rows.empty() || state.rows[0].Text(0) != "scheduled") return Status::Ok();
    const bool personalised = state.rows[0].Text(1).find(kNameVariable) != std::string::npos;
    // Groups and customers have separate quotas: group recipients are the rows with customer_id -1.
    const bool groups = state.rows[0].Text(2) == "groups";
    const std::string same_quota = groups ? " AND customer_id = -1" : " AND customer_id >= 0";
    // The recipients still to send and what else counts against their quotas.
    KOI_ASSIGN_OR_RETURN(auto mine, tx.Query(
        "SELECT r.external_userid, r.userid, COALESCE(c.name, '') FROM mass_message_recipients r LEFT JOIN "
        "wecom_customers c ON c.team_id = r.team_id AND c.external_userid = r.external_userid WHERE r.message_id = ? "
        "AND r.skip = ''", {id}));
    const rules::MassQuota quota(pack.mass, now);
    KOI_ASSIGN_OR_RETURN(auto others, tx.Query(
        "SELECT external_userid, counted_at FROM mass_message_recipients WHERE team_id = ? AND counts = 1 AND "
        "counted_at >= ? AND message_id <> ?" + same_quota, {team.value(), quota.horizon_ms(), id}));
    std::unordered_map<std::string, std::vector<rules::Receipt>> prior;
    for (const auto& r : others.rows)
      prior[r.Text(0)].push_back({r.Int(1), rules::MassKind::kEnterprise, 0});
    KOI_ASSIGN_OR_RETURN(auto personal, tx.Query("SELECT external_userid, sent_at, create_type FROM "
                                                 "personal_mass_receipts WHERE team_id = ? AND sent_at >= ?" +
                                                     same_quota, {team.value(), quota.horizon_ms()}));
    // Koi's own messages are enterprise messages: a personal message's sender never equals theirs.
    for (const auto& r : personal.rows)
      prior[r.Text(0)].push_back({r.Int(1), OutsideKind(r.Int(2)), UINT32_MAX});
    struct Entry {
      std::string external_userid, userid, name;
    };
    std::vector<Entry> keep;
    std::vector<std::pair<std::string, std::string>> newly_over;  // external_userid, reason
    for (const auto& r : mine.rows) {
      auto it = prior.find(r.Text(0));
      const auto verdict = it == prior.end() ? rules::QuotaVerdict::kAllowed
                           : groups        ? quota.CheckGroup(it->second)
                                           : quota.Check(rules::MassKind::kEnterprise, 0, it->second);
      if (verdict != rules::QuotaVerdict::kAllowed)
        newly_over.emplace_back(r.Text(0), std::string(rules::QuotaVerdictName(verdict)));
      else
        keep.push_back({r.Text(0), r.Text(1), personalised ? r.Text(2) : std::string()});
    }
    for (const auto& [ext, reason] : newly_over)
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET skip = ?, counts = 0 WHERE message_id = ? AND "
                                  "external_userid = ?", {reason, id, ext}));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET counted_at = ? WHERE message_id = ? AND skip = ''",
                                {now, id}));
    // Chunks: per sender (and per rendered name when personalised), at most the pack's recipients per call.
    std::sort(keep.begin(), keep.end(), [](const Entry& a, const Entry& b) {
      return std::tie(a.userid, a.name, a.external_userid) < std::tie(b.userid, b.name, b.external_userid);
    });
    const auto per_call = groups ? kMaxChatsPerCall
                                 : static_cast<size_t>(std::max<int64_t>(1, pack.mass.max_recipients_per_call));
    int64_t chunk = -1;
    size_t in_chunk = 0;
    std::vector<std::string> members;
    auto flush = [&]() -> Status {
      if (members.empty()) return Status::Ok();
      for (size_t i = 0; i < members.size(); i += kInChunk) {
        std::vector<std::string> part(members.begin() + i, members.begin() + std::min(members.size(), i + kInChunk));
        std::vector<Value> params{chunk, id};
        const std::string in = storage::InList(params, part);
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET chunk = ? WHERE message_id = ? AND "
                                    "external_userid IN (" + in + ")", params));
      }
      members.clear();
      return Status::Ok();
    };
    for (size_t i = 0; i < keep.size(); ++i) {
      const bool boundary = i == 0 || keep[i].userid != keep[i - 1].userid || keep[i].name != keep[i - 1].name ||
                            in_chunk == per_call;
      if (boundary) {
        KOI_RETURN_IF_ERROR(flush());
        ++chunk;
        in_chunk = 0;
        size_t n = 0;
        for (size_t j = i; j < keep.size() && n < per_call && keep[j].userid == keep[i].userid &&
                           keep[j].name == keep[i].name;
             ++j)
          ++n;
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO mass_message_chunks (message_id, chunk, team_id, userid, name, "
                                    "recipients, state) VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                                    {id, chunk, team.value(), keep[i].userid, keep[i].name,
                                     static_cast<int64_t>(n)}));
      }
      members.push_back(keep[i].external_userid);
      ++in_chunk;
    }
    KOI_RETURN_IF_ERROR(flush());
    const std::string error =
        keep.empty() ? "by the time of sending every recipient had reached the rule pack's limit" : "";
    return tx.Exec("UPDATE mass_messages SET state = ?, error = ?, updated_at = ? WHERE id = ?",
                   {std::string(keep.empty() ? "failed" : "sending"), error, now, id});
  });
}

Status MessagingService::Dispatch(TeamId team, int64_t id, jobs::JobContext* ctx) {
  KOI_ASSIGN_OR_RETURN(auto setting, RulePackOf(team));
  KOI_RETURN_IF_ERROR(Recheck(team, id, setting.effective));
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query("SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = ?", {id}));
  auto progress = [&]() -> Status {
    if (!ctx) return Status::Ok();
    KOI_ASSIGN_OR_RETURN(auto done, db_.Query("SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = ? AND "
                                              "state IN ('submitted', 'failed')", {id}));
    (void)ctx->ReportProgress(done.rows.at(0).Int(0), total.rows.at(0).Int(0));
    return Status::Ok();
  };
  for (;;) {
    KOI_ASSIGN_OR_RETURN(auto state, db_.Query("SELECT state FROM mass_messages WHERE id = ? AND team_id = ?",
                                               {id, team.value()}));
    if (state.rows.empty() || state.rows[0].Text(0) != "sending") return Status::Ok();  // cancelled, or done
    if (ctx && ctx->ShouldStop())
      return Status::Aborted("job_interrupted", "sending stops here and resumes with the next chunk");
    // New chunks first, each claimed before its call, so two dispatchers (one whose lease lapsed under load and the
    // one that took the job over) never send the same chunk.
    KOI_ASSIGN_OR_RETURN(auto pending, db_.Query("SELECT chunk FROM mass_message_chunks WHERE message_id = ? AND "
                                                 "state = 'pending' ORDER BY chunk LIMIT 1", {id}));
    if (!pending.rows.empty()) {
      const int64_t chunk = pending.rows[0].Int(0);
      KOI_ASSIGN_OR_RETURN(bool mine, Claim(id, chunk, "pending", 0));
      if (mine) KOI_RETURN_IF_ERROR(SubmitChunk(id, chunk, corp));
      KOI_RETURN_IF_ERROR(progress());
      continue;
    }
    // Then chunks left in `intent`: a call that died with its process, lost its answer, or is still in flight.
    KOI_ASSIGN_OR_RETURN(auto open, db_.Query("SELECT chunk, COALESCE(attempted_at, 0) FROM mass_message_chunks WHERE "
                                              "message_id = ? AND state = 'intent' ORDER BY chunk LIMIT 1", {id}));
    if (open.rows.empty()) break;
    const int64_t chunk = open.rows[0].Int(0), attempted = open.rows[0].Int(1);
    if (clock_.NowMillis() - attempted < options_.intent_grace_ms)
      return Status::Unavailable("message_chunk_in_flight",
                                 "a part of this message may still be on its way to WeCom; it is checked once that "
                                 "call has certainly ended");
    KOI_ASSIGN_OR_RETURN(bool mine, Claim(id, chunk, "intent", attempted));
    if (!mine) continue;
    // Look for it in WeCom before calling again.
    KOI_ASSIGN_OR_RETURN(bool found, Reconcile(team, id, chunk, corp));
    if (!found) KOI_RETURN_IF_ERROR(SubmitChunk(id, chunk, corp));
    KOI_RETURN_IF_ERROR(progress());
  }
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto submitted, db_.Query("SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = ? AND "
                                                 "state = 'submitted'", {id}));
  const bool any = submitted.rows.at(0).Int(0) > 0;
  return db_.Exec("UPDATE mass_messages SET state = ?, submitted_at = ?, next_sync_at = ?, updated_at = ?, error = ? "
                  "WHERE id = ? AND state = 'sending'",
                  {std::string(any ? "sent" : "failed"), now, now + kMinuteMs, now,
                   std::string(any ? "" : "WeCom refused every part of this message"), id});
}

namespace {

struct ChunkData {
  TeamId team{0};
  std::string userid, name, content;
  bool groups = false;                  // chat_type group: the recipients are chat ids
  int64_t first_attempted_at = 0;      // the first call for this chunk: WeCom is searched from there
  std::vector<std::string> recipients;  // ascending
};

Result<ChunkData> LoadChunk(storage::Database& db, int64_t id, int64_t chunk) {
  KOI_ASSIGN_OR_RETURN(auto c, db.Query("SELECT k.userid, k.name, m.content, COALESCE(k.first_attempted_at, 0), "
                                        "m.audience, k.team_id FROM "
                                        "mass_message_chunks k JOIN mass_messages m ON m.id = k.message_id WHERE "
                                        "k.message_id = ? AND k.chunk = ?", {id, chunk}));
  if (c.rows.empty()) return Status::NotFound("message_not_found", "no such chunk");
  ChunkData out{TeamId(c.rows[0].Int(5)), c.rows[0].Text(0), c.rows[0].Text(1), c.rows[0].Text(2),
                c.rows[0].Text(4) == "groups", c.rows[0].Int(3), {}};
  KOI_ASSIGN_OR_RETURN(auto r, db.Query("SELECT external_userid FROM mass_message_recipients WHERE message_id = ? AND "
                                        "chunk = ? ORDER BY external_userid", {id, chunk}));
  for (const auto& row : r.rows) out.recipients.push_back(row.Text(0));
  return out;
}

// Records a chunk as submitted under `msgid`; `refused` recipients (WeCom's fail_list) get status 4 and stop counting.
Status RecordSubmitted(storage::Database& db, int64_t id, int64_t chunk, const std::string& msgid,
                       const std::vector<std::string>& refused, int64_t now) {
  return db.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_chunks SET state = 'submitted', msgid = ?, submitted_at = ? "
                                "WHERE message_id = ? AND chunk = ?", {msgid, now, id, chunk}));
    // A template whose answer was lost for longer than the sync's margin was taken as made outside Koi: it is Koi's.
    for (const char* table : {"personal_mass_receipts", "personal_mass_messages"})
      KOI_RETURN_IF_ERROR(tx.Exec(std::string("DELETE FROM ") + table + " WHERE team_id = (SELECT team_id FROM "
                                  "mass_messages WHERE id = ?) AND msgid = ?", {id, msgid}));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET status = 0 WHERE message_id = ? AND chunk = ?",
                                {id, chunk}));
    for (size_t i = 0; i < refused.size(); i += kInChunk) {
      std::vector<std::string> part(refused.begin() + i, refused.begin() + std::min(refused.size(), i + kInChunk));
      std::vector<Value> params{id, chunk};
      const std::string in = storage::InList(params, part);
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_recipients SET status = 4, counts = 0 WHERE message_id = ? AND "
                                  "chunk = ? AND external_userid IN (" + in + ")", params));
    }
    return Status::Ok();
  });
}

}  // namespace

Result<bool> MessagingService::Claim(int64_t id, int64_t chunk, const std::string& from, int64_t seen) {
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto u, db_.Query("UPDATE mass_message_chunks SET state = 'intent', attempted_at = ?, "
                                         "first_attempted_at = COALESCE(first_attempted_at, ?) WHERE message_id = ? "
                                         "AND chunk = ? AND state = ? AND COALESCE(attempted_at, 0) = ?",
                                         {now, now, id, chunk, from, seen}));
  return u.affected_rows == 1;
}

Status MessagingService::SubmitChunk(int64_t id, int64_t chunk, const wecom::CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto data, LoadChunk(db_, id, chunk));
  // Parse with the newest pack's content limits: the content was checked against the team's pack when planned.
  KOI_ASSIGN_OR_RETURN(auto content, ParseContent(data.content, rules::AllRulePacks().back().mass));
  KOI_RETURN_IF_ERROR(RefreshMedia(data.team, content, corp));
  boost::system::error_code ec;
  auto wire = json::parse(WireContent(content, data.name), ec);
  if (ec) return Status::Internal("message_corrupt", "wire content is not JSON");
  // The caller claimed the chunk (state intent, committed): a crash from here on is reconciled, never blindly
  // repeated.
  auto made = data.groups ? client_.AddGroupMsgTemplate(corp, data.userid, data.recipients, wire.as_object())
                          : client_.AddMsgTemplate(corp, data.userid, data.recipients, wire.as_object());
  const int64_t now = clock_.NowMillis();
  if (!made.ok()) {
    if (Retryable(made.status())) return made.status();  // stays `intent`: the retry reconciles first
    // WeCom refused this chunk for good (invalid parameters, no permission): its recipients are not sent.
    return db_.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE mass_message_chunks SET state = 'failed', error = ? WHERE message_id = ? "
                                  "AND chunk = ?", {made.status().message(), id, chunk}));
      return tx.Exec("UPDATE mass_message_recipients SET status = 4, counts = 0 WHERE message_id = ? AND chunk = ?",
                     {id, chunk});
    });
  }
  KOI_RETURN_IF_ERROR(RecordSubmitted(db_, id, chunk, made->msgid, made->fail_list, now));
  // Cancelled while this call was in flight: cancel it in WeCom too.
  KOI_ASSIGN_OR_RETURN(auto state, db_.Query("SELECT state FROM mass_messages WHERE id = ?", {id}));
  if (!state.rows.empty() && state.rows[0].Text(0) == "cancelled") {
    Status s = client_.CancelGroupMsg(corp, made->msgid);
    if (!s.ok()) spdlog::warn("messaging: cancelling {} after a late submit failed: {}", made->msgid, s.ToString());
    KOI_RETURN_IF_ERROR(db_.Exec("UPDATE mass_message_recipients SET status = 5, counts = 0 WHERE message_id = ? AND "
                                 "chunk = ? AND status = 0", {id, chunk}));
  }
  return Status::Ok();
}

Status MessagingService::RefreshMedia(TeamId team, Content& content, const wecom::CorpCredentials& corp) {
  if (!options_.media) return Status::Ok();
  for (auto& a : content.attachments)
    for (std::string* id : {&a.media_id, &a.cover_media_id}) {
      if (id->empty()) continue;
      KOI_ASSIGN_OR_RETURN(*id, options_.media->Usable(team, *id, corp));
    }
  return Status::Ok();
}

Result<bool> MessagingService::Reconcile(TeamId team, int64_t id, int64_t chunk, const wecom::CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto data, LoadChunk(db_, id, chunk));
  if (data.recipients.empty()) return false;
  KOI_ASSIGN_OR_RETURN(auto content, ParseContent(data.content, rules::AllRulePacks().back().mass));
  const std::string text = content.text.empty() ? std::string() : RenderText(content, data.name);
  const int64_t now_s = clock_.NowSeconds();
  const int64_t from_s = std::max(data.first_attempted_at / 1000 - 300, now_s - 30 * 86'400);
  std::string cursor;
  do {
    KOI_ASSIGN_OR_RETURN(auto page, client_.ListGroupMsgs(corp, from_s, now_s + 60, 0, cursor, 100,
                                                          data.groups ? "group" : "single"));
    for (const auto& m : page.items) {
      if (m.text != text) continue;
      KOI_ASSIGN_OR_RETURN(auto known, db_.Query("SELECT 1 FROM mass_message_chunks WHERE team_id = ? AND msgid = ?",
                                                 {team.value(), m.msgid}));
      if (!known.rows.empty()) continue;  // another chunk's
      bool sender = false;
      std::string task_cursor;
      do {
        KOI_ASSIGN_OR_RETURN(auto tasks, client_.GetGroupMsgTasks(corp, m.msgid, task_cursor));
        for (const auto& t : tasks.items) sender |= t.userid == data.userid;
        task_cursor = tasks.next_cursor;
      } while (!sender && !task_cursor.empty());
      if (!sender) continue;
      // The recipients WeCom holds for this sender: ours when the chunk's recipients are among them.
      std::set<std::string> held;
      std::string result_cursor;
      do {
        KOI_ASSIGN_OR_RETURN(auto results, client_.GetGroupMsgSendResults(corp, m.msgid, data.userid, result_cursor));
        for (const auto& r : results.items) held.insert(data.groups ? r.chat_id : r.external_userid);
        result_cursor = results.next_cursor;
      } while (!result_cursor.empty());
      size_t ours = 0;
      for (const auto& r : data.recipients) ours += held.count(r);
      // WeCom lists a group message's rows only once sent: an unconfirmed one of this sender with this text and no
      // msgid of ours is taken as this chunk's.
      const bool unconfirmed_group = data.groups && held.empty();
      if (!unconfirmed_group && (ours == 0 || ours < held.size())) continue;
      std::vector<std::string> refused;
      if (!data.groups)  // a group message lists only the sent groups: the others are not known to be refused
        for (const auto& r : data.recipients)
          if (!held.count(r)) refused.push_back(r);
      spdlog::info("messaging: message {} chunk {} was already submitted as {}; recorded, not sent again", id, chunk,
                   m.msgid);
      KOI_RETURN_IF_ERROR(RecordSubmitted(db_, id, chunk, m.msgid, refused, clock_.NowMillis()));
      return true;
    }
    cursor = page.next_cursor;
  } while (!cursor.empty());
  return false;
}

// ----- tracking ----------------------------------------------------------------------------------------------------

Status MessagingService::Sync(TeamId team, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  KOI_ASSIGN_OR_RETURN(auto chunks, db_.Query("SELECT chunk, msgid, userid FROM mass_message_chunks WHERE message_id = "
                                              "? AND state = 'submitted' AND results_synced = 0 ORDER BY chunk", {id}));
  for (const auto& c : chunks.rows) {
    const int64_t chunk = c.Int(0);
    const std::string msgid = c.Text(1), userid = c.Text(2);
    int status = 0;
    int64_t send_time = 0;
    std::string cursor;
    do {
      KOI_ASSIGN_OR_RETURN(auto tasks, client_.GetGroupMsgTasks(corp, msgid, cursor));
      for (const auto& t : tasks.items)
        if (t.userid == userid) {
          status = t.status;
          send_time = t.send_time;
        }
      cursor = tasks.next_cursor;
    } while (!cursor.empty());
    if (status != 2) continue;  // not confirmed yet
    std::vector<wecom::WecomClient::GroupMsgSend> results;
    do {
      KOI_ASSIGN_OR_RETURN(auto page, client_.GetGroupMsgSendResults(corp, msgid, userid, cursor));
      results.insert(results.end(), page.items.begin(), page.items.end());
      cursor = page.next_cursor;
    } while (!cursor.empty());
    KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
      for (const auto& r : results) {
        const int64_t at = r.send_time > 0 ? r.send_time * 1000 : send_time * 1000;
        // Only a delivered message (1) or one still due (0) uses the customer's quota.
        KOI_RETURN_IF_ERROR(tx.Exec(
            "UPDATE mass_message_recipients SET status = ?, send_time = ?, counts = ?, counted_at = CASE WHEN ? = 1 "
            "THEN ? ELSE counted_at END WHERE message_id = ? AND chunk = ? AND external_userid = ? AND status <> 4",
            {int64_t{r.status}, r.status == 1 ? Value(at) : storage::kNull, int64_t{r.status <= 1 ? 1 : 0},
             int64_t{r.status}, at, id, chunk, r.chat_id.empty() ? r.external_userid : r.chat_id}));
      }
      return tx.Exec("UPDATE mass_message_chunks SET task_status = 2, task_send_time = ?, results_synced = 1 WHERE "
                     "message_id = ? AND chunk = ?", {send_time * 1000, id, chunk});
    }));
  }
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto open, db_.Query("SELECT COUNT(*) FROM mass_message_chunks WHERE message_id = ? AND state = "
                                            "'submitted' AND results_synced = 0", {id}));
  KOI_ASSIGN_OR_RETURN(auto row, db_.Query("SELECT COALESCE(submitted_at, 0) FROM mass_messages WHERE id = ?", {id}));
  const int64_t submitted = row.rows.empty() ? now : row.rows[0].Int(0);
  if (open.rows.at(0).Int(0) == 0 || now - submitted > kSettleAfterMs)
    return db_.Exec("UPDATE mass_messages SET state = 'done', settled_at = ?, updated_at = ? WHERE id = ? AND state = "
                    "'sent'", {now, now, id});
  // Often at first (employees confirm within minutes of the reminder), then every ten minutes.
  const int64_t next = now + (now - submitted < kHourMs ? kMinuteMs : 10 * kMinuteMs);
  return db_.Exec("UPDATE mass_messages SET next_sync_at = ? WHERE id = ?", {next, id});
}

Status MessagingService::SyncOutside(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(team));
  const int64_t now = clock_.NowMillis(), now_s = now / 1000;
  KOI_ASSIGN_OR_RETURN(auto st, db_.Query("SELECT personal_upto FROM messaging_sync_state WHERE team_id = ?",
                                          {team.value()}));
  // Koi's own templates are listed too, and one whose answer is in flight or was lost has no msgid in the ledger
  // yet: an enterprise message is taken as made outside Koi only once older than the send grace (reconciliation
  // records Koi's by then) plus a margin.
  const int64_t settle_s = options_.intent_grace_ms / 1000 + 600;
  // From the last read (overlapping by that age and ten more minutes for messages listed late) or, the first
  // time, a month back; WeCom lists at most a month per call.
  const int64_t month_s = 30LL * 86'400;
  int64_t from_s = st.rows.empty() ? now_s - month_s : st.rows[0].Int(0) / 1000 - settle_s - 600;
  from_s = std::max(from_s, now_s - month_s);
  std::string cursor;
  for (const std::string chat_type : {"single", "group"}) {
    do {
      KOI_ASSIGN_OR_RETURN(auto page, client_.ListGroupMsgs(corp, from_s, now_s, 2, cursor, 100, chat_type));
      for (const auto& m : page.items) {
        if (m.create_type == 1 && m.creator.empty()) continue;
        if (m.create_type == 0) {
          if (m.create_time > now_s - settle_s) continue;
          KOI_ASSIGN_OR_RETURN(auto ours, db_.Query("SELECT 1 FROM mass_message_chunks WHERE team_id = ? AND msgid = ?",
                                                    {team.value(), m.msgid}));
          if (!ours.rows.empty()) continue;
        }
        KOI_RETURN_IF_ERROR(db_.Exec("INSERT INTO personal_mass_messages (team_id, msgid, userid, create_time, "
                                     "chat_type, create_type) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, msgid) DO "
                                     "NOTHING",
                                     {team.value(), m.msgid, m.creator, m.create_time, chat_type,
                                      int64_t{m.create_type}}));
      }
      cursor = page.next_cursor;
    } while (!cursor.empty());
  }
  // Who received each unsettled one, from every employee who has sent it (an employee's own message: just them).
  // Settled once every task is sent, or after three days.
  KOI_ASSIGN_OR_RETURN(auto open, db_.Query("SELECT msgid, userid, create_time, chat_type, create_type FROM "
                                            "personal_mass_messages WHERE team_id = ? AND settled = 0",
                                            {team.value()}));
  for (const auto& m : open.rows) {
    const std::string msgid = m.Text(0), creator = m.Text(1);
    const bool group = m.Text(3) == "group";
    const int64_t create_type = m.Int(4);
    std::vector<std::string> sent_by;
    bool all_sent = true;
    do {
      KOI_ASSIGN_OR_RETURN(auto tasks, client_.GetGroupMsgTasks(corp, msgid, cursor));
      for (const auto& t : tasks.items) {
        if (create_type == 1 && t.userid != creator) continue;
        if (t.status == 2)
          sent_by.push_back(t.userid);
        else
          all_sent = false;
      }
      cursor = tasks.next_cursor;
    } while (!cursor.empty());
    std::vector<std::pair<std::string, wecom::WecomClient::GroupMsgSend>> results;  // sender, result
    for (const auto& userid : sent_by) {
      do {
        KOI_ASSIGN_OR_RETURN(auto page, client_.GetGroupMsgSendResults(corp, msgid, userid, cursor));
        for (const auto& r : page.items)
          if (r.status == 1) results.emplace_back(userid, r);
        cursor = page.next_cursor;
      } while (!cursor.empty());
    }
    const bool settle = (all_sent && !sent_by.empty()) || now_s - m.Int(2) > 3 * 86'400;
    KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
      for (const auto& [userid, r] : results)
        // A group has no customer key: its receipts count against the group quota (customer_id -1).
        KOI_RETURN_IF_ERROR(group ? tx.Exec(
            "INSERT INTO personal_mass_receipts (team_id, msgid, external_userid, customer_id, userid, sent_at, "
            "create_type) VALUES (?, ?, ?, -1, ?, ?, ?) ON CONFLICT (team_id, msgid, external_userid) DO NOTHING",
            {team.value(), msgid, r.chat_id, userid, r.send_time * 1000, create_type}) : tx.Exec(
            "INSERT INTO personal_mass_receipts (team_id, msgid, external_userid, customer_id, userid, sent_at, "
            "create_type) SELECT ?, ?, ?, k.id, ?, ?, ? FROM customer_keys k WHERE k.team_id = ? AND "
            "k.external_userid = ? ON CONFLICT (team_id, msgid, external_userid) DO NOTHING",
            {team.value(), msgid, r.external_userid, userid, r.send_time * 1000, create_type, team.value(),
             r.external_userid}));
      if (!settle) return Status::Ok();
      return tx.Exec("UPDATE personal_mass_messages SET settled = 1 WHERE team_id = ? AND msgid = ?",
                     {team.value(), msgid});
    }));
  }
  return db_.Exec("INSERT INTO messaging_sync_state (team_id, personal_upto, next_personal_sync_at) VALUES (?, ?, ?) "
                  "ON CONFLICT (team_id) DO UPDATE SET personal_upto = excluded.personal_upto, "
                  "next_personal_sync_at = excluded.next_personal_sync_at",
                  {team.value(), now, now + 10 * kMinuteMs});
}

Status MessagingService::SyncDue() {
  const int64_t now = clock_.NowMillis();
  // Mass messages made outside Koi, of every linked team, every ten minutes.
  KOI_ASSIGN_OR_RETURN(auto teams, db_.Query(
      "SELECT c.team_id FROM wecom_corps c LEFT JOIN messaging_sync_state s ON s.team_id = c.team_id WHERE "
      "c.auth_cancelled_at IS NULL AND (s.next_personal_sync_at IS NULL OR s.next_personal_sync_at <= ?)", {now}));
  for (const auto& r : teams.rows) {
    Status s = SyncOutside(TeamId(r.Int(0)));
    if (!s.ok()) {
      spdlog::warn("messaging: reading team {}'s mass messages made outside Koi failed: {}", r.Int(0), s.ToString());
      KOI_RETURN_IF_ERROR(db_.Exec(
          "INSERT INTO messaging_sync_state (team_id, personal_upto, next_personal_sync_at) VALUES (?, 0, ?) ON "
          "CONFLICT (team_id) DO UPDATE SET next_personal_sync_at = excluded.next_personal_sync_at",
          {r.Int(0), now + 10 * kMinuteMs}));
    }
  }
  KOI_ASSIGN_OR_RETURN(auto due, db_.Query("SELECT team_id, id FROM mass_messages WHERE state = 'sent' AND "
                                           "next_sync_at <= ? ORDER BY next_sync_at LIMIT 100", {now}));
  for (const auto& r : due.rows) {
    Status s = Sync(TeamId(r.Int(0)), r.Int(1));
    if (!s.ok()) {
      spdlog::warn("messaging: syncing message {} failed: {}", r.Int(1), s.ToString());
      KOI_RETURN_IF_ERROR(db_.Exec("UPDATE mass_messages SET next_sync_at = ? WHERE id = ?",
                                   {now + 5 * kMinuteMs, r.Int(1)}));
    }
  }
  return Status::Ok();
}

Result<Message> MessagingService::Refresh(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  if (m.row.Text(kState) == "sent") KOI_RETURN_IF_ERROR(Sync(who.team, id));
  return Get(who, id);
}

// ----- cancel, remind, delete --------------------------------------------------------------------------------------

Result<Message> MessagingService::Cancel(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  const std::string state = m.row.Text(kState);
  if (state != "scheduled" && state != "sending" && state != "sent")
    return Status::FailedPrecondition("message_state", "only a scheduled, sending or sent message can be cancelled");
  if (state == "sent") KOI_RETURN_IF_ERROR(Sync(who.team, id));  // results of confirmed parts first
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE mass_messages SET state = 'cancelled', cancelled_at = ?, updated_at = "
                                          "? WHERE id = ? AND state IN ('scheduled', 'sending', 'sent')",
                                          {now, now, id}));
    if (u.affected_rows == 0) return Status::FailedPrecondition("message_state", "the message changed meanwhile");
    // What never went, or was never confirmed, stops counting against the quotas.
    return tx.Exec("UPDATE mass_message_recipients SET status = 5, counts = 0 WHERE message_id = ? AND skip = '' AND "
                   "status IN (-1, 0)", {id});
  }));
  KOI_ASSIGN_OR_RETURN(auto jobrow, db_.Query("SELECT job_id FROM mass_messages WHERE id = ?", {id}));
  if (!jobrow.rows.empty() && !jobrow.rows[0].IsNull(0)) (void)queue_.Cancel(who.team, JobId(jobrow.rows[0].Int(0)));
  if (state != "scheduled") {
    KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(who.team));
    KOI_ASSIGN_OR_RETURN(auto open, db_.Query("SELECT msgid FROM mass_message_chunks WHERE message_id = ? AND state = "
                                              "'submitted' AND task_status = 0", {id}));
    for (const auto& r : open.rows) {
      Status s = client_.CancelGroupMsg(corp, r.Text(0));
      if (!s.ok()) return s;
    }
  }
  return Get(who, id);
}

Result<Message> MessagingService::Remind(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  if (m.row.Text(kState) != "sent")
    return Status::FailedPrecondition("message_state", "only a sent message waiting for confirmations can be reminded");
  KOI_ASSIGN_OR_RETURN(auto setting, RulePackOf(who.team));
  const auto& mass = setting.effective.mass;
  const int64_t now = clock_.NowMillis();
  std::vector<int64_t> times;
  for (int64_t t : ParseTimes(m.row.Text(kReminders)))
    if (t > now - mass.reminder_window_seconds * 1000) times.push_back(t);
  if (static_cast<int64_t>(times.size()) >= mass.max_reminders)
    return Status::ResourceExhausted("remind_limit_reached",
                                     "at most " + std::to_string(mass.max_reminders) + " reminders per " +
                                         std::to_string(mass.reminder_window_seconds / 3600) + " hours");
  KOI_RETURN_IF_ERROR(Sync(who.team, id));
  KOI_ASSIGN_OR_RETURN(auto open, db_.Query("SELECT msgid FROM mass_message_chunks WHERE message_id = ? AND state = "
                                            "'submitted' AND task_status = 0", {id}));
  if (open.rows.empty())
    return Status::FailedPrecondition("message_nothing_to_remind", "every employee has confirmed this message");
  KOI_ASSIGN_OR_RETURN(auto corp, link_.Credentials(who.team));
  for (const auto& r : open.rows) KOI_RETURN_IF_ERROR(client_.RemindGroupMsg(corp, r.Text(0)));
  times.push_back(now);
  json::array list;
  for (int64_t t : times) list.push_back(t);
  KOI_RETURN_IF_ERROR(db_.Exec("UPDATE mass_messages SET reminders = ? WHERE id = ?", {json::serialize(list), id}));
  return Get(who, id);
}

Status MessagingService::DeleteDraft(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto m, Load(who, id));
  if (m.row.Text(kState) != "draft")
    return Status::FailedPrecondition("message_state", "only a draft can be deleted; cancel a scheduled message");
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM mass_message_recipients WHERE message_id = ?", {id}));
    return tx.Exec("DELETE FROM mass_messages WHERE id = ? AND state = 'draft'", {id});
  });
}

}  // namespace koi::messaging
