// koi-bench-messaging: planning a mass message at scale (issue 7). On a database written by koi-bench-customers-gen
// it times MessagingService::Preview — the target expanded through the segment index, the relationships and the
// receipts that count against the quotas loaded, and the plan (sender per customer, duplicates, lost / not a
// friend, the rule pack's quota per customer) — for the whole customer base, first with no receipts, then after a
// message to about half of them was sent today under wecom-2023 (one per natural day), so half the customers hit
// the quota check's skip path. Also times saving that message as a draft (plan + one row per recipient) and sending
// it (planned again, recipients marked as using their quota). Prints a Markdown section.
//
//   koi-bench-messaging --db URL [--iterations 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "domain/accounts/accounts.h"
#include "domain/customers/customers.h"
#include "domain/messaging/messaging.h"
#include "domain/segments/index.h"
#include "domain/segments/segments.h"
#include "domain/wecom_link/link.h"
#include "domain/wecom_link/secret_box.h"
#include "jobs/job_queue.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::messaging {
namespace {

using Steady = std::chrono::steady_clock;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int Fail(const Status& s) {
  std::fprintf(stderr, "koi-bench-messaging: %s\n", s.ToString().c_str());
  return 1;
}

constexpr char kContent[] = R"({"text":"双十二会员日，全场 8 折","attachments":[{"type":"link","title":"会员日",)"
                            R"("url":"https://shop.example.cn/day"}]})";

int Run(const std::string& url, int iterations) {
  auto db = storage::Database::Open(url, {.pool_size = 4, .busy_timeout_ms = 60000});
  if (!db.ok()) return Fail(db.status());
  SystemClock clock;
  auto admin_row = (*db)->Query("SELECT id, team_id FROM accounts WHERE role = 'admin' ORDER BY id LIMIT 1");
  if (!admin_row.ok() || admin_row->rows.empty()) return Fail(Status::NotFound("no_team", "no admin in the database"));
  const accounts::Principal admin{.team = TeamId(admin_row->rows[0].Int(1)),
                                  .account = AccountId(admin_row->rows[0].Int(0)),
                                  .role = accounts::Role::kAdmin, .phone = "", .name = "bench"};
  jobs::JobQueue queue(**db, clock);
  wecom::WecomClient client([](const wecom::HttpCall&) -> Result<std::string> {
    return Status::Unavailable("offline", "the benchmark does not call WeCom");
  }, clock, {});
  wecom_link::SecretBox box(std::string(32, 'k'));
  wecom_link::WecomLink link(**db, clock, queue, client, box);
  customers::CustomerService customers(**db, clock);
  segments::SegmentIndex index(**db, clock);
  segments::SegmentService segments(**db, clock, index, customers);
  MessagingService svc(**db, clock, queue, link, client, index, segments, customers);
  if (auto s = svc.SetRulePack(admin, "wecom-2023", {}); !s.ok()) return Fail(s.status());

  const Draft all{.kind = "enterprise", .title = "全部客户", .content = kContent,
                  .target = {.segment_id = std::nullopt, .rule = R"({"op":"and","children":[]})", .customer_ids = {}}};
  const Draft women{.kind = "enterprise", .title = "女性客户", .content = kContent,
                    .target = {.segment_id = std::nullopt, .rule = R"({"field":"gender","values":[2]})",
                               .customer_ids = {}}};
  auto warm = svc.Preview(admin, all);  // builds the segment index
  if (!warm.ok()) return Fail(warm.status());

  auto time_previews = [&](const char* label) -> int {
    std::vector<double> total, expand, load, plan;
    PlanPreview last;
    for (int i = 0; i < iterations; ++i) {
      const auto t0 = Steady::now();
      auto p = svc.Preview(admin, all);
      if (!p.ok()) return Fail(p.status());
      total.push_back(Ms(Steady::now() - t0));
      expand.push_back(p->expand_us / 1000.0);
      load.push_back(p->load_us / 1000.0);
      plan.push_back(p->plan_us / 1000.0);
      last = *p;
    }
    int64_t skipped = 0;
    for (const auto& [reason, n] : last.skipped) skipped += n;
    std::printf("| %s | %lld | %lld | %lld | %zu | %.0f | %.0f | %.0f | %.0f |\n", label,
                static_cast<long long>(last.targeted), static_cast<long long>(last.recipients),
                static_cast<long long>(skipped), last.senders.size(), Median(expand), Median(load), Median(plan),
                Median(total));
    return 0;
  };
  std::printf("| plan (Preview, median of %d) | targeted | to receive | skipped | senders | expand ms | load ms | "
              "plan ms | total ms |\n|---|---|---|---|---|---|---|---|---|\n", iterations);
  if (int rc = time_previews("whole base, no receipts"); rc) return rc;

  auto t0 = Steady::now();
  auto draft = svc.Create(admin, women);
  if (!draft.ok()) return Fail(draft.status());
  const double create_ms = Ms(Steady::now() - t0);
  t0 = Steady::now();
  auto sent = svc.Send(admin, draft->id, 0);
  if (!sent.ok()) return Fail(sent.status());
  const double send_ms = Ms(Steady::now() - t0);
  if (int rc = time_previews("whole base, half sent today (wecom-2023: 1/day)"); rc) return rc;
  std::printf("\nSaving a draft to %lld customers (plan + one row each): %.0f ms. Sending it (planned again, "
              "recipients marked as using their quota, dispatch job queued): %.0f ms.\n",
              static_cast<long long>(draft->targeted), create_ms, send_ms);
  // Leave the database as it was (the benchmark may run again on it).
  (void)(*db)->Exec("DELETE FROM jobs WHERE kind = ?", {std::string(kDispatchJob)});
  (void)(*db)->Exec("DELETE FROM mass_messages WHERE id = ?", {draft->id});
  (void)(*db)->Exec("DELETE FROM mass_message_recipients WHERE message_id = ?", {draft->id});
  (void)(*db)->Exec("DELETE FROM team_rule_packs WHERE team_id = ?", {admin.team.value()});
  index.Stop();
  return 0;
}

}  // namespace
}  // namespace koi::messaging

int main(int argc, char** argv) {
  std::string db;
  int iterations = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--db") db = argv[i + 1];
    else if (k == "--iterations") iterations = std::atoi(argv[i + 1]);
  }
  if (db.empty() || iterations < 1) {
    std::fprintf(stderr, "usage: koi-bench-messaging --db URL [--iterations 5]\n");
    return 2;
  }
  return koi::messaging::Run(db, iterations);
}
