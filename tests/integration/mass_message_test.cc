// Mass messages end to end against the sandbox: plan within the rule pack, send exactly once (also when the answer
// to add_msg_template is lost, or the call never arrived), confirm as the employees in the sandbox, track the
// results; cancel and remind within WeCom's rules; and the sandbox enforcing the same pack on a send that bypasses
// Koi's planner.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "domain/customers/customers.h"
#include "domain/customers/groups.h"
#include "domain/messaging/messaging.h"
#include "domain/segments/index.h"
#include "domain/segments/segments.h"
#include "scenario.h"
#include "wecom_fixture.h"

namespace koi::messaging {
namespace {

using testing::TestEngine;
namespace json = boost::json;

constexpr char kAddTemplate[] = "/cgi-bin/externalcontact/add_msg_template";

class MassMessageTest : public wecom_link::WecomBench {
 protected:
  void SetUpKoi(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, "t");
    if (HasFatalFailure()) return;
    db_ = &db;
    customers_ = std::make_unique<customers::CustomerService>(db, clock_);
    index_ = std::make_unique<segments::SegmentIndex>(db, clock_);
    segments_ = std::make_unique<segments::SegmentService>(db, clock_, *index_, *customers_);
    // Koi's client for messages goes through a transport that can lose answers (the call reached WeCom, the
    // reply did not reach Koi) or refuse calls (they never reached WeCom).
    lossy_ = std::make_unique<wecom::WecomClient>(
        [this](const wecom::HttpCall& call) -> Result<std::string> {
          const bool create = call.url.find(kAddTemplate) != std::string::npos;
          if (create && during_create_) {
            auto f = std::move(during_create_);
            during_create_ = nullptr;
            f();  // something else happens while this call is on its way
          }
          if (create && refuse_creates_ > 0) {
            --refuse_creates_;
            return Status::Unavailable("unreachable", "connection refused");
          }
          http::Request r;
          r.method = call.method;
          r.target = call.url.substr(std::string(testing::kSandboxBaseUrl).size());
          r.body = call.body;
          r.headers["content-type"] = call.content_type;
          r.remote_addr = "127.0.0.1";
          std::string body = dispatcher_->Handle(r).body;
          if (create && lose_answers_ > 0) {
            --lose_answers_;
            return Status::Unavailable("timeout", "no answer within 5 s");
          }
          return body;
        },
        clock_, wecom::ClientOptions{.base_url = testing::kSandboxBaseUrl, .max_attempts = 3,
                                     .sleep = [this](int64_t ms) { clock_.Advance(ms); }});
    messages_ = std::make_unique<MessagingService>(db, clock_, *queue_, *link_, *lossy_, *index_, *segments_,
                                                   *customers_);
    // The same service reading relationship facts from the segment index for every target.
    indexed_ = std::make_unique<MessagingService>(db, clock_, *queue_, *link_, *lossy_, *index_, *segments_,
                                                  *customers_, MessagingOptions{.index_above = 0});
  }

  // Runs the due dispatch job once, like a worker. Returns the handler's status.
  Status RunDispatch() {
    auto job = queue_->Lease("test-node", {kDispatchJob}, 600'000);
    if (!job.ok()) return job.status();
    if (!job->has_value()) return Status::NotFound("no_job", "no dispatch job was due");
    std::atomic<bool> stopping{false};
    jobs::JobContext ctx(*queue_, **job, "test-node", stopping);
    Status s = messages_->RunDispatch(ctx);
    if (s.ok()) EXPECT_TRUE(queue_->Complete((*job)->id, "test-node").ok());
    else EXPECT_TRUE(queue_->Fail((*job)->id, "test-node", s, (*job)->attempts, (*job)->max_attempts).ok());
    clock_.Advance(3600'000);  // past any backoff
    return s;
  }

  // Employees confirm their pending tasks in WeCom (the sandbox's scenario driver).
  std::map<std::string, std::string> Confirm(const std::string& userid, const char* pack = "wecom-2025") {
    sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 7);
    scenario.UseRulePack(*rules::FindRulePack(pack));
    auto e = scenario.Run("send-mass-message", {{"userid", userid}});
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? e->ids : std::map<std::string, std::string>{};
  }

  std::vector<std::string> ActiveCustomers(size_t n) {
    std::vector<std::string> out;
    for (const auto& line : Lines(*db_, "SELECT DISTINCT f.external_userid FROM wecom_follows f JOIN wecom_employees e "
                                        "ON e.team_id = f.team_id AND e.userid = f.userid WHERE f.team_id = ? AND "
                                        "f.deleted_at IS NULL AND e.status = 1 ORDER BY 1",
                                  {admin_.team.value()})) {
      if (out.size() == n) break;
      out.push_back(line.substr(0, line.size() - 1));
    }
    return out;
  }

  Draft DraftFor(std::vector<std::string> ids, std::string text = "双十二会员日，全场 8 折") {
    return Draft{.kind = "enterprise", .title = "会员日",
                 .content = json::serialize(json::object{
                     {"text", text},
                     {"attachments", json::array{json::object{{"type", "link"}, {"title", "会员日"},
                                                              {"url", "https://shop.example.cn/day"}},
                                                 json::object{{"type", "image"}, {"url", "https://shop.example.cn/p.png"}}}}}),
                 .target = Target{.segment_id = std::nullopt, .rule = "", .customer_ids = std::move(ids)}};
  }

  int64_t Calls(const std::string& api) {
    auto counts = sandbox_->CallCounts();
    auto it = counts.find({spec_.corp_id, api});
    return it == counts.end() ? 0 : it->second;
  }

  int64_t WorldCount(const std::string& sql, const std::vector<storage::Value>& p = {}) {
    return world_->Query(sql, p)->rows.at(0).Int(0);
  }

  std::vector<std::string> Senders(int64_t id) {
    std::vector<std::string> out;
    for (const auto& line : Lines(*db_, "SELECT DISTINCT userid FROM mass_message_chunks WHERE message_id = ? ORDER BY 1",
                                  {id}))
      out.push_back(line.substr(0, line.size() - 1));
    return out;
  }

  storage::Database* db_ = nullptr;
  std::unique_ptr<customers::CustomerService> customers_;
  std::unique_ptr<segments::SegmentIndex> index_;
  std::unique_ptr<segments::SegmentService> segments_;
  std::unique_ptr<wecom::WecomClient> lossy_;
  std::unique_ptr<MessagingService> messages_;
  std::unique_ptr<MessagingService> indexed_;
  int lose_answers_ = 0;
  int refuse_creates_ = 0;
  std::function<void()> during_create_;
};

TEST_P(MassMessageTest, PlanSendConfirmTrackAndTheRulePackBothSides) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  const auto ids = ActiveCustomers(40);
  ASSERT_EQ(ids.size(), 40u);

  // Bad input is refused before anything is planned or sent.
  Draft bad = DraftFor(ids);
  bad.content = R"({"text": " "})";
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_empty");
  bad.content = R"({"attachments": [{"type": "link", "title": "x", "url": "ftp://shop"}]})";
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_link_not_http");
  bad = DraftFor({});
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_target_invalid");
  bad.target.rule = R"({"field": "gender", "values": [0, 1, 2], "not": true})";
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_target_empty");
  bad = DraftFor({"wm-not-a-customer"});
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_target_invalid");
  bad = DraftFor(ids);
  bad.title = "";
  EXPECT_EQ(messages_->Create(admin_, bad).status().reason(), "message_title_invalid");

  auto draft = messages_->Create(admin_, DraftFor(ids));
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  EXPECT_EQ(draft->state, "draft");
  EXPECT_EQ(draft->targeted, 40);
  EXPECT_EQ(draft->recipients, 40);
  EXPECT_TRUE(draft->skipped.empty());
  int64_t planned = 0;
  for (const auto& s : draft->senders) planned += s.recipients;
  EXPECT_EQ(planned, 40);
  EXPECT_EQ(Calls(kAddTemplate), 0);
  EXPECT_EQ(messages_->Send(admin_, draft->id, clock_.NowMillis() + 1000).status().reason(), "message_schedule_past");

  auto sent = messages_->Send(admin_, draft->id, 0);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->state, "scheduled");
  EXPECT_EQ(messages_->Send(admin_, draft->id, 0).status().reason(), "message_state");
  ASSERT_TRUE(RunDispatch().ok());
  auto after = messages_->Get(admin_, draft->id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->state, "sent");
  const auto senders = Senders(draft->id);
  EXPECT_EQ(after->chunks_submitted, static_cast<int64_t>(senders.size()));
  EXPECT_EQ(Calls(kAddTemplate), static_cast<int64_t>(senders.size()));  // one call per sender
  EXPECT_EQ(after->pending, 40);
  // In WeCom: one task per sender, every recipient waiting for the employee's confirmation.
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_results WHERE status = 0"), 40);

  // The employees confirm; the sync reads the results and the message settles.
  for (const auto& u : senders) Confirm(u);
  auto tracked = messages_->Refresh(admin_, draft->id);
  ASSERT_TRUE(tracked.ok()) << tracked.status().ToString();
  EXPECT_EQ(tracked->sent, 40);
  EXPECT_EQ(tracked->state, "done");
  EXPECT_FALSE(tracked->delivery.empty());
  auto page = messages_->Recipients(admin_, draft->id, {.skip = "", .status = 1, .userid = "", .page = 1, .page_size = 100});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 40);
  auto timeline = messages_->OfCustomer(admin_, ids[0]);
  ASSERT_TRUE(timeline.ok());
  ASSERT_EQ(timeline->size(), 1u);
  EXPECT_EQ((*timeline)[0].status, 1);

  // One per natural day (wecom-2023): the same customers are skipped today, with the reason, and nothing is sent.
  ASSERT_TRUE(messages_->SetRulePack(admin_, "wecom-2023", {}).ok());
  auto again = messages_->Create(admin_, DraftFor(ids));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->recipients, 0);
  EXPECT_EQ(again->skipped["over_day_limit"], 40);
  EXPECT_EQ(messages_->Send(admin_, again->id, 0).status().reason(), "message_all_skipped");
  auto skipped = messages_->Recipients(admin_, again->id, {.skip = "over_day_limit", .status = std::nullopt,
                                                             .userid = "", .page = 1, .page_size = 10});
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(skipped->total, 40);
  EXPECT_EQ(skipped->items.size(), 10u);

  // A send that bypasses Koi's planner: WeCom (the sandbox, same pack) answers status 3 for the customer.
  const std::string userid = senders[0];
  auto follow = t.db->Query("SELECT external_userid FROM mass_message_recipients WHERE message_id = ? AND userid = ? "
                            "ORDER BY external_userid LIMIT 1", {draft->id, userid});
  const std::string ext = follow->rows.at(0).Text(0);
  auto corp = link_->Credentials(admin_.team);
  ASSERT_TRUE(corp.ok());
  auto direct = client_->AddMsgTemplate(*corp, userid, {ext}, json::parse(R"({"text":{"content":"绕过"}})").as_object());
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  Confirm(userid, "wecom-2023");
  EXPECT_EQ(WorldCount("SELECT status FROM msg_results WHERE msgid = ?", {direct->msgid}), 3);

  // The next natural day (UTC+8) the quota is free again.
  const int64_t day = 86'400'000, offset = 8 * 3'600'000;
  clock_.Advance(((clock_.NowMillis() + offset) / day + 1) * day - offset - clock_.NowMillis() + 3'600'000);
  ASSERT_TRUE(messages_->Update(admin_, again->id, DraftFor(ids)).ok());
  auto tomorrow = messages_->Get(admin_, again->id);
  ASSERT_TRUE(tomorrow.ok());
  EXPECT_EQ(tomorrow->recipients, 40);
}

TEST_P(MassMessageTest, ALostAnswerIsReconciledAndARefusedCallIsRepeatedExactlyOnce) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  const auto ids = ActiveCustomers(60);
  auto draft = messages_->Create(admin_, DraftFor(ids));
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(messages_->Send(admin_, draft->id, 0).ok());

  // The first call reaches WeCom but its answer is lost: Koi stops with the chunk in `intent`.
  lose_answers_ = 1;
  EXPECT_FALSE(RunDispatch().ok());
  EXPECT_EQ(Calls(kAddTemplate), 1);
  EXPECT_EQ(Lines(*t.db, "SELECT state FROM mass_message_chunks WHERE message_id = ? AND chunk = 0", {draft->id}),
            std::vector<std::string>{"intent|"});
  // The second call never reaches WeCom (connection refused): the next attempt finds nothing and calls again.
  refuse_creates_ = 1;
  EXPECT_FALSE(RunDispatch().ok());
  EXPECT_EQ(Calls(kAddTemplate), 1);  // the refused call was not counted by WeCom
  // Then everything goes through: the first chunk is found in WeCom, not created again.
  ASSERT_TRUE(RunDispatch().ok());
  const auto senders = Senders(draft->id);
  EXPECT_EQ(Calls(kAddTemplate), static_cast<int64_t>(senders.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_templates"), static_cast<int64_t>(senders.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_results"), 60);  // every recipient submitted exactly once
  EXPECT_EQ(WorldCount("SELECT COUNT(DISTINCT external_userid) FROM msg_results"), 60);
  // Koi's ledger names exactly WeCom's templates.
  std::vector<std::string> koi_ids, world_ids;
  for (const auto& l : Lines(*t.db, "SELECT msgid FROM mass_message_chunks WHERE message_id = ? ORDER BY 1", {draft->id}))
    koi_ids.push_back(l);
  for (const auto& l : Lines(*world_, "SELECT msgid FROM msg_templates ORDER BY 1")) world_ids.push_back(l);
  EXPECT_EQ(koi_ids, world_ids);
  auto m = messages_->Get(admin_, draft->id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->state, "sent");
  EXPECT_EQ(m->pending, 60);
}

// Under load a worker's job lease can lapse while it is still sending; another worker then takes the job over and
// both dispatch the same message at once. Each chunk is claimed before its call, and a chunk whose call may still
// be in flight is left alone, so WeCom still gets each chunk once.
TEST_P(MassMessageTest, TwoDispatchersAtOnceSendEachChunkOnce) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  auto draft = messages_->Create(admin_, DraftFor(ActiveCustomers(60)));
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  ASSERT_TRUE(messages_->Send(admin_, draft->id, 0).ok());
  auto job = queue_->Lease("node-a", {kDispatchJob}, 60'000);
  ASSERT_TRUE(job.ok() && job->has_value());
  std::atomic<bool> stopping{false};
  Status inner = Status::Ok();
  // While node A's first call is on its way, A's lease lapses (a minute passes) and node B takes the job over and
  // runs it as far as it can.
  during_create_ = [&] {
    clock_.Advance(61'000);
    auto taken = queue_->Lease("node-b", {kDispatchJob}, 60'000);
    ASSERT_TRUE(taken.ok() && taken->has_value());
    jobs::JobContext b(*queue_, **taken, "node-b", stopping);
    inner = messages_->RunDispatch(b);
    EXPECT_TRUE(queue_->Fail((*taken)->id, "node-b", inner, (*taken)->attempts, (*taken)->max_attempts).ok());
  };
  jobs::JobContext a(*queue_, **job, "node-a", stopping);
  const Status outer = messages_->RunDispatch(a);
  EXPECT_EQ(inner.reason(), "message_chunk_in_flight");  // B left A's chunk alone
  EXPECT_EQ(outer.reason(), "job_interrupted");          // A recorded its chunk, then saw it had lost the job
  // The job runs again later (after B's retry backoff) and finds everything sent.
  clock_.Advance(3'600'000);
  ASSERT_TRUE(RunDispatch().ok());
  const auto senders = Senders(draft->id);
  ASSERT_GE(senders.size(), 3u);
  EXPECT_EQ(Calls(kAddTemplate), static_cast<int64_t>(senders.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_templates"), static_cast<int64_t>(senders.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_results"), 60);
  auto m = messages_->Get(admin_, draft->id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->state, "sent");
  EXPECT_EQ(m->chunks_submitted, static_cast<int64_t>(senders.size()));
}

TEST_P(MassMessageTest, CancelRemindAndScheduling) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  const auto ids = ActiveCustomers(20);

  // Scheduled, then cancelled before it goes: nothing reaches WeCom and the quota is free again.
  auto later = messages_->Create(admin_, DraftFor(ids));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(messages_->Send(admin_, later->id, clock_.NowMillis() + 31LL * 86'400'000).status().reason(),
            "message_schedule_too_far");
  ASSERT_TRUE(messages_->Send(admin_, later->id, clock_.NowMillis() + 3'600'000).ok());
  EXPECT_EQ(RunDispatch().reason(), "no_job");  // not due yet (RunDispatch advanced the clock an hour)
  auto cancelled = messages_->Cancel(admin_, later->id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, "cancelled");
  EXPECT_EQ(RunDispatch().reason(), "no_job");
  EXPECT_EQ(Calls(kAddTemplate), 0);
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM mass_message_recipients WHERE message_id = ? AND counts = 1",
                  {later->id}),
            std::vector<std::string>{"0|"});

  // Sent, one employee confirms, the others are reminded (at most three times in 24 h), then it is cancelled.
  auto now = messages_->Create(admin_, DraftFor(ids));
  ASSERT_TRUE(now.ok());
  ASSERT_TRUE(messages_->Send(admin_, now->id, 0).ok());
  ASSERT_TRUE(RunDispatch().ok());
  const auto senders = Senders(now->id);
  ASSERT_GE(senders.size(), 2u);
  Confirm(senders[0]);
  for (int i = 0; i < 3; ++i) {
    auto r = messages_->Remind(admin_, now->id);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->reminders_left, 2 - i);
  }
  EXPECT_EQ(messages_->Remind(admin_, now->id).status().reason(), "remind_limit_reached");
  EXPECT_EQ(Calls("/cgi-bin/externalcontact/remind_groupmsg_send"), 3 * static_cast<int64_t>(senders.size() - 1));
  auto stop = messages_->Cancel(admin_, now->id);
  ASSERT_TRUE(stop.ok()) << stop.status().ToString();
  EXPECT_EQ(stop->state, "cancelled");
  EXPECT_GT(stop->sent, 0);  // the confirmed part stays sent
  EXPECT_EQ(Calls("/cgi-bin/externalcontact/cancel_groupmsg_send"), static_cast<int64_t>(senders.size() - 1));
  for (size_t i = 1; i < senders.size(); ++i) Confirm(senders[i]);  // too late: cancelled in WeCom
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_results WHERE status = 1 AND userid <> ?", {senders[0]}), 0);

  // A member without a bound employee cannot send a personal message, nor an enterprise one.
  auto member = accounts_->AddMember(admin_, "13900000002", "小周", {});
  ASSERT_TRUE(member.ok());
  accounts::Principal m{.team = admin_.team, .account = member->id, .role = accounts::Role::kMember, .phone = "",
                        .name = "小周"};
  Draft personal = DraftFor(ids);
  personal.kind = "personal";
  EXPECT_EQ(messages_->Create(m, personal).status().reason(), "message_no_sender");
  EXPECT_EQ(messages_->Create(m, DraftFor(ids)).status().reason(), "admin_only");
  EXPECT_EQ(messages_->Get(m, now->id).status().reason(), "message_not_found");
}

// Mass messages an employee sends from their own WeCom client (personal) use the same quota under wecom-2023 and
// wecom-2025; Koi reads them from WeCom and plans around them. Under wecom-2020 they do not touch the enterprise
// quota.
TEST_P(MassMessageTest, PersonalMessagesSentInWecomCountAgainstTheQuota) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  auto busiest = t.db->Query("SELECT f.userid FROM wecom_follows f JOIN wecom_employees e ON e.team_id = f.team_id AND "
                             "e.userid = f.userid WHERE f.team_id = ? AND f.deleted_at IS NULL AND e.status = 1 GROUP "
                             "BY f.userid ORDER BY COUNT(*) DESC, f.userid LIMIT 1", {admin_.team.value()});
  ASSERT_TRUE(busiest.ok());
  const std::string userid = busiest->rows.at(0).Text(0);
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 11);
  scenario.UseRulePack(*rules::FindRulePack("wecom-2023"));
  auto e = scenario.Run("personal-mass-message", {{"userid", userid}, {"count", "5"}});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::vector<std::string> received;
  for (const auto& l : Lines(*world_, "SELECT external_userid FROM msg_results WHERE status = 1 ORDER BY 1"))
    received.push_back(l.substr(0, l.size() - 1));
  ASSERT_FALSE(received.empty());

  ASSERT_TRUE(messages_->SetRulePack(admin_, "wecom-2023", {}).ok());
  ASSERT_TRUE(messages_->SyncDue().ok());
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_receipts WHERE userid = ?", {userid}),
            std::vector<std::string>{std::to_string(received.size()) + "|"});
  auto plan = messages_->Create(admin_, DraftFor(received));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->skipped["over_day_limit"], static_cast<int64_t>(received.size()));
  // Read again later: nothing is counted twice.
  clock_.Advance(11 * 60'000);
  ASSERT_TRUE(messages_->SyncDue().ok());
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_receipts"),
            std::vector<std::string>{std::to_string(received.size()) + "|"});
  // wecom-2020: personal messages have their own quota; the enterprise message may go.
  ASSERT_TRUE(messages_->SetRulePack(admin_, "wecom-2020", {}).ok());
  Draft text_only = DraftFor(received);
  text_only.content = R"({"text": "会员日"})";  // wecom-2020 allows one attachment at most
  auto old_rules = messages_->Create(admin_, text_only);
  ASSERT_TRUE(old_rules.ok()) << old_rules.status().ToString();
  EXPECT_EQ(old_rules->recipients, static_cast<int64_t>(received.size()));
}

// An enterprise message an admin created in the WeCom admin console (not through Koi) uses the quota like Koi's own;
// Koi's own templates, also listed by WeCom, are never counted a second time.
TEST_P(MassMessageTest, EnterpriseMessagesFromTheAdminConsoleCountAgainstTheQuota) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  // Koi sends one first: WeCom lists it too.
  const auto ids = ActiveCustomers(60);
  auto koi = messages_->Create(admin_, DraftFor(std::vector<std::string>(ids.begin() + 30, ids.end())));
  ASSERT_TRUE(koi.ok()) << koi.status().ToString();
  ASSERT_TRUE(messages_->Send(admin_, koi->id, 0).ok());
  ASSERT_TRUE(RunDispatch().ok());

  const std::string userid = Senders(koi->id).at(0);
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 5);
  scenario.UseRulePack(*rules::FindRulePack("wecom-2020"));
  auto e = scenario.Run("personal-mass-message", {{"userid", userid}, {"count", "1000"}, {"create_type", "0"}});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::vector<std::string> received, elsewhere;  // elsewhere: not in Koi's message
  for (const auto& l : Lines(*world_, "SELECT r.external_userid FROM msg_results r JOIN msg_templates t ON t.msgid = "
                                      "r.msgid WHERE r.status = 1 AND t.create_type = 0 AND t.sender = '' ORDER BY 1")) {
    received.push_back(l.substr(0, l.size() - 1));
    if (std::find(ids.begin() + 30, ids.end(), received.back()) == ids.end()) elsewhere.push_back(received.back());
  }
  ASSERT_FALSE(elsewhere.empty());

  // Read once it is older than the send grace: Koi's own template is recognised, the admin's is recorded.
  ASSERT_TRUE(messages_->SetRulePack(admin_, "wecom-2020", {}).ok());
  clock_.Advance(15 * 60'000);
  ASSERT_TRUE(messages_->SyncDue().ok());
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_messages WHERE create_type = 0"),
            std::vector<std::string>{"1|"});
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_messages p JOIN mass_message_chunks k ON k.msgid = "
                         "p.msgid"), std::vector<std::string>{"0|"});
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_receipts WHERE create_type = 0 AND userid = ?", {userid}),
            std::vector<std::string>{std::to_string(received.size()) + "|"});
  // wecom-2020: an enterprise message a week. Had it been taken for an employee's own (a separate quota), these
  // customers would be planned.
  Draft text_only = DraftFor(elsewhere);
  text_only.content = R"({"text": "会员日"})";
  auto plan = messages_->Create(admin_, text_only);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->skipped["over_week_limit"], static_cast<int64_t>(elsewhere.size()));
}

// Messages to customer groups: targeted by owner, by Koi's group tags or picked; sent through each group's owner
// (chat_type group), confirmed, tracked; the pack's group quota on both sides, counting the personal group messages
// employees send from WeCom; and a lost answer reconciled without a second template.
TEST_P(MassMessageTest, GroupMessagesGoThroughTheOwnersWithinTheGroupQuota) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 150);
  if (HasFatalFailure()) return;
  customers::GroupService groups(*t.db, clock_);
  auto all = groups.List(admin_.team, {.q = "", .owner = "", .tag_id = 0, .page = 1, .page_size = 100});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_GE(all->total, 6);
  std::vector<std::string> chats;
  for (const auto& g : all->items) chats.push_back(g.chat_id);
  // Groups whose owner can send (an active employee), and the others.
  std::set<std::string> sendable;
  for (const auto& l : Lines(*t.db, "SELECT g.chat_id FROM wecom_group_chats g JOIN wecom_employees e ON e.team_id = "
                                    "g.team_id AND e.userid = g.owner WHERE g.team_id = ? AND e.status = 1",
                             {admin_.team.value()}))
    sendable.insert(l.substr(0, l.size() - 1));
  ASSERT_FALSE(sendable.empty());

  // Group tags: Koi's own.
  const accounts::Client client{.ip = "127.0.0.1", .user_agent = "test"};
  auto vip = groups.CreateTag(admin_, " VIP群 ", client);
  ASSERT_TRUE(vip.ok()) << vip.status().ToString();
  EXPECT_EQ(vip->name, "VIP群");
  EXPECT_EQ(groups.CreateTag(admin_, "VIP群", client).status().reason(), "group_tag_exists");
  EXPECT_EQ(groups.CreateTag(admin_, "", client).status().reason(), "group_tag_name_invalid");
  const std::vector<std::string> tagged(chats.begin(), chats.begin() + 3);
  auto n = groups.TagGroups(admin_, tagged, {vip->id}, {});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);
  EXPECT_EQ(*groups.TagGroups(admin_, tagged, {vip->id}, {}), 0);  // already tagged
  EXPECT_EQ(groups.TagGroups(admin_, {"wr-none"}, {vip->id}, {}).status().reason(), "group_not_found");
  EXPECT_EQ(groups.TagGroups(admin_, tagged, {vip->id + 99}, {}).status().reason(), "group_tag_not_found");
  auto by_tag = groups.List(admin_.team, {.q = "", .owner = "", .tag_id = vip->id, .page = 1, .page_size = 10});
  ASSERT_TRUE(by_tag.ok());
  EXPECT_EQ(by_tag->total, 3);
  EXPECT_EQ(by_tag->items.at(0).tags.at(0).name, "VIP群");
  EXPECT_EQ(groups.Tags(admin_.team)->at(0).groups, 3);
  auto named = groups.List(admin_.team, {.q = "", .owner = "", .tag_id = 0, .chat_ids = {chats[1], chats[0], "wr-none"},
                                         .page = 1, .page_size = 10});
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_EQ(named->total, 2);  // a picker naming the ids it holds

  auto group_draft = [](Target target, std::string text = "本周社群福利：满 199 减 30") {
    return Draft{.kind = "enterprise", .audience = "groups", .title = "社群福利",
                 .content = json::serialize(json::object{{"text", text}}), .target = std::move(target)};
  };
  const int64_t tagged_sendable = std::count_if(tagged.begin(), tagged.end(),
                                                [&](const std::string& c) { return sendable.count(c) > 0; });
  auto by_tag_plan = messages_->Preview(admin_, group_draft(Target{.group_tag_ids = {vip->id}}));
  ASSERT_TRUE(by_tag_plan.ok()) << by_tag_plan.status().ToString();
  EXPECT_EQ(by_tag_plan->targeted, 3);
  EXPECT_EQ(by_tag_plan->recipients, tagged_sendable);
  EXPECT_EQ(by_tag_plan->skipped["owner_unavailable"], 3 - tagged_sendable);

  // Bad input.
  EXPECT_EQ(messages_->Create(admin_, group_draft(Target{.chat_ids = chats}, "{客户名称}，你好")).status().reason(),
            "message_variable_groups");
  EXPECT_EQ(messages_->Create(admin_, group_draft(Target{.chat_ids = std::vector<std::string>(2001, "wr")}))
                .status().reason(), "message_too_many_groups");
  EXPECT_EQ(messages_->Create(admin_, group_draft(Target{.chat_ids = {"wr-none"}})).status().reason(),
            "message_target_invalid");
  EXPECT_EQ(messages_->Create(admin_, group_draft(Target{.customer_ids = ActiveCustomers(1)})).status().reason(),
            "message_target_invalid");
  Draft odd = group_draft(Target{.chat_ids = chats});
  odd.audience = "rooms";
  EXPECT_EQ(messages_->Create(admin_, odd).status().reason(), "message_audience_invalid");

  // Every group, picked. Sent through each owner, one group template per owner.
  auto draft = messages_->Create(admin_, group_draft(Target{.chat_ids = chats}));
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  EXPECT_EQ(draft->audience, "groups");
  EXPECT_EQ(draft->targeted, static_cast<int64_t>(chats.size()));
  EXPECT_EQ(draft->recipients, static_cast<int64_t>(sendable.size()));
  ASSERT_TRUE(messages_->Send(admin_, draft->id, 0).ok());
  ASSERT_TRUE(RunDispatch().ok());
  const auto owners = Senders(draft->id);
  EXPECT_EQ(Calls(kAddTemplate), static_cast<int64_t>(owners.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_templates WHERE chat_type = 'group'"),
            static_cast<int64_t>(owners.size()));
  EXPECT_EQ(WorldCount("SELECT COUNT(*) FROM msg_results"), static_cast<int64_t>(sendable.size()));
  for (const auto& u : owners) Confirm(u);
  auto tracked = messages_->Refresh(admin_, draft->id);
  ASSERT_TRUE(tracked.ok()) << tracked.status().ToString();
  EXPECT_EQ(tracked->sent, static_cast<int64_t>(sendable.size()));
  EXPECT_EQ(tracked->state, "done");
  auto rows = messages_->Recipients(admin_, draft->id, {.skip = "none", .status = 1, .userid = "", .page = 1,
                                                        .page_size = 100});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->total, static_cast<int64_t>(sendable.size()));
  EXPECT_FALSE(rows->items.at(0).name.empty());  // the group's name

  // wecom-2023: a group receives one per natural day. Koi skips them; a send bypassing Koi gets status 3.
  ASSERT_TRUE(messages_->SetRulePack(admin_, "wecom-2023", {}).ok());
  auto again = messages_->Create(admin_, group_draft(Target{.chat_ids = chats}));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->recipients, 0);
  EXPECT_EQ(again->skipped["over_day_limit"], static_cast<int64_t>(sendable.size()));
  EXPECT_EQ(messages_->Send(admin_, again->id, 0).status().reason(), "message_all_skipped");
  const std::string chat = *sendable.begin();
  const std::string owner = Lines(*t.db, "SELECT owner FROM wecom_group_chats WHERE chat_id = ?", {chat}).at(0);
  const std::string owner_id = owner.substr(0, owner.size() - 1);
  auto corp = link_->Credentials(admin_.team);
  ASSERT_TRUE(corp.ok());
  auto direct = client_->AddGroupMsgTemplate(*corp, owner_id, {chat},
                                             json::parse(R"({"text":{"content":"绕过"}})").as_object());
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  Confirm(owner_id, "wecom-2023");
  EXPECT_EQ(WorldCount("SELECT status FROM msg_results WHERE msgid = ?", {direct->msgid}), 3);

  // The next natural day: an employee's own group message from WeCom uses the quota of their groups.
  const int64_t day = 86'400'000, offset = 8 * 3'600'000;
  clock_.Advance(((clock_.NowMillis() + offset) / day + 1) * day - offset - clock_.NowMillis() + 3'600'000);
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 11);
  scenario.UseRulePack(*rules::FindRulePack("wecom-2023"));
  auto own = scenario.Run("personal-mass-message", {{"userid", owner_id}, {"count", "100"}, {"chat_type", "group"}});
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  ASSERT_TRUE(messages_->SyncDue().ok());
  const auto owned = Lines(*t.db, "SELECT COUNT(*) FROM wecom_group_chats WHERE team_id = ? AND owner = ?",
                           {admin_.team.value(), owner_id});
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM personal_mass_receipts WHERE customer_id = -1"), owned);
  auto mine = messages_->Create(admin_, group_draft(Target{.group_owners = {owner_id}}));
  ASSERT_TRUE(mine.ok()) << mine.status().ToString();
  EXPECT_EQ(mine->recipients, 0);
  EXPECT_EQ(std::to_string(mine->skipped["over_day_limit"]) + "|", owned.at(0));

  // The day after, a lost answer: the group template is found in WeCom (unconfirmed, so without rows), not re-sent.
  clock_.Advance(day);
  auto lost = messages_->Create(admin_, group_draft(Target{.group_owners = {owner_id}}));
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  ASSERT_TRUE(messages_->Send(admin_, lost->id, 0).ok());
  const int64_t before = Calls(kAddTemplate);
  lose_answers_ = 1;
  EXPECT_FALSE(RunDispatch().ok());
  ASSERT_TRUE(RunDispatch().ok());
  EXPECT_EQ(Calls(kAddTemplate), before + 1);
  auto settled = messages_->Get(admin_, lost->id);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(settled->state, "sent");
  EXPECT_EQ(settled->chunks_submitted, 1);
}

// Large targets take the relationship facts from the segment index; small ones read them from the database. Both
// must plan every customer the same way: sender, duplicates, lost / not a friend, through the index's first build
// and after incremental changes (customers deleting employees, employees deleting customers, resignations, equal
// add times).
TEST_P(MassMessageTest, TheIndexAndTheDatabaseGiveTheSamePlan) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db, 200);
  if (HasFatalFailure()) return;
  Draft all = DraftFor({});
  all.target.rule = R"({"op":"and","children":[]})";
  const std::vector<storage::Value> team{admin_.team.value()};
  auto compare = [&](const char* when) {
    auto a = messages_->Create(admin_, all);
    auto b = indexed_->Create(admin_, all);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    const std::string rows = "SELECT external_userid, userid, skip FROM mass_message_recipients WHERE message_id = ? "
                             "ORDER BY 1";
    EXPECT_EQ(Lines(*t.db, rows, {a->id}), Lines(*t.db, rows, {b->id})) << when;
    EXPECT_EQ(Lines(*t.db, "SELECT plan FROM mass_messages WHERE id = ?", {a->id}),
              Lines(*t.db, "SELECT plan FROM mass_messages WHERE id = ?", {b->id})) << when;
    EXPECT_EQ(a->skipped, b->skipped) << when;
  };
  compare("first build");
  // Churn the mirror (the triggers log every change for the index).
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET deleted_at = 100, deleted_by = 'customer' WHERE team_id = ? AND "
                         "external_userid IN (SELECT external_userid FROM wecom_follows WHERE team_id = ? ORDER BY "
                         "external_userid LIMIT 15)", {admin_.team.value(), admin_.team.value()}).ok());
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET deleted_at = 200, deleted_by = 'employee' WHERE team_id = ? AND "
                         "external_userid IN (SELECT external_userid FROM wecom_follows WHERE team_id = ? ORDER BY "
                         "external_userid DESC LIMIT 10)", {admin_.team.value(), admin_.team.value()}).ok());
  // Equal add times for every relationship of customers followed by several employees: ties go to the smaller userid.
  ASSERT_TRUE(t.db->Exec("UPDATE wecom_follows SET createtime = 1700000000 WHERE team_id = ? AND external_userid IN "
                         "(SELECT external_userid FROM wecom_follows WHERE team_id = ? GROUP BY external_userid HAVING "
                         "COUNT(*) > 1)", {admin_.team.value(), admin_.team.value()}).ok());
  // The newest relationship of some customers is with an employee who resigns (they cannot send).
  auto multi = t.db->Query("SELECT userid FROM wecom_follows WHERE team_id = ? AND deleted_at IS NULL GROUP BY userid "
                           "ORDER BY COUNT(*) DESC LIMIT 2", team);
  ASSERT_TRUE(multi.ok());
  for (const auto& r : multi->rows)
    ASSERT_TRUE(t.db->Exec("UPDATE wecom_employees SET status = 5 WHERE team_id = ? AND userid = ?",
                           {admin_.team.value(), r.Text(0)}).ok());
  compare("after changes");
  auto skipped = Lines(*t.db, "SELECT skip, COUNT(*) FROM mass_message_recipients WHERE message_id = (SELECT MAX(id) "
                               "FROM mass_messages) AND skip <> '' GROUP BY skip ORDER BY 1");
  EXPECT_EQ(skipped.size(), 2u);  // both lost and not_friend occur
  // A fresh index (built from scratch) agrees too.
  index_->Stop();
  index_ = std::make_unique<segments::SegmentIndex>(*t.db, clock_);
  segments_ = std::make_unique<segments::SegmentService>(*t.db, clock_, *index_, *customers_);
  messages_ = std::make_unique<MessagingService>(*t.db, clock_, *queue_, *link_, *lossy_, *index_, *segments_,
                                                 *customers_);
  indexed_ = std::make_unique<MessagingService>(*t.db, clock_, *queue_, *link_, *lossy_, *index_, *segments_,
                                                *customers_, MessagingOptions{.index_above = 0});
  compare("rebuilt");
}

INSTANTIATE_TEST_SUITE_P(Engines, MassMessageTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::messaging
