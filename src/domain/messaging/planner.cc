#include "domain/messaging/planner.h"

#include <algorithm>
#include <span>

namespace koi::messaging {

std::string_view SkipName(Skip skip) {
  switch (skip) {
    case Skip::kNone: return "";
    case Skip::kLost: return "lost";
    case Skip::kNotFriend: return "not_friend";
    case Skip::kOverDay: return "over_day_limit";
    case Skip::kOverWeek: return "over_week_limit";
    case Skip::kOverMonth: return "over_month_limit";
    case Skip::kOwnerUnavailable: return "owner_unavailable";
  }
  return "";
}

bool ParseSkip(std::string_view name, Skip& out) {
  for (int i = 1; i < kSkipKinds; ++i)
    if (SkipName(static_cast<Skip>(i)) == name) {
      out = static_cast<Skip>(i);
      return true;
    }
  return false;
}

namespace {

Skip SkipOf(rules::QuotaVerdict v) {
  switch (v) {
    case rules::QuotaVerdict::kAllowed: return Skip::kNone;
    case rules::QuotaVerdict::kOverDay: return Skip::kOverDay;
    case rules::QuotaVerdict::kOverWeek: return Skip::kOverWeek;
    case rules::QuotaVerdict::kOverMonth: return Skip::kOverMonth;
  }
  return Skip::kNone;
}

}  // namespace

Plan MakePlan(PlanInput in) {
  Plan plan;
  plan.senders.resize(in.employees.size());
  plan.recipients.reserve(in.customers.size());
  // Both fact lists sorted by customer, then walked in step with the (ascending) target.
  std::sort(in.follows.begin(), in.follows.end(),
            [](const PlanFollow& a, const PlanFollow& b) { return a.customer < b.customer; });
  std::sort(in.receipts.begin(), in.receipts.end(),
            [](const PlanReceipt& a, const PlanReceipt& b) { return a.customer < b.customer; });
  const rules::MassQuota quota(in.rules, in.send_at_ms);
  std::vector<rules::Receipt> prior;
  size_t f = 0, r = 0;
  for (uint32_t customer : in.customers) {
    while (f < in.follows.size() && in.follows[f].customer < customer) ++f;
    while (r < in.receipts.size() && in.receipts[r].customer < customer) ++r;
    PlannedRecipient out{.customer = customer};
    // The sender: the most recent active relationship with an employee we may send through.
    const PlanFollow* best = nullptr;
    const PlanFollow* last_lost = nullptr;
    size_t end = f;
    bool ended_by_customer = false;
    for (; end < in.follows.size() && in.follows[end].customer == customer; ++end) {
      const PlanFollow& x = in.follows[end];
      if (!x.active) {
        // The last relationship to end, whoever's; at equal times, ended by the customer if any was.
        if (!last_lost || x.deleted_at > last_lost->deleted_at) {
          last_lost = &x;
          ended_by_customer = x.deleted_by_customer;
        } else if (x.deleted_at == last_lost->deleted_at) {
          ended_by_customer |= x.deleted_by_customer;
        }
        continue;
      }
      if (!in.may_send[x.employee]) continue;
      if (!best || x.createtime > best->createtime ||
          (x.createtime == best->createtime && in.employees[x.employee] < in.employees[best->employee]))
        best = &x;
    }
    if (!best) {
      out.skip = last_lost && ended_by_customer ? Skip::kNotFriend : Skip::kLost;
    } else {
      out.sender = best->employee;
      for (size_t i = f; i < end; ++i)
        if (&in.follows[i] != best && in.follows[i].active && in.may_send[in.follows[i].employee])
          ++plan.senders[in.follows[i].employee].duplicates;
      prior.clear();
      for (size_t i = r; i < in.receipts.size() && in.receipts[i].customer == customer; ++i)
        prior.push_back(in.receipts[i].receipt);
      out.skip = SkipOf(quota.Check(in.kind, best->employee, prior));
      if (out.skip == Skip::kNone)
        ++plan.senders[best->employee].recipients;
      else
        ++plan.senders[best->employee].skipped;
    }
    ++plan.skipped[static_cast<int>(out.skip)];
    plan.recipients.push_back(out);
  }
  return plan;
}

Plan MakeGroupPlan(const GroupPlanInput& in) {
  Plan plan;
  plan.senders.resize(in.may_send.size());
  plan.recipients.reserve(in.owners.size());
  const rules::MassQuota quota(in.rules, in.send_at_ms);
  for (size_t g = 0; g < in.owners.size(); ++g) {
    PlannedRecipient out{.customer = static_cast<uint32_t>(g)};
    const uint32_t owner = in.owners[g];
    if (owner == kNoSender || owner >= in.may_send.size() || !in.may_send[owner]) {
      out.skip = Skip::kOwnerUnavailable;
    } else {
      out.sender = owner;
      out.skip = SkipOf(quota.CheckGroup(g < in.prior.size() ? std::span<const rules::Receipt>(in.prior[g])
                                                             : std::span<const rules::Receipt>()));
      ++(out.skip == Skip::kNone ? plan.senders[owner].recipients : plan.senders[owner].skipped);
    }
    ++plan.skipped[static_cast<int>(out.skip)];
    plan.recipients.push_back(out);
  }
  return plan;
}

}  // namespace koi::messaging
