// Sidebar: Koi's pages in WeCom's chat toolbar (聊天工具栏, step 2 of the setup guide; issue 4).
//
// The corp's WeCom admin adds Koi's page URLs to the app's chat toolbar; an employee chatting with a customer then
// sees them beside the chat, in WeCom's webview. Such a visitor has no Koi account: who they are comes from WeCom.
//
// 1. The page (/sidebar/<corp_id>/<page>) has no sidebar session yet: the browser goes to Begin's OAuth URL
//    (WeCom's snsapi_base authorize, silent inside the client) with a one-time `state` that the route also keeps
//    in a cookie, and WeCom sends it back to /api/v1/sidebar/oauth/return with a code.
// 2. Complete() checks the state, asks WeCom whose code it is (WecomClient::GetOAuthUser), requires that member
//    to be an employee Koi has synced for the corp's team, and issues a sidebar session (8 hours; only the token's
//    hash is stored, table sidebar_sessions). Its CSRF token is derived from the token, like an account session's.
// 3. The page signs the JS-SDK's agentConfig through SignAgentConfig (its own URL only; the app's agent_config
//    ticket, cached per app until 5 minutes before it expires: WeCom allows 100 fetches an hour) and asks WeCom's client for the current
//    chat's external contact (getCurExternalContact); the routes then show that customer as the member's own
//    relationship sees it (customers::Scope of one employee).
//
// For the setup page, Setup() lists the URLs to configure with the trusted domain, and Check() verifies what Koi
// can: its public URL, the app's AgentId, WeCom issuing a ticket, the page answering at the public URL, and a
// member having opened it.
// Team scope: a session belongs to the team linked to its corp; every read filters on that team.
// Thread safety: thread-safe (state in the database; the ticket cache under a mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/link.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::wecom_link {

struct SidebarSettings {
  std::string public_url;  // Koi's URL as browsers reach it (wecom.public_url); no pages without it
  std::string oauth_url = "https://open.weixin.qq.com/connect/oauth2/authorize";
  // The origin of the WeCom stand-in (koi-wecom-sandbox) whose chat page frames the sidebar and answers its JS-SDK
  // calls by postMessage; empty with real WeCom, whose client injects the bridge itself.
  std::string bridge_origin;
  // GET `url` → (HTTP status, body); kUnavailable when unreachable. For the check that the page answers.
  std::function<Result<std::pair<int, std::string>>(const std::string& url)> fetch;
};

// A page Koi offers for the toolbar.
struct SidebarPage {
  std::string key;      // "customer": the URL's last segment
  std::string name_zh;  // what the admin names the entry in WeCom
  std::string name_en;
};

struct SidebarViewer {
  int64_t session_id = 0;
  TeamId team;
  std::string corp_id, userid, employee_name;
  std::optional<int64_t> account_id;  // the Koi account bound to this employee, if any
  int64_t expires_at_ms = 0;
};

class Sidebar {
 public:
  Sidebar(storage::Database& db, const Clock& clock, wecom::WecomClient& client, WecomLink& link,
          SidebarSettings settings)
      : db_(db), clock_(clock), client_(client), link_(link), settings_(std::move(settings)) {}

  static const std::vector<SidebarPage>& Pages();
  // The origin of a WeCom stand-in on this machine ("http://127.0.0.1:9080" for "http://127.0.0.1:9080/x"): plain
  // HTTP to 127.x.x.x, localhost or [::1]; "" for anything else — WeCom itself, or a proxy in front of it, must not
  // frame the sidebar and answer its JS-SDK calls (SidebarSettings::bridge_origin).
  static std::string LoopbackOrigin(const std::string& url);
  const SidebarSettings& settings() const { return settings_; }

  // Step 1: where to send the browser, and the state it must bring back. Errors: sidebar_page_unknown (404),
  // sidebar_not_configured (412: no public URL), wecom_not_linked (the corp is no team's).
  struct Start {
    std::string oauth_url, state;
  };
  Result<Start> Begin(const std::string& corp_id, const std::string& page);

  // Step 2. `state` is the query's, `expected_state` the cookie's. Errors: sidebar_state_invalid (400),
  // wecom_invalid_oauth_code, wecom_not_a_member (403), sidebar_not_an_employee (403: not synced, or resigned).
  struct Issued {
    std::string token;
    int64_t expires_at_ms = 0;
  };
  Result<Issued> Complete(const std::string& corp_id, const std::string& page, const std::string& code,
                          const std::string& state, const std::string& expected_state,
                          const accounts::Client& client);

  // The session behind a token: Unauthenticated "sidebar_unauthenticated" when unknown or expired.
  Result<SidebarViewer> SessionOf(const std::string& token);
  void End(const std::string& token);

  // agentConfig's parameters for the page at `url` (which must be under the public URL).
  struct AgentConfig {
    std::string corp_id, agent_id, nonce_str, signature;
    int64_t timestamp = 0;
  };
  Result<AgentConfig> SignAgentConfig(const SidebarViewer& viewer, const std::string& url);

  // --- The setup page (admins) ---
  struct Entry {
    std::string key, name_zh, name_en, url;
  };
  struct LastOpen {
    std::string userid, employee_name;
    int64_t at_ms = 0;
  };
  struct SetupInfo {
    std::string corp_id, public_url, trusted_domain, agent_id;
    std::vector<Entry> entries;
    std::optional<LastOpen> last_open;
    int64_t opens_7d = 0;  // sidebar sessions started in the last 7 days
  };
  Result<SetupInfo> Setup(TeamId team);
  struct Check {
    std::string key;     // public_url, agent_id, ticket, page, opened
    std::string result;  // ok, warn, fail
    std::string reason;  // why not ok (a stable reason, translated by the console)
    std::string detail;  // WeCom's or the transport's words, the member's name …
  };
  Result<std::vector<Check>> RunChecks(const accounts::Principal& who);

  // Deletes sidebar sessions expired more than a day ago; returns how many. Daily.
  Result<int64_t> Purge();

  static constexpr int64_t kSessionTtlMs = 8LL * 3600 * 1000;

 private:
  struct Linked {
    TeamId team;
    wecom::CorpCredentials corp;
    std::string agent_id;
  };
  Result<Linked> LinkedCorp(const std::string& corp_id);
  // The app's agent_config ticket, cached until 5 minutes before it expires (`fresh`: asked of WeCom anyway, and
  // cached).
  Result<std::string> Ticket(const wecom::CorpCredentials& corp, const std::string& agent_id, bool fresh);

  storage::Database& db_;
  const Clock& clock_;
  wecom::WecomClient& client_;
  WecomLink& link_;
  SidebarSettings settings_;
  std::mutex mu_;
  struct CachedTicket {
    std::string ticket;
    int64_t refresh_after_ms = 0;
  };
  std::map<std::string, CachedTicket> tickets_;  // by corp|mode|AgentId|secret hash; guarded by mu_
};

}  // namespace koi::wecom_link
