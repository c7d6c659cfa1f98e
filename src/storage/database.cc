#include "storage/database.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <random>
#include <thread>

#include "storage/postgres/pg_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace koi::storage {

int64_t Row::Int(size_t i) const {
  const Value& v = values_.at(i);
  if (auto p = std::get_if<int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return static_cast<int64_t>(*p);
  if (auto p = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(p->data(), p->data() + p->size(), out);
    return out;
  }
  return 0;
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) return std::nullopt;
  return Int(i);
}

double Row::Double(size_t i) const {
  const Value& v = values_.at(i);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::strtod(p->c_str(), nullptr);
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_.at(i);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return fmt::format("{}", *p);
  return "";
}

namespace {
// A materialised row seen through RowView (drivers without a streaming read).
class MaterialisedRow final : public RowView {
 public:
  explicit MaterialisedRow(const Row& row) : row_(row) {}
  int64_t Int(size_t i) const override { return row_.Int(i); }
  std::string_view Text(size_t i) const override {
    const auto* s = std::get_if<std::string>(&row_.at(i));
    return s ? std::string_view(*s) : std::string_view();
  }

 private:
  const Row& row_;
};
}  // namespace

Status Session::QueryEach(std::string_view sql, const std::vector<Value>& params, const RowFn& each) {
  KOI_ASSIGN_OR_RETURN(auto result, Query(sql, params));
  for (const auto& row : result.rows) KOI_RETURN_IF_ERROR(each(MaterialisedRow(row)));
  return Status::Ok();
}

std::string LikeContains(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

std::string InList(std::vector<Value>& params, const std::vector<std::string>& values) {
  std::string marks;
  for (const auto& v : values) {
    marks += marks.empty() ? "?" : ", ?";
    params.emplace_back(std::in_place_type<std::string>, v);
  }
  return marks;
}

std::string InList(std::vector<Value>& params, const std::vector<int64_t>& values) {
  std::string marks;
  for (int64_t v : values) {
    marks += marks.empty() ? "?" : ", ?";
    params.emplace_back(std::in_place_type<int64_t>, v);
  }
  return marks;
}

std::string IdsIn(Engine engine, std::string_view column, std::vector<Value>& params, const std::vector<int64_t>& ids) {
  const bool pg = engine == Engine::kPostgres;
  std::string list(1, pg ? '{' : '[');
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) list += ',';
    list += std::to_string(ids[i]);
  }
  list += pg ? '}' : ']';
  params.emplace_back(std::in_place_type<std::string>, std::move(list));
  return pg ? std::string(column) + " = ANY(CAST(? AS BIGINT[]))"
            : std::string(column) + " IN (SELECT value FROM json_each(?))";
}

std::string_view EngineName(Engine engine) { return engine == Engine::kPostgres ? "postgresql" : "sqlite"; }

Result<std::unique_ptr<Database>> Database::Open(const std::string& url, const DatabaseOptions& options) {
  if (url.rfind("sqlite:", 0) == 0) return sqlite::SqliteDatabase::Open(url.substr(7), options);
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return postgres::PgDatabase::Open(url, options);
  return Status::InvalidArgument("bad_database_url", "database url must start with sqlite: or postgresql://");
}

namespace internal {
void SleepBeforeRetry(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  int base_ms = 5 << std::min(attempt, 6);  // 10, 20, 40 … 320 ms
  std::uniform_int_distribution<int> jitter(0, base_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(base_ms / 2 + jitter(rng)));
}
}  // namespace internal

}  // namespace koi::storage
