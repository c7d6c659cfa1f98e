#include "rules/mass_quota.h"

#include <algorithm>

namespace koi::rules {

std::string_view QuotaVerdictName(QuotaVerdict verdict) {
  switch (verdict) {
    case QuotaVerdict::kAllowed: return "";
    case QuotaVerdict::kOverDay: return "over_day_limit";
    case QuotaVerdict::kOverWeek: return "over_week_limit";
    case QuotaVerdict::kOverMonth: return "over_month_limit";
  }
  return "";
}

MassQuota::Bound MassQuota::Make(const Quota& q, int64_t at_ms) {
  Bound b;
  if (!q.enabled) return b;
  b.on = true;
  b.limit = q.LimitAt(at_ms);
  b.window = PeriodWindow(q.period, at_ms);
  b.over = q.period == Period::kDay    ? QuotaVerdict::kOverDay
           : q.period == Period::kWeek ? QuotaVerdict::kOverWeek
                                       : QuotaVerdict::kOverMonth;
  return b;
}

MassQuota::MassQuota(const MassMessageRules& rules, int64_t at_ms)
    : enterprise_(Make(rules.customer_enterprise, at_ms)),
      personal_(Make(rules.customer_personal, at_ms)),
      group_(Make(rules.group, at_ms)),
      personal_shares_(rules.personal_shares_enterprise_quota),
      personal_per_member_(rules.personal_counted_per_member) {
  horizon_ms_ = at_ms;
  for (const Bound* b : {&enterprise_, &personal_, &group_})
    if (b->on) horizon_ms_ = std::min(horizon_ms_, b->window.start_ms);
}

QuotaVerdict MassQuota::Check(MassKind kind, uint32_t sender, std::span<const Receipt> prior) const {
  // The enterprise quota: enterprise messages, and personal ones too when the pack makes them share it.
  const bool shared = personal_shares_;
  if (kind == MassKind::kEnterprise || shared) {
    if (!enterprise_.on) return QuotaVerdict::kAllowed;
    int64_t n = 0;
    for (const Receipt& r : prior)
      if ((r.kind == MassKind::kEnterprise || shared) && enterprise_.window.Contains(r.at_ms)) ++n;
    return n >= enterprise_.limit ? enterprise_.over : QuotaVerdict::kAllowed;
  }
  // A personal message under its own quota, per member or per enterprise.
  if (!personal_.on) return QuotaVerdict::kAllowed;
  int64_t n = 0;
  for (const Receipt& r : prior)
    if (r.kind == MassKind::kPersonal && (!personal_per_member_ || r.sender == sender) &&
        personal_.window.Contains(r.at_ms))
      ++n;
  return n >= personal_.limit ? personal_.over : QuotaVerdict::kAllowed;
}

QuotaVerdict MassQuota::CheckGroup(std::span<const Receipt> prior) const {
  if (!group_.on) return QuotaVerdict::kAllowed;
  int64_t n = 0;
  for (const Receipt& r : prior)
    if (group_.window.Contains(r.at_ms)) ++n;
  return n >= group_.limit ? group_.over : QuotaVerdict::kAllowed;
}

}  // namespace koi::rules
