#include "rules/rule_pack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace koi::rules {
namespace {

// Instants are written out as UTC+8 wall-clock times and were computed independently of the code under test
// (`date -d '2026-11-30 23:59:59 +0800' +%s`), so a wrong offset or week start cannot hide behind a shared helper.
constexpr int64_t Ms(int64_t unix_seconds) { return unix_seconds * 1000; }
constexpr int64_t kDayMs = 86'400'000;

constexpr int64_t k20261101 = Ms(1793462400);      // 2026-11-01 00:00 +08, Sunday
constexpr int64_t k20261123 = Ms(1795363200);      // 2026-11-23 00:00 +08, Monday
constexpr int64_t k20261129Late = Ms(1795967999);  // 2026-11-29 23:59:59 +08, Sunday
constexpr int64_t k20261130 = Ms(1795968000);      // 2026-11-30 00:00 +08, Monday
constexpr int64_t k20261130Late = Ms(1796054399);  // 2026-11-30 23:59:59 +08
constexpr int64_t k20261201 = Ms(1796054400);      // 2026-12-01 00:00 +08 (= 2026-11-30 16:00 UTC)
constexpr int64_t k20261207 = Ms(1796572800);      // 2026-12-07 00:00 +08, Monday
constexpr int64_t k20261228 = Ms(1798387200);      // 2026-12-28 00:00 +08, Monday
constexpr int64_t k20270101 = Ms(1798732800);      // 2027-01-01 00:00 +08, Friday
constexpr int64_t k20270103Noon = Ms(1798948800);  // 2027-01-03 12:00 +08, Sunday
constexpr int64_t k20270104 = Ms(1798992000);      // 2027-01-04 00:00 +08, Monday

TEST(PeriodWindow, DayFlipsAtMidnightUtc8NotUtc) {
  EXPECT_EQ(PeriodWindow(Period::kDay, k20261130Late), (Window{k20261130, k20261201}));
  EXPECT_EQ(PeriodWindow(Period::kDay, k20261201), (Window{k20261201, k20261201 + kDayMs}));
  EXPECT_EQ(PeriodWindow(Period::kDay, k20261201 - 1), (Window{k20261130, k20261201}));
  // 2026-11-30 20:00 UTC is already 2026-12-01 04:00 +08; 15:59:59 UTC is still the 30th.
  EXPECT_EQ(PeriodWindow(Period::kDay, k20261201 + 4 * 3'600'000).start_ms, k20261201);
  EXPECT_EQ(PeriodWindow(Period::kDay, k20261201 - 1000).start_ms, k20261130);
}

TEST(PeriodWindow, MonthFlipsAtMidnightUtc8) {
  EXPECT_EQ(PeriodWindow(Period::kMonth, k20261130Late), (Window{k20261101, k20261201}));
  EXPECT_EQ(PeriodWindow(Period::kMonth, k20261201), (Window{k20261201, k20270101}));
  EXPECT_EQ(PeriodWindow(Period::kMonth, k20270101 - 1), (Window{k20261201, k20270101}));
  EXPECT_EQ(PeriodWindow(Period::kMonth, k20270101).start_ms, k20270101);
  EXPECT_EQ(DaysInMonth(k20261130Late), 30);
  EXPECT_EQ(DaysInMonth(k20261201), 31);
}

TEST(PeriodWindow, WeeksStartOnMondayUtc8) {
  // Sunday 23:59:59 belongs to the week that started the Monday before; Monday 00:00 starts a new one.
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261129Late), (Window{k20261123, k20261130}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261130), (Window{k20261130, k20261207}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261130Late), (Window{k20261130, k20261207}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261201), (Window{k20261130, k20261207}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261207 - 1), (Window{k20261130, k20261207}));
  // Monday 00:00 +08 is Sunday 16:00 UTC: a UTC week would still be the old one.
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20261130 + 1), (Window{k20261130, k20261207}));
  // Across a year boundary.
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20270101), (Window{k20261228, k20270104}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20270103Noon), (Window{k20261228, k20270104}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, k20270104).start_ms, k20270104);
}

TEST(PeriodWindow, BeforeTheEpochRoundsDown) {
  // 1970-01-01 00:00 +08 is -8 h; 1969-12-31 00:00 +08 is -32 h; 1969-12-29 was a Monday.
  EXPECT_EQ(PeriodWindow(Period::kDay, -1), (Window{Ms(-28800), Ms(-28800) + kDayMs}));
  EXPECT_EQ(PeriodWindow(Period::kDay, Ms(-28800) - 1), (Window{Ms(-115200), Ms(-28800)}));
  EXPECT_EQ(PeriodWindow(Period::kWeek, 0), (Window{Ms(-288000), Ms(316800)}));
  EXPECT_EQ(DaysInMonth(Ms(-28800) - 1), 31);  // December 1969
}

TEST(DaysInMonth, FebruaryInLeapAndCommonYears) {
  EXPECT_EQ(PeriodWindow(Period::kMonth, Ms(1706716800) + 5 * kDayMs),
            (Window{Ms(1706716800), Ms(1709222400)}));  // February 2024
  EXPECT_EQ(DaysInMonth(Ms(1706716800)), 29);           // 2024-02-01 00:00 +08
  EXPECT_EQ(DaysInMonth(Ms(1709222399)), 29);           // 2024-02-29 23:59:59 +08
  EXPECT_EQ(DaysInMonth(Ms(1709222400)), 31);           // 2024-03-01 00:00 +08
  EXPECT_EQ(DaysInMonth(Ms(1769875200)), 28);           // 2026-02-01
  EXPECT_EQ(DaysInMonth(Ms(1772294400) - 1), 28);       // 2026-02-28 23:59:59
  EXPECT_EQ(DaysInMonth(Ms(950587200)), 29);            // 2000-02-15: divisible by 400
  EXPECT_EQ(DaysInMonth(Ms(4105094400)), 28);           // 2100-02-01: divisible by 100, not by 400
  EXPECT_EQ(PeriodWindow(Period::kMonth, Ms(4105094400)), (Window{Ms(4105094400), Ms(4107513600)}));
}

TEST(Quota, LimitAtFollowsTheDaysOfTheMonth) {
  const Quota q = Quota::MonthDays();
  EXPECT_EQ(q.LimitAt(Ms(1769875200)), 28);  // February 2026
  EXPECT_EQ(q.LimitAt(Ms(1706716800)), 29);  // February 2024
  EXPECT_EQ(q.LimitAt(k20261130Late), 30);   // November 2026, last second
  EXPECT_EQ(q.LimitAt(k20261201), 31);       // December 2026, first second
  EXPECT_EQ(q.LimitAt(Ms(1777564799)), 30);  // 2026-04-30 23:59:59 +08
  EXPECT_EQ(q.LimitAt(Ms(1777564800)), 31);  // 2026-05-01 00:00 +08
}

TEST(Quota, FixedAndOffLimits) {
  EXPECT_EQ(Quota::Fixed(7, Period::kWeek).LimitAt(Ms(1769875200)), 7);
  EXPECT_EQ(Quota::Fixed(0, Period::kDay).LimitAt(k20261201), 0);
  EXPECT_EQ(Quota::Off().LimitAt(k20261201), kUnlimited);
  EXPECT_EQ(Quota().LimitAt(k20261201), kUnlimited);  // a default quota is off
  Quota disabled = Quota::MonthDays();
  disabled.enabled = false;
  EXPECT_EQ(disabled.LimitAt(k20261201), kUnlimited);
  EXPECT_EQ(PeriodName(Period::kWeek), "week");
}

TEST(RulePacks, AllFoundByNameOldestFirst) {
  const auto& packs = AllRulePacks();
  ASSERT_EQ(packs.size(), 3u);
  EXPECT_EQ(packs[0].name, "wecom-2020");
  EXPECT_EQ(packs[1].name, "wecom-2023");
  EXPECT_EQ(packs[2].name, "wecom-2025");
  for (const RulePack& pack : packs) {
    Result<RulePack> found = FindRulePack(pack.name);
    ASSERT_TRUE(found.ok()) << pack.name;
    EXPECT_EQ(*found, pack);
    EXPECT_FALSE(pack.title.empty());
    EXPECT_FALSE(pack.source.empty());
  }
  EXPECT_EQ(DefaultRulePack().name, "wecom-2025");

  Result<RulePack> missing = FindRulePack("wecom-1999");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().reason(), "rule_pack_not_found");
  EXPECT_FALSE(FindRulePack("WECOM-2025").ok());
  EXPECT_FALSE(FindRulePack("").ok());
}

TEST(RulePacks, Wecom2020WeeklyEnterpriseAndDailyPersonalPerMember) {
  const RulePack p = FindRulePack("wecom-2020").value();
  EXPECT_EQ(p.mass.customer_enterprise, Quota::Fixed(1, Period::kWeek));
  EXPECT_EQ(p.mass.customer_personal, Quota::Fixed(1, Period::kDay));
  EXPECT_TRUE(p.mass.personal_counted_per_member);
  EXPECT_FALSE(p.mass.personal_shares_enterprise_quota);
  EXPECT_FALSE(p.mass.group.enabled);
  EXPECT_EQ(p.mass.max_attachments, 1);
  EXPECT_TRUE(p.mass.text_with_attachment_counts_as_two);
  EXPECT_EQ(p.mass.attachment_kinds.size(), 3u);
  EXPECT_EQ(p.moments.customer_member, Quota::Fixed(1, Period::kDay));
  EXPECT_EQ(p.moments.customer_enterprise, Quota::Fixed(4, Period::kMonth));
  EXPECT_FALSE(p.moments.member_shares_enterprise_quota);
  EXPECT_EQ(p.moments.not_interested_hide_seconds, 7 * 86400);
  EXPECT_TRUE(p.moments.requires_verified_corp);
  EXPECT_EQ(p.moments.min_daily_active_members, 51);
  EXPECT_EQ(p.capacity.corp_verified, kUnlimited);
  EXPECT_EQ(p.capacity.member, 50'000);
  EXPECT_EQ(p.capacity.member_expanded, 250'000);
  EXPECT_EQ(p.capacity.group_size, 20);
  EXPECT_EQ(p.capacity.group_size_upgraded, 100);
  EXPECT_EQ(p.capacity.group_size_external_owner, 20);
  EXPECT_FALSE(p.friends.active_new.enabled);
  EXPECT_EQ(p.friends.passive_new, Quota::Fixed(300, Period::kDay));
  // The weekly quota resets on Monday 00:00 +08.
  EXPECT_EQ(PeriodWindow(p.mass.customer_enterprise.period, k20261201).start_ms, k20261130);
}

TEST(RulePacks, Wecom2023SharesOneDailyQuota) {
  const RulePack p = FindRulePack("wecom-2023").value();
  EXPECT_EQ(p.mass.customer_enterprise, Quota::Fixed(1, Period::kDay));
  EXPECT_TRUE(p.mass.personal_shares_enterprise_quota);
  EXPECT_FALSE(p.mass.customer_personal.enabled);
  EXPECT_FALSE(p.mass.personal_counted_per_member);
  EXPECT_EQ(p.mass.group, Quota::Fixed(1, Period::kDay));
  EXPECT_EQ(p.mass.max_attachments, 9);  // not stated: the API's
  EXPECT_FALSE(p.mass.text_with_attachment_counts_as_two);
  EXPECT_EQ(p.moments.customer_enterprise, Quota::Fixed(3, Period::kDay));
  EXPECT_TRUE(p.moments.member_shares_enterprise_quota);
  EXPECT_FALSE(p.moments.customer_member.enabled);
  EXPECT_FALSE(p.moments.requires_verified_corp);
  EXPECT_EQ(p.capacity.corp_unverified, 200);
  EXPECT_EQ(p.capacity.corp_verified, 50'000);
  EXPECT_TRUE(p.capacity.corp_expandable);
  EXPECT_EQ(p.friends.active_new, Quota::Fixed(60, Period::kDay));
  EXPECT_EQ(p.friends.active_established, Quota::Fixed(100, Period::kDay));
  EXPECT_EQ(p.friends.passive_new, Quota::Fixed(200, Period::kDay));
  EXPECT_EQ(p.friends.passive_established, Quota::Fixed(800, Period::kDay));
  EXPECT_EQ(p.friends.new_account_days, 30);
  EXPECT_EQ(p.friends.burst_passive_max, 60);
  EXPECT_EQ(p.friends.burst_passive_window_seconds, 60);
  EXPECT_EQ(p.friends.burst_active_max, 40);
  EXPECT_EQ(p.friends.burst_active_window_seconds, 3600);
  EXPECT_EQ(p.friends.burst_restrict_seconds, 86400);
}

TEST(RulePacks, Wecom2025CountsDaysInMonth) {
  const RulePack& p = DefaultRulePack();
  EXPECT_EQ(p.mass.customer_enterprise, Quota::MonthDays());
  EXPECT_EQ(p.mass.customer_enterprise.LimitAt(Ms(1769875200)), 28);
  EXPECT_EQ(p.mass.customer_enterprise.LimitAt(k20261201), 31);
  EXPECT_TRUE(p.mass.personal_shares_enterprise_quota);
  EXPECT_EQ(p.mass.group, Quota::MonthDays());
  EXPECT_EQ(p.mass.max_attachments, 9);
  EXPECT_EQ(p.mass.attachment_kinds.size(), 5u);
  EXPECT_EQ(p.mass.max_recipients_per_call, 10'000);
  EXPECT_EQ(p.mass.max_reminders, 3);
  EXPECT_EQ(p.mass.reminder_window_seconds, 86400);
  // Moments per customer and §4: keep wecom-2023 values.
  const RulePack y2023 = FindRulePack("wecom-2023").value();
  EXPECT_EQ(p.moments.customer_enterprise, y2023.moments.customer_enterprise);
  EXPECT_EQ(p.moments.member_shares_enterprise_quota, y2023.moments.member_shares_enterprise_quota);
  EXPECT_EQ(p.friends, y2023.friends);
  EXPECT_EQ(p.moments.tasks_per_minute, 10);
  EXPECT_EQ(p.moments.text_max_chars, 2'000);
  EXPECT_EQ(p.moments.max_images, 9);
  EXPECT_EQ(p.moments.max_videos, 1);
  EXPECT_EQ(p.moments.max_links, 1);
  EXPECT_EQ(p.capacity.corp_unverified, 200);
  EXPECT_EQ(p.capacity.corp_verified, 50'000);
  EXPECT_EQ(p.capacity.member, 5'000);
  EXPECT_EQ(p.capacity.member_expanded, 20'000);
  EXPECT_EQ(p.capacity.group_size, 500);
  EXPECT_EQ(p.capacity.group_qr_join_max, 200);
  EXPECT_EQ(p.transfers.customers_per_call, 100);
  EXPECT_EQ(p.transfers.transfers_per_customer, 2);
  EXPECT_EQ(p.transfers.transfer_window_days, 90);
  EXPECT_EQ(p.transfers.groups_per_owner, Quota::Fixed(300, Period::kDay));
  EXPECT_EQ(p.transfers.takeover_delay_seconds, 86400);
  EXPECT_EQ(p.api.corp_calls_per_minute, 10'000);
  EXPECT_EQ(p.api.corp_calls_per_hour, 150'000);
  EXPECT_EQ(p.api.minute_block_seconds, 60);
  EXPECT_EQ(p.api.hour_block_seconds, 3600);
  EXPECT_EQ(p.api.corp_tags_max, 3'000);
  EXPECT_EQ(p.api.tag_name_max_chars, 30);
  EXPECT_EQ(p.api.contact_ways_max, 500'000);
  EXPECT_EQ(p.api.state_max_chars, 30);
  EXPECT_EQ(p.api.welcome_code_valid_seconds, 20);
}

TEST(RulePacks, EveryPackIsValidAsIs) {
  for (const RulePack& pack : AllRulePacks()) {
    Result<RulePack> same = ApplyOverrides(pack, {});
    ASSERT_TRUE(same.ok()) << pack.name << ": " << same.status().ToString();
    EXPECT_EQ(*same, pack);
  }
}

TEST(Overrides, Wecom2025AdminSwitchesToSevenPerWeek) {
  Result<RulePack> p = ApplyOverrides(DefaultRulePack(), {{"mass.customer_enterprise.days_in_month", 0},
                                                          {"mass.customer_enterprise.limit", 7},
                                                          {"mass.customer_enterprise.period", 1}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->mass.customer_enterprise, Quota::Fixed(7, Period::kWeek));
  EXPECT_EQ(p->mass.customer_enterprise.LimitAt(Ms(1769875200)), 7);  // no longer 28 in February
  EXPECT_EQ(p->name, "wecom-2025");
  EXPECT_EQ(p->mass.group, Quota::MonthDays());  // only the keys given change
}

TEST(Overrides, Wecom2025AdminSwitchesToOnePerDay) {
  Result<RulePack> p = ApplyOverrides(DefaultRulePack(), {{"mass.customer_enterprise.days_in_month", 0},
                                                          {"mass.customer_enterprise.limit", 1},
                                                          {"mass.customer_enterprise.period", 0}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->mass.customer_enterprise, Quota::Fixed(1, Period::kDay));
  EXPECT_EQ(PeriodWindow(p->mass.customer_enterprise.period, k20261130Late), (Window{k20261130, k20261201}));
}

TEST(Overrides, SingleValuesAndFlags) {
  Result<RulePack> p = ApplyOverrides(FindRulePack("wecom-2023").value(), {{"capacity.corp_verified", 100'000},
                                                                           {"mass.customer_enterprise.limit", 4},
                                                                           {"mass.customer_enterprise.period", 2},
                                                                           {"moments.requires_verified_corp", 1},
                                                                           {"friends.active_new.enabled", 0},
                                                                           {"api.corp_tags_max", 0}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->capacity.corp_verified, 100'000);
  EXPECT_EQ(p->mass.customer_enterprise, Quota::Fixed(4, Period::kMonth));
  EXPECT_TRUE(p->moments.requires_verified_corp);
  EXPECT_FALSE(p->friends.active_new.enabled);
  EXPECT_EQ(p->friends.active_new.LimitAt(k20261201), kUnlimited);
  EXPECT_EQ(p->api.corp_tags_max, 0);
  EXPECT_EQ(p->capacity.corp_unverified, 200);  // untouched
}

void ExpectRefused(const std::map<std::string, int64_t>& overrides, const std::string& key) {
  Result<RulePack> p = ApplyOverrides(DefaultRulePack(), overrides);
  ASSERT_FALSE(p.ok()) << key;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(p.status().reason(), "invalid_rule_override");
  EXPECT_NE(p.status().message().find(key), std::string::npos) << p.status().message();
}

TEST(Overrides, RefusesUnknownKeysAndBadValues) {
  ExpectRefused({{"capacity.corp_verifed", 1}}, "capacity.corp_verifed");
  ExpectRefused({{"mass.customer_enterprise", 1}}, "mass.customer_enterprise");  // a quota needs a part
  ExpectRefused({{"mass.customer_enterprise.size", 1}}, "mass.customer_enterprise.size");
  ExpectRefused({{"mass.group_x", 1}}, "mass.group_x");
  ExpectRefused({{"name", 1}}, "name");
  ExpectRefused({{"", 1}}, "\"\"");
  ExpectRefused({{"capacity.corp_verified", -1}}, "capacity.corp_verified");
  ExpectRefused({{"mass.customer_enterprise.limit", -7}}, "mass.customer_enterprise.limit");
  ExpectRefused({{"mass.customer_enterprise.period", 3}}, "mass.customer_enterprise.period");
  ExpectRefused({{"mass.customer_enterprise.enabled", 2}}, "mass.customer_enterprise.enabled");
  ExpectRefused({{"capacity.corp_expandable", 5}}, "capacity.corp_expandable");
  // A good key does not excuse a bad one beside it.
  ExpectRefused({{"capacity.corp_verified", 10}, {"capacity.nope", 1}}, "capacity.nope");
}

TEST(Overrides, RefusesDaysInMonthOnAWeek) {
  // Switching only the period leaves days_in_month on: refused, naming the key to change.
  ExpectRefused({{"mass.customer_enterprise.period", 1}}, "mass.customer_enterprise.days_in_month");
  ExpectRefused({{"mass.group.period", 0}}, "mass.group.days_in_month");
  ExpectRefused({{"transfers.groups_per_owner.days_in_month", 1}}, "transfers.groups_per_owner.days_in_month");
  Result<RulePack> ok = ApplyOverrides(
      DefaultRulePack(), {{"transfers.groups_per_owner.days_in_month", 1}, {"transfers.groups_per_owner.period", 2}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->transfers.groups_per_owner.LimitAt(Ms(1769875200)), 28);
}

TEST(Overrides, EveryKeyIsAcceptedAndReadBack) {
  const std::vector<std::string> keys = OverrideKeys();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), keys.size()) << "duplicate keys";
  EXPECT_GT(keys.size(), 80u);
  for (const char* expected :
       {"mass.customer_enterprise.limit", "mass.customer_enterprise.period", "mass.customer_enterprise.days_in_month",
        "mass.customer_enterprise.enabled", "capacity.corp_verified", "friends.burst_active_max",
        "api.welcome_code_valid_seconds"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), expected), keys.end()) << expected;
  }
  const RulePack base = FindRulePack("wecom-2020").value();
  for (const std::string& key : keys) {
    Result<int64_t> before = RuleValue(base, key);
    ASSERT_TRUE(before.ok()) << key;
    // 1 is valid for every kind of value (count, flag, period = week) and does not break days_in_month.
    const bool is_days_in_month = key.ends_with(".days_in_month");
    const int64_t value = is_days_in_month ? 0 : 1;
    Result<RulePack> p = ApplyOverrides(base, {{key, value}});
    ASSERT_TRUE(p.ok()) << key << ": " << p.status().ToString();
    EXPECT_EQ(RuleValue(*p, key).value(), value) << key;
    // Exactly one value changed: every other key reads as before.
    for (const std::string& other : keys) {
      if (other != key) {
        EXPECT_EQ(RuleValue(*p, other).value(), RuleValue(base, other).value()) << key << " vs " << other;
      }
    }
  }
  EXPECT_EQ(RuleValue(DefaultRulePack(), "mass.customer_enterprise.days_in_month").value(), 1);
  EXPECT_EQ(RuleValue(DefaultRulePack(), "mass.customer_enterprise.period").value(), 2);
  EXPECT_EQ(RuleValue(DefaultRulePack(), "capacity.corp_verified").value(), 50'000);
  EXPECT_EQ(RuleValue(DefaultRulePack(), "no.such.key").status().reason(), "invalid_rule_override");
}

}  // namespace
}  // namespace koi::rules
