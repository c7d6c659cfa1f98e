#include "http/wecom_routes.h"

#include <boost/json.hpp>

#include "core/utf8.h"
#include "http/envelope.h"
#include "http/route_helpers.h"
#include "http/target.h"

namespace koi::http {
namespace {

namespace json = boost::json;

json::value SyncJson(const std::optional<wecom_link::SyncState>& s) {
  if (!s) return nullptr;
  return json::object{{"job_id", s->job_id},
                      {"state", s->state},
                      {"phase", s->phase},
                      {"progress_done", s->progress_done},
                      {"progress_total", s->progress_total},
                      {"attempts", s->attempts},
                      {"last_error_reason", s->last_error_reason},
                      {"last_error", s->last_error},
                      {"next_attempt_at", Opt(s->next_attempt_at_ms)},
                      {"created_at", s->created_at_ms},
                      {"finished_at", Opt(s->finished_at_ms)}};
}

json::value StateJson(const wecom_link::LinkState& s, const wecom_link::EventCounts& e, bool install_available) {
  const auto& c = s.counts;
  return json::object{
      {"linked", s.linked},
      {"install", json::object{{"available", install_available}}},
      {"corp", s.linked ? json::value(json::object{{"corp_id", s.corp_id},
                                                   {"corp_name", s.corp_name},
                                                   {"mode", s.mode},
                                                   {"agent_id", s.agent_id},
                                                   {"linked_at", s.linked_at_ms},
                                                   {"auth_cancelled_at", Opt(s.auth_cancelled_at_ms)},
                                                   {"last_synced_at", Opt(s.last_synced_at_ms)}})
                        : json::value(nullptr)},
      {"sync", SyncJson(s.sync)},
      {"counts", json::object{{"departments", c.departments},
                              {"employees", c.employees},
                              {"customers", c.customers},
                              {"follows", c.follows},
                              {"tags", c.tags},
                              {"groups", c.groups}}},
      {"callbacks", json::object{{"url_path", s.linked ? json::value("/api/v1/wecom/callback/" + s.corp_id)
                                                      : json::value(nullptr)},
                                 {"pending", e.pending},
                                 {"applied", e.done},
                                 {"failed", e.failed},
                                 {"last_received_at", Opt(e.last_received_at_ms)}}}};
}

wecom_link::CallbackRequest CallbackRequestOf(const Request& r) {
  auto corp = r.path_params.find("corp_id");
  return {.corp_id = corp == r.path_params.end() ? std::string() : corp->second,
          .msg_signature = r.Query("msg_signature"),
          .timestamp = r.Query("timestamp"),
          .nonce = r.Query("nonce"),
          .echostr = r.Query("echostr"),
          .body = r.body};
}

Response PlainText(std::string body) {
  Response out;
  out.content_type = "text/plain; charset=utf-8";
  out.body = std::move(body);
  return out;
}

}  // namespace

void AddWecomRoutes(Router& router, const AuthGuard& guard, const WecomServices& services) {
  wecom_link::WecomLink& link = services.link;
  wecom_link::CallbackInbox& inbox = services.inbox;
  wecom_link::EventApplier& events = services.events;
  apps::AppService& apps = services.apps;
  wecom_link::SuiteInstall& install = services.install;
  // State for the console: the link, the sync and the callbacks.
  auto state = [&link, &events, &install](TeamId team) -> Response {
    auto s = link.State(team);
    if (!s.ok()) return JsonError(s.status());
    auto e = events.Counts(team);
    if (!e.ok()) return JsonError(e.status());
    return JsonOk(StateJson(*s, *e, install.Available()));
  };

  // The suite's instruction callbacks (suite_ticket, create_auth …): signed like a corp's; answered "success".
  router.Add("GET", "/api/v1/wecom/suite/callback", [&install](Request& r) {
    auto echo = install.VerifyUrl(CallbackRequestOf(r));
    return echo.ok() ? PlainText(*echo) : JsonError(echo.status());
  });
  router.Add("POST", "/api/v1/wecom/suite/callback", [&install](Request& r) {
    Status s = install.Receive(CallbackRequestOf(r));
    return s.ok() ? PlainText("success") : JsonError(s);
  });
  // 前往授权: the WeCom install URL for this admin (one-time state, 20 minutes).
  router.Add("POST", "/api/v1/scrm/wecom/install", guard.Authed([&install](Request&, const accounts::Principal& who) {
    auto start = install.Begin(who);
    if (!start.ok()) return JsonError(start.status());
    return JsonOk(json::object{{"install_url", start->install_url}, {"expires_at", start->expires_at_ms}});
  }, GuardOptions{.admin_only = true, .app = "scrm"}));
  // The admin's browser coming back from WeCom's authorisation page: a top-level GET from another site, so no CSRF
  // token; the one-time state names the team and the admin who started it, and the session cookie (SameSite=Lax,
  // sent on this navigation) must be that admin's.
  router.Add("GET", "/api/v1/wecom/install/return", [&install, &inbox, &guard](Request& r) {
    // The session the top-level navigation carries (SameSite=Lax): only the admin who started may complete.
    auto session = guard.SessionOf(r);
    auto done = install.Complete(r.Query("state"), r.Query("auth_code"),
                                 session.ok() ? std::optional<accounts::Principal>(*session) : std::nullopt,
                                 AuthGuard::ClientOf(r));
    if (done.ok()) inbox.Forget(*done);  // a reinstall or a switch from self-built changed its callback keys
    return Redirect(done.ok() ? "/scrm/setup?installed=1"
                              : "/scrm/setup?install_error=" + PercentEncode(done.status().reason()));
  });

  // WeCom's callbacks. GET answers the URL check with the decrypted echostr (plain text, nothing else); POST stores
  // the event and answers an empty 200 within WeCom's 5 s. No session: the signature is the authentication.
  router.Add("GET", "/api/v1/wecom/callback/:corp_id", [&inbox, &install](Request& r) {
    auto echo = inbox.VerifyUrl(CallbackRequestOf(r));
    // A suite's data-callback URL is checked under the provider's own corp id, which no team links.
    if (!echo.ok() && echo.status().reason() == "callback_unknown_corp") {
      auto provider = install.VerifyProviderDataUrl(CallbackRequestOf(r));
      if (provider.ok() || provider.status().reason() != "callback_unknown_corp") echo = std::move(provider);
    }
    return echo.ok() ? PlainText(*echo) : JsonError(echo.status());
  });
  // Started on the I/O thread: the inbox checks and decrypts there and answers from its writer after the commit.
  router.AddAsync("POST", "/api/v1/wecom/callback/:corp_id", [&inbox](Request& r, Reply reply) {
    inbox.ReceiveAsync(CallbackRequestOf(r), [reply = std::move(reply)](Result<wecom_link::CallbackReceipt> receipt) {
      reply(receipt.ok() ? PlainText("") : JsonError(receipt.status()));
    });
  });
  const GuardOptions scrm{.app = "scrm"};
  const GuardOptions scrm_admin{.admin_only = true, .app = "scrm"};

  // SCRM's home: refused until the team activates SCRM; says whether WeCom is linked.
  router.Add("GET", "/api/v1/scrm/overview", guard.Authed([&link, &apps](Request&, const accounts::Principal& who) {
    auto s = link.State(who.team);
    if (!s.ok()) return JsonError(s.status());
    auto list = apps.List(who.team);
    if (!list.ok()) return JsonError(list.status());
    json::value activated_at = nullptr;
    for (const auto& a : *list)
      if (a.key == "scrm") activated_at = Opt(a.activated_at_ms);
    return JsonOk(json::object{{"app", "scrm"}, {"activated_at", activated_at}, {"wecom_authorized", s->linked},
                               {"corp_name", s->corp_name}});
  }, scrm));

  router.Add("GET", "/api/v1/scrm/wecom", guard.Authed([state](Request&, const accounts::Principal& who) {
    return state(who.team);
  }, scrm));

  router.Add("POST", "/api/v1/scrm/wecom/link", guard.Authed([&link, &inbox, state](Request& r,
                                                                                     const accounts::Principal& who) {
    auto body = ParseJsonBody(r);
    if (!body.ok()) return JsonError(body.status());
    if (!body->is_object())
      return JsonError(Status::InvalidArgument("invalid_argument", "the request body must be a JSON object"));
    const auto& o = body->as_object();
    auto str = [&o](const char* key) {
      auto it = o.find(key);
      return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
    };
    wecom_link::LinkInput in{.corp_id = str("corp_id"), .secret = str("secret"),
                             .callback_token = str("callback_token"), .encoding_aes_key = str("encoding_aes_key"),
                             .agent_id = str("agent_id")};
    auto s = link.LinkSelfBuilt(who, in, AuthGuard::ClientOf(r));
    if (!s.ok()) return JsonError(s.status());
    inbox.Forget(in.corp_id);  // the callback token or key may have changed
    return state(who.team);
  }, scrm_admin));

  router.Add("POST", "/api/v1/scrm/wecom/sync", guard.Authed([&link](Request&, const accounts::Principal& who) {
    auto s = link.StartFullSync(who);
    return s.ok() ? JsonOk(SyncJson(*s)) : JsonError(s.status());
  }, scrm_admin));

  router.Add("GET", "/api/v1/scrm/wecom/employees", guard.Authed([&link](Request& r, const accounts::Principal& who) {
    auto paging = ParsePaging(r, 20, 100);
    if (!paging.ok()) return JsonError(paging.status());
    auto page = link.ListEmployees(who.team, r.Query("q"), paging->page, paging->page_size);
    if (!page.ok()) return JsonError(page.status());
    json::array items;
    for (const auto& e : page->items)
      items.push_back(json::object{{"userid", e.userid},
                                   {"name", e.name},
                                   {"position", e.position},
                                   {"mobile", e.mobile},
                                   {"gender", e.gender},
                                   {"status", e.status},
                                   {"main_department", e.main_department},
                                   {"main_department_name", e.main_department_name},
                                   {"customers", e.customers}});
    return JsonOk(json::object{{"items", std::move(items)}, {"total", page->total}, {"page", paging->page},
                               {"page_size", paging->page_size}});
  }, scrm));
}

}  // namespace koi::http
