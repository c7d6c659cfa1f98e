// Churn reminders on a synced sandbox corp: relationships lost by callback (the customer deleted the employee, the
// employee deleted the customer) and by the full sync are listed newest first with the tags they had, filtered,
// scoped to what the caller may see, and counted as unread until the account looks.
#include <gtest/gtest.h>

#include "domain/customers/churn.h"
#include "domain/wecom_link/mirror.h"
#include "wecom_fixture.h"

namespace koi::customers {
namespace {

using testing::TestEngine;

class ChurnTest : public wecom_link::WecomBench {
 protected:
  void LinkAndSync(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, "t");
    if (HasFatalFailure()) return;
    customers_ = std::make_unique<CustomerService>(db, clock_);
    churn_ = std::make_unique<ChurnService>(db, clock_, *customers_);
  }

  // What the callback applier does for del_follow_user / del_external_contact.
  void Lose(storage::Database& db, const std::string& userid, const std::string& ext, const std::string& by) {
    ASSERT_TRUE(world_->Exec("DELETE FROM follows WHERE userid = ? AND external_userid = ?", {userid, ext}).ok());
    ASSERT_TRUE(world_->Exec("DELETE FROM follow_tags WHERE userid = ? AND external_userid = ?", {userid, ext}).ok());
    ASSERT_TRUE(db.Transact([&](storage::Session& tx) {
      return wecom_link::mirror::MarkRelationLost(tx, admin_.team, userid, ext, by, clock_.NowMillis());
    }).ok());
  }

  std::unique_ptr<CustomerService> customers_;
  std::unique_ptr<ChurnService> churn_;
};

TEST_P(ChurnTest, LostRelationshipsAreListedWithTheirTagsAndCountedUntilSeen) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 150);
  const int64_t team = admin_.team.value();
  auto none = churn_->List(admin_, {}, 1, 20);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->total, 0);
  EXPECT_EQ(churn_->Unread(admin_)->count, 0);

  // Three tagged relationships of one employee end: two by callback, one found gone by the next full sync.
  auto tagged = t.db->Query("SELECT f.userid, f.external_userid, COUNT(*) FROM wecom_follows f JOIN wecom_follow_tags "
                            "t ON t.team_id = f.team_id AND t.userid = f.userid AND t.external_userid = "
                            "f.external_userid WHERE f.team_id = ? GROUP BY f.userid, f.external_userid ORDER BY "
                            "f.userid, f.external_userid", {team});
  ASSERT_GE(tagged->rows.size(), 3u);
  const std::string userid = tagged->rows[0].Text(0);
  std::vector<std::string> exts;
  for (const auto& row : tagged->rows)
    if (row.Text(0) == userid && exts.size() < 3) exts.push_back(row.Text(1));
  ASSERT_EQ(exts.size(), 3u) << "the first employee has three tagged customers";
  const int64_t tags_of_first = tagged->rows[0].Int(2);

  clock_.Advance(60'000);
  Lose(*t.db, userid, exts[0], "customer");
  clock_.Advance(60'000);
  Lose(*t.db, userid, exts[1], "employee");
  clock_.Advance(60'000);
  ASSERT_TRUE(world_->Exec("DELETE FROM follows WHERE userid = ? AND external_userid = ?", {userid, exts[2]}).ok());
  ASSERT_TRUE(world_->Exec("DELETE FROM follow_tags WHERE userid = ? AND external_userid = ?", {userid, exts[2]}).ok());
  ASSERT_TRUE(link_->StartFullSync(admin_.team).ok());
  ASSERT_TRUE(RunSyncOnce(*queue_, *link_).ok());
  // A handover is not churn.
  auto other = t.db->Query("SELECT userid, external_userid FROM wecom_follows WHERE team_id = ? AND userid <> ? AND "
                           "deleted_at IS NULL ORDER BY userid, external_userid LIMIT 1", {team, userid});
  ASSERT_TRUE(t.db->Transact([&](storage::Session& tx) {
    return wecom_link::mirror::MarkRelationLost(tx, admin_.team, other->rows[0].Text(0), other->rows[0].Text(1),
                                                "transfer", clock_.NowMillis());
  }).ok());

  auto page = churn_->List(admin_, {}, 1, 20);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->total, 3);
  EXPECT_EQ(page->last_7_days, 3);
  EXPECT_EQ(page->last_30_days, 3);
  ASSERT_EQ(page->items.size(), 3u);
  EXPECT_EQ(page->items[0].external_userid, exts[2]);  // newest first
  EXPECT_EQ(page->items[0].deleted_by, "sync");
  EXPECT_EQ(page->items[1].deleted_by, "employee");
  EXPECT_EQ(page->items[2].external_userid, exts[0]);
  EXPECT_EQ(page->items[2].deleted_by, "customer");
  EXPECT_EQ(static_cast<int64_t>(page->items[2].tags.size()), tags_of_first);
  for (const auto& item : page->items) {
    EXPECT_EQ(item.userid, userid);
    EXPECT_FALSE(item.employee_name.empty());
    EXPECT_FALSE(item.name.empty());
    EXPECT_FALSE(item.tags.empty()) << item.external_userid << " kept its tags";
    EXPECT_FALSE(item.tags[0].name.empty());
    EXPECT_GT(item.lost_at_ms, item.add_time_ms);
    const bool followed = t.db->Query("SELECT COUNT(*) FROM wecom_follows WHERE team_id = ? AND external_userid = ? AND "
                                      "deleted_at IS NULL", {team, item.external_userid})->rows.at(0).Int(0) > 0;
    EXPECT_EQ(item.still_followed, followed);
  }

  // Filters.
  EXPECT_EQ(churn_->List(admin_, {.userids = {}, .deleted_by = "customer"}, 1, 20)->total, 1);
  EXPECT_EQ(churn_->List(admin_, {.userids = {"nobody"}, .deleted_by = ""}, 1, 20)->total, 0);
  EXPECT_EQ(churn_->List(admin_, {.userids = {}, .deleted_by = "", .lost_from_ms = page->items[1].lost_at_ms}, 1, 20)
                ->total, 2);
  EXPECT_EQ(churn_->List(admin_, {.userids = {}, .deleted_by = "transfer"}, 1, 20).status().reason(), "invalid_filter");
  EXPECT_EQ(churn_->List(admin_, {.userids = {}, .deleted_by = "", .lost_from_ms = 5, .lost_to_ms = 5}, 1, 20)
                .status().reason(), "invalid_time_range");
  auto second = churn_->List(admin_, {}, 2, 2);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].external_userid, exts[0]);

  // Unread until the account looks; then only what is lost afterwards.
  auto unread = churn_->Unread(admin_);
  ASSERT_TRUE(unread.ok());
  EXPECT_EQ(unread->count, 3);
  ASSERT_EQ(unread->items.size(), 3u);
  ASSERT_TRUE(churn_->MarkSeen(admin_).ok());
  EXPECT_EQ(churn_->Unread(admin_)->count, 0);
  clock_.Advance(1000);
  auto next = t.db->Query("SELECT userid, external_userid FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL "
                          "ORDER BY userid DESC, external_userid LIMIT 1", {team});
  const std::string other_userid = next->rows.at(0).Text(0), other_ext = next->rows.at(0).Text(1);
  Lose(*t.db, other_userid, other_ext, "customer");
  unread = churn_->Unread(admin_);
  EXPECT_EQ(unread->count, 1);
  ASSERT_EQ(unread->items.size(), 1u);
  EXPECT_EQ(unread->items[0].external_userid, other_ext);
  // A loss WeCom dated before the account looked, but applied after (a retried callback), is still new.
  ASSERT_TRUE(churn_->MarkSeen(admin_).ok());
  clock_.Advance(1000);
  auto late = t.db->Query("SELECT userid, external_userid FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL "
                          "ORDER BY userid DESC, external_userid LIMIT 1", {team});
  ASSERT_TRUE(t.db->Transact([&](storage::Session& tx) {
    return wecom_link::mirror::MarkRelationLost(tx, admin_.team, late->rows.at(0).Text(0), late->rows.at(0).Text(1),
                                                "customer", clock_.NowMillis() - 600'000, clock_.NowMillis());
  }).ok());
  EXPECT_EQ(churn_->Unread(admin_)->count, 1);

  // A member sees its employee's churn only; one that never looked counts the last week.
  auto m = accounts_->AddMember(admin_, "13900000006", "小孙", {});
  ASSERT_TRUE(m.ok());
  const accounts::Principal member{.team = admin_.team, .account = m->id, .role = accounts::Role::kMember,
                                   .phone = "13900000006", .name = "小孙"};
  EXPECT_EQ(churn_->List(member, {}, 1, 20)->total, 0);  // not bound: nothing
  EXPECT_EQ(churn_->Unread(member)->count, 0);
  ASSERT_TRUE(customers_->Bind(admin_, member.account.value(), userid, "own", {}).ok());
  EXPECT_EQ(churn_->List(member, {}, 1, 20)->total, 3);
  EXPECT_EQ(churn_->Unread(member)->count, 3);
  clock_.Advance(8LL * 24 * 3600 * 1000);
  EXPECT_EQ(churn_->Unread(member)->count, 0);  // older than a week
  auto later = churn_->List(member, {}, 1, 20);
  EXPECT_EQ(later->total, 3);
  EXPECT_EQ(later->last_7_days, 0);
  EXPECT_EQ(later->last_30_days, 3);

  // A lost relationship that comes back is active again and drops out of churn.
  ASSERT_TRUE(t.db->Transact([&](storage::Session& tx) {
    wecom::ExternalContact c;
    c.external_userid = exts[0];
    c.name = page->items[2].name;
    wecom::FollowInfo f;
    f.userid = userid;
    f.createtime = clock_.NowMillis() / 1000;
    return wecom_link::mirror::UpsertRelation(tx, admin_.team, c, f, 0);
  }).ok());
  EXPECT_EQ(churn_->List(admin_, {}, 1, 20)->total, 4);  // the customer's, gone; the two later ones, still there
}

INSTANTIATE_TEST_SUITE_P(Engines, ChurnTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::customers
