import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, h, nextTick, type App } from 'vue'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import ElementPlus, { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import {
  cancelBulkTagApi, getBulkTagApi, listCustomersApi, listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi, startBulkTagApi,
  type CustomersApi,
} from '@/api/customers'
import type { AuthApi } from '@/api/auth'
import { useSessionStore } from '@/stores/use-session-store'
import { ApiError } from '@/api/request'
import { listCustomerExportsApi, startCustomerExportApi, type ExportsApi } from '@/api/exports'
import { listWecomEmployeesApi } from '@/api/wecom'
import { listCustomFieldsApi, type FieldsApi } from '@/api/fields'
import CustomersPage from './customers.vue'

vi.mock('@/api/customers', () => ({
  listCustomersApi: vi.fn(), listScrmDepartmentsApi: vi.fn(), listScrmTagsApi: vi.fn(), startBulkTagApi: vi.fn(), getBulkTagApi: vi.fn(),
  listStagesApi: vi.fn(), cancelBulkTagApi: vi.fn(), listPersonalTagsApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn() }))
vi.mock('@/api/exports', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/exports')>()),
  startCustomerExportApi: vi.fn(), listCustomerExportsApi: vi.fn(), deleteCustomerExportApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessageBox: { confirm: vi.fn() } }
})

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
    tags: [tag(1), tag(2), tag(3), tag(4), tag(5)], stage_id: 2, stage_name: '意向',
  },
  {
    external_userid: 'wmB', name: '陈总', type: 2, gender: 1, corp_name: '锦鲤茶饮', last_add_time: 1_690_000_000_000, active_follows: 0,
    follows: [follow({ active: false, deleted_by: 'employee', deleted_at: 1_700_200_000_000 })], tags: [], stage_id: null, stage_name: '',
  },
]
const personalTag = (id: number, name: string, account_id = 7, owner_name = '王小锦'): CustomersApi.PersonalTag =>
  ({ id, name, account_id, owner_name, customers: 1, created_at: 1 })
function session(role: 'admin' | 'member'): AuthApi.Session {
  return {
    account: { id: 7, phone: '13800000000', name: '王小锦', role, status: 'active' },
    team: { id: 3, name: '锦鲤茶饮' },
    apps: [{ key: 'scrm', activated: true, activated_at: 1 }],
  }
}
const page = (items: CustomersApi.Customer[], scope = ADMIN, total = items.length): CustomersApi.Page =>
  ({ items, total, page: 1, page_size: 20, scope })

let app: App | null = null
let root: HTMLElement
let router: Router

async function mountPage(path = '/scrm/customers', role: 'admin' | 'member' = 'member') {
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
  const pinia = createPinia()
  setActivePinia(pinia)
  useSessionStore().set(session(role))
  app = createApp({ render: () => h(RouterView) })
  app.use(pinia).use(i18n).use(router).use(ElementPlus).mount(root)
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
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: [{ id: 1, name: '新客', sort: 1, customers: 4 }, { id: 2, name: '意向', sort: 2, customers: 1 }], unstaged: 7 })
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 20 })
  vi.mocked(listCustomFieldsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(startBulkTagApi).mockReset()
  vi.mocked(getBulkTagApi).mockReset()
  vi.mocked(cancelBulkTagApi).mockReset()
  vi.mocked(startCustomerExportApi).mockReset()
  vi.mocked(listCustomerExportsApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 10 })
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  root?.remove()
  document.body.innerHTML = ''
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

  it('filters by stage, kept in the address, and shows each customer\'s stage', async () => {
    await mountPage('/scrm/customers?stage=0')
    expect(lastQuery()).toEqual({ stage: 0, page: 1, page_size: 20 })
    expect(all('customer-stage').map(text)).toEqual(['意向', '—'])
    expect(text(q('customer-stage-filter'))).toContain('未设置阶段')
    const options = [...document.body.querySelectorAll<HTMLElement>('[data-test^="stage-option-"]')]
    expect(options.map(text)).toEqual(['新客', '意向', '未设置阶段'])
    document.body.querySelector<HTMLElement>('[data-test="stage-option-2"]')!.click()
    await settle()
    expect(lastQuery()).toEqual({ stage: 2, page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ stage: '2' })
  })

  it('offers no personal tag filter to a caller without personal tags', async () => {
    await mountPage()
    expect(listPersonalTagsApi).toHaveBeenCalledTimes(1)
    expect(q('customer-tag-filter')).not.toBeNull()
    expect(q('customer-personal-tag-filter')).toBeNull()
  })

  it('filters by the caller\'s personal tags, kept in the address and cleared by reset', async () => {
    vi.mocked(listPersonalTagsApi).mockResolvedValue({ items: [personalTag(1, '爱喝奶茶'), personalTag(2, '老客户')] })
    await mountPage()
    const filter = q('customer-personal-tag-filter')!
    expect(filter).not.toBeNull()
    // next to the enterprise tag filter
    expect(q('customer-tag-filter')!.nextElementSibling).toBe(filter)
    expect(text(filter)).toContain('个人标签')
    // a member's own tags, by name only
    expect([...document.body.querySelectorAll<HTMLElement>('[data-test^="personal-tag-filter-option-"]')].map(text)).toEqual(['爱喝奶茶', '老客户'])
    expect(q('customer-reset')!.classList.contains('is-disabled')).toBe(true)

    await clickIn('personal-tag-filter-option-1')
    expect(lastQuery()).toEqual({ personal_tag: '1', page: 1, page_size: 20 })
    await clickIn('personal-tag-filter-option-2')
    expect(lastQuery()).toEqual({ personal_tag: '1,2', page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ personal_tag: '1,2' })
    expect(q('customer-reset')!.classList.contains('is-disabled')).toBe(false)

    q('customer-reset')!.click()
    await settle()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({})
    expect(text(filter)).not.toContain('爱喝奶茶')
    expect(q('customer-reset')!.classList.contains('is-disabled')).toBe(true)
  })

  it('restores the personal tag filter from the address; an admin sees whose each tag is', async () => {
    vi.mocked(listPersonalTagsApi).mockResolvedValue({ items: [personalTag(1, '爱喝奶茶', 9, '小林'), personalTag(2, '老客户')] })
    await mountPage('/scrm/customers?personal_tag=1,2', 'admin')
    expect(lastQuery()).toEqual({ personal_tag: '1,2', page: 1, page_size: 20 })
    expect([...document.body.querySelectorAll<HTMLElement>('[data-test^="personal-tag-filter-option-"]')].map(text)).toEqual([
      '爱喝奶茶（小林）', '老客户（王小锦）',
    ])
    expect(text(q('customer-personal-tag-filter'))).toContain('爱喝奶茶（小林）')
    expect(q('customer-reset')!.classList.contains('is-disabled')).toBe(false)
    // unpicking one keeps the other
    await clickIn('personal-tag-filter-option-1')
    expect(lastQuery()).toEqual({ personal_tag: '2', page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ personal_tag: '2' })
  })

  it('keeps a personal tag of the address that the caller\'s list lacks, so that it can be cleared', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page([]))
    await mountPage('/scrm/customers?personal_tag=5')
    expect(lastQuery()).toEqual({ personal_tag: '5', page: 1, page_size: 20 })
    expect(text(inBody('personal-tag-filter-option-5'))).toBe('#5')
    expect(q('customer-no-match')).not.toBeNull()
    q('customer-reset-empty')!.click()
    await settle()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(q('customer-personal-tag-filter')).toBeNull()
  })

  const customField = (id: number, name: string, kind: FieldsApi.Kind, options: [number, string][] = []): FieldsApi.Field =>
    ({ id, name, kind, options: options.map(([oid, label]) => ({ id: oid, label })), sort: id, customers: 1 })
  const FIELDS = [
    customField(1, '生日', 'date'), customField(2, '会员等级', 'select', [[31, '金卡'], [32, '银卡']]),
    customField(3, '兴趣', 'multi_select', [[41, '茶饮'], [42, '甜品']]),
  ]
  const fieldOptions = () => [...document.body.querySelectorAll<HTMLElement>('[data-test^="field-filter-option-"]')]

  it('offers no custom field filter while the team has no choice field', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: [customField(1, '生日', 'date')] })
    await mountPage()
    expect(listCustomFieldsApi).toHaveBeenCalledTimes(1)
    expect(q('customer-field-filter')).toBeNull()
  })

  it('filters by options of the choice custom fields, grouped by field, kept in the address and cleared by reset', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: FIELDS })
    await mountPage()
    const filter = q('customer-field-filter')!
    expect(filter).not.toBeNull()
    expect(text(filter)).toContain('自定义字段')
    expect(fieldOptions().map(text)).toEqual(['金卡', '银卡', '茶饮', '甜品'])
    const groups = [...document.body.querySelectorAll('.el-select-group__title')].map(text)
    expect(groups).toEqual(expect.arrayContaining(['会员等级', '兴趣']))
    expect(groups).not.toContain('生日')

    await clickIn('field-filter-option-31')
    expect(lastQuery()).toEqual({ field_option: '31', page: 1, page_size: 20 })
    await clickIn('field-filter-option-42')
    expect(lastQuery()).toEqual({ field_option: '31,42', page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ field_option: '31,42' })
    expect(q('customer-reset')!.classList.contains('is-disabled')).toBe(false)

    q('customer-reset')!.click()
    await settle()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({})
  })

  it('restores the custom field filter from the address, keeping an option no field lists so that it can be cleared', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: FIELDS })
    await mountPage('/scrm/customers?field_option=32,99,x&gender=2')
    expect(lastQuery()).toEqual({ field_option: '32,99', gender: 2, page: 1, page_size: 20 })
    expect(text(q('customer-field-filter'))).toContain('银卡')
    expect(text(inBody('field-filter-option-99'))).toBe('#99')
    await clickIn('field-filter-option-99')
    expect(lastQuery()).toEqual({ field_option: '32', gender: 2, page: 1, page_size: 20 })
    expect(router.currentRoute.value.query).toEqual({ field_option: '32', gender: '2' })
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

function bulkJob(over: Partial<CustomersApi.BulkTagState> = {}): CustomersApi.BulkTagState {
  return {
    job_id: 41, state: 'queued', total: 3, succeeded: 0, failed: 0, last_error_reason: '', created_at: 1_700_000_000_000,
    finished_at: null, failures: [], failures_total: 0, ...over,
  }
}
/** in the page or in what it teleports to the body (the dialog, the select's options) */
const inBody = (test: string) => document.body.querySelector<HTMLElement>(`[data-test="${test}"]`)
async function clickIn(test: string) {
  inBody(test)!.click()
  await settle()
}
/** ticks the checkbox of the nth row */
async function tick(n: number) {
  all('customer-row')[n].closest('tr')!.querySelector<HTMLInputElement>('.el-checkbox input')!.click()
  await settle()
}
const radioDisabled = (test: string) => inBody(test)!.classList.contains('is-disabled')
const radioChecked = (test: string) => inBody(test)!.classList.contains('is-checked')

describe('bulk tagging from the customer list', () => {
  it('tags the ticked customers in the background and shows its progress, then its failures', async () => {
    await mountPage()
    expect(all('customer-row')[0].closest('tr')!.querySelector('.el-checkbox')).not.toBeNull()
    await tick(0)
    await tick(1)
    expect(text(q('customer-selected'))).toBe('已选 2 位客户')
    // ticking is not opening the profile
    expect(router.currentRoute.value.path).toBe('/scrm/customers')
    await clickIn('bulk-tag-open')
    expect(inBody('bulk-tag-dialog')).not.toBeNull()
    expect(text(inBody('bulk-target-selected'))).toBe('已选 2 位客户')
    expect(radioChecked('bulk-target-selected')).toBe(true)
    expect(radioDisabled('bulk-target-selected')).toBe(false)
    expect(text(inBody('bulk-target-filter'))).toBe('全部符合当前筛选的客户（共 2 位客户）')
    expect(inBody('bulk-add-tags')).not.toBeNull()
    expect(inBody('bulk-remove-tags')).not.toBeNull()

    // nothing chosen yet: said in the dialog, not asked
    await clickIn('bulk-tag-submit')
    expect(text(inBody('bulk-tag-error'))).toBe('请选择要添加或移除的标签')
    expect(ElMessageBox.confirm).not.toHaveBeenCalled()

    await clickIn('bulk-add-option-et1')
    await clickIn('bulk-remove-option-et2')
    // a tag chosen on one side cannot be chosen on the other
    expect(inBody('bulk-remove-option-et1')!.classList.contains('is-disabled')).toBe(true)
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob())
    await clickIn('bulk-tag-submit')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe(
      '确定为已选的 2 位客户添加标签「标签1」，移除标签「标签2」吗？任务会在后台进行，逐条同步到企业微信。',
    )
    expect(startBulkTagApi).toHaveBeenCalledWith({}, { external_userids: ['wmA', 'wmB'], add: ['et1'], remove: ['et2'] })
    // the ticks are done with
    expect(q('customer-selected')).toBeNull()

    const progress = inBody('bulk-tag-progress')!
    expect(progress).not.toBeNull()
    expect(text(inBody('bulk-state'))).toBe('排队中')
    expect(text(inBody('bulk-total'))).toBe('共 3 条跟进关系')
    expect(text(inBody('bulk-close-note'))).toContain('关闭窗口不会停止任务')
    expect(inBody('bulk-tag-submit')).toBeNull()

    vi.mocked(getBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'running', succeeded: 1, last_error_reason: 'wecom_rate_limited' }))
    await vi.advanceTimersByTimeAsync(1000)
    await settle()
    expect(getBulkTagApi).toHaveBeenLastCalledWith(41, 1, 10)
    expect(inBody('bulk-progress-bar')!.getAttribute('aria-valuenow')).toBe('33')
    expect(text(inBody('bulk-progress-bar'))).toBe('33%')
    expect(text(inBody('bulk-succeeded'))).toBe('成功 1')
    expect(text(inBody('bulk-failed'))).toBe('失败 0')
    expect(text(inBody('bulk-waiting'))).toBe('企业微信限流，稍后自动继续')

    const listed = vi.mocked(listCustomersApi).mock.calls.length
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(bulkJob({
      state: 'succeeded', succeeded: 2, failed: 1, failures_total: 1, finished_at: 1_700_000_100_000,
      failures: [{ external_userid: 'wmB', customer_name: '陈总', userid: 'zhangsan', employee_name: '张三', reason: 'wecom_no_relationship' }],
    }))
    await vi.advanceTimersByTimeAsync(1000)
    await settle()
    expect(text(inBody('bulk-state'))).toBe('已完成')
    expect(inBody('bulk-progress-bar')!.getAttribute('aria-valuenow')).toBe('100')
    expect(inBody('bulk-waiting')).toBeNull()
    expect(text(inBody('bulk-tag-done'))).toBe('批量打标签已完成：成功 2 条，失败 1 条')
    const failures = inBody('bulk-failures')!
    expect(text(failures)).toContain('失败明细（1）')
    expect(text(inBody('bulk-failure-customer'))).toBe('陈总')
    expect(text(failures)).toContain('张三')
    expect(text(inBody('bulk-failure-reason'))).toBe('企业微信中该员工已不是这位客户的联系人')
    // the list shows the new tags
    expect(listCustomersApi).toHaveBeenCalledTimes(listed + 1)
    await vi.advanceTimersByTimeAsync(5000)
    expect(getBulkTagApi).toHaveBeenCalledTimes(2)
  })

  it('tags everyone matching the filter, with the list query', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page(customers, ADMIN, 57))
    await mountPage('/scrm/customers?gender=1&status=active')
    await clickIn('bulk-tag-open')
    expect(radioDisabled('bulk-target-selected')).toBe(true)
    expect(radioChecked('bulk-target-filter')).toBe(true)
    expect(text(inBody('bulk-target-filter'))).toBe('全部符合当前筛选的客户（共 57 位客户）')
    await clickIn('bulk-remove-option-et1')
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await clickIn('bulk-tag-submit')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toContain('全部符合当前筛选的客户（共 57 位客户）移除标签「标签1」')
    expect(startBulkTagApi).not.toHaveBeenCalled()
    expect(inBody('bulk-tag-progress')).toBeNull()

    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob({ total: 80 }))
    await clickIn('bulk-tag-submit')
    expect(startBulkTagApi).toHaveBeenCalledWith({ gender: 1, status: 'active' }, { add: [], remove: ['et1'] })
    expect(text(inBody('bulk-total'))).toBe('共 80 条跟进关系')
  })

  it('tags everyone carrying the personal tags chosen in the filter', async () => {
    vi.mocked(listPersonalTagsApi).mockResolvedValue({ items: [personalTag(1, '爱喝奶茶'), personalTag(2, '老客户')] })
    await mountPage()
    await clickIn('personal-tag-filter-option-1')
    await clickIn('personal-tag-filter-option-2')
    await clickIn('bulk-tag-open')
    expect(radioChecked('bulk-target-filter')).toBe(true)
    await clickIn('bulk-add-option-et1')
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob())
    await clickIn('bulk-tag-submit')
    expect(startBulkTagApi).toHaveBeenCalledWith({ personal_tag: '1,2' }, { add: ['et1'], remove: [] })
  })

  it('tags everyone having the custom field options chosen in the filter', async () => {
    await mountPage('/scrm/customers?field_option=31,41')
    await clickIn('bulk-tag-open')
    expect(radioChecked('bulk-target-filter')).toBe(true)
    await clickIn('bulk-add-option-et1')
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob())
    await clickIn('bulk-tag-submit')
    expect(startBulkTagApi).toHaveBeenCalledWith({ field_option: '31,41' }, { add: ['et1'], remove: [] })
  })

  it('shows the server refusal in the dialog', async () => {
    await mountPage()
    await clickIn('bulk-tag-open')
    await clickIn('bulk-add-option-et2')
    vi.mocked(startBulkTagApi).mockRejectedValueOnce(new ApiError(400, 'bulk_target_empty', 'x'))
    await clickIn('bulk-tag-submit')
    expect(text(inBody('bulk-tag-error'))).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    expect(inBody('bulk-tag-progress')).toBeNull()
  })

  it('stops asking once the dialog is closed; the job goes on on the server', async () => {
    await mountPage()
    await clickIn('bulk-tag-open')
    await clickIn('bulk-add-option-et1')
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob())
    vi.mocked(getBulkTagApi).mockResolvedValue(bulkJob({ state: 'running', succeeded: 1 }))
    await clickIn('bulk-tag-submit')
    await vi.advanceTimersByTimeAsync(1000)
    expect(getBulkTagApi).toHaveBeenCalledTimes(1)
    await clickIn('bulk-tag-close')
    await vi.advanceTimersByTimeAsync(5000)
    expect(getBulkTagApi).toHaveBeenCalledTimes(1)
    // opened again: the unfinished job, asked for at once
    await clickIn('bulk-tag-open')
    expect(getBulkTagApi).toHaveBeenCalledTimes(2)
    expect(text(inBody('bulk-succeeded'))).toBe('成功 1')
  })

  it('cancels the job after a confirmation, then shows what was done', async () => {
    await mountPage()
    await clickIn('bulk-tag-open')
    await clickIn('bulk-add-option-et1')
    vi.mocked(startBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'running', succeeded: 1 }))
    await clickIn('bulk-tag-submit')
    expect(text(inBody('bulk-tag-cancel'))).toBe('取消')
    expect(inBody('bulk-tag-close')).not.toBeNull()

    // asked, and kept going
    vi.mocked(ElMessageBox.confirm).mockClear().mockRejectedValueOnce('cancel')
    await clickIn('bulk-tag-cancel')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('确定取消这次批量打标签吗？已打上的标签会保留，其余客户不再处理。')
    expect(cancelBulkTagApi).not.toHaveBeenCalled()

    // a running job stops after the relationship under way
    vi.mocked(cancelBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'running', succeeded: 2 }))
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'running', succeeded: 2 }))
    await clickIn('bulk-tag-cancel')
    await settle()
    expect(cancelBulkTagApi).toHaveBeenCalledWith(41)
    expect(text(inBody('bulk-stopping'))).toContain('正在取消')
    expect(inBody('bulk-tag-cancel')!.hasAttribute('disabled')).toBe(true)

    vi.mocked(getBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'cancelled', succeeded: 2, finished_at: 2 }))
    await vi.advanceTimersByTimeAsync(1000)
    await settle()
    expect(text(inBody('bulk-state'))).toBe('已取消')
    expect(text(inBody('bulk-tag-done'))).toBe('批量打标签已取消：成功 2 条，失败 0 条')
    expect(inBody('bulk-tag-cancel')).toBeNull()
    expect(inBody('bulk-stopping')).toBeNull()
    expect(inBody('bulk-tag-close')).not.toBeNull()
  })

  it('ticks customers only in the customer view, and forgets the ticks when the list changes', async () => {
    await mountPage()
    await tick(0)
    expect(text(q('customer-selected'))).toBe('已选 1 位客户')
    q('mode-relationship')!.querySelector('input')!.click()
    await settle()
    expect(q('customer-selected')).toBeNull()
    expect(root.querySelector('.el-table .el-checkbox')).toBeNull()
    await clickIn('bulk-tag-open')
    expect(radioDisabled('bulk-target-selected')).toBe(true)
    expect(text(inBody('bulk-target-filter'))).toBe('全部符合当前筛选的客户（共 2 条跟进关系）')
  })
})

function exportOf(over: Partial<ExportsApi.CustomerExport> = {}): ExportsApi.CustomerExport {
  return {
    id: 31, format: 'xlsx', mode: 'customer', state: 'queued', total: 0, done: 0, bytes: 0, filename: 'customers-20261126-2130.xlsx',
    created_at: 1_700_000_000_000, finished_at: null, expires_at: 1_700_604_800_000, last_error_reason: '', ...over,
  }
}
/** picks a format in the export menu */
async function exportAs(format: 'csv' | 'xlsx') {
  await clickIn('export-open')
  await clickIn(`export-${format}`)
}

describe('exporting the customer list', () => {
  it('asks with the count the list shows, then exports its filters in the console\'s language and shows the export', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page(customers, ADMIN, 12_345))
    await mountPage('/scrm/customers?tag=et1&gender=2')
    expect(text(q('export-open'))).toBe('导出 ▾')
    expect(text(q('export-history'))).toBe('导出记录')

    // asked, and not confirmed
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await exportAs('xlsx')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe(
      '导出 12,345 位客户为 Excel？文件在后台生成，完成后可在「导出记录」中下载，保留 7 天。',
    )
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][2]).toMatchObject({ confirmButtonText: '导出' })
    expect(startCustomerExportApi).not.toHaveBeenCalled()

    const started = exportOf()
    vi.mocked(startCustomerExportApi).mockResolvedValueOnce(started)
    vi.mocked(listCustomerExportsApi).mockResolvedValue({ items: [exportOf({ state: 'running', total: 12_345, done: 100 })], total: 1, page: 1, page_size: 10 })
    await exportAs('xlsx')
    expect(startCustomerExportApi).toHaveBeenCalledWith({ tag: 'et1', gender: 2 }, { format: 'xlsx', lang: 'zh-CN' })
    // the exports dialog opens on the new one
    expect(inBody('export-dialog')).not.toBeNull()
    expect(listCustomerExportsApi).toHaveBeenCalledWith(1, 10)
    const rows = [...document.body.querySelectorAll<HTMLElement>('[data-test="export-row"]')]
    expect(rows.map((r) => r.dataset.id)).toEqual(['31'])
    expect(text(inBody('export-state'))).toBe('生成中')
  })

  it('exports the relationships in relationship mode, with the search, as CSV headed in English', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page(customers, ADMIN, 80))
    await mountPage('/scrm/customers?mode=relationship&q=%E9%94%A6%E9%B2%A4&status=active')
    i18n.global.locale.value = 'en-US'
    await settle()
    expect(text(q('export-open'))).toBe('Export ▾')
    vi.mocked(startCustomerExportApi).mockResolvedValueOnce(exportOf({ format: 'csv', mode: 'relationship' }))
    await exportAs('csv')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toMatch(/^Export 80 customer relationships as CSV\?/)
    expect(startCustomerExportApi).toHaveBeenCalledWith(
      { mode: 'relationship', q: '锦鲤', status: 'active' }, { format: 'csv', lang: 'en-US' },
    )
  })

  it('exports the customers carrying the personal tags of the filter', async () => {
    vi.mocked(listPersonalTagsApi).mockResolvedValue({ items: [personalTag(1, '爱喝奶茶'), personalTag(2, '老客户')] })
    await mountPage('/scrm/customers?personal_tag=1,2&gender=2')
    vi.mocked(startCustomerExportApi).mockResolvedValueOnce(exportOf({ format: 'csv' }))
    await exportAs('csv')
    expect(startCustomerExportApi).toHaveBeenCalledWith({ personal_tag: '1,2', gender: 2 }, { format: 'csv', lang: 'zh-CN' })
  })

  it('exports the customers having the custom field options of the filter', async () => {
    await mountPage('/scrm/customers?field_option=31&stage=2')
    vi.mocked(startCustomerExportApi).mockResolvedValueOnce(exportOf({ format: 'xlsx' }))
    await exportAs('xlsx')
    expect(startCustomerExportApi).toHaveBeenCalledWith({ stage: 2, field_option: '31' }, { format: 'xlsx', lang: 'zh-CN' })
  })

  it('says what the server refused, in the user\'s language', async () => {
    await mountPage()
    vi.mocked(startCustomerExportApi).mockRejectedValueOnce(new ApiError(429, 'export_busy', 'busy'))
    await exportAs('csv')
    expect(startCustomerExportApi).toHaveBeenCalledWith({}, { format: 'csv', lang: 'zh-CN' })
    expect(text(q('export-start-error'))).toBe('你已有 3 个导出正在进行，请等其中一个完成后再导出')
    expect(inBody('export-dialog')).toBeNull()
  })

  it('does not ask to export an empty list', async () => {
    vi.mocked(listCustomersApi).mockResolvedValue(page([]))
    await mountPage('/scrm/customers?gender=1')
    await exportAs('xlsx')
    expect(ElMessageBox.confirm).not.toHaveBeenCalled()
    expect(startCustomerExportApi).not.toHaveBeenCalled()
    expect(text(q('export-start-error'))).toBe('没有可导出的客户：当前筛选没有匹配的客户')
  })

  it('opens the exports from their button, and stops asking when the page is left', async () => {
    vi.mocked(listCustomerExportsApi).mockResolvedValue({ items: [exportOf({ state: 'running', total: 10, done: 5 })], total: 1, page: 1, page_size: 10 })
    await mountPage()
    await clickIn('export-history')
    expect(inBody('export-dialog')).not.toBeNull()
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1500)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(2)
    await router.push('/scrm/overview')
    await settle()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(listCustomerExportsApi).toHaveBeenCalledTimes(2)
  })
})
