// The chat toolbar end to end against the sandbox, through Koi's HTTP routes: a member opens Koi's sidebar page in
// the (simulated) WeCom client, is signed in by WeCom's OAuth, the page's agentConfig signature passes the client's
// check, and the page shows and tags the chat's customer as the member's own relationship sees them. Also the
// refusals on the way (a foreign state, a used code, another member's customer, a missing CSRF token) and the setup
// page's checks. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <set>

#include <boost/json.hpp>

#include "core/utf8.h"
#include "domain/apps/apps.h"
#include "domain/customers/customers.h"
#include "domain/customers/tags.h"
#include "domain/wecom_link/sidebar.h"
#include "http/auth_guard.h"
#include "http/sidebar_routes.h"
#include "http/target.h"
#include "toolbar.h"
#include "wecom_fixture.h"

namespace koi::wecom_link {
namespace {

namespace json = boost::json;
using testing::TestEngine;

constexpr const char* kKoi = "https://koi.test";
constexpr const char* kAgent = "1000002";

std::string HeaderOf(const http::Response& r, const std::string& name, const std::string& starting = "") {
  for (const auto& [k, v] : r.headers)
    if (k == name && v.rfind(starting, 0) == 0) return v;
  return "";
}

// "name=value; Path=…" → "value".
std::string CookieValue(const std::string& set_cookie) {
  auto eq = set_cookie.find('=');
  return set_cookie.substr(eq + 1, set_cookie.find(';') - eq - 1);
}

// "name=value; Path=…" → "name=value": the cookie as the browser sends it back.
std::string CookiePair(const std::string& set_cookie) { return set_cookie.substr(0, set_cookie.find(';')); }

// Query parameter `key` of `url`, percent-decoded ("" when absent).
std::string Param(const std::string& url, const std::string& key) {
  http::Request r;
  r.target = url.substr(url.find('/', url.find("://") + 3));
  if (!http::ParseTarget(r).ok()) return "";
  return r.Query(key);
}

class SidebarTest : public WecomBench {
 protected:
  void Start(storage::Database& db) {
    LinkTeamAndSync(db, 80, "t");
    if (HasFatalFailure()) return;
    // The self-built app's AgentId, as the admin enters it on the link form.
    ASSERT_TRUE(link_->LinkSelfBuilt(admin_, {.corp_id = spec_.corp_id, .secret = spec_.secret, .callback_token = "t",
                                              .encoding_aes_key = kAesKey, .agent_id = kAgent}, {}).ok());
    toolbar_api_ = std::make_unique<sandbox::ToolbarApi>(*world_, clock_, *sandbox_);
    toolbar_api_->AddRoutes(router_);
    page_url_ = std::string(kKoi) + "/sidebar/" + spec_.corp_id + "/customer";
    ASSERT_TRUE(sandbox::ConfigureToolbar(*world_, clock_, spec_.corp_id,
                                          {.agent_id = kAgent, .trusted_domain = "koi.test",
                                           .entries = {{"客户画像", page_url_}}}).ok());
    customers_ = std::make_unique<customers::CustomerService>(db, clock_);
    tags_ = std::make_unique<customers::TagService>(db, clock_, *queue_, *client_, *link_, *customers_);
    apps_ = std::make_unique<apps::AppService>(db, clock_);
    sidebar_ = std::make_unique<Sidebar>(
        db, clock_, *client_, *link_,
        SidebarSettings{.public_url = kKoi,
                        .oauth_url = std::string(testing::kSandboxBaseUrl) + "/connect/oauth2/authorize",
                        .bridge_origin = testing::kSandboxBaseUrl,
                        .fetch = [this](const std::string& url) -> Result<std::pair<int, std::string>> {
                          if (page_down_) return Status::Unavailable("unreachable", "connection refused");
                          EXPECT_EQ(url, page_url_);
                          return std::make_pair(200, std::string("<div id=\"app\"></div>"));
                        }});
    guard_ = std::make_unique<http::AuthGuard>(*accounts_, *apps_, true);
    groups_ = std::make_unique<customers::GroupService>(db, clock_);
    http::AddSidebarRoutes(koi_router_, *guard_, {*sidebar_, *customers_, *tags_, *groups_, true});
    koi_ = std::make_unique<http::Dispatcher>(koi_router_, nullptr);
    // A member with customers, and one of their customers.
    auto f = world_->Query("SELECT f.userid, f.external_userid FROM follows f JOIN employees e ON e.corp_id = "
                           "f.corp_id AND e.userid = f.userid WHERE e.status = 1 ORDER BY f.userid, f.external_userid "
                           "LIMIT 1");
    ASSERT_TRUE(f.ok() && !f->rows.empty());
    member_ = f->rows[0].Text(0);
    customer_ = f->rows[0].Text(1);
  }

  http::Response Koi(const std::string& method, const std::string& target, const std::string& cookie = "",
                     const std::string& body = "", const std::string& csrf = "") {
    http::Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.remote_addr = "10.0.0.7";
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    if (!csrf.empty()) r.headers["x-csrf-token"] = csrf;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    return koi_->Handle(r);
  }
  // What WeCom's client does with a URL on WeCom's side (the sandbox), signed in as `userid`.
  http::Response Wecom(const std::string& url, const std::string& userid, const std::string& method = "GET",
                       const std::string& body = "") {
    http::Request r;
    r.method = method;
    std::string u = url.substr(0, url.find('#'));
    r.target = u.substr(std::string(testing::kSandboxBaseUrl).size());
    r.body = body;
    r.remote_addr = "10.0.0.7";
    r.headers["cookie"] = std::string(sandbox::ToolbarApi::kMemberCookie) + "=" + spec_.corp_id + ":" + userid;
    if (!body.empty()) r.headers["content-type"] = "application/json";
    return dispatcher_->Handle(r);
  }
  static json::object Data(const http::Response& r) {
    auto v = json::parse(r.body);
    return v.as_object().at("data").as_object();
  }
  static std::string Reason(const http::Response& r) {
    return std::string(json::parse(r.body).as_object().at("reason").as_string());
  }

  // The page's whole sign-in as `userid`: start → WeCom's OAuth → return. Returns the sidebar cookie ("" on failure,
  // with the page's ?error= in `error`).
  std::string SignIn(const std::string& userid, std::string* error = nullptr) {
    http::Response start = Koi("GET", "/api/v1/sidebar/oauth/start?corp=" + spec_.corp_id + "&page=customer");
    EXPECT_EQ(start.status, 302);
    const std::string oauth = HeaderOf(start, "Location");
    const std::string state_cookie = CookiePair(HeaderOf(start, "Set-Cookie", "koi_sidebar_state_"));
    http::Response authorized = Wecom(oauth, userid);
    EXPECT_EQ(authorized.status, 302) << authorized.body;
    const std::string back = HeaderOf(authorized, "Location");
    EXPECT_EQ(back.rfind(std::string(kKoi) + "/api/v1/sidebar/oauth/return?", 0), 0u) << back;
    http::Response returned = Koi("GET", back.substr(std::string(kKoi).size()), state_cookie);
    EXPECT_EQ(returned.status, 302);
    const std::string to = HeaderOf(returned, "Location");
    if (error != nullptr) *error = Param(std::string(kKoi) + to, "error");
    std::string session = HeaderOf(returned, "Set-Cookie", "koi_sidebar=");
    return session.empty() ? "" : "koi_sidebar=" + CookieValue(session);
  }

  std::unique_ptr<sandbox::ToolbarApi> toolbar_api_;
  std::unique_ptr<customers::CustomerService> customers_;
  std::unique_ptr<customers::TagService> tags_;
  std::unique_ptr<customers::GroupService> groups_;
  std::unique_ptr<apps::AppService> apps_;
  std::unique_ptr<Sidebar> sidebar_;
  std::unique_ptr<http::AuthGuard> guard_;
  http::Router koi_router_;
  std::unique_ptr<http::Dispatcher> koi_;
  std::string page_url_, member_, customer_;
  bool page_down_ = false;
};

TEST_P(SidebarTest, AMemberOpensTheSidebarSeesTheChatCustomerAndTagsThem) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Start(*t.db);
  if (HasFatalFailure()) return;

  // Before signing in: no session, and the OAuth URL names the app as WeCom wants it.
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/session")), "sidebar_unauthenticated");
  http::Response start = Koi("GET", "/api/v1/sidebar/oauth/start?corp=" + spec_.corp_id + "&page=customer");
  const std::string oauth = HeaderOf(start, "Location");
  EXPECT_EQ(Param(oauth, "appid"), spec_.corp_id);
  EXPECT_EQ(Param(oauth, "agentid"), kAgent);
  EXPECT_EQ(Param(oauth, "scope"), "snsapi_base");
  EXPECT_NE(oauth.find("#wechat_redirect"), std::string::npos);
  EXPECT_NE(HeaderOf(start, "Set-Cookie", "koi_sidebar_state_").find("HttpOnly"), std::string::npos);

  const std::string cookie = SignIn(member_);
  ASSERT_FALSE(cookie.empty());
  http::Response s = Koi("GET", "/api/v1/sidebar/session", cookie);
  ASSERT_EQ(s.status, 200) << s.body;
  json::object session = Data(s);
  EXPECT_EQ(session.at("userid").as_string(), member_);
  EXPECT_EQ(session.at("bridge_origin").as_string(), testing::kSandboxBaseUrl);
  const std::string csrf(session.at("csrf_token").as_string());

  // agentConfig: Koi signs the page's URL; WeCom's client accepts exactly that (and not another URL).
  const std::string href = page_url_ + "?from=chat#top";
  http::Response signed_config = Koi("GET", "/api/v1/sidebar/agent-config?url=" + PercentEncode(href), cookie);
  ASSERT_EQ(signed_config.status, 200) << signed_config.body;
  json::object c = Data(signed_config);
  json::object check{{"corpid", c.at("corp_id")}, {"agentid", c.at("agent_id")},
                     {"timestamp", std::to_string(c.at("timestamp").as_int64())}, {"nonceStr", c.at("nonce_str")},
                     {"signature", c.at("signature")}, {"url", href}};
  auto verdict = [&](const json::object& params) {
    http::Response r = Wecom(std::string(testing::kSandboxBaseUrl) + "/sandbox/jsapi/agent-config", member_, "POST",
                             json::serialize(params));
    return std::string(json::parse(r.body).as_object().at("err_msg").as_string());
  };
  EXPECT_EQ(verdict(check), "agentConfig:ok");
  json::object other = check;
  other["url"] = std::string(kKoi) + "/sidebar/" + spec_.corp_id + "/other";
  EXPECT_NE(verdict(other), "agentConfig:ok");
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/agent-config?url=" + PercentEncode("https://evil.test/x"), cookie)),
            "sidebar_url_foreign");
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/agent-config?url=" + PercentEncode(std::string(kKoi) + "/scrm/setup"),
                       cookie)), "sidebar_url_foreign");
  // The ticket is fetched once and cached until 5 minutes before its 2 hours end, then fetched again.
  Koi("GET", "/api/v1/sidebar/agent-config?url=" + PercentEncode(href), cookie);
  EXPECT_EQ(sandbox_->CallCounts().at({spec_.corp_id, "/cgi-bin/ticket/get"}), 1);
  clock_.Advance(116 * 60'000);
  http::Response later = Koi("GET", "/api/v1/sidebar/agent-config?url=" + PercentEncode(href), cookie);
  EXPECT_EQ(sandbox_->CallCounts().at({spec_.corp_id, "/cgi-bin/ticket/get"}), 2);
  check = json::object{{"corpid", Data(later).at("corp_id")}, {"agentid", Data(later).at("agent_id")},
                       {"timestamp", std::to_string(Data(later).at("timestamp").as_int64())},
                       {"nonceStr", Data(later).at("nonce_str")}, {"signature", Data(later).at("signature")},
                       {"url", href}};
  EXPECT_EQ(verdict(check), "agentConfig:ok");

  // The chat's customer, as this member's relationship sees it.
  http::Response got = Koi("GET", "/api/v1/sidebar/customers/" + customer_, cookie);
  ASSERT_EQ(got.status, 200) << got.body;
  json::object profile = Data(got);
  EXPECT_EQ(profile.at("relationship").as_object().at("userid").as_string(), member_);
  // Another member's customer is not shown.
  auto theirs = world_->Query("SELECT external_userid FROM follows WHERE corp_id = ? AND external_userid NOT IN "
                              "(SELECT external_userid FROM follows WHERE userid = ?) LIMIT 1",
                              {spec_.corp_id, member_});
  ASSERT_TRUE(theirs.ok() && !theirs->rows.empty());
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/customers/" + theirs->rows[0].Text(0), cookie)), "customer_not_found");

  // Tagging: in WeCom first, then the mirror; the token is required.
  auto tag = world_->Query("SELECT tag_id FROM tags WHERE corp_id = ? AND tag_id NOT IN (SELECT tag_id FROM "
                           "follow_tags WHERE userid = ? AND external_userid = ?) ORDER BY tag_id LIMIT 1",
                           {spec_.corp_id, member_, customer_});
  ASSERT_TRUE(tag.ok() && !tag->rows.empty());
  const std::string tag_id = tag->rows[0].Text(0);
  const std::string body = json::serialize(json::object{{"add", json::array{json::string(tag_id)}}});
  const std::string tags_path = "/api/v1/sidebar/customers/" + customer_ + "/tags";
  EXPECT_EQ(Reason(Koi("POST", tags_path, cookie, body)), "csrf_failed");
  http::Response tagged = Koi("POST", tags_path, cookie, body, csrf);
  ASSERT_EQ(tagged.status, 200) << tagged.body;
  auto in_wecom = world_->Query("SELECT COUNT(*) FROM follow_tags WHERE userid = ? AND external_userid = ? AND "
                                "tag_id = ?", {member_, customer_, tag_id});
  EXPECT_EQ(in_wecom->rows.at(0).Int(0), 1);
  bool shown = false;
  const json::object tagged_data = Data(tagged);
  for (const auto& x : tagged_data.at("tags").as_array()) shown = shown || x.as_object().at("tag_id").as_string() == tag_id;
  EXPECT_TRUE(shown);
  const json::object after = Data(Koi("GET", "/api/v1/sidebar/customers/" + customer_, cookie));
  const json::array& timeline = after.at("timeline").as_array();
  ASSERT_FALSE(timeline.empty());
  EXPECT_EQ(timeline[0].as_object().at("kind").as_string(), "tagged");

  // The setup page: the URL to configure, and every check passes now that a member opened it.
  auto setup = sidebar_->Setup(admin_.team);
  ASSERT_TRUE(setup.ok());
  ASSERT_EQ(setup->entries.size(), 2u);
  EXPECT_EQ(setup->entries[0].url, page_url_);
  EXPECT_EQ(setup->entries[1].url, std::string(kKoi) + "/sidebar/" + spec_.corp_id + "/group");
  EXPECT_EQ(setup->entries[1].name_zh, "群画像");
  EXPECT_EQ(setup->trusted_domain, "koi.test");
  ASSERT_TRUE(setup->last_open.has_value());
  EXPECT_EQ(setup->last_open->userid, member_);
  auto checks = sidebar_->RunChecks(admin_);
  ASSERT_TRUE(checks.ok()) << checks.status().ToString();
  for (const auto& k : *checks) EXPECT_EQ(k.result, "ok") << k.key << ": " << k.reason << " " << k.detail;
  page_down_ = true;
  checks = sidebar_->RunChecks(admin_);
  EXPECT_EQ((*checks)[3].key, "page");
  EXPECT_EQ((*checks)[3].reason, "sidebar_page_unreachable");

  // Logging out ends the session.
  EXPECT_EQ(Reason(Koi("POST", "/api/v1/sidebar/logout", cookie)), "csrf_failed");
  EXPECT_EQ(Koi("GET", "/api/v1/sidebar/session", cookie).status, 200);
  EXPECT_EQ(Koi("POST", "/api/v1/sidebar/logout", cookie, "", csrf).status, 200);
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/session", cookie)), "sidebar_unauthenticated");
}

// 群画像: a member in a group chat sees the group, its make-up counted against the mirror, their own customers in it
// marked, members paged newest first, and Koi's group tags of this team only. A member not in the group, and a group
// Koi does not have, get the same group_not_found.
TEST_P(SidebarTest, AMemberInAGroupChatSeesTheGroupAndOthersDoNot) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Start(*t.db);
  if (HasFatalFailure()) return;
  const int64_t team = admin_.team.value();
  // A group whose owner (an active employee) follows some of its customers but not all.
  constexpr char kOwnersCustomer[] = "SELECT 1 FROM wecom_group_members m WHERE m.team_id = g.team_id AND m.chat_id = "
                                     "g.chat_id AND m.type = 2 AND %s EXISTS (SELECT 1 FROM wecom_follows f WHERE "
                                     "f.team_id = m.team_id AND f.userid = g.owner AND f.external_userid = m.member_id "
                                     "AND f.deleted_at IS NULL)";
  auto owners = [&](const char* negation) {
    std::string sql(kOwnersCustomer);
    return sql.replace(sql.find("%s"), 2, negation);
  };
  auto g = t.db->Query("SELECT g.chat_id, g.owner, g.name FROM wecom_group_chats g JOIN wecom_employees e ON "
                       "e.team_id = g.team_id AND e.userid = g.owner WHERE g.team_id = ? AND e.status = 1 AND EXISTS (" +
                           owners("") + ") AND EXISTS (" + owners("NOT") + ") ORDER BY g.chat_id LIMIT 1",
                       {team});
  ASSERT_TRUE(g.ok() && !g->rows.empty());
  const std::string chat = g->rows[0].Text(0), owner = g->rows[0].Text(1);
  // What the mirror holds, read apart from the route's own SQL.
  std::set<std::string> customers_in, employees_in, owners_customers;
  auto in_group = t.db->Query("SELECT member_id, type, join_time FROM wecom_group_members WHERE team_id = ? AND "
                              "chat_id = ?",
                              {team, chat});
  auto follows = t.db->Query("SELECT external_userid FROM wecom_follows WHERE team_id = ? AND userid = ? AND "
                             "deleted_at IS NULL",
                             {team, owner});
  ASSERT_TRUE(in_group.ok() && follows.ok());
  int64_t joined_7d = 0;
  for (const auto& m : in_group->rows) {
    (m.Int(1) == 2 ? customers_in : employees_in).insert(m.Text(0));
    joined_7d += m.Int(2) >= clock_.NowSeconds() - 7 * 86'400;
  }
  for (const auto& f : follows->rows) owners_customers.insert(f.Text(0));
  int64_t mine = 0;
  for (const auto& c : customers_in) mine += owners_customers.count(c);
  ASSERT_GE(customers_in.size() + employees_in.size(), 3u) << "the seeded group is too small to page";
  ASSERT_GT(mine, 0) << "the owner follows none of the group's customers: the mark would go untested";
  ASSERT_LT(mine, static_cast<int64_t>(customers_in.size())) << "every customer is the owner's: likewise";
  // A group tag of this team on it, and another team's tag on a group of the same id (must not show).
  ASSERT_TRUE(t.db->Exec("INSERT INTO group_tags (team_id, name, created_by, created_at) VALUES (?, '高意向', 0, 0), "
                         "(?, '别队的', 0, 0)",
                         {team, team + 1000}).ok());
  auto tag_ids = t.db->Query("SELECT id FROM group_tags WHERE team_id IN (?, ?) ORDER BY team_id", {team, team + 1000});
  ASSERT_TRUE(tag_ids.ok() && tag_ids->rows.size() == 2);
  ASSERT_TRUE(t.db->Exec("INSERT INTO group_chat_tags (team_id, chat_id, tag_id) VALUES (?, ?, ?), (?, ?, ?)",
                         {team, chat, tag_ids->rows[0].Int(0), team + 1000, chat, tag_ids->rows[1].Int(0)}).ok());
  auto facts = t.db->Query("SELECT g.notice, e.name FROM wecom_group_chats g JOIN wecom_employees e ON e.team_id = "
                           "g.team_id AND e.userid = g.owner WHERE g.team_id = ? AND g.chat_id = ?",
                           {team, chat});
  ASSERT_TRUE(facts.ok() && !facts->rows.empty());

  const std::string cookie = SignIn(owner);
  ASSERT_FALSE(cookie.empty());
  http::Response r = Koi("GET", "/api/v1/sidebar/groups/" + chat + "?page_size=2", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  json::object group = Data(r);
  EXPECT_EQ(group.at("name").as_string(), g->rows[0].Text(2));
  EXPECT_EQ(group.at("owner").as_string(), owner);
  EXPECT_EQ(group.at("customers").as_int64(), static_cast<int64_t>(customers_in.size()));
  EXPECT_EQ(group.at("employees").as_int64(), static_cast<int64_t>(employees_in.size()));
  EXPECT_EQ(group.at("my_customers").as_int64(), mine);
  EXPECT_EQ(group.at("joined_7d").as_int64(), joined_7d);
  EXPECT_EQ(group.at("notice").as_string(), facts->rows[0].Text(0));
  EXPECT_EQ(group.at("owner_name").as_string(), facts->rows[0].Text(1));
  ASSERT_EQ(group.at("tags").as_array().size(), 1u);
  EXPECT_EQ(group.at("tags").as_array()[0].as_object().at("name").as_string(), "高意向");
  json::object members = group.at("members").as_object();
  EXPECT_EQ(members.at("total").as_int64(), static_cast<int64_t>(customers_in.size() + employees_in.size()));
  // Every page, two at a time: each member once, newest first, "mine" exactly for the owner's customers.
  std::set<std::string> seen;
  int64_t last_join = INT64_MAX, marked = 0;
  for (int page = 1; page <= (members.at("total").as_int64() + 1) / 2; ++page) {
    http::Response p = Koi("GET", "/api/v1/sidebar/groups/" + chat + "?page_size=2&page=" + std::to_string(page),
                           cookie);
    ASSERT_EQ(p.status, 200) << p.body;
    const json::object data = Data(p);
    for (const auto& item : data.at("members").as_object().at("items").as_array()) {
      const json::object& m = item.as_object();
      const std::string id(m.at("member_id").as_string());
      EXPECT_TRUE(seen.insert(id).second) << id << " on two pages";
      EXPECT_LE(m.at("join_time").as_int64(), last_join);
      last_join = m.at("join_time").as_int64();
      EXPECT_EQ(m.at("type").as_int64(), customers_in.count(id) ? 2 : 1);
      EXPECT_EQ(m.at("my_customer").as_bool(), customers_in.count(id) && owners_customers.count(id)) << id;
      EXPECT_FALSE(m.at("name").as_string().empty());
      marked += m.at("my_customer").as_bool();
    }
  }
  EXPECT_EQ(seen.size(), customers_in.size() + employees_in.size());
  EXPECT_EQ(marked, mine);

  // A member of the corp in the group (not its owner) sees it too, with their own customers marked.
  auto member = t.db->Query("SELECT m.chat_id, m.member_id FROM wecom_group_members m JOIN wecom_group_chats g ON "
                            "g.team_id = m.team_id AND g.chat_id = m.chat_id JOIN wecom_employees e ON e.team_id = "
                            "m.team_id AND e.userid = m.member_id WHERE m.team_id = ? AND m.type = 1 AND m.member_id "
                            "<> g.owner AND e.status = 1 ORDER BY m.chat_id, m.member_id LIMIT 1",
                            {team});
  ASSERT_TRUE(member.ok() && !member->rows.empty()) << "no group has a member of the corp besides its owner";
  const std::string member_cookie = SignIn(member->rows[0].Text(1));
  ASSERT_FALSE(member_cookie.empty());
  http::Response as_member = Koi("GET", "/api/v1/sidebar/groups/" + member->rows[0].Text(0), member_cookie);
  ASSERT_EQ(as_member.status, 200) << as_member.body;
  auto members_customers = t.db->Query(
      "SELECT COUNT(*) FROM wecom_group_members m JOIN wecom_follows f ON f.team_id = m.team_id AND f.external_userid = "
      "m.member_id WHERE m.team_id = ? AND m.chat_id = ? AND m.type = 2 AND f.userid = ? AND f.deleted_at IS NULL",
      {team, member->rows[0].Text(0), member->rows[0].Text(1)});
  EXPECT_EQ(Data(as_member).at("my_customers").as_int64(), members_customers->rows[0].Int(0));

  // An active employee who is neither in the group nor its owner sees nothing of it; nor does anyone of a group Koi
  // does not have.
  auto outsider = t.db->Query("SELECT userid FROM wecom_employees e WHERE team_id = ? AND status = 1 AND userid <> ? "
                              "AND NOT EXISTS (SELECT 1 FROM wecom_group_members m WHERE m.team_id = e.team_id AND "
                              "m.chat_id = ? AND m.member_id = e.userid) ORDER BY userid LIMIT 1",
                              {team, owner, chat});
  ASSERT_TRUE(outsider.ok() && !outsider->rows.empty());
  const std::string other = SignIn(outsider->rows[0].Text(0));
  ASSERT_FALSE(other.empty());
  http::Response refused = Koi("GET", "/api/v1/sidebar/groups/" + chat, other);
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(Reason(refused), "group_not_found");
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/groups/wrnosuchgroup", cookie)), "group_not_found");
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/groups/" + chat)), "sidebar_unauthenticated");
  EXPECT_EQ(Koi("GET", "/api/v1/sidebar/groups/" + chat + "?page_size=500", cookie).status, 400);
}

TEST_P(SidebarTest, SignInRefusesAForeignStateAUsedCodeAndStrangers) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Start(*t.db);
  if (HasFatalFailure()) return;

  http::Response start = Koi("GET", "/api/v1/sidebar/oauth/start?corp=" + spec_.corp_id + "&page=customer");
  const std::string state = CookiePair(HeaderOf(start, "Set-Cookie", "koi_sidebar_state_"));
  const std::string back = HeaderOf(Wecom(HeaderOf(start, "Location"), member_), "Location");
  const std::string path = back.substr(std::string(kKoi).size());
  // Another browser's state (a link sent to someone): refused, and the page is told why.
  http::Response foreign = Koi("GET", path, state.substr(0, state.find('=') + 1) + "someone-elses");
  EXPECT_EQ(Param(std::string(kKoi) + HeaderOf(foreign, "Location"), "error"), "sidebar_state_invalid");
  EXPECT_EQ(HeaderOf(foreign, "Set-Cookie", "koi_sidebar="), "");
  EXPECT_EQ(Param(std::string(kKoi) + HeaderOf(Koi("GET", path), "Location"), "error"), "sidebar_state_invalid");
  // Two sign-ins in flight at once (two chats opened together): each comes back with its own state cookie.
  http::Response second = Koi("GET", "/api/v1/sidebar/oauth/start?corp=" + spec_.corp_id + "&page=customer");
  const std::string second_state = CookiePair(HeaderOf(second, "Set-Cookie", "koi_sidebar_state_"));
  EXPECT_NE(second_state.substr(0, second_state.find('=')), state.substr(0, state.find('=')));
  const std::string second_back = HeaderOf(Wecom(HeaderOf(second, "Location"), member_), "Location");
  EXPECT_NE(HeaderOf(Koi("GET", second_back.substr(std::string(kKoi).size()), state + "; " + second_state),
                     "Set-Cookie", "koi_sidebar="), "");
  // The right state: signed in once; the same code again is refused by WeCom.
  EXPECT_NE(HeaderOf(Koi("GET", path, state + "; " + second_state), "Set-Cookie", "koi_sidebar="), "");
  http::Response again = Koi("GET", path, state);
  EXPECT_EQ(Param(std::string(kKoi) + HeaderOf(again, "Location"), "error"), "wecom_invalid_oauth_code");

  // A member who resigns: the open session ends, and signing in again is refused.
  const std::string cookie = SignIn(member_);
  ASSERT_EQ(Koi("GET", "/api/v1/sidebar/session", cookie).status, 200);
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_employees SET status = 5 WHERE userid = ?", {member_}).ok());
  EXPECT_EQ(Reason(Koi("GET", "/api/v1/sidebar/customers/" + customer_, cookie)), "sidebar_unauthenticated");
  std::string error;
  EXPECT_EQ(SignIn(member_, &error), "");
  EXPECT_EQ(error, "sidebar_not_an_employee");

  // An unknown corp or page goes back to the page with the reason, not to WeCom.
  http::Response unknown = Koi("GET", "/api/v1/sidebar/oauth/start?corp=wwnobody&page=customer");
  EXPECT_EQ(HeaderOf(unknown, "Location"), "/sidebar/wwnobody/customer?error=wecom_not_linked");
  http::Response page = Koi("GET", "/api/v1/sidebar/oauth/start?corp=" + spec_.corp_id + "&page=../../x");
  EXPECT_EQ(HeaderOf(page, "Location"), "/sidebar/" + spec_.corp_id + "/customer?error=sidebar_page_unknown");
}

// Only a stand-in on this machine may frame the sidebar and answer its bridge.
TEST(SidebarLoopbackOrigin, TrustsOnlyPlainHttpToThisMachine) {
  EXPECT_EQ(Sidebar::LoopbackOrigin("http://127.0.0.1:9080"), "http://127.0.0.1:9080");
  EXPECT_EQ(Sidebar::LoopbackOrigin("http://127.0.0.1:9080/"), "http://127.0.0.1:9080");
  EXPECT_EQ(Sidebar::LoopbackOrigin("http://127.1.2.3"), "http://127.1.2.3");
  EXPECT_EQ(Sidebar::LoopbackOrigin("http://localhost:9080/cgi-bin"), "http://localhost:9080");
  EXPECT_EQ(Sidebar::LoopbackOrigin("http://[::1]:9080"), "http://[::1]:9080");
  for (const char* foreign : {"https://qyapi.weixin.qq.com", "http://127.evil.com:9080", "http://127.0.0.1.attacker.net",
                              "http://localhost:9080@evil.com", "http://localhost.evil.com", "http://10.0.0.1:9080",
                              "https://127.0.0.1:9080", "http://127.0.0.1:90x", "http://127.0.0.256", "http://[::2]:1",
                              ""})
    EXPECT_EQ(Sidebar::LoopbackOrigin(foreign), "") << foreign;
}

INSTANTIATE_TEST_SUITE_P(Engines, SidebarTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::wecom_link
