// The JSON envelope every API response uses, and the one place Status codes become HTTP statuses.
//   success: {"code": 0, "data": …}
//   failure: {"code": <HTTP status>, "reason": "<stable_key>", "message": "<English text>"[, "details": {…}]}
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/status.h"
#include "http/http_types.h"

namespace koi::http {

int HttpStatusFor(StatusCode code);

Response JsonOk(const boost::json::value& data, int status = 200);
Response JsonError(const Status& status);
// The same with "details": what the client needs to fix the request (e.g. the bad rows of an imported file).
Response JsonError(const Status& status, const boost::json::object& details);
// For errors raised by the HTTP layer itself (no Status code maps to 405, 413, 415, 431).
Response JsonError(int http_status, std::string_view reason, std::string_view message);

}  // namespace koi::http
