// MassQuota: whether one more mass message may reach a customer under a rule pack's §1 quotas, given the mass
// messages that customer already received. Koi's planner and the WeCom sandbox both decide with it, so a plan that
// Koi accepts is never refused by the sandbox for frequency, and a send that bypasses the planner is.
//
// Periods are natural days, weeks and months in UTC+8 (rule_pack.h). The windows are computed once for the moment of
// sending; Check is then a short loop over the customer's receipts, cheap enough to run for a million customers.
// Thread safety: immutable after construction.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "rules/rule_pack.h"

namespace koi::rules {

// Who created a mass message: the enterprise (an admin, through the API: WeCom's create_type 0) or an employee in
// their own WeCom client (create_type 1).
enum class MassKind : uint8_t { kEnterprise = 0, kPersonal = 1 };

// One mass message a customer received (or will receive: Koi counts those submitted and not yet confirmed too).
struct Receipt {
  int64_t at_ms = 0;
  MassKind kind = MassKind::kEnterprise;
  uint32_t sender = 0;  // the sending member, as a caller-chosen number (only compared for equality)
};

enum class QuotaVerdict : uint8_t { kAllowed = 0, kOverDay, kOverWeek, kOverMonth };

// "over_day_limit", "over_week_limit", "over_month_limit" ("" when allowed): the reasons Koi's plan states.
std::string_view QuotaVerdictName(QuotaVerdict verdict);

class MassQuota {
 public:
  MassQuota(const MassMessageRules& rules, int64_t at_ms);

  // Receipts at or after this moment can count; older ones never do (callers load only these).
  int64_t horizon_ms() const { return horizon_ms_; }

  // The verdict for one more message of `kind` from member `sender` to a customer who received `prior`.
  QuotaVerdict Check(MassKind kind, uint32_t sender, std::span<const Receipt> prior) const;

  // The group quota (mass.group) for a customer group that received `prior` (senders and kinds share it).
  QuotaVerdict CheckGroup(std::span<const Receipt> prior) const;

 private:
  struct Bound {
    bool on = false;
    int64_t limit = 0;
    Window window;
    QuotaVerdict over = QuotaVerdict::kAllowed;
  };
  static Bound Make(const Quota& q, int64_t at_ms);

  Bound enterprise_, personal_, group_;
  bool personal_shares_ = false;
  bool personal_per_member_ = false;
  int64_t horizon_ms_ = 0;
};

}  // namespace koi::rules
