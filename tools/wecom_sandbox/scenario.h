// The scenario driver: simulates what happens in a WeCom corp — customers scan a contact way, employees edit or
// delete customers, customers delete employees, people join and leave groups, admins edit corp tags, employees
// join and resign — by changing the world (world.h) and queueing the callback WeCom would send for each change
// (../shared/specs/wecom-api.md §12). CallbackDeliverer then delivers the queue like WeCom does: encrypted and
// signed with the corp's token and EncodingAESKey, a 5 s deadline per try, up to 3 tries 5 s apart, HTTP 200 only
// counts as accepted.
//
// Changes made through the API generate no callbacks (WeCom's rule), so only the scenario driver queues them.
// Deterministic: the same seed over the same world makes the same changes (ids included).
// Limits of the selected rule pack (rules/rule_pack.h; wecom-2025 unless UseRulePack) apply as WeCom applies them:
// customers per member ("member_capacity_reached") and per corp, verified or not ("corp_capacity_reached"), members
// per external group ("group_full"), and the stop for joining by QR code ("group_qr_join_full").
//
// Mass messages (wecom-api.md §7): "send-mass-message" is a member confirming the mass-message tasks that
// add_msg_template queued (api.h). Each task becomes sent (2) and each of its recipients, in external_userid order,
// 2 when the follow relationship no longer exists, 3 when the pack's receive limits (rules::MassQuota over what the
// customer already received, enterprise and personal) refuse one more, else 1. A group message's recipients are
// groups, in chat_id order: 2 when the group was dismissed or no longer has that member as its owner, 3 past the
// group quota (MassQuota::CheckGroup over what the group already received, any sender and kind), else 1.
// "personal-mass-message" is an employee's own mass message (create_type 1) sent at once to some of their customers,
// or of the groups they own, under the same limits. Neither queues a callback (WeCom sends none) nor is part of
// Script()'s mix.
// Thread safety: Scenario is single-threaded; CallbackDeliverer and the routes are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "http/router.h"
#include "rules/rule_pack.h"
#include "storage/database.h"

namespace koi::sandbox {

struct ScenarioEvent {
  std::string action;                      // "add-customer"
  std::string event, change_type;          // the callback: change_external_contact / add_external_contact
  std::map<std::string, std::string> ids;  // what it touched: userid, external_userid, chat_id, tag_id, …
  int64_t outbox_id = 0;  // the queued callback; 0 when the corp has no callback URL or its app cannot see the change
};

class Scenario {
 public:
  Scenario(storage::Database& db, const Clock& clock, std::string corp_id, uint64_t seed)
      : db_(db), clock_(clock), corp_(std::move(corp_id)), rng_(seed) {}

  // The actions, in the order of Actions(). `args` may name what to act on (userid, external_userid, chat_id,
  // tag_id, group_id, state, name); otherwise the driver picks at random. NotFound "nothing_to_act_on" when the
  // world has nothing the action applies to (no group to leave, …).
  // send-mass-message: `msgid` and/or `userid` (one is required, InvalidArgument "missing_argument"): that task, or
  // every pending task of the message, or every pending task of the member; when none is pending (all sent, or the
  // message was cancelled) it succeeds and changes nothing ("tasks" 0). personal-mass-message: `chat_type`
  // ("single", the default, or "group"), `userid` (default: a random member with customers, or who owns a group),
  // `count` recipients (default 20: customers, or groups the member owns), `text`. Both report in ScenarioEvent::ids
  // the msgid(s) and userid(s) (comma-separated when several), "tasks", and the recipients (customers or groups)
  // "sent", "not_friend" and "over_limit".
  Result<ScenarioEvent> Run(const std::string& action, const std::map<std::string, std::string>& args = {});
  // `count` actions drawn from a fixed mix weighted like a retail corp's day (mostly new customers and edits).
  Result<std::vector<ScenarioEvent>> Script(int count);
  // "script" runs Script(count); any other action runs once with `args`. What the CLI and the admin API call.
  Result<std::vector<ScenarioEvent>> Perform(const std::string& action, const std::map<std::string, std::string>& args,
                                             int count);

  static const std::vector<std::string>& Actions();

  void UseRulePack(const rules::RulePack& pack) { pack_ = pack; }
  const rules::RulePack& rule_pack() const { return pack_; }

 private:
  struct Pick;
  Result<std::vector<std::string>> PickRow(storage::Session& tx, const std::string& from_where,
                                           const std::string& columns, const std::vector<storage::Value>& params);
  Result<int64_t> Queue(storage::Session& tx, const std::string& event, const std::string& change_type,
                        std::vector<std::pair<std::string, std::string>> fields,
                        const std::vector<std::pair<std::string, std::vector<std::string>>>& lists = {});
  std::string Arg(const std::map<std::string, std::string>& args, const std::string& key) const;
  // Sends the mass-message tasks (msgid, userid) now, in order, and adds the recipients' outcome counts to `ev`.
  Status SendMassTasks(storage::Session& tx, const std::vector<std::pair<std::string, std::string>>& tasks,
                       ScenarioEvent& ev);

  storage::Database& db_;
  const Clock& clock_;
  std::string corp_;
  std::mt19937_64 rng_;
  rules::RulePack pack_ = rules::DefaultRulePack();
};

// Sets where the corp's callbacks go and the token and EncodingAESKey to sign and encrypt them with.
Status ConfigureCallback(storage::Database& db, const std::string& corp_id, const std::string& url,
                         const std::string& token, const std::string& encoding_aes_key);

// POSTs a body to a URL and returns the HTTP status (kUnavailable when there was no answer within 5 s).
using CallbackPoster = std::function<Result<int>(const std::string& url, const std::string& body)>;

struct DeliveryStats {
  int delivered = 0, retrying = 0, failed = 0;
};

class CallbackDeliverer {
 public:
  static constexpr int kMaxTries = 3;
  static constexpr int64_t kRetryAfterMs = 5000;

  CallbackDeliverer(storage::Database& db, const Clock& clock, CallbackPoster post)
      : db_(db), clock_(clock), post_(std::move(post)) {}

  // Delivers up to `limit` due callbacks of the corps, and as many of the suites (suite.h), in the order queued.
  Result<DeliveryStats> DeliverDue(int limit = 200);

 private:
  Status DeliverFrom(const std::string& due_sql, const std::string& table, int limit, DeliveryStats& stats);

  storage::Database& db_;
  const Clock& clock_;
  CallbackPoster post_;
  std::mt19937_64 rng_{std::random_device{}()};
};

// The admin API: POST /sandbox/scenario/:action (JSON body: corp, seed, count for "script" and
// personal-mass-message, rule_pack to use another pack than `pack`, and the args above as strings),
// POST /sandbox/callback-config (corp, url, token, aes_key), GET /sandbox/callbacks?corp= (the queue by state).
// `pack` should be the one the API serves (ApiOptions::pack), so both sides enforce the same limits.
void AddScenarioRoutes(http::Router& router, storage::Database& db, const Clock& clock,
                       const rules::RulePack& pack = rules::DefaultRulePack());

}  // namespace koi::sandbox
