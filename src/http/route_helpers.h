// Small parsers shared by Koi's API routes (customers, segments, messages): JSON bodies and their fields, path and
// query parameters. Each refusal is an InvalidArgument/NotFound Status with the reason the console translates.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/http_types.h"

namespace koi::http {

// null for an absent value.
boost::json::value Opt(const std::optional<int64_t>& v);

// A JSON object body, or InvalidArgument "invalid_argument".
Result<boost::json::object> ObjectBody(const Request& r);

// A string field ("" when absent or not a string).
std::string StrField(const boost::json::object& o, const char* key);

// A list of strings or ids (`key` absent: empty); InvalidArgument "invalid_argument" when it is not one.
Result<std::vector<std::string>> StrList(const boost::json::object& o, const char* key);
Result<std::vector<int64_t>> IdList(const boost::json::object& o, const char* key);

// A positive integer path parameter, or NotFound `reason`.
Result<int64_t> IdParam(const Request& r, const char* name, const char* reason);

// A tag change's body {"add": [...], "remove": [...]} (a field absent: empty); InvalidArgument otherwise.
struct TagChange {
  std::vector<std::string> add, remove;
};
Result<TagChange> TagChangeBody(const boost::json::object& o);

// 302 to `location` (not cached): the end of a browser's round trip through WeCom.
Response Redirect(const std::string& location);

// An optional integer query parameter; InvalidArgument "invalid_filter" when present but not an integer.
Result<std::optional<int64_t>> IntParam(const Request& r, const std::string& name);

}  // namespace koi::http
