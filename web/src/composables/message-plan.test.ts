import { describe, expect, it } from 'vitest'
import type { MessagesApi } from '@/api/messages'
import { i18n } from '@/locales'
import {
  canCancel, canRemind, confirmedOf, deliveryChart, HOUR_MS, isInFlight, overQuota, planSummary, POLL_STOP_STATES, quotaOf, quotaText,
  quotaValues, scheduleDayDisabled, scheduleProblem, sendProgress, shouldPoll, skipReasonsOf, skipRows, statusKey, totalSkipped,
} from './message-plan'
import { useAudienceText } from './use-audience-text'

const sender = (userid: string, over: Partial<MessagesApi.Sender> = {}): MessagesApi.Sender => ({
  userid, name: userid, recipients: 0, skipped: 0, duplicates: 0, templates: 0, confirmed_templates: 0, sent: 0, not_friend: 0,
  over_limit: 0, failed: 0, ...over,
})

describe('the plan', () => {
  it('lists the skip reasons with customers in a fixed order, unknown ones last', () => {
    const skipped = { over_month_limit: 4, lost: 2, not_friend: 0, future_reason: 1, over_day_limit: 3 }
    expect(skipRows(skipped)).toEqual([
      { reason: 'lost', n: 2 }, { reason: 'over_day_limit', n: 3 }, { reason: 'over_month_limit', n: 4 }, { reason: 'future_reason', n: 1 },
    ])
    expect(totalSkipped(skipped)).toBe(10)
    expect(overQuota(skipped)).toBe(7)
    expect(skipRows(undefined)).toEqual([])
  })

  it('lists a message to groups by the groups\' reasons: owner unavailable first, no lost or not_friend', () => {
    expect(skipReasonsOf('groups')).toEqual(['owner_unavailable', 'over_day_limit', 'over_week_limit', 'over_month_limit'])
    expect(skipReasonsOf('customers')).toEqual(['lost', 'not_friend', 'over_day_limit', 'over_week_limit', 'over_month_limit'])
    expect(skipReasonsOf(undefined)).toEqual(skipReasonsOf('customers'))
    const skipped = { over_day_limit: 2, owner_unavailable: 1 }
    expect(skipRows(skipped, skipReasonsOf('groups'))).toEqual([{ reason: 'owner_unavailable', n: 1 }, { reason: 'over_day_limit', n: 2 }])
    expect(skipRows(skipped)).toEqual([{ reason: 'over_day_limit', n: 2 }, { reason: 'owner_unavailable', n: 1 }])
  })

  it('words a message to groups as groups and owners, falling back to the customers\' words', () => {
    i18n.global.locale.value = 'zh-CN'
    let audience: string | undefined = 'groups'
    const { at, reasonText, statusText } = useAudienceText(() => audience)
    expect(at('plan.customersN', { n: 3 })).toBe('3 个群')
    expect(at('plan.recipients')).toBe('将收到')
    expect(at('skipExplain.over_day_limit', { pack: 'wecom-2025' })).toContain('每个客户群每天')
    expect(reasonText('owner_unavailable')).toBe('群主不可用')
    expect(reasonText('future_reason')).toBe('future_reason')
    expect(statusText(2)).toBe('发送失败：群不可用')
    expect(statusText(1)).toBe('已发送')
    audience = 'customers'
    expect(at('plan.customersN', { n: 3 })).toBe('3 位客户')
    expect(statusText(2)).toBe('已不是好友')
    expect(statusText(9)).toBe('9')
  })

  it('sums the plan: employees who send, duplicates avoided', () => {
    const m = {
      targeted: 10, recipients: 6, skipped: { lost: 1, over_week_limit: 3 },
      senders: [sender('zhangsan', { recipients: 4, duplicates: 2 }), sender('lisi', { recipients: 2, duplicates: 1 }), sender('wangwu', { skipped: 3 })],
    }
    expect(planSummary(m)).toEqual({ targeted: 10, recipients: 6, skipped: 4, senders: 2, duplicates: 3 })
  })

  it('says each reason and status in both languages', () => {
    for (const locale of ['zh-CN', 'en-US'] as const) {
      i18n.global.locale.value = locale
      for (const r of ['lost', 'not_friend', 'over_day_limit', 'over_week_limit', 'over_month_limit']) {
        expect(i18n.global.te(`messages.skip.${r}`), r).toBe(true)
        expect(i18n.global.te(`messages.skipExplain.${r}`), r).toBe(true)
      }
      for (const s of [-1, 0, 1, 2, 3, 4, 5]) expect(i18n.global.te(statusKey(s)), String(s)).toBe(true)
      for (const r of ['owner_unavailable']) {
        expect(i18n.global.te(`messages.skip.${r}`), r).toBe(true)
        expect(i18n.global.te(`messages.skipExplain.${r}`), r).toBe(true)
      }
      for (const s of [-1, 0, 1, 2, 3, 4, 5]) expect(i18n.global.te(statusKey(s, 'groups')), String(s)).toBe(true)
    }
    i18n.global.locale.value = 'zh-CN'
    expect(i18n.global.t('messages.skipExplain.over_week_limit', { pack: 'wecom-2020' })).toContain('wecom-2020')
    expect(i18n.global.t(statusKey(-1))).toBe('未提交')
    expect(i18n.global.t(statusKey(2))).toBe('已不是好友')
    expect(statusKey(9)).toBe('')
  })
})

describe('sending and following', () => {
  it('shows the submission progress by chunks', () => {
    expect(sendProgress({ state: 'scheduled', templates: 0, chunks_submitted: 0, chunks_failed: 0 })).toBe(0)
    expect(sendProgress({ state: 'sending', templates: 4, chunks_submitted: 1, chunks_failed: 0 })).toBe(25)
    expect(sendProgress({ state: 'sending', templates: 3, chunks_submitted: 1, chunks_failed: 1 })).toBe(66)
    expect(sendProgress({ state: 'sending', templates: 0, chunks_submitted: 0, chunks_failed: 0 })).toBe(0)
    expect(sendProgress({ state: 'sent', templates: 3, chunks_submitted: 2, chunks_failed: 1 })).toBe(100)
  })

  it('polls while scheduled or sending, and stops at sent, done, cancelled or failed', () => {
    expect(shouldPoll('scheduled')).toBe(true)
    expect(shouldPoll('sending')).toBe(true)
    for (const s of POLL_STOP_STATES) expect(shouldPoll(s), s).toBe(false)
    expect(POLL_STOP_STATES).toEqual(['sent', 'done', 'cancelled', 'failed'])
    expect(shouldPoll('draft')).toBe(false)
    expect(isInFlight('sent')).toBe(false)
  })

  it('cancels what has not settled; reminds a sent message with reminders left', () => {
    expect(['draft', 'scheduled', 'sending', 'sent', 'done', 'cancelled', 'failed'].filter(canCancel)).toEqual(['scheduled', 'sending', 'sent'])
    expect(canRemind({ state: 'sent', reminders_left: 1 })).toBe(true)
    expect(canRemind({ state: 'sent', reminders_left: 0 })).toBe(false)
    expect(canRemind({ state: 'done', reminders_left: 3 })).toBe(false)
    expect(confirmedOf({ confirmed_templates: 1, templates: 3 })).toBe('1/3')
  })

  it('schedules at least a minute and at most 30 days ahead', () => {
    const now = 1_700_000_000_000
    expect(scheduleProblem(null, now)).toBe('noTime')
    expect(scheduleProblem(now + 59_999, now)).toBe('message_schedule_past')
    expect(scheduleProblem(now - 1, now)).toBe('message_schedule_past')
    expect(scheduleProblem(now + 60_000, now)).toBeNull()
    expect(scheduleProblem(now + 30 * 86_400_000, now)).toBeNull()
    expect(scheduleProblem(now + 30 * 86_400_000 + 1, now)).toBe('message_schedule_too_far')
    const today = new Date(now)
    expect(scheduleDayDisabled(new Date(today.getFullYear(), today.getMonth(), today.getDate()), now)).toBe(false)
    expect(scheduleDayDisabled(new Date(now - 86_400_000), now)).toBe(true)
    expect(scheduleDayDisabled(new Date(now + 31 * 86_400_000), now)).toBe(true)
  })
})

describe('delivery chart', () => {
  const h0 = Date.UTC(2026, 10, 11, 2) // an hour start

  it('draws one bar per hour, hours without deliveries empty, on a round scale', () => {
    const chart = deliveryChart([{ hour: h0 + 3 * HOUR_MS, sent: 30 }, { hour: h0, sent: 50 }], 400, 100)
    expect(chart.unit).toBe('hour')
    expect(chart.bars.map((b) => b.sent)).toEqual([50, 0, 0, 30])
    expect(chart.max).toBe(60)
    expect(chart.total).toBe(80)
    expect(chart.bars[0]).toMatchObject({ at: h0, height: 83.3, y: 16.7 })
    expect(chart.bars[1].height).toBe(0)
    expect(chart.bars[3].x).toBeGreaterThan(chart.bars[2].x)
    expect(chart.from).toBe(h0)
    expect(chart.to).toBe(h0 + 3 * HOUR_MS)
  })

  it('keeps a lone bar narrow, centred in the box', () => {
    const chart = deliveryChart([{ hour: h0, sent: 55 }], 600, 100, 40)
    expect(chart.bars).toHaveLength(1)
    expect(chart.bars[0]).toMatchObject({ width: 40, x: 280, sent: 55 })
    expect(deliveryChart([{ hour: h0, sent: 55 }], 600, 100).bars[0].width).toBe(420)
  })

  it('groups by day over longer spans, and draws nothing without deliveries', () => {
    const chart = deliveryChart([{ hour: h0, sent: 5 }, { hour: h0 + 100 * HOUR_MS, sent: 7 }, { hour: h0 + 101 * HOUR_MS, sent: 1 }], 400, 100)
    expect(chart.unit).toBe('day')
    expect(chart.total).toBe(13)
    expect(chart.bars.reduce((a, b) => a + b.sent, 0)).toBe(13)
    expect(chart.bars.length).toBeGreaterThanOrEqual(5)
    expect(deliveryChart([], 400, 100).bars).toEqual([])
  })
})

describe('rule pack quotas', () => {
  const values: Record<string, number> = {
    'mass.customer_enterprise.enabled': 1, 'mass.customer_enterprise.limit': 0, 'mass.customer_enterprise.period': 2,
    'mass.customer_enterprise.days_in_month': 1,
  }

  it('reads and says a quota', () => {
    const q = quotaOf((k) => values[k], 'mass.customer_enterprise')
    expect(q).toEqual({ enabled: true, limit: 0, period: 2, daysInMonth: true })
    expect(quotaText(q)).toEqual({ key: 'daysInMonth', values: {} })
    expect(quotaText({ enabled: true, limit: 7, period: 1, daysInMonth: false })).toEqual({ key: 'week', values: { n: 7 } })
    expect(quotaText({ enabled: false, limit: 7, period: 1, daysInMonth: false }).key).toBe('off')
    expect(quotaOf(() => undefined, 'mass.group')).toEqual({ enabled: false, limit: 0, period: 0, daysInMonth: false })
  })

  it('writes the four keys, e.g. wecom-2025 switched to 7 per week', () => {
    expect(quotaValues('mass.customer_enterprise', { enabled: true, limit: 7, period: 1, daysInMonth: false })).toEqual({
      'mass.customer_enterprise.enabled': 1, 'mass.customer_enterprise.limit': 7, 'mass.customer_enterprise.period': 1,
      'mass.customer_enterprise.days_in_month': 0,
    })
  })
})
