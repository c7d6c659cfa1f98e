#include "rules/mass_quota.h"

#include <gtest/gtest.h>

#include <vector>

namespace koi::rules {
namespace {

// 2026-11-23 (a Monday) 10:00 UTC+8, and helpers to move by local days and hours.
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kMonday0 = 1'795'392'000'000 - 8 * kHour;  // 2026-11-23 00:00 UTC+8
constexpr int64_t kMonday10 = kMonday0 + 10 * kHour;

const RulePack& Pack(const char* name) {
  static std::vector<RulePack> packs = AllRulePacks();
  for (const auto& p : packs)
    if (p.name == name) return p;
  ADD_FAILURE() << name;
  return packs.front();
}

TEST(MassQuotaTest, OnePerNaturalDayResetsAtMidnightUtc8) {
  const auto& rules = Pack("wecom-2023").mass;  // enterprise and personal share 1 per day
  std::vector<Receipt> prior{{kMonday10 - 9 * kHour, MassKind::kEnterprise, 1}};  // 01:00 the same day
  EXPECT_EQ(MassQuota(rules, kMonday10).Check(MassKind::kEnterprise, 2, prior), QuotaVerdict::kOverDay);
  // A personal message shares the quota in this pack.
  EXPECT_EQ(MassQuota(rules, kMonday10).Check(MassKind::kPersonal, 2, prior), QuotaVerdict::kOverDay);
  // 23:59:59 the previous day does not count; 00:00 today does.
  std::vector<Receipt> yesterday{{kMonday10 - 10 * kHour - 1, MassKind::kEnterprise, 1}};
  EXPECT_EQ(MassQuota(rules, kMonday10).Check(MassKind::kEnterprise, 2, yesterday), QuotaVerdict::kAllowed);
  std::vector<Receipt> midnight{{kMonday10 - 10 * kHour, MassKind::kEnterprise, 1}};
  EXPECT_EQ(MassQuota(rules, kMonday10).Check(MassKind::kEnterprise, 2, midnight), QuotaVerdict::kOverDay);
  EXPECT_EQ(MassQuota(rules, kMonday10).horizon_ms(), kMonday10 - 10 * kHour);
}

TEST(MassQuotaTest, Wecom2020SeparatesEnterpriseWeeklyFromPersonalPerMemberDaily) {
  const auto& rules = Pack("wecom-2020").mass;
  std::vector<Receipt> prior{{kMonday10 - kHour, MassKind::kPersonal, 7}};
  MassQuota q(rules, kMonday10);
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 7, prior), QuotaVerdict::kAllowed);  // personal does not count
  EXPECT_EQ(q.Check(MassKind::kPersonal, 7, prior), QuotaVerdict::kOverDay);   // same member
  EXPECT_EQ(q.Check(MassKind::kPersonal, 8, prior), QuotaVerdict::kAllowed);   // another member
  // One enterprise message per natural week (Monday to Sunday): last Sunday does not count, this Monday does.
  std::vector<Receipt> sunday{{kMonday10 - 11 * kHour, MassKind::kEnterprise, 1}};
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 1, sunday), QuotaVerdict::kAllowed);
  std::vector<Receipt> monday{{kMonday10 - 10 * kHour, MassKind::kEnterprise, 1}};
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 1, monday), QuotaVerdict::kOverWeek);
  EXPECT_EQ(MassQuota(rules, kMonday10 + 6 * kDay).Check(MassKind::kEnterprise, 1, monday), QuotaVerdict::kOverWeek);
  EXPECT_EQ(MassQuota(rules, kMonday10 + 7 * kDay).Check(MassKind::kEnterprise, 1, monday), QuotaVerdict::kAllowed);
}

TEST(MassQuotaTest, Wecom2025AllowsDaysInMonthPerMonth) {
  const auto& rules = Pack("wecom-2025").mass;
  // November has 30 days: 29 earlier this month are fine, the 31st message is not.
  const int64_t nov1 = kMonday10 - 22 * kDay - 10 * kHour;  // 2026-11-01 00:00 UTC+8
  std::vector<Receipt> prior;
  for (int i = 0; i < 29; ++i) prior.push_back({nov1 + i * kHour, MassKind::kEnterprise, 1});
  MassQuota q(rules, kMonday10);
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 1, prior), QuotaVerdict::kAllowed);
  prior.push_back({nov1 - 1, MassKind::kPersonal, 1});  // October: outside
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 1, prior), QuotaVerdict::kAllowed);
  prior.push_back({nov1 + 40 * kHour, MassKind::kPersonal, 2});  // personal shares the quota
  EXPECT_EQ(q.Check(MassKind::kEnterprise, 1, prior), QuotaVerdict::kOverMonth);
  EXPECT_EQ(q.horizon_ms(), nov1);
}

TEST(MassQuotaTest, OverridesAndGroups) {
  auto seven = ApplyOverrides(Pack("wecom-2025"), {{"mass.customer_enterprise.days_in_month", 0},
                                                   {"mass.customer_enterprise.limit", 7},
                                                   {"mass.customer_enterprise.period", 1}});
  ASSERT_TRUE(seven.ok());
  std::vector<Receipt> prior;
  for (int i = 0; i < 7; ++i) prior.push_back({kMonday10 + i * kHour, MassKind::kEnterprise, 1});
  EXPECT_EQ(MassQuota(seven->mass, kMonday10 + 8 * kHour).Check(MassKind::kEnterprise, 1, prior),
            QuotaVerdict::kOverWeek);
  prior.pop_back();
  EXPECT_EQ(MassQuota(seven->mass, kMonday10 + 8 * kHour).Check(MassKind::kEnterprise, 1, prior),
            QuotaVerdict::kAllowed);
  // Groups: wecom-2023 allows one per day, wecom-2020 states no group rule.
  std::vector<Receipt> one{{kMonday10, MassKind::kPersonal, 3}};
  EXPECT_EQ(MassQuota(Pack("wecom-2023").mass, kMonday10 + kHour).CheckGroup(one), QuotaVerdict::kOverDay);
  EXPECT_EQ(MassQuota(Pack("wecom-2020").mass, kMonday10 + kHour).CheckGroup(one), QuotaVerdict::kAllowed);
  EXPECT_EQ(QuotaVerdictName(QuotaVerdict::kOverMonth), "over_month_limit");
  EXPECT_EQ(QuotaVerdictName(QuotaVerdict::kAllowed), "");
}

}  // namespace
}  // namespace koi::rules
