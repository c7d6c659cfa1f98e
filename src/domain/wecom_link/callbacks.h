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
//   callback_signature_mismatch (401), callback_replayed (409: a callback with this timestamp and nonce was
//   received before),
//   callback_bad_envelope / callback_bad_base64 / callback_decrypt_failed / callback_bad_buffer (400),
//   callback_receiveid_mismatch (403).
// A second delivery of an event already stored (a WeCom retry with a new signature) is accepted and not stored
// again. "The same event" means the same decrypted message, byte for byte: two identical changes within one second
// (CreateTime has seconds) are one event, which is harmless because applying an event reads WeCom's current state.
// A replay is found the same way: a replayed request carries the same ciphertext, so the same message; it is refused
// when its timestamp and nonce are those the stored message or one of WeCom's retries of it came with.
// Who remembers: the writer, in memory, for the last eleven minutes (RecentCallbacks: a unique index over random
// digests cost a page write per callback); it reads back what was stored in that time before its first batch after a
// start.
// On PostgreSQL, which several Koi nodes may share, the database's unique index on (team, CreateTime, digest) stays
// and catches what another node stored; SQLite has one node, so its memory is the whole record.
//
// Storage: each event is one row of wecom_events (state 'received'; a batch goes in a few multi-row inserts) and, by
// a trigger, one of wecom_event_queue, which the applier deletes once the event is applied; the event's row is
// written again only if applying it fails.
//
// Durability and speed: ReceiveAsync never blocks, so the HTTP server starts it on its I/O thread. When the corp's keys
// are cached it checks, decrypts and parses there; then it queues the row for the inbox's writer thread, which
// commits everything queued in one transaction (a group commit: while one batch commits, the next gathers) and only
// then answers each caller. A corp whose keys are not cached is opened on the writer too (that reads the database).
// Receive is the same, waiting for the answer. Stop() stores what is queued, answers it, and refuses the rest.
//
// Keys: the corp's token and EncodingAESKey are opened from wecom_corps and cached for 30 s (Forget() drops them at
// once after a re-link on this node). Thread safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/strong_id.h"
#include "domain/wecom_link/recent_callbacks.h"
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
  using Done = std::function<void(Result<CallbackReceipt>)>;

  // `on_stored` runs on the writer thread after a batch that stored new events committed.
  CallbackInbox(storage::Database& db, const Clock& clock, const SecretBox& box,
                std::function<void()> on_stored = nullptr);
  ~CallbackInbox();
  CallbackInbox(const CallbackInbox&) = delete;
  CallbackInbox& operator=(const CallbackInbox&) = delete;

  // The URL check WeCom makes when the admin saves the callback URL: returns the decrypted echostr.
  Result<std::string> VerifyUrl(const CallbackRequest& request);
  // Never blocks; `done` is called exactly once, on this thread (a refusal found here) or on the writer thread.
  void ReceiveAsync(CallbackRequest request, Done done);
  // ReceiveAsync, waiting for the answer.
  Result<CallbackReceipt> Receive(const CallbackRequest& request);

  void Forget(const std::string& corp_id);
  // Stores and answers what is queued, then ends the writer; later callbacks are refused (callback_inbox_stopped,
  // 503, so WeCom retries them against a node that runs). Idempotent; the destructor calls it.
  void Stop();

  static constexpr int64_t kMaxClockSkewS = 300;

 private:
  struct CorpKeys {
    TeamId team;
    wecom::CallbackKeys keys;
    int64_t loaded_at_ms = 0;
  };
  struct Pending {
    // Set while the callback still has to be opened on the writer (its corp's keys were not cached).
    std::optional<CallbackRequest> request;
    std::string cipher;
    // The row to store.
    TeamId team;
    std::string corp_id, nonce_key, digest, event, change_type, payload;
    int64_t create_time = 0;
    Done done;
    // Set by the writer.
    Status result;
    CallbackReceipt receipt;
  };

  Result<CorpKeys> Keys(const std::string& corp_id);
  std::optional<CorpKeys> CachedKeys(const std::string& corp_id);
  // Checks the parts every request has (corp, timestamp, signature) and decrypts `cipher`.
  Result<std::string> Open(const CallbackRequest& request, const std::string& cipher, CorpKeys& keys);
  // Decrypts and parses with the corp's keys into `p`'s row.
  Status Fill(const CallbackRequest& request, const std::string& cipher, const CorpKeys& keys, Pending& p);
  void Enqueue(Pending p);
  void WriterLoop();
  // Opens what still needs opening and stores the rest in one transaction; true if it stored a new event.
  bool CommitBatch(std::vector<Pending>& batch);
  // Reads what was stored in the last RecentCallbacks::kWindowMs into recent_: once, before the first batch (not when
  // the writer starts: an inbox that never receives a callback never reads the database). It streams the rows, so
  // memory stays within its limit however many there are.
  Status LoadRecent();
  // Sets the gauge of remembered callbacks; warns when some were forgotten early.
  void ReportRecent();

  storage::Database& db_;
  const Clock& clock_;
  const SecretBox& box_;
  std::function<void()> on_stored_;

  std::mutex keys_mu_;
  std::map<std::string, CorpKeys> keys_;  // guarded by keys_mu_

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  std::mutex join_mu_;          // Stop from two threads joins once
  Gauge& remembered_gauge_;
  // The writer's own.
  RecentCallbacks recent_;
  bool recent_loaded_ = false;
  uint64_t evicted_reported_ = 0;
  std::thread writer_;
};

}  // namespace koi::wecom_link
