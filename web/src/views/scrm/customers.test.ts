import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import ElementPlus from 'element-plus'
import { i18n } from '@/locales'
import { listCustomersApi, listScrmDepartmentsApi, listScrmTagsApi, type CustomersApi } from '@/api/customers'
import { listWecomEmployeesApi } from '@/api/wecom'
import CustomersPage from './customers.vue'

vi.mock('@/api/customers', () => ({ listCustomersApi: vi.fn(), listScrmDepartmentsApi: vi.fn(), listScrmTagsApi: vi.fn() }))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))

const ADMIN: CustomersApi.Scope = { all: true, bound: false, userid: '', data_scope: '' }
const UNBOUND: CustomersApi.Scope = { all: false, bound: false, userid: '', data_scope: '' }

const tag = (i: number): CustomersApi.TagRef => ({ tag_id: `et${i}`, name: `标签${i}`, group_name: '客户等级' })
function follow(over: Partial<CustomersApi.Follow> = {}): CustomersApi.Follow {
  return {
    userid: 'zhangsan', employee_name: '张三', remark: '', description: '', add_time: 1_700_000_000_000, add_way: 1, state: '',
    remark_mobiles: [], remark_corp_name: '', active: true, deleted_by: '', deleted_at: null, tags: [], ...over,
  }
}
const customers: CustomersApi.Customer[] = [
  {
    external_userid: 'wmA', name: '王小锦', type: 1, gender: 2, corp_name: '', last_add_time: 1_700_000_000_000, active_follows: 1,
    follows: [follow(), follow({ userid: 'lisi', employee_name: '李四', active: false, deleted_by: 'customer', deleted_at: 1_700_100_000_000 })],
    tags: [tag(1), tag(2), tag(3), tag(4), tag(5)],
  },
  {
    external_userid: 'wmB', name: '陈总', type: 2, gender: 1, corp_name: '锦鲤茶饮', last_add_time: 1_690_000_000_000, active_follows: 0,
    follows: [follow({ active: false, deleted_by: 'employee', deleted_at: 1_700_200_000_000 })], tags: [],
  },
]
const page = (items: CustomersApi.Customer[], scope = ADMIN, total = items.length): CustomersApi.Page =>
  ({ items, total, page: 1, page_size: 20, scope })

let app: App | null = null
let root: HTMLElement
let router: Router

async function mountPage(path = '/scrm/customers') {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/scrm/customers', component: CustomersPage },
      { path: '/:any(.*)*', component: { render: () => null } },
    ],
  })
  await router.push(path)
  await router.isReady()
  root = document.createElement('div')
  document.body.appendChild(root)
  app = createApp({ render: () => h(RouterView) })
  app.use(createPinia()).use(i18n).use(router).use(ElementPlus).mount(root)
  await settle()
}
async function settle() {
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
}
const q = (test: string) => root.querySelector<HTMLElement>(`[data-test="${test}"]`)
const all = (test: string) => [...root.querySelectorAll<HTMLElement>(`[data-test="${test}"]`)]
const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? ''
const lastQuery = () => vi.mocked(listCustomersApi).mock.lastCall?.[0]

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listCustomersApi).mockReset().mockResolvedValue(page(customers))
  vi.mocked(listScrmDepartmentsApi).mockReset().mockResolvedValue({ items: [{ id: 1, name: '锦鲤', parent_id: 0 }, { id: 2, name: '上海店', parent_id: 1 }] })
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({ items: [{ group_id: 'g1', name: '客户等级', tags: [tag(1), tag(2)] }] })
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 20 })
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  vi.useRealTimers()
})

describe('the customer list', () => {
  it('shows the customers with their type, follow employees, tags and status', async () => {
    await mountPage()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    const rows = all('customer-row')
    expect(rows.map(text)).toEqual(['王小锦@微信', '陈总@锦鲤茶饮'])
    expect(text(q('customer-total'))).toBe('共 2 位客户')
    expect([...all('customer-follows')[0].querySelectorAll('.follow')].map(text)).toEqual(['张三', '李四'])
    expect(text(all('follow-lost')[0])).toBe('李四')
    expect([...all('customer-tags')[0].querySelectorAll('.el-tag')].map(text)).toEqual(['标签1', '标签2', '标签3'])
    expect(text(q('customer-tags-more'))).toBe('+2')
    expect(all('customer-status').map(text)).toEqual(['跟进中', '员工已删除'])
    for (const f of ['customer-search', 'customer-mode', 'customer-employee-filter', 'customer-department-filter', 'customer-tag-filter',
      'customer-added-filter', 'customer-add-way-filter', 'customer-gender-filter', 'customer-status-filter', 'customer-reset', 'customer-table']) {
      expect(q(f), f).not.toBeNull()
    }
  })

  it('opens a customer\'s profile from its row', async () => {
    await mountPage()
    all('customer-row')[1].click()
    await settle()
    expect(router.currentRoute.value.path).toBe('/scrm/customers/wmB')
  })

  it('tells a member without a binding why the list is empty, without filters', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page([], UNBOUND))
    await mountPage()
    expect(text(q('customer-unbound'))).toContain('你的账号还没有绑定企业微信成员')
    expect(q('customer-filters')).toBeNull()
    expect(q('customer-search')).toBeNull()
  })

  it('points an admin to the WeCom setup while no customer is synced', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page([]))
    await mountPage()
    expect(q('customer-empty')).not.toBeNull()
    expect(q('go-setup')?.closest('a')?.getAttribute('href')).toBe('/scrm/setup')
  })

  it('offers to reset filters that match nothing, and keeps the filters in the address', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page([]))
    await mountPage('/scrm/customers?status=lost&gender=1&mode=relationship')
    expect(lastQuery()).toEqual({ status: 'lost', gender: 1, mode: 'relationship', page: 1, page_size: 20 })
    expect(q('customer-no-match')).not.toBeNull()
    expect(text(q('customer-total'))).toBe('共 0 条跟进关系')
    vi.mocked(listCustomersApi).mockResolvedValue(page(customers))
    q('customer-reset-empty')!.click()
    await settle()
    expect(lastQuery()).toEqual({ mode: 'relationship', page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ mode: 'relationship' })
    expect(all('customer-row')).toHaveLength(2)
  })

  it('follows an address changed from outside, e.g. the menu item', async () => {
    await mountPage('/scrm/customers?gender=1&page=2')
    expect(lastQuery()).toEqual({ gender: 1, page: 2, page_size: 20 })
    await router.push('/scrm/customers')
    await settle()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(listCustomersApi).toHaveBeenCalledTimes(2)
    expect(router.currentRoute.value.query).toEqual({})
  })

  it('searches on Enter and switches to the relationship list', async () => {
    await mountPage()
    // Element Plus puts the attributes of el-input on its native input
    const input = q('customer-search') as HTMLInputElement
    expect(input.tagName).toBe('INPUT')
    input.value = '锦鲤'
    input.dispatchEvent(new Event('input'))
    input.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter' }))
    await settle()
    expect(lastQuery()).toEqual({ q: '锦鲤', page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ q: '锦鲤' })
    q('mode-relationship')!.querySelector('input')!.click()
    await settle()
    expect(lastQuery()).toEqual({ q: '锦鲤', mode: 'relationship', page: 1, page_size: 20 })
    // the debounce of the typing does not search again
    await vi.advanceTimersByTimeAsync(1000)
    expect(listCustomersApi).toHaveBeenCalledTimes(3)
  })
})
