import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/request'
import {
  createScrmTagsApi, deleteScrmTagApi, deleteScrmTagGroupApi, listScrmTagsApi, renameScrmTagApi, renameScrmTagGroupApi,
  type CustomersApi,
} from '@/api/customers'
import { getWecomStateApi, type WecomApi } from '@/api/wecom'
import { i18n } from '@/locales'
import { tagProblemText, useTagLibrary } from './use-tag-library'

vi.mock('@/api/customers', () => ({
  listScrmTagsApi: vi.fn(), createScrmTagsApi: vi.fn(), renameScrmTagApi: vi.fn(), renameScrmTagGroupApi: vi.fn(),
  deleteScrmTagApi: vi.fn(), deleteScrmTagGroupApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn() }))

const group = (id: string, name: string, tags: string[]): CustomersApi.TagGroup => ({
  group_id: id, name, tags: tags.map((t, i) => ({ tag_id: `${id}-${i}`, name: t, group_name: name })),
})
const library = () => [group('g1', '会员等级', ['金卡', '银卡']), group('g2', '意向', ['高意向'])]

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({ items: library() })
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue({ linked: true } as WecomApi.State)
  for (const f of [createScrmTagsApi, renameScrmTagApi, renameScrmTagGroupApi, deleteScrmTagApi, deleteScrmTagGroupApi]) vi.mocked(f).mockReset()
})

describe('tagProblemText', () => {
  it('names the name at fault when there is one, else says what the server would', () => {
    expect(tagProblemText({ reason: 'tag_name_duplicate', name: '金卡' })).toBe('「金卡」重复了')
    expect(tagProblemText({ reason: 'tag_name_empty' })).toBe('请填写标签名称')
    expect(tagProblemText({ reason: 'corp_tag_limit' })).toContain('3000')
    i18n.global.locale.value = 'en-US'
    expect(tagProblemText({ reason: 'tag_name_too_long', name: 'abc' })).toBe('"abc" is longer than 30 characters')
  })
})

describe('useTagLibrary', () => {
  it('loads the library and counts the tags against the limit', async () => {
    const lib = useTagLibrary()
    await lib.init()
    expect(lib.groups.value.map((g) => g.name)).toEqual(['会员等级', '意向'])
    expect(lib.count.value).toBe(3)
    expect(lib.full.value).toBe(false)
    expect(lib.linked.value).toBe(true)
    expect(lib.loaded.value).toBe(true)
  })

  it('shows a failed load in the user language', async () => {
    vi.mocked(listScrmTagsApi).mockRejectedValueOnce(new ApiError(0, 'network', 'x'))
    const lib = useTagLibrary()
    await lib.load()
    expect(lib.error.value).toBe('无法连接服务器，请检查网络后重试')
    expect(lib.loaded.value).toBe(false)
  })

  it('checks a new group as the server would before asking', async () => {
    const lib = useTagLibrary()
    await lib.load()
    lib.openCreateGroup()
    expect(lib.form.open).toBe(true)
    lib.form.groupName = '  '
    lib.form.names = '金卡'
    expect(await lib.submitForm()).toBeNull()
    expect(lib.formError.value).toBe('请填写标签名称')
    lib.form.groupName = '渠道'
    lib.form.names = '\n  \n'
    expect(await lib.submitForm()).toBeNull()
    expect(lib.formError.value).toBe('请填写标签名称')
    lib.form.names = '门店\n 门店 '
    expect(await lib.submitForm()).toBeNull()
    expect(lib.formError.value).toBe('「门店」重复了')
    lib.form.names = Array.from({ length: 101 }, (_, i) => `t${i}`).join('\n')
    expect(await lib.submitForm()).toBeNull()
    expect(lib.formError.value).toBe('一次最多处理 100 个标签')
    expect(createScrmTagsApi).not.toHaveBeenCalled()
  })

  it('refuses tags that would take the corp over 3000, counting only names new to the group', async () => {
    const many = group('g9', '大组', Array.from({ length: 2997 }, (_, i) => `t${i}`))
    vi.mocked(listScrmTagsApi).mockResolvedValue({ items: [...library(), many] }) // 3000 tags
    const lib = useTagLibrary()
    await lib.load()
    expect(lib.full.value).toBe(true)
    lib.openAddTags(lib.groups.value[0])
    lib.form.names = '金卡'
    expect(lib.formProblem()).toBeNull() // already in the group: WeCom keeps it
    lib.form.names = '钻石卡'
    expect(lib.formProblem()).toEqual({ reason: 'corp_tag_limit' })
  })

  it('creates a group with its tags, then shows the library as WeCom has it', async () => {
    vi.mocked(createScrmTagsApi).mockResolvedValueOnce(group('g3', '渠道', ['门店', '小程序']))
    const lib = useTagLibrary()
    await lib.load()
    lib.openCreateGroup()
    lib.form.groupName = ' 渠道 '
    lib.form.names = '门店\n\n 小程序 \n'
    vi.mocked(listScrmTagsApi).mockResolvedValueOnce({ items: [...library(), group('g3', '渠道', ['门店', '小程序'])] })
    const made = await lib.submitForm()
    expect(made?.group_id).toBe('g3')
    expect(createScrmTagsApi).toHaveBeenCalledWith({ group_name: '渠道', names: ['门店', '小程序'] })
    expect(lib.form.open).toBe(false)
    expect(lib.groups.value).toHaveLength(3)
    expect(lib.count.value).toBe(5)
  })

  it('adds tags to an existing group by its id', async () => {
    vi.mocked(createScrmTagsApi).mockResolvedValueOnce(group('g1', '会员等级', ['铜卡']))
    const lib = useTagLibrary()
    await lib.load()
    lib.openAddTags(lib.groups.value[0])
    expect(lib.formGroup.value?.name).toBe('会员等级')
    lib.form.names = '铜卡'
    await lib.submitForm()
    expect(createScrmTagsApi).toHaveBeenCalledWith({ group_id: 'g1', names: ['铜卡'] })
  })

  it('keeps the dialog open with the server refusal', async () => {
    vi.mocked(createScrmTagsApi).mockRejectedValueOnce(new ApiError(422, 'corp_tag_limit', 'x'))
    const lib = useTagLibrary()
    await lib.load()
    lib.openCreateGroup()
    lib.form.groupName = '渠道'
    lib.form.names = '门店'
    expect(await lib.submitForm()).toBeNull()
    expect(lib.form.open).toBe(true)
    expect(lib.formError.value).toBe('企业标签已达企业微信的上限（3000 个），请先删除不再使用的标签')
    expect(lib.submitting.value).toBe(false)
  })

  it('renames a tag or a group; an unchanged name just closes', async () => {
    vi.mocked(renameScrmTagApi).mockResolvedValueOnce({ id: 'g1-0' })
    vi.mocked(renameScrmTagGroupApi).mockResolvedValueOnce({ id: 'g2' })
    const lib = useTagLibrary()
    await lib.load()
    lib.openRename('tag', 'g1-0', '金卡')
    lib.rename.name = ' 金卡 '
    expect(await lib.submitRename()).toBe(true)
    expect(renameScrmTagApi).not.toHaveBeenCalled()
    lib.openRename('tag', 'g1-0', '金卡')
    lib.rename.name = 'x'.repeat(31)
    expect(await lib.submitRename()).toBe(false)
    expect(lib.renameError.value).toContain('超过 30 个字')
    lib.rename.name = '金卡会员'
    expect(await lib.submitRename()).toBe(true)
    expect(renameScrmTagApi).toHaveBeenCalledWith('g1-0', '金卡会员')
    expect(lib.rename.open).toBe(false)
    lib.openRename('group', 'g2', '意向')
    lib.rename.name = '购买意向'
    expect(await lib.submitRename()).toBe(true)
    expect(renameScrmTagGroupApi).toHaveBeenCalledWith('g2', '购买意向')
    expect(listScrmTagsApi).toHaveBeenCalledTimes(3)
  })

  it('deletes a tag and a group; a failure is shown and the library reloaded when it is gone', async () => {
    vi.mocked(deleteScrmTagApi).mockResolvedValueOnce({ id: 'g1-0' })
    vi.mocked(deleteScrmTagGroupApi).mockRejectedValueOnce(new ApiError(404, 'tag_group_not_found', 'x'))
    const lib = useTagLibrary()
    await lib.load()
    const pending = lib.deleteTag(lib.groups.value[0].tags[0])
    expect(lib.isBusy('g1-0')).toBe(true)
    expect(await pending).toBe(true)
    expect(lib.isBusy('g1-0')).toBe(false)
    expect(deleteScrmTagApi).toHaveBeenCalledWith('g1-0')
    expect(await lib.deleteGroup(lib.groups.value[1])).toBe(false)
    expect(deleteScrmTagGroupApi).toHaveBeenCalledWith('g2')
    expect(lib.actionError.value).toBe('标签组不存在，可能已在企业微信中删除')
    expect(listScrmTagsApi).toHaveBeenCalledTimes(3)
  })
})
