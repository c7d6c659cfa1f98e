// Where a navigation may go, as a pure function of the route and the session (tested in guard.test.ts).
import type { RouteLocationNormalized, RouteLocationRaw, RouteMeta } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** locale key of the page title */
    titleKey?: string
    /** reachable without a session */
    public?: boolean
    /** a logged-in user is sent on (login, register) */
    guestOnly?: boolean
    /** account management, the audit log, system status, fan matching: admins only (members see the 403 page) */
    adminOnly?: boolean
  }
}

export interface GuardState {
  loggedIn: boolean
  isAdmin: boolean
}

export const LOGIN_PATH = '/login'
export const FORBIDDEN_PATH = '/403'

/** A redirect target from the query, only when it is a path of this console (no //host, no scheme). */
export function safeRedirect(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value
  if (typeof v !== 'string' || !v.startsWith('/') || v.startsWith('//') || v.startsWith('/\\')) return null
  if (v === LOGIN_PATH || v.startsWith(LOGIN_PATH + '?')) return null
  return v
}

/** The login page, remembering where the user wanted to go. */
export function loginLocation(fullPath: string): RouteLocationRaw {
  const redirect = safeRedirect(fullPath)
  return redirect && redirect !== '/' ? { path: LOGIN_PATH, query: { redirect } } : { path: LOGIN_PATH }
}

/**
 * The title key of the admin page a member was refused, from the 403 page's `?from=` (set by guardRoute and by the
 * admin_only request hook), or null when `from` is missing, not a path of this console or not an admin page.
 */
export function refusedTitleKey(from: unknown, resolve: (path: string) => { meta: RouteMeta }): string | null {
  const path = safeRedirect(from)
  if (!path) return null
  const { meta } = resolve(path)
  return meta.adminOnly && meta.titleKey ? meta.titleKey : null
}

export function guardRoute(
  to: Pick<RouteLocationNormalized, 'path' | 'fullPath' | 'meta' | 'query'>,
  s: GuardState,
): true | RouteLocationRaw {
  if (to.meta.public) {
    if (to.meta.guestOnly && s.loggedIn) return safeRedirect(to.query.redirect) ?? '/'
    return true
  }
  if (!s.loggedIn) return loginLocation(to.fullPath)
  if (to.meta.adminOnly && !s.isAdmin) return { path: FORBIDDEN_PATH, query: { from: to.fullPath } }
  return true
}
