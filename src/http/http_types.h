// Request and Response: the HTTP messages handlers see. Plain structs with no Boost/Beast types, so handler code
// compiles fast and can be tested without a socket. Header names are lowercase.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace koi::http {

struct Request {
  std::string method;  // "GET", "POST", …
  std::string target;  // raw request target: "/api/v1/jobs?page=2"
  std::string path;    // percent-decoded path without the query: "/api/v1/jobs"
  std::multimap<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;       // lowercase names
  std::map<std::string, std::string> path_params;   // filled by the router: {"id": "7"}
  std::string body;
  std::string remote_addr;
  std::string request_id;
  bool target_parsed = false;  // set by ParseTarget on success, so the target is parsed once per request

  // First value of a query parameter, or `fallback`.
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  // Header value or "".
  std::string Header(const std::string& lowercase_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // A body too large to hold (a file download): when set, `body` is ignored and the body is `body_size` bytes that
  // the server asks for piece by piece on a worker thread, writing each before asking for the next. The source
  // fills `piece` with the next bytes, or leaves it empty after the last; returning false (an error) closes the
  // connection, so the client sees a body shorter than its Content-Length rather than a wrong one.
  std::function<bool(std::string& piece)> body_source;
  int64_t body_size = 0;
  // The one origin allowed to frame this response (CSP frame-ancestors); empty: none may (X-Frame-Options DENY).
  std::string frame_ancestor;
  // Other origins this page may frame (CSP frame-src besides 'self', space-separated); empty: its own only.
  std::string frame_src;

  void SetHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

}  // namespace koi::http
