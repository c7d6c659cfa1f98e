#include "http/dispatcher.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <unordered_map>

#include "core/log.h"
#include "core/metrics.h"
#include "http/envelope.h"
#include "http/target.h"

namespace koi::http {
namespace {

bool SaneRequestId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// The registry locks and builds label strings on every lookup; a per-thread cache of the series keeps that off
// the request path (one lookup per route and status per thread, then plain atomics).
void RecordMetrics(const std::string& route, int status, double seconds) {
  struct Series {
    Counter* requests;
    Histogram* latency;
  };
  thread_local std::unordered_map<std::string, Series> cache;
  std::string key = route;
  key += '|';
  key += std::to_string(status);
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto& reg = MetricsRegistry::Default();
    Series series{&reg.GetCounter("koi_http_requests_total", "HTTP requests by route and status",
                                  {{"route", route}, {"status", std::to_string(status)}}),
                  &reg.GetHistogram("koi_http_request_seconds", "Time to produce a response (excluding network I/O)",
                                    {{"route", route}}, MetricsRegistry::LatencyBuckets())};
    it = cache.emplace(std::move(key), series).first;
  }
  it->second.requests->Inc();
  it->second.latency->Observe(seconds);
}

void AssignRequestId(Request& request) {
  std::string incoming = request.Header("x-request-id");
  request.request_id = SaneRequestId(incoming) ? std::move(incoming) : NewRequestId();
}

// What every response gets once its handler is done, wherever it ran.
struct Finisher {
  std::string method, path, request_id, route_label;
  std::chrono::steady_clock::time_point started;

  void operator()(Response& response) const {
    if (response.status >= 500) spdlog::warn("{} {} -> {}", method, path, response.status);
    Dispatcher::AddCommonHeaders(response, request_id);
    if (method == "HEAD") {
      response.body.clear();
      response.body_source = nullptr;
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    RecordMetrics(route_label, response.status, seconds);
  }
};

}  // namespace

void Dispatcher::AddCommonHeaders(Response& r, const std::string& request_id) {
  r.SetHeader("X-Request-Id", request_id);
  r.SetHeader("X-Content-Type-Options", "nosniff");
  if (r.frame_ancestor.empty()) r.SetHeader("X-Frame-Options", "DENY");
  r.SetHeader("Referrer-Policy", "same-origin");
  r.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  // Element Plus sets inline styles; scripts stay same-origin only.
  r.SetHeader("Content-Security-Policy",
              "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
              "font-src 'self' data:; connect-src 'self'; frame-ancestors " +
                  (r.frame_ancestor.empty() ? std::string("'none'") : r.frame_ancestor) +
                  (r.frame_src.empty() ? std::string() : "; frame-src 'self' " + r.frame_src) +
                  "; base-uri 'self'; form-action 'self'");
  bool api = r.content_type.rfind("application/json", 0) == 0;
  if (api) {
    bool has_cache = false;
    for (const auto& [k, v] : r.headers) has_cache = has_cache || k == "Cache-Control";
    if (!has_cache) r.SetHeader("Cache-Control", "no-store");
  }
}

Dispatcher::Placement Dispatcher::Place(Request& request) const {
  if (!request.target_parsed && !ParseTarget(request).ok()) return Placement::kInline;  // answered with 400 at once
  auto match = router_.Find(request);  // fills path_params, which handling fills again
  // A route runs inline only when it says it never blocks; everything else that is not a route (static files from
  // memory, 404 and 405 envelopes) is cheap and never touches the database.
  if (match.kind != Router::Match::Kind::kFound) return Placement::kInline;
  if (match.async_handler != nullptr) return Placement::kAsync;
  return match.inline_safe ? Placement::kInline : Placement::kWorker;
}

Response Dispatcher::Route(Request& request, std::string& route_label) const {
  Status parsed = request.target_parsed ? Status::Ok() : ParseTarget(request);
  if (!parsed.ok()) {
    route_label = "bad_target";
    return JsonError(parsed);
  }
  auto match = router_.Find(request);
  if (match.kind == Router::Match::Kind::kFound) {
    route_label = *match.pattern;
    if (match.handler != nullptr) return (*match.handler)(request);
    // An asynchronous route called the blocking way: wait for its reply.
    auto done = std::make_shared<std::promise<Response>>();
    auto replied = done->get_future();
    (*match.async_handler)(request, [done](Response r) { done->set_value(std::move(r)); });
    return replied.get();
  }
  if (static_files_ != nullptr && match.kind == Router::Match::Kind::kNotFound) {
    if (auto r = static_files_->Serve(request)) {
      route_label = "static";
      return *r;
    }
  }
  if (match.kind == Router::Match::Kind::kMethodNotAllowed) {
    route_label = "method_not_allowed";
    Response r = JsonError(405, "method_not_allowed", request.method + " is not allowed here; use " + match.allow);
    r.SetHeader("Allow", match.allow);
    return r;
  }
  route_label = "not_found";
  return JsonError(404, "route_not_found", "no such route: " + request.method + " " + request.path);
}

Response Dispatcher::RouteSafely(Request& request, std::string& route_label) const {
  try {
    return Route(request, route_label);
  } catch (const std::exception& e) {
    spdlog::error("{} {} failed: {}", request.method, request.path, e.what());
    return JsonError(500, "internal", "internal error; see the server log for this request id");
  }
}

Response Dispatcher::Handle(Request& request) const {
  const auto started = std::chrono::steady_clock::now();
  AssignRequestId(request);
  RequestIdScope scope(request.request_id);
  std::string route_label = "unknown";
  Response response = RouteSafely(request, route_label);
  Finisher{request.method, request.path, request.request_id, route_label, started}(response);
  return response;
}

void Dispatcher::HandleAsync(Request& request, Reply reply) const {
  const auto started = std::chrono::steady_clock::now();
  Router::Match match;
  if (request.target_parsed || ParseTarget(request).ok()) match = router_.Find(request);
  if (match.kind != Router::Match::Kind::kFound || match.async_handler == nullptr)  // not an async route after all
    return reply(Handle(request));
  AssignRequestId(request);
  RequestIdScope scope(request.request_id);
  auto finish = std::make_shared<Finisher>(
      Finisher{request.method, request.path, request.request_id, *match.pattern, started});
  auto answered = std::make_shared<std::atomic<bool>>(false);
  Reply finished = [finish, answered, reply](Response response) {
    if (answered->exchange(true)) return;  // a handler that replied and then threw: its first answer stands
    (*finish)(response);
    reply(std::move(response));
  };
  try {
    (*match.async_handler)(request, finished);
  } catch (const std::exception& e) {
    spdlog::error("{} {} failed: {}", request.method, request.path, e.what());
    finished(JsonError(500, "internal", "internal error; see the server log for this request id"));
  }
}

}  // namespace koi::http
