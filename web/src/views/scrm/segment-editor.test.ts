import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, type App } from 'vue'
import type { Router } from 'vue-router'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  countSegmentApi, createSegmentApi, getSegmentApi, listGroupChatsApi, segmentSendersApi, startSegmentBulkTagApi, updateSegmentApi,
  type SegmentsApi,
} from '@/api/segments'
import {
  getBulkTagApi, listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi, type CustomersApi,
} from '@/api/customers'
import { listWecomEmployeesApi } from '@/api/wecom'
import { listCustomFieldsApi, type FieldsApi } from '@/api/fields'
import { all, mountApp, q, testSession, text } from '@/test-utils/mount'
import SegmentEditor from './segment-editor.vue'

vi.mock('@/api/segments', () => ({
  countSegmentApi: vi.fn(), getSegmentApi: vi.fn(), createSegmentApi: vi.fn(), updateSegmentApi: vi.fn(), segmentSendersApi: vi.fn(),
  startSegmentBulkTagApi: vi.fn(), listGroupChatsApi: vi.fn(),
}))
vi.mock('@/api/customers', () => ({
  listScrmTagsApi: vi.fn(), listPersonalTagsApi: vi.fn(), listScrmDepartmentsApi: vi.fn(), listStagesApi: vi.fn(), getBulkTagApi: vi.fn(),
  cancelBulkTagApi: vi.fn(), startBulkTagApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ listWecomEmployeesApi: vi.fn() }))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const customField = (id: number, name: string, kind: FieldsApi.Kind, options: [number, string][] = []): FieldsApi.Field =>
  ({ id, name, kind, options: options.map(([oid, label]) => ({ id: oid, label })), sort: id, customers: 1 })
const CUSTOM_FIELDS = [
  customField(1, '生日', 'date'), customField(2, '会员等级', 'select', [[31, '金卡'], [32, '银卡']]),
  customField(3, '兴趣', 'multi_select', [[41, '茶饮'], [42, '甜品']]), customField(4, '积分', 'number'), customField(5, '备注', 'text'),
]
const VIP: SegmentsApi.Rule = { op: 'and', children: [{ field: 'corp_tag', match: 'any', values: ['et1'] }] }
function segment(id: number, over: Partial<SegmentsApi.Segment> = {}): SegmentsApi.Segment {
  return {
    id, name: '高意向客户', rule: VIP, customers: 120, problem: '', created_by: 7, created_by_name: '王小锦', created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000, history: [], ...over,
  }
}
const person = (i: number, over: Partial<SegmentsApi.SampleCustomer> = {}): SegmentsApi.SampleCustomer =>
  ({ external_userid: `wm${i}`, name: `客户${i}`, corp_name: '', type: 1, gender: 1, ...over })
const counted = (customers: number, sample: SegmentsApi.SampleCustomer[] = []): SegmentsApi.Count => ({ customers, sample, took_us: 2300 })
function bulkJob(over: Partial<CustomersApi.BulkTagState> = {}): CustomersApi.BulkTagState {
  return {
    job_id: 41, state: 'queued', total: 150, succeeded: 0, failed: 0, last_error_reason: '', created_at: 1_700_000_000_000,
    finished_at: null, failures: [], failures_total: 0, ...over,
  }
}

let app: App | null = null
let router: Router

async function mountPage(path: string, role: 'admin' | 'member' = 'admin', accountId = 7) {
  ;({ app, router } = await mountApp({
    session: testSession({ role, accountId }),
    routes: [
      { path: '/scrm/segments/new', component: SegmentEditor },
      { path: '/scrm/segments/:id(\\d+)', component: SegmentEditor },
      { path: '/:any(.*)*', component: { render: () => null } },
    ],
    path,
  }))
}
/** Lets the count's pause pass and its answer come through. */
async function counted300() {
  await vi.advanceTimersByTimeAsync(300)
  await nextTick()
}
async function clickOn(el: HTMLElement | null | undefined) {
  el!.click()
  await vi.advanceTimersByTimeAsync(0)
  await nextTick()
}
const clickTest = (test: string) => clickOn(q(test))
function typeInto(test: string, value: string) {
  const input = (q(test)?.matches('input') ? q(test) : q(test)?.querySelector('input')) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  return nextTick()
}
/** picks `field` in the condition's field select */
async function pickField(condition: HTMLElement, field: string) {
  await clickOn(q('condition-field', condition)?.querySelector<HTMLElement>('.el-select__wrapper'))
  await clickOn(all(`field-option-${field}`).at(-1))
}
const lastRule = () => vi.mocked(countSegmentApi).mock.lastCall?.[0]
/** types into an input (a number box or a date picker, found by the data-test on it or around it) and leaves it */
async function enter(test: string, value: string, within: ParentNode = document.body) {
  const input = (q(test, within)?.matches('input') ? q(test, within) : q(test, within)?.querySelector('input')) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  input.dispatchEvent(new Event('change'))
  await nextTick()
}
/** picks custom field `id` in a custom_value condition's field select */
async function pickValueField(condition: HTMLElement, id: number) {
  await clickOn(q('value-field-select', condition)?.querySelector<HTMLElement>('.el-select__wrapper'))
  await clickOn(all(`value-field-option-${id}`).at(-1))
}

beforeEach(() => {
  vi.useFakeTimers()
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(countSegmentApi).mockReset().mockResolvedValue(counted(2048, [person(1), person(2, { type: 2, corp_name: '锦鲤茶饮' })]))
  for (const f of [getSegmentApi, createSegmentApi, updateSegmentApi, segmentSendersApi, startSegmentBulkTagApi, getBulkTagApi]) vi.mocked(f).mockReset()
  vi.mocked(listGroupChatsApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 20 })
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({
    items: [{ group_id: 'g1', name: '客户等级', tags: [{ tag_id: 'et1', name: 'VIP', group_name: '客户等级' }, { tag_id: 'et2', name: '普通', group_name: '客户等级' }] }],
  })
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [] })
  vi.mocked(listScrmDepartmentsApi).mockReset().mockResolvedValue({ items: [{ id: 1, name: '锦鲤', parent_id: 0 }] })
  vi.mocked(listStagesApi).mockReset().mockResolvedValue({ items: [{ id: 3, name: '意向', sort: 1, customers: 0 }], unstaged: 0 })
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue({ items: [], total: 0, page: 1, page_size: 20 })
  vi.mocked(listCustomFieldsApi).mockReset().mockResolvedValue({ items: CUSTOM_FIELDS })
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
  vi.useRealTimers()
})

describe('a new segment', () => {
  it('starts with everyone and counts them after a pause, with a sample linking to the customers', async () => {
    await mountPage('/scrm/segments/new')
    expect(text(q('rule-everyone'))).toContain('当前匹配全部客户')
    expect(countSegmentApi).not.toHaveBeenCalled()
    await counted300()
    expect(lastRule()).toEqual({ rule: { op: 'and', children: [] } })
    expect(text(q('segment-count'))).toBe('2,048 位客户')
    expect(text(q('segment-took'))).toBe('用时 2.3 毫秒')
    expect(all('segment-sample-customer').map(text)).toEqual(['客户1@微信', '客户2@锦鲤茶饮'])
    expect(all('segment-sample-customer')[1].getAttribute('href')).toBe('/scrm/customers/wm2')
    expect(q('segment-save-first')).not.toBeNull()
    expect(q('bulk-tag-open')).toBeNull()
  })

  it('shows "incomplete" instead of a count until a condition has its values, and sends nothing meanwhile', async () => {
    await mountPage('/scrm/segments/new')
    await counted300()
    await clickTest('add-condition')
    await counted300()
    expect(text(q('segment-count-incomplete'))).toBe('条件未填完整')
    expect(text(q('condition-issue'))).toBe('请选择条件的值')
    expect(countSegmentApi).toHaveBeenCalledTimes(1)

    await clickOn(q('tag-option-et1'))
    await counted300()
    expect(countSegmentApi).toHaveBeenCalledTimes(2)
    expect(lastRule()).toEqual({ rule: { op: 'and', children: [{ field: 'corp_tag', match: 'any', values: ['et1'] }] } })
    expect(q('segment-count-incomplete')).toBeNull()
    expect(q('condition-issue')).toBeNull()
  })

  it('builds nested groups with AND / OR and NOT, each field with its own values', async () => {
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    await pickField(q('segment-condition')!, 'status')
    await clickTest('status-lost')
    await clickTest('add-group')
    const group = q('rule-group')!
    // a nested group joins with the other operator, starting with one condition
    expect(q('group-op-or', group)!.classList.contains('is-active')).toBe(true)
    await pickField(q('segment-condition', group)!, 'gender')
    await clickOn(q('gender-option-2'))
    await clickOn(q('group-not', group)?.querySelector<HTMLElement>('input'))
    // the root's own button comes after its children
    await clickOn(all('add-condition').at(-1))
    const added = all('segment-condition').at(-1)!
    await pickField(added, 'added')
    await clickOn(q('condition-not', added)?.querySelector<HTMLElement>('input'))
    await counted300()
    expect(lastRule()).toEqual({
      rule: {
        op: 'and',
        children: [
          { field: 'status', value: 'lost' },
          { op: 'or', not: true, children: [{ field: 'gender', values: [2] }] },
          { field: 'added', within_days: 30, not: true },
        ],
      },
    })
    // removing the group counts again without it
    await clickOn(q('group-remove'))
    await counted300()
    expect(lastRule()?.rule).toEqual({ op: 'and', children: [{ field: 'status', value: 'lost' }, { field: 'added', within_days: 30, not: true }] })
  })

  it('shows the server message for a refused rule and marks its condition, keeping the edits', async () => {
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    await clickOn(q('tag-option-et2'))
    vi.mocked(countSegmentApi).mockRejectedValueOnce(new ApiError(400, 'invalid_segment_rule', 'rule.children[0].values[0]: no such corp tag'))
    await counted300()
    expect(text(q('segment-count-error'))).toBe('规则有误：rule.children[0].values[0]: no such corp tag')
    expect(q('segment-condition')!.classList.contains('bad')).toBe(true)
    expect(q('segment-count')).toBeNull()
    expect(q('value-corp-tags')!.textContent).toContain('普通')
  })

  it('saves with a name, then shows the saved segment at its address', async () => {
    vi.mocked(createSegmentApi).mockResolvedValueOnce(segment(5, { name: '高意向', rule: { op: 'and', children: [{ field: 'status', value: 'active' }] } }))
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    await pickField(q('segment-condition')!, 'status')
    await clickTest('segment-save')
    expect(text(q('segment-save-error'))).toBe('分群名称需为 1–30 个字符')
    await typeInto('segment-name-input', ' 高意向 ')
    expect(q('segment-unsaved')).not.toBeNull()
    await clickTest('segment-save')
    expect(createSegmentApi).toHaveBeenCalledWith({ name: '高意向', rule: { op: 'and', children: [{ field: 'status', value: 'active' }] } })
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/segments/5'))
    // nothing unsaved: leaving asks nothing
    expect(ElMessageBox.confirm).not.toHaveBeenCalled()
    expect(q('segment-unsaved')).toBeNull()
    expect(q('segment-history')).not.toBeNull()
    expect(getSegmentApi).not.toHaveBeenCalled()
  })

  it('picks the values of personal tags, ways of adding, stages (or none) and channels from their lists', async () => {
    vi.mocked(listPersonalTagsApi).mockResolvedValue({
      items: [{ id: 11, name: '爱喝奶茶', account_id: 7, owner_name: '王小锦', customers: 3, created_at: 1_700_000_000_000 }],
    })
    await mountPage('/scrm/segments/new')
    const fields = ['personal_tag', 'add_way', 'stage', 'channel_state']
    for (let i = 0; i < fields.length; i++) {
      await clickOn(all('add-condition').at(-1))
      await pickField(all('segment-condition')[i], fields[i])
    }
    const [personal, addWay, stage, channel] = all('segment-condition')
    expect(q('value-personal-tags', personal)).not.toBeNull()
    expect(q('condition-match', personal)).not.toBeNull()
    expect(q('value-add-ways', addWay)).not.toBeNull()
    expect(q('value-stages', stage)).not.toBeNull()
    expect(q('value-states', channel)).not.toBeNull()
    expect(all('stage-option-0')).toHaveLength(1)
    expect(text(q('stage-option-3'))).toBe('意向')
    expect(all('add-way-option-1')).toHaveLength(1)
    await clickOn(q('personal-option-11'))
    await clickOn(q('add-way-option-1'))
    await clickOn(q('stage-option-3'))
    await clickOn(q('stage-option-0'))
    expect(text(q('value-personal-tags', personal))).toContain('爱喝奶茶')
    expect(text(q('value-stages', stage))).toContain('意向')
    // a channel is typed in
    await typeInto('value-states', 'qr_shop')
    await clickOn([...document.querySelectorAll<HTMLElement>('.el-select-dropdown__item')].find((o) => text(o) === 'qr_shop'))
    await counted300()
    expect(lastRule()?.rule).toEqual({
      op: 'and',
      children: [
        { field: 'personal_tag', match: 'any', values: [11] },
        { field: 'add_way', values: [1] },
        { field: 'stage', values: [3, 0] },
        { field: 'channel_state', values: ['qr_shop'] },
      ],
    })
  })

  it('picks options of the choice custom fields, grouped by field, matched any / all / none', async () => {
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    expect(text(all('field-option-custom_field').at(-1))).toBe('自定义字段')
    await pickField(q('segment-condition')!, 'custom_field')
    const condition = q('segment-condition')!
    expect(q('value-custom-fields', condition)).not.toBeNull()
    expect(q('condition-issue', condition)).not.toBeNull()
    expect(all('match-option-all').length).toBeGreaterThan(0)
    // the options by field; a date field has none to offer
    const options = q('custom-field-option-31')!.closest('.el-select-dropdown')!
    expect([...options.querySelectorAll('.el-select-group__title')].map(text)).toEqual(['会员等级', '兴趣'])
    expect([...options.querySelectorAll('[data-test^="custom-field-option-"]')].map(text)).toEqual(['金卡', '银卡', '茶饮', '甜品'])
    await clickOn(q('custom-field-option-31'))
    await clickOn(q('custom-field-option-42'))
    await clickOn(all('match-option-none').at(-1))
    await counted300()
    expect(lastRule()?.rule).toEqual({ op: 'and', children: [{ field: 'custom_field', match: 'none', values: [31, 42] }] })
    expect(text(q('value-custom-fields'))).toContain('金卡')

    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text(all('field-option-custom_field').at(-1))).toBe('Custom field')
  })

  it('loads a rule on custom field options, keeping an option since removed as its id, and shows the server refusal', async () => {
    const rule: SegmentsApi.Rule = { op: 'and', children: [{ field: 'custom_field', match: 'any', values: [32, 99] }] }
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(4, { rule, problem: 'rule.children[0].values[1]: no such option of a custom field', customers: 0 }))
    vi.mocked(countSegmentApi).mockRejectedValueOnce(
      new ApiError(400, 'invalid_segment_rule', 'rule.children[0].values[1]: no such option of a custom field'),
    )
    await mountPage('/scrm/segments/4')
    expect(text(q('value-custom-fields'))).toContain('银卡')
    expect(text(q('value-custom-fields'))).toContain('#99')
    await counted300()
    expect(lastRule()).toEqual({ rule })
    expect(text(q('segment-count-error'))).toBe('规则有误：rule.children[0].values[1]: no such option of a custom field')
    expect(q('segment-condition')!.classList.contains('bad')).toBe(true)
  })

  it('tests a number custom field by a range: only number and date fields offered, min above max marked and not counted', async () => {
    await mountPage('/scrm/segments/new')
    await counted300()
    await clickTest('add-condition')
    expect(text(all('field-option-custom_value').at(-1))).toBe('自定义字段（数字/日期）')
    await pickField(q('segment-condition')!, 'custom_value')
    const condition = q('segment-condition')!
    expect(text(q('condition-issue', condition))).toBe('请选择自定义字段')
    await pickValueField(condition, 4)
    // the number and date fields only, each with its kind
    const options = q('value-field-option-4')!.closest('.el-select-dropdown')!
    expect([...options.querySelectorAll('[data-test^="value-field-option-"]')].map(text)).toEqual(['生日日期', '积分数字'])
    expect(text(q('value-field-select', condition))).toContain('积分')
    expect(q('value-from', condition)).toBeNull()
    expect(text(q('condition-issue', condition))).toBe('请填写最小值或最大值')

    await enter('value-min', '100', condition)
    await enter('value-max', '99.5', condition)
    await counted300()
    expect(text(q('condition-issue', condition))).toBe('最小值不能大于最大值')
    expect(text(q('segment-count-incomplete'))).toBe('条件未填完整')
    expect(countSegmentApi).toHaveBeenCalledTimes(1)

    await enter('value-min', '10', condition)
    await counted300()
    expect(q('condition-issue', condition)).toBeNull()
    expect(countSegmentApi).toHaveBeenCalledTimes(2)
    expect(lastRule()).toEqual({ rule: { op: 'and', children: [{ field: 'custom_value', field_id: 4, min: 10, max: 99.5 }] } })

    // an end left empty is open; NOT as on any condition
    await enter('value-min', '', condition)
    await clickOn(q('condition-not', condition)?.querySelector<HTMLElement>('input'))
    await counted300()
    expect(lastRule()?.rule).toEqual({ op: 'and', children: [{ field: 'custom_value', field_id: 4, max: 99.5, not: true }] })

    i18n.global.locale.value = 'en-US'
    await nextTick()
    expect(text(all('field-option-custom_value').at(-1))).toBe('Custom field (number / date)')
    expect(text(q('value-number-range', condition))).toBe('–')
  })

  it('tests a date custom field by a range of days, either end open', async () => {
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    const condition = q('segment-condition')!
    await pickField(condition, 'custom_value')
    await pickValueField(condition, 1)
    expect(q('value-min', condition)).toBeNull()
    expect(text(q('condition-issue', condition))).toBe('请选择开始或结束日期')
    await enter('value-from', '1999-12-31', condition)
    await enter('value-to', '1990-01-01', condition)
    expect(text(q('condition-issue', condition))).toBe('开始日期不能晚于结束日期')
    await enter('value-from', '1990-01-01', condition)
    await enter('value-to', '1999-12-31', condition)
    await counted300()
    expect(q('condition-issue', condition)).toBeNull()
    expect(lastRule()?.rule).toEqual({ op: 'and', children: [{ field: 'custom_value', field_id: 1, from: '1990-01-01', to: '1999-12-31' }] })
    // another kind of field: the dates meant nothing to it
    await pickValueField(condition, 4)
    expect(text(q('condition-issue', condition))).toBe('请填写最小值或最大值')
  })

  it('hints at the custom fields page when the team has no number or date field', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: CUSTOM_FIELDS.filter((f) => f.kind !== 'date' && f.kind !== 'number') })
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    await pickField(q('segment-condition')!, 'custom_value')
    expect(q('value-field-select')).toBeNull()
    expect(text(q('no-value-fields'))).toBe('还没有数字或日期类型的自定义字段。 去设置自定义字段')
    await clickTest('value-fields-link')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/scrm/fields'))
  })

  it('loads a rule on custom field ranges into the editor as it was saved', async () => {
    const rule: SegmentsApi.Rule = {
      op: 'and',
      children: [
        { field: 'custom_value', field_id: 4, min: 10, max: 99.5, not: true },
        { field: 'custom_value', field_id: 1, from: '1990-01-01' },
        { field: 'custom_value', field_id: 9, max: 5 },
      ],
    }
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(6, { rule }))
    await mountPage('/scrm/segments/6')
    const [points, birthday, gone] = all('segment-condition')
    expect(text(q('value-field-select', points))).toContain('积分')
    expect((q('value-min', points)!.querySelector('input') as HTMLInputElement).value).toBe('10')
    expect((q('value-max', points)!.querySelector('input') as HTMLInputElement).value).toBe('99.5')
    expect((q('condition-not', points)!.querySelector('input') as HTMLInputElement).checked).toBe(true)
    expect(text(q('value-field-select', birthday))).toContain('生日')
    expect((q('value-from', birthday)!.querySelector('input') as HTMLInputElement).value).toBe('1990-01-01')
    expect((q('value-to', birthday)!.querySelector('input') as HTMLInputElement).value).toBe('')
    // a field since deleted is kept as its id
    expect(text(q('value-field-select', gone))).toContain('#9')
    expect(q('segment-save')!.hasAttribute('disabled')).toBe(true)
    await counted300()
    expect(lastRule()).toEqual({ rule })
  })

  it('asks before leaving unsaved edits', async () => {
    await mountPage('/scrm/segments/new')
    await clickTest('add-condition')
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await router.push('/scrm/customers').catch(() => undefined)
    expect(ElMessageBox.confirm).toHaveBeenCalledTimes(1)
    expect(router.currentRoute.value.path).toBe('/scrm/segments/new')
    await router.push('/scrm/customers')
    expect(router.currentRoute.value.path).toBe('/scrm/customers')
  })
})

describe('a saved segment', () => {
  it('loads its rule and shows its size history', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3, {
      history: [{ day: '2026-01-01', customers: 100 }, { day: '2026-01-02', customers: 120 }],
    }))
    await mountPage('/scrm/segments/3')
    expect(getSegmentApi).toHaveBeenCalledWith(3)
    expect((q('segment-name-input') as HTMLInputElement).value).toBe('高意向客户')
    expect(text(q('value-corp-tags'))).toContain('VIP')
    expect(text(q('segment-meta'))).toContain('王小锦 创建于')
    expect(q('segment-save')!.hasAttribute('disabled')).toBe(true)
    await counted300()
    expect(lastRule()).toEqual({ rule: VIP })
    expect(all('chart-point')).toHaveLength(2)
    expect(text(q('chart-from'))).toBe('2026-01-01')
    expect(text(q('chart-to'))).toBe('2026-01-02')
    expect(text(all('chart-point')[1])).toBe('2026-01-02：120 位客户')
  })

  it('says who would send, and how that sender is chosen', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3))
    vi.mocked(segmentSendersApi).mockResolvedValueOnce({
      customers: 120, rule: 'most_recent_relationship',
      senders: [{ userid: 'zhangsan', employee_name: '张三', customers: 90 }, { userid: 'lisi', employee_name: '', customers: 30 }],
    })
    await mountPage('/scrm/segments/3')
    expect(text(q('segment-senders-explain'))).toContain('选添加该客户时间最晚的那一位')
    expect(segmentSendersApi).not.toHaveBeenCalled()
    await clickTest('segment-senders-load')
    expect(segmentSendersApi).toHaveBeenCalledWith({ segment_id: 3 })
    expect(text(q('segment-senders-total'))).toBe('共 120 位客户，由 2 位员工发送')
    expect(all('sender-name').map(text)).toEqual(['张三', 'lisi'])
    expect(all('sender-customers').map(text)).toEqual(['90', '30'])
    expect(all('sender-share').map((el) => el.getAttribute('aria-valuenow'))).toEqual(['75', '25'])
  })

  it('bulk tags its customers through the bulk tagging job, and follows it', async () => {
    vi.mocked(getSegmentApi).mockResolvedValue(segment(3))
    vi.mocked(startSegmentBulkTagApi).mockResolvedValueOnce(bulkJob())
    await mountPage('/scrm/segments/3')
    await clickTest('bulk-tag-open')
    expect(text(q('bulk-segment-target'))).toBe('分群「高意向客户」的全部 120 位客户')
    await clickOn(q('bulk-add-option-et2'))
    await clickTest('bulk-tag-submit')
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe('确定为分群「高意向客户」的 120 位客户添加标签「普通」吗？任务会在后台进行，逐条同步到企业微信。')
    expect(startSegmentBulkTagApi).toHaveBeenCalledWith({ segment_id: 3, add: ['et2'], remove: [] })
    expect(text(q('bulk-total'))).toBe('共 150 条跟进关系')
    vi.mocked(getBulkTagApi).mockResolvedValueOnce(bulkJob({ state: 'succeeded', succeeded: 150, finished_at: 2 }))
    await vi.advanceTimersByTimeAsync(1000)
    await nextTick()
    expect(text(q('bulk-tag-done'))).toBe('批量打标签已完成：150 条跟进关系全部成功')
    // the tags changed: the segment and its count are asked for again
    expect(getSegmentApi).toHaveBeenCalledTimes(2)
  })

  it('refuses to bulk tag an empty segment before asking', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3, { customers: 0 }))
    await mountPage('/scrm/segments/3')
    await clickTest('bulk-tag-open')
    await clickOn(q('bulk-add-option-et1'))
    await clickTest('bulk-tag-submit')
    expect(text(q('bulk-tag-error'))).toBe('没有可打标签的客户：符合条件的客户都没有进行中的跟进关系')
    expect(startSegmentBulkTagApi).not.toHaveBeenCalled()
  })

  it('changes only what was edited', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3))
    vi.mocked(updateSegmentApi).mockResolvedValueOnce(segment(3, { name: 'VIP 客户' }))
    await mountPage('/scrm/segments/3')
    await typeInto('segment-name-input', 'VIP 客户')
    await clickTest('segment-save')
    expect(updateSegmentApi).toHaveBeenCalledWith(3, { name: 'VIP 客户' })
  })

  it("is read-only to a member who did not create it", async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3, { created_by: 9, created_by_name: '李四' }))
    await mountPage('/scrm/segments/3', 'member', 7)
    expect(text(q('segment-read-only'))).toBe('只有创建者（李四）或管理员可以修改这个分群')
    expect(q('segment-save')).toBeNull()
    expect(q('add-condition')).toBeNull()
    expect(q('condition-remove')).toBeNull()
    await counted300()
    expect(text(q('segment-scope-note'))).toBe('人数只统计你有权限查看的客户')
  })

  it('says a segment that is gone', async () => {
    vi.mocked(getSegmentApi).mockRejectedValueOnce(new ApiError(404, 'segment_not_found', 'x'))
    await mountPage('/scrm/segments/8')
    expect(text(q('segment-not-found'))).toContain('客户分群不存在或已被删除')
  })
})
