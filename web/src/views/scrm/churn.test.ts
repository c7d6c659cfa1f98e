import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { h, type App } from 'vue'
import { RouterView, type Router } from 'vue-router'
import { i18n } from '@/locales'
import { getChurnUnreadApi, listChurnApi, markChurnSeenApi, type ChurnApi } from '@/api/churn'
import { getScrmScopeApi, type CustomersApi } from '@/api/customers'
import { ApiError } from '@/api/request'
import { listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import ChurnBell from '@/components/churn-bell.vue'
import { churnQuery, relationshipDays, useChurnUnreadStore } from '@/composables/use-churn'
import { all, mountApp, q, settle, testSession, text } from '@/test-utils/mount'
import ChurnPage from './churn.vue'

vi.mock('@/api/churn', () => ({ listChurnApi: vi.fn(), getChurnUnreadApi: vi.fn(), markChurnSeenApi: vi.fn() }))
vi.mock('@/api/customers', () => ({ getScrmScopeApi: vi.fn() }))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))

const DAY = 24 * 3600 * 1000
const LOST = new Date(2026, 10, 20, 15, 30).getTime()
const ADMIN: CustomersApi.MyScope = { all: true, bound: false, userid: '', data_scope: '' }
const UNBOUND: CustomersApi.MyScope = { all: false, bound: false, userid: '', data_scope: '' }
const OWN: CustomersApi.MyScope = { all: false, bound: true, userid: 'zhangsan', data_scope: 'own', employee_name: '张三' }

const tag = (i: number): CustomersApi.TagRef => ({ tag_id: `et${i}`, name: `标签${i}`, group_name: '客户等级' })
function item(over: Partial<ChurnApi.Item> = {}): ChurnApi.Item {
  return {
    external_userid: 'wmA', name: '王小锦', type: 1, gender: 2, corp_name: '', userid: 'zhangsan', employee_name: '张三',
    remark: '老客户', add_time: LOST - 40 * DAY - 3600_000, lost_at: LOST, deleted_by: 'customer', tags: [tag(1), tag(2), tag(3), tag(4)],
    still_followed: false, ...over,
  }
}
const rows: ChurnApi.Item[] = [
  item(),
  item({
    external_userid: 'wmB', name: '陈总', type: 2, corp_name: '锦鲤茶饮', userid: 'lisi', employee_name: '', remark: '', deleted_by: 'employee',
    tags: [], still_followed: true, lost_at: LOST - DAY, add_time: LOST - DAY - 3600_000,
  }),
  item({ external_userid: 'wmC', name: '', deleted_by: 'sync', lost_at: LOST - 2 * DAY, add_time: LOST - 3 * DAY, tags: [tag(5)] }),
]
const page = (items: ChurnApi.Item[], total = items.length, last7 = 3, last30 = 12): ChurnApi.Page =>
  ({ items, total, page: 1, page_size: 20, last_7_days: last7, last_30_days: last30 })
const employee = (userid: string, name: string): WecomApi.Employee => ({
  userid, name, position: '', mobile: '', gender: 0, status: 1, main_department: 1, main_department_name: '销售部', customers: 3,
})
const lastQuery = () => vi.mocked(listChurnApi).mock.lastCall?.[0]

let app: App | null = null
let router: Router
const routes = [
  { path: '/scrm/churn', component: ChurnPage },
  { path: '/:any(.*)*', component: { render: () => null } },
]
async function mountPage(path = '/scrm/churn', scope: CustomersApi.MyScope = ADMIN) {
  vi.mocked(getScrmScopeApi).mockResolvedValue(scope)
  ;({ app, router } = await mountApp({ session: testSession(), routes, path }))
  await settle()
}
/** lets a navigation the page asked for (the address following the filters) end */
async function navigated() {
  await settle()
  await new Promise((resolve) => setTimeout(resolve, 0))
  await settle()
}
const cells = (test: string) => all(test).map(text)
/** the number of a count in the header */
const stat = (test: string) => text(q('stat-value', q(test)!))

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listChurnApi).mockReset().mockResolvedValue(page(rows))
  vi.mocked(markChurnSeenApi).mockReset().mockResolvedValue({ seen_at: LOST + DAY })
  vi.mocked(getChurnUnreadApi).mockReset().mockResolvedValue({ count: 0, seen_at: LOST, items: [] })
  vi.mocked(getScrmScopeApi).mockReset()
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue({ items: [employee('zhangsan', '张三'), employee('lisi', '李四')], total: 2, page: 1, page_size: 20 })
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the churn page', () => {
  it('lists the lost relationships with who deleted whom, the tags, the times and the counts of 7 and 30 days', async () => {
    await mountPage()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(text(q('churn-last-7'))).toContain('近 7 天流失')
    expect(stat('churn-last-7')).toBe('3')
    expect(text(q('churn-last-30'))).toContain('近 30 天流失')
    expect(stat('churn-last-30')).toBe('12')
    expect(text(q('churn-total'))).toBe('共 3 条流失记录')
    expect(all('churn-row').map((r) => text(r.querySelector('.customer-line')))).toEqual(['王小锦@微信', '陈总@锦鲤茶饮', '（未命名）@微信'])
    expect(cells('churn-employee')).toEqual(['张三', 'lisi', '张三'])
    expect(cells('churn-remark')).toEqual(['老客户', '—', '老客户'])
    expect(all('churn-tags').map((c) => [...c.querySelectorAll('.el-tag')].map(text))).toEqual([['标签1', '标签2', '标签3'], [], ['标签5']])
    expect(text(q('churn-tags-more'))).toBe('+1')
    expect(cells('churn-lost-at')[0]).toBe('2026-11-20 15:30')
    expect(cells('churn-length')).toEqual(['40 天', '不足 1 天', '1 天'])

    // who deleted whom, in its colour
    const tags = all('churn-deleted-by')
    expect(tags.map(text)).toEqual(['客户删除了员工', '员工删除了客户', '同步时发现已不是好友'])
    expect(tags.map((t) => ['danger', 'warning', 'info'].find((c) => t.classList.contains(`el-tag--${c}`)))).toEqual(['danger', 'warning', 'info'])
    // a customer another employee still follows is not lost to the company
    const still = all('churn-still-followed')
    expect(still).toHaveLength(1)
    expect(text(still[0])).toBe('仍由其他员工跟进')
    expect(still[0].closest('[data-test="churn-row"]')!.getAttribute('data-external-userid')).toBe('wmB')
    // the customer's name leads to the profile
    expect(all('churn-customer').map((a) => a.getAttribute('href'))).toEqual(['/scrm/customers/wmA', '/scrm/customers/wmB', '/scrm/customers/wmC'])
    for (const f of ['churn-employee-filter', 'churn-deleted-by-filter', 'churn-lost-filter', 'churn-reset']) expect(q(f), f).not.toBeNull()
  })

  it('says the same in English', async () => {
    await mountPage()
    i18n.global.locale.value = 'en-US'
    await settle()
    expect(text(q('churn-last-7'))).toBe('Lost in 7 days3')
    expect(cells('churn-deleted-by')).toEqual(['Customer deleted the employee', 'Employee deleted the customer', 'No longer a contact (found by sync)'])
    expect(text(q('churn-still-followed'))).toBe('Still followed by a colleague')
    expect(cells('churn-length')).toEqual(['40 days', 'Under a day', '1 day'])
  })

  it('marks the churn seen when it opens', async () => {
    await mountPage()
    expect(markChurnSeenApi).toHaveBeenCalledTimes(1)
    const unread = useChurnUnreadStore()
    expect(unread.count).toBe(0)
    expect(unread.seenAt).toBe(LOST + DAY)
  })

  it('asks with its filters: employees, who deleted and the days of the loss, kept in the address', async () => {
    const from = new Date(2026, 10, 1).getTime()
    const to = new Date(2026, 10, 8).getTime()
    await mountPage(`/scrm/churn?userid=zhangsan&lost_from=${from}&lost_to=${to}`)
    expect(lastQuery()).toEqual({ userid: 'zhangsan', lost_from: from, lost_to: to, page: 1, page_size: 20 })

    q('deleted-by-option-employee')!.click()
    await navigated()
    expect(lastQuery()).toEqual({ userid: 'zhangsan', deleted_by: 'employee', lost_from: from, lost_to: to, page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ userid: 'zhangsan', deleted_by: 'employee', lost_from: String(from), lost_to: String(to) })

    q('employee-option-lisi')!.click()
    await settle()
    expect(lastQuery()).toMatchObject({ userid: 'zhangsan,lisi', deleted_by: 'employee' })

    // nothing matches: said, with a reset
    vi.mocked(listChurnApi).mockResolvedValue(page([], 0))
    q('deleted-by-option-sync')!.click()
    await settle()
    expect(q('churn-no-match')).not.toBeNull()
    vi.mocked(listChurnApi).mockResolvedValue(page(rows))
    q('churn-reset-empty')!.click()
    await navigated()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({})
    expect(all('churn-row')).toHaveLength(3)
  })

  it('turns the picked days into local midnights, the last day included', () => {
    const query = churnQuery({ userids: [], deletedBy: 'customer', days: [new Date(2026, 10, 1, 13), new Date(2026, 10, 7, 9)] })
    expect(query).toEqual({ deleted_by: 'customer', lost_from: new Date(2026, 10, 1).getTime(), lost_to: new Date(2026, 10, 8).getTime() })
    expect(relationshipDays({ add_time: 0, lost_at: LOST })).toBe(0)
    expect(relationshipDays({ add_time: LOST - 2 * DAY, lost_at: LOST })).toBe(2)
  })

  it('pages on the server', async () => {
    vi.mocked(listChurnApi).mockResolvedValue(page(rows, 45))
    await mountPage()
    const next = [...document.querySelectorAll<HTMLElement>('.el-pager li')].find((li) => text(li) === '2')!
    next.click()
    await settle()
    expect(lastQuery()).toEqual({ page: 2, page_size: 20 })
  })

  it('says when nothing was lost', async () => {
    vi.mocked(listChurnApi).mockResolvedValue(page([], 0, 0, 0))
    await mountPage()
    expect(text(q('churn-empty'))).toContain('近期没有客户流失')
    expect(stat('churn-last-30')).toBe('0')
  })

  it('tells a member without a binding why there is nothing, without filters or counts', async () => {
    vi.mocked(listChurnApi).mockResolvedValue(page([], 0, 0, 0))
    await mountPage('/scrm/churn', UNBOUND)
    expect(text(q('churn-unbound'))).toContain('你的账号还没有绑定企业微信成员')
    expect(q('churn-filters')).toBeNull()
    expect(q('churn-stats')).toBeNull()
    expect(q('churn-empty')).toBeNull()
  })

  it('tells a bound member whose churn it is', async () => {
    await mountPage('/scrm/churn', OWN)
    expect(text(q('churn-scope'))).toBe('仅显示你绑定的企业微信成员的流失客户')
  })

  it('shows why the list failed', async () => {
    vi.mocked(listChurnApi).mockRejectedValue(new ApiError(400, 'invalid_time_range', 'from >= to'))
    await mountPage()
    expect(text(q('churn-error'))).toBe('时间范围的开始需早于结束')
  })

  it('clears the bell when it opens', async () => {
    vi.mocked(getChurnUnreadApi).mockResolvedValue({ count: 4, seen_at: LOST - 7 * DAY, items: rows })
    ;({ app, router } = await mountApp({
      session: testSession(),
      routes,
      path: '/scrm/overview',
      component: { render: () => [h(ChurnBell), h(RouterView)] },
    }))
    vi.mocked(getScrmScopeApi).mockResolvedValue(ADMIN)
    await settle()
    expect(q('churn-bell')!.getAttribute('data-count')).toBe('4')
    expect(text(q('churn-badge')!.querySelector('.el-badge__content'))).toBe('4')
    expect(q('churn-bell')!.getAttribute('aria-label')).toBe('流失提醒：4 条未读')
    await router.push('/scrm/churn')
    await settle()
    expect(markChurnSeenApi).toHaveBeenCalledTimes(1)
    expect(q('churn-bell')!.getAttribute('data-count')).toBe('0')
    expect(q('churn-bell')!.getAttribute('aria-label')).toBe('流失提醒')
  })
})
