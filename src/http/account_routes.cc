#include "http/account_routes.h"

#include <boost/json.hpp>

#include <charconv>
#include <utility>

#include "domain/accounts/credentials.h"
#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"

namespace koi::http {
namespace {

namespace json = boost::json;
using accounts::Principal;

// A string field; missing or of another type is a clear error naming the field.
Result<std::string> Field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string())
    return Status::InvalidArgument("invalid_argument", std::string(name) + " is required and must be a string");
  return std::string(it->value().as_string());
}

Result<int64_t> PathId(const Request& r) {
  const std::string& text = r.path_params.at("id");
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0)
    return Status::NotFound("member_not_found", "no such account in this team");
  return id;
}

json::object AccountJson(const accounts::Account& a) {
  return json::object{{"id", a.id.value()},
                      {"phone", a.phone},
                      {"name", a.name},
                      {"role", accounts::RoleName(a.role)},
                      {"status", accounts::AccountStatusName(a.status)},
                      {"failed_logins", a.failed_logins},
                      {"locked_until", Opt(a.locked_until_ms)},
                      {"last_login_at", Opt(a.last_login_ms)},
                      {"last_login_ip", a.last_login_ip},
                      {"created_at", a.created_at_ms}};
}

json::object AppJson(const apps::AppState& s) {
  return json::object{{"key", s.key},
                      {"activated", s.activated},
                      {"activated_at", Opt(s.activated_at_ms)},
                      {"activated_by_name", s.activated_by_name}};
}

template <typename T>
Response OkOrError(const Result<T>& r, const std::function<json::value(const T&)>& render) {
  if (!r.ok()) return JsonError(r.status());
  return JsonOk(render(*r));
}

Response OkOrError(const Status& s) { return s.ok() ? JsonOk(json::object{}) : JsonError(s); }

}  // namespace

void AddAccountRoutes(Router& router, const AuthGuard& guard, accounts::AccountService& accounts,
                      apps::AppService& apps) {
  // The body every login-like call answers with: who is logged in, their team and the team's apps.
  auto session_body = [&accounts, &apps](const Principal& who) -> Result<json::value> {
    KOI_ASSIGN_OR_RETURN(auto account, accounts.GetAccount(who));
    KOI_ASSIGN_OR_RETURN(auto team, accounts.GetTeam(who.team));
    KOI_ASSIGN_OR_RETURN(auto app_states, apps.List(who.team));
    json::array app_list;
    for (const auto& s : app_states) app_list.push_back(AppJson(s));
    return json::value{{"account", AccountJson(account)},
                       {"team", {{"id", team.id.value()}, {"name", team.name}}},
                       {"apps", std::move(app_list)}};
  };
  // Answers a new session: the session body plus both cookies.
  auto logged_in = [&guard, session_body](const Result<accounts::LoggedIn>& r) {
    if (!r.ok()) return JsonError(r.status());
    auto body = session_body(r->principal);
    if (!body.ok()) return JsonError(body.status());
    Response resp = JsonOk(*body);
    guard.SetSessionCookies(resp, r->session);
    return resp;
  };

  // ----- auth (no session) -----
  router.Add("GET", "/api/v1/auth/session", [&guard, session_body](Request& r) {
    auto who = guard.SessionOf(r);
    Response resp;
    if (!who.ok()) {
      resp = JsonError(who.status());
    } else {
      auto body = session_body(*who);
      resp = body.ok() ? JsonOk(*body) : JsonError(body.status());
    }
    guard.EnsureCsrfCookie(r, resp);
    return resp;
  });

  router.Add("POST", "/api/v1/auth/sms-codes", guard.Public([&guard, &accounts](Request& r) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto phone = Field(*body, "phone");
    auto purpose_text = Field(*body, "purpose");
    if (!phone.ok()) return JsonError(phone.status());
    if (!purpose_text.ok()) return JsonError(purpose_text.status());
    auto purpose = accounts::ParseCodePurpose(*purpose_text);
    if (!purpose.ok()) return JsonError(purpose.status());
    std::optional<Principal> who;
    if (*purpose == accounts::CodePurpose::kChangePhone) {
      auto s = guard.SessionOf(r);
      if (!s.ok()) return JsonError(s.status());
      who = *s;
    }
    auto sent = accounts.SendCode(*phone, *purpose, AuthGuard::ClientOf(r), who ? &*who : nullptr);
    if (!sent.ok()) return JsonError(sent.status());
    return JsonOk(json::object{{"expires_in", sent->expires_in_s}, {"resend_after", sent->resend_after_s}});
  }));

  router.Add("POST", "/api/v1/auth/register", guard.Public([&accounts, logged_in](Request& r) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    accounts::RegisterInput in;
    for (auto [name, out] : {std::pair{"phone", &in.phone}, {"code", &in.code}, {"password", &in.password},
                             {"team_name", &in.team_name}, {"name", &in.name}}) {
      auto v = Field(*body, name);
      if (!v.ok()) return JsonError(v.status());
      *out = std::move(*v);
    }
    return logged_in(accounts.Register(in, AuthGuard::ClientOf(r)));
  }));

  router.Add("POST", "/api/v1/auth/login", guard.Public([&accounts, logged_in](Request& r) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto phone = Field(*body, "phone");
    auto password = Field(*body, "password");
    if (!phone.ok()) return JsonError(phone.status());
    if (!password.ok()) return JsonError(password.status());
    return logged_in(accounts.Login(*phone, *password, AuthGuard::ClientOf(r)));
  }));

  router.Add("POST", "/api/v1/auth/password-reset", guard.Public([&accounts, logged_in](Request& r) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto phone = Field(*body, "phone");
    auto code = Field(*body, "code");
    auto password = Field(*body, "password");
    for (const Status* s : {&phone.status(), &code.status(), &password.status()})
      if (!s->ok()) return JsonError(*s);
    return logged_in(accounts.ResetPassword(*phone, *code, *password, AuthGuard::ClientOf(r)));
  }));

  router.Add("POST", "/api/v1/auth/logout", guard.Public([&guard, &accounts](Request& r) {
    // Logging out without a live session is not an error: the cookies are cleared either way.
    if (auto who = guard.SessionOf(r); who.ok()) {
      Status s = accounts.Logout(*who, AuthGuard::ClientOf(r));
      if (!s.ok()) return JsonError(s);
    }
    Response resp = JsonOk(json::object{});
    guard.ClearSessionCookies(resp);
    return resp;
  }));

  router.Add("POST", "/api/v1/auth/logout-all", guard.Authed([&guard, &accounts](Request& r, const Principal& who) {
    auto n = accounts.LogoutAll(who, AuthGuard::ClientOf(r));
    if (!n.ok()) return JsonError(n.status());
    Response resp = JsonOk(json::object{{"revoked", *n}});
    guard.ClearSessionCookies(resp);
    return resp;
  }));

  // ----- my account -----
  router.Add("POST", "/api/v1/account/password", guard.Authed([&accounts, logged_in](Request& r, const Principal& who) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto old_pw = Field(*body, "old_password");
    auto new_pw = Field(*body, "new_password");
    if (!old_pw.ok()) return JsonError(old_pw.status());
    if (!new_pw.ok()) return JsonError(new_pw.status());
    return logged_in(accounts.ChangePassword(who, *old_pw, *new_pw, AuthGuard::ClientOf(r)));
  }));

  router.Add("POST", "/api/v1/account/phone", guard.Authed([&accounts, logged_in](Request& r, const Principal& who) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto phone = Field(*body, "phone");
    auto code = Field(*body, "code");
    auto password = Field(*body, "password");
    for (const Status* s : {&phone.status(), &code.status(), &password.status()})
      if (!s->ok()) return JsonError(*s);
    return logged_in(accounts.ChangePhone(who, *phone, *code, *password, AuthGuard::ClientOf(r)));
  }));

  router.Add("PUT", "/api/v1/account/profile", guard.Authed([&accounts, session_body](Request& r, const Principal& who) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto name = Field(*body, "name");
    if (!name.ok()) return JsonError(name.status());
    if (Status s = accounts.UpdateProfile(who, *name, AuthGuard::ClientOf(r)); !s.ok()) return JsonError(s);
    auto out = session_body(who);
    return out.ok() ? JsonOk(*out) : JsonError(out.status());
  }));

  // ----- members (admin) -----
  const GuardOptions admin{.admin_only = true};
  router.Add("GET", "/api/v1/members", guard.Authed([&accounts](Request& r, const Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = accounts.ListMembers(who, r.Query("q"), paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& a : page->items) items.push_back(AccountJson(a));
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, admin));

  router.Add("POST", "/api/v1/members", guard.Authed([&accounts](Request& r, const Principal& who) {
    auto body = ObjectBody(r);
    if (!body.ok()) return JsonError(body.status());
    auto phone = Field(*body, "phone");
    auto name = Field(*body, "name");
    if (!phone.ok()) return JsonError(phone.status());
    if (!name.ok()) return JsonError(name.status());
    auto added = accounts.AddMember(who, *phone, *name, AuthGuard::ClientOf(r));
    if (!added.ok()) return JsonError(added.status());
    return JsonOk(AccountJson(*added), 201);
  }, admin));

  using MemberAction = Result<accounts::Account> (accounts::AccountService::*)(const Principal&, AccountId,
                                                                               const accounts::Client&);
  for (auto [suffix, action] : {std::pair<const char*, MemberAction>{"disable", &accounts::AccountService::DisableMember},
                                {"enable", &accounts::AccountService::EnableMember},
                                {"unlock", &accounts::AccountService::UnlockMember},
                                {"reset-password", &accounts::AccountService::ResetMemberPassword}}) {
    router.Add("POST", std::string("/api/v1/members/:id/") + suffix,
               guard.Authed([&accounts, action](Request& r, const Principal& who) {
                 auto id = PathId(r);
                 if (!id.ok()) return JsonError(id.status());
                 auto out = (accounts.*action)(who, AccountId(*id), AuthGuard::ClientOf(r));
                 if (!out.ok()) return JsonError(out.status());
                 return JsonOk(AccountJson(*out));
               }, admin));
  }

  router.Add("DELETE", "/api/v1/members/:id", guard.Authed([&accounts](Request& r, const Principal& who) {
    auto id = PathId(r);
    if (!id.ok()) return JsonError(id.status());
    return OkOrError(accounts.RemoveMember(who, AccountId(*id), AuthGuard::ClientOf(r)));
  }, admin));

  router.Add("GET", "/api/v1/audit-log", guard.Authed([&accounts](Request& r, const Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = accounts.ListAudit(who, r.Query("action"), paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& e : page->items)
      items.push_back(json::object{{"id", e.id},
                                   {"created_at", e.created_at_ms},
                                   {"actor_id", Opt(e.actor_id)},
                                   {"actor_phone", e.actor_phone},
                                   {"actor_name", e.actor_name},
                                   {"action", e.action},
                                   {"target", e.target},
                                   {"ip", e.ip},
                                   {"detail", e.detail}});
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, admin));

  // ----- apps -----
  router.Add("GET", "/api/v1/apps", guard.Authed([&apps](Request&, const Principal& who) {
    return OkOrError<std::vector<apps::AppState>>(apps.List(who.team), [](const auto& list) {
      json::array items;
      for (const auto& s : list) items.push_back(AppJson(s));
      return json::value{{"items", std::move(items)}};
    });
  }));

  router.Add("POST", "/api/v1/apps/:key/activate", guard.Authed([&apps](Request& r, const Principal& who) {
    return OkOrError<apps::AppState>(apps.Activate(who, r.path_params.at("key"), r.remote_addr),
                                     [](const auto& s) { return json::value(AppJson(s)); });
  }));

  // The cloud store's home: refused until the team activates it (SCRM's home is in wecom_routes).
  router.Add("GET", "/api/v1/store/overview", guard.Authed([&apps](Request&, const Principal& who) {
    return OkOrError<std::vector<apps::AppState>>(apps.List(who.team), [](const auto& list) {
      json::object out{{"app", "cloud_store"}, {"activated_at", nullptr}, {"shops", 0}};
      for (const auto& s : list)
        if (s.key == "cloud_store") out["activated_at"] = Opt(s.activated_at_ms);
      return json::value(std::move(out));
    });
  }, {.app = "cloud_store"}));

  // ----- development SMS inbox (console provider only) -----
  if (accounts.HasInbox()) {
    router.Add("GET", "/api/v1/dev/sms-inbox", [&accounts](Request& r) {
      // Development only, and only for this machine: it shows verification codes.
      const std::string& ip = r.remote_addr;
      bool loopback = ip.rfind("127.", 0) == 0 || ip == "::1" || ip.rfind("::ffff:127.", 0) == 0;
      if (!loopback) return JsonError(404, "route_not_found", "no such route: GET /api/v1/dev/sms-inbox");
      std::string phone;
      if (std::string raw = r.Query("phone"); !raw.empty()) {
        auto p = accounts::NormalizePhone(raw);
        if (!p.ok()) return JsonError(p.status());
        phone = *p;
      }
      auto list = accounts.Inbox(phone, 20);
      if (!list.ok()) return JsonError(list.status());
      json::array items;
      for (const auto& m : *list)
        items.push_back(json::object{{"id", m.id}, {"phone", m.phone}, {"text", m.text}, {"created_at", m.created_at_ms}});
      return JsonOk(json::object{{"items", std::move(items)}});
    });
  }
}

}  // namespace koi::http
