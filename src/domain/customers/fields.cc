#include "domain/customers/fields.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/utf8.h"

namespace koi::customers {
namespace {

using storage::Value;

const Status kFieldNotFound = Status::NotFound("field_not_found", "no such custom field");

Result<std::string> CheckedName(std::string_view raw) {
  std::string name = TrimSpace(raw);
  if (name.empty()) return Status::InvalidArgument("field_name_empty", "a custom field needs a name");
  if (!IsValidUtf8(name) || CodePointCount(name) > kMaxFieldNameChars)
    return Status::InvalidArgument("field_name_too_long", "a custom field's name has at most 30 characters");
  return name;
}

bool IsChoice(FieldKind kind) { return kind == FieldKind::kSelect || kind == FieldKind::kMultiSelect; }

// Options as asked for: trimmed, 1–30 characters, distinct, 1–100 of them.
Status CheckOptions(std::vector<FieldOption>& options) {
  if (options.empty()) return Status::InvalidArgument("field_options_empty", "a choice field needs at least one option");
  if (options.size() > kMaxFieldOptions)
    return Status::InvalidArgument("field_options_too_many", "a choice field has at most 100 options");
  std::set<std::string> labels;
  for (auto& o : options) {
    o.label = TrimSpace(o.label);
    const bool control = std::any_of(o.label.begin(), o.label.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
    if (o.label.empty() || control || !IsValidUtf8(o.label) || CodePointCount(o.label) > kMaxOptionChars)
      return Status::InvalidArgument("field_option_invalid", "an option has 1 to 30 characters");
    if (!labels.insert(o.label).second)
      return Status::InvalidArgument("field_option_duplicate", "the option \"" + o.label + "\" is listed twice");
  }
  return Status::Ok();
}

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A value as the timeline shows it: the text, or the options' labels.
std::string Shown(const CustomField& field, const FieldValue* v) {
  if (v == nullptr) return "";
  if (!IsChoice(field.kind)) return v->value;
  std::string out;
  for (int64_t id : v->option_ids) {
    for (const auto& o : field.options) {
      if (o.id != id) continue;
      if (!out.empty()) out += "、";
      out += o.label;
    }
  }
  return out;
}

// `Db`: storage::Database or storage::Session (both answer Query).
template <typename Db>
Result<std::vector<CustomField>> LoadFields(Db& s, TeamId team) {
  std::vector<CustomField> out;
  KOI_ASSIGN_OR_RETURN(auto f, s.Query("SELECT id, name, kind, sort FROM customer_fields WHERE team_id = ? ORDER BY "
                                       "sort, id", {team.value()}));
  std::map<int64_t, size_t> at;
  for (const auto& row : f.rows) {
    at[row.Int(0)] = out.size();
    out.push_back({.id = row.Int(0), .name = row.Text(1), .kind = FieldKindOf(row.Text(2)).value_or(FieldKind::kText),
                   .options = {}, .sort = row.Int(3), .customers = 0});
  }
  KOI_ASSIGN_OR_RETURN(auto o, s.Query("SELECT field_id, id, label FROM customer_field_options WHERE team_id = ? "
                                       "ORDER BY field_id, sort, id", {team.value()}));
  for (const auto& row : o.rows) {
    auto it = at.find(row.Int(0));
    if (it != at.end()) out[it->second].options.push_back({.id = row.Int(1), .label = row.Text(2)});
  }
  return out;
}

template <typename Db>
Result<std::vector<FieldValue>> LoadValues(Db& s, TeamId team, std::string_view external_userid,
                                           const std::vector<CustomField>& fields) {
  KOI_ASSIGN_OR_RETURN(auto r, s.Query("SELECT field_id, option_id, value FROM customer_field_values WHERE team_id = ? "
                                       "AND external_userid = ?", {team.value(), std::string(external_userid)}));
  std::map<int64_t, std::set<int64_t>> chosen;
  std::map<int64_t, std::string> text;
  for (const auto& row : r.rows) {
    if (row.Int(1) != 0) chosen[row.Int(0)].insert(row.Int(1));
    else text[row.Int(0)] = row.Text(2);
  }
  std::vector<FieldValue> out;
  for (const auto& f : fields) {
    FieldValue v{.field_id = f.id, .value = {}, .option_ids = {}};
    if (IsChoice(f.kind)) {
      auto it = chosen.find(f.id);
      if (it == chosen.end()) continue;
      for (const auto& o : f.options)
        if (it->second.count(o.id)) v.option_ids.push_back(o.id);
      if (v.option_ids.empty()) continue;
    } else {
      auto it = text.find(f.id);
      if (it == text.end()) continue;
      v.value = it->second;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

std::string_view FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kText: return "text";
    case FieldKind::kNumber: return "number";
    case FieldKind::kDate: return "date";
    case FieldKind::kSelect: return "select";
    case FieldKind::kMultiSelect: return "multi_select";
  }
  return "text";
}

std::optional<FieldKind> FieldKindOf(std::string_view name) {
  for (FieldKind k : {FieldKind::kText, FieldKind::kNumber, FieldKind::kDate, FieldKind::kSelect,
                      FieldKind::kMultiSelect})
    if (FieldKindName(k) == name) return k;
  return std::nullopt;
}

Result<std::string> NormalizeFieldValue(FieldKind kind, std::string_view raw) {
  std::string v = TrimSpace(raw);
  if (v.empty()) return v;
  switch (kind) {
    case FieldKind::kText:
      if (!IsValidUtf8(v) || CodePointCount(v) > kMaxFieldTextChars)
        return Status::InvalidArgument("field_value_invalid", "a text field holds at most 200 characters");
      return v;
    case FieldKind::kNumber: {
      std::string_view s = v;
      const bool minus = !s.empty() && s.front() == '-';
      if (minus) s.remove_prefix(1);
      const size_t dot = s.find('.');
      std::string_view whole = s.substr(0, dot);
      std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
      if (!AllDigits(whole) || whole.size() > 15 || (dot != std::string_view::npos && (!AllDigits(frac) || frac.size() > 6)))
        return Status::InvalidArgument("field_value_invalid",
                                       "a number field holds a number such as 42 or -3.5 (up to 15 digits, 6 decimals)");
      // Canonical: no leading zeros, no trailing fractional zeros, no "-0".
      while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
      while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
      std::string out(whole);
      if (!frac.empty()) out += "." + std::string(frac);
      if (minus && out != "0") out = "-" + out;
      return out;
    }
    case FieldKind::kDate: {
      const Status bad = Status::InvalidArgument("field_value_invalid", "a date field holds a date as YYYY-MM-DD");
      if (v.size() != 10 || v[4] != '-' || v[7] != '-') return bad;
      if (!AllDigits(v.substr(0, 4)) || !AllDigits(v.substr(5, 2)) || !AllDigits(v.substr(8, 2))) return bad;
      const int y = std::stoi(v.substr(0, 4)), m = std::stoi(v.substr(5, 2)), d = std::stoi(v.substr(8, 2));
      if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > DaysIn(y, m)) return bad;
      return v;
    }
    case FieldKind::kSelect:
    case FieldKind::kMultiSelect:
      break;
  }
  return Status::InvalidArgument("field_value_invalid", "a choice field takes option ids, not text");
}

Result<std::vector<CustomField>> FieldService::List(TeamId team, bool with_counts) {
  KOI_ASSIGN_OR_RETURN(auto fields, LoadFields(db_, team));
  if (!with_counts) return fields;
  KOI_ASSIGN_OR_RETURN(auto counts, db_.Query("SELECT field_id, COUNT(DISTINCT external_userid) FROM "
                                              "customer_field_values WHERE team_id = ? GROUP BY field_id",
                                              {team.value()}));
  for (const auto& row : counts.rows)
    for (auto& f : fields)
      if (f.id == row.Int(0)) f.customers = row.Int(1);
  return fields;
}

Result<CustomField> FieldService::Create(const accounts::Principal& who, std::string_view raw_name,
                                         std::string_view kind_name, const std::vector<std::string>& labels) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  KOI_ASSIGN_OR_RETURN(std::string name, CheckedName(raw_name));
  auto kind = FieldKindOf(kind_name);
  if (!kind)
    return Status::InvalidArgument("field_kind_invalid", "a field's kind is text, number, date, select or multi_select");
  std::vector<FieldOption> options;
  for (const auto& l : labels) options.push_back({.id = 0, .label = l});
  if (IsChoice(*kind)) {
    KOI_RETURN_IF_ERROR(CheckOptions(options));
  } else if (!options.empty()) {
    return Status::InvalidArgument("field_options_unexpected", "only choice fields have options");
  }
  CustomField out{.id = 0, .name = name, .kind = *kind, .options = {}, .sort = 0, .customers = 0};
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    out.options.clear();
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT COUNT(*), COALESCE(MAX(sort), 0) FROM customer_fields WHERE team_id "
                                          "= ?", {who.team.value()}));
    if (r.rows[0].Int(0) >= static_cast<int64_t>(kMaxFields))
      return Status::FailedPrecondition("field_limit", "a team has at most 50 custom fields");
    KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT 1 FROM customer_fields WHERE team_id = ? AND name = ?",
                                             {who.team.value(), name}));
    if (!same.rows.empty())
      return Status::AlreadyExists("field_exists", "there is already a custom field \"" + name + "\"");
    out.sort = r.rows[0].Int(1) + 1;
    KOI_ASSIGN_OR_RETURN(auto id, tx.Query("INSERT INTO customer_fields (team_id, name, kind, sort, created_at) VALUES "
                                           "(?, ?, ?, ?, ?) RETURNING id",
                                           {who.team.value(), name, std::string(FieldKindName(*kind)), out.sort,
                                            clock_.NowMillis()}));
    out.id = id.rows.at(0).Int(0);
    for (size_t i = 0; i < options.size(); ++i) {
      KOI_ASSIGN_OR_RETURN(auto oid, tx.Query("INSERT INTO customer_field_options (team_id, field_id, label, sort) "
                                              "VALUES (?, ?, ?, ?) RETURNING id",
                                              {who.team.value(), out.id, options[i].label, static_cast<int64_t>(i)}));
      out.options.push_back({.id = oid.rows.at(0).Int(0), .label = options[i].label});
    }
    return Status::Ok();
  }));
  return out;
}

Result<CustomField> FieldService::Update(const accounts::Principal& who, int64_t id,
                                         std::optional<std::string_view> raw_name,
                                         const std::optional<std::vector<FieldOption>>& new_options) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  std::optional<std::string> name;
  if (raw_name) {
    KOI_ASSIGN_OR_RETURN(name, CheckedName(*raw_name));
  }
  std::optional<std::vector<FieldOption>> options = new_options;
  if (options) KOI_RETURN_IF_ERROR(CheckOptions(*options));
  const TeamId team = who.team;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto f, tx.Query("SELECT kind FROM customer_fields WHERE id = ? AND team_id = ?",
                                          {id, team.value()}));
    if (f.rows.empty()) return kFieldNotFound;
    const FieldKind kind = FieldKindOf(f.rows[0].Text(0)).value_or(FieldKind::kText);
    if (name) {
      KOI_ASSIGN_OR_RETURN(auto same, tx.Query("SELECT id FROM customer_fields WHERE team_id = ? AND name = ?",
                                               {team.value(), *name}));
      if (!same.rows.empty() && same.rows[0].Int(0) != id)
        return Status::AlreadyExists("field_exists", "there is already a custom field \"" + *name + "\"");
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_fields SET name = ? WHERE id = ? AND team_id = ?",
                                  {*name, id, team.value()}));
    }
    if (!options) return Status::Ok();
    if (!IsChoice(kind)) return Status::InvalidArgument("field_options_unexpected", "only choice fields have options");
    KOI_ASSIGN_OR_RETURN(auto have, tx.Query("SELECT id FROM customer_field_options WHERE field_id = ? AND team_id = ?",
                                             {id, team.value()}));
    std::set<int64_t> existing, kept;
    for (const auto& row : have.rows) existing.insert(row.Int(0));
    for (const auto& o : *options) {
      if (o.id == 0) continue;
      if (!existing.count(o.id) || !kept.insert(o.id).second)
        return Status::InvalidArgument("field_option_invalid", "option " + std::to_string(o.id) +
                                                                   " is not an option of this field");
    }
    for (int64_t gone : existing) {
      if (kept.count(gone)) continue;
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_field_values WHERE team_id = ? AND field_id = ? AND option_id = ?",
                                  {team.value(), id, gone}));
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_field_options WHERE id = ? AND team_id = ?", {gone, team.value()}));
    }
    // Labels are unique within a field: park the kept ones on placeholders first so a swap of two labels works.
    for (int64_t k : kept)
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_field_options SET label = ? WHERE id = ? AND team_id = ?",
                                  {"\x01" + std::to_string(k), k, team.value()}));
    for (size_t i = 0; i < options->size(); ++i) {
      const auto& o = (*options)[i];
      if (o.id != 0) {
        KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_field_options SET label = ?, sort = ? WHERE id = ? AND team_id = ?",
                                    {o.label, static_cast<int64_t>(i), o.id, team.value()}));
      } else {
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_options (team_id, field_id, label, sort) VALUES (?, ?, "
                                    "?, ?)", {team.value(), id, o.label, static_cast<int64_t>(i)}));
      }
    }
    return Status::Ok();
  }));
  KOI_ASSIGN_OR_RETURN(auto fields, List(team, true));
  for (auto& f : fields)
    if (f.id == id) return std::move(f);
  return kFieldNotFound;
}

Status FieldService::Delete(const accounts::Principal& who, int64_t id) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("DELETE FROM customer_fields WHERE id = ? AND team_id = ?",
                                          {id, who.team.value()}));
    if (r.affected_rows == 0) return kFieldNotFound;
    KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_field_values WHERE team_id = ? AND field_id = ?",
                                {who.team.value(), id}));
    return tx.Exec("DELETE FROM customer_field_options WHERE team_id = ? AND field_id = ?", {who.team.value(), id});
  });
}

Status FieldService::Reorder(const accounts::Principal& who, const std::vector<int64_t>& ids) {
  KOI_RETURN_IF_ERROR(accounts::RequireAdmin(who));
  return db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT id FROM customer_fields WHERE team_id = ?", {who.team.value()}));
    std::set<int64_t> have, given(ids.begin(), ids.end());
    for (const auto& row : r.rows) have.insert(row.Int(0));
    if (have != given || given.size() != ids.size())
      return Status::InvalidArgument("invalid_field_order", "list every custom field of the team exactly once");
    for (size_t i = 0; i < ids.size(); ++i)
      KOI_RETURN_IF_ERROR(tx.Exec("UPDATE customer_fields SET sort = ? WHERE id = ? AND team_id = ?",
                                  {static_cast<int64_t>(i + 1), ids[i], who.team.value()}));
    return Status::Ok();
  });
}

Result<std::vector<FieldValue>> FieldService::ValuesOf(TeamId team, std::string_view external_userid) {
  KOI_ASSIGN_OR_RETURN(auto fields, LoadFields(db_, team));
  return LoadValues(db_, team, external_userid, fields);
}

Result<std::vector<FieldValue>> FieldService::SetValues(const accounts::Principal& who,
                                                        std::string_view external_userid,
                                                        const std::vector<FieldEdit>& edits) {
  KOI_RETURN_IF_ERROR(customers_.Get(who, external_userid).status());  // visible to the caller?
  const TeamId team = who.team;
  const std::string customer(external_userid);
  std::vector<FieldValue> out;
  KOI_RETURN_IF_ERROR(db_.Transact([&](storage::Session& tx) -> Status {
    KOI_ASSIGN_OR_RETURN(auto fields, LoadFields(tx, team));
    KOI_ASSIGN_OR_RETURN(auto before, LoadValues(tx, team, customer, fields));
    std::set<int64_t> seen;
    const int64_t now = clock_.NowMillis();
    for (const auto& e : edits) {
      auto fit = std::find_if(fields.begin(), fields.end(), [&](const CustomField& f) { return f.id == e.field_id; });
      if (fit == fields.end()) return kFieldNotFound.WithContext("field " + std::to_string(e.field_id));
      if (!seen.insert(e.field_id).second)
        return Status::InvalidArgument("field_value_invalid", "field \"" + fit->name + "\" is given twice");
      const CustomField& field = *fit;
      FieldValue next{.field_id = field.id, .value = {}, .option_ids = {}};
      if (IsChoice(field.kind)) {
        if (!e.value.empty())
          return Status::InvalidArgument("field_value_invalid", "\"" + field.name + "\" takes options, not text");
        std::set<int64_t> ids(e.option_ids.begin(), e.option_ids.end());
        if (field.kind == FieldKind::kSelect && ids.size() > 1)
          return Status::InvalidArgument("field_value_invalid", "\"" + field.name + "\" takes one option");
        for (const auto& o : field.options)
          if (ids.count(o.id)) next.option_ids.push_back(o.id);
        if (next.option_ids.size() != ids.size())
          return Status::InvalidArgument("field_value_invalid", "not an option of \"" + field.name + "\"");
      } else {
        if (!e.option_ids.empty())
          return Status::InvalidArgument("field_value_invalid", "\"" + field.name + "\" takes a value, not options");
        auto v = NormalizeFieldValue(field.kind, e.value);
        if (!v.ok()) return Status::InvalidArgument(v.status().reason(), "\"" + field.name + "\": " + v.status().message());
        next.value = *v;
      }
      auto bit = std::find_if(before.begin(), before.end(), [&](const FieldValue& v) { return v.field_id == field.id; });
      const FieldValue* old = bit == before.end() ? nullptr : &*bit;
      const bool empty = next.value.empty() && next.option_ids.empty();
      if (old ? (old->value == next.value && old->option_ids == next.option_ids) : empty) continue;  // unchanged
      KOI_RETURN_IF_ERROR(tx.Exec("DELETE FROM customer_field_values WHERE team_id = ? AND external_userid = ? AND "
                                  "field_id = ?", {team.value(), customer, field.id}));
      if (!IsChoice(field.kind) && !empty) {
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                    "value, updated_at) VALUES (?, ?, ?, 0, ?, ?)",
                                    {team.value(), customer, field.id, next.value, now}));
      }
      for (int64_t oid : next.option_ids)
        KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_field_values (team_id, external_userid, field_id, option_id, "
                                    "value, updated_at) VALUES (?, ?, ?, ?, '', ?)",
                                    {team.value(), customer, field.id, oid, now}));
      KOI_RETURN_IF_ERROR(tx.Exec("INSERT INTO customer_events (team_id, external_userid, at, kind, userid, actor_name, "
                                  "detail) VALUES (?, ?, ?, 'field_changed', '', ?, ?)",
                                  {team.value(), customer, now, who.name,
                                   field.name + ": " + Shown(field, old) + " → " + Shown(field, empty ? nullptr : &next)}));
    }
    KOI_ASSIGN_OR_RETURN(out, LoadValues(tx, team, customer, fields));
    return Status::Ok();
  }));
  return out;
}

}  // namespace koi::customers
