import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import type { Router } from 'vue-router'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  createPersonalTagApi, createScrmTagsApi, deletePersonalTagApi, deleteScrmTagApi, deleteScrmTagGroupApi, listPersonalTagsApi,
  listScrmTagsApi, renameScrmTagApi, type CustomersApi,
} from '@/api/customers'
import { getWecomStateApi, type WecomApi } from '@/api/wecom'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import TagsPage from './tags.vue'

vi.mock('@/api/customers', () => ({
  listScrmTagsApi: vi.fn(), createScrmTagsApi: vi.fn(), renameScrmTagApi: vi.fn(), renameScrmTagGroupApi: vi.fn(),
  deleteScrmTagApi: vi.fn(), deleteScrmTagGroupApi: vi.fn(), listPersonalTagsApi: vi.fn(), createPersonalTagApi: vi.fn(),
  deletePersonalTagApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const group = (id: string, name: string, tags: string[]): CustomersApi.TagGroup => ({
  group_id: id, name, tags: tags.map((t, i) => ({ tag_id: `${id}-${i}`, name: t, group_name: name })),
})
const library = () => [group('g1', '会员等级', ['金卡', '银卡']), group('g2', '意向', ['高意向'])]
const personal = (id: number, name: string, customers: number): CustomersApi.PersonalTag =>
  ({ id, name, account_id: 7, owner_name: '王小锦', customers, created_at: 1_700_000_000_000 })

let app: App | null = null
let router: Router

async function mountPage(role: 'admin' | 'member' = 'admin', path = '/scrm/tags') {
  ;({ app, router } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/tags', component: TagsPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path,
  }))
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listScrmTagsApi).mockReset().mockResolvedValue({ items: library() })
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue({ linked: true } as WecomApi.State)
  vi.mocked(listPersonalTagsApi).mockReset().mockResolvedValue({ items: [personal(1, '爱喝奶茶', 3)] })
  for (const f of [createScrmTagsApi, renameScrmTagApi, deleteScrmTagApi, deleteScrmTagGroupApi, createPersonalTagApi, deletePersonalTagApi])
    vi.mocked(f).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the tags page, enterprise tags', () => {
  it('shows each group with its tags, the count against WeCom’s limit and the admin’s actions', async () => {
    await mountPage()
    expect(text(q('enterprise-note'))).toContain('双向同步')
    expect(text(q('corp-tag-count'))).toBe('已用 3 / 3000')
    expect(all('tag-group').map((g) => text(q('group-name', g)))).toEqual(['会员等级', '意向'])
    expect(all('corp-tag-name').map(text)).toEqual(['金卡', '银卡', '高意向'])
    expect(q('group-create')).not.toBeNull()
    expect(all('group-add-tags')).toHaveLength(2)
    expect(all('tag-delete')).toHaveLength(3)
    expect(q('tags-member-note')).toBeNull()
  })

  it('is read-only for a member', async () => {
    await mountPage('member')
    expect(all('corp-tag')).toHaveLength(3)
    expect(text(q('tags-member-note'))).toBe('只有团队管理员可以新建、修改和删除企业标签。')
    for (const action of ['group-create', 'group-add-tags', 'group-rename', 'group-delete', 'tag-rename', 'tag-delete']) expect(q(action), action).toBeNull()
  })

  it('creates a tag group with several tags, checked first', async () => {
    vi.mocked(createScrmTagsApi).mockResolvedValueOnce(group('g3', '渠道', ['门店', '小程序']))
    await mountPage()
    await click('group-create')
    const dialog = q('tag-dialog')!
    expect(dialog).not.toBeNull()
    await type('group-name-input', '渠道')
    await type('tag-names-input', '门店\n门店')
    await click('tag-dialog-submit')
    expect(text(q('tag-dialog-error'))).toBe('「门店」重复了')
    expect(createScrmTagsApi).not.toHaveBeenCalled()
    await type('tag-names-input', '门店\n小程序\n')
    vi.mocked(listScrmTagsApi).mockResolvedValueOnce({ items: [...library(), group('g3', '渠道', ['门店', '小程序'])] })
    await click('tag-dialog-submit')
    expect(createScrmTagsApi).toHaveBeenCalledWith({ group_name: '渠道', names: ['门店', '小程序'] })
    expect(all('tag-group')).toHaveLength(3)
    expect(text(q('corp-tag-count'))).toBe('已用 5 / 3000')
  })

  it('adds tags to a group, and renames a tag', async () => {
    vi.mocked(createScrmTagsApi).mockResolvedValueOnce(group('g2', '意向', ['低意向']))
    vi.mocked(renameScrmTagApi).mockResolvedValueOnce({ id: 'g1-0' })
    await mountPage()
    await click('group-add-tags', all('tag-group')[1])
    expect(q('group-name-input')).toBeNull()
    await type('tag-names-input', '低意向')
    await click('tag-dialog-submit')
    expect(createScrmTagsApi).toHaveBeenCalledWith({ group_id: 'g2', names: ['低意向'] })

    await click('tag-rename', all('corp-tag')[0])
    expect((q('rename-input') as HTMLInputElement).value).toBe('金卡')
    await type('rename-input', '金卡会员')
    await click('rename-submit')
    expect(renameScrmTagApi).toHaveBeenCalledWith('g1-0', '金卡会员')
  })

  it('deletes a group after a confirmation saying its tags leave every customer', async () => {
    vi.mocked(deleteScrmTagGroupApi).mockResolvedValueOnce({ id: 'g1' })
    await mountPage()
    await click('group-delete', all('tag-group')[0])
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('删除标签组「会员等级」及其中的 2 个标签？企业微信中会一并删除，这些标签会从所有客户身上移除。')
    expect(deleteScrmTagGroupApi).toHaveBeenCalledWith('g1')
  })

  it('asks before deleting a tag, does nothing when cancelled, and shows a refusal', async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await mountPage()
    await click('tag-delete', all('corp-tag')[2])
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toContain('「意向」中的最后一个标签')
    expect(deleteScrmTagApi).not.toHaveBeenCalled()
    vi.mocked(deleteScrmTagApi).mockRejectedValueOnce(new ApiError(400, 'wecom_invalid_tag_id', 'x'))
    await click('tag-delete', all('corp-tag')[0])
    expect(deleteScrmTagApi).toHaveBeenCalledWith('g1-0')
    expect(text(q('tags-action-error'))).toBe('标签在企业微信中已不存在（可能刚被删除），请刷新后重试')
  })

  it('explains an empty library: not linked yet', async () => {
    vi.mocked(listScrmTagsApi).mockResolvedValue({ items: [] })
    vi.mocked(getWecomStateApi).mockResolvedValue({ linked: false } as WecomApi.State)
    await mountPage()
    expect(text(q('tags-empty'))).toContain('尚未授权企业微信')
    expect(q('go-setup')).not.toBeNull()
  })
})

describe('the tags page, personal tags', () => {
  it('lists the caller’s tags with their customers, creates and deletes one', async () => {
    vi.mocked(createPersonalTagApi).mockResolvedValueOnce(personal(2, '价格敏感', 0))
    vi.mocked(deletePersonalTagApi).mockResolvedValueOnce({ id: 1 })
    await mountPage('member', '/scrm/tags?tab=personal')
    expect(text(q('personal-note'))).toContain('不会同步到企业微信')
    expect(all('personal-tag-name').map(text)).toEqual(['爱喝奶茶'])
    expect(text(q('personal-tag-table'))).toContain('3')

    await click('personal-tag-create')
    expect(text(q('personal-tag-error'))).toBe('请填写标签名称')
    await type('personal-tag-input', '价格敏感')
    await click('personal-tag-create')
    expect(createPersonalTagApi).toHaveBeenCalledWith('价格敏感')
    expect(all('personal-tag-name').map(text)).toEqual(['价格敏感', '爱喝奶茶'])

    await click('personal-tag-delete', all('personal-tag-name')[1].closest('tr')!)
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('删除个人标签「爱喝奶茶」？它会从 3 位客户身上移除。')
    expect(deletePersonalTagApi).toHaveBeenCalledWith(1)
    expect(all('personal-tag-name').map(text)).toEqual(['价格敏感'])
  })

  it('keeps the tab in the address', async () => {
    await mountPage()
    await click('tab-personal')
    await new Promise((r) => setTimeout(r, 0))
    expect(router.currentRoute.value.query.tab).toBe('personal')
    expect(q('personal-tag-input')).not.toBeNull()
  })
})
