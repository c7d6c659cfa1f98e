import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { APP_STORAGE_KEY, appOfApiPath, appOfPath, useAppsStore } from './use-apps-store'
import { useLocaleStore } from './use-locale-store'
import { SESSION_RETRY_MS, useSessionStore } from './use-session-store'
import { i18n, LOCALE_STORAGE_KEY } from '@/locales'
import type { AuthApi } from '@/api/auth'

function session(apps: Partial<Record<AuthApi.AppKey, boolean>> = {}, role: 'admin' | 'member' = 'admin'): AuthApi.Session {
  return {
    account: { id: 7, phone: '13800000000', name: '王小锦', role, status: 'active' },
    team: { id: 3, name: '锦鲤茶饮' },
    apps: (['scrm', 'cloud_store'] as const).map((key) => ({ key, activated: apps[key] ?? false, activated_at: apps[key] ? 1_700_000_000_000 : null })),
  }
}

function respond(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status })
}

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
})
afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('session store', () => {
  it('asks the server once however many navigations wait for it', async () => {
    const fetchMock = vi.fn(async () => respond(200, { code: 0, data: session({ scrm: true }) }))
    vi.stubGlobal('fetch', fetchMock)
    const s = useSessionStore()
    await Promise.all([s.ensureLoaded(), s.ensureLoaded()])
    await s.ensureLoaded()
    expect(fetchMock).toHaveBeenCalledTimes(1)
    expect((fetchMock.mock.calls[0] as unknown as [string])[0]).toBe('/api/v1/auth/session')
    expect(s.loggedIn).toBe(true)
    expect(s.isAdmin).toBe(true)
    expect(s.team?.name).toBe('锦鲤茶饮')
  })

  it('treats 401 as logged out, without an error', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => respond(401, { code: 401, reason: 'unauthenticated', message: 'x' })))
    const s = useSessionStore()
    await s.ensureLoaded()
    expect(s.loggedIn).toBe(false)
    expect(s.loaded).toBe(true)
    expect(s.loadError).toBe('')
    expect(s.unreachable).toBe(false)
  })

  it('a network error is not "logged out": it stays unloaded and asks again after a second', async () => {
    vi.useFakeTimers()
    const fetchMock = vi.fn()
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(respond(200, { code: 0, data: session({ scrm: true }) }))
    vi.stubGlobal('fetch', fetchMock)
    const s = useSessionStore()
    let done = false
    void s.ensureLoaded().then(() => (done = true))
    await vi.advanceTimersByTimeAsync(0)
    expect(s.loaded).toBe(false)
    expect(s.loggedIn).toBe(false)
    expect(s.loadError).toBe('无法连接服务器，请检查网络后重试')
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(SESSION_RETRY_MS)
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(done).toBe(true)
    expect(s.loggedIn).toBe(true)
    expect(s.loadError).toBe('')
  })

  it('after two failures shows "cannot reach the server"; navigations wait until a retry gets an answer', async () => {
    vi.useFakeTimers()
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    const s = useSessionStore()
    let done = false
    void s.ensureLoaded().then(() => (done = true))
    const second = s.ensureLoaded()
    await vi.advanceTimersByTimeAsync(SESSION_RETRY_MS)
    expect(s.unreachable).toBe(true)
    expect(s.loaded).toBe(false)
    expect(await s.retry()).toBe(false)
    expect(s.unreachable).toBe(true)
    expect(done).toBe(false)
    vi.stubGlobal('fetch', vi.fn(async () => respond(200, { code: 0, data: session() })))
    expect(await s.retry()).toBe(true)
    await second
    expect(done).toBe(true)
    expect(s.unreachable).toBe(false)
    expect(s.loggedIn).toBe(true)
  })

  it('a failed reload keeps a logged-in user logged in', async () => {
    const s = useSessionStore()
    s.set(session({ scrm: true }))
    vi.stubGlobal('fetch', vi.fn(async () => respond(503, { code: 503, reason: 'database_unavailable', message: 'x' })))
    expect(await s.load()).toBe(true)
    expect(s.loggedIn).toBe(true)
    expect(s.loadError).toBe('数据库暂不可用')
  })

  it('ignores an answer to a load that started before a later set or clear', async () => {
    const s = useSessionStore()
    let answer!: (r: Response) => void
    vi.stubGlobal('fetch', vi.fn(() => new Promise<Response>((r) => (answer = r))))
    // A reload (admin_only hook) is under way when the user logs out...
    s.set(session({}, 'admin'))
    const reload = s.load()
    s.clear()
    answer(respond(200, { code: 0, data: session({}, 'member') }))
    await reload
    expect(s.loggedIn).toBe(false)
    // ... or logs in as someone else.
    const again = s.load()
    s.set(session({ scrm: true }, 'admin'))
    answer(respond(401, { code: 401, reason: 'unauthenticated', message: '' }))
    await again
    expect(s.loggedIn).toBe(true)
    expect(s.isAdmin).toBe(true)
    // An answer with no write meanwhile is taken.
    const fresh = s.load()
    answer(respond(200, { code: 0, data: session({}, 'member') }))
    await fresh
    expect(s.isAdmin).toBe(false)
  })

  it('a member is not an admin; clear forgets the session', () => {
    const s = useSessionStore()
    s.set(session({}, 'member'))
    expect(s.isAdmin).toBe(false)
    s.clear()
    expect(s.loggedIn).toBe(false)
    expect(s.account).toBeNull()
  })

  it('setApp changes one app and keeps the others', () => {
    const s = useSessionStore()
    s.set(session({ scrm: true }))
    s.setApp('cloud_store', true, 42)
    expect(s.apps.find((a) => a.key === 'cloud_store')).toEqual({ key: 'cloud_store', activated: true, activated_at: 42 })
    expect(s.apps.find((a) => a.key === 'scrm')?.activated).toBe(true)
    s.setApp('scrm', false)
    expect(s.apps.find((a) => a.key === 'scrm')).toEqual({ key: 'scrm', activated: false, activated_at: null })
  })
})

describe('apps store', () => {
  it('takes activation from the session, not from the console', () => {
    const apps = useAppsStore()
    expect(apps.apps.map((a) => a.activated)).toEqual([false, false])
    expect(apps.current).toBeNull()
    expect(apps.homePath).toBe('/apps/market')
    useSessionStore().set(session({ cloud_store: true }))
    expect(apps.isActivated('cloud_store')).toBe(true)
    expect(apps.isActivated('scrm')).toBe(false)
    expect(apps.current?.key).toBe('cloud_store')
    expect(apps.homePath).toBe('/store/overview')
  })

  it('does not switch to an app that is not activated', () => {
    useSessionStore().set(session({ scrm: true }))
    const apps = useAppsStore()
    expect(apps.switchTo('cloud_store')).toBeNull()
    expect(apps.current?.key).toBe('scrm')
  })

  it('switches to an activated app, returns its home and remembers it', () => {
    useSessionStore().set(session({ scrm: true, cloud_store: true }))
    const apps = useAppsStore()
    expect(apps.current?.key).toBe('scrm')
    expect(apps.switchTo('cloud_store')).toBe('/store/overview')
    expect(apps.current?.key).toBe('cloud_store')
    expect(localStorage.getItem(APP_STORAGE_KEY)).toBe('cloud_store')
    expect(apps.homePath).toBe('/store/overview')
  })

  it('follows the page being shown, but only to activated apps', () => {
    useSessionStore().set(session({ scrm: true }))
    const apps = useAppsStore()
    apps.follow('/store/overview')
    expect(apps.current?.key).toBe('scrm')
    useSessionStore().setApp('cloud_store', true)
    apps.follow('/store/overview')
    expect(apps.current?.key).toBe('cloud_store')
    apps.follow('/settings/members')
    expect(apps.current?.key).toBe('cloud_store')
  })

  it('falls back to another activated app when the remembered one is gone', () => {
    localStorage.setItem(APP_STORAGE_KEY, 'cloud_store')
    useSessionStore().set(session({ scrm: true }))
    expect(useAppsStore().current?.key).toBe('scrm')
  })

  it('maps pages and API routes to their app', () => {
    expect(appOfPath('/scrm/overview')).toBe('scrm')
    expect(appOfPath('/store')).toBe('cloud_store')
    expect(appOfPath('/storefront')).toBeNull()
    expect(appOfPath('/apps/market/scrm')).toBeNull()
    expect(appOfApiPath('/api/v1/store/overview')).toBe('cloud_store')
    expect(appOfApiPath('/api/v1/scrm/overview?x=1')).toBe('scrm')
    expect(appOfApiPath('/api/v1/apps')).toBeNull()
  })
})

describe('locale store', () => {
  it('switches i18n and persists to localStorage', () => {
    const store = useLocaleStore()
    store.setLocale('en-US')
    expect(i18n.global.locale.value).toBe('en-US')
    expect(localStorage.getItem(LOCALE_STORAGE_KEY)).toBe('en-US')
    expect(document.documentElement.lang).toBe('en-US')
    store.setLocale('zh-CN')
    expect(i18n.global.locale.value).toBe('zh-CN')
  })
})
