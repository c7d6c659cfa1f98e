import { describe, expect, it } from 'vitest'
import type { RouteMeta } from 'vue-router'
import { guardRoute, loginLocation, refusedTitleKey, safeRedirect } from './guard'

function to(fullPath: string, meta: RouteMeta = {}, query: Record<string, string> = {}) {
  return { path: fullPath.split('?')[0], fullPath, meta, query }
}
const admin = { loggedIn: true, isAdmin: true }
const member = { loggedIn: true, isAdmin: false }
const guest = { loggedIn: false, isAdmin: false }

describe('guardRoute', () => {
  it('lets anyone see public pages', () => {
    expect(guardRoute(to('/forgot-password', { public: true }), guest)).toBe(true)
    expect(guardRoute(to('/dev/sms-inbox', { public: true }), admin)).toBe(true)
    expect(guardRoute(to('/forgot-password', { public: true }), admin)).toBe(true)
  })

  it('sends a guest to the login page with the page they wanted', () => {
    expect(guardRoute(to('/settings/members?q=1'), guest)).toEqual({ path: '/login', query: { redirect: '/settings/members?q=1' } })
    expect(guardRoute(to('/'), guest)).toEqual({ path: '/login' })
  })

  it('sends a logged-in user away from login and register, to the redirect when it is safe', () => {
    expect(guardRoute(to('/login', { public: true, guestOnly: true }), admin)).toBe('/')
    expect(guardRoute(to('/login', { public: true, guestOnly: true }, { redirect: '/apps/mine' }), admin)).toBe('/apps/mine')
    expect(guardRoute(to('/register', { public: true, guestOnly: true }, { redirect: '//evil.example' }), admin)).toBe('/')
  })

  it('sends members to the 403 page on admin pages', () => {
    expect(guardRoute(to('/settings/members', { adminOnly: true }), member)).toEqual({ path: '/403', query: { from: '/settings/members' } })
    expect(guardRoute(to('/settings/audit-log', { adminOnly: true }), admin)).toBe(true)
    expect(guardRoute(to('/apps/market'), member)).toBe(true)
  })

  it('the 403 page can name the page the guard refused, from ?from=', () => {
    const meta: Record<string, RouteMeta> = {
      '/settings/members': { adminOnly: true, titleKey: 'menu.members' },
      '/system/status': { adminOnly: true, titleKey: 'menu.systemStatus' },
      '/apps/market': { titleKey: 'menu.market' },
    }
    const resolve = (path: string) => ({ meta: meta[path.split('?')[0]] ?? { titleKey: 'notFound.title' } })
    const refused = guardRoute(to('/settings/members?q=li', { adminOnly: true }), member) as { query: { from: string } }
    expect(refusedTitleKey(refused.query.from, resolve)).toBe('menu.members')
    const status = guardRoute(to('/system/status', { adminOnly: true }), member) as { query: { from: string } }
    expect(refusedTitleKey(status.query.from, resolve)).toBe('menu.systemStatus')
    // Anything else (typed by hand) gets the generic text.
    expect(refusedTitleKey('/apps/market', resolve)).toBeNull()
    expect(refusedTitleKey('/no/such/page', resolve)).toBeNull()
    expect(refusedTitleKey('https://evil.example/', resolve)).toBeNull()
    expect(refusedTitleKey(undefined, resolve)).toBeNull()
  })
})

describe('safeRedirect', () => {
  it('accepts only paths of this console', () => {
    expect(safeRedirect('/scrm/overview')).toBe('/scrm/overview')
    expect(safeRedirect(['/apps/mine'])).toBe('/apps/mine')
    expect(safeRedirect('https://evil.example/')).toBeNull()
    expect(safeRedirect('//evil.example/')).toBeNull()
    expect(safeRedirect('/\\evil.example')).toBeNull()
    expect(safeRedirect('/login?redirect=/x')).toBeNull()
    expect(safeRedirect(undefined)).toBeNull()
  })

  it('loginLocation leaves out a pointless redirect to /', () => {
    expect(loginLocation('/')).toEqual({ path: '/login' })
    expect(loginLocation('/account')).toEqual({ path: '/login', query: { redirect: '/account' } })
  })
})
