type T = (key: string, values?: Record<string, unknown>) => string

/**
 * 75 -> "1 min", 3700 -> "1 h 1 min", 90000 -> "1 d 1 h" (localised by t), in the largest sensible unit.
 * `round` 'down' (the default) suits elapsed times such as an uptime; use 'up' for waits (retry_after), so that
 * 119 s reads "2 min" and the user never tries again too early.
 */
export function humanizeSeconds(total: number, t: T, round: 'down' | 'up' = 'down'): string {
  const r = round === 'up' ? Math.ceil : Math.floor
  const s = Math.max(0, r(total))
  if (s < 60) return t('duration.seconds', { n: s })
  const minutes = r(s / 60)
  if (minutes < 60) return t('duration.minutes', { n: minutes })
  if (minutes < 24 * 60) return t('duration.hours', { h: Math.floor(minutes / 60), m: minutes % 60 })
  const hours = r(s / 3600)
  return t('duration.days', { d: Math.floor(hours / 24), h: hours % 24 })
}

/** Unix milliseconds as "2026-11-23 15:48" in the browser's time zone; '—' for nothing. */
export function formatDateTime(ms: number | null | undefined, withSeconds = false): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—'
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  const time = `${p(d.getHours())}:${p(d.getMinutes())}${withSeconds ? `:${p(d.getSeconds())}` : ''}`
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`
}

/**
 * How long ago `ms` was, for recent events (a notification): "刚刚", "5 分钟前", "3 小时前", "2 天前" (localised by t);
 * a week or more ago, and anything in the future beyond a minute (a clock ahead of the browser's), the date and time.
 */
export function formatTimeAgo(ms: number | null | undefined, t: T, now = Date.now()): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—'
  const seconds = Math.floor((now - ms) / 1000)
  if (seconds < -60) return formatDateTime(ms)
  if (seconds < 60) return t('ago.justNow')
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return t('ago.minutes', { n: minutes })
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return t('ago.hours', { n: hours })
  const days = Math.floor(hours / 24)
  if (days < 7) return t('ago.days', { n: days })
  return formatDateTime(ms)
}
