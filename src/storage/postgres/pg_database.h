// The PostgreSQL driver over libpq: a connection pool, statements prepared once per connection, COPY for bulk
// inserts. See storage/database.h for the contract.
#pragma once

#include <memory>
#include <string>

#include "storage/database.h"

namespace koi::storage::postgres {

class PgDatabase {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& url, const DatabaseOptions& options);
};

// Rewrites `?` placeholders to $1…$n, leaving quoted text alone. Exposed for tests.
std::string RewritePlaceholders(std::string_view sql, int* count);

}  // namespace koi::storage::postgres
