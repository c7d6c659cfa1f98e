#include "domain/wecom_link/sidebar.h"

#include <spdlog/spdlog.h>

#include "core/utf8.h"
#include "domain/accounts/secrets.h"
#include "wecom/protocol/crypto.h"

namespace koi::wecom_link {
namespace {

using storage::Value;

constexpr int64_t kTicketMarginMs = 5 * 60 * 1000;
constexpr int64_t kDayMs = 24LL * 3600 * 1000;

// "https://scrm.example.com/base/" → "https://scrm.example.com/base" (no trailing slash).
std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The host[:port] of an http(s) URL, "" when it is not one.
std::string HostOf(const std::string& url) {
  size_t start = url.rfind("https://", 0) == 0 ? 8 : url.rfind("http://", 0) == 0 ? 7 : std::string::npos;
  if (start == std::string::npos) return "";
  size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool IsLoopback(const std::string& host) {
  std::string h = host.substr(0, host.rfind(':') == std::string::npos ? host.size() : host.rfind(':'));
  return h == "localhost" || h.rfind("127.", 0) == 0 || h == "[::1]";
}

std::string PageUrl(const std::string& public_url, const std::string& corp_id, const std::string& page) {
  return TrimSlash(public_url) + "/sidebar/" + PercentEncode(corp_id) + "/" + page;
}

}  // namespace

std::string Sidebar::LoopbackOrigin(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return "";
  const size_t end = url.find_first_of("/?#", kScheme.size());
  const std::string authority = url.substr(kScheme.size(), end == std::string::npos ? end : end - kScheme.size());
  if (authority.find('@') != std::string::npos) return "";
  std::string host, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return "";
    host = authority.substr(0, close + 1);
    port = authority.substr(close + 1);
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    port = colon == std::string::npos ? "" : authority.substr(colon);
  }
  if (!port.empty() && (port.size() < 2 || port.size() > 6 ||
                        port.find_first_not_of("0123456789", 1) != std::string::npos || port[0] != ':'))
    return "";
  bool loopback = host == "localhost" || host == "[::1]";
  if (!loopback) {  // 127.a.b.c, each part a number up to 255
    int parts = 0;
    size_t pos = 0;
    bool ok = true;
    while (ok && pos <= host.size()) {
      const size_t dot = host.find('.', pos);
      const std::string part = host.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
      ok = !part.empty() && part.size() <= 3 && part.find_first_not_of("0123456789") == std::string::npos &&
           std::stoi(part) <= 255 && (parts > 0 || part == "127");
      ++parts;
      if (dot == std::string::npos) break;
      pos = dot + 1;
    }
    loopback = ok && parts == 4;
  }
  return loopback ? std::string(kScheme) + authority : "";
}

const std::vector<SidebarPage>& Sidebar::Pages() {
  static const std::vector<SidebarPage> pages = {{"customer", "客户画像", "Customer profile"},
                                                 {"group", "群画像", "Group profile"}};
  return pages;
}

Result<Sidebar::Linked> Sidebar::LinkedCorp(const std::string& corp_id) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT team_id, agent_id, auth_cancelled_at FROM wecom_corps WHERE "
                                         "corp_id = ?", {corp_id}));
  if (r.rows.empty() || !r.rows[0].IsNull(2))
    return Status::FailedPrecondition("wecom_not_linked", "no team has this WeCom corp linked to Koi");
  Linked out{.team = TeamId(r.rows[0].Int(0)), .corp = {}, .agent_id = r.rows[0].Text(1)};
  KOI_ASSIGN_OR_RETURN(out.corp, link_.Credentials(out.team));
  return out;
}

Result<Sidebar::Start> Sidebar::Begin(const std::string& corp_id, const std::string& page) {
  bool known = false;
  for (const auto& p : Pages()) known = known || p.key == page;
  if (!known) return Status::NotFound("sidebar_page_unknown", "Koi has no sidebar page by that name");
  if (settings_.public_url.empty())
    return Status::FailedPrecondition("sidebar_not_configured",
                                      "Koi's public URL (wecom.public_url) is not set, so WeCom cannot send the "
                                      "member back to it");
  KOI_ASSIGN_OR_RETURN(Linked linked, LinkedCorp(corp_id));
  Start out;
  out.state = accounts::RandomToken().substr(0, 32);
  std::string back = TrimSlash(settings_.public_url) + "/api/v1/sidebar/oauth/return?corp=" + PercentEncode(corp_id) +
                     "&page=" + PercentEncode(page);
  // A third-party app's OAuth names the suite; a self-built app's the corp (and its AgentId).
  std::string appid = linked.corp.third_party ? client_.SuiteId() : corp_id;
  out.oauth_url = settings_.oauth_url + "?appid=" + PercentEncode(appid) + "&redirect_uri=" + PercentEncode(back) +
                  "&response_type=code&scope=snsapi_base&state=" + out.state;
  if (!linked.agent_id.empty()) out.oauth_url += "&agentid=" + PercentEncode(linked.agent_id);
  out.oauth_url += "#wechat_redirect";
  return out;
}

Result<Sidebar::Issued> Sidebar::Complete(const std::string& corp_id, const std::string& page,
                                          const std::string& code, const std::string& state,
                                          const std::string& expected_state, const accounts::Client& client) {
  if (state.empty() || !accounts::SecureEquals(state, expected_state))
    return Status::InvalidArgument("sidebar_state_invalid",
                                   "the sign-in did not come back with the state it left with; open the page again");
  if (code.empty())
    return Status::InvalidArgument("wecom_invalid_oauth_code", "WeCom sent the member back without a code");
  KOI_ASSIGN_OR_RETURN(Linked linked, LinkedCorp(corp_id));
  KOI_ASSIGN_OR_RETURN(wecom::WecomClient::OAuthUser user, client_.GetOAuthUser(linked.corp, code));
  if (user.corp_id != corp_id)
    return Status::PermissionDenied("wecom_not_a_member", "the member belongs to another corp");
  KOI_ASSIGN_OR_RETURN(auto e, db_.Query("SELECT name, status FROM wecom_employees WHERE team_id = ? AND userid = ?",
                                         {linked.team.value(), user.userid}));
  if (e.rows.empty() || e.rows[0].Int(1) != 1)
    return Status::PermissionDenied("sidebar_not_an_employee",
                                    "Koi does not know this member as an active employee (not synced yet, or not in "
                                    "the app's visible range)");
  Issued out;
  out.token = accounts::RandomToken();
  const int64_t now = clock_.NowMillis();
  out.expires_at_ms = now + kSessionTtlMs;
  KOI_RETURN_IF_ERROR(db_.Exec("INSERT INTO sidebar_sessions (team_id, corp_id, userid, token_hash, created_at, "
                               "expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               {linked.team.value(), corp_id, user.userid, accounts::Sha256Hex(out.token), now,
                                out.expires_at_ms, client.ip, ToValidUtf8(client.user_agent.substr(0, 300))}));
  spdlog::info("sidebar: member {} of corp {} opened {}", user.userid, corp_id, page);
  return out;
}

Result<SidebarViewer> Sidebar::SessionOf(const std::string& token) {
  const Status none = Status::Unauthenticated("sidebar_unauthenticated", "open the page from WeCom's chat toolbar");
  if (token.empty()) return none;
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT s.id, s.team_id, s.corp_id, s.userid, s.expires_at, "
                                         "e.name, b.account_id FROM sidebar_sessions s JOIN wecom_employees e ON "
                                         "e.team_id = s.team_id AND e.userid = s.userid AND e.status = 1 LEFT JOIN "
                                         "employee_bindings b ON b.team_id = s.team_id AND b.userid = s.userid WHERE "
                                         "s.token_hash = ?", {accounts::Sha256Hex(token)}));
  // Ended too when the member left the corp (or the app's range) since: the mirror says so.
  if (r.rows.empty() || r.rows[0].Int(4) <= clock_.NowMillis()) return none;
  const auto& row = r.rows[0];
  // The corp must still be this team's (an unlink or another team's link ends its sessions).
  KOI_ASSIGN_OR_RETURN(auto c, db_.Query("SELECT 1 FROM wecom_corps WHERE team_id = ? AND corp_id = ? AND "
                                         "auth_cancelled_at IS NULL", {row.Int(1), row.Text(2)}));
  if (c.rows.empty()) return none;
  return SidebarViewer{.session_id = row.Int(0),
                       .team = TeamId(row.Int(1)),
                       .corp_id = row.Text(2),
                       .userid = row.Text(3),
                       .employee_name = row.Text(5),
                       .account_id = row.OptInt(6),
                       .expires_at_ms = row.Int(4)};
}

void Sidebar::End(const std::string& token) {
  if (token.empty()) return;
  (void)db_.Exec("DELETE FROM sidebar_sessions WHERE token_hash = ?", {accounts::Sha256Hex(token)});
}

Result<std::string> Sidebar::Ticket(const wecom::CorpCredentials& corp, const std::string& agent_id, bool fresh) {
  // A ticket belongs to the app: new credentials (a re-link, another mode or AgentId) need their own.
  const std::string key =
      corp.corp_id + '|' + (corp.third_party ? "3" : "s") + '|' + agent_id + '|' + accounts::Sha256Hex(corp.secret);
  if (!fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tickets_.find(key);
    if (it != tickets_.end() && clock_.NowMillis() < it->second.refresh_after_ms) return it->second.ticket;
  }
  // Fetched without the lock (one corp's slow answer must not hold up the others' signatures); two concurrent
  // fetches for one app are rare and WeCom allows 100 an hour.
  KOI_ASSIGN_OR_RETURN(wecom::WecomClient::JsTicket t, client_.GetAgentTicket(corp));
  const int64_t life_ms = std::max<int64_t>(t.expires_in * 1000 - kTicketMarginMs, 60'000);
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(tickets_, [&corp](const auto& e) { return e.first.rfind(corp.corp_id + '|', 0) == 0; });
  tickets_[key] = {t.ticket, clock_.NowMillis() + life_ms};
  return t.ticket;
}

Result<Sidebar::AgentConfig> Sidebar::SignAgentConfig(const SidebarViewer& viewer, const std::string& url) {
  const std::string base = TrimSlash(settings_.public_url) + "/sidebar/" + PercentEncode(viewer.corp_id) + "/";
  if (settings_.public_url.empty() || url.rfind(base, 0) != 0)
    return Status::InvalidArgument("sidebar_url_foreign", "Koi signs only its own sidebar pages of the member's corp");
  KOI_ASSIGN_OR_RETURN(Linked linked, LinkedCorp(viewer.corp_id));
  if (linked.team != viewer.team) return Status::Unauthenticated("sidebar_unauthenticated", "the session has ended");
  if (linked.agent_id.empty())
    return Status::FailedPrecondition("sidebar_agent_id_missing",
                                      "the WeCom app's AgentId is not set: an admin enters it on the setup page");
  KOI_ASSIGN_OR_RETURN(std::string ticket, Ticket(linked.corp, linked.agent_id, false));
  AgentConfig out;
  out.corp_id = viewer.corp_id;
  out.agent_id = linked.agent_id;
  out.timestamp = clock_.NowSeconds();
  out.nonce_str = accounts::RandomToken().substr(0, 16);
  out.signature = wecom::JsSdkSignature(ticket, out.nonce_str, std::to_string(out.timestamp), url);
  return out;
}

Result<Sidebar::SetupInfo> Sidebar::Setup(TeamId team) {
  SetupInfo out;
  out.public_url = TrimSlash(settings_.public_url);
  out.trusted_domain = HostOf(out.public_url);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT corp_id, agent_id FROM wecom_corps WHERE team_id = ? AND "
                                         "auth_cancelled_at IS NULL", {team.value()}));
  if (r.rows.empty())
    return Status::FailedPrecondition("wecom_not_linked", "the team's WeCom corp is not linked (or its admin uninstalled "
                                                          "the app)");
  out.corp_id = r.rows[0].Text(0);
  out.agent_id = r.rows[0].Text(1);
  if (!out.public_url.empty())
    for (const auto& p : Pages())
      out.entries.push_back({p.key, p.name_zh, p.name_en, PageUrl(out.public_url, r.rows[0].Text(0), p.key)});
  KOI_ASSIGN_OR_RETURN(auto last, db_.Query("SELECT s.userid, COALESCE(e.name, s.userid), s.created_at FROM "
                                            "sidebar_sessions s LEFT JOIN wecom_employees e ON e.team_id = s.team_id "
                                            "AND e.userid = s.userid WHERE s.team_id = ? ORDER BY s.created_at DESC, "
                                            "s.id DESC LIMIT 1", {team.value()}));
  if (!last.rows.empty())
    out.last_open = LastOpen{last.rows[0].Text(0), last.rows[0].Text(1), last.rows[0].Int(2)};
  KOI_ASSIGN_OR_RETURN(auto n, db_.Query("SELECT COUNT(*) FROM sidebar_sessions WHERE team_id = ? AND created_at >= ?",
                                         {team.value(), clock_.NowMillis() - 7 * kDayMs}));
  out.opens_7d = n.rows.at(0).Int(0);
  return out;
}

Result<std::vector<Sidebar::Check>> Sidebar::RunChecks(const accounts::Principal& who) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(SetupInfo info, Setup(who.team));
  std::vector<Check> out;
  // 1. The public URL: WeCom's client must reach it, and WeCom wants the trusted domain served over HTTPS.
  if (info.public_url.empty() || info.trusted_domain.empty()) {
    out.push_back({"public_url", "fail", "sidebar_not_configured", ""});
  } else if (info.public_url.rfind("https://", 0) != 0 && !IsLoopback(info.trusted_domain)) {
    out.push_back({"public_url", "warn", "sidebar_not_https", info.public_url});
  } else {
    out.push_back({"public_url", "ok", "", info.public_url});
  }
  // 2. The AgentId, which agentConfig names.
  out.push_back(info.agent_id.empty() ? Check{"agent_id", "fail", "sidebar_agent_id_missing", ""}
                                      : Check{"agent_id", "ok", "", info.agent_id});
  // 3. WeCom issues the app a JS-SDK ticket (its credentials work and it may use the JS-SDK).
  auto corp = link_.Credentials(who.team);
  auto ticket = corp.ok() ? Ticket(*corp, info.agent_id, /*fresh=*/true) : Result<std::string>(corp.status());
  out.push_back(ticket.ok() ? Check{"ticket", "ok", "", ""}
                            : Check{"ticket", "fail", ticket.status().reason(), ticket.status().message()});
  // 4. The page answers at the public URL (a wrong public URL or a proxy that does not pass /sidebar/ shows here).
  if (info.entries.empty() || !settings_.fetch) {
    out.push_back({"page", "fail", "sidebar_not_configured", ""});
  } else {
    auto got = settings_.fetch(info.entries[0].url);
    if (!got.ok()) {
      out.push_back({"page", "fail", "sidebar_page_unreachable", got.status().message()});
    } else if (got->first != 200 || got->second.find("id=\"app\"") == std::string::npos) {
      out.push_back({"page", "fail", "sidebar_page_unexpected", "HTTP " + std::to_string(got->first)});
    } else {
      out.push_back({"page", "ok", "", info.entries[0].url});
    }
  }
  // 5. A member opened it from WeCom: the toolbar is configured there (Koi cannot read WeCom's toolbar setting).
  if (info.last_open) {
    out.push_back({"opened", "ok", "", info.last_open->employee_name});
  } else {
    out.push_back({"opened", "warn", "sidebar_never_opened", ""});
  }
  return out;
}

Result<int64_t> Sidebar::Purge() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("DELETE FROM sidebar_sessions WHERE expires_at < ? RETURNING id",
                                         {clock_.NowMillis() - kDayMs}));
  return static_cast<int64_t>(r.rows.size());
}

}  // namespace koi::wecom_link
