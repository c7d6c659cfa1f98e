import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import { createPersonalTagApi, deletePersonalTagApi, listPersonalTagsApi, type CustomersApi } from '@/api/customers'
import { i18n } from '@/locales'
import { PERSONAL_TAGS_MAX } from './tag-rules'
import { personalTagProblem, usePersonalTags } from './use-personal-tags'

vi.mock('@/api/customers', () => ({ listPersonalTagsApi: vi.fn(), createPersonalTagApi: vi.fn(), deletePersonalTagApi: vi.fn() }))

const tag = (id: number, name: string, customers = 0): CustomersApi.PersonalTag =>
  ({ id, name, account_id: 7, owner_name: '王小锦', customers, created_at: 1000 })

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [tag(1, '爱喝奶茶', 3), tag(2, '周末到店', 0)] })
  vi.mocked(createPersonalTagApi).mockReset()
  vi.mocked(deletePersonalTagApi).mockReset()
})

describe('personalTagProblem', () => {
  it('checks the name, that the caller has no tag of that name, and the 500 limit', () => {
    const own = [tag(1, '爱喝奶茶')]
    expect(personalTagProblem(' ', own)).toEqual({ reason: 'tag_name_empty' })
    expect(personalTagProblem(' 爱喝奶茶 ', own)).toEqual({ reason: 'personal_tag_exists', name: '爱喝奶茶' })
    expect(personalTagProblem('新客', own)).toBeNull()
    const lots = Array.from({ length: PERSONAL_TAGS_MAX }, (_, i) => tag(i, `t${i}`))
    expect(personalTagProblem('新客', lots)).toEqual({ reason: 'personal_tag_limit' })
  })
})

describe('usePersonalTags', () => {
  it('lists the caller’s tags with their customers', async () => {
    const p = usePersonalTags()
    await p.load()
    expect(p.items.value.map((t) => [t.name, t.customers])).toEqual([['爱喝奶茶', 3], ['周末到店', 0]])
  })

  it('creates a tag in name order and empties the box; refusals stay in the box', async () => {
    vi.mocked(createPersonalTagApi).mockResolvedValueOnce(tag(3, '价格敏感'))
    const p = usePersonalTags()
    await p.load()
    p.name.value = '爱喝奶茶'
    expect(await p.create()).toBeNull()
    expect(p.createError.value).toBe('你已经有个人标签「爱喝奶茶」了')
    expect(createPersonalTagApi).not.toHaveBeenCalled()
    p.name.value = '  价格敏感 '
    expect((await p.create())?.id).toBe(3)
    expect(createPersonalTagApi).toHaveBeenCalledWith('价格敏感')
    expect(p.items.value.map((t) => t.name)).toEqual(['价格敏感', '周末到店', '爱喝奶茶'].sort())
    expect(p.name.value).toBe('')
    expect(p.createError.value).toBe('')

    vi.mocked(createPersonalTagApi).mockRejectedValueOnce(new ApiError(422, 'personal_tag_limit', 'x'))
    p.name.value = '再一个'
    i18n.global.locale.value = 'en-US'
    expect(await p.create()).toBeNull()
    expect(p.createError.value).toBe('An account has at most 500 personal tags: delete some no longer used first')
    expect(p.name.value).toBe('再一个')
  })

  it('deletes a tag; a failure is shown and the list reloaded', async () => {
    vi.mocked(deletePersonalTagApi).mockResolvedValueOnce({ id: 1 }).mockRejectedValueOnce(new ApiError(404, 'personal_tag_not_found', 'x'))
    const p = usePersonalTags()
    await p.load()
    expect(await p.remove(p.items.value[0])).toBe(true)
    expect(deletePersonalTagApi).toHaveBeenCalledWith(1)
    expect(p.items.value.map((t) => t.id)).toEqual([2])
    expect(await p.remove(p.items.value[0])).toBe(false)
    expect(p.actionError.value).toBe('个人标签不存在，可能已被删除')
    expect(listPersonalTagsApi).toHaveBeenCalledTimes(2)
    expect(p.isBusy(2)).toBe(false)
  })
})
