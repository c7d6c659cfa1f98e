// The WeCom link end to end against koi-wecom-sandbox in process: link a corp, run the full sync as the durable
// job, and compare Koi's mirror with the sandbox's world row for row — also after an outage mid-sync, and after
// WeCom-side deletions. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "storage/migrations/migrations.h"
#include "wecom_fixture.h"

namespace koi::wecom_link {
namespace {

using testing::TestEngine;

class WecomSyncTest : public WecomBench {};

TEST_P(WecomSyncTest, LinksTheCorpAndMirrorsItExactlyEvenAcrossAnOutage) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  StartSandbox(2000);
  accounts::AccountService accounts(*t.db, clock_, sms_, {});
  auto admin = accounts.CreateTeam({.phone = "13800138000", .password = "secret123", .team_name = "甲", .name = "王"});
  ASSERT_TRUE(admin.ok());
  jobs::JobQueue queue(*t.db, clock_);
  WecomLink link(*t.db, clock_, queue, *client_, box_);

  // Bad input is refused before anything is stored.
  LinkInput in{.corp_id = spec_.corp_id, .secret = spec_.secret, .callback_token = "tok", .encoding_aes_key = kAesKey};
  LinkInput bad = in;
  bad.encoding_aes_key = "short";
  EXPECT_EQ(link.LinkSelfBuilt(*admin, bad, {}).status().reason(), "callback_bad_aes_key");
  bad = in;
  bad.secret = "wrong";
  EXPECT_EQ(link.LinkSelfBuilt(*admin, bad, {}).status().reason(), "wecom_invalid_credential");
  EXPECT_FALSE(link.State(admin->team)->linked);

  auto linked = link.LinkSelfBuilt(*admin, in, {.ip = "10.0.0.1"});
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  EXPECT_TRUE(linked->linked);
  EXPECT_EQ(linked->corp_name, spec_.corp_name);
  ASSERT_TRUE(linked->sync.has_value());
  EXPECT_EQ(linked->sync->state, "queued");
  // The secret is sealed at rest.
  auto stored = t.db->Query("SELECT secret_enc FROM wecom_corps")->rows.at(0).Text(0);
  EXPECT_EQ(stored.find(spec_.secret), std::string::npos);
  EXPECT_EQ(link.Credentials(admin->team)->secret, spec_.secret);

  // WeCom goes away in the middle of the customers phase: the job fails retryably, keeping its checkpoint.
  down_after_ = 60;
  Status first = RunSyncOnce(queue, link);
  EXPECT_FALSE(first.ok());
  EXPECT_TRUE(first.IsRetryable()) << first.ToString();
  auto mid = link.State(admin->team);
  EXPECT_GT(mid->counts.follows, 0);  // committed pages stay
  EXPECT_NE(mid->sync->phase, "departments");
  EXPECT_EQ(mid->sync->state, "queued");  // waiting to retry, and saying until when
  ASSERT_TRUE(mid->sync->next_attempt_at_ms.has_value());
  EXPECT_GT(*mid->sync->next_attempt_at_ms, mid->sync->created_at_ms);
  const int64_t batch_calls_before = sandbox_->CallCounts()[{spec_.corp_id, "/cgi-bin/externalcontact/batch/get_by_user"}];

  // It comes back; the same job resumes from its checkpoint and finishes.
  down_after_ = -1;
  Status second = RunSyncOnce(queue, link);
  ASSERT_TRUE(second.ok()) << second.ToString();
  auto done = link.State(admin->team);
  EXPECT_EQ(done->sync->state, "succeeded");
  EXPECT_EQ(done->sync->phase, "done");
  EXPECT_FALSE(done->sync->next_attempt_at_ms.has_value());
  EXPECT_TRUE(done->last_synced_at_ms.has_value());
  EXPECT_EQ(done->sync->progress_done, done->sync->progress_total);
  ExpectMirrorEqualsWorld(*t.db, admin->team);
  // Resumed, not restarted: the pages before the outage were not fetched again (2000 customers, 100 a page).
  const int64_t batch_calls = sandbox_->CallCounts()[{spec_.corp_id, "/cgi-bin/externalcontact/batch/get_by_user"}];
  EXPECT_LT(batch_calls, batch_calls_before + 35);

  // WeCom-side changes: a relationship and an employee disappear; a second sync drops them and nothing else.
  ASSERT_TRUE(world_->Exec("DELETE FROM follows WHERE rowid IN (SELECT rowid FROM follows LIMIT 7)").ok());
  ASSERT_TRUE(world_->Exec("UPDATE employees SET status = 5 WHERE userid = (SELECT MIN(userid) FROM employees WHERE "
                           "status = 1)").ok());
  ASSERT_TRUE(link.StartFullSync(*admin).ok());
  ASSERT_TRUE(RunSyncOnce(queue, link).ok());
  ExpectMirrorEqualsWorld(*t.db, admin->team);

  // A member may not link or sync; another team may not take the corp.
  accounts::Principal member = *admin;
  member.role = accounts::Role::kMember;
  EXPECT_EQ(link.StartFullSync(member).status().reason(), "admin_only");
  auto other = accounts.CreateTeam({.phone = "13800138001", .password = "secret123", .team_name = "乙", .name = "李"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(link.LinkSelfBuilt(*other, in, {}).status().reason(), "corp_linked_elsewhere");
  EXPECT_FALSE(link.State(other->team)->linked);
  EXPECT_EQ(link.ListEmployees(other->team, "", 1, 20)->total, 0);
  EXPECT_GT(link.ListEmployees(admin->team, "", 1, 20)->total, 0);
}

// A corp with more than 1,000 employees: WeCom refuses to list its groups without an owner filter (81017), so the
// sync lists them by owner, a hundred employees a call, and still mirrors every group.
TEST_P(WecomSyncTest, ListsTheGroupsOfALargeCorpByOwner) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  StartSandbox(400, 1050, 30);
  accounts::AccountService accounts(*t.db, clock_, sms_, {});
  auto admin = accounts.CreateTeam({.phone = "13800138000", .password = "secret123", .team_name = "甲", .name = "王"});
  ASSERT_TRUE(admin.ok());
  jobs::JobQueue queue(*t.db, clock_);
  WecomLink link(*t.db, clock_, queue, *client_, box_);
  auto linked = link.LinkSelfBuilt(*admin, {.corp_id = spec_.corp_id, .secret = spec_.secret, .callback_token = "t",
                                            .encoding_aes_key = kAesKey}, {});
  ASSERT_TRUE(linked.ok()) << linked.status().ToString();
  ASSERT_TRUE(RunSyncOnce(queue, link).ok());
  EXPECT_EQ(world_->Query("SELECT COUNT(*) FROM group_chats")->rows.at(0).Int(0), 30);
  ExpectMirrorEqualsWorld(*t.db, admin->team);
  const auto calls = sandbox_->CallCounts();
  // One refused unfiltered call, then one per hundred employees.
  EXPECT_EQ(calls.at({spec_.corp_id, "/cgi-bin/externalcontact/groupchat/list"}), 1 + 11);

  // A group owner resigns: WeCom no longer lists him, but his groups stay his until handed over, and a later full
  // sync (by owner again) keeps them.
  ASSERT_TRUE(world_->Exec("UPDATE employees SET status = 5 WHERE corp_id = ? AND userid = (SELECT owner FROM "
                           "group_chats ORDER BY chat_id LIMIT 1)", {spec_.corp_id}).ok());
  clock_.Advance(60'000);
  ASSERT_TRUE(link.StartFullSync(admin->team).ok());
  Status again = RunSyncOnce(queue, link);
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM wecom_group_chats WHERE team_id = ?", {admin->team.value()})->rows.at(0).Int(0),
            30);
  ExpectMirrorEqualsWorld(*t.db, admin->team);
}

INSTANTIATE_TEST_SUITE_P(Engines, WecomSyncTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::wecom_link
