// Tags both ways against the sandbox: enterprise tags created, renamed, deleted and put on customers in Koi reach
// WeCom (the sandbox's world) and Koi's mirror equals it afterwards; the platform's limits are refused with clear
// reasons before WeCom is called; personal tags stay in Koi and are seen by their owner and admins only.
// (WeCom-side tag changes arriving by callback are covered by wecom_callbacks_test.)
#include <gtest/gtest.h>

#include "domain/customers/tags.h"
#include "domain/wecom_link/mirror.h"
#include "storage/migrations/migrations.h"
#include "wecom_fixture.h"

namespace koi::customers {
namespace {

using testing::TestEngine;

class CustomerTagsTest : public wecom_link::WecomBench {
 protected:
  void LinkAndSync(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, "t");
    if (HasFatalFailure()) return;
    customers_ = std::make_unique<CustomerService>(db, clock_);
    tags_ = std::make_unique<TagService>(db, clock_, *queue_, *client_, *link_, *customers_);
  }

  accounts::Principal Member(const std::string& phone, const std::string& name) {
    auto m = accounts_->AddMember(admin_, phone, name, {});
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return {.team = admin_.team, .account = m->id, .role = accounts::Role::kMember, .phone = phone, .name = name};
  }

  int64_t WorldCount(const std::string& sql, const std::vector<storage::Value>& p = {}) {
    return world_->Query(sql, p)->rows.at(0).Int(0);
  }

  std::unique_ptr<CustomerService> customers_;
  std::unique_ptr<TagService> tags_;
};

TEST_P(CustomerTagsTest, EnterpriseTagsReachWecomAndTheMirrorFollows) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 120);
  const accounts::Client client{.ip = "10.0.0.9", .user_agent = ""};

  // Refused before WeCom is called.
  EXPECT_EQ(tags_->CreateCorpTags(admin_, "", "会员等级", {"  "}, client).status().reason(), "tag_name_empty");
  EXPECT_EQ(tags_->CreateCorpTags(admin_, "", "会员等级", {std::string(31 * 3, 'a').substr(0, 31)}, client)
                .status().reason(), "tag_name_too_long");
  std::string thirty;
  for (int i = 0; i < 30; ++i) thirty += "金";
  EXPECT_EQ(tags_->CreateCorpTags(admin_, "", "会员等级", {"金卡", "金卡"}, client).status().reason(),
            "tag_name_duplicate");
  EXPECT_EQ(tags_->CreateCorpTags(admin_, "nope", "", {"金卡"}, client).status().reason(), "tag_group_not_found");
  auto member = Member("13900000001", "小林");
  EXPECT_EQ(tags_->CreateCorpTags(member, "", "会员等级", {"金卡"}, client).status().reason(), "admin_only");
  const auto counts_before = sandbox_->CallCounts();
  const int64_t calls_before = counts_before.count({spec_.corp_id, "/cgi-bin/externalcontact/add_corp_tag"});
  EXPECT_EQ(calls_before, 0);

  auto made = tags_->CreateCorpTags(admin_, "", "会员等级", {"金卡", "银卡", thirty}, client);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->tags.size(), 3u);
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM tags WHERE group_id = ?", {made->group_id}), 3);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  // The same name again is WeCom's existing tag, not a second one.
  auto again = tags_->CreateCorpTags(admin_, made->group_id, "", {"金卡", "铜卡"}, client);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM tags WHERE group_id = ?", {made->group_id}), 4);
  const std::string gold = made->tags[0].tag_id;

  ASSERT_TRUE(tags_->RenameCorpTag(admin_, gold, "黑金卡", client).ok());
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM tags WHERE tag_id = ? AND name = '黑金卡'", {gold}), 1);
  EXPECT_EQ(tags_->RenameCorpTag(admin_, "missing", "x", client).reason(), "tag_not_found");
  ASSERT_TRUE(tags_->RenameCorpTag(admin_, made->group_id, "会员卡", client).ok());
  ExpectMirrorEqualsWorld(*t.db, admin_.team);

  // Tag one relationship; the world, the mirror and the customer's timeline agree.
  auto rel = t.db->Query("SELECT userid, external_userid FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL "
                         "ORDER BY userid, external_userid LIMIT 1", {admin_.team.value()});
  const std::string userid = rel->rows.at(0).Text(0), ext = rel->rows.at(0).Text(1);
  auto marked = tags_->MarkCorpTags(admin_, ext, userid, {gold}, {});
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_TRUE(std::any_of(marked->begin(), marked->end(), [&](const TagRef& r) { return r.name == "黑金卡"; }));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE userid = ? AND external_userid = ? AND tag_id = ?",
                       {userid, ext, gold}), 1);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  auto profile = customers_->Get(admin_, ext);
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->timeline.front().kind, "tagged");
  EXPECT_EQ(profile->timeline.front().detail, "黑金卡");
  EXPECT_EQ(tags_->MarkCorpTags(admin_, ext, userid, {"missing"}, {}).status().reason(), "tag_not_found");
  EXPECT_EQ(tags_->MarkCorpTags(admin_, ext, "nobody", {gold}, {}).status().reason(), "relationship_not_found");
  EXPECT_EQ(tags_->MarkCorpTags(member, ext, userid, {gold}, {}).status().reason(), "customer_not_found");
  ASSERT_TRUE(tags_->MarkCorpTags(admin_, ext, userid, {}, {gold}).ok());
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE tag_id = ?", {gold}), 0);

  // A member tags the customers of the employee bound to it.
  ASSERT_TRUE(customers_->Bind(admin_, member.account.value(), userid, "own", client).ok());
  ASSERT_TRUE(tags_->MarkCorpTags(member, ext, userid, {gold}, {}).ok());

  // Deleting the group deletes its tags in WeCom and their use on customers in both.
  ASSERT_TRUE(tags_->DeleteCorpTags(admin_, {}, {made->group_id}, client).ok());
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM tags WHERE group_id = ?", {made->group_id}), 0);
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE tag_id = ?", {gold}), 0);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'tag.%'")->rows.at(0).Int(0), 5);

  // The corp's tag limit (3,000 in wecom-2025) is checked against the mirror before calling WeCom.
  auto count = t.db->Query("SELECT COUNT(*) FROM wecom_tags WHERE team_id = ?", {admin_.team.value()})->rows[0].Int(0);
  ASSERT_TRUE(t.db->Transact([&](storage::Session& tx) -> Status {
    for (int64_t i = count; i < 2999; ++i)
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_tags (team_id, tag_id, group_id, name, create_time, sort, "
                                  "sync_run) VALUES (?, ?, 'gfill', ?, 0, 0, 0)",
                                  {admin_.team.value(), "fill" + std::to_string(i), "填充" + std::to_string(i)}));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(tags_->CreateCorpTags(admin_, "", "新组", {"甲", "乙"}, client).status().reason(), "corp_tag_limit");
}

TEST_P(CustomerTagsTest, RemarksAreEditedInWecomAndMirrored) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 60);
  auto rel = t.db->Query("SELECT f.userid, f.external_userid FROM wecom_follows f, wecom_customers c WHERE f.team_id = ? "
                         "AND f.deleted_at IS NULL AND c.team_id = f.team_id AND c.external_userid = f.external_userid "
                         "AND c.type = 1 ORDER BY 1, 2 LIMIT 1", {admin_.team.value()});
  const std::string userid = rel->rows.at(0).Text(0), ext = rel->rows.at(0).Text(1);
  using Edit = wecom::WecomClient::RemarkEdit;
  EXPECT_EQ(tags_->EditRelationship(admin_, ext, userid, Edit{}).status().reason(), "invalid_argument");
  EXPECT_EQ(tags_->EditRelationship(admin_, ext, userid, {.remark = std::string(21, 'x')}).status().reason(),
            "remark_too_long");
  EXPECT_EQ(tags_->EditRelationship(admin_, ext, userid, {.remark_mobiles = std::vector<std::string>{"abc"}})
                .status().reason(), "invalid_remark_mobile");
  EXPECT_EQ(tags_->EditRelationship(admin_, ext, "nobody", {.remark = std::string("x")}).status().reason(),
            "relationship_not_found");
  auto edited = tags_->EditRelationship(admin_, ext, userid, {.remark = std::string(" 王姐（老客） "),
                                                               .description = std::string("喜欢低糖"),
                                                               .remark_company = std::string("锦鲤茶饮"),
                                                               .remark_mobiles = std::vector<std::string>{"13800001234"}});
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_EQ(edited->remark, "王姐（老客）");
  EXPECT_EQ(edited->remark_mobiles, std::vector<std::string>{"13800001234"});
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follows WHERE userid = ? AND external_userid = ? AND remark = '王姐（老客）' "
                       "AND description = '喜欢低糖' AND remark_corp_name = '锦鲤茶饮' AND remark_mobiles = "
                       "'[\"13800001234\"]'", {userid, ext}), 1);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  EXPECT_EQ(customers_->Get(admin_, ext)->timeline.front().kind, "remark_changed");
  // Clearing the mobiles sends WeCom's [""].
  ASSERT_TRUE(tags_->EditRelationship(admin_, ext, userid, {.remark_mobiles = std::vector<std::string>{}}).ok());
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follows WHERE userid = ? AND external_userid = ? AND remark_mobiles = '[]'",
                       {userid, ext}), 1);
}

TEST_P(CustomerTagsTest, PersonalTagsStayInKoiAndAreSeenByTheirOwnerAndAdmins) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 60);
  const accounts::Client client{};
  auto a = Member("13900000001", "小林");
  auto b = Member("13900000002", "小周");
  auto rel = t.db->Query("SELECT userid, external_userid FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL "
                         "ORDER BY userid, external_userid LIMIT 1", {admin_.team.value()});
  const std::string userid = rel->rows.at(0).Text(0), ext = rel->rows.at(0).Text(1);
  ASSERT_TRUE(customers_->Bind(admin_, a.account.value(), userid, "own", client).ok());

  auto tag = tags_->CreatePersonalTag(a, " 爱喝奶茶 ");
  ASSERT_TRUE(tag.ok()) << tag.status().ToString();
  EXPECT_EQ(tag->name, "爱喝奶茶");
  EXPECT_EQ(tags_->CreatePersonalTag(a, "爱喝奶茶").status().reason(), "personal_tag_exists");
  EXPECT_EQ(tags_->CreatePersonalTag(a, "").status().reason(), "tag_name_empty");
  ASSERT_TRUE(tags_->MarkPersonalTags(a, ext, {tag->id}, {}).ok());
  ASSERT_TRUE(tags_->MarkPersonalTags(a, ext, {tag->id}, {}).ok());  // twice is once
  EXPECT_EQ(tags_->MarkPersonalTags(b, ext, {tag->id}, {}).reason(), "customer_not_found");  // b sees nothing yet

  EXPECT_EQ(customers_->Get(a, ext)->personal_tags.size(), 1u);
  auto seen_by_admin = customers_->Get(admin_, ext);
  ASSERT_EQ(seen_by_admin->personal_tags.size(), 1u);
  EXPECT_EQ(seen_by_admin->personal_tags[0].owner_name, "小林");
  EXPECT_EQ(tags_->PersonalTags(a)->at(0).customers, 1);
  // An admin lists every member's (to filter by them), owners first by name; members only their own.
  ASSERT_TRUE(tags_->CreatePersonalTag(b, "周末客").ok());
  EXPECT_TRUE(tags_->PersonalTags(admin_)->empty());
  auto team = tags_->PersonalTags(admin_, true);
  ASSERT_TRUE(team.ok()) << team.status().ToString();
  ASSERT_EQ(team->size(), 2u);
  EXPECT_EQ((*team)[0].owner_name, "小周");  // 小 周 < 小 林 in byte order
  EXPECT_EQ((*team)[0].name, "周末客");
  EXPECT_EQ((*team)[1].owner_name, "小林");
  EXPECT_EQ((*team)[1].account_id, a.account.value());
  EXPECT_EQ((*team)[1].customers, 1);
  EXPECT_EQ(tags_->PersonalTags(a, true).status().reason(), "admin_only");
  EXPECT_EQ(tags_->PersonalTags(b)->size(), 1u);
  // The list filters by it, for its owner and admins, in both modes.
  for (const auto& who : {a, admin_}) {
    for (auto mode : {ListMode::kCustomer, ListMode::kRelationship}) {
      auto page = customers_->List(who, {.mode = mode, .personal_tag_ids = {tag->id}}, 1, 20);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      // One customer; in relationship mode, each of its relationships the caller sees.
      if (mode == ListMode::kCustomer) {
        EXPECT_EQ(page->total, 1) << who.name;
      }
      ASSERT_GE(page->total, 1) << who.name;
      for (const auto& row : page->items) EXPECT_EQ(row.external_userid, ext);
    }
  }

  // b takes over the same employee: b sees the customer, not a's personal tag, and cannot use or delete it.
  ASSERT_TRUE(customers_->Unbind(admin_, a.account.value(), client).ok());
  ASSERT_TRUE(customers_->Bind(admin_, b.account.value(), userid, "own", client).ok());
  auto seen_by_b = customers_->Get(b, ext);
  ASSERT_TRUE(seen_by_b.ok());
  EXPECT_TRUE(seen_by_b->personal_tags.empty());
  EXPECT_EQ(tags_->MarkPersonalTags(b, ext, {tag->id}, {}).reason(), "personal_tag_not_found");
  EXPECT_EQ(tags_->DeletePersonalTag(b, tag->id).reason(), "personal_tag_not_found");
  EXPECT_EQ(tags_->PersonalTags(b)->at(0).name, "周末客");  // b's own only
  EXPECT_EQ(customers_->List(b, {.personal_tag_ids = {tag->id}}, 1, 20)->total, 0);  // another's tag matches no one
  EXPECT_GT(customers_->List(b, {}, 1, 20)->total, 0);  // while b sees the customer itself
  // Never pushed to WeCom.
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM tags WHERE name = '爱喝奶茶'"), 0);
  ASSERT_TRUE(tags_->DeletePersonalTag(a, tag->id).ok());
  EXPECT_TRUE(customers_->Get(admin_, ext)->personal_tags.empty());
}

TEST_P(CustomerTagsTest, BulkTaggingReachesEveryTargetOnceAcrossAnOutage) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 300);
  const accounts::Client client{};
  auto made = tags_->CreateCorpTags(admin_, "", "活动", {"双十一"}, client);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const std::string tag = made->tags[0].tag_id;
  auto run_once = [&]() -> Status {
    auto job = queue_->Lease("test-node", {kBulkTagJob}, 600'000);
    if (!job.ok()) return job.status();
    if (!job->has_value()) return Status::NotFound("no_job", "no bulk job was due");
    std::atomic<bool> stopping{false};
    jobs::JobContext ctx(*queue_, **job, "test-node", stopping);
    Status s = tags_->RunBulkTag(ctx);
    if (s.ok()) return queue_->Complete((*job)->id, "test-node");
    EXPECT_TRUE(queue_->Fail((*job)->id, "test-node", s, (*job)->attempts, (*job)->max_attempts).ok());
    clock_.Advance(3600'000);
    return s;
  };

  EXPECT_EQ(tags_->StartBulkTag(admin_, {.filter = {.query = "没有这个人"}, .external_userids = {}, .add = {tag},
                                         .remove = {}}).status().reason(), "bulk_target_empty");
  EXPECT_EQ(tags_->StartBulkTag(admin_, {.filter = {}, .external_userids = {}, .add = {"nope"}, .remove = {}})
                .status().reason(), "tag_not_found");

  // Everyone followed by the busiest employee.
  auto top = t.db->Query("SELECT userid, COUNT(*) FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL GROUP BY "
                         "userid ORDER BY 2 DESC, 1 LIMIT 1", {admin_.team.value()});
  const std::string userid = top->rows.at(0).Text(0);
  const int64_t expected = top->rows.at(0).Int(1);
  ASSERT_GT(expected, 5);
  auto started = tags_->StartBulkTag(admin_, {.filter = {.userids = {userid}}, .external_userids = {}, .add = {tag},
                                              .remove = {}});
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->total, expected);
  EXPECT_EQ(started->state, "queued");
  // One of them deletes the employee in WeCom before the job runs: that item fails with WeCom's reason.
  auto gone = t.db->Query("SELECT external_userid FROM bulk_tag_items WHERE job_id = ? ORDER BY seq LIMIT 1",
                          {started->job_id})->rows.at(0).Text(0);
  ASSERT_TRUE(world_->Exec("DELETE FROM follows WHERE userid = ? AND external_userid = ?", {userid, gone}).ok());

  // WeCom goes away after 3 calls: the job stops, keeps what it did, and finishes later without redoing it.
  down_after_ = 3;
  calls_ = 0;
  EXPECT_EQ(run_once().code(), StatusCode::kUnavailable);
  auto midway = tags_->BulkTagStatus(admin_, started->job_id, 1, 20);
  ASSERT_TRUE(midway.ok());
  EXPECT_EQ(midway->succeeded + midway->failed, 3);
  down_after_ = -1;
  ASSERT_TRUE(run_once().ok());
  auto done = tags_->BulkTagStatus(admin_, started->job_id, 1, 20);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, "succeeded");
  EXPECT_EQ(done->succeeded, expected - 1);
  EXPECT_EQ(done->failed, 1);
  ASSERT_EQ(done->failures.size(), 1u);
  EXPECT_EQ(done->failures[0].external_userid, gone);
  EXPECT_EQ(done->failures[0].reason, "wecom_no_relationship");
  const auto mark_calls = sandbox_->CallCounts()[{spec_.corp_id, "/cgi-bin/externalcontact/mark_tag"}];
  EXPECT_EQ(mark_calls, expected);  // each relationship once
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE tag_id = ?", {tag}), expected - 1);
  ASSERT_TRUE(world_->Exec("DELETE FROM follow_tags WHERE userid = ? AND external_userid = ?", {userid, gone}).ok());
  ASSERT_TRUE(t.db->Transact([&](storage::Session& tx) {
    return wecom_link::mirror::MarkRelationLost(tx, admin_.team, userid, gone, "customer", clock_.NowMillis());
  }).ok());
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  // The target list goes when its job is purged, not before.
  EXPECT_EQ(tags_->PurgeBulkItems().value_or(-1), 0);
  ASSERT_TRUE(queue_->PurgeFinished(clock_.NowMillis() + 1).ok());
  EXPECT_EQ(tags_->PurgeBulkItems().value_or(-1), expected);
  EXPECT_EQ(tags_->BulkTagStatus(admin_, started->job_id, 1, 20).status().reason(), "bulk_job_not_found");

  // Picked customers, untagged by a member: only the bound employee's relationships are touched.
  auto member = Member("13900000003", "小吴");
  ASSERT_TRUE(customers_->Bind(admin_, member.account.value(), userid, "own", client).ok());
  auto picked = t.db->Query("SELECT external_userid FROM wecom_follows WHERE team_id = ? AND userid = ? AND deleted_at "
                            "IS NULL ORDER BY external_userid LIMIT 2", {admin_.team.value(), userid});
  auto untag = tags_->StartBulkTag(member, {.filter = {}, .external_userids = {picked->rows[0].Text(0),
                                                                               picked->rows[1].Text(0)},
                                            .add = {}, .remove = {tag}});
  ASSERT_TRUE(untag.ok()) << untag.status().ToString();
  EXPECT_EQ(untag->total, 2);
  ASSERT_TRUE(run_once().ok());
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE tag_id = ?", {tag}), expected - 3);
  EXPECT_EQ(tags_->BulkTagStatus(member, started->job_id, 1, 20).status().reason(), "bulk_job_not_found");
  EXPECT_EQ(tags_->BulkTagStatus(member, untag->job_id, 1, 20)->succeeded, 2);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);

  // A bulk tagging cancelled before it ran tags no one; another member cannot cancel it.
  auto other = Member("13900000004", "小郑");
  auto mistaken = tags_->StartBulkTag(admin_, {.filter = {}, .external_userids = {}, .add = {tag}, .remove = {}});
  ASSERT_TRUE(mistaken.ok()) << mistaken.status().ToString();
  EXPECT_EQ(tags_->CancelBulkTag(other, mistaken->job_id).status().reason(), "bulk_job_not_found");
  auto cancelled = tags_->CancelBulkTag(admin_, mistaken->job_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, "cancelled");
  EXPECT_EQ(run_once().reason(), "no_job");
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM follow_tags WHERE tag_id = ?", {tag}), expected - 3);
}

INSTANTIATE_TEST_SUITE_P(Engines, CustomerTagsTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::customers
