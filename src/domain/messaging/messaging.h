// Mass messaging (群发, issue 7): compose, target, plan within the rule pack, send exactly once, track.
//
// Life of a message:
//   draft      created with its content and target; planned at once (every recipient with its sender or the
//              reason it is skipped), re-planned on every edit; nothing counts against anyone's quota yet.
//   scheduled  Send() was called: the recipients to send now count against the quotas (so a second message
//              planned meanwhile sees them), and the durable job kDispatchJob is due at the send time.
//   sending    the job re-checks the quotas as of the moment of sending (a message sent meanwhile may have used
//              them up), cuts the recipients into chunks (one add_msg_template per chunk: one sender, at most the
//              pack's recipients per call, one rendered text) and submits them, chunk by chunk.
//   sent       every chunk is submitted (or refused by WeCom); the sync job reads the employees' confirmations and
//              the per-recipient results from WeCom until the message settles.
//   done       every task confirmed and synced, or 30 days passed.   cancelled / failed: terminal.
//
// Exactly once: before each add_msg_template the chunk is marked `intent` in its own transaction; after the call
// the msgid is recorded. A chunk found in `intent` (the process died, or the answer was lost) is reconciled by
// asking WeCom which messages exist since the intent (get_groupmsg_list_v2, then the task's sender and the first
// recipient of the chunk): found, its msgid is recorded; not found, it is submitted again. So a restart neither
// creates a second template for a chunk nor loses one.
//
// Who: an admin sends enterprise messages to any of the team's customers; a member bound to an employee sends
// personal messages, only through that employee, to their customers. Both go through add_msg_template, which WeCom
// counts as enterprise messages (create_type 0), so both count against the enterprise quota.
// Thread safety: thread-safe (state in the database).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "domain/accounts/accounts.h"
#include "domain/customers/customers.h"
#include "domain/messaging/content.h"
#include "domain/messaging/media.h"
#include "domain/segments/index.h"
#include "domain/segments/segments.h"
#include "domain/wecom_link/link.h"
#include "jobs/job_queue.h"
#include "jobs/job_runner.h"
#include "rules/rule_pack.h"
#include "storage/database.h"
#include "wecom/client/client.h"

namespace koi::messaging {

inline constexpr char kDispatchJob[] = "messaging.dispatch";
inline constexpr char kSyncJob[] = "messaging.sync";
inline constexpr size_t kMaxSelectedCustomers = 10'000;
inline constexpr size_t kMaxSelectedGroups = 2'000;  // chat_id_list of one add_msg_template (group)
inline constexpr size_t kMaxGroupOwners = 1'000;
inline constexpr size_t kMaxChatsPerCall = 2'000;
inline constexpr size_t kMaxTitleChars = 40;
inline constexpr int64_t kSettleAfterMs = 30LL * 86'400'000;

// The team's rule pack and its overrides (settings).
struct RulePackSetting {
  std::string pack;                            // "wecom-2025"
  std::map<std::string, int64_t> overrides;    // key -> value (rules::OverrideKeys)
  rules::RulePack effective;                   // the pack with the overrides applied
};

// Customers: exactly one of segment_id, rule and customer_ids. Groups: exactly one of group_owners, group_tag_ids
// and chat_ids.
struct Target {
  std::optional<int64_t> segment_id;
  std::string rule;                            // a segment rule (JSON), when no segment and no selection
  std::vector<std::string> customer_ids;       // explicit selection (external_userid), ≤ kMaxSelectedCustomers
  std::vector<std::string> group_owners;       // the groups these employees own, ≤ kMaxGroupOwners
  std::vector<int64_t> group_tag_ids;          // the groups carrying any of these group tags
  std::vector<std::string> chat_ids;           // explicit selection of groups, ≤ kMaxSelectedGroups
};

struct Draft {
  std::string kind = "enterprise";  // enterprise | personal
  std::string audience = "customers";  // customers | groups (chat_type single | group)
  std::string title;                // the operator's name for it, 1–40 characters
  std::string content;              // content.h JSON
  Target target;
};

struct SenderSummary {
  std::string userid;
  std::string name;
  int64_t recipients = 0, skipped = 0, duplicates = 0;
  int64_t templates = 0;            // add_msg_template calls (chunks) for this sender
  int64_t confirmed_templates = 0;  // chunks whose task the employee confirmed in WeCom
  int64_t sent = 0, not_friend = 0, over_limit = 0, failed = 0;  // per-recipient results so far
};

struct Message {
  int64_t id = 0;
  std::string kind, audience, title, content, target;  // content and target as canonical JSON
  std::string state;                          // draft | scheduled | sending | sent | done | cancelled | failed
  std::string rule_pack;
  int64_t send_at_ms = 0;                     // the planned moment of sending (scheduled or sent)
  int64_t created_by = 0;
  std::string created_by_name;
  int64_t created_at_ms = 0, updated_at_ms = 0;
  std::optional<int64_t> submitted_at_ms, settled_at_ms, cancelled_at_ms;
  std::string error;
  // The plan (and later the results): per skip reason, per sender.
  int64_t targeted = 0, recipients = 0;
  std::map<std::string, int64_t> skipped;     // reason -> customers
  bool personalised = false;
  int64_t templates = 0;                      // chunks (after dispatch) or the planned number
  int64_t chunks_submitted = 0, chunks_failed = 0;
  int64_t sent = 0, not_friend = 0, over_limit = 0, failed = 0, pending = 0;
  int64_t reminders_left = 0;                 // within the pack's rolling window
  std::vector<SenderSummary> senders;         // Get only
  std::vector<std::pair<int64_t, int64_t>> delivery;  // Get only: (hour start ms, recipients sent that hour)
};

// A plan without a draft: what the composer shows while the target changes, and what the benchmark times.
struct PlanPreview {
  int64_t targeted = 0, recipients = 0;
  std::map<std::string, int64_t> skipped;
  std::vector<SenderSummary> senders;  // recipients, skipped, duplicates
  int64_t expand_us = 0, load_us = 0, plan_us = 0;
};

struct MessagePage {
  std::vector<Message> items;
  int64_t total = 0;
};

struct RecipientRow {
  std::string external_userid, name, userid, employee_name;
  std::string skip;    // reason, "" when planned to receive it
  int status = -1;     // -1 not submitted, 0 not sent yet, 1 sent, 2 not a friend, 3 over the limit, 4 refused, 5 cancelled
  std::optional<int64_t> send_time_ms;
};

struct RecipientQuery {
  std::string skip;        // "" any; "any" every skipped; a reason
  std::optional<int> status;
  std::string userid;      // sender
  int page = 1, page_size = 20;
};

struct RecipientPage {
  std::vector<RecipientRow> items;
  int64_t total = 0;
};

// What a customer received (their timeline).
struct CustomerMessage {
  int64_t message_id = 0;
  std::string title, userid;
  int status = -1;
  int64_t at_ms = 0;
};

struct MessagingOptions {
  // An enterprise message to more customers than this takes its relationship facts from the segment index (who is
  // each customer's newest active relationship, who ended their last one) instead of reading every relationship
  // from the database; both give the same plan (mass_message_test proves it).
  size_t index_above = 20'000;
  // A chunk in `intent` younger than this may have its add_msg_template call still in flight (another worker whose
  // job lease lapsed under load is still sending it): it is neither looked up in WeCom nor sent again until then.
  // Must exceed the longest call (retries on busy errcodes and the 45009 minute wait included).
  int64_t intent_grace_ms = 180'000;
  // When set, each media id of a message's attachments is made usable just before its add_msg_template (a file Koi
  // uploaded is uploaded again once WeCom's 3 days run out), so a message scheduled days ahead still sends.
  MediaService* media = nullptr;
};

class MessagingService {
 public:
  MessagingService(storage::Database& db, const Clock& clock, jobs::JobQueue& queue, wecom_link::WecomLink& link,
                   wecom::WecomClient& client, segments::SegmentIndex& index, segments::SegmentService& segments,
                   customers::CustomerService& customers, MessagingOptions options = {})
      : db_(db), clock_(clock), queue_(queue), link_(link), client_(client), index_(index), segments_(segments),
        customers_(customers), options_(options) {}

  // Settings: every member may read; the admin picks the pack (rules::AllRulePacks) and overrides values.
  Result<RulePackSetting> RulePackOf(TeamId team);
  Result<RulePackSetting> SetRulePack(const accounts::Principal& who, std::string_view pack,
                                      const std::map<std::string, int64_t>& overrides);

  Result<PlanPreview> Preview(const accounts::Principal& who, const Draft& draft);
  Result<Message> Create(const accounts::Principal& who, const Draft& draft);
  Result<Message> Update(const accounts::Principal& who, int64_t id, const Draft& draft);  // drafts only
  Result<Message> Get(const accounts::Principal& who, int64_t id);
  Result<MessagePage> List(const accounts::Principal& who, std::string_view state, int page, int page_size);
  Result<RecipientPage> Recipients(const accounts::Principal& who, int64_t id, const RecipientQuery& q);
  // Sends a draft now (send_at_ms 0) or at a future moment (at least a minute ahead, at most 30 days).
  Result<Message> Send(const accounts::Principal& who, int64_t id, int64_t send_at_ms);
  // A draft is deleted; a scheduled or sending message stops before its next chunk; a sent one is cancelled in
  // WeCom for the employees who have not confirmed (cancel_groupmsg_send).
  Result<Message> Cancel(const accounts::Principal& who, int64_t id);
  // remind_groupmsg_send for every unconfirmed chunk; at most the pack's reminders per rolling window.
  Result<Message> Remind(const accounts::Principal& who, int64_t id);
  // Reads the results from WeCom now instead of at the next scheduled sync.
  Result<Message> Refresh(const accounts::Principal& who, int64_t id);
  Status DeleteDraft(const accounts::Principal& who, int64_t id);

  // The messages a customer received or will receive (newest first, at most 50), for their timeline.
  Result<std::vector<CustomerMessage>> OfCustomer(const accounts::Principal& who, std::string_view external_userid);

  // Job handlers.
  Status RunDispatch(jobs::JobContext& ctx);
  // Syncs every sent message that is due, and every ten minutes each linked team's mass messages made outside Koi
  // (which use the same quotas); kSyncJob runs it every minute.
  Status SyncDue();
  // Reads the team's mass messages made outside Koi since the last read from WeCom — employees' own, sent from their
  // WeCom client (create_type 1), and enterprise messages an admin created in the WeCom admin console (create_type 0,
  // no msgid of Koi's) — and records who received them (personal_mass_receipts, with the create_type).
  Status SyncOutside(TeamId team);

 private:
  struct Loaded;
  struct Computed;
  Result<Computed> Compute(const accounts::Principal& who, const Draft& draft, int64_t except_message);
  Result<Loaded> Load(const accounts::Principal& who, int64_t id);
  Result<Message> Persist(const accounts::Principal& who, std::optional<int64_t> id, const Draft& draft);
  Result<std::vector<uint32_t>> Expand(const accounts::Principal& who, const Target& target, std::string& canonical);
  struct GroupTarget;
  Result<GroupTarget> ExpandGroups(const accounts::Principal& who, const Target& target, const std::string& only_owner,
                                   std::string& canonical);
  Status Dispatch(TeamId team, int64_t id, jobs::JobContext* ctx);
  Status Recheck(TeamId team, int64_t id, const rules::RulePack& pack);
  Status SubmitChunk(int64_t id, int64_t chunk, const wecom::CorpCredentials& corp);
  // `content` with each media id replaced by one WeCom still knows (options_.media).
  Status RefreshMedia(TeamId team, Content& content, const wecom::CorpCredentials& corp);
  // Claims a chunk for this dispatcher: state `from` (and attempted_at `seen` for an intent) -> intent now. False
  // when another dispatcher got there first.
  Result<bool> Claim(int64_t id, int64_t chunk, const std::string& from, int64_t seen);
  Result<bool> Reconcile(TeamId team, int64_t id, int64_t chunk, const wecom::CorpCredentials& corp);
  Status Sync(TeamId team, int64_t id);
  Result<Message> Summarise(TeamId team, const RulePackSetting& setting, const storage::Row& row, bool detail);

  storage::Database& db_;
  const Clock& clock_;
  jobs::JobQueue& queue_;
  wecom_link::WecomLink& link_;
  wecom::WecomClient& client_;
  segments::SegmentIndex& index_;
  segments::SegmentService& segments_;
  customers::CustomerService& customers_;
  MessagingOptions options_;
};

}  // namespace koi::messaging
