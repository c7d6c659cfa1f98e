#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <future>
#include <thread>

#include "http/dispatcher.h"
#include "http/envelope.h"
#include "http/router.h"
#include "http/static_files.h"
#include "http/target.h"

namespace koi::http {
namespace {

Request Req(std::string method, std::string target, std::string body = "", std::string content_type = "") {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers["content-type"] = content_type;
  return r;
}

boost::json::object Body(const Response& r) { return boost::json::parse(r.body).as_object(); }

TEST(Target, SplitsAndDecodesPathAndQuery) {
  Request r = Req("GET", "/api/v1/customers/%E9%94%A6?q=%E9%B2%A4+x&page=2&flag");
  ASSERT_TRUE(ParseTarget(r).ok());
  EXPECT_EQ(r.path, "/api/v1/customers/锦");
  EXPECT_EQ(r.Query("q"), "鲤 x");
  EXPECT_EQ(r.Query("page"), "2");
  EXPECT_EQ(r.query.count("flag"), 1u);
  EXPECT_EQ(r.Query("missing", "d"), "d");
}

TEST(Target, RejectsBadTargets) {
  for (const char* t : {"", "api", "/a/%zz", "/a/%4", "/a/../etc/passwd", "/a/%2e%2e/x", "/a%00b", "/x?a=%", "/a%ff", "/x?q=%C0%AF"}) {
    Request r = Req("GET", t);
    EXPECT_EQ(ParseTarget(r).reason(), "bad_target") << t;
  }
}

TEST(JsonBody, RequiresJsonContentTypeAndValidJson) {
  EXPECT_EQ(ParseJsonBody(Req("POST", "/", "{}", "text/plain")).status().reason(), "unsupported_media_type");
  auto bad = ParseJsonBody(Req("POST", "/", "{\"a\": ", "application/json"));
  EXPECT_EQ(bad.status().reason(), "invalid_json");
  EXPECT_EQ(ParseJsonBody(Req("POST", "/", "{} x", "application/json")).status().reason(), "invalid_json");
  EXPECT_EQ(ParseJsonBody(Req("POST", "/", "[1e999]", "application/json")).status().reason(), "invalid_json");
  std::string deep(100, '[');
  EXPECT_EQ(ParseJsonBody(Req("POST", "/", deep, "application/json")).status().reason(), "invalid_json");
  auto ok = ParseJsonBody(Req("POST", "/", "{\"名\": [1, 2]}", "application/json; charset=utf-8"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("名").as_array().size(), 2u);
}

TEST(Envelope, MapsStatusCodesToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 422);
  EXPECT_EQ(HttpStatusFor(StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  Response ok = JsonOk(boost::json::object{{"x", 1}});
  EXPECT_EQ(ok.body, R"({"code":0,"data":{"x":1}})");
  Response nf = JsonError(Status::NotFound("job_not_found", "job 7 not found"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(Body(nf)["reason"].as_string(), "job_not_found");
  EXPECT_EQ(Body(nf)["code"].as_int64(), 404);
  Response internal = JsonError(Status::Internal("database_error", "SELECT secret FROM t"));
  EXPECT_EQ(internal.body.find("SELECT"), std::string::npos) << "internals must not leak";
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/api/v1/jobs/:id", [](Request& r) {
      return JsonOk(boost::json::object{{"id", r.path_params["id"]}});
    });
    router_.Add("GET", "/api/v1/jobs/latest", [](Request&) { return JsonOk("latest"); });
    router_.Add("POST", "/api/v1/echo", [](Request& r) {
      auto body = ParseJsonBody(r);
      if (!body.ok()) return JsonError(body.status());
      return JsonOk(*body);
    });
    router_.Add("GET", "/api/v1/boom", [](Request&) -> Response { throw std::runtime_error("kaboom"); });
    router_.Add("GET", "/healthz", [](Request&) { return JsonOk("ok"); }, {.inline_safe = true});
    router_.Add("GET", "/readyz", [](Request&) { return JsonOk("ready"); });  // a route that reads the database
    router_.Add("GET", "/cgi-bin/gettoken", [](Request&) { return JsonOk("token"); });
    // Answers from a thread of its own, as the WeCom callback route does from the inbox's writer.
    router_.AddAsync("POST", "/api/v1/later/:id", [](Request& r, Reply reply) {
      std::string id = r.path_params["id"];
      if (id == "now") return reply(JsonOk("refused at once"));
      if (id == "throws") throw std::runtime_error("kaboom");
      if (id == "replies-then-throws") {
        reply(JsonOk("first"));
        throw std::runtime_error("after the reply");
      }
      std::thread([id, reply] { reply(JsonOk(boost::json::string(id))); }).detach();
    });
    dir_ = std::filesystem::temp_directory_path() / ("koi_static_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "assets");
    std::ofstream(dir_ / "index.html") << "<!doctype html><title>Koi</title>" << std::string(2000, ' ');
    std::ofstream(dir_ / "assets" / "app-1234.js") << "console.log('koi');" << std::string(3000, ';');
    files_ = StaticFiles::Load(dir_.string()).value();
    dispatcher_ = std::make_unique<Dispatcher>(router_, files_.get());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Response Do(Request r) { return dispatcher_->Handle(r); }
  bool Inline(const std::string& target) {
    Request r = Req("GET", target);
    return dispatcher_->Place(r) == Dispatcher::Placement::kInline;
  }
  // HandleAsync, waiting for its first reply; `replies` gets how many came by the time HandleAsync returned.
  Response DoAsync(Request r, int* replies = nullptr) {
    auto got = std::make_shared<std::promise<Response>>();
    auto count = std::make_shared<std::atomic<int>>(0);
    auto future = got->get_future();
    EXPECT_EQ(dispatcher_->Place(r), Dispatcher::Placement::kAsync);
    dispatcher_->HandleAsync(r, [got, count](Response res) {
      if (++*count == 1) got->set_value(std::move(res));
    });
    Response out = future.get();
    if (replies != nullptr) *replies = count->load();
    return out;
  }
  std::string Header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  Router router_;
  std::filesystem::path dir_;
  std::unique_ptr<StaticFiles> files_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherTest, RoutesWithParamsAndPrefersLiterals) {
  EXPECT_EQ(Body(Do(Req("GET", "/api/v1/jobs/42")))["data"].at("id").as_string(), "42");
  EXPECT_EQ(Body(Do(Req("GET", "/api/v1/jobs/latest")))["data"].as_string(), "latest");
}

TEST_F(DispatcherTest, UnknownRouteAndWrongMethodGetEnvelopes) {
  Response nf = Do(Req("GET", "/api/v1/nope"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(Body(nf)["reason"].as_string(), "route_not_found");
  Response na = Do(Req("DELETE", "/api/v1/jobs/1"));
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(Body(na)["reason"].as_string(), "method_not_allowed");
  EXPECT_EQ(Header(na, "Allow"), "GET");
  Response bad = Do(Req("GET", "/a/../b"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["reason"].as_string(), "bad_target");
}

TEST_F(DispatcherTest, MalformedJsonIsA400WithReason) {
  Response r = Do(Req("POST", "/api/v1/echo", "{\"a\":", "application/json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["reason"].as_string(), "invalid_json");
  Response media = Do(Req("POST", "/api/v1/echo", "a=1", "application/x-www-form-urlencoded"));
  EXPECT_EQ(media.status, 415);
  Response ok = Do(Req("POST", "/api/v1/echo", "{\"a\":1}", "application/json"));
  EXPECT_EQ(ok.status, 200);
}

TEST_F(DispatcherTest, HandlerExceptionsBecome500WithoutDetails) {
  Response r = Do(Req("GET", "/api/v1/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Body(r)["reason"].as_string(), "internal");
  EXPECT_EQ(r.body.find("kaboom"), std::string::npos);
}

TEST_F(DispatcherTest, EveryResponseHasSecurityHeadersAndARequestId) {
  Request req = Req("GET", "/healthz");
  req.headers["x-request-id"] = "abc-123";
  Response r = Do(req);
  EXPECT_EQ(Header(r, "X-Request-Id"), "abc-123");
  EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY");
  EXPECT_NE(Header(r, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  Request evil = Req("GET", "/healthz");
  evil.headers["x-request-id"] = "bad id\r\nX-Injected: 1";
  EXPECT_EQ(Header(Do(evil), "X-Request-Id").size(), 16u) << "unsafe ids are replaced";
}

// The chat sidebar's pages may be framed by the WeCom sandbox's chat page, and nothing else may be framed by anyone.
TEST_F(DispatcherTest, OnlySidebarPagesMayBeFramedAndOnlyByTheNamedOrigin) {
  files_->AllowFraming("/sidebar/", "http://127.0.0.1:9080");
  Response sidebar = Do(Req("GET", "/sidebar/wwcorp/customer"));
  EXPECT_EQ(sidebar.status, 200);
  EXPECT_EQ(Header(sidebar, "X-Frame-Options"), "");
  EXPECT_NE(Header(sidebar, "Content-Security-Policy").find("frame-ancestors http://127.0.0.1:9080;"), std::string::npos);
  for (const char* other : {"/", "/scrm/customers", "/api/v1/jobs/42"}) {
    Response r = Do(Req("GET", other));
    EXPECT_EQ(Header(r, "X-Frame-Options"), "DENY") << other;
    EXPECT_NE(Header(r, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos) << other;
  }
  Response page;
  page.frame_src = "http://127.0.0.1:8080";
  Dispatcher::AddCommonHeaders(page, "-");
  EXPECT_NE(Header(page, "Content-Security-Policy").find("frame-src 'self' http://127.0.0.1:8080;"), std::string::npos);
}

TEST_F(DispatcherTest, ServesConsoleWithSpaFallbackGzipAndCaching) {
  Response index = Do(Req("GET", "/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Header(index, "Cache-Control"), "no-cache");
  Response spa = Do(Req("GET", "/customers/list"));
  EXPECT_EQ(spa.body, index.body) << "client routes fall back to index.html";
  Response missing_asset = Do(Req("GET", "/assets/missing.js"));
  EXPECT_EQ(missing_asset.status, 404);
  Request gz = Req("GET", "/assets/app-1234.js");
  gz.headers["accept-encoding"] = "gzip, br";
  Response js = Do(gz);
  EXPECT_EQ(Header(js, "Content-Encoding"), "gzip");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_LT(js.body.size(), 1000u);
  Request cond = Req("GET", "/");
  cond.headers["if-none-match"] = Header(index, "ETag");
  EXPECT_EQ(Do(cond).status, 304);
  EXPECT_EQ(Do(Req("GET", "/api/v1/unknown")).status, 404) << "API paths never fall back to the console";
}

TEST_F(DispatcherTest, InlineDecision) {
  EXPECT_TRUE(Inline("/healthz"));
  EXPECT_TRUE(Inline("/assets/app-1234.js"));
  EXPECT_FALSE(Inline("/api/v1/jobs/1"));
  EXPECT_FALSE(Inline("/readyz"));
  // A routed GET outside /api/ (the WeCom sandbox's /cgi-bin/) is not static: it goes to the workers too.
  EXPECT_FALSE(Inline("/cgi-bin/gettoken"));
  // Unrouted requests (static files from memory, 404s) are cheap and stay on the I/O thread.
  EXPECT_TRUE(Inline("/no/such/page"));
}

TEST_F(DispatcherTest, AsyncRoutesReplyOnceWithCommonHeaders) {
  Response later = DoAsync(Req("POST", "/api/v1/later/7"));
  EXPECT_EQ(Body(later)["data"].as_string(), "7");
  EXPECT_EQ(Header(later, "X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(Header(later, "X-Request-Id").empty());
  EXPECT_EQ(Body(DoAsync(Req("POST", "/api/v1/later/now")))["data"].as_string(), "refused at once");
  Response thrown = DoAsync(Req("POST", "/api/v1/later/throws"));
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(Body(thrown)["reason"].as_string(), "internal");
  int replies = 0;
  Response first = DoAsync(Req("POST", "/api/v1/later/replies-then-throws"), &replies);
  EXPECT_EQ(Body(first)["data"].as_string(), "first");
  EXPECT_EQ(replies, 1) << "the 500 for the exception after the reply must not be a second answer";
  // The blocking way (a worker, a test) waits for the same answer.
  EXPECT_EQ(Body(Do(Req("POST", "/api/v1/later/8")))["data"].as_string(), "8");
  EXPECT_EQ(Do(Req("GET", "/api/v1/later/8")).status, 405);
}

TEST(StaticFiles, MissingFolderServesNothing) {
  auto sf = StaticFiles::Load("/nonexistent/koi/dist");
  ASSERT_TRUE(sf.ok());
  EXPECT_EQ((*sf)->file_count(), 0u);
  EXPECT_FALSE((*sf)->Serve(Req("GET", "/")).has_value());
}

}  // namespace
}  // namespace koi::http

#include "http/system_routes.h"

namespace koi::http {
namespace {

class SystemRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddSystemRoutes(router_, {.readiness = [this]() -> Result<int64_t> {
                                if (!ready_) return Status::Unavailable("migrations_pending", "schema 0, expected 1");
                                return int64_t{1};
                              },
                              .status = []() -> Result<boost::json::value> { return boost::json::value(boost::json::object{{"x", 1}}); },
                              .jobs = [this](int page, int size) -> Result<boost::json::value> {
                                asked_page_ = page;
                                asked_size_ = size;
                                return boost::json::value(boost::json::object{{"items", boost::json::array()}, {"total", 0}});
                              },
                              .refresh_metrics = [this] { ++metric_refreshes_; }});
    dispatcher_ = std::make_unique<Dispatcher>(router_, nullptr);
  }
  Response Do(const std::string& target) {
    Request r = Req("GET", target);
    return dispatcher_->Handle(r);
  }

  Router router_;
  std::unique_ptr<Dispatcher> dispatcher_;
  bool ready_ = true;
  int asked_page_ = 0, asked_size_ = 0, metric_refreshes_ = 0;
};

TEST_F(SystemRoutesTest, ReadinessIs503WithTheReasonWhenNotReady) {
  EXPECT_EQ(Do("/readyz").status, 200);
  ready_ = false;
  Response r = Do("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Body(r)["reason"].as_string(), "migrations_pending");
  EXPECT_EQ(Do("/healthz").status, 200) << "liveness does not depend on the database";
}

TEST_F(SystemRoutesTest, JobsPagingIsValidated) {
  EXPECT_EQ(Do("/api/v1/system/jobs").status, 200);
  EXPECT_EQ(asked_page_, 1);
  EXPECT_EQ(asked_size_, 20);
  EXPECT_EQ(Do("/api/v1/system/jobs?page=3&page_size=50").status, 200);
  EXPECT_EQ(asked_page_, 3);
  EXPECT_EQ(asked_size_, 50);
  for (const char* bad : {"?page=0", "?page=x", "?page_size=201", "?page_size=-1", "?page=1x"}) {
    Response r = Do(std::string("/api/v1/system/jobs") + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(Body(r)["reason"].as_string(), "invalid_paging") << bad;
  }
}

TEST_F(SystemRoutesTest, MetricsAreRefreshedAndServedAsPrometheusText) {
  Response r = Do("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_EQ(metric_refreshes_, 1);
}

}  // namespace
}  // namespace koi::http
