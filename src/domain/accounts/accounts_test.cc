#include "domain/accounts/accounts.h"

#include <gtest/gtest.h>

#include <set>

#include "domain/accounts/secrets.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::accounts {
namespace {

using testing::TestEngine;

// Keeps what was "sent" so tests can read codes, and can be told to fail.
class RecordingSms final : public SmsSender {
 public:
  std::string_view name() const override { return "test"; }
  Status Send(const SmsMessage& m) override {
    if (fail) return Status::Unavailable("sms_send_failed", "provider down");
    sent.push_back(m);
    return Status::Ok();
  }
  std::string LastCode(const std::string& phone) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->phone == phone && it->kind == SmsMessage::Kind::kCode) return it->code;
    return "";
  }
  std::vector<SmsMessage> sent;
  bool fail = false;
};

const Client kIp1{.ip = "10.0.0.1", .user_agent = "test"};
const Client kIp2{.ip = "10.0.0.2", .user_agent = "test"};
constexpr const char* kPassword = "secret123";

class AccountsTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  // 2026-11-23 10:00 UTC+8
  FakeClock clock_{1'795'392'000'000};
  RecordingSms sms_;
};

#define OPEN_ACCOUNTS(t, svc)                                                     \
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());                                        \
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());                              \
  AccountService svc(*t.db, clock_, sms_, AccountsOptions{.ip_login_limit = 1000, \
                                                          .sms_ip_hourly_limit = 1000})

// Registers a team through the real SMS flow.
Result<LoggedIn> RegisterTeam(AccountService& svc, RecordingSms& sms, const std::string& phone,
                              const std::string& team = "锦鲤测试") {
  KOI_RETURN_IF_ERROR(svc.SendCode(phone, CodePurpose::kRegister, kIp1).status());
  return svc.Register({.phone = phone, .code = sms.LastCode(phone), .password = kPassword, .team_name = team,
                       .name = "管理员"},
                      kIp1);
}

int64_t Count(storage::Database& db, const std::string& table) {
  return db.Query("SELECT COUNT(*) FROM " + table)->rows.at(0).Int(0);
}

TEST_P(AccountsTest, RegisterCreatesTeamAndAdminAndLogsIn) {
  OPEN_ACCOUNTS(t, svc);
  auto r = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->principal.is_admin());
  EXPECT_EQ(r->session.token.size(), 43u);
  auto who = svc.Authenticate(r->session.token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->team, r->principal.team);
  EXPECT_EQ(svc.GetTeam(who->team)->name, "锦鲤测试");
  // Only the token's hash is stored.
  auto stored = t.db->Query("SELECT token_hash FROM sessions")->rows.at(0).Text(0);
  EXPECT_NE(stored, r->session.token);
  EXPECT_EQ(stored, Sha256Hex(r->session.token));
  // The password is stored as argon2id.
  EXPECT_EQ(t.db->Query("SELECT password_hash FROM accounts")->rows.at(0).Text(0).rfind("$argon2id$", 0), 0u);
}

TEST_P(AccountsTest, RegisterValidatesBeforeTouchingTheCode) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(svc.SendCode("13800138000", CodePurpose::kRegister, kIp1).ok());
  std::string code = sms_.LastCode("13800138000");
  RegisterInput in{.phone = "13800138000", .code = code, .password = "short1", .team_name = "T", .name = "N"};
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "weak_password");
  in.password = kPassword;
  in.team_name = "  ";
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "invalid_team_name");
  in.team_name = std::string(51, 'x');
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "invalid_team_name");
  in.team_name = "T";
  in.phone = "12800138000";
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "invalid_phone");
  in.phone = "13800138000";
  // The code is still good after all those refusals.
  EXPECT_TRUE(svc.Register(in, kIp1).ok());
  EXPECT_EQ(Count(*t.db, "teams"), 1);
}

TEST_P(AccountsTest, SmsCodeIsSingleUseAndExpiresAfterFiveMinutes) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(RegisterTeam(svc, sms_, "13800138000").ok());
  // The code was consumed: registering another team with it fails.
  RegisterInput again{.phone = "13800138000", .code = sms_.LastCode("13800138000"), .password = kPassword,
                      .team_name = "T2", .name = "N"};
  EXPECT_EQ(svc.Register(again, kIp1).status().reason(), "sms_code_missing");

  ASSERT_TRUE(svc.SendCode("13900139000", CodePurpose::kRegister, kIp1).ok());
  clock_.Advance(AccountService::kCodeTtlMs);
  RegisterInput late{.phone = "13900139000", .code = sms_.LastCode("13900139000"), .password = kPassword,
                     .team_name = "T3", .name = "N"};
  EXPECT_EQ(svc.Register(late, kIp1).status().reason(), "sms_code_expired");
  EXPECT_EQ(Count(*t.db, "teams"), 1);
}

TEST_P(AccountsTest, FiveWrongCodesKillTheCode) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(svc.SendCode("13800138000", CodePurpose::kRegister, kIp1).ok());
  std::string good = sms_.LastCode("13800138000");
  std::string wrong = good == "000000" ? "111111" : "000000";
  RegisterInput in{.phone = "13800138000", .code = wrong, .password = kPassword, .team_name = "T", .name = "N"};
  for (int i = 0; i < 4; ++i) {
    auto r = svc.Register(in, kIp1);
    EXPECT_EQ(r.status().reason(), "sms_code_invalid");
    EXPECT_NE(r.status().message().find(std::to_string(4 - i) + " tries left"), std::string::npos);
  }
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "sms_code_attempts_exceeded");
  in.code = good;
  EXPECT_EQ(svc.Register(in, kIp1).status().reason(), "sms_code_attempts_exceeded");
  EXPECT_EQ(Count(*t.db, "accounts"), 0);
}

TEST_P(AccountsTest, SmsSendLimitsPerPhoneAndPerDayInChinaTime) {
  OPEN_ACCOUNTS(t, svc);
  const std::string phone = "13800138000";
  ASSERT_TRUE(svc.SendCode(phone, CodePurpose::kRegister, kIp1).ok());
  clock_.Advance(30'000);
  auto again = svc.SendCode(phone, CodePurpose::kRegister, kIp1);
  EXPECT_EQ(again.status().reason(), "sms_too_frequent");
  EXPECT_EQ(again.status().retry_after_seconds(), 30);
  clock_.Advance(30'000);
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(svc.SendCode(phone, CodePurpose::kRegister, kIp1).ok()) << i;
    clock_.Advance(61'000);
  }
  auto eleventh = svc.SendCode(phone, CodePurpose::kRegister, kIp1);
  EXPECT_EQ(eleventh.status().reason(), "sms_daily_limit");
  // Now is 10:10 UTC+8 or so: the limit lifts at midnight China time, about 13 h 50 min away.
  int64_t midnight_utc8 = (clock_.NowMillis() + 8 * 3600'000LL) / 86'400'000LL * 86'400'000LL + 86'400'000LL -
                          8 * 3600'000LL;
  EXPECT_NEAR(eleventh.status().retry_after_seconds(), (midnight_utc8 - clock_.NowMillis()) / 1000, 1);
  clock_.Set(midnight_utc8 + 1000);
  EXPECT_TRUE(svc.SendCode(phone, CodePurpose::kRegister, kIp1).ok());
  // Only the newest code is live.
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM sms_codes WHERE consumed_at IS NULL")->rows.at(0).Int(0), 1);
}

TEST_P(AccountsTest, SmsPerIpLimit) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  AccountService svc(*t.db, clock_, sms_, AccountsOptions{.sms_ip_hourly_limit = 3});
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(svc.SendCode("1380013800" + std::to_string(i), CodePurpose::kRegister, kIp1).ok());
  auto refused = svc.SendCode("13800138009", CodePurpose::kRegister, kIp1);
  EXPECT_EQ(refused.status().reason(), "rate_limited");
  EXPECT_GT(refused.status().retry_after_seconds(), 0);
  EXPECT_TRUE(svc.SendCode("13800138009", CodePurpose::kRegister, kIp2).ok());  // other IPs unaffected
}

TEST_P(AccountsTest, FailedDeliveryWithdrawsTheCode) {
  OPEN_ACCOUNTS(t, svc);
  sms_.fail = true;
  EXPECT_EQ(svc.SendCode("13800138000", CodePurpose::kRegister, kIp1).status().reason(), "sms_send_failed");
  sms_.fail = false;
  EXPECT_TRUE(svc.SendCode("13800138000", CodePurpose::kRegister, kIp1).ok());  // no 60 s wait
}

TEST_P(AccountsTest, RegisteredPhoneIsRefusedBeforeAnySmsIsSent) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(RegisterTeam(svc, sms_, "13800138000").ok());
  size_t before = sms_.sent.size();
  clock_.Advance(61'000);
  EXPECT_EQ(svc.SendCode("13800138000", CodePurpose::kRegister, kIp1).status().reason(), "phone_registered");
  EXPECT_EQ(sms_.sent.size(), before);
}

TEST_P(AccountsTest, FiveWrongPasswordsLockForFifteenMinutes) {
  OPEN_ACCOUNTS(t, svc);
  auto admin = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(admin.ok());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(svc.Login("13800138000", "wrong1234", kIp1).status().reason(), "invalid_credentials");
  auto fifth = svc.Login("13800138000", "wrong1234", kIp1);
  EXPECT_EQ(fifth.status().reason(), "account_locked");
  EXPECT_EQ(fifth.status().retry_after_seconds(), 900);
  // Locked: even the right password is refused, with the time left.
  clock_.Advance(5 * 60'000);
  auto locked = svc.Login("13800138000", kPassword, kIp1);
  EXPECT_EQ(locked.status().reason(), "account_locked");
  EXPECT_EQ(locked.status().retry_after_seconds(), 600);
  // The admin sees the lock and the failures.
  auto list = svc.ListMembers(admin->principal, "", 1, 20);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.at(0).failed_logins, 5);
  EXPECT_TRUE(list->items.at(0).locked_until_ms.has_value());
  clock_.Advance(10 * 60'000);
  // After the lock one wrong try does not lock again at once.
  EXPECT_EQ(svc.Login("13800138000", "wrong1234", kIp1).status().reason(), "invalid_credentials");
  auto ok = svc.Login("13800138000", kPassword, kIp1);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(svc.GetAccount(ok->principal)->failed_logins, 0);
  auto audit = svc.ListAudit(admin->principal, "auth.locked", 1, 10);
  EXPECT_EQ(audit->total, 1);
}

TEST_P(AccountsTest, UnknownPhoneAndBadPasswordLookTheSame) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(RegisterTeam(svc, sms_, "13800138000").ok());
  auto unknown = svc.Login("13900139000", kPassword, kIp1);
  auto wrong = svc.Login("13800138000", "wrong1234", kIp1);
  EXPECT_EQ(unknown.status().reason(), "invalid_credentials");
  EXPECT_EQ(unknown.status(), wrong.status());
}

TEST_P(AccountsTest, LoginFloodFromOneIpIsRefusedWithoutHashing) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  AccountService svc(*t.db, clock_, sms_, AccountsOptions{.ip_login_limit = 5, .sms_ip_hourly_limit = 100});
  ASSERT_TRUE(RegisterTeam(svc, sms_, "13800138000").ok());
  for (int i = 0; i < 5; ++i) (void)svc.Login("13900139000", "wrong1234", kIp1);
  auto refused = svc.Login("13800138000", kPassword, kIp1);
  EXPECT_EQ(refused.status().reason(), "rate_limited");
  EXPECT_TRUE(svc.Login("13800138000", kPassword, kIp2).ok());
  clock_.Advance(10 * 60'000);
  EXPECT_TRUE(svc.Login("13800138000", kPassword, kIp1).ok());
}

TEST_P(AccountsTest, SessionsExpireWhenIdleAndAtTheirAbsoluteLimit) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  AccountService svc(*t.db, clock_, sms_,
                     AccountsOptions{.session_idle_ms = 3600'000, .session_max_ms = 3 * 3600'000,
                                     .sms_ip_hourly_limit = 100});
  auto r = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(r.ok());
  // Used every 50 minutes: the idle timer keeps resetting, until the absolute limit.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(50 * 60'000);
    ASSERT_TRUE(svc.Authenticate(r->session.token).ok()) << i;
  }
  clock_.Advance(40 * 60'000);  // 190 minutes after login
  EXPECT_EQ(svc.Authenticate(r->session.token).status().reason(), "unauthenticated");

  auto again = svc.Login("13800138000", kPassword, kIp1);
  ASSERT_TRUE(again.ok());
  clock_.Advance(61 * 60'000);
  EXPECT_EQ(svc.Authenticate(again->session.token).status().reason(), "unauthenticated");
  EXPECT_EQ(svc.Authenticate("").status().reason(), "unauthenticated");
  EXPECT_EQ(svc.Authenticate("forged-token").status().reason(), "unauthenticated");
}

TEST_P(AccountsTest, PasswordChangeAndResetRevokeEverySession) {
  OPEN_ACCOUNTS(t, svc);
  auto first = RegisterTeam(svc, sms_, "13800138000");
  auto second = svc.Login("13800138000", kPassword, kIp2);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(svc.ChangePassword(first->principal, "wrong1234", "newpass123", kIp1).status().reason(),
            "wrong_old_password");
  EXPECT_EQ(svc.ChangePassword(first->principal, kPassword, kPassword, kIp1).status().reason(), "same_password");
  auto changed = svc.ChangePassword(first->principal, kPassword, "newpass123", kIp1);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(svc.Authenticate(first->session.token).ok());
  EXPECT_FALSE(svc.Authenticate(second->session.token).ok());
  EXPECT_TRUE(svc.Authenticate(changed->session.token).ok());
  EXPECT_FALSE(svc.Login("13800138000", kPassword, kIp1).ok());

  // Forgot password: the SMS flow sets a new one and ends every older session.
  clock_.Advance(61'000);
  ASSERT_TRUE(svc.SendCode("13800138000", CodePurpose::kResetPassword, kIp1).ok());
  auto reset = svc.ResetPassword("13800138000", sms_.LastCode("13800138000"), "third1234", kIp1);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_FALSE(svc.Authenticate(changed->session.token).ok());
  EXPECT_TRUE(svc.Login("13800138000", "third1234", kIp1).ok());
}

TEST_P(AccountsTest, InvitedMemberSetsAPasswordBySmsThenLogsIn) {
  OPEN_ACCOUNTS(t, svc);
  auto admin = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(admin.ok());
  auto member = svc.AddMember(admin->principal, "139 0013 9000", "小李", kIp1);
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_EQ(member->status, AccountStatus::kInvited);
  ASSERT_FALSE(sms_.sent.empty());
  EXPECT_EQ(sms_.sent.back().kind, SmsMessage::Kind::kInvitation);
  EXPECT_EQ(sms_.sent.back().team_name, "锦鲤测试");
  EXPECT_EQ(svc.Login("13900139000", "anything1", kIp1).status().reason(), "account_not_activated");
  ASSERT_TRUE(svc.SendCode("13900139000", CodePurpose::kResetPassword, kIp1).ok());
  auto set = svc.ResetPassword("13900139000", sms_.LastCode("13900139000"), "member123", kIp1);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_FALSE(set->principal.is_admin());
  EXPECT_EQ(svc.GetAccount(set->principal)->status, AccountStatus::kActive);
  // A member is refused every admin operation.
  EXPECT_EQ(svc.ListMembers(set->principal, "", 1, 20).status().reason(), "admin_only");
  EXPECT_EQ(svc.AddMember(set->principal, "13700137000", "x", kIp1).status().reason(), "admin_only");
  EXPECT_EQ(svc.ListAudit(set->principal, "", 1, 20).status().reason(), "admin_only");
  EXPECT_EQ(svc.DisableMember(set->principal, admin->principal.account, kIp1).status().reason(), "admin_only");
}

TEST_P(AccountsTest, AdminManagesMembersWithinItsTeamOnly) {
  OPEN_ACCOUNTS(t, svc);
  auto a = RegisterTeam(svc, sms_, "13800138000", "甲公司");
  auto b = RegisterTeam(svc, sms_, "13800138001", "乙公司");
  ASSERT_TRUE(a.ok() && b.ok());
  auto m = svc.AddMember(a->principal, "13900139000", "甲的成员", kIp1);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(svc.AddMember(b->principal, "13900139000", "x", kIp1).status().reason(), "phone_registered");
  // Team B's admin cannot see or touch team A's member.
  EXPECT_EQ(svc.ListMembers(b->principal, "", 1, 20)->total, 1);
  EXPECT_EQ(svc.DisableMember(b->principal, m->id, kIp1).status().reason(), "member_not_found");
  EXPECT_EQ(svc.EnableMember(b->principal, m->id, kIp1).status().reason(), "member_not_found");
  EXPECT_EQ(svc.UnlockMember(b->principal, m->id, kIp1).status().reason(), "member_not_found");
  EXPECT_EQ(svc.ResetMemberPassword(b->principal, m->id, kIp1).status().reason(), "member_not_found");
  EXPECT_EQ(svc.RemoveMember(b->principal, m->id, kIp1).code(), StatusCode::kNotFound);
  EXPECT_EQ(svc.ListAudit(b->principal, "member.added", 1, 20)->total, 0);
  // Self and admin protection.
  EXPECT_EQ(svc.DisableMember(a->principal, a->principal.account, kIp1).status().reason(), "cannot_modify_self");
  EXPECT_EQ(svc.RemoveMember(a->principal, a->principal.account, kIp1).reason(), "cannot_modify_self");
  // Search by phone digits and by name.
  EXPECT_EQ(svc.ListMembers(a->principal, "39000", 1, 20)->total, 1);
  EXPECT_EQ(svc.ListMembers(a->principal, "成员", 1, 20)->total, 1);
  EXPECT_EQ(svc.ListMembers(a->principal, "%", 1, 20)->total, 0);
  EXPECT_EQ(svc.ListMembers(a->principal, "", 2, 1)->items.size(), 1u);
}

TEST_P(AccountsTest, DisableEndsSessionsAndRemoveFreesThePhone) {
  OPEN_ACCOUNTS(t, svc);
  auto admin = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(admin.ok());
  auto m = svc.AddMember(admin->principal, "13900139000", "小李", kIp1);
  ASSERT_TRUE(svc.SendCode("13900139000", CodePurpose::kResetPassword, kIp1).ok());
  auto member = svc.ResetPassword("13900139000", sms_.LastCode("13900139000"), "member123", kIp1);
  ASSERT_TRUE(member.ok());
  auto disabled = svc.DisableMember(admin->principal, m->id, kIp1);
  ASSERT_TRUE(disabled.ok());
  EXPECT_EQ(disabled->status, AccountStatus::kDisabled);
  EXPECT_FALSE(svc.Authenticate(member->session.token).ok());
  EXPECT_EQ(svc.Login("13900139000", "member123", kIp1).status().reason(), "account_disabled");
  clock_.Advance(61'000);
  EXPECT_EQ(svc.SendCode("13900139000", CodePurpose::kResetPassword, kIp1).status().reason(), "account_disabled");
  EXPECT_EQ(svc.EnableMember(admin->principal, m->id, kIp1)->status, AccountStatus::kActive);
  EXPECT_TRUE(svc.Login("13900139000", "member123", kIp1).ok());
  // Reset by the admin: back to invited, sessions gone, notice sent.
  auto reset = svc.ResetMemberPassword(admin->principal, m->id, kIp1);
  ASSERT_TRUE(reset.ok());
  EXPECT_EQ(reset->status, AccountStatus::kInvited);
  EXPECT_EQ(sms_.sent.back().kind, SmsMessage::Kind::kPasswordReset);
  EXPECT_EQ(svc.Login("13900139000", "member123", kIp1).status().reason(), "account_not_activated");
  ASSERT_TRUE(svc.RemoveMember(admin->principal, m->id, kIp1).ok());
  EXPECT_EQ(Count(*t.db, "accounts"), 1);
  EXPECT_TRUE(svc.AddMember(admin->principal, "13900139000", "回来了", kIp1).ok());
  auto audit = svc.ListAudit(admin->principal, "", 1, 50);
  std::set<std::string> actions;
  for (const auto& e : audit->items) actions.insert(e.action);
  for (const char* want : {"team.register", "member.added", "member.disabled", "member.enabled",
                           "member.password_reset", "member.removed", "auth.password_reset"})
    EXPECT_TRUE(actions.count(want)) << want;
  EXPECT_EQ(audit->items.front().actor_phone, "138****8000");
  EXPECT_EQ(svc.ListAudit(admin->principal, "nope", 1, 50).status().reason(), "invalid_audit_action");
  for (const auto& e : audit->items)  // phones in targets are masked too
    EXPECT_EQ(e.target.find("13900139000"), std::string::npos) << e.action << " " << e.target;
  EXPECT_EQ(audit->items.front().ip, "10.0.0.1");
}

TEST_P(AccountsTest, ChangePhoneNeedsThePasswordAndACodeSentToTheNewNumber) {
  OPEN_ACCOUNTS(t, svc);
  auto a = RegisterTeam(svc, sms_, "13800138000");
  auto b = RegisterTeam(svc, sms_, "13800138001");
  auto other_device = svc.Login("13800138000", kPassword, kIp2);
  ASSERT_TRUE(a.ok() && b.ok() && other_device.ok());
  EXPECT_EQ(svc.SendCode("13700137000", CodePurpose::kChangePhone, kIp1).status().reason(), "unauthenticated");
  EXPECT_EQ(svc.SendCode("13800138001", CodePurpose::kChangePhone, kIp1, &a->principal).status().reason(),
            "phone_registered");
  EXPECT_EQ(svc.ChangePhone(a->principal, "13800138000", "123456", kPassword, kIp1).status().reason(), "same_phone");
  ASSERT_TRUE(svc.SendCode("13700137000", CodePurpose::kChangePhone, kIp1, &a->principal).ok());
  std::string code = sms_.LastCode("13700137000");
  // A stolen session without the password cannot move the phone (and the code is not spent by trying).
  EXPECT_EQ(svc.ChangePhone(a->principal, "13700137000", code, "wrong1234", kIp1).status().reason(), "wrong_password");
  auto moved = svc.ChangePhone(a->principal, "13700137000", code, kPassword, kIp1);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_FALSE(svc.Authenticate(other_device->session.token).ok());  // every other session ended
  EXPECT_TRUE(svc.Authenticate(moved->session.token).ok());
  EXPECT_EQ(sms_.sent.back().kind, SmsMessage::Kind::kPhoneChanged);
  EXPECT_EQ(sms_.sent.back().phone, "13800138000");  // the old phone is told
  EXPECT_TRUE(svc.Login("13700137000", kPassword, kIp1).ok());
  EXPECT_EQ(svc.Login("13800138000", kPassword, kIp1).status().reason(), "invalid_credentials");
}

TEST_P(AccountsTest, PasswordGuessesThroughAStolenSessionAreLimited) {
  OPEN_ACCOUNTS(t, svc);
  auto a = RegisterTeam(svc, sms_, "13800138000");
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < AccountService::kMaxWrongPasswords; ++i)
    EXPECT_EQ(svc.ChangePassword(a->principal, "guess" + std::to_string(i) + "x1", "newpass123", kIp1).status().reason(),
              "wrong_old_password");
  auto limited = svc.ChangePassword(a->principal, kPassword, "newpass123", kIp1);
  EXPECT_EQ(limited.status().reason(), "rate_limited");
  EXPECT_GT(limited.status().retry_after_seconds(), 0);
  clock_.Advance(15 * 60'000);
  EXPECT_TRUE(svc.ChangePassword(a->principal, kPassword, "newpass123", kIp1).ok());
}

TEST(IpBucket, GroupsIpv6ByItsSlash64) {
  EXPECT_EQ(IpBucket("10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(IpBucket("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(IpBucket("2001:db8:1:2:aaaa::1"), IpBucket("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
  EXPECT_NE(IpBucket("2001:db8:1:2::1"), IpBucket("2001:db8:1:3::1"));
  EXPECT_EQ(IpBucket("2001:db8::1"), "2001:db8:0:0::/64");
  EXPECT_EQ(IpBucket("::1"), "0:0:0:0::/64");
}

TEST_P(AccountsTest, LogoutAndLogoutAll) {
  OPEN_ACCOUNTS(t, svc);
  auto a = RegisterTeam(svc, sms_, "13800138000");
  auto b = svc.Login("13800138000", kPassword, kIp2);
  auto c = svc.Login("13800138000", kPassword, kIp2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto who = svc.Authenticate(b->session.token);
  ASSERT_TRUE(svc.Logout(*who, kIp2).ok());
  EXPECT_FALSE(svc.Authenticate(b->session.token).ok());
  EXPECT_TRUE(svc.Authenticate(a->session.token).ok());
  EXPECT_EQ(*svc.LogoutAll(*svc.Authenticate(c->session.token), kIp2), 2);
  EXPECT_FALSE(svc.Authenticate(a->session.token).ok());
}

TEST_P(AccountsTest, PurgeRemovesExpiredRows) {
  OPEN_ACCOUNTS(t, svc);
  ASSERT_TRUE(RegisterTeam(svc, sms_, "13800138000").ok());
  clock_.Advance(8LL * 24 * 3600'000);
  auto n = svc.Purge();
  ASSERT_TRUE(n.ok());
  EXPECT_GE(*n, 2);  // the session and the code (and the rate window)
  EXPECT_EQ(Count(*t.db, "sessions"), 0);
  EXPECT_EQ(Count(*t.db, "sms_codes"), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, AccountsTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

TEST(TencentSms, SignsRequestsWithTc3HmacSha256) {
  // Expected signature computed independently (Python's hmac/hashlib) from Tencent Cloud's published algorithm.
  TencentSmsConfig c{.secret_id = "AKIDEXAMPLE", .secret_key = "SecretKeyExample"};
  auto r = SignTencentRequest(c, "sms", "SendSms", "2021-01-11", R"({"PhoneNumberSet":["+8613800138000"]})",
                              1700000000);
  EXPECT_EQ(r.url, "https://sms.tencentcloudapi.com");
  std::string auth;
  for (const auto& [k, v] : r.headers)
    if (k == "Authorization") auth = v;
  EXPECT_EQ(auth,
            "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host, "
            "Signature=4df863d4bceea098e1241de38efb621e59d18a65cc6f5b12aeae13f3f295156a");
}

TEST(Secrets, TokensCodesAndMasks) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string code = RandomSixDigitCode();
    ASSERT_EQ(code.size(), 6u);
    ASSERT_EQ(code.find_first_not_of("0123456789"), std::string::npos) << code;
    seen.insert(RandomToken());
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(MaskPhone("13812345678"), "138****5678");
  EXPECT_TRUE(SecureEquals("abc", "abc"));
  EXPECT_FALSE(SecureEquals("abc", "abd"));
  EXPECT_NE(CsrfTokenFor("a"), CsrfTokenFor("b"));
}

}  // namespace
}  // namespace koi::accounts
