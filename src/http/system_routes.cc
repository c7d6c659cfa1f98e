#include "http/system_routes.h"


#include "core/metrics.h"
#include "http/envelope.h"
#include "http/target.h"

namespace koi::http {

void AddSystemRoutes(Router& router, SystemProbes probes) {
  auto protect = [&probes](Handler h) { return probes.protect ? probes.protect(std::move(h)) : h; };
  router.Add(
      "GET", "/healthz",
      [](Request&) { return JsonOk(boost::json::object{{"status", "ok"}}); }, {.inline_safe = true});

  router.Add("GET", "/readyz", [probes](Request&) {
    auto version = probes.readiness();
    if (!version.ok()) {
      const Status& s = version.status();
      // Always 503: readiness failures are about this node, whatever their underlying code.
      return JsonError(503, s.reason(), s.message());
    }
    return JsonOk(boost::json::object{{"status", "ready"}, {"schema_version", *version}});
  });

  router.Add("GET", "/metrics", [probes](Request&) {
        if (probes.refresh_metrics) probes.refresh_metrics();
        Response r;
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = MetricsRegistry::Default().RenderPrometheus();
        return r;
      });

  router.Add("GET", "/api/v1/system/jobs", protect([probes](Request& r) {
    auto paging = ParsePaging(r, 20, 200);
    if (!paging.ok()) return JsonError(paging.status());
    auto data = probes.jobs(paging->page, paging->page_size);
    if (!data.ok()) return JsonError(data.status());
    return JsonOk(*data);
  }));

  router.Add("GET", "/api/v1/system/status", protect([probes](Request&) {
    auto status = probes.status();
    if (!status.ok()) return JsonError(status.status());
    return JsonOk(*status);
  }));
}

}  // namespace koi::http
