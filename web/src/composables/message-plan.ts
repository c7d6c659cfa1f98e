// How a mass message's plan and results are shown: the skip reasons, the recipient statuses, the progress while it is
// sent, when to stop asking for news, the schedule's bounds, the hourly delivery chart and the rule pack's quotas.
// Pure functions (src/domain/messaging/messaging.h and planner.h say what the numbers mean).
import type { MessagesApi } from '@/api/messages'
import { niceMax } from './use-segments'

/** The reasons a customer of the target is skipped, in the order the plan lists them. */
export const SKIP_REASONS = ['lost', 'not_friend', 'over_day_limit', 'over_week_limit', 'over_month_limit'] as const satisfies readonly MessagesApi.SkipReason[]
export type SkipReason = MessagesApi.SkipReason
/** The skip reasons that come from the rule pack's quotas. */
export const QUOTA_REASONS: readonly SkipReason[] = ['over_day_limit', 'over_week_limit', 'over_month_limit']
/** The reasons a group of the target is skipped (no duplicates, lost or not_friend for groups). */
export const GROUP_SKIP_REASONS = ['owner_unavailable', 'over_day_limit', 'over_week_limit', 'over_month_limit'] as const satisfies readonly SkipReason[]

/** The skip reasons of a message to `audience`, in the order the plan lists them. */
export const skipReasonsOf = (audience: string | undefined): readonly SkipReason[] => (audience === 'groups' ? GROUP_SKIP_REASONS : SKIP_REASONS)

/** A recipient's status in WeCom (-1: not submitted yet), as the recipients filter offers them. */
export const RECIPIENT_STATUSES = [-1, 0, 1, 2, 3, 4, 5] as const
/**
 * The locale key of a recipient status ('' for one the console does not know); a group's status 2 is its own (the
 * group was dismissed or changed owner).
 */
export const statusKey = (status: number, audience?: string): string =>
  status === -1 ? 'messages.status.unsubmitted'
    : status === 2 && audience === 'groups' ? 'messages.groups.status.2'
      : status >= 0 && status <= 5 ? `messages.status.${status}` : ''

export const MESSAGE_STATES = ['draft', 'scheduled', 'sending', 'sent', 'done', 'cancelled', 'failed'] as const satisfies readonly MessagesApi.State[]

/** el-tag's type for a state. */
export function stateTagType(state: string): 'info' | 'primary' | 'warning' | 'success' | 'danger' {
  switch (state) {
    case 'scheduled': return 'warning'
    case 'sending': case 'sent': return 'primary'
    case 'done': return 'success'
    case 'failed': return 'danger'
    default: return 'info'
  }
}

/** Whether the message is on its way (the detail page asks for news every POLL_MS then). */
export const isInFlight = (state: string): boolean => state === 'scheduled' || state === 'sending'
/** The states at which the detail page stops asking: submitted (the sync job takes over), settled or over. */
export const POLL_STOP_STATES: readonly string[] = ['sent', 'done', 'cancelled', 'failed']
export const POLL_MS = 2000
/** Whether another poll is wanted after an answer in `state`. */
export const shouldPoll = (state: string): boolean => isInFlight(state) && !POLL_STOP_STATES.includes(state)

/** Whether it can still be cancelled (scheduled, sending or sent: the employees who have not confirmed). */
export const canCancel = (state: string): boolean => state === 'scheduled' || state === 'sending' || state === 'sent'
/** Whether reminding makes sense: sent and waiting for confirmations, with reminders left. */
export const canRemind = (m: Pick<MessagesApi.Message, 'state' | 'reminders_left'>): boolean => m.state === 'sent' && m.reminders_left > 0

/**
 * The skip reasons with customers (groups), in the order of `reasons` (SKIP_REASONS, or skipReasonsOf the audience);
 * reasons not among them go last.
 */
export function skipRows(
  skipped: Record<string, number> | null | undefined, reasons: readonly string[] = SKIP_REASONS,
): Array<{ reason: string; n: number }> {
  const rows: Array<{ reason: string; n: number }> = []
  const s = skipped ?? {}
  for (const reason of reasons) if ((s[reason] ?? 0) > 0) rows.push({ reason, n: s[reason] })
  for (const [reason, n] of Object.entries(s)) if (!reasons.includes(reason) && n > 0) rows.push({ reason, n })
  return rows
}

export const totalSkipped = (skipped: Record<string, number> | null | undefined): number =>
  Object.values(skipped ?? {}).reduce((a, n) => a + n, 0)

/** The plan in a few numbers: customers matched, recipients, skipped, employees sending, duplicates avoided. */
export function planSummary(m: Pick<MessagesApi.Message, 'targeted' | 'recipients' | 'skipped' | 'senders'>) {
  return {
    targeted: m.targeted,
    recipients: m.recipients,
    skipped: totalSkipped(m.skipped),
    senders: m.senders.filter((s) => s.recipients > 0).length,
    duplicates: m.senders.reduce((a, s) => a + s.duplicates, 0),
  }
}

/** Customers over the rule pack's quotas. */
export const overQuota = (skipped: Record<string, number> | null | undefined): number =>
  QUOTA_REASONS.reduce((a, r) => a + (skipped?.[r] ?? 0), 0)

/** How far the submission to WeCom is, in whole percent: chunks submitted (or refused) of all; 100 once submitted. */
export function sendProgress(m: Pick<MessagesApi.Message, 'state' | 'templates' | 'chunks_submitted' | 'chunks_failed'>): number {
  if (m.state === 'sent' || m.state === 'done') return 100
  if (m.state !== 'sending' || m.templates <= 0) return 0
  return Math.min(100, Math.floor(((m.chunks_submitted + m.chunks_failed) * 100) / m.templates))
}

/** "confirmed / templates" of an employee. */
export const confirmedOf = (s: Pick<MessagesApi.Sender, 'confirmed_templates' | 'templates'>) => `${s.confirmed_templates}/${s.templates}`

// ----- the schedule ------------------------------------------------------------------------------------------------

export const SCHEDULE_MIN_AHEAD_MS = 60_000
export const SCHEDULE_MAX_AHEAD_MS = 30 * 86_400_000

/** Why the server would refuse to schedule at `sendAt` (at least a minute, at most 30 days ahead), or null. */
export function scheduleProblem(sendAt: number | null | undefined, now: number): 'noTime' | 'message_schedule_past' | 'message_schedule_too_far' | null {
  if (sendAt === null || sendAt === undefined || !Number.isFinite(sendAt)) return 'noTime'
  if (sendAt < now + SCHEDULE_MIN_AHEAD_MS) return 'message_schedule_past'
  if (sendAt > now + SCHEDULE_MAX_AHEAD_MS) return 'message_schedule_too_far'
  return null
}

/** Days the date picker may not offer: before today, or after the last day within 30 days. */
export function scheduleDayDisabled(day: Date, now: number): boolean {
  const start = new Date(now)
  start.setHours(0, 0, 0, 0)
  return day.getTime() < start.getTime() || day.getTime() > now + SCHEDULE_MAX_AHEAD_MS
}

// ----- delivery per hour -------------------------------------------------------------------------------------------

export const HOUR_MS = 3_600_000
/** Above this many hours the chart shows days instead. */
export const CHART_MAX_HOURS = 72

export interface DeliveryBar {
  x: number
  y: number
  width: number
  height: number
  /** the bucket's start (Unix ms) */
  at: number
  sent: number
}

export interface DeliveryChart {
  bars: DeliveryBar[]
  unit: 'hour' | 'day'
  max: number
  total: number
  from: number
  to: number
}

/** The local midnight before `ms`. */
function dayStart(ms: number): number {
  const d = new Date(ms)
  d.setHours(0, 0, 0, 0)
  return d.getTime()
}

/**
 * The deliveries as bars in a `width` × `height` box (y down): one bar per hour from the first to the last hour with
 * deliveries (hours without any are empty bars, not left out), or per local day when that spans more than
 * CHART_MAX_HOURS; heights on a 0-based round scale. A bar is at most `maxBarWidth` wide (centred in its slot), so
 * that a message delivered within an hour or two is not drawn as one bar filling the box.
 */
export function deliveryChart(delivery: readonly MessagesApi.Delivery[], width: number, height: number, maxBarWidth = Infinity): DeliveryChart {
  const rows = delivery.filter((d) => Number.isFinite(d.hour) && d.sent > 0).sort((a, b) => a.hour - b.hour)
  if (!rows.length) return { bars: [], unit: 'hour', max: niceMax(0), total: 0, from: 0, to: 0 }
  const first = rows[0].hour
  const last = rows[rows.length - 1].hour
  const unit: 'hour' | 'day' = (last - first) / HOUR_MS + 1 > CHART_MAX_HOURS ? 'day' : 'hour'
  const buckets = new Map<number, number>()
  const keyOf = (ms: number) => (unit === 'hour' ? Math.floor(ms / HOUR_MS) * HOUR_MS : dayStart(ms))
  for (const r of rows) buckets.set(keyOf(r.hour), (buckets.get(keyOf(r.hour)) ?? 0) + r.sent)
  const starts: number[] = []
  for (let at = keyOf(first); at <= keyOf(last); ) {
    starts.push(at)
    if (unit === 'hour') at += HOUR_MS
    else {
      const d = new Date(at)
      d.setDate(d.getDate() + 1) // a day of 23 or 25 hours where the clock changes
      at = d.getTime()
    }
  }
  const max = niceMax(Math.max(...buckets.values()))
  const slot = width / starts.length
  const barWidth = Math.max(1, Math.min(maxBarWidth, Math.round(slot * 0.7 * 10) / 10))
  const round = (v: number) => Math.round(v * 10) / 10
  const bars = starts.map((at, i) => {
    const sent = buckets.get(at) ?? 0
    const h = round((sent / max) * height)
    return { x: round(i * slot + (slot - barWidth) / 2), y: round(height - h), width: barWidth, height: h, at, sent }
  })
  return { bars, unit, max, total: rows.reduce((a, r) => a + r.sent, 0), from: starts[0], to: starts[starts.length - 1] }
}

// ----- the rule pack's quotas --------------------------------------------------------------------------------------

/** The quotas of mass messages, as override key prefixes. */
export const QUOTA_PREFIXES = ['mass.customer_enterprise', 'mass.customer_personal', 'mass.group'] as const
export type QuotaPrefix = (typeof QUOTA_PREFIXES)[number]
export const QUOTA_PARTS = ['limit', 'period', 'days_in_month', 'enabled'] as const
/** Values that are flags (0/1). */
export const FLAG_KEYS: readonly string[] = [
  'mass.personal_counted_per_member', 'mass.personal_shares_enterprise_quota', 'mass.text_with_attachment_counts_as_two',
]
export const PERIODS = ['day', 'week', 'month'] as const

export interface Quota {
  enabled: boolean
  limit: number
  /** 0 day, 1 week, 2 month */
  period: number
  daysInMonth: boolean
}

/** A quota from a key → value lookup. */
export function quotaOf(value: (key: string) => number | undefined, prefix: string): Quota {
  return {
    enabled: (value(`${prefix}.enabled`) ?? 0) === 1,
    limit: value(`${prefix}.limit`) ?? 0,
    period: value(`${prefix}.period`) ?? 0,
    daysInMonth: (value(`${prefix}.days_in_month`) ?? 0) === 1,
  }
}

/** The locale key (under rulePack.quota) and values that say a quota: "at most 1 per week", "as many as the month has days", "no limit". */
export function quotaText(q: Quota): { key: string; values: Record<string, number | string> } {
  if (!q.enabled) return { key: 'off', values: {} }
  if (q.daysInMonth) return { key: 'daysInMonth', values: {} }
  return { key: PERIODS[q.period] ?? 'day', values: { n: q.limit } }
}

/** The override values of a quota (the four keys). */
export function quotaValues(prefix: string, q: Quota): Record<string, number> {
  return {
    [`${prefix}.enabled`]: q.enabled ? 1 : 0,
    [`${prefix}.limit`]: q.limit,
    [`${prefix}.period`]: q.period,
    [`${prefix}.days_in_month`]: q.daysInMonth ? 1 : 0,
  }
}
