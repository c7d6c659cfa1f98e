#include "rules/rule_pack.h"

#include <chrono>
#include <string>
#include <variant>

// Every value below names its source as ../shared/specs/platform-rules.md does: S000 (seed 000, the WeCom 3.0
// vendor FAQ), S002 (seed 002, the 2023 guide), API (wecom-api.md). Where an era's source is silent:
//   1. the table's own guidance wins ("not stated (use API)", "keep wecom-2023 values");
//   2. limits that come from the API (per call, per minute, content, transfers, §8) apply to every pack: every
//      pack is enforced on the same API, and the seeds never contradict them;
//   3. a capacity or behaviour an older source states and the newer one does not contradict is kept (a limit does
//      not vanish because a guide omits it);
//   4. otherwise the rule is off in that pack, so Koi never skips anyone for a rule its era does not state.
// A range ("200–400 a day") resolves to the side that keeps an account safe: the lower count, the longer
// restriction. The planner then stays inside the platform's limit and the sandbox is never more lenient than it.

namespace koi::rules {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr int64_t kUtc8OffsetMs = 8 * 3'600'000;  // China Standard Time has no DST
constexpr int64_t kSecondsPerHour = 3'600;
constexpr int64_t kSecondsPerDay = 86'400;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// The UTC+8 calendar date that contains `now_ms`, as days since 1970-01-01.
int64_t LocalDay(int64_t now_ms) { return FloorDiv(now_ms + kUtc8OffsetMs, kMsPerDay); }

// 00:00 UTC+8 of a local date, in Unix milliseconds.
int64_t DayStartMs(int64_t local_day) { return local_day * kMsPerDay - kUtc8OffsetMs; }

int64_t DayNumber(std::chrono::sys_days d) { return d.time_since_epoch().count(); }

// ---------------------------------------------------------------------------------------------------------------
// The packs.

std::vector<AttachmentKind> AllAttachmentKinds() {
  return {AttachmentKind::kImage, AttachmentKind::kLink, AttachmentKind::kMiniProgram, AttachmentKind::kVideo,
          AttachmentKind::kFile};
}

// The values every era shares because they come from the API (rule 2 above).
RulePack ApiLimits() {
  RulePack p;
  p.mass.max_recipients_per_call = 10'000;  // API §7.1: ≤10,000 external_userid per add_msg_template
  p.mass.max_reminders = 3;                 // API §7.2: ≤3 reminders per message per 24 h
  p.mass.reminder_window_seconds = kSecondsPerDay;

  p.moments.tasks_per_minute = 10;  // API §8: 10 add_moment_task per minute per corp
  p.moments.text_max_chars = 2'000;
  p.moments.max_images = 9;  // 9 images, or 1 video, or 1 link
  p.moments.max_videos = 1;
  p.moments.max_links = 1;
  p.moments.video_max_bytes = 10 * 1024 * 1024;  // 10 MB
  p.moments.video_max_seconds = 30;

  p.transfers.customers_per_call = 100;  // API §9
  p.transfers.groups_per_call = 100;
  p.transfers.transfers_per_customer = 2;  // in 90 natural days; the same for on-job groups
  p.transfers.transfers_per_group = 2;
  p.transfers.transfer_window_days = 90;
  p.transfers.groups_per_owner = Quota::Fixed(300, Period::kDay);  // groups of one owner to a new owner
  p.transfers.takeover_delay_seconds = kSecondsPerDay;

  // §8 / API §13 (official 90454, 2023). A 2020 forum quote gives 2,000/min and 30,000/h; unofficial, so the
  // official figures apply to every pack.
  p.api.corp_calls_per_minute = 10'000;
  p.api.corp_calls_per_hour = 150'000;
  p.api.minute_block_seconds = 60;
  p.api.hour_block_seconds = kSecondsPerHour;
  p.api.ip_calls_per_minute = 20'000;
  p.api.provider_ip_calls_per_minute = 40'000;
  p.api.corp_tags_max = 3'000;  // corp and strategy tags together
  p.api.tag_name_max_chars = 30;
  p.api.contact_ways_max = 500'000;  // contact ways and group join ways together
  p.api.state_max_chars = 30;
  p.api.welcome_code_valid_seconds = 20;
  return p;
}

// §4 as S002 states it (wecom-2023, kept by wecom-2025).
FriendRules FriendRulesS002() {
  FriendRules f;
  f.new_account_days = 30;  // §4 defines "new" only for the burst rules (<30 days); used for the daily split too
  f.active_new = Quota::Fixed(60, Period::kDay);
  f.active_established = Quota::Fixed(100, Period::kDay);  // a high-weight established account
  f.active_over_limit_restrict_seconds = kSecondsPerDay;
  f.passive_new = Quota::Fixed(200, Period::kDay);                      // 200–400
  f.passive_established = Quota::Fixed(800, Period::kDay);              // 800–1,000
  f.passive_over_limit_restrict_seconds = kSecondsPerDay;               // 12–24 h
  f.passive_live_code_high_weight = Quota::Fixed(3'000, Period::kDay);  // 3,000–5,000
  f.burst_passive_max = 60;                                             // ">60 passive adds within 1 minute"
  f.burst_passive_window_seconds = 60;
  f.burst_active_max = 40;  // ">40 active adds within 1 hour"
  f.burst_active_window_seconds = kSecondsPerHour;
  f.burst_restrict_seconds = kSecondsPerDay;
  return f;
}

RulePack Wecom2020() {
  RulePack p = ApiLimits();
  p.name = "wecom-2020";
  p.title = "WeCom 3.0 (2020)";
  p.source = "S000: SCRM vendor FAQ on WeCom 3.0 (seeds/000_8975f58061141af4.txt); API limits from wecom-api.md";

  // §1: enterprise and personal mass messages are independent.
  p.mass.customer_enterprise = Quota::Fixed(1, Period::kWeek);
  p.mass.customer_personal = Quota::Fixed(1, Period::kDay);  // from each member
  p.mass.personal_counted_per_member = true;
  p.mass.personal_shares_enterprise_quota = false;
  p.mass.group = Quota::Off();  // not stated in S000 (rule 4)
  // Text plus one picture, web page or mini program, delivered as two chat messages.
  p.mass.max_attachments = 1;
  p.mass.attachment_kinds = {AttachmentKind::kImage, AttachmentKind::kLink, AttachmentKind::kMiniProgram};
  p.mass.text_with_attachment_counts_as_two = true;

  // §2: the per-member and the enterprise rules are independent.
  p.moments.customer_member = Quota::Fixed(1, Period::kDay);
  p.moments.customer_enterprise = Quota::Fixed(4, Period::kMonth);
  p.moments.member_shares_enterprise_quota = false;
  p.moments.not_interested_hide_seconds = 7 * kSecondsPerDay;
  p.moments.requires_verified_corp = true;  // beta gate: verified and >50 daily active members
  p.moments.min_daily_active_members = 51;

  // §3. S000 states no unverified capacity, but §6 (S000): without verification the enterprise cannot talk to
  // WeChat users, so it can have no customers.
  p.capacity.corp_unverified = 0;
  p.capacity.corp_verified = kUnlimited;
  p.capacity.corp_expandable = false;  // nothing to expand
  p.capacity.member = 50'000;
  p.capacity.member_expanded = 250'000;
  p.capacity.group_size = 20;
  p.capacity.group_size_upgraded = 100;
  p.capacity.group_upgrade_min_daily_active_members = 51;  // and a verified corp
  p.capacity.group_size_external_owner = 20;               // stays at the default, never upgraded
  p.capacity.group_qr_join_max = kUnlimited;               // no separate QR stop stated (rule 4)

  // §4: S000 knows only the passive limit ("about 300–500 a day"); active limits are "currently unknown" and no
  // burst or live-code rule is stated (rule 4).
  p.friends.new_account_days = 30;
  p.friends.active_new = Quota::Off();
  p.friends.active_established = Quota::Off();
  p.friends.passive_new = Quota::Fixed(300, Period::kDay);
  p.friends.passive_established = Quota::Fixed(300, Period::kDay);
  p.friends.passive_over_limit_restrict_seconds = kSecondsPerDay;  // S000 gives no duration; §4's longest
  p.friends.passive_live_code_high_weight = Quota::Off();
  p.friends.burst_passive_max = kUnlimited;
  p.friends.burst_active_max = kUnlimited;
  return p;
}

RulePack Wecom2023() {
  RulePack p = ApiLimits();
  p.name = "wecom-2023";
  p.title = "WeCom rules of 2023";
  p.source = "S002: SCRM user guide, WeCom rules table (seeds/002_d19375c03418853c.txt); API limits from wecom-api.md";

  // §1: one quota per customer per day per enterprise, personal and enterprise messages together; the same for
  // groups. Copies of the API doc from about 2021–2023 say 4 per natural month instead; a team can override.
  p.mass.customer_enterprise = Quota::Fixed(1, Period::kDay);
  p.mass.customer_personal = Quota::Off();
  p.mass.personal_shares_enterprise_quota = true;
  p.mass.group = Quota::Fixed(1, Period::kDay);
  // Content is not stated in S002: use the API (text + up to 9 attachments).
  p.mass.max_attachments = 9;
  p.mass.attachment_kinds = AllAttachmentKinds();

  // §2: ≤3 per customer per day, enterprise and employee posts together; this replaces S000's per-member rule.
  p.moments.customer_member = Quota::Off();
  p.moments.customer_enterprise = Quota::Fixed(3, Period::kDay);
  p.moments.member_shares_enterprise_quota = true;
  p.moments.not_interested_hide_seconds = 7 * kSecondsPerDay;  // kept from S000 (rule 3)
  // S000's beta gate is not kept: it gated a beta, and S002 states Moments rules for every enterprise.

  // §3
  p.capacity.corp_unverified = 200;
  p.capacity.corp_verified = 50'000;  // verified with ≤50 daily active members
  p.capacity.corp_expandable = true;  // on request, with >50 daily active members
  p.capacity.corp_expansion_min_daily_active_members = 51;
  p.capacity.member = 50'000;  // per member and group sizes: not stated in S002, kept from S000 (rule 3)
  p.capacity.member_expanded = 250'000;
  p.capacity.group_size = 20;
  p.capacity.group_size_upgraded = 100;
  p.capacity.group_upgrade_min_daily_active_members = 51;
  p.capacity.group_size_external_owner = 20;
  p.capacity.group_qr_join_max = kUnlimited;

  p.friends = FriendRulesS002();
  return p;
}

RulePack Wecom2025() {
  RulePack p = ApiLimits();
  p.name = "wecom-2025";
  p.title = "WeCom rules of 2025 (current)";
  p.source = "API: official WeCom docs as of 2025 (wecom-api.md §7–§9, §13) and vendor help pages; §4 from S002";

  // §1: ≤ days-in-month per natural month per customer and per group; personal messages share it. The admin may
  // switch to 7 per week or 1 per day: an override of mass.customer_enterprise.*.
  p.mass.customer_enterprise = Quota::MonthDays();
  p.mass.customer_personal = Quota::Off();
  p.mass.personal_shares_enterprise_quota = true;
  p.mass.group = Quota::MonthDays();
  p.mass.max_attachments = 9;
  p.mass.attachment_kinds = AllAttachmentKinds();

  // §2: per-customer limits are not published: keep wecom-2023 values.
  const RulePack y2023 = Wecom2023();
  p.moments.customer_member = y2023.moments.customer_member;
  p.moments.customer_enterprise = y2023.moments.customer_enterprise;
  p.moments.member_shares_enterprise_quota = y2023.moments.member_shares_enterprise_quota;
  p.moments.not_interested_hide_seconds = y2023.moments.not_interested_hide_seconds;

  // §3 (API §13 / vendor pages, unconfirmed officially).
  p.capacity.corp_unverified = 200;
  p.capacity.corp_verified = 50'000;
  p.capacity.corp_expandable = true;
  p.capacity.corp_expansion_min_daily_active_members = 51;  // not restated: kept from wecom-2023 (rule 3)
  p.capacity.member = 5'000;
  p.capacity.member_expanded = 20'000;
  p.capacity.group_size = 500;
  p.capacity.group_size_upgraded = 500;  // no upgrade tier
  p.capacity.group_upgrade_min_daily_active_members = 0;
  // S000's "stays at 20" meant "stays at the default"; with one size and no upgrade that default is 500.
  p.capacity.group_size_external_owner = 500;
  p.capacity.group_qr_join_max = 200;

  // §4 is S002's; nothing newer is published: keep wecom-2023 values.
  p.friends = FriendRulesS002();
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Override keys. A key is the field's path in RulePack, so the table cannot drift from the struct; a Quota field
// expands to four keys.

using FieldRef = std::variant<int64_t*, bool*, Quota*>;

struct Field {
  std::string_view key;
  FieldRef (*get)(RulePack&);
};

// clang-format off
#define KOI_RULE_FIELD(path) Field{#path, [](RulePack& p) -> FieldRef { return &p.path; }}
// clang-format on

const std::vector<Field>& Fields() {
  static const std::vector<Field> fields = {
      KOI_RULE_FIELD(mass.customer_enterprise),
      KOI_RULE_FIELD(mass.customer_personal),
      KOI_RULE_FIELD(mass.personal_counted_per_member),
      KOI_RULE_FIELD(mass.personal_shares_enterprise_quota),
      KOI_RULE_FIELD(mass.group),
      KOI_RULE_FIELD(mass.max_attachments),
      KOI_RULE_FIELD(mass.text_with_attachment_counts_as_two),
      KOI_RULE_FIELD(mass.max_recipients_per_call),
      KOI_RULE_FIELD(mass.max_reminders),
      KOI_RULE_FIELD(mass.reminder_window_seconds),

      KOI_RULE_FIELD(moments.customer_member),
      KOI_RULE_FIELD(moments.customer_enterprise),
      KOI_RULE_FIELD(moments.member_shares_enterprise_quota),
      KOI_RULE_FIELD(moments.not_interested_hide_seconds),
      KOI_RULE_FIELD(moments.requires_verified_corp),
      KOI_RULE_FIELD(moments.min_daily_active_members),
      KOI_RULE_FIELD(moments.tasks_per_minute),
      KOI_RULE_FIELD(moments.text_max_chars),
      KOI_RULE_FIELD(moments.max_images),
      KOI_RULE_FIELD(moments.max_videos),
      KOI_RULE_FIELD(moments.max_links),
      KOI_RULE_FIELD(moments.video_max_bytes),
      KOI_RULE_FIELD(moments.video_max_seconds),

      KOI_RULE_FIELD(capacity.corp_unverified),
      KOI_RULE_FIELD(capacity.corp_verified),
      KOI_RULE_FIELD(capacity.corp_expandable),
      KOI_RULE_FIELD(capacity.corp_expansion_min_daily_active_members),
      KOI_RULE_FIELD(capacity.member),
      KOI_RULE_FIELD(capacity.member_expanded),
      KOI_RULE_FIELD(capacity.group_size),
      KOI_RULE_FIELD(capacity.group_size_upgraded),
      KOI_RULE_FIELD(capacity.group_upgrade_min_daily_active_members),
      KOI_RULE_FIELD(capacity.group_size_external_owner),
      KOI_RULE_FIELD(capacity.group_qr_join_max),

      KOI_RULE_FIELD(friends.new_account_days),
      KOI_RULE_FIELD(friends.active_new),
      KOI_RULE_FIELD(friends.active_established),
      KOI_RULE_FIELD(friends.active_over_limit_restrict_seconds),
      KOI_RULE_FIELD(friends.passive_new),
      KOI_RULE_FIELD(friends.passive_established),
      KOI_RULE_FIELD(friends.passive_over_limit_restrict_seconds),
      KOI_RULE_FIELD(friends.passive_live_code_high_weight),
      KOI_RULE_FIELD(friends.burst_passive_max),
      KOI_RULE_FIELD(friends.burst_passive_window_seconds),
      KOI_RULE_FIELD(friends.burst_active_max),
      KOI_RULE_FIELD(friends.burst_active_window_seconds),
      KOI_RULE_FIELD(friends.burst_restrict_seconds),

      KOI_RULE_FIELD(transfers.customers_per_call),
      KOI_RULE_FIELD(transfers.groups_per_call),
      KOI_RULE_FIELD(transfers.transfers_per_customer),
      KOI_RULE_FIELD(transfers.transfers_per_group),
      KOI_RULE_FIELD(transfers.transfer_window_days),
      KOI_RULE_FIELD(transfers.groups_per_owner),
      KOI_RULE_FIELD(transfers.takeover_delay_seconds),

      KOI_RULE_FIELD(api.corp_calls_per_minute),
      KOI_RULE_FIELD(api.corp_calls_per_hour),
      KOI_RULE_FIELD(api.minute_block_seconds),
      KOI_RULE_FIELD(api.hour_block_seconds),
      KOI_RULE_FIELD(api.ip_calls_per_minute),
      KOI_RULE_FIELD(api.provider_ip_calls_per_minute),
      KOI_RULE_FIELD(api.corp_tags_max),
      KOI_RULE_FIELD(api.tag_name_max_chars),
      KOI_RULE_FIELD(api.contact_ways_max),
      KOI_RULE_FIELD(api.state_max_chars),
      KOI_RULE_FIELD(api.welcome_code_valid_seconds),
  };
  return fields;
}

#undef KOI_RULE_FIELD

constexpr std::string_view kQuotaParts[] = {"limit", "period", "days_in_month", "enabled"};

// One settable value behind an override key.
using Slot = std::variant<int64_t*, bool*, Period*>;

Status InvalidOverride(std::string_view key, std::string_view why) {
  return Status::InvalidArgument("invalid_rule_override",
                                 "rule override \"" + std::string(key) + "\": " + std::string(why));
}

Result<Slot> FindSlot(RulePack& pack, std::string_view key) {
  for (const Field& field : Fields()) {
    const FieldRef ref = field.get(pack);
    if (Quota* const* quota = std::get_if<Quota*>(&ref)) {
      if (key.size() <= field.key.size() || !key.starts_with(field.key) || key[field.key.size()] != '.') continue;
      const std::string_view part = key.substr(field.key.size() + 1);
      if (part == "limit") return Slot{&(*quota)->limit};
      if (part == "period") return Slot{&(*quota)->period};
      if (part == "days_in_month") return Slot{&(*quota)->days_in_month};
      if (part == "enabled") return Slot{&(*quota)->enabled};
      break;
    }
    if (key != field.key) continue;
    if (int64_t* const* count = std::get_if<int64_t*>(&ref)) return Slot{*count};
    return Slot{std::get<bool*>(ref)};
  }
  return InvalidOverride(key, "unknown key");
}

Status SetSlot(const Slot& slot, std::string_view key, int64_t value) {
  if (value < 0) return InvalidOverride(key, "must not be negative, got " + std::to_string(value));
  if (int64_t* const* count = std::get_if<int64_t*>(&slot)) {
    **count = value;
  } else if (bool* const* flag = std::get_if<bool*>(&slot)) {
    if (value > 1) return InvalidOverride(key, "must be 0 or 1, got " + std::to_string(value));
    **flag = value == 1;
  } else {
    if (value > 2) return InvalidOverride(key, "must be 0 (day), 1 (week) or 2 (month), got " + std::to_string(value));
    *std::get<Period*>(slot) = static_cast<Period>(value);
  }
  return Status::Ok();
}

int64_t SlotValue(const Slot& slot) {
  if (int64_t* const* count = std::get_if<int64_t*>(&slot)) return **count;
  if (bool* const* flag = std::get_if<bool*>(&slot)) return **flag ? 1 : 0;
  return static_cast<int64_t>(*std::get<Period*>(slot));
}

// The invariants overrides can break: days_in_month only counts per month.
Status Validate(RulePack& pack) {
  for (const Field& field : Fields()) {
    const FieldRef ref = field.get(pack);
    Quota* const* quota = std::get_if<Quota*>(&ref);
    if (quota == nullptr || !(*quota)->days_in_month || (*quota)->period == Period::kMonth) continue;
    const std::string prefix(field.key);
    return InvalidOverride(prefix + ".days_in_month", "a days-in-month quota needs " + prefix +
                                                          ".period 2 (month); set " + prefix +
                                                          ".days_in_month to 0 and give " + prefix + ".limit");
  }
  return Status::Ok();
}

}  // namespace

std::string_view PeriodName(Period period) {
  switch (period) {
    case Period::kDay:
      return "day";
    case Period::kWeek:
      return "week";
    case Period::kMonth:
      return "month";
  }
  return "unknown";
}

Window PeriodWindow(Period period, int64_t now_ms) {
  using std::chrono::days;
  using std::chrono::sys_days;
  const int64_t day = LocalDay(now_ms);
  switch (period) {
    case Period::kDay:
      return {DayStartMs(day), DayStartMs(day + 1)};
    case Period::kWeek: {
      const unsigned iso_weekday = std::chrono::weekday(sys_days(days(day))).iso_encoding();  // Monday = 1
      const int64_t monday = day - static_cast<int64_t>(iso_weekday - 1);
      return {DayStartMs(monday), DayStartMs(monday + 7)};
    }
    case Period::kMonth: {
      const std::chrono::year_month_day date{sys_days(days(day))};
      const std::chrono::year_month month = date.year() / date.month();
      const sys_days first{month / 1};
      const sys_days next{(month + std::chrono::months(1)) / 1};
      return {DayStartMs(DayNumber(first)), DayStartMs(DayNumber(next))};
    }
  }
  return {};
}

int DaysInMonth(int64_t now_ms) {
  const Window month = PeriodWindow(Period::kMonth, now_ms);
  return static_cast<int>((month.end_ms - month.start_ms) / kMsPerDay);
}

int64_t Quota::LimitAt(int64_t now_ms) const {
  if (!enabled) return kUnlimited;
  if (days_in_month) return DaysInMonth(now_ms);
  return limit;
}

const std::vector<RulePack>& AllRulePacks() {
  static const std::vector<RulePack> packs = {Wecom2020(), Wecom2023(), Wecom2025()};
  return packs;
}

Result<RulePack> FindRulePack(std::string_view name) {
  for (const RulePack& pack : AllRulePacks()) {
    if (pack.name == name) return pack;
  }
  return Status::NotFound("rule_pack_not_found", "no rule pack named \"" + std::string(name) + "\"");
}

const RulePack& DefaultRulePack() { return AllRulePacks().back(); }

std::vector<std::string> OverrideKeys() {
  std::vector<std::string> keys;
  RulePack probe;
  for (const Field& field : Fields()) {
    if (std::holds_alternative<Quota*>(field.get(probe))) {
      for (std::string_view part : kQuotaParts) keys.push_back(std::string(field.key) + "." + std::string(part));
    } else {
      keys.emplace_back(field.key);
    }
  }
  return keys;
}

Result<RulePack> ApplyOverrides(RulePack base, const std::map<std::string, int64_t>& overrides) {
  for (const auto& [key, value] : overrides) {
    KOI_ASSIGN_OR_RETURN(Slot slot, FindSlot(base, key));
    KOI_RETURN_IF_ERROR(SetSlot(slot, key, value));
  }
  KOI_RETURN_IF_ERROR(Validate(base));
  return base;
}

Result<int64_t> RuleValue(const RulePack& pack, std::string_view key) {
  RulePack copy = pack;  // FindSlot hands out pointers for writing; read through a copy
  KOI_ASSIGN_OR_RETURN(Slot slot, FindSlot(copy, key));
  return SlotValue(slot);
}

}  // namespace koi::rules
