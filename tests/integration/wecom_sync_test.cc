// The WeCom link end to end against koi-wecom-sandbox in process: link a corp, run the full sync as the durable
// job, and compare Koi's mirror with the sandbox's world row for row — also after an outage mid-sync, and after
// WeCom-side deletions. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>

#include "api.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/link.h"
#include "http/dispatcher.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"
#include "wecom/client/client.h"
#include "world.h"

namespace koi::wecom_link {
namespace {

using testing::TestEngine;

class NoSms final : public accounts::SmsSender {
 public:
  std::string_view name() const override { return "none"; }
  Status Send(const accounts::SmsMessage&) override { return Status::Ok(); }
};

constexpr const char* kAesKey = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

class WecomSyncTest : public ::testing::TestWithParam<TestEngine> {
 protected:
  void StartSandbox(int customers) {
    world_ = std::move(storage::Database::Open("sqlite::memory:", {}).value());
    ASSERT_TRUE(sandbox::InitSchema(*world_).ok());
    spec_.customers = customers;
    spec_.employees = 30;
    spec_.groups = 12;
    ASSERT_TRUE(sandbox::SeedCorp(*world_, spec_).ok());
    sandbox_ = std::make_unique<sandbox::SandboxApi>(*world_, clock_, sandbox::ApiOptions{});
    sandbox_->AddRoutes(router_);
    dispatcher_ = std::make_unique<http::Dispatcher>(router_, nullptr);
    client_ = std::make_unique<wecom::WecomClient>(
        [this](const wecom::HttpCall& call) -> Result<std::string> {
          if (down_after_ >= 0 && calls_++ >= down_after_)
            return Status::Unavailable("unreachable", "connection refused");
          http::Request r;
          r.method = call.method;
          r.target = call.url.substr(std::string("http://sandbox.test").size());
          r.body = call.body;
          r.remote_addr = "127.0.0.1";
          return dispatcher_->Handle(r).body;
        },
        clock_, wecom::ClientOptions{.base_url = "http://sandbox.test", .max_attempts = 2,
                                     .sleep = [this](int64_t ms) { clock_.Advance(ms); }});
  }

  // Runs the queued full sync once, like a JobRunner worker would. Returns the handler's status.
  Status RunSyncOnce(jobs::JobQueue& queue, WecomLink& link) {
    auto job = queue.Lease("test-node", {kFullSyncJob}, 600'000);
    if (!job.ok()) return job.status();
    if (!job->has_value()) return Status::NotFound("no_job", "no sync job was due");
    std::atomic<bool> stopping{false};
    jobs::JobContext ctx(queue, **job, "test-node", stopping);
    Status s = link.RunFullSync(ctx);
    if (s.ok()) return queue.Complete((*job)->id, "test-node");
    Status failed = queue.Fail((*job)->id, "test-node", s, (*job)->attempts, (*job)->max_attempts);
    EXPECT_TRUE(failed.ok()) << failed.ToString();
    clock_.Advance(3600'000);  // past any backoff
    return s;
  }

  // Koi's mirror equals the sandbox's world (relationships of active employees; the sandbox's contact list).
  void ExpectMirrorEqualsWorld(storage::Database& koi, TeamId team) {
    auto q = [](storage::Database& db, const std::string& sql, std::vector<storage::Value> p = {}) {
      std::vector<std::string> out;
      auto result = db.Query(sql, p);
      EXPECT_TRUE(result.ok()) << result.status().ToString();
      if (!result.ok()) return out;
      for (const auto& row : result->rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) line += row.Text(i) + "|";
        out.push_back(line);
      }
      return out;
    };
    const std::vector<storage::Value> t{team.value()};
    EXPECT_EQ(q(koi, "SELECT userid, external_userid, remark, createtime, add_way, state FROM wecom_follows WHERE "
                     "team_id = ? ORDER BY 1, 2", t),
              q(*world_, "SELECT f.userid, f.external_userid, f.remark, f.createtime, f.add_way, f.state FROM follows f "
                         "JOIN employees e ON e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1 AND "
                         "e.customer_contact = 1 ORDER BY 1, 2"));
    EXPECT_EQ(q(koi, "SELECT userid, external_userid, tag_id FROM wecom_follow_tags WHERE team_id = ? ORDER BY 1, 2, 3", t),
              q(*world_, "SELECT ft.userid, ft.external_userid, ft.tag_id FROM follow_tags ft JOIN employees e ON "
                         "e.corp_id = ft.corp_id AND e.userid = ft.userid JOIN follows f ON f.corp_id = ft.corp_id "
                         "AND f.userid = ft.userid AND f.external_userid = ft.external_userid WHERE e.status = 1 "
                         "ORDER BY 1, 2, 3"));
    EXPECT_EQ(q(koi, "SELECT external_userid, name, gender, unionid FROM wecom_customers WHERE team_id = ? ORDER BY 1", t),
              q(*world_, "SELECT DISTINCT c.external_userid, c.name, c.gender, c.unionid FROM customers c JOIN follows f "
                         "ON f.corp_id = c.corp_id AND f.external_userid = c.external_userid JOIN employees e ON "
                         "e.corp_id = f.corp_id AND e.userid = f.userid WHERE e.status = 1 ORDER BY 1"));
    EXPECT_EQ(q(koi, "SELECT userid, name FROM wecom_employees WHERE team_id = ? ORDER BY 1", t),
              q(*world_, "SELECT userid, name FROM employees WHERE status <> 5 ORDER BY 1"));
    EXPECT_EQ(q(koi, "SELECT dept_id, name FROM wecom_departments WHERE team_id = ? ORDER BY 1", t),
              q(*world_, "SELECT id, name FROM departments ORDER BY 1"));
    EXPECT_EQ(q(koi, "SELECT tag_id, group_id, name FROM wecom_tags WHERE team_id = ? ORDER BY 1", t),
              q(*world_, "SELECT tag_id, group_id, name FROM tags ORDER BY 1"));
    EXPECT_EQ(q(koi, "SELECT chat_id, member_id, type, join_scene FROM wecom_group_members WHERE team_id = ? ORDER BY 1, 2", t),
              q(*world_, "SELECT chat_id, member_id, type, join_scene FROM group_members ORDER BY 1, 2"));
  }

  FakeClock clock_{1'795'392'000'000};
  sandbox::SeedSpec spec_;
  std::unique_ptr<storage::Database> world_;
  std::unique_ptr<sandbox::SandboxApi> sandbox_;
  http::Router router_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<wecom::WecomClient> client_;
  int64_t down_after_ = -1;
  int64_t calls_ = 0;
  NoSms sms_;
  SecretBox box_{std::string(32, 'k')};
};

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
  const int64_t batch_calls_before = sandbox_->CallCounts()[{spec_.corp_id, "/cgi-bin/externalcontact/batch/get_by_user"}];

  // It comes back; the same job resumes from its checkpoint and finishes.
  down_after_ = -1;
  Status second = RunSyncOnce(queue, link);
  ASSERT_TRUE(second.ok()) << second.ToString();
  auto done = link.State(admin->team);
  EXPECT_EQ(done->sync->state, "succeeded");
  EXPECT_EQ(done->sync->phase, "done");
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

INSTANTIATE_TEST_SUITE_P(Engines, WecomSyncTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::wecom_link
