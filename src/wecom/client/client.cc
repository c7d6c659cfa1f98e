#include "wecom/client/client.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

#include "core/utf8.h"
#include "wecom/protocol/errcode.h"

namespace koi::wecom {
namespace {

namespace json = boost::json;

constexpr int64_t kRefreshMarginMs = 5 * 60 * 1000;

std::string UrlEncode(std::string_view s) { return PercentEncode(s); }

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  const auto& v = it->value();
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.as_uint64());
  if (v.is_string()) return std::atoll(v.as_string().c_str());  // user/get sends gender as "1"
  return 0;
}

const json::array& Arr(const json::object& o, std::string_view key) {
  static const json::array kEmpty;
  auto it = o.find(key);
  return it != o.end() && it->value().is_array() ? it->value().as_array() : kEmpty;
}

const json::object& Obj(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? it->value().as_object() : kEmpty;
}

std::vector<std::string> Strings(const json::array& a) {
  std::vector<std::string> out;
  for (const auto& v : a)
    if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

ExternalContact ParseContact(const json::object& o) {
  return {.external_userid = Str(o, "external_userid"),
          .name = Str(o, "name"),
          .unionid = Str(o, "unionid"),
          .corp_name = Str(o, "corp_name"),
          .position = Str(o, "position"),
          .type = static_cast<int>(Int(o, "type")),
          .gender = static_cast<int>(Int(o, "gender"))};
}

// follow_info (batch) or a follow_user element (single get), without the tags: the two spell them differently.
FollowInfo ParseFollow(const json::object& f) {
  return {.userid = Str(f, "userid"),
          .remark = Str(f, "remark"),
          .description = Str(f, "description"),
          .state = Str(f, "state"),
          .oper_userid = Str(f, "oper_userid"),
          .remark_corp_name = Str(f, "remark_corp_name"),
          .createtime = Int(f, "createtime"),
          .add_way = static_cast<int>(Int(f, "add_way")),
          .tag_ids = {},
          .remark_mobiles = Strings(Arr(f, "remark_mobiles"))};
}

}  // namespace

WecomClient::WecomClient(Transport transport, const Clock& clock, ClientOptions options)
    : transport_(std::move(transport)), clock_(clock), options_(std::move(options)) {}

void WecomClient::Sleep(int64_t ms) {
  if (ms <= 0) return;
  if (options_.sleep) options_.sleep(ms);
  else std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

Result<json::object> WecomClient::Exchange(const HttpCall& call) {
  KOI_ASSIGN_OR_RETURN(std::string body, transport_(call));
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("errcode"))
    return Status::Unavailable("wecom_bad_response", "WeCom answered something that is not its JSON");
  return std::move(v.as_object());
}

void WecomClient::ForgetToken(const CorpCredentials& corp) {
  std::lock_guard lock(mu_);
  tokens_.erase({corp.corp_id, corp.secret});
}

Result<std::string> WecomClient::Token(const CorpCredentials& corp, const std::string& stale) {
  const auto key = std::make_pair(corp.corp_id, corp.secret);
  {
    std::unique_lock lock(mu_);
    for (;;) {
      auto it = tokens_.find(key);
      if (it != tokens_.end() && it->second.token != stale && it->second.refresh_after_ms > clock_.NowMillis())
        return it->second.token;
      if (!refreshing_[key]) break;
      // Another caller is fetching this corp's token: wait for it rather than calling gettoken too.
      refreshed_.wait(lock);
    }
    refreshing_[key] = true;
  }
  Result<json::object> answer = Status::Unavailable("wecom_unreachable", "not called");
  const int tries = corp.third_party ? 1 : options_.max_attempts;  // SuiteCall has retried already
  for (int attempt = 1; attempt <= tries; ++attempt) {
    answer = FetchToken(corp);
    bool busy = !answer.ok() ? answer.status().code() == StatusCode::kUnavailable : Int(*answer, "errcode") == -1;
    if (!busy || attempt == tries) break;
    Sleep(1000LL << (attempt - 1));
  }
  std::unique_lock lock(mu_);
  refreshing_[key] = false;
  refreshed_.notify_all();
  if (!answer.ok()) return answer.status();
  if (int64_t code = Int(*answer, "errcode"); code != 0) {
    Status s = StatusFromErrcode(static_cast<int>(code), Str(*answer, "errmsg"));
    // A wrong secret is not a token that expired: do not let callers retry it as one.
    if (s.code() == StatusCode::kUnauthenticated) return Status::FailedPrecondition(s.reason(), s.message());
    return s;
  }
  std::string token = Str(*answer, "access_token");
  int64_t expires_ms = Int(*answer, "expires_in") * 1000;
  tokens_[key] = {token, clock_.NowMillis() + std::max<int64_t>(expires_ms - kRefreshMarginMs, expires_ms / 2)};
  return token;
}

Result<json::object> WecomClient::FetchToken(const CorpCredentials& corp) {
  if (!corp.third_party)
    return Exchange({"GET", options_.base_url + "/cgi-bin/gettoken?corpid=" + UrlEncode(corp.corp_id) +
                                "&corpsecret=" + UrlEncode(corp.secret),
                     ""});
  if (!HasSuite())
    return Status::FailedPrecondition("wecom_suite_not_configured",
                                      "this corp was installed through a third-party suite that Koi is not configured for");
  // SuiteCall retries on its own and turns errcodes into a Status (40084: the corp cancelled the install).
  return SuiteCall("/cgi-bin/service/get_corp_token",
                   json::object{{"auth_corpid", corp.corp_id}, {"permanent_code", corp.secret}});
}

void WecomClient::SetSuite(SuiteOptions suite) { suite_ = std::move(suite); }

Result<std::string> WecomClient::SuiteToken(const std::string& stale) {
  std::lock_guard lock(suite_mu_);
  if (!suite_token_.token.empty() && suite_token_.token != stale && suite_token_.refresh_after_ms > clock_.NowMillis())
    return suite_token_.token;
  KOI_ASSIGN_OR_RETURN(std::string ticket, suite_.ticket());
  Result<json::object> answer = Status::Unavailable("wecom_unreachable", "not called");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    answer = Exchange({"POST", options_.base_url + "/cgi-bin/service/get_suite_token",
                       json::serialize(json::object{{"suite_id", suite_.suite_id},
                                                    {"suite_secret", suite_.suite_secret},
                                                    {"suite_ticket", ticket}})});
    bool busy = !answer.ok() || Int(*answer, "errcode") == -1;
    if (!busy || attempt == options_.max_attempts) break;
    Sleep(1000LL << (attempt - 1));
  }
  if (!answer.ok()) return answer.status();
  if (int64_t code = Int(*answer, "errcode"); code != 0)
    return StatusFromErrcode(static_cast<int>(code), Str(*answer, "errmsg"));
  int64_t expires_ms = Int(*answer, "expires_in") * 1000;
  suite_token_ = {Str(*answer, "suite_access_token"),
                  clock_.NowMillis() + std::max<int64_t>(expires_ms - kRefreshMarginMs, expires_ms / 2)};
  return suite_token_.token;
}

Result<json::object> WecomClient::SuiteCall(const std::string& path, const json::object& body, bool get,
                                            const std::vector<std::pair<std::string, std::string>>& query) {
  if (!HasSuite())
    return Status::FailedPrecondition("wecom_suite_not_configured", "Koi has no third-party suite configured");
  std::string stale;
  bool token_retried = false;
  Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    KOI_ASSIGN_OR_RETURN(std::string token, SuiteToken(stale));
    std::string url = options_.base_url + path + "?suite_access_token=" + UrlEncode(token);
    for (const auto& [k, v] : query) url += "&" + k + "=" + UrlEncode(v);
    auto answer = Exchange({get ? "GET" : "POST", url, get ? std::string() : json::serialize(body)});
    if (!answer.ok()) {
      last = answer.status();
      if (attempt < options_.max_attempts) Sleep(1000LL << (attempt - 1));
      continue;
    }
    int code = static_cast<int>(Int(*answer, "errcode"));
    if (code == 0) return std::move(*answer);
    last = StatusFromErrcode(code, Str(*answer, "errmsg"));
    if ((code == 40082 || code == 42009) && !token_retried) {
      stale = token;
      token_retried = true;
      --attempt;
      continue;
    }
    if (!LookupErrcode(code).retryable) return last;
    if (attempt < options_.max_attempts) Sleep(1000LL << (attempt - 1));
  }
  return last;
}

Result<WecomClient::PreAuthCode> WecomClient::GetPreAuthCode() {
  KOI_ASSIGN_OR_RETURN(auto o, SuiteCall("/cgi-bin/service/get_pre_auth_code", {}, /*get=*/true));
  PreAuthCode out{Str(o, "pre_auth_code"), Int(o, "expires_in")};
  if (out.code.empty()) return Status::Unavailable("wecom_bad_response", "WeCom gave no pre_auth_code");
  return out;
}

Result<PermanentCode> WecomClient::GetPermanentCode(const std::string& auth_code) {
  KOI_ASSIGN_OR_RETURN(auto o, SuiteCall("/cgi-bin/service/get_permanent_code", json::object{{"auth_code", auth_code}}));
  const auto& corp = Obj(o, "auth_corp_info");
  const auto& user = Obj(o, "auth_user_info");
  PermanentCode out{.permanent_code = Str(o, "permanent_code"),
                    .corp_id = Str(corp, "corpid"),
                    .corp_name = Str(corp, "corp_name"),
                    .agent_id = "",
                    .auth_user_id = Str(user, "userid"),
                    .auth_user_name = Str(user, "name"),
                    .state = Str(o, "state")};
  for (const auto& a : Arr(Obj(o, "auth_info"), "agent"))
    if (a.is_object() && out.agent_id.empty()) out.agent_id = std::to_string(Int(a.as_object(), "agentid"));
  if (out.permanent_code.empty() || out.corp_id.empty())
    return Status::Unavailable("wecom_bad_response", "WeCom gave no permanent_code or corp id");
  return out;
}

Result<WecomClient::OAuthUser> WecomClient::GetOAuthUser(const CorpCredentials& corp, const std::string& code) {
  json::object o;
  if (corp.third_party) {
    KOI_ASSIGN_OR_RETURN(o, SuiteCall("/cgi-bin/service/auth/getuserinfo3rd", {}, /*get=*/true, {{"code", code}}));
  } else {
    KOI_ASSIGN_OR_RETURN(o, Call(corp, "/cgi-bin/auth/getuserinfo", {{"code", code}}));
  }
  OAuthUser out{.corp_id = corp.third_party ? Str(o, "corpid") : corp.corp_id, .userid = Str(o, "userid")};
  // Someone outside the corp gets an openid (or an external_userid) instead of a userid.
  if (out.userid.empty())
    return Status::PermissionDenied("wecom_not_a_member", "WeCom says the visitor is not a member of the corp");
  return out;
}

Result<WecomClient::JsTicket> WecomClient::GetAgentTicket(const CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/ticket/get", {{"type", "agent_config"}}));
  JsTicket out{Str(o, "ticket"), Int(o, "expires_in")};
  if (out.ticket.empty()) return Status::Unavailable("wecom_bad_response", "WeCom gave no jsapi ticket");
  return out;
}

void WecomClient::WaitForBudget(const std::string& corp_id, const std::string& path) {
  for (;;) {
    int64_t now = clock_.NowMillis();
    int64_t minute = now / 60000;
    {
      std::lock_guard lock(mu_);
      int64_t& used = budget_[{corp_id, path, minute}];
      if (used < options_.calls_per_minute) {
        ++used;
        if (budget_.size() > 10000) std::erase_if(budget_, [minute](const auto& kv) { return std::get<2>(kv.first) < minute; });
        return;
      }
    }
    Sleep((minute + 1) * 60000 - now);
  }
}

Result<json::object> WecomClient::Call(const CorpCredentials& corp, const std::string& path,
                                       const std::vector<std::pair<std::string, std::string>>& query,
                                       const json::value& body, bool idempotent) {
  return Send(corp, path, query, body.is_null() ? "GET" : "POST", body.is_null() ? "" : json::serialize(body),
              "application/json", idempotent);
}

Result<json::object> WecomClient::Send(const CorpCredentials& corp, const std::string& path,
                                       const std::vector<std::pair<std::string, std::string>>& query,
                                       const std::string& method, const std::string& body,
                                       const std::string& content_type, bool idempotent) {
  std::string stale;
  bool token_retried = false;
  Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    KOI_ASSIGN_OR_RETURN(std::string token, Token(corp, stale));
    WaitForBudget(corp.corp_id, path);
    std::string url = options_.base_url + path + "?access_token=" + UrlEncode(token);
    for (const auto& [k, v] : query) url += "&" + UrlEncode(k) + "=" + UrlEncode(v);
    HttpCall call{method, url, body, content_type};
    auto answer = Exchange(call);
    if (!answer.ok()) {
      last = answer.status();
      if (!idempotent) return last;
      Sleep(1000LL << (attempt - 1));
      continue;
    }
    int code = static_cast<int>(Int(*answer, "errcode"));
    if (code == 0) return std::move(*answer);
    ErrcodeInfo info = LookupErrcode(code);
    last = StatusFromErrcode(code, Str(*answer, "errmsg"));
    if (info.token_error && !token_retried) {
      // WeCom may invalidate a token early: fetch a new one and try once more.
      stale = token;
      token_retried = true;
      --attempt;
      continue;
    }
    if (!info.retryable) return last;
    spdlog::warn("WeCom {} for corp {}: errcode {}; retrying", path, corp.corp_id, code);
    // The minute rule blocks for 60 s; busy and concurrency errors clear sooner.
    Sleep(code == 45009 ? 60000 - clock_.NowMillis() % 60000 : 1000LL << (attempt - 1));
  }
  return last;
}

// ----- typed endpoints -----

Result<std::vector<Department>> WecomClient::ListDepartments(const CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/department/list", {}));
  std::vector<Department> out;
  for (const auto& d : Arr(o, "department")) {
    if (!d.is_object()) continue;
    const auto& x = d.as_object();
    out.push_back({Int(x, "id"), Str(x, "name"), Int(x, "parentid"), Int(x, "order")});
  }
  return out;
}

Result<Page<DeptUser>> WecomClient::ListUserIds(const CorpCredentials& corp, const std::string& cursor, int limit) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/user/list_id", {}, json::object{{"cursor", cursor}, {"limit", limit}}));
  Page<DeptUser> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& r : Arr(o, "dept_user"))
    if (r.is_object()) page.items.push_back({Str(r.as_object(), "userid"), Int(r.as_object(), "department")});
  return page;
}

Result<User> WecomClient::GetUser(const CorpCredentials& corp, const std::string& userid) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/user/get", {{"userid", userid}}));
  User u{.userid = Str(o, "userid"), .name = Str(o, "name"), .position = Str(o, "position"),
         .mobile = Str(o, "mobile"), .alias = Str(o, "alias")};
  for (const auto& d : Arr(o, "department"))
    if (d.is_int64() || d.is_uint64()) u.departments.push_back(d.to_number<int64_t>());
  u.main_department = Int(o, "main_department");
  u.gender = static_cast<int>(Int(o, "gender"));
  u.status = static_cast<int>(Int(o, "status"));
  return u;
}

Result<std::vector<std::string>> WecomClient::GetFollowUsers(const CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get_follow_user_list", {}));
  return Strings(Arr(o, "follow_user"));
}

Result<Page<CustomerRelation>> WecomClient::BatchGetByUser(const CorpCredentials& corp,
                                                           const std::vector<std::string>& userids,
                                                           const std::string& cursor, int limit) {
  json::array ids;
  for (const auto& u : userids) ids.push_back(json::string(u));
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/batch/get_by_user", {},
                                    json::object{{"userid_list", std::move(ids)}, {"cursor", cursor}, {"limit", limit}}));
  Page<CustomerRelation> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& item : Arr(o, "external_contact_list")) {
    if (!item.is_object()) continue;
    const auto& f = Obj(item.as_object(), "follow_info");
    CustomerRelation rel;
    rel.contact = ParseContact(Obj(item.as_object(), "external_contact"));
    rel.follow = ParseFollow(f);
    rel.follow.tag_ids = Strings(Arr(f, "tag_id"));
    page.items.push_back(std::move(rel));
  }
  return page;
}

Result<ContactDetail> WecomClient::GetExternalContact(const CorpCredentials& corp, const std::string& external_userid) {
  ContactDetail out;
  std::string cursor;
  do {
    std::vector<std::pair<std::string, std::string>> query{{"external_userid", external_userid}};
    if (!cursor.empty()) query.emplace_back("cursor", cursor);
    KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get", query));
    out.contact = ParseContact(Obj(o, "external_contact"));
    for (const auto& item : Arr(o, "follow_user")) {
      if (!item.is_object()) continue;
      FollowInfo follow = ParseFollow(item.as_object());
      // Only corp tags (type 1) and strategy tags (type 3) have ids; personal tags (type 2) stay in WeCom.
      for (const auto& t : Arr(item.as_object(), "tags"))
        if (t.is_object() && Int(t.as_object(), "type") != 2 && !Str(t.as_object(), "tag_id").empty())
          follow.tag_ids.push_back(Str(t.as_object(), "tag_id"));
      out.follows.push_back(std::move(follow));
    }
    cursor = Str(o, "next_cursor");
  } while (!cursor.empty());
  return out;
}

Result<std::vector<TagGroup>> WecomClient::GetCorpTags(const CorpCredentials& corp) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get_corp_tag_list", {}, json::object{}));
  std::vector<TagGroup> out;
  for (const auto& g : Arr(o, "tag_group")) {
    if (!g.is_object()) continue;
    const auto& x = g.as_object();
    TagGroup group{Str(x, "group_id"), Str(x, "group_name"), Int(x, "create_time"), Int(x, "order"), {}};
    for (const auto& t : Arr(x, "tag"))
      if (t.is_object())
        group.tags.push_back({Str(t.as_object(), "id"), Str(t.as_object(), "name"), Int(t.as_object(), "create_time"),
                              Int(t.as_object(), "order")});
    out.push_back(std::move(group));
  }
  return out;
}

namespace {
json::array JsonArray(const std::vector<std::string>& v) {
  json::array out;
  for (const auto& x : v) out.push_back(json::string(x));
  return out;
}
}  // namespace

Result<TagGroup> WecomClient::AddCorpTags(const CorpCredentials& corp, const std::string& group_id,
                                          const std::string& group_name, const std::vector<std::string>& names) {
  json::object body;
  if (!group_id.empty()) body["group_id"] = group_id;
  else body["group_name"] = group_name;
  json::array tags;
  for (const auto& n : names) tags.push_back(json::object{{"name", n}});
  body["tag"] = std::move(tags);
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/add_corp_tag", {}, body));
  auto it = o.find("tag_group");
  if (it == o.end() || !it->value().is_object())
    return Status::Unavailable("wecom_bad_response", "add_corp_tag answered without tag_group");
  const auto& x = it->value().as_object();
  TagGroup group{Str(x, "group_id"), Str(x, "group_name"), Int(x, "create_time"), Int(x, "order"), {}};
  for (const auto& t : Arr(x, "tag"))
    if (t.is_object())
      group.tags.push_back({Str(t.as_object(), "id"), Str(t.as_object(), "name"), Int(t.as_object(), "create_time"),
                            Int(t.as_object(), "order")});
  return group;
}

Status WecomClient::EditCorpTag(const CorpCredentials& corp, const std::string& id, const std::string& name) {
  return Call(corp, "/cgi-bin/externalcontact/edit_corp_tag", {}, json::object{{"id", id}, {"name", name}}).status();
}

Status WecomClient::DeleteCorpTags(const CorpCredentials& corp, const std::vector<std::string>& tag_ids,
                                   const std::vector<std::string>& group_ids) {
  return Call(corp, "/cgi-bin/externalcontact/del_corp_tag", {},
              json::object{{"tag_id", JsonArray(tag_ids)}, {"group_id", JsonArray(group_ids)}})
      .status();
}

Status WecomClient::EditRemark(const CorpCredentials& corp, const std::string& userid,
                               const std::string& external_userid, const RemarkEdit& edit) {
  json::object body{{"userid", userid}, {"external_userid", external_userid}};
  if (edit.remark) body["remark"] = *edit.remark;
  if (edit.description) body["description"] = *edit.description;
  if (edit.remark_company) body["remark_company"] = *edit.remark_company;
  // WeCom clears the mobiles with [""], not [].
  if (edit.remark_mobiles) body["remark_mobiles"] = JsonArray(edit.remark_mobiles->empty() ? std::vector<std::string>{""}
                                                                                           : *edit.remark_mobiles);
  return Call(corp, "/cgi-bin/externalcontact/remark", {}, body).status();
}

Status WecomClient::MarkTags(const CorpCredentials& corp, const std::string& userid,
                             const std::string& external_userid, const std::vector<std::string>& add,
                             const std::vector<std::string>& remove) {
  return Call(corp, "/cgi-bin/externalcontact/mark_tag", {},
              json::object{{"userid", userid}, {"external_userid", external_userid}, {"add_tag", JsonArray(add)},
                           {"remove_tag", JsonArray(remove)}})
      .status();
}

Result<Page<GroupChat>> WecomClient::ListGroupChats(const CorpCredentials& corp, const std::string& cursor, int limit,
                                                    const std::vector<std::string>& owners) {
  json::object body{{"status_filter", 0}, {"cursor", cursor}, {"limit", limit}};
  if (!owners.empty()) body["owner_filter"] = json::object{{"userid_list", JsonArray(owners)}};
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/groupchat/list", {}, body));
  Page<GroupChat> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& c : Arr(o, "group_chat_list"))
    if (c.is_object())
      page.items.push_back(GroupChat{.chat_id = Str(c.as_object(), "chat_id"),
                                     .status = static_cast<int>(Int(c.as_object(), "status"))});
  return page;
}

Result<GroupChat> WecomClient::GetGroupChat(const CorpCredentials& corp, const std::string& chat_id) {
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/groupchat/get", {},
                                    json::object{{"chat_id", chat_id}, {"need_name", 1}}));
  const auto& g = Obj(o, "group_chat");
  GroupChat chat{.chat_id = Str(g, "chat_id"), .name = Str(g, "name"), .owner = Str(g, "owner"),
                 .notice = Str(g, "notice"), .member_version = Str(g, "member_version"),
                 .create_time = Int(g, "create_time")};
  for (const auto& m : Arr(g, "member_list")) {
    if (!m.is_object()) continue;
    const auto& x = m.as_object();
    chat.members.push_back({.userid = Str(x, "userid"), .invitor = Str(Obj(x, "invitor"), "userid"),
                            .state = Str(x, "state"), .unionid = Str(x, "unionid"), .name = Str(x, "name"),
                            .type = static_cast<int>(Int(x, "type")), .join_time = Int(x, "join_time"),
                            .join_scene = static_cast<int>(Int(x, "join_scene"))});
  }
  for (const auto& a : Arr(g, "admin_list"))
    if (a.is_object()) chat.admins.push_back(Str(a.as_object(), "userid"));
  return chat;
}

Result<WecomClient::MsgTemplate> WecomClient::AddMsgTemplate(const CorpCredentials& corp, const std::string& sender,
                                                            const std::vector<std::string>& external_userids,
                                                            const json::object& content) {
  return AddTemplate(corp, "single", sender, external_userids, content);
}

Result<WecomClient::MsgTemplate> WecomClient::AddGroupMsgTemplate(const CorpCredentials& corp,
                                                                 const std::string& sender,
                                                                 const std::vector<std::string>& chat_ids,
                                                                 const json::object& content) {
  return AddTemplate(corp, "group", sender, chat_ids, content);
}

Result<WecomClient::MsgTemplate> WecomClient::AddTemplate(const CorpCredentials& corp, const std::string& chat_type,
                                                         const std::string& sender,
                                                         const std::vector<std::string>& recipients,
                                                         const json::object& content) {
  json::object body = content;
  body["chat_type"] = chat_type;
  body["sender"] = sender;
  body[chat_type == "group" ? "chat_id_list" : "external_userid"] = JsonArray(recipients);
  // Not idempotent: a message WeCom created before the connection dropped would be created twice by a retry.
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/add_msg_template", {}, body, false));
  MsgTemplate out{.msgid = Str(o, "msgid"), .fail_list = {}};
  for (const auto& v : Arr(o, "fail_list"))
    if (v.is_string()) out.fail_list.emplace_back(v.as_string());
  if (out.msgid.empty()) return Status::Internal("wecom_bad_response", "add_msg_template answered without a msgid");
  return out;
}

Result<Page<WecomClient::GroupMsg>> WecomClient::ListGroupMsgs(const CorpCredentials& corp, int64_t start_s,
                                                              int64_t end_s, int filter_type,
                                                              const std::string& cursor, int limit,
                                                              const std::string& chat_type) {
  json::object body{{"chat_type", chat_type}, {"start_time", start_s}, {"end_time", end_s},
                    {"filter_type", filter_type}, {"limit", limit}};
  if (!cursor.empty()) body["cursor"] = cursor;
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get_groupmsg_list_v2", {}, body));
  Page<GroupMsg> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& v : Arr(o, "group_msg_list")) {
    if (!v.is_object()) continue;
    const auto& m = v.as_object();
    page.items.push_back({.msgid = Str(m, "msgid"), .creator = Str(m, "creator"), .text = Str(Obj(m, "text"), "content"),
                          .create_time = Int(m, "create_time"), .create_type = static_cast<int>(Int(m, "create_type"))});
  }
  return page;
}

Result<Page<WecomClient::GroupMsgTask>> WecomClient::GetGroupMsgTasks(const CorpCredentials& corp,
                                                                     const std::string& msgid,
                                                                     const std::string& cursor, int limit) {
  json::object body{{"msgid", msgid}, {"limit", limit}};
  if (!cursor.empty()) body["cursor"] = cursor;
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get_groupmsg_task", {}, body));
  Page<GroupMsgTask> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& v : Arr(o, "task_list")) {
    if (!v.is_object()) continue;
    const auto& t = v.as_object();
    page.items.push_back({.userid = Str(t, "userid"), .status = static_cast<int>(Int(t, "status")),
                          .send_time = Int(t, "send_time")});
  }
  return page;
}

Result<Page<WecomClient::GroupMsgSend>> WecomClient::GetGroupMsgSendResults(const CorpCredentials& corp,
                                                                           const std::string& msgid,
                                                                           const std::string& userid,
                                                                           const std::string& cursor, int limit) {
  json::object body{{"msgid", msgid}, {"userid", userid}, {"limit", limit}};
  if (!cursor.empty()) body["cursor"] = cursor;
  KOI_ASSIGN_OR_RETURN(auto o, Call(corp, "/cgi-bin/externalcontact/get_groupmsg_send_result", {}, body));
  Page<GroupMsgSend> page;
  page.next_cursor = Str(o, "next_cursor");
  for (const auto& v : Arr(o, "send_list")) {
    if (!v.is_object()) continue;
    const auto& r = v.as_object();
    page.items.push_back({.external_userid = Str(r, "external_userid"), .userid = Str(r, "userid"),
                          .chat_id = Str(r, "chat_id"), .status = static_cast<int>(Int(r, "status")),
                          .send_time = Int(r, "send_time")});
  }
  return page;
}

Status WecomClient::RemindGroupMsg(const CorpCredentials& corp, const std::string& msgid) {
  return Call(corp, "/cgi-bin/externalcontact/remind_groupmsg_send", {}, json::object{{"msgid", msgid}}).status();
}

Status WecomClient::CancelGroupMsg(const CorpCredentials& corp, const std::string& msgid) {
  return Call(corp, "/cgi-bin/externalcontact/cancel_groupmsg_send", {}, json::object{{"msgid", msgid}}).status();
}

namespace {

// A multipart boundary that does not occur in `bytes` (a random one of 40 characters almost never does; RFC 2046
// allows up to 70).
std::string BoundaryFor(std::string_view bytes) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    std::string boundary = "KoiMediaBoundary";
    for (int i = 0; i < 24; ++i) boundary += kChars[rng() % (sizeof(kChars) - 1)];
    if (bytes.find(boundary) == std::string_view::npos) return boundary;
  }
}

// The filename as a quoted Content-Disposition parameter, with quotes and line breaks escaped as browsers do
// (HTML's multipart/form-data encoding), so no name can end the header early.
std::string QuotedFilename(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += "%22";
    else if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out + "\"";
}

// A MIME type fit for a part header (printable ASCII); anything else goes as application/octet-stream.
std::string PartContentType(std::string_view type) {
  bool printable = !type.empty() && type.size() <= 255;
  for (char c : type) printable = printable && c >= 0x20 && c < 0x7f;
  return printable ? std::string(type) : "application/octet-stream";
}

}  // namespace

Result<UploadedMedia> WecomClient::UploadMedia(const CorpCredentials& corp, const std::string& type,
                                               const std::string& filename, const std::string& content_type,
                                               std::string_view bytes) {
  // One part named "media", as WeCom's doc shows it: filename and filelength in the Content-Disposition.
  const std::string boundary = BoundaryFor(bytes);
  std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"media\"; filename=" +
                     QuotedFilename(filename) + "; filelength=" + std::to_string(bytes.size()) +
                     "\r\nContent-Type: " + PartContentType(content_type) + "\r\n\r\n";
  body.reserve(body.size() + bytes.size() + boundary.size() + 8);
  body.append(bytes);
  body += "\r\n--" + boundary + "--\r\n";
  KOI_ASSIGN_OR_RETURN(auto o, Send(corp, "/cgi-bin/media/upload", {{"type", type}}, "POST", body,
                                    "multipart/form-data; boundary=" + boundary, true));
  UploadedMedia out{.media_id = Str(o, "media_id"), .created_at = Int(o, "created_at")};
  if (out.media_id.empty())
    return Status::Unavailable("wecom_bad_response", "media/upload answered without a media_id");
  return out;
}

}  // namespace koi::wecom
