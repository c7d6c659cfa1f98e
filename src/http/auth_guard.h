// AuthGuard: the session and CSRF checks every API route goes through, and the cookies that carry them.
//
// Cookies: `koi_session` (HttpOnly, SameSite=Lax) holds the opaque session token; `koi_csrf` (readable by the
// console's script, SameSite=Lax) holds the CSRF token, which the console echoes in `X-CSRF-Token` on every
// state-changing request. With a session the token must be the session's own (accounts::CsrfTokenFor); before
// login it must match the cookie (double submit). A cross-site Origin is refused outright.
//
// Public(h) wraps routes that need no session; Authed(h, options) resolves the session (401 "unauthenticated"),
// and optionally requires the admin role (403 "admin_only") or an activated app (403 "app_not_activated").
// Thread safety: immutable after construction; the wrapped handlers are thread-safe.
#pragma once

#include <functional>
#include <string>

#include "domain/accounts/accounts.h"
#include "domain/apps/apps.h"
#include "http/router.h"

namespace koi::http {

struct GuardOptions {
  bool admin_only = false;
  std::string app;  // "scrm" / "cloud_store": the team must have activated it
};

using AuthedHandler = std::function<Response(Request&, const accounts::Principal&)>;

class AuthGuard {
 public:
  AuthGuard(accounts::AccountService& accounts, apps::AppService& apps, bool cookie_secure)
      : accounts_(accounts), apps_(apps), cookie_secure_(cookie_secure) {}

  Handler Public(Handler handler) const;
  Handler Authed(AuthedHandler handler, GuardOptions options = {}) const;

  // The session behind the request's cookie, or Unauthenticated.
  Result<accounts::Principal> SessionOf(const Request& request) const;
  // Sets both cookies for a new session / clears both.
  void SetSessionCookies(Response& response, const accounts::IssuedSession& session) const;
  void ClearSessionCookies(Response& response) const;
  // Gives a request without a CSRF cookie one (a random pre-login token, or its session's token).
  void EnsureCsrfCookie(const Request& request, Response& response) const;

  static accounts::Client ClientOf(const Request& request);
  static std::string Cookie(const Request& request, std::string_view name);

 private:
  Status CheckCsrf(const Request& request, const std::string* session_token) const;
  std::string CookieAttributes(int64_t max_age_s, bool http_only) const;

  accounts::AccountService& accounts_;
  apps::AppService& apps_;
  bool cookie_secure_;
};

}  // namespace koi::http
