// The sandbox through its HTTP routes, as a WeCom client sees it: tokens, errcodes, cursors, budgets, determinism.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <boost/json.hpp>
#include <algorithm>
#include <map>
#include <set>

#include "api.h"
#include "scenario.h"
#include "suite.h"
#include "toolbar.h"
#include "core/utf8.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "http/dispatcher.h"
#include "http/target.h"
#include "rules/rule_pack.h"
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

// ----- mass messages (企业群发) -----

class MassMessageTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    if (HasFatalFailure()) return;
    Serve(rules::DefaultRulePack());
  }

  // Serves the API and the scenario routes under `pack`, as `koi-wecom-sandbox serve --rule-pack` does, with a
  // minute budget these tests do not reach.
  void Serve(const rules::RulePack& pack) {
    pack_ = pack;
    api_ = std::make_unique<SandboxApi>(*db_, clock_, ApiOptions{.calls_per_minute = 100000, .pack = pack});
    router_ = http::Router{};
    api_->AddRoutes(router_);
    AddScenarioRoutes(router_, *db_, clock_, pack);
    dispatcher_ = std::make_unique<http::Dispatcher>(router_, nullptr);
  }

  // A business API call with a live token (these tests move the clock by days).
  json::object Api(const std::string& name, const json::value& body) {
    return Call("POST", "/cgi-bin/externalcontact/" + name + "?access_token=" + Token(), body);
  }

  // The active member with the most customers, and those customers in external_userid order.
  std::pair<std::string, std::vector<std::string>> BusiestMember() {
    auto userid = db_->Query("SELECT f.userid FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = "
                             "f.userid WHERE e.status = 1 GROUP BY f.userid ORDER BY COUNT(*) DESC, f.userid LIMIT 1")
                      ->rows.at(0).Text(0);
    std::vector<std::string> exts;
    auto rows = db_->Query("SELECT external_userid FROM follows WHERE userid = ? ORDER BY external_userid", {userid});
    for (const auto& row : rows->rows) exts.push_back(row.Text(0));
    return {userid, exts};
  }

  static json::array Ids(const std::vector<std::string>& ids) {
    json::array out;
    for (const auto& id : ids) out.push_back(json::string(id));
    return out;
  }

  // add_msg_template from `sender` to `exts`; the msgid ("" on failure, which the test sees).
  std::string Create(const std::string& sender, const std::vector<std::string>& exts,
                     const std::string& text = "新品上架") {
    json::object body{{"external_userid", Ids(exts)}, {"text", {{"content", text}}}};
    if (!sender.empty()) body["sender"] = sender;
    auto r = Api("add_msg_template", body);
    EXPECT_EQ(Code(r), 0) << json::serialize(r);
    return r.contains("msgid") ? std::string(r["msgid"].as_string()) : std::string();
  }

  // The member confirms in the client.
  Result<ScenarioEvent> Confirm(const std::map<std::string, std::string>& args) {
    Scenario s(*db_, clock_, spec_.corp_id, 1);
    s.UseRulePack(pack_);
    return s.Run("send-mass-message", args);
  }

  // Recipient (external_userid, or chat_id for a group message) -> status, from every page of
  // get_groupmsg_send_result.
  std::map<std::string, int64_t> Results(const std::string& msgid, const std::string& userid) {
    std::map<std::string, int64_t> out;
    std::string cursor;
    do {
      auto page = Api("get_groupmsg_send_result", {{"msgid", msgid}, {"userid", userid}, {"cursor", cursor}});
      EXPECT_EQ(Code(page), 0) << json::serialize(page);
      if (Code(page) != 0) break;
      for (const auto& item : page["send_list"].as_array()) {
        const auto& o = item.as_object();
        EXPECT_NE(o.contains("chat_id"), o.contains("external_userid")) << json::serialize(o);
        out[std::string(o.at(o.contains("chat_id") ? "chat_id" : "external_userid").as_string())] =
            o.at("status").as_int64();
        EXPECT_EQ(o.contains("send_time"), o.at("status").as_int64() == 1);
      }
      cursor = std::string(page["next_cursor"].as_string());
    } while (!cursor.empty());
    return out;
  }

  // The first `n` groups in chat_id order, handed to the busiest member (who then owns no other group), and the
  // groups left to other members.
  struct Owned {
    std::string userid;
    std::vector<std::string> mine, foreign;
  };
  Owned GroupOwner(size_t n) {
    Owned out{.userid = BusiestMember().first, .mine = {}, .foreign = {}};
    auto other = db_->Query("SELECT userid FROM employees WHERE status = 1 AND userid <> ? ORDER BY userid LIMIT 1",
                            {out.userid})->rows.at(0).Text(0);
    auto chats = db_->Query("SELECT chat_id FROM group_chats ORDER BY chat_id");
    for (const auto& row : chats->rows) {
      const std::string chat = row.Text(0);
      const bool mine = out.mine.size() < n;
      EXPECT_TRUE(db_->Exec("UPDATE group_chats SET owner = ? WHERE chat_id = ?", {mine ? out.userid : other, chat})
                      .ok());
      (mine ? out.mine : out.foreign).push_back(chat);
    }
    EXPECT_EQ(out.mine.size(), n);
    return out;
  }

  // add_msg_template with chat_type group from `sender` to `chats`; the msgid ("" on failure, which the test sees).
  std::string CreateForGroups(const std::string& sender, const std::vector<std::string>& chats) {
    auto r = Api("add_msg_template", {{"chat_type", "group"}, {"sender", sender}, {"chat_id_list", Ids(chats)},
                                      {"text", {{"content", "群发：新品到店"}}}});
    EXPECT_EQ(Code(r), 0) << json::serialize(r);
    return r.contains("msgid") ? std::string(r["msgid"].as_string()) : std::string();
  }

  // The msgids get_groupmsg_list_v2 lists for `chat_type` over the last three days.
  std::set<std::string> Listed(const std::string& chat_type) {
    const int64_t now = clock_.NowSeconds();
    auto list = Api("get_groupmsg_list_v2", {{"chat_type", chat_type}, {"start_time", now - 3 * 86400},
                                             {"end_time", now}, {"limit", 100}});
    EXPECT_EQ(Code(list), 0) << json::serialize(list);
    std::set<std::string> out;
    if (Code(list) != 0) return out;
    for (const auto& m : list["group_msg_list"].as_array()) out.insert(std::string(m.at("msgid").as_string()));
    return out;
  }

  // media/upload of `bytes` in a form part named `part`, encoded here rather than by Koi's client, so the sandbox's
  // parser is checked against an independent encoder.
  json::object Upload(const std::string& type, const std::string& filename, const std::string& bytes,
                      const std::string& part = "media") {
    http::Request r;
    r.method = "POST";
    r.target = "/cgi-bin/media/upload?access_token=" + Token() + "&type=" + type;
    r.remote_addr = "127.0.0.1";
    r.headers["content-type"] = "multipart/form-data; boundary=\"sandbox-test\"";
    r.body = "--sandbox-test\r\nContent-Disposition: form-data; name=\"" + part + "\"; filename=\"" + filename +
             "\"; filelength=" + std::to_string(bytes.size()) + "\r\nContent-Type: application/octet-stream\r\n\r\n" +
             bytes + "\r\n--sandbox-test--\r\n";
    http::Response resp = dispatcher_->Handle(r);
    EXPECT_EQ(resp.status, 200) << resp.body;
    return json::parse(resp.body).as_object();
  }

  // The start of the next natural day in UTC+8.
  int64_t NextDayMs() const {
    constexpr int64_t kDay = 86'400'000, kUtc8 = 8 * 3'600'000;
    return ((clock_.NowMillis() + kUtc8) / kDay + 1) * kDay - kUtc8;
  }

  rules::RulePack pack_;
};

TEST_F(MassMessageTest, TasksWaitForTheMemberAndResultsFollowTheRelationship) {
  auto [userid, exts] = BusiestMember();
  ASSERT_GE(exts.size(), 4u);
  // A customer of another member only, and an id WeCom never issued: both in fail_list.
  auto stranger = db_->Query("SELECT external_userid FROM customers WHERE external_userid NOT IN (SELECT "
                             "external_userid FROM follows WHERE userid = ?) ORDER BY external_userid LIMIT 1",
                             {userid})->rows.at(0).Text(0);
  const json::object link{{"msgtype", "link"}, {"link", {{"title", "返场活动"}, {"url", "https://koi.test/sale"}}}};
  auto created = Api("add_msg_template", {{"sender", userid},
                                          {"external_userid", Ids({exts[0], exts[1], exts[2], stranger, "wmnobody"})},
                                          {"text", {{"content", "双十一返场，会员专享价"}}},
                                          {"attachments", json::array{link}}});
  ASSERT_EQ(Code(created), 0) << json::serialize(created);
  const std::string msgid(created["msgid"].as_string());
  EXPECT_EQ(msgid.rfind("msg", 0), 0u);
  EXPECT_EQ(json::serialize(created["fail_list"]), json::serialize(Ids({stranger, "wmnobody"})));

  auto tasks = Api("get_groupmsg_task", {{"msgid", msgid}});
  ASSERT_EQ(Code(tasks), 0);
  ASSERT_EQ(tasks["task_list"].as_array().size(), 1u);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("userid").as_string(), userid);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("status").as_int64(), 0);
  EXPECT_FALSE(tasks["task_list"].as_array()[0].as_object().contains("send_time"));
  EXPECT_EQ(Results(msgid, userid), (std::map<std::string, int64_t>{{exts[0], 0}, {exts[1], 0}, {exts[2], 0}}));

  // The third customer deletes the member before the member confirms: "not a friend" (2).
  Scenario world(*db_, clock_, spec_.corp_id, 2);
  ASSERT_TRUE(world.Run("customer-deletes", {{"userid", userid}, {"external_userid", exts[2]}}).ok());
  clock_.Advance(60'000);
  // The confirmation through the admin route, as a demo or an end-to-end test drives it.
  auto sent = Call("POST", "/sandbox/scenario/send-mass-message",
                   {{"corp", spec_.corp_id}, {"userid", userid}, {"msgid", msgid}});
  ASSERT_EQ(sent.at("code").as_int64(), 0) << json::serialize(sent);
  const auto& ids = sent["data"].at("events").as_array().at(0).at("ids").as_object();
  EXPECT_EQ(ids.at("sent").as_string(), "2");
  EXPECT_EQ(ids.at("not_friend").as_string(), "1");
  EXPECT_EQ(ids.at("over_limit").as_string(), "0");
  EXPECT_EQ(sent["data"].at("events").as_array().at(0).at("callback_id").as_int64(), 0);

  tasks = Api("get_groupmsg_task", {{"msgid", msgid}});
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("status").as_int64(), 2);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("send_time").as_int64(), clock_.NowSeconds());
  EXPECT_EQ(Results(msgid, userid), (std::map<std::string, int64_t>{{exts[0], 1}, {exts[1], 1}, {exts[2], 2}}));
  // Sent once: nothing is left to confirm.
  auto again = Confirm({{"msgid", msgid}});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->ids["tasks"], "0");
  EXPECT_EQ(again->ids["sent"], "0");
  EXPECT_EQ(Confirm({}).status().reason(), "missing_argument");

  // Without a sender each customer goes to the member who added them last.
  auto shared = db_->Query("SELECT f.external_userid FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND "
                           "e.userid = f.userid WHERE e.status = 1 GROUP BY f.external_userid HAVING COUNT(*) > 1 "
                           "ORDER BY f.external_userid LIMIT 1")->rows.at(0).Text(0);
  auto latest = db_->Query("SELECT f.userid FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND e.userid = "
                           "f.userid WHERE e.status = 1 AND f.external_userid = ? ORDER BY f.createtime DESC, f.userid "
                           "LIMIT 1", {shared})->rows.at(0).Text(0);
  const std::string unassigned = Create("", {shared});
  tasks = Api("get_groupmsg_task", {{"msgid", unassigned}});
  ASSERT_EQ(tasks["task_list"].as_array().size(), 1u);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("userid").as_string(), latest);

  // Every call was counted, refused or not.
  EXPECT_EQ(Code(Api("get_groupmsg_task", {{"msgid", "msgnone"}})), 40058);
  auto calls = Call("GET", "/sandbox/calls");
  std::map<std::string, int64_t> by_api;
  for (const auto& c : calls["calls"].as_array())
    by_api[std::string(c.at("api").as_string())] = c.at("calls").as_int64();
  EXPECT_EQ(by_api["/cgi-bin/externalcontact/add_msg_template"], 2);
  EXPECT_EQ(by_api["/cgi-bin/externalcontact/get_groupmsg_task"], 4);
  EXPECT_EQ(by_api["/cgi-bin/externalcontact/get_groupmsg_send_result"], 2);
}

TEST_F(MassMessageTest, Wecom2023AllowsOneMassMessagePerCustomerPerNaturalDay) {
  Serve(rules::FindRulePack("wecom-2023").value());
  auto [userid, exts] = BusiestMember();
  ASSERT_GE(exts.size(), 3u);
  const std::string x = exts[0], y = exts[1];
  const std::string first = Create(userid, {x, y});
  ASSERT_TRUE(Confirm({{"userid", userid}}).ok());
  EXPECT_EQ(Results(first, userid), (std::map<std::string, int64_t>{{x, 1}, {y, 1}}));
  // The same natural day: x already received one.
  clock_.Advance(3'600'000);
  const std::string second = Create(userid, {x});
  auto ev = Confirm({{"msgid", second}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["over_limit"], "1");
  EXPECT_EQ(Results(second, userid), (std::map<std::string, int64_t>{{x, 3}}));

  // Just after 00:00 UTC+8 a new day starts (not 24 hours after the first message).
  clock_.Set(NextDayMs() + 60'000);
  const std::string third = Create(userid, {x});
  ASSERT_TRUE(Confirm({{"msgid", third}}).ok());
  EXPECT_EQ(Results(third, userid), (std::map<std::string, int64_t>{{x, 1}}));

  // Two messages to y confirmed in one batch: the first counts against the second.
  const std::string a = Create(userid, {y}), b = Create(userid, {y});
  ev = Confirm({{"userid", userid}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["tasks"], "2");
  EXPECT_EQ(ev->ids["sent"], "1");
  EXPECT_EQ(ev->ids["over_limit"], "1");
  // Created in the same second, so confirmed in msgid order.
  EXPECT_EQ(Results(std::min(a, b), userid)[y], 1);
  EXPECT_EQ(Results(std::max(a, b), userid)[y], 3);

  // An employee's own mass message shares the quota (wecom-2023): x and y already got one today.
  Scenario s(*db_, clock_, spec_.corp_id, 6);
  s.UseRulePack(pack_);
  auto personal = s.Run("personal-mass-message", {{"userid", userid}, {"count", "100000"}});
  ASSERT_TRUE(personal.ok()) << personal.status().ToString();
  auto got = Results(personal->ids["msgid"], userid);
  EXPECT_EQ(got.size(), exts.size());
  EXPECT_EQ(got[x], 3);
  EXPECT_EQ(got[y], 3);
  EXPECT_EQ(got[exts[2]], 1);
  EXPECT_EQ(personal->ids["sent"], std::to_string(exts.size() - 2));
  // It is listed as a personal message with its creator; API-created ones have none.
  const int64_t now = clock_.NowSeconds();
  auto list = Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", now - 86400 * 3},
                                           {"end_time", now}, {"filter_type", 1}});
  ASSERT_EQ(Code(list), 0) << json::serialize(list);
  ASSERT_EQ(list["group_msg_list"].as_array().size(), 1u);
  EXPECT_EQ(list["group_msg_list"].as_array()[0].at("creator").as_string(), userid);
  EXPECT_EQ(list["group_msg_list"].as_array()[0].at("create_type").as_int64(), 1);
  list = Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", now - 86400 * 3}, {"end_time", now},
                                      {"filter_type", 0}});
  ASSERT_EQ(list["group_msg_list"].as_array().size(), 5u);
  EXPECT_FALSE(list["group_msg_list"].as_array()[0].as_object().contains("creator"));
}

TEST_F(MassMessageTest, Wecom2025CapsEachCustomerAtTheDaysOfTheMonth) {
  auto [userid, exts] = BusiestMember();
  const std::string x = exts.at(0);
  // 2026-11-23: November has 30 days, so 30 messages reach x this month and the 31st does not.
  for (int i = 0; i < 30; ++i) {
    const std::string msgid = Create(userid, {x}, "第" + std::to_string(i + 1) + "期");
    auto ev = Confirm({{"msgid", msgid}});
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    ASSERT_EQ(ev->ids["sent"], "1") << i;
    clock_.Advance(1000);
  }
  const std::string over = Create(userid, {x});
  ASSERT_TRUE(Confirm({{"msgid", over}}).ok());
  EXPECT_EQ(Results(over, userid)[x], 3);
  // A personal message counts against the same quota.
  Scenario s(*db_, clock_, spec_.corp_id, 6);
  auto personal = s.Run("personal-mass-message", {{"userid", userid}, {"count", "100000"}});
  ASSERT_TRUE(personal.ok()) << personal.status().ToString();
  EXPECT_EQ(Results(personal->ids["msgid"], userid)[x], 3);
  // December starts a new month.
  clock_.Set(1'796'054'400'000 + 60'000);  // 2026-12-01 00:01 UTC+8
  const std::string december = Create(userid, {x});
  ASSERT_TRUE(Confirm({{"msgid", december}}).ok());
  EXPECT_EQ(Results(december, userid)[x], 1);
}

TEST_F(MassMessageTest, CancelledMessagesStayUnsentAndRemindersAreLimited) {
  auto [userid, exts] = BusiestMember();
  const std::string msgid = Create(userid, {exts.at(0), exts.at(1)});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Code(Api("remind_groupmsg_send", {{"msgid", msgid}})), 0) << i;
  auto refused = Api("remind_groupmsg_send", {{"msgid", msgid}});
  EXPECT_EQ(Code(refused), 40058);
  EXPECT_NE(std::string(refused["errmsg"].as_string()).find("remind limit reached"), std::string::npos);
  clock_.Advance(23 * 3'600'000);
  EXPECT_EQ(Code(Api("remind_groupmsg_send", {{"msgid", msgid}})), 40058);  // a rolling 24 hours
  clock_.Advance(3'600'000 + 1000);
  EXPECT_EQ(Code(Api("remind_groupmsg_send", {{"msgid", msgid}})), 0);
  EXPECT_EQ(Code(Api("remind_groupmsg_send", {{"msgid", "msgnone"}})), 40058);

  EXPECT_EQ(Code(Api("cancel_groupmsg_send", {{"msgid", msgid}})), 0);
  EXPECT_EQ(Code(Api("cancel_groupmsg_send", {{"msgid", msgid}})), 0);  // again: still ok
  EXPECT_EQ(Code(Api("cancel_groupmsg_send", {{"msgid", "msgnone"}})), 40058);
  EXPECT_EQ(Code(Api("remind_groupmsg_send", {{"msgid", msgid}})), 40058);
  for (const auto& args : std::vector<std::map<std::string, std::string>>{{{"msgid", msgid}}, {{"userid", userid}}}) {
    auto ev = Confirm(args);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    EXPECT_EQ(ev->ids["tasks"], "0");  // too late: nothing to confirm
  }
  auto tasks = Api("get_groupmsg_task", {{"msgid", msgid}});
  EXPECT_EQ(tasks["task_list"].as_array().at(0).at("status").as_int64(), 0);
  EXPECT_EQ(Results(msgid, userid), (std::map<std::string, int64_t>{{exts[0], 0}, {exts[1], 0}}));
}

TEST_F(MassMessageTest, TasksResultsAndListsPageEveryRowExactlyOnce) {
  // Every customer, without a sender: one task per member who is someone's latest follower.
  std::vector<std::string> all;
  auto rows = db_->Query("SELECT DISTINCT f.external_userid FROM follows f JOIN employees e ON e.corp_id = f.corp_id "
                         "AND e.userid = f.userid WHERE e.status = 1");
  for (const auto& row : rows->rows) all.push_back(row.Text(0));
  const std::string msgid = Create("", all);
  std::set<std::string> members;
  std::string cursor;
  do {
    auto page = Api("get_groupmsg_task", {{"msgid", msgid}, {"limit", 3}, {"cursor", cursor}});
    ASSERT_EQ(Code(page), 0) << json::serialize(page);
    EXPECT_LE(page["task_list"].as_array().size(), 3u);
    for (const auto& t : page["task_list"].as_array())
      EXPECT_TRUE(members.insert(std::string(t.at("userid").as_string())).second);
    cursor = std::string(page["next_cursor"].as_string());
  } while (!cursor.empty());
  auto want_members = db_->Query("SELECT COUNT(*) FROM msg_tasks WHERE msgid = ?", {msgid})->rows.at(0).Int(0);
  EXPECT_EQ(static_cast<int64_t>(members.size()), want_members);
  EXPECT_GT(members.size(), 3u);

  std::set<std::string> reached;
  for (const auto& member : members) {
    cursor.clear();
    do {
      auto page = Api("get_groupmsg_send_result", {{"msgid", msgid}, {"userid", member}, {"limit", 7},
                                                   {"cursor", cursor}});
      ASSERT_EQ(Code(page), 0) << json::serialize(page);
      for (const auto& s : page["send_list"].as_array()) {
        EXPECT_EQ(s.at("userid").as_string(), member);
        EXPECT_TRUE(reached.insert(std::string(s.at("external_userid").as_string())).second);
      }
      cursor = std::string(page["next_cursor"].as_string());
    } while (!cursor.empty());
  }
  EXPECT_EQ(reached, std::set<std::string>(all.begin(), all.end()));

  // Messages created within the same second are ordered by msgid; the window is inclusive at both ends.
  std::set<std::string> created{msgid};
  auto [userid, exts] = BusiestMember();
  for (int i = 0; i < 11; ++i) {
    created.insert(Create(userid, {exts.at(0)}));
    if (i % 4 == 3) clock_.Advance(1000);
  }
  const int64_t start = 1'795'392'000, end = clock_.NowSeconds();
  std::set<std::string> listed;
  cursor.clear();
  do {
    auto page = Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", start}, {"end_time", end},
                                             {"limit", 5}, {"cursor", cursor}});
    ASSERT_EQ(Code(page), 0) << json::serialize(page);
    for (const auto& m : page["group_msg_list"].as_array()) {
      EXPECT_TRUE(listed.insert(std::string(m.at("msgid").as_string())).second);
      EXPECT_EQ(m.at("create_type").as_int64(), 0);
      EXPECT_TRUE(m.at("attachments").is_array());
    }
    cursor = std::string(page["next_cursor"].as_string());
  } while (!cursor.empty());
  EXPECT_EQ(listed, created);
  EXPECT_TRUE(Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", end + 1}, {"end_time", end + 10}})
                  ["group_msg_list"].as_array().empty());
  EXPECT_EQ(Code(Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", start},
                                              {"end_time", start + 32 * 86400}})), 40058);
  EXPECT_EQ(Code(Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", start}})), 40058);
  EXPECT_EQ(Code(Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", start}, {"end_time", end},
                                              {"limit", 101}})), 40058);
  EXPECT_EQ(Code(Api("get_groupmsg_list_v2", {{"chat_type", "single"}, {"start_time", start}, {"end_time", end},
                                              {"cursor", "zz"}})), 40058);
  EXPECT_EQ(Code(Api("get_groupmsg_task", {{"msgid", msgid}, {"limit", 1001}})), 40058);
  EXPECT_EQ(Code(Api("get_groupmsg_send_result", {{"msgid", msgid}})), 40058);  // userid is required
}

TEST_F(MassMessageTest, AddMsgTemplateRefusesWhatWeComRefuses) {
  auto [userid, exts] = BusiestMember();
  const int64_t before = db_->Query("SELECT COUNT(*) FROM msg_templates")->rows.at(0).Int(0);
  auto refused = [&](const json::object& body, const std::string& text) {
    auto r = Api("add_msg_template", body);
    EXPECT_EQ(Code(r), 40058) << json::serialize(r);
    EXPECT_NE(std::string(r["errmsg"].as_string()).find(text), std::string::npos) << json::serialize(r);
  };
  const json::object hello{{"content", "你好"}};
  // Recipients per call come from the pack.
  rules::RulePack small = rules::DefaultRulePack();
  small.mass.max_recipients_per_call = 3;
  Serve(small);
  refused({{"sender", userid}, {"external_userid", Ids({exts[0], exts[1], exts[2], exts[3]})}, {"text", hello}},
          "too many external_userid");
  Serve(rules::DefaultRulePack());

  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})}}, "content is empty");
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})}, {"text", {{"content", std::string(4001, 'a')}}}},
          "invalid text size");
  EXPECT_EQ(Code(Api("add_msg_template", {{"sender", userid}, {"external_userid", Ids({exts[0]})},
                                          {"text", {{"content", std::string(4000, 'a')}}}})), 0);
  auto link = [](const std::string& url) {
    return json::object{{"msgtype", "link"}, {"link", {{"title", "活动"}, {"url", url}}}};
  };
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})}, {"attachments", json::array{link("ftp://x/y")}}},
          "link url must be http or https");
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})},
           {"attachments", json::array{{{"msgtype", "miniprogram"}, {"miniprogram", {{"title", "小程序"}}}}}}},
          "miniprogram needs");
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})},
           {"attachments", json::array{{{"msgtype", "image"}, {"image", json::object{}}}}}},
          "image needs media_id or pic_url");
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})},
           {"attachments", json::array{{{"msgtype", "voice"}, {"voice", {{"media_id", "M"}}}}}}},
          "invalid attachments msgtype");
  refused({{"sender", userid}, {"external_userid", Ids({"wmnobody"})}, {"text", hello}}, "no valid external_userid");
  refused({{"text", hello}}, "both empty");
  EXPECT_EQ(Code(Api("add_msg_template", {{"sender", "nobody"}, {"external_userid", Ids({exts[0]})},
                                          {"text", hello}})), 40003);

  // wecom-2020: text plus one picture, web page or mini program.
  Serve(rules::FindRulePack("wecom-2020").value());
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})},
           {"attachments", json::array{link("https://a.test"), link("https://b.test")}}},
          "invalid attachments size");
  refused({{"sender", userid}, {"external_userid", Ids({exts[0]})},
           {"attachments", json::array{{{"msgtype", "video"}, {"video", {{"media_id", "M"}}}}}}},
          "not allowed by the rule pack");
  EXPECT_EQ(Code(Api("add_msg_template", {{"sender", userid}, {"external_userid", Ids({exts[0]})},
                                          {"attachments", json::array{link("https://a.test")}}})), 0);
  // Only the two accepted calls created anything.
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM msg_templates")->rows.at(0).Int(0), before + 2);

  // Without external_userid a sender's message goes to all of the sender's customers.
  Serve(rules::DefaultRulePack());
  auto everyone = Api("add_msg_template", {{"sender", userid}, {"text", hello}});
  ASSERT_EQ(Code(everyone), 0);
  EXPECT_EQ(Results(std::string(everyone["msgid"].as_string()), userid).size(), exts.size());
}

TEST_F(MassMessageTest, MediaUploadChecksLikeWeComAndAttachmentsNeedALiveMediaId) {
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(100, 'p');
  auto uploaded = Upload("image", "海报.png", png);
  ASSERT_EQ(Code(uploaded), 0) << json::serialize(uploaded);
  const std::string media_id(uploaded["media_id"].as_string());
  EXPECT_EQ(uploaded["type"].as_string(), "image");
  EXPECT_EQ(uploaded["created_at"].as_string(), std::to_string(clock_.NowSeconds()));  // a string, as WeCom's
  auto row = db_->Query("SELECT corp_id, type, filename, size FROM media WHERE media_id = ?", {media_id})->rows;
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0].Text(0) + "|" + row[0].Text(1) + "|" + row[0].Text(2) + "|" + row[0].Text(3),
            spec_.corp_id + "|image|海报.png|108");

  // Formats by their magic bytes, sizes per type, WeCom's errcodes.
  const std::string jpg = "\xFF\xD8\xFF\xE0" + std::string(20, 'j');
  const std::string mp4 = std::string("\0\0\0\x18" "ftypmp42", 12) + std::string(20, 'v');
  EXPECT_EQ(Code(Upload("image", "a.jpg", jpg)), 0);
  EXPECT_EQ(Code(Upload("video", "a.mp4", mp4)), 0);
  EXPECT_EQ(Code(Upload("voice", "a.amr", "#!AMR\n" + std::string(20, 'a'))), 0);
  EXPECT_EQ(Code(Upload("file", "报价单.pdf", "123456")), 0);
  EXPECT_EQ(Code(Upload("gif", "a.gif", png)), 40004);
  EXPECT_EQ(Code(Upload("image", "a.gif", "GIF89a" + std::string(20, 'g'))), 40005);
  EXPECT_EQ(Code(Upload("video", "a.mp4", png)), 40005);
  EXPECT_EQ(Code(Upload("voice", "a.amr", png)), 40005);
  EXPECT_EQ(Code(Upload("file", "a.txt", "12345")), 40006);  // every file is more than 5 bytes
  EXPECT_EQ(Code(Upload("image", "big.png", png + std::string(10 * 1024 * 1024, 'x'))), 40006);
  EXPECT_EQ(Code(Upload("voice", "big.amr", "#!AMR\n" + std::string(2 * 1024 * 1024, 'x'))), 40006);
  EXPECT_EQ(Code(Upload("file", "big.bin", std::string(20 * 1024 * 1024 + 1, 'x'))), 40006);
  EXPECT_EQ(Code(Upload("file", "a.txt", "123456", "file")), 41005);  // no part named media
  EXPECT_EQ(Code(Call("POST", "/cgi-bin/media/upload?access_token=" + Token() + "&type=file", {{"a", 1}})), 41005);
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM media")->rows.at(0).Int(0), 5);

  // add_msg_template takes only media ids the corp uploaded, for 3 days.
  auto [userid, exts] = BusiestMember();
  auto send = [&, userid = userid, ext = exts.at(0)](const json::object& attachment) {
    return Api("add_msg_template", {{"sender", userid}, {"external_userid", Ids({ext})},
                                    {"attachments", json::array{attachment}}});
  };
  const json::object image{{"msgtype", "image"}, {"image", {{"media_id", media_id}}}};
  auto mini = [](const std::string& cover) {
    return json::object{{"msgtype", "miniprogram"},
                        {"miniprogram", {{"title", "会员中心"}, {"pic_media_id", cover}, {"appid", "wx1"},
                                         {"page", "pages/index"}}}};
  };
  EXPECT_EQ(Code(send(image)), 0);
  EXPECT_EQ(Code(send(mini(media_id))), 0);
  auto unknown = send(json::object{{"msgtype", "file"}, {"file", {{"media_id", "3nobody"}}}});
  EXPECT_EQ(Code(unknown), 40007);
  EXPECT_NE(std::string(unknown["errmsg"].as_string()).find("invalid media_id: attachments[0] names 3nobody"),
            std::string::npos) << json::serialize(unknown);
  EXPECT_EQ(Code(send(mini("3nobody"))), 40007);
  clock_.Advance(3 * 86'400'000LL - 1000);
  EXPECT_EQ(Code(send(image)), 0);
  clock_.Advance(1000);
  EXPECT_EQ(Code(send(image)), 40007);  // three days old
  EXPECT_EQ(Code(send(mini(media_id))), 40007);
}

TEST_F(MassMessageTest, GroupMessagesGoToTheGroupsTheSenderOwns) {
  const Owned owner = GroupOwner(3);
  ASSERT_GE(owner.foreign.size(), 1u);
  // A group of another owner and a chat id WeCom never issued: both in fail_list (a repeated id counts once).
  auto created = Api("add_msg_template", {{"chat_type", "group"}, {"sender", owner.userid},
                                          {"chat_id_list", Ids({owner.mine[0], owner.mine[1], owner.foreign[0],
                                                                "wrnobody", owner.mine[0]})},
                                          {"text", {{"content", "群发：本周会员日"}}}});
  ASSERT_EQ(Code(created), 0) << json::serialize(created);
  const std::string msgid(created["msgid"].as_string());
  EXPECT_EQ(json::serialize(created["fail_list"]), json::serialize(Ids({owner.foreign[0], "wrnobody"})));
  auto tasks = Api("get_groupmsg_task", {{"msgid", msgid}});
  ASSERT_EQ(tasks["task_list"].as_array().size(), 1u);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("userid").as_string(), owner.userid);
  EXPECT_EQ(tasks["task_list"].as_array()[0].at("status").as_int64(), 0);
  // Both groups wait for the owner, but for a group message only the groups already sent to are listed.
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM msg_results WHERE msgid = ? AND status = 0", {msgid})->rows[0].Int(0), 2);
  EXPECT_TRUE(Results(msgid, owner.userid).empty());
  EXPECT_TRUE(Listed("group").count(msgid));
  EXPECT_FALSE(Listed("single").count(msgid));

  clock_.Advance(60'000);
  auto ev = Confirm({{"msgid", msgid}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["tasks"], "1");
  EXPECT_EQ(ev->ids["sent"], "2");
  EXPECT_EQ(ev->ids["not_friend"], "0");
  EXPECT_EQ(ev->ids["over_limit"], "0");
  auto page = Api("get_groupmsg_send_result", {{"msgid", msgid}, {"userid", owner.userid}});
  ASSERT_EQ(page["send_list"].as_array().size(), 2u);
  const auto& row = page["send_list"].as_array()[0].as_object();
  EXPECT_EQ(row.at("chat_id").as_string(), owner.mine[0]);
  EXPECT_EQ(row.at("userid").as_string(), owner.userid);
  EXPECT_EQ(row.at("status").as_int64(), 1);
  EXPECT_EQ(row.at("send_time").as_int64(), clock_.NowSeconds());
  EXPECT_FALSE(row.contains("external_userid"));

  // Without chat_id_list: every group the sender owns.
  auto all = Api("add_msg_template", {{"chat_type", "group"}, {"sender", owner.userid},
                                      {"text", {{"content", "群发：全部群"}}}});
  ASSERT_EQ(Code(all), 0) << json::serialize(all);
  EXPECT_TRUE(all["fail_list"].as_array().empty());
  const std::string everyone(all["msgid"].as_string());
  ASSERT_TRUE(Confirm({{"msgid", everyone}}).ok());
  EXPECT_EQ(Results(everyone, owner.userid),
            (std::map<std::string, int64_t>{{owner.mine[0], 1}, {owner.mine[1], 1}, {owner.mine[2], 1}}));
  // Customers' and groups' messages are listed apart.
  const std::string single = Create(owner.userid, {BusiestMember().second.at(0)});
  EXPECT_EQ(Listed("group"), (std::set<std::string>{msgid, everyone}));
  EXPECT_EQ(Listed("single"), (std::set<std::string>{single}));
}

TEST_F(MassMessageTest, GroupMessagesRefuseWhatWeComRefuses) {
  const Owned owner = GroupOwner(2);
  const int64_t before = db_->Query("SELECT COUNT(*) FROM msg_templates")->rows.at(0).Int(0);
  auto refused = [&](json::object body, int64_t code, const std::string& text) {
    body["chat_type"] = "group";
    if (!body.contains("text")) body["text"] = {{"content", "你好"}};
    auto r = Api("add_msg_template", body);
    EXPECT_EQ(Code(r), code) << json::serialize(r);
    EXPECT_NE(std::string(r["errmsg"].as_string()).find(text), std::string::npos) << json::serialize(r);
  };
  const json::array one = Ids({owner.mine[0]});
  refused({{"sender", owner.userid}, {"chat_id_list", Ids(std::vector<std::string>(2001, owner.mine[0]))}}, 40058,
          "too many chat_id_list: at most 2000 per call");
  refused({{"sender", owner.userid}, {"chat_id_list", one}, {"external_userid", Ids({BusiestMember().second.at(0)})}},
          40058, "external_userid is not allowed");
  refused({{"chat_id_list", one}}, 40003, "sender is required");
  refused({{"sender", "nobody"}, {"chat_id_list", one}}, 40003, "not an active member");
  refused({{"sender", owner.userid}, {"chat_id_list", Ids({owner.foreign.at(0), "wrnobody"})}}, 40058,
          "no valid chat_id");
  // The same content checks as a message to customers.
  refused({{"sender", owner.userid}, {"chat_id_list", one}, {"text", {{"content", ""}}}}, 40058, "content is empty");
  refused({{"sender", owner.userid}, {"chat_id_list", one}, {"text", {{"content", std::string(4001, 'a')}}}}, 40058,
          "invalid text size");
  refused({{"sender", owner.userid}, {"chat_id_list", one},
           {"attachments", json::array{{{"msgtype", "image"}, {"image", json::object{}}}}}},
          40058, "image needs media_id or pic_url");
  // A member who owns no group has nothing to send to.
  auto groupless = db_->Query("SELECT userid FROM employees WHERE status = 1 AND userid NOT IN (SELECT owner FROM "
                              "group_chats) ORDER BY userid LIMIT 1")->rows.at(0).Text(0);
  refused({{"sender", groupless}}, 40058, "no valid chat_id");
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM msg_templates")->rows.at(0).Int(0), before);
  // 2000 ids are fine.
  auto most = Api("add_msg_template", {{"chat_type", "group"}, {"sender", owner.userid},
                                       {"chat_id_list", Ids(std::vector<std::string>(2000, owner.mine[0]))},
                                       {"text", {{"content", "你好"}}}});
  EXPECT_EQ(Code(most), 0) << json::serialize(most);
}

TEST_F(MassMessageTest, Wecom2023AllowsOneMassMessagePerGroupPerNaturalDay) {
  Serve(rules::FindRulePack("wecom-2023").value());
  const Owned owner = GroupOwner(3);
  const std::string a = owner.mine[0], b = owner.mine[1], c = owner.mine[2];
  const std::string first = CreateForGroups(owner.userid, {a, b});
  ASSERT_TRUE(Confirm({{"userid", owner.userid}}).ok());
  EXPECT_EQ(Results(first, owner.userid), (std::map<std::string, int64_t>{{a, 1}, {b, 1}}));
  // The same natural day: a already received one. Over the limit is a row WeCom lists (status 3).
  clock_.Advance(3'600'000);
  const std::string second = CreateForGroups(owner.userid, {a});
  auto ev = Confirm({{"msgid", second}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["over_limit"], "1");
  EXPECT_EQ(Results(second, owner.userid), (std::map<std::string, int64_t>{{a, 3}}));
  // Customers have their own quota: a message to a customer the same day is not counted against the groups'.
  const std::string ext = BusiestMember().second.at(0);
  const std::string to_customer = Create(owner.userid, {ext});
  ASSERT_TRUE(Confirm({{"msgid", to_customer}}).ok());
  EXPECT_EQ(Results(to_customer, owner.userid), (std::map<std::string, int64_t>{{ext, 1}}));

  // The owner's own group message shares the quota: a and b got one today, c did not.
  Scenario s(*db_, clock_, spec_.corp_id, 6);
  s.UseRulePack(pack_);
  auto personal = s.Run("personal-mass-message", {{"userid", owner.userid}, {"chat_type", "group"}, {"count", "10"}});
  ASSERT_TRUE(personal.ok()) << personal.status().ToString();
  EXPECT_EQ(personal->ids["sent"], "1");
  EXPECT_EQ(personal->ids["over_limit"], "2");
  EXPECT_EQ(Results(personal->ids["msgid"], owner.userid), (std::map<std::string, int64_t>{{a, 3}, {b, 3}, {c, 1}}));

  // A new natural day; two messages to a confirmed in one batch: the first counts against the second.
  clock_.Set(NextDayMs() + 60'000);
  const std::string x = CreateForGroups(owner.userid, {a}), y = CreateForGroups(owner.userid, {a});
  ev = Confirm({{"userid", owner.userid}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["tasks"], "2");
  EXPECT_EQ(ev->ids["sent"], "1");
  EXPECT_EQ(ev->ids["over_limit"], "1");
  EXPECT_EQ(Results(std::min(x, y), owner.userid)[a], 1);  // created in the same second: confirmed in msgid order
  EXPECT_EQ(Results(std::max(x, y), owner.userid)[a], 3);
}

TEST_F(MassMessageTest, AGroupDismissedOrHandedOverBeforeTheOwnerConfirmsIsNotSent) {
  const Owned owner = GroupOwner(3);
  const std::string msgid = CreateForGroups(owner.userid, owner.mine);
  Scenario world(*db_, clock_, spec_.corp_id, 2);
  ASSERT_TRUE(world.Run("dismiss-group", {{"chat_id", owner.mine[0]}}).ok());
  auto heir = db_->Query("SELECT userid FROM employees WHERE status = 1 AND userid <> ? ORDER BY userid LIMIT 1",
                         {owner.userid})->rows.at(0).Text(0);
  ASSERT_TRUE(db_->Exec("UPDATE group_chats SET owner = ? WHERE chat_id = ?", {heir, owner.mine[1]}).ok());
  auto ev = Confirm({{"userid", owner.userid}});
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->ids["sent"], "1");
  EXPECT_EQ(ev->ids["not_friend"], "2");
  EXPECT_EQ(Results(msgid, owner.userid),
            (std::map<std::string, int64_t>{{owner.mine[0], 2}, {owner.mine[1], 2}, {owner.mine[2], 1}}));
}

TEST_F(MassMessageTest, PersonalGroupMessagesGoToSomeOfTheOwnersGroupsAtOnce) {
  const Owned owner = GroupOwner(3);
  Scenario s(*db_, clock_, spec_.corp_id, 6);
  s.UseRulePack(pack_);
  auto two = s.Run("personal-mass-message", {{"userid", owner.userid}, {"chat_type", "group"}, {"count", "2"}});
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->ids["tasks"], "1");
  EXPECT_EQ(two->ids["sent"], "2");
  auto got = Results(two->ids["msgid"], owner.userid);
  ASSERT_EQ(got.size(), 2u);
  for (const auto& [chat, status] : got) {
    EXPECT_NE(std::find(owner.mine.begin(), owner.mine.end(), chat), owner.mine.end()) << chat;
    EXPECT_EQ(status, 1);
  }
  auto tasks = Api("get_groupmsg_task", {{"msgid", two->ids["msgid"]}});
  EXPECT_EQ(tasks["task_list"].as_array().at(0).at("status").as_int64(), 2);
  // Listed as the owner's own group message, never as a message to customers.
  const int64_t now = clock_.NowSeconds();
  auto list = Api("get_groupmsg_list_v2", {{"chat_type", "group"}, {"start_time", now - 86400}, {"end_time", now},
                                           {"filter_type", 1}});
  ASSERT_EQ(list["group_msg_list"].as_array().size(), 1u);
  EXPECT_EQ(list["group_msg_list"].as_array()[0].at("creator").as_string(), owner.userid);
  EXPECT_EQ(list["group_msg_list"].as_array()[0].at("create_type").as_int64(), 1);
  EXPECT_TRUE(Listed("single").empty());

  // Without a userid: a member who owns a group.
  auto anyone = s.Run("personal-mass-message", {{"chat_type", "group"}});
  ASSERT_TRUE(anyone.ok()) << anyone.status().ToString();
  EXPECT_EQ(db_->Query("SELECT COUNT(*) FROM group_chats WHERE owner = ?", {anyone->ids["userid"]})->rows[0].Int(0),
            static_cast<int64_t>(Results(anyone->ids["msgid"], anyone->ids["userid"]).size()));
  auto groupless = db_->Query("SELECT userid FROM employees WHERE status = 1 AND customer_contact = 1 AND userid NOT "
                              "IN (SELECT owner FROM group_chats) ORDER BY userid LIMIT 1")->rows.at(0).Text(0);
  EXPECT_EQ(s.Run("personal-mass-message", {{"userid", groupless}, {"chat_type", "group"}}).status().reason(),
            "nothing_to_act_on");
  EXPECT_EQ(s.Run("personal-mass-message", {{"chat_type", "channel"}}).status().reason(), "bad_argument");
}

// ----- the chat toolbar (聊天工具栏): OAuth, the agent ticket, agentConfig and the simulated client -----

class ToolbarTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    if (HasFatalFailure()) return;
    suite_api_ = std::make_unique<SuiteApi>(*db_, clock_);
    suite_api_->AddRoutes(router_);
    toolbar_api_ = std::make_unique<ToolbarApi>(*db_, clock_, *api_);
    toolbar_api_->AddRoutes(router_);
    dispatcher_ = std::make_unique<http::Dispatcher>(router_, nullptr);
    // A member and a customer they follow: the chat the client opens.
    auto pair = db_->Query("SELECT f.userid, f.external_userid FROM follows f JOIN employees e ON e.corp_id = "
                           "f.corp_id AND e.userid = f.userid WHERE e.status = 1 ORDER BY f.userid, f.external_userid "
                           "LIMIT 1")->rows.at(0);
    member_ = pair.Text(0);
    customer_ = pair.Text(1);
  }

  // Any request, answered whatever its status. `cookie` is sent as the Cookie header when not empty.
  http::Response Raw(const std::string& method, const std::string& target, const std::string& body = "",
                     const std::string& content_type = "", const std::string& cookie = "") {
    http::Request r;
    r.method = method;
    r.target = target;
    r.remote_addr = "127.0.0.1";
    r.body = body;
    if (!content_type.empty()) r.headers["content-type"] = content_type;
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return dispatcher_->Handle(r);
  }
  static std::string Header(const http::Response& resp, const std::string& name) {
    for (const auto& [k, v] : resp.headers)
      if (k == name) return v;
    return "";
  }
  // The value of query parameter `name` in `url`, decoded.
  static std::string Param(const std::string& url, const std::string& name) {
    for (size_t at = url.find('?'); at != std::string::npos; at = url.find('&', at + 1)) {
      if (url.compare(at + 1, name.size() + 1, name + "=") != 0) continue;
      const size_t from = at + name.size() + 2, end = url.find('&', from);
      std::string out;
      EXPECT_TRUE(http::PercentDecode(url.substr(from, end == std::string::npos ? end : end - from), false, out));
      return out;
    }
    return "";
  }

  json::object PutToolbar(const std::string& corp, const json::value& body) {
    http::Response resp = Raw("PUT", "/sandbox/admin/corps/" + corp + "/toolbar", json::serialize(body),
                              "application/json");
    EXPECT_EQ(resp.status, 200) << resp.body;
    return json::parse(resp.body).as_object();
  }
  // The demo app's toolbar: agent 1000002 on koi.test:8080 with one page.
  void ConfigureDemoToolbar() {
    auto r = PutToolbar(spec_.corp_id, {{"agent_id", "1000002"}, {"trusted_domain", "koi.test:8080"},
                                        {"entries", json::array{{{"name", "客户画像"},
                                                                 {"url", "http://koi.test:8080/sidebar/customer"}}}}});
    ASSERT_EQ(Code(r), 0) << json::serialize(r);
  }

  std::string MemberCookie(const std::string& userid = "") const {
    return std::string(ToolbarApi::kMemberCookie) + "=" + spec_.corp_id + ":" + (userid.empty() ? member_ : userid);
  }
  // GET /connect/oauth2/authorize as the member signed in by `cookie`.
  http::Response Authorize(const std::string& appid, const std::string& redirect_uri, const std::string& cookie,
                           const std::string& scope = "snsapi_base", const std::string& state = "s1") {
    return Raw("GET", "/connect/oauth2/authorize?appid=" + appid + "&redirect_uri=" + PercentEncode(redirect_uri) +
                          "&response_type=code&scope=" + scope + "&state=" + PercentEncode(state) +
                          "&agentid=1000002#wechat_redirect",
               "", "", cookie);
  }
  // A code for the signed-in member, issued for `appid` (the corp, or a suite it installed).
  std::string Code(const std::string& appid, const std::string& scope = "snsapi_base") {
    http::Response resp = Authorize(appid, "http://koi.test:8080/sidebar/customer", MemberCookie(), scope);
    EXPECT_EQ(resp.status, 302) << resp.body;
    return Param(Header(resp, "Location"), "code");
  }
  using SandboxTest::Code;

  // The hex SHA-1 of the JS-SDK's string, computed here rather than by the sandbox.
  static std::string Sign(const std::string& ticket, const std::string& nonce, const std::string& timestamp,
                          const std::string& url) {
    const std::string text =
        "jsapi_ticket=" + ticket + "&noncestr=" + nonce + "&timestamp=" + timestamp + "&url=" + url;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha1(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < n; ++i) {
      static const char kHex[] = "0123456789abcdef";
      (hex += kHex[digest[i] >> 4]) += kHex[digest[i] & 15];
    }
    return hex;
  }
  std::string AgentTicket() {
    auto r = Call("GET", "/cgi-bin/ticket/get?access_token=" + Token() + "&type=agent_config");
    EXPECT_EQ(Code(r), 0) << json::serialize(r);
    return r.contains("ticket") ? std::string(r["ticket"].as_string()) : std::string();
  }
  // What the client answers agentConfig with.
  std::string AgentConfig(const json::object& body) {
    http::Response resp = Raw("POST", "/sandbox/jsapi/agent-config", json::serialize(body), "application/json");
    EXPECT_EQ(resp.status, 200) << resp.body;
    return std::string(json::parse(resp.body).at("err_msg").as_string());
  }

  // The suite installed in the demo corp through the authorisation page, showing `parties` (empty: everyone); its
  // suite_access_token.
  std::string InstallSuite(const std::vector<int64_t>& parties = {}) {
    SuiteSpec suite;
    suite.instruction_url = "http://koi.test/suite/callback";
    EXPECT_TRUE(ConfigureSuite(*db_, suite).ok());
    EXPECT_TRUE(PushSuiteTickets(*db_, clock_).ok());
    auto ticket = db_->Query("SELECT ticket FROM suites WHERE suite_id = ?", {suite.suite_id})->rows.at(0).Text(0);
    auto token = Call("POST", "/cgi-bin/service/get_suite_token",
                      {{"suite_id", suite.suite_id}, {"suite_secret", suite.suite_secret}, {"suite_ticket", ticket}});
    const std::string suite_token(token["suite_access_token"].as_string());
    auto pre = Call("GET", "/cgi-bin/service/get_pre_auth_code?suite_access_token=" + suite_token);
    std::string form = "suite_id=" + suite.suite_id + "&pre_auth_code=" +
                       PercentEncode(std::string(pre["pre_auth_code"].as_string())) +
                       "&redirect_uri=" + PercentEncode("http://koi.test/back") + "&state=x&corp_id=" + spec_.corp_id +
                       "&scope=" + (parties.empty() ? "all" : "parties");
    for (int64_t p : parties) form += "&party=" + std::to_string(p);
    http::Response done = Raw("POST", "/3rdapp/install", form, "application/x-www-form-urlencoded");
    EXPECT_EQ(done.status, 200) << done.body;
    return suite_token;
  }

  std::string member_, customer_;
  std::unique_ptr<SuiteApi> suite_api_;
  std::unique_ptr<ToolbarApi> toolbar_api_;
};

TEST_F(ToolbarTest, TheAgentTicketIsReusedUntilItExpiresAndFetchedAtMost100TimesAnHour) {
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/ticket/get?type=agent_config")), 41001);
  const std::string token = Token();
  auto missing = Call("GET", "/cgi-bin/ticket/get?access_token=" + token);
  EXPECT_EQ(Code(missing), 40058);
  EXPECT_NE(std::string(missing["errmsg"].as_string()).find("type"), std::string::npos);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/ticket/get?access_token=" + token + "&type=jsapi")), 40058);

  auto first = Call("GET", "/cgi-bin/ticket/get?access_token=" + token + "&type=agent_config");
  ASSERT_EQ(Code(first), 0) << json::serialize(first);
  EXPECT_EQ(first["expires_in"].as_int64(), 7200);
  EXPECT_GE(first["ticket"].as_string().size(), 32u);
  clock_.Advance(60'000);
  auto again = Call("GET", "/cgi-bin/ticket/get?access_token=" + token + "&type=agent_config");
  EXPECT_EQ(again["ticket"], first["ticket"]);  // the same ticket, with what is left of its life
  EXPECT_EQ(again["expires_in"].as_int64(), 7140);

  // 100 fetches in a rolling hour (the two above included), then 45009 until the oldest is an hour old.
  for (int i = 2; i < 100; ++i) {
    clock_.Advance(2000);  // inside the minute budget of 50 calls
    ASSERT_EQ(Code(Call("GET", "/cgi-bin/ticket/get?access_token=" + token + "&type=agent_config")), 0) << i;
  }
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/ticket/get?access_token=" + token + "&type=agent_config")), 45009);
  clock_.Advance(3600'000 - 60'000 - 98 * 2000);  // the first fetch is now an hour old
  auto after = Call("GET", "/cgi-bin/ticket/get?access_token=" + Token() + "&type=agent_config");
  EXPECT_EQ(Code(after), 0) << json::serialize(after);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/ticket/get?access_token=" + Token() + "&type=agent_config")), 45009);
  // After 7200 s a new ticket.
  clock_.Advance(7200'000);
  auto fresh = Call("GET", "/cgi-bin/ticket/get?access_token=" + Token() + "&type=agent_config");
  ASSERT_EQ(Code(fresh), 0);
  EXPECT_NE(fresh["ticket"], first["ticket"]);
  EXPECT_EQ((api_->CallCounts()[{spec_.corp_id, "/cgi-bin/ticket/get"}]), 106);
}

TEST_F(ToolbarTest, AuthorizeRedirectsTheSignedInMemberToTheTrustedDomainOnly) {
  const std::string sidebar = "http://koi.test:8080/sidebar/customer";
  http::Response no_cookie = Authorize(spec_.corp_id, sidebar, "");
  EXPECT_EQ(no_cookie.status, 400);
  EXPECT_NE(no_cookie.body.find("/sandbox/chat"), std::string::npos) << no_cookie.body;
  EXPECT_EQ(Authorize(spec_.corp_id, sidebar, "other=1; " + MemberCookie("nobody")).status, 400);
  // No toolbar yet: the app has no trusted domain.
  http::Response no_domain = Authorize(spec_.corp_id, sidebar, MemberCookie());
  EXPECT_EQ(no_domain.status, 400);
  EXPECT_NE(no_domain.body.find("data-errcode=\"50001\""), std::string::npos) << no_domain.body;

  ConfigureDemoToolbar();
  http::Response bad_appid = Authorize("wwsomeoneelse0001", sidebar, MemberCookie());
  EXPECT_EQ(bad_appid.status, 400);
  EXPECT_NE(bad_appid.body.find("data-errcode=\"40013\""), std::string::npos) << bad_appid.body;
  for (std::string elsewhere : {"http://evil.test:8080/sidebar", "http://koi.test:8081/sidebar",
                                       "http://koi.test/sidebar", "http://koi.test:8080@evil.test/",
                                       "javascript:alert(1)"}) {
    http::Response resp = Authorize(spec_.corp_id, elsewhere, MemberCookie());
    EXPECT_EQ(resp.status, 400) << elsewhere;
    EXPECT_TRUE(Header(resp, "Location").empty()) << elsewhere;
  }
  EXPECT_NE(Authorize(spec_.corp_id, "http://evil.test:8080/", MemberCookie()).body.find("50001"), std::string::npos);
  EXPECT_EQ(Authorize(spec_.corp_id, sidebar, MemberCookie(), "snsapi_userinfo").status, 400);

  http::Response ok = Authorize(spec_.corp_id, sidebar + "?from=toolbar#top", "a=b; " + MemberCookie(),
                                "snsapi_base", "x y&z");
  ASSERT_EQ(ok.status, 302) << ok.body;
  const std::string location = Header(ok, "Location");
  EXPECT_EQ(location.rfind(sidebar + "?from=toolbar&code=", 0), 0u) << location;
  EXPECT_EQ(location.find('#'), std::string::npos) << location;
  EXPECT_NE(location.find("&state=x%20y%26z"), std::string::npos) << location;
  EXPECT_EQ(Param(location, "state"), "x y&z");
  EXPECT_EQ(Param(location, "code").size(), 43u);
  // Host names compare case-insensitively.
  EXPECT_EQ(Authorize(spec_.corp_id, "http://KOI.test:8080/x", MemberCookie()).status, 302);
}

TEST_F(ToolbarTest, GetUserInfoTakesACodeOnceForTheCorpItWasIssuedFor) {
  ConfigureDemoToolbar();
  // Another corp, with its own token: a code issued for the demo corp means nothing to it.
  SeedSpec other = spec_;
  other.corp_id = "wwotherco0000001";
  other.customers = 5;
  other.employees = 2;
  other.groups = 0;
  ASSERT_TRUE(SeedCorp(*db_, other).ok());
  auto other_token_answer = Call("GET", "/cgi-bin/gettoken?corpid=" + other.corp_id + "&corpsecret=" + other.secret);
  const std::string other_token(other_token_answer["access_token"].as_string());

  const std::string code = Code(spec_.corp_id);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + other_token + "&code=" + code)), 40029);
  auto user = Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=" + code);
  ASSERT_EQ(Code(user), 0) << json::serialize(user);
  EXPECT_EQ(user["userid"].as_string(), member_);
  EXPECT_FALSE(user.contains("user_ticket"));  // snsapi_base: WeCom adds none
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=" + code)), 40029);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=forged")), 40029);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token())), 41008);

  auto full = Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=" +
                              Code(spec_.corp_id, "snsapi_privateinfo"));
  ASSERT_EQ(Code(full), 0);
  EXPECT_FALSE(full["user_ticket"].as_string().empty());
  EXPECT_EQ(full["expires_in"].as_int64(), 1800);

  // Five minutes, then the code is gone.
  const std::string late = Code(spec_.corp_id);
  clock_.Advance(300'000);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=" + late)), 40029);
  EXPECT_EQ((api_->CallCounts()[{spec_.corp_id, "/cgi-bin/auth/getuserinfo"}]), 6);
}

TEST_F(ToolbarTest, GetUserInfo3rdAnswersTheSuiteForCodesIssuedToIt) {
  ConfigureDemoToolbar();
  const std::string suite_token = InstallSuite();
  const std::string suite_id = SuiteSpec{}.suite_id;
  auto user = Call("GET", "/cgi-bin/service/auth/getuserinfo3rd?suite_access_token=" + suite_token + "&code=" +
                              Code(suite_id));
  ASSERT_EQ(Code(user), 0) << json::serialize(user);
  EXPECT_EQ(user["corpid"].as_string(), spec_.corp_id);
  EXPECT_EQ(user["userid"].as_string(), member_);
  const std::string open_userid(user["open_userid"].as_string());
  EXPECT_FALSE(open_userid.empty());
  auto again = Call("GET", "/cgi-bin/service/auth/getuserinfo3rd?suite_access_token=" + suite_token + "&code=" +
                               Code(suite_id, "snsapi_privateinfo"));
  EXPECT_EQ(again["open_userid"].as_string(), open_userid);  // stable
  EXPECT_EQ(again["expires_in"].as_int64(), 1800);

  // A self-built app's code is not the suite's, nor the suite's a self-built app's.
  const std::string corp_code = Code(spec_.corp_id), suite_code = Code(suite_id);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/service/auth/getuserinfo3rd?suite_access_token=" + suite_token + "&code=" +
                             corp_code)),
            40029);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/auth/getuserinfo?access_token=" + Token() + "&code=" + suite_code)), 40029);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/service/auth/getuserinfo3rd?suite_access_token=forged&code=" + suite_code)),
            40082);
  EXPECT_EQ((api_->CallCounts()[{suite_id, "/cgi-bin/service/auth/getuserinfo3rd"}]), 3);

  // Outside the install's visible range, the member cannot open the app (50002).
  auto outside = db_->Query("SELECT id FROM departments WHERE corp_id = ? AND parent_id <> 0 AND id NOT IN (SELECT "
                            "main_department FROM employees WHERE userid = ?) AND NOT EXISTS (SELECT 1 FROM employees "
                            "WHERE userid = ? AND departments LIKE '%' || departments.id || '%') ORDER BY id LIMIT 1",
                            {spec_.corp_id, member_, member_});
  ASSERT_FALSE(outside->rows.empty());
  InstallSuite({outside->rows[0].Int(0)});
  http::Response refused = Authorize(suite_id, "http://koi.test:8080/sidebar/customer", MemberCookie());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("data-errcode=\"50002\""), std::string::npos) << refused.body;

  clock_.Advance(7200'000);
  EXPECT_EQ(Code(Call("GET", "/cgi-bin/service/auth/getuserinfo3rd?suite_access_token=" + suite_token + "&code=" +
                             suite_code)),
            42009);
}

TEST_F(ToolbarTest, AgentConfigChecksWhatTheClientChecks) {
  // The signature of the WeChat JS-SDK documentation's example, so the test's own SHA-1 is the right one.
  EXPECT_EQ(Sign("sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
                 "Wm3WZYTPz0wzccnW", "1414587457", "http://mp.weixin.qq.com?params=value"),
            "0f9de62fce790f9a083d5c99e95740ceb90c27ed");

  const std::string page = "http://koi.test:8080/sidebar/customer?code=abc&state=s1";
  const std::string now = std::to_string(clock_.NowSeconds());
  auto body = [&](const std::string& ticket) {
    return json::object{{"corpid", spec_.corp_id}, {"agentid", 1000002},          {"timestamp", now},
                        {"nonceStr", "n0nce"},     {"signature", Sign(ticket, "n0nce", now, page)}, {"url", page}};
  };
  EXPECT_EQ(AgentConfig(body("none")), "agentConfig:fail no chat toolbar is configured for the app");
  ConfigureDemoToolbar();
  EXPECT_EQ(AgentConfig(body("none")).rfind("agentConfig:fail no agent ticket", 0), 0u);

  const std::string ticket = AgentTicket();
  EXPECT_EQ(AgentConfig(body(ticket)), "agentConfig:ok");
  // The fragment is not signed; agentid and timestamp may be strings.
  auto with_fragment = body(ticket);
  with_fragment["url"] = page + "#/profile";
  with_fragment["agentid"] = "1000002";
  EXPECT_EQ(AgentConfig(with_fragment), "agentConfig:ok");

  auto unknown = body(ticket);
  unknown["corpid"] = "wwnobody";
  EXPECT_EQ(AgentConfig(unknown), "agentConfig:fail invalid corpid");
  auto agent = body(ticket);
  agent["agentid"] = 1000003;
  EXPECT_EQ(AgentConfig(agent).rfind("agentConfig:fail invalid agentid", 0), 0u);
  auto elsewhere = body(ticket);
  elsewhere["url"] = "http://evil.test:8080/sidebar/customer";
  elsewhere["signature"] = Sign(ticket, "n0nce", now, "http://evil.test:8080/sidebar/customer");
  EXPECT_EQ(AgentConfig(elsewhere).rfind("agentConfig:fail url is not on the app's trusted domain", 0), 0u);
  auto forged = body(ticket);
  forged["signature"] = Sign(ticket, "other", now, page);
  EXPECT_EQ(AgentConfig(forged), "agentConfig:fail invalid signature");
  auto other_page = body(ticket);
  other_page["url"] = "http://koi.test:8080/sidebar/customer";
  EXPECT_EQ(AgentConfig(other_page), "agentConfig:fail invalid signature");
  const std::string stale = std::to_string(clock_.NowSeconds() - 7201);
  auto old = body(ticket);
  old["timestamp"] = stale;
  old["signature"] = Sign(ticket, "n0nce", stale, page);
  EXPECT_EQ(AgentConfig(old).rfind("agentConfig:fail timestamp", 0), 0u);
  auto bare = body(ticket);
  bare.erase("nonceStr");
  EXPECT_EQ(AgentConfig(bare).rfind("agentConfig:fail invalid arguments", 0), 0u);

  // The ticket expires after 7200 s; a page signed with it fails until a new one signs it.
  clock_.Advance(7200'000);
  const std::string later = std::to_string(clock_.NowSeconds());
  auto expired = body(ticket);
  expired["timestamp"] = later;
  expired["signature"] = Sign(ticket, "n0nce", later, page);
  EXPECT_EQ(AgentConfig(expired).rfind("agentConfig:fail no agent ticket", 0), 0u);
  const std::string renewed = AgentTicket();
  expired["signature"] = Sign(renewed, "n0nce", later, page);
  EXPECT_EQ(AgentConfig(expired), "agentConfig:ok");
}

TEST_F(ToolbarTest, TheToolbarIsValidatedLikeTheAdminConsoleDoes) {
  auto none = Call("GET", "/sandbox/admin/corps/" + spec_.corp_id + "/toolbar");
  EXPECT_EQ(Code(none), 0);
  EXPECT_TRUE(none["toolbar"].is_null());
  EXPECT_EQ(Code(Call("GET", "/sandbox/admin/corps/wwnobody/toolbar")), 40013);

  const json::array page{{{"name", "客户画像"}, {"url", "https://koi.example.com/sidebar"}}};
  auto with = [&](json::object change) {
    json::object body{{"agent_id", "1000002"}, {"trusted_domain", "koi.example.com"}, {"entries", page}};
    for (auto& [k, v] : change) body[k] = v;
    return body;
  };
  EXPECT_EQ(Code(PutToolbar("wwnobody", with({}))), 40013);
  json::array eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(json::object{{"name", "页" + std::to_string(i)},
                                                             {"url", "https://koi.example.com/" + std::to_string(i)}});
  const std::vector<json::object> refused = {
      {{"agent_id", "10a"}},
      {{"agent_id", ""}},
      {{"trusted_domain", ""}},
      {{"trusted_domain", "https://koi.example.com"}},
      {{"trusted_domain", "koi.example.com:99999"}},
      {{"entries", json::array{}}},
      {{"entries", eleven}},
      {{"entries", json::array{{{"name", ""}, {"url", "https://koi.example.com/a"}}}}},
      {{"entries", json::array{{{"name", "一二三四五六七八九十一二三四五六七"},  // 17
                                {"url", "https://koi.example.com/a"}}}}},
      {{"entries", json::array{{{"name", "客户"}, {"url", "ftp://koi.example.com/a"}}}}},
      {{"entries", json::array{{{"name", "客户"}, {"url", "https://other.example.com/a"}}}}},
      {{"entries", json::array{{{"name", "客户"}, {"url", "https://koi.example.com:8443/a"}}}}},
      {{"entries", json::array{"https://koi.example.com/a"}}},
  };
  for (const auto& change : refused) {
    auto r = PutToolbar(spec_.corp_id, with(change));
    EXPECT_EQ(Code(r), 40058) << json::serialize(change) << " -> " << json::serialize(r);
  }
  EXPECT_TRUE(Call("GET", "/sandbox/admin/corps/" + spec_.corp_id + "/toolbar")["toolbar"].is_null());

  // Sixteen characters are fine; the domain is kept in lowercase; a number is a fine agent id.
  auto ok = PutToolbar(spec_.corp_id, with({{"agent_id", 1000002}, {"trusted_domain", "KOI.example.com"},
                                            {"entries", json::array{{{"name", "一二三四五六七八九十一二三四五六"},
                                                                     {"url", "https://koi.example.com/a"}}}}}));
  ASSERT_EQ(Code(ok), 0) << json::serialize(ok);
  auto got = Call("GET", "/sandbox/admin/corps/" + spec_.corp_id + "/toolbar")["toolbar"].as_object();
  EXPECT_EQ(got["agent_id"].as_string(), "1000002");
  EXPECT_EQ(got["trusted_domain"].as_string(), "koi.example.com");
  EXPECT_EQ(got["entries"].as_array().size(), 1u);
  EXPECT_EQ(got["updated_at"].as_int64(), clock_.NowSeconds());
}

TEST_F(ToolbarTest, TheChatPageSignsTheMemberInAndShowsTheToolbar) {
  // A member with a customer they do not follow: no such chat.
  auto stranger = db_->Query("SELECT external_userid FROM customers WHERE corp_id = ? AND external_userid NOT IN "
                             "(SELECT external_userid FROM follows WHERE userid = ?) LIMIT 1",
                             {spec_.corp_id, member_})->rows.at(0).Text(0);
  http::Response none = Raw("GET", "/sandbox/chat?corp=" + spec_.corp_id + "&userid=" + member_ +
                                       "&external_userid=" + stranger);
  EXPECT_EQ(none.status, 404);
  EXPECT_TRUE(Header(none, "Set-Cookie").empty());
  EXPECT_EQ(Raw("GET", "/sandbox/chat?corp=wwnobody").status, 404);

  const std::string chat =
      "/sandbox/chat?corp=" + spec_.corp_id + "&userid=" + member_ + "&external_userid=" + customer_;
  http::Response bare = Raw("GET", chat);
  ASSERT_EQ(bare.status, 200) << bare.body;
  EXPECT_EQ(Header(bare, "Set-Cookie"), MemberCookie() + "; Path=/; SameSite=Lax");
  EXPECT_NE(bare.body.find("data-test=\"no-toolbar\""), std::string::npos);
  auto names = db_->Query("SELECT e.name, c.name FROM employees e, customers c WHERE e.userid = ? AND "
                          "c.external_userid = ?",
                          {member_, customer_})->rows.at(0);
  EXPECT_NE(bare.body.find(names.Text(0)), std::string::npos);
  EXPECT_NE(bare.body.find(names.Text(1)), std::string::npos);
  EXPECT_NE(bare.body.find("data-external-userid=\"" + customer_ + "\""), std::string::npos);
  EXPECT_NE(bare.body.find("<script src=\"/sandbox/chat.js\"></script>"), std::string::npos);

  // The admin's form saves the toolbar and comes back to the chat.
  http::Response saved = Raw("POST", "/sandbox/admin/toolbar",
                             "corp=" + spec_.corp_id + "&userid=" + member_ + "&external_userid=" + customer_ +
                                 "&agent_id=1000002&trusted_domain=koi.test%3A8080&entries=" +
                                 PercentEncode("客户画像|http://koi.test:8080/sidebar/customer\r\n\r\n订单|"
                                               "http://koi.test:8080/sidebar/orders\r\n"),
                             "application/x-www-form-urlencoded");
  EXPECT_EQ(saved.status, 303) << saved.body;
  EXPECT_EQ(Header(saved, "Location"), chat);
  http::Response refused = Raw("POST", "/sandbox/admin/toolbar",
                               "corp=" + spec_.corp_id + "&agent_id=1000002&trusted_domain=koi.test%3A8080&entries=" +
                                   PercentEncode("no bar here"),
                               "application/x-www-form-urlencoded");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(LoadToolbar(*db_, spec_.corp_id)->entries.size(), 2u);

  http::Response page = Raw("GET", chat);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("data-test=\"no-toolbar\""), std::string::npos);
  EXPECT_NE(page.body.find("data-test=\"toolbar-tab\" data-url=\"http://koi.test:8080/sidebar/customer\" "
                           "aria-selected=\"true\">客户画像</button>"),
            std::string::npos)
      << page.body;
  EXPECT_NE(page.body.find("data-url=\"http://koi.test:8080/sidebar/orders\" aria-selected=\"false\">订单"),
            std::string::npos);
  EXPECT_NE(page.body.find("data-test=\"sidebar-frame\""), std::string::npos);
  EXPECT_NE(page.body.find("data-test=\"toolbar-form\""), std::string::npos);
  EXPECT_EQ(page.frame_src, "http://koi.test:8080");  // the pages' origin, once, may be framed

  // The picker lists chats of active members, each a link to its chat.
  http::Response picker = Raw("GET", "/sandbox/chat?corp=" + spec_.corp_id);
  ASSERT_EQ(picker.status, 200);
  size_t links = 0;
  for (size_t at = 0; (at = picker.body.find("data-test=\"chat-pair\"", at)) != std::string::npos; ++at) ++links;
  EXPECT_EQ(links, 50u);
  EXPECT_TRUE(Header(picker, "Set-Cookie").empty());

  http::Response script = Raw("GET", "/sandbox/chat.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(script.body.find("koiBridge"), std::string::npos);
  EXPECT_NE(script.body.find("getCurExternalChat"), std::string::npos);
}

// A customer group's chat: open to its owner and to the corp's members in it, not to other members; the page names
// the group (the bridge answers getCurExternalChat with it) and the picker lists such chats.
TEST_F(ToolbarTest, AGroupChatOpensForMembersInTheGroupOnly) {
  auto group = db_->Query("SELECT g.chat_id, g.name, g.owner FROM group_chats g JOIN employees e ON e.corp_id = "
                          "g.corp_id AND e.userid = g.owner WHERE g.corp_id = ? AND e.status = 1 ORDER BY g.chat_id "
                          "LIMIT 1",
                          {spec_.corp_id});
  ASSERT_TRUE(group.ok() && !group->rows.empty());
  const std::string chat_id = group->rows[0].Text(0), name = group->rows[0].Text(1), owner = group->rows[0].Text(2);
  const std::string link = "/sandbox/chat?corp=" + spec_.corp_id + "&userid=" + owner + "&chat_id=" + chat_id;
  http::Response page = Raw("GET", link);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("data-chat-id=\"" + chat_id + "\""), std::string::npos);
  EXPECT_NE(page.body.find(name), std::string::npos);
  EXPECT_EQ(Header(page, "Set-Cookie"), std::string(ToolbarApi::kMemberCookie) + "=" + spec_.corp_id + ":" + owner +
                                            "; Path=/; SameSite=Lax");

  auto outsider = db_->Query("SELECT userid FROM employees e WHERE corp_id = ? AND status = 1 AND userid <> ? AND NOT "
                             "EXISTS (SELECT 1 FROM group_members m WHERE m.corp_id = e.corp_id AND m.chat_id = ? AND "
                             "m.member_id = e.userid) ORDER BY userid LIMIT 1",
                             {spec_.corp_id, owner, chat_id});
  ASSERT_TRUE(outsider.ok() && !outsider->rows.empty());
  http::Response refused = Raw("GET", "/sandbox/chat?corp=" + spec_.corp_id + "&userid=" + outsider->rows[0].Text(0) +
                                          "&chat_id=" + chat_id);
  EXPECT_EQ(refused.status, 404);
  EXPECT_TRUE(Header(refused, "Set-Cookie").empty());

  // A member of the corp in a group, not its owner.
  auto member = db_->Query("SELECT m.chat_id, m.member_id FROM group_members m JOIN group_chats g ON g.corp_id = "
                           "m.corp_id AND g.chat_id = m.chat_id JOIN employees e ON e.corp_id = m.corp_id AND e.userid "
                           "= m.member_id WHERE m.corp_id = ? AND m.type = 1 AND m.member_id <> g.owner AND e.status = 1 "
                           "ORDER BY m.chat_id LIMIT 1",
                           {spec_.corp_id});
  ASSERT_TRUE(member.ok() && !member->rows.empty());
  EXPECT_EQ(Raw("GET", "/sandbox/chat?corp=" + spec_.corp_id + "&userid=" + member->rows[0].Text(1) + "&chat_id=" +
                           member->rows[0].Text(0)).status,
            200);

  http::Response picker = Raw("GET", "/sandbox/chat?corp=" + spec_.corp_id);
  ASSERT_EQ(picker.status, 200);
  EXPECT_NE(picker.body.find("data-test=\"chat-group\""), std::string::npos);
  EXPECT_NE(picker.body.find("&amp;chat_id="), std::string::npos);
}

}  // namespace
}  // namespace koi::sandbox
