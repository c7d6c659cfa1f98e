#include "testing/test_databases.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>

namespace koi::testing {

std::string TestEngineName(TestEngine engine) { return engine == TestEngine::kSqlite ? "sqlite" : "postgresql"; }

TestDatabase OpenTestDatabase(TestEngine engine, std::string* skip_reason, int pool_size) {
  static std::atomic<int> counter{0};
  TestDatabase out;
  std::string unique = std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
                       std::to_string(std::random_device{}() % 100000);
  if (engine == TestEngine::kSqlite) {
    auto dir = std::filesystem::temp_directory_path() / ("koi_test_" + unique);
    std::filesystem::create_directories(dir);
    out.url = "sqlite:" + (dir / "koi.db").string();
  } else {
    const char* base = std::getenv("KOI_TEST_PG_URL");
    if (base == nullptr || *base == '\0') {
      const char* require = std::getenv("KOI_REQUIRE_PG");
      *skip_reason = (require && std::string(require) == "1" ? "FAIL: " : "") +
                     std::string("KOI_TEST_PG_URL is not set (run through scripts/with-postgres)");
      return out;
    }
    // One schema per test keeps tests independent on one server.
    std::string schema = "t_" + unique;
    auto admin = storage::Database::Open(base, {.pool_size = 1});
    if (!admin.ok()) {
      *skip_reason = "FAIL: " + admin.status().ToString();
      return out;
    }
    if (auto s = (*admin)->Exec("CREATE SCHEMA " + schema); !s.ok()) {
      *skip_reason = "FAIL: " + s.ToString();
      return out;
    }
    std::string url = base;
    url += (url.find('?') == std::string::npos ? "?" : "&");
    url += "options=-csearch_path%3D" + schema;
    out.url = url;
  }
  auto db = storage::Database::Open(out.url, {.pool_size = pool_size});
  if (!db.ok()) {
    *skip_reason = "FAIL: " + db.status().ToString();
    return out;
  }
  out.db = std::move(*db);
  return out;
}

}  // namespace koi::testing
