#include "domain/customers/customers.h"

#include "domain/customers/fields.h"
#include "domain/customers/stages.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "domain/customers/customers_test_util.h"
#include "domain/wecom_link/mirror.h"
#include "rules/rule_pack.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::customers {
namespace {

using testing::TestEngine;
namespace mirror = wecom_link::mirror;

using customers::testutil::Contact;
using customers::testutil::Follow;
using customers::testutil::MakeAccount;

class CustomersTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  // Team 1's corp: departments 1 (root) > 2 (sales) > 3 (east); zhangsan in 2, lisi in 3, wangwu in 1.
  // 王小明 (c1): zhangsan at 100 s (remark 老客户, mobile 13800001111, tag t1, state spring), lisi at 200 s (tag t2).
  // 李华 (c2, 锦鲤科技, female): wangwu at 300 s by contact way 3, then deleted wangwu. Alice (c3): lisi at 50 s.
  // Team 2 has its own customer c9.
  void Seed(storage::Database& db) {
    ASSERT_TRUE(db.Transact([](storage::Session& tx) -> Status {
      const TeamId team(1);
      KOI_RETURN_IF_ERROR(mirror::UpsertDepartments(tx, team, {{1, "锦鲤", 0, 1}, {2, "销售部", 1, 1}, {3, "华东", 2, 1}}, 1));
      for (auto [userid, name, dept] : {std::tuple{"zhangsan", "张三", 2}, {"lisi", "李四", 3}, {"wangwu", "王五", 1}}) {
        wecom::User u;
        u.userid = userid;
        u.name = name;
        u.departments = {dept};
        u.main_department = dept;
        u.status = 1;
        KOI_RETURN_IF_ERROR(mirror::UpsertEmployee(tx, team, u, true, 1));
      }
      KOI_RETURN_IF_ERROR(mirror::UpsertTagGroups(tx, team, {{"g1", "等级", 0, 1, {{"t1", "VIP", 0, 1}, {"t2", "潜客", 0, 2}}}}, 1));
      auto z = Follow("zhangsan", 100, {"t1"});
      z.remark = "老客户";
      z.remark_mobiles = {"13800001111"};
      z.state = "spring";
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c1", "王小明"), z, 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c1", "王小明"), Follow("lisi", 200, {"t2"}), 1));
      auto w = Follow("wangwu", 300);
      w.add_way = 3;
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c2", "李华", 2, "锦鲤科技"), w, 1));
      KOI_RETURN_IF_ERROR(mirror::MarkRelationLost(tx, team, "wangwu", "c2", "customer", 400000));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c3", "Alice"), Follow("lisi", 50), 1));
      wecom::GroupChat g;
      g.chat_id = "chat1";
      g.name = "VIP 群";
      g.owner = "zhangsan";
      g.members = {{.userid = "c1", .invitor = "", .state = "", .unionid = "", .name = "", .type = 2,
                    .join_time = 150, .join_scene = 3}};
      KOI_RETURN_IF_ERROR(mirror::ReplaceGroupChat(tx, team, g, 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, TeamId(2), Contact("c9", "王小明"), Follow("zhangsan", 999), 1));
      return Status::Ok();
    }).ok());
  }

  static std::vector<std::string> Ids(const CustomerPage& page) {
    std::vector<std::string> out;
    for (const auto& r : page.items) out.push_back(r.external_userid);
    return out;
  }

  FakeClock clock_;
};

using Strs = std::vector<std::string>;

TEST_P(CustomersTest, ListsFiltersAndSearchesCustomersAndRelationships) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  auto list = [&](CustomerFilter f) {
    auto r = svc.List(admin, f, 1, 50);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CustomerPage{};
  };

  auto all = list({});
  EXPECT_EQ(Ids(all), (Strs{"c2", "c1", "c3"}));  // newest add first; team 2's c9 never shows
  EXPECT_EQ(all.total, 3);
  EXPECT_TRUE(all.scope.all);
  const auto& c1 = all.items[1];
  EXPECT_EQ(c1.name, "王小明");
  EXPECT_EQ(c1.last_add_time_ms, 200000);
  EXPECT_EQ(c1.active_follows, 2);
  ASSERT_EQ(c1.follows.size(), 2u);
  EXPECT_EQ(c1.follows[0].employee_name, "李四");
  EXPECT_EQ(c1.follows[1].remark_mobiles, Strs{"13800001111"});
  ASSERT_EQ(c1.tags.size(), 2u);
  EXPECT_EQ(c1.tags[0].name, "潜客");  // lisi's, the newest relationship, first
  EXPECT_EQ(c1.tags[0].group_name, "等级");
  EXPECT_EQ(all.items[0].active_follows, 0);
  EXPECT_FALSE(all.items[0].follows[0].active);
  EXPECT_EQ(all.items[0].follows[0].deleted_by, "customer");

  EXPECT_EQ(Ids(list({.sort = "name"})), (Strs{"c3", "c2", "c1"}));  // byte order: Latin before 李 before 王
  EXPECT_EQ(Ids(list({.sort = "add_time"})), (Strs{"c3", "c1", "c2"}));
  EXPECT_EQ(Ids(list({.query = "小明"})), Strs{"c1"});
  EXPECT_EQ(Ids(list({.query = "锦鲤"})), Strs{"c2"});        // company
  EXPECT_EQ(Ids(list({.query = "老客"})), Strs{"c1"});        // remark
  EXPECT_EQ(Ids(list({.query = "138000011"})), Strs{"c1"});   // remark mobile
  EXPECT_EQ(Ids(list({.query = "%"})), Strs{});               // LIKE wildcards are literal
  EXPECT_EQ(Ids(list({.query = "wxm"})), Strs{"c1"});         // pinyin initials of 王小明
  EXPECT_EQ(Ids(list({.query = "WXm"})), Strs{"c1"});         // in any case
  EXPECT_EQ(Ids(list({.query = "lk"})), Strs{"c1"});          // of the remark 老客
  EXPECT_EQ(list({.mode = ListMode::kRelationship, .query = "xm"}).total, 2);
  EXPECT_EQ(Ids(list({.query = "wxmx"})), Strs{});
  EXPECT_EQ(Ids(list({.tag_ids = {"t1"}})), Strs{"c1"});
  EXPECT_EQ(Ids(list({.tag_ids = {"t2", "t9"}})), Strs{"c1"});
  EXPECT_EQ(Ids(list({.userids = {"wangwu"}})), Strs{"c2"});
  EXPECT_EQ(Ids(list({.department = 2})), (Strs{"c1", "c3"}));  // 2 and 3 below it
  EXPECT_EQ(Ids(list({.department = 3})), (Strs{"c1", "c3"}));
  EXPECT_EQ(Ids(list({.userids = {"zhangsan"}, .department = 3})), Strs{});
  EXPECT_EQ(Ids(list({.added_from_ms = 100000, .added_to_ms = 200000})), Strs{"c1"});
  EXPECT_EQ(Ids(list({.added_from_ms = 99001, .added_to_ms = 100000})), Strs{});  // [100 s, 100 s): empty
  EXPECT_EQ(Ids(list({.add_way = 3})), Strs{"c2"});
  EXPECT_EQ(Ids(list({.state = "spring"})), Strs{"c1"});
  EXPECT_EQ(Ids(list({.gender = 2})), Strs{"c2"});
  EXPECT_EQ(Ids(list({.status = "active"})), (Strs{"c1", "c3"}));
  EXPECT_EQ(Ids(list({.status = "deleted_by_customer"})), Strs{"c2"});
  EXPECT_EQ(Ids(list({.status = "deleted_by_employee"})), Strs{});
  EXPECT_EQ(Ids(list({.status = "lost"})), Strs{"c2"});

  auto rel = list({.mode = ListMode::kRelationship});
  EXPECT_EQ(Ids(rel), (Strs{"c2", "c1", "c1", "c3"}));
  EXPECT_EQ(rel.total, 4);
  ASSERT_EQ(rel.items[1].follows.size(), 1u);
  EXPECT_EQ(rel.items[1].follows[0].userid, "lisi");
  EXPECT_EQ(rel.items[2].follows[0].userid, "zhangsan");
  EXPECT_EQ(rel.items[2].tags.size(), 1u);
  auto rel_t2 = list({.mode = ListMode::kRelationship, .tag_ids = {"t2"}});
  ASSERT_EQ(rel_t2.items.size(), 1u);
  EXPECT_EQ(rel_t2.items[0].follows[0].userid, "lisi");
  EXPECT_EQ(list({.mode = ListMode::kRelationship, .query = "老客"}).total, 1);

  // Paging.
  auto p2 = svc.List(admin, {}, 2, 2);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(Ids(*p2), Strs{"c3"});
  EXPECT_EQ(p2->total, 3);

  EXPECT_EQ(svc.List(admin, {.sort = "age"}, 1, 10).status().reason(), "invalid_sort");
  EXPECT_EQ(svc.List(admin, {.status = "gone"}, 1, 10).status().reason(), "invalid_customer_status");
  EXPECT_EQ(svc.List(admin, {.added_from_ms = 5, .added_to_ms = 5}, 1, 10).status().reason(), "invalid_time_range");
}

TEST_P(CustomersTest, MemberSeesOnlyTheBoundEmployeesCustomers) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 3, accounts::Role::kMember);
  auto other = MakeAccount(*t.db, 1, 4, accounts::Role::kMember);
  MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  const accounts::Client client{.ip = "10.0.0.1", .user_agent = ""};

  auto none = svc.List(member, {}, 1, 50);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());
  EXPECT_FALSE(none->scope.bound);
  EXPECT_EQ(svc.Get(member, "c1").status().reason(), "customer_not_found");

  EXPECT_EQ(svc.Bind(member, 3, "lisi", "own", client).status().reason(), "admin_only");
  EXPECT_EQ(svc.Bind(admin, 3, "nobody", "own", client).status().reason(), "employee_not_found");
  EXPECT_EQ(svc.Bind(admin, 2, "lisi", "own", client).status().reason(), "member_not_found");  // other team
  EXPECT_EQ(svc.Bind(admin, 3, "lisi", "all", client).status().reason(), "invalid_data_scope");
  auto bound = svc.Bind(admin, 3, "lisi", "own", client);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->employee_name, "李四");
  EXPECT_EQ(svc.Bind(admin, 4, "lisi", "own", client).status().reason(), "employee_already_bound");

  auto mine = svc.List(member, {}, 1, 50);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(Ids(*mine), (Strs{"c1", "c3"}));
  EXPECT_EQ(mine->scope.userid, "lisi");
  ASSERT_EQ(mine->items[0].follows.size(), 1u);  // only lisi's relationship with 王小明, and only its tags
  EXPECT_EQ(mine->items[0].follows[0].userid, "lisi");
  EXPECT_EQ(mine->items[0].tags.size(), 1u);
  EXPECT_EQ(Ids(*svc.List(member, {.query = "老客"}, 1, 50)), Strs{});  // zhangsan's remark is not lisi's
  EXPECT_EQ(svc.List(member, {.mode = ListMode::kRelationship}, 1, 50)->total, 2);
  EXPECT_EQ(svc.Get(member, "c2").status().reason(), "customer_not_found");
  EXPECT_EQ(svc.AddNote(member, "c2", "hi").status().reason(), "customer_not_found");
  // What Koi did to zhangsan's relationship with 王小明 is not lisi's member's business; what it did to the
  // customer as a whole (userid '') is.
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_events (team_id, external_userid, at, kind, userid, actor_name, detail) "
                         "VALUES (1, 'c1', 5, 'tagged', 'zhangsan', '管理员', 'VIP'), (1, 'c1', 6, 'stage_changed', '', "
                         "'管理员', ' → 成交')").ok());
  auto profile = svc.Get(member, "c1");
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->customer.follows.size(), 1u);
  auto kinds = [](const Profile& p) {
    std::string out;
    for (const auto& item : p.timeline) out += item.kind + ",";
    return out;
  };
  EXPECT_EQ(kinds(*profile).find("tagged"), std::string::npos);
  EXPECT_NE(kinds(*profile).find("stage_changed"), std::string::npos);
  EXPECT_NE(kinds(*svc.Get(admin, "c1")).find("tagged"), std::string::npos);

  // Department scope: zhangsan's department 2 includes lisi's 3 below it.
  ASSERT_TRUE(svc.Bind(admin, 3, "zhangsan", "department", client).ok());
  EXPECT_EQ(Ids(*svc.List(member, {}, 1, 50)), (Strs{"c1", "c3"}));
  EXPECT_EQ(svc.List(member, {}, 1, 50)->items[0].follows.size(), 2u);
  auto seen = svc.Bindings(admin, {3, 4});
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->size(), 1u);
  EXPECT_EQ(seen->at(0).data_scope, "department");
  EXPECT_EQ(svc.Bindings(other, {3}).status().reason(), "admin_only");
  EXPECT_TRUE(svc.Bindings(member, {3}).ok());  // one's own

  ASSERT_TRUE(svc.Unbind(admin, 3, client).ok());
  EXPECT_TRUE(svc.List(member, {}, 1, 50)->items.empty());
  EXPECT_EQ(svc.Unbind(admin, 3, client).reason(), "binding_not_found");
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'member.employee_%'")->rows.at(0).Int(0), 3);
}

TEST_P(CustomersTest, ProfileShowsFollowsGroupsNotesAndTimeline) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto admin2 = MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  clock_.Set(500000);

  EXPECT_EQ(svc.AddNote(admin, "c1", "  \n").status().reason(), "note_empty");
  EXPECT_EQ(svc.AddNote(admin, "c1", std::string(2001 * 3, 'x').substr(0, 2001)).status().reason(), "note_too_long");
  std::string long_chinese;
  for (int i = 0; i < 2000; ++i) long_chinese += "好";
  EXPECT_TRUE(svc.AddNote(admin, "c1", long_chinese).ok());  // 2,000 characters, 6,000 bytes
  EXPECT_EQ(svc.AddNote(admin, "nobody", "x").status().reason(), "customer_not_found");
  EXPECT_EQ(svc.AddNote(admin2, "c1", "x").status().reason(), "customer_not_found");  // team 2 cannot reach it
  clock_.Advance(1000);
  auto note = svc.AddNote(admin, "c1", " 约了下周二到店 ");
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(note->body, "约了下周二到店");
  EXPECT_EQ(note->author_name, "成员1");

  auto p = svc.Get(admin, "c1");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->customer.name, "王小明");
  ASSERT_EQ(p->customer.follows.size(), 2u);
  ASSERT_EQ(p->groups.size(), 1u);
  EXPECT_EQ(p->groups[0].name, "VIP 群");
  EXPECT_EQ(p->groups[0].owner_name, "张三");
  EXPECT_EQ(p->groups[0].join_time_ms, 150000);
  ASSERT_EQ(p->notes.size(), 2u);
  EXPECT_EQ(p->notes[0].body, "约了下周二到店");  // newest first
  std::vector<std::string> kinds;
  for (const auto& item : p->timeline) kinds.push_back(item.kind);
  EXPECT_EQ(kinds, (Strs{"note", "note", "added", "joined_group", "added"}));
  EXPECT_EQ(p->timeline[2].employee_name, "李四");

  auto c2 = svc.Get(admin, "c2");
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->timeline.front().kind, "lost");
  EXPECT_EQ(c2->timeline.front().detail, "customer");
  EXPECT_EQ(svc.Get(admin2, "c1").status().reason(), "customer_not_found");
}

TEST_P(CustomersTest, MirrorWritesKeepTheCustomerSummary) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  auto summary = [&](const std::string& id) {
    auto r = t.db->Query("SELECT last_add_time, active_follows FROM wecom_customers WHERE team_id = 1 AND "
                         "external_userid = ?", {id});
    return std::pair{r->rows.at(0).Int(0), r->rows.at(0).Int(1)};
  };
  EXPECT_EQ(summary("c1"), (std::pair<int64_t, int64_t>{200, 2}));
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
    return mirror::MarkRelationLost(tx, TeamId(1), "lisi", "c1", "employee", 600000);
  }).ok());
  EXPECT_EQ(summary("c1"), (std::pair<int64_t, int64_t>{200, 1}));
  EXPECT_EQ(Ids(*svc.List(admin, {.status = "deleted_by_employee"}, 1, 50)), Strs{"c1"});
  // Lost in bulk (the full sync's clean-up) is refreshed by RefreshSummariesLostAt.
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET deleted_at = 700000, deleted_by = 'sync' WHERE team_id = 1 AND "
                         "userid = 'zhangsan'").ok());
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
    return mirror::RefreshSummariesLostAt(tx, TeamId(1), 700000);
  }).ok());
  EXPECT_EQ(summary("c1"), (std::pair<int64_t, int64_t>{200, 0}));
  EXPECT_EQ(summary("c3"), (std::pair<int64_t, int64_t>{50, 1}));
}

TEST_P(CustomersTest, StagesFormAPipelineAndCapacityWarns) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 3, accounts::Role::kMember);
  MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  StageService stages(*t.db, clock_, svc);

  EXPECT_EQ(stages.Create(member, "新客").status().reason(), "admin_only");
  EXPECT_EQ(stages.Create(admin, " ").status().reason(), "stage_name_empty");
  std::vector<int64_t> ids;
  for (const char* name : {"新客", "意向", "成交", "复购"}) {
    auto s = stages.Create(admin, name);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ids.push_back(s->id);
  }
  EXPECT_EQ(stages.Create(admin, "意向").status().reason(), "stage_exists");
  EXPECT_EQ(stages.Rename(admin, ids[1], "成交").reason(), "stage_exists");
  ASSERT_TRUE(stages.Rename(admin, ids[1], "有意向").ok());

  auto set = stages.SetCustomerStage(admin, "c1", ids[2]);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ((*set)->name, "成交");
  ASSERT_TRUE(stages.SetCustomerStage(admin, "c3", ids[2]).ok());
  ASSERT_TRUE(stages.SetCustomerStage(admin, "c3", ids[2]).ok());  // unchanged: recorded once
  ASSERT_TRUE(stages.SetCustomerStage(admin, "c2", ids[0]).ok());
  EXPECT_EQ(stages.SetCustomerStage(admin, "c1", 999).status().reason(), "stage_not_found");
  EXPECT_EQ(stages.SetCustomerStage(member, "c1", ids[0]).status().reason(), "customer_not_found");

  auto profile = svc.Get(admin, "c1");
  ASSERT_TRUE(profile.ok());
  EXPECT_EQ(profile->stage_name, "成交");
  EXPECT_EQ(profile->timeline.front().kind, "stage_changed");
  EXPECT_EQ(profile->timeline.front().detail, " → 成交");
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_events WHERE external_userid = 'c3'")->rows[0].Int(0), 1);
  EXPECT_EQ(Ids(*svc.List(admin, {.stage_id = ids[2]}, 1, 50)), (Strs{"c1", "c3"}));
  EXPECT_EQ(Ids(*svc.List(admin, {.stage_id = 0}, 1, 50)), Strs{});
  EXPECT_EQ(svc.List(admin, {.mode = ListMode::kRelationship, .stage_id = ids[2]}, 1, 50)->total, 3);
  EXPECT_EQ(svc.List(admin, {}, 1, 50)->items[1].stage_name, "成交");

  auto board = stages.Board(admin);
  ASSERT_TRUE(board.ok());
  ASSERT_EQ(board->stages.size(), 4u);
  EXPECT_EQ(board->stages[2].customers, 2);
  EXPECT_EQ(board->stages[0].customers, 1);
  EXPECT_EQ(board->unstaged, 0);
  ASSERT_TRUE(stages.Reorder(admin, {ids[3], ids[2], ids[1], ids[0]}).ok());
  EXPECT_EQ(stages.Reorder(admin, {ids[3], ids[2]}).reason(), "invalid_stage_order");
  EXPECT_EQ(stages.Board(admin)->stages[0].name, "复购");
  ASSERT_TRUE(stages.Delete(admin, ids[2]).ok());  // c1 and c3 are left in none
  EXPECT_EQ(stages.Board(admin)->unstaged, 2);
  EXPECT_EQ(Ids(*svc.List(admin, {.stage_id = 0}, 1, 50)), (Strs{"c1", "c3"}));

  // The member bound to lisi sees lisi's customers only, in the board too.
  ASSERT_TRUE(svc.Bind(admin, 3, "lisi", "own", {}).ok());
  EXPECT_EQ(stages.Board(member)->unstaged, 2);

  // Capacity: 2 active customers against the rule pack's limits; an unverified corp (200) is not near either.
  ASSERT_TRUE(t.db->Exec("INSERT INTO wecom_corps (team_id, corp_id, mode, secret_enc, callback_token_enc, "
                         "callback_aes_key_enc, linked_at, linked_by) VALUES (1, 'ww1', 'self_built', '', '', '', 0, 1)")
                  .ok());
  auto cap = stages.CapacityOf(TeamId(1));
  ASSERT_TRUE(cap.ok());
  EXPECT_EQ(cap->customers, 2);
  EXPECT_TRUE(cap->corp_verified);
  EXPECT_EQ(cap->limit, rules::DefaultRulePack().capacity.corp_verified);
  EXPECT_EQ(cap->level, "ok");
  ASSERT_TRUE(stages.SetCorpVerified(admin, false).ok());
  EXPECT_EQ(stages.CapacityOf(TeamId(1))->limit, rules::DefaultRulePack().capacity.corp_unverified);
  EXPECT_EQ(stages.SetCorpVerified(member, true).reason(), "admin_only");
  // 188 more active customers of wangwu: 190 of an unverified corp's 200 is 95 %.
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) -> Status {
    for (int i = 0; i < 188; ++i)
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, TeamId(1), Contact("x" + std::to_string(i), "客户"),
                                                 Follow("wangwu", 1000 + i), 1));
    return Status::Ok();
  }).ok());
  EXPECT_EQ(stages.CapacityOf(TeamId(1))->level, "critical");
  EXPECT_EQ(stages.CapacityOf(TeamId(2))->limit, rules::DefaultRulePack().capacity.corp_verified);  // not linked
}

TEST(CustomFieldValues, AreCheckedAndNormalised) {
  EXPECT_EQ(*NormalizeFieldValue(FieldKind::kNumber, " 007.50 "), "7.5");
  EXPECT_EQ(*NormalizeFieldValue(FieldKind::kNumber, "-0.000"), "0");
  EXPECT_EQ(*NormalizeFieldValue(FieldKind::kNumber, "-12"), "-12");
  EXPECT_EQ(*NormalizeFieldValue(FieldKind::kNumber, ""), "");
  for (const char* bad : {"1e5", "1.", ".5", "--1", "1,000", "1234567890123456", "1.1234567", "abc"})
    EXPECT_EQ(NormalizeFieldValue(FieldKind::kNumber, bad).status().reason(), "field_value_invalid") << bad;
  EXPECT_EQ(*NormalizeFieldValue(FieldKind::kDate, "2024-02-29"), "2024-02-29");
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-1-01", "1899-12-31", "2024/02/01", "2024-02-30"})
    EXPECT_EQ(NormalizeFieldValue(FieldKind::kDate, bad).status().reason(), "field_value_invalid") << bad;
  EXPECT_EQ(NormalizeFieldValue(FieldKind::kText, std::string(201, 'a')).status().reason(), "field_value_invalid");
  EXPECT_TRUE(NormalizeFieldValue(FieldKind::kText, std::string(200, 'a')).ok());
  EXPECT_EQ(NormalizeFieldValue(FieldKind::kSelect, "x").status().reason(), "field_value_invalid");
}

TEST_P(CustomersTest, CustomFieldsAreDefinedFilledFilteredAndRecorded) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 3, accounts::Role::kMember);
  auto other_admin = MakeAccount(*t.db, 2, 2, accounts::Role::kAdmin);
  Seed(*t.db);
  CustomerService svc(*t.db, clock_);
  FieldService fields(*t.db, clock_, svc);

  // Definitions: admin only, checked.
  EXPECT_EQ(fields.Create(member, "等级", "select", {"金卡"}).status().reason(), "admin_only");
  EXPECT_EQ(fields.Create(admin, " ", "text", {}).status().reason(), "field_name_empty");
  EXPECT_EQ(fields.Create(admin, "等级", "colour", {}).status().reason(), "field_kind_invalid");
  EXPECT_EQ(fields.Create(admin, "等级", "select", {}).status().reason(), "field_options_empty");
  EXPECT_EQ(fields.Create(admin, "等级", "select", {"金卡", " 金卡 "}).status().reason(), "field_option_duplicate");
  EXPECT_EQ(fields.Create(admin, "生日", "date", {"x"}).status().reason(), "field_options_unexpected");
  EXPECT_EQ(fields.Create(admin, "等级", "select", {"金\x01卡"}).status().reason(), "field_option_invalid");
  auto level = fields.Create(admin, "会员等级", "select", {"金卡", "银卡", "铜卡"});
  ASSERT_TRUE(level.ok()) << level.status().ToString();
  ASSERT_EQ(level->options.size(), 3u);
  const int64_t gold = level->options[0].id, silver = level->options[1].id, bronze = level->options[2].id;
  auto hobbies = fields.Create(admin, "兴趣", "multi_select", {"跑步", "咖啡"});
  auto birthday = fields.Create(admin, "生日", "date", {});
  auto size = fields.Create(admin, "鞋码", "number", {});
  ASSERT_TRUE(hobbies.ok() && birthday.ok() && size.ok());
  EXPECT_EQ(fields.Create(admin, "生日", "text", {}).status().reason(), "field_exists");
  EXPECT_EQ(fields.List(TeamId(2), false)->size(), 0u);  // another team's

  // Values: checked against the field, all or nothing, only on customers the caller may see.
  auto set = fields.SetValues(admin, "c1", {{.field_id = level->id, .value = "", .option_ids = {gold}},
                                            {.field_id = birthday->id, .value = "1990-05-04", .option_ids = {}},
                                            {.field_id = size->id, .value = "42.0", .option_ids = {}},
                                            {.field_id = hobbies->id, .value = "", .option_ids = {hobbies->options[1].id,
                                                                                                 hobbies->options[0].id}}});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->size(), 4u);
  EXPECT_EQ((*set)[0].option_ids, std::vector<int64_t>{gold});
  EXPECT_EQ((*set)[1].option_ids, (std::vector<int64_t>{hobbies->options[0].id, hobbies->options[1].id}));
  EXPECT_EQ((*set)[2].value, "1990-05-04");
  EXPECT_EQ((*set)[3].value, "42");
  EXPECT_EQ(fields.SetValues(admin, "c1", {{.field_id = level->id, .value = "", .option_ids = {gold, silver}}})
                .status().reason(), "field_value_invalid");  // one option only
  EXPECT_EQ(fields.SetValues(admin, "c1", {{.field_id = level->id, .value = "", .option_ids = {hobbies->options[0].id}}})
                .status().reason(), "field_value_invalid");  // another field's option
  EXPECT_EQ(fields.SetValues(admin, "c1", {{.field_id = size->id, .value = "big", .option_ids = {}}}).status().reason(),
            "field_value_invalid");
  EXPECT_EQ(fields.SetValues(admin, "c1", {{.field_id = 9999, .value = "x", .option_ids = {}}}).status().reason(),
            "field_not_found");
  // A bad value leaves the good one before it unwritten.
  EXPECT_FALSE(fields.SetValues(admin, "c3", {{.field_id = size->id, .value = "39", .option_ids = {}},
                                              {.field_id = birthday->id, .value = "1990-02-30", .option_ids = {}}}).ok());
  EXPECT_TRUE(fields.ValuesOf(TeamId(1), "c3")->empty());
  EXPECT_EQ(fields.SetValues(member, "c2", {{.field_id = size->id, .value = "39", .option_ids = {}}}).status().reason(),
            "customer_not_found");  // the member is bound to no one yet
  EXPECT_EQ(fields.SetValues(other_admin, "c1", {{.field_id = size->id, .value = "39", .option_ids = {}}})
                .status().reason(), "customer_not_found");  // another team's customer

  // The timeline names each change; an unchanged value is not recorded.
  ASSERT_TRUE(fields.SetValues(admin, "c1", {{.field_id = level->id, .value = "", .option_ids = {silver}},
                                             {.field_id = size->id, .value = "42", .option_ids = {}}}).ok());
  auto profile = svc.Get(admin, "c1");
  ASSERT_TRUE(profile.ok());
  std::vector<std::string> changes;
  for (const auto& item : profile->timeline)
    if (item.kind == "field_changed") changes.push_back(item.detail);
  EXPECT_EQ(changes.size(), 5u);
  EXPECT_NE(std::find(changes.begin(), changes.end(), "会员等级: 金卡 → 银卡"), changes.end());
  EXPECT_NE(std::find(changes.begin(), changes.end(), "兴趣:  → 跑步、咖啡"), changes.end());
  EXPECT_NE(std::find(changes.begin(), changes.end(), "生日:  → 1990-05-04"), changes.end());

  // The list filters by option; so does a segment rule (segments' own tests check the index against SQL).
  ASSERT_TRUE(fields.SetValues(admin, "c3", {{.field_id = level->id, .value = "", .option_ids = {bronze}}}).ok());
  EXPECT_EQ(Ids(*svc.List(admin, {.field_option_ids = {silver}}, 1, 50)), Strs{"c1"});
  EXPECT_EQ(Ids(*svc.List(admin, {.field_option_ids = {silver, bronze}}, 1, 50)), (Strs{"c1", "c3"}));
  EXPECT_EQ(svc.List(admin, {.mode = ListMode::kRelationship, .field_option_ids = {silver}}, 1, 50)->total, 2);
  EXPECT_EQ(Ids(*svc.List(admin, {.field_option_ids = {gold}}, 1, 50)), Strs{});

  // Editing options: renaming keeps the customers' choice, removing an option removes it from them, swapping two
  // labels works.
  auto edited = fields.Update(admin, level->id, std::nullopt,
                              std::vector<FieldOption>{{.id = bronze, .label = "银卡"}, {.id = silver, .label = "铜卡"},
                                                       {.id = 0, .label = "黑卡"}});
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  ASSERT_EQ(edited->options.size(), 3u);
  EXPECT_EQ(edited->options[0].id, bronze);
  EXPECT_EQ(edited->options[1].label, "铜卡");
  EXPECT_EQ(edited->options[2].label, "黑卡");
  EXPECT_EQ(edited->customers, 2);
  EXPECT_EQ(Ids(*svc.List(admin, {.field_option_ids = {gold}}, 1, 50)), Strs{});
  EXPECT_EQ(fields.Update(admin, level->id, "兴趣", std::nullopt).status().reason(), "field_exists");
  EXPECT_EQ(fields.Update(admin, level->id, std::nullopt, std::vector<FieldOption>{{.id = hobbies->options[0].id,
                                                                                   .label = "x"}})
                .status().reason(), "field_option_invalid");
  EXPECT_EQ(fields.Update(admin, size->id, std::nullopt, std::vector<FieldOption>{{.id = 0, .label = "x"}})
                .status().reason(), "field_options_unexpected");
  ASSERT_TRUE(fields.Update(admin, level->id, std::nullopt, std::vector<FieldOption>{{.id = silver, .label = "铜卡"}}).ok());
  EXPECT_TRUE(fields.ValuesOf(TeamId(1), "c3")->empty());  // bronze was removed
  EXPECT_EQ(fields.ValuesOf(TeamId(1), "c1")->at(0).option_ids, std::vector<int64_t>{silver});

  // Order and deletion.
  ASSERT_TRUE(fields.Reorder(admin, {size->id, birthday->id, hobbies->id, level->id}).ok());
  EXPECT_EQ(fields.Reorder(admin, {size->id}).reason(), "invalid_field_order");
  EXPECT_EQ(fields.List(TeamId(1), false)->front().name, "鞋码");
  EXPECT_EQ(fields.Delete(other_admin, size->id).reason(), "field_not_found");
  ASSERT_TRUE(fields.Delete(admin, size->id).ok());
  EXPECT_EQ(fields.ValuesOf(TeamId(1), "c1")->size(), 3u);
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM customer_field_values WHERE field_id = ?", {size->id})->rows[0].Int(0), 0);

  // A member bound to lisi may fill the fields of lisi's customers.
  ASSERT_TRUE(svc.Bind(admin, 3, "lisi", "own", {}).ok());
  ASSERT_TRUE(fields.SetValues(member, "c3", {{.field_id = birthday->id, .value = "2000-01-01", .option_ids = {}}}).ok());
  EXPECT_EQ(fields.SetValues(member, "c2", {{.field_id = birthday->id, .value = "2000-01-01", .option_ids = {}}})
                .status().reason(), "customer_not_found");
}

TEST_P(CustomersTest, RowsWrittenBeforeInitialsExistedGetThemOnce) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  Seed(*t.db);
  // As an older Koi (or the benchmark's generator) left them: no initials.
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_customers SET name_py = NULL").ok());
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET remark_py = NULL").ok());
  CustomerService svc(*t.db, clock_);
  EXPECT_EQ(svc.List(admin, {.query = "wxm"}, 1, 50)->total, 0);
  auto customers = t.db->Query("SELECT COUNT(*) FROM wecom_customers").value().rows[0].Int(0);
  auto follows = t.db->Query("SELECT COUNT(*) FROM wecom_follows").value().rows[0].Int(0);
  auto filled = BackfillInitials(*t.db);
  ASSERT_TRUE(filled.ok()) << filled.status().ToString();
  EXPECT_EQ(*filled, customers + follows);
  EXPECT_EQ(BackfillInitials(*t.db).value(), 0);
  EXPECT_EQ(Ids(svc.List(admin, {.query = "wxm"}, 1, 50).value()), Strs{"c1"});
  EXPECT_EQ(Ids(svc.List(admin, {.query = "lk"}, 1, 50).value()), Strs{"c1"});
  auto alice = t.db->Query("SELECT name_py FROM wecom_customers WHERE external_userid = 'c3'").value();
  EXPECT_EQ(alice.rows[0].Text(0), "alice");
}

INSTANTIATE_TEST_SUITE_P(Engines, CustomersTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::customers
