#include "api.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <thread>
#include <random>

#include "core/utf8.h"
#include "rules/rule_pack.h"
#include "suite.h"
#include "wecom/protocol/errcode.h"
#include "wecom/protocol/media.h"

namespace koi::sandbox {
namespace {

namespace json = boost::json;
using http::Request;
using http::Response;
using storage::Row;
using storage::Value;

}  // namespace

bool ParseBody(const http::Request& r, boost::json::object& out) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body.empty() ? std::string_view("{}") : std::string_view(r.body), ec);
  if (ec || !v.is_object()) return false;
  out = std::move(v.as_object());
  return true;
}

// WeCom's errmsg shape: "<text>, hint: [<id>], from ip: <ip>, more info at …?e=<code>".
Response WecomError(int code, const std::string& text, const Request& r) {
  Response resp;
  json::object body{{"errcode", code},
                    {"errmsg", text + ", hint: [" + r.request_id + "], from ip: " + r.remote_addr +
                                   ", more info at https://open.work.weixin.qq.com/devtool/query?e=" +
                                   std::to_string(code)}};
  resp.body = json::serialize(body);
  return resp;
}

Response WecomOk(json::object body) {
  body["errcode"] = 0;
  body["errmsg"] = "ok";
  Response resp;
  resp.body = json::serialize(body);
  return resp;
}

namespace {

Response Error(int code, const std::string& text, const Request& r) { return WecomError(code, text, r); }
// A member outside the calling app's visible range (a third-party install's).
Response NoPrivilege(const Request& r) { return Error(60011, "no privilege to access/modify contact/party/agent", r); }
Response Ok(json::object body = {}) { return WecomOk(std::move(body)); }

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

// An integer field: `fallback` when absent, false when present but not an integer.
bool Int(const json::object& o, std::string_view key, int64_t fallback, int64_t& out) {
  auto it = o.find(key);
  if (it == o.end()) {
    out = fallback;
    return true;
  }
  if (!it->value().is_int64() && !it->value().is_uint64()) return false;
  out = it->value().to_number<int64_t>();
  return true;
}

std::vector<std::string> Strings(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().as_array())
    if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

// A fresh WeCom-looking id for objects created through the API ("et" + 20 random characters).
std::string NewId(std::string_view prefix) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out(prefix);
  for (int i = 0; i < 20; ++i) out += kChars[rng() % (sizeof(kChars) - 1)];
  return out;
}

// Opaque keyset cursors: hex of the last key returned.
std::string EncodeCursor(const std::string& key) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) (out += kHex[c >> 4]) += kHex[c & 15];
  return out;
}

bool DecodeCursor(const std::string& cursor, std::string& key) {
  if (cursor.size() % 2) return false;
  key.clear();
  for (size_t i = 0; i < cursor.size(); i += 2) {
    int v = 0;
    auto [p, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, v, 16);
    if (ec != std::errc() || p != cursor.data() + i + 2) return false;
    key += static_cast<char>(v);
  }
  return true;
}

json::array JsonStrings(const std::string& json_array_text) {
  boost::system::error_code ec;
  auto v = json::parse(json_array_text, ec);
  return !ec && v.is_array() ? v.as_array() : json::array{};
}

json::object ExternalContact(const Row& c) {
  // c: external_userid, name, type, gender, unionid, corp_name, position
  json::object o{{"external_userid", c.Text(0)},
                 {"name", c.Text(1)},
                 {"type", c.Int(2)},
                 {"gender", c.Int(3)},
                 {"avatar", ""},
                 {"corp_name", c.Text(5)},
                 {"position", c.Text(6)}};
  if (c.Int(2) == 1 && !c.Text(4).empty()) o["unionid"] = c.Text(4);
  if (c.Int(2) == 2) o["corp_full_name"] = c.Text(5);
  return o;
}

constexpr const char* kCustomerColumns = "c.external_userid, c.name, c.type, c.gender, c.unionid, c.corp_name, c.position";
constexpr const char* kFollowColumns =
    "f.userid, f.remark, f.description, f.createtime, f.add_way, f.state, f.oper_userid, f.remark_mobiles, "
    "f.remark_corp_name";

json::object FollowFields(const Row& f, size_t at) {
  json::object o{{"userid", f.Text(at)},
                 {"remark", f.Text(at + 1)},
                 {"description", f.Text(at + 2)},
                 {"createtime", f.Int(at + 3)},
                 {"remark_corp_name", f.Text(at + 8)},
                 {"remark_mobiles", JsonStrings(f.Text(at + 7))},
                 {"oper_userid", f.Text(at + 6)},
                 {"add_way", f.Int(at + 4)}};
  if (!f.Text(at + 5).empty()) o["state"] = f.Text(at + 5);
  return o;
}

// Refusals decided inside a transaction travel as a Status whose reason is the errcode ("40058") and whose message
// is the errmsg text; anything else is a storage failure.
Response FromStatus(const Status& s, const Request& r) {
  int code = 0;
  const std::string& reason = s.reason();
  auto [p, ec] = std::from_chars(reason.data(), reason.data() + reason.size(), code);
  if (ec == std::errc() && p == reason.data() + reason.size() && code > 0) return Error(code, s.message(), r);
  return Error(-1, "system busy", r);
}

Status Refuse(int code, std::string text) { return Status::FailedPrecondition(std::to_string(code), std::move(text)); }

// WeCom's attachment msgtypes and the rule pack's kinds.
bool AttachmentKindOf(std::string_view msgtype, rules::AttachmentKind& kind) {
  static const std::pair<std::string_view, rules::AttachmentKind> kKinds[] = {
      {"image", rules::AttachmentKind::kImage}, {"link", rules::AttachmentKind::kLink},
      {"miniprogram", rules::AttachmentKind::kMiniProgram}, {"video", rules::AttachmentKind::kVideo},
      {"file", rules::AttachmentKind::kFile}};
  for (const auto& [name, k] : kKinds)
    if (name == msgtype) {
      kind = k;
      return true;
    }
  return false;
}

bool IsWebUrl(const std::string& url) {
  for (std::string_view scheme : {"http://", "https://"})
    if (url.size() > scheme.size() && url.compare(0, scheme.size(), scheme) == 0) return true;
  return false;
}

// Why attachment `at` of a mass message is refused ("" when it is fine): a msgtype the pack does not allow, or a
// sub-object without the fields WeCom requires for it (the welcome message's rules, §7.1).
std::string AttachmentProblem(const json::value& v, size_t at, const rules::MassMessageRules& rules) {
  const std::string where = "attachments[" + std::to_string(at) + "]";
  if (!v.is_object()) return "invalid attachments: " + where + " is not an object";
  const std::string type = Str(v.as_object(), "msgtype");
  rules::AttachmentKind kind;
  if (!AttachmentKindOf(type, kind)) return "invalid attachments msgtype: " + where + " has msgtype \"" + type + "\"";
  if (std::find(rules.attachment_kinds.begin(), rules.attachment_kinds.end(), kind) == rules.attachment_kinds.end())
    return "invalid attachments msgtype: " + type + " is not allowed by the rule pack";
  const json::value* sub = v.as_object().if_contains(type);
  if (sub == nullptr || !sub->is_object()) return "invalid attachments: " + where + " has no " + type + " object";
  const json::object& o = sub->as_object();
  auto has = [&](std::string_view key) { return !Str(o, key).empty(); };
  switch (kind) {
    case rules::AttachmentKind::kImage:
      if (!has("media_id") && !has("pic_url"))
        return "invalid attachments: " + where + " image needs media_id or pic_url";
      break;
    case rules::AttachmentKind::kLink:
      if (!has("title") || !has("url")) return "invalid attachments: " + where + " link needs title and url";
      if (!IsWebUrl(Str(o, "url"))) return "invalid attachments: " + where + " link url must be http or https";
      break;
    case rules::AttachmentKind::kMiniProgram:
      if (!has("title") || !has("pic_media_id") || !has("appid") || !has("page"))
        return "invalid attachments: " + where + " miniprogram needs title, pic_media_id, appid and page";
      break;
    case rules::AttachmentKind::kVideo:
    case rules::AttachmentKind::kFile:
      if (!has("media_id")) return "invalid attachments: " + where + " " + type + " needs media_id";
      break;
  }
  return "";
}

// chat_id_list per add_msg_template call (§7.1): a fixed API limit, the same in every era, so not in the rule pack.
constexpr int64_t kMaxChatIdsPerCall = 2000;

// A list of ids spliced into SQL as "(?,?,…)" with their values appended to `params`.
std::string InList(const std::vector<std::string>& ids, size_t from, size_t to, std::vector<Value>& params) {
  std::string out = "(";
  for (size_t i = from; i < to; ++i) {
    out += i > from ? ",?" : "?";
    params.emplace_back(Value(ids[i]));
  }
  return out + ")";
}

// Paging arguments shared by the mass-message queries: limit within 1..max (default `fallback`) and the cursor's key.
bool PageArgs(const json::object& body, int64_t fallback, int64_t max, int64_t& limit, std::string& after,
              std::string& problem) {
  if (!Int(body, "limit", fallback, limit) || limit < 1 || limit > max) {
    problem = "invalid limit: must be 1-" + std::to_string(max);
    return false;
  }
  if (!DecodeCursor(Str(body, "cursor"), after)) {
    problem = "invalid cursor";
    return false;
  }
  return true;
}

// ----- temporary media (上传临时素材): the multipart body; WeCom's limits are in wecom/protocol/media.h -----

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The parameters of a header value such as `form-data; name="media"; filename="a.png"` (names lowercased, quotes
// removed), after its first item.
std::map<std::string, std::string> HeaderParams(std::string_view value) {
  std::map<std::string, std::string> out;
  size_t i = value.find(';');
  while (i != std::string_view::npos && i < value.size()) {
    ++i;  // past ';'
    while (i < value.size() && value[i] == ' ') ++i;
    const size_t eq = value.find_first_of("=;", i);
    if (eq == std::string_view::npos || value[eq] == ';') {
      i = eq;
      continue;
    }
    std::string key = Lower(value.substr(i, eq - i));
    while (!key.empty() && key.back() == ' ') key.pop_back();
    size_t end;
    if (eq + 1 < value.size() && value[eq + 1] == '"') {
      end = value.find('"', eq + 2);
      if (end == std::string_view::npos) break;
      out[key] = std::string(value.substr(eq + 2, end - eq - 2));
      end = value.find(';', end);
    } else {
      end = value.find(';', eq + 1);
      out[key] = std::string(value.substr(eq + 1, end == std::string_view::npos ? end : end - eq - 1));
    }
    i = end;
  }
  return out;
}

struct FormPart {
  std::map<std::string, std::string> disposition;  // Content-Disposition parameters: name, filename, filelength
  std::string_view data;
};

// The parts of a multipart/form-data body (RFC 7578) with `boundary`; false when the body is not one.
bool ParseMultipart(std::string_view body, const std::string& boundary, std::vector<FormPart>& parts) {
  if (boundary.empty()) return false;
  const std::string delimiter = "--" + boundary;
  if (body.substr(0, delimiter.size()) != delimiter) return false;
  size_t at = delimiter.size();
  for (;;) {
    if (body.substr(at, 2) == "--") return true;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return false;
    const size_t head_end = body.find("\r\n\r\n", at);
    if (head_end == std::string_view::npos) return false;
    FormPart part;
    for (size_t line = at + 2; line < head_end + 2;) {
      const size_t eol = body.find("\r\n", line);
      std::string_view header = body.substr(line, eol - line);
      const size_t colon = header.find(':');
      if (colon != std::string_view::npos && Lower(header.substr(0, colon)) == "content-disposition")
        part.disposition = HeaderParams(header.substr(colon + 1));
      line = eol + 2;
    }
    const size_t data = head_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data);
    if (next == std::string_view::npos) return false;
    part.data = body.substr(data, next - data);
    parts.push_back(std::move(part));
    at = next + 2 + delimiter.size();
  }
}

// The media ids attachment `v` refers to (validated by AttachmentProblem): an image's media_id (it may use pic_url
// instead), a mini program's pic_media_id, a video's or file's media_id.
std::vector<std::string> MediaIdsOf(const json::value& v) {
  const std::string type = Str(v.as_object(), "msgtype");
  const json::object& o = v.as_object().at(type).as_object();
  const std::string id = Str(o, type == "miniprogram" ? "pic_media_id" : "media_id");  // a link has neither
  if (id.empty()) return {};
  return {id};
}

}  // namespace

std::map<std::pair<std::string, std::string>, int64_t> SandboxApi::CallCounts() const {
  std::lock_guard lock(mu_);
  return total_calls_;
}

void SandboxApi::CountCall(const std::string& caller, const std::string& api) {
  std::lock_guard lock(mu_);
  ++total_calls_[{caller, api}];
}

bool SandboxApi::Admit(const Request& r, const std::string& api, std::string& corp_id, Response& error) {
  if (options_.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.latency_ms));
  std::string token = r.Query("access_token");
  if (token.empty()) {
    error = Error(41001, "access_token missing", r);
    return false;
  }
  auto q = db_.Query("SELECT corp_id, expires_at FROM access_tokens WHERE token = ?", {token});
  if (!q.ok()) {
    error = Error(-1, "system busy", r);
    return false;
  }
  if (q->rows.empty()) {
    error = Error(40014, "invalid access_token", r);
    return false;
  }
  corp_id = q->rows[0].Text(0);
  std::lock_guard lock(mu_);
  ++total_calls_[{corp_id, api}];
  if (q->rows[0].Int(1) <= clock_.NowSeconds()) {
    error = Error(42001, "access_token expired", r);
    return false;
  }
  int64_t minute = clock_.NowSeconds() / 60;
  int64_t& n = minute_calls_[{corp_id, api, minute}];
  if (++n > options_.calls_per_minute) {
    error = Error(45009, "api freq out of limit", r);
    return false;
  }
  if (minute_calls_.size() > 100000) minute_calls_.clear();  // bounded; old minutes only matter for a minute
  return true;
}

void SandboxApi::AddRoutes(http::Router& router) {
  // ----- access token -----
  router.Add("GET", "/cgi-bin/gettoken", [this](Request& r) {
    std::string corp = r.Query("corpid"), secret = r.Query("corpsecret");
    auto q = db_.Query("SELECT secret FROM corps WHERE corp_id = ?", {corp});
    if (!q.ok()) return Error(-1, "system busy", r);
    {
      std::lock_guard lock(mu_);
      ++total_calls_[{corp, "/cgi-bin/gettoken"}];
    }
    if (q->rows.empty()) return Error(40013, "invalid corpid", r);
    if (q->rows[0].Text(0) != secret) return Error(40001, "invalid credential", r);
    int64_t now = clock_.NowSeconds();
    // The same token until it expires (compatible with both readings of the docs).
    // (Not a token issued to a third-party install: those carry its visible range.)
    auto live = db_.Query("SELECT token, expires_at FROM access_tokens WHERE corp_id = ? AND expires_at > ? AND "
                          "token NOT IN (SELECT token FROM token_scopes) ORDER BY expires_at DESC LIMIT 1",
                          {corp, now});
    if (live.ok() && !live->rows.empty())
      return Ok({{"access_token", live->rows[0].Text(0)}, {"expires_in", live->rows[0].Int(1) - now}});
    static thread_local std::mt19937_64 rng(std::random_device{}());
    static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string token;
    for (int i = 0; i < 128; ++i) token += kChars[rng() % 64];
    if (!db_.Exec("INSERT INTO access_tokens (token, corp_id, expires_at) VALUES (?, ?, ?)",
                  {token, corp, now + options_.token_ttl_s})
             .ok())
      return Error(-1, "system busy", r);
    return Ok({{"access_token", token}, {"expires_in", options_.token_ttl_s}});
  });

  // ----- contacts -----
  router.Add("GET", "/cgi-bin/department/list", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/department/list", corp, err)) return err;
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    auto q = db_.Query("SELECT id, name, parent_id, sort FROM departments WHERE corp_id = ? ORDER BY id", {corp});
    if (!q.ok()) return Error(-1, "system busy", r);
    int64_t root = 0;
    if (std::string id = r.Query("id"); !id.empty()) {
      auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), root);
      if (ec != std::errc() || p != id.data() + id.size()) return Error(60003, "department not found", r);
    }
    // With an id: that department and its subtree.
    std::set<int64_t> wanted;
    if (root != 0) {
      wanted.insert(root);
      for (bool grew = true; grew;) {
        grew = false;
        for (const auto& row : q->rows)
          if (wanted.count(row.Int(2)) && wanted.insert(row.Int(0)).second) grew = true;
      }
      bool found = false;
      for (const auto& row : q->rows) found = found || row.Int(0) == root;
      if (!found) return Error(60003, "department not found", r);
    }
    json::array out;
    for (const auto& row : q->rows) {
      if ((root != 0 && !wanted.count(row.Int(0))) || !scope->SeesDepartment(row.Int(0))) continue;
      out.push_back(json::object{{"id", row.Int(0)},
                                 {"name", row.Text(1)},
                                 {"name_en", ""},
                                 {"department_leader", json::array{}},
                                 {"parentid", row.Int(2)},
                                 {"order", row.Int(3)}});
    }
    return Ok({{"department", std::move(out)}});
  });

  router.Add("POST", "/cgi-bin/user/list_id", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/user/list_id", corp, err)) return err;
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    int64_t limit = 0;
    if (!Int(body, "limit", 10000, limit) || limit < 1 || limit > 10000) return Error(40058, "invalid limit", r);
    std::string after;
    if (!DecodeCursor(Str(body, "cursor"), after)) return Error(40058, "invalid cursor", r);
    auto q = db_.Query("SELECT userid, departments FROM employees WHERE corp_id = ? AND userid > ? AND status <> 5 "
                       "ORDER BY userid LIMIT ?",
                       {corp, after, limit + 1});
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array rows;
    std::string next;
    for (size_t i = 0; i < q->rows.size() && i < static_cast<size_t>(limit); ++i) {
      for (const auto& d : JsonStrings(q->rows[i].Text(1)))
        if (scope->SeesUser(q->rows[i].Text(0)))
          rows.push_back(json::object{{"userid", q->rows[i].Text(0)}, {"department", d}});
      if (q->rows.size() > static_cast<size_t>(limit) && i + 1 == static_cast<size_t>(limit))
        next = EncodeCursor(q->rows[i].Text(0));
    }
    return Ok({{"next_cursor", next}, {"dept_user", std::move(rows)}});
  });

  router.Add("GET", "/cgi-bin/user/get", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/user/get", corp, err)) return err;
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!scope->SeesUser(r.Query("userid"))) return NoPrivilege(r);
    auto q = db_.Query("SELECT userid, name, departments, main_department, position, gender, mobile, status FROM "
                       "employees WHERE corp_id = ? AND userid = ?",
                       {corp, r.Query("userid")});
    if (!q.ok()) return Error(-1, "system busy", r);
    // A resigned member is deleted from the contacts: WeCom no longer knows the userid.
    if (q->rows.empty() || q->rows[0].Int(7) == 5) return Error(60111, "userid not found", r);
    const Row& u = q->rows[0];
    json::array depts = JsonStrings(u.Text(2)), order, leader;
    for (size_t i = 0; i < depts.size(); ++i) {
      order.push_back(0);
      leader.push_back(0);
    }
    return Ok({{"userid", u.Text(0)},
               {"name", u.Text(1)},
               {"department", depts},
               {"order", order},
               {"is_leader_in_dept", leader},
               {"main_department", u.Int(3)},
               {"position", u.Text(4)},
               {"gender", std::to_string(u.Int(5))},
               {"mobile", u.Text(6)},
               {"email", ""},
               {"avatar", ""},
               {"alias", ""},
               {"status", u.Int(7)}});
  });

  // ----- external contacts -----
  router.Add("GET", "/cgi-bin/externalcontact/get_follow_user_list", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get_follow_user_list", corp, err)) return err;
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    auto q = db_.Query("SELECT userid FROM employees WHERE corp_id = ? AND customer_contact = 1 AND status = 1 "
                       "ORDER BY userid",
                       {corp});
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array ids;
    for (const auto& row : q->rows)
      if (scope->SeesUser(row.Text(0))) ids.push_back(json::string(row.Text(0)));
    return Ok({{"follow_user", std::move(ids)}});
  });

  router.Add("GET", "/cgi-bin/externalcontact/list", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/list", corp, err)) return err;
    std::string userid = r.Query("userid");
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!scope->SeesUser(userid)) return NoPrivilege(r);
    auto u = db_.Query("SELECT 1 FROM employees WHERE corp_id = ? AND userid = ?", {corp, userid});
    if (!u.ok()) return Error(-1, "system busy", r);
    if (u->rows.empty()) return Error(60111, "userid not found", r);
    auto q = db_.Query("SELECT external_userid FROM follows WHERE corp_id = ? AND userid = ? ORDER BY external_userid",
                       {corp, userid});
    if (!q.ok()) return Error(-1, "system busy", r);
    if (q->rows.empty()) return Error(84061, "not external contact", r);
    json::array ids;
    for (const auto& row : q->rows) ids.push_back(json::string(row.Text(0)));
    return Ok({{"external_userid", std::move(ids)}});
  });

  router.Add("GET", "/cgi-bin/externalcontact/get", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get", corp, err)) return err;
    std::string ext = r.Query("external_userid");
    // An app sees the follow users within its visible range only, and no customer that none of them follows.
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    auto c = db_.Query(std::string("SELECT ") + kCustomerColumns +
                           " FROM customers c WHERE c.corp_id = ? AND c.external_userid = ?",
                       {corp, ext});
    if (!c.ok()) return Error(-1, "system busy", r);
    if (c->rows.empty()) return Error(40096, "invalid external userid", r);
    std::string after;
    if (!DecodeCursor(r.Query("cursor"), after)) return Error(40058, "invalid cursor", r);
    auto f = db_.Query(std::string("SELECT ") + kFollowColumns +
                           " FROM follows f WHERE f.corp_id = ? AND f.external_userid = ? AND f.userid > ? "
                           "ORDER BY f.userid LIMIT 501",
                       {corp, ext, after});
    auto t = db_.Query("SELECT ft.userid, g.name, t.name, t.tag_id FROM follow_tags ft JOIN tags t ON t.corp_id = "
                       "ft.corp_id AND t.tag_id = ft.tag_id JOIN tag_groups g ON g.corp_id = t.corp_id AND "
                       "g.group_id = t.group_id WHERE ft.corp_id = ? AND ft.external_userid = ?",
                       {corp, ext});
    if (!f.ok() || !t.ok()) return Error(-1, "system busy", r);
    json::array follow_users;
    // Pages of 500 follow users as stored; outside the range they are left out (the cursor still moves past them).
    std::string next;
    if (f->rows.size() > 500) next = EncodeCursor(f->rows[499].Text(0));
    if (f->rows.size() > 500) f->rows.erase(f->rows.begin() + 500, f->rows.end());
    if (!scope->all) {
      std::erase_if(f->rows, [&](const storage::Row& row) { return !scope->SeesUser(row.Text(0)); });
      if (f->rows.empty() && next.empty() && r.Query("cursor").empty())
        return Error(84061, "not external contact", r);
    }
    for (size_t i = 0; i < f->rows.size(); ++i) {
      json::object o = FollowFields(f->rows[i], 0);
      json::array tags;
      for (const auto& tag : t->rows)
        if (tag.Text(0) == f->rows[i].Text(0))
          tags.push_back(json::object{{"group_name", tag.Text(1)}, {"tag_name", tag.Text(2)}, {"tag_id", tag.Text(3)},
                                      {"type", 1}});
      o["tags"] = std::move(tags);
      follow_users.push_back(std::move(o));
    }
    return Ok({{"external_contact", ExternalContact(c->rows[0])},
               {"follow_user", std::move(follow_users)},
               {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/batch/get_by_user", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/batch/get_by_user", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    std::vector<std::string> users = Strings(body, "userid_list");
    int64_t limit = 0;
    if (users.empty() || users.size() > 100) return Error(40058, "userid_list must hold 1-100 userids", r);
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    for (const auto& u : users)
      if (!scope->SeesUser(u)) return NoPrivilege(r);
    if (!Int(body, "limit", 50, limit) || limit < 1 || limit > 100) return Error(40058, "invalid limit", r);
    std::string after_key;
    if (!DecodeCursor(Str(body, "cursor"), after_key)) return Error(40058, "invalid cursor", r);
    auto sep = after_key.find('\x1f');
    std::string after_user = after_key.substr(0, sep);
    std::string after_ext = sep == std::string::npos ? std::string() : after_key.substr(sep + 1);
    // Keyset over (userid, external_userid) within the requested users, one user at a time in userid order, so
    // every read is a range of the primary key (a 100-user IN list made SQLite sort each page).
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    Result<storage::QueryResult> q = storage::QueryResult{};
    for (const auto& user : users) {
      if (user < after_user) continue;
      int64_t want = limit + 1 - static_cast<int64_t>(q->rows.size());
      if (want <= 0) break;
      auto part = db_.Query(std::string("SELECT ") + kFollowColumns + ", f.external_userid, " + kCustomerColumns +
                                " FROM follows f JOIN customers c ON c.corp_id = f.corp_id AND c.external_userid = "
                                "f.external_userid WHERE f.corp_id = ? AND f.userid = ? AND f.external_userid > ? "
                                "ORDER BY f.external_userid LIMIT ?",
                            {corp, user, user == after_user ? after_ext : std::string(), want});
      if (!part.ok()) return Error(-1, "system busy", r);
      for (auto& row : part->rows) q->rows.push_back(std::move(row));
    }
    if (!q.ok()) return Error(-1, "system busy", r);
    size_t n = std::min(q->rows.size(), static_cast<size_t>(limit));
    // Tag ids of the page's relationships, one query per employee on the page (the rows come in userid order).
    // Naming the employee keeps each read a range of the primary key: with the external ids alone SQLite chose
    // the covering primary key by corp_id and walked every tag of the corp per page (a million-customer sync
    // crawled at 200 relationships a second).
    std::map<std::pair<std::string, std::string>, json::array> tag_ids;
    for (size_t i = 0; i < n;) {
      const std::string user = q->rows[i].Text(0);
      std::vector<Value> tp{corp, user};
      std::string exts = "(";
      for (; i < n && q->rows[i].Text(0) == user; ++i) {
        exts += tp.size() > 2 ? ",?" : "?";
        tp.push_back(q->rows[i].Text(9));
      }
      exts += ")";
      auto t = db_.Query("SELECT userid, external_userid, tag_id FROM follow_tags WHERE corp_id = ? AND userid = ? "
                         "AND external_userid IN " + exts + " ORDER BY tag_id",
                         tp);
      if (!t.ok()) return Error(-1, "system busy", r);
      for (const auto& row : t->rows) tag_ids[{row.Text(0), row.Text(1)}].push_back(json::string(row.Text(2)));
    }
    json::array list;
    for (size_t i = 0; i < n; ++i) {
      const Row& row = q->rows[i];
      // Customer columns start after the follow columns (9) and the external_userid (1).
      std::vector<Value> customer_values;
      for (size_t k = 10; k < row.size(); ++k) customer_values.push_back(row.at(k));
      json::object follow = FollowFields(row, 0);
      follow["tag_id"] = tag_ids[{row.Text(0), row.Text(9)}];
      list.push_back(json::object{{"external_contact", ExternalContact(Row(std::move(customer_values)))},
                                  {"follow_info", std::move(follow)}});
    }
    std::string next = q->rows.size() > n ? EncodeCursor(q->rows[n - 1].Text(0) + '\x1f' + q->rows[n - 1].Text(9)) : "";
    return Ok({{"external_contact_list", std::move(list)}, {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/get_corp_tag_list", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get_corp_tag_list", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    std::vector<std::string> tag_filter = Strings(body, "tag_id"), group_filter = Strings(body, "group_id");
    auto g = db_.Query("SELECT group_id, name, create_time, sort FROM tag_groups WHERE corp_id = ? ORDER BY sort DESC",
                       {corp});
    auto t = db_.Query("SELECT tag_id, group_id, name, create_time, sort FROM tags WHERE corp_id = ? ORDER BY sort DESC",
                       {corp});
    if (!g.ok() || !t.ok()) return Error(-1, "system busy", r);
    auto contains = [](const std::vector<std::string>& v, const std::string& x) {
      return std::find(v.begin(), v.end(), x) != v.end();
    };
    json::array groups;
    for (const auto& grow : g->rows) {
      // group_id wins when both filters are given.
      if (!group_filter.empty() && !contains(group_filter, grow.Text(0))) continue;
      json::array tags;
      for (const auto& trow : t->rows) {
        if (trow.Text(1) != grow.Text(0)) continue;
        if (group_filter.empty() && !tag_filter.empty() && !contains(tag_filter, trow.Text(0))) continue;
        tags.push_back(json::object{{"id", trow.Text(0)}, {"name", trow.Text(2)}, {"create_time", trow.Int(3)},
                                    {"order", trow.Int(4)}, {"deleted", false}});
      }
      if (tags.empty() && group_filter.empty() && !tag_filter.empty()) continue;
      groups.push_back(json::object{{"group_id", grow.Text(0)}, {"group_name", grow.Text(1)},
                                    {"create_time", grow.Int(2)}, {"order", grow.Int(3)}, {"deleted", false},
                                    {"tag", std::move(tags)}});
    }
    return Ok({{"tag_group", std::move(groups)}});
  });

  // ----- corp tag writes (add / edit / delete / mark). Changes made through the API send no callback. -----
  router.Add("POST", "/cgi-bin/externalcontact/add_corp_tag", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/add_corp_tag", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    std::string group_id = Str(body, "group_id"), group_name = Str(body, "group_name");
    int64_t group_order = 0;
    if (!Int(body, "order", 0, group_order)) return Error(40058, "invalid order", r);
    auto it = body.find("tag");
    if (it == body.end() || !it->value().is_array() || it->value().as_array().empty())
      return Error(40058, "tag list is empty", r);
    std::vector<std::pair<std::string, int64_t>> wanted;
    for (const auto& v : it->value().as_array()) {
      if (!v.is_object()) return Error(40058, "invalid tag", r);
      std::string name = Str(v.as_object(), "name");
      int64_t order = 0;
      if (!Int(v.as_object(), "order", 0, order)) return Error(40058, "invalid tag order", r);
      if (name.empty() || static_cast<int64_t>(CodePointCount(name)) > options_.tag_name_max_chars)
        return Error(40058, "invalid tag name length", r);
      wanted.emplace_back(std::move(name), order);
    }
    if (group_id.empty() && (group_name.empty() || static_cast<int64_t>(CodePointCount(group_name)) > options_.tag_name_max_chars))
      return Error(40058, "invalid group_name", r);
    const int64_t now = clock_.NowMillis() / 1000;
    json::object group;
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      group = {};
      if (group_id.empty()) {  // a group of that name is reused
        KOI_ASSIGN_OR_RETURN(auto g, tx.Query("SELECT group_id FROM tag_groups WHERE corp_id = ? AND name = ?",
                                              {corp, group_name}));
        if (!g.rows.empty()) {
          group_id = g.rows[0].Text(0);
        } else {
          group_id = NewId("et");
          KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO tag_groups (corp_id, group_id, name, create_time, sort) VALUES "
                                      "(?, ?, ?, ?, ?)",
                                      {corp, group_id, group_name, now, group_order}));
        }
      }
      KOI_ASSIGN_OR_RETURN(auto g, tx.Query("SELECT name, create_time, sort FROM tag_groups WHERE corp_id = ? AND "
                                            "group_id = ?", {corp, group_id}));
      if (g.rows.empty()) return Status::NotFound("40068", "invalid group_id");
      KOI_ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*) FROM tags WHERE corp_id = ?", {corp}));
      int64_t total = count.rows[0].Int(0);
      json::array tags;
      for (const auto& [name, order] : wanted) {
        // Duplicate names within a group collapse to the existing tag.
        KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT tag_id, create_time, sort FROM tags WHERE corp_id = ? AND "
                                                 "group_id = ? AND name = ?", {corp, group_id, name}));
        if (!same.rows.empty()) {
          tags.push_back(json::object{{"id", same.rows[0].Text(0)}, {"name", name},
                                      {"create_time", same.rows[0].Int(1)}, {"order", same.rows[0].Int(2)}});
          continue;
        }
        if (++total > options_.corp_tags_max) return Status::FailedPrecondition("40058", "too many tags");
        std::string id = NewId("et");
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO tags (corp_id, tag_id, group_id, name, create_time, sort) VALUES (?, "
                                    "?, ?, ?, ?, ?)", {corp, id, group_id, name, now, order}));
        tags.push_back(json::object{{"id", id}, {"name", name}, {"create_time", now}, {"order", order}});
      }
      group = json::object{{"group_id", group_id}, {"group_name", g.rows[0].Text(0)},
                           {"create_time", g.rows[0].Int(1)}, {"order", g.rows[0].Int(2)}, {"tag", std::move(tags)}};
      return Status::Ok();
    });
    if (!s.ok()) return s.reason() == "40068" ? Error(40068, "invalid group_id", r)
                        : s.reason() == "40058" ? Error(40058, "tag count exceeds the limit", r)
                                                : Error(-1, "system busy", r);
    return Ok({{"tag_group", std::move(group)}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/edit_corp_tag", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/edit_corp_tag", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::string id = Str(body, "id"), name = Str(body, "name");
    int64_t order = 0;
    const bool has_order = body.contains("order");
    if (!Int(body, "order", 0, order)) return Error(40058, "invalid order", r);
    if (id.empty()) return Error(40068, "invalid tagid", r);
    if (body.contains("name") && (name.empty() || static_cast<int64_t>(CodePointCount(name)) > options_.tag_name_max_chars))
      return Error(40058, "invalid name length", r);
    int64_t changed = 0;
    for (const char* table : {"tags", "tag_groups"}) {
      const std::string key = std::string(table) == "tags" ? "tag_id" : "group_id";
      if (!name.empty()) {
        auto u = db_.Query(std::string("UPDATE ") + table + " SET name = ? WHERE corp_id = ? AND " + key + " = ?",
                           {name, corp, id});
        if (!u.ok()) return Error(-1, "system busy", r);
        changed += u->affected_rows;
      }
      if (has_order) {
        auto u = db_.Query(std::string("UPDATE ") + table + " SET sort = ? WHERE corp_id = ? AND " + key + " = ?",
                           {order, corp, id});
        if (!u.ok()) return Error(-1, "system busy", r);
        changed += u->affected_rows;
      }
      if (name.empty() && !has_order) {
        auto q = db_.Query(std::string("SELECT 1 FROM ") + table + " WHERE corp_id = ? AND " + key + " = ?", {corp, id});
        if (!q.ok()) return Error(-1, "system busy", r);
        changed += static_cast<int64_t>(q->rows.size());
      }
    }
    if (changed == 0) return Error(40068, "invalid tagid", r);
    return Ok();
  });

  router.Add("POST", "/cgi-bin/externalcontact/del_corp_tag", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/del_corp_tag", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::vector<std::string> tag_ids = Strings(body, "tag_id"), group_ids = Strings(body, "group_id");
    if (tag_ids.empty() && group_ids.empty()) return Error(40058, "tag_id and group_id are both empty", r);
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      for (const auto& g : group_ids) {
        KOI_ASSIGN_OR_RETURN(auto d, tx.Query("DELETE FROM tag_groups WHERE corp_id = ? AND group_id = ?", {corp, g}));
        if (d.affected_rows == 0) return Status::NotFound("40068", "invalid group_id");
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM follow_tags WHERE corp_id = ? AND tag_id IN (SELECT tag_id FROM tags "
                                    "WHERE corp_id = ? AND group_id = ?)", {corp, corp, g}));
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM tags WHERE corp_id = ? AND group_id = ?", {corp, g}));
      }
      for (const auto& t : tag_ids) {
        KOI_ASSIGN_OR_RETURN(auto g, tx.Query("SELECT group_id FROM tags WHERE corp_id = ? AND tag_id = ?", {corp, t}));
        if (g.rows.empty()) return Status::NotFound("40068", "invalid tagid");
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM tags WHERE corp_id = ? AND tag_id = ?", {corp, t}));
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM follow_tags WHERE corp_id = ? AND tag_id = ?", {corp, t}));
        // No empty groups: deleting a group's last tag deletes the group.
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM tag_groups WHERE corp_id = ? AND group_id = ? AND NOT EXISTS (SELECT "
                                    "1 FROM tags WHERE corp_id = ? AND group_id = ?)",
                                    {corp, g.rows[0].Text(0), corp, g.rows[0].Text(0)}));
      }
      return Status::Ok();
    });
    if (!s.ok()) return s.reason() == "40068" ? Error(40068, "invalid tagid", r) : Error(-1, "system busy", r);
    return Ok();
  });

  router.Add("POST", "/cgi-bin/externalcontact/remark", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/remark", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::string userid = Str(body, "userid"), ext = Str(body, "external_userid");
    const bool has_remark = body.contains("remark"), has_description = body.contains("description"),
               has_company = body.contains("remark_company"), has_mobiles = body.contains("remark_mobiles");
    if (!has_remark && !has_description && !has_company && !has_mobiles && !body.contains("remark_pic_mediaid"))
      return Error(40058, "nothing to change", r);
    const std::string remark = Str(body, "remark"), description = Str(body, "description"),
                      company = Str(body, "remark_company");
    std::vector<std::string> mobiles = Strings(body, "remark_mobiles");
    if (CodePointCount(remark) > 20 || CodePointCount(description) > 150 || CodePointCount(company) > 20 ||
        mobiles.size() > 5)
      return Error(40058, "invalid remark length", r);
    if (mobiles.size() == 1 && mobiles[0].empty()) mobiles.clear();  // [""] clears
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!scope->SeesUser(userid)) return NoPrivilege(r);
    auto rel = db_.Query("SELECT 1 FROM follows WHERE corp_id = ? AND userid = ? AND external_userid = ?",
                         {corp, userid, ext});
    if (!rel.ok()) return Error(-1, "system busy", r);
    if (rel->rows.empty()) return Error(84061, "not external contact", r);
    json::array m;
    for (const auto& x : mobiles) m.push_back(json::string(x));
    std::string sets;
    std::vector<Value> params;
    if (has_remark) sets += ", remark = ?", params.emplace_back(Value(remark));
    if (has_description) sets += ", description = ?", params.emplace_back(Value(description));
    if (has_company) sets += ", remark_corp_name = ?", params.emplace_back(Value(company));
    if (has_mobiles) sets += ", remark_mobiles = ?", params.emplace_back(Value(json::serialize(m)));
    if (sets.empty()) return Ok();
    params.emplace_back(Value(corp));
    params.emplace_back(Value(userid));
    params.emplace_back(Value(ext));
    if (!db_.Exec("UPDATE follows SET " + sets.substr(2) + " WHERE corp_id = ? AND userid = ? AND external_userid = ?",
                  params).ok())
      return Error(-1, "system busy", r);
    return Ok();
  });

  router.Add("POST", "/cgi-bin/externalcontact/mark_tag", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/mark_tag", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::string userid = Str(body, "userid"), ext = Str(body, "external_userid");
    const std::vector<std::string> add = Strings(body, "add_tag"), remove = Strings(body, "remove_tag");
    if (add.empty() && remove.empty()) return Error(40058, "add_tag and remove_tag are both empty", r);
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!scope->SeesUser(userid)) return NoPrivilege(r);
    auto rel = db_.Query("SELECT 1 FROM follows WHERE corp_id = ? AND userid = ? AND external_userid = ?",
                         {corp, userid, ext});
    if (!rel.ok()) return Error(-1, "system busy", r);
    if (rel->rows.empty()) return Error(84061, "not external contact", r);
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      for (const auto& t : add) {
        KOI_ASSIGN_OR_RETURN(auto known, tx.Query("SELECT 1 FROM tags WHERE corp_id = ? AND tag_id = ?", {corp, t}));
        if (known.rows.empty()) return Status::NotFound("40068", "invalid tagid");
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO follow_tags (corp_id, userid, external_userid, tag_id) VALUES (?, ?, "
                                    "?, ?) ON CONFLICT DO NOTHING", {corp, userid, ext, t}));
      }
      for (const auto& t : remove)
        KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM follow_tags WHERE corp_id = ? AND userid = ? AND external_userid = ? "
                                    "AND tag_id = ?", {corp, userid, ext, t}));
      return Status::Ok();
    });
    if (!s.ok()) return s.reason() == "40068" ? Error(40068, "invalid tagid", r) : Error(-1, "system busy", r);
    return Ok();
  });

  // ----- customer groups -----
  router.Add("POST", "/cgi-bin/externalcontact/groupchat/list", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/groupchat/list", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    int64_t limit = 0, status_filter = 0;
    if (!Int(body, "limit", 0, limit) || limit < 1 || limit > 1000) return Error(40058, "limit must be 1-1000", r);
    if (!Int(body, "status_filter", 0, status_filter) || status_filter < 0 || status_filter > 3)
      return Error(40058, "invalid status_filter", r);
    std::vector<std::string> owners;
    if (auto it = body.find("owner_filter"); it != body.end() && it->value().is_object())
      owners = Strings(it->value().as_object(), "userid_list");
    if (owners.size() > 100) return Error(40058, "owner_filter holds at most 100 userids", r);
    // An install with a visible range sees the groups its members own.
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!scope->all) {
      if (owners.empty()) owners.assign(scope->users.begin(), scope->users.end());
      else std::erase_if(owners, [&](const std::string& u) { return !scope->SeesUser(u); });
      if (owners.empty()) return Ok({{"group_chat_list", json::array{}}, {"next_cursor", ""}});
    } else if (owners.empty()) {
      auto count = db_.Query("SELECT COUNT(*) FROM employees WHERE corp_id = ?", {corp});
      if (!count.ok()) return Error(-1, "system busy", r);
      if (count->rows[0].Int(0) > 1000) return Error(81017, "too much data, please set owner_filter", r);
    }
    std::string after;
    if (!DecodeCursor(Str(body, "cursor"), after)) return Error(40058, "invalid cursor", r);
    std::string sql = "SELECT chat_id, status FROM group_chats WHERE corp_id = ? AND chat_id > ?";
    std::vector<Value> params{corp, after};
    if (status_filter != 0) {
      sql += " AND status = ?";
      params.push_back(status_filter);
    }
    if (!owners.empty()) {
      sql += " AND owner IN (";
      for (size_t i = 0; i < owners.size(); ++i) {
        sql += i ? ",?" : "?";
        params.push_back(owners[i]);
      }
      sql += ")";
    }
    sql += " ORDER BY chat_id LIMIT ?";
    params.push_back(limit + 1);
    auto q = db_.Query(sql, params);
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array list;
    size_t n = std::min(q->rows.size(), static_cast<size_t>(limit));
    for (size_t i = 0; i < n; ++i)
      list.push_back(json::object{{"chat_id", q->rows[i].Text(0)}, {"status", q->rows[i].Int(1)}});
    std::string next = q->rows.size() > n ? EncodeCursor(q->rows[n - 1].Text(0)) : "";
    return Ok({{"group_chat_list", std::move(list)}, {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/groupchat/get", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/groupchat/get", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    int64_t need_name = 0;
    if (!Int(body, "need_name", 0, need_name)) return Error(40058, "invalid need_name", r);
    std::string chat = Str(body, "chat_id");
    auto g = db_.Query("SELECT chat_id, name, owner, create_time, notice, member_version FROM group_chats WHERE "
                       "corp_id = ? AND chat_id = ?",
                       {corp, chat});
    if (!g.ok()) return Error(-1, "system busy", r);
    if (g->rows.empty()) return Error(40050, "invalid chatid", r);
    auto m = db_.Query("SELECT member_id, type, join_time, join_scene, invitor, state, unionid, name FROM "
                       "group_members WHERE corp_id = ? AND chat_id = ? ORDER BY join_time, member_id",
                       {corp, chat});
    auto a = db_.Query("SELECT userid FROM group_admins WHERE corp_id = ? AND chat_id = ? ORDER BY userid", {corp, chat});
    if (!m.ok() || !a.ok()) return Error(-1, "system busy", r);
    json::array members, admins;
    for (const auto& row : m->rows) {
      json::object o{{"userid", row.Text(0)}, {"type", row.Int(1)}, {"join_time", row.Int(2)},
                     {"join_scene", row.Int(3)}, {"group_nickname", ""}};
      if (!row.Text(4).empty()) o["invitor"] = json::object{{"userid", row.Text(4)}};
      if (!row.Text(5).empty()) o["state"] = row.Text(5);
      if (!row.Text(6).empty()) o["unionid"] = row.Text(6);
      if (need_name == 1) o["name"] = row.Text(7);
      members.push_back(std::move(o));
    }
    for (const auto& row : a->rows) admins.push_back(json::object{{"userid", row.Text(0)}});
    const Row& gr = g->rows[0];
    return Ok({{"group_chat", json::object{{"chat_id", gr.Text(0)},
                                           {"name", gr.Text(1)},
                                           {"owner", gr.Text(2)},
                                           {"create_time", gr.Int(3)},
                                           {"notice", gr.Text(4)},
                                           {"member_list", std::move(members)},
                                           {"admin_list", std::move(admins)},
                                           {"member_version", gr.Text(5)}}}});
  });

  // ----- temporary media (上传临时素材): multipart/form-data with the file in the part named "media"; the id
  // lasts 3 days. Only the metadata is kept: add_msg_template checks the ids it is given against it. -----
  router.Add("POST", "/cgi-bin/media/upload", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/media/upload", corp, err)) return err;
    const std::string type = r.Query("type");
    const int64_t max_bytes = wecom::MaxMediaBytes(type);
    if (max_bytes == 0) return Error(40004, "invalid media type", r);
    const std::string content_type = r.Header("content-type");
    std::vector<FormPart> parts;
    if (Lower(content_type).rfind("multipart/form-data", 0) != 0 ||
        !ParseMultipart(r.body, HeaderParams(content_type)["boundary"], parts))
      return Error(41005, "media data missing: the body is not multipart/form-data", r);
    auto media = std::find_if(parts.begin(), parts.end(), [](const FormPart& p) {
      auto name = p.disposition.find("name");
      return name != p.disposition.end() && name->second == "media";
    });
    if (media == parts.end() || !media->disposition.count("filename"))
      return Error(41005, "media data missing: no part named media with a filename", r);
    const auto size = static_cast<int64_t>(media->data.size());
    if (size < wecom::kMinMediaBytes) return Error(40006, "invalid file size: a file must be larger than 5 bytes", r);
    if (size > max_bytes)
      return Error(40006, "invalid file size: " + type + " is at most " + std::to_string(max_bytes >> 20) + " MB", r);
    if (!wecom::MediaFormatOk(type, media->data))
      return Error(40005, "invalid file type: " + type + " takes " + std::string(wecom::MediaFormats(type)), r);
    const int64_t now = clock_.NowSeconds();
    const std::string media_id = NewId("3");
    if (!db_.Exec("INSERT INTO media (corp_id, media_id, type, filename, size, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                  {corp, media_id, type, media->disposition.at("filename"), size, now})
             .ok())
      return Error(-1, "system busy", r);
    // created_at is a string in WeCom's answer.
    return Ok({{"type", type}, {"media_id", media_id}, {"created_at", std::to_string(now)}});
  });

  // ----- mass messages (企业群发, §7), to customers (chat_type single) or to customer groups (group). Creating
  // one only queues the members' tasks: the scenario action "send-mass-message" stands for a member confirming in
  // the client, which is when the receive limits apply. -----
  router.Add("POST", "/cgi-bin/externalcontact/add_msg_template", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/add_msg_template", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const rules::MassMessageRules& rules = options_.pack.mass;
    const std::string chat_type = body.contains("chat_type") ? Str(body, "chat_type") : "single";
    if (chat_type != "single" && chat_type != "group") return Error(40058, "invalid chat_type", r);
    const bool group = chat_type == "group";
    // Serving a tag filter by ignoring it would send to more customers than the caller chose.
    if (const json::value* tf = body.if_contains("tag_filter"); tf != nullptr && !tf->is_null() &&
                                                                !(tf->is_object() && tf->as_object().empty()))
      return Error(40058, "tag_filter is not supported by the sandbox yet", r);
    const std::string sender = Str(body, "sender");
    // The recipients are customers (single) or customer groups (group), each chat type with its own field.
    const std::string field = group ? "chat_id_list" : "external_userid";
    const std::vector<std::string> listed = Strings(body, field);
    if (group) {
      // Only a group's owner can send to it, so a group message needs to know who sends.
      if (sender.empty()) return Error(40003, "invalid userid: sender is required when chat_type is group", r);
      if (const json::value* ext = body.if_contains("external_userid");
          ext != nullptr && !ext->is_null() && !(ext->is_array() && ext->as_array().empty()))
        return Error(40058, "external_userid is not allowed when chat_type is group", r);
    }
    const int64_t max_listed = group ? kMaxChatIdsPerCall : rules.max_recipients_per_call;
    if (static_cast<int64_t>(listed.size()) > max_listed)
      return Error(40058, "too many " + field + ": at most " + std::to_string(max_listed) + " per call", r);
    if (listed.empty() && sender.empty()) return Error(40058, "external_userid and sender are both empty", r);
    std::string content;
    if (const json::value* text = body.if_contains("text"); text != nullptr) {
      if (!text->is_object()) return Error(40058, "invalid text", r);
      content = Str(text->as_object(), "content");
    }
    if (content.size() > 4000) return Error(40058, "invalid text size: text.content is over 4000 bytes", r);
    json::array attachments;
    if (const json::value* a = body.if_contains("attachments"); a != nullptr && !a->is_null()) {
      if (!a->is_array()) return Error(40058, "invalid attachments", r);
      attachments = a->as_array();
    }
    if (static_cast<int64_t>(attachments.size()) > rules.max_attachments)
      return Error(40058, "invalid attachments size: at most " + std::to_string(rules.max_attachments), r);
    for (size_t i = 0; i < attachments.size(); ++i)
      if (std::string problem = AttachmentProblem(attachments[i], i, rules); !problem.empty())
        return Error(40058, problem, r);
    // Media ids must be ones this corp uploaded in the last 3 days.
    for (size_t i = 0; i < attachments.size(); ++i)
      for (const std::string& media_id : MediaIdsOf(attachments[i])) {
        auto m = db_.Query("SELECT created_at FROM media WHERE corp_id = ? AND media_id = ?", {corp, media_id});
        if (!m.ok()) return Error(-1, "system busy", r);
        if (m->rows.empty() || m->rows[0].Int(0) + wecom::kMediaLifetimeS <= clock_.NowSeconds())
          return Error(40007, "invalid media_id: attachments[" + std::to_string(i) + "] names " + media_id +
                                  ", which is unknown or older than 3 days", r);
      }
    if (content.empty() && attachments.empty()) return Error(40058, "content is empty", r);
    // A third-party app sends through the members of its visible range only.
    auto scope = LoadTokenScope(db_, r.Query("access_token"), corp);
    if (!scope.ok()) return Error(-1, "system busy", r);
    if (!sender.empty() && !scope->SeesUser(sender)) return NoPrivilege(r);

    const int64_t now = clock_.NowSeconds();
    const std::string msgid = NewId("msg");
    json::array fail_list;
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      fail_list.clear();
      if (!sender.empty()) {
        KOI_ASSIGN_OR_RETURN(auto m, tx.Query("SELECT 1 FROM employees WHERE corp_id = ? AND userid = ? AND status = 1",
                                              {corp, sender}));
        if (m.rows.empty()) return Refuse(40003, "invalid userid: sender " + sender + " is not an active member");
      }
      // Who sends to whom: the sender, to those of its customers (or of the groups it owns) the call names, or to
      // all of them; without a sender (single only), the member who added the customer last (the doc: "who most
      // recently chatted with the customer", which the sandbox does not track).
      const std::string own = group ? "SELECT chat_id FROM group_chats WHERE corp_id = ? AND owner = ?"
                                    : "SELECT external_userid FROM follows WHERE corp_id = ? AND userid = ?";
      const std::string column = group ? "chat_id" : "external_userid";
      std::map<std::string, std::string> member_of;  // recipient (external_userid or chat_id) -> sending member
      if (listed.empty()) {
        KOI_ASSIGN_OR_RETURN(auto all, tx.Query(own, {corp, sender}));
        for (const auto& row : all.rows) member_of[row.Text(0)] = sender;
      } else {
        std::vector<std::string> wanted = listed;
        std::sort(wanted.begin(), wanted.end());
        wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
        constexpr size_t kChunk = 500;  // bound the bound parameters per statement
        for (size_t from = 0; from < wanted.size(); from += kChunk) {
          const size_t to = std::min(wanted.size(), from + kChunk);
          std::vector<Value> params{corp};
          if (!sender.empty()) {
            params.emplace_back(Value(sender));
            const std::string in = InList(wanted, from, to, params);
            KOI_ASSIGN_OR_RETURN(auto q, tx.Query(own + " AND " + column + " IN " + in, params));
            for (const auto& row : q.rows) member_of[row.Text(0)] = sender;
          } else {
            const std::string in = InList(wanted, from, to, params);
            KOI_ASSIGN_OR_RETURN(auto q, tx.Query("SELECT f.external_userid, f.userid FROM follows f JOIN employees e "
                                                  "ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE "
                                                  "f.corp_id = ? AND e.status = 1 AND f.external_userid IN " + in +
                                                      " ORDER BY f.external_userid, f.createtime DESC, f.userid",
                                                  params));
            for (const auto& row : q.rows)  // the first (in range) is the latest
              if (scope->SeesUser(row.Text(1))) member_of.emplace(row.Text(0), row.Text(1));
          }
        }
        std::set<std::string> reported;
        for (const auto& id : listed)
          if (!member_of.count(id) && reported.insert(id).second) fail_list.push_back(json::string(id));
      }
      if (member_of.empty()) return Refuse(40058, "no valid " + column);
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO msg_templates (corp_id, msgid, chat_type, sender, create_type, text, "
                                  "attachments, create_time, cancelled) VALUES (?, ?, ?, ?, 0, ?, ?, ?, 0)",
                                  {corp, msgid, chat_type, sender, content, json::serialize(attachments), now}));
      std::set<std::string> members;
      std::vector<std::vector<Value>> results;
      for (const auto& [recipient, member] : member_of) {  // a group's chat_id goes in external_userid (world.cc)
        members.insert(member);
        results.push_back({corp, msgid, member, recipient, int64_t{0}, int64_t{0}});
      }
      std::vector<std::vector<Value>> tasks;
      for (const auto& member : members) tasks.push_back({corp, msgid, member, int64_t{0}, int64_t{0}});
      KOI_RETURN_IF_ERROR(tx.CopyIn("msg_tasks", {"corp_id", "msgid", "userid", "status", "send_time"}, tasks));
      return tx.CopyIn("msg_results", {"corp_id", "msgid", "userid", "external_userid", "status", "send_time"},
                       results);
    });
    if (!s.ok()) return FromStatus(s, r);
    return Ok({{"fail_list", std::move(fail_list)}, {"msgid", msgid}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/get_groupmsg_list_v2", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get_groupmsg_list_v2", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::string chat_type = Str(body, "chat_type");
    if (chat_type != "single" && chat_type != "group") return Error(40058, "invalid chat_type", r);
    int64_t start = 0, end = 0, filter_type = 2, limit = 0;
    if (!body.contains("start_time") || !body.contains("end_time"))
      return Error(40058, "start_time and end_time are required", r);
    if (!Int(body, "start_time", 0, start) || !Int(body, "end_time", 0, end) || end < start)
      return Error(40058, "invalid start_time or end_time", r);
    if (end - start > 31 * 86400) return Error(40058, "the time range exceeds one month", r);
    if (!Int(body, "filter_type", 2, filter_type) || filter_type < 0 || filter_type > 2)
      return Error(40058, "invalid filter_type", r);
    std::string after, problem;
    if (!PageArgs(body, 50, 100, limit, after, problem)) return Error(40058, problem, r);
    std::string sql = "SELECT msgid, sender, create_time, create_type, text, attachments FROM msg_templates WHERE "
                      "corp_id = ? AND chat_type = ? AND create_time >= ? AND create_time <= ?";
    std::vector<Value> params{corp, chat_type, start, end};
    if (filter_type != 2) {
      sql += " AND create_type = ?";
      params.emplace_back(Value(filter_type));
    }
    // Only personal messages have a creator: messages created through the API never match one.
    if (const std::string creator = Str(body, "creator"); !creator.empty()) {
      sql += " AND create_type = 1 AND sender = ?";
      params.emplace_back(Value(creator));
    }
    if (!after.empty()) {  // keyset over (create_time, msgid)
      const auto sep = after.find('\x1f');
      int64_t t = 0;
      auto [p, ec] = std::from_chars(after.data(), after.data() + std::min(sep, after.size()), t);
      if (sep == std::string::npos || ec != std::errc() || p != after.data() + sep)
        return Error(40058, "invalid cursor", r);
      sql += " AND (create_time > ? OR (create_time = ? AND msgid > ?))";
      params.emplace_back(Value(t));
      params.emplace_back(Value(t));
      params.emplace_back(Value(after.substr(sep + 1)));
    }
    sql += " ORDER BY create_time, msgid LIMIT ?";
    params.emplace_back(Value(limit + 1));
    auto q = db_.Query(sql, params);
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array list;
    const size_t n = std::min(q->rows.size(), static_cast<size_t>(limit));
    for (size_t i = 0; i < n; ++i) {
      const Row& row = q->rows[i];
      json::object o{{"msgid", row.Text(0)}, {"create_time", row.Int(2)}, {"create_type", row.Int(3)},
                     {"text", json::object{{"content", row.Text(4)}}}, {"attachments", JsonStrings(row.Text(5))}};
      if (row.Int(3) == 1) o["creator"] = row.Text(1);
      list.push_back(std::move(o));
    }
    const std::string next =
        q->rows.size() > n ? EncodeCursor(std::to_string(q->rows[n - 1].Int(2)) + '\x1f' + q->rows[n - 1].Text(0)) : "";
    return Ok({{"group_msg_list", std::move(list)}, {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/get_groupmsg_task", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get_groupmsg_task", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    int64_t limit = 0;
    std::string after, problem;
    if (!PageArgs(body, 500, 1000, limit, after, problem)) return Error(40058, problem, r);
    const std::string msgid = Str(body, "msgid");
    auto known = db_.Query("SELECT 1 FROM msg_templates WHERE corp_id = ? AND msgid = ?", {corp, msgid});
    if (!known.ok()) return Error(-1, "system busy", r);
    if (known->rows.empty()) return Error(40058, "invalid msgid", r);
    auto q = db_.Query("SELECT userid, status, send_time FROM msg_tasks WHERE corp_id = ? AND msgid = ? AND userid > ? "
                       "ORDER BY userid LIMIT ?",
                       {corp, msgid, after, limit + 1});
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array list;
    const size_t n = std::min(q->rows.size(), static_cast<size_t>(limit));
    for (size_t i = 0; i < n; ++i) {
      json::object o{{"userid", q->rows[i].Text(0)}, {"status", q->rows[i].Int(1)}};
      if (q->rows[i].Int(1) == 2) o["send_time"] = q->rows[i].Int(2);
      list.push_back(std::move(o));
    }
    const std::string next = q->rows.size() > n ? EncodeCursor(q->rows[n - 1].Text(0)) : "";
    return Ok({{"task_list", std::move(list)}, {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/get_groupmsg_send_result", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/get_groupmsg_send_result", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    int64_t limit = 0;
    std::string after, problem;
    if (!PageArgs(body, 500, 1000, limit, after, problem)) return Error(40058, problem, r);
    const std::string msgid = Str(body, "msgid"), userid = Str(body, "userid");
    if (userid.empty()) return Error(40058, "userid is required", r);
    auto known = db_.Query("SELECT chat_type FROM msg_templates WHERE corp_id = ? AND msgid = ?", {corp, msgid});
    if (!known.ok()) return Error(-1, "system busy", r);
    if (known->rows.empty()) return Error(40058, "invalid msgid", r);
    // A group message's rows name the chat, and only those already sent are listed (§7.2).
    const bool group = known->rows[0].Text(0) == "group";
    auto q = db_.Query(std::string("SELECT external_userid, status, send_time FROM msg_results WHERE corp_id = ? AND "
                                   "msgid = ? AND userid = ? AND external_userid > ?") +
                           (group ? " AND status <> 0" : "") + " ORDER BY external_userid LIMIT ?",
                       {corp, msgid, userid, after, limit + 1});
    if (!q.ok()) return Error(-1, "system busy", r);
    json::array list;
    const size_t n = std::min(q->rows.size(), static_cast<size_t>(limit));
    for (size_t i = 0; i < n; ++i) {
      json::object o{{group ? "chat_id" : "external_userid", q->rows[i].Text(0)}, {"userid", userid},
                     {"status", q->rows[i].Int(1)}};
      if (q->rows[i].Int(1) == 1) o["send_time"] = q->rows[i].Int(2);
      list.push_back(std::move(o));
    }
    const std::string next = q->rows.size() > n ? EncodeCursor(q->rows[n - 1].Text(0)) : "";
    return Ok({{"send_list", std::move(list)}, {"next_cursor", next}});
  });

  router.Add("POST", "/cgi-bin/externalcontact/remind_groupmsg_send", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/remind_groupmsg_send", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    const std::string msgid = Str(body, "msgid");
    const rules::MassMessageRules& rules = options_.pack.mass;
    const int64_t now = clock_.NowSeconds();
    Status s = db_.Transact([&](storage::Session& tx) -> Status {
      KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT cancelled FROM msg_templates WHERE corp_id = ? AND msgid = ?",
                                            {corp, msgid}));
      if (t.rows.empty()) return Refuse(40058, "invalid msgid");
      if (t.rows[0].Int(0) != 0) return Refuse(40058, "the message was cancelled");
      // A rolling window (not a natural day): the docs say "per 24 hours".
      KOI_ASSIGN_OR_RETURN(auto n, tx.Query("SELECT COUNT(*) FROM msg_reminders WHERE msgid = ? AND at > ?",
                                            {msgid, now - rules.reminder_window_seconds}));
      if (n.rows[0].Int(0) >= rules.max_reminders)
        return Refuse(40058, "remind limit reached: at most " + std::to_string(rules.max_reminders) +
                                 " reminders per message in " + std::to_string(rules.reminder_window_seconds) + " s");
      return tx.Exec("INSERT INTO msg_reminders (corp_id, msgid, at) VALUES (?, ?, ?)", {corp, msgid, now});
    });
    if (!s.ok()) return FromStatus(s, r);
    return Ok();
  });

  router.Add("POST", "/cgi-bin/externalcontact/cancel_groupmsg_send", [this](Request& r) {
    std::string corp;
    Response err;
    if (!Admit(r, "/cgi-bin/externalcontact/cancel_groupmsg_send", corp, err)) return err;
    json::object body;
    if (!ParseBody(r, body)) return Error(47001, "data format error", r);
    // Members who have not sent yet can no longer send: their tasks stay "not sent" (0) for good. Cancelling twice
    // is fine.
    auto u = db_.Query("UPDATE msg_templates SET cancelled = 1 WHERE corp_id = ? AND msgid = ?",
                       {corp, Str(body, "msgid")});
    if (!u.ok()) return Error(-1, "system busy", r);
    if (u->affected_rows == 0) return Error(40058, "invalid msgid", r);
    return Ok();
  });

  // ----- sandbox administration (not WeCom) -----
  router.Add("GET", "/sandbox/calls", [this](Request&) {
    json::array out;
    for (const auto& [key, n] : CallCounts())
      out.push_back(json::object{{"corp_id", key.first}, {"api", key.second}, {"calls", n}});
    return Ok({{"calls", std::move(out)}});
  });
}

}  // namespace koi::sandbox
