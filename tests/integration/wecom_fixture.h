// A WeCom link test bench: koi-wecom-sandbox in process (its API behind a Dispatcher, no sockets), Koi's WeCom
// client pointed at it with a fake clock, and the comparison that proves Koi's mirror equals the sandbox's world.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api.h"
#include "domain/accounts/accounts.h"
#include "domain/wecom_link/callbacks.h"
#include "domain/wecom_link/link.h"
#include "http/dispatcher.h"
#include "in_process_transport.h"
#include "storage/migrations/migrations.h"
#include "testing/test_databases.h"
#include "wecom/client/client.h"
#include "world.h"

namespace koi::wecom_link {

class NoSms final : public accounts::SmsSender {
 public:
  std::string_view name() const override { return "none"; }
  Status Send(const accounts::SmsMessage&) override { return Status::Ok(); }
};

inline constexpr const char* kAesKey = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

// "http://koi.test/api/v1/wecom/callback/<corp>?msg_signature=…&timestamp=…&nonce=…" → a CallbackRequest.
inline CallbackRequest RequestFromUrl(const std::string& url, const std::string& body) {
  CallbackRequest r;
  auto q = url.find('?');
  std::string path = url.substr(0, q);
  r.corp_id = path.substr(path.rfind('/') + 1);
  std::string query = q == std::string::npos ? "" : url.substr(q + 1);
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = pair.find('=');
    std::string k = pair.substr(0, eq), v = eq == std::string::npos ? "" : pair.substr(eq + 1);
    if (k == "msg_signature") r.msg_signature = v;
    if (k == "timestamp") r.timestamp = v;
    if (k == "nonce") r.nonce = v;
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  r.body = body;
  return r;
}

class WecomBench : public ::testing::TestWithParam<testing::TestEngine> {
 protected:
  void StartSandbox(int customers, int employees = 30, int groups = 12) {
    world_ = std::move(storage::Database::Open("sqlite::memory:", {}).value());
    ASSERT_TRUE(sandbox::InitSchema(*world_).ok());
    spec_.customers = customers;
    spec_.employees = employees;
    spec_.groups = groups;
    ASSERT_TRUE(sandbox::SeedCorp(*world_, spec_).ok());
    sandbox_ = std::make_unique<sandbox::SandboxApi>(*world_, clock_, sandbox::ApiOptions{});
    sandbox_->AddRoutes(router_);
    dispatcher_ = std::make_unique<http::Dispatcher>(router_, nullptr);
    client_ = std::make_unique<wecom::WecomClient>(
        testing::InProcessTransport(*dispatcher_, [this] { return down_after_ >= 0 && calls_++ >= down_after_; }),
        clock_, wecom::ClientOptions{.base_url = testing::kSandboxBaseUrl, .max_attempts = 2,
                                     .sleep = [this](int64_t ms) { clock_.Advance(ms); }});
  }

  // Migrates `db`, starts a sandbox with `customers`, registers a team (admin_) and links it to the sandbox's corp
  // with the callback `token`, then runs the full sync to the end.
  void LinkTeamAndSync(storage::Database& db, int customers, const std::string& token) {
    ASSERT_TRUE(storage::Migrate(db, clock_).ok());
    StartSandbox(customers);
    accounts_ = std::make_unique<accounts::AccountService>(db, clock_, sms_, accounts::AccountsOptions{});
    auto admin = accounts_->CreateTeam({.phone = "13800138000", .password = "secret123", .team_name = "甲", .name = "王"});
    ASSERT_TRUE(admin.ok());
    admin_ = *admin;
    queue_ = std::make_unique<jobs::JobQueue>(db, clock_);
    link_ = std::make_unique<WecomLink>(db, clock_, *queue_, *client_, box_);
    auto linked = link_->LinkSelfBuilt(admin_, {.corp_id = spec_.corp_id, .secret = spec_.secret,
                                                .callback_token = token, .encoding_aes_key = kAesKey}, {});
    ASSERT_TRUE(linked.ok()) << linked.status().ToString();
    ASSERT_TRUE(RunSyncOnce(*queue_, *link_).ok());
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

  static std::vector<std::string> Lines(storage::Database& db, const std::string& sql,
                                        const std::vector<storage::Value>& p = {}) {
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
  }

  // Koi's mirror equals the sandbox's world: the active relationships of active employees with their tags, the
  // customers they make, employees (resigned ones apart), departments, tags and group members.
  void ExpectMirrorEqualsWorld(storage::Database& koi, TeamId team) {
    const std::vector<storage::Value> t{team.value()};
    const std::string koi_active = "wecom_follows f JOIN wecom_employees e ON e.team_id = f.team_id AND e.userid = "
                                   "f.userid WHERE f.team_id = ? AND f.deleted_at IS NULL AND e.status <> 5";
    const std::string world_active = "follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = f.userid "
                                     "WHERE e.status = 1 AND e.customer_contact = 1";
    EXPECT_EQ(Lines(koi, "SELECT f.userid, f.external_userid, f.remark, f.description, f.createtime, f.add_way, "
                         "f.state FROM " + koi_active + " ORDER BY 1, 2", t),
              Lines(*world_, "SELECT f.userid, f.external_userid, f.remark, f.description, f.createtime, f.add_way, "
                             "f.state FROM " + world_active + " ORDER BY 1, 2"));
    EXPECT_EQ(Lines(koi, "SELECT ft.userid, ft.external_userid, ft.tag_id FROM wecom_follow_tags ft, " + koi_active +
                             " AND ft.team_id = f.team_id AND ft.userid = f.userid AND ft.external_userid = "
                             "f.external_userid ORDER BY 1, 2, 3", t),
              Lines(*world_, "SELECT ft.userid, ft.external_userid, ft.tag_id FROM follow_tags ft, " + world_active +
                                 " AND ft.corp_id = f.corp_id AND ft.userid = f.userid AND ft.external_userid = "
                                 "f.external_userid ORDER BY 1, 2, 3"));
    EXPECT_EQ(Lines(koi, "SELECT DISTINCT c.external_userid, c.name, c.gender, c.unionid FROM wecom_customers c, " +
                             koi_active + " AND c.team_id = f.team_id AND c.external_userid = f.external_userid "
                             "ORDER BY 1", t),
              Lines(*world_, "SELECT DISTINCT c.external_userid, c.name, c.gender, c.unionid FROM customers c, " +
                                 world_active + " AND c.corp_id = f.corp_id AND c.external_userid = f.external_userid "
                                 "ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT userid, name, position FROM wecom_employees WHERE team_id = ? AND status <> 5 ORDER BY 1", t),
              Lines(*world_, "SELECT userid, name, position FROM employees WHERE status <> 5 ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT dept_id, name FROM wecom_departments WHERE team_id = ? ORDER BY 1", t),
              Lines(*world_, "SELECT id, name FROM departments ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT group_id, name FROM wecom_tag_groups WHERE team_id = ? ORDER BY 1", t),
              Lines(*world_, "SELECT group_id, name FROM tag_groups ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT tag_id, group_id, name, sort FROM wecom_tags WHERE team_id = ? ORDER BY 1", t),
              Lines(*world_, "SELECT tag_id, group_id, name, sort FROM tags ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT chat_id, name, owner, member_version, member_count FROM wecom_group_chats WHERE "
                         "team_id = ? ORDER BY 1", t),
              Lines(*world_, "SELECT g.chat_id, g.name, g.owner, g.member_version, (SELECT COUNT(*) FROM group_members "
                             "m WHERE m.corp_id = g.corp_id AND m.chat_id = g.chat_id) FROM group_chats g ORDER BY 1"));
    EXPECT_EQ(Lines(koi, "SELECT chat_id, member_id, type, join_scene FROM wecom_group_members WHERE team_id = ? ORDER BY 1, 2", t),
              Lines(*world_, "SELECT chat_id, member_id, type, join_scene FROM group_members ORDER BY 1, 2"));
    // Each customer's relationship summary (the list sorts and filters on it) agrees with its relationships.
    EXPECT_EQ(Lines(koi, "SELECT c.external_userid, c.last_add_time, c.active_follows FROM wecom_customers c WHERE "
                         "c.team_id = ? AND (c.last_add_time <> COALESCE((SELECT MAX(f.createtime) FROM wecom_follows f "
                         "WHERE f.team_id = c.team_id AND f.external_userid = c.external_userid), 0) OR "
                         "c.active_follows <> (SELECT COUNT(*) FROM wecom_follows f WHERE f.team_id = c.team_id AND "
                         "f.external_userid = c.external_userid AND f.deleted_at IS NULL)) ORDER BY 1", t),
              std::vector<std::string>{});
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
  std::unique_ptr<accounts::AccountService> accounts_;
  accounts::Principal admin_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<WecomLink> link_;
};

}  // namespace koi::wecom_link
