// AccountService: teams, their accounts, sessions, SMS verification and the audit log (issue 3).
//
// A team (企业) is created by registering; the registrant is its admin. Admins add member accounts by phone; a
// member starts "invited" (no password) and sets one through the SMS set-password flow. A phone identifies one
// account across all teams.
//
// Rules enforced here (docs/operations.md lists the settings):
// - SMS codes: 6 digits, 5 minutes, single use, dead after 5 wrong tries; one send per phone per 60 s, 10 per
//   natural day (UTC+8), and `sms_ip_hourly_limit` per client IP. Only a phone's newest code of a purpose is live.
// - Passwords: the policy in credentials.h, argon2id, never logged. Five consecutive wrong passwords lock the
//   account for 15 minutes. Login attempts per client IP are limited before any hashing, so a flood from one IP
//   costs one indexed write per request and cannot starve other users' logins.
// - Sessions: a random 32-byte token in an HttpOnly cookie; the database keeps only its SHA-256. Idle and absolute
//   expiry; every session of an account is revoked on a password change or reset, on disable and on removal.
//   The CSRF token of a session is derived from its token (CsrfTokenFor), so it needs no storage.
// - Team scope: every member operation filters on the caller's team; another team's id is "member_not_found".
// - Every change runs in one transaction together with its audit entry: a failure leaves nothing half-done.
//
// Thread safety: thread-safe; all state is in the database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/strong_id.h"
#include "domain/accounts/rate_limiter.h"
#include "domain/accounts/sms.h"
#include "storage/database.h"

namespace koi {
using AccountId = StrongId<struct AccountIdTag>;
}

namespace koi::accounts {

enum class Role { kAdmin, kMember };
enum class AccountStatus { kActive, kInvited, kDisabled };
std::string_view RoleName(Role role);
std::string_view AccountStatusName(AccountStatus status);

struct Account {
  AccountId id;
  TeamId team;
  std::string phone;
  std::string name;
  Role role = Role::kMember;
  AccountStatus status = AccountStatus::kInvited;
  int failed_logins = 0;
  std::optional<int64_t> locked_until_ms;  // set only while the lock is in force
  std::optional<int64_t> last_login_ms;
  std::string last_login_ip;
  int64_t created_at_ms = 0;
};

struct Team {
  TeamId id;
  std::string name;
  int64_t created_at_ms = 0;
};

// Who made a request: resolved from a session token by Authenticate.
struct Principal {
  TeamId team;
  AccountId account;
  Role role = Role::kMember;
  std::string phone;
  std::string name;
  int64_t session_id = 0;
  bool is_admin() const { return role == Role::kAdmin; }
};

// PermissionDenied "admin_only" unless `who` is the team's admin.
Status RequireAdmin(const Principal& who);

struct Client {
  std::string ip;
  std::string user_agent;
};

// Given to the browser once at login; the server keeps only the token's hash.
struct IssuedSession {
  std::string token;
  int64_t expires_at_ms = 0;
  int64_t max_age_s = 0;  // for the cookie: the absolute lifetime
};

struct LoggedIn {
  Principal principal;
  IssuedSession session;
};

enum class CodePurpose { kRegister, kResetPassword, kChangePhone };
Result<CodePurpose> ParseCodePurpose(std::string_view text);

struct CodeSent {
  int expires_in_s = 300;
  int resend_after_s = 60;
};

struct RegisterInput {
  std::string phone, code, password, team_name, name;
};

struct AuditEntry {
  int64_t id = 0;
  int64_t created_at_ms = 0;
  std::optional<int64_t> actor_id;
  std::string actor_phone;  // masked
  std::string actor_name;
  std::string action;
  std::string target;
  std::string ip;
  std::string detail;
};

template <typename T>
struct Paged {
  std::vector<T> items;
  int64_t total = 0;
};

struct OutboxMessage {
  int64_t id = 0;
  std::string phone;
  std::string text;
  int64_t created_at_ms = 0;
};

struct AccountsOptions {
  int64_t session_idle_ms = 12LL * 3600 * 1000;
  int64_t session_max_ms = 7LL * 24 * 3600 * 1000;
  int64_t ip_login_limit = 60;       // per 10 minutes
  int64_t sms_ip_hourly_limit = 30;  // per hour
};

// Every action the audit log records ("member.added", …; detail is space-separated key=value pairs such as
// "failures=3" or "sessions_ended=all", so the console can render it in the user's language).
const std::vector<std::string>& AuditActions();

// The rate-limit key of a client address: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64 prefix, since
// one subscriber usually holds a whole /64.
std::string IpBucket(std::string_view ip);

// The CSRF token that belongs to a session token (HMAC-free derivation: the session token is itself secret).
std::string CsrfTokenFor(std::string_view session_token);

class AccountService {
 public:
  static constexpr int kMaxWrongPasswords = 5;
  static constexpr int64_t kLockMs = 15 * 60 * 1000;
  static constexpr int kMaxCodeTries = 5;
  static constexpr int64_t kCodeTtlMs = 5 * 60 * 1000;
  static constexpr int64_t kResendMs = 60 * 1000;
  static constexpr int kCodesPerDay = 10;

  AccountService(storage::Database& db, const Clock& clock, SmsSender& sms, AccountsOptions options);

  // --- Without a session -----------------------------------------------------------------------------------------
  // `who` is required for kChangePhone (the code goes to the new phone of that account).
  Result<CodeSent> SendCode(std::string_view phone, CodePurpose purpose, const Client& client,
                            const Principal* who = nullptr);
  Result<LoggedIn> Register(const RegisterInput& input, const Client& client);
  // Operator path (koi team create, koi seed-demo): a team and its admin without SMS verification. `input.code` is
  // ignored. Returns the admin; AlreadyExists "phone_registered" when the phone has an account.
  Result<Principal> CreateTeam(const RegisterInput& input);
  // Operator path: the admin account of the team whose admin has this phone (NotFound "account_not_found").
  Result<Principal> FindAdmin(std::string_view phone);
  Result<LoggedIn> Login(std::string_view phone, std::string_view password, const Client& client);
  // Sets a new password after SMS verification: forgot password, and an invited member's first password.
  Result<LoggedIn> ResetPassword(std::string_view phone, std::string_view code, std::string_view password,
                                 const Client& client);
  // The principal of a live session, or Unauthenticated. Refreshes the idle timer at most once a minute.
  Result<Principal> Authenticate(std::string_view token);

  // --- With a session --------------------------------------------------------------------------------------------
  Status Logout(const Principal& who, const Client& client);
  Result<int64_t> LogoutAll(const Principal& who, const Client& client);
  Result<LoggedIn> ChangePassword(const Principal& who, std::string_view old_password, std::string_view new_password,
                                  const Client& client);
  // Needs the current password and a code sent to the new phone; ends every session of the account, issues a new
  // one and tells the old phone by SMS.
  Result<LoggedIn> ChangePhone(const Principal& who, std::string_view phone, std::string_view code,
                               std::string_view password, const Client& client);
  Status UpdateProfile(const Principal& who, std::string_view name, const Client& client);
  Result<Account> GetAccount(const Principal& who);
  Result<Team> GetTeam(TeamId team);

  // --- Admin only (PermissionDenied "admin_only" otherwise) ------------------------------------------------------
  Result<Paged<Account>> ListMembers(const Principal& who, std::string_view query, int page, int page_size);
  Result<Account> AddMember(const Principal& who, std::string_view phone, std::string_view name, const Client& client);
  Result<Account> DisableMember(const Principal& who, AccountId id, const Client& client);
  Result<Account> EnableMember(const Principal& who, AccountId id, const Client& client);
  Result<Account> UnlockMember(const Principal& who, AccountId id, const Client& client);
  Result<Account> ResetMemberPassword(const Principal& who, AccountId id, const Client& client);
  Status RemoveMember(const Principal& who, AccountId id, const Client& client);
  Result<Paged<AuditEntry>> ListAudit(const Principal& who, std::string_view action, int page, int page_size);

  // Records an audit entry inside the caller's transaction (used by later modules, e.g. apps).
  static Status RecordAudit(storage::Session& tx, const Clock& clock, TeamId team, const Principal* actor,
                            std::string_view action, std::string_view target, std::string_view ip,
                            std::string_view detail = "");

  // Development inbox: the newest messages the console SMS provider sent (optionally to one phone).
  Result<std::vector<OutboxMessage>> Inbox(std::string_view phone, int limit);
  bool HasInbox() const { return sms_.HasInbox(); }

  // Housekeeping: expired sessions, old codes and rate windows. Returns rows deleted.
  Result<int64_t> Purge();

 private:
  Result<std::optional<Account>> FindByPhone(storage::Session& s, const std::string& phone);
  Result<Account> LoadMember(storage::Session& s, const Principal& who, AccountId id, bool for_change);
  // Verifies the caller's current password (wrong: "wrong_password"), rate-limited per account and per address.
  Status CheckCurrentPassword(const Principal& who, std::string_view password, const Client& client);
  // One admin change to a member: load (refusing self and the admin), update, optionally end sessions, audit.
  Result<Account> ChangeMember(const Principal& who, AccountId id, const Client& client, std::string_view action,
                               std::string_view update_sql, bool end_sessions);
  // The id of the live code when `code` matches it (the try is counted either way), or the reason it does not.
  Result<int64_t> CheckCode(const std::string& phone, CodePurpose purpose, std::string_view code);
  Status ConsumeCode(storage::Session& tx, int64_t code_id);
  // Per-client-address limits for attempts that guess a secret (logins, codes): a burst window and 10 minutes.
  Status LimitIp(const std::string& kind, const Client& client);
  Result<IssuedSession> CreateSession(storage::Session& tx, TeamId team, AccountId account, const Client& client);
  Result<std::pair<std::string, std::string>> CheckNewTeam(const RegisterInput& input, std::string& phone);
  Result<AccountId> InsertTeam(storage::Session& tx, const std::string& phone, const std::string& team_name,
                               const std::string& name, const std::string& hash, const Client& client);
  Result<LoggedIn> PrincipalWithSession(storage::Session& tx, AccountId account, const Client& client);
  void SendNotice(SmsMessage message);

  storage::Database& db_;
  const Clock& clock_;
  SmsSender& sms_;
  RateLimiter limiter_;
  AccountsOptions options_;
};

}  // namespace koi::accounts
