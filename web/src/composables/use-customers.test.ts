import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { ApiError } from '@/api/request'
import {
  listCustomersApi, listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi, type CustomersApi,
} from '@/api/customers'
import {
  customerQuery, dayRange, defaultFilters, departmentTree, emptyReason, fromRouteQuery, hasFilters, personalTagFilterLabel, routeQuery,
  rowAddTime, rowState, sameQuery, sortOf, tableSort, useCustomers, type CustomerFilters,
} from './use-customers'
import { listCustomFieldsApi } from '@/api/fields'

vi.mock('@/api/customers', () => ({
  listCustomersApi: vi.fn(), listScrmDepartmentsApi: vi.fn(), listScrmTagsApi: vi.fn(), listStagesApi: vi.fn(), listPersonalTagsApi: vi.fn(),
}))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn() }))

const ADMIN: CustomersApi.Scope = { all: true, bound: false, userid: '', data_scope: '' }
const UNBOUND: CustomersApi.Scope = { all: false, bound: false, userid: '', data_scope: '' }
const OWN: CustomersApi.Scope = { all: false, bound: true, userid: 'zhangsan', data_scope: 'own' }

function follow(over: Partial<CustomersApi.Follow> = {}): CustomersApi.Follow {
  return {
    userid: 'zhangsan', employee_name: '张三', remark: '', description: '', add_time: 1_700_000_000_000, add_way: 1, state: '',
    remark_mobiles: [], remark_corp_name: '', active: true, deleted_by: '', deleted_at: null, tags: [], ...over,
  }
}
function customer(i: number, over: Partial<CustomersApi.Customer> = {}): CustomersApi.Customer {
  return {
    external_userid: `wm${i}`, name: `客户${i}`, type: 1, gender: 1, corp_name: '', last_add_time: 1_700_000_000_000 + i,
    active_follows: 1, follows: [follow()], tags: [], stage_id: null, stage_name: '', ...over,
  }
}
function page(items: CustomersApi.Customer[], total = items.length, p = 1, scope = ADMIN): CustomersApi.Page {
  return { items, total, page: p, page_size: 20, scope }
}
const filters = (over: Partial<CustomerFilters> = {}): CustomerFilters => ({ ...defaultFilters(), ...over })

function setup(initial = {}) {
  let c!: ReturnType<typeof useCustomers>
  effectScope().run(() => (c = useCustomers({ pageSize: 20, debounceMs: 300, initial })))
  return c
}
const lastQuery = () => vi.mocked(listCustomersApi).mock.lastCall?.[0]

beforeEach(() => {
  vi.useFakeTimers()
  vi.mocked(listCustomersApi).mockReset().mockResolvedValue(page([customer(1)]))
  vi.mocked(listScrmDepartmentsApi).mockReset().mockResolvedValue({ items: [{ id: 1, name: '锦鲤', parent_id: 0 }] })
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({
    items: [{ id: 1, name: '爱喝奶茶', account_id: 9, owner_name: '小林', customers: 2, created_at: 1 }],
  })
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: [{ id: 2, name: '意向', sort: 1, customers: 3 }], unstaged: 5 })
  vi.mocked(listCustomFieldsApi).mockReset().mockResolvedValue({ items: [] })
})
afterEach(() => vi.useRealTimers())

describe('the list query', () => {
  it('leaves defaults and unset filters out', () => {
    expect(customerQuery(filters(), '  ')).toEqual({})
    expect(customerQuery(filters({ addWay: undefined as unknown as null, status: '' }), '')).toEqual({})
  })

  it('sends every filter the way the API reads it', () => {
    const q = customerQuery(
      filters({
        mode: 'relationship', userids: ['zhangsan', 'lisi'], department: 3, tags: ['et1', 'et2'], personalTags: [1, 2], addWay: 0, gender: 2,
        status: 'deleted_by_customer', sort: 'name', days: [new Date(2026, 0, 5, 15, 30), new Date(2026, 0, 7, 9)],
      }),
      ' 王 ',
    )
    expect(q).toEqual({
      q: '王', mode: 'relationship', userid: 'zhangsan,lisi', department: 3, tag: 'et1,et2', personal_tag: '1,2', add_way: 0, gender: 2,
      status: 'deleted_by_customer', sort: 'name', added_from: new Date(2026, 0, 5).getTime(), added_to: new Date(2026, 0, 8).getTime(),
    })
  })

  it('an add-time range runs from the start of the first local day to the start of the day after the last', () => {
    const r = dayRange([new Date(2026, 1, 28, 23, 59), new Date(2026, 1, 28, 0, 0)])
    expect(r).toEqual({ added_from: new Date(2026, 1, 28).getTime(), added_to: new Date(2026, 2, 1).getTime() })
    // month and year ends
    expect(dayRange([new Date(2025, 11, 31), new Date(2025, 11, 31)]).added_to).toBe(new Date(2026, 0, 1).getTime())
  })

  it('round-trips through the address, page included; malformed values are dropped', () => {
    const f = filters({ mode: 'relationship', userids: ['a'], tags: ['t'], personalTags: [7, 3], department: 4, gender: 0, status: 'lost', sort: 'add_time',
      days: [new Date(2026, 2, 1), new Date(2026, 2, 3)], addWay: 202, stage: 4, fieldOptions: [31, 5] })
    const query = routeQuery(f, '张', 3)
    expect(query.page).toBe('3')
    expect(Object.values(query).every((v) => typeof v === 'string')).toBe(true)
    const back = fromRouteQuery(query)
    expect(back.q).toBe('张')
    expect(back.page).toBe(3)
    expect(customerQuery(back.filters, back.q)).toEqual(customerQuery(f, '张'))
    expect(back.filters.days?.map((d) => d.getDate())).toEqual([1, 3])
    expect(back.filters.personalTags).toEqual([7, 3])
    expect(routeQuery(f, '', 1).page).toBeUndefined()

    const bad = fromRouteQuery({ mode: 'x', gender: '7', status: 'gone', sort: 'size', page: '-2', department: 'abc', added_from: '5', added_to: '5', stage: '-1' })
    expect(bad.filters).toEqual(defaultFilters())
    expect(bad.page).toBe(1)
    // personal tag ids are positive integers, each once
    expect(fromRouteQuery({ personal_tag: '1,x,0,-2,2.5,,2,1' }).filters.personalTags).toEqual([1, 2])
    expect(fromRouteQuery({ personal_tag: 'abc' }).filters.personalTags).toEqual([])
  })

  it('compares address queries whatever their order', () => {
    expect(sameQuery({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true)
    expect(sameQuery({ a: '1' }, { a: '1', b: '2' })).toBe(false)
    expect(sameQuery({ a: '1' }, { a: '2' })).toBe(false)
  })

  it('knows whether anything narrows the list', () => {
    expect(hasFilters(filters({ mode: 'relationship', sort: 'name' }), ' ')).toBe(false)
    expect(hasFilters(filters(), 'x')).toBe(true)
    expect(hasFilters(filters({ gender: 0 }), '')).toBe(true)
    expect(hasFilters(filters({ addWay: 0 }), '')).toBe(true)
    expect(hasFilters(filters({ stage: 0 }), '')).toBe(true)
    expect(hasFilters(filters({ personalTags: [3] }), '')).toBe(true)
    expect(hasFilters(filters({ days: undefined as unknown as null }), '')).toBe(false)
  })

  it('maps the table sort to the sort parameter and back', () => {
    expect(sortOf('add_time', 'ascending')).toBe('add_time')
    expect(sortOf('add_time', 'descending')).toBe('-add_time')
    expect(sortOf('name', 'ascending')).toBe('name')
    expect(sortOf('name', 'descending')).toBe('-name')
    expect(sortOf('name', null)).toBe('-add_time')
    expect(sortOf('gender', 'ascending')).toBe('-add_time')
    expect(tableSort('-name')).toEqual({ prop: 'name', order: 'descending' })
    expect(tableSort('add_time')).toEqual({ prop: 'add_time', order: 'ascending' })
  })
})

describe('departmentTree', () => {
  it('nests the flat list under the root and keeps orphans at the top', () => {
    const tree = departmentTree([
      { id: 1, name: '锦鲤', parent_id: 0 },
      { id: 2, name: '华东', parent_id: 1 },
      { id: 3, name: '上海店', parent_id: 2 },
      { id: 4, name: '华南', parent_id: 1 },
      { id: 9, name: '孤儿', parent_id: 77 },
    ])
    expect(tree).toEqual([
      { value: 1, label: '锦鲤', children: [{ value: 2, label: '华东', children: [{ value: 3, label: '上海店' }] }, { value: 4, label: '华南' }] },
      { value: 9, label: '孤儿' },
    ])
  })
})

describe('row helpers', () => {
  it('a customer is active while any visible relationship is; else as its last ended one', () => {
    const lost = (by: CustomersApi.Follow['deleted_by'], at: number) => follow({ active: false, deleted_by: by, deleted_at: at })
    expect(rowState(customer(1, { follows: [lost('customer', 5), follow()] }), 'customer').state).toBe('active')
    expect(rowState(customer(1, { follows: [lost('customer', 5), lost('employee', 9)] }), 'customer')).toEqual({ state: 'employee', at: 9 })
    expect(rowState(customer(1, { follows: [], active_follows: 0 }), 'customer').state).toBe('lost')
    expect(rowState(customer(1, { follows: [lost('', 3)] }), 'relationship')).toEqual({ state: 'lost', at: 3 })
  })

  it('a relationship row shows its own add time', () => {
    const row = customer(1, { last_add_time: 50, follows: [follow({ add_time: 20 })] })
    expect(rowAddTime(row, 'relationship')).toBe(20)
    expect(rowAddTime(row, 'customer')).toBe(50)
  })

  it('explains an empty list', () => {
    expect(emptyReason(null, false)).toBeNull()
    expect(emptyReason(UNBOUND, true)).toBe('unbound')
    expect(emptyReason(ADMIN, true)).toBe('noMatch')
    expect(emptyReason(ADMIN, false)).toBe('noCustomers')
    expect(emptyReason(OWN, false)).toBe('noneOwn')
  })
})

describe('useCustomers', () => {
  it('filters by stage, 0 being the customers in no stage, and loads the stages to pick from', async () => {
    expect(customerQuery(filters({ stage: 0 }), '')).toEqual({ stage: 0 })
    expect(routeQuery(filters({ stage: 0 }), '', 1)).toEqual({ stage: '0' })
    expect(fromRouteQuery({ stage: '0' }).filters.stage).toBe(0)
    expect(fromRouteQuery({ stage: '3' }).filters.stage).toBe(3)
    expect(fromRouteQuery({ stage: 'x' }).filters.stage).toBeNull()
    const c = setup({ stage: '2' })
    await c.init()
    expect(lastQuery()).toEqual({ stage: 2, page: 1, page_size: 20 })
    expect(c.stages.value.map((s) => s.name)).toEqual(['意向'])
    expect(c.filtered.value).toBe(true)
    c.reset()
    await vi.advanceTimersByTimeAsync(0)
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
  })

  it("an admin's personal-tag choices are every member's", async () => {
    let c!: ReturnType<typeof useCustomers>
    effectScope().run(() => (c = useCustomers({ pageSize: 20, debounceMs: 300, initial: {}, allPersonalTags: true })))
    await c.init()
    expect(listPersonalTagsApi).toHaveBeenCalledWith('team')
  })

  it('filters by personal tags: restored from the address, sent as personal_tag, cleared by reset', async () => {
    expect(customerQuery(filters({ personalTags: [1, 2] }), '')).toEqual({ personal_tag: '1,2' })
    expect(routeQuery(filters({ personalTags: [1, 2] }), '', 1)).toEqual({ personal_tag: '1,2' })
    const c = setup({ personal_tag: '1,2', gender: '1' })
    expect(c.filters.personalTags).toEqual([1, 2])
    expect(c.filtered.value).toBe(true)
    await c.init()
    expect(lastQuery()).toEqual({ personal_tag: '1,2', gender: 1, page: 1, page_size: 20 })
    expect(listPersonalTagsApi).toHaveBeenCalledTimes(1)
    expect(listPersonalTagsApi).toHaveBeenCalledWith('own')
    expect(c.personalTags.value.map((p) => p.name)).toEqual(['爱喝奶茶'])
    expect(c.routeQuery.value).toEqual({ personal_tag: '1,2', gender: '1' })

    c.filters.personalTags = [2]
    await nextTick()
    expect(lastQuery()).toEqual({ personal_tag: '2', gender: 1, page: 1, page_size: 20 })
    c.filters.gender = null
    await nextTick()
    expect(c.filtered.value).toBe(true)
    c.reset()
    await vi.advanceTimersByTimeAsync(0)
    expect(c.filters.personalTags).toEqual([])
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(c.filtered.value).toBe(false)
    expect(c.routeQuery.value).toEqual({})
  })

  it('filters by custom field options: restored from the address, sent as field_option, cleared by reset', async () => {
    expect(customerQuery(filters({ fieldOptions: [31, 42] }), '')).toEqual({ field_option: '31,42' })
    expect(routeQuery(filters({ fieldOptions: [31] }), '', 2)).toEqual({ field_option: '31', page: '2' })
    expect(hasFilters(filters({ fieldOptions: [31] }), '')).toBe(true)
    // option ids are positive integers, each once
    expect(fromRouteQuery({ field_option: '31,x,0,-2,2.5,,42,31' }).filters.fieldOptions).toEqual([31, 42])
    vi.mocked(listCustomFieldsApi).mockResolvedValueOnce({
      items: [
        { id: 1, name: '生日', kind: 'date', options: [], sort: 1, customers: 0 },
        { id: 2, name: '会员等级', kind: 'select', options: [{ id: 31, label: '金卡' }], sort: 2, customers: 1 },
      ],
    })
    const c = setup({ field_option: '31,42', stage: '2' })
    expect(c.filters.fieldOptions).toEqual([31, 42])
    expect(c.filtered.value).toBe(true)
    await c.init()
    await vi.advanceTimersByTimeAsync(0)
    expect(lastQuery()).toEqual({ field_option: '31,42', stage: 2, page: 1, page_size: 20 })
    // only the choice fields are offered
    expect(c.choiceFields.value.map((f) => f.name)).toEqual(['会员等级'])
    expect(c.routeQuery.value).toEqual({ field_option: '31,42', stage: '2' })
    c.filters.fieldOptions = [42]
    await nextTick()
    expect(lastQuery()).toEqual({ field_option: '42', stage: 2, page: 1, page_size: 20 })
    c.reset()
    await vi.advanceTimersByTimeAsync(0)
    expect(c.filters.fieldOptions).toEqual([])
    expect(c.routeQuery.value).toEqual({})
  })

  it('names a personal tag with its owner for an admin only', () => {
    const tag = { name: '爱喝奶茶', owner_name: '小林' }
    const withOwner = (name: string, owner: string) => `${name}（${owner}）`
    expect(personalTagFilterLabel(tag, true, withOwner)).toBe('爱喝奶茶（小林）')
    expect(personalTagFilterLabel(tag, false, withOwner)).toBe('爱喝奶茶')
    expect(personalTagFilterLabel({ name: '爱喝奶茶', owner_name: '' }, true, withOwner)).toBe('爱喝奶茶')
  })

  it('loads the page from the address and the filter choices together', async () => {
    vi.mocked(listCustomersApi).mockResolvedValueOnce(page([customer(41)], 41, 3))
    const c = setup({ q: '王', page: '3', status: 'active' })
    await c.init()
    expect(lastQuery()).toEqual({ q: '王', status: 'active', page: 3, page_size: 20 })
    expect(c.page.value).toBe(3)
    expect(c.total.value).toBe(41)
    expect(c.scope.value).toEqual(ADMIN)
    expect(c.departmentTree.value).toEqual([{ value: 1, label: '锦鲤' }])
    expect(c.routeQuery.value).toEqual({ q: '王', status: 'active', page: '3' })
  })

  it('a filter change lists from page 1 on the server', async () => {
    const c = setup()
    await c.load(2)
    c.filters.tags = ['et1']
    c.filters.mode = 'relationship'
    await nextTick()
    expect(listCustomersApi).toHaveBeenCalledTimes(2)
    expect(lastQuery()).toEqual({ mode: 'relationship', tag: 'et1', page: 1, page_size: 20 })
    c.setSort('name', 'ascending')
    await nextTick()
    expect(lastQuery()).toEqual({ mode: 'relationship', tag: 'et1', sort: 'name', page: 1, page_size: 20 })
  })

  it('searches once the typing pauses, or at once on Enter', async () => {
    const c = setup()
    c.q.value = '王'
    await vi.advanceTimersByTimeAsync(200)
    c.q.value = ' 王小 '
    await vi.advanceTimersByTimeAsync(299)
    expect(listCustomersApi).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(listCustomersApi).toHaveBeenCalledTimes(1)
    expect(lastQuery()).toEqual({ q: '王小', page: 1, page_size: 20 })

    c.q.value = '138'
    c.searchNow()
    await nextTick()
    expect(lastQuery()).toEqual({ q: '138', page: 1, page_size: 20 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(listCustomersApi).toHaveBeenCalledTimes(2)
    // Enter again on the same text searches again
    c.searchNow()
    await nextTick()
    expect(listCustomersApi).toHaveBeenCalledTimes(3)
  })

  it('reset clears the search and the filters, keeps mode and sort, and lists once', async () => {
    const c = setup({ q: '王', mode: 'relationship', sort: 'name', gender: '1', tag: 'a,b' })
    expect(c.filtered.value).toBe(true)
    c.reset()
    await vi.advanceTimersByTimeAsync(1000)
    expect(listCustomersApi).toHaveBeenCalledTimes(1)
    expect(lastQuery()).toEqual({ mode: 'relationship', sort: 'name', page: 1, page_size: 20 })
    expect(c.q.value).toBe('')
    expect(c.filtered.value).toBe(false)
  })

  it('shows the list another address asks for, with one request', async () => {
    const c = setup({ q: '王', gender: '1' })
    await c.init()
    vi.mocked(listCustomersApi).mockClear()
    vi.mocked(listCustomersApi).mockResolvedValueOnce(page([customer(30)], 30, 2))
    c.apply({ status: 'lost', page: '2' })
    await vi.advanceTimersByTimeAsync(1000)
    expect(listCustomersApi).toHaveBeenCalledTimes(1)
    expect(lastQuery()).toEqual({ status: 'lost', page: 2, page_size: 20 })
    expect(c.q.value).toBe('')
    expect(c.filters.gender).toBeNull()
    expect(c.routeQuery.value).toEqual({ status: 'lost', page: '2' })
  })

  it('keeps only the answer to the latest request, its scope included', async () => {
    let releaseSlow!: (v: CustomersApi.Page) => void
    vi.mocked(listCustomersApi)
      .mockImplementationOnce(() => new Promise((r) => (releaseSlow = r)))
      .mockResolvedValueOnce(page([], 0, 1, UNBOUND))
    const c = setup()
    const slow = c.load(1)
    await c.load(1)
    releaseSlow(page([customer(1)], 1, 1, ADMIN))
    await slow
    expect(c.items.value).toEqual([])
    expect(c.scope.value).toEqual(UNBOUND)
    expect(c.emptyReason.value).toBe('unbound')
    expect(c.loading.value).toBe(false)
  })

  it('shows a refused filter in the user language; the choices failing leaves them empty', async () => {
    vi.mocked(listCustomersApi).mockRejectedValueOnce(new ApiError(400, 'invalid_time_range', 'x'))
    vi.mocked(listScrmTagsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    vi.mocked(listPersonalTagsApi).mockRejectedValueOnce(new ApiError(403, 'forbidden', 'x'))
    const c = setup()
    await c.init()
    expect(c.error.value).toBe('时间范围的开始需早于结束')
    expect(c.tagGroups.value).toEqual([])
    expect(c.personalTags.value).toEqual([])
    expect(c.departments.value).toHaveLength(1)
  })
})
