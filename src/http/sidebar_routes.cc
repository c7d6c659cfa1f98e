#include "http/sidebar_routes.h"

#include <boost/json.hpp>

#include "core/utf8.h"
#include "domain/accounts/secrets.h"
#include "http/customer_json.h"
#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"

namespace koi::http {
namespace {

namespace json = boost::json;

constexpr const char* kSessionCookie = "koi_sidebar";
constexpr const char* kStateCookie = "koi_sidebar_state";
constexpr int64_t kStateTtlS = 600;  // WeCom's OAuth codes live 5 minutes; the round trip takes seconds

std::string CookieAttributes(const char* path, int64_t max_age_s, bool secure) {
  std::string a = std::string("; Path=") + path + "; SameSite=Lax; HttpOnly; Max-Age=" + std::to_string(max_age_s);
  if (secure) a += "; Secure";
  return a;
}

// One state cookie per sign-in in flight, named after its state, so two chats opened at the same moment each keep
// their own. "" for a state that is not what Begin makes (base64url), which then matches no cookie.
std::string StateCookie(const std::string& state) {
  if (state.size() < 12) return "";
  for (char c : state)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return "";
  return std::string(kStateCookie) + "_" + state.substr(0, 12);
}

// A known page's key (the page the browser goes back to); the first page for anything else.
std::string KnownPage(const std::string& page) {
  for (const auto& p : wecom_link::Sidebar::Pages())
    if (p.key == page) return page;
  return wecom_link::Sidebar::Pages().front().key;
}

// Back to the page, with the reason the sign-in failed (the page shows it instead of starting again).
Response BackToPage(const std::string& corp, const std::string& page, const Status& error) {
  std::string to = "/sidebar/" + PercentEncode(corp) + "/" + KnownPage(page);
  if (!error.ok()) to += "?error=" + PercentEncode(error.reason());
  return Redirect(to);
}

json::object ViewerJson(const wecom_link::SidebarViewer& v, const std::string& token, const std::string& bridge) {
  return json::object{{"corp_id", v.corp_id},
                      {"userid", v.userid},
                      {"employee_name", v.employee_name},
                      {"expires_at", v.expires_at_ms},
                      {"csrf_token", accounts::CsrfTokenFor(token)},
                      {"bridge_origin", bridge}};
}

// The member's view of customers: their own relationships only, and their bound account's personal tags.
customers::Scope ScopeOf(const wecom_link::SidebarViewer& v) {
  customers::Scope s;
  s.bound = true;
  s.userid = v.userid;
  s.data_scope = "own";
  s.userids = {v.userid};
  s.account_id = v.account_id.value_or(0);
  return s;
}

}  // namespace

void AddSidebarRoutes(Router& router, const AuthGuard& guard, const SidebarServices& services) {
  wecom_link::Sidebar& sidebar = services.sidebar;
  customers::CustomerService& customers = services.customers;
  customers::TagService& tags = services.tags;
  customers::GroupService& groups = services.groups;
  const bool secure = services.cookie_secure;

  // A sidebar route's caller: the session behind the cookie, and for a state-changing call its CSRF token.
  using SidebarHandler = std::function<Response(Request&, const wecom_link::SidebarViewer&, const std::string&)>;
  auto authed = [&sidebar](SidebarHandler handler, bool changes_state) -> Handler {
    return [&sidebar, handler = std::move(handler), changes_state](Request& r) {
      std::string token = AuthGuard::Cookie(r, kSessionCookie);
      auto viewer = sidebar.SessionOf(token);
      if (!viewer.ok()) return JsonError(viewer.status());
      if (changes_state && !accounts::SecureEquals(r.Header("x-csrf-token"), accounts::CsrfTokenFor(token)))
        return JsonError(Status::PermissionDenied("csrf_failed", "missing or wrong X-CSRF-Token"));
      return handler(r, *viewer, token);
    };
  };

  // 1. The page has no session: off to WeCom's OAuth, remembering the state in a cookie.
  router.Add("GET", "/api/v1/sidebar/oauth/start", [&sidebar, secure](Request& r) {
    const std::string corp = r.Query("corp"), page = r.Query("page");
    auto start = sidebar.Begin(corp, page);
    if (!start.ok()) return BackToPage(corp, page, start.status());
    Response out = Redirect(start->oauth_url);
    out.SetHeader("Set-Cookie", StateCookie(start->state) + "=" + start->state +
                                    CookieAttributes("/api/v1/sidebar/oauth", kStateTtlS, secure));
    return out;
  });
  // 2. WeCom sends the member back with a code: a session, then the page.
  router.Add("GET", "/api/v1/sidebar/oauth/return", [&sidebar, secure](Request& r) {
    const std::string corp = r.Query("corp"), page = r.Query("page"), state = r.Query("state");
    const std::string cookie = StateCookie(state);
    auto issued = sidebar.Complete(corp, page, r.Query("code"), state, cookie.empty() ? "" : AuthGuard::Cookie(r, cookie),
                                   AuthGuard::ClientOf(r));
    Response out = BackToPage(corp, page, issued.ok() ? Status::Ok() : issued.status());
    if (!cookie.empty())
      out.SetHeader("Set-Cookie", cookie + "=" + CookieAttributes("/api/v1/sidebar/oauth", 0, secure));
    if (issued.ok())
      out.SetHeader("Set-Cookie", std::string(kSessionCookie) + "=" + issued->token +
                                      CookieAttributes("/api/v1/sidebar",
                                                       wecom_link::Sidebar::kSessionTtlMs / 1000, secure));
    return out;
  });

  router.Add("GET", "/api/v1/sidebar/session",
             authed([&sidebar](Request&, const wecom_link::SidebarViewer& v, const std::string& token) {
               return JsonOk(ViewerJson(v, token, sidebar.settings().bridge_origin));
             }, false));
  router.Add("POST", "/api/v1/sidebar/logout",
             authed([&sidebar, secure](Request&, const wecom_link::SidebarViewer&, const std::string& token) {
               sidebar.End(token);
               Response out = JsonOk(json::object{{"ended", true}});
               out.SetHeader("Set-Cookie",
                             std::string(kSessionCookie) + "=" + CookieAttributes("/api/v1/sidebar", 0, secure));
               return out;
             }, true));

  // 3. agentConfig's signature for the page at `url`.
  router.Add("GET", "/api/v1/sidebar/agent-config",
             authed([&sidebar](Request& r, const wecom_link::SidebarViewer& v, const std::string&) {
               auto c = sidebar.SignAgentConfig(v, r.Query("url"));
               if (!c.ok()) return JsonError(c.status());
               return JsonOk(json::object{{"corp_id", c->corp_id},
                                          {"agent_id", c->agent_id},
                                          {"timestamp", c->timestamp},
                                          {"nonce_str", c->nonce_str},
                                          {"signature", c->signature}});
             }, false));

  // The chat's customer as the member's relationship sees it (not_found when not the member's customer).
  router.Add("GET", "/api/v1/sidebar/customers/:external_userid",
             authed([&customers](Request& r, const wecom_link::SidebarViewer& v, const std::string&) {
               auto p = customers.Get(v.team, ScopeOf(v), r.path_params.at("external_userid"));
               if (!p.ok()) return JsonError(p.status());
               json::value relationship = nullptr;
               for (const auto& f : p->customer.follows)
                 if (f.userid == v.userid) relationship = FollowJson(f);
               json::array groups, timeline;
               for (const auto& g : p->groups)
                 groups.push_back(json::object{{"chat_id", g.chat_id}, {"name", g.name}, {"owner_name", g.owner_name},
                                               {"join_time", g.join_time_ms}, {"member_count", g.member_count}});
               for (size_t i = 0; i < p->timeline.size() && i < 30; ++i) {
                 const auto& t = p->timeline[i];
                 timeline.push_back(json::object{{"at", t.at_ms}, {"kind", t.kind}, {"userid", t.userid},
                                                 {"employee_name", t.employee_name}, {"detail", t.detail}});
               }
               const auto& c = p->customer;
               return JsonOk(json::object{{"external_userid", c.external_userid},
                                          {"name", c.name},
                                          {"type", c.type},
                                          {"gender", c.gender},
                                          {"corp_name", c.corp_name},
                                          {"position", p->position},
                                          {"stage_name", p->stage_name},
                                          {"relationship", std::move(relationship)},
                                          {"groups", std::move(groups)},
                                          {"timeline", std::move(timeline)}});
             }, false));

  // 群画像: the chat's group as a member in it sees it (group_not_found unless they are in it), members paged.
  router.Add("GET", "/api/v1/sidebar/groups/:chat_id",
             authed([&groups](Request& r, const wecom_link::SidebarViewer& v, const std::string&) {
               auto paging = ParsePaging(r, 20, 100);
               if (!paging.ok()) return JsonError(paging.status());
               auto p = groups.Profile(v.team, r.path_params.at("chat_id"), v.userid, paging->page,
                                       paging->page_size);
               if (!p.ok()) return JsonError(p.status());
               json::array tags, members;
               for (const auto& t : p->group.tags) tags.push_back(json::object{{"id", t.id}, {"name", t.name}});
               for (const auto& m : p->members)
                 members.push_back(json::object{{"member_id", m.member_id}, {"name", m.name}, {"type", m.type},
                                                {"join_time", m.join_time_ms}, {"join_scene", m.join_scene},
                                                {"my_customer", m.my_customer}});
               const auto& g = p->group;
               return JsonOk(json::object{
                   {"chat_id", g.chat_id}, {"name", g.name}, {"owner", g.owner}, {"owner_name", g.owner_name},
                   {"notice", p->notice}, {"create_time", g.create_time_ms}, {"status", g.status},
                   {"member_count", g.member_count}, {"customers", p->customers}, {"employees", p->employees},
                   {"my_customers", p->my_customers}, {"joined_7d", p->joined_7d}, {"tags", std::move(tags)},
                   {"members", json::object{{"items", std::move(members)}, {"total", p->members_total},
                                            {"page", p->page}, {"page_size", p->page_size}}}});
             }, false));

  router.Add("GET", "/api/v1/sidebar/tag-groups",
             authed([&customers](Request&, const wecom_link::SidebarViewer& v, const std::string&) {
               auto groups = customers.TagGroups(v.team);
               return groups.ok() ? JsonOk(TagGroupsJson(*groups)) : JsonError(groups.status());
             }, false));

  // Tags the member's own relationship with the customer (in WeCom first, as the console's tagging does).
  router.Add("POST", "/api/v1/sidebar/customers/:external_userid/tags",
             authed([&tags](Request& r, const wecom_link::SidebarViewer& v, const std::string&) {
               auto o = ObjectBody(r);
               if (!o.ok()) return JsonError(o.status());
               auto change = TagChangeBody(*o);
               if (!change.ok()) return JsonError(change.status());
               auto after = tags.MarkCorpTags(v.team, ScopeOf(v), v.employee_name, r.path_params.at("external_userid"),
                                              v.userid, change->add, change->remove);
               if (!after.ok()) return JsonError(after.status());
               return JsonOk(json::object{{"tags", TagsJson(*after)}});
             }, true));

  // --- The console's setup page, step 2 ---
  const GuardOptions scrm{.app = "scrm"};
  const GuardOptions scrm_admin{.admin_only = true, .app = "scrm"};
  router.Add("GET", "/api/v1/scrm/wecom/toolbar", guard.Authed([&sidebar](Request&, const accounts::Principal& who) {
    auto info = sidebar.Setup(who.team);
    if (!info.ok()) return JsonError(info.status());
    json::array entries;
    for (const auto& e : info->entries)
      entries.push_back(json::object{{"key", e.key}, {"name_zh", e.name_zh}, {"name_en", e.name_en}, {"url", e.url}});
    // With the WeCom sandbox: its chat page, where a member's chat shows the toolbar.
    const std::string& bridge = sidebar.settings().bridge_origin;
    std::string simulator = bridge.empty() ? "" : bridge + "/sandbox/chat?corp=" + PercentEncode(info->corp_id);
    json::value last = nullptr;
    if (info->last_open)
      last = json::object{{"userid", info->last_open->userid},
                          {"employee_name", info->last_open->employee_name},
                          {"at", info->last_open->at_ms}};
    return JsonOk(json::object{{"public_url", info->public_url},
                               {"trusted_domain", info->trusted_domain},
                               {"agent_id", info->agent_id},
                               {"entries", std::move(entries)},
                               {"last_open", std::move(last)},
                               {"opens_7d", info->opens_7d},
                               {"simulator_url", simulator}});
  }, scrm));
  router.Add("POST", "/api/v1/scrm/wecom/toolbar/check",
             guard.Authed([&sidebar](Request&, const accounts::Principal& who) {
    auto checks = sidebar.RunChecks(who);
    if (!checks.ok()) return JsonError(checks.status());
    json::array items;
    for (const auto& c : *checks)
      items.push_back(json::object{{"key", c.key}, {"result", c.result}, {"reason", c.reason}, {"detail", c.detail}});
    return JsonOk(json::object{{"checks", std::move(items)}});
  }, scrm_admin));
}

}  // namespace koi::http
