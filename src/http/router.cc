#include "http/router.h"

#include <algorithm>

namespace koi::http {

std::vector<std::string_view> Router::Split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

void Router::Add(const std::string& method, const std::string& pattern, Handler handler, RouteOptions options) {
  Route r{method, pattern, {}, std::move(handler), nullptr, options};
  for (auto s : Split(pattern)) r.segments.emplace_back(s);
  Index(std::move(r));
}

void Router::Index(Route r) {
  const size_t length = r.segments.size();
  if (by_length_.size() <= length) by_length_.resize(length + 1);
  by_length_[length].push_back(routes_.size());
  routes_.push_back(std::move(r));
}

void Router::AddAsync(const std::string& method, const std::string& pattern, AsyncHandler handler) {
  Route r{method, pattern, {}, nullptr, std::move(handler), {}};
  for (auto s : Split(pattern)) r.segments.emplace_back(s);
  Index(std::move(r));
}

int Router::Score(const Route& route, const std::vector<std::string_view>& parts) {
  if (route.segments.size() != parts.size()) return -1;
  int literal = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& seg = route.segments[i];
    if (!seg.empty() && seg[0] == ':') continue;
    if (seg != parts[i]) return -1;
    ++literal;
  }
  return literal;
}

Router::Match Router::Find(Request& request) const {
  Match m;
  auto parts = Split(request.path);
  const Route* best = nullptr;
  int best_score = -1;
  std::vector<std::string> allowed;
  if (parts.size() >= by_length_.size()) return m;
  for (size_t index : by_length_[parts.size()]) {
    const Route& r = routes_[index];
    int score = Score(r, parts);
    if (score < 0) continue;
    bool method_ok = r.method == request.method || (request.method == "HEAD" && r.method == "GET");
    if (!method_ok) {
      if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) allowed.push_back(r.method);
      continue;
    }
    if (score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  if (best == nullptr) {
    if (!allowed.empty()) {
      m.kind = Match::Kind::kMethodNotAllowed;
      for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
    }
    return m;
  }
  request.path_params.clear();
  for (size_t i = 0; i < parts.size(); ++i)
    if (!best->segments[i].empty() && best->segments[i][0] == ':')
      request.path_params[best->segments[i].substr(1)] = std::string(parts[i]);
  m.kind = Match::Kind::kFound;
  if (best->async_handler)
    m.async_handler = &best->async_handler;
  else
    m.handler = &best->handler;
  m.pattern = &best->pattern;
  m.inline_safe = best->options.inline_safe;
  return m;
}

}  // namespace koi::http
