// Koi's WeCom client talking to koi-wecom-sandbox in process: the sandbox's dispatcher stands in for HTTP, and
// `refuse()` (when it returns true) stands in for WeCom being unreachable.
#pragma once

#include <functional>
#include <string>

#include "http/dispatcher.h"
#include "wecom/client/client.h"

namespace koi::testing {

inline constexpr const char* kSandboxBaseUrl = "http://sandbox.test";

inline wecom::Transport InProcessTransport(const http::Dispatcher& dispatcher, std::function<bool()> refuse) {
  return [&dispatcher, refuse = std::move(refuse)](const wecom::HttpCall& call) -> Result<std::string> {
    if (refuse && refuse()) return Status::Unavailable("unreachable", "connection refused");
    http::Request r;
    r.method = call.method;
    r.target = call.url.substr(std::string(kSandboxBaseUrl).size());
    r.body = call.body;
    r.headers["content-type"] = call.content_type;
    r.remote_addr = "127.0.0.1";
    return dispatcher.Handle(r).body;
  };
}

}  // namespace koi::testing
