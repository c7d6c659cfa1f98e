import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '@/api/request'
import { activateAppApi, listAppsApi, type AppsApi } from '@/api/apps'
import { useAppsStore } from '@/stores/use-apps-store'
import { useSessionStore } from '@/stores/use-session-store'
import { useAppMarket } from './use-app-market'

vi.mock('@/api/apps', () => ({ listAppsApi: vi.fn(), activateAppApi: vi.fn() }))

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  useSessionStore().set({
    account: { id: 1, phone: '13800000000', name: '王', role: 'admin', status: 'active' },
    team: { id: 1, name: 'T' },
    apps: [
      { key: 'scrm', activated: false, activated_at: null },
      { key: 'cloud_store', activated: false, activated_at: null },
    ],
  })
  vi.mocked(listAppsApi).mockReset()
  vi.mocked(activateAppApi).mockReset()
})

describe('useAppMarket', () => {
  it('activating an app updates the session, so the switcher and / follow at once', async () => {
    vi.mocked(activateAppApi).mockResolvedValue({ key: 'cloud_store', activated: true, activated_at: 5, activated_by_name: '王' })
    const market = useAppMarket()
    const apps = useAppsStore()
    expect(apps.homePath).toBe('/apps/market')
    expect(await market.activate('cloud_store')).toBe(true)
    expect(apps.isActivated('cloud_store')).toBe(true)
    expect(apps.homePath).toBe('/store/overview')
    const item = market.apps.value.find((a) => a.key === 'cloud_store')!
    expect(item.activatedByName).toBe('王')
    expect(item.activatedAt).toBe(5)
  })

  it('the catalogue from GET /apps corrects the session', async () => {
    vi.mocked(listAppsApi).mockResolvedValue({
      items: [
        { key: 'scrm', activated: true, activated_at: 9, activated_by_name: '李' },
        { key: 'cloud_store', activated: false, activated_at: null, activated_by_name: null },
      ],
    })
    const market = useAppMarket()
    await market.load()
    expect(useAppsStore().isActivated('scrm')).toBe(true)
    expect(market.apps.value.map((a) => [a.key, a.activated])).toEqual([['scrm', true], ['cloud_store', false]])
  })

  it('an answer to GET /apps that started before an activation does not undo it', async () => {
    let answer!: (v: { items: AppsApi.Item[] }) => void
    vi.mocked(listAppsApi).mockImplementationOnce(() => new Promise((r) => (answer = r)))
    vi.mocked(activateAppApi).mockResolvedValue({ key: 'cloud_store', activated: true, activated_at: 5, activated_by_name: '王' })
    const market = useAppMarket()
    const loading = market.load()
    expect(await market.activate('cloud_store')).toBe(true)
    answer({
      items: [
        { key: 'scrm', activated: true, activated_at: 9, activated_by_name: '李' },
        { key: 'cloud_store', activated: false, activated_at: null, activated_by_name: null },
      ],
    })
    await loading
    const apps = useAppsStore()
    expect(apps.isActivated('cloud_store')).toBe(true)
    expect(market.apps.value.find((a) => a.key === 'cloud_store')?.activatedByName).toBe('王')
    expect(market.loading.value).toBe(false)
    // The next load, started after the activation, is taken as it is.
    vi.mocked(listAppsApi).mockResolvedValueOnce({
      items: [
        { key: 'scrm', activated: true, activated_at: 9, activated_by_name: '李' },
        { key: 'cloud_store', activated: true, activated_at: 5, activated_by_name: '王' },
      ],
    })
    await market.load()
    expect(apps.isActivated('scrm')).toBe(true)
    expect(market.apps.value.find((a) => a.key === 'scrm')?.activatedByName).toBe('李')
  })

  it('a member who tries is told only admins can', async () => {
    vi.mocked(activateAppApi).mockRejectedValue(new ApiError(403, 'admin_only', 'x'))
    const market = useAppMarket()
    expect(await market.activate('scrm')).toBe(false)
    expect(market.error.value).toBe('仅团队管理员可以执行此操作')
    expect(useAppsStore().isActivated('scrm')).toBe(false)
  })
})
