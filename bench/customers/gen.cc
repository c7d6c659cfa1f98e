// koi-bench-customers-gen: writes a team with N customers straight into Koi's database, shaped like a synced WeCom
// corp, for the customer-list benchmark (bench/customers/run.sh). Syncing a million customers from the sandbox takes
// half an hour; this takes a minute or two and gives the same tables.
//
//   koi-bench-customers-gen --db URL --customers N [--employees 500] [--tags 2000] [--stages 20] [--groups 5000]
//                           [--seed 1]
//
// The team's admin logs in with 13800000000 / koi2026bench; SCRM is activated. Shape: 500 employees in 20
// departments; 2,000 corp tags in 50 groups; each customer followed by one employee (one in ten by two), added over
// three years, one relationship in twenty lost; 0–15 tags per relationship, Zipf-distributed over the tags; 20
// customer stages (a customer in one with probability 0.6); 5,000 group chats, a customer in 0–2 of them (Zipf).
// The segment index's change log is emptied at the end (nothing has read it; an index builds from the tables).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/pinyin.h"
#include "core/clock.h"
#include "domain/accounts/accounts.h"
#include "domain/apps/apps.h"
#include "storage/database.h"
#include "storage/migrations/migrations.h"

namespace koi {
namespace {

class NoSms final : public accounts::SmsSender {
 public:
  std::string_view name() const override { return "none"; }
  Status Send(const accounts::SmsMessage&) override { return Status::Ok(); }
};

const char* const kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
                                 "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹"};
const char* const kGiven[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
                              "明", "超", "秀英", "霞", "平", "刚", "桂英", "小明", "晓东", "雨涵", "子轩", "欣怡", "浩然",
                              "梓萱", "宇轩"};

// Zipf over [0, n): rank k with weight 1/(k+1)^s, by inverse CDF on a precomputed table.
class Zipf {
 public:
  Zipf(int n, double s) : cdf_(n) {
    double sum = 0;
    for (int k = 0; k < n; ++k) cdf_[k] = (sum += 1.0 / std::pow(k + 1, s));
    for (auto& c : cdf_) c /= sum;
  }
  int operator()(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<int>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int Run(const std::string& url, int64_t customers, int employees, int tags, int stages, int groups_n,
        uint64_t seed) {
  auto opened = storage::Database::Open(url, {.pool_size = 2});
  if (!opened.ok()) return Fail("open", opened.status());
  storage::Database& db = **opened;
  SystemClock clock;
  if (auto m = storage::Migrate(db, clock); !m.ok()) return Fail("migrate", m.status());
  NoSms sms;
  accounts::AccountService accounts(db, clock, sms, {});
  auto admin = accounts.CreateTeam({.phone = "13800000000", .password = "koi2026bench", .team_name = "压测团队",
                                    .name = "压测管理员"});
  if (!admin.ok()) return Fail("team", admin.status());
  apps::AppService apps(db, clock);
  if (auto a = apps.Activate(*admin, "scrm", "127.0.0.1"); !a.ok()) return Fail("activate", a.status());
  const int64_t team = admin->team.value();
  const int64_t now_s = clock.NowMillis() / 1000;
  std::mt19937_64 rng(seed);

  auto copy = [&](const std::string& table, const std::vector<std::string>& cols,
                  std::vector<std::vector<storage::Value>>& rows) -> Status {
    if (rows.empty()) return Status::Ok();
    Status s = db.Transact([&](storage::Session& tx) { return tx.CopyIn(table, cols, rows); });
    rows.clear();
    return s;
  };
  std::vector<std::vector<storage::Value>> rows;
  Status s = db.Exec("INSERT INTO wecom_corps (team_id, corp_id, corp_name, mode, secret_enc, callback_token_enc, "
                     "callback_aes_key_enc, linked_at, linked_by) VALUES (?, 'wwbench00000001', '压测企业', "
                     "'self_built', '', '', '', ?, ?)",
                     {team, clock.NowMillis(), admin->account.value()});
  if (!s.ok()) return Fail("corp", s);
  rows.push_back({team, int64_t{1}, std::string("压测企业"), int64_t{0}, int64_t{0}, int64_t{0}});
  for (int d = 2; d <= 21; ++d)
    rows.push_back({team, int64_t{d}, "部门" + std::to_string(d), int64_t{1}, int64_t{100 - d}, int64_t{0}});
  if (s = copy("wecom_departments", {"team_id", "dept_id", "name", "parent_id", "sort", "sync_run"}, rows); !s.ok())
    return Fail("departments", s);
  std::vector<std::string> userids;
  for (int e = 0; e < employees; ++e) {
    char id[16];
    std::snprintf(id, sizeof id, "emp%04d", e);
    userids.push_back(id);
    const int dept = 2 + e % 20;
    rows.push_back({team, std::string(id), std::string(kSurnames[e % 30]) + kGiven[(e / 30) % 30], std::string("顾问"),
                    int64_t{1 + e % 2}, std::string(""), int64_t{1}, int64_t{dept}, "[" + std::to_string(dept) + "]",
                    int64_t{1}, int64_t{0}});
  }
  if (s = copy("wecom_employees", {"team_id", "userid", "name", "position", "gender", "mobile", "status",
                                   "main_department", "departments", "customer_contact", "sync_run"}, rows);
      !s.ok())
    return Fail("employees", s);
  const int groups = 50;
  for (int g = 0; g < groups; ++g)
    rows.push_back({team, "etgroup" + std::to_string(g), "标签组" + std::to_string(g), now_s, int64_t{groups - g},
                    int64_t{0}});
  if (s = copy("wecom_tag_groups", {"team_id", "group_id", "name", "create_time", "sort", "sync_run"}, rows); !s.ok())
    return Fail("tag groups", s);
  for (int t = 0; t < tags; ++t)
    rows.push_back({team, "ettag" + std::to_string(t), "etgroup" + std::to_string(t % groups),
                    "标签" + std::to_string(t), now_s, int64_t{tags - t}, int64_t{0}});
  if (s = copy("wecom_tags", {"team_id", "tag_id", "group_id", "name", "create_time", "sort", "sync_run"}, rows);
      !s.ok())
    return Fail("tags", s);

  for (int st = 0; st < stages; ++st)
    rows.push_back({int64_t{st + 1}, team, "阶段" + std::to_string(st + 1), int64_t{st}, now_s * 1000});
  if (s = copy("customer_stages", {"id", "team_id", "name", "sort", "created_at"}, rows); !s.ok())
    return Fail("stages", s);
  for (int g = 0; g < groups_n; ++g)
    rows.push_back({team, "wrbench" + std::to_string(g), "客户群" + std::to_string(g), userids[g % employees],
                    std::string(""), now_s, int64_t{0}, std::string(""), int64_t{0}, int64_t{0}});
  if (s = copy("wecom_group_chats", {"team_id", "chat_id", "name", "owner", "notice", "create_time", "status",
                                     "member_version", "member_count", "sync_run"}, rows);
      !s.ok())
    return Fail("group chats", s);
  Zipf group_rank(std::max(groups_n, 1), 0.8);
  std::vector<std::vector<storage::Value>> profiles, members;
  int64_t n_members = 0;

  Zipf tag_rank(tags, 1.0);
  const int64_t three_years = 3LL * 365 * 86400;
  std::vector<std::vector<storage::Value>> follows, follow_tags;
  const std::vector<std::string> ccols{"team_id", "external_userid", "name", "type", "gender", "unionid", "corp_name",
                                       "position", "sync_run", "last_add_time", "active_follows", "name_py"};
  const std::vector<std::string> fcols{"team_id", "userid", "external_userid", "remark", "description", "createtime",
                                       "add_way", "state", "oper_userid", "remark_mobiles", "remark_corp_name",
                                       "sync_run", "deleted_at", "deleted_by", "remark_py"};
  const std::vector<std::string> tcols{"team_id", "userid", "external_userid", "tag_id"};
  const std::vector<std::string> pcols{"team_id", "external_userid", "stage_id", "updated_at"};
  const std::vector<std::string> mcols{"team_id", "chat_id", "member_id", "type", "join_time", "join_scene", "invitor",
                                       "state", "unionid", "name"};
  int64_t n_follows = 0, n_tags = 0;
  for (int64_t c = 0; c < customers; ++c) {
    char ext[32];
    std::snprintf(ext, sizeof ext, "wmbench%010lld", static_cast<long long>(c));
    const std::string name = std::string(kSurnames[rng() % 30]) + kGiven[rng() % 30];
    const int nf = rng() % 10 == 0 ? 2 : 1;
    int64_t last = 0, active = 0;
    const uint64_t first_employee = rng() % employees;
    for (int k = 0; k < nf; ++k) {
      const std::string& u = userids[(first_employee + k) % employees];
      const int64_t added = now_s - static_cast<int64_t>(rng() % three_years);
      const bool lost = rng() % 20 == 0;
      last = std::max(last, added);
      active += lost ? 0 : 1;
      const std::string mobile = rng() % 3 == 0 ? "[\"1" + std::to_string(3000000000LL + rng() % 999999999) + "\"]"
                                                : "[]";
      const std::string remark = rng() % 4 == 0 ? name + "（老客）" : std::string("");
      follows.push_back({team, u, std::string(ext), remark,
                         std::string(""), added, int64_t{1 + static_cast<int64_t>(rng() % 6)},
                         rng() % 5 == 0 ? std::string("channel") + std::to_string(rng() % 40) : std::string(""),
                         u, mobile, std::string(""), int64_t{0},
                         lost ? storage::Value(added * 1000 + 86400000) : storage::Value(),
                         std::string(lost ? "customer" : ""), PinyinInitials(remark)});
      ++n_follows;
      if (lost) continue;
      const int nt = static_cast<int>(rng() % 16);
      std::vector<int> seen;
      for (int i = 0; i < nt; ++i) {
        int tag = tag_rank(rng);
        if (std::find(seen.begin(), seen.end(), tag) != seen.end()) continue;
        seen.push_back(tag);
        follow_tags.push_back({team, u, std::string(ext), "ettag" + std::to_string(tag)});
        ++n_tags;
      }
    }
    if (stages > 0 && rng() % 10 < 6)
      profiles.push_back({team, std::string(ext), int64_t{1 + static_cast<int64_t>(rng() % stages)}, now_s * 1000});
    const int ng = groups_n > 0 ? static_cast<int>(rng() % 5 < 3 ? 0 : 1 + rng() % 2) : 0;
    int first_group = -1;
    for (int g = 0; g < ng; ++g) {
      const int chat = group_rank(rng);
      if (chat == first_group) continue;
      first_group = chat;
      members.push_back({team, "wrbench" + std::to_string(chat), std::string(ext), int64_t{2},
                         now_s - static_cast<int64_t>(rng() % three_years), int64_t{3}, std::string(""),
                         std::string(""), std::string(""), std::string("")});
      ++n_members;
    }
    rows.push_back({team, std::string(ext), name, int64_t{1}, int64_t{static_cast<int64_t>(rng() % 3)},
                    std::string(""), rng() % 8 == 0 ? std::string("某某贸易有限公司") : std::string(""),
                    std::string(""), int64_t{0}, last, active, PinyinInitials(name)});
    if (rows.size() >= 50000) {
      if (s = copy("wecom_customers", ccols, rows); !s.ok()) return Fail("customers", s);
      if (s = copy("wecom_follows", fcols, follows); !s.ok()) return Fail("follows", s);
      if (s = copy("wecom_follow_tags", tcols, follow_tags); !s.ok()) return Fail("follow tags", s);
      if (s = copy("customer_profiles", pcols, profiles); !s.ok()) return Fail("profiles", s);
      if (s = copy("wecom_group_members", mcols, members); !s.ok()) return Fail("group members", s);
      std::fprintf(stderr, "\r%lld customers", static_cast<long long>(c + 1));
    }
  }
  if (s = copy("wecom_customers", ccols, rows); !s.ok()) return Fail("customers", s);
  if (s = copy("wecom_follows", fcols, follows); !s.ok()) return Fail("follows", s);
  if (s = copy("wecom_follow_tags", tcols, follow_tags); !s.ok()) return Fail("follow tags", s);
  if (s = copy("customer_profiles", pcols, profiles); !s.ok()) return Fail("profiles", s);
  if (s = copy("wecom_group_members", mcols, members); !s.ok()) return Fail("group members", s);
  if (s = db.Exec("DELETE FROM segment_changes"); !s.ok()) return Fail("change log", s);
  if (db.engine() == storage::Engine::kPostgres) {
    // Later stage inserts must not collide with the ids given here.
    if (s = db.Exec("SELECT setval(pg_get_serial_sequence('customer_stages', 'id'), (SELECT MAX(id) FROM customer_stages))"); !s.ok())
      return Fail("stage ids", s);
  }
  if (s = db.Exec("ANALYZE"); !s.ok()) return Fail("analyze", s);
  std::printf("\nteam %lld: %lld customers, %lld relationships, %lld relationship tags, %d employees, %d tags, "
              "%d stages, %d groups with %lld customer memberships\n",
              static_cast<long long>(team), static_cast<long long>(customers), static_cast<long long>(n_follows),
              static_cast<long long>(n_tags), employees, tags, stages, groups_n, static_cast<long long>(n_members));
  return 0;
}

}  // namespace
}  // namespace koi

int main(int argc, char** argv) {
  std::string db;
  long long customers = 100000, employees = 500, tags = 2000, stages = 20, groups = 5000, seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--db") db = argv[i + 1];
    else if (k == "--customers") customers = std::atoll(argv[i + 1]);
    else if (k == "--employees") employees = std::atoll(argv[i + 1]);
    else if (k == "--tags") tags = std::atoll(argv[i + 1]);
    else if (k == "--stages") stages = std::atoll(argv[i + 1]);
    else if (k == "--groups") groups = std::atoll(argv[i + 1]);
    else if (k == "--seed") seed = std::atoll(argv[i + 1]);
  }
  if (db.empty() || customers <= 0 || employees <= 0 || tags < 50) {
    std::fprintf(stderr, "usage: koi-bench-customers-gen --db URL --customers N [--employees 500] [--tags 2000] "
                         "[--stages 20] [--groups 5000] [--seed 1]\n");
    return 2;
  }
  return koi::Run(db, customers, static_cast<int>(employees), static_cast<int>(tags), static_cast<int>(stages),
                  static_cast<int>(groups), static_cast<uint64_t>(seed));
}
