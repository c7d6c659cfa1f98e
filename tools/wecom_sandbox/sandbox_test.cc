// The sandbox through its HTTP routes, as a WeCom client sees it: tokens, errcodes, cursors, budgets, determinism.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "api.h"
#include "scenario.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "http/dispatcher.h"
#include "world.h"

namespace koi::sandbox {
namespace {

namespace json = boost::json;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::Database::Open("sqlite::memory:", {}).value());
    ASSERT_TRUE(InitSchema(*db_).ok());
    spec_.customers = 300;
    spec_.employees = 12;
    spec_.groups = 6;
    auto report = SeedCorp(*db_, spec_);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    report_ = *report;
    api_ = std::make_unique<SandboxApi>(*db_, clock_, ApiOptions{.calls_per_minute = 50});
    api_->AddRoutes(router_);
    dispatcher_ = std::make_unique<http::Dispatcher>(router_, nullptr);
  }

  json::object Call(const std::string& method, const std::string& target, const json::value& body = nullptr) {
    http::Request r;
    r.method = method;
    r.target = target;
    r.remote_addr = "127.0.0.1";
    if (!body.is_null()) {
      r.body = json::serialize(body);
      r.headers["content-type"] = "application/json";
    }
    http::Response resp = dispatcher_->Handle(r);
    EXPECT_EQ(resp.status, 200) << target << ": " << resp.body;
    return json::parse(resp.body).as_object();
  }
  std::string Token() {
    auto r = Call("GET", "/cgi-bin/gettoken?corpid=" + spec_.corp_id + "&corpsecret=" + spec_.secret);
    return std::string(r["access_token"].as_string());
  }
  static int64_t Code(const json::object& o) { return o.at("errcode").as_int64(); }

  FakeClock clock_{1'795'392'000'000};
  SeedSpec spec_;
  SeedReport report_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<SandboxApi> api_;
  http::Router router_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
};

TEST_F(SandboxTest, SeedIsDeterministicAndRealistic) {
  auto other = std::move(storage::Database::Open("sqlite::memory:", {}).value());
  ASSERT_TRUE(InitSchema(*other).ok());
  ASSERT_TRUE(SeedCorp(*other, spec_).ok());
  const std::string dump = "SELECT userid, external_userid, remark, createtime, add_way, state FROM follows ORDER BY 1, 2";
  EXPECT_EQ(db_->Query(dump)->rows.size(), other->Query(dump)->rows.size());
  auto a = db_->Query(dump)->rows, b = other->Query(dump)->rows;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t k = 0; k < 6; ++k) ASSERT_EQ(a[i].Text(k), b[i].Text(k)) << i;
  EXPECT_EQ(report_.customers, 300);
  EXPECT_GE(report_.follows, 300);
  // Chinese names, add times within the 18 months before now, several add ways, some states.
  auto names = db_->Query("SELECT name FROM customers LIMIT 5")->rows;
  for (const auto& n : names) EXPECT_GE(n.Text(0).size(), 6u) << n.Text(0);  // two or more CJK characters
  auto span = db_->Query("SELECT MIN(createtime), MAX(createtime), COUNT(DISTINCT add_way), "
                         "SUM(CASE WHEN state <> '' THEN 1 ELSE 0 END) FROM follows")->rows.at(0);
  EXPECT_GE(span.Int(0), spec_.now_s - 548LL * 86400);
  EXPECT_LE(span.Int(1), spec_.now_s);
  EXPECT_GE(span.Int(2), 5);
  EXPECT_GT(span.Int(3), 0);
  EXPECT_EQ(SeedCorp(*db_, spec_).status().reason(), "corp_exists");
}

TEST_F(SandboxTest, AccessTokensBehaveLikeWeComs) {
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/gettoken?corpid=nope&corpsecret=x")), 40013);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/gettoken?corpid=" + spec_.corp_id + "&corpsecret=wrong")), 40001);
  std::string token = Token();
  EXPECT_EQ(token, Token());  // the same token until it expires
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/department/list")), 41001);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/department/list?access_token=forged")), 40014);
  auto depts = Call("GET", "/cgi-bin/department/list?access_token=" + token);
  EXPECT_EQ(Code(depts), 0);
  EXPECT_EQ(depts["department"].as_array().size(), 6u);
  auto sub = Call("GET", "/cgi-bin/department/list?access_token=" + token + "&id=2");
  EXPECT_EQ(sub["department"].as_array().size(), 1u);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/department/list?access_token=" + token + "&id=999")), 60003);
  clock_.Advance(7200'000);
  auto expired = Call("GET", "/cgi-bin/department/list?access_token=" + token);
  EXPECT_EQ(Code(expired), 42001);
  EXPECT_NE(std::string(expired["errmsg"].as_string()).find("more info at"), std::string::npos);
  EXPECT_NE(Token(), token);
}

TEST_F(SandboxTest, BatchGetByUserPagesEveryRelationshipExactlyOnce) {
  std::string token = Token();
  auto users = Call("GET", "/cgi-bin/externalcontact/get_follow_user_list?access_token=" + token)["follow_user"];
  json::array user_list = users.as_array();
  ASSERT_GT(user_list.size(), 3u);
  std::set<std::pair<std::string, std::string>> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = Call("POST", "/cgi-bin/externalcontact/batch/get_by_user?access_token=" + token,
                     {{"userid_list", user_list}, {"cursor", cursor}, {"limit", 7}});
    ASSERT_EQ(Code(page), 0) << json::serialize(page);
    for (const auto& item : page["external_contact_list"].as_array()) {
      std::string user(item.at("follow_info").at("userid").as_string());
      std::string ext(item.at("external_contact").at("external_userid").as_string());
      EXPECT_TRUE(seen.insert({user, ext}).second) << "duplicate " << user << " " << ext;
      EXPECT_TRUE(item.at("follow_info").at("tag_id").is_array());
    }
    cursor = std::string(page["next_cursor"].as_string());
    ++pages;
    clock_.Advance(2000);  // stay inside the minute budget of 50 calls
  } while (!cursor.empty() && pages < 1000);
  auto want = db_->Query("SELECT COUNT(*) FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = "
                         "f.userid WHERE e.status = 1")->rows.at(0).Int(0);
  EXPECT_EQ(static_cast<int64_t>(seen.size()), want);
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/externalcontact/batch/get_by_user?access_token=" + token,
                      {{"userid_list", json::array{}}})),
            40058);
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/externalcontact/batch/get_by_user?access_token=" + token,
                      {{"userid_list", user_list}, {"limit", 101}})),
            40058);
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/externalcontact/batch/get_by_user?access_token=" + token,
                      {{"userid_list", user_list}, {"cursor", "zz"}})),
            40058);
}

TEST_F(SandboxTest, ContactsTagsAndGroups) {
  std::string token = Token();
  std::set<std::string> ids;
  std::string cursor;
  do {
    auto page = Call("POST", "/cgi-bin/user/list_id?access_token=" + token, {{"cursor", cursor}, {"limit", 5}});
    ASSERT_EQ(Code(page), 0);
    for (const auto& row : page["dept_user"].as_array()) ids.insert(std::string(row.at("userid").as_string()));
    cursor = std::string(page["next_cursor"].as_string());
  } while (!cursor.empty());
  auto active = db_->Query("SELECT COUNT(*) FROM employees WHERE status <> 5")->rows.at(0).Int(0);
  EXPECT_EQ(static_cast<int64_t>(ids.size()), active);
  auto user = Call("GET", "/cgi-bin/user/get?access_token=" + token + "&userid=" + *ids.begin());
  EXPECT_EQ(Code(user), 0);
  EXPECT_TRUE(user["gender"].is_string());
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/user/get?access_token=" + token + "&userid=nobody")), 60111);

  auto tags = Call("POST", "/cgi-bin/externalcontact/get_corp_tag_list?access_token=" + token, json::object{});
  ASSERT_EQ(Code(tags), 0);
  EXPECT_EQ(tags["tag_group"].as_array().size(), 5u);
  std::string gid(tags["tag_group"].as_array()[0].at("group_id").as_string());
  auto one = Call("POST", "/cgi-bin/externalcontact/get_corp_tag_list?access_token=" + token,
                  {{"group_id", json::array{json::string(gid)}}});
  EXPECT_EQ(one["tag_group"].as_array().size(), 1u);

  auto ext = db_->Query("SELECT external_userid FROM follows LIMIT 1")->rows.at(0).Text(0);
  auto contact = Call("GET", "/cgi-bin/externalcontact/get?access_token=" + token + "&external_userid=" + ext);
  ASSERT_EQ(Code(contact), 0);
  EXPECT_FALSE(contact["follow_user"].as_array().empty());
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/externalcontact/get?access_token=" + token + "&external_userid=wmnone")), 40096);

  auto groups = Call("POST", "/cgi-bin/externalcontact/groupchat/list?access_token=" + token, {{"limit", 100}});
  ASSERT_EQ(Code(groups), 0);
  ASSERT_EQ(groups["group_chat_list"].as_array().size(), 6u);
  std::string chat(groups["group_chat_list"].as_array()[0].at("chat_id").as_string());
  auto detail = Call("POST", "/cgi-bin/externalcontact/groupchat/get?access_token=" + token,
                     {{"chat_id", chat}, {"need_name", 1}});
  ASSERT_EQ(Code(detail), 0);
  EXPECT_GT(detail["group_chat"].at("member_list").as_array().size(), 1u);
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/externalcontact/groupchat/get?access_token=" + token, {{"chat_id", "wrnone"}})),
            40050);
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/externalcontact/groupchat/list?access_token=" + token, {{"limit", 0}})), 40058);
}

TEST_F(SandboxTest, PerCorpPerApiMinuteBudgetAnswers45009) {
  std::string token = Token();
  const std::string target = "/cgi-bin/externalcontact/get_follow_user_list?access_token=" + token;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Code(Call("GET", target)), 0) << i;
  EXPECT_EQ(Code(Call("GET", target)), 45009);
  // Another API has its own budget; the next minute starts afresh.
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/department/list?access_token=" + token)), 0);
  clock_.Advance(60'000);
  EXPECT_EQ(Code(Call("GET", target)), 0);
  auto calls = api_->CallCounts();
  EXPECT_EQ((calls[{spec_.corp_id, "/cgi-bin/externalcontact/get_follow_user_list"}]), 52);
}

TEST_F(SandboxTest, ScenarioChangesTheWorldAndQueuesCallbacksOnlyWhenConfigured) {
  Scenario quiet(*db_, clock_, spec_.corp_id, 5);
  auto first = quiet.Run("add-customer");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->outbox_id, 0);  // no callback URL yet: WeCom sends nothing
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM customers")->rows[0].Int(0), 301);
  EXPECT_EQ(quiet.Run("no-such-action").status().reason(), "unknown_action");

  ASSERT_EQ(ConfigureCallback(*db_, spec_.corp_id, "ftp://x", "tok", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt")
                .reason(), "bad_callback_url");
  EXPECT_EQ(ConfigureCallback(*db_, spec_.corp_id, "http://koi.test/cb", "tok", "short").reason(),
            "callback_bad_aes_key");
  ASSERT_TRUE(ConfigureCallback(*db_, spec_.corp_id, "http://koi.test/cb", "tok",
                                "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt").ok());
  auto left = quiet.Run("customer-deletes", {{"userid", first->ids["userid"]},
                                             {"external_userid", first->ids["external_userid"]}});
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  EXPECT_GT(left->outbox_id, 0);
  EXPECT_EQ(left->change_type, "del_follow_user");
  // The relationship is gone; deleting it again finds nothing to act on.
  EXPECT_EQ(quiet.Run("customer-deletes", {{"userid", first->ids["userid"]},
                                           {"external_userid", first->ids["external_userid"]}}).status().reason(),
            "nothing_to_act_on");
}

TEST_F(SandboxTest, ScriptsAreDeterministicAndGroupsStopAt500) {
  auto world = [this](uint64_t seed) {
    auto db = std::move(storage::Database::Open("sqlite::memory:", {}).value());
    EXPECT_TRUE(InitSchema(*db).ok());
    EXPECT_TRUE(SeedCorp(*db, spec_).ok());
    Scenario s(*db, clock_, spec_.corp_id, seed);
    std::vector<std::string> out;
    auto script = s.Script(60);
    EXPECT_TRUE(script.ok());
    if (!script.ok()) return out;
    const std::vector<ScenarioEvent> events = std::move(*script);
    for (const auto& e : events) {
      std::string line = e.action;
      for (const auto& [k, v] : e.ids) line += " " + k + "=" + v;
      out.push_back(line);
    }
    return out;
  };
  EXPECT_EQ(world(9), world(9));
  EXPECT_NE(world(9), world(10));

  Scenario s(*db_, clock_, spec_.corp_id, 3);
  auto chat = db_->Query("SELECT chat_id FROM group_chats ORDER BY chat_id LIMIT 1")->rows[0].Text(0);
  std::vector<std::vector<storage::Value>> fill;
  auto have = db_->Query("SELECT COUNT(*) FROM group_members WHERE chat_id = ?", {chat})->rows[0].Int(0);
  for (int64_t i = have; i < 500; ++i)
    fill.push_back({spec_.corp_id, chat, "wmfill" + std::to_string(i), int64_t{2}, int64_t{0}, int64_t{1},
                    std::string(), std::string(), std::string(), std::string()});
  ASSERT_TRUE(db_->Transact([&](storage::Session& tx) {
    return tx.CopyIn("group_members", {"corp_id", "chat_id", "member_id", "type", "join_time", "join_scene", "invitor",
                                       "state", "unionid", "name"}, fill);
  }).ok());
  EXPECT_EQ(s.Run("join-group", {{"chat_id", chat}}).status().reason(), "group_full");
}

TEST_F(SandboxTest, TheRulePackCapsCustomersPerMemberAndPerCorp) {
  Scenario s(*db_, clock_, spec_.corp_id, 8);
  rules::RulePack pack = s.rule_pack();
  auto userid = db_->Query("SELECT userid FROM follows GROUP BY userid ORDER BY COUNT(*) DESC LIMIT 1")->rows[0].Text(0);
  auto mine = db_->Query("SELECT COUNT(*) FROM follows WHERE userid = ?", {userid})->rows[0].Int(0);
  pack.capacity.member = mine;
  s.UseRulePack(pack);
  EXPECT_EQ(s.Run("add-customer", {{"userid", userid}}).status().reason(), "member_capacity_reached");
  // An unverified corp stops at its (small) capacity; the refused change leaves the world as it was.
  ASSERT_TRUE(db_->Exec("UPDATE corps SET verified = 0").ok());
  pack.capacity.member = 1'000'000;
  pack.capacity.corp_unverified = 200;  // wecom-2025: 200 customers before verification
  s.UseRulePack(pack);
  const int64_t before = db_->Query("SELECT COUNT(*) FROM customers")->rows[0].Int(0);
  EXPECT_EQ(s.Run("add-customer").status().reason(), "corp_capacity_reached");
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM customers")->rows[0].Int(0), before);
  // A customer the corp already has may still add another member.
  EXPECT_TRUE(s.Run("add-existing").ok() ||
              s.Run("add-existing").status().reason() == "nothing_to_act_on");
}

TEST_F(SandboxTest, DeliveryIsSignedAndRetriedThreeTimesFiveSecondsApart) {
  const std::string key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
  ASSERT_TRUE(ConfigureCallback(*db_, spec_.corp_id, "http://koi.test/cb?x=1", "tok", key).ok());
  Scenario s(*db_, clock_, spec_.corp_id, 4);
  ASSERT_TRUE(s.Run("rename-group").ok());
  std::vector<std::string> urls;
  std::string last_body;
  int answer = 503;
  CallbackDeliverer d(*db_, clock_, [&](const std::string& url, const std::string& body) -> Result<int> {
    urls.push_back(url);
    last_body = body;
    return answer;
  });
  EXPECT_EQ(d.DeliverDue()->retrying, 1);
  EXPECT_EQ(d.DeliverDue()->retrying, 0);  // not due again for 5 s
  clock_.Advance(CallbackDeliverer::kRetryAfterMs);
  EXPECT_EQ(d.DeliverDue()->retrying, 1);
  clock_.Advance(CallbackDeliverer::kRetryAfterMs);
  EXPECT_EQ(d.DeliverDue()->failed, 1);  // three tries, then WeCom gives up
  clock_.Advance(CallbackDeliverer::kRetryAfterMs);
  EXPECT_EQ(d.DeliverDue()->failed, 0);
  ASSERT_EQ(urls.size(), 3u);

  // What was sent decrypts with the corp's key and verifies with its token.
  const std::string& url = urls.back();
  ASSERT_EQ(url.rfind("http://koi.test/cb?x=1&msg_signature=", 0), 0u) << url;
  auto param = [&](const std::string& name) {
    auto at = url.find(name + "=");
    auto end = url.find('&', at);
    return url.substr(at + name.size() + 1, end == std::string::npos ? std::string::npos : end - at - name.size() - 1);
  };
  auto keys = wecom::MakeCallbackKeys("tok", key, spec_.corp_id).value();
  auto envelope = wecom::ParseEncryptedEnvelope(last_body).value();
  EXPECT_TRUE(wecom::VerifyCallbackSignature(keys, param("msg_signature"), param("timestamp"), param("nonce"),
                                             envelope.encrypt).ok());
  auto message = wecom::ParseXmlMessage(wecom::DecryptCallback(keys, envelope.encrypt).value()).value();
  EXPECT_EQ(message.Get("Event"), "change_external_chat");
  EXPECT_EQ(message.Get("UpdateDetail"), "change_name");

  answer = 200;
  ASSERT_TRUE(s.Run("create-tag").ok());
  EXPECT_EQ(d.DeliverDue()->delivered, 1);
}

}  // namespace
}  // namespace koi::sandbox
