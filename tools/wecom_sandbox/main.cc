// koi-wecom-sandbox: a local stand-in for WeCom's server API (../shared/specs/wecom-api.md), the way LocalStack
// stands in for AWS. Demos, tests and benchmarks run against it; it never links Koi's client or domain code (a bug
// shared by both sides would hide itself), only core, the wire protocol and the generic HTTP and storage layers.
//
//   koi-wecom-sandbox serve --db sandbox.db --listen 127.0.0.1:9080 [--rule-pack wecom-2023]
//   koi-wecom-sandbox scenario seed --db sandbox.db --customers 10000 --seed 7 --callback-url http://…/callback
//   koi-wecom-sandbox scenario add-customer --db sandbox.db [--userid U] [--state S]
//   koi-wecom-sandbox scenario script --db sandbox.db --count 500 --seed 7
//   koi-wecom-sandbox scenario send-mass-message --db sandbox.db --userid U [--msgid M]
//   koi-wecom-sandbox scenario personal-mass-message --db sandbox.db [--userid U] [--count N] [--chat-type group]
//                                    [--create-type 0]
//   koi-wecom-sandbox scenario toolbar --db sandbox.db --corp C --agent-id 1000002 --domain 127.0.0.1:8080
//                                    --entry "客户画像=http://127.0.0.1:8080/sidebar/…" [--entry …]
// `serve` also plays the WeCom client for the chat toolbar's pages: http://<listen>/sandbox/chat (toolbar.h).
// Scenario actions change the world and queue the callback WeCom would send; `serve` delivers the queue. The rule
// pack `serve` enforces (mass-message limits) and the one a scenario command uses should be the same.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <iostream>
#include <thread>

#include "api.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "http/dispatcher.h"
#include "http/https_client.h"
#include "http/server.h"
#include "rules/rule_pack.h"
#include "scenario.h"
#include "suite.h"
#include "toolbar.h"
#include "wecom/protocol/crypto.h"
#include "wecom/protocol/xml.h"
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

int Serve(const std::string& db_path, const std::string& listen, int64_t calls_per_minute, int64_t latency_ms,
          const std::string& rule_pack) {
  InitLogging({.level = "info", .format = "text"});
  auto pack = rules::FindRulePack(rule_pack);
  if (!pack.ok()) return Fail(pack.status());
  auto db = OpenWorld(db_path);
  if (!db.ok()) return Fail(db.status());
  const Clock& clock = SystemClock::Instance();
  sandbox::SandboxApi api(**db, clock, {.calls_per_minute = calls_per_minute, .latency_ms = latency_ms, .pack = *pack});
  http::Router router;
  api.AddRoutes(router);
  sandbox::AddScenarioRoutes(router, **db, clock, *pack);
  sandbox::SuiteApi suite(**db, clock);
  suite.AddRoutes(router);
  sandbox::ToolbarApi toolbar(**db, clock, api);
  toolbar.AddRoutes(router);
  http::Dispatcher dispatcher(router, nullptr);
  ServerSettings settings;
  // media/upload takes files up to 20 MB, plus the multipart framing.
  settings.max_body_bytes = 21 * 1024 * 1024;
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Fail(Status::InvalidArgument("bad_listen", "--listen must be host:port"));
  settings.listen_host = listen.substr(0, colon);
  settings.listen_port = std::atoi(listen.c_str() + colon + 1);
  auto server = http::HttpServer::Create(settings, dispatcher);
  if (!server.ok()) return Fail(server.status());
  (*server)->Start();
  spdlog::info("koi-wecom-sandbox serving WeCom's API at http://{}:{}/cgi-bin/ (world: {}, rule pack: {})",
               settings.listen_host, (*server)->port(), db_path, pack->name);
  // Callbacks queued by scenario actions (from this process or the CLI) go out like WeCom sends them.
  std::atomic<bool> stopping{false};
  std::thread deliverer([&] {
    sandbox::CallbackDeliverer delivery(**db, clock, [](const std::string& url, const std::string& body) -> Result<int> {
      KOI_ASSIGN_OR_RETURN(auto reply, http::HttpExchange("POST", url, {{"Content-Type", "text/xml"}}, body, 5000));
      return reply.status;
    });
    while (!stopping.load()) {
      // WeCom pushes each suite a fresh suite_ticket every 10 minutes (the first at once).
      if (auto pushed = sandbox::PushSuiteTickets(**db, clock); !pushed.ok())
        spdlog::warn("suite tickets: {}", pushed.status().ToString());
      auto stats = delivery.DeliverDue();
      if (!stats.ok()) spdlog::warn("callback delivery: {}", stats.status().ToString());
      else if (stats->delivered + stats->retrying + stats->failed > 0)
        spdlog::info("callbacks: {} delivered, {} to retry, {} failed after 3 tries", stats->delivered,
                     stats->retrying, stats->failed);
      if (!stats.ok() || stats->delivered + stats->retrying + stats->failed == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  http::HttpServer::WaitForTerminationSignal();
  stopping = true;
  deliverer.join();
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

int RunScenario(const std::string& db_path, const std::string& corp, uint64_t seed, const std::string& action,
                const std::map<std::string, std::string>& args, int count, const std::string& rule_pack) {
  auto pack = rules::FindRulePack(rule_pack);
  if (!pack.ok()) return Fail(pack.status());
  auto db = OpenWorld(db_path);
  if (!db.ok()) return Fail(db.status());
  sandbox::Scenario scenario(**db, SystemClock::Instance(), corp, seed);
  scenario.UseRulePack(*pack);
  auto performed = scenario.Perform(action, args, count);
  if (!performed.ok()) return Fail(performed.status());
  const std::vector<sandbox::ScenarioEvent>& events = *performed;
  int queued = 0, silent = 0;  // silent: changes WeCom sends no callback for (mass messages)
  for (const auto& e : events) {
    if (e.outbox_id) ++queued;
    if (e.event.empty()) ++silent;
    if (events.size() <= 20) {
      std::cout << e.action << ":";
      if (!e.event.empty()) std::cout << " " << e.event << "/" << e.change_type;
      for (const auto& [k, v] : e.ids) std::cout << " " << k << "=" << v;
      std::cout << "\n";
    }
  }
  std::cout << events.size() << " change(s); " << queued << " callback(s) queued"
            << (queued + silent < static_cast<int>(events.size()) ? " (the corp has no callback URL)" : "") << "\n";
  return 0;
}

// Writes `count` callbacks as WeCom would send them now, one per line: "<target>\t<body>", each with its own nonce
// and event, for load generators (bench/wecom/callbacks.sh feeds them to wrk).
int SignCallbacks(const std::string& corp, const std::string& token, const std::string& aes_key,
                  const std::string& path, int count, const std::string& out_path) {
  auto keys = wecom::MakeCallbackKeys(token, aes_key, corp);
  if (!keys.ok()) return Fail(keys.status());
  std::ofstream out(out_path);
  if (!out) return Fail(Status::InvalidArgument("bad_out", "cannot write " + out_path));
  std::mt19937_64 rng(std::random_device{}());
  const std::string ts = std::to_string(SystemClock::Instance().NowSeconds());
  for (int i = 0; i < count; ++i) {
    // A departed member's profile event: cheap for Koi to apply, so the run measures the callback path.
    std::string message = wecom::BuildXmlMessage({{"ToUserName", corp},
                                                  {"FromUserName", "sys"},
                                                  {"CreateTime", ts, true},
                                                  {"MsgType", "event"},
                                                  {"Event", "change_contact"},
                                                  {"ChangeType", "delete_user"},
                                                  {"UserID", "bench" + std::to_string(i)}});
    auto cipher = wecom::EncryptCallback(*keys, message);
    if (!cipher.ok()) return Fail(cipher.status());
    const std::string nonce = std::to_string(1'000'000'000 + rng() % 9'000'000'000ULL);
    std::string body = wecom::BuildEncryptedEnvelope({corp, *cipher, ""});
    body.erase(std::remove(body.begin(), body.end(), '\n'), body.end());
    out << path << "?msg_signature=" << wecom::CallbackSignature(token, ts, nonce, *cipher) << "&timestamp=" << ts
        << "&nonce=" << nonce << "\t" << body << "\n";
  }
  return out.good() ? 0 : Fail(Status::Internal("write_failed", "writing " + out_path + " failed"));
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
  int64_t latency_ms = 0;
  serve->add_option("--latency-ms", latency_ms, "Delay added to every business API call")->check(CLI::Range(0, 60000));
  std::string rule_pack = rules::DefaultRulePack().name;
  serve->add_option("--rule-pack", rule_pack, "WeCom's limits to enforce (wecom-2020, wecom-2023, wecom-2025)")
      ->default_val(rule_pack);
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
  seed->add_option("--callback-url", spec.callback_url, "where the corp's callbacks go (none when empty)");
  seed->add_option("--callback-token", spec.callback_token, "the callback token")->default_val(spec.callback_token);
  seed->add_option("--callback-aes-key", spec.callback_aes_key, "the 43-character EncodingAESKey")
      ->default_val(spec.callback_aes_key);

  std::string callback_url, token = spec.callback_token, aes_key = spec.callback_aes_key;
  auto* callback = scenario->add_subcommand("callback", "Set where the corp's callbacks go");
  callback->add_option("--db", db_path, "SQLite file holding the simulated world");
  callback->add_option("--corp", spec.corp_id, "corp id")->default_val(spec.corp_id);
  callback->add_option("--url", callback_url, "callback URL (empty: send none)")->required();
  callback->add_option("--token", token, "token")->default_val(token);
  callback->add_option("--aes-key", aes_key, "EncodingAESKey")->default_val(aes_key);

  sandbox::SuiteSpec suite_spec;
  auto* suite = scenario->add_subcommand("suite", "Create or update a third-party suite (the install flow)");
  suite->add_option("--db", db_path, "SQLite file holding the simulated world");
  suite->add_option("--suite-id", suite_spec.suite_id, "suite id")->default_val(suite_spec.suite_id);
  suite->add_option("--suite-secret", suite_spec.suite_secret, "suite secret")->default_val(suite_spec.suite_secret);
  suite->add_option("--name", suite_spec.name, "the app's name on the authorisation page")->default_val(suite_spec.name);
  suite->add_option("--token", suite_spec.token, "callback token")->default_val(suite_spec.token);
  suite->add_option("--aes-key", suite_spec.aes_key, "callback EncodingAESKey")->default_val(suite_spec.aes_key);
  suite->add_option("--instruction-url", suite_spec.instruction_url,
                    "where suite_ticket and create_auth go (指令回调)")->required();
  suite->add_option("--data-url", suite_spec.data_url,
                    "each installing corp's callback URL (数据回调); $CORPID$ becomes the corp id");

  auto* uninstall = scenario->add_subcommand("uninstall", "The corp's admin uninstalls the suite's app (cancel_auth)");
  uninstall->add_option("--db", db_path, "SQLite file holding the simulated world");
  uninstall->add_option("--suite-id", suite_spec.suite_id, "suite id")->default_val(suite_spec.suite_id);
  uninstall->add_option("--corp", spec.corp_id, "corp id")->required();

  auto* toolbar = scenario->add_subcommand("toolbar", "Set the corp's chat toolbar (聊天工具栏): its app, trusted "
                                          "domain and sidebar pages");
  sandbox::Toolbar toolbar_spec;
  std::vector<std::string> toolbar_entries;
  toolbar->add_option("--db", db_path, "SQLite file holding the simulated world");
  toolbar->add_option("--corp", spec.corp_id, "corp id")->default_val(spec.corp_id);
  toolbar->add_option("--agent-id", toolbar_spec.agent_id, "the app's agent id")->required();
  toolbar->add_option("--domain", toolbar_spec.trusted_domain, "the app's trusted domain (可信域名), host[:port]")
      ->required();
  toolbar->add_option("--entry", toolbar_entries, "a page of the toolbar, \"name=url\" (1-10)")->required();

  // One subcommand per action, plus "script" (a random mix of --count actions).
  std::map<std::string, std::string> args;
  std::map<std::string, std::string> arg_values;
  uint64_t scenario_seed = std::random_device{}();
  int count = 1;
  std::vector<std::pair<std::string, CLI::App*>> actions;
  auto action_names = sandbox::Scenario::Actions();
  action_names.push_back("script");
  for (const auto& name : action_names) {
    auto* sub = scenario->add_subcommand(name, name == "script" ? "Run --count random actions" : "Simulate " + name);
    sub->add_option("--db", db_path, "SQLite file holding the simulated world");
    sub->add_option("--corp", spec.corp_id, "corp id")->default_val(spec.corp_id);
    sub->add_option("--seed", scenario_seed, "random seed (default: random)");
    sub->add_option("--rule-pack", rule_pack, "WeCom's limits to enforce (wecom-2020, wecom-2023, wecom-2025)")
        ->default_val(rule_pack);
    if (name == "script") sub->add_option("--count", count, "number of actions")->check(CLI::Range(1, 1000000));
    for (const char* key : {"userid", "external_userid", "chat_id", "tag_id", "group_id", "state", "name", "msgid"}) {
      std::string flag = std::string("--") + key;
      std::replace(flag.begin() + 2, flag.end(), '_', '-');
      sub->add_option(flag, arg_values[key], std::string("the ") + key + " to act on (default: picked at random)");
    }
    if (name == "personal-mass-message") {
      sub->add_option("--count", arg_values["count"], "customers (or groups) to send to (default 20)");
      sub->add_option("--text", arg_values["text"], "the message text");
      sub->add_option("--chat-type", arg_values["chat_type"],
                      "single (the default: to the member's customers) or group (to groups the member owns)");
      sub->add_option("--create-type", arg_values["create_type"],
                      "1 (the default: the member's own) or 0 (an admin's, created in the WeCom admin console)");
    }
    actions.emplace_back(name, sub);
  }
  auto* sign = app.add_subcommand("sign-callbacks", "Write signed, encrypted callbacks for load tests");
  std::string sign_path, sign_out;
  int sign_count = 1000;
  sign->add_option("--corp", spec.corp_id, "corp id")->default_val(spec.corp_id);
  sign->add_option("--token", token, "token")->default_val(token);
  sign->add_option("--aes-key", aes_key, "EncodingAESKey")->default_val(aes_key);
  sign->add_option("--path", sign_path, "request path, e.g. /api/v1/wecom/callback/<corp>")->required();
  sign->add_option("--count", sign_count, "how many")->check(CLI::Range(1, 10000000));
  sign->add_option("--out", sign_out, "output file")->required();
  CLI11_PARSE(app, argc, argv);
  if (*serve) return Serve(db_path, listen, calls_per_minute, latency_ms, rule_pack);
  if (*sign) return SignCallbacks(spec.corp_id, token, aes_key, sign_path, sign_count, sign_out);
  if (*seed) return Seed(db_path, spec);
  if (*suite) {
    auto db = OpenWorld(db_path);
    if (!db.ok()) return Fail(db.status());
    if (Status s = sandbox::ConfigureSuite(**db, suite_spec); !s.ok()) return Fail(s);
    std::cout << "suite " << suite_spec.suite_id << ": instructions go to " << suite_spec.instruction_url
              << ", installing corps' callbacks to " << (suite_spec.data_url.empty() ? "(unchanged)" : suite_spec.data_url)
              << "\n";
    return 0;
  }
  if (*uninstall) {
    auto db = OpenWorld(db_path);
    if (!db.ok()) return Fail(db.status());
    if (Status s = sandbox::UninstallSuite(**db, SystemClock::Instance(), suite_spec.suite_id, spec.corp_id); !s.ok())
      return Fail(s);
    std::cout << spec.corp_id << " uninstalled " << suite_spec.suite_id << "; cancel_auth queued\n";
    return 0;
  }
  if (*toolbar) {
    for (const auto& entry : toolbar_entries) {
      const size_t eq = entry.find('=');
      if (eq == std::string::npos)
        return Fail(Status::InvalidArgument("bad_entry", "--entry \"" + entry + "\": write it name=url"));
      toolbar_spec.entries.push_back({entry.substr(0, eq), entry.substr(eq + 1)});
    }
    auto db = OpenWorld(db_path);
    if (!db.ok()) return Fail(db.status());
    Status s = sandbox::ConfigureToolbar(**db, SystemClock::Instance(), spec.corp_id, std::move(toolbar_spec));
    if (!s.ok()) return Fail(s);
    auto saved = sandbox::LoadToolbar(**db, spec.corp_id);
    if (!saved.ok()) return Fail(saved.status());
    std::cout << "chat toolbar of " << spec.corp_id << " (agent " << saved->agent_id << "): " << saved->entries.size()
              << " page(s) on the trusted domain " << saved->trusted_domain << "\n";
    return 0;
  }
  if (*callback) {
    auto db = OpenWorld(db_path);
    if (!db.ok()) return Fail(db.status());
    Status s = sandbox::ConfigureCallback(**db, spec.corp_id, callback_url, token, aes_key);
    if (!s.ok()) return Fail(s);
    std::cout << "callbacks of " << spec.corp_id << " go to " << (callback_url.empty() ? "(nowhere)" : callback_url)
              << "\n";
    return 0;
  }
  for (const auto& [name, sub] : actions) {
    if (!*sub) continue;
    for (const auto& [k, v] : arg_values)
      if (!v.empty()) args[k] = v;
    return RunScenario(db_path, spec.corp_id, scenario_seed, name, args, count, rule_pack);
  }
  return 2;
}
