#include "domain/apps/apps.h"

#include <gtest/gtest.h>

#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::apps {
namespace {

using testing::TestEngine;

class AppsTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  FakeClock clock_;
};

// A team and its admin straight in the tables (the accounts service is tested on its own).
accounts::Principal MakeTeam(storage::Database& db, int64_t n, accounts::Role role = accounts::Role::kAdmin) {
  EXPECT_TRUE(db.Exec("INSERT INTO teams (id, name, created_at) VALUES (?, ?, 0)", {n, "team"}).ok());
  EXPECT_TRUE(db.Exec("INSERT INTO accounts (id, team_id, phone, name, role, status, created_at, updated_at) "
                      "VALUES (?, ?, ?, '管理员', ?, 'active', 0, 0)",
                      {n, n, "1380013800" + std::to_string(n),
                       std::string(role == accounts::Role::kAdmin ? "admin" : "member")})
                  .ok());
  return {.team = TeamId(n), .account = AccountId(n), .role = role, .phone = "1380013800" + std::to_string(n),
          .name = "管理员"};
}

TEST_P(AppsTest, AdminActivatesEachAppOncePerTeam) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  AppService apps(*t.db, clock_);
  auto a = MakeTeam(*t.db, 1);
  auto b = MakeTeam(*t.db, 2);
  auto list = apps.List(a.team);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).key, "scrm");
  EXPECT_FALSE(list->at(0).activated);
  EXPECT_EQ(apps.RequireActivated(a.team, "scrm").reason(), "app_not_activated");

  auto on = apps.Activate(a, "scrm", "10.0.0.1");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->activated);
  EXPECT_EQ(on->activated_by_name, "管理员");
  EXPECT_TRUE(apps.RequireActivated(a.team, "scrm").ok());
  EXPECT_EQ(apps.RequireActivated(a.team, "cloud_store").reason(), "app_not_activated");
  EXPECT_EQ(apps.RequireActivated(b.team, "scrm").reason(), "app_not_activated");  // per team

  clock_.Advance(1000);
  auto again = apps.Activate(a, "scrm", "10.0.0.1");
  EXPECT_EQ(again->activated_at_ms, on->activated_at_ms);  // idempotent
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM audit_log WHERE action = 'app.activated'")->rows.at(0).Int(0), 1);

  EXPECT_EQ(apps.Activate(a, "crm", "x").status().reason(), "app_not_found");
  auto member = MakeTeam(*t.db, 3, accounts::Role::kMember);
  EXPECT_EQ(apps.Activate(member, "scrm", "x").status().reason(), "admin_only");
}

INSTANTIATE_TEST_SUITE_P(Engines, AppsTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::apps
