// Dispatcher: everything that happens to a request between the socket and the handler, independent of Beast.
//
// Order: request id (kept from X-Request-Id when it is sane, else new) -> target parsing -> router (API routes)
// -> static files -> 404/405 envelope. It catches exceptions from handlers (500, logged with the request id),
// adds security headers, and records koi_http_requests_total / koi_http_request_seconds by route pattern.
// The server decides where to run a request with RunsInline(); Handle() itself may block (database work).
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
  Response Handle(Request& request) const;

  // True if the request can be handled on the I/O thread (static files and inline-safe routes). Parses the
  // target into `request` so Handle does not parse it again.
  bool RunsInline(Request& request) const;

  // Adds the headers every response carries (also used by the server for its own error responses).
  static void AddCommonHeaders(Response& response, const std::string& request_id);

 private:
  Response Route(Request& request, std::string& route_label) const;

  const Router& router_;
  const StaticFiles* static_files_;
};

}  // namespace koi::http
