import { beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  getSidebarAgentConfigApi, getSidebarCustomerApi, getSidebarGroupApi, getSidebarSessionApi, getSidebarTagGroupsApi,
  markSidebarTagsApi, type SidebarApi,
} from '@/api/sidebar'
import { signedUrl, tagDiff, useSidebar } from './use-sidebar'
import { bridgeError, bridgeOk, installFramedBridge, type BridgeResult } from '@/views/sidebar/jsbridge'

vi.mock('@/api/sidebar', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/sidebar')>()),
  getSidebarSessionApi: vi.fn(),
  getSidebarAgentConfigApi: vi.fn(),
  getSidebarCustomerApi: vi.fn(),
  getSidebarGroupApi: vi.fn(),
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

const CHAT = 'wrCHAT0001'
const member = (i: number): SidebarApi.GroupMember => ({
  member_id: `wm${i}`, name: `成员${i}`, type: i % 5 === 0 ? 1 : 2, join_time: 1795392000000 + i, join_scene: 3, my_customer: i % 3 === 0,
})
/** The group as GET /sidebar/groups/{chat_id} answers page `page` of its 45 members (20 a page). */
function groupPage(page = 1, over: Partial<SidebarApi.Group> = {}): SidebarApi.Group {
  const items = Array.from({ length: page < 3 ? 20 : 5 }, (_, i) => member((page - 1) * 20 + i + 1))
  return {
    chat_id: CHAT, name: '锦鲤VIP群', owner: 'zhangsan', owner_name: '张三', notice: '群公告', create_time: 1795392000000,
    status: 0, member_count: 45, customers: 40, employees: 5, my_customers: 15, joined_7d: 6, tags: [{ id: 3, name: '高意向' }],
    members: { items, total: 45, page, page_size: 20 }, ...over,
  }
}
/** A promise and its resolve, to answer a call when the test says. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
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
  vi.mocked(getSidebarGroupApi).mockReset().mockImplementation(async (_chat, page = 1) => groupPage(page))
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

describe('the group page (群画像)', () => {
  const inGroup = () => wecomWindow({
    agentConfig: { err_msg: 'agentConfig:ok' },
    getCurExternalChat: { err_msg: 'getCurExternalChat:ok', chatId: CHAT },
  }, 'https://koi.example.com/sidebar/x/group')

  it('asks WeCom for the current group chat and loads that chat', async () => {
    const { win, calls } = inGroup()
    const sb = useSidebar(CORP, 'group', win)
    await sb.start()
    expect(getSidebarAgentConfigApi).toHaveBeenCalledWith('https://koi.example.com/sidebar/x/group')
    expect(calls.map((c) => c.name)).toEqual(['agentConfig', 'getCurExternalChat'])
    expect(calls[0].params).toMatchObject({ corpid: CORP, signature: 'sig', jsApiList: ['getCurExternalChat'] })
    expect(getSidebarGroupApi).toHaveBeenCalledTimes(1)
    expect(getSidebarGroupApi).toHaveBeenCalledWith(CHAT, 1, 20)
    expect(getSidebarCustomerApi).not.toHaveBeenCalled()
    expect(sb.phase.value).toBe('ready')
    expect(sb.chatId.value).toBe(CHAT)
    expect(sb.group.value?.name).toBe('锦鲤VIP群')
    expect(sb.group.value?.members.items).toHaveLength(20)
  })

  it('signs in for the group page, not the customer page', async () => {
    vi.mocked(getSidebarSessionApi).mockRejectedValueOnce(new ApiError(401, 'sidebar_unauthenticated', 'x'))
    const { win, assign } = inGroup()
    await useSidebar(CORP, 'group', win).start()
    expect(assign).toHaveBeenCalledWith(`/api/v1/sidebar/oauth/start?corp=${CORP}&page=group`)
    expect(getSidebarGroupApi).not.toHaveBeenCalled()
  })

  it('says so when the chat is not a group chat, and tells WeCom’s other refusals apart', async () => {
    for (const reason of ['without context of external chat', 'not in group chat']) {
      const single = wecomWindow({ agentConfig: { err_msg: 'agentConfig:ok' }, getCurExternalChat: { err_msg: `getCurExternalChat:fail ${reason}` } })
      const sb = useSidebar(CORP, 'group', single.win)
      await sb.start()
      expect(sb.phase.value, reason).toBe('failed')
      expect(sb.problem.value, reason).toEqual({ key: 'sidebar.noGroupChat' })
    }
    expect(i18n.global.t('sidebar.noGroupChat')).toContain('不是客户群聊')
    expect(getSidebarGroupApi).not.toHaveBeenCalled()

    const refused = wecomWindow({ agentConfig: { err_msg: 'agentConfig:ok' }, getCurExternalChat: { err_msg: 'getCurExternalChat:fail no permission' } })
    const b = useSidebar(CORP, 'group', refused.win)
    await b.start()
    expect(b.problem.value).toEqual({ key: 'sidebar.bridgeFailed', values: { reason: 'no permission' } })

    // An answer without a chat id is no chat either.
    const empty = wecomWindow({ agentConfig: { err_msg: 'agentConfig:ok' }, getCurExternalChat: { err_msg: 'getCurExternalChat:ok' } })
    const c = useSidebar(CORP, 'group', empty.win)
    await c.start()
    expect(c.phase.value).toBe('failed')
    expect(getSidebarGroupApi).not.toHaveBeenCalled()
  })

  it('says Koi does not know the group (or the member is not in it), with a retry that works', async () => {
    vi.mocked(getSidebarGroupApi).mockRejectedValueOnce(new ApiError(404, 'group_not_found', 'x'))
    const { win } = inGroup()
    const sb = useSidebar(CORP, 'group', win)
    await sb.start()
    expect(sb.phase.value).toBe('failed')
    expect(sb.problem.value).toEqual({ key: 'sidebar.groupNotFound' })  // no signIn: the page offers a retry
    expect(i18n.global.t(sb.problem.value!.key)).toContain('锦鲤还没有同步这个客户群')
    expect(i18n.global.t(sb.problem.value!.key, {}, { locale: 'en-US' })).toContain('Koi has not synced this group yet, or you are not in it')
    await sb.start()
    expect(sb.phase.value).toBe('ready')
    expect(sb.group.value?.chat_id).toBe(CHAT)
  })

  it('offers to sign in again when the session is gone, and shows other failures with their reason', async () => {
    vi.mocked(getSidebarGroupApi).mockRejectedValueOnce(new ApiError(401, 'sidebar_unauthenticated', 'x'))
    const a = useSidebar(CORP, 'group', inGroup().win)
    await a.start()
    expect(a.problem.value).toMatchObject({ key: 'sidebar.signInFailed', signIn: true })

    vi.mocked(getSidebarGroupApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const b = useSidebar(CORP, 'group', inGroup().win)
    await b.start()
    expect(b.problem.value?.key).toBe('sidebar.groupLoadFailed')
    expect(b.problem.value?.signIn).toBeFalsy()
    expect(b.problem.value?.values?.reason).toContain('无法连接服务器')
  })

  it('pages the members on the server, for the same chat, and keeps the page shown when a page fails', async () => {
    const sb = useSidebar(CORP, 'group', inGroup().win)
    await sb.start()
    const answer = deferred<SidebarApi.Group>()
    vi.mocked(getSidebarGroupApi).mockReturnValueOnce(answer.promise)
    const loading = sb.loadMembers(2)
    expect(getSidebarGroupApi).toHaveBeenLastCalledWith(CHAT, 2, 20)
    expect(sb.membersLoading.value).toBe(true)
    expect(sb.group.value?.members.page).toBe(1)
    answer.resolve(groupPage(2, { joined_7d: 7 }))
    await loading
    expect(sb.membersLoading.value).toBe(false)
    expect(sb.group.value?.members.page).toBe(2)
    expect(sb.group.value?.members.items[0].member_id).toBe('wm21')
    expect(sb.group.value?.joined_7d).toBe(7)  // the facts come along, fresh
    expect(sb.phase.value).toBe('ready')

    vi.mocked(getSidebarGroupApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    await sb.loadMembers(3)
    expect(getSidebarGroupApi).toHaveBeenLastCalledWith(CHAT, 3, 20)
    expect(sb.membersError.value).toContain('无法连接服务器')
    expect(sb.membersLoading.value).toBe(false)
    expect(sb.group.value?.members.page).toBe(2)
    expect(sb.phase.value).toBe('ready')
    await sb.loadMembers(3)
    expect(sb.membersError.value).toBe('')
    expect(sb.group.value?.members.page).toBe(3)
  })

  it('takes only the latest page asked for', async () => {
    const sb = useSidebar(CORP, 'group', inGroup().win)
    await sb.start()
    const slow = deferred<SidebarApi.Group>()
    vi.mocked(getSidebarGroupApi).mockReturnValueOnce(slow.promise)
    const first = sb.loadMembers(2)
    await sb.loadMembers(3)
    slow.resolve(groupPage(2))
    await first
    expect(sb.group.value?.members.page).toBe(3)
    expect(sb.membersLoading.value).toBe(false)
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
