// Media for mass messages' attachments against the sandbox, on both engines: checked, uploaded once per file and
// kept; uploaded again when a send needs an id WeCom no longer knows (a message scheduled days ahead); and the upload
// route as the console calls it, with the raw file as the body.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>

#include "domain/apps/apps.h"
#include "domain/customers/customers.h"
#include "domain/messaging/media.h"
#include "domain/messaging/messaging.h"
#include "domain/segments/index.h"
#include "domain/segments/segments.h"
#include "http/auth_guard.h"
#include "http/message_routes.h"
#include "wecom/protocol/crypto.h"
#include "wecom_fixture.h"

namespace koi::messaging {
namespace {

using testing::TestEngine;
namespace json = boost::json;

// A PNG's signature, then bytes a text column would choke on (NULs, invalid UTF-8): kept and re-sent exactly.
const std::string kPng = std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + std::string(200, '\0') + "\xFF\xFE end";

class MediaTest : public wecom_link::WecomBench {
 protected:
  void SetUpKoi(storage::Database& db) {
    LinkTeamAndSync(db, 20, "t");
    if (HasFatalFailure()) return;
    media_ = std::make_unique<MediaService>(db, clock_, *client_, *link_);
    corp_ = link_->Credentials(admin_.team).value();
  }

  int64_t Uploads() { return sandbox_->CallCounts()[{spec_.corp_id, "/cgi-bin/media/upload"}]; }

  // What WeCom (the sandbox) holds for `media_id`: "type|filename|size|", or "" when it never issued it.
  std::string World(const std::string& media_id) {
    auto rows = Lines(*world_, "SELECT type, filename, size FROM media WHERE media_id = ?", {media_id});
    return rows.empty() ? "" : rows[0];
  }

  // A mass message with `media_id` as its image: "ok", or why WeCom refused it.
  std::string SendWith(const std::string& media_id) {
    auto pair = world_->Query("SELECT f.userid, f.external_userid FROM follows f JOIN employees e ON e.corp_id = "
                              "f.corp_id AND e.userid = f.userid WHERE e.status = 1 ORDER BY 1, 2 LIMIT 1")
                    ->rows.at(0);
    json::object content{{"text", {{"content", "新品海报"}}},
                         {"attachments", json::array{{{"msgtype", "image"}, {"image", {{"media_id", media_id}}}}}}};
    auto made = client_->AddMsgTemplate(corp_, pair.Text(0), {pair.Text(1)}, content);
    return made.ok() ? "ok" : made.status().reason();
  }

  std::unique_ptr<MediaService> media_;
  wecom::CorpCredentials corp_;
};

TEST_P(MediaTest, UploadsAFileOnceAndKeepsIt) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db);
  if (HasFatalFailure()) return;
  auto m = media_->Upload(admin_, "image", "海报.png", "application/octet-stream", kPng);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string size = std::to_string(kPng.size());
  EXPECT_GT(m->id, 0);
  EXPECT_EQ(m->type, "image");
  EXPECT_EQ(m->filename, "海报.png");
  EXPECT_EQ(m->size, static_cast<int64_t>(kPng.size()));
  EXPECT_EQ(m->expires_at_ms, clock_.NowMillis() + kMediaLifetimeMs);
  EXPECT_EQ(World(m->media_id), "image|海报.png|" + size + "|");
  EXPECT_EQ(Uploads(), 1);
  EXPECT_EQ(SendWith(m->media_id), "ok");
  // Uploaded as what its bytes are, whatever the browser said.
  EXPECT_EQ(Lines(*t.db, "SELECT content_type, size, created_by FROM media_files WHERE id = ?", {m->id}),
            std::vector<std::string>{"image/png|" + size + "|" + std::to_string(admin_.account.value()) + "|"});

  // A member uploading the same file gets the same row and id; nothing goes to WeCom.
  auto member = accounts_->AddMember(admin_, "13900139000", "小周", {});
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  const accounts::Principal m2{.team = admin_.team, .account = member->id, .role = accounts::Role::kMember,
                               .phone = "13900139000", .name = "小周"};
  auto again = media_->Upload(m2, "image", "海报.png", "image/png", kPng);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->id, m->id);
  EXPECT_EQ(again->media_id, m->media_id);
  EXPECT_EQ(Uploads(), 1);
  // Under another name it is uploaded again (the name is what a customer sees of a file), still one row.
  auto renamed = media_->Upload(admin_, "image", "秋季海报.png", "image/png", kPng);
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->id, m->id);
  EXPECT_NE(renamed->media_id, m->media_id);
  EXPECT_EQ(World(renamed->media_id), "image|秋季海报.png|" + size + "|");
  // The same bytes as a file are a file of their own.
  auto as_file = media_->Upload(admin_, "file", "海报.png", "image/png", kPng);
  ASSERT_TRUE(as_file.ok()) << as_file.status().ToString();
  EXPECT_NE(as_file->id, m->id);
  EXPECT_EQ(Uploads(), 3);
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM media_files"), std::vector<std::string>{"2|"});

  // Refused before anything reaches WeCom.
  EXPECT_EQ(media_->Upload(admin_, "image", "a.gif", "image/gif", "GIF89a-------").status().reason(),
            "media_format_invalid");
  EXPECT_EQ(media_->Upload(admin_, "voice", "a.amr", "audio/amr", "#!AMR\n-------").status().reason(),
            "media_type_invalid");
  EXPECT_EQ(media_->Upload(admin_, "file", "a/b.txt", "text/plain", "hello world").status().reason(),
            "media_filename_invalid");
  EXPECT_EQ(Uploads(), 3);
  // A team without a WeCom corp cannot upload.
  auto other = accounts_->CreateTeam({.phone = "13700137000", .password = "secret123", .team_name = "乙", .name = "李"});
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(media_->Upload(*other, "image", "a.png", "image/png", kPng).status().reason(), "wecom_not_linked");

  // The bytes are kept exactly (base64 text), up to the largest file WeCom takes, and sent again whole.
  std::string kept;
  auto stored = t.db->Query("SELECT bytes FROM media_files WHERE id = ?", {m->id});
  ASSERT_TRUE(wecom::Base64Decode(stored->rows.at(0).Text(0), kept));
  EXPECT_EQ(kept, kPng);
  const std::string largest = kPng + std::string(20 * 1024 * 1024 - kPng.size(), '\x01');
  auto large = media_->Upload(admin_, "file", "目录.bin", "application/octet-stream", largest);
  ASSERT_TRUE(large.ok()) << large.status().ToString();
  clock_.Advance(kMediaLifetimeMs);
  auto resent = media_->Usable(admin_.team, large->media_id, corp_);
  ASSERT_TRUE(resent.ok()) << resent.status().ToString();
  EXPECT_EQ(World(*resent), "file|目录.bin|20971520|");
  EXPECT_EQ(media_->Upload(admin_, "file", "a.bin", "", largest + "x").status().reason(), "media_too_large");
}

TEST_P(MediaTest, AMessageSentDaysLaterGetsAMediaIdWecomStillKnows) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db);
  if (HasFatalFailure()) return;
  const int64_t uploaded_at = clock_.NowMillis();
  auto m = media_->Upload(admin_, "image", "海报.png", "image/png", kPng);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Fresh: the same id, nothing uploaded.
  EXPECT_EQ(media_->Usable(admin_.team, m->media_id, corp_).value(), m->media_id);
  clock_.Advance(kMediaLifetimeMs - kMediaMarginMs - 1);
  EXPECT_EQ(media_->Usable(admin_.team, m->media_id, corp_).value(), m->media_id);
  EXPECT_EQ(Uploads(), 1);

  // In its last hour it is uploaded again from the kept bytes, which arrive unchanged.
  clock_.Advance(1);
  auto fresh = media_->Usable(admin_.team, m->media_id, corp_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_NE(*fresh, m->media_id);
  EXPECT_EQ(Uploads(), 2);
  EXPECT_EQ(World(*fresh), World(m->media_id));
  EXPECT_EQ(Lines(*t.db, "SELECT media_id, uploaded_at FROM media_files WHERE id = ?", {m->id}),
            std::vector<std::string>{*fresh + "|" + std::to_string(clock_.NowMillis()) + "|"});

  // A message scheduled 5 days after the upload: WeCom refuses the first id by then, but that id still finds the file
  // and its current id, which WeCom takes.
  clock_.Advance(uploaded_at + 5 * 86'400'000LL - clock_.NowMillis());
  EXPECT_EQ(SendWith(m->media_id), "wecom_invalid_media_id");
  auto later = media_->Usable(admin_.team, m->media_id, corp_);
  ASSERT_TRUE(later.ok()) << later.status().ToString();
  EXPECT_EQ(*later, *fresh);  // 49 hours old: still good for a day
  EXPECT_EQ(SendWith(*later), "ok");
  EXPECT_EQ(Uploads(), 2);
  // Two days on, both ids are past: a third upload, found through either id.
  clock_.Advance(2 * 86'400'000LL);
  auto third = media_->Usable(admin_.team, *fresh, corp_);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_NE(*third, *fresh);
  EXPECT_EQ(media_->Usable(admin_.team, m->media_id, corp_).value(), *third);
  EXPECT_EQ(SendWith(*third), "ok");
  EXPECT_EQ(Uploads(), 3);
  EXPECT_EQ(Lines(*t.db, "SELECT COUNT(*) FROM media_file_ids WHERE file_id = ?", {m->id}),
            std::vector<std::string>{"3|"});
  // Uploading the file now answers its current id.
  auto same = media_->Upload(admin_, "image", "海报.png", "image/png", kPng);
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->media_id, *third);
  EXPECT_EQ(same->expires_at_ms, clock_.NowMillis() + kMediaLifetimeMs);

  // Ids Koi never uploaded (or another team's) are WeCom's business: returned unchanged, nothing uploaded.
  EXPECT_EQ(media_->Usable(admin_.team, "3madeupelsewhere", corp_).value(), "3madeupelsewhere");
  EXPECT_EQ(media_->Usable(TeamId(admin_.team.value() + 1), m->media_id, corp_).value(), m->media_id);
  EXPECT_EQ(media_->Usable(admin_.team, "", corp_).value(), "");
  EXPECT_EQ(Uploads(), 3);
}

// Through the messaging service: a message with an uploaded image, sent four days after the upload, reaches WeCom
// with an id WeCom still knows (without the service's refresh, WeCom refuses the chunk with 40007).
TEST_P(MediaTest, AMessageWithAnUploadedImageStillSendsDaysLater) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db);
  if (HasFatalFailure()) return;
  customers::CustomerService customers(*t.db, clock_);
  segments::SegmentIndex index(*t.db, clock_);
  segments::SegmentService segments(*t.db, clock_, index, customers);
  MessagingService messages(*t.db, clock_, *queue_, *link_, *client_, index, segments, customers,
                            MessagingOptions{.media = media_.get()});
  auto m = media_->Upload(admin_, "image", "海报.png", "image/png", kPng);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto to = Lines(*t.db, "SELECT f.external_userid FROM wecom_follows f JOIN wecom_employees e ON e.team_id = "
                               "f.team_id AND e.userid = f.userid WHERE e.status = 1 AND f.deleted_at IS NULL ORDER BY 1 "
                               "LIMIT 1");
  ASSERT_EQ(to.size(), 1u);
  const std::string customer = to[0].substr(0, to[0].size() - 1);
  auto draft = messages.Create(admin_, Draft{.kind = "enterprise", .audience = "customers", .title = "新品海报",
                                             .content = json::serialize(json::object{
                                                 {"text", "新品到店"},
                                                 {"attachments", json::array{json::object{
                                                     {"type", "image"}, {"media_id", m->media_id}}}}}),
                                             .target = Target{.customer_ids = {customer}}});
  ASSERT_TRUE(draft.ok()) << draft.status().ToString();
  // A file deleted from the library while a composer still showed it: saving it is refused.
  auto gone = media_->Upload(admin_, "file", "旧价目表.pdf", "application/pdf", "%PDF-1.4 old prices");
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(media_->Delete(admin_, gone->id, {}).ok());
  auto stale = messages.Create(admin_, Draft{.kind = "enterprise", .audience = "customers", .title = "旧价目",
                                             .content = json::serialize(json::object{
                                                 {"attachments", json::array{json::object{
                                                     {"type", "file"}, {"media_id", gone->media_id}}}}}),
                                             .target = Target{.customer_ids = {customer}}});
  EXPECT_EQ(stale.status().reason(), "media_not_found");
  clock_.Advance(4 * 86'400'000LL);
  ASSERT_TRUE(messages.Send(admin_, draft->id, 0).ok());
  auto job = queue_->Lease("test-node", {kDispatchJob}, 600'000);
  ASSERT_TRUE(job.ok() && job->has_value());
  std::atomic<bool> stopping{false};
  jobs::JobContext ctx(*queue_, **job, "test-node", stopping);
  ASSERT_TRUE(messages.RunDispatch(ctx).ok());
  auto sent = messages.Get(admin_, draft->id);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->state, "sent") << sent->error;
  EXPECT_EQ(sent->chunks_submitted, 1);
  EXPECT_EQ(Uploads(), 3);  // the deleted file once, the image uploaded again from the kept bytes
  const auto attachments = Lines(*world_, "SELECT attachments FROM msg_templates");
  ASSERT_EQ(attachments.size(), 1u);
  EXPECT_EQ(attachments[0].find(m->media_id), std::string::npos);  // not the expired id
}

TEST_P(MediaTest, TheUploadRouteTakesTheRawFileAsTheBody) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db);
  if (HasFatalFailure()) return;
  apps::AppService apps(*t.db, clock_);
  customers::CustomerService customers(*t.db, clock_);
  segments::SegmentIndex index(*t.db, clock_);
  segments::SegmentService segments(*t.db, clock_, index, customers);
  MessagingService messages(*t.db, clock_, *queue_, *link_, *client_, index, segments, customers);
  http::AuthGuard guard(*accounts_, apps, false);
  http::Router router;
  http::AddMessageRoutes(router, guard, messages, *media_);
  http::Dispatcher dispatcher(router, nullptr);
  auto session = accounts_->Login("13800138000", "secret123", {.ip = "127.0.0.1", .user_agent = "test"});
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto post = [&](const std::string& query, const std::string& body, const std::string& content_type,
                  bool csrf = true) {
    http::Request r;
    r.method = "POST";
    r.target = "/api/v1/scrm/media?" + query;
    r.body = body;
    r.remote_addr = "127.0.0.1";
    r.headers["host"] = "koi.test";
    r.headers["content-type"] = content_type;
    r.headers["cookie"] = "koi_session=" + session->session.token;
    if (csrf) r.headers["x-csrf-token"] = accounts::CsrfTokenFor(session->session.token);
    return dispatcher.Handle(r);
  };
  auto reason = [](const http::Response& r) {
    auto o = json::parse(r.body).as_object();
    return o.contains("reason") ? std::string(o.at("reason").as_string()) : std::string();
  };
  const std::string query = "type=image&filename=%E6%B5%B7%E6%8A%A5%20v2.png";
  EXPECT_EQ(reason(post(query, kPng, "image/png")), "app_not_activated");
  ASSERT_TRUE(apps.Activate(admin_, "scrm", "127.0.0.1").ok());
  EXPECT_EQ(reason(post(query, kPng, "image/png", false)), "csrf_failed");

  http::Response made = post(query, kPng, "image/png");
  ASSERT_EQ(made.status, 201) << made.body;
  auto data = json::parse(made.body).at("data").as_object();
  EXPECT_GT(data.at("id").as_int64(), 0);
  EXPECT_EQ(data.at("type").as_string(), "image");
  EXPECT_EQ(data.at("filename").as_string(), "海报 v2.png");
  EXPECT_EQ(data.at("size").as_int64(), static_cast<int64_t>(kPng.size()));
  EXPECT_EQ(data.at("expires_at").as_int64(), clock_.NowMillis() + kMediaLifetimeMs);
  EXPECT_EQ(World(std::string(data.at("media_id").as_string())),
            "image|海报 v2.png|" + std::to_string(kPng.size()) + "|");

  http::Response refused = post("type=image&filename=a.png", "GIF89a-------", "image/gif");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(reason(refused), "media_format_invalid");
  EXPECT_EQ(reason(post("type=image", kPng, "image/png")), "media_filename_invalid");
  EXPECT_EQ(reason(post("type=sticker&filename=a.png", kPng, "image/png")), "media_type_invalid");
  EXPECT_EQ(reason(post("type=file&filename=a.txt", "", "text/plain")), "media_empty");

  // The kept file, for the console's preview: an image inline with its type, any other file as a neutral download.
  auto get = [&](const std::string& media_id) {
    http::Request r;
    r.method = "GET";
    r.target = "/api/v1/scrm/media/file?media_id=" + media_id;
    r.remote_addr = "127.0.0.1";
    r.headers["host"] = "koi.test";
    r.headers["cookie"] = "koi_session=" + session->session.token;
    return dispatcher.Handle(r);
  };
  http::Response image = get(std::string(data.at("media_id").as_string()));
  ASSERT_EQ(image.status, 200) << image.body;
  EXPECT_EQ(image.content_type, "image/png");
  EXPECT_EQ(image.body, kPng);
  http::Response page = post("type=file&filename=x.html", "<script>alert(1)</script>", "text/html");
  ASSERT_EQ(page.status, 201) << page.body;
  http::Response download = get(std::string(json::parse(page.body).at("data").at("media_id").as_string()));
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.content_type, "application/octet-stream");
  EXPECT_EQ(reason(get("3madeupelsewhere")), "media_not_found");
}

// The media library (素材库): newest first, filtered by kind and name, paged; a file goes only when no unsent message
// uses it, and only by its uploader or an admin.
TEST_P(MediaTest, TheLibraryListsFiltersAndPagesAndDeletesOnlyUnusedFiles) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  SetUpKoi(*t.db);
  if (HasFatalFailure()) return;
  const std::string jpeg = std::string("\xFF\xD8\xFF\xE0", 4) + std::string(100, 'j');
  auto poster = media_->Upload(admin_, "image", "海报.png", "image/png", kPng);
  clock_.Advance(1000);
  auto prices = media_->Upload(admin_, "file", "价目表_100%.pdf", "application/pdf", "%PDF-1.4 prices");
  clock_.Advance(1000);
  auto store = media_->Upload(admin_, "image", "门店.jpg", "image/jpeg", jpeg);
  ASSERT_TRUE(poster.ok() && prices.ok() && store.ok());

  auto names = [](const accounts::Paged<MediaService::LibraryItem>& p) {
    std::vector<std::string> out;
    for (const auto& it : p.items) out.push_back(it.media.filename);
    return out;
  };
  auto all = media_->List(admin_.team, "", "", 1, 20);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->total, 3);
  EXPECT_EQ(names(*all), (std::vector<std::string>{"门店.jpg", "价目表_100%.pdf", "海报.png"}));
  EXPECT_EQ(all->items[0].created_by, "王");
  EXPECT_EQ(all->items[0].media.expires_at_ms, all->items[0].uploaded_at_ms + kMediaLifetimeMs);
  EXPECT_EQ(names(*media_->List(admin_.team, "image", "", 1, 20)), (std::vector<std::string>{"门店.jpg", "海报.png"}));
  EXPECT_EQ(names(*media_->List(admin_.team, "", "100%", 1, 20)), std::vector<std::string>{"价目表_100%.pdf"});
  EXPECT_EQ(names(*media_->List(admin_.team, "", "PDF", 1, 20)), std::vector<std::string>{"价目表_100%.pdf"});
  EXPECT_EQ(media_->List(admin_.team, "", "表%1", 1, 20)->total, 0);  // % is a character, not a wildcard
  auto second = media_->List(admin_.team, "", "", 2, 2);
  EXPECT_EQ(second->total, 3);
  EXPECT_EQ(names(*second), std::vector<std::string>{"海报.png"});
  EXPECT_EQ(media_->List(admin_.team, "voice", "", 1, 20).status().reason(), "media_type_invalid");

  // Another member may not delete the admin's file; nobody deletes another team's.
  auto m = accounts_->AddMember(admin_, "13900000002", "小林", {});
  ASSERT_TRUE(m.ok());
  accounts::Principal member{.team = admin_.team, .account = m->id, .role = accounts::Role::kMember,
                             .phone = "13900000002", .name = "小林"};
  EXPECT_EQ(media_->Delete(member, store->id, {}).reason(), "media_not_yours");
  auto other = accounts_->CreateTeam({.phone = "13700000001", .password = "secret123", .team_name = "乙", .name = "李"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(media_->Delete(*other, store->id, {}).reason(), "media_not_found");
  EXPECT_EQ(media_->List(other->team, "", "", 1, 20)->total, 0);

  // A draft uses the poster: it stays until the draft is sent or deleted.
  auto draft = [&](const std::string& state, const std::string& media_id) {
    json::object content{{"text", {{"content", "新品"}}},
                         {"attachments", json::array{{{"type", "image"}, {"media_id", media_id}}}}};
    ASSERT_TRUE(t.db->Exec("INSERT INTO mass_messages (team_id, kind, title, content, target, state, rule_pack, "
                           "send_at, created_by, created_at, updated_at) VALUES (?, 'corp', '新品海报', ?, '{}', ?, "
                           "'wecom-2025', 0, ?, 0, 0)",
                           {admin_.team.value(), json::serialize(content), state, admin_.account.value()}).ok());
  };
  draft("draft", poster->media_id);
  Status in_use = media_->Delete(admin_, poster->id, {});
  EXPECT_EQ(in_use.reason(), "media_in_use");
  EXPECT_NE(in_use.message().find("新品海报"), std::string::npos);
  draft("sent", store->media_id);  // a sent message does not hold its file
  ASSERT_TRUE(media_->Delete(admin_, store->id, {.ip = "10.0.0.3", .user_agent = ""}).ok());
  EXPECT_EQ(media_->File(admin_.team, store->media_id).status().reason(), "media_not_found");
  EXPECT_EQ(media_->List(admin_.team, "", "", 1, 20)->total, 2);
  EXPECT_EQ(media_->Delete(admin_, store->id, {}).reason(), "media_not_found");
  // A composer opened before the delete cannot save the deleted file afterwards; other ids pass.
  auto not_deleted = [&](TeamId team, const std::string& media_id) {
    return t.db->Transact([&](storage::Session& tx) { return media_->NotDeleted(tx, team, {media_id}); });
  };
  EXPECT_EQ(not_deleted(admin_.team, store->media_id).reason(), "media_not_found");
  EXPECT_TRUE(not_deleted(admin_.team, poster->media_id).ok());
  EXPECT_TRUE(not_deleted(other->team, store->media_id).ok());
  EXPECT_TRUE(not_deleted(admin_.team, "uploaded-elsewhere").ok());
  // A week on (WeCom itself has long forgotten the id) the nightly job forgets it too.
  EXPECT_EQ(*media_->PurgeDeletedIds(), 0);
  clock_.Advance(8 * 86'400'000LL);
  EXPECT_EQ(*media_->PurgeDeletedIds(), 1);
  EXPECT_TRUE(not_deleted(admin_.team, store->media_id).ok());
  EXPECT_EQ(Lines(*t.db, "SELECT action, detail, ip FROM audit_log WHERE team_id = ? AND action = 'media.deleted'",
                  {admin_.team.value()}),
            std::vector<std::string>{"media.deleted|门店.jpg|10.0.0.3|"});
  // The uploader deletes their own file.
  auto own = media_->Upload(member, "file", "小林的清单.txt", "text/plain", "member's list");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(media_->Delete(member, own->id, {}).ok());
}

INSTANTIATE_TEST_SUITE_P(Engines, MediaTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::messaging
