// SandboxApi: the WeCom server API endpoints koi-wecom-sandbox serves (../shared/specs/wecom-api.md), over the world
// in world.h. Answers the way WeCom does: HTTP 200 with {"errcode", "errmsg", …}; errcode 41001/40014/42001 for a
// missing, unknown or expired access_token, 45009 past the per-corp per-API minute budget, and the endpoint's own
// codes (40096, 60111, 81017, …) for bad input. Access tokens live 7200 s and the same token is returned until it
// expires. Every call is counted per corp and API (GET /sandbox/calls), so tests can prove what a client did.
//
// Mass messages (§7): add_msg_template, get_groupmsg_list_v2, get_groupmsg_task, get_groupmsg_send_result,
// remind_groupmsg_send and cancel_groupmsg_send, checked against ApiOptions::pack (recipients per call,
// attachments and their kinds, reminders per rolling window). Creating a message only creates the members' tasks,
// as in WeCom: nothing is sent until a member confirms it in the client, which the scenario action
// "send-mass-message" simulates (scenario.h) and where the pack's receive limits apply (status 3). Both chat types
// are served, without tag_filter: "single" to customers, "group" to customer groups the sender owns (chat_id_list,
// ≤2000, or all of the sender's groups; the chat_id stands where a customer's external_userid would, and
// get_groupmsg_send_result lists only the groups already sent to, as WeCom does). Refusals the docs leave open are
// all errcode 40058 with a text naming the cause: a tag_filter (not served yet), external_userid in a group
// message, too many recipients, text over 4000 bytes, too many or invalid attachments, empty content, no valid
// recipient (nothing is created), a list window over 31 days, an unknown msgid, a cancelled message (remind), the
// reminder limit. A sender who is not an active member, or none for a group message, is 40003. An attachment's
// media_id (image, video, file) or pic_media_id (mini program) must be one the corp uploaded within 3 days: 40007.
//
// Temporary media (上传临时素材): media/upload?type=image|voice|video|file takes a multipart/form-data body whose part
// named "media" carries the file with a filename, and answers {type, media_id, created_at (a string)}. Limits as
// WeCom's: more than 5 bytes, image ≤10 MB JPG/PNG, voice ≤2 MB AMR, video ≤10 MB MP4, file ≤20 MB (formats told by
// their magic bytes); 40004 an unknown type, 40005 a wrong format, 40006 a bad size, 41005 no media part. Only the
// metadata is stored (table media), not the bytes.
// Thread safety: handlers are thread-safe (state in the database; counters under a mutex).
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "core/clock.h"
#include "http/router.h"
#include "rules/rule_pack.h"
#include "storage/database.h"

namespace koi::sandbox {

// WeCom's answers: {"errcode": code, "errmsg": "<text>, hint: [<request id>], from ip: …"}, and success as
// {"errcode": 0, "errmsg": "ok", …body}.
http::Response WecomError(int code, const std::string& text, const http::Request& r);
http::Response WecomOk(boost::json::object body = {});
// A request's body as a JSON object, as WeCom reads it whatever the content type (an empty body is {}); false for
// anything else (WeCom's errcode 47001).
bool ParseBody(const http::Request& r, boost::json::object& out);

struct ApiOptions {
  int64_t token_ttl_s = 7200;
  int64_t calls_per_minute = 10000;  // per corp per API (wecom-2025 pack: 10,000/min)
  int64_t latency_ms = 0;            // added to every business API call (real WeCom answers in tens of ms)
  int64_t corp_tags_max = 3000;      // wecom-2025: corp tags per corp
  int64_t tag_name_max_chars = 30;   // tag and tag group names
  // WeCom's limits as of an era; the mass-message endpoints enforce its `mass` rules (koi-wecom-sandbox serve
  // --rule-pack).
  rules::RulePack pack = rules::DefaultRulePack();
};

class SandboxApi {
 public:
  SandboxApi(storage::Database& db, const Clock& clock, ApiOptions options)
      : db_(db), clock_(clock), options_(std::move(options)) {}

  void AddRoutes(http::Router& router);

  // Calls answered per (corp, api path) since start, including refused ones.
  std::map<std::pair<std::string, std::string>, int64_t> CallCounts() const;

  // Resolves the access token of a call and charges the corp's minute budget for `api`. On failure fills `error`.
  // Public for the endpoints served next to these (toolbar.h), so every corp-token API is admitted and counted alike.
  bool Admit(const http::Request& r, const std::string& api, std::string& corp_id, http::Response& error);
  // Counts a call admitted some other way (a suite's token): `caller` stands where the corp id does in CallCounts.
  void CountCall(const std::string& caller, const std::string& api);

 private:
  struct Call;

  storage::Database& db_;
  const Clock& clock_;
  ApiOptions options_;
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int64_t>, int64_t> minute_calls_;  // guarded by mu_
  std::map<std::pair<std::string, std::string>, int64_t> total_calls_;             // guarded by mu_
};

}  // namespace koi::sandbox
