#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <sstream>

extern char** environ;

namespace koi {
namespace {

enum class Kind { kString, kInt, kBool };

struct KeySpec {
  const char* key;
  Kind kind;
  const char* description;
  // Writes a parsed value into settings, or returns an error message describing the allowed values.
  std::function<std::string(Settings&, const std::string&, int64_t, bool)> apply;
  std::function<std::string(const Settings&)> show;
};

std::string Range(int64_t v, int64_t lo, int64_t hi) {
  if (v < lo || v > hi) return "must be between " + std::to_string(lo) + " and " + std::to_string(hi);
  return "";
}

#define KOI_INT_KEY_(name, member, lo, hi, desc)                                                  \
  KeySpec{name, Kind::kInt, desc,                                                                 \
          [](Settings& s, const std::string&, int64_t v, bool) {                                  \
            auto err = Range(v, lo, hi);                                                          \
            if (err.empty()) s.member = static_cast<decltype(s.member)>(v);                       \
            return err;                                                                           \
          },                                                                                      \
          [](const Settings& s) { return std::to_string(s.member); }}

#define KOI_STRING_KEY_(name, member, desc)                                                       \
  KeySpec{name, Kind::kString, desc,                                                                 \
          [](Settings& s, const std::string& v, int64_t, bool) {                                     \
            s.member = v;                                                                            \
            return std::string();                                                                    \
          },                                                                                         \
          [](const Settings& s) { return s.member; }}

const std::vector<KeySpec>& Specs() {
  static const std::vector<KeySpec> specs = {
      KeySpec{"server.listen", Kind::kString, "Address and port of the HTTP server, host:port",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                auto colon = v.rfind(':');
                if (colon == std::string::npos || colon == 0) return "must look like 127.0.0.1:8080";
                int port = 0;
                auto p = v.substr(colon + 1);
                auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
                if (ec != std::errc() || ptr != p.data() + p.size() || port < 0 || port > 65535)
                  return "has a bad port (0-65535)";
                std::string host = v.substr(0, colon);
                if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
                s.server.listen_host = host;
                s.server.listen_port = port;
                return "";
              },
              [](const Settings& s) { return s.server.listen_host + ":" + std::to_string(s.server.listen_port); }},
      KOI_INT_KEY_("server.io_threads", server.io_threads, 1, 64, "Threads that run network I/O"),
      KOI_INT_KEY_("server.worker_threads", server.worker_threads, 1, 256,
                   "Threads that run request handlers (database work never runs on I/O threads; WeCom callbacks "
                   "do not use them: the callback inbox stores them on its own thread)"),
      KOI_INT_KEY_("server.max_body_bytes", server.max_body_bytes, 1024, int64_t{1} << 30,
                   "Largest request body accepted; larger ones get 413 body_too_large (21 MB by default: an "
                   "attachment's file for WeCom, up to 20 MB, is uploaded as the body)"),
      KOI_INT_KEY_("server.max_header_bytes", server.max_header_bytes, 1024, 1 << 20,
                   "Largest request head accepted; larger ones get 431 headers_too_large"),
      KOI_INT_KEY_("server.read_timeout_seconds", server.read_timeout_seconds, 1, 3600,
                   "Time allowed to receive one whole request"),
      KOI_INT_KEY_("server.idle_timeout_seconds", server.idle_timeout_seconds, 1, 3600,
                   "Keep-alive connections idle longer than this are closed"),
      KOI_INT_KEY_("server.shutdown_grace_seconds", server.shutdown_grace_seconds, 0, 600,
                   "On SIGTERM, time allowed for in-flight requests and jobs to finish"),
      KeySpec{"server.static_dir", Kind::kString, "Folder of the built console (served with SPA fallback)",
              [](Settings& s, const std::string& v, int64_t, bool) {
                s.server.static_dir = v;
                return std::string();
              },
              [](const Settings& s) { return s.server.static_dir; }},
      KeySpec{"database.url", Kind::kString,
              "sqlite:<path> (embedded, default) or postgresql://user@host:port/db (server)",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                if (v.rfind("sqlite:", 0) != 0 && v.rfind("postgresql://", 0) != 0 && v.rfind("postgres://", 0) != 0)
                  return "must start with sqlite: or postgresql://";
                s.database.url = v;
                return "";
              },
              [](const Settings& s) { return s.database.url; }},
      KOI_INT_KEY_("database.pool_size", database.pool_size, 1, 256, "Database connections kept open"),
      KOI_INT_KEY_("database.busy_timeout_ms", database.busy_timeout_ms, 0, 600000,
                   "SQLite: how long a writer waits for the lock before the transaction is retried"),
      KOI_INT_KEY_("database.sqlite_cache_mb", database.sqlite_cache_mb, 2, 65536,
                   "SQLite: each connection's page cache, filled as pages are read"),
      KOI_INT_KEY_("database.sqlite_mmap_mb", database.sqlite_mmap_mb, 0, 1048576,
                   "SQLite: how much of the file is read through memory mapping (0: none)"),
      KOI_INT_KEY_("database.sqlite_checkpoint_pages", database.sqlite_checkpoint_pages, 100, 1000000,
                   "SQLite: log pages (4 KiB each) gathered before they are copied into the database file"),
      KeySpec{"jobs.enabled", Kind::kBool, "Run background jobs on this node",
              [](Settings& s, const std::string&, int64_t, bool b) {
                s.jobs.enabled = b;
                return std::string();
              },
              [](const Settings& s) { return std::string(s.jobs.enabled ? "true" : "false"); }},
      KOI_INT_KEY_("jobs.workers", jobs.workers, 1, 64, "Jobs run at once on this node"),
      KOI_INT_KEY_("jobs.lease_seconds", jobs.lease_seconds, 1, 3600,
                   "A running job whose node stops heartbeating for this long is taken over by another run"),
      KOI_INT_KEY_("jobs.poll_millis", jobs.poll_millis, 10, 60000, "How often idle workers look for due jobs"),
      KOI_INT_KEY_("jobs.keep_finished_days", jobs.keep_finished_days, 1, 3650,
                   "Finished jobs older than this are deleted by the housekeeping job"),
      KOI_INT_KEY_("auth.session_idle_minutes", auth.session_idle_minutes, 5, 60 * 24 * 30,
                   "A console session unused for this long ends"),
      KOI_INT_KEY_("auth.session_max_days", auth.session_max_days, 1, 90,
                   "Every console session ends this long after login, used or not"),
      KOI_INT_KEY_("auth.ip_login_limit", auth.ip_login_limit, 1, 1000000,
                   "Login attempts one client IP may make per 10 minutes (beyond: 429 rate_limited)"),
      KeySpec{"auth.cookie_secure", Kind::kBool, "Mark session cookies Secure (set true when served over HTTPS)",
              [](Settings& s, const std::string&, int64_t, bool b) {
                s.auth.cookie_secure = b;
                return std::string();
              },
              [](const Settings& s) { return std::string(s.auth.cookie_secure ? "true" : "false"); }},
      KeySpec{"sms.provider", Kind::kString,
              "console (development: codes go to the log and the /dev/sms-inbox page) or tencent (Tencent Cloud SMS)",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                if (v != "console" && v != "tencent") return "must be console or tencent";
                s.sms.provider = v;
                return "";
              },
              [](const Settings& s) { return s.sms.provider; }},
      KOI_INT_KEY_("sms.ip_hourly_limit", sms.ip_hourly_limit, 1, 1000000,
                   "Verification codes one client IP may request per hour"),
      KOI_STRING_KEY_("sms.tencent_endpoint", sms.tencent_endpoint, "Tencent Cloud SMS API endpoint (https URL)"),
      KOI_STRING_KEY_("sms.tencent_region", sms.tencent_region, "Tencent Cloud region of the SMS application"),
      KOI_STRING_KEY_("sms.tencent_secret_id", sms.tencent_secret_id, "Tencent Cloud API SecretId"),
      KOI_STRING_KEY_("sms.tencent_secret_key", sms.tencent_secret_key,
                      "Tencent Cloud API SecretKey (never logged; prefer the environment variable)"),
      KOI_STRING_KEY_("sms.tencent_sdk_app_id", sms.tencent_sdk_app_id, "SmsSdkAppId of the SMS application"),
      KOI_STRING_KEY_("sms.tencent_sign_name", sms.tencent_sign_name, "Approved SMS signature (SignName)"),
      KOI_STRING_KEY_("sms.tencent_code_template", sms.tencent_code_template,
                      "Template id of the verification-code SMS (one parameter: the code)"),
      KOI_STRING_KEY_("sms.tencent_notice_template", sms.tencent_notice_template,
                      "Template id of the invitation / password-reset notice SMS (no parameters)"),
      KeySpec{"wecom.api_base_url", Kind::kString,
              "WeCom's server API: https://qyapi.weixin.qq.com, or koi-wecom-sandbox (http://127.0.0.1:9080)",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0) return "must start with https:// or http://";
                s.wecom.api_base_url = v.back() == '/' ? v.substr(0, v.size() - 1) : v;
                return "";
              },
              [](const Settings& s) { return s.wecom.api_base_url; }},
      KOI_STRING_KEY_("wecom.secret_key_file", wecom.secret_key_file,
                      "32-byte key that seals the corps' WeCom secrets at rest; created on first start. Back it up "
                      "with the database, keep it out of it"),
      KOI_INT_KEY_("wecom.calls_per_minute", wecom.calls_per_minute, 1, 10000,
                   "Calls Koi makes per corp per WeCom API per minute (WeCom refuses beyond 10,000 with 45009)"),
      KOI_INT_KEY_("wecom.send_grace_seconds", wecom.send_grace_seconds, 1, 3600,
                   "A mass-message part whose add_msg_template call may still be in flight is looked up in WeCom or "
                   "sent again only this long after the call started"),
      KOI_STRING_KEY_("wecom.suite_id", wecom.suite_id,
                      "Third-party suite id corps install Koi through (前往授权); empty: only self-built apps"),
      KOI_STRING_KEY_("wecom.suite_secret", wecom.suite_secret,
                      "The suite's secret (never logged; prefer the environment variable)"),
      KOI_STRING_KEY_("wecom.suite_token", wecom.suite_token, "The suite's callback token"),
      KOI_STRING_KEY_("wecom.suite_aes_key", wecom.suite_aes_key, "The suite's callback EncodingAESKey (43 characters)"),
      KOI_STRING_KEY_("wecom.install_url", wecom.install_url,
                      "WeCom's authorisation page for installs (koi-wecom-sandbox: http://127.0.0.1:9080/3rdapp/install)"),
      KOI_STRING_KEY_("wecom.oauth_url", wecom.oauth_url,
                      "WeCom's OAuth page that identifies a member opening Koi's chat-toolbar pages "
                      "(koi-wecom-sandbox: http://127.0.0.1:9080/connect/oauth2/authorize)"),
      KOI_STRING_KEY_("wecom.public_url", wecom.public_url,
                      "Koi's URL as browsers reach it (https://scrm.example.com): the install's redirect_uri and the chat "
                      "toolbar's pages. "
                      "Required with wecom.suite_id"),
      KOI_STRING_KEY_("wecom.provider_corp_id", wecom.provider_corp_id,
                      "The service provider's own corp id: WeCom checks the suite's data-callback URL under it"),
      KeySpec{"log.level", Kind::kString, "trace, debug, info, warn or error",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                static const char* kLevels[] = {"trace", "debug", "info", "warn", "error"};
                if (std::find(std::begin(kLevels), std::end(kLevels), v) == std::end(kLevels))
                  return "must be one of trace, debug, info, warn, error";
                s.log.level = v;
                return "";
              },
              [](const Settings& s) { return s.log.level; }},
      KeySpec{"log.format", Kind::kString, "text (human) or json (one object per line)",
              [](Settings& s, const std::string& v, int64_t, bool) -> std::string {
                if (v != "text" && v != "json") return "must be text or json";
                s.log.format = v;
                return "";
              },
              [](const Settings& s) { return s.log.format; }},
  };
  return specs;
}
#undef KOI_INT_KEY_
#undef KOI_STRING_KEY_

std::string EnvName(const std::string& key) {
  std::string env = "KOI_";
  for (char c : key) env += (c == '.') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Applies one raw value (already unquoted for strings) to settings. Returns "" or an error.
std::string ApplyValue(const KeySpec& spec, Settings& s, const std::string& raw, bool quoted) {
  switch (spec.kind) {
    case Kind::kString:
      return spec.apply(s, raw, 0, false);
    case Kind::kInt: {
      if (quoted) return "must be an integer, not a string";
      int64_t v = 0;
      auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
      if (raw.empty() || ec != std::errc() || ptr != raw.data() + raw.size()) return "must be an integer";
      return spec.apply(s, raw, v, false);
    }
    case Kind::kBool:
      if (raw == "true" || raw == "1") return spec.apply(s, raw, 0, true);
      if (raw == "false" || raw == "0") return spec.apply(s, raw, 0, false);
      return "must be true or false";
  }
  return "unknown type";
}

const KeySpec* FindSpec(const std::string& key) {
  for (const auto& spec : Specs())
    if (key == spec.key) return &spec;
  return nullptr;
}

Status BadConfig(const std::string& where, const std::string& what) {
  return Status::InvalidArgument("bad_config", where + ": " + what);
}

// Parses a double-quoted TOML basic string starting at s[0] == '"'. Supports \" \\ \n \t escapes.
bool ParseQuoted(std::string_view s, std::string& out, size_t& consumed) {
  out.clear();
  for (size_t i = 1; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      consumed = i + 1;
      return true;
    }
    if (c == '\\' && i + 1 < s.size()) {
      char n = s[++i];
      switch (n) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        default: return false;
      }
      continue;
    }
    out += c;
  }
  return false;
}

}  // namespace

std::vector<SettingKeyInfo> KnownSettingKeys() {
  Settings defaults;
  std::vector<SettingKeyInfo> out;
  for (const auto& spec : Specs()) {
    const char* type = spec.kind == Kind::kString ? "string" : spec.kind == Kind::kInt ? "integer" : "boolean";
    out.push_back({spec.key, EnvName(spec.key), type, spec.show(defaults), spec.description});
  }
  return out;
}

Result<Settings> ParseSettings(const std::string& text, const std::string& origin,
                               const std::map<std::string, std::string>& environment) {
  Settings s;
  std::istringstream in(text);
  std::string line;
  std::string section;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string where = origin + ":" + std::to_string(line_no);
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (t[0] == '[') {
      if (t.back() != ']') return BadConfig(where, "section header must end with ]");
      section = Trim(std::string_view(t).substr(1, t.size() - 2));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos) return BadConfig(where, "expected key = value");
    std::string key = Trim(std::string_view(t).substr(0, eq));
    std::string full = section.empty() ? key : section + "." + key;
    std::string rest = Trim(std::string_view(t).substr(eq + 1));
    std::string value;
    bool quoted = false;
    if (!rest.empty() && rest[0] == '"') {
      size_t consumed = 0;
      if (!ParseQuoted(rest, value, consumed)) return BadConfig(where, "unterminated or badly escaped string for " + full);
      std::string tail = Trim(std::string_view(rest).substr(consumed));
      if (!tail.empty() && tail[0] != '#') return BadConfig(where, "unexpected text after the value of " + full);
      quoted = true;
    } else {
      auto hash = rest.find('#');
      value = Trim(std::string_view(rest).substr(0, hash));
    }
    const KeySpec* spec = FindSpec(full);
    if (spec == nullptr) return BadConfig(where, "unknown key " + full);
    if (spec->kind == Kind::kString && !quoted) return BadConfig(where, full + " must be a \"quoted string\"");
    std::string err = ApplyValue(*spec, s, value, quoted);
    if (!err.empty()) return BadConfig(where, full + " " + err);
  }
  for (const auto& spec : Specs()) {
    auto it = environment.find(EnvName(spec.key));
    if (it == environment.end()) continue;
    std::string err = ApplyValue(spec, s, it->second, spec.kind == Kind::kString);
    if (!err.empty()) return BadConfig("environment", it->first + " (" + spec.key + ") " + err);
  }
  for (const auto& [name, value] : environment) {
    (void)value;
    // Catch typos in KOI_* variables; a few are read by scripts, not the server.
    static const char* kNotSettings[] = {"KOI_CONFIG", "KOI_BASE_URL", "KOI_TEST_PG_URL", "KOI_REQUIRE_PG",
                                         "KOI_E2E_SCREENSHOTS"};
    if (name.rfind("KOI_", 0) != 0) continue;
    if (std::find(std::begin(kNotSettings), std::end(kNotSettings), name) != std::end(kNotSettings)) continue;
    bool known = false;
    for (const auto& spec : Specs()) known = known || EnvName(spec.key) == name;
    if (!known) return BadConfig("environment", "unknown variable " + name);
  }
  return s;
}

Result<Settings> LoadSettings(const std::string& config_path, const std::map<std::string, std::string>& environment) {
  std::string text;
  if (!config_path.empty()) {
    std::ifstream f(config_path);
    if (!f) return BadConfig(config_path, "cannot open the config file");
    std::stringstream buf;
    buf << f.rdbuf();
    text = buf.str();
  }
  return ParseSettings(text, config_path.empty() ? "config" : config_path, environment);
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

}  // namespace koi
