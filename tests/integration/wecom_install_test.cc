// The third-party install (前往授权) end to end against the sandbox's suite: WeCom pushes the suite_ticket by
// instruction callback, the admin starts an install, the corp's WeCom admin approves it on the sandbox's
// authorisation page with a visible range, create_auth and the browser's return race to complete it, the team is
// linked in third_party mode and the full sync mirrors exactly the visible range. Also the suite endpoints'
// errcodes, token refreshes across expiry, and refused instruction callbacks. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "core/utf8.h"
#include "domain/wecom_link/install.h"
#include "domain/wecom_link/sidebar.h"
#include "http/target.h"
#include "scenario.h"
#include "suite.h"
#include "toolbar.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "wecom_fixture.h"

namespace koi::wecom_link {
namespace {

using testing::TestEngine;

// Query parameter `key` of `url` ("" when absent), percent-decoded.
std::string Param(const std::string& url, const std::string& key) {
  auto q = url.find('?');
  if (q == std::string::npos) return "";
  std::string query = url.substr(q + 1);
  for (size_t pos = 0; pos <= query.size();) {
    size_t amp = query.find('&', pos);
    std::string pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key) {
      std::string out;
      http::PercentDecode(eq == std::string::npos ? "" : pair.substr(eq + 1), true, out);
      return out;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return "";
}

class WecomInstallTest : public WecomBench {
 protected:
  void SetUp() override {
    StartSandbox(300, 30, 12);
    suite_api_ = std::make_unique<sandbox::SuiteApi>(*world_, clock_);
    suite_api_->AddRoutes(router_);
    suite_.instruction_url = "http://koi.test/api/v1/wecom/suite/callback";
    suite_.data_url = "http://koi.test/api/v1/wecom/callback/$CORPID$";
    ASSERT_TRUE(sandbox::ConfigureSuite(*world_, suite_).ok());
  }

  void StartKoi(storage::Database& db) {
    ASSERT_TRUE(storage::Migrate(db, clock_).ok());
    accounts_ = std::make_unique<accounts::AccountService>(db, clock_, sms_, accounts::AccountsOptions{});
    admin_ = accounts_->CreateTeam({.phone = "13800138000", .password = "secret123", .team_name = "甲", .name = "王"})
                 .value();
    queue_ = std::make_unique<jobs::JobQueue>(db, clock_);
    link_ = std::make_unique<WecomLink>(db, clock_, *queue_, *client_, box_);
    install_ = std::make_unique<SuiteInstall>(db, clock_, *client_, *link_, box_,
                                              SuiteSettings{.suite_id = suite_.suite_id,
                                                            .token = suite_.token,
                                                            .aes_key = suite_.aes_key,
                                                            .install_url = "http://sandbox.test/3rdapp/install",
                                                            .public_url = "https://koi.test/",
                                                            .provider_corp_id = "wwprovider000001"});
    client_->SetSuite({.suite_id = suite_.suite_id, .suite_secret = suite_.suite_secret,
                       .ticket = [this] { return install_->Ticket(); }});
  }

  // Delivers the sandbox's due callbacks: the suite's instructions to SuiteInstall, the corps' to `corp_posts`.
  sandbox::DeliveryStats Deliver() {
    sandbox::CallbackDeliverer delivery(*world_, clock_, [this](const std::string& url, const std::string& body) {
      if (url.find("/suite/callback") == std::string::npos) {
        ++corp_posts_;
        return Result<int>(200);
      }
      Status s = install_->Receive(RequestFromUrl(url, body));
      if (!s.ok()) last_refusal_ = s.reason();
      return Result<int>(s.ok() ? 200 : 400);
    });
    return delivery.DeliverDue().value();
  }

  // The sandbox's authorisation page approved for `corp` with `parties` visible (empty: everyone). Returns the
  // URL the browser is sent back to.
  std::string Approve(const std::string& install_url, const std::string& corp, const std::vector<int64_t>& parties) {
    http::Request r;
    r.method = "POST";
    r.target = "/3rdapp/install";
    r.headers["content-type"] = "application/x-www-form-urlencoded";
    r.body = "suite_id=" + PercentEncode(Param(install_url, "suite_id")) +
             "&pre_auth_code=" + PercentEncode(Param(install_url, "pre_auth_code")) +
             "&redirect_uri=" + PercentEncode(Param(install_url, "redirect_uri")) +
             "&state=" + PercentEncode(Param(install_url, "state")) + "&corp_id=" + corp +
             "&scope=" + (parties.empty() ? "all" : "parties");
    for (int64_t p : parties) r.body += "&party=" + std::to_string(p);
    http::Response resp = dispatcher_->Handle(r);
    EXPECT_EQ(resp.status, 200) << resp.body;
    for (const auto& [k, v] : resp.headers)
      if (k == "Refresh") return v.substr(v.find("url=") + 4);
    ADD_FAILURE() << "no redirect in " << resp.body;
    return "";
  }

  // Userids of the world's corp in departments `roots` or below.
  std::set<std::string> WorldUsersUnder(const std::vector<int64_t>& roots) {
    std::set<int64_t> depts(roots.begin(), roots.end());
    auto all = world_->Query("SELECT id, parent_id FROM departments WHERE corp_id = ?", {spec_.corp_id}).value();
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& row : all.rows)
        if (depts.count(row.Int(1)) && depts.insert(row.Int(0)).second) grew = true;
    }
    std::set<std::string> out;
    auto users = world_->Query("SELECT userid, main_department, departments FROM employees WHERE corp_id = ? AND "
                               "status <> 5",
                               {spec_.corp_id})
                     .value();
    for (const auto& row : users.rows) {
      const boost::json::value list = boost::json::parse(row.Text(2));
      for (const auto& d : list.as_array()) {
        int64_t id = d.is_string() ? std::atoll(std::string(d.as_string()).c_str()) : d.to_number<int64_t>();
        if (depts.count(id)) out.insert(row.Text(0));
      }
    }
    return out;
  }

  sandbox::SuiteSpec suite_;
  std::unique_ptr<sandbox::SuiteApi> suite_api_;
  std::unique_ptr<SuiteInstall> install_;
  int corp_posts_ = 0;
  std::string last_refusal_;
};

TEST_P(WecomInstallTest, AnInstallWithOneDepartmentVisibleLinksTheTeamAndSyncsExactlyThatRange) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  StartKoi(*t.db);

  // Before WeCom's first suite_ticket there is no suite token, so no install yet.
  auto early = install_->Begin(admin_);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().reason(), "wecom_suite_ticket_missing");
  ASSERT_EQ(sandbox::PushSuiteTickets(*world_, clock_).value(), 1);
  ASSERT_EQ(Deliver().delivered, 1) << last_refusal_;

  // Members may not install; the admin gets WeCom's install URL with a one-time state.
  auto member = accounts::Principal{.team = admin_.team, .account = AccountId(999), .role = accounts::Role::kMember};
  EXPECT_EQ(install_->Begin(member).status().reason(), "admin_only");
  auto start = install_->Begin(admin_);
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  EXPECT_EQ(start->install_url.rfind("http://sandbox.test/3rdapp/install?suite_id=wwkoisuite000001&", 0), 0u);
  EXPECT_EQ(Param(start->install_url, "redirect_uri"), "https://koi.test/api/v1/wecom/install/return");
  const std::string state = Param(start->install_url, "state");
  ASSERT_FALSE(state.empty());

  // The corp's admin shows one department (and its subtree); the browser is sent back with the auth_code.
  auto second = world_->Query("SELECT id FROM departments WHERE corp_id = ? AND parent_id <> 0 ORDER BY id LIMIT 1",
                              {spec_.corp_id}).value();
  const int64_t dept = second.rows.at(0).Int(0);
  const std::string back = Approve(start->install_url, spec_.corp_id, {dept});
  EXPECT_EQ(back.rfind("https://koi.test/api/v1/wecom/install/return?auth_code=", 0), 0u) << back;
  EXPECT_EQ(Param(back, "state"), state);

  // create_auth arrives first and is only acknowledged: the install completes in the admin's own session.
  ASSERT_EQ(Deliver().delivered, 1) << last_refusal_;
  EXPECT_FALSE(link_->State(admin_.team).value().linked);
  EXPECT_EQ(install_->Complete(state, Param(back, "auth_code"), std::nullopt, {}).status().reason(), "install_not_yours");
  EXPECT_EQ(install_->Complete(state, Param(back, "auth_code"), member, {}).status().reason(), "install_not_yours");
  auto returned = install_->Complete(state, Param(back, "auth_code"), admin_, {});
  ASSERT_TRUE(returned.ok()) << returned.status().ToString();
  EXPECT_EQ(*returned, spec_.corp_id);
  auto linked = link_->State(admin_.team).value();
  ASSERT_TRUE(linked.linked);
  EXPECT_EQ(linked.mode, "third_party");
  EXPECT_EQ(linked.corp_id, spec_.corp_id);
  EXPECT_EQ(linked.corp_name, spec_.corp_name);
  EXPECT_EQ(install_->Complete(state, Param(back, "auth_code"), admin_, {}).value(), spec_.corp_id);  // a reload
  // The auth_code was good once: the sandbox refuses it now.
  EXPECT_EQ(client_->GetPermanentCode(Param(back, "auth_code")).status().reason(), "wecom_invalid_auth_code");

  // The sync mirrors the visible range only: its members, their customers, their groups.
  ASSERT_TRUE(RunSyncOnce(*queue_, *link_).ok());
  const std::set<std::string> visible = WorldUsersUnder({dept});
  ASSERT_FALSE(visible.empty());
  std::set<std::string> mirrored;
  for (const auto& line : Lines(*t.db, "SELECT userid FROM wecom_employees WHERE team_id = ?", {admin_.team.value()}))
    mirrored.insert(line.substr(0, line.size() - 1));
  EXPECT_EQ(mirrored, visible);
  auto outside = Lines(*t.db, "SELECT DISTINCT userid FROM wecom_follows WHERE team_id = ?", {admin_.team.value()});
  for (const auto& line : outside) EXPECT_TRUE(visible.count(line.substr(0, line.size() - 1))) << line;
  auto follows = t.db->Query("SELECT COUNT(*) FROM wecom_follows WHERE team_id = ?", {admin_.team.value()}).value();
  EXPECT_GT(follows.rows[0].Int(0), 0);

  // The app's chat toolbar: a visible member opening Koi's sidebar signs in through the suite's OAuth (appid = the
  // suite, the code exchanged with getuserinfo3rd under the suite's token).
  sandbox::ToolbarApi toolbar_api(*world_, clock_, *sandbox_);
  toolbar_api.AddRoutes(router_);
  const std::string page = "https://koi.test/sidebar/" + spec_.corp_id + "/customer";
  ASSERT_TRUE(sandbox::ConfigureToolbar(*world_, clock_, spec_.corp_id,
                                        {.agent_id = linked.agent_id, .trusted_domain = "koi.test",
                                         .entries = {{"客户画像", page}}}).ok());
  std::string member_id;
  for (const auto& u : visible)
    if (member_id.empty() && world_->Query("SELECT status FROM employees WHERE corp_id = ? AND userid = ?",
                                           {spec_.corp_id, u}).value().rows.at(0).Int(0) == 1)
      member_id = u;
  ASSERT_FALSE(member_id.empty());
  Sidebar sidebar(*t.db, clock_, *client_, *link_,
                  {.public_url = "https://koi.test", .oauth_url = "http://sandbox.test/connect/oauth2/authorize"});
  auto begun = sidebar.Begin(spec_.corp_id, "customer");
  ASSERT_TRUE(begun.ok()) << begun.status().ToString();
  EXPECT_EQ(Param(begun->oauth_url, "appid"), suite_.suite_id);
  http::Request authorize;
  authorize.method = "GET";
  authorize.target = begun->oauth_url.substr(std::string("http://sandbox.test").size(),
                                             begun->oauth_url.find('#') - std::string("http://sandbox.test").size());
  authorize.headers["cookie"] = "wecom_sandbox_member=" + spec_.corp_id + ":" + member_id;
  http::Response sent_back = dispatcher_->Handle(authorize);
  ASSERT_EQ(sent_back.status, 302) << sent_back.body;
  std::string location;
  for (const auto& [k, v] : sent_back.headers)
    if (k == "Location") location = v;
  auto issued = sidebar.Complete(spec_.corp_id, "customer", Param(location, "code"), begun->state, begun->state, {});
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(sidebar.SessionOf(issued->token).value().userid, member_id);
  EXPECT_EQ(sandbox_->CallCounts().at({suite_.suite_id, "/cgi-bin/service/auth/getuserinfo3rd"}), 1);
  // The corp's data callbacks now go to Koi under the suite's token and key.
  auto corp = world_->Query("SELECT callback_url, callback_token FROM corps WHERE corp_id = ?", {spec_.corp_id}).value();
  EXPECT_EQ(corp.rows[0].Text(0), "http://koi.test/api/v1/wecom/callback/" + spec_.corp_id);
  EXPECT_EQ(corp.rows[0].Text(1), suite_.token);

  // WeCom tells the app only about its visible range: a customer added by a member outside it sends nothing.
  auto contacts = world_->Query("SELECT userid FROM employees WHERE corp_id = ? AND status = 1 AND customer_contact = 1 "
                                "ORDER BY userid", {spec_.corp_id}).value();
  std::string in_range, out_of_range;
  for (const auto& row : contacts.rows)
    (visible.count(row.Text(0)) ? in_range : out_of_range) = row.Text(0);
  ASSERT_FALSE(in_range.empty());
  ASSERT_FALSE(out_of_range.empty());
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 7);
  EXPECT_EQ(scenario.Run("add-customer", {{"userid", out_of_range}}).value().outbox_id, 0);
  EXPECT_GT(scenario.Run("add-customer", {{"userid", in_range}}).value().outbox_id, 0);
  ASSERT_EQ(Deliver().delivered, 1);
  EXPECT_EQ(corp_posts_, 1);

  // Calls about members outside the range are refused as WeCom refuses them, and a customer is seen through the
  // members in range only.
  const auto creds = link_->Credentials(admin_.team).value();
  auto only_theirs = world_->Query("SELECT f.external_userid FROM follows f WHERE f.corp_id = ? AND f.userid = ? AND NOT "
                                   "EXISTS (SELECT 1 FROM follows g WHERE g.corp_id = f.corp_id AND g.external_userid = "
                                   "f.external_userid AND g.userid <> f.userid) LIMIT 1",
                                   {spec_.corp_id, out_of_range}).value();
  ASSERT_FALSE(only_theirs.rows.empty());
  const std::string theirs = only_theirs.rows[0].Text(0);
  EXPECT_EQ(client_->GetExternalContact(creds, theirs).status().reason(), "wecom_no_relationship");
  EXPECT_EQ(client_->MarkTags(creds, out_of_range, theirs, {"et-any"}, {}).reason(), "wecom_no_privilege");
  EXPECT_EQ(client_->EditRemark(creds, out_of_range, theirs, {.remark = "老客"}).reason(), "wecom_no_privilege");
  const boost::json::object hello{{"text", boost::json::object{{"content", "hello"}}}};
  EXPECT_EQ(client_->AddMsgTemplate(creds, out_of_range, {theirs}, hello).status().reason(), "wecom_no_privilege");
  // A customer of both: only the member in range is shown.
  auto ours = world_->Query("SELECT external_userid FROM follows WHERE corp_id = ? AND userid = ? LIMIT 1",
                            {spec_.corp_id, in_range}).value();
  ASSERT_FALSE(ours.rows.empty());
  const std::string shared = ours.rows[0].Text(0);
  ASSERT_TRUE(world_->Exec("INSERT INTO follows (corp_id, userid, external_userid, remark, description, createtime, "
                           "add_way, state, oper_userid, remark_mobiles, remark_corp_name) VALUES (?, ?, ?, '', '', 1, "
                           "1, '', ?, '[]', '') ON CONFLICT DO NOTHING",
                           {spec_.corp_id, out_of_range, shared, out_of_range}).ok());
  auto detail = client_->GetExternalContact(creds, shared);
  ASSERT_TRUE(detail.ok()) << detail.status().ToString();
  ASSERT_FALSE(detail->follows.empty());
  for (const auto& f : detail->follows) EXPECT_TRUE(visible.count(f.userid)) << f.userid;

  // The corp's admin uninstalls the app: Koi marks the link, the permanent code stops working; a new install from
  // the same team clears the mark.
  ASSERT_TRUE(sandbox::UninstallSuite(*world_, clock_, suite_.suite_id, spec_.corp_id).ok());
  ASSERT_EQ(Deliver().delivered, 1) << last_refusal_;
  EXPECT_TRUE(link_->State(admin_.team).value().auth_cancelled_at_ms.has_value());
  client_->ForgetToken(link_->Credentials(admin_.team).value());
  EXPECT_EQ(client_->ListDepartments(link_->Credentials(admin_.team).value()).status().reason(),
            "wecom_invalid_permanent_code");
  EXPECT_EQ(link_->ReconcileAll().value(), 0);  // nothing to sync
  clock_.Advance(60'000);
  auto again = install_->Begin(admin_).value();
  const std::string back2 = Approve(again.install_url, spec_.corp_id, {dept});
  ASSERT_TRUE(install_->Complete(Param(back2, "state"), Param(back2, "auth_code"), admin_, {}).ok());
  EXPECT_FALSE(link_->State(admin_.team).value().auth_cancelled_at_ms.has_value());
  // WeCom retrying the old cancel after the reinstall changes nothing.
  EXPECT_FALSE(link_->MarkAuthCancelled(spec_.corp_id, clock_.NowMillis() - 30'000).value());
  EXPECT_FALSE(link_->State(admin_.team).value().auth_cancelled_at_ms.has_value());
  ASSERT_EQ(Deliver().delivered, 1);  // the new install's create_auth
  Status resynced = RunSyncOnce(*queue_, *link_);
  ASSERT_TRUE(resynced.ok()) << resynced.ToString();

  // Two hours later every token has expired and the old ticket too: WeCom's next ticket arrives, and the client
  // refreshes the suite token and the corp token on its own.
  clock_.Advance(2 * 3600'000 + 60'000);
  ASSERT_EQ(sandbox::PushSuiteTickets(*world_, clock_).value(), 1);
  ASSERT_EQ(Deliver().delivered, 1) << last_refusal_;
  auto depts = client_->ListDepartments(link_->Credentials(admin_.team).value());
  ASSERT_TRUE(depts.ok()) << depts.status().ToString();
  for (const auto& d : *depts) EXPECT_TRUE(d.id == dept || d.parent_id != 0) << d.id;
}

TEST_P(WecomInstallTest, BadStatesCodesAndConflictsAreRefused) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  StartKoi(*t.db);
  ASSERT_EQ(sandbox::PushSuiteTickets(*world_, clock_).value(), 1);
  ASSERT_EQ(Deliver().delivered, 1) << last_refusal_;

  EXPECT_EQ(install_->Complete("", "x", admin_, {}).status().reason(), "install_state_invalid");
  EXPECT_EQ(install_->Complete("bogus", "x", admin_, {}).status().reason(), "install_state_invalid");
  EXPECT_EQ(install_->Complete(std::string(43, 'A'), "x", admin_, {}).status().reason(), "install_state_invalid");

  // Coming back without an auth_code (not approved) ends that install; the state cannot be used again.
  auto start = install_->Begin(admin_).value();
  const std::string state = Param(start.install_url, "state");
  EXPECT_EQ(install_->Complete(state, "", admin_, {}).status().reason(), "install_cancelled");
  EXPECT_EQ(install_->Complete(state, "x", admin_, {}).status().reason(), "install_cancelled");  // ended

  // An unknown auth_code is WeCom's 40078; a state is good for 20 minutes.
  start = install_->Begin(admin_).value();
  EXPECT_EQ(install_->Complete(Param(start.install_url, "state"), "not-a-code", admin_, {}).status().reason(),
            "wecom_invalid_auth_code");
  start = install_->Begin(admin_).value();
  clock_.Advance(SuiteInstall::kStateTtlMs + 1);
  EXPECT_EQ(install_->Complete(Param(start.install_url, "state"), "x", admin_, {}).status().reason(),
            "install_state_invalid");

  // A corp installed by one team cannot be linked by another.
  ASSERT_EQ(sandbox::PushSuiteTickets(*world_, clock_).value(), 1);
  ASSERT_EQ(Deliver().delivered, 1);
  start = install_->Begin(admin_).value();
  std::string back = Approve(start.install_url, spec_.corp_id, {});
  // WeCom not answering leaves the install open: the same return, reloaded, completes it.
  down_after_ = calls_;
  EXPECT_EQ(install_->Complete(Param(back, "state"), Param(back, "auth_code"), admin_, {}).status().code(),
            StatusCode::kUnavailable);
  down_after_ = -1;
  ASSERT_TRUE(install_->Complete(Param(back, "state"), Param(back, "auth_code"), admin_, {}).ok());
  auto other = accounts_->CreateTeam({.phone = "13900139000", .password = "secret123", .team_name = "乙", .name = "李"})
                   .value();
  start = install_->Begin(other).value();
  back = Approve(start.install_url, spec_.corp_id, {});
  EXPECT_EQ(install_->Complete(Param(back, "state"), Param(back, "auth_code"), other, {}).status().reason(),
            "corp_linked_elsewhere");
  EXPECT_FALSE(link_->State(other.team).value().linked);

  // Install states are kept 30 days, for a reload of the return page to find its outcome.
  EXPECT_EQ(install_->PurgeInstalls().value(), 0);
  clock_.Advance(31 * 86'400'000LL);
  EXPECT_GT(install_->PurgeInstalls().value(), 4);
  EXPECT_EQ(install_->Complete(Param(back, "state"), Param(back, "auth_code"), other, {}).status().reason(),
            "install_state_invalid");
}

TEST_P(WecomInstallTest, SuiteEndpointsAnswerWeComsErrcodesAndInstructionsAreVerified) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  StartKoi(*t.db);
  auto call = [this](const std::string& method, const std::string& target, const std::string& body) {
    http::Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    r.headers["content-type"] = "application/json";
    return boost::json::parse(dispatcher_->Handle(r).body).as_object().at("errcode").as_int64();
  };
  EXPECT_EQ(call("POST", "/cgi-bin/service/get_suite_token", R"({"suite_id":"nope","suite_secret":"x","suite_ticket":"y"})"),
            40083);
  EXPECT_EQ(call("POST", "/cgi-bin/service/get_suite_token",
                 R"({"suite_id":"wwkoisuite000001","suite_secret":"wrong","suite_ticket":"y"})"),
            40080);
  EXPECT_EQ(call("POST", "/cgi-bin/service/get_suite_token",
                 R"({"suite_id":"wwkoisuite000001","suite_secret":"koi-suite-secret","suite_ticket":"stale"})"),
            40085);
  EXPECT_EQ(call("GET", "/cgi-bin/service/get_pre_auth_code?suite_access_token=nope", ""), 40082);
  EXPECT_EQ(call("GET", "/cgi-bin/service/get_pre_auth_code", ""), 41001);

  // Instruction callbacks: the right suite's signature and receiveid, or refused (nothing stored).
  const auto keys = wecom::MakeCallbackKeys(suite_.token, suite_.aes_key, suite_.suite_id).value();
  auto instruction = [&](const wecom::CallbackKeys& k, const std::string& suite_id, const std::string& ticket) {
    const std::string xml = wecom::BuildXmlMessage({{"SuiteId", suite_id},
                                                    {"InfoType", "suite_ticket"},
                                                    {"TimeStamp", std::to_string(clock_.NowSeconds())},
                                                    {"SuiteTicket", ticket}});
    const std::string cipher = wecom::EncryptCallback(k, xml).value();
    CallbackRequest r{.timestamp = std::to_string(clock_.NowSeconds()), .nonce = "42"};
    r.msg_signature = wecom::CallbackSignature(k.token, r.timestamp, r.nonce, cipher);
    r.body = wecom::BuildEncryptedEnvelope({suite_id, cipher, ""});
    return install_->Receive(r);
  };
  auto forged = keys;
  forged.token = "another-token";
  EXPECT_EQ(instruction(forged, suite_.suite_id, "t1").reason(), "callback_signature_mismatch");
  auto other_receiver = wecom::MakeCallbackKeys(suite_.token, suite_.aes_key, "wwsomeothersuite").value();
  EXPECT_EQ(instruction(other_receiver, "wwsomeothersuite", "t2").reason(), "callback_receiveid_mismatch");
  EXPECT_EQ(install_->Ticket().status().reason(), "wecom_suite_ticket_missing");
  ASSERT_TRUE(instruction(keys, suite_.suite_id, "t3").ok());
  EXPECT_EQ(install_->Ticket().value(), "t3");

  // The URL check answers the decrypted echostr.
  CallbackRequest check{.timestamp = std::to_string(clock_.NowSeconds()), .nonce = "7"};
  check.echostr = wecom::EncryptCallback(keys, "echo-88").value();
  check.msg_signature = wecom::CallbackSignature(keys.token, check.timestamp, check.nonce, check.echostr);
  EXPECT_EQ(install_->VerifyUrl(check).value(), "echo-88");

  // The data-callback URL is checked under the provider's corp id (no team links it), with the suite's keys.
  const auto provider = wecom::MakeCallbackKeys(suite_.token, suite_.aes_key, "wwprovider000001").value();
  CallbackRequest data{.corp_id = "wwprovider000001", .timestamp = std::to_string(clock_.NowSeconds()), .nonce = "8"};
  data.echostr = wecom::EncryptCallback(provider, "echo-99").value();
  data.msg_signature = wecom::CallbackSignature(provider.token, data.timestamp, data.nonce, data.echostr);
  EXPECT_EQ(install_->VerifyProviderDataUrl(data).value(), "echo-99");
  data.corp_id = "wwsomeonelse0001";
  EXPECT_EQ(install_->VerifyProviderDataUrl(data).status().reason(), "callback_unknown_corp");
}

INSTANTIATE_TEST_SUITE_P(Engines, WecomInstallTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::wecom_link
