import type { LocationQueryValue } from 'vue-router'

/** One value of an address query, as route.query gives it. */
export type RouteQueryValue = LocationQueryValue | LocationQueryValue[] | undefined

/** The value as a string (the first one when repeated); '' when missing. */
export function first(v: RouteQueryValue): string {
  const x = Array.isArray(v) ? v[0] : v
  return typeof x === 'string' ? x : ''
}

/** The value as an integer; null when missing or not a whole number. */
export function int(v: RouteQueryValue): number | null {
  const s = first(v)
  return /^-?\d+$/.test(s) ? Number(s) : null
}

/** The value as a comma-separated list, empty items left out. */
export function list(v: RouteQueryValue): string[] {
  return first(v).split(',').filter((x) => x !== '')
}

/** Midnight (local time) starting the day of `d`, `plusDays` later, in milliseconds. */
export function localMidnight(d: Date, plusDays = 0): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + plusDays).getTime()
}

/**
 * A range of whole local days as a date picker holds it (first and last day), from the bounds the API and the
 * address use (the start of the first day, the start of the day after the last); null unless from < to.
 */
export function pickedDays(from: number | null, to: number | null): [Date, Date] | null {
  if (from === null || to === null || from >= to) return null
  const end = new Date(to)
  return [new Date(from), new Date(end.getFullYear(), end.getMonth(), end.getDate() - 1)]
}
