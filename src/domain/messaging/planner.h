// The mass-message planner: who receives a message through which employee, and who is skipped and why, decided
// before anything is sent. Pure: the service loads the facts (the target's relationships and the receipts that
// count against the quotas) and persists the result, the benchmark feeds it generated facts.
//
// For each target customer:
//   - no active relationship with an employee the sender may use: skipped "not_friend" when the relationship that
//     ended last (any employee's) was ended by the customer, "lost" otherwise (the employee deleted them, the
//     employee cannot send, or they never were a friend);
//   - else the sender is the employee of the most recently added active relationship (equal times: the smaller
//     userid), the other active relationships count as "duplicates" of their employee (the customer receives the
//     message once);
//   - then the rule pack's quota (rules/mass_quota.h) over the receipts already counted: "over_day_limit",
//     "over_week_limit" or "over_month_limit".
// For each target customer group (MakeGroupPlan): the sender is the group's owner; skipped "owner_unavailable" when
// the owner is not an employee the sender may use (resigned, or not the personal message's employee), else by the
// pack's group quota.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/mass_quota.h"

namespace koi::messaging {

enum class Skip : uint8_t { kNone = 0, kLost, kNotFriend, kOverDay, kOverWeek, kOverMonth, kOwnerUnavailable };
inline constexpr int kSkipKinds = 7;

std::string_view SkipName(Skip skip);  // "", "lost", "not_friend", "over_day_limit", …, "owner_unavailable"
bool ParseSkip(std::string_view name, Skip& out);

struct PlanFollow {
  uint32_t customer = 0;  // customer_keys id
  uint32_t employee = 0;  // index into PlanInput::employees
  int64_t createtime = 0;
  bool active = true;
  bool deleted_by_customer = false;
  int64_t deleted_at = 0;
};

struct PlanReceipt {
  uint32_t customer = 0;
  rules::Receipt receipt;
};

struct PlanInput {
  std::vector<uint32_t> customers;        // the target, ascending, no repeats
  std::vector<PlanFollow> follows;        // relationships of target customers (others are ignored), any order
  std::vector<std::string> employees;     // index -> userid (ties on createtime go to the smaller userid)
  std::vector<bool> may_send;             // index -> the sender may be this employee
  std::vector<PlanReceipt> receipts;      // what already counts against the quotas, any order
  rules::MassMessageRules rules;
  rules::MassKind kind = rules::MassKind::kEnterprise;
  int64_t send_at_ms = 0;
};

inline constexpr uint32_t kNoSender = UINT32_MAX;

struct PlannedRecipient {
  uint32_t customer = 0;
  uint32_t sender = kNoSender;  // employee index; kNoSender when skipped for having none
  Skip skip = Skip::kNone;
};

struct SenderTally {
  int64_t recipients = 0;  // will receive through this employee
  int64_t skipped = 0;     // would have been theirs but a quota skips them
  int64_t duplicates = 0;  // their customers who receive it through another employee
};

struct Plan {
  std::vector<PlannedRecipient> recipients;  // one per target customer, in customers order
  std::vector<SenderTally> senders;          // per employee index
  int64_t skipped[kSkipKinds] = {};          // per Skip (kNone: those who receive it)
};

Plan MakePlan(PlanInput input);

struct GroupPlanInput {
  std::vector<uint32_t> owners;                   // per target group: its owner's employee index, or kNoSender
  std::vector<std::vector<rules::Receipt>> prior;  // per target group: what already counts against its quota
  std::vector<bool> may_send;                     // employee index -> the sender may be this employee
  rules::MassMessageRules rules;
  int64_t send_at_ms = 0;
};

// One PlannedRecipient per target group (`customer` is the group's index in `owners`).
Plan MakeGroupPlan(const GroupPlanInput& input);

}  // namespace koi::messaging
