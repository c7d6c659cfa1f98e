import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, type App } from 'vue'
import type { Router } from 'vue-router'
import { i18n } from '@/locales'
import { getChurnUnreadApi, listChurnApi, markChurnSeenApi, type ChurnApi } from '@/api/churn'
import { ApiError } from '@/api/request'
import { badgeText, CHURN_POLL_MS } from '@/composables/use-churn'
import { formatDateTime } from '@/composables/format'
import { useSessionStore } from '@/stores/use-session-store'
import { all, mountApp, q, testSession, text } from '@/test-utils/mount'
import ChurnBell from './churn-bell.vue'

vi.mock('@/api/churn', () => ({ listChurnApi: vi.fn(), getChurnUnreadApi: vi.fn(), markChurnSeenApi: vi.fn() }))

const NOW = 1_790_000_000_000
const MIN = 60_000
const DAY = 24 * 3600 * 1000

function item(over: Partial<ChurnApi.Item> = {}): ChurnApi.Item {
  return {
    external_userid: 'wmA', name: '王小锦', type: 1, gender: 2, corp_name: '', userid: 'zhangsan', employee_name: '张三',
    remark: '', add_time: NOW - 30 * DAY, lost_at: NOW - 5 * MIN, deleted_by: 'customer', tags: [], still_followed: false, ...over,
  }
}
const newest: ChurnApi.Item[] = [
  item(),
  item({ external_userid: 'wmB', name: '陈总', userid: 'lisi', employee_name: '李四', deleted_by: 'employee', lost_at: NOW - 3 * 3600_000 }),
  item({ external_userid: 'wmC', name: '', userid: 'wangwu', employee_name: '', deleted_by: 'sync', lost_at: NOW - 10 * DAY }),
]
const unread = (count: number, items = newest): ChurnApi.Unread => ({ count, seen_at: NOW - 7 * DAY, items })

let app: App | null = null
let router: Router
async function mountBell({ scrm = true, path = '/scrm/overview' }: { scrm?: boolean; path?: string } = {}) {
  ;({ app, router } = await mountApp({
    session: testSession({ scrm }),
    routes: [{ path: '/:any(.*)*', component: { render: () => null } }],
    path,
    component: ChurnBell,
  }))
  await settle()
}
async function settle() {
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
}
const count = () => q('churn-bell')?.getAttribute('data-count')
const badge = () => text(q('churn-badge')?.querySelector('.el-badge__content'))
/** opens the popover, as a click on the bell does */
async function openPopover() {
  q('churn-bell')!.click()
  await settle()
  await vi.advanceTimersByTimeAsync(300)
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW })
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(getChurnUnreadApi).mockReset().mockResolvedValue(unread(3))
  vi.mocked(markChurnSeenApi).mockReset().mockResolvedValue({ seen_at: NOW })
  vi.mocked(listChurnApi).mockReset()
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.useRealTimers()
})

describe('the churn bell', () => {
  it('shows how much churn the account has not seen, 99+ at most', async () => {
    await mountBell()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(1)
    expect(count()).toBe('3')
    expect(badge()).toBe('3')
    expect(q('churn-bell')!.getAttribute('aria-label')).toBe('流失提醒：3 条未读')

    vi.mocked(getChurnUnreadApi).mockResolvedValue(unread(150))
    await vi.advanceTimersByTimeAsync(CHURN_POLL_MS)
    expect(badge()).toBe('99+')
    expect(badgeText(0)).toBe('')
    expect(badgeText(99)).toBe('99')
    expect(badgeText(100)).toBe('99+')
  })

  it('asks every minute and when the window gets the focus, and stops when it is gone', async () => {
    await mountBell()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(CHURN_POLL_MS - 1000)
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(1)
    vi.mocked(getChurnUnreadApi).mockResolvedValue(unread(4))
    await vi.advanceTimersByTimeAsync(1000)
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(2)
    expect(count()).toBe('4')

    window.dispatchEvent(new Event('focus'))
    await settle()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(3)

    app!.unmount()
    app = null
    await vi.advanceTimersByTimeAsync(10 * CHURN_POLL_MS)
    window.dispatchEvent(new Event('focus'))
    await settle()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(3)
  })

  it('lists the newest losses in its popover, who deleted whom and when', async () => {
    await mountBell()
    await openPopover()
    expect(q('churn-popover')).not.toBeNull()
    expect(all('churn-bell-text').map(text)).toEqual([
      '王小锦 删除了 张三',
      '李四 删除了 陈总',
      '（未命名） 已不是 wangwu 的好友（同步发现）',
    ])
    expect(all('churn-bell-time').map(text)).toEqual(['5 分钟前', '3 小时前', formatDateTime(NOW - 10 * DAY)])
    // 3 unseen, all listed
    expect(q('churn-bell-more')).toBeNull()

    i18n.global.locale.value = 'en-US'
    await settle()
    expect(all('churn-bell-text').map(text)).toEqual([
      '王小锦 deleted 张三',
      '李四 deleted 陈总',
      '(no name) is no longer a contact of wangwu (found by sync)',
    ])
    expect(text(q('churn-mark-read'))).toBe('Mark all read')
    expect(text(q('churn-view-all'))).toBe('View all')
  })

  it('says how many more there are than it lists', async () => {
    vi.mocked(getChurnUnreadApi).mockResolvedValue(unread(12))
    await mountBell()
    await openPopover()
    expect(text(q('churn-bell-more'))).toBe('另有 9 条，点「查看全部」查看')
  })

  it('marks all read: the badge clears and the popover says there is nothing new', async () => {
    await mountBell()
    await openPopover()
    q('churn-mark-read')!.click()
    await settle()
    expect(markChurnSeenApi).toHaveBeenCalledTimes(1)
    expect(count()).toBe('0')
    expect(all('churn-bell-item')).toHaveLength(0)
    expect(text(q('churn-bell-empty'))).toBe('没有新的流失提醒')
    expect(q('churn-bell')!.getAttribute('aria-label')).toBe('流失提醒')
    expect(q('churn-mark-read')!.hasAttribute('disabled') || q('churn-mark-read')!.classList.contains('is-disabled')).toBe(true)
  })

  it('ignores an answer asked for before everything was marked read', async () => {
    await mountBell()
    let answer!: (u: ChurnApi.Unread) => void
    vi.mocked(getChurnUnreadApi).mockReturnValueOnce(new Promise((resolve) => (answer = resolve)))
    window.dispatchEvent(new Event('focus'))
    await settle()
    await openPopover()
    q('churn-mark-read')!.click()
    await settle()
    answer(unread(3))
    await settle()
    expect(count()).toBe('0')
  })

  it('says when marking failed, and keeps the count', async () => {
    vi.mocked(markChurnSeenApi).mockRejectedValue(new ApiError(0, 'network', 'down'))
    await mountBell()
    await openPopover()
    q('churn-mark-read')!.click()
    await settle()
    expect(text(q('churn-mark-error'))).toBe('无法连接服务器，请检查网络后重试')
    expect(count()).toBe('3')
  })

  it('leads to the churn page, and to a customer\'s profile', async () => {
    await mountBell()
    await openPopover()
    q('churn-view-all')!.click()
    await settle()
    expect(router.currentRoute.value.path).toBe('/scrm/churn')

    await openPopover()
    all('churn-bell-item')[1].click()
    await settle()
    expect(router.currentRoute.value.path).toBe('/scrm/customers/wmB')
  })

  it('says when there is nothing new', async () => {
    vi.mocked(getChurnUnreadApi).mockResolvedValue(unread(0, []))
    await mountBell()
    expect(count()).toBe('0')
    expect(badge()).toBe('')
    await openPopover()
    expect(text(q('churn-bell-empty'))).toBe('没有新的流失提醒')
  })

  it('keeps its count when the server cannot be reached for a while', async () => {
    await mountBell()
    vi.mocked(getChurnUnreadApi).mockRejectedValue(new ApiError(0, 'network', 'down'))
    await vi.advanceTimersByTimeAsync(CHURN_POLL_MS)
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(2)
    expect(count()).toBe('3')
    // and asks again on the next minute
    await vi.advanceTimersByTimeAsync(CHURN_POLL_MS)
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(3)
  })

  it('hides, and stops asking, when the API says the team has not activated the SCRM app', async () => {
    vi.mocked(getChurnUnreadApi).mockRejectedValue(new ApiError(403, 'app_not_activated', 'not activated'))
    await mountBell()
    expect(q('churn-bell')).toBeNull()
    await vi.advanceTimersByTimeAsync(5 * CHURN_POLL_MS)
    window.dispatchEvent(new Event('focus'))
    await settle()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(1)
  })

  it('is not there, and never asks, for a team without the SCRM app; it comes once the app is activated', async () => {
    await mountBell({ scrm: false, path: '/store/overview' })
    expect(q('churn-bell')).toBeNull()
    await vi.advanceTimersByTimeAsync(2 * CHURN_POLL_MS)
    expect(getChurnUnreadApi).not.toHaveBeenCalled()

    useSessionStore().setApp('scrm', true)
    await settle()
    expect(getChurnUnreadApi).toHaveBeenCalledTimes(1)
    expect(count()).toBe('3')
  })
})
