#include "http/auth_guard.h"

#include "domain/accounts/secrets.h"
#include "http/envelope.h"

namespace koi::http {
namespace {

constexpr const char* kSessionCookie = "koi_session";
constexpr const char* kCsrfCookie = "koi_csrf";

bool IsMutating(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// "https://host:port/..." -> "host:port"
std::string OriginHost(const std::string& origin) {
  auto p = origin.find("://");
  if (p == std::string::npos) return "";
  std::string rest = origin.substr(p + 3);
  return rest.substr(0, rest.find('/'));
}

}  // namespace

std::string AuthGuard::Cookie(const Request& request, std::string_view name) {
  const std::string cookies = request.Header("cookie");
  std::string_view header = cookies;
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = header.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return "";
}

accounts::Client AuthGuard::ClientOf(const Request& request) {
  return {.ip = request.remote_addr, .user_agent = request.Header("user-agent")};
}

std::string AuthGuard::CookieAttributes(int64_t max_age_s, bool http_only) const {
  std::string a = "; Path=/; SameSite=Lax; Max-Age=" + std::to_string(max_age_s);
  if (http_only) a += "; HttpOnly";
  if (cookie_secure_) a += "; Secure";
  return a;
}

void AuthGuard::SetSessionCookies(Response& r, const accounts::IssuedSession& s) const {
  // The absolute expiry bounds the cookie; idle expiry is enforced on the server.
  int64_t max_age = s.max_age_s;
  r.SetHeader("Set-Cookie", std::string(kSessionCookie) + "=" + s.token + CookieAttributes(max_age, true));
  r.SetHeader("Set-Cookie", std::string(kCsrfCookie) + "=" + accounts::CsrfTokenFor(s.token) +
                                CookieAttributes(max_age, false));
}

void AuthGuard::ClearSessionCookies(Response& r) const {
  r.SetHeader("Set-Cookie", std::string(kSessionCookie) + "=" + CookieAttributes(0, true));
  // A fresh pre-login CSRF token, so the login form works without another round trip.
  r.SetHeader("Set-Cookie", std::string(kCsrfCookie) + "=" + accounts::RandomToken() +
                                CookieAttributes(7 * 24 * 3600, false));
}

void AuthGuard::EnsureCsrfCookie(const Request& request, Response& r) const {
  std::string session = Cookie(request, kSessionCookie);
  std::string want = session.empty() ? Cookie(request, kCsrfCookie) : accounts::CsrfTokenFor(session);
  if (!want.empty() && Cookie(request, kCsrfCookie) == want) return;
  if (want.empty()) want = accounts::RandomToken();
  r.SetHeader("Set-Cookie", std::string(kCsrfCookie) + "=" + want + CookieAttributes(7 * 24 * 3600, false));
}

Status AuthGuard::CheckCsrf(const Request& request, const std::string* session_token) const {
  if (!IsMutating(request.method)) return Status::Ok();
  const Status refused = Status::PermissionDenied(
      "csrf_failed", "the request lacks a valid X-CSRF-Token header; reload the page and try again");
  std::string origin = request.Header("origin");
  if (!origin.empty() && OriginHost(origin) != request.Header("host")) return refused;
  std::string header = request.Header("x-csrf-token");
  if (header.empty()) return refused;
  if (session_token != nullptr)
    return accounts::SecureEquals(header, accounts::CsrfTokenFor(*session_token)) ? Status::Ok() : refused;
  std::string cookie = Cookie(request, kCsrfCookie);
  return !cookie.empty() && accounts::SecureEquals(header, cookie) ? Status::Ok() : refused;
}

Result<accounts::Principal> AuthGuard::SessionOf(const Request& request) const {
  return accounts_.Authenticate(Cookie(request, kSessionCookie));
}

Handler AuthGuard::Public(Handler handler) const {
  return [this, handler = std::move(handler)](Request& request) {
    std::string session = Cookie(request, kSessionCookie);
    // A logged-in browser's token is its session's; otherwise the double-submit cookie.
    Status csrf = CheckCsrf(request, nullptr);
    if (!csrf.ok() && !session.empty()) csrf = CheckCsrf(request, &session);
    if (!csrf.ok()) return JsonError(csrf);
    return handler(request);
  };
}

Handler AuthGuard::Authed(AuthedHandler handler, GuardOptions options) const {
  return [this, handler = std::move(handler), options = std::move(options)](Request& request) {
    std::string token = Cookie(request, kSessionCookie);
    auto who = accounts_.Authenticate(token);
    if (!who.ok()) {
      Response r = JsonError(who.status());
      if (!token.empty() && who.status().code() == StatusCode::kUnauthenticated) ClearSessionCookies(r);
      return r;
    }
    if (Status csrf = CheckCsrf(request, &token); !csrf.ok()) return JsonError(csrf);
    if (options.admin_only && !who->is_admin())
      return JsonError(Status::PermissionDenied("admin_only", "only the team's admin account may do this"));
    if (!options.app.empty()) {
      if (Status s = apps_.RequireActivated(who->team, options.app); !s.ok()) return JsonError(s);
    }
    return handler(request, *who);
  };
}

}  // namespace koi::http
