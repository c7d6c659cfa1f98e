#include "domain/segments/rule.h"

#include <gtest/gtest.h>

namespace koi::segments {
namespace {

std::string ErrorOf(std::string_view json) {
  auto r = ParseRule(json);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.status().reason(), "invalid_segment_rule");
  return r.status().message();
}

TEST(SegmentRuleTest, ParsesNestedGroupsAndWritesTheCanonicalForm) {
  auto r = ParseRule(R"({"op":"and","children":[
      {"field":"corp_tag","match":"all","values":["et1","et2","et1"]},
      {"op":"or","not":true,"children":[{"field":"stage","values":[3,0]},{"field":"gender","values":[2]}]},
      {"field":"added","from":"2026-01-01","to":"2026-03-31"},
      {"field":"added","within_days":30},
      {"field":"status","value":"lost","not":true}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->is_group);
  ASSERT_EQ(r->children.size(), 5u);
  EXPECT_EQ(r->children[0].texts, (std::vector<std::string>{"et1", "et2"}));  // duplicates dropped
  EXPECT_EQ(r->children[0].match, Match::kAll);
  EXPECT_TRUE(r->children[1].negate);
  EXPECT_FALSE(r->children[1].is_and);
  EXPECT_EQ(r->children[1].children[1].path, "rule.children[1].children[1]");
  EXPECT_EQ(r->children[2].from_day, 20454);  // 2026-01-01
  EXPECT_EQ(FormatDay(*r->children[2].to_day), "2026-03-31");
  EXPECT_FALSE(r->children[4].active);

  const std::string canonical = SerializeRule(*r);
  auto again = ParseRule(canonical);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeRule(*again), canonical);
  EXPECT_NE(canonical.find(R"("from":"2026-01-01")"), std::string::npos);
}

TEST(SegmentRuleTest, PointsAtTheBadNode) {
  EXPECT_EQ(ErrorOf("{"), "rule: is not valid JSON");
  EXPECT_EQ(ErrorOf("[]"), "rule: must be an object (a group with \"op\" or a condition with \"field\")");
  EXPECT_EQ(ErrorOf(R"({"op":"and","children":[{"field":"colour","values":["red"]}]})").substr(0, 34),
            "rule.children[0].field: unknown fi");
  EXPECT_EQ(ErrorOf(R"({"op":"and","children":[{"op":"or","children":[{"field":"corp_tag","values":[]}]}]})"),
            "rule.children[0].children[0].values: must be a non-empty list");
  EXPECT_EQ(ErrorOf(R"({"op":"xor","children":[]})"), "rule.op: must be \"and\" or \"or\"");
  EXPECT_EQ(ErrorOf(R"({"field":"corp_tag","match":"most","values":["a"]})"),
            "rule.match: must be \"any\", \"all\" or \"none\"");
  EXPECT_EQ(ErrorOf(R"({"field":"gender","values":[3]})"), "rule.values[0]: gender is 0 (unknown), 1 (male) or 2 (female)");
  EXPECT_EQ(ErrorOf(R"({"field":"stage","values":["a"]})"), "rule.values[0]: must be a whole number");
  EXPECT_EQ(ErrorOf(R"({"field":"added","from":"2026-02-30"})"), "rule.from: must be a date YYYY-MM-DD");
  EXPECT_EQ(ErrorOf(R"({"field":"added","from":"2026-03-02","to":"2026-03-01"})"), "rule.to: is before from");
  EXPECT_EQ(ErrorOf(R"({"field":"added","within_days":0})"), "rule.within_days: must be a whole number from 1 to 3660");
  EXPECT_EQ(ErrorOf(R"({"field":"added","within_days":3,"from":"2026-01-01"})"),
            "rule: use either within_days or from/to, not both");
  EXPECT_EQ(ErrorOf(R"({"field":"status","value":"gone"})"), "rule.value: must be \"active\" or \"lost\"");
  EXPECT_EQ(ErrorOf(R"({"field":"employee","values":["a"],"colour":1})"), "rule.colour: unknown key for this node");
  EXPECT_EQ(ErrorOf(R"({"op":"and","field":"gender","children":[]})"),
            "rule: needs exactly one of \"op\" (a group) and \"field\" (a condition)");
  EXPECT_EQ(ErrorOf(R"({"op":"and","children":[{"op":"or","children":[]}]})"),
            "rule.children[0].children: a nested group needs at least one condition");
  std::string deep = R"({"field":"gender","values":[1]})";
  for (int i = 0; i < 7; ++i) deep = R"({"op":"and","children":[)" + deep + "]}";
  EXPECT_NE(ErrorOf(deep).find("groups nest at most 6 deep"), std::string::npos);
  EXPECT_EQ(ErrorOf(R"({"op":"and","children":[]})"), "ok");  // the empty root: everyone
}

TEST(SegmentRuleTest, CustomValuesTakeANumberOrADateRange) {
  auto r = ParseRule(R"({"op":"and","children":[{"field":"custom_value","field_id":4,"min":10,"max":99.5},
      {"field":"custom_value","field_id":5,"from":"1988-02-29","not":true},{"field":"custom_value","field_id":4,"max":-1}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->children[0].field_id, 4);
  EXPECT_EQ(r->children[0].min_value, 10);
  EXPECT_EQ(r->children[0].max_value, 99.5);
  EXPECT_EQ(FormatDay(*r->children[1].from_day), "1988-02-29");  // birthdays before 1970 are fine here
  EXPECT_FALSE(r->children[1].to_day);
  const std::string canonical = SerializeRule(*r);
  EXPECT_NE(canonical.find(R"("field_id":4,"min":10,"max":9.95E1)"), std::string::npos) << canonical;
  EXPECT_EQ(SerializeRule(ParseRule(canonical).value()), canonical);

  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","min":1})"),
            "rule.field_id: must be the id of a number or date custom field");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":18446744073709551615,"min":1})"),
            "rule.field_id: must be the id of a number or date custom field");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":4})"),
            "rule: needs min or max (a number field), or from or to (a date field)");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":4,"min":1,"to":"2026-01-01"})"),
            "rule: use min/max (a number field) or from/to (a date field), not both");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":4,"min":"1"})"), "rule.min: must be a number of at most 15 digits");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":4,"max":1e16})"), "rule.max: must be a number of at most 15 digits");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":4,"min":5,"max":4})"), "rule.max: is below min");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":5,"from":"2026-13-01"})"), "rule.from: must be a date YYYY-MM-DD");
  EXPECT_EQ(ErrorOf(R"({"field":"custom_value","field_id":5,"from":"2026-02-02","to":"2026-02-01"})"),
            "rule.to: is before from");
  EXPECT_EQ(ErrorOf(R"({"field":"added","from":"1969-12-31"})"), "rule.from: must be a date YYYY-MM-DD");
}

TEST(SegmentRuleTest, DaysAreChinaCalendarDays) {
  // 2026-01-01 00:00 in UTC+8 is 2025-12-31 16:00 UTC (1767196800).
  EXPECT_EQ(DayOf(1767196800), 20454);
  EXPECT_EQ(DayOf(1767196799), 20453);
  EXPECT_EQ(DayStartSeconds(20454), 1767196800);
  Node within;
  within.field = Field::kAdded;
  within.within_days = 7;
  DayRange r = AddedRange(within, 20460);
  EXPECT_EQ(r.from, 20454);
  EXPECT_EQ(r.to, 20460);
  EXPECT_EQ(FormatDay(0), "1970-01-01");
  EXPECT_EQ(FormatDay(20513), "2026-03-01");
}

}  // namespace
}  // namespace koi::segments
