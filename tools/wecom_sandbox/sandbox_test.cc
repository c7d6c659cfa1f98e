// The sandbox through its HTTP routes, as a WeCom client sees it: tokens, errcodes, cursors, budgets, determinism.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "api.h"
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

}  // namespace
}  // namespace koi::sandbox
