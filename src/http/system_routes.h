// The operational routes every node serves: /healthz, /readyz, /metrics and /api/v1/system/status.
// They take their facts through callbacks so http/ does not depend on storage/ or jobs/; app/ wires them.
#pragma once

#include <boost/json/value.hpp>
#include <functional>

#include "core/status.h"
#include "http/router.h"

namespace koi::http {

struct SystemProbes {
  // OK with the current schema version when the database answers and migrations are current.
  std::function<Result<int64_t>()> readiness;
  // The `data` of GET /api/v1/system/status (see api/openapi.yaml SystemStatus).
  std::function<Result<boost::json::value>()> status;
  // The `data` of GET /api/v1/system/jobs for a 1-based page (see api/openapi.yaml SystemJobPage).
  std::function<Result<boost::json::value>(int page, int page_size)> jobs;
  // Called before /metrics renders, to refresh gauges that are read from the database (may be empty).
  std::function<void()> refresh_metrics;
  // Wraps the /api/v1/system/* handlers (app/ passes the session guard: they need a logged-in user). May be empty.
  std::function<Handler(Handler)> protect;
};

void AddSystemRoutes(Router& router, SystemProbes probes);

}  // namespace koi::http
