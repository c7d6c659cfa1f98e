// SuiteInstall: linking a team's corp by installing Koi's third-party app (前往授权; ../shared/specs/wecom-api.md
// §2.2), the alternative to entering a self-built app's secrets.
//
// 1. WeCom pushes the suite a suite_ticket every 10 minutes to the instruction-callback URL
//    (/api/v1/wecom/suite/callback); Koi keeps the latest, sealed, and the client exchanges it for the
//    suite_access_token.
// 2. The admin clicks 前往授权: Begin() gets a pre_auth_code and returns WeCom's install URL carrying it, the
//    redirect_uri (/api/v1/wecom/install/return) and a one-time `state` (20 minutes; only its hash is stored, with
//    the team and the admin).
// 3. The corp's WeCom admin approves (choosing the app's visible range) and WeCom both redirects the browser back
//    with auth_code and state and pushes a create_auth instruction with the same two. Complete() runs for whichever
//    arrives first (claiming the state atomically; the other finds it done), exchanges the auth_code for the
//    permanent code and links the team in mode "third_party" (WecomLink::LinkThirdParty), which starts the full
//    sync. The corp's data callbacks then arrive at /api/v1/wecom/callback/<corp> under the suite's token and key.
// Errors: wecom_suite_not_configured (412), wecom_suite_ticket_missing (503), install_state_invalid (400: unknown,
// expired or used), install_cancelled (400: no auth_code came back), team_already_linked / corp_linked_elsewhere
// (409), and WeCom's (wecom_invalid_auth_code …).
// Thread safety: thread-safe; state is in the database.
#pragma once

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
  std::string public_url;  // empty: http://<the request's Host>
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
  // Admin only. `request_host` (the Host header) makes the redirect_uri when no public URL is configured.
  Result<Start> Begin(const accounts::Principal& who, const std::string& request_host);

  // The browser's return (or the create_auth instruction): links the team. Returns the corp id.
  Result<std::string> Complete(const std::string& state, const std::string& auth_code, const accounts::Client& client);

  // Instruction callbacks: the URL check (the decrypted echostr) and the POSTed instructions (suite_ticket,
  // create_auth; change_auth, cancel_auth and reset_permanent_code are logged). Refusals as CallbackInbox's.
  Result<std::string> VerifyUrl(const CallbackRequest& request);
  Status Receive(const CallbackRequest& request);

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
