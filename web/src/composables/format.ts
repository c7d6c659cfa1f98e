type T = (key: string, values?: Record<string, unknown>) => string

/** 75 -> "1 min", 3700 -> "1 h 1 min", 90000 -> "1 d 1 h" (localised by t). */
export function humanizeSeconds(total: number, t: T): string {
  const s = Math.max(0, Math.floor(total))
  if (s < 60) return t('duration.seconds', { n: s })
  if (s < 3600) return t('duration.minutes', { n: Math.floor(s / 60) })
  if (s < 86400) return t('duration.hours', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) })
  return t('duration.days', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) })
}

/** Unix milliseconds as "2026-11-23 15:48" in the browser's time zone; '—' for nothing. */
export function formatDateTime(ms: number | null | undefined, withSeconds = false): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms <= 0) return '—'
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  const time = `${p(d.getHours())}:${p(d.getMinutes())}${withSeconds ? `:${p(d.getSeconds())}` : ''}`
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`
}
