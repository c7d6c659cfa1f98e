import { beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  getSidebarAgentConfigApi, getSidebarCustomerApi, getSidebarSessionApi, getSidebarTagGroupsApi, markSidebarTagsApi,
  type SidebarApi,
} from '@/api/sidebar'
import { signedUrl, tagDiff, useSidebar } from './use-sidebar'
import { bridgeError, bridgeOk, installFramedBridge, type BridgeResult } from '@/views/sidebar/jsbridge'

vi.mock('@/api/sidebar', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/sidebar')>()),
  getSidebarSessionApi: vi.fn(),
  getSidebarAgentConfigApi: vi.fn(),
  getSidebarCustomerApi: vi.fn(),
  getSidebarTagGroupsApi: vi.fn(),
  markSidebarTagsApi: vi.fn(),
}))

const CORP = 'wwkoidemo0000001'
const session: SidebarApi.Session = {
  corp_id: CORP, userid: 'zhangsan', employee_name: '张三', expires_at: 1, csrf_token: 'csrf-1', bridge_origin: '',
}
const tag = (id: string) => ({ tag_id: id, name: `标签${id}`, group_name: '组' })
function customer(tags = [tag('t1')]): SidebarApi.Customer {
  return {
    external_userid: 'wmCUST', name: '李雷', type: 1, gender: 1, corp_name: '', position: '', stage_name: '',
    relationship: {
      userid: 'zhangsan', employee_name: '张三', remark: '老客户', description: '', add_time: 1, add_way: 1, state: '',
      remark_mobiles: [], remark_corp_name: '', active: true, deleted_by: '', deleted_at: null, tags,
    },
    groups: [], timeline: [],
  }
}

/** A window in WeCom's client: its bridge answers agentConfig and getCurExternalContact as told. */
function wecomWindow(answers: Record<string, BridgeResult>, href = 'https://koi.example.com/sidebar/x/customer#top') {
  const calls: { name: string; params: Record<string, unknown> }[] = []
  const assign = vi.fn()
  const win = {
    WeixinJSBridge: {
      invoke(name: string, params: Record<string, unknown>, cb: (r: BridgeResult) => void) {
        calls.push({ name, params })
        cb(answers[name] ?? { err_msg: `${name}:fail not supported` })
      },
    },
    location: { href, assign },
    document,
  } as unknown as Window
  return { win, calls, assign }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getSidebarSessionApi).mockReset().mockResolvedValue(session)
  vi.mocked(getSidebarAgentConfigApi).mockReset().mockResolvedValue({
    corp_id: CORP, agent_id: '1000002', timestamp: 1795392000, nonce_str: 'n0nce', signature: 'sig',
  })
  vi.mocked(getSidebarCustomerApi).mockReset().mockResolvedValue(customer())
  vi.mocked(getSidebarTagGroupsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(markSidebarTagsApi).mockReset()
})

describe('the sidebar flow', () => {
  it('signs agentConfig for the page without its fragment, then shows the chat customer', async () => {
    const { win, calls } = wecomWindow({
      agentConfig: { err_msg: 'agentConfig:ok' },
      getCurExternalContact: { err_msg: 'getCurExternalContact:ok', userId: 'wmCUST' },
    })
    const sb = useSidebar(CORP, 'customer', win)
    await sb.start()
    expect(getSidebarAgentConfigApi).toHaveBeenCalledWith('https://koi.example.com/sidebar/x/customer')
    expect(calls.map((c) => c.name)).toEqual(['agentConfig', 'getCurExternalContact'])
    expect(calls[0].params).toMatchObject({
      corpid: CORP, agentid: '1000002', timestamp: '1795392000', nonceStr: 'n0nce', signature: 'sig',
      jsApiList: ['getCurExternalContact'],
    })
    expect(getSidebarCustomerApi).toHaveBeenCalledWith('wmCUST')
    expect(sb.phase.value).toBe('ready')
    expect(sb.customer.value?.name).toBe('李雷')
  })

  it('goes to WeCom to sign in when there is no session, or a session of another corp', async () => {
    vi.mocked(getSidebarSessionApi).mockRejectedValueOnce(new ApiError(401, 'sidebar_unauthenticated', 'x'))
    const first = wecomWindow({})
    await useSidebar(CORP, 'customer', first.win).start()
    expect(first.assign).toHaveBeenCalledWith(`/api/v1/sidebar/oauth/start?corp=${CORP}&page=customer`)

    vi.mocked(getSidebarSessionApi).mockResolvedValueOnce({ ...session, corp_id: 'wwother' })
    const second = wecomWindow({})
    await useSidebar(CORP, 'customer', second.win).start()
    expect(second.assign).toHaveBeenCalledTimes(1)
    expect(getSidebarAgentConfigApi).not.toHaveBeenCalled()
  })

  it('shows why the sign-in failed instead of trying again', async () => {
    const { win, assign } = wecomWindow({})
    const sb = useSidebar(CORP, 'customer', win)
    await sb.start('sidebar_not_an_employee')
    expect(sb.phase.value).toBe('failed')
    expect(sb.problem.value?.signIn).toBe(true)
    expect(i18n.global.t(sb.problem.value!.key, sb.problem.value!.values ?? {})).toContain('锦鲤中没有你的员工信息')
    expect(getSidebarSessionApi).not.toHaveBeenCalled()
    expect(assign).not.toHaveBeenCalled()
  })

  it('tells a refused agentConfig, a chat without a customer, and a page outside WeCom apart', async () => {
    const refused = wecomWindow({ agentConfig: { err_msg: 'agentConfig:fail invalid signature' } })
    const a = useSidebar(CORP, 'customer', refused.win)
    await a.start()
    expect(a.problem.value).toEqual({ key: 'sidebar.bridgeFailed', values: { reason: 'invalid signature' } })
    expect(refused.calls.map((c) => c.name)).toEqual(['agentConfig'])

    const group = wecomWindow({
      agentConfig: { err_msg: 'agentConfig:ok' },
      getCurExternalContact: { err_msg: 'getCurExternalContact:fail without context of external contact' },
    })
    const b = useSidebar(CORP, 'customer', group.win)
    await b.start()
    expect(b.problem.value?.key).toBe('sidebar.noContact')

    vi.useFakeTimers()
    try {
      const outside = { location: { href: 'https://koi.example.com/sidebar/x/customer', assign: vi.fn() }, document } as unknown as Window
      Object.defineProperty(outside, 'parent', { value: outside })
      const c = useSidebar(CORP, 'customer', outside)
      const started = c.start()
      await vi.advanceTimersByTimeAsync(3100)
      await started
      expect(c.problem.value?.key).toBe('sidebar.notInWecom')
    } finally {
      vi.useRealTimers()
    }
  })

  it('saves only the tags that changed, with the session’s CSRF token', async () => {
    const { win } = wecomWindow({
      agentConfig: { err_msg: 'agentConfig:ok' },
      getCurExternalContact: { err_msg: 'getCurExternalContact:ok', userId: 'wmCUST' },
    })
    const sb = useSidebar(CORP, 'customer', win)
    await sb.start()
    vi.mocked(markSidebarTagsApi).mockResolvedValueOnce({ tags: [tag('t2')] })
    const reread = { ...customer([tag('t2')]), timeline: [{ at: 2, kind: 'tagged' as const, userid: 'zhangsan', employee_name: '张三', detail: '标签t2' }] }
    vi.mocked(getSidebarCustomerApi).mockResolvedValueOnce(reread)
    expect(await sb.saveTags(['t2'])).toBe(true)
    expect(markSidebarTagsApi).toHaveBeenCalledWith('wmCUST', ['t2'], ['t1'], 'csrf-1')
    expect(sb.customer.value?.relationship?.tags.map((x) => x.tag_id)).toEqual(['t2'])
    expect(sb.customer.value?.timeline[0].kind).toBe('tagged')  // read again: the activity shows the tagging
    // Nothing changed: no call.
    expect(await sb.saveTags(['t2'])).toBe(true)
    expect(markSidebarTagsApi).toHaveBeenCalledTimes(1)
    // A refusal stays on the page with its text.
    vi.mocked(markSidebarTagsApi).mockRejectedValueOnce(new ApiError(404, 'tag_not_found', 'x'))
    expect(await sb.saveTags([])).toBe(false)
    expect(sb.saveError.value).not.toBe('')
    expect(sb.customer.value?.relationship?.tags.map((x) => x.tag_id)).toEqual(['t2'])
  })
})

describe('helpers', () => {
  it('signs the URL without its fragment and diffs tag lists', () => {
    expect(signedUrl('https://a.b/c?d=1#e')).toBe('https://a.b/c?d=1')
    expect(signedUrl('https://a.b/c')).toBe('https://a.b/c')
    expect(tagDiff(['a', 'b'], ['b', 'c'])).toEqual({ add: ['c'], remove: ['a'] })
    expect(tagDiff([], [])).toEqual({ add: [], remove: [] })
  })

  it('reads the bridge’s outcomes', () => {
    expect(bridgeOk({ err_msg: 'agentConfig:ok' })).toBe(true)
    expect(bridgeOk({ errMsg: 'agentConfig:fail x' })).toBe(false)
    expect(bridgeError({ err_msg: 'agentConfig:fail invalid signature' })).toBe('invalid signature')
  })

  it('posts framed calls only to the named origin and takes answers only from the parent there', () => {
    const listeners: ((e: MessageEvent) => void)[] = []
    const parent = { postMessage: vi.fn() }
    const win = {
      parent,
      location: { href: 'http://127.0.0.1:8080/sidebar/x/customer' },
      addEventListener: (_: string, f: (e: MessageEvent) => void) => listeners.push(f),
    } as unknown as Window
    expect(installFramedBridge('', win)).toBe(false)
    expect(installFramedBridge('http://127.0.0.1:9080', win)).toBe(true)
    const got: BridgeResult[] = []
    win.WeixinJSBridge!.invoke('getContext', {}, (r) => got.push(r))
    expect(parent.postMessage).toHaveBeenCalledWith(
      { koiBridge: 1, id: 1, name: 'getContext', params: {}, href: 'http://127.0.0.1:8080/sidebar/x/customer' },
      'http://127.0.0.1:9080')
    const answer = { koiBridge: 1, id: 1, result: { err_msg: 'getContext:ok' } }
    listeners[0]({ origin: 'http://evil.example', source: parent, data: answer } as unknown as MessageEvent)
    listeners[0]({ origin: 'http://127.0.0.1:9080', source: {}, data: answer } as unknown as MessageEvent)
    expect(got).toEqual([])
    listeners[0]({ origin: 'http://127.0.0.1:9080', source: parent, data: answer } as unknown as MessageEvent)
    expect(got).toEqual([{ err_msg: 'getContext:ok' }])
    // Installed once: a second call leaves the bridge as it is.
    expect(installFramedBridge('http://127.0.0.1:9080', win)).toBe(false)
  })
})
