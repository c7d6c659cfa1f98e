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
