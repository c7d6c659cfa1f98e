#include "domain/segments/segments.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <type_traits>

#include <roaring/roaring.hh>

#include "core/pinyin.h"
#include "core/utf8.h"
#include "domain/segments/rule_sql.h"

namespace koi::segments {
using storage::Value;
namespace {

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("invalid_segment_rule", path + ": " + what);
}

void Conditions(const Node& n, std::vector<const Node*>& out) {
  if (!n.is_group) {
    out.push_back(&n);
    return;
  }
  for (const auto& c : n.children) Conditions(c, out);
}

// The first value of `values` not in `found`, as its index.
template <typename T>
std::optional<size_t> FirstMissing(const std::vector<T>& values, const std::set<T>& found) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!found.count(values[i])) return i;
  return std::nullopt;
}

// Every value of a condition must be the team's: `select` ("SELECT x FROM t WHERE team_id = ? AND x IN (") finds the
// ones that are; `found` starts with those that need no row (a stage's 0). The first other one is reported at `at`.
template <typename T>
Status AllKnown(storage::Database& db, TeamId team, const std::string& select, const std::vector<T>& values,
                std::set<T> found, const std::string& at, const char* what) {
  std::vector<Value> p{team.value()};
  KOI_ASSIGN_OR_RETURN(auto r, db.Query(select + storage::InList(p, values) + ")", p));
  for (const auto& row : r.rows) {
    if constexpr (std::is_same_v<T, std::string>) found.insert(row.Text(0));
    else found.insert(row.Int(0));
  }
  if (auto i = FirstMissing(values, found)) return Bad(at + "[" + std::to_string(*i) + "]", what);
  return Status::Ok();
}

Status CheckName(std::string_view raw, std::string& out) {
  out = TrimSpace(raw);
  const size_t n = CodePointCount(out);
  if (n == 0 || n > kMaxSegmentNameChars)
    return Status::InvalidArgument("invalid_segment_name", "a segment name has 1 to 30 characters");
  return Status::Ok();
}

}  // namespace

int32_t SegmentService::Today() const { return DayOf(clock_.NowSeconds()); }

Status SegmentService::CheckReferences(TeamId team, const Node& rule, bool admin, int64_t account, EvalContext& ctx) {
  std::vector<const Node*> conds;
  Conditions(rule, conds);
  for (const Node* c : conds) {
    const std::string at = c->path + ".values";
    std::vector<Value> p{team.value()};
    switch (c->field) {
      case Field::kCorpTag:
        KOI_RETURN_IF_ERROR(AllKnown<std::string>(db_, team, "SELECT tag_id FROM wecom_tags WHERE team_id = ? AND tag_id IN (",
                                                  c->texts, {}, at, "no such corp tag"));
        break;
      case Field::kPersonalTag: {
        KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT id, account_id FROM personal_tags WHERE team_id = ? AND id IN (" +
                                               storage::InList(p, c->numbers) + ")", p));
        std::set<int64_t> found;
        for (const auto& row : r.rows)
          if (admin || row.Int(1) == account) found.insert(row.Int(0));
        if (auto i = FirstMissing(c->numbers, found))
          return Bad(at + "[" + std::to_string(*i) + "]", "no such personal tag of yours");
        break;
      }
      case Field::kCustomField:
        KOI_RETURN_IF_ERROR(AllKnown<int64_t>(db_, team, "SELECT id FROM customer_field_options WHERE team_id = ? AND id IN (",
                                              c->numbers, {}, at, "no such option of a custom field"));
        break;
      case Field::kStage:  // 0: in no stage
        KOI_RETURN_IF_ERROR(AllKnown<int64_t>(db_, team, "SELECT id FROM customer_stages WHERE team_id = ? AND id IN (",
                                              c->numbers, {0}, at, "no such stage"));
        break;
      case Field::kDepartment:
        KOI_RETURN_IF_ERROR(AllKnown<int64_t>(db_, team, "SELECT dept_id FROM wecom_departments WHERE team_id = ? AND "
                                              "dept_id IN (", c->numbers, {}, at, "no such department"));
        for (auto d : c->numbers)
          if (!ctx.department_employees.count(d)) {
            KOI_ASSIGN_OR_RETURN(ctx.department_employees[d], customers_.EmployeesUnder(team, {d}));
          }
        break;
      case Field::kEmployee:
        KOI_RETURN_IF_ERROR(AllKnown<std::string>(db_, team, "SELECT userid FROM wecom_employees WHERE team_id = ? AND "
                                                  "userid IN (", c->texts, {}, at, "no such employee"));
        break;
      case Field::kGroup:
        KOI_RETURN_IF_ERROR(AllKnown<std::string>(db_, team, "SELECT chat_id FROM wecom_group_chats WHERE team_id = ? AND "
                                                  "chat_id IN (", c->texts, {}, at, "no such group chat"));
        break;
      case Field::kCustomValue: {
        // The bounds must fit the field: min/max for a number field, from/to for a date field.
        KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT kind FROM customer_fields WHERE team_id = ? AND id = ?",
                                               {team.value(), c->field_id}));
        const std::string kind = r.rows.empty() ? "" : r.rows[0].Text(0);
        if (kind != "number" && kind != "date")
          return Bad(c->path + ".field_id", "no such number or date custom field");
        const bool numbers = c->min_value || c->max_value;
        if (kind == "number" && !numbers) return Bad(c->path, "a number field takes min and max, not dates");
        if (kind == "date" && numbers) return Bad(c->path, "a date field takes from and to (YYYY-MM-DD), not numbers");
        break;
      }
      default:
        break;
    }
  }
  return Status::Ok();
}

Result<SegmentService::Prepared> SegmentService::PrepareFor(TeamId team, const customers::Scope& scope,
                                                            int64_t account, std::string_view rule_json) {
  Prepared p;
  KOI_ASSIGN_OR_RETURN(p.rule, ParseRule(rule_json));
  p.ctx.today = Today();
  if (!scope.all) p.ctx.scope_userids = scope.userids;
  p.nothing = !scope.all && !scope.bound;
  KOI_RETURN_IF_ERROR(CheckReferences(team, p.rule, scope.all, account, p.ctx));
  return p;
}

Result<SegmentService::Prepared> SegmentService::Prepare(const accounts::Principal& who, std::string_view rule_json) {
  KOI_ASSIGN_OR_RETURN(auto scope, customers_.ScopeOf(who));
  return PrepareFor(who.team, scope, who.account.value(), rule_json);
}

Result<int64_t> SegmentService::CountPrepared(TeamId team, const Prepared& p) {
  if (p.nothing) return int64_t{0};
  int64_t n = 0;
  KOI_RETURN_IF_ERROR(index_.Evaluate(team, p.rule, p.ctx, [&n](const Roaring& r) {
    n = static_cast<int64_t>(r.cardinality());
  }));
  return n;
}

namespace {
// The list's filter (one row per customer) as a rule on the index, or nullopt where the index cannot say exactly.
std::optional<std::pair<Node, EvalContext>> ListRule(const customers::Scope& scope, const customers::CustomerFilter& f) {
  // A member's search looks at the remarks of relationships in scope only, which the index cannot tell apart.
  const std::string query = TrimSpace(f.query);
  if ((!query.empty() && !scope.all) || !f.userids.empty() || f.department ||
      f.added_from_ms || f.added_to_ms || f.add_way || !f.state.empty())
    return std::nullopt;
  // A member's tag and status filters look at the relationships in scope only, which the index cannot tell apart;
  // a member's personal-tag filter matches only their own tags.
  if (!scope.all && (!f.tag_ids.empty() || !f.status.empty() || !f.personal_tag_ids.empty())) return std::nullopt;
  if (!f.status.empty() && f.status != "active") return std::nullopt;
  if (!scope.all && scope.userids.empty()) return std::nullopt;
  Node rule;
  rule.is_group = true;
  auto add = [&rule](Field field) -> Node& {
    Node& n = rule.children.emplace_back();
    n.field = field;
    return n;
  };
  if (!f.tag_ids.empty()) add(Field::kCorpTag).texts = f.tag_ids;
  if (f.stage_id) add(Field::kStage).numbers = {*f.stage_id};
  if (f.gender) add(Field::kGender).numbers = {*f.gender};
  if (!f.personal_tag_ids.empty()) add(Field::kPersonalTag).numbers = f.personal_tag_ids;
  if (!f.field_option_ids.empty()) add(Field::kCustomField).numbers = f.field_option_ids;
  if (!f.status.empty()) add(Field::kStatus).active = true;
  EvalContext ctx;
  if (!scope.all) ctx.scope_userids = scope.userids;
  if (!query.empty()) {
    ctx.search = query;
    ctx.search_initials = InitialsQuery(query);
  }
  return std::pair{std::move(rule), std::move(ctx)};
}
}  // namespace

std::optional<int64_t> IndexListAccelerator::Count(TeamId team, const customers::Scope& scope,
                                               const customers::CustomerFilter& f) {
  if (f.mode == customers::ListMode::kRelationship) {
    // Relationships by employee and status only: sums of the employees' bitmaps.
    if (!f.query.empty() || f.department || !f.tag_ids.empty() || f.added_from_ms || f.added_to_ms || f.add_way ||
        !f.state.empty() || f.gender || f.stage_id || !f.personal_tag_ids.empty() || !f.field_option_ids.empty() ||
        (!f.status.empty() && f.status != "active"))
      return std::nullopt;
    std::optional<std::vector<std::string>> userids;
    if (!f.userids.empty()) userids = f.userids;
    if (!scope.all) {
      if (!userids) {
        userids = scope.userids;
      } else {
        std::vector<std::string> both;
        for (const auto& u : *userids)
          if (std::find(scope.userids.begin(), scope.userids.end(), u) != scope.userids.end()) both.push_back(u);
        userids = std::move(both);
      }
    }
    auto n = index_.TryRelationshipCount(team, userids ? &*userids : nullptr, f.status == "active");
    if (!n.ok()) return std::nullopt;
    return *n;
  }
  auto rule = ListRule(scope, f);
  if (!rule) return std::nullopt;
  int64_t count = 0;
  Status s = index_.TryEvaluate(team, rule->first, rule->second,
                                [&count](const Roaring& r) { count = static_cast<int64_t>(r.cardinality()); });
  if (!s.ok()) return std::nullopt;
  return count;
}

std::optional<customers::ListAccelerator::Window> IndexListAccelerator::PageWindow(
    TeamId team, const customers::Scope& scope, const customers::CustomerFilter& f, int64_t offset, int64_t limit) {
  if (f.mode != customers::ListMode::kCustomer || (f.sort != "add_time" && f.sort != "-add_time")) return std::nullopt;
  auto rule = ListRule(scope, f);
  if (!rule) return std::nullopt;
  auto w = index_.TryWindow(team, rule->first, rule->second, f.sort == "-add_time", offset, limit, max_window_ids_);
  if (!w.ok()) return std::nullopt;
  return std::move(*w);
}

std::optional<std::vector<int64_t>> IndexListAccelerator::SearchCandidates(TeamId team, std::string_view text,
                                                                           size_t limit) {
  auto ids = index_.TrySearchCandidates(team, text, limit);
  if (!ids.ok()) return std::nullopt;
  return std::move(*ids);
}

Result<Preview> SegmentService::Count(const accounts::Principal& who, std::string_view rule_json) {
  KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, rule_json));
  Preview out;
  if (p.nothing) return out;
  const auto started = std::chrono::steady_clock::now();
  std::vector<int64_t> first;
  KOI_RETURN_IF_ERROR(index_.Evaluate(who.team, p.rule, p.ctx, [&](const Roaring& r) {
    out.customers = static_cast<int64_t>(r.cardinality());
    for (auto it = r.begin(); it != r.end() && first.size() < kSampleSize; ++it) first.push_back(*it);
  }));
  out.took_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  if (first.empty()) return out;
  std::vector<Value> params{who.team.value()};
  const std::string in = storage::InList(params, first);
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT k.id, c.external_userid, c.name, c.corp_name, c.type, c.gender FROM "
                                            "customer_keys k JOIN wecom_customers c ON c.team_id = k.team_id AND "
                                            "c.external_userid = k.external_userid WHERE k.team_id = ? AND k.id IN (" +
                                            in + ") ORDER BY k.id", params));
  for (const auto& r : rows.rows)
    out.sample.push_back({.external_userid = r.Text(1), .name = r.Text(2), .corp_name = r.Text(3),
                          .type = static_cast<int>(r.Int(4)), .gender = static_cast<int>(r.Int(5))});
  return out;
}

// ----- saved segments ------------------------------------------------------------------------------------------

namespace {
constexpr const char* kSegmentColumns =
    "SELECT s.id, s.name, s.rule, s.created_by, COALESCE(a.name, ''), s.created_at, s.updated_at FROM segments s "
    "LEFT JOIN accounts a ON a.id = s.created_by";

Segment SegmentOf(const storage::Row& r) {
  return Segment{.id = r.Int(0), .name = r.Text(1), .rule = r.Text(2), .customers = 0, .created_by = r.Int(3),
                 .created_by_name = r.Text(4), .created_at_ms = r.Int(5), .updated_at_ms = r.Int(6), .history = {}};
}
}  // namespace

Result<SegmentPage> SegmentService::List(const accounts::Principal& who, int page, int page_size) {
  KOI_ASSIGN_OR_RETURN(auto scope, customers_.ScopeOf(who));
  SegmentPage out;
  KOI_ASSIGN_OR_RETURN(auto total, db_.Query("SELECT COUNT(*) FROM segments WHERE team_id = ?", {who.team.value()}));
  out.total = total.rows.at(0).Int(0);
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kSegmentColumns) +
                                                " WHERE s.team_id = ? ORDER BY s.updated_at DESC, s.id DESC LIMIT ? "
                                                "OFFSET ?",
                                            {who.team.value(), int64_t{page_size},
                                             int64_t{(page - 1) * page_size}}));
  for (const auto& r : rows.rows) {
    Segment s = SegmentOf(r);
    auto p = PrepareFor(who.team, scope, who.account.value(), s.rule);
    if (p.ok()) {
      KOI_ASSIGN_OR_RETURN(s.customers, CountPrepared(who.team, *p));
    } else {
      s.problem = p.status().message();
    }
    out.items.push_back(std::move(s));
  }
  return out;
}

Result<Segment> SegmentService::Load(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(std::string(kSegmentColumns) + " WHERE s.id = ? AND s.team_id = ?",
                                            {id, who.team.value()}));
  if (rows.rows.empty()) return Status::NotFound("segment_not_found", "no such segment");
  return SegmentOf(rows.rows[0]);
}

Result<Segment> SegmentService::Get(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(Segment s, Load(who, id));
  auto p = Prepare(who, s.rule);
  if (p.ok()) {
    KOI_ASSIGN_OR_RETURN(s.customers, CountPrepared(who.team, *p));
  } else {
    s.problem = p.status().message();
  }
  KOI_ASSIGN_OR_RETURN(auto h, db_.Query("SELECT day, customers FROM segment_sizes WHERE segment_id = ? AND day >= ? "
                                         "ORDER BY day", {id, int64_t{Today() - 89}}));
  for (const auto& r : h.rows)
    s.history.push_back({.day = FormatDay(static_cast<int32_t>(r.Int(0))), .customers = r.Int(1)});
  return s;
}

namespace {
// Today's team-wide size of one segment (the history is the team's, whoever looks).
Status RecordSize(storage::Database& db, int64_t segment_id, int32_t day, int64_t customers) {
  return db.Exec("INSERT INTO segment_sizes (segment_id, day, customers) VALUES (?, ?, ?) ON CONFLICT (segment_id, "
                 "day) DO UPDATE SET customers = excluded.customers",
                 {segment_id, int64_t{day}, customers});
}
}  // namespace

Result<Segment> SegmentService::Create(const accounts::Principal& who, std::string_view raw_name,
                                       std::string_view rule_json) {
  std::string name;
  KOI_RETURN_IF_ERROR(CheckName(raw_name, name));
  KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, rule_json));
  const std::string rule = SerializeRule(p.rule);
  const int64_t now = clock_.NowMillis();
  int64_t id = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto n, tx.Query("SELECT COUNT(*) FROM segments WHERE team_id = ?", {who.team.value()}));
    if (n.rows.at(0).Int(0) >= static_cast<int64_t>(kMaxSegmentsPerTeam))
      return Status::FailedPrecondition("too_many_segments", "a team keeps at most 500 segments; delete some first");
    auto r = tx.Query("INSERT INTO segments (team_id, name, rule, created_by, created_at, updated_at) VALUES (?, ?, ?, "
                      "?, ?, ?) RETURNING id", {who.team.value(), name, rule, who.account.value(), now, now});
    if (!r.ok() && r.status().code() == StatusCode::kAlreadyExists)
      return Status::AlreadyExists("segment_name_taken", "a segment with this name exists");
    KOI_RETURN_IF_ERROR(r.status());
    id = r->rows.at(0).Int(0);
    return Status::Ok();
  }));
  auto team_wide = PrepareFor(who.team, customers::Scope{.all = true}, who.account.value(), rule);
  if (team_wide.ok()) {
    KOI_ASSIGN_OR_RETURN(int64_t size, CountPrepared(who.team, *team_wide));
    KOI_RETURN_IF_ERROR(RecordSize(db_, id, Today(), size));
  }
  return Get(who, id);
}

Result<Segment> SegmentService::Update(const accounts::Principal& who, int64_t id, std::optional<std::string> raw_name,
                                       std::optional<std::string> rule_json) {
  KOI_ASSIGN_OR_RETURN(Segment s, Load(who, id));
  if (!who.is_admin() && s.created_by != who.account.value())
    return Status::PermissionDenied("segment_not_yours", "only its creator or an admin can change a segment");
  std::string name = s.name, rule = s.rule;
  if (raw_name) KOI_RETURN_IF_ERROR(CheckName(*raw_name, name));
  if (rule_json) {
    KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, *rule_json));
    rule = SerializeRule(p.rule);
  }
  auto r = db_.Exec("UPDATE segments SET name = ?, rule = ?, updated_at = ? WHERE id = ? AND team_id = ?",
                    {name, rule, clock_.NowMillis(), id, who.team.value()});
  if (r.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("segment_name_taken", "a segment with this name exists");
  KOI_RETURN_IF_ERROR(r);
  if (rule_json) {
    auto team_wide = PrepareFor(who.team, customers::Scope{.all = true}, who.account.value(), rule);
    if (team_wide.ok()) {
      KOI_ASSIGN_OR_RETURN(int64_t size, CountPrepared(who.team, *team_wide));
      KOI_RETURN_IF_ERROR(RecordSize(db_, id, Today(), size));
    }
  }
  return Get(who, id);
}

Status SegmentService::Delete(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(Segment s, Load(who, id));
  if (!who.is_admin() && s.created_by != who.account.value())
    return Status::PermissionDenied("segment_not_yours", "only its creator or an admin can delete a segment");
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM segment_sizes WHERE segment_id = ?", {id}));
    return tx.Exec("DELETE FROM segments WHERE id = ? AND team_id = ?", {id, who.team.value()});
  });
}

Status SegmentService::SnapshotAll() {
  KOI_ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT id, team_id, rule, created_by FROM segments ORDER BY team_id, id"));
  const int32_t today = Today();
  for (const auto& r : rows.rows) {
    auto p = PrepareFor(TeamId(r.Int(1)), customers::Scope{.all = true}, r.Int(3), r.Text(2));
    if (!p.ok()) continue;  // refers to something deleted since; its history stops until it is fixed
    KOI_ASSIGN_OR_RETURN(int64_t size, CountPrepared(TeamId(r.Int(1)), *p));
    KOI_RETURN_IF_ERROR(RecordSize(db_, r.Int(0), today, size));
  }
  return Status::Ok();
}

Result<std::string> SegmentService::RuleOf(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(Segment s, Load(who, id));
  return s.rule;
}

// ----- segments as targets -------------------------------------------------------------------------------------

Result<customers::ListQuery> SegmentService::RelationshipsOf(const accounts::Principal& who,
                                                              std::string_view rule_json) {
  KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, rule_json));
  if (p.nothing) return Status::InvalidArgument("bulk_target_empty", "no active relationship matches: nothing to tag");
  customers::ListQuery q;
  q.from = " FROM wecom_follows f JOIN wecom_customers c ON c.team_id = f.team_id AND c.external_userid = "
           "f.external_userid";
  q.params.emplace_back(Value(who.team.value()));
  q.where = " WHERE f.team_id = ? AND f.deleted_at IS NULL";
  if (p.ctx.scope_userids) {
    const std::string in = storage::InList(q.params, *p.ctx.scope_userids);
    q.where += " AND f.userid IN (" + in + ")";
  }
  const std::string rule_sql = RuleToSql(p.rule, p.ctx, q.params);
  q.where += " AND " + rule_sql;
  return q;
}

Result<std::vector<uint32_t>> SegmentService::Members(const accounts::Principal& who, std::string_view rule_json) {
  KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, rule_json));
  std::vector<uint32_t> ids;
  if (p.nothing) return ids;
  KOI_RETURN_IF_ERROR(index_.Evaluate(who.team, p.rule, p.ctx, [&](const Roaring& r) {
    ids.resize(r.cardinality());
    r.toUint32Array(ids.data());
  }));
  return ids;
}

Result<SenderPlan> SegmentService::Senders(const accounts::Principal& who, std::string_view rule_json) {
  KOI_ASSIGN_OR_RETURN(auto p, Prepare(who, rule_json));
  SenderPlan out;
  out.rule = "most_recent_relationship";
  if (p.nothing) return out;
  std::vector<int64_t> ids;
  KOI_RETURN_IF_ERROR(index_.Evaluate(who.team, p.rule, p.ctx, [&](const Roaring& r) {
    ids.reserve(r.cardinality());
    for (uint32_t id : r) ids.push_back(id);
  }));
  out.customers = static_cast<int64_t>(ids.size());
  std::map<std::string, int64_t> per_sender;
  constexpr size_t kChunk = 500;
  for (size_t i = 0; i < ids.size(); i += kChunk) {
    std::vector<int64_t> part(ids.begin() + i, ids.begin() + std::min(ids.size(), i + kChunk));
    std::vector<Value> params{who.team.value()};
    std::string sql = "SELECT k.id, f.userid, f.createtime FROM customer_keys k JOIN wecom_follows f ON f.team_id = "
                      "k.team_id AND f.external_userid = k.external_userid WHERE k.team_id = ? AND f.deleted_at IS NULL "
                      "AND k.id IN (" + storage::InList(params, part) + ")";
    if (p.ctx.scope_userids) {
      const std::string in = storage::InList(params, *p.ctx.scope_userids);
      sql += " AND f.userid IN (" + in + ")";
    }
    KOI_ASSIGN_OR_RETURN(auto rows, db_.Query(sql, params));
    // Per customer: the latest add time wins; equal times go to the smaller userid (stable across runs).
    std::map<int64_t, std::pair<int64_t, std::string>> best;
    for (const auto& r : rows.rows) {
      auto [it, fresh] = best.try_emplace(r.Int(0), r.Int(2), r.Text(1));
      if (fresh) continue;
      if (r.Int(2) > it->second.first || (r.Int(2) == it->second.first && r.Text(1) < it->second.second))
        it->second = {r.Int(2), r.Text(1)};
    }
    for (const auto& [id, choice] : best) ++per_sender[choice.second];
  }
  std::vector<std::string> userids;
  for (const auto& [u, n] : per_sender) {
    out.senders.push_back({.userid = u, .employee_name = "", .customers = n});
    userids.push_back(u);
  }
  if (!userids.empty()) {
    std::vector<Value> params{who.team.value()};
    const std::string in = storage::InList(params, userids);
    KOI_ASSIGN_OR_RETURN(auto names, db_.Query("SELECT userid, name FROM wecom_employees WHERE team_id = ? AND userid IN (" +
                                               in + ")", params));
    std::map<std::string, std::string> by_id;
    for (const auto& r : names.rows) by_id[r.Text(0)] = r.Text(1);
    for (auto& s : out.senders) s.employee_name = by_id[s.userid];
  }
  std::sort(out.senders.begin(), out.senders.end(), [](const SenderGroup& a, const SenderGroup& b) {
    return a.customers != b.customers ? a.customers > b.customers : a.userid < b.userid;
  });
  return out;
}

}  // namespace koi::segments
