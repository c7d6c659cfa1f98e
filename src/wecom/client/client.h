// WecomClient: Koi's client for WeCom's server API (../shared/specs/wecom-api.md) — the endpoints the WeCom link
// and later modules use, with the plumbing every caller needs:
//
// - Access tokens cached per (corp, secret), refreshed five minutes before they expire, and refreshed at once when
//   WeCom answers 40014/42001/40001 (the call is then retried once). Concurrent callers wait for one refresh
//   instead of all calling gettoken (no thundering herd).
// - Retries: errcode -1 (busy) and 45033 (concurrency) and transport failures back off exponentially (1 s, 2 s, 4 s …
//   up to `max_attempts`); 45009 (frequency) waits for the next minute, as WeCom blocks the minute rule for 60 s.
// - A per-corp per-API call budget below WeCom's (ClientOptions::calls_per_minute): past it the caller waits for the
//   next minute rather than being refused.
// - Every other errcode becomes a specific Status (errcode.h: wecom_ip_not_trusted, wecom_invalid_external_userid …).
//
// The transport (HTTPS to qyapi.weixin.qq.com, or to koi-wecom-sandbox) and sleeping are injected, so tests run
// against the sandbox in-process with a fake clock. Thread safety: thread-safe; share one client per process.
#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace koi::wecom {

struct HttpCall {
  std::string method;  // "GET" or "POST"
  std::string url;     // absolute, with the query string
  std::string body;    // JSON for POST, or a media upload's multipart form
  std::string content_type = "application/json";  // of `body`; transports send it as the Content-Type header
};
// Returns the response body, or kUnavailable when the server cannot be reached.
using Transport = std::function<Result<std::string>(const HttpCall&)>;

struct ClientOptions {
  std::string base_url = "https://qyapi.weixin.qq.com";
  int max_attempts = 5;
  int64_t calls_per_minute = 8000;  // per corp per API; WeCom allows 10,000 (rule pack wecom-2025)
  // Waits `ms` (the fake clock in tests advances instead). Default: std::this_thread::sleep_for.
  std::function<void(int64_t ms)> sleep;
};

// How Koi calls a corp's API. Self-built app: `secret` is the app secret (gettoken). Third-party app (installed
// through the suite, wecom-api.md §2.2): `third_party` is set and `secret` is the corp's permanent_code, exchanged
// with service/get_corp_token under the suite's token.
struct CorpCredentials {
  std::string corp_id;
  std::string secret;
  bool third_party = false;
};

// The third-party suite (服务商应用) Koi is installed through. `ticket` returns the latest suite_ticket WeCom pushed
// (kUnavailable "wecom_suite_ticket_missing" while none has arrived).
struct SuiteOptions {
  std::string suite_id, suite_secret;
  std::function<Result<std::string>()> ticket;
};

// service/get_permanent_code's answer, the fields Koi keeps.
struct PermanentCode {
  std::string permanent_code, corp_id, corp_name, agent_id, auth_user_id, auth_user_name, state;
};

// --- wire types (only the fields Koi uses) ---
struct Department {
  int64_t id = 0;
  std::string name;
  int64_t parent_id = 0;
  int64_t order = 0;
};
struct DeptUser {
  std::string userid;
  int64_t department = 0;
};
struct User {
  std::string userid, name, position, mobile, alias;
  std::vector<int64_t> departments;
  int64_t main_department = 0;
  int gender = 0;  // 0 unknown, 1 male, 2 female
  int status = 0;  // 1 active, 2 disabled, 4 not activated, 5 resigned
};
struct FollowInfo {
  std::string userid, remark, description, state, oper_userid, remark_corp_name;
  int64_t createtime = 0;
  int add_way = 0;
  std::vector<std::string> tag_ids, remark_mobiles;
};
struct ExternalContact {
  std::string external_userid, name, unionid, corp_name, position;
  int type = 1;
  int gender = 0;
};
struct CustomerRelation {
  ExternalContact contact;
  FollowInfo follow;
};
// externalcontact/get: the customer and every member who follows them.
struct ContactDetail {
  ExternalContact contact;
  std::vector<FollowInfo> follows;
};

struct Tag {
  std::string id, name;
  int64_t create_time = 0, order = 0;
};
struct TagGroup {
  std::string group_id, name;
  int64_t create_time = 0, order = 0;
  std::vector<Tag> tags;
};
struct GroupMember {
  std::string userid, invitor, state, unionid, name;
  int type = 1;  // 1 member, 2 external contact
  int64_t join_time = 0;
  int join_scene = 0;
};
struct GroupChat {
  std::string chat_id, name, owner, notice, member_version;
  int64_t create_time = 0;
  int status = 0;
  std::vector<GroupMember> members;
  std::vector<std::string> admins;
};
// media/upload's answer: a temporary media id, valid for 3 days from `created_at`.
struct UploadedMedia {
  std::string media_id;
  int64_t created_at = 0;  // Unix seconds (WeCom sends it as a string)
};
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // "" when done
};

class WecomClient {
 public:
  WecomClient(Transport transport, const Clock& clock, ClientOptions options);

  // One API call with tokens, budget and retries. `query` excludes access_token; `body` null means GET.
  // `idempotent` false (a call that creates something, like add_msg_template): a transport failure, after which
  // WeCom may or may not have acted, is returned at once instead of retried; the caller reconciles. Errcodes are
  // WeCom's answer (it did not act), so they are retried either way.
  Result<boost::json::object> Call(const CorpCredentials& corp, const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& query,
                                   const boost::json::value& body = nullptr, bool idempotent = true);

  Result<std::vector<Department>> ListDepartments(const CorpCredentials& corp);
  Result<Page<DeptUser>> ListUserIds(const CorpCredentials& corp, const std::string& cursor, int limit = 10000);
  Result<User> GetUser(const CorpCredentials& corp, const std::string& userid);
  Result<std::vector<std::string>> GetFollowUsers(const CorpCredentials& corp);
  // ≤100 userids, limit ≤100.
  Result<Page<CustomerRelation>> BatchGetByUser(const CorpCredentials& corp, const std::vector<std::string>& userids,
                                                const std::string& cursor, int limit = 100);
  // All pages of externalcontact/get (a customer followed by more than 500 members has several).
  Result<ContactDetail> GetExternalContact(const CorpCredentials& corp, const std::string& external_userid);
  Result<std::vector<TagGroup>> GetCorpTags(const CorpCredentials& corp);
  // Corp tag writes. AddCorpTags creates `names` in the group `group_id`, or in the group named `group_name`
  // (created when absent); WeCom answers with the group and the tags (an existing name is reused, not doubled).
  Result<TagGroup> AddCorpTags(const CorpCredentials& corp, const std::string& group_id, const std::string& group_name,
                               const std::vector<std::string>& names);
  // Renames a tag or a tag group (`id` is either).
  Status EditCorpTag(const CorpCredentials& corp, const std::string& id, const std::string& name);
  Status DeleteCorpTags(const CorpCredentials& corp, const std::vector<std::string>& tag_ids,
                        const std::vector<std::string>& group_ids);
  // externalcontact/remark: sets the fields given (std::nullopt: unchanged) on one relationship.
  struct RemarkEdit {
    std::optional<std::string> remark, description, remark_company;
    std::optional<std::vector<std::string>> remark_mobiles;
  };
  Status EditRemark(const CorpCredentials& corp, const std::string& userid, const std::string& external_userid,
                    const RemarkEdit& edit);
  // Adds and removes corp tags on one relationship (employee `userid` – customer).
  Status MarkTags(const CorpCredentials& corp, const std::string& userid, const std::string& external_userid,
                  const std::vector<std::string>& add, const std::vector<std::string>& remove);
  // groupchat/list: every group, or only those owned by `owners` (≤100; WeCom answers 81017 "too much data" for a
  // large corp without an owner filter).
  Result<Page<GroupChat>> ListGroupChats(const CorpCredentials& corp, const std::string& cursor, int limit = 1000,
                                         const std::vector<std::string>& owners = {});
  Result<GroupChat> GetGroupChat(const CorpCredentials& corp, const std::string& chat_id);

  // --- Mass messages (§7). The content is WeCom's wire form: {"text": {"content"}, "attachments": [...]}. ---
  struct MsgTemplate {
    std::string msgid;
    // The recipients WeCom would not take: external ids (unknown, or not the sender's customers), or for a group
    // message chat ids (unknown, or groups the sender does not own).
    std::vector<std::string> fail_list;
  };
  // One add_msg_template for chat_type "single" from `sender` (≤ the pack's max recipients per call).
  Result<MsgTemplate> AddMsgTemplate(const CorpCredentials& corp, const std::string& sender,
                                     const std::vector<std::string>& external_userids,
                                     const boost::json::object& content);
  // One add_msg_template for chat_type "group": from `sender`, who must own the groups, to `chat_ids` (≤2000; empty:
  // every group the sender owns).
  Result<MsgTemplate> AddGroupMsgTemplate(const CorpCredentials& corp, const std::string& sender,
                                          const std::vector<std::string>& chat_ids,
                                          const boost::json::object& content);
  struct GroupMsg {
    std::string msgid, creator, text;
    int64_t create_time = 0;
    int create_type = 0;  // 0 the corp (API or admin), 1 a member's own
  };
  // get_groupmsg_list_v2 for messages of `chat_type` ("single" to customers, "group" to customer groups) created in
  // [start_s, end_s] (≤ a month apart); filter_type 0 corp, 1 personal, 2 all.
  Result<Page<GroupMsg>> ListGroupMsgs(const CorpCredentials& corp, int64_t start_s, int64_t end_s, int filter_type,
                                       const std::string& cursor, int limit = 100,
                                       const std::string& chat_type = "single");
  struct GroupMsgTask {
    std::string userid;
    int status = 0;  // 0 not sent yet, 2 sent (the member confirmed)
    int64_t send_time = 0;
  };
  Result<Page<GroupMsgTask>> GetGroupMsgTasks(const CorpCredentials& corp, const std::string& msgid,
                                              const std::string& cursor, int limit = 1000);
  // A row of a single message names the customer (external_userid), of a group message the group (chat_id); WeCom
  // lists only the groups already sent to.
  struct GroupMsgSend {
    std::string external_userid, userid;
    std::string chat_id;
    int status = 0;  // 0 not sent, 1 sent, 2 not a friend (a group: dismissed, or another owner), 3 over the limit
    int64_t send_time = 0;
  };
  Result<Page<GroupMsgSend>> GetGroupMsgSendResults(const CorpCredentials& corp, const std::string& msgid,
                                                    const std::string& userid, const std::string& cursor,
                                                    int limit = 1000);
  Status RemindGroupMsg(const CorpCredentials& corp, const std::string& msgid);
  Status CancelGroupMsg(const CorpCredentials& corp, const std::string& msgid);

  // media/upload (上传临时素材): `bytes` as a file named `filename` of `content_type`, for `type` image, voice, video
  // or file; WeCom checks sizes and formats (40004/40005/40006, 41005). Retried like any call: a duplicate upload
  // only leaves an unused media id behind.
  Result<UploadedMedia> UploadMedia(const CorpCredentials& corp, const std::string& type, const std::string& filename,
                                    const std::string& content_type, std::string_view bytes);

  // --- Sidebar pages (聊天工具栏): the member behind an OAuth code, and the app's JS-SDK ticket. ---
  // The member who opened a page: the code WeCom's OAuth redirect carried (good once, 5 minutes). A self-built
  // app asks auth/getuserinfo under the corp's token; a third-party app asks service/auth/getuserinfo3rd under the
  // suite's token (the code names the corp). A visitor who is not a member of the corp has no userid:
  // PermissionDenied "wecom_not_a_member".
  struct OAuthUser {
    std::string corp_id, userid;
  };
  Result<OAuthUser> GetOAuthUser(const CorpCredentials& corp, const std::string& code);
  // ticket/get?type=agent_config: the app's jsapi ticket for agentConfig signatures, valid `expires_in` seconds.
  // WeCom allows 100 fetches an hour per app: callers cache it (wecom_link::Sidebar does).
  struct JsTicket {
    std::string ticket;
    int64_t expires_in = 0;
  };
  Result<JsTicket> GetAgentTicket(const CorpCredentials& corp);

  // Forgets a corp's cached token (e.g. after its secret changed).
  void ForgetToken(const CorpCredentials& corp);

  // --- The third-party suite (§2.2). Set once at start, before any call. ---
  void SetSuite(SuiteOptions suite);
  bool HasSuite() const { return !suite_.suite_id.empty(); }
  const std::string& SuiteId() const { return suite_.suite_id; }
  // A one-time code for one install (service/get_pre_auth_code), valid `expires_in` seconds.
  struct PreAuthCode {
    std::string code;
    int64_t expires_in = 0;
  };
  Result<PreAuthCode> GetPreAuthCode();
  // Exchanges the auth_code of a finished install (good once, 10 minutes) for the corp's permanent code.
  Result<PermanentCode> GetPermanentCode(const std::string& auth_code);

 private:
  struct CachedToken {
    std::string token;
    int64_t refresh_after_ms = 0;
  };
  Result<std::string> Token(const CorpCredentials& corp, const std::string& stale);
  // One token request: gettoken, or for a third-party corp get_corp_token under the suite's token.
  Result<boost::json::object> FetchToken(const CorpCredentials& corp);
  // The suite_access_token (cached like a corp token; `stale` forces a new one).
  Result<std::string> SuiteToken(const std::string& stale);
  // A call under the suite_access_token, retried once with a new token on 40082/42009 and on busy answers.
  Result<boost::json::object> SuiteCall(const std::string& path, const boost::json::object& body, bool get = false,
                                        const std::vector<std::pair<std::string, std::string>>& query = {});
  // Call with the body already encoded as `content_type` ("" for a GET).
  Result<boost::json::object> Send(const CorpCredentials& corp, const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& query,
                                   const std::string& method, const std::string& body,
                                   const std::string& content_type, bool idempotent);
  // add_msg_template for `chat_type`, with `recipients` in that chat type's field (external_userid, chat_id_list).
  Result<MsgTemplate> AddTemplate(const CorpCredentials& corp, const std::string& chat_type, const std::string& sender,
                                  const std::vector<std::string>& recipients, const boost::json::object& content);
  Result<boost::json::object> Exchange(const HttpCall& call);
  void WaitForBudget(const std::string& corp_id, const std::string& path);
  void Sleep(int64_t ms);

  Transport transport_;
  const Clock& clock_;
  ClientOptions options_;
  std::mutex mu_;
  std::condition_variable refreshed_;
  std::map<std::pair<std::string, std::string>, CachedToken> tokens_;        // guarded by mu_
  std::map<std::pair<std::string, std::string>, bool> refreshing_;           // guarded by mu_
  std::map<std::tuple<std::string, std::string, int64_t>, int64_t> budget_;  // guarded by mu_
  SuiteOptions suite_;  // set before use, then read-only
  std::mutex suite_mu_;  // serialises suite token refreshes (rare: one per two hours)
  CachedToken suite_token_;  // guarded by suite_mu_
};

}  // namespace koi::wecom
