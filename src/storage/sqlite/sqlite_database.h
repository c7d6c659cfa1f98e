// The embedded SQLite driver (WAL, synchronous=NORMAL, foreign keys on, busy timeout). See storage/database.h.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace koi::storage::sqlite {

class SqliteDatabase {
 public:
  // `path` is a file path or ":memory:" (then the pool has one connection).
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const DatabaseOptions& options);
};

}  // namespace koi::storage::sqlite
