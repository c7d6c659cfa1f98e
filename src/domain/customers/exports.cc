#include "domain/customers/exports.h"

#include <algorithm>
#include <memory>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "domain/customers/export_format.h"

namespace koi::customers {
namespace {

using storage::Value;
namespace json = boost::json;

constexpr int kUtc8 = 480;  // minutes: the platform's natural day, and the times in the file

// Not retried by the job runner: only deleting exports frees room.
Status QuotaExceeded(int64_t quota) {
  return Status::FailedPrecondition(
      "export_quota_exceeded",
      fmt::format("the team's stored exports would take more than {:.1f} MB; delete exports you no longer need, or "
                  "wait for older ones to expire (7 days after each was asked for)",
                  static_cast<double>(quota) / (1 << 20)));
}

// ----- the columns ---------------------------------------------------------------------------------------------

std::vector<std::string> Header(ListMode mode, bool zh) {
  if (mode == ListMode::kRelationship) {
    if (zh)
      return {"客户名称", "客户类型", "性别", "企业名称", "跟进员工", "员工账号", "备注", "描述", "备注手机号",
              "备注企业", "企业标签", "客户阶段", "添加时间", "添加方式", "渠道参数", "状态", "流失时间",
              "外部联系人ID"};
    return {"Name", "Type", "Gender", "Company", "Employee", "Employee ID", "Remark", "Description", "Remark mobiles",
            "Remark company", "Enterprise tags", "Stage", "Added", "Add way", "Channel state", "Status", "Lost at",
            "External user ID"};
  }
  if (zh)
    return {"客户名称", "客户类型", "性别", "企业名称", "跟进员工", "备注", "企业标签", "客户阶段", "最近添加时间",
            "添加方式", "渠道参数", "状态", "外部联系人ID"};
  return {"Name", "Type", "Gender", "Company", "Employees", "Remarks", "Enterprise tags", "Stage", "Last added",
          "Add way", "Channel state", "Status", "External user ID"};
}

std::string TypeLabel(int type, bool zh) {
  if (type == 2) return zh ? "企业微信用户" : "WeCom user";
  return zh ? "微信用户" : "WeChat user";
}

std::string GenderLabel(int gender, bool zh) {
  if (gender == 1) return zh ? "男" : "Male";
  if (gender == 2) return zh ? "女" : "Female";
  return zh ? "未知" : "Unknown";
}

// WeCom's add_way values (the follow user's add_way field).
std::string AddWayLabel(int way, bool zh) {
  switch (way) {
    case 0: return zh ? "未知来源" : "Unknown";
    case 1: return zh ? "扫描二维码" : "QR code scan";
    case 2: return zh ? "搜索手机号" : "Phone number search";
    case 3: return zh ? "名片分享" : "Business card share";
    case 4: return zh ? "群聊" : "Group chat";
    case 5: return zh ? "手机通讯录" : "Phone contacts";
    case 6: return zh ? "微信联系人" : "WeChat contacts";
    case 8: return zh ? "安装第三方应用时自动添加" : "Added when installing a third-party app";
    case 9: return zh ? "搜索邮箱" : "Email search";
    case 10: return zh ? "视频号主页" : "Channels page";
    case 201: return zh ? "内部成员共享" : "Shared by a colleague";
    case 202: return zh ? "管理员/负责人分配" : "Assigned by the admin";
    default: return (zh ? "其他方式（" : "Other (") + std::to_string(way) + (zh ? "）" : ")");
  }
}

std::string FollowStatus(const Follow& f, bool zh) {
  if (f.active) return zh ? "跟进中" : "Active";
  if (f.deleted_by == "customer") return zh ? "被客户删除" : "Deleted by the customer";
  if (f.deleted_by == "employee") return zh ? "员工删除了客户" : "Deleted by the employee";
  return zh ? "已流失" : "Lost";
}

std::string Join(const std::vector<std::string>& parts, bool zh) {
  std::string out;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!out.empty()) out += zh ? "、" : ", ";
    out += p;
  }
  return out;
}

std::string TagNames(const std::vector<TagRef>& tags, bool zh) {
  std::vector<std::string> names;
  for (const auto& t : tags) names.push_back(t.name);
  return Join(names, zh);
}

std::vector<std::string> Cells(const CustomerRow& row, ListMode mode, bool zh) {
  if (mode == ListMode::kRelationship) {
    const Follow empty;
    const Follow& f = row.follows.empty() ? empty : row.follows.front();
    return {row.name, TypeLabel(row.type, zh), GenderLabel(row.gender, zh), row.corp_name, f.employee_name, f.userid,
            f.remark, f.description, Join(f.remark_mobiles, zh), f.remark_corp_name, TagNames(f.tags, zh),
            row.stage_name, f.add_time_ms ? exportfmt::LocalMinute(f.add_time_ms, kUtc8) : "",
            AddWayLabel(f.add_way, zh), f.state, FollowStatus(f, zh),
            f.deleted_at_ms ? exportfmt::LocalMinute(*f.deleted_at_ms, kUtc8) : "", row.external_userid};
  }
  std::vector<std::string> employees, remarks;
  for (const auto& f : row.follows) {
    if (!f.active) continue;
    employees.push_back(f.employee_name.empty() ? f.userid : f.employee_name);
    if (!f.remark.empty()) remarks.push_back(row.follows.size() > 1 ? employees.back() + ": " + f.remark : f.remark);
  }
  // The newest relationship's channel (follows come newest first).
  const Follow* newest = row.follows.empty() ? nullptr : &row.follows.front();
  std::string status = row.active_follows > 0 ? (zh ? "跟进中" : "Active") : (zh ? "已流失" : "Lost");
  return {row.name, TypeLabel(row.type, zh), GenderLabel(row.gender, zh), row.corp_name, Join(employees, zh),
          Join(remarks, zh), TagNames(row.tags, zh), row.stage_name,
          row.last_add_time_ms ? exportfmt::LocalMinute(row.last_add_time_ms, kUtc8) : "",
          newest ? AddWayLabel(newest->add_way, zh) : "", newest ? newest->state : "", status, row.external_userid};
}

// ----- the job's payload ---------------------------------------------------------------------------------------

json::value ValueJson(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return json::value(*i);
  if (const auto* d = std::get_if<double>(&v)) return json::value(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return json::value(*s);
  return json::value(nullptr);
}

Value JsonValue(const json::value& v) {
  if (v.is_int64()) return Value(std::in_place_type<int64_t>, v.as_int64());
  if (v.is_uint64()) return Value(std::in_place_type<int64_t>, static_cast<int64_t>(v.as_uint64()));
  if (v.is_double()) return Value(std::in_place_type<double>, v.as_double());
  if (v.is_string()) return Value(std::in_place_type<std::string>, std::string(v.as_string()));
  return Value();
}

std::string Text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string ContentType(std::string_view format) {
  return format == "xlsx" ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                          : "text/csv; charset=utf-8";
}

std::string SheetName(std::string_view lang, std::string_view mode) {
  const bool zh = lang == "zh-CN";
  if (mode == "relationship") return zh ? "客户关系" : "Relationships";
  return zh ? "客户" : "Customers";
}

constexpr std::string_view kStateColumns =
    "e.id, e.format, e.mode, e.filename, e.bytes, e.created_at, e.expires_at, e.complete, e.rows_written, "
    "e.finished_at, j.state, j.finished_at, j.last_error_reason, e.total, e.lang";

ExportState StateOf(const storage::Row& r) {
  ExportState s{.id = r.Int(0), .format = r.Text(1), .mode = r.Text(2), .state = "", .total = r.Int(13),
                .done = r.Int(8), .bytes = r.Int(4), .filename = r.Text(3), .created_at_ms = r.Int(5),
                .finished_at_ms = r.OptInt(9), .expires_at_ms = r.Int(6), .last_error_reason = ""};
  if (r.Int(7) != 0) {
    s.state = "succeeded";
  } else if (r.IsNull(10)) {
    s.state = "failed";  // its job is gone
  } else {
    // A job that succeeded without completing the file cannot happen; say failed rather than offer no file.
    s.state = r.Text(10) == "succeeded" ? "failed" : r.Text(10);
    s.last_error_reason = r.Text(12);
    s.finished_at_ms = r.OptInt(11);
  }
  s.total = std::max(s.total, s.done);
  // The file's size: an XLSX worksheet inside its archive (the archive's parts have fixed sizes).
  if (s.format == "xlsx" && s.state == "succeeded") {
    const std::string sheet = SheetName(r.Text(14), s.mode);
    s.bytes += static_cast<int64_t>(exportfmt::XlsxBefore(sheet, 0, 0, {}).size() +
                                    exportfmt::XlsxAfter(sheet, 0, 0, {}).size());
  }
  return s;
}

}  // namespace

// ----- asking for an export ------------------------------------------------------------------------------------

Result<ExportState> ExportService::Start(const accounts::Principal& who, const ExportRequest& req,
                                         const accounts::Client& client) {
  if (req.format != "csv" && req.format != "xlsx")
    return Status::InvalidArgument("export_format_invalid", "format must be csv or xlsx");
  if (req.lang != "zh-CN" && req.lang != "en-US")
    return Status::InvalidArgument("export_lang_invalid", "lang must be zh-CN or en-US");
  const TeamId team = who.team;
  const Status empty = Status::InvalidArgument("export_empty", "no customer matches the filter: nothing to export");
  KOI_ASSIGN_OR_RETURN(Scope scope, customers_.ScopeOf(who));
  KOI_ASSIGN_OR_RETURN(auto query, customers_.BuildQuery(team, scope, req.filter));
  if (!query) return empty;
  const bool by_relationship = req.filter.mode == ListMode::kRelationship;
  const std::string mode = by_relationship ? "relationship" : "customer";

  json::array params, userids;
  for (const auto& p : query->params) params.push_back(ValueJson(p));
  for (const auto& u : scope.userids) userids.emplace_back(u);
  const int64_t now = clock_.NowMillis();
  std::string stamp = exportfmt::LocalMinute(now, kUtc8);  // "2026-11-26 21:30" → "20261126-2130"
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), [](char c) { return c == '-' || c == ':'; }), stamp.end());
  std::replace(stamp.begin(), stamp.end(), ' ', '-');
  const std::string filename =
      std::string(by_relationship ? "customer-relationships-" : "customers-") + stamp + "." + req.format;

  int64_t id = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto busy, tx.Query("SELECT COUNT(*) FROM customer_exports e, jobs j WHERE e.team_id = ? AND "
                                             "e.account_id = ? AND e.complete = 0 AND j.id = e.job_id AND j.state IN "
                                             "('queued', 'running')",
                                             {team.value(), who.account.value()}));
    if (busy.rows.at(0).Int(0) >= kMaxUnfinishedExports)
      return Status::ResourceExhausted("export_busy", "3 of your exports are still running; wait for one to finish");
    KOI_ASSIGN_OR_RETURN(auto stored, tx.Query("SELECT COALESCE(SUM(bytes), 0) FROM customer_exports WHERE team_id = ? "
                                               "AND expires_at > ?", {team.value(), now}));
    if (stored.rows.at(0).Int(0) >= options_.team_bytes) return QuotaExceeded(options_.team_bytes);
    KOI_ASSIGN_OR_RETURN(auto count, tx.Query("SELECT COUNT(*)" + (query->count_from.empty() ? query->from
                                                                                               : query->count_from) +
                                                  (query->count_from.empty() ? query->where : query->count_where),
                                              query->params));
    const int64_t total = count.rows.at(0).Int(0);
    if (total == 0) return empty;
    if (total > kMaxExportRows)
      return Status::InvalidArgument("export_too_large", "at most 1,000,000 rows in one export; narrow the filter");
    KOI_ASSIGN_OR_RETURN(auto row, tx.Query("INSERT INTO customer_exports (team_id, account_id, job_id, format, mode, "
                                            "lang, filename, total, created_at, expires_at) VALUES (?, ?, 0, ?, ?, ?, "
                                            "?, ?, ?, ?) RETURNING id",
                                            {team.value(), who.account.value(), req.format, mode, req.lang, filename,
                                             total, now, now + kExportTtlMs}));
    id = row.rows.at(0).Int(0);
    const std::string payload = json::serialize(json::object{
        {"export_id", id},
        {"scope", json::object{{"all", scope.all}, {"userids", std::move(userids)}}},
        {"query", json::object{{"from", query->from}, {"where", query->where}, {"params", std::move(params)}}}});
    KOI_ASSIGN_OR_RETURN(auto job, queue_.EnqueueIn(tx, {.team = team, .kind = kExportJob, .payload = payload,
                                                         .max_attempts = 20, .progress_total = total}));
    KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_exports SET job_id = ? WHERE id = ?", {job.id.value(), id}));
    return accounts::AccountService::RecordAudit(tx, clock_, team, &who, "customer.exported", filename, client.ip,
                                                 "rows=" + std::to_string(total) + " format=" + req.format);
  }));
  return Load(team, who.account.value(), id);
}

// ----- reading exports -----------------------------------------------------------------------------------------

Result<ExportState> ExportService::Load(TeamId team, int64_t account, int64_t id) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + std::string(kStateColumns) + " FROM customer_exports e LEFT JOIN "
                                         "jobs j ON j.id = e.job_id WHERE e.team_id = ? AND e.account_id = ? AND "
                                         "e.id = ? AND e.expires_at > ?",
                                         {team.value(), account, id, clock_.NowMillis()}));
  if (r.rows.empty()) return Status::NotFound("export_not_found", "no such export of yours (exports last 7 days)");
  return StateOf(r.rows[0]);
}

Result<ExportState> ExportService::Get(const accounts::Principal& who, int64_t id) {
  return Load(who.team, who.account.value(), id);
}

Result<ExportPage> ExportService::List(const accounts::Principal& who, int page, int page_size) {
  const std::vector<Value> key{who.team.value(), who.account.value(), clock_.NowMillis()};
  constexpr std::string_view kMine = " FROM customer_exports e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.team_id = "
                                     "? AND e.account_id = ? AND e.expires_at > ?";
  ExportPage out;
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*)" + std::string(kMine), key));
  out.total = count.rows.at(0).Int(0);
  std::vector<Value> params = key;
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT " + std::string(kStateColumns) + std::string(kMine) +
                                             " ORDER BY e.id DESC LIMIT ? OFFSET ?",
                                         params));
  for (const auto& row : r.rows) out.items.push_back(StateOf(row));
  return out;
}

Result<ExportFile> ExportService::Open(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(ExportState state, Get(who, id));
  if (state.state != "succeeded")
    return Status::Aborted("export_not_ready", "the export has not finished; download it once it has succeeded");
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT crc, next_seq, lang, bytes FROM customer_exports WHERE id = ?",
                                         {id}));
  if (r.rows.empty()) return Status::NotFound("export_not_found", "no such export of yours (exports last 7 days)");
  const auto crc = static_cast<uint32_t>(r.rows[0].Int(0));
  const int64_t pieces = r.rows[0].Int(1), sheet_bytes = r.rows[0].Int(3);
  // The pieces in order: for XLSX the archive's head, the worksheet's pieces, the archive's directory.
  struct Cursor {
    std::string before, after;
    int64_t next = 0;  // -1: before; pieces: after; beyond: done
  };
  auto cursor = std::make_shared<Cursor>();
  if (state.format == "xlsx") {
    cursor->next = -1;
    const std::string sheet = SheetName(r.rows[0].Text(2), state.mode);
    const auto stamp = exportfmt::StampOf(state.created_at_ms, kUtc8);
    cursor->before = exportfmt::XlsxBefore(sheet, crc, static_cast<uint64_t>(sheet_bytes), stamp);
    cursor->after = exportfmt::XlsxAfter(sheet, crc, static_cast<uint64_t>(sheet_bytes), stamp);
  }
  ExportFile file{.filename = state.filename,
                  .content_type = ContentType(state.format),
                  .size = static_cast<int64_t>(cursor->before.size() + cursor->after.size()) + sheet_bytes,
                  .next = nullptr};
  storage::Database* db = &db_;
  file.next = [db, id, pieces, cursor]() -> Result<std::string> {
    const int64_t at = cursor->next++;
    if (at < 0) return std::move(cursor->before);
    if (at == pieces) return std::move(cursor->after);
    if (at > pieces) return std::string();
    KOI_ASSIGN_OR_RETURN(auto c, db->Query("SELECT body FROM customer_export_chunks WHERE export_id = ? AND seq = ?",
                                           {id, at}));
    if (c.rows.empty()) return Status::NotFound("export_not_found", "the export was deleted while downloading");
    return c.rows[0].Text(0);
  };
  return file;
}

// ----- deleting ------------------------------------------------------------------------------------------------

Status ExportService::Delete(const accounts::Principal& who, int64_t id) {
  KOI_ASSIGN_OR_RETURN(ExportState state, Get(who, id));
  if (state.state == "queued" || state.state == "running") {
    KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT job_id FROM customer_exports WHERE id = ?", {id}));
    if (!r.rows.empty()) {
      Status s = queue_.Cancel(who.team, JobId(r.rows[0].Int(0)));
      if (!s.ok() && s.reason() != "job_finished" && s.code() != StatusCode::kNotFound) return s;
    }
  }
  // The row first: a piece being written meanwhile finds no export and is not written (Run updates the row first).
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_exports WHERE id = ?", {id}));
    return tx.Exec("DELETE FROM customer_export_chunks WHERE export_id = ?", {id});
  });
}

Result<int64_t> ExportService::PurgeExpired() {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT e.id, e.team_id, e.job_id, e.complete FROM customer_exports e WHERE "
                                         "e.expires_at <= ?",
                                         {clock_.NowMillis()}));
  for (const auto& row : r.rows) {
    if (row.Int(3) == 0) {
      Status s = queue_.Cancel(TeamId(row.Int(1)), JobId(row.Int(2)));
      if (!s.ok() && s.reason() != "job_finished" && s.code() != StatusCode::kNotFound) return s;
    }
    KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_exports WHERE id = ?", {row.Int(0)}));
      return tx.Exec("DELETE FROM customer_export_chunks WHERE export_id = ?", {row.Int(0)});
    }));
  }
  return static_cast<int64_t>(r.rows.size());
}

// ----- the job -------------------------------------------------------------------------------------------------

Status ExportService::Run(jobs::JobContext& ctx) {
  const TeamId team = ctx.job().team;
  boost::system::error_code ec;
  json::value pv = json::parse(ctx.job().payload, ec);
  if (ec || !pv.is_object()) return Status::Internal("bad_payload", "the export job has a bad payload");
  const auto& payload = pv.as_object();
  const auto* idv = payload.if_contains("export_id");
  const auto* scopev = payload.if_contains("scope");
  const auto* queryv = payload.if_contains("query");
  if (!idv || !idv->is_int64() || !scopev || !scopev->is_object() || !queryv || !queryv->is_object())
    return Status::Internal("bad_payload", "the export job has a bad payload");
  const int64_t id = idv->as_int64();
  Scope scope;
  if (const auto* all = scopev->as_object().if_contains("all"); all && all->is_bool()) scope.all = all->as_bool();
  if (const auto* u = scopev->as_object().if_contains("userids"); u && u->is_array())
    for (const auto& v : u->as_array())
      if (v.is_string()) scope.userids.emplace_back(v.as_string());
  ListQuery query;
  query.from = Text(queryv->as_object(), "from");
  query.where = Text(queryv->as_object(), "where");
  if (const auto* p = queryv->as_object().if_contains("params"); p && p->is_array())
    for (const auto& v : p->as_array()) query.params.push_back(JsonValue(v));

  for (;;) {
    if (ctx.ShouldStop()) return Status::Aborted("job_interrupted", "the export stops here and resumes later");
    KOI_ASSIGN_OR_RETURN(auto er, db_.Query("SELECT mode, format, lang, complete, next_seq, rows_written, bytes, crc, "
                                            "key_customer, key_userid, total FROM customer_exports WHERE id = ? AND "
                                            "team_id = ?",
                                            {id, team.value()}));
    if (er.rows.empty() || er.rows[0].Int(3) != 0) return Status::Ok();  // deleted meanwhile, or written
    const auto& e = er.rows[0];
    const ListMode mode = e.Text(0) == "relationship" ? ListMode::kRelationship : ListMode::kCustomer;
    const bool xlsx = e.Text(1) == "xlsx", zh = e.Text(2) == "zh-CN";
    const int64_t seq = e.Int(4), written = e.Int(5), bytes = e.Int(6), total = e.Int(10);
    auto crc = static_cast<uint32_t>(e.Int(7));

    KOI_ASSIGN_OR_RETURN(auto rows, customers_.RowsAfter(team, scope, query, mode, {e.Text(8), e.Text(9)},
                                                         options_.batch));
    const bool last = rows.size() < static_cast<size_t>(options_.batch);
    std::string piece;
    if (seq == 0) {
      const auto header = Header(mode, zh);
      piece = xlsx ? exportfmt::SheetHead(header.size()) + exportfmt::SheetRow(1, header, true)
                   : std::string(exportfmt::kUtf8Bom) + exportfmt::CsvLine(header);
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto cells = Cells(rows[i], mode, zh);
      piece += xlsx ? exportfmt::SheetRow(written + 2 + static_cast<int64_t>(i), cells, false)
                    : exportfmt::CsvLine(cells);
    }
    if (last && xlsx) piece += exportfmt::SheetTail();
    if (static_cast<uint64_t>(bytes) + piece.size() > exportfmt::kMaxSheetBytes)
      return Status::InvalidArgument("export_too_large", "the file would pass 4 GB; narrow the filter");
    crc = exportfmt::Crc32(crc, piece);
    const int64_t now_written = written + static_cast<int64_t>(rows.size());
    std::string key_customer = e.Text(8), key_userid = e.Text(9);
    if (!rows.empty()) {
      key_customer = rows.back().external_userid;
      key_userid = mode == ListMode::kRelationship ? rows.back().relationship_userid : "";
    }
    bool gone = false, over_quota = false;
    KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
      over_quota = false;
      // The team's files (expired ones not purged yet no longer count) within the quota with this piece. If not,
      // nothing of this file is kept: its pieces so far are dropped and it starts over (it is not retried).
      KOI_ASSIGN_OR_RETURN(auto stored, tx.Query("SELECT COALESCE(SUM(bytes), 0) FROM customer_exports WHERE team_id = ? "
                                                 "AND expires_at > ?", {team.value(), clock_.NowMillis()}));
      if (stored.rows.at(0).Int(0) + static_cast<int64_t>(piece.size()) > options_.team_bytes) {
        KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE customer_exports SET next_seq = 0, rows_written = 0, bytes = 0, "
                                              "crc = 0, key_customer = '', key_userid = '' WHERE id = ? AND next_seq = ?",
                                              {id, seq}));
        if (u.affected_rows == 0) {
          gone = true;
          return Status::Ok();
        }
        over_quota = true;
        return tx.Exec("DELETE FROM customer_export_chunks WHERE export_id = ?", {id});
      }
      // The row first: it is locked against a concurrent delete, and a deleted export gets no more pieces.
      KOI_ASSIGN_OR_RETURN(auto u, tx.Query("UPDATE customer_exports SET next_seq = ?, rows_written = ?, bytes = ?, "
                                            "crc = ?, key_customer = ?, key_userid = ?, complete = ?, finished_at = ? "
                                            "WHERE id = ? AND next_seq = ?",
                                            {seq + 1, now_written, bytes + static_cast<int64_t>(piece.size()),
                                             static_cast<int64_t>(crc), key_customer, key_userid,
                                             int64_t{last ? 1 : 0},
                                             last ? Value(std::in_place_type<int64_t>, clock_.NowMillis()) : Value(),
                                             id, seq}));
      if (u.affected_rows == 0) {
        gone = true;
        return Status::Ok();
      }
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_export_chunks (export_id, seq, body) VALUES (?, ?, ?)",
                                  {id, seq, piece}));
      return ctx.CheckpointIn(tx, now_written, std::max(total, now_written), key_customer + "\n" + key_userid);
    }));
    if (gone) return Status::Ok();
    if (over_quota) return QuotaExceeded(options_.team_bytes);
    if (options_.on_piece) options_.on_piece(seq);
    if (last) return Status::Ok();
  }
}

}  // namespace koi::customers
