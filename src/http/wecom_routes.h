// The WeCom link's API (SCRM app; issue 4): link state and sync progress, linking a self-built app or installing
// the third-party app (前往授权: the install URL, and the browser's return from WeCom), starting a full sync, and
// the synced employees; and the callback URLs WeCom calls — a corp's (GET: URL check, POST: events) and the
// suite's instructions — which need no session (WeCom signs them instead). The contract is api/openapi.yaml.
#pragma once

#include "domain/apps/apps.h"
#include "domain/wecom_link/callbacks.h"
#include "domain/wecom_link/events.h"
#include "domain/wecom_link/install.h"
#include "domain/wecom_link/link.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

struct WecomServices {
  wecom_link::WecomLink& link;
  wecom_link::CallbackInbox& inbox;
  wecom_link::EventApplier& events;
  apps::AppService& apps;
  wecom_link::SuiteInstall& install;
};

// REQUIRES: guard and the services outlive the router. Also serves SCRM's home, GET /api/v1/scrm/overview.
void AddWecomRoutes(Router& router, const AuthGuard& guard, const WecomServices& services);

}  // namespace koi::http
