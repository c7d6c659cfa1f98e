// koi: the Koi server and its admin commands. The composition root: the only place that knows every concrete type.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "core/allocator.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "domain/accounts/accounts.h"
#include "domain/apps/apps.h"
#include "domain/customers/customers.h"
#include "domain/customers/stages.h"
#include "domain/customers/tags.h"
#include "domain/segments/segments.h"
#include "domain/messaging/media.h"
#include "domain/messaging/messaging.h"
#include "domain/wecom_link/install.h"
#include "domain/wecom_link/link.h"
#include "domain/wecom_link/sidebar.h"
#include "http/customer_routes.h"
#include "http/group_routes.h"
#include "http/message_routes.h"
#include "http/wecom_routes.h"
#include "http/sidebar_routes.h"
#include "http/account_routes.h"
#include "http/auth_guard.h"
#include "http/https_client.h"
#include "http/dispatcher.h"
#include "http/router.h"
#include "http/server.h"
#include "http/static_files.h"
#include "http/system_routes.h"
#include "jobs/job_queue.h"
#include "jobs/job_runner.h"
#include "storage/database.h"
#include "storage/migrations/migrations.h"

#ifndef KOI_VERSION
#define KOI_VERSION "0.0.0"
#endif

namespace koi {
namespace {

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

Result<Settings> LoadOrExplain(const std::string& config_path) {
  auto settings = LoadSettings(config_path, ProcessEnvironment());
  if (!settings.ok()) std::cerr << "koi: " << settings.status().message() << "\n";
  return settings;
}

Result<std::unique_ptr<storage::Database>> OpenDatabase(const Settings& s) {
  storage::DatabaseOptions opts{.pool_size = s.database.pool_size,
                                .busy_timeout_ms = s.database.busy_timeout_ms,
                                .checkpoint_pages = s.database.sqlite_checkpoint_pages,
                                .sqlite_cache_mb = s.database.sqlite_cache_mb,
                                .sqlite_mmap_mb = s.database.sqlite_mmap_mb};
  auto db = storage::Database::Open(s.database.url, opts);
  if (!db.ok()) return db.status().WithContext("opening database " + RedactUrl(s.database.url));
  return db;
}

std::unique_ptr<accounts::SmsSender> MakeSmsSender(const Settings& s, storage::Database& db, const Clock& clock) {
  if (s.sms.provider == "tencent") {
    accounts::TencentSmsConfig c{.endpoint = s.sms.tencent_endpoint,
                                 .region = s.sms.tencent_region,
                                 .secret_id = s.sms.tencent_secret_id,
                                 .secret_key = s.sms.tencent_secret_key,
                                 .sdk_app_id = s.sms.tencent_sdk_app_id,
                                 .sign_name = s.sms.tencent_sign_name,
                                 .code_template = s.sms.tencent_code_template,
                                 .notice_template = s.sms.tencent_notice_template};
    return std::make_unique<accounts::TencentSms>(std::move(c), http::HttpsPostJson, db, clock);
  }
  return std::make_unique<accounts::ConsoleSms>(db, clock);
}

accounts::AccountsOptions AccountsOptionsFrom(const Settings& s) {
  return {.session_idle_ms = s.auth.session_idle_minutes * 60'000LL,
          .session_max_ms = s.auth.session_max_days * kDayMs,
          .ip_login_limit = s.auth.ip_login_limit,
          .sms_ip_hourly_limit = s.sms.ip_hourly_limit};
}

// Koi's WeCom client over real HTTPS (or plain HTTP to a local koi-wecom-sandbox).
std::unique_ptr<wecom::WecomClient> MakeWecomClient(const Settings& s, const Clock& clock) {
  return std::make_unique<wecom::WecomClient>(
      [](const wecom::HttpCall& call) -> Result<std::string> {
        // A JSON call gets 10 s; a media upload (up to 20 MB) 1 ms more per 256 bytes, i.e. at least 256 KB/s.
        const int64_t timeout_ms = 10'000 + static_cast<int64_t>(call.body.size() / 256);
        KOI_ASSIGN_OR_RETURN(http::HttpReply reply, http::HttpExchange(call.method, call.url,
                                                                       {{"Content-Type", call.content_type}},
                                                                       call.body, timeout_ms));
        return std::move(reply.body);
      },
      clock, wecom::ClientOptions{.base_url = s.wecom.api_base_url, .calls_per_minute = s.wecom.calls_per_minute});
}

void RegisterSystemJobs(jobs::JobRunner& runner, jobs::JobQueue& queue, const Settings& s, const Clock& clock,
                        accounts::AccountService& accounts) {
  runner.Register("accounts.housekeeping", [&accounts](jobs::JobContext&) -> Status {
    KOI_ASSIGN_OR_RETURN(int64_t n, accounts.Purge());
    if (n > 0) spdlog::info("accounts housekeeping removed {} expired rows", n);
    return Status::Ok();
  });
  int64_t keep_ms = s.jobs.keep_finished_days * kDayMs;
  runner.Register("system.purge_jobs", [&queue, &clock, keep_ms](jobs::JobContext&) -> Status {
    KOI_ASSIGN_OR_RETURN(int64_t n, queue.PurgeFinished(clock.NowMillis() - keep_ms));
    if (n > 0) spdlog::info("purged {} finished jobs", n);
    return Status::Ok();
  });
}

// The console folder is served to anyone: it must not hold the SQLite database or the WeCom secret key. (Reading
// the database file there would also drop SQLite's POSIX locks, letting another process delete the live WAL.)
Status StaticDirIsSafe(const Settings& s) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::weakly_canonical(s.server.static_dir, ec);
  if (ec || s.server.static_dir.empty()) return Status::Ok();
  auto inside = [&dir](const std::string& file) {
    std::error_code e;
    fs::path p = fs::weakly_canonical(file, e);
    if (e) return false;
    auto rel = p.lexically_relative(dir);
    return !rel.empty() && *rel.begin() != "..";
  };
  std::string db_file;
  if (s.database.url.rfind("sqlite:", 0) == 0 && s.database.url != "sqlite::memory:") db_file = s.database.url.substr(7);
  for (const auto& [what, file] : {std::pair{"the SQLite database", db_file}, {"wecom.secret_key_file", s.wecom.secret_key_file}})
    if (!file.empty() && inside(file))
      return Status::InvalidArgument("unsafe_static_dir", std::string("server.static_dir (") + s.server.static_dir +
                                                              ") contains " + what + " (" + file +
                                                              "): it would be served over HTTP; use separate folders");
  return Status::Ok();
}

int Serve(const std::string& config_path) {
  auto settings = LoadOrExplain(config_path);
  if (!settings.ok()) return 2;
  const Settings& s = *settings;
  InitLogging(s.log);
  const Clock& clock = SystemClock::Instance();
  int64_t started_at = clock.NowSeconds();
  spdlog::info("koi {} starting; database {}", KOI_VERSION, RedactUrl(s.database.url));

  auto db = OpenDatabase(s);
  if (!db.ok()) {
    spdlog::critical("{}", db.status().message());
    return 1;
  }
  storage::Database& database = **db;
  auto migrated = storage::Migrate(database, clock);
  if (!migrated.ok()) {
    spdlog::critical("migration failed: {}", migrated.status().message());
    return 1;
  }
  // Rows written before search by pinyin initials existed get theirs (once; before the segment index reads them).
  if (auto filled = customers::BackfillInitials(database); !filled.ok()) {
    spdlog::critical("filling pinyin initials failed: {}", filled.status().ToString());
    return 1;
  } else if (*filled > 0) {
    spdlog::info("filled the pinyin initials of {} customers and relationships", *filled);
  }

  auto sms = MakeSmsSender(s, database, clock);
  accounts::AccountService accounts(database, clock, *sms, AccountsOptionsFrom(s));
  apps::AppService app_service(database, clock);
  spdlog::info("SMS provider: {}", sms->name());
  if (sms->HasInbox() && s.server.listen_host != "127.0.0.1" && s.server.listen_host != "localhost" &&
      s.server.listen_host != "::1")
    spdlog::warn("sms.provider is \"console\": verification codes are written to the log and to the development inbox "
                 "(loopback callers only). Configure a real SMS provider before serving users on {}.",
                 s.server.listen_host);

  auto secret_box = wecom_link::SecretBox::FromKeyFile(s.wecom.secret_key_file);
  if (!secret_box.ok()) {
    spdlog::critical("{}", secret_box.status().message());
    return 1;
  }
  jobs::JobQueue queue(database, clock);
  jobs::JobRunner runner(queue, {.workers = s.jobs.workers,
                                 .lease_ms = s.jobs.lease_seconds * 1000LL,
                                 .poll_ms = s.jobs.poll_millis});
  RegisterSystemJobs(runner, queue, s, clock, accounts);
  auto wecom_client = MakeWecomClient(s, clock);
  wecom_link::WecomLink wecom_link(database, clock, queue, *wecom_client, *secret_box);
  runner.Register(wecom_link::kFullSyncJob, [&wecom_link](jobs::JobContext& ctx) { return wecom_link.RunFullSync(ctx); });
  // The third-party suite corps can install Koi through (前往授权), when configured.
  wecom_link::SuiteInstall suite_install(database, clock, *wecom_client, wecom_link, *secret_box,
                                         {.suite_id = s.wecom.suite_id,
                                          .token = s.wecom.suite_token,
                                          .aes_key = s.wecom.suite_aes_key,
                                          .install_url = s.wecom.install_url,
                                          .public_url = s.wecom.public_url,
                                          .provider_corp_id = s.wecom.provider_corp_id});
  if (!s.wecom.suite_id.empty()) {
    auto keys = wecom::MakeCallbackKeys(s.wecom.suite_token, s.wecom.suite_aes_key, s.wecom.suite_id);
    const auto& url = s.wecom.public_url;
    if (s.wecom.suite_secret.empty() || s.wecom.suite_token.empty() || !keys.ok() ||
        (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)) {
      spdlog::critical("wecom.suite_id is set: wecom.suite_secret, wecom.suite_token, a 43-character "
                       "wecom.suite_aes_key and wecom.public_url (http(s)://…) are required too");
      return 1;
    }
    wecom_client->SetSuite({.suite_id = s.wecom.suite_id,
                            .suite_secret = s.wecom.suite_secret,
                            .ticket = [&suite_install] { return suite_install.Ticket(); }});
    spdlog::info("third-party suite {}: installs through {}", s.wecom.suite_id, s.wecom.install_url);
  }
  wecom_link::CallbackInbox callback_inbox(database, clock, *secret_box, [&runner] { runner.Wake(); });
  wecom_link::EventApplier wecom_events(database, clock, *wecom_client, wecom_link);
  runner.Register(wecom_link::kApplyEventsJob, [&wecom_events](jobs::JobContext& ctx) { return wecom_events.RunJob(ctx); });
  customers::CustomerService customer_service(database, clock);
  customers::GroupService group_service(database, clock);
  customers::TagService tag_service(database, clock, queue, *wecom_client, wecom_link, customer_service);
  runner.Register(customers::kBulkTagJob, [&tag_service](jobs::JobContext& ctx) { return tag_service.RunBulkTag(ctx); });
  customers::ExportService export_service(database, clock, queue, customer_service);
  customers::ChurnService churn_service(database, clock, customer_service);
  customers::FanService fan_service(database, clock);
  runner.Register(customers::kExportJob, [&export_service](jobs::JobContext& ctx) { return export_service.Run(ctx); });
  runner.Register("customers.housekeeping", [&tag_service, &export_service](jobs::JobContext&) -> Status {
    KOI_ASSIGN_OR_RETURN(int64_t n, tag_service.PurgeBulkItems());
    if (n > 0) spdlog::info("removed {} bulk tagging targets of purged jobs", n);
    KOI_ASSIGN_OR_RETURN(int64_t expired, export_service.PurgeExpired());
    if (expired > 0) spdlog::info("deleted {} expired customer exports", expired);
    return Status::Ok();
  });
  segments::SegmentIndex segment_index(database, clock);
  segments::SegmentService segment_service(database, clock, segment_index, customer_service);
  // The customer list counts and searches with the index where it can (at 1M customers a COUNT costs ~100 ms, a
  // LIKE search seconds).
  segments::IndexListAccelerator list_accelerator(segment_index);
  customer_service.SetListAccelerator(&list_accelerator);
  // Hourly: today's size of every saved segment (their history), and the applied change log trimmed.
  runner.Register("segments.snapshot", [&segment_service, &segment_index](jobs::JobContext&) -> Status {
    KOI_RETURN_IF_ERROR(segment_service.SnapshotAll());
    return segment_index.PurgeChanges(200000);
  });
  messaging::MediaService media_service(database, clock, *wecom_client, wecom_link);
  messaging::MessagingService messaging_service(database, clock, queue, wecom_link, *wecom_client, segment_index,
                                                segment_service, customer_service,
                                                {.intent_grace_ms = s.wecom.send_grace_seconds * 1000LL,
                                                 .media = &media_service});
  runner.Register(messaging::kDispatchJob,
                  [&messaging_service](jobs::JobContext& ctx) { return messaging_service.RunDispatch(ctx); });
  runner.Register(messaging::kSyncJob, [&messaging_service](jobs::JobContext&) { return messaging_service.SyncDue(); });
  // The chat toolbar's pages. With a WeCom stand-in (not qyapi.weixin.qq.com), its chat page frames them and
  // answers their JS-SDK calls.
  wecom_link::Sidebar sidebar(database, clock, *wecom_client, wecom_link,
                              {.public_url = s.wecom.public_url,
                               .oauth_url = s.wecom.oauth_url,
                               .bridge_origin = wecom_link::Sidebar::LoopbackOrigin(s.wecom.api_base_url),
                               .fetch = [](const std::string& url) -> Result<std::pair<int, std::string>> {
                                 KOI_ASSIGN_OR_RETURN(http::HttpReply reply,
                                                      http::HttpExchange("GET", url, {}, "", 5'000));
                                 return std::make_pair(reply.status, std::move(reply.body));
                               }});
  runner.Register(wecom_link::kReconcileJob, [&wecom_link, &wecom_events, &suite_install, &sidebar,
                                              &media_service](jobs::JobContext&) -> Status {
    KOI_RETURN_IF_ERROR(wecom_link.ReconcileAll().status());
    KOI_RETURN_IF_ERROR(suite_install.PurgeInstalls().status());
    KOI_RETURN_IF_ERROR(sidebar.Purge().status());
    KOI_RETURN_IF_ERROR(media_service.PurgeDeletedIds().status());
    return wecom_events.PurgeApplied().status();
  });
  spdlog::info("WeCom API: {}", s.wecom.api_base_url);
  {
    auto hourly = queue.Enqueue({.team = TeamId(0), .kind = "segments.snapshot", .idempotency_key = "hourly",
                                 .interval_ms = 3600 * 1000, .max_attempts = 100});
    if (!hourly.ok()) spdlog::warn("cannot schedule segments.snapshot: {}", hourly.status().ToString());
  }
  for (const char* kind : {"system.purge_jobs", "accounts.housekeeping", "customers.housekeeping"}) {
    auto daily = queue.Enqueue({.team = TeamId(0), .kind = kind, .idempotency_key = "daily", .interval_ms = kDayMs,
                                .max_attempts = 3});
    if (!daily.ok()) spdlog::warn("cannot schedule {}: {}", kind, daily.status().ToString());
  }
  // Callbacks are applied every second (and at once when one arrives); the reconcile runs nightly at 03:00 UTC+8.
  for (auto [kind, key, run_at, every] :
       {std::tuple{wecom_link::kApplyEventsJob, "always", int64_t{0}, int64_t{1000}},
        std::tuple{messaging::kSyncJob, "minutely", int64_t{0}, int64_t{60'000}},
        std::tuple{wecom_link::kReconcileJob, "nightly", wecom_link::NextReconcileAt(clock.NowMillis()), kDayMs}}) {
    auto job = queue.Enqueue({.team = TeamId(0), .kind = kind, .idempotency_key = key, .run_at_ms = run_at,
                              .interval_ms = every, .max_attempts = 100});
    if (!job.ok()) spdlog::warn("cannot schedule {}: {}", kind, job.status().ToString());
  }

  if (Status unsafe = StaticDirIsSafe(s); !unsafe.ok()) {
    spdlog::critical("{}", unsafe.message());
    return 1;
  }
  auto static_files = http::StaticFiles::Load(s.server.static_dir);
  if (!static_files.ok()) {
    spdlog::critical("{}", static_files.status().message());
    return 1;
  }

  auto& registry = MetricsRegistry::Default();
  std::vector<std::pair<std::string, Gauge*>> job_gauges;
  for (auto state : {"queued", "running", "succeeded", "failed", "cancelled"})
    job_gauges.emplace_back(state, &registry.GetGauge("koi_jobs", "Durable jobs by state", {{"state", state}}));
  registry.GetGauge("koi_build_info", "Build information", {{"version", KOI_VERSION}}).Set(1);
  registry.AddCallbackGauge("koi_segment_index_bytes",
                            "Memory of the segment index's bitmaps (serialized size, as of each team's last build)",
                            [&segment_index] { return static_cast<double>(segment_index.TotalStats().bytes); });
  registry.AddCallbackGauge("koi_segment_index_search_text_bytes",
                            "Memory of the search texts the segment index keeps per customer (as of each team's last build)",
                            [&segment_index] {
                              return static_cast<double>(segment_index.TotalStats().search_text_bytes);
                            });
  registry.AddCallbackGauge("koi_segment_index_customers", "Customers in the segment index",
                            [&segment_index] { return static_cast<double>(segment_index.TotalStats().customers); });

  http::Router router;
  http::AuthGuard guard(accounts, app_service, s.auth.cookie_secure);
  http::AddAccountRoutes(router, guard, accounts, app_service);
  http::AddWecomRoutes(router, guard, {wecom_link, callback_inbox, wecom_events, app_service, suite_install});
  http::AddSidebarRoutes(router, guard, {sidebar, customer_service, tag_service, group_service, s.auth.cookie_secure});
  if (!sidebar.settings().bridge_origin.empty())
    (*static_files)->AllowFraming("/sidebar/", sidebar.settings().bridge_origin);
  customers::StageService stage_service(database, clock, customer_service);
  customers::FieldService field_service(database, clock, customer_service);
  http::AddCustomerRoutes(router, guard,
                          {customer_service, tag_service, stage_service, segment_service, export_service,
                           churn_service, fan_service, field_service});
  http::AddGroupRoutes(router, guard, group_service);
  http::AddMessageRoutes(router, guard, messaging_service, media_service);
  http::AddSystemRoutes(
      router,
      {.readiness = [&database]() -> Result<int64_t> {
         Status ping = database.Ping();
         if (!ping.ok()) return Status::Unavailable("database_unavailable", ping.message());
         KOI_ASSIGN_OR_RETURN(int64_t v, storage::CurrentSchemaVersion(database));
         if (v != storage::LatestSchemaVersion())
           return Status::Unavailable("migrations_pending", "schema version " + std::to_string(v) + ", expected " +
                                                                std::to_string(storage::LatestSchemaVersion()));
         return v;
       },
       .status = [&]() -> Result<boost::json::value> {
         KOI_ASSIGN_OR_RETURN(int64_t version, storage::CurrentSchemaVersion(database));
         KOI_ASSIGN_OR_RETURN(jobs::JobCounts c, queue.CountsOrError());
         return boost::json::value{
             {"version", KOI_VERSION},
             {"started_at", started_at},
             {"uptime_seconds", clock.NowSeconds() - started_at},
             {"database",
              {{"engine", storage::EngineName(database.engine())},
               {"schema_version", version},
               {"latest_schema_version", storage::LatestSchemaVersion()}}},
             {"jobs",
              {{"queued", c.queued},
               {"running", c.running},
               {"succeeded", c.succeeded},
               {"failed", c.failed},
               {"cancelled", c.cancelled}}}};
       },
       .jobs = [&queue](int page, int page_size) -> Result<boost::json::value> {
         KOI_ASSIGN_OR_RETURN(auto items, queue.List(TeamId(0), page, page_size));
         KOI_ASSIGN_OR_RETURN(int64_t total, queue.CountForTeam(TeamId(0)));
         boost::json::array out;
         for (const auto& j : items) {
           out.push_back(boost::json::object{
               {"id", j.id.value()},
               {"kind", j.kind},
               {"state", jobs::JobStateName(j.state)},
               {"attempts", j.attempts},
               {"max_attempts", j.max_attempts},
               {"progress_done", j.progress_done},
               {"progress_total", j.progress_total},
               {"run_at", j.run_at_ms},
               {"repeat_every_ms", j.interval_ms},
               {"last_error_reason", j.last_error_reason},
               {"last_error", j.last_error},
               {"created_at", j.created_at_ms},
               {"updated_at", j.updated_at_ms},
               {"finished_at", j.finished_at_ms ? boost::json::value(*j.finished_at_ms) : boost::json::value(nullptr)}});
         }
         return boost::json::value{
             {"items", std::move(out)}, {"total", total}, {"page", page}, {"page_size", page_size}};
       },
       .refresh_metrics =
           [&queue, &job_gauges] {
             auto c = queue.CountsOrError();
             if (!c.ok()) return;
             int64_t values[] = {c->queued, c->running, c->succeeded, c->failed, c->cancelled};
             for (size_t i = 0; i < job_gauges.size(); ++i) job_gauges[i].second->Set(static_cast<double>(values[i]));
           },
       .protect = [&guard](http::Handler h) {
         // Node internals (system jobs of every team, last errors): admins only.
         return guard.Authed([h = std::move(h)](http::Request& r, const accounts::Principal&) { return h(r); },
                             {.admin_only = true});
       }});

  http::Dispatcher dispatcher(router, static_files->get());
  auto server = http::HttpServer::Create(s.server, dispatcher);
  if (!server.ok()) {
    spdlog::critical("{}", server.status().message());
    return 1;
  }
  if (s.jobs.enabled) runner.Start();
  (*server)->Start();
  // Every node keeps its own segment index: build the linked teams' now rather than on their first count.
  std::thread warm_segments([&segment_index] {
    if (Status w = segment_index.WarmAll(); !w.ok() && !segment_index.stopping())
      spdlog::warn("segment index warm-up: {}", w.ToString());
  });
  spdlog::info("Koi is serving http://{}:{}/", s.server.listen_host, (*server)->port());

  int sig = http::HttpServer::WaitForTerminationSignal();
  spdlog::info("received signal {}; shutting down (grace {} s)", sig, s.server.shutdown_grace_seconds);
  segment_index.Stop();  // a build in progress gives up at its next page
  // The inbox first, while the I/O threads still run to write its answers: it stores and answers what it queued;
  // callbacks arriving after get 503 and WeCom delivers them again.
  callback_inbox.Stop();
  (*server)->Stop(std::chrono::seconds(s.server.shutdown_grace_seconds));
  runner.Stop();  // running handlers see ShouldStop() and their jobs are released to the queue
  warm_segments.join();
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

int MigrateCommand(const std::string& config_path) {
  auto settings = LoadOrExplain(config_path);
  if (!settings.ok()) return 2;
  InitLogging(settings->log);
  auto db = OpenDatabase(*settings);
  if (!db.ok()) {
    std::cerr << "koi: " << db.status().message() << "\n";
    return 1;
  }
  auto applied = storage::Migrate(**db, SystemClock::Instance());
  if (!applied.ok()) {
    std::cerr << "koi: migration failed: " << applied.status().message() << "\n";
    return 1;
  }
  std::cout << "applied " << *applied << " migration(s); schema version " << storage::LatestSchemaVersion() << "\n";
  return 0;
}

// `koi jobs list|cancel`: operator access to the durable queue (the console shows system jobs read-only).
int JobsCommand(const std::string& config_path, const std::string& action, int64_t team, int64_t id, int page) {
  auto settings = LoadOrExplain(config_path);
  if (!settings.ok()) return 2;
  auto db = OpenDatabase(*settings);
  if (!db.ok()) {
    std::cerr << "koi: " << db.status().message() << "\n";
    return 1;
  }
  auto version = storage::CurrentSchemaVersion(**db);
  if (!version.ok() || *version != storage::LatestSchemaVersion()) {
    std::cerr << "koi: the database schema is not current; run `koi migrate` (or start `koi serve`) first\n";
    return 1;
  }
  jobs::JobQueue queue(**db, SystemClock::Instance());
  if (action == "cancel") {
    Status s = queue.Cancel(TeamId(team), JobId(id));
    if (!s.ok()) {
      std::cerr << "koi: " << s.message() << "\n";
      return 1;
    }
    auto job = queue.Get(TeamId(team), JobId(id));
    std::cout << "job " << id << ": "
              << (job.ok() && job->state == jobs::JobState::kCancelled ? "cancelled"
                                                                         : "cancel requested; it stops at its next step")
              << "\n";
    return 0;
  }
  auto list = queue.List(TeamId(team), page, 50);
  if (!list.ok()) {
    std::cerr << "koi: " << list.status().message() << "\n";
    return 1;
  }
  std::cout << fmt::format("{:>8}  {:<28} {:<10} {:>9}  {:>13}  {}\n", "id", "kind", "state", "attempts", "progress",
                           "last error");
  for (const auto& j : *list) {
    std::string progress = j.progress_total > 0 ? fmt::format("{}/{}", j.progress_done, j.progress_total) : "-";
    std::cout << fmt::format("{:>8}  {:<28} {:<10} {:>4}/{:<4}  {:>13}  {}\n", j.id.value(), j.kind,
                             jobs::JobStateName(j.state), j.attempts, j.max_attempts, progress, j.last_error);
  }
  return 0;
}

constexpr const char* kDemoPhone = "13800000000";
constexpr const char* kDemoPassword = "koi2026demo";

// `koi seed-demo`: the demo team `make run` prints a login for, and, when Koi talks to a local koi-wecom-sandbox,
// its link to the sandbox's demo corp. Idempotent: what exists is left as it is.
int SeedDemo(const std::string& config_path) {
  auto settings = LoadOrExplain(config_path);
  if (!settings.ok()) return 2;
  InitLogging(settings->log);
  auto db = OpenDatabase(*settings);
  if (!db.ok()) {
    std::cerr << "koi: " << db.status().message() << "\n";
    return 1;
  }
  const Clock& clock = SystemClock::Instance();
  if (auto m = storage::Migrate(**db, clock); !m.ok()) {
    std::cerr << "koi: migration failed: " << m.status().message() << "\n";
    return 1;
  }
  accounts::ConsoleSms sms(**db, clock);
  accounts::AccountService accounts(**db, clock, sms, AccountsOptionsFrom(*settings));
  apps::AppService app_service(**db, clock);
  auto admin = accounts.CreateTeam(
      {.phone = kDemoPhone, .password = kDemoPassword, .team_name = "锦鲤演示企业", .name = "演示管理员"});
  if (admin.ok()) {
    if (auto a = app_service.Activate(*admin, "scrm", "cli"); !a.ok()) {
      std::cerr << "koi: " << a.status().message() << "\n";
      return 1;
    }
    auto member = accounts.AddMember(*admin, "13800000001", "演示成员", {.ip = "cli"});
    if (!member.ok()) std::cerr << "koi: demo member not added: " << member.status().message() << "\n";
    std::cout << "demo team created: login " << kDemoPhone << " / " << kDemoPassword << "\n";
  } else if (admin.status().reason() == "phone_registered") {
    admin = accounts.FindAdmin(kDemoPhone);
    std::cout << "demo team already present\n";
  }
  if (!admin.ok()) {
    std::cerr << "koi: " << admin.status().message() << "\n";
    return 1;
  }
  // A local sandbox stands in for WeCom: link the demo team to its demo corp (a real corp is linked in the console).
  const std::string& base = settings->wecom.api_base_url;
  if (base.rfind("http://127.", 0) != 0 && base.rfind("http://localhost", 0) != 0) return 0;
  auto box = wecom_link::SecretBox::FromKeyFile(settings->wecom.secret_key_file);
  if (!box.ok()) {
    std::cerr << "koi: " << box.status().message() << "\n";
    return 1;
  }
  jobs::JobQueue queue(**db, clock);
  auto client = MakeWecomClient(*settings, clock);
  wecom_link::WecomLink link(**db, clock, queue, *client, *box);
  auto state = link.State(admin->team);
  // Linked already (a demo linked before the chat toolbar existed gets the app's AgentId once).
  if (state.ok() && state->linked && !(state->corp_id == "wwkoidemo0000001" && state->agent_id.empty())) return 0;
  auto linked = link.LinkSelfBuilt(*admin,
                                   {.corp_id = "wwkoidemo0000001", .secret = "koi-sandbox-secret",
                                    .callback_token = "koi-callback-token",
                                    .encoding_aes_key = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
                                    .agent_id = "1000002"},
                                   {.ip = "cli"});
  if (!linked.ok()) {
    std::cerr << "koi: the demo team was not linked to the sandbox corp: " << linked.status().message() << "\n";
    return 0;  // the console can still link it
  }
  std::cout << "demo team linked to the sandbox's demo corp; the full sync runs when koi serve starts\n";
  return 0;
}

int ConfigKeys() {
  std::cout << "| key | environment | type | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& k : KnownSettingKeys())
    std::cout << "| `" << k.key << "` | `" << k.env << "` | " << k.type << " | `" << k.default_value << "` | "
              << k.description << " |\n";
  return 0;
}

}  // namespace
}  // namespace koi

int main(int argc, char** argv) {
  koi::TuneAllocator();
  CLI::App app{"Koi (锦鲤): a private-domain SCRM for WeCom"};
  app.require_subcommand(1);
  std::string config_path;
  if (const char* env = std::getenv("KOI_CONFIG")) config_path = env;
  auto* serve = app.add_subcommand("serve", "Run the HTTP API, the console and background jobs");
  serve->add_option("-c,--config", config_path, "Config file (TOML subset; see docs/operations.md)");
  auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
  migrate->add_option("-c,--config", config_path, "Config file");
  auto* keys = app.add_subcommand("config-keys", "Print every configuration key as a Markdown table");
  auto* version = app.add_subcommand("version", "Print the version");
  auto* seed = app.add_subcommand("seed-demo", "Create the demo team (admin 13800000000 / koi2026demo) if absent");
  seed->add_option("-c,--config", config_path, "Config file");
  auto* jobs_cmd = app.add_subcommand("jobs", "List or cancel durable background jobs");
  jobs_cmd->add_option("-c,--config", config_path, "Config file");
  int64_t job_team = 0, job_id = 0;
  int job_page = 1;
  auto* jobs_list = jobs_cmd->add_subcommand("list", "List a team's jobs, newest first (team 0: system jobs)");
  jobs_list->add_option("--team", job_team, "Team id")->default_val(0);
  jobs_list->add_option("--page", job_page, "Page of 50")->default_val(1)->check(CLI::PositiveNumber);
  auto* jobs_cancel = jobs_cmd->add_subcommand("cancel", "Cancel a queued job, or ask a running one to stop");
  jobs_cancel->add_option("id", job_id, "Job id")->required();
  jobs_cancel->add_option("--team", job_team, "Team id")->default_val(0);
  jobs_cmd->require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  if (*serve) return koi::Serve(config_path);
  if (*migrate) return koi::MigrateCommand(config_path);
  if (*keys) return koi::ConfigKeys();
  if (*seed) return koi::SeedDemo(config_path);
  if (*jobs_cmd) return koi::JobsCommand(config_path, *jobs_cancel ? "cancel" : "list", job_team, job_id, job_page);
  if (*version) {
    std::cout << "koi " << KOI_VERSION << "\n";
    return 0;
  }
  return 2;
}
