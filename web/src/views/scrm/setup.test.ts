import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import ElementPlus, { ElMessage } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { getWecomStateApi, startWecomInstallApi, type WecomApi } from '@/api/wecom'
import type { AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'
import { SYNC_POLL_MS } from '@/composables/use-wecom-link'
import SetupPage from './setup.vue'

vi.mock('@/api/wecom', () => ({
  getWecomStateApi: vi.fn(), linkWecomApi: vi.fn(), startWecomSyncApi: vi.fn(), startWecomInstallApi: vi.fn(),
  listWecomEmployeesApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => ({
  ...(await importOriginal<typeof import('element-plus')>()),
  ElMessage: { success: vi.fn(), error: vi.fn(), warning: vi.fn() },
}))

const PATH = '/api/v1/wecom/callback/wwkoidemo0000001'

const session: AuthApi.Session = {
  account: { id: 7, phone: '13800000000', name: '王小锦', role: 'admin', status: 'active' },
  team: { id: 3, name: '锦鲤茶饮' },
  apps: [{ key: 'scrm', activated: true, activated_at: 1_700_000_000_000 }, { key: 'cloud_store', activated: false, activated_at: null }],
}

function sync(over: Partial<WecomApi.Sync> = {}): WecomApi.Sync {
  return {
    job_id: 7, state: 'running', phase: 'customers', progress_done: 300, progress_total: 500, attempts: 1,
    last_error_reason: '', last_error: '', next_attempt_at: null, created_at: 1_700_000_000_000, finished_at: null, ...over,
  }
}
function linked(s: WecomApi.Sync | null, callbacks: Partial<WecomApi.Callbacks> = {}): WecomApi.State {
  return {
    linked: true,
    corp: { corp_id: 'wwkoidemo0000001', corp_name: '锦鲤演示', mode: 'self_built', agent_id: '', linked_at: 1, last_synced_at: null, auth_cancelled_at: null },
    sync: s,
    counts: { departments: 3, employees: 20, customers: 120, follows: 130, tags: 8, groups: 2 },
    callbacks: { url_path: PATH, pending: 0, applied: 0, failed: 0, last_received_at: null, ...callbacks },
    install: { available: false },
  }
}
const unlinked: WecomApi.State = {
  linked: false, corp: null, sync: null, counts: { departments: 0, employees: 0, customers: 0, follows: 0, tags: 0, groups: 0 },
  callbacks: { url_path: null, pending: 0, applied: 0, failed: 0, last_received_at: null }, install: { available: false },
}
/** not linked, on a server with a WeCom suite (前往授权 works) */
const installable: WecomApi.State = { ...unlinked, install: { available: true } }
/** linked through the third-party app (the provider's data callback URL: nothing for the admin to enter) */
function installed(s: WecomApi.Sync | null = sync({ state: 'queued', phase: 'departments', progress_done: 0 })): WecomApi.State {
  const state = linked(s)
  return {
    ...state,
    corp: { ...state.corp!, corp_id: 'wwkoisuite0corp2', corp_name: '锦鲤授权测试门店', mode: 'third_party', agent_id: '1000001' },
    callbacks: { ...state.callbacks, url_path: '/api/v1/wecom/callback/wwkoisuite0corp2' },
    install: { available: true },
  }
}

let app: App | null = null
let root: HTMLElement

/** Mounts the page at `path` (WeCom's return adds a query), as `who` (the admin unless said). */
async function mountPage(path = '/scrm/setup', who: AuthApi.Session = session) {
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().set(who)
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:any(.*)*', component: { render: () => null } }],
  })
  await router.push(path)
  await router.isReady()
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp(SetupPage)
  app.use(pinia).use(i18n).use(router).use(ElementPlus).mount(root)
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
  return router
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const value = (test: string) => q(test)?.querySelector('[data-test="stat-value"]')?.textContent?.trim()
const calls = () => vi.mocked(getWecomStateApi).mock.calls.length
const text = (test: string) => q(test)?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const goButton = () => q('third-party-go') as HTMLButtonElement | null
const member: AuthApi.Session = { ...session, account: { ...session.account, id: 8, name: '店员小林', role: 'member' } }

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getWecomStateApi).mockReset()
  vi.mocked(startWecomInstallApi).mockReset()
  vi.mocked(ElMessage.success).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  vi.useRealTimers()
  vi.restoreAllMocks()
  i18n.global.locale.value = 'zh-CN'
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

  it('a sync waiting out WeCom\'s rate limit says why and when it resumes, in both languages', async () => {
    const at = new Date(2026, 10, 27, 14, 5, 9).getTime()
    const waiting = sync({ state: 'queued', last_error_reason: 'wecom_rate_limited', last_error: 'WeCom errcode 45009', next_attempt_at: at })
    vi.mocked(getWecomStateApi).mockResolvedValue(linked(waiting))
    await mountPage()
    const zh = q('sync-error')!.textContent!
    expect(zh).toContain('将于')
    expect(zh).toContain('14:05:09')
    expect(zh).toContain(i18n.global.t('errors.wecom_rate_limited'))
    i18n.global.locale.value = 'en-US'
    await nextTick()
    const en = q('sync-error')!.textContent!
    expect(en).toContain('resumes by itself at')
    expect(en).toContain('14:05:09')
    // Without a time (an older server, or not waiting) the plain retry text stays.
    vi.mocked(getWecomStateApi).mockResolvedValue(linked({ ...waiting, next_attempt_at: null }))
    q('callbacks-refresh')!.click()
    await vi.advanceTimersByTimeAsync(0)
    await nextTick()
    expect(q('sync-error')!.textContent).toContain('will be retried')
  })
})

describe('前往授权: the third-party install', () => {
  it('stays disabled, with the self-built app in use, when the server has no suite', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(unlinked)
    await mountPage()
    expect(goButton()!.disabled).toBe(true)
    expect(text('third-party-note')).toContain('服务商套件')
    expect(q('way-self-built')!.querySelector('[data-test="way-current"]')).not.toBeNull()
    expect(q('way-third-party')!.querySelector('[data-test="way-current"]')).toBeNull()
    goButton()!.click()
    await vi.advanceTimersByTimeAsync(0)
    expect(startWecomInstallApi).not.toHaveBeenCalled()
  })

  it('asks the server for the install link and opens WeCom\'s page in this tab', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installable)
    const assign = vi.spyOn(window.location, 'assign').mockImplementation(() => undefined)
    let answer!: (l: WecomApi.InstallLink) => void
    vi.mocked(startWecomInstallApi).mockImplementationOnce(() => new Promise((r) => (answer = r)))
    await mountPage()
    expect(goButton()!.disabled).toBe(false)
    expect(goButton()!.classList.contains('el-button--primary')).toBe(true)
    expect(text('third-party-note')).toContain('前往企业微信授权页')
    // Neither way is in use before the team is linked.
    expect(root.querySelector('[data-test="way-current"]')).toBeNull()

    goButton()!.click()
    await nextTick()
    expect(startWecomInstallApi).toHaveBeenCalledTimes(1)
    expect(goButton()!.classList.contains('is-loading')).toBe(true)
    answer({ install_url: 'https://open.work.weixin.qq.com/3rdapp/install?suite_id=ww1&state=s1', expires_at: 1_700_001_200_000 })
    await vi.advanceTimersByTimeAsync(0)
    expect(assign).toHaveBeenCalledWith('https://open.work.weixin.qq.com/3rdapp/install?suite_id=ww1&state=s1')
    expect(q('install-error')).toBeNull()
  })

  it('shows the refusal in the user language and stays on the page', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installable)
    const assign = vi.spyOn(window.location, 'assign').mockImplementation(() => undefined)
    vi.mocked(startWecomInstallApi).mockRejectedValueOnce(new ApiError(503, 'wecom_suite_ticket_missing', 'no suite_ticket yet'))
    await mountPage()
    goButton()!.click()
    await vi.advanceTimersByTimeAsync(0)
    await nextTick()
    expect(text('install-error')).toBe('企业微信还没有向锦鲤推送 suite_ticket，请一分钟后再试')
    expect(assign).not.toHaveBeenCalled()
    expect(goButton()!.disabled).toBe(false)
    expect(goButton()!.classList.contains('is-loading')).toBe(false)
  })

  it('is disabled for a member, who is told to ask the admin', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installable)
    await mountPage('/scrm/setup', member)
    expect(goButton()!.disabled).toBe(true)
    expect(q('member-note')).not.toBeNull()
  })

  it('?installed=1: says which corp was linked, once, and takes the query out of the address', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installed())
    const router = await mountPage('/scrm/setup?installed=1&from=wecom')
    expect(ElMessage.success).toHaveBeenCalledTimes(1)
    expect(ElMessage.success).toHaveBeenCalledWith('已授权「锦鲤授权测试门店」，正在同步企业微信数据')
    expect(router.currentRoute.value.fullPath).toBe('/scrm/setup?from=wecom')
    expect(q('install-return-error')).toBeNull()
  })

  it('?install_error=<reason>: the reason in the user language, and the query taken out', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installable)
    const router = await mountPage('/scrm/setup?install_error=install_state_invalid')
    expect(q('install-return-error')!.getAttribute('data-reason')).toBe('install_state_invalid')
    expect(text('install-return-error')).toContain('企业微信授权未完成')
    expect(text('install-return-reason')).toBe('授权链接已过期（有效期 20 分钟）或已使用过，请重新点击「前往授权」')
    expect(router.currentRoute.value.fullPath).toBe('/scrm/setup')
    expect(ElMessage.success).not.toHaveBeenCalled()
    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text('install-return-reason')).toContain('The authorisation link has expired')
  })

  it('an unknown or malformed reason gets the generic text', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installable)
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await mountPage('/scrm/setup?install_error=%3Cscript%3E')
    expect(text('install-return-reason')).toBe('出错了，请稍后重试')
  })

  it('a third-party corp: that way is in use, its mode is named, and its callbacks need no URL', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(installed())
    await mountPage()
    expect(text('corp-mode')).toBe('第三方应用授权')
    expect(text('corp-name')).toBe('锦鲤授权测试门店')
    expect(q('way-third-party')!.querySelector('[data-test="way-current"]')).not.toBeNull()
    expect(q('way-self-built')!.querySelector('[data-test="way-current"]')).toBeNull()
    expect(goButton()).toBeNull()
    expect(q('edit-link')).toBeNull()
    expect(q('link-form')).toBeNull()
    expect(q('callbacks-card')).not.toBeNull()
    expect(q('callbacks-provider-note')).not.toBeNull()
    expect(q('callback-url')).toBeNull()
    expect(q('callbacks-guide')).toBeNull()
    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text('corp-mode')).toBe('Third-party app')
  })

  it('an uninstalled app (cancel_auth): the page says so and offers 前往授权 again', async () => {
    const state = installed()
    vi.mocked(getWecomStateApi).mockResolvedValue({ ...state, corp: { ...state.corp!, auth_cancelled_at: 1_795_392_000_000 } })
    await mountPage()
    expect(text('auth-cancelled')).toContain('取消授权')
    expect(goButton()).not.toBeNull()
    expect(goButton()!.disabled).toBe(false)
    expect(q('way-third-party')!.querySelector('[data-test="way-current"]')).not.toBeNull()
  })

  it('a self-built corp keeps its URL and guide', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(linked(sync({ state: 'succeeded', phase: 'done' })))
    await mountPage()
    expect(text('corp-mode')).toBe('自建应用')
    expect(q('way-self-built')!.querySelector('[data-test="way-current"]')).not.toBeNull()
    expect(q('callbacks-provider-note')).toBeNull()
    expect(q('callbacks-guide')).not.toBeNull()
    expect(q('edit-link')).not.toBeNull()
  })
})
