// Live sync end to end: the sandbox simulates a corp's day (customers adding and deleting employees, group traffic,
// tag edits, staff changes), delivers each change as a signed, encrypted callback to Koi's CallbackInbox the way
// WeCom does (retries included), Koi applies them with EventApplier, and its mirror ends equal to the sandbox's
// world. Also: every kind of bad callback is refused and stores nothing. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

#include "domain/wecom_link/callbacks.h"
#include "domain/wecom_link/events.h"
#include "scenario.h"
#include "storage/migrations/migrations.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
#include "wecom_fixture.h"

namespace koi::wecom_link {
namespace {

using testing::TestEngine;

constexpr const char* kToken = "koi-callback-token";

class WecomCallbacksTest : public WecomBench {
 protected:
  // Links the sandbox corp to a new team and runs the full sync to the end.
  void LinkAndSync(storage::Database& db, int customers) {
    LinkTeamAndSync(db, customers, kToken);
    if (HasFatalFailure()) return;
    inbox_ = std::make_unique<CallbackInbox>(db, clock_, box_);
    events_ = std::make_unique<EventApplier>(db, clock_, *client_, *link_);
    keys_ = wecom::MakeCallbackKeys(kToken, kAesKey, spec_.corp_id).value();
  }

  // A callback as WeCom would send it now.
  CallbackRequest Signed(const std::string& message, const std::string& nonce, int64_t skew_s = 0) {
    CallbackRequest r{.corp_id = spec_.corp_id, .timestamp = std::to_string(clock_.NowSeconds() + skew_s),
                      .nonce = nonce};
    std::string cipher = wecom::EncryptCallback(keys_, message).value();
    r.msg_signature = wecom::CallbackSignature(kToken, r.timestamp, r.nonce, cipher);
    r.body = wecom::BuildEncryptedEnvelope({spec_.corp_id, cipher, ""});
    return r;
  }

  std::string Message(const std::string& change, const std::string& userid, const std::string& ext) {
    return wecom::BuildXmlMessage({{"ToUserName", spec_.corp_id},
                                   {"FromUserName", "sys"},
                                   {"CreateTime", std::to_string(clock_.NowSeconds()), true},
                                   {"MsgType", "event"},
                                   {"Event", "change_external_contact"},
                                   {"ChangeType", change},
                                   {"UserID", userid},
                                   {"ExternalUserID", ext}});
  }

  int64_t StoredEvents(storage::Database& db) { return db.Query("SELECT COUNT(*) FROM wecom_events")->rows[0].Int(0); }

  std::unique_ptr<CallbackInbox> inbox_;
  std::unique_ptr<EventApplier> events_;
  wecom::CallbackKeys keys_;
};

TEST_P(WecomCallbacksTest, BadCallbacksAreRefusedAndStoreNothing) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 200);
  const std::string msg = Message("del_follow_user", "nobody", "wmnobody");

  // The URL check answers the decrypted echostr.
  CallbackRequest check = Signed("echo-4711", "1001");
  check.echostr = wecom::ParseEncryptedEnvelope(check.body)->encrypt;
  check.body.clear();
  EXPECT_EQ(inbox_->VerifyUrl(check).value(), "echo-4711");

  auto reason = [&](const CallbackRequest& r) { return inbox_->Receive(r).status().reason(); };
  CallbackRequest bad = Signed(msg, "2001");
  bad.msg_signature[0] = bad.msg_signature[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(reason(bad), "callback_signature_mismatch");
  EXPECT_EQ(inbox_->Receive(bad).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(reason(Signed(msg, "2002", -(CallbackInbox::kMaxClockSkewS + 1))), "callback_stale_timestamp");
  EXPECT_EQ(reason(Signed(msg, "2003", CallbackInbox::kMaxClockSkewS + 1)), "callback_stale_timestamp");
  bad = Signed(msg, "2004");
  bad.corp_id = "wwunknowncorp";
  EXPECT_EQ(reason(bad), "callback_unknown_corp");
  bad = Signed(msg, "2005");
  bad.nonce.clear();
  EXPECT_EQ(reason(bad), "callback_bad_request");
  bad = Signed(msg, "2006");
  bad.body = "<xml><ToUserName>x</ToUserName>";
  EXPECT_EQ(reason(bad), "callback_bad_envelope");

  // Well signed but badly made: the signature covers whatever ciphertext was sent.
  auto signed_cipher = [&](const std::string& cipher, const std::string& nonce) {
    CallbackRequest r{.corp_id = spec_.corp_id, .timestamp = std::to_string(clock_.NowSeconds()), .nonce = nonce};
    r.msg_signature = wecom::CallbackSignature(kToken, r.timestamp, r.nonce, cipher);
    r.body = wecom::BuildEncryptedEnvelope({spec_.corp_id, cipher, ""});
    return r;
  };
  EXPECT_EQ(reason(signed_cipher("not*base64!", "3001")), "callback_bad_base64");
  // 32 bytes that are not our encryption: the padding (or the length inside) is wrong.
  std::string junk = reason(signed_cipher("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "3002"));
  EXPECT_TRUE(junk == "callback_decrypt_failed" || junk == "callback_bad_buffer") << junk;
  auto other_keys = wecom::MakeCallbackKeys(kToken, kAesKey, "wwsomeoneelse0001").value();
  auto wrong_receiver = signed_cipher(wecom::EncryptCallback(other_keys, msg).value(), "3003");
  EXPECT_EQ(reason(wrong_receiver), "callback_receiveid_mismatch");
  EXPECT_EQ(inbox_->Receive(wrong_receiver).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(StoredEvents(*t.db), 0);

  // A good one is stored once. The same request again is a replay; the same event re-sent by WeCom in a new
  // request (new nonce, new encryption) is accepted as a duplicate and not stored twice.
  CallbackRequest good = Signed(msg, "4001");
  auto first = inbox_->Receive(good);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_GT(first->event_id, 0);
  EXPECT_EQ(first->change_type, "del_follow_user");
  EXPECT_EQ(reason(good), "callback_replayed");
  EXPECT_EQ(inbox_->Receive(good).status().code(), StatusCode::kAlreadyExists);
  CallbackRequest retry = Signed(msg, "4002");
  auto again = inbox_->Receive(retry);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(StoredEvents(*t.db), 1);
  // The retry's own request replayed is a replay too.
  EXPECT_EQ(reason(retry), "callback_replayed");
  EXPECT_EQ(StoredEvents(*t.db), 1);

  // Another team's corp keys cannot speak for this corp, and the stored event belongs to this team only.
  EXPECT_EQ(t.db->Query("SELECT team_id FROM wecom_events")->rows[0].Int(0), admin_.team.value());
  EXPECT_EQ(events_->Counts(admin_.team)->pending, 1);
  EXPECT_EQ(events_->Counts(admin_.team)->done, 0);
  EXPECT_EQ(events_->Counts(TeamId(admin_.team.value() + 1))->pending, 0);
}

// The HTTP route starts callbacks without waiting; the inbox's writer commits whatever has gathered in one
// transaction and answers each caller after it. Many at once: each answered once, each stored once, the replay
// refused even when its original commits in the same batch, and callbacks arriving before the corp's keys are cached
// (opened on the writer) treated like the rest. After Stop, callbacks are refused with a status WeCom retries.
TEST_P(WecomCallbacksTest, ManyCallbacksAtOnceAreEachAnsweredAfterTheirCommit) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 200);
  constexpr int kCallbacks = 300;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<CallbackReceipt>> answers;
  auto done = [&](Result<CallbackReceipt> r) {
    std::lock_guard lock(mu);
    answers.push_back(std::move(r));
    cv.notify_all();
  };
  CallbackRequest twice = Signed(Message("del_follow_user", "u-twice", "wm-twice"), "5000");
  inbox_->ReceiveAsync(twice, done);
  for (int i = 0; i < kCallbacks; ++i) {
    inbox_->ReceiveAsync(Signed(Message("del_follow_user", "u" + std::to_string(i), "wm" + std::to_string(i)),
                                std::to_string(6000 + i)),
                         done);
    if (i == kCallbacks / 2) inbox_->ReceiveAsync(twice, done);
  }
  bool all_answered = false;
  {
    std::unique_lock lock(mu);
    all_answered = cv.wait_for(lock, std::chrono::seconds(60), [&] { return answers.size() == kCallbacks + 2; });
  }
  if (!all_answered) inbox_->Stop();  // answers everyone still queued before `answers` goes away
  ASSERT_TRUE(all_answered);
  std::set<int64_t> ids;
  int replayed = 0;
  for (const auto& a : answers) {
    if (!a.ok()) {
      EXPECT_EQ(a.status().reason(), "callback_replayed");
      ++replayed;
      continue;
    }
    EXPECT_FALSE(a->duplicate);
    ids.insert(a->event_id);
  }
  EXPECT_EQ(replayed, 1);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCallbacks + 1));
  EXPECT_EQ(StoredEvents(*t.db), kCallbacks + 1);

  inbox_->Stop();
  auto late = inbox_->Receive(Signed(Message("del_follow_user", "u-late", "wm-late"), "9000"));
  EXPECT_EQ(late.status().reason(), "callback_inbox_stopped");
  EXPECT_EQ(late.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(StoredEvents(*t.db), kCallbacks + 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(answers.size(), static_cast<size_t>(kCallbacks + 2)) << "nobody was answered twice";
}

// What the inbox remembers to tell retries and replays apart survives a restart: a new inbox reads the last ten
// minutes back before its first batch. Past the window a message is stored again (applying it twice is harmless),
// and a batch that was not stored is forgotten, so WeCom's next delivery of it is stored.
TEST_P(WecomCallbacksTest, RetriesAndReplaysAreKnownAfterARestartWithinTheWindow) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 50);
  auto reason = [&](const CallbackRequest& r) { return inbox_->Receive(r).status().reason(); };
  const std::string msg = Message("del_follow_user", "u-restart", "wm-restart");
  CallbackRequest first = Signed(msg, "7001");
  ASSERT_TRUE(inbox_->Receive(first).ok());
  clock_.Advance(20'000);
  CallbackRequest retry = Signed(msg, "7002");
  ASSERT_TRUE(inbox_->Receive(retry)->duplicate);

  // A restart: a new inbox over the same database.
  inbox_ = std::make_unique<CallbackInbox>(*t.db, clock_, box_);
  clock_.Advance(4 * 60'000);  // the first request's timestamp is still accepted
  EXPECT_EQ(reason(first), "callback_replayed");
  EXPECT_EQ(reason(retry), "callback_replayed");
  auto again = inbox_->Receive(Signed(msg, "7003"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(StoredEvents(*t.db), 1);

  // Twelve minutes after the last delivery: WeCom no longer retries it; a delivery now is stored as a new event.
  clock_.Advance(12 * 60'000);
  auto late = inbox_->Receive(Signed(msg, "7004"));
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  if (GetParam() == TestEngine::kSqlite) {
    EXPECT_FALSE(late->duplicate);
    EXPECT_EQ(StoredEvents(*t.db), 2);
  } else {  // PostgreSQL's unique index still knows it
    EXPECT_TRUE(late->duplicate);
    EXPECT_EQ(StoredEvents(*t.db), 1);
  }

  // A batch whose transaction fails stores nothing and is forgotten: the same request later is stored, not refused
  // as a replay.
  const std::string other = Message("del_follow_user", "u-failed", "wm-failed");
  CallbackRequest failing = Signed(other, "7100");
  ASSERT_TRUE(t.db->Exec("ALTER TABLE wecom_events RENAME TO wecom_events_away").ok());
  EXPECT_FALSE(inbox_->Receive(failing).ok());
  ASSERT_TRUE(t.db->Exec("ALTER TABLE wecom_events_away RENAME TO wecom_events").ok());
  auto stored = inbox_->Receive(failing);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_GT(stored->event_id, 0);
  EXPECT_FALSE(stored->duplicate);
}

// PostgreSQL may serve several Koi nodes, each with its own memory: what one stored, another learns from the
// database's unique index — and remembers as the database has it, so a replay of the first node's request is still
// refused after the second node saw a retry.
TEST_P(WecomCallbacksTest, TwoNodesOnPostgresqlTellRetriesAndReplaysApart) {
  if (GetParam() != TestEngine::kPostgres) GTEST_SKIP() << "SQLite serves one node";
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 50);
  CallbackInbox other(*t.db, clock_, box_);  // a second node, running before the first stores the message
  ASSERT_TRUE(other.Receive(Signed(Message("del_follow_user", "u-before", "wm-before"), "8000")).ok());
  const std::string msg = Message("del_follow_user", "u-nodes", "wm-nodes");
  CallbackRequest first = Signed(msg, "8001");
  ASSERT_TRUE(inbox_->Receive(first).ok());
  CallbackRequest retry = Signed(msg, "8002");
  auto at_other = other.Receive(retry);
  ASSERT_TRUE(at_other.ok()) << at_other.status().ToString();
  EXPECT_TRUE(at_other->duplicate);
  EXPECT_EQ(other.Receive(first).status().reason(), "callback_replayed");
  EXPECT_EQ(other.Receive(retry).status().reason(), "callback_replayed");
  EXPECT_EQ(inbox_->Receive(retry).status().reason(), "callback_replayed");
  EXPECT_EQ(StoredEvents(*t.db), 2);
  other.Stop();
}

TEST_P(WecomCallbacksTest, ScriptedEventsByCallbackLeaveTheMirrorEqualToTheSandbox) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 10000);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  ASSERT_TRUE(sandbox::ConfigureCallback(*world_, spec_.corp_id,
                                         "http://koi.test/api/v1/wecom/callback/" + spec_.corp_id, kToken, kAesKey)
                  .ok());

  // 500 changes in the sandbox, each queued as a callback.
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 7);
  auto script = scenario.Script(500);
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  std::map<std::string, int> by_action;
  for (const auto& e : *script) {
    ++by_action[e.action];
    EXPECT_GT(e.outbox_id, 0);
  }
  EXPECT_GE(by_action.size(), 12u);  // the mix reaches (nearly) every action

  // WeCom delivers; Koi is down for the first 40 tries (503), which WeCom retries 5 s later.
  int refused = 0;
  sandbox::CallbackDeliverer deliverer(*world_, clock_, [&](const std::string& url, const std::string& body) -> Result<int> {
    if (refused < 40) {
      ++refused;
      return 503;
    }
    auto receipt = inbox_->Receive(RequestFromUrl(url, body));
    if (receipt.ok()) return 200;
    ADD_FAILURE() << receipt.status().ToString();
    return 400;
  });
  int delivered = 0;
  for (int round = 0; round < 20 && delivered < 500; ++round) {
    auto stats = deliverer.DeliverDue(1000);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->failed, 0);
    delivered += stats->delivered;
    clock_.Advance(sandbox::CallbackDeliverer::kRetryAfterMs);
  }
  EXPECT_EQ(delivered, 500);
  // The fake clock stands still, so a few changes repeat an earlier one word for word (the same group renamed
  // twice in one second): those are one event to Koi, and applying it once is the same as twice.
  const int64_t distinct = world_->Query("SELECT COUNT(DISTINCT message) FROM callback_outbox")->rows[0].Int(0);
  EXPECT_GT(distinct, 450);
  EXPECT_EQ(StoredEvents(*t.db), distinct);

  auto applied = events_->ApplyPending(nullptr);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->applied, distinct);
  EXPECT_EQ(applied->failed, 0);
  EXPECT_EQ(applied->deferred, 0);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  // Churn keeps its history: relationships deleted on either side are marked, not dropped.
  const int64_t lost = t.db->Query("SELECT COUNT(*) FROM wecom_follows WHERE deleted_by = 'customer'")->rows[0].Int(0);
  EXPECT_GT(lost, 0);
  EXPECT_LE(lost, by_action["customer-deletes"]);

  // WeCom delivers everything a second time (new requests): nothing is stored or applied twice.
  ASSERT_TRUE(world_->Exec("UPDATE callback_outbox SET state = 'pending', attempts = 0, next_at = 0").ok());
  ASSERT_TRUE(deliverer.DeliverDue(1000).ok());
  EXPECT_EQ(StoredEvents(*t.db), distinct);
  EXPECT_EQ(events_->ApplyPending(nullptr)->applied, 0);

  // A full sync afterwards (the nightly reconcile) finds nothing to change.
  ASSERT_TRUE(link_->StartFullSync(admin_.team).ok());
  ASSERT_TRUE(RunSyncOnce(*queue_, *link_).ok());
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
}

TEST_P(WecomCallbacksTest, AnOutageDefersEventsInOrderAndTheyApplyLater) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 300);
  ASSERT_TRUE(sandbox::ConfigureCallback(*world_, spec_.corp_id, "http://koi.test/cb/" + spec_.corp_id, kToken,
                                         kAesKey).ok());
  sandbox::Scenario scenario(*world_, clock_, spec_.corp_id, 11);
  auto added = scenario.Run("add-customer");
  ASSERT_TRUE(added.ok());
  auto left = scenario.Run("customer-deletes", {{"userid", added->ids["userid"]},
                                                {"external_userid", added->ids["external_userid"]}});
  ASSERT_TRUE(left.ok()) << left.status().ToString();
  sandbox::CallbackDeliverer deliverer(*world_, clock_, [&](const std::string& url, const std::string& body) -> Result<int> {
    return inbox_->Receive(RequestFromUrl(url, body)).ok() ? 200 : 400;
  });
  EXPECT_EQ(deliverer.DeliverDue()->delivered, 2);

  down_after_ = calls_;  // WeCom's API is unreachable: the add cannot be fetched
  auto deferred = events_->ApplyPending(nullptr);
  ASSERT_TRUE(deferred.ok());
  EXPECT_EQ(deferred->applied, 0);
  EXPECT_EQ(deferred->deferred, 2);  // the delete waits behind the add, keeping the order
  EXPECT_EQ(events_->Counts(admin_.team)->pending, 2);

  down_after_ = -1;
  auto later = events_->ApplyPending(nullptr);
  EXPECT_EQ(later->applied, 2);
  auto counts = events_->Counts(admin_.team);
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->done, 2);
  EXPECT_EQ(counts->failed, 0);
  ExpectMirrorEqualsWorld(*t.db, admin_.team);
  // The customer came and went: one lost relationship, by the customer.
  auto row = t.db->Query("SELECT deleted_by FROM wecom_follows WHERE external_userid = ?",
                         {added->ids["external_userid"]});
  ASSERT_EQ(row->rows.size(), 0u) << "a customer who left before Koi fetched them is never mirrored";
}

// An event that cannot be applied is marked failed on its row, with the error, and leaves the queue; an applied one
// leaves the queue and its row stays as it came. The nightly purge removes both after 30 days, never a queued one.
TEST_P(WecomCallbacksTest, AFailedEventIsMarkedAndOldEventsArePurged) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  LinkAndSync(*t.db, 10);
  auto put = [&](const std::string& digest, const std::string& payload) {  // queued by the table's trigger
    return t.db->Query("INSERT INTO wecom_events (team_id, nonce_key, digest, event, change_type, create_time, "
                       "payload, received_at, state) VALUES (?, ?, ?, 'x', '', 0, ?, ?, 'received') RETURNING id",
                       {admin_.team.value(), digest, digest, payload, clock_.NowMillis()})->rows[0].Int(0);
  };
  const int64_t broken = put("a", "<xml><Event>not closed");
  put("b", "<xml><Event><![CDATA[something_new]]></Event></xml>");
  EXPECT_EQ(events_->Counts(admin_.team)->pending, 2);
  auto stats = events_->ApplyPending(nullptr);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->applied, 1);
  auto counts = events_->Counts(admin_.team);
  EXPECT_EQ(counts->pending, 0);
  EXPECT_EQ(counts->done, 1);
  EXPECT_EQ(counts->failed, 1);
  auto row = t.db->Query("SELECT state, attempts, error FROM wecom_events WHERE id = ?", {broken});
  EXPECT_EQ(row->rows[0].Text(0), "failed");
  EXPECT_EQ(row->rows[0].Int(1), 1);
  EXPECT_NE(row->rows[0].Text(2), "");
  EXPECT_EQ(t.db->Query("SELECT COUNT(*) FROM wecom_event_queue")->rows[0].Int(0), 0);
  // Applying again finds nothing to do.
  EXPECT_EQ(events_->ApplyPending(nullptr)->applied + events_->ApplyPending(nullptr)->failed, 0);

  const int64_t waiting = put("c", "<xml><Event><![CDATA[something_new]]></Event></xml>");
  clock_.Advance(31 * 86'400'000LL);
  auto purged = events_->PurgeApplied();
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2);
  auto left = t.db->Query("SELECT id FROM wecom_events");
  ASSERT_EQ(left->rows.size(), 1u);
  EXPECT_EQ(left->rows[0].Int(0), waiting);
}

INSTANTIATE_TEST_SUITE_P(Engines, WecomCallbacksTest, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

}  // namespace
}  // namespace koi::wecom_link
