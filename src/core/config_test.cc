#include "core/config.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

namespace koi {
namespace {

TEST(Config, DefaultsWithoutFileOrEnvironment) {
  auto s = ParseSettings("", "test", {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->server.listen_host, "127.0.0.1");
  EXPECT_EQ(s->server.listen_port, 8080);
  EXPECT_EQ(s->database.url, "sqlite:./data/koi.db");
}

TEST(Config, FileThenEnvironmentOverride) {
  auto s = ParseSettings(
      "# comment\n[server]\nlisten = \"0.0.0.0:9000\"  # trailing\nworker_threads = 8\n[jobs]\nenabled = false\n",
      "koi.toml", {{"KOI_DATABASE_URL", "postgresql://koi@db/koi"}, {"KOI_SERVER_WORKER_THREADS", "3"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->server.listen_host, "0.0.0.0");
  EXPECT_EQ(s->server.listen_port, 9000);
  EXPECT_EQ(s->server.worker_threads, 3);
  EXPECT_FALSE(s->jobs.enabled);
  EXPECT_EQ(s->database.url, "postgresql://koi@db/koi");
}

TEST(Config, UnknownKeyNamesTheKeyAndLine) {
  auto s = ParseSettings("[server]\nlisten = \"127.0.0.1:1\"\nworkers = 4\n", "koi.toml", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "bad_config");
  EXPECT_NE(s.status().message().find("koi.toml:3"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("server.workers"), std::string::npos);
}

TEST(Config, BadValuesNameTheKey) {
  auto port = ParseSettings("", "t", {{"KOI_SERVER_LISTEN", "127.0.0.1:99999"}});
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().message().find("KOI_SERVER_LISTEN"), std::string::npos);
  auto range = ParseSettings("[jobs]\nworkers = 0\n", "t", {});
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("jobs.workers must be between 1 and 64"), std::string::npos);
  auto unquoted = ParseSettings("[log]\nlevel = info\n", "t", {});
  ASSERT_FALSE(unquoted.ok());
  auto db = ParseSettings("", "t", {{"KOI_DATABASE_URL", "mysql://x"}});
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("database.url"), std::string::npos);
  auto typo = ParseSettings("", "t", {{"KOI_DATABSE_URL", "sqlite:x"}});
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("KOI_DATABSE_URL"), std::string::npos);
}

TEST(Config, ScriptVariablesAreNotMistakenForTypos) {
  auto s = ParseSettings("", "t", {{"KOI_CONFIG", "x"}, {"KOI_TEST_PG_URL", "x"}, {"KOI_REQUIRE_PG", "1"},
                                   {"KOI_BASE_URL", "x"}, {"KOI_E2E_SCREENSHOTS", "x"}});
  EXPECT_TRUE(s.ok()) << s.status().ToString();
}

TEST(Config, MissingFileIsAnError) {
  auto s = LoadSettings("/nonexistent/koi.toml", {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/koi.toml"), std::string::npos);
}

TEST(Config, EveryKnownKeyHasAnEnvironmentNameAndDescription) {
  auto keys = KnownSettingKeys();
  ASSERT_GE(keys.size(), 15u);
  for (const auto& k : keys) {
    EXPECT_EQ(k.env.rfind("KOI_", 0), 0u) << k.key;
    EXPECT_FALSE(k.description.empty()) << k.key;
  }
}

TEST(Log, RedactUrlHidesPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://koi:s3cret@db:5432/koi"), "postgresql://koi:***@db:5432/koi");
  EXPECT_EQ(RedactUrl("postgresql://db/koi?user=koi&password=s3cret&x=1"),
            "postgresql://db/koi?user=koi&password=***&x=1");
  EXPECT_EQ(RedactUrl("sqlite:./data/koi.db"), "sqlite:./data/koi.db");
}

TEST(Log, RequestIdScopeNestsAndRestores) {
  EXPECT_EQ(CurrentRequestId(), "-");
  {
    RequestIdScope a("abc");
    EXPECT_EQ(CurrentRequestId(), "abc");
    {
      RequestIdScope b("def");
      EXPECT_EQ(CurrentRequestId(), "def");
    }
    EXPECT_EQ(CurrentRequestId(), "abc");
  }
  EXPECT_EQ(CurrentRequestId(), "-");
  EXPECT_EQ(NewRequestId().size(), 16u);
}

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry reg;
  reg.GetCounter("koi_test_total", "A test counter", {{"route", "/x"}}).Inc(2);
  reg.GetGauge("koi_test_gauge", "A gauge").Set(5);
  auto& h = reg.GetHistogram("koi_test_seconds", "A histogram", {}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = reg.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE koi_test_total counter\nkoi_test_total{route=\"/x\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("koi_test_gauge 5\n"), std::string::npos);
  EXPECT_NE(text.find("koi_test_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("koi_test_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("koi_test_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("koi_test_seconds_count 3\n"), std::string::npos);
}

TEST(Clock, FakeClockMovesOnlyWhenTold) {
  FakeClock c(1000);
  EXPECT_EQ(c.NowMillis(), 1000);
  c.Advance(500);
  EXPECT_EQ(c.NowMillis(), 1500);
  EXPECT_EQ(c.NowSeconds(), 1);
  EXPECT_GT(SystemClock::Instance().NowMillis(), 1'600'000'000'000);
}

}  // namespace
}  // namespace koi
