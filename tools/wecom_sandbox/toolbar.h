// The WeCom client's side of a sidebar page (聊天工具栏), so a page in the chat toolbar (Koi's customer sidebar) runs
// end to end without WeCom: the corp's admin configures the toolbar, an employee opens a chat with a customer, and
// the page in the sidebar identifies the employee by OAuth and asks the client for the chat's customer through the
// JS-SDK. What WeCom does on its servers is served as WeCom serves it; what its client does is a page of the
// sandbox's own.
//
// - The toolbar (table toolbars): the app's agent id, its trusted domain (可信域名, host[:port]) and 1-10 entries
//   (a name of 1-16 characters and an http(s) URL on the trusted domain). Set with ConfigureToolbar: the CLI
//   (`scenario toolbar`), PUT /sandbox/admin/corps/:corp_id/toolbar (JSON {agent_id, trusted_domain, entries:
//   [{name, url}]}; GET reads it; refusals are errcode 40058, an unknown corp 40013), or the form on the chat page
//   (POST /sandbox/admin/toolbar, as the admin console would).
// - GET /cgi-bin/ticket/get?access_token&type=agent_config: the corp's agent ticket (应用 jsapi_ticket), 7200 s, the
//   same one until it expires; another type is 40058; more than 100 fetches in a rolling hour per corp are 45009.
//   One ticket per corp: the sandbox keeps a corp's self-built app and a suite's install of it apart nowhere else.
// - GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state[&agentid]: the employee is the
//   one signed in to the simulated client (cookie wecom_sandbox_member=<corp_id>:<userid>, set by the chat page).
//   appid is the corp's id (a self-built app) or a suite the corp installed, whose visible range must hold the
//   member (50002); redirect_uri must be on the toolbar's trusted domain (50001). Success is a 302 to redirect_uri
//   with code (one use, 5 minutes) and state; a failure is an HTML page, status 400, naming the errcode.
// - GET /cgi-bin/auth/getuserinfo?access_token&code (a self-built app: code issued for the token's corp) and
//   GET /cgi-bin/service/auth/getuserinfo3rd?suite_access_token&code (code issued for that suite): the userid, once;
//   40029 for a code that is unknown, used, expired or another app's. user_ticket (1800 s) only for scope
//   snsapi_privateinfo, as WeCom returns it. getuserinfo3rd is counted under the suite id in /sandbox/calls.
// - POST /sandbox/jsapi/agent-config {corpid, agentid, timestamp, nonceStr, signature, url}: the check the client
//   makes on wx.agentConfig, answering {"err_msg": "agentConfig:ok"} or "agentConfig:fail <reason>". signature is
//   the hex SHA-1 of "jsapi_ticket=<agent ticket>&noncestr=<nonceStr>&timestamp=<timestamp>&url=<url without its
//   fragment>"; the url must be on the trusted domain and the timestamp within 2 hours of now.
// - GET /sandbox/chat?corp[&userid&external_userid]: the client. Without a chat: links to up to 50 chats (an active
//   member and a customer they follow). With one: signs the member in (the cookie), shows the chat and the toolbar's
//   pages in a sidebar iframe, and answers the page's JS-SDK calls (GET /sandbox/chat.js, the bridge: see there).
// Thread safety: handlers are thread-safe (state in the database; ticket fetches under a mutex).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "api.h"
#include "core/clock.h"
#include "core/status.h"
#include "http/router.h"
#include "storage/database.h"

namespace koi::sandbox {

struct ToolbarEntry {
  std::string name;  // 1-16 characters
  std::string url;   // http(s), on the trusted domain
};

struct Toolbar {
  std::string agent_id;        // digits
  std::string trusted_domain;  // host[:port], stored lowercase
  std::vector<ToolbarEntry> entries;
  int64_t updated_at = 0;  // Unix seconds; set by ConfigureToolbar
};

// Checks and stores the corp's toolbar, replacing any. InvalidArgument "bad_toolbar" with a text naming the cause,
// NotFound "unknown_corp".
Status ConfigureToolbar(storage::Database& db, const Clock& clock, const std::string& corp_id, Toolbar toolbar);
// NotFound "no_toolbar" when the corp has none.
Result<Toolbar> LoadToolbar(storage::Database& db, const std::string& corp_id);

class ToolbarApi {
 public:
  // `api` admits and counts the calls made with a corp's access token, as it does its own.
  ToolbarApi(storage::Database& db, const Clock& clock, SandboxApi& api) : db_(db), clock_(clock), api_(api) {}
  void AddRoutes(http::Router& router);

  static constexpr const char* kMemberCookie = "wecom_sandbox_member";
  static constexpr int64_t kTicketTtlS = 7200, kTicketFetchesPerHour = 100;
  static constexpr int64_t kCodeTtlS = 300, kUserTicketTtlS = 1800;
  static constexpr int64_t kTimestampSkewS = 7200;  // agentConfig's timestamp, either way of now

 private:
  // Records a ticket fetch by `corp_id` now; false (nothing recorded) when it already made the hour's 100.
  bool ChargeTicketFetch(const std::string& corp_id);

  storage::Database& db_;
  const Clock& clock_;
  SandboxApi& api_;
  std::mutex mu_;
  std::map<std::string, std::deque<int64_t>> ticket_fetches_;  // corp -> fetch times (s) in the last hour; mu_
};

}  // namespace koi::sandbox
