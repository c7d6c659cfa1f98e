#include "domain/customers/customers.h"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json.hpp>

#include "core/pinyin.h"
#include "core/utf8.h"

namespace koi::customers {
namespace {

using storage::InList;
using storage::Value;
namespace json = boost::json;

constexpr std::string_view kEscape = " ESCAPE '\\'";

// "?, ?, …" for n values, appended to params.
std::vector<std::string> ParseStrings(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array())
    if (e.is_string()) out.emplace_back(e.as_string());
  return out;
}

std::vector<int64_t> ParseInts(const std::string& text) {
  std::vector<int64_t> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& e : v.as_array())
    if (e.is_int64()) out.push_back(e.as_int64());
  return out;
}

// WeCom's times are seconds; Koi's API speaks milliseconds. The first whole second at or after `ms`.
int64_t CeilSeconds(int64_t ms) { return ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000); }

const std::set<std::string>& Statuses() {
  static const std::set<std::string> s{"", "active", "lost", "deleted_by_customer", "deleted_by_employee"};
  return s;
}

// The conditions one relationship row (alias `a`) must meet, in the order their params are appended.
std::string FollowConditions(std::string_view a, const Scope& scope, const std::vector<std::string>& employees,
                             const CustomerFilter& f, std::vector<Value>& params) {
  const std::string p(a);
  std::string sql;
  if (!scope.all) sql += " AND " + p + ".userid IN (" + InList(params, scope.userids) + ")";
  if (!employees.empty()) sql += " AND " + p + ".userid IN (" + InList(params, employees) + ")";
  if (!f.tag_ids.empty())
    sql += " AND EXISTS (SELECT 1 FROM wecom_follow_tags t WHERE t.team_id = " + p + ".team_id AND t.userid = " + p +
           ".userid AND t.external_userid = " + p + ".external_userid AND t.tag_id IN (" + InList(params, f.tag_ids) +
           "))";
  if (f.added_from_ms) {
    sql += " AND " + p + ".createtime >= ?";
    params.emplace_back(Value(CeilSeconds(*f.added_from_ms)));
  }
  if (f.added_to_ms) {
    sql += " AND " + p + ".createtime < ?";
    params.emplace_back(Value(CeilSeconds(*f.added_to_ms)));
  }
  if (f.add_way) {
    sql += " AND " + p + ".add_way = ?";
    params.emplace_back(Value(int64_t{*f.add_way}));
  }
  if (!f.state.empty()) {
    sql += " AND " + p + ".state = ?";
    params.emplace_back(Value(f.state));
  }
  if (f.status == "active") sql += " AND " + p + ".deleted_at IS NULL";
  if (f.status == "lost") sql += " AND " + p + ".deleted_at IS NOT NULL";
  if (f.status == "deleted_by_customer") sql += " AND " + p + ".deleted_at IS NOT NULL AND " + p + ".deleted_by = 'customer'";
  if (f.status == "deleted_by_employee") sql += " AND " + p + ".deleted_at IS NOT NULL AND " + p + ".deleted_by = 'employee'";
  return sql;
}

// With a tag filter: "AND <a>.external_userid IN (the customers carrying one of the tags)". Redundant with the
// relationship condition, but it lets the database start from the tag index instead of walking every customer.
// (List rewrites this text into a correlated EXISTS when SQLite walks the newest-first index: keep them in step.)
std::string TaggedCustomers(std::string_view a, TeamId team, const Scope& scope, const CustomerFilter& f,
                            std::vector<Value>& params) {
  if (f.tag_ids.empty()) return "";
  params.emplace_back(Value(team.value()));
  std::string sql = " AND " + std::string(a) + ".external_userid IN (SELECT t.external_userid FROM wecom_follow_tags t "
                    "WHERE t.team_id = ? AND t.tag_id IN (" + InList(params, f.tag_ids) + ")";
  if (!scope.all) sql += " AND t.userid IN (" + InList(params, scope.userids) + ")";
  return sql + ")";
}

// With a stage filter: "AND <a>.external_userid IN / NOT IN (the customers in that stage / in any)".
std::string InStage(std::string_view a, TeamId team, const CustomerFilter& f, std::vector<Value>& params) {
  if (!f.stage_id) return "";
  params.emplace_back(Value(team.value()));
  if (*f.stage_id == 0)
    return " AND " + std::string(a) + ".external_userid NOT IN (SELECT p.external_userid FROM customer_profiles p "
           "WHERE p.team_id = ? AND p.stage_id IS NOT NULL)";
  params.emplace_back(Value(*f.stage_id));
  return " AND " + std::string(a) + ".external_userid IN (SELECT p.external_userid FROM customer_profiles p WHERE "
         "p.team_id = ? AND p.stage_id = ?)";
}

std::string WithPersonalTags(std::string_view a, TeamId team, const Scope& scope, const CustomerFilter& f,
                             std::vector<Value>& params) {
  if (f.personal_tag_ids.empty()) return "";
  params.emplace_back(Value(team.value()));
  std::string sql = " AND " + std::string(a) + ".external_userid IN (SELECT ptc.external_userid FROM "
                    "personal_tag_customers ptc, personal_tags pt WHERE ptc.team_id = ? AND ptc.tag_id IN (" +
                    InList(params, f.personal_tag_ids) + ") AND pt.id = ptc.tag_id AND pt.team_id = ptc.team_id";
  if (!scope.all) {
    sql += " AND pt.account_id = ?";
    params.emplace_back(Value(scope.account_id));
  }
  return sql + ")";
}

// The customer has any of these options of custom fields (fields.h); option ids are unique in the team.
std::string WithFieldOptions(std::string_view a, TeamId team, const CustomerFilter& f, std::vector<Value>& params) {
  if (f.field_option_ids.empty()) return "";
  params.emplace_back(Value(team.value()));
  return " AND " + std::string(a) + ".external_userid IN (SELECT v.external_userid FROM customer_field_values v WHERE "
         "v.team_id = ? AND v.option_id IN (" + InList(params, f.field_option_ids) + "))";
}

// A search's candidates (ListAccelerator::SearchCandidates): "AND <a>.external_userid IN (those customers)".
std::string InCandidates(storage::Engine engine, std::string_view a, TeamId team, const std::vector<int64_t>& ids,
                         std::vector<Value>& params) {
  params.emplace_back(Value(team.value()));
  return " AND " + std::string(a) + ".external_userid IN (SELECT k.external_userid FROM customer_keys k WHERE "
         "k.team_id = ? AND " + storage::IdsIn(engine, "k.id", params, ids) + ")";
}

// Whether customer mode needs "EXISTS (a matching relationship)". A tag filter alone does not: TaggedCustomers
// already says it exactly (relationship tags exist only on active relationships, and it applies the scope).
bool NeedsRelationshipCheck(const Scope& scope, const std::vector<std::string>& employees, const CustomerFilter& f) {
  const bool only_tags = !f.tag_ids.empty();
  return (!scope.all && !only_tags) || !employees.empty() || f.added_from_ms || f.added_to_ms || f.add_way ||
         !f.state.empty() || !f.status.empty();
}

CustomerRow RowOf(const storage::Row& r) {
  return {.external_userid = r.Text(0), .name = r.Text(1), .type = static_cast<int>(r.Int(2)),
          .gender = static_cast<int>(r.Int(3)), .corp_name = r.Text(4), .last_add_time_ms = r.Int(5) * 1000,
          .active_follows = static_cast<int>(r.Int(6))};
}

constexpr std::string_view kRowColumns =
    "c.external_userid, c.name, c.type, c.gender, c.corp_name, c.last_add_time, c.active_follows";

}  // namespace

// ----- scope ---------------------------------------------------------------------------------------------------

Result<std::vector<std::string>> CustomerService::EmployeesUnder(TeamId team, const std::vector<int64_t>& roots) {
  KOI_ASSIGN_OR_RETURN(auto depts, db_.Query("SELECT dept_id, parent_id FROM wecom_departments WHERE team_id = ?",
                                             {team.value()}));
  std::multimap<int64_t, int64_t> children;
  for (const auto& r : depts.rows) children.emplace(r.Int(1), r.Int(0));
  std::set<int64_t> under(roots.begin(), roots.end());
  std::vector<int64_t> todo(roots.begin(), roots.end());
  while (!todo.empty()) {
    int64_t d = todo.back();
    todo.pop_back();
    auto [lo, hi] = children.equal_range(d);
    for (auto it = lo; it != hi; ++it)
      if (under.insert(it->second).second) todo.push_back(it->second);
  }
  KOI_ASSIGN_OR_RETURN(auto emps, db_.Query("SELECT userid, departments FROM wecom_employees WHERE team_id = ? ORDER "
                                            "BY userid", {team.value()}));
  std::vector<std::string> out;
  for (const auto& r : emps.rows) {
    auto ds = ParseInts(r.Text(1));
    if (std::any_of(ds.begin(), ds.end(), [&under](int64_t d) { return under.count(d) > 0; }))
      out.push_back(r.Text(0));
  }
  return out;
}

Result<Scope> CustomerService::ScopeOf(const accounts::Principal& who) {
  Scope scope;
  scope.account_id = who.account.value();
  if (who.is_admin()) {
    scope.all = true;
    return scope;
  }
  KOI_ASSIGN_OR_RETURN(auto b, db_.Query("SELECT userid, data_scope FROM employee_bindings WHERE account_id = ? AND "
                                         "team_id = ?", {who.account.value(), who.team.value()}));
  if (b.rows.empty()) return scope;
  scope.bound = true;
  scope.userid = b.rows[0].Text(0);
  scope.data_scope = b.rows[0].Text(1);
  if (scope.data_scope == "department") {
    KOI_ASSIGN_OR_RETURN(auto e, db_.Query("SELECT departments FROM wecom_employees WHERE team_id = ? AND userid = ?",
                                           {who.team.value(), scope.userid}));
    if (!e.rows.empty()) {
      KOI_ASSIGN_OR_RETURN(scope.userids, EmployeesUnder(who.team, ParseInts(e.rows[0].Text(0))));
    }
  }
  if (std::find(scope.userids.begin(), scope.userids.end(), scope.userid) == scope.userids.end())
    scope.userids.push_back(scope.userid);
  return scope;
}

// ----- the list ------------------------------------------------------------------------------------------------

Status CustomerService::FillFollows(TeamId team, const Scope& scope, std::vector<CustomerRow>& rows,
                                    const std::vector<std::string>* only_userid) {
  if (rows.empty() || (!scope.all && scope.userids.empty())) return Status::Ok();  // (PostgreSQL refuses "IN ()")
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.external_userid);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  std::vector<Value> params{team.value()};
  std::string in = InList(params, ids);
  std::string scoped;
  if (!scope.all) scoped = " AND f.userid IN (" + InList(params, scope.userids) + ")";
  KOI_ASSIGN_OR_RETURN(
      auto fr, db_.Query("SELECT f.external_userid, f.userid, COALESCE(e.name, ''), f.remark, f.description, "
                         "f.createtime, f.add_way, f.state, f.remark_mobiles, f.remark_corp_name, f.deleted_at, "
                         "f.deleted_by FROM wecom_follows f LEFT JOIN wecom_employees e ON e.team_id = f.team_id AND "
                         "e.userid = f.userid WHERE f.team_id = ? AND f.external_userid IN (" + in + ")" + scoped +
                             " ORDER BY f.createtime DESC, f.userid",
                         params));
  // Tags, with the same params (the IN lists are identical).
  std::string tscoped = scoped;
  if (!scope.all) tscoped.replace(tscoped.find("f.userid"), 8, "t.userid");
  KOI_ASSIGN_OR_RETURN(
      auto tr, db_.Query("SELECT t.external_userid, t.userid, t.tag_id, COALESCE(g.name, ''), COALESCE(gg.name, '') "
                         "FROM wecom_follow_tags t LEFT JOIN wecom_tags g ON g.team_id = t.team_id AND g.tag_id = "
                         "t.tag_id LEFT JOIN wecom_tag_groups gg ON gg.team_id = g.team_id AND gg.group_id = "
                         "g.group_id WHERE t.team_id = ? AND t.external_userid IN (" + in + ")" + tscoped +
                             " ORDER BY gg.sort DESC, g.sort DESC, t.tag_id",
                         params));
  std::vector<Value> sparams{team.value()};
  std::string sin = InList(sparams, ids);
  KOI_ASSIGN_OR_RETURN(auto st, db_.Query("SELECT p.external_userid, s.id, s.name FROM customer_profiles p, "
                                          "customer_stages s WHERE p.team_id = ? AND p.external_userid IN (" + sin +
                                              ") AND s.id = p.stage_id AND s.team_id = p.team_id",
                                          sparams));
  std::map<std::string, std::pair<int64_t, std::string>> stages;
  for (const auto& r : st.rows) stages[r.Text(0)] = {r.Int(1), r.Text(2)};
  for (auto& row : rows) {
    auto it = stages.find(row.external_userid);
    if (it != stages.end()) {
      row.stage_id = it->second.first;
      row.stage_name = it->second.second;
    }
  }
  std::map<std::pair<std::string, std::string>, std::vector<TagRef>> tags;
  for (const auto& r : tr.rows)
    tags[{r.Text(0), r.Text(1)}].push_back({.tag_id = r.Text(2), .name = r.Text(3), .group_name = r.Text(4)});
  std::map<std::string, std::vector<Follow>> follows;
  for (const auto& r : fr.rows) {
    Follow f{.userid = r.Text(1), .employee_name = r.Text(2), .remark = r.Text(3), .description = r.Text(4),
             .add_time_ms = r.Int(5) * 1000, .add_way = static_cast<int>(r.Int(6)), .state = r.Text(7),
             .remark_mobiles = ParseStrings(r.Text(8)), .remark_corp_name = r.Text(9), .active = r.IsNull(10),
             .deleted_by = r.Text(11), .deleted_at_ms = r.OptInt(10)};
    auto it = tags.find({r.Text(0), f.userid});
    if (it != tags.end()) f.tags = it->second;
    follows[r.Text(0)].push_back(std::move(f));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& row = rows[i];
    for (const auto& f : follows[row.external_userid]) {
      if (only_userid && f.userid != (*only_userid)[i]) continue;
      row.follows.push_back(f);
      for (const auto& t : f.tags)
        if (std::none_of(row.tags.begin(), row.tags.end(), [&t](const TagRef& x) { return x.tag_id == t.tag_id; }))
          row.tags.push_back(t);
    }
  }
  return Status::Ok();
}

Result<std::optional<ListQuery>> CustomerService::BuildQuery(TeamId team, const Scope& scope,
                                                             const CustomerFilter& filter, bool narrow) {
  static const std::set<std::string> sorts{"add_time", "-add_time", "name", "-name"};
  if (!sorts.count(filter.sort))
    return Status::InvalidArgument("invalid_sort", "sort must be one of add_time, -add_time, name, -name");
  if (!Statuses().count(filter.status))
    return Status::InvalidArgument("invalid_customer_status",
                                   "status must be one of active, lost, deleted_by_customer, deleted_by_employee");
  if (filter.added_from_ms && filter.added_to_ms && *filter.added_from_ms >= *filter.added_to_ms)
    return Status::InvalidArgument("invalid_time_range", "the start of the add-time range must be before its end");
  // Both engines would end the text there (a NUL ends a bound string), and search for less than was asked.
  if (filter.query.find('\0') != std::string::npos)
    return Status::InvalidArgument("invalid_filter", "the search text must not contain a NUL character");
  if (!scope.all && scope.userids.empty()) return std::optional<ListQuery>();  // an unbound member sees nothing

  std::vector<std::string> employees = filter.userids;
  if (filter.department) {
    KOI_ASSIGN_OR_RETURN(auto under, EmployeesUnder(team, {*filter.department}));
    if (!employees.empty()) {
      std::vector<std::string> both;
      for (const auto& u : employees)
        if (std::find(under.begin(), under.end(), u) != under.end()) both.push_back(u);
      employees = std::move(both);
    } else {
      employees = std::move(under);
    }
    if (employees.empty()) return std::optional<ListQuery>();  // nobody there: no customers
  }

  const bool by_relationship = filter.mode == ListMode::kRelationship;
  const std::string dir = filter.sort[0] == '-' ? " DESC" : "";
  const bool by_name = filter.sort.find("name") != std::string::npos;
  const std::string q = TrimSpace(filter.query);
  // Letters only may also be pinyin initials ("wxm" finds 王小明), matched against the initials columns.
  const std::string py = InitialsQuery(q);
  const std::string esc(kEscape);
  ListQuery out;
  out.params = {team.value()};
  auto& params = out.params;
  if (by_relationship) {
    // SQLite: CROSS JOIN keeps wecom_follows first, so the newest relationships come straight off its index.
    out.from = db_.engine() == storage::Engine::kSqlite ? " FROM wecom_follows f CROSS JOIN wecom_customers c"
                                                        : " FROM wecom_follows f, wecom_customers c";
    // (Separate statements: each call appends params, and the operands of + have no set order.)
    out.where = " WHERE f.team_id = ?" + FollowConditions("f", scope, employees, filter, params);
    out.where += TaggedCustomers("f", team, scope, filter, params);
    out.where += InStage("f", team, filter, params);
    out.where += WithPersonalTags("f", team, scope, filter, params);
    out.where += WithFieldOptions("f", team, filter, params);
    // Counting needs the customer only for conditions on it.
    if (q.empty() && !filter.gender) {
      out.count_from = " FROM wecom_follows f";
      out.count_where = out.where;
    }
    out.where += " AND c.team_id = f.team_id AND c.external_userid = f.external_userid";
    if (!q.empty()) {
      out.where += " AND (c.name LIKE ?" + esc + " OR c.corp_name LIKE ?" + esc + " OR f.remark LIKE ?" + esc +
                   " OR f.remark_mobiles LIKE ?" + esc + " OR f.remark_corp_name LIKE ?" + esc;
      for (int i = 0; i < 5; ++i) params.emplace_back(Value(storage::LikeContains(q)));
      if (!py.empty()) {
        out.where += " OR c.name_py LIKE ? OR f.remark_py LIKE ?";
        for (int i = 0; i < 2; ++i) params.emplace_back(Value(storage::LikeContains(py)));
      }
      out.where += ")";
    }
    out.order = by_name ? " ORDER BY c.name" + dir + ", f.external_userid" + dir + ", f.userid" + dir
                        : " ORDER BY f.createtime" + dir + ", f.external_userid" + dir + ", f.userid" + dir;
  } else {
    out.from = " FROM wecom_customers c";
    out.where = " WHERE c.team_id = ?" + TaggedCustomers("c", team, scope, filter, params);
    out.where += InStage("c", team, filter, params);
    out.where += WithPersonalTags("c", team, scope, filter, params);
    out.where += WithFieldOptions("c", team, filter, params);
    if (NeedsRelationshipCheck(scope, employees, filter))
      out.where += " AND EXISTS (SELECT 1 FROM wecom_follows f WHERE f.team_id = c.team_id AND f.external_userid = "
                   "c.external_userid" + FollowConditions("f", scope, employees, filter, params) + ")";
    if (!q.empty()) {
      out.where += " AND (c.name LIKE ?" + esc + " OR c.corp_name LIKE ?" + esc;
      params.emplace_back(Value(storage::LikeContains(q)));
      params.emplace_back(Value(storage::LikeContains(q)));
      if (!py.empty()) {
        out.where += " OR c.name_py LIKE ?";
        params.emplace_back(Value(storage::LikeContains(py)));
      }
      out.where += " OR EXISTS (SELECT 1 FROM wecom_follows s WHERE s.team_id = c.team_id AND s.external_userid = "
                   "c.external_userid";
      if (!scope.all) out.where += " AND s.userid IN (" + InList(params, scope.userids) + ")";
      out.where += " AND (s.remark LIKE ?" + esc + " OR s.remark_mobiles LIKE ?" + esc + " OR s.remark_corp_name LIKE ?" +
                   esc;
      for (int i = 0; i < 3; ++i) params.emplace_back(Value(storage::LikeContains(q)));
      if (!py.empty()) {
        out.where += " OR s.remark_py LIKE ?";
        params.emplace_back(Value(storage::LikeContains(py)));
      }
      out.where += ")))";
    }
    out.order = by_name ? " ORDER BY c.name" + dir + ", c.external_userid" + dir
                        : " ORDER BY c.last_add_time" + dir + ", c.external_userid" + dir;
  }
  if (filter.gender) {
    out.where += " AND c.gender = ?";
    params.emplace_back(Value(int64_t{*filter.gender}));
  }
  std::optional<ListQuery> built(std::move(out));
  if (narrow) KOI_RETURN_IF_ERROR(Narrow(team, filter, built));
  return built;
}

Status CustomerService::Narrow(TeamId team, const CustomerFilter& filter, std::optional<ListQuery>& query) {
  const std::string q = TrimSpace(filter.query);
  if (!query || q.empty() || !accelerator_) return Status::Ok();
  // A search narrows to the customers whose texts hold its characters, when the index can tell. The condition goes
  // last, so its parameters follow all the others.
  auto candidates = accelerator_->SearchCandidates(team, q, kMaxSearchCandidates);
  if (!candidates) return Status::Ok();
  if (candidates->empty()) {
    query.reset();
    return Status::Ok();
  }
  const bool by_relationship = filter.mode == ListMode::kRelationship;
  query->where += InCandidates(db_.engine(), by_relationship ? "f" : "c", team, *candidates, query->params);
  query->narrowed = !by_relationship;
  return Status::Ok();
}

Result<CustomerPage> CustomerService::List(const accounts::Principal& who, const CustomerFilter& filter, int page,
                                           int page_size) {
  const TeamId team = who.team;
  CustomerPage out;
  KOI_ASSIGN_OR_RETURN(out.scope, ScopeOf(who));
  // Not narrowed to the search's candidates yet: a window below names the page's customers itself.
  KOI_ASSIGN_OR_RETURN(auto query, BuildQuery(team, out.scope, filter, false));
  if (!query) return out;
  int64_t offset = int64_t{page - 1} * page_size;
  // Sorted by add time, the index knows the days the page lies in (and, when few, its customers): only those are
  // read, not every match (a tag on 23,000 of 1M customers: PostgreSQL looked up and sorted all 23,000 per page).
  // If the database has moved on from the index (a write between the two; on PostgreSQL a transaction committing
  // far out of order) the page can come out short: then it is read the plain way.
  if (auto window = accelerator_ ? accelerator_->PageWindow(team, out.scope, filter, offset, page_size) : std::nullopt) {
    const int64_t expected = std::clamp<int64_t>(window->total - offset, 0, page_size);
    if (!window->overlaps && expected == 0) {
      out.total = window->total;
      return out;
    }
    ListQuery w = *query;
    if (db_.engine() == storage::Engine::kSqlite) {
      // SQLite would drive the plan by the filter's IN lists (looking up all 23,000 tagged customers); a unary +
      // keeps it from that, so it starts from the page's keys or days and probes the filter per customer.
      constexpr std::string_view kTagged = " AND c.external_userid IN (SELECT t.external_userid FROM wecom_follow_tags t "
                                           "WHERE";
      if (auto at = w.where.find(kTagged); at != std::string::npos)
        w.where.replace(at, kTagged.size(), " AND EXISTS (SELECT 1 FROM wecom_follow_tags t WHERE t.external_userid = "
                                            "c.external_userid AND");
      constexpr std::string_view kIn = " AND c.external_userid IN (";
      for (size_t at = w.where.find(kIn); at != std::string::npos; at = w.where.find(kIn, at + kIn.size()))
        w.where.replace(at, kIn.size(), " AND +c.external_userid IN (");
    }
    w.where += " AND c.last_add_time >= ? AND c.last_add_time < ?";
    w.params.emplace_back(std::in_place_type<int64_t>, window->from_s);
    w.params.emplace_back(std::in_place_type<int64_t>, window->to_s);
    if (window->ids_listed) w.where += InCandidates(db_.engine(), "c", team, window->ids, w.params);
    w.params.emplace_back(Value(int64_t{page_size}));
    w.params.emplace_back(std::in_place_type<int64_t>, window->skip);
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + std::string(kRowColumns) + w.from + w.where + w.order +
                                           " LIMIT ? OFFSET ?", w.params));
    if (static_cast<int64_t>(r.rows.size()) >= expected) {
      out.total = window->total;
      for (const auto& row : r.rows) out.items.push_back(RowOf(row));
      KOI_RETURN_IF_ERROR(FillFollows(team, out.scope, out.items, nullptr));
      return out;
    }
  }
  KOI_RETURN_IF_ERROR(Narrow(team, filter, query));
  if (!query) return out;
  auto& q = *query;
  // A search narrowed to a few thousand candidates: one pass re-checks them all and gives the total and the
  // page's keys in order (a COUNT and then the page would re-check them twice); the page's rows by key.
  if (q.narrowed && filter.mode == ListMode::kCustomer) {
    KOI_ASSIGN_OR_RETURN(auto keys, db_.Query("SELECT c.external_userid" + q.from + q.where + q.order, q.params));
    out.total = static_cast<int64_t>(keys.rows.size());
    std::vector<std::string> page_keys;
    for (int64_t i = offset; i < out.total && i < offset + page_size; ++i)
      page_keys.push_back(keys.rows[static_cast<size_t>(i)].Text(0));
    if (page_keys.empty()) return out;
    std::vector<Value> params{team.value()};
    const std::string in = InList(params, page_keys);
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + std::string(kRowColumns) + " FROM wecom_customers c WHERE "
                                           "c.team_id = ? AND c.external_userid IN (" + in + ")" + q.order, params));
    for (const auto& row : r.rows) out.items.push_back(RowOf(row));
    KOI_RETURN_IF_ERROR(FillFollows(team, out.scope, out.items, nullptr));
    return out;
  }
  if (auto fast = accelerator_ ? accelerator_->Count(team, out.scope, filter) : std::nullopt) {
    out.total = *fast;
  } else {
    KOI_ASSIGN_OR_RETURN(auto count, q.count_from.empty()
                                          ? db_.Query("SELECT COUNT(*)" + q.from + q.where, q.params)
                                          : db_.Query("SELECT COUNT(*)" + q.count_from + q.count_where, q.params));
    out.total = count.rows.at(0).Int(0);
  }
  q.params.emplace_back(Value(int64_t{page_size}));
  q.params.emplace_back(Value(offset));
  const bool by_relationship = filter.mode == ListMode::kRelationship;
  const std::string columns = std::string(kRowColumns) + (by_relationship ? ", f.userid" : "");
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + columns + q.from + q.where + q.order + " LIMIT ? OFFSET ?",
                                         q.params));
  std::vector<std::string> row_userids;
  for (const auto& row : r.rows) {
    out.items.push_back(RowOf(row));
    if (by_relationship) row_userids.push_back(row.Text(7));
  }
  KOI_RETURN_IF_ERROR(FillFollows(team, out.scope, out.items, by_relationship ? &row_userids : nullptr));
  return out;
}

Result<std::vector<CustomerRow>> CustomerService::RowsAfter(TeamId team, const Scope& scope, const ListQuery& query,
                                                           ListMode mode,
                                                           const std::pair<std::string, std::string>& after,
                                                           int limit) {
  const bool by_relationship = mode == ListMode::kRelationship;
  std::vector<Value> params = query.params;
  std::string keyset;
  if (by_relationship) {
    // (The leading >= lets both engines seek the index instead of filtering from the team's first row.)
    keyset = " AND f.external_userid >= ? AND (f.external_userid > ? OR (f.external_userid = ? AND f.userid > ?)) "
             "ORDER BY f.external_userid, f.userid LIMIT ?";
    params.emplace_back(std::in_place_type<std::string>, after.first);
    params.emplace_back(std::in_place_type<std::string>, after.first);
    params.emplace_back(std::in_place_type<std::string>, after.first);
    params.emplace_back(std::in_place_type<std::string>, after.second);
  } else {
    keyset = " AND c.external_userid > ? ORDER BY c.external_userid LIMIT ?";
    params.emplace_back(std::in_place_type<std::string>, after.first);
  }
  params.emplace_back(std::in_place_type<int64_t>, limit);
  const std::string columns = std::string(kRowColumns) + (by_relationship ? ", f.userid" : "");
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + columns + query.from + query.where + keyset, params));
  std::vector<CustomerRow> rows;
  std::vector<std::string> row_userids;
  for (const auto& row : r.rows) {
    rows.push_back(RowOf(row));
    if (by_relationship) {
      rows.back().relationship_userid = row.Text(7);
      row_userids.push_back(row.Text(7));
    }
  }
  KOI_RETURN_IF_ERROR(FillFollows(team, scope, rows, by_relationship ? &row_userids : nullptr));
  return rows;
}

// ----- one customer --------------------------------------------------------------------------------------------

Result<Profile> CustomerService::Get(const accounts::Principal& who, std::string_view external_userid) {
  KOI_ASSIGN_OR_RETURN(Scope scope, ScopeOf(who));
  return Get(who.team, scope, external_userid);
}

Result<Profile> CustomerService::Get(TeamId team, const Scope& scope, std::string_view external_userid) {
  const Status not_found = Status::NotFound("customer_not_found", "no such customer, or not one of yours");
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + std::string(kRowColumns) + ", c.position, c.unionid FROM "
                                         "wecom_customers c WHERE c.team_id = ? AND c.external_userid = ?",
                                         {team.value(), std::string(external_userid)}));
  if (r.rows.empty()) return not_found;
  Profile p;
  p.customer = RowOf(r.rows[0]);
  p.position = r.rows[0].Text(7);
  p.unionid = r.rows[0].Text(8);
  std::vector<CustomerRow> one{p.customer};
  KOI_RETURN_IF_ERROR(FillFollows(team, scope, one, nullptr));
  p.customer = std::move(one[0]);
  if (!scope.all && p.customer.follows.empty()) return not_found;
  p.stage_id = p.customer.stage_id;
  p.stage_name = p.customer.stage_name;

  KOI_ASSIGN_OR_RETURN(auto g, db_.Query("SELECT g.chat_id, g.name, COALESCE(e.name, g.owner), m.join_time, "
                                         "g.member_count FROM wecom_group_members m, wecom_group_chats g LEFT JOIN "
                                         "wecom_employees e ON e.team_id = g.team_id AND e.userid = g.owner WHERE "
                                         "m.team_id = ? AND m.member_id = ? AND g.team_id = m.team_id AND g.chat_id = "
                                         "m.chat_id ORDER BY m.join_time DESC, g.chat_id",
                                         {team.value(), std::string(external_userid)}));
  for (const auto& row : g.rows)
    p.groups.push_back({.chat_id = row.Text(0), .name = row.Text(1), .owner_name = row.Text(2),
                        .join_time_ms = row.Int(3) * 1000, .member_count = static_cast<int>(row.Int(4))});
  KOI_ASSIGN_OR_RETURN(auto n, db_.Query("SELECT id, account_id, author_name, body, created_at FROM customer_notes "
                                         "WHERE team_id = ? AND external_userid = ? ORDER BY id DESC LIMIT 200",
                                         {team.value(), std::string(external_userid)}));
  for (const auto& row : n.rows)
    p.notes.push_back({.id = row.Int(0), .account_id = row.Int(1), .author_name = row.Text(2), .body = row.Text(3),
                       .created_at_ms = row.Int(4)});

  KOI_ASSIGN_OR_RETURN(auto pt, db_.Query("SELECT t.id, t.name, t.account_id, COALESCE(a.name, ''), t.created_at "
                                          "FROM personal_tag_customers c, personal_tags t LEFT JOIN accounts a ON a.id = "
                                          "t.account_id WHERE c.team_id = ? AND c.external_userid = ? AND t.team_id = c.team_id AND t.id = "
                                          "c.tag_id" + std::string(scope.all ? "" : " AND t.account_id = ?") +
                                              " ORDER BY t.name, t.id",
                                          scope.all ? std::vector<Value>{team.value(), std::string(external_userid)}
                                                    : std::vector<Value>{team.value(), std::string(external_userid),
                                                                         scope.account_id}));
  if (!p.unionid.empty()) {
    KOI_ASSIGN_OR_RETURN(auto la, db_.Query("SELECT account_name, account_type, openid, nickname FROM fans WHERE "
                                            "team_id = ? AND unionid = ? ORDER BY account_type, account_name, openid",
                                            {team.value(), p.unionid}));
    for (const auto& row : la.rows)
      p.linked_accounts.push_back({.account_name = row.Text(0), .account_type = row.Text(1), .openid = row.Text(2),
                                   .nickname = row.Text(3)});
  }
  for (const auto& row : pt.rows)
    p.personal_tags.push_back({.id = row.Int(0), .name = row.Text(1), .account_id = row.Int(2),
                               .owner_name = row.Text(3), .customers = 0, .created_at_ms = row.Int(4)});
  // A member sees what Koi did to the relationships in scope (and to the customer as a whole: userid '').
  std::vector<Value> evp{team.value(), std::string(external_userid)};
  std::string ev_scope;
  if (!scope.all) ev_scope = " AND (userid = '' OR userid IN (" + InList(evp, scope.userids) + "))";
  KOI_ASSIGN_OR_RETURN(auto ev, db_.Query("SELECT at, kind, userid, actor_name, detail FROM customer_events WHERE "
                                          "team_id = ? AND external_userid = ?" + ev_scope +
                                              " ORDER BY at DESC, id DESC LIMIT 200",
                                          evp));

  // The timeline: what the mirror knows (adds, losses, group joins), Koi's notes and what Koi did.
  for (const auto& row : ev.rows)
    p.timeline.push_back({.at_ms = row.Int(0), .kind = row.Text(1), .userid = row.Text(2),
                          .employee_name = row.Text(3), .detail = row.Text(4)});
  for (const auto& f : p.customer.follows) {
    p.timeline.push_back({.at_ms = f.add_time_ms, .kind = "added", .userid = f.userid,
                          .employee_name = f.employee_name, .detail = ""});
    if (f.deleted_at_ms)
      p.timeline.push_back({.at_ms = *f.deleted_at_ms, .kind = "lost", .userid = f.userid,
                            .employee_name = f.employee_name, .detail = f.deleted_by});
  }
  for (const auto& gr : p.groups)
    p.timeline.push_back({.at_ms = gr.join_time_ms, .kind = "joined_group", .userid = "", .employee_name = "",
                          .detail = gr.name});
  for (const auto& note : p.notes)
    p.timeline.push_back({.at_ms = note.created_at_ms, .kind = "note", .userid = "",
                          .employee_name = note.author_name, .detail = note.body});
  std::stable_sort(p.timeline.begin(), p.timeline.end(),
                   [](const TimelineItem& a, const TimelineItem& b) { return a.at_ms > b.at_ms; });
  return p;
}

Result<Note> CustomerService::AddNote(const accounts::Principal& who, std::string_view external_userid,
                                      std::string_view body) {
  const std::string text = TrimSpace(body);
  if (text.empty()) return Status::InvalidArgument("note_empty", "a follow-up note needs some text");
  if (CodePointCount(text) > kMaxNoteChars)
    return Status::InvalidArgument("note_too_long", "a follow-up note has at most 2000 characters");
  KOI_RETURN_IF_ERROR(Get(who, external_userid).status());  // exists and is visible to the caller
  Note note{.id = 0, .account_id = who.account.value(), .author_name = who.name, .body = text,
            .created_at_ms = clock_.NowMillis()};
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("INSERT INTO customer_notes (team_id, external_userid, account_id, "
                                         "author_name, body, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                         {who.team.value(), std::string(external_userid), note.account_id,
                                          note.author_name, note.body, note.created_at_ms}));
  note.id = r.rows.at(0).Int(0);
  return note;
}

// ----- filter choices ------------------------------------------------------------------------------------------

Result<std::vector<Department>> CustomerService::Departments(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT dept_id, name, parent_id FROM wecom_departments WHERE team_id = ? "
                                         "ORDER BY parent_id, sort DESC, dept_id", {team.value()}));
  std::vector<Department> out;
  for (const auto& row : r.rows) out.push_back({.id = row.Int(0), .name = row.Text(1), .parent_id = row.Int(2)});
  return out;
}

Result<std::vector<TagGroup>> CustomerService::TagGroups(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT g.group_id, g.name, t.tag_id, t.name FROM wecom_tag_groups g LEFT "
                                         "JOIN wecom_tags t ON t.team_id = g.team_id AND t.group_id = g.group_id WHERE "
                                         "g.team_id = ? ORDER BY g.sort DESC, g.group_id, t.sort DESC, t.tag_id",
                                         {team.value()}));
  std::vector<TagGroup> out;
  for (const auto& row : r.rows) {
    if (out.empty() || out.back().group_id != row.Text(0))
      out.push_back({.group_id = row.Text(0), .name = row.Text(1), .tags = {}});
    if (!row.IsNull(2)) out.back().tags.push_back({.tag_id = row.Text(2), .name = row.Text(3), .group_name = row.Text(1)});
  }
  return out;
}

// ----- bindings ------------------------------------------------------------------------------------------------

Result<std::vector<Binding>> CustomerService::Bindings(const accounts::Principal& who,
                                                       const std::vector<int64_t>& account_ids) {
  std::vector<Binding> out;
  if (account_ids.empty()) return out;
  if (!who.is_admin() && (account_ids.size() != 1 || account_ids[0] != who.account.value()))
    return Status::PermissionDenied("admin_only", "only the team's admin account may do this");
  std::vector<Value> params{who.team.value()};
  const std::string marks = InList(params, account_ids);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT b.account_id, b.userid, COALESCE(e.name, ''), b.data_scope, "
                                         "b.bound_at FROM employee_bindings b LEFT JOIN wecom_employees e ON "
                                         "e.team_id = b.team_id AND e.userid = b.userid WHERE b.team_id = ? AND "
                                         "b.account_id IN (" + marks + ") ORDER BY b.account_id",
                                         params));
  for (const auto& row : r.rows)
    out.push_back({.account_id = row.Int(0), .userid = row.Text(1), .employee_name = row.Text(2),
                   .data_scope = row.Text(3), .bound_at_ms = row.Int(4)});
  return out;
}

Result<Binding> CustomerService::Bind(const accounts::Principal& who, int64_t account_id, std::string_view userid,
                                      std::string_view data_scope, const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  if (data_scope != "own" && data_scope != "department")
    return Status::InvalidArgument("invalid_data_scope", "data_scope must be own or department");
  Binding out{.account_id = account_id, .userid = std::string(userid), .employee_name = "",
              .data_scope = std::string(data_scope), .bound_at_ms = clock_.NowMillis()};
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto a, tx.Query("SELECT role FROM accounts WHERE id = ? AND team_id = ?",
                                          {account_id, who.team.value()}));
    if (a.rows.empty()) return Status::NotFound("member_not_found", "no such member in this team");
    KOI_ASSIGN_OR_RETURN(auto e, tx.Query("SELECT name, status FROM wecom_employees WHERE team_id = ? AND userid = ?",
                                          {who.team.value(), out.userid}));
    if (e.rows.empty()) return Status::NotFound("employee_not_found", "no such WeCom employee in this corp");
    if (e.rows[0].Int(1) == 5)
      return Status::FailedPrecondition("employee_resigned", "this employee has left the company");
    out.employee_name = e.rows[0].Text(0);
    KOI_ASSIGN_OR_RETURN(auto taken, tx.Query("SELECT account_id FROM employee_bindings WHERE team_id = ? AND userid "
                                              "= ? AND account_id <> ?",
                                              {who.team.value(), out.userid, account_id}));
    if (!taken.rows.empty())
      return Status::AlreadyExists("employee_already_bound", "this employee is bound to another member account");
    KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO employee_bindings (account_id, team_id, userid, data_scope, bound_at, "
                                "bound_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET userid = "
                                "excluded.userid, data_scope = excluded.data_scope, bound_at = excluded.bound_at, "
                                "bound_by = excluded.bound_by",
                                {account_id, who.team.value(), out.userid, out.data_scope, out.bound_at_ms,
                                 who.account.value()}));
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "member.employee_bound",
                                                 std::to_string(account_id), client.ip,
                                                 out.userid + " (" + out.data_scope + ")");
  }));
  return out;
}

Status CustomerService::Unbind(const accounts::Principal& who, int64_t account_id, const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto b, tx.Query("SELECT userid FROM employee_bindings WHERE account_id = ? AND team_id = ?",
                                          {account_id, who.team.value()}));
    if (b.rows.empty()) return Status::NotFound("binding_not_found", "this member is not bound to an employee");
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM employee_bindings WHERE account_id = ? AND team_id = ?",
                                {account_id, who.team.value()}));
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "member.employee_unbound",
                                                 std::to_string(account_id), client.ip, b.rows[0].Text(0));
  });
}

Result<int64_t> BackfillInitials(storage::Database& db) {
  struct Table {
    const char* name;
    const char* text;
    const char* initials;
    std::vector<const char*> key;
  };
  const Table tables[] = {{"wecom_customers", "name", "name_py", {"team_id", "external_userid"}},
                          {"wecom_follows", "remark", "remark_py", {"team_id", "userid", "external_userid"}}};
  constexpr int64_t kBatch = 5000;
  int64_t filled = 0;
  for (const auto& t : tables) {
    std::string cols, tuple, where;
    for (size_t i = 0; i < t.key.size(); ++i) {
      cols += std::string(i ? ", " : "") + t.key[i];
      tuple += i ? ", ?" : "?";
      where += std::string(i ? " AND " : "") + t.key[i] + " = ?";
    }
    const std::string select = std::string("SELECT ") + cols + ", " + t.text + " FROM " + t.name + " WHERE " +
                               t.initials + " IS NULL AND (" + cols + ") > (" + tuple + ") ORDER BY " + cols +
                               " LIMIT " + std::to_string(kBatch);
    const std::string update = std::string("UPDATE ") + t.name + " SET " + t.initials + " = ? WHERE " + where;
    // Keyset over the primary key: every batch starts where the last ended, never rescans filled rows.
    std::vector<Value> after{int64_t{0}};
    for (size_t i = 1; i < t.key.size(); ++i) after.emplace_back(std::in_place_type<std::string>);
    for (;;) {
      KOI_ASSIGN_OR_RETURN(auto batch, db.Query(select, after));
      if (batch.rows.empty()) break;
      KOI_RETURN_IF_ERROR(db.Transact([&](storage::Session& tx) -> Status {
        for (const auto& row : batch.rows) {
          std::vector<Value> p{Value(PinyinInitials(row.Text(t.key.size())))};
          for (size_t i = 0; i < t.key.size(); ++i) p.push_back(row.at(i));
          KOI_RETURN_IF_ERROR(tx.Exec(update, p));
        }
        return Status::Ok();
      }));
      filled += static_cast<int64_t>(batch.rows.size());
      const auto& last = batch.rows.back();
      for (size_t i = 0; i < t.key.size(); ++i) after[i] = last.at(i);
    }
  }
  return filled;
}

}  // namespace koi::customers
