// The customer base's API (SCRM app; issue 5): the customer list with its filters' choices, one customer's profile,
// follow-up notes, enterprise and personal tags, bulk tagging, exports, churn, fans (unionid matching), stages, custom fields, capacity, the binding of member accounts to
// WeCom employees (data permission), and segments (issue 6). The contract is api/openapi.yaml.
#pragma once

#include "domain/customers/churn.h"
#include "domain/customers/customers.h"
#include "domain/customers/exports.h"
#include "domain/customers/fans.h"
#include "domain/customers/fields.h"
#include "domain/customers/stages.h"
#include "domain/customers/tags.h"
#include "domain/segments/segments.h"
#include "http/auth_guard.h"
#include "http/router.h"

namespace koi::http {

// REQUIRES: guard and the services outlive the router.
struct CustomerServices {
  customers::CustomerService& customers;
  customers::TagService& tags;
  customers::StageService& stages;
  segments::SegmentService& segments;
  customers::ExportService& exports;
  customers::ChurnService& churn;
  customers::FanService& fans;
  customers::FieldService& fields;
};

void AddCustomerRoutes(Router& router, const AuthGuard& guard, const CustomerServices& services);

}  // namespace koi::http
