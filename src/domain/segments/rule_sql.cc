#include "domain/segments/rule_sql.h"

#include <set>

namespace koi::segments {
using storage::Value;
namespace {

class SqlWriter {
 public:
  SqlWriter(const EvalContext& ctx, std::vector<Value>& params) : ctx_(ctx), params_(params) {}

  std::string Node(const segments::Node& n) {
    std::string e = n.is_group ? Group(n) : Condition(n);
    return n.negate ? "NOT (" + e + ")" : e;
  }

 private:
  std::string Group(const segments::Node& n) {
    if (n.children.empty()) return "1 = 1";
    std::string out;
    for (const auto& c : n.children) {
      if (!out.empty()) out += n.is_and ? " AND " : " OR ";
      out += "(" + Node(c) + ")";
    }
    return out;
  }

  std::string Texts(const std::vector<std::string>& values) { return storage::InList(params_, values); }
  std::string Numbers(const std::vector<int64_t>& values) { return storage::InList(params_, values); }

  // An active relationship of the customer satisfying `pred` (on f).
  static std::string ActiveFollow(const std::string& pred) {
    return "EXISTS (SELECT 1 FROM wecom_follows f WHERE f.team_id = c.team_id AND f.external_userid = "
           "c.external_userid AND f.deleted_at IS NULL" + (pred.empty() ? "" : " AND " + pred) + ")";
  }
  std::string TaggedAny(const std::vector<std::string>& tags) {
    return "EXISTS (SELECT 1 FROM wecom_follow_tags t JOIN wecom_follows f ON f.team_id = t.team_id AND f.userid = "
           "t.userid AND f.external_userid = t.external_userid AND f.deleted_at IS NULL WHERE t.team_id = c.team_id "
           "AND t.external_userid = c.external_userid AND t.tag_id IN (" + Texts(tags) + "))";
  }
  std::string PersonalAny(const std::vector<int64_t>& tags) {
    return "EXISTS (SELECT 1 FROM personal_tag_customers p WHERE p.team_id = c.team_id AND p.external_userid = "
           "c.external_userid AND p.tag_id IN (" + Numbers(tags) + "))";
  }
  std::string OptionAny(const std::vector<int64_t>& options) {
    return "EXISTS (SELECT 1 FROM customer_field_values v WHERE v.team_id = c.team_id AND v.external_userid = "
           "c.external_userid AND v.option_id IN (" + Numbers(options) + "))";
  }
  template <typename T, typename One>
  std::string Matching(const std::vector<T>& values, Match match, One one) {
    if (match == Match::kAny) return one(values);
    if (match == Match::kNone) return "NOT " + one(values);
    std::string out;
    for (const auto& v : values) {
      if (!out.empty()) out += " AND ";
      out += one(std::vector<T>{v});
    }
    return out;
  }

  std::string Condition(const segments::Node& n) {
    switch (n.field) {
      case Field::kCorpTag:
        return Matching(n.texts, n.match, [this](const std::vector<std::string>& v) { return TaggedAny(v); });
      case Field::kPersonalTag:
        return Matching(n.numbers, n.match, [this](const std::vector<int64_t>& v) { return PersonalAny(v); });
      case Field::kCustomField:
        return Matching(n.numbers, n.match, [this](const std::vector<int64_t>& v) { return OptionAny(v); });
      case Field::kEmployee: return ActiveFollow("f.userid IN (" + Texts(n.texts) + ")");
      case Field::kDepartment: {
        std::set<std::string> users;
        for (auto d : n.numbers) {
          auto it = ctx_.department_employees.find(d);
          if (it != ctx_.department_employees.end()) users.insert(it->second.begin(), it->second.end());
        }
        if (users.empty()) return "1 = 0";
        return ActiveFollow("f.userid IN (" + Texts({users.begin(), users.end()}) + ")");
      }
      case Field::kAdded: {
        DayRange r = AddedRange(n, ctx_.today);
        if (r.from > r.to) return "1 = 0";
        std::string pred;
        if (r.from > 0) {
          pred = "f.createtime >= ?";
          params_.emplace_back(std::in_place_type<int64_t>, DayStartSeconds(r.from));
        }
        if (r.to < std::numeric_limits<int32_t>::max() / 2) {
          pred += std::string(pred.empty() ? "" : " AND ") + "f.createtime < ?";
          params_.emplace_back(std::in_place_type<int64_t>, DayStartSeconds(r.to + 1));
        }
        return ActiveFollow(pred);
      }
      case Field::kAddWay: return ActiveFollow("f.add_way IN (" + Numbers(n.numbers) + ")");
      case Field::kChannelState: return ActiveFollow("f.state IN (" + Texts(n.texts) + ")");
      case Field::kGender: return "c.gender IN (" + Numbers(n.numbers) + ")";
      case Field::kStage: {
        std::vector<int64_t> ids;
        bool none = false;
        for (auto s : n.numbers) {
          if (s == 0) none = true;
          else ids.push_back(s);
        }
        std::string out;
        if (!ids.empty())
          out = "EXISTS (SELECT 1 FROM customer_profiles s WHERE s.team_id = c.team_id AND s.external_userid = "
                "c.external_userid AND s.stage_id IN (" + Numbers(ids) + "))";
        if (none)
          out += std::string(out.empty() ? "" : " OR ") +
                 "NOT EXISTS (SELECT 1 FROM customer_profiles s WHERE s.team_id = c.team_id AND s.external_userid = "
                 "c.external_userid AND s.stage_id IS NOT NULL)";
        return out;
      }
      case Field::kGroup:
        return "EXISTS (SELECT 1 FROM wecom_group_members m WHERE m.team_id = c.team_id AND m.member_id = "
               "c.external_userid AND m.chat_id IN (" + Texts(n.texts) + "))";
      case Field::kStatus: return n.active ? ActiveFollow("") : "NOT " + ActiveFollow("");
      case Field::kCustomValue: {
        // Values are stored normalised: numbers as decimal text ("7.5"), dates as YYYY-MM-DD (text order is date
        // order). The CASE keeps the cast to the field's own rows whatever order the planner evaluates in.
        std::string pred = "EXISTS (SELECT 1 FROM customer_field_values v WHERE v.team_id = c.team_id AND "
                           "v.external_userid = c.external_userid AND v.field_id = ? AND v.option_id = 0";
        params_.emplace_back(std::in_place_type<int64_t>, n.field_id);
        auto bound = [&](const char* op, double x) {
          pred += std::string(" AND CASE WHEN v.field_id = ? THEN CAST(v.value AS DOUBLE PRECISION) END ") + op + " ?";
          params_.emplace_back(std::in_place_type<int64_t>, n.field_id);
          params_.emplace_back(std::in_place_type<double>, x);
        };
        if (n.min_value) bound(">=", *n.min_value);
        if (n.max_value) bound("<=", *n.max_value);
        if (n.from_day) {
          pred += " AND v.value >= ?";
          params_.emplace_back(std::in_place_type<std::string>, FormatDay(*n.from_day));
        }
        if (n.to_day) {
          pred += " AND v.value <= ?";
          params_.emplace_back(std::in_place_type<std::string>, FormatDay(*n.to_day));
        }
        return pred + ")";
      }
    }
    return "1 = 0";
  }

  const EvalContext& ctx_;
  std::vector<Value>& params_;
};

}  // namespace

std::string RuleToSql(const Node& rule, const EvalContext& ctx, std::vector<Value>& params) {
  SqlWriter w(ctx, params);
  std::string e = "(" + w.Node(rule) + ")";
  if (ctx.scope_userids) {
    if (ctx.scope_userids->empty()) return "1 = 0";
    const std::string marks = storage::InList(params, *ctx.scope_userids);
    e += " AND EXISTS (SELECT 1 FROM wecom_follows g WHERE g.team_id = c.team_id AND g.external_userid = "
         "c.external_userid AND g.userid IN (" + marks + "))";
  }
  return e;
}

}  // namespace koi::segments
