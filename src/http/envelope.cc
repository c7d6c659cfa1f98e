#include "http/envelope.h"

#include "core/utf8.h"

#include <boost/json/serialize.hpp>

namespace koi::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted: return 409;
    case StatusCode::kFailedPrecondition: return 422;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kInternal: return 500;
    case StatusCode::kUnavailable: return 503;
  }
  return 500;
}

Response JsonOk(const boost::json::value& data, int status) {
  Response r;
  r.status = status;
  boost::json::object env;
  env["code"] = 0;
  env["data"] = data;
  r.body = boost::json::serialize(env);
  return r;
}

Response JsonError(int http_status, std::string_view reason, std::string_view message) {
  Response r;
  r.status = http_status;
  boost::json::object env;
  env["code"] = http_status;
  env["reason"] = reason;
  env["message"] = ToValidUtf8(message);
  r.body = boost::json::serialize(env);
  return r;
}

Response JsonError(const Status& status) {
  int http = HttpStatusFor(status.code());
  if (status.reason() == "unsupported_media_type") http = 415;
  // Internal details (SQL text, file paths) stay in the log; the client gets a generic message.
  if (http == 500) return JsonError(500, "internal", "internal error; see the server log for this request id");
  // Storage failures carry driver text (SQL, key values) that stays in the log; the client gets the reason.
  std::string_view message = status.message();
  const std::string_view reason = status.reason();
  if (reason == "database_busy" || reason == "constraint_violation" || reason == "database_unavailable" ||
      reason == "database_error")
    message = "the database could not complete the request; try again";
  Response r = JsonError(http, reason, message);
  if (int64_t after = status.retry_after_seconds(); after > 0) {
    // Insert before the closing brace of the serialised envelope object.
    r.body.insert(r.body.size() - 1, ",\"retry_after\":" + std::to_string(after));
    r.SetHeader("Retry-After", std::to_string(after));
  }
  return r;
}

Response JsonError(const Status& status, const boost::json::object& details) {
  Response r = JsonError(status);
  if (r.status != 500) r.body.insert(r.body.size() - 1, ",\"details\":" + boost::json::serialize(details));
  return r;
}

}  // namespace koi::http
