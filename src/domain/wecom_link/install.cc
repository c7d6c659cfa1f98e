#include "domain/wecom_link/install.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "core/utf8.h"
#include "domain/accounts/secrets.h"
#include "wecom/protocol/xml.h"

namespace koi::wecom_link {
namespace {

using storage::Value;

Status Refuse(const std::string& suite_id, Status status) {
  spdlog::warn("wecom suite callback for {} refused: {} ({})", suite_id, status.reason(), status.message());
  return status;
}

Status StateInvalid() {
  return Status::InvalidArgument("install_state_invalid",
                                 "this authorisation link expired or was used already; start again from 前往授权");
}

}  // namespace

Result<wecom::CallbackKeys> SuiteInstall::Keys() const {
  return wecom::MakeCallbackKeys(settings_.token, settings_.aes_key, settings_.suite_id);
}

Result<std::string> SuiteInstall::Ticket() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT ticket_enc FROM wecom_suite_tickets WHERE suite_id = ?",
                                         {settings_.suite_id}));
  if (r.rows.empty())
    return Status::Unavailable("wecom_suite_ticket_missing",
                               "WeCom has not sent the suite its ticket yet (it does every 10 minutes); try again soon");
  return box_.Open(r.rows[0].Text(0));
}

Result<int64_t> SuiteInstall::PurgeInstalls() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM wecom_installs WHERE created_at < ? RETURNING state_hash",
                                         {clock_.NowMillis() - 30 * 86'400'000LL}));
  return static_cast<int64_t>(r.rows.size());
}

Result<SuiteInstall::Start> SuiteInstall::Begin(const accounts::Principal& who) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  if (!Available())
    return Status::FailedPrecondition("wecom_suite_not_configured",
                                      "this Koi has no third-party app configured; link a self-built app instead");
  KOI_ASSIGN_OR_RETURN(auto pre, client_.GetPreAuthCode());
  const std::string state = accounts::RandomToken();
  const int64_t now = clock_.NowMillis();
  int64_t ttl = kStateTtlMs;
  if (pre.expires_in > 0) ttl = std::min(ttl, pre.expires_in * 1000);
  KOI_RETURN_IF_ERROR(db_.Exec("INSERT INTO wecom_installs (state_hash, team_id, account_id, created_at, expires_at) "
                               "VALUES (?, ?, ?, ?, ?)",
                               {accounts::Sha256Hex(state), who.team.value(), who.account.value(), now, now + ttl}));
  std::string base = settings_.public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string redirect = base + "/api/v1/wecom/install/return";
  Start out;
  out.install_url = settings_.install_url + (settings_.install_url.find('?') == std::string::npos ? "?" : "&") +
                    "suite_id=" + PercentEncode(settings_.suite_id) + "&pre_auth_code=" + PercentEncode(pre.code) +
                    "&redirect_uri=" + PercentEncode(redirect) + "&state=" + PercentEncode(state);
  out.expires_at_ms = now + ttl;
  return out;
}

Result<std::string> SuiteInstall::Complete(const std::string& state, const std::string& auth_code,
                                           const std::optional<accounts::Principal>& who,
                                           const accounts::Client& client) {
  // States are RandomToken()s: anything else is refused before touching the database.
  if (state.size() != 43 || state.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
                                std::string::npos)
    return StateInvalid();
  const std::string hash = accounts::Sha256Hex(state);
  const int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto found, db_.Query("SELECT team_id, account_id, expires_at, used_at, corp_id, error_reason "
                                             "FROM wecom_installs WHERE state_hash = ?",
                                             {hash}));
  if (found.rows.empty()) return StateInvalid();
  const auto& row = found.rows[0];
  const TeamId team(row.Int(0));
  const AccountId account(row.Int(1));
  // Only the admin who started the install completes it, in the browser that holds their session: a link sent to
  // another corp's admin cannot tie that corp to this team.
  if (!who || who->team != team || who->account != account || !who->is_admin())
    return Status::PermissionDenied("install_not_yours",
                                    "this authorisation was started by another account; sign in as the admin who "
                                    "started it, or start again from 前往授权");
  if (!row.IsNull(3)) {
    if (!row.Text(4).empty()) return row.Text(4);  // done before (a reload of the return page)
    if (!row.Text(5).empty()) return Status::FailedPrecondition(row.Text(5), "this authorisation did not complete; "
                                                                             "start again from 前往授权");
    return StateInvalid();
  }
  KOI_ASSIGN_OR_RETURN(auto claimed, db_.Query("UPDATE wecom_installs SET used_at = ? WHERE state_hash = ? AND used_at "
                                               "IS NULL AND expires_at > ? RETURNING team_id",
                                               {now, hash, now}));
  if (claimed.rows.empty()) return StateInvalid();
  auto fail = [&](Status s) -> Status {
    (void)db_.Exec("UPDATE wecom_installs SET error_reason = ? WHERE state_hash = ?", {s.reason(), hash});
    spdlog::warn("wecom install for team {} failed: {}", team.value(), s.ToString());
    return s;
  };
  if (auth_code.empty() || auth_code.size() > 512)
    return fail(Status::InvalidArgument("install_cancelled", "WeCom returned no authorisation: the install was not approved"));
  auto code = client_.GetPermanentCode(auth_code);
  if (!code.ok()) {
    if (code.status().code() == StatusCode::kUnavailable) {
      // WeCom did not answer: the auth_code is still good (10 minutes), so a reload of this page may try again.
      (void)db_.Exec("UPDATE wecom_installs SET used_at = NULL WHERE state_hash = ?", {hash});
      return code.status();
    }
    return fail(code.status());
  }
  if (!code->state.empty() && code->state != state)
    return fail(Status::PermissionDenied("install_state_invalid", "the authorisation belongs to another install"));
  auto linked = link_.LinkThirdParty(team, account, *code, settings_.token, settings_.aes_key, client);
  if (!linked.ok()) return fail(linked.status());
  KOI_RETURN_IF_ERROR(db_.Exec("UPDATE wecom_installs SET corp_id = ? WHERE state_hash = ?", {code->corp_id, hash}));
  return code->corp_id;
}

Result<std::string> SuiteInstall::VerifyProviderDataUrl(const CallbackRequest& req) {
  if (!Available() || settings_.provider_corp_id.empty() || req.corp_id != settings_.provider_corp_id)
    return Status::NotFound("callback_unknown_corp", "no team has linked this WeCom corp");
  if (Status s = CheckCallbackRequest(req, req.echostr, clock_.NowSeconds()); !s.ok())
    return Refuse(settings_.suite_id, s);
  KOI_ASSIGN_OR_RETURN(auto keys, wecom::MakeCallbackKeys(settings_.token, settings_.aes_key, settings_.provider_corp_id));
  auto plain = DecryptSignedCallback(keys, req, req.echostr);
  if (!plain.ok()) return Refuse(settings_.suite_id, plain.status());
  return plain;
}

Result<std::string> SuiteInstall::VerifyUrl(const CallbackRequest& req) {
  if (!Available()) return Status::NotFound("callback_unknown_corp", "no third-party suite is configured");
  if (Status s = CheckCallbackRequest(req, req.echostr, clock_.NowSeconds()); !s.ok())
    return Refuse(settings_.suite_id, s);
  KOI_ASSIGN_OR_RETURN(auto keys, Keys());
  auto plain = DecryptSignedCallback(keys, req, req.echostr);
  if (!plain.ok()) return Refuse(settings_.suite_id, plain.status());
  return plain;
}

Status SuiteInstall::Receive(const CallbackRequest& req) {
  if (!Available()) return Status::NotFound("callback_unknown_corp", "no third-party suite is configured");
  auto envelope = wecom::ParseEncryptedEnvelope(req.body);
  if (!envelope.ok()) return Refuse(settings_.suite_id, envelope.status());
  if (Status s = CheckCallbackRequest(req, envelope->encrypt, clock_.NowSeconds()); !s.ok())
    return Refuse(settings_.suite_id, s);
  KOI_ASSIGN_OR_RETURN(auto keys, Keys());
  auto plain = DecryptSignedCallback(keys, req, envelope->encrypt);
  if (!plain.ok()) return Refuse(settings_.suite_id, plain.status());
  auto message = wecom::ParseXmlMessage(*plain);
  if (!message.ok()) return Refuse(settings_.suite_id, message.status());
  if (message->Get("SuiteId") != settings_.suite_id)
    return Refuse(settings_.suite_id, Status::PermissionDenied("callback_receiveid_mismatch",
                                                               "the instruction names another suite"));
  const std::string type = message->Get("InfoType");
  if (type == "suite_ticket") {
    const std::string ticket = message->Get("SuiteTicket");
    if (ticket.empty() || ticket.size() > 512)
      return Refuse(settings_.suite_id, Status::InvalidArgument("callback_bad_request", "suite_ticket without a ticket"));
    // Tickets can arrive out of order (a retry of an older push): keep the newest by its TimeStamp.
    const int64_t at = std::atoll(message->Get("TimeStamp").c_str()) * 1000;
    return db_.Exec("INSERT INTO wecom_suite_tickets (suite_id, ticket_enc, received_at) VALUES (?, ?, ?) ON CONFLICT "
                    "(suite_id) DO UPDATE SET ticket_enc = excluded.ticket_enc, received_at = excluded.received_at "
                    "WHERE excluded.received_at >= wecom_suite_tickets.received_at",
                    {settings_.suite_id, box_.Seal(ticket), at});
  }
  if (type == "reset_permanent_code") {
    // The corp's admin reset the app's authorisation: the old permanent code no longer works, the new one comes
    // from this auth_code.
    auto code = client_.GetPermanentCode(message->Get("AuthCode"));
    if (!code.ok()) {
      spdlog::warn("wecom suite {}: reset_permanent_code not applied: {}", settings_.suite_id, code.status().ToString());
      return code.status().code() == StatusCode::kUnavailable ? code.status() : Status::Ok();  // WeCom retries
    }
    return db_.Exec("UPDATE wecom_corps SET secret_enc = ? WHERE corp_id = ? AND mode = 'third_party'",
                    {box_.Seal(code->permanent_code), code->corp_id});
  }
  if (type == "cancel_auth") {
    // The corp's admin uninstalled the app: its tokens stop working; the console says so until it is installed again.
    // TimeStamp is WeCom's (seconds): a retried cancel from before a reinstall must not undo it.
    int64_t at_ms = std::atoll(message->Get("TimeStamp").c_str()) * 1000;
    if (at_ms <= 0) at_ms = clock_.NowMillis();
    KOI_ASSIGN_OR_RETURN(bool marked, link_.MarkAuthCancelled(message->Get("AuthCorpId"), at_ms + 999));
    spdlog::warn("wecom suite {}: corp {} cancelled its authorisation{}", settings_.suite_id, message->Get("AuthCorpId"),
                 marked ? "" : " (no team has it linked through the suite)");
    return Status::Ok();
  }
  // create_auth also carries the install's auth_code, but only the browser's return (the admin's own session)
  // completes an install; change_auth is logged.
  spdlog::info("wecom suite {}: instruction {} for corp {} acknowledged", settings_.suite_id, type,
               message->Get("AuthCorpId"));
  return Status::Ok();
}

}  // namespace koi::wecom_link
