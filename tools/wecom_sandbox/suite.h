// The third-party suite (服务商应用) side of the sandbox: what WeCom does when a corp installs an app from a
// service provider (../shared/specs/wecom-api.md §2.2), so Koi's "前往授权" flow runs end to end without WeCom.
//
// - A suite is configured with `koi-wecom-sandbox scenario suite` (ConfigureSuite): its id and secret, the token
//   and EncodingAESKey of its callbacks, the instruction-callback URL (指令回调: suite_ticket, create_auth, …) and
//   the data-callback URL (数据回调; "$CORPID$" in it becomes the installing corp's id).
// - While serving, a suite_ticket is pushed to the instruction URL every 10 minutes (PushSuiteTickets); a ticket is
//   good for 30 minutes, so get_suite_token takes the latest two.
// - service/get_suite_token, get_pre_auth_code (20 minutes, good for one install), set_session_info,
//   get_permanent_code (auth_code good once, 10 minutes) and get_corp_token answer as WeCom does, with its
//   errcodes: 40083 suite id, 40080 secret, 40085 ticket, 40082 / 42009 suite token, 40077 pre_auth_code,
//   40078 auth_code, 40084 permanent code (unknown, or the corp cancelled the install).
// - GET /3rdapp/install?suite_id&pre_auth_code&redirect_uri&state is the authorisation page a corp's admin sees: pick
//   the corp and the app's visible range (everyone, or chosen departments with their subtrees); approving it
//   (POST) records the install, points the corp's callbacks at the suite's data URL, pushes create_auth, and
//   redirects to redirect_uri?auth_code=…&state=…. The corp token from get_corp_token then sees only the visible
//   range (TokenScope: contacts, follow users, customers by member, groups by owner).
// Thread safety: free functions and handlers over a thread-safe storage::Database.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "http/router.h"
#include "storage/database.h"

namespace koi::sandbox {

struct SuiteSpec {
  std::string suite_id = "wwkoisuite000001";
  std::string suite_secret = "koi-suite-secret";
  std::string name = "锦鲤 SCRM";
  std::string token = "koi-suite-token";
  std::string aes_key = "9obpmIuPgXXGw6rJ4Ewmw0bN9Mzb6QOjSEysIiqNQwM";
  std::string instruction_url;  // where suite_ticket and create_auth go (none when empty)
  std::string data_url;         // each installing corp's callback URL; "$CORPID$" is replaced
};

// Creates or updates a suite (AlreadyExists never: the id is the key). The aes_key must be 43 characters.
Status ConfigureSuite(storage::Database& db, const SuiteSpec& spec);

// Queues a suite_ticket for every suite with an instruction URL whose last ticket is 10 minutes old or more (or
// that has none). Returns how many were queued.
Result<int> PushSuiteTickets(storage::Database& db, const Clock& clock);

// The corp's admin uninstalls the suite's app: its permanent code and the corp tokens issued under it stop working,
// and cancel_auth goes to the instruction URL. NotFound when the corp has not installed it.
Status UninstallSuite(storage::Database& db, const Clock& clock, const std::string& suite_id, const std::string& corp_id);

// What a corp access token may see. A self-built app's token, or an install for everyone, sees all.
struct TokenScope {
  bool all = true;
  std::set<int64_t> departments;  // the chosen departments and their subtrees
  std::set<std::string> users;    // members of any of them
  bool SeesUser(const std::string& userid) const { return all || users.count(userid) > 0; }
  bool SeesDepartment(int64_t id) const { return all || departments.count(id) > 0; }
};
Result<TokenScope> LoadTokenScope(storage::Database& db, const std::string& access_token, const std::string& corp_id);
// What `suite_id`'s install in `corp_id` sees; NotFound "not_installed" when the corp has not installed it.
Result<TokenScope> SuiteInstallScope(storage::Database& db, const std::string& suite_id, const std::string& corp_id);
// What the corp's current suite install sees (everything without one): WeCom sends a third-party app the events of
// its visible range only.
Result<TokenScope> InstallScope(storage::Session& tx, const std::string& corp_id);

// The suite a request's suite_access_token belongs to, or WeCom's answer in `error`: 41001 missing, 40082 unknown,
// 42009 expired. Every endpoint a suite calls with its token admits it this way.
bool AdmitSuiteToken(storage::Database& db, const Clock& clock, const http::Request& r, std::string& suite_id,
                     http::Response& error);

class SuiteApi {
 public:
  SuiteApi(storage::Database& db, const Clock& clock, int64_t token_ttl_s = 7200)
      : db_(db), clock_(clock), token_ttl_s_(token_ttl_s) {}
  void AddRoutes(http::Router& router);

  static constexpr int64_t kTicketEveryS = 600, kTicketTtlS = 1800;
  static constexpr int64_t kPreAuthTtlS = 1200, kAuthCodeTtlS = 600;

 private:
  storage::Database& db_;
  const Clock& clock_;
  int64_t token_ttl_s_;
};

}  // namespace koi::sandbox
