// The storage contract: the same cases on SQLite and on PostgreSQL.
#include "storage/database.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include "core/clock.h"
#include "storage/migrations/migrations.h"
#include "storage/postgres/pg_database.h"
#include "testing/test_databases.h"

namespace koi::storage {
namespace {

using testing::TestEngine;

class StorageContract : public ::testing::TestWithParam<TestEngine> {};

TEST_P(StorageContract, RoundTripsEveryValueType) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO v VALUES (?, ?, ?, ?)",
                         {int64_t{9007199254740993}, 2.5, std::string("锦鲤 'quoted' ?"), kNull})
                  .ok());
  auto r = t.db->Query("SELECT i, d, s, n FROM v WHERE s = ?", {std::string("锦鲤 'quoted' ?")});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0].Int(0), 9007199254740993);
  EXPECT_DOUBLE_EQ(r->rows[0].Double(1), 2.5);
  EXPECT_EQ(r->rows[0].Text(2), "锦鲤 'quoted' ?");
  EXPECT_TRUE(r->rows[0].IsNull(3));
  EXPECT_EQ(r->columns, (std::vector<std::string>{"i", "d", "s", "n"}));
}

TEST_P(StorageContract, QueryEachStreamsRowsAndStopsAtTheFirstError) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE q (i BIGINT, s TEXT, n TEXT, numeric_text TEXT)").ok());
  for (int64_t i = 1; i <= 5; ++i)
    ASSERT_TRUE(t.db->Exec("INSERT INTO q VALUES (?, ?, ?, ?)",
                           {i, "锦鲤" + std::to_string(i), kNull, std::to_string(i * 10)}).ok());
  std::vector<std::string> seen;
  Status s = t.db->QueryEach("SELECT i, s, n, numeric_text FROM q WHERE i >= ? ORDER BY i", {int64_t{2}},
                             [&](const RowView& row) {
                               EXPECT_EQ(row.Text(2), "");      // NULL
                               EXPECT_EQ(row.Text(0), "");      // a number is read with Int
                               EXPECT_EQ(row.Int(3), row.Int(0) * 10);  // text holding a number
                               EXPECT_EQ(row.Text(3), std::to_string(row.Int(0) * 10));  // still text after Int
                               seen.push_back(std::to_string(row.Int(0)) + ":" + std::string(row.Text(1)));
                               return Status::Ok();
                             });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(seen, (std::vector<std::string>{"2:锦鲤2", "3:锦鲤3", "4:锦鲤4", "5:锦鲤5"}));

  // The callback's error ends the read and is returned; the connection is usable afterwards.
  int calls = 0;
  s = t.db->QueryEach("SELECT i FROM q ORDER BY i", {}, [&](const RowView&) {
    return ++calls == 2 ? Status::InvalidArgument("stop", "enough") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 2);
  // A bad statement is the driver's error, as with Query.
  EXPECT_EQ(t.db->QueryEach("SELECT nope FROM q", {}, [](const RowView&) { return Status::Ok(); }).code(),
            StatusCode::kInternal);
  auto after = t.db->Query("SELECT COUNT(*) FROM q");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->rows[0].Int(0), 5);
}

TEST_P(StorageContract, IdsInTakesAnyNumberOfIdsAsOneParameter) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE ids (id BIGINT PRIMARY KEY, team BIGINT)").ok());
  std::vector<std::vector<Value>> rows;
  for (int64_t i = 1; i <= 6000; ++i) rows.push_back({i, i % 2});
  ASSERT_TRUE(t.db->Transact([&](Session& tx) { return tx.CopyIn("ids", {"id", "team"}, rows); }).ok());
  auto count = [&](const std::vector<int64_t>& ids) -> int64_t {
    std::vector<Value> params{int64_t{1}};
    const std::string sql = "SELECT COUNT(*) FROM ids WHERE team = ? AND " + IdsIn(t.db->engine(), "id", params, ids);
    EXPECT_EQ(params.size(), 2u);
    auto r = t.db->Query(sql, params);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->rows.at(0).Int(0) : -1;
  };
  EXPECT_EQ(count({}), 0);
  EXPECT_EQ(count({1, 2, 3, 3, 99999}), 2);  // 1 and 3 are odd; duplicates and unknown ids change nothing
  std::vector<int64_t> many;
  for (int64_t i = 1; i <= 5000; ++i) many.push_back(i);
  EXPECT_EQ(count(many), 2500);
  EXPECT_EQ(count({-5, 9007199254740993}), 0);
}

TEST_P(StorageContract, UniqueViolationIsAlreadyExists) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE u (k TEXT PRIMARY KEY)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO u VALUES (?)", {std::string("a")}).ok());
  Status s = t.db->Exec("INSERT INTO u VALUES (?)", {std::string("a")});
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(s.reason(), "already_exists");
}

TEST_P(StorageContract, TransactionRollsBackOnError) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE r (x BIGINT)").ok());
  Status s = t.db->Transact([](Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO r VALUES (1)"));
    return Status::InvalidArgument("nope", "handler refused");
  });
  EXPECT_EQ(s.reason(), "nope");
  auto r = t.db->Query("SELECT COUNT(*) FROM r");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 0);
}

TEST_P(StorageContract, AbortedTransactionsAreRetried) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE r (x BIGINT)").ok());
  int calls = 0;
  Status s = t.db->Transact([&](Session& tx) -> Status {
    ++calls;
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO r VALUES (?)", {int64_t{calls}}));
    if (calls < 3) return Status::Aborted("database_busy", "simulated serialization failure");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, 3);
  auto r = t.db->Query("SELECT x FROM r");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->rows.size(), 1u);  // the first two attempts were rolled back
  EXPECT_EQ(r->rows[0].Int(0), 3);
}

TEST_P(StorageContract, ConcurrentWritersDoNotLoseUpdates) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam(), 4);
  ASSERT_TRUE(t.db->Exec("CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)").ok());
  ASSERT_TRUE(t.db->Exec("INSERT INTO c VALUES (1, 0)").ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        Status s = t.db->Transact([](Session& tx) -> Status {
          KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT n FROM c WHERE id = 1"));
          return tx.Exec("UPDATE c SET n = ? WHERE id = 1", {r.rows[0].Int(0) + 1});
        }, {.max_attempts = 50, .serializable = true});
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = t.db->Query("SELECT n FROM c WHERE id = 1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 200);
}

TEST_P(StorageContract, CopyInBulkInsertsWithEscapes) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  ASSERT_TRUE(t.db->Exec("CREATE TABLE b (id BIGINT, name TEXT, note TEXT)").ok());
  std::vector<std::vector<Value>> rows;
  for (int64_t i = 0; i < 5000; ++i)
    rows.push_back({i, std::string("客户\t") + std::to_string(i), i % 2 ? Value(std::string("a\\b\nc")) : kNull});
  Status s = t.db->Transact([&](Session& tx) { return tx.CopyIn("b", {"id", "name", "note"}, rows); });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto r = t.db->Query("SELECT COUNT(*), COUNT(note) FROM b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows[0].Int(0), 5000);
  EXPECT_EQ(r->rows[0].Int(1), 2500);
  auto one = t.db->Query("SELECT name, note FROM b WHERE id = 7");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->rows[0].Text(0), "客户\t7");
  EXPECT_EQ(one->rows[0].Text(1), "a\\b\nc");
}

TEST_P(StorageContract, SyntaxErrorsAreInternalWithMessage) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  auto r = t.db->Query("SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
  EXPECT_EQ(r.status().reason(), "database_error");
}

TEST_P(StorageContract, MigrationsApplyOnceAndRefuseNewerDatabase) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  FakeClock clock;
  EXPECT_EQ(*CurrentSchemaVersion(*t.db), 0);
  auto first = Migrate(*t.db, clock);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, static_cast<int>(AllMigrations().size()));
  EXPECT_EQ(*CurrentSchemaVersion(*t.db), LatestSchemaVersion());
  auto second = Migrate(*t.db, clock);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 0);
  ASSERT_TRUE(t.db->Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)",
                         {LatestSchemaVersion() + 1})
                  .ok());
  auto refused = Migrate(*t.db, clock);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "database_newer_than_binary");
}

TEST_P(StorageContract, ConcurrentMigratorsApplyEachMigrationOnce) {
  KOI_OPEN_TEST_DB_OR_SKIP(t, GetParam());
  FakeClock clock;
  std::atomic<int> applied{0}, errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      auto r = Migrate(*t.db, clock);
      if (r.ok()) applied += *r;
      else ++errors;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(AllMigrations().size()));
}

INSTANTIATE_TEST_SUITE_P(Engines, StorageContract, ::testing::Values(TestEngine::kSqlite, TestEngine::kPostgres),
                         testing::EngineParamName());

TEST(PgPlaceholders, RewritesOutsideQuotesOnly) {
  int n = 0;
  EXPECT_EQ(postgres::RewritePlaceholders("SELECT ? , '?', \"a?\" FROM t WHERE x = ?", &n),
            "SELECT $1 , '?', \"a?\" FROM t WHERE x = $2");
  EXPECT_EQ(n, 2);
}

// A scratch SQLite file, removed with its log at the end.
struct ScratchSqlite {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("koi_sqlite_" + std::to_string(getpid()) + "_" + std::to_string(std::rand()));
  ScratchSqlite() { std::filesystem::create_directories(dir); }
  ~ScratchSqlite() { std::filesystem::remove_all(dir); }
  std::string file() const { return (dir / "t.db").string(); }
  // Opens the file with a counter table c holding (1, 0).
  std::unique_ptr<Database> OpenCounter(int busy_timeout_ms) const {
    auto db = Database::Open("sqlite:" + file(), {.pool_size = 4, .busy_timeout_ms = busy_timeout_ms});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    EXPECT_TRUE((*db)->Exec("CREATE TABLE c (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)").ok());
    EXPECT_TRUE((*db)->Exec("INSERT INTO c VALUES (1, 0)").ok());
    return std::move(*db);
  }
};

// Writers in one process queue on a mutex rather than in SQLite's busy handler (which sleeps 1, 2, 5 … ms between
// tries): transactions and statements of their own, without retries, none refused and no update lost.
TEST(SqliteDatabase, WritersInOneProcessTakeTurnsWithoutBusyErrors) {
  ScratchSqlite scratch;
  auto db = scratch.OpenCounter(30000);
  ASSERT_NE(db, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 100; ++k) {
        // Half write in transactions, half with a statement of their own: both queue.
        Status s = i % 2 == 0 ? db->Transact([](Session& tx) -> Status {
          KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT n FROM c WHERE id = 1"));
          return tx.Exec("UPDATE c SET n = ? WHERE id = 1", {r.rows[0].Int(0) + 1});
        }, {.max_attempts = 1})
                              : db->Exec("UPDATE c SET n = n + 1 WHERE id = 1");
        if (!s.ok() && failures++ == 0) ADD_FAILURE() << s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db->Query("SELECT n FROM c WHERE id = 1")->rows[0].Int(0), 400);
}

// The queue is bounded like SQLite's own wait: a writer behind one that holds the database longer than the busy
// timeout gets database_busy (which callers retry) instead of waiting for ever; a reader never queues.
TEST(SqliteDatabase, AWriterWaitsNoLongerThanTheBusyTimeout) {
  ScratchSqlite scratch;
  auto db = scratch.OpenCounter(100);
  ASSERT_NE(db, nullptr);
  std::promise<void> inside, release;
  std::thread holder([&] {
    Status s = db->Transact([&](Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE c SET n = 1 WHERE id = 1"));
      inside.set_value();
      release.get_future().wait();
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  inside.get_future().wait();
  Status blocked = db->Exec("UPDATE c SET n = 2 WHERE id = 1");
  EXPECT_EQ(blocked.reason(), "database_busy") << blocked.ToString();
  auto read = db->Query("SELECT n FROM c WHERE id = 1");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->rows[0].Int(0), 0) << "a reader sees the last commit without waiting";
  release.set_value();
  holder.join();
  EXPECT_TRUE(db->Exec("UPDATE c SET n = 3 WHERE id = 1").ok());
}

// The write-ahead log is copied back into the database file by Koi's checkpoint thread (SQLite's own checkpoint
// inside a commit is switched off): once more pages than the threshold were committed the file grows by itself.
TEST(SqliteDatabase, TheLogIsCopiedBackIntoTheFile) {
  ScratchSqlite scratch;
  auto db = Database::Open("sqlite:" + scratch.file(), {.pool_size = 2, .checkpoint_pages = 200});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE big (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)").ok());
  const std::string pad(1000, 'k');
  for (int batch = 0; batch < 60; ++batch) {
    ASSERT_TRUE((*db)->Transact([&](Session& tx) -> Status {
      for (int i = 0; i < 100; ++i) KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO big (pad) VALUES (?)", {pad}));
      return Status::Ok();
    }).ok());
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::filesystem::file_size(scratch.file()) < 4'000'000 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(std::filesystem::file_size(scratch.file()), 4'000'000u) << "6,000 rows of 1 kB stayed in the log";
  EXPECT_EQ((*db)->Query("SELECT COUNT(*) FROM big")->rows[0].Int(0), 6000);
}

TEST(DatabaseOpen, RejectsUnknownSchemes) {
  auto r = Database::Open("mysql://x", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "bad_database_url");
  auto pg = Database::Open("postgresql://127.0.0.1:1/none?connect_timeout=2", {.pool_size = 1});
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace koi::storage
