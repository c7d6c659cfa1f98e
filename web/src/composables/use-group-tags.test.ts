import { beforeEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import { createGroupTagApi, deleteGroupTagApi, listGroupTagsApi, renameGroupTagApi, type GroupsApi } from '@/api/groups'
import { groupTagNameProblem, useGroupTags } from './use-group-tags'

vi.mock('@/api/groups', () => ({ listGroupTagsApi: vi.fn(), createGroupTagApi: vi.fn(), renameGroupTagApi: vi.fn(), deleteGroupTagApi: vi.fn() }))

const tags: GroupsApi.Tag[] = [{ id: 2, name: 'VIP', groups: 3 }, { id: 5, name: '上海', groups: 1 }]

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listGroupTagsApi).mockReset().mockResolvedValue({ items: tags })
  for (const f of [createGroupTagApi, renameGroupTagApi, deleteGroupTagApi]) vi.mocked(f).mockReset()
})

describe('groupTagNameProblem', () => {
  it('wants 1–30 characters once trimmed, and a name no other tag has', () => {
    expect(groupTagNameProblem('  ', tags)).toBe('group_tag_name_invalid')
    expect(groupTagNameProblem('字'.repeat(31), tags)).toBe('group_tag_name_invalid')
    expect(groupTagNameProblem('🐟'.repeat(30), tags)).toBeNull()
    expect(groupTagNameProblem(' VIP ', tags)).toBe('group_tag_exists')
    expect(groupTagNameProblem('VIP', tags, 2)).toBeNull()
    expect(groupTagNameProblem('新店', tags)).toBeNull()
  })
})

describe('useGroupTags', () => {
  it('creates, renames and deletes, loading the list again after each', async () => {
    const lib = useGroupTags()
    await lib.load()
    expect(lib.tags.value).toEqual(tags)

    lib.name.value = ''
    expect(await lib.create()).toBeNull()
    expect(lib.createError.value).toBe('群标签名称需为 1–30 个字')
    lib.name.value = ' 新店 '
    vi.mocked(createGroupTagApi).mockResolvedValueOnce({ id: 9, name: '新店', groups: 0 })
    expect(await lib.create()).toEqual({ id: 9, name: '新店', groups: 0 })
    expect(createGroupTagApi).toHaveBeenCalledWith('新店')
    expect(lib.name.value).toBe('')
    expect(listGroupTagsApi).toHaveBeenCalledTimes(2)

    // an unchanged name just stops editing
    lib.startRename(tags[0])
    expect(await lib.rename()).toEqual(tags[0])
    expect(renameGroupTagApi).not.toHaveBeenCalled()
    expect(lib.editing.value.id).toBe(0)
    lib.startRename(tags[0])
    lib.editing.value.name = '上海'
    expect(await lib.rename()).toBeNull()
    expect(lib.renameError.value).toBe('已有同名的群标签')
    lib.editing.value.name = '大客户'
    vi.mocked(renameGroupTagApi).mockRejectedValueOnce(new ApiError(404, 'group_tag_not_found', ''))
    expect(await lib.rename()).toBeNull()
    expect(lib.renameError.value).toBe('群标签不存在或已被删除')
    expect(listGroupTagsApi).toHaveBeenCalledTimes(3)

    vi.mocked(deleteGroupTagApi).mockResolvedValueOnce({ id: 5 })
    expect(await lib.remove(tags[1])).toBe(true)
    expect(deleteGroupTagApi).toHaveBeenCalledWith(5)
    expect(listGroupTagsApi).toHaveBeenCalledTimes(4)
    vi.mocked(deleteGroupTagApi).mockRejectedValueOnce(new ApiError(403, 'admin_only', ''))
    expect(await lib.remove(tags[1])).toBe(false)
    expect(lib.actionError.value).not.toBe('')
  })
})
