// Rule packs: WeCom's platform limits as named, versioned sets of values (../shared/specs/platform-rules.md).
//
// WeCom limits how many mass messages a customer may receive, how many Moments they see, how large a group may grow,
// how fast an account may add friends, how often a customer may be transferred and how often an API may be called.
// The platform changed these limits over the years, so each era is one pack: "wecom-2020" (seed S000),
// "wecom-2023" (seed S002) and "wecom-2025" (the current API docs, the default). Koi's planner reads a pack to
// decide who will be skipped and why before anything is sent; the WeCom sandbox reads the same pack to enforce the
// rules, so tests can prove that Koi stays within them. A team picks a pack and may override single values
// (ApplyOverrides) under stable dotted keys (OverrideKeys).
//
// Time: days, weeks and months are natural (calendar) periods in China Standard Time (UTC+8, no DST), never
// rolling windows; a week starts on Monday 00:00 UTC+8. Rules stated as "within N seconds/days" (bursts,
// reminders, the 90-day transfer rule) are rolling and are given as plain durations. Times are Unix milliseconds.
// Counts are maxima that are still allowed: `60` means the 61st is over the limit.
//
// Thread safety: plain values and pure functions. AllRulePacks() is built once (thread-safe static initialisation)
// and never changes afterwards, so it may be read from any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace koi::rules {

// A capacity or count with no limit ("customers the enterprise may have: unlimited").
inline constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

// A natural period in UTC+8. The numeric values are the override encoding ("….period": 0, 1 or 2).
enum class Period : uint8_t { kDay = 0, kWeek = 1, kMonth = 2 };

std::string_view PeriodName(Period period);  // "day", "week", "month"

// A half-open time range [start_ms, end_ms) in Unix milliseconds.
struct Window {
  int64_t start_ms = 0;
  int64_t end_ms = 0;

  bool Contains(int64_t t_ms) const { return t_ms >= start_ms && t_ms < end_ms; }
  bool operator==(const Window&) const = default;
};

// The natural day, week (Monday to Sunday) or month in UTC+8 that contains `now_ms`.
// REQUIRES: now_ms within years 1..9999.
Window PeriodWindow(Period period, int64_t now_ms);

// The number of days (28..31) of the UTC+8 calendar month that contains `now_ms`.
// REQUIRES: now_ms within years 1..9999.
int DaysInMonth(int64_t now_ms);

// At most `limit` per natural `period` (per customer, per group, per member: the field that holds the quota says
// per what). With `days_in_month` the limit is the number of days of the current month and `limit` is ignored;
// it is only meaningful with Period::kMonth (ApplyOverrides refuses anything else). A quota that is not `enabled`
// does not apply in that pack; a default-constructed Quota is off.
struct Quota {
  int64_t limit = 0;
  Period period = Period::kDay;
  bool days_in_month = false;
  bool enabled = false;

  // The limit in force at `now_ms`: `limit`, the days of the month for days-in-month quotas, kUnlimited when off.
  int64_t LimitAt(int64_t now_ms) const;

  static Quota Fixed(int64_t limit, Period period) { return Quota{limit, period, false, true}; }
  static Quota MonthDays() { return Quota{0, Period::kMonth, true, true}; }
  static Quota Off() { return Quota{}; }

  bool operator==(const Quota&) const = default;
};

// Kinds of attachment a mass message may carry.
enum class AttachmentKind : uint8_t { kImage, kLink, kMiniProgram, kVideo, kFile };

// §1: mass messages (群发) to customers and to customer groups.
struct MassMessageRules {
  // How many enterprise (admin-created) mass messages one customer may receive from the enterprise.
  Quota customer_enterprise;
  // How many personal (an employee's own) mass messages one customer may receive: from the enterprise as a whole,
  // or from each member when `personal_counted_per_member`. Off when personal messages share the enterprise quota.
  Quota customer_personal;
  bool personal_counted_per_member = false;
  // Personal and enterprise messages count against `customer_enterprise` together.
  bool personal_shares_enterprise_quota = false;
  // How many mass messages (enterprise and personal together) one customer group may receive from the enterprise.
  Quota group;
  // Attachments allowed beside the text of one message, and of which kinds (the kinds have no override key).
  int64_t max_attachments = 0;
  std::vector<AttachmentKind> attachment_kinds;
  // wecom-2020: text plus an attachment arrives as two chat messages. It is still one mass message for the quotas.
  bool text_with_attachment_counts_as_two = false;
  // external_userid per add_msg_template call.
  int64_t max_recipients_per_call = 0;
  // Reminders (remind_groupmsg_send) per message within a rolling window.
  int64_t max_reminders = 0;
  int64_t reminder_window_seconds = 0;

  bool operator==(const MassMessageRules&) const = default;
};

// §2: customer Moments (客户朋友圈).
struct MomentRules {
  // Posts one customer may see from one member.
  Quota customer_member;
  // Posts one customer may see from the enterprise (enterprise posts, and members' own when shared).
  Quota customer_enterprise;
  bool member_shares_enterprise_quota = false;
  // "Not interested": the customer stops seeing that member's Moments for this long (0: no such rule).
  int64_t not_interested_hide_seconds = 0;
  // Who may use Moments at all (0 members: no gate).
  bool requires_verified_corp = false;
  int64_t min_daily_active_members = 0;
  // Content and rate of add_moment_task.
  int64_t tasks_per_minute = 0;
  int64_t text_max_chars = 0;
  int64_t max_images = 0;  // a post has images, or one video, or one link, never a mix
  int64_t max_videos = 0;
  int64_t max_links = 0;
  int64_t video_max_bytes = 0;
  int64_t video_max_seconds = 0;

  bool operator==(const MomentRules&) const = default;
};

// §3: how many customers an enterprise and a member may have, and how large an external group may grow.
struct CapacityRules {
  int64_t corp_unverified = 0;  // customers (added or invited into groups) of a corp that is not verified
  int64_t corp_verified = 0;    // customers of a verified corp before any expansion
  bool corp_expandable = false;
  int64_t corp_expansion_min_daily_active_members = 0;  // expansion on request needs at least this many
  int64_t member = 0;                                   // customers per member
  int64_t member_expanded = 0;                          // after expansion
  int64_t group_size = 0;                               // members of an external group by default
  int64_t group_size_upgraded = 0;                      // after the upgrade
  int64_t group_upgrade_min_daily_active_members = 0;   // the upgrade needs a verified corp and this many (0: none)
  int64_t group_size_external_owner = 0;                // a group created by an external contact
  int64_t group_qr_join_max = 0;  // joining by QR code stops at this many members (kUnlimited: no such stop)

  bool operator==(const CapacityRules&) const = default;
};

// §4: adding friends (加好友) and account nurturing, per member account.
struct FriendRules {
  // "New" means younger than `new_account_days`; older accounts are "established".
  int64_t new_account_days = 0;
  Quota active_new;  // friend requests sent
  Quota active_established;
  int64_t active_over_limit_restrict_seconds = 0;
  Quota passive_new;  // adds accepted (the customer scanned or searched)
  Quota passive_established;
  int64_t passive_over_limit_restrict_seconds = 0;
  // Through a Contact-me live code, for a high-weight account.
  Quota passive_live_code_high_weight;
  // Bursts for new accounts, in rolling windows; either one restricts the account for `burst_restrict_seconds`.
  // A max of kUnlimited: no such rule in the pack.
  int64_t burst_passive_max = 0;
  int64_t burst_passive_window_seconds = 0;
  int64_t burst_active_max = 0;
  int64_t burst_active_window_seconds = 0;
  int64_t burst_restrict_seconds = 0;

  bool operator==(const FriendRules&) const = default;
};

// §5: on-job (在职) and resigned (离职) transfers of customers and groups.
struct TransferRules {
  int64_t customers_per_call = 0;
  int64_t groups_per_call = 0;
  // A customer (and an on-job group) may be transferred at most this often within a rolling window of days.
  int64_t transfers_per_customer = 0;
  int64_t transfers_per_group = 0;
  int64_t transfer_window_days = 0;
  // Groups of one owner that may be assigned to a new owner.
  Quota groups_per_owner;
  // The takeover happens this long after the call unless the customer refuses.
  int64_t takeover_delay_seconds = 0;

  bool operator==(const TransferRules&) const = default;
};

// §8: API call quotas and object limits.
struct ApiRules {
  int64_t corp_calls_per_minute = 0;  // per corp per API
  int64_t corp_calls_per_hour = 0;
  int64_t minute_block_seconds = 0;  // blocked this long after breaking the minute rule (errcode 45009)
  int64_t hour_block_seconds = 0;
  int64_t ip_calls_per_minute = 0;  // per IP per API
  int64_t provider_ip_calls_per_minute = 0;
  int64_t corp_tags_max = 0;
  int64_t tag_name_max_chars = 0;
  int64_t contact_ways_max = 0;            // contact ways and group join ways together, per corp
  int64_t state_max_chars = 0;             // contact way `state`
  int64_t welcome_code_valid_seconds = 0;  // usable once

  bool operator==(const ApiRules&) const = default;
};

struct RulePack {
  std::string name;    // "wecom-2020", "wecom-2023", "wecom-2025"; stable, stored in team settings
  std::string title;   // English, for the console
  std::string source;  // where the values come from
  MassMessageRules mass;
  MomentRules moments;
  CapacityRules capacity;
  FriendRules friends;
  TransferRules transfers;
  ApiRules api;

  bool operator==(const RulePack&) const = default;
};

// Every pack, oldest first.
const std::vector<RulePack>& AllRulePacks();

// The pack called `name`, or NotFound "rule_pack_not_found".
Result<RulePack> FindRulePack(std::string_view name);

// The pack a team uses until it picks one: the newest, wecom-2025.
const RulePack& DefaultRulePack();

// Every key ApplyOverrides accepts, grouped by section in a stable order ("mass.customer_enterprise.limit", …).
// A quota has four keys: `<quota>.limit`, `<quota>.period` (0 day, 1 week, 2 month), `<quota>.days_in_month` and
// `<quota>.enabled` (0 or 1). Durations are in seconds.
std::vector<std::string> OverrideKeys();

// `base` with single values replaced. Returns InvalidArgument "invalid_rule_override", naming the key, for an
// unknown key, a negative value, a period other than 0..2, a flag other than 0 or 1, or a quota left with
// days_in_month on a period other than month. Example: the wecom-2025 admin switches the enterprise quota to 7 per
// week with {"mass.customer_enterprise.days_in_month": 0, "mass.customer_enterprise.limit": 7,
// "mass.customer_enterprise.period": 1}, or to 1 per day with limit 1 and period 0.
Result<RulePack> ApplyOverrides(RulePack base, const std::map<std::string, int64_t>& overrides);

// The current value of an override key in `pack` (flags as 0/1, periods as 0..2), or InvalidArgument
// "invalid_rule_override" for an unknown key. Lets the console show a value beside its override.
Result<int64_t> RuleValue(const RulePack& pack, std::string_view key);

}  // namespace koi::rules
