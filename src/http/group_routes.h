// Customer groups' API (SCRM app): the group list with its owner and tag filters, and Koi's group tags. The
// contract is api/openapi.yaml.
#pragma once

#include "domain/customers/groups.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard and groups outlive the router.
void AddGroupRoutes(Router& router, const AuthGuard& guard, customers::GroupService& groups);

}  // namespace koi::http
