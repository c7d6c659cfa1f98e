// CallbackInbox: the front door for WeCom's callbacks (../shared/specs/wecom-api.md §1 and §12).
//
// WeCom POSTs every contact, customer, group and tag change to the URL the admin configured
// (/api/v1/wecom/callback/<corp_id>) and gives each delivery 5 seconds; it retries twice more on anything but a
// 200. Receive() therefore does only what must happen before the 200: find the corp, check the timestamp is
// within five minutes, verify msg_signature, decrypt (which also checks the receiveid is the corp id), parse the
// event, and store it durably in wecom_events. Applying the event to the mirror happens later, in the
// wecom.apply_events job (EventApplier).
//
// Refusals (nothing is stored, a warning is logged with the corp and the reason, never the payload or secrets):
//   callback_unknown_corp (404), callback_bad_request (400: a missing parameter), callback_stale_timestamp (401),
//   callback_signature_mismatch (401), callback_replayed (409: a callback with this timestamp and nonce was stored before),
//   callback_bad_envelope / callback_bad_base64 / callback_decrypt_failed / callback_bad_buffer (400),
//   callback_receiveid_mismatch (403).
// A second delivery of an event already stored (a WeCom retry with a new signature) is accepted and not stored
// again. "The same event" means the same decrypted message, byte for byte: two identical changes within one second
// (CreateTime has seconds) are one event, which is harmless because applying an event reads WeCom's current state.
//
// Durability and speed: stores are group-committed. Concurrent callers queue their rows; whoever finds no commit
// in progress becomes the leader and writes the whole queue in one transaction, then wakes the others. Every
// caller returns only after the transaction holding its row committed.
//
// Keys: the corp's token and EncodingAESKey are opened from wecom_corps and cached for 30 s (Forget() drops them at
// once after a re-link on this node). Thread safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/strong_id.h"
#include "domain/wecom_link/secret_box.h"
#include "storage/database.h"
#include "wecom/protocol/crypto.h"

namespace koi::wecom_link {

struct CallbackRequest {
  std::string corp_id;  // from the URL path
  std::string msg_signature, timestamp, nonce;
  std::string echostr;  // GET only
  std::string body;     // POST only: the encrypted XML envelope
};

struct CallbackReceipt {
  int64_t event_id = 0;    // the stored row (0 when this was a repeat of a stored event)
  bool duplicate = false;  // the same event was stored before (WeCom retried it)
  std::string event, change_type;
};

// The checks every callback passes before its content is read, shared by the corps' inbox and the suite's
// instruction callbacks: the parameters are present and the timestamp is within five minutes of `now_s`
// (callback_bad_request, callback_stale_timestamp) ...
Status CheckCallbackRequest(const CallbackRequest& request, const std::string& cipher, int64_t now_s);
// ... then the signature, and the decryption with its receiveid check (callback_signature_mismatch 401,
// callback_receiveid_mismatch 403, callback_bad_base64 / callback_decrypt_failed / callback_bad_buffer 400).
Result<std::string> DecryptSignedCallback(const wecom::CallbackKeys& keys, const CallbackRequest& request,
                                          const std::string& cipher);

class CallbackInbox {
 public:
  CallbackInbox(storage::Database& db, const Clock& clock, const SecretBox& box,
                std::function<void()> on_stored = nullptr)
      : db_(db), clock_(clock), box_(box), on_stored_(std::move(on_stored)) {}

  // The URL check WeCom makes when the admin saves the callback URL: returns the decrypted echostr.
  Result<std::string> VerifyUrl(const CallbackRequest& request);
  Result<CallbackReceipt> Receive(const CallbackRequest& request);

  void Forget(const std::string& corp_id);

  static constexpr int64_t kMaxClockSkewS = 300;

 private:
  struct CorpKeys {
    TeamId team;
    wecom::CallbackKeys keys;
    int64_t loaded_at_ms = 0;
  };
  struct PendingRow {
    TeamId team;
    std::string nonce_key, digest, event, change_type, payload;
    int64_t create_time = 0;
    // Set by the committing leader.
    Status result;
    CallbackReceipt receipt;
    bool done = false;
  };

  Result<CorpKeys> Keys(const std::string& corp_id);
  // Checks the parts every request has (corp, timestamp, signature) and decrypts `cipher`.
  Result<std::string> Open(const CallbackRequest& request, const std::string& cipher, CorpKeys& keys);
  Status Store(PendingRow& row);
  void CommitBatch(const std::vector<PendingRow*>& batch);

  storage::Database& db_;
  const Clock& clock_;
  const SecretBox& box_;
  std::function<void()> on_stored_;

  std::mutex keys_mu_;
  std::map<std::string, CorpKeys> keys_;  // guarded by keys_mu_

  std::mutex mu_;
  std::condition_variable committed_;
  std::vector<PendingRow*> queue_;  // guarded by mu_
  bool committing_ = false;         // guarded by mu_
};

}  // namespace koi::wecom_link
