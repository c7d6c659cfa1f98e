import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { ApiError } from '@/api/request'
import { getWecomStateApi, linkWecomApi, startWecomInstallApi, startWecomSyncApi, type WecomApi } from '@/api/wecom'
import {
  callbackUrl, callbacksReceived, installAvailable, installTarget, isSyncActive, linkRequest, syncErrorText, syncPercent,
  useWecomLink, SYNC_POLL_MS,
} from './use-wecom-link'

vi.mock('@/api/wecom', () => ({
  getWecomStateApi: vi.fn(), linkWecomApi: vi.fn(), startWecomSyncApi: vi.fn(), startWecomInstallApi: vi.fn(),
  listWecomEmployeesApi: vi.fn(),
}))

function sync(over: Partial<WecomApi.Sync> = {}): WecomApi.Sync {
  return {
    job_id: 7, state: 'running', phase: 'customers', progress_done: 300, progress_total: 500, attempts: 1,
    last_error_reason: '', last_error: '', next_attempt_at: null, created_at: 1_700_000_000_000, finished_at: null, ...over,
  }
}
function callbacks(over: Partial<WecomApi.Callbacks> = {}): WecomApi.Callbacks {
  return { url_path: '/api/v1/wecom/callback/wwkoidemo0000001', pending: 0, applied: 0, failed: 0, last_received_at: null, ...over }
}
function linkState(s: WecomApi.Sync | null = sync(), over: Partial<WecomApi.State> = {}): WecomApi.State {
  return {
    linked: true,
    corp: { corp_id: 'wwkoidemo0000001', corp_name: '锦鲤演示', mode: 'self_built', agent_id: '', linked_at: 1, last_synced_at: null, auth_cancelled_at: null },
    sync: s,
    counts: { departments: 3, employees: 20, customers: 120, follows: 130, tags: 8, groups: 2 },
    callbacks: callbacks(),
    install: { available: false },
    ...over,
  }
}
const unlinked: WecomApi.State = {
  linked: false, corp: null, sync: null, counts: { departments: 0, employees: 0, customers: 0, follows: 0, tags: 0, groups: 0 },
  callbacks: { url_path: null, pending: 0, applied: 0, failed: 0, last_received_at: null }, install: { available: false },
}

function setup(options?: { pollMs?: number }) {
  const scope = effectScope()
  let w!: ReturnType<typeof useWecomLink>
  scope.run(() => (w = useWecomLink(options)))
  return { w, scope }
}
const calls = () => vi.mocked(getWecomStateApi).mock.calls.length

beforeEach(() => {
  vi.useFakeTimers()
  vi.mocked(getWecomStateApi).mockReset()
  vi.mocked(linkWecomApi).mockReset()
  vi.mocked(startWecomSyncApi).mockReset()
  vi.mocked(startWecomInstallApi).mockReset()
})
afterEach(() => vi.useRealTimers())

describe('syncPercent', () => {
  it('is progress_done of progress_total, rounded down', () => {
    expect(syncPercent(sync({ progress_done: 300, progress_total: 500 }))).toBe(60)
    expect(syncPercent(sync({ progress_done: 1, progress_total: 3 }))).toBe(33)
    expect(syncPercent(sync({ progress_done: 2, progress_total: 3 }))).toBe(66)
    expect(syncPercent(sync({ state: 'queued', progress_done: 0, progress_total: 500 }))).toBe(0)
  })

  it('is 100 only when the sync succeeded', () => {
    expect(syncPercent(sync({ state: 'succeeded', progress_done: 480, progress_total: 500 }))).toBe(100)
    expect(syncPercent(sync({ state: 'running', progress_done: 500, progress_total: 500 }))).toBe(99)
    expect(syncPercent(sync({ state: 'failed', progress_done: 200, progress_total: 500 }))).toBe(40)
  })

  it('is 0 without a size or a sync, and never leaves 0–100', () => {
    expect(syncPercent(sync({ progress_done: 5, progress_total: 0 }))).toBe(0)
    expect(syncPercent(null)).toBe(0)
    expect(syncPercent(undefined)).toBe(0)
    expect(syncPercent(sync({ progress_done: -5, progress_total: 10 }))).toBe(0)
    expect(syncPercent(sync({ state: 'failed', progress_done: 20, progress_total: 10 }))).toBe(100)
  })
})

describe('isSyncActive and syncErrorText', () => {
  it('queued and running are active, the rest ended', () => {
    expect(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((state) => isSyncActive({ state } as WecomApi.Sync)))
      .toEqual([true, true, false, false, false])
    expect(isSyncActive(null)).toBe(false)
  })

  it('shows the last error reason in the user language', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    expect(syncErrorText(sync())).toBe('')
    expect(syncErrorText(null)).toBe('')
    expect(syncErrorText(sync({ last_error_reason: 'wecom_ip_not_trusted', last_error: 'WeCom errcode 60020' })))
      .toBe('企业微信拒绝了本服务器的 IP：请在自建应用的「企业可信 IP」中加入本服务器的出口 IP')
    expect(syncErrorText(sync({ last_error_reason: 'job_interrupted' }))).toContain('自动从中断处继续')
    expect(syncErrorText(sync({ last_error_reason: 'wecom_something_new' }))).toBe('出错了，请稍后重试')
  })
})

describe('callbackUrl and callbacksReceived', () => {
  it('joins the console origin and the path the server gives', () => {
    expect(callbackUrl('https://koi.example.com', '/api/v1/wecom/callback/ww1')).toBe('https://koi.example.com/api/v1/wecom/callback/ww1')
    expect(callbackUrl('http://10.0.0.5:8080/', '/api/v1/wecom/callback/ww1')).toBe('http://10.0.0.5:8080/api/v1/wecom/callback/ww1')
    expect(callbackUrl('https://koi.example.com', null)).toBe('')
    expect(callbackUrl('https://koi.example.com', undefined)).toBe('')
  })

  it('says whether WeCom sent anything yet', () => {
    expect(callbacksReceived(callbacks())).toBe(false)
    expect(callbacksReceived(null)).toBe(false)
    expect(callbacksReceived(callbacks({ last_received_at: 1_795_392_000_000 }))).toBe(true)
    expect(callbacksReceived(callbacks({ pending: 1 }))).toBe(true)
    expect(callbacksReceived(callbacks({ failed: 2 }))).toBe(true)
  })
})

describe('linkRequest', () => {
  it('trims every value and leaves out an empty AgentId', () => {
    expect(linkRequest({ corp_id: ' ww1 ', secret: 's \n', callback_token: '\ttok', encoding_aes_key: ' k ', agent_id: '  ' }))
      .toEqual({ corp_id: 'ww1', secret: 's', callback_token: 'tok', encoding_aes_key: 'k' })
    expect(linkRequest({ corp_id: 'a', secret: 'b', callback_token: 'c', encoding_aes_key: 'd', agent_id: ' 1000002 ' }).agent_id)
      .toBe('1000002')
  })
})

describe('useWecomLink polling', () => {
  it('asks again every 2 s while the sync runs, and stops when it ends', async () => {
    vi.mocked(getWecomStateApi)
      .mockResolvedValueOnce(linkState(sync({ state: 'queued', progress_done: 0 })))
      .mockResolvedValueOnce(linkState(sync({ progress_done: 200 })))
      .mockResolvedValueOnce(linkState(sync({ state: 'succeeded', phase: 'done', progress_done: 500, finished_at: 2 })))
    const { w } = setup()
    await w.load()
    expect(SYNC_POLL_MS).toBe(2000)
    expect(w.polling.value).toBe(true)
    await vi.advanceTimersByTimeAsync(1999)
    expect(calls()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls()).toBe(2)
    expect(syncPercent(w.state.value?.sync)).toBe(40)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls()).toBe(3)
    expect(w.state.value?.sync?.state).toBe('succeeded')
    expect(w.polling.value).toBe(false)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(calls()).toBe(3)
  })

  it('does not poll when nothing runs, nor with pollMs 0', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(unlinked)
    const a = setup()
    await a.w.load()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls()).toBe(1)
    expect(a.w.polling.value).toBe(false)

    vi.mocked(getWecomStateApi).mockReset().mockResolvedValue(linkState(sync()))
    const b = setup({ pollMs: 0 })
    await b.w.load()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls()).toBe(1)
    expect(b.w.polling.value).toBe(false)
  })

  it('stops for good when the page goes away, and ignores an answer that comes after', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValueOnce(linkState(sync({ progress_done: 100 })))
    const { w, scope } = setup()
    await w.load()
    let answer!: (s: WecomApi.State) => void
    vi.mocked(getWecomStateApi).mockImplementationOnce(() => new Promise((r) => (answer = r)))
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls()).toBe(2)
    scope.stop()
    answer(linkState(sync({ progress_done: 400 })))
    await vi.advanceTimersByTimeAsync(20_000)
    expect(calls()).toBe(2)
    expect(w.state.value?.sync?.progress_done).toBe(100)
    expect(w.polling.value).toBe(false)
  })

  it('leaving before the first poll cancels it', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValue(linkState(sync()))
    const { w, scope } = setup()
    await w.load()
    scope.stop()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls()).toBe(1)
  })

  it('waits for a slow answer before asking again', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValueOnce(linkState(sync()))
    const { w } = setup()
    await w.load()
    let answer!: (s: WecomApi.State) => void
    vi.mocked(getWecomStateApi).mockImplementationOnce(() => new Promise((r) => (answer = r)))
    await vi.advanceTimersByTimeAsync(2000)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(calls()).toBe(2)
    vi.mocked(getWecomStateApi).mockResolvedValue(linkState(sync()))
    answer(linkState(sync()))
    await vi.advanceTimersByTimeAsync(1999)
    expect(calls()).toBe(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(calls()).toBe(3)
  })

  it('keeps polling through a failed poll while the sync was running', async () => {
    vi.mocked(getWecomStateApi)
      .mockResolvedValueOnce(linkState(sync()))
      .mockRejectedValueOnce(new ApiError(0, 'network', 'Failed to fetch'))
      .mockResolvedValueOnce(linkState(sync({ state: 'succeeded', phase: 'done' })))
    const { w } = setup()
    await w.load()
    await vi.advanceTimersByTimeAsync(2000)
    expect(w.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(w.state.value?.sync?.state).toBe('running')
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls()).toBe(3)
    expect(w.error.value).toBe('')
    expect(w.polling.value).toBe(false)
  })
})

describe('useWecomLink writes', () => {
  it('links with the trimmed form, shows the answer and follows the queued sync', async () => {
    vi.mocked(linkWecomApi).mockResolvedValueOnce(linkState(sync({ state: 'queued', progress_done: 0 })))
    vi.mocked(getWecomStateApi).mockResolvedValue(linkState(sync({ state: 'succeeded', phase: 'done' })))
    const { w } = setup()
    const next = await w.link({ corp_id: ' wwkoidemo0000001 ', secret: 'koi-sandbox-secret', callback_token: 'koi-callback-token', encoding_aes_key: 'k', agent_id: '' })
    expect(next?.linked).toBe(true)
    expect(linkWecomApi).toHaveBeenCalledWith({ corp_id: 'wwkoidemo0000001', secret: 'koi-sandbox-secret', callback_token: 'koi-callback-token', encoding_aes_key: 'k' })
    expect(w.state.value?.sync?.state).toBe('queued')
    expect(w.linking.value).toBe(false)
    expect(w.polling.value).toBe(true)
    await vi.advanceTimersByTimeAsync(2000)
    expect(calls()).toBe(1)
    expect(w.state.value?.sync?.state).toBe('succeeded')
  })

  it('a refusal is shown in the user language and changes nothing', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValueOnce(unlinked)
    vi.mocked(linkWecomApi).mockRejectedValueOnce(new ApiError(422, 'wecom_invalid_credential', 'WeCom errcode 40001'))
    const { w } = setup()
    await w.load()
    expect(await w.link({ corp_id: 'ww', secret: 'wrong', callback_token: 't', encoding_aes_key: 'k', agent_id: '' })).toBeNull()
    expect(w.linkError.value).toBe('Secret 不正确：请在自建应用详情页重新查看 Secret 并完整复制')
    expect(w.state.value?.linked).toBe(false)
    expect(w.polling.value).toBe(false)
  })

  it('sync again puts the new sync on the page and polls it; a load under way is ignored', async () => {
    vi.mocked(getWecomStateApi).mockResolvedValueOnce(linkState(sync({ state: 'succeeded', phase: 'done' })))
    const { w } = setup()
    await w.load()
    let stale!: (s: WecomApi.State) => void
    vi.mocked(getWecomStateApi).mockImplementationOnce(() => new Promise((r) => (stale = r)))
    const loading = w.load()
    vi.mocked(startWecomSyncApi).mockResolvedValueOnce(sync({ job_id: 8, state: 'queued', phase: 'departments', progress_done: 0 }))
    await w.syncAgain()
    stale(linkState(sync({ state: 'succeeded', phase: 'done' })))
    await loading
    expect(w.state.value?.sync?.job_id).toBe(8)
    expect(w.state.value?.counts.customers).toBe(120)
    expect(w.polling.value).toBe(true)
    vi.mocked(getWecomStateApi).mockResolvedValue(linkState(sync({ job_id: 8 })))
    await vi.advanceTimersByTimeAsync(2000)
    expect(w.state.value?.sync?.state).toBe('running')
  })

  it('a refused sync start is thrown to the page', async () => {
    vi.mocked(startWecomSyncApi).mockRejectedValueOnce(new ApiError(422, 'wecom_not_linked', 'x'))
    const { w } = setup()
    await expect(w.syncAgain()).rejects.toMatchObject({ reason: 'wecom_not_linked' })
    expect(w.starting.value).toBe(false)
  })
})

describe('the third-party install', () => {
  it('is available only when the server says so', () => {
    expect(installAvailable(linkState(null, { install: { available: true } }))).toBe(true)
    expect(installAvailable(linkState(null))).toBe(false)
    expect(installAvailable(null)).toBe(false)
    expect(installAvailable({} as WecomApi.State)).toBe(false)
  })

  it('opens only http(s) addresses', () => {
    expect(installTarget('https://open.work.weixin.qq.com/3rdapp/install?suite_id=ww1&state=s')).toBe(
      'https://open.work.weixin.qq.com/3rdapp/install?suite_id=ww1&state=s')
    expect(installTarget('http://127.0.0.1:9100/3rdapp/install')).toBe('http://127.0.0.1:9100/3rdapp/install')
    expect(installTarget('javascript:alert(1)')).toBe('')
    expect(installTarget('/relative')).toBe('')
    expect(installTarget('')).toBe('')
    expect(installTarget(undefined)).toBe('')
  })

  it('asks for the link and opens it, spinning until the page is left', async () => {
    vi.mocked(startWecomInstallApi).mockResolvedValueOnce({ install_url: 'https://wecom.example/3rdapp/install?state=s1', expires_at: 2 })
    const { w } = setup()
    const navigate = vi.fn()
    expect(await w.install(navigate)).toBe(true)
    expect(navigate).toHaveBeenCalledWith('https://wecom.example/3rdapp/install?state=s1')
    expect(w.installing.value).toBe(true)
    expect(w.installError.value).toBe('')
    // Back from WeCom through the back-forward cache: the button works again.
    window.dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }))
    expect(w.installing.value).toBe(false)
  })

  it('a refusal is shown in the user language and opens nothing', async () => {
    vi.mocked(startWecomInstallApi).mockRejectedValueOnce(new ApiError(503, 'wecom_suite_ticket_missing', 'no suite_ticket yet'))
    const { w } = setup()
    const navigate = vi.fn()
    expect(await w.install(navigate)).toBe(false)
    expect(navigate).not.toHaveBeenCalled()
    expect(w.installing.value).toBe(false)
    expect(w.installError.value).toBe('企业微信还没有向锦鲤推送 suite_ticket，请一分钟后再试')
  })

  it('a link that is not http(s) is not opened', async () => {
    vi.mocked(startWecomInstallApi).mockResolvedValueOnce({ install_url: 'javascript:alert(1)', expires_at: 2 })
    const { w } = setup()
    const navigate = vi.fn()
    expect(await w.install(navigate)).toBe(false)
    expect(navigate).not.toHaveBeenCalled()
    expect(w.installError.value).toBe('企业微信返回了无法识别的内容，请稍后重试')
  })

  it('does not leave a page the user already left', async () => {
    let answer!: (l: WecomApi.InstallLink) => void
    vi.mocked(startWecomInstallApi).mockImplementationOnce(() => new Promise((r) => (answer = r)))
    const { w, scope } = setup()
    const navigate = vi.fn()
    const started = w.install(navigate)
    scope.stop()
    answer({ install_url: 'https://wecom.example/3rdapp/install', expires_at: 2 })
    expect(await started).toBe(false)
    expect(navigate).not.toHaveBeenCalled()
  })
})
