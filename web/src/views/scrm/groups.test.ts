import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { App } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import {
  createGroupTagApi, deleteGroupTagApi, listGroupsApi, listGroupTagsApi, markGroupTagsApi, renameGroupTagApi, type GroupsApi,
} from '@/api/groups'
import { getWecomStateApi, listWecomEmployeesApi, type WecomApi } from '@/api/wecom'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import GroupsPage from './groups.vue'

vi.mock('@/api/groups', () => ({
  listGroupsApi: vi.fn(), markGroupTagsApi: vi.fn(), listGroupTagsApi: vi.fn(), createGroupTagApi: vi.fn(), renameGroupTagApi: vi.fn(),
  deleteGroupTagApi: vi.fn(),
}))
vi.mock('@/api/wecom', () => ({ getWecomStateApi: vi.fn(), listWecomEmployeesApi: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const vip: GroupsApi.Tag = { id: 2, name: 'VIP', groups: 3 }
const shanghai: GroupsApi.Tag = { id: 5, name: '上海', groups: 1 }
const group = (n: number, over: Partial<GroupsApi.Group> = {}): GroupsApi.Group => ({
  chat_id: `wr${n}`, name: `会员${n}群`, owner: 'zhangsan', owner_name: '张三', member_count: 100 + n, status: 0,
  create_time: 1_700_000_000_000, tags: [], ...over,
})
const page = <T>(items: T[], total = items.length, p = 1) => ({ items, total, page: p, page_size: 20 })
const employee = (userid: string, name: string): WecomApi.Employee => ({
  userid, name, position: '', mobile: '', gender: 0, status: 1, main_department: 1, main_department_name: '销售部', customers: 3,
})
const lastQuery = () => vi.mocked(listGroupsApi).mock.lastCall?.[0]

let app: App | null = null
async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/groups', component: GroupsPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/groups',
  }))
}
/** ticks the checkbox of the nth row */
async function tick(n: number) {
  all('group-name')[n].closest('tr')!.querySelector<HTMLInputElement>('.el-checkbox input')!.click()
  await settle()
}

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listGroupsApi).mockReset().mockResolvedValue(page([
    group(1, { tags: [{ id: 2, name: 'VIP' }, { id: 5, name: '上海' }] }),
    group(2, { owner_name: '李四', owner: 'lisi', status: 1 }),
  ], 45))
  vi.mocked(listGroupTagsApi).mockReset().mockResolvedValue({ items: [vip, shanghai] })
  vi.mocked(getWecomStateApi).mockReset().mockResolvedValue({ linked: true } as WecomApi.State)
  vi.mocked(listWecomEmployeesApi).mockReset().mockResolvedValue(page([employee('zhangsan', '张三'), employee('lisi', '李四')]))
  for (const f of [markGroupTagsApi, createGroupTagApi, renameGroupTagApi, deleteGroupTagApi]) vi.mocked(f).mockReset()
  vi.mocked(ElMessage.success).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the customer groups page', () => {
  it('lists the groups a page at a time, with their owner, members, tags and status', async () => {
    await mountPage()
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
    expect(text(q('group-total'))).toBe('共 45 个群')
    expect(all('group-name').map(text)).toEqual(['会员1群', '会员2群'])
    expect(all('group-owner').map(text)).toEqual(['张三', '李四'])
    expect(all('group-tags').map((g) => all('group-tag', g).map(text))).toEqual([['VIP', '上海'], []])
    expect(all('group-status').map(text)).toEqual(['正常', '群主已离职'])
    const next = [...document.querySelectorAll<HTMLElement>('.el-pager li')].find((li) => text(li) === '2')!
    next.click()
    await settle()
    expect(lastQuery()).toEqual({ page: 2, page_size: 20 })
  })

  it('searches by name and filters by owner and group tag, each from the first page', async () => {
    await mountPage()
    const input = q('group-search') as HTMLInputElement
    input.value = ' 会员 '
    input.dispatchEvent(new Event('input'))
    input.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter' }))
    await settle()
    expect(lastQuery()).toEqual({ q: '会员', page: 1, page_size: 20 })
    await click('employee-option-lisi')
    expect(lastQuery()).toEqual({ q: '会员', owner: 'lisi', page: 1, page_size: 20 })
    await click('group-tag-option-5')
    expect(lastQuery()).toEqual({ q: '会员', owner: 'lisi', tag_id: 5, page: 1, page_size: 20 })
    expect(text(q('group-tag-option-5'))).toBe('上海 · 1 个群')
    vi.mocked(listGroupsApi).mockResolvedValue(page([]))
    await click('group-reset')
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
  })

  it('adds group tags to the ticked groups and says how many changed', async () => {
    vi.mocked(markGroupTagsApi).mockResolvedValueOnce({ updated: 1 })
    await mountPage()
    expect((q('group-tags-add') as HTMLButtonElement).disabled).toBe(true)
    await tick(0)
    await tick(1)
    expect(text(q('group-selected'))).toBe('已选 2 个群')
    await click('group-tags-add')
    expect(text(q('group-bulk-dialog')?.querySelector('.el-dialog__title'))).toBe('为已选的 2 个群添加标签')
    expect((q('group-bulk-submit') as HTMLButtonElement).disabled).toBe(true)
    const calls = vi.mocked(listGroupsApi).mock.calls.length
    await click('group-bulk-option-2')
    await click('group-bulk-submit')
    expect(markGroupTagsApi).toHaveBeenCalledWith({ chat_ids: ['wr1', 'wr2'], add: [2], remove: [] })
    expect(ElMessage.success).toHaveBeenCalledWith('已添加群标签，1 个群有变化')
    // the groups' tags and the tags' counts are shown as they are now
    expect(vi.mocked(listGroupsApi).mock.calls.length).toBe(calls + 1)
    expect(listGroupTagsApi).toHaveBeenCalledTimes(2)
    expect(q('group-selected')).toBeNull()
  })

  it('removes group tags, and keeps the dialog open with the reason when refused', async () => {
    const { ApiError } = await import('@/api/request')
    vi.mocked(markGroupTagsApi)
      .mockRejectedValueOnce(new ApiError(404, 'group_tag_not_found', 'no such group tag'))
      .mockResolvedValueOnce({ updated: 1 })
    await mountPage()
    await tick(0)
    await click('group-tags-remove')
    expect(text(q('group-bulk-dialog')?.querySelector('.el-dialog__title'))).toBe('从已选的 1 个群移除标签')
    await click('group-bulk-option-5')
    await click('group-bulk-submit')
    expect(markGroupTagsApi).toHaveBeenLastCalledWith({ chat_ids: ['wr1'], add: [], remove: [5] })
    expect(text(q('group-bulk-error'))).toBe('群标签不存在或已被删除')
    await click('group-bulk-submit')
    expect(ElMessage.success).toHaveBeenCalledWith('已移除群标签，1 个群有变化')
  })

  it('manages group tags: creates, renames, and deletes only after confirming how many groups carry it', async () => {
    vi.mocked(createGroupTagApi).mockResolvedValueOnce({ id: 9, name: '新店', groups: 0 })
    vi.mocked(renameGroupTagApi).mockResolvedValueOnce({ id: 2, name: '大客户', groups: 3 })
    vi.mocked(deleteGroupTagApi).mockResolvedValue({ id: 2 })
    await mountPage()
    await click('group-tags-manage')
    expect(all('group-tag-name-cell').map(text)).toEqual(['VIP', '上海'])
    expect(all('group-tag-groups').map(text)).toEqual(['3 个群', '1 个群'])

    // checked first, as the server would
    await type('group-tag-name', ' vip ')
    vi.mocked(listGroupTagsApi).mockResolvedValueOnce({ items: [vip, shanghai, { id: 9, name: 'vip', groups: 0 }] })
    await click('group-tag-create')
    expect(createGroupTagApi).toHaveBeenCalledWith('vip')
    await type('group-tag-name', 'VIP')
    await click('group-tag-create')
    expect(text(q('group-tag-create-error'))).toBe('已有同名的群标签')
    expect(createGroupTagApi).toHaveBeenCalledTimes(1)

    await click('group-tag-rename')
    await type('group-tag-rename-input', '大客户')
    await click('group-tag-rename-save')
    expect(renameGroupTagApi).toHaveBeenCalledWith(2, '大客户')
    expect(ElMessage.success).toHaveBeenLastCalledWith('已重命名为「大客户」')

    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('group-tag-delete')
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toBe('删除群标签「VIP」？它会从 3 个客户群上移除。')
    expect(deleteGroupTagApi).not.toHaveBeenCalled()
    vi.mocked(listGroupTagsApi).mockResolvedValue({ items: [shanghai] })
    await click('group-tag-delete')
    expect(deleteGroupTagApi).toHaveBeenCalledWith(2)
    expect(ElMessage.success).toHaveBeenLastCalledWith('已删除群标签「VIP」')
    expect(all('group-tag-name-cell').map(text)).toEqual(['上海'])

    // the groups no longer show the deleted tag once the dialog is closed
    const calls = vi.mocked(listGroupsApi).mock.calls.length
    q('group-tag-manager')!.querySelector<HTMLElement>('.el-dialog__headerbtn')!.click()
    await vi.waitFor(() => expect(vi.mocked(listGroupsApi).mock.calls.length).toBe(calls + 1))
  })

  it('shows the groups of a tag from its count', async () => {
    await mountPage()
    await click('group-tags-manage')
    const calls = vi.mocked(listGroupsApi).mock.calls.length
    await click('group-tag-groups')
    expect(lastQuery()).toEqual({ tag_id: 2, page: 1, page_size: 20 })
    expect(vi.mocked(listGroupsApi).mock.calls.length).toBe(calls + 1)
  })

  it('lets a member tag groups but not manage the tags', async () => {
    await mountPage('member')
    await tick(0)
    expect((q('group-tags-add') as HTMLButtonElement).disabled).toBe(false)
    await click('group-tags-manage')
    expect(all('group-tag-name-cell')).toHaveLength(2)
    expect(text(q('group-tags-member-note'))).toContain('只有团队管理员')
    for (const action of ['group-tag-name', 'group-tag-create', 'group-tag-rename', 'group-tag-delete']) expect(q(action), action).toBeNull()
  })

  it('says why there are no groups, and that there are no tags yet', async () => {
    vi.mocked(listGroupsApi).mockResolvedValue(page([]))
    vi.mocked(listGroupTagsApi).mockResolvedValue({ items: [] })
    vi.mocked(getWecomStateApi).mockResolvedValue({ linked: false } as WecomApi.State)
    await mountPage()
    expect(text(q('groups-not-linked'))).toContain('尚未授权企业微信')
    expect(q('go-setup')).not.toBeNull()
    await click('group-tags-manage')
    expect(text(q('group-tags-empty'))).toBe('还没有群标签：在上方输入名称新建一个')
    app!.unmount()
    document.body.innerHTML = ''

    vi.mocked(getWecomStateApi).mockResolvedValue({ linked: true } as WecomApi.State)
    await mountPage('member')
    expect(text(q('groups-empty'))).toContain('还没有客户群')
    await click('employee-option-lisi')
    expect(text(q('groups-no-match'))).toContain('没有符合条件的客户群')
    await click('group-reset-empty')
    expect(lastQuery()).toEqual({ page: 1, page_size: 20 })
  })

  it('reads in English', async () => {
    i18n.global.locale.value = 'en-US'
    await mountPage()
    expect(text(q('group-total'))).toBe('45 groups')
    expect(all('group-status').map(text)).toEqual(['Normal', 'Owner resigned'])
  })
})
