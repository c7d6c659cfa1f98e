// Mass messaging's API (SCRM app; issue 7): the team's rule pack, messages (draft, plan, send or schedule, cancel,
// remind, refresh), their recipients with skip reasons and results (paged, and as CSV), what a customer received,
// and the upload of attachments' media (images, videos, files) to WeCom. The contract is api/openapi.yaml.
#pragma once

#include "domain/messaging/media.h"
#include "domain/messaging/messaging.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard and the service outlive the router.
void AddMessageRoutes(Router& router, const AuthGuard& guard, messaging::MessagingService& messages,
                      messaging::MediaService& media);

}  // namespace koi::http
