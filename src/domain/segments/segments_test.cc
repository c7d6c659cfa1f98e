#include "domain/segments/segments.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "domain/customers/customers_test_util.h"
#include "domain/wecom_link/mirror.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::segments {
namespace {

using testing::TestEngine;
namespace mirror = wecom_link::mirror;

using customers::testutil::Contact;
using customers::testutil::Follow;
using customers::testutil::MakeAccount;

constexpr int64_t kNow = 1767196800 + 10 * 86400;  // 2026-01-11 00:00 UTC+8

class SegmentServiceTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  SegmentServiceTest() { clock_.Set(kNow * 1000); }

  // Departments 1 > 2; zhangsan in 2, lisi in 1. c1: zhangsan (VIP, 2026-01-10) and lisi (潜客, 2026-01-02);
  // c2 (female): lisi (VIP, 2025-12-01); c3: zhangsan, lost. Team 2 has a VIP customer of its own.
  void Seed(storage::Database& db) {
    ASSERT_TRUE(db.Transact([](storage::Session& tx) -> Status {
      const TeamId team(1);
      KOI_RETURN_IF_ERROR(mirror::UpsertDepartments(tx, team, {{1, "锦鲤", 0, 1}, {2, "销售部", 1, 1}}, 1));
      for (auto [userid, name, dept] : {std::tuple{"zhangsan", "张三", 2}, {"lisi", "李四", 1}}) {
        wecom::User u;
        u.userid = userid;
        u.name = name;
        u.departments = {dept};
        u.main_department = dept;
        u.status = 1;
        KOI_RETURN_IF_ERROR(mirror::UpsertEmployee(tx, team, u, true, 1));
      }
      KOI_RETURN_IF_ERROR(
          mirror::UpsertTagGroups(tx, team, {{"g1", "等级", 0, 1, {{"t1", "VIP", 0, 1}, {"t2", "潜客", 0, 2}}}}, 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c1", "王小明"), Follow("zhangsan", kNow - 86400, {"t1"}), 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c1", "王小明"), Follow("lisi", kNow - 9 * 86400, {"t2"}), 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c2", "李华", 2), Follow("lisi", kNow - 41 * 86400, {"t1"}), 1));
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c3", "Alice"), Follow("zhangsan", kNow - 5 * 86400), 1));
      KOI_RETURN_IF_ERROR(mirror::MarkRelationLost(tx, team, "zhangsan", "c3", "customer", kNow * 1000));
      KOI_RETURN_IF_ERROR(mirror::UpsertTagGroups(tx, TeamId(2), {{"g1", "等级", 0, 1, {{"t1", "VIP", 0, 1}}}}, 1));
      return mirror::UpsertRelation(tx, TeamId(2), Contact("c9", "王小明"), Follow("zhangsan", kNow, {"t1"}), 1);
    }).ok());
  }

  int64_t CountOf(SegmentService& svc, const accounts::Principal& who, const std::string& rule) {
    auto r = svc.Count(who, rule);
    EXPECT_TRUE(r.ok()) << rule << ": " << r.status().ToString();
    return r.ok() ? r->customers : -1;
  }

  FakeClock clock_;
};

TEST_P(SegmentServiceTest, CountsExactlyWithASampleInTheCallersScope) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 2, accounts::Role::kMember);
  auto unbound = MakeAccount(*t.db, 1, 3, accounts::Role::kMember);
  ASSERT_TRUE(t.db->Exec("INSERT INTO teams (id, name, created_at) VALUES (2, 'other', 0)").ok());
  MakeAccount(*t.db, 2, 2000, accounts::Role::kAdmin);
  Seed(*t.db);
  customers::CustomerService customers(*t.db, clock_);
  SegmentIndex index(*t.db, clock_);
  SegmentService svc(*t.db, clock_, index, customers);

  EXPECT_EQ(CountOf(svc, admin, R"({"op":"and","children":[]})"), 3);
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"corp_tag","values":["t1"]})"), 2);
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"corp_tag","match":"all","values":["t1","t2"]})"), 1);
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"corp_tag","match":"none","values":["t1"]})"), 1);  // c3 (lost)
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"added","within_days":10})"), 1);  // c1; c3's relationship is lost
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"added","from":"2025-12-01","to":"2025-12-01"})"), 1);
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"department","values":[2]})"), 1);  // zhangsan's active: c1
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"status","value":"lost"})"), 1);
  EXPECT_EQ(CountOf(svc, admin, R"({"op":"or","children":[{"field":"gender","values":[2]},
      {"field":"employee","values":["zhangsan"]}]})"), 2);

  auto preview = svc.Count(admin, R"({"field":"corp_tag","values":["t1"]})");
  ASSERT_TRUE(preview.ok());
  ASSERT_EQ(preview->sample.size(), 2u);
  EXPECT_EQ(preview->sample[0].name, "王小明");
  EXPECT_EQ(preview->sample[1].gender, 2);

  // A member bound to lisi sees lisi's customers only (c1, c2); an unbound member sees none.
  ASSERT_TRUE(customers.Bind(admin, 2, "lisi", "own", {}).ok());
  EXPECT_EQ(CountOf(svc, member, R"({"op":"and","children":[]})"), 2);
  EXPECT_EQ(CountOf(svc, member, R"({"field":"status","value":"lost"})"), 0);
  EXPECT_EQ(CountOf(svc, unbound, R"({"op":"and","children":[]})"), 0);

  // A new VIP customer is counted at once (the index catches up from segment_changes).
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
    return mirror::UpsertRelation(tx, TeamId(1), Contact("c4", "新客"), Follow("lisi", kNow, {"t1"}), 1);
  }).ok());
  EXPECT_EQ(CountOf(svc, admin, R"({"field":"corp_tag","values":["t1"]})"), 3);
  EXPECT_EQ(CountOf(svc, member, R"({"field":"corp_tag","values":["t1"]})"), 3);
}

// Inside a small set an add-time range is tested customer by customer (one add day each; several relationships go
// through the day bitmaps): the range's two ends are inclusive as in SQL.
TEST_P(SegmentServiceTest, AddTimeRangesTestedCustomerByCustomerKeepBothEnds) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  Seed(*t.db);
  customers::CustomerService customers(*t.db, clock_);
  for (uint64_t ratio : {uint64_t{0}, ~uint64_t{0}}) {  // always one by one; never
    SegmentIndex index(*t.db, clock_, SegmentIndex::Options{.added_lookup_ratio = ratio});
    SegmentService svc(*t.db, clock_, index, customers);
    auto count = [&](const std::string& added) {
      return CountOf(svc, admin, R"({"op":"and","children":[{"field":"corp_tag","values":["t1"]},)" + added + "]}");
    };
    // c2 (VIP, one relationship, added 2025-12-01); c1 (VIP, two: 2026-01-10 and 2026-01-02).
    EXPECT_EQ(count(R"({"field":"added","from":"2025-12-01","to":"2025-12-01"})"), 1) << ratio;
    EXPECT_EQ(count(R"({"field":"added","from":"2025-11-01","to":"2025-12-01"})"), 1) << ratio;
    EXPECT_EQ(count(R"({"field":"added","from":"2025-12-02","to":"2026-01-01"})"), 0) << ratio;
    EXPECT_EQ(count(R"({"field":"added","from":"2025-11-30","to":"2025-11-30"})"), 0) << ratio;
    EXPECT_EQ(count(R"({"field":"added","from":"2026-01-02","to":"2026-01-02"})"), 1) << ratio;  // c1's older one
    EXPECT_EQ(count(R"({"field":"added","from":"2025-12-01","to":"2026-01-10"})"), 2) << ratio;
    // After c2's relationship is lost it has no add day (c2 stays female: the set it is tested in); a new one
    // gives it a new day.
    auto female = [&](const std::string& added) {
      return CountOf(svc, admin, R"({"op":"and","children":[{"field":"gender","values":[2]},)" + added + "]}");
    };
    EXPECT_EQ(female(R"({"field":"added","from":"2025-12-01","to":"2025-12-01"})"), 1) << ratio;
    ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
      return mirror::MarkRelationLost(tx, TeamId(1), "lisi", "c2", "employee", kNow * 1000);
    }).ok());
    EXPECT_EQ(female(R"({"field":"added","from":"2025-12-01","to":"2025-12-01"})"), 0) << ratio;
    ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
      return mirror::UpsertRelation(tx, TeamId(1), Contact("c2", "李华", 2), Follow("zhangsan", kNow - 3 * 86400, {"t1"}), 1);
    }).ok());
    EXPECT_EQ(female(R"({"field":"added","from":"2026-01-08","to":"2026-01-08"})"), 1) << ratio;
    EXPECT_EQ(count(R"({"field":"added","from":"2026-01-08","to":"2026-01-08"})"), 1) << ratio;
    ASSERT_TRUE(t.db->Exec("DELETE FROM wecom_follows WHERE team_id = 1 AND external_userid = 'c2' AND userid = 'zhangsan'").ok());
    ASSERT_TRUE(t.db->Exec("DELETE FROM wecom_follow_tags WHERE team_id = 1 AND external_userid = 'c2'").ok());
    ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET deleted_at = NULL, deleted_by = '' WHERE team_id = 1 AND "
                           "external_userid = 'c2'").ok());
    ASSERT_TRUE(t.db->Exec("INSERT INTO wecom_follow_tags (team_id, userid, external_userid, tag_id) VALUES "
                           "(1, 'lisi', 'c2', 't1')").ok());
  }
}

TEST_P(SegmentServiceTest, IndexCountsTheCustomerListExactlyWhereItCan) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 2, accounts::Role::kMember);
  Seed(*t.db);
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_stages (id, team_id, name, sort, created_at) VALUES (4, 1, '成交', 1, 0)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_profiles (team_id, external_userid, stage_id, updated_at) VALUES "
                         "(1, 'c1', 4, 0), (1, 'c3', 4, 0), (2, 'c9', 4, 0)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO personal_tags (id, team_id, account_id, name, created_at) VALUES (7, 1, 1, '老板', 0)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO personal_tag_customers (tag_id, team_id, external_userid, created_at) VALUES "
                         "(7, 1, 'c2', 0)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, value, "
                         "updated_at) VALUES (1, 'c1', 1, 11, '', 0), (1, 'c2', 1, 12, '', 0), (2, 'c9', 1, 11, '', 0)").ok());
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET remark = '老客户', remark_mobiles = '[\"13800001111\"]', "
                         "remark_corp_name = 'Koi Ltd' WHERE team_id = 1 AND external_userid = 'c2'").ok());
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_customers SET corp_name = '明天科技' WHERE team_id = 1 AND external_userid = 'c1'").ok());
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET remark_corp_name = '明明' WHERE team_id = 1 AND external_userid = 'c1' "
                         "AND userid = 'zhangsan'").ok());
  customers::CustomerService plain(*t.db, clock_);
  customers::CustomerService fast(*t.db, clock_);
  SegmentIndex index(*t.db, clock_);
  IndexListAccelerator counter(index);
  fast.SetListAccelerator(&counter);
  ASSERT_TRUE(index.Build(TeamId(1)).ok());
  ASSERT_TRUE(plain.Bind(admin, 2, "lisi", "own", {}).ok());

  using F = customers::CustomerFilter;
  constexpr auto Rel = customers::ListMode::kRelationship;
  const std::vector<F> answered = {
      F{}, F{.tag_ids = {"t1"}}, F{.tag_ids = {"t1", "t2"}}, F{.tag_ids = {"t9"}}, F{.gender = 2},
      F{.status = "active"}, F{.stage_id = 4}, F{.stage_id = 0}, F{.stage_id = 99},
      F{.personal_tag_ids = {7}}, F{.field_option_ids = {11}}, F{.field_option_ids = {11, 12}},
      F{.tag_ids = {"t1"}, .gender = 2, .stage_id = 0},
      // One row per relationship: by employee and status "active" only.
      F{.mode = Rel}, F{.mode = Rel, .userids = {"lisi"}}, F{.mode = Rel, .status = "active"},
      F{.mode = Rel, .userids = {"zhangsan", "nobody"}, .status = "active"}};
  const std::vector<F> not_answered = {F{.mode = Rel, .query = "王"}, F{.mode = Rel, .tag_ids = {"t1"}},
                                       F{.mode = Rel, .status = "lost"}, F{.userids = {"lisi"}}, F{.status = "lost"},
                                       F{.add_way = 1}};
  auto check = [&](const char* when) {
    for (const auto* who : {&admin, &member}) {
      auto scope = plain.ScopeOf(*who);
      ASSERT_TRUE(scope.ok());
      for (const auto& f : answered) {
        auto want = plain.List(*who, f, 1, 50);
        auto got = fast.List(*who, f, 1, 50);
        ASSERT_TRUE(want.ok() && got.ok());
        EXPECT_EQ(got->total, want->total) << when << " " << who->name << " filter #" << (&f - answered.data());
        std::vector<std::string> a, b;  // the same page, in the same order (SQLite may walk the index instead)
        for (const auto& r : want->items) a.push_back(r.external_userid + "/" + r.relationship_userid);
        for (const auto& r : got->items) b.push_back(r.external_userid + "/" + r.relationship_userid);
        EXPECT_EQ(a, b) << when << " " << who->name << " filter #" << (&f - answered.data());
        const bool member_only_sql = !who->is_admin() && f.mode == customers::ListMode::kCustomer &&
                                     (!f.tag_ids.empty() || !f.status.empty() || !f.personal_tag_ids.empty());
        EXPECT_EQ(counter.Count(TeamId(1), *scope, f).has_value(), !member_only_sql)
            << when << " " << who->name << " filter #" << (&f - answered.data());
      }
      for (const auto& f : not_answered) EXPECT_FALSE(counter.Count(TeamId(1), *scope, f).has_value());
      // Searches: for an admin's customers the index answers exactly (its candidates checked against the texts it
      // keeps, with the engine's LIKE: SQLite ignores ASCII case, PostgreSQL does not); otherwise it narrows to
      // candidates and SQL re-checks them. Either way the pages are SQL's exactly.
      for (const char* q : {"王", "王小明", "小明", "王大", "老客户", "0000111", "koi", "KOI ltd", "Koi", "alice", "ALI",
                            "李华x", "明", "zz", "wxm", "WXm", "xm", "zl", "lk", "w", " 小明 ", "\"", "%", "_",
                            "小明明天"}) {  // the last spans c1's name and company (its pairs are all c1's): nobody
        for (auto mode : {customers::ListMode::kCustomer, customers::ListMode::kRelationship}) {
          const F f{.mode = mode, .query = q};
          auto want = plain.List(*who, f, 1, 50);
          auto got = fast.List(*who, f, 1, 50);
          ASSERT_TRUE(want.ok() && got.ok());
          EXPECT_EQ(got->total, want->total) << when << " " << who->name << " search " << q;
          auto counted = counter.Count(TeamId(1), *scope, f);
          EXPECT_EQ(counted.has_value(), who->is_admin() && mode == customers::ListMode::kCustomer)
              << when << " " << who->name << " search " << q;
          if (counted) {
            EXPECT_EQ(*counted, want->total) << when << " " << who->name << " search " << q;
          }
          std::vector<std::string> a, b;
          for (const auto& r : want->items) a.push_back(r.external_userid);
          for (const auto& r : got->items) b.push_back(r.external_userid);
          EXPECT_EQ(a, b) << when << " " << who->name << " search " << q;
        }
      }
    }
    // The candidates themselves: a superset that is small where the text is rare.
    EXPECT_EQ(counter.SearchCandidates(TeamId(1), "zz", 100), std::vector<int64_t>{});
    auto wang = counter.SearchCandidates(TeamId(1), "王小明", 100);
    ASSERT_TRUE(wang.has_value());
    EXPECT_GE(wang->size(), 1u);
    EXPECT_FALSE(counter.SearchCandidates(TeamId(1), "i", 0).has_value());  // more than the limit
    // Texts holding the separators of the index's texts: SQL answers. A NUL (which would end SQL's text) is refused.
    auto admin_scope = plain.ScopeOf(admin);
    ASSERT_TRUE(admin_scope.ok());
    EXPECT_EQ(fast.List(admin, F{.query = std::string("\x00" "b", 2)}, 1, 50).status().reason(), "invalid_filter");
    // Brackets too: the texts leave out the empty remark mobiles ("[]"), which SQL's LIKE would find them in.
    for (std::string q : {std::string("a\x01" "b"), std::string("王\x02"), std::string("["), std::string("[]"),
                          std::string("[\"1380")}) {
      EXPECT_FALSE(counter.Count(TeamId(1), *admin_scope, F{.query = q}).has_value());
      auto want = plain.List(admin, F{.query = q}, 1, 50);
      auto got = fast.List(admin, F{.query = q}, 1, 50);
      ASSERT_TRUE(want.ok() && got.ok());
      EXPECT_EQ(got->total, want->total);
    }
  };
  check("built");
  // Changes reach the counts at once: a new tag, a loss, a new customer, a stage change.
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) -> Status {
    const TeamId team(1);
    KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, team, Contact("c4", "赵六", 2), Follow("lisi", kNow, {"t1"}), 1));
    KOI_RETURN_IF_ERROR(mirror::MarkRelationLost(tx, team, "lisi", "c2", "employee", kNow * 1000));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_customers SET name = '王大明' WHERE team_id = 1 AND external_userid = 'c3'"));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET remark = '老客户' WHERE team_id = 1 AND external_userid = 'c1' "
                                "AND userid = 'lisi'"));
    return tx.Exec("UPDATE customer_profiles SET stage_id = NULL WHERE team_id = 1 AND external_userid = 'c3'");
  }).ok());
  check("changed");
  // One customer's texts changed again and again: each search sees only the newest (the index's unused entries
  // are compacted away on the way).
  auto admin_scope = plain.ScopeOf(admin);
  ASSERT_TRUE(admin_scope.ok());
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET remark = ? WHERE team_id = 1 AND external_userid = 'c1' AND "
                           "userid = 'lisi'", {"备注#" + std::to_string(i) + "# with enough text to fill the arena"}).ok());
    EXPECT_EQ(counter.Count(TeamId(1), *admin_scope, F{.query = "#" + std::to_string(i) + "#"}), 1) << i;
    if (i > 0) {
      EXPECT_EQ(counter.Count(TeamId(1), *admin_scope, F{.query = "#" + std::to_string(i - 1) + "#"}), 0) << i;
    }
  }
  check("changed many times");
}

// Sorted by add time, the index names each page's customers from its day buckets (PageWindow): every page, both
// directions, ties within a second and across a day's boundary, must be SQL's page exactly.
TEST_P(SegmentServiceTest, IndexPagesTheListByAddTimeExactly) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 2, accounts::Role::kMember);
  Seed(*t.db);
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) -> Status {
    for (int i = 0; i < 90; ++i) {
      // 13 days; within a day three times, one of them shared by several customers, and one a second before the
      // day's (UTC+8) midnight.
      const int64_t day_start = kNow - (i % 13) * 86400;
      const int64_t at = i % 3 == 0 ? day_start : i % 3 == 1 ? day_start - 1 : day_start + 3600;
      const std::string id = "p" + std::to_string(1000 + (i * 37) % 90);  // keys not in the order of times
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(
          tx, TeamId(1), Contact(id, "客户" + std::to_string(i), 1 + i % 2),
          Follow(i % 4 == 0 ? "zhangsan" : "lisi", at, i % 5 == 0 ? std::vector<std::string>{"t1"} : std::vector<std::string>{}),
          1));
    }
    return Status::Ok();
  }).ok());
  customers::CustomerService plain(*t.db, clock_);
  customers::CustomerService fast(*t.db, clock_), ranged(*t.db, clock_);
  SegmentIndex index(*t.db, clock_);
  IndexListAccelerator accelerator(index);
  IndexListAccelerator days_only(index, 3);  // more than 3 keys: SQL reads the page's days by time alone
  fast.SetListAccelerator(&accelerator);
  ranged.SetListAccelerator(&days_only);
  ASSERT_TRUE(index.Build(TeamId(1)).ok());
  ASSERT_TRUE(plain.Bind(admin, 2, "lisi", "own", {}).ok());

  using F = customers::CustomerFilter;
  auto check = [&](const char* when) {
    for (const auto* who : {&admin, &member}) {
      auto window = days_only.PageWindow(TeamId(1), *plain.ScopeOf(*who), F{}, 0, 7);
      ASSERT_TRUE(window.has_value());
      EXPECT_FALSE(window->ids_listed);
      EXPECT_TRUE(window->overlaps);
      auto scope = plain.ScopeOf(*who);
      ASSERT_TRUE(scope.ok());
      for (const char* sort : {"-add_time", "add_time"}) {
        std::vector<F> filters = {F{.sort = sort}, F{.gender = 2, .sort = sort}, F{.sort = sort, .stage_id = 0}};
        if (who->is_admin()) filters.push_back(F{.tag_ids = {"t1"}, .sort = sort});
        for (const auto& f : filters) {
          EXPECT_TRUE(accelerator.PageWindow(TeamId(1), *scope, f, 0, 7).has_value()) << when << " " << sort;
          for (int size : {7, 50}) {
            for (int page = 1;; ++page) {
              auto want = plain.List(*who, f, page, size);
              auto got = fast.List(*who, f, page, size);
              auto by_days = ranged.List(*who, f, page, size);
              ASSERT_TRUE(want.ok() && got.ok() && by_days.ok());
              const std::string where = std::string(when) + " " + who->name + " " + sort + " filter #" +
                                        std::to_string(&f - filters.data()) + " page " + std::to_string(page) + "/" +
                                        std::to_string(size);
              EXPECT_EQ(got->total, want->total) << where;
              std::vector<std::string> a, b, c;
              for (const auto& r : want->items) a.push_back(r.external_userid);
              for (const auto& r : got->items) b.push_back(r.external_userid);
              for (const auto& r : by_days->items) c.push_back(r.external_userid);
              ASSERT_EQ(a, b) << where;
              ASSERT_EQ(a, c) << where << " (by days)";
              if (want->items.empty()) break;
            }
          }
        }
      }
      // A search narrowed by the index: every page, every order (one pass gives the total and the page's keys).
      for (const char* sort : {"-add_time", "add_time", "name", "-name"}) {
        for (const char* query : {"客户1", "kh2", "新"}) {
          for (int page = 1;; ++page) {
            const F f{.query = query, .sort = sort};
            auto want = plain.List(*who, f, page, 4);
            auto got = fast.List(*who, f, page, 4);
            ASSERT_TRUE(want.ok() && got.ok());
            const std::string where = std::string(when) + " " + who->name + " " + sort + " search " + query +
                                      " page " + std::to_string(page);
            EXPECT_EQ(got->total, want->total) << where;
            std::vector<std::string> a, b;
            for (const auto& r : want->items) a.push_back(r.external_userid);
            for (const auto& r : got->items) b.push_back(r.external_userid);
            ASSERT_EQ(a, b) << where;
            if (want->items.empty()) break;
          }
        }
      }
    }
  };
  check("built");
  // A last_add_time written on its own (not with a relationship) moves the customer in the index's order too.
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_customers SET last_add_time = ? WHERE team_id = 1 AND external_userid = 'p1044'",
                         {kNow + 86400}).ok());
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
    return mirror::UpsertRelation(tx, TeamId(1), Contact("p0999", "新客"), Follow("lisi", kNow - 30 * 86400), 1);
  }).ok());
  check("changed");
  auto first = fast.List(admin, F{}, 1, 1);
  ASSERT_TRUE(first.ok() && first->items.size() == 1);
  EXPECT_EQ(first->items[0].external_userid, "p1044");
  // Past the end: the total, no rows.
  auto past = fast.List(admin, F{}, 100, 50);
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->items.empty());
  EXPECT_EQ(past->total, 94);

  // A window the database disagrees with (an index behind it) gives a short page: the list reads it the plain way.
  struct Behind final : customers::ListAccelerator {
    std::optional<int64_t> Count(TeamId, const customers::Scope&, const customers::CustomerFilter&) override {
      return std::nullopt;
    }
    std::optional<std::vector<int64_t>> SearchCandidates(TeamId, std::string_view, size_t) override {
      return std::nullopt;
    }
    std::optional<Window> PageWindow(TeamId, const customers::Scope&, const customers::CustomerFilter&, int64_t,
                                     int64_t) override {
      return Window{.total = 94, .overlaps = true, .from_s = 0, .to_s = 1, .skip = 0, .ids_listed = false};
    }
  } behind;
  customers::CustomerService lagging(*t.db, clock_);
  lagging.SetListAccelerator(&behind);
  auto want = plain.List(admin, F{}, 2, 10);
  auto got = lagging.List(admin, F{}, 2, 10);
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ(got->items.size(), 10u);
  EXPECT_EQ(got->total, 94);
  for (size_t i = 0; i < want->items.size(); ++i)
    EXPECT_EQ(got->items[i].external_userid, want->items[i].external_userid) << i;
}

TEST_P(SegmentServiceTest, ListAcceleratorNeverWaitsAndCatchesUpInTheBackground) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  Seed(*t.db);
  customers::CustomerService plain(*t.db, clock_);
  SegmentIndex index(*t.db, clock_, SegmentIndex::Options{.page_size = 100, .build_threads = 1});
  IndexListAccelerator accelerator(index);
  auto scope = plain.ScopeOf(admin);
  ASSERT_TRUE(scope.ok());
  // Answered once the background build it started is done; the list meanwhile counts with SQL.
  auto eventually = [&](int64_t want) {
    for (int i = 0; i < 500; ++i) {
      if (auto n = accelerator.Count(TeamId(1), *scope, {})) return *n == want;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  EXPECT_FALSE(accelerator.Count(TeamId(1), *scope, {}).has_value());  // no index yet: never waits for the build
  EXPECT_TRUE(eventually(3));
  // Changes the index can no longer read (the log was purged past them): stale, rebuilt in the background.
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) -> Status {
    for (const char* c : {"c4", "c5", "c6"})
      KOI_RETURN_IF_ERROR(mirror::UpsertRelation(tx, TeamId(1), Contact(c, "新客"), Follow("lisi", kNow), 1));
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(index.PurgeChanges(0).ok());
  EXPECT_FALSE(accelerator.Count(TeamId(1), *scope, {}).has_value());
  EXPECT_TRUE(eventually(6));
  EXPECT_EQ(plain.List(admin, {}, 1, 50)->total, 6);
}

TEST_P(SegmentServiceTest, RejectsReferencesOutsideTheTeamWithThePath) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 2, accounts::Role::kMember);
  Seed(*t.db);
  ASSERT_TRUE(t.db->Exec("INSERT INTO personal_tags (id, team_id, account_id, name, created_at) VALUES (7, 1, 1, '老板', 0)").ok());
  customers::CustomerService customers(*t.db, clock_);
  SegmentIndex index(*t.db, clock_);
  SegmentService svc(*t.db, clock_, index, customers);
  auto error = [&](const accounts::Principal& who, const std::string& rule) {
    auto r = svc.Count(who, rule);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(error(admin, R"({"op":"and","children":[{"field":"corp_tag","values":["t1","t9"]}]})"),
            "rule.children[0].values[1]: no such corp tag");
  EXPECT_EQ(error(admin, R"({"field":"stage","values":[0,42]})"), "rule.values[1]: no such stage");
  EXPECT_EQ(error(admin, R"({"field":"department","values":[9]})"), "rule.values[0]: no such department");
  EXPECT_EQ(error(admin, R"({"field":"employee","values":["nobody"]})"), "rule.values[0]: no such employee");
  EXPECT_EQ(error(admin, R"({"field":"group","values":["wr1"]})"), "rule.values[0]: no such group chat");
  EXPECT_EQ(error(admin, R"({"field":"personal_tag","values":[7]})"), "ok");
  EXPECT_EQ(error(member, R"({"field":"personal_tag","values":[7]})"), "rule.values[0]: no such personal tag of yours");
  // Options of custom fields: the team's own only (team 2's option 8 is not team 1's).
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_field_options (id, team_id, field_id, label, sort) VALUES (5, 1, 1, "
                         "'金卡', 0), (8, 2, 2, '银卡', 0)").ok());
  EXPECT_EQ(error(member, R"({"field":"custom_field","match":"all","values":[5]})"), "ok");
  EXPECT_EQ(error(admin, R"({"field":"custom_field","values":[5,8]})"),
            "rule.values[1]: no such option of a custom field");
  // Typed values: a number field takes min/max, a date field from/to, and only the team's own.
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_fields (id, team_id, name, kind, sort, created_at) VALUES (21, 1, '积分', "
                         "'number', 0, 0), (22, 1, '生日', 'date', 1, 0), (23, 1, '备注', 'text', 2, 0), (24, 2, '积分', "
                         "'number', 0, 0)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, value, "
                         "updated_at) VALUES (1, 'c1', 21, 0, '120', 0), (1, 'c2', 21, 0, '80.5', 0), (1, 'c1', 22, 0, "
                         "'1990-05-01', 0), (1, 'c3', 22, 0, '2001-12-31', 0)").ok());
  EXPECT_EQ(error(admin, R"({"field":"custom_value","field_id":21,"min":100})"), "ok");
  EXPECT_EQ(svc.Count(admin, R"({"field":"custom_value","field_id":21,"min":80.5})")->customers, 2);
  EXPECT_EQ(svc.Count(admin, R"({"field":"custom_value","field_id":21,"min":81,"max":200})")->customers, 1);
  EXPECT_EQ(svc.Count(admin, R"({"field":"custom_value","field_id":22,"to":"1999-12-31"})")->customers, 1);
  EXPECT_EQ(svc.Count(admin, R"({"field":"custom_value","field_id":22,"from":"1990-05-01","not":true})")->customers, 1);
  EXPECT_EQ(error(admin, R"({"field":"custom_value","field_id":22,"min":1})"),
            "rule: a date field takes from and to (YYYY-MM-DD), not numbers");
  EXPECT_EQ(error(admin, R"({"field":"custom_value","field_id":21,"from":"2026-01-01"})"),
            "rule: a number field takes min and max, not dates");
  for (int id : {23, 24, 99})
    EXPECT_EQ(error(admin, R"({"field":"custom_value","field_id":)" + std::to_string(id) + R"(,"min":1})"),
              "rule.field_id: no such number or date custom field");
}

TEST_P(SegmentServiceTest, SavesSegmentsWithHistoryAndUsesThemAsTargets) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  auto admin = MakeAccount(*t.db, 1, 1, accounts::Role::kAdmin);
  auto member = MakeAccount(*t.db, 1, 2, accounts::Role::kMember);
  Seed(*t.db);
  customers::CustomerService customers(*t.db, clock_);
  SegmentIndex index(*t.db, clock_);
  SegmentService svc(*t.db, clock_, index, customers);

  auto vip = svc.Create(admin, "  VIP 客户 ", R"({"field":"corp_tag","values":["t1"]})");
  ASSERT_TRUE(vip.ok()) << vip.status().ToString();
  EXPECT_EQ(vip->name, "VIP 客户");
  EXPECT_EQ(vip->customers, 2);
  ASSERT_EQ(vip->history.size(), 1u);
  EXPECT_EQ(vip->history[0].day, "2026-01-11");
  EXPECT_EQ(svc.Create(admin, "VIP 客户", R"({"field":"gender","values":[1]})").status().reason(), "segment_name_taken");
  EXPECT_EQ(svc.Create(admin, "", R"({"field":"gender","values":[1]})").status().reason(), "invalid_segment_name");
  EXPECT_EQ(svc.Create(admin, "坏", R"({"field":"gender"})").status().reason(), "invalid_segment_rule");

  // The next day it has grown; the daily snapshot records it.
  ASSERT_TRUE(t.db->Transact([](storage::Session& tx) {
    return mirror::UpsertRelation(tx, TeamId(1), Contact("c4", "新客"), Follow("lisi", kNow, {"t1"}), 1);
  }).ok());
  clock_.Set((kNow + 86400) * 1000);
  ASSERT_TRUE(svc.SnapshotAll().ok());
  auto got = svc.Get(admin, vip->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->customers, 3);
  ASSERT_EQ(got->history.size(), 2u);
  EXPECT_EQ(got->history[1].day, "2026-01-12");
  EXPECT_EQ(got->history[1].customers, 3);

  // Only its creator or an admin changes it; the list pages and counts.
  EXPECT_EQ(svc.Update(member, vip->id, std::string("mine"), std::nullopt).status().reason(), "segment_not_yours");
  auto renamed = svc.Update(admin, vip->id, std::string("VIP"), std::string(R"({"field":"corp_tag","values":["t2"]})"));
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->customers, 1);
  auto page = svc.List(admin, 1, 20);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->total, 1);
  EXPECT_EQ(page->items[0].name, "VIP");

  // A deleted tag leaves the segment with a problem, not an error.
  ASSERT_TRUE(t.db->Exec("DELETE FROM wecom_tags WHERE team_id = 1 AND tag_id = 't2'").ok());
  page = svc.List(admin, 1, 20);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items[0].problem, "rule.values[0]: no such corp tag");

  // Senders: c1 goes to zhangsan (added most recently), c2 and c4 to lisi.
  auto plan = svc.Senders(admin, R"({"field":"status","value":"active"})");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->customers, 3);
  ASSERT_EQ(plan->senders.size(), 2u);
  EXPECT_EQ(plan->senders[0].userid, "lisi");
  EXPECT_EQ(plan->senders[0].customers, 2);
  EXPECT_EQ(plan->senders[1].employee_name, "张三");

  // As a bulk target: the matching customers' active relationships (c1 has two).
  auto q = svc.RelationshipsOf(admin, R"({"field":"employee","values":["zhangsan"]})");
  ASSERT_TRUE(q.ok());
  auto rows = t.db->Query("SELECT f.external_userid, f.userid" + q->from + q->where + " ORDER BY 1, 2", q->params);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->rows[0].Text(1), "lisi");

  EXPECT_EQ(svc.Delete(member, vip->id).reason(), "segment_not_yours");
  EXPECT_TRUE(svc.Delete(admin, vip->id).ok());
  EXPECT_EQ(svc.Get(admin, vip->id).status().reason(), "segment_not_found");
}

INSTANTIATE_TEST_SUITE_P(Engines, SegmentServiceTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::segments
