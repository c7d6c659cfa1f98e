import { describe, expect, it } from 'vitest'
import { formatDateTime, formatTimeAgo, humanizeSeconds } from './format'
import { i18n } from '@/locales'

describe('humanizeSeconds', () => {
  const t = i18n.global.t as (k: string, v?: Record<string, unknown>) => string
  it('picks the largest sensible unit', () => {
    i18n.global.locale.value = 'en-US'
    expect(humanizeSeconds(42, t)).toBe('42 s')
    expect(humanizeSeconds(125, t)).toBe('2 min')
    expect(humanizeSeconds(3 * 3600 + 5 * 60, t)).toBe('3 h 5 min')
    expect(humanizeSeconds(2 * 86400 + 3 * 3600, t)).toBe('2 d 3 h')
    expect(humanizeSeconds(-5, t)).toBe('0 s')
    i18n.global.locale.value = 'zh-CN'
    expect(humanizeSeconds(3 * 3600 + 5 * 60, t)).toBe('3 小时 5 分')
    expect(humanizeSeconds(119, t)).toBe('1 分钟')
  })

  it('rounds waits up, so that the user does not come back too early', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(humanizeSeconds(119, t, 'up')).toBe('2 分钟')
    expect(humanizeSeconds(900, t, 'up')).toBe('15 分钟')
    i18n.global.locale.value = 'en-US'
    expect(humanizeSeconds(119, t, 'up')).toBe('2 min')
    expect(humanizeSeconds(59.2, t, 'up')).toBe('1 min')
    expect(humanizeSeconds(42, t, 'up')).toBe('42 s')
    expect(humanizeSeconds(3599, t, 'up')).toBe('1 h 0 min')
    expect(humanizeSeconds(3601, t, 'up')).toBe('1 h 1 min')
    expect(humanizeSeconds(86399, t, 'up')).toBe('1 d 0 h')
    expect(humanizeSeconds(86400 + 1, t, 'up')).toBe('1 d 1 h')
    i18n.global.locale.value = 'zh-CN'
  })
})

describe('formatTimeAgo', () => {
  const t = i18n.global.t as (k: string, v?: Record<string, unknown>) => string
  const now = 1_790_000_000_000
  it('says how long ago in the largest unit, within a week', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(formatTimeAgo(now - 20_000, t, now)).toBe('刚刚')
    expect(formatTimeAgo(now - 5 * 60_000, t, now)).toBe('5 分钟前')
    expect(formatTimeAgo(now - 3 * 3600_000 - 1, t, now)).toBe('3 小时前')
    expect(formatTimeAgo(now - 2 * 86400_000, t, now)).toBe('2 天前')
    i18n.global.locale.value = 'en-US'
    expect(formatTimeAgo(now - 20_000, t, now)).toBe('just now')
    expect(formatTimeAgo(now - 5 * 60_000, t, now)).toBe('5 min ago')
    expect(formatTimeAgo(now - 3 * 3600_000, t, now)).toBe('3 h ago')
    expect(formatTimeAgo(now - 6 * 86400_000, t, now)).toBe('6 d ago')
    i18n.global.locale.value = 'zh-CN'
  })

  it('gives the date and time a week or more ago, or well in the future; a dash for nothing', () => {
    expect(formatTimeAgo(now - 7 * 86400_000, t, now)).toBe(formatDateTime(now - 7 * 86400_000))
    expect(formatTimeAgo(now + 3600_000, t, now)).toBe(formatDateTime(now + 3600_000))
    expect(formatTimeAgo(now + 30_000, t, now)).toBe(i18n.global.t('ago.justNow'))
    expect(formatTimeAgo(null, t, now)).toBe('—')
  })
})
