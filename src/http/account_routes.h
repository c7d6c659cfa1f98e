// The accounts issue's API: auth (register, login, SMS codes, password reset, logout), my account, members,
// audit log, the app market and the app-scoped overviews, plus the development SMS inbox when the console SMS
// provider is in use. The contract is api/openapi.yaml.
#pragma once

#include "domain/accounts/accounts.h"
#include "domain/apps/apps.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard, accounts and apps outlive the router.
void AddAccountRoutes(Router& router, const AuthGuard& guard, accounts::AccountService& accounts,
                      apps::AppService& apps);

}  // namespace koi::http
