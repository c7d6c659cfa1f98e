// Test databases for the storage contract: a fresh SQLite file in a temp folder, and a fresh schema on the
// PostgreSQL server named by KOI_TEST_PG_URL (scripts/with-postgres starts a throwaway one for `make test`).
// Without KOI_TEST_PG_URL the PostgreSQL cases skip, unless KOI_REQUIRE_PG=1 (set by `make test`), when they fail.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace koi::testing {

enum class TestEngine { kSqlite, kPostgres };
std::string TestEngineName(TestEngine engine);

struct TestDatabase {
  std::unique_ptr<storage::Database> db;
  std::string url;  // to open more connections to the same database (e.g. from a child process)
  std::string cleanup_note;
};

// Returns nullptr-db with a skip reason in `skip_reason` when the engine is not available.
TestDatabase OpenTestDatabase(TestEngine engine, std::string* skip_reason, int pool_size = 4);

// gtest helper: "sqlite" / "postgresql" parameter names.
struct EngineParamName {
  template <class ParamInfo>
  std::string operator()(const ParamInfo& info) const {
    return TestEngineName(info.param);
  }
};

}  // namespace koi::testing

// Opens the engine of the current parameterised test into `var` (a TestDatabase), or skips/fails the test.
#define KOI_OPEN_TEST_DB_OR_SKIP(var, engine, ...)                        \
  std::string koi_skip_reason_;                                            \
  auto var = ::koi::testing::OpenTestDatabase(engine, &koi_skip_reason_, ##__VA_ARGS__); \
  if (!var.db) {                                                           \
    if (koi_skip_reason_.rfind("FAIL:", 0) == 0) FAIL() << koi_skip_reason_; \
    GTEST_SKIP() << koi_skip_reason_;                                      \
  }
