import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, type App } from 'vue'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  getSidebarAgentConfigApi, getSidebarGroupApi, getSidebarSessionApi, type SidebarApi,
} from '@/api/sidebar'
import { all, click, mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import type { BridgeResult } from './jsbridge'
import GroupPage from './group.vue'

vi.mock('@/api/sidebar', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/sidebar')>()),
  getSidebarSessionApi: vi.fn(),
  getSidebarAgentConfigApi: vi.fn(),
  getSidebarGroupApi: vi.fn(),
}))

const CORP = 'wwkoidemo0000001'
const CHAT = 'wrCHAT0001'
const member = (i: number): SidebarApi.GroupMember => ({
  member_id: `wm${i}`, name: `成员${i}`, type: i === 1 ? 1 : 2, join_time: new Date(2026, 10, 20, 9, 30).getTime(),
  join_scene: i === 2 ? 2 : 3, my_customer: i === 2,
})
function groupPage(page = 1, over: Partial<SidebarApi.Group> = {}): SidebarApi.Group {
  const items = Array.from({ length: page < 3 ? 20 : 5 }, (_, i) => member((page - 1) * 20 + i + 1))
  return {
    chat_id: CHAT, name: '锦鲤VIP群', owner: 'zhangsan', owner_name: '张三', notice: '周五晚八点直播', create_time: new Date(2026, 0, 5, 10, 0).getTime(),
    status: 0, member_count: 45, customers: 40, employees: 5, my_customers: 15, joined_7d: 6, tags: [{ id: 3, name: '高意向' }],
    members: { items, total: 45, page, page_size: 20 }, ...over,
  }
}

/** The stats row: each figure with its label, by its key. */
const stats = () => Object.fromEntries([...q('sidebar-group-stats')!.querySelectorAll<HTMLElement>('[data-stat]')]
  .map((el) => [el.dataset.stat, [...el.children].map(text).join(' ')]))

let app: App | null = null
let bridgeCalls: string[] = []
async function mountPage() {
  ;({ app } = await mountApp({
    session: testSession(),
    routes: [{ path: '/sidebar/:corp/:page(group)', component: GroupPage }],
    path: `/sidebar/${CORP}/group`,
  }))
  await settle()
  await settle()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  bridgeCalls = []
  const answers: Record<string, BridgeResult> = {
    agentConfig: { err_msg: 'agentConfig:ok' },
    getCurExternalChat: { err_msg: 'getCurExternalChat:ok', chatId: CHAT },
  }
  window.WeixinJSBridge = {
    invoke(name, _params, cb) {
      bridgeCalls.push(name)
      cb(answers[name] ?? { err_msg: `${name}:fail not supported` })
    },
  }
  vi.mocked(getSidebarSessionApi).mockReset().mockResolvedValue({
    corp_id: CORP, userid: 'zhangsan', employee_name: '张三', expires_at: 1, csrf_token: 'c', bridge_origin: '',
  })
  vi.mocked(getSidebarAgentConfigApi).mockReset().mockResolvedValue({
    corp_id: CORP, agent_id: '1000002', timestamp: 1, nonce_str: 'n', signature: 's',
  })
  vi.mocked(getSidebarGroupApi).mockReset().mockImplementation(async (_chat, page = 1) => groupPage(page))
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  delete window.WeixinJSBridge
})

describe('群画像', () => {
  it('shows the chat’s group: its facts, make-up, tags and first page of members', async () => {
    await mountPage()
    expect(bridgeCalls).toEqual(['agentConfig', 'getCurExternalChat'])
    expect(getSidebarGroupApi).toHaveBeenCalledWith(CHAT, 1, 20)
    expect(text(q('sidebar-viewer'))).toContain('张三')
    expect(text(q('sidebar-group-name'))).toBe('锦鲤VIP群')
    expect(text(q('sidebar-group-owner'))).toBe('张三')
    expect(text(q('sidebar-group-created'))).toBe('2026-01-05 10:00')
    expect(q('sidebar-group-status')).toBeNull()
    expect(text(q('sidebar-group-notice'))).toBe('周五晚八点直播')
    expect(stats()).toEqual({ members: '45 群成员', customers: '40 客户', employees: '5 员工', myCustomers: '15 我的客户', joined7d: '6 7 天新进' })
    expect(text(q('sidebar-group-tags'))).toBe('高意向')

    const rows = all('sidebar-group-member')
    expect(rows).toHaveLength(20)
    expect(text(rows[0])).toContain('成员1')
    expect(text(q('sidebar-group-member-type', rows[0]))).toBe('员工')
    expect(q('sidebar-group-my-customer', rows[0])).toBeNull()
    expect(text(rows[0])).toContain('2026-11-20 09:30 入群 · 扫描群二维码')
    expect(text(q('sidebar-group-member-type', rows[1]))).toBe('客户')
    expect(text(q('sidebar-group-my-customer', rows[1]))).toBe('我的客户')
    expect(text(rows[1])).toContain('通过邀请链接')
    expect(q('sidebar-group-pager')).not.toBeNull()

    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(stats().myCustomers).toBe('15 My customers')
    expect(text(q('sidebar-group-member-type', rows[1]))).toBe('Customer')
    expect(text(rows[0])).toContain('Joined 2026-11-20 09:30 · By the group QR code')
  })

  it('fetches page 2 of the same chat from the pager', async () => {
    await mountPage()
    const pager = q('sidebar-group-pager')!
    const two = [...pager.querySelectorAll<HTMLElement>('.el-pager li')].find((li) => text(li) === '2')!
    two.click()
    await settle()
    expect(getSidebarGroupApi).toHaveBeenLastCalledWith(CHAT, 2, 20)
    expect(text(all('sidebar-group-member')[0])).toContain('成员21')
  })

  it('shows a group without notice, tags or members, and a status that is not normal', async () => {
    vi.mocked(getSidebarGroupApi).mockResolvedValue(groupPage(1, {
      notice: '', tags: [], status: 1, members: { items: [], total: 0, page: 1, page_size: 20 },
    }))
    await mountPage()
    expect(text(q('sidebar-group-status'))).toBe('群主已离职')
    expect(q('sidebar-group-notice')).toBeNull()
    expect(text(q('sidebar-group-tags'))).toBe('暂无群标签')
    expect(all('sidebar-group-member')).toHaveLength(0)
    expect(text(q('sidebar-group-members-empty'))).toBe('暂无群成员')
    expect(q('sidebar-group-pager')).toBeNull()
  })

  it('says when Koi does not know the group, and retries', async () => {
    vi.mocked(getSidebarGroupApi).mockRejectedValueOnce(new ApiError(404, 'group_not_found', 'x'))
    await mountPage()
    expect(text(q('sidebar-problem'))).toContain('锦鲤还没有同步这个客户群，或者你不在群中')
    expect(q('sidebar-sign-in')).toBeNull()
    await click('sidebar-retry')
    await settle()
    expect(q('sidebar-problem')).toBeNull()
    expect(text(q('sidebar-group-name'))).toBe('锦鲤VIP群')
  })

  it('says when the chat is not a group chat', async () => {
    window.WeixinJSBridge = {
      invoke(name, _params, cb) {
        cb(name === 'agentConfig' ? { err_msg: 'agentConfig:ok' } : { err_msg: `${name}:fail without context of external chat` })
      },
    }
    await mountPage()
    expect(text(q('sidebar-problem'))).toContain('当前不是客户群聊')
    expect(getSidebarGroupApi).not.toHaveBeenCalled()
  })
})
