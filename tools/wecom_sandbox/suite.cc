#include "suite.h"

#include <boost/json.hpp>

#include <random>
#include <sstream>

#include "api.h"
#include "core/utf8.h"
#include "page.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "world.h"

namespace koi::sandbox {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using storage::Value;

// Tokens and codes: unpredictable (random_device seeded), unlike the seeded world's ids.
std::string RandomToken(int n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return RandomId(rng, "", n);
}

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}


Response ErrorPage(int status, const std::string& message) {
  return Page(status, "授权失败", "<h1>无法完成授权</h1><p class=\"error\" id=\"install-error\">" + Html(message) + "</p>");
}

struct PreAuth {
  std::string suite_id, suite_name;
};

// A live, unused pre_auth_code of `suite_id`; the error page otherwise.
Result<PreAuth> CheckPreAuth(storage::Database& db, int64_t now, const std::string& suite_id, const std::string& code) {
  KOI_ASSIGN_OR_RETURN(auto q, db.Query("SELECT s.name, c.expires_at, c.used FROM suites s LEFT JOIN suite_codes c ON "
                                        "c.code = ? AND c.kind = 'pre_auth' AND c.suite_id = s.suite_id WHERE "
                                        "s.suite_id = ?",
                                        {code, suite_id}));
  if (q.rows.empty()) return Status::NotFound("suite", "未知的第三方应用（suite_id 无效，40083）");
  if (q.rows[0].IsNull(1) || q.rows[0].Int(2) != 0 || q.rows[0].Int(1) <= now)
    return Status::InvalidArgument("pre_auth", "预授权码无效、已使用或已过期（40077），请回到应用重新发起授权");
  return PreAuth{suite_id, q.rows[0].Text(0)};
}

// An http(s) URL without control characters (it ends up in a response header).
bool HttpUrl(const std::string& url) {
  for (unsigned char c : url)
    if (c < 0x20 || c == 0x7F) return false;
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

// Queues an instruction callback for `suite_id` (delivered by CallbackDeliverer).
Status QueueInstruction(storage::Session& tx, const std::string& suite_id, std::vector<wecom::XmlField> fields,
                        int64_t now_ms) {
  return tx.Exec("INSERT INTO suite_outbox (suite_id, message, created_at) VALUES (?, ?, ?)",
                 {suite_id, wecom::BuildXmlMessage(fields), now_ms});
}

}  // namespace

Status ConfigureSuite(storage::Database& db, const SuiteSpec& s) {
  if (s.suite_id.empty() || s.suite_secret.empty() || s.token.empty())
    return Status::InvalidArgument("bad_suite", "suite id, secret and token are required");
  KOI_RETURN_IF_ERROR(wecom::MakeCallbackKeys(s.token, s.aes_key, s.suite_id).status());
  return db.Exec("INSERT INTO suites (suite_id, suite_secret, name, token, aes_key, instruction_url, data_url) VALUES "
                 "(?, ?, ?, ?, ?, ?, ?) ON CONFLICT (suite_id) DO UPDATE SET suite_secret = excluded.suite_secret, "
                 "name = excluded.name, token = excluded.token, aes_key = excluded.aes_key, instruction_url = "
                 "excluded.instruction_url, data_url = excluded.data_url",
                 {s.suite_id, s.suite_secret, s.name, s.token, s.aes_key, s.instruction_url, s.data_url});
}

Result<int> PushSuiteTickets(storage::Database& db, const Clock& clock) {
  const int64_t now = clock.NowSeconds();
  int queued = 0;
  KOI_RETURN_IF_ERROR(db.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto due, tx.Query("SELECT suite_id FROM suites WHERE instruction_url <> '' AND "
                                            "ticket_at <= ?",
                                            {now - SuiteApi::kTicketEveryS}));
    for (const auto& row : due.rows) {
      const std::string suite = row.Text(0), ticket = RandomToken(43);
      // The previous ticket stays good until its 30 minutes end; WeCom accepts either.
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE suites SET previous_ticket = ticket, previous_ticket_at = ticket_at, "
                                  "ticket = ?, ticket_at = ? WHERE suite_id = ?",
                                  {ticket, now, suite}));
      KOI_RETURN_IF_ERROR(QueueInstruction(tx, suite,
                                           {{"SuiteId", suite},
                                            {"InfoType", "suite_ticket"},
                                            {"TimeStamp", std::to_string(now)},
                                            {"SuiteTicket", ticket}},
                                           clock.NowMillis()));
      ++queued;
    }
    return Status::Ok();
  }));
  return queued;
}

Status UninstallSuite(storage::Database& db, const Clock& clock, const std::string& suite_id,
                      const std::string& corp_id) {
  return db.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto gone, tx.Query("DELETE FROM suite_auths WHERE suite_id = ? AND corp_id = ? RETURNING corp_id",
                                             {suite_id, corp_id}));
    if (gone.rows.empty()) return Status::NotFound("not_installed", corp_id + " has not installed " + suite_id);
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM access_tokens WHERE corp_id = ? AND token IN (SELECT token FROM "
                                "token_scopes)",
                                {corp_id}));
    return QueueInstruction(tx, suite_id,
                            {{"SuiteId", suite_id},
                             {"InfoType", "cancel_auth"},
                             {"TimeStamp", std::to_string(clock.NowSeconds())},
                             {"AuthCorpId", corp_id}},
                            clock.NowMillis());
  });
}

namespace {

// The scope of an install showing `allow_party` (comma-separated department ids; '' for everyone) in `corp_id`.
template <typename Querier>
Result<TokenScope> ScopeOfParties(Querier& q, const std::string& corp_id, const std::string& allow_party) {
  TokenScope scope;
  if (allow_party.empty()) return scope;
  scope.all = false;
  std::stringstream parties(allow_party);
  for (std::string id; std::getline(parties, id, ',');)
    if (!id.empty()) scope.departments.insert(std::atoll(id.c_str()));
  KOI_ASSIGN_OR_RETURN(auto depts, q.Query("SELECT id, parent_id FROM departments WHERE corp_id = ?", {corp_id}));
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& row : depts.rows)
      if (scope.departments.count(row.Int(1)) && scope.departments.insert(row.Int(0)).second) grew = true;
  }
  KOI_ASSIGN_OR_RETURN(auto users, q.Query("SELECT userid, departments FROM employees WHERE corp_id = ?", {corp_id}));
  for (const auto& row : users.rows) {
    boost::system::error_code ec;
    json::value v = json::parse(row.Text(1), ec);
    if (ec || !v.is_array()) continue;
    for (const auto& d : v.as_array()) {
      int64_t id = d.is_string() ? std::atoll(std::string(d.as_string()).c_str())
                   : d.is_number() ? d.to_number<int64_t>() : 0;
      if (scope.departments.count(id)) {
        scope.users.insert(row.Text(0));
        break;
      }
    }
  }
  return scope;
}

}  // namespace

Result<TokenScope> LoadTokenScope(storage::Database& db, const std::string& access_token, const std::string& corp_id) {
  KOI_ASSIGN_OR_RETURN(auto q, db.Query("SELECT allow_party FROM token_scopes WHERE token = ?", {access_token}));
  return ScopeOfParties(db, corp_id, q.rows.empty() ? std::string() : q.rows[0].Text(0));
}

Result<TokenScope> SuiteInstallScope(storage::Database& db, const std::string& suite_id, const std::string& corp_id) {
  KOI_ASSIGN_OR_RETURN(auto q, db.Query("SELECT allow_party FROM suite_auths WHERE suite_id = ? AND corp_id = ?",
                                        {suite_id, corp_id}));
  if (q.rows.empty()) return Status::NotFound("not_installed", corp_id + " has not installed " + suite_id);
  return ScopeOfParties(db, corp_id, q.rows[0].Text(0));
}

Result<TokenScope> InstallScope(storage::Session& tx, const std::string& corp_id) {
  KOI_ASSIGN_OR_RETURN(auto q, tx.Query("SELECT allow_party FROM suite_auths WHERE corp_id = ? ORDER BY created_at DESC "
                                        "LIMIT 1",
                                        {corp_id}));
  return ScopeOfParties(tx, corp_id, q.rows.empty() ? std::string() : q.rows[0].Text(0));
}

bool AdmitSuiteToken(storage::Database& db, const Clock& clock, const Request& r, std::string& suite_id,
                     Response& error) {
  std::string token = r.Query("suite_access_token");
  if (token.empty()) {
    error = WecomError(41001, "suite_access_token missing", r);
    return false;
  }
  auto q = db.Query("SELECT suite_id, expires_at FROM suite_tokens WHERE token = ?", {token});
  if (!q.ok()) {
    error = WecomError(-1, "system busy", r);
    return false;
  }
  if (q->rows.empty()) {
    error = WecomError(40082, "invalid suite_access_token", r);
    return false;
  }
  if (q->rows[0].Int(1) <= clock.NowSeconds()) {
    error = WecomError(42009, "suite_access_token expired", r);
    return false;
  }
  suite_id = q->rows[0].Text(0);
  return true;
}

void SuiteApi::AddRoutes(http::Router& router) {
  // ----- the suite's token -----
  router.Add("POST", "/cgi-bin/service/get_suite_token", [this](Request& r) {
    json::object body;
    if (!ParseBody(r, body)) return WecomError(47001, "data format error", r);
    const std::string suite = Str(body, "suite_id"), secret = Str(body, "suite_secret"),
                      ticket = Str(body, "suite_ticket");
    auto q = db_.Query("SELECT suite_secret, ticket, ticket_at, previous_ticket, previous_ticket_at FROM suites WHERE "
                       "suite_id = ?",
                       {suite});
    if (!q.ok()) return WecomError(-1, "system busy", r);
    if (q->rows.empty()) return WecomError(40083, "invalid suite_id", r);
    const auto& row = q->rows[0];
    if (row.Text(0) != secret) return WecomError(40080, "invalid suite_secret", r);
    const int64_t now = clock_.NowSeconds();
    bool live = (!ticket.empty() && ticket == row.Text(1) && row.Int(2) + kTicketTtlS > now) ||
                (!ticket.empty() && ticket == row.Text(3) && row.Int(4) + kTicketTtlS > now);
    if (!live) return WecomError(40085, "invalid suite_ticket", r);
    std::string token = RandomToken(64);
    if (!db_.Exec("INSERT INTO suite_tokens (token, suite_id, expires_at) VALUES (?, ?, ?)",
                  {token, suite, now + token_ttl_s_})
             .ok())
      return WecomError(-1, "system busy", r);
    return WecomOk({{"suite_access_token", token}, {"expires_in", token_ttl_s_}});
  });

  auto admit = [this](const Request& r, std::string& suite, Response& error) {
    return AdmitSuiteToken(db_, clock_, r, suite, error);
  };

  router.Add("GET", "/cgi-bin/service/get_pre_auth_code", [this, admit](Request& r) {
    std::string suite;
    Response err;
    if (!admit(r, suite, err)) return err;
    std::string code = RandomToken(40);
    if (!db_.Exec("INSERT INTO suite_codes (code, kind, suite_id, expires_at) VALUES (?, 'pre_auth', ?, ?)",
                  {code, suite, clock_.NowSeconds() + kPreAuthTtlS})
             .ok())
      return WecomError(-1, "system busy", r);
    return WecomOk({{"pre_auth_code", code}, {"expires_in", kPreAuthTtlS}});
  });

  // set_session_info: auth_type 0 (a live install) or 1 (a test install); the sandbox keeps neither apart.
  router.Add("POST", "/cgi-bin/service/set_session_info", [this, admit](Request& r) {
    std::string suite;
    Response err;
    if (!admit(r, suite, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return WecomError(47001, "data format error", r);
    auto q = db_.Query("SELECT 1 FROM suite_codes WHERE code = ? AND kind = 'pre_auth' AND suite_id = ? AND used = 0 "
                       "AND expires_at > ?",
                       {Str(body, "pre_auth_code"), suite, clock_.NowSeconds()});
    if (!q.ok()) return WecomError(-1, "system busy", r);
    if (q->rows.empty()) return WecomError(40077, "invalid pre_auth_code", r);
    return WecomOk();
  });

  router.Add("POST", "/cgi-bin/service/get_permanent_code", [this, admit](Request& r) {
    std::string suite;
    Response err;
    if (!admit(r, suite, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return WecomError(47001, "data format error", r);
    const std::string code = Str(body, "auth_code");
    json::object answer;
    std::string corp;
    int errcode = 0;
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      // Claimed in one statement: an auth_code is good once, however many ask at the same time.
      KOI_ASSIGN_OR_RETURN(auto c, tx.Query("UPDATE suite_codes SET used = 1 WHERE code = ? AND kind = 'auth' AND "
                                            "suite_id = ? AND used = 0 AND expires_at > ? RETURNING corp_id, state",
                                            {code, suite, clock_.NowSeconds()}));
      if (c.rows.empty()) {
        errcode = 40078;
        return Status::Ok();
      }
      corp = c.rows[0].Text(0);
      KOI_ASSIGN_OR_RETURN(auto a, tx.Query("SELECT a.permanent_code, a.agent_id, a.auth_user, co.corp_name, "
                                            "COALESCE(e.name, '') FROM suite_auths a JOIN corps co ON co.corp_id = "
                                            "a.corp_id LEFT JOIN employees e ON e.corp_id = a.corp_id AND e.userid = "
                                            "a.auth_user WHERE a.suite_id = ? AND a.corp_id = ?",
                                            {suite, corp}));
      if (a.rows.empty()) {
        errcode = 40078;
        return Status::Ok();
      }
      // The corp token comes with the permanent code, as WeCom's answer carries one.
      std::string token = RandomToken(64);
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO access_tokens (token, corp_id, expires_at) VALUES (?, ?, ?)",
                                  {token, corp, clock_.NowSeconds() + token_ttl_s_}));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO token_scopes (token, allow_party) SELECT ?, allow_party FROM "
                                  "suite_auths WHERE suite_id = ? AND corp_id = ?",
                                  {token, suite, corp}));
      const auto& row = a.rows[0];
      answer = {{"access_token", token},
                {"expires_in", token_ttl_s_},
                {"permanent_code", row.Text(0)},
                {"auth_corp_info", json::object{{"corpid", corp}, {"corp_name", row.Text(3)},
                                                {"corp_full_name", row.Text(3)}, {"corp_type", "verified"}}},
                {"auth_info", json::object{{"agent", json::array{json::object{{"agentid", row.Int(1)},
                                                                             {"name", "锦鲤 SCRM"}}}}}},
                {"auth_user_info", json::object{{"userid", row.Text(2)}, {"name", row.Text(4)}}},
                {"state", c.rows[0].Text(1)}};
      return Status::Ok();
    });
    if (!s.ok()) return WecomError(-1, "system busy", r);
    if (errcode) return WecomError(errcode, "invalid auth_code", r);
    return WecomOk(std::move(answer));
  });

  router.Add("POST", "/cgi-bin/service/get_corp_token", [this, admit](Request& r) {
    std::string suite;
    Response err;
    if (!admit(r, suite, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return WecomError(47001, "data format error", r);
    const std::string corp = Str(body, "auth_corpid");
    auto q = db_.Query("SELECT allow_party FROM suite_auths WHERE suite_id = ? AND corp_id = ? AND permanent_code = ?",
                       {suite, corp, Str(body, "permanent_code")});
    if (!q.ok()) return WecomError(-1, "system busy", r);
    if (q->rows.empty()) return WecomError(40084, "invalid permanent_code", r);
    const int64_t now = clock_.NowSeconds();
    std::string token = RandomToken(64);
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO access_tokens (token, corp_id, expires_at) VALUES (?, ?, ?)",
                                  {token, corp, now + token_ttl_s_}));
      return tx.Exec("INSERT INTO token_scopes (token, allow_party) VALUES (?, ?)", {token, q->rows[0].Text(0)});
    });
    if (!s.ok()) return WecomError(-1, "system busy", r);
    return WecomOk({{"access_token", token}, {"expires_in", token_ttl_s_}});
  });

  // ----- the authorisation page a corp's admin sees -----
  router.Add("GET", "/3rdapp/install", [this](Request& r) {
    const std::string suite_id = r.Query("suite_id"), pre = r.Query("pre_auth_code"),
                      redirect = r.Query("redirect_uri"), state = r.Query("state");
    if (!HttpUrl(redirect)) return ErrorPage(400, "redirect_uri 必须是 http(s) 地址");
    auto pa = CheckPreAuth(db_, clock_.NowSeconds(), suite_id, pre);
    if (!pa.ok()) return ErrorPage(400, pa.status().message());
    auto corps = db_.Query("SELECT corp_id, corp_name FROM corps ORDER BY created_at, corp_id");
    if (!corps.ok() || corps->rows.empty()) return ErrorPage(503, "沙箱里还没有企业：先运行 scenario seed");
    std::string corp = r.Query("corp_id");
    bool known = false;
    for (const auto& row : corps->rows) known = known || row.Text(0) == corp;
    if (!known) corp = corps->rows[0].Text(0);
    auto depts = db_.Query("SELECT id, name, parent_id FROM departments WHERE corp_id = ? ORDER BY parent_id, sort, id",
                           {corp});
    if (!depts.ok()) return ErrorPage(503, "系统繁忙，请稍后再试");
    std::string hidden = "<input type=\"hidden\" name=\"suite_id\" value=\"" + Html(suite_id) +
                         "\"><input type=\"hidden\" name=\"pre_auth_code\" value=\"" + Html(pre) +
                         "\"><input type=\"hidden\" name=\"redirect_uri\" value=\"" + Html(redirect) +
                         "\"><input type=\"hidden\" name=\"state\" value=\"" + Html(state) + "\">";
    // Choosing another corp reloads the page with its departments (a GET form: the page runs no script).
    std::string select = "<form method=\"get\" action=\"/3rdapp/install\" id=\"corp-form\">" +
                         [&] {
                           std::string keep;
                           for (const char* k : {"suite_id", "pre_auth_code", "redirect_uri", "state"})
                             keep += "<input type=\"hidden\" name=\"" + std::string(k) + "\" value=\"" +
                                     Html(r.Query(k)) + "\">";
                           return keep;
                         }() +
                         "<select name=\"corp_id\" id=\"corp\">";
    for (const auto& row : corps->rows)
      select += "<option value=\"" + Html(row.Text(0)) + "\"" + (row.Text(0) == corp ? " selected" : "") + ">" +
                Html(row.Text(1)) + "（" + Html(row.Text(0)) + "）</option>";
    select += "</select> <button type=\"submit\" id=\"switch-corp\" style=\"padding:4px 12px;font-size:13px\">切换企业"
              "</button></form>";
    std::string parties;
    for (const auto& d : depts->rows)
      parties += "<label><input type=\"checkbox\" name=\"party\" value=\"" + std::to_string(d.Int(0)) +
                 "\" data-name=\"" + Html(d.Text(1)) + "\"> " + Html(d.Text(1)) +
                 (d.Int(2) == 0 ? "（全企业）" : "") + "</label>";
    return Page(200, "授权安装 " + pa->suite_name,
                "<h1>授权安装「" + Html(pa->suite_name) + "」</h1><p class=\"muted\">企业微信管理员确认后，该应用可读取下列"
                "可见范围内的成员、客户与客户群。（koi-wecom-sandbox 模拟的授权页）</p><fieldset><legend>授权企业"
                "</legend>" + select + "</fieldset><form method=\"post\" action=\"/3rdapp/install\" id=\"install-form\">" +
                hidden + "<input type=\"hidden\" name=\"corp_id\" value=\"" + Html(corp) + "\">"
                "<fieldset><legend>应用可见范围</legend>"
                "<label><input type=\"radio\" name=\"scope\" value=\"all\" checked> 全部成员</label><label><input "
                "type=\"radio\" name=\"scope\" value=\"parties\" id=\"scope-parties\"> 指定部门（含子部门）</label>"
                "<div id=\"parties\" style=\"margin-left:22px\">" + parties + "</div></fieldset>"
                "<button type=\"submit\" id=\"approve\">同意授权</button></form>");
  });

  router.Add("POST", "/3rdapp/install", [this](Request& r) {
    auto form = ParseForm(r.body);
    const std::string suite_id = FormValue(form, "suite_id"), pre = FormValue(form, "pre_auth_code"),
                      redirect = FormValue(form, "redirect_uri"), state = FormValue(form, "state"),
                      corp = FormValue(form, "corp_id");
    if (!HttpUrl(redirect)) return ErrorPage(400, "redirect_uri 必须是 http(s) 地址");
    std::string allow;
    if (FormValue(form, "scope") == "parties") {
      auto [from, to] = form.equal_range("party");
      for (auto it = from; it != to; ++it) {
        const std::string& id = it->second;
        if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
          return ErrorPage(400, "部门 id 无效");
        allow += (allow.empty() ? "" : ",") + id;
      }
      if (allow.empty()) return ErrorPage(400, "选择“指定部门”时至少勾选一个部门");
    }
    const int64_t now = clock_.NowSeconds();
    std::string auth_code = RandomToken(40), failure;
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      KOI_ASSIGN_OR_RETURN(auto used, tx.Query("UPDATE suite_codes SET used = 1 WHERE code = ? AND kind = 'pre_auth' "
                                               "AND suite_id = ? AND used = 0 AND expires_at > ? RETURNING code",
                                               {pre, suite_id, now}));
      if (used.rows.empty()) {
        failure = "预授权码无效、已使用或已过期（40077），请回到应用重新发起授权";
        return Status::Ok();
      }
      KOI_ASSIGN_OR_RETURN(auto c, tx.Query("SELECT (SELECT userid FROM employees WHERE corp_id = c.corp_id AND "
                                            "status = 1 ORDER BY userid LIMIT 1) FROM corps c WHERE c.corp_id = ?",
                                            {corp}));
      if (c.rows.empty()) {
        failure = "未知的企业";
        return Status::Ok();
      }
      KOI_ASSIGN_OR_RETURN(auto suite, tx.Query("SELECT token, aes_key, data_url FROM suites WHERE suite_id = ?",
                                                {suite_id}));
      if (suite.rows.empty()) {
        failure = "未知的第三方应用";
        return Status::Ok();
      }
      // A reinstall keeps the agent and gets a new permanent code, as WeCom issues one per authorisation.
      KOI_RETURN_IF_ERROR(tx.Exec(
          "INSERT INTO suite_auths (suite_id, corp_id, permanent_code, agent_id, allow_party, auth_user, created_at) "
          "VALUES (?, ?, ?, 1000000 + (SELECT COUNT(*) FROM suite_auths) + 1, ?, ?, ?) ON CONFLICT (suite_id, corp_id) "
          "DO UPDATE SET permanent_code = excluded.permanent_code, allow_party = excluded.allow_party, auth_user = "
          "excluded.auth_user, created_at = excluded.created_at",
          {suite_id, corp, RandomToken(43), allow, c.rows[0].IsNull(0) ? std::string() : c.rows[0].Text(0), now}));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO suite_codes (code, kind, suite_id, corp_id, state, expires_at) VALUES "
                                  "(?, 'auth', ?, ?, ?, ?)",
                                  {auth_code, suite_id, corp, state, now + kAuthCodeTtlS}));
      // The corp's data callbacks now go to the suite's data URL, under the suite's token and key.
      std::string data_url = suite.rows[0].Text(2);
      for (size_t at; (at = data_url.find("$CORPID$")) != std::string::npos;) data_url.replace(at, 8, corp);
      if (!data_url.empty())
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE corps SET callback_url = ?, callback_token = ?, callback_aes_key = ? "
                                    "WHERE corp_id = ?",
                                    {data_url, suite.rows[0].Text(0), suite.rows[0].Text(1), corp}));
      return QueueInstruction(tx, suite_id,
                              {{"SuiteId", suite_id},
                               {"AuthCode", auth_code},
                               {"InfoType", "create_auth"},
                               {"TimeStamp", std::to_string(now)},
                               {"State", state}},
                              clock_.NowMillis());
    });
    if (!s.ok()) return ErrorPage(503, "系统繁忙，请稍后再试");
    if (!failure.empty()) return ErrorPage(400, failure);
    // Back to the app with the auth_code. WeCom answers with a redirect; the sandbox's pages are served under
    // form-action 'self', which a browser applies to a form's redirect too, so it sends a page that navigates.
    const std::string back = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") + "auth_code=" +
                             PercentEncode(auth_code) + "&state=" + PercentEncode(state) +
                             "&expires_in=" + std::to_string(kAuthCodeTtlS);
    Response resp = Page(200, "授权成功", "<meta http-equiv=\"refresh\" content=\"0;url=" + Html(back) +
                                             "\"><h1>授权成功</h1><p>正在返回应用……</p><p><a id=\"back\" href=\"" +
                                             Html(back) + "\">如未自动跳转，请点此返回</a></p>");
    resp.SetHeader("Refresh", "0;url=" + back);
    return resp;
  });
}

}  // namespace koi::sandbox
