// The WeCom link's API (SCRM app; issue 4): link state and sync progress, linking a self-built app, starting a
// full sync, and the synced employees; and the callback URL WeCom calls (GET: URL check, POST: events), which
// needs no session (WeCom signs it instead). The contract is api/openapi.yaml.
#pragma once

#include "domain/apps/apps.h"
#include "domain/wecom_link/callbacks.h"
#include "domain/wecom_link/events.h"
#include "domain/wecom_link/link.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

struct WecomServices {
  wecom_link::WecomLink& link;
  wecom_link::CallbackInbox& inbox;
  wecom_link::EventApplier& events;
  apps::AppService& apps;
};

// REQUIRES: guard and the services outlive the router. Also serves SCRM's home, GET /api/v1/scrm/overview.
void AddWecomRoutes(Router& router, const AuthGuard& guard, const WecomServices& services);

}  // namespace koi::http
