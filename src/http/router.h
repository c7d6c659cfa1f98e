// Router: maps (method, path) to a handler. Patterns are literal segments and `:name` parameters
// ("/api/v1/jobs/:id"); a parameter matches one non-empty segment. Literal segments win over parameters.
// Routes marked `inline_safe` run on the I/O thread (only for handlers that never block: no database, no
// outbound calls); all others run on the worker pool. Asynchronous routes (AddAsync) start on the I/O thread too
// and hand their slow part to a thread of their own, which answers through the Reply; no worker waits for them.
// Thread safety: add routes before serving; Match is then read-only and thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/http_types.h"

namespace koi::http {

using Handler = std::function<Response(Request&)>;
// Called exactly once per request, from any thread.
using Reply = std::function<void(Response)>;
// Must not block and must not throw after it called `reply` (or handed it on).
using AsyncHandler = std::function<void(Request&, Reply reply)>;

struct RouteOptions {
  bool inline_safe = false;
};

class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler, RouteOptions options = {});
  void AddAsync(const std::string& method, const std::string& pattern, AsyncHandler handler);

  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
    const Handler* handler = nullptr;              // set for a route added with Add
    const AsyncHandler* async_handler = nullptr;   // set for a route added with AddAsync
    const std::string* pattern = nullptr;  // for metrics labels
    bool inline_safe = false;
    std::string allow;  // for 405: "GET, POST"
  };
  // On kFound fills request.path_params.
  Match Find(Request& request) const;
  // Every (method, pattern) in the order added; tests use it to prove a check covers every route.
  std::vector<std::pair<std::string, std::string>> Routes() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
    return out;
  }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    AsyncHandler async_handler;
    RouteOptions options;
  };
  static std::vector<std::string_view> Split(std::string_view path);
  void Index(Route r);
  // Number of literal segments matched, or -1 for no match.
  static int Score(const Route& route, const std::vector<std::string_view>& parts);

  std::vector<Route> routes_;
  // Indexes into routes_ by segment count, in the order added: a path is scored only against routes of its length.
  std::vector<std::vector<size_t>> by_length_;
};

}  // namespace koi::http
