#include "storage/postgres/pg_database.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <unordered_map>

#include "storage/internal/pool.h"

namespace koi::storage::postgres {
namespace {

// Type oids from pg_type.h (stable across versions).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat4Oid = 700, kFloat8Oid = 701,
              kNumericOid = 1700, kOidOid = 26;

Status MapResultError(PGconn* conn, PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = std::string(what) + ": " + (res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::string_view code = state ? state : "";
  if (code == "23505") return Status::AlreadyExists("already_exists", msg);
  if (code == "40001" || code == "40P01" || code == "55P03") return Status::Aborted("database_busy", msg);
  if (code.substr(0, 2) == "23") return Status::FailedPrecondition("constraint_violation", msg);
  if (code.substr(0, 2) == "08" || code == "57P01" || code == "57P02" || code == "57P03" ||
      PQstatus(conn) != CONNECTION_OK)
    return Status::Unavailable("database_unavailable", msg);
  return Status::Internal("database_error", msg);
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Every session's settings. Statements are prepared once per connection, and PostgreSQL would switch one to a generic
// plan after five runs when that plan's estimate looks no worse; with skewed parameters (a tag on 2 % of customers,
// a page's 60 keys) the generic plan hashes every tagged customer (22 ms) where the custom one probes 60 (2 ms).
// Planning each run costs well under a millisecond for Koi's statements.
constexpr const char* kSessionSetup =
    "SET client_min_messages = warning; SET TIME ZONE 'UTC'; SET plan_cache_mode = force_custom_plan";

class Connection final : public Session {
 public:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  ~Connection() override { PQfinish(conn_); }

  Engine engine() const override { return Engine::kPostgres; }

  // After a connection failure the prepared statements are gone with the old session; reconnect and forget them.
  bool EnsureConnected() {
    if (PQstatus(conn_) != CONNECTION_OK) {
      PQreset(conn_);
      prepared_.clear();
      set_up_ = false;
      if (PQstatus(conn_) != CONNECTION_OK) return false;
    }
    if (set_up_) return true;
    // A new session (or one whose settings failed to apply): the settings first.
    ResultPtr res(PQexec(conn_, kSessionSetup));
    set_up_ = PQresultStatus(res.get()) == PGRES_COMMAND_OK;
    return set_up_;
  }

  Result<QueryResult> Query(std::string_view sql, const std::vector<Value>& params) override {
    if (!EnsureConnected())
      return Status::Unavailable("database_unavailable", std::string("connection lost: ") + PQerrorMessage(conn_));
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      int count = 0;
      std::string rewritten = RewritePlaceholders(sql, &count);
      std::string name = fmt::format("koi_{}", prepared_.size() + 1);
      ResultPtr res(PQprepare(conn_, name.c_str(), rewritten.c_str(), 0, nullptr));
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return MapResultError(conn_, res.get(), "prepare");
      it = prepared_.emplace(std::move(key), Prepared{name, count}).first;
    }
    if (it->second.param_count != static_cast<int>(params.size()))
      return Status::Internal("database_error", "parameter count mismatch for: " + std::string(sql));
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        values[i] = nullptr;
        continue;
      }
      if (auto p = std::get_if<int64_t>(&v)) text[i] = std::to_string(*p);
      else if (auto p = std::get_if<double>(&v)) text[i] = fmt::format("{}", *p);
      else text[i] = std::get<std::string>(v);
      values[i] = text[i].c_str();
    }
    ResultPtr res(PQexecPrepared(conn_, it->second.name.c_str(), static_cast<int>(params.size()), values.data(),
                                 nullptr, nullptr, 0));
    auto st = PQresultStatus(res.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return MapResultError(conn_, res.get(), "query");
    return Convert(res.get());
  }

  Status ExecScript(std::string_view sql) override {
    if (!EnsureConnected())
      return Status::Unavailable("database_unavailable", std::string("connection lost: ") + PQerrorMessage(conn_));
    std::string owned(sql);
    ResultPtr res(PQexec(conn_, owned.c_str()));
    auto st = PQresultStatus(res.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return MapResultError(conn_, res.get(), "script");
    return Status::Ok();
  }

  Status CopyIn(std::string_view table, const std::vector<std::string>& columns,
                const std::vector<std::vector<Value>>& rows) override {
    std::string sql = "COPY " + std::string(table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? "," : "") + columns[i];
    sql += ") FROM STDIN";
    ResultPtr res(PQexec(conn_, sql.c_str()));
    if (PQresultStatus(res.get()) != PGRES_COPY_IN) return MapResultError(conn_, res.get(), "copy");
    std::string buf;
    auto flush = [&]() -> Status {
      if (!buf.empty() && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1)
        return Status::Unavailable("database_unavailable", PQerrorMessage(conn_));
      buf.clear();
      return Status::Ok();
    };
    for (const auto& row : rows) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) buf += '\t';
        const Value& v = row[i];
        if (std::holds_alternative<std::monostate>(v)) buf += "\\N";
        else if (auto p = std::get_if<int64_t>(&v)) buf += std::to_string(*p);
        else if (auto p = std::get_if<double>(&v)) buf += fmt::format("{}", *p);
        else AppendCopyEscaped(buf, std::get<std::string>(v));
      }
      buf += '\n';
      if (buf.size() > (1 << 20)) KOI_RETURN_IF_ERROR(flush());
    }
    KOI_RETURN_IF_ERROR(flush());
    if (PQputCopyEnd(conn_, nullptr) != 1) return Status::Unavailable("database_unavailable", PQerrorMessage(conn_));
    Status status;
    while (PGresult* r = PQgetResult(conn_)) {
      ResultPtr owned(r);
      if (PQresultStatus(r) != PGRES_COMMAND_OK && status.ok()) status = MapResultError(conn_, r, "copy");
    }
    return status;
  }

 private:
  struct Prepared {
    std::string name;
    int param_count;
  };

  static void AppendCopyEscaped(std::string& out, const std::string& s) {
    for (char c : s) {
      switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
      }
    }
  }

  static Result<QueryResult> Convert(PGresult* res) {
    QueryResult out;
    int ncols = PQnfields(res);
    int nrows = PQntuples(res);
    for (int c = 0; c < ncols; ++c) out.columns.emplace_back(PQfname(res, c));
    out.rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
      std::vector<Value> row;
      row.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        const char* v = PQgetvalue(res, r, c);
        switch (PQftype(res, c)) {
          case kInt8Oid:
          case kInt4Oid:
          case kInt2Oid:
          case kOidOid: row.emplace_back(static_cast<int64_t>(std::strtoll(v, nullptr, 10))); break;
          case kBoolOid: row.emplace_back(static_cast<int64_t>(v[0] == 't' ? 1 : 0)); break;
          case kFloat4Oid:
          case kFloat8Oid:
          case kNumericOid: row.emplace_back(std::strtod(v, nullptr)); break;
          default: row.emplace_back(std::string(v, PQgetlength(res, r, c)));
        }
      }
      out.rows.emplace_back(std::move(row));
    }
    const char* tuples = PQcmdTuples(res);
    out.affected_rows = (tuples && *tuples) ? std::strtoll(tuples, nullptr, 10) : 0;
    return out;
  }

  PGconn* conn_;
  bool set_up_ = false;  // kSessionSetup applied to the current session
  std::unordered_map<std::string, Prepared> prepared_;
};

class PgDb final : public internal::PooledDatabase<Connection> {
 public:
  Engine engine() const override { return Engine::kPostgres; }

 protected:
  std::string_view BeginStatement(const TxOptions& options) const override {
    return options.serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN";
  }
};

}  // namespace

std::string RewritePlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  if (count) *count = n;
  return out;
}

Result<std::unique_ptr<Database>> PgDatabase::Open(const std::string& url, const DatabaseOptions& options) {
  auto db = std::make_unique<PgDb>();
  for (int i = 0; i < std::max(1, options.pool_size); ++i) {
    PGconn* conn = PQconnectdb(url.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      PQfinish(conn);
      return Status::Unavailable("database_unavailable", "cannot connect to PostgreSQL: " + msg);
    }
    auto c = std::make_unique<Connection>(conn);
    if (!c->EnsureConnected())
      return Status::Unavailable("database_unavailable",
                                 std::string("cannot set up the PostgreSQL session: ") + PQerrorMessage(conn));
    db->pool().Add(std::move(c));
  }
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace koi::storage::postgres
