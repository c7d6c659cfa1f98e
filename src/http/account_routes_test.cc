// The accounts API through the dispatcher, as a browser would use it: cookies, CSRF, roles, apps and team isolation.
#include "http/account_routes.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "http/dispatcher.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::http {
namespace {

using testing::TestEngine;
namespace json = boost::json;

class CodeSms final : public accounts::SmsSender {
 public:
  std::string_view name() const override { return "test"; }
  Status Send(const accounts::SmsMessage& m) override {
    if (m.kind == accounts::SmsMessage::Kind::kCode) last_code[m.phone] = m.code;
    return Status::Ok();
  }
  std::map<std::string, std::string> last_code;
};

// One browser: a cookie jar and the CSRF header the console sends.
struct Browser {
  std::map<std::string, std::string> cookies;
  std::string ip = "10.0.0.1";

  Request Make(const std::string& method, const std::string& target, const std::string& body) {
    Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.remote_addr = ip;
    r.headers["host"] = "koi.test";
    if (!body.empty()) r.headers["content-type"] = "application/json";
    std::string jar;
    for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
    if (!jar.empty()) r.headers["cookie"] = jar;
    if (method != "GET" && cookies.count("koi_csrf")) r.headers["x-csrf-token"] = cookies["koi_csrf"];
    return r;
  }
  void Absorb(const Response& resp) {
    for (const auto& [k, v] : resp.headers) {
      if (k != "Set-Cookie") continue;
      auto eq = v.find('='), semi = v.find(';');
      std::string name = v.substr(0, eq), value = v.substr(eq + 1, semi - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos) cookies.erase(name);
      else cookies[name] = value;
    }
  }
};

class AccountRoutesTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  void Open(testing::TestDatabase& t) {
    ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
    accounts_ = std::make_unique<accounts::AccountService>(
        *t.db, clock_, sms_, accounts::AccountsOptions{.ip_login_limit = 1000, .sms_ip_hourly_limit = 1000});
    apps_ = std::make_unique<apps::AppService>(*t.db, clock_);
    guard_ = std::make_unique<AuthGuard>(*accounts_, *apps_, false);
    AddAccountRoutes(router_, *guard_, *accounts_, *apps_);
    dispatcher_ = std::make_unique<Dispatcher>(router_, nullptr);
  }

  Response Call(Browser& b, const std::string& method, const std::string& target, const json::value& body = nullptr) {
    Request r = b.Make(method, target, body.is_null() ? "" : json::serialize(body));
    Response resp = dispatcher_->Handle(r);
    b.Absorb(resp);
    return resp;
  }
  static json::object Env(const Response& r) { return json::parse(r.body).as_object(); }
  static std::string Reason(const Response& r) {
    auto e = Env(r);
    return e.contains("reason") ? std::string(e["reason"].as_string()) : "";
  }

  // Registers a team in `b` through the public API and returns its team id.
  int64_t Register(Browser& b, const std::string& phone, const std::string& team) {
    Call(b, "GET", "/api/v1/auth/session");
    Response sent = Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", phone}, {"purpose", "register"}});
    EXPECT_EQ(sent.status, 200) << sent.body;
    Response r = Call(b, "POST", "/api/v1/auth/register",
                      {{"phone", phone}, {"code", sms_.last_code[phone]}, {"password", "secret123"},
                       {"team_name", team}, {"name", "管理员"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Env(r)["data"].at("team").at("id").as_int64();
  }

  FakeClock clock_;
  CodeSms sms_;
  Router router_;
  std::unique_ptr<accounts::AccountService> accounts_;
  std::unique_ptr<apps::AppService> apps_;
  std::unique_ptr<AuthGuard> guard_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_P(AccountRoutesTest, StateChangesNeedTheCsrfTokenAndASameOrigin) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Open(t);
  Browser b;
  // No csrf cookie yet: refused.
  Response r = Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "13800138000"}, {"purpose", "register"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Reason(r), "csrf_failed");
  Register(b, "13800138000", "甲");
  ASSERT_TRUE(b.cookies.count("koi_session"));
  // A forged token, and a cross-site Origin, are refused even with the session cookie.
  std::string good = b.cookies["koi_csrf"];
  b.cookies["koi_csrf"] = "forged";
  EXPECT_EQ(Reason(Call(b, "POST", "/api/v1/members", {{"phone", "13900139000"}, {"name", "x"}})), "csrf_failed");
  b.cookies["koi_csrf"] = good;
  Request cross = b.Make("POST", "/api/v1/members", R"({"phone":"13900139000","name":"x"})");
  cross.headers["origin"] = "https://evil.example";
  EXPECT_EQ(Reason(dispatcher_->Handle(cross)), "csrf_failed");
  EXPECT_EQ(Call(b, "POST", "/api/v1/members", {{"phone", "13900139000"}, {"name", "x"}}).status, 201);
}

TEST_P(AccountRoutesTest, SessionCookieIsHttpOnlyAndLogoutClearsIt) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Open(t);
  Browser b;
  Call(b, "GET", "/api/v1/auth/session");
  Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "13800138000"}, {"purpose", "register"}});
  Request req = b.Make("POST", "/api/v1/auth/register",
                       json::serialize(json::value{{"phone", "13800138000"},
                                                   {"code", sms_.last_code["13800138000"]},
                                                   {"password", "secret123"},
                                                   {"team_name", "甲"},
                                                   {"name", "王"}}));
  Response resp = dispatcher_->Handle(req);
  std::string session_cookie;
  for (const auto& [k, v] : resp.headers)
    if (k == "Set-Cookie" && v.rfind("koi_session=", 0) == 0) session_cookie = v;
  EXPECT_NE(session_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(session_cookie.find("SameSite=Lax"), std::string::npos);
  b.Absorb(resp);
  EXPECT_EQ(Call(b, "GET", "/api/v1/auth/session").status, 200);
  EXPECT_EQ(Call(b, "POST", "/api/v1/auth/logout").status, 200);
  EXPECT_FALSE(b.cookies.count("koi_session"));
  EXPECT_EQ(Reason(Call(b, "GET", "/api/v1/auth/session")), "unauthenticated");
}

TEST_P(AccountRoutesTest, RateLimitsCarryRetryAfter) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Open(t);
  Browser b;
  Call(b, "GET", "/api/v1/auth/session");
  Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "13800138000"}, {"purpose", "register"}});
  clock_.Advance(15'000);
  Response r = Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "13800138000"}, {"purpose", "register"}});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Reason(r), "sms_too_frequent");
  EXPECT_EQ(Env(r)["retry_after"].as_int64(), 45);
  bool header = false;
  for (const auto& [k, v] : r.headers) header = header || (k == "Retry-After" && v == "45");
  EXPECT_TRUE(header);
  EXPECT_EQ(Reason(Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "123"}, {"purpose", "register"}})),
            "invalid_phone");
  EXPECT_EQ(Reason(Call(b, "POST", "/api/v1/auth/sms-codes", {{"phone", "13800138000"}, {"purpose", "x"}})),
            "invalid_purpose");
  EXPECT_EQ(Reason(Call(b, "POST", "/api/v1/auth/login", {{"phone", "13800138000"}})), "invalid_argument");
}

TEST_P(AccountRoutesTest, MembersAreRefusedAdminRoutesAndAppsGateTheirRoutes) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Open(t);
  Browser admin, member;
  Register(admin, "13800138000", "甲");
  ASSERT_EQ(Call(admin, "POST", "/api/v1/members", {{"phone", "13900139000"}, {"name", "小李"}}).status, 201);
  Call(member, "GET", "/api/v1/auth/session");
  EXPECT_EQ(Reason(Call(member, "POST", "/api/v1/auth/login", {{"phone", "13900139000"}, {"password", "x1234567"}})),
            "account_not_activated");
  Call(member, "POST", "/api/v1/auth/sms-codes", {{"phone", "13900139000"}, {"purpose", "reset_password"}});
  Response set = Call(member, "POST", "/api/v1/auth/password-reset",
                      {{"phone", "13900139000"}, {"code", sms_.last_code["13900139000"]}, {"password", "member123"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(Env(set)["data"].at("account").at("role").as_string(), "member");
  for (auto [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/members"}, {"POST", "/api/v1/members"}, {"GET", "/api/v1/audit-log"},
           {"POST", "/api/v1/members/1/disable"}, {"DELETE", "/api/v1/members/1"}}) {
    Response r = Call(member, method, path, method == "POST" ? json::value{{"phone", "13700137000"}, {"name", "x"}}
                                                             : json::value(nullptr));
    EXPECT_EQ(r.status, 403) << method << " " << path;
    EXPECT_EQ(Reason(r), "admin_only") << method << " " << path;
  }
  EXPECT_EQ(Reason(Call(member, "POST", "/api/v1/apps/scrm/activate")), "admin_only");
  // Apps: refused until the admin activates them, then open to members too.
  EXPECT_EQ(Reason(Call(member, "GET", "/api/v1/store/overview")), "app_not_activated");
  EXPECT_EQ(Call(admin, "POST", "/api/v1/apps/scrm/activate").status, 200);
  EXPECT_EQ(Reason(Call(member, "GET", "/api/v1/store/overview")), "app_not_activated");
  EXPECT_EQ(Call(admin, "POST", "/api/v1/apps/cloud_store/activate").status, 200);
  EXPECT_EQ(Call(member, "GET", "/api/v1/store/overview").status, 200);
  EXPECT_EQ(Reason(Call(admin, "POST", "/api/v1/apps/nope/activate")), "app_not_found");
}

TEST_P(AccountRoutesTest, EveryRouteIsIsolatedFromAnotherTeamsSession) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  Open(t);
  Browser a, b, anonymous;
  Register(a, "13800138000", "甲公司");
  Register(b, "13800138001", "乙公司");
  Response added = Call(a, "POST", "/api/v1/members", {{"phone", "13900139000"}, {"name", "甲的成员"}});
  ASSERT_EQ(added.status, 201);
  std::string a_member = std::to_string(Env(added)["data"].at("id").as_int64());
  ASSERT_EQ(Call(a, "POST", "/api/v1/apps/scrm/activate").status, 200);

  // What team B's admin gets on each route when aiming at team A's data. Every API route must be listed: a new
  // route without an isolation case fails this test.
  struct Case {
    std::string method, pattern, target;
    json::value body;
    int want_status;
    std::string want_reason;
  };
  std::vector<Case> cases = {
      {"GET", "/api/v1/auth/session", "/api/v1/auth/session", nullptr, 200, ""},
      {"POST", "/api/v1/auth/sms-codes", "/api/v1/auth/sms-codes", {{"phone", "13900139000"}, {"purpose", "register"}},
       409, "phone_registered"},
      {"POST", "/api/v1/auth/register", "/api/v1/auth/register",
       {{"phone", "13900139000"}, {"code", "000000"}, {"password", "secret123"}, {"team_name", "x"}, {"name", "x"}},
       400, "sms_code_missing"},
      {"POST", "/api/v1/auth/login", "/api/v1/auth/login", {{"phone", "13800138000"}, {"password", "wrong1234"}}, 401,
       "invalid_credentials"},
      {"POST", "/api/v1/auth/password-reset", "/api/v1/auth/password-reset",
       {{"phone", "13800138000"}, {"code", "000000"}, {"password", "secret123"}}, 400, "sms_code_missing"},
      {"POST", "/api/v1/account/phone", "/api/v1/account/phone",
       {{"phone", "13900139000"}, {"code", "000000"}, {"password", "secret123"}}, 400, "sms_code_missing"},
      {"PUT", "/api/v1/account/profile", "/api/v1/account/profile", {{"name", "乙的管理员"}}, 200, ""},
      {"POST", "/api/v1/account/password", "/api/v1/account/password",
       {{"old_password", "wrong1234"}, {"new_password", "secret456"}}, 400, "wrong_old_password"},
      {"GET", "/api/v1/members", "/api/v1/members", nullptr, 200, ""},
      {"POST", "/api/v1/members", "/api/v1/members", {{"phone", "13900139000"}, {"name", "x"}}, 409,
       "phone_registered"},
      {"POST", "/api/v1/members/:id/disable", "/api/v1/members/" + a_member + "/disable", nullptr, 404,
       "member_not_found"},
      {"POST", "/api/v1/members/:id/enable", "/api/v1/members/" + a_member + "/enable", nullptr, 404,
       "member_not_found"},
      {"POST", "/api/v1/members/:id/unlock", "/api/v1/members/" + a_member + "/unlock", nullptr, 404,
       "member_not_found"},
      {"POST", "/api/v1/members/:id/reset-password", "/api/v1/members/" + a_member + "/reset-password", nullptr, 404,
       "member_not_found"},
      {"DELETE", "/api/v1/members/:id", "/api/v1/members/" + a_member, nullptr, 404, "member_not_found"},
      {"GET", "/api/v1/audit-log", "/api/v1/audit-log", nullptr, 200, ""},
      {"GET", "/api/v1/apps", "/api/v1/apps", nullptr, 200, ""},
      {"GET", "/api/v1/store/overview", "/api/v1/store/overview", nullptr, 403, "app_not_activated"},
      {"POST", "/api/v1/apps/:key/activate", "/api/v1/apps/cloud_store/activate", nullptr, 200, ""},
      {"GET", "/api/v1/dev/sms-inbox", "", nullptr, 0, ""},  // not registered with this provider
      {"POST", "/api/v1/auth/logout-all", "/api/v1/auth/logout-all", nullptr, 200, ""},
      {"POST", "/api/v1/auth/logout", "/api/v1/auth/logout", nullptr, 200, ""},
  };
  std::set<std::pair<std::string, std::string>> covered;
  for (const auto& c : cases) covered.insert({c.method, c.pattern});
  for (const auto& route : router_.Routes())
    EXPECT_TRUE(covered.count(route)) << "no isolation case for " << route.first << " " << route.second;

  for (const auto& c : cases) {
    if (c.target.empty()) continue;
    clock_.Advance(61'000);  // past the SMS resend window
    Response r = Call(b, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.want_status) << c.method << " " << c.target << ": " << r.body;
    if (!c.want_reason.empty()) {
      EXPECT_EQ(Reason(r), c.want_reason) << c.method << " " << c.target;
    }
    // Nothing of team A's leaks into team B's answers.
    for (const char* secret : {"13800138000", "甲公司", "甲的成员", "13900139000\",\"name\":\"甲"})
      EXPECT_EQ(r.body.find(secret), std::string::npos) << c.method << " " << c.target << " leaks " << secret;
    // And without any session every protected route answers 401.
    if (c.pattern.rfind("/api/v1/auth/", 0) != 0) {
      Response anon = Call(anonymous, c.method, c.target, c.body);
      EXPECT_EQ(anon.status, 401) << c.method << " " << c.target;
    }
  }
  // Team A's member is untouched.
  auto list = Env(Call(a, "GET", "/api/v1/members"));
  EXPECT_EQ(list["data"].at("total").as_int64(), 2);
  EXPECT_EQ(list["data"].at("items").at(0).at("status").as_string(), "active");  // admin first
  EXPECT_EQ(list["data"].at("items").at(1).at("status").as_string(), "invited");
}

INSTANTIATE_TEST_SUITE_P(Engines, AccountRoutesTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::http
