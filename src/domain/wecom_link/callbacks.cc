#include "domain/wecom_link/callbacks.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

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

Result<CallbackReceipt> CallbackInbox::Receive(const CallbackRequest& req) {
  auto envelope = wecom::ParseEncryptedEnvelope(req.body);
  if (!envelope.ok()) return Refuse(req.corp_id, envelope.status());
  CorpKeys keys;
  KOI_ASSIGN_OR_RETURN(std::string plain, Open(req, envelope->encrypt, keys));
  auto message = wecom::ParseXmlMessage(plain);
  if (!message.ok()) return Refuse(req.corp_id, message.status());
  // Self-built and agency apps name the event in <Event>; third-party data callbacks in <InfoType>.
  std::string event = message->Get("Event");
  if (event.empty()) event = message->Get("InfoType");
  std::string created = message->Get("CreateTime");
  if (created.empty()) created = message->Get("TimeStamp");
  PendingRow row{.team = keys.team,
                 .nonce_key = req.timestamp + ":" + req.nonce,
                 .digest = accounts::Sha256Hex(plain),
                 .event = event.substr(0, 64),
                 .change_type = message->Get("ChangeType").substr(0, 64),
                 .payload = std::move(plain),
                 .create_time = std::atoll(created.c_str())};
  if (Status s = Store(row); !s.ok()) {
    if (s.reason() == "callback_replayed") return Refuse(req.corp_id, s);
    spdlog::error("wecom callback for corp {} not stored: {}", req.corp_id, s.ToString());
    return s;
  }
  if (on_stored_ && !row.receipt.duplicate) on_stored_();
  return row.receipt;
}

Status CallbackInbox::Store(PendingRow& row) {
  std::unique_lock lock(mu_);
  queue_.push_back(&row);
  while (!row.done) {
    if (committing_) {
      committed_.wait(lock);
      continue;
    }
    // Leader: take everything queued so far (this row included) and commit it in one transaction.
    committing_ = true;
    std::vector<PendingRow*> batch;
    batch.swap(queue_);
    lock.unlock();
    try {
      CommitBatch(batch);
    } catch (const std::exception& e) {  // never leave the followers waiting on a leader that is gone
      for (auto* r : batch) r->result = Status::Internal("callback_store_failed", e.what());
    }
    lock.lock();
    for (auto* r : batch) r->done = true;
    committing_ = false;
    committed_.notify_all();
  }
  return row.result;
}

void CallbackInbox::CommitBatch(const std::vector<PendingRow*>& batch) {
  const int64_t now = clock_.NowMillis();
  Status s = db_.Transact([&](storage::Session& tx) -> Status {
    for (auto* r : batch) {
      r->result = Status::Ok();
      r->receipt = {.event = r->event, .change_type = r->change_type};
      KOI_ASSIGN_OR_RETURN(auto ins, tx.Query("INSERT INTO wecom_events (team_id, nonce_key, digest, event, "
                                              "change_type, create_time, payload, received_at) VALUES (?, ?, ?, ?, ?, "
                                              "?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                                              {r->team.value(), r->nonce_key, r->digest, r->event, r->change_type,
                                               r->create_time, r->payload, now}));
      if (!ins.rows.empty()) {
        r->receipt.event_id = ins.rows[0].Int(0);
        continue;
      }
      // Nothing inserted: either this timestamp and nonce were used before (a replay), or the same event arrived
      // again in a new request (a retry).
      KOI_ASSIGN_OR_RETURN(auto seen, tx.Query("SELECT 1 FROM wecom_events WHERE team_id = ? AND nonce_key = ?",
                                               {r->team.value(), r->nonce_key}));
      if (!seen.rows.empty())
        r->result = Status::AlreadyExists("callback_replayed", "a callback with this timestamp and nonce was received "
                                                               "before");
      else
        r->receipt.duplicate = true;
    }
    return Status::Ok();
  });
  if (!s.ok())
    for (auto* r : batch) r->result = s;
}

}  // namespace koi::wecom_link
