#include "http/route_helpers.h"

#include <charconv>

#include <boost/json.hpp>

#include "http/target.h"

namespace koi::http {

namespace json = boost::json;

json::value Opt(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

// A JSON object body, or the error to answer.
Result<json::object> ObjectBody(const Request& r) {
  KOI_ASSIGN_OR_RETURN(auto body, ParseJsonBody(r));
  if (!body.is_object()) return Status::InvalidArgument("invalid_argument", "the request body must be a JSON object");
  return std::move(body.as_object());
}

std::string StrField(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A list of strings (`key` absent: empty); InvalidArgument when it is not one.
Result<std::vector<std::string>> StrList(const json::object& o, const char* key) {
  std::vector<std::string> out;
  auto* v = o.if_contains(key);
  if (!v) return out;
  if (!v->is_array()) return Status::InvalidArgument("invalid_argument", std::string(key) + " must be a list of strings");
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) return Status::InvalidArgument("invalid_argument", std::string(key) + " must be a list of strings");
    out.emplace_back(x.as_string());
  }
  return out;
}

Result<TagChange> TagChangeBody(const json::object& o) {
  TagChange out;
  KOI_ASSIGN_OR_RETURN(out.add, StrList(o, "add"));
  KOI_ASSIGN_OR_RETURN(out.remove, StrList(o, "remove"));
  return out;
}

Response Redirect(const std::string& location) {
  Response out;
  out.status = 302;
  out.content_type = "text/plain; charset=utf-8";
  out.SetHeader("Location", location);
  out.SetHeader("Cache-Control", "no-store");
  return out;
}

Result<std::vector<int64_t>> IdList(const json::object& o, const char* key) {
  std::vector<int64_t> out;
  auto* v = o.if_contains(key);
  if (!v) return out;
  if (!v->is_array()) return Status::InvalidArgument("invalid_argument", std::string(key) + " must be a list of ids");
  for (const auto& x : v->as_array()) {
    if (!x.is_int64()) return Status::InvalidArgument("invalid_argument", std::string(key) + " must be a list of ids");
    out.push_back(x.as_int64());
  }
  return out;
}

// An integer path parameter, or NotFound `reason`.
Result<int64_t> IdParam(const Request& r, const char* name, const char* reason) {
  const std::string& text = r.path_params.at(name);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return Status::NotFound(reason, "no such item");
  return v;
}

Result<std::optional<int64_t>> IntParam(const Request& r, const std::string& name) {
  const std::string text = r.Query(name);
  if (text.empty()) return std::optional<int64_t>();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    return Status::InvalidArgument("invalid_filter", name + " must be an integer");
  return std::optional<int64_t>(v);
}

}  // namespace koi::http
