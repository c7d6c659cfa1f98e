import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { nextTick, type App } from 'vue'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { ApiError } from '@/api/request'
import {
  createCustomFieldApi, deleteCustomFieldApi, listCustomFieldsApi, reorderCustomFieldsApi, updateCustomFieldApi, type FieldsApi,
} from '@/api/fields'
import { all, click, mountApp, q, settle, testSession, text, type } from '@/test-utils/mount'
import FieldsPage from './fields.vue'

vi.mock('@/api/fields', () => ({
  listCustomFieldsApi: vi.fn(), createCustomFieldApi: vi.fn(), updateCustomFieldApi: vi.fn(), deleteCustomFieldApi: vi.fn(),
  reorderCustomFieldsApi: vi.fn(), setCustomerFieldsApi: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const ep = await importOriginal<typeof import('element-plus')>()
  return { ...ep, ElMessage: { success: vi.fn(), error: vi.fn() }, ElMessageBox: { confirm: vi.fn() } }
})

const field = (id: number, name: string, kind: FieldsApi.Kind, options: string[] = [], customers = 0, firstOption = id * 10): FieldsApi.Field =>
  ({ id, name, kind, options: options.map((label, i) => ({ id: firstOption + i, label })), sort: id, customers })
const team = () => [field(1, '生日', 'date', [], 3), field(2, '会员等级', 'select', ['金卡', '银卡'], 5), field(3, '兴趣', 'multi_select', ['茶饮', '甜品'])]

let app: App | null = null

async function mountPage(role: 'admin' | 'member' = 'admin') {
  ;({ app } = await mountApp({
    session: testSession({ role }),
    routes: [{ path: '/scrm/fields', component: FieldsPage }, { path: '/:any(.*)*', component: { render: () => null } }],
    path: '/scrm/fields',
  }))
}
/** types into the n-th option input of the dialog */
async function typeOption(n: number, value: string) {
  const input = all('field-option-input')[n] as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await nextTick()
}
const rows = () => all('field-name').map((el) => el.closest('tr')!)

beforeEach(() => {
  i18n.global.locale.value = 'zh-CN'
  vi.mocked(listCustomFieldsApi).mockReset().mockResolvedValue({ items: team() })
  for (const f of [createCustomFieldApi, updateCustomFieldApi, deleteCustomFieldApi, reorderCustomFieldsApi]) vi.mocked(f).mockReset()
  vi.mocked(ElMessageBox.confirm).mockReset().mockResolvedValue('confirm' as never)
})
afterEach(() => {
  app?.unmount()
  app = null
  document.body.innerHTML = ''
})

describe('the custom fields page', () => {
  it('lists the fields in order with their kind, options and customers, and the admin actions', async () => {
    await mountPage()
    expect(all('field-name').map(text)).toEqual(['生日', '会员等级', '兴趣'])
    expect(all('field-kind').map(text)).toEqual(['日期', '单选', '多选'])
    expect(all('field-options').map((el) => all('field-option', el).map(text))).toEqual([[], ['金卡', '银卡'], ['茶饮', '甜品']])
    expect(text(all('field-options')[0])).toBe('—')
    expect(all('field-customers').map(text)).toEqual(['3 位客户', '5 位客户', '0 位客户'])
    expect(text(q('field-used'))).toBe('3 / 50 个字段')
    expect(all('field-edit')).toHaveLength(3)
    expect(all('field-delete')).toHaveLength(3)
    expect(all('field-move-up').map((b) => b.hasAttribute('disabled'))).toEqual([true, false, false])
    expect(all('field-move-down').map((b) => b.hasAttribute('disabled'))).toEqual([false, false, true])
    expect(q('fields-empty')).toBeNull()
  })

  it('creates a select field with its options, checked before sending', async () => {
    await mountPage()
    await click('field-add')
    expect(q('field-dialog')).not.toBeNull()
    // a text field has no options
    expect(q('field-options-editor')).toBeNull()
    await type('field-name-input', '会员等级')
    await click('field-kind-option-select')
    expect(text(q('field-kind-hint'))).toBe('从选项中选一个，例如会员等级')
    expect(all('field-option-input')).toHaveLength(1)

    // the name is taken and the option is empty: said in the form, nothing sent
    await click('field-submit')
    expect(text(q('field-dialog-error'))).toBe('每个选项需为 1 至 30 个字（若选项刚被修改过，请刷新后重试）')
    await typeOption(0, '金卡')
    await click('field-option-add')
    await typeOption(1, '金卡')
    await click('field-submit')
    expect(text(q('field-dialog-error'))).toBe('选项不能重复')
    await typeOption(1, ' 银卡 ')
    await click('field-submit')
    expect(text(q('field-dialog-error'))).toBe('已有同名的自定义字段')
    expect(createCustomFieldApi).not.toHaveBeenCalled()

    // a third option, moved to the top, then removed again
    await click('field-option-add')
    await typeOption(2, '铜卡')
    await click('field-option-up', all('field-option-row')[2])
    expect(all('field-option-input').map((i) => (i as HTMLInputElement).value)).toEqual(['金卡', '铜卡', ' 银卡 '])
    await click('field-option-remove', all('field-option-row')[1])
    expect(all('field-option-input').map((i) => (i as HTMLInputElement).value)).toEqual(['金卡', ' 银卡 '])

    await type('field-name-input', '卡种')
    const created = field(4, '卡种', 'select', ['金卡', '银卡'])
    vi.mocked(createCustomFieldApi).mockResolvedValueOnce(created)
    vi.mocked(listCustomFieldsApi).mockResolvedValueOnce({ items: [...team(), created] })
    await click('field-submit')
    expect(createCustomFieldApi).toHaveBeenCalledWith({ name: '卡种', kind: 'select', options: ['金卡', '银卡'] })
    expect(all('field-name').map(text)).toEqual(['生日', '会员等级', '兴趣', '卡种'])
  })

  it('creates a date field without options', async () => {
    await mountPage()
    await click('field-add')
    await type('field-name-input', '入会日期')
    await click('field-kind-option-date')
    vi.mocked(createCustomFieldApi).mockResolvedValueOnce(field(4, '入会日期', 'date'))
    await click('field-submit')
    expect(createCustomFieldApi).toHaveBeenCalledWith({ name: '入会日期', kind: 'date' })
  })

  it('shows a server refusal in the dialog', async () => {
    await mountPage()
    await click('field-add')
    await type('field-name-input', '备用电话')
    vi.mocked(createCustomFieldApi).mockRejectedValueOnce(new ApiError(422, 'field_limit', 'x'))
    await click('field-submit')
    expect(text(q('field-dialog-error'))).toBe('最多 50 个自定义字段，请先删除不再使用的')
    expect(q('field-dialog')).not.toBeNull()
  })

  it('edits a choice field: the kind stays, renamed and new options are sent, removing an option in use is confirmed first', async () => {
    await mountPage()
    await click('field-edit', rows()[1])
    expect((q('field-name-input') as HTMLInputElement).value).toBe('会员等级')
    expect(text(q('field-kind-hint'))).toBe('字段类型创建后不能修改')
    expect(all('field-option-input').map((i) => (i as HTMLInputElement).value)).toEqual(['金卡', '银卡'])

    await typeOption(0, '黑金卡')
    await click('field-option-remove', all('field-option-row')[1])
    await click('field-option-add')
    await typeOption(1, '白金卡')
    expect(text(q('field-options-removing'))).toContain('将移除：银卡')

    // cancelled: nothing sent, the dialog stays
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('field-submit')
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe(
      '移除字段「会员等级」的选项「银卡」？选择了这些选项的客户将失去该值（该字段共有 5 位客户填写），无法恢复。',
    )
    expect(updateCustomFieldApi).not.toHaveBeenCalled()
    expect(q('field-dialog')).not.toBeNull()

    vi.mocked(updateCustomFieldApi).mockResolvedValueOnce(field(2, '会员等级', 'select', ['黑金卡', '白金卡'], 3))
    await click('field-submit')
    expect(updateCustomFieldApi).toHaveBeenCalledWith(2, { options: [{ id: 20, label: '黑金卡' }, { label: '白金卡' }] })
  })

  it('renames a field without asking, and sends nothing when nothing changed', async () => {
    await mountPage()
    await click('field-edit', rows()[0])
    expect(q('field-options-editor')).toBeNull()
    await click('field-submit')
    expect(updateCustomFieldApi).not.toHaveBeenCalled()

    await click('field-edit', rows()[0])
    await type('field-name-input', '出生日期')
    vi.mocked(updateCustomFieldApi).mockResolvedValueOnce(field(1, '出生日期', 'date'))
    await click('field-submit')
    expect(ElMessageBox.confirm).not.toHaveBeenCalled()
    expect(updateCustomFieldApi).toHaveBeenCalledWith(1, { name: '出生日期' })
  })

  it('deletes a field once confirmed, naming it and the customers who lose its value', async () => {
    vi.mocked(deleteCustomFieldApi).mockResolvedValueOnce({ id: 2 })
    await mountPage()
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce('cancel')
    await click('field-delete', rows()[1])
    expect(deleteCustomFieldApi).not.toHaveBeenCalled()
    await click('field-delete', rows()[1])
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe('删除字段「会员等级」？已填写的 5 位客户的该字段值将一并删除，无法恢复。')
    expect(deleteCustomFieldApi).toHaveBeenCalledWith(2)
    expect(listCustomFieldsApi).toHaveBeenCalledTimes(2)
    expect(listCustomFieldsApi).toHaveBeenLastCalledWith({ counts: true })  // the page shows the counts
  })

  it('shows a failed delete', async () => {
    vi.mocked(deleteCustomFieldApi).mockRejectedValueOnce(new ApiError(404, 'field_not_found', 'x'))
    await mountPage()
    await click('field-delete', rows()[0])
    expect(text(q('fields-action-error'))).toBe('自定义字段不存在，可能已被删除')
  })

  it('moves a field and sends the full order', async () => {
    vi.mocked(reorderCustomFieldsApi).mockResolvedValueOnce({ ids: [2, 1, 3] })
    await mountPage()
    const [a, b, c] = team()
    vi.mocked(listCustomFieldsApi).mockResolvedValueOnce({ items: [b, a, c] })
    await click('field-move-up', rows()[1])
    expect(reorderCustomFieldsApi).toHaveBeenCalledWith([2, 1, 3])
    expect(all('field-name').map(text)).toEqual(['会员等级', '生日', '兴趣'])
  })

  it('is read-only for a member', async () => {
    await mountPage('member')
    expect(all('field-name')).toHaveLength(3)
    expect(text(q('fields-member-note'))).toBe('仅管理员可以调整自定义字段')
    for (const action of ['field-add', 'field-edit', 'field-delete', 'field-move-up', 'field-move-down']) expect(q(action), action).toBeNull()
  })

  it('has an empty state: an admin may add the first field, a member is told to ask one', async () => {
    vi.mocked(listCustomFieldsApi).mockResolvedValue({ items: [] })
    await mountPage()
    expect(text(q('fields-empty'))).toContain('还没有自定义字段：添加字段来记录客户的生日、会员等级等信息')
    await click('field-add-empty')
    expect(q('field-dialog')).not.toBeNull()
    app?.unmount()
    document.body.innerHTML = ''
    await mountPage('member')
    expect(text(q('fields-empty'))).toContain('还没有自定义字段，请联系管理员添加')
    expect(q('field-add-empty')).toBeNull()
  })

  it('speaks English', async () => {
    i18n.global.locale.value = 'en-US'
    await mountPage()
    await settle()
    expect(all('field-kind').map(text)).toEqual(['Date', 'Single choice', 'Multiple choice'])
    expect(text(q('field-used'))).toBe('3 of 50 fields')
    await click('field-delete', rows()[1])
    expect(vi.mocked(ElMessageBox.confirm).mock.lastCall?.[0]).toBe(
      'Delete the field "会员等级"? The values of the 5 customers who have it filled in are deleted too. This cannot be undone.',
    )
  })
})
