#include "http/target.h"

#include <charconv>

#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <cmath>

#include "core/utf8.h"

namespace koi::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// JSON has no Infinity/NaN: a number too large for a double (1e999) parses as infinity and would not serialise.
bool AllNumbersFinite(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_: return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& e : v.get_array())
        if (!AllNumbersFinite(e)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object())
        if (!AllNumbersFinite(kv.value())) return false;
      return true;
    default: return true;
  }
}

Status BadTarget(std::string message) { return Status::InvalidArgument("bad_target", std::move(message)); }

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

Status ParseTarget(Request& request) {
  std::string_view t = request.target;
  if (t.empty() || t[0] != '/') return BadTarget("request target must start with /");
  if (t.size() > 8192) return BadTarget("request target too long");
  auto q = t.find('?');
  std::string_view raw_path = t.substr(0, q);
  std::string_view raw_query = q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  auto hash = raw_query.find('#');
  if (hash != std::string_view::npos) raw_query = raw_query.substr(0, hash);
  if (!PercentDecode(raw_path, false, request.path)) return BadTarget("malformed percent-escape in path");
  if (request.path.find('\0') != std::string::npos) return BadTarget("NUL byte in path");
  if (!IsValidUtf8(request.path)) return BadTarget("path is not valid UTF-8");
  // Refuse dot-dot segments outright rather than normalising them: nothing legitimate needs them.
  size_t start = 0;
  while (start <= request.path.size()) {
    size_t end = request.path.find('/', start);
    if (end == std::string::npos) end = request.path.size();
    if (request.path.compare(start, end - start, "..") == 0) return BadTarget("'..' is not allowed in paths");
    start = end + 1;
  }
  request.query.clear();
  size_t pos = 0;
  while (pos < raw_query.size()) {
    size_t amp = raw_query.find('&', pos);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view pair = raw_query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, key)) return BadTarget("malformed percent-escape in query");
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, value))
      return BadTarget("malformed percent-escape in query");
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) return BadTarget("query is not valid UTF-8");
    request.query.emplace(std::move(key), std::move(value));
  }
  request.target_parsed = true;
  return Status::Ok();
}

Result<boost::json::value> ParseJsonBody(const Request& request, int max_depth) {
  std::string ct = request.Header("content-type");
  if (ct.rfind("application/json", 0) != 0)
    return Status(StatusCode::kInvalidArgument, "unsupported_media_type", "request body must be application/json");
  boost::json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::json::stream_parser p(boost::json::storage_ptr(), opts);
  boost::system::error_code ec;
  std::size_t n = p.write_some(request.body.data(), request.body.size(), ec);
  if (!ec && n < request.body.size()) ec = boost::json::error::extra_data;
  if (!ec) p.finish(ec);
  if (ec)
    return Status::InvalidArgument("invalid_json",
                                   "request body is not valid JSON (at byte " + std::to_string(n) + "): " + ec.message());
  boost::json::value v = p.release();
  if (!AllNumbersFinite(v)) return Status::InvalidArgument("invalid_json", "request body has a number out of range");
  return v;
}

Result<Paging> ParsePaging(const Request& request, int default_size, int max_size) {
  Paging p{.page = 1, .page_size = default_size};
  auto parse = [](const std::string& text, int& out) {
    if (text.empty()) return true;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
  };
  if (!parse(request.Query("page"), p.page) || !parse(request.Query("page_size"), p.page_size) || p.page < 1 ||
      p.page > 1000000 || p.page_size < 1 || p.page_size > max_size)
    return Status::InvalidArgument("invalid_paging", "page must be >= 1 and page_size 1-" + std::to_string(max_size));
  return p;
}

std::string Request::Query(const std::string& name, const std::string& fallback) const {
  auto it = query.find(name);
  return it == query.end() ? fallback : it->second;
}

std::string Request::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace koi::http
