// Parsing the parts of a request Koi owns: the request target (path + query) and JSON bodies.
// Both run on untrusted input and are covered by the fuzz target http/request_fuzz.cc.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http_types.h"

namespace koi::http {

// Fills request.path and request.query from request.target. Rejects targets that are not origin-form, contain
// bad percent-escapes, NUL bytes, or a ".." segment (InvalidArgument "bad_target").
Status ParseTarget(Request& request);

// Percent-decodes `in` ('+' becomes ' ' when `plus_is_space`). Returns false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);

// Parses the body as JSON. Requires an application/json content type (415 "unsupported_media_type") and valid
// JSON at most `max_depth` deep (400 "invalid_json", with the byte offset of the error).
Result<boost::json::value> ParseJsonBody(const Request& request, int max_depth = 32);

struct Paging {
  int page = 1;
  int page_size = 20;
};
// ?page=&page_size= of a paged list (defaults 1 and `default_size`); InvalidArgument "invalid_paging" unless
// page >= 1 and 1 <= page_size <= max_size.
Result<Paging> ParsePaging(const Request& request, int default_size, int max_size);

}  // namespace koi::http
