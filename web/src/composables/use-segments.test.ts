import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import {
  createSegmentApi, deleteSegmentApi, getSegmentApi, listSegmentsApi, segmentSendersApi, updateSegmentApi, type SegmentsApi,
} from '@/api/segments'
import { listPersonalTagsApi, listScrmDepartmentsApi, listScrmTagsApi, listStagesApi } from '@/api/customers'
import { i18n } from '@/locales'
import { addCondition, type EditorCondition } from './segment-rule'
import {
  canChangeSegment, niceMax, segmentErrorText, segmentNameProblem, sizeChart, useSegmentChoices, useSegmentEditor, useSegmentList,
  useSegmentSenders,
} from './use-segments'
import { listCustomFieldsApi } from '@/api/fields'

vi.mock('@/api/segments', () => ({
  listSegmentsApi: vi.fn(), getSegmentApi: vi.fn(), createSegmentApi: vi.fn(), updateSegmentApi: vi.fn(), deleteSegmentApi: vi.fn(),
  segmentSendersApi: vi.fn(),
}))
vi.mock('@/api/customers', () => ({
  listScrmTagsApi: vi.fn(), listPersonalTagsApi: vi.fn(), listScrmDepartmentsApi: vi.fn(), listStagesApi: vi.fn(),
}))
vi.mock('@/api/fields', () => ({ listCustomFieldsApi: vi.fn(async () => ({ items: [] })) }))

const VIP: SegmentsApi.Rule = { op: 'and', children: [{ field: 'corp_tag', match: 'any', values: ['et_vip'] }] }
function segment(id: number, over: Partial<SegmentsApi.Segment> = {}): SegmentsApi.Segment {
  return {
    id, name: `分群${id}`, rule: VIP, customers: 12, problem: '', created_by: 7, created_by_name: '王小锦', created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000, history: [], ...over,
  }
}
const page = (items: SegmentsApi.Segment[], total = items.length, p = 1): SegmentsApi.Page => ({ items, total, page: p, page_size: 20 })

function deferred<T>() {
  let resolve!: (v: T) => void
  const promise = new Promise<T>((res) => (resolve = res))
  return { promise, resolve }
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  for (const f of [listSegmentsApi, getSegmentApi, createSegmentApi, updateSegmentApi, deleteSegmentApi, segmentSendersApi]) vi.mocked(f).mockReset()
})

describe('segment rules of the server', () => {
  it('takes names of 1 to 30 characters once trimmed, an emoji being one', () => {
    expect(segmentNameProblem('  ')).toBe('invalid_segment_name')
    expect(segmentNameProblem(' 高意向客户 ')).toBeNull()
    expect(segmentNameProblem('分'.repeat(30))).toBeNull()
    expect(segmentNameProblem('分'.repeat(31))).toBe('invalid_segment_name')
    expect(segmentNameProblem('😀'.repeat(30))).toBeNull()
  })

  it('lets the creator or an admin change a segment; anyone a new one', () => {
    expect(canChangeSegment(segment(1), { accountId: 7, isAdmin: false })).toBe(true)
    expect(canChangeSegment(segment(1), { accountId: 8, isAdmin: false })).toBe(false)
    expect(canChangeSegment(segment(1), { accountId: 8, isAdmin: true })).toBe(true)
    expect(canChangeSegment(segment(1), { accountId: null, isAdmin: false })).toBe(false)
    expect(canChangeSegment(null, { accountId: 8, isAdmin: false })).toBe(true)
  })

  it('says a refused rule with the server message naming its node', () => {
    expect(segmentErrorText(new ApiError(400, 'invalid_segment_rule', 'rule.children[0].values[0]: no such stage')))
      .toBe('规则有误：rule.children[0].values[0]: no such stage')
    expect(segmentErrorText(new ApiError(409, 'segment_name_taken', 'x'))).toBe('已有同名的客户分群')
    i18n.global.locale.value = 'en-US'
    expect(segmentErrorText(new ApiError(403, 'segment_not_yours', 'x'))).toBe('Only its creator or an admin can change or delete a segment')
  })
})

describe('useSegmentList', () => {
  it('lists a page and deletes a segment, then lists again', async () => {
    vi.mocked(listSegmentsApi).mockResolvedValueOnce(page([segment(1), segment(2)], 22)).mockResolvedValueOnce(page([segment(2)], 21))
    vi.mocked(deleteSegmentApi).mockResolvedValueOnce({ deleted: true })
    const list = useSegmentList(20)
    expect(list.loaded.value).toBe(false)
    await list.load(1)
    expect(listSegmentsApi).toHaveBeenCalledWith(1, 20)
    expect(list.items.value.map((s) => s.id)).toEqual([1, 2])
    expect(list.total.value).toBe(22)
    expect(list.loaded.value).toBe(true)
    expect(await list.remove(segment(1))).toBe(true)
    expect(deleteSegmentApi).toHaveBeenCalledWith(1)
    expect(list.items.value.map((s) => s.id)).toEqual([2])
  })

  it('says why a delete failed and shows the list as it is now', async () => {
    vi.mocked(listSegmentsApi).mockResolvedValue(page([segment(1)]))
    vi.mocked(deleteSegmentApi).mockRejectedValueOnce(new ApiError(403, 'segment_not_yours', 'x'))
    const list = useSegmentList()
    await list.load()
    expect(await list.remove(segment(1))).toBe(false)
    expect(list.actionError.value).toBe('只有分群的创建者或管理员可以修改或删除它')
    expect(listSegmentsApi).toHaveBeenCalledTimes(2)
  })

  it('is not loaded while the server cannot be reached', async () => {
    vi.mocked(listSegmentsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const list = useSegmentList()
    await list.load()
    expect(list.loaded.value).toBe(false)
    expect(list.error.value).toBe('无法连接服务器，请检查网络后重试')
  })
})

describe('useSegmentEditor', () => {
  it('creates a new segment with the trimmed name and the rule', async () => {
    vi.mocked(createSegmentApi).mockResolvedValueOnce(segment(5, { name: '高意向' }))
    const e = useSegmentEditor()
    e.startNew()
    expect(e.dirty.value).toBe(false)
    const c = addCondition(e.root.value, e.root.value, 'corp_tag')!
    expect(e.dirty.value).toBe(true)
    e.name.value = ' 高意向 '
    // unfinished: not sent
    expect(await e.save()).toBeNull()
    expect(e.saveError.value).toBe('规则中还有未填完的条件，请填写或删除后再保存')
    c.texts = ['et_vip']
    const saved = await e.save()
    expect(saved?.id).toBe(5)
    expect(createSegmentApi).toHaveBeenCalledWith({ name: '高意向', rule: VIP })
    expect(e.segment.value?.id).toBe(5)
    expect(e.dirty.value).toBe(false)
    expect(e.saveError.value).toBe('')
  })

  it('refuses a bad name before asking', async () => {
    const e = useSegmentEditor()
    e.name.value = '   '
    expect(await e.save()).toBeNull()
    expect(e.saveError.value).toBe('分群名称需为 1–30 个字符')
    expect(createSegmentApi).not.toHaveBeenCalled()
  })

  it('loads a segment and sends only what changed', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3))
    const e = useSegmentEditor()
    await e.load(3)
    expect(e.name.value).toBe('分群3')
    expect((e.root.value.children[0] as EditorCondition).texts).toEqual(['et_vip'])
    expect(e.dirty.value).toBe(false)

    vi.mocked(updateSegmentApi).mockResolvedValueOnce(segment(3, { name: 'VIP' }))
    e.name.value = 'VIP'
    await e.save()
    expect(updateSegmentApi).toHaveBeenLastCalledWith(3, { name: 'VIP' })

    const gender: SegmentsApi.Rule = { op: 'and', children: [{ field: 'corp_tag', match: 'any', values: ['et_vip'] }, { field: 'gender', values: [2] }] }
    vi.mocked(updateSegmentApi).mockResolvedValueOnce(segment(3, { name: 'VIP', rule: gender }))
    const c = addCondition(e.root.value, e.root.value, 'gender')!
    c.numbers = [2]
    await e.save()
    expect(updateSegmentApi).toHaveBeenLastCalledWith(3, { rule: gender })
    expect(e.dirty.value).toBe(false)
  })

  it('keeps the edits when the server refuses them, saying why with the node', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3))
    vi.mocked(updateSegmentApi).mockRejectedValueOnce(new ApiError(400, 'invalid_segment_rule', 'rule.children[0].values[0]: no such corp tag'))
    const e = useSegmentEditor()
    await e.load(3)
    ;(e.root.value.children[0] as EditorCondition).texts = ['et_gone']
    expect(await e.save()).toBeNull()
    expect(e.saveError.value).toBe('规则有误：rule.children[0].values[0]: no such corp tag')
    expect((e.root.value.children[0] as EditorCondition).texts).toEqual(['et_gone'])
    expect(e.dirty.value).toBe(true)
  })

  it('says a segment is not there, and keeps only the latest load', async () => {
    vi.mocked(getSegmentApi).mockRejectedValueOnce(new ApiError(404, 'segment_not_found', 'x'))
    const e = useSegmentEditor()
    await e.load(9)
    expect(e.notFound.value).toBe(true)
    expect(e.error.value).toBe('')

    const slow = deferred<SegmentsApi.Segment>()
    vi.mocked(getSegmentApi).mockReturnValueOnce(slow.promise).mockResolvedValueOnce(segment(2))
    const first = e.load(1)
    await e.load(2)
    slow.resolve(segment(1))
    await first
    expect(e.segment.value?.id).toBe(2)
    expect(e.notFound.value).toBe(false)
  })

  it('refreshes the saved segment without touching the edits', async () => {
    vi.mocked(getSegmentApi).mockResolvedValueOnce(segment(3)).mockResolvedValueOnce(segment(3, { customers: 40, history: [{ day: '2026-01-02', customers: 40 }] }))
    const e = useSegmentEditor()
    await e.load(3)
    e.name.value = '改名中'
    await e.refresh()
    expect(e.segment.value?.customers).toBe(40)
    expect(e.segment.value?.history).toHaveLength(1)
    expect(e.name.value).toBe('改名中')
    expect(e.dirty.value).toBe(true)
  })
})

describe('useSegmentSenders', () => {
  it('asks for the saved segment, with each sender share', async () => {
    vi.mocked(segmentSendersApi).mockResolvedValueOnce({
      customers: 3, rule: 'most_recent_relationship',
      senders: [{ userid: 'zhangsan', employee_name: '张三', customers: 2 }, { userid: 'lisi', employee_name: '', customers: 1 }],
    })
    let id: number | null = null
    const s = useSegmentSenders(() => id)
    await s.load()
    expect(segmentSendersApi).not.toHaveBeenCalled()
    id = 4
    await s.load()
    expect(segmentSendersApi).toHaveBeenCalledWith({ segment_id: 4 })
    expect(s.shares.value).toEqual([67, 33])
    s.clear()
    expect(s.plan.value).toBeNull()
    expect(s.shares.value).toEqual([])
  })
})

describe('useSegmentChoices', () => {
  it('loads what the conditions pick from; a list that fails stays empty', async () => {
    vi.mocked(listScrmTagsApi).mockResolvedValueOnce({ items: [{ group_id: 'g1', name: '等级', tags: [] }] })
    vi.mocked(listPersonalTagsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    vi.mocked(listScrmDepartmentsApi).mockResolvedValueOnce({ items: [{ id: 1, name: '锦鲤', parent_id: 0 }, { id: 2, name: '上海店', parent_id: 1 }] })
    vi.mocked(listStagesApi).mockResolvedValueOnce({ items: [{ id: 3, name: '意向', sort: 1, customers: 0 }], unstaged: 0 })
    vi.mocked(listCustomFieldsApi).mockResolvedValueOnce({
      items: [
        { id: 1, name: '生日', kind: 'date', options: [], sort: 1, customers: 0 },
        { id: 2, name: '会员等级', kind: 'select', options: [{ id: 31, label: '金卡' }], sort: 2, customers: 0 },
        { id: 3, name: '积分', kind: 'number', options: [], sort: 3, customers: 0 },
        { id: 4, name: '备注', kind: 'text', options: [], sort: 4, customers: 0 },
      ],
    })
    const c = useSegmentChoices()
    await c.load()
    expect(c.tagGroups.value).toHaveLength(1)
    expect(c.personalTags.value).toEqual([])
    expect(c.departmentTree.value).toEqual([{ value: 1, label: '锦鲤', children: [{ value: 2, label: '上海店' }] }])
    expect(c.stages.value.map((s) => s.name)).toEqual(['意向'])
    // the choice custom fields only
    expect(c.customFields.value.map((f) => f.name)).toEqual(['会员等级'])
    // the number and date fields, for ranges
    expect(c.valueFields.value.map((f) => f.name)).toEqual(['生日', '积分'])
    expect(c.fieldsLoaded.value).toBe(true)
  })
})

describe('the size chart', () => {
  it('rounds the scale up so that its half stays whole', () => {
    expect([0, 1, 4, 5, 7, 10, 11, 95, 101, 2_080, 4_500, 1_000_000].map(niceMax))
      .toEqual([4, 4, 4, 6, 8, 10, 20, 100, 200, 3_000, 6_000, 1_000_000])
  })

  it('places days by date and sizes from 0 at the bottom', () => {
    const c = sizeChart(
      [{ day: '2026-01-03', customers: 50 }, { day: '2026-01-01', customers: 100 }, { day: '2026-01-05', customers: 0 }],
      100,
      50,
    )
    expect(c.max).toBe(100)
    expect(c.from).toBe('2026-01-01')
    expect(c.to).toBe('2026-01-05')
    expect(c.points.map((p) => [p.x, p.y])).toEqual([[0, 0], [50, 25], [100, 50]])
    expect(c.line).toBe('M0 0 L50 25 L100 50')
  })

  it('draws one day in the middle, and nothing for no days', () => {
    expect(sizeChart([{ day: '2026-01-03', customers: 3 }], 100, 40).points).toEqual([{ x: 50, y: 10, day: '2026-01-03', customers: 3 }])
    expect(sizeChart([], 100, 40)).toEqual({ points: [], line: '', max: 4, from: '', to: '' })
  })
})
