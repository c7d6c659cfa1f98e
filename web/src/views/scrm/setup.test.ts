import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { getWecomStateApi, type WecomApi } from '@/api/wecom'
import type { AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'
import { SYNC_POLL_MS } from '@/composables/use-wecom-link'
import SetupPage from './setup.vue'

vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn(), linkWecomApi: vi.fn(), startWecomSyncApi: vi.fn(), listWecomEmployeesApi: vi.fn() }))

const PATH = '/api/v1/wecom/callback/wwkoidemo0000001'

const session: AuthApi.Session = {
  account: { id: 7, phone: '13800000000', name: '王小锦', role: 'admin', status: 'active' },
  team: { id: 3, name: '锦鲤茶饮' },
  apps: [{ key: 'scrm', activated: true, activated_at: 1_700_000_000_000 }, { key: 'cloud_store', activated: false, activated_at: null }],
}

function sync(over: Partial<WecomApi.Sync> = {}): WecomApi.Sync {
  return {
    job_id: 7, state: 'running', phase: 'customers', progress_done: 300, progress_total: 500, attempts: 1,
    last_error_reason: '', last_error: '', created_at: 1_700_000_000_000, finished_at: null, ...over,
  }
}
function linked(s: WecomApi.Sync | null, callbacks: Partial<WecomApi.Callbacks> = {}): WecomApi.State {
  return {
    linked: true,
    corp: { corp_id: 'wwkoidemo0000001', corp_name: '锦鲤演示', mode: 'self_built', agent_id: '', linked_at: 1, last_synced_at: null },
    sync: s,
    counts: { departments: 3, employees: 20, customers: 120, follows: 130, tags: 8, groups: 2 },
    callbacks: { url_path: PATH, pending: 0, applied: 0, failed: 0, last_received_at: null, ...callbacks },
  }
}
const unlinked: WecomApi.State = {
  linked: false, corp: null, sync: null, counts: { departments: 0, employees: 0, customers: 0, follows: 0, tags: 0, groups: 0 },
  callbacks: { url_path: null, pending: 0, applied: 0, failed: 0, last_received_at: null },
}

let app: App | null = null
let root: HTMLElement

async function mountPage() {
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().set(session)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:any(.*)*', component: { render: () => null } }],
  })
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp(SetupPage)
  app.use(pinia).use(i18n).use(router).use(ElementPlus).mount(root)
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const value = (test: string) => q(test)?.querySelector('[data-test="stat-value"]')?.textContent?.trim()
const calls = () => vi.mocked(getWecomStateApi).mock.calls.length

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getWecomStateApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  vi.useRealTimers()
})

describe('the 企业授权 page and its callbacks card', () => {
  it('is not shown before the corp is linked', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(unlinked)
    await mountPage()
    expect(q('link-form')).not.toBeNull()
    expect(q('callbacks-card')).toBeNull()
  })

  it('shows the URL on this origin once linked, and follows the sync polling without a poller of its own', async () => {
    vi.mocked(getWecomStateApi)
      .mockResolvedValueOnce(linked(sync()))
      .mockResolvedValueOnce(linked(sync({ progress_done: 400 }), { applied: 5, pending: 2, last_received_at: 1_795_392_000_000 }))
      .mockResolvedValue(linked(sync({ state: 'succeeded', phase: 'done', progress_done: 500, finished_at: 2 }), { applied: 7, failed: 1, last_received_at: 1_795_392_001_000 }))
    await mountPage()
    expect(q('callbacks-card')).not.toBeNull()
    expect((q('callback-url') as HTMLInputElement).value).toBe(`${window.location.origin}${PATH}`)
    expect(q('callbacks-empty')).not.toBeNull()

    await vi.advanceTimersByTimeAsync(SYNC_POLL_MS)
    await nextTick()
    expect(calls()).toBe(2)
    expect(value('callbacks-applied')).toBe('5')
    expect(value('callbacks-pending')).toBe('2')

    await vi.advanceTimersByTimeAsync(SYNC_POLL_MS)
    await nextTick()
    expect(calls()).toBe(3)
    expect(value('callbacks-applied')).toBe('7')
    expect(q('callbacks-failed-tag')).not.toBeNull()

    // The sync ended: the page's polling stops, and nothing else polls for the card.
    await vi.advanceTimersByTimeAsync(20 * SYNC_POLL_MS)
    expect(calls()).toBe(3)
  })

  it('refresh asks for the state once', async () => {
    vi.mocked(getWecomStateApi)
      .mockResolvedValueOnce(linked(sync({ state: 'succeeded', phase: 'done' })))
      .mockResolvedValueOnce(linked(sync({ state: 'succeeded', phase: 'done' }), { pending: 4, last_received_at: 1_795_392_000_000 }))
    await mountPage()
    expect(q('callbacks-empty')).not.toBeNull()
    q('callbacks-refresh')!.click()
    await vi.advanceTimersByTimeAsync(0)
    await nextTick()
    expect(calls()).toBe(2)
    expect(value('callbacks-pending')).toBe('4')
  })
})
