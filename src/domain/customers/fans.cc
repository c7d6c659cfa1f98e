#include "domain/customers/fans.h"

#include <iconv.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/utf8.h"
#include "domain/customers/export_format.h"

namespace koi::customers {
namespace {

using storage::Value;

// GB18030 (what Excel saves a CSV as on a Chinese Windows) to UTF-8; nullopt when it is not that either.
std::optional<std::string> FromGb18030(std::string_view in) {
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  std::string out(in.size() * 2 + 16, '\0');
  char* src = const_cast<char*>(in.data());
  size_t src_left = in.size();
  char* dst = out.data();
  size_t dst_left = out.size();
  const size_t r = iconv(cd, &src, &src_left, &dst, &dst_left);
  iconv_close(cd);
  if (r == static_cast<size_t>(-1) || src_left != 0) return std::nullopt;
  out.resize(out.size() - dst_left);
  return out;
}

// openid / unionid: WeChat's are 28 characters of [A-Za-z0-9_-]; accept 6–64 of those.
bool ValidWechatId(std::string_view id) {
  return id.size() >= 6 && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

// The column of each field in the header row (-1 when absent). English or Chinese names, any case.
struct Columns {
  int openid = -1, unionid = -1, nickname = -1, entity = -1;
};

Columns ColumnsOf(const std::vector<std::string>& header) {
  Columns c;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = TrimSpace(header[i]);
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    const int at = static_cast<int>(i);
    if (h == "openid") c.openid = at;
    else if (h == "unionid") c.unionid = at;
    else if (h == "nickname" || h == "昵称") c.nickname = at;
    else if (h == "entity" || h == "主体" || h == "主体名称" || h == "subject") c.entity = at;
  }
  return c;
}

// A cell trimmed, without NUL characters (no text column takes them).
std::string Cell(const std::vector<std::string>& row, int at) {
  if (at < 0 || static_cast<size_t>(at) >= row.size()) return std::string();
  std::string v = TrimSpace(row[static_cast<size_t>(at)]);
  v.erase(std::remove(v.begin(), v.end(), '\0'), v.end());
  return v;
}

}  // namespace

Result<std::string> FanService::Subject(TeamId team) {
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT corp_subject FROM wecom_corps WHERE team_id = ?", {team.value()}));
  return r.rows.empty() ? std::string() : r.rows[0].Text(0);
}

Status FanService::SetSubject(const accounts::Principal& who, std::string_view raw, const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  const std::string subject = TrimSpace(raw);
  if (subject.empty() || !IsValidUtf8(subject) || CodePointCount(subject) > 100)
    return Status::InvalidArgument("fan_subject_invalid", "the entity name has 1 to 100 characters");
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("UPDATE wecom_corps SET corp_subject = ? WHERE team_id = ?",
                                          {subject, who.team.value()}));
    if (r.affected_rows == 0) return Status::FailedPrecondition("wecom_not_linked", "the team is not linked to WeCom");
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "fans.subject_set", subject, client.ip);
  });
}

Result<FanImportResult> FanService::Import(const accounts::Principal& who, const FanImportRequest& req,
                                           const accounts::Client& client, std::vector<FanRowError>* errors) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  const TeamId team = who.team;
  const std::string account = TrimSpace(req.account_name);
  if (account.empty() || !IsValidUtf8(account) || CodePointCount(account) > 30)
    return Status::InvalidArgument("fan_account_invalid", "name the official account or mini program (1–30 characters)");
  if (req.account_type != "official" && req.account_type != "miniprogram")
    return Status::InvalidArgument("fan_account_invalid", "account_type must be official or miniprogram");
  KOI_ASSIGN_OR_RETURN(const std::string subject, Subject(team));
  if (subject.empty())
    return Status::FailedPrecondition("fan_subject_unset",
                                      "set the corp's verified entity name first: fans match only within one entity");
  if (req.csv.size() > kMaxFanFileBytes)
    return Status::InvalidArgument("fan_file_invalid", "the file is larger than 20 MB");
  std::string text = req.csv;
  if (!IsValidUtf8(text)) {
    auto converted = FromGb18030(text);
    if (!converted) return Status::InvalidArgument("fan_file_invalid", "the file is neither UTF-8 nor GB18030 text");
    text = std::move(*converted);
  }
  auto parsed = exportfmt::ParseCsv(text);
  if (!parsed) return Status::InvalidArgument("fan_file_invalid", "the file is not CSV: a quote is never closed");
  auto& rows = *parsed;
  if (rows.empty()) return Status::InvalidArgument("fan_file_invalid", "the file is empty");
  const Columns cols = ColumnsOf(rows[0]);
  if (cols.openid < 0 || cols.unionid < 0 || cols.entity < 0)
    return Status::InvalidArgument("fan_file_invalid",
                                   "the first row must name the columns openid, unionid, nickname and entity (主体名称)");
  if (rows.size() - 1 > kMaxFanRows)
    return Status::InvalidArgument("fan_file_invalid", "at most 200,000 fans in one file");
  if (rows.size() == 1) return Status::InvalidArgument("fan_file_invalid", "the file has no fans, only the header");

  // The entity first: a file of another entity's account is refused whole, naming it.
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::string entity = Cell(rows[i], cols.entity);
    if (entity != subject)
      return Status::FailedPrecondition("fan_subject_mismatch",
                                        "row " + std::to_string(i + 1) + " is of the entity \"" + entity +
                                            "\", not the corp's \"" + subject +
                                            "\": WeChat gives one unionid only within one entity, so these fans "
                                            "cannot be matched");
  }
  std::vector<FanRowError> bad;
  std::set<std::string> openids;
  for (size_t i = 1; i < rows.size(); ++i) {
    const int64_t line = static_cast<int64_t>(i) + 1;
    const std::string openid = Cell(rows[i], cols.openid), unionid = Cell(rows[i], cols.unionid);
    const std::string nickname = Cell(rows[i], cols.nickname);
    if (!ValidWechatId(openid)) bad.push_back({line, "fan_openid_invalid", openid});
    else if (!openids.insert(openid).second) bad.push_back({line, "fan_openid_duplicate", openid});
    if (!ValidWechatId(unionid)) bad.push_back({line, "fan_unionid_invalid", unionid});
    if (CodePointCount(nickname) > 64) bad.push_back({line, "fan_nickname_too_long", ToValidUtf8(nickname.substr(0, 64))});
  }
  if (!bad.empty()) {
    const size_t n = bad.size();
    if (errors) {
      bad.resize(std::min(bad.size(), kMaxFanErrors));
      *errors = std::move(bad);
    }
    return Status::InvalidArgument("fan_rows_invalid", std::to_string(n) + " rows are not valid; nothing was imported");
  }

  FanImportResult out;
  out.rows = static_cast<int64_t>(rows.size()) - 1;
  const int64_t now = clock_.NowMillis();
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    // Which openids are known already (updated, not added), in slices the IN lists can take.
    std::vector<std::string> all(openids.begin(), openids.end());
    for (size_t at = 0; at < all.size(); at += 500) {
      std::vector<std::string> slice(all.begin() + static_cast<std::ptrdiff_t>(at),
                                     all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + 500)));
      std::vector<Value> p{team.value()};
      const std::string in = storage::InList(p, slice);
      KOI_ASSIGN_OR_RETURN(auto known, tx.Query("SELECT COUNT(*) FROM fans WHERE team_id = ? AND openid IN (" + in + ")",
                                                p));
      out.updated += known.rows.at(0).Int(0);
    }
    out.added = out.rows - out.updated;
    // 500 rows per statement (3,500 parameters, within both engines' limits).
    for (size_t at = 1; at < rows.size(); at += 500) {
      const size_t end = std::min(rows.size(), at + 500);
      std::string sql = "INSERT INTO fans (team_id, openid, unionid, nickname, account_name, account_type, "
                        "imported_at) VALUES ";
      std::vector<Value> p;
      p.reserve((end - at) * 7);
      for (size_t i = at; i < end; ++i) {
        sql += i == at ? "(?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?)";
        p.emplace_back(std::in_place_type<int64_t>, team.value());
        p.emplace_back(std::in_place_type<std::string>, Cell(rows[i], cols.openid));
        p.emplace_back(std::in_place_type<std::string>, Cell(rows[i], cols.unionid));
        p.emplace_back(std::in_place_type<std::string>, Cell(rows[i], cols.nickname));
        p.emplace_back(std::in_place_type<std::string>, account);
        p.emplace_back(std::in_place_type<std::string>, req.account_type);
        p.emplace_back(std::in_place_type<int64_t>, now);
      }
      KOI_RETURN_IF_ERROR(tx.Exec(sql + " ON CONFLICT (team_id, openid) DO UPDATE SET unionid = excluded.unionid, "
                                        "nickname = excluded.nickname, account_name = excluded.account_name, "
                                        "account_type = excluded.account_type, imported_at = excluded.imported_at",
                                  p));
    }
    KOI_ASSIGN_OR_RETURN(auto matched, tx.Query("SELECT COUNT(*) FROM fans f WHERE f.team_id = ? AND f.imported_at = ? "
                                                "AND f.account_name = ? AND EXISTS (SELECT 1 FROM wecom_customers c "
                                                "WHERE c.team_id = f.team_id AND c.unionid = f.unionid)",
                                                {team.value(), now, account}));
    out.matched = matched.rows.at(0).Int(0);
    return accounts::AccountService::RecordAudit(tx, clock_, team, &who, "fans.imported", account, client.ip,
                                                 "rows=" + std::to_string(out.rows) +
                                                     " matched=" + std::to_string(out.matched));
  }));
  return out;
}

Result<FanPage> FanService::List(const accounts::Principal& who, std::string_view q, std::string_view matched,
                                 std::string_view account_name, int page, int page_size) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  if (matched != "" && matched != "yes" && matched != "no")
    return Status::InvalidArgument("invalid_filter", "matched must be yes or no");
  if (q.size() > 100) return Status::InvalidArgument("invalid_filter", "the search text is too long");
  const TeamId team = who.team;
  constexpr std::string_view kMatch = "EXISTS (SELECT 1 FROM wecom_customers c WHERE c.team_id = f.team_id AND "
                                      "c.unionid = f.unionid)";
  FanPage out;
  KOI_ASSIGN_OR_RETURN(auto totals, db_.Query("SELECT COUNT(*), SUM(CASE WHEN " + std::string(kMatch) +
                                                  " THEN 1 ELSE 0 END) FROM fans f WHERE f.team_id = ?",
                                              {team.value()}));
  out.fans = totals.rows.at(0).Int(0);
  out.matched = totals.rows.at(0).IsNull(1) ? 0 : totals.rows.at(0).Int(1);
  std::vector<Value> params{team.value()};
  std::string where = " WHERE f.team_id = ?";
  if (!q.empty()) {
    const std::string like = storage::LikeContains(q);
    where += " AND (f.nickname LIKE ? ESCAPE '\\' OR f.openid LIKE ? ESCAPE '\\' OR f.unionid LIKE ? ESCAPE '\\')";
    params.insert(params.end(), {Value(like), Value(like), Value(like)});
  }
  if (!account_name.empty()) {
    where += " AND f.account_name = ?";
    params.emplace_back(std::in_place_type<std::string>, std::string(account_name));
  }
  if (matched == "yes") where += " AND " + std::string(kMatch);
  if (matched == "no") where += " AND NOT " + std::string(kMatch);
  KOI_ASSIGN_OR_RETURN(auto count, db_.Query("SELECT COUNT(*) FROM fans f" + where, params));
  out.total = count.rows.at(0).Int(0);
  params.emplace_back(std::in_place_type<int64_t>, page_size);
  params.emplace_back(std::in_place_type<int64_t>, int64_t{page - 1} * page_size);
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT f.openid, f.unionid, f.nickname, f.account_name, f.account_type, "
                                         "f.imported_at, COALESCE(c.external_userid, ''), COALESCE(c.name, '') FROM "
                                         "fans f LEFT JOIN wecom_customers c ON c.team_id = f.team_id AND c.unionid = "
                                         "f.unionid" + where +
                                             " ORDER BY f.imported_at DESC, f.openid LIMIT ? OFFSET ?",
                                         params));
  for (const auto& row : r.rows)
    out.items.push_back({.openid = row.Text(0), .unionid = row.Text(1), .nickname = row.Text(2),
                         .account_name = row.Text(3), .account_type = row.Text(4), .imported_at_ms = row.Int(5),
                         .external_userid = row.Text(6), .customer_name = row.Text(7)});
  return out;
}

Result<std::vector<FanAccount>> FanService::Accounts(const accounts::Principal& who) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(auto r, db_.Query("SELECT f.account_name, MIN(f.account_type), COUNT(*), SUM(CASE WHEN EXISTS "
                                         "(SELECT 1 FROM wecom_customers c WHERE c.team_id = f.team_id AND c.unionid = "
                                         "f.unionid) THEN 1 ELSE 0 END), MAX(f.imported_at) FROM fans f WHERE "
                                         "f.team_id = ? GROUP BY f.account_name ORDER BY f.account_name",
                                         {who.team.value()}));
  std::vector<FanAccount> out;
  for (const auto& row : r.rows)
    out.push_back({.account_name = row.Text(0), .account_type = row.Text(1), .fans = row.Int(2),
                   .matched = row.IsNull(3) ? 0 : row.Int(3), .imported_at_ms = row.Int(4)});
  return out;
}

Result<int64_t> FanService::DeleteAccount(const accounts::Principal& who, std::string_view account_name,
                                          const accounts::Client& client) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  int64_t deleted = 0;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM fans WHERE team_id = ? AND account_name = ?",
                                          {who.team.value(), std::string(account_name)}));
    deleted = r.affected_rows;
    if (deleted == 0) return Status::NotFound("fan_account_not_found", "no fans of that account");
    return accounts::AccountService::RecordAudit(tx, clock_, who.team, &who, "fans.deleted", account_name, client.ip,
                                                 "rows=" + std::to_string(deleted));
  }));
  return deleted;
}

}  // namespace koi::customers
