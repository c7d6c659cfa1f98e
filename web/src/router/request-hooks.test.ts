import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { requestClient, setRequestHooks } from '@/api/request'
import { useSessionStore } from '@/stores/use-session-store'
import { installRequestHooks } from './request-hooks'

const warn = vi.hoisted(() => vi.fn())
vi.mock('element-plus', () => ({ ElMessage: { warning: warn } }))

const Empty = { render: () => null }
let router: Router

function respond(status: number, reason: string) {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: status, reason, message: '' }), { status })))
}

beforeEach(async () => {
  setActivePinia(createPinia())
  warn.mockReset()
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', component: Empty, meta: { public: true } },
      { path: '/settings/members', component: Empty, meta: { adminOnly: true } },
      { path: '/store/overview', component: Empty },
      { path: '/403', component: Empty },
    ],
  })
  installRequestHooks(router)
  useSessionStore().set({
    account: { id: 1, phone: '13800000000', name: '王', role: 'admin', status: 'active' },
    team: { id: 1, name: 'T' },
    apps: [
      { key: 'scrm', activated: true, activated_at: 1 },
      { key: 'cloud_store', activated: true, activated_at: 1 },
    ],
  })
})
afterEach(() => {
  vi.unstubAllGlobals()
  setRequestHooks({})
})

describe('request hooks', () => {
  it('a lost session clears the store and goes to the login page, back to where the user was', async () => {
    await router.push('/settings/members?q=li')
    respond(401, 'unauthenticated')
    await requestClient.get('/api/v1/members').catch(() => undefined)
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/login'))
    expect(router.currentRoute.value.query.redirect).toBe('/settings/members?q=li')
    expect(useSessionStore().loggedIn).toBe(false)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('stays on a public page', async () => {
    await router.push('/login')
    respond(401, 'unauthenticated')
    await requestClient.post('/api/v1/auth/logout-all').catch(() => undefined)
    expect(router.currentRoute.value.fullPath).toBe('/login')
  })

  it('app_not_activated from an app API marks that app as not activated', async () => {
    await router.push('/store/overview')
    respond(403, 'app_not_activated')
    await requestClient.get('/api/v1/store/overview').catch(() => undefined)
    const apps = useSessionStore().apps
    expect(apps.find((a) => a.key === 'cloud_store')?.activated).toBe(false)
    expect(apps.find((a) => a.key === 'scrm')?.activated).toBe(true)
  })

  it('admin_only reloads the session and leaves an admin page for the 403 page', async () => {
    await router.push('/settings/members')
    const fetchMock = vi.fn(async (url: string) =>
      url === '/api/v1/auth/session'
        ? new Response(JSON.stringify({ code: 0, data: { ...useSessionStore().session!, account: { ...useSessionStore().account!, role: 'member' } } }))
        : new Response(JSON.stringify({ code: 403, reason: 'admin_only', message: '' }), { status: 403 }),
    )
    vi.stubGlobal('fetch', fetchMock)
    await requestClient.get('/api/v1/members').catch(() => undefined)
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/403'))
    expect(useSessionStore().isAdmin).toBe(false)
  })
})
