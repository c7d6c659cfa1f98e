// koi-bench-segments: the segment engine at scale (issue 6). On a database written by koi-bench-customers-gen it
// builds the team's segment index (time, bitmap bytes, resident memory), then times a fixed set of named rules —
// from one tag to a hard five-clause rule — through SegmentIndex::Evaluate (what the console's live count calls,
// change-log probe included) and as SQL (RuleToSql, what a database does with the same rule), checking that both
// give the same count. Prints a Markdown table (bench/segments/run.sh writes it to bench/results/segments.md).
//
//   koi-bench-segments --db URL [--iterations 300] [--sql-iterations 3] [--rule JSON (time only this rule)]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <malloc.h>

#include <roaring/roaring.hh>
#include <sqlite3.h>
#include <unistd.h>

#include "core/allocator.h"
#include "core/clock.h"
#include "domain/segments/index.h"
#include "domain/segments/rule.h"
#include "domain/segments/rule_sql.h"
#include "storage/database.h"

namespace koi::segments {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Resident anonymous memory (resident pages minus file-backed ones) less what SQLite holds (its page caches, up to
// 256 MB a connection, are not the index's).
int64_t ResidentBytes() {
  std::ifstream f("/proc/self/statm");
  int64_t size = 0, resident = 0, shared = 0;
  f >> size >> resident >> shared;
  return (resident - shared) * sysconf(_SC_PAGESIZE) - sqlite3_memory_used();
}

// Heap bytes in use (malloc's chunks, headers included), less SQLite's: what the index's structures take, without
// the allocator's free space that resident memory also counts.
int64_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd) - sqlite3_memory_used();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct NamedRule {
  const char* name;
  const char* json;
};

// Tag ranks follow the generator's Zipf order (ettag0 is the most common). Stages are ids 1–20, departments 2–21.
const NamedRule kRules[] = {
    {"simple: one tag", R"({"field":"corp_tag","values":["ettag40"]})"},
    {"any of three tags", R"({"field":"corp_tag","match":"any","values":["ettag2","ettag30","ettag300"]})"},
    {"all of two tags", R"({"field":"corp_tag","match":"all","values":["ettag1","ettag5"]})"},
    {"department and stages", R"({"op":"and","children":[{"field":"department","values":[5]},
        {"field":"stage","values":[3,4]}]})"},
    {"added in the last 90 days, not in a group",
     R"({"op":"and","children":[{"field":"added","within_days":90},{"field":"group","values":["wrbench0","wrbench1",
        "wrbench2"],"not":true}]})"},
    {"hard: 5 clauses, OR inside AND, NOT, time range",
     R"({"op":"and","children":[
        {"field":"corp_tag","match":"any","values":["ettag3","ettag7"]},
        {"op":"or","children":[{"field":"stage","values":[2]},{"field":"group","values":["wrbench10","wrbench11",
          "wrbench12","wrbench13"]},{"field":"corp_tag","match":"all","values":["ettag10","ettag12"]}]},
        {"field":"corp_tag","values":["ettag0"],"not":true},
        {"field":"added","from":"2025-01-01","to":"2025-12-31"},
        {"field":"gender","values":[2]}]})"},
};

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

int Run(const std::string& url, int iterations, int sql_iterations, const std::vector<std::string>& only) {
  auto opened = storage::Database::Open(url, {.pool_size = 2});
  if (!opened.ok()) return Fail("open", opened.status());
  storage::Database& db = **opened;
  SystemClock clock;
  auto team_row = db.Query("SELECT team_id FROM wecom_corps ORDER BY team_id LIMIT 1");
  if (!team_row.ok() || team_row->rows.empty()) return Fail("team", team_row.status());
  const TeamId team(team_row->rows[0].Int(0));

  // Departments for the rules (the same lookup the service does).
  EvalContext ctx;
  ctx.today = DayOf(clock.NowSeconds());
  auto emps = db.Query("SELECT userid, main_department FROM wecom_employees WHERE team_id = ?", {team.value()});
  if (!emps.ok()) return Fail("employees", emps.status());
  for (const auto& r : emps->rows) ctx.department_employees[r.Int(1)].push_back(r.Text(0));

  SegmentIndex index(db, clock);
  const int64_t rss_before = ResidentBytes(), heap_before = HeapBytes();
  auto started = Clock::now();
  if (Status s = index.Build(team); !s.ok()) return Fail("build", s);
  const double build_ms = Ms(Clock::now() - started);
  const int64_t rss_after = ResidentBytes(), heap_after = HeapBytes();
  IndexStats stats = index.Stats(team);
  std::printf("index: %lld customers, built in %.1f s; %lld bitmaps, %.1f MB serialized (%.1f bytes/customer); "
              "search texts %.1f MB (%.1f bytes/customer); resident memory +%.1f MB (%.1f bytes/customer); ",
              static_cast<long long>(stats.customers), build_ms / 1000, static_cast<long long>(stats.bitmaps),
              static_cast<double>(stats.bytes) / 1e6,
              static_cast<double>(stats.bytes) / static_cast<double>(std::max<int64_t>(1, stats.customers)),
              static_cast<double>(stats.search_text_bytes) / 1e6,
              static_cast<double>(stats.search_text_bytes) / static_cast<double>(std::max<int64_t>(1, stats.customers)),
              static_cast<double>(rss_after - rss_before) / 1e6,
              static_cast<double>(rss_after - rss_before) / static_cast<double>(std::max<int64_t>(1, stats.customers)));
  std::printf("heap in use +%.1f MB (%.1f bytes/customer)\n\n", static_cast<double>(heap_after - heap_before) / 1e6,
              static_cast<double>(heap_after - heap_before) / static_cast<double>(std::max<int64_t>(1, stats.customers)));

  std::printf("| rule | customers | index p50 ms | index p99 ms | SQL p50 ms | SQL p99 ms | index vs SQL |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  int mismatches = 0;
  std::vector<NamedRule> rules(std::begin(kRules), std::end(kRules));
  if (!only.empty()) {
    rules.clear();
    for (const auto& json : only) rules.push_back({"--rule", json.c_str()});
  }
  for (const auto& named : rules) {
    auto rule = ParseRule(named.json);
    if (!rule.ok()) return Fail(named.name, rule.status());
    int64_t count = 0;
    std::vector<double> idx;
    for (int i = 0; i < iterations + 5; ++i) {
      auto t0 = Clock::now();
      Status s = index.Evaluate(team, *rule, ctx, [&count](const Roaring& r) {
        count = static_cast<int64_t>(r.cardinality());
      });
      if (!s.ok()) return Fail(named.name, s);
      if (i >= 5) idx.push_back(Ms(Clock::now() - t0));  // the first few warm caches
    }
    std::vector<storage::Value> params{team.value()};
    const std::string sql = "SELECT COUNT(*) FROM wecom_customers c WHERE c.team_id = ? AND " + RuleToSql(*rule, ctx, params);
    std::vector<double> sq;
    int64_t sql_count = -1;
    for (int i = 0; i < sql_iterations; ++i) {
      auto t0 = Clock::now();
      auto r = db.Query(sql, params);
      if (!r.ok()) return Fail(std::string(named.name) + " (SQL)", r.status());
      sq.push_back(Ms(Clock::now() - t0));
      sql_count = r->rows.at(0).Int(0);
    }
    if (sql_iterations > 0 && sql_count != count) {
      ++mismatches;
      std::fprintf(stderr, "MISMATCH %s: index %lld, SQL %lld\n", named.name, static_cast<long long>(count),
                   static_cast<long long>(sql_count));
    }
    const double i50 = Percentile(idx, 0.5), i99 = Percentile(idx, 0.99);
    const double s50 = Percentile(sq, 0.5), s99 = Percentile(sq, 0.99);
    std::printf("| %s | %lld | %.3f | %.3f | %.0f | %.0f | %.0f× |\n", named.name, static_cast<long long>(count), i50,
                i99, s50, s99, i99 > 0 ? s50 / i99 : 0);
  }
  std::printf("\n(index vs SQL: SQL p50 over index p99. %d iterations per rule on the index, %d in SQL; counts %s.)\n",
              iterations, sql_iterations, mismatches ? "DIFFER" : "equal");
  return mismatches ? 1 : 0;
}

}  // namespace
}  // namespace koi::segments

int main(int argc, char** argv) {
  koi::TuneAllocator();  // as `koi serve` does
  std::string db;
  int iterations = 300, sql_iterations = 3;
  std::vector<std::string> only;  // --rule JSON, any number of times: these instead of the named rules
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--db") db = argv[i + 1];
    else if (k == "--iterations") iterations = std::atoi(argv[i + 1]);
    else if (k == "--sql-iterations") sql_iterations = std::atoi(argv[i + 1]);
    else if (k == "--rule") only.push_back(argv[i + 1]);
  }
  if (db.empty() || iterations <= 0 || sql_iterations < 0) {
    std::fprintf(stderr, "usage: koi-bench-segments --db URL [--iterations 300] [--sql-iterations 3] [--rule JSON]...\n");
    return 2;
  }
  return koi::segments::Run(db, iterations, sql_iterations, only);
}
