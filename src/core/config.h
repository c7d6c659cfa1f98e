// Settings: every configuration value Koi reads, with defaults, from a file and KOI_* environment variables.
//
// Precedence: built-in default < config file < environment. The file is a TOML subset: `[section]` headers,
// `key = value` lines with "double-quoted strings", integers or true/false, and `#` comments. The environment
// variable for `section.key` is KOI_SECTION_KEY (e.g. database.url -> KOI_DATABASE_URL).
// Unknown keys and bad values are errors that name the key, so a typo stops the process at start instead of
// being ignored. docs/operations.md lists every key; KnownSettingKeys() is the source of that list.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace koi {

struct ServerSettings {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  int io_threads = 2;
  int worker_threads = 16;
  // 21 MB: an attachment's file is uploaded as the request body (POST /api/v1/scrm/media) and WeCom takes files of
  // up to 20 MB; every JSON body is far smaller.
  int64_t max_body_bytes = 21 * 1024 * 1024;
  int max_header_bytes = 16 * 1024;
  int read_timeout_seconds = 30;
  int idle_timeout_seconds = 60;
  int shutdown_grace_seconds = 10;
  std::string static_dir = "web/dist";
};

struct DatabaseSettings {
  std::string url = "sqlite:./data/koi.db";
  int pool_size = 4;
  int busy_timeout_ms = 5000;
  int sqlite_cache_mb = 256;  // per connection
  int sqlite_mmap_mb = 0;
  int sqlite_checkpoint_pages = 8000;
};

struct JobSettings {
  bool enabled = true;
  int workers = 2;
  int lease_seconds = 30;
  int poll_millis = 500;
  int keep_finished_days = 30;
};

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error
  std::string format = "text";  // text or json
};

struct AuthSettings {
  int session_idle_minutes = 12 * 60;     // a session unused this long ends
  int session_max_days = 7;               // and every session ends this long after login
  int ip_login_limit = 60;                // login attempts per client IP per 10 minutes
  bool cookie_secure = false;             // mark cookies Secure (set true behind HTTPS)
};

struct SmsSettings {
  std::string provider = "console";       // console (development: log + inbox) or tencent
  int ip_hourly_limit = 30;               // verification codes one client IP may request per hour
  std::string tencent_endpoint = "https://sms.tencentcloudapi.com";
  std::string tencent_region = "ap-guangzhou";
  std::string tencent_secret_id;
  std::string tencent_secret_key;
  std::string tencent_sdk_app_id;
  std::string tencent_sign_name;
  std::string tencent_code_template;      // template with one parameter: the code
  std::string tencent_notice_template;    // template with no parameters: "you were invited / set a new password"
};

struct WecomSettings {
  std::string api_base_url = "https://qyapi.weixin.qq.com";  // koi-wecom-sandbox: http://127.0.0.1:9080
  std::string secret_key_file = "./data/koi-secret.key";       // seals the corps' secrets at rest (created if missing)
  int calls_per_minute = 8000;                                 // per corp per API, below WeCom's 10,000
  int send_grace_seconds = 180;  // a mass-message call may still be in flight this long after it started
  // The third-party suite (服务商应用) corps install Koi through ("前往授权"); empty suite_id: not offered.
  std::string suite_id, suite_secret, suite_token, suite_aes_key;
  std::string install_url = "https://open.work.weixin.qq.com/3rdapp/install";  // WeCom's authorisation page
  std::string oauth_url = "https://open.weixin.qq.com/connect/oauth2/authorize";  // members' OAuth (sidebar pages)
  // Koi's address as admins' browsers reach it, for the install's redirect_uri (required with a suite)
  std::string public_url;
  std::string provider_corp_id;  // the service provider's own corp id (WeCom checks data-callback URLs under it)
};

struct Settings {
  ServerSettings server;
  DatabaseSettings database;
  JobSettings jobs;
  LogSettings log;
  AuthSettings auth;
  SmsSettings sms;
  WecomSettings wecom;
};

struct SettingKeyInfo {
  std::string key;          // "server.listen"
  std::string env;          // "KOI_SERVER_LISTEN"
  std::string type;         // "string", "integer", "boolean"
  std::string default_value;
  std::string description;
};

// Every key that may appear in a config file, in documentation order.
std::vector<SettingKeyInfo> KnownSettingKeys();

// Loads settings. `config_path` may be empty (defaults + environment only); a named file that does not exist is an
// error. `environment` is the process environment as name -> value (only KOI_* names are read).
// Errors: InvalidArgument with reason "bad_config" and a message naming the file, line and key.
Result<Settings> LoadSettings(const std::string& config_path, const std::map<std::string, std::string>& environment);

// Same, from text already in memory (for tests). `origin` names the text in messages.
Result<Settings> ParseSettings(const std::string& text, const std::string& origin,
                               const std::map<std::string, std::string>& environment);

// The process environment as a map (helper for main()).
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace koi
