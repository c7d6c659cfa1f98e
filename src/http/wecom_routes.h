// The WeCom link's API (SCRM app; issue 4): link state and sync progress, linking a self-built app, starting a
// full sync, and the synced employees. The contract is api/openapi.yaml.
#pragma once

#include "domain/apps/apps.h"
#include "domain/wecom_link/link.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard, link and apps outlive the router. Also serves SCRM's home, GET /api/v1/scrm/overview.
void AddWecomRoutes(Router& router, const AuthGuard& guard, wecom_link::WecomLink& link, apps::AppService& apps);

}  // namespace koi::http
