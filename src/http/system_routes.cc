#include "http/system_routes.h"

#include <charconv>

#include "core/metrics.h"
#include "http/envelope.h"

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
    int page = 0, size = 0;
    auto parse = [](const std::string& text, int fallback, int& out) {
      if (text.empty()) {
        out = fallback;
        return true;
      }
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      return ec == std::errc() && ptr == text.data() + text.size();
    };
    if (!parse(r.Query("page"), 1, page) || !parse(r.Query("page_size"), 20, size) || page < 1 || size < 1 ||
        size > 200)
      return JsonError(Status::InvalidArgument("invalid_paging", "page must be >= 1 and page_size 1-200"));
    auto data = probes.jobs(page, size);
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
