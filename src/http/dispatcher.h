// Dispatcher: everything that happens to a request between the socket and the handler, independent of Beast.
//
// Order: request id (kept from X-Request-Id when it is sane, else new) -> target parsing -> router (API routes)
// -> static files -> 404/405 envelope. It catches exceptions from handlers (500, logged with the request id),
// adds security headers, and records koi_http_requests_total / koi_http_request_seconds by route pattern.
// The server decides where to run a request with Place(); Handle() itself may block (database work), HandleAsync()
// never does.
// Thread safety: immutable after construction; Handle is thread-safe.
#pragma once

#include <memory>

#include "http/router.h"
#include "http/static_files.h"

namespace koi::http {

class Dispatcher {
 public:
  Dispatcher(const Router& router, const StaticFiles* static_files)
      : router_(router), static_files_(static_files) {}

  // REQUIRES: request.method, request.target, request.headers and request.body set.
  // An asynchronous route is run here too, waiting for its reply.
  Response Handle(Request& request) const;

  enum class Placement {
    kInline,  // Handle on the I/O thread: static files, 404/405/400 envelopes, inline-safe routes
    kAsync,   // HandleAsync on the I/O thread: a route added with AddAsync
    kWorker,  // Handle on the worker pool: everything else (it may block)
  };
  // Parses the target into `request` so the handling does not parse it again.
  Placement Place(Request& request) const;

  // Starts the request on this thread and returns; `reply` receives the finished response (common headers added,
  // metrics recorded) exactly once, on whichever thread the route answers from.
  void HandleAsync(Request& request, Reply reply) const;

  // Adds the headers every response carries (also used by the server for its own error responses).
  static void AddCommonHeaders(Response& response, const std::string& request_id);

 private:
  Response Route(Request& request, std::string& route_label) const;
  // Route() with exceptions turned into a 500 envelope.
  Response RouteSafely(Request& request, std::string& route_label) const;

  const Router& router_;
  const StaticFiles* static_files_;
};

}  // namespace koi::http
