// Koi's WeCom client against koi-wecom-sandbox, in process (the sandbox's dispatcher is the transport) with a fake
// clock: token caching and refresh, retries and budgets, paging, errcodes as statuses.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "api.h"
#include "http/dispatcher.h"
#include "in_process_transport.h"
#include "scenario.h"
#include "wecom/client/client.h"
#include "world.h"

namespace koi::wecom {
namespace {

class WecomClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(10000); }

  void Start(int64_t sandbox_calls_per_minute, int64_t client_calls_per_minute = 8000) {
    db_ = std::move(storage::Database::Open("sqlite::memory:", {}).value());
    ASSERT_TRUE(sandbox::InitSchema(*db_).ok());
    spec_.customers = 400;
    spec_.employees = 15;
    spec_.groups = 5;
    ASSERT_TRUE(sandbox::SeedCorp(*db_, spec_).ok());
    sandbox_ = std::make_unique<sandbox::SandboxApi>(*db_, clock_,
                                                     sandbox::ApiOptions{.calls_per_minute = sandbox_calls_per_minute});
    router_ = std::make_unique<http::Router>();
    sandbox_->AddRoutes(*router_);
    dispatcher_ = std::make_unique<http::Dispatcher>(*router_, nullptr);
    ClientOptions options{.base_url = testing::kSandboxBaseUrl,
                          .calls_per_minute = client_calls_per_minute,
                          .sleep = [this](int64_t ms) {
                            slept_ms_ += ms;
                            clock_.Advance(ms);
                          }};
    client_ = std::make_unique<WecomClient>(testing::InProcessTransport(*dispatcher_, [this] { return down_.load(); }),
                                            clock_, options);
    corp_ = {spec_.corp_id, spec_.secret};
  }
  int64_t Calls(const std::string& api) { return sandbox_->CallCounts()[{spec_.corp_id, api}]; }

  FakeClock clock_{1'795'392'000'000};
  sandbox::SeedSpec spec_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<sandbox::SandboxApi> sandbox_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Dispatcher> dispatcher_;
  std::unique_ptr<WecomClient> client_;
  CorpCredentials corp_;
  std::atomic<int64_t> slept_ms_{0};
  std::atomic<bool> down_{false};
};

TEST_F(WecomClientTest, FetchesTheTokenOnceAndRefreshesItBeforeItExpires) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_->ListDepartments(corp_).ok());
  EXPECT_EQ(Calls("/cgi-bin/gettoken"), 1);
  clock_.Advance(7200'000 - 4 * 60'000);  // inside the 5-minute margin: refreshed before WeCom says 42001
  ASSERT_TRUE(client_->ListDepartments(corp_).ok());
  EXPECT_EQ(Calls("/cgi-bin/gettoken"), 2);
}

TEST_F(WecomClientTest, RefreshesATokenWeComInvalidatedEarlyAndRetriesOnce) {
  ASSERT_TRUE(client_->ListDepartments(corp_).ok());
  ASSERT_TRUE(db_->Exec("DELETE FROM access_tokens").ok());  // WeCom forgets the token: 40014
  auto depts = client_->ListDepartments(corp_);
  ASSERT_TRUE(depts.ok()) << depts.status().ToString();
  EXPECT_EQ(Calls("/cgi-bin/gettoken"), 2);
  // ok, then 40014 (a forgotten token belongs to no corp, so the sandbox cannot count it), then ok.
  EXPECT_EQ(Calls("/cgi-bin/department/list"), 2);
}

TEST_F(WecomClientTest, ConcurrentCallersShareOneTokenFetch) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (client_->GetFollowUsers(corp_).ok()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(Calls("/cgi-bin/gettoken"), 1);
}

TEST_F(WecomClientTest, AWrongSecretIsAClearPermanentError) {
  auto r = client_->ListDepartments({spec_.corp_id, "wrong"});
  EXPECT_EQ(r.status().reason(), "wecom_invalid_credential");
  EXPECT_FALSE(r.status().IsRetryable());
  EXPECT_EQ(client_->ListDepartments({"wwnobody", "x"}).status().reason(), "wecom_invalid_corpid");
  EXPECT_EQ(client_->GetUser(corp_, "nobody").status().reason(), "wecom_userid_not_found");
  EXPECT_EQ(client_->GetUser(corp_, "nobody").status().code(), StatusCode::kNotFound);
}

TEST_F(WecomClientTest, StaysUnderItsOwnBudgetInsteadOfHitting45009) {
  Start(/*sandbox*/ 20, /*client*/ 20);
  for (int i = 0; i < 45; ++i) ASSERT_TRUE(client_->GetFollowUsers(corp_).ok()) << i;
  EXPECT_EQ(Calls("/cgi-bin/externalcontact/get_follow_user_list"), 45);  // never refused
  EXPECT_GE(slept_ms_.load(), 60'000);                                     // waited for two new minutes
}

TEST_F(WecomClientTest, BacksOffOn45009AndSucceedsInTheNextMinute) {
  Start(/*sandbox*/ 10, /*client*/ 1000);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client_->GetFollowUsers(corp_).ok());
  auto r = client_->GetFollowUsers(corp_);  // 45009, wait for the next minute, then ok
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Calls("/cgi-bin/externalcontact/get_follow_user_list"), 12);
}

TEST_F(WecomClientTest, AnOutageIsRetriedThenReportedAsRetryable) {
  ASSERT_TRUE(client_->ListDepartments(corp_).ok());
  down_ = true;
  auto r = client_->ListDepartments(corp_);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsRetryable());  // a sync job will retry it later
  EXPECT_GE(slept_ms_.load(), 1000 + 2000 + 4000 + 8000);
}

TEST_F(WecomClientTest, PagesThroughEveryCustomerRelationship) {
  auto users = client_->GetFollowUsers(corp_);
  ASSERT_TRUE(users.ok());
  std::set<std::pair<std::string, std::string>> seen;
  std::string cursor;
  do {
    auto page = client_->BatchGetByUser(corp_, *users, cursor, 33);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& rel : page->items) {
      EXPECT_FALSE(rel.contact.name.empty());
      EXPECT_GT(rel.follow.createtime, 0);
      seen.insert({rel.follow.userid, rel.contact.external_userid});
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  auto want = db_->Query("SELECT COUNT(*) FROM follows f JOIN employees e ON e.corp_id = f.corp_id AND "
                         "e.userid = f.userid WHERE e.status = 1")->rows.at(0).Int(0);
  EXPECT_EQ(static_cast<int64_t>(seen.size()), want);

  auto tags = client_->GetCorpTags(corp_);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 5u);
  auto chats = client_->ListGroupChats(corp_, "", 2);
  ASSERT_TRUE(chats.ok());
  EXPECT_EQ(chats->items.size(), 2u);
  EXPECT_FALSE(chats->next_cursor.empty());
  auto chat = client_->GetGroupChat(corp_, chats->items[0].chat_id);
  ASSERT_TRUE(chat.ok());
  EXPECT_FALSE(chat->members.empty());
  EXPECT_EQ(client_->GetGroupChat(corp_, "wrnone").status().reason(), "wecom_invalid_chat_id");
  std::set<std::string> ids;
  std::string c;
  do {
    auto page = client_->ListUserIds(corp_, c, 4);
    ASSERT_TRUE(page.ok());
    for (const auto& u : page->items) ids.insert(u.userid);
    c = page->next_cursor;
  } while (!c.empty());
  EXPECT_EQ(ids.size(), users->size());
  auto user = client_->GetUser(corp_, *ids.begin());
  ASSERT_TRUE(user.ok());
  EXPECT_GT(user->gender, 0);
  EXPECT_FALSE(user->departments.empty());
}

TEST_F(WecomClientTest, SendsAGroupMessageAndReadsItsResultsByChat) {
  auto first = db_->Query("SELECT owner, chat_id FROM group_chats ORDER BY chat_id LIMIT 1")->rows.at(0);
  const std::string owner = first.Text(0), chat = first.Text(1);
  auto foreign = db_->Query("SELECT chat_id FROM group_chats WHERE owner <> ? ORDER BY chat_id LIMIT 1", {owner});
  ASSERT_FALSE(foreign->rows.empty());
  const std::string theirs = foreign->rows[0].Text(0);
  const auto content = boost::json::parse(R"({"text":{"content":"群发：新品到店"}})").as_object();
  auto made = client_->AddGroupMsgTemplate(corp_, owner, {chat, theirs}, content);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->fail_list, std::vector<std::string>{theirs});  // only its owner can send to a group

  const int64_t now = clock_.NowSeconds();
  auto groups = client_->ListGroupMsgs(corp_, now - 60, now + 60, 2, "", 100, "group");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_EQ(groups->items.size(), 1u);
  EXPECT_EQ(groups->items[0].msgid, made->msgid);
  EXPECT_EQ(groups->items[0].text, "群发：新品到店");
  EXPECT_TRUE(client_->ListGroupMsgs(corp_, now - 60, now + 60, 2, "")->items.empty());  // "single" by default

  // WeCom lists a group message's rows only once sent.
  EXPECT_TRUE(client_->GetGroupMsgSendResults(corp_, made->msgid, owner, "")->items.empty());
  sandbox::Scenario owner_confirms(*db_, clock_, spec_.corp_id, 1);
  ASSERT_TRUE(owner_confirms.Run("send-mass-message", {{"msgid", made->msgid}}).ok());
  auto sent = client_->GetGroupMsgSendResults(corp_, made->msgid, owner, "");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  ASSERT_EQ(sent->items.size(), 1u);
  EXPECT_EQ(sent->items[0].chat_id, chat);
  EXPECT_TRUE(sent->items[0].external_userid.empty());
  EXPECT_EQ(sent->items[0].userid, owner);
  EXPECT_EQ(sent->items[0].status, 1);
  EXPECT_EQ(sent->items[0].send_time, now);

  // Like a message to customers, a create is not retried after a transport failure: WeCom may have acted on it.
  down_ = true;
  auto lost = client_->AddGroupMsgTemplate(corp_, owner, {chat}, content);
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(slept_ms_.load(), 0);
}

TEST_F(WecomClientTest, UploadsMediaAsMultipartAndRetriesIt) {
  // Bytes that look like multipart framing must not confuse the form: the boundary is one they do not contain.
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + "\r\n--KoiMediaBoundary\r\n" + std::string(64, '\0');
  auto made = client_->UploadMedia(corp_, "image", "秋季\"上新\".png", "image/png", png);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->created_at, clock_.NowSeconds());  // WeCom's string, read as seconds
  auto row = db_->Query("SELECT type, filename, size FROM media WHERE media_id = ?", {made->media_id})->rows;
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0].Text(0), "image");
  EXPECT_EQ(row[0].Text(1), "秋季%22上新%22.png");  // quotes escaped as browsers do
  EXPECT_EQ(row[0].Int(2), static_cast<int64_t>(png.size()));

  // The id is good for a mass message's attachment.
  auto userid = db_->Query("SELECT f.userid, f.external_userid FROM follows f JOIN employees e ON e.corp_id = "
                           "f.corp_id AND e.userid = f.userid WHERE e.status = 1 ORDER BY 1, 2 LIMIT 1")->rows.at(0);
  auto content = boost::json::parse(R"({"text":{"content":"新品"}})").as_object();
  content["attachments"] = boost::json::array{{{"msgtype", "image"}, {"image", {{"media_id", made->media_id}}}}};
  EXPECT_TRUE(client_->AddMsgTemplate(corp_, userid.Text(0), {userid.Text(1)}, content).ok());
  content["attachments"] = boost::json::array{{{"msgtype", "image"}, {"image", {{"media_id", "3forged"}}}}};
  EXPECT_EQ(client_->AddMsgTemplate(corp_, userid.Text(0), {userid.Text(1)}, content).status().reason(),
            "wecom_invalid_media_id");

  // WeCom's refusals become statuses; nothing is retried for them.
  auto gif = client_->UploadMedia(corp_, "image", "a.gif", "image/gif", "GIF89a-----");
  EXPECT_EQ(gif.status().reason(), "wecom_invalid_file_type");
  EXPECT_EQ(gif.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->UploadMedia(corp_, "voice", "a.png", "image/png", "12345").status().reason(),
            "wecom_invalid_file_size");
  EXPECT_EQ(client_->UploadMedia(corp_, "sticker", "a.png", "image/png", png).status().reason(),
            "wecom_invalid_media_type");
  EXPECT_EQ(slept_ms_.load(), 0);
  EXPECT_EQ(Calls("/cgi-bin/media/upload"), 4);

  // An upload is safe to repeat (at worst an unused media id), so an outage is retried, unlike add_msg_template.
  down_ = true;
  auto lost = client_->UploadMedia(corp_, "file", "a.txt", "text/plain", "hello world");
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(slept_ms_.load(), 1000 + 2000 + 4000 + 8000);
}

}  // namespace
}  // namespace koi::wecom
