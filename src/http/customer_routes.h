// The customer base's API (SCRM app; issue 5): the customer list with its filters' choices, one customer's profile,
// follow-up notes, and the binding of member accounts to WeCom employees (data permission). The contract is
// api/openapi.yaml.
#pragma once

#include "domain/customers/customers.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard and customers outlive the router.
void AddCustomerRoutes(Router& router, const AuthGuard& guard, customers::CustomerService& customers);

}  // namespace koi::http
