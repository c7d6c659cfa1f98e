#include "toolbar.h"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>

#include "core/utf8.h"
#include "page.h"
#include "suite.h"
#include "world.h"

namespace koi::sandbox {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;

// Tickets and codes: unpredictable (random_device seeded), unlike the seeded world's ids.
std::string RandomToken(int n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return RandomId(rng, "", n);
}

// Lowercase hex, as WeCom's signatures are written.
std::string Sha1Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) (hex += kHex[digest[i] >> 4]) += kHex[digest[i] & 15];
  return hex;
}

// The JS-SDK signature (附录1-JS-SDK使用权限签名算法): the fields in this order, url without its fragment.
std::string JsapiSignature(const std::string& ticket, const std::string& nonce, const std::string& timestamp,
                           const std::string& url) {
  return Sha1Hex("jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + timestamp + "&url=" + url);
}


// A string or integer field as text ("" otherwise): the JS-SDK takes agentid and timestamp either way.
std::string Scalar(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return "";
}

bool Digits(std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos; }

// ----- URLs and the trusted domain -----

struct Authority {
  std::string host;  // lowercase
  int port = 0;      // 0: none given
};

// host[:port]: letters, digits, '-' and '.' (a name or an IPv4 address), and a port of 1-65535.
bool ParseAuthority(std::string_view text, Authority& out) {
  const size_t colon = text.find(':');
  std::string_view host = text.substr(0, colon);
  if (host.empty() || host.front() == '.' || host.back() == '.' || host.front() == '-') return false;
  out.host.clear();
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    out.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  out.port = 0;
  if (colon == std::string_view::npos) return true;
  std::string_view port = text.substr(colon + 1);
  if (!Digits(port) || port.size() > 5) return false;
  std::from_chars(port.data(), port.data() + port.size(), out.port);
  return out.port >= 1 && out.port <= 65535;
}

struct WebUrl {
  std::string scheme;  // "http" or "https"
  Authority authority;
};

// An absolute http(s) URL without control characters, spaces or user info; `authority` is its host[:port].
bool ParseWebUrl(std::string_view url, WebUrl& out) {
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7F) return false;
  for (std::string_view scheme : {"http", "https"}) {
    const std::string prefix = std::string(scheme) + "://";
    if (url.size() <= prefix.size() || url.compare(0, prefix.size(), prefix) != 0) continue;
    std::string_view rest = url.substr(prefix.size());
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    out.scheme = std::string(scheme);
    return authority.find('@') == std::string_view::npos && ParseAuthority(authority, out.authority);
  }
  return false;
}

// Whether `url` is on the trusted domain `domain` (host[:port]): the same host, and the domain's port or, when it
// names none, the scheme's default one.
bool OnDomain(const WebUrl& url, const std::string& domain) {
  Authority d;
  if (!ParseAuthority(domain, d) || d.host != url.authority.host) return false;
  const int default_port = url.scheme == "https" ? 443 : 80;
  const int url_port = url.authority.port ? url.authority.port : default_port;
  return url_port == (d.port ? d.port : default_port);
}

std::string WithoutFragment(const std::string& url) { return url.substr(0, url.find('#')); }

// The origins of the toolbar's pages ("http://127.0.0.1:8080"), space-separated: what the chat page may frame.
std::string EntryOrigins(const Toolbar& t) {
  std::set<std::string> origins;
  for (const auto& e : t.entries)
    if (WebUrl url; ParseWebUrl(e.url, url))
      origins.insert(url.scheme + "://" + url.authority.host +
                     (url.authority.port ? ":" + std::to_string(url.authority.port) : ""));
  std::string out;
  for (const auto& o : origins) out += (out.empty() ? "" : " ") + o;
  return out;
}

// ----- the toolbar -----

// Refuses what the admin console would (InvalidArgument "bad_toolbar") and tidies the rest: fields trimmed, the
// domain in lowercase.
Status CheckToolbar(Toolbar& t) {
  auto bad = [](std::string text) { return Status::InvalidArgument("bad_toolbar", std::move(text)); };
  t.agent_id = TrimSpace(t.agent_id);
  t.trusted_domain = TrimSpace(t.trusted_domain);
  if (!Digits(t.agent_id) || t.agent_id.size() > 18) return bad("invalid agent_id: digits only, like 1000002");
  Authority domain;
  if (!ParseAuthority(t.trusted_domain, domain))
    return bad("invalid trusted_domain \"" + t.trusted_domain +
               "\": a host[:port] such as koi.example.com or 127.0.0.1:8080");
  t.trusted_domain = domain.host + (domain.port ? ":" + std::to_string(domain.port) : "");
  if (t.entries.empty() || t.entries.size() > 10) return bad("invalid entries: a toolbar has 1-10 pages");
  for (size_t i = 0; i < t.entries.size(); ++i) {
    ToolbarEntry& e = t.entries[i];
    const std::string where = "entries[" + std::to_string(i) + "]";
    e.name = TrimSpace(e.name);
    e.url = TrimSpace(e.url);
    const size_t chars = IsValidUtf8(e.name) ? CodePointCount(e.name) : 0;
    if (chars < 1 || chars > 16 || ToValidUtf8(e.name) != e.name)
      return bad("invalid " + where + ".name: 1-16 characters, no control characters");
    WebUrl url;
    if (!ParseWebUrl(e.url, url)) return bad("invalid " + where + ".url \"" + e.url + "\": an http(s) URL");
    if (!OnDomain(url, t.trusted_domain))
      return bad("invalid " + where + ".url \"" + e.url + "\": not on the trusted domain " + t.trusted_domain);
  }
  return Status::Ok();
}

json::object ToolbarJson(const Toolbar& t) {
  json::array entries;
  for (const auto& e : t.entries) entries.push_back(json::object{{"name", e.name}, {"url", e.url}});
  return {{"agent_id", t.agent_id},
          {"trusted_domain", t.trusted_domain},
          {"entries", std::move(entries)},
          {"updated_at", t.updated_at}};
}

// A toolbar from JSON {agent_id (digits, as a string or number), trusted_domain, entries: [{name, url}]}; what is
// missing or of another type stays empty for CheckToolbar to refuse.
Toolbar ToolbarFromJson(const json::object& o) {
  Toolbar t{.agent_id = Scalar(o, "agent_id"), .trusted_domain = Scalar(o, "trusted_domain"), .entries = {}};
  if (const json::value* v = o.if_contains("entries"); v != nullptr && v->is_array())
    for (const auto& item : v->as_array()) {
      if (!item.is_object()) {
        t.entries.push_back({});
        continue;
      }
      t.entries.push_back({Scalar(item.as_object(), "name"), Scalar(item.as_object(), "url")});
    }
  return t;
}

// ----- the signed-in member and the OAuth codes -----

// The member signed in to the simulated client: the cookie wecom_sandbox_member=<corp_id>:<userid>.
bool SignedInMember(const Request& r, std::string& corp_id, std::string& userid) {
  const std::string cookies = r.Header("cookie");
  const std::string name = std::string(ToolbarApi::kMemberCookie) + "=";
  size_t at = 0;
  while (at < cookies.size()) {
    size_t end = cookies.find(';', at);
    if (end == std::string::npos) end = cookies.size();
    std::string pair = TrimSpace(std::string_view(cookies).substr(at, end - at));
    if (pair.rfind(name, 0) == 0) {
      std::string value = pair.substr(name.size());
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      const size_t colon = value.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) return false;
      corp_id = value.substr(0, colon);
      userid = value.substr(colon + 1);
      return true;
    }
    at = end + 1;
  }
  return false;
}

struct Claimed {
  std::string corp_id, userid, scope;
};

// Takes the code once, if it is live and was issued for `appid`; nullopt otherwise (WeCom's 40029).
Result<std::optional<Claimed>> ClaimCode(storage::Database& db, int64_t now, const std::string& code,
                                         const std::string& appid) {
  // One statement: a code is good once, however many exchange it at the same time.
  KOI_ASSIGN_OR_RETURN(auto q, db.Query("UPDATE oauth_codes SET used = 1 WHERE code = ? AND appid = ? AND used = 0 AND "
                                        "expires_at > ? RETURNING corp_id, userid, scope",
                                        {code, appid, now}));
  if (q.rows.empty()) return std::optional<Claimed>();
  return std::optional<Claimed>(Claimed{q.rows[0].Text(0), q.rows[0].Text(1), q.rows[0].Text(2)});
}

// The user_ticket WeCom adds for snsapi_privateinfo (the member's sensitive fields come with it); the sandbox
// serves nothing that takes it, so it is only a token of the right shape.
void AddUserTicket(const Claimed& c, json::object& answer) {
  if (c.scope != "snsapi_privateinfo") return;
  answer["user_ticket"] = RandomToken(64);
  answer["expires_in"] = ToolbarApi::kUserTicketTtlS;
}

// The OAuth page's refusals: an HTML page (the person in the client sees it), status 400.
Response OauthError(int errcode, const std::string& text) {
  const std::string code = errcode ? std::to_string(errcode) : "";
  Response out = Page(400, "无法打开页面",
                      "<h1>无法打开页面</h1><p class=\"error\" id=\"oauth-error\" data-test=\"oauth-error\" "
                      "data-errcode=\"" + code + "\">" + (errcode ? "errcode " + code + "：" : "") + Html(text) +
                          "</p><p class=\"muted\">koi-wecom-sandbox 模拟的企业微信网页授权 (OAuth)</p>");
  // Shown where the page was, in the chat page's sidebar frame: the sandbox's own pages may frame it.
  out.frame_ancestor = "'self'";
  return out;
}

// ----- the simulated client's pages -----

// A chat of `userid` with the customer `external`, or in the customer group `chat_id` (one of the two).
std::string ChatLink(const std::string& corp, const std::string& userid = "", const std::string& external = "",
                     const std::string& chat_id = "") {
  std::string link = "/sandbox/chat?corp=" + PercentEncode(corp);
  if (userid.empty()) return link;
  link += "&userid=" + PercentEncode(userid);
  return link + (chat_id.empty() ? "&external_userid=" + PercentEncode(external) : "&chat_id=" + PercentEncode(chat_id));
}

// The client's window: wide, unlike the install page's card.
Response ClientPage(int status, const std::string& title, const std::string& body) {
  Response resp;
  resp.status = status;
  resp.content_type = "text/html; charset=utf-8";
  resp.body =
      "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>" + Html(title) +
      "</title><style>"
      "*{box-sizing:border-box}body{font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;"
      "background:#eef0f3;color:#222;font-size:14px}header{background:#2b7de9;color:#fff;padding:10px 18px;"
      "display:flex;gap:16px;align-items:baseline}header h1{font-size:16px;margin:0}header a{color:#dbe8ff}"
      ".muted{color:#888;font-size:12px}a{color:#2b7de9}"
      ".client{display:grid;grid-template-columns:200px 1fr 400px;height:calc(100vh - 44px);min-height:480px}"
      ".sessions{background:#f7f8fa;border-right:1px solid #ddd;padding:14px}.who{font-weight:600;margin:4px 0 12px}"
      ".conversation{display:flex;flex-direction:column;background:#fff;min-width:0}"
      ".conversation h2{font-size:15px;margin:0;padding:12px 16px;border-bottom:1px solid #eee}"
      ".messages{flex:1;overflow:auto;padding:16px}.msg{max-width:70%;margin:8px 0;padding:8px 12px;border-radius:6px;"
      "background:#f1f2f4}.msg.me{margin-left:auto;background:#d4e6ff}.compose{display:flex;gap:8px;padding:10px;"
      "border-top:1px solid #eee}.compose input{flex:1;padding:7px}"
      ".sidebar{display:flex;flex-direction:column;border-left:1px solid #ddd;background:#fff;min-width:0}"
      ".tabs{display:flex;flex-wrap:wrap;border-bottom:1px solid #ddd}.tabs button{border:0;background:none;"
      "padding:9px 12px;cursor:pointer;color:#555}.tabs button[aria-selected=true]{color:#2b7de9;"
      "border-bottom:2px solid #2b7de9}.sidebar iframe{flex:1;border:0;width:100%}"
      ".notice{padding:18px;color:#777}.log{max-height:120px;overflow:auto;margin:0;padding:6px 6px 6px 26px;"
      "border-top:1px solid #eee;font:11px monospace;color:#555}"
      ".admin{margin:16px;background:#fff;border-radius:6px;padding:10px 16px}.admin summary{cursor:pointer}"
      ".admin label{display:block;margin:8px 0}.admin input,.admin textarea{width:100%;max-width:640px;padding:6px;"
      "font:13px monospace}button.primary{background:#2b7de9;color:#fff;border:0;border-radius:4px;padding:7px 18px;"
      "cursor:pointer}ul.pairs{columns:2;padding:0 18px 0 34px}ul.pairs li{margin:4px 0}"
      "</style></head><body>" +
      body + "</body></html>";
  return resp;
}

// The client's refusals (no such corp or chat, a toolbar not saved), with a way back.
Response ClientError(int status, const std::string& text, const std::string& back) {
  const std::string link =
      back.empty() ? "" : "<p><a href=\"" + Html(back) + "\">返回会话列表 (back to the chats)</a></p>";
  return ClientPage(status, "企业微信（沙箱）",
                    "<header><h1>企业微信（沙箱）</h1></header><main class=\"admin\"><p class=\"error\" "
                    "data-test=\"chat-error\">" + Html(text) + "</p>" + link + "</main>");
}

// The admin console's chat-toolbar settings, as a form that posts to /sandbox/admin/toolbar and comes back here.
std::string ToolbarAdmin(const std::string& corp, const std::optional<Toolbar>& toolbar, const std::string& userid,
                         const std::string& external, const std::string& chat_id) {
  std::string entries;
  if (toolbar)
    for (const auto& e : toolbar->entries) entries += e.name + "|" + e.url + "\n";
  return "<details class=\"admin\" data-test=\"toolbar-admin\"" + std::string(toolbar ? "" : " open") +
         "><summary>管理后台 · 聊天工具栏 (admin console: the app's chat toolbar)</summary>"
         "<form method=\"post\" action=\"/sandbox/admin/toolbar\" data-test=\"toolbar-form\">"
         "<input type=\"hidden\" name=\"corp\" value=\"" + Html(corp) + "\">"
         "<input type=\"hidden\" name=\"userid\" value=\"" + Html(userid) + "\">"
         "<input type=\"hidden\" name=\"external_userid\" value=\"" + Html(external) + "\">"
         "<input type=\"hidden\" name=\"chat_id\" value=\"" + Html(chat_id) + "\">"
         "<label>应用 AgentId (agent id) <input name=\"agent_id\" data-test=\"toolbar-agent-id\" value=\"" +
         Html(toolbar ? toolbar->agent_id : "") + "\" placeholder=\"1000002\"></label>"
         "<label>可信域名 (trusted domain, host[:port]) <input name=\"trusted_domain\" data-test=\"toolbar-domain\" "
         "value=\"" + Html(toolbar ? toolbar->trusted_domain : "") + "\" placeholder=\"127.0.0.1:8080\"></label>"
         "<label>页面，每行一个「名称|URL」(pages, one \"name|url\" a line) <textarea name=\"entries\" rows=\"4\" "
         "data-test=\"toolbar-entries\" placeholder=\"客户画像|http://127.0.0.1:8080/sidebar/…\">" + Html(entries) +
         "</textarea></label><button type=\"submit\" class=\"primary\" data-test=\"toolbar-save\">保存 (save)</button>"
         "</form></details>";
}

// Canned messages for the chat pane: the conversation is not what the sandbox simulates.
std::string FakeMessages(const std::string& customer, const std::string& member) {
  const std::pair<bool, const char*> lines[] = {{false, "你好，请问最近有什么会员活动吗？"},
                                                {true, "您好～本周会员日全场九折，积分还可以抵现。"},
                                                {false, "好的，我上次买的那款还有货吗？"},
                                                {true, "我帮您查一下，稍等哦。"}};
  std::string out;
  for (const auto& [mine, text] : lines)
    out += "<div class=\"msg" + std::string(mine ? " me" : "") + "\"><div class=\"muted\">" +
           Html(mine ? member : customer) + "</div>" + text + "</div>";
  return out;
}

// The client's JS bridge for the sidebar frames (served as /sandbox/chat.js: the dispatcher's policy runs scripts
// from the sandbox's origin only).
constexpr const char* kChatScript = R"js(
// The simulated WeCom client's JS bridge (koi-wecom-sandbox, GET /sandbox/chat). A page in the sidebar asks
// the client through postMessage, where in WeCom it calls WeixinJSBridge.invoke(name, params, callback):
//   page -> client: {koiBridge: 1, id, name, params, href}   (href: the page's location.href)
//   client -> page: {koiBridge: 1, id, result}                (result.err_msg: "<name>:ok" or "<name>:fail <reason>")
// Requests are taken only from the frame showing the selected entry; answers go only to that entry's origin.
'use strict';
(() => {
  const client = document.getElementById('chat');
  const frame = document.querySelector('[data-test="sidebar-frame"]');
  const log = document.querySelector('[data-test="bridge-log"]');
  const compose = document.querySelector('[data-test="chat-compose"]');
  if (compose) {
    compose.addEventListener('submit', (e) => {
      e.preventDefault();
      const input = compose.querySelector('input');
      if (!input.value.trim()) return;
      const msg = document.createElement('div');
      msg.className = 'msg me';
      msg.textContent = input.value;
      document.querySelector('[data-test="chat-messages"]').appendChild(msg);
      input.value = '';
    });
  }
  if (!client || !frame) return;
  const externalUserId = client.dataset.externalUserid;
  const chatId = client.dataset.chatId;  // set in a group chat, where WeCom answers getCurExternalChat instead
  const tabs = Array.from(document.querySelectorAll('[data-test="toolbar-tab"]'));
  const withoutFragment = (href) => String(href).split('#')[0];

  // The selected entry's frame: the origin answers go to, how many documents it finished loading (its load events:
  // a parent sees no more of a cross-origin frame), and the agentConfig that last succeeded in it: the load count
  // when it was asked for and the APIs it listed. A config asked for before the current document's load event (while
  // it was being parsed) or after it holds; one from two documents back does not. One document back cannot be told
  // from the current one, so a single reload keeps the permission.
  let current = { origin: '', loads: 0, config: null };

  function select(tab) {
    for (const t of tabs) t.setAttribute('aria-selected', t === tab ? 'true' : 'false');
    let origin = '';
    try { origin = new URL(tab.dataset.url).origin; } catch (_) { /* refused when the toolbar was saved */ }
    current = { origin, loads: 0, config: null };
    frame.src = tab.dataset.url;
  }
  frame.addEventListener('load', () => { current.loads += 1; });
  for (const t of tabs) t.addEventListener('click', () => select(t));
  if (tabs.length) select(tabs[0]);

  function granted(state, api) {
    const c = state.config;
    return !!c && c.apis.includes(api) && state.loads <= c.loads + 1;
  }

  function note(name, errMsg) {
    if (!log) return;
    const item = document.createElement('li');
    item.textContent = new Date().toLocaleTimeString() + ' ' + name + ' → ' + errMsg;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  async function invoke(state, name, params, href) {
    switch (name) {
      case 'agentConfig': {
        const loads = state.loads;
        const reply = await fetch('/sandbox/jsapi/agent-config', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ corpid: params.corpid, agentid: params.agentid, timestamp: params.timestamp,
                                 nonceStr: params.nonceStr, signature: params.signature, url: withoutFragment(href) }),
        });
        const result = await reply.json();
        const apis = Array.isArray(params.jsApiList) ? params.jsApiList.map(String) : [];
        state.config = result.err_msg === 'agentConfig:ok' ? { loads, apis } : null;
        return result;
      }
      case 'getCurExternalContact':
        if (!granted(state, name)) return { err_msg: 'getCurExternalContact:fail no permission' };
        return chatId ? { err_msg: 'getCurExternalContact:fail not in a single chat context' }
                      : { err_msg: 'getCurExternalContact:ok', userId: externalUserId };
      case 'getCurExternalChat':
        if (!granted(state, name)) return { err_msg: 'getCurExternalChat:fail no permission' };
        return chatId ? { err_msg: 'getCurExternalChat:ok', chatId }
                      : { err_msg: 'getCurExternalChat:fail not in a group chat context' };
      case 'getContext':
        return { err_msg: 'getContext:ok', entry: chatId ? 'group_chat_tools' : 'single_chat_tools' };
      default:
        return { err_msg: name + ':fail not supported' };
    }
  }

  window.addEventListener('message', async (e) => {
    if (e.source !== frame.contentWindow || e.origin !== current.origin) return;
    const m = e.data;
    if (!m || typeof m !== 'object' || m.koiBridge !== 1) return;
    const name = String(m.name || '');
    const params = m.params && typeof m.params === 'object' ? m.params : {};
    const state = current, target = frame.contentWindow;
    let result;
    try {
      result = await invoke(state, name, params, String(m.href || ''));
    } catch (err) {
      result = { err_msg: name + ':fail ' + (err && err.message ? err.message : 'error') };
    }
    note(name, result.err_msg);
    if (state.origin) target.postMessage({ koiBridge: 1, id: m.id, result }, state.origin);
  });
})();
)js";

}  // namespace

Status ConfigureToolbar(storage::Database& db, const Clock& clock, const std::string& corp_id, Toolbar toolbar) {
  KOI_RETURN_IF_ERROR(CheckToolbar(toolbar));
  KOI_ASSIGN_OR_RETURN(auto corp, db.Query("SELECT 1 FROM corps WHERE corp_id = ?", {corp_id}));
  if (corp.rows.empty()) return Status::NotFound("unknown_corp", "no corp " + corp_id + " in the sandbox");
  json::array entries;
  for (const auto& e : toolbar.entries) entries.push_back(json::object{{"name", e.name}, {"url", e.url}});
  return db.Exec("INSERT INTO toolbars (corp_id, agent_id, trusted_domain, entries, updated_at) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (corp_id) DO UPDATE SET agent_id = excluded.agent_id, trusted_domain = "
                 "excluded.trusted_domain, entries = excluded.entries, updated_at = excluded.updated_at",
                 {corp_id, toolbar.agent_id, toolbar.trusted_domain, json::serialize(entries), clock.NowSeconds()});
}

Result<Toolbar> LoadToolbar(storage::Database& db, const std::string& corp_id) {
  KOI_ASSIGN_OR_RETURN(auto q, db.Query("SELECT agent_id, trusted_domain, entries, updated_at FROM toolbars WHERE "
                                        "corp_id = ?",
                                        {corp_id}));
  if (q.rows.empty()) return Status::NotFound("no_toolbar", corp_id + " has no chat toolbar configured");
  Toolbar t{.agent_id = q.rows[0].Text(0), .trusted_domain = q.rows[0].Text(1), .entries = {},
            .updated_at = q.rows[0].Int(3)};
  boost::system::error_code ec;
  json::value entries = json::parse(q.rows[0].Text(2), ec);
  if (!ec && entries.is_array())
    for (const auto& e : entries.as_array())
      if (e.is_object()) t.entries.push_back({Scalar(e.as_object(), "name"), Scalar(e.as_object(), "url")});
  return t;
}

bool ToolbarApi::ChargeTicketFetch(const std::string& corp_id) {
  const int64_t now = clock_.NowSeconds();
  std::lock_guard lock(mu_);
  auto& times = ticket_fetches_[corp_id];
  while (!times.empty() && times.front() <= now - 3600) times.pop_front();
  if (static_cast<int64_t>(times.size()) >= kTicketFetchesPerHour) return false;
  times.push_back(now);
  return true;
}

void ToolbarApi::AddRoutes(http::Router& router) {
  // ----- the JS-SDK's agent ticket (获取应用的jsapi_ticket) -----
  router.Add("GET", "/cgi-bin/ticket/get", [this](Request& r) {
    std::string corp;
    Response err;
    if (!api_.Admit(r, "/cgi-bin/ticket/get", corp, err)) return err;
    const std::string type = r.Query("type");
    if (type != "agent_config")
      return WecomError(40058,
                        type.empty() ? "type missing: the agent ticket is type=agent_config"
                                     : "invalid type \"" + type + "\": the sandbox serves type=agent_config only",
                        r);
    if (!ChargeTicketFetch(corp))
      return WecomError(45009, "api freq out of limit: at most 100 agent_config tickets per hour per app", r);
    const int64_t now = clock_.NowSeconds();
    std::string ticket;
    int64_t expires_at = 0;
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      KOI_ASSIGN_OR_RETURN(auto live, tx.Query("SELECT ticket, expires_at FROM jsapi_tickets WHERE corp_id = ? AND "
                                               "kind = 'agent_config' AND expires_at > ?",
                                               {corp, now}));
      // The same ticket until it expires, as WeCom's (a page signed with it stays good meanwhile).
      if (!live.rows.empty()) {
        ticket = live.rows[0].Text(0);
        expires_at = live.rows[0].Int(1);
        return Status::Ok();
      }
      ticket = RandomToken(86);
      expires_at = now + kTicketTtlS;
      return tx.Exec("INSERT INTO jsapi_tickets (corp_id, kind, ticket, expires_at) VALUES (?, 'agent_config', ?, ?) "
                     "ON CONFLICT (corp_id, kind) DO UPDATE SET ticket = excluded.ticket, expires_at = "
                     "excluded.expires_at",
                     {corp, ticket, expires_at});
    });
    if (!s.ok()) return WecomError(-1, "system busy", r);
    return WecomOk({{"ticket", ticket}, {"expires_in", expires_at - now}});
  });

  // ----- web OAuth (网页授权登录): the client's side, then the server's -----
  router.Add("GET", "/connect/oauth2/authorize", [this](Request& r) {
    std::string corp, userid;
    if (!SignedInMember(r, corp, userid))
      return OauthError(0, "请在企业微信客户端打开链接 (open this page from the WeCom client: the sandbox chat page, "
                           "/sandbox/chat)");
    auto member = db_.Query("SELECT status FROM employees WHERE corp_id = ? AND userid = ?", {corp, userid});
    if (!member.ok()) return OauthError(-1, "系统繁忙 (system busy)");
    if (member->rows.empty() || member->rows[0].Int(0) != 1)
      return OauthError(60111, "当前登录的成员 " + userid + " 不是 " + corp +
                                   " 的在职成员 (the signed-in member is not an active member of the corp)");
    if (r.Query("response_type") != "code")
      return OauthError(40058, "response_type 须为 code (response_type must be code)");
    const std::string scope = r.Query("scope");
    if (scope != "snsapi_base" && scope != "snsapi_privateinfo")
      return OauthError(40058, "scope 须为 snsapi_base 或 snsapi_privateinfo (invalid scope \"" + scope + "\")");
    const std::string appid = r.Query("appid");
    if (appid != corp) {
      // A third-party app: appid is its suite id, and the member must be in the install's visible range.
      auto scope_of = SuiteInstallScope(db_, appid, corp);
      if (!scope_of.ok())
        return scope_of.status().reason() == "not_installed"
                   ? OauthError(40013, "appid 无效：既不是企业 " + corp + " 的 corpid，也不是它安装的第三方应用 "
                                       "(invalid appid \"" + appid + "\")")
                   : OauthError(-1, "系统繁忙 (system busy)");
      if (!scope_of->SeesUser(userid))
        return OauthError(50002, "成员 " + userid + " 不在应用的可见范围内 (the member is outside the app's visible "
                                 "range)");
    }
    const std::string redirect = WithoutFragment(r.Query("redirect_uri"));
    WebUrl url;
    if (!ParseWebUrl(redirect, url))
      return OauthError(40058, "redirect_uri 须为 http(s) 地址 (redirect_uri must be an http(s) URL)");
    auto toolbar = LoadToolbar(db_, corp);
    if (!toolbar.ok() && toolbar.status().reason() != "no_toolbar") return OauthError(-1, "系统繁忙 (system busy)");
    if (!toolbar.ok())
      return OauthError(50001, "redirect_uri 需使用应用可信域名，而应用还没有配置可信域名 (the app has no trusted "
                               "domain: configure its chat toolbar)");
    if (!OnDomain(url, toolbar->trusted_domain))
      return OauthError(50001, "redirect_uri 需使用应用可信域名 " + toolbar->trusted_domain +
                                   " (redirect_uri must be on the app's trusted domain)");
    const std::string code = RandomToken(43);
    if (!db_.Exec("INSERT INTO oauth_codes (code, appid, corp_id, userid, scope, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                  {code, appid, corp, userid, scope, clock_.NowSeconds() + kCodeTtlS})
             .ok())
      return OauthError(-1, "系统繁忙 (system busy)");
    Response resp;
    resp.status = 302;
    resp.content_type.clear();
    resp.SetHeader("Location", redirect + (redirect.find('?') == std::string::npos ? "?" : "&") +
                                   "code=" + PercentEncode(code) + "&state=" + PercentEncode(r.Query("state")));
    return resp;
  });

  // 获取访问用户身份, a self-built app: the code must have been issued for the token's corp.
  router.Add("GET", "/cgi-bin/auth/getuserinfo", [this](Request& r) {
    std::string corp;
    Response err;
    if (!api_.Admit(r, "/cgi-bin/auth/getuserinfo", corp, err)) return err;
    const std::string code = r.Query("code");
    if (code.empty()) return WecomError(41008, "missing code", r);
    auto claimed = ClaimCode(db_, clock_.NowSeconds(), code, corp);
    if (!claimed.ok()) return WecomError(-1, "system busy", r);
    if (!*claimed) return WecomError(40029, "invalid code", r);
    json::object answer{{"userid", (*claimed)->userid}};
    AddUserTicket(**claimed, answer);
    return WecomOk(std::move(answer));
  });

  // 获取访问用户身份, a third-party app: the code must have been issued for the suite.
  router.Add("GET", "/cgi-bin/service/auth/getuserinfo3rd", [this](Request& r) {
    std::string suite;
    Response err;
    if (!AdmitSuiteToken(db_, clock_, r, suite, err)) return err;
    api_.CountCall(suite, "/cgi-bin/service/auth/getuserinfo3rd");
    const std::string code = r.Query("code");
    if (code.empty()) return WecomError(41008, "missing code", r);
    auto claimed = ClaimCode(db_, clock_.NowSeconds(), code, suite);
    if (!claimed.ok()) return WecomError(-1, "system busy", r);
    if (!*claimed) return WecomError(40029, "invalid code", r);
    const Claimed& c = **claimed;
    // open_userid: the member's id for this provider, stable across the corps and apps it serves them in.
    json::object answer{{"corpid", c.corp_id},
                        {"userid", c.userid},
                        {"open_userid", "wo" + Sha1Hex(suite + "\n" + c.corp_id + "\n" + c.userid).substr(0, 30)}};
    AddUserTicket(c, answer);
    return WecomOk(std::move(answer));
  });

  // ----- the client's check of agentConfig -----
  router.Add("POST", "/sandbox/jsapi/agent-config", [this](Request& r) {
    auto answer = [](const std::string& outcome) {
      Response resp;
      resp.body = json::serialize(json::object{{"err_msg", "agentConfig:" + outcome}});
      return resp;
    };
    json::object body;
    if (!ParseBody(r, body)) return answer("fail invalid arguments: send a JSON object");
    const std::string corp = Scalar(body, "corpid"), agent = Scalar(body, "agentid"),
                      timestamp = Scalar(body, "timestamp"), nonce = Scalar(body, "nonceStr"),
                      signature = Scalar(body, "signature"), page = WithoutFragment(Scalar(body, "url"));
    auto known = db_.Query("SELECT 1 FROM corps WHERE corp_id = ?", {corp});
    if (!known.ok()) return answer("fail system busy");
    if (known->rows.empty()) return answer("fail invalid corpid");
    auto toolbar = LoadToolbar(db_, corp);
    if (!toolbar.ok())
      return answer(toolbar.status().reason() == "no_toolbar" ? "fail no chat toolbar is configured for the app"
                                                              : "fail system busy");
    if (agent != toolbar->agent_id) return answer("fail invalid agentid: the toolbar's app is " + toolbar->agent_id);
    WebUrl url;
    if (!ParseWebUrl(page, url) || !OnDomain(url, toolbar->trusted_domain))
      return answer("fail url is not on the app's trusted domain " + toolbar->trusted_domain);
    if (timestamp.empty() || nonce.empty() || signature.empty())
      return answer("fail invalid arguments: timestamp, nonceStr and signature are required");
    auto ticket = db_.Query("SELECT ticket FROM jsapi_tickets WHERE corp_id = ? AND kind = 'agent_config' AND "
                            "expires_at > ?",
                            {corp, clock_.NowSeconds()});
    if (!ticket.ok()) return answer("fail system busy");
    if (ticket->rows.empty())
      return answer("fail no agent ticket issued, or it expired: get one from ticket/get?type=agent_config");
    if (signature != JsapiSignature(ticket->rows[0].Text(0), nonce, timestamp, page))
      return answer("fail invalid signature");
    int64_t ts = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
    if (ec != std::errc() || end != timestamp.data() + timestamp.size() ||
        std::abs(clock_.NowSeconds() - ts) > kTimestampSkewS)
      return answer("fail timestamp expired: more than 2 hours from now");
    return answer("ok");
  });

  // ----- the toolbar, as the admin console sets it -----
  auto toolbar_answer = [this](const Request& r, const std::string& corp) {
    auto t = LoadToolbar(db_, corp);
    if (!t.ok() && t.status().reason() != "no_toolbar") return WecomError(-1, "system busy", r);
    return WecomOk({{"toolbar", t.ok() ? json::value(ToolbarJson(*t)) : json::value(nullptr)}});
  };
  auto refusal = [](const Status& s, const Request& r) {
    if (s.reason() == "unknown_corp") return WecomError(40013, "invalid corpid", r);
    if (s.reason() == "bad_toolbar") return WecomError(40058, s.message(), r);
    return WecomError(-1, "system busy", r);
  };
  router.Add("GET", "/sandbox/admin/corps/:corp_id/toolbar", [this, toolbar_answer](Request& r) {
    const std::string corp = r.path_params.at("corp_id");
    auto known = db_.Query("SELECT 1 FROM corps WHERE corp_id = ?", {corp});
    if (!known.ok()) return WecomError(-1, "system busy", r);
    if (known->rows.empty()) return WecomError(40013, "invalid corpid", r);
    return toolbar_answer(r, corp);
  });
  router.Add("PUT", "/sandbox/admin/corps/:corp_id/toolbar", [this, toolbar_answer, refusal](Request& r) {
    json::object body;
    if (!ParseBody(r, body)) return WecomError(47001, "data format error", r);
    const std::string corp = r.path_params.at("corp_id");
    if (Status s = ConfigureToolbar(db_, clock_, corp, ToolbarFromJson(body)); !s.ok()) return refusal(s, r);
    return toolbar_answer(r, corp);
  });
  router.Add("POST", "/sandbox/admin/toolbar", [this](Request& r) {
    auto form = ParseForm(r.body);
    const std::string corp = FormValue(form, "corp"), userid = FormValue(form, "userid"),
                      external = FormValue(form, "external_userid"), chat_id = FormValue(form, "chat_id");
    const std::string back = ChatLink(corp, userid, external, chat_id);
    Toolbar t{.agent_id = FormValue(form, "agent_id"), .trusted_domain = FormValue(form, "trusted_domain"),
              .entries = {}};
    const std::string lines = FormValue(form, "entries");
    for (size_t at = 0; at < lines.size();) {
      size_t end = lines.find('\n', at);
      if (end == std::string::npos) end = lines.size();
      const std::string line = TrimSpace(std::string_view(lines).substr(at, end - at));
      at = end + 1;
      if (line.empty()) continue;
      const size_t bar = line.find('|');
      if (bar == std::string::npos)
        return ClientError(400, "每行一个「名称|URL」：\"" + line + "\" 没有 | (each line is name|url)", back);
      t.entries.push_back({line.substr(0, bar), line.substr(bar + 1)});
    }
    if (Status s = ConfigureToolbar(db_, clock_, corp, std::move(t)); !s.ok()) {
      return ClientError(s.code() == StatusCode::kNotFound ? 404 : 400, "没有保存 (not saved): " + s.message(), back);
    }
    Response resp;
    resp.status = 303;
    resp.content_type.clear();
    resp.SetHeader("Location", back);
    return resp;
  });

  // ----- the client -----
  router.Add("GET", "/sandbox/chat.js", [](Request&) {
    Response resp;
    resp.content_type = "text/javascript; charset=utf-8";
    resp.body = kChatScript;
    return resp;
  });
  router.Add("GET", "/sandbox/chat", [this](Request& r) {
    const std::string corp = r.Query("corp"), userid = r.Query("userid"), external = r.Query("external_userid"),
                      chat_id = r.Query("chat_id");
    if (corp.empty()) {
      auto corps = db_.Query("SELECT corp_id, corp_name FROM corps ORDER BY created_at, corp_id");
      if (!corps.ok()) return ClientError(503, "系统繁忙 (system busy)", "");
      std::string items;
      for (const auto& row : corps->rows)
        items += "<li><a data-test=\"chat-corp\" href=\"" + Html(ChatLink(row.Text(0))) + "\">" + Html(row.Text(1)) +
                 "（" + Html(row.Text(0)) + "）</a></li>";
      return ClientPage(200, "企业微信（沙箱）",
                        "<header><h1>企业微信（沙箱） (the simulated WeCom client)</h1></header><main class=\"admin\">"
                        "<p>选择企业 (pick a corp)</p><ul>" + items + "</ul></main>");
    }
    auto corp_row = db_.Query("SELECT corp_name FROM corps WHERE corp_id = ?", {corp});
    if (!corp_row.ok()) return ClientError(503, "系统繁忙 (system busy)", "");
    if (corp_row->rows.empty()) return ClientError(404, "沙箱里没有企业 " + corp + " (no such corp)", "/sandbox/chat");
    const std::string corp_name = corp_row->rows[0].Text(0);
    auto loaded = LoadToolbar(db_, corp);
    if (!loaded.ok() && loaded.status().reason() != "no_toolbar") return ClientError(503, "系统繁忙 (system busy)", "");
    const std::optional<Toolbar> toolbar = loaded.ok() ? std::optional<Toolbar>(*loaded) : std::nullopt;
    const std::string header = "<header><h1>企业微信（沙箱）· " + Html(corp_name) + "</h1><span class=\"muted\" "
                               "style=\"color:#dbe8ff\">koi-wecom-sandbox 模拟的客户端 (the simulated WeCom client)"
                               "</span><a href=\"" + Html(ChatLink(corp)) + "\">会话列表 (chats)</a></header>";

    if (userid.empty() || (external.empty() && chat_id.empty())) {
      // The picker: chats of active members with customers they follow, newest first.
      auto pairs = db_.Query("SELECT f.userid, e.name, f.external_userid, c.name, f.remark FROM follows f JOIN "
                             "employees e ON e.corp_id = f.corp_id AND e.userid = f.userid JOIN customers c ON "
                             "c.corp_id = f.corp_id AND c.external_userid = f.external_userid WHERE f.corp_id = ? AND "
                             "e.status = 1 ORDER BY f.createtime DESC, f.userid, f.external_userid LIMIT 50",
                             {corp});
      if (!pairs.ok()) return ClientError(503, "系统繁忙 (system busy)", "");
      std::string items;
      for (const auto& row : pairs->rows)
        items += "<li><a data-test=\"chat-pair\" href=\"" + Html(ChatLink(corp, row.Text(0), row.Text(2))) + "\">" +
                 Html(row.Text(1)) + " → " + Html(row.Text(3)) +
                 (row.Text(4).empty() ? "" : "（" + Html(row.Text(4)) + "）") + "</a></li>";
      if (items.empty()) items = "<li class=\"muted\">没有在职成员的客户 (no member follows a customer)</li>";
      // Customer groups as an active member in them (the owner, or a member of the corp who joined) sees them.
      auto groups = db_.Query("SELECT m.member_id, e.name, g.chat_id, g.name FROM group_members m JOIN group_chats g ON "
                              "g.corp_id = m.corp_id AND g.chat_id = m.chat_id JOIN employees e ON e.corp_id = "
                              "m.corp_id AND e.userid = m.member_id WHERE m.corp_id = ? AND m.type = 1 AND e.status = "
                              "1 UNION SELECT g.owner, e.name, g.chat_id, g.name FROM group_chats g JOIN employees e ON "
                              "e.corp_id = g.corp_id AND e.userid = g.owner WHERE g.corp_id = ? AND e.status = 1 "
                              "ORDER BY 4, 3, 1 LIMIT 50",
                              {corp, corp});
      if (!groups.ok()) return ClientError(503, "系统繁忙 (system busy)", "");
      std::string group_items;
      for (const auto& row : groups->rows)
        group_items += "<li><a data-test=\"chat-group\" href=\"" + Html(ChatLink(corp, row.Text(0), "", row.Text(2))) +
                       "\">" + Html(row.Text(1)) + " → " + Html(row.Text(3)) + "</a></li>";
      if (group_items.empty()) group_items = "<li class=\"muted\">没有客户群 (no customer groups)</li>";
      return ClientPage(200, "会话列表 · " + corp_name,
                        header + "<main class=\"admin\"><p>以成员身份打开与客户的会话 (open a chat as the member): "
                                 "</p><ul class=\"pairs\" data-test=\"chat-pairs\">" + items + "</ul>"
                                 "<p>以成员身份打开客户群 (open a customer group as a member in it): </p>"
                                 "<ul class=\"pairs\" data-test=\"chat-groups\">" + group_items + "</ul></main>" +
                            ToolbarAdmin(corp, toolbar, "", "", ""));
    }

    // A single chat: the member follows the customer. A group chat: the member owns the group or is in it.
    auto chat = chat_id.empty()
                    ? db_.Query("SELECT e.name, c.name, f.remark FROM follows f JOIN employees e ON e.corp_id = "
                                "f.corp_id AND e.userid = f.userid JOIN customers c ON c.corp_id = f.corp_id AND "
                                "c.external_userid = f.external_userid WHERE f.corp_id = ? AND f.userid = ? AND "
                                "f.external_userid = ? AND e.status = 1",
                                {corp, userid, external})
                    : db_.Query("SELECT e.name, g.name, '' FROM group_chats g JOIN employees e ON e.corp_id = "
                                "g.corp_id AND e.userid = ? WHERE g.corp_id = ? AND g.chat_id = ? AND e.status = 1 AND "
                                "(g.owner = e.userid OR EXISTS (SELECT 1 FROM group_members m WHERE m.corp_id = "
                                "g.corp_id AND m.chat_id = g.chat_id AND m.member_id = e.userid AND m.type = 1))",
                                {userid, corp, chat_id});
    if (!chat.ok()) return ClientError(503, "系统繁忙 (system busy)", "");
    if (chat->rows.empty())
      return ClientError(404, chat_id.empty() ? "没有这个会话：" + userid + " 不是在职成员，或没有添加客户 " + external +
                                                    " (the member is not active or does not follow the customer)"
                                              : "没有这个群聊：" + userid + " 不是在职成员，或不在客户群 " + chat_id +
                                                    " 里 (the member is not active or not in the group)",
                          ChatLink(corp));
    const std::string member = chat->rows[0].Text(0), customer = chat->rows[0].Text(1), remark = chat->rows[0].Text(2);
    std::string sidebar;
    if (!toolbar) {
      sidebar = "<p class=\"notice\" data-test=\"no-toolbar\">管理员还没有为应用配置聊天工具栏 (no chat toolbar is "
                "configured: set one below)</p>";
    } else {
      sidebar = "<nav class=\"tabs\" role=\"tablist\">";
      for (size_t i = 0; i < toolbar->entries.size(); ++i)
        sidebar += "<button type=\"button\" role=\"tab\" data-test=\"toolbar-tab\" data-url=\"" +
                   Html(toolbar->entries[i].url) + "\" aria-selected=\"" + (i == 0 ? "true" : "false") + "\">" +
                   Html(toolbar->entries[i].name) + "</button>";
      sidebar += "</nav><iframe data-test=\"sidebar-frame\" title=\"聊天工具栏\"></iframe>"
                 "<ol class=\"log\" data-test=\"bridge-log\"></ol>";
    }
    Response page = ClientPage(
        200, customer + " · 企业微信（沙箱）",
        header + "<div class=\"client\" id=\"chat\" data-corp=\"" + Html(corp) + "\" data-userid=\"" + Html(userid) +
            "\" data-external-userid=\"" + Html(external) + "\" data-chat-id=\"" + Html(chat_id) +
            "\"><aside class=\"sessions\"><div class=\"muted\">"
            "当前成员 (signed in as)</div><div class=\"who\" data-test=\"chat-member\">" + Html(member) +
            "</div><div class=\"muted\">" + Html(userid) + "</div></aside><section class=\"conversation\"><h2 "
            "data-test=\"chat-customer\">" + Html(customer) + (remark.empty() ? "" : "（" + Html(remark) + "）") +
            " <span class=\"muted\">" + (chat_id.empty() ? "@微信" : "客户群 (customer group)") + "</span></h2><div class=\"messages\" data-test=\"chat-messages\">" +
            FakeMessages(chat_id.empty() ? customer : "群成员 (a member)", member) + "</div><form class=\"compose\" data-test=\"chat-compose\"><input "
            "placeholder=\"输入消息 (type a message)\"><button type=\"submit\" class=\"primary\">发送</button></form>"
            "</section><section class=\"sidebar\" data-test=\"sidebar\">" + sidebar + "</section></div>" +
            ToolbarAdmin(corp, toolbar, userid, external, chat_id) + "<script src=\"/sandbox/chat.js\"></script>");
    // The toolbar's pages come from Koi's origin, not the sandbox's (the dispatcher's frame-src allows 'self' only).
    if (toolbar) page.frame_src = EntryOrigins(*toolbar);
    // The member is now signed in to the client: the OAuth page knows them by this cookie.
    page.SetHeader("Set-Cookie", std::string(kMemberCookie) + "=" + corp + ":" + userid + "; Path=/; SameSite=Lax");
    return page;
  });
}

}  // namespace koi::sandbox
