import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, nextTick } from 'vue'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { listGroupsApi, markGroupTagsApi, type GroupsApi } from '@/api/groups'
import { getWecomStateApi, type WecomApi } from '@/api/wecom'
import { GROUP_SELECTION_MAX, groupQuery, groupStatusType, useGroups, useGroupTagging } from './use-groups'

vi.mock('@/api/groups', () => ({ listGroupsApi: vi.fn(), markGroupTagsApi: vi.fn() }))
vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn() }))

const page = (items: GroupsApi.Group[], total = items.length, p = 1) => ({ items, total, page: p, page_size: 20 })
const group = (n: number): GroupsApi.Group => ({
  chat_id: `wr${n}`, name: `群${n}`, owner: 'zhangsan', owner_name: '张三', member_count: 10, status: 0, create_time: 1, tags: [],
})
const flush = async () => {
  for (let i = 0; i < 4; i++) await Promise.resolve()
  await nextTick()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listGroupsApi).mockReset().mockResolvedValue(page([group(1)]))
  vi.mocked(markGroupTagsApi).mockReset()
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue({ linked: true } as WecomApi.State)
})

describe('groupQuery', () => {
  it('leaves unset filters out and trims the search', () => {
    expect(groupQuery({ owner: '', tagId: null }, '  ')).toEqual({})
    expect(groupQuery({ owner: 'lisi', tagId: 0 }, ' 会员 ')).toEqual({ q: '会员', owner: 'lisi', tag_id: 0 })
  })

  it('colours the statuses', () => {
    expect([0, 1, 2, 3].map(groupStatusType)).toEqual(['success', 'danger', 'warning', 'info'])
  })
})

describe('useGroups', () => {
  it('lists from page 1 when a filter changes, searches after a pause, and says why it is empty', async () => {
    vi.useFakeTimers()
    const scope = effectScope()
    const g = scope.run(() => useGroups({ debounceMs: 300 }))!
    await g.init()
    expect(listGroupsApi).toHaveBeenLastCalledWith({ page: 1, page_size: 20 })
    expect(g.emptyReason.value).toBeNull()

    vi.mocked(listGroupsApi).mockResolvedValue(page([], 0))
    g.filters.tagId = 2
    await flush()
    expect(listGroupsApi).toHaveBeenLastCalledWith({ tag_id: 2, page: 1, page_size: 20 })
    expect(g.emptyReason.value).toBe('noMatch')

    g.q.value = '会员'
    await flush()
    expect(listGroupsApi).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(300)
    await flush()
    expect(listGroupsApi).toHaveBeenLastCalledWith({ q: '会员', tag_id: 2, page: 1, page_size: 20 })

    g.reset()
    await flush()
    expect(listGroupsApi).toHaveBeenLastCalledWith({ page: 1, page_size: 20 })
    expect(g.emptyReason.value).toBe('noGroups')
    g.linked.value = false
    expect(g.emptyReason.value).toBe('notLinked')
    scope.stop()
    vi.useRealTimers()
  })
})

describe('useGroupTagging', () => {
  it('adds or removes the tags on the picked groups and gives how many changed', async () => {
    let picked = ['wr1', 'wr2']
    const tagging = useGroupTagging(() => picked)
    tagging.open('add')
    expect(tagging.form).toMatchObject({ open: true, action: 'add', tagIds: [] })
    expect(await tagging.submit()).toBeNull()
    expect(markGroupTagsApi).not.toHaveBeenCalled()

    tagging.form.tagIds = [2, 5]
    vi.mocked(markGroupTagsApi).mockResolvedValueOnce({ updated: 2 })
    expect(await tagging.submit()).toBe(2)
    expect(markGroupTagsApi).toHaveBeenCalledWith({ chat_ids: ['wr1', 'wr2'], add: [2, 5], remove: [] })
    expect(tagging.form.open).toBe(false)

    tagging.open('remove')
    tagging.form.tagIds = [5]
    vi.mocked(markGroupTagsApi).mockRejectedValueOnce(new ApiError(404, 'group_not_found', 'wr2'))
    expect(await tagging.submit()).toBeNull()
    expect(markGroupTagsApi).toHaveBeenLastCalledWith({ chat_ids: ['wr1', 'wr2'], add: [], remove: [5] })
    expect(tagging.error.value).toBe('客户群不存在或已解散')
    expect(tagging.form.open).toBe(true)

    picked = Array.from({ length: GROUP_SELECTION_MAX + 1 }, (_, i) => `wr${i}`)
    expect(await tagging.submit()).toBeNull()
    expect(markGroupTagsApi).toHaveBeenCalledTimes(2)
  })
})
