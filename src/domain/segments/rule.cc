#include "domain/segments/rule.h"

#include <array>
#include <cmath>
#include <charconv>
#include <set>

#include <boost/json.hpp>

#include "core/utf8.h"

namespace koi::segments {
namespace json = boost::json;
namespace {

struct FieldInfo {
  Field field;
  std::string_view name;
  enum Kind { kTexts, kNumbers, kRange, kStatus, kValueRange } kind;
  bool has_match;
};

constexpr std::array<FieldInfo, 13> kFields = {{
    {Field::kCorpTag, "corp_tag", FieldInfo::kTexts, true},
    {Field::kPersonalTag, "personal_tag", FieldInfo::kNumbers, true},
    {Field::kEmployee, "employee", FieldInfo::kTexts, false},
    {Field::kDepartment, "department", FieldInfo::kNumbers, false},
    {Field::kAdded, "added", FieldInfo::kRange, false},
    {Field::kAddWay, "add_way", FieldInfo::kNumbers, false},
    {Field::kChannelState, "channel_state", FieldInfo::kTexts, false},
    {Field::kGender, "gender", FieldInfo::kNumbers, false},
    {Field::kStage, "stage", FieldInfo::kNumbers, false},
    {Field::kGroup, "group", FieldInfo::kTexts, false},
    {Field::kStatus, "status", FieldInfo::kStatus, false},
    {Field::kCustomField, "custom_field", FieldInfo::kNumbers, true},
    {Field::kCustomValue, "custom_value", FieldInfo::kValueRange, false},
}};

const FieldInfo& InfoOf(Field f) {
  for (const auto& i : kFields)
    if (i.field == f) return i;
  return kFields[0];
}

Status Bad(const std::string& path, const std::string& what) {
  return Status::InvalidArgument("invalid_segment_rule", path + ": " + what);
}

}  // namespace

// "YYYY-MM-DD" → days since 1970-01-01 (proleptic Gregorian; days_from_civil).
std::optional<int32_t> ParseDay(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  auto num = [&](size_t at, size_t len, int& out) {
    auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
    return r.ec == std::errc() && r.ptr == s.data() + at + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  y -= m <= 2;
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

namespace {

// Added days before 1970 mean nothing (WeCom's times are Unix seconds).
std::optional<int32_t> ParseDate(std::string_view s) {
  auto day = ParseDay(s);
  if (!day || *day < 0) return std::nullopt;
  return day;
}

class Parser {
 public:
  Status ParseNode(const json::value& v, const std::string& path, size_t depth, Node& out) {
    if (++nodes_ > kMaxNodes) return Bad(path, "a rule has at most " + std::to_string(kMaxNodes) + " nodes");
    if (!v.is_object()) return Bad(path, "must be an object (a group with \"op\" or a condition with \"field\")");
    const auto& o = v.as_object();
    out.path = path;
    if (const auto* n = o.if_contains("not")) {
      if (!n->is_bool()) return Bad(path + ".not", "must be true or false");
      out.negate = n->as_bool();
    }
    const bool has_op = o.contains("op"), has_field = o.contains("field");
    if (has_op == has_field) return Bad(path, "needs exactly one of \"op\" (a group) and \"field\" (a condition)");
    if (has_op) return ParseGroup(o, path, depth, out);
    return ParseCondition(o, path, out);
  }

 private:
  Status ParseGroup(const json::object& o, const std::string& path, size_t depth, Node& out) {
    out.is_group = true;
    KOI_RETURN_IF_ERROR(OnlyKeys(o, path, {"op", "not", "children"}));
    const auto& op = o.at("op");
    if (!op.is_string() || (op.as_string() != "and" && op.as_string() != "or"))
      return Bad(path + ".op", "must be \"and\" or \"or\"");
    out.is_and = op.as_string() == "and";
    if (depth >= kMaxDepth) return Bad(path, "groups nest at most " + std::to_string(kMaxDepth) + " deep");
    const auto* ch = o.if_contains("children");
    if (!ch || !ch->is_array()) return Bad(path + ".children", "must be a list of conditions and groups");
    const auto& arr = ch->as_array();
    if (arr.size() > kMaxChildren)
      return Bad(path + ".children", "a group has at most " + std::to_string(kMaxChildren) + " children");
    if (arr.empty() && depth > 0) return Bad(path + ".children", "a nested group needs at least one condition");
    out.children.resize(arr.size());
    for (size_t i = 0; i < arr.size(); ++i)
      KOI_RETURN_IF_ERROR(ParseNode(arr[i], path + ".children[" + std::to_string(i) + "]", depth + 1, out.children[i]));
    return Status::Ok();
  }

  Status ParseCondition(const json::object& o, const std::string& path, Node& out) {
    const auto& f = o.at("field");
    const FieldInfo* info = nullptr;
    if (f.is_string())
      for (const auto& i : kFields)
        if (f.as_string() == i.name) info = &i;
    if (!info) {
      std::string names;
      for (const auto& i : kFields) names += (names.empty() ? "" : ", ") + std::string(i.name);
      return Bad(path + ".field", "unknown field; one of " + names);
    }
    out.field = info->field;
    switch (info->kind) {
      case FieldInfo::kTexts:
      case FieldInfo::kNumbers: {
        KOI_RETURN_IF_ERROR(info->has_match ? OnlyKeys(o, path, {"field", "not", "match", "values"})
                                            : OnlyKeys(o, path, {"field", "not", "values"}));
        if (info->has_match) KOI_RETURN_IF_ERROR(ParseMatch(o, path, out));
        return ParseValues(o, path, info->kind == FieldInfo::kNumbers, out);
      }
      case FieldInfo::kRange:
        KOI_RETURN_IF_ERROR(OnlyKeys(o, path, {"field", "not", "from", "to", "within_days"}));
        return ParseRange(o, path, out);
      case FieldInfo::kValueRange:
        KOI_RETURN_IF_ERROR(OnlyKeys(o, path, {"field", "not", "field_id", "min", "max", "from", "to"}));
        return ParseValueRange(o, path, out);
      case FieldInfo::kStatus: {
        KOI_RETURN_IF_ERROR(OnlyKeys(o, path, {"field", "not", "value"}));
        const auto* v = o.if_contains("value");
        if (!v || !v->is_string() || (v->as_string() != "active" && v->as_string() != "lost"))
          return Bad(path + ".value", "must be \"active\" or \"lost\"");
        out.active = v->as_string() == "active";
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

  static Status OnlyKeys(const json::object& o, const std::string& path, std::initializer_list<std::string_view> keys) {
    for (const auto& kv : o) {
      bool known = false;
      for (auto k : keys) known = known || kv.key() == k;
      if (!known) return Bad(path + "." + std::string(kv.key()), "unknown key for this node");
    }
    return Status::Ok();
  }

  static Status ParseMatch(const json::object& o, const std::string& path, Node& out) {
    const auto* m = o.if_contains("match");
    if (!m) return Status::Ok();  // any
    if (m->is_string()) {
      if (m->as_string() == "any") return out.match = Match::kAny, Status::Ok();
      if (m->as_string() == "all") return out.match = Match::kAll, Status::Ok();
      if (m->as_string() == "none") return out.match = Match::kNone, Status::Ok();
    }
    return Bad(path + ".match", "must be \"any\", \"all\" or \"none\"");
  }

  static Status ParseValues(const json::object& o, const std::string& path, bool numbers, Node& out) {
    const auto* v = o.if_contains("values");
    if (!v || !v->is_array() || v->as_array().empty())
      return Bad(path + ".values", "must be a non-empty list");
    const auto& arr = v->as_array();
    if (arr.size() > kMaxValues) return Bad(path + ".values", "at most " + std::to_string(kMaxValues) + " values");
    for (size_t i = 0; i < arr.size(); ++i) {
      const std::string at = path + ".values[" + std::to_string(i) + "]";
      if (numbers) {
        if (!arr[i].is_int64() && !arr[i].is_uint64()) return Bad(at, "must be a whole number");
        int64_t n = arr[i].is_int64() ? arr[i].as_int64() : static_cast<int64_t>(arr[i].as_uint64());
        if (n < 0) return Bad(at, "must not be negative");
        if (out.field == Field::kGender && n > 2) return Bad(at, "gender is 0 (unknown), 1 (male) or 2 (female)");
        if ((out.field == Field::kPersonalTag || out.field == Field::kDepartment || out.field == Field::kCustomField) &&
            n == 0)
          return Bad(at, "no such id");
        out.numbers.push_back(n);
      } else {
        if (!arr[i].is_string()) return Bad(at, "must be a string");
        std::string s(arr[i].as_string());
        if (s.empty() && out.field != Field::kChannelState) return Bad(at, "must not be empty");
        if (s.size() > 256) return Bad(at, "at most 256 bytes");
        if (!IsValidUtf8(s)) return Bad(at, "must be UTF-8");
        out.texts.push_back(std::move(s));
      }
    }
    // Duplicates change nothing; drop them so the canonical form is stable.
    std::set<std::string> seen_t;
    std::vector<std::string> t;
    for (auto& s : out.texts)
      if (seen_t.insert(s).second) t.push_back(std::move(s));
    out.texts = std::move(t);
    std::set<int64_t> seen_n;
    std::vector<int64_t> n;
    for (auto x : out.numbers)
      if (seen_n.insert(x).second) n.push_back(x);
    out.numbers = std::move(n);
    return Status::Ok();
  }

  static Status ParseRange(const json::object& o, const std::string& path, Node& out) {
    const auto* w = o.if_contains("within_days");
    if (w) {
      if (o.contains("from") || o.contains("to")) return Bad(path, "use either within_days or from/to, not both");
      if (!w->is_int64() || w->as_int64() < 1 || w->as_int64() > kMaxWithinDays)
        return Bad(path + ".within_days", "must be a whole number from 1 to " + std::to_string(kMaxWithinDays));
      out.within_days = static_cast<int32_t>(w->as_int64());
      return Status::Ok();
    }
    KOI_RETURN_IF_ERROR(ParseDays(o, path, ParseDate, out));
    if (!out.from_day && !out.to_day) return Bad(path, "needs from, to or within_days");
    return Status::Ok();
  }

  // custom_value: a field id and a number range (min/max) or a date range (from/to).
  static Status ParseValueRange(const json::object& o, const std::string& path, Node& out) {
    const auto* id = o.if_contains("field_id");
    if (!id || !id->is_int64() || id->as_int64() < 1)  // (a uint64 is above every id)
      return Bad(path + ".field_id", "must be the id of a number or date custom field");
    out.field_id = id->as_int64();
    const bool numbers = o.contains("min") || o.contains("max"), dates = o.contains("from") || o.contains("to");
    if (numbers && dates) return Bad(path, "use min/max (a number field) or from/to (a date field), not both");
    if (!numbers && !dates) return Bad(path, "needs min or max (a number field), or from or to (a date field)");
    if (numbers) {
      for (const char* key : {"min", "max"}) {
        const auto* v = o.if_contains(key);
        if (!v) continue;
        if (!v->is_number() || std::abs(v->to_number<double>()) > kMaxCustomNumber)
          return Bad(path + "." + key, "must be a number of at most 15 digits");
        (std::string_view(key) == "min" ? out.min_value : out.max_value) = v->to_number<double>();
      }
      if (out.min_value && out.max_value && *out.min_value > *out.max_value)
        return Bad(path + ".max", "is below min");
      return Status::Ok();
    }
    return ParseDays(o, path, ParseDay, out);
  }

  // "from" and "to" (either may be absent) as days by `parse`; from must not be after to.
  static Status ParseDays(const json::object& o, const std::string& path,
                          std::optional<int32_t> (*parse)(std::string_view), Node& out) {
    for (const char* key : {"from", "to"}) {
      const auto* v = o.if_contains(key);
      if (!v) continue;
      std::optional<int32_t> day;
      if (v->is_string()) day = parse(std::string_view(v->as_string()));
      if (!day) return Bad(path + "." + key, "must be a date YYYY-MM-DD");
      (std::string_view(key) == "from" ? out.from_day : out.to_day) = day;
    }
    if (out.from_day && out.to_day && *out.from_day > *out.to_day) return Bad(path + ".to", "is before from");
    return Status::Ok();
  }

  size_t nodes_ = 0;
};

json::value ToJson(const Node& n) {
  json::object o;
  if (n.is_group) {
    o["op"] = n.is_and ? "and" : "or";
    json::array ch;
    for (const auto& c : n.children) ch.push_back(ToJson(c));
    o["children"] = std::move(ch);
  } else {
    const FieldInfo& info = InfoOf(n.field);
    o["field"] = info.name;
    if (info.has_match) o["match"] = n.match == Match::kAny ? "any" : n.match == Match::kAll ? "all" : "none";
    if (info.kind == FieldInfo::kTexts) {
      json::array a;
      for (const auto& s : n.texts) a.emplace_back(s);
      o["values"] = std::move(a);
    } else if (info.kind == FieldInfo::kNumbers) {
      json::array a;
      for (auto x : n.numbers) a.emplace_back(x);
      o["values"] = std::move(a);
    } else if (info.kind == FieldInfo::kValueRange) {
      o["field_id"] = n.field_id;
      // Whole numbers as integers (10, not 1E1).
      auto number = [](double x) -> json::value {
        if (std::floor(x) == x && std::abs(x) <= kMaxCustomNumber) return static_cast<int64_t>(x);
        return x;
      };
      if (n.min_value) o["min"] = number(*n.min_value);
      if (n.max_value) o["max"] = number(*n.max_value);
      if (n.from_day) o["from"] = FormatDay(*n.from_day);
      if (n.to_day) o["to"] = FormatDay(*n.to_day);
    } else if (info.kind == FieldInfo::kRange) {
      if (n.within_days) o["within_days"] = *n.within_days;
      if (n.from_day) o["from"] = FormatDay(*n.from_day);
      if (n.to_day) o["to"] = FormatDay(*n.to_day);
    } else {
      o["value"] = n.active ? "active" : "lost";
    }
  }
  if (n.negate) o["not"] = true;
  return o;
}

}  // namespace

std::string FormatDay(int32_t days) {
  int z = days + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int y = yoe + era * 400;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp + (mp < 10 ? 3 : -9);
  y += m <= 2;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::string_view FieldName(Field field) { return InfoOf(field).name; }

Result<Node> ParseRule(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Bad("rule", "is not valid JSON");
  Node root;
  Parser p;
  KOI_RETURN_IF_ERROR(p.ParseNode(v, "rule", 0, root));
  return root;
}

std::string SerializeRule(const Node& rule) { return json::serialize(ToJson(rule)); }

DayRange AddedRange(const Node& c, int32_t today) {
  if (c.within_days) return {today - *c.within_days + 1, today};
  return {c.from_day.value_or(0), c.to_day.value_or(std::numeric_limits<int32_t>::max() / 2)};
}

}  // namespace koi::segments
