// Logging: spdlog, with the current request id on every line and helpers that keep secrets out of logs.
//
// InitLogging() is called once by main(). Code logs through spdlog directly (spdlog::info(...)). The request id
// is thread-local: RequestIdScope sets it for the duration of a handler or job; lines logged outside any scope
// show "-". Never pass a secret (password, token, app secret, EncodingAESKey, session id) to a log call; wrap
// connection strings with RedactUrl().
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"

namespace koi {

void InitLogging(const LogSettings& settings);

// The id of the request or job being served by this thread ("-" when none).
std::string_view CurrentRequestId();

class RequestIdScope {
 public:
  explicit RequestIdScope(std::string id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

// A fresh random request id: 16 lowercase hex characters.
std::string NewRequestId();

// "postgresql://koi:secret@db/koi?password=x" -> "postgresql://koi:***@db/koi?password=***".
std::string RedactUrl(std::string_view url);

}  // namespace koi
