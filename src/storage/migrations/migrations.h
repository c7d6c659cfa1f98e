// Numbered schema migrations, applied at start by `koi serve` and on demand by `koi migrate`.
//
// Each migration runs in its own transaction together with the row that records it in schema_migrations, so a
// crash leaves either the old or the new version, never half. Several nodes starting at once are safe: on
// PostgreSQL an advisory lock serialises them, on SQLite BEGIN IMMEDIATE does. A database whose version is newer
// than this binary knows is refused (kFailedPrecondition, reason "database_newer_than_binary"): an old binary must
// not write to a schema it does not understand.
//
// Migration SQL is shared by both engines; `{{pk}}` stands for an auto-increment int64 primary key column type and
// `{{segment_triggers}}` for the triggers that feed segment_changes (their syntax differs per engine).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "storage/database.h"

namespace koi::storage {

struct Migration {
  int64_t version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& AllMigrations();
int64_t LatestSchemaVersion();

// 0 for an empty database.
Result<int64_t> CurrentSchemaVersion(Database& db);

// Applies every pending migration in order. Returns the number applied.
Result<int> Migrate(Database& db, const Clock& clock);

}  // namespace koi::storage
