#include "domain/messaging/planner.h"

#include <gtest/gtest.h>

namespace koi::messaging {
namespace {

constexpr int64_t kNow = 1'795'392'000'000;  // 2026-11-23 08:00 UTC+8

const rules::RulePack& Pack(const char* name) {
  static const auto packs = rules::AllRulePacks();
  for (const auto& p : packs)
    if (p.name == name) return p;
  return packs.back();
}

PlanInput Base() {
  PlanInput in;
  in.employees = {"amy", "bob", "cat"};
  in.may_send = {true, true, true};
  in.rules = Pack("wecom-2023").mass;  // one per natural day
  in.send_at_ms = kNow;
  return in;
}

TEST(PlannerTest, MostRecentActiveRelationshipSendsAndTheOthersAreDuplicates) {
  PlanInput in = Base();
  in.customers = {1, 2, 3};
  in.follows = {{.customer = 1, .employee = 0, .createtime = 100},
                {.customer = 1, .employee = 1, .createtime = 200},  // newer: bob sends
                {.customer = 2, .employee = 2, .createtime = 50},
                {.customer = 2, .employee = 1, .createtime = 50},   // tie: the smaller userid (bob)
                {.customer = 3, .employee = 0, .createtime = 900, .active = false, .deleted_by_customer = true,
                 .deleted_at = 5},
                {.customer = 3, .employee = 2, .createtime = 10}};
  Plan p = MakePlan(in);
  ASSERT_EQ(p.recipients.size(), 3u);
  EXPECT_EQ(p.recipients[0].sender, 1u);
  EXPECT_EQ(p.recipients[1].sender, 1u);
  EXPECT_EQ(p.recipients[2].sender, 2u);  // the lost relationship does not send
  EXPECT_EQ(p.senders[0].duplicates, 1);
  EXPECT_EQ(p.senders[2].duplicates, 1);
  EXPECT_EQ(p.senders[1].recipients, 2);
  EXPECT_EQ(p.skipped[0], 3);
}

TEST(PlannerTest, LostAndNotAFriendAndEmployeesThatMayNotSend) {
  PlanInput in = Base();
  in.customers = {1, 2, 3, 4};
  in.may_send = {true, false, true};  // bob resigned, or is not the personal sender
  in.follows = {{.customer = 1, .employee = 0, .createtime = 1, .active = false, .deleted_by_customer = true,
                 .deleted_at = 9},
                {.customer = 2, .employee = 2, .createtime = 1, .active = false, .deleted_at = 9},
                {.customer = 3, .employee = 1, .createtime = 1},
                {.customer = 1, .employee = 2, .createtime = 1, .active = false, .deleted_at = 3}};
  Plan p = MakePlan(in);
  EXPECT_EQ(p.recipients[0].skip, Skip::kNotFriend);  // the latest loss was the customer deleting amy
  EXPECT_EQ(p.recipients[1].skip, Skip::kLost);       // cat deleted them
  EXPECT_EQ(p.recipients[2].skip, Skip::kLost);       // only bob, who may not send
  EXPECT_EQ(p.recipients[3].skip, Skip::kLost);       // no relationship at all
  EXPECT_EQ(p.recipients[3].sender, kNoSender);
  EXPECT_EQ(p.skipped[static_cast<int>(Skip::kLost)], 3);
  EXPECT_EQ(p.skipped[static_cast<int>(Skip::kNotFriend)], 1);
}

TEST(PlannerTest, QuotasSkipWithTheirPeriod) {
  PlanInput in = Base();
  in.customers = {1, 2, 3};
  for (uint32_t c : in.customers) in.follows.push_back({.customer = c, .employee = 0, .createtime = 1});
  in.receipts = {{1, {kNow - 3'600'000, rules::MassKind::kEnterprise, 0}},        // today: over
                 {2, {kNow - 9 * 3'600'000, rules::MassKind::kEnterprise, 0}}};   // yesterday 23:00: fine
  Plan p = MakePlan(in);
  EXPECT_EQ(p.recipients[0].skip, Skip::kOverDay);
  EXPECT_EQ(p.recipients[1].skip, Skip::kNone);
  EXPECT_EQ(p.recipients[2].skip, Skip::kNone);
  EXPECT_EQ(p.senders[0].recipients, 2);
  EXPECT_EQ(p.senders[0].skipped, 1);
  in.rules = Pack("wecom-2020").mass;  // one enterprise message per natural week
  p = MakePlan(in);
  EXPECT_EQ(p.recipients[0].skip, Skip::kOverWeek);
  EXPECT_EQ(p.recipients[1].skip, Skip::kNone);  // Sunday 23:00 was last week
  EXPECT_EQ(SkipName(Skip::kOverWeek), "over_week_limit");
  Skip s;
  EXPECT_TRUE(ParseSkip("not_friend", s));
  EXPECT_EQ(s, Skip::kNotFriend);
  EXPECT_FALSE(ParseSkip("", s));
}

TEST(PlannerTest, GroupsGoThroughTheirOwnerWithinTheGroupQuota) {
  GroupPlanInput in;
  in.may_send = {true, false, true};  // bob resigned
  in.rules = Pack("wecom-2023").mass;  // a group receives one per natural day
  in.send_at_ms = kNow;
  in.owners = {0, 1, kNoSender, 2, 0};
  in.prior.resize(5);
  in.prior[3] = {{.at_ms = kNow - 3'600'000, .kind = rules::MassKind::kEnterprise, .sender = 0}};    // earlier today
  in.prior[4] = {{.at_ms = kNow - 86'400'000, .kind = rules::MassKind::kPersonal, .sender = 7}};     // yesterday
  Plan p = MakeGroupPlan(in);
  ASSERT_EQ(p.recipients.size(), 5u);
  EXPECT_EQ(p.recipients[0].sender, 0u);
  EXPECT_EQ(p.recipients[0].skip, Skip::kNone);
  EXPECT_EQ(p.recipients[1].skip, Skip::kOwnerUnavailable);  // the owner may not send
  EXPECT_EQ(p.recipients[1].sender, kNoSender);
  EXPECT_EQ(p.recipients[2].skip, Skip::kOwnerUnavailable);  // the owner is no employee Koi knows
  EXPECT_EQ(p.recipients[3].skip, Skip::kOverDay);
  EXPECT_EQ(p.recipients[4].skip, Skip::kNone);
  EXPECT_EQ(p.senders[0].recipients, 2);
  EXPECT_EQ(p.senders[2].skipped, 1);
  EXPECT_EQ(p.skipped[static_cast<int>(Skip::kOwnerUnavailable)], 2);
  EXPECT_EQ(SkipName(Skip::kOwnerUnavailable), "owner_unavailable");

  in.rules = Pack("wecom-2020").mass;  // no group quota stated
  EXPECT_EQ(MakeGroupPlan(in).recipients[3].skip, Skip::kNone);
}

}  // namespace
}  // namespace koi::messaging
