// The segment index against SQL: thousands of random rules over a random customer base, each evaluated by the
// index and by RuleToSql on the same database (SQLite and PostgreSQL), must select exactly the same customers —
// before and after random changes that the index picks up incrementally from segment_changes.
#include "domain/segments/index.h"

#include <chrono>
#include <cstdio>
#include <future>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <roaring/roaring.hh>

#include "domain/segments/rule_sql.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"

namespace koi::segments {
namespace {

using storage::Value;
using testing::TestEngine;

constexpr int kTeam = 1;
constexpr int kCustomers = 240;
constexpr int kEmployees = 10;
constexpr int kTags = 24;
constexpr int kStages = 5;
constexpr int kGroups = 8;
constexpr int kPersonalTags = 4;
constexpr int kFieldOptions = 6;  // options 1–3 of custom field 1, 4–6 of field 2
constexpr int32_t kToday = 20600;  // 2026-05-26

std::string Cust(int i) { return "wm" + std::to_string(1000 + i); }
std::string Emp(int i) { return "emp" + std::to_string(i); }
std::string Tag(int i) { return "et" + std::to_string(i); }
std::string Chat(int i) { return "wr" + std::to_string(i); }
const char* kStates[] = {"", "spring", "summer", "autumn"};

// Departments: 1 root > 2, 3; 3 > 4. Employee i is in department 1 + i % 4.
std::map<int64_t, std::vector<std::string>> DepartmentEmployees() {
  std::map<int64_t, std::vector<int64_t>> below = {{1, {1, 2, 3, 4}}, {2, {2}}, {3, {3, 4}}, {4, {4}}};
  std::map<int64_t, std::vector<std::string>> out;
  for (auto& [d, ds] : below)
    for (int e = 0; e < kEmployees; ++e)
      if (std::count(ds.begin(), ds.end(), 1 + e % 4)) out[d].push_back(Emp(e));
  return out;
}

class World {
 public:
  World(storage::Database& db, uint32_t seed) : db_(db), rng_(seed) {}

  Status Populate() {
    return db_.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO teams (id, name, created_at) VALUES (1, 'team', 0)"));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (id, team_id, phone, name, role, status, created_at, "
                                  "updated_at) VALUES (1, 1, '13900000001', 'admin', 'admin', 'active', 0, 0)"));
      for (int p = 1; p <= kPersonalTags; ++p)
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO personal_tags (team_id, account_id, name, created_at) VALUES (1, 1, "
                                    "?, 0)", {"p" + std::to_string(p)}));
      for (int team : {kTeam, 2})
        for (int i = 0; i < kCustomers; ++i) KOI_RETURN_IF_ERROR(AddCustomer(tx, team, i));
      return Status::Ok();
    });
  }

  // A batch of random changes of every kind the index watches.
  Status Mutate(int n) {
    return db_.Transact([&](storage::Session& tx) -> Status {
      for (int k = 0; k < n; ++k) {
        const std::string c = Cust(Pick(kCustomers));
        const std::string e = Emp(Pick(kEmployees));
        switch (Pick(10)) {
          case 0:
            KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_follow_tags (team_id, userid, external_userid, tag_id) "
                                        "SELECT team_id, userid, external_userid, ? FROM wecom_follows WHERE team_id = ? "
                                        "AND external_userid = ? ON CONFLICT DO NOTHING", {Tag(Pick(kTags)), kTeam, c}));
            break;
          case 1:
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_follow_tags WHERE team_id = ? AND external_userid = ? AND "
                                        "tag_id = ?", {kTeam, c, Tag(Pick(kTags))}));
            break;
          case 2:
            KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_follows SET deleted_at = 5, deleted_by = 'customer' WHERE "
                                        "team_id = ? AND external_userid = ?", {kTeam, c}));
            break;
          case 3:
            KOI_RETURN_IF_ERROR(AddFollow(tx, kTeam, c, e));
            break;
          case 4:
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_profiles WHERE team_id = ? AND external_userid = ?",
                                        {kTeam, c}));
            if (Pick(2))
              KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_profiles (team_id, external_userid, stage_id, "
                                          "updated_at) VALUES (?, ?, ?, 0)", {kTeam, c, int64_t{1 + Pick(kStages)}}));
            break;
          case 5:
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_group_members WHERE team_id = ? AND member_id = ?", {kTeam, c}));
            break;
          case 6:
            KOI_RETURN_IF_ERROR(tx.Exec("UPDATE wecom_customers SET gender = ? WHERE team_id = ? AND external_userid = ?",
                                        {int64_t{Pick(3)}, kTeam, c}));
            break;
          case 7:
            KOI_RETURN_IF_ERROR(AddCustomer(tx, kTeam, kCustomers + next_++));
            break;
          case 8:
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM personal_tag_customers WHERE team_id = ? AND external_userid = ?",
                                        {kTeam, c}));
            KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO personal_tag_customers (tag_id, team_id, external_userid, "
                                        "created_at) VALUES (?, ?, ?, 0)", {int64_t{1 + Pick(kPersonalTags)}, kTeam, c}));
            break;
          case 9:
            KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_field_values WHERE team_id = ? AND external_userid = ?",
                                        {kTeam, c}));
            KOI_RETURN_IF_ERROR(AddFieldValues(tx, kTeam, c));
            break;
        }
      }
      return Status::Ok();
    });
  }

  Node RandomRule(int depth = 0) {
    Node n;
    n.negate = Pick(5) == 0;
    if (depth < 3 && Pick(3) == 0) {
      n.is_group = true;
      n.is_and = Pick(2) == 0;
      const int kids = depth == 0 ? Pick(4) : 1 + Pick(3);
      for (int i = 0; i < kids; ++i) n.children.push_back(RandomRule(depth + 1));
      return n;
    }
    n.field = static_cast<Field>(Pick(13));
    n.match = static_cast<Match>(Pick(3));
    const int values = 1 + Pick(3);
    for (int i = 0; i < values; ++i) {
      switch (n.field) {
        case Field::kCorpTag: n.texts.push_back(Tag(Pick(kTags + 2))); break;  // +2: tags no one has
        case Field::kPersonalTag: n.numbers.push_back(1 + Pick(kPersonalTags)); break;
        case Field::kEmployee: n.texts.push_back(Emp(Pick(kEmployees + 1))); break;
        case Field::kDepartment: n.numbers.push_back(1 + Pick(4)); break;
        case Field::kAddWay: n.numbers.push_back(Pick(4)); break;
        case Field::kChannelState: n.texts.push_back(kStates[Pick(4)]); break;
        case Field::kGender: n.numbers.push_back(Pick(3)); break;
        case Field::kStage: n.numbers.push_back(Pick(kStages + 1)); break;  // 0: in no stage
        case Field::kGroup: n.texts.push_back(Chat(Pick(kGroups))); break;
        case Field::kCustomField: n.numbers.push_back(1 + Pick(kFieldOptions + 1)); break;  // 7: no one's
        default: break;
      }
    }
    if (n.field == Field::kAdded) {
      if (Pick(3) == 0) {
        n.within_days = 1 + Pick(200);
      } else {
        if (Pick(4)) n.from_day = kToday - 400 + Pick(400);
        if (Pick(4) || !n.from_day) n.to_day = n.from_day.value_or(kToday - 400) + Pick(300);
      }
    }
    if (n.field == Field::kCustomValue) {
      // Field 4 holds numbers, 5 dates; 6 exists nowhere. One bound or both.
      static const double kBounds[] = {-5, 0, 1.5, 7, 42, 99.5, 100, 1e12};
      n.field_id = 4 + Pick(3);
      if (n.field_id != 5) {
        if (Pick(3)) n.min_value = kBounds[Pick(8)];
        if (Pick(3) || !n.min_value) n.max_value = n.min_value.value_or(-10) + kBounds[Pick(8)] + 5;
      } else {
        if (Pick(3)) n.from_day = kToday - 800 + Pick(800);
        if (Pick(3) || !n.from_day) n.to_day = n.from_day.value_or(kToday - 900) + Pick(500);
      }
    }
    n.active = Pick(2) == 0;
    return n;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

 private:
  Status AddFollow(storage::Session& tx, int team, const std::string& c, const std::string& e) {
    const int64_t created = DayStartSeconds(kToday - Pick(420)) + Pick(86400);
    KOI_RETURN_IF_ERROR(tx.Exec(
        "INSERT INTO wecom_follows (team_id, userid, external_userid, remark, description, createtime, add_way, state, "
        "oper_userid, remark_mobiles, remark_corp_name, sync_run, deleted_at, deleted_by) VALUES (?, ?, ?, '', '', ?, "
        "?, ?, '', '[]', '', 1, ?, '') ON CONFLICT (team_id, userid, external_userid) DO UPDATE SET deleted_at = NULL, "
        "createtime = excluded.createtime",
        {int64_t{team}, e, c, created, int64_t{Pick(4)}, std::string(kStates[Pick(4)]),
         Pick(5) == 0 ? Value(int64_t{7}) : Value()}));
    const int tags = Pick(5);
    for (int t = 0; t < tags; ++t)
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_follow_tags (team_id, userid, external_userid, tag_id) VALUES (?, "
                                  "?, ?, ?) ON CONFLICT DO NOTHING", {int64_t{team}, e, c, Tag(Pick(kTags))}));
    return Status::Ok();
  }

  // Custom field values: an option of field 1 (a choice), some of field 2's (several choices), a text of field 3.
  Status AddFieldValues(storage::Session& tx, int team, const std::string& c) {
    if (Pick(2))
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                  "value, updated_at) VALUES (?, ?, 1, ?, '', 0)", {int64_t{team}, c, int64_t{1 + Pick(3)}}));
    for (int o = 4; o <= kFieldOptions; ++o)
      if (Pick(3) == 0)
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                    "value, updated_at) VALUES (?, ?, 2, ?, '', 0)", {int64_t{team}, c, int64_t{o}}));
    if (Pick(2))
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                  "value, updated_at) VALUES (?, ?, 3, 0, 'text', 0)", {int64_t{team}, c}));
    // A number (stored normalised, as FieldService writes it) and a date.
    static const char* kNumbers[] = {"-3", "0", "1.5", "7", "42", "99.5", "100", "1000000000000"};
    if (Pick(3))
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                  "value, updated_at) VALUES (?, ?, 4, 0, ?, 0)",
                                  {int64_t{team}, c, std::string(kNumbers[Pick(8)])}));
    if (Pick(3))
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                  "value, updated_at) VALUES (?, ?, 5, 0, ?, 0)",
                                  {int64_t{team}, c, FormatDay(kToday - Pick(900))}));
    return Status::Ok();
  }

  Status AddCustomer(storage::Session& tx, int team, int i) {
    const std::string c = Cust(i);
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_customers (team_id, external_userid, name, type, gender, unionid, "
                                "corp_name, position, sync_run) VALUES (?, ?, ?, 1, ?, '', '', '', 1)",
                                {int64_t{team}, c, "客户" + std::to_string(i), int64_t{Pick(3)}}));
    const int follows = Pick(4);
    for (int f = 0; f < follows; ++f) KOI_RETURN_IF_ERROR(AddFollow(tx, team, c, Emp(Pick(kEmployees))));
    if (Pick(5) < 3)
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_profiles (team_id, external_userid, stage_id, updated_at) "
                                  "VALUES (?, ?, ?, 0)", {int64_t{team}, c, int64_t{1 + Pick(kStages)}}));
    if (team == kTeam && Pick(3) == 0)  // personal tags are team 1's
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO personal_tag_customers (tag_id, team_id, external_userid, created_at) "
                                  "VALUES (?, ?, ?, 0)", {int64_t{1 + Pick(kPersonalTags)}, int64_t{team}, c}));
    KOI_RETURN_IF_ERROR(AddFieldValues(tx, team, c));
    for (int g = 0; g < kGroups; ++g)
      if (Pick(6) == 0)
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO wecom_group_members (team_id, chat_id, member_id, type, join_time, "
                                    "join_scene, invitor, state, unionid, name) VALUES (?, ?, ?, 2, 0, 1, '', '', '', '')",
                                    {int64_t{team}, Chat(g), c}));
    return Status::Ok();
  }

  storage::Database& db_;
  std::mt19937 rng_;
  int next_ = 0;
};

// Several rules in one query (one column per rule): PostgreSQL spends most of a small query's time planning it.
std::vector<std::vector<int64_t>> BySqlBatch(storage::Database& db, const std::vector<Node>& rules,
                                             const std::vector<EvalContext>& ctxs) {
  std::vector<Value> params;
  std::string cols;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string expr = RuleToSql(rules[i], ctxs[i], params);
    cols += ", CASE WHEN " + expr + " THEN 1 ELSE 0 END";
  }
  params.emplace_back(int64_t{kTeam});
  auto r = db.Query("SELECT k.id" + cols + " FROM wecom_customers c JOIN customer_keys k ON k.team_id = c.team_id AND "
                    "k.external_userid = c.external_userid WHERE c.team_id = ? ORDER BY k.id", params);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::vector<int64_t>> out(rules.size());
  if (r.ok())
    for (const auto& row : r->rows)
      for (size_t i = 0; i < rules.size(); ++i)
        if (row.Int(i + 1)) out[i].push_back(row.Int(0));
  return out;
}

std::vector<int64_t> ByIndex(SegmentIndex& index, const Node& rule, const EvalContext& ctx) {
  std::vector<int64_t> out;
  Status s = index.Evaluate(TeamId(kTeam), rule, ctx, [&out](const Roaring& r) {
    for (uint32_t id : r) out.push_back(id);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

class SegmentIndexTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  // A migrated database holding World(`seed`)'s teams, and the index's count of team kTeam's customers.
  size_t Populated(storage::Database& db, SegmentIndex& index, uint64_t seed) {
    EXPECT_TRUE(storage::Migrate(db, clock_).ok());
    World world(db, seed);
    Status p = world.Populate();
    EXPECT_TRUE(p.ok()) << p.ToString();
    return ByIndex(index, everyone_, ctx_).size();
  }

  FakeClock clock_;
  EvalContext ctx_{.today = kToday, .department_employees = {}, .scope_userids = std::nullopt};
  Node everyone_{.is_group = true};
};

TEST_P(SegmentIndexTest, MatchesSqlOnRandomRulesBeforeAndAfterChanges) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(storage::Migrate(*t.db, clock_).ok());
  World world(*t.db, 20261126);
  { Status p = world.Populate(); ASSERT_TRUE(p.ok()) << p.ToString(); }
  // Small pages and a low rebuild threshold so both the paged build and the incremental path are exercised.
  SegmentIndex index(*t.db, clock_, {.page_size = 37, .rebuild_threshold = 60});
  // The same with add-time ranges always tested customer by customer (the default does so only inside small sets).
  SegmentIndex lookup(*t.db, clock_, {.page_size = 37, .rebuild_threshold = 60, .added_lookup_ratio = 0});
  EvalContext ctx{.today = kToday, .department_employees = DepartmentEmployees(), .scope_userids = std::nullopt};

  int rules = 0, nonempty = 0, mismatches = 0;
  int64_t sql_us = 0, index_us = 0;
  auto check_many = [&](int n) {
    constexpr int kBatch = 20;
    for (int i = 0; i < n && mismatches < 5; i += kBatch) {
      std::vector<Node> batch;
      std::vector<EvalContext> ctxs;
      for (int j = 0; j < kBatch; ++j) {
        batch.push_back(world.RandomRule());
        ctxs.push_back(ctx);
        if (world.Pick(4) == 0)
          ctxs.back().scope_userids = std::vector<std::string>{Emp(world.Pick(kEmployees)), Emp(world.Pick(kEmployees))};
      }
      auto t0 = std::chrono::steady_clock::now();
      auto sql = BySqlBatch(*t.db, batch, ctxs);
      auto t1 = std::chrono::steady_clock::now();
      sql_us += std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
      for (int j = 0; j < kBatch; ++j) {
        auto t2 = std::chrono::steady_clock::now();
        auto idx = ByIndex(index, batch[j], ctxs[j]);
        index_us += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t2).count();
        ++rules;
        nonempty += !sql[j].empty();
        if (sql[j] != idx) {
          ++mismatches;
          ADD_FAILURE() << "rule " << SerializeRule(batch[j]) << ": SQL " << sql[j].size() << " customers, index "
                        << idx.size();
        }
        if (auto by_lookup = ByIndex(lookup, batch[j], ctxs[j]); sql[j] != by_lookup) {
          ++mismatches;
          ADD_FAILURE() << "rule " << SerializeRule(batch[j]) << ": SQL " << sql[j].size()
                        << " customers, index with add-day lookups " << by_lookup.size();
        }
      }
    }
  };
  check_many(700);
  for (int round = 0; round < 8; ++round) {
    ASSERT_TRUE(world.Mutate(round % 4 == 3 ? 90 : 6).ok());  // some rounds exceed the rebuild threshold
    check_many(120);
  }
  EXPECT_EQ(mismatches, 0);
  std::printf("%d rules: SQL %lld ms, index %lld ms (refreshes included)\n", rules,
              static_cast<long long>(sql_us / 1000), static_cast<long long>(index_us / 1000));
  EXPECT_GT(nonempty, rules / 3);  // the generator makes rules that select something, not only empty sets
  IndexStats s = index.Stats(TeamId(kTeam));
  EXPECT_GT(s.incremental_customers, 0);
  EXPECT_GE(s.builds, 2);  // the first build plus at least one rebuild after a large batch
}

TEST_P(SegmentIndexTest, SeesOnlyItsTeamAndRebuildsAfterThePurgeHorizon) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SegmentIndex index(*t.db, clock_);
  EXPECT_EQ(Populated(*t.db, index, 7), static_cast<size_t>(kCustomers));  // team 2's customers are not team 1's

  // Another index (another process) purges the log after a change this index has not read.
  SegmentIndex other(*t.db, clock_);
  ASSERT_TRUE(t.db->Exec("DELETE FROM wecom_customers WHERE team_id = ? AND external_userid = ?", {kTeam, Cust(3)}).ok());
  ASSERT_TRUE(other.PurgeChanges(0).ok());
  EXPECT_EQ(ByIndex(index, everyone_, ctx_).size(), static_cast<size_t>(kCustomers - 1));
  EXPECT_EQ(index.Stats(TeamId(kTeam)).builds, 2);
}

// PostgreSQL gives a change its seq when it is written and shows it when its transaction commits, in any order: a
// transaction that commits after thousands of later changes were read must still reach the index.
TEST_P(SegmentIndexTest, SeesAChangeCommittedAfterThousandsOfLaterOnes) {
  if (GetParam() == TestEngine::kSqlite) GTEST_SKIP() << "SQLite commits one writer at a time, in seq order";
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SegmentIndex index(*t.db, clock_);
  ASSERT_EQ(Populated(*t.db, index, 11), static_cast<size_t>(kCustomers));

  std::promise<void> written, commit;
  std::thread late([&] {
    Status s = t.db->Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM wecom_customers WHERE team_id = ? AND external_userid = ?",
                                  {kTeam, Cust(5)}));
      written.set_value();
      commit.get_future().wait();
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  written.get_future().wait();
  // 1,673 later changes (every other customer renamed seven times), read while the first is still uncommitted.
  for (int round = 0; round < 7; ++round) {
    ASSERT_TRUE(t.db->Exec("UPDATE wecom_customers SET name = name || 'x' WHERE team_id = ? AND external_userid <> ?",
                           {kTeam, Cust(5)}).ok());
    EXPECT_EQ(ByIndex(index, everyone_, ctx_).size(), static_cast<size_t>(kCustomers)) << round;
  }
  commit.set_value();
  late.join();
  EXPECT_EQ(ByIndex(index, everyone_, ctx_).size(), static_cast<size_t>(kCustomers - 1));
  EXPECT_EQ(index.Stats(TeamId(kTeam)).builds, 1);  // caught up incrementally
}

INSTANTIATE_TEST_SUITE_P(Engines, SegmentIndexTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::segments
