#include "domain/accounts/accounts.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/utf8.h"
#include "domain/accounts/credentials.h"
#include "domain/accounts/secrets.h"

namespace koi::accounts {
namespace {

using storage::Row;
using storage::Value;

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kUtc8Ms = 8 * kHourMs;

constexpr const char* kAccountColumns =
    "id, team_id, phone, name, role, status, failed_logins, locked_until, last_login_at, last_login_ip, created_at, "
    "password_hash";

std::string_view PurposeName(CodePurpose p) {
  switch (p) {
    case CodePurpose::kRegister: return "register";
    case CodePurpose::kResetPassword: return "reset_password";
    case CodePurpose::kChangePhone: return "change_phone";
  }
  return "";
}

Account AccountFromRow(const Row& r, int64_t now) {
  Account a;
  a.id = AccountId(r.Int(0));
  a.team = TeamId(r.Int(1));
  a.phone = r.Text(2);
  a.name = r.Text(3);
  a.role = r.Text(4) == "admin" ? Role::kAdmin : Role::kMember;
  std::string st = r.Text(5);
  a.status = st == "active" ? AccountStatus::kActive : st == "disabled" ? AccountStatus::kDisabled : AccountStatus::kInvited;
  a.failed_logins = static_cast<int>(r.Int(6));
  if (auto until = r.OptInt(7); until && *until > now) a.locked_until_ms = until;
  a.last_login_ms = r.OptInt(8);
  a.last_login_ip = r.Text(9);
  a.created_at_ms = r.Int(10);
  return a;
}

// Code points of trimmed text, or -1 when it is not valid UTF-8 or holds control characters.
int64_t TextLength(std::string_view s) {
  if (!IsValidUtf8(s)) return -1;
  int64_t n = 0;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return -1;
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

Result<std::string> CheckName(std::string_view raw, int64_t max, const char* reason, const char* what) {
  std::string v = Trim(raw);
  int64_t n = TextLength(v);
  if (n < 1 || n > max)
    return Status::InvalidArgument(reason, std::string(what) + " must be 1-" + std::to_string(max) + " characters");
  return v;
}

std::string CodeHash(const std::string& phone, CodePurpose purpose, std::string_view code) {
  return Sha256Hex(phone + "|" + std::string(PurposeName(purpose)) + "|" + std::string(code));
}

// A hash to verify against when the phone is unknown, so that a wrong phone costs as much time as a wrong password.
const std::string& DummyHash() {
  static const std::string hash = HashPassword("not-a-real-password-1").value_or("");
  return hash;
}

}  // namespace

Status RequireAdmin(const Principal& who) {
  if (!who.is_admin()) return Status::PermissionDenied("admin_only", "only the team's admin account may do this");
  return Status::Ok();
}

std::string_view RoleName(Role role) { return role == Role::kAdmin ? "admin" : "member"; }

std::string_view AccountStatusName(AccountStatus s) {
  switch (s) {
    case AccountStatus::kActive: return "active";
    case AccountStatus::kInvited: return "invited";
    case AccountStatus::kDisabled: return "disabled";
  }
  return "";
}

Result<CodePurpose> ParseCodePurpose(std::string_view text) {
  for (auto p : {CodePurpose::kRegister, CodePurpose::kResetPassword, CodePurpose::kChangePhone})
    if (text == PurposeName(p)) return p;
  return Status::InvalidArgument("invalid_purpose", "purpose must be register, reset_password or change_phone");
}

std::string IpBucket(std::string_view ip) {
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string_view::npos) return std::string(ip.substr(7));
  if (ip.find(':') == std::string_view::npos) return std::string(ip);
  // Expand "::" enough to take the first four groups of an IPv6 address.
  std::vector<std::string> head, tail;
  auto split = [](std::string_view part, std::vector<std::string>& out) {
    while (!part.empty()) {
      auto colon = part.find(':');
      out.emplace_back(part.substr(0, colon));
      if (colon == std::string_view::npos) break;
      part.remove_prefix(colon + 1);
    }
  };
  auto gap = ip.find("::");
  split(ip.substr(0, gap), head);
  if (gap != std::string_view::npos) split(ip.substr(gap + 2), tail);
  std::vector<std::string> groups = head;
  if (gap != std::string_view::npos) {
    while (groups.size() + tail.size() < 8) groups.emplace_back("0");
    groups.insert(groups.end(), tail.begin(), tail.end());
  }
  std::string out;
  for (size_t i = 0; i < 4; ++i) out += (i ? ":" : "") + (i < groups.size() && !groups[i].empty() ? groups[i] : "0");
  return out + "::/64";
}

std::string CsrfTokenFor(std::string_view session_token) {
  return Sha256Hex("koi-csrf|" + std::string(session_token)).substr(0, 43);
}

AccountService::AccountService(storage::Database& db, const Clock& clock, SmsSender& sms, AccountsOptions options)
    : db_(db), clock_(clock), sms_(sms), limiter_(db, clock), options_(options) {}

// ----- helpers ---------------------------------------------------------------------------------------------------

Result<std::optional<Account>> AccountService::FindByPhone(storage::Session& s, const std::string& phone) {
  KOI_ASSIGN_OR_RETURN(auto r, s.Query(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE phone = ?",
                                       {phone}));
  if (r.rows.empty()) return std::optional<Account>();
  return std::optional<Account>(AccountFromRow(r.rows[0], clock_.NowMillis()));
}

Result<Account> AccountService::LoadMember(storage::Session& s, const Principal& who, AccountId id, bool for_change) {
  KOI_RETURN_IF_ERROR(RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(auto r, s.Query(std::string("SELECT ") + kAccountColumns +
                                           " FROM accounts WHERE id = ? AND team_id = ?",
                                       {id.value(), who.team.value()}));
  if (r.rows.empty()) return Status::NotFound("member_not_found", "no such account in this team");
  Account a = AccountFromRow(r.rows[0], clock_.NowMillis());
  if (for_change && a.id == who.account)
    return Status::PermissionDenied("cannot_modify_self", "an admin cannot do this to their own account");
  if (for_change && a.role == Role::kAdmin)
    return Status::PermissionDenied("cannot_modify_admin", "the team's admin account cannot be changed here");
  return a;
}

Result<int64_t> AccountService::CheckCode(const std::string& phone, CodePurpose purpose, std::string_view code) {
  // Its own transaction: a wrong try must be counted even though the caller's request then fails. The try is
  // counted first, atomically (attempts < 5 in the UPDATE), so parallel guesses cannot all slip under the limit.
  Status verdict;
  int64_t code_id = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    verdict = Status::Ok();
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT id, code_hash, attempts, expires_at FROM sms_codes "
                                          "WHERE phone = ? AND purpose = ? AND consumed_at IS NULL "
                                          "ORDER BY id DESC LIMIT 1",
                                          {phone, std::string(PurposeName(purpose))}));
    const Status exceeded = Status::InvalidArgument("sms_code_attempts_exceeded",
                                                    "too many wrong codes; request a new verification code");
    if (r.rows.empty()) {
      verdict = Status::InvalidArgument("sms_code_missing", "request a verification code first");
      return Status::Ok();
    }
    const Row& row = r.rows[0];
    if (row.Int(2) >= kMaxCodeTries) {
      verdict = exceeded;
      return Status::Ok();
    }
    if (row.Int(3) <= clock_.NowMillis()) {
      verdict = Status::InvalidArgument("sms_code_expired", "the verification code has expired; request a new one");
      return Status::Ok();
    }
    KOI_ASSIGN_OR_RETURN(auto counted, tx.Query("UPDATE sms_codes SET attempts = attempts + 1 WHERE id = ? AND "
                                                "attempts < ? RETURNING attempts",
                                                {row.Int(0), int64_t{kMaxCodeTries}}));
    if (counted.rows.empty()) {
      verdict = exceeded;
      return Status::Ok();
    }
    if (SecureEquals(row.Text(1), CodeHash(phone, purpose, code))) {
      code_id = row.Int(0);
      return Status::Ok();
    }
    int64_t left = kMaxCodeTries - counted.rows[0].Int(0);
    verdict = left > 0 ? Status::InvalidArgument("sms_code_invalid",
                                                 "wrong verification code; " + std::to_string(left) + " tries left")
                       : exceeded;
    return Status::Ok();
  }));
  KOI_RETURN_IF_ERROR(verdict);
  return code_id;
}

Status AccountService::ConsumeCode(storage::Session& tx, int64_t code_id) {
  // Consumes exactly the code CheckCode accepted; if a concurrent request used it first, this request fails.
  KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE sms_codes SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL "
                                        "AND expires_at > ?",
                                        {clock_.NowMillis(), code_id, clock_.NowMillis()}));
  if (r.affected_rows != 1) return Status::InvalidArgument("sms_code_missing", "request a verification code first");
  return Status::Ok();
}

Status AccountService::LimitIp(const std::string& kind, const Client& client) {
  // A burst window as well as the 10-minute one: without it one address could spend its whole allowance on
  // password hashing in the first second and stall every worker (bench/results/auth.md).
  std::string bucket = kind + ":" + IpBucket(client.ip);
  KOI_RETURN_IF_ERROR(limiter_.Hit(bucket, kMinuteMs, std::max<int64_t>(10, options_.ip_login_limit / 6)));
  return limiter_.Hit(bucket, 10 * kMinuteMs, options_.ip_login_limit);
}

Result<IssuedSession> AccountService::CreateSession(storage::Session& tx, TeamId team, AccountId account,
                                                    const Client& client) {
  IssuedSession s;
  s.token = RandomToken();
  int64_t now = clock_.NowMillis();
  s.expires_at_ms = now + options_.session_max_ms;
  s.max_age_s = options_.session_max_ms / 1000;
  std::string agent = ToValidUtf8(client.user_agent.substr(0, 300));
  KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO sessions (team_id, account_id, token_hash, created_at, last_seen_at, "
                              "expires_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              {team.value(), account.value(), Sha256Hex(s.token), now, now, s.expires_at_ms,
                               client.ip, agent}));
  return s;
}

Result<LoggedIn> AccountService::PrincipalWithSession(storage::Session& tx, AccountId account, const Client& client) {
  KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT team_id, role, phone, name FROM accounts WHERE id = ?",
                                        {account.value()}));
  if (r.rows.empty()) return Status::NotFound("account_not_found", "the account no longer exists");
  LoggedIn out;
  out.principal.team = TeamId(r.rows[0].Int(0));
  out.principal.account = account;
  out.principal.role = r.rows[0].Text(1) == "admin" ? Role::kAdmin : Role::kMember;
  out.principal.phone = r.rows[0].Text(2);
  out.principal.name = r.rows[0].Text(3);
  KOI_ASSIGN_OR_RETURN(out.session, CreateSession(tx, out.principal.team, account, client));
  KOI_ASSIGN_OR_RETURN(auto id, tx.Query("SELECT id FROM sessions WHERE token_hash = ?", {Sha256Hex(out.session.token)}));
  out.principal.session_id = id.rows.at(0).Int(0);
  return out;
}

Status AccountService::RecordAudit(storage::Session& tx, const Clock& clock, TeamId team, const Principal* actor,
                                   std::string_view action, std::string_view target, std::string_view ip,
                                   std::string_view detail) {
  Value actor_id = actor ? Value(actor->account.value()) : storage::kNull;
  return tx.Exec("INSERT INTO audit_log (team_id, actor_id, actor_phone, actor_name, action, target, ip, detail, "
                 "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 {team.value(), actor_id, actor ? actor->phone : std::string(), actor ? actor->name : std::string(),
                  std::string(action), ToValidUtf8(target), std::string(ip), ToValidUtf8(detail), clock.NowMillis()});
}

void AccountService::SendNotice(SmsMessage message) {
  // Notices are a courtesy: the action already happened, and the person can always use the set-password flow.
  Status s = sms_.Send(message);
  if (!s.ok()) spdlog::warn("notice SMS to {} not sent: {}", MaskPhone(message.phone), s.message());
}

// ----- without a session -----------------------------------------------------------------------------------------

Result<CodeSent> AccountService::SendCode(std::string_view raw_phone, CodePurpose purpose, const Client& client,
                                          const Principal* who) {
  KOI_ASSIGN_OR_RETURN(std::string phone, NormalizePhone(raw_phone));
  if (purpose == CodePurpose::kChangePhone && who == nullptr)
    return Status::Unauthenticated("unauthenticated", "log in to change your phone number");
  KOI_RETURN_IF_ERROR(limiter_.Hit("sms-ip:" + IpBucket(client.ip), kHourMs, options_.sms_ip_hourly_limit));

  std::string code = RandomSixDigitCode();
  int64_t now = clock_.NowMillis();
  // Serializable on PostgreSQL (BEGIN IMMEDIATE on SQLite): two concurrent sends to one phone cannot both pass
  // the 60-second check.
  Status s = db_.Transact(
      [&](storage::Session& tx) -> Status {
        KOI_ASSIGN_OR_RETURN(auto existing, FindByPhone(tx, phone));
        if (purpose != CodePurpose::kResetPassword && existing)
          return Status::AlreadyExists("phone_registered", "this phone number is already registered");
        if (purpose == CodePurpose::kResetPassword) {
          if (!existing) return Status::NotFound("phone_not_registered", "no account uses this phone number");
          if (existing->status == AccountStatus::kDisabled)
            return Status::PermissionDenied("account_disabled", "this account has been disabled by the team's admin");
        }
        // Natural days in China Standard Time, as users count them.
        int64_t day_start = (now + kUtc8Ms) / kDayMs * kDayMs - kUtc8Ms;
        KOI_ASSIGN_OR_RETURN(auto recent, tx.Query("SELECT COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 "
                                                   "END), 0), MAX(created_at) FROM sms_codes WHERE phone = ? AND "
                                                   "created_at >= ?",
                                                   {day_start, phone, std::min(day_start, now - kResendMs)}));
        int64_t today = recent.rows[0].Int(0);
        if (auto last = recent.rows[0].OptInt(1); last && *last > now - kResendMs) {
          int64_t wait = (*last + kResendMs - now + 999) / 1000;
          return Status::ResourceExhausted("sms_too_frequent",
                                           "a code was sent moments ago; try again in " + std::to_string(wait) + " s")
              .WithRetryAfter(wait);
        }
        if (today >= kCodesPerDay) {
          int64_t wait = (day_start + kDayMs - now + 999) / 1000;
          return Status::ResourceExhausted("sms_daily_limit", "this phone has had 10 codes today; try again tomorrow")
              .WithRetryAfter(wait);
        }
        // Only the newest code of a purpose is live.
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE sms_codes SET consumed_at = ? WHERE phone = ? AND purpose = ? AND "
                                    "consumed_at IS NULL",
                                    {now, phone, std::string(PurposeName(purpose))}));
        return tx.Exec("INSERT INTO sms_codes (phone, purpose, code_hash, created_at, expires_at, ip) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       {phone, std::string(PurposeName(purpose)), CodeHash(phone, purpose, code), now,
                        now + kCodeTtlMs, client.ip});
      },
      {.serializable = true});
  KOI_RETURN_IF_ERROR(s);
  Status sent = sms_.Send({.kind = SmsMessage::Kind::kCode, .phone = phone, .code = code});
  if (!sent.ok()) {
    // Undo the code so the person may ask again at once: nothing was delivered.
    Status undo = db_.Exec("DELETE FROM sms_codes WHERE phone = ? AND created_at = ? AND purpose = ?",
                           {phone, now, std::string(PurposeName(purpose))});
    if (!undo.ok()) spdlog::warn("could not withdraw an undelivered code: {}", undo.ToString());
    return sent;
  }
  return CodeSent{};
}

Result<std::pair<std::string, std::string>> AccountService::CheckNewTeam(const RegisterInput& in, std::string& phone) {
  KOI_ASSIGN_OR_RETURN(phone, NormalizePhone(in.phone));
  KOI_RETURN_IF_ERROR(CheckPasswordPolicy(in.password));
  KOI_ASSIGN_OR_RETURN(std::string team_name, CheckName(in.team_name, 50, "invalid_team_name", "the team name"));
  KOI_ASSIGN_OR_RETURN(std::string name, CheckName(in.name, 30, "invalid_name", "your name"));
  return std::make_pair(team_name, name);
}

Result<AccountId> AccountService::InsertTeam(storage::Session& tx, const std::string& phone,
                                             const std::string& team_name, const std::string& name,
                                             const std::string& hash, const Client& client) {
  int64_t now = clock_.NowMillis();
  KOI_ASSIGN_OR_RETURN(auto team, tx.Query("INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id",
                                           {team_name, now}));
  TeamId team_id(team.rows.at(0).Int(0));
  auto acct = tx.Query("INSERT INTO accounts (team_id, phone, name, role, status, password_hash, created_at, "
                       "updated_at) VALUES (?, ?, ?, 'admin', 'active', ?, ?, ?) RETURNING id",
                       {team_id.value(), phone, name, hash, now, now});
  if (!acct.ok() && acct.status().code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("phone_registered", "this phone number is already registered");
  KOI_RETURN_IF_ERROR(acct.status());
  AccountId id(acct->rows.at(0).Int(0));
  Principal admin{.team = team_id, .account = id, .role = Role::kAdmin, .phone = phone, .name = name};
  KOI_RETURN_IF_ERROR(RecordAudit(tx, clock_, team_id, &admin, "team.register", team_name, client.ip));
  return id;
}

Result<LoggedIn> AccountService::Register(const RegisterInput& in, const Client& client) {
  std::string phone;
  KOI_ASSIGN_OR_RETURN(auto names, CheckNewTeam(in, phone));
  KOI_RETURN_IF_ERROR(LimitIp("verify-ip", client));
  KOI_ASSIGN_OR_RETURN(int64_t code_id, CheckCode(phone, CodePurpose::kRegister, in.code));
  // Hash outside the transaction: it takes ~50 ms and SQLite holds its write lock for the whole transaction.
  KOI_ASSIGN_OR_RETURN(std::string hash, HashPassword(in.password));
  LoggedIn out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(ConsumeCode(tx, code_id));
    KOI_ASSIGN_OR_RETURN(AccountId id, InsertTeam(tx, phone, names.first, names.second, hash, client));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET last_login_at = ?, last_login_ip = ? WHERE id = ?",
                                {clock_.NowMillis(), client.ip, id.value()}));
    KOI_ASSIGN_OR_RETURN(out, PrincipalWithSession(tx, id, client));
    return Status::Ok();
  }));
  return out;
}

Result<Principal> AccountService::CreateTeam(const RegisterInput& in) {
  std::string phone;
  KOI_ASSIGN_OR_RETURN(auto names, CheckNewTeam(in, phone));
  KOI_ASSIGN_OR_RETURN(std::string hash, HashPassword(in.password));
  Principal out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(AccountId id, InsertTeam(tx, phone, names.first, names.second, hash, Client{.ip = "cli"}));
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT team_id FROM accounts WHERE id = ?", {id.value()}));
    out = Principal{.team = TeamId(r.rows.at(0).Int(0)), .account = id, .role = Role::kAdmin, .phone = phone,
                    .name = names.second};
    return Status::Ok();
  }));
  return out;
}

Result<Principal> AccountService::FindAdmin(std::string_view raw_phone) {
  KOI_ASSIGN_OR_RETURN(std::string phone, NormalizePhone(raw_phone));
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, team_id, name FROM accounts WHERE phone = ? AND role = 'admin'",
                                         {phone}));
  if (r.rows.empty()) return Status::NotFound("account_not_found", "no admin account uses this phone number");
  return Principal{.team = TeamId(r.rows[0].Int(1)), .account = AccountId(r.rows[0].Int(0)), .role = Role::kAdmin,
                   .phone = phone, .name = r.rows[0].Text(2)};
}

Result<LoggedIn> AccountService::Login(std::string_view raw_phone, std::string_view password, const Client& client) {
  // The per-IP limit comes first: refused attempts cost no hashing.
  KOI_RETURN_IF_ERROR(LimitIp("login-ip", client));
  auto phone = NormalizePhone(raw_phone);
  if (!phone.ok()) return phone.status();
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE phone = ?",
                                         {*phone}));
  const Status bad = Status::Unauthenticated("invalid_credentials", "wrong phone number or password");
  if (r.rows.empty()) {
    VerifyPassword(password, DummyHash());
    return bad;
  }
  int64_t now = clock_.NowMillis();
  Account a = AccountFromRow(r.rows[0], now);
  std::string hash = r.rows[0].Text(11);
  if (a.locked_until_ms) {
    int64_t wait = (*a.locked_until_ms - now + 999) / 1000;
    return Status::ResourceExhausted("account_locked", "too many wrong passwords; try again in " +
                                                           std::to_string(wait) + " s")
        .WithRetryAfter(wait);
  }
  if (a.status == AccountStatus::kInvited || hash.empty())
    return Status::PermissionDenied("account_not_activated",
                                    "this account has no password yet; set one with an SMS code first");
  bool good = VerifyPassword(password, hash);
  Principal actor{.team = a.team, .account = a.id, .role = a.role, .phone = a.phone, .name = a.name};
  if (!good) {
    Status locked;
    KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
      locked = Status::Ok();
      // A lock that has run out starts a fresh count.
      KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE accounts SET failed_logins = CASE WHEN locked_until IS NOT NULL "
                                            "AND locked_until <= ? THEN 1 ELSE failed_logins + 1 END, "
                                            "locked_until = CASE WHEN locked_until <= ? THEN NULL ELSE locked_until "
                                            "END, updated_at = ? WHERE id = ? RETURNING failed_logins",
                                            {now, now, now, a.id.value()}));
      if (u.rows.empty()) return Status::Ok();
      int64_t failures = u.rows[0].Int(0);
      KOI_RETURN_IF_ERROR(RecordAudit(tx, clock_, a.team, &actor, "auth.login_failed", MaskPhone(a.phone), client.ip,
                                      "failures=" + std::to_string(failures)));
      if (failures >= kMaxWrongPasswords) {
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET locked_until = ? WHERE id = ?", {now + kLockMs, a.id.value()}));
        KOI_RETURN_IF_ERROR(RecordAudit(tx, clock_, a.team, &actor, "auth.locked", MaskPhone(a.phone), client.ip,
                                        "minutes=15"));
        locked = Status::ResourceExhausted("account_locked", "too many wrong passwords; try again in 900 s")
                     .WithRetryAfter(kLockMs / 1000);
      }
      return Status::Ok();
    }));
    KOI_RETURN_IF_ERROR(locked);
    return bad;
  }
  if (a.status == AccountStatus::kDisabled)
    return Status::PermissionDenied("account_disabled", "this account has been disabled by the team's admin");
  // Hashes made with weaker limits than today's are upgraded while the password is at hand.
  std::optional<std::string> rehash;
  if (PasswordNeedsRehash(hash)) {
    if (auto h = HashPassword(password); h.ok()) rehash = *h;
  }
  LoggedIn out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    // The lock may have been set by a concurrent wrong guess while this password was being verified.
    KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE accounts SET failed_logins = 0, locked_until = NULL, "
                                          "last_login_at = ?, last_login_ip = ?, updated_at = ? WHERE id = ? AND "
                                          "(locked_until IS NULL OR locked_until <= ?)",
                                          {now, client.ip, now, a.id.value(), now}));
    if (u.affected_rows != 1)
      return Status::ResourceExhausted("account_locked", "too many wrong passwords; try again later")
          .WithRetryAfter(kLockMs / 1000);
    if (rehash) KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET password_hash = ? WHERE id = ?", {*rehash, a.id.value()}));
    KOI_ASSIGN_OR_RETURN(out, PrincipalWithSession(tx, a.id, client));
    return RecordAudit(tx, clock_, a.team, &out.principal, "auth.login", MaskPhone(a.phone), client.ip);
  }));
  return out;
}

Result<LoggedIn> AccountService::ResetPassword(std::string_view raw_phone, std::string_view code,
                                               std::string_view password, const Client& client) {
  KOI_ASSIGN_OR_RETURN(std::string phone, NormalizePhone(raw_phone));
  KOI_RETURN_IF_ERROR(CheckPasswordPolicy(password));
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, status FROM accounts WHERE phone = ?", {phone}));
  if (r.rows.empty()) return Status::NotFound("phone_not_registered", "no account uses this phone number");
  if (r.rows[0].Text(1) == "disabled")
    return Status::PermissionDenied("account_disabled", "this account has been disabled by the team's admin");
  AccountId id(r.rows[0].Int(0));
  KOI_RETURN_IF_ERROR(LimitIp("verify-ip", client));
  KOI_ASSIGN_OR_RETURN(int64_t code_id, CheckCode(phone, CodePurpose::kResetPassword, code));
  KOI_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  LoggedIn out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(ConsumeCode(tx, code_id));
    int64_t now = clock_.NowMillis();
    KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE accounts SET password_hash = ?, status = CASE WHEN status = "
                                          "'invited' THEN 'active' ELSE status END, failed_logins = 0, "
                                          "locked_until = NULL, last_login_at = ?, last_login_ip = ?, updated_at = ? "
                                          "WHERE id = ? AND status <> 'disabled'",
                                          {hash, now, client.ip, now, id.value()}));
    if (u.affected_rows != 1)
      return Status::PermissionDenied("account_disabled", "this account has been disabled by the team's admin");
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {id.value()}));
    KOI_ASSIGN_OR_RETURN(out, PrincipalWithSession(tx, id, client));
    return RecordAudit(tx, clock_, out.principal.team, &out.principal, "auth.password_reset", MaskPhone(phone), client.ip,
                       "sessions_ended=all");
  }));
  return out;
}

Result<Principal> AccountService::Authenticate(std::string_view token) {
  const Status none = Status::Unauthenticated("unauthenticated", "log in first");
  if (token.empty() || token.size() > 100) return none;
  std::string hash = Sha256Hex(token);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT s.id, s.team_id, s.account_id, s.last_seen_at, s.expires_at, a.role, "
                                         "a.status, a.phone, a.name FROM sessions s JOIN accounts a ON a.id = "
                                         "s.account_id WHERE s.token_hash = ?",
                                         {hash}));
  if (r.rows.empty()) return none;
  const Row& row = r.rows[0];
  int64_t now = clock_.NowMillis();
  if (row.Int(4) <= now || row.Int(3) + options_.session_idle_ms <= now || row.Text(6) != "active") {
    KOI_RETURN_IF_ERROR(db_.Exec("DELETE FROM sessions WHERE id = ?", {row.Int(0)}));
    return Status::Unauthenticated("unauthenticated", "your session has ended; log in again");
  }
  if (now - row.Int(3) > kMinuteMs)
    KOI_RETURN_IF_ERROR(db_.Exec("UPDATE sessions SET last_seen_at = ? WHERE id = ?", {now, row.Int(0)}));
  Principal p;
  p.session_id = row.Int(0);
  p.team = TeamId(row.Int(1));
  p.account = AccountId(row.Int(2));
  p.role = row.Text(5) == "admin" ? Role::kAdmin : Role::kMember;
  p.phone = row.Text(7);
  p.name = row.Text(8);
  return p;
}

// ----- with a session --------------------------------------------------------------------------------------------

Status AccountService::Logout(const Principal& who, const Client& client) {
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE id = ? AND account_id = ?",
                                {who.session_id, who.account.value()}));
    return RecordAudit(tx, clock_, who.team, &who, "auth.logout", MaskPhone(who.phone), client.ip);
  });
}

Result<int64_t> AccountService::LogoutAll(const Principal& who, const Client& client) {
  int64_t n = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM sessions WHERE account_id = ?", {who.account.value()}));
    n = r.affected_rows;
    return RecordAudit(tx, clock_, who.team, &who, "auth.logout_all", MaskPhone(who.phone), client.ip,
                       "sessions_ended=" + std::to_string(n));
  }));
  return n;
}

Result<LoggedIn> AccountService::ChangePassword(const Principal& who, std::string_view old_password,
                                                std::string_view new_password, const Client& client) {
  KOI_RETURN_IF_ERROR(CheckPasswordPolicy(new_password));
  Status current = CheckCurrentPassword(who, old_password, client);
  if (current.reason() == "wrong_password")
    return Status::InvalidArgument("wrong_old_password", "the current password is wrong");
  KOI_RETURN_IF_ERROR(current);
  if (old_password == new_password)
    return Status::InvalidArgument("same_password", "the new password must differ from the current one");
  KOI_ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password));
  LoggedIn out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                                {hash, clock_.NowMillis(), who.account.value()}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {who.account.value()}));
    KOI_ASSIGN_OR_RETURN(out, PrincipalWithSession(tx, who.account, client));
    return RecordAudit(tx, clock_, who.team, &who, "account.password_changed", MaskPhone(who.phone), client.ip,
                       "sessions_ended=all");
  }));
  return out;
}

Status AccountService::CheckCurrentPassword(const Principal& who, std::string_view password, const Client& client) {
  // Re-authentication for sensitive changes. Limited per account (a stolen session cannot guess the password
  // quickly) and per address (argon2id costs ~55 ms a try).
  KOI_RETURN_IF_ERROR(LimitIp("reauth-ip", client));
  KOI_RETURN_IF_ERROR(limiter_.Hit("reauth:" + std::to_string(who.account.value()), 15 * kMinuteMs,
                                   kMaxWrongPasswords));
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT password_hash FROM accounts WHERE id = ?", {who.account.value()}));
  if (r.rows.empty()) return Status::Unauthenticated("unauthenticated", "log in first");
  if (!VerifyPassword(password, r.rows[0].Text(0)))
    return Status::InvalidArgument("wrong_password", "the current password is wrong");
  return Status::Ok();
}

Result<LoggedIn> AccountService::ChangePhone(const Principal& who, std::string_view raw_phone, std::string_view code,
                                             std::string_view password, const Client& client) {
  KOI_ASSIGN_OR_RETURN(std::string phone, NormalizePhone(raw_phone));
  if (phone == who.phone) return Status::InvalidArgument("same_phone", "this is already your phone number");
  // The phone is how an account is recovered, so moving it needs the password as well as the new phone's code.
  KOI_RETURN_IF_ERROR(CheckCurrentPassword(who, password, client));
  KOI_ASSIGN_OR_RETURN(int64_t code_id, CheckCode(phone, CodePurpose::kChangePhone, code));
  LoggedIn out;
  std::string team_name;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(ConsumeCode(tx, code_id));
    Status u = tx.Exec("UPDATE accounts SET phone = ?, updated_at = ? WHERE id = ?",
                       {phone, clock_.NowMillis(), who.account.value()});
    if (u.code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists("phone_registered", "this phone number is already registered");
    KOI_RETURN_IF_ERROR(u);
    // Every other session ends: whoever else holds one must log in again with the new phone.
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {who.account.value()}));
    KOI_ASSIGN_OR_RETURN(out, PrincipalWithSession(tx, who.account, client));
    KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT name FROM teams WHERE id = ?", {who.team.value()}));
    team_name = t.rows.at(0).Text(0);
    return RecordAudit(tx, clock_, who.team, &who, "account.phone_changed", MaskPhone(phone), client.ip,
                       "from=" + MaskPhone(who.phone) + " to=" + MaskPhone(phone) + " sessions_ended=all");
  }));
  // The old phone hears of it, so an owner whose session was stolen learns what happened.
  SendNotice({.kind = SmsMessage::Kind::kPhoneChanged, .phone = who.phone, .team_name = team_name});
  return out;
}

Status AccountService::UpdateProfile(const Principal& who, std::string_view raw_name, const Client& client) {
  KOI_ASSIGN_OR_RETURN(std::string name, CheckName(raw_name, 30, "invalid_name", "the name"));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET name = ?, updated_at = ? WHERE id = ?",
                                {name, clock_.NowMillis(), who.account.value()}));
    return RecordAudit(tx, clock_, who.team, &who, "account.profile_changed", name, client.ip);
  });
}

Result<Account> AccountService::GetAccount(const Principal& who) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kAccountColumns +
                                             " FROM accounts WHERE id = ? AND team_id = ?",
                                         {who.account.value(), who.team.value()}));
  if (r.rows.empty()) return Status::Unauthenticated("unauthenticated", "log in first");
  return AccountFromRow(r.rows[0], clock_.NowMillis());
}

Result<Team> AccountService::GetTeam(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, name, created_at FROM teams WHERE id = ?", {team.value()}));
  if (r.rows.empty()) return Status::NotFound("team_not_found", "no such team");
  return Team{TeamId(r.rows[0].Int(0)), r.rows[0].Text(1), r.rows[0].Int(2)};
}

// ----- admin -----------------------------------------------------------------------------------------------------

Result<Paged<Account>> AccountService::ListMembers(const Principal& who, std::string_view query, int page,
                                                   int page_size) {
  KOI_RETURN_IF_ERROR(RequireAdmin(who));
  std::string where = " WHERE team_id = ?";
  std::vector<Value> params{who.team.value()};
  std::string q = Trim(query);
  if (!q.empty()) {
    where += " AND (phone LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')";
    params.push_back(storage::LikeContains(q));
    params.push_back(storage::LikeContains(q));
  }
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM accounts" + where, params));
  params.push_back(int64_t{page_size});
  params.push_back(int64_t{page - 1} * page_size);
  // Admin first, then the newest members.
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(std::string("SELECT ") + kAccountColumns + " FROM accounts" + where +
                                             " ORDER BY CASE WHEN role = 'admin' THEN 0 ELSE 1 END, id DESC "
                                             "LIMIT ? OFFSET ?",
                                         params));
  Paged<Account> out;
  out.total = count.rows[0].Int(0);
  int64_t now = clock_.NowMillis();
  for (const auto& row : r.rows) out.items.push_back(AccountFromRow(row, now));
  return out;
}

Result<Account> AccountService::AddMember(const Principal& who, std::string_view raw_phone, std::string_view raw_name,
                                          const Client& client) {
  KOI_RETURN_IF_ERROR(RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string phone, NormalizePhone(raw_phone));
  KOI_ASSIGN_OR_RETURN(std::string name, CheckName(raw_name, 30, "invalid_name", "the member's name"));
  Account added;
  std::string team_name;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    int64_t now = clock_.NowMillis();
    auto r = tx.Query("INSERT INTO accounts (team_id, phone, name, role, status, created_at, updated_at) "
                      "VALUES (?, ?, ?, 'member', 'invited', ?, ?) RETURNING id",
                      {who.team.value(), phone, name, now, now});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists("phone_registered", "this phone number is already registered");
    KOI_RETURN_IF_ERROR(r.status());
    KOI_ASSIGN_OR_RETURN(added, LoadMember(tx, who, AccountId(r->rows.at(0).Int(0)), false));
    KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT name FROM teams WHERE id = ?", {who.team.value()}));
    team_name = t.rows.at(0).Text(0);
    return RecordAudit(tx, clock_, who.team, &who, "member.added", MaskPhone(phone) + " " + name, client.ip);
  }));
  SendNotice({.kind = SmsMessage::Kind::kInvitation, .phone = phone, .team_name = team_name});
  return added;
}

Result<Account> AccountService::ChangeMember(const Principal& who, AccountId id, const Client& client,
                                             std::string_view action, std::string_view update_sql,
                                             bool end_sessions) {
  Account out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(Account before, LoadMember(tx, who, id, true));
    KOI_RETURN_IF_ERROR(tx.Exec(update_sql, {clock_.NowMillis(), id.value(), who.team.value()}));
    if (end_sessions) KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {id.value()}));
    KOI_ASSIGN_OR_RETURN(out, LoadMember(tx, who, id, false));
    return RecordAudit(tx, clock_, who.team, &who, action, MaskPhone(before.phone) + " " + before.name, client.ip);
  }));
  return out;
}

Result<Account> AccountService::DisableMember(const Principal& who, AccountId id, const Client& client) {
  return ChangeMember(who, id, client, "member.disabled",
                      "UPDATE accounts SET status = 'disabled', updated_at = ? WHERE id = ? AND team_id = ?", true);
}

Result<Account> AccountService::EnableMember(const Principal& who, AccountId id, const Client& client) {
  return ChangeMember(who, id, client, "member.enabled",
                      "UPDATE accounts SET status = CASE WHEN password_hash = '' THEN 'invited' ELSE 'active' END, "
                      "updated_at = ? WHERE id = ? AND team_id = ?",
                      false);
}

Result<Account> AccountService::UnlockMember(const Principal& who, AccountId id, const Client& client) {
  return ChangeMember(who, id, client, "member.unlocked",
                      "UPDATE accounts SET failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ? AND "
                      "team_id = ?",
                      false);
}

Result<Account> AccountService::ResetMemberPassword(const Principal& who, AccountId id, const Client& client) {
  Account out;
  std::string team_name;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(Account before, LoadMember(tx, who, id, true));
    if (before.status == AccountStatus::kDisabled)
      return Status::PermissionDenied("account_disabled", "enable the account before resetting its password");
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE accounts SET password_hash = '', status = 'invited', failed_logins = 0, "
                                "locked_until = NULL, updated_at = ? WHERE id = ? AND team_id = ?",
                                {clock_.NowMillis(), id.value(), who.team.value()}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {id.value()}));
    KOI_ASSIGN_OR_RETURN(out, LoadMember(tx, who, id, false));
    KOI_ASSIGN_OR_RETURN(auto t, tx.Query("SELECT name FROM teams WHERE id = ?", {who.team.value()}));
    team_name = t.rows.at(0).Text(0);
    return RecordAudit(tx, clock_, who.team, &who, "member.password_reset", MaskPhone(before.phone) + " " + before.name,
                       client.ip);
  }));
  SendNotice({.kind = SmsMessage::Kind::kPasswordReset, .phone = out.phone, .team_name = team_name});
  return out;
}

Status AccountService::RemoveMember(const Principal& who, AccountId id, const Client& client) {
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(Account before, LoadMember(tx, who, id, true));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM sessions WHERE account_id = ?", {id.value()}));
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM accounts WHERE id = ? AND team_id = ?", {id.value(), who.team.value()}));
    return RecordAudit(tx, clock_, who.team, &who, "member.removed", MaskPhone(before.phone) + " " + before.name,
                       client.ip);
  });
}

const std::vector<std::string>& AuditActions() {
  static const std::vector<std::string> actions = {
      "team.register",          "auth.login",          "auth.login_failed",     "auth.locked",
      "auth.logout",            "auth.logout_all",     "auth.password_reset",   "account.password_changed",
      "account.phone_changed",  "account.profile_changed", "member.added",    "member.disabled",
      "member.enabled",         "member.removed",      "member.password_reset", "member.unlocked",
      "app.activated",          "wecom.linked",        "member.employee_bound", "member.employee_unbound",
      "tag.created",            "tag.renamed",         "tag.deleted",           "group_tag.created",
      "group_tag.renamed",      "group_tag.deleted",   "customer.exported",
      "fans.subject_set",       "fans.imported",       "fans.deleted",          "wecom.auth_cancelled",
      "media.deleted"};
  return actions;
}

Result<Paged<AuditEntry>> AccountService::ListAudit(const Principal& who, std::string_view action, int page,
                                                    int page_size) {
  KOI_RETURN_IF_ERROR(RequireAdmin(who));
  const auto& known = AuditActions();
  if (!action.empty() && std::find(known.begin(), known.end(), action) == known.end())
    return Status::InvalidArgument("invalid_audit_action", "unknown audit action: " + std::string(action));
  std::string where = " WHERE team_id = ?";
  std::vector<Value> params{who.team.value()};
  if (!action.empty()) {
    where += " AND action = ?";
    params.push_back(std::string(action));
  }
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM audit_log" + where, params));
  params.push_back(int64_t{page_size});
  params.push_back(int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, created_at, actor_id, actor_phone, actor_name, action, target, ip, "
                                         "detail FROM audit_log" + where + " ORDER BY id DESC LIMIT ? OFFSET ?",
                                         params));
  Paged<AuditEntry> out;
  out.total = count.rows[0].Int(0);
  for (const auto& row : r.rows) {
    out.items.push_back(AuditEntry{.id = row.Int(0), .created_at_ms = row.Int(1), .actor_id = row.OptInt(2),
                                   .actor_phone = MaskPhone(row.Text(3)), .actor_name = row.Text(4),
                                   .action = row.Text(5), .target = row.Text(6), .ip = row.Text(7),
                                   .detail = row.Text(8)});
  }
  return out;
}

Result<std::vector<OutboxMessage>> AccountService::Inbox(std::string_view phone, int limit) {
  std::string sql = "SELECT id, phone, text, created_at FROM sms_outbox";
  std::vector<Value> params;
  if (!phone.empty()) {
    sql += " WHERE phone = ?";
    params.push_back(std::string(phone));
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.push_back(int64_t{limit});
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query(sql, params));
  std::vector<OutboxMessage> out;
  for (const auto& row : r.rows) out.push_back({row.Int(0), row.Text(1), row.Text(2), row.Int(3)});
  return out;
}

Result<int64_t> AccountService::Purge() {
  int64_t now = clock_.NowMillis();
  int64_t n = 0;
  KOI_ASSIGN_OR_RETURN(auto s, db_.Query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                                         {now, now - options_.session_idle_ms}));
  KOI_ASSIGN_OR_RETURN(auto c, db_.Query("DELETE FROM sms_codes WHERE created_at < ?", {now - 2 * kDayMs}));
  KOI_ASSIGN_OR_RETURN(auto o, db_.Query("DELETE FROM sms_outbox WHERE created_at < ?", {now - 30 * kDayMs}));
  KOI_ASSIGN_OR_RETURN(int64_t w, limiter_.Purge(now));
  n = s.affected_rows + c.affected_rows + o.affected_rows + w;
  return n;
}

}  // namespace koi::accounts
