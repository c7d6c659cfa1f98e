#include "wecom/protocol/errcode.h"

#include <algorithm>
#include <vector>

namespace koi::wecom {

const std::vector<ErrcodeInfo>& AllErrcodes() {
  static const std::vector<ErrcodeInfo> codes = {
      {-1, "busy", "WeCom is busy; retry", true, false},
      {0, "ok", "ok", false, false},
      {40001, "invalid_credential", "invalid secret or credential", false, true},
      {40003, "invalid_userid", "invalid userid", false, false},
      {40004, "invalid_media_type", "invalid media type (image, voice, video or file)", false, false},
      {40005, "invalid_file_type", "invalid file type: the format is not one WeCom takes for the media type", false,
       false},
      {40006, "invalid_file_size", "invalid file size: empty, or over the media type's limit", false, false},
      {40007, "invalid_media_id", "invalid media_id: unknown, or older than its 3 days", false, false},
      {40013, "invalid_corpid", "invalid corpid", false, false},
      {40014, "invalid_access_token", "invalid access_token", false, true},
      {40077, "invalid_pre_auth_code", "invalid pre_auth_code (unknown, used or expired)", false, false},
      {40078, "invalid_auth_code", "invalid auth_code: unknown, expired or already used (it is good once)", false,
       false},
      {40080, "invalid_suite_secret", "invalid suite_secret", false, false},
      {40082, "invalid_suite_token", "invalid suite_access_token", false, false},
      {40083, "invalid_suite_id", "invalid suite_id", false, false},
      {40084, "invalid_permanent_code", "invalid permanent_code (the corp cancelled the authorisation?)", false,
       false},
      {40085, "invalid_suite_ticket", "invalid suite_ticket (unknown or older than 30 minutes)", false, false},
      {40091, "invalid_secret", "the secret is invalid (another corp's?)", false, false},
      {40096, "invalid_external_userid", "invalid external_userid", false, false},
      {41001, "access_token_missing", "access_token missing", false, false},
      {41005, "media_data_missing", "media data missing: no file part named media", false, false},
      {41035, "external_userid_missing", "external userid missing", false, false},
      {41037, "contact_way_type_missing", "contact way type missing", false, false},
      {41051, "customer_started_chatting", "the customer has started chatting; welcome message not sent", false, false},
      {42001, "access_token_expired", "access_token expired", false, true},
      {40029, "invalid_oauth_code", "invalid OAuth code: unknown, expired (5 minutes) or already used", false, false},
      {40050, "invalid_chat_id", "invalid chat_id", false, false},
      {40068, "invalid_tag_id", "invalid tag id (the tag was deleted in WeCom?)", false, false},
      {40058, "invalid_parameter", "a parameter is invalid or out of range", false, false},
      {42009, "suite_token_expired", "suite_access_token expired", false, false},
      {45009, "rate_limited", "API frequency limit exceeded", true, false},
      {45033, "concurrency_limited", "API concurrency limit exceeded", true, false},
      {47001, "bad_json", "the request body is not valid JSON", false, false},
      {48002, "api_forbidden", "API forbidden: the app lacks the permission", false, false},
      {60011, "no_privilege", "no permission for this member, department or tag", false, false},
      {60003, "department_not_found", "department not found", false, false},
      {60020, "ip_not_trusted", "the calling IP is not in the app's trusted IP list", false, false},
      {60111, "userid_not_found", "userid not found", false, false},
      {81017, "too_much_data", "too much data: give an owner filter", false, false},
      {84061, "no_relationship", "no external-contact relationship between the member and the customer", false, false},
      {84074, "no_external_contact_permission", "the app has no external-contact permission", false, false},
      {90500, "owner_not_resigned", "the group owner has not resigned", false, false},
      {90501, "not_external_group", "the chat is not an external group", false, false},
  };
  return codes;
}

ErrcodeInfo LookupErrcode(int code) {
  const auto& all = AllErrcodes();
  auto it = std::find_if(all.begin(), all.end(), [code](const ErrcodeInfo& e) { return e.code == code; });
  if (it != all.end()) return *it;
  return ErrcodeInfo{code, "unknown", "an errcode Koi does not know", false, false};
}

Status StatusFromErrcode(int errcode, std::string_view errmsg) {
  ErrcodeInfo info = LookupErrcode(errcode);
  std::string reason = "wecom_" + std::string(info.name);
  std::string message =
      "WeCom errcode " + std::to_string(errcode) + " (" + std::string(info.meaning) + "): " + std::string(errmsg);
  if (info.retryable) return Status::Unavailable(reason, message);
  switch (errcode) {
    case 48002:
    case 60011:
    case 60020:
    case 84074:
      return Status::PermissionDenied(reason, message);
    case 40003:
    case 40096:
    case 60111:
    case 84061:
      return Status::NotFound(reason, message);
    case 40001:
    case 40014:
    case 42001:
      return Status::Unauthenticated(reason, message);
    default:
      return Status::InvalidArgument(reason, message);
  }
}

}  // namespace koi::wecom
