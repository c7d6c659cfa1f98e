// koi-wecom-sandbox: a local stand-in for WeCom's server API (../shared/specs/wecom-api.md), the way LocalStack
// stands in for AWS. Demos, tests and benchmarks run against it; it never links Koi's client or domain code (a bug
// shared by both sides would hide itself), only core, the wire protocol and the generic HTTP and storage layers.
//
//   koi-wecom-sandbox serve --db sandbox.db --listen 127.0.0.1:9080
//   koi-wecom-sandbox scenario seed --db sandbox.db --customers 10000 --seed 7
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "http/dispatcher.h"
#include "http/server.h"
#include "storage/database.h"
#include "world.h"

namespace {

using namespace koi;

Result<std::unique_ptr<storage::Database>> OpenWorld(const std::string& path) {
  KOI_ASSIGN_OR_RETURN(auto db, storage::Database::Open("sqlite:" + path, {.pool_size = 4}));
  KOI_RETURN_IF_ERROR(sandbox::InitSchema(*db));
  return db;
}

int Fail(const Status& s) {
  std::cerr << "koi-wecom-sandbox: " << s.message() << "\n";
  return 1;
}

int Serve(const std::string& db_path, const std::string& listen, int64_t calls_per_minute) {
  InitLogging({.level = "info", .format = "text"});
  auto db = OpenWorld(db_path);
  if (!db.ok()) return Fail(db.status());
  sandbox::SandboxApi api(**db, SystemClock::Instance(), {.calls_per_minute = calls_per_minute});
  http::Router router;
  api.AddRoutes(router);
  http::Dispatcher dispatcher(router, nullptr);
  ServerSettings settings;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Fail(Status::InvalidArgument("bad_listen", "--listen must be host:port"));
  settings.listen_host = listen.substr(0, colon);
  settings.listen_port = std::atoi(listen.c_str() + colon + 1);
  auto server = http::HttpServer::Create(settings, dispatcher);
  if (!server.ok()) return Fail(server.status());
  (*server)->Start();
  spdlog::info("koi-wecom-sandbox serving WeCom's API at http://{}:{}/cgi-bin/ (world: {})", settings.listen_host,
               (*server)->port(), db_path);
  http::HttpServer::WaitForTerminationSignal();
  (*server)->Stop(std::chrono::seconds(5));
  return 0;
}

int Seed(const std::string& db_path, const sandbox::SeedSpec& spec) {
  auto db = OpenWorld(db_path);
  if (!db.ok()) return Fail(db.status());
  auto report = sandbox::SeedCorp(**db, spec);
  if (!report.ok()) return Fail(report.status());
  std::cout << "seeded corp " << spec.corp_id << " (" << spec.corp_name << ", secret " << spec.secret
            << "): " << report->departments << " departments, " << report->employees << " employees, "
            << report->customers << " customers, " << report->follows << " follow relationships, " << report->tags
            << " corp tags, " << report->groups << " groups with " << report->group_members << " members\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"koi-wecom-sandbox: a local stand-in for the WeCom server API"};
  app.require_subcommand(1);
  std::string db_path = "sandbox.db";
  auto* serve = app.add_subcommand("serve", "Serve the WeCom API over the world in --db");
  std::string listen = "127.0.0.1:9080";
  int64_t calls_per_minute = 10000;
  serve->add_option("--db", db_path, "SQLite file holding the simulated world");
  serve->add_option("--listen", listen, "host:port to listen on");
  serve->add_option("--calls-per-minute", calls_per_minute, "Per-corp per-API call budget (errcode 45009 beyond)")
      ->check(CLI::PositiveNumber);
  auto* scenario = app.add_subcommand("scenario", "Change the simulated world");
  scenario->require_subcommand(1);
  auto* seed = scenario->add_subcommand("seed", "Create a corp with departments, employees, customers, tags, groups");
  sandbox::SeedSpec spec;
  seed->add_option("--db", db_path, "SQLite file holding the simulated world");
  seed->add_option("--corp", spec.corp_id, "corp id")->default_val(spec.corp_id);
  seed->add_option("--corp-name", spec.corp_name, "corp name")->default_val(spec.corp_name);
  seed->add_option("--secret", spec.secret, "the corp's app secret")->default_val(spec.secret);
  seed->add_option("--departments", spec.departments)->default_val(spec.departments)->check(CLI::Range(1, 1000));
  seed->add_option("--employees", spec.employees)->default_val(spec.employees)->check(CLI::Range(1, 100000));
  seed->add_option("--customers", spec.customers)->default_val(spec.customers)->check(CLI::Range(0, 20000000));
  seed->add_option("--groups", spec.groups)->default_val(spec.groups)->check(CLI::Range(0, 1000000));
  seed->add_option("--seed", spec.seed, "random seed: the same seed builds the same world")->default_val(spec.seed);
  seed->add_option("--now", spec.now_s, "Unix seconds the world's history ends at")->default_val(spec.now_s);
  CLI11_PARSE(app, argc, argv);
  if (*serve) return Serve(db_path, listen, calls_per_minute);
  if (*seed) return Seed(db_path, spec);
  return 2;
}
