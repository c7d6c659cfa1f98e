// SuiteInstall: linking a team's corp by installing Koi's third-party app (前往授权; ../shared/specs/wecom-api.md
// §2.2), the alternative to entering a self-built app's secrets.
//
// 1. WeCom pushes the suite a suite_ticket every 10 minutes to the instruction-callback URL
//    (/api/v1/wecom/suite/callback); Koi keeps the latest, sealed, and the client exchanges it for the
//    suite_access_token.
// 2. The admin clicks 前往授权: Begin() gets a pre_auth_code and returns WeCom's install URL carrying it, the
//    redirect_uri (/api/v1/wecom/install/return) and a one-time `state` (20 minutes; only its hash is stored, with
//    the team and the admin).
// 3. The corp's WeCom admin approves (choosing the app's visible range) and WeCom redirects the browser back with
//    auth_code and state. Complete() — only for the session of the admin who started it, so an install link sent
//    to another corp's admin cannot tie that corp to this team — claims the state atomically, exchanges the
//    auth_code for the permanent code (whose state must be this one) and links the team in mode "third_party"
//    (WecomLink::LinkThirdParty), which starts the full sync. WeCom not answering releases the claim, so a reload
//    retries; other failures end the install with their reason (a reload shows it again). The corp's data
//    callbacks then arrive at /api/v1/wecom/callback/<corp> under the suite's token and key.
//    WeCom's create_auth instruction carries the same auth_code; it is acknowledged, not used (no session).
//    reset_permanent_code replaces the stored permanent code; cancel_auth (the corp uninstalled the app) marks the
//    link unless it was installed again after it.
// Errors: wecom_suite_not_configured (412), wecom_suite_ticket_missing (503), install_state_invalid (400: unknown,
// expired or used), install_not_yours (403), install_cancelled (400: no auth_code came back), team_already_linked /
// corp_linked_elsewhere (409), and WeCom's (wecom_invalid_auth_code …).
// Thread safety: thread-safe; state is in the database.
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/callbacks.h"
#include "domain/wecom_link/link.h"
#include "domain/wecom_link/secret_box.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::wecom_link {

struct SuiteSettings {
  std::string suite_id, token, aes_key;
  std::string install_url = "https://open.work.weixin.qq.com/3rdapp/install";
  std::string public_url;        // Koi's URL as browsers reach it (the install's redirect_uri)
  std::string provider_corp_id;  // the provider's own corp: WeCom checks data-callback URLs under it
};

class SuiteInstall {
 public:
  SuiteInstall(storage::Database& db, const Clock& clock, wecom::WecomClient& client, WecomLink& link,
               const SecretBox& box, SuiteSettings settings)
      : db_(db), clock_(clock), client_(client), link_(link), box_(box), settings_(std::move(settings)) {}

  // A suite is configured (the console offers 前往授权).
  bool Available() const { return !settings_.suite_id.empty() && client_.HasSuite(); }

  struct Start {
    std::string install_url;
    int64_t expires_at_ms = 0;
  };
  // Admin only.
  Result<Start> Begin(const accounts::Principal& who);

  // The browser's return, with the session it carries (`who`, nullopt without one): links the team. Returns the
  // corp id (also for a reload after success).
  Result<std::string> Complete(const std::string& state, const std::string& auth_code,
                               const std::optional<accounts::Principal>& who, const accounts::Client& client);

  // WeCom checks a suite's data-callback URL (…/callback/$CORPID$) with the provider's corp id in place of
  // $CORPID$ and as the receiveid, under the suite's token and key: answers that check (NotFound otherwise).
  Result<std::string> VerifyProviderDataUrl(const CallbackRequest& request);

  // Instruction callbacks: the URL check (the decrypted echostr) and the POSTed instructions (suite_ticket,
  // create_auth; change_auth, cancel_auth and reset_permanent_code are logged). Refusals as CallbackInbox's.
  Result<std::string> VerifyUrl(const CallbackRequest& request);
  Status Receive(const CallbackRequest& request);

  // Deletes install states older than 30 days (nightly, with the reconcile); returns how many.
  Result<int64_t> PurgeInstalls();

  // The latest suite_ticket (kUnavailable "wecom_suite_ticket_missing" before the first).
  Result<std::string> Ticket();

  static constexpr int64_t kStateTtlMs = 20 * 60 * 1000;

 private:
  Result<wecom::CallbackKeys> Keys() const;

  storage::Database& db_;
  const Clock& clock_;
  wecom::WecomClient& client_;
  WecomLink& link_;
  const SecretBox& box_;
  SuiteSettings settings_;
};

}  // namespace koi::wecom_link
