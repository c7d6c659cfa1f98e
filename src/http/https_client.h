// HttpsPostJson: one blocking HTTPS POST with certificate verification and a 10-second deadline, for outbound calls
// to providers (Tencent Cloud SMS now; WeCom's client will reuse it). No Beast types leak out of this header.
// Thread safety: each call is independent; safe to call from any worker thread (never from an I/O thread).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace koi::http {

// POSTs `body` to an https:// (or, for local stand-ins, http://) URL with the given headers. Returns the response
// body for any 2xx-5xx answer; kUnavailable when the host cannot be reached, TLS fails or the deadline passes.
Result<std::string> HttpsPostJson(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& body);

// Same for any method ("GET" sends no body).
Result<std::string> HttpsRequest(const std::string& method, const std::string& url,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const std::string& body);

struct HttpReply {
  int status = 0;
  std::string body;
};
// Same with the status code and a deadline for the whole exchange (koi-wecom-sandbox delivers callbacks with it,
// giving each the 5 s WeCom gives).
Result<HttpReply> HttpExchange(const std::string& method, const std::string& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, int64_t timeout_ms);

}  // namespace koi::http
