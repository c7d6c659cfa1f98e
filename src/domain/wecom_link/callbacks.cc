#include "domain/wecom_link/callbacks.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <future>
#include <limits>
#include <memory>

#include "domain/accounts/secrets.h"
#include "wecom/protocol/xml.h"

namespace koi::wecom_link {
namespace {

constexpr int64_t kKeysTtlMs = 30'000;

Status Refuse(const std::string& corp_id, Status status) {
  spdlog::warn("wecom callback for corp {} refused: {} ({})", corp_id, status.reason(), status.message());
  return status;
}

}  // namespace

CallbackInbox::CallbackInbox(storage::Database& db, const Clock& clock, const SecretBox& box,
                             std::function<void()> on_stored)
    : db_(db),
      clock_(clock),
      box_(box),
      on_stored_(std::move(on_stored)),
      remembered_gauge_(MetricsRegistry::Default().GetGauge(
          "koi_wecom_callbacks_remembered", "Callbacks the inbox remembers to tell WeCom's retries and replays apart")) {
  writer_ = std::thread([this] { WriterLoop(); });
}

CallbackInbox::~CallbackInbox() { Stop(); }

void CallbackInbox::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  std::lock_guard lock(join_mu_);
  if (writer_.joinable()) writer_.join();
}

void CallbackInbox::Forget(const std::string& corp_id) {
  std::lock_guard lock(keys_mu_);
  keys_.erase(corp_id);
}

Result<CallbackInbox::CorpKeys> CallbackInbox::Keys(const std::string& corp_id) {
  const int64_t now = clock_.NowMillis();
  {
    std::lock_guard lock(keys_mu_);
    auto it = keys_.find(corp_id);
    if (it != keys_.end() && now - it->second.loaded_at_ms < kKeysTtlMs) return it->second;
  }
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT team_id, callback_token_enc, callback_aes_key_enc FROM wecom_corps "
                                         "WHERE corp_id = ?",
                                         {corp_id}));
  if (r.rows.empty())
    return Status::NotFound("callback_unknown_corp", "no team has linked this WeCom corp");
  KOI_ASSIGN_OR_RETURN(std::string token, box_.Open(r.rows[0].Text(1)));
  KOI_ASSIGN_OR_RETURN(std::string aes_key, box_.Open(r.rows[0].Text(2)));
  KOI_ASSIGN_OR_RETURN(auto keys, wecom::MakeCallbackKeys(token, aes_key, corp_id));
  CorpKeys out{TeamId(r.rows[0].Int(0)), std::move(keys), now};
  std::lock_guard lock(keys_mu_);
  keys_[corp_id] = out;
  return out;
}

std::optional<CallbackInbox::CorpKeys> CallbackInbox::CachedKeys(const std::string& corp_id) {
  const int64_t now = clock_.NowMillis();
  std::lock_guard lock(keys_mu_);
  auto it = keys_.find(corp_id);
  if (it != keys_.end() && now - it->second.loaded_at_ms < kKeysTtlMs) return it->second;
  return std::nullopt;
}

Status CheckCallbackRequest(const CallbackRequest& req, const std::string& cipher, int64_t now_s) {
  if (req.msg_signature.empty() || req.timestamp.empty() || req.nonce.empty() || cipher.empty())
    return Status::InvalidArgument("callback_bad_request", "msg_signature, timestamp, nonce and the message are required");
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(req.timestamp.data(), req.timestamp.data() + req.timestamp.size(), ts);
  if (ec != std::errc() || end != req.timestamp.data() + req.timestamp.size())
    return Status::InvalidArgument("callback_bad_request", "timestamp must be Unix seconds");
  if (std::llabs(now_s - ts) > CallbackInbox::kMaxClockSkewS)
    return Status::Unauthenticated("callback_stale_timestamp", "the timestamp is more than five minutes away from now");
  return Status::Ok();
}

Result<std::string> DecryptSignedCallback(const wecom::CallbackKeys& keys, const CallbackRequest& req,
                                          const std::string& cipher) {
  if (Status s = wecom::VerifyCallbackSignature(keys, req.msg_signature, req.timestamp, req.nonce, cipher); !s.ok())
    return Status::Unauthenticated(s.reason(), s.message());
  auto plain = wecom::DecryptCallback(keys, cipher);
  if (!plain.ok() && plain.status().reason() == "callback_receiveid_mismatch")
    return Status::PermissionDenied(plain.status().reason(), plain.status().message());
  return plain;
}

Result<std::string> CallbackInbox::Open(const CallbackRequest& req, const std::string& cipher, CorpKeys& keys) {
  if (Status s = CheckCallbackRequest(req, cipher, clock_.NowSeconds()); !s.ok()) return Refuse(req.corp_id, s);
  auto found = Keys(req.corp_id);
  if (!found.ok()) return Refuse(req.corp_id, found.status());
  keys = std::move(*found);
  auto plain = DecryptSignedCallback(keys.keys, req, cipher);
  if (!plain.ok()) return Refuse(req.corp_id, plain.status());
  return plain;
}

Result<std::string> CallbackInbox::VerifyUrl(const CallbackRequest& req) {
  CorpKeys keys;
  return Open(req, req.echostr, keys);
}

void CallbackInbox::ReceiveAsync(CallbackRequest req, Done done) {
  auto envelope = wecom::ParseEncryptedEnvelope(req.body);
  if (!envelope.ok()) return done(Refuse(req.corp_id, envelope.status()));
  if (Status s = CheckCallbackRequest(req, envelope->encrypt, clock_.NowSeconds()); !s.ok())
    return done(Refuse(req.corp_id, s));
  Pending p;
  p.corp_id = req.corp_id;
  p.done = std::move(done);
  if (auto keys = CachedKeys(req.corp_id)) {
    if (Status s = Fill(req, envelope->encrypt, *keys, p); !s.ok()) return p.done(s);
  } else {  // reading the keys means reading the database: the writer does it
    p.cipher = std::move(envelope->encrypt);
    p.request = std::move(req);
  }
  Enqueue(std::move(p));
}

Result<CallbackReceipt> CallbackInbox::Receive(const CallbackRequest& req) {
  auto answer = std::make_shared<std::promise<Result<CallbackReceipt>>>();
  auto answered = answer->get_future();
  ReceiveAsync(req, [answer](Result<CallbackReceipt> r) { answer->set_value(std::move(r)); });
  return answered.get();
}

Status CallbackInbox::Fill(const CallbackRequest& req, const std::string& cipher, const CorpKeys& keys, Pending& p) {
  auto plain = DecryptSignedCallback(keys.keys, req, cipher);
  if (!plain.ok()) return Refuse(req.corp_id, plain.status());
  auto message = wecom::ParseXmlMessage(*plain);
  if (!message.ok()) return Refuse(req.corp_id, message.status());
  // Self-built and agency apps name the event in <Event>; third-party data callbacks in <InfoType>.
  std::string event = message->Get("Event");
  if (event.empty()) event = message->Get("InfoType");
  std::string created = message->Get("CreateTime");
  if (created.empty()) created = message->Get("TimeStamp");
  p.team = keys.team;
  p.nonce_key = req.timestamp + ":" + req.nonce;
  p.digest = accounts::Sha256Hex(*plain).substr(0, 32);  // 128 bits tell messages apart; half the bytes to write
  p.event = event.substr(0, 64);
  p.change_type = message->Get("ChangeType").substr(0, 64);
  p.payload = std::move(*plain);
  p.create_time = std::atoll(created.c_str());
  return Status::Ok();
}

void CallbackInbox::Enqueue(Pending p) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    return p.done(Status::Unavailable("callback_inbox_stopped", "Koi is stopping; WeCom will deliver this again"));
  }
  // The writer waits only on an empty queue; while it commits, the queue gathers the next batch unannounced.
  const bool was_empty = queue_.empty();
  queue_.push_back(std::move(p));
  lock.unlock();
  if (was_empty) wake_.notify_one();
}

void CallbackInbox::WriterLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued was answered
      batch.swap(queue_);
    }
    bool stored = false;
    try {
      stored = CommitBatch(batch);
    } catch (const std::exception& e) {  // never leave a caller without its answer
      spdlog::error("wecom callbacks not stored: {}", e.what());
      for (auto& p : batch)
        if (p.result.ok()) p.result = Status::Internal("callback_store_failed", e.what());
    }
    for (auto& p : batch) {
      try {
        if (p.result.ok())
          p.done(std::move(p.receipt));
        else
          p.done(std::move(p.result));
      } catch (const std::exception& e) {
        spdlog::error("answering a wecom callback failed: {}", e.what());
      }
    }
    batch.clear();
    if (stored && on_stored_) on_stored_();
  }
}

bool CallbackInbox::CommitBatch(std::vector<Pending>& batch) {
  std::vector<Pending*> rows;
  rows.reserve(batch.size());
  for (auto& p : batch) {
    if (p.request) {  // its corp's keys were not cached when it arrived
      auto keys = Keys(p.corp_id);
      if (!keys.ok()) {
        p.result = Refuse(p.corp_id, keys.status());
        continue;
      }
      if (Status s = Fill(*p.request, p.cipher, *keys, p); !s.ok()) {
        p.result = s;
        continue;
      }
    }
    rows.push_back(&p);
  }
  if (rows.empty()) return false;
  if (!recent_loaded_) {
    if (Status s = LoadRecent(); !s.ok()) {
      spdlog::error("{} wecom callbacks not stored: reading the recent ones failed: {}", rows.size(), s.ToString());
      for (auto* r : rows) r->result = s;
      return false;
    }
    recent_loaded_ = true;
  }
  const int64_t now = clock_.NowMillis();
  auto recent_key = [](const Pending& r) {
    return RecentCallbacks::Callback{.team = r.team.value(), .digest = r.digest, .nonce_key = r.nonce_key};
  };
  auto replayed = [] {
    return Status::AlreadyExists("callback_replayed", "a callback with this timestamp and nonce was received before");
  };
  // What memory knows decides first: a replay is refused without touching the database; a retry only records its
  // nonce. The rest are new here (on PostgreSQL the unique index may still find one stored by another node).
  std::vector<Pending*> fresh, retries;
  for (auto* r : rows) {
    switch (recent_.See(recent_key(*r), now)) {
      case RecentCallbacks::Seen::kNew: fresh.push_back(r); break;
      case RecentCallbacks::Seen::kRetry: retries.push_back(r); break;
      case RecentCallbacks::Seen::kReplay: r->result = replayed(); break;
    }
  }
  bool stored = false;
  // PostgreSQL only: the new-here messages the unique index found stored before (by another node), with the nonce
  // they were first stored with; memory is corrected to match after the commit.
  std::vector<std::pair<Pending*, std::string>> stored_elsewhere;
  // Nothing of the batch was stored: memory forgets it too, so WeCom's next delivery is taken as it should be.
  auto forget_batch = [&] {
    for (auto* r : retries) recent_.Unsee(recent_key(*r), RecentCallbacks::Seen::kRetry);
    for (auto* r : fresh) recent_.Unsee(recent_key(*r), RecentCallbacks::Seen::kNew);
  };
  Status s;
  try {
    s = db_.Transact([&](storage::Session& tx) -> Status {
      stored = false;
      stored_elsewhere.clear();
      for (auto* list : {&fresh, &retries})
        for (auto* r : *list) {
          r->result = Status::Ok();
          r->receipt = {.event = r->event, .change_type = r->change_type};
        }
      // The new messages in a few multi-row statements (each a round trip on PostgreSQL); a trigger queues each stored
      // row for the applier. A row that does not come back was a message stored before: it is told apart below.
      constexpr size_t kRowsPerInsert = 200;
      std::vector<Pending*> repeats;
      for (size_t from = 0; from < fresh.size(); from += kRowsPerInsert) {
        const size_t to = std::min(fresh.size(), from + kRowsPerInsert);
        std::string sql = "INSERT INTO wecom_events (team_id, nonce_key, digest, event, change_type, create_time, "
                          "payload, received_at, state) VALUES ";
        std::vector<storage::Value> params;
        params.reserve((to - from) * 8);
        for (size_t i = from; i < to; ++i) {
          const Pending& r = *fresh[i];
          sql += i == from ? "(?, ?, ?, ?, ?, ?, ?, ?, 'received')" : ", (?, ?, ?, ?, ?, ?, ?, ?, 'received')";
          for (storage::Value v :
               {storage::Value(r.team.value()), storage::Value(r.nonce_key), storage::Value(r.digest),
                storage::Value(r.event), storage::Value(r.change_type), storage::Value(r.create_time),
                storage::Value(r.payload), storage::Value(now)})
            params.push_back(std::move(v));
        }
        sql += " ON CONFLICT DO NOTHING RETURNING id, team_id, create_time, digest, nonce_key";
        KOI_ASSIGN_OR_RETURN(auto ins, tx.Query(sql, params));
        // Each returned row to a request of the chunk it is: the first such request at or after the last match. Rows
        // usually come back in the order they were inserted, though neither engine promises it: the search starts after
        // the last match and wraps around, so it is one comparison a row in the usual case.
        size_t next = from;
        for (const auto& row : ins.rows) {
          const int64_t team = row.Int(1), create_time = row.Int(2);
          const std::string digest = row.Text(3), nonce_key = row.Text(4);
          for (size_t k = 0; k < to - from; ++k) {
            const size_t i = from + (next - from + k) % (to - from);
            Pending& r = *fresh[i];
            if (r.receipt.event_id == 0 && r.team.value() == team && r.create_time == create_time &&
                r.digest == digest && r.nonce_key == nonce_key) {
              r.receipt.event_id = row.Int(0);
              stored = true;
              next = i + 1 < to ? i + 1 : from;
              break;
            }
          }
        }
        for (size_t i = from; i < to; ++i)
          if (fresh[i]->receipt.event_id == 0) repeats.push_back(fresh[i]);
      }
      // PostgreSQL only: the message was stored before by another node (or before this one's memory reaches). A
      // replayed request carries the same ciphertext, so the same message: it is a replay if its timestamp and nonce
      // are those the message came with, or those of a retry of it; otherwise it is WeCom's retry.
      std::vector<Pending*> record = retries;
      for (auto* r : repeats) {
        KOI_ASSIGN_OR_RETURN(auto first, tx.Query("SELECT nonce_key FROM wecom_events WHERE team_id = ? AND "
                                                  "create_time = ? AND digest = ?",
                                                  {r->team.value(), r->create_time, r->digest}));
        if (!first.rows.empty()) stored_elsewhere.emplace_back(r, first.rows[0].Text(0));
        if (!first.rows.empty() && first.rows[0].Text(0) == r->nonce_key)
          r->result = replayed();
        else
          record.push_back(r);
      }
      // A retry's nonce is kept, for the replay check of its own request (on other nodes, and after a restart).
      for (auto* r : record) {
        KOI_ASSIGN_OR_RETURN(auto retry, tx.Query("INSERT INTO wecom_event_nonces (team_id, nonce_key, digest, "
                                                  "received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING "
                                                  "team_id",
                                                  {r->team.value(), r->nonce_key, r->digest, now}));
        if (retry.rows.empty())
          r->result = replayed();
        else
          r->receipt.duplicate = true;
      }
      return Status::Ok();
    });
  } catch (...) {
    forget_batch();
    throw;
  }
  if (!s.ok()) {
    spdlog::error("{} wecom callbacks not stored: {}", rows.size(), s.ToString());
    forget_batch();
    // A replay refused from memory gets the failure too: its original may have been in this very batch.
    for (auto* r : rows) r->result = s;
    return false;
  }
  // What memory took for new, the database knew: the message is remembered with the nonce it was first stored with,
  // and this request as a retry of it (or as that first request, when it was a replay).
  for (const auto& [r, first_nonce] : stored_elsewhere) {
    recent_.Unsee(recent_key(*r), RecentCallbacks::Seen::kNew);
    recent_.Remember({.team = r->team.value(), .digest = r->digest, .nonce_key = first_nonce},
                     RecentCallbacks::Seen::kNew, now);
    if (first_nonce != r->nonce_key) recent_.Remember(recent_key(*r), RecentCallbacks::Seen::kRetry, now);
  }
  for (auto* r : rows)
    if (r->result.reason() == "callback_replayed") (void)Refuse(r->corp_id, r->result);
  ReportRecent();
  return stored;
}

Status CallbackInbox::LoadRecent() {
  const int64_t since = clock_.NowMillis() - RecentCallbacks::kWindowMs;
  // The first row of the window: ids follow the order of the commits, so it is found reading ids and times back from
  // the newest, a page at a time; the rows are then read forward from it as they stream, oldest first, into memory
  // (which keeps itself within its limit).
  constexpr int64_t kPage = 10'000;
  int64_t first = std::numeric_limits<int64_t>::max();
  for (bool older = false; !older;) {
    KOI_ASSIGN_OR_RETURN(auto page, db_.Query("SELECT id, received_at FROM wecom_events WHERE id < ? ORDER BY id DESC "
                                              "LIMIT ?",
                                              {first, kPage}));
    for (const auto& row : page.rows) {
      if (row.Int(1) < since) {
        older = true;
        break;
      }
      first = row.Int(0);
    }
    if (static_cast<int64_t>(page.rows.size()) < kPage) break;
  }
  int64_t remembered = 0;
  auto remember = [&](RecentCallbacks::Seen seen) {
    return [&, seen](const storage::RowView& row) -> Status {
      recent_.Remember({.team = row.Int(0), .digest = row.Text(1), .nonce_key = row.Text(2)}, seen, row.Int(3));
      ++remembered;
      return Status::Ok();
    };
  };
  KOI_RETURN_IF_ERROR(db_.QueryEach("SELECT team_id, digest, nonce_key, received_at FROM wecom_events WHERE id >= ? "
                                    "ORDER BY id",
                                    {first}, remember(RecentCallbacks::Seen::kNew)));
  // WeCom's retries, few (a table of their nonces, emptied daily): after the messages, in the minute they came.
  KOI_RETURN_IF_ERROR(db_.QueryEach("SELECT team_id, digest, nonce_key, received_at FROM wecom_event_nonces WHERE "
                                    "received_at >= ? ORDER BY received_at",
                                    {since}, remember(RecentCallbacks::Seen::kRetry)));
  if (remembered > 0) spdlog::info("wecom callbacks: {} of the last {} minutes remembered", remembered,
                                   RecentCallbacks::kWindowMs / 60'000);
  ReportRecent();
  return Status::Ok();
}

void CallbackInbox::ReportRecent() {
  remembered_gauge_.Set(static_cast<double>(recent_.size()));
  if (recent_.evicted() == evicted_reported_) return;
  spdlog::warn("wecom callbacks: {} remembered ones forgotten early to stay within {} (a replay of them would be "
               "stored again)",
               recent_.evicted() - evicted_reported_, recent_.max_entries());
  evicted_reported_ = recent_.evicted();
}

}  // namespace koi::wecom_link
