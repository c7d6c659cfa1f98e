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
